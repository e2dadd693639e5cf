//! Plugin traits (connectors, tasks, transforms, predicates, converters) and the
//! registry that finds them by Java class name or alias.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::config::{ConfigDef, ConfigMap, ConfigValueInfo};
use crate::error::{ConfigError, ConnectError, DataError};
use crate::record::{OffsetMap, Record};
use crate::schema::Schema;
use crate::value::Value;

/// A schema (if any) and a value, as converters return them.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SchemaAndValue {
    /// Schema, `None` when schemaless.
    pub schema: Option<Schema>,
    /// Value.
    pub value: Value,
}

impl SchemaAndValue {
    /// The null value with no schema.
    pub const NULL: SchemaAndValue = SchemaAndValue {
        schema: None,
        value: Value::Null,
    };
}

/// Connector direction, as `/connectors/NAME` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConnectorType {
    /// Reads from an external system into Kafka.
    Source,
    /// Writes from Kafka to an external system.
    Sink,
}

impl ConnectorType {
    /// `source` or `sink`.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorType::Source => "source",
            ConnectorType::Sink => "sink",
        }
    }
}

impl fmt::Display for ConnectorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lets a connector ask the runtime for things while it runs.
pub trait ConnectorContext: Send + Sync {
    /// The connector's task configs changed; the runtime calls `task_configs` again.
    fn request_task_reconfiguration(&self);
    /// The connector failed in the background; the runtime marks it FAILED.
    fn raise_error(&self, error: ConnectError);
}

/// What a connector has in common, whatever its direction.
#[async_trait]
pub trait Connector: Send {
    /// Version reported by `/connector-plugins`.
    fn version(&self) -> String {
        env!("CARGO_PKG_VERSION").to_string()
    }
    /// The Java class name of its tasks (Connect's `taskClass()`), written as `task.class`
    /// into each task config; `None`: the connector's class name followed by `Task`.
    fn task_class(&self) -> Option<&'static str> {
        None
    }
    /// The connector's own options (the runtime adds the common ones).
    fn config_def(&self) -> ConfigDef;
    /// Validates a configuration, one entry per key (default: the config def's checks).
    fn validate(&self, config: &ConfigMap) -> Vec<ConfigValueInfo> {
        self.config_def().validate(config)
    }
    /// Starts with the connector's configuration.
    async fn start(&mut self, config: &ConfigMap, ctx: Arc<dyn ConnectorContext>)
        -> Result<(), ConnectError>;
    /// Task configurations, at most `max_tasks`.
    fn task_configs(&self, max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError>;
    /// Stops; called once.
    async fn stop(&mut self) -> Result<(), ConnectError>;
}

/// A source connector: creates source tasks.
pub trait SourceConnector: Connector {
    /// A new, unstarted task.
    fn create_task(&self) -> Box<dyn SourceTask>;

    /// Checks offsets about to be stored by `PATCH` or `DELETE /connectors/NAME/offsets`
    /// (a `None` offset removes its partition); Kafka Connect's `alterOffsets`. `Ok(true)`:
    /// the connector keeps no offsets of its own elsewhere; `Ok(false)` (the default): it
    /// may, and the answer says so; an error refuses the change.
    fn alter_offsets(
        &self,
        _config: &ConfigMap,
        _offsets: &[(OffsetMap, Option<OffsetMap>)],
    ) -> Result<bool, ConnectError> {
        Ok(false)
    }
}

/// A sink connector: creates sink tasks.
pub trait SinkConnector: Connector {
    /// A new, unstarted task.
    fn create_task(&self) -> Box<dyn SinkTask>;
}

/// Reads the offsets the runtime has stored for a source task's partitions.
#[async_trait]
pub trait OffsetStorageReader: Send + Sync {
    /// Last durable offset of `partition`, if any.
    fn offset(&self, partition: &OffsetMap) -> Option<OffsetMap>;

    /// Reads the stored offsets again (the offsets topic to its end), for a task that
    /// waited for a resource another worker's task held and may have stored offsets
    /// past what [`OffsetStorageReader::offset`] saw. The default has nothing to reload.
    async fn reload(&self) -> Result<(), ConnectError> {
        Ok(())
    }
}

