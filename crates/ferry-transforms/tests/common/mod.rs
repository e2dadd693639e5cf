#![allow(dead_code)]

use std::sync::Arc;

use ferry_core::{
    ConfigMap, PluginFactory, PluginRegistry, Position, Predicate, Record, TimestampType, Transformation,
    Value,
};

pub fn registry() -> PluginRegistry {
    let mut r = PluginRegistry::new();
    r.register(ferry_transforms::plugins());
    r
}

pub fn props(pairs: &[(&str, &str)]) -> ConfigMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A configured transform by class name or alias.
pub fn xform(class: &str, pairs: &[(&str, &str)]) -> Box<dyn Transformation> {
    let mut t = try_xform(class, pairs).unwrap();
    let _ = &mut t;
    t
}

pub fn try_xform(
    class: &str,
    pairs: &[(&str, &str)],
) -> Result<Box<dyn Transformation>, ferry_core::ConfigError> {
    let r = registry();
    let p = r.find(class).unwrap_or_else(|| panic!("{class} not registered"));
    let PluginFactory::Transformation(f) = p.factory else {
        panic!("not a transform")
    };
    let mut t = f();
    t.configure(&props(pairs))?;
    Ok(t)
}

pub fn try_predicate(
    class: &str,
    pairs: &[(&str, &str)],
) -> Result<Box<dyn Predicate>, ferry_core::ConfigError> {
    let r = registry();
    let p = r.find(class).unwrap_or_else(|| panic!("{class} not registered"));
    let PluginFactory::Predicate(f) = p.factory else {
        panic!("not a predicate")
    };
    let mut t = f();
    t.configure(&props(pairs))?;
    Ok(t)
}

pub fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

/// A schemaless map value.
pub fn map(entries: &[(&str, Value)]) -> Value {
    Value::Map(entries.iter().map(|(k, v)| (s(k), v.clone())).collect())
}

pub fn sink_record(topic: &str, value: Value, offset: i64) -> Record {
    let mut r = Record::new(topic, None, value);
    r.kafka_partition = Some(0);
    r.position = Position::Sink {
        kafka_offset: offset,
        timestamp_type: TimestampType::CreateTime,
        original_topic: Arc::from(topic),
        original_partition: 0,
    };
    r
}

pub fn apply(t: &mut Box<dyn Transformation>, r: Record) -> Record {
    t.apply(r).unwrap().expect("record kept")
}

pub fn err(t: &mut Box<dyn Transformation>, r: Record) -> String {
    t.apply(r).unwrap_err().to_string()
}
