//! `io.debezium.transforms.EnforceRecordSize`: a change event whose estimated size (times
//! `compression.ratio`) exceeds `max.bytes` has the string and bytes columns of its
//! `before` and `after` longer than `min.field.size` truncated, in proportion to their
//! sizes, so the event fits. The size estimate is Debezium's
//! `ApproximateStructSizeCalculator` (fixed costs per struct, field, string, array, map,
//! 100 bytes per partition, offset and header entry), so the same events are truncated by
//! the same amounts.

use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConnectError, Importance, Record,
};
use ferry_core::{Position, Schema, SchemaType, Struct, Value};

/// Java class name of the transform.
pub const CLASS: &str = "io.debezium.transforms.EnforceRecordSize";

const MAX_BYTES: &str = "max.bytes";
const COMPRESSION_RATIO: &str = "compression.ratio";
const MIN_FIELD_SIZE: &str = "min.field.size";

const EMPTY_STRUCT_SIZE: u64 = 56;
const EMPTY_STRING_SIZE: u64 = 56;
const EMPTY_BYTES_SIZE: u64 = 24;
const EMPTY_ARRAY_SIZE: u64 = 64;
const EMPTY_MAP_SIZE: u64 = 88;
const EMPTY_PRIMITIVE: u64 = 24;
const REFERENCE_SIZE: u64 = 8;

/// The record size enforcer.
#[derive(Debug)]
pub struct EnforceRecordSize {
    max_bytes: u64,
    compression_ratio: f64,
    min_field_size: usize,
}

impl Default for EnforceRecordSize {
    fn default() -> Self {
        EnforceRecordSize {
            max_bytes: u64::MAX,
            compression_ratio: 1.0,
            min_field_size: 25_000,
        }
    }
}

fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(MAX_BYTES, ConfigType::Int)
                .importance(Importance::High)
                .doc("The maximum record size in bytes. Records exceeding this size will have their string and bytes columns truncated proportionally to fit within this limit."),
        )
        .define(
            ConfigKey::new(COMPRESSION_RATIO, ConfigType::Double)
                .default_value("1.0")
                .importance(Importance::Medium)
                .doc("Ratio applied to the estimated record size before it is compared with max.bytes, for serializations that compress (0.5 for one that halves the size). Default is 1.0 (no adjustment)."),
        )
        .define(
            ConfigKey::new(MIN_FIELD_SIZE, ConfigType::Int)
                .default_value("25000")
                .importance(Importance::Medium)
                .doc("Fields with a size at or below this value (in bytes) will not be truncated. Only fields larger than this threshold are eligible for proportional truncation. Default is 25000 (25KB)."),
        )
}

/// Debezium's estimate of a struct's size on the heap.
fn struct_size(s: &Struct) -> u64 {
    let mut size = EMPTY_STRUCT_SIZE;
    for (field, value) in s.schema().fields().iter().zip(s.values()) {
        size += REFERENCE_SIZE + value_size(field.schema(), value);
    }
    size
}

fn value_size(schema: &Schema, value: &Value) -> u64 {
    match schema.schema_type() {
        SchemaType::Boolean
        | SchemaType::Int8
        | SchemaType::Int16
        | SchemaType::Int32
        | SchemaType::Int64
        | SchemaType::Float32
        | SchemaType::Float64 => EMPTY_PRIMITIVE,
        SchemaType::String => match value {
            Value::String(s) => EMPTY_STRING_SIZE + s.len() as u64,
            _ => 0,
        },
        SchemaType::Bytes => match value {
            Value::Bytes(b) => EMPTY_BYTES_SIZE + b.len() as u64,
            // BigDecimal.unscaledValue().toByteArray(): minimal two's complement.
            Value::Decimal(d) => {
                let (unscaled, _) = d.as_bigint_and_exponent();
                EMPTY_BYTES_SIZE + unscaled.to_signed_bytes_be().len() as u64
            }
            _ => 0,
        },
        SchemaType::Struct => match value {
            Value::Struct(s) => struct_size(s),
            _ => 0,
        },
        SchemaType::Array => match (value, schema.value_schema()) {
            (Value::Array(items), Some(element)) => {
                EMPTY_ARRAY_SIZE
                    + items
                        .iter()
                        .map(|v| REFERENCE_SIZE + value_size(element, v))
                        .sum::<u64>()
            }
            _ => 0,
        },
        SchemaType::Map => match (value, schema.key_schema(), schema.value_schema()) {
            (Value::Map(entries), Some(ks), Some(vs)) => {
                EMPTY_MAP_SIZE
                    + entries
                        .iter()
                        .map(|(k, v)| 2 * REFERENCE_SIZE + value_size(ks, k) + value_size(vs, v))
                        .sum::<u64>()
            }
            _ => 0,
        },
    }
}

