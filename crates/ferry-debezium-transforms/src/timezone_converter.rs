//! `io.debezium.transforms.TimezoneConverter`: rewrites the time-based fields of change
//! events (`before`/`after`, and the source block's `ts_*` when named) into another time
//! zone, for every event or those matched by `include.list`/`exclude.list` rules.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, FixedOffset, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use ferry_core::config::Width;
use ferry_core::java::time::{iso_fraction, iso_local_date};
use ferry_core::java::JavaPattern;
use ferry_core::{
    ConfigDef, ConfigError, ConfigMap, ConfigType, ConnectError, DataError, Importance, Record, Schema,
    Struct, Transformation, Value,
};

use crate::envelope::{self, AFTER, BEFORE, SOURCE};
use crate::util;

/// Java class name of the transform.
pub const CLASS: &str = "io.debezium.transforms.TimezoneConverter";

const CONVERTED_TIMEZONE: &str = "converted.timezone";
const INCLUDE_LIST: &str = "include.list";
const EXCLUDE_LIST: &str = "exclude.list";

const ZONED_TIMESTAMP: &str = "io.debezium.time.ZonedTimestamp";
const ZONED_TIME: &str = "io.debezium.time.ZonedTime";
const MICRO_TIMESTAMP: &str = "io.debezium.time.MicroTimestamp";
const NANO_TIMESTAMP: &str = "io.debezium.time.NanoTimestamp";
const TIMESTAMP: &str = "io.debezium.time.Timestamp";
const CONNECT_TIMESTAMP: &str = "org.apache.kafka.connect.data.Timestamp";
const UNSUPPORTED: &[&str] = &[
    "io.debezium.time.Date",
    "io.debezium.time.MicroTime",
    "io.debezium.time.NanoTime",
    "io.debezium.time.Time",
    "org.apache.kafka.connect.data.Date",
    "org.apache.kafka.connect.data.Time",
];
const EPOCH_FIELDS: &[&str] = &["ts_ms", "ts_us", "ts_ns"];
const LIST_PATTERN: &str = r#"^\[(source|topic|[".\w\s_]+):([".\w\s_]+(?::[".\w\s_]+)?(?:,|]$))+$"#;
const OFFSET_PATTERN: &str = r"^[+-]\d{2}:\d{2}(:\d{2})?$";

/// The zone values are converted to.
#[derive(Debug, Clone, Copy)]
enum Zone {
    Fixed(FixedOffset),
    Named(Tz),
}

impl Zone {
    fn parse(text: &str) -> Option<Zone> {
        let offset = JavaPattern::compile(OFFSET_PATTERN).ok()?;
        if offset.matches(text) {
            let sign = if text.starts_with('-') { -1 } else { 1 };
            let parts: Vec<i32> = text[1..].split(':').filter_map(|p| p.parse().ok()).collect();
            let secs = parts[0] * 3600 + parts[1] * 60 + parts.get(2).copied().unwrap_or(0);
            return FixedOffset::east_opt(sign * secs).map(Zone::Fixed);
        }
        text.parse::<Tz>().ok().map(Zone::Named)
    }

    /// `ZoneRules.getOffset(Instant)`.
    fn offset_at_instant(self, utc: NaiveDateTime) -> FixedOffset {
        match self {
            Zone::Fixed(o) => o,
            Zone::Named(tz) => tz.offset_from_utc_datetime(&utc).fix(),
        }
    }

