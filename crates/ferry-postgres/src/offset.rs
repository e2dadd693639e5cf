//! Debezium-compatible source offsets and the bookkeeping that maps durable
//! offsets back to a replication slot flush position.
//!
//! Debezium builds the offset as a `java.util.HashMap`, and Connect serializes
//! it in that map's iteration order; [`OffsetState::to_map`] reproduces that
//! order so the offsets topic holds the same bytes.

use std::borrow::Cow;
use std::sync::Arc;

use ferry_core::serde_json::{self, Value as Json};
use ferry_core::OffsetMap;

use crate::lsn::Lsn;

/// Offset key names.
pub mod keys {
    /// Commit time, µs since the epoch.
    pub const TS_USEC: &str = "ts_usec";
    /// Transaction id.
    pub const TX_ID: &str = "txId";
    /// LSN of the event.
    pub const LSN: &str = "lsn";
    /// Slot xmin (unused with pgoutput).
    pub const XMIN: &str = "xmin";
    /// Snapshot type while snapshotting.
    pub const SNAPSHOT: &str = "snapshot";
    /// Last record of the snapshot.
    pub const LAST_SNAPSHOT_RECORD: &str = "last_snapshot_record";
    /// Snapshot finished.
    pub const SNAPSHOT_COMPLETED: &str = "snapshot_completed";
    /// Last completely processed LSN.
    pub const LSN_PROC: &str = "lsn_proc";
    /// End LSN of the last committed transaction.
    pub const LSN_COMMIT: &str = "lsn_commit";
    /// Operation of the last message.
    pub const MESSAGE_TYPE: &str = "messageType";
    /// Events already emitted at `lsn`, written only when more than one (Debezium 3.7's
    /// key; Debezium 3.6.3 writes none).
    pub const LSN_EVENTS_PROCESSED: &str = "lsn_events_processed";
    /// Transaction in progress (`provide.transaction.metadata`).
    pub const TRANSACTION_ID: &str = "transaction_id";
    /// Prefix of the per-table event counts of the transaction in progress.
    pub const TRANSACTION_COLLECTION_ORDER_PREFIX: &str = "transaction_data_collection_order_";
    /// Incremental snapshot: the key of the last row sent (hex Java serialization).
    pub const INCREMENTAL_PRIMARY_KEY: &str = "incremental_snapshot_primary_key";
    /// Incremental snapshot: the table's largest key when its snapshot began.
    pub const INCREMENTAL_MAXIMUM_KEY: &str = "incremental_snapshot_maximum_key";
    /// Incremental snapshot: the tables still to snapshot (a JSON string).
    pub const INCREMENTAL_COLLECTIONS: &str = "incremental_snapshot_collections";
    /// Incremental snapshot: the id of the signal that requested it.
    pub const INCREMENTAL_CORRELATION_ID: &str = "incremental_snapshot_correlation_id";
}

/// The incremental snapshot's part of an offset, as Debezium's
/// `AbstractIncrementalSnapshotContext.store` writes it while a snapshot runs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IncrementalOffset {
    /// `incremental_snapshot_primary_key` (hex of a Java-serialized `Object[]`, or of `null`).
    pub primary_key: String,
    /// `incremental_snapshot_maximum_key`.
    pub maximum_key: String,
    /// `incremental_snapshot_collections`: `[{"incremental_snapshot_collections_id": ..., ...}]`.
    pub collections: String,
    /// `incremental_snapshot_correlation_id` (written as JSON `null` when unset).
    pub correlation_id: Option<String>,
}

impl IncrementalOffset {
    /// Reads the incremental snapshot keys of a stored offset (`None` when no snapshot ran).
    pub fn from_map(m: &OffsetMap) -> Option<IncrementalOffset> {
        let s = |k: &str| m.get(k).and_then(|v| v.as_str()).map(str::to_string);
        Some(IncrementalOffset {
            collections: s(keys::INCREMENTAL_COLLECTIONS)?,
            primary_key: s(keys::INCREMENTAL_PRIMARY_KEY).unwrap_or_default(),
            maximum_key: s(keys::INCREMENTAL_MAXIMUM_KEY).unwrap_or_default(),
            correlation_id: s(keys::INCREMENTAL_CORRELATION_ID),
        })
    }
}

