//! One AgentMessage: the unit every binary WebSocket frame of the data channel carries.
//!
//! The header is 120 bytes, big-endian: header length (always written as 116, the offset of
//! the payload length), the message type as 32 space-padded ASCII bytes, schema version,
//! creation time in milliseconds, sequence number, flags, the message id (a UUID whose two
//! 8-byte halves are stored swapped), the SHA-256 of the payload, the payload type and the
//! payload length; the payload follows. A frame that is too short, too long, names no type or
//! carries a payload whose digest does not match is refused with a [`FrameError`] (the caller
//! drops it with a debug line); nothing here panics on any input.

use std::fmt;

use ring::digest;
use serde::{Deserialize, Serialize};

/// Offset of the payload length, which is what the header-length field holds.
pub const HEADER_LENGTH: u32 = 116;
/// Where the payload starts.
pub const PAYLOAD_OFFSET: usize = 120;
/// Largest payload accepted or produced. Agents send terminal output in chunks of a few KiB;
/// anything near this bound is a broken or hostile peer.
pub const MAX_PAYLOAD: usize = 256 * 1024;
/// Largest frame accepted.
pub const MAX_FRAME: usize = PAYLOAD_OFFSET + MAX_PAYLOAD;

/// Flags of an acknowledgement (SYN | FIN, as the official client writes them).
pub const ACK_FLAGS: u64 = 3;

/// What a message is for. Unknown types are kept by name so they can be logged and ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageType {
    InputStreamData,
    OutputStreamData,
    Acknowledge,
    ChannelClosed,
    StartPublication,
    PausePublication,
    Other(String),
}

impl MessageType {
    pub fn as_str(&self) -> &str {
        match self {
            MessageType::InputStreamData => "input_stream_data",
            MessageType::OutputStreamData => "output_stream_data",
            MessageType::Acknowledge => "acknowledge",
            MessageType::ChannelClosed => "channel_closed",
            MessageType::StartPublication => "start_publication",
            MessageType::PausePublication => "pause_publication",
            MessageType::Other(s) => s,
        }
    }

    pub fn parse(s: &str) -> MessageType {
        match s {
            "input_stream_data" => MessageType::InputStreamData,
            "output_stream_data" => MessageType::OutputStreamData,
            "acknowledge" => MessageType::Acknowledge,
            "channel_closed" => MessageType::ChannelClosed,
            "start_publication" => MessageType::StartPublication,
            "pause_publication" => MessageType::PausePublication,
            other => MessageType::Other(other.to_string()),
        }
    }

    /// Sequenced data (either direction): what acks, ordering and retransmission apply to.
    pub fn is_stream_data(&self) -> bool {
        matches!(
            self,
            MessageType::InputStreamData | MessageType::OutputStreamData
        )
    }
}

/// The payload's kind, a number on the wire. Unknown values are kept as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PayloadType(pub u32);

impl PayloadType {
    /// Acks and `channel_closed` carry no payload type.
    pub const NONE: PayloadType = PayloadType(0);
    /// Raw bytes both ways: keystrokes, terminal output, forwarded TCP bytes.
    pub const OUTPUT: PayloadType = PayloadType(1);
    pub const ERROR: PayloadType = PayloadType(2);
    /// Terminal size, JSON `{"cols":N,"rows":N}`.
    pub const SIZE: PayloadType = PayloadType(3);
    pub const PARAMETER: PayloadType = PayloadType(4);
    pub const HANDSHAKE_REQUEST: PayloadType = PayloadType(5);
    pub const HANDSHAKE_RESPONSE: PayloadType = PayloadType(6);
    pub const HANDSHAKE_COMPLETE: PayloadType = PayloadType(7);
    pub const ENC_CHALLENGE_REQUEST: PayloadType = PayloadType(8);
    pub const ENC_CHALLENGE_RESPONSE: PayloadType = PayloadType(9);
    /// A 4-byte big-endian [`Flag`].
    pub const FLAG: PayloadType = PayloadType(10);
    pub const STDERR: PayloadType = PayloadType(11);
    /// `EXIT_CODE: <n>`, sent by agents only in non-interactive command sessions.
    pub const EXIT_CODE: PayloadType = PayloadType(12);

