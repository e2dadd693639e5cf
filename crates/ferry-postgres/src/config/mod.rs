//! Typed connector configuration, parsed from a Connect [`ConfigMap`] through the
//! connector's [`ConfigDef`](ferry_core::ConfigDef) ([`config_def`]), with Debezium's
//! option names, their 1.x aliases and defaults.

mod checks;
mod choices;
mod column_rules;
mod def;
mod filters;
mod post_processors;
mod reader;
mod settings;

use std::time::Duration;

use ferry_core::{ConfigError, ConfigMap, ConfigType, ConfigValue};

pub use checks::validate;
pub use choices::{
    AutocreateMode, BinaryMode, Choice, DecimalMode, HStoreMode, IntervalMode, PluginName, SnapshotMode,
    SslMode, TimePrecisionMode,
};
pub use column_rules::{
    java_serialized_string, lower_hex, truncate_utf16, ColumnMapping, ColumnRule, ColumnRules, HashAlgorithm,
};
pub use def::{alias_of, config_def, NotImplemented, ALIASES, NOT_IMPLEMENTED};
pub use filters::{Filters, KeyColumns};
pub use post_processors::{ReselectSettings, RESELECT_TYPE};
pub use settings::{
    replica_identity_for, LsnFlushMode, OffsetMismatchStrategy, ReplicaIdentity, ReplicaIdentityRule,
    SnapshotIsolationMode, SnapshotLockingMode,
};

use filters::anchored;
use reader::Reader;

/// The parsed connector configuration.
#[derive(Clone, Debug)]
pub struct PostgresConfig {
    /// `database.hostname`.
    pub hostname: String,
    /// `database.port`.
    pub port: u16,
    /// `database.user`.
    pub user: String,
    /// `database.password`.
    pub password: String,
    /// `database.dbname`.
    pub dbname: String,
    /// `database.sslmode`.
    pub sslmode: SslMode,
    /// `database.sslrootcert`: PEM file of trusted CA certificates (verify-ca/verify-full;
    /// also used by `require` like libpq: when set, the chain is verified).
    pub sslrootcert: Option<String>,
    /// `database.sslcert`: PEM client certificate (chain).
    pub sslcert: Option<String>,
    /// `database.sslkey`: PEM private key of `sslcert` (PKCS#8, PKCS#1 or SEC1, unencrypted).
    pub sslkey: Option<String>,
    /// `topic.prefix` (1.x: `database.server.name`).
    pub topic_prefix: String,
    /// `plugin.name`.
    pub plugin_name: PluginName,
    /// `slot.name`.
    pub slot_name: String,
    /// `slot.drop.on.stop`.
    pub slot_drop_on_stop: bool,
    /// `slot.failover`: create the slot with `FAILOVER` on a PostgreSQL 17+ primary.
    pub slot_failover: bool,
    /// `database.initial.statements`, run on every new query connection.
    pub initial_statements: Vec<String>,
    /// `guardrail.collections.max`: most captured tables (0: no limit).
    pub guardrail_collections_max: u32,
    /// `guardrail.collections.limit.action=fail`: more tables fail the task (else a warning).
    pub guardrail_fails: bool,
    /// `slot.stream.params` with `origin=none`: changes of transactions replicated from
    /// another origin are dropped, as pgoutput's own `origin` filter drops them.
    pub stream_origin_none: bool,
    /// `slot.max.retries`: attempts to get a slot another client holds.
    pub slot_max_retries: u32,
    /// `slot.retry.delay.ms`: wait between those attempts.
    pub slot_retry_delay: Duration,
    /// `publication.name`.
    pub publication_name: String,
    /// `publication.autocreate.mode`.
    pub publication_autocreate_mode: AutocreateMode,
    /// Include/exclude lists.
    pub filters: Filters,
    /// `snapshot.mode`.
    pub snapshot_mode: SnapshotMode,
    /// `snapshot.fetch.size`.
    pub snapshot_fetch_size: usize,
    /// `tombstones.on.delete`.
    pub tombstones_on_delete: bool,
    /// `heartbeat.interval.ms` (0 = off).
    pub heartbeat_interval: Duration,
    /// `heartbeat.action.query`.
    pub heartbeat_action_query: Option<String>,
    /// `topic.heartbeat.prefix`.
    pub heartbeat_topic_prefix: String,
    /// `decimal.handling.mode`.
    pub decimal_mode: DecimalMode,
    /// `time.precision.mode`.
    pub time_precision_mode: TimePrecisionMode,
    /// `binary.handling.mode`.
    pub binary_mode: BinaryMode,
    /// `interval.handling.mode`.
    pub interval_mode: IntervalMode,
    /// `hstore.handling.mode`.
    pub hstore_mode: HStoreMode,
    /// `skipped.operations` (op codes c/u/d/t).
    pub skipped_operations: Vec<char>,
    /// `message.key.columns`.
    pub message_key_columns: Vec<KeyColumns>,
    /// `max.batch.size`.
    pub max_batch_size: usize,
    /// `max.queue.size`.
    pub max_queue_size: usize,
    /// `poll.interval.ms`.
    pub poll_interval: Duration,
    /// `provide.transaction.metadata`.
    pub provide_transaction_metadata: bool,
    /// `topic.transaction`: the transaction topic is `PREFIX.<this>`.
    pub transaction_topic_name: String,
    /// `errors.max.retries`: reconnect attempts after a lost connection (-1 = no limit,
    /// 0 = fail at once).
    pub errors_max_retries: i64,
    /// `status.update.interval.ms`.
    pub status_update_interval: Duration,
    /// `unavailable.value.placeholder`.
    pub unavailable_value_placeholder: String,
    /// `include.unknown.datatypes`.
    pub include_unknown_datatypes: bool,
    /// `extended.headers.enabled`: Debezium's `__debezium.context.*` headers on change events.
    pub extended_headers_enabled: bool,
    /// `outbox.cleanup.*`: the built-in outbox cleanup, when enabled.
    pub outbox_cleanup: Option<OutboxCleanup>,
    /// The column mappers (`column.mask.*`, `column.truncate.*`, `*.propagate.source.type`).
    pub column_rules: ColumnRules,
    /// `snapshot.select.statement.overrides` with each table's
    /// `snapshot.select.statement.overrides.SCHEMA.TABLE`: the SELECT its snapshot runs.
    pub snapshot_select_overrides: Vec<SelectOverride>,
    /// `snapshot.include.collection.list`: the captured tables an initial snapshot reads
    /// (empty: all of them).
    pub snapshot_include: Vec<regex::Regex>,
    /// `money.fraction.digits`: the scale of money values (precise and string modes).
    pub money_fraction_digits: u8,
    /// `publish.via.partition.root`: publications Ferry creates publish a partitioned
    /// table's changes under the root table.
    pub publish_via_partition_root: bool,
    /// The `publish = '...'` option of publications Ferry creates: the operations
    /// `skipped.operations` keeps, only when that is set explicitly and skips something.
    pub publication_publish: Option<String>,
    /// `snapshot.isolation.mode`.
    pub snapshot_isolation_mode: SnapshotIsolationMode,
    /// `snapshot.locking.mode` (`custom` is refused by parse).
    pub snapshot_locking_mode: SnapshotLockingMode,
    /// `snapshot.lock.timeout.ms`: the snapshot session's `lock_timeout` for its table locks.
    pub snapshot_lock_timeout: Duration,
    /// `lsn.flush.mode`, or the deprecated `flush.lsn.source` when only that is set.
    pub lsn_flush_mode: LsnFlushMode,
    /// `offset.mismatch.strategy`, or the deprecated
    /// `internal.slot.seek.to.known.offset.on.start` when only that is set.
    pub offset_mismatch: OffsetMismatchStrategy,
    /// `replica.identity.autoset.values`: replica identities set on captured tables at start.
    pub replica_identity_rules: Vec<ReplicaIdentityRule>,
    /// `post.processors`: the reselect post processors, in order.
    pub post_processors: Vec<ReselectSettings>,
}

