//! TLS to PostgreSQL per `database.sslmode` / `database.sslrootcert` / `database.sslcert` /
//! `database.sslkey`, with libpq semantics:
//!
//! * `disable`: plain TCP.
//! * `allow`, `prefer`: TLS when the server accepts the SSLRequest, plain otherwise; the
//!   certificate is not checked. (libpq's `allow` tries plain first; Ferry tries TLS first,
//!   which only differs against servers that accept both.)
//! * `require`: TLS, certificate not checked — unless `database.sslrootcert` is set, in which
//!   case (as in libpq) the chain is verified like `verify-ca`.
//! * `verify-ca`: TLS, chain verified against `database.sslrootcert`.
//! * `verify-full`: also the host name (DNS name or IP address SAN) against `database.hostname`.
//!
//! The replication connection uses pgwire-replication's rustls support; the metadata/snapshot
//! connections use tokio-postgres with the [`MakeRustlsConnect`] below. Both use the `ring`
//! crypto provider.

use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use ferry_core::tls::ChainOnly;
use pgwire_replication::{SslMode as WireSsl, TlsConfig};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};

use crate::config::{PostgresConfig, SslMode};
use crate::error::{PgError, Result};

/// How the server certificate is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verify {
    None,
    Chain,
    Full,
}

fn verify_of(cfg: &PostgresConfig) -> Verify {
    match cfg.sslmode {
        SslMode::VerifyFull => Verify::Full,
        SslMode::VerifyCa => Verify::Chain,
        SslMode::Require if cfg.sslrootcert.is_some() => Verify::Chain,
        _ => Verify::None,
    }
}

/// The TLS settings, for error messages: `database.sslmode=verify-full, database.sslrootcert=/ca.pem`.
pub fn describe(cfg: &PostgresConfig) -> String {
    let mut s = format!("database.sslmode={}", cfg.sslmode.as_str());
    if let Some(p) = &cfg.sslrootcert {
        s.push_str(&format!(", database.sslrootcert={p}"));
    }
    if let Some(p) = &cfg.sslcert {
        s.push_str(&format!(", database.sslcert={p}"));
    }
    s
}

/// Whether a TLS failure message is about certificates or configuration (retrying will not
/// help) rather than I/O during the handshake.
///
/// By text: TLS failures carry no SQLSTATE, and pgwire-replication reports them as a string
/// only (`PgWireError::Tls(String)`), so rustls' error names are matched in the message.
pub fn is_config_failure(msg: &str) -> bool {
    [
        "certificate",
        "UnknownIssuer",
        "does not support TLS",
        "config error",
        "BadEncoding",
        "Expired",
        "NotValidYet",
        "InvalidPurpose",
        "unsupported",
    ]
    .iter()
    .any(|p| msg.contains(p))
}

/// A hint for common TLS failures, appended to error messages (starts with "; " or is empty).
pub fn hint(msg: &str) -> &'static str {
    if msg.contains("UnknownIssuer") {
        "; the server certificate is not signed by a CA in database.sslrootcert"
    } else if msg.contains("not valid for name") {
        "; database.hostname does not match the server certificate (use a matching host name, or sslmode=verify-ca)"
    } else if msg.contains("does not support TLS") {
        "; enable ssl on the server or use database.sslmode=prefer/disable"
    } else {
        ""
    }
}

/// CA file for verification: `database.sslrootcert`, else libpq's `~/.postgresql/root.crt`.
fn root_cert_path(cfg: &PostgresConfig) -> Result<Option<PathBuf>> {
    if verify_of(cfg) == Verify::None {
        return Ok(None);
    }
    if let Some(p) = &cfg.sslrootcert {
        return Ok(Some(PathBuf::from(p)));
    }
    if let Some(home) = std::env::var_os("HOME") {
        let p = Path::new(&home).join(".postgresql/root.crt");
        if p.is_file() {
            return Ok(Some(p));
        }
    }
    Err(PgError::Setup(format!(
        "database.sslmode={} verifies the server certificate but no CA is configured: \
         set database.sslrootcert to a PEM file with the root certificate(s)",
        cfg.sslmode.as_str()
    )))
}