/// What a source task is handed on start.
#[derive(Clone)]
pub struct SourceTaskContext {
    /// Connector name.
    pub connector: String,
    /// Task number.
    pub task: u32,
    /// Stored offsets.
    pub offsets: Arc<dyn OffsetStorageReader>,
    /// Cancelled when the task is asked to stop; long waits inside `poll` should watch it.
    pub shutdown: CancellationToken,
}

/// An offset the runtime has made durable, handed back to the task in `commit`.
#[derive(Clone, Debug, PartialEq)]
pub struct CommittedOffset {
    /// Source partition.
    pub partition: Arc<OffsetMap>,
    /// Its last durable offset.
    pub offset: Arc<OffsetMap>,
}

/// A source task: produces records from an external system.
///
/// Contract: `poll` returns a batch (possibly empty) within about a second so the
/// runtime can react to pause and stop; records of one source partition are
/// returned in order. Every record carries a source partition and offset
/// ([`crate::Position::Source`]). `commit` is called after the offsets of
/// acknowledged records were written to the offsets topic: only then may the
/// task release data upstream (for example confirm a replication slot).
#[async_trait]
pub trait SourceTask: Send {
    /// Starts with the task's configuration.
    async fn start(&mut self, config: &ConfigMap, ctx: SourceTaskContext) -> Result<(), ConnectError>;
    /// The next batch of records; empty when nothing arrived within a short wait.
    async fn poll(&mut self) -> Result<Vec<Record>, ConnectError>;
    /// Offsets now durable in Kafka, per partition (the latest of each).
    async fn commit(&mut self, _durable: &[CommittedOffset]) -> Result<(), ConnectError> {
        Ok(())
    }
    /// Stops; called once, after the last poll.
    async fn stop(&mut self) -> Result<(), ConnectError>;
}

/// A Kafka topic partition.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
}

/// What a sink task is handed on start.
#[derive(Clone)]
pub struct SinkTaskContext {
    /// Connector name.
    pub connector: String,
    /// Task number.
    pub task: u32,
    /// Cancelled when the task is asked to stop.
    pub shutdown: CancellationToken,
}

/// A sink task: writes records consumed from Kafka to an external system.
///
/// Contract: `put` may buffer; `flush` must make everything put so far durable,
/// after which the runtime commits the consumer offsets given to it.
#[async_trait]
pub trait SinkTask: Send {
    /// Starts with the task's configuration.
    async fn start(&mut self, config: &ConfigMap, ctx: SinkTaskContext) -> Result<(), ConnectError>;
    /// Delivers a batch of records. After a retriable error the same batch is delivered again.
    async fn put(&mut self, records: &[Record]) -> Result<(), ConnectError>;
    /// Makes everything put so far durable; `offsets` are about to be committed (next offset to read).
    async fn flush(&mut self, offsets: &HashMap<TopicPartition, i64>) -> Result<(), ConnectError>;
    /// Stops; called once.
    async fn stop(&mut self) -> Result<(), ConnectError>;
}

/// A single message transform (SMT).
pub trait Transformation: Send {
    /// The transform's options.
    fn config_def(&self) -> ConfigDef;
    /// Configures from the options under `transforms.NAME.` (prefix removed).
    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError>;
    /// Transforms a record; `None` drops it.
    fn apply(&mut self, record: Record) -> Result<Option<Record>, ConnectError>;
}

/// A predicate deciding whether a transform applies to a record.
pub trait Predicate: Send {
    /// The predicate's options.
    fn config_def(&self) -> ConfigDef;
    /// Configures from the options under `predicates.NAME.` (prefix removed).
    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError>;
    /// True when the record matches.
    fn test(&self, record: &Record) -> bool;
}

