//! Views built as one unit each (see `app::pane`): state, loading, keys, export and drawing in
//! one file.

pub mod audit;
pub mod cluster_events;
pub mod fleet;
pub mod instances;
pub mod taskdef_diff;
