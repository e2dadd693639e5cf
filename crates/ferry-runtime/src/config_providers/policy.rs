//! `connector.client.config.override.policy` (KIP-458): which `producer.override.*`,
//! `consumer.override.*` and `admin.override.*` a connector config may give.
//! Connect 4.3's policies: `All` (the default), `None`, `Principal` and `Allowlist`
//! (with `connector.client.config.override.allowlist`).

use ferry_core::ConfigMap;

use super::ProviderError;

/// The client roles a connector can override, with their prefixes.
pub const CLIENT_ROLES: [(&str, &str); 3] = [
    ("producer", "producer.override."),
    ("consumer", "consumer.override."),
    ("admin", "admin.override."),
];

/// The properties the `Principal` policy lets a connector override.
const PRINCIPAL: [&str; 3] = ["sasl.jaas.config", "sasl.mechanism", "security.protocol"];

/// A client config override policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverridePolicy {
    /// Every override is allowed.
    All,
    /// No override is allowed.
    None,
    /// Only the SASL principal and the security protocol.
    Principal,
    /// Only the listed client properties.
    Allowlist(Vec<String>),
}

impl OverridePolicy {
    /// The policy of a worker config (`All` when unset); an unknown class is an error
    /// naming the key.
    pub fn from_worker(originals: &ConfigMap) -> Result<OverridePolicy, ProviderError> {
        let Some(class) = originals.get("connector.client.config.override.policy") else {
            return Ok(OverridePolicy::All);
        };
        let class = class.trim();
        let simple = class
            .strip_prefix("org.apache.kafka.connect.connector.policy.")
            .unwrap_or(class);
        let alias = simple
            .strip_suffix("ConnectorClientConfigOverridePolicy")
            .unwrap_or(simple);
        match alias {
            "All" => Ok(OverridePolicy::All),
            "None" => Ok(OverridePolicy::None),
            "Principal" => Ok(OverridePolicy::Principal),
            "Allowlist" => {
                let list = originals
                    .get("connector.client.config.override.allowlist")
                    .map(|v| {
                        v.split(',')
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(OverridePolicy::Allowlist(list))
            }
            _ => Err(ProviderError::Config(format!(
                "Invalid value {class} for configuration connector.client.config.override.policy: \
                 Failed to find any class that implements ConnectorClientConfigOverridePolicy"
            ))),
        }
    }

    /// The policy's name in its messages.
    pub fn name(&self) -> &'static str {
        match self {
            OverridePolicy::All => "All",
            OverridePolicy::None => "None",
            OverridePolicy::Principal => "Principal",
            OverridePolicy::Allowlist(_) => "Allowlist",
        }
    }

    /// Whether the client property `name` (without its prefix) may be overridden.
    pub fn allows(&self, name: &str) -> bool {
        match self {
            OverridePolicy::All => true,
            OverridePolicy::None => false,
            OverridePolicy::Principal => PRINCIPAL.contains(&name),
            OverridePolicy::Allowlist(list) => list.iter().any(|a| a == name),
        }
    }

    /// Every refused override of `role` in a connector config: `(full key, value,
    /// message)`, the message as Connect's validation gives it.
    pub fn refused<'a>(&self, role: &str, connector: &'a ConfigMap) -> Vec<(&'a str, &'a str, String)> {
        let Some((_, prefix)) = CLIENT_ROLES.iter().find(|(r, _)| *r == role) else {
            return Vec::new();
        };
        connector
            .iter()
            .filter_map(|(k, v)| {
                let name = k.strip_prefix(prefix)?;
                (!self.allows(name)).then(|| {
                    let message = format!(
                        "The '{}' policy does not allow '{name}' to be overridden in the connector configuration.",
                        self.name()
                    );
                    (k.as_str(), v.as_str(), message)
                })
            })
            .collect()
    }

