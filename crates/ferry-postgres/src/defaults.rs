//! Column default values in field schemas, as Debezium's `PostgresDefaultValueConverter`
//! derives them from the catalog's default expression (`pg_get_expr(adbin, adrelid)`).
//!
//! Literals become the column's value (`'NEW'::character varying` → `"NEW"`); a default
//! computed by a function or `CURRENT_*` becomes the type's zero (`nextval(...)` → `0`,
//! `now()` → the epoch); `NULL::type` and anything unparseable give no default.

use std::sync::OnceLock;

use ferry_core::Value;
use regex::Regex;

use crate::types::{Converter, PgType};

/// `CURRENT_*` keywords PostgreSQL keeps as the default expression.
const CURRENT_DATE_TIMES: [&str; 5] = [
    "current_timestamp",
    "current_time",
    "current_date",
    "localtime",
    "localtimestamp",
];

/// Types whose default expression is trimmed first.
const TRIM_TYPES: [&str; 18] = [
    "bit",
    "varbit",
    "bool",
    "numeric",
    "float4",
    "float8",
    "int2",
    "int4",
    "serial",
    "int8",
    "bigserial",
    "smallserial",
    "uuid",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "interval",
];

fn literal_pattern() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"'([^']*(?:''[^']*)*)'").expect("literal pattern"))
}

fn function_pattern() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| Regex::new(r"^[(]?[A-Za-z0-9_.]+\((?:.+(?:, ?.+)*)?\)").expect("function pattern"))
}

/// What a default expression stands for, before conversion.
#[derive(Debug, PartialEq)]
enum Extracted {
    /// Computed at insert time: the type's placeholder applies.
    Generated,
    /// A literal (quotes removed, `''` unescaped) or a bare value.
    Text(String),
    /// `NULL::type`, or nothing usable.
    Null,
}

fn extract(expr: &str) -> Extracted {
    if function_pattern().is_match(expr) || CURRENT_DATE_TIMES.contains(&expr.to_ascii_lowercase().as_str()) {
        return Extracted::Generated;
    }
    if !expr.contains('\'') {
        return if expr.starts_with("NULL::") {
            Extracted::Null
        } else {
            Extracted::Text(expr.to_string())
        };
    }
    match literal_pattern().captures(expr) {
        Some(c) => Extracted::Text(c[1].replace("''", "'")),
        None => Extracted::Null,
    }
}

/// The text the column's converter reads for a default, or `None` for no default.
fn default_text(type_name: &str, expr: &str) -> Option<String> {
    let expr = if TRIM_TYPES.contains(&type_name) {
        expr.trim()
    } else {
        expr
    };
    // Numbers and booleans: `NULL::type` is no default.
    let null_cast = expr.starts_with("NULL::");
    let placeholder = match type_name {
        "bpchar" | "varchar" | "text" | "xml" => "",
        "json" | "jsonb" => "{}",
        "numeric" | "float4" | "float8" if !null_cast => "0.0",
        "int2" | "int4" | "int8" if !null_cast => "0",
        "uuid" => "00000000-0000-0000-0000-000000000000",
        "date" => "1970-01-01",
        "time" => "00:00:00",
        "timestamp" => "1970-01-01 00:00:00",
        "timestamptz" => "1970-01-01 00:00:00+00",
        _ => return None,
    };
    match extract(expr) {
        Extracted::Generated => Some(placeholder.to_string()),
        Extracted::Text(t) => Some(t),
        Extracted::Null => None,
    }
}

/// An enum default `'LABEL'::type` (optionally schema-qualified and quoted) whose cast
/// names the column's enum type.
fn enum_default(type_name: &str, expr: &str) -> Option<String> {
    let cast = expr.rfind("::")?;
    let (value, suffix) = (&expr[..cast], &expr[cast + 2..]);
    let suffix_type = suffix.rsplit('.').next()?.trim_matches('"');
    if suffix_type != type_name {
        return None;
    }
    value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .map(str::to_string)
}

/// The default value for a column of type `ty` converted by `conv`, from its catalog
/// default expression; `None` when Debezium sets no default.
pub fn default_value(ty: &PgType, conv: &Converter, expr: &str) -> Option<Value> {
    let type_name = ty.name.as_deref()?;
    let value = if ty.enum_values.is_some() {
        conv.convert(&enum_default(type_name, expr)?).ok()?
    } else {
        match type_name {
            "bool" => {
                if expr.trim().starts_with("NULL::") {
                    return None;
                }
                let b = match extract(expr.trim()) {
                    Extracted::Generated => false,
                    Extracted::Text(t) => t.eq_ignore_ascii_case("true"),
                    Extracted::Null => return None,
                };
                Value::Boolean(b)
            }
            // `B'101'::"bit"`: bit(1) and varbit(1) columns are booleans (any 1 bit is
            // true, as Integer.valueOf(text, 2) != 0), longer ones io.debezium.data.Bits.
            "bit" | "varbit" => {
                let text = match extract(expr.trim()) {
                    Extracted::Generated if type_name == "bit" => "00".to_string(),
                    Extracted::Generated => "0".to_string(),
                    Extracted::Text(t) => t,
                    Extracted::Null => return None,
                };
                if conv.schema().schema_type() == ferry_core::SchemaType::Boolean {
                    if text.is_empty() || !text.bytes().all(|b| b == b'0' || b == b'1') {
                        return None;
                    }
                    Value::Boolean(text.contains('1'))
                } else {
                    conv.convert(&text).ok()?
                }
            }
            _ => conv.convert(&default_text(type_name, expr)?).ok()?,
        }
    };
    // Connect cannot hold a struct default (KAFKA-12694): VariableScaleDecimal gets none.
    match value {
        Value::Null | Value::Struct(_) => None,
        v => Some(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_as_debezium_reads_them() {
        assert_eq!(extract("nextval('s1.a_pk_seq'::regclass)"), Extracted::Generated);
        assert_eq!(extract("now()"), Extracted::Generated);
        assert_eq!(extract("CURRENT_TIMESTAMP"), Extracted::Generated);
        assert_eq!(extract("s2.tst_generate_random_uuid()"), Extracted::Generated);
        assert_eq!(extract("NULL::character varying"), Extracted::Null);
        assert_eq!(
            extract("'NULL'::character varying"),
            Extracted::Text("NULL".into())
        );
        assert_eq!(
            extract("'NULL::character varying'::character varying"),
            Extracted::Text("NULL::character varying".into())
        );
        assert_eq!(extract("'it''s'::text"), Extracted::Text("it's".into()));
        assert_eq!(extract("42"), Extracted::Text("42".into()));
        assert_eq!(extract("'-1'::integer"), Extracted::Text("-1".into()));
        assert_eq!(default_text("int4", "NULL::integer"), None);
        assert_eq!(default_text("text", "NULL::text"), None);
        assert_eq!(
            default_text("int4", "nextval('t_id_seq'::regclass)").as_deref(),
            Some("0")
        );
        assert_eq!(default_text("bytea", "'\\x00'::bytea"), None);
        assert_eq!(default_text("_int4", "'{1}'::integer[]"), None);
        assert_eq!(
            enum_default("Status", "'DRAFT'::s1.\"Status\"").as_deref(),
            Some("DRAFT")
        );
        assert_eq!(enum_default("Status", "'DRAFT'::other"), None);
    }
}
