//! PostgreSQL types to Connect schemas and values, as Debezium maps them.
//!
//! Values arrive in PostgreSQL's text format (pgoutput without `binary`, and
//! the snapshot's simple-query rows), so one converter serves both.

use std::str::FromStr;

use base64::Engine;
use bigdecimal::BigDecimal;
use bytes::Bytes;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use ferry_core::{Schema, SchemaBuilder, SchemaType, Struct, Value};

use crate::config::{BinaryMode, DecimalMode, HStoreMode, IntervalMode, PostgresConfig, TimePrecisionMode};

/// Well-known type OIDs.
#[allow(missing_docs)]
pub mod oid {
    pub const BOOL: u32 = 16;
    pub const BYTEA: u32 = 17;
    pub const CHAR: u32 = 18;
    pub const NAME: u32 = 19;
    pub const INT8: u32 = 20;
    pub const INT2: u32 = 21;
    pub const INT4: u32 = 23;
    pub const TEXT: u32 = 25;
    pub const OID: u32 = 26;
    pub const JSON: u32 = 114;
    pub const XML: u32 = 142;
    pub const CIDR: u32 = 650;
    pub const FLOAT4: u32 = 700;
    pub const FLOAT8: u32 = 701;
    pub const MONEY: u32 = 790;
    pub const MACADDR: u32 = 829;
    pub const INET: u32 = 869;
    pub const BPCHAR: u32 = 1042;
    pub const VARCHAR: u32 = 1043;
    pub const DATE: u32 = 1082;
    pub const TIME: u32 = 1083;
    pub const TIMESTAMP: u32 = 1114;
    pub const TIMESTAMPTZ: u32 = 1184;
    pub const INTERVAL: u32 = 1186;
    pub const TIMETZ: u32 = 1266;
    pub const BIT: u32 = 1560;
    pub const NUMERIC: u32 = 1700;
    pub const UUID: u32 = 2950;
    pub const JSONB: u32 = 3802;
    pub const POINT: u32 = 600;
    pub const MACADDR8: u32 = 774;
    pub const VARBIT: u32 = 1562;
    pub const TSVECTOR: u32 = 3614;
    pub const REFCURSOR: u32 = 1790;
    pub const INT4RANGE: u32 = 3904;
    pub const NUMRANGE: u32 = 3906;
    pub const TSRANGE: u32 = 3908;
    pub const TSTZRANGE: u32 = 3910;
    pub const DATERANGE: u32 = 3912;
    pub const INT8RANGE: u32 = 3926;
}

/// Schema names Debezium uses.
#[allow(missing_docs)]
pub mod names {
    pub const UUID: &str = "io.debezium.data.Uuid";
    pub const JSON: &str = "io.debezium.data.Json";
    pub const BITS: &str = "io.debezium.data.Bits";
    pub const TSVECTOR: &str = "io.debezium.data.Tsvector";
    pub const XML: &str = "io.debezium.data.Xml";
    pub const LTREE: &str = "io.debezium.data.Ltree";
    pub const ENUM: &str = "io.debezium.data.Enum";
    pub const VARIABLE_SCALE_DECIMAL: &str = "io.debezium.data.VariableScaleDecimal";
    pub const DATE: &str = "io.debezium.time.Date";
    pub const TIME: &str = "io.debezium.time.Time";
    pub const MICRO_TIME: &str = "io.debezium.time.MicroTime";
    pub const TIMESTAMP: &str = "io.debezium.time.Timestamp";
    pub const MICRO_TIMESTAMP: &str = "io.debezium.time.MicroTimestamp";
    pub const ZONED_TIMESTAMP: &str = "io.debezium.time.ZonedTimestamp";
    pub const ZONED_TIME: &str = "io.debezium.time.ZonedTime";
    pub const MICRO_DURATION: &str = "io.debezium.time.MicroDuration";
    pub const INTERVAL: &str = "io.debezium.time.Interval";
}

/// What a column's values need for conversion.
#[derive(Clone, Debug, PartialEq)]
pub struct PgType {
    /// Type OID.
    pub oid: u32,
    /// Type modifier (-1 when none).
    pub typmod: i32,
    /// Labels when the type is an enum.
    pub enum_values: Option<Vec<String>>,
    /// Element type when the type is an array.
    pub element: Option<Box<PgType>>,
    /// Type name (`pg_type.typname`), which identifies extension types such as `citext`.
    pub name: Option<String>,
}

impl PgType {
    /// A scalar type.
    pub fn scalar(oid: u32, typmod: i32) -> PgType {
        PgType {
            oid,
            typmod,
            enum_values: None,
            element: None,
            name: None,
        }
    }

    fn numeric_precision_scale(&self) -> Option<(i32, i32)> {
        if self.typmod < 4 {
            return None;
        }
        let t = self.typmod - 4;
        Some(((t >> 16) & 0xFFFF, t & 0xFFFF))
    }

    fn time_precision(&self) -> i32 {
        if self.typmod < 0 {
            6
        } else {
            self.typmod
        }
    }
}

/// pgjdbc's length of types it cannot bound (`unknownLength`).
const UNKNOWN_LENGTH: i32 = i32::MAX;

impl PgType {
    /// Debezium's `Column.typeName()`: the catalog's type name (`varchar`, `int4`, `_text`).
    pub fn source_type_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.oid.to_string())
    }

    /// Whether Debezium reports the column with a JDBC character type (CHAR, VARCHAR), the
    /// only columns `MaskStrings` masks or hashes: text, varchar, bpchar, "char" and name.
    pub fn is_jdbc_character(&self) -> bool {
        self.element.is_none()
            && self.enum_values.is_none()
            && matches!(
                self.oid,
                oid::TEXT | oid::VARCHAR | oid::BPCHAR | oid::CHAR | oid::NAME
            )
    }

    /// Debezium's `Column.length()`: pgjdbc's `TypeInfoCache.getPrecision(oid, typmod)`,
    /// or its display size where the precision is 0, as JDBC's `COLUMN_SIZE` and the
    /// pgoutput decoder's ColumnMetaData take it.
    pub fn source_length(&self) -> i32 {
        use oid::*;
        let precision = match self.oid {
            INT2 => 5,
            INT4 | OID => 10,
            INT8 => 19,
            FLOAT4 => 8,
            FLOAT8 => 17,
            NUMERIC => self.numeric_precision_scale().map_or(0, |(p, _)| p),
            CHAR | BOOL => 1,
            BPCHAR | VARCHAR if self.typmod >= 4 => self.typmod - 4,
            BIT => self.typmod,
            VARBIT if self.typmod >= 0 => self.typmod,
            DATE | TIME | TIMETZ | TIMESTAMP | TIMESTAMPTZ | INTERVAL => 0,
            _ => UNKNOWN_LENGTH,
        };
        if precision != 0 {
            return precision;
        }
        // getDisplaySize
        let seconds = match self.typmod {
            -1 => 7,
            t if t > 0 => t + 1,
            _ => 0,
        };
        match self.oid {
            DATE => 13,
            TIME => 8 + seconds,
            TIMETZ => 8 + seconds + 6,
            TIMESTAMP => 22 + seconds,
            TIMESTAMPTZ => 22 + seconds + 6,
            INTERVAL => 49,
            // Unconstrained numeric: 131089 digits.
            NUMERIC => 131_089,
            _ => UNKNOWN_LENGTH,
        }
    }

    /// Debezium's `Column.scale()`: pgjdbc's `TypeInfoCache.getScale(oid, typmod)`.
    pub fn source_scale(&self) -> i32 {
        use oid::*;
        match self.oid {
            FLOAT4 => 8,
            FLOAT8 => 17,
            NUMERIC => self.numeric_precision_scale().map_or(0, |(_, s)| s),
            TIME | TIMETZ | TIMESTAMP | TIMESTAMPTZ => {
                if self.typmod == -1 {
                    6
                } else {
                    self.typmod
                }
            }
            INTERVAL => {
                if self.typmod == -1 {
                    6
                } else {
                    self.typmod & 0xFFFF
                }
            }
            _ => 0,
        }
    }
}

