//! The source task's I/O shell: connects, snapshots, streams from the slot and
//! reconnects with retries, fetching table metadata when the [`Decoder`] asks for
//! it; the decoder turns what it reads into records and offsets. The slot is
//! confirmed only up to what the runtime reports durable.

mod cleanup;
pub(crate) mod connect;
mod plan;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use ferry_core::{CommittedOffset, ConfigMap, ConnectError, Record, SourceTask, SourceTaskContext};
use tokio_postgres::Client;
use tracing::{debug, info, info_span, warn, Instrument};

use crate::config::{LsnFlushMode, PluginName, PostgresConfig, SnapshotMode};
use crate::decoder::{Decoder, Start, Step};
use crate::error::{PgError, Result};
use crate::headers::ContextHeaders;
use crate::incremental::{BlockingRequest, Incremental, IncrementalStats, SignalSettings};
use crate::lsn::Lsn;
use crate::offset::{self, OffsetState};
use crate::replication::{self, ReplicationSession, ReplicationStream, StreamEvent};
use crate::schema::{self, TableId, TableMeta, TableSchema};
use crate::snapshot::{SnapshotReader, SnapshotTransaction};
use cleanup::CleanupHandle;
pub use cleanup::CleanupStats;
use connect::{captured_tables, connect_meta};

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

struct Inner {
    cfg: Arc<PostgresConfig>,
    ctx: SourceTaskContext,
    /// The ordinary session: catalog queries, heartbeat action queries, slot checks.
    meta: Client,
    phase: Phase,
    stream: Option<Box<dyn ReplicationStream>>,
    decoder: Decoder,
    /// Where streaming started (a reconnect before any commit starts there again).
    start_lsn: Lsn,
    /// A reconnect is due at this instant; the attempt number.
    retry: Option<(Instant, u32)>,
    /// A streaming failure met after records were built; reported by the next poll.
    deferred_error: Option<PgError>,
    /// Debezium's streaming and snapshot metrics, the slot's lag.
    metrics: Arc<crate::metrics::PgMetrics>,
    /// The outbox cleanup (`outbox.cleanup.enabled`).
    cleanup: Option<CleanupHandle>,
    /// Signals and incremental snapshots (`signal.data.collection`).
    incremental: Option<Incremental>,
    /// Initial snapshot notifications waiting for a position to carry.
    initial_notifications: InitialNotifications,
    /// `signal.data.collection`: its events are not post-processed.
    signal_table: Option<TableId>,
    /// The snapshot phase is a blocking snapshot (its id): streaming resumes after it.
    blocking: Option<String>,
}

/// Initial snapshot notifications (`notification.enabled.channels`): Debezium's
/// `InitialSnapshotNotificationService` sends SKIPPED, or STARTED and COMPLETED.
struct InitialNotifications {
    settings: crate::incremental::notify::NotificationSettings,
    connector: String,
    partition: Arc<ferry_core::OffsetMap>,
    waiting: Vec<crate::incremental::notify::Notification>,
    /// The offset the last handed-out record carried (first: the stored one).
    last_offset: Option<Arc<ferry_core::OffsetMap>>,
    /// The snapshotted tables' identifiers as Debezium joins them for a table's
    /// IN_PROGRESS (a `HashSet` of them).
    tables_as_set: String,
    /// The captured tables' identifiers (the signal table too) in snapshot order, as
    /// Debezium joins them for a table's TABLE_SCAN_COMPLETED.
    tables_captured: String,
}

impl InitialNotifications {
    fn push(&mut self, kind: &'static str) {
        self.push_with(kind, Vec::new());
    }

