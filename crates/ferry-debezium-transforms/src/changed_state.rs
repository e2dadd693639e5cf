//! `io.debezium.transforms.ExtractChangedRecordState`: adds headers listing the row fields
//! an update changed and those it left unchanged (comparing `before` with `after`).

use ferry_core::config::Width;
use ferry_core::{
    ConfigDef, ConfigError, ConfigMap, ConfigType, ConnectError, Importance, Record, Schema, Transformation,
    Value,
};

use crate::envelope::{self, AFTER, BEFORE};
use crate::util;

/// Java class name of the transform.
pub const CLASS: &str = "io.debezium.transforms.ExtractChangedRecordState";

const HEADER_CHANGED_NAME: &str = "header.changed.name";
const HEADER_UNCHANGED_NAME: &str = "header.unchanged.name";

/// The changed-fields header writer.
#[derive(Debug, Default)]
pub struct ExtractChangedRecordState {
    /// Header name and its schema (an optional array of optional strings named like the header).
    changed: Option<(String, Schema)>,
    unchanged: Option<(String, Schema)>,
    /// The key of the delete event just seen, whose tombstone comes next.
    last_delete_key: Option<Value>,
}

impl ExtractChangedRecordState {
    /// An unconfigured transform.
    pub fn new() -> Self {
        Self::default()
    }
}

fn config_def() -> ConfigDef {
    let key = |name: &str, display: &str, doc: &str| {
        util::debezium_field(name, ConfigType::String, display)
            .width(Width::Long)
            .importance(Importance::Low)
            .doc(doc)
    };
    ConfigDef::new()
        .define(key(
            HEADER_CHANGED_NAME,
            "Header change name.",
            "Name of the header listing the fields an update changed; no header when unset.",
        ))
        .define(key(
            HEADER_UNCHANGED_NAME,
            "Header unchanged name.",
            "Name of the header listing the fields an update left unchanged; no header when unset.",
        ))
}

fn header(name: Option<&str>) -> Option<(String, Schema)> {
    let name = name?;
    let schema = Schema::array(Schema::optional_string())
        .optional()
        .name(name)
        .build();
    // A blank name is accepted but adds no header, as upstream.
    (!ferry_core::java::collections::is_blank(name)).then(|| (name.to_owned(), schema))
}

impl Transformation for ExtractChangedRecordState {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let parsed = config_def().parse(config)?;
        self.changed = header(parsed.string(HEADER_CHANGED_NAME));
        self.unchanged = header(parsed.string(HEADER_UNCHANGED_NAME));
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let delete_key = self.last_delete_key.take();
        if record.value.is_null() {
            // Debezium's tombstone shares its delete's header object, so it carries the
            // (empty) lists added to the delete.
            if delete_key.is_some_and(|k| k == record.key) {
                self.add_headers(&mut record, Vec::new(), Vec::new());
            }
            return Ok(Some(record));
        }
        if !envelope::is_envelope(record.value_schema.as_ref()) {
            return Ok(Some(record));
        }
        let value = util::require_struct(&record.value, "Record value should be struct.")?;
        let after = util::get(value, AFTER)?;
        let before = util::get(value, BEFORE)?;
        let mut changed = Vec::new();
        let mut unchanged = Vec::new();
        if !after.is_null() && !before.is_null() {
            let after = util::require_struct(after, "After value should be struct.")?;
            let before = util::require_struct(before, "Before value should be struct.")?;
            for field in after.schema().fields() {
                let a = util::get_raw(after, field.name())?;
                let b = util::get_raw(before, field.name())?;
                let name = Value::String(field.name().to_owned());
                if a == b {
                    unchanged.push(name);
                } else {
                    changed.push(name);
                }
            }
        }
        if util::get_string(value, envelope::OP).ok().flatten() == Some("d") {
            self.last_delete_key = Some(record.key.clone());
        }
        // Added to every envelope (snapshots, creates, deletes too), empty when not an update.
        self.add_headers(&mut record, changed, unchanged);
        Ok(Some(record))
    }
}

impl ExtractChangedRecordState {
    fn add_headers(&self, record: &mut Record, changed: Vec<Value>, unchanged: Vec<Value>) {
        if let Some((name, schema)) = &self.changed {
            record
                .headers
                .add(name.clone(), Some(schema.clone()), Value::Array(changed));
        }
        if let Some((name, schema)) = &self.unchanged {
            record
                .headers
                .add(name.clone(), Some(schema.clone()), Value::Array(unchanged));
        }
    }
}
