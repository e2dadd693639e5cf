//! Typed connector configuration, parsed from a Connect [`ConfigMap`] with
//! Debezium's option names, their 1.x aliases and defaults.

use std::time::Duration;

use ferry_core::config::{ConfigKey, ConfigType, Importance, Validator};
use ferry_core::{ConfigDef, ConfigError, ConfigMap};
use regex::{Regex, RegexBuilder};

/// Logical decoding plugin named by `plugin.name`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PluginName {
    /// `decoderbufs` (Debezium's default; not shipped with stock servers).
    Decoderbufs,
    /// `pgoutput`, built into PostgreSQL ≥ 10.
    Pgoutput,
}

impl PluginName {
    /// Name as the server knows it.
    pub fn as_str(self) -> &'static str {
        match self {
            PluginName::Decoderbufs => "decoderbufs",
            PluginName::Pgoutput => "pgoutput",
        }
    }
}

/// `publication.autocreate.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutocreateMode {
    /// `FOR ALL TABLES` (needs superuser).
    AllTables,
    /// `FOR TABLE` the captured tables.
    Filtered,
    /// Never create; the publication must exist.
    Disabled,
    /// Create an empty publication.
    NoTables,
}

/// `snapshot.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotMode {
    /// Snapshot when no offset exists, then stream.
    Initial,
    /// Snapshot on every start, then stream.
    Always,
    /// Snapshot when no offset exists, then stop streaming.
    InitialOnly,
    /// Snapshot when no offset exists or the offset is no longer usable.
    WhenNeeded,
    /// Never snapshot data (`no_data`, old `never`).
    NoData,
}

/// `decimal.handling.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecimalMode {
    /// `org.apache.kafka.connect.data.Decimal` (VariableScaleDecimal when unconstrained).
    Precise,
    /// `double`.
    Double,
    /// Plain string.
    String,
}

/// `time.precision.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimePrecisionMode {
    /// io.debezium.time.* with the column's precision.
    Adaptive,
    /// Like adaptive, but TIME always as MicroTime.
    AdaptiveTimeMicroseconds,
    /// Kafka Connect's Date/Time/Timestamp (milliseconds).
    Connect,
}

/// `binary.handling.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryMode {
    /// Raw bytes.
    Bytes,
    /// Base64 string.
    Base64,
    /// URL-safe Base64 string.
    Base64UrlSafe,
    /// Hex string.
    Hex,
}

/// `hstore.handling.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HStoreMode {
    /// io.debezium.data.Json string.
    Json,
    /// A Connect map of string to optional string.
    Map,
}

/// `interval.handling.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntervalMode {
    /// io.debezium.time.MicroDuration (int64 µs).
    Numeric,
    /// io.debezium.time.Interval (ISO-8601 string).
    String,
}

/// `database.sslmode` (libpq semantics).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// Plain or TLS, whichever the server accepts (Ferry tries TLS first, like `prefer`).
    Allow,
    /// TLS when the server offers it, plain otherwise; no certificate checks.
    Prefer,
    /// TLS, without certificate checks.
    Require,
    /// TLS; the server certificate chain is verified against `database.sslrootcert`.
    VerifyCa,
    /// As `VerifyCa`, and the certificate must match `database.hostname`.
    VerifyFull,
}

impl SslMode {
    /// The option value, as written in `database.sslmode`.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Whether the connection fails rather than falling back to plain TCP.
    pub fn requires_tls(self) -> bool {
        matches!(self, SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull)
    }
}

/// Schema/table/column include and exclude lists (anchored, case-insensitive regexes).
#[derive(Clone, Debug, Default)]
pub struct Filters {
    schema_include: Vec<Regex>,
    schema_exclude: Vec<Regex>,
    table_include: Vec<Regex>,
    table_exclude: Vec<Regex>,
    column_include: Vec<Regex>,
    column_exclude: Vec<Regex>,
    message_include: Vec<Regex>,
    message_exclude: Vec<Regex>,
}

const SYSTEM_SCHEMAS: &[&str] = &["pg_catalog", "information_schema", "pg_toast"];

