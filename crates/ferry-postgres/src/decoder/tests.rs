//! The decoder without a server: hand-built pgoutput messages in, records and
//! offsets out.

use std::collections::HashSet;
use std::time::Duration;

use bytes::Bytes;
use ferry_core::{ConfigMap, Struct, Value};

use super::*;
use crate::offset::TransactionContext;
use crate::pgoutput::tests::Enc;
use crate::schema::{ColumnMeta, TableId};
use crate::types::PgType;

const T: u32 = 16384;
const COMMIT_TIME_US: i64 = 1_700_000_000_123_456;
const CLOCK_US: i64 = 1_600_000_000_000_000;
const RUN_ID: Uuid = Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0001);

fn cfg(extra: &[(&str, &str)]) -> Arc<PostgresConfig> {
    let mut m: ConfigMap = [
        ("database.hostname", "h"),
        ("database.user", "u"),
        ("database.dbname", "db"),
        ("topic.prefix", "srv"),
        ("plugin.name", "pgoutput"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        m.insert(k.to_string(), v.to_string());
    }
    Arc::new(PostgresConfig::parse(&m).unwrap())
}

fn table_meta(oid: u32, name: &str) -> TableMeta {
    let column = |name: &str, oid: u32, nullable: bool| ColumnMeta {
        name: name.into(),
        ty: PgType::scalar(oid, -1),
        nullable,
        comment: None,
        default_expr: None,
    };
    TableMeta {
        oid,
        id: TableId {
            schema: "public".into(),
            table: name.into(),
        },
        columns: vec![column("id", 23, false), column("name", 25, true)],
        primary_key: vec!["id".into()],
    }
}

fn decoder_with(cfg: Arc<PostgresConfig>, stored: Option<OffsetState>) -> Decoder {
    Decoder::new(
        cfg,
        Start {
            offset: stored.clone().unwrap_or_default(),
            resume_from: stored,
            flushed: Lsn::ZERO,
            now: Instant::now(),
            run_id: RUN_ID,
        },
    )
    .with_clock(|| CLOCK_US)
}

fn decoder(extra: &[(&str, &str)]) -> Decoder {
    decoder_with(cfg(extra), None)
}

fn begin(xid: u32) -> StreamEvent {
    StreamEvent::Begin {
        final_lsn: Lsn::ZERO,
        xid,
        commit_time_us: COMMIT_TIME_US,
    }
}

fn commit(commit_lsn: u64, end_lsn: u64) -> StreamEvent {
    StreamEvent::Commit {
        commit_lsn: Lsn(commit_lsn),
        end_lsn: Lsn(end_lsn),
        commit_time_us: COMMIT_TIME_US,
    }
}

fn data(lsn: u64, enc: Enc) -> StreamEvent {
    StreamEvent::Data {
        wal_start: Lsn(lsn),
        data: enc.bytes(),
    }
}

fn relation(oid: u32, name: &str) -> StreamEvent {
    let enc = Enc::default()
        .u8(b'R')
        .i32(oid as i32)
        .s("public")
        .s(name)
        .u8(b'd')
        .i16(2)
        .u8(1)
        .s("id")
        .i32(23)
        .i32(-1)
        .u8(0)
        .s("name")
        .i32(25)
        .i32(-1);
    data(0, enc)
}

fn row(enc: Enc, id: &str, name: &str) -> Enc {
    enc.i16(2).text(id).text(name)
}

fn insert(lsn: u64, id: &str, name: &str) -> StreamEvent {
    data(lsn, row(Enc::default().u8(b'I').i32(T as i32).u8(b'N'), id, name))
}

fn update(lsn: u64, old_id: Option<&str>, id: &str, name: &str) -> StreamEvent {
    let mut enc = Enc::default().u8(b'U').i32(T as i32);
    if let Some(old) = old_id {
        enc = enc.u8(b'K').i16(2).text(old).u8(b'n');
    }
    data(lsn, row(enc.u8(b'N'), id, name))
}

fn delete(lsn: u64, id: &str) -> StreamEvent {
    data(
        lsn,
        Enc::default()
            .u8(b'D')
            .i32(T as i32)
            .u8(b'K')
            .i16(2)
            .text(id)
            .u8(b'n'),
    )
}

fn truncate(lsn: u64, relations: &[u32]) -> StreamEvent {
    let mut enc = Enc::default().u8(b'T').i32(relations.len() as i32).u8(0);
    for r in relations {
        enc = enc.i32(*r as i32);
    }
    data(lsn, enc)
}

fn message(transactional: bool, lsn: u64, prefix: &str, content: &str) -> StreamEvent {
    StreamEvent::Message {
        transactional,
        lsn: Lsn(lsn),
        prefix: prefix.into(),
        content: Bytes::copy_from_slice(content.as_bytes()),
    }
}

/// Feeds `events`, answering every table request from the catalog `tables`;
/// returns the records and the tables asked for.
fn feed_with(d: &mut Decoder, tables: &[TableMeta], events: Vec<StreamEvent>) -> (Vec<Record>, Vec<u32>) {
    let mut out = Vec::new();
    let mut asked = Vec::new();
    for ev in events {
        let mut ev = ev;
        loop {
            match d.process(ev, &mut out).unwrap() {
                Step::Done => break,
                Step::NeedTable { relation, event } => {
                    asked.push(relation);
                    let meta = tables.iter().find(|t| t.oid == relation).cloned();
                    d.table_loaded(relation, meta);
                    ev = event;
                }
            }
        }
    }
    (out, asked)
}

fn feed(d: &mut Decoder, events: Vec<StreamEvent>) -> Vec<Record> {
    feed_with(d, &[table_meta(T, "t")], events).0
}

fn offset_map(r: &Record) -> &OffsetMap {
    match &r.position {
        Position::Source { offset, .. } => offset,
        other => panic!("not a source position: {other:?}"),
    }
}

fn offset_of(r: &Record) -> OffsetState {
    OffsetState::from_map(offset_map(r))
}

fn envelope(r: &Record) -> &Struct {
    match &r.value {
        Value::Struct(s) => s,
        other => panic!("not an envelope: {other:?}"),
    }
}

fn field<'a>(s: &'a Struct, name: &str) -> &'a Value {
    s.get(name).unwrap_or(&Value::Null)
}

