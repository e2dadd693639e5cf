//! `io.debezium.connector.postgresql.transforms.timescaledb.TimescaleDb`: change events of
//! TimescaleDB chunks (tables in `schema.list`, `_timescaledb_internal` by default) are
//! routed to their hypertable, or to the continuous aggregate it materialises, as
//! Debezium 3.6 does: `source.schema` and `source.table` name the target, the topic
//! becomes `<target.topic.prefix>.<schema>.<table>`, and headers name the chunk
//! (`__debezium_timescaledb_chunk_table`, `..._chunk_schema`) and, for an aggregate, its
//! materialised hypertable (`..._hypertable_table`, `..._hypertable_schema`).
//!
//! The chunk-to-hypertable map comes from `_timescaledb_catalog` over the transform's
//! `database.*` settings, read again whenever a chunk is not in it (new chunks appear as
//! time goes on). Other records pass unchanged; a chunk the catalog does not know is
//! logged and passes unchanged; a catalog that cannot be read fails the record.

use std::collections::HashMap;
use std::sync::Arc;

use ferry_core::config::Width;
use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConnectError, Importance, Record,
    Transformation, Value,
};
use tracing::warn;

use crate::config::PostgresConfig;

/// Java class name of the transform.
pub const CLASS: &str = "io.debezium.connector.postgresql.transforms.timescaledb.TimescaleDb";

const SCHEMA_LIST: &str = "schema.list";
const TARGET_TOPIC_PREFIX: &str = "target.topic.prefix";
const DEFAULT_SCHEMA: &str = "_timescaledb_internal";

/// Header naming the chunk's table.
pub const HEADER_CHUNK_TABLE: &str = "__debezium_timescaledb_chunk_table";
/// Header naming the chunk's schema.
pub const HEADER_CHUNK_SCHEMA: &str = "__debezium_timescaledb_chunk_schema";
/// Header naming the materialised hypertable's table (continuous aggregates only).
pub const HEADER_HYPERTABLE_TABLE: &str = "__debezium_timescaledb_hypertable_table";
/// Header naming the materialised hypertable's schema (continuous aggregates only).
pub const HEADER_HYPERTABLE_SCHEMA: &str = "__debezium_timescaledb_hypertable_schema";

const QUERY_CHUNK_TO_HYPERTABLE: &str = "SELECT c.schema_name::text, c.table_name::text, ht.schema_name::text, ht.table_name::text \
     FROM _timescaledb_catalog.chunk c LEFT JOIN _timescaledb_catalog.hypertable ht ON c.hypertable_id = ht.id";
const QUERY_HYPERTABLE_TO_AGGREGATE: &str = "SELECT ht.schema_name::text, ht.table_name::text, agg.user_view_schema::text, agg.user_view_name::text \
     FROM _timescaledb_catalog.continuous_agg agg LEFT JOIN _timescaledb_catalog.hypertable ht ON agg.mat_hypertable_id = ht.id";

type TableName = (String, String);

/// The catalog's maps.
#[derive(Debug, Default)]
struct Catalog {
    chunk_to_hypertable: HashMap<TableName, TableName>,
    hypertable_to_aggregate: HashMap<TableName, TableName>,
}

/// The TimescaleDB router.
#[derive(Debug, Default)]
pub struct TimescaleDb {
    schemas: Vec<String>,
    topic_prefix: String,
    connection: Option<Arc<PostgresConfig>>,
    catalog: Catalog,
}

fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(SCHEMA_LIST, ConfigType::List)
                .default_value(DEFAULT_SCHEMA)
                .display_name("The list of TimescaleDB data schemas")
                .width(Width::Medium)
                .importance(Importance::High)
                .doc("Comma-separated list schema names that contain TimescaleDB data tables, defaults to: '_timescaledb_internal'"),
        )
        .define(
            ConfigKey::new(TARGET_TOPIC_PREFIX, ConfigType::String)
                .default_value("timescaledb")
                .display_name("The prefix of TimescaleDB topic names")
                .width(Width::Medium)
                .importance(Importance::Medium)
                .doc("The namespace (prefix) of topics where TimescaleDB events will be routed, defaults to: '_timescaledb_internal'"),
        )
}

