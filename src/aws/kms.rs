//! KMS for encrypted exec sessions: the data key a session is encrypted with.
//!
//! Session Manager's client asks KMS for 64 bytes under the cluster's exec key, bound to the
//! session by the encryption context; the agent decrypts the blob with the same context to get
//! the same bytes. The plaintext stays in a zeroising buffer and is never logged.

use std::fmt;

use aws_sdk_kms::error::ProvideErrorMetadata;
use zeroize::Zeroizing;

use super::{AwsError, ErrorKind};

/// Bytes of the data key: the two 32-byte AES keys of a session.
pub const DATA_KEY_BYTES: i32 = 64;
/// Encryption-context keys Session Manager binds a data key to.
pub const CONTEXT_SESSION_ID: &str = "aws:ssm:SessionId";
pub const CONTEXT_TARGET_ID: &str = "aws:ssm:TargetId";

const OPERATION: &str = "kms:GenerateDataKey";

/// A KMS data key: the plaintext for this end, the ciphertext blob for the other.
pub struct DataKey {
    pub plaintext: Zeroizing<Vec<u8>>,
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field(
                "plaintext",
                &format_args!("<redacted, {} bytes>", self.plaintext.len()),
            )
            .field(
                "ciphertext",
                &format_args!("<{} bytes>", self.ciphertext.len()),
            )
            .finish()
    }
}

/// `kms:GenerateDataKey` of 64 bytes under `key_id` (id, ARN, alias name or alias ARN), with
/// the encryption context `{"aws:ssm:SessionId": session_id, "aws:ssm:TargetId": target}`.
pub async fn generate_data_key(
    client: &aws_sdk_kms::Client,
    key_id: &str,
    session_id: &str,
    target: &str,
) -> Result<DataKey, AwsError> {
    let mut out = client
        .generate_data_key()
        .key_id(key_id)
        .number_of_bytes(DATA_KEY_BYTES)
        .encryption_context(CONTEXT_SESSION_ID, session_id)
        .encryption_context(CONTEXT_TARGET_ID, target)
        .send()
        .await
        .map_err(|e| {
            let mut err = AwsError::from_sdk(OPERATION, &e);
            if let Some(kind) = e.code().and_then(kms_kind) {
                err.kind = kind;
            }
            err
        })?;
    // Moved out, not copied: the only copy of the plaintext is the zeroising one.
    let plaintext = Zeroizing::new(
        out.plaintext
            .take()
            .map(aws_smithy_types::Blob::into_inner)
            .unwrap_or_default(),
    );
    let ciphertext = out
        .ciphertext_blob
        .take()
        .map(aws_smithy_types::Blob::into_inner)
        .unwrap_or_default();
    if plaintext.len() != DATA_KEY_BYTES as usize || ciphertext.is_empty() {
        return Err(AwsError::new(
            ErrorKind::Other,
            OPERATION,
            format!(
                "KMS returned a {}-byte data key and a {}-byte ciphertext; a session needs {DATA_KEY_BYTES} bytes and the ciphertext",
                plaintext.len(),
                ciphertext.len()
            ),
        ));
    }
    Ok(DataKey {
        plaintext,
        ciphertext,
    })
}

/// KMS's own error codes that the shared table does not know.
fn kms_kind(code: &str) -> Option<ErrorKind> {
    match code {
        // "Key 'arn:…' does not exist", "Alias arn:… is not found."
        "NotFoundException" => Some(ErrorKind::NotFound),
        // A disabled key, one pending deletion or import, or one not for encryption.
        "DisabledException" | "KMSInvalidStateException" | "InvalidKeyUsageException" => {
            Some(ErrorKind::InvalidRequest)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_shows_sizes_not_bytes() {
        let key = DataKey {
            plaintext: Zeroizing::new(vec![0xC3; 64]),
            ciphertext: vec![0x5A; 10],
        };
        let text = format!("{key:?}");
        assert_eq!(
            text,
            "DataKey { plaintext: <redacted, 64 bytes>, ciphertext: <10 bytes> }"
        );
    }

    #[test]
    fn kms_codes_are_classified() {
        assert_eq!(kms_kind("NotFoundException"), Some(ErrorKind::NotFound));
        assert_eq!(
            kms_kind("DisabledException"),
            Some(ErrorKind::InvalidRequest)
        );
        assert_eq!(kms_kind("ThrottlingException"), None);
    }
}
