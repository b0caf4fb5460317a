//! The Session Manager data channel, spoken by berth itself (facts from the protocol notes in
//! the shared docs, checked against the official plugin's public source; no code carried over).
//!
//! - [`message`]: the AgentMessage frame (120-byte big-endian header, SHA-256 payload digest,
//!   the message id's swapped UUID halves), payload types, acks and `channel_closed`.
//! - [`sequence`]: acks, in-order delivery with a bounded out-of-order buffer, duplicates
//!   ignored, retransmission of our unacked messages with an adaptive, capped timeout.
//! - [`handshake`]: the handshake's JSON (session type, KMS encryption, completion).
//! - [`crypto`]: AES-256-GCM with the two halves of a KMS data key, and the challenge.
//! - [`smux`]: smux v1 framing for multiplexed port forwarding.
//!
//! Shared by the native client ([`super::native`]) and the sandbox's gateway.

pub mod crypto;
pub mod handshake;
pub mod message;
pub mod sequence;
pub mod smux;
