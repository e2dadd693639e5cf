//! The in-memory cluster's own behaviour: partitioning, logs, producers, consumers, admin.

use std::time::Duration;

use super::partitioner::murmur2;
use super::*;
use crate::admin::{TopicAdmin, TopicSpec};
use crate::consumer::{ConsumeError, SinkConsumer};
use crate::log::InternalLog;
use crate::producer::{OutgoingRecord, ProduceError, RecordProducer, SendError};

#[test]
fn murmur2_matches_javas() {
    // Kafka's UtilsTest.testMurmur2.
    for (input, want) in [
        (&b"21"[..], -973_932_308),
        (b"foobar", -790_332_482),
        (b"a-little-bit-long-string", -985_981_536),
        (b"a-little-bit-longer-string", -1_486_304_829),
        (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
        (b"abc", 479_470_107),
    ] {
        assert_eq!(murmur2(input), want, "{}", String::from_utf8_lossy(input));
    }
}

#[tokio::test]
async fn a_log_reads_back_what_was_written_in_order_per_partition() {
    let cluster = MemoryCluster::new();
    cluster.create_topic("offsets", 5);
    let log = cluster.log("offsets");
    for i in 0..20u8 {
        log.send(&[b'k', i % 4], Some(&[i])).await.unwrap();
    }
    log.send(b"gone", None).await.unwrap();
    let read = log.read_to_end().await.unwrap();
    assert_eq!(read.len(), 21);
    // Equal keys land in one partition, in the order written.
    let k1: Vec<(i32, u8)> = read
        .iter()
        .filter(|r| r.key.as_deref() == Some(&[b'k', 1][..]))
        .map(|r| (r.partition, r.value.as_ref().unwrap()[0]))
        .collect();
    assert_eq!(
        k1.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
        vec![1, 5, 9, 13, 17]
    );
    assert!(k1.iter().all(|(p, _)| *p == k1[0].0));
    let tomb = read
        .iter()
        .find(|r| r.key.as_deref() == Some(&b"gone"[..]))
        .unwrap();
    assert_eq!(tomb.value, None);
    for p in 0..5 {
        let offsets: Vec<i64> = read
            .iter()
            .filter(|r| r.partition == p)
            .map(|r| r.offset)
            .collect();
        assert_eq!(offsets, (0..offsets.len() as i64).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn injected_write_failures_fail_sends_until_healed() {
    let cluster = MemoryCluster::new();
    let log = cluster.log("status");
    cluster.fail_writes("status", Some("Broker: Not enough in-sync replicas"));
    let err = log.send(b"k", Some(b"v")).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "could not write to topic status: Broker: Not enough in-sync replicas"
    );
    assert!(log.read_to_end().await.unwrap().is_empty());
    cluster.fail_writes("status", None);
    log.send(b"k", Some(b"v")).await.unwrap();
    assert_eq!(log.read_to_end().await.unwrap().len(), 1);
}

fn outgoing<'a>(topic: &'a str, key: &'a [u8], value: &'a [u8]) -> OutgoingRecord<'a> {
    OutgoingRecord {
        topic,
        partition: None,
        key: Some(key),
        value: Some(value),
        timestamp: Some(42),
        headers: &[],
    }
}

#[tokio::test]
async fn held_acknowledgements_arrive_in_the_order_the_test_releases_them() {
    let cluster = MemoryCluster::new();
    cluster.hold_acks(true);
    let (producer, mut acks) = MemoryProducer::new(&cluster);
    for (seq, v) in [(7u64, &b"a"[..]), (8, b"b"), (9, b"c")] {
        producer.send(seq, &outgoing("t", b"k", v)).unwrap();
    }
    assert_eq!(cluster.held_acks(), vec![7, 8, 9]);
    assert!(acks.try_recv().is_err(), "nothing acknowledged yet");
    assert!(cluster.release_ack(9));
    assert!(cluster.fail_ack(7, "Broker: Request timed out"));
    assert!(!cluster.release_ack(7), "already answered");
    let first = acks.recv().await.unwrap();
    assert_eq!((first.seq, first.result), (9, Ok((0, 0))));
    let second = acks.recv().await.unwrap();
    assert_eq!(second.seq, 7);
    assert_eq!(
        second.result,
        Err(ProduceError("Broker: Request timed out".into()))
    );
    assert_eq!(cluster.held_acks(), vec![8]);
    let stored = cluster.records("t");
    assert_eq!(stored.len(), 1, "a failed record is not written");
    assert_eq!(stored[0].value.as_deref(), Some(&b"c"[..]));
    assert_eq!(stored[0].timestamp, Some(42));

    cluster.fill_queue(1);
    assert_eq!(
        producer.send(10, &outgoing("t", b"k", b"d")),
        Err(SendError::QueueFull)
    );
    cluster.fail_sends(Some("Local: Invalid argument"));
    assert_eq!(
        producer.send(11, &outgoing("t", b"k", b"e")),
        Err(SendError::Failed(ProduceError("Local: Invalid argument".into())))
    );
}

#[tokio::test]
async fn a_consumer_starts_at_its_groups_committed_offsets_and_pauses() {
    let cluster = MemoryCluster::new();
    cluster.create_topic("in", 2);
    for p in [0, 1, 0] {
        cluster.append(
            "in",
            NewRecord {
                partition: Some(p),
                value: Some(vec![p as u8]),
                ..NewRecord::default()
            },
        );
    }
    let mut first = MemoryConsumer::new(&cluster, "g");
    first.subscribe(&["in".into()]).unwrap();
    let r = first.recv(Duration::from_millis(10)).await.unwrap().unwrap();
    assert_eq!((r.partition, r.offset), (0, 0));
    first.commit(&[("in".into(), 0, 1)]).await.unwrap();
    assert_eq!(cluster.committed("g"), vec![("in".to_string(), 0, 1)]);

    let mut second = MemoryConsumer::new(&cluster, "g");
    second.subscribe(&["^i.*".into()]).unwrap();
    let mut read = Vec::new();
    while let Some(r) = second.recv(Duration::from_millis(10)).await {
        let r = r.unwrap();
        read.push((r.partition, r.offset));
    }
    assert_eq!(
        read,
        vec![(0, 1), (1, 0)],
        "partition 0 resumes after its committed offset"
    );

    second.set_paused(true).unwrap();
    cluster.append("in", NewRecord::default());
    assert!(second.recv(Duration::from_millis(10)).await.is_none());
    second.set_paused(false).unwrap();
    assert!(second.recv(Duration::from_millis(10)).await.is_some());

    cluster.fail_next_poll("Broker: Unknown topic or partition");
    assert_eq!(
        second.recv(Duration::from_millis(10)).await,
        Some(Err(ConsumeError("Broker: Unknown topic or partition".into())))
    );
}

#[tokio::test]
async fn a_waiting_consumer_wakes_for_a_new_record() {
    let cluster = MemoryCluster::new();
    cluster.create_topic("in", 1);
    let mut consumer = MemoryConsumer::new(&cluster, "g");
    consumer.subscribe(&["in".into()]).unwrap();
    let writer = cluster.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        writer.append("in", NewRecord::default());
    });
    let started = std::time::Instant::now();
    assert!(consumer.recv(Duration::from_secs(5)).await.is_some());
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn an_internal_topic_with_another_cleanup_policy_is_refused_in_connects_words() {
    let cluster = MemoryCluster::new();
    let spec = TopicSpec::compacted("connect-configs", 1, Some(1));
    cluster
        .ensure_internal_topic(&spec, "config.storage.topic", "connector configurations")
        .await
        .unwrap();
    assert_eq!(
        cluster.topic_layout("connect-configs"),
        Some(TopicLayout::new(1, Some(1), &[("cleanup.policy", "compact")]))
    );
    // Existing and compacted: accepted as is.
    cluster
        .ensure_internal_topic(&spec, "config.storage.topic", "connector configurations")
        .await
        .unwrap();

    cluster.create_topic("statuses", 5);
    let err = cluster
        .ensure_internal_topic(
            &TopicSpec::compacted("statuses", 5, None),
            "status.storage.topic",
            "connector and task statuses",
        )
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Topic 'statuses' supplied via the 'status.storage.topic' property is required to have \
         'cleanup.policy=compact' to guarantee consistency and durability of connector and task \
         statuses, but found the topic currently has 'cleanup.policy=delete'. Continuing would likely \
         result in eventually losing connector and task statuses and problems restarting this Connect \
         cluster in the future. Change the 'status.storage.topic' property in the Connect worker \
         configurations to use a topic with 'cleanup.policy=compact'."
    );
    cluster.set_topic_config("statuses", "cleanup.policy", "compact,delete");
    assert!(cluster
        .ensure_internal_topic(&TopicSpec::compacted("statuses", 5, None), "k", "p")
        .await
        .is_err());
}
