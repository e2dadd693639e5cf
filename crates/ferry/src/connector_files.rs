//! Connector configs given to `ferry standalone`: `.properties` files, or JSON as
//! POSTed to `/connectors` (`{"name":..,"config":{..}}`) or a flat JSON map.

use std::path::Path;

use anyhow::{bail, Context};
use ferry_rest::entities::NullableConfig;

/// Reads one connector file; returns its name and config.
pub fn read(path: &Path) -> anyhow::Result<(String, NullableConfig)> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut config = NullableConfig::new();
    if path.extension().is_some_and(|e| e == "json") {
        let v: serde_json::Value =
            serde_json::from_str(&text).with_context(|| format!("{} is not valid JSON", path.display()))?;
        let map = match v.get("config") {
            Some(c) => c.clone(),
            None => v.clone(),
        };
        let Some(obj) = map.as_object() else {
            bail!("{}: expected a JSON object of string values", path.display());
        };
        for (k, v) in obj {
            let s = match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Null => None,
                other => Some(other.to_string()),
            };
            config.insert(k.clone(), s);
        }
        if let Some(name) = v.get("name").and_then(|n| n.as_str()) {
            config
                .entry("name".into())
                .or_insert_with(|| Some(name.to_owned()));
        }
    } else {
        let props = java_properties::read(std::io::Cursor::new(text))
            .with_context(|| format!("{} is not a valid properties file", path.display()))?;
        let mut entries: Vec<_> = props.into_iter().collect();
        entries.sort();
        for (k, v) in entries {
            config.insert(k, Some(v));
        }
    }
    let name = match config.get("name") {
        Some(Some(n)) if !n.trim().is_empty() => n.trim().to_owned(),
        _ => bail!("{}: connector config has no \"name\"", path.display()),
    };
    Ok((name, config))
}
