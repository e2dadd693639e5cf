//! `${provider:[path:]key}` variables, found and replaced as Kafka's
//! `ConfigTransformer` does (its `DEFAULT_PATTERN`).

use std::sync::LazyLock;

use regex::{Captures, Regex};

static PATTERN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}").expect("variable pattern"));

/// One `${provider:path:key}` reference.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Variable {
    /// The provider's name in `config.providers`.
    pub provider: String,
    /// The path (empty when the variable has none).
    pub path: String,
    /// The key looked up at that path.
    pub key: String,
}

impl Variable {
    fn from_captures(c: &Captures<'_>) -> Variable {
        Variable {
            provider: c[1].to_owned(),
            path: c.get(3).map_or(String::new(), |m| m.as_str().to_owned()),
            key: c[4].to_owned(),
        }
    }
}

/// Every variable in `value`, in order.
pub fn variables(value: &str) -> Vec<Variable> {
    PATTERN
        .captures_iter(value)
        .map(|c| Variable::from_captures(&c))
        .collect()
}

/// Whether `value` holds at least one variable.
pub fn has_variables(value: &str) -> bool {
    PATTERN.is_match(value)
}

/// `value` with each variable replaced by what `lookup` gives; a variable it gives
/// nothing for stays as written (as Connect leaves an unknown provider or key).
pub fn replace(value: &str, mut lookup: impl FnMut(&Variable) -> Option<String>) -> String {
    PATTERN
        .replace_all(value, |c: &Captures<'_>| {
            lookup(&Variable::from_captures(c)).unwrap_or_else(|| c[0].to_owned())
        })
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(provider: &str, path: &str, key: &str) -> Variable {
        Variable {
            provider: provider.into(),
            path: path.into(),
            key: key.into(),
        }
    }

    #[test]
    fn variables_parse_as_connect_does() {
        assert_eq!(
            variables("${file:/etc/pg.properties:password}"),
            [var("file", "/etc/pg.properties", "password")]
        );
        assert_eq!(variables("${env:PG_PASSWORD}"), [var("env", "", "PG_PASSWORD")]);
        assert_eq!(
            variables("${dir:/run/secrets:db}"),
            [var("dir", "/run/secrets", "db")]
        );
        // The path takes what lies before the last colon group as the lazy pattern reads it.
        assert_eq!(variables("${a:b:c:d}"), [var("a", "b", "c:d")]);
        assert_eq!(
            variables("jdbc:${env:HOST}:${env:PORT}/x"),
            [var("env", "", "HOST"), var("env", "", "PORT")]
        );
        assert!(variables("${nocolon}").is_empty());
        assert!(variables("plain").is_empty());
        assert!(has_variables("x${env:A}y"));
        assert!(!has_variables("$env:A"));
    }

    #[test]
    fn unknown_variables_stay_as_written() {
        let out = replace("u=${env:USER} p=${vault:secret:pw}", |v| {
            (v.provider == "env").then(|| "me".into())
        });
        assert_eq!(out, "u=me p=${vault:secret:pw}");
    }
}
