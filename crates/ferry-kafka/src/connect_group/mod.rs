//! A member of a Kafka Connect worker group on Kafka's classic group protocol
//! (FindCoordinator, JoinGroup, SyncGroup, Heartbeat, LeaveGroup) with protocol type
//! `connect`, spoken directly through the `kafka-protocol` crate: librdkafka's consumer
//! only speaks the consumer protocol. PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
//! (`security`).

pub mod assignor;
mod conn;
pub mod security;

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    FindCoordinatorRequest, FindCoordinatorResponse, GroupId, HeartbeatRequest, HeartbeatResponse,
    JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, LeaveGroupResponse, SyncGroupRequest,
    SyncGroupResponse,
};
use kafka_protocol::protocol::StrBytes;

use conn::{api, Conn};
pub use security::{GroupSecurity, SaslLogin, SaslMechanism};

/// The group protocol type of Kafka Connect workers.
pub const PROTOCOL_TYPE: &str = "connect";

/// Kafka error codes the member acts on.
mod code {
    pub const COORDINATOR_LOAD_IN_PROGRESS: i16 = 14;
    pub const COORDINATOR_NOT_AVAILABLE: i16 = 15;
    pub const NOT_COORDINATOR: i16 = 16;
    pub const ILLEGAL_GENERATION: i16 = 22;
    pub const UNKNOWN_MEMBER_ID: i16 = 25;
    pub const REBALANCE_IN_PROGRESS: i16 = 27;
    pub const INVALID_REQUEST: i16 = 42;
    pub const MEMBER_ID_REQUIRED: i16 = 79;
}

/// What went wrong in the group.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    /// A network failure or timeout.
    #[error("{0}")]
    Io(String),
    /// A request could not be encoded.
    #[error("cannot encode a group request: {0}")]
    Encode(String),
    /// An answer could not be decoded.
    #[error("cannot decode a group answer: {0}")]
    Decode(String),
    /// The broker lacks an API (or every version this client speaks).
    #[error("the broker at {1} does not support API key {0} in a version Ferry speaks")]
    Unsupported(i16, String),
    /// The broker answered an error code.
    #[error("{0} failed with Kafka error code {1}")]
    Kafka(&'static str, i16),
    /// The group is rebalancing (or this member's generation is stale): join again.
    #[error("the group is rebalancing; the member must rejoin")]
    Rejoin,
    /// A setting this client cannot honour.
    #[error("{0}")]
    Config(String),
}

/// Settings of the member, from the worker config.
#[derive(Clone, Debug)]
pub struct GroupSettings {
    /// `bootstrap.servers` (comma-separated `host:port`, `PLAINTEXT://` prefixes allowed).
    pub bootstrap_servers: String,
    /// `group.id`.
    pub group_id: String,
    /// The client id sent in request headers.
    pub client_id: String,
    /// `session.timeout.ms`.
    pub session_timeout_ms: i32,
    /// `rebalance.timeout.ms`.
    pub rebalance_timeout_ms: i32,
    /// `heartbeat.interval.ms`.
    pub heartbeat_interval_ms: u64,
    /// Longest wait for an answer other than JoinGroup's.
    pub request_timeout: Duration,
    /// TLS and SASL (`security.protocol` and the `ssl.*` / `sasl.*` settings).
    pub security: GroupSecurity,
}

/// A JoinGroup's outcome.
#[derive(Clone, Debug)]
pub struct Joined {
    /// The group generation.
    pub generation: i32,
    /// This member's id.
    pub member_id: String,
    /// The leader's member id.
    pub leader_id: String,
    /// The subprotocol the coordinator chose.
    pub protocol: String,
    /// Every member and its metadata for the chosen protocol (only the leader gets them).
    pub members: Vec<(String, Bytes)>,
}

impl Joined {
    /// Whether this member leads the generation.
    pub fn is_leader(&self) -> bool {
        self.member_id == self.leader_id
    }
}

/// A Connect group member. Calls are sequential: one task drives it.
pub struct ConnectGroupMember {
    settings: GroupSettings,
    coordinator: Option<Conn>,
    member_id: String,
    generation: i32,
    protocol: Option<String>,
}

impl ConnectGroupMember {
    /// A member not yet in the group.
    pub fn new(settings: GroupSettings) -> ConnectGroupMember {
        ConnectGroupMember {
            settings,
            coordinator: None,
            member_id: String::new(),
            generation: -1,
            protocol: None,
        }
    }

    /// The settings.
    pub fn settings(&self) -> &GroupSettings {
        &self.settings
    }

    /// This member's id ("" before the first join).
    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    /// The current generation (−1 before the first join).
    pub fn generation(&self) -> i32 {
        self.generation
    }

    fn group_id(&self) -> GroupId {
        GroupId(StrBytes::from_string(self.settings.group_id.clone()))
    }

