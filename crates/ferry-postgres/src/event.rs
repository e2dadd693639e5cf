//! Debezium change events: the `source` block, envelopes, tombstones and heartbeats.

use std::sync::{Arc, OnceLock};

use ferry_core::{Headers, OffsetMap, Record, Schema, SchemaType, Struct, Value};

use crate::headers::{self, ContextHeaders};
use crate::schema::TableSchema;

/// `source.snapshot` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotRecord {
    /// Streaming (the field is left at its default, `false`).
    False,
    /// A snapshot record.
    True,
    /// The first snapshot record.
    First,
    /// The first record of a table during the snapshot.
    FirstInDataCollection,
    /// The last record of a table during the snapshot.
    LastInDataCollection,
    /// The last snapshot record.
    Last,
}

impl SnapshotRecord {
    fn as_str(self) -> &'static str {
        match self {
            SnapshotRecord::False => "false",
            SnapshotRecord::True => "true",
            SnapshotRecord::First => "first",
            SnapshotRecord::FirstInDataCollection => "first_in_data_collection",
            SnapshotRecord::LastInDataCollection => "last_in_data_collection",
            SnapshotRecord::Last => "last",
        }
    }
}

/// The `io.debezium.connector.postgresql.Source` schema.
pub fn source_schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        let snapshot = Schema::builder(SchemaType::String)
            .name("io.debezium.data.Enum")
            .version(1)
            .parameter(
                "allowed",
                "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental",
            )
            .default_value(Value::String("false".into()))
            .optional()
            .build();
        Schema::struct_builder()
            .name("io.debezium.connector.postgresql.Source")
            .version(1)
            .field("version", Schema::string())
            .field("connector", Schema::string())
            .field("name", Schema::string())
            .field("ts_ms", Schema::int64())
            .field("snapshot", snapshot)
            .field("db", Schema::string())
            .field("sequence", Schema::optional_string())
            .field("ts_us", Schema::optional_int64())
            .field("ts_ns", Schema::optional_int64())
            .field("schema", Schema::string())
            .field("table", Schema::string())
            .field("txId", Schema::optional_int64())
            .field("lsn", Schema::optional_int64())
            .field("xmin", Schema::optional_int64())
            .field("origin", Schema::optional_string())
            .field("origin_lsn", Schema::optional_int64())
            .build()
    })
}

/// The envelope's optional `transaction` block schema (`event.block`).
pub fn transaction_block_schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        Schema::struct_builder()
            .name("event.block")
            .version(1)
            .optional()
            .field("id", Schema::string())
            .field("total_order", Schema::int64())
            .field("data_collection_order", Schema::int64())
            .build()
    })
}

/// Everything `source` holds for one event.
#[derive(Clone, Debug)]
pub struct SourceInfo<'a> {
    /// Connector name / topic prefix.
    pub server: &'a str,
    /// Database name.
    pub db: &'a str,
    /// Event time (commit time when streaming), µs since the epoch.
    pub ts_us: i64,
    /// Snapshot marker.
    pub snapshot: SnapshotRecord,
    /// Last commit LSN (for `sequence`).
    pub last_commit_lsn: Option<i64>,
    /// Event LSN.
    pub lsn: Option<i64>,
    /// Transaction id.
    pub tx_id: Option<i64>,
    /// Replication origin name.
    pub origin: Option<&'a str>,
    /// Replication origin LSN.
    pub origin_lsn: Option<i64>,
}

impl SourceInfo<'_> {
    /// The source struct for a table.
    pub fn to_struct(&self, schema: &str, table: &str) -> Struct {
        let opt = |v: Option<i64>| v.map_or(Value::Null, Value::Int64);
        let seq = |v: Option<i64>| v.map_or("null".to_string(), |v| format!("\"{v}\""));
        let values = vec![
            Value::String(crate::DEBEZIUM_VERSION.into()),
            Value::String("postgresql".into()),
            Value::String(self.server.into()),
            Value::Int64(self.ts_us.div_euclid(1000)),
            match self.snapshot {
                SnapshotRecord::False => Value::Null,
                s => Value::String(s.as_str().into()),
            },
            Value::String(self.db.into()),
            Value::String(format!("[{},{}]", seq(self.last_commit_lsn), seq(self.lsn))),
            Value::Int64(self.ts_us),
            Value::Int64(self.ts_us.saturating_mul(1000)),
            Value::String(schema.into()),
            Value::String(table.into()),
            opt(self.tx_id),
            opt(self.lsn),
            Value::Null,
            self.origin.map_or(Value::Null, |o| Value::String(o.into())),
            opt(self.origin_lsn),
        ];
        Struct::from_values(source_schema().clone(), values).expect("source field count")
    }
}