fn sub<'a>(s: &'a Struct, name: &str) -> &'a Struct {
    match field(s, name) {
        Value::Struct(s) => s,
        other => panic!("{name} is not a struct: {other:?}"),
    }
}

fn op(r: &Record) -> Option<&str> {
    match &r.value {
        Value::Struct(s) => match field(s, "op") {
            Value::String(op) => Some(op.as_str()),
            _ => None,
        },
        _ => None,
    }
}

fn ops(recs: &[Record]) -> Vec<Option<&str>> {
    recs.iter().map(op).collect()
}

fn header_keys(r: &Record) -> Vec<&str> {
    r.headers.iter().map(|h| h.key.as_str()).collect()
}

fn d_key_schema(r: &Record) -> ferry_core::Schema {
    r.key_schema.clone().expect("a key schema")
}

/// The context headers as `(key, value)`, for a decoder of topic prefix `srv`.
fn context_headers() -> Vec<(&'static str, Value)> {
    vec![
        (
            "__debezium.context.connectorLogicalName",
            Value::String("srv".into()),
        ),
        ("__debezium.context.taskId", Value::String("0".into())),
        (
            "__debezium.context.connectorName",
            Value::String("postgresql".into()),
        ),
        ("__debezium.context.runId", Value::String(RUN_ID.to_string())),
    ]
}

fn headers_of(r: &Record) -> Vec<(&str, Value)> {
    r.headers
        .iter()
        .map(|h| (h.key.as_str(), h.value.clone()))
        .collect()
}

fn id_of(row: &Struct) -> &Value {
    field(row, "id")
}

/// The offset a streamed event at `lsn` (the `nth` there) leaves inside transaction `xid`.
fn at(lsn: u64, nth: i64, message_type: &'static str, xid: i64) -> OffsetState {
    OffsetState {
        ts_usec: Some(COMMIT_TIME_US),
        tx_id: Some(xid),
        lsn: Some(Lsn(lsn)),
        lsn_proc: Some(Lsn(lsn)),
        lsn_commit: None,
        message_type: Some(message_type),
        lsn_events_processed: nth,
        snapshot: None,
        snapshot_completed: false,
        transaction: TransactionContext::default(),
    }
}

#[test]
fn insert_update_delete_become_envelopes_with_their_offsets() {
    let mut d = decoder(&[]);
    let recs = feed(
        &mut d,
        vec![
            begin(700),
            relation(T, "t"),
            insert(0x100, "1", "a"),
            update(0x110, None, "1", "b"),
            delete(0x120, "1"),
            commit(0x130, 0x138),
        ],
    );
    assert_eq!(ops(&recs), [Some("c"), Some("u"), Some("d"), None]);
    assert!(recs.iter().all(|r| &*r.topic == "srv.public.t"));
    let after = sub(envelope(&recs[1]), "after");
    assert_eq!(id_of(after), &Value::Int32(1));
    assert_eq!(field(after, "name"), &Value::String("b".into()));
    assert_eq!(field(envelope(&recs[0]), "before"), &Value::Null);
    assert_eq!(id_of(sub(envelope(&recs[2]), "before")), &Value::Int32(1));
    // The tombstone: same key, no value.
    assert_eq!(recs[3].value, Value::Null);
    assert_eq!(recs[3].key, recs[2].key);

    let source = sub(envelope(&recs[1]), "source");
    assert_eq!(field(source, "lsn"), &Value::Int64(0x110));
    assert_eq!(field(source, "txId"), &Value::Int64(700));
    assert_eq!(field(source, "ts_ms"), &Value::Int64(COMMIT_TIME_US / 1000));
    assert_eq!(field(source, "table"), &Value::String("t".into()));

    assert_eq!(offset_map(&recs[0]), &at(0x100, 1, "INSERT", 700).to_map());
    assert_eq!(offset_map(&recs[1]), &at(0x110, 1, "UPDATE", 700).to_map());
    // The delete carries the offset from before it, its tombstone the one after it.
    assert_eq!(offset_map(&recs[2]), &at(0x110, 1, "UPDATE", 700).to_map());
    assert_eq!(offset_map(&recs[3]), &at(0x120, 1, "DELETE", 700).to_map());

    let done = d.offset();
    assert_eq!(done.lsn_commit, Some(Lsn(0x138)));
    assert_eq!(done.lsn_proc, Some(Lsn(0x138)));
    assert_eq!(done.message_type, Some("COMMIT"));
    assert_eq!(d.resume_lsn(), Some(Lsn(0x138)));
    assert!(!d.in_transaction());
}