    /// Every refused override of the clients a connector uses, as Connect checks them at
    /// validation: the producer for a source connector or a sink with a dead letter queue,
    /// the consumer for a sink, the admin client for a source with `topic.creation.*` or a
    /// sink with a dead letter queue.
    pub fn refused_for_connector<'a>(
        &self,
        is_sink: bool,
        connector: &'a ConfigMap,
    ) -> Vec<(&'a str, &'a str, String)> {
        let dlq = connector
            .get("errors.deadletterqueue.topic.name")
            .is_some_and(|t| !t.trim().is_empty());
        let topic_creation = connector.keys().any(|k| k.starts_with("topic.creation."));
        let mut out = Vec::new();
        if !is_sink || dlq {
            out.extend(self.refused("producer", connector));
        }
        if is_sink {
            out.extend(self.refused("consumer", connector));
        }
        if (is_sink && dlq) || (!is_sink && topic_creation) {
            out.extend(self.refused("admin", connector));
        }
        out
    }

    /// The error a task start gives when `role`'s overrides break the policy
    /// (Connect's `Client Config Overrides not allowed [...]`), or `None`.
    pub fn check_task(&self, role: &str, connector: &ConfigMap) -> Option<String> {
        let refused = self.refused(role, connector);
        if refused.is_empty() {
            return None;
        }
        let prefix = CLIENT_ROLES
            .iter()
            .find(|(r, _)| *r == role)
            .map_or("", |(_, p)| *p);
        let values: Vec<String> = refused
            .iter()
            .map(|(k, v, msg)| format!("[{},{v},[],[{msg}],true]", &k[prefix.len()..]))
            .collect();
        Some(format!(
            "org.apache.kafka.connect.errors.ConnectException: Client Config Overrides not allowed [{}]",
            values.join(", ")
        ))
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
    fn policies_read_from_the_worker_config() {
        assert_eq!(
            OverridePolicy::from_worker(&ConfigMap::new()).unwrap(),
            OverridePolicy::All
        );
        let p = |v: &str| {
            OverridePolicy::from_worker(&map(&[
                ("connector.client.config.override.policy", v),
                ("connector.client.config.override.allowlist", "acks, linger.ms"),
            ]))
        };
        assert_eq!(p("None").unwrap(), OverridePolicy::None);
        assert_eq!(
            p("org.apache.kafka.connect.connector.policy.PrincipalConnectorClientConfigOverridePolicy")
                .unwrap(),
            OverridePolicy::Principal
        );
        assert_eq!(
            p("Allowlist").unwrap(),
            OverridePolicy::Allowlist(vec!["acks".into(), "linger.ms".into()])
        );
        assert!(p("Sometimes")
            .unwrap_err()
            .to_string()
            .contains("connector.client.config.override.policy"));
    }

    #[test]
    fn refused_overrides_carry_connects_messages() {
        let connector = map(&[
            ("producer.override.acks", "1"),
            ("producer.override.sasl.mechanism", "PLAIN"),
            ("consumer.override.max.poll.records", "10"),
        ]);
        let none = OverridePolicy::None.refused("producer", &connector);
        assert_eq!(none.len(), 2);
        assert_eq!(none[0].0, "producer.override.acks");
        assert_eq!(
            none[0].2,
            "The 'None' policy does not allow 'acks' to be overridden in the connector configuration."
        );
        let principal = OverridePolicy::Principal.refused("producer", &connector);
        assert_eq!(principal.len(), 1);
        assert!(OverridePolicy::All.refused("producer", &connector).is_empty());
        let allow = OverridePolicy::Allowlist(vec!["acks".into()]);
        assert_eq!(allow.refused("producer", &connector).len(), 1);
        assert_eq!(allow.refused("consumer", &connector).len(), 1);
        assert_eq!(
            OverridePolicy::None.check_task("consumer", &connector).unwrap(),
            "org.apache.kafka.connect.errors.ConnectException: Client Config Overrides not allowed \
             [[max.poll.records,10,[],[The 'None' policy does not allow 'max.poll.records' to be overridden in the connector configuration.],true]]"
        );
        assert!(OverridePolicy::All.check_task("producer", &connector).is_none());
        // A source connector is checked for its producer only, a sink for its consumer.
        assert_eq!(
            OverridePolicy::None
                .refused_for_connector(false, &connector)
                .len(),
            2
        );
        assert_eq!(
            OverridePolicy::None.refused_for_connector(true, &connector).len(),
            1
        );
    }
}
