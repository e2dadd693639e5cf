//! Consumer group offsets of sink connectors (group `connect-NAME`), read and written
//! directly, as Kafka Connect's offsets REST API does for sinks.

use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use crate::{ClientSettings, KafkaStoreError};

/// One committed position: topic, partition, next offset to read.
pub type GroupOffset = (String, i32, i64);

fn group_consumer(base: &ClientSettings, group: &str) -> Result<BaseConsumer, KafkaStoreError> {
    let mut cfg = base.rdkafka().clone();
    cfg.set("group.id", group).set("enable.auto.commit", "false");
    Ok(cfg.create()?)
}

/// Committed offsets of `group` for every partition of `topics` (blocking).
pub fn read_group_offsets(
    base: &ClientSettings,
    group: &str,
    topics: &[String],
) -> Result<Vec<GroupOffset>, KafkaStoreError> {
    let consumer = group_consumer(base, group)?;
    let timeout = Duration::from_secs(10);
    let mut tpl = TopicPartitionList::new();
    for t in topics {
        let md = consumer.fetch_metadata(Some(t), timeout)?;
        for topic in md.topics().iter().filter(|m| m.name() == t) {
            for p in topic.partitions() {
                tpl.add_partition(t, p.id());
            }
        }
    }
    if tpl.count() == 0 {
        return Ok(Vec::new());
    }
    let committed = consumer.committed_offsets(tpl, timeout)?;
    let mut out: Vec<GroupOffset> = committed
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) => Some((e.topic().to_owned(), e.partition(), o)),
            _ => None,
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Every topic name the cluster reports (for `topics.regex`) (blocking).
pub fn list_topics(base: &ClientSettings) -> Result<Vec<String>, KafkaStoreError> {
    let consumer: BaseConsumer = base.rdkafka().create()?;
    let md = consumer.fetch_metadata(None, Duration::from_secs(10))?;
    Ok(md.topics().iter().map(|t| t.name().to_owned()).collect())
}

/// Commits offsets for `group`, which must have no active member (blocking).
pub fn commit_group_offsets(
    base: &ClientSettings,
    group: &str,
    offsets: &[GroupOffset],
) -> Result<(), KafkaStoreError> {
    let consumer = group_consumer(base, group)?;
    let mut tpl = TopicPartitionList::new();
    for (t, p, o) in offsets {
        tpl.add_partition_offset(t, *p, Offset::Offset(*o))?;
    }
    consumer.commit(&tpl, CommitMode::Sync)?;
    Ok(())
}