#[test]
fn a_table_without_schema_is_asked_for_and_nothing_changes_until_it_is_given() {
    let mut d = decoder(&[]);
    let mut out = Vec::new();
    for ev in [begin(7), relation(T, "t")] {
        assert!(matches!(d.process(ev, &mut out).unwrap(), Step::Done));
    }
    let before = d.offset().clone();
    let Step::NeedTable { relation, event } = d.process(insert(0x100, "1", "a"), &mut out).unwrap() else {
        panic!("the insert needs its table");
    };
    assert_eq!(relation, T);
    assert!(out.is_empty());
    assert_eq!(d.offset(), &before);
    // Asking again is harmless: still nothing changed.
    let Step::NeedTable { event, .. } = d.process(event, &mut out).unwrap() else {
        panic!("still unknown");
    };
    assert_eq!(d.offset(), &before);
    d.table_loaded(T, Some(table_meta(T, "t")));
    assert!(matches!(d.process(event, &mut out).unwrap(), Step::Done));
    assert_eq!(ops(&out), [Some("c")]);
    assert_eq!(offset_map(&out[0]), &at(0x100, 1, "INSERT", 7).to_map());
    // Known now: the next change does not ask.
    assert!(matches!(
        d.process(insert(0x108, "2", "b"), &mut out).unwrap(),
        Step::Done
    ));
}

#[test]
fn a_changed_relation_message_asks_for_the_table_again() {
    let mut d = decoder(&[]);
    let (_, asked) = feed_with(
        &mut d,
        &[table_meta(T, "t")],
        vec![
            begin(7),
            relation(T, "t"),
            insert(0x100, "1", "a"),
            relation(T, "t"),
        ],
    );
    assert_eq!(asked, [T], "an identical Relation message keeps the schema");
    let renamed = relation(T, "t2");
    let (recs, asked) = feed_with(
        &mut d,
        &[table_meta(T, "t2")],
        vec![renamed, insert(0x108, "2", "b"), commit(0x110, 0x118)],
    );
    assert_eq!(asked, [T]);
    assert_eq!(&*recs[0].topic, "srv.public.t2");
}

#[test]
fn tables_outside_the_include_list_yield_nothing_but_move_the_offset() {
    let mut d = decoder(&[("table.include.list", "public.other")]);
    let recs = feed(&mut d, vec![begin(9), relation(T, "t"), insert(0x100, "1", "a")]);
    assert!(recs.is_empty());
    assert_eq!(d.offset(), &at(0x100, 1, "INSERT", 9));
}

#[test]
fn a_key_change_is_delete_tombstone_create_and_only_the_last_carries_the_new_offset() {
    let mut d = decoder(&[]);
    let recs = feed(
        &mut d,
        vec![
            begin(11),
            relation(T, "t"),
            insert(0x100, "1", "a"),
            update(0x110, Some("1"), "2", "a"),
            commit(0x120, 0x128),
        ],
    );
    assert_eq!(ops(&recs), [Some("c"), Some("d"), None, Some("c")]);
    assert_eq!(id_of(sub(envelope(&recs[1]), "before")), &Value::Int32(1));
    assert_eq!(id_of(sub(envelope(&recs[3]), "after")), &Value::Int32(2));
    // Debezium's emitter headers come first, the context headers after them; the
    // tombstone copies the delete's headers.
    let context = [
        "__debezium.context.connectorLogicalName",
        "__debezium.context.taskId",
        "__debezium.context.connectorName",
        "__debezium.context.runId",
    ];
    let with = |first: &'static str| std::iter::once(first).chain(context).collect::<Vec<_>>();
    assert_eq!(header_keys(&recs[1]), with("__debezium.newkey"));
    assert_eq!(header_keys(&recs[2]), with("__debezium.newkey"));
    assert_eq!(header_keys(&recs[3]), with("__debezium.oldkey"));
    assert_eq!(header_keys(&recs[0]), context);
    let key = |id: i32| {
        let mut k = Struct::new(d_key_schema(&recs[0]));
        k.put("id", Value::Int32(id)).unwrap();
        Value::Struct(k)
    };
    assert_eq!(recs[1].headers.iter().next().unwrap().value, key(2));
    assert_eq!(recs[2].headers.iter().next().unwrap().value, key(2));
    assert_eq!(recs[3].headers.iter().next().unwrap().value, key(1));
    assert_eq!(recs[3].headers.iter().next().unwrap().schema, recs[3].key_schema);
    let previous = at(0x100, 1, "INSERT", 11).to_map();
    assert_eq!(offset_map(&recs[1]), &previous);
    assert_eq!(offset_map(&recs[2]), &previous);
    assert_eq!(offset_map(&recs[3]), &at(0x110, 1, "UPDATE", 11).to_map());
}

