//! The connector's settings, stated once and in Debezium 3.6.3's order: names, types,
//! defaults, importance, groups, widths, display names and recommended values exactly as
//! `/connector-plugins/.../config` shows them on Kafka Connect, the checks Debezium runs
//! on each value ([`CHECKS`]), the settings Ferry defines but does not implement
//! ([`NOT_IMPLEMENTED`]), and the Debezium 1.x names still accepted.
//! [`PostgresConfig::parse`](super::PostgresConfig::parse) reads every value through this
//! definition.

use ferry_core::config::{ConfigKey, ConfigType, Importance, Validator, Width};
use ferry_core::ConfigDef;

/// Old (Debezium 1.x) names still accepted, as `(current name, old name)`; the
/// current name wins when both are set.
pub const ALIASES: &[(&str, &str)] = &[
    ("topic.prefix", "database.server.name"),
    ("schema.include.list", "schema.whitelist"),
    ("schema.exclude.list", "schema.blacklist"),
    ("table.include.list", "table.whitelist"),
    ("table.exclude.list", "table.blacklist"),
    ("column.include.list", "column.whitelist"),
    ("column.exclude.list", "column.blacklist"),
];

/// The old name of setting `name`, if it has one.
pub fn alias_of(name: &str) -> Option<&'static str> {
    ALIASES.iter().find(|(n, _)| *n == name).map(|(_, old)| *old)
}

/// Debezium's groups, in the order Connect lists them.
const POSTGRES: &str = "Postgres";
const CONNECTOR: &str = "Connector";
const EVENTS: &str = "Events";

/// A setting of type `ty` (no default yet: add one, or `default_null`).
fn key(name: &str, ty: ConfigType, importance: Importance, width: Width) -> ConfigKey {
    ConfigKey::new(name, ty).importance(importance).width(width)
}

/// What `ConfigKey`'s builder lacks for Debezium's definitions.
trait KeyExt {
    /// Display name, group and position in the group.
    fn shown(self, display: &str, group: &str, order: i32) -> Self;
    /// Values `/config/validate` recommends, in Debezium's order.
    fn recommend(self, values: &[&str]) -> Self;
    /// Settings whose validity depends on this one.
    fn dependents(self, names: &[&str]) -> Self;
}

impl KeyExt for ConfigKey {
    fn shown(self, display: &str, group: &str, order: i32) -> Self {
        self.display_name(display).group(group, order)
    }
    fn recommend(mut self, values: &[&str]) -> Self {
        self.recommended_values = values.iter().map(|v| v.to_string()).collect();
        self
    }
    fn dependents(mut self, names: &[&str]) -> Self {
        self.dependents = names.iter().map(|v| v.to_string()).collect();
        self
    }
}