    /// Finds the group coordinator through the bootstrap servers and connects to it.
    async fn coordinator(&mut self) -> Result<&mut Conn, GroupError> {
        if self.coordinator.is_none() {
            let mut last = GroupError::Io("bootstrap.servers is empty".into());
            let servers: Vec<String> = self
                .settings
                .bootstrap_servers
                .split(',')
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(|s| s.rsplit("://").next().unwrap_or(s).to_string())
                .collect();
            for server in servers {
                match self.find_coordinator(&server).await {
                    Ok(c) => {
                        self.coordinator = Some(c);
                        break;
                    }
                    Err(e) => last = e,
                }
            }
            if self.coordinator.is_none() {
                return Err(last);
            }
        }
        Ok(self.coordinator.as_mut().expect("coordinator set"))
    }

    async fn find_coordinator(&self, server: &str) -> Result<Conn, GroupError> {
        let timeout = self.settings.request_timeout;
        let mut boot = Conn::open(server, &self.settings.client_id, timeout, &self.settings.security).await?;
        let req = FindCoordinatorRequest::default()
            .with_key(StrBytes::from_string(self.settings.group_id.clone()))
            .with_key_type(0);
        let (_, resp): (_, FindCoordinatorResponse) = boot.call(api::FIND_COORDINATOR, &req).await?;
        if resp.error_code != 0 {
            return Err(GroupError::Kafka("FindCoordinator", resp.error_code));
        }
        let addr = format!("{}:{}", resp.host.as_str(), resp.port);
        tracing::debug!(group_id = %self.settings.group_id, coordinator = %addr, "found the group coordinator");
        if addr == boot.addr() {
            return Ok(boot);
        }
        Conn::open(&addr, &self.settings.client_id, timeout, &self.settings.security).await
    }

    /// Forgets the coordinator after an error that says it moved or went away.
    fn on_error(&mut self, e: &GroupError) {
        let moved = match e {
            GroupError::Io(_) | GroupError::Decode(_) => true,
            GroupError::Kafka(_, c) => matches!(
                *c,
                code::NOT_COORDINATOR | code::COORDINATOR_NOT_AVAILABLE | code::COORDINATOR_LOAD_IN_PROGRESS
            ),
            _ => false,
        };
        if moved {
            self.coordinator = None;
        }
    }