#[test]
fn transaction_metadata_begin_end_and_counters() {
    let mut d = decoder(&[("provide.transaction.metadata", "true")]);
    let recs = feed(
        &mut d,
        vec![
            begin(42),
            relation(T, "t"),
            insert(0x100, "1", "a"),
            insert(0x108, "2", "b"),
            message(true, 0x110, "p", "x"),
            commit(0x118, 0x120),
        ],
    );
    assert_eq!(recs.len(), 5);
    let topics: Vec<&str> = recs.iter().map(|r| &*r.topic).collect();
    assert_eq!(
        topics,
        [
            "srv.transaction",
            "srv.public.t",
            "srv.public.t",
            "srv.message",
            "srv.transaction"
        ]
    );
    let begin_rec = envelope(&recs[0]);
    assert_eq!(field(begin_rec, "status"), &Value::String("BEGIN".into()));
    assert_eq!(field(begin_rec, "id"), &Value::String(format!("42:{}", 0x100)));
    assert_eq!(offset_of(&recs[0]).message_type, Some("BEGIN"));
    for (rec, total, in_table) in [(&recs[1], 1, 1), (&recs[2], 2, 2)] {
        let tx = sub(envelope(rec), "transaction");
        assert_eq!(field(tx, "total_order"), &Value::Int64(total));
        assert_eq!(field(tx, "data_collection_order"), &Value::Int64(in_table));
    }
    let tx = sub(envelope(&recs[3]), "transaction");
    assert_eq!(field(tx, "total_order"), &Value::Int64(3));
    assert_eq!(field(tx, "data_collection_order"), &Value::Int64(1));
    // The offset of a change counts it.
    let second = offset_of(&recs[2]);
    assert_eq!(second.transaction.id.as_deref(), Some("42"));
    assert_eq!(second.transaction.total, 2);
    let end = envelope(&recs[4]);
    assert_eq!(field(end, "status"), &Value::String("END".into()));
    assert_eq!(field(end, "id"), &Value::String(format!("42:{}", 0x120)));
    assert_eq!(field(end, "event_count"), &Value::Int64(3));
    let Value::Array(collections) = field(end, "data_collections") else {
        panic!("no data_collections");
    };
    assert_eq!(collections.len(), 2);
    assert!(!d.offset().transaction.in_progress());
}

#[test]
fn a_restart_mid_transaction_skips_what_was_emitted_and_gives_no_second_begin() {
    let extra = [("provide.transaction.metadata", "true")];
    let tx = || {
        vec![
            begin(50),
            relation(T, "t"),
            insert(0x100, "1", "a"),
            insert(0x108, "2", "b"),
            insert(0x110, "3", "c"),
            commit(0x118, 0x120),
        ]
    };
    let mut first = decoder(&extra);
    let recs = feed(&mut first, tx());
    // Crash after the second insert was stored.
    let stored = offset_of(&recs[2]);
    assert_eq!(stored.lsn_proc, Some(Lsn(0x108)));
    let mut again = decoder_with(cfg(&extra), Some(stored));
    let recs = feed(&mut again, tx());
    assert_eq!(ops(&recs), [Some("c"), None], "the third insert and END only");
    assert_eq!(id_of(sub(envelope(&recs[0]), "after")), &Value::Int32(3));
    let counters = sub(envelope(&recs[0]), "transaction");
    assert_eq!(field(counters, "total_order"), &Value::Int64(3));
    assert_eq!(field(envelope(&recs[1]), "event_count"), &Value::Int64(3));
}

#[test]
fn a_restart_skips_events_at_the_same_lsn_by_their_count() {
    let extra = [("skipped.operations", "none")];
    let meta = [table_meta(T, "t"), table_meta(T + 1, "u"), table_meta(T + 2, "v")];
    let tx = || {
        vec![
            begin(60),
            relation(T, "t"),
            relation(T + 1, "u"),
            relation(T + 2, "v"),
            truncate(0x200, &[T, T + 1, T + 2]),
            commit(0x208, 0x210),
        ]
    };
    let mut first = decoder(&extra);
    let (recs, asked) = feed_with(&mut first, &meta, tx());
    assert_eq!(asked, [T, T + 1, T + 2]);
    assert_eq!(ops(&recs), [Some("t"), Some("t"), Some("t")]);
    let nth: Vec<i64> = recs.iter().map(|r| offset_of(r).lsn_events_processed).collect();
    // The first event at the LSN writes no count (as Debezium 3.6.3), the next ones do.
    assert_eq!(nth, [0, 2, 3]);
    let stored = offset_of(&recs[0]);
    let mut again = decoder_with(cfg(&extra), Some(stored));
    let (recs, asked) = feed_with(&mut again, &meta, tx());
    assert_eq!(asked, [T + 1, T + 2], "a skipped event needs no table");
    let topics: Vec<&str> = recs.iter().map(|r| &*r.topic).collect();
    assert_eq!(topics, ["srv.public.u", "srv.public.v"]);
}

