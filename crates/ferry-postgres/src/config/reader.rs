//! Reads typed values from a [`ConfigMap`] through the connector's [`ConfigDef`]:
//! defaults, bounds and option names come from the definition, old names from
//! [`ALIASES`](super::def::ALIASES). Every problem is collected, each naming its key.

use ferry_core::config::{ConfigDefault, ConfigKey, Validator};
use ferry_core::{ConfigDef, ConfigError, ConfigMap};
use regex::Regex;

use super::choices::Choice;
use super::def::alias_of;
use super::filters::{anchored, split_regex_list};

/// A reader over one configuration; collects errors instead of stopping at the first.
pub(super) struct Reader<'a> {
    def: ConfigDef,
    map: &'a ConfigMap,
    /// Problems found so far, in the order met.
    pub(super) errors: Vec<ConfigError>,
    /// The settings read, in order (to check them against the definition).
    pub(super) read: Vec<String>,
    /// How many of `errors`, from the start, Debezium's checks found.
    pub(super) checked: usize,
}

impl<'a> Reader<'a> {
    /// A reader of `map` through `def`.
    pub(super) fn new(def: ConfigDef, map: &'a ConfigMap) -> Self {
        Reader {
            def,
            map,
            errors: Vec::new(),
            read: Vec::new(),
            checked: 0,
        }
    }

    /// The declaration of `name`; every setting read must be declared.
    fn key(&mut self, name: &str) -> ConfigKey {
        self.read.push(name.to_string());
        self.def
            .key(name)
            .unwrap_or_else(|| panic!("setting {name} is read but not declared in config_def()"))
            .clone()
    }