    pub fn is_handshake(self) -> bool {
        matches!(self.0, 5 | 7 | 8)
    }
}

/// A Flag payload's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// The local connection of a basic port forward closed.
    DisconnectToPort,
    /// The client ends the session.
    TerminateSession,
    /// The agent could not connect to the destination port.
    ConnectToPortError,
}

impl Flag {
    pub fn to_payload(self) -> Vec<u8> {
        let n: u32 = match self {
            Flag::DisconnectToPort => 1,
            Flag::TerminateSession => 2,
            Flag::ConnectToPortError => 3,
        };
        n.to_be_bytes().to_vec()
    }

    pub fn from_payload(p: &[u8]) -> Option<Flag> {
        let bytes: [u8; 4] = p.try_into().ok()?;
        match u32::from_be_bytes(bytes) {
            1 => Some(Flag::DisconnectToPort),
            2 => Some(Flag::TerminateSession),
            3 => Some(Flag::ConnectToPortError),
            _ => None,
        }
    }
}

/// A message id: a UUID, in its usual byte order here (the wire swaps the halves).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageId(pub [u8; 16]);

impl MessageId {
    pub fn random() -> MessageId {
        let mut bytes = [0u8; 16];
        fill_random(&mut bytes);
        MessageId(*uuid::Builder::from_random_bytes(bytes).as_uuid().as_bytes())
    }

    pub fn parse(s: &str) -> Option<MessageId> {
        uuid::Uuid::parse_str(s)
            .ok()
            .map(|u| MessageId(*u.as_bytes()))
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        uuid::Uuid::from_bytes(self.0).hyphenated().fmt(f)
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A random UUID string (request and client ids).
pub fn random_uuid() -> String {
    MessageId::random().to_string()
}

/// Fill `buf` from the system's secure random source. Should that ever fail, the buffer is
/// filled from the clock instead: ids only need to be unique, and key material never comes
/// from here.
pub fn fill_random(buf: &mut [u8]) {
    use ring::rand::SecureRandom;
    if ring::rand::SystemRandom::new().fill(buf).is_err() {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (seed >> ((i % 16) * 8)) as u8 ^ (i as u8).wrapping_mul(151);
        }
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(1)
}

#[derive(Clone, PartialEq, Eq)]
pub struct AgentMessage {
    pub message_type: MessageType,
    pub schema_version: u32,
    pub created_ms: u64,
    pub sequence: i64,
    pub flags: u64,
    pub id: MessageId,
    pub payload_type: PayloadType,
    pub payload: Vec<u8>,
}

impl fmt::Debug for AgentMessage {
    // Payloads are terminal bytes or key material in transit: only their size is printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AgentMessage")
            .field("type", &self.message_type.as_str())
            .field("seq", &self.sequence)
            .field("flags", &self.flags)
            .field("id", &self.id)
            .field("payload_type", &self.payload_type.0)
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

/// Why a frame was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    TooShort(usize),
    TooLarge(usize),
    BadHeaderLength(u32),
    NoMessageType,
    NoCreatedDate,
    DigestMismatch,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooShort(n) => write!(f, "frame of {n} bytes is shorter than a header"),
            FrameError::TooLarge(n) => {
                write!(f, "frame of {n} bytes is over the {MAX_FRAME}-byte limit")
            }
            FrameError::BadHeaderLength(n) => write!(f, "header length {n} does not fit the frame"),
            FrameError::NoMessageType => write!(f, "no message type"),
            FrameError::NoCreatedDate => write!(f, "no creation date"),
            FrameError::DigestMismatch => write!(f, "payload digest does not match"),
        }
    }
}

impl std::error::Error for FrameError {}

