//! Reliable, ordered delivery over the data channel, one instance of each half per session,
//! kept across reconnects.
//!
//! [`Outgoing`] numbers our sequenced messages from 0, keeps each one until the peer acks its
//! sequence number, and says which are due for retransmission: a message is resent when it has
//! waited longer than the retransmission timeout, estimated from acknowledged round trips
//! (smoothed RTT plus four deviations, at least 10 ms more than the RTT, never over 1 s; only
//! first transmissions are sampled) and doubled for each resend of the same message, up to the
//! cap. It holds at most `capacity` messages: when full, the caller stops reading its input
//! until acks arrive (flow control) rather than dropping anything.
//!
//! [`Incoming`] delivers the peer's messages in sequence order: the next expected one at once,
//! with any buffered successors; later ones are buffered (bounded) and acked; earlier ones are
//! duplicates, acked again (the peer may have lost our first ack) and never delivered twice.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use super::message::{AgentMessage, MessageType, PayloadType};

pub const INITIAL_RTT: Duration = Duration::from_millis(100);
pub const MIN_RTO_MARGIN: Duration = Duration::from_millis(10);
pub const MAX_RTO: Duration = Duration::from_secs(1);
/// A message unacknowledged this long means the peer is gone.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(300);

/// A round-trip estimator (Jacobson/Karels).
#[derive(Debug, Clone, Copy)]
pub struct Rtt {
    srtt: Duration,
    rttvar: Duration,
}

impl Default for Rtt {
    fn default() -> Self {
        Rtt {
            srtt: INITIAL_RTT,
            rttvar: Duration::ZERO,
        }
    }
}

impl Rtt {
    pub fn sample(&mut self, r: Duration) {
        let diff = self.srtt.abs_diff(r);
        self.rttvar = self.rttvar * 3 / 4 + diff / 4;
        self.srtt = self.srtt * 7 / 8 + r / 8;
    }

    pub fn rto(&self) -> Duration {
        (self.srtt + (self.rttvar * 4).max(MIN_RTO_MARGIN)).min(MAX_RTO)
    }

    pub fn srtt(&self) -> Duration {
        self.srtt
    }
}

#[derive(Debug)]
struct Pending {
    sequence: i64,
    frame: Vec<u8>,
    first_sent: Instant,
    last_sent: Instant,
    resends: u32,
}

/// Our side's sequenced messages.
#[derive(Debug)]
pub struct Outgoing {
    message_type: MessageType,
    next: i64,
    unacked: VecDeque<Pending>,
    capacity: usize,
    rtt: Rtt,
}

/// The peer has acknowledged nothing for [`GIVE_UP_AFTER`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerGone;

impl Outgoing {
    /// `message_type` is `input_stream_data` for a client, `output_stream_data` for an agent.
    pub fn new(message_type: MessageType, capacity: usize) -> Outgoing {
        Outgoing {
            message_type,
            next: 0,
            unacked: VecDeque::new(),
            capacity: capacity.max(1),
            rtt: Rtt::default(),
        }
    }

    /// Room for another message?
    pub fn has_room(&self) -> bool {
        self.unacked.len() < self.capacity
    }

    pub fn unacked(&self) -> usize {
        self.unacked.len()
    }

    pub fn next_sequence(&self) -> i64 {
        self.next
    }

    pub fn rto(&self) -> Duration {
        self.rtt.rto()
    }

    /// Number, encode and keep a message; the frame to send is returned. When there is no
    /// room the message is still taken (the caller checks [`Outgoing::has_room`] before
    /// reading more input), so nothing is ever lost here.
    pub fn send(&mut self, payload_type: PayloadType, payload: Vec<u8>, now: Instant) -> Vec<u8> {
        let msg = AgentMessage::stream(self.message_type.clone(), self.next, payload_type, payload);
        self.next += 1;
        let frame = msg.encode();
        self.unacked.push_back(Pending {
            sequence: msg.sequence,
            frame: frame.clone(),
            first_sent: now,
            last_sent: now,
            resends: 0,
        });
        frame
    }

    /// The peer acked `sequence`. Returns whether it was waiting (acks of unknown or already
    /// acked numbers are ignored).
    pub fn ack(&mut self, sequence: i64, now: Instant) -> bool {
        let Some(i) = self.unacked.iter().position(|p| p.sequence == sequence) else {
            return false;
        };
        if let Some(p) = self.unacked.remove(i)
            && p.resends == 0
        {
            self.rtt.sample(now.saturating_duration_since(p.first_sent));
        }
        true
    }