/// Current time in µs since the epoch.
pub fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// The envelope's fields, in Debezium 3.6's order: `TableSchemaBuilder` declares
/// `before`, `after`, `source` and `transaction`, and `Envelope.Builder.build()` appends
/// `op`, `ts_ms`, `ts_us` and `ts_ns` (Debezium has no setting for another layout).
pub const ENVELOPE_FIELDS: [&str; 8] = [
    "before",
    "after",
    "source",
    "transaction",
    "op",
    "ts_ms",
    "ts_us",
    "ts_ns",
];

/// Index of `transaction` in every envelope ([`ENVELOPE_FIELDS`]).
pub const ENVELOPE_TRANSACTION_INDEX: usize = 3;

/// The envelope schema `name` (`PREFIX.SCHEMA.TABLE.Envelope`) around rows of `value_schema`.
pub fn envelope_schema(name: String, value_schema: &Schema) -> Schema {
    Schema::struct_builder()
        .name(name)
        .version(2)
        .field("before", value_schema.clone())
        .field("after", value_schema.clone())
        .field("source", source_schema().clone())
        .field("transaction", transaction_block_schema().clone())
        .field("op", Schema::string())
        .field("ts_ms", Schema::optional_int64())
        .field("ts_us", Schema::optional_int64())
        .field("ts_ns", Schema::optional_int64())
        .build()
}

/// An envelope of `schema` (built by [`envelope_schema`]) stamped with the current time;
/// the `transaction` block is left null (filled in later with transaction metadata).
fn envelope(
    schema: &Schema,
    before: Option<Struct>,
    after: Option<Struct>,
    source: Struct,
    op: &str,
) -> Struct {
    let now = now_us();
    let values = vec![
        before.map_or(Value::Null, Value::Struct),
        after.map_or(Value::Null, Value::Struct),
        Value::Struct(source),
        Value::Null,
        Value::String(op.into()),
        Value::Int64(now.div_euclid(1000)),
        Value::Int64(now),
        Value::Int64(now.saturating_mul(1000)),
    ];
    Struct::from_values(schema.clone(), values).expect("envelope field count")
}

/// A change to turn into records.
pub struct Change<'a> {
    /// Table schemas.
    pub table: &'a TableSchema,
    /// `c`, `u`, `d`, `r`.
    pub op: &'static str,
    /// Row before (updates/deletes).
    pub before: Option<Struct>,
    /// Row after (inserts/updates/reads).
    pub after: Option<Struct>,
    /// Source block.
    pub source: Struct,
    /// Partition map.
    pub partition: Arc<OffsetMap>,
    /// Offset after this event.
    pub offset: Arc<OffsetMap>,
    /// The context headers every record gets (`None`: `extended.headers.enabled=false`).
    pub context: Option<&'a ContextHeaders>,
}

impl Change<'_> {
    /// The change event (and a tombstone after deletes when `tombstones`).
    /// A key change becomes delete + tombstone + create, as Debezium emits it: the delete
    /// (and its tombstone) carry header `__debezium.newkey`, the create `__debezium.oldkey`,
    /// each before the context headers.
    pub fn into_records(self, tombstones: bool, out: &mut Vec<Record>) {
        let t = self.table;
        let key_after = self.after.as_ref().and_then(|a| t.key_of(a));
        let key_before = self.before.as_ref().and_then(|b| t.key_of(b));
        match (key_before, key_after) {
            (Some(kb), Some(ka)) if self.op == "u" && kb != ka => self.key_change(kb, ka, tombstones, out),
            (key_before, key_after) => {
                let key = if self.op == "d" {
                    key_before
                } else {
                    key_after.or(key_before)
                };
                self.emit(Headers::new(), key, tombstones, out);
            }
        }
    }

    /// An update that changed the key `old_key` to `new_key`: delete (and tombstone) with
    /// header `__debezium.newkey`, then create with `__debezium.oldkey`.
    fn key_change(self, old_key: Struct, new_key: Struct, tombstones: bool, out: &mut Vec<Record>) {
        let t = self.table;
        let mut headers = Headers::new();
        headers.add(
            headers::PK_UPDATE_NEWKEY,
            t.key_schema.clone(),
            Value::Struct(new_key.clone()),
        );
        Change {
            op: "d",
            after: None,
            source: self.source.clone(),
            partition: self.partition.clone(),
            offset: self.offset.clone(),
            before: self.before,
            table: t,
            context: self.context,
        }
        .emit(headers, Some(old_key.clone()), tombstones, out);
        let mut headers = Headers::new();
        headers.add(
            headers::PK_UPDATE_OLDKEY,
            t.key_schema.clone(),
            Value::Struct(old_key),
        );
        Change {
            op: "c",
            before: None,
            after: self.after,
            source: self.source,
            partition: self.partition,
            offset: self.offset,
            table: t,
            context: self.context,
        }
        .emit(headers, Some(new_key), tombstones, out);
    }

    /// One event's record (and its tombstone): `headers` are the emitter's, the context
    /// headers follow; the tombstone copies the delete's headers, as Debezium's does.
    fn emit(self, mut headers: Headers, key: Option<Struct>, tombstones: bool, out: &mut Vec<Record>) {
        let t = self.table;
        if let Some(context) = self.context {
            context.append_to(&mut headers);
        }
        let value = envelope(&t.envelope_schema, self.before, self.after, self.source, self.op);
        let key_value = key.map_or(Value::Null, Value::Struct);
        let tombstone = (self.op == "d" && tombstones).then(|| {
            let mut r = Record::new(t.topic.clone(), None, Value::Null)
                .with_key(t.key_schema.clone(), key_value.clone())
                .with_source_position(self.partition.clone(), self.offset.clone());
            r.headers = headers.clone();
            r
        });
        let mut rec = Record::new(
            t.topic.clone(),
            Some(t.envelope_schema.clone()),
            Value::Struct(value),
        )
        .with_key(t.key_schema.clone(), key_value)
        .with_source_position(self.partition, self.offset);
        rec.headers = headers;
        out.push(rec);
        out.extend(tombstone);
    }
}

