//! One connection to a broker speaking Kafka's wire protocol through `kafka-protocol`:
//! length-prefixed frames, request header v1 / response header v0 (the non-flexible
//! versions every group API used here has), API versions negotiated once, over TLS and
//! after a SASL exchange when the worker's `security.protocol` asks for them.

use std::collections::HashMap;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{
    ApiVersionsRequest, ApiVersionsResponse, RequestHeader, ResponseHeader, SaslAuthenticateRequest,
    SaslAuthenticateResponse, SaslHandshakeRequest, SaslHandshakeResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::security::{GroupSecurity, SaslLogin};
use super::GroupError;

/// A byte stream to the broker: TCP, or TLS over TCP.
trait BrokerStream: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<S: AsyncRead + AsyncWrite + Unpin + Send + Sync> BrokerStream for S {}

/// API keys used by the group member.
pub(super) mod api {
    pub const FIND_COORDINATOR: i16 = 10;
    pub const JOIN_GROUP: i16 = 11;
    pub const HEARTBEAT: i16 = 12;
    pub const LEAVE_GROUP: i16 = 13;
    pub const SYNC_GROUP: i16 = 14;
    pub const SASL_HANDSHAKE: i16 = 17;
    pub const API_VERSIONS: i16 = 18;
    pub const SASL_AUTHENTICATE: i16 = 36;
}

/// The highest non-flexible version of each API this client sends.
fn our_max(key: i16) -> i16 {
    match key {
        api::FIND_COORDINATOR => 2,
        api::JOIN_GROUP => 5,
        api::HEARTBEAT => 3,
        api::LEAVE_GROUP => 2,
        api::SYNC_GROUP => 3,
        api::SASL_HANDSHAKE => 1,
        api::SASL_AUTHENTICATE => 1,
        _ => 0,
    }
}

/// The lowest version this client can send (FindCoordinator v1 adds the key type;
/// JoinGroup v1 the rebalance timeout).
fn our_min(key: i16) -> i16 {
    match key {
        // SaslHandshake v1: the exchange goes on in SaslAuthenticate frames.
        api::FIND_COORDINATOR | api::JOIN_GROUP | api::SASL_HANDSHAKE => 1,
        _ => 0,
    }
}

/// A broker connection.
pub(super) struct Conn {
    stream: Box<dyn BrokerStream>,
    addr: String,
    client_id: StrBytes,
    correlation: i32,
    versions: HashMap<i16, i16>,
    /// Longest wait for one answer.
    pub(super) timeout: Duration,
}

/// A failed TLS handshake: a refused certificate is a setting to fix (not retried as a
/// network failure is).
fn tls_error(addr: &str, e: std::io::Error) -> GroupError {
    let refused = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|r| {
            matches!(
                r,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            )
        });
    if refused {
        GroupError::Config(format!(
            "TLS handshake with {addr} failed: {e}; check ssl.truststore.location and ssl.endpoint.identification.algorithm"
        ))
    } else {
        GroupError::Io(format!("TLS handshake with {addr} failed: {e}"))
    }
}

