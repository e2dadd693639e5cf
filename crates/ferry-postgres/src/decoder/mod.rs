//! The pure part of the task: a state machine from replication events (and snapshot
//! rows) to Connect [`Record`]s and Debezium offsets. No I/O, no async: table schemas
//! are handed to it, and when it meets a table it has no schema for it says so
//! ([`Step::NeedTable`]) and leaves its state untouched until the caller answers.
//!
//! It covers transactions and their BEGIN/END metadata, logical decoding messages,
//! truncates, the resume filter after a restart, the skip of transactions a snapshot
//! already contains, heartbeats and how far the slot may be confirmed.

mod change;
mod transaction;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use ferry_core::{CommittedOffset, OffsetMap, Position, Record, Schema};
use uuid::Uuid;

use crate::config::PostgresConfig;
use crate::error::{PgError, Result};
use crate::event::{self, SnapshotRecord, SourceInfo};
use crate::headers::ContextHeaders;
use crate::lsn::Lsn;
use crate::offset::{self, FlushTracker, OffsetState, ResumeFilter, SnapshotMarker};
use crate::pgoutput::{self, Relation};
use crate::replication::StreamEvent;
use crate::schema::{TableId, TableMeta, TableSchema};
use crate::snapshot::{SnapshotRow, SnapshotVisibility};

/// What the decoder made of an event.
#[derive(Debug)]
pub enum Step {
    /// The event is processed; its records (if any) were appended.
    Done,
    /// The event needs the schema of table `relation`, which the decoder does not have.
    /// Nothing changed: hand the table over ([`Decoder::table_loaded`]) and submit
    /// `event` again.
    NeedTable {
        /// Table OID.
        relation: u32,
        /// The event, to submit again.
        event: StreamEvent,
    },
}

/// The transaction being streamed.
struct Tx {
    xid: u32,
    commit_time_us: i64,
}

/// Topics and schemas derived from the configuration.
struct Topics {
    heartbeat: Arc<str>,
    /// `PREFIX.transaction` when `provide.transaction.metadata` is on.
    transaction: Option<Arc<str>>,
    /// `PREFIX.message`, for logical decoding messages.
    message: Arc<str>,
    /// The value schema of `m` events.
    message_schema: Schema,
}

/// Where the decoder starts: the offset to continue from and what the slot confirmed.
pub struct Start {
    /// The offset state to continue from (stored, or fresh for a new slot).
    pub offset: OffsetState,
    /// The stored offset whose events were already emitted (skipped when streamed
    /// again); `None` after a snapshot or without stored offsets.
    pub resume_from: Option<OffsetState>,
    /// What the slot has confirmed already.
    pub flushed: Lsn,
    /// Now, for the heartbeat interval.
    pub now: Instant,
    /// This task run's id, in the `__debezium.context.runId` header
    /// ([`ContextHeaders::new_run_id`] for a new run).
    pub run_id: Uuid,
}

/// The replication-to-records state machine of one task.
pub struct Decoder {
    cfg: Arc<PostgresConfig>,
    partition: Arc<OffsetMap>,
    topics: Topics,
    offset: OffsetState,
    /// The offset of the last record handed out (a reconnect resumes after it).
    last_emitted: Option<OffsetState>,
    /// Schemas by table OID; `None` for a table that is not captured.
    tables: HashMap<u32, Option<Arc<TableSchema>>>,
    /// Relation messages seen on this stream, with their column mapping.
    relations: HashMap<u32, (Relation, Vec<Option<usize>>)>,
    resume: ResumeFilter,
    flush: FlushTracker,
    tx: Option<Tx>,
    /// The LSN of the last event and how many events were seen at it.
    same_lsn: (Lsn, i64),
    origin: Option<(String, Lsn)>,
    /// The transaction started but its BEGIN record waits for the LSN of its first message.
    pending_begin: bool,
    /// Set when the snapshot was not the slot's exported one: the transactions it saw,
    /// whose streamed changes are skipped.
    snapshot_visibility: Option<SnapshotVisibility>,
    /// The transaction being streamed is one the snapshot saw.
    skip_tx: bool,
    /// The transaction being streamed came from another origin and `origin=none` drops
    /// it as the server would: it leaves no trace, not even in the offset.
    filtered_tx: bool,
    /// The offset's `txId` and `ts_usec` before the transaction being streamed.
    before_tx: (Option<i64>, Option<i64>),
    last_heartbeat: Instant,
    /// The context headers of change events; `None` when `extended.headers.enabled` is off.
    context: Option<ContextHeaders>,
    /// The clock for `source.ts_us` outside transactions (µs since the epoch).
    now_us: fn() -> i64,
}