/// The options `/connector-plugins/.../config` lists: Debezium 3.6.3's, in its order,
/// then Ferry's own `outbox.cleanup.*`.
pub fn config_def() -> ConfigDef {
    let s = |name: &str| ConfigKey::new(name, ConfigType::String);
    let i = |name: &str| ConfigKey::new(name, ConfigType::Int);
    let l = |name: &str| ConfigKey::new(name, ConfigType::Long);
    let b = |name: &str| ConfigKey::new(name, ConfigType::Boolean);
    ConfigDef::new()
        .define(
            key("topic.prefix", ConfigType::String, Importance::High, Width::Medium)
                .shown("Topic prefix", POSTGRES, 1)
                .default_null()
                .doc("Prefix of every topic this connector writes to; names the logical server (1.x name: database.server.name)."),
        )
        .define(
            key("database.hostname", ConfigType::String, Importance::High, Width::Medium)
                .shown("Hostname", POSTGRES, 2)
                .default_null()
                .doc("Host name or IP address of the PostgreSQL server."),
        )
        .define(
            key("database.port", ConfigType::Int, Importance::High, Width::Short)
                .shown("Port", POSTGRES, 3)
                .default_value("5432")
                .doc("TCP port of the PostgreSQL server."),
        )
        .define(
            key("database.user", ConfigType::String, Importance::High, Width::Short)
                .shown("User", POSTGRES, 4)
                .default_null()
                .doc("User the connector logs in as."),
        )
        .define(
            key("database.password", ConfigType::Password, Importance::High, Width::Short)
                .shown("Password", POSTGRES, 5)
                .default_null()
                .doc("Password of database.user."),
        )
        .define(
            key("database.dbname", ConfigType::String, Importance::High, Width::Medium)
                .shown("Database", POSTGRES, 6)
                .default_null()
                .doc("Database whose changes are captured."),
        )
        .define(
            key("database.query.timeout.ms", ConfigType::Int, Importance::Low, Width::None)
                .shown("Query timeout", POSTGRES, 7)
                .default_value("600000")
                .doc("Time limit of a single query, in ms (Ferry: accepted, no effect)."),
        )
        .define(
            key("plugin.name", ConfigType::String, Importance::Medium, Width::Medium)
                .shown("Plugin", POSTGRES, 8)
                .default_value("decoderbufs")
                .doc("Logical decoding output plugin of the replication slot: pgoutput (built into PostgreSQL) or decoderbufs.")
                .recommend(&["decoderbufs", "pgoutput"]),
        )
        .define(
            key("slot.name", ConfigType::String, Importance::Medium, Width::Medium)
                .shown("Slot", POSTGRES, 9)
                .default_value("debezium")
                .doc("Name of the logical replication slot the connector streams from."),
        )
        .define(
            key("publication.name", ConfigType::String, Importance::Medium, Width::Medium)
                .shown("Publication", POSTGRES, 10)
                .default_value("dbz_publication")
                .doc("Name of the publication pgoutput streams (created when publication.autocreate.mode allows)."),
        )
        .define(
            key("publication.autocreate.mode", ConfigType::String, Importance::Medium, Width::Medium)
                .shown("Publication Auto Create Mode", POSTGRES, 11)
                .default_value("all_tables")
                .doc("Whether and how the publication is created: all_tables, filtered (the captured tables), no_tables or disabled.")
                .recommend(&["no_tables", "filtered", "disabled", "all_tables"]),
        )
        .define(
            key("replica.identity.autoset.values", ConfigType::String, Importance::Medium, Width::Long)
                .shown("Replica Identity Auto Set Values", POSTGRES, 12)
                .default_null()
                .doc("Replica identities set at start on captured tables, as <table regex>:<DEFAULT|FULL|NOTHING|INDEX name> entries separated by commas (ALTER TABLE ... REPLICA IDENTITY; needs table ownership, otherwise logged)."),
        )
        .define(
            key("slot.drop.on.stop", ConfigType::Boolean, Importance::Medium, Width::None)
                .shown("Drop slot on stop", POSTGRES, 13)
                .default_value("false")
                .doc("Drop the replication slot when the connector stops (for tests; the next start snapshots again)."),
        )
        .define(
            key("slot.failover", ConfigType::Boolean, Importance::Medium, Width::None)
                .shown("Create failover slot", POSTGRES, 14)
                .default_value("false")
                .doc("Create a new slot as a failover slot, which PostgreSQL 17+ synchronizes to standbys (sync_replication_slots) so streaming goes on after a promotion. Ignored on older servers and on a standby; an existing slot is left as it is."),
        )
        .define(
            key("slot.stream.params", ConfigType::String, Importance::Low, Width::Long)
                .shown("Optional parameters to pass to the logical decoder when the stream is started.", POSTGRES, 15)
                .default_null()
                .doc("Semicolon-separated name=value parameters of the output plugin. Ferry supports pgoutput's origin (none: drop changes replicated from another origin; any), which it applies itself, and refuses the others."),
        )
        .define(
            key("database.initial.statements", ConfigType::String, Importance::Low, Width::Long)
                .shown("Initial statements", POSTGRES, 16)
                .default_null()
                .doc("SQL statements run on every new query connection (not the replication one), separated by ';' (';;' stands for a semicolon inside a statement), e.g. SET statement_timeout = 0."),
        )
        .define(
            key("database.sslmode", ConfigType::String, Importance::Medium, Width::Medium)
                .shown("SSL mode", POSTGRES, 17)
                .default_value("prefer")
                .doc("TLS to the server: disable, allow, prefer, require, verify-ca (check the chain against database.sslrootcert) or verify-full (also the host name).")
                .recommend(&["allow", "prefer", "disable", "verify-ca", "require", "verify-full"]),
        )
        .define(
            key("database.sslcert", ConfigType::String, Importance::Medium, Width::Long)
                .shown("SSL Client Certificate", POSTGRES, 18)
                .default_null()
                .doc("PEM file with the client certificate (chain)."),
        )
        .define(
            key("database.sslpassword", ConfigType::Password, Importance::Medium, Width::Medium)
                .shown("SSL Client Key Password", POSTGRES, 19)
                .default_null()
                .doc("Password of an encrypted client key; Ferry reads unencrypted keys only and does not support this yet."),
        )
        .define(
            key("database.sslrootcert", ConfigType::String, Importance::Medium, Width::Long)
                .shown("SSL Root Certificate", POSTGRES, 20)
                .default_null()
                .doc("PEM file with the certificates the server's chain is checked against."),
        )
        .define(
            key("database.sslkey", ConfigType::String, Importance::Medium, Width::Long)
                .shown("SSL Client Key", POSTGRES, 21)
                .default_null()
                .doc("PEM file with the client's private key (unencrypted)."),
        )
        .define(
            key("slot.max.retries", ConfigType::Int, Importance::Low, Width::None)
                .shown("Retry count", POSTGRES, 22)
                .default_value("6")
                .doc("How often to try again to obtain a replication slot another client holds."),
        )
        .define(
            key("slot.retry.delay.ms", ConfigType::Long, Importance::Low, Width::None)
                .shown("Retry delay", POSTGRES, 23)
                .default_value("10000")
                .doc("Wait between those attempts, in ms."),
        )
        .define(
            key("database.sslfactory", ConfigType::String, Importance::Medium, Width::Long)
                .shown("SSL Root Certificate", POSTGRES, 24)
                .default_null()
                .doc("A Java SSLSocketFactory class for the JDBC driver; Ferry does not support this."),
        )
        .define(
            key("status.update.interval.ms", ConfigType::Int, Importance::Medium, Width::Short)
                .shown("Status update interval (ms)", POSTGRES, 25)
                .default_value("10000")
                .doc("How often the confirmed LSN is reported to the server, in ms."),
        )
        .define(
            key("lsn.flush.timeout.ms", ConfigType::Long, Importance::Medium, Width::Short)
                .shown("LSN flush timeout (ms)", POSTGRES, 26)
                .default_value("30000")
                .doc("How long flushing the LSN to the server may take, in ms (Ferry: accepted, no effect)."),
        )
        .define(
            key("lsn.flush.timeout.action", ConfigType::String, Importance::Medium, Width::Medium)
                .shown("LSN flush timeout action", POSTGRES, 27)
                .default_value("fail")
                .doc("What to do when an LSN flush times out: fail, warn or ignore; Ferry supports only the default.")
                .recommend(&["fail", "warn", "ignore"]),
        )
        .define(
            key("database.tcpKeepAlive", ConfigType::Boolean, Importance::Medium, Width::Short)
                .shown("TCP keep-alive probe", POSTGRES, 28)
                .default_value("true")
                .doc("TCP keep-alive on database connections (Ferry: accepted, no effect)."),
        )
        .define(
            key("xmin.fetch.interval.ms", ConfigType::Long, Importance::Medium, Width::Short)
                .shown("Xmin fetch interval (ms)", POSTGRES, 29)
                .default_value("0")
                .doc("How often the slot's xmin is read for the source block, in ms (0: never); Ferry supports only 0."),
        )
        .define(
            key("skipped.operations", ConfigType::List, Importance::Low, Width::Short)
                .shown("Skipped Operations", POSTGRES, 30)
                .default_value("t")
                .doc("Operations not published, as op codes c, u, d, t separated by commas, or none."),
        )
        .define(
            key("lsn.flush.mode", ConfigType::String, Importance::Low, Width::Short)
                .shown("LSN flush mode", POSTGRES, 31)
                .default_null()
                .doc("Who confirms the slot's flush position: connector (default: what stored offsets cover), manual (never: the user advances the slot) or connector_and_driver (also the server's keepalive position when everything emitted is stored).")
                .recommend(&["connector_and_driver", "connector", "manual"]),
        )
        .define(
            key("flush.lsn.source", ConfigType::Boolean, Importance::Low, Width::Short)
                .shown("Boolean to determine if Debezium should flush LSN in the source database", POSTGRES, 32)
                .default_value("true")
                .doc("Deprecated for lsn.flush.mode (used only when that is unset): true is connector, false is manual."),
        )
        .define(
            key("event.processing.failure.handling.mode", ConfigType::String, Importance::Medium, Width::Short)
                .shown("Event deserialization failure handling", CONNECTOR, 1)
                .default_value("fail")
                .doc("What to do with an event that cannot be processed: fail, warn, skip or ignore; Ferry supports only fail.")
                .recommend(&["warn", "fail", "ignore", "skip"]),
        )
        .define(
            key("max.batch.size", ConfigType::Int, Importance::Medium, Width::Short)
                .shown("Change event batch size", CONNECTOR, 2)
                .default_value("2048")
                .doc("Most change events handed to Connect per poll."),
        )
        .define(
            key("max.queue.size", ConfigType::Int, Importance::Medium, Width::Short)
                .shown("Change event buffer size", CONNECTOR, 3)
                .default_value("8192")
                .doc("Most change events buffered between the replication stream and Connect; must exceed max.batch.size."),
        )
        .define(
            key("poll.interval.ms", ConfigType::Long, Importance::Medium, Width::Short)
                .shown("Poll interval (ms)", CONNECTOR, 4)
                .default_value("500")
                .doc("How long a poll waits for new events, in ms."),
        )
        .define(
            key("max.queue.size.in.bytes", ConfigType::Long, Importance::Medium, Width::Long)
                .shown("Change event buffer size in bytes", CONNECTOR, 5)
                .default_value("0")
                .doc("Most bytes buffered between the stream and Connect (0: no limit) (Ferry: accepted, no effect)."),
        )
        .define(
            key("provide.transaction.metadata", ConfigType::Boolean, Importance::Low, Width::Short)
                .shown("Store transaction metadata information in a dedicated topic.", CONNECTOR, 6)
                .default_value("false")
                .doc("Publish BEGIN/END transaction events and a transaction block in every change event."),
        )
        .define(
            key("snapshot.delay.ms", ConfigType::Long, Importance::Low, Width::Medium)
                .shown("Snapshot Delay (milliseconds)", CONNECTOR, 7)
                .default_value("0")
                .doc("Wait before the snapshot starts, in ms (Ferry: accepted, no effect)."),
        )
        .define(
            key("streaming.delay.ms", ConfigType::Long, Importance::Low, Width::Medium)
                .shown("Streaming Delay (milliseconds)", CONNECTOR, 8)
                .default_value("0")
                .doc("Wait before streaming starts, in ms (Ferry: accepted, no effect)."),
        )
        .define(
            key("snapshot.include.collection.list", ConfigType::List, Importance::Medium, Width::Long)
                .shown("Snapshot mode include data collection", CONNECTOR, 9)
                .default_null()
                .doc("Regular expressions (comma-separated) naming the captured tables an initial snapshot reads, as schema.table; the others are only streamed. Default: all captured tables. Incremental and blocking snapshots are not affected."),
        )
        .define(
            key("snapshot.fetch.size", ConfigType::Int, Importance::Medium, Width::Medium)
                .shown("Snapshot fetch size", CONNECTOR, 10)
                .default_null()
                .doc("Rows fetched per round trip while snapshotting (default 10240)."),
        )
        .define(
            key("snapshot.max.threads", ConfigType::Int, Importance::Medium, Width::Short)
                .shown("Snapshot maximum threads", CONNECTOR, 11)
                .default_value("1")
                .doc("Threads reading tables during the snapshot (Ferry: accepted, no effect)."),
        )
        .define(
            key("snapshot.max.threads.multiplier", ConfigType::Int, Importance::Medium, Width::Short)
                .shown("Snapshot maximum thread multiplier", CONNECTOR, 12)
                .default_value("1")
                .doc("Snapshot threads per table (Ferry: accepted, no effect)."),
        )
        .define(
            key("legacy.snapshot.max.threads", ConfigType::Boolean, Importance::Low, Width::Short)
                .shown("Enforces using a single thread per table regardless of table size", CONNECTOR, 13)
                .default_value("false")
                .doc("One snapshot thread per table whatever its size (Ferry: accepted, no effect)."),
        )
        .define(
            key("internal.legacy.snapshot.max.threads", ConfigType::Boolean, Importance::Low, Width::Short)
                .shown("Enforces using a single thread per table regardless of table size", CONNECTOR, 13)
                .default_value("false")
                .doc("Internal name of legacy.snapshot.max.threads (Ferry: accepted, no effect)."),
        )
        .define(
            key("snapshot.mode.custom.name", ConfigType::String, Importance::Medium, Width::Medium)
                .shown("Snapshot Mode Custom Name", CONNECTOR, 14)
                .default_null()
                .doc("Name of the custom snapshotter when snapshot.mode=custom; Ferry does not support custom snapshotters."),
        )
        .define(
            key("snapshot.mode.configuration.based.snapshot.data", ConfigType::Boolean, Importance::Medium, Width::Medium)
                .shown("Snapshot mode property based snapshot data", CONNECTOR, 15)
                .default_value("false")
                .doc("With snapshot.mode=configuration_based: snapshot the rows; Ferry does not support configuration_based yet."),
        )
        .define(
            key("snapshot.mode.configuration.based.snapshot.schema", ConfigType::Boolean, Importance::Medium, Width::Medium)
                .shown("Snapshot mode property based snapshot schema", CONNECTOR, 16)
                .default_value("false")
                .doc("With snapshot.mode=configuration_based: snapshot the schema; Ferry does not support configuration_based yet."),
        )
        .define(
            key("snapshot.mode.configuration.based.start.stream", ConfigType::Boolean, Importance::Medium, Width::Medium)
                .shown("Snapshot mode property based start stream", CONNECTOR, 17)
                .default_value("false")
                .doc("With snapshot.mode=configuration_based: stream after the snapshot; Ferry does not support configuration_based yet."),
        )
        .define(
            key("snapshot.mode.configuration.based.snapshot.on.schema.error", ConfigType::Boolean, Importance::Medium, Width::Medium)
                .shown("Snapshot mode property based snapshot on schema error", CONNECTOR, 18)
                .default_value("false")
                .doc("With snapshot.mode=configuration_based: snapshot the schema again on a schema error; Ferry does not support configuration_based yet."),
        )
        .define(
            key("snapshot.mode.configuration.based.snapshot.on.data.error", ConfigType::Boolean, Importance::Medium, Width::Medium)
                .shown("Snapshot mode property based snapshot on data error", CONNECTOR, 19)
                .default_value("false")
                .doc("With snapshot.mode=configuration_based: snapshot again when the stored position is gone; Ferry does not support configuration_based yet."),
        )
        .define(
            key("retriable.restart.connector.wait.ms", ConfigType::Long, Importance::Low, Width::Medium)
                .shown("Retriable restart wait (ms)", CONNECTOR, 20)
                .default_value("10000")
                .doc("Wait before a restart after a retriable error, in ms (Ferry: accepted, no effect)."),
        )
        .define(
            key("query.fetch.size", ConfigType::Int, Importance::Medium, Width::Medium)
                .shown("Query fetch size", CONNECTOR, 21)
                .default_value("0")
                .doc("Rows fetched per round trip by other queries (0: driver default) (Ferry: accepted, no effect)."),
        )
        .define(
            key("errors.max.retries", ConfigType::Int, Importance::Low, Width::Medium)
                .shown("The maximum number of retries", CONNECTOR, 22)
                .default_value("-1")
                .doc("Reconnection attempts after a retriable error (-1: no limit, 0: fail at once)."),
        )
        .define(
            key("incremental.snapshot.watermarking.strategy", ConfigType::String, Importance::Low, Width::Medium)
                .shown("Incremental snapshot watermarking strategy", CONNECTOR, 23)
                .default_value("INSERT_INSERT")
                .doc("How incremental snapshot chunks are marked in the signal table: insert_insert (an open and a close row per chunk) or insert_delete (the open row, deleted to close the window).")
                .recommend(&["insert_delete", "insert_insert"]),
        )
        .define(
            key("internal.log.position.check.enable", ConfigType::Boolean, Importance::Medium, Width::Medium)
                .shown("Enable/Disable log position check", CONNECTOR, 24)
                .default_value("true")
                .doc("Check at start-up that the stored position is still available (Ferry: accepted, no effect)."),
        )
        .define(
            key("internal.advanced.metrics.enable", ConfigType::Boolean, Importance::Medium, Width::Medium)
                .shown("Enable/Disable advance metrics", CONNECTOR, 25)
                .default_value("false")
                .doc("Advanced JMX metrics (Ferry: accepted, no effect)."),
        )
        .define(
            key("connection.validation.timeout.ms", ConfigType::Long, Importance::Low, Width::Short)
                .shown("Connection validation timeout (ms)", CONNECTOR, 26)
                .default_value("60000")
                .doc("Time limit of the connection check during validation, in ms."),
        )
        .define(
            key("executor.shutdown.timeout.ms", ConfigType::Long, Importance::Medium, Width::Medium)
                .shown("Executor shutdown timeout (ms)", CONNECTOR, 27)
                .default_value("4000")
                .doc("How long stopping waits for internal threads, in ms (Ferry: accepted, no effect)."),
        )
        .define(
            key("openlineage.integration.enabled", ConfigType::Boolean, Importance::Low, Width::Short)
                .shown("Enables OpenLineage integration", CONNECTOR, 28)
                .default_value("false")
                .doc("Emit OpenLineage events; Ferry does not support this."),
        )
        .define(
            key("openlineage.integration.config.file.path", ConfigType::String, Importance::Low, Width::Long)
                .shown("Path to OpenLineage file configuration", CONNECTOR, 29)
                .default_value("./openlineage.yml")
                .doc("OpenLineage client configuration file (Ferry: accepted, no effect)."),
        )
        .define(
            key("openlineage.integration.job.namespace", ConfigType::String, Importance::Low, Width::Long)
                .shown("Namespace used for Debezium job", CONNECTOR, 30)
                .default_null()
                .doc("OpenLineage job namespace (Ferry: accepted, no effect)."),
        )
        .define(
            key("openlineage.integration.job.description", ConfigType::String, Importance::Low, Width::Long)
                .shown("Description used for Debezium job", CONNECTOR, 31)
                .default_value("Debezium change data capture job")
                .doc("OpenLineage job description (Ferry: accepted, no effect)."),
        )
        .define(
            key("openlineage.integration.job.tags", ConfigType::List, Importance::Low, Width::Long)
                .shown("Debezium job tags", CONNECTOR, 32)
                .default_null()
                .doc("OpenLineage job tags, key=value pairs (Ferry: accepted, no effect)."),
        )
        .define(
            key("openlineage.integration.job.owners", ConfigType::List, Importance::Low, Width::Long)
                .shown("Debezium job owners", CONNECTOR, 33)
                .default_null()
                .doc("OpenLineage job owners, key=value pairs (Ferry: accepted, no effect)."),
        )
        .define(
            key("openlineage.integration.dataset.kafka.bootstrap.servers", ConfigType::String, Importance::Low, Width::Long)
                .shown("Kafka bootstrap server used in Kafka Connect deployment", CONNECTOR, 34)
                .default_null()
                .doc("Kafka servers named in OpenLineage datasets (Ferry: accepted, no effect)."),
        )
        .define(
            key("extended.headers.enabled", ConfigType::Boolean, Importance::Low, Width::Short)
                .shown("Enable/Disable extended headers", CONNECTOR, 35)
                .default_value("true")
                .doc("Add the __debezium.context.* headers to change events."),
        )
        .define(
            key("guardrail.collections.max", ConfigType::Int, Importance::Medium, Width::Short)
                .shown("Maximum number of collections or tables", CONNECTOR, 36)
                .default_value("0")
                .doc("Most tables the connector may capture (0: no limit); more are handled as guardrail.collections.limit.action says when the task starts."),
        )
        .define(
            key("guardrail.collections.limit.action", ConfigType::String, Importance::Medium, Width::Short)
                .shown("Guardrail collections limit action", CONNECTOR, 37)
                .default_value("warn")
                .doc("What capturing more tables than guardrail.collections.max does when the task starts: warn (log and go on) or fail (the task fails).")
                .recommend(&["warn", "fail"]),
        )
        .define(
            key("custom.sanitize.pattern", ConfigType::String, Importance::Low, Width::Long)
                .shown("Custom pattern for masking sensitive configuration", CONNECTOR, 38)
                .default_value(".*secret$|.*password$|.*sasl\\.jaas\\.config$|.*basic\\.auth\\.user\\.info|.*registry\\.auth\\.client-secret|.*credentials\\.json$|.*connectionstring$|.*connection\\.string$")
                .doc("Regular expression of setting names whose values are masked in logs (Ferry: accepted, no effect)."),
        )
        .define(
            key("statistics.metrics.enabled", ConfigType::Boolean, Importance::Medium, Width::Short)
                .shown("Enable collecting statistics metrics like latencies", CONNECTOR, 39)
                .default_value("true")
                .doc("Collect latency statistics (Ferry: accepted, no effect)."),
        )
        .define(
            key("decimal.handling.mode", ConfigType::String, Importance::Medium, Width::Short)
                .shown("Decimal Handling", CONNECTOR, 40)
                .default_value("precise")
                .doc("How NUMERIC/DECIMAL values are published: precise (Connect Decimal), double or string.")
                .recommend(&["string", "double", "precise"]),
        )
        .define(
            key("time.precision.mode", ConfigType::String, Importance::Medium, Width::Short)
                .shown("Time Precision", CONNECTOR, 41)
                .default_value("adaptive")
                .doc("How temporal values are published: adaptive, adaptive_time_microseconds or connect (isostring, microseconds and nanoseconds: not in Ferry yet).")
                .recommend(&["adaptive", "adaptive_time_microseconds", "isostring", "microseconds", "nanoseconds", "connect"]),
        )
        .define(
            key("snapshot.lock.timeout.ms", ConfigType::Long, Importance::Medium, Width::Long)
                .shown("Snapshot lock timeout (ms)", CONNECTOR, 42)
                .default_value("10000")
                .doc("How long the snapshot waits for each table lock (snapshot.locking.mode=shared), in ms, before it fails."),
        )
        .define(
            key("memory.management.schemas.class", ConfigType::Class, Importance::Low, Width::Long)
                .shown("Schema storage class", CONNECTOR, 43)
                .default_value("io.debezium.relational.ConcurrentMapTableMappingStorage")
                .doc("Java class storing table schemas in memory (Ferry: accepted, no effect)."),
        )
        .define(
            key("memory.management.tables.class", ConfigType::Class, Importance::Low, Width::Long)
                .shown("Table storage class", CONNECTOR, 44)
                .default_value("io.debezium.relational.ConcurrentMapTableMappingStorage")
                .doc("Java class storing tables in memory (Ferry: accepted, no effect)."),
        )
        .define(
            key("snapshot.mode", ConfigType::String, Importance::Medium, Width::Short)
                .shown("Snapshot mode", CONNECTOR, 45)
                .default_value("initial")
                .doc("When to snapshot: initial, always, initial_only, no_data or when_needed (configuration_based and custom: not in Ferry yet).")
                .recommend(&["always", "initial_only", "configuration_based", "when_needed", "initial", "custom", "no_data"]),
        )
        .define(
            key("snapshot.isolation.mode", ConfigType::String, Importance::Low, Width::Short)
                .shown("Snapshot isolation mode", CONNECTOR, 46)
                .default_value("serializable")
                .doc("Isolation level of a snapshot that cannot import the new slot's exported snapshot (which is always REPEATABLE READ): serializable, repeatable_read, read_committed or read_uncommitted.")
                .recommend(&["read_uncommitted", "repeatable_read", "read_committed", "serializable"]),
        )
        .define(
            key("snapshot.query.mode", ConfigType::String, Importance::Low, Width::Short)
                .shown("Snapshot query mode", CONNECTOR, 47)
                .default_value("select_all")
                .doc("How snapshot SELECTs are built: select_all; Ferry does not support custom.")
                .recommend(&["custom", "select_all"]),
        )
        .define(
            key("snapshot.query.mode.custom.name", ConfigType::String, Importance::Medium, Width::Medium)
                .shown("Snapshot Query Mode Custom Name", CONNECTOR, 48)
                .default_null()
                .doc("Name of the custom snapshot query builder; Ferry does not support this."),
        )
        .define(
            key("snapshot.locking.mode.custom.name", ConfigType::String, Importance::Medium, Width::Medium)
                .shown("Snapshot Locking Mode Custom Name", CONNECTOR, 49)
                .default_null()
                .doc("Name of the custom snapshot lock implementation; Ferry does not support this."),
        )
        .define(
            key("snapshot.locking.mode", ConfigType::String, Importance::Low, Width::Short)
                .shown("Snapshot locking mode", CONNECTOR, 50)
                .default_value("none")
                .doc("Table locks during the snapshot: shared (LOCK TABLE ... IN ACCESS SHARE MODE on each captured table until the snapshot ends) or none; custom is not supported.")
                .recommend(&["shared", "custom", "none"]),
        )
        .define(
            key("hstore.handling.mode", ConfigType::String, Importance::Low, Width::Medium)
                .shown("HStore Handling", CONNECTOR, 51)
                .default_value("json")
                .doc("How hstore values are published: json (a JSON string) or map.")
                .recommend(&["json", "map"]),
        )
        .define(
            key("binary.handling.mode", ConfigType::String, Importance::Low, Width::Medium)
                .shown("Binary Handling", CONNECTOR, 52)
                .default_value("bytes")
                .doc("How binary values are published: bytes, base64, base64-url-safe or hex.")
                .recommend(&["bytes", "base64", "hex", "base64-url-safe"]),
        )
        .define(
            key("schema.name.adjustment.mode", ConfigType::String, Importance::Low, Width::Medium)
                .shown("Schema Name Adjustment", CONNECTOR, 53)
                .default_value("none")
                .doc("Rewrite schema names for Avro: none, avro or avro_unicode; Ferry supports only none.")
                .recommend(&["none", "avro_unicode", "avro"]),
        )
        .define(
            key("interval.handling.mode", ConfigType::String, Importance::Low, Width::Medium)
                .shown("Interval Handling", CONNECTOR, 54)
                .default_value("numeric")
                .doc("How interval values are published: numeric (microseconds) or string (ISO 8601).")
                .recommend(&["string", "numeric"]),
        )
        .define(
            key("schema.refresh.mode", ConfigType::String, Importance::Medium, Width::Short)
                .shown("Schema refresh mode", CONNECTOR, 55)
                .default_value("columns_diff")
                .doc("When table schemas are refreshed: columns_diff; Ferry does not support columns_diff_exclude_unchanged_toast yet.")
                .recommend(&["columns_diff", "columns_diff_exclude_unchanged_toast"]),
        )
        .define(
            key("incremental.snapshot.chunk.size", ConfigType::Int, Importance::Medium, Width::Medium)
                .shown("Incremental snapshot chunk size", CONNECTOR, 56)
                .default_value("1024")
                .doc("Rows per chunk of an incremental snapshot."),
        )
        .define(
            key("unavailable.value.placeholder", ConfigType::String, Importance::Medium, Width::Medium)
                .shown("Unavailable value placeholder", CONNECTOR, 57)
                .default_value("__debezium_unavailable_value")
                .doc("Value published for an unchanged TOASTed column whose value the server did not send."),
        )
        .define(
            key("message.prefix.include.list", ConfigType::List, Importance::Medium, Width::Long)
                .shown("Include Logical Decoding Message Prefixes", CONNECTOR, 58)
                .default_null()
                .doc("Prefixes (regular expressions) of logical decoding messages to publish."),
        )
        .define(
            key("message.prefix.exclude.list", ConfigType::List, Importance::Medium, Width::Long)
                .shown("Exclude Logical Decoding Message Prefixes", CONNECTOR, 59)
                .default_null()
                .doc("Prefixes (regular expressions) of logical decoding messages not to publish."),
        )
        .define(
            key("publish.via.partition.root", ConfigType::Boolean, Importance::Medium, Width::Short)
                .shown("Publish via partition root", CONNECTOR, 60)
                .default_value("false")
                .doc("Publications the connector creates publish a partitioned table's changes under the root table (publish_via_partition_root = true)."),
        )
        .define(
            key("converters", ConfigType::String, Importance::Low, Width::Medium)
                .shown("List of prefixes defining custom values converters.", EVENTS, 1)
                .default_null()
                .doc("Custom value converters, by name; Ferry does not support them."),
        )
        .define(
            key("post.processors", ConfigType::String, Importance::Low, Width::Medium)
                .shown("List of change event post processors.", EVENTS, 2)
                .default_null()
                .doc("Change event post processors, by name; each is configured by NAME.type (Ferry has io.debezium.processors.reselect.ReselectColumnsPostProcessor) and NAME.<option>."),
        )
        .define(
            key("tombstones.on.delete", ConfigType::Boolean, Importance::Medium, Width::Short)
                .shown("Change the behaviour of Debezium with regards to delete operations", EVENTS, 3)
                .default_value("true")
                .doc("Follow each delete event with a tombstone (null value) for log compaction."),
        )
        .define(
            key("heartbeat.interval.ms", ConfigType::Int, Importance::Medium, Width::Medium)
                .shown("Connector heartbeat interval (milli-seconds)", EVENTS, 4)
                .default_value("0")
                .doc("How often a heartbeat record is published, in ms (0: never)."),
        )
        .define(
            key("heartbeat.topics.prefix", ConfigType::String, Importance::Low, Width::Medium)
                .shown("A prefix used for naming of heartbeat topics", EVENTS, 5)
                .default_value("__debezium-heartbeat")
                .doc("Prefix of the heartbeat topic, which is PREFIX.topic.prefix."),
        )
        .define(
            key("signal.data.collection", ConfigType::List, Importance::Medium, Width::Medium)
                .shown("Signaling data collection", EVENTS, 6)
                .default_null()
                .doc("The signalling table (schema.table) Debezium signals are read from."),
        )
        .define(
            key("signal.poll.interval.ms", ConfigType::Long, Importance::Medium, Width::Short)
                .shown("Signal processor poll interval", EVENTS, 7)
                .default_value("5000")
                .doc("How often the file signal channel reads its file, in ms (the Kafka channel is read at every poll)."),
        )
        .define(
            key("signal.enabled.channels", ConfigType::List, Importance::Medium, Width::Long)
                .shown("Enabled channels names", EVENTS, 8)
                .default_value("source")
                .doc("Signal channels read: source (the signalling table) and kafka."),
        )
        .define(
            key("topic.naming.strategy", ConfigType::Class, Importance::Medium, Width::Medium)
                .shown("Topic naming strategy class", EVENTS, 9)
                .default_value("io.debezium.schema.SchemaTopicNamingStrategy")
                .doc("Java class naming the topics; Ferry supports only the default."),
        )
        .define(
            key("notification.enabled.channels", ConfigType::List, Importance::Medium, Width::Long)
                .shown("Enabled notification channels names", EVENTS, 10)
                .default_null()
                .doc("Channels incremental snapshot notifications are sent to: sink (records on notification.sink.topic.name) and log; jmx is not served."),
        )
        .define(
            key("notification.sink.topic.name", ConfigType::String, Importance::High, Width::Long)
                .shown("Notification topic name", EVENTS, 11)
                .default_null()
                .doc("Topic of the sink notification channel; required when notification.enabled.channels has sink."),
        )
        .define(
            key("transaction.metadata.factory", ConfigType::Class, Importance::Low, Width::Medium)
                .shown("Factory class to create transaction context & transaction struct maker classes", EVENTS, 12)
                .default_value("io.debezium.pipeline.txmetadata.DefaultTransactionMetadataFactory")
                .doc("Java class building transaction metadata; Ferry supports only the default."),
        )
        .define(
            key("custom.metric.tags", ConfigType::List, Importance::Low, Width::Medium)
                .shown("Customize metric tags", EVENTS, 13)
                .default_null()
                .doc("Extra tags of the connector's metrics, key=value pairs (Ferry: accepted, no effect)."),
        )
        .define(
            key("column.include.list", ConfigType::List, Importance::Medium, Width::Long)
                .shown("Include Columns", EVENTS, 14)
                .default_null()
                .doc("Columns (regular expressions over schema.table.column) to publish; all others are left out."),
        )
        .define(
            key("column.exclude.list", ConfigType::List, Importance::Medium, Width::Long)
                .shown("Exclude Columns", EVENTS, 15)
                .default_null()
                .doc("Columns (regular expressions over schema.table.column) to leave out."),
        )
        .define(
            key("table.include.list", ConfigType::List, Importance::High, Width::Long)
                .shown("Include Tables", EVENTS, 16)
                .default_null()
                .doc("Tables (regular expressions over schema.table) to capture; no others are."),
        )
        .define(
            key("table.exclude.list", ConfigType::List, Importance::Medium, Width::Long)
                .shown("Exclude Tables", EVENTS, 17)
                .default_null()
                .doc("Tables (regular expressions over schema.table) not to capture."),
        )
        .define(
            key("table.ignore.builtin", ConfigType::Boolean, Importance::Low, Width::Short)
                .shown("Ignore system databases", EVENTS, 18)
                .default_value("true")
                .doc("Leave system tables out; Ferry supports only true."),
        )
        .define(
            key("schema.include.list", ConfigType::List, Importance::High, Width::Long)
                .shown("Include Schemas", EVENTS, 19)
                .default_null()
                .doc("Schemas (regular expressions) to capture; no others are.")
                .dependents(&["table.include.list"]),
        )
        .define(
            key("schema.exclude.list", ConfigType::List, Importance::Medium, Width::Long)
                .shown("Exclude Schemas", EVENTS, 20)
                .default_null()
                .doc("Schemas (regular expressions) not to capture."),
        )
        .define(
            key("message.key.columns", ConfigType::String, Importance::Medium, Width::Long)
                .shown("Columns PK mapping", EVENTS, 21)
                .default_null()
                .doc("Key columns per table, replacing the primary key: pattern:col1,col2 entries separated by semicolons."),
        )
        .define(
            key("snapshot.select.statement.overrides", ConfigType::String, Importance::Medium, Width::Long)
                .shown("List of tables where the default select statement used during snapshotting should be overridden.", EVENTS, 22)
                .default_null()
                .doc("Tables (schema.table) whose snapshot runs the SELECT in snapshot.select.statement.overrides.schema.table instead of reading every row."),
        )
        .define(
            key("column.mask.hash.([^.]+).with.salt.(.+)", ConfigType::String, Importance::Medium, Width::Long)
                .shown("Mask Columns Using Hash and Salt", EVENTS, 23)
                .default_null()
                .doc("Columns whose values are replaced by a hash (algorithm and salt named in the key)."),
        )
        .define(
            key("column.mask.with.(d+).chars", ConfigType::String, Importance::Medium, Width::None)
                .shown("Mask Columns With n Asterisks", EVENTS, 24)
                .default_null()
                .doc("Columns whose values are replaced by that many asterisks."),
        )
        .define(
            key("column.truncate.to.(d+).chars", ConfigType::Int, Importance::Medium, Width::None)
                .shown("Truncate Columns To n Characters", EVENTS, 25)
                .default_null()
                .doc("Columns whose string values are cut to that many characters."),
        )
        .define(
            key("include.schema.comments", ConfigType::Boolean, Importance::Medium, Width::Short)
                .shown("Include Table and Column Comments", EVENTS, 26)
                .default_value("false")
                .doc("Carry table and column comments into schema docs."),
        )
        .define(
            key("column.propagate.source.type", ConfigType::List, Importance::Medium, Width::None)
                .shown("Propagate Source Types by Columns", EVENTS, 27)
                .default_null()
                .doc("Columns whose schemas carry the source type, length and scale as parameters."),
        )
        .define(
            key("datatype.propagate.source.type", ConfigType::List, Importance::Medium, Width::None)
                .shown("Propagate Source Types by Data Type", EVENTS, 28)
                .default_null()
                .doc("Data types whose columns' schemas carry the source type, length and scale as parameters."),
        )
        .define(
            key("internal.snapshot.scan.all.columns.force", ConfigType::Boolean, Importance::Low, Width::Short)
                .shown("Snapshot force scan all columns of all tables", EVENTS, 29)
                .default_value("false")
                .doc("Snapshot SELECTs read all columns whatever the column filters (Ferry: accepted, no effect)."),
        )
        .define(
            key("snapshot.tables.order.by.row.count", ConfigType::String, Importance::Medium, Width::None)
                .shown("Initial snapshot tables order by row count", EVENTS, 30)
                .default_value("disabled")
                .doc("Order the initial snapshot's tables by row count: disabled, ascending or descending. No effect on PostgreSQL with one snapshot thread, as in Debezium 3.6, which has no row counts there; Ferry reads one table at a time.")
                .recommend(&["disabled", "ascending", "descending"]),
        )
        .define(
            key("heartbeat.action.query", ConfigType::String, Importance::Low, Width::Medium)
                .shown("An optional query to execute with every heartbeat", EVENTS, 31)
                .default_null()
                .doc("SQL run against the database at every heartbeat."),
        )
        .define(
            key("include.unknown.datatypes", ConfigType::Boolean, Importance::Medium, Width::Short)
                .shown("Include unknown datatypes", EVENTS, 32)
                .default_value("false")
                .doc("Publish columns of types the connector does not know, as raw bytes."),
        )
        .define(
            key("sourceinfo.struct.maker", ConfigType::Class, Importance::Low, Width::Medium)
                .shown("Source info struct maker class", EVENTS, 33)
                .default_value("io.debezium.connector.postgresql.PostgresSourceInfoStructMaker")
                .doc("Java class building the source block; Ferry supports only the default."),
        )
        .define(b("outbox.cleanup.enabled").default_value("false").doc(
            "Ferry only: delete rows of outbox.cleanup.table once their events are in Kafka and covered by a stored offset (see docs/outbox-cleanup.md).",
        ))
        .define(s("outbox.cleanup.table").default_null().doc(
            "Ferry only: the outbox table (schema.table, or a table in public) whose published rows are deleted; must be captured and have a primary key.",
        ))
        .define(l("outbox.cleanup.delay.ms").default_value("0").validator(Validator::at_least(0.0)).doc(
            "Ferry only: how long a row is kept at least after it became durable in Kafka.",
        ))
        .define(i("outbox.cleanup.batch.size").default_value("1000").validator(Validator::between(1.0, 100000.0)).doc(
            "Ferry only: rows deleted per cleanup transaction (each batch is its own short transaction).",
        ))
        .define(l("outbox.cleanup.interval.ms").default_value("1000").validator(Validator::at_least(10.0)).doc(
            "Ferry only: how often the cleanup looks for published rows.",
        ))
}