/// Where Debezium's `PostgresOffsetContext.getOffset` puts a key (its insertion order).
fn debezium_rank(k: &str) -> u8 {
    match k {
        keys::TS_USEC => 0,
        keys::TX_ID => 1,
        keys::LSN => 2,
        keys::XMIN => 3,
        keys::SNAPSHOT => 4,
        keys::LAST_SNAPSHOT_RECORD => 5,
        keys::SNAPSHOT_COMPLETED => 6,
        keys::LSN_PROC => 7,
        keys::LSN_COMMIT => 8,
        keys::MESSAGE_TYPE => 9,
        keys::LSN_EVENTS_PROCESSED => 10,
        keys::TRANSACTION_ID => 11,
        k if k.starts_with(keys::TRANSACTION_COLLECTION_ORDER_PREFIX) => 12,
        keys::INCREMENTAL_PRIMARY_KEY => 13,
        keys::INCREMENTAL_MAXIMUM_KEY => 14,
        keys::INCREMENTAL_COLLECTIONS => 15,
        keys::INCREMENTAL_CORRELATION_ID => 16,
        _ => 17,
    }
}

/// A streaming offset `base` with the incremental snapshot's keys replaced by `inc`
/// (removed when `None`); `incremental_event` marks an incremental snapshot row's offset
/// (`snapshot: INCREMENTAL` with the `last_snapshot_record`/`snapshot_completed` flags
/// Debezium carries over). Keys come out in Debezium's `HashMap` order.
pub fn with_incremental(
    base: &OffsetMap,
    inc: Option<&IncrementalOffset>,
    incremental_event: Option<(bool, bool)>,
) -> OffsetMap {
    let mut e: Vec<(Cow<'static, str>, Json)> = base
        .iter()
        .filter(|(k, _)| debezium_rank(k) < 13 || debezium_rank(k) == 17)
        .filter(|(k, _)| {
            incremental_event.is_none()
                || !matches!(
                    k.as_str(),
                    keys::SNAPSHOT | keys::LAST_SNAPSHOT_RECORD | keys::SNAPSHOT_COMPLETED
                )
        })
        .map(|(k, v)| (Cow::Owned(k.clone()), v.clone()))
        .collect();
    if let Some((last, completed)) = incremental_event {
        e.push((keys::SNAPSHOT.into(), Json::String("INCREMENTAL".into())));
        e.push((keys::LAST_SNAPSHOT_RECORD.into(), last.into()));
        e.push((keys::SNAPSHOT_COMPLETED.into(), completed.into()));
    }
    if let Some(i) = inc {
        e.push((
            keys::INCREMENTAL_PRIMARY_KEY.into(),
            Json::String(i.primary_key.clone()),
        ));
        e.push((
            keys::INCREMENTAL_MAXIMUM_KEY.into(),
            Json::String(i.maximum_key.clone()),
        ));
        e.push((
            keys::INCREMENTAL_COLLECTIONS.into(),
            Json::String(i.collections.clone()),
        ));
        e.push((
            keys::INCREMENTAL_CORRELATION_ID.into(),
            i.correlation_id.clone().map_or(Json::Null, Json::String),
        ));
    }
    // Stable: keys of one rank (the per-table transaction counters) keep their order.
    e.sort_by_key(|(k, _)| debezium_rank(k));
    java_hashmap_order(e)
}

/// Java's `String.hashCode`.
pub fn java_string_hash(s: &str) -> i32 {
    ferry_core::java::collections::string_hash(s)
}

/// Orders entries as a `java.util.HashMap` (default capacity) built by inserting them
/// in the given order iterates them.
pub fn java_hashmap_iteration<K: AsRef<str>, V>(entries: Vec<(K, V)>) -> Vec<(K, V)> {
    ferry_core::java::collections::hashmap_iteration_order(entries)
}

/// [`java_hashmap_iteration`] into an offset map.
pub fn java_hashmap_order(entries: Vec<(Cow<'static, str>, Json)>) -> OffsetMap {
    java_hashmap_iteration(entries)
        .into_iter()
        .map(|(k, v)| (k.into_owned(), v))
        .collect()
}

/// Debezium's `TransactionContext`: the transaction in progress and how many events
/// of it each table has emitted (`provide.transaction.metadata`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TransactionContext {
    /// The transaction id (the xid in decimal), while one is in progress.
    pub id: Option<String>,
    /// Events per table (`schema.table`), in first-event order.
    pub per_collection: Vec<(String, i64)>,
    /// Events of the transaction so far.
    pub total: i64,
}

impl TransactionContext {
    /// Starts `id`, forgetting any earlier counts.
    pub fn begin(&mut self, id: String) {
        self.end();
        self.id = Some(id);
    }

    /// Ends the transaction in progress.
    pub fn end(&mut self) {
        self.id = None;
        self.per_collection.clear();
        self.total = 0;
    }

    /// True while a transaction is in progress.
    pub fn in_progress(&self) -> bool {
        self.id.is_some()
    }

    /// Counts one event of `collection`; returns its order within that table (1-based).
    pub fn event(&mut self, collection: &str) -> i64 {
        self.total += 1;
        match self.per_collection.iter_mut().find(|(c, _)| c == collection) {
            Some((_, n)) => {
                *n += 1;
                *n
            }
            None => {
                self.per_collection.push((collection.to_string(), 1));
                1
            }
        }
    }

    /// The per-table counts in the order Debezium's `HashMap` iterates them.
    pub fn per_collection_in_java_order(&self) -> Vec<(&str, i64)> {
        java_hashmap_iteration(
            self.per_collection
                .iter()
                .map(|(c, n)| (c.as_str(), *n))
                .collect(),
        )
    }

    fn store(&self, e: &mut Vec<(Cow<'static, str>, Json)>) {
        if let Some(id) = &self.id {
            e.push((keys::TRANSACTION_ID.into(), Json::String(id.clone())));
        }
        for (c, n) in self.per_collection_in_java_order() {
            e.push((
                format!("{}{c}", keys::TRANSACTION_COLLECTION_ORDER_PREFIX).into(),
                n.into(),
            ));
        }
    }

    fn load(m: &OffsetMap) -> TransactionContext {
        let id = m.get(keys::TRANSACTION_ID).and_then(|v| match v {
            Json::String(s) => Some(s.clone()),
            Json::Number(n) => Some(n.to_string()),
            _ => None,
        });
        let per_collection: Vec<(String, i64)> = m
            .iter()
            .filter_map(|(k, v)| {
                let c = k.strip_prefix(keys::TRANSACTION_COLLECTION_ORDER_PREFIX)?;
                Some((c.to_string(), json_i64(v)?))
            })
            .collect();
        let total = per_collection.iter().map(|(_, n)| n).sum();
        TransactionContext {
            id,
            per_collection,
            total,
        }
    }
}

/// The snapshot part of an offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotMarker {
    /// This is the last snapshot record.
    pub last_record: bool,
    /// A blocking snapshot (`snapshot: BLOCKING`) rather than the initial one (`INITIAL`).
    pub blocking: bool,
}

impl SnapshotMarker {
    /// The initial snapshot's marker.
    pub fn initial(last_record: bool) -> SnapshotMarker {
        SnapshotMarker {
            last_record,
            blocking: false,
        }
    }
}

/// The per-event part of an [`OffsetState`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EventPosition {
    lsn: Option<Lsn>,
    lsn_proc: Option<Lsn>,
    lsn_events_processed: i64,
    message_type: Option<&'static str>,
}

