//! End to end: the real `berth` binary (`CARGO_BIN_EXE_berth`) in a pseudo-terminal, keys in
//! and screen text out, or as a process with its output piped (`berth logs`, `berth fleet`, `berth exec`,
//! completions and the man page).
//!
//! One test binary per kind of test (#14): each binary links berth and the AWS SDK, and 39 of
//! them spent minutes linking. `cargo test --test pty e2e_tour` runs one file.

#[path = "../common/mod.rs"]
mod common;

mod cli_output;
mod e2e_capacity;
mod e2e_clusters;
mod e2e_exec;
mod e2e_fleet;
mod e2e_hangup;
mod e2e_hostile;
mod e2e_logs;
mod e2e_terminal;
mod e2e_tour;
mod e2e_triage;
mod exec_cli;
mod fleet_cli;
mod logs_cli;
