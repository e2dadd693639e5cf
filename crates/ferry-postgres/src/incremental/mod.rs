//! Signals and incremental snapshots, as Debezium's `SignalProcessor` and
//! `SignalBasedIncrementalSnapshotChangeEventSource` run them for PostgreSQL.
//!
//! A signal is a row inserted into the signal table (`signal.data.collection`); the task
//! sees it as the change event the connector streams for that table. `execute-snapshot`
//! queues tables; each chunk (`incremental.snapshot.chunk.size` rows in key order) is read
//! between two watermark rows written into the signal table (DBLog): an open marker, the
//! chunk's `SELECT`, a close marker. While the stream is between the two markers, a change
//! streamed for a key of the chunk drops that key from the buffered chunk (the streamed
//! event is at least as new); when the close marker arrives, what is left goes out as
//! `op: r` events and the next chunk is read. Progress lives in the offsets
//! (`incremental_snapshot_*`), so a restart resumes after the last row sent.

pub mod file;
pub mod javaser;
pub mod kafka;
pub mod notify;
pub mod read_only;
pub mod reader;
pub mod signal;

use std::collections::VecDeque;
use std::sync::Arc;

use ferry_core::serde_json::{self, Value as Json};
use ferry_core::{ConfigMap, OffsetMap, Position, Record, Struct, Value};
use indexmap::IndexMap;
use tokio_postgres::Client;
use tracing::{info, warn};

use crate::config::PostgresConfig;
use crate::error::{PgError, Result};
use crate::event;
use crate::headers::ContextHeaders;
use crate::offset::{self, IncrementalOffset};
use crate::schema::{self, TableId, TableSchema};
use javaser::KeyValue;
use notify::{Notification, NotificationSettings};
use read_only::{PgSnapshot, ReadOnlyWindow};
use reader::ChunkTable;
use signal::{Action, Signal};

/// The signal settings Ferry reads.
#[derive(Clone, Debug, PartialEq)]
pub struct SignalSettings {
    /// `signal.data.collection` (`schema.table`; a leading database name is dropped).
    pub data_collection: Option<TableId>,
    /// `signal.enabled.channels` includes `source`.
    pub source_channel: bool,
    /// `incremental.snapshot.chunk.size`.
    pub chunk_size: usize,
    /// `incremental.snapshot.watermarking.strategy=insert_delete`: a chunk's window is
    /// closed by deleting its open marker rather than inserting a close marker.
    pub close_by_delete: bool,
    /// `read.only`: incremental snapshots take their watermarks from the server's
    /// transaction snapshots and write nothing; no signal table is needed.
    pub read_only: bool,
}

/// Default `incremental.snapshot.chunk.size`.
pub const DEFAULT_CHUNK_SIZE: usize = 1024;

impl SignalSettings {
    /// Reads the settings from the connector configuration.
    pub fn from_config(cfg: &ConfigMap) -> SignalSettings {
        let data_collection = cfg
            .get("signal.data.collection")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .and_then(parse_table_id);
        let source_channel = cfg
            .get("signal.enabled.channels")
            .map(|s| s.split(',').any(|c| c.trim().eq_ignore_ascii_case("source")))
            .unwrap_or(true);
        let chunk_size = cfg
            .get("incremental.snapshot.chunk.size")
            .and_then(|s| s.trim().parse::<usize>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_CHUNK_SIZE);
        let close_by_delete = cfg
            .get("incremental.snapshot.watermarking.strategy")
            .is_some_and(|s| s.trim().eq_ignore_ascii_case("insert_delete"));
        let read_only = cfg
            .get("read.only")
            .is_some_and(|s| s.trim().eq_ignore_ascii_case("true"));
        SignalSettings {
            data_collection,
            source_channel,
            chunk_size,
            close_by_delete,
            read_only,
        }
    }
}

/// Debezium captures the signal table whatever `table.include.list` says
/// (`RelationalTableFilters` adds it): a configuration with an include list that misses it
/// gets it appended. `None` when nothing changes. (`table.exclude.list` and
/// `schema.include.list` are left as they are.)
pub fn include_signal_table(cfg: &ConfigMap) -> Option<ConfigMap> {
    let signal = SignalSettings::from_config(cfg).data_collection?;
    let key = ["table.include.list", "table.whitelist"]
        .into_iter()
        .find(|k| cfg.get(*k).is_some_and(|v| !v.trim().is_empty()))?;
    let list = cfg.get(key)?;
    let name = signal.to_string();
    let listed = list
        .split(',')
        .any(|p| regex::Regex::new(&format!("^(?:{})$", p.trim())).is_ok_and(|re| re.is_match(&name)));
    if listed {
        return None;
    }
    let mut out = cfg.clone();
    out.insert(key.to_string(), format!("{list},{}", regex::escape(&name)));
    Some(out)
}

/// `schema.table` or `db.schema.table` (unquoted, as Debezium's `TableId.parse`).
pub fn parse_table_id(s: &str) -> Option<TableId> {
    let parts: Vec<&str> = s.split('.').map(|p| p.trim_matches('"')).collect();
    match parts.as_slice() {
        [schema, table] | [_, schema, table] if !schema.is_empty() && !table.is_empty() => Some(TableId {
            schema: schema.to_string(),
            table: table.to_string(),
        }),
        _ => None,
    }
}

/// One table queued for the snapshot.
#[derive(Clone, Debug, PartialEq)]
struct Collection {
    id: TableId,
    /// `additional-conditions` filter (empty: none).
    condition: String,
    /// `surrogate-key` (empty: the primary key).
    surrogate: String,
}

/// The table being snapshotted, resolved.
struct Current {
    chunk: ChunkTable,
    schema: Arc<TableSchema>,
}

