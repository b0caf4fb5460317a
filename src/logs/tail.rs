//! The tail engine: one task per tail, events out over a channel, commands in.
//!
//! Guarantees and how they are kept:
//!
//! - **Nothing lost.** Each poll reads FilterLogEvents from `covered - overlap`, where
//!   `covered` is the server time at which the previous complete read began; an event
//!   ingested since then with an ingestion delay up to `overlap_ms` is inside the window,
//!   however long the pause between polls (throttling included). Every page is followed
//!   (`nextToken`) before sleeping; a failed page is retried with the same token.
//!   StartLiveTail (when used) is opened *before* the history read, so nothing falls between
//!   the two; when it samples, ends or fails, polling resumes from `covered - overlap`.
//! - **Nothing twice.** Polled events are de-duplicated by `eventId`; events seen through live
//!   tail (which has no ids) by a content key (group, stream, timestamp, ingestion time,
//!   message). Both sets forget entries older than the window, so memory stays bounded.
//! - **In order.** Events wait in a re-order buffer until `covered` (an under-estimate of the
//!   server clock: the newest ingestion time seen plus local elapsed time, taken when a read
//!   began) passes `timestamp + reorder_ms`, then leave sorted by time. An event ingested
//!   later than that is still delivered, marked `late`.
//!
//! Protocol: [`spawn`] returns a [`TailHandle`] (commands: fetch older history, stop) and a
//! receiver of [`TailMessage`]s. `End` is always the last message.

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use super::{LogEvent, Origin};
use crate::aws::logs::{
    FILTER_MAX_STREAMS, FilterRequest, LIVE_TAIL_MAX_GROUPS, LIVE_TAIL_MAX_STREAMS, LiveTail,
    LiveTailRequest, LiveUpdate, LogsClient, RawEvent,
};
use crate::aws::{AwsError, ErrorKind};

/// Which streams of a group to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamSelector {
    /// Every stream of the group.
    All,
    /// These streams (any number: read in chunks of 100).
    Names(Vec<String>),
    /// Streams whose name starts with this.
    Prefix(String),
}