/// Settings for the replication connection (pgwire-replication).
///
/// pgwire-replication 0.5.0's verify-ca mode only tolerates rustls' old host name mismatch
/// error, not the `NotValidForNameContext` that current rustls returns, so verify-ca would
/// behave like verify-full. Instead, Ferry probes the server once with its own chain-only
/// verifier, takes a DNS name from the verified certificate, and lets pgwire-replication check
/// chain and that name (equivalent to verify-ca).
pub async fn replication_tls(cfg: &PostgresConfig) -> Result<TlsConfig> {
    let mut tls = replication_tls_base(cfg)?;
    if tls.mode == WireSsl::VerifyCa {
        if let Some(name) = probe_certificate_name(cfg).await? {
            tls.mode = WireSsl::VerifyFull;
            tls.sni_hostname = Some(name);
        }
    }
    Ok(tls)
}

/// A DNS name the server's certificate (verified against the CA) is valid for; `None` when
/// the certificate carries none (then pgwire-replication's own verify-ca is used).
async fn probe_certificate_name(cfg: &PostgresConfig) -> Result<Option<String>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Some(config) = client_config(cfg)? else {
        return Ok(None);
    };
    let fail = |what: String| {
        PgError::Transient(format!(
            "TLS probe of {}:{} ({}): {what}",
            cfg.hostname,
            cfg.port,
            describe(cfg)
        ))
    };
    let mut tcp = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        tokio::net::TcpStream::connect((cfg.hostname.as_str(), cfg.port)),
    )
    .await
    .map_err(|_| fail("connect timed out".into()))?
    .map_err(|e| fail(e.to_string()))?;
    // SSLRequest: length 8, code 80877103.
    tcp.write_all(&[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])
        .await
        .map_err(|e| fail(e.to_string()))?;
    let mut resp = [0u8; 1];
    tcp.read_exact(&mut resp).await.map_err(|e| fail(e.to_string()))?;
    if resp[0] != b'S' {
        return Err(PgError::Setup(format!(
            "{}:{} does not support TLS, but {} requires it",
            cfg.hostname,
            cfg.port,
            describe(cfg)
        )));
    }
    let server_name = ServerName::try_from(cfg.hostname.clone())
        .map_err(|_| PgError::Setup(format!("invalid host name '{}'", cfg.hostname)))?;
    let stream = tokio_rustls::TlsConnector::from(config)
        .connect(server_name, tcp)
        .await
        .map_err(|e| {
            PgError::Setup(format!(
                "TLS handshake with {}:{} failed ({}): {e}",
                cfg.hostname,
                cfg.port,
                describe(cfg)
            ))
        })?;
    let mut stream = stream;
    let name = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
        .and_then(|cert| {
            let ee = webpki::EndEntityCert::try_from(cert).ok()?;
            let name = ee.valid_dns_names().next()?;
            Some(match name.strip_prefix("*.") {
                Some(rest) => format!("ferry.{rest}"),
                None => name.to_string(),
            })
        });
    let _ = stream.shutdown().await;
    Ok(name)
}

