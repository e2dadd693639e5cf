//! `add.fields` / `add.headers` entries: `field`, `struct.field`, optional `:alias`.

use ferry_core::java;
use ferry_core::{ConfigError, DataError, Header, Schema, SchemaType, Struct, Value};

use crate::envelope::{OP, SOURCE, TRANSACTION};
use crate::util::{self, copy_schema_basics};

/// One metadata field copied from the envelope into the value or the headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldReference {
    /// Envelope struct holding the field (`source`, `transaction`), `None` for top-level fields.
    pub parent: Option<String>,
    /// Field name inside the parent.
    pub field: String,
    /// Name of the added field or header.
    pub new_name: String,
}

fn default_parent(field: &str) -> Option<&'static str> {
    match field {
        "id" | "total_order" | "data_collection_order" => Some(TRANSACTION),
        "op" | "ts_ms" | "ts_us" | "ts_ns" => None,
        "updateDescription" => Some("updateDescription"),
        _ => Some(SOURCE),
    }
}

impl FieldReference {
    /// Parses one entry with the given name prefix.
    pub fn parse(prefix: &str, spec: &str, key: &str) -> Result<Self, ConfigError> {
        let mut parts: Vec<&str> = spec.split(':').collect();
        while parts.len() > 1 && parts.last() == Some(&"") {
            parts.pop();
        }
        let path: Vec<&str> = parts[0].split('.').collect();
        let field = if path.len() == 1 { path[0] } else { path[1] }.to_owned();
        let parent = if path.len() == 1 {
            default_parent(&field).map(str::to_owned)
        } else {
            Some(path[0].to_owned())
        };
        let new_name = match parts.len() {
            1 if path.len() == 1 => format!("{prefix}{field}"),
            1 => format!("{prefix}{}_{field}", path[0]),
            2 => format!("{prefix}{}", parts[1]),
            _ => {
                return Err(ConfigError::invalid(
                    key,
                    spec,
                    format!("Unexpected field name: {spec}"),
                ))
            }
        };
        Ok(FieldReference {
            parent,
            field,
            new_name,
        })
    }

    /// Parses a comma-separated list.
    pub fn parse_list(prefix: &str, items: &[String], key: &str) -> Result<Vec<Self>, ConfigError> {
        items.iter().map(|s| Self::parse(prefix, s.trim(), key)).collect()
    }

    /// Schema of the added field (optional copy of the source field), `None` when absent.
    pub fn schema(&self, envelope: &Schema) -> Result<Option<Schema>, DataError> {
        let parent = match &self.parent {
            None => envelope,
            Some(p) => envelope
                .field(p)
                .ok_or_else(|| DataError::new(format!("{p} is not a valid field name")))?
                .schema(),
        };
        if parent.schema_type() != SchemaType::Struct {
            return Err(DataError::new("Cannot look up fields on non-struct type"));
        }
        let found = parent.field(&self.field).or_else(|| envelope.field(&self.field));
        Ok(found.map(|f| optional_copy(f.schema())))
    }

    /// Value of the field in an envelope (null when its parent struct is null).
    pub fn value(&self, envelope: &Struct) -> Result<Value, DataError> {
        let parent = match &self.parent {
            None => envelope,
            Some(p) => match util::get_raw(envelope, p)? {
                Value::Struct(s) => s,
                Value::Null => return Ok(Value::Null),
                other => {
                    return Err(DataError::new(format!(
                        "class {} cannot be cast to class org.apache.kafka.connect.data.Struct",
                        java::class_name(other)
                    )))
                }
            },
        };
        let v = if parent.schema().field(&self.field).is_some() {
            util::get_raw(parent, &self.field)?
        } else {
            util::get_raw(envelope, &self.field)?
        };
        Ok(v.clone())
    }
}

/// Optional copy of a field schema: name, version, doc, parameters; no default.
/// Container types keep their element/field schemas so values still fit.
fn optional_copy(schema: &Schema) -> Schema {
    let ty = schema.schema_type();
    if ty.is_primitive() {
        copy_schema_basics(schema, ty).optional().build()
    } else {
        schema.to_builder().optional().build()
    }
}

/// Headers for `add.headers`; for a tombstone only `op` is added, as `d`.
pub fn make_headers(refs: &[FieldReference], envelope: Option<&Struct>) -> Result<Vec<Header>, DataError> {
    let mut out = Vec::with_capacity(refs.len());
    for r in refs {
        match envelope {
            None => {
                if r.field == OP {
                    out.push(Header {
                        key: r.new_name.clone(),
                        schema: Some(Schema::string()),
                        value: Value::from("d"),
                    });
                }
            }
            Some(env) => {
                if let Some(schema) = r.schema(env.schema())? {
                    out.push(Header {
                        key: r.new_name.clone(),
                        schema: Some(schema),
                        value: r.value(env)?,
                    });
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fr(spec: &str) -> FieldReference {
        FieldReference::parse("__", spec, "add.fields").unwrap()
    }

    #[test]
    fn parses_names_and_parents() {
        assert_eq!(fr("op").new_name, "__op");
        assert_eq!(fr("op").parent, None);
        assert_eq!(fr("lsn").parent.as_deref(), Some("source"));
        assert_eq!(fr("id").parent.as_deref(), Some("transaction"));
        assert_eq!(fr("source.ts_ms").new_name, "__source_ts_ms");
        assert_eq!(fr("source.ts_ms:EVENT_TS").new_name, "__EVENT_TS");
        assert!(FieldReference::parse("__", "a:b:c", "add.fields").is_err());
    }
}
