//! Kafka Connect's group subprotocols, byte for byte: the member metadata a worker
//! sends in JoinGroup and the assignment the leader hands out in SyncGroup.
//!
//! * `default` (version 0, eager): metadata `version:int16, url:string, config-offset:int64`;
//!   assignment `version, error:int16, leader:string, leader-url:string,
//!   config-offset:int64, assignment:[connector:string, tasks:[int32]]`.
//! * `compatible` (version 1) and `sessioned` (version 2), incremental cooperative:
//!   metadata adds the member's current assignment as nullable bytes; the assignment
//!   adds `revoked:[...]` and `delay:int32`, with the trailing fields optional when read.
//!
//! Task id −1 in a connector's task list stands for the connector itself.

mod wire;

pub use wire::DecodeError;
use wire::{Reader, Writer};

/// The task id that stands for the connector instance in an assignment's task list.
pub const CONNECTOR_TASK: i32 = -1;

/// Connect's subprotocols (`connect.protocol`), in Connect's order of preference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConnectProtocol {
    /// `default`: eager rebalancing, version 0.
    Eager,
    /// `compatible`: incremental cooperative rebalancing (KIP-415), version 1.
    Compatible,
    /// `sessioned`: incremental cooperative with signed internal requests (KIP-507), version 2.
    Sessioned,
}

impl ConnectProtocol {
    /// The subprotocol name sent in JoinGroup.
    pub fn name(self) -> &'static str {
        match self {
            ConnectProtocol::Eager => "default",
            ConnectProtocol::Compatible => "compatible",
            ConnectProtocol::Sessioned => "sessioned",
        }
    }

    /// The version written in the metadata and assignment headers.
    pub fn version(self) -> i16 {
        match self {
            ConnectProtocol::Eager => 0,
            ConnectProtocol::Compatible => 1,
            ConnectProtocol::Sessioned => 2,
        }
    }

    /// The subprotocol of a `connect.protocol` value or a JoinGroup protocol name.
    pub fn from_name(name: &str) -> Option<ConnectProtocol> {
        match name.to_ascii_lowercase().as_str() {
            "default" | "eager" => Some(ConnectProtocol::Eager),
            "compatible" => Some(ConnectProtocol::Compatible),
            "sessioned" => Some(ConnectProtocol::Sessioned),
            _ => None,
        }
    }

    /// The subprotocol of a header version (versions above 2 read as 2, as Connect tolerates).
    pub fn from_version(version: i16) -> Option<ConnectProtocol> {
        match version {
            0 => Some(ConnectProtocol::Eager),
            1 => Some(ConnectProtocol::Compatible),
            v if v >= 2 => Some(ConnectProtocol::Sessioned),
            _ => None,
        }
    }

    /// Whether rebalancing is incremental cooperative.
    pub fn is_incremental(self) -> bool {
        self != ConnectProtocol::Eager
    }

    /// The subprotocols a worker configured with `self` offers, most preferred first
    /// (as Connect's `metadataRequest`: sessioned, compatible, default).
    pub fn offered(self) -> &'static [ConnectProtocol] {
        match self {
            ConnectProtocol::Eager => &[ConnectProtocol::Eager],
            ConnectProtocol::Compatible => &[ConnectProtocol::Compatible, ConnectProtocol::Eager],
            ConnectProtocol::Sessioned => &[
                ConnectProtocol::Sessioned,
                ConnectProtocol::Compatible,
                ConnectProtocol::Eager,
            ],
        }
    }
}

/// A connector or one of its tasks, as named in an assignment.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TaskId {
    /// The connector's name.
    pub connector: String,
    /// The task number.
    pub task: i32,
}

impl TaskId {
    /// Task `task` of `connector`.
    pub fn new(connector: impl Into<String>, task: i32) -> TaskId {
        TaskId {
            connector: connector.into(),
            task,
        }
    }
}

/// What a worker tells the group when it joins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerMetadata {
    /// The worker's advertised REST URL.
    pub url: String,
    /// The config topic offset the worker has read up to.
    pub config_offset: i64,
    /// The worker's current assignment (incremental protocols only; `None` when empty).
    pub assignment: Option<Assignment>,
}

/// Assignment error: none.
pub const NO_ERROR: i16 = 0;
/// Assignment error: the leader's config is behind a member's; members must catch up.
pub const CONFIG_MISMATCH: i16 = 1;

/// The leader's answer to one member: what it runs, and (incremental) what it stops.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assignment {
    /// [`NO_ERROR`] or [`CONFIG_MISMATCH`].
    pub error: i16,
    /// The leader's member id.
    pub leader: String,
    /// The leader's advertised REST URL.
    pub leader_url: String,
    /// The config topic offset the assignment was computed at.
    pub config_offset: i64,
    /// Connectors to run.
    pub connectors: Vec<String>,
    /// Tasks to run.
    pub tasks: Vec<TaskId>,
    /// Connectors to stop (incremental protocols).
    pub revoked_connectors: Vec<String>,
    /// Tasks to stop (incremental protocols).
    pub revoked_tasks: Vec<TaskId>,
    /// Milliseconds until the leader reassigns a departed member's work (incremental).
    pub delay: i32,
}

