//! Builds Debezium PostgreSQL change events as ferry-core values.
#![allow(dead_code)]

use ferry_core::{ConfigMap, Record, Schema, SchemaType, Struct, Value};

pub const PREFIX: &str = "dbserver1";
pub const TS_MS: i64 = 1_700_000_000_123;

pub fn config(pairs: &[(&str, &str)]) -> ConfigMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn named(ty: SchemaType, name: &str, optional: bool) -> Schema {
    Schema::builder(ty)
        .name(name)
        .set_optional(optional)
        .version(1)
        .build()
}

pub fn uuid() -> Schema {
    named(SchemaType::String, "io.debezium.data.Uuid", false)
}
pub fn json() -> Schema {
    named(SchemaType::String, "io.debezium.data.Json", true)
}
pub fn zoned_timestamp() -> Schema {
    named(SchemaType::String, "io.debezium.time.ZonedTimestamp", true)
}
pub fn micro_timestamp() -> Schema {
    named(SchemaType::Int64, "io.debezium.time.MicroTimestamp", true)
}

pub fn source_schema() -> Schema {
    Schema::struct_builder()
        .name("io.debezium.connector.postgresql.Source")
        .field("version", Schema::string())
        .field("connector", Schema::string())
        .field("name", Schema::string())
        .field("ts_ms", Schema::int64())
        .field(
            "snapshot",
            Schema::builder(SchemaType::String)
                .name("io.debezium.data.Enum")
                .version(1)
                .parameter(
                    "allowed",
                    "true,first,first_in_data_collection,last_in_data_collection,last,false,incremental",
                )
                .default_value(Value::from("false"))
                .optional()
                .build(),
        )
        .field("db", Schema::string())
        .field("sequence", Schema::optional_string())
        .field("ts_us", Schema::optional_int64())
        .field("ts_ns", Schema::optional_int64())
        .field("schema", Schema::string())
        .field("table", Schema::string())
        .field("txId", Schema::optional_int64())
        .field("lsn", Schema::optional_int64())
        .field("xmin", Schema::optional_int64())
        .build()
}

pub fn transaction_schema() -> Schema {
    Schema::struct_builder()
        .name("event.block")
        .version(1)
        .optional()
        .field("id", Schema::string())
        .field("total_order", Schema::int64())
        .field("data_collection_order", Schema::int64())
        .build()
}

/// A table's schemas: row (`PREFIX.public.TABLE.Value`), key and envelope.
pub struct Table {
    pub name: String,
    pub row: Schema,
    pub key: Schema,
    pub envelope: Schema,
    pub key_column: String,
}

impl Table {
    /// `columns` in order; the first is the primary key.
    pub fn new(table: &str, columns: Vec<(&str, Schema)>) -> Self {
        let base = format!("{PREFIX}.public.{table}");
        let mut row = Schema::struct_builder().name(format!("{base}.Value")).optional();
        for (n, s) in &columns {
            row = row.field(*n, s.clone());
        }
        let row = row.build();
        let (key_column, key_type) = columns[0].clone();
        let key = Schema::struct_builder()
            .name(format!("{base}.Key"))
            .field(key_column, key_type)
            .build();
        let envelope = Schema::struct_builder()
            .name(format!("{base}.Envelope"))
            .version(2)
            .field("before", row.clone())
            .field("after", row.clone())
            .field("source", source_schema())
            .field("op", Schema::string())
            .field("ts_ms", Schema::optional_int64())
            .field("ts_us", Schema::optional_int64())
            .field("ts_ns", Schema::optional_int64())
            .field("transaction", transaction_schema())
            .build();
        Table {
            name: base,
            row,
            key,
            envelope,
            key_column: key_column.to_string(),
        }
    }

    pub fn row(&self, values: Vec<Value>) -> Struct {
        Struct::from_values(self.row.clone(), values).unwrap()
    }

    pub fn source(&self) -> Struct {
        let mut s = Struct::new(source_schema());
        s.put("version", "3.2.0.Final").unwrap();
        s.put("connector", "postgresql").unwrap();
        s.put("name", PREFIX).unwrap();
        s.put("ts_ms", Value::Int64(TS_MS - 23)).unwrap();
        s.put("snapshot", "false").unwrap();
        s.put("db", "inventory").unwrap();
        s.put("schema", "public").unwrap();
        s.put("table", self.name.rsplit('.').next().unwrap()).unwrap();
        s.put("txId", Value::Int64(771)).unwrap();
        s.put("lsn", Value::Int64(24023128)).unwrap();
        s
    }