/// How values of one column are converted; built once per table.
#[derive(Clone, Debug)]
pub struct Converter {
    kind: Kind,
    schema: Schema,
}

#[derive(Clone, Debug)]
enum Kind {
    Bool,
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Text,
    Decimal {
        scale: Option<i32>,
    },
    VarDecimal,
    DecimalDouble,
    DecimalString,
    /// money, precise: a decimal of `money.fraction.digits` scale.
    Money(u8),
    MoneyDouble,
    /// money, string mode; the scale is that of the fallback zero.
    MoneyString(u8),
    Date,
    Time {
        micros: bool,
    },
    Timestamp {
        micros: bool,
    },
    TimestampTz {
        width: i32,
    },
    TimeTz,
    Interval {
        string: bool,
    },
    Bytea(BinaryMode),
    HStore(HStoreMode),
    BitBool,
    Bits,
    Point,
    Array(Box<Converter>),
}

/// Conversion options taken from the connector configuration.
#[derive(Clone, Copy, Debug)]
pub struct TypeOptions {
    /// decimal.handling.mode
    pub decimal: DecimalMode,
    /// time.precision.mode
    pub time: TimePrecisionMode,
    /// binary.handling.mode
    pub binary: BinaryMode,
    /// interval.handling.mode
    pub interval: IntervalMode,
    /// hstore.handling.mode
    pub hstore: HStoreMode,
    /// include.unknown.datatypes
    pub include_unknown: bool,
    /// money.fraction.digits
    pub money_fraction_digits: u8,
}

impl TypeOptions {
    /// Options of a configuration.
    pub fn from_config(c: &PostgresConfig) -> Self {
        TypeOptions {
            decimal: c.decimal_mode,
            time: c.time_precision_mode,
            binary: c.binary_mode,
            interval: c.interval_mode,
            hstore: c.hstore_mode,
            include_unknown: c.include_unknown_datatypes,
            money_fraction_digits: c.money_fraction_digits,
        }
    }
}

impl Default for TypeOptions {
    fn default() -> Self {
        TypeOptions {
            decimal: DecimalMode::Precise,
            time: TimePrecisionMode::Adaptive,
            binary: BinaryMode::Bytes,
            interval: IntervalMode::Numeric,
            hstore: HStoreMode::Json,
            include_unknown: false,
            money_fraction_digits: 2,
        }
    }
}

fn named(ty: SchemaType, name: &str) -> SchemaBuilder {
    Schema::builder(ty).name(name).version(1)
}

/// The schema `binary.handling.mode` gives binary values.
pub fn binary_schema(mode: BinaryMode) -> SchemaBuilder {
    match mode {
        BinaryMode::Bytes => Schema::builder(SchemaType::Bytes),
        _ => Schema::builder(SchemaType::String),
    }
}

/// A binary value as `binary.handling.mode` writes it.
pub fn binary_value(mode: BinaryMode, raw: Bytes) -> Value {
    match mode {
        BinaryMode::Bytes => Value::Bytes(raw),
        BinaryMode::Base64 => Value::String(base64::engine::general_purpose::STANDARD.encode(raw)),
        BinaryMode::Base64UrlSafe => Value::String(base64::engine::general_purpose::URL_SAFE.encode(raw)),
        BinaryMode::Hex => Value::String(raw.iter().map(|b| format!("{b:02x}")).collect()),
    }
}

/// The variable scale decimal struct schema.
pub fn variable_scale_decimal(optional: bool) -> Schema {
    Schema::struct_builder()
        .name(names::VARIABLE_SCALE_DECIMAL)
        .version(1)
        .doc("Variable scaled decimal")
        .field("scale", Schema::int32())
        .field("value", Schema::bytes())
        .set_optional(optional)
        .build()
}

impl Converter {
    /// The converter for a type, or `None` when Debezium skips the column
    /// (unknown types without `include.unknown.datatypes`).
    pub fn for_type(ty: &PgType, optional: bool, opts: &TypeOptions) -> Option<Converter> {
        let (kind, builder) = Self::kind_for(ty, opts)?;
        let schema = match kind {
            Kind::VarDecimal => variable_scale_decimal(optional),
            _ => builder.set_optional(optional).build(),
        };
        Some(Converter { kind, schema })
    }