/// One table's snapshot SELECT (`snapshot.select.statement.overrides.SCHEMA.TABLE`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SelectOverride {
    /// Schema name, exactly as listed.
    pub schema: String,
    /// Table name, exactly as listed.
    pub table: String,
    /// The statement.
    pub select: String,
}

/// The `outbox.cleanup.*` settings (Ferry's own; see docs/outbox-cleanup.md).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxCleanup {
    /// `outbox.cleanup.table`: schema and table name.
    pub schema: String,
    /// The table name.
    pub table: String,
    /// `outbox.cleanup.delay.ms`.
    pub delay: Duration,
    /// `outbox.cleanup.batch.size`.
    pub batch_size: usize,
    /// `outbox.cleanup.interval.ms`.
    pub interval: Duration,
}

impl PostgresConfig {
    /// Parses a configuration; every problem found is returned, each naming its key.
    pub fn parse(m: &ConfigMap) -> Result<PostgresConfig, Vec<ConfigError>> {
        let mut r = Reader::new(config_def(), m);
        let cfg = Self::read(&mut r);
        let errors = checks::settle(std::mem::take(&mut r.errors), r.checked);
        if errors.is_empty() {
            Ok(cfg)
        } else {
            Err(errors)
        }
    }

    /// Reads every setting; problems are left in `r.errors`.
    fn read(r: &mut Reader<'_>) -> PostgresConfig {
        checks::run(r);
        let hostname = r.string("database.hostname");
        let port = r.int("database.port");
        let user = r.string("database.user");
        let password = r.opt("database.password").unwrap_or_default();
        let dbname = r.string("database.dbname");
        let sslmode = r.choice("database.sslmode");
        let sslrootcert = r.opt("database.sslrootcert");
        let sslcert = r.opt("database.sslcert");
        let sslkey = r.opt("database.sslkey");
        if sslcert.is_some() != sslkey.is_some() {
            let (key, other) = if sslcert.is_some() {
                ("database.sslkey", "database.sslcert")
            } else {
                ("database.sslcert", "database.sslkey")
            };
            r.errors.push(ConfigError::invalid(
                key,
                "null",
                format!("Required when {other} is set (client certificate authentication needs both)"),
            ));
        }
        let topic_prefix = topic_prefix(r);
        let plugin_name = r.choice("plugin.name");
        let slot_name = r.string("slot.name");
        if !slot_name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            || slot_name.len() > 63
        {
            r.errors.push(ConfigError::invalid(
                "slot.name",
                &slot_name,
                "Valid replication slot name must contain only digits, lowercase characters and underscores with length <= 63",
            ));
        }
        let slot_drop_on_stop = r.boolean("slot.drop.on.stop");
        let slot_failover = r.boolean("slot.failover");
        let guardrail_collections_max =
            r.int("guardrail.collections.max").clamp(0, i64::from(u32::MAX)) as u32;
        let guardrail_fails = r
            .string("guardrail.collections.limit.action")
            .eq_ignore_ascii_case("fail");
        let initial_statements = r
            .opt("database.initial.statements")
            .map(|s| split_statements(&s))
            .unwrap_or_default();
        let stream_origin_none = stream_origin_none(r);
        let slot_max_retries = r.int("slot.max.retries").min(i64::from(u32::MAX)) as u32;
        let slot_retry_delay = Duration::from_millis(r.int("slot.retry.delay.ms") as u64);
        let publication_name = r.string("publication.name");
        let publication_autocreate_mode = r.choice("publication.autocreate.mode");
        let filters = Filters {
            schema_include: r.regex_list("schema.include.list"),
            schema_exclude: r.regex_list("schema.exclude.list"),
            table_include: r.regex_list("table.include.list"),
            table_exclude: r.regex_list("table.exclude.list"),
            column_include: r.regex_list("column.include.list"),
            column_exclude: r.regex_list("column.exclude.list"),
            message_include: r.regex_list("message.prefix.include.list"),
            message_exclude: r.regex_list("message.prefix.exclude.list"),
        };
        for prefix in ["schema", "table", "column", "message.prefix"] {
            let (inc, exc) = (format!("{prefix}.include.list"), format!("{prefix}.exclude.list"));
            if r.is_set(&inc) && r.is_set(&exc) {
                r.errors.push(ConfigError::invalid(
                    &exc,
                    r.raw_untrimmed(&exc),
                    format!("\"{inc}\" is already specified"),
                ));
            }
        }
        let snapshot_mode = r.choice("snapshot.mode");
        // Null by default, and 0 is allowed: both mean Debezium's default fetch size.
        let snapshot_fetch_size = match r.int_or("snapshot.fetch.size", 0) {
            n if n > 0 => n as usize,
            _ => 10240,
        };
        let tombstones_on_delete = r.boolean("tombstones.on.delete");
        let heartbeat_interval = Duration::from_millis(r.int("heartbeat.interval.ms") as u64);
        let heartbeat_action_query = r.opt("heartbeat.action.query");
        // The topic naming strategy's topic.heartbeat.prefix (not among the listed
        // settings), else the listed heartbeat.topics.prefix.
        let heartbeat_topic_prefix =
            undeclared(r, "topic.heartbeat.prefix").unwrap_or_else(|| r.string("heartbeat.topics.prefix"));
        let decimal_mode = r.choice("decimal.handling.mode");
        let time_precision_mode = r.choice("time.precision.mode");
        let binary_mode = r.choice("binary.handling.mode");
        let interval_mode = r.choice("interval.handling.mode");
        let hstore_mode = r.choice("hstore.handling.mode");
        let skipped_operations = skipped_operations(r);
        let publication_publish = publication_publish(r.is_set("skipped.operations"), &skipped_operations);
        let message_key_columns = message_key_columns(r);
        let max_batch_size = r.int("max.batch.size") as usize;
        let max_queue_size = r.int("max.queue.size") as usize;
        if max_queue_size <= max_batch_size && r.is_set("max.queue.size") {
            r.errors.push(ConfigError::invalid(
                "max.queue.size",
                max_queue_size,
                "Must be larger than the maximum batch size",
            ));
        }
        let poll_interval = Duration::from_millis(r.int("poll.interval.ms") as u64);
        let provide_transaction_metadata = r.boolean("provide.transaction.metadata");
        let transaction_topic_name =
            undeclared(r, "topic.transaction").unwrap_or_else(|| "transaction".to_string());
        let errors_max_retries = r.int("errors.max.retries");
        let status_update_interval = Duration::from_millis(r.int("status.update.interval.ms") as u64);
        let unavailable_value_placeholder = r.string("unavailable.value.placeholder");
        let include_unknown_datatypes = r.boolean("include.unknown.datatypes");
        let extended_headers_enabled = r.boolean("extended.headers.enabled");
        let outbox_cleanup = outbox_cleanup(r, &filters, snapshot_mode);
        let column_rules = column_rules(r);
        let money_fraction_digits = money_fraction_digits(r);
        let snapshot_select_overrides = snapshot_select_overrides(r);
        let snapshot_include = r.regex_list("snapshot.include.collection.list");
        let publish_via_partition_root = r.boolean("publish.via.partition.root");
        let snapshot_isolation_mode = r.choice("snapshot.isolation.mode");
        let snapshot_locking_mode = snapshot_locking_mode(r);
        let snapshot_lock_timeout = Duration::from_millis(r.int("snapshot.lock.timeout.ms").max(0) as u64);
        let lsn_flush_mode = lsn_flush_mode(r);
        let offset_mismatch = offset_mismatch_strategy(r);
        // Debezium: connector_and_driver needs heartbeats to carry keepalive positions.
        let heartbeat_interval = if lsn_flush_mode == LsnFlushMode::ConnectorAndDriver
            && heartbeat_interval.is_zero()
            && !provide_transaction_metadata
        {
            tracing::warn!("heartbeat.interval.ms was internally set to 600000 ms since lsn.flush.mode=connector_and_driver requires periodic opportunities to propagate LSNs to Kafka. If this behavior is not desired, explicitly set heartbeat.interval.ms to more than 0 or enable provide.transaction.metadata.");
            Duration::from_millis(600_000)
        } else {
            heartbeat_interval
        };
        let replica_identity_rules = replica_identity_rules(r);
        let post_processors = post_processors::post_processors(r);
        // Accepted and without effect, as in Debezium's PostgreSQL connector, whose
        // readTableColumn never reads column comments (REMARKS).
        r.boolean("include.schema.comments");
        PostgresConfig {
            hostname,
            port: port as u16,
            user,
            password,
            dbname,
            sslmode,
            sslrootcert,
            sslcert,
            sslkey,
            topic_prefix,
            plugin_name,
            slot_name,
            slot_drop_on_stop,
            slot_failover,
            initial_statements,
            guardrail_collections_max,
            guardrail_fails,
            stream_origin_none,
            slot_max_retries,
            slot_retry_delay,
            publication_name,
            publication_autocreate_mode,
            filters,
            snapshot_mode,
            snapshot_fetch_size,
            tombstones_on_delete,
            heartbeat_interval,
            heartbeat_action_query,
            heartbeat_topic_prefix,
            decimal_mode,
            time_precision_mode,
            binary_mode,
            interval_mode,
            hstore_mode,
            skipped_operations,
            message_key_columns,
            max_batch_size,
            max_queue_size,
            poll_interval,
            provide_transaction_metadata,
            transaction_topic_name,
            errors_max_retries,
            status_update_interval,
            unavailable_value_placeholder,
            include_unknown_datatypes,
            extended_headers_enabled,
            outbox_cleanup,
            column_rules,
            money_fraction_digits,
            snapshot_select_overrides,
            snapshot_include,
            publish_via_partition_root,
            publication_publish,
            snapshot_isolation_mode,
            snapshot_locking_mode,
            snapshot_lock_timeout,
            lsn_flush_mode,
            offset_mismatch,
            replica_identity_rules,
            post_processors,
        }
    }

