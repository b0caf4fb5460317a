//! Where "now" comes from: the wall clock, or the sandbox's virtual clock in the demo (so ages
//! read right at any `--speed`). A leaf: depends on nothing in the crate.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Unix seconds, from whichever clock the session runs on.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The machine's clock.
pub fn wall_clock() -> Clock {
    Arc::new(now_unix)
}

/// Unix seconds now (0 if the clock is before 1970).
pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