impl Filters {
    /// Whether table `schema.table` is captured.
    pub fn table_included(&self, schema: &str, table: &str) -> bool {
        if SYSTEM_SCHEMAS.contains(&schema) || schema.starts_with("pg_temp") {
            return false;
        }
        if !self.schema_include.is_empty() && !matches_any(&self.schema_include, schema) {
            return false;
        }
        if matches_any(&self.schema_exclude, schema) {
            return false;
        }
        let id = format!("{schema}.{table}");
        if !self.table_include.is_empty() && !matches_any(&self.table_include, &id) {
            return false;
        }
        !matches_any(&self.table_exclude, &id)
    }

    /// Whether column `schema.table.column` is captured.
    pub fn column_included(&self, schema: &str, table: &str, column: &str) -> bool {
        if self.column_include.is_empty() && self.column_exclude.is_empty() {
            return true;
        }
        let id = format!("{schema}.{table}.{column}");
        if !self.column_include.is_empty() && !matches_any(&self.column_include, &id) {
            return false;
        }
        !matches_any(&self.column_exclude, &id)
    }

    /// Whether logical decoding messages with `prefix` are captured
    /// (`message.prefix.include.list`, else `message.prefix.exclude.list`; all by default).
    pub fn message_included(&self, prefix: &str) -> bool {
        if !self.message_include.is_empty() {
            return matches_any(&self.message_include, prefix);
        }
        !matches_any(&self.message_exclude, prefix)
    }

    /// True when a table include list is set (the publication can be filtered).
    pub fn has_table_or_schema_filter(&self) -> bool {
        !(self.schema_include.is_empty()
            && self.schema_exclude.is_empty()
            && self.table_include.is_empty()
            && self.table_exclude.is_empty())
    }
}

fn matches_any(list: &[Regex], s: &str) -> bool {
    list.iter().any(|r| r.is_match(s))
}

/// `message.key.columns` entry: a table regex and the key columns to use.
#[derive(Clone, Debug)]
pub struct KeyColumns {
    /// Anchored regex over `schema.table`.
    pub table: Regex,
    /// Column names, in order.
    pub columns: Vec<String>,
}

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
}

fn get<'a>(m: &'a ConfigMap, keys: &[&'a str]) -> Option<(&'a str, &'a str)> {
    keys.iter()
        .find_map(|k| m.get(*k).map(|v| (*k, v.trim())))
        .filter(|(_, v)| !v.is_empty())
}

struct Parser<'a> {
    m: &'a ConfigMap,
    errors: Vec<ConfigError>,
}

impl<'a> Parser<'a> {
    fn string(&mut self, keys: &[&str], default: Option<&str>) -> String {
        match get(self.m, keys) {
            Some((_, v)) => v.to_string(),
            None => match default {
                Some(d) => d.to_string(),
                None => {
                    self.errors.push(ConfigError::missing(keys[0]));
                    String::new()
                }
            },
        }
    }

    fn opt(&mut self, keys: &[&str]) -> Option<String> {
        get(self.m, keys).map(|(_, v)| v.to_string())
    }

    fn int(&mut self, key: &str, default: i64, min: i64) -> i64 {
        match get(self.m, &[key]) {
            None => default,
            Some((_, v)) => match v.parse::<i64>() {
                Ok(n) if n >= min => n,
                Ok(_) => {
                    self.errors.push(ConfigError::invalid(
                        key,
                        v,
                        format!("Value must be at least {min}"),
                    ));
                    default
                }
                Err(_) => {
                    self.errors
                        .push(ConfigError::invalid(key, v, "Not a number of type LONG"));
                    default
                }
            },
        }
    }

    fn boolean(&mut self, keys: &[&str], default: bool) -> bool {
        match get(self.m, keys) {
            None => default,
            Some((k, v)) => {
                if v.eq_ignore_ascii_case("true") {
                    true
                } else if v.eq_ignore_ascii_case("false") {
                    false
                } else {
                    self.errors.push(ConfigError::invalid(
                        k,
                        v,
                        "Expected value to be either true or false",
                    ));
                    default
                }
            }
        }
    }

