//! ByLogicalTableRouter (shards to one topic) and PartitionRouting (partition from fields).

mod support;

use ferry_core::{Schema, Transformation, Value};
use ferry_debezium_transforms::partition_routing::{java_hash_code, murmur3_hash};
use ferry_debezium_transforms::{ByLogicalTableRouter, PartitionRouting};
use support::*;

fn shard(n: u32) -> Table {
    Table::new(
        &format!("orders_shard{n}"),
        vec![("id", Schema::int32()), ("item", Schema::optional_string())],
    )
}

fn router(pairs: &[(&str, &str)]) -> ByLogicalTableRouter {
    let mut r = ByLogicalTableRouter::new();
    r.configure(&config(pairs)).unwrap();
    r
}

const SHARDS: [(&str, &str); 2] = [
    ("topic.regex", "(.*)\\.public\\.orders_shard(\\d+)"),
    ("topic.replacement", "$1.orders"),
];

#[test]
fn shards_share_a_topic_and_keys_name_their_table() {
    let mut r = router(&SHARDS);
    for n in [1, 2] {
        let t = shard(n);
        let rec = t.event(
            "u",
            Some(t.row(vec![Value::Int32(5), s("a")])),
            Some(t.row(vec![Value::Int32(5), s("b")])),
        );
        let out = r.apply(rec).unwrap().unwrap();
        assert_eq!(&*out.topic, "dbserver1.orders");
        let key_schema = out.key_schema.clone().unwrap();
        assert_eq!(key_schema.name(), Some("dbserver1.orders.Key"));
        let key = out.key.as_struct().unwrap();
        assert_eq!(key.get("id"), Some(&Value::Int32(5)));
        assert_eq!(
            key.get("__dbz__physicalTableIdentifier"),
            Some(&s(&format!("dbserver1.public.orders_shard{n}")))
        );
        let schema = out.value_schema.clone().unwrap();
        assert_eq!(schema.name(), Some("dbserver1.orders.Envelope"));
        assert_eq!(schema.version(), Some(2));
        let v = out.value.as_struct().unwrap();
        let after = v.get("after").unwrap().as_struct().unwrap();
        assert_eq!(after.schema().name(), Some("dbserver1.orders.Value"));
        assert!(after.schema().is_optional());
        assert_eq!(after.get("item"), Some(&s("b")));
        assert_eq!(
            v.get("source"),
            t.event("c", None, None).value.as_struct().unwrap().get("source")
        );
    }
}

#[test]
fn key_field_regex_names_the_shard_and_uniqueness_can_be_off() {
    let t = shard(7);
    let mut pairs = SHARDS.to_vec();
    pairs.extend([
        ("key.field.regex", ".*_shard(\\d+)"),
        ("key.field.replacement", "shard-$1"),
        ("key.field.name", "shard"),
    ]);
    let out = router(&pairs)
        .apply(t.event("c", None, Some(t.row(vec![Value::Int32(1), s("a")]))))
        .unwrap()
        .unwrap();
    assert_eq!(out.key.as_struct().unwrap().get("shard"), Some(&s("shard-7")));

    let mut pairs = SHARDS.to_vec();
    pairs.push(("key.enforce.uniqueness", "false"));
    let out = router(&pairs)
        .apply(t.event("c", None, Some(t.row(vec![Value::Int32(1), s("a")]))))
        .unwrap()
        .unwrap();
    let key = out.key.as_struct().unwrap();
    assert_eq!(key.schema().fields().len(), 1);
    assert_eq!(out.key_schema.unwrap().name(), Some("dbserver1.orders.Key"));
}

#[test]
fn tombstones_keep_their_null_value_and_other_topics_pass() {
    let t = shard(1);
    let mut r = router(&SHARDS);
    let mut tomb = t.tombstone(Value::Int32(3));
    tomb.headers.add_string("h", "v");
    let out = r.apply(tomb).unwrap().unwrap();
    assert_eq!(&*out.topic, "dbserver1.orders");
    assert_eq!(out.value, Value::Null);
    assert_eq!(header_keys(&out), ["h"]);
    assert!(out
        .key
        .as_struct()
        .unwrap()
        .get("__dbz__physicalTableIdentifier")
        .is_some());

    let other = Table::new("customers", vec![("id", Schema::int32())]);
    let rec = other.event("c", None, Some(other.row(vec![Value::Int32(1)])));
    assert_eq!(r.apply(rec.clone()).unwrap().unwrap(), rec);
}

#[test]
fn router_settings_are_checked() {
    let err = |pairs: &[(&str, &str)]| {
        ByLogicalTableRouter::new()
            .configure(&config(pairs))
            .unwrap_err()
            .to_string()
    };
    assert!(err(&[("topic.replacement", "x")]).contains("topic.regex"));
    let mut pairs = SHARDS.to_vec();
    pairs.push(("key.field.regex", "(.*)"));
    assert!(err(&pairs).contains("key.field.replacement must be non-empty if key.field.regex is set."));
}

fn partitioner(fields: &str, extra: &[(&str, &str)]) -> PartitionRouting {
    let mut p = PartitionRouting::new();
    let mut pairs = vec![("partition.payload.fields", fields), ("partition.topic.num", "4")];
    pairs.extend_from_slice(extra);
    p.configure(&config(&pairs)).unwrap();
    p
}

fn expected(sum: i32) -> i32 {
    let n = sum & i32::MAX;
    if n == i32::MAX {
        0
    } else {
        n % 4
    }
}

#[test]
fn partition_from_fields_with_java_hash() {
    let t = shard(1);
    let mut p = partitioner("after.item,source.table", &[]);
    let rec = t.event("c", None, Some(t.row(vec![Value::Int32(1), s("book")])));
    let out = p.apply(rec).unwrap().unwrap();
    let sum = java_hash_code(&s("book"), None).wrapping_add(java_hash_code(&s("orders_shard1"), None));
    assert_eq!(out.kafka_partition, Some(expected(sum)));
}

#[test]
fn change_reads_before_for_deletes_and_murmur_hashes_strings_as_utf8() {
    let t = shard(1);
    let mut p = partitioner("change.item", &[("partition.hash.function", "murmur")]);
    let rec = t.event("d", Some(t.row(vec![Value::Int32(1), s("pen")])), None);
    let out = p.apply(rec).unwrap().unwrap();
    assert_eq!(out.kafka_partition, Some(expected(murmur3_hash(b"pen"))));
}

#[test]
fn missing_fields_leave_the_record_alone_and_settings_are_checked() {
    let t = shard(1);
    let mut p = partitioner("after.nope,nothing", &[]);
    let rec = t.event("c", None, Some(t.row(vec![Value::Int32(1), s("x")])));
    assert_eq!(p.apply(rec.clone()).unwrap().unwrap(), rec);
    // A path through a null struct fails, as upstream's does.
    let mut p = partitioner("after.item", &[]);
    assert!(p
        .apply(t.event("d", Some(t.row(vec![Value::Int32(1), s("x")])), None))
        .is_err());
    let err = |pairs: &[(&str, &str)]| {
        PartitionRouting::new()
            .configure(&config(pairs))
            .unwrap_err()
            .to_string()
    };
    assert!(err(&[("partition.payload.fields", "a")]).contains("A value is required"));
    assert!(
        err(&[("partition.payload.fields", "a"), ("partition.topic.num", "0")])
            .contains("A positive, non-zero integer value is expected")
    );
}
