//! The enumerated settings: each enum lists its option names once, and both the
//! [`ConfigDef`](ferry_core::ConfigDef) validator and the parser read that list.

/// A setting whose value is one of a fixed set of names (matched ignoring case).
pub trait Choice: Copy + 'static {
    /// Option names and the values they select, in the order `/config/validate`
    /// recommends them. Old names that select the same value come last.
    const CHOICES: &'static [(&'static str, Self)];

    /// The value named `name`, ignoring case.
    fn from_name(name: &str) -> Option<Self> {
        Self::CHOICES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// Every option name, in order.
    fn names() -> impl Iterator<Item = &'static str> {
        Self::CHOICES.iter().map(|(n, _)| *n)
    }
}

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

impl Choice for PluginName {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("decoderbufs", PluginName::Decoderbufs),
        ("pgoutput", PluginName::Pgoutput),
    ];
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

impl Choice for AutocreateMode {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("all_tables", AutocreateMode::AllTables),
        ("disabled", AutocreateMode::Disabled),
        ("filtered", AutocreateMode::Filtered),
        ("no_tables", AutocreateMode::NoTables),
    ];
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

impl Choice for SnapshotMode {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("initial", SnapshotMode::Initial),
        ("always", SnapshotMode::Always),
        ("initial_only", SnapshotMode::InitialOnly),
        ("when_needed", SnapshotMode::WhenNeeded),
        ("no_data", SnapshotMode::NoData),
        ("never", SnapshotMode::NoData),
        ("exported", SnapshotMode::Initial),
    ];
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

impl Choice for DecimalMode {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("precise", DecimalMode::Precise),
        ("string", DecimalMode::String),
        ("double", DecimalMode::Double),
    ];
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

impl Choice for TimePrecisionMode {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("adaptive", TimePrecisionMode::Adaptive),
        (
            "adaptive_time_microseconds",
            TimePrecisionMode::AdaptiveTimeMicroseconds,
        ),
        ("connect", TimePrecisionMode::Connect),
    ];
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

impl Choice for BinaryMode {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("bytes", BinaryMode::Bytes),
        ("base64", BinaryMode::Base64),
        ("base64-url-safe", BinaryMode::Base64UrlSafe),
        ("hex", BinaryMode::Hex),
    ];
}

/// `hstore.handling.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HStoreMode {
    /// io.debezium.data.Json string.
    Json,
    /// A Connect map of string to optional string.
    Map,
}

impl Choice for HStoreMode {
    const CHOICES: &'static [(&'static str, Self)] = &[("json", HStoreMode::Json), ("map", HStoreMode::Map)];
}

/// `interval.handling.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntervalMode {
    /// io.debezium.time.MicroDuration (int64 µs).
    Numeric,
    /// io.debezium.time.Interval (ISO-8601 string).
    String,
}

impl Choice for IntervalMode {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("numeric", IntervalMode::Numeric),
        ("string", IntervalMode::String),
    ];
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

impl Choice for SslMode {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("disable", SslMode::Disable),
        ("allow", SslMode::Allow),
        ("prefer", SslMode::Prefer),
        ("require", SslMode::Require),
        ("verify-ca", SslMode::VerifyCa),
        ("verify-full", SslMode::VerifyFull),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_select_values_ignoring_case_and_old_names_map_to_new_values() {
        assert_eq!(SnapshotMode::from_name("NEVER"), Some(SnapshotMode::NoData));
        assert_eq!(SnapshotMode::from_name("exported"), Some(SnapshotMode::Initial));
        assert_eq!(SslMode::from_name("Verify-Full"), Some(SslMode::VerifyFull));
        assert_eq!(
            BinaryMode::from_name("base64-url-safe"),
            Some(BinaryMode::Base64UrlSafe)
        );
        assert_eq!(DecimalMode::from_name("sometimes"), None);
        for (name, mode) in SslMode::CHOICES {
            assert_eq!(mode.as_str(), *name);
        }
        for (name, plugin) in PluginName::CHOICES {
            assert_eq!(plugin.as_str(), *name);
        }
    }
}