/// A truncate event (`op: t`): no key (and no key schema), no before/after, as Debezium's
/// `PostgresChangeRecordEmitter` emits it, with the context headers.
pub fn truncate(
    table: &TableSchema,
    source: Struct,
    partition: Arc<OffsetMap>,
    offset: Arc<OffsetMap>,
    context: Option<&ContextHeaders>,
) -> Record {
    let value = envelope(&table.envelope_schema, None, None, source, "t");
    let mut rec = Record::new(
        table.topic.clone(),
        Some(table.envelope_schema.clone()),
        Value::Struct(value),
    )
    .with_source_position(partition, offset);
    if let Some(context) = context {
        context.append_to(&mut rec.headers);
    }
    rec
}

/// Heartbeat key schema `io.debezium.connector.common.ServerNameKey`.
pub fn heartbeat_key_schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        Schema::struct_builder()
            .name("io.debezium.connector.common.ServerNameKey")
            .version(1)
            .field("serverName", Schema::string())
            .build()
    })
}

/// Heartbeat value schema `io.debezium.connector.common.Heartbeat`.
pub fn heartbeat_value_schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        Schema::struct_builder()
            .name("io.debezium.connector.common.Heartbeat")
            .version(1)
            .field("ts_ms", Schema::int64())
            .build()
    })
}

/// A heartbeat record on `topic` carrying `offset`, for Kafka partition 0 and without
/// headers, as Debezium's `HeartbeatImpl.heartbeatRecord` builds it.
pub fn heartbeat(topic: &str, server: &str, partition: Arc<OffsetMap>, offset: Arc<OffsetMap>) -> Record {
    let key = Struct::from_values(heartbeat_key_schema().clone(), vec![Value::String(server.into())])
        .expect("heartbeat key");
    let value = Struct::from_values(
        heartbeat_value_schema().clone(),
        vec![Value::Int64(now_us() / 1000)],
    )
    .expect("heartbeat value");
    let mut record = Record::new(
        topic,
        Some(heartbeat_value_schema().clone()),
        Value::Struct(value),
    )
    .with_key(Some(heartbeat_key_schema().clone()), Value::Struct(key))
    .with_source_position(partition, offset);
    record.kafka_partition = Some(0);
    record
}

/// Logical decoding message key schema `io.debezium.connector.postgresql.MessageKey`.
pub fn message_key_schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        Schema::struct_builder()
            .name("io.debezium.connector.postgresql.MessageKey")
            .version(1)
            .field("prefix", Schema::optional_string())
            .build()
    })
}

/// The value schema of `m` events (`io.debezium.connector.postgresql.MessageValue`);
/// the content's type follows `binary.handling.mode`.
pub fn message_value_schema(binary: crate::config::BinaryMode) -> Schema {
    let block = Schema::struct_builder()
        .name("io.debezium.connector.postgresql.Message")
        .version(1)
        .field("prefix", Schema::optional_string())
        .field("content", crate::types::binary_schema(binary).optional().build())
        .build();
    Schema::struct_builder()
        .name("io.debezium.connector.postgresql.MessageValue")
        .version(1)
        .field("op", Schema::string())
        .field("ts_ms", Schema::optional_int64())
        .field("source", source_schema().clone())
        .field("transaction", transaction_block_schema().clone())
        .field("message", block)
        .build()
}

