//! Connector configurations, task configurations and target states: the config topic's content.

use std::collections::HashMap;

use ferry_core::ConfigMap;
use ferry_kafka::records::{ConfigRecord, TargetState};
use ferry_kafka::InternalLog;
use indexmap::IndexMap;

use super::hash_order::java_hash_map;
use super::StoreError;

/// What the config topic says about one connector.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectorEntry {
    /// The connector's configuration.
    pub config: ConfigMap,
    /// Desired state.
    pub target: TargetState,
    /// Committed task configurations.
    pub tasks: Vec<ConfigMap>,
}

/// The replayed state of the config topic.
#[derive(Clone, Debug, Default)]
pub struct ConfigState {
    /// Connectors in creation order.
    pub connectors: IndexMap<String, ConnectorEntry>,
    /// Restart requests read back (applied on start by the herder).
    pub restarts: Vec<(String, bool, bool)>,
    /// The last `session-key` record (KIP-507 request signing).
    pub session_key: Option<ferry_rest::signature::SessionKey>,
    pending_tasks: HashMap<String, HashMap<u32, ConfigMap>>,
    pending_targets: HashMap<String, TargetState>,
    /// Configs are read back from the config topic (distributed mode), so they iterate in
    /// `java.util.HashMap` order; standalone Connect keeps a connector's config as given.
    read_back: bool,
}

impl ConfigState {
    /// A config as this state's reader sees it.
    fn as_read(&self, config: ConfigMap) -> ConfigMap {
        if self.read_back {
            java_hash_map(config)
        } else {
            config
        }
    }

    /// An empty state whose configs are read back from a config topic (`true`) or kept
    /// as given (`false`, standalone).
    pub fn new(read_back: bool) -> Self {
        ConfigState {
            read_back,
            ..ConfigState::default()
        }
    }

    /// Applies one record, as Kafka Connect's reader does: task records wait for their
    /// commit, and configs read back from the topic come in `java.util.HashMap` order.
    pub fn apply(&mut self, record: ConfigRecord) {
        match record {
            ConfigRecord::Connector {
                name,
                config: Some(config),
            } => {
                let config = self.as_read(config);
                let target = self.pending_targets.remove(&name);
                match self.connectors.get_mut(&name) {
                    Some(e) => {
                        e.config = config;
                        if let Some(t) = target {
                            e.target = t;
                        }
                    }
                    None => {
                        self.connectors.insert(
                            name,
                            ConnectorEntry {
                                config,
                                target: target.unwrap_or(TargetState::Started),
                                tasks: Vec::new(),
                            },
                        );
                    }
                }
            }
            ConfigRecord::Connector { name, config: None } => {
                self.connectors.shift_remove(&name);
                self.pending_tasks.remove(&name);
                self.pending_targets.remove(&name);
            }
            ConfigRecord::Task {
                connector,
                task,
                config: Some(config),
            } => {
                let config = self.as_read(config);
                self.pending_tasks
                    .entry(connector)
                    .or_default()
                    .insert(task, config);
            }
            ConfigRecord::Task { config: None, .. } => {}
            ConfigRecord::Commit { connector, tasks } => {
                let mut pending = self.pending_tasks.remove(&connector).unwrap_or_default();
                let mut configs = Vec::with_capacity(tasks as usize);
                for i in 0..tasks {
                    match pending.remove(&i) {
                        Some(c) => configs.push(c),
                        None => {
                            // An incomplete set (a crash mid-write): keep the previous tasks, as upstream does.
                            tracing::warn!(connector = %connector, "ignoring incomplete task config commit");
                            return;
                        }
                    }
                }
                if let Some(e) = self.connectors.get_mut(&connector) {
                    e.tasks = configs;
                }
            }
            ConfigRecord::TargetState { connector, state } => {
                let state = state.unwrap_or(TargetState::Started);
                match self.connectors.get_mut(&connector) {
                    Some(e) => e.target = state,
                    None => {
                        self.pending_targets.insert(connector, state);
                    }
                }
            }
            ConfigRecord::Restart {
                connector,
                include_tasks,
                only_failed,
            } => self.restarts.push((connector, include_tasks, only_failed)),
            ConfigRecord::SessionKey {
                key,
                algorithm,
                creation_timestamp,
            } => {
                self.session_key = Some(ferry_rest::signature::SessionKey {
                    key,
                    algorithm,
                    creation_timestamp,
                });
            }
            ConfigRecord::Other { .. } => {}
        }
    }
}

/// Writes config records (to the config topic, or nowhere in standalone mode).
pub struct ConfigStore {
    log: Option<Box<dyn InternalLog>>,
}

impl ConfigStore {
    /// A store over the config topic.
    pub fn on_log(log: impl InternalLog + 'static) -> Self {
        ConfigStore {
            log: Some(Box::new(log)),
        }
    }
    /// A store that keeps nothing (standalone: configs come from files).
    pub fn standalone() -> Self {
        ConfigStore { log: None }
    }

    /// Whether the store is on a config topic (distributed mode).
    pub fn is_distributed(&self) -> bool {
        self.log.is_some()
    }