/// `ApproximateStructSizeCalculator.getApproximateRecordSize`.
fn approximate_record_size(r: &Record) -> u64 {
    let (partition, offset) = match &r.position {
        Position::Source { partition, offset } => (partition.len(), offset.len()),
        _ => (0, 0),
    };
    let mut size = (partition as u64 + offset as u64 + r.headers.len() as u64) * 100 + 8;
    for v in [&r.key, &r.value] {
        if let Value::Struct(s) = v {
            size += struct_size(s);
        }
    }
    size + r.topic.len() as u64
}

/// A `before` or `after` column eligible for truncation, with its size (UTF-16 units
/// for a string, as `String.length()` counts them; bytes for a byte array).
struct Truncatable {
    index: usize,
    size: u64,
}

impl EnforceRecordSize {
    fn truncatable(&self, row: &Struct) -> Vec<Truncatable> {
        row.schema()
            .fields()
            .iter()
            .zip(row.values())
            .filter_map(|(field, value)| {
                let size = match (field.schema().schema_type(), value) {
                    (SchemaType::String, Value::String(s)) => s.encode_utf16().count(),
                    (SchemaType::Bytes, Value::Bytes(b)) => b.len(),
                    _ => return None,
                };
                (size > self.min_field_size).then_some(Truncatable {
                    index: field.index(),
                    size: size as u64,
                })
            })
            .collect()
    }
}

/// Cuts `fields` of `row` by `excess`, each in proportion to its size.
fn truncate(row: &mut Struct, fields: &[Truncatable], total: u64, excess: u64) {
    if fields.is_empty() || total == 0 || excess == 0 {
        return;
    }
    for f in fields {
        let remove = (f.size as f64 / total as f64 * excess as f64).ceil() as u64;
        let keep = f.size.saturating_sub(remove) as usize;
        let cut = match row.get_index(f.index) {
            Some(Value::String(s)) => {
                let units: Vec<u16> = s.encode_utf16().collect();
                (units.len() > keep).then(|| Value::String(String::from_utf16_lossy(&units[..keep])))
            }
            Some(Value::Bytes(b)) => (b.len() > keep).then(|| Value::Bytes(b.slice(..keep))),
            _ => None,
        };
        if let Some(v) = cut {
            row.put_unchecked(f.index, v);
        }
    }
}

impl ferry_core::Transformation for EnforceRecordSize {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let parsed = config_def().parse(config)?;
        // Debezium's range checks, after the types are parsed (ConfigException(name, value, reason)).
        let max = parsed.int(MAX_BYTES).unwrap_or_default();
        if max <= 0 {
            return Err(ConfigError::invalid(MAX_BYTES, max, "Must be a positive integer"));
        }
        let ratio = parsed.double(COMPRESSION_RATIO).unwrap_or(1.0);
        if ratio <= 0.0 {
            let shown = ferry_core::java::number::double_to_string(ratio);
            return Err(ConfigError::invalid(
                COMPRESSION_RATIO,
                shown,
                "Must be a positive number",
            ));
        }
        let min = parsed.int(MIN_FIELD_SIZE).unwrap_or(25_000);
        if min < 0 {
            return Err(ConfigError::invalid(MIN_FIELD_SIZE, min, "Must be non-negative"));
        }
        self.max_bytes = max as u64;
        self.compression_ratio = ratio;
        self.min_field_size = min as usize;
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        if !matches!(record.position, Position::Source { .. }) {
            return Ok(Some(record));
        }
        let Value::Struct(envelope) = &record.value else {
            return Ok(Some(record));
        };
        let current = (approximate_record_size(&record) as f64 * self.compression_ratio).ceil() as u64;
        if current <= self.max_bytes {
            return Ok(Some(record));
        }
        let excess = current - self.max_bytes;
        let row_of = |name: &str| match envelope.get(name) {
            Some(Value::Struct(row)) if envelope.schema().field(name).is_some() => Some(row),
            _ => None,
        };
        let before = row_of("before").map(|r| self.truncatable(r)).unwrap_or_default();
        let after = row_of("after").map(|r| self.truncatable(r)).unwrap_or_default();
        let before_bytes: u64 = before.iter().map(|f| f.size).sum();
        let after_bytes: u64 = after.iter().map(|f| f.size).sum();
        let total = before_bytes + after_bytes;
        if total == 0 {
            return Ok(Some(record));
        }
        let before_excess = (before_bytes as f64 / total as f64 * excess as f64).ceil() as u64;
        let after_excess = (after_bytes as f64 / total as f64 * excess as f64).ceil() as u64;
        if let Value::Struct(envelope) = &mut record.value {
            for (name, fields, bytes, cut) in [
                ("before", &before, before_bytes, before_excess),
                ("after", &after, after_bytes, after_excess),
            ] {
                let Some(index) = envelope.schema().field(name).map(|f| f.index()) else {
                    continue;
                };
                if let Some(Value::Struct(row)) = envelope.get_index(index) {
                    let mut row = row.clone();
                    truncate(&mut row, fields, bytes, cut);
                    envelope.put_unchecked(index, Value::Struct(row));
                }
            }
        }
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::Transformation;
    use std::sync::Arc;