/// A logical decoding message event (`op: m`) on `topic` (`PREFIX.message`), keyed by its prefix.
#[allow(clippy::too_many_arguments)]
pub fn logical_message(
    topic: &Arc<str>,
    value_schema: &Schema,
    prefix: String,
    content: Value,
    source: Struct,
    transaction: Option<Struct>,
    partition: Arc<OffsetMap>,
    offset: Arc<OffsetMap>,
) -> Record {
    let key = Struct::from_values(message_key_schema().clone(), vec![Value::String(prefix.clone())])
        .expect("message key");
    let block_schema = value_schema
        .field("message")
        .expect("message field")
        .schema()
        .clone();
    let block =
        Struct::from_values(block_schema, vec![Value::String(prefix), content]).expect("message block");
    let value = Struct::from_values(
        value_schema.clone(),
        vec![
            Value::String("m".into()),
            Value::Int64(now_us().div_euclid(1000)),
            Value::Struct(source),
            transaction.map_or(Value::Null, Value::Struct),
            Value::Struct(block),
        ],
    )
    .expect("message value");
    Record::new(topic.clone(), Some(value_schema.clone()), Value::Struct(value))
        .with_key(Some(message_key_schema().clone()), Value::Struct(key))
        .with_source_position(partition, offset)
}

/// The envelope's `transaction` block: `id` is `xid:lsn` of the event, as Debezium's
/// `PostgresTransactionMonitor` writes it.
pub fn transaction_block(id: String, total_order: i64, data_collection_order: i64) -> Struct {
    Struct::from_values(
        transaction_block_schema().clone(),
        vec![
            Value::String(id),
            Value::Int64(total_order),
            Value::Int64(data_collection_order),
        ],
    )
    .expect("transaction block")
}

/// Transaction topic key schema `io.debezium.connector.common.TransactionMetadataKey`.
pub fn transaction_key_schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        Schema::struct_builder()
            .name("io.debezium.connector.common.TransactionMetadataKey")
            .version(1)
            .field("id", Schema::string())
            .build()
    })
}

/// Per-table count in an END record (`event.collection`).
pub fn event_collection_schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        Schema::struct_builder()
            .name("event.collection")
            .version(1)
            .optional()
            .field("data_collection", Schema::string())
            .field("event_count", Schema::int64())
            .build()
    })
}

/// Transaction topic value schema `io.debezium.connector.common.TransactionMetadataValue`.
pub fn transaction_value_schema() -> &'static Schema {
    static S: OnceLock<Schema> = OnceLock::new();
    S.get_or_init(|| {
        Schema::struct_builder()
            .name("io.debezium.connector.common.TransactionMetadataValue")
            .version(1)
            .field("status", Schema::string())
            .field("id", Schema::string())
            .field("event_count", Schema::optional_int64())
            .field(
                "data_collections",
                Schema::array(event_collection_schema().clone())
                    .optional()
                    .build(),
            )
            .field("ts_ms", Schema::int64())
            .build()
    })
}

/// What a transaction-topic record reports.
pub enum TransactionStatus<'a> {
    /// The transaction started.
    Begin,
    /// The transaction ended, with its event count per table (Debezium's order).
    End(&'a [(&'a str, i64)]),
}

/// A BEGIN or END record on the transaction topic.
pub fn transaction_record(
    topic: &Arc<str>,
    id: String,
    status: TransactionStatus<'_>,
    ts_ms: i64,
    partition: Arc<OffsetMap>,
    offset: Arc<OffsetMap>,
) -> Record {
    let key = Struct::from_values(transaction_key_schema().clone(), vec![Value::String(id.clone())])
        .expect("transaction key");
    let (status, count, collections) = match status {
        TransactionStatus::Begin => ("BEGIN", Value::Null, Value::Null),
        TransactionStatus::End(per) => {
            let items = per
                .iter()
                .map(|(c, n)| {
                    Value::Struct(
                        Struct::from_values(
                            event_collection_schema().clone(),
                            vec![Value::String((*c).to_string()), Value::Int64(*n)],
                        )
                        .expect("event collection"),
                    )
                })
                .collect();
            (
                "END",
                Value::Int64(per.iter().map(|(_, n)| n).sum()),
                Value::Array(items),
            )
        }
    };
    let value = Struct::from_values(
        transaction_value_schema().clone(),
        vec![
            Value::String(status.into()),
            Value::String(id),
            count,
            collections,
            Value::Int64(ts_ms),
        ],
    )
    .expect("transaction value");
    Record::new(
        topic.clone(),
        Some(transaction_value_schema().clone()),
        Value::Struct(value),
    )
    .with_key(Some(transaction_key_schema().clone()), Value::Struct(key))
    .with_source_position(partition, offset)
}