/// Where the connector is: what Debezium's `PostgresOffsetContext` holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OffsetState {
    /// Commit time (µs since the epoch) of the current transaction.
    pub ts_usec: Option<i64>,
    /// Transaction id.
    pub tx_id: Option<i64>,
    /// LSN of the current event.
    pub lsn: Option<Lsn>,
    /// Last completely processed LSN.
    pub lsn_proc: Option<Lsn>,
    /// End LSN of the last committed transaction.
    pub lsn_commit: Option<Lsn>,
    /// `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`, `BEGIN`, `COMMIT`, `MESSAGE`.
    pub message_type: Option<&'static str>,
    /// Events emitted at `lsn` so far.
    pub lsn_events_processed: i64,
    /// Set while snapshotting.
    pub snapshot: Option<SnapshotMarker>,
    /// Set once the snapshot finished (only written while snapshot is set).
    pub snapshot_completed: bool,
    /// The transaction metadata context (written only outside the snapshot).
    pub transaction: TransactionContext,
}

impl OffsetState {
    /// The offset map, keys in Debezium's (HashMap) order.
    pub fn to_map(&self) -> OffsetMap {
        let mut e: Vec<(Cow<'static, str>, Json)> = Vec::with_capacity(10);
        if let Some(t) = self.ts_usec {
            e.push((keys::TS_USEC.into(), t.into()));
        }
        if let Some(t) = self.tx_id {
            e.push((keys::TX_ID.into(), t.into()));
        }
        if let Some(l) = self.lsn {
            e.push((keys::LSN.into(), l.as_i64().into()));
        }
        if let Some(s) = self.snapshot {
            let kind = if s.blocking { "BLOCKING" } else { "INITIAL" };
            e.push((keys::SNAPSHOT.into(), Json::String(kind.into())));
            e.push((keys::LAST_SNAPSHOT_RECORD.into(), s.last_record.into()));
            e.push((keys::SNAPSHOT_COMPLETED.into(), self.snapshot_completed.into()));
        }
        if let Some(l) = self.lsn_proc {
            e.push((keys::LSN_PROC.into(), l.as_i64().into()));
        }
        if let Some(l) = self.lsn_commit {
            e.push((keys::LSN_COMMIT.into(), l.as_i64().into()));
        }
        if let Some(m) = self.message_type {
            e.push((keys::MESSAGE_TYPE.into(), Json::String(m.into())));
        }
        // Debezium 3.6.3 has no such key; Ferry needs it only when several events share
        // an LSN (a TRUNCATE of several tables), so the common offset keeps 3.6.3's bytes.
        // Absent reads as "the first event at lsn", as Debezium 3.7 reads it too.
        if self.lsn_events_processed > 1 {
            e.push((
                keys::LSN_EVENTS_PROCESSED.into(),
                self.lsn_events_processed.into(),
            ));
        }
        if self.snapshot.is_none() {
            self.transaction.store(&mut e);
        }
        java_hashmap_order(e)
    }

    /// Reads a stored offset (Debezium's or ours).
    pub fn from_map(m: &OffsetMap) -> OffsetState {
        let long = |k: &str| m.get(k).and_then(json_i64);
        let lsn = |k: &str| long(k).map(|v| Lsn(v as u64));
        let snapshot_flag = match m.get(keys::SNAPSHOT) {
            // An incremental or blocking snapshot row's offset is a streaming position:
            // its snapshot flags are not the initial snapshot's (which would be redone
            // otherwise; Debezium does not resume a blocking snapshot either).
            Some(Json::String(s)) => {
                !s.eq_ignore_ascii_case("false")
                    && !s.eq_ignore_ascii_case("INCREMENTAL")
                    && !s.eq_ignore_ascii_case("BLOCKING")
            }
            Some(Json::Bool(b)) => *b,
            _ => false,
        };
        let last = matches!(m.get(keys::LAST_SNAPSHOT_RECORD), Some(Json::Bool(true)));
        let completed = matches!(m.get(keys::SNAPSHOT_COMPLETED), Some(Json::Bool(true)));
        let lsn_proc = lsn(keys::LSN_PROC);
        OffsetState {
            ts_usec: long(keys::TS_USEC),
            tx_id: long(keys::TX_ID),
            lsn: lsn(keys::LSN),
            lsn_proc,
            lsn_commit: lsn(keys::LSN_COMMIT).or(lsn_proc),
            message_type: m
                .get(keys::MESSAGE_TYPE)
                .and_then(|v| v.as_str())
                .and_then(message_type),
            lsn_events_processed: long(keys::LSN_EVENTS_PROCESSED).unwrap_or(0),
            snapshot: snapshot_flag.then_some(SnapshotMarker::initial(last)),
            snapshot_completed: completed,
            transaction: TransactionContext::load(m),
        }
    }

    /// Where the current event stands (to rebuild the offset from before an event).
    pub fn event_position(&self) -> EventPosition {
        EventPosition {
            lsn: self.lsn,
            lsn_proc: self.lsn_proc,
            lsn_events_processed: self.lsn_events_processed,
            message_type: self.message_type,
        }
    }

    /// Puts back a position taken by [`OffsetState::event_position`].
    pub fn restore_event_position(&mut self, p: EventPosition) {
        self.lsn = p.lsn;
        self.lsn_proc = p.lsn_proc;
        self.lsn_events_processed = p.lsn_events_processed;
        self.message_type = p.message_type;
    }

    /// True when this offset was written mid-snapshot (the snapshot must be redone).
    pub fn snapshot_in_progress(&self) -> bool {
        self.snapshot.is_some_and(|s| !s.last_record) && !self.snapshot_completed
    }

    /// How far the slot may be confirmed once this offset is stored: the later of
    /// `lsn_commit` and `lsn_proc`. An LSN inside a transaction is safe to confirm:
    /// PostgreSQL then sends that transaction again, whole.
    pub fn confirmable_lsn(&self) -> Option<Lsn> {
        self.lsn_commit.max(self.lsn_proc)
    }

    /// The LSN to start streaming from.
    pub fn resume_lsn(&self) -> Option<Lsn> {
        self.lsn_commit.or(self.lsn_proc).or(self.lsn)
    }
}

fn json_i64(v: &Json) -> Option<i64> {
    match v {
        Json::Number(n) => n.as_i64().or_else(|| n.as_u64().map(|u| u as i64)),
        Json::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn message_type(s: &str) -> Option<&'static str> {
    Some(match s {
        "INSERT" => "INSERT",
        "UPDATE" => "UPDATE",
        "DELETE" => "DELETE",
        "TRUNCATE" => "TRUNCATE",
        "BEGIN" => "BEGIN",
        "COMMIT" => "COMMIT",
        "MESSAGE" => "MESSAGE",
        _ => return None,
    })
}

/// The partition map `{"server": PREFIX}`.
pub fn partition(prefix: &str) -> Arc<OffsetMap> {
    let mut m = OffsetMap::new();
    m.insert("server".into(), Json::String(prefix.into()));
    Arc::new(m)
}

/// Decides which events to skip after a restart: those of the transaction the
/// stored offset was in, up to and including the stored event.
#[derive(Clone, Debug)]
pub struct ResumeFilter {
    xid: Option<i64>,
    lsn: Lsn,
    count: i64,
    active: bool,
}

impl ResumeFilter {
    /// A filter for a stored offset; `None` skips nothing.
    pub fn new(stored: Option<&OffsetState>) -> Self {
        match stored {
            // After a COMMIT nothing of a later transaction was emitted; after a BEGIN
            // (transaction metadata) only the BEGIN record, which is not re-emitted.
            Some(s) if !matches!(s.message_type, Some("COMMIT") | Some("BEGIN")) && s.lsn_proc.is_some() => {
                ResumeFilter {
                    xid: s.tx_id,
                    lsn: s.lsn_proc.unwrap_or_default(),
                    count: s.lsn_events_processed.max(1),
                    active: true,
                }
            }
            _ => ResumeFilter {
                xid: None,
                lsn: Lsn::ZERO,
                count: 0,
                active: false,
            },
        }
    }

    /// Called at each transaction start: only the stored transaction is filtered.
    pub fn begin(&mut self, xid: i64) {
        if self.active && self.xid != Some(xid) {
            self.active = false;
        }
    }

    /// True when the event at `lsn`, the `nth` (1-based) at that LSN, was already emitted.
    pub fn skip(&self, lsn: Lsn, nth: i64) -> bool {
        self.active && (lsn < self.lsn || (lsn == self.lsn && nth <= self.count))
    }

    /// Called at each transaction end.
    pub fn commit(&mut self) {
        self.active = false;
    }
}

/// Decides how far the replication slot may be confirmed.
///
/// The slot is confirmed exactly up to the `lsn_commit` or `lsn_proc` (the later)
/// of the latest offset the runtime reported durable in Kafka: the
/// slot never passes what the offsets topic holds. Progress on an idle database
/// comes from keepalives updating the offset, which heartbeat records carry.
#[derive(Debug, Default)]
pub struct FlushTracker {
    last_emitted: Option<Arc<OffsetMap>>,
    last_durable: Option<Arc<OffsetMap>>,
    flushable: Lsn,
    /// The highest LSN of a durable offset reported in this run (not the slot's start).
    durable_lsn: Lsn,
}

impl FlushTracker {
    /// A tracker starting at `flushed` (what the slot already confirmed).
    pub fn new(flushed: Lsn) -> Self {
        FlushTracker {
            flushable: flushed,
            ..Default::default()
        }
    }

    /// A record with `offset` was handed to the runtime.
    pub fn emitted(&mut self, offset: &Arc<OffsetMap>) {
        self.last_emitted = Some(offset.clone());
    }

    /// The runtime reports `offset` durable.
    pub fn durable(&mut self, offset: &OffsetMap) {
        if let Some(l) = OffsetState::from_map(offset).confirmable_lsn() {
            self.flushable = self.flushable.max(l);
            self.durable_lsn = self.durable_lsn.max(l);
        }
        self.last_durable = Some(Arc::new(offset.clone()));
    }

    /// Everything emitted is durable.
    pub fn all_durable(&self) -> bool {
        match (&self.last_emitted, &self.last_durable) {
            (None, _) => true,
            (Some(e), Some(d)) => e.as_ref() == d.as_ref(),
            _ => false,
        }
    }

    /// The highest LSN that may be confirmed as flushed.
    pub fn flushable(&self) -> Lsn {
        self.flushable
    }

    /// The highest `lsn_commit`/`lsn_proc` of an offset reported durable since this
    /// tracker was made (zero before the first): every transaction that ended at or
    /// before it was emitted and its offset stored.
    pub fn durable_lsn(&self) -> Lsn {
        self.durable_lsn
    }
}

/// Serializes an offset map as the offsets topic would hold it (for tests and logs).
pub fn to_json(m: &OffsetMap) -> String {
    serde_json::to_string(m).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocking_snapshot_offset_is_a_streaming_position() {
        let mut s = OffsetState {
            lsn: Some(Lsn(3)),
            lsn_proc: Some(Lsn(3)),
            message_type: Some("INSERT"),
            ..Default::default()
        };
        s.snapshot = Some(SnapshotMarker {
            last_record: false,
            blocking: true,
        });
        let m = s.to_map();
        assert_eq!(m["snapshot"], Json::String("BLOCKING".into()));
        let back = OffsetState::from_map(&m);
        assert!(
            !back.snapshot_in_progress(),
            "a restart streams on (Debezium does not resume it)"
        );
        assert_eq!(back.snapshot, None);
        s.snapshot = Some(SnapshotMarker::initial(false));
        assert!(OffsetState::from_map(&s.to_map()).snapshot_in_progress());
    }

    #[test]
    fn incremental_keys_are_added_replaced_and_removed() {
        let base = OffsetState {
            ts_usec: Some(1),
            tx_id: Some(2),
            lsn: Some(Lsn(3)),
            lsn_proc: Some(Lsn(3)),
            lsn_commit: Some(Lsn(4)),
            message_type: Some("INSERT"),
            ..Default::default()
        }
        .to_map();
        let inc = IncrementalOffset {
            primary_key: "aced000570".into(),
            maximum_key: "aced0005".into(),
            collections: "[]".into(),
            correlation_id: None,
        };
        let m = with_incremental(&base, Some(&inc), None);
        assert_eq!(m.len(), base.len() + 4);
        assert_eq!(m[keys::INCREMENTAL_CORRELATION_ID], Json::Null);
        assert_eq!(IncrementalOffset::from_map(&m), Some(inc.clone()));
        // The streaming part reads back unchanged.
        assert_eq!(OffsetState::from_map(&m), OffsetState::from_map(&base));
        let ev = with_incremental(&m, Some(&inc), Some((true, true)));
        assert_eq!(ev[keys::SNAPSHOT], Json::String("INCREMENTAL".into()));
        assert_eq!(ev[keys::LAST_SNAPSHOT_RECORD], Json::Bool(true));
        // Read back, an incremental row's offset is no initial snapshot in progress.
        let read = OffsetState::from_map(&with_incremental(&m, Some(&inc), Some((false, false))));
        assert!(read.snapshot.is_none() && !read.snapshot_in_progress());
        let back = with_incremental(&ev, None, None);
        assert!(IncrementalOffset::from_map(&back).is_none());
        assert!(
            back.contains_key(keys::SNAPSHOT),
            "only incremental_event replaces the flags"
        );
        let plain = with_incremental(&m, None, None);
        assert_eq!(plain, base, "same keys, same HashMap order");
        assert_eq!(plain.keys().collect::<Vec<_>>(), base.keys().collect::<Vec<_>>());
    }

    #[test]
    fn streaming_offset_key_order_is_hashmap_order() {
        let s = OffsetState {
            ts_usec: Some(1),
            tx_id: Some(2),
            lsn: Some(Lsn(3)),
            lsn_proc: Some(Lsn(3)),
            lsn_commit: Some(Lsn(4)),
            message_type: Some("INSERT"),
            lsn_events_processed: 2,
            ..Default::default()
        };
        let m = s.to_map();
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        // Buckets (capacity 16): lsn_proc 1, lsn_events_processed 1 (inserted later),
        // messageType 4, lsn_commit 5, lsn 6, txId 9, ts_usec 13.
        assert_eq!(
            keys,
            [
                "lsn_proc",
                "lsn_events_processed",
                "messageType",
                "lsn_commit",
                "lsn",
                "txId",
                "ts_usec"
            ]
        );
        let back = OffsetState::from_map(&m);
        assert_eq!(back, s);
    }

    #[test]
    fn the_first_event_at_an_lsn_writes_no_event_count_as_debezium_3_6() {
        let first = OffsetState {
            tx_id: Some(2),
            lsn: Some(Lsn(3)),
            lsn_proc: Some(Lsn(3)),
            message_type: Some("INSERT"),
            lsn_events_processed: 1,
            ..Default::default()
        };
        let m = first.to_map();
        assert!(!m.contains_key(keys::LSN_EVENTS_PROCESSED), "{m:?}");
        // Read back, the event still counts as emitted: a restart skips it and what follows
        // at the same LSN is not skipped.
        let back = OffsetState::from_map(&m);
        let mut f = ResumeFilter::new(Some(&back));
        f.begin(2);
        assert!(f.skip(Lsn(3), 1));
        assert!(!f.skip(Lsn(3), 2));
    }

    #[test]
    fn transaction_counters_follow_the_offset_map_order_and_round_trip() {
        let mut s = OffsetState {
            ts_usec: Some(1),
            tx_id: Some(2),
            lsn: Some(Lsn(3)),
            lsn_proc: Some(Lsn(3)),
            lsn_commit: Some(Lsn(4)),
            message_type: Some("INSERT"),
            lsn_events_processed: 2,
            ..Default::default()
        };
        s.transaction.begin("2".into());
        assert_eq!(s.transaction.event("s2.a"), 1);
        assert_eq!(s.transaction.event("s1.a"), 1);
        assert_eq!(s.transaction.event("s2.a"), 2);
        let m = s.to_map();
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        // Buckets (capacity 16, worked out apart from this code): transaction_id 0,
        // ..._s1.a 0 (inserted later), lsn_proc 1, lsn_events_processed 1, messageType 4,
        // lsn_commit 5, lsn 6, txId 9, ts_usec 13, ..._s2.a 15.
        assert_eq!(
            keys,
            [
                "transaction_id",
                "transaction_data_collection_order_s1.a",
                "lsn_proc",
                "lsn_events_processed",
                "messageType",
                "lsn_commit",
                "lsn",
                "txId",
                "ts_usec",
                "transaction_data_collection_order_s2.a"
            ]
        );
        assert_eq!(m["transaction_id"], Json::String("2".into()));
        let back = OffsetState::from_map(&m);
        assert_eq!(back.transaction.total, 3);
        assert_eq!(back.transaction.id.as_deref(), Some("2"));
        assert_eq!(
            back.transaction.per_collection_in_java_order(),
            [("s1.a", 1), ("s2.a", 2)]
        );
        // Not written while snapshotting.
        s.snapshot = Some(SnapshotMarker::initial(false));
        assert!(!s.to_map().contains_key("transaction_id"));
        // After a BEGIN nothing of the transaction but the BEGIN itself was emitted.
        let begin = OffsetState {
            tx_id: Some(7),
            lsn_proc: Some(Lsn(50)),
            message_type: Some("BEGIN"),
            ..Default::default()
        };
        let mut f = ResumeFilter::new(Some(&begin));
        f.begin(7);
        assert!(!f.skip(Lsn(50), 1));
    }

    #[test]
    fn resume_filter_skips_only_the_stored_transaction_prefix() {
        let stored = OffsetState {
            tx_id: Some(10),
            lsn_proc: Some(Lsn(200)),
            lsn_events_processed: 2,
            message_type: Some("INSERT"),
            ..Default::default()
        };
        let mut f = ResumeFilter::new(Some(&stored));
        f.begin(10);
        assert!(f.skip(Lsn(100), 1));
        assert!(f.skip(Lsn(200), 2));
        assert!(!f.skip(Lsn(200), 3));
        assert!(!f.skip(Lsn(300), 1));
        f.commit();
        f.begin(11);
        assert!(!f.skip(Lsn(100), 1));
        let mut other = ResumeFilter::new(Some(&stored));
        other.begin(12);
        assert!(!other.skip(Lsn(100), 1));
    }

    #[test]
    fn flush_never_passes_the_durable_offset() {
        let mut t = FlushTracker::new(Lsn(10));
        let rec = |tx: i64, lsn: u64, commit: u64| {
            Arc::new(
                OffsetState {
                    tx_id: Some(tx),
                    lsn: Some(Lsn(lsn)),
                    lsn_proc: Some(Lsn(lsn)),
                    lsn_commit: Some(Lsn(commit)),
                    lsn_events_processed: 1,
                    message_type: Some("INSERT"),
                    ..Default::default()
                }
                .to_map(),
            )
        };
        let (a1, a2) = (rec(1, 20, 10), rec(1, 30, 10));
        t.emitted(&a1);
        t.emitted(&a2);
        assert!(!t.all_durable());
        t.durable(&a1);
        assert_eq!(t.flushable(), Lsn(20));
        t.durable(&a2);
        assert!(t.all_durable());
        assert_eq!(
            t.flushable(),
            Lsn(30),
            "transaction 1 ended at 40, but no stored offset says so yet"
        );
        let b1 = rec(3, 60, 50);
        t.emitted(&b1);
        t.durable(&b1);
        assert_eq!(t.flushable(), Lsn(60));
        assert_eq!(t.durable_lsn(), Lsn(60));
        // The slot's starting point is not a durable offset of this run.
        assert_eq!(FlushTracker::new(Lsn(10)).durable_lsn(), Lsn::ZERO);
    }
}