    fn row_schema() -> Schema {
        Schema::struct_builder()
            .field("id", Schema::builder(SchemaType::Int32).build())
            .field("note", Schema::builder(SchemaType::String).optional().build())
            .optional()
            .build()
    }

    fn record(note: &str) -> Record {
        let row = row_schema();
        let envelope = Schema::struct_builder()
            .field("before", row.clone())
            .field("after", row.clone())
            .field("op", Schema::builder(SchemaType::String).build())
            .build();
        let after = Struct::from_values(row, vec![Value::Int32(1), Value::String(note.into())]).unwrap();
        let value = Struct::from_values(
            envelope.clone(),
            vec![Value::Null, Value::Struct(after), Value::String("c".into())],
        )
        .unwrap();
        let mut r = Record::new("srv.public.t", Some(envelope), Value::Struct(value));
        r.position = Position::Source {
            partition: Arc::new([("server".to_string(), "srv".into())].into_iter().collect()),
            offset: Arc::new([("lsn".to_string(), 1.into())].into_iter().collect()),
        };
        r
    }

    fn note(r: &Record) -> String {
        let Value::Struct(v) = &r.value else { panic!() };
        let Some(Value::Struct(after)) = v.get("after") else {
            panic!()
        };
        after.get("note").and_then(Value::as_str).unwrap().to_string()
    }

    fn configured(settings: &[(&str, &str)]) -> EnforceRecordSize {
        let mut t = EnforceRecordSize::default();
        let cfg: ConfigMap = settings
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        t.configure(&cfg).unwrap();
        t
    }

    /// Types as Kafka's ConfigDef parses them, then Debezium's range checks, each message
    /// as Connect words it.
    #[test]
    fn bad_settings_are_refused_with_connects_messages() {
        let refused = |settings: &[(&str, &str)]| {
            let cfg: ConfigMap = settings
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            EnforceRecordSize::default()
                .configure(&cfg)
                .unwrap_err()
                .message()
                .to_owned()
        };
        assert_eq!(
            refused(&[]),
            "Missing required configuration \"max.bytes\" which has no default value."
        );
        assert_eq!(
            refused(&[("max.bytes", "lots")]),
            "Invalid value lots for configuration max.bytes: Not a number of type INT"
        );
        assert_eq!(
            refused(&[("max.bytes", "0")]),
            "Invalid value 0 for configuration max.bytes: Must be a positive integer"
        );
        assert_eq!(
            refused(&[("max.bytes", "10"), ("compression.ratio", "-1")]),
            "Invalid value -1.0 for configuration compression.ratio: Must be a positive number"
        );
        assert_eq!(
            refused(&[("max.bytes", "10"), ("min.field.size", "-5")]),
            "Invalid value -5 for configuration min.field.size: Must be non-negative"
        );
    }

    #[test]
    fn estimates_as_debezium_and_truncates_what_exceeds() {
        let r = record(&"x".repeat(1000));
        // 2 position entries * 100 + 8 + topic 12 + envelope: 56 + 3*8 + (after: 56 + 2*8 +
        // 24 + 56 + 1000) + (op: 56 + 1) = 1509.
        assert_eq!(approximate_record_size(&r), 1509);
        let mut t = configured(&[("max.bytes", "1309"), ("min.field.size", "100")]);
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(
            note(&out).len(),
            800,
            "200 bytes over: the only long column gives them up"
        );
        // Under the limit, or columns at most min.field.size long: unchanged.
        let mut t = configured(&[("max.bytes", "2000"), ("min.field.size", "100")]);
        assert_eq!(
            note(&t.apply(record(&"x".repeat(1000))).unwrap().unwrap()).len(),
            1000
        );
        let mut t = configured(&[("max.bytes", "100")]);
        assert_eq!(
            note(&t.apply(record(&"x".repeat(1000))).unwrap().unwrap()).len(),
            1000
        );
        // compression.ratio scales the estimate.
        let mut t = configured(&[
            ("max.bytes", "1309"),
            ("min.field.size", "100"),
            ("compression.ratio", "0.5"),
        ]);
        assert_eq!(
            note(&t.apply(record(&"x".repeat(1000))).unwrap().unwrap()).len(),
            1000
        );
    }
}