    fn kind_for(ty: &PgType, opts: &TypeOptions) -> Option<(Kind, SchemaBuilder)> {
        use oid::*;
        if let Some(labels) = &ty.enum_values {
            return Some((
                Kind::Text,
                named(SchemaType::String, names::ENUM).parameter("allowed", labels.join(",")),
            ));
        }
        if let Some(elem) = &ty.element {
            // Arrays Debezium has no schema for (DBZ-459): the column is skipped.
            if matches!(
                elem.oid,
                MONEY | NAME | INTERVAL | XML | POINT | VARBIT | REFCURSOR
            ) {
                return None;
            }
            // Enum elements keep Enum.builder's required schema, as Debezium builds them.
            let inner = Converter::for_type(elem, elem.enum_values.is_none(), opts)?;
            let b = Schema::array(inner.schema.clone());
            return Some((Kind::Array(Box::new(inner)), b));
        }
        match ty.name.as_deref() {
            Some("citext") => return Some((Kind::Text, Schema::builder(SchemaType::String))),
            Some("ltree") => return Some((Kind::Text, named(SchemaType::String, names::LTREE))),
            Some("isbn") => return Some((Kind::Text, Schema::builder(SchemaType::String))),
            Some("hstore") => {
                let b = match opts.hstore {
                    HStoreMode::Json => named(SchemaType::String, names::JSON),
                    HStoreMode::Map => Schema::map(Schema::string(), Schema::optional_string()),
                };
                return Some((Kind::HStore(opts.hstore), b));
            }
            _ => {}
        }
        Some(match ty.oid {
            BOOL => (Kind::Bool, Schema::builder(SchemaType::Boolean)),
            INT2 => (Kind::Int16, Schema::builder(SchemaType::Int16)),
            INT4 => (Kind::Int32, Schema::builder(SchemaType::Int32)),
            INT8 | OID => (Kind::Int64, Schema::builder(SchemaType::Int64)),
            FLOAT4 => (Kind::Float32, Schema::builder(SchemaType::Float32)),
            FLOAT8 => (Kind::Float64, Schema::builder(SchemaType::Float64)),
            TEXT | VARCHAR | BPCHAR | CHAR | NAME | INET | CIDR | MACADDR | MACADDR8 | INT4RANGE
            | NUMRANGE | TSRANGE | TSTZRANGE | DATERANGE | INT8RANGE => {
                (Kind::Text, Schema::builder(SchemaType::String))
            }
            UUID => (Kind::Text, named(SchemaType::String, names::UUID)),
            JSON | JSONB => (Kind::Text, named(SchemaType::String, names::JSON)),
            XML => (Kind::Text, named(SchemaType::String, names::XML)),
            TSVECTOR => (Kind::Text, named(SchemaType::String, names::TSVECTOR)),
            NUMERIC => {
                let ps = ty.numeric_precision_scale();
                match opts.decimal {
                    DecimalMode::Double => (Kind::DecimalDouble, Schema::builder(SchemaType::Float64)),
                    DecimalMode::String => (Kind::DecimalString, Schema::builder(SchemaType::String)),
                    DecimalMode::Precise => match ps {
                        Some((p, s)) if !(p == 0 && s == 0) => (
                            Kind::Decimal { scale: Some(s) },
                            Schema::decimal(s).parameter("connect.decimal.precision", p.to_string()),
                        ),
                        _ => (Kind::VarDecimal, Schema::struct_builder()),
                    },
                }
            }
            MONEY => match opts.decimal {
                DecimalMode::Double => (Kind::MoneyDouble, Schema::builder(SchemaType::Float64)),
                DecimalMode::String => (
                    Kind::MoneyString(opts.money_fraction_digits),
                    Schema::builder(SchemaType::String),
                ),
                DecimalMode::Precise => (
                    Kind::Money(opts.money_fraction_digits),
                    Schema::decimal(i32::from(opts.money_fraction_digits)),
                ),
            },
            DATE => match opts.time {
                TimePrecisionMode::Connect => (Kind::Date, Schema::date()),
                _ => (Kind::Date, named(SchemaType::Int32, names::DATE)),
            },
            TIME => {
                let p = ty.time_precision();
                match opts.time {
                    TimePrecisionMode::Connect => (Kind::Time { micros: false }, Schema::time()),
                    TimePrecisionMode::AdaptiveTimeMicroseconds => (
                        Kind::Time { micros: true },
                        named(SchemaType::Int64, names::MICRO_TIME),
                    ),
                    TimePrecisionMode::Adaptive if p <= 3 => (
                        Kind::Time { micros: false },
                        named(SchemaType::Int32, names::TIME),
                    ),
                    TimePrecisionMode::Adaptive => (
                        Kind::Time { micros: true },
                        named(SchemaType::Int64, names::MICRO_TIME),
                    ),
                }
            }
            TIMESTAMP => {
                let p = ty.time_precision();
                match opts.time {
                    TimePrecisionMode::Connect => (Kind::Timestamp { micros: false }, Schema::timestamp()),
                    _ if p <= 3 => (
                        Kind::Timestamp { micros: false },
                        named(SchemaType::Int64, names::TIMESTAMP),
                    ),
                    _ => (
                        Kind::Timestamp { micros: true },
                        named(SchemaType::Int64, names::MICRO_TIMESTAMP),
                    ),
                }
            }
            TIMESTAMPTZ => (
                Kind::TimestampTz {
                    width: ty.time_precision(),
                },
                named(SchemaType::String, names::ZONED_TIMESTAMP),
            ),
            TIMETZ => (Kind::TimeTz, named(SchemaType::String, names::ZONED_TIME)),
            INTERVAL => match opts.interval {
                IntervalMode::Numeric => (
                    Kind::Interval { string: false },
                    named(SchemaType::Int64, names::MICRO_DURATION),
                ),
                IntervalMode::String => (
                    Kind::Interval { string: true },
                    named(SchemaType::String, names::INTERVAL),
                ),
            },
            BYTEA => (Kind::Bytea(opts.binary), binary_schema(opts.binary)),
            BIT if ty.typmod <= 1 => (Kind::BitBool, Schema::builder(SchemaType::Boolean)),
            VARBIT if ty.typmod == 1 => (Kind::BitBool, Schema::builder(SchemaType::Boolean)),
            // bit(n), varbit(n), varbit: little-endian bytes of the bit string; an unbounded
            // varbit has length Integer.MAX_VALUE, as Debezium reads it.
            BIT | VARBIT if ty.typmod > 1 || (ty.oid == VARBIT && ty.typmod < 0) => {
                let length = if ty.typmod < 0 { i32::MAX } else { ty.typmod };
                (
                    Kind::Bits,
                    named(SchemaType::Bytes, names::BITS).parameter("length", length.to_string()),
                )
            }
            POINT => (Kind::Point, crate::geometry::point_schema()),
            _ if opts.include_unknown => (Kind::Bytea(opts.binary), binary_schema(opts.binary)),
            _ => return None,
        })
    }

    /// The field schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Converts a text-format value.
    pub fn convert(&self, text: &str) -> Result<Value, String> {
        convert_kind(&self.kind, &self.schema, text)
    }

    /// Converts raw bytes (for unknown types kept as bytes) or text.
    pub fn convert_bytes(&self, raw: &Bytes) -> Result<Value, String> {
        let text = std::str::from_utf8(raw).map_err(|e| format!("invalid UTF-8: {e}"))?;
        self.convert(text)
    }

