//! How the group member reaches the coordinator: `security.protocol` PLAINTEXT, SSL,
//! SASL_PLAINTEXT or SASL_SSL, with the worker's Java client settings (the same keys the
//! internal topics' clients take): TLS through rustls with a PEM trust store, SASL PLAIN
//! and SCRAM-SHA-256/512 through rsasl, credentials from `sasl.jaas.config`.

use std::fmt;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

use super::GroupError;

/// Where the system's CA bundle usually is, when no trust store is set (as librdkafka).
const SYSTEM_CA_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// A SASL mechanism the member speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaslMechanism {
    /// `PLAIN`.
    Plain,
    /// `SCRAM-SHA-256`.
    ScramSha256,
    /// `SCRAM-SHA-512`.
    ScramSha512,
}

impl SaslMechanism {
    /// The name sent in SaslHandshake.
    pub fn name(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// SASL credentials.
#[derive(Clone)]
pub struct SaslLogin {
    /// The mechanism.
    pub mechanism: SaslMechanism,
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
}

impl fmt::Debug for SaslLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslLogin")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .field("password", &"[hidden]")
            .finish()
    }
}

/// The member's transport security.
#[derive(Clone, Debug, Default)]
pub struct GroupSecurity {
    /// TLS, when `security.protocol` is SSL or SASL_SSL.
    pub tls: Option<Arc<ClientConfig>>,
    /// SASL, when `security.protocol` is SASL_PLAINTEXT or SASL_SSL.
    pub sasl: Option<SaslLogin>,
}

impl GroupSecurity {
    /// Reads the worker's Java client settings (`get` answers a key's value). Refuses,
    /// naming the key, what the member cannot honour.
    pub fn from_settings(get: &dyn Fn(&str) -> Option<String>) -> Result<GroupSecurity, GroupError> {
        let protocol = get("security.protocol")
            .map(|p| p.trim().to_ascii_uppercase())
            .unwrap_or_else(|| "PLAINTEXT".to_owned());
        let (tls, sasl) = match protocol.as_str() {
            "PLAINTEXT" => (false, false),
            "SSL" => (true, false),
            "SASL_PLAINTEXT" => (false, true),
            "SASL_SSL" => (true, true),
            other => {
                return Err(GroupError::Config(format!(
                    "Invalid value {other} for configuration security.protocol: String must be one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"
                )))
            }
        };
        Ok(GroupSecurity {
            tls: if tls { Some(tls_config(get)?) } else { None },
            sasl: if sasl { Some(sasl_login(get)?) } else { None },
        })
    }
}

fn config_error(msg: impl Into<String>) -> GroupError {
    GroupError::Config(msg.into())
}

fn sasl_login(get: &dyn Fn(&str) -> Option<String>) -> Result<SaslLogin, GroupError> {
    // Kafka's default mechanism is GSSAPI.
    let name = get("sasl.mechanism").unwrap_or_else(|| "GSSAPI".to_owned());
    let mechanism = match name.trim().to_ascii_uppercase().as_str() {
        "PLAIN" => SaslMechanism::Plain,
        "SCRAM-SHA-256" => SaslMechanism::ScramSha256,
        "SCRAM-SHA-512" => SaslMechanism::ScramSha512,
        _ => {
            return Err(config_error(format!(
                "sasl.mechanism={name} is not supported by Ferry's worker group member (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 are); \
                 give the workers a listener with one of those, or run Ferry in standalone mode"
            )))
        }
    };
    let (mut username, mut password) = get("sasl.jaas.config")
        .map(|jaas| crate::client::jaas_credentials(&jaas))
        .unwrap_or_default();
    username = username.or_else(|| get("sasl.username"));
    password = password.or_else(|| get("sasl.password"));
    match (username, password) {
        (Some(username), Some(password)) => Ok(SaslLogin {
            mechanism,
            username,
            password,
        }),
        _ => Err(config_error(format!(
            "sasl.jaas.config must give a username and a password for sasl.mechanism={} (for example: {} required username=\"alice\" password=\"secret\";)",
            mechanism.name(),
            match mechanism {
                SaslMechanism::Plain => "org.apache.kafka.common.security.plain.PlainLoginModule",
                _ => "org.apache.kafka.common.security.scram.ScramLoginModule",
            }
        ))),
    }
}

/// librdkafka's names for what Java's client calls otherwise.
const LIBRDKAFKA_ALIASES: &[(&str, &str)] = &[("ssl.truststore.location", "ssl.ca.location")];