impl Decoder {
    /// A decoder for `cfg`, continuing from `start`.
    pub fn new(cfg: Arc<PostgresConfig>, start: Start) -> Decoder {
        let topics = Topics {
            heartbeat: Arc::from(format!("{}.{}", cfg.heartbeat_topic_prefix, cfg.topic_prefix).as_str()),
            transaction: cfg
                .provide_transaction_metadata
                .then(|| Arc::from(format!("{}.{}", cfg.topic_prefix, cfg.transaction_topic_name).as_str())),
            message: Arc::from(format!("{}.message", cfg.topic_prefix).as_str()),
            message_schema: event::message_value_schema(cfg.binary_mode),
        };
        Decoder {
            partition: offset::partition(&cfg.topic_prefix),
            topics,
            offset: start.offset,
            last_emitted: None,
            tables: HashMap::new(),
            relations: HashMap::new(),
            resume: ResumeFilter::new(start.resume_from.as_ref()),
            flush: FlushTracker::new(start.flushed),
            tx: None,
            same_lsn: (Lsn::ZERO, 0),
            origin: None,
            pending_begin: false,
            snapshot_visibility: None,
            skip_tx: false,
            filtered_tx: false,
            before_tx: (None, None),
            last_heartbeat: start.now,
            context: cfg
                .extended_headers_enabled
                .then(|| ContextHeaders::new(&cfg.topic_prefix, start.run_id)),
            now_us: event::now_us,
            cfg,
        }
    }

    /// Replaces the wall clock (µs since the epoch), for tests.
    pub fn with_clock(mut self, now_us: fn() -> i64) -> Decoder {
        self.now_us = now_us;
        self
    }

    /// The offset state after the events processed so far.
    pub fn offset(&self) -> &OffsetState {
        &self.offset
    }

    /// The source partition (`{"server": PREFIX}`).
    pub fn partition(&self) -> &Arc<OffsetMap> {
        &self.partition
    }

    /// The LSN a new replication stream starts at: the end of the last committed
    /// transaction, if any.
    pub fn resume_lsn(&self) -> Option<Lsn> {
        self.offset.lsn_commit
    }

    /// Whether a streamed transaction is open.
    pub fn in_transaction(&self) -> bool {
        self.tx.is_some()
    }

    /// Installs the schema of table `oid` (`None`: not captured), e.g. for the
    /// snapshot's tables.
    pub fn put_table(&mut self, oid: u32, table: Option<Arc<TableSchema>>) {
        if let (Some(t), Some((rel, map))) = (&table, self.relations.get_mut(&oid)) {
            *map = t.relation_mapping(rel);
        }
        self.tables.insert(oid, table);
    }

    /// The schema of captured table `id`, if the decoder knows it.
    pub fn table_named(&self, id: &TableId) -> Option<Arc<TableSchema>> {
        self.tables.values().flatten().find(|t| &t.id == id).cloned()
    }

