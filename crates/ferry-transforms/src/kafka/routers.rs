//! `RegexRouter` and `TimestampRouter`: rewrite the record topic.

use std::sync::Arc;

use ferry_core::java::{JavaDateFormat, RegexReplace};
use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConnectError, Importance, Record,
    Transformation,
};

use crate::util::regex_validator;

/// Renames topics matching `regex` to `replacement` (Java `$1` group syntax).
#[derive(Default)]
pub struct RegexRouter {
    router: Option<RegexReplace>,
}

impl Transformation for RegexRouter {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("regex", ConfigType::String)
                    .importance(Importance::High)
                    .validator(regex_validator())
                    .doc("Regular expression to use for matching."),
            )
            .define(
                ConfigKey::new("replacement", ConfigType::String)
                    .importance(Importance::High)
                    .doc("Replacement string."),
            )
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let c = self.config_def().parse(config)?;
        let regex = c.string("regex").unwrap_or_default();
        let replacement = c.string("replacement").unwrap_or_default();
        self.router = Some(
            RegexReplace::new(regex, replacement)
                .map_err(|e| ConfigError::invalid("regex", regex, format!("Invalid regex: {e}")))?,
        );
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let Some(router) = &self.router else {
            return Err(ConnectError::config("RegexRouter used before it was configured"));
        };
        let routed = router
            .apply(&record.topic)
            .map_err(|e| ConnectError::data(e.to_string()))?;
        if let Some(topic) = routed {
            record.topic = Arc::from(topic);
        }
        Ok(Some(record))
    }
}

/// Rewrites topics as `topic.format` with `${topic}` and `${timestamp}` substituted.
pub struct TimestampRouter {
    topic_format: String,
    timestamp_format: Option<JavaDateFormat>,
}

impl Default for TimestampRouter {
    fn default() -> Self {
        TimestampRouter {
            topic_format: "${topic}-${timestamp}".into(),
            timestamp_format: None,
        }
    }
}

impl Transformation for TimestampRouter {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
            .define(
                ConfigKey::new("topic.format", ConfigType::String)
                    .default_value("${topic}-${timestamp}")
                    .importance(Importance::High)
                    .doc("Format string which can contain <code>${topic}</code> and <code>${timestamp}</code> as placeholders for the topic and timestamp, respectively."),
            )
            .define(
                ConfigKey::new("timestamp.format", ConfigType::String)
                    .default_value("yyyyMMdd")
                    .importance(Importance::High)
                    .doc("Format string for the timestamp that is compatible with <code>java.text.SimpleDateFormat</code>."),
            )
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let c = self.config_def().parse(config)?;
        self.topic_format = c.string("topic.format").unwrap_or_default().to_owned();
        let f = c.string("timestamp.format").unwrap_or_default();
        self.timestamp_format =
            Some(JavaDateFormat::new(f).map_err(|e| ConfigError::invalid("timestamp.format", f, e))?);
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let Some(ts) = record.timestamp else {
            return Err(ConnectError::data(format!(
                "Timestamp missing on record: {record:?}"
            )));
        };
        let formatted = self
            .timestamp_format
            .as_ref()
            .map(|f| f.format(ts))
            .unwrap_or_default();
        let topic = self
            .topic_format
            .replace("${topic}", &record.topic)
            .replace("${timestamp}", &formatted);
        record.topic = Arc::from(topic);
        Ok(Some(record))
    }
}
