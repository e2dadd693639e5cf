//! Distributed mode on Kafka Connect's group protocol: every worker is a member of the
//! `group.id` group (protocol type `connect`), the leader assigns connectors and tasks
//! (eager or incremental cooperative, as `connect.protocol` says), and each worker runs
//! only its share. The loop here joins, syncs, hands the assignment to the actor and
//! heartbeats until the group rebalances again.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use ferry_kafka::connect_group::assignor::{assign_eager, IncrementalAssignor, Load};
use ferry_kafka::connect_group::{ConnectGroupMember, GroupError, GroupSecurity, GroupSettings, Joined};
use ferry_kafka::connect_protocol::{
    decode_assignment, decode_metadata, encode_assignment, encode_metadata, Assignment, ConnectProtocol,
    TaskId, WorkerMetadata,
};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio_util::sync::CancellationToken;

use super::actor::Command;
use super::signing::{Signing, SigningSettings};
use crate::store::{ConfigState, ConfigStore};
use crate::WorkerConfig;
use ferry_kafka::records::ConfigRecord;
use ferry_rest::signature::SessionKey;

/// What this worker knows of its group.
#[derive(Clone, Debug, Default)]
pub struct Membership {
    /// The leader's advertised REST URL, once an assignment named it.
    pub leader_url: Option<String>,
    /// Whether this worker leads the current generation.
    pub is_leader: bool,
    /// The current generation.
    pub generation: i32,
    /// True between a rebalance's start and its assignment being applied.
    pub rebalancing: bool,
    /// This worker's own advertised URL.
    pub own_url: String,
}

/// Where a request that needs the leader goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaderTarget {
    /// Served here (this worker leads, or there is no group).
    Local,
    /// Forwarded to this URL.
    Remote(String),
    /// No leader known (a rebalance is under way).
    Unknown,
}

/// What the herder shares with the group loop.
#[derive(Clone)]
pub struct GroupShared {
    /// The current membership.
    pub membership: Arc<RwLock<Membership>>,
    /// Notified to make this worker rejoin (after it wrote to the config topic).
    pub rejoin: Arc<Notify>,
    /// The session key and the `inter.worker.*` settings (KIP-507).
    pub signing: Arc<Signing>,
    /// The config topic (a follower re-reads the session key from it).
    pub config: Arc<ConfigStore>,
}

impl GroupShared {
    /// Where leader-only requests go now.
    pub fn target(&self) -> LeaderTarget {
        let m = self.membership.read().expect("membership lock");
        if m.is_leader {
            LeaderTarget::Local
        } else {
            match &m.leader_url {
                Some(u) if !u.is_empty() => LeaderTarget::Remote(u.clone()),
                _ => LeaderTarget::Unknown,
            }
        }
    }

