//! `ExtractField$Key` / `ExtractField$Value`: replaces the struct or map with one of its fields.

use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConnectError, DataError, Importance, Record,
    Transformation, Value,
};

use crate::field_path::{field_syntax_version_key, SingleFieldPath, FIELD_SYNTAX_VERSION_CONFIG};
use crate::util::{replace_null_with_default_key, require_map_or_null, require_struct_or_null, Side};

const PURPOSE: &str = "field extraction";

/// Extracts one (possibly nested, with `field.syntax.version=V2`) field.
pub struct ExtractField {
    side: Side,
    path: SingleFieldPath,
    original: String,
    replace_null_with_default: bool,
}

impl ExtractField {
    /// A transform working on `side`.
    pub fn new(side: Side) -> Self {
        ExtractField {
            side,
            path: SingleFieldPath::new("", "V1").expect("V1 paths always parse"),
            original: String::new(),
            replace_null_with_default: true,
        }
    }
}

impl Transformation for ExtractField {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("field", ConfigType::String)
                    .importance(Importance::Medium)
                    .doc("Field name to extract."),
            )
            .define(replace_null_with_default_key())
            .define(field_syntax_version_key())
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let c = self.config_def().parse(config)?;
        self.original = c.string("field").unwrap_or_default().to_owned();
        let version = c.string(FIELD_SYNTAX_VERSION_CONFIG).unwrap_or("V1");
        self.path = SingleFieldPath::new(&self.original, version)?;
        self.replace_null_with_default = c.boolean("replace.null.with.default");
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let side = self.side;
        match side.schema(&record).cloned() {
            None => {
                let v = side.value(&record);
                let out = match require_map_or_null(v, PURPOSE)? {
                    None => Value::Null,
                    Some(_) => self.path.value_from_map(v)?,
                };
                side.set(&mut record, None, out);
            }
            Some(schema) => {
                let value = require_struct_or_null(side.value(&record), PURPOSE)?;
                let field = self.path.field_from(&schema).ok_or_else(|| {
                    ConnectError::from(DataError::new(format!("Unknown field: {}", self.original)))
                })?;
                let out = match value {
                    None => Value::Null,
                    Some(s) => self.path.value_from_struct(s, self.replace_null_with_default)?,
                };
                let field_schema = field.schema().clone();
                side.set(&mut record, Some(field_schema), out);
            }
        }
        Ok(Some(record))
    }
}