/// One log group to read, with the client for its region.
#[derive(Debug, Clone)]
pub struct LogTarget {
    pub client: LogsClient,
    pub group: String,
    pub streams: StreamSelector,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TailMode {
    /// StartLiveTail when possible, polling otherwise.
    #[default]
    Auto,
    /// FilterLogEvents polling only.
    Poll,
}

#[derive(Debug, Clone)]
pub struct TailSpec {
    pub targets: Vec<LogTarget>,
    /// Start of the history (epoch ms, inclusive): `--since`.
    pub start_ms: i64,
    /// Keep tailing after the history is read.
    pub follow: bool,
    pub mode: TailMode,
    /// Server-side CloudWatch filter pattern (a superset of what the caller shows).
    pub filter_pattern: Option<String>,
    /// How far back each poll re-reads, for late-ingested events.
    pub overlap_ms: i64,
    /// How long events wait to be put in timestamp order.
    pub reorder_ms: i64,
    pub poll_min: Duration,
    pub poll_max: Duration,
    /// Longest pause after throttling or errors.
    pub backoff_max: Duration,
    /// FilterLogEvents `limit` (None: the API default of up to 10,000).
    pub page_limit: Option<i32>,
    /// Events per `Events` message at most.
    pub batch: usize,
}

impl TailSpec {
    pub fn new(targets: Vec<LogTarget>, start_ms: i64) -> TailSpec {
        TailSpec {
            targets,
            start_ms,
            follow: false,
            mode: TailMode::Auto,
            filter_pattern: None,
            overlap_ms: 60_000,
            reorder_ms: 5_000,
            poll_min: Duration::from_secs(2),
            poll_max: Duration::from_secs(10),
            backoff_max: Duration::from_secs(60),
            page_limit: None,
            batch: 1_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TailStatus {
    /// StartLiveTail session running; `sampled` when AWS sampled the last update.
    Live { sampled: bool },
    /// FilterLogEvents polling; `reason` says why live tail is not used.
    Polling {
        interval_ms: u64,
        reason: Option<String>,
    },
    /// Throttled: waiting before retrying the same request.
    Throttled { retry_in_ms: u64 },
    /// A transient error: waiting before retrying the same request.
    Retrying { error: AwsError, retry_in_ms: u64 },
}

#[derive(Debug, Clone, PartialEq)]
pub enum TailMessage {
    /// New events, sorted by timestamp (a `late` event may be older than earlier batches).
    Events(Vec<LogEvent>),
    /// Answer to [`TailCommand::FetchOlder`]: events in `[from_ms, to_ms]`, sorted.
    Older {
        events: Vec<LogEvent>,
        from_ms: i64,
        to_ms: i64,
    },
    Status(TailStatus),
    /// The `--since` window has been read completely.
    HistoryLoaded {
        from_ms: i64,
    },
    /// Last message: `None` when finished (no `follow`, or stopped), else the fatal error.
    End(Option<AwsError>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TailCommand {
    /// Read `span_ms` of history before the earliest time read so far.
    FetchOlder {
        span_ms: i64,
    },
    Stop,
}

/// Controls a running tail. Dropping it stops the engine.
#[derive(Debug)]
pub struct TailHandle {
    commands: mpsc::Sender<TailCommand>,
    task: tokio::task::JoinHandle<()>,
}

impl TailHandle {
    pub fn fetch_older(&self, span_ms: i64) -> bool {
        self.commands
            .try_send(TailCommand::FetchOlder { span_ms })
            .is_ok()
    }

    pub fn stop(&self) {
        let _ = self.commands.try_send(TailCommand::Stop);
    }
}

impl Drop for TailHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Start a tail. Messages arrive on the receiver; the channel is bounded, so a slow reader
/// slows the engine down rather than growing memory.
pub fn spawn(spec: TailSpec) -> (TailHandle, mpsc::Receiver<TailMessage>) {
    let (tx, rx) = mpsc::channel(64);
    let (cmd_tx, cmd_rx) = mpsc::channel(16);
    let task = tokio::spawn(async move {
        let mut engine = Engine::new(spec, tx.clone(), cmd_rx);
        let result = engine.run().await;
        let _ = tx.send(TailMessage::End(result.err().flatten())).await;
    });
    (
        TailHandle {
            commands: cmd_tx,
            task,
        },
        rx,
    )
}

/// Why the engine stopped early: `None` = the reader went away or asked to stop.
type Stop = Option<AwsError>;

/// One FilterLogEvents series: a group and at most 100 stream names, or a prefix.
#[derive(Debug, Clone)]
struct Source {
    target: usize,
    names: Vec<String>,
    prefix: Option<String>,
}

struct Engine {
    spec: TailSpec,
    tx: mpsc::Sender<TailMessage>,
    commands: mpsc::Receiver<TailCommand>,
    sources: Vec<Source>,
    origins: HashMap<String, HashMap<String, Origin>>,
    dedupe: Dedupe,
    reorder: Reorder,
    clock: ServerClock,
    /// Server time up to which every ingested event has been read: the clock estimate at the
    /// start of the last complete poll cycle, or of the last live update. The next poll
    /// starts `overlap_ms` before it, and events up to `covered - reorder_ms` are released.
    covered: Option<i64>,
    /// Earliest time read so far (history can be extended backwards from here).
    history_start: i64,
    /// Content keys are needed when live tail may be (or was) used.
    content_keys: bool,
    interval: Duration,
    rng: u64,
    /// When the last new event was accepted (see [`Engine::release_idle`]).
    last_accepted: Option<Instant>,
}

impl Engine {
    fn new(
        spec: TailSpec,
        tx: mpsc::Sender<TailMessage>,
        commands: mpsc::Receiver<TailCommand>,
    ) -> Engine {
        let mut sources = Vec::new();
        for (i, t) in spec.targets.iter().enumerate() {
            match &t.streams {
                StreamSelector::All => sources.push(Source {
                    target: i,
                    names: Vec::new(),
                    prefix: None,
                }),
                StreamSelector::Prefix(p) => sources.push(Source {
                    target: i,
                    names: Vec::new(),
                    prefix: Some(p.clone()),
                }),
                StreamSelector::Names(names) => {
                    for chunk in names.chunks(FILTER_MAX_STREAMS) {
                        sources.push(Source {
                            target: i,
                            names: chunk.to_vec(),
                            prefix: None,
                        });
                    }
                }
            }
        }
        let content_keys = spec.follow && spec.mode == TailMode::Auto;
        let reorder_ms = spec.reorder_ms;
        Engine {
            history_start: spec.start_ms,
            interval: spec.poll_min,
            spec,
            tx,
            commands,
            sources,
            origins: HashMap::new(),
            dedupe: Dedupe::default(),
            reorder: Reorder::new(reorder_ms),
            clock: ServerClock::default(),
            covered: None,
            content_keys,
            rng: super::time::now_ms() as u64 | 1,
            last_accepted: None,
        }
    }

    async fn run(&mut self) -> Result<(), Stop> {
        if self.sources.is_empty() {
            return Ok(());
        }
        let mut live = None;
        let mut reason = None;
        if self.spec.follow && self.spec.mode == TailMode::Auto {
            match self.open_live_tail().await {
                Ok(session) => live = Some(session),
                Err(why) => reason = Some(why),
            }
        }
        if live.is_none() {
            self.content_keys = false;
        }
        // history: everything from --since to now
        let start = self.spec.start_ms;
        self.poll_cycle(start).await?;
        self.send(TailMessage::HistoryLoaded { from_ms: start })
            .await?;
        if !self.spec.follow {
            self.flush_all().await?;
            return Ok(());
        }
        self.release().await?;
        if let Some(session) = live {
            reason = Some(self.live_loop(session).await?);
        }
        self.poll_loop(reason).await
    }

    async fn send(&self, msg: TailMessage) -> Result<(), Stop> {
        self.tx.send(msg).await.map_err(|_| None)
    }

    async fn status(&self, s: TailStatus) -> Result<(), Stop> {
        self.send(TailMessage::Status(s)).await
    }

    // ---------------------------------------------------------------------------------
    // live tail

    /// Open a StartLiveTail session if this tail fits its limits; else say why not.
    async fn open_live_tail(&mut self) -> Result<LiveTail, String> {
        let targets = &self.spec.targets;
        let Some(first) = targets.first() else {
            return Err("nothing to tail".into());
        };
        if targets
            .iter()
            .any(|t| t.client.region != first.client.region)
        {
            return Err("live tail cannot span regions".into());
        }
        let mut groups: Vec<&str> = targets.iter().map(|t| t.group.as_str()).collect();
        groups.sort_unstable();
        groups.dedup();
        if groups.len() > LIVE_TAIL_MAX_GROUPS {
            return Err(format!(
                "live tail takes at most {LIVE_TAIL_MAX_GROUPS} log groups"
            ));
        }
        let mut req = LiveTailRequest {
            filter_pattern: self.spec.filter_pattern.clone(),
            ..LiveTailRequest::default()
        };
        if groups.len() == 1 {
            for t in targets {
                match &t.streams {
                    StreamSelector::All => {
                        req.stream_names.clear();
                        req.stream_prefixes.clear();
                        break;
                    }
                    StreamSelector::Names(n) => req.stream_names.extend(n.iter().cloned()),
                    StreamSelector::Prefix(p) => req.stream_prefixes.push(p.clone()),
                }
            }
            if !req.stream_names.is_empty() && !req.stream_prefixes.is_empty() {
                return Err("live tail cannot mix stream names and prefixes".into());
            }
            if req.stream_names.len() > LIVE_TAIL_MAX_STREAMS
                || req.stream_prefixes.len() > LIVE_TAIL_MAX_STREAMS
            {
                return Err(format!(
                    "live tail takes at most {LIVE_TAIL_MAX_STREAMS} streams"
                ));
            }
        } else if targets.iter().any(|t| t.streams != StreamSelector::All) {
            return Err("live tail selects streams only within one log group".into());
        }
        for g in &groups {
            let arn = first
                .client
                .log_group_arn(g)
                .await
                .map_err(|e| format!("live tail unavailable: {e}"))?;
            req.group_arns.push(arn);
        }
        let mut session = first
            .client
            .start_live_tail(&req)
            .await
            .map_err(|e| format!("live tail unavailable: {e}"))?;
        // the session exists once its first message arrives
        match session.next().await {
            Ok(Some(LiveUpdate::Started { .. })) => Ok(session),
            Ok(Some(LiveUpdate::Events { .. })) => Err("live tail sent no session start".into()),
            Ok(None) => Err("live tail closed at once".into()),
            Err(e) => Err(format!("live tail unavailable: {e}")),
        }
    }

    /// Run the live session until it ends; returns why, for the polling status.
    async fn live_loop(&mut self, mut session: LiveTail) -> Result<String, Stop> {
        self.status(TailStatus::Live { sampled: false }).await?;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut was_sampled = false;
        loop {
            tokio::select! {
                update = session.next() => match update {
                    Ok(Some(LiveUpdate::Events { events, sampled })) => {
                        for e in events {
                            self.accept(None, e);
                        }
                        // an update holds everything ingested up to its (server-side) tick,
                        // shortly before we read it
                        let seen = self.clock.estimate().map(|t| t - 2_000);
                        self.cover(seen);
                        self.release().await?;
                        if sampled {
                            self.status(TailStatus::Live { sampled: true }).await?;
                            return Ok("live tail is sampling (over 500 events/s); polling so no line is lost".into());
                        }
                        if was_sampled != sampled {
                            was_sampled = sampled;
                            self.status(TailStatus::Live { sampled }).await?;
                        }
                    }
                    Ok(Some(LiveUpdate::Started { .. })) => {}
                    Ok(None) => return Ok("live tail session ended".into()),
                    Err(e) => return Ok(format!("live tail failed: {e}")),
                },
                cmd = self.commands.recv() => self.command(cmd).await?,
                _ = tick.tick() => {
                    self.release().await?;
                    self.release_idle().await?;
                    let cutoff = self.window_start() - self.spec.overlap_ms;
                    self.dedupe.prune(cutoff);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------
    // polling

    /// Where the next poll starts: `overlap_ms` before the time through which ingestion was
    /// fully read. An event ingested after that has a timestamp of at most `overlap_ms`
    /// earlier (when its ingestion delay is within the overlap), however long the pause
    /// between polls was (throttling back-off included). Event timestamps are not used, so a
    /// container with a skewed clock cannot push the window into the future.
    fn window_start(&self) -> i64 {
        match self.covered {
            Some(c) => (c - self.spec.overlap_ms).max(self.spec.start_ms),
            None => self.spec.start_ms,
        }
    }

    fn cover(&mut self, server_ms: Option<i64>) {
        if let Some(t) = server_ms {
            self.covered = Some(self.covered.map_or(t, |c| c.max(t)));
        }
    }

    async fn poll_loop(&mut self, reason: Option<String>) -> Result<(), Stop> {
        self.status(TailStatus::Polling {
            interval_ms: self.interval.as_millis() as u64,
            reason,
        })
        .await?;
        loop {
            let sleep = tokio::time::sleep(self.interval);
            tokio::pin!(sleep);
            loop {
                tokio::select! {
                    _ = &mut sleep => break,
                    cmd = self.commands.recv() => self.command(cmd).await?,
                }
            }
            let start = self.window_start();
            let fresh = self.poll_cycle(start).await?;
            self.dedupe.prune(start);
            self.release().await?;
            self.release_idle().await?;
            let before = self.interval;
            self.interval = if fresh > 0 {
                (self.interval / 2).max(self.spec.poll_min)
            } else {
                self.interval.mul_f64(1.5).min(self.spec.poll_max)
            };
            if self.interval != before {
                self.status(TailStatus::Polling {
                    interval_ms: self.interval.as_millis() as u64,
                    reason: None,
                })
                .await?;
            }
        }
    }

    /// Read every source from `start_ms` to now, all pages. Returns how many new events.
    async fn poll_cycle(&mut self, start_ms: i64) -> Result<usize, Stop> {
        // the clock is an under-estimate (the newest ingestion time seen), so this is safe
        let mut cycle_start = self.clock.estimate();
        let mut fresh = 0;
        for i in 0..self.sources.len() {
            let source = self.sources[i].clone();
            let mut req = self.request(&source, start_ms, None);
            loop {
                let page = self.fetch(&source, &req).await?;
                for e in page.events {
                    if self.accept(Some(source.target), e) {
                        fresh += 1;
                    }
                }
                // The very first cycle starts without a clock: the newest ingestion time in
                // its first answer was before the cycle began, so it is a safe bound.
                if cycle_start.is_none() {
                    cycle_start = self.clock.estimate();
                }
                match page.next_token {
                    Some(t) => req.next_token = Some(t),
                    None => break,
                }
            }
        }
        self.cover(cycle_start);
        Ok(fresh)
    }

    fn request(&self, source: &Source, start_ms: i64, end_ms: Option<i64>) -> FilterRequest {
        FilterRequest {
            group: self
                .spec
                .targets
                .get(source.target)
                .map(|t| t.group.clone())
                .unwrap_or_default(),
            stream_names: source.names.clone(),
            stream_prefix: source.prefix.clone(),
            start_ms,
            end_ms,
            filter_pattern: self.spec.filter_pattern.clone(),
            next_token: None,
            limit: self.spec.page_limit,
        }
    }

    /// One page, retried with back-off on throttling and transient errors (same token).
    async fn fetch(
        &mut self,
        source: &Source,
        req: &FilterRequest,
    ) -> Result<crate::aws::logs::FilterPage, Stop> {
        let Some(client) = self
            .spec
            .targets
            .get(source.target)
            .map(|t| t.client.clone())
        else {
            return Err(None);
        };
        let mut delay = Duration::from_millis(500);
        let mut failures = 0u32;
        loop {
            match client.filter_page(req).await {
                Ok(page) => {
                    if failures > 0 {
                        self.interval = self.interval.max(delay.min(self.spec.poll_max));
                    }
                    return Ok(page);
                }
                Err(e) => {
                    failures += 1;
                    let retryable = matches!(
                        e.kind,
                        ErrorKind::Throttled | ErrorKind::Network | ErrorKind::Other
                    );
                    // a one-shot read gives up after a while; a follow keeps trying
                    if !retryable || (!self.spec.follow && failures > 10) {
                        return Err(Some(e));
                    }
                    delay = (delay * 2).min(self.spec.backoff_max);
                    let wait = self.jitter(delay);
                    let retry_in_ms = wait.as_millis() as u64;
                    self.status(if e.kind == ErrorKind::Throttled {
                        TailStatus::Throttled { retry_in_ms }
                    } else {
                        TailStatus::Retrying {
                            error: e,
                            retry_in_ms,
                        }
                    })
                    .await?;
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// Between 50% and 100% of `d`.
    fn jitter(&mut self, d: Duration) -> Duration {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        d.mul_f64(0.5 + (self.rng % 1000) as f64 / 2000.0)
    }

    async fn command(&mut self, cmd: Option<TailCommand>) -> Result<(), Stop> {
        match cmd {
            None | Some(TailCommand::Stop) => Err(None),
            Some(TailCommand::FetchOlder { span_ms }) => self.fetch_older(span_ms.max(1)).await,
        }
    }

    /// History before `history_start`, all sources, sorted; does not touch the live window.
    async fn fetch_older(&mut self, span_ms: i64) -> Result<(), Stop> {
        let to_ms = self.history_start - 1;
        let from_ms = self.history_start.saturating_sub(span_ms);
        let mut events = Vec::new();
        for i in 0..self.sources.len() {
            let source = self.sources[i].clone();
            let mut req = self.request(&source, from_ms, Some(to_ms));
            loop {
                let page = self.fetch(&source, &req).await?;
                for e in page.events {
                    if e.timestamp_ms < from_ms || e.timestamp_ms > to_ms {
                        continue;
                    }
                    let origin = self.origin(Some(source.target), &e);
                    events.push(LogEvent::new(
                        &origin,
                        e.event_id.unwrap_or_default(),
                        e.timestamp_ms,
                        e.ingestion_ms,
                        e.message,
                    ));
                }
                match page.next_token {
                    Some(t) => req.next_token = Some(t),
                    None => break,
                }
            }
        }
        events.sort_by(|a, b| {
            (a.timestamp_ms, &a.stream, &a.event_id).cmp(&(b.timestamp_ms, &b.stream, &b.event_id))
        });
        self.history_start = from_ms;
        self.send(TailMessage::Older {
            events,
            from_ms,
            to_ms,
        })
        .await
    }

    // ---------------------------------------------------------------------------------
    // accepting and releasing events

    fn origin(&mut self, target: Option<usize>, e: &RawEvent) -> Origin {
        let group = match (&e.group, target.and_then(|t| self.spec.targets.get(t))) {
            (Some(g), _) => g.as_str(),
            (None, Some(t)) => t.group.as_str(),
            (None, None) => "",
        };
        if let Some(o) = self.origins.get(group).and_then(|m| m.get(&e.stream)) {
            return o.clone();
        }
        let o = Origin::new(group, &e.stream);
        self.origins
            .entry(group.to_string())
            .or_default()
            .insert(e.stream.clone(), o.clone());
        o
    }

    /// De-duplicate and queue one event; true when it was new.
    fn accept(&mut self, target: Option<usize>, e: RawEvent) -> bool {
        if let Some(ing) = (e.ingestion_ms > 0).then_some(e.ingestion_ms) {
            self.clock.observe(ing);
        }
        let origin = self.origin(target, &e);
        let key = self.content_keys.then(|| content_key(&origin.group, &e));
        let duplicate = match &e.event_id {
            Some(id) => {
                let seen_id = self.dedupe.seen_id(id, e.timestamp_ms);
                let seen_content = key.is_some_and(|k| self.dedupe.seen_content(k, e.timestamp_ms));
                seen_id || seen_content
            }
            None => key.is_some_and(|k| self.dedupe.seen_content(k, e.timestamp_ms)),
        };
        if duplicate {
            return false;
        }
        let id = match e.event_id {
            Some(id) => id,
            None => format!(
                "live-{:016x}",
                key.unwrap_or_else(|| content_key(&origin.group, &e))
            ),
        };
        let ev = LogEvent::new(&origin, id, e.timestamp_ms, e.ingestion_ms, e.message);
        self.reorder.push(ev);
        self.last_accepted = Some(Instant::now());
        true
    }

    /// Send what has waited long enough.
    async fn release(&mut self) -> Result<(), Stop> {
        let Some(covered) = self.covered else {
            return Ok(());
        };
        let ready = self.reorder.release(covered - self.spec.reorder_ms);
        self.send_events(ready).await
    }

    /// Nothing new for a whole re-order window: nothing is left to sort in front of what
    /// waits, so let it out. Without this the last lines of a quiet stream (a stopped task's
    /// crash, most of all) would wait for the clock estimate, anchored at the newest
    /// ingestion time seen, to move past them. A straggler after this is marked late.
    async fn release_idle(&mut self) -> Result<(), Stop> {
        let idle = self.last_accepted.is_some_and(|t| {
            t.elapsed() >= Duration::from_millis(self.spec.reorder_ms.max(0) as u64)
        });
        if idle && !self.reorder.pending.is_empty() {
            self.flush_all().await?;
        }
        Ok(())
    }

    async fn flush_all(&mut self) -> Result<(), Stop> {
        let ready = self.reorder.release(i64::MAX);
        self.send_events(ready).await
    }

    async fn send_events(&mut self, events: Vec<LogEvent>) -> Result<(), Stop> {
        if events.is_empty() {
            return Ok(());
        }
        let batch = self.spec.batch.max(1);
        let mut events = events;
        while !events.is_empty() {
            let rest = events.split_off(events.len().min(batch));
            self.send(TailMessage::Events(events)).await?;
            events = rest;
        }
        Ok(())
    }
}

fn content_key(group: &str, e: &RawEvent) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    group.hash(&mut h);
    e.stream.hash(&mut h);
    e.timestamp_ms.hash(&mut h);
    e.ingestion_ms.hash(&mut h);
    e.message.hash(&mut h);
    h.finish()
}

/// Seen ids and content keys, each with its event timestamp so old ones can be forgotten.
#[derive(Default)]
struct Dedupe {
    ids: HashMap<Box<str>, i64>,
    content: HashMap<u64, i64>,
}

impl Dedupe {
    fn seen_id(&mut self, id: &str, ts: i64) -> bool {
        if self.ids.contains_key(id) {
            return true;
        }
        self.ids.insert(Box::from(id), ts);
        false
    }

    fn seen_content(&mut self, key: u64, ts: i64) -> bool {
        self.content.insert(key, ts).is_some()
    }

    /// Forget events older than `cutoff`: no later read asks for them again.
    fn prune(&mut self, cutoff: i64) {
        self.ids.retain(|_, ts| *ts >= cutoff);
        self.content.retain(|_, ts| *ts >= cutoff);
    }
}

/// Events waiting to leave in timestamp order.
struct Reorder {
    pending: BTreeMap<(i64, Arc<str>, u64), LogEvent>,
    /// Everything at or before this has been released.
    released: i64,
    /// Late events (older than `released`) go out with the next release.
    late: Vec<LogEvent>,
    seq: u64,
}

impl Reorder {
    fn new(_window_ms: i64) -> Reorder {
        Reorder {
            pending: BTreeMap::new(),
            released: i64::MIN,
            late: Vec::new(),
            seq: 0,
        }
    }

    fn push(&mut self, mut ev: LogEvent) {
        if ev.timestamp_ms <= self.released {
            ev.late = true;
            self.late.push(ev);
            return;
        }
        self.seq += 1;
        self.pending
            .insert((ev.timestamp_ms, ev.stream.clone(), self.seq), ev);
    }

    /// Everything with a timestamp `<= upto`, sorted (late ones first).
    fn release(&mut self, upto: i64) -> Vec<LogEvent> {
        let mut out = std::mem::take(&mut self.late);
        out.sort_by_key(|e| e.timestamp_ms);
        if upto == i64::MAX {
            out.extend(std::mem::take(&mut self.pending).into_values());
            if let Some(last) = out.last() {
                self.released = self.released.max(last.timestamp_ms);
            }
            return out;
        }
        let keep = self
            .pending
            .split_off(&(upto.saturating_add(1), Arc::from(""), 0));
        let ready = std::mem::replace(&mut self.pending, keep);
        out.extend(ready.into_values());
        self.released = self.released.max(upto);
        out
    }
}

/// The server's clock, estimated from ingestion times: the newest one seen plus the local
/// time elapsed since. It never runs backwards.
#[derive(Default)]
struct ServerClock {
    anchor: Option<(i64, Instant)>,
}

impl ServerClock {
    fn observe(&mut self, server_ms: i64) {
        if self.estimate().is_none_or(|now| server_ms > now) {
            self.anchor = Some((server_ms, Instant::now()));
        }
    }

    fn estimate(&self) -> Option<i64> {
        self.anchor
            .map(|(ms, at)| ms + at.elapsed().as_millis() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: i64, stream: &str) -> LogEvent {
        LogEvent::new(
            &Origin::new("g", stream),
            format!("{ts}{stream}"),
            ts,
            ts,
            "x".into(),
        )
    }

    #[test]
    fn reorder_releases_in_time_order_and_marks_late() {
        let mut r = Reorder::new(10);
        for ts in [30, 10, 20, 50] {
            r.push(ev(ts, "a"));
        }
        let out: Vec<i64> = r.release(30).iter().map(|e| e.timestamp_ms).collect();
        assert_eq!(out, vec![10, 20, 30]);
        r.push(ev(25, "b"));
        r.push(ev(40, "b"));
        let out = r.release(100);
        let ts: Vec<i64> = out.iter().map(|e| e.timestamp_ms).collect();
        assert_eq!(ts, vec![25, 40, 50]);
        assert!(out[0].late && !out[1].late);
    }

    #[test]
    fn dedupe_forgets_old_entries() {
        let mut d = Dedupe::default();
        assert!(!d.seen_id("a", 10));
        assert!(d.seen_id("a", 10));
        assert!(!d.seen_id("b", 20));
        d.prune(15);
        assert!(!d.seen_id("a", 10));
        assert_eq!(d.ids.len(), 2);
    }
}