    /// The value Debezium's converters give a required column that has no value (its
    /// `convertValue` fallback): e.g. the non-key columns of a REPLICA IDENTITY DEFAULT
    /// delete's old-key tuple. `Null` for optional columns.
    pub fn fallback(&self) -> Value {
        if self.schema.is_optional() {
            return Value::Null;
        }
        if let Some(d) = self.schema.default_value() {
            return d.clone();
        }
        match &self.kind {
            Kind::Bool | Kind::BitBool => Value::Boolean(false),
            Kind::Int16 => Value::Int16(0),
            Kind::Int32 | Kind::Date => Value::Int32(0),
            Kind::Int64 | Kind::Timestamp { .. } | Kind::Interval { string: false } => Value::Int64(0),
            Kind::Time { micros: true } => Value::Int64(0),
            Kind::Time { micros: false } => Value::Int32(0),
            Kind::Float32 => Value::Float32(0.0),
            Kind::Float64 | Kind::DecimalDouble | Kind::MoneyDouble => Value::Float64(0.0),
            Kind::Text => Value::String(String::new()),
            Kind::DecimalString => Value::String("0".into()),
            // BigDecimal.ZERO.setScale(moneyFractionDigits).toString()
            Kind::MoneyString(digits) => Value::String(money_zero(*digits).to_string()),
            Kind::Decimal { scale } => {
                Value::Decimal(BigDecimal::from(0).with_scale(scale.unwrap_or(0) as i64))
            }
            Kind::Money(digits) => Value::Decimal(money_zero(*digits)),
            Kind::VarDecimal => convert_kind(&self.kind, &self.schema, "0").unwrap_or(Value::Null),
            Kind::TimestampTz { .. } => Value::String("1970-01-01T00:00:00Z".into()),
            Kind::TimeTz => Value::String("00:00:00Z".into()),
            Kind::Interval { string: true } => Value::String("P0Y0M0DT0H0M0S".into()),
            Kind::Bytea(BinaryMode::Bytes) => Value::Bytes(Bytes::new()),
            Kind::Bytea(_) => Value::String(String::new()),
            Kind::Array(_) => Value::Array(Vec::new()),
            Kind::Bits => Value::Bytes(Bytes::new()),
            // convertPoint's fallback: Point.createValue(schema, 0, 0).
            Kind::Point => crate::geometry::point_value(&self.schema, 0.0, 0.0),
            Kind::HStore(HStoreMode::Json) => Value::String("{}".into()),
            Kind::HStore(HStoreMode::Map) => Value::Map(Vec::new()),
        }
    }

    /// The same converter with a default value in its schema (the fallback of a required column).
    pub fn with_default(mut self, default: Value) -> Converter {
        self.schema = self.schema.to_builder().default_value(default).build();
        self
    }

    /// What an unchanged TOASTed value becomes: `placeholder` where the type can hold a
    /// string, as Debezium's UnchangedToastedReplicationMessageColumn gives it.
    pub fn toast_placeholder(&self, placeholder: &str) -> Value {
        match &self.kind {
            // DBZ-7582: an hstore holds the placeholder as key and value.
            Kind::HStore(mode) => hstore_value(
                *mode,
                vec![(placeholder.to_string(), Some(placeholder.to_string()))],
            ),
            _ => toast_placeholder(&self.schema, placeholder),
        }
    }
}

/// The placeholder value for an unchanged TOASTed column of `schema`.
fn toast_placeholder(schema: &Schema, placeholder: &str) -> Value {
    use ferry_core::SchemaType;
    match schema.schema_type() {
        SchemaType::String => Value::String(placeholder.to_string()),
        SchemaType::Bytes if !schema.is_logical(ferry_core::logical::DECIMAL) => {
            Value::Bytes(bytes::Bytes::copy_from_slice(placeholder.as_bytes()))
        }
        // UnchangedToastedPlaceholder: text arrays hold the placeholder, int/bigint (and date)
        // arrays its bytes as numbers, bytea arrays its bytes.
        SchemaType::Array => match schema.value_schema().map(|s| s.schema_type()) {
            Some(SchemaType::String) => Value::Array(vec![Value::String(placeholder.to_string())]),
            Some(SchemaType::Int32) => Value::Array(
                placeholder
                    .bytes()
                    .map(|b| Value::Int32(b as i8 as i32))
                    .collect(),
            ),
            Some(SchemaType::Int64) => Value::Array(
                placeholder
                    .bytes()
                    .map(|b| Value::Int64(b as i8 as i64))
                    .collect(),
            ),
            Some(SchemaType::Bytes) => Value::Array(vec![Value::Bytes(bytes::Bytes::copy_from_slice(
                placeholder.as_bytes(),
            ))]),
            _ => Value::Null,
        },
        _ => Value::Null,
    }
}

/// An hstore as Debezium writes it: entries in the order of the `HashMap` pgjdbc's
/// `HStoreConverter` fills.
fn hstore_value(mode: HStoreMode, entries: Vec<(String, Option<String>)>) -> Value {
    let entries = crate::offset::java_hashmap_iteration(entries);
    match mode {
        HStoreMode::Json => {
            let map: ferry_core::serde_json::Map<String, ferry_core::serde_json::Value> = entries
                .into_iter()
                .map(|(k, v)| {
                    (
                        k,
                        v.map_or(
                            ferry_core::serde_json::Value::Null,
                            ferry_core::serde_json::Value::String,
                        ),
                    )
                })
                .collect();
            Value::String(ferry_core::serde_json::Value::Object(map).to_string())
        }
        HStoreMode::Map => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (Value::String(k), v.map_or(Value::Null, Value::String)))
                .collect(),
        ),
    }
}

/// A bit string (`'1011'`, most significant bit first) as the bytes of Java's
/// `BitSet.toByteArray`: little-endian, the last character is bit 0, no trailing zero bytes.
pub fn bits_little_endian(text: &str) -> Result<Vec<u8>, String> {
    let mut out = vec![0u8; text.len().div_ceil(8)];
    for (i, c) in text.bytes().rev().enumerate() {
        match c {
            b'1' => out[i / 8] |= 1 << (i % 8),
            b'0' => {}
            _ => return bad("bit string", text),
        }
    }
    while out.last() == Some(&0) {
        out.pop();
    }
    Ok(out)
}

/// Parses hstore's text output: `"k"=>"v", "k2"=>NULL` (keys and values quoted, `\` escapes).
pub fn parse_hstore(text: &str) -> Result<Vec<(String, Option<String>)>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let quoted = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| -> Result<String, String> {
        if chars.next() != Some('"') {
            return Err(format!("cannot convert '{text}' to hstore: expected '\"'"));
        }
        let mut s = String::new();
        loop {
            match chars.next() {
                Some('\\') => match chars.next() {
                    Some(c) => s.push(c),
                    None => break,
                },
                Some('"') => return Ok(s),
                Some(c) => s.push(c),
                None => break,
            }
        }
        Err(format!("cannot convert '{text}' to hstore: unterminated string"))
    };
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let key = quoted(&mut chars)?;
        for want in ['=', '>'] {
            if chars.next() != Some(want) {
                return Err(format!("cannot convert '{text}' to hstore: expected '=>'"));
            }
        }
        let value = if chars.peek() == Some(&'"') {
            Some(quoted(&mut chars)?)
        } else {
            let word: String = chars.by_ref().take(4).collect();
            if word != "NULL" {
                return Err(format!("cannot convert '{text}' to hstore: expected a value"));
            }
            None
        };
        // A later duplicate key wins, as in HashMap.put.
        out.retain(|(k, _): &(String, Option<String>)| k != &key);
        out.push((key, value));
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            Some(',') | None => {}
            Some(_) => return Err(format!("cannot convert '{text}' to hstore: expected ','")),
        }
    }
    Ok(out)
}

fn bad<T>(what: &str, text: &str) -> Result<T, String> {
    Err(format!("cannot convert '{text}' to {what}"))
}

