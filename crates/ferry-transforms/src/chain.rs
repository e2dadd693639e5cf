//! The transformation chain of a connector: `transforms=a,b` with `transforms.a.type`,
//! options, `transforms.a.predicate` / `transforms.a.negate`, and `predicates=p` with
//! `predicates.p.type` and options, parsed and validated as Connect's `ConnectorConfig` does.

use std::collections::HashSet;

use ferry_core::config::{parse_type, with_prefix, ConfigDefault, ConfigValueInfo, Width};
use ferry_core::java;
use ferry_core::{
    ConfigDef, ConfigError, ConfigKey, ConfigMap, ConfigType, ConfigValue, ConnectError, ErrorKind,
    Importance, PluginDescriptor, PluginFactory, PluginKind, PluginRegistry, Predicate, Record,
    Transformation,
};

/// Key listing the transform aliases.
pub const TRANSFORMS_CONFIG: &str = "transforms";
/// Key listing the predicate aliases.
pub const PREDICATES_CONFIG: &str = "predicates";
/// Per-transform key naming its predicate.
pub const PREDICATE_CONFIG: &str = "predicate";
/// Per-transform key negating its predicate.
pub const NEGATE_CONFIG: &str = "negate";

/// A chain configuration problem: the key at fault and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ChainConfigError {
    key: String,
    message: String,
}

impl ChainConfigError {
    fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        ChainConfigError {
            key: key.into(),
            message: message.into(),
        }
    }
    fn from_config(default_key: &str, e: ConfigError) -> Self {
        ChainConfigError {
            key: e.key.clone().unwrap_or_else(|| default_key.to_owned()),
            message: e.message().to_owned(),
        }
    }
    /// The full connector-config key at fault (e.g. `transforms.route.regex`).
    pub fn key(&self) -> &str {
        &self.key
    }
    /// The message, in Kafka's wording where upstream has one.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<ChainConfigError> for ConfigError {
    fn from(e: ChainConfigError) -> Self {
        ConfigError::other(Some(&e.key), e.message)
    }
}

impl From<ChainConfigError> for ConnectError {
    fn from(e: ChainConfigError) -> Self {
        ConnectError::config(e.message.clone()).with_source(e)
    }
}

/// A transform of the chain failed on a record.
#[derive(Debug, thiserror::Error)]
#[error("Transformation '{alias}' ({class}) failed: {}", .source.message())]
pub struct TransformError {
    /// The transform's alias in `transforms`.
    pub alias: String,
    /// The transform's class.
    pub class: String,
    /// What the transform returned.
    #[source]
    pub source: ConnectError,
}

impl TransformError {
    /// The kind of the underlying error (data errors are tolerable with `errors.tolerance=all`).
    pub fn kind(&self) -> ErrorKind {
        self.source.kind()
    }
}

impl From<TransformError> for ConnectError {
    fn from(e: TransformError) -> Self {
        ConnectError::new(e.kind(), e.to_string()).with_source(e)
    }
}

struct PredicateStage {
    alias: String,
    predicate: Box<dyn Predicate>,
    negate: bool,
}

struct Stage {
    alias: String,
    class: &'static str,
    transform: Box<dyn Transformation>,
    predicate: Option<PredicateStage>,
}

/// Configured transforms in order, each with its optional predicate.
#[derive(Default)]
pub struct TransformChain {
    stages: Vec<Stage>,
}

impl std::fmt::Debug for TransformChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut l = f.debug_list();
        for s in &self.stages {
            l.entry(&format_args!(
                "{} ({}){}",
                s.alias,
                s.class,
                s.predicate
                    .as_ref()
                    .map(|p| format!(" if {}{}", if p.negate { "!" } else { "" }, p.alias))
                    .unwrap_or_default()
            ));
        }
        l.finish()
    }
}

