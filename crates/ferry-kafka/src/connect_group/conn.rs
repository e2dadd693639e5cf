//! One connection to a broker speaking Kafka's wire protocol through `kafka-protocol`:
//! length-prefixed frames, request header v1 / response header v0 (the non-flexible
//! versions every group API used here has), API versions negotiated once.

use std::collections::HashMap;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::GroupError;

/// API keys used by the group member.
pub(super) mod api {
    pub const FIND_COORDINATOR: i16 = 10;
    pub const JOIN_GROUP: i16 = 11;
    pub const HEARTBEAT: i16 = 12;
    pub const LEAVE_GROUP: i16 = 13;
    pub const SYNC_GROUP: i16 = 14;
    pub const API_VERSIONS: i16 = 18;
}

/// The highest non-flexible version of each API this client sends.
fn our_max(key: i16) -> i16 {
    match key {
        api::FIND_COORDINATOR => 2,
        api::JOIN_GROUP => 5,
        api::HEARTBEAT => 3,
        api::LEAVE_GROUP => 2,
        api::SYNC_GROUP => 3,
        _ => 0,
    }
}

/// The lowest version this client can send (FindCoordinator v1 adds the key type;
/// JoinGroup v1 the rebalance timeout).
fn our_min(key: i16) -> i16 {
    match key {
        api::FIND_COORDINATOR | api::JOIN_GROUP => 1,
        _ => 0,
    }
}

/// A broker connection.
pub(super) struct Conn {
    stream: TcpStream,
    addr: String,
    client_id: StrBytes,
    correlation: i32,
    versions: HashMap<i16, i16>,
    /// Longest wait for one answer.
    pub(super) timeout: Duration,
}

impl Conn {
    /// Connects to `addr` and negotiates API versions.
    pub(super) async fn open(addr: &str, client_id: &str, timeout: Duration) -> Result<Conn, GroupError> {
        let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| GroupError::Io(format!("connecting to {addr} timed out")))?
            .map_err(|e| GroupError::Io(format!("cannot connect to {addr}: {e}")))?;
        stream.set_nodelay(true).ok();
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
        Ok(conn)
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
