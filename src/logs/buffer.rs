//! The bounded line buffer behind the logs pane: the newest `capacity` events (default
//! 50,000), a count of lines dropped off the front, and the indices of the lines that pass
//! the current filter, kept up to date as lines arrive so a frame never re-scans the buffer.
//!
//! Stack traces that the log driver split into one event per line stay with their first
//! line: a continuation line (`    at ...`) passes the filter exactly when the line that
//! started its trace (in the same stream) does.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::LogEvent;
use super::query::Query;

pub const DEFAULT_CAPACITY: usize = 50_000;

#[derive(Debug, Clone)]
pub struct LogBuffer {
    lines: VecDeque<LogEvent>,
    capacity: usize,
    /// Absolute sequence number of `lines[0]`.
    first_seq: u64,
    dropped: u64,
    filter: Query,
    /// Absolute sequence numbers of lines that pass the filter, ascending.
    view: VecDeque<u64>,
    /// Per stream: did the last head line (not a continuation) pass the filter?
    last_head: HashMap<Arc<str>, bool>,
}

impl Default for LogBuffer {
    fn default() -> Self {
        LogBuffer::new(DEFAULT_CAPACITY)
    }
}

impl LogBuffer {
    pub fn new(capacity: usize) -> LogBuffer {
        LogBuffer {
            lines: VecDeque::with_capacity(capacity.min(4096)),
            capacity: capacity.max(1),
            first_seq: 0,
            dropped: 0,
            filter: Query {
                source: String::new(),
                expr: None,
            },
            view: VecDeque::new(),
            last_head: HashMap::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Lines pushed out of the front because the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn filter(&self) -> &Query {
        &self.filter
    }

    /// Line `i` of the whole buffer (0 = oldest kept).
    pub fn get(&self, i: usize) -> Option<&LogEvent> {
        self.lines.get(i)
    }

    pub fn iter(&self) -> impl Iterator<Item = &LogEvent> {
        self.lines.iter()
    }

    /// Number of lines that pass the filter.
    pub fn view_len(&self) -> usize {
        self.view.len()
    }

    /// Line `i` of the filtered view.
    pub fn view_get(&self, i: usize) -> Option<&LogEvent> {
        let seq = *self.view.get(i)?;
        self.lines.get(usize::try_from(seq - self.first_seq).ok()?)
    }

    /// The filtered lines, oldest first.
    pub fn view_iter(&self) -> impl Iterator<Item = &LogEvent> {
        (0..self.view.len()).filter_map(|i| self.view_get(i))
    }

    fn passes(&mut self, ev: &LogEvent) -> bool {
        if ev.parsed.continuation
            && let Some(&head) = self.last_head.get(&ev.stream)
        {
            return head;
        }
        let ok = self.filter.matches(ev);
        if !ev.parsed.continuation {
            self.last_head.insert(ev.stream.clone(), ok);
        }
        ok
    }

    /// Append events (newest last). Late events are inserted at their place in time.
    pub fn extend(&mut self, events: impl IntoIterator<Item = LogEvent>) {
        let mut resorted = false;
        for ev in events {
            let in_order = self
                .lines
                .back()
                .is_none_or(|last| last.timestamp_ms <= ev.timestamp_ms);
            if !in_order {
                let at = self
                    .lines
                    .partition_point(|l| l.timestamp_ms <= ev.timestamp_ms);
                self.lines.insert(at, ev);
                resorted = true;
            } else {
                let seq = self.first_seq + self.lines.len() as u64;
                if self.passes(&ev) {
                    self.view.push_back(seq);
                }
                self.lines.push_back(ev);
            }
            self.evict();
        }
        if resorted {
            self.rebuild_view();
        }
    }

    /// Prepend older history (sorted, oldest first). When full, the oldest of these are
    /// the ones not kept.
    pub fn prepend(&mut self, older: Vec<LogEvent>) {
        let room = self.capacity.saturating_sub(self.lines.len());
        let skip = older.len().saturating_sub(room);
        self.dropped += skip as u64;
        for ev in older.into_iter().skip(skip).rev() {
            self.lines.push_front(ev);
        }
        self.rebuild_view();
    }

    fn evict(&mut self) {
        while self.lines.len() > self.capacity {
            self.lines.pop_front();
            self.first_seq += 1;
            self.dropped += 1;
            while self.view.front().is_some_and(|&s| s < self.first_seq) {
                self.view.pop_front();
            }
        }
    }

    /// Replace the filter and recompute the view.
    pub fn set_filter(&mut self, filter: Query) {
        self.filter = filter;
        self.rebuild_view();
    }

    fn rebuild_view(&mut self) {
        self.first_seq = 0;
        self.view.clear();
        self.last_head.clear();
        let lines = std::mem::take(&mut self.lines);
        for (i, ev) in lines.iter().enumerate() {
            if self.passes(ev) {
                self.view.push_back(i as u64);
            }
        }
        self.lines = lines;
    }

    pub fn clear(&mut self) {
        self.lines.clear();
        self.view.clear();
        self.last_head.clear();
        self.first_seq = 0;
    }

    /// Approximate memory held by the buffered lines and the view.
    pub fn approx_bytes(&self) -> usize {
        self.lines.iter().map(LogEvent::approx_bytes).sum::<usize>()
            + (self.lines.capacity() - self.lines.len()) * std::mem::size_of::<LogEvent>()
            + self.view.capacity() * std::mem::size_of::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::Origin;

    fn ev(ts: i64, stream: &str, raw: &str) -> LogEvent {
        LogEvent::new(
            &Origin::new("g", stream),
            ts.to_string(),
            ts,
            ts,
            raw.to_string(),
        )
    }

    fn filter(s: &str) -> Query {
        Query::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn bounded_with_dropped_count_and_view() {
        let mut b = LogBuffer::new(3);
        b.set_filter(filter("keep"));
        b.extend((0..5).map(|i| ev(i, "s/c/t", if i % 2 == 0 { "keep" } else { "skip" })));
        assert_eq!(b.len(), 3);
        assert_eq!(b.dropped(), 2);
        let kept: Vec<i64> = b.view_iter().map(|e| e.timestamp_ms).collect();
        assert_eq!(kept, vec![2, 4]);
        b.set_filter(filter(""));
        assert_eq!(b.view_len(), 3);
    }

    #[test]
    fn late_lines_are_inserted_in_order() {
        let mut b = LogBuffer::new(10);
        b.extend([
            ev(10, "a/b/c", "x"),
            ev(30, "a/b/c", "x"),
            ev(20, "a/b/c", "x"),
        ]);
        let ts: Vec<i64> = b.iter().map(|e| e.timestamp_ms).collect();
        assert_eq!(ts, vec![10, 20, 30]);
        let ts: Vec<i64> = b.view_iter().map(|e| e.timestamp_ms).collect();
        assert_eq!(ts, vec![10, 20, 30]);
        b.prepend(vec![ev(1, "a/b/c", "x"), ev(2, "a/b/c", "x")]);
        assert_eq!(b.get(0).map(|e| e.timestamp_ms), Some(1));
        assert_eq!(b.view_len(), 5);
    }

    #[test]
    fn stack_trace_lines_follow_their_head() {
        let mut b = LogBuffer::new(10);
        b.set_filter(filter("boom"));
        b.extend([
            ev(1, "a/b/c", "java.lang.RuntimeException: boom"),
            ev(2, "x/y/z", "unrelated"),
            ev(2, "a/b/c", "\tat com.example.Foo.bar(Foo.java:10)"),
            ev(3, "a/b/c", "quiet line"),
            ev(4, "a/b/c", "    at ignored (x.js:1:1)"),
        ]);
        let ts: Vec<i64> = b.view_iter().map(|e| e.timestamp_ms).collect();
        assert_eq!(ts, vec![1, 2]);
    }
}
