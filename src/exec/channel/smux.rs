//! smux protocol version 1: the stream multiplexing that Session Manager port forwarding runs
//! inside the data channel once the agent is new enough (see the protocol notes, section 10).
//!
//! # The wire format
//!
//! The data channel's payloads, concatenated in order, form one byte stream, and that stream is a
//! sequence of frames. Every frame starts with an 8-byte header:
//!
//! | offset | size | field                                                     |
//! |--------|------|-----------------------------------------------------------|
//! | 0      | 1    | protocol version, always `1` here                         |
//! | 1      | 1    | command: `0` SYN, `1` FIN, `2` PSH, `3` NOP               |
//! | 2      | 2    | length of the data that follows, **little-endian**        |
//! | 4      | 4    | stream id, **little-endian**                              |
//!
//! and `length` bytes of data follow it. SYN opens a stream, PSH carries a piece of its bytes,
//! FIN says the sender will write no more to it, NOP is a keep-alive that belongs to no stream
//! (id 0). Only PSH carries data in practice. Version 2 of the protocol adds a window update
//! command (`4`); this module speaks version 1 only, so `4` (like any unknown command or a
//! version other than `1`) means the session is broken. A frame carries at most
//! [`MAX_FRAME_DATA`] (32 KiB) of data, so a longer write goes out as several PSH frames.
//!
//! The side that dials (the plugin, and berth's native port forwarder) is the *client*: it numbers
//! the streams it opens with odd ids, the first being 3, then 5, 7, ... The *server* (the agent,
//! and berth's sandbox playing it) accepts them. What the plugin sent for one local connection
//! that wrote `hello` and hung up:
//!
//! ```text
//! 01 00 0000 03000000             SYN, stream 3
//! 01 02 0500 03000000 68656c6c6f  PSH, stream 3, "hello"
//! 01 01 0000 03000000             FIN, stream 3
//! ```
//!
//! Frame boundaries have nothing to do with the data channel's message boundaries: one message
//! may hold half a header or several frames. [`Decoder`] therefore reassembles the byte stream.
//!
//! # This module
//!
//! Pure code, no I/O: a driver feeds it the bytes that arrived and sends the bytes it returns.
//!
//! - [`Frame`] and [`Cmd`]: one frame, and [`Frame::encode`].
//! - [`Decoder`]: bytes in, whole frames out; holds at most one partial frame.
//! - [`Mux`]: one session for either role: opens, writes to and closes streams, and turns
//!   received bytes into [`Event`]s. The bytes to send come back from [`Mux::write`],
//!   [`Mux::close`] and [`Mux::take_output`]; send them in the order they were handed out.
//!
//! Written from the protocol facts alone.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;

/// The only protocol version spoken here.
pub const VERSION: u8 = 1;
/// Bytes in a frame header.
pub const HEADER_LEN: usize = 8;
/// The most data one frame carries (32 KiB); longer data is split over several frames, and a
/// received frame announcing more is an error.
pub const MAX_FRAME_DATA: usize = 32 * 1024;
/// Streams open at once in a [`Mux`] unless [`Mux::with_max_streams`] says otherwise.
pub const DEFAULT_MAX_STREAMS: usize = 1024;
/// Bytes a [`Mux`] queues on its own (SYNs from [`Mux::open`], FINs refusing streams) before it
/// stops queueing refusals, should the driver never collect them.
const MAX_PENDING_OUTPUT: usize = 64 * 1024;

/// A frame's command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Cmd {
    /// Open a stream.
    Syn,
    /// The sender will write no more to the stream.
    Fin,
    /// A piece of the stream's data.
    Psh,
    /// Keep-alive; no stream.
    Nop,
}

impl Cmd {
    /// The command's byte on the wire.
    pub fn to_byte(self) -> u8 {
        match self {
            Cmd::Syn => 0,
            Cmd::Fin => 1,
            Cmd::Psh => 2,
            Cmd::Nop => 3,
        }
    }

    /// The command a byte stands for in version 1, `None` for anything else.
    pub fn from_byte(byte: u8) -> Option<Cmd> {
        match byte {
            0 => Some(Cmd::Syn),
            1 => Some(Cmd::Fin),
            2 => Some(Cmd::Psh),
            3 => Some(Cmd::Nop),
            _ => None,
        }
    }
}

/// Why a session cannot go on, or why a stream cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmuxError {
    /// A frame header with a version other than 1.
    BadVersion(u8),
    /// A frame header with a command version 1 does not have.
    BadCommand(u8),
    /// A frame header announcing more data than [`MAX_FRAME_DATA`].
    FrameTooLong(usize),
    /// This side of the session does not open streams (the server).
    CannotOpen,
    /// As many streams are open as the session allows.
    TooManyStreams(usize),
    /// Every stream id this side may use has been used.
    IdsExhausted,
}