impl Conn {
    /// Connects to `addr` (over TLS and authenticating as `security` says) and negotiates
    /// API versions.
    pub(super) async fn open(
        addr: &str,
        client_id: &str,
        timeout: Duration,
        security: &GroupSecurity,
    ) -> Result<Conn, GroupError> {
        let tcp = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| GroupError::Io(format!("connecting to {addr} timed out")))?
            .map_err(|e| GroupError::Io(format!("cannot connect to {addr}: {e}")))?;
        tcp.set_nodelay(true).ok();
        let stream: Box<dyn BrokerStream> = match &security.tls {
            None => Box::new(tcp),
            Some(tls) => {
                let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
                let host = host.trim_start_matches('[').trim_end_matches(']');
                let name = rustls::pki_types::ServerName::try_from(host.to_owned())
                    .map_err(|e| GroupError::Io(format!("{addr}: not a TLS server name: {e}")))?;
                let connect = tokio_rustls::TlsConnector::from(tls.clone()).connect(name, tcp);
                let tls_stream = tokio::time::timeout(timeout, connect)
                    .await
                    .map_err(|_| GroupError::Io(format!("TLS handshake with {addr} timed out")))?
                    .map_err(|e| tls_error(addr, e))?;
                Box::new(tls_stream)
            }
        };
        let mut conn = Conn {
            stream,
            addr: addr.to_string(),
            client_id: StrBytes::from_string(client_id.to_string()),
            correlation: 0,
            versions: HashMap::new(),
            timeout,
        };
        let resp: ApiVersionsResponse = conn
            .call_at(api::API_VERSIONS, 0, &ApiVersionsRequest::default())
            .await?;
        if resp.error_code != 0 {
            return Err(GroupError::Kafka("ApiVersions", resp.error_code));
        }
        for k in resp.api_keys {
            let hi = k.max_version.min(our_max(k.api_key));
            if hi >= k.min_version.max(our_min(k.api_key)) {
                conn.versions.insert(k.api_key, hi);
            }
        }
        if let Some(login) = &security.sasl {
            conn.authenticate(login).await?;
        }
        Ok(conn)
    }

    /// SaslHandshake, then SaslAuthenticate rounds until the mechanism is done (KIP-152).
    async fn authenticate(&mut self, login: &SaslLogin) -> Result<(), GroupError> {
        use rsasl::prelude::{Mechname, SASLClient, SASLConfig};
        let mechanism = login.mechanism.name();
        let (_, hs): (_, SaslHandshakeResponse) = self
            .call(
                api::SASL_HANDSHAKE,
                &SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str(mechanism)),
            )
            .await?;
        if hs.error_code != 0 {
            let enabled: Vec<&str> = hs.mechanisms.iter().map(|m| m.as_str()).collect();
            return Err(GroupError::Config(format!(
                "{}: sasl.mechanism={mechanism} is not enabled on the broker (it offers {}; Kafka error code {})",
                self.addr,
                enabled.join(", "),
                hs.error_code
            )));
        }
        let sasl_error = |e: rsasl::prelude::SASLError| GroupError::Config(format!("SASL {mechanism}: {e}"));
        let config = SASLConfig::with_credentials(None, login.username.clone(), login.password.clone())
            .map_err(sasl_error)?;
        let name = Mechname::parse(mechanism.as_bytes()).map_err(|e| GroupError::Config(format!("{e}")))?;
        let mut session = SASLClient::new(config)
            .start_suggested(&[name])
            .map_err(sasl_error)?;
        let mut input: Option<Vec<u8>> = None;
        loop {
            let mut out = Vec::new();
            let state = session.step(input.as_deref(), &mut out).map_err(|e| {
                GroupError::Config(format!(
                    "{}: authentication as {} with {mechanism} failed: {e}; check sasl.jaas.config",
                    self.addr, login.username
                ))
            })?;
            if state.has_sent_message() {
                let req = SaslAuthenticateRequest::default().with_auth_bytes(Bytes::from(out));
                let (_, resp): (_, SaslAuthenticateResponse) =
                    self.call(api::SASL_AUTHENTICATE, &req).await?;
                if resp.error_code != 0 {
                    let why = resp.error_message.as_ref().map_or("", |m| m.as_str());
                    return Err(GroupError::Config(format!(
                        "{}: authentication as {} with {mechanism} failed (Kafka error code {}): {why}; check sasl.jaas.config",
                        self.addr, login.username, resp.error_code
                    )));
                }
                input = Some(resp.auth_bytes.to_vec());
            }
            if state.is_finished() {
                return Ok(());
            }
        }
    }

    /// The broker address.
    pub(super) fn addr(&self) -> &str {
        &self.addr
    }

    /// The negotiated version of `key`.
    pub(super) fn version(&self, key: i16) -> Result<i16, GroupError> {
        self.versions
            .get(&key)
            .copied()
            .ok_or_else(|| GroupError::Unsupported(key, self.addr.clone()))
    }

    /// Sends `req` as `key` at its negotiated version and reads the answer.
    pub(super) async fn call<Req: Encodable, Resp: Decodable>(
        &mut self,
        key: i16,
        req: &Req,
    ) -> Result<(i16, Resp), GroupError> {
        let v = self.version(key)?;
        Ok((v, self.call_at(key, v, req).await?))
    }

    /// Sends `req` as `key` version `version` and reads the answer, within `timeout`
    /// (JoinGroup may take up to the rebalance timeout: callers pass a longer one).
    pub(super) async fn call_at<Req: Encodable, Resp: Decodable>(
        &mut self,
        key: i16,
        version: i16,
        req: &Req,
    ) -> Result<Resp, GroupError> {
        self.correlation = self.correlation.wrapping_add(1);
        let header = RequestHeader::default()
            .with_request_api_key(key)
            .with_request_api_version(version)
            .with_correlation_id(self.correlation)
            .with_client_id(Some(self.client_id.clone()));
        let mut body = BytesMut::new();
        header
            .encode(&mut body, 1)
            .map_err(|e| GroupError::Encode(e.to_string()))?;
        req.encode(&mut body, version)
            .map_err(|e| GroupError::Encode(e.to_string()))?;
        let mut frame = BytesMut::with_capacity(body.len() + 4);
        frame.extend_from_slice(&(body.len() as i32).to_be_bytes());
        frame.extend_from_slice(&body);
        let timeout = self.timeout;
        let addr = self.addr.clone();
        let io = async {
            self.stream.write_all(&frame).await?;
            let len = self.stream.read_i32().await?;
            let mut buf = vec![0u8; len.max(0) as usize];
            self.stream.read_exact(&mut buf).await?;
            Ok::<_, std::io::Error>(buf)
        };
        let buf = tokio::time::timeout(timeout, io)
            .await
            .map_err(|_| GroupError::Io(format!("no answer from {addr} within {timeout:?}")))?
            .map_err(|e| GroupError::Io(format!("connection to {addr}: {e}")))?;
        let mut bytes = Bytes::from(buf);
        let rh = ResponseHeader::decode(&mut bytes, 0).map_err(|e| GroupError::Decode(e.to_string()))?;
        if rh.correlation_id != self.correlation {
            return Err(GroupError::Io(format!(
                "{addr} answered correlation id {} to request {}",
                rh.correlation_id, self.correlation
            )));
        }
        let resp = Resp::decode(&mut bytes, version).map_err(|e| GroupError::Decode(e.to_string()))?;
        if bytes.has_remaining() {
            tracing::trace!(
                api_key = key,
                left = bytes.remaining(),
                "response had trailing bytes"
            );
        }
        Ok(resp)
    }
}
