//! Creates a source connector's destination topics before their first record.
//!
//! With `topic.creation.default.*` set (KIP-158), the first matching group of
//! `topic.creation.groups` (or `default`) gives partitions, replication and topic
//! configs. Without it, Ferry still creates the topic, with the broker's defaults
//! (partitions and replication -1), so a connector behaves the same on brokers that
//! do not auto-create topics.

use std::collections::HashSet;

use ferry_core::ConfigMap;
use ferry_kafka::{TopicAdmin, TopicSpec};
use regex::Regex;

use crate::engine::EngineError;

struct Group {
    name: String,
    include: Vec<Regex>,
    exclude: Vec<Regex>,
    partitions: Option<i32>,
    replication: Option<i32>,
    configs: Vec<(String, String)>,
}

fn regex_list(config: &ConfigMap, key: &str) -> Result<Vec<Regex>, EngineError> {
    let Some(raw) = config.get(key) else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            Regex::new(&format!("^(?:{s})$"))
                .map_err(|e| EngineError::Config(format!("Invalid value {s} for configuration {key}: {e}")))
        })
        .collect()
}

fn read_group(config: &ConfigMap, name: &str) -> Result<Group, EngineError> {
    let prefix = format!("topic.creation.{name}.");
    let mut g = Group {
        name: name.to_owned(),
        include: if name == "default" {
            vec![Regex::new(".*").expect("static regex")]
        } else {
            regex_list(config, &format!("{prefix}include"))?
        },
        exclude: regex_list(config, &format!("{prefix}exclude"))?,
        partitions: None,
        replication: None,
        configs: Vec::new(),
    };
    for (k, v) in config {
        let Some(opt) = k.strip_prefix(&prefix) else {
            continue;
        };
        let num = |what: &str| {
            v.trim().parse::<i32>().map_err(|_| {
                EngineError::Config(format!(
                    "Invalid value {v} for configuration {k}: {what} must be a number"
                ))
            })
        };
        match opt {
            "include" | "exclude" => {}
            "partitions" => g.partitions = Some(num("partitions")?),
            "replication.factor" => g.replication = Some(num("replication factor")?),
            other => g.configs.push((other.to_owned(), v.clone())),
        }
    }
    Ok(g)
}

/// Decides how to create topics and remembers which exist.
pub struct TopicCreator {
    groups: Vec<Group>,
    known: HashSet<String>,
}

impl TopicCreator {
    /// Reads `topic.creation.*` from a connector config; `enabled` is the worker's topic.creation.enable.
    pub fn from_config(config: &ConfigMap, enabled: bool) -> Result<Self, EngineError> {
        let mut groups = Vec::new();
        let has_default = config.keys().any(|k| k.starts_with("topic.creation.default."));
        if enabled && has_default {
            let names: Vec<String> = config
                .get("topic.creation.groups")
                .map(|s| {
                    s.split(',')
                        .map(|x| x.trim().to_owned())
                        .filter(|x| !x.is_empty() && x != "default")
                        .collect()
                })
                .unwrap_or_default();
            for n in names {
                groups.push(read_group(config, &n)?);
            }
            groups.push(read_group(config, "default")?);
        }
        Ok(TopicCreator {
            groups,
            known: HashSet::new(),
        })
    }

    /// The spec a new topic gets.
    pub fn spec_for(&self, topic: &str) -> TopicSpec {
        for g in &self.groups {
            if g.include.iter().any(|r| r.is_match(topic)) && !g.exclude.iter().any(|r| r.is_match(topic)) {
                tracing::debug!(topic, group = %g.name, "topic creation group matched");
                return TopicSpec {
                    name: topic.to_owned(),
                    partitions: g.partitions.filter(|p| *p > 0),
                    replication_factor: g.replication.filter(|r| *r > 0),
                    configs: g.configs.clone(),
                };
            }
        }
        TopicSpec::with_broker_defaults(topic)
    }

    /// True once a topic is known to exist.
    pub fn is_known(&self, topic: &str) -> bool {
        self.known.contains(topic)
    }

    /// Makes sure `topic` exists, creating it when missing.
    pub async fn ensure(&mut self, admin: &dyn TopicAdmin, topic: &str) -> Result<(), EngineError> {
        if self.known.contains(topic) {
            return Ok(());
        }
        if admin.partition_count(topic).await?.is_none() {
            let spec = self.spec_for(topic);
            if admin.create(&spec).await? {
                tracing::info!(topic, partitions = ?spec.partitions, replication = ?spec.replication_factor, "created topic");
            }
        }
        self.known.insert(topic.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> ConfigMap {
        ferry_core::config::config_map(pairs)
    }

    #[test]
    fn groups_match_in_order_then_default() {
        let c = TopicCreator::from_config(
            &cfg(&[
                ("topic.creation.groups", "outbox"),
                ("topic.creation.outbox.include", ".*_events"),
                ("topic.creation.outbox.partitions", "6"),
                ("topic.creation.outbox.cleanup.policy", "compact"),
                ("topic.creation.default.replication.factor", "1"),
                ("topic.creation.default.partitions", "1"),
            ]),
            true,
        )
        .unwrap();
        let s = c.spec_for("Order_events");
        assert_eq!(s.partitions, Some(6));
        assert_eq!(s.replication_factor, None);
        assert_eq!(
            s.configs,
            vec![("cleanup.policy".to_string(), "compact".to_string())]
        );
        let d = c.spec_for("other");
        assert_eq!((d.partitions, d.replication_factor), (Some(1), Some(1)));
    }

    #[test]
    fn without_default_group_topics_get_broker_defaults() {
        let c = TopicCreator::from_config(&cfg(&[]), true).unwrap();
        assert_eq!(c.spec_for("t"), TopicSpec::with_broker_defaults("t"));
        let disabled =
            TopicCreator::from_config(&cfg(&[("topic.creation.default.partitions", "3")]), false).unwrap();
        assert_eq!(disabled.spec_for("t").partitions, None);
    }

    #[tokio::test]
    async fn ensure_creates_a_missing_topic_once_and_leaves_existing_ones_alone() {
        use ferry_kafka::memory::{MemoryCluster, TopicLayout};
        let cluster = MemoryCluster::new();
        cluster.create_topic("existing", 2);
        let mut c =
            TopicCreator::from_config(&cfg(&[("topic.creation.default.partitions", "4")]), true).unwrap();
        assert!(!c.is_known("new"));
        c.ensure(&cluster, "new").await.unwrap();
        c.ensure(&cluster, "existing").await.unwrap();
        assert!(c.is_known("new") && c.is_known("existing"));
        assert_eq!(cluster.topic_layout("new"), Some(TopicLayout::new(4, None, &[])));
        assert_eq!(
            cluster.topic_layout("existing"),
            Some(TopicLayout::new(2, None, &[]))
        );

        // Known topics are not asked about again, even when the admin is failing.
        cluster.fail_admin(Some("Broker: Cluster authorization failed"));
        c.ensure(&cluster, "new").await.unwrap();
        let err = c.ensure(&cluster, "other").await.unwrap_err();
        assert_eq!(err.to_string(), "Broker: Cluster authorization failed");
        assert!(!c.is_known("other"));
    }
}
