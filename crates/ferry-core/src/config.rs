//! Configuration definitions, parsing and validation (Kafka's `ConfigDef`).
//!
//! A plugin describes its options once as a [`ConfigDef`]; the same definition
//! parses typed values, answers `/connector-plugins/P/config` and fills the
//! per-field errors of `/config/validate`, with Kafka's wording.

use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::error::ConfigError;

/// A flat configuration: keys and string values in the order given.
pub type ConfigMap = IndexMap<String, String>;

/// Value types of configuration keys, named as Kafka names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConfigType {
    /// `BOOLEAN`: `true` or `false`.
    Boolean,
    /// `STRING`: text.
    String,
    /// `INT`: a 32-bit integer.
    Int,
    /// `SHORT`: a 16-bit integer.
    Short,
    /// `LONG`: a 64-bit integer.
    Long,
    /// `DOUBLE`: a 64-bit float.
    Double,
    /// `LIST`: comma-separated strings.
    List,
    /// `CLASS`: a class name.
    Class,
    /// `PASSWORD`: text never shown back.
    Password,
}

impl ConfigType {
    /// Kafka's enum name (`STRING`, `INT`, ...).
    pub fn java_name(self) -> &'static str {
        match self {
            ConfigType::Boolean => "BOOLEAN",
            ConfigType::String => "STRING",
            ConfigType::Int => "INT",
            ConfigType::Short => "SHORT",
            ConfigType::Long => "LONG",
            ConfigType::Double => "DOUBLE",
            ConfigType::List => "LIST",
            ConfigType::Class => "CLASS",
            ConfigType::Password => "PASSWORD",
        }
    }
}

impl fmt::Display for ConfigType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.java_name())
    }
}

/// Importance of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Importance {
    /// `HIGH`.
    High,
    /// `MEDIUM`.
    Medium,
    /// `LOW`.
    Low,
}

impl Importance {
    /// Kafka's enum name.
    pub fn java_name(self) -> &'static str {
        match self {
            Importance::High => "HIGH",
            Importance::Medium => "MEDIUM",
            Importance::Low => "LOW",
        }
    }
}

/// Display width hint of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// `NONE`: no hint.
    None,
    /// `SHORT`.
    Short,
    /// `MEDIUM`.
    Medium,
    /// `LONG`.
    Long,
}

impl Width {
    /// Kafka's enum name.
    pub fn java_name(self) -> &'static str {
        match self {
            Width::None => "NONE",
            Width::Short => "SHORT",
            Width::Medium => "MEDIUM",
            Width::Long => "LONG",
        }
    }
}

/// The default of a key.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigDefault {
    /// No default: the key is required.
    Required,
    /// The default is null (optional, no value).
    Null,
    /// A default in string form, parsed like a user value.
    Value(String),
}

/// A parsed configuration value.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigValue {
    /// No value (`null`).
    Null,
    /// A `BOOLEAN` value.
    Boolean(bool),
    /// A `STRING` value.
    String(String),
    /// An `INT` value.
    Int(i32),
    /// A `SHORT` value.
    Short(i16),
    /// A `LONG` value.
    Long(i64),
    /// A `DOUBLE` value.
    Double(f64),
    /// A `LIST` value.
    List(Vec<String>),
    /// A `CLASS` value (the class name).
    Class(String),
    /// A `PASSWORD` value.
    Password(String),
}

impl ConfigValue {
    /// Kafka's `convertToString`: the text `/config/validate` reports; passwords are hidden.
    pub fn to_display_string(&self) -> Option<String> {
        Some(match self {
            ConfigValue::Null => return None,
            ConfigValue::Boolean(b) => b.to_string(),
            ConfigValue::String(s) | ConfigValue::Class(s) => s.clone(),
            ConfigValue::Int(v) => v.to_string(),
            ConfigValue::Short(v) => v.to_string(),
            ConfigValue::Long(v) => v.to_string(),
            ConfigValue::Double(v) => crate::java::double_to_string(*v),
            ConfigValue::List(items) => items.join(","),
            ConfigValue::Password(_) => "[hidden]".to_string(),
        })
    }
}

/// A check run on a parsed value; returns the reason when the value is wrong.
pub type CustomValidator = Arc<dyn Fn(&str, &ConfigValue) -> Result<(), String> + Send + Sync>;