/// Counters, for logs and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IncrementalStats {
    /// `op: r` rows emitted.
    pub rows_sent: u64,
    /// Buffered rows dropped because the stream changed their key inside the window.
    pub deduplicated: u64,
    /// Chunks read.
    pub chunks: u64,
}

/// Signals and the incremental snapshot of one task.
pub struct Incremental {
    settings: SignalSettings,
    /// `signal.data.collection` (optional with `read.only`).
    signal_table: Option<TableId>,
    /// Its change events' topic.
    signal_topic: Option<String>,
    cfg: Arc<PostgresConfig>,
    partition: Arc<OffsetMap>,
    context: Option<ContextHeaders>,
    /// Tables the connector captures (`schema.table`), for expanding patterns.
    known: Vec<TableId>,
    collections: VecDeque<Collection>,
    collections_json: String,
    correlation_id: Option<String>,
    last_key_sent: Option<Vec<KeyValue>>,
    chunk_end: Option<Vec<KeyValue>>,
    maximum_key: Option<Vec<KeyValue>>,
    chunk_id: Option<String>,
    window_open: bool,
    paused: bool,
    stop_requests: Vec<Option<Vec<String>>>,
    /// The chunk read, by record key (in key order).
    window: IndexMap<String, (Vec<KeyValue>, Struct)>,
    current: Option<Current>,
    /// A restored snapshot still has to read its first chunk.
    pending_init: bool,
    /// `last_snapshot_record`, `snapshot_completed` carried by incremental events' offsets.
    snapshot_flags: (bool, bool),
    stats: IncrementalStats,
    /// The Kafka signal channel (`signal.enabled.channels` has `kafka`).
    kafka: Option<kafka::KafkaSignals>,
    /// The file signal channel (`signal.enabled.channels` has `file`).
    file: Option<file::FileSignals>,
    /// The offset of the last record seen (for `log` signals from Kafka).
    last_offset: Option<Arc<OffsetMap>>,
    /// Where notifications go (`notification.enabled.channels`).
    notifications: NotificationSettings,
    /// Notification records not yet placed among the poll's records.
    pending_notifications: Vec<Record>,
    /// Rows read from the current table (Debezium's `totalRowsScanned`).
    rows_scanned: u64,
    /// The window of a read-only incremental snapshot (`read.only=true`).
    read_only: Option<ReadOnlyWindow>,
    /// Transaction id of the last streamed change (read-only windows compare it).
    last_tx: Option<i64>,
    /// The `source` of the last streamed change (the model of read-only rows' source).
    last_source: Option<Struct>,
    /// Blocking snapshots asked for and not yet taken by the task, in order.
    blocking: VecDeque<BlockingRequest>,
    /// The last [`Incremental::process`] stopped at a blocking snapshot's signal and
    /// dropped the records after it (the task decodes them again after the snapshot).
    truncated: bool,
}

/// A blocking snapshot asked for by an `execute-snapshot` signal of type `blocking`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockingRequest {
    /// The signal's id.
    pub id: String,
    /// The captured tables to read (never the signal table), each with the SELECT its
    /// `additional-conditions` entry gives (`None`: all its rows).
    pub tables: Vec<(TableId, Option<String>)>,
}