impl AgentMessage {
    /// A sequenced message (`input_stream_data` from a client, `output_stream_data` from an
    /// agent) with a fresh id, created now, flags 0.
    pub fn stream(
        message_type: MessageType,
        sequence: i64,
        payload_type: PayloadType,
        payload: Vec<u8>,
    ) -> AgentMessage {
        AgentMessage {
            message_type,
            schema_version: 1,
            created_ms: now_ms(),
            sequence,
            flags: 0,
            id: MessageId::random(),
            payload_type,
            payload,
        }
    }

    /// The acknowledgement of `of`: not sequenced (sequence 0, flags 3), its JSON names the
    /// acked message's type, id and sequence number.
    pub fn ack_for(of: &AgentMessage) -> AgentMessage {
        let content = AcknowledgeContent {
            message_type: of.message_type.as_str().to_string(),
            message_id: of.id.to_string(),
            sequence_number: of.sequence,
            is_sequential_message: true,
        };
        AgentMessage {
            message_type: MessageType::Acknowledge,
            schema_version: 1,
            created_ms: now_ms(),
            sequence: 0,
            flags: ACK_FLAGS,
            id: MessageId::random(),
            payload_type: PayloadType::NONE,
            payload: serde_json::to_vec(&content).unwrap_or_default(),
        }
    }

    /// A `channel_closed` message (what the gateway sends to end a session).
    pub fn channel_closed(session_id: &str, output: &str) -> AgentMessage {
        let id = MessageId::random();
        let created = now_ms();
        let content = ChannelClosed {
            message_id: id.to_string(),
            created_date: created.to_string(),
            destination_id: String::new(),
            session_id: session_id.to_string(),
            message_type: "channel_closed".into(),
            schema_version: 1,
            output: output.to_string(),
        };
        AgentMessage {
            message_type: MessageType::ChannelClosed,
            schema_version: 1,
            created_ms: created,
            sequence: 0,
            flags: 0,
            id,
            payload_type: PayloadType::NONE,
            payload: serde_json::to_vec(&content).unwrap_or_default(),
        }
    }

    /// The wire form.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(PAYLOAD_OFFSET + self.payload.len());
        out.extend_from_slice(&HEADER_LENGTH.to_be_bytes());
        let mut name = [b' '; 32];
        for (slot, b) in name.iter_mut().zip(self.message_type.as_str().bytes()) {
            *slot = b;
        }
        out.extend_from_slice(&name);
        out.extend_from_slice(&self.schema_version.to_be_bytes());
        out.extend_from_slice(&self.created_ms.to_be_bytes());
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.flags.to_be_bytes());
        out.extend_from_slice(&self.id.0[8..16]);
        out.extend_from_slice(&self.id.0[0..8]);
        out.extend_from_slice(digest::digest(&digest::SHA256, &self.payload).as_ref());
        out.extend_from_slice(&self.payload_type.0.to_be_bytes());
        out.extend_from_slice(&(self.payload.len() as u32).to_be_bytes());
        out.extend_from_slice(&self.payload);
        out
    }

    /// Parse and validate one frame.
    pub fn decode(frame: &[u8]) -> Result<AgentMessage, FrameError> {
        if frame.len() < PAYLOAD_OFFSET {
            return Err(FrameError::TooShort(frame.len()));
        }
        if frame.len() > MAX_FRAME {
            return Err(FrameError::TooLarge(frame.len()));
        }
        let header_length = be_u32(frame, 0);
        // The payload starts after the payload-length field the header length points at; the
        // fixed fields are read at their fixed offsets whatever it says.
        let start = header_length as usize + 4;
        if (header_length as usize) < HEADER_LENGTH as usize || start > frame.len() {
            return Err(FrameError::BadHeaderLength(header_length));
        }
        let name = frame.get(4..36).unwrap_or_default();
        let name: String = name
            .iter()
            .filter(|b| **b != 0)
            .map(|b| if b.is_ascii() { *b as char } else { '?' })
            .collect();
        let message_type = MessageType::parse(name.trim());
        let mut id = [0u8; 16];
        id[8..16].copy_from_slice(frame.get(64..72).unwrap_or(&[0; 8]));
        id[0..8].copy_from_slice(frame.get(72..80).unwrap_or(&[0; 8]));
        let payload = frame.get(start..).unwrap_or_default().to_vec();
        let msg = AgentMessage {
            schema_version: be_u32(frame, 36),
            created_ms: be_u64(frame, 40),
            sequence: be_u64(frame, 48) as i64,
            flags: be_u64(frame, 56),
            id: MessageId(id),
            payload_type: PayloadType(be_u32(frame, 112)),
            payload,
            message_type,
        };
        // Publication notices are not validated (peers send them bare).
        if matches!(
            msg.message_type,
            MessageType::StartPublication | MessageType::PausePublication
        ) {
            return Ok(msg);
        }
        if msg.message_type.as_str().is_empty() {
            return Err(FrameError::NoMessageType);
        }
        if msg.created_ms == 0 {
            return Err(FrameError::NoCreatedDate);
        }
        if !msg.payload.is_empty() {
            let sum = digest::digest(&digest::SHA256, &msg.payload);
            if frame.get(80..112) != Some(sum.as_ref()) {
                return Err(FrameError::DigestMismatch);
            }
        }
        Ok(msg)
    }
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map(u32::from_be_bytes)
        .unwrap_or(0)
}