/// Validators with Kafka's wording.
#[derive(Clone)]
pub enum Validator {
    /// A number within bounds (inclusive).
    Range {
        /// The lowest allowed value.
        min: Option<f64>,
        /// The highest allowed value.
        max: Option<f64>,
    },
    /// One of the given strings.
    OneOf(Vec<String>),
    /// One of the given strings, ignoring case.
    OneOfIgnoreCase(Vec<String>),
    /// A non-empty string.
    NonEmptyString,
    /// Anything else.
    Custom(CustomValidator),
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Validator::Range { min, max } => write!(f, "Range({min:?}, {max:?})"),
            Validator::OneOf(v) => write!(f, "OneOf({v:?})"),
            Validator::OneOfIgnoreCase(v) => write!(f, "OneOfIgnoreCase({v:?})"),
            Validator::NonEmptyString => f.write_str("NonEmptyString"),
            Validator::Custom(_) => f.write_str("Custom"),
        }
    }
}

impl Validator {
    /// `Range.atLeast(min)`.
    pub fn at_least(min: f64) -> Self {
        Validator::Range {
            min: Some(min),
            max: None,
        }
    }
    /// `Range.between(min, max)`.
    pub fn between(min: f64, max: f64) -> Self {
        Validator::Range {
            min: Some(min),
            max: Some(max),
        }
    }
    /// `ValidString.in(...)`.
    pub fn one_of<I: IntoIterator<Item = S>, S: Into<String>>(values: I) -> Self {
        Validator::OneOf(values.into_iter().map(Into::into).collect())
    }
    /// `CaseInsensitiveValidString.in(...)`.
    pub fn one_of_ignore_case<I: IntoIterator<Item = S>, S: Into<String>>(values: I) -> Self {
        Validator::OneOfIgnoreCase(values.into_iter().map(Into::into).collect())
    }
    /// A custom check.
    pub fn custom(f: impl Fn(&str, &ConfigValue) -> Result<(), String> + Send + Sync + 'static) -> Self {
        Validator::Custom(Arc::new(f))
    }

    /// Checks `value` for `key`, with Kafka's messages.
    pub fn ensure_valid(&self, key: &str, value: &ConfigValue) -> Result<(), ConfigError> {
        let shown = value.to_display_string().unwrap_or_else(|| "null".into());
        match self {
            Validator::Range { min, max } => {
                let n = match value {
                    ConfigValue::Int(v) => *v as f64,
                    ConfigValue::Short(v) => *v as f64,
                    ConfigValue::Long(v) => *v as f64,
                    ConfigValue::Double(v) => *v,
                    ConfigValue::Null => {
                        return Err(ConfigError::invalid(key, "null", "Value must be non-null"))
                    }
                    _ => return Ok(()),
                };
                if let Some(min) = min {
                    if n < *min {
                        return Err(ConfigError::invalid(
                            key,
                            &shown,
                            format!("Value must be at least {}", trim_num(*min)),
                        ));
                    }
                }
                if let Some(max) = max {
                    if n > *max {
                        return Err(ConfigError::invalid(
                            key,
                            &shown,
                            format!("Value must be no more than {}", trim_num(*max)),
                        ));
                    }
                }
                Ok(())
            }
            Validator::OneOf(valid) => match value {
                ConfigValue::String(s) if valid.iter().any(|v| v == s) => Ok(()),
                _ => Err(ConfigError::invalid(
                    key,
                    &shown,
                    format!("String must be one of: {}", valid.join(", ")),
                )),
            },
            Validator::OneOfIgnoreCase(valid) => match value {
                ConfigValue::String(s) if valid.iter().any(|v| v.eq_ignore_ascii_case(s)) => Ok(()),
                _ => Err(ConfigError::invalid(
                    key,
                    &shown,
                    format!("String must be one of (case insensitive): {}", valid.join(", ")),
                )),
            },
            Validator::NonEmptyString => match value {
                ConfigValue::String(s) if !s.is_empty() => Ok(()),
                _ => Err(ConfigError::invalid(key, &shown, "String must be non-empty")),
            },
            Validator::Custom(f) => f(key, value).map_err(|reason| ConfigError::invalid(key, &shown, reason)),
        }
    }
}

fn trim_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{}", v as i64)
    } else {
        v.to_string()
    }
}

/// One configuration key and everything `/connector-plugins/P/config` shows of it.
#[derive(Clone, Debug)]
pub struct ConfigKey {
    /// The key.
    pub name: String,
    /// Its value type.
    pub ty: ConfigType,
    /// Its default, if any.
    pub default: ConfigDefault,
    /// How much it matters.
    pub importance: Importance,
    /// Its description.
    pub documentation: String,
    /// The group it is shown in.
    pub group: Option<String>,
    /// Its position in the group.
    pub order_in_group: i32,
    /// Display width hint.
    pub width: Width,
    /// The name shown in UIs.
    pub display_name: String,
    /// Keys whose validity depends on this one.
    pub dependents: Vec<String>,
    /// The check run on parsed values.
    pub validator: Option<Validator>,
    /// Values to suggest.
    pub recommended_values: Vec<String>,
}