impl fmt::Display for SmuxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SmuxError::BadVersion(v) => {
                write!(f, "smux frame with version {v}, expected {VERSION}")
            }
            SmuxError::BadCommand(c) => write!(f, "smux frame with unknown command {c}"),
            SmuxError::FrameTooLong(n) => write!(
                f,
                "smux frame of {n} data bytes, more than the {MAX_FRAME_DATA} allowed"
            ),
            SmuxError::CannotOpen => write!(f, "the smux server side does not open streams"),
            SmuxError::TooManyStreams(n) => write!(f, "{n} smux streams already open"),
            SmuxError::IdsExhausted => write!(f, "no smux stream ids left in this session"),
        }
    }
}

impl std::error::Error for SmuxError {}

/// One frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub cmd: Cmd,
    pub stream: u32,
    pub data: Vec<u8>,
}

impl Frame {
    /// Open stream `id`.
    pub fn syn(id: u32) -> Frame {
        Frame {
            cmd: Cmd::Syn,
            stream: id,
            data: Vec::new(),
        }
    }

    /// No more data from this side on stream `id`.
    pub fn fin(id: u32) -> Frame {
        Frame {
            cmd: Cmd::Fin,
            stream: id,
            data: Vec::new(),
        }
    }

    /// `data` on stream `id`.
    pub fn psh(id: u32, data: impl Into<Vec<u8>>) -> Frame {
        Frame {
            cmd: Cmd::Psh,
            stream: id,
            data: data.into(),
        }
    }

    /// A keep-alive.
    pub fn nop() -> Frame {
        Frame {
            cmd: Cmd::Nop,
            stream: 0,
            data: Vec::new(),
        }
    }

    /// Append the frame's bytes to `out`. Data longer than [`MAX_FRAME_DATA`] is written as
    /// several frames with the same command and stream, each carrying the next piece (which is
    /// what a PSH needs; the constructors give no other command any data).
    pub fn encode(&self, out: &mut Vec<u8>) {
        encode_parts(self.cmd, self.stream, &self.data, out);
    }
}

/// Append the frames for `cmd` on `stream` carrying `data` (split at [`MAX_FRAME_DATA`]) to `out`.
fn encode_parts(cmd: Cmd, stream: u32, data: &[u8], out: &mut Vec<u8>) {
    if data.is_empty() {
        encode_one(cmd, stream, &[], out);
        return;
    }
    out.reserve(data.len() + HEADER_LEN * data.len().div_ceil(MAX_FRAME_DATA));
    for piece in data.chunks(MAX_FRAME_DATA) {
        encode_one(cmd, stream, piece, out);
    }
}

/// Append one frame; `data` is at most [`MAX_FRAME_DATA`] long (the callers split it).
fn encode_one(cmd: Cmd, stream: u32, data: &[u8], out: &mut Vec<u8>) {
    // MAX_FRAME_DATA fits in 16 bits; saturate rather than wrap should a caller ever pass more.
    let len = u16::try_from(data.len()).unwrap_or(u16::MAX);
    out.push(VERSION);
    out.push(cmd.to_byte());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&stream.to_le_bytes());
    out.extend_from_slice(&data[..usize::from(len)]);
}

/// Turns a byte stream cut into arbitrary pieces back into frames.
///
/// Between calls it holds at most one incomplete frame: once [`Decoder::next_frame`] has
/// returned `Ok(None)`, fewer than [`HEADER_LEN`] + [`MAX_FRAME_DATA`] bytes are buffered. A bad
/// version, an unknown command or an oversized length is reported as soon as its byte arrives;
/// after that the decoder keeps returning the same error and drops whatever is pushed.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// Bytes of `buf` already returned as frames.
    start: usize,
    failed: Option<SmuxError>,
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder::default()
    }

    /// Add bytes that arrived. Take the frames out with [`Decoder::next_frame`] before pushing
    /// much more: the decoder keeps everything pushed until it has been read as frames.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.failed.is_some() || bytes.is_empty() {
            return;
        }
        self.compact();
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole frame, `Ok(None)` while it has not all arrived, or the error that broke
    /// the session.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, SmuxError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        match self.parse() {
            Ok(Some(frame)) => Ok(Some(frame)),
            Ok(None) => {
                self.compact();
                Ok(None)
            }
            Err(err) => {
                self.failed = Some(err.clone());
                self.buf = Vec::new();
                self.start = 0;
                Err(err)
            }
        }
    }

    /// Bytes pushed and not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    fn parse(&mut self) -> Result<Option<Frame>, SmuxError> {
        let pending = &self.buf[self.start..];
        if let Some(&version) = pending.first()
            && version != VERSION
        {
            return Err(SmuxError::BadVersion(version));
        }
        let cmd = match pending.get(1) {
            None => return Ok(None),
            Some(&byte) => Cmd::from_byte(byte).ok_or(SmuxError::BadCommand(byte))?,
        };
        let (Some(&l0), Some(&l1)) = (pending.get(2), pending.get(3)) else {
            return Ok(None);
        };
        let len = usize::from(u16::from_le_bytes([l0, l1]));
        if len > MAX_FRAME_DATA {
            return Err(SmuxError::FrameTooLong(len));
        }
        let (Some(header), Some(data)) = (
            pending.get(..HEADER_LEN),
            pending.get(HEADER_LEN..HEADER_LEN + len),
        ) else {
            return Ok(None);
        };
        let stream = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let frame = Frame {
            cmd,
            stream,
            data: data.to_vec(),
        };
        self.start += HEADER_LEN + len;
        Ok(Some(frame))
    }

    /// Drop the bytes already returned as frames.
    fn compact(&mut self) {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }
}