fn be_u64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map(u64::from_be_bytes)
        .unwrap_or(0)
}

/// The JSON payload of an `acknowledge` message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcknowledgeContent {
    #[serde(rename = "AcknowledgedMessageType")]
    pub message_type: String,
    #[serde(rename = "AcknowledgedMessageId")]
    pub message_id: String,
    #[serde(rename = "AcknowledgedMessageSequenceNumber")]
    pub sequence_number: i64,
    #[serde(rename = "IsSequentialMessage", default)]
    pub is_sequential_message: bool,
}

/// The JSON payload of a `channel_closed` message; `Output` is shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct ChannelClosed {
    #[serde(rename = "MessageId")]
    pub message_id: String,
    #[serde(rename = "CreatedDate")]
    pub created_date: String,
    #[serde(rename = "DestinationId")]
    pub destination_id: String,
    #[serde(rename = "SessionId")]
    pub session_id: String,
    #[serde(rename = "MessageType")]
    pub message_type: String,
    #[serde(rename = "SchemaVersion")]
    pub schema_version: i64,
    #[serde(rename = "Output")]
    pub output: String,
}

/// The text frame sent right after the WebSocket upgrade: it carries the session token.
#[derive(Clone, Serialize)]
pub struct OpenDataChannel<'a> {
    #[serde(rename = "MessageSchemaVersion")]
    pub schema_version: &'a str,
    #[serde(rename = "RequestId")]
    pub request_id: String,
    #[serde(rename = "TokenValue")]
    pub token: &'a str,
    #[serde(rename = "ClientId")]
    pub client_id: &'a str,
    #[serde(rename = "ClientVersion")]
    pub client_version: &'a str,
}

