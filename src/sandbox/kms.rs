//! KMS (`TrentService`, JSON 1.1): GenerateDataKey and Decrypt, enough for KMS-encrypted exec
//! sessions. Each account has one customer key, [`EXEC_KEY_ALIAS`], addressable by key id,
//! key ARN, alias name or alias ARN.
//!
//! The ciphertext blob really binds the plaintext to the key and the encryption context, so a
//! client that sends the wrong context or a different key's blob fails as it would against
//! KMS. The key's secret is derived from the sandbox seed (HKDF-SHA256 over the key ARN): the
//! same seed decrypts the same blobs. Blob layout: `bkms`, a version byte, the key id's length
//! and the key id (the header), then nonce ‖ AES-256-GCM ciphertext ‖ tag, with the header and
//! the canonical encryption context (sorted JSON) as additional data. Data keys come from the
//! system's random source.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use ring::aead::{AES_256_GCM, LessSafeKey, UnboundKey};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use super::server::Shared;
use super::sim::Sim;
use super::wire::*;
use crate::exec::channel::crypto::{open_with, seal_with};

/// The alias of the key KMS-encrypted exec sessions use.
pub(crate) const EXEC_KEY_ALIAS: &str = "alias/berth-exec";
/// The key id behind [`EXEC_KEY_ALIAS`], the same in every sandbox account and region.
pub(crate) const EXEC_KEY_ID: &str = "0b5e11a5-4e7c-4d2b-9f3a-be47e0ec5e55";

const BLOB_MAGIC: &[u8; 4] = b"bkms";
const BLOB_VERSION: u8 = 1;
const SECRET_SALT: &[u8] = b"berth sandbox kms v1";
/// KMS's bounds on `NumberOfBytes`.
const MAX_DATA_KEY_BYTES: i64 = 1024;

/// What the keys of one sandbox depend on.
struct Keyring {
    seed: u64,
    region: String,
    account: String,
}

impl Keyring {
    fn of(sim: &Sim) -> Keyring {
        Keyring {
            seed: sim.seed,
            region: sim.region.clone(),
            account: sim.account.clone(),
        }
    }

    fn key_arn(&self, id: &str) -> String {
        format!("arn:aws:kms:{}:{}:key/{id}", self.region, self.account)
    }

    fn alias_arn(&self, alias: &str) -> String {
        format!("arn:aws:kms:{}:{}:{alias}", self.region, self.account)
    }

    /// The key id named by `key_id` (id, key ARN, alias name or alias ARN).
    fn resolve(&self, key_id: &str) -> Result<&'static str, ApiError> {
        let exec_arn = self.key_arn(EXEC_KEY_ID);
        if key_id == EXEC_KEY_ID || key_id == exec_arn {
            return Ok(EXEC_KEY_ID);
        }
        if key_id == EXEC_KEY_ALIAS || key_id == self.alias_arn(EXEC_KEY_ALIAS) {
            return Ok(EXEC_KEY_ID);
        }
        Err(if key_id.starts_with("alias/") {
            alias_not_found(&self.alias_arn(key_id))
        } else if key_id.starts_with("arn:") && key_id.contains(":alias/") {
            alias_not_found(key_id)
        } else if key_id.starts_with("arn:") {
            key_not_found(key_id)
        } else {
            key_not_found(&self.key_arn(key_id))
        })
    }

    /// The AES-256-GCM key of customer key `id`.
    fn secret(&self, id: &str) -> Result<LessSafeKey, ApiError> {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, SECRET_SALT).extract(&self.seed.to_be_bytes());
        let arn = self.key_arn(id);
        let info = [arn.as_bytes()];
        let okm = prk
            .expand(&info, &AES_256_GCM)
            .map_err(|_| internal("key derivation failed"))?;
        Ok(LessSafeKey::new(UnboundKey::from(okm)))
    }

    fn encrypt(
        &self,
        id: &str,
        plaintext: &[u8],
        context: &BTreeMap<String, String>,
    ) -> Result<Vec<u8>, ApiError> {
        let header = blob_header(id)?;
        let sealed = seal_with(
            &self.secret(id)?,
            &additional_data(&header, context),
            plaintext,
        )
        .map_err(|e| internal(&e.to_string()))?;
        let mut blob = header;
        blob.extend_from_slice(&sealed);
        Ok(blob)
    }

    /// The plaintext of `blob` and the key it was made with. Fails unless the blob was made by
    /// this sandbox's key under exactly `context` (and, when given, `expected` is that key).
    fn decrypt(
        &self,
        blob: &[u8],
        context: &BTreeMap<String, String>,
        expected: Option<&str>,
    ) -> Result<(&'static str, Zeroizing<Vec<u8>>), ApiError> {
        let (id, header_len) = parse_header(blob).ok_or_else(invalid_ciphertext)?;
        if expected.is_some_and(|e| e != id) {
            return Err(ApiError::new(
                "IncorrectKeyException",
                "The key ID in the request does not identify a KMS key that can perform this operation.",
            ));
        }
        let (header, sealed) = blob.split_at(header_len);
        let plaintext = open_with(&self.secret(id)?, &additional_data(header, context), sealed)
            .map_err(|_| invalid_ciphertext())?;
        Ok((id, Zeroizing::new(plaintext)))
    }
}