/// Which end of the session this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Opens streams (odd ids from 3): the plugin's side, berth's native port forwarder.
    Client,
    /// Accepts streams: the agent's side, berth's sandbox.
    Server,
}

/// What received bytes meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The peer opened this stream.
    Opened(u32),
    /// The peer wrote this to the stream.
    Data(u32, Vec<u8>),
    /// The peer will write no more to the stream (it may still be written to until
    /// [`Mux::close`]).
    Closed(u32),
}

#[derive(Debug)]
struct StreamState {
    /// The peer sent FIN.
    remote_closed: bool,
}

/// One smux session, for either role.
///
/// A stream is open from its SYN (sent by [`Mux::open`] or received) until this side calls
/// [`Mux::close`]; a FIN from the peer only ends the peer's half ([`Event::Closed`]). Frames the
/// peer sends for a stream that is not open are ignored, a second SYN for an open stream too,
/// and a SYN beyond the stream limit is answered by a FIN. NOPs are ignored.
///
/// Bytes to send come back from [`Mux::write`], [`Mux::close`] and [`Mux::take_output`]. The
/// SYN of [`Mux::open`] and the FINs refusing streams are queued inside and handed out in front
/// of the next bytes any of those return, so sending every returned buffer in order keeps the
/// frames in order. After [`Mux::open`] or [`Mux::receive`], call [`Mux::take_output`] so a
/// queued SYN or FIN is not held back until the next write.
#[derive(Debug)]
pub struct Mux {
    role: Role,
    decoder: Decoder,
    streams: HashMap<u32, StreamState>,
    /// The next id the client tries; `None` once the ids ran out (and always for the server).
    next_id: Option<u32>,
    max_streams: usize,
    /// Frames this session decided to send on its own, not yet handed out.
    outbox: Vec<u8>,
}

impl Mux {
    /// The dialling side: opens streams 3, 5, 7, ...
    pub fn client() -> Mux {
        Mux::new(Role::Client)
    }

    /// The accepting side: [`Mux::open`] fails.
    pub fn server() -> Mux {
        Mux::new(Role::Server)
    }

    fn new(role: Role) -> Mux {
        Mux {
            role,
            decoder: Decoder::new(),
            streams: HashMap::new(),
            next_id: match role {
                Role::Client => Some(3),
                Role::Server => None,
            },
            max_streams: DEFAULT_MAX_STREAMS,
            outbox: Vec::new(),
        }
    }

