//! Kafka's `ssl.keystore.*` and `ssl.truststore.*` settings: PEM (files or the inline
//! `ssl.keystore.key` / `ssl.keystore.certificate.chain` / `ssl.truststore.certificates`)
//! and PKCS12, told apart by their bytes; a JKS file is refused with the `keytool` command
//! that converts it.

use std::fmt;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A certificate chain and its private key.
pub type CertifiedKey = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// A store setting that cannot be used: the key (unprefixed, e.g. `ssl.keystore.location`)
/// and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreError {
    /// The setting at fault.
    pub key: &'static str,
    /// What is wrong, and what to do.
    pub reason: String,
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.reason)
    }
}

impl std::error::Error for StoreError {}

const KEYSTORE_LOCATION: &str = "ssl.keystore.location";
const KEYSTORE_PASSWORD: &str = "ssl.keystore.password";
const KEYSTORE_TYPE: &str = "ssl.keystore.type";
const KEY_PASSWORD: &str = "ssl.key.password";
const KEYSTORE_KEY: &str = "ssl.keystore.key";
const KEYSTORE_CHAIN: &str = "ssl.keystore.certificate.chain";
const TRUSTSTORE_LOCATION: &str = "ssl.truststore.location";
const TRUSTSTORE_PASSWORD: &str = "ssl.truststore.password";
const TRUSTSTORE_CERTIFICATES: &str = "ssl.truststore.certificates";

fn error(key: &'static str, reason: impl Into<String>) -> StoreError {
    StoreError {
        key,
        reason: reason.into(),
    }
}

/// The key store the settings name (`get` answers a key's non-empty value), or `None`
/// when none is set.
pub fn key_store(get: &dyn Fn(&str) -> Option<String>) -> Result<Option<CertifiedKey>, StoreError> {
    if let (Some(key), Some(chain)) = (get(KEYSTORE_KEY), get(KEYSTORE_CHAIN)) {
        let certs = pem_certs(chain.as_bytes()).map_err(|e| error(KEYSTORE_CHAIN, e))?;
        let key = pem_key(key.as_bytes()).map_err(|e| error(KEYSTORE_KEY, e))?;
        return Ok(Some((certs, key)));
    }
    let Some(path) = get(KEYSTORE_LOCATION) else {
        return Ok(None);
    };
    let bytes =
        std::fs::read(&path).map_err(|e| error(KEYSTORE_LOCATION, format!("cannot read {path}: {e}")))?;
    let declared = get(KEYSTORE_TYPE)
        .unwrap_or_else(|| "JKS".to_owned())
        .trim()
        .to_ascii_uppercase();
    match sniff(&bytes) {
        StoreFormat::Pem => {
            let certs = pem_certs(&bytes).map_err(|e| error(KEYSTORE_LOCATION, format!("{path}: {e}")))?;
            let key = pem_key(&bytes).map_err(|e| error(KEYSTORE_LOCATION, format!("{path}: {e}")))?;
            Ok(Some((certs, key)))
        }
        StoreFormat::Jks => Err(jks_refused(KEYSTORE_LOCATION, &path)),
        StoreFormat::Pkcs12 => {
            let password = get(KEYSTORE_PASSWORD).unwrap_or_default();
            let key_password = get(KEY_PASSWORD);
            super::pkcs12::key_store(&bytes, &password, key_password.as_deref())
                .map(Some)
                .map_err(|e| {
                    error(
                        KEYSTORE_LOCATION,
                        format!("{path} ({declared} by its type setting): {e}"),
                    )
                })
        }
    }
}

/// The certificates of the trust store the settings name, or `None` when none is set.
pub fn trust_certificates(
    get: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Vec<CertificateDer<'static>>>, StoreError> {
    if let Some(inline) = get(TRUSTSTORE_CERTIFICATES) {
        return pem_certs(inline.as_bytes())
            .map(Some)
            .map_err(|e| error(TRUSTSTORE_CERTIFICATES, e));
    }
    let Some(path) = get(TRUSTSTORE_LOCATION) else {
        return Ok(None);
    };
    let bytes =
        std::fs::read(&path).map_err(|e| error(TRUSTSTORE_LOCATION, format!("cannot read {path}: {e}")))?;
    match sniff(&bytes) {
        StoreFormat::Pem => pem_certs(&bytes)
            .map(Some)
            .map_err(|e| error(TRUSTSTORE_LOCATION, format!("{path}: {e}"))),
        StoreFormat::Jks => Err(jks_refused(TRUSTSTORE_LOCATION, &path)),
        StoreFormat::Pkcs12 => {
            let password = get(TRUSTSTORE_PASSWORD).unwrap_or_default();
            super::pkcs12::trust_store(&bytes, &password)
                .map(Some)
                .map_err(|e| error(TRUSTSTORE_LOCATION, format!("{path}: {e}")))
        }
    }
}

/// What a key or trust store file holds, judged by its first bytes.
#[derive(Debug, PartialEq, Eq)]
enum StoreFormat {
    Pem,
    Jks,
    Pkcs12,
}

fn sniff(bytes: &[u8]) -> StoreFormat {
    if bytes.starts_with(&[0xFE, 0xED, 0xFE, 0xED]) || bytes.starts_with(&[0xCE, 0xCE, 0xCE, 0xCE]) {
        StoreFormat::Jks
    } else if contains(bytes, b"-----BEGIN ") {
        StoreFormat::Pem
    } else {
        StoreFormat::Pkcs12
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn jks_refused(key: &'static str, path: &str) -> StoreError {
    error(
        key,
        format!(
            "{path} is a JKS key store, which Ferry does not read; convert it with \
             `keytool -importkeystore -srckeystore {path} -destkeystore store.p12 -deststoretype PKCS12` \
             and set the type to PKCS12, or use PEM"
        ),
    )
}

fn pem_certs(bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("unreadable PEM certificate: {e}"))?;
    if certs.is_empty() {
        return Err("no PEM certificate (-----BEGIN CERTIFICATE-----) found".into());
    }
    Ok(certs)
}

fn pem_key(bytes: &[u8]) -> Result<PrivateKeyDer<'static>, String> {
    if contains(bytes, b"-----BEGIN ENCRYPTED PRIVATE KEY-----") {
        return Err("the PEM private key is encrypted, which Ferry does not read; \
                    decrypt it with `openssl pkcs8 -topk8 -nocrypt -in key.pem -out plain.pem`"
            .into());
    }
    PrivateKeyDer::from_pem_slice(bytes).map_err(|e| format!("no usable PEM private key: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_are_told_apart_by_their_bytes() {
        assert_eq!(sniff(&[0xFE, 0xED, 0xFE, 0xED, 0]), StoreFormat::Jks);
        assert_eq!(sniff(b"junk\n-----BEGIN CERTIFICATE-----\n"), StoreFormat::Pem);
        assert_eq!(sniff(&[0x30, 0x82, 0x01]), StoreFormat::Pkcs12);
    }

    #[test]
    fn nothing_set_is_no_store() {
        let none = |_: &str| None;
        assert_eq!(key_store(&none).unwrap().map(|_| ()), None);
        assert_eq!(trust_certificates(&none).unwrap(), None);
    }

    #[test]
    fn an_encrypted_key_is_refused_with_the_command_that_decrypts_it() {
        let e =
            pem_key(b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")
                .unwrap_err();
        assert!(e.contains("openssl pkcs8"), "{e}");
    }
}
