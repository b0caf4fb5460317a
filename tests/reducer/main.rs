//! Reducer tests (actions in, state and effects out) and per-pane `TestBackend` snapshots
//! (insta, in `snapshots/`) at fixed sizes; property tests of the log parsers. No network, no
//! terminal, no child process.
//!
//! One test binary per kind of test (#14): each binary links berth and the AWS SDK, and 39 of
//! them spent minutes linking. `cargo test --test reducer logs_pane` runs one file.

// The reducer set-up and the screen text only: this binary compiles no network or pty harness.
#[path = "../common/reducer.rs"]
mod reducer;
#[path = "../common/screen.rs"]
mod screen;

mod actions_dialog;
mod app_reducer;
mod cluster_events_pane;
mod diff_pane;
mod exec_dialog;
mod fleet_pane;
mod history_pane;
mod instances_pane;
mod logs_pane;
mod logs_props;
mod metrics_pane;
mod panes_snapshots;
mod scaling_pane;
mod stopped_pane;
mod targets_pane;
mod task_metrics_pane;
mod task_sets_pane;
mod timeline_pane;
mod ui_snapshots;
