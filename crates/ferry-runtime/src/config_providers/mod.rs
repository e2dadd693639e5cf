//! Config providers (KIP-297, KIP-421): `${provider:[path:]key}` in a connector config
//! is resolved from the worker's `config.providers` when the connector or a task
//! starts. The config topic and `GET /connectors/NAME/config` keep the variables;
//! task configs a connector derives from resolved values get the variables back
//! before they are stored (Connect's `reverseTransform`).
//!
//! Worker settings, as in Kafka Connect:
//! `config.providers=file,env,dir`,
//! `config.providers.file.class=org.apache.kafka.common.config.provider.FileConfigProvider`,
//! `config.providers.NAME.param.allowed.paths=/run/secrets` (file, dir),
//! `config.providers.NAME.param.allowlist.pattern=PG_.*` (env).

pub mod paths;
pub mod policy;
pub mod providers;
pub mod variables;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use ferry_core::ConfigMap;

pub use policy::{OverridePolicy, CLIENT_ROLES};
pub use providers::Provider;
pub use variables::{has_variables, Variable};

use crate::WorkerConfig;

/// Why a config could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// A provider is misconfigured or could not read what a variable names (Connect's
    /// `ConfigException` text).
    #[error("{0}")]
    Config(String),
}

/// The providers the worker config names, by name.
#[derive(Debug, Clone, Default)]
pub struct ConfigProviders {
    providers: HashMap<String, Provider>,
}

impl ConfigProviders {
    /// Sets up every provider listed in `config.providers`; a name without a
    /// `config.providers.NAME.class` is skipped, as Connect does.
    pub fn from_worker(originals: &ConfigMap) -> Result<ConfigProviders, ProviderError> {
        let mut providers = HashMap::new();
        let names = originals
            .get("config.providers")
            .map(String::as_str)
            .unwrap_or("");
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let Some(class) = originals.get(&format!("config.providers.{name}.class")) else {
                tracing::warn!("config provider {name} has no config.providers.{name}.class; ignored");
                continue;
            };
            let params =
                ferry_core::config::with_prefix(originals, &format!("config.providers.{name}.param."));
            let provider = Provider::new(class, &params)
                .map_err(|e| ProviderError::Config(format!("config.providers.{name}.class={class}: {e}")))?;
            providers.insert(name.to_owned(), provider);
        }
        Ok(ConfigProviders { providers })
    }

    /// `config` with every variable of a known provider replaced; an unknown provider
    /// or a key the provider lacks leaves the variable as written (Connect's
    /// `ConfigTransformer`). A provider that fails to read fails the whole resolution.
    pub fn transform(&self, config: &ConfigMap) -> Result<ConfigMap, ProviderError> {
        // Which keys to fetch, grouped by provider and path, so each file is read once.
        let mut wanted: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
        for value in config.values() {
            for v in variables::variables(value) {
                if self.providers.contains_key(&v.provider) {
                    wanted.entry((v.provider, v.path)).or_default().insert(v.key);
                }
            }
        }
        if wanted.is_empty() {
            return Ok(config.clone());
        }
        let mut found: HashMap<(String, String), HashMap<String, String>> = HashMap::new();
        for ((provider, path), keys) in wanted {
            let values = self.providers[&provider].get(&path, &keys)?;
            found.insert((provider, path), values);
        }
        Ok(config
            .iter()
            .map(|(k, value)| {
                let resolved = variables::replace(value, |v| {
                    found
                        .get(&(v.provider.clone(), v.path.clone()))?
                        .get(&v.key)
                        .cloned()
                });
                (k.clone(), resolved)
            })
            .collect())
    }
}

/// `config` resolved with the providers of the worker config (`config` itself when it
/// holds no variable).
pub fn resolve(worker: &WorkerConfig, config: &ConfigMap) -> Result<ConfigMap, ProviderError> {
    if !config.values().any(|v| has_variables(v)) {
        return Ok(config.clone());
    }
    ConfigProviders::from_worker(&worker.originals)?.transform(config)
}

