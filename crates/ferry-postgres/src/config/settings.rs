//! Settings that change what the connector does to the server: the snapshot
//! transaction's isolation and table locks, whether the slot is confirmed, and the
//! replica identities set at start (`replica.identity.autoset.values`).
//!
//! Each enum lists its names in the order Debezium recommends them (and names them in
//! its error message): the iteration order of the Java `HashSet` its `EnumRecommender`
//! collects them in.

use regex::Regex;

use super::choices::Choice;
use super::filters::anchored;

/// `snapshot.isolation.mode`: the snapshot transaction's isolation level when it does
/// not import the snapshot exported by a new slot (that one is always REPEATABLE READ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotIsolationMode {
    /// `SERIALIZABLE, READ ONLY, DEFERRABLE` (Debezium's default).
    Serializable,
    /// `REPEATABLE READ, READ ONLY`.
    RepeatableRead,
    /// `READ COMMITTED, READ ONLY`: each table's SELECT sees what was committed when it began.
    ReadCommitted,
    /// `READ UNCOMMITTED, READ ONLY` (PostgreSQL runs it as READ COMMITTED).
    ReadUncommitted,
}

impl SnapshotIsolationMode {
    /// The transaction characteristics Debezium sets for this mode.
    pub fn transaction_characteristics(self) -> &'static str {
        match self {
            SnapshotIsolationMode::Serializable => "ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE",
            SnapshotIsolationMode::RepeatableRead => "ISOLATION LEVEL REPEATABLE READ, READ ONLY",
            SnapshotIsolationMode::ReadCommitted => "ISOLATION LEVEL READ COMMITTED, READ ONLY",
            SnapshotIsolationMode::ReadUncommitted => "ISOLATION LEVEL READ UNCOMMITTED, READ ONLY",
        }
    }
}

impl Choice for SnapshotIsolationMode {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("read_uncommitted", SnapshotIsolationMode::ReadUncommitted),
        ("repeatable_read", SnapshotIsolationMode::RepeatableRead),
        ("read_committed", SnapshotIsolationMode::ReadCommitted),
        ("serializable", SnapshotIsolationMode::Serializable),
    ];
}

/// `snapshot.locking.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SnapshotLockingMode {
    /// `LOCK TABLE ... IN ACCESS SHARE MODE` on every captured table for the whole
    /// snapshot transaction (blocks schema changes, not writes).
    Shared,
    /// No table locks (Debezium's default).
    None,
    /// A Java `SnapshotLock` implementation: refused by Ferry's validation.
    Custom,
}

impl Choice for SnapshotLockingMode {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("shared", SnapshotLockingMode::Shared),
        ("custom", SnapshotLockingMode::Custom),
        ("none", SnapshotLockingMode::None),
    ];
}

/// `lsn.flush.mode` (or the deprecated `flush.lsn.source`): who confirms the slot's
/// flush position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LsnFlushMode {
    /// The connector confirms what its stored offsets cover (the default).
    Connector,
    /// Never confirmed by the connector: the user advances the slot.
    Manual,
    /// As `Connector`, and between transactions, with everything durable, the
    /// server's keepalive position is confirmed too (pgjdbc's automatic flush).
    ConnectorAndDriver,
}

impl LsnFlushMode {
    /// Whether the connector confirms flush positions to the slot at all.
    pub fn confirms_flush(self) -> bool {
        self != LsnFlushMode::Manual
    }
}

impl Choice for LsnFlushMode {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("connector_and_driver", LsnFlushMode::ConnectorAndDriver),
        ("connector", LsnFlushMode::Connector),
        ("manual", LsnFlushMode::Manual),
    ];
}

/// `offset.mismatch.strategy`: what a start does when the stored offset and the
/// replication slot disagree on where the stream stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetMismatchStrategy {
    /// Stream from the stored offset (the default); a slot whose WAL no longer reaches
    /// back to it still stops the start, or re-snapshots with `when_needed`.
    NoValidation,
    /// As `NoValidation`, and a slot behind the stored offset is advanced to it first.
    TrustOffset,
    /// The slot decides: no check, and streaming starts wherever the slot stands.
    TrustSlot,
    /// The greater of the two: no check, a slot behind the offset is advanced to it.
    TrustGreaterLsn,
}

impl OffsetMismatchStrategy {
    /// Whether a slot behind the stored offset is advanced to it at start.
    pub fn seeks_slot_to_offset(self) -> bool {
        matches!(
            self,
            OffsetMismatchStrategy::TrustOffset | OffsetMismatchStrategy::TrustGreaterLsn
        )
    }