    /// The value given for `name` or, when `name` is absent, for its old name: the key as
    /// written and the trimmed value. A blank value counts as unset.
    pub(super) fn raw<'n>(&self, name: &'n str) -> Option<(&'n str, &'a str)> {
        let map = self.map;
        std::iter::once(name)
            .chain(alias_of(name))
            .find_map(|k| map.get(k).map(|v| (k, v.trim())))
            .filter(|(_, v)| !v.is_empty())
    }

    /// The definition read through.
    pub(super) fn def(&self) -> &ConfigDef {
        &self.def
    }

    /// Whether an error about `key` was found already (a failed check of
    /// [`CHECKS`](super::def::CHECKS) is not reported again in other words).
    fn has_error(&self, key: &str) -> bool {
        self.errors.iter().any(|e| e.key.as_deref() == Some(key))
    }

    /// An integer setting whose default is null: the value, else `fallback`.
    pub(super) fn int_or(&mut self, name: &str, fallback: i64) -> i64 {
        self.key(name);
        self.raw(name)
            .and_then(|(_, v)| v.parse::<i64>().ok())
            .unwrap_or(fallback)
    }

    /// The whole configuration (for settings whose names are patterns).
    pub(super) fn map(&self) -> &'a ConfigMap {
        self.map
    }

    /// Whether `name` (or its old name) has a non-blank value.
    pub(super) fn is_set(&self, name: &str) -> bool {
        self.raw(name).is_some()
    }

    /// The value exactly as given for `name` itself (not its old name), `""` when absent.
    pub(super) fn raw_untrimmed(&self, name: &str) -> String {
        self.map.get(name).cloned().unwrap_or_default()
    }

    /// An optional string setting and the key it was given under (`name` or its old name).
    pub(super) fn opt_with_key(&mut self, name: &str) -> Option<(String, String)> {
        self.key(name);
        self.raw(name).map(|(k, v)| (k.to_string(), v.to_string()))
    }

    /// The declared default of `name` in string form, if it has one.
    fn default_text(key: &ConfigKey) -> Option<&str> {
        match &key.default {
            ConfigDefault::Value(d) => Some(d),
            ConfigDefault::Null | ConfigDefault::Required => None,
        }
    }

    /// A string setting: the value, else the default; a missing required one is an error.
    pub(super) fn string(&mut self, name: &str) -> String {
        let key = self.key(name);
        if let Some((_, v)) = self.raw(name) {
            return v.to_string();
        }
        if key.is_required() {
            self.errors.push(ConfigError::missing(name));
        }
        Self::default_text(&key).unwrap_or_default().to_string()
    }

    /// An optional string setting (null by default).
    pub(super) fn opt(&mut self, name: &str) -> Option<String> {
        self.key(name);
        self.raw(name).map(|(_, v)| v.to_string())
    }

    /// An integer setting within the bounds of its `Range` validator.
    pub(super) fn int(&mut self, name: &str) -> i64 {
        let key = self.key(name);
        let default = Self::default_text(&key)
            .and_then(|d| d.parse::<i64>().ok())
            .unwrap_or_else(|| panic!("setting {name} declares no integer default"));
        let (min, max) = match key.validator {
            Some(Validator::Range { min, max }) => (min, max),
            _ => (None, None),
        };
        let Some((k, v)) = self.raw(name) else {
            return default;
        };
        let Ok(n) = v.parse::<i64>() else {
            if !self.has_error(k) {
                self.errors
                    .push(ConfigError::invalid(k, v, "An integer is expected"));
            }
            return default;
        };
        if let Some(min) = min.map(|m| m as i64).filter(|m| n < *m) {
            self.errors.push(ConfigError::invalid(
                k,
                v,
                format!("Value must be at least {min}"),
            ));
            return default;
        }
        if let Some(max) = max.map(|m| m as i64).filter(|m| n > *m) {
            self.errors.push(ConfigError::invalid(
                k,
                n,
                format!("Value must be no more than {max}"),
            ));
        }
        n
    }

    /// A boolean setting (`true`/`false`, any case).
    pub(super) fn boolean(&mut self, name: &str) -> bool {
        let key = self.key(name);
        let default = Self::default_text(&key) == Some("true");
        let Some((k, v)) = self.raw(name) else {
            return default;
        };
        if v.eq_ignore_ascii_case("true") {
            true
        } else if v.eq_ignore_ascii_case("false") {
            false
        } else {
            if !self.has_error(k) {
                self.errors
                    .push(ConfigError::invalid(k, v, "Either 'true' or 'false' is expected"));
            }
            default
        }
    }

    /// An enumerated setting: one of `T`'s option names, ignoring case.
    pub(super) fn choice<T: Choice>(&mut self, name: &str) -> T {
        let key = self.key(name);
        let default = Self::default_text(&key)
            .and_then(T::from_name)
            .unwrap_or_else(|| panic!("setting {name} declares no default among its choices"));
        let Some((k, v)) = self.raw(name) else {
            return default;
        };
        T::from_name(v).unwrap_or_else(|| {
            // A value Debezium knows but Ferry does not implement is refused as such; an
            // unknown one was reported by its check (or is reported here).
            if key.recommended_values.iter().any(|r| r.eq_ignore_ascii_case(v)) {
                self.errors.push(ConfigError::invalid(
                    k,
                    v,
                    format!("Ferry does not support {name}={v} yet"),
                ));
            } else if !self.has_error(k) {
                let names: Vec<String> = if key.recommended_values.is_empty() {
                    T::names().map(str::to_string).collect()
                } else {
                    key.recommended_values.clone()
                };
                self.errors.push(ConfigError::invalid(
                    k,
                    v,
                    format!("Value must be one of {}", names.join(", ")),
                ));
            }
            default
        })
    }

    /// A comma-separated list of regexes (`\,` escapes a comma), each anchored and
    /// case-insensitive; empty when unset.
    pub(super) fn regex_list(&mut self, name: &str) -> Vec<Regex> {
        self.key(name);
        let Some((k, v)) = self.raw(name) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pat in split_regex_list(v) {
            match anchored(&pat) {
                Ok(r) => out.push(r),
                Err(e) => self.errors.push(ConfigError::invalid(
                    k,
                    v,
                    format!("invalid regular expression '{pat}': {e}"),
                )),
            }
        }
        out
    }
}
