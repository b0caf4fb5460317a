//! Integration against real endpoints on loopback, through the real SDK: the embedded sandbox
//! (one per test, on a free port) and a moto server (one per binary, shared by the tests that
//! lease it one at a time). The console's reducer and effect runner drive some of them.
//!
//! One test binary per kind of test (#14): each binary links berth and the AWS SDK, and 39 of
//! them spent minutes linking. `cargo test --test endpoints aws_moto` runs one file.

#[path = "../aws_compare/mod.rs"]
mod aws_compare;
#[path = "../common/mod.rs"]
mod common;
#[path = "../sandbox_support/mod.rs"]
mod sandbox_support;

mod actions_sandbox;
mod aws_moto;
mod aws_sandbox;
mod datachannel;
mod diff_endpoints;
mod exec_console;
mod faults_console;
mod feed_sandbox;
mod fleet_moto;
mod fleet_sandbox;
mod forward_native;
mod history_moto;
mod history_sandbox;
mod independent_client;
mod instances;
mod kms;
mod logs_moto;
mod logs_session;
mod logs_tail;
mod metrics_moto;
mod metrics_sandbox;
mod moto_clusters;
mod native_client;
mod sandbox_conformance;
mod sandbox_logs;
mod sandbox_scenarios;
mod scale_calls;
mod scaling_moto;
mod scaling_sandbox;
mod stopped_sandbox;
mod targets_moto;
mod targets_sandbox;
mod targets_scale;
mod task_sets;
mod tenants_sandbox;
mod timeline_sandbox;
mod triage_sandbox;