fn parse_aliases(config: &ConfigMap, key: &str) -> Result<Vec<String>, ConfigError> {
    let Some(raw) = config.get(key) else {
        return Ok(Vec::new());
    };
    let ConfigValue::List(aliases) = parse_type(key, raw, ConfigType::List)? else {
        return Ok(Vec::new());
    };
    let unique: HashSet<&String> = aliases.iter().collect();
    if unique.len() < aliases.len() {
        return Err(ConfigError::invalid(
            key,
            java::collections::list_to_string(&aliases),
            "Duplicate alias provided.",
        ));
    }
    Ok(aliases)
}

fn kind_name(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::Transformation => "Transformation",
        _ => "Predicate",
    }
}

/// Resolves `<prefix>type` to a plugin of `kind`, with Kafka's messages.
fn resolve<'r>(
    config: &ConfigMap,
    registry: &'r PluginRegistry,
    type_key: &str,
    kind: PluginKind,
) -> Result<&'r PluginDescriptor, ConfigError> {
    let Some(raw) = config.get(type_key) else {
        return Err(ConfigError::missing(type_key));
    };
    let name = raw.trim();
    match registry.find(name) {
        Some(p) if p.kind() == kind => Ok(p),
        Some(p) => Err(ConfigError::other(
            Some(type_key),
            format!(
                "Class class {} does not implement the {} interface",
                p.class,
                kind_name(kind)
            ),
        )),
        None => Err(ConfigError::invalid(
            type_key,
            name,
            format!("Class {name} could not be found."),
        )),
    }
}

/// The options handed to a plugin: entries under `prefix`, without `type` (and, for
/// transforms, without `predicate`/`negate`).
fn plugin_options(config: &ConfigMap, prefix: &str, transform: bool) -> ConfigMap {
    let mut opts = with_prefix(config, prefix);
    opts.shift_remove("type");
    if transform {
        opts.shift_remove(PREDICATE_CONFIG);
        opts.shift_remove(NEGATE_CONFIG);
    }
    opts
}

/// Keys of `def` renamed under `prefix`, grouped and ordered as `ConfigDef.embed` does.
fn embed(prefix: &str, group: &str, start_order: i32, child: &ConfigDef) -> Vec<ConfigKey> {
    let mut keys: Vec<ConfigKey> = child.keys().cloned().collect();
    let importance_rank = |i: Importance| match i {
        Importance::High => 0,
        Importance::Medium => 1,
        Importance::Low => 2,
    };
    let groups = child.groups();
    let group_rank = |k: &ConfigKey| k.group.as_ref().and_then(|g| groups.iter().position(|x| x == g));
    keys.sort_by(|a, b| {
        let ga = a.group.is_some();
        let gb = b.group.is_some();
        ga.cmp(&gb)
            .then(group_rank(a).cmp(&group_rank(b)))
            .then(a.order_in_group.cmp(&b.order_in_group))
            .then((a.default != ConfigDefault::Required).cmp(&(b.default != ConfigDefault::Required)))
            .then(importance_rank(a.importance).cmp(&importance_rank(b.importance)))
            .then(a.name.cmp(&b.name))
    });
    keys.into_iter()
        .enumerate()
        .map(|(i, mut k)| {
            k.name = format!("{prefix}{}", k.name);
            k.group = Some(match &k.group {
                Some(g) => format!("{group}: {g}"),
                None => group.to_owned(),
            });
            k.order_in_group = start_order + i as i32;
            k
        })
        .collect()
}

fn transform_implicit_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(PREDICATE_CONFIG, ConfigType::String)
                .default_null()
                .importance(Importance::Medium)
                .doc("The alias of a predicate used to determine whether to apply this transformation."),
        )
        .define(
            ConfigKey::new(NEGATE_CONFIG, ConfigType::Boolean)
                .default_value("false")
                .importance(Importance::Medium)
                .doc("Whether the configured predicate should be negated."),
        )
}

