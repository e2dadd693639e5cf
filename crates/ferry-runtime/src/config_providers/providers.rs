//! Kafka's three config providers: `FileConfigProvider` (a properties file),
//! `DirectoryConfigProvider` (one file per key) and `EnvVarConfigProvider`.

use std::collections::{BTreeSet, HashMap};

use ferry_core::ConfigMap;
use regex::Regex;

use super::paths::AllowedPaths;
use super::ProviderError;

/// One configured provider.
#[derive(Debug, Clone)]
pub enum Provider {
    /// `${file:/path/to/file.properties:key}`.
    File(AllowedPaths),
    /// `${dir:/path/to/dir:filename}`: the file's whole content.
    Directory(AllowedPaths),
    /// `${env:NAME}`, for the variables `allowlist.pattern` matches.
    EnvVar(Option<Regex>),
}

impl Provider {
    /// The provider a class name (or its simple name) stands for, set up from its `param.*`.
    pub fn new(class: &str, params: &ConfigMap) -> Result<Provider, ProviderError> {
        let class = class.trim();
        let is =
            |name: &str| class == name || class == format!("org.apache.kafka.common.config.provider.{name}");
        let paths = || AllowedPaths::parse(params.get("allowed.paths").map(String::as_str));
        if is("FileConfigProvider") {
            Ok(Provider::File(paths()?))
        } else if is("DirectoryConfigProvider") {
            Ok(Provider::Directory(paths()?))
        } else if is("EnvVarConfigProvider") {
            let pattern =
                match params.get("allowlist.pattern") {
                    None => None,
                    Some(p) => Some(Regex::new(&format!("^(?:{p})$")).map_err(|e| {
                        ProviderError::Config(format!("Invalid allowlist.pattern '{p}': {e}"))
                    })?),
                };
            Ok(Provider::EnvVar(pattern))
        } else {
            Err(ProviderError::Config(format!(
                "Failed to find any class that implements ConfigProvider and which name matches {class}"
            )))
        }
    }

    /// The values of `keys` at `path`; a key without a value is left out.
    pub fn get(&self, path: &str, keys: &BTreeSet<String>) -> Result<HashMap<String, String>, ProviderError> {
        match self {
            Provider::File(allowed) => file_values(allowed, path, keys),
            Provider::Directory(allowed) => dir_values(allowed, path, keys),
            Provider::EnvVar(pattern) => {
                if !path.is_empty() {
                    return Err(ProviderError::Config(format!(
                        "Path is not supported for EnvVarConfigProvider, invalid value '{path}'"
                    )));
                }
                Ok(keys
                    .iter()
                    .filter(|k| pattern.as_ref().is_none_or(|p| p.is_match(k)))
                    .filter_map(|k| Some((k.clone(), std::env::var(k).ok()?)))
                    .collect())
            }
        }
    }
}

fn file_values(
    allowed: &AllowedPaths,
    path: &str,
    keys: &BTreeSet<String>,
) -> Result<HashMap<String, String>, ProviderError> {
    if path.is_empty() {
        return Ok(HashMap::new());
    }
    let Some(file) = allowed.check(path) else {
        tracing::warn!("The path {path} is not allowed to be accessed");
        return Ok(HashMap::new());
    };
    let read = std::fs::File::open(&file)
        .map_err(|e| e.to_string())
        .and_then(|f| java_properties::read(std::io::BufReader::new(f)).map_err(|e| e.to_string()));
    let mut props = read.map_err(|e| {
        tracing::error!("Could not read properties from file {path}: {e}");
        ProviderError::Config(format!("Could not read properties from file {path}"))
    })?;
    Ok(keys
        .iter()
        .filter_map(|k| Some((k.clone(), props.remove(k)?)))
        .collect())
}

fn dir_values(
    allowed: &AllowedPaths,
    path: &str,
    keys: &BTreeSet<String>,
) -> Result<HashMap<String, String>, ProviderError> {
    let mut out = HashMap::new();
    if path.is_empty() {
        return Ok(out);
    }
    let Some(dir) = allowed.check(path) else {
        tracing::warn!("The path {path} is not allowed to be accessed");
        return Ok(out);
    };
    if !dir.is_dir() {
        tracing::warn!("The path {path} is not a directory");
        return Ok(out);
    }
    for key in keys {
        // Only a file directly in the directory, named exactly as the key.
        if key.contains('/') || key == ".." || key == "." {
            continue;
        }
        let file = dir.join(key);
        if !file.is_file() {
            continue;
        }
        let bytes = std::fs::read(&file).map_err(|_| {
            ProviderError::Config(format!(
                "Could not read file {} for property {key}",
                file.display()
            ))
        })?;
        out.insert(key.clone(), String::from_utf8_lossy(&bytes).into_owned());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(k: &[&str]) -> BTreeSet<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_file_provider_reads_java_properties() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("db.properties");
        std::fs::write(&f, "# secrets\npassword = s3cr\\u0065t\nuser:ferry\n").unwrap();
        let p = Provider::new(
            "org.apache.kafka.common.config.provider.FileConfigProvider",
            &ConfigMap::new(),
        )
        .unwrap();
        let got = p
            .get(f.to_str().unwrap(), &keys(&["password", "user", "absent"]))
            .unwrap();
        assert_eq!(got.get("password").map(String::as_str), Some("s3cret"));
        assert_eq!(got.get("user").map(String::as_str), Some("ferry"));
        assert!(!got.contains_key("absent"));
        let e = p.get("/no/such/file.properties", &keys(&["a"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Could not read properties from file /no/such/file.properties"
        );
    }

    #[test]
    fn the_directory_provider_reads_one_file_per_key() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("db-password"), "pw\n").unwrap();
        let mut params = ConfigMap::new();
        params.insert("allowed.paths".into(), dir.path().to_str().unwrap().into());
        let p = Provider::new("DirectoryConfigProvider", &params).unwrap();
        let got = p
            .get(
                dir.path().to_str().unwrap(),
                &keys(&["db-password", "missing", "../etc"]),
            )
            .unwrap();
        assert_eq!(got.len(), 1);
        // The whole content, trailing newline included, as Kafka's provider reads it.
        assert_eq!(got["db-password"], "pw\n");
        assert!(p.get("/etc", &keys(&["passwd"])).unwrap().is_empty());
    }

    #[test]
    fn the_env_provider_honours_its_allowlist_and_refuses_paths() {
        std::env::set_var("FERRY_CP_UNIT_ALLOWED", "yes");
        std::env::set_var("FERRY_CP_UNIT_HIDDEN", "no");
        let mut params = ConfigMap::new();
        params.insert("allowlist.pattern".into(), "FERRY_CP_UNIT_A.*".into());
        let p = Provider::new(
            "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
            &params,
        )
        .unwrap();
        let got = p
            .get("", &keys(&["FERRY_CP_UNIT_ALLOWED", "FERRY_CP_UNIT_HIDDEN"]))
            .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got["FERRY_CP_UNIT_ALLOWED"], "yes");
        let e = p.get("/x", &keys(&["A"])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Path is not supported for EnvVarConfigProvider, invalid value '/x'"
        );
        let e = Provider::new("com.example.VaultConfigProvider", &ConfigMap::new()).unwrap_err();
        assert!(e.to_string().contains("com.example.VaultConfigProvider"), "{e}");
    }
}