impl fmt::Debug for OpenDataChannel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenDataChannel")
            .field("request_id", &self.request_id)
            .field("client_id", &self.client_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// What the server side reads from the OpenDataChannel frame.
#[derive(Clone, Deserialize)]
pub struct OpenDataChannelRequest {
    #[serde(rename = "MessageSchemaVersion", default)]
    pub schema_version: String,
    #[serde(rename = "TokenValue", default)]
    pub token: String,
    #[serde(rename = "ClientId", default)]
    pub client_id: String,
    #[serde(rename = "ClientVersion", default)]
    pub client_version: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> AgentMessage {
        AgentMessage {
            message_type: MessageType::OutputStreamData,
            schema_version: 1,
            created_ms: 1_700_000_000_123,
            sequence: 7,
            flags: 0,
            id: MessageId::parse("00112233-4455-6677-8899-aabbccddeeff")
                .unwrap_or(MessageId([0; 16])),
            payload_type: PayloadType::OUTPUT,
            payload: b"hello".to_vec(),
        }
    }

    #[test]
    fn the_header_is_laid_out_as_the_protocol_says() {
        let f = sample().encode();
        assert_eq!(f.len(), 125);
        assert_eq!(&f[0..4], &116u32.to_be_bytes());
        assert_eq!(&f[4..22], b"output_stream_data");
        assert!(f[22..36].iter().all(|b| *b == b' '));
        assert_eq!(&f[36..40], &1u32.to_be_bytes());
        assert_eq!(&f[40..48], &1_700_000_000_123u64.to_be_bytes());
        assert_eq!(&f[48..56], &7i64.to_be_bytes());
        assert_eq!(&f[56..64], &0u64.to_be_bytes());
        // the UUID's second half first
        assert_eq!(
            &f[64..72],
            &[0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]
        );
        assert_eq!(
            &f[72..80],
            &[0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77]
        );
        assert_eq!(
            &f[80..112],
            digest::digest(&digest::SHA256, b"hello").as_ref()
        );
        assert_eq!(&f[112..116], &1u32.to_be_bytes());
        assert_eq!(&f[116..120], &5u32.to_be_bytes());
        assert_eq!(&f[120..], b"hello");
    }

    #[test]
    fn a_frame_round_trips_and_its_id_prints_as_the_uuid() {
        let m = sample();
        let back = AgentMessage::decode(&m.encode());
        assert_eq!(back.as_ref(), Ok(&m));
        assert_eq!(m.id.to_string(), "00112233-4455-6677-8899-aabbccddeeff");
    }

    #[test]
    fn a_corrupted_payload_or_header_is_refused() {
        let mut f = sample().encode();
        f[121] ^= 1;
        assert_eq!(AgentMessage::decode(&f), Err(FrameError::DigestMismatch));
        let mut f = sample().encode();
        f[90] ^= 1;
        assert_eq!(AgentMessage::decode(&f), Err(FrameError::DigestMismatch));
        assert!(matches!(
            AgentMessage::decode(&f[..100]),
            Err(FrameError::TooShort(100))
        ));
        let mut f = sample().encode();
        f[0..4].copy_from_slice(&10_000u32.to_be_bytes());
        assert!(matches!(
            AgentMessage::decode(&f),
            Err(FrameError::BadHeaderLength(10_000))
        ));
        let mut f = sample().encode();
        f[40..48].copy_from_slice(&[0; 8]);
        assert_eq!(AgentMessage::decode(&f), Err(FrameError::NoCreatedDate));
        let mut f = sample().encode();
        f[4..36].copy_from_slice(&[b' '; 32]);
        assert_eq!(AgentMessage::decode(&f), Err(FrameError::NoMessageType));
        let big = vec![0u8; MAX_FRAME + 1];
        assert!(matches!(
            AgentMessage::decode(&big),
            Err(FrameError::TooLarge(_))
        ));
    }

    #[test]
    fn an_ack_names_the_acked_message_and_is_not_sequenced() {
        let m = sample();
        let ack = AgentMessage::ack_for(&m);
        assert_eq!(ack.message_type, MessageType::Acknowledge);
        assert_eq!((ack.sequence, ack.flags), (0, 3));
        let c: AcknowledgeContent =
            serde_json::from_slice(&ack.payload).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.message_type, "output_stream_data");
        assert_eq!(c.message_id, "00112233-4455-6677-8899-aabbccddeeff");
        assert_eq!(c.sequence_number, 7);
        let text = String::from_utf8_lossy(&ack.payload);
        assert!(
            text.contains("\"AcknowledgedMessageSequenceNumber\":7"),
            "{text}"
        );
        assert!(text.contains("\"IsSequentialMessage\":true"), "{text}");
        assert_eq!(AgentMessage::decode(&ack.encode()), Ok(ack));
    }

    #[test]
    fn channel_closed_carries_its_output_and_the_session() {
        let m = AgentMessage::channel_closed("sess-1", "Exiting session with sessionId: sess-1.");
        let back = AgentMessage::decode(&m.encode()).unwrap_or_else(|e| panic!("{e}"));
        let c: ChannelClosed =
            serde_json::from_slice(&back.payload).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.session_id, "sess-1");
        assert_eq!(c.output, "Exiting session with sessionId: sess-1.");
        assert_eq!(c.schema_version, 1);
    }

    #[test]
    fn flags_are_four_big_endian_bytes() {
        assert_eq!(Flag::DisconnectToPort.to_payload(), vec![0, 0, 0, 1]);
        assert_eq!(Flag::TerminateSession.to_payload(), vec![0, 0, 0, 2]);
        assert_eq!(
            Flag::from_payload(&[0, 0, 0, 3]),
            Some(Flag::ConnectToPortError)
        );
        assert_eq!(Flag::from_payload(&[0, 0, 3]), None);
        assert_eq!(Flag::from_payload(&[0, 0, 0, 9]), None);
    }

    #[test]
    fn publication_notices_are_accepted_bare_and_unknown_types_kept_by_name() {
        let mut m = sample();
        m.message_type = MessageType::StartPublication;
        m.created_ms = 0;
        let mut f = m.encode();
        f[80..112].copy_from_slice(&[0; 32]);
        assert!(AgentMessage::decode(&f).is_ok());
        let mut m = sample();
        m.message_type = MessageType::Other("agent_job".into());
        let back = AgentMessage::decode(&m.encode()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back.message_type.as_str(), "agent_job");
    }

    #[test]
    fn debug_never_prints_a_payload_or_a_token() {
        let mut m = sample();
        m.payload = b"SECRET-TOKEN".to_vec();
        assert!(!format!("{m:?}").contains("SECRET"));
        let open = OpenDataChannel {
            schema_version: "1.0",
            request_id: random_uuid(),
            token: "SECRET-TOKEN",
            client_id: "c",
            client_version: "1",
        };
        assert!(!format!("{open:?}").contains("SECRET"));
        let json = serde_json::to_string(&open).unwrap_or_default();
        assert!(json.contains("\"TokenValue\":\"SECRET-TOKEN\""), "{json}");
        assert!(json.contains("\"MessageSchemaVersion\":\"1.0\""), "{json}");
    }

    #[test]
    fn random_ids_are_version_4_and_differ() {
        let a = MessageId::random();
        let b = MessageId::random();
        assert_ne!(a, b);
        assert_eq!(uuid::Uuid::from_bytes(a.0).get_version_num(), 4);
    }

    proptest! {
        #[test]
        fn any_bytes_decode_or_fail_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = AgentMessage::decode(&bytes);
        }

        #[test]
        fn any_message_round_trips(
            seq in any::<i64>(), flags in any::<u64>(), pt in any::<u32>(),
            payload in proptest::collection::vec(any::<u8>(), 0..300), created in 1u64..u64::MAX,
        ) {
            let m = AgentMessage {
                message_type: MessageType::InputStreamData,
                schema_version: 1,
                created_ms: created,
                sequence: seq,
                flags,
                id: MessageId::random(),
                payload_type: PayloadType(pt),
                payload,
            };
            prop_assert_eq!(AgentMessage::decode(&m.encode()), Ok(m));
        }

        #[test]
        fn a_flipped_payload_bit_is_always_caught(
            payload in proptest::collection::vec(any::<u8>(), 1..200), at in any::<usize>(), bit in 0u8..8,
        ) {
            let m = AgentMessage::stream(MessageType::OutputStreamData, 1, PayloadType::OUTPUT, payload);
            let mut f = m.encode();
            let i = PAYLOAD_OFFSET + at % m.payload.len();
            f[i] ^= 1 << bit;
            prop_assert_eq!(AgentMessage::decode(&f), Err(FrameError::DigestMismatch));
        }
    }
}