/// The connection settings: the transform's `database.*` keys (and `driver.*` ones, as
/// Debezium merges them) read as the connector reads its own.
fn connection(config: &ConfigMap) -> Result<PostgresConfig, ConfigError> {
    let mut m = ConfigMap::new();
    for (k, v) in config {
        if k.starts_with("database.") {
            m.insert(k.clone(), v.clone());
        } else if let Some(rest) = k.strip_prefix("driver.") {
            m.insert(format!("database.{rest}"), v.clone());
        }
    }
    // Settings the connector requires that play no part in a catalog connection.
    m.entry("topic.prefix".to_string())
        .or_insert_with(|| "timescaledb".to_string());
    PostgresConfig::parse(&m).map_err(|errs| {
        let first = errs.into_iter().next();
        match first {
            Some(e) => e,
            None => ConfigError::invalid("database.hostname", "null", "the connection settings are invalid"),
        }
    })
}

/// Reads both maps, on a thread of its own (the transform is called from async code and
/// may not block a runtime's worker on a nested runtime).
fn load_catalog(cfg: Arc<PostgresConfig>) -> Result<Catalog, String> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async move {
            let client = crate::task::connect::connect_meta(&cfg)
                .await
                .map_err(|e| e.to_string())?;
            let pairs = |rows: Vec<tokio_postgres::Row>| -> HashMap<TableName, TableName> {
                rows.iter()
                    .map(|r| {
                        let s = |i: usize| r.get::<_, Option<String>>(i).unwrap_or_default();
                        ((s(0), s(1)), (s(2), s(3)))
                    })
                    .collect()
            };
            let chunks = client
                .query(QUERY_CHUNK_TO_HYPERTABLE, &[])
                .await
                .map_err(|e| e.to_string())?;
            let aggregates = client
                .query(QUERY_HYPERTABLE_TO_AGGREGATE, &[])
                .await
                .map_err(|e| e.to_string())?;
            Ok(Catalog {
                chunk_to_hypertable: pairs(chunks),
                hypertable_to_aggregate: pairs(aggregates),
            })
        })
    })
    .join()
    .map_err(|_| "the catalog reader panicked".to_string())?
}

impl Transformation for TimescaleDb {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let parsed = config_def().parse(config)?;
        let mut schemas: Vec<String> = parsed.list(SCHEMA_LIST).to_vec();
        if schemas.is_empty() {
            schemas.push(DEFAULT_SCHEMA.to_string());
        }
        self.schemas = schemas;
        self.topic_prefix = format!("{}.", parsed.string(TARGET_TOPIC_PREFIX).unwrap_or_default());
        // As Debezium: the connection is opened when a chunk first needs looking up.
        self.connection = Some(Arc::new(connection(config)?));
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let envelope = record
            .value_schema
            .as_ref()
            .and_then(|s| s.name())
            .is_some_and(|n| n.ends_with(".Envelope"));
        let Value::Struct(value) = &mut record.value else {
            return Ok(Some(record));
        };
        if !envelope {
            return Ok(Some(record));
        }
        let Some(Value::Struct(source)) = value.get("source") else {
            return Ok(Some(record));
        };
        let (Some(Value::String(schema)), Some(Value::String(table))) =
            (source.get("schema"), source.get("table"))
        else {
            return Ok(Some(record));
        };
        if !self.schemas.iter().any(|s| s == schema.as_str()) {
            return Ok(Some(record));
        }
        let chunk: TableName = (schema.to_string(), table.to_string());
        if !self.catalog.chunk_to_hypertable.contains_key(&chunk) {
            let cfg = self
                .connection
                .clone()
                .ok_or_else(|| ConnectError::fatal("the TimescaleDb transform is not configured"))?;
            self.catalog = load_catalog(cfg)
                .map_err(|e| ConnectError::fatal(format!("Failed to read TimescaleDB metadata: {e}")))?;
        }
        let Some(hypertable) = self.catalog.chunk_to_hypertable.get(&chunk).cloned() else {
            warn!("Unable to find hypertable for chunk '{}.{}'", chunk.0, chunk.1);
            return Ok(Some(record));
        };
        let aggregate = self.catalog.hypertable_to_aggregate.get(&hypertable).cloned();
        let target = aggregate.clone().unwrap_or_else(|| hypertable.clone());
        let mut source = source.clone();
        let _ = source.put("schema", target.0.as_str());
        let _ = source.put("table", target.1.as_str());
        let _ = value.put("source", Value::Struct(source));
        record.topic = format!("{}{}.{}", self.topic_prefix, target.0, target.1).into();
        record.headers.add_string(HEADER_CHUNK_TABLE, chunk.1);
        record.headers.add_string(HEADER_CHUNK_SCHEMA, chunk.0);
        if aggregate.is_some() {
            record.headers.add_string(HEADER_HYPERTABLE_TABLE, hypertable.1);
            record.headers.add_string(HEADER_HYPERTABLE_SCHEMA, hypertable.0);
        }
        Ok(Some(record))
    }
}
