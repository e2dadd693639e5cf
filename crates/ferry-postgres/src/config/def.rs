//! The connector's settings, stated once: names, types, defaults, allowed values and
//! docs as `/connector-plugins/.../config` shows them, and the Debezium 1.x names
//! still accepted. [`PostgresConfig::parse`](super::PostgresConfig::parse) reads
//! every value through this definition.

use ferry_core::config::{ConfigKey, ConfigType, Importance, Validator, Width};
use ferry_core::ConfigDef;

use super::choices::{
    AutocreateMode, BinaryMode, Choice, DecimalMode, HStoreMode, IntervalMode, PluginName, SnapshotMode,
    SslMode, TimePrecisionMode,
};
use super::settings::{LsnFlushMode, SnapshotIsolationMode, SnapshotLockingMode};

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
    ("topic.heartbeat.prefix", "heartbeat.topics.prefix"),
];

/// The old name of setting `name`, if it has one.
pub fn alias_of(name: &str) -> Option<&'static str> {
    ALIASES.iter().find(|(n, _)| *n == name).map(|(_, old)| *old)
}

/// A string setting with one of `T`'s option names, defaulting to `default`.
fn choice<T: Choice>(name: &str, default: &str) -> ConfigKey {
    ConfigKey::new(name, ConfigType::String)
        .default_value(default)
        .validator(Validator::one_of_ignore_case(T::names()))
}

