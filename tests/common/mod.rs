//! Shared test harness: a moto server per test binary, a pseudo-terminal driver for the real
//! `berth` binary, a console against the sandbox without a terminal, and the screen as text.
//!
//! The endpoints and pty test binaries include this (`#[path = "../common/mod.rs"] mod
//! common;`) and use only part of it, hence the `dead_code` allowance. Harness code may
//! `expect` with a clear message: a broken harness is a test failure, never a silent skip.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

pub mod console;
pub mod moto;
pub mod plugin;
pub mod pty;
pub mod screen;