/// Converts keys or values between Connect data and bytes.
pub trait Converter: Send + Sync {
    /// The converter's options.
    fn config_def(&self) -> ConfigDef;
    /// Configures from the options under `key.converter.`/`value.converter.` (prefix removed).
    fn configure(&mut self, config: &ConfigMap, is_key: bool) -> Result<(), ConfigError>;
    /// Serializes into `out` (cleared first). Returns false for a null result (nothing written).
    #[allow(clippy::wrong_self_convention)]
    fn from_connect_into(
        &self,
        topic: &str,
        schema: Option<&Schema>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<bool, DataError>;
    /// Serializes; `None` for a null result.
    #[allow(clippy::wrong_self_convention)]
    fn from_connect(
        &self,
        topic: &str,
        schema: Option<&Schema>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, DataError> {
        let mut out = Vec::new();
        Ok(self
            .from_connect_into(topic, schema, value, &mut out)?
            .then_some(out))
    }
    /// Deserializes; `None` input is a null (tombstone).
    fn to_connect(&self, topic: &str, data: Option<&[u8]>) -> Result<SchemaAndValue, DataError>;
}

/// Converts header values between Connect data and bytes.
pub trait HeaderConverter: Send + Sync {
    /// The converter's options.
    fn config_def(&self) -> ConfigDef;
    /// Configures from the options under `header.converter.` (prefix removed).
    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError>;
    /// Serializes one header value; `None` for null.
    #[allow(clippy::wrong_self_convention)]
    fn from_connect_header(
        &self,
        topic: &str,
        header_key: &str,
        schema: Option<&Schema>,
        value: &Value,
    ) -> Result<Option<Vec<u8>>, DataError>;
    /// Deserializes one header value.
    fn to_connect_header(
        &self,
        topic: &str,
        header_key: &str,
        data: Option<&[u8]>,
    ) -> Result<SchemaAndValue, DataError>;
}

/// Kind of plugin, as `/connector-plugins` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PluginKind {
    /// A source connector.
    Source,
    /// A sink connector.
    Sink,
    /// A single message transform.
    Transformation,
    /// A predicate of a transform.
    Predicate,
    /// A key/value converter.
    Converter,
    /// A header converter.
    HeaderConverter,
}

impl PluginKind {
    /// The `type` string of `/connector-plugins`.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginKind::Source => "source",
            PluginKind::Sink => "sink",
            PluginKind::Transformation => "transformation",
            PluginKind::Predicate => "predicate",
            PluginKind::Converter => "converter",
            PluginKind::HeaderConverter => "header_converter",
        }
    }
}

/// How to build a plugin instance.
#[derive(Clone, Copy)]
pub enum PluginFactory {
    /// Builds a source connector.
    Source(fn() -> Box<dyn SourceConnector>),
    /// Builds a sink connector.
    Sink(fn() -> Box<dyn SinkConnector>),
    /// Builds a transformation.
    Transformation(fn() -> Box<dyn Transformation>),
    /// Builds a predicate.
    Predicate(fn() -> Box<dyn Predicate>),
    /// Builds a converter.
    Converter(fn() -> Box<dyn Converter>),
    /// Builds a header converter.
    HeaderConverter(fn() -> Box<dyn HeaderConverter>),
}

impl PluginFactory {
    /// The kind this factory builds.
    pub fn kind(&self) -> PluginKind {
        match self {
            PluginFactory::Source(_) => PluginKind::Source,
            PluginFactory::Sink(_) => PluginKind::Sink,
            PluginFactory::Transformation(_) => PluginKind::Transformation,
            PluginFactory::Predicate(_) => PluginKind::Predicate,
            PluginFactory::Converter(_) => PluginKind::Converter,
            PluginFactory::HeaderConverter(_) => PluginKind::HeaderConverter,
        }
    }
}

/// A registered plugin: its Java class name, version and factory.
#[derive(Clone, Copy)]
pub struct PluginDescriptor {
    /// Fully qualified Java class name, e.g. `org.apache.kafka.connect.json.JsonConverter`.
    pub class: &'static str,
    /// Version shown by `/connector-plugins`.
    pub version: &'static str,
    /// Builds an instance.
    pub factory: PluginFactory,
}

impl fmt::Debug for PluginDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.class, self.factory.kind().as_str())
    }
}

impl PluginDescriptor {
    /// The plugin's kind.
    pub fn kind(&self) -> PluginKind {
        self.factory.kind()
    }
    /// The options of the plugin, from a fresh instance.
    pub fn config_def(&self) -> ConfigDef {
        match self.factory {
            PluginFactory::Source(f) => f().config_def(),
            PluginFactory::Sink(f) => f().config_def(),
            PluginFactory::Transformation(f) => f().config_def(),
            PluginFactory::Predicate(f) => f().config_def(),
            PluginFactory::Converter(f) => f().config_def(),
            PluginFactory::HeaderConverter(f) => f().config_def(),
        }
    }
}

