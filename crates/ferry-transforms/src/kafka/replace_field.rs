//! `ReplaceField$Key` / `ReplaceField$Value`: drops, keeps or renames fields.

use std::collections::{HashMap, HashSet};

use ferry_core::java;
use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConfigValue, ConnectError, DataError,
    Importance, Record, Schema, Struct, Transformation, Validator, Value,
};

use crate::util::{
    cached_schema, copy_schema_basics, field_value_by_name, replace_null_with_default_key, require_map,
    require_struct, SchemaCache, Side,
};

const PURPOSE: &str = "field replacement";

/// Filters (`exclude`/`include`, formerly `blacklist`/`whitelist`) and renames fields.
pub struct ReplaceField {
    side: Side,
    exclude: HashSet<String>,
    include: HashSet<String>,
    renames: HashMap<String, String>,
    reverse_renames: HashMap<String, String>,
    replace_null_with_default: bool,
    cache: SchemaCache,
}

fn rename_pairs(list: &[String]) -> Result<HashMap<String, String>, String> {
    let mut m = HashMap::new();
    for mapping in list {
        let parts = java::collections::split(mapping, ':');
        if parts.len() != 2 {
            return Err(format!("Invalid rename mapping: {mapping}"));
        }
        m.insert(parts[0].to_owned(), parts[1].to_owned());
    }
    Ok(m)
}

fn parse_renames(list: &[String]) -> Result<HashMap<String, String>, ConfigError> {
    rename_pairs(list)
        .map_err(|reason| ConfigError::invalid("renames", java::collections::list_to_string(list), reason))
}

impl ReplaceField {
    /// A transform working on `side`.
    pub fn new(side: Side) -> Self {
        ReplaceField {
            side,
            exclude: HashSet::new(),
            include: HashSet::new(),
            renames: HashMap::new(),
            reverse_renames: HashMap::new(),
            replace_null_with_default: true,
            cache: SchemaCache::new(),
        }
    }

    fn filter(&self, name: &str) -> bool {
        !self.exclude.contains(name) && (self.include.is_empty() || self.include.contains(name))
    }

    fn renamed<'a>(&'a self, name: &'a str) -> &'a str {
        self.renames.get(name).map_or(name, String::as_str)
    }

    fn reverse_renamed<'a>(&'a self, name: &'a str) -> &'a str {
        self.reverse_renames.get(name).map_or(name, String::as_str)
    }

    fn updated_schema(&self, schema: &Schema) -> Result<Schema, DataError> {
        let mut b = copy_schema_basics(schema, Schema::struct_builder());
        for f in schema.fields() {
            if self.filter(f.name()) {
                b = b.try_field(self.renamed(f.name()), f.schema().clone())?;
            }
        }
        Ok(b.build())
    }
}

impl Transformation for ReplaceField {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("exclude", ConfigType::List)
                    .default_value("")
                    .importance(Importance::Medium)
                    .doc("Fields to exclude. This takes precedence over the fields to include."),
            )
            .define(
                ConfigKey::new("include", ConfigType::List)
                    .default_value("")
                    .importance(Importance::Medium)
                    .doc("Fields to include. If specified, only these fields will be used."),
            )
            .define(
                ConfigKey::new("renames", ConfigType::List)
                    .default_value("")
                    .importance(Importance::Medium)
                    .doc("Field rename mappings.")
                    .validator(Validator::custom(|_, v| match v {
                        ConfigValue::List(l) => rename_pairs(l).map(|_| ()),
                        _ => Ok(()),
                    })),
            )
            .define(replace_null_with_default_key())
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        // The deprecated names of Kafka 2.x-3.x still configure the transform when the new ones are absent.
        let mut config = config.clone();
        for (new, old) in [("include", "whitelist"), ("exclude", "blacklist")] {
            if let Some(v) = config.shift_remove(old) {
                config.entry(new.to_owned()).or_insert(v);
            }
        }
        let raw_renames = config.get("renames").map(|s| {
            ferry_core::config::parse_type("renames", s, ConfigType::List)
                .ok()
                .map(|v| match v {
                    ConfigValue::List(l) => l,
                    _ => Vec::new(),
                })
                .unwrap_or_default()
        });
        if let Some(list) = raw_renames {
            parse_renames(&list)?;
        }
        let c = self.config_def().parse(&config)?;
        self.exclude = c.list("exclude").iter().cloned().collect();
        self.include = c.list("include").iter().cloned().collect();
        self.renames = parse_renames(c.list("renames"))?;
        self.reverse_renames = self.renames.iter().map(|(k, v)| (v.clone(), k.clone())).collect();
        self.replace_null_with_default = c.boolean("replace.null.with.default");
        self.cache = SchemaCache::new();
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let side = self.side;
        if side.value(&record).is_null() {
            return Ok(Some(record));
        }
        if side.schema(&record).is_none() {
            let map = require_map(side.value(&record), PURPOSE)?;
            let mut out: Vec<(Value, Value)> = Vec::with_capacity(map.len());
            for (k, v) in map {
                let Some(name) = k.as_str() else {
                    out.push((k.clone(), v.clone()));
                    continue;
                };
                if self.filter(name) {
                    crate::util::map_put(&mut out, self.renamed(name), v.clone());
                }
            }
            side.set(&mut record, None, Value::Map(out));
        } else {
            let value = require_struct(side.value(&record), PURPOSE)?;
            let updated = cached_schema!(self.cache, value.schema(), self.updated_schema(value.schema())?);
            let values = updated
                .fields()
                .iter()
                .map(|f| {
                    field_value_by_name(
                        value,
                        self.reverse_renamed(f.name()),
                        self.replace_null_with_default,
                    )
                })
                .collect();
            let out = Struct::from_values(updated.clone(), values)?;
            side.set(&mut record, Some(updated), Value::Struct(out));
        }
        Ok(Some(record))
    }
}