    fn push_with(&mut self, kind: &'static str, data: Vec<(&'static str, String)>) {
        if self.settings.enabled() {
            self.waiting
                .push(crate::incremental::notify::Notification::initial(
                    kind,
                    data,
                    &self.connector,
                ));
        }
    }

    /// Remembers the captured tables (in snapshot order) and those whose rows the
    /// snapshot reads, for the per-table notifications.
    fn snapshot_tables(&mut self, captured: &[TableId], snapshotted: &[TableId]) {
        let names: Vec<String> = snapshotted.iter().map(ToString::to_string).collect();
        // new HashSet<>(keySet): a table of max(n / 0.75 + 1, 16) buckets.
        let capacity = ((names.len() as f32 / 0.75) as usize + 1).max(16);
        let set = ferry_core::java::collections::hashmap_iteration_order_from(
            names.iter().map(|n| (n.as_str(), ())).collect(),
            capacity,
        );
        self.tables_as_set = set.into_iter().map(|(n, _)| n).collect::<Vec<_>>().join(",");
        self.tables_captured = captured
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
    }

    /// A table's IN_PROGRESS or TABLE_SCAN_COMPLETED, as Debezium's legacy (one thread)
    /// snapshot sends them.
    fn table(&mut self, progress: crate::snapshot::TableProgress) {
        use crate::snapshot::TableProgress;
        match progress {
            TableProgress::Started(id) => {
                let data = vec![
                    ("current_collection_in_progress", id.to_string()),
                    ("data_collections", self.tables_as_set.clone()),
                ];
                self.push_with("IN_PROGRESS", data);
            }
            TableProgress::Finished(id, rows) => {
                let data = vec![
                    ("scanned_collection", id.to_string()),
                    ("data_collections", self.tables_captured.clone()),
                    ("total_rows_scanned", rows.to_string()),
                    ("status", "SUCCEEDED".to_string()),
                ];
                self.push_with("TABLE_SCAN_COMPLETED", data);
            }
        }
    }

    /// Logs the waiting notifications and puts their sink records before `records`, each
    /// carrying the first record's offset (or the last one handed out): a notification
    /// never moves the stored offset past a record not yet sent. Without either they wait.
    fn place(&mut self, records: &mut Vec<Record>) {
        if let Some(ferry_core::Position::Source { offset, .. }) = records.first().map(|r| &r.position) {
            self.last_offset = Some(offset.clone());
        }
        if !self.waiting.is_empty() {
            if let Some(offset) = self.last_offset.clone() {
                let sink: Vec<Record> = std::mem::take(&mut self.waiting)
                    .iter()
                    .filter_map(|n| n.send(&self.settings, self.partition.clone(), offset.clone()))
                    .collect();
                records.splice(0..0, sink);
            }
        }
        if let Some(ferry_core::Position::Source { offset, .. }) = records.last().map(|r| &r.position) {
            self.last_offset = Some(offset.clone());
        }
    }
}

/// Waits for another client to let go of the slot, as Debezium: `slot.max.retries`
/// attempts, `slot.retry.delay.ms` apart. Returns the slot as it is once free (its
/// confirmed position may have moved while the other client held it).
async fn wait_until_slot_free(
    meta: &Client,
    cfg: &PostgresConfig,
    slot: replication::SlotInfo,
) -> Result<Option<replication::SlotInfo>> {
    let mut slot = Some(slot);
    for attempt in 1..cfg.slot_max_retries {
        if slot.as_ref().and_then(|s| s.active_pid).is_none() {
            break;
        }
        info!(slot = %cfg.slot_name, attempt, "replication slot is in use; retrying in {:?}", cfg.slot_retry_delay);
        tokio::time::sleep(cfg.slot_retry_delay).await;
        slot = replication::slot_info(meta, &cfg.slot_name).await?;
    }
    match slot.as_ref().and_then(|s| s.active_pid) {
        Some(pid) => Err(PgError::Setup(format!(
            "Replication slot '{}' is active for PID {pid}: another client (often a second connector with the same slot.name) consumes it. Stop that client or give this connector its own slot.name (tried {} times, slot.max.retries/slot.retry.delay.ms)",
            cfg.slot_name, cfg.slot_max_retries
        ))),
        None => Ok(slot),
    }
}