fn replication_tls_base(cfg: &PostgresConfig) -> Result<TlsConfig> {
    let mode = match (cfg.sslmode, verify_of(cfg)) {
        (SslMode::Disable, _) => return Ok(TlsConfig::disabled()),
        (SslMode::Allow | SslMode::Prefer, _) => WireSsl::Prefer,
        (_, Verify::None) => WireSsl::Require,
        (_, Verify::Chain) => WireSsl::VerifyCa,
        (_, Verify::Full) => WireSsl::VerifyFull,
    };
    let mut tls = TlsConfig {
        mode,
        ca_pem_path: root_cert_path(cfg)?,
        // Always the configured host: an IP literal then verifies against IP SANs (rustls
        // sends no SNI for IP addresses), as libpq does.
        sni_hostname: Some(cfg.hostname.clone()),
        ..TlsConfig::disabled()
    };
    if let (Some(c), Some(k)) = (&cfg.sslcert, &cfg.sslkey) {
        tls = tls.with_client_cert(c, k);
    }
    Ok(tls)
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn load_roots(path: &Path) -> Result<RootCertStore> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
        .map_err(|e| {
            PgError::Setup(format!(
                "database.sslrootcert: cannot read CA certificates from '{}': {e}",
                path.display()
            ))
        })?;
    let mut roots = RootCertStore::empty();
    let (added, _) = roots.add_parsable_certificates(certs);
    if added == 0 {
        return Err(PgError::Setup(format!(
            "database.sslrootcert: no valid CA certificate in '{}'",
            path.display()
        )));
    }
    Ok(roots)
}

/// rustls settings for the tokio-postgres connections; `None` for `sslmode=disable`.
pub fn client_config(cfg: &PostgresConfig) -> Result<Option<Arc<ClientConfig>>> {
    if cfg.sslmode == SslMode::Disable {
        return Ok(None);
    }
    let provider = provider();
    let verifier: Arc<dyn ServerCertVerifier> = match root_cert_path(cfg)? {
        None => Arc::new(NoVerifier(provider.clone())),
        Some(path) => {
            let roots = Arc::new(load_roots(&path)?);
            let inner = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                .build()
                .map_err(|e| PgError::Setup(format!("database.sslrootcert: {e}")))?;
            if verify_of(cfg) == Verify::Full {
                inner
            } else {
                Arc::new(ChainOnly::new(inner))
            }
        }
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| PgError::Setup(format!("TLS setup: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let config = match (&cfg.sslcert, &cfg.sslkey) {
        (Some(c), Some(k)) => {
            let chain = CertificateDer::pem_file_iter(c)
                .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
                .map_err(|e| PgError::Setup(format!("database.sslcert: cannot read '{c}': {e}")))?;
            if chain.is_empty() {
                return Err(PgError::Setup(format!(
                    "database.sslcert: no certificate in '{c}'"
                )));
            }
            let key = PrivateKeyDer::from_pem_file(k).map_err(|e| {
                PgError::Setup(format!(
                    "database.sslkey: cannot read an unencrypted PEM private key from '{k}': {e}"
                ))
            })?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| PgError::Setup(format!("database.sslcert/database.sslkey: {e}")))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Some(Arc::new(config)))
}

/// Accepts any certificate (`prefer`, `require`) but still checks handshake signatures.
#[derive(Debug)]
struct NoVerifier(Arc<CryptoProvider>);

impl ServerCertVerifier for NoVerifier {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// tokio-postgres TLS connector on tokio-rustls.
#[derive(Clone)]
pub struct MakeRustlsConnect {
    config: Arc<ClientConfig>,
}

impl MakeRustlsConnect {
    /// A connector using `config`.
    pub fn new(config: Arc<ClientConfig>) -> Self {
        MakeRustlsConnect { config }
    }
}

/// One connection's TLS handshake.
pub struct RustlsConnect {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
}

/// A TLS stream for tokio-postgres.
pub struct RustlsStream<S>(Box<tokio_rustls::client::TlsStream<S>>);

impl<S> MakeTlsConnect<S> for MakeRustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> io::Result<RustlsConnect> {
        let server_name = ServerName::try_from(domain.to_string()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid TLS server name '{domain}'"),
            )
        })?;
        Ok(RustlsConnect {
            config: self.config.clone(),
            server_name,
        })
    }
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            tokio_rustls::TlsConnector::from(self.config)
                .connect(self.server_name, stream)
                .await
                .map(|s| RustlsStream(Box::new(s)))
        })
    }
}

impl<S> tokio_postgres::tls::TlsStream for RustlsStream<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}
