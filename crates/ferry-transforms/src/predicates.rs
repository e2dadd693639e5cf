//! Kafka's built-in predicates: `TopicNameMatches`, `HasHeaderKey`, `RecordIsTombstone`.

use ferry_core::java::JavaPattern;
use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConfigValue, Importance, Predicate, Record,
    Validator,
};

/// True when the whole topic name matches `pattern`.
#[derive(Default)]
pub struct TopicNameMatches {
    pattern: Option<JavaPattern>,
}

impl Predicate for TopicNameMatches {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new("pattern", ConfigType::String)
                .importance(Importance::Medium)
                .validator(Validator::custom(|_, v| match v {
                    ConfigValue::String(s) if s.is_empty() => Err("String must be non-empty".into()),
                    ConfigValue::String(s) => JavaPattern::compile(s)
                        .map(|_| ())
                        .map_err(|e| format!("Invalid regex: {e}")),
                    _ => Err("String must be non-empty".into()),
                }))
                .doc("A Java regular expression for matching against the name of a record's topic."),
        )
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let c = self.config_def().parse(config)?;
        let p = c.string("pattern").unwrap_or_default();
        self.pattern = Some(JavaPattern::compile(p).map_err(|e| {
            ConfigError::invalid(
                "pattern",
                p,
                format!("entry must be a Java-compatible regular expression: {e}"),
            )
        })?);
        Ok(())
    }

    fn test(&self, record: &Record) -> bool {
        self.pattern.as_ref().is_some_and(|p| p.matches(&record.topic))
    }
}

/// True when the record has at least one header named `name`.
#[derive(Default)]
pub struct HasHeaderKey {
    name: String,
}

impl Predicate for HasHeaderKey {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new().define(
            ConfigKey::new("name", ConfigType::String)
                .importance(Importance::Medium)
                .validator(Validator::NonEmptyString)
                .doc("The header name."),
        )
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let c = self.config_def().parse(config)?;
        self.name = c.string("name").unwrap_or_default().to_owned();
        Ok(())
    }

    fn test(&self, record: &Record) -> bool {
        record.headers.all_with_name(&self.name).next().is_some()
    }
}

/// True for tombstones (null value).
#[derive(Default)]
pub struct RecordIsTombstone;

impl Predicate for RecordIsTombstone {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    fn configure(&mut self, _config: &ConfigMap) -> Result<(), ConfigError> {
        Ok(())
    }
    fn test(&self, record: &Record) -> bool {
        record.value.is_null()
    }
}