impl ConfigKey {
    /// A required key of type `ty`, importance MEDIUM.
    pub fn new(name: impl Into<String>, ty: ConfigType) -> Self {
        let name = name.into();
        ConfigKey {
            display_name: name.clone(),
            name,
            ty,
            default: ConfigDefault::Required,
            importance: Importance::Medium,
            documentation: String::new(),
            group: None,
            order_in_group: -1,
            width: Width::None,
            dependents: Vec::new(),
            validator: None,
            recommended_values: Vec::new(),
        }
    }
    /// Sets a default in string form.
    pub fn default_value(mut self, v: impl Into<String>) -> Self {
        self.default = ConfigDefault::Value(v.into());
        self
    }
    /// Makes the default null (optional with no value).
    pub fn default_null(mut self) -> Self {
        self.default = ConfigDefault::Null;
        self
    }
    /// Sets the importance.
    pub fn importance(mut self, i: Importance) -> Self {
        self.importance = i;
        self
    }
    /// Sets the documentation.
    pub fn doc(mut self, d: impl Into<String>) -> Self {
        self.documentation = d.into();
        self
    }
    /// Places the key in a group.
    pub fn group(mut self, g: impl Into<String>, order: i32) -> Self {
        self.group = Some(g.into());
        self.order_in_group = order;
        self
    }
    /// Sets the width hint.
    pub fn width(mut self, w: Width) -> Self {
        self.width = w;
        self
    }
    /// Sets the display name.
    pub fn display_name(mut self, n: impl Into<String>) -> Self {
        self.display_name = n.into();
        self
    }
    /// Sets the validator; `OneOf` validators also become the recommended values.
    pub fn validator(mut self, v: Validator) -> Self {
        if let Validator::OneOf(vals) | Validator::OneOfIgnoreCase(vals) = &v {
            if self.recommended_values.is_empty() {
                self.recommended_values = vals.clone();
            }
        }
        self.validator = Some(v);
        self
    }
    /// True when the key has no default.
    pub fn is_required(&self) -> bool {
        self.default == ConfigDefault::Required
    }
    /// The default's display text (`default_value` in REST), `None` when there is none.
    pub fn default_display(&self) -> Option<String> {
        match &self.default {
            ConfigDefault::Value(s) => parse_type(&self.name, s, self.ty)
                .ok()
                .and_then(|v| v.to_display_string())
                .or_else(|| Some(s.clone())),
            _ => None,
        }
    }
}

/// Parses a string as `ty` with Kafka's rules and messages (`ConfigDef.parseType`).
pub fn parse_type(key: &str, raw: &str, ty: ConfigType) -> Result<ConfigValue, ConfigError> {
    let t = raw.trim();
    let nan = || ConfigError::invalid(key, raw, format!("Not a number of type {ty}"));
    Ok(match ty {
        ConfigType::Boolean => {
            if t.eq_ignore_ascii_case("true") {
                ConfigValue::Boolean(true)
            } else if t.eq_ignore_ascii_case("false") {
                ConfigValue::Boolean(false)
            } else {
                return Err(ConfigError::invalid(
                    key,
                    raw,
                    "Expected value to be either true or false",
                ));
            }
        }
        ConfigType::String => ConfigValue::String(t.to_owned()),
        ConfigType::Password => ConfigValue::Password(t.to_owned()),
        ConfigType::Class => ConfigValue::Class(t.to_owned()),
        ConfigType::Int => ConfigValue::Int(t.parse().map_err(|_| nan())?),
        ConfigType::Short => ConfigValue::Short(t.parse().map_err(|_| nan())?),
        ConfigType::Long => ConfigValue::Long(t.parse().map_err(|_| nan())?),
        ConfigType::Double => ConfigValue::Double(t.parse().map_err(|_| nan())?),
        ConfigType::List => {
            if t.is_empty() {
                ConfigValue::List(Vec::new())
            } else {
                ConfigValue::List(t.split(',').map(|s| s.trim().to_owned()).collect())
            }
        }
    })
}

/// The outcome of validating one key: its value and error messages.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigValueInfo {
    /// The key.
    pub name: String,
    /// Its value as shown (passwords hidden).
    pub value: Option<String>,
    /// Values to suggest.
    pub recommended_values: Vec<String>,
    /// What is wrong with it.
    pub errors: Vec<String>,
    /// Whether UIs show it.
    pub visible: bool,
}

