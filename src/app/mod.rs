//! The model and the reducer. Nothing here does I/O: `update` turns an [`Action`] into state
//! changes and a list of [`Effect`]s for the runtime to carry out.

mod action;
pub mod columns;
pub mod command;
mod data;
mod effect;
pub mod exec;
pub mod export;
pub mod failure;
pub mod fleet;
pub mod history;
mod input;
pub mod logs;
pub mod metrics;
pub mod mutations;
pub mod nav;
pub mod pane;
pub mod rows;
pub mod scaling;
mod state;
pub mod table;
pub mod targets;
pub mod timeline;
mod update;
pub mod views;

pub use action::{Action, DataEvent};
pub use command::{Command, Context};
pub use effect::{Effect, Quit, RequestId, TerminalEffect};
pub use failure::Failure;
pub use state::{
    Banner, BannerLevel, IdentityState, Input, InputKind, Load, Session, State, StatusLine,
};
pub use update::{config_warnings, set_status, update};
pub use views::{ClustersView, View};
