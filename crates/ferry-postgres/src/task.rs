//! The source task: snapshot, then stream changes from the slot, with
//! Debezium's offsets; confirms the slot only up to what the runtime reports durable.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ferry_core::{
    CommittedOffset, ConfigMap, ConnectError, OffsetMap, Position, Record, SourceTask, SourceTaskContext,
    Value,
};
use tokio_postgres::{Client, NoTls};
use tracing::{debug, info, info_span, warn, Instrument};

use crate::config::{PluginName, PostgresConfig, SnapshotMode};
use crate::error::{PgError, Result};
use crate::event::{self, Change, SnapshotRecord, SourceInfo, TransactionStatus};
use crate::lsn::Lsn;
use crate::offset::{self, FlushTracker, OffsetState, ResumeFilter, SnapshotMarker};
use crate::pgoutput::{self, Message, Relation, TupleValue};
use crate::replication::{self, ReplicationSession, ReplicationStream, StreamEvent};
use crate::schema::{self, TableId, TableMeta, TableSchema};
use crate::snapshot::{SnapshotReader, SnapshotVisibility};

/// The PostgreSQL source task.
#[derive(Default)]
pub struct PostgresSourceTask {
    inner: Option<Inner>,
}

enum Phase {
    Snapshot(Box<SnapshotReader>, Option<ReplicationSession>),
    Streaming,
    Done,
}

/// How long a batch stays open after its first record.
const BATCH_LINGER: Duration = Duration::from_millis(10);

struct Tx {
    xid: u32,
    commit_time_us: i64,
}

struct Inner {
    cfg: Arc<PostgresConfig>,
    ctx: SourceTaskContext,
    meta: Client,
    partition: Arc<OffsetMap>,
    offset: OffsetState,
    last_emitted: Option<OffsetState>,
    phase: Phase,
    stream: Option<Box<dyn ReplicationStream>>,
    tables: HashMap<u32, Option<Arc<TableSchema>>>,
    relations: HashMap<u32, (Relation, Vec<Option<usize>>)>,
    resume: ResumeFilter,
    flush: FlushTracker,
    tx: Option<Tx>,
    same_lsn: (Lsn, i64),
    origin: Option<(String, Lsn)>,
    start_lsn: Lsn,
    last_heartbeat: Instant,
    retry: Option<(Instant, u32)>,
    heartbeat_topic: Arc<str>,
    /// `PREFIX.transaction` when `provide.transaction.metadata` is on.
    transaction_topic: Option<Arc<str>>,
    /// The transaction started but its BEGIN record waits for the LSN of its first message.
    pending_begin: bool,
    /// `PREFIX.message`, for logical decoding messages.
    message_topic: Arc<str>,
    /// The value schema of `m` events.
    message_schema: ferry_core::Schema,
    /// Set when the snapshot was not the slot's exported one: the transactions it saw,
    /// whose streamed changes are skipped.
    snapshot_visibility: Option<SnapshotVisibility>,
    /// The transaction being streamed is one the snapshot saw.
    skip_tx: bool,
    /// A streaming failure met after records were built; reported by the next poll.
    deferred_error: Option<PgError>,
}

/// A TLS failure (handshake, certificate, server without TLS): retrying will not help.
fn is_tls_error(e: &tokio_postgres::Error) -> bool {
    e.to_string().contains("TLS")
}

/// `e: cause: cause...`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(&format!(": {c}"));
        cur = c.source();
    }
    s
}

fn spawn_connection<F>(conn: F)
where
    F: std::future::Future<Output = std::result::Result<(), tokio_postgres::Error>> + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = conn.await {
            debug!(error = %e, "metadata connection ended");
        }
    });
}

async fn connect_meta(cfg: &PostgresConfig) -> Result<Client> {
    let conn_str = cfg.connection_string();
    let connected = match crate::tls::client_config(cfg)? {
        None => tokio_postgres::connect(&conn_str, NoTls).await.map(|(c, conn)| {
            spawn_connection(conn);
            c
        }),
        Some(tls) => tokio_postgres::connect(&conn_str, crate::tls::MakeRustlsConnect::new(tls))
            .await
            .map(|(c, conn)| {
                spawn_connection(conn);
                c
            }),
    };
    let client = connected.map_err(|e| match e.as_db_error() {
        // e.g. pg_hba.conf `hostssl` / `clientcert` rules
        Some(db) if db.message().contains("SSL") || db.message().contains("certificate") => {
            PgError::Setup(format!(
                "connecting to {}:{}/{} ({}): {} ({})",
                cfg.hostname,
                cfg.port,
                cfg.dbname,
                crate::tls::describe(cfg),
                db.message(),
                db.code().code()
            ))
        }
        Some(_) => PgError::sql(
            format!("connecting to {}:{}/{}", cfg.hostname, cfg.port, cfg.dbname),
            e,
        ),
        None if is_tls_error(&e) => {
            let m = error_chain(&e);
            let msg = format!(
                "TLS to {}:{}/{} failed ({}): {m}{}",
                cfg.hostname,
                cfg.port,
                cfg.dbname,
                crate::tls::describe(cfg),
                crate::tls::hint(&m)
            );
            if crate::tls::is_config_failure(&m) {
                PgError::Setup(msg)
            } else {
                PgError::Transient(msg)
            }
        }
        None => PgError::Transient(format!(
            "cannot connect to {}:{}/{}: {e}",
            cfg.hostname, cfg.port, cfg.dbname
        )),
    })?;
    Ok(client)
}