/// A set of configuration keys.
#[derive(Clone, Debug, Default)]
pub struct ConfigDef {
    keys: IndexMap<String, ConfigKey>,
}

impl ConfigDef {
    /// An empty definition.
    pub fn new() -> Self {
        ConfigDef::default()
    }
    /// Adds a key; a key defined twice replaces the first (definitions are code, not input).
    pub fn define(mut self, key: ConfigKey) -> Self {
        self.keys.insert(key.name.clone(), key);
        self
    }
    /// Adds every key of `other`.
    pub fn merge(mut self, other: &ConfigDef) -> Self {
        for (k, v) in &other.keys {
            self.keys.insert(k.clone(), v.clone());
        }
        self
    }
    /// Keys in definition order.
    pub fn keys(&self) -> impl Iterator<Item = &ConfigKey> {
        self.keys.values()
    }
    /// One key.
    pub fn key(&self, name: &str) -> Option<&ConfigKey> {
        self.keys.get(name)
    }
    /// Groups in order of first appearance.
    pub fn groups(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for k in self.keys.values() {
            if let Some(g) = &k.group {
                if !out.contains(g) {
                    out.push(g.clone());
                }
            }
        }
        out
    }

    fn parse_key(key: &ConfigKey, props: &ConfigMap) -> Result<ConfigValue, ConfigError> {
        let value = match props.get(&key.name) {
            Some(raw) => parse_type(&key.name, raw, key.ty)?,
            None => match &key.default {
                ConfigDefault::Required => return Err(ConfigError::missing(&key.name)),
                ConfigDefault::Null => ConfigValue::Null,
                ConfigDefault::Value(d) => parse_type(&key.name, d, key.ty)?,
            },
        };
        if let Some(v) = &key.validator {
            if !(value == ConfigValue::Null && key.default == ConfigDefault::Null) {
                v.ensure_valid(&key.name, &value)?;
            }
        }
        Ok(value)
    }

    /// Parses every defined key, failing on the first error (as `AbstractConfig` does).
    pub fn parse(&self, props: &ConfigMap) -> Result<ParsedConfig, ConfigError> {
        let mut values = IndexMap::with_capacity(self.keys.len());
        for key in self.keys.values() {
            values.insert(key.name.clone(), Self::parse_key(key, props)?);
        }
        Ok(ParsedConfig {
            values,
            originals: props.clone(),
        })
    }

    /// Validates every defined key, collecting all errors per key (`ConfigDef.validate`).
    pub fn validate(&self, props: &ConfigMap) -> Vec<ConfigValueInfo> {
        self.keys
            .values()
            .map(|key| {
                let mut errors = Vec::new();
                let value = match props.get(&key.name) {
                    Some(raw) => match parse_type(&key.name, raw, key.ty) {
                        Ok(v) => v,
                        Err(e) => {
                            errors.push(e.to_string());
                            ConfigValue::Null
                        }
                    },
                    None => match &key.default {
                        ConfigDefault::Required => {
                            errors.push(ConfigError::missing(&key.name).to_string());
                            ConfigValue::Null
                        }
                        ConfigDefault::Null => ConfigValue::Null,
                        ConfigDefault::Value(d) => {
                            parse_type(&key.name, d, key.ty).unwrap_or(ConfigValue::Null)
                        }
                    },
                };
                if let Some(v) = &key.validator {
                    let null_default = value == ConfigValue::Null && key.default == ConfigDefault::Null;
                    // Connect runs the validator on the null a parse error or a missing
                    // value leaves, too; Kafka's Range and ValidString refuse null as these do.
                    let refuses_null = matches!(
                        v,
                        Validator::Range { .. } | Validator::OneOf(_) | Validator::OneOfIgnoreCase(_)
                    );
                    if (errors.is_empty() && !null_default) || (!errors.is_empty() && refuses_null) {
                        if let Err(e) = v.ensure_valid(&key.name, &value) {
                            errors.push(e.to_string());
                        }
                    }
                }
                ConfigValueInfo {
                    name: key.name.clone(),
                    value: value.to_display_string(),
                    recommended_values: key.recommended_values.clone(),
                    errors,
                    visible: true,
                }
            })
            .collect()
    }
}

/// Typed values of a parsed configuration plus the original strings.
#[derive(Clone, Debug)]
pub struct ParsedConfig {
    values: IndexMap<String, ConfigValue>,
    originals: ConfigMap,
}