/// Puts the variables of the raw connector config back into task configs made from its
/// resolved values: each task key that the raw config gives with a variable gets the
/// raw value (Connect's `AbstractHerder.reverseTransform`).
pub fn reverse_transform(raw_connector: &ConfigMap, task_configs: &mut [ConfigMap]) {
    let with_variables: Vec<(&String, &String)> =
        raw_connector.iter().filter(|(_, v)| has_variables(v)).collect();
    if with_variables.is_empty() {
        return;
    }
    for task in task_configs {
        for (k, raw) in &with_variables {
            if let Some(v) = task.get_mut(*k) {
                v.clone_from(raw);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_connector_config_is_resolved_from_the_worker_providers() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pg.properties");
        std::fs::write(&file, "password=hunter2\n").unwrap();
        std::fs::write(dir.path().join("user"), "ferry").unwrap();
        std::env::set_var("FERRY_CP_UNIT_HOST", "db.internal");
        let worker = map(&[
            ("config.providers", "file, env,dir,nameless"),
            (
                "config.providers.file.class",
                "org.apache.kafka.common.config.provider.FileConfigProvider",
            ),
            (
                "config.providers.env.class",
                "org.apache.kafka.common.config.provider.EnvVarConfigProvider",
            ),
            (
                "config.providers.dir.class",
                "org.apache.kafka.common.config.provider.DirectoryConfigProvider",
            ),
        ]);
        let providers = ConfigProviders::from_worker(&worker).unwrap();
        let f = file.to_str().unwrap();
        let d = dir.path().to_str().unwrap();
        let connector = map(&[
            ("database.password", &format!("${{file:{f}:password}}")),
            ("database.user", &format!("${{dir:{d}:user}}")),
            ("database.hostname", "${env:FERRY_CP_UNIT_HOST}"),
            ("other", "${vault:x:y} ${file:${f}:absent}"),
            ("plain", "value"),
        ]);
        let resolved = providers.transform(&connector).unwrap();
        assert_eq!(resolved["database.password"], "hunter2");
        assert_eq!(resolved["database.user"], "ferry");
        assert_eq!(resolved["database.hostname"], "db.internal");
        assert_eq!(resolved["other"], connector["other"]);
        assert_eq!(resolved["plain"], "value");
        // The raw config is untouched.
        assert!(connector["database.password"].starts_with("${file:"));
    }

    #[test]
    fn a_missing_file_fails_and_an_unknown_class_names_its_key() {
        let worker = map(&[
            ("config.providers", "file"),
            ("config.providers.file.class", "FileConfigProvider"),
        ]);
        let providers = ConfigProviders::from_worker(&worker).unwrap();
        let e = providers
            .transform(&map(&[("p", "${file:/no/such.properties:k}")]))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Could not read properties from file /no/such.properties"
        );
        let worker = map(&[
            ("config.providers", "vault"),
            ("config.providers.vault.class", "com.example.Vault"),
        ]);
        let e = ConfigProviders::from_worker(&worker).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("config.providers.vault.class=com.example.Vault: "),
            "{e}"
        );
    }

    #[test]
    fn task_configs_get_the_variables_back() {
        let raw = map(&[
            ("database.password", "${file:/s.properties:pw}"),
            ("topic.prefix", "p"),
        ]);
        let mut tasks = vec![
            map(&[
                ("database.password", "hunter2"),
                ("topic.prefix", "p"),
                ("task.class", "T"),
            ]),
            map(&[("topic.prefix", "p")]),
        ];
        reverse_transform(&raw, &mut tasks);
        assert_eq!(tasks[0]["database.password"], "${file:/s.properties:pw}");
        assert_eq!(tasks[0]["task.class"], "T");
        assert!(!tasks[1].contains_key("database.password"));
    }
}
