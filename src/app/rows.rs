//! `Rows<T>`: the loading life cycle of one view's data, shared by every pane.
//!
//! The first load shows rows as batches arrive; later refreshes collect into `incoming` and swap
//! in when complete, so a refreshing table never flickers or jumps. Identical results report
//! "unchanged" so the screen is not redrawn.

use super::effect::RequestId;
use super::state::Load;
use crate::aws::{AwsError, ErrorKind};

#[derive(Debug, Clone)]
pub struct Rows<T> {
    pub rows: Vec<T>,
    pub incoming: Vec<T>,
    pub load: Load,
    pub error: Option<AwsError>,
    pub loaded_at: Option<i64>,
    pub loaded_once: bool,
    /// Show the loading indicator (first load, or one the user asked for).
    pub loading_shown: bool,
    /// Consecutive throttled loads; each doubles the wait before the next background refresh.
    pub throttled: u32,
    /// No background refresh before this unix second (back-off after throttling).
    pub not_before: i64,
}

impl<T> Default for Rows<T> {
    fn default() -> Self {
        Rows {
            rows: Vec::new(),
            incoming: Vec::new(),
            load: Load::Idle,
            error: None,
            loaded_at: None,
            loaded_once: false,
            loading_shown: false,
            throttled: 0,
            not_before: 0,
        }
    }
}

/// Longest back-off after repeated throttling.
pub const MAX_BACKOFF_SECS: i64 = 60;

impl<T: PartialEq + Clone> Rows<T> {
    /// Start a load. Returns whether the screen must show it.
    pub fn begin(&mut self, request: RequestId, shown: bool) -> bool {
        self.load = Load::Loading {
            request,
            total: None,
            received: 0,
        };
        self.incoming.clear();
        self.loading_shown = shown || !self.loaded_once;
        self.loading_shown
    }

    pub fn is_current(&self, request: RequestId) -> bool {
        matches!(self.load, Load::Loading { request: r, .. } if r == request)
    }

    pub fn listed(&mut self, n: usize) {
        if let Load::Loading { total, .. } = &mut self.load {
            *total = Some(n);
        }
    }

    /// A batch arrived. Returns whether the visible rows changed.
    pub fn batch(&mut self, batch: Vec<T>) -> bool {
        if let Load::Loading { received, .. } = &mut self.load {
            *received += batch.len();
        }
        self.incoming.extend(batch);
        if !self.loaded_once {
            self.rows = self.incoming.clone();
            return true;
        }
        false
    }

    /// The load finished. Returns whether anything visible changed.
    pub fn done(&mut self, now: i64) -> bool {
        let rows = std::mem::take(&mut self.incoming);
        let changed = rows != self.rows || self.error.is_some() || !self.loaded_once;
        let was_shown = std::mem::take(&mut self.loading_shown);
        self.rows = rows;
        self.error = None;
        self.loaded_at = Some(now);
        self.loaded_once = true;
        self.load = Load::Idle;
        self.throttled = 0;
        self.not_before = 0;
        changed || was_shown
    }

    /// The load failed: keep the old rows, show the error, back off if throttled.
    pub fn failed(&mut self, err: AwsError, now: i64, refresh_secs: u64) {
        self.load = Load::Idle;
        self.loading_shown = false;
        self.incoming.clear();
        if err.kind == ErrorKind::Throttled {
            self.throttled = self.throttled.saturating_add(1);
            let wait = (refresh_secs as i64)
                .saturating_mul(1 << self.throttled.min(6))
                .min(MAX_BACKOFF_SECS);
            self.not_before = now + wait;
        }
        self.error = Some(err);
    }

    pub fn is_loading(&self) -> bool {
        self.load.is_loading()
    }

    /// Loading and the user should see it.
    pub fn shows_loading(&self) -> bool {
        self.load.is_loading() && self.loading_shown
    }

    /// May a background refresh start now?
    pub fn refresh_allowed(&self, now: i64) -> bool {
        !self.load.is_loading() && now >= self.not_before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_backs_off_exponentially_up_to_a_minute() {
        let mut r: Rows<u8> = Rows::default();
        let throttled = AwsError::new(ErrorKind::Throttled, "ecs:ListServices", "Rate exceeded");
        let mut waits = Vec::new();
        for _ in 0..8 {
            r.begin(1, false);
            r.failed(throttled.clone(), 1000, 5);
            waits.push(r.not_before - 1000);
            assert!(!r.refresh_allowed(1000));
        }
        assert_eq!(waits[..4], [10, 20, 40, 60]);
        assert!(waits.iter().all(|&w| w <= MAX_BACKOFF_SECS));
        r.begin(2, false);
        r.batch(vec![1]);
        r.done(1001);
        assert!(r.refresh_allowed(1001), "success clears the back-off");
    }
}