async fn captured_tables(client: &Client, cfg: &PostgresConfig) -> Result<Vec<(u32, TableId)>> {
    let rows = client
        .query(
            "SELECT c.oid, n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY n.nspname, c.relname",
            &[],
        )
        .await
        .map_err(|e| PgError::sql("listing tables", e))?;
    Ok(rows
        .iter()
        .map(|r| {
            (
                r.get::<_, u32>(0),
                TableId {
                    schema: r.get(1),
                    table: r.get(2),
                },
            )
        })
        .filter(|(_, t)| cfg.filters.table_included(&t.schema, &t.table))
        .collect())
}

impl Inner {
    async fn start(config: &ConfigMap, ctx: SourceTaskContext) -> Result<Inner, ConnectError> {
        let cfg = PostgresConfig::parse(config).map_err(|errs| {
            ConnectError::config(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))
        })?;
        let cfg = Arc::new(cfg);
        let meta = connect_meta(&cfg).await?;
        replication::check_wal_level(&meta).await?;
        let slot = replication::slot_info(&meta, &cfg.slot_name).await?;
        if let Some(s) = &slot {
            if s.plugin != "pgoutput" || cfg.plugin_name != PluginName::Pgoutput {
                return Err(PgError::Setup(format!(
                    "Replication slot '{}' uses the '{}' plugin but plugin.name is '{}'; Ferry decodes pgoutput only. Set plugin.name=pgoutput and use a pgoutput slot (drop the slot or choose another slot.name)",
                    cfg.slot_name,
                    s.plugin,
                    cfg.plugin_name.as_str()
                ))
                .into());
            }
            if let Some(db) = &s.database {
                if db != &cfg.dbname {
                    return Err(PgError::Setup(format!(
                        "Replication slot '{}' belongs to database '{db}', not '{}'; choose another slot.name",
                        cfg.slot_name, cfg.dbname
                    ))
                    .into());
                }
            }
        } else if cfg.plugin_name == PluginName::Decoderbufs {
            warn!(slot = %cfg.slot_name, "plugin.name is decoderbufs, which Ferry does not decode; creating the slot with pgoutput");
        }
        let partition = offset::partition(&cfg.topic_prefix);
        let stored = ctx.offsets.offset(&partition).map(|m| OffsetState::from_map(&m));
        let snapshot_needed = match (&stored, cfg.snapshot_mode) {
            (_, SnapshotMode::NoData) => false,
            (None, _) => true,
            (Some(s), _) if s.snapshot_in_progress() => true,
            (Some(_), SnapshotMode::Always) => true,
            (Some(_), SnapshotMode::WhenNeeded) => slot.is_none(),
            (Some(_), _) => false,
        };
        if slot.is_none() && stored.is_some() && !snapshot_needed {
            return Err(PgError::Setup(format!(
                "Replication slot '{}' does not exist although offsets exist for '{}': changes made since the last stored position are gone. Re-snapshot by deleting the connector's offsets (or set snapshot.mode=when_needed), or restore the slot",
                cfg.slot_name, cfg.topic_prefix
            ))
            .into());
        }
        let tables = captured_tables(&meta, &cfg).await?;
        let ids: Vec<TableId> = tables.iter().map(|(_, t)| t.clone()).collect();
        replication::ensure_publication(&meta, &cfg, &ids).await?;
        if let Some(s) = &slot {
            // As Debezium: slot.max.retries attempts, slot.retry.delay.ms apart.
            let mut pid = s.active_pid;
            for attempt in 1..cfg.slot_max_retries {
                if pid.is_none() {
                    break;
                }
                info!(slot = %cfg.slot_name, attempt, "replication slot is in use; retrying in {:?}", cfg.slot_retry_delay);
                tokio::time::sleep(cfg.slot_retry_delay).await;
                pid = replication::slot_info(&meta, &cfg.slot_name)
                    .await?
                    .and_then(|s| s.active_pid);
            }
            if let Some(pid) = pid {
                return Err(PgError::Setup(format!(
                    "Replication slot '{}' is active for PID {pid}: another client (often a second connector with the same slot.name) consumes it. Stop that client or give this connector its own slot.name (tried {} times, slot.max.retries/slot.retry.delay.ms)",
                    cfg.slot_name, cfg.slot_max_retries
                ))
                .into());
            }
        }
        let start_lsn = if snapshot_needed {
            Lsn::ZERO
        } else {
            stored.as_ref().and_then(|s| s.resume_lsn()).unwrap_or(Lsn::ZERO)
        };
        let mut session = ReplicationSession::connect(
            &cfg,
            start_lsn,
            slot.as_ref().and_then(|s| s.confirmed_flush).unwrap_or_default(),
        )
        .await?;
        let mut offset_state = stored.clone().unwrap_or_default();
        let mut flushed = slot.as_ref().and_then(|s| s.confirmed_flush).unwrap_or_default();
        let mut exported = None;
        if slot.is_none() {
            let created = session.create_slot(&cfg.slot_name).await?;
            info!(slot = %cfg.slot_name, consistent_point = %created.consistent_point, "created replication slot");
            flushed = created.consistent_point;
            offset_state.lsn = Some(created.consistent_point);
            exported = created.snapshot_name;
        } else if snapshot_needed {
            info!(slot = %cfg.slot_name, "the slot exists, so the snapshot is a new one: streamed transactions it already contains are skipped");
            offset_state.lsn = Some(flushed);
        }
        let heartbeat_topic: Arc<str> =
            Arc::from(format!("{}.{}", cfg.heartbeat_topic_prefix, cfg.topic_prefix).as_str());
        let transaction_topic = cfg
            .provide_transaction_metadata
            .then(|| Arc::from(format!("{}.{}", cfg.topic_prefix, cfg.transaction_topic_name).as_str()));
        let mut inner = Inner {
            cfg: cfg.clone(),
            ctx,
            meta,
            partition,
            offset: offset_state,
            last_emitted: None,
            phase: Phase::Done,
            stream: None,
            tables: HashMap::new(),
            relations: HashMap::new(),
            resume: ResumeFilter::new(if snapshot_needed { None } else { stored.as_ref() }),
            flush: FlushTracker::new(flushed),
            tx: None,
            same_lsn: (Lsn::ZERO, 0),
            origin: None,
            start_lsn,
            last_heartbeat: Instant::now(),
            retry: None,
            heartbeat_topic,
            transaction_topic,
            pending_begin: false,
            snapshot_visibility: None,
            skip_tx: false,
            message_topic: Arc::from(format!("{}.message", cfg.topic_prefix).as_str()),
            message_schema: event::message_value_schema(cfg.binary_mode),
            deferred_error: None,
        };
        if snapshot_needed {
            let mut metas = Vec::new();
            for (oid, _) in &tables {
                if let Some(m) = schema::load_table(&inner.meta, *oid).await? {
                    let ts = Arc::new(TableSchema::build(&m, &cfg));
                    inner.tables.insert(*oid, Some(ts.clone()));
                    metas.push((m, ts));
                }
            }
            let snap_client = connect_meta(&cfg).await?;
            let reader = SnapshotReader::open(
                snap_client,
                exported.as_deref(),
                metas,
                cfg.snapshot_fetch_size,
                cfg.unavailable_value_placeholder.clone(),
            )
            .await?;
            inner.offset.tx_id = Some(reader.tx_id);
            if exported.is_none() {
                inner.snapshot_visibility = Some(reader.visibility.clone());
            }
            inner.offset.ts_usec = Some(event::now_us());
            inner.offset.snapshot = Some(SnapshotMarker { last_record: false });
            inner.offset.snapshot_completed = false;
            info!(tables = tables.len(), "starting snapshot");
            inner.phase = Phase::Snapshot(Box::new(reader), Some(session));
        } else {
            inner.stream = Some(Box::new(session.start().await?));
            inner.phase = Phase::Streaming;
            info!(start = %start_lsn, "streaming");
        }
        Ok(inner)
    }

    async fn poll(&mut self) -> Result<Vec<Record>, ConnectError> {
        if let Some((at, attempt)) = self.retry {
            let now = Instant::now();
            if now < at {
                tokio::time::sleep((at - now).min(Duration::from_millis(500))).await;
                return Ok(Vec::new());
            }
            match self.reconnect().await {
                Ok(()) => {
                    info!(attempt, "reconnected");
                    self.retry = None;
                }
                Err(e) if e.is_transient() => {
                    let limit = self.cfg.errors_max_retries;
                    if limit >= 0 && i64::from(attempt) >= limit {
                        return Err(ConnectError::fatal(format!(
                            "The connection to PostgreSQL was lost and could not be re-established in {attempt} attempt(s) (errors.max.retries={limit}; -1 retries without limit): {e}"
                        )));
                    }
                    let delay = Duration::from_secs(1 << attempt.min(5));
                    warn!(error = %e, attempt, "reconnect failed; retrying in {delay:?}");
                    self.retry = Some((Instant::now() + delay, attempt + 1));
                    return Ok(Vec::new());
                }
                Err(e) => return Err(e.into()),
            }
        }
        if let Some(e) = self.deferred_error.take() {
            return self.stream_failed(e);
        }
        let res = match self.phase {
            Phase::Snapshot(..) => self.poll_snapshot().await,
            Phase::Streaming => self.poll_stream().await,
            Phase::Done => {
                tokio::time::sleep(Duration::from_millis(500)).await;
                Ok(Vec::new())
            }
        };
        match res {
            Ok(r) => Ok(r),
            Err(e) => self.stream_failed(e),
        }
    }

    /// A transient streaming failure schedules a reconnect (the records already handed
    /// out stay handed out); anything else fails the task.
    fn stream_failed(&mut self, e: PgError) -> Result<Vec<Record>, ConnectError> {
        if e.is_transient() && matches!(self.phase, Phase::Streaming) && self.cfg.errors_max_retries == 0 {
            return Err(ConnectError::fatal(format!(
                "The connection to PostgreSQL was lost and errors.max.retries=0 forbids reconnecting: {e}"
            )));
        }
        if e.is_transient() && matches!(self.phase, Phase::Streaming) {
            warn!(error = %e, "replication connection lost; reconnecting");
            // Dropping the stream closes the connection.
            self.stream = None;
            self.retry = Some((Instant::now() + Duration::from_secs(1), 1));
            Ok(Vec::new())
        } else {
            Err(e.into())
        }
    }

    async fn reconnect(&mut self) -> Result<()> {
        if self.meta.is_closed() {
            self.meta = connect_meta(&self.cfg).await?;
        }
        if let Some(s) = replication::slot_info(&self.meta, &self.cfg.slot_name).await? {
            if s.active_pid.is_some() {
                return Err(PgError::Transient(format!(
                    "replication slot '{}' still active",
                    self.cfg.slot_name
                )));
            }
        } else {
            return Err(PgError::Setup(format!(
                "Replication slot '{}' disappeared while the connector was running; changes may be lost. Delete the offsets to re-snapshot",
                self.cfg.slot_name
            )));
        }
        let start = self.offset.lsn_commit.unwrap_or(self.start_lsn);
        // Stream from what was handed out, but confirm only what is durable.
        let session = ReplicationSession::connect(&self.cfg, start, self.flush.flushable()).await?;
        let mut stream = session.start().await?;
        stream.confirm_flush(self.flush.flushable());
        self.stream = Some(Box::new(stream));
        self.relations.clear();
        self.tx = None;
        self.resume = ResumeFilter::new(self.last_emitted.as_ref());
        Ok(())
    }

    async fn poll_snapshot(&mut self) -> Result<Vec<Record>> {
        let Phase::Snapshot(reader, _) = &mut self.phase else {
            return Ok(Vec::new());
        };
        let rows = reader.next_rows(self.cfg.max_batch_size).await?;
        if rows.is_empty() {
            let Phase::Snapshot(reader, session) = std::mem::replace(&mut self.phase, Phase::Done) else {
                unreachable!()
            };
            reader.finish().await?;
            self.offset.snapshot = None;
            self.offset.snapshot_completed = false;
            info!("snapshot completed");
            if self.cfg.snapshot_mode == SnapshotMode::InitialOnly {
                info!("snapshot.mode=initial_only: not streaming");
                return Ok(Vec::new());
            }
            let session = session.expect("replication session kept for streaming");
            self.stream = Some(Box::new(session.start().await?));
            self.phase = Phase::Streaming;
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(rows.len());
        let now = event::now_us();
        for r in rows {
            let last = r.marker == SnapshotRecord::Last;
            self.offset.snapshot = Some(SnapshotMarker { last_record: last });
            self.offset.ts_usec = Some(now);
            let off = Arc::new(self.offset.to_map());
            let source = SourceInfo {
                server: &self.cfg.topic_prefix,
                db: &self.cfg.dbname,
                ts_us: now,
                snapshot: r.marker,
                last_commit_lsn: None,
                lsn: self.offset.lsn.map(Lsn::as_i64),
                tx_id: self.offset.tx_id,
                origin: None,
                origin_lsn: None,
            }
            .to_struct(&r.table.id.schema, &r.table.id.table);
            Change {
                table: &r.table,
                op: "r",
                before: None,
                after: Some(r.row),
                source,
                partition: self.partition.clone(),
                offset: off,
            }
            .into_records(self.cfg.tombstones_on_delete, &mut out);
        }
        Ok(out)
    }

    async fn poll_stream(&mut self) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        let wait = self.cfg.poll_interval.min(Duration::from_millis(500));
        let deadline = tokio::time::Instant::now() + wait;
        let shutdown = self.ctx.shutdown.clone();
        // Once a batch has a record, it closes within BATCH_LINGER: events already received
        // still join it, but a steady trickle never keeps it open (latency).
        let mut batch_deadline: Option<tokio::time::Instant> = None;
        while out.len() < self.cfg.max_batch_size {
            let Some(stream) = self.stream.as_mut() else { break };
            if batch_deadline.is_none() && !out.is_empty() {
                batch_deadline = Some(tokio::time::Instant::now() + BATCH_LINGER);
            }
            let ev = match batch_deadline {
                None => tokio::select! {
                    _ = shutdown.cancelled() => break,
                    r = tokio::time::timeout_at(deadline, stream.next_event()) => match r {
                        Ok(r) => r,
                        Err(_) => break,
                    },
                },
                Some(close_at) => match tokio::time::timeout_at(close_at, stream.next_event()).await {
                    Ok(r) => r,
                    Err(_) => break,
                },
            };
            let res = match ev {
                Ok(Some(ev)) => self.process(ev, &mut out).await,
                Ok(None) => Err(PgError::Transient(
                    "the server ended the replication stream".into(),
                )),
                Err(e) => Err(e),
            };
            if let Err(e) = res {
                // Records already built moved the offset past their events: hand them out
                // and report the failure on the next poll, or they would be lost.
                if out.is_empty() {
                    return Err(e);
                }
                self.deferred_error = Some(e);
                break;
            }
        }
        for r in &out {
            if let ferry_core::Position::Source { offset, .. } = &r.position {
                self.flush.emitted(offset);
            }
        }
        self.maybe_heartbeat(&mut out).await;
        if let Some(s) = self.stream.as_mut() {
            s.confirm_flush(self.flush.flushable());
        }
        Ok(out)
    }

    async fn maybe_heartbeat(&mut self, out: &mut Vec<Record>) {
        let iv = self.cfg.heartbeat_interval;
        if iv.is_zero() || self.tx.is_some() || self.last_heartbeat.elapsed() < iv {
            return;
        }
        self.last_heartbeat = Instant::now();
        if let Some(q) = &self.cfg.heartbeat_action_query {
            if let Err(e) = self.meta.batch_execute(q).await {
                warn!(error = %e, "heartbeat.action.query failed");
            }
        }
        let off = Arc::new(self.offset.to_map());
        self.flush.emitted(&off);
        out.push(event::heartbeat(
            &self.heartbeat_topic,
            &self.cfg.topic_prefix,
            self.partition.clone(),
            off,
        ));
    }

    async fn table_for(&mut self, oid: u32) -> Result<Option<Arc<TableSchema>>> {
        if let Some(t) = self.tables.get(&oid) {
            return Ok(t.clone());
        }
        let t = match schema::load_table(&self.meta, oid).await? {
            Some(m) if self.cfg.filters.table_included(&m.id.schema, &m.id.table) => {
                Some(Arc::new(TableSchema::build(&m, &self.cfg)))
            }
            _ => None,
        };
        self.tables.insert(oid, t.clone());
        if let (Some(t), Some((rel, map))) = (&t, self.relations.get_mut(&oid)) {
            *map = t.relation_mapping(rel);
        }
        Ok(t)
    }

    async fn process(&mut self, ev: StreamEvent, out: &mut Vec<Record>) -> Result<()> {
        match ev {
            StreamEvent::Begin {
                xid, commit_time_us, ..
            } => {
                self.resume.begin(xid as i64);
                self.tx = Some(Tx { xid, commit_time_us });
                self.skip_tx = self.snapshot_visibility.as_ref().is_some_and(|v| v.sees(xid));
                if self.skip_tx {
                    debug!(xid, "skipping a transaction the snapshot already contains");
                }
                self.origin = None;
                self.offset.tx_id = Some(xid as i64);
                self.offset.ts_usec = Some(commit_time_us);
                if self.transaction_topic.is_some() && !self.skip_tx {
                    let id = xid.to_string();
                    // A transaction restored from the offsets (restart or reconnect in its
                    // middle) keeps its counters and gets no second BEGIN, as in Debezium.
                    if self.offset.transaction.id.as_deref() != Some(id.as_str()) {
                        self.offset.transaction.begin(id);
                        self.pending_begin = true;
                    }
                }
            }
            StreamEvent::Commit {
                commit_lsn,
                end_lsn,
                commit_time_us,
            } => {
                if self.pending_begin {
                    self.emit_begin(commit_lsn, out);
                }
                self.tx = None;
                self.skip_tx = false;
                self.offset.lsn = Some(end_lsn);
                self.offset.lsn_proc = Some(end_lsn);
                self.offset.lsn_commit = Some(end_lsn);
                self.offset.message_type = Some("COMMIT");
                self.offset.lsn_events_processed = 0;
                self.resume.commit();
                self.emit_end(end_lsn, commit_time_us, out);
            }
            StreamEvent::KeepAlive { wal_end } => {
                // Between transactions, with everything emitted durable, the server has sent all
                // changes up to wal_end: the offset moves there, and the next heartbeat record
                // carries it to the offsets topic, after which the slot may follow.
                if self.tx.is_none() && self.flush.all_durable() {
                    let current = self.offset.lsn_proc.unwrap_or_default();
                    if wal_end > current {
                        self.offset.lsn = Some(wal_end);
                        self.offset.lsn_proc = Some(wal_end);
                        self.offset.lsn_events_processed = 0;
                    }
                }
            }
            StreamEvent::Message {
                transactional,
                lsn,
                prefix,
                content,
            } => {
                if transactional && self.skip_tx {
                    return Ok(());
                }
                if transactional && self.pending_begin {
                    self.emit_begin(lsn, out);
                }
                self.logical_message(transactional, lsn, prefix, content, out);
            }
            StreamEvent::Data { wal_start, data } => {
                // Relation messages arrive with a zero WAL position: the BEGIN takes the
                // position of the first change (where PostgreSQL 15 puts its BEGIN too).
                if self.pending_begin && wal_start != Lsn::ZERO {
                    self.emit_begin(wal_start, out);
                }
                let msg = pgoutput::decode(&data).map_err(|e| PgError::Protocol(e.to_string()))?;
                self.process_message(wal_start, msg, out).await?;
            }
        }
        Ok(())
    }

    async fn process_message(&mut self, lsn: Lsn, msg: Message, out: &mut Vec<Record>) -> Result<()> {
        let (relation, op, old, new) = match msg {
            Message::Relation(rel) => {
                let changed = self
                    .relations
                    .get(&rel.id)
                    .map(|(r, _)| r != &rel)
                    .unwrap_or(true);
                if changed {
                    // The table's shape may have changed: reload its metadata on next use.
                    self.tables.remove(&rel.id);
                }
                let map = match self.tables.get(&rel.id) {
                    Some(Some(t)) => t.relation_mapping(&rel),
                    _ => Vec::new(),
                };
                self.relations.insert(rel.id, (rel, map));
                return Ok(());
            }
            Message::Origin { lsn, name } => {
                self.origin = Some((name, lsn));
                return Ok(());
            }
            _ if self.skip_tx => return Ok(()),
            Message::Insert { relation, new } => (relation, "c", None, Some(new)),
            Message::Update { relation, old, new } => (relation, "u", old.map(|o| o.1), Some(new)),
            Message::Delete { relation, old, .. } => (relation, "d", Some(old), None),
            Message::Truncate { relations, .. } => {
                for relation in relations {
                    self.truncate(lsn, relation, out).await?;
                }
                return Ok(());
            }
            Message::Type { .. } | Message::Message { .. } => return Ok(()),
            Message::Begin { .. } | Message::Commit { .. } => return Ok(()),
        };
        let message_type = match op {
            "c" => "INSERT",
            "u" => "UPDATE",
            _ => "DELETE",
        };
        let before_event = self.offset.event_position();
        if !self.advance(lsn, message_type) {
            return Ok(());
        }
        let op_char = op.chars().next().unwrap_or('c');
        if self.cfg.skipped_operations.contains(&op_char) {
            return Ok(());
        }
        let Some(table) = self.table_for(relation).await? else {
            return Ok(());
        };
        let Some((_, mapping)) = self.relations.get(&relation) else {
            return Err(PgError::Protocol(format!(
                "change for relation {relation} before its Relation message"
            )));
        };
        let placeholder = &self.cfg.unavailable_value_placeholder;
        let build = |t: &Vec<TupleValue>| {
            table
                .row(mapping.iter().copied().zip(t.iter()), placeholder)
                .map_err(PgError::Data)
        };
        let before = old.as_ref().map(build).transpose()?;
        // An unchanged TOASTed value missing from the new row is taken from the old row when the
        // old row carries it (REPLICA IDENTITY FULL), as Debezium does (DBZ-1258).
        let new = match (&old, new) {
            (Some(old), Some(mut new)) if new.iter().any(|v| matches!(v, TupleValue::UnchangedToast)) => {
                for (n, o) in new.iter_mut().zip(old.iter()) {
                    if matches!(n, TupleValue::UnchangedToast)
                        && matches!(o, TupleValue::Text(_) | TupleValue::Binary(_))
                    {
                        *n = o.clone();
                    }
                }
                Some(new)
            }
            (_, new) => new,
        };
        let after = new.as_ref().map(build).transpose()?;
        let source = self.source_struct(&table, lsn);
        let off = Arc::new(self.offset.to_map());
        let start = out.len();
        Change {
            table: &table,
            op,
            before,
            after,
            source,
            partition: self.partition.clone(),
            offset: off,
        }
        .into_records(self.cfg.tombstones_on_delete, out);
        self.finish_event(&mut out[start..], &table, lsn, before_event);
        Ok(())
    }

    /// Completes the records of one event (`recs`, already built with the offset after
    /// the event). With transaction metadata each change event gets its `transaction`
    /// block and the offset counts it. When an event yields several records (a delete
    /// and its tombstone, the two halves of a key change), all but the last carry the
    /// offset from before the event: a crash between them re-emits the whole event
    /// rather than skipping its rest.
    fn finish_event(
        &mut self,
        recs: &mut [Record],
        table: &TableSchema,
        lsn: Lsn,
        before_event: offset::EventPosition,
    ) {
        let n = recs.len();
        if n > 1 {
            let mut prev = self.offset.clone();
            prev.restore_event_position(before_event);
            let prev = Arc::new(prev.to_map());
            for r in &mut recs[..n - 1] {
                set_offset(r, prev.clone());
            }
        }
        if self.transaction_topic.is_some() && self.offset.transaction.in_progress() {
            let collection = format!("{}.{}", table.id.schema, table.id.table);
            for r in recs.iter_mut() {
                if let Value::Struct(envelope) = &mut r.value {
                    let block = self.count_in_transaction(&collection, lsn);
                    envelope.put_unchecked(event::ENVELOPE_TRANSACTION_INDEX, Value::Struct(block));
                }
            }
            if let Some(last) = recs.last_mut() {
                set_offset(last, Arc::new(self.offset.to_map()));
            }
        }
        if n > 0 {
            self.last_emitted = Some(self.offset.clone());
        }
    }

    /// The BEGIN record of the transaction in progress, at `lsn` (its first message).
    fn emit_begin(&mut self, lsn: Lsn, out: &mut Vec<Record>) {
        self.pending_begin = false;
        let (Some(topic), Some(tx)) = (&self.transaction_topic, &self.tx) else {
            return;
        };
        self.offset.lsn = Some(lsn);
        self.offset.lsn_proc = Some(lsn);
        self.offset.message_type = Some("BEGIN");
        let id = format!(
            "{}:{}",
            self.offset.transaction.id.as_deref().unwrap_or_default(),
            lsn.as_i64()
        );
        let ts_ms = tx.commit_time_us.div_euclid(1000);
        let off = Arc::new(self.offset.to_map());
        self.last_emitted = Some(self.offset.clone());
        out.push(event::transaction_record(
            topic,
            id,
            TransactionStatus::Begin,
            ts_ms,
            self.partition.clone(),
            off,
        ));
    }

    /// The END record of the transaction that just committed at `end_lsn`.
    fn emit_end(&mut self, end_lsn: Lsn, commit_time_us: i64, out: &mut Vec<Record>) {
        let Some(topic) = &self.transaction_topic else {
            return;
        };
        if let Some(xid) = self.offset.transaction.id.as_deref() {
            let id = format!("{xid}:{}", end_lsn.as_i64());
            let per = self.offset.transaction.per_collection_in_java_order();
            let off = Arc::new(self.offset.to_map());
            out.push(event::transaction_record(
                topic,
                id,
                TransactionStatus::End(&per),
                commit_time_us.div_euclid(1000),
                self.partition.clone(),
                off,
            ));
            self.last_emitted = Some(self.offset.clone());
        }
        self.offset.transaction.end();
    }

    /// An `m` event for a logical decoding message, unless its prefix is filtered out. A
    /// message outside any transaction is complete on its own: the offset commits at it,
    /// as Debezium's does.
    fn logical_message(
        &mut self,
        transactional: bool,
        lsn: Lsn,
        prefix: String,
        content: bytes::Bytes,
        out: &mut Vec<Record>,
    ) {
        if !self.cfg.filters.message_included(&prefix) {
            return;
        }
        if !transactional {
            self.offset.tx_id = None;
        }
        if !self.advance(lsn, "MESSAGE") {
            return;
        }
        if !transactional {
            self.offset.lsn_commit = Some(lsn);
            self.offset.lsn_events_processed = 0;
        }
        let (ts_us, tx_id) = match (&self.tx, transactional) {
            (Some(t), true) => (t.commit_time_us, Some(t.xid as i64)),
            // Debezium keeps the last commit time for messages outside transactions.
            _ => (self.offset.ts_usec.unwrap_or_else(event::now_us), None),
        };
        let source = self.source_at("", "", lsn, ts_us, tx_id);
        let transaction = match (&self.transaction_topic, transactional) {
            (Some(_), true) if self.offset.transaction.in_progress() => {
                Some(self.count_in_transaction(LOGICAL_DECODING_MESSAGE, lsn))
            }
            _ => None,
        };
        let off = Arc::new(self.offset.to_map());
        self.last_emitted = Some(self.offset.clone());
        out.push(event::logical_message(
            &self.message_topic,
            &self.message_schema,
            prefix,
            crate::types::binary_value(self.cfg.binary_mode, content),
            source,
            transaction,
            self.partition.clone(),
            off,
        ));
    }

    /// Moves the offset to the `nth` event at `lsn`; false when that event was already
    /// emitted before a restart (and must be skipped).
    fn advance(&mut self, lsn: Lsn, message_type: &'static str) -> bool {
        let nth = if self.same_lsn.0 == lsn {
            self.same_lsn.1 + 1
        } else {
            1
        };
        self.same_lsn = (lsn, nth);
        self.offset.lsn = Some(lsn);
        self.offset.lsn_proc = Some(lsn);
        self.offset.lsn_events_processed = nth;
        self.offset.message_type = Some(message_type);
        if self.resume.skip(lsn, nth) {
            debug!(%lsn, nth, "skipping event emitted before the restart");
            return false;
        }
        true
    }

    fn source_struct(&self, table: &TableSchema, lsn: Lsn) -> ferry_core::Struct {
        let (ts_us, tx_id) = match &self.tx {
            Some(t) => (t.commit_time_us, Some(t.xid as i64)),
            None => (event::now_us(), None),
        };
        self.source_at(&table.id.schema, &table.id.table, lsn, ts_us, tx_id)
    }

    /// The `source` block of a streamed event at `lsn`.
    fn source_at(
        &self,
        schema: &str,
        table: &str,
        lsn: Lsn,
        ts_us: i64,
        tx_id: Option<i64>,
    ) -> ferry_core::Struct {
        SourceInfo {
            server: &self.cfg.topic_prefix,
            db: &self.cfg.dbname,
            ts_us,
            snapshot: SnapshotRecord::False,
            last_commit_lsn: self.offset.lsn_commit.map(Lsn::as_i64),
            lsn: Some(lsn.as_i64()),
            tx_id,
            origin: self.origin.as_ref().map(|o| o.0.as_str()),
            origin_lsn: self.origin.as_ref().map(|o| o.1.as_i64()),
        }
        .to_struct(schema, table)
    }

    /// Counts one event of `collection` at `lsn` in the transaction in progress; its
    /// `transaction` block (`id` is `xid:lsn`, as Debezium's PostgresTransactionMonitor).
    fn count_in_transaction(&mut self, collection: &str, lsn: Lsn) -> ferry_core::Struct {
        let order = self.offset.transaction.event(collection);
        event::transaction_block(
            format!(
                "{}:{}",
                self.offset.transaction.id.as_deref().unwrap_or_default(),
                lsn.as_i64()
            ),
            self.offset.transaction.total,
            order,
        )
    }

    /// One truncate event (`op: t`) per truncated captured table, unless `skipped.operations` has `t`.
    async fn truncate(&mut self, lsn: Lsn, relation: u32, out: &mut Vec<Record>) -> Result<()> {
        let before_event = self.offset.event_position();
        if !self.advance(lsn, "TRUNCATE") || self.cfg.skipped_operations.contains(&'t') {
            return Ok(());
        }
        let Some(table) = self.table_for(relation).await? else {
            return Ok(());
        };
        let source = self.source_struct(&table, lsn);
        let off = Arc::new(self.offset.to_map());
        let start = out.len();
        out.push(event::truncate(&table, source, self.partition.clone(), off));
        self.finish_event(&mut out[start..], &table, lsn, before_event);
        Ok(())
    }

    fn commit(&mut self, durable: &[CommittedOffset]) {
        for c in durable {
            if c.partition.as_ref() == self.partition.as_ref() {
                self.flush.durable(&c.offset);
            }
        }
        let lsn = self.flush.flushable();
        if let Some(s) = self.stream.as_mut() {
            debug!(%lsn, "confirming flush position");
            s.confirm_flush(lsn);
        }
    }

    async fn stop(&mut self) -> Result<()> {
        if let Some(mut s) = self.stream.take() {
            s.confirm_flush(self.flush.flushable());
            s.close().await?;
        }
        if let Phase::Snapshot(_, session) = std::mem::replace(&mut self.phase, Phase::Done) {
            drop(session);
        }
        if self.cfg.slot_drop_on_stop {
            info!(slot = %self.cfg.slot_name, "dropping replication slot (slot.drop.on.stop=true)");
            replication::drop_slot(&self.meta, &self.cfg.slot_name).await?;
        }
        Ok(())
    }
}