    /// At most `max` streams open at once (opened by either side).
    pub fn with_max_streams(mut self, max: usize) -> Mux {
        self.max_streams = max;
        self
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Whether stream `id` is open (this side has not closed it).
    pub fn is_open(&self, id: u32) -> bool {
        self.streams.contains_key(&id)
    }

    /// Whether the peer has sent FIN on open stream `id`.
    pub fn is_remote_closed(&self, id: u32) -> bool {
        self.streams.get(&id).is_some_and(|s| s.remote_closed)
    }

    /// Streams open now.
    pub fn open_streams(&self) -> usize {
        self.streams.len()
    }

    /// Open a new stream (client only) and queue its SYN; returns its id. Collect the SYN with
    /// [`Mux::take_output`] (or in front of the stream's first [`Mux::write`]).
    pub fn open(&mut self) -> Result<u32, SmuxError> {
        if self.role == Role::Server {
            return Err(SmuxError::CannotOpen);
        }
        if self.streams.len() >= self.max_streams {
            return Err(SmuxError::TooManyStreams(self.streams.len()));
        }
        // Skip ids the peer opened itself; fewer than `max_streams` are in use, so this ends.
        loop {
            let id = self.next_id.ok_or(SmuxError::IdsExhausted)?;
            self.next_id = id.checked_add(2);
            if let Entry::Vacant(slot) = self.streams.entry(id) {
                slot.insert(StreamState {
                    remote_closed: false,
                });
                encode_one(Cmd::Syn, id, &[], &mut self.outbox);
                return Ok(id);
            }
        }
    }

    /// The bytes that send `data` on stream `id` (PSH frames of at most [`MAX_FRAME_DATA`]),
    /// after anything queued. Nothing is sent for a stream that is not open or for no data.
    pub fn write(&mut self, id: u32, data: &[u8]) -> Vec<u8> {
        let mut out = self.take_output();
        if !data.is_empty() && self.streams.contains_key(&id) {
            encode_parts(Cmd::Psh, id, data, &mut out);
        }
        out
    }

    /// The bytes that close stream `id` (a FIN), after anything queued; the stream is forgotten
    /// and whatever the peer still sends on it is ignored. Nothing is sent for a stream that is
    /// not open.
    pub fn close(&mut self, id: u32) -> Vec<u8> {
        let mut out = self.take_output();
        if self.streams.remove(&id).is_some() {
            encode_one(Cmd::Fin, id, &[], &mut out);
        }
        out
    }

    /// The frames queued by [`Mux::open`] and [`Mux::receive`] and not yet handed out (often
    /// empty).
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.outbox)
    }

    /// Bytes that arrived from the peer, in order, cut anywhere. Returns what they meant; an
    /// error means the session is broken (and stays so).
    pub fn receive(&mut self, bytes: &[u8]) -> Result<Vec<Event>, SmuxError> {
        self.decoder.push(bytes);
        let mut events = Vec::new();
        while let Some(frame) = self.decoder.next_frame()? {
            let id = frame.stream;
            match frame.cmd {
                Cmd::Nop => {}
                Cmd::Syn => {
                    if self.streams.contains_key(&id) {
                        // A repeated SYN for an open stream: nothing new.
                    } else if self.streams.len() >= self.max_streams {
                        if self.outbox.len() < MAX_PENDING_OUTPUT {
                            encode_one(Cmd::Fin, id, &[], &mut self.outbox);
                        }
                    } else {
                        self.streams.insert(
                            id,
                            StreamState {
                                remote_closed: false,
                            },
                        );
                        events.push(Event::Opened(id));
                    }
                }
                Cmd::Psh => {
                    if !frame.data.is_empty()
                        && self.streams.get(&id).is_some_and(|s| !s.remote_closed)
                    {
                        events.push(Event::Data(id, frame.data));
                    }
                }
                Cmd::Fin => {
                    if let Some(stream) = self.streams.get_mut(&id)
                        && !stream.remote_closed
                    {
                        stream.remote_closed = true;
                        events.push(Event::Closed(id));
                    }
                }
            }
        }
        Ok(events)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn encoded(frame: &Frame) -> Vec<u8> {
        let mut out = Vec::new();
        frame.encode(&mut out);
        out
    }

    fn observed() -> Vec<u8> {
        hex("01 00 0000 03000000  01 02 0500 03000000 68656c6c6f  01 01 0000 03000000")
    }

    fn observed_frames() -> Vec<Frame> {
        vec![
            Frame::syn(3),
            Frame::psh(3, b"hello".to_vec()),
            Frame::fin(3),
        ]
    }

    /// Every frame the decoder gives for `bytes` pushed in `pieces`, failing on an error.
    fn decode_pieces<'a>(pieces: impl IntoIterator<Item = &'a [u8]>) -> Vec<Frame> {
        let mut decoder = Decoder::new();
        let mut frames = Vec::new();
        for piece in pieces {
            decoder.push(piece);
            while let Some(frame) = decoder.next_frame().unwrap() {
                frames.push(frame);
            }
            assert!(decoder.buffered() < HEADER_LEN + MAX_FRAME_DATA);
        }
        assert_eq!(decoder.buffered(), 0, "no partial frame left over");
        frames
    }

    #[test]
    fn observed_frames_encode_byte_for_byte() {
        assert_eq!(encoded(&Frame::syn(3)), hex("01 00 0000 03000000"));
        assert_eq!(
            encoded(&Frame::psh(3, b"hello".to_vec())),
            hex("01 02 0500 03000000 68656c6c6f")
        );
        assert_eq!(encoded(&Frame::fin(3)), hex("01 01 0000 03000000"));
        assert_eq!(encoded(&Frame::nop()), hex("01 03 0000 00000000"));
    }

    #[test]
    fn header_fields_are_little_endian() {
        let bytes = encoded(&Frame::psh(0x0403_0201, vec![7u8; 0x0102]));
        assert_eq!(
            &bytes[..HEADER_LEN],
            &[1, 2, 0x02, 0x01, 0x01, 0x02, 0x03, 0x04]
        );
        assert_eq!(bytes.len(), HEADER_LEN + 0x0102);
    }

    #[test]
    fn observed_frames_decode() {
        assert_eq!(decode_pieces([observed().as_slice()]), observed_frames());
    }

    #[test]
    fn syn_and_psh_packed_into_one_21_byte_message_decode() {
        let bytes = observed();
        let (packed, fin) = bytes.split_at(21);
        let mut decoder = Decoder::new();
        decoder.push(packed);
        assert_eq!(decoder.next_frame().unwrap(), Some(Frame::syn(3)));
        assert_eq!(
            decoder.next_frame().unwrap(),
            Some(Frame::psh(3, b"hello".to_vec()))
        );
        assert_eq!(decoder.next_frame().unwrap(), None);
        decoder.push(fin);
        assert_eq!(decoder.next_frame().unwrap(), Some(Frame::fin(3)));
        assert_eq!(decoder.next_frame().unwrap(), None);
    }

    #[test]
    fn split_at_every_byte_boundary_decodes_the_same() {
        let bytes = observed();
        for cut in 0..=bytes.len() {
            let (a, b) = bytes.split_at(cut);
            assert_eq!(decode_pieces([a, b]), observed_frames(), "cut at {cut}");
        }
        for first in 0..=bytes.len() {
            for second in first..=bytes.len() {
                let pieces = [&bytes[..first], &bytes[first..second], &bytes[second..]];
                assert_eq!(decode_pieces(pieces), observed_frames());
            }
        }
    }

    #[test]
    fn byte_at_a_time_decodes_the_same() {
        let bytes = observed();
        assert_eq!(decode_pieces(bytes.chunks(1)), observed_frames());
    }

    #[test]
    fn many_frames_packed_in_one_push_decode_in_order() {
        let frames: Vec<Frame> = (0..50u32)
            .map(|i| Frame::psh(3 + 2 * (i % 4), vec![i as u8; i as usize]))
            .collect();
        let mut bytes = Vec::new();
        for frame in &frames {
            frame.encode(&mut bytes);
        }
        assert_eq!(decode_pieces([bytes.as_slice()]), frames);
    }

    #[test]
    fn write_of_100_kib_is_four_psh_frames_that_reassemble() {
        let mut client = Mux::client();
        let id = client.open().unwrap();
        let syn = client.take_output();
        let data: Vec<u8> = (0..100 * 1024).map(|i| (i % 251) as u8).collect();
        let bytes = client.write(id, &data);

        let frames = decode_pieces([bytes.as_slice()]);
        assert_eq!(frames.len(), 4);
        assert!(frames.iter().all(|f| f.cmd == Cmd::Psh && f.stream == id));
        let sizes: Vec<usize> = frames.iter().map(|f| f.data.len()).collect();
        assert_eq!(
            sizes,
            [MAX_FRAME_DATA, MAX_FRAME_DATA, MAX_FRAME_DATA, 4096]
        );
        let joined: Vec<u8> = frames.into_iter().flat_map(|f| f.data).collect();
        assert_eq!(joined, data);

        let mut server = Mux::server();
        let mut received = Vec::new();
        let mut all = syn;
        all.extend_from_slice(&bytes);
        for piece in all.chunks(1000) {
            for event in server.receive(piece).unwrap() {
                match event {
                    Event::Opened(opened) => assert_eq!(opened, id),
                    Event::Data(s, d) => {
                        assert_eq!(s, id);
                        received.extend(d);
                    }
                    Event::Closed(_) => panic!("not closed"),
                }
            }
        }
        assert_eq!(received, data);
    }

    #[test]
    fn frame_encode_splits_long_data() {
        let frame = Frame::psh(5, vec![1u8; MAX_FRAME_DATA * 2 + 1]);
        let frames = decode_pieces([encoded(&frame).as_slice()]);
        let sizes: Vec<usize> = frames.iter().map(|f| f.data.len()).collect();
        assert_eq!(sizes, [MAX_FRAME_DATA, MAX_FRAME_DATA, 1]);
    }

    #[test]
    fn client_ids_are_odd_from_three() {
        let mut client = Mux::client();
        assert_eq!(client.role(), Role::Client);
        let ids: Vec<u32> = (0..3).map(|_| client.open().unwrap()).collect();
        assert_eq!(ids, [3, 5, 7]);
        let mut expected = Vec::new();
        for id in [3, 5, 7] {
            Frame::syn(id).encode(&mut expected);
        }
        assert_eq!(client.take_output(), expected);
        assert!(client.take_output().is_empty());
        // Closing does not give an id back.
        let _ = client.close(5);
        assert_eq!(client.open().unwrap(), 9);
    }

    #[test]
    fn client_skips_ids_the_peer_opened() {
        let mut client = Mux::client();
        let mut syns = Vec::new();
        Frame::syn(3).encode(&mut syns);
        Frame::syn(5).encode(&mut syns);
        assert_eq!(
            client.receive(&syns).unwrap(),
            [Event::Opened(3), Event::Opened(5)]
        );
        assert_eq!(client.open().unwrap(), 7);
    }

    #[test]
    fn client_ids_run_out_with_an_error() {
        let mut client = Mux::client();
        client.next_id = Some(u32::MAX - 2);
        assert_eq!(client.open().unwrap(), u32::MAX - 2);
        assert_eq!(client.open().unwrap(), u32::MAX);
        assert_eq!(client.open(), Err(SmuxError::IdsExhausted));
        assert_eq!(client.open(), Err(SmuxError::IdsExhausted));
    }

    #[test]
    fn server_cannot_open() {
        let mut server = Mux::server();
        assert_eq!(server.role(), Role::Server);
        assert_eq!(server.open(), Err(SmuxError::CannotOpen));
        assert!(server.take_output().is_empty());
    }

    #[test]
    fn client_open_stops_at_the_stream_limit() {
        let mut client = Mux::client().with_max_streams(2);
        assert_eq!(client.open().unwrap(), 3);
        assert_eq!(client.open().unwrap(), 5);
        assert_eq!(client.open(), Err(SmuxError::TooManyStreams(2)));
        let _ = client.close(3);
        assert_eq!(client.open().unwrap(), 7);
    }

    #[test]
    fn server_sees_opened_data_closed() {
        let mut server = Mux::server();
        let events = server.receive(&observed()).unwrap();
        assert_eq!(
            events,
            [
                Event::Opened(3),
                Event::Data(3, b"hello".to_vec()),
                Event::Closed(3)
            ]
        );
        // The peer's half is closed; ours is still open until we close it.
        assert!(server.is_open(3));
        assert!(server.is_remote_closed(3));
        assert_eq!(
            server.write(3, b"bye"),
            encoded(&Frame::psh(3, b"bye".to_vec()))
        );
        assert_eq!(server.close(3), encoded(&Frame::fin(3)));
        assert!(!server.is_open(3));
        assert_eq!(server.open_streams(), 0);
    }

    #[test]
    fn server_events_are_the_same_for_any_split() {
        let bytes = observed();
        let expected = [
            Event::Opened(3),
            Event::Data(3, b"hello".to_vec()),
            Event::Closed(3),
        ];
        for cut in 0..=bytes.len() {
            let mut server = Mux::server();
            let mut events = server.receive(&bytes[..cut]).unwrap();
            events.extend(server.receive(&bytes[cut..]).unwrap());
            assert_eq!(events, expected, "cut at {cut}");
        }
    }

    #[test]
    fn client_and_server_talk_both_ways() {
        let mut client = Mux::client();
        let mut server = Mux::server();
        let a = client.open().unwrap();
        let b = client.open().unwrap();
        let mut wire = client.take_output();
        wire.extend(client.write(a, b"GET / HTTP/1.1\r\n\r\n"));
        wire.extend(client.write(b, b"SSH-2.0-x\r\n"));
        assert_eq!(
            server.receive(&wire).unwrap(),
            [
                Event::Opened(a),
                Event::Opened(b),
                Event::Data(a, b"GET / HTTP/1.1\r\n\r\n".to_vec()),
                Event::Data(b, b"SSH-2.0-x\r\n".to_vec()),
            ]
        );
        let mut back = server.write(a, b"HTTP/1.1 200 OK\r\n\r\n");
        back.extend(server.close(a));
        assert_eq!(
            client.receive(&back).unwrap(),
            [
                Event::Data(a, b"HTTP/1.1 200 OK\r\n\r\n".to_vec()),
                Event::Closed(a)
            ]
        );
        assert_eq!(server.receive(&client.close(a)).unwrap(), []);
        assert_eq!(client.open_streams(), 1);
        assert_eq!(server.open_streams(), 1);
    }

    #[test]
    fn nop_and_frames_for_unknown_streams_are_ignored() {
        let mut server = Mux::server();
        let mut bytes = Vec::new();
        Frame::nop().encode(&mut bytes);
        Frame::psh(9, b"stray".to_vec()).encode(&mut bytes);
        Frame::fin(9).encode(&mut bytes);
        Frame::syn(3).encode(&mut bytes);
        Frame::syn(3).encode(&mut bytes);
        Frame::psh(3, Vec::new()).encode(&mut bytes);
        Frame::fin(3).encode(&mut bytes);
        Frame::fin(3).encode(&mut bytes);
        Frame::psh(3, b"after fin".to_vec()).encode(&mut bytes);
        assert_eq!(
            server.receive(&bytes).unwrap(),
            [Event::Opened(3), Event::Closed(3)]
        );
        assert!(server.take_output().is_empty());
    }

    #[test]
    fn a_closed_stream_is_forgotten() {
        let mut server = Mux::server();
        server.receive(&encoded(&Frame::syn(3))).unwrap();
        assert_eq!(server.close(3), encoded(&Frame::fin(3)));
        assert!(server.close(3).is_empty(), "a second close sends nothing");
        assert!(server.write(3, b"late").is_empty());
        assert!(server.write(11, b"never opened").is_empty());
        let mut late = encoded(&Frame::psh(3, b"late".to_vec()));
        Frame::fin(3).encode(&mut late);
        assert_eq!(server.receive(&late).unwrap(), []);
        // The id may be opened again by the peer.
        assert_eq!(
            server.receive(&encoded(&Frame::syn(3))).unwrap(),
            [Event::Opened(3)]
        );
    }

    #[test]
    fn excess_syn_is_answered_by_fin() {
        let mut server = Mux::server();
        let mut syns = Vec::new();
        for i in 0..=DEFAULT_MAX_STREAMS as u32 {
            Frame::syn(3 + 2 * i).encode(&mut syns);
        }
        let events = server.receive(&syns).unwrap();
        assert_eq!(events.len(), DEFAULT_MAX_STREAMS);
        assert_eq!(server.open_streams(), DEFAULT_MAX_STREAMS);
        let refused = 3 + 2 * DEFAULT_MAX_STREAMS as u32;
        assert!(!server.is_open(refused));
        assert_eq!(server.take_output(), encoded(&Frame::fin(refused)));
        // Data for the refused stream is ignored.
        assert_eq!(
            server
                .receive(&encoded(&Frame::psh(refused, b"x".to_vec())))
                .unwrap(),
            []
        );
    }

    #[test]
    fn queued_frames_go_out_in_front_of_the_next_write() {
        let mut client = Mux::client();
        let id = client.open().unwrap();
        let mut expected = encoded(&Frame::syn(id));
        Frame::psh(id, b"hi".to_vec()).encode(&mut expected);
        assert_eq!(client.write(id, b"hi"), expected);
        assert!(client.write(id, b"").is_empty());
    }

    #[test]
    fn refusals_stop_queueing_at_the_bound() {
        let mut server = Mux::server().with_max_streams(0);
        let mut syns = Vec::new();
        for i in 0..20_000u32 {
            Frame::syn(3 + 2 * i).encode(&mut syns);
        }
        assert_eq!(server.receive(&syns).unwrap(), []);
        let queued = server.take_output();
        assert!(queued.len() <= MAX_PENDING_OUTPUT + HEADER_LEN);
        assert!(queued.len() >= MAX_PENDING_OUTPUT);
    }

    #[test]
    fn bad_version_is_an_error_not_a_panic() {
        let mut decoder = Decoder::new();
        decoder.push(&[2]);
        assert_eq!(decoder.next_frame(), Err(SmuxError::BadVersion(2)));
        let mut server = Mux::server();
        assert_eq!(
            server.receive(&hex("00 00 0000 03000000")),
            Err(SmuxError::BadVersion(0))
        );
    }

    #[test]
    fn bad_command_is_an_error_not_a_panic() {
        for cmd in [4u8, 5, 0x80, 0xff] {
            let mut decoder = Decoder::new();
            decoder.push(&[1, cmd]);
            assert_eq!(decoder.next_frame(), Err(SmuxError::BadCommand(cmd)));
        }
        // Version 2's window update (cmd 4) with its 8-byte body.
        let mut server = Mux::server();
        assert_eq!(
            server.receive(&hex("01 04 0800 03000000 0000000000000100")),
            Err(SmuxError::BadCommand(4))
        );
    }

    #[test]
    fn oversized_length_is_an_error() {
        let mut decoder = Decoder::new();
        decoder.push(&hex("01 02 0180 0300"));
        assert_eq!(
            decoder.next_frame(),
            Err(SmuxError::FrameTooLong(MAX_FRAME_DATA + 1))
        );
        // Exactly the maximum is fine.
        let frame = Frame::psh(3, vec![0u8; MAX_FRAME_DATA]);
        assert_eq!(decode_pieces([encoded(&frame).as_slice()]), [frame]);
    }

    #[test]
    fn errors_are_sticky_and_later_bytes_are_dropped() {
        let mut server = Mux::server();
        let mut bytes = encoded(&Frame::syn(3));
        bytes.extend(hex("07"));
        assert_eq!(server.receive(&bytes), Err(SmuxError::BadVersion(7)));
        assert_eq!(
            server.receive(&encoded(&Frame::psh(3, b"x".to_vec()))),
            Err(SmuxError::BadVersion(7))
        );
        assert_eq!(server.decoder.buffered(), 0);
    }

    #[test]
    fn errors_read_as_sentences() {
        assert_eq!(
            SmuxError::BadCommand(4).to_string(),
            "smux frame with unknown command 4"
        );
        assert_eq!(
            SmuxError::BadVersion(2).to_string(),
            "smux frame with version 2, expected 1"
        );
    }

    fn any_frame() -> impl Strategy<Value = Frame> {
        prop_oneof![
            any::<u32>().prop_map(Frame::syn),
            any::<u32>().prop_map(Frame::fin),
            Just(Frame::nop()),
            (any::<u32>(), proptest::collection::vec(any::<u8>(), 0..300))
                .prop_map(|(id, data)| Frame::psh(id, data)),
            (any::<u32>(), MAX_FRAME_DATA - 2..=MAX_FRAME_DATA)
                .prop_map(|(id, len)| Frame::psh(id, vec![0xa5; len])),
        ]
    }

    /// Cut `bytes` at the given points (taken modulo its length, in order).
    fn cut(bytes: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut from = 0;
        for p in points {
            pieces.push(bytes[from..p].to_vec());
            from = p;
        }
        pieces.push(bytes[from..].to_vec());
        pieces
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_never_panic_the_decoder(
            bytes in proptest::collection::vec(any::<u8>(), 0..2000),
            cuts in proptest::collection::vec(any::<usize>(), 0..20),
            valid_prefix in any::<bool>(),
        ) {
            let mut input = Vec::new();
            if valid_prefix {
                // Start with a well-formed header so the fuzz reaches lengths and bodies too.
                input.extend([1u8, 2]);
            }
            input.extend(bytes);
            let mut decoder = Decoder::new();
            let mut failed = None;
            for piece in cut(&input, &cuts) {
                decoder.push(&piece);
                loop {
                    match decoder.next_frame() {
                        Ok(Some(frame)) => {
                            prop_assert!(frame.data.len() <= MAX_FRAME_DATA);
                        }
                        Ok(None) => break,
                        Err(err) => {
                            if let Some(previous) = &failed {
                                prop_assert_eq!(previous, &err);
                            }
                            failed = Some(err);
                            break;
                        }
                    }
                }
                prop_assert!(decoder.buffered() < HEADER_LEN + MAX_FRAME_DATA);
            }
            let mut mux = Mux::server();
            for piece in cut(&input, &cuts) {
                if mux.receive(&piece).is_err() {
                    break;
                }
            }
        }

        #[test]
        fn any_sequence_of_frames_round_trips(
            frames in proptest::collection::vec(any_frame(), 0..30),
            cuts in proptest::collection::vec(any::<usize>(), 0..30),
        ) {
            let mut bytes = Vec::new();
            for frame in &frames {
                frame.encode(&mut bytes);
            }
            let pieces = cut(&bytes, &cuts);
            let decoded = decode_pieces(pieces.iter().map(Vec::as_slice));
            prop_assert_eq!(decoded, frames);
        }

        #[test]
        fn writes_arrive_whole_and_in_order(
            writes in proptest::collection::vec(
                (0..3usize, proptest::collection::vec(any::<u8>(), 0..5000)),
                0..20,
            ),
            cuts in proptest::collection::vec(any::<usize>(), 0..30),
        ) {
            let mut client = Mux::client();
            let ids: Vec<u32> = (0..3).map(|_| client.open().unwrap()).collect();
            let mut wire = Vec::new();
            let mut sent: HashMap<u32, Vec<u8>> = HashMap::new();
            for (which, data) in &writes {
                wire.extend(client.write(ids[*which], data));
                sent.entry(ids[*which]).or_default().extend(data);
            }
            for id in &ids {
                wire.extend(client.close(*id));
            }
            let mut server = Mux::server();
            let mut got: HashMap<u32, Vec<u8>> = HashMap::new();
            let mut opened = Vec::new();
            let mut closed = Vec::new();
            for piece in cut(&wire, &cuts) {
                for event in server.receive(&piece).unwrap() {
                    match event {
                        Event::Opened(id) => opened.push(id),
                        Event::Data(id, data) => got.entry(id).or_default().extend(data),
                        Event::Closed(id) => closed.push(id),
                    }
                }
            }
            prop_assert_eq!(&opened, &ids);
            prop_assert_eq!(&closed, &ids);
            sent.retain(|_, v| !v.is_empty());
            prop_assert_eq!(got, sent);
        }
    }
}