#[test]
fn truncates_are_skipped_by_default_and_need_no_table() {
    let mut d = decoder(&[]);
    let (recs, asked) = feed_with(
        &mut d,
        &[table_meta(T, "t")],
        vec![begin(3), relation(T, "t"), truncate(0x100, &[T])],
    );
    assert!(recs.is_empty());
    assert!(asked.is_empty());
    assert_eq!(d.offset().message_type, Some("TRUNCATE"));
}

#[test]
fn skipped_operations_drop_their_events() {
    let mut d = decoder(&[("skipped.operations", "u,d")]);
    let recs = feed(
        &mut d,
        vec![
            begin(4),
            relation(T, "t"),
            insert(0x100, "1", "a"),
            update(0x108, None, "1", "b"),
            delete(0x110, "1"),
            commit(0x118, 0x120),
        ],
    );
    assert_eq!(ops(&recs), [Some("c")]);
}

#[test]
fn a_logical_message_outside_a_transaction_commits_at_its_position() {
    let mut d = decoder(&[("message.prefix.exclude.list", "secret.*")]);
    let recs = feed(
        &mut d,
        vec![
            message(false, 0x300, "audit", "hello"),
            message(false, 0x308, "secret-key", "nope"),
        ],
    );
    assert_eq!(recs.len(), 1);
    assert_eq!(&*recs[0].topic, "srv.message");
    let value = envelope(&recs[0]);
    assert_eq!(field(value, "op"), &Value::String("m".into()));
    let msg = sub(value, "message");
    assert_eq!(field(msg, "prefix"), &Value::String("audit".into()));
    assert_eq!(field(msg, "content"), &Value::Bytes(Bytes::from_static(b"hello")));
    let source = sub(value, "source");
    assert_eq!(field(source, "txId"), &Value::Null);
    // No commit seen yet: the clock gives the time.
    assert_eq!(field(source, "ts_ms"), &Value::Int64(CLOCK_US / 1000));
    let off = offset_of(&recs[0]);
    assert_eq!(off.lsn_commit, Some(Lsn(0x300)));
    assert_eq!(off.message_type, Some("MESSAGE"));
    assert_eq!(off.tx_id, None);
    assert_eq!(off.lsn_events_processed, 0);
}

#[test]
fn transactions_the_snapshot_contains_are_skipped_but_move_the_offset() {
    let mut d = decoder(&[]);
    d.put_table(
        T,
        Some(Arc::new(TableSchema::build(&table_meta(T, "t"), &cfg(&[])))),
    );
    d.snapshot_started(
        100,
        Some(SnapshotVisibility {
            xmin: 100,
            xmax: 105,
            xip: HashSet::from([102]),
        }),
    );
    d.snapshot_finished();
    let recs = feed(
        &mut d,
        vec![
            begin(101),
            relation(T, "t"),
            insert(0x100, "1", "seen"),
            message(true, 0x104, "p", "seen"),
            commit(0x108, 0x110),
            begin(102),
            insert(0x120, "2", "new"),
            commit(0x128, 0x130),
        ],
    );
    assert_eq!(ops(&recs), [Some("c")]);
    assert_eq!(id_of(sub(envelope(&recs[0]), "after")), &Value::Int32(2));
    assert_eq!(offset_of(&recs[0]).lsn_commit, Some(Lsn(0x110)));
    assert_eq!(d.offset().lsn_commit, Some(Lsn(0x130)));
}

#[test]
fn a_reconnect_resends_the_transaction_and_only_new_events_are_emitted() {
    let mut d = decoder(&[]);
    let recs = feed(&mut d, vec![begin(70), relation(T, "t"), insert(0x100, "1", "a")]);
    assert_eq!(recs.len(), 1);
    d.stream_restarted();
    assert!(!d.in_transaction());
    // The server sends the transaction again from its start, Relation included.
    let recs = feed(
        &mut d,
        vec![
            begin(70),
            relation(T, "t"),
            insert(0x100, "1", "a"),
            insert(0x108, "2", "b"),
            commit(0x110, 0x118),
        ],
    );
    assert_eq!(ops(&recs), [Some("c")]);
    assert_eq!(id_of(sub(envelope(&recs[0]), "after")), &Value::Int32(2));
}