impl PostgresSourceTask {
    /// A new, unstarted task.
    pub fn new() -> Self {
        PostgresSourceTask::default()
    }

    /// The highest LSN the task may confirm to the slot right now (for tests and metrics).
    pub fn flushable_lsn(&self) -> Option<Lsn> {
        self.inner.as_ref().map(|i| i.flush.flushable())
    }

    fn span(&self) -> tracing::Span {
        match &self.inner {
            Some(i) => info_span!("postgres-task", connector = %i.ctx.connector, task = i.ctx.task),
            None => info_span!("postgres-task"),
        }
    }
}

#[async_trait]
impl SourceTask for PostgresSourceTask {
    async fn start(&mut self, config: &ConfigMap, ctx: SourceTaskContext) -> Result<(), ConnectError> {
        let span = info_span!("postgres-task", connector = %ctx.connector, task = ctx.task);
        self.inner = Some(Inner::start(config, ctx).instrument(span).await?);
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<Record>, ConnectError> {
        let span = self.span();
        match self.inner.as_mut() {
            Some(i) => i.poll().instrument(span).await,
            None => Err(ConnectError::fatal("poll before start")),
        }
    }

    async fn commit(&mut self, durable: &[CommittedOffset]) -> Result<(), ConnectError> {
        if let Some(i) = self.inner.as_mut() {
            i.commit(durable);
        }
        Ok(())
    }

    async fn stop(&mut self) -> Result<(), ConnectError> {
        let span = self.span();
        if let Some(mut i) = self.inner.take() {
            i.stop().instrument(span).await?;
        }
        Ok(())
    }
}

/// The data collection logical decoding messages count under in transaction metadata.
const LOGICAL_DECODING_MESSAGE: &str = "LOGICAL_DECODING_MESSAGE";

fn set_offset(r: &mut Record, offset: Arc<OffsetMap>) {
    if let Position::Source { offset: o, .. } = &mut r.position {
        *o = offset;
    }
}

/// Loads a table's metadata (exposed for tools and tests).
pub async fn describe_table(client: &Client, oid: u32) -> Result<Option<TableMeta>> {
    schema::load_table(client, oid).await
}