fn key_not_found(arn: &str) -> ApiError {
    ApiError::new("NotFoundException", format!("Key '{arn}' does not exist"))
}

fn alias_not_found(arn: &str) -> ApiError {
    ApiError::new("NotFoundException", format!("Alias {arn} is not found."))
}

fn invalid_ciphertext() -> ApiError {
    ApiError::new(
        "InvalidCiphertextException",
        "The ciphertext is not valid for this key, or the encryption context does not match the one it was encrypted with.",
    )
}

fn internal(what: &str) -> ApiError {
    ApiError {
        status: 500,
        code: "KMSInternalException".into(),
        message: format!("The sandbox's KMS failed: {what}."),
    }
}

/// AWS's wording for a missing required member.
fn missing(member: &str) -> ApiError {
    ApiError::new(
        "ValidationException",
        format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ),
    )
}

fn blob_header(id: &str) -> Result<Vec<u8>, ApiError> {
    let len = u8::try_from(id.len()).map_err(|_| internal("key id too long"))?;
    let mut header = Vec::with_capacity(6 + id.len());
    header.extend_from_slice(BLOB_MAGIC);
    header.push(BLOB_VERSION);
    header.push(len);
    header.extend_from_slice(id.as_bytes());
    Ok(header)
}

/// The key id in a blob's header (only this sandbox's key is accepted) and the header's length.
fn parse_header(blob: &[u8]) -> Option<(&'static str, usize)> {
    let rest = blob.strip_prefix(BLOB_MAGIC.as_slice())?;
    let (&version, rest) = rest.split_first()?;
    let (&len, rest) = rest.split_first()?;
    let id = rest.get(..usize::from(len))?;
    (version == BLOB_VERSION && id == EXEC_KEY_ID.as_bytes())
        .then_some((EXEC_KEY_ID, BLOB_MAGIC.len() + 2 + usize::from(len)))
}

/// The header, then the encryption context as JSON with its keys sorted.
fn additional_data(header: &[u8], context: &BTreeMap<String, String>) -> Vec<u8> {
    let mut aad = header.to_vec();
    aad.extend_from_slice(&serde_json::to_vec(context).unwrap_or_default());
    aad
}