    /// Whether an initial snapshot reads captured table `schema.table`: no
    /// `snapshot.include.collection.list`, or one of its patterns matches
    /// `schema.table` or `"schema"."table"` (as Debezium matches them).
    pub fn snapshot_includes(&self, schema: &str, table: &str) -> bool {
        if self.snapshot_include.is_empty() {
            return true;
        }
        let plain = format!("{schema}.{table}");
        let quoted = format!("\"{schema}\".\"{table}\"");
        self.snapshot_include
            .iter()
            .any(|re| re.is_match(&plain) || re.is_match(&quoted))
    }

    /// Key columns configured for `schema.table` by `message.key.columns`, if any.
    pub fn key_columns_for(&self, schema: &str, table: &str) -> Option<&[String]> {
        let id = format!("{schema}.{table}");
        self.message_key_columns
            .iter()
            .find(|k| k.table.is_match(&id))
            .map(|k| k.columns.as_slice())
    }

    /// A tokio-postgres connection string for ordinary (non-replication) sessions.
    pub fn connection_string(&self) -> String {
        fn q(s: &str) -> String {
            format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
        }
        format!(
            "host={} port={} user={} password={} dbname={} application_name={} connect_timeout=30 sslmode={}",
            q(&self.hostname),
            self.port,
            q(&self.user),
            q(&self.password),
            q(&self.dbname),
            q("ferry-postgres"),
            // tokio-postgres knows disable/prefer/require; certificate checks are done by the
            // rustls connector (crate::tls).
            match self.sslmode {
                SslMode::Disable => "disable",
                SslMode::Allow | SslMode::Prefer => "prefer",
                SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => "require",
            },
        )
    }
}

/// `database.initial.statements` split as Debezium splits it: at each `;`, where `;;`
/// stands for a semicolon inside a statement; statements trimmed, empty ones dropped.
fn split_statements(text: &str) -> Vec<String> {
    let mut statements = Vec::new();
    let mut current = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != ';' {
            current.push(c);
        } else if chars.peek() == Some(&';') {
            current.push(';');
            chars.next();
        } else {
            let statement = current.trim();
            if !statement.is_empty() {
                statements.push(statement.to_string());
            }
            current.clear();
        }
    }
    let statement = current.trim();
    if !statement.is_empty() {
        statements.push(statement.to_string());
    }
    statements
}

/// `slot.stream.params`, split as Debezium splits it (`;` between pairs, `=` in a pair; a
/// malformed pair is logged and ignored). Ferry passes pgoutput no options but its own,
/// so it applies pgoutput's `origin` (`none` or `any`) itself and refuses any other
/// parameter, which would change the stream it decodes or that the server rejects.
fn stream_origin_none(r: &mut Reader) -> bool {
    let Some(params) = r.opt("slot.stream.params") else {
        return false;
    };
    let mut none = false;
    for pair in params.split(';').filter(|p| !p.is_empty()) {
        let parts: Vec<&str> = pair.split('=').collect();
        let [name, value] = parts[..] else {
            tracing::warn!("The following STREAM_PARAMS value is invalid: {pair}");
            continue;
        };
        match (name, value.to_ascii_lowercase().as_str()) {
            ("origin", "none") => none = true,
            ("origin", "any") => none = false,
            _ => r.errors.push(ConfigError::invalid(
                "slot.stream.params",
                &params,
                format!(
                    "Ferry cannot pass '{pair}' to pgoutput; of its parameters only origin (none or any) is supported, and Ferry applies it itself"
                ),
            )),
        }
    }
    none
}

/// `topic.prefix` (or its old name): required, and only characters a topic name allows.
fn topic_prefix(r: &mut Reader<'_>) -> String {
    match r.opt_with_key("topic.prefix") {
        Some((k, v)) => {
            if !v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            {
                r.errors.push(ConfigError::invalid(
                    &k,
                    &v,
                    "Topic prefix can only contain alphanumeric characters, '.', '_' or '-'",
                ));
            }
            v
        }
        None => {
            r.errors.push(ConfigError::missing("topic.prefix"));
            String::new()
        }
    }
}

/// `outbox.cleanup.*`: `None` unless enabled; the table must be named and captured, and
/// the snapshot must publish the rows that exist before the slot (see docs/outbox-cleanup.md).
fn outbox_cleanup(
    r: &mut Reader<'_>,
    filters: &Filters,
    snapshot_mode: SnapshotMode,
) -> Option<OutboxCleanup> {
    let enabled = r.boolean("outbox.cleanup.enabled");
    let table = r.opt("outbox.cleanup.table");
    let delay = Duration::from_millis(r.int("outbox.cleanup.delay.ms") as u64);
    let batch_size = r.int("outbox.cleanup.batch.size") as usize;
    let interval = Duration::from_millis(r.int("outbox.cleanup.interval.ms") as u64);
    if !enabled {
        return None;
    }
    let Some(name) = table else {
        r.errors.push(ConfigError::invalid(
            "outbox.cleanup.table",
            "null",
            "Required when outbox.cleanup.enabled=true: the outbox table, as schema.table",
        ));
        return None;
    };
    let (schema, table) = match name.split_once('.') {
        Some((s, t)) => (s.trim().to_string(), t.trim().to_string()),
        None => ("public".to_string(), name.clone()),
    };
    if schema.is_empty() || table.is_empty() || table.contains('.') {
        r.errors.push(ConfigError::invalid(
            "outbox.cleanup.table",
            &name,
            "Must be schema.table (or a table name in schema public)",
        ));
        return None;
    }
    if !filters.table_included(&schema, &table) {
        r.errors.push(ConfigError::invalid(
            "outbox.cleanup.table",
            &name,
            format!(
                "The table {schema}.{table} is not captured by this connector (table.include.list/table.exclude.list, schema lists): its rows would never be published, so they are never cleaned up"
            ),
        ));
        return None;
    }
    if snapshot_mode == SnapshotMode::NoData {
        r.errors.push(ConfigError::invalid(
            "outbox.cleanup.enabled",
            "true",
            "Not with snapshot.mode=no_data (never): rows written before the replication slot existed are never published, and the cleanup cannot tell them from published ones. Use snapshot.mode=initial (or when_needed, always)",
        ));
        return None;
    }
    Some(OutboxCleanup {
        schema,
        table,
        delay,
        batch_size,
        interval,
    })
}

