//! `io.debezium.transforms.partitions.PartitionRouting`: picks the Kafka partition from
//! fields of the change event (`after.x`, `source.table`, `change.x` for after-or-before),
//! hashing them as Java's `Object.hashCode` (or Debezium's MurmurHash3) does.

mod hash;

use ferry_core::{
    ConfigDef, ConfigError, ConfigMap, ConfigType, ConnectError, Importance, Record, Schema, Struct,
    Transformation, Value,
};

use crate::envelope::{self, AFTER, BEFORE};
use crate::util;

pub use hash::{java_hash_code, murmur3_hash, HashFunction};

/// Java class name of the transform.
pub const CLASS: &str = "io.debezium.transforms.partitions.PartitionRouting";

const PAYLOAD_FIELDS: &str = "partition.payload.fields";
const TOPIC_PARTITION_NUM: &str = "partition.topic.num";
const HASH_FUNCTION: &str = "partition.hash.function";
const GROUP: &str = "partitions";
const CHANGE: &str = "change";

#[derive(Debug, Clone)]
struct Config {
    fields: Vec<Vec<String>>,
    partitions: i32,
    hash: HashFunction,
}

/// The partition router.
#[derive(Debug, Default)]
pub struct PartitionRouting {
    config: Option<Config>,
}

impl PartitionRouting {
    /// An unconfigured transform.
    pub fn new() -> Self {
        Self::default()
    }
}

fn config_def() -> ConfigDef {
    let key = |name: &str, ty: ConfigType, order: i32, display: &str, doc: &str| {
        util::debezium_field(name, ty, display)
            .group(GROUP, order)
            .importance(Importance::High)
            .doc(doc)
    };
    ConfigDef::new()
        .define(key(
            PAYLOAD_FIELDS,
            ConfigType::List,
            1,
            "List of payload fields to use for compute partition.",
            "Envelope fields whose values choose the partition, dotted for nesting (after.x, source.table); change.x reads after, or before for deletes. Missing fields are skipped.",
        ))
        .define(key(
            TOPIC_PARTITION_NUM,
            ConfigType::Int,
            2,
            "Number of partition configured for topic",
            "Number of partitions of the topic the records go to.",
        ))
        .define(
            key(
                HASH_FUNCTION,
                ConfigType::String,
                3,
                "Hash function",
                "java (Object.hashCode) or murmur (MurmurHash3).",
            )
            .importance(Importance::Low)
            .default_value("java"),
        )
}

impl Config {
    fn parse(props: &ConfigMap) -> Result<Config, ConfigError> {
        let p = config_def().parse(props)?;
        let raw_fields = props.get(PAYLOAD_FIELDS).map(String::as_str);
        if raw_fields.is_none_or(|v| v.trim().is_empty()) {
            return Err(ConfigError::invalid(
                PAYLOAD_FIELDS,
                raw_fields.unwrap_or("null"),
                "A value is required",
            ));
        }
        let items = p.list(PAYLOAD_FIELDS);
        if items.iter().any(String::is_empty) {
            return Err(ConfigError::invalid(
                PAYLOAD_FIELDS,
                format!("[{}]", items.join(", ")),
                "Empty string element(s) not permitted",
            ));
        }
        let raw_num = props.get(TOPIC_PARTITION_NUM).map(|s| s.trim());
        let partitions = match raw_num {
            None | Some("") => {
                return Err(ConfigError::invalid(
                    TOPIC_PARTITION_NUM,
                    raw_num.unwrap_or("null"),
                    "A value is required",
                ))
            }
            Some(n) => match n.parse::<i32>() {
                Ok(n) if n > 0 => n,
                _ => {
                    return Err(ConfigError::invalid(
                        TOPIC_PARTITION_NUM,
                        n,
                        "A positive, non-zero integer value is expected",
                    ))
                }
            },
        };
        Ok(Config {
            fields: items
                .iter()
                .map(|f| f.split('.').map(|s| s.trim().to_owned()).collect())
                .collect(),
            partitions,
            hash: HashFunction::parse(p.string(HASH_FUNCTION)),
        })
    }
}

/// Why a configured field yields no value.
enum Lookup<'a> {
    Found(&'a Value, &'a Schema),
    Absent,
}

/// The value of a dotted path; `Err` where upstream fails (a null struct on the way).
fn lookup<'a>(envelope: &'a Struct, path: &[String]) -> Result<Lookup<'a>, ConnectError> {
    let mut current = envelope;
    for (i, name) in path[..path.len() - 1].iter().enumerate() {
        let name = if name == CHANGE {
            let op = util::get_string(envelope, envelope::OP)?;
            if op == Some("d") {
                BEFORE
            } else {
                AFTER
            }
        } else {
            name.as_str()
        };
        match util::get_struct(current, name) {
            Ok(Some(s)) => current = s,
            Ok(None) => {
                return Err(ConnectError::data(format!(
                    "Unprocessable message: {} is null, so {} cannot be read",
                    path[..=i].join("."),
                    path.join(".")
                )))
            }
            Err(_) => return Ok(Lookup::Absent),
        }
    }
    let last = &path[path.len() - 1];
    let Some(field) = current.schema().field(last) else {
        return Ok(Lookup::Absent);
    };
    match util::get(current, last)? {
        Value::Null => Ok(Lookup::Absent),
        v => Ok(Lookup::Found(v, field.schema())),
    }
}

impl Transformation for PartitionRouting {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        self.config = Some(Config::parse(config)?);
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let cfg = self
            .config
            .as_ref()
            .ok_or_else(|| ConnectError::config("PartitionRouting used before configure"))?;
        if record.value.is_null() || !envelope::is_envelope(record.value_schema.as_ref()) {
            return Ok(Some(record));
        }
        let env = util::require_struct(&record.value, "Partition routing")?;
        if matches!(
            env.schema()
                .field(envelope::OP)
                .map(|_| util::get_string(env, envelope::OP)),
            Some(Ok(Some("t" | "m")))
        ) {
            return Ok(Some(record));
        }
        let mut total: i32 = 0;
        let mut found = false;
        for path in &cfg.fields {
            if let Lookup::Found(v, schema) = lookup(env, path)? {
                total = total.wrapping_add(cfg.hash.hash(v, Some(schema)));
                found = true;
            }
        }
        if !found {
            tracing::trace!("None of the configured fields found on the record; skipping it");
            return Ok(Some(record));
        }
        let mut normalized = total & i32::MAX;
        if normalized == i32::MAX {
            normalized = 0;
        }
        record.kafka_partition = Some(normalized % cfg.partitions);
        Ok(Some(record))
    }
}
