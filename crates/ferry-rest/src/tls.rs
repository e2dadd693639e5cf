//! HTTPS listeners: Kafka Connect's `listeners.https.ssl.*` settings read into a rustls
//! server configuration, and a listener that hands axum TLS streams.
//!
//! As in Connect (`valuesWithPrefixAllOrNothing`), when any `listeners.https.` key is set
//! only the prefixed keys count; otherwise the plain `ssl.*` keys do. Key stores: PEM
//! (a file holding the private key and certificate chain, or the inline
//! `ssl.keystore.key` / `ssl.keystore.certificate.chain`) and PKCS12; a JKS file is
//! refused at start-up with the `keytool` command that converts it.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use ferry_core::tls::StoreError;

use crate::server_config::ServerConfigError;

/// `ssl.client.auth`: whether clients must present a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificate asked for (the default).
    None,
    /// Asked for; a client without one is still served.
    Requested,
    /// A client without a certificate signed by the trust store is refused.
    Required,
}

/// The TLS side of HTTPS listeners, ready to accept connections.
#[derive(Clone, Debug)]
pub struct TlsSettings {
    /// The rustls configuration built from the settings.
    pub config: Arc<rustls::ServerConfig>,
    /// `ssl.client.auth`.
    pub client_auth: ClientAuth,
}

/// The TLS keys in force after the all-or-nothing prefix rule, with the prefix they were read under.
struct SslValues<'a> {
    values: BTreeMap<&'a str, &'a str>,
    prefix: &'a str,
}

impl<'a> SslValues<'a> {
    fn new(props: &BTreeMap<&'a str, &'a str>, prefix: &'a str) -> Self {
        let prefixed: BTreeMap<&str, &str> = props
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k, *v)))
            .collect();
        if prefixed.is_empty() {
            SslValues {
                values: props.clone(),
                prefix: "",
            }
        } else {
            SslValues {
                values: prefixed,
                prefix,
            }
        }
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.values.get(key).copied().filter(|v| !v.trim().is_empty())
    }

    /// The key as the user wrote it (with the prefix when prefixed keys are in force).
    fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn setting(&self, key: &str, reason: impl Into<String>) -> ServerConfigError {
        ServerConfigError::setting(&self.name(key), reason)
    }
}

const KEYSTORE_LOCATION: &str = "ssl.keystore.location";
const TRUSTSTORE_LOCATION: &str = "ssl.truststore.location";
const CLIENT_AUTH: &str = "ssl.client.auth";
const ENABLED_PROTOCOLS: &str = "ssl.enabled.protocols";
const CIPHER_SUITES: &str = "ssl.cipher.suites";

impl TlsSettings {
    /// Reads the TLS settings under `prefix` (`listeners.https.` or `admin.listeners.https.`).
    pub fn from_properties(
        props: &BTreeMap<&str, &str>,
        prefix: &str,
    ) -> Result<TlsSettings, ServerConfigError> {
        let ssl = SslValues::new(props, prefix);
        let (certs, key) = read_key_store(&ssl)?;
        let client_auth = match ssl
            .get(CLIENT_AUTH)
            .unwrap_or("none")
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "none" => ClientAuth::None,
            "requested" => ClientAuth::Requested,
            "required" => ClientAuth::Required,
            other => {
                return Err(ServerConfigError::invalid(
                    &ssl.name(CLIENT_AUTH),
                    other,
                    "String must be one of: required, requested, none",
                ));
            }
        };
        let versions = enabled_protocols(&ssl)?;
        if ssl.get(CIPHER_SUITES).is_some() {
            tracing::warn!(
                key = %ssl.name(CIPHER_SUITES),
                "ignored: Ferry offers rustls's safe cipher suites only"
            );
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| ssl.setting(ENABLED_PROTOCOLS, e.to_string()))?;
        let builder = match client_auth {
            ClientAuth::None => builder.with_no_client_auth(),
            ClientAuth::Requested | ClientAuth::Required => {
                let roots = read_trust_store(&ssl)?;
                let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                let verifier = if client_auth == ClientAuth::Requested {
                    verifier.allow_unauthenticated()
                } else {
                    verifier
                };
                let verifier = verifier
                    .build()
                    .map_err(|e| ssl.setting(TRUSTSTORE_LOCATION, e.to_string()))?;
                builder.with_client_cert_verifier(verifier)
            }
        };
        let mut config = builder.with_single_cert(certs, key).map_err(|e| {
            ssl.setting(
                KEYSTORE_LOCATION,
                format!("the key store's key and certificate do not fit: {e}"),
            )
        })?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsSettings {
            config: Arc::new(config),
            client_auth,
        })
    }
}

/// `ssl.enabled.protocols` as rustls versions (TLSv1.2 and TLSv1.3; older ones are skipped with a warning).
fn enabled_protocols(
    ssl: &SslValues<'_>,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, ServerConfigError> {
    let raw = ssl.get(ENABLED_PROTOCOLS).unwrap_or("TLSv1.2,TLSv1.3");
    let mut versions = Vec::new();
    for p in crate::server_config::list(raw) {
        match p.as_str() {
            "TLSv1.3" => versions.push(&rustls::version::TLS13),
            "TLSv1.2" => versions.push(&rustls::version::TLS12),
            other => {
                tracing::warn!(key = %ssl.name(ENABLED_PROTOCOLS), protocol = other, "skipped: Ferry speaks TLSv1.2 and TLSv1.3 only")
            }
        }
    }
    if versions.is_empty() {
        return Err(ServerConfigError::invalid(
            &ssl.name(ENABLED_PROTOCOLS),
            raw,
            "no protocol Ferry supports (TLSv1.2, TLSv1.3)",
        ));
    }
    Ok(versions)
}