/// The column mappers; the declared pattern names and the two lists are read (checked)
/// here, the rules themselves come from every key of the map.
fn column_rules(r: &mut Reader<'_>) -> ColumnRules {
    for key in column_rules::DECLARED_PATTERN_KEYS {
        r.opt(key);
    }
    r.opt("column.propagate.source.type");
    r.opt("datatype.propagate.source.type");
    ColumnRules::parse(r.map(), &mut r.errors)
}

/// A setting Debezium reads but does not list (so neither does Ferry's definition).
fn undeclared(r: &Reader<'_>, name: &str) -> Option<String> {
    r.map()
        .get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// `money.fraction.digits`: 0 to 32, since Connect decimals of money need a scale.
fn money_fraction_digits(r: &mut Reader<'_>) -> u8 {
    let Some(value) = undeclared(r, "money.fraction.digits") else {
        return 2;
    };
    let Ok(digits) = value.parse::<i64>() else {
        r.errors.push(ConfigError::invalid(
            "money.fraction.digits",
            &value,
            "An integer is expected",
        ));
        return 2;
    };
    if !(0..=32).contains(&digits) {
        r.errors.push(ConfigError::invalid(
            "money.fraction.digits",
            digits,
            "Must be between 0 and 32",
        ));
        return 2;
    }
    digits as u8
}

/// `snapshot.select.statement.overrides`: `schema.table` entries, each with its statement
/// in `snapshot.select.statement.overrides.schema.table`. A listed table without a
/// statement is skipped with a warning, as Debezium skips it.
fn snapshot_select_overrides(r: &mut Reader<'_>) -> Vec<SelectOverride> {
    const KEY: &str = "snapshot.select.statement.overrides";
    let Some(list) = r.opt(KEY) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((schema, table)) = entry
            .split_once('.')
            .filter(|(s, t)| !s.is_empty() && !t.is_empty() && !t.contains('.'))
        else {
            r.errors.push(ConfigError::invalid(
                KEY,
                &list,
                format!("'{entry}' is not a fully-qualified table name (SCHEMA_NAME.TABLE_NAME)"),
            ));
            continue;
        };
        let statement_key = format!("{KEY}.{entry}");
        match r
            .map()
            .get(&statement_key)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            Some(select) => out.push(SelectOverride {
                schema: schema.to_string(),
                table: table.to_string(),
                select: select.to_string(),
            }),
            None => {
                tracing::warn!("Detected {KEY} for {entry} but no statement property {statement_key} defined")
            }
        }
    }
    out
}

/// `snapshot.locking.mode`: `custom` names a Java `SnapshotLock` class, which Ferry
/// cannot load, so it is refused (Debezium itself asks for `snapshot.locking.mode.custom.name`).
fn snapshot_locking_mode(r: &mut Reader<'_>) -> SnapshotLockingMode {
    let mode = r.choice("snapshot.locking.mode");
    if mode == SnapshotLockingMode::Custom {
        r.errors.push(checks::invalid(
            "snapshot.locking.mode",
            "Ferry does not support snapshot.locking.mode=custom (a Java SnapshotLock implementation); use 'shared' (LOCK TABLE ... IN ACCESS SHARE MODE during the snapshot) or 'none'",
        ));
        return SnapshotLockingMode::None;
    }
    mode
}

/// `lsn.flush.mode`, else the deprecated `flush.lsn.source` (true = connector,
/// false = manual) when it is set, else `connector`: Debezium's resolution.
fn lsn_flush_mode(r: &mut Reader<'_>) -> LsnFlushMode {
    let deprecated = r.is_set("flush.lsn.source");
    let flush_lsn_source = r.boolean("flush.lsn.source");
    let Some(value) = r.opt("lsn.flush.mode") else {
        if !deprecated {
            return LsnFlushMode::Connector;
        }
        tracing::warn!("Property 'flush.lsn.source' is deprecated and replaced by 'lsn.flush.mode' and will be removed in a future build.");
        return if flush_lsn_source {
            LsnFlushMode::Connector
        } else {
            LsnFlushMode::Manual
        };
    };
    // A name not among the choices was reported by its check (OneOf).
    LsnFlushMode::from_name(&value).unwrap_or(LsnFlushMode::Connector)
}

/// `offset.mismatch.strategy` (read though not listed, as in Debezium), else the
/// deprecated `internal.slot.seek.to.known.offset.on.start` (true = `trust_offset`),
/// else `no_validation`. Debezium falls back to the default for a name it does not
/// know; Ferry refuses it, naming the choices.
fn offset_mismatch_strategy(r: &mut Reader<'_>) -> OffsetMismatchStrategy {
    const KEY: &str = "offset.mismatch.strategy";
    const DEPRECATED: &str = "internal.slot.seek.to.known.offset.on.start";
    if let Some(value) = undeclared(r, KEY) {
        return OffsetMismatchStrategy::from_name(&value).unwrap_or_else(|| {
            r.errors.push(ConfigError::invalid(
                KEY,
                &value,
                format!(
                    "Value must be one of {}",
                    OffsetMismatchStrategy::names().collect::<Vec<_>>().join(", ")
                ),
            ));
            OffsetMismatchStrategy::NoValidation
        });
    }
    let Some(seek) = undeclared(r, DEPRECATED) else {
        return OffsetMismatchStrategy::NoValidation;
    };
    tracing::warn!("Property '{DEPRECATED}' is deprecated and replaced by '{KEY}' and will be removed in a future build.");
    match ferry_core::config::parse_type(DEPRECATED, &seek, ConfigType::Boolean) {
        Ok(ConfigValue::Boolean(true)) => OffsetMismatchStrategy::TrustOffset,
        Ok(_) => OffsetMismatchStrategy::NoValidation,
        Err(e) => {
            r.errors.push(e);
            OffsetMismatchStrategy::NoValidation
        }
    }
}

/// `replica.identity.autoset.values`: every entry must match Debezium's pattern.
fn replica_identity_rules(r: &mut Reader<'_>) -> Vec<ReplicaIdentityRule> {
    const KEY: &str = "replica.identity.autoset.values";
    r.opt(KEY);
    // Blank counts as set here (Debezium: "Must not be empty").
    let Some(value) = r.map().get(KEY).cloned() else {
        return Vec::new();
    };
    let (rules, problems) = settings::parse_replica_identity_rules(&value);
    for (_, reason) in problems {
        r.errors.push(checks::invalid(KEY, reason));
    }
    rules
}

/// Debezium's `buildPublishOptionValue`: the pgoutput operations not skipped, when
/// `skipped.operations` is given and skips at least one.
fn publication_publish(explicit: bool, skipped: &[char]) -> Option<String> {
    if !explicit || skipped.is_empty() {
        return None;
    }
    let ops: Vec<&str> = [
        ('c', "insert"),
        ('u', "update"),
        ('d', "delete"),
        ('t', "truncate"),
    ]
    .into_iter()
    .filter(|(op, _)| !skipped.contains(op))
    .map(|(_, name)| name)
    .collect();
    Some(ops.join(","))
}

/// `skipped.operations`: op codes `c`, `u`, `d`, `t`, or `none`.
fn skipped_operations(r: &mut Reader<'_>) -> Vec<char> {
    let mut ops = Vec::new();
    let skipped = r.string("skipped.operations");
    for op in skipped.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match op {
            "c" | "u" | "d" | "t" => ops.extend(op.chars().next()),
            "none" => {}
            other => r.errors.push(ConfigError::invalid(
                "skipped.operations",
                &skipped,
                format!("unknown operation '{other}'; use c, u, d, t or none"),
            )),
        }
    }
    ops
}