/// One of Debezium's value checks; each that fails adds its message, worded as Debezium
/// words it (`The 'KEY' value is invalid: ...`), so one value can collect several.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Set and not blank (`topic.prefix` also through its 1.x name).
    Required,
    /// A 32-bit integer.
    Int,
    /// A 32-bit integer above 0.
    PositiveInt,
    /// A 32-bit integer of at least 0.
    NonNegativeInt,
    /// A 64-bit integer.
    Long,
    /// A 64-bit integer above 0.
    PositiveLong,
    /// A 64-bit integer of at least 0.
    NonNegativeLong,
    /// `true` or `false`, any case.
    Boolean,
    /// One of the setting's recommended values, any case.
    OneOf,
    /// `k1=v1,k2=v2`.
    KeyValueMap,
    /// `table:col[,col]` entries separated by `;` (`message.key.columns`).
    KeyColumns,
    /// Op codes `c`, `u`, `d`, `t` or `none`, separated by commas.
    SkippedOperations,
    /// `max.queue.size` above 0 and above `max.batch.size`.
    QueueSize,
    /// Not set together with the include list `include` (named `shown` in the message).
    ExclusiveWith {
        /// The include list's name.
        include: &'static str,
        /// The name Debezium's message gives it.
        shown: &'static str,
    },
    /// Ferry's own: at most 65535 (Debezium accepts any integer and fails to connect).
    Port,
}

