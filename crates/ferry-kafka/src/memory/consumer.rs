//! The sink-task consumer of the in-memory cluster: the only member of its group,
//! assigned every partition of the topics it subscribes to.

use std::collections::HashMap;
use std::time::Duration;

use regex::Regex;

use super::MemoryCluster;
use crate::consumer::{ConsumeError, ConsumedRecord, KafkaTimestamp, SinkConsumer};
use crate::group::GroupOffset;
use crate::KafkaStoreError;

impl MemoryCluster {
    /// Makes the next consumer poll fail with `error` (queued after earlier ones).
    pub fn fail_next_poll(&self, error: &str) {
        self.lock().consume_errors.push(error.to_owned());
    }

    /// Makes every later offset commit fail with `error` (`None` heals it).
    pub fn fail_commits(&self, error: Option<&str>) {
        self.lock().failing_commits = error.map(str::to_owned);
    }
}

enum Subscription {
    Name(String),
    Pattern(Regex),
}

/// A sink-task consumer of one group in a [`MemoryCluster`]; the only member of its group.
pub struct MemoryConsumer {
    cluster: MemoryCluster,
    group: String,
    subscription: Vec<Subscription>,
    /// Next offset to read per partition, once reading started there.
    positions: HashMap<(String, i32), i64>,
    paused: bool,
}

impl MemoryConsumer {
    /// A consumer in `group`, not yet subscribed.
    pub fn new(cluster: &MemoryCluster, group: &str) -> Self {
        MemoryConsumer {
            cluster: cluster.clone(),
            group: group.to_owned(),
            subscription: Vec::new(),
            positions: HashMap::new(),
            paused: false,
        }
    }

    fn subscribed(&self, topic: &str) -> bool {
        self.subscription.iter().any(|s| match s {
            Subscription::Name(n) => n == topic,
            Subscription::Pattern(r) => r.is_match(topic),
        })
    }

    /// The next unread record of any assigned partition, or the next injected error.
    fn next(&mut self) -> Option<Result<ConsumedRecord, ConsumeError>> {
        let state = self.cluster.lock();
        let mut state = state;
        if !state.consume_errors.is_empty() {
            return Some(Err(ConsumeError(state.consume_errors.remove(0))));
        }
        if self.paused {
            return None;
        }
        let committed = state.groups.get(&self.group);
        for (name, topic) in &state.topics {
            if !self.subscribed(name) {
                continue;
            }
            for (p, log) in topic.partitions.iter().enumerate() {
                let key = (name.clone(), p as i32);
                let pos = *self
                    .positions
                    .entry(key.clone())
                    .or_insert_with(|| committed.and_then(|c| c.get(&key)).copied().unwrap_or(0));
                if let Some(r) = log.get(pos as usize) {
                    self.positions.insert(key, pos + 1);
                    return Some(Ok(ConsumedRecord {
                        topic: r.topic.clone(),
                        partition: r.partition,
                        offset: r.offset,
                        key: r.key.clone(),
                        value: r.value.clone(),
                        headers: r.headers.clone(),
                        timestamp: r
                            .timestamp
                            .map_or(KafkaTimestamp::NotAvailable, KafkaTimestamp::CreateTime),
                    }));
                }
            }
        }
        None
    }
}

impl SinkConsumer for MemoryConsumer {
    fn subscribe(&mut self, topics: &[String]) -> Result<(), KafkaStoreError> {
        self.subscription = topics
            .iter()
            .map(|t| {
                if t.starts_with('^') {
                    Regex::new(t)
                        .map(Subscription::Pattern)
                        .map_err(|e| KafkaStoreError::Other(format!("invalid pattern {t}: {e}")))
                } else {
                    Ok(Subscription::Name(t.clone()))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(())
    }

    async fn recv(&mut self, wait: Duration) -> Option<Result<ConsumedRecord, ConsumeError>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so an append in between still wakes us.
            let appended = self.cluster.appended.clone();
            let notified = appended.notified();
            if let Some(r) = self.next() {
                return Some(r);
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    async fn commit(&mut self, offsets: &[GroupOffset]) -> Result<(), KafkaStoreError> {
        let mut state = self.cluster.lock();
        if let Some(e) = &state.failing_commits {
            return Err(KafkaStoreError::Other(e.clone()));
        }
        let group = state.groups.entry(self.group.clone()).or_default();
        for (t, p, o) in offsets {
            group.insert((t.clone(), *p), *o);
        }
        Ok(())
    }

    fn set_paused(&mut self, paused: bool) -> Result<(), KafkaStoreError> {
        self.paused = paused;
        Ok(())
    }
}
