//! KMS data keys for encrypted exec sessions, through the real `aws-sdk-kms`: the sandbox's
//! KMS (GenerateDataKey, Decrypt, the `alias/berth-exec` key and its error answers), berth's
//! `aws::kms::generate_data_key` through the clients `aws::connect` builds, and the same call
//! against moto (an independent KMS) with a key made by CreateKey.

#![allow(clippy::expect_used, clippy::unwrap_used)] // tests: a failed expectation is the report

use std::collections::HashMap;

use aws_sdk_kms::primitives::Blob;
use berth::aws::kms::{CONTEXT_SESSION_ID, CONTEXT_TARGET_ID, generate_data_key};
use berth::aws::{AwsTarget, ErrorKind};
use berth::sandbox::{self, SandboxOptions};

use crate::common::moto;
use crate::sandbox_support as sb;

const ALIAS: &str = "alias/berth-exec";
const TARGET: &str =
    "ecs:staging_0123456789abcdef0123456789abcdef_0123456789abcdef0123456789abcdef-1234567890";

fn context(session: &str) -> HashMap<String, String> {
    HashMap::from([
        (CONTEXT_SESSION_ID.to_string(), session.to_string()),
        (CONTEXT_TARGET_ID.to_string(), TARGET.to_string()),
    ])
}

async fn kms_client(url: &str) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::new(&sb::sdk_config(url).await)
}

fn target(url: &str, credentials: (&str, &str)) -> AwsTarget {
    AwsTarget {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(url.to_string()),
        static_credentials: Some((credentials.0.into(), credentials.1.into())),
        attempt_timeout: None,
    }
}

async fn decrypt(
    kms: &aws_sdk_kms::Client,
    blob: &[u8],
    ctx: HashMap<String, String>,
) -> Result<Vec<u8>, aws_sdk_kms::error::SdkError<aws_sdk_kms::operation::decrypt::DecryptError>> {
    let out = kms
        .decrypt()
        .ciphertext_blob(Blob::new(blob))
        .set_encryption_context(Some(ctx))
        .send()
        .await?;
    Ok(out
        .plaintext()
        .map(|p| p.as_ref().to_vec())
        .unwrap_or_default())
}

#[tokio::test]
async fn sandbox_data_key_decrypts_under_the_same_context_only() {
    let sandbox = sb::start(SandboxOptions::default()).await;
    let kms = kms_client(&sandbox.endpoint_url()).await;
    let key_arn = "arn:aws:kms:us-east-1:123456789012:key/0b5e11a5-4e7c-4d2b-9f3a-be47e0ec5e55";

    let out = kms
        .generate_data_key()
        .key_id(ALIAS)
        .number_of_bytes(64)
        .set_encryption_context(Some(context("berth-0001")))
        .send()
        .await
        .unwrap();
    assert_eq!(out.key_id(), Some(key_arn));
    let plaintext = out.plaintext().unwrap().as_ref().to_vec();
    let blob = out.ciphertext_blob().unwrap().as_ref().to_vec();
    assert_eq!(plaintext.len(), 64);
    assert_ne!(blob, plaintext);

    assert_eq!(
        decrypt(&kms, &blob, context("berth-0001")).await.unwrap(),
        plaintext
    );
    let full = kms
        .decrypt()
        .ciphertext_blob(Blob::new(blob.clone()))
        .set_encryption_context(Some(context("berth-0001")))
        .key_id(key_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(full.key_id(), Some(key_arn));
    assert_eq!(
        full.encryption_algorithm(),
        Some(&aws_sdk_kms::types::EncryptionAlgorithmSpec::SymmetricDefault)
    );

    for ctx in [context("berth-0002"), HashMap::new()] {
        let err = decrypt(&kms, &blob, ctx).await.unwrap_err();
        let service = err.into_service_error();
        assert!(service.is_invalid_ciphertext_exception(), "{service:?}");
    }
    let mut altered = blob.clone();
    if let Some(last) = altered.last_mut() {
        *last ^= 1;
    }
    let err = decrypt(&kms, &altered, context("berth-0001"))
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_ciphertext_exception());

    let stats = sandbox.stats();
    assert_eq!(stats.count("kms:GenerateDataKey"), 1);
    assert_eq!(stats.count("kms:Decrypt"), 5);
}