/// The checks of each setting, in the order Debezium runs them (some twice, as it does).
pub const CHECKS: &[(&str, &[Check])] = &[
    ("topic.prefix", &[Check::Required]),
    ("database.hostname", &[Check::Required]),
    ("database.port", &[Check::Int, Check::Int, Check::Port]),
    ("database.user", &[Check::Required]),
    ("database.dbname", &[Check::Required]),
    ("database.query.timeout.ms", &[Check::Int]),
    ("plugin.name", &[Check::OneOf]),
    ("publication.autocreate.mode", &[Check::OneOf]),
    ("slot.drop.on.stop", &[Check::Boolean]),
    ("slot.failover", &[Check::Boolean]),
    ("database.sslmode", &[Check::OneOf]),
    ("slot.max.retries", &[Check::Int, Check::Int]),
    ("slot.retry.delay.ms", &[Check::Long, Check::Int]),
    ("status.update.interval.ms", &[Check::Int, Check::PositiveInt]),
    ("lsn.flush.timeout.ms", &[Check::Long, Check::PositiveInt]),
    ("lsn.flush.timeout.action", &[Check::OneOf]),
    ("database.tcpKeepAlive", &[Check::Boolean, Check::Boolean]),
    ("xmin.fetch.interval.ms", &[Check::Long, Check::NonNegativeLong]),
    ("skipped.operations", &[Check::SkippedOperations]),
    ("lsn.flush.mode", &[Check::OneOf]),
    ("flush.lsn.source", &[Check::Boolean, Check::Boolean]),
    ("event.processing.failure.handling.mode", &[Check::OneOf]),
    ("max.batch.size", &[Check::Int, Check::PositiveInt]),
    ("max.queue.size", &[Check::Int, Check::QueueSize]),
    ("poll.interval.ms", &[Check::Long, Check::PositiveInt]),
    ("max.queue.size.in.bytes", &[Check::Long, Check::NonNegativeLong]),
    ("provide.transaction.metadata", &[Check::Boolean]),
    ("snapshot.delay.ms", &[Check::Long, Check::NonNegativeLong]),
    ("streaming.delay.ms", &[Check::Long, Check::NonNegativeLong]),
    ("snapshot.fetch.size", &[Check::Int, Check::NonNegativeInt]),
    ("snapshot.max.threads", &[Check::Int, Check::PositiveInt]),
    (
        "snapshot.max.threads.multiplier",
        &[Check::Int, Check::PositiveInt],
    ),
    ("legacy.snapshot.max.threads", &[Check::Boolean]),
    (
        "snapshot.mode.configuration.based.snapshot.data",
        &[Check::Boolean],
    ),
    (
        "snapshot.mode.configuration.based.snapshot.schema",
        &[Check::Boolean],
    ),
    (
        "snapshot.mode.configuration.based.start.stream",
        &[Check::Boolean],
    ),
    (
        "snapshot.mode.configuration.based.snapshot.on.schema.error",
        &[Check::Boolean],
    ),
    (
        "snapshot.mode.configuration.based.snapshot.on.data.error",
        &[Check::Boolean],
    ),
    (
        "retriable.restart.connector.wait.ms",
        &[Check::Long, Check::PositiveLong],
    ),
    ("query.fetch.size", &[Check::Int, Check::NonNegativeInt]),
    ("errors.max.retries", &[Check::Int, Check::Int]),
    ("incremental.snapshot.watermarking.strategy", &[Check::OneOf]),
    ("internal.log.position.check.enable", &[Check::Boolean]),
    ("internal.advanced.metrics.enable", &[Check::Boolean]),
    (
        "connection.validation.timeout.ms",
        &[Check::Long, Check::PositiveLong],
    ),
    (
        "executor.shutdown.timeout.ms",
        &[Check::Long, Check::PositiveLong],
    ),
    ("openlineage.integration.enabled", &[Check::Boolean]),
    ("openlineage.integration.job.tags", &[Check::KeyValueMap]),
    ("openlineage.integration.job.owners", &[Check::KeyValueMap]),
    ("extended.headers.enabled", &[Check::Boolean, Check::Boolean]),
    ("guardrail.collections.max", &[Check::Int, Check::NonNegativeInt]),
    ("guardrail.collections.limit.action", &[Check::OneOf]),
    ("statistics.metrics.enabled", &[Check::Boolean]),
    ("decimal.handling.mode", &[Check::OneOf]),
    ("time.precision.mode", &[Check::OneOf]),
    ("snapshot.lock.timeout.ms", &[Check::Long]),
    ("snapshot.mode", &[Check::OneOf]),
    ("snapshot.isolation.mode", &[Check::OneOf]),
    ("snapshot.query.mode", &[Check::OneOf]),
    ("snapshot.locking.mode", &[Check::OneOf]),
    ("hstore.handling.mode", &[Check::OneOf]),
    ("binary.handling.mode", &[Check::OneOf]),
    ("schema.name.adjustment.mode", &[Check::OneOf]),
    ("interval.handling.mode", &[Check::OneOf]),
    ("schema.refresh.mode", &[Check::OneOf]),
    (
        "incremental.snapshot.chunk.size",
        &[Check::Int, Check::NonNegativeInt],
    ),
    (
        "message.prefix.exclude.list",
        &[Check::ExclusiveWith {
            include: "message.prefix.include.list",
            shown: "logical_decoding_message.prefix.include.list",
        }],
    ),
    ("publish.via.partition.root", &[Check::Boolean, Check::Boolean]),
    ("tombstones.on.delete", &[Check::Boolean, Check::Boolean]),
    ("heartbeat.interval.ms", &[Check::Int, Check::NonNegativeInt]),
    ("signal.poll.interval.ms", &[Check::Long, Check::PositiveInt]),
    ("custom.metric.tags", &[Check::KeyValueMap]),
    (
        "column.exclude.list",
        &[Check::ExclusiveWith {
            include: "column.include.list",
            shown: "column.include.list",
        }],
    ),
    (
        "table.exclude.list",
        &[Check::ExclusiveWith {
            include: "table.include.list",
            shown: "table.include.list",
        }],
    ),
    ("table.ignore.builtin", &[Check::Boolean, Check::Boolean]),
    (
        "schema.exclude.list",
        &[Check::ExclusiveWith {
            include: "schema.include.list",
            shown: "schema.include.list",
        }],
    ),
    ("message.key.columns", &[Check::KeyColumns]),
    ("include.schema.comments", &[Check::Boolean, Check::Boolean]),
    ("internal.snapshot.scan.all.columns.force", &[Check::Boolean]),
    ("snapshot.tables.order.by.row.count", &[Check::OneOf]),
    ("include.unknown.datatypes", &[Check::Boolean]),
];

