//! Records: what sources emit, transforms rewrite and sinks receive.

use std::sync::Arc;

use crate::schema::Schema;
use crate::value::Value;

/// A source partition or offset map (`Map<String, ?>` in Connect), in insertion order.
///
/// Serialized with JsonConverter's schemaless rules, so the order of keys is the
/// order of the bytes on the offsets topic.
pub type OffsetMap = serde_json::Map<String, serde_json::Value>;

/// One header: key, optional schema and value.
#[derive(Clone, Debug, PartialEq)]
pub struct Header {
    /// Header key.
    pub key: String,
    /// Schema of the value, when known.
    pub schema: Option<Schema>,
    /// Header value.
    pub value: Value,
}

/// Ordered headers; keys may repeat, as in Kafka.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Headers(Vec<Header>);

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Headers(Vec::new())
    }
    /// Appends a header.
    pub fn add(&mut self, key: impl Into<String>, schema: Option<Schema>, value: Value) -> &mut Self {
        self.0.push(Header {
            key: key.into(),
            schema,
            value,
        });
        self
    }
    /// Appends a string header.
    pub fn add_string(&mut self, key: impl Into<String>, value: impl Into<String>) -> &mut Self {
        self.add(key, Some(Schema::string()), Value::String(value.into()))
    }
    /// The last header with `key` (Connect's `lastWithName`).
    pub fn last_with_name(&self, key: &str) -> Option<&Header> {
        self.0.iter().rev().find(|h| h.key == key)
    }
    /// Every header with `key`, in order.
    pub fn all_with_name<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Header> + 'a {
        self.0.iter().filter(move |h| h.key == key)
    }
    /// Removes every header with `key`.
    pub fn remove(&mut self, key: &str) -> &mut Self {
        self.0.retain(|h| h.key != key);
        self
    }
    /// Iterates in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Header> {
        self.0.iter()
    }
    /// Number of headers.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Keeps only the headers for which `f` is true.
    pub fn retain(&mut self, f: impl FnMut(&Header) -> bool) {
        self.0.retain(f)
    }
}

impl IntoIterator for Headers {
    type Item = Header;
    type IntoIter = std::vec::IntoIter<Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Headers {
    type Item = &'a Header;
    type IntoIter = std::slice::Iter<'a, Header>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl FromIterator<Header> for Headers {
    fn from_iter<T: IntoIterator<Item = Header>>(iter: T) -> Self {
        Headers(iter.into_iter().collect())
    }
}

/// How a record's timestamp was set, for sink records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TimestampType {
    /// No timestamp type.
    #[default]
    NoTimestampType,
    /// Set by the producer.
    CreateTime,
    /// Set by the broker on append.
    LogAppendTime,
}

/// Where a record came from: a source position, or a Kafka position for sinks.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum Position {
    /// Not tied to any position (built by a transform or test).
    #[default]
    None,
    /// A source record's partition and offset, as the source task reported them.
    Source {
        /// Source partition, shared by all records of that partition.
        partition: Arc<OffsetMap>,
        /// Offset of this record within the partition.
        offset: Arc<OffsetMap>,
    },
    /// A sink record's place in Kafka.
    Sink {
        /// Offset in the Kafka partition.
        kafka_offset: i64,
        /// Timestamp type of the consumed record.
        timestamp_type: TimestampType,
        /// Topic before any transform renamed it.
        original_topic: Arc<str>,
        /// Partition before any transform changed it.
        original_partition: i32,
    },
}

/// A record as Connect models it (`ConnectRecord`), shared by sources, transforms and sinks.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// Destination (source) or origin (sink) topic.
    pub topic: Arc<str>,
    /// Kafka partition, when fixed.
    pub kafka_partition: Option<i32>,
    /// Key schema; `None` for schemaless keys.
    pub key_schema: Option<Schema>,
    /// Key; `Value::Null` for no key.
    pub key: Value,
    /// Value schema; `None` for schemaless values.
    pub value_schema: Option<Schema>,
    /// Value; `Value::Null` for a tombstone.
    pub value: Value,
    /// Timestamp in milliseconds since the epoch.
    pub timestamp: Option<i64>,
    /// Headers.
    pub headers: Headers,
    /// Source or sink position.
    pub position: Position,
}

impl Record {
    /// A record for `topic` with a value and nothing else set.
    pub fn new(topic: impl Into<Arc<str>>, value_schema: Option<Schema>, value: Value) -> Self {
        Record {
            topic: topic.into(),
            kafka_partition: None,
            key_schema: None,
            key: Value::Null,
            value_schema,
            value,
            timestamp: None,
            headers: Headers::new(),
            position: Position::None,
        }
    }
    /// Sets the key.
    pub fn with_key(mut self, key_schema: Option<Schema>, key: Value) -> Self {
        self.key_schema = key_schema;
        self.key = key;
        self
    }
    /// Sets the source position.
    pub fn with_source_position(mut self, partition: Arc<OffsetMap>, offset: Arc<OffsetMap>) -> Self {
        self.position = Position::Source { partition, offset };
        self
    }
    /// Sets the timestamp.
    pub fn with_timestamp(mut self, ts: Option<i64>) -> Self {
        self.timestamp = ts;
        self
    }
    /// True when the value is null.
    pub fn is_tombstone(&self) -> bool {
        self.value.is_null()
    }
    /// The Kafka offset for sink records.
    pub fn kafka_offset(&self) -> Option<i64> {
        match &self.position {
            Position::Sink { kafka_offset, .. } => Some(*kafka_offset),
            _ => None,
        }
    }
}