fn convert_kind(kind: &Kind, schema: &Schema, text: &str) -> Result<Value, String> {
    Ok(match kind {
        Kind::Bool | Kind::BitBool => match text {
            "t" | "true" | "1" => Value::Boolean(true),
            "f" | "false" | "0" => Value::Boolean(false),
            _ => return bad("boolean", text),
        },
        Kind::Int16 => Value::Int16(text.parse().or_else(|_| bad("int16", text))?),
        Kind::Int32 => Value::Int32(text.parse().or_else(|_| bad("int32", text))?),
        Kind::Int64 => Value::Int64(text.parse().or_else(|_| bad("int64", text))?),
        Kind::Float32 => Value::Float32(parse_float(text)? as f32),
        Kind::Float64 => Value::Float64(parse_float(text)?),
        Kind::Text => Value::String(text.to_string()),
        // PostgreSQL writes numeric without exponents; one in the text (hostile or corrupt
        // input) could make the rescale below allocate without bound.
        Kind::Decimal { .. } | Kind::VarDecimal | Kind::Money(_) if text.contains(['e', 'E']) => {
            return bad("numeric", text)
        }
        Kind::Decimal { scale } => match BigDecimal::from_str(text) {
            Ok(d) => {
                let d = match scale {
                    Some(s) => d.with_scale(*s as i64),
                    None => d,
                };
                Value::Decimal(d)
            }
            Err(_) => Value::Null, // NaN/Infinity cannot be represented precisely
        },
        Kind::VarDecimal => match BigDecimal::from_str(text) {
            Ok(d) => {
                // Debezium strips trailing zeros and never goes below scale 0.
                let (unscaled, scale) = strip_trailing_zeros(d).as_bigint_and_exponent();
                let mut s = Struct::new(schema.clone());
                s.put_unchecked(0, Value::Int32(scale as i32));
                s.put_unchecked(1, Value::Bytes(Bytes::from(unscaled.to_signed_bytes_be())));
                Value::Struct(s)
            }
            Err(_) => Value::Null,
        },
        Kind::DecimalDouble => Value::Float64(parse_float(text)?),
        // SpecialValueDecimal: toPlainString, or the special value's enum name.
        Kind::DecimalString => Value::String(match text {
            "NaN" => "NAN".to_string(),
            "Infinity" => "POSITIVE_INFINITY".to_string(),
            "-Infinity" => "NEGATIVE_INFINITY".to_string(),
            _ => text.to_string(),
        }),
        Kind::MoneyDouble => Value::Float64(parse_float(&strip_money(text))?),
        // PostgresMoney.parse(...).toPlainString()
        Kind::MoneyString(_) => Value::String(strip_money(text)),
        // setScale(moneyFractionDigits, RoundingMode.HALF_UP)
        Kind::Money(digits) => Value::Decimal(
            BigDecimal::from_str(&strip_money(text))
                .map_err(|_| format!("cannot convert '{text}' to money"))?
                .with_scale_round(i64::from(*digits), bigdecimal::RoundingMode::HalfUp),
        ),
        Kind::Date => match text {
            // Debezium's POSITIVE/NEGATIVE_INFINITY_LOCAL_DATE (-5877611-06-21 and -22) as epoch days.
            "infinity" => Value::Int32(-2_147_472_692),
            "-infinity" => Value::Int32(-2_147_472_691),
            _ => {
                let (body, bc) = split_era(text);
                let d = parse_date(body, bc).ok_or_else(|| format!("cannot convert '{text}' to date"))?;
                let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
                Value::Int32((d - epoch).num_days() as i32)
            }
        },
        Kind::Time { micros } => {
            let us = parse_time_micros(text)?;
            if *micros {
                Value::Int64(us)
            } else {
                Value::Int32((us / 1000) as i32)
            }
        }
        Kind::Timestamp { micros } => {
            let us = match text {
                // PGStatement.DATE_POSITIVE/NEGATIVE_INFINITY, read as microseconds (as Debezium does).
                "infinity" => 9_223_372_036_825_200_000,
                "-infinity" => -9_223_372_036_832_400_000,
                _ => parse_timestamp(text)?.and_utc().timestamp_micros(),
            };
            Value::Int64(if *micros { us } else { us.div_euclid(1000) })
        }
        Kind::TimestampTz { width } => Value::String(timestamptz_to_iso(text, *width)?),
        Kind::TimeTz => Value::String(timetz_to_iso(text)?),
        Kind::Interval { string } => {
            let iv = parse_interval(text)?;
            if *string {
                Value::String(iv.to_iso())
            } else {
                Value::Int64(iv.micros())
            }
        }
        Kind::Bytea(mode) => binary_value(*mode, Bytes::from(parse_bytea(text)?)),
        Kind::HStore(mode) => hstore_value(*mode, parse_hstore(text)?),
        Kind::Point => {
            let (x, y) = crate::geometry::parse_point(text)?;
            crate::geometry::point_value(schema, x, y)
        }
        Kind::Bits => Value::Bytes(Bytes::from(bits_little_endian(text)?)),
        Kind::Array(inner) => {
            let items = parse_array(text)?;
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                out.push(match item {
                    None => Value::Null,
                    Some(s) => inner.convert(&s)?,
                });
            }
            Value::Array(out)
        }
    })
}

/// `BigDecimal.stripTrailingZeros()` followed by `setScale(0)` when the scale went negative.
fn strip_trailing_zeros(d: BigDecimal) -> BigDecimal {
    let (mut unscaled, mut scale) = d.as_bigint_and_exponent();
    let ten = bigdecimal::num_bigint::BigInt::from(10);
    let zero = bigdecimal::num_bigint::BigInt::from(0);
    while scale > 0 && unscaled != zero && (&unscaled % &ten) == zero {
        unscaled /= &ten;
        scale -= 1;
    }
    if unscaled == zero {
        scale = 0;
    }
    BigDecimal::new(unscaled, scale)
}

/// Splits PostgreSQL's ` BC` era suffix off a date/time text.
fn split_era(text: &str) -> (&str, bool) {
    match text.strip_suffix(" BC") {
        Some(t) => (t, true),
        None => (text, false),
    }
}

/// `YYYY-MM-DD` (years may have more than four digits); year `y` BC is proleptic year `1 - y`.
fn parse_date(text: &str, bc: bool) -> Option<NaiveDate> {
    let mut parts = text.splitn(3, '-');
    let y: i32 = parts.next()?.parse().ok()?;
    let m: u32 = parts.next()?.parse().ok()?;
    let d: u32 = parts.next()?.parse().ok()?;
    NaiveDate::from_ymd_opt(if bc { 1 - y } else { y }, m, d)
}

/// `YYYY-MM-DD HH:MM:SS[.f]`.
fn parse_date_time(text: &str, bc: bool) -> Option<NaiveDateTime> {
    let (date, time) = text.split_once(' ')?;
    let date = parse_date(date, bc)?;
    let us = parse_time_micros(time).ok()?;
    Some(date.and_hms_opt(0, 0, 0)? + chrono::Duration::microseconds(us))
}

