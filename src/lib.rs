//! berth: a terminal console for Amazon ECS, built for on-call triage.
//!
//! Crate map (the architecture is described in the project's STYLE guide):
//!
//! - [`cli`]: command-line definition (clap).
//! - [`app`]: the model and the pure reducer: `State`, `Action`, `Effect`, `update`.
//! - [`ui`]: rendering, one file per pane or dialog; a function of `&State`.
//! - [`aws`]: the only code that touches `aws-sdk-*`; turns SDK types into [`domain`] types.
//! - [`domain`]: plain ECS types (clusters, services, tasks, ...).
//! - [`config`]: keymaps and themes, embedded defaults plus user overrides.
//! - [`runtime`]: the event loop that owns the state, and the effect runner.
//! - [`tui`]: terminal guard, panic hook, input reader with pause/acknowledge.
//! - [`sandbox`]: the embedded AWS-compatible endpoint and fleet simulator.
//! - [`fleet_cli`]: `berth fleet`, every account's problems at once for scripts.
//! - [`text`]: sanitising untrusted text before it reaches the terminal.

pub mod app;
pub mod audit;
pub mod aws;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod exec;
pub mod fleet_cli;
pub mod logging;
pub mod logs;
pub mod panes;
pub mod runtime;
pub mod sandbox;
pub mod text;
pub mod tui;
pub mod ui;