#[tokio::test]
async fn sandbox_key_answers_to_every_name_and_unknown_keys_are_not_found() {
    let sandbox = sb::start(SandboxOptions::default()).await;
    let kms = kms_client(&sandbox.endpoint_url()).await;
    let id = "0b5e11a5-4e7c-4d2b-9f3a-be47e0ec5e55";
    let arn = format!("arn:aws:kms:us-east-1:123456789012:key/{id}");
    let alias_arn = "arn:aws:kms:us-east-1:123456789012:alias/berth-exec";
    for name in [ALIAS, alias_arn, id, arn.as_str()] {
        let out = kms
            .generate_data_key()
            .key_id(name)
            .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(out.key_id(), Some(arn.as_str()), "{name}");
        assert_eq!(out.plaintext().unwrap().as_ref().len(), 32, "{name}");
    }

    let unknown = [
        (
            "alias/nope",
            "Alias arn:aws:kms:us-east-1:123456789012:alias/nope is not found.",
        ),
        (
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "Key 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' does not exist",
        ),
    ];
    for (name, message) in unknown {
        let err = kms
            .generate_data_key()
            .key_id(name)
            .number_of_bytes(64)
            .send()
            .await
            .unwrap_err();
        let service = err.into_service_error();
        assert!(service.is_not_found_exception(), "{name}: {service:?}");
        assert_eq!(
            aws_sdk_kms::error::ProvideErrorMetadata::message(&service),
            Some(message)
        );
    }
}

#[tokio::test]
async fn berth_generates_a_session_key_for_the_staging_cluster() {
    let sandbox = sb::start(SandboxOptions::default()).await;
    let url = sandbox.endpoint_url();
    let clients = berth::aws::connect(&target(
        &url,
        (sandbox::DEMO_ACCESS_KEY_ID, sandbox::DEMO_SECRET_ACCESS_KEY),
    ))
    .await
    .unwrap();

    // staging's exec configuration names the sandbox key; prod's does not
    let staging = berth::aws::exec::cluster_exec_logging(&clients.ecs, "staging")
        .await
        .unwrap()
        .unwrap();
    let key = staging.kms_key.clone().expect("staging names a KMS key");
    assert!(
        key.starts_with("arn:aws:kms:us-east-1:123456789012:key/"),
        "{key}"
    );
    assert_eq!(staging.logging.as_deref(), Some("DEFAULT"));
    assert!(staging.describe().ends_with("(KMS-encrypted)"));
    let prod = berth::aws::exec::cluster_exec_logging(&clients.ecs, "prod")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(prod.kms_key, None);

    let data_key = generate_data_key(&clients.kms, &key, "berth-0042", TARGET)
        .await
        .unwrap();
    assert_eq!(data_key.plaintext.len(), 64);
    let debug = format!("{data_key:?}");
    assert!(debug.contains("redacted"), "{debug}");
    let kms = kms_client(&url).await;
    assert_eq!(
        decrypt(&kms, &data_key.ciphertext, context("berth-0042"))
            .await
            .unwrap(),
        *data_key.plaintext
    );
    assert!(
        decrypt(&kms, &data_key.ciphertext, context("berth-0043"))
            .await
            .is_err()
    );

    let by_alias = generate_data_key(&clients.kms, ALIAS, "berth-0044", TARGET)
        .await
        .unwrap();
    assert_ne!(by_alias.plaintext, data_key.plaintext);

    let err = generate_data_key(&clients.kms, "alias/missing", "berth-0045", TARGET)
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound);
    assert_eq!(err.code.as_deref(), Some("NotFoundException"));
    assert_eq!(
        err.plain(),
        "Alias arn:aws:kms:us-east-1:123456789012:alias/missing is not found."
    );
}

#[tokio::test]
async fn moto_decrypts_the_data_key_berth_generated() {
    let server = moto::shared();
    let url = server.endpoint_url();
    let kms = aws_sdk_kms::Client::new(&moto::sdk_config(&url).await);
    let created = kms
        .create_key()
        .description("berth exec sessions")
        .send()
        .await
        .unwrap();
    let key_id = created.key_metadata().unwrap().key_id().to_string();

    let clients = berth::aws::connect(&target(&url, ("testing", "testing")))
        .await
        .unwrap();
    let data_key = generate_data_key(&clients.kms, &key_id, "berth-moto-1", TARGET)
        .await
        .unwrap();
    assert_eq!(data_key.plaintext.len(), 64);
    assert_eq!(
        decrypt(&kms, &data_key.ciphertext, context("berth-moto-1"))
            .await
            .unwrap(),
        *data_key.plaintext
    );
    // moto binds the context too, and words a missing key exactly as the sandbox does
    let err = decrypt(&kms, &data_key.ciphertext, context("berth-moto-9"))
        .await
        .unwrap_err();
    assert!(err.into_service_error().is_invalid_ciphertext_exception());
    for (name, message) in [
        (
            "alias/missing",
            "Alias arn:aws:kms:us-east-1:123456789012:alias/missing is not found.",
        ),
        (
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "Key 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab' does not exist",
        ),
    ] {
        let err = generate_data_key(&clients.kms, name, "berth-moto-2", TARGET)
            .await
            .unwrap_err();
        assert_eq!(err.code.as_deref(), Some("NotFoundException"), "{name}");
        assert_eq!(err.kind, ErrorKind::NotFound, "{name}");
        assert_eq!(err.plain(), message);
    }
}