    /// A change event record with key from the first column of the present row.
    pub fn event(&self, op: &str, before: Option<Struct>, after: Option<Struct>) -> Record {
        let mut env = Struct::new(self.envelope.clone());
        let key_value = after
            .as_ref()
            .or(before.as_ref())
            .map(|r| r.get(&self.key_column).unwrap().clone())
            .unwrap_or(Value::Null);
        env.put("before", Value::from(before)).unwrap();
        env.put("after", Value::from(after)).unwrap();
        env.put("source", self.source()).unwrap();
        env.put("op", op).unwrap();
        env.put("ts_ms", Value::Int64(TS_MS)).unwrap();
        env.put("ts_us", Value::Int64(TS_MS * 1000)).unwrap();
        env.put("ts_ns", Value::Int64(TS_MS * 1_000_000)).unwrap();
        let rec = Record::new(self.name.clone(), Some(self.envelope.clone()), Value::Struct(env))
            .with_timestamp(Some(TS_MS + 5));
        if key_value.is_null() {
            return rec;
        }
        let mut key = Struct::new(self.key.clone());
        key.put(&self.key_column, key_value).unwrap();
        rec.with_key(Some(self.key.clone()), Value::Struct(key))
    }

    /// The tombstone following a delete.
    pub fn tombstone(&self, key_value: Value) -> Record {
        let mut key = Struct::new(self.key.clone());
        key.put(&self.key_column, key_value).unwrap();
        Record::new(self.name.clone(), None, Value::Null).with_key(Some(self.key.clone()), Value::Struct(key))
    }
}

pub fn s(v: &str) -> Value {
    Value::from(v)
}

/// The four `__debezium.context.*` headers Debezium 3.6's PostgreSQL connector puts on
/// every change event (and its tombstone), in its order.
pub const CONTEXT_HEADERS: [&str; 4] = [
    "__debezium.context.connectorLogicalName",
    "__debezium.context.taskId",
    "__debezium.context.connectorName",
    "__debezium.context.runId",
];

/// `record` carrying the context headers, as the connector emits it.
pub fn with_context_headers(mut record: Record) -> Record {
    let values = [PREFIX, "0", "postgresql", "019a0000-0000-7000-8000-000000000000"];
    for (key, value) in CONTEXT_HEADERS.iter().zip(values) {
        record.headers.add_string(*key, value);
    }
    record
}

/// The header names of `record`, in order.
pub fn header_keys(record: &Record) -> Vec<&str> {
    record.headers.iter().map(|h| h.key.as_str()).collect()
}

/// The PostgreSQL connector's logical decoding message event (`op: m` on `PREFIX.message`),
/// with the content as bytes (`binary.handling.mode=bytes`), as Debezium 3.6 emits it.
pub fn message_event(prefix: &str, content: &[u8]) -> Record {
    let block_schema = Schema::struct_builder()
        .name("io.debezium.connector.postgresql.Message")
        .version(1)
        .field("prefix", Schema::optional_string())
        .field("content", Schema::optional_bytes())
        .build();
    let value_schema = Schema::struct_builder()
        .name("io.debezium.connector.postgresql.MessageValue")
        .version(1)
        .field("op", Schema::string())
        .field("ts_ms", Schema::optional_int64())
        .field("source", source_schema())
        .field("transaction", transaction_schema())
        .field("message", block_schema.clone())
        .build();
    let key_schema = Schema::struct_builder()
        .name("io.debezium.connector.postgresql.MessageKey")
        .version(1)
        .field("prefix", Schema::optional_string())
        .build();
    let mut source = Table::new("outbox", vec![("id", Schema::int32())]).source();
    source.put("schema", "").unwrap();
    source.put("table", "").unwrap();
    let block = Struct::from_values(
        block_schema,
        vec![s(prefix), Value::Bytes(content.to_vec().into())],
    )
    .unwrap();
    let value = Struct::from_values(
        value_schema.clone(),
        vec![
            s("m"),
            Value::Int64(TS_MS),
            Value::Struct(source),
            Value::Null,
            Value::Struct(block),
        ],
    )
    .unwrap();
    let key = Struct::from_values(key_schema.clone(), vec![s(prefix)]).unwrap();
    Record::new(
        format!("{PREFIX}.message"),
        Some(value_schema),
        Value::Struct(value),
    )
    .with_key(Some(key_schema), Value::Struct(key))
    .with_timestamp(Some(TS_MS + 5))
}