fn context_arg(v: &Value) -> Result<BTreeMap<String, String>, ApiError> {
    let bad = || {
        ApiError::new(
            "SerializationException",
            "EncryptionContext must be a map of strings to strings",
        )
    };
    match v.get("EncryptionContext") {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect::<Option<BTreeMap<_, _>>>()
            .ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

fn blob_arg(v: &Value, key: &str, member: &str) -> Result<Vec<u8>, ApiError> {
    let text = str_arg(v, key).ok_or_else(|| missing(member))?;
    BASE64.decode(text).map_err(|_| {
        ApiError::new(
            "SerializationException",
            format!("{key} is not valid base64"),
        )
    })
}

/// Bytes of the data key asked for: `NumberOfBytes` (1–1024) or `KeySpec`, exactly one.
fn data_key_len(v: &Value) -> Result<usize, ApiError> {
    let bytes = int_arg(v, "NumberOfBytes")?;
    let spec = str_arg(v, "KeySpec");
    match (bytes, spec) {
        (Some(_), Some(_)) | (None, None) => Err(ApiError::new(
            "ValidationException",
            "Specify either KeySpec or NumberOfBytes, but not both.",
        )),
        (Some(n), None) if (1..=MAX_DATA_KEY_BYTES).contains(&n) => Ok(n as usize),
        (Some(n), None) => Err(ApiError::new(
            "ValidationException",
            format!(
                "1 validation error detected: Value '{n}' at 'numberOfBytes' failed to satisfy constraint: Member must have value between 1 and {MAX_DATA_KEY_BYTES}"
            ),
        )),
        (None, Some("AES_256")) => Ok(32),
        (None, Some("AES_128")) => Ok(16),
        (None, Some(other)) => Err(ApiError::new(
            "ValidationException",
            format!(
                "1 validation error detected: Value '{other}' at 'keySpec' failed to satisfy constraint: Member must satisfy enum value set: [AES_256, AES_128]"
            ),
        )),
    }
}

pub(crate) fn handle(shared: &Shared, op: &str, v: &Value) -> ApiResult {
    let keys = Keyring::of(&shared.sim());
    match op {
        "GenerateDataKey" => generate_data_key(&keys, v),
        "Decrypt" => decrypt(&keys, v),
        _ => Err(ApiError::unknown_operation(op)),
    }
}

fn generate_data_key(keys: &Keyring, v: &Value) -> ApiResult {
    let key_id = str_arg(v, "KeyId").ok_or_else(|| missing("keyId"))?;
    let id = keys.resolve(key_id)?;
    let len = data_key_len(v)?;
    let context = context_arg(v)?;
    let mut plaintext = Zeroizing::new(vec![0u8; len]);
    SystemRandom::new()
        .fill(&mut plaintext)
        .map_err(|_| internal("the random source failed"))?;
    let blob = keys.encrypt(id, &plaintext, &context)?;
    Ok(json!({
        "CiphertextBlob": BASE64.encode(blob),
        "Plaintext": BASE64.encode(&*plaintext),
        "KeyId": keys.key_arn(id),
    }))
}

fn decrypt(keys: &Keyring, v: &Value) -> ApiResult {
    let blob = blob_arg(v, "CiphertextBlob", "ciphertextBlob")?;
    let context = context_arg(v)?;
    let expected = match str_arg(v, "KeyId") {
        Some(k) => Some(keys.resolve(k)?),
        None => None,
    };
    let (id, plaintext) = keys.decrypt(&blob, &context, expected)?;
    Ok(json!({
        "Plaintext": BASE64.encode(&*plaintext),
        "KeyId": keys.key_arn(id),
        "EncryptionAlgorithm": "SYMMETRIC_DEFAULT",
    }))
}

/// The sandbox key's ARN in `sim`'s account and region (named in a cluster's exec
/// configuration).
pub(crate) fn exec_key_arn(sim: &Sim) -> String {
    Keyring::of(sim).key_arn(EXEC_KEY_ID)
}

/// What the agent does with the handshake's `KMSCipherTextKey`: KMS Decrypt under the
/// session's encryption context. Not counted as an API request (the console did not make it).
pub(crate) fn decrypt_for_agent(
    shared: &Shared,
    blob: &[u8],
    context: &BTreeMap<String, String>,
) -> Result<Zeroizing<Vec<u8>>, ApiError> {
    let keys = Keyring::of(&shared.sim());
    keys.decrypt(blob, context, None)
        .map(|(_, plaintext)| plaintext)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::sandbox::SandboxOptions;

    fn keyring(seed: u64) -> Keyring {
        Keyring {
            seed,
            region: "eu-west-1".into(),
            account: "210987654321".into(),
        }
    }

    fn ctx(session: &str) -> BTreeMap<String, String> {
        BTreeMap::from([
            ("aws:ssm:SessionId".to_string(), session.to_string()),
            ("aws:ssm:TargetId".to_string(), "ecs:prod_t_r".to_string()),
        ])
    }

    fn b64(v: &Value, key: &str) -> Vec<u8> {
        BASE64.decode(v[key].as_str().unwrap()).unwrap()
    }

    #[test]
    fn every_name_of_the_key_resolves() {
        let k = keyring(7);
        let arn = format!("arn:aws:kms:eu-west-1:210987654321:key/{EXEC_KEY_ID}");
        for name in [
            EXEC_KEY_ID,
            arn.as_str(),
            EXEC_KEY_ALIAS,
            "arn:aws:kms:eu-west-1:210987654321:alias/berth-exec",
        ] {
            assert_eq!(k.resolve(name).unwrap(), EXEC_KEY_ID, "{name}");
        }
        let e = k.resolve("alias/nope").unwrap_err();
        assert_eq!(e.code, "NotFoundException");
        assert_eq!(
            e.message,
            "Alias arn:aws:kms:eu-west-1:210987654321:alias/nope is not found."
        );
        let e = k
            .resolve("1234abcd-12ab-34cd-56ef-1234567890ab")
            .unwrap_err();
        assert_eq!(
            e.message,
            "Key 'arn:aws:kms:eu-west-1:210987654321:key/1234abcd-12ab-34cd-56ef-1234567890ab' does not exist"
        );
        let other_region = format!("arn:aws:kms:us-east-1:210987654321:key/{EXEC_KEY_ID}");
        assert_eq!(
            k.resolve(&other_region).unwrap_err().message,
            format!("Key '{other_region}' does not exist")
        );
    }

    #[test]
    fn a_blob_opens_only_under_its_context_and_seed() {
        let k = keyring(7);
        let v = generate_data_key(
            &k,
            &json!({"KeyId": EXEC_KEY_ALIAS, "NumberOfBytes": 64, "EncryptionContext": ctx("s-1")}),
        )
        .unwrap();
        let plaintext = b64(&v, "Plaintext");
        let blob = b64(&v, "CiphertextBlob");
        assert_eq!(plaintext.len(), 64);
        assert!(blob.starts_with(b"bkms\x01\x24"));
        assert!(
            !blob
                .windows(16)
                .any(|w| plaintext.windows(16).any(|p| p == w))
        );
        assert_eq!(
            v["KeyId"],
            format!("arn:aws:kms:eu-west-1:210987654321:key/{EXEC_KEY_ID}")
        );

        let (_, again) = k.decrypt(&blob, &ctx("s-1"), None).unwrap();
        assert_eq!(*again, plaintext);
        // the same seed elsewhere decrypts it; another seed, context or a flipped byte does not
        assert!(keyring(7).decrypt(&blob, &ctx("s-1"), None).is_ok());
        for (keys, context) in [
            (keyring(8), ctx("s-1")),
            (keyring(7), ctx("s-2")),
            (keyring(7), BTreeMap::new()),
        ] {
            let e = keys.decrypt(&blob, &context, None).unwrap_err();
            assert_eq!(e.code, "InvalidCiphertextException");
        }
        for i in 0..blob.len() {
            let mut bad = blob.clone();
            bad[i] ^= 1;
            assert!(k.decrypt(&bad, &ctx("s-1"), None).is_err(), "byte {i}");
        }
        assert!(k.decrypt(&blob[..20], &ctx("s-1"), None).is_err());
        assert!(k.decrypt(&[], &ctx("s-1"), None).is_err());
    }

    #[test]
    fn data_keys_are_random_and_sized_as_asked() {
        let k = keyring(7);
        let a = generate_data_key(&k, &json!({"KeyId": EXEC_KEY_ID, "NumberOfBytes": 64})).unwrap();
        let b = generate_data_key(&k, &json!({"KeyId": EXEC_KEY_ID, "NumberOfBytes": 64})).unwrap();
        assert_ne!(a["Plaintext"], b["Plaintext"]);
        let spec = generate_data_key(&k, &json!({"KeyId": EXEC_KEY_ID, "KeySpec": "AES_256"}));
        assert_eq!(b64(&spec.unwrap(), "Plaintext").len(), 32);
        for bad in [
            json!({"KeyId": EXEC_KEY_ID}),
            json!({"KeyId": EXEC_KEY_ID, "NumberOfBytes": 0}),
            json!({"KeyId": EXEC_KEY_ID, "NumberOfBytes": 1025}),
            json!({"KeyId": EXEC_KEY_ID, "NumberOfBytes": 32, "KeySpec": "AES_256"}),
            json!({"KeyId": EXEC_KEY_ID, "KeySpec": "AES_512"}),
            json!({"NumberOfBytes": 64}),
        ] {
            let e = generate_data_key(&k, &bad).unwrap_err();
            assert_eq!(e.code, "ValidationException", "{bad}");
        }
        let e = generate_data_key(
            &k,
            &json!({"KeyId": EXEC_KEY_ID, "NumberOfBytes": 8, "EncryptionContext": {"a": 1}}),
        )
        .unwrap_err();
        assert_eq!(e.code, "SerializationException");
    }

    #[test]
    fn decrypt_answers_like_kms() {
        let k = keyring(7);
        let v = generate_data_key(
            &k,
            &json!({"KeyId": EXEC_KEY_ID, "NumberOfBytes": 64, "EncryptionContext": ctx("s")}),
        )
        .unwrap();
        let d = decrypt(
            &k,
            &json!({"CiphertextBlob": v["CiphertextBlob"], "EncryptionContext": ctx("s"), "KeyId": EXEC_KEY_ALIAS}),
        )
        .unwrap();
        assert_eq!(d["Plaintext"], v["Plaintext"]);
        assert_eq!(d["KeyId"], v["KeyId"]);
        assert_eq!(d["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT");
        let e = decrypt(
            &k,
            &json!({"CiphertextBlob": v["CiphertextBlob"], "KeyId": "alias/other"}),
        )
        .unwrap_err();
        assert_eq!(e.code, "NotFoundException");
        assert_eq!(
            decrypt(&k, &json!({})).unwrap_err().code,
            "ValidationException"
        );
    }

    #[test]
    fn the_agent_decrypts_what_the_console_generated() {
        let shared = Shared::new(&SandboxOptions::default(), ([127, 0, 0, 1], 0).into());
        let v = handle(
            &shared,
            "GenerateDataKey",
            &json!({"KeyId": EXEC_KEY_ALIAS, "NumberOfBytes": 64, "EncryptionContext": ctx("s-9")}),
        )
        .unwrap();
        let blob = b64(&v, "CiphertextBlob");
        let key = decrypt_for_agent(&shared, &blob, &ctx("s-9")).unwrap();
        assert_eq!(*key, b64(&v, "Plaintext"));
        let e = decrypt_for_agent(&shared, &blob, &ctx("s-8")).unwrap_err();
        assert_eq!(e.code, "InvalidCiphertextException");
        assert_eq!(
            exec_key_arn(&shared.sim()),
            format!("arn:aws:kms:us-east-1:123456789012:key/{EXEC_KEY_ID}")
        );
    }
}
