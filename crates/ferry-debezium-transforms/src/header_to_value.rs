//! `io.debezium.transforms.HeaderToValue`: copies or moves headers into fields of the
//! value struct; a field name with dots (`source.origin`) nests into (or creates) structs,
//! as Debezium's `ConnectRecordUtil.makeNewSchema`/`makeUpdatedValue` do.

use ferry_core::{
    ConfigDef, ConfigError, ConfigMap, ConfigType, ConnectError, DataError, Importance, Record, Schema,
    SchemaType, Struct, Transformation, Value,
};

use crate::util::{self, copy_schema_basics, SchemaCache};

/// Java class name of the transform.
pub const CLASS: &str = "io.debezium.transforms.HeaderToValue";

const HEADERS: &str = "headers";
const FIELDS: &str = "fields";
const OPERATION: &str = "operation";
const OPERATIONS: &[&str] = &["move", "copy"];
const ROOT: &str = "payload";
const CACHE_SIZE: usize = 64;

/// The header-to-field mover.
#[derive(Debug)]
pub struct HeaderToValue {
    config: Option<Config>,
    /// (value schema, new entries' names and schemas) → updated schema.
    schemas: SchemaCache<SchemaKey, Schema>,
}

/// A value schema and the names and schemas of the headers added to it.
type SchemaKey = (Schema, Vec<(String, Option<Schema>)>);

#[derive(Debug, Clone)]
struct Config {
    headers: Vec<String>,
    fields: Vec<String>,
    mv: bool,
}

impl Default for HeaderToValue {
    fn default() -> Self {
        HeaderToValue {
            config: None,
            schemas: SchemaCache::new(CACHE_SIZE),
        }
    }
}

impl HeaderToValue {
    /// An unconfigured transform.
    pub fn new() -> Self {
        Self::default()
    }
}

fn config_def() -> ConfigDef {
    // Debezium's enum recommender is not handed to Connect's definition: no recommended values.
    let operation = util::debezium_field(OPERATION, ConfigType::String, "Operation: mover or copy")
        .importance(Importance::High)
        .doc("move: the headers are removed once copied into the value; copy: they stay.");
    ConfigDef::new()
        .define(
            util::debezium_field(HEADERS, ConfigType::List, "Header names list")
                .importance(Importance::High)
                .doc("Names of the headers whose values go into the value."),
        )
        .define(
            util::debezium_field(FIELDS, ConfigType::List, "Field names list")
                .importance(Importance::High)
                .doc("Field names, one per header in the same order; dots nest into structs."),
        )
        .define(operation)
}

/// Debezium's list checks: required, no element with a space, no empty element.
fn checked_list(props: &ConfigMap, key: &str) -> Result<Vec<String>, ConfigError> {
    let raw = props.get(key).map(String::as_str);
    let Some(raw) = raw.filter(|v| !v.trim().is_empty()) else {
        return Err(ConfigError::invalid(
            key,
            raw.unwrap_or("null"),
            "A value is required",
        ));
    };
    let items: Vec<String> = raw.split(',').map(|s| s.trim().to_owned()).collect();
    let shown = format!("[{}]", items.join(", "));
    if items.iter().any(|s| s.contains(' ')) {
        return Err(ConfigError::invalid(
            key,
            shown,
            "Element(s) containing space not permitted",
        ));
    }
    if items.iter().any(String::is_empty) {
        return Err(ConfigError::invalid(
            key,
            shown,
            "Empty string element(s) not permitted",
        ));
    }
    Ok(items)
}

impl Config {
    fn parse(props: &ConfigMap) -> Result<Config, ConfigError> {
        config_def().parse(props)?;
        let headers = checked_list(props, HEADERS)?;
        let fields = checked_list(props, FIELDS)?;
        let op = props.get(OPERATION).map(|s| s.trim().to_owned());
        let mv = match op.as_deref() {
            Some(o) if o.eq_ignore_ascii_case("move") => true,
            Some(o) if o.eq_ignore_ascii_case("copy") => false,
            Some("") | None => {
                return Err(ConfigError::invalid(
                    OPERATION,
                    op.as_deref().unwrap_or("null"),
                    "A value is required",
                ))
            }
            Some(o) => {
                return Err(ConfigError::invalid(
                    OPERATION,
                    o,
                    format!("Value must be one of {}", OPERATIONS.join(",")),
                ))
            }
        };
        if headers.len() != fields.len() {
            return Err(ConfigError::other(
                Some(FIELDS),
                format!("'{FIELDS}' config must have the same number of elements as '{HEADERS}' config."),
            ));
        }
        Ok(Config { headers, fields, mv })
    }
}