    /// Frames due for retransmission at `now` (oldest first, at most `limit`), marked as sent.
    pub fn due(&mut self, now: Instant, limit: usize) -> Result<Vec<Vec<u8>>, PeerGone> {
        let rto = self.rtt.rto();
        let mut out = Vec::new();
        for p in self.unacked.iter_mut() {
            if now.saturating_duration_since(p.first_sent) > GIVE_UP_AFTER {
                return Err(PeerGone);
            }
            if out.len() >= limit {
                break;
            }
            let wait = (rto * 2u32.saturating_pow(p.resends.min(8))).min(MAX_RTO);
            if now.saturating_duration_since(p.last_sent) >= wait {
                p.last_sent = now;
                p.resends = p.resends.saturating_add(1);
                out.push(p.frame.clone());
            }
        }
        Ok(out)
    }

    /// Every unacked frame, oldest first (after a reconnect), marked as sent now.
    pub fn all_unacked(&mut self, now: Instant) -> Vec<Vec<u8>> {
        self.unacked
            .iter_mut()
            .map(|p| {
                p.last_sent = now;
                p.frame.clone()
            })
            .collect()
    }
}

/// What to do with a received sequenced message.
#[derive(Debug, PartialEq, Eq)]
pub enum Receipt {
    /// Ack it and hand these over, in order (the message and any buffered successors).
    Deliver(Vec<AgentMessage>),
    /// Ack it; it waits for the ones before it.
    Buffered,
    /// Already delivered: ack it again, deliver nothing.
    Duplicate,
    /// Too far ahead for the buffer: no ack, the peer will send it again.
    Dropped,
}

/// The peer's sequenced messages.
#[derive(Debug)]
pub struct Incoming {
    expected: i64,
    ahead: BTreeMap<i64, AgentMessage>,
    capacity: usize,
}

impl Incoming {
    pub fn new(capacity: usize) -> Incoming {
        Incoming {
            expected: 0,
            ahead: BTreeMap::new(),
            capacity,
        }
    }

    pub fn expected(&self) -> i64 {
        self.expected
    }

    pub fn buffered(&self) -> usize {
        self.ahead.len()
    }

