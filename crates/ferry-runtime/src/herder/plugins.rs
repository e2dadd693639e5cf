//! Plugins over REST: the list, each plugin's config keys, and config validation.

use ferry_core::{ConnectorType, PluginFactory, PluginKind};
use ferry_rest::entities::{ConfigInfos, ConfigKeyInfo, NullableConfig, PluginInfo};
use ferry_rest::{HerderError, HerderResult};

use super::enrich::{self, WorkerConverters};
use super::{validate, Worker};
use crate::connector_config::config_def_for;

impl Worker {
    /// `GET /connector-plugins?connectorsOnly=false`: every plugin, grouped by kind as Connect orders them.
    pub(super) fn plugin_infos(&self) -> Vec<PluginInfo> {
        let order = [
            PluginKind::Sink,
            PluginKind::Source,
            PluginKind::Transformation,
            PluginKind::Predicate,
            PluginKind::Converter,
            PluginKind::HeaderConverter,
        ];
        let all = self.ctx.registry.all();
        let mut out = Vec::with_capacity(all.len());
        for kind in order {
            if kind == PluginKind::HeaderConverter {
                // Every class implementing HeaderConverter, converters included.
                for class in super::enrich::classes_of(&self.ctx.registry, kind) {
                    let version = self.ctx.registry.find(&class).map(|p| p.version.to_owned());
                    out.push(PluginInfo {
                        class,
                        ty: kind,
                        version,
                    });
                }
                continue;
            }
            for p in all.iter().filter(|p| p.kind() == kind) {
                out.push(PluginInfo {
                    class: p.class.to_owned(),
                    ty: kind,
                    version: Some(p.version.to_owned()),
                });
            }
        }
        out
    }

    /// `GET /connector-plugins/P/config`: the plugin's keys, then the common ones it does not define.
    pub(super) fn plugin_config_keys(&self, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
        let p = self
            .ctx
            .registry
            .find(plugin)
            .ok_or_else(|| HerderError::NotFound(format!("Unknown plugin {plugin}.")))?;
        let own = p.config_def();
        let mut keys = ConfigKeyInfo::list(&own);
        let common = match p.factory {
            PluginFactory::Source(_) => Some(config_def_for(ConnectorType::Source)),
            PluginFactory::Sink(_) => Some(config_def_for(ConnectorType::Sink)),
            _ => None,
        }
        .map(|def| enrich::for_plugin(def, p));
        if let Some(common) = common {
            keys.extend(
                common
                    .keys()
                    .filter(|k| own.key(&k.name).is_none())
                    .map(ConfigKeyInfo::from),
            );
        }
        Ok(keys)
    }

    /// `PUT /connector-plugins/P/config/validate`.
    pub(super) async fn validate_config(&self, config: NullableConfig) -> HerderResult<ConfigInfos> {
        let registry = self.ctx.registry.clone();
        let worker = WorkerConverters::of(&self.ctx.config);
        let v = tokio::task::spawn_blocking(move || validate::validate(&registry, &worker, &config))
            .await
            .map_err(|e| HerderError::Internal(e.to_string()))??;
        Ok(v.infos)
    }
}