    /// Waits until a first assignment is applied (at most `limit`); false on time-out.
    pub async fn wait_joined(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < deadline {
            {
                let m = self.membership.read().expect("membership lock");
                if m.leader_url.is_some() && !m.rebalancing {
                    return true;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Reads the config topic to its end for a newer session key (a follower sees the
    /// leader's new key only at the next rebalance otherwise).
    pub async fn refresh_session_key(&self) {
        match self.config.load().await {
            Ok(state) => {
                if let Some(k) = state.session_key {
                    self.signing.set_key(k);
                }
            }
            Err(e) => tracing::warn!("could not read the session key from the config topic: {e}"),
        }
    }

    /// Asks for a rebalance (config changed: the leader must assign the new work).
    pub fn request_rejoin(&self) {
        self.rejoin.notify_one();
    }
}

/// The running group loop; leave it with [`GroupHandle::leave`].
pub struct GroupHandle {
    /// Shared with the herder.
    pub shared: GroupShared,
    stop: CancellationToken,
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl GroupHandle {
    /// Leaves the group (a LeaveGroup, so the others rebalance at once) and ends the loop.
    pub async fn leave(&self) {
        self.stop.cancel();
        let task = self.task.lock().expect("group task lock").take();
        if let Some(t) = task {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
    }
}

/// The group settings of a worker config, refused when the member cannot honour them.
pub fn settings(config: &WorkerConfig) -> Result<(GroupSettings, ConnectProtocol), String> {
    let security =
        GroupSecurity::from_settings(&|key| config.originals.get(key).cloned()).map_err(|e| e.to_string())?;
    let protocol = ConnectProtocol::from_name(&config.group.protocol)
        .ok_or_else(|| format!("connect.protocol: unknown value {}", config.group.protocol))?;
    let g = &config.group;
    Ok((
        GroupSettings {
            bootstrap_servers: g
                .bootstrap_servers
                .clone()
                .unwrap_or_else(|| config.bootstrap_servers.clone()),
            group_id: config.group_id.clone().unwrap_or_default(),
            client_id: config
                .originals
                .get("client.id")
                .cloned()
                .unwrap_or_else(|| format!("connect-{}", config.worker_id)),
            session_timeout_ms: g.session_timeout_ms,
            rebalance_timeout_ms: g.rebalance_timeout_ms,
            heartbeat_interval_ms: g.heartbeat_interval_ms.max(100) as u64,
            request_timeout: Duration::from_secs(30),
            security,
        },
        protocol,
    ))
}

/// The advertised REST URL of a worker config (`http://host:port/`, as Connect writes it).
pub fn advertised_url(config: &WorkerConfig) -> String {
    let https = config
        .originals
        .get("rest.advertised.listener")
        .map(|l| l.eq_ignore_ascii_case("https"))
        .unwrap_or_else(|| {
            config
                .originals
                .get("listeners")
                .is_some_and(|l| l.trim().to_ascii_lowercase().starts_with("https://"))
        });
    format!("{}://{}/", if https { "https" } else { "http" }, config.worker_id)
}

/// Every configured connector and task of a config snapshot.
fn configured(state: &ConfigState) -> Load {
    let mut l = Load::default();
    for (name, e) in &state.connectors {
        l.connectors.insert(name.clone());
        for t in 0..e.tasks.len() {
            l.tasks.insert(TaskId::new(name.clone(), t as i32));
        }
    }
    l
}

fn load_of(a: &Assignment) -> Load {
    Load {
        connectors: a.connectors.iter().cloned().collect(),
        tasks: a.tasks.iter().cloned().collect(),
    }
}

/// Starts the group loop: it joins at once and applies each assignment through `commands`.
pub fn start(
    config: &WorkerConfig,
    store: Arc<ConfigStore>,
    commands: mpsc::Sender<Command>,
) -> Result<Arc<GroupHandle>, String> {
    let (settings, protocol) = settings(config)?;
    let signing = Arc::new(Signing::new(SigningSettings::from_config(config)?));
    if protocol != ConnectProtocol::Sessioned {
        tracing::warn!(
            "Internal request verification will be disabled for this cluster as this worker's connect.protocol configuration has been set to '{}'. \
             If this is not intentional, either remove the 'connect.protocol' configuration from the worker config file or change its value to 'sessioned'. \
             If this configuration is left as-is, the cluster will be insecure; for more information, see KIP-507: \
             https://cwiki.apache.org/confluence/display/KAFKA/KIP-507%3A+Securing+Internal+Connect+REST+Endpoints",
            protocol.name()
        );
    }
    let url = advertised_url(config);
    let shared = GroupShared {
        signing,
        config: store.clone(),
        membership: Arc::new(RwLock::new(Membership {
            rebalancing: true,
            own_url: url.clone(),
            ..Membership::default()
        })),
        rejoin: Arc::new(Notify::new()),
    };
    let stop = CancellationToken::new();
    let lp = GroupLoop {
        heartbeat: Duration::from_millis(settings.heartbeat_interval_ms),
        member: ConnectGroupMember::new(settings),
        protocol,
        url,
        store,
        commands,
        shared: shared.clone(),
        stop: stop.clone(),
        assignor: IncrementalAssignor::new(config.group.scheduled_rebalance_max_delay_ms as i64),
        owned: Load::default(),
        last: None,
        config_offset: -1,
        last_completed_generation: -1,
        unsync_backoff: Duration::from_millis(config.group.worker_unsync_backoff_ms.max(0) as u64),
    };
    let group_id = config.group_id.clone().unwrap_or_default();
    let task = tokio::spawn(tracing::Instrument::instrument(
        lp.run(),
        tracing::info_span!("group", group_id = %group_id),
    ));
    Ok(Arc::new(GroupHandle {
        shared,
        stop,
        task: std::sync::Mutex::new(Some(task)),
    }))
}

struct GroupLoop {
    member: ConnectGroupMember,
    protocol: ConnectProtocol,
    url: String,
    store: Arc<ConfigStore>,
    commands: mpsc::Sender<Command>,
    shared: GroupShared,
    stop: CancellationToken,
    assignor: IncrementalAssignor,
    /// What this worker runs.
    owned: Load,
    /// The last assignment, augmented (sent back in the metadata).
    last: Option<Assignment>,
    config_offset: i64,
    last_completed_generation: i32,
    heartbeat: Duration,
    unsync_backoff: Duration,
}

/// How one round ended.
enum Next {
    /// Rejoin at once.
    Rejoin,
    /// The worker is stopping.
    Stop,
}

impl GroupLoop {
    async fn run(mut self) {
        while let Next::Rejoin = self.round().await {}
        self.member.leave().await;
    }

    fn protocols(&self) -> Vec<(String, Vec<u8>)> {
        let meta = WorkerMetadata {
            url: self.url.clone(),
            config_offset: self.config_offset,
            assignment: self.last.clone(),
        };
        self.protocol
            .offered()
            .iter()
            .map(|p| (p.name().to_string(), encode_metadata(*p, &meta)))
            .collect()
    }

    async fn read_config(&mut self) -> Option<ConfigState> {
        match self.store.load_with_offset().await {
            Ok((state, offset)) => {
                self.config_offset = offset;
                if let Some(k) = &state.session_key {
                    self.shared.signing.set_key(k.clone());
                }
                Some(state)
            }
            Err(e) => {
                tracing::warn!("could not read the config topic: {e}");
                None
            }
        }
    }

    /// One generation: join, sync, apply, then heartbeat until the next rebalance.
    async fn round(&mut self) -> Next {
        self.shared
            .membership
            .write()
            .expect("membership lock")
            .rebalancing = true;
        let protocols = self.protocols();
        let round_start = std::time::Instant::now();
        let joined = tokio::select! {
            j = self.member.join(&protocols) => j,
            _ = self.stop.cancelled() => return Next::Stop,
        };
        tracing::debug!(
            elapsed_ms = round_start.elapsed().as_millis() as u64,
            "JoinGroup answered"
        );
        let joined = match joined {
            Ok(j) => j,
            Err(e) => {
                tracing::warn!("could not join the worker group: {e}");
                return self.pause(Duration::from_secs(1)).await;
            }
        };
        let protocol = ConnectProtocol::from_name(&joined.protocol).unwrap_or(ConnectProtocol::Eager);
        self.shared
            .signing
            .set_sessioned(protocol == ConnectProtocol::Sessioned);
        // Only the leader reads the config topic before SyncGroup, to assign from it. A
        // follower syncs at once, as Connect's do (a coordinator may complete the
        // generation as soon as the leader's assignments arrive: librdkafka's mock one
        // then refuses a later SyncGroup), and reads the config after.
        let (leader_state, assignments) = if joined.is_leader() {
            let Some(state) = self.read_config().await else {
                return self.pause(Duration::from_secs(1)).await;
            };
            let assignments = self.assign(&joined, protocol, &state);
            (Some(state), assignments)
        } else {
            (None, Vec::new())
        };
        tracing::debug!(elapsed_ms = round_start.elapsed().as_millis() as u64, "syncing");
        let synced = tokio::select! {
            s = self.member.sync(assignments) => s,
            _ = self.stop.cancelled() => return Next::Stop,
        };
        let bytes = match synced {
            Ok(b) => b,
            Err(GroupError::Rejoin) => return Next::Rejoin,
            Err(e) => {
                tracing::warn!("SyncGroup failed: {e}");
                return self.pause(Duration::from_secs(1)).await;
            }
        };
        let assignment = match decode_assignment(&bytes) {
            Ok((_, a)) => a,
            Err(e) => {
                tracing::error!("the leader's assignment cannot be read: {e}");
                return self.pause(Duration::from_secs(1)).await;
            }
        };
        if assignment.error != 0 {
            tracing::warn!(
                config_offset = assignment.config_offset,
                "the leader's config is behind this worker's (assignment error {}): rejoining",
                assignment.error
            );
            return self
                .pause(Duration::from_millis(200).min(self.unsync_backoff))
                .await;
        }
        // Members read the config topic at least to the leader's offset before running anything.
        let state = match leader_state {
            Some(s) if assignment.config_offset <= self.config_offset => s,
            _ => match self.read_config().await {
                Some(s) => s,
                None => return self.pause(Duration::from_secs(1)).await,
            },
        };
        let revoked = Load {
            connectors: assignment.revoked_connectors.iter().cloned().collect(),
            tasks: assignment.revoked_tasks.iter().cloned().collect(),
        };
        let assigned = load_of(&assignment);
        let owned = if protocol.is_incremental() {
            let mut o = self.owned.clone();
            o.connectors.retain(|c| !revoked.connectors.contains(c));
            o.tasks.retain(|t| !revoked.tasks.contains(t));
            o.connectors.extend(assigned.connectors.iter().cloned());
            o.tasks.extend(assigned.tasks.iter().cloned());
            o
        } else {
            assigned.clone()
        };
        tracing::info!(
            generation = joined.generation,
            leader = joined.is_leader(),
            protocol = protocol.name(),
            connectors = ?owned.connectors,
            tasks = owned.tasks.len(),
            revoked = revoked.connectors.len() + revoked.tasks.len(),
            delay_ms = assignment.delay,
            "joined the worker group"
        );
        {
            let mut m = self.shared.membership.write().expect("membership lock");
            m.leader_url = Some(assignment.leader_url.clone());
            m.is_leader = joined.is_leader();
            m.generation = joined.generation;
        }
        let applying = std::time::Instant::now();
        let mut rejoin = self.apply(state, owned.clone(), joined.generation).await;
        let took = applying.elapsed();
        if rejoin && took > self.heartbeat {
            // The member cannot rejoin before this ends, and a coordinator may complete the
            // next generation without it.
            tracing::warn!(
                generation = joined.generation,
                took_ms = took.as_millis() as u64,
                "the group started rebalancing while this worker was still starting and stopping its assigned work"
            );
        } else {
            tracing::debug!(
                generation = joined.generation,
                took_ms = took.as_millis() as u64,
                "assignment applied"
            );
        }
        self.owned = owned.clone();
        self.last_completed_generation = joined.generation;
        self.last = Some(Assignment {
            connectors: owned.connectors.into_iter().collect(),
            tasks: owned.tasks.into_iter().collect(),
            ..assignment.clone()
        });
        self.shared
            .membership
            .write()
            .expect("membership lock")
            .rebalancing = false;
        if self.stop.is_cancelled() {
            return Next::Stop;
        }
        // Revocations are followed by a rejoin at once, so the leader can place the work.
        if protocol.is_incremental() && !revoked.is_empty() {
            rejoin = true;
        }
        if rejoin {
            return Next::Rejoin;
        }
        self.rotate_session_key().await;
        self.heartbeat_until_rebalance(assignment.delay).await
    }

    /// As the leader of a `sessioned` generation, writes a new session key to the config
    /// topic when there is none, it expired (`inter.worker.key.ttl.ms`) or its algorithm
    /// or size is not the configured one (Connect's `checkForKeyRotation`).
    async fn rotate_session_key(&mut self) {
        let leader = self.shared.membership.read().expect("membership lock").is_leader;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        if !leader || !self.shared.signing.needs_new_key(now) {
            return;
        }
        let s = &self.shared.signing.settings;
        let key = match SessionKey::generate(&s.key_algorithm, s.key_bits, now) {
            Ok(k) => k,
            Err(e) => {
                tracing::error!("{e}");
                return;
            }
        };
        let record = ConfigRecord::SessionKey {
            key: key.key.clone(),
            algorithm: key.algorithm.clone(),
            creation_timestamp: key.creation_timestamp,
        };
        match self.store.write(&[record]).await {
            Ok(()) => {
                tracing::info!(algorithm = %key.algorithm, "distributed a new session key");
                self.shared.signing.set_key(key);
            }
            Err(e) => tracing::warn!("Failed to write new session key to config topic: {e}"),
        }
    }

    /// Waits `d` (or until stopped), then asks for a rejoin.
    async fn pause(&self, d: Duration) -> Next {
        tokio::select! {
            _ = tokio::time::sleep(d) => Next::Rejoin,
            _ = self.stop.cancelled() => Next::Stop,
        }
    }

    /// The leader's assignments for every member.
    fn assign(
        &mut self,
        joined: &Joined,
        protocol: ConnectProtocol,
        state: &ConfigState,
    ) -> Vec<(String, Vec<u8>)> {
        let mut urls = BTreeMap::new();
        let mut loads = BTreeMap::new();
        let mut max_offset = -1;
        for (id, meta) in &joined.members {
            match decode_metadata(meta) {
                Ok((_, m)) => {
                    max_offset = max_offset.max(m.config_offset);
                    loads.insert(id.clone(), m.assignment.as_ref().map(load_of).unwrap_or_default());
                    urls.insert(id.clone(), m.url);
                }
                Err(e) => {
                    tracing::warn!(member = %id, "unreadable member metadata: {e}");
                    loads.insert(id.clone(), Load::default());
                    urls.insert(id.clone(), String::new());
                }
            }
        }
        let leader_url = urls
            .get(&joined.leader_id)
            .cloned()
            .unwrap_or_else(|| self.url.clone());
        let base = Assignment {
            leader: joined.leader_id.clone(),
            leader_url,
            config_offset: self.config_offset.max(max_offset),
            ..Assignment::default()
        };
        if max_offset > self.config_offset {
            tracing::warn!(
                leader_offset = self.config_offset,
                max_offset,
                "a member has read further in the config topic than the leader: config mismatch"
            );
            return loads
                .keys()
                .map(|m| {
                    let a = Assignment {
                        error: ferry_kafka::connect_protocol::CONFIG_MISMATCH,
                        ..base.clone()
                    };
                    (m.clone(), encode_assignment(protocol, &a))
                })
                .collect();
        }
        let configured = configured(state);
        if protocol.is_incremental() {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0);
            let plans = self.assignor.assign(
                &configured,
                self.last_completed_generation,
                joined.generation,
                &loads,
                now,
            );
            plans
                .into_iter()
                .map(|(m, p)| {
                    let a = Assignment {
                        connectors: p.assigned.connectors.into_iter().collect(),
                        tasks: p.assigned.tasks.into_iter().collect(),
                        revoked_connectors: p.revoked.connectors.into_iter().collect(),
                        revoked_tasks: p.revoked.tasks.into_iter().collect(),
                        delay: p.delay,
                        ..base.clone()
                    };
                    (m, encode_assignment(protocol, &a))
                })
                .collect()
        } else {
            let members: Vec<String> = loads.keys().cloned().collect();
            assign_eager(&configured, &members)
                .into_iter()
                .map(|(m, l)| {
                    let a = Assignment {
                        connectors: l.connectors.into_iter().collect(),
                        tasks: l.tasks.into_iter().collect(),
                        ..base.clone()
                    };
                    (m, encode_assignment(protocol, &a))
                })
                .collect()
        }
    }

    /// Hands the assignment to the actor, heartbeating while it starts and stops work.
    /// True when the group started rebalancing meanwhile.
    async fn apply(&mut self, state: ConfigState, owned: Load, generation: i32) -> bool {
        let (reply, done) = oneshot::channel();
        let cmd = Command::Assign {
            state: Box::new(state),
            owned,
            generation,
            reply,
        };
        if self.commands.send(cmd).await.is_err() {
            return false;
        }
        let mut done = done;
        let mut rejoin = false;
        loop {
            tokio::select! {
                _ = &mut done => return rejoin,
                _ = tokio::time::sleep(self.heartbeat) => {
                    if !rejoin {
                        match self.member.heartbeat().await {
                            Ok(()) => {}
                            Err(GroupError::Rejoin) => rejoin = true,
                            Err(e) => tracing::debug!("heartbeat failed: {e}"),
                        }
                    }
                }
            }
        }
    }

    /// Heartbeats until the group rebalances, this worker is asked to rejoin, the
    /// scheduled delay passes, or the worker stops.
    async fn heartbeat_until_rebalance(&mut self, delay_ms: i32) -> Next {
        let scheduled =
            (delay_ms > 0).then(|| tokio::time::Instant::now() + Duration::from_millis(delay_ms as u64));
        let mut failing_since: Option<tokio::time::Instant> = None;
        let session = Duration::from_millis(self.member.settings().session_timeout_ms.max(0) as u64);
        loop {
            let wake = async {
                match scheduled {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = self.stop.cancelled() => return Next::Stop,
                _ = self.shared.rejoin.notified() => {
                    tracing::debug!("rejoining: this worker changed the config topic");
                    return Next::Rejoin;
                }
                _ = wake => {
                    tracing::debug!("rejoining: the scheduled rebalance delay passed");
                    return Next::Rejoin;
                }
                _ = tokio::time::sleep(self.heartbeat) => {
                    self.rotate_session_key().await;
                    match self.member.heartbeat().await {
                        Ok(()) => failing_since = None,
                        Err(GroupError::Rejoin) => {
                            tracing::debug!("rejoining: the group is rebalancing");
                            return Next::Rejoin;
                        }
                        Err(e) => {
                            tracing::warn!("heartbeat failed: {e}");
                            let since = *failing_since.get_or_insert_with(tokio::time::Instant::now);
                            if since.elapsed() > session {
                                return Next::Rejoin;
                            }
                        }
                    }
                }
            }
        }
    }
}
