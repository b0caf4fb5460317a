//! The model and the reducer. Nothing here does I/O: `update` turns an [`Action`] into state
//! changes and a list of [`Effect`]s for the runtime to carry out.

mod action;
pub mod command;
mod effect;
mod state;
mod update;

pub use action::{Action, ClustersEvent};
pub use command::{Command, Context};
pub use effect::{Effect, RequestId};
pub use state::{
    Banner, BannerLevel, ClustersView, IdentityState, Load, Session, State, StatusLine, View,
};
pub use update::{config_warnings, set_status, update};