fn tls_config(get: &dyn Fn(&str) -> Option<String>) -> Result<Arc<ClientConfig>, GroupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let setting = |key: &str| -> Option<String> {
        let alias = LIBRDKAFKA_ALIASES
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, a)| *a);
        get(key)
            .or_else(|| alias.and_then(get))
            .filter(|v| !v.trim().is_empty())
    };
    let store_error = |e: ferry_core::tls::StoreError| config_error(e.to_string());
    let pem = match ferry_core::tls::trust_certificates(&setting).map_err(store_error)? {
        Some(certs) => certs,
        None => {
            let bundle = SYSTEM_CA_BUNDLES
                .iter()
                .find(|p| std::path::Path::new(p).exists())
                .ok_or_else(|| config_error("security.protocol uses TLS but no ssl.truststore.location is set and no system CA bundle was found"))?;
            CertificateDer::pem_file_iter(bundle)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| config_error(format!("{bundle}: cannot read PEM certificates: {e}")))?
        }
    };
    let client_key = client_key(&setting)?;
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(pem);
    if added == 0 {
        return Err(config_error("the TLS trust store holds no usable certificate"));
    }
    let roots = Arc::new(roots);
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(format!("TLS: {e}")))?;
    // Java's default is `https` (check the host name); empty turns the check off.
    let check_name = get("ssl.endpoint.identification.algorithm")
        .map(|a| !a.trim().is_empty() && !a.trim().eq_ignore_ascii_case("none"))
        .unwrap_or(true);
    let builder = if check_name {
        builder.with_root_certificates(roots)
    } else {
        let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
            .build()
            .map_err(|e| config_error(format!("TLS: {e}")))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(ferry_core::tls::ChainOnly::new(inner)))
    };
    let config = match client_key {
        None => builder.with_no_client_auth(),
        Some((chain, key)) => builder.with_client_auth_cert(chain, key).map_err(|e| {
            config_error(format!(
                "ssl.keystore.location: the key store's key and certificate do not fit: {e}"
            ))
        })?,
    };
    Ok(Arc::new(config))
}

/// The client certificate and key, from Java's key store settings or librdkafka's
/// `ssl.certificate.location` + `ssl.key.location` (PEM files).
fn client_key(
    setting: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<ferry_core::tls::CertifiedKey>, GroupError> {
    let store_error = |e: ferry_core::tls::StoreError| config_error(e.to_string());
    let (Some(cert), Some(key)) = (setting("ssl.certificate.location"), setting("ssl.key.location")) else {
        return ferry_core::tls::key_store(setting).map_err(store_error);
    };
    let read = |key_name: &'static str, path: &str| {
        std::fs::read_to_string(path)
            .map_err(|e| config_error(format!("{key_name}: cannot read {path}: {e}")))
    };
    let (cert_pem, key_pem) = (
        read("ssl.certificate.location", &cert)?,
        read("ssl.key.location", &key)?,
    );
    let inline = |k: &str| match k {
        "ssl.keystore.certificate.chain" => Some(cert_pem.clone()),
        "ssl.keystore.key" => Some(key_pem.clone()),
        _ => None,
    };
    ferry_core::tls::key_store(&inline).map_err(|e| {
        let named = if e.key == "ssl.keystore.key" {
            "ssl.key.location"
        } else {
            "ssl.certificate.location"
        };
        config_error(format!("{named}: {}", e.reason))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<GroupSecurity, GroupError> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        GroupSecurity::from_settings(&|k| map.get(k).cloned())
    }

    #[test]
    fn sasl_settings_come_from_the_jaas_config() {
        let s = from(&[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            (
                "sasl.jaas.config",
                r#"org.apache.kafka.common.security.scram.ScramLoginModule required username="connect" password="s3cret";"#,
            ),
        ])
        .unwrap();
        assert!(s.tls.is_none());
        let login = s.sasl.unwrap();
        assert_eq!(login.mechanism, SaslMechanism::ScramSha512);
        assert_eq!(
            (login.username.as_str(), login.password.as_str()),
            ("connect", "s3cret")
        );
        assert!(
            !format!("{login:?}").contains("s3cret"),
            "the password is not logged"
        );
    }

    #[test]
    fn what_the_member_cannot_do_is_refused_naming_the_key() {
        let err = |pairs: &[(&str, &str)]| from(pairs).unwrap_err().to_string();
        assert!(err(&[("security.protocol", "SASL_PLAINTEXT")]).contains("sasl.mechanism=GSSAPI"));
        assert!(err(&[
            ("security.protocol", "SASL_PLAINTEXT"),
            ("sasl.mechanism", "PLAIN")
        ])
        .contains("sasl.jaas.config must give a username"));
        assert!(err(&[("security.protocol", "TLS")]).contains("security.protocol"));
        assert!(err(&[
            ("security.protocol", "SSL"),
            ("ssl.truststore.location", "/nonexistent/truststore.jks"),
        ])
        .contains("ssl.truststore.location: cannot read /nonexistent/truststore.jks"));
        assert!(err(&[
            ("security.protocol", "SSL"),
            ("ssl.keystore.location", "/nonexistent/keystore.p12"),
        ])
        .contains("ssl.keystore.location: cannot read /nonexistent/keystore.p12"));
        assert!(err(&[
            ("security.protocol", "SSL"),
            ("ssl.certificate.location", "/nonexistent/client.pem"),
            ("ssl.key.location", "/nonexistent/client.key"),
        ])
        .contains("ssl.certificate.location: cannot read /nonexistent/client.pem"));
        assert!(from(&[("security.protocol", "plaintext")])
            .unwrap()
            .sasl
            .is_none());
    }
}