fn type_key(alias: &str, kind: PluginKind, registry: &PluginRegistry) -> ConfigKey {
    let (cfg, group, kind_lower, base) = match kind {
        PluginKind::Transformation => (
            TRANSFORMS_CONFIG,
            "Transforms",
            "transformation",
            "Transformation",
        ),
        _ => (PREDICATES_CONFIG, "Predicates", "predicate", "Predicate"),
    };
    let mut k = ConfigKey::new(format!("{cfg}.{alias}.type"), ConfigType::Class)
        .importance(Importance::High)
        .doc(format!("Class for the '{alias}' {kind_lower}."))
        .group(format!("{group}: {alias}"), 0)
        .width(Width::Long)
        .display_name(format!("{base} type for {alias}"));
    k.recommended_values = registry
        .all()
        .into_iter()
        .filter(|p| p.kind() == kind)
        .map(|p| p.class.to_owned())
        .collect();
    k
}

/// `PREFIX.plugin.version` (Kafka Connect 4.x, KIP-891), defined right after `type`: Ferry
/// has one version of each plugin, so it defaults to that version (none when the class is
/// unknown) and has no other effect.
fn version_key(alias: &str, kind: PluginKind, plugin: Option<&PluginDescriptor>) -> ConfigKey {
    let (cfg, group, kind_lower, base) = match kind {
        PluginKind::Transformation => (
            TRANSFORMS_CONFIG,
            "Transforms",
            "transformation",
            "Transformation",
        ),
        _ => (PREDICATES_CONFIG, "Predicates", "predicate", "Predicate"),
    };
    let key = ConfigKey::new(
        format!("{cfg}.{alias}.{PLUGIN_VERSION_SUFFIX}"),
        ConfigType::String,
    );
    let key = match plugin {
        Some(p) => key.default_value(p.version),
        None => key.default_null(),
    };
    let mut key = key
        .importance(Importance::High)
        .doc(format!("Version of the '{alias}' {kind_lower}."))
        .group(format!("{group}: {alias}"), 1)
        .width(Width::Long)
        .display_name(format!("{base} version for {alias}"));
    key.recommended_values = plugin.map(|p| vec![p.version.to_owned()]).unwrap_or_default();
    key
}

/// Connect's suffix of a plugin's version setting.
const PLUGIN_VERSION_SUFFIX: &str = "plugin.version";

