//! `ferry_core::java::values::parse_string` against Kafka Connect 4.3's
//! `Values.parseString` on every input of `data/values_parse_string.jsonl`: hand-picked
//! cases and seeded random ones, whose expected outputs were written by the real jar
//! (`fuzz/java/ParseStringTable.java` says how to write them again).
//!
//! Both sides render a result the same way: the schema (`INT8`, `INT32/Date`,
//! `BYTES/Decimal(2)`, `ARRAY<..>`, `MAP<..,..>`, `-` for none, `?` when optional), then
//! the value by its Java class (`Byte:1`, `Float:0.100000001490116119384765625` (exact), `String:"a"`, `Date:<millis>`,
//! `[..]`, `{k=v}`). A Date, Time or Timestamp is shown as the date Ferry's physical
//! value means under its schema.

use bigdecimal::num_bigint::BigInt;
use bigdecimal::BigDecimal;
use ferry_core::java::values::parse_string;
use ferry_core::java::{bigdecimal_to_string, MILLIS_PER_DAY};
use ferry_core::schema::logical;
use ferry_core::{Schema, SchemaAndValue, SchemaType, Value};

const TABLE: &str = include_str!("data/values_parse_string.jsonl");

fn schema_text(schema: Option<&Schema>) -> String {
    let Some(s) = schema else {
        return "-".into();
    };
    let mut out = format!("{:?}", s.schema_type()).to_uppercase();
    if let Some(name) = s.name() {
        out.push('/');
        out.push_str(name.rsplit('.').next().unwrap_or(name));
    }
    if s.is_logical(logical::DECIMAL) {
        out.push_str(&format!(
            "({})",
            s.parameter(logical::DECIMAL_SCALE).unwrap_or("?")
        ));
    }
    if s.is_optional() {
        out.push('?');
    }
    match s.schema_type() {
        SchemaType::Array => out.push_str(&format!("<{}>", schema_text(s.value_schema()))),
        SchemaType::Map => out.push_str(&format!(
            "<{},{}>",
            schema_text(s.key_schema()),
            schema_text(s.value_schema())
        )),
        _ => {}
    }
    out
}

fn value_text(schema: Option<&Schema>, value: &Value) -> String {
    let logical_name = schema.and_then(Schema::name).unwrap_or("");
    let temporal = [logical::DATE, logical::TIME, logical::TIMESTAMP].contains(&logical_name);
    match value {
        Value::Null => "null".into(),
        Value::Boolean(b) => format!("Boolean:{b}"),
        Value::Int8(v) => format!("Byte:{v}"),
        Value::Int16(v) => format!("Short:{v}"),
        Value::Int32(v) if logical_name == logical::DATE => {
            format!("Date:{}", i64::from(*v) * MILLIS_PER_DAY)
        }
        Value::Int32(v) if logical_name == logical::TIME => format!("Date:{v}"),
        Value::Int32(v) => format!("Integer:{v}"),
        Value::Int64(v) if temporal => format!("Date:{v}"),
        Value::Int64(v) => format!("Long:{v}"),
        Value::Float32(v) => format!("Float:{}", exact_decimal(f64::from(*v))),
        Value::Float64(v) => format!("Double:{}", exact_decimal(*v)),
        Value::Decimal(d) => format!("BigDecimal:{}", bigdecimal_to_string(d)),
        Value::String(s) => format!("String:{}", serde_json::to_string(s).unwrap()),
        Value::Array(items) => {
            let item_schema = schema.and_then(Schema::value_schema);
            let items: Vec<String> = items.iter().map(|v| value_text(item_schema, v)).collect();
            format!("[{}]", items.join(","))
        }
        Value::Map(entries) => {
            let (ks, vs) = (
                schema.and_then(Schema::key_schema),
                schema.and_then(Schema::value_schema),
            );
            let entries: Vec<String> = entries
                .iter()
                .map(|(k, v)| format!("{}={}", value_text(ks, k), value_text(vs, v)))
                .collect();
            format!("{{{}}}", entries.join(","))
        }
        other => format!("unexpected {other:?}"),
    }
}

/// The exact decimal value of a finite double, plain, without trailing zeros (Java's
/// `new BigDecimal(d).stripTrailingZeros().toPlainString()`).
fn exact_decimal(d: f64) -> String {
    let bits = d.to_bits();
    let negative = bits >> 63 == 1 && d != 0.0;
    let exponent = ((bits >> 52) & 0x7ff) as i64;
    let fraction = bits & ((1 << 52) - 1);
    let (mantissa, power) = if exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | 1 << 52, exponent - 1075)
    };
    let (digits, scale) = if power >= 0 {
        (BigInt::from(mantissa) << power as usize, 0)
    } else {
        (
            BigInt::from(mantissa) * BigInt::from(5u8).pow(-power as u32),
            -power,
        )
    };
    let normalized = BigDecimal::new(digits, scale).normalized();
    let (digits, scale) = normalized.as_bigint_and_exponent();
    let mut text = digits.to_string();
    if scale > 0 {
        let scale = scale as usize;
        if text.len() <= scale {
            text = format!("{}{text}", "0".repeat(scale + 1 - text.len()));
        }
        text.insert(text.len() - scale, '.');
    } else {
        text.push_str(&"0".repeat((-scale) as usize));
    }
    if negative {
        text.insert(0, '-');
    }
    text
}

fn rendered(parsed: &SchemaAndValue) -> String {
    if parsed.schema.is_none() && parsed.value.is_null() {
        return "null".into();
    }
    format!(
        "{} {}",
        schema_text(parsed.schema.as_ref()),
        value_text(parsed.schema.as_ref(), &parsed.value)
    )
}

#[test]
fn parse_string_matches_kafka_connect_4_3_on_every_table_input() {
    let mut rows = 0;
    let mut differences = Vec::new();
    for line in TABLE.lines().filter(|l| !l.trim().is_empty()) {
        let row: serde_json::Value = serde_json::from_str(line).expect("a JSON row");
        let input = row["input"].as_str().expect("input");
        let expected = row["expected"].as_str().expect("expected");
        let actual = rendered(&parse_string(input));
        if actual != expected {
            differences.push(format!("{input:?}\n    java:  {expected}\n    ferry: {actual}"));
        }
        rows += 1;
    }
    assert!(rows > 2000, "the table has {rows} rows");
    assert!(
        differences.is_empty(),
        "{} of {rows} inputs differ from Connect 4.3:\n{}",
        differences.len(),
        differences
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