/// `message.key.columns`: `<table regex>:<column>[,<column>]` entries separated by `;`.
fn message_key_columns(r: &mut Reader<'_>) -> Vec<KeyColumns> {
    let mut out = Vec::new();
    let Some(v) = r.opt("message.key.columns") else {
        return out;
    };
    for entry in v.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((table, cols)) = entry.rsplit_once(':') else {
            r.errors.push(ConfigError::invalid(
                "message.key.columns",
                &v,
                "entries must look like <schema>.<table>:<column>[,<column>]",
            ));
            continue;
        };
        match anchored(table.trim()) {
            Ok(table) => out.push(KeyColumns {
                table,
                columns: cols
                    .split(',')
                    .map(|c| c.trim().to_string())
                    .filter(|c| !c.is_empty())
                    .collect(),
            }),
            Err(e) => r
                .errors
                .push(ConfigError::invalid("message.key.columns", &v, e.to_string())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses the four required settings plus `extra`.
    fn parse(extra: &[(&str, &str)]) -> Result<PostgresConfig, Vec<ConfigError>> {
        let mut m = map(&[
            ("database.hostname", "db"),
            ("database.user", "u"),
            ("database.dbname", "d"),
            ("topic.prefix", "p"),
        ]);
        for (k, v) in extra {
            m.insert(k.to_string(), v.to_string());
        }
        PostgresConfig::parse(&m)
    }

    fn map(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn sslmode_and_certificate_options() {
        assert_eq!(parse(&[]).unwrap().sslmode, SslMode::Prefer);
        for (v, mode) in [
            ("disable", SslMode::Disable),
            ("allow", SslMode::Allow),
            ("prefer", SslMode::Prefer),
            ("require", SslMode::Require),
            ("VERIFY-CA", SslMode::VerifyCa),
            ("verify-full", SslMode::VerifyFull),
        ] {
            let c = parse(&[("database.sslmode", v)]).unwrap();
            assert_eq!(c.sslmode, mode);
            assert_eq!(c.sslmode.as_str(), v.to_ascii_lowercase());
            assert!(c.connection_string().contains(match mode {
                SslMode::Disable => "sslmode=disable",
                SslMode::Allow | SslMode::Prefer => "sslmode=prefer",
                _ => "sslmode=require",
            }));
        }
        assert!(parse(&[("database.sslmode", "sometimes")]).is_err());
        let c = parse(&[
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", "/ca.pem"),
            ("database.sslcert", "/c.pem"),
            ("database.sslkey", "/c.key"),
        ])
        .unwrap();
        assert_eq!(c.sslrootcert.as_deref(), Some("/ca.pem"));
        assert_eq!(c.sslcert.as_deref(), Some("/c.pem"));
        assert_eq!(c.sslkey.as_deref(), Some("/c.key"));
        let errs = parse(&[("database.sslcert", "/c.pem")]).unwrap_err();
        assert!(errs[0].to_string().contains("database.sslkey"), "{errs:?}");
        assert!(parse(&[("database.sslrootcert", "")])
            .unwrap()
            .sslrootcert
            .is_none());
    }

    #[test]
    fn accepts_outbox_example_verbatim() {
        let m = map(&[
            (
                "connector.class",
                "io.debezium.connector.postgresql.PostgresConnector",
            ),
            ("database.hostname", "postgres"),
            ("database.port", "5432"),
            ("database.user", "postgres"),
            ("database.password", "postgres"),
            ("database.dbname", "order_db"),
            ("database.server.name", "pg-server-1"),
            ("plugin.name", "pgoutput"),
            ("table.include.list", "public.outbox"),
            ("tombstones.on.delete", "false"),
            ("transforms", "outboxEventRouter"),
            (
                "transforms.outboxEventRouter.type",
                "io.debezium.transforms.outbox.EventRouter",
            ),
            (
                "transforms.outboxEventRouter.route.topic.replacement",
                "${routedByValue}.events",
            ),
        ]);
        let c = PostgresConfig::parse(&m).unwrap();
        assert_eq!(c.topic_prefix, "pg-server-1");
        assert_eq!(c.plugin_name, PluginName::Pgoutput);
        assert!(!c.tombstones_on_delete);
        assert!(c.filters.table_included("public", "outbox"));
        assert!(!c.filters.table_included("public", "outbox2"));
        assert!(c.filters.table_included("public", "OUTBOX"));
        assert_eq!(c.slot_name, "debezium");
        assert_eq!(c.publication_name, "dbz_publication");
        assert_eq!(c.max_batch_size, 2048);
        assert_eq!(c.status_update_interval, Duration::from_secs(10));
        assert_eq!(c.snapshot_mode, SnapshotMode::Initial);
        assert_eq!(c.skipped_operations, vec!['t']);
    }

    #[test]
    fn snapshot_order_follows_the_include_list_patterns() {
        let base = [
            ("database.hostname", "h"),
            ("database.user", "u"),
            ("database.dbname", "d"),
            ("topic.prefix", "p"),
        ];
        let mut with_list = base.to_vec();
        with_list.push(("table.include.list", "public.ri_.*,public.parted.*"));
        let c = PostgresConfig::parse(&map(&with_list)).unwrap();
        assert_eq!(c.filters.snapshot_rank("public", "ri_nothing"), 0);
        assert_eq!(c.filters.snapshot_rank("public", "parted_eu"), 1);
        let c = PostgresConfig::parse(&map(&base)).unwrap();
        assert_eq!(c.filters.snapshot_rank("public", "anything"), 0);
    }

    #[test]
    fn reports_every_error_with_its_key() {
        let m = map(&[
            ("database.port", "x"),
            ("snapshot.mode", "sometimes"),
            ("table.include.list", "a.b"),
            ("table.exclude.list", "c.d"),
            ("slot.name", "Bad-Slot"),
        ]);
        let errs = PostgresConfig::parse(&m).unwrap_err();
        let keys: Vec<_> = errs.iter().map(|e| e.key.clone().unwrap()).collect();
        for k in [
            "database.hostname",
            "database.port",
            "database.user",
            "database.dbname",
            "topic.prefix",
            "slot.name",
            "snapshot.mode",
            "table.exclude.list",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k} missing in {keys:?}");
        }
    }

    #[test]
    fn old_aliases_and_modes() {
        let m = map(&[
            ("database.hostname", "h"),
            ("database.user", "u"),
            ("database.dbname", "d"),
            ("topic.prefix", "p"),
            ("table.whitelist", "public\\.a.*"),
            ("snapshot.mode", "NO_DATA"),
            ("decimal.handling.mode", "STRING"),
            ("message.key.columns", "public.a1:x,y;inventory.b:z"),
        ]);
        let c = PostgresConfig::parse(&m).unwrap();
        assert!(c.filters.table_included("public", "abc"));
        assert!(!c.filters.table_included("other", "abc"));
        assert!(!c.filters.table_included("pg_catalog", "a"));
        assert_eq!(c.snapshot_mode, SnapshotMode::NoData);
        assert_eq!(c.decimal_mode, DecimalMode::String);
        assert_eq!(
            c.key_columns_for("public", "a1").unwrap(),
            &["x".to_string(), "y".to_string()]
        );
        assert!(c.key_columns_for("public", "zz").is_none());
    }

    #[test]
    fn reads_exactly_the_declared_settings() {
        let def = config_def();
        let empty = ConfigMap::new();
        let mut r = Reader::new(def.clone(), &empty);
        PostgresConfig::read(&mut r);
        let declared: Vec<&str> = def.keys().map(|k| k.name.as_str()).collect();
        let mut read: Vec<&str> = r.read.iter().map(String::as_str).collect();
        read.sort_unstable();
        read.dedup();
        let mut expected = declared.clone();
        expected.sort_unstable();
        assert_eq!(
            read, expected,
            "parse must read every declared setting and only those"
        );
        for (name, old) in ALIASES {
            assert!(declared.contains(name), "alias {old} names undeclared {name}");
            assert!(
                def.key(old).is_none(),
                "old name {old} must not be declared itself"
            );
        }
    }

    #[test]
    fn defaults_are_the_declared_ones_and_pass_their_validators() {
        let def = config_def();
        let required = map(&[
            ("database.hostname", "h"),
            ("database.user", "u"),
            ("database.dbname", "d"),
            ("topic.prefix", "p"),
        ]);
        let c = PostgresConfig::parse(&required).unwrap();
        // Each default, stated as text in the definition, is what parse yields.
        let mut with_defaults = required.clone();
        // skipped.operations given explicitly also narrows the publication's `publish`.
        for key in def.keys().filter(|k| k.name != "skipped.operations") {
            if let ferry_core::config::ConfigDefault::Value(d) = &key.default {
                let v = ferry_core::config::parse_type(&key.name, d, key.ty).unwrap();
                if let Some(validator) = &key.validator {
                    validator.ensure_valid(&key.name, &v).unwrap();
                }
                with_defaults.insert(key.name.clone(), d.clone());
            }
        }
        let explicit = PostgresConfig::parse(&with_defaults).unwrap();
        assert_eq!(format!("{c:?}"), format!("{explicit:?}"));
        let default = |name: &str| def.key(name).unwrap().default_display().unwrap();
        assert_eq!(c.port.to_string(), default("database.port"));
        assert_eq!(c.slot_name, default("slot.name"));
        assert_eq!(c.max_batch_size.to_string(), default("max.batch.size"));
        assert_eq!(c.max_queue_size.to_string(), default("max.queue.size"));
        // Null in the definition, as in Debezium: its fetch size then is 10240.
        assert_eq!(c.snapshot_fetch_size, 10240);
        assert_eq!(c.errors_max_retries.to_string(), default("errors.max.retries"));
        assert_eq!(
            (c.poll_interval.as_millis()).to_string(),
            default("poll.interval.ms")
        );
        assert_eq!(
            c.tombstones_on_delete.to_string(),
            default("tombstones.on.delete")
        );
        assert_eq!(c.sslmode.as_str(), default("database.sslmode"));
        assert_eq!(c.plugin_name.as_str(), default("plugin.name"));
        assert_eq!(c.heartbeat_topic_prefix, default("heartbeat.topics.prefix"));
        assert_eq!(
            c.unavailable_value_placeholder,
            default("unavailable.value.placeholder")
        );
    }

    #[test]
    fn errors_are_worded_and_repeated_as_debezium_words_them() {
        let base = [
            ("database.hostname", "h"),
            ("database.user", "u"),
            ("database.dbname", "d"),
            ("topic.prefix", "p"),
        ];
        let errs = |extra: &[(&str, &str)]| -> Vec<String> {
            let mut m = map(&base);
            for (k, v) in extra {
                m.insert(k.to_string(), v.to_string());
            }
            match PostgresConfig::parse(&m) {
                Ok(_) => Vec::new(),
                Err(e) => e.iter().map(|e| e.to_string()).collect(),
            }
        };
        assert_eq!(
            errs(&[("max.batch.size", "0")]),
            ["The 'max.batch.size' value is invalid: A positive, non-zero integer value is expected"]
        );
        assert_eq!(
            errs(&[("max.batch.size", "x")]),
            [
                "The 'max.batch.size' value is invalid: An integer is expected",
                "The 'max.batch.size' value is invalid: A positive, non-zero integer value is expected"
            ]
        );
        // Debezium validates tombstones.on.delete twice, so says it twice.
        assert_eq!(
            errs(&[("tombstones.on.delete", "maybe")]),
            ["The 'tombstones.on.delete' value is invalid: Either 'true' or 'false' is expected"; 2]
        );
        assert_eq!(
            errs(&[("max.queue.size", "100")]),
            ["The 'max.queue.size' value is invalid: Must be larger than the maximum batch size"]
        );
        assert_eq!(
            errs(&[("snapshot.mode", "never")]),
            ["The 'snapshot.mode' value is invalid: Value must be one of always, initial_only, configuration_based, when_needed, initial, custom, no_data"]
        );
        assert_eq!(
            errs(&[("snapshot.mode", "custom")]),
            ["The 'snapshot.mode' value is invalid: Ferry does not support snapshot.mode=custom yet"]
        );
        assert_eq!(
            errs(&[("table.include.list", "a"), ("table.exclude.list", "b")]),
            ["The 'table.exclude.list' value is invalid: \"table.include.list\" is already specified"]
        );
        assert_eq!(
            errs(&[("message.key.columns", "nocolon")]),
            ["The 'message.key.columns' value is invalid: nocolon has an invalid format (expecting '^\\s*([^:]+):([^:,]+(,[^:,]+)*)\\s*$')"]
        );
        // Accepted by Debezium's checks: a port out of range is Ferry's own error.
        assert_eq!(
            errs(&[("database.port", "70000")]),
            ["The 'database.port' value is invalid: A port number of at most 65535 is expected"]
        );
        assert!(errs(&[("errors.max.retries", "-2"), ("snapshot.fetch.size", "0")]).is_empty());
        assert_eq!(
            errs(&[("table.blacklist", "(x")]),
            [format!(
                "The 'table.blacklist' value is invalid: invalid regular expression '(x': {}",
                filters::anchored("(x").unwrap_err()
            )]
        );
        let mut m = map(&base);
        m.shift_remove("topic.prefix");
        m.shift_remove("database.user");
        let missing: Vec<String> = PostgresConfig::parse(&m)
            .unwrap_err()
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            missing,
            [
                "The 'topic.prefix' value is invalid: A value is required",
                "The 'database.user' value is invalid: A value is required"
            ]
        );
    }

    #[test]
    fn unsupported_settings_are_refused_unless_default_and_tuning_knobs_accepted() {
        let base = [
            ("database.hostname", "h"),
            ("database.user", "u"),
            ("database.dbname", "d"),
            ("topic.prefix", "p"),
        ];
        let errs = |k: &str, v: &str| -> Vec<String> {
            let mut m = map(&base);
            m.insert(k.to_string(), v.to_string());
            match PostgresConfig::parse(&m) {
                Ok(_) => Vec::new(),
                Err(e) => e.iter().map(|e| e.to_string()).collect(),
            }
        };
        assert!(errs("slot.failover", "true").is_empty());
        // slot.stream.params: pgoutput's origin only, split as Debezium splits it.
        let origin_none = |v: &str| {
            let mut m = map(&base);
            m.insert("slot.stream.params".into(), v.into());
            PostgresConfig::parse(&m).map(|c| c.stream_origin_none)
        };
        assert_eq!(origin_none("origin=none").ok(), Some(true));
        assert_eq!(origin_none("origin=NONE;").ok(), Some(true));
        assert_eq!(origin_none("origin=none;origin=any").ok(), Some(false));
        assert_eq!(
            origin_none("nonsense;origin=none").ok(),
            Some(true),
            "a malformed pair is ignored"
        );
        assert_eq!(
            errs("slot.stream.params", "origin=none;binary=true"),
            ["The 'slot.stream.params' value is invalid: Ferry cannot pass 'binary=true' to pgoutput; of its parameters only origin (none or any) is supported, and Ferry applies it itself"]
        );
        assert_eq!(errs("slot.stream.params", "origin=local").len(), 1);
        assert_eq!(
            errs("slot.failover", "maybe"),
            ["The 'slot.failover' value is invalid: Either 'true' or 'false' is expected"]
        );
        assert!(errs("database.initial.statements", "SET x = 1").is_empty());
        assert_eq!(
            split_statements(" SET a = 1; SET b = 'x;;y';;; ;SET c = 2;"),
            ["SET a = 1", "SET b = 'x;y';", "SET c = 2"]
        );
        assert!(split_statements(" ; ").is_empty());
        // A bad value gets Debezium's error, not a second one.
        assert_eq!(
            errs("snapshot.tables.order.by.row.count", "sideways"),
            ["The 'snapshot.tables.order.by.row.count' value is invalid: Value must be one of disabled, ascending, descending"]
        );
        for (k, v) in [
            ("snapshot.max.threads", "4"),
            ("query.fetch.size", "500"),
            ("max.queue.size.in.bytes", "1048576"),
            ("signal.poll.interval.ms", "100"),
            ("snapshot.tables.order.by.row.count", "descending"),
        ] {
            assert!(errs(k, v).is_empty(), "{k}={v}: {:?}", errs(k, v));
        }
        // Every setting of the list is defined, and each unsupported one is refused.
        let def = config_def();
        for (name, kind) in NOT_IMPLEMENTED {
            let key = def.key(name).unwrap_or_else(|| panic!("{name} is not defined"));
            if *kind == NotImplemented::Unsupported {
                let other = match &key.default {
                    ferry_core::config::ConfigDefault::Value(d) if d == "true" => "false",
                    ferry_core::config::ConfigDefault::Value(d) if d == "false" => "true",
                    ferry_core::config::ConfigDefault::Value(d) if d.parse::<i64>().is_ok() => "7",
                    _ => "something",
                };
                let found = errs(name, other);
                assert!(
                    found.len() == 1 && found[0].contains(&format!("'{name}'")),
                    "{name}={other}: {found:?}"
                );
            }
        }
    }

    #[test]
    fn definitions_follow_debezium_order_groups_and_recommendations() {
        let def = config_def();
        let key = |n: &str| def.key(n).unwrap_or_else(|| panic!("{n} is not defined"));
        let names: Vec<&str> = def.keys().map(|k| k.name.as_str()).collect();
        assert_eq!(
            &names[..4],
            [
                "topic.prefix",
                "database.hostname",
                "database.port",
                "database.user"
            ]
        );
        assert_eq!(def.groups(), ["Postgres", "Connector", "Events"]);
        let port = key("database.port");
        assert_eq!(
            (
                port.group.as_deref(),
                port.order_in_group,
                port.display_name.as_str()
            ),
            (Some("Postgres"), 3, "Port")
        );
        assert_eq!(key("schema.include.list").dependents, ["table.include.list"]);
        assert_eq!(key("plugin.name").recommended_values, ["decoderbufs", "pgoutput"]);
        assert!(key("database.hostname").default == ferry_core::config::ConfigDefault::Null);
        for gone in [
            "topic.heartbeat.prefix",
            "topic.transaction",
            "money.fraction.digits",
        ] {
            assert!(
                def.key(gone).is_none(),
                "{gone} is not among Debezium's listed settings"
            );
        }
        let infos = validate(&map(&[("topic.prefix", "p")]));
        let info = |n: &str| infos.iter().find(|i| i.name == n).unwrap();
        assert!(!info("schema.exclude.list").visible);
        assert_eq!(
            info("database.hostname").errors,
            ["The 'database.hostname' value is invalid: A value is required"]
        );
        assert!(info("topic.prefix").errors.is_empty());
        // Debezium's validate() leaves every value null; the 1.x name still counts.
        assert!(infos.iter().all(|i| i.value.is_none()));
        let old_name = validate(&map(&[("database.server.name", "p")]));
        let prefix = old_name.iter().find(|i| i.name == "topic.prefix").unwrap();
        assert!(prefix.errors.is_empty(), "{:?}", prefix.errors);
    }

    #[test]
    fn post_processors_read_the_reselect_settings_in_both_conventions() {
        assert!(parse(&[]).unwrap().post_processors.is_empty());
        // Debezium's defaults; the older convention (`NAME.`).
        let c = parse(&[
            ("post.processors", "reselector"),
            ("reselector.type", RESELECT_TYPE),
        ])
        .unwrap();
        let p = &c.post_processors[0];
        assert_eq!(p.name, "reselector");
        assert!(p.unavailable_values && p.null_values && !p.use_event_key && !p.fail_on_error);
        assert!(p.selects("public", "t", "anything"));
        // The newer convention (`post.processors.NAME.`) wins when any of its keys is set.
        let c = parse(&[
            ("post.processors", " a , b "),
            ("post.processors.a.type", RESELECT_TYPE),
            (
                "post.processors.a.reselect.columns.include.list",
                "public.t:Body,s\\..*:c",
            ),
            ("post.processors.a.reselect.columns.exclude.list", "public.t:body"),
            ("post.processors.a.reselect.null.values", "FALSE"),
            ("post.processors.a.reselect.error.handling.mode", "Fail"),
            ("a.reselect.use.event.key", "true"),
            ("b.type", RESELECT_TYPE),
            ("b.reselect.columns.exclude.list", "public.t:body"),
            ("b.reselect.use.event.key", "true"),
        ])
        .unwrap();
        let [a, b] = &c.post_processors[..] else {
            panic!("two post processors")
        };
        assert!(a.unavailable_values && !a.null_values && !a.use_event_key && a.fail_on_error);
        // The include list takes precedence; matching is anchored and case-insensitive.
        assert!(a.selects("public", "t", "body"));
        assert!(a.selects("s", "x", "C"));
        assert!(!a.selects("public", "t", "other"));
        assert!(!a.selects("public", "tt", "body"));
        assert!(b.use_event_key && !b.selects("public", "t", "BODY") && b.selects("public", "t", "other"));
    }

    #[test]
    fn post_processors_refuse_a_missing_or_unknown_type_and_bad_options() {
        let errs = |extra: &[(&str, &str)]| -> Vec<String> {
            parse(extra).unwrap_err().iter().map(|e| e.to_string()).collect()
        };
        assert_eq!(
            errs(&[("post.processors", "reselector")]),
            ["The 'post.processors' value is invalid: Post processor 'reselector' is missing 'reselector.type' and/or 'reselector.<option>' configurations"]
        );
        assert_eq!(
            errs(&[("post.processors", "p"), ("p.type", "com.example.MyProcessor")]),
            ["The 'p.type' value is invalid: post processor type 'com.example.MyProcessor' is not supported; Ferry implements only io.debezium.processors.reselect.ReselectColumnsPostProcessor"]
        );
        assert_eq!(
            errs(&[
                ("post.processors", "p"),
                ("post.processors.p.type", RESELECT_TYPE),
                ("post.processors.p.reselect.null.values", "maybe"),
                ("post.processors.p.reselect.error.handling.mode", "ignore"),
                (
                    "post.processors.p.reselect.columns.include.list",
                    "public.t:(body"
                ),
            ])
            .len(),
            3
        );
        let e = errs(&[
            ("post.processors", "p"),
            ("p.type", RESELECT_TYPE),
            ("p.reselect.error.handling.mode", "ignore"),
        ]);
        assert_eq!(
            e,
            ["The 'p.reselect.error.handling.mode' value is invalid: Value must be one of warn, fail"]
        );
    }

    #[test]
    fn snapshot_select_overrides_need_a_statement_per_listed_table() {
        assert!(parse(&[]).unwrap().snapshot_select_overrides.is_empty());
        let c = parse(&[
            ("snapshot.select.statement.overrides", "public.a, s.b,public.c"),
            (
                "snapshot.select.statement.overrides.public.a",
                "SELECT * FROM public.a WHERE x > 1",
            ),
            ("snapshot.select.statement.overrides.s.b", "SELECT id FROM s.b"),
        ])
        .unwrap();
        assert_eq!(
            c.snapshot_select_overrides,
            vec![
                SelectOverride {
                    schema: "public".into(),
                    table: "a".into(),
                    select: "SELECT * FROM public.a WHERE x > 1".into()
                },
                SelectOverride {
                    schema: "s".into(),
                    table: "b".into(),
                    select: "SELECT id FROM s.b".into()
                },
            ],
            "public.c has no statement and is skipped"
        );
        let errs = parse(&[("snapshot.select.statement.overrides", "orders")]).unwrap_err();
        assert!(
            errs[0]
                .to_string()
                .contains("snapshot.select.statement.overrides")
                && errs[0].to_string().contains("SCHEMA_NAME.TABLE_NAME"),
            "{errs:?}"
        );
    }

    #[test]
    fn offset_mismatch_strategy_reads_its_name_or_the_deprecated_seek_flag() {
        let strategy = |extra: &[(&str, &str)]| parse(extra).unwrap().offset_mismatch;
        assert_eq!(strategy(&[]), OffsetMismatchStrategy::NoValidation);
        assert_eq!(
            strategy(&[("offset.mismatch.strategy", " Trust_Greater_LSN ")]),
            OffsetMismatchStrategy::TrustGreaterLsn
        );
        assert_eq!(
            strategy(&[("internal.slot.seek.to.known.offset.on.start", "true")]),
            OffsetMismatchStrategy::TrustOffset
        );
        assert_eq!(
            strategy(&[
                ("internal.slot.seek.to.known.offset.on.start", "true"),
                ("offset.mismatch.strategy", "trust_slot"),
            ]),
            OffsetMismatchStrategy::TrustSlot,
            "the new name wins"
        );
        let errs = parse(&[("offset.mismatch.strategy", "trust_nobody")]).unwrap_err();
        assert_eq!(
            errs[0].to_string(),
            "The 'offset.mismatch.strategy' value is invalid: Value must be one of no_validation, trust_offset, trust_slot, trust_greater_lsn"
        );
        assert!(OffsetMismatchStrategy::TrustOffset.seeks_slot_to_offset());
        assert!(!OffsetMismatchStrategy::TrustOffset.trusts_slot());
        assert!(OffsetMismatchStrategy::TrustGreaterLsn.seeks_slot_to_offset());
        assert!(OffsetMismatchStrategy::TrustGreaterLsn.trusts_slot());
        assert!(!OffsetMismatchStrategy::TrustSlot.seeks_slot_to_offset());
    }

    #[test]
    fn debeziums_behaviour_settings_parse_with_their_defaults_and_old_names() {
        let c = parse(&[]).unwrap();
        assert!(!c.publish_via_partition_root);
        assert_eq!(c.snapshot_isolation_mode, SnapshotIsolationMode::Serializable);
        assert_eq!(c.snapshot_locking_mode, SnapshotLockingMode::None);
        assert_eq!(c.snapshot_lock_timeout, Duration::from_secs(10));
        assert_eq!(c.lsn_flush_mode, LsnFlushMode::Connector);
        assert!(c.replica_identity_rules.is_empty());
        assert_eq!(c.heartbeat_interval, Duration::ZERO);

        let c = parse(&[
            ("publish.via.partition.root", "TRUE"),
            ("snapshot.isolation.mode", "read_committed"),
            ("snapshot.locking.mode", "shared"),
            ("snapshot.lock.timeout.ms", "250"),
            (
                "replica.identity.autoset.values",
                "public.orders:FULL,public.items:INDEX items_idx",
            ),
        ])
        .unwrap();
        assert!(c.publish_via_partition_root);
        assert_eq!(c.snapshot_isolation_mode, SnapshotIsolationMode::ReadCommitted);
        assert_eq!(c.snapshot_locking_mode, SnapshotLockingMode::Shared);
        assert_eq!(c.snapshot_lock_timeout, Duration::from_millis(250));
        assert_eq!(c.replica_identity_rules.len(), 2);

        // flush.lsn.source (deprecated) counts only when lsn.flush.mode is absent.
        let mode = |extra: &[(&str, &str)]| parse(extra).unwrap().lsn_flush_mode;
        assert_eq!(mode(&[("flush.lsn.source", "false")]), LsnFlushMode::Manual);
        assert_eq!(mode(&[("flush.lsn.source", "true")]), LsnFlushMode::Connector);
        assert_eq!(
            mode(&[("flush.lsn.source", "false"), ("lsn.flush.mode", "connector")]),
            LsnFlushMode::Connector
        );
        assert_eq!(mode(&[("lsn.flush.mode", "MANUAL")]), LsnFlushMode::Manual);
        // connector_and_driver without heartbeats gets Debezium's 10-minute heartbeat.
        let c = parse(&[("lsn.flush.mode", "connector_and_driver")]).unwrap();
        assert_eq!(c.heartbeat_interval, Duration::from_secs(600));
        let c = parse(&[
            ("lsn.flush.mode", "connector_and_driver"),
            ("heartbeat.interval.ms", "1000"),
        ])
        .unwrap();
        assert_eq!(c.heartbeat_interval, Duration::from_secs(1));

        let errs = |extra: &[(&str, &str)]| -> Vec<String> {
            parse(extra).unwrap_err().iter().map(|e| e.to_string()).collect()
        };
        let e = errs(&[("snapshot.locking.mode", "custom")]);
        assert!(
            e[0].contains("snapshot.locking.mode") && e[0].contains("custom"),
            "{e:?}"
        );
        let e = errs(&[("lsn.flush.mode", "sometimes")]);
        assert!(e[0].contains("lsn.flush.mode"), "{e:?}");
        let e = errs(&[("snapshot.isolation.mode", "snapshot")]);
        assert!(e[0].contains("snapshot.isolation.mode"), "{e:?}");
        let e = errs(&[(
            "replica.identity.autoset.values",
            "public.orders:FULL,public.items:SOME",
        )]);
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].contains("replica.identity.autoset.values")
                && e[0].contains("public.items:SOME has an invalid format"),
            "{e:?}"
        );
        let e = errs(&[("replica.identity.autoset.values", "")]);
        assert!(e.iter().any(|m| m.contains("Must not be empty")), "{e:?}");
        let e = errs(&[("publish.via.partition.root", "yes")]);
        assert!(e[0].contains("publish.via.partition.root"), "{e:?}");
    }

    #[test]
    fn money_fraction_digits_default_and_bounds() {
        let base = [
            ("database.hostname", "db"),
            ("database.user", "u"),
            ("database.dbname", "d"),
            ("topic.prefix", "p"),
        ];
        let mut m = map(&base);
        assert_eq!(PostgresConfig::parse(&m).unwrap().money_fraction_digits, 2);
        m.insert("money.fraction.digits".into(), "0".into());
        assert_eq!(PostgresConfig::parse(&m).unwrap().money_fraction_digits, 0);
        m.insert("money.fraction.digits".into(), "40".into());
        let errs = PostgresConfig::parse(&m).unwrap_err();
        assert!(errs[0].to_string().contains("money.fraction.digits"), "{errs:?}");
    }

    #[test]
    fn outbox_cleanup_is_off_by_default_and_validated_naming_its_keys() {
        let errs = |extra: &[(&str, &str)]| -> String {
            parse(extra)
                .unwrap_err()
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        };
        assert_eq!(parse(&[]).unwrap().outbox_cleanup, None);
        assert_eq!(
            parse(&[("outbox.cleanup.table", "public.outbox")])
                .unwrap()
                .outbox_cleanup,
            None,
            "a table alone does not enable it"
        );
        let on = parse(&[
            ("outbox.cleanup.enabled", "true"),
            ("outbox.cleanup.table", "outbox"),
            ("outbox.cleanup.delay.ms", "5000"),
        ])
        .unwrap()
        .outbox_cleanup
        .unwrap();
        assert_eq!((on.schema.as_str(), on.table.as_str()), ("public", "outbox"));
        assert_eq!(on.delay, Duration::from_secs(5));
        assert_eq!(on.batch_size, 1000);
        assert_eq!(on.interval, Duration::from_secs(1));

        let e = errs(&[("outbox.cleanup.enabled", "true")]);
        assert!(
            e.contains("outbox.cleanup.table") && e.contains("Required"),
            "{e}"
        );
        let e = errs(&[
            ("outbox.cleanup.enabled", "true"),
            ("outbox.cleanup.table", "public.outbox"),
            ("table.include.list", "public.orders"),
        ]);
        assert!(
            e.contains("outbox.cleanup.table") && e.contains("not captured"),
            "{e}"
        );
        let e = errs(&[
            ("outbox.cleanup.enabled", "true"),
            ("outbox.cleanup.table", "public.outbox"),
            ("snapshot.mode", "never"),
        ]);
        assert!(
            e.contains("outbox.cleanup.enabled") && e.contains("no_data"),
            "{e}"
        );
        let e = errs(&[
            ("outbox.cleanup.enabled", "true"),
            ("outbox.cleanup.table", "public.outbox"),
            ("outbox.cleanup.batch.size", "0"),
        ]);
        assert!(e.contains("outbox.cleanup.batch.size"), "{e}");
    }
}
