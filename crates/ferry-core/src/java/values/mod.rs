//! Connect's `Values.parseString` (`org.apache.kafka.connect.data.Values`): the text of a
//! header or a literal read back as a typed value, as SimpleHeaderConverter and
//! InsertHeader do.

mod merge;
mod parse;
mod parsed;
mod tokens;

use crate::SchemaAndValue;

/// `Values.parseString`: `null`, `true`/`false`, the narrowest of int8..int64, float32,
/// float64 or Decimal for numbers, Date/Time/Timestamp for ISO-8601 text (read
/// leniently), arrays `[..]` and maps `{..}` of such values with a common element schema
/// when they have one; anything else is the whole text as a string. Like Connect, only
/// the first value of the text is read (`1,2` is int8 1, `[1]x` the array).
///
/// A `java.util.Date` becomes the physical value of its schema (days for a Date,
/// milliseconds for a Time or Timestamp); one its position's schema cannot hold that
/// way (in an array or map of mixed elements) keeps its milliseconds as an `Int64`.
pub fn parse_string(text: &str) -> SchemaAndValue {
    if text.is_empty() {
        return SchemaAndValue {
            schema: Some(crate::Schema::string()),
            value: crate::Value::String(String::new()),
        };
    }
    let parsed = parse::ValueParser::new(text).parse(false);
    match parsed {
        Ok(Some(typed)) => SchemaAndValue {
            value: typed.value.into_value(Some(&typed.schema)),
            schema: Some(typed.schema),
        },
        Ok(None) => SchemaAndValue::NULL,
        // Only embedded values fail, and the top-level parse catches them.
        Err(parse::NotParsed) => SchemaAndValue {
            schema: Some(crate::Schema::string()),
            value: crate::Value::String(text.to_owned()),
        },
    }
}