/// The options `/connector-plugins/.../config` lists.
pub fn config_def() -> ConfigDef {
    let s = |name: &str| ConfigKey::new(name, ConfigType::String);
    let i = |name: &str| ConfigKey::new(name, ConfigType::Int);
    let l = |name: &str| ConfigKey::new(name, ConfigType::Long);
    let b = |name: &str| ConfigKey::new(name, ConfigType::Boolean);
    let list = |name: &str| ConfigKey::new(name, ConfigType::List).default_null();
    ConfigDef::new()
        .define(s("topic.prefix").default_null().importance(Importance::High).doc(
            "Topic prefix that identifies and provides a namespace for the PostgreSQL server; 1.x name: database.server.name",
        ))
        .define(s("database.hostname").importance(Importance::High).doc("Resolvable hostname or IP address of the database server."))
        .define(i("database.port").default_value("5432").validator(Validator::between(1.0, 65535.0)).doc("Port of the database server."))
        .define(s("database.user").importance(Importance::High).doc("Name of the database user to be used when connecting to the database."))
        .define(ConfigKey::new("database.password", ConfigType::Password).default_null().importance(Importance::High).doc("Password of the database user."))
        .define(s("database.dbname").importance(Importance::High).doc("The name of the database from which the connector should capture changes"))
        .define(choice::<SslMode>("database.sslmode", "prefer").doc("Whether to use an encrypted connection to the PostgreSQL server: disable, allow, prefer (TLS when the server offers it), require (TLS, no certificate checks), verify-ca (verify the chain against database.sslrootcert), verify-full (also the host name)."))
        .define(s("database.sslrootcert").default_null().doc("File containing the root certificate(s) (PEM) against which the server is validated."))
        .define(s("database.sslcert").default_null().doc("File containing the SSL certificate (PEM) for the client."))
        .define(s("database.sslkey").default_null().doc("File containing the SSL private key (PEM, unencrypted) for the client."))
        .define(choice::<PluginName>("plugin.name", "decoderbufs").doc("The name of the Postgres logical decoding plugin installed on the server."))
        .define(s("slot.name").default_value("debezium").doc("The name of the Postgres logical decoding slot created for streaming changes from a plugin."))
        .define(b("slot.drop.on.stop").default_value("false"))
        .define(i("slot.max.retries").default_value("6").validator(Validator::at_least(1.0)).doc("How many times to retry connecting to a replication slot, otherwise an error is raised."))
        .define(l("slot.retry.delay.ms").default_value("10000").validator(Validator::at_least(0.0)).doc("Time to wait between retry attempts when the connector fails to connect to a replication slot, given in milliseconds."))
        .define(s("publication.name").default_value("dbz_publication"))
        .define(choice::<AutocreateMode>("publication.autocreate.mode", "all_tables"))
        .define(s("replica.identity.autoset.values").default_null().display_name("Replica Identity Auto Set Values").group("Postgres", 12).width(Width::Long).doc(
            "Applies only when streaming changes using pgoutput.Determines the value for Replica Identity at table level. This option will overwrite the existing value in databaseA comma-separated list of regular expressions that match fully-qualified tables and Replica Identity value to be used in the table. Each expression must match the pattern '<fully-qualified table name>:<replica identity>', where the table names could be defined as (SCHEMA_NAME.TABLE_NAME), and the replica identity values are: DEFAULT - Records the old values of the columns of the primary key, if any. This is the default for non-system tables.INDEX index_name - Records the old values of the columns covered by the named index, that must be unique, not partial, not deferrable, and include only columns marked NOT NULL. If this index is dropped, the behavior is the same as NOTHING.FULL - Records the old values of all columns in the row.NOTHING - Records no information about the old row. This is the default for system tables.",
        ))
        .define(list("schema.include.list"))
        .define(list("schema.exclude.list"))
        .define(list("table.include.list"))
        .define(list("table.exclude.list"))
        .define(list("column.include.list"))
        .define(list("column.exclude.list"))
        .define(list("message.prefix.include.list"))
        .define(list("message.prefix.exclude.list"))
        .define(s("message.key.columns").default_null())
        .define(choice::<SnapshotMode>("snapshot.mode", "initial"))
        .define(i("snapshot.fetch.size").default_value("10240").validator(Validator::at_least(1.0)))
        .define(l("snapshot.lock.timeout.ms").default_value("10000").display_name("Snapshot lock timeout (ms)").group("Connector", 42).width(Width::Long).doc(
            "The maximum number of millis to wait for table locks at the beginning of a snapshot. If locks cannot be acquired in this time frame, the snapshot will be aborted. Defaults to 10 seconds",
        ))
        .define(choice::<SnapshotIsolationMode>("snapshot.isolation.mode", "serializable").importance(Importance::Low).display_name("Snapshot isolation mode").group("Connector", 46).width(Width::Short).doc(
            "Controls which transaction isolation level is used. The default is 'serializable', which means that serializable isolation level is used. When 'repeatable_read' is specified, connector runs the initial snapshot in REPEATABLE READ isolation level. When 'read_committed' is specified, connector runs the initial snapshot in READ COMMITTED isolation level. In 'read_uncommitted' is specified, connector runs the initial snapshot in READ UNCOMMITTED isolation level.",
        ))
        .define(choice::<SnapshotLockingMode>("snapshot.locking.mode", "none").importance(Importance::Low).display_name("Snapshot locking mode").group("Connector", 50).width(Width::Short).doc(
            "Controls how the connector holds locks on tables while performing the schema snapshot. The 'shared' which means the connector will hold a table lock that prevents exclusive table access for just the initial portion of the snapshot while the database schemas and other metadata are being read. The remaining work in a snapshot involves selecting all rows from each table, and this is done using a flashback query that requires no locks. However, in some cases it may be desirable to avoid locks entirely which can be done by specifying 'none'. This mode is only safe to use if no schema changes are happening while the snapshot is taken.",
        ))
        .define(b("tombstones.on.delete").default_value("true"))
        .define(i("heartbeat.interval.ms").default_value("0").validator(Validator::at_least(0.0)))
        .define(s("heartbeat.action.query").default_null())
        .define(s("topic.heartbeat.prefix").default_value("__debezium-heartbeat"))
        .define(choice::<DecimalMode>("decimal.handling.mode", "precise"))
        .define(choice::<TimePrecisionMode>("time.precision.mode", "adaptive"))
        .define(choice::<BinaryMode>("binary.handling.mode", "bytes"))
        .define(choice::<IntervalMode>("interval.handling.mode", "numeric"))
        .define(choice::<HStoreMode>("hstore.handling.mode", "json"))
        .define(s("skipped.operations").default_value("t"))
        .define(b("publish.via.partition.root").default_value("false").display_name("Publish via partition root").group("Connector", 60).width(Width::Short).doc(
            "A boolean that determines whether the connector should publish changes via the partition root. When true, changes are published through partition root. When false, changes are published directly.",
        ))
        .define(s("lsn.flush.mode").default_null().validator(Validator::one_of_ignore_case(LsnFlushMode::names())).importance(Importance::Low).display_name("LSN flush mode").group("Postgres", 31).width(Width::Short).doc(
            "Determines the LSN flushing strategy. Options include: 'connector' (default) for Debezium managed LSN flushing (replaces deprecated flush.lsn.source=true); 'manual' for externally managed LSN flushing (replaces deprecated flush.lsn.source=false); 'connector_and_driver' for Debezium managed LSN flushing with the pgjdbc driver flushing unmonitored LSNsusing server keepalive LSN, which prevents WAL growth on low-activity databases.",
        ))
        .define(b("flush.lsn.source").default_value("true").importance(Importance::Low).display_name("Boolean to determine if Debezium should flush LSN in the source database").group("Postgres", 32).width(Width::Short).doc(
            "(Deprecated) Boolean to determine if Debezium should flush LSN in the source postgres database. Use 'lsn.flush.mode' instead. A value of 'true' maps to 'connector' mode, 'false' maps to 'manual' mode.",
        ))
        .define(i("max.batch.size").default_value("2048").validator(Validator::at_least(1.0)))
        .define(i("max.queue.size").default_value("8192").validator(Validator::at_least(1.0)))
        .define(l("poll.interval.ms").default_value("500").validator(Validator::at_least(1.0)))
        .define(b("provide.transaction.metadata").default_value("false"))
        .define(s("topic.transaction").default_value("transaction"))
        .define(i("errors.max.retries").default_value("-1").validator(Validator::at_least(-1.0)))
        .define(i("status.update.interval.ms").default_value("10000").validator(Validator::at_least(1.0)))
        .define(s("unavailable.value.placeholder").default_value("__debezium_unavailable_value"))
        .define(b("include.unknown.datatypes").default_value("false"))
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
        .define(s("column.mask.hash.([^.]+).with.salt.(.+)").default_null().importance(Importance::Medium).doc(
            "A comma-separated list of regular expressions matching fully-qualified names of columns that should be masked by hashing the input. Using the specified hash algorithms and salt.",
        ))
        .define(s("column.mask.with.(d+).chars").default_null().doc(
            "A comma-separated list of regular expressions matching fully-qualified names of columns that should be masked with configured amount of asterisk ('*') characters.",
        ))
        .define(i("column.truncate.to.(d+).chars").default_null().doc(
            "A comma-separated list of regular expressions matching fully-qualified names of columns that should be truncated to the configured amount of characters.",
        ))
        .define(list("column.propagate.source.type").doc(
            "A comma-separated list of regular expressions matching fully-qualified names of columns that adds the column’s original type and original length as parameters to the corresponding field schemas in the emitted change records.",
        ))
        .define(list("datatype.propagate.source.type").doc(
            "A comma-separated list of regular expressions matching the database-specific data type names that adds the data type's original type and original length as parameters to the corresponding field schemas in the emitted change records.",
        ))
        .define(b("include.schema.comments").default_value("false").doc(
            "Whether the connector parse table and column's comment to metadata object. Note: Enable this option will bring the implications on memory usage. The number and size of ColumnImpl objects is what largely impacts how much memory is consumed by the Debezium connectors, and adding a String to each of them can potentially be quite heavy. The default is 'false'.",
        ))
        .define(s("snapshot.select.statement.overrides").default_null().importance(Importance::Medium).doc(
            " This property contains a comma-separated list of fully-qualified tables (DB_NAME.TABLE_NAME) or (SCHEMA_NAME.TABLE_NAME), depending on the specific connectors. Select statements for the individual tables are specified in further configuration properties, one for each table, identified by the id 'snapshot.select.statement.overrides.[DB_NAME].[TABLE_NAME]' or 'snapshot.select.statement.overrides.[SCHEMA_NAME].[TABLE_NAME]', respectively. The value of those properties is the select statement to use when retrieving data from the specific table during snapshotting. A possible use case for large append-only tables is setting a specific point where to start (resume) snapshotting, in case a previous snapshotting was interrupted.",
        ))
        .define(ConfigKey::new("money.fraction.digits", ConfigType::Short).default_value("2").doc(
            "Number of fractional digits when money type is converted to 'precise' decimal number.",
        ))
        .define(b("extended.headers.enabled").default_value("true").doc(
            "Enable/Disable Debezium context headers that provides essential metadata for tracking and identifying the source of CDC events in downstream processing systems.",
        ))
}
