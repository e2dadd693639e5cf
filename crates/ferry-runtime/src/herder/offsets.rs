//! Connector offsets over REST: read, alter and reset — source offsets in the offsets
//! store (after asking the plugin), sink offsets in the `connect-NAME` consumer group.

use ferry_core::{ConnectorType, OffsetMap, PluginFactory};
use ferry_kafka::records::TargetState;
use ferry_rest::entities::{ConnectorOffset, ConnectorOffsets, Message};
use ferry_rest::{HerderError, HerderResult};

use super::actor::Command;
use super::{ViewEntry, Worker};

impl Worker {
    /// `GET /connectors/NAME/offsets`: the offsets topic (source) or the consumer group (sink).
    pub(super) async fn offsets_of(&self, name: &str) -> HerderResult<ConnectorOffsets> {
        let e = self.entry_or_404(name)?;
        if Self::is_sink(&e) {
            return self.sink_offsets(name, &e).await;
        }
        Ok(ConnectorOffsets {
            offsets: self
                .ctx
                .offsets
                .connector_offsets(name)
                .into_iter()
                .map(|(p, o)| ConnectorOffset {
                    partition: Some(p),
                    offset: o,
                })
                .collect(),
        })
    }

    /// `PATCH /connectors/NAME/offsets`, only when the connector is STOPPED.
    pub(super) async fn alter_offsets(
        &self,
        name: &str,
        offsets: Vec<ConnectorOffset>,
    ) -> HerderResult<Message> {
        let e = self.require_stopped(name)?;
        if Self::is_sink(&e) {
            let entries = Self::parse_sink_offsets(offsets)?;
            let base = self
                .ctx
                .client_config("consumer", &e.config)
                .map_err(|err| HerderError::Internal(err.to_string()))?;
            let group = Self::sink_group(name);
            tokio::task::spawn_blocking(move || {
                ferry_kafka::group::commit_group_offsets(&base, &group, &entries)
            })
            .await
            .map_err(|err| HerderError::Internal(err.to_string()))?
            .map_err(|err| {
                HerderError::Internal(format!(
                    "Failed to alter consumer group offsets for connector {name}: {err}"
                ))
            })?;
            return Ok(Message::new(
                "The offsets for this connector have been altered successfully",
            ));
        }
        let mut entries: Vec<(OffsetMap, Option<OffsetMap>)> = Vec::with_capacity(offsets.len());
        for o in offsets {
            let partition = o
                .partition
                .ok_or_else(|| HerderError::BadRequest("Source partitions may not be null".into()))?;
            // Connect collects the request into a map: a later entry for the same partition wins.
            match entries.iter_mut().find(|(p, _)| *p == partition) {
                Some(entry) => entry.1 = o.offset,
                None => entries.push((partition, o.offset)),
            }
        }
        for (partition, offset) in &entries {
            for map in std::iter::once(partition).chain(offset) {
                validate_offset_format(map).map_err(HerderError::Internal)?;
            }
        }
        let answer = self.source_offsets_check(name, &e, &entries, "altered")?;
        self.write_offsets(name, entries).await?;
        Ok(answer)
    }

    /// `DELETE /connectors/NAME/offsets`, only when the connector is STOPPED.
    pub(super) async fn reset_offsets(&self, name: &str) -> HerderResult<Message> {
        let e = self.require_stopped(name)?;
        if Self::is_sink(&e) {
            self.ctx
                .admin
                .delete_group(&Self::sink_group(name))
                .await
                .map_err(|err| {
                    HerderError::Internal(format!(
                        "Failed to reset consumer group offsets for connector {name}: {err}"
                    ))
                })?;
            return Ok(Message::new(
                "The offsets for this connector have been reset successfully",
            ));
        }
        let entries: Vec<(OffsetMap, Option<OffsetMap>)> = self
            .ctx
            .offsets
            .connector_offsets(name)
            .into_iter()
            .map(|(p, _)| (p, None))
            .collect();
        let answer = self.source_offsets_check(name, &e, &entries, "reset")?;
        self.write_offsets(name, entries).await?;
        Ok(answer)
    }

    /// The connector, or 400 unless it is STOPPED with no tasks.
    fn require_stopped(&self, name: &str) -> HerderResult<ViewEntry> {
        let e = self.entry_or_404(name)?;
        if e.target != TargetState::Stopped || !e.tasks.is_empty() {
            return Err(HerderError::BadRequest(format!(
                "Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/{name}/stop' endpoint"
            )));
        }
        Ok(e)
    }

    /// Asks the source connector's plugin whether `entries` may be stored (its
    /// `alter_offsets`), then answers as Connect does: 500 with the plugin's message when
    /// it refuses, else the message for `altered` or `reset`.
    fn source_offsets_check(
        &self,
        name: &str,
        e: &ViewEntry,
        entries: &[(OffsetMap, Option<OffsetMap>)],
        verb: &str,
    ) -> HerderResult<Message> {
        let class = e
            .config
            .get("connector.class")
            .map(String::as_str)
            .unwrap_or_default();
        let owned_elsewhere = match self.ctx.registry.find(class).map(|p| &p.factory) {
            Some(PluginFactory::Source(make)) => {
                let connector = make();
                !connector.alter_offsets(&e.config, entries).map_err(|err| {
                    tracing::error!(
                        connector = name,
                        "Failed to modify offsets for source connector {name}: {err}"
                    );
                    HerderError::Internal(err.to_string())
                })?
            }
            _ => true,
        };
        Ok(Message::new(if owned_elsewhere {
            format!(
                "The Connect framework-managed offsets for this connector have been {verb} successfully. \
                 However, if this connector manages offsets externally, they will need to be manually {verb} \
                 in the system that the connector uses."
            )
        } else {
            format!("The offsets for this connector have been {verb} successfully")
        }))
    }