    /// Answers [`Step::NeedTable`]: the table's catalog metadata (`None` when it no
    /// longer exists). Tables outside the include/exclude lists are remembered as not
    /// captured.
    pub fn table_loaded(&mut self, oid: u32, meta: Option<TableMeta>) {
        let table = match meta {
            Some(m) if self.cfg.filters.table_included(&m.id.schema, &m.id.table) => {
                Some(Arc::new(TableSchema::build(&m, &self.cfg)))
            }
            _ => None,
        };
        self.put_table(oid, table);
    }

    /// A new replication stream follows (reconnect): relations are sent again, the open
    /// transaction is sent again whole, and what was already handed out is skipped.
    pub fn stream_restarted(&mut self) {
        self.relations.clear();
        self.tx = None;
        // Events are counted afresh, as after a restart: the resume filter's count of
        // events at the last LSN refers to the re-sent transaction.
        self.same_lsn = (Lsn::ZERO, 0);
        self.resume = ResumeFilter::new(self.last_emitted.as_ref());
    }

    /// Processes one replication event, appending its records to `out`.
    pub fn process(&mut self, ev: StreamEvent, out: &mut Vec<Record>) -> Result<Step> {
        match ev {
            StreamEvent::Begin {
                xid, commit_time_us, ..
            } => self.begin(xid, commit_time_us),
            StreamEvent::Commit {
                commit_lsn,
                end_lsn,
                commit_time_us,
            } => self.commit(commit_lsn, end_lsn, commit_time_us, out),
            StreamEvent::KeepAlive { wal_end } => self.keepalive(wal_end),
            StreamEvent::Message {
                transactional,
                lsn,
                prefix,
                content,
            } => {
                if transactional && self.skip_tx {
                    return Ok(Step::Done);
                }
                if transactional && prefix == crate::cleanup::HOUSEKEEPING_PREFIX {
                    self.skip_transaction("Ferry's own outbox cleanup transaction");
                    return Ok(Step::Done);
                }
                if transactional && self.pending_begin {
                    self.emit_begin(lsn, out);
                }
                self.logical_message(transactional, lsn, prefix, content, out);
            }
            StreamEvent::Data { wal_start, data } => {
                // Relation messages arrive with a zero WAL position: the BEGIN takes the
                // position of the first change (where PostgreSQL 15 puts its BEGIN too).
                let begin_due = self.pending_begin && wal_start != Lsn::ZERO;
                let msg = match pgoutput::decode(&data) {
                    Ok(msg) => msg,
                    Err(e) => {
                        if begin_due {
                            self.emit_begin(wal_start, out);
                        }
                        return Err(PgError::Protocol(e.to_string()));
                    }
                };
                if let Some(relation) = self.missing_table(wal_start, &msg) {
                    let event = StreamEvent::Data { wal_start, data };
                    return Ok(Step::NeedTable { relation, event });
                }
                if begin_due {
                    self.emit_begin(wal_start, out);
                }
                self.process_message(wal_start, msg, out)?;
            }
        }
        Ok(Step::Done)
    }

    /// Between transactions, with everything emitted durable, the server has sent all
    /// changes up to `wal_end`: the offset moves there, and the next heartbeat record
    /// carries it to the offsets topic, after which the slot may follow.
    fn keepalive(&mut self, wal_end: Lsn) {
        if self.tx.is_none() && self.flush.all_durable() {
            let current = self.offset.lsn_proc.unwrap_or_default();
            if wal_end > current {
                self.offset.lsn = Some(wal_end);
                self.offset.lsn_proc = Some(wal_end);
                self.offset.lsn_events_processed = 0;
            }
        }
    }

    /// Forgets everything decoded after the event whose record carried `offset`: the
    /// records built after it were not handed out, and the next stream (after
    /// [`Decoder::stream_restarted`]) decodes them again, as a restart from that offset would.
    pub fn rewind_to(&mut self, offset: &OffsetMap) {
        let state = OffsetState::from_map(offset);
        self.offset = state.clone();
        self.last_emitted = Some(state);
    }