    /// Replays the config topic.
    pub async fn load(&self) -> Result<ConfigState, StoreError> {
        Ok(self.load_with_offset().await?.0)
    }

    /// Replays the config topic; also returns the offset after the last record read
    /// (Connect's config snapshot offset; −1 when the topic is empty).
    pub async fn load_with_offset(&self) -> Result<(ConfigState, i64), StoreError> {
        let mut state = ConfigState::new(self.log.is_some());
        let mut offset = -1;
        if let Some(log) = &self.log {
            for r in log.read_to_end().await? {
                offset = offset.max(r.offset + 1);
                let Some(key) = r.key else { continue };
                let key = String::from_utf8_lossy(&key);
                match ConfigRecord::decode(&key, r.value.as_deref()) {
                    Ok(rec) => state.apply(rec),
                    Err(e) => tracing::error!("{e}; skipped"),
                }
            }
        }
        state.restarts.clear();
        Ok((state, offset))
    }

    /// Writes records in order, each acknowledged before the next.
    pub async fn write(&self, records: &[ConfigRecord]) -> Result<(), StoreError> {
        if let Some(log) = &self.log {
            for r in records {
                log.send(r.key().as_bytes(), r.value().as_deref()).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_kafka::memory::{MemoryCluster, NewRecord};

    fn cfg(k: &str) -> ConfigMap {
        [("connector.class".to_string(), k.to_string())]
            .into_iter()
            .collect()
    }

    #[test]
    fn configs_read_back_from_the_topic_iterate_in_hash_map_order() {
        let sent: ConfigMap = [("topic", "t"), ("name", "x"), ("connector.class", "C")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let record = || ConfigRecord::Connector {
            name: "x".into(),
            config: Some(sent.clone()),
        };
        let keys = |s: &ConfigState| -> Vec<String> { s.connectors["x"].config.keys().cloned().collect() };
        let mut distributed = ConfigState::new(true);
        distributed.apply(record());
        assert_eq!(keys(&distributed), ["connector.class", "name", "topic"]);
        // Standalone Connect keeps the map it was given.
        let mut standalone = ConfigState::new(false);
        standalone.apply(record());
        assert_eq!(keys(&standalone), ["topic", "name", "connector.class"]);
    }

    #[test]
    fn tasks_apply_only_after_commit_and_delete_removes() {
        let mut s = ConfigState::default();
        s.apply(ConfigRecord::TargetState {
            connector: "a".into(),
            state: Some(TargetState::Paused),
        });
        s.apply(ConfigRecord::Connector {
            name: "a".into(),
            config: Some(cfg("X")),
        });
        assert_eq!(s.connectors["a"].target, TargetState::Paused);
        s.apply(ConfigRecord::Task {
            connector: "a".into(),
            task: 0,
            config: Some(cfg("T")),
        });
        assert!(s.connectors["a"].tasks.is_empty());
        s.apply(ConfigRecord::Commit {
            connector: "a".into(),
            tasks: 1,
        });
        assert_eq!(s.connectors["a"].tasks, vec![cfg("T")]);
        s.apply(ConfigRecord::Connector {
            name: "a".into(),
            config: None,
        });
        assert!(s.connectors.is_empty());
    }

    #[tokio::test]
    async fn what_is_written_is_read_back_by_the_next_worker() {
        let cluster = MemoryCluster::new();
        let store = ConfigStore::on_log(cluster.log("configs"));
        assert!(store.load().await.unwrap().connectors.is_empty());
        store
            .write(&[
                ConfigRecord::TargetState {
                    connector: "a".into(),
                    state: Some(TargetState::Stopped),
                },
                ConfigRecord::Connector {
                    name: "a".into(),
                    config: Some(cfg("X")),
                },
                ConfigRecord::Task {
                    connector: "a".into(),
                    task: 0,
                    config: Some(cfg("T")),
                },
                ConfigRecord::Commit {
                    connector: "a".into(),
                    tasks: 1,
                },
                ConfigRecord::Restart {
                    connector: "a".into(),
                    include_tasks: true,
                    only_failed: false,
                },
            ])
            .await
            .unwrap();
        // A record no Connect version writes is skipped, not fatal.
        cluster.append(
            "configs",
            NewRecord {
                key: Some(b"commit-a".to_vec()),
                value: Some(b"not json".to_vec()),
                ..NewRecord::default()
            },
        );

        let state = ConfigStore::on_log(cluster.log("configs")).load().await.unwrap();
        let a = &state.connectors["a"];
        assert_eq!(a.target, TargetState::Stopped);
        assert_eq!(a.config, cfg("X"));
        assert_eq!(a.tasks, vec![cfg("T")]);
        // Restart requests read back are not replayed on start.
        assert!(state.restarts.is_empty());
    }

    #[tokio::test]
    async fn a_standalone_store_keeps_nothing() {
        let store = ConfigStore::standalone();
        store
            .write(&[ConfigRecord::Connector {
                name: "a".into(),
                config: Some(cfg("X")),
            }])
            .await
            .unwrap();
        assert!(store.load().await.unwrap().connectors.is_empty());
    }
}