/// What reading a chunk gave.
enum ChunkRead {
    /// Rows are in the window.
    Rows,
    /// The table has no rows at all (no maximum key).
    Empty,
    /// The table has no more rows.
    Finished,
    /// The table cannot be read: Debezium's completion status and the error.
    Skipped(&'static str, PgError),
}

/// A key as Debezium's notifications print it: each column's `toString`, joined by `,`.
fn key_text(key: &[KeyValue]) -> String {
    key.iter()
        .map(|k| match k {
            KeyValue::Null => "<null>".to_string(),
            KeyValue::Int(i) => i.to_string(),
            KeyValue::Long(l) => l.to_string(),
            KeyValue::Str(s) => s.clone(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The record key as a map key for the window.
fn key_string(v: &Value) -> String {
    match v {
        Value::Struct(s) => format!("{:?}", s.values()),
        other => format!("{other:?}"),
    }
}

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// The transaction id and `source` of a streamed change event (`c`, `u`, `d`, `t`).
fn change_source(r: &Record) -> Option<(i64, Struct)> {
    let Value::Struct(v) = &r.value else { return None };
    match v.get("op") {
        Some(Value::String(op)) if matches!(op.as_str(), "c" | "u" | "d" | "t") => {}
        _ => return None,
    }
    let Some(Value::Struct(source)) = v.get("source") else {
        return None;
    };
    match source.get("txId") {
        Some(Value::Int64(tx)) => Some((*tx, source.clone())),
        _ => None,
    }
}

/// The captured tables a blocking snapshot reads, in the order they are known (schema,
/// table): those whose `schema.table` or `"schema"."table"` a `data-collections` pattern
/// matches whole, case-insensitively, without the signal table; each with the SELECT
/// an `additional-conditions` entry naming it gives.
fn blocking_tables(
    known: &[TableId],
    signal_table: Option<&TableId>,
    collections: &[String],
    selects: &[(String, String)],
) -> Vec<(TableId, Option<String>)> {
    let patterns: Vec<regex::Regex> = collections
        .iter()
        .filter_map(|p| match regex::Regex::new(&format!("(?i)^(?:{p})$")) {
            Ok(re) => Some(re),
            Err(e) => {
                warn!(pattern = %p, error = %e, "not a regular expression; ignored");
                None
            }
        })
        .collect();
    known
        .iter()
        .filter(|t| Some(*t) != signal_table)
        .filter(|t| {
            let plain = t.to_string();
            let quoted = format!("\"{}\".\"{}\"", t.schema, t.table);
            patterns
                .iter()
                .any(|re| re.is_match(&plain) || re.is_match(&quoted))
        })
        .map(|t| {
            let select = selects
                .iter()
                .find(|(name, _)| parse_table_id(name).as_ref() == Some(t))
                .map(|(_, select)| select.clone());
            (t.clone(), select)
        })
        .collect()
}

impl Incremental {
    /// Signal handling for a task; `None` without `signal.data.collection` or with the
    /// `source` channel off. `stored` is the offset the task starts from.
    pub fn new(
        raw: &ConfigMap,
        settings: SignalSettings,
        cfg: Arc<PostgresConfig>,
        known: Vec<TableId>,
        context: Option<ContextHeaders>,
        stored: Option<&OffsetMap>,
        initial_snapshot_ran: bool,
    ) -> Option<Incremental> {
        let signal_table = settings.data_collection.clone();
        if signal_table.is_none() && !settings.read_only {
            return None;
        }
        if !settings.source_channel && !settings.read_only {
            info!(
                "signal.enabled.channels has no 'source': only the watermarks are read from the signal table"
            );
        }
        if let Some(t) = signal_table.as_ref().filter(|t| !known.contains(t)) {
            warn!(table = %t, "signal.data.collection is not among the captured tables (table.include.list, publication): its signals are not seen");
        }
        if settings.read_only {
            info!("read.only=true: incremental snapshots take their watermarks from pg_current_snapshot() and write nothing");
        }
        let signal_topic = signal_table
            .as_ref()
            .map(|t| format!("{}.{}.{}", cfg.topic_prefix, t.schema, t.table));
        let flags = match stored {
            _ if initial_snapshot_ran => (true, true),
            Some(m) => (
                matches!(m.get(offset::keys::LAST_SNAPSHOT_RECORD), Some(Json::Bool(true))),
                matches!(m.get(offset::keys::SNAPSHOT_COMPLETED), Some(Json::Bool(true))),
            ),
            None => (false, false),
        };
        let settings_read_only = settings.read_only;
        let mut inc = Incremental {
            partition: offset::partition(&cfg.topic_prefix),
            settings,
            signal_table,
            signal_topic,
            cfg,
            context,
            known,
            collections: VecDeque::new(),
            collections_json: "[]".into(),
            correlation_id: None,
            last_key_sent: None,
            chunk_end: None,
            maximum_key: None,
            chunk_id: None,
            window_open: false,
            paused: false,
            stop_requests: Vec::new(),
            window: IndexMap::new(),
            current: None,
            pending_init: false,
            snapshot_flags: flags,
            stats: IncrementalStats::default(),
            kafka: None,
            file: file::FileSignals::from_config(raw),
            last_offset: None,
            notifications: NotificationSettings::from_config(raw),
            pending_notifications: Vec::new(),
            rows_scanned: 0,
            read_only: settings_read_only.then(ReadOnlyWindow::default),
            last_tx: stored
                .and_then(|m| m.get(offset::keys::TX_ID))
                .and_then(Json::as_i64),
            last_source: None,
            blocking: VecDeque::new(),
            truncated: false,
        };
        if let Some(o) = stored.and_then(IncrementalOffset::from_map) {
            inc.restore(&o);
        }
        inc.kafka = match kafka::KafkaSignals::from_config(raw, &inc.cfg.topic_prefix) {
            None => None,
            Some(Ok(k)) => Some(k),
            Some(Err(e)) => {
                warn!(error = %e, "the Kafka signal channel is off");
                None
            }
        };
        Some(inc)
    }

    /// The next blocking snapshot asked for, if any: the task stops streaming and reads it.
    pub fn take_blocking(&mut self) -> Option<BlockingRequest> {
        self.blocking.pop_front()
    }

    /// Whether the last [`Incremental::process`] dropped the records after a blocking
    /// snapshot's signal: the task must rewind to the last record it hands out.
    pub fn take_truncated(&mut self) -> bool {
        std::mem::take(&mut self.truncated)
    }

    /// Counters so far.
    pub fn stats(&self) -> IncrementalStats {
        self.stats
    }

    /// Whether an incremental snapshot is in progress.
    pub fn running(&self) -> bool {
        !self.collections.is_empty()
    }

    fn restore(&mut self, o: &IncrementalOffset) {
        let parsed: Vec<Json> = match serde_json::from_str(&o.collections) {
            Ok(Json::Array(a)) => a,
            _ => {
                warn!(collections = %o.collections, "cannot read incremental_snapshot_collections from the stored offset; the incremental snapshot is dropped");
                return;
            }
        };
        for c in parsed {
            let s = |k: &str| c.get(k).and_then(Json::as_str).unwrap_or("").to_string();
            match parse_table_id(&s("incremental_snapshot_collections_id")) {
                Some(id) => self.collections.push_back(Collection {
                    id,
                    condition: s("incremental_snapshot_collections_additional_condition"),
                    surrogate: s("incremental_snapshot_collections_surrogate_key"),
                }),
                None => warn!(entry = %c, "skipping an unreadable incremental snapshot collection"),
            }
        }
        let decode = |what: &str, hex: &str| match javaser::decode(hex) {
            Ok(k) => k,
            Err(e) => {
                warn!(error = %e, "{what}: the table's incremental snapshot starts over from its first key");
                None
            }
        };
        self.chunk_end = decode("incremental_snapshot_primary_key", &o.primary_key);
        self.maximum_key = decode("incremental_snapshot_maximum_key", &o.maximum_key);
        if self.chunk_end.is_some() && self.maximum_key.is_none() {
            self.chunk_end = None;
        }
        self.last_key_sent = self.chunk_end.clone();
        self.correlation_id = o.correlation_id.clone();
        self.refresh_collections_json();
        if self.running() {
            info!(collections = %self.collections_json, "an incremental snapshot is in progress: resuming with a new chunk");
            self.pending_init = true;
        }
    }

    fn refresh_collections_json(&mut self) {
        let opt = |s: &str, wrap: bool| {
            if s.is_empty() {
                "null".to_string()
            } else if wrap && !(s.starts_with('(') && s.ends_with(')')) {
                Json::String(format!("({s})")).to_string()
            } else {
                Json::String(s.to_string()).to_string()
            }
        };
        let items: Vec<String> = self
            .collections
            .iter()
            .map(|c| {
                format!(
                    "{{\"incremental_snapshot_collections_id\":{},\"incremental_snapshot_collections_additional_condition\":{},\"incremental_snapshot_collections_surrogate_key\":{}}}",
                    Json::String(c.id.to_string()),
                    opt(&c.condition, true),
                    opt(&c.surrogate, false)
                )
            })
            .collect();
        self.collections_json = format!("[{}]", items.join(","));
    }

    /// The offset part while a snapshot runs.
    fn offset_part(&self) -> Option<IncrementalOffset> {
        self.running().then(|| IncrementalOffset {
            primary_key: javaser::encode(self.last_key_sent.as_deref()),
            maximum_key: javaser::encode(self.maximum_key.as_deref()),
            collections: self.collections_json.clone(),
            correlation_id: self.correlation_id.clone(),
        })
    }

    /// Takes the records the decoder built for one poll and returns them with the
    /// incremental snapshot's events in place: signals are acted on, the window is
    /// deduplicated, and while a snapshot runs every offset carries its progress.
    ///
    /// Whether [`Incremental::process`] still needs the stream's position before a batch:
    /// only until it has a record's offset to place snapshot rows and notifications at.
    pub fn needs_position(&self) -> bool {
        self.last_offset.is_none()
    }

    /// `position` is the stream's offset before `batch`; `between_transactions` says
    /// the batch ended outside a transaction (a read-only window may then be sent).
    pub async fn process(
        &mut self,
        client: &Client,
        batch: Vec<Record>,
        position: Option<Arc<OffsetMap>>,
        between_transactions: bool,
    ) -> Vec<Record> {
        let mut out = Vec::with_capacity(batch.len());
        if self.last_offset.is_none() {
            self.last_offset = position;
        }
        if self.pending_init {
            self.pending_init = false;
            self.read_chunk(client).await;
            out.append(&mut self.pending_notifications);
        }
        let mut from_channels = self
            .kafka
            .as_ref()
            .map(kafka::KafkaSignals::poll)
            .unwrap_or_default();
        if let Some(file) = &mut self.file {
            from_channels.extend(file.poll());
        }
        for sig in from_channels {
            match sig.action() {
                Ok(Action::WindowOpen | Action::WindowClose) => {
                    warn!(id = %sig.id, "watermarks come from the signal table only; ignored")
                }
                _ => self.on_signal(client, &sig, None, &mut out).await,
            }
            out.append(&mut self.pending_notifications);
        }
        for mut r in batch {
            if self.read_only.is_some() {
                self.read_only_change(client, &r, &mut out).await;
            }
            if r.value_schema.is_some() && Some(r.topic.as_ref()) == self.signal_topic.as_deref() {
                let signal = Signal::from_record(&r).or_else(|| {
                    self.settings
                        .close_by_delete
                        .then(|| Signal::window_close_from_delete(&r))
                        .flatten()
                });
                if let Some(sig) = signal {
                    let watermark = matches!(
                        sig.kind.as_str(),
                        signal::names::WINDOW_OPEN | signal::names::WINDOW_CLOSE
                    );
                    if watermark || self.settings.source_channel {
                        if let Position::Source { offset, .. } = &r.position {
                            self.last_offset = Some(offset.clone());
                        }
                        let queued = self.blocking.len();
                        self.on_signal(client, &sig, Some(&r), &mut out).await;
                        // Streaming stops at a blocking snapshot's signal, as Debezium's:
                        // what follows it comes after the snapshot's rows.
                        self.truncated = self.blocking.len() > queued;
                    }
                }
            } else if self.window_open {
                if let Some(cur) = &self.current {
                    if cur.schema.topic == r.topic
                        && !r.key.is_null()
                        && self.window.shift_remove(&key_string(&r.key)).is_some()
                    {
                        self.stats.deduplicated += 1;
                    }
                }
            }
            if self.running() {
                self.decorate(&mut r);
            }
            if self.kafka.is_some() || self.file.is_some() || self.read_only.is_some() {
                if let Position::Source { offset, .. } = &r.position {
                    self.last_offset = Some(offset.clone());
                }
            }
            out.push(r);
            out.append(&mut self.pending_notifications);
            if self.truncated {
                break;
            }
        }
        if self.read_only.is_some() && between_transactions && !self.truncated {
            // Debezium's heartbeat and COMMIT handling: the last change's transaction.
            let tx = self.last_tx.unwrap_or(0);
            self.read_only_commit(client, tx, &mut out).await;
            out.append(&mut self.pending_notifications);
        }
        out
    }

    /// A streamed change `r` under `read.only=true`, as Debezium's read-only
    /// `processMessage`: a new transaction id first commits the previous one; then the
    /// window opens or closes by the change's transaction; a window not open is sent and
    /// the next chunk read, an open one loses the change's key.
    async fn read_only_change(&mut self, client: &Client, r: &Record, out: &mut Vec<Record>) {
        let Some((tx, source)) = change_source(r) else {
            return;
        };
        if let Some(previous) = self.last_tx.filter(|p| *p != tx) {
            // pgoutput sends transactions whole, in commit order: `previous` committed.
            self.read_only_commit(client, previous, out).await;
        }
        self.last_tx = Some(tx);
        self.last_source = Some(source.clone());
        let Some(w) = self.read_only.as_mut() else { return };
        w.update(tx);
        let open = w.is_open();
        if self.running() && !open {
            self.send_read_only_window(Some(source), out);
            self.read_chunk(client).await;
        } else if open {
            if let Some(cur) = &self.current {
                if cur.schema.topic == r.topic
                    && !r.key.is_null()
                    && self.window.shift_remove(&key_string(&r.key)).is_some()
                {
                    self.stats.deduplicated += 1;
                }
            }
        }
    }

    /// Debezium's read-only `readUntilNewTransactionChange` for the commit of `tx` (or
    /// a poll with nothing new): the chunk is sent and the next read when `tx` is the
    /// high watermark's next transaction, or had ended when it was taken; the latter
    /// repeats until the watermarks move (at most a few chunks per poll here).
    async fn read_only_commit(&mut self, client: &Client, tx: i64, out: &mut Vec<Record>) {
        const CHUNKS_PER_POLL: usize = 4;
        let Some(w) = self.read_only.as_mut() else { return };
        if !self.collections.is_empty() && w.max_in_progress_committed(tx) {
            w.close();
            self.send_read_only_window(None, out);
            self.read_chunk(client).await;
            return;
        }
        for _ in 0..CHUNKS_PER_POLL {
            let running = self.running();
            let Some(w) = self.read_only.as_mut() else { return };
            if !(running && w.transaction_visible(tx)) {
                return;
            }
            w.close();
            self.send_read_only_window(None, out);
            self.read_chunk(client).await;
            if self
                .read_only
                .as_ref()
                .is_some_and(ReadOnlyWindow::watermarks_changed)
            {
                return;
            }
        }
    }

    /// Sends the buffered chunk of a read-only snapshot, positioned at the last record
    /// handed out (the change that closed the window comes after it), with `source`
    /// (else the last change's) as the model of the rows' `source`.
    fn send_read_only_window(&mut self, source: Option<Struct>, out: &mut Vec<Record>) {
        if self.window.is_empty() {
            return;
        }
        let (Some(source), Some(base)) = (
            source.or_else(|| self.last_source.clone()),
            self.last_offset.clone(),
        ) else {
            // Nothing streamed yet to take a position from: the rows wait.
            return;
        };
        self.emit_window(&source, &base, out);
    }

    /// Sends a notification of `kind` with `data` (plus `connector_name`) to the enabled
    /// channels; a sink record waits in `pending_notifications`, carrying the offset of
    /// the record being processed with the snapshot's progress.
    fn notify(&mut self, kind: &'static str, data: Vec<(&'static str, String)>) {
        if !self.notifications.enabled() {
            return;
        }
        let id = self
            .correlation_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
        let n = Notification::new(id, kind, data, &self.cfg.topic_prefix);
        let base = self.last_offset.as_deref().cloned().unwrap_or_default();
        let part = self.offset_part();
        let offset = Arc::new(offset::with_incremental(&base, part.as_ref(), None));
        if let Some(r) = n.send(&self.notifications, self.partition.clone(), offset) {
            self.pending_notifications.push(r);
        }
    }

    /// The queued tables, as Debezium joins their identifiers.
    fn data_collections(&self) -> String {
        self.collections
            .iter()
            .map(|c| c.id.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// TABLE_SCAN_COMPLETED for the current table with `status`.
    fn notify_table_scan_completed(&mut self, status: &str) {
        let scanned = self
            .collections
            .front()
            .map(|c| c.id.to_string())
            .unwrap_or_default();
        let data = vec![
            ("data_collections", self.data_collections()),
            ("scanned_collection", scanned),
            ("total_rows_scanned", self.rows_scanned.to_string()),
            ("status", status.to_string()),
        ];
        self.notify("TABLE_SCAN_COMPLETED", data);
    }

    /// Adds the snapshot's progress to the offsets of `recs` (built outside [`Incremental::process`]).
    pub fn decorate_all(&self, recs: &mut [Record]) {
        for r in recs {
            self.decorate(r);
        }
    }

    fn decorate(&self, r: &mut Record) {
        if let Position::Source { offset, .. } = &mut r.position {
            let part = self.offset_part();
            *offset = Arc::new(offset::with_incremental(offset, part.as_ref(), None));
        }
    }

    async fn on_signal(
        &mut self,
        client: &Client,
        sig: &Signal,
        rec: Option<&Record>,
        out: &mut Vec<Record>,
    ) {
        let action = match sig.action() {
            Ok(a) => a,
            Err(e) => {
                warn!(error = %e, "ignoring signal");
                return;
            }
        };
        match action {
            Action::ExecuteIncremental {
                collections,
                conditions,
                surrogate_key,
            } => {
                info!(id = %sig.id, ?collections, "requested incremental snapshot");
                self.refresh_known(client).await;
                let was_running = self.running();
                let mut added = Vec::new();
                for pattern in &collections {
                    let re = regex::Regex::new(&format!("^(?:{pattern})$")).ok();
                    let matched: Vec<TableId> = self
                        .known
                        .iter()
                        .filter(|t| re.as_ref().is_some_and(|re| re.is_match(&t.to_string())))
                        .cloned()
                        .collect();
                    if matched.is_empty() {
                        warn!(id = %sig.id, collection = %pattern, "no captured table matches; skipped");
                    }
                    for id in matched {
                        if added.iter().any(|c: &Collection| c.id == id) {
                            continue;
                        }
                        let name = id.to_string();
                        let condition = conditions
                            .iter()
                            .find(|c| c.data_collection.is_match(&name))
                            .map(|c| c.filter.clone())
                            .unwrap_or_default();
                        added.push(Collection {
                            id,
                            condition,
                            surrogate: surrogate_key.clone(),
                        });
                    }
                }
                if added.is_empty() {
                    return;
                }
                self.collections.extend(added);
                self.correlation_id = Some(sig.id.clone());
                self.refresh_collections_json();
                if !was_running {
                    self.notify("STARTED", vec![("data_collections", self.data_collections())]);
                    self.read_chunk(client).await;
                }
            }
            Action::ExecuteBlocking { collections, selects } => {
                info!(id = %sig.id, ?collections, "requested blocking snapshot");
                self.refresh_known(client).await;
                let request = BlockingRequest {
                    id: sig.id.clone(),
                    tables: blocking_tables(&self.known, self.signal_table.as_ref(), &collections, &selects),
                };
                if request.tables.is_empty() {
                    warn!(id = %sig.id, ?collections, "no captured table matches the blocking snapshot's data-collections; skipped");
                } else {
                    self.blocking.push_back(request);
                }
            }
            Action::Stop(collections) => {
                info!(id = %sig.id, ?collections, "requested stop of the incremental snapshot");
                if self.running() {
                    self.stop_requests.push(collections);
                }
            }
            Action::Pause => {
                if self.running() && !self.paused {
                    info!("pausing incremental snapshot");
                    self.paused = true;
                    self.notify("PAUSED", vec![("data_collections", self.data_collections())]);
                }
            }
            Action::Resume => {
                if self.running() && self.paused {
                    info!("resuming incremental snapshot");
                    self.paused = false;
                    self.notify("RESUMED", vec![("data_collections", self.data_collections())]);
                    self.read_chunk(client).await;
                }
            }
            Action::Log(message) => {
                let offset = match rec.map(|r| &r.position) {
                    Some(Position::Source { offset, .. }) => offset::to_json(offset),
                    _ => self
                        .last_offset
                        .as_deref()
                        .map_or_else(|| "<none>".into(), offset::to_json),
                };
                info!("{}", message.replacen("{}", &offset, 1));
            }
            Action::WindowOpen => {
                if self.expected_chunk(&sig.id) {
                    self.window_open = true;
                } else {
                    info!(id = %sig.id, expected = ?self.chunk_id, "window open for another chunk; ignored");
                }
            }
            Action::WindowClose => {
                if !self.expected_chunk(&sig.id) {
                    info!(id = %sig.id, expected = ?self.chunk_id, "window close for another chunk; ignored");
                    return;
                }
                self.window_open = false;
                let Some(rec) = rec else { return };
                self.send_window(rec, out);
                self.read_chunk(client).await;
            }
        }
    }

    /// Reloads the captured tables (tables created since the task started count too);
    /// on failure the list from the start is kept.
    async fn refresh_known(&mut self, client: &Client) {
        let rows = client
            .query(
                "SELECT n.nspname::text, c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1, 2",
                &[],
            )
            .await;
        match rows {
            Ok(rows) => {
                self.known = rows
                    .iter()
                    .map(|r| TableId {
                        schema: r.get(0),
                        table: r.get(1),
                    })
                    .filter(|t| {
                        self.cfg.filters.table_included(&t.schema, &t.table)
                            || Some(t) == self.signal_table.as_ref()
                    })
                    .collect();
            }
            Err(e) => {
                warn!(error = %e, "cannot list the captured tables; using the list from the task's start")
            }
        }
    }

    fn expected_chunk(&self, id: &str) -> bool {
        self.chunk_id.as_deref().is_some_and(|c| id.starts_with(c))
    }

    /// Emits the buffered rows as `op: r` events, positioned at the close marker `rec`.
    fn send_window(&mut self, rec: &Record, out: &mut Vec<Record>) {
        let (Some(_), Value::Struct(marker)) = (&self.current, &rec.value) else {
            self.window.clear();
            return;
        };
        let Some(Value::Struct(marker_source)) = marker.get("source") else {
            self.window.clear();
            return;
        };
        let Position::Source { offset: base, .. } = &rec.position else {
            self.window.clear();
            return;
        };
        let (marker_source, base) = (marker_source.clone(), base.clone());
        self.emit_window(&marker_source, &base, out);
    }

    /// Emits the buffered rows as `op: r` events with the offset `base` (plus the
    /// snapshot's progress) and `marker_source` made into an incremental row's source.
    fn emit_window(&mut self, marker_source: &Struct, base: &Arc<OffsetMap>, out: &mut Vec<Record>) {
        let Some(cur) = &self.current else {
            self.window.clear();
            return;
        };
        let schema = cur.schema.clone();
        let window = std::mem::take(&mut self.window);
        let now = event::now_us();
        let mut base_map = base.as_ref().clone();
        base_map.insert(offset::keys::TS_USEC.into(), now.into());
        let mut source = marker_source.clone();
        let _ = source.put("snapshot", "incremental");
        let _ = source.put("ts_ms", now.div_euclid(1000));
        let _ = source.put("ts_us", now);
        let _ = source.put("ts_ns", now.saturating_mul(1000));
        // Debezium's incremental events carry no lsn/txId of their own; the sequence keeps
        // the last commit's LSN.
        let _ = source.put("lsn", Value::Null);
        let _ = source.put("txId", Value::Null);
        if let Some(Value::String(seq)) = marker_source.get("sequence") {
            let last_commit = seq
                .trim_start_matches('[')
                .split(',')
                .next()
                .unwrap_or("null")
                .to_string();
            let _ = source.put("sequence", format!("[{last_commit},null]"));
        }
        let _ = source.put("schema", schema.id.schema.as_str());
        let _ = source.put("table", schema.id.table.as_str());
        for (_, (key, row)) in window {
            self.last_key_sent = Some(key);
            let part = self.offset_part();
            let off = offset::with_incremental(&base_map, part.as_ref(), Some(self.snapshot_flags));
            event::Change {
                table: &schema,
                op: "r",
                before: None,
                after: Some(row),
                source: source.clone(),
                partition: self.partition.clone(),
                offset: Arc::new(off),
                context: self.context.as_ref(),
            }
            .into_records(false, out);
            self.stats.rows_sent += 1;
        }
    }

    fn next_collection(&mut self) {
        self.collections.pop_front();
        self.current = None;
        self.last_key_sent = None;
        self.chunk_end = None;
        self.maximum_key = None;
        self.window.clear();
        self.window_open = false;
        self.refresh_collections_json();
        if !self.running() {
            info!(stats = ?self.stats, "incremental snapshot completed");
            self.notify("COMPLETED", Vec::new());
            self.correlation_id = None;
            self.chunk_id = None;
        }
    }

    fn process_stop_requests(&mut self) {
        for req in std::mem::take(&mut self.stop_requests) {
            let patterns = req.unwrap_or_else(|| vec![".*".into()]);
            let res: Vec<regex::Regex> = patterns
                .iter()
                .filter_map(|p| regex::Regex::new(&format!("^(?:{p})$")).ok())
                .collect();
            let hit = |t: &TableId| res.iter().any(|r| r.is_match(&t.to_string()));
            let current_hit = self.collections.front().is_some_and(|c| hit(&c.id));
            let first = self.collections.pop_front();
            let mut stopped: Vec<String> = self
                .collections
                .iter()
                .filter(|c| hit(&c.id))
                .map(|c| c.id.to_string())
                .collect();
            self.collections.retain(|c| !hit(&c.id));
            if let Some(f) = first {
                self.collections.push_front(f);
            }
            if current_hit {
                info!("stopping the incremental snapshot of the current table");
                if let Some(c) = self.collections.front() {
                    stopped.push(c.id.to_string());
                }
                self.rows_scanned = 0;
                self.next_collection();
            }
            self.refresh_collections_json();
            self.notify("ABORTED", vec![("data_collections", stopped.join(","))]);
        }
    }

    async fn resolve_current(&mut self, client: &Client) -> std::result::Result<(), (&'static str, PgError)> {
        let sql = |e: PgError| ("SQL_EXCEPTION", e);
        let Some(c) = self.collections.front().cloned() else {
            return Ok(());
        };
        if self.current.as_ref().is_some_and(|cur| cur.chunk.id == c.id) {
            return Ok(());
        }
        let oid: Option<u32> = client
            .query_opt(
                "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2",
                &[&c.id.schema, &c.id.table],
            )
            .await
            .map_err(|e| sql(PgError::sql(format!("looking up {}", c.id), e)))?
            .map(|r| r.get(0));
        let meta = match oid {
            Some(oid) => schema::load_table(client, oid).await.map_err(sql)?,
            None => None,
        };
        let meta = meta.ok_or_else(|| {
            (
                "UNKNOWN_SCHEMA",
                PgError::Setup(format!("table {} does not exist", c.id)),
            )
        })?;
        let key = reader::key_columns(client, &c.id, &c.surrogate)
            .await
            .map_err(sql)?;
        if key.is_empty() {
            return Err((
                "NO_PRIMARY_KEY",
                PgError::Setup(format!(
                    "incremental snapshot for table '{}' skipped because the table has no primary keys",
                    c.id
                )),
            ));
        }
        let ts = Arc::new(TableSchema::build(&meta, &self.cfg));
        self.current = Some(Current {
            chunk: ChunkTable {
                id: c.id.clone(),
                key,
                condition: c.condition.clone(),
            },
            schema: ts,
        });
        Ok(())
    }

    /// Debezium's `readChunk`: open marker, the next non-empty chunk into the window,
    /// close marker. Failures skip the table with a warning; the stream goes on.
    async fn read_chunk(&mut self, client: &Client) {
        self.process_stop_requests();
        if !self.running() || self.paused {
            return;
        }
        if self.read_only.is_some() {
            self.read_chunk_read_only(client).await;
            return;
        }
        let Some(signal_table) = self.signal_table.clone() else {
            warn!("an incremental snapshot needs signal.data.collection (or read.only=true); abandoned");
            self.abandon();
            return;
        };
        let chunk_id = uuid::Uuid::now_v7().to_string();
        self.chunk_id = Some(chunk_id.clone());
        let open_ts = now_iso();
        if let Err(e) = reader::insert_signal(
            client,
            &signal_table,
            &format!("{chunk_id}-open"),
            signal::names::WINDOW_OPEN,
            &format!("{{\"openWindowTimestamp\": \"{open_ts}\"}}"),
        )
        .await
        {
            warn!(error = %e, "cannot write the window-open watermark; the incremental snapshot is abandoned");
            self.abandon();
            return;
        }
        self.fill_next_chunk(client).await;
        let closed = if self.settings.close_by_delete {
            reader::delete_signal(client, &signal_table, &format!("{chunk_id}-open")).await
        } else {
            let close = format!(
                "{{\"openWindowTimestamp\": \"{open_ts}\", \"closeWindowTimestamp\": \"{}\"}}",
                now_iso()
            );
            reader::insert_signal(
                client,
                &signal_table,
                &format!("{chunk_id}-close"),
                signal::names::WINDOW_CLOSE,
                &close,
            )
            .await
        };
        if let Err(e) = closed {
            warn!(error = %e, "cannot write the window-close watermark; the incremental snapshot is abandoned");
            self.abandon();
        }
    }

    /// `read_chunk` under `read.only=true`: low watermark, chunk, high watermark.
    async fn read_chunk_read_only(&mut self, client: &Client) {
        match PgSnapshot::current(client).await {
            Ok(low) => self.read_only.get_or_insert_with(Default::default).set_low(low),
            Err(e) => {
                warn!(error = %e, "cannot take the low watermark; the incremental snapshot is abandoned");
                self.abandon();
                return;
            }
        }
        self.fill_next_chunk(client).await;
        match PgSnapshot::current(client).await {
            Ok(high) => self.read_only.get_or_insert_with(Default::default).set_high(high),
            Err(e) => {
                warn!(error = %e, "cannot take the high watermark; the incremental snapshot is abandoned");
                self.abandon();
            }
        }
    }

    /// The next non-empty chunk into the window, moving past finished, empty and
    /// unreadable tables (with their notifications).
    async fn fill_next_chunk(&mut self, client: &Client) {
        while self.running() {
            match self.fill_window(client).await {
                ChunkRead::Rows => {
                    let current = self
                        .collections
                        .front()
                        .map(|c| c.id.to_string())
                        .unwrap_or_default();
                    let maximum_key = self
                        .maximum_key
                        .as_deref()
                        .map_or_else(|| "\"<null>\"".to_string(), key_text);
                    let last = key_text(self.chunk_end.as_deref().unwrap_or_default());
                    let data = vec![
                        ("data_collections", self.data_collections()),
                        ("current_collection_in_progress", current),
                        ("maximum_key", maximum_key),
                        ("last_processed_key", last),
                    ];
                    self.notify("IN_PROGRESS", data);
                    break;
                }
                ChunkRead::Empty => {
                    info!(table = %self.collections.front().map(|c| c.id.to_string()).unwrap_or_default(), "incremental snapshot of the table finished: it is empty");
                    self.notify_table_scan_completed("EMPTY");
                    self.next_collection();
                }
                ChunkRead::Finished => {
                    info!(table = %self.collections.front().map(|c| c.id.to_string()).unwrap_or_default(), "incremental snapshot of the table finished");
                    self.notify_table_scan_completed("SUCCEEDED");
                    self.rows_scanned = 0;
                    self.next_collection();
                }
                ChunkRead::Skipped(status, e) => {
                    warn!(error = %e, "error during the incremental snapshot; skipping the table, streaming goes on");
                    self.notify_table_scan_completed(status);
                    self.next_collection();
                }
            }
        }
    }

    fn abandon(&mut self) {
        self.collections.clear();
        self.next_collection();
    }

    /// Reads the next chunk of the current table into the window.
    async fn fill_window(&mut self, client: &Client) -> ChunkRead {
        if let Err((status, e)) = self.resolve_current(client).await {
            return ChunkRead::Skipped(status, e);
        }
        match self.fill_resolved(client).await {
            Ok(r) => r,
            Err(e) => ChunkRead::Skipped("SQL_EXCEPTION", e),
        }
    }

    async fn fill_resolved(&mut self, client: &Client) -> Result<ChunkRead> {
        let Some(cur) = &self.current else {
            return Ok(ChunkRead::Finished);
        };
        if self.maximum_key.is_none() {
            self.maximum_key = cur.chunk.max_key(client).await?;
            match &self.maximum_key {
                None => return Ok(ChunkRead::Empty),
                Some(k) => {
                    info!(table = %cur.chunk.id, max = ?k, "incremental snapshot of the table will end at this key")
                }
            }
        }
        let max = self.maximum_key.as_deref().expect("maximum key");
        let rows = cur
            .chunk
            .read_chunk(
                client,
                &cur.schema,
                self.chunk_end.as_deref(),
                max,
                self.settings.chunk_size,
                &self.cfg.unavailable_value_placeholder,
            )
            .await?;
        if rows.is_empty() {
            return Ok(ChunkRead::Finished);
        }
        self.stats.chunks += 1;
        self.rows_scanned += rows.len() as u64;
        self.window.clear();
        self.chunk_end = rows.last().map(|(k, _)| k.clone());
        for (key, row) in rows {
            let rk = cur.schema.key_of(&row).map(Value::Struct).unwrap_or(Value::Null);
            self.window.insert(key_string(&rk), (key, row));
        }
        Ok(ChunkRead::Rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocking_snapshot_reads_the_matching_captured_tables_with_their_selects() {
        let id = |s: &str| parse_table_id(s).unwrap();
        let known = [
            id("public.a"),
            id("public.ab"),
            id("public.dbz_signal"),
            id("other.A"),
        ];
        let selects = [(
            "public.ab".to_string(),
            "SELECT * FROM public.ab WHERE x".to_string(),
        )];
        let got = blocking_tables(
            &known,
            Some(&id("public.dbz_signal")),
            &["PUBLIC\\.a.*".into(), "\"other\".\"a\"".into(), "[".into()],
            &selects,
        );
        assert_eq!(
            got,
            [
                (id("public.a"), None),
                (id("public.ab"), Some("SELECT * FROM public.ab WHERE x".into())),
                (id("other.A"), None),
            ]
        );
        assert!(blocking_tables(
            &known,
            Some(&id("public.dbz_signal")),
            &["public.dbz_signal".into()],
            &[]
        )
        .is_empty());
    }

    #[test]
    fn settings_follow_debezium_defaults() {
        let mut m = ConfigMap::new();
        let s = SignalSettings::from_config(&m);
        assert_eq!(s.data_collection, None);
        assert!(s.source_channel);
        assert_eq!(s.chunk_size, 1024);
        m.insert("signal.data.collection".into(), "db.public.dbz_signal".into());
        m.insert("signal.enabled.channels".into(), "kafka".into());
        m.insert("incremental.snapshot.chunk.size".into(), "10".into());
        let s = SignalSettings::from_config(&m);
        assert_eq!(s.data_collection, parse_table_id("public.dbz_signal"));
        assert!(!s.source_channel);
        assert_eq!(s.chunk_size, 10);
        assert_eq!(parse_table_id("nodot"), None);
    }

    #[test]
    fn the_signal_table_joins_an_include_list_that_misses_it() {
        let mut m = ConfigMap::new();
        m.insert("signal.data.collection".into(), "public.dbz_signal".into());
        assert!(include_signal_table(&m).is_none(), "no include list");
        m.insert("table.include.list".into(), "public.t".into());
        let out = include_signal_table(&m).unwrap();
        assert_eq!(out["table.include.list"], r"public.t,public\.dbz_signal");
        m.insert("table.include.list".into(), "public.*".into());
        assert!(include_signal_table(&m).is_none(), "already matched");
    }
}
