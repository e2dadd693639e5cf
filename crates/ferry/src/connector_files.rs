//! Connector configs given to `ferry standalone`: `.properties` files, or JSON as
//! POSTed to `/connectors` (`{"name":..,"config":{..}}`) or a flat JSON map.

use std::path::Path;

use anyhow::{bail, Context};
use ferry_rest::entities::NullableConfig;
use ferry_runtime::store::hash_order::java_hash_map;

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
        // Connect loads the file into java.util.Properties and copies it into a HashMap:
        // the connector's config iterates in HashMap order (a later duplicate key wins).
        let mut props = ferry_core::ConfigMap::new();
        java_properties::PropertiesIter::new(std::io::Cursor::new(text))
            .read_into(|k, v| {
                props.insert(k, v);
            })
            .with_context(|| format!("{} is not a valid properties file", path.display()))?;
        for (k, v) in java_hash_map(props) {
            config.insert(k, Some(v));
        }
    }
    let name = match config.get("name") {
        Some(Some(n)) if !n.trim().is_empty() => n.trim().to_owned(),
        _ => bail!("{}: connector config has no \"name\"", path.display()),
    };
    Ok((name, config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_files_iterate_as_connects_hash_map() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("source.properties");
        std::fs::write(
            &path,
            "name=lines\nconnector.class=FileStreamSource\ntasks.max=1\nfile=/tmp/in.txt\ntopic=t\ntopic=lines\n",
        )
        .unwrap();
        let (name, config) = read(&path).unwrap();
        assert_eq!(name, "lines");
        let keys: Vec<&str> = config.keys().map(String::as_str).collect();
        assert_eq!(keys, ["connector.class", "file", "tasks.max", "name", "topic"]);
        assert_eq!(config["topic"].as_deref(), Some("lines"));
    }

    #[test]
    fn json_files_keep_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sink.json");
        std::fs::write(
            &path,
            r#"{"name":"s","config":{"topics":"t","connector.class":"FileStreamSink"}}"#,
        )
        .unwrap();
        let (_, config) = read(&path).unwrap();
        let keys: Vec<&str> = config.keys().map(String::as_str).collect();
        assert_eq!(keys, ["topics", "connector.class", "name"]);
    }
}
