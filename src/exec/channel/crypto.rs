//! The encryption of a KMS-encrypted session: AES-256-GCM with the two halves of a 64-byte KMS
//! data key, and the agent's challenge.
//!
//! Bytes 0..32 of the data key protect what the agent sends, bytes 32..64 what the client
//! sends; each side holds both and uses them the other way round. A message on the wire is a
//! fresh random 12-byte nonce, the ciphertext and the 16-byte tag, with no additional data.
//!
//! The raw key halves are kept in zeroising buffers and cleared on drop. ring's expanded key
//! schedule is built for one call and not kept, so no long-lived copy of it exists either
//! (ring itself does not clear it; the lifetime is what is bounded).

use std::fmt;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

/// Length of the KMS data key a session is encrypted with (`NumberOfBytes` 64).
pub const DATA_KEY_LEN: usize = 64;
/// Length of one direction's AES-256 key.
const KEY_LEN: usize = 32;
/// GCM's authentication tag, appended to the ciphertext.
pub const TAG_LEN: usize = 16;
/// The shortest message that can be opened: a nonce and a tag around nothing.
pub const MIN_SEALED_LEN: usize = NONCE_LEN + TAG_LEN;

/// Why sealing or opening failed. Carries no key or plaintext bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CryptoError {
    /// The data key was not 64 bytes.
    KeyLength(usize),
    /// The sealed message is shorter than a nonce and a tag.
    TooShort(usize),
    /// The tag did not verify: a different key, a different context, or altered bytes.
    Rejected,
    /// The system's random source failed, so no nonce could be drawn.
    Random,
    /// The cipher refused the input (too long for GCM).
    Seal,
}

impl fmt::Display for CryptoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CryptoError::KeyLength(n) => {
                write!(f, "the session data key has {n} bytes, not {DATA_KEY_LEN}")
            }
            CryptoError::TooShort(n) => write!(
                f,
                "an encrypted message of {n} bytes is shorter than its nonce and tag ({MIN_SEALED_LEN})"
            ),
            CryptoError::Rejected => {
                f.write_str("an encrypted message failed authentication (wrong key or altered)")
            }
            CryptoError::Random => f.write_str("the system random source failed"),
            CryptoError::Seal => f.write_str("the message could not be encrypted"),
        }
    }
}

impl std::error::Error for CryptoError {}

/// Which end of the session these keys belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// berth (the plugin's side): decrypts with bytes 0..32, encrypts with 32..64.
    Client,
    /// The agent (the sandbox's gateway): the halves swapped.
    Agent,
}

/// One side's keys of an encrypted session. Cleared from memory on drop; `Debug` shows no key
/// bytes.
pub struct SessionKeys {
    role: Role,
    decrypt: Zeroizing<[u8; KEY_LEN]>,
    encrypt: Zeroizing<[u8; KEY_LEN]>,
}

impl fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionKeys")
            .field("role", &self.role)
            .field("keys", &"<redacted>")
            .finish()
    }
}

impl SessionKeys {
    /// The client's keys from the KMS data key's plaintext.
    pub fn client(data_key: &[u8]) -> Result<Self, CryptoError> {
        Self::new(Role::Client, data_key)
    }

    /// The agent's keys from the same plaintext: what the client encrypts, it decrypts.
    pub fn agent(data_key: &[u8]) -> Result<Self, CryptoError> {
        Self::new(Role::Agent, data_key)
    }

    fn new(role: Role, data_key: &[u8]) -> Result<Self, CryptoError> {
        if data_key.len() != DATA_KEY_LEN {
            return Err(CryptoError::KeyLength(data_key.len()));
        }
        let (agent_to_client, client_to_agent) = data_key.split_at(KEY_LEN);
        let (decrypt, encrypt) = match role {
            Role::Client => (agent_to_client, client_to_agent),
            Role::Agent => (client_to_agent, agent_to_client),
        };
        let mut keys = SessionKeys {
            role,
            decrypt: Zeroizing::new([0; KEY_LEN]),
            encrypt: Zeroizing::new([0; KEY_LEN]),
        };
        keys.decrypt.copy_from_slice(decrypt);
        keys.encrypt.copy_from_slice(encrypt);
        Ok(keys)
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Encrypt a payload for the other side: nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        seal_with(&aes_key(&self.encrypt)?, &[], plaintext)
    }

    /// Decrypt a payload from the other side. Anything short, altered or sealed with another
    /// key is an error.
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, CryptoError> {
        open_with(&aes_key(&self.decrypt)?, &[], sealed)
    }

    /// The answer to the agent's encryption challenge: the challenge opened with the decrypt
    /// key and sealed again with the encrypt key.
    pub fn answer_challenge(&self, challenge: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let clear = Zeroizing::new(self.open(challenge)?);
        self.seal(&clear)
    }
}

fn aes_key(bytes: &[u8; KEY_LEN]) -> Result<LessSafeKey, CryptoError> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| CryptoError::KeyLength(bytes.len()))
}

/// AES-256-GCM with a fresh random nonce and `aad`: nonce ‖ ciphertext ‖ tag. Shared with the
/// sandbox's KMS, whose ciphertext blobs use the same layout.
pub(crate) fn seal_with(
    key: &LessSafeKey,
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| CryptoError::Random)?;
    let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + TAG_LEN);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[NONCE_LEN..],
        )
        .map_err(|_| CryptoError::Seal)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// The inverse of [`seal_with`].