impl Inner {
    async fn start(config: &ConfigMap, ctx: SourceTaskContext) -> Result<Inner, ConnectError> {
        let with_signal_table = crate::incremental::include_signal_table(config);
        let config = with_signal_table.as_ref().unwrap_or(config);
        let cfg = PostgresConfig::parse(config).map_err(|errs| {
            ConnectError::config(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))
        })?;
        let cfg = Arc::new(cfg);
        let meta = connect_meta(&cfg).await?;
        replication::check_wal_level(&meta).await?;
        let mut slot = replication::slot_info(&meta, &cfg.slot_name).await?;
        if let Some(found) = slot.take() {
            plan::check_existing_slot(&cfg, &found)?;
            let held = found.active_pid.is_some();
            slot = wait_until_slot_free(&meta, &cfg, found).await?;
            if held {
                // The holder may have been this connector's task on a worker that kept
                // it through a rebalance and stored offsets while this one waited:
                // resume from those, not from the copy read before the wait.
                ctx.offsets.reload().await?;
            }
        }
        if slot.is_none() && cfg.plugin_name == PluginName::Decoderbufs {
            warn!(slot = %cfg.slot_name, "plugin.name is decoderbufs, which Ferry does not decode; creating the slot with pgoutput");
        }
        let partition = offset::partition(&cfg.topic_prefix);
        let stored_map = ctx.offsets.offset(&partition);
        let stored = plan::check_log_position(
            &cfg,
            stored_map.as_ref().map(OffsetState::from_map),
            slot.as_ref(),
        )?;
        // when_needed re-snapshots a lost position as if no offsets were stored.
        let stored_map = stored_map.filter(|_| stored.is_some());
        let snapshot_needed = plan::snapshot_needed(stored.as_ref(), cfg.snapshot_mode, slot.is_some());
        plan::check_offsets_usable(&cfg, slot.is_some(), stored.as_ref(), snapshot_needed)?;
        let tables = captured_tables(&meta, &cfg).await?;
        plan::check_guardrail(&cfg, tables.len())?;
        let ids: Vec<TableId> = tables.iter().map(|(_, t)| t.clone()).collect();
        replication::ensure_publication(&meta, &cfg, &ids).await?;
        replication::apply_replica_identities(&meta, &cfg, &ids).await;
        let cleanup = match cfg.outbox_cleanup {
            Some(_) => Some(CleanupHandle::start(&cfg, &meta, tracing::Span::current()).await?),
            None => None,
        };
        if let Some(target) =
            plan::slot_advance_target(&cfg, stored.as_ref(), slot.as_ref()).filter(|_| !snapshot_needed)
        {
            if let (Some(now), Some(s)) = (
                replication::advance_slot(&meta, &cfg.slot_name, target).await?,
                slot.as_mut(),
            ) {
                info!(slot = %cfg.slot_name, confirmed_flush = %now, "advanced the replication slot to the stored offset (offset.mismatch.strategy)");
                s.confirmed_flush = Some(now);
            }
        }
        let start_lsn = plan::start_lsn(stored.as_ref(), snapshot_needed);
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
            let failover = cfg.slot_failover && replication::supports_failover_slots(&meta).await?;
            let created = session.create_slot(&cfg.slot_name, failover).await?;
            info!(slot = %cfg.slot_name, consistent_point = %created.consistent_point, failover, "created replication slot");
            flushed = created.consistent_point;
            offset_state.lsn = Some(created.consistent_point);
            exported = created.snapshot_name;
        } else if snapshot_needed {
            info!(slot = %cfg.slot_name, "the slot exists, so the snapshot is a new one: streamed transactions it already contains are skipped");
            offset_state.lsn = Some(flushed);
        }
        let mut initial_notifications = InitialNotifications {
            settings: crate::incremental::notify::NotificationSettings::from_config(config),
            connector: cfg.topic_prefix.clone(),
            partition: partition.clone(),
            waiting: Vec::new(),
            last_offset: stored_map.clone().map(Arc::new),
            tables_as_set: String::new(),
            tables_captured: String::new(),
        };
        initial_notifications.push(if snapshot_needed { "STARTED" } else { "SKIPPED" });
        let run_id = ContextHeaders::new_run_id();
        let incremental = Incremental::new(
            config,
            SignalSettings::from_config(config),
            cfg.clone(),
            ids.clone(),
            cfg.extended_headers_enabled
                .then(|| ContextHeaders::new(&cfg.topic_prefix, run_id)),
            if snapshot_needed {
                None
            } else {
                stored_map.as_ref()
            },
            snapshot_needed,
        );
        let decoder = Decoder::new(
            cfg.clone(),
            Start {
                offset: offset_state,
                resume_from: if snapshot_needed { None } else { stored },
                flushed,
                now: Instant::now(),
                run_id,
            },
        );
        let metrics = crate::metrics::PgMetrics::register(
            &cfg.topic_prefix,
            &cfg.slot_name,
            &ctx.connector,
            ctx.task,
            cfg.max_queue_size,
        );
        let lag_cfg = cfg.clone();
        metrics.watch_slot(move || {
            let cfg = lag_cfg.clone();
            async move { connect_meta(&cfg).await }
        });
        let mut inner = Inner {
            cfg: cfg.clone(),
            ctx,
            metrics,
            meta,
            phase: Phase::Done,
            stream: None,
            decoder,
            start_lsn,
            retry: None,
            deferred_error: None,
            cleanup,
            incremental,
            initial_notifications,
            signal_table: SignalSettings::from_config(config).data_collection,
            blocking: None,
        };
        if snapshot_needed {
            let mut metas = Vec::new();
            for (oid, _) in &tables {
                if let Some(m) = schema::load_table(&inner.meta, *oid).await? {
                    let ts = Arc::new(TableSchema::build(&m, &cfg));
                    inner.decoder.put_table(*oid, Some(ts.clone()));
                    metas.push((m, ts));
                }
            }
            // Only the tables snapshot.include.collection.list names (all without it); the
            // signal table is captured but its rows are not snapshotted, as in Debezium.
            let is_signal_table = |id: &TableId| inner.signal_table.as_ref() == Some(id);
            metas.retain(|(m, _)| is_signal_table(&m.id) || cfg.snapshot_includes(&m.id.schema, &m.id.table));
            let captured: Vec<TableId> = metas.iter().map(|(m, _)| m.id.clone()).collect();
            metas.retain(|(m, _)| !is_signal_table(&m.id));
            let snap_client = connect_meta(&cfg).await?;
            let tx = SnapshotTransaction {
                isolation: cfg.snapshot_isolation_mode,
                locking: cfg.snapshot_locking_mode,
                lock_timeout: cfg.snapshot_lock_timeout,
                tables: metas.iter().map(|(m, _)| m.id.clone()).collect(),
            };
            inner.initial_notifications.snapshot_tables(&captured, &tx.tables);
            let reader = SnapshotReader::open(
                snap_client,
                exported.as_deref(),
                &tx,
                metas,
                cfg.snapshot_fetch_size,
                cfg.unavailable_value_placeholder.clone(),
            )
            .await?;
            let visibility = exported.is_none().then(|| reader.visibility.clone());
            inner.decoder.snapshot_started(reader.tx_id, visibility);
            info!(tables = captured.len(), "starting snapshot");
            inner.metrics.snapshot_started(captured.len());
            inner.phase = Phase::Snapshot(Box::new(reader), Some(session));
        } else {
            inner.stream = Some(Box::new(session.start().await?));
            inner.phase = Phase::Streaming;
            if let Some(c) = &inner.cleanup {
                c.streaming();
            }
            info!(start = %start_lsn, "streaming");
        }
        Ok(inner)
    }

    async fn poll(&mut self) -> Result<Vec<Record>, ConnectError> {
        self.metrics
            .set_connected(self.stream.is_some() && self.retry.is_none());
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
            Ok(mut r) => {
                self.initial_notifications.place(&mut r);
                Ok(r)
            }
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
        let slot_confirmed = if let Some(s) = replication::slot_info(&self.meta, &self.cfg.slot_name).await? {
            if s.active_pid.is_some() {
                return Err(PgError::Transient(format!(
                    "replication slot '{}' still active",
                    self.cfg.slot_name
                )));
            }
            s.confirmed_flush.unwrap_or_default()
        } else {
            return Err(PgError::Setup(format!(
                "Replication slot '{}' disappeared while the connector was running; changes may be lost. Delete the offsets to re-snapshot",
                self.cfg.slot_name
            )));
        };
        let start = self.decoder.resume_lsn().unwrap_or(self.start_lsn);
        // Stream from what was handed out, but confirm only what is durable (with
        // lsn.flush.mode=manual, nothing: status updates repeat the slot's own position).
        let flushable = if self.cfg.lsn_flush_mode.confirms_flush() {
            self.decoder.flushable()
        } else {
            slot_confirmed
        };
        let session = ReplicationSession::connect(&self.cfg, start, flushable).await?;
        let mut stream = session.start().await?;
        stream.confirm_flush(flushable);
        self.stream = Some(Box::new(stream));
        self.decoder.stream_restarted();
        Ok(())
    }

    async fn poll_snapshot(&mut self) -> Result<Vec<Record>> {
        let Phase::Snapshot(reader, _) = &mut self.phase else {
            return Ok(Vec::new());
        };
        let read = reader.next_rows(self.cfg.max_batch_size).await;
        for progress in reader.take_progress() {
            self.initial_notifications.table(progress);
        }
        let rows = match read {
            Ok(rows) => rows,
            Err(e) => match self.blocking.take() {
                None => return Err(e),
                Some(id) => {
                    // As Debezium: a failed blocking snapshot is logged and streaming resumes.
                    warn!(id = %id, error = %e, "Error while executing requested blocking snapshot; streaming resumes");
                    self.phase = Phase::Done;
                    self.decoder.snapshot_finished();
                    self.initial_notifications.push("ABORTED");
                    self.resume_after_blocking().await?;
                    return Ok(Vec::new());
                }
            },
        };
        if rows.is_empty() {
            let Phase::Snapshot(reader, session) = std::mem::replace(&mut self.phase, Phase::Done) else {
                unreachable!()
            };
            reader.finish().await?;
            self.decoder.snapshot_finished();
            self.initial_notifications.push("COMPLETED");
            self.metrics.snapshot_completed();
            if let Some(id) = self.blocking.take() {
                info!(id = %id, "blocking snapshot completed; streaming resumes");
                self.resume_after_blocking().await?;
                return Ok(Vec::new());
            }
            info!("snapshot completed");
            if self.cfg.snapshot_mode == SnapshotMode::InitialOnly {
                info!("snapshot.mode=initial_only: not streaming");
                return Ok(Vec::new());
            }
            let session = session.expect("replication session kept for streaming");
            self.stream = Some(Box::new(session.start().await?));
            self.phase = Phase::Streaming;
            if let Some(c) = &self.cleanup {
                c.streaming();
            }
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(rows.len());
        self.decoder.snapshot_rows(rows, &mut out);
        self.metrics.snapshot_rows(out.len());
        Ok(out)
    }

    async fn poll_stream(&mut self) -> Result<Vec<Record>> {
        let mut out = Vec::new();
        // Where the stream stood before this poll (snapshot rows and notifications are
        // positioned there until a record gives a position).
        let position_before = self
            .incremental
            .as_ref()
            .filter(|inc| inc.needs_position())
            .map(|_| Arc::new(self.decoder.offset_map()));
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
                Ok(Some(ev)) => self.feed(ev, &mut out).await,
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
        if !self.cfg.post_processors.is_empty() {
            // post.processors: Debezium's reselect post processor. With
            // reselect.error.handling.mode=fail its error fails the task, as in Debezium;
            // the records of this batch are not handed out (nothing moved the stored offset).
            let decoder = &self.decoder;
            crate::postprocess::reselect::apply(
                &self.meta,
                &self.cfg.post_processors,
                |id| decoder.table_named(id),
                self.signal_table.as_ref(),
                &self.cfg.unavailable_value_placeholder,
                &mut out,
            )
            .await?;
        }
        let mut blocking = None;
        if let Some(inc) = self.incremental.as_mut() {
            let between_transactions = !self.decoder.in_transaction();
            out = inc
                .process(&self.meta, out, position_before, between_transactions)
                .await;
            blocking = inc.take_blocking();
            if inc.take_truncated() {
                // The records after a blocking snapshot's signal were dropped: decode
                // them again from a new stream once the snapshot is read.
                if let Some(offset) = out.iter().rev().find_map(|r| match &r.position {
                    ferry_core::Position::Source { offset, .. } => Some(offset.clone()),
                    _ => None,
                }) {
                    self.decoder.rewind_to(&offset);
                }
                self.stream = None;
            }
        }
        self.decoder.records_emitted(&out);
        self.metrics.streamed(&out);
        let before_heartbeat = out.len();
        self.maybe_heartbeat(&mut out).await;
        if let Some(inc) = self.incremental.as_ref().filter(|i| i.running()) {
            // The heartbeat carries the snapshot's progress too, and is the offset to track.
            inc.decorate_all(&mut out[before_heartbeat..]);
            self.decoder.records_emitted(&out[before_heartbeat..]);
        }
        if let Some(s) = self.stream.as_mut() {
            s.confirm_flush(self.decoder.flushable());
        }
        if let Some(request) = blocking {
            self.start_blocking(request).await;
        }
        if self.stream.is_none() && matches!(self.phase, Phase::Streaming) && self.retry.is_none() {
            self.resume_after_blocking().await?;
        }
        Ok(out)
    }

    /// Stops streaming and reads the tables of a blocking snapshot (`execute-snapshot`
    /// of type `blocking`). The replication connection is closed meanwhile and opened
    /// again from the last position handed out when the snapshot ends (Debezium parks
    /// it instead); changes made meanwhile come after the snapshot's rows. A snapshot
    /// that cannot start is logged and streaming goes on.
    async fn start_blocking(&mut self, request: BlockingRequest) {
        match self.open_blocking(&request).await {
            Ok(reader) => {
                info!(id = %request.id, tables = request.tables.len(), "blocking snapshot: streaming stops until it ends");
                self.stream = None;
                self.decoder.blocking_snapshot_started();
                self.metrics.snapshot_started(request.tables.len());
                self.initial_notifications.push("STARTED");
                self.phase = Phase::Snapshot(Box::new(reader), None);
                self.blocking = Some(request.id);
            }
            Err(e) => {
                warn!(id = %request.id, error = %e, "the blocking snapshot could not start; streaming goes on");
                self.initial_notifications.push("ABORTED");
            }
        }
    }

    async fn open_blocking(&mut self, request: &BlockingRequest) -> Result<SnapshotReader> {
        // In the initial snapshot's order (include-list patterns, then names), as Debezium.
        let captured = captured_tables(&self.meta, &self.cfg).await?;
        let mut metas = Vec::new();
        for (oid, id) in &captured {
            let Some((_, select)) = request.tables.iter().find(|(t, _)| t == id) else {
                continue;
            };
            let Some(m) = schema::load_table(&self.meta, *oid).await? else {
                continue;
            };
            // Debezium reads a blocking snapshot's table with its additional condition's
            // SELECT, else all its columns (snapshot.select.statement.overrides do not apply).
            let mut ts = TableSchema::build(&m, &self.cfg);
            ts.snapshot_select = select.clone();
            metas.push((m, Arc::new(ts)));
        }
        if metas.is_empty() {
            return Err(PgError::Setup("none of the requested tables can be read".into()));
        }
        let tx = SnapshotTransaction {
            isolation: self.cfg.snapshot_isolation_mode,
            locking: self.cfg.snapshot_locking_mode,
            lock_timeout: self.cfg.snapshot_lock_timeout,
            tables: metas.iter().map(|(m, _)| m.id.clone()).collect(),
        };
        self.initial_notifications.snapshot_tables(&tx.tables, &tx.tables);
        let client = connect_meta(&self.cfg).await?;
        SnapshotReader::open(
            client,
            None,
            &tx,
            metas,
            self.cfg.snapshot_fetch_size,
            self.cfg.unavailable_value_placeholder.clone(),
        )
        .await
    }

    /// Streams again after a blocking snapshot, from the last position handed out; a
    /// transient failure (the old connection not yet gone) is retried as any reconnect.
    async fn resume_after_blocking(&mut self) -> Result<()> {
        self.phase = Phase::Streaming;
        match self.reconnect().await {
            Ok(()) => Ok(()),
            Err(e) if e.is_transient() => {
                debug!(error = %e, "reconnecting after the blocking snapshot");
                self.retry = Some((Instant::now() + Duration::from_millis(500), 1));
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// Hands one event to the decoder, loading the table metadata it asks for.
    async fn feed(&mut self, ev: StreamEvent, out: &mut Vec<Record>) -> Result<()> {
        self.metrics.observe(&ev);
        if let StreamEvent::KeepAlive { wal_end } = ev {
            self.decoder.process(ev, out)?;
            self.keepalive_flush(wal_end);
            return Ok(());
        }
        let mut ev = ev;
        loop {
            match self.decoder.process(ev, out)? {
                Step::Done => return Ok(()),
                Step::NeedTable { relation, event } => {
                    let meta = schema::load_table(&self.meta, relation).await?;
                    self.decoder.table_loaded(relation, meta);
                    ev = event;
                }
            }
        }
    }

    /// `lsn.flush.mode=connector_and_driver`, like pgjdbc's automatic flush: when the
    /// decoder took the keepalive position as its offset (between transactions, with
    /// everything emitted durable), that position is confirmed to the slot at once.
    fn keepalive_flush(&mut self, wal_end: Lsn) {
        if self.cfg.lsn_flush_mode != LsnFlushMode::ConnectorAndDriver || self.decoder.in_transaction() {
            return;
        }
        if self.decoder.offset().lsn_proc == Some(wal_end) {
            if let Some(s) = self.stream.as_mut() {
                debug!(%wal_end, "confirming the keepalive position (lsn.flush.mode=connector_and_driver)");
                s.confirm_flush(wal_end);
            }
        }
    }

    async fn maybe_heartbeat(&mut self, out: &mut Vec<Record>) {
        let now = Instant::now();
        if !self.decoder.heartbeat_due(now) {
            return;
        }
        if let Some(q) = &self.cfg.heartbeat_action_query {
            if let Err(e) = self.meta.batch_execute(q).await {
                warn!(error = %e, "heartbeat.action.query failed");
            }
        }
        out.push(self.decoder.heartbeat(now));
    }

    fn commit(&mut self, durable: &[CommittedOffset]) {
        self.decoder.offsets_durable(durable);
        if let Some(c) = &self.cleanup {
            c.durable(self.decoder.durable_lsn());
        }
        let lsn = self.decoder.flushable();
        if let Some(s) = self.stream.as_mut() {
            debug!(%lsn, "confirming flush position");
            s.confirm_flush(lsn);
        }
    }

    async fn stop(&mut self) -> Result<()> {
        // Stops the cleanup; a batch in flight is rolled back with its session.
        self.cleanup = None;
        if let Some(mut s) = self.stream.take() {
            s.confirm_flush(self.decoder.flushable());
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
        self.inner.as_ref().map(|i| i.decoder.flushable())
    }

    /// What the incremental snapshot did so far (`None` without `signal.data.collection`).
    pub fn incremental_stats(&self) -> Option<IncrementalStats> {
        self.inner.as_ref()?.incremental.as_ref().map(Incremental::stats)
    }

    /// What the outbox cleanup did so far (`None` unless `outbox.cleanup.enabled`).
    pub fn cleanup_stats(&self) -> Option<Arc<CleanupStats>> {
        self.inner.as_ref()?.cleanup.as_ref().map(CleanupHandle::stats)
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

/// Loads a table's metadata (exposed for tools and tests).
pub async fn describe_table(client: &Client, oid: u32) -> Result<Option<TableMeta>> {
    schema::load_table(client, oid).await
}