impl ParsedConfig {
    /// The parsed value of a defined key.
    pub fn get(&self, key: &str) -> &ConfigValue {
        self.values.get(key).unwrap_or(&ConfigValue::Null)
    }
    /// A string (or class, or password) value; `None` when null.
    pub fn string(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            ConfigValue::String(s) | ConfigValue::Class(s) | ConfigValue::Password(s) => Some(s),
            _ => None,
        }
    }
    /// A boolean value (false when null).
    pub fn boolean(&self, key: &str) -> bool {
        matches!(self.get(key), ConfigValue::Boolean(true))
    }
    /// An integer value of any width.
    pub fn long(&self, key: &str) -> Option<i64> {
        match *self.get(key) {
            ConfigValue::Int(v) => Some(v as i64),
            ConfigValue::Short(v) => Some(v as i64),
            ConfigValue::Long(v) => Some(v),
            _ => None,
        }
    }
    /// An int value.
    pub fn int(&self, key: &str) -> Option<i32> {
        match *self.get(key) {
            ConfigValue::Int(v) => Some(v),
            ConfigValue::Short(v) => Some(v as i32),
            _ => None,
        }
    }
    /// A double value.
    pub fn double(&self, key: &str) -> Option<f64> {
        match *self.get(key) {
            ConfigValue::Double(v) => Some(v),
            _ => None,
        }
    }
    /// A list value (empty when null).
    pub fn list(&self, key: &str) -> &[String] {
        match self.get(key) {
            ConfigValue::List(v) => v,
            _ => &[],
        }
    }
    /// The strings the configuration was parsed from.
    pub fn originals(&self) -> &ConfigMap {
        &self.originals
    }
    /// Original entries under `prefix`, with the prefix removed.
    pub fn originals_with_prefix(&self, prefix: &str) -> ConfigMap {
        with_prefix(&self.originals, prefix)
    }
}

/// A config map from `(key, value)` pairs, in order.
pub fn config_map<'a>(pairs: impl IntoIterator<Item = &'a (&'a str, &'a str)>) -> ConfigMap {
    pairs
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Entries of `props` under `prefix`, with the prefix removed.
pub fn with_prefix(props: &ConfigMap, prefix: &str) -> ConfigMap {
    props
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|k| (k.to_owned(), v.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def() -> ConfigDef {
        ConfigDef::new()
            .define(ConfigKey::new("file", ConfigType::String).importance(Importance::High))
            .define(
                ConfigKey::new("batch.size", ConfigType::Int)
                    .default_value("2000")
                    .validator(Validator::at_least(1.0)),
            )
            .define(
                ConfigKey::new("mode", ConfigType::String)
                    .default_value("a")
                    .validator(Validator::one_of(["a", "b"])),
            )
            .define(ConfigKey::new("topics", ConfigType::List).default_value(""))
    }

    fn props(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_typed_values_and_defaults() {
        let p = def()
            .parse(&props(&[("file", " /tmp/x "), ("topics", "a, b")]))
            .unwrap();
        assert_eq!(p.string("file"), Some("/tmp/x"));
        assert_eq!(p.int("batch.size"), Some(2000));
        assert_eq!(p.list("topics"), ["a", "b"]);
    }

    #[test]
    fn parse_reports_first_error_with_kafka_wording() {
        let e = def()
            .parse(&props(&[("file", "f"), ("batch.size", "x")]))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid value x for configuration batch.size: Not a number of type INT"
        );
        let e = def().parse(&props(&[])).unwrap_err();
        assert_eq!(e.key.as_deref(), Some("file"));
    }

    #[test]
    fn validate_collects_errors_per_key() {
        let v = def().validate(&props(&[("batch.size", "0"), ("mode", "c")]));
        let errs = |n: &str| v.iter().find(|c| c.name == n).unwrap().errors.clone();
        assert_eq!(
            errs("file"),
            ["Missing required configuration \"file\" which has no default value."]
        );
        assert_eq!(
            errs("batch.size"),
            ["Invalid value 0 for configuration batch.size: Value must be at least 1"]
        );
        assert_eq!(
            errs("mode"),
            ["Invalid value c for configuration mode: String must be one of: a, b"]
        );
        assert!(errs("topics").is_empty());
    }

    /// Connect runs the validator on the null an unparsable value leaves (ConfigDef.validate).
    #[test]
    fn an_unparsable_value_also_fails_a_range_validator_on_null() {
        let v = def().validate(&props(&[("batch.size", "many")]));
        let errs = v.iter().find(|c| c.name == "batch.size").unwrap().errors.clone();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(
            errs[1],
            "Invalid value null for configuration batch.size: Value must be non-null"
        );
    }
}