pub(crate) fn open_with(
    key: &LessSafeKey,
    aad: &[u8],
    sealed: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if sealed.len() < MIN_SEALED_LEN {
        return Err(CryptoError::TooShort(sealed.len()));
    }
    let (nonce, body) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Rejected)?;
    let mut buf = body.to_vec();
    let len = key
        .open_in_place(nonce, Aad::from(aad), &mut buf)
        .map_err(|_| CryptoError::Rejected)?
        .len();
    buf.truncate(len);
    Ok(buf)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn data_key() -> Vec<u8> {
        (0..64u8)
            .map(|i| i.wrapping_mul(37).wrapping_add(11))
            .collect()
    }

    #[test]
    fn what_the_client_seals_the_agent_opens() {
        let client = SessionKeys::client(&data_key()).unwrap();
        let agent = SessionKeys::agent(&data_key()).unwrap();
        let sealed = client.seal(b"ls -la\n").unwrap();
        assert_eq!(sealed.len(), NONCE_LEN + 7 + TAG_LEN);
        assert_eq!(agent.open(&sealed).unwrap(), b"ls -la\n");
        // the client cannot open its own message: that direction is the other key
        assert_eq!(client.open(&sealed), Err(CryptoError::Rejected));
    }

    #[test]
    fn what_the_agent_seals_the_client_opens() {
        let client = SessionKeys::client(&data_key()).unwrap();
        let agent = SessionKeys::agent(&data_key()).unwrap();
        let sealed = agent.seal(b"total 0\r\n").unwrap();
        assert_eq!(client.open(&sealed).unwrap(), b"total 0\r\n");
        let empty = agent.seal(b"").unwrap();
        assert_eq!(empty.len(), MIN_SEALED_LEN);
        assert_eq!(client.open(&empty).unwrap(), b"");
    }

    #[test]
    fn the_client_decrypts_with_the_first_half() {
        // Sealed independently with bytes 0..32: the key split is the documented one.
        let key = data_key();
        let first = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key[..32]).unwrap());
        let sealed = seal_with(&first, &[], b"from the agent").unwrap();
        let client = SessionKeys::client(&key).unwrap();
        assert_eq!(client.open(&sealed).unwrap(), b"from the agent");
        let second = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key[32..]).unwrap());
        let to_agent = client.seal(b"to the agent").unwrap();
        assert_eq!(open_with(&second, &[], &to_agent).unwrap(), b"to the agent");
    }

    #[test]
    fn nonces_are_fresh() {
        let client = SessionKeys::client(&data_key()).unwrap();
        let a = client.seal(b"same").unwrap();
        let b = client.seal(b"same").unwrap();
        assert_ne!(a[..NONCE_LEN], b[..NONCE_LEN]);
        assert_ne!(a, b);
    }

    #[test]
    fn a_wrong_key_fails() {
        let agent = SessionKeys::agent(&data_key()).unwrap();
        let mut other = data_key();
        other[40] ^= 1;
        let stranger = SessionKeys::client(&other).unwrap();
        let sealed = stranger.seal(b"hello").unwrap();
        assert_eq!(agent.open(&sealed), Err(CryptoError::Rejected));
    }

    #[test]
    fn every_flipped_byte_fails() {
        let client = SessionKeys::client(&data_key()).unwrap();
        let agent = SessionKeys::agent(&data_key()).unwrap();
        let sealed = client.seal(b"exit\n").unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x80;
            assert_eq!(agent.open(&bad), Err(CryptoError::Rejected), "byte {i}");
        }
    }

    #[test]
    fn short_input_fails_without_panicking() {
        let agent = SessionKeys::agent(&data_key()).unwrap();
        for n in 0..MIN_SEALED_LEN {
            assert_eq!(
                agent.open(&vec![0u8; n]),
                Err(CryptoError::TooShort(n)),
                "{n}"
            );
        }
        assert_eq!(
            agent.open(&[0u8; MIN_SEALED_LEN]),
            Err(CryptoError::Rejected)
        );
        assert!(agent.answer_challenge(&[1, 2, 3]).is_err());
    }

    #[test]
    fn the_challenge_round_trip() {
        let client = SessionKeys::client(&data_key()).unwrap();
        let agent = SessionKeys::agent(&data_key()).unwrap();
        let secret = b"0123456789abcdef0123456789abcdef".to_vec();
        let challenge = agent.seal(&secret).unwrap();
        let answer = client.answer_challenge(&challenge).unwrap();
        assert_ne!(answer, challenge, "re-sealed with the other key and nonce");
        assert_eq!(agent.open(&answer).unwrap(), secret);
        // a challenge sealed with the wrong direction is refused
        let wrong = client.seal(&secret).unwrap();
        assert_eq!(client.answer_challenge(&wrong), Err(CryptoError::Rejected));
    }

    #[test]
    fn only_64_byte_keys_are_accepted() {
        for n in [0, 32, 63, 65, 128] {
            let key = vec![7u8; n];
            assert_eq!(
                SessionKeys::client(&key).unwrap_err(),
                CryptoError::KeyLength(n)
            );
            assert_eq!(
                SessionKeys::agent(&key).unwrap_err(),
                CryptoError::KeyLength(n)
            );
        }
        assert!(
            CryptoError::KeyLength(63)
                .to_string()
                .contains("63 bytes, not 64")
        );
    }

    #[test]
    fn debug_shows_no_key_material() {
        let key = vec![0xAB; 64];
        let client = SessionKeys::client(&key).unwrap();
        let text = format!("{client:?} {client:#?}");
        assert!(
            text.contains("Client") && text.contains("redacted"),
            "{text}"
        );
        for needle in ["171", "ab", "AB", "0xab"] {
            assert!(!text.contains(needle), "{needle} in {text}");
        }
        let agent = format!("{:?}", SessionKeys::agent(&data_key()).unwrap());
        assert!(!agent.contains('['), "{agent}");
    }
}