#[test]
fn keepalives_move_the_offset_only_between_transactions_with_everything_durable() {
    let mut d = decoder(&[]);
    let recs = feed(&mut d, vec![begin(5), relation(T, "t"), insert(0x100, "1", "a")]);
    feed(&mut d, vec![StreamEvent::KeepAlive { wal_end: Lsn(0x500) }]);
    assert_eq!(d.offset().lsn_proc, Some(Lsn(0x100)), "inside a transaction");
    feed(&mut d, vec![commit(0x108, 0x110)]);
    d.records_emitted(&recs);
    feed(&mut d, vec![StreamEvent::KeepAlive { wal_end: Lsn(0x500) }]);
    assert_eq!(d.offset().lsn_proc, Some(Lsn(0x110)), "not durable yet");
    let partition = d.partition().clone();
    let Position::Source { offset, .. } = &recs[0].position else {
        unreachable!()
    };
    d.offsets_durable(&[CommittedOffset {
        partition,
        offset: offset.clone(),
    }]);
    assert_eq!(d.flushable(), Lsn(0x100));
    feed(&mut d, vec![StreamEvent::KeepAlive { wal_end: Lsn(0x500) }]);
    assert_eq!(d.offset().lsn_proc, Some(Lsn(0x500)));
    assert_eq!(d.offset().lsn, Some(Lsn(0x500)));
    feed(&mut d, vec![StreamEvent::KeepAlive { wal_end: Lsn(0x400) }]);
    assert_eq!(d.offset().lsn_proc, Some(Lsn(0x500)), "never backwards");
}

#[test]
fn heartbeats_are_due_after_the_interval_and_never_inside_a_transaction() {
    let t0 = Instant::now();
    let mut d = Decoder::new(
        cfg(&[("heartbeat.interval.ms", "1000")]),
        Start {
            offset: OffsetState::default(),
            resume_from: None,
            flushed: Lsn::ZERO,
            now: t0,
            run_id: RUN_ID,
        },
    );
    assert!(!d.heartbeat_due(t0 + Duration::from_millis(999)));
    assert!(d.heartbeat_due(t0 + Duration::from_millis(1000)));
    feed(&mut d, vec![begin(8)]);
    assert!(!d.heartbeat_due(t0 + Duration::from_secs(5)));
    feed(&mut d, vec![commit(0x10, 0x18)]);
    let hb = d.heartbeat(t0 + Duration::from_secs(5));
    assert_eq!(&*hb.topic, "__debezium-heartbeat.srv");
    assert_eq!(offset_of(&hb).lsn_commit, Some(Lsn(0x18)));
    assert!(!d.heartbeat_due(t0 + Duration::from_millis(5999)));
    assert!(d.heartbeat_due(t0 + Duration::from_secs(6)));
    let off = decoder(&[]);
    assert!(!off.heartbeat_due(t0 + Duration::from_secs(3600)), "0 = off");
}

#[test]
fn snapshot_rows_are_read_events_with_snapshot_offsets() {
    let cfg = cfg(&[]);
    let table = Arc::new(TableSchema::build(&table_meta(T, "t"), &cfg));
    let mut d = decoder_with(cfg, None);
    d.snapshot_started(77, None);
    let row = |id: i32| {
        let mut s = Struct::new(table.value_schema.clone());
        s.put("id", Value::Int32(id)).unwrap();
        s
    };
    let mut out = Vec::new();
    d.snapshot_rows(
        vec![
            SnapshotRow {
                table: table.clone(),
                row: row(1),
                marker: SnapshotRecord::First,
            },
            SnapshotRow {
                table: table.clone(),
                row: row(2),
                marker: SnapshotRecord::Last,
            },
        ],
        &mut out,
    );
    assert_eq!(ops(&out), [Some("r"), Some("r")]);
    let source = sub(envelope(&out[1]), "source");
    assert_eq!(field(source, "snapshot"), &Value::String("last".into()));
    assert_eq!(field(source, "txId"), &Value::Int64(77));
    let first = offset_of(&out[0]);
    assert!(first.snapshot_in_progress());
    assert_eq!(first.ts_usec, Some(CLOCK_US));
    let last = offset_of(&out[1]);
    assert_eq!(last.snapshot, Some(SnapshotMarker::initial(true)));
    d.snapshot_finished();
    assert_eq!(d.offset().snapshot, None);
}

#[test]
fn a_protocol_error_is_reported_and_a_change_before_its_relation_is_one() {
    let mut d = decoder(&[]);
    let mut out = Vec::new();
    let garbage = StreamEvent::Data {
        wal_start: Lsn(0x10),
        data: Bytes::from_static(b"Zxx"),
    };
    assert!(matches!(d.process(garbage, &mut out), Err(PgError::Protocol(_))));
    d.put_table(
        T,
        Some(Arc::new(TableSchema::build(&table_meta(T, "t"), &cfg(&[])))),
    );
    let err = d.process(insert(0x20, "1", "a"), &mut out).unwrap_err();
    assert!(err.to_string().contains("before its Relation message"), "{err}");
}