/// One header bound for the value.
struct Entry {
    name: String,
    schema: Option<Schema>,
    value: Value,
}

fn parts(name: &str) -> Vec<&str> {
    name.split('.').collect()
}

/// `getFieldName`: the field an entry adds to the struct at `field`/`level`.
fn field_name_at<'a>(entry: &'a str, field: &str, level: usize) -> Option<&'a str> {
    let names = parts(entry);
    if names.len() == 1 && field == ROOT {
        return Some(names[0]);
    }
    let parent = level.saturating_sub(1);
    (names.len() == level + 1 && names[parent] == field).then(|| names[level])
}

/// `isContainedIn`: some nested entry mentions `field.` (a substring test, as upstream).
fn is_contained_in(field: &str, nested: &[&str]) -> bool {
    let with_dot = format!("{field}.");
    nested.iter().any(|n| n.contains(&with_dot))
}

/// `getNewParentFieldsAtLevel`: structs to create at this level.
fn new_parents(field: &str, schema: &Schema, nested: &[&str], level: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for n in nested {
        let p = parts(n);
        let process =
            (level == 0 && field == ROOT) || (level > 0 && level < p.len() && p[level - 1] == field);
        if process && level + 1 < p.len() {
            let name = p[level];
            if schema.field(name).is_none() && !out.iter().any(|o| o == name) {
                out.push(name.to_owned());
            }
        }
    }
    out
}

/// `getNestedFieldNameForParent`.
fn nested_name_for_parent<'a>(entry: &'a str, parent: &str, field: &str, level: usize) -> Option<&'a str> {
    let p = parts(entry);
    if level == 0 && field == ROOT {
        return (p.len() > 1 && p[0] == parent).then(|| p[1]);
    }
    if level > 0 {
        let so_far = p[..(level + 1).min(p.len())].join(".");
        if so_far == parent && level + 1 < p.len() {
            return Some(p[level + 1]);
        }
    }
    None
}

fn entry_schema(e: &Entry) -> Result<Schema, DataError> {
    e.schema
        .clone()
        .ok_or_else(|| DataError::new(format!("fieldSchema for field {} cannot be null.", e.name)))
}

fn build_schema(
    field: &str,
    old: &Schema,
    entries: &[Entry],
    nested: &[&str],
    level: usize,
) -> Result<Schema, DataError> {
    if old.schema_type().is_primitive() {
        return Ok(old.clone());
    }
    let mut b = copy_schema_basics(old, SchemaType::Struct);
    let mut names: Vec<String> = Vec::new();
    for f in old.fields() {
        let s = if is_contained_in(f.name(), nested) {
            build_schema(f.name(), f.schema(), entries, nested, level + 1)?
        } else {
            f.schema().clone()
        };
        b = b.try_field(f.name(), s)?;
        names.push(f.name().to_owned());
    }
    for e in entries {
        if let Some(name) = field_name_at(&e.name, field, level) {
            if !names.iter().any(|n| n == name) {
                b = b.try_field(name, entry_schema(e)?)?;
                names.push(name.to_owned());
            }
        }
    }
    for parent in new_parents(field, old, nested, level) {
        let mut pb = Schema::struct_builder().optional();
        for e in entries {
            if let Some(n) = nested_name_for_parent(&e.name, &parent, field, level) {
                pb = pb.try_field(n, entry_schema(e)?)?;
            }
        }
        b = b.try_field(parent, pb.build())?;
    }
    Ok(b.build())
}