/// A timestamp without time zone (`YYYY-MM-DD HH:MM:SS[.f][ BC]`).
fn parse_timestamp(text: &str) -> Result<NaiveDateTime, String> {
    let (body, bc) = split_era(text);
    parse_date_time(body, bc).ok_or_else(|| format!("cannot convert '{text}' to timestamp"))
}

/// A date as Java's `ISO_LOCAL_DATE` prints it: 4-digit years, a sign beyond 9999 or before 0.
fn java_iso_date(d: NaiveDate) -> String {
    ferry_core::java::time::iso_local_date(d)
}

/// Zero with `digits` fraction digits, the fallback of a required money column.
fn money_zero(digits: u8) -> BigDecimal {
    BigDecimal::from(0).with_scale(i64::from(digits))
}

fn strip_money(text: &str) -> String {
    let neg = text.starts_with('-') || text.starts_with('(');
    let digits: String = text.chars().filter(|c| c.is_ascii_digit() || *c == '.').collect();
    if neg {
        format!("-{digits}")
    } else {
        digits
    }
}

fn parse_float(text: &str) -> Result<f64, String> {
    match text {
        "NaN" => Ok(f64::NAN),
        "Infinity" => Ok(f64::INFINITY),
        "-Infinity" => Ok(f64::NEG_INFINITY),
        _ => text.parse().or_else(|_| bad("double", text)),
    }
}

/// Parses `HH:MM:SS[.ffffff]` into microseconds since midnight (24:00:00 allowed).
fn parse_time_micros(text: &str) -> Result<i64, String> {
    let (hms, frac) = match text.split_once('.') {
        Some((a, b)) => (a, b),
        None => (text, ""),
    };
    let mut parts = hms.split(':');
    // Minutes and seconds have two digits, hours at most nine (an interval's hours go past
    // 24): no overflow from hostile input.
    let mut next = |max_digits: usize| -> Result<i64, String> {
        parts
            .next()
            .filter(|p| (1..=max_digits).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|p| p.parse::<i64>().ok())
            .ok_or_else(|| format!("cannot convert '{text}' to time"))
    };
    let (h, m, s) = (next(9)?, next(2)?, next(2)?);
    let mut us = 0i64;
    if !frac.is_empty() {
        let f: String = frac.chars().take(6).collect();
        let n: i64 = f.parse().or_else(|_| bad("time", text))?;
        us = n * 10i64.pow(6 - f.len() as u32);
    }
    Ok(((h * 60 + m) * 60 + s) * 1_000_000 + us)
}

/// Splits a trailing `+HH[:MM[:SS]]`/`-HH...` zone offset off a time text; returns seconds east.
fn split_offset(text: &str) -> Result<(&str, i32), String> {
    let idx = text
        .rfind(['+', '-'])
        .filter(|&i| i >= 8)
        .ok_or_else(|| format!("no zone offset in '{text}'"))?;
    let (base, off) = text.split_at(idx);
    let sign = if off.starts_with('-') { -1 } else { 1 };
    let mut secs = 0;
    for (i, p) in off[1..].split(':').enumerate() {
        if i > 2 || !(1..=2).contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit()) {
            return bad("zone offset", text);
        }
        let n: i32 = p.parse().or_else(|_| bad("zone offset", text))?;
        secs += n * [3600, 60, 1][i];
    }
    Ok((base, sign * secs))
}

/// Formats nanoseconds the way Java's ISO formatters do (`appendFraction(NANO_OF_SECOND, 0, 9, true)`):
/// as few digits as needed, nothing at all for zero.
fn java_fraction(nanos: u32) -> String {
    ferry_core::java::time::iso_fraction(nanos)
}

/// timestamptz text (any offset) → ISO-8601 in UTC, fraction `width` digits wide (Debezium's ZonedTimestamp).
pub fn timestamptz_to_iso(text: &str, width: i32) -> Result<String, String> {
    if text == "infinity" || text == "-infinity" {
        return Ok(text.to_string());
    }
    let (body, bc) = split_era(text);
    let (base, off) = split_offset(body)?;
    let local = parse_date_time(base, bc).ok_or_else(|| format!("cannot convert '{text}' to timestamptz"))?;
    let utc = local - chrono::Duration::seconds(off as i64);
    let date_time = format!("{}T{}", java_iso_date(utc.date()), utc.format("%H:%M:%S"));
    let nanos = utc.nanosecond();
    let frac = if (1..=9).contains(&width) {
        let digits = format!("{nanos:09}");
        format!(".{}", &digits[..width as usize])
    } else {
        java_fraction(nanos)
    };
    Ok(format!("{date_time}{frac}Z"))
}

/// timetz text → ISO-8601 offset time in UTC (Debezium's ZonedTime).
pub fn timetz_to_iso(text: &str) -> Result<String, String> {
    let (base, off) = split_offset(text)?;
    let us = parse_time_micros(base)?;
    let day = 86_400_000_000i64;
    let utc = (us - off as i64 * 1_000_000).rem_euclid(day);
    let secs = (utc / 1_000_000) as u32;
    let t = NaiveTime::from_num_seconds_from_midnight_opt(secs, ((utc % 1_000_000) * 1000) as u32)
        .ok_or_else(|| format!("cannot convert '{text}' to timetz"))?;
    Ok(format!(
        "{}{}Z",
        t.format("%H:%M:%S"),
        java_fraction(t.nanosecond())
    ))
}

/// A parsed interval (PostgreSQL's default `postgres` IntervalStyle).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Interval {
    years: i64,
    months: i64,
    days: i64,
    hours: i64,
    minutes: i64,
    micros: i64,
}

impl Interval {
    /// Debezium's MicroDuration value (a month is 365.25/12 days).
    pub fn micros(&self) -> i64 {
        let days_per_month = 365.25 / 12.0;
        let days = ((self.years * 12 + self.months) as f64) * days_per_month + self.days as f64;
        // MicroDuration.durationMicros(y, m, d, h, min, PGInterval.getSeconds(), avg): the seconds
        // (fraction included) as a double, the total truncated to a long.
        let secs = (self.micros / 1_000_000) as f64 + (self.micros % 1_000_000) as f64 / 1e6;
        let seconds = (((days * 24.0 + self.hours as f64) * 60.0) + self.minutes as f64) * 60.0 + secs;
        (seconds * 1e6) as i64
    }

    /// ISO-8601 duration text (io.debezium.time.Interval).
    pub fn to_iso(&self) -> String {
        let secs = self.micros as f64 / 1e6;
        format!(
            "P{}Y{}M{}DT{}H{}M{}S",
            self.years, self.months, self.days, self.hours, self.minutes, secs
        )
    }
}

