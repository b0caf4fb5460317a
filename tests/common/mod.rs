//! Shared test harness: a moto server per test binary and a pseudo-terminal driver for the real
//! `berth` binary.
//!
//! Each integration test crate includes this with `mod common;` and uses only part of it, hence
//! the `dead_code` allowance. Harness code may `expect` with a clear message: a broken harness
//! is a test failure, never a silent skip.
#![allow(dead_code, clippy::expect_used, clippy::unwrap_used)]

pub mod console;
pub mod moto;
pub mod plugin;
pub mod pty;