    /// Whether the slot's position is trusted over an older stored offset (no check).
    pub fn trusts_slot(self) -> bool {
        matches!(
            self,
            OffsetMismatchStrategy::TrustSlot | OffsetMismatchStrategy::TrustGreaterLsn
        )
    }
}

impl Choice for OffsetMismatchStrategy {
    const CHOICES: &'static [(&'static str, Self)] = &[
        ("no_validation", OffsetMismatchStrategy::NoValidation),
        ("trust_offset", OffsetMismatchStrategy::TrustOffset),
        ("trust_slot", OffsetMismatchStrategy::TrustSlot),
        ("trust_greater_lsn", OffsetMismatchStrategy::TrustGreaterLsn),
    ];
}

/// Debezium's `ReplicaIdentityMapper.REPLICA_AUTO_SET_PATTERN`, for the messages.
pub const REPLICA_AUTO_SET_PATTERN: &str = r"(?i)^\s*(?<tablepredicate>[^\s:]+):(?<replicaidentity>DEFAULT|(INDEX) (?<indexname>.\w*)|FULL|NOTHING)\s*$";

/// A replica identity to set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReplicaIdentity {
    /// `DEFAULT`: the primary key.
    Default,
    /// `FULL`: every column.
    Full,
    /// `NOTHING`.
    Nothing,
    /// `USING INDEX name` (the name as written; unquoted, so the server folds it).
    Index(String),
}

impl ReplicaIdentity {
    /// The clause after `REPLICA IDENTITY`, with the index name folded and quoted as
    /// the server reads an unquoted name.
    pub fn clause(&self) -> String {
        match self {
            ReplicaIdentity::Default => "DEFAULT".into(),
            ReplicaIdentity::Full => "FULL".into(),
            ReplicaIdentity::Nothing => "NOTHING".into(),
            ReplicaIdentity::Index(name) => format!(
                "USING INDEX \"{}\"",
                name.to_ascii_lowercase().replace('"', "\"\"")
            ),
        }
    }

    /// Whether a table whose `pg_class.relreplident` is `relreplident` (with replica
    /// identity index `index`, if any) already has this identity.
    pub fn is_current(&self, relreplident: &str, index: Option<&str>) -> bool {
        match self {
            ReplicaIdentity::Default => relreplident == "d",
            ReplicaIdentity::Full => relreplident == "f",
            ReplicaIdentity::Nothing => relreplident == "n",
            ReplicaIdentity::Index(name) => {
                relreplident == "i" && index.is_some_and(|i| i == name.to_ascii_lowercase())
            }
        }
    }
}

impl std::fmt::Display for ReplicaIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplicaIdentity::Index(name) => write!(f, "USING INDEX {name}"),
            other => f.write_str(&other.clause()),
        }
    }
}

/// One `replica.identity.autoset.values` entry: tables whose `schema.table` matches
/// `table` (anchored, case-insensitive) get `identity`.
#[derive(Clone, Debug)]
pub struct ReplicaIdentityRule {
    /// The table pattern.
    pub table: Regex,
    /// The identity to set.
    pub identity: ReplicaIdentity,
}

/// Parses `replica.identity.autoset.values` as Debezium does: entries split on `,`,
/// each `<table regex>:<DEFAULT|FULL|NOTHING|INDEX name>`. Returns the rules and, for
/// each bad entry, the entry and why.
pub fn parse_replica_identity_rules(value: &str) -> (Vec<ReplicaIdentityRule>, Vec<(String, String)>) {
    let pattern = Regex::new(r"(?i)^\s*([^\s:]+):(DEFAULT|INDEX (.\w*)|FULL|NOTHING)\s*$").expect("valid");
    let mut rules = Vec::new();
    let mut problems = Vec::new();
    if value.is_empty() {
        problems.push((String::new(), "Must not be empty".to_string()));
    }
    for entry in value.split(',') {
        let Some(c) = pattern.captures(entry) else {
            problems.push((
                entry.to_string(),
                format!("{entry} has an invalid format (expecting '{REPLICA_AUTO_SET_PATTERN}')"),
            ));
            continue;
        };
        let identity = match (c[2].to_ascii_uppercase().as_str(), c.get(3)) {
            ("DEFAULT", _) => ReplicaIdentity::Default,
            ("FULL", _) => ReplicaIdentity::Full,
            ("NOTHING", _) => ReplicaIdentity::Nothing,
            (_, Some(index)) => ReplicaIdentity::Index(index.as_str().to_string()),
            (_, None) => unreachable!("INDEX always has a name"),
        };
        match anchored(&c[1]) {
            Ok(table) => rules.push(ReplicaIdentityRule { table, identity }),
            Err(e) => problems.push((
                entry.to_string(),
                format!("{entry} has an invalid table expression: {e}"),
            )),
        }
    }
    (rules, problems)
}