#[test]
fn an_unchanged_toasted_value_is_taken_from_the_full_old_row_or_becomes_the_placeholder() {
    let mut d = decoder(&[]);
    let full_old = Enc::default()
        .u8(b'U')
        .i32(T as i32)
        .u8(b'O')
        .i16(2)
        .text("1")
        .text("big")
        .u8(b'N')
        .i16(2)
        .text("1")
        .u8(b'u');
    let key_only = Enc::default()
        .u8(b'U')
        .i32(T as i32)
        .u8(b'N')
        .i16(2)
        .text("1")
        .u8(b'u');
    let recs = feed(
        &mut d,
        vec![
            begin(12),
            relation(T, "t"),
            data(0x100, full_old),
            data(0x108, key_only),
            commit(0x110, 0x118),
        ],
    );
    assert_eq!(ops(&recs), [Some("u"), Some("u")]);
    let name = |r: &Record| field(sub(envelope(r), "after"), "name").clone();
    assert_eq!(name(&recs[0]), Value::String("big".into()));
    assert_eq!(
        name(&recs[1]),
        Value::String("__debezium_unavailable_value".into())
    );
}

#[test]
fn the_replication_origin_shows_in_the_source_block_of_its_transaction() {
    let mut d = decoder(&[]);
    let origin = Enc::default().u8(b'O').i64(0x9999).s("upstream");
    let recs = feed(
        &mut d,
        vec![
            begin(13),
            data(0, origin),
            relation(T, "t"),
            insert(0x100, "1", "a"),
            commit(0x108, 0x110),
            begin(14),
            insert(0x120, "2", "b"),
            commit(0x128, 0x130),
        ],
    );
    let source = |r: &Record| sub(envelope(r), "source").clone();
    assert_eq!(
        field(&source(&recs[0]), "origin"),
        &Value::String("upstream".into())
    );
    assert_eq!(field(&source(&recs[0]), "origin_lsn"), &Value::Int64(0x9999));
    assert_eq!(field(&source(&recs[1]), "origin"), &Value::Null);
    assert_eq!(
        field(&source(&recs[1]), "sequence"),
        &Value::String(format!("[\"{}\",\"{}\"]", 0x110, 0x120)),
        "the sequence is the last commit's end and the event's LSN"
    );
}

#[test]
fn origin_none_drops_a_replicated_transaction_without_a_trace() {
    let mut d = decoder(&[
        ("slot.stream.params", "origin=none"),
        ("provide.transaction.metadata", "true"),
    ]);
    let origin = Enc::default().u8(b'O').i64(0x9999).s("upstream");
    let recs = feed(
        &mut d,
        vec![
            begin(12),
            relation(T, "t"),
            insert(0x80, "0", "local"),
            commit(0x88, 0x90),
            begin(13),
            data(0, origin),
            insert(0x100, "1", "a"),
            commit(0x108, 0x110),
        ],
    );
    // Transaction 12: BEGIN, insert, END; nothing of 13.
    assert_eq!(recs.len(), 3, "{recs:#?}");
    let after = d.offset();
    assert_eq!(
        after.lsn_commit,
        Some(Lsn(0x90)),
        "the offset stays where 12 left it"
    );
    assert_eq!(after.tx_id, Some(12));
    let recs = feed(
        &mut d,
        vec![begin(14), insert(0x120, "2", "b"), commit(0x128, 0x130)],
    );
    let source = sub(envelope(&recs[1]), "source").clone();
    assert_eq!(field(&source, "origin"), &Value::Null);
    assert_eq!(
        field(&source, "sequence"),
        &Value::String(format!("[\"{}\",\"{}\"]", 0x90, 0x120)),
        "the last commit seen is 12's, as when the server filters 13"
    );
}

#[test]
fn a_reconnect_before_the_first_change_still_gives_exactly_one_begin() {
    let extra = [("provide.transaction.metadata", "true")];
    let mut d = decoder(&extra);
    let recs = feed(&mut d, vec![begin(90), relation(T, "t")]);
    assert!(recs.is_empty(), "BEGIN waits for the first change's LSN");
    d.stream_restarted();
    let recs = feed(
        &mut d,
        vec![
            begin(90),
            relation(T, "t"),
            insert(0x100, "1", "a"),
            commit(0x108, 0x110),
        ],
    );
    let statuses: Vec<Value> = recs
        .iter()
        .filter(|r| &*r.topic == "srv.transaction")
        .map(|r| field(envelope(r), "status").clone())
        .collect();
    assert_eq!(
        statuses,
        [Value::String("BEGIN".into()), Value::String("END".into())]
    );
}

#[test]
fn envelopes_put_transaction_after_source_as_debezium_3_6() {
    let mut d = decoder(&[]);
    let recs = feed(
        &mut d,
        vec![
            begin(5),
            relation(T, "t"),
            insert(0x100, "1", "a"),
            commit(0x108, 0x110),
        ],
    );
    let expected = [
        "before",
        "after",
        "source",
        "transaction",
        "op",
        "ts_ms",
        "ts_us",
        "ts_ns",
    ];
    let schema = recs[0].value_schema.as_ref().unwrap();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name()).collect();
    assert_eq!(names, expected);
    let value = envelope(&recs[0]);
    assert_eq!(value.values()[event::ENVELOPE_TRANSACTION_INDEX], Value::Null);
    assert_eq!(field(value, "op"), &Value::String("c".into()));
    assert_eq!(
        field(sub(value, "source"), "version"),
        &Value::String(ferry_core::versions::DEBEZIUM.into())
    );
}