type CertifiedKey = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn store_error(ssl: &SslValues<'_>, e: StoreError) -> ServerConfigError {
    ssl.setting(e.key, e.reason)
}

/// The server's certificate chain and private key.
fn read_key_store(ssl: &SslValues<'_>) -> Result<CertifiedKey, ServerConfigError> {
    ferry_core::tls::key_store(&|k| ssl.get(k).map(str::to_owned))
        .map_err(|e| store_error(ssl, e))?
        .ok_or_else(|| {
            ssl.setting(
                KEYSTORE_LOCATION,
                "an HTTPS listener needs a key store (or ssl.keystore.key and ssl.keystore.certificate.chain)",
            )
        })
}

/// The certificate authorities client certificates must chain to.
fn read_trust_store(ssl: &SslValues<'_>) -> Result<RootCertStore, ServerConfigError> {
    let certs = ferry_core::tls::trust_certificates(&|k| ssl.get(k).map(str::to_owned))
        .map_err(|e| store_error(ssl, e))?
        .ok_or_else(|| {
            ssl.setting(
                TRUSTSTORE_LOCATION,
                "ssl.client.auth asks for client certificates: a trust store is needed",
            )
        })?;
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| ssl.setting(TRUSTSTORE_LOCATION, format!("not a usable CA certificate: {e}")))?;
    }
    Ok(roots)
}

/// A TCP listener whose connections complete a TLS handshake before axum sees them.
///
/// Handshakes run in their own tasks (10 s each at most), so a slow or silent client
/// holds up nobody else; failed handshakes are logged at debug and dropped.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    acceptor: tokio::task::JoinHandle<()>,
}

impl TlsListener {
    /// Accepts TLS connections on `tcp` with `config`.
    pub fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        let tls = TlsAcceptor::from(config);
        let acceptor = tokio::spawn(async move {
            loop {
                let (stream, peer) = tokio::select! {
                    accepted = tcp.accept() => match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::debug!(error = %e, "TLS listener: accept failed");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                    _ = tx.closed() => return,
                };
                let (tls, tx) = (tls.clone(), tx.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(Duration::from_secs(10), tls.accept(stream)).await {
                        Ok(Ok(s)) => {
                            let _ = tx.send((s, peer)).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        });
        Ok(TlsListener {
            ready,
            local,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        self.acceptor.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The acceptor only stops when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_keys_win_all_or_nothing() {
        let props: BTreeMap<&str, &str> = [
            ("ssl.keystore.location", "/plain"),
            ("listeners.https.ssl.keystore.password", "p"),
        ]
        .into_iter()
        .collect();
        let ssl = SslValues::new(&props, "listeners.https.");
        assert_eq!(ssl.get(KEYSTORE_LOCATION), None);
        assert_eq!(ssl.get("ssl.keystore.password"), Some("p"));
        assert_eq!(
            ssl.name(KEYSTORE_LOCATION),
            "listeners.https.ssl.keystore.location"
        );
        let props: BTreeMap<&str, &str> = [("ssl.keystore.location", "/plain")].into_iter().collect();
        let ssl = SslValues::new(&props, "listeners.https.");
        assert_eq!(ssl.get(KEYSTORE_LOCATION), Some("/plain"));
        assert_eq!(ssl.name(KEYSTORE_LOCATION), "ssl.keystore.location");
    }

    #[test]
    fn missing_or_bad_settings_name_the_key() {
        let err = |pairs: &[(&str, &str)]| {
            let props: BTreeMap<&str, &str> = pairs.iter().copied().collect();
            TlsSettings::from_properties(&props, "listeners.https.")
                .unwrap_err()
                .to_string()
        };
        assert!(err(&[]).starts_with("ssl.keystore.location: an HTTPS listener needs a key store"));
        let dir = std::env::temp_dir().join(format!("ferry-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let jks = dir.join("k.jks");
        std::fs::write(&jks, b"\xFE\xED\xFE\xED\x00\x00\x00\x02").unwrap();
        let e = err(&[("listeners.https.ssl.keystore.location", jks.to_str().unwrap())]);
        assert!(e.starts_with("listeners.https.ssl.keystore.location: "), "{e}");
        assert!(e.contains("keytool -importkeystore"), "{e}");
        let e = err(&[("ssl.keystore.location", "/nonexistent/k.pem")]);
        assert!(
            e.starts_with("ssl.keystore.location: cannot read /nonexistent/k.pem"),
            "{e}"
        );
        let pem = dir.join("enc.pem");
        std::fs::write(&pem, "-----BEGIN CERTIFICATE-----\nMA==\n-----END CERTIFICATE-----\n-----BEGIN ENCRYPTED PRIVATE KEY-----\nMA==\n-----END ENCRYPTED PRIVATE KEY-----\n").unwrap();
        let e = err(&[("ssl.keystore.location", pem.to_str().unwrap())]);
        assert!(e.contains("encrypted"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