    fn choice<T: Copy>(&mut self, keys: &[&str], default: T, options: &[(&str, T)]) -> T {
        match get(self.m, keys) {
            None => default,
            Some((k, v)) => match options.iter().find(|(n, _)| n.eq_ignore_ascii_case(v)) {
                Some((_, t)) => *t,
                None => {
                    let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
                    self.errors.push(ConfigError::invalid(
                        k,
                        v,
                        format!("Value must be one of {}", names.join(", ")),
                    ));
                    default
                }
            },
        }
    }

    fn regex_list(&mut self, keys: &[&str]) -> Vec<Regex> {
        let Some((k, v)) = get(self.m, keys) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for pat in split_regex_list(v) {
            match RegexBuilder::new(&format!("^(?:{pat})$"))
                .case_insensitive(true)
                .build()
            {
                Ok(r) => out.push(r),
                Err(e) => self.errors.push(ConfigError::invalid(
                    k,
                    v,
                    format!("invalid regular expression '{pat}': {e}"),
                )),
            }
        }
        out
    }
}

/// Splits a comma-separated regex list; `\,` escapes a comma.
fn split_regex_list(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&',') {
            cur.push(',');
            chars.next();
        } else if c == ',' {
            let t = cur.trim().to_string();
            if !t.is_empty() {
                out.push(t);
            }
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    let t = cur.trim().to_string();
    if !t.is_empty() {
        out.push(t);
    }
    out
}