    /// Joins (or rejoins) the group offering `protocols` (name, metadata) in order of
    /// preference; retries coordinator moves and member-id handshakes until `deadline`.
    pub async fn join(&mut self, protocols: &[(String, Vec<u8>)]) -> Result<Joined, GroupError> {
        let deadline = tokio::time::Instant::now()
            + Duration::from_millis(self.settings.rebalance_timeout_ms.max(0) as u64)
            + self.settings.request_timeout * 2;
        loop {
            match self.join_once(protocols).await {
                Ok(Some(j)) => return Ok(j),
                Ok(None) => continue,
                Err(e) => {
                    self.on_error(&e);
                    let retriable = matches!(e, GroupError::Io(_) | GroupError::Decode(_))
                        || matches!(e, GroupError::Kafka(_, c) if matches!(c,
                            code::NOT_COORDINATOR | code::COORDINATOR_NOT_AVAILABLE
                            | code::COORDINATOR_LOAD_IN_PROGRESS | code::REBALANCE_IN_PROGRESS));
                    if !retriable || tokio::time::Instant::now() >= deadline {
                        return Err(e);
                    }
                    tracing::debug!(group_id = %self.settings.group_id, "JoinGroup retried: {e}");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    }

    /// One JoinGroup; `None` when it must be sent again at once (a new member id).
    async fn join_once(&mut self, protocols: &[(String, Vec<u8>)]) -> Result<Option<Joined>, GroupError> {
        let s = self.settings.clone();
        let req = JoinGroupRequest::default()
            .with_group_id(self.group_id())
            .with_session_timeout_ms(s.session_timeout_ms)
            .with_rebalance_timeout_ms(s.rebalance_timeout_ms)
            .with_member_id(StrBytes::from_string(self.member_id.clone()))
            .with_protocol_type(StrBytes::from_static_str(PROTOCOL_TYPE))
            .with_protocols(
                protocols
                    .iter()
                    .map(|(name, meta)| {
                        JoinGroupRequestProtocol::default()
                            .with_name(StrBytes::from_string(name.clone()))
                            .with_metadata(Bytes::copy_from_slice(meta))
                    })
                    .collect(),
            );
        let conn = self.coordinator().await?;
        // The coordinator holds JoinGroup until every member joined or the rebalance timed out.
        let normal = conn.timeout;
        conn.timeout = normal + Duration::from_millis(s.rebalance_timeout_ms.max(0) as u64);
        let result: Result<(i16, JoinGroupResponse), _> = conn.call(api::JOIN_GROUP, &req).await;
        conn.timeout = normal;
        let (_, resp) = result?;
        match resp.error_code {
            0 => {}
            code::MEMBER_ID_REQUIRED => {
                self.member_id = resp.member_id.to_string();
                return Ok(None);
            }
            code::UNKNOWN_MEMBER_ID | code::ILLEGAL_GENERATION => {
                self.member_id.clear();
                return Ok(None);
            }
            c => return Err(GroupError::Kafka("JoinGroup", c)),
        }
        self.member_id = resp.member_id.to_string();
        self.generation = resp.generation_id;
        let protocol = resp.protocol_name.map(|p| p.to_string()).unwrap_or_default();
        self.protocol = Some(protocol.clone());
        Ok(Some(Joined {
            generation: resp.generation_id,
            member_id: self.member_id.clone(),
            leader_id: resp.leader.to_string(),
            protocol,
            members: resp
                .members
                .into_iter()
                .map(|m| (m.member_id.to_string(), m.metadata))
                .collect(),
        }))
    }

    /// Sends this member's SyncGroup (the leader passes every member's assignment, the
    /// others none) and returns this member's assignment bytes. [`GroupError::Rejoin`]
    /// when the group moved on meanwhile.
    pub async fn sync(&mut self, assignments: Vec<(String, Vec<u8>)>) -> Result<Bytes, GroupError> {
        let req = SyncGroupRequest::default()
            .with_group_id(self.group_id())
            .with_generation_id(self.generation)
            .with_member_id(StrBytes::from_string(self.member_id.clone()))
            .with_protocol_type(Some(StrBytes::from_static_str(PROTOCOL_TYPE)))
            .with_protocol_name(self.protocol.clone().map(StrBytes::from_string))
            .with_assignments(
                assignments
                    .into_iter()
                    .map(|(m, a)| {
                        SyncGroupRequestAssignment::default()
                            .with_member_id(StrBytes::from_string(m))
                            .with_assignment(Bytes::from(a))
                    })
                    .collect(),
            );
        let extra = Duration::from_millis(self.settings.rebalance_timeout_ms.max(0) as u64);
        let conn = self.coordinator().await?;
        let normal = conn.timeout;
        conn.timeout = normal + extra;
        let result: Result<(i16, SyncGroupResponse), _> = conn.call(api::SYNC_GROUP, &req).await;
        conn.timeout = normal;
        let resp = match result {
            Ok((_, r)) => r,
            // An error answer with a null assignment (librdkafka's mock coordinator sends
            // one) does not decode: the generation is gone either way, so rejoin.
            Err(GroupError::Decode(e)) => {
                tracing::debug!("SyncGroup answer did not decode ({e}); rejoining");
                return Err(GroupError::Rejoin);
            }
            Err(e) => {
                self.on_error(&e);
                return Err(e);
            }
        };
        self.check(resp.error_code, "SyncGroup")?;
        Ok(resp.assignment)
    }

    /// Maps a group error code: rebalancing, stale generations and unknown members ask for
    /// a rejoin (an unknown member also forgets its id).
    fn check(&mut self, code: i16, what: &'static str) -> Result<(), GroupError> {
        match code {
            0 => Ok(()),
            code::REBALANCE_IN_PROGRESS | code::ILLEGAL_GENERATION | code::INVALID_REQUEST => {
                Err(GroupError::Rejoin)
            }
            code::UNKNOWN_MEMBER_ID => {
                self.member_id.clear();
                Err(GroupError::Rejoin)
            }
            c => {
                let e = GroupError::Kafka(what, c);
                self.on_error(&e);
                Err(e)
            }
        }
    }

    /// One heartbeat. [`GroupError::Rejoin`] when the group is rebalancing.
    pub async fn heartbeat(&mut self) -> Result<(), GroupError> {
        let req = HeartbeatRequest::default()
            .with_group_id(self.group_id())
            .with_generation_id(self.generation)
            .with_member_id(StrBytes::from_string(self.member_id.clone()));
        let conn = self.coordinator().await?;
        let result: Result<(i16, HeartbeatResponse), _> = conn.call(api::HEARTBEAT, &req).await;
        match result {
            Ok((_, r)) => self.check(r.error_code, "Heartbeat"),
            Err(e) => {
                self.on_error(&e);
                Err(e)
            }
        }
    }

    /// Leaves the group at once (best effort), so the others rebalance without waiting
    /// for this member's session to expire.
    pub async fn leave(&mut self) {
        if self.member_id.is_empty() {
            return;
        }
        let req = LeaveGroupRequest::default()
            .with_group_id(self.group_id())
            .with_member_id(StrBytes::from_string(self.member_id.clone()));
        if let Ok(conn) = self.coordinator().await {
            let r: Result<(i16, LeaveGroupResponse), _> = conn.call(api::LEAVE_GROUP, &req).await;
            match r {
                Ok((_, resp)) if resp.error_code == 0 => {
                    tracing::info!(group_id = %self.settings.group_id, member_id = %self.member_id, "left the worker group")
                }
                Ok((_, resp)) => {
                    tracing::warn!("LeaveGroup failed with Kafka error code {}", resp.error_code)
                }
                Err(e) => tracing::warn!("LeaveGroup failed: {e}"),
            }
        }
        self.member_id.clear();
        self.generation = -1;
    }
}