/// Parses `1 year 2 mons 3 days 04:05:06.789` (and negative parts).
pub fn parse_interval(text: &str) -> Result<Interval, String> {
    let mut iv = Interval::default();
    let toks: Vec<&str> = text.split_whitespace().collect();
    let mut i = 0;
    while i < toks.len() {
        let t = toks[i];
        if t.contains(':') {
            let neg = t.starts_with('-');
            let body = t.trim_start_matches(['-', '+']);
            let us = parse_time_micros(body)?;
            let sign = if neg { -1 } else { 1 };
            let h = us / 3_600_000_000;
            let m = (us / 60_000_000) % 60;
            iv.hours += sign * h;
            iv.minutes += sign * m;
            iv.micros += sign * (us % 60_000_000);
            i += 1;
            continue;
        }
        let n: i64 = t.parse().or_else(|_| bad("interval", text))?;
        let unit = toks.get(i + 1).copied().unwrap_or("");
        let field = match unit.trim_end_matches('s') {
            "year" => &mut iv.years,
            "mon" => &mut iv.months,
            "day" => &mut iv.days,
            _ => return bad("interval", text),
        };
        // PostgreSQL keeps months and days as 32-bit integers.
        *field = field
            .checked_add(n)
            .filter(|v| i32::try_from(*v).is_ok())
            .ok_or_else(|| format!("cannot convert '{text}' to interval"))?;
        i += 2;
    }
    Ok(iv)
}