fn build_value(
    field: &str,
    original: &Struct,
    entries: &[Entry],
    schema: &Schema,
    nested: &[&str],
    level: usize,
) -> Result<Struct, DataError> {
    let mut out = Struct::new(schema.clone());
    for f in original.schema().fields() {
        let v = util::get(original, f.name())?;
        if v.is_null() {
            continue;
        }
        if is_contained_in(f.name(), nested) {
            let inner = util::require_struct(v, "Nested field")?;
            let inner_schema = schema
                .field(f.name())
                .map(|x| x.schema().clone())
                .ok_or_else(|| DataError::new(format!("{} is not a valid field name", f.name())))?;
            let built = build_value(f.name(), inner, entries, &inner_schema, nested, level + 1)?;
            out.put(f.name(), built)?;
        } else {
            out.put(f.name(), v.clone())?;
        }
    }
    for e in entries {
        if let Some(name) = field_name_at(&e.name, field, level) {
            out.put(name, e.value.clone())?;
        }
    }
    for parent in new_parents(field, original.schema(), nested, level) {
        if let Some(pf) = schema.field(&parent) {
            let mut ps = Struct::new(pf.schema().clone());
            for e in entries {
                if let Some(n) = nested_name_for_parent(&e.name, &parent, field, level) {
                    ps.put(n, e.value.clone())?;
                }
            }
            out.put(&parent, ps)?;
        }
    }
    Ok(out)
}

impl Transformation for HeaderToValue {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        self.config = Some(Config::parse(config)?);
        self.schemas = SchemaCache::new(CACHE_SIZE);
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let cfg = self
            .config
            .as_ref()
            .ok_or_else(|| ConnectError::config("HeaderToValue used before configure"))?;
        if record.value.is_null() {
            tracing::trace!("Tombstone arrived and will be skipped");
            return Ok(Some(record));
        }
        let value = util::require_struct(&record.value, "Header field insertion")?;
        let entries: Vec<Entry> = record
            .headers
            .iter()
            .filter_map(|h| {
                let i = cfg.headers.iter().position(|n| *n == h.key)?;
                Some(Entry {
                    name: cfg.fields[i].clone(),
                    schema: h.schema.clone(),
                    value: h.value.clone(),
                })
            })
            .collect();
        if entries.is_empty() {
            return Ok(Some(record));
        }
        let nested: Vec<&str> = entries
            .iter()
            .map(|e| e.name.as_str())
            .filter(|n| n.contains('.'))
            .collect();
        let key = (
            value.schema().clone(),
            entries
                .iter()
                .map(|e| (e.name.clone(), e.schema.clone()))
                .collect::<Vec<_>>(),
        );
        let schema = self.schemas.get_or_try_insert(&key, || {
            for n in &nested {
                check_nested_parents(value.schema(), n)?;
            }
            build_schema(ROOT, value.schema(), &entries, &nested, 0)
        })?;
        let updated = build_value(ROOT, value, &entries, &schema, &nested, 0)?;
        if cfg.mv {
            record.headers.retain(|h| !cfg.headers.contains(&h.key));
        }
        record.value_schema = Some(schema);
        record.value = Value::Struct(updated);
        Ok(Some(record))
    }
}

/// `validateNestedFieldsExist`: a nested name may not pass through a primitive field.
fn check_nested_parents(schema: &Schema, nested: &str) -> Result<(), DataError> {
    let p = parts(nested);
    let mut current = schema;
    for parent in &p[..p.len() - 1] {
        let Some(f) = current.field(parent) else {
            break;
        };
        if f.schema().schema_type().is_primitive() {
            return Err(DataError::new(format!(
                "Field '{parent}' is a primitive type, not a struct. Cannot add nested field '{nested}'."
            )));
        }
        current = f.schema();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_names_resolve_per_level() {
        assert_eq!(field_name_at("a", ROOT, 0), Some("a"));
        assert_eq!(field_name_at("source.x", ROOT, 0), None);
        assert_eq!(field_name_at("source.x", "source", 1), Some("x"));
        assert_eq!(nested_name_for_parent("meta.x", "meta", ROOT, 0), Some("x"));
        assert!(is_contained_in("source", &["source.x"]));
    }
}