    /// `ZoneRules.getOffset(LocalDateTime)`: in a gap or an overlap, the offset before the
    /// transition.
    fn offset_at_local(self, local: NaiveDateTime) -> FixedOffset {
        match self {
            Zone::Fixed(o) => o,
            Zone::Named(tz) => match tz.offset_from_local_datetime(&local).earliest() {
                Some(o) => o.fix(),
                None => tz
                    .offset_from_local_datetime(&(local - Duration::hours(3)))
                    .earliest()
                    .map_or_else(|| tz.offset_from_utc_datetime(&local).fix(), |o| o.fix()),
            },
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    All,
    Include,
    Exclude,
}

#[derive(Debug, Clone)]
struct Config {
    zone: Zone,
    include: bool,
    exclude: bool,
    topics: HashMap<String, HashSet<String>>,
    tables: HashMap<String, HashSet<String>>,
    unprefixed: HashMap<String, HashSet<String>>,
}

/// The time-zone converter.
#[derive(Debug, Default)]
pub struct TimezoneConverter {
    config: Option<Config>,
}

impl TimezoneConverter {
    /// An unconfigured transform.
    pub fn new() -> Self {
        Self::default()
    }
}

fn config_def() -> ConfigDef {
    let key = |name: &str, ty: ConfigType, display: &str, doc: &str| {
        util::debezium_field(name, ty, display)
            .width(Width::Medium)
            .importance(Importance::High)
            .doc(doc)
    };
    ConfigDef::new()
        .define(key(
            CONVERTED_TIMEZONE,
            ConfigType::String,
            "Converted Timezone",
            "The zone time-based fields are converted to: a region (Europe/Paris) or an offset (+08:00).",
        ))
        .define(key(
            INCLUDE_LIST,
            ConfigType::List,
            "Include List",
            "Rules selecting the events (and fields) to convert: source:TABLE[:FIELD], topic:TOPIC[:FIELD] or NAME:FIELD.",
        ))
        .define(key(
            EXCLUDE_LIST,
            ConfigType::List,
            "Exclude List",
            "Rules selecting the events (or fields) not to convert, in the include list's formats.",
        ))
}

fn invalid(message: &str) -> ConfigError {
    ConfigError::other(None, message)
}

impl Config {
    fn parse(props: &ConfigMap) -> Result<Config, ConfigError> {
        let p = config_def().parse(props)?;
        let zone_text = match p.string(CONVERTED_TIMEZONE) {
            Some(z) if !z.trim().is_empty() => z.to_owned(),
            z => {
                return Err(ConfigError::invalid(
                    CONVERTED_TIMEZONE,
                    z.unwrap_or("null"),
                    "A value is required",
                ))
            }
        };
        let include = p.list(INCLUDE_LIST).to_vec();
        let exclude = p.list(EXCLUDE_LIST).to_vec();
        let pattern = JavaPattern::compile(LIST_PATTERN).map_err(|e| invalid(&e.to_string()))?;
        let shown = |l: &[String]| format!("[{}]", l.join(", "));
        if !include.is_empty() && !pattern.matches(&shown(&include)) {
            return Err(invalid(
                "Invalid include list format. Please specify a list of rules in the format of \"source:<tablename>:<fieldnames>\", \"topic:<topicname>:<fieldnames>\", \"<matchname>:<fieldnames>\"",
            ));
        }
        if include.is_empty() && !exclude.is_empty() && !pattern.matches(&shown(&exclude)) {
            return Err(invalid(
                "Invalid exclude list format. Please specify a list of rules in the format of \"source:<tablename>:<fieldnames>\", \"topic:<topicname>:<fieldnames>\", \"<matchname>:<fieldnames>\"",
            ));
        }
        let zone = Zone::parse(&zone_text).ok_or_else(|| {
            invalid("Invalid timezone format. Please specify either a geographic timezone (e.g. America/Los_Angeles) or a UTC offset in the format of +/-hh:mm, (e.g. +08:00).")
        })?;
        if !include.is_empty() && !exclude.is_empty() {
            return Err(invalid(
                "Both include and exclude lists are specified. Please specify only one.",
            ));
        }
        let mut cfg = Config {
            zone,
            include: !include.is_empty(),
            exclude: !exclude.is_empty(),
            topics: HashMap::new(),
            tables: HashMap::new(),
            unprefixed: HashMap::new(),
        };
        let rules = if cfg.exclude { &exclude } else { &include };
        cfg.collect(rules);
        Ok(cfg)
    }

    /// Upstream's `collectTablesAndTopics`: a prefix carries over to later unprefixed items.
    fn collect(&mut self, rules: &[String]) {
        let mut common: Option<String> = None;
        for item in rules {
            let parts: Vec<&str> = item.split(':').collect();
            let (prefix, name, field) = match parts.len() {
                1 => (None, Some(parts[0]), None),
                2 | 3 if parts[0].eq_ignore_ascii_case(SOURCE) || parts[0].eq_ignore_ascii_case("topic") => {
                    (Some(parts[0]), Some(parts[1]), parts.get(2).copied())
                }
                2 | 3 => (None, Some(parts[0]), Some(parts[1])),
                _ => (None, None, None),
            };
            if let Some(p) = prefix {
                common = Some(p.to_owned());
            }
            let Some(name) = name else { continue };
            let map = match common.as_deref() {
                Some("topic") => &mut self.topics,
                Some(SOURCE) => &mut self.tables,
                _ => &mut self.unprefixed,
            };
            let set = map.entry(name.to_owned()).or_default();
            if let Some(f) = field {
                set.insert(f.to_owned());
            }
        }
    }

    /// `handleMatchNameAndFields`.
    fn matched(&self, table: Option<&str>, topic: &str) -> Option<&HashSet<String>> {
        if let Some(f) = self.topics.get(topic) {
            return Some(f);
        }
        if let Some(f) = table.and_then(|t| self.tables.get(t)) {
            return Some(f);
        }
        if let Some(f) = self.unprefixed.get(topic) {
            return Some(f);
        }
        table.and_then(|t| self.unprefixed.get(t))
    }
}

/// ISO_OFFSET_DATE_TIME / ISO_OFFSET_TIME offset text.
fn offset_text(o: FixedOffset) -> String {
    let secs = o.local_minus_utc();
    if secs == 0 {
        return "Z".into();
    }
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    let (h, m, s) = (a / 3600, (a / 60) % 60, a % 60);
    if s == 0 {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}:{m:02}:{s:02}")
    }
}

fn time_text(t: NaiveTime) -> String {
    format!(
        "{:02}:{:02}:{:02}{}",
        t.hour(),
        t.minute(),
        t.second(),
        iso_fraction(t.nanosecond())
    )
}

fn parse_offset_time(text: &str) -> Option<(NaiveTime, FixedOffset)> {
    let (time, offset) = if let Some(t) = text.strip_suffix('Z') {
        (t, FixedOffset::east_opt(0)?)
    } else {
        let at = text.rfind(['+', '-'])?;
        let o = &text[at..];
        let sign = if o.starts_with('-') { -1 } else { 1 };
        let parts: Vec<i32> = o[1..].split(':').filter_map(|p| p.parse().ok()).collect();
        let secs = parts.first()? * 3600 + parts.get(1)? * 60 + parts.get(2).copied().unwrap_or(0);
        (&text[..at], FixedOffset::east_opt(sign * secs)?)
    };
    let t = NaiveTime::parse_from_str(time, "%H:%M:%S%.f")
        .or_else(|_| NaiveTime::parse_from_str(time, "%H:%M"))
        .ok()?;
    Some((t, offset))
}

fn unparsable(what: &str, text: &str) -> DataError {
    DataError::new(format!("Text '{text}' could not be parsed as {what}"))
}

/// An epoch value in `unit` per second converted as upstream: the UTC wall-clock time
/// read as a local time of the zone.
fn shift_local(zone: Zone, value: i64, per_second: i64) -> Option<i64> {
    let secs = value.div_euclid(per_second);
    let sub = value.rem_euclid(per_second);
    let local = DateTime::<Utc>::from_timestamp(secs, 0)?.naive_utc();
    let offset = i64::from(zone.offset_at_local(local).local_minus_utc());
    Some((secs - offset) * per_second + sub)
}

fn convert(zone: Zone, schema_name: &str, value: &Value) -> Result<Value, DataError> {
    Ok(match (schema_name, value) {
        (ZONED_TIMESTAMP, Value::String(text)) => {
            let dt = DateTime::parse_from_rfc3339(text)
                .map_err(|_| unparsable("an ISO offset date-time", text))?;
            let offset = zone.offset_at_local(dt.naive_local());
            let shifted = dt.with_timezone(&offset);
            Value::String(format!(
                "{}T{}{}",
                iso_local_date(shifted.date_naive()),
                time_text(shifted.time()),
                offset_text(offset)
            ))
        }
        (ZONED_TIME, Value::String(text)) => {
            let (time, from) =
                parse_offset_time(text).ok_or_else(|| unparsable("an ISO offset time", text))?;
            let to = zone.offset_at_instant(Utc::now().naive_utc());
            let delta = i64::from(to.local_minus_utc() - from.local_minus_utc());
            let shifted = time.overflowing_add_signed(Duration::seconds(delta)).0;
            Value::String(format!("{}{}", time_text(shifted), offset_text(to)))
        }
        (MICRO_TIMESTAMP, Value::Int64(v)) => Value::Int64(shift_local(zone, *v, 1_000_000).unwrap_or(*v)),
        (NANO_TIMESTAMP, Value::Int64(v)) => Value::Int64(shift_local(zone, *v, 1_000_000_000).unwrap_or(*v)),
        (TIMESTAMP | CONNECT_TIMESTAMP, Value::Int64(v)) => {
            Value::Int64(shift_local(zone, *v, 1_000).unwrap_or(*v))
        }
        _ => value.clone(),
    })
}

/// The source block's `ts_*`: the instant plus the zone's offset at that instant.
fn convert_epoch(zone: Zone, field: &str, value: &Value) -> Result<Value, DataError> {
    let Value::Int64(v) = value else {
        return Err(DataError::new("Epoch field value should be a java.lang.Long"));
    };
    let per_second = match field {
        "ts_ms" => 1_000,
        "ts_us" => 1_000_000,
        _ => 1_000_000_000,
    };
    let secs = v.div_euclid(per_second);
    let instant = DateTime::<Utc>::from_timestamp(secs, 0)
        .map(|d| d.naive_utc())
        .ok_or_else(|| DataError::new("Epoch field value out of range"))?;
    let offset = i64::from(zone.offset_at_instant(instant).local_minus_utc());
    Ok(Value::Int64(v + offset * per_second))
}

/// `handleValueForFields` on one of before/after/source.
fn convert_struct(
    zone: Zone,
    block: &str,
    row: Struct,
    mode: Mode,
    fields: &HashSet<String>,
) -> Result<Struct, DataError> {
    let schema = row.schema().clone();
    let mut values = row.into_values();
    for (f, v) in schema.fields().iter().zip(values.iter_mut()) {
        let name = f.schema().name();
        let epoch = block == SOURCE && EPOCH_FIELDS.contains(&f.name());
        if name.is_none() && !epoch {
            continue;
        }
        let include = match mode {
            Mode::All => true,
            Mode::Include => fields.contains(f.name()),
            Mode::Exclude => !fields.contains(f.name()),
        };
        if !include {
            continue;
        }
        if let Some(n) = name.filter(|n| UNSUPPORTED.contains(n)) {
            tracing::warn!(
                field = f.name(),
                "Skipping conversion for unsupported logical type: {n}"
            );
            continue;
        }
        let supported = matches!(
            name,
            Some(
                ZONED_TIMESTAMP
                    | ZONED_TIME
                    | MICRO_TIMESTAMP
                    | NANO_TIMESTAMP
                    | TIMESTAMP
                    | CONNECT_TIMESTAMP
            )
        );
        if !(supported || epoch) {
            continue;
        }
        let current = match (&*v, f.schema().default_value()) {
            (Value::Null, Some(d)) => d.clone(),
            (Value::Null, None) => continue,
            (x, _) => x.clone(),
        };
        *v = match name {
            Some(n) => convert(zone, n, &current)?,
            None => convert_epoch(zone, f.name(), &current)?,
        };
    }
    Struct::from_values(schema, values)
}

fn table_of(envelope: &Struct) -> Option<String> {
    let source = util::get_struct(envelope, SOURCE).ok().flatten()?;
    util::get_string(source, "table")
        .ok()
        .flatten()
        .map(str::to_owned)
}

impl TimezoneConverter {
    /// `handleStructs`: converts before and after, and the source block when fields name it.
    fn handle(
        cfg: &Config,
        envelope: Struct,
        mode: Mode,
        fields: &HashSet<String>,
    ) -> Result<Struct, DataError> {
        let mut before = HashSet::new();
        let mut after = HashSet::new();
        let mut source = HashSet::new();
        for f in fields {
            if let Some(x) = f.strip_prefix("source.") {
                source.insert(x.to_owned());
            } else if let Some(x) = f.strip_prefix("before.") {
                before.insert(x.to_owned());
            } else if let Some(x) = f.strip_prefix("after.") {
                after.insert(x.to_owned());
            } else {
                before.insert(f.clone());
                after.insert(f.clone());
            }
        }
        let schema: Schema = envelope.schema().clone();
        let mut values = envelope.into_values();
        for (f, v) in schema.fields().iter().zip(values.iter_mut()) {
            let set = match f.name() {
                BEFORE => &before,
                AFTER => &after,
                SOURCE if !source.is_empty() => &source,
                _ => continue,
            };
            if let Value::Struct(s) = std::mem::take(v) {
                *v = Value::Struct(convert_struct(cfg.zone, f.name(), s, mode, set)?);
            }
        }
        Struct::from_values(schema, values)
    }
}

impl Transformation for TimezoneConverter {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        self.config = Some(Config::parse(config)?);
        Ok(())
    }