    /// Has the actor write source offsets (`None` resets a partition).
    async fn write_offsets(
        &self,
        name: &str,
        offsets: Vec<(OffsetMap, Option<OffsetMap>)>,
    ) -> HerderResult<()> {
        let name = name.to_owned();
        self.send(move |reply| Command::WriteOffsets { name, offsets, reply })
            .await
    }

    /// Sink connectors keep their offsets in the consumer group `connect-NAME`.
    fn is_sink(e: &ViewEntry) -> bool {
        e.kind == Some(ConnectorType::Sink)
    }

    /// The consumer group of a sink connector.
    fn sink_group(name: &str) -> String {
        format!("connect-{name}")
    }

    /// The committed offsets of a sink connector's group, for its topics (or those its regex matches).
    async fn sink_offsets(&self, name: &str, e: &ViewEntry) -> HerderResult<ConnectorOffsets> {
        let base = self
            .ctx
            .client_config("consumer", &e.config)
            .map_err(|err| HerderError::Internal(err.to_string()))?;
        let topics_cfg = e.config.get("topics").cloned().unwrap_or_default();
        let regex = e.config.get("topics.regex").cloned().unwrap_or_default();
        let group = Self::sink_group(name);
        let offsets = tokio::task::spawn_blocking(move || {
            let mut topics: Vec<String> = topics_cfg
                .split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect();
            if topics.is_empty() && !regex.is_empty() {
                let re = regex::Regex::new(&format!("^(?:{regex})$")).map_err(|e| e.to_string())?;
                topics = ferry_kafka::group::list_topics(&base)
                    .map_err(|e| e.to_string())?
                    .into_iter()
                    .filter(|t| re.is_match(t))
                    .collect();
            }
            ferry_kafka::group::read_group_offsets(&base, &group, &topics).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| HerderError::Internal(e.to_string()))?
        .map_err(|e| {
            HerderError::Internal(format!(
                "Failed to retrieve consumer group offsets for sink connector {name}: {e}"
            ))
        })?;
        Ok(ConnectorOffsets {
            offsets: offsets
                .into_iter()
                .map(|(t, p, o)| {
                    let mut partition = OffsetMap::new();
                    partition.insert("kafka_topic".into(), t.into());
                    partition.insert("kafka_partition".into(), p.into());
                    let mut offset = OffsetMap::new();
                    offset.insert("kafka_offset".into(), o.into());
                    ConnectorOffset {
                        partition: Some(partition),
                        offset: Some(offset),
                    }
                })
                .collect(),
        })
    }

    /// A PATCH body for a sink connector as (topic, partition, offset), or Connect's 400.
    fn parse_sink_offsets(
        offsets: Vec<ConnectorOffset>,
    ) -> HerderResult<Vec<ferry_kafka::group::GroupOffset>> {
        let bad = |m: String| HerderError::BadRequest(m);
        offsets
            .into_iter()
            .map(|o| {
                let p = o.partition.ok_or_else(|| bad("The partition for a sink connector offset must not be null".into()))?;
                let topic = p
                    .get("kafka_topic")
                    .and_then(serde_json::Value::as_str)
                    .ok_or_else(|| bad("Kafka topic names must be valid strings and may not be null".into()))?;
                let partition = p
                    .get("kafka_partition")
                    .and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
                    .ok_or_else(|| bad(format!("Kafka partitions must be valid numbers and may not be null: {p:?}")))?;
                let Some(off) = o.offset else {
                    return Err(bad(
                        "Resetting single sink partitions is not supported by Ferry yet; reset all with DELETE /connectors/NAME/offsets".into(),
                    ));
                };
                let offset = off
                    .get("kafka_offset")
                    .and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
                    .filter(|v| *v >= 0)
                    .ok_or_else(|| bad(format!("Kafka offsets must be valid non-negative numbers: {off:?}")))?;
                Ok((topic.to_owned(), partition as i32, offset))
            })
            .collect()
    }
}

/// Connect's `OffsetUtils.validateFormat`: partition and offset values must be null or
/// primitive (what Jackson reads as a number beyond a long is a BigInteger, not one).
fn validate_offset_format(map: &OffsetMap) -> Result<(), String> {
    use serde_json::Value as J;
    for (field, value) in map {
        let kind = match value {
            J::Null | J::Bool(_) | J::String(_) => continue,
            J::Number(n) if n.is_i64() || n.is_f64() => continue,
            J::Number(_) => "class java.math.BigInteger",
            J::Array(_) => "ARRAY",
            J::Object(_) => "MAP",
        };
        return Err(format!(
            "Offsets may only contain primitive types as values, but field {field} contains {kind}"
        ));
    }
    Ok(())
}