impl Assignment {
    /// Whether nothing is assigned or revoked and no rebalance is scheduled.
    pub fn is_empty(&self) -> bool {
        self.connectors.is_empty()
            && self.tasks.is_empty()
            && self.revoked_connectors.is_empty()
            && self.revoked_tasks.is_empty()
            && self.delay == 0
    }
}

/// Groups connectors and tasks per connector, connectors first in each group, keeping the
/// order in which connectors first appear.
fn by_connector<'a>(connectors: &'a [String], tasks: &'a [TaskId]) -> Vec<(&'a str, Vec<i32>)> {
    let mut out: Vec<(&str, Vec<i32>)> = Vec::new();
    let mut push = |name: &'a str, id: i32| match out.iter_mut().find(|(n, _)| *n == name) {
        Some((_, ids)) => ids.push(id),
        None => out.push((name, vec![id])),
    };
    for c in connectors {
        push(c, CONNECTOR_TASK);
    }
    for t in tasks {
        push(&t.connector, t.task);
    }
    out
}

fn write_connector_assignments(w: &mut Writer, groups: &[(&str, Vec<i32>)]) {
    w.i32(groups.len() as i32);
    for (name, ids) in groups {
        w.string(name);
        w.i32(ids.len() as i32);
        for id in ids {
            w.i32(*id);
        }
    }
}

/// Reads `[connector, [task]]` (a null array reads as empty) into connectors and tasks.
fn read_connector_assignments(
    r: &mut Reader<'_>,
    connectors: &mut Vec<String>,
    tasks: &mut Vec<TaskId>,
) -> Result<(), DecodeError> {
    let n = r.i32()?;
    for _ in 0..n.max(0) {
        let name = r.string()?;
        let count = r.i32()?;
        for _ in 0..count.max(0) {
            match r.i32()? {
                CONNECTOR_TASK => connectors.push(name.clone()),
                task => tasks.push(TaskId::new(name.clone(), task)),
            }
        }
    }
    Ok(())
}

/// Encodes a member's JoinGroup metadata for `protocol`.
pub fn encode_metadata(protocol: ConnectProtocol, meta: &WorkerMetadata) -> Vec<u8> {
    let mut w = Writer::default();
    w.i16(protocol.version());
    w.string(&meta.url);
    w.i64(meta.config_offset);
    if protocol.is_incremental() {
        let allocation = meta
            .assignment
            .as_ref()
            .filter(|a| !a.is_empty() || !a.leader.is_empty())
            .map(|a| encode_assignment(protocol, a));
        w.nullable_bytes(allocation.as_deref());
    }
    w.into_bytes()
}

/// Decodes a member's JoinGroup metadata (any version).
pub fn decode_metadata(bytes: &[u8]) -> Result<(ConnectProtocol, WorkerMetadata), DecodeError> {
    let mut r = Reader::new(bytes);
    let version = r.i16()?;
    let protocol = ConnectProtocol::from_version(version).ok_or(DecodeError::Version(version))?;
    let url = r.string()?;
    let config_offset = r.i64()?;
    let assignment = if protocol.is_incremental() && !r.is_done() {
        match r.nullable_bytes()? {
            Some(b) => Some(decode_assignment(b)?.1),
            None => None,
        }
    } else {
        None
    };
    Ok((
        protocol,
        WorkerMetadata {
            url,
            config_offset,
            assignment,
        },
    ))
}

/// Encodes an assignment for `protocol` (eager drops the revocations and the delay).
pub fn encode_assignment(protocol: ConnectProtocol, a: &Assignment) -> Vec<u8> {
    let mut w = Writer::default();
    w.i16(protocol.version());
    w.i16(a.error);
    w.string(&a.leader);
    w.string(&a.leader_url);
    w.i64(a.config_offset);
    write_connector_assignments(&mut w, &by_connector(&a.connectors, &a.tasks));
    if protocol.is_incremental() {
        write_connector_assignments(&mut w, &by_connector(&a.revoked_connectors, &a.revoked_tasks));
        w.i32(a.delay);
    }
    w.into_bytes()
}

/// Decodes an assignment (any version; missing trailing fields read as empty).
pub fn decode_assignment(bytes: &[u8]) -> Result<(ConnectProtocol, Assignment), DecodeError> {
    let mut r = Reader::new(bytes);
    let version = r.i16()?;
    let protocol = ConnectProtocol::from_version(version).ok_or(DecodeError::Version(version))?;
    let mut a = Assignment {
        error: r.i16()?,
        leader: r.string()?,
        leader_url: r.string()?,
        config_offset: r.i64()?,
        ..Assignment::default()
    };
    if !r.is_done() {
        read_connector_assignments(&mut r, &mut a.connectors, &mut a.tasks)?;
    }
    if protocol.is_incremental() {
        if !r.is_done() {
            read_connector_assignments(&mut r, &mut a.revoked_connectors, &mut a.revoked_tasks)?;
        }
        if !r.is_done() {
            a.delay = r.i32()?;
        }
    }
    Ok((protocol, a))
}

#[cfg(test)]
mod tests;