/// The identity `rules` give `schema.table`: `Ok(None)` when none matches, an error
/// naming the table when several do (Debezium then leaves the table alone).
pub fn replica_identity_for<'r>(
    rules: &'r [ReplicaIdentityRule],
    schema: &str,
    table: &str,
) -> Result<Option<&'r ReplicaIdentity>, String> {
    let id = format!("{schema}.{table}");
    let mut found = rules.iter().filter(|r| r.table.is_match(&id));
    match (found.next(), found.next()) {
        (None, _) => Ok(None),
        (Some(r), None) => Ok(Some(&r.identity)),
        (Some(_), Some(_)) => Err(format!("More than one Regular expressions matched table {id}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replica_identity_entries_parse_as_debezium_reads_them() {
        let (rules, problems) = parse_replica_identity_rules(
            "public.orders:FULL, public.items:INDEX items_idx,s\\..*:nothing,x.y:Default",
        );
        assert!(problems.is_empty(), "{problems:?}");
        let ids: Vec<String> = rules.iter().map(|r| r.identity.to_string()).collect();
        assert_eq!(ids, ["FULL", "USING INDEX items_idx", "NOTHING", "DEFAULT"]);
        assert_eq!(
            replica_identity_for(&rules, "public", "ORDERS").unwrap(),
            Some(&ReplicaIdentity::Full),
            "table patterns ignore case"
        );
        assert_eq!(
            replica_identity_for(&rules, "public", "orders_2").unwrap(),
            None,
            "anchored"
        );
        assert_eq!(
            replica_identity_for(&rules, "s", "t").unwrap(),
            Some(&ReplicaIdentity::Nothing)
        );
        assert_eq!(
            rules[1].identity.clause(),
            "USING INDEX \"items_idx\"",
            "the index name as the server folds an unquoted one"
        );
        assert!(rules[1].identity.is_current("i", Some("items_idx")));
        assert!(!rules[1].identity.is_current("i", Some("other")));
        assert!(!rules[0].identity.is_current("d", None));
        assert!(rules[0].identity.is_current("f", None));

        let (overlapping, _) = parse_replica_identity_rules("public.a.*:FULL,public.ab:NOTHING");
        let e = replica_identity_for(&overlapping, "public", "ab").unwrap_err();
        assert_eq!(e, "More than one Regular expressions matched table public.ab");
    }

    #[test]
    fn bad_replica_identity_entries_are_named_with_debeziums_reason() {
        let (rules, problems) = parse_replica_identity_rules("public.orders:FULL,public.items:SOME,nocolon");
        assert_eq!(rules.len(), 1);
        assert_eq!(problems.len(), 2);
        assert_eq!(problems[0].0, "public.items:SOME");
        assert_eq!(
            problems[0].1,
            format!("public.items:SOME has an invalid format (expecting '{REPLICA_AUTO_SET_PATTERN}')")
        );
        assert_eq!(problems[1].0, "nocolon");
        let (_, problems) = parse_replica_identity_rules("public.items:INDEX");
        assert_eq!(problems.len(), 1, "INDEX needs a name");
        let (_, problems) = parse_replica_identity_rules("");
        assert_eq!(problems[0].1, "Must not be empty");
    }

    #[test]
    fn modes_have_debeziums_names_and_statements() {
        assert_eq!(
            SnapshotIsolationMode::from_name("REPEATABLE_READ"),
            Some(SnapshotIsolationMode::RepeatableRead)
        );
        assert_eq!(
            SnapshotIsolationMode::Serializable.transaction_characteristics(),
            "ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE"
        );
        assert_eq!(
            SnapshotLockingMode::from_name("Shared"),
            Some(SnapshotLockingMode::Shared)
        );
        assert_eq!(
            LsnFlushMode::from_name("connector_and_driver"),
            Some(LsnFlushMode::ConnectorAndDriver)
        );
        assert!(!LsnFlushMode::Manual.confirms_flush());
        // Java HashSet order (capacity 16, bucket = (h ^ h >>> 16) & 15 of String.hashCode).
        let names = |v: Vec<&str>| v.join(",");
        assert_eq!(
            names(SnapshotIsolationMode::names().collect()),
            "read_uncommitted,repeatable_read,read_committed,serializable"
        );
        assert_eq!(
            names(SnapshotLockingMode::names().collect()),
            "shared,custom,none"
        );
        assert_eq!(
            names(LsnFlushMode::names().collect()),
            "connector_and_driver,connector,manual"
        );
        assert!(LsnFlushMode::Connector.confirms_flush());
    }
}