impl PostgresConfig {
    /// Parses a configuration; every problem found is returned, each naming its key.
    pub fn parse(m: &ConfigMap) -> Result<PostgresConfig, Vec<ConfigError>> {
        let mut p = Parser {
            m,
            errors: Vec::new(),
        };
        let hostname = p.string(&["database.hostname"], None);
        let port = p.int("database.port", 5432, 1);
        if port > u16::MAX as i64 {
            p.errors.push(ConfigError::invalid(
                "database.port",
                port,
                "Value must be no more than 65535",
            ));
        }
        let user = p.string(&["database.user"], None);
        let password = p.opt(&["database.password"]).unwrap_or_default();
        let dbname = p.string(&["database.dbname"], None);
        let sslmode = p.choice(
            &["database.sslmode"],
            SslMode::Prefer,
            &[
                ("disable", SslMode::Disable),
                ("allow", SslMode::Allow),
                ("prefer", SslMode::Prefer),
                ("require", SslMode::Require),
                ("verify-ca", SslMode::VerifyCa),
                ("verify-full", SslMode::VerifyFull),
            ],
        );
        let nonempty = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        let sslrootcert = nonempty(p.opt(&["database.sslrootcert"]));
        let sslcert = nonempty(p.opt(&["database.sslcert"]));
        let sslkey = nonempty(p.opt(&["database.sslkey"]));
        if sslcert.is_some() != sslkey.is_some() {
            let (key, other) = if sslcert.is_some() {
                ("database.sslkey", "database.sslcert")
            } else {
                ("database.sslcert", "database.sslkey")
            };
            p.errors.push(ConfigError::invalid(
                key,
                "null",
                format!("Required when {other} is set (client certificate authentication needs both)"),
            ));
        }
        let topic_prefix = match get(m, &["topic.prefix", "database.server.name"]) {
            Some((k, v)) => {
                if !v
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                {
                    p.errors.push(ConfigError::invalid(
                        k,
                        v,
                        "Topic prefix can only contain alphanumeric characters, '.', '_' or '-'",
                    ));
                }
                v.to_string()
            }
            None => {
                p.errors.push(ConfigError::missing("topic.prefix"));
                String::new()
            }
        };
        let plugin_name = p.choice(
            &["plugin.name"],
            PluginName::Decoderbufs,
            &[
                ("decoderbufs", PluginName::Decoderbufs),
                ("pgoutput", PluginName::Pgoutput),
            ],
        );
        let slot_name = p.string(&["slot.name"], Some("debezium"));
        if !slot_name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            || slot_name.len() > 63
        {
            p.errors.push(ConfigError::invalid(
                "slot.name",
                &slot_name,
                "Valid replication slot name must contain only digits, lowercase characters and underscores with length <= 63",
            ));
        }
        let slot_drop_on_stop = p.boolean(&["slot.drop.on.stop"], false);
        let slot_max_retries = p.int("slot.max.retries", 6, 1).min(i64::from(u32::MAX)) as u32;
        let slot_retry_delay = Duration::from_millis(p.int("slot.retry.delay.ms", 10_000, 0) as u64);
        let publication_name = p.string(&["publication.name"], Some("dbz_publication"));
        let publication_autocreate_mode = p.choice(
            &["publication.autocreate.mode"],
            AutocreateMode::AllTables,
            &[
                ("all_tables", AutocreateMode::AllTables),
                ("filtered", AutocreateMode::Filtered),
                ("disabled", AutocreateMode::Disabled),
                ("no_tables", AutocreateMode::NoTables),
            ],
        );
        let filters = Filters {
            schema_include: p.regex_list(&["schema.include.list", "schema.whitelist"]),
            schema_exclude: p.regex_list(&["schema.exclude.list", "schema.blacklist"]),
            table_include: p.regex_list(&["table.include.list", "table.whitelist"]),
            table_exclude: p.regex_list(&["table.exclude.list", "table.blacklist"]),
            column_include: p.regex_list(&["column.include.list", "column.whitelist"]),
            column_exclude: p.regex_list(&["column.exclude.list", "column.blacklist"]),
            message_include: p.regex_list(&["message.prefix.include.list"]),
            message_exclude: p.regex_list(&["message.prefix.exclude.list"]),
        };
        for (inc, exc) in [
            ("schema.include.list", "schema.exclude.list"),
            ("table.include.list", "table.exclude.list"),
            ("column.include.list", "column.exclude.list"),
            ("message.prefix.include.list", "message.prefix.exclude.list"),
        ] {
            let alias = |k: &str| {
                k.replace("include.list", "whitelist")
                    .replace("exclude.list", "blacklist")
            };
            if get(m, &[inc, &alias(inc)]).is_some() && get(m, &[exc, &alias(exc)]).is_some() {
                p.errors.push(ConfigError::invalid(
                    exc,
                    m.get(exc).cloned().unwrap_or_default(),
                    format!("\"{inc}\" is already specified"),
                ));
            }
        }
        let snapshot_mode = p.choice(
            &["snapshot.mode"],
            SnapshotMode::Initial,
            &[
                ("initial", SnapshotMode::Initial),
                ("always", SnapshotMode::Always),
                ("initial_only", SnapshotMode::InitialOnly),
                ("when_needed", SnapshotMode::WhenNeeded),
                ("no_data", SnapshotMode::NoData),
                ("never", SnapshotMode::NoData),
                ("exported", SnapshotMode::Initial),
            ],
        );
        let snapshot_fetch_size = p.int("snapshot.fetch.size", 10240, 1) as usize;
        let tombstones_on_delete = p.boolean(&["tombstones.on.delete"], true);
        let heartbeat_interval = Duration::from_millis(p.int("heartbeat.interval.ms", 0, 0) as u64);
        let heartbeat_action_query = p.opt(&["heartbeat.action.query"]);
        let heartbeat_topic_prefix = p.string(
            &["topic.heartbeat.prefix", "heartbeat.topics.prefix"],
            Some("__debezium-heartbeat"),
        );
        let decimal_mode = p.choice(
            &["decimal.handling.mode"],
            DecimalMode::Precise,
            &[
                ("precise", DecimalMode::Precise),
                ("double", DecimalMode::Double),
                ("string", DecimalMode::String),
            ],
        );
        let time_precision_mode = p.choice(
            &["time.precision.mode"],
            TimePrecisionMode::Adaptive,
            &[
                ("adaptive", TimePrecisionMode::Adaptive),
                (
                    "adaptive_time_microseconds",
                    TimePrecisionMode::AdaptiveTimeMicroseconds,
                ),
                ("connect", TimePrecisionMode::Connect),
            ],
        );
        let binary_mode = p.choice(
            &["binary.handling.mode"],
            BinaryMode::Bytes,
            &[
                ("bytes", BinaryMode::Bytes),
                ("base64", BinaryMode::Base64),
                ("base64-url-safe", BinaryMode::Base64UrlSafe),
                ("hex", BinaryMode::Hex),
            ],
        );
        let interval_mode = p.choice(
            &["interval.handling.mode"],
            IntervalMode::Numeric,
            &[
                ("numeric", IntervalMode::Numeric),
                ("string", IntervalMode::String),
            ],
        );
        let hstore_mode = p.choice(
            &["hstore.handling.mode"],
            HStoreMode::Json,
            &[("json", HStoreMode::Json), ("map", HStoreMode::Map)],
        );
        let mut skipped_operations = Vec::new();
        let skipped = p.string(&["skipped.operations"], Some("t"));
        for op in skipped.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match op {
                "c" | "u" | "d" | "t" => skipped_operations.push(op.chars().next().unwrap()),
                "none" => {}
                other => p.errors.push(ConfigError::invalid(
                    "skipped.operations",
                    &skipped,
                    format!("unknown operation '{other}'; use c, u, d, t or none"),
                )),
            }
        }
        let mut message_key_columns = Vec::new();
        if let Some(v) = p.opt(&["message.key.columns"]) {
            for entry in v.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                let Some((table, cols)) = entry.rsplit_once(':') else {
                    p.errors.push(ConfigError::invalid(
                        "message.key.columns",
                        &v,
                        "entries must look like <schema>.<table>:<column>[,<column>]",
                    ));
                    continue;
                };
                match RegexBuilder::new(&format!("^(?:{})$", table.trim()))
                    .case_insensitive(true)
                    .build()
                {
                    Ok(table) => message_key_columns.push(KeyColumns {
                        table,
                        columns: cols
                            .split(',')
                            .map(|c| c.trim().to_string())
                            .filter(|c| !c.is_empty())
                            .collect(),
                    }),
                    Err(e) => p
                        .errors
                        .push(ConfigError::invalid("message.key.columns", &v, e.to_string())),
                }
            }
        }
        let max_batch_size = p.int("max.batch.size", 2048, 1) as usize;
        let max_queue_size = p.int("max.queue.size", 8192, 1) as usize;
        if max_queue_size <= max_batch_size && get(m, &["max.queue.size"]).is_some() {
            p.errors.push(ConfigError::invalid(
                "max.queue.size",
                max_queue_size,
                "Must be larger than the maximum batch size",
            ));
        }
        let poll_interval = Duration::from_millis(p.int("poll.interval.ms", 500, 1) as u64);
        let provide_transaction_metadata = p.boolean(&["provide.transaction.metadata"], false);
        let transaction_topic_name = p.string(&["topic.transaction"], Some("transaction"));
        let errors_max_retries = p.int("errors.max.retries", -1, -1);
        let status_update_interval =
            Duration::from_millis(p.int("status.update.interval.ms", 10_000, 1) as u64);
        let unavailable_value_placeholder = p.string(
            &["unavailable.value.placeholder"],
            Some("__debezium_unavailable_value"),
        );
        let include_unknown_datatypes = p.boolean(&["include.unknown.datatypes"], false);
        if !p.errors.is_empty() {
            return Err(p.errors);
        }
        Ok(PostgresConfig {
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
        })
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
        .define(s("database.sslmode").default_value("prefer").validator(Validator::one_of_ignore_case(["disable", "allow", "prefer", "require", "verify-ca", "verify-full"])).doc("Whether to use an encrypted connection to the PostgreSQL server: disable, allow, prefer (TLS when the server offers it), require (TLS, no certificate checks), verify-ca (verify the chain against database.sslrootcert), verify-full (also the host name)."))
        .define(s("database.sslrootcert").default_null().doc("File containing the root certificate(s) (PEM) against which the server is validated."))
        .define(s("database.sslcert").default_null().doc("File containing the SSL certificate (PEM) for the client."))
        .define(s("database.sslkey").default_null().doc("File containing the SSL private key (PEM, unencrypted) for the client."))
        .define(s("plugin.name").default_value("decoderbufs").validator(Validator::one_of_ignore_case(["decoderbufs", "pgoutput"])).doc("The name of the Postgres logical decoding plugin installed on the server."))
        .define(s("slot.name").default_value("debezium").doc("The name of the Postgres logical decoding slot created for streaming changes from a plugin."))
        .define(b("slot.drop.on.stop").default_value("false"))
        .define(i("slot.max.retries").default_value("6").doc("How many times to retry connecting to a replication slot, otherwise an error is raised."))
        .define(l("slot.retry.delay.ms").default_value("10000").doc("Time to wait between retry attempts when the connector fails to connect to a replication slot, given in milliseconds."))
        .define(s("publication.name").default_value("dbz_publication"))
        .define(s("publication.autocreate.mode").default_value("all_tables").validator(Validator::one_of_ignore_case(["all_tables", "disabled", "filtered", "no_tables"])))
        .define(list("schema.include.list"))
        .define(list("schema.exclude.list"))
        .define(list("table.include.list"))
        .define(list("table.exclude.list"))
        .define(list("column.include.list"))
        .define(list("column.exclude.list"))
        .define(list("message.prefix.include.list"))
        .define(list("message.prefix.exclude.list"))
        .define(s("message.key.columns").default_null())
        .define(s("snapshot.mode").default_value("initial").validator(Validator::one_of_ignore_case(["initial", "always", "initial_only", "when_needed", "no_data", "never", "exported"])))
        .define(i("snapshot.fetch.size").default_value("10240"))
        .define(b("tombstones.on.delete").default_value("true"))
        .define(i("heartbeat.interval.ms").default_value("0").validator(Validator::at_least(0.0)))
        .define(s("heartbeat.action.query").default_null())
        .define(s("topic.heartbeat.prefix").default_value("__debezium-heartbeat"))
        .define(s("decimal.handling.mode").default_value("precise").validator(Validator::one_of_ignore_case(["precise", "string", "double"])))
        .define(s("time.precision.mode").default_value("adaptive").validator(Validator::one_of_ignore_case(["adaptive", "adaptive_time_microseconds", "connect"])))
        .define(s("binary.handling.mode").default_value("bytes").validator(Validator::one_of_ignore_case(["bytes", "base64", "base64-url-safe", "hex"])))
        .define(s("interval.handling.mode").default_value("numeric").validator(Validator::one_of_ignore_case(["numeric", "string"])))
        .define(s("hstore.handling.mode").default_value("json").validator(Validator::one_of_ignore_case(["json", "map"])))
        .define(s("skipped.operations").default_value("t"))
        .define(i("max.batch.size").default_value("2048").validator(Validator::at_least(1.0)))
        .define(i("max.queue.size").default_value("8192").validator(Validator::at_least(1.0)))
        .define(l("poll.interval.ms").default_value("500").validator(Validator::at_least(1.0)))
        .define(b("provide.transaction.metadata").default_value("false"))
        .define(s("topic.transaction").default_value("transaction"))
        .define(i("errors.max.retries").default_value("-1").validator(Validator::at_least(-1.0)))
        .define(i("status.update.interval.ms").default_value("10000").validator(Validator::at_least(1.0)))
        .define(s("unavailable.value.placeholder").default_value("__debezium_unavailable_value"))
        .define(b("include.unknown.datatypes").default_value("false"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> ConfigMap {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn sslmode_and_certificate_options() {
        let base = [
            ("database.hostname", "db"),
            ("database.user", "u"),
            ("database.dbname", "d"),
            ("topic.prefix", "p"),
        ];
        let parse = |extra: &[(&str, &str)]| {
            let mut m = map(&base);
            for (k, v) in extra {
                m.insert(k.to_string(), v.to_string());
            }
            PostgresConfig::parse(&m)
        };
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
            ("snapshot.mode", "never"),
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
    fn regex_list_honours_escaped_commas() {
        assert_eq!(split_regex_list("a\\,b, c ,"), vec!["a,b", "c"]);
    }
}