    /// The offset of the position reached (what the next record would build on).
    pub fn offset_map(&self) -> OffsetMap {
        self.offset.to_map()
    }

    /// Records in `out` were handed to the runtime.
    pub fn records_emitted(&mut self, out: &[Record]) {
        for r in out {
            if let Position::Source { offset, .. } = &r.position {
                self.flush.emitted(offset);
            }
        }
    }

    /// The runtime reports these offsets durable.
    pub fn offsets_durable(&mut self, durable: &[CommittedOffset]) {
        for c in durable {
            if c.partition.as_ref() == self.partition.as_ref() {
                self.flush.durable(&c.offset);
            }
        }
    }

    /// The highest LSN the slot may be confirmed to.
    pub fn flushable(&self) -> Lsn {
        self.flush.flushable()
    }

    /// The highest LSN of an offset reported durable in this run (what the outbox
    /// cleanup may delete up to; zero before the first).
    pub fn durable_lsn(&self) -> Lsn {
        self.flush.durable_lsn()
    }

    /// Whether a heartbeat record is due at `now` (`heartbeat.interval.ms`, never
    /// inside a transaction).
    pub fn heartbeat_due(&self, now: Instant) -> bool {
        let iv = self.cfg.heartbeat_interval;
        !iv.is_zero() && self.tx.is_none() && now.saturating_duration_since(self.last_heartbeat) >= iv
    }

    /// The heartbeat record carrying the current offset; the next is due an interval
    /// after `now`.
    pub fn heartbeat(&mut self, now: Instant) -> Record {
        self.last_heartbeat = now;
        let off = Arc::new(self.offset.to_map());
        self.flush.emitted(&off);
        event::heartbeat(
            &self.topics.heartbeat,
            &self.cfg.topic_prefix,
            self.partition.clone(),
            off,
        )
    }

    /// A snapshot starts in transaction `tx_id`; `visibility` is set when the snapshot
    /// is not the slot's exported one (its transactions are skipped when streamed).
    pub fn snapshot_started(&mut self, tx_id: i64, visibility: Option<SnapshotVisibility>) {
        self.offset.tx_id = Some(tx_id);
        self.snapshot_visibility = visibility;
        self.offset.ts_usec = Some((self.now_us)());
        self.offset.snapshot = Some(SnapshotMarker::initial(false));
        self.offset.snapshot_completed = false;
    }

    /// A blocking snapshot starts where streaming stopped: its rows carry the streaming
    /// position (`lsn`, `txId`, `ts_usec` unchanged) with `snapshot: BLOCKING`, as Debezium's.
    pub fn blocking_snapshot_started(&mut self) {
        self.offset.snapshot = Some(SnapshotMarker {
            last_record: false,
            blocking: true,
        });
        self.offset.snapshot_completed = false;
    }

    /// The `r` records of snapshot rows.
    pub fn snapshot_rows(&mut self, rows: Vec<SnapshotRow>, out: &mut Vec<Record>) {
        let now = (self.now_us)();
        for r in rows {
            let last = r.marker == SnapshotRecord::Last;
            let blocking = self.offset.snapshot.is_some_and(|s| s.blocking);
            self.offset.snapshot = Some(SnapshotMarker {
                last_record: last,
                blocking,
            });
            if blocking {
                // Debezium writes the last row's offset after marking the snapshot done.
                self.offset.snapshot_completed = last;
            } else {
                self.offset.ts_usec = Some(now);
            }
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
            event::Change {
                table: &r.table,
                op: "r",
                before: None,
                after: Some(r.row),
                source,
                partition: self.partition.clone(),
                offset: off,
                context: self.context.as_ref(),
            }
            .into_records(self.cfg.tombstones_on_delete, out);
        }
    }

    /// The snapshot read its last row.
    pub fn snapshot_finished(&mut self) {
        self.offset.snapshot = None;
        self.offset.snapshot_completed = false;
    }
}