    fn apply(&mut self, mut record: Record) -> Result<Option<Record>, ConnectError> {
        let cfg = self
            .config
            .as_ref()
            .ok_or_else(|| ConnectError::config("TimezoneConverter used before configure"))?;
        if record.value.is_null() || !envelope::is_envelope(record.value_schema.as_ref()) {
            return Ok(Some(record));
        }
        let envelope = match std::mem::take(&mut record.value) {
            Value::Struct(s) => s,
            other => {
                return Err(util::require_struct(&other, "Timezone conversion")
                    .unwrap_err()
                    .into())
            }
        };
        let table = table_of(&envelope);
        let none = HashSet::new();
        let matched = cfg.matched(table.as_deref(), &record.topic);
        let action = if !cfg.include && !cfg.exclude {
            (matched.is_none()).then_some((Mode::All, &none))
        } else if cfg.include {
            matched.map(|f| {
                if f.is_empty() {
                    (Mode::All, &none)
                } else {
                    (Mode::Include, f)
                }
            })
        } else {
            match matched {
                None => Some((Mode::All, &none)),
                Some(f) if !f.is_empty() => Some((Mode::Exclude, f)),
                Some(_) => None,
            }
        };
        record.value = Value::Struct(match action {
            Some((mode, fields)) => Self::handle(cfg, envelope, mode, fields)?,
            None => envelope,
        });
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_names_parse() {
        assert!(matches!(Zone::parse("+05:30"), Some(Zone::Fixed(o)) if o.local_minus_utc() == 19_800));
        assert!(matches!(Zone::parse("Europe/Berlin"), Some(Zone::Named(_))));
        assert!(Zone::parse("Mars/Olympus").is_none());
        assert!(Zone::parse("5:30").is_none());
        assert_eq!(offset_text(FixedOffset::east_opt(0).unwrap()), "Z");
        assert_eq!(offset_text(FixedOffset::west_opt(3600 * 8).unwrap()), "-08:00");
    }
}