/// Decodes bytea text output (`\x…` hex, or the legacy escape format).
pub fn parse_bytea(text: &str) -> Result<Vec<u8>, String> {
    if let Some(hex) = text.strip_prefix("\\x") {
        if hex.len() % 2 != 0 {
            return bad("bytea", text);
        }
        let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        hex.as_bytes()
            .chunks(2)
            .map(|p| match (digit(p[0]), digit(p[1])) {
                (Some(h), Some(l)) => Ok(h << 4 | l),
                _ => bad("bytea", text),
            })
            .collect()
    } else {
        let b = text.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'\\' && i + 1 < b.len() && b[i + 1] == b'\\' {
                out.push(b'\\');
                i += 2;
            } else if b[i] == b'\\' && i + 3 < b.len() {
                let s = std::str::from_utf8(&b[i + 1..i + 4]).map_err(|e| e.to_string())?;
                out.push(u8::from_str_radix(s, 8).map_err(|e| e.to_string())?);
                i += 4;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        Ok(out)
    }
}

/// Parses a one-dimensional array literal `{a,"b c",NULL}`.
pub fn parse_array(text: &str) -> Result<Vec<Option<String>>, String> {
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| format!("cannot convert '{text}' to array"))?;
    let mut out = Vec::new();
    if inner.is_empty() {
        return Ok(out);
    }
    let mut chars = inner.chars().peekable();
    loop {
        let mut cur = String::new();
        let mut quoted = false;
        if chars.peek() == Some(&'"') {
            quoted = true;
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(n) = chars.next() {
                            cur.push(n)
                        }
                    }
                    '"' => break,
                    _ => cur.push(c),
                }
            }
        }
        for c in chars.by_ref() {
            if c == ',' {
                break;
            }
            cur.push(c);
        }
        if !quoted && cur.eq_ignore_ascii_case("NULL") {
            out.push(None);
        } else {
            out.push(Some(cur));
        }
        if chars.peek().is_none() {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    /// Inputs found by the pgoutput fuzz target (fuzz/): each is an error, not a panic.
    #[test]
    fn hostile_time_texts_are_errors_not_panics() {
        let opts = super::TypeOptions::default();
        for (oid, text) in [
            (1266, "10:00:00+9999999999"),
            (1266, "10:00:00+01:02:03:04"),
            (1083, "99999999999999999:00:00"),
            (1083, "10:-5:00"),
            (1184, "2026-01-01 10:00:00+77777777777"),
            (17, "\\x0\u{4d9}f"),
            (1186, "9223372036854775807 years 1 year"),
            (1700, "1e999999999"),
        ] {
            let conv = super::Converter::for_type(&super::PgType::scalar(oid, -1), true, &opts).unwrap();
            assert!(conv.convert(text).is_err(), "{oid} {text:?} was accepted");
        }
    }

    use super::*;

    #[test]
    fn bit_strings_become_bitset_bytes() {
        assert_eq!(bits_little_endian("101").unwrap(), vec![0x05]);
        assert_eq!(bits_little_endian("1000000001").unwrap(), vec![0x01, 0x02]);
        assert_eq!(bits_little_endian("0000000000").unwrap(), Vec::<u8>::new());
        assert_eq!(bits_little_endian("0100").unwrap(), vec![0x04]);
        assert!(bits_little_endian("10x").is_err());
    }

    #[test]
    fn hstore_text_parses_and_bad_text_is_an_error() {
        assert_eq!(
            parse_hstore(r#""a"=>"1", "b"=>NULL, "q\"x"=>"\\""#).unwrap(),
            vec![
                ("a".to_string(), Some("1".to_string())),
                ("b".to_string(), None),
                ("q\"x".to_string(), Some("\\".to_string())),
            ]
        );
        assert_eq!(parse_hstore("").unwrap(), vec![]);
        for bad in [
            r#""a"=>"#,
            r#""a"=>NUL"#,
            r#""a""1""#,
            r#"a=>1"#,
            r#""a"=>"1" "b"=>"2""#,
            "\"",
            "\"a\"=>\"\\",
        ] {
            assert!(parse_hstore(bad).is_err(), "{bad}");
        }
    }

    fn conv(oid: u32, typmod: i32) -> Converter {
        Converter::for_type(&PgType::scalar(oid, typmod), true, &TypeOptions::default()).unwrap()
    }

    #[test]
    fn numeric_with_precision_is_decimal() {
        let c = conv(oid::NUMERIC, ((10 << 16) | 2) + 4);
        assert_eq!(c.schema().name(), Some("org.apache.kafka.connect.data.Decimal"));
        assert_eq!(c.schema().parameter("scale"), Some("2"));
        assert_eq!(c.schema().parameter("connect.decimal.precision"), Some("10"));
        assert_eq!(
            c.convert("12.5").unwrap(),
            Value::Decimal(BigDecimal::from_str("12.50").unwrap())
        );
    }

    #[test]
    fn unconstrained_numeric_is_variable_scale() {
        let c = conv(oid::NUMERIC, -1);
        assert_eq!(c.schema().name(), Some(names::VARIABLE_SCALE_DECIMAL));
        let Value::Struct(s) = c.convert("-1.25").unwrap() else {
            panic!()
        };
        assert_eq!(s.get("scale"), Some(&Value::Int32(2)));
        assert_eq!(s.get("value"), Some(&Value::Bytes(Bytes::from_static(&[0x83]))));
    }

    #[test]
    fn decimal_modes() {
        let o = TypeOptions {
            decimal: DecimalMode::Double,
            ..Default::default()
        };
        let c = Converter::for_type(&PgType::scalar(oid::NUMERIC, -1), false, &o).unwrap();
        assert_eq!(c.schema().schema_type(), SchemaType::Float64);
        assert_eq!(c.convert("1.5").unwrap(), Value::Float64(1.5));
        let o = TypeOptions {
            decimal: DecimalMode::String,
            ..Default::default()
        };
        let c = Converter::for_type(&PgType::scalar(oid::NUMERIC, -1), false, &o).unwrap();
        assert_eq!(c.convert("1.50").unwrap(), Value::String("1.50".into()));
    }

    #[test]
    fn temporal_adaptive() {
        assert_eq!(
            conv(oid::DATE, -1).convert("1970-01-11").unwrap(),
            Value::Int32(10)
        );
        let t = conv(oid::TIME, -1);
        assert_eq!(t.schema().name(), Some(names::MICRO_TIME));
        assert_eq!(t.convert("01:00:00.5").unwrap(), Value::Int64(3_600_500_000));
        let t3 = conv(oid::TIME, 3);
        assert_eq!(t3.schema().name(), Some(names::TIME));
        assert_eq!(t3.convert("00:00:01.25").unwrap(), Value::Int32(1250));
        let ts = conv(oid::TIMESTAMP, -1);
        assert_eq!(ts.schema().name(), Some(names::MICRO_TIMESTAMP));
        assert_eq!(
            ts.convert("1970-01-01 00:00:01.000002").unwrap(),
            Value::Int64(1_000_002)
        );
        let tz = conv(oid::TIMESTAMPTZ, -1);
        assert_eq!(
            tz.convert("2024-01-02 05:04:05.5+02").unwrap(),
            Value::String("2024-01-02T03:04:05.500000Z".into())
        );
        assert_eq!(
            conv(oid::TIMESTAMPTZ, 0)
                .convert("2024-01-02 03:04:05+00")
                .unwrap(),
            Value::String("2024-01-02T03:04:05Z".into())
        );
        assert_eq!(
            conv(oid::TIMETZ, -1).convert("10:15:30.25+01").unwrap(),
            Value::String("09:15:30.25Z".into())
        );
    }

    #[test]
    fn temporal_connect_mode() {
        let o = TypeOptions {
            time: TimePrecisionMode::Connect,
            ..Default::default()
        };
        let ts = Converter::for_type(&PgType::scalar(oid::TIMESTAMP, -1), false, &o).unwrap();
        assert_eq!(
            ts.schema().name(),
            Some("org.apache.kafka.connect.data.Timestamp")
        );
        assert_eq!(ts.convert("1970-01-01 00:00:01.999").unwrap(), Value::Int64(1999));
    }

    #[test]
    fn interval_micro_duration() {
        let c = conv(oid::INTERVAL, -1);
        assert_eq!(c.schema().name(), Some(names::MICRO_DURATION));
        assert_eq!(c.convert("1 day 01:00:00").unwrap(), Value::Int64(90_000_000_000));
        assert_eq!(
            c.convert("1 mon").unwrap(),
            Value::Int64((365.25 / 12.0 * 86400.0 * 1e6) as i64)
        );
        assert_eq!(c.convert("-00:00:01.5").unwrap(), Value::Int64(-1_500_000));
    }

    #[test]
    fn strings_bytes_arrays_enums() {
        assert_eq!(conv(oid::UUID, -1).schema().name(), Some(names::UUID));
        assert_eq!(conv(oid::JSONB, -1).schema().name(), Some(names::JSON));
        assert_eq!(
            conv(oid::BYTEA, -1).convert("\\x01ff").unwrap(),
            Value::Bytes(Bytes::from_static(&[1, 255]))
        );
        let arr = PgType {
            oid: 1009,
            typmod: -1,
            enum_values: None,
            element: Some(Box::new(PgType::scalar(oid::TEXT, -1))),
            name: None,
        };
        let c = Converter::for_type(&arr, true, &TypeOptions::default()).unwrap();
        assert_eq!(
            c.convert("{a,\"b c\",NULL,\"x\\\"y\"}").unwrap(),
            Value::Array(vec![
                Value::String("a".into()),
                Value::String("b c".into()),
                Value::Null,
                Value::String("x\"y".into())
            ])
        );
        let e = PgType {
            oid: 99999,
            typmod: -1,
            enum_values: Some(vec!["happy".into(), "sad".into()]),
            element: None,
            name: None,
        };
        let c = Converter::for_type(&e, true, &TypeOptions::default()).unwrap();
        assert_eq!(c.schema().name(), Some(names::ENUM));
        assert_eq!(c.schema().parameter("allowed"), Some("happy,sad"));
        // box: Debezium has no mapping for it (JDBC type OTHER), the column is skipped.
        assert!(Converter::for_type(&PgType::scalar(603, -1), true, &TypeOptions::default()).is_none());
    }

    #[test]
    fn points_are_debezium_geometry_points_and_other_geometric_types_are_skipped() {
        let opts = TypeOptions::default();
        let c = Converter::for_type(&PgType::scalar(oid::POINT, -1), true, &opts).unwrap();
        assert_eq!(c.schema().name(), Some(crate::geometry::POINT));
        assert!(c.schema().is_optional());
        let Value::Struct(p) = c.convert("(1.5,-1)").unwrap() else {
            panic!("not a struct")
        };
        assert_eq!(p.get("x"), Some(&Value::Float64(1.5)));
        assert_eq!(p.get("y"), Some(&Value::Float64(-1.0)));
        assert_eq!(
            p.get("wkb"),
            Some(&Value::Bytes(crate::geometry::wkb_point(1.5, -1.0)))
        );
        assert_eq!(p.get("srid"), Some(&Value::Null));
        assert!(c.convert("1.5,-1").is_err());
        // A required point without a value: convertPoint's fallback, the point (0,0).
        let required = Converter::for_type(&PgType::scalar(oid::POINT, -1), false, &opts).unwrap();
        assert_eq!(
            required.fallback(),
            crate::geometry::point_value(required.schema(), 0.0, 0.0)
        );
        // box, circle, line, lseg, path, polygon: no mapping in Debezium; bytes with
        // include.unknown.datatypes, as any unknown type.
        for oid in [603, 718, 628, 601, 602, 604] {
            assert!(
                Converter::for_type(&PgType::scalar(oid, -1), true, &opts).is_none(),
                "{oid}"
            );
            let unknown = TypeOptions {
                include_unknown: true,
                ..opts
            };
            let c = Converter::for_type(&PgType::scalar(oid, -1), true, &unknown).unwrap();
            assert_eq!(c.schema().schema_type(), SchemaType::Bytes);
        }
        // point[] stays skipped (DBZ-459).
        let array = PgType {
            element: Some(Box::new(PgType::scalar(oid::POINT, -1))),
            ..PgType::scalar(1017, -1)
        };
        assert!(Converter::for_type(&array, true, &opts).is_none());
    }
}
