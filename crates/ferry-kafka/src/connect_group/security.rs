//! How the group member reaches the coordinator: `security.protocol` PLAINTEXT, SSL,
//! SASL_PLAINTEXT or SASL_SSL, with the worker's Java client settings (the same keys the
//! internal topics' clients take): TLS through rustls with a PEM trust store, SASL PLAIN
//! and SCRAM-SHA-256/512 through rsasl, credentials from `sasl.jaas.config`.

use std::fmt;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

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
                 set ferry.group.membership=lease to run one active worker per group instead"
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

fn tls_config(get: &dyn Fn(&str) -> Option<String>) -> Result<Arc<ClientConfig>, GroupError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    for key in [
        "ssl.keystore.location",
        "ssl.keystore.key",
        "ssl.certificate.location",
    ] {
        if get(key).is_some_and(|v| !v.trim().is_empty()) {
            return Err(config_error(format!(
                "{key}: Ferry's worker group member does not present a client certificate yet; \
                 use SASL_SSL, or set ferry.group.membership=lease"
            )));
        }
    }
    let kind = get("ssl.truststore.type").unwrap_or_else(|| "JKS".to_owned());
    let mut roots = RootCertStore::empty();
    let pem: Vec<CertificateDer<'static>> = if let Some(inline) = get("ssl.truststore.certificates") {
        CertificateDer::pem_slice_iter(inline.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| config_error(format!("ssl.truststore.certificates: not PEM certificates: {e}")))?
    } else if let Some(path) = get("ssl.truststore.location").or_else(|| get("ssl.ca.location")) {
        if !kind.trim().eq_ignore_ascii_case("PEM") && !path.ends_with(".pem") && !path.ends_with(".crt") {
            return Err(config_error(format!(
                "ssl.truststore.location={path}: Ferry reads trust stores as PEM (ssl.truststore.type={kind}); \
                 export the CA certificates as PEM and set ssl.truststore.type=PEM"
            )));
        }
        CertificateDer::pem_file_iter(&path)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| {
                config_error(format!(
                    "ssl.truststore.location={path}: cannot read PEM certificates: {e}"
                ))
            })?
    } else {
        let bundle = SYSTEM_CA_BUNDLES
            .iter()
            .find(|p| std::path::Path::new(p).exists())
            .ok_or_else(|| config_error("security.protocol uses TLS but no ssl.truststore.location is set and no system CA bundle was found"))?;
        CertificateDer::pem_file_iter(bundle)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| config_error(format!("{bundle}: cannot read PEM certificates: {e}")))?
    };
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
    let config = if check_name {
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(roots, provider)
            .build()
            .map_err(|e| config_error(format!("TLS: {e}")))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyHostName(inner)))
            .with_no_client_auth()
    };
    Ok(Arc::new(config))
}

/// Verifies the chain against the trust store, not the host name
/// (`ssl.endpoint.identification.algorithm=`, as Java's client then does).
#[derive(Debug)]
struct AnyHostName(Arc<rustls::client::WebPkiServerVerifier>);

impl rustls::client::danger::ServerCertVerifier for AnyHostName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForName))
            | Err(rustls::Error::InvalidCertificate(rustls::CertificateError::NotValidForNameContext {
                ..
            })) => Ok(rustls::client::danger::ServerCertVerified::assertion()),
            other => other,
        }
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
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
            ("ssl.truststore.location", "/etc/kafka/truststore.jks"),
        ])
        .contains("ssl.truststore.type=PEM"));
        assert!(err(&[
            ("security.protocol", "SSL"),
            ("ssl.keystore.location", "/etc/kafka/keystore.p12"),
        ])
        .contains("client certificate"));
        assert!(from(&[("security.protocol", "plaintext")])
            .unwrap()
            .sasl
            .is_none());
    }
}