/// How Ferry treats a Debezium setting it defines but does not implement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotImplemented {
    /// A tuning knob without effect on the records: accepted with any valid value,
    /// ignored.
    NoEffect,
    /// It would change what the connector does: any value other than the default is
    /// refused by validation, naming the key.
    Unsupported,
}

/// Every Debezium setting Ferry defines without implementing it, in one place.
pub const NOT_IMPLEMENTED: &[(&str, NotImplemented)] = {
    use NotImplemented::{NoEffect, Unsupported};
    &[
        ("database.query.timeout.ms", NoEffect),
        ("database.sslpassword", Unsupported),
        ("database.sslfactory", Unsupported),
        ("lsn.flush.timeout.ms", NoEffect),
        ("lsn.flush.timeout.action", Unsupported),
        ("database.tcpKeepAlive", NoEffect),
        ("xmin.fetch.interval.ms", Unsupported),
        ("event.processing.failure.handling.mode", Unsupported),
        ("max.queue.size.in.bytes", NoEffect),
        ("snapshot.delay.ms", NoEffect),
        ("streaming.delay.ms", NoEffect),
        ("snapshot.max.threads", NoEffect),
        ("snapshot.max.threads.multiplier", NoEffect),
        ("legacy.snapshot.max.threads", NoEffect),
        ("internal.legacy.snapshot.max.threads", NoEffect),
        ("snapshot.mode.custom.name", Unsupported),
        ("snapshot.mode.configuration.based.snapshot.data", Unsupported),
        ("snapshot.mode.configuration.based.snapshot.schema", Unsupported),
        ("snapshot.mode.configuration.based.start.stream", Unsupported),
        (
            "snapshot.mode.configuration.based.snapshot.on.schema.error",
            Unsupported,
        ),
        (
            "snapshot.mode.configuration.based.snapshot.on.data.error",
            Unsupported,
        ),
        ("retriable.restart.connector.wait.ms", NoEffect),
        ("query.fetch.size", NoEffect),
        ("internal.log.position.check.enable", NoEffect),
        ("internal.advanced.metrics.enable", NoEffect),
        ("executor.shutdown.timeout.ms", NoEffect),
        ("openlineage.integration.enabled", Unsupported),
        ("openlineage.integration.config.file.path", NoEffect),
        ("openlineage.integration.job.namespace", NoEffect),
        ("openlineage.integration.job.description", NoEffect),
        ("openlineage.integration.job.tags", NoEffect),
        ("openlineage.integration.job.owners", NoEffect),
        (
            "openlineage.integration.dataset.kafka.bootstrap.servers",
            NoEffect,
        ),
        ("custom.sanitize.pattern", NoEffect),
        ("statistics.metrics.enabled", NoEffect),
        ("memory.management.schemas.class", NoEffect),
        ("memory.management.tables.class", NoEffect),
        ("snapshot.query.mode", Unsupported),
        ("snapshot.query.mode.custom.name", Unsupported),
        ("snapshot.locking.mode.custom.name", Unsupported),
        ("schema.name.adjustment.mode", Unsupported),
        ("schema.refresh.mode", Unsupported),
        ("converters", Unsupported),
        ("topic.naming.strategy", Unsupported),
        ("transaction.metadata.factory", Unsupported),
        ("custom.metric.tags", NoEffect),
        ("table.ignore.builtin", Unsupported),
        ("internal.snapshot.scan.all.columns.force", NoEffect),
        ("snapshot.tables.order.by.row.count", NoEffect),
        ("sourceinfo.struct.maker", Unsupported),
    ]
};

/// Settings implemented outside [`PostgresConfig`](super::PostgresConfig) (incremental
/// snapshots and signals read them from the task's configuration).
pub const READ_ELSEWHERE: &[&str] = &[
    "signal.data.collection",
    "signal.enabled.channels",
    "incremental.snapshot.chunk.size",
    "notification.enabled.channels",
    "notification.sink.topic.name",
];
