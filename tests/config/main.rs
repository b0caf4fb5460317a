//! Configuration: every shipped keymap and theme parses, the broken files under
//! `tests/fixtures/` fail with their file, line and message, property tests of the parsers,
//! and the README's parts that are generated from or checked against the shipped data.
//!
//! One test binary per kind of test (#14): each binary links berth and the AWS SDK, and 39 of
//! them spent minutes linking. `cargo test --test config readme` runs one file.

mod config_console;
mod config_fixtures;
mod config_props;
mod readme;
