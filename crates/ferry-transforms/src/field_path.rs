//! `field.syntax.version` (V1: a top-level name; V2: dotted paths with backtick quoting)
//! and the single-field path it selects.

use ferry_core::{ConfigError, ConfigKey, ConfigType, Field, Importance, Schema, Struct, Validator, Value};

use crate::util::{field_value_by_name, map_get, require_map_or_null, require_struct_or_null};

/// The option key.
pub const FIELD_SYNTAX_VERSION_CONFIG: &str = "field.syntax.version";

/// The `field.syntax.version` option (`V1` default, case-insensitive).
pub fn field_syntax_version_key() -> ConfigKey {
    ConfigKey::new(FIELD_SYNTAX_VERSION_CONFIG, ConfigType::String)
        .default_value("V1")
        .validator(Validator::one_of_ignore_case(["V1", "V2"]))
        .importance(Importance::High)
        .doc("Defines the version of the syntax to access fields. If set to `V1`, then the field paths are limited to access the elements at the root level of the struct or map. If set to `V2`, the syntax will support accessing nested elements. To access nested elements, dotted notation is used. If dots are already included in the field name, then backtick pairs can be used to wrap field names containing dots. E.g. to access the subfield `baz` from a field named \"foo.bar\" in a struct/map the following format can be used to access its elements: \"`foo.bar`.baz\".")
}

/// A path of one or more field names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SingleFieldPath {
    steps: Vec<String>,
}

impl SingleFieldPath {
    /// Parses `path` with syntax `version` (`V1`/`V2`, any case).
    pub fn new(path: &str, version: &str) -> Result<Self, ConfigError> {
        if version.eq_ignore_ascii_case("V2") {
            Ok(SingleFieldPath {
                steps: parse_v2(path)?,
            })
        } else {
            Ok(SingleFieldPath {
                steps: vec![path.to_owned()],
            })
        }
    }

    /// The steps.
    pub fn steps(&self) -> &[String] {
        &self.steps
    }

    fn split(&self) -> (&[String], &str) {
        let (last, init) = self.steps.split_last().expect("a path has at least one step");
        (init, last)
    }

    /// The field the path names in `schema`.
    pub fn field_from<'a>(&self, schema: &'a Schema) -> Option<&'a Field> {
        let (init, last) = self.split();
        let mut current = schema;
        for step in init {
            current = current.field(step)?.schema();
        }
        current.field(last)
    }

    /// The value at the path in a struct (null when any step is missing or null).
    pub fn value_from_struct(&self, s: &Struct, with_default: bool) -> Result<Value, ferry_core::DataError> {
        let (init, last) = self.split();
        let mut current = s.clone();
        for step in init {
            if current.schema().field(step).is_none() {
                return Ok(Value::Null);
            }
            let sub = field_value_by_name(&current, step, true);
            match require_struct_or_null(&sub, "nested field access")? {
                Some(next) => current = next.clone(),
                None => return Ok(Value::Null),
            }
        }
        Ok(field_value_by_name(&current, last, with_default))
    }

    /// The value at the path in a schemaless map.
    pub fn value_from_map(&self, map: &Value) -> Result<Value, ferry_core::DataError> {
        let (init, last) = self.split();
        let mut current = map.clone();
        for step in init {
            let next = match require_map_or_null(&current, "nested field access")? {
                Some(m) => map_get(m, step).cloned().unwrap_or(Value::Null),
                None => return Ok(Value::Null),
            };
            if next.is_null() {
                return Ok(Value::Null);
            }
            current = next;
        }
        Ok(match require_map_or_null(&current, "nested field access")? {
            Some(m) => map_get(m, last).cloned().unwrap_or(Value::Null),
            None => Value::Null,
        })
    }
}

fn incomplete(path: &str, at: usize) -> ConfigError {
    ConfigError::other(
        None,
        format!(
            "Incomplete backtick pair in path: [{path}], consider adding a backslash before backtick at position {at} to escape it"
        ),
    )
}

fn parse_v2(path: &str) -> Result<Vec<String>, ConfigError> {
    let p: Vec<char> = path.chars().collect();
    let find = |c: char, from: usize| p.iter().skip(from).position(|x| *x == c).map(|i| i + from);
    let mut steps = Vec::new();
    let mut idx = 0usize;
    while idx < p.len() {
        if p[idx] != '`' {
            let start = idx;
            match find('.', idx) {
                Some(dot) => {
                    steps.push(p[start..dot].iter().collect());
                    idx = dot + 1;
                }
                None => {
                    steps.push(p[start..].iter().collect());
                    idx = p.len();
                }
            }
        } else {
            let backtick_at = idx;
            idx += 1;
            let mut field = String::new();
            let mut start = idx;
            loop {
                let Some(bt) = find('`', idx) else {
                    return Err(incomplete(path, backtick_at));
                };
                idx = bt;
                let escaped = p[idx - 1] == '\\';
                if idx + 1 >= p.len() {
                    if escaped {
                        return Err(incomplete(path, backtick_at));
                    }
                    field.extend(&p[start..idx]);
                    steps.push(field);
                    idx += 1;
                    break;
                }
                if p[idx + 1] != '.' {
                    idx += 1;
                    continue;
                }
                if escaped {
                    field.extend(&p[start..idx - 1]);
                    field.push('`');
                    idx += 1;
                    start = idx;
                    continue;
                }
                field.extend(&p[start..idx]);
                steps.push(field);
                idx += 2;
                break;
            }
        }
    }
    if path.ends_with('.') || steps.is_empty() {
        steps.push(String::new());
    }
    Ok(steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2(p: &str) -> Vec<String> {
        SingleFieldPath::new(p, "V2").unwrap().steps().to_vec()
    }

    #[test]
    fn parses_v2_paths_like_kafka() {
        assert_eq!(v2("foo.bar"), ["foo", "bar"]);
        assert_eq!(v2("`foo.bar`.baz"), ["foo.bar", "baz"]);
        assert_eq!(v2("foo."), ["foo", ""]);
        assert_eq!(v2("`foo\\`.bar`.baz"), ["foo`.bar", "baz"]);
        assert_eq!(v2("foo"), ["foo"]);
        assert_eq!(v2(""), [""]);
        assert!(SingleFieldPath::new("`foo.bar", "V2").is_err());
        assert_eq!(SingleFieldPath::new("a.b", "v1").unwrap().steps(), ["a.b"]);
    }
}