/// The definition of one alias: its `type` and `plugin.version` keys, then the plugin's
/// (and implicit) keys embedded.
fn alias_keys(
    config: &ConfigMap,
    registry: &PluginRegistry,
    alias: &str,
    kind: PluginKind,
) -> (ConfigKey, ConfigKey, Option<(&'static str, Vec<ConfigKey>)>) {
    let (cfg, group) = match kind {
        PluginKind::Transformation => (TRANSFORMS_CONFIG, "Transforms"),
        _ => (PREDICATES_CONFIG, "Predicates"),
    };
    let prefix = format!("{cfg}.{alias}.");
    let tk = type_key(alias, kind, registry);
    let resolved = resolve(config, registry, &tk.name, kind).ok();
    let vk = version_key(alias, kind, resolved);
    let embedded = resolved.map(|p| {
        let mut def = if kind == PluginKind::Transformation {
            transform_implicit_def()
        } else {
            ConfigDef::new()
        };
        for k in p.config_def().keys() {
            // The implicit keys mask plugin keys with the same name.
            if kind == PluginKind::Transformation && (k.name == PREDICATE_CONFIG || k.name == NEGATE_CONFIG) {
                continue;
            }
            def = def.define(k.clone());
        }
        (p.class, embed(&prefix, &format!("{group}: {alias}"), 2, &def))
    });
    (tk, vk, embedded)
}

/// The configuration keys the chain adds to a connector's definition (Connect's
/// `ConnectorConfig.enrich`): per transform alias `transforms.A.type` plus its options
/// (including `predicate`/`negate`) in group `Transforms: A`, then the same for predicates
/// in groups `Predicates: P`. Aliases whose class cannot be resolved contribute only `type`.
pub fn chain_config_def(config: &ConfigMap, registry: &PluginRegistry) -> ConfigDef {
    let mut def = ConfigDef::new();
    for (list_key, kind) in [
        (TRANSFORMS_CONFIG, PluginKind::Transformation),
        (PREDICATES_CONFIG, PluginKind::Predicate),
    ] {
        let aliases = parse_aliases(config, list_key).unwrap_or_default();
        for alias in aliases {
            let (tk, vk, embedded) = alias_keys(config, registry, &alias, kind);
            def = def.define(tk).define(vk);
            for k in embedded.map(|(_, keys)| keys).unwrap_or_default() {
                def = def.define(k);
            }
        }
    }
    def
}

fn info(name: &str, config: &ConfigMap, errors: Vec<String>, recommended: Vec<String>) -> ConfigValueInfo {
    ConfigValueInfo {
        name: name.to_owned(),
        value: config.get(name).map(|v| v.trim().to_owned()),
        recommended_values: recommended,
        errors,
        visible: true,
    }
}

/// Configures a fresh plugin instance with the options under `prefix`.
fn configure_transform(
    p: &PluginDescriptor,
    config: &ConfigMap,
    prefix: &str,
) -> Result<Box<dyn Transformation>, ConfigError> {
    let PluginFactory::Transformation(f) = p.factory else {
        return Err(ConfigError::other(
            None,
            format!("{} is not a transformation", p.class),
        ));
    };
    let mut t = f();
    t.configure(&plugin_options(config, prefix, true))?;
    Ok(t)
}

fn configure_predicate(
    p: &PluginDescriptor,
    config: &ConfigMap,
    prefix: &str,
) -> Result<Box<dyn Predicate>, ConfigError> {
    let PluginFactory::Predicate(f) = p.factory else {
        return Err(ConfigError::other(
            None,
            format!("{} is not a predicate", p.class),
        ));
    };
    let mut t = f();
    t.configure(&plugin_options(config, prefix, false))?;
    Ok(t)
}

fn prefixed_error(prefix: &str, e: ConfigError) -> ChainConfigError {
    let key = match &e.key {
        Some(k) if !k.starts_with(prefix) => format!("{prefix}{k}"),
        Some(k) => k.clone(),
        None => format!("{prefix}type"),
    };
    ChainConfigError::new(key, e.message())
}

/// Per-field validation of the chain for `/config/validate`: `transforms`, `predicates`,
/// then for each alias its `type` and every option of [`chain_config_def`], with errors for
/// unknown classes, bad option values, missing required options, `negate` without
/// `predicate`, undefined predicates, and (beyond upstream) errors the plugin's own
/// `configure` raises when its options are otherwise valid.
pub fn validate_chain(config: &ConfigMap, registry: &PluginRegistry) -> Vec<ConfigValueInfo> {
    let mut out = Vec::new();
    let predicate_aliases = parse_aliases(config, PREDICATES_CONFIG).unwrap_or_default();
    let mut lists = Vec::new();
    for key in [TRANSFORMS_CONFIG, PREDICATES_CONFIG] {
        let errors = match parse_aliases(config, key) {
            Ok(_) => Vec::new(),
            Err(e) => vec![e.to_string()],
        };
        out.push(info(key, config, errors, Vec::new()));
        lists.push(key);
    }
    for (list_key, kind) in [
        (TRANSFORMS_CONFIG, PluginKind::Transformation),
        (PREDICATES_CONFIG, PluginKind::Predicate),
    ] {
        let aliases = parse_aliases(config, list_key).unwrap_or_default();
        let mut seen = HashSet::new();
        for alias in aliases {
            if !seen.insert(alias.clone()) {
                continue;
            }
            let prefix = format!("{list_key}.{alias}.");
            let (tk, vk, embedded) = alias_keys(config, registry, &alias, kind);
            let mut type_errors = Vec::new();
            let resolved = resolve(config, registry, &tk.name, kind);
            if let Err(e) = &resolved {
                type_errors.push(e.to_string());
            }
            if kind == PluginKind::Transformation
                && config.contains_key(&format!("{prefix}{NEGATE_CONFIG}"))
                && !config.contains_key(&format!("{prefix}{PREDICATE_CONFIG}"))
                && config.contains_key(&tk.name)
            {
                type_errors.push(format!(
                    "Config '{prefix}{NEGATE_CONFIG}' was provided but there is no config '{prefix}{PREDICATE_CONFIG}' defining a predicate to be negated."
                ));
            }
            let type_index = out.len();
            out.push(info(&tk.name, config, type_errors, tk.recommended_values.clone()));
            let mut version = info(&vk.name, config, Vec::new(), vk.recommended_values.clone());
            if version.value.is_none() {
                if let ConfigDefault::Value(v) = &vk.default {
                    version.value = Some(v.clone());
                }
            }
            out.push(version);
            let Some((_, keys)) = embedded else { continue };
            let mut def = ConfigDef::new();
            for k in keys {
                def = def.define(k);
            }
            let mut infos = def.validate(config);
            if kind == PluginKind::Transformation {
                let pkey = format!("{prefix}{PREDICATE_CONFIG}");
                if let Some(p) = config.get(&pkey).map(|s| s.trim()) {
                    if !predicate_aliases.iter().any(|a| a == p) {
                        if let Some(i) = infos.iter_mut().find(|i| i.name == pkey) {
                            i.errors.push(undefined_predicate(&pkey, p).to_string());
                        }
                    }
                }
            }
            let clean = infos.iter().all(|i| i.errors.is_empty());
            if clean {
                if let Ok(p) = resolved {
                    let err = match kind {
                        PluginKind::Transformation => configure_transform(p, config, &prefix).err(),
                        _ => configure_predicate(p, config, &prefix).err(),
                    };
                    if let Some(e) = err {
                        let ce = prefixed_error(&prefix, e);
                        match infos.iter_mut().find(|i| i.name == ce.key) {
                            Some(i) => i.errors.push(ce.message),
                            None => out[type_index].errors.push(ce.message),
                        }
                    }
                }
            }
            out.extend(infos);
        }
    }
    out
}

fn undefined_predicate(key: &str, alias: &str) -> ConfigError {
    ConfigError::invalid(
        key,
        alias,
        format!("Predicate '{alias}' is not defined: add it to '{PREDICATES_CONFIG}' and set '{PREDICATES_CONFIG}.{alias}.type'"),
    )
}

impl TransformChain {
    /// A chain without transforms.
    pub fn empty() -> Self {
        TransformChain::default()
    }

    /// Builds and configures the chain from a connector configuration.
    pub fn from_config(
        config: &ConfigMap,
        registry: &PluginRegistry,
    ) -> Result<TransformChain, ChainConfigError> {
        let transforms = parse_aliases(config, TRANSFORMS_CONFIG)
            .map_err(|e| ChainConfigError::from_config(TRANSFORMS_CONFIG, e))?;
        let predicates = parse_aliases(config, PREDICATES_CONFIG)
            .map_err(|e| ChainConfigError::from_config(PREDICATES_CONFIG, e))?;
        // Every listed predicate must name a known class, used or not (as the enriched config requires).
        for alias in &predicates {
            let key = format!("{PREDICATES_CONFIG}.{alias}.type");
            resolve(config, registry, &key, PluginKind::Predicate)
                .map_err(|e| ChainConfigError::from_config(&key, e))?;
        }
        let mut stages = Vec::with_capacity(transforms.len());
        for alias in transforms {
            let prefix = format!("{TRANSFORMS_CONFIG}.{alias}.");
            let type_key = format!("{prefix}type");
            let plugin = resolve(config, registry, &type_key, PluginKind::Transformation)
                .map_err(|e| ChainConfigError::from_config(&type_key, e))?;
            let predicate_key = format!("{prefix}{PREDICATE_CONFIG}");
            let negate_key = format!("{prefix}{NEGATE_CONFIG}");
            let predicate_alias = config.get(&predicate_key).map(|s| s.trim().to_owned());
            let negate = match config.get(&negate_key) {
                None => None,
                Some(raw) => match parse_type(&negate_key, raw, ConfigType::Boolean)
                    .map_err(|e| ChainConfigError::from_config(&negate_key, e))?
                {
                    ConfigValue::Boolean(b) => Some(b),
                    _ => Some(false),
                },
            };
            if negate.is_some() && predicate_alias.is_none() {
                return Err(ChainConfigError::new(
                    negate_key.clone(),
                    format!(
                        "Config '{negate_key}' was provided but there is no config '{predicate_key}' defining a predicate to be negated."
                    ),
                ));
            }
            // Option values first, with the full key names in the messages (as validation reports them).
            let (_, _, embedded) = alias_keys(config, registry, &alias, PluginKind::Transformation);
            if let Some((_, keys)) = embedded {
                let mut def = ConfigDef::new();
                for k in keys {
                    def = def.define(k);
                }
                def.parse(config)
                    .map_err(|e| ChainConfigError::from_config(&type_key, e))?;
            }
            let transform =
                configure_transform(plugin, config, &prefix).map_err(|e| prefixed_error(&prefix, e))?;
            let predicate = match predicate_alias {
                None => None,
                Some(p_alias) => {
                    if !predicates.contains(&p_alias) {
                        let e = undefined_predicate(&predicate_key, &p_alias);
                        return Err(ChainConfigError::from_config(&predicate_key, e));
                    }
                    let p_prefix = format!("{PREDICATES_CONFIG}.{p_alias}.");
                    let p_type = format!("{p_prefix}type");
                    let p = resolve(config, registry, &p_type, PluginKind::Predicate)
                        .map_err(|e| ChainConfigError::from_config(&p_type, e))?;
                    let (_, _, embedded) = alias_keys(config, registry, &p_alias, PluginKind::Predicate);
                    if let Some((_, keys)) = embedded {
                        let mut def = ConfigDef::new();
                        for k in keys {
                            def = def.define(k);
                        }
                        def.parse(config)
                            .map_err(|e| ChainConfigError::from_config(&p_type, e))?;
                    }
                    let predicate = configure_predicate(p, config, &p_prefix)
                        .map_err(|e| prefixed_error(&p_prefix, e))?;
                    Some(PredicateStage {
                        alias: p_alias,
                        predicate,
                        negate: negate.unwrap_or(false),
                    })
                }
            };
            stages.push(Stage {
                alias,
                class: plugin.class,
                transform,
                predicate,
            });
        }
        Ok(TransformChain { stages })
    }

    /// Applies every transform in order; `None` when one of them dropped the record.
    pub fn apply(&mut self, record: Record) -> Result<Option<Record>, TransformError> {
        let mut record = record;
        for stage in &mut self.stages {
            if let Some(p) = &stage.predicate {
                if p.negate == p.predicate.test(&record) {
                    continue;
                }
            }
            match stage.transform.apply(record) {
                Ok(Some(r)) => record = r,
                Ok(None) => return Ok(None),
                Err(source) => {
                    return Err(TransformError {
                        alias: stage.alias.clone(),
                        class: stage.class.to_owned(),
                        source,
                    })
                }
            }
        }
        Ok(Some(record))
    }

    /// True when no transform is configured.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Number of transforms.
    pub fn len(&self) -> usize {
        self.stages.len()
    }

    /// Transform aliases in order.
    pub fn aliases(&self) -> impl Iterator<Item = &str> {
        self.stages.iter().map(|s| s.alias.as_str())
    }

    /// (alias, class) of each transform in order.
    pub fn transforms(&self) -> impl Iterator<Item = (&str, &'static str)> {
        self.stages.iter().map(|s| (s.alias.as_str(), s.class))
    }
}