    pub fn accept(&mut self, msg: AgentMessage) -> Receipt {
        use std::cmp::Ordering;
        match msg.sequence.cmp(&self.expected) {
            Ordering::Less => Receipt::Duplicate,
            Ordering::Greater => {
                if self.ahead.contains_key(&msg.sequence) {
                    Receipt::Buffered
                } else if self.ahead.len() < self.capacity
                    && msg.sequence - self.expected <= self.capacity as i64
                {
                    self.ahead.insert(msg.sequence, msg);
                    Receipt::Buffered
                } else {
                    Receipt::Dropped
                }
            }
            Ordering::Equal => {
                let mut out = vec![msg];
                self.expected += 1;
                while let Some(next) = self.ahead.remove(&self.expected) {
                    out.push(next);
                    self.expected += 1;
                }
                Receipt::Deliver(out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn msg(seq: i64) -> AgentMessage {
        AgentMessage::stream(
            MessageType::OutputStreamData,
            seq,
            PayloadType::OUTPUT,
            seq.to_string().into_bytes(),
        )
    }

    fn seqs(r: &Receipt) -> Vec<i64> {
        match r {
            Receipt::Deliver(v) => v.iter().map(|m| m.sequence).collect(),
            _ => vec![],
        }
    }

    #[test]
    fn out_of_order_messages_are_delivered_in_order_once() {
        let mut inc = Incoming::new(8);
        assert_eq!(inc.accept(msg(1)), Receipt::Buffered);
        assert_eq!(inc.accept(msg(2)), Receipt::Buffered);
        assert_eq!(inc.accept(msg(2)), Receipt::Buffered);
        assert_eq!(seqs(&inc.accept(msg(0))), vec![0, 1, 2]);
        assert_eq!(inc.accept(msg(1)), Receipt::Duplicate);
        assert_eq!(inc.expected(), 3);
        assert_eq!(inc.buffered(), 0);
    }

    #[test]
    fn the_out_of_order_buffer_is_bounded() {
        let mut inc = Incoming::new(4);
        for s in 1..=4 {
            assert_eq!(inc.accept(msg(s)), Receipt::Buffered);
        }
        assert_eq!(inc.accept(msg(5)), Receipt::Dropped);
        assert_eq!(inc.accept(msg(1_000_000)), Receipt::Dropped);
        assert_eq!(seqs(&inc.accept(msg(0))), vec![0, 1, 2, 3, 4]);
        assert_eq!(seqs(&inc.accept(msg(5))), vec![5]);
    }

    #[test]
    fn unacked_messages_are_resent_after_the_timeout_with_backoff_and_stop_when_acked() {
        let t0 = Instant::now();
        let mut out = Outgoing::new(MessageType::InputStreamData, 100);
        let f0 = out.send(PayloadType::OUTPUT, b"a".to_vec(), t0);
        out.send(PayloadType::OUTPUT, b"b".to_vec(), t0);
        assert_eq!(out.next_sequence(), 2);
        assert_eq!(out.rto(), Duration::from_millis(110));
        assert!(
            out.due(t0 + Duration::from_millis(50), 10)
                .unwrap_or_default()
                .is_empty()
        );
        let resent = out
            .due(t0 + Duration::from_millis(120), 10)
            .unwrap_or_default();
        assert_eq!(resent.len(), 2);
        assert_eq!(resent[0], f0, "a retransmission is byte-identical");
        // the second wait is twice as long
        assert!(
            out.due(t0 + Duration::from_millis(250), 10)
                .unwrap_or_default()
                .is_empty()
        );
        assert_eq!(
            out.due(t0 + Duration::from_millis(340), 1)
                .unwrap_or_default()
                .len(),
            1
        );
        assert!(out.ack(0, t0 + Duration::from_millis(400)));
        assert!(!out.ack(0, t0 + Duration::from_millis(400)));
        assert_eq!(out.unacked(), 1);
        assert_eq!(out.all_unacked(t0).len(), 1);
    }

    #[test]
    fn the_timeout_follows_measured_round_trips_and_is_capped() {
        let t0 = Instant::now();
        let mut out = Outgoing::new(MessageType::InputStreamData, 100);
        for i in 0..60 {
            let at = t0 + Duration::from_millis(i * 1000);
            out.send(PayloadType::OUTPUT, vec![1], at);
            out.ack(i as i64, at + Duration::from_millis(30));
        }
        assert!(out.rto() < Duration::from_millis(50), "{:?}", out.rto());
        assert!(out.rto() >= Duration::from_millis(40), "{:?}", out.rto());
        let mut slow = Outgoing::new(MessageType::InputStreamData, 100);
        for i in 0..20 {
            let at = t0 + Duration::from_millis(i * 10_000);
            slow.send(PayloadType::OUTPUT, vec![1], at);
            slow.ack(i as i64, at + Duration::from_millis(5_000));
        }
        assert_eq!(slow.rto(), MAX_RTO);
    }

    #[test]
    fn a_peer_silent_for_five_minutes_is_gone() {
        let t0 = Instant::now();
        let mut out = Outgoing::new(MessageType::InputStreamData, 2);
        out.send(PayloadType::OUTPUT, vec![1], t0);
        out.send(PayloadType::OUTPUT, vec![2], t0);
        assert!(!out.has_room());
        assert_eq!(
            out.due(t0 + GIVE_UP_AFTER + Duration::from_secs(1), 10),
            Err(PeerGone)
        );
    }

    proptest! {
        /// Whatever order, duplication and loss (with retransmission) the network applies,
        /// every message is delivered exactly once, in order.
        #[test]
        fn delivery_is_exactly_once_in_order(
            n in 1usize..60,
            shuffles in proptest::collection::vec((any::<usize>(), any::<usize>()), 0..80),
            dups in proptest::collection::vec(any::<usize>(), 0..30),
        ) {
            let mut wire: Vec<i64> = (0..n as i64).collect();
            for d in dups { wire.push((d % n) as i64); }
            let len = wire.len();
            for (a, b) in shuffles { wire.swap(a % len, b % len); }
            let mut inc = Incoming::new(16);
            let mut got = Vec::new();
            let mut pending: Vec<i64> = wire;
            // a dropped message comes back later, as a retransmission would bring it
            let mut rounds = 0;
            while !pending.is_empty() && rounds < 10_000 {
                rounds += 1;
                let s = pending.remove(0);
                match inc.accept(msg(s)) {
                    Receipt::Deliver(v) => got.extend(v.iter().map(|m| m.sequence)),
                    Receipt::Dropped => pending.push(s),
                    Receipt::Buffered | Receipt::Duplicate => {}
                }
            }
            prop_assert_eq!(got, (0..n as i64).collect::<Vec<_>>());
        }
    }
}