#[test]
fn change_events_carry_the_context_headers_and_other_records_none() {
    let extra = [
        ("provide.transaction.metadata", "true"),
        ("skipped.operations", "none"),
        ("heartbeat.interval.ms", "1"),
    ];
    let mut d = decoder(&extra);
    let recs = feed(
        &mut d,
        vec![
            begin(9),
            relation(T, "t"),
            insert(0x100, "1", "a"),
            update(0x108, None, "1", "b"),
            delete(0x110, "1"),
            truncate(0x118, &[T]),
            message(true, 0x120, "p", "x"),
            commit(0x128, 0x130),
            message(false, 0x140, "p", "y"),
        ],
    );
    let topics: Vec<&str> = recs.iter().map(|r| &*r.topic).collect();
    assert_eq!(
        topics,
        [
            "srv.transaction",
            "srv.public.t",
            "srv.public.t",
            "srv.public.t",
            "srv.public.t",
            "srv.public.t",
            "srv.message",
            "srv.transaction",
            "srv.message"
        ]
    );
    // c, u, d, its tombstone and the truncate: the four context headers, in order.
    for r in &recs[1..6] {
        assert_eq!(headers_of(r), context_headers(), "{:?}", op(r));
    }
    // Transaction records and logical decoding messages: none (Debezium's
    // TransactionMonitor and LogicalDecodingMessageMonitor add none).
    for r in [&recs[0], &recs[6], &recs[7], &recs[8]] {
        assert!(r.headers.is_empty(), "{}", r.topic);
    }
    // Heartbeats: none.
    let hb = d.heartbeat(Instant::now() + Duration::from_secs(1));
    assert!(hb.headers.is_empty());
    assert_eq!(hb.kafka_partition, Some(0), "HeartbeatImpl writes to partition 0");
    assert!(recs.iter().all(|r| r.kafka_partition.is_none()));

    // Snapshot reads get them too.
    let cfg = cfg(&[]);
    let table = Arc::new(TableSchema::build(&table_meta(T, "t"), &cfg));
    let mut d = decoder_with(cfg, None);
    d.snapshot_started(1, None);
    let mut row = Struct::new(table.value_schema.clone());
    row.put("id", Value::Int32(1)).unwrap();
    let mut out = Vec::new();
    d.snapshot_rows(
        vec![SnapshotRow {
            table,
            row,
            marker: SnapshotRecord::Last,
        }],
        &mut out,
    );
    assert_eq!(headers_of(&out[0]), context_headers());
}

#[test]
fn extended_headers_disabled_leaves_only_the_key_change_headers() {
    let mut d = decoder(&[("extended.headers.enabled", "false")]);
    let recs = feed(
        &mut d,
        vec![
            begin(3),
            relation(T, "t"),
            insert(0x100, "1", "a"),
            update(0x108, Some("1"), "2", "a"),
            commit(0x110, 0x118),
        ],
    );
    assert_eq!(ops(&recs), [Some("c"), Some("d"), None, Some("c")]);
    assert!(recs[0].headers.is_empty());
    assert_eq!(header_keys(&recs[1]), ["__debezium.newkey"]);
    assert_eq!(header_keys(&recs[2]), ["__debezium.newkey"]);
    assert_eq!(header_keys(&recs[3]), ["__debezium.oldkey"]);
}

#[test]
fn ferry_cleanup_transactions_yield_nothing_but_move_the_offset() {
    let mut d = decoder(&[("provide.transaction.metadata", "true")]);
    let tag = crate::cleanup::HOUSEKEEPING_PREFIX;
    let recs = feed(
        &mut d,
        vec![
            begin(50),
            relation(T, "t"),
            message(true, 0x100, tag, ""),
            delete(0x108, "1"),
            delete(0x110, "2"),
            commit(0x118, 0x120),
            begin(51),
            delete(0x130, "3"),
            commit(0x138, 0x140),
        ],
    );
    // Only the user's transaction 51: BEGIN, delete, tombstone, END.
    let topics: Vec<&str> = recs.iter().map(|r| &*r.topic).collect();
    assert_eq!(
        topics,
        [
            "srv.transaction",
            "srv.public.t",
            "srv.public.t",
            "srv.transaction"
        ],
        "{recs:#?}"
    );
    assert_eq!(ops(&recs[1..3]), [Some("d"), None]);
    assert_eq!(
        offset_of(&recs[0]).lsn_commit,
        Some(Lsn(0x120)),
        "the cleanup transaction was passed"
    );
    assert_eq!(d.offset().lsn_commit, Some(Lsn(0x140)));
    // Any other prefix is an ordinary message.
    let recs = feed(
        &mut d,
        vec![
            begin(52),
            message(true, 0x150, "outbox", "x"),
            commit(0x158, 0x160),
        ],
    );
    assert_eq!(recs.iter().filter(|r| &*r.topic == "srv.message").count(), 1);
}
