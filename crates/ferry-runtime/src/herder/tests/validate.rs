//! Validation sees config provider variables resolved; the stored config keeps them.

use ferry_core::ConfigMap;
use ferry_rest::entities::NullableConfig;

use super::super::enrich::WorkerConverters;
use super::super::validate::validate;
use super::plugins::registry;
use crate::config_providers::ConfigProviders;

fn worker(providers: Option<ConfigProviders>) -> WorkerConverters {
    WorkerConverters {
        key: "org.apache.kafka.connect.json.JsonConverter".into(),
        value: "org.apache.kafka.connect.json.JsonConverter".into(),
        header: "org.apache.kafka.connect.storage.SimpleHeaderConverter".into(),
        override_policy: None,
        providers,
    }
}

fn tasks_max_errors(v: &super::super::validate::Validated) -> Vec<String> {
    v.infos
        .configs
        .iter()
        .filter_map(|c| c.value.as_ref())
        .filter(|v| v.name == "tasks.max")
        .flat_map(|v| v.errors.clone())
        .collect()
}

#[test]
fn validation_resolves_config_provider_variables_and_keeps_them_in_the_config() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("limits.properties");
    std::fs::write(&file, "max=2\n").unwrap();
    let originals: ConfigMap = [
        ("config.providers", "file"),
        (
            "config.providers.file.class",
            "org.apache.kafka.common.config.provider.FileConfigProvider",
        ),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let providers = ConfigProviders::from_worker(&originals).unwrap();
    let variable = format!("${{file:{}:max}}", file.display());
    let raw: NullableConfig = [
        ("connector.class", "test.QuietSource"),
        ("name", "q"),
        ("tasks.max", variable.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), Some(v.to_string())))
    .collect();

    let resolved = validate(&registry(), &worker(Some(providers)), &raw).unwrap();
    assert!(
        tasks_max_errors(&resolved).is_empty(),
        "{:?}",
        tasks_max_errors(&resolved)
    );
    assert_eq!(
        resolved.config["tasks.max"], variable,
        "the stored config keeps the variable"
    );

    // Without the provider the variable is validated as written, and refused.
    let written = validate(&registry(), &worker(None), &raw).unwrap();
    let errors = tasks_max_errors(&written);
    assert!(
        errors.iter().any(|e| e.contains("Not a number of type INT")),
        "{errors:?}"
    );
}