/// Simple name of a Java class (`a.b.C$D` → `C$D`).
pub fn simple_name(class: &str) -> &str {
    class.rsplit('.').next().unwrap_or(class)
}

/// Finds plugins by class name or by the aliases Connect accepts: the simple
/// class name, and the simple name without its kind suffix (`Connector`,
/// `Converter`, `Transformation`, `Predicate`). Aliases shared by two plugins are dropped.
#[derive(Default, Clone)]
pub struct PluginRegistry {
    plugins: Vec<PluginDescriptor>,
    by_name: HashMap<String, usize>,
    ambiguous: Vec<String>,
}

impl PluginRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        PluginRegistry::default()
    }

    /// Registers plugins; a class registered twice keeps the first.
    pub fn register(&mut self, plugins: impl IntoIterator<Item = PluginDescriptor>) -> &mut Self {
        for p in plugins {
            if self.plugins.iter().any(|q| q.class == p.class) {
                continue;
            }
            self.plugins.push(p);
        }
        self.reindex();
        self
    }

    fn reindex(&mut self) {
        let mut counts: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, p) in self.plugins.iter().enumerate() {
            for alias in aliases(p) {
                let v = counts.entry(alias).or_default();
                if !v.contains(&i) {
                    v.push(i);
                }
            }
        }
        self.by_name.clear();
        self.ambiguous.clear();
        for (i, p) in self.plugins.iter().enumerate() {
            self.by_name.insert(p.class.to_string(), i);
        }
        for (alias, idx) in counts {
            if self.by_name.contains_key(&alias) {
                continue;
            }
            if idx.len() == 1 {
                self.by_name.insert(alias, idx[0]);
            } else {
                self.ambiguous.push(alias);
            }
        }
    }

    /// Finds a plugin by class name or alias.
    pub fn find(&self, name: &str) -> Option<&PluginDescriptor> {
        self.by_name.get(name.trim()).map(|&i| &self.plugins[i])
    }

    /// Finds a plugin of one of `kinds`.
    pub fn find_kind(&self, name: &str, kinds: &[PluginKind]) -> Option<&PluginDescriptor> {
        self.find(name).filter(|p| kinds.contains(&p.kind()))
    }

    /// All plugins, sorted by class name.
    pub fn all(&self) -> Vec<&PluginDescriptor> {
        let mut v: Vec<_> = self.plugins.iter().collect();
        v.sort_by_key(|p| p.class);
        v
    }
}

fn aliases(p: &PluginDescriptor) -> Vec<String> {
    let simple = simple_name(p.class);
    let mut out = vec![simple.to_string()];
    let suffix = match p.kind() {
        PluginKind::Source | PluginKind::Sink => "Connector",
        PluginKind::Converter | PluginKind::HeaderConverter => "Converter",
        PluginKind::Transformation => "Transformation",
        PluginKind::Predicate => "Predicate",
    };
    if let Some(pruned) = simple.strip_suffix(suffix) {
        if !pruned.is_empty() {
            out.push(pruned.to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Nop;
    impl Predicate for Nop {
        fn config_def(&self) -> ConfigDef {
            ConfigDef::new()
        }
        fn configure(&mut self, _: &ConfigMap) -> Result<(), ConfigError> {
            Ok(())
        }
        fn test(&self, _: &Record) -> bool {
            true
        }
    }

    fn nop() -> Box<dyn Predicate> {
        Box::new(Nop)
    }

    #[test]
    fn finds_by_class_and_aliases() {
        let mut r = PluginRegistry::new();
        r.register([PluginDescriptor {
            class: "org.example.AlwaysPredicate",
            version: "1",
            factory: PluginFactory::Predicate(nop),
        }]);
        assert!(r.find("org.example.AlwaysPredicate").is_some());
        assert!(r.find("AlwaysPredicate").is_some());
        assert!(r.find("Always").is_some());
        assert!(r.find("Never").is_none());
    }

    #[test]
    fn shared_aliases_are_dropped() {
        let mut r = PluginRegistry::new();
        r.register([
            PluginDescriptor {
                class: "a.X",
                version: "1",
                factory: PluginFactory::Predicate(nop),
            },
            PluginDescriptor {
                class: "b.X",
                version: "1",
                factory: PluginFactory::Predicate(nop),
            },
        ]);
        assert!(r.find("X").is_none());
        assert!(r.find("a.X").is_some());
    }
}
