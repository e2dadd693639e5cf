//! Errors shared by every plugin and the runtime.

use std::error::Error as StdError;
use std::fmt;

/// A value does not fit its schema, or data cannot be converted (Connect's `DataException`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DataError {
    message: String,
}

impl DataError {
    /// A data error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        DataError {
            message: message.into(),
        }
    }
    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// A configuration value is missing or wrong (Kafka's `ConfigException`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ConfigError {
    /// The key at fault, when one is.
    pub key: Option<String>,
    message: String,
    /// The Java exception the emulated plugin throws for it, when not a `ConfigException`.
    java_class: Option<&'static str>,
}

impl ConfigError {
    /// `Invalid value V for configuration K: reason`, worded as Kafka words it.
    pub fn invalid(key: &str, value: impl fmt::Display, reason: impl fmt::Display) -> Self {
        let reason = reason.to_string();
        let message = if reason.is_empty() {
            format!("Invalid value {value} for configuration {key}")
        } else {
            format!("Invalid value {value} for configuration {key}: {reason}")
        };
        ConfigError {
            key: Some(key.to_owned()),
            message,
            java_class: None,
        }
    }
    /// `Missing required configuration "K" which has no default value.`
    pub fn missing(key: &str) -> Self {
        ConfigError {
            key: Some(key.to_owned()),
            message: format!("Missing required configuration \"{key}\" which has no default value."),
            java_class: None,
        }
    }
    /// Any other configuration problem.
    pub fn other(key: Option<&str>, message: impl Into<String>) -> Self {
        ConfigError {
            key: key.map(str::to_owned),
            message: message.into(),
            java_class: None,
        }
    }
    /// Marks the error as thrown as `class` by the plugin Ferry emulates (say
    /// `java.lang.IllegalStateException`), for traces that name it as Connect does.
    pub fn thrown_as(mut self, class: &'static str) -> Self {
        self.java_class = Some(class);
        self
    }
    /// The Java exception class set by [`ConfigError::thrown_as`].
    pub fn java_class(&self) -> Option<&'static str> {
        self.java_class
    }
    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// What kind of failure a [`ConnectError`] is; drives retry and error-tolerance decisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad configuration: retrying will not help.
    Config,
    /// A record could not be converted or transformed (tolerable with errors.tolerance=all).
    Data,
    /// A transient failure (network, broker, database restart): retry with backoff.
    Retriable,
    /// Anything else: fail the task.
    Fatal,
}

/// The error type of plugin calls (Connect's `ConnectException` family).
#[derive(Debug, thiserror::Error)]
pub struct ConnectError {
    kind: ErrorKind,
    message: String,
    #[source]
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl ConnectError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        ConnectError {
            kind,
            message: message.into(),
            source: None,
        }
    }
    /// A fatal error.
    pub fn fatal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Fatal, message)
    }
    /// A retriable error.
    pub fn retriable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Retriable, message)
    }
    /// A data error.
    pub fn data(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Data, message)
    }
    /// A configuration error.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config, message)
    }
    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl StdError + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }
    /// The kind.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// True for [`ErrorKind::Retriable`].
    pub fn is_retriable(&self) -> bool {
        self.kind == ErrorKind::Retriable
    }
    /// The message without causes.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<DataError> for ConnectError {
    fn from(e: DataError) -> Self {
        ConnectError::new(ErrorKind::Data, e.message.clone()).with_source(e)
    }
}

impl From<ConfigError> for ConnectError {
    fn from(e: ConfigError) -> Self {
        ConnectError::new(ErrorKind::Config, e.message.clone()).with_source(e)
    }
}

/// Formats an error and its causes the way a Connect status `trace` reads:
/// the first line is the error, then one `Caused by: ...` line per cause.
/// Causes whose text repeats the previous line are skipped.
pub fn error_trace(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut last = out.clone();
    let mut cur = err.source();
    while let Some(e) = cur {
        let line = e.to_string();
        if line != last {
            out.push_str("\nCaused by: ");
            out.push_str(&line);
            last = line;
        }
        cur = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_error_wording_matches_kafka() {
        assert_eq!(
            ConfigError::invalid("tasks.max", "x", "Not a number of type INT").to_string(),
            "Invalid value x for configuration tasks.max: Not a number of type INT"
        );
        assert_eq!(
            ConfigError::missing("file").to_string(),
            "Missing required configuration \"file\" which has no default value."
        );
    }

    #[test]
    fn trace_lists_causes_once() {
        let io = std::io::Error::other("connection refused");
        let e = ConnectError::retriable("could not reach broker").with_source(io);
        assert_eq!(
            error_trace(&e),
            "could not reach broker\nCaused by: connection refused"
        );
    }
}
