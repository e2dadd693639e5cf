//! Connect's `ValueParser`: literals, quoted strings, arrays and maps, numbers of the
//! narrowest type and ISO-8601 dates, times and timestamps, over [`Tokens`].

use std::sync::OnceLock;

use bigdecimal::num_bigint::BigInt;
use bigdecimal::{BigDecimal, ToPrimitive, Zero};

use crate::java::chars;
use crate::java::collections::is_blank;
use crate::java::number_parse::{big_decimal_to_double, big_decimal_to_float, parse_big_decimal};
use crate::java::JavaDateFormat;
use crate::Schema;

use super::merge::{align_list, align_map, SchemaMerger};
use super::parsed::{put, Parsed, Typed};
use super::tokens::Tokens;

/// The text is no value of the kind tried (Connect's `DataException`, which makes the
/// whole text a string at the top).
pub(super) struct NotParsed;

type Parse<T> = Result<T, NotParsed>;

pub(super) struct ValueParser<'a> {
    tokens: Tokens<'a>,
}

impl<'a> ValueParser<'a> {
    pub fn new(text: &'a str) -> Self {
        ValueParser {
            tokens: Tokens::new(text),
        }
    }

    /// One value; `None` for `null` (and for nothing left). An `embedded` value (in an
    /// array or map) may be quoted and must not be a bare word.
    pub fn parse(&mut self, embedded: bool) -> Parse<Option<Typed>> {
        if !self.tokens.has_next() {
            return Ok(None);
        }
        if embedded && self.tokens.can_consume("\"") {
            return Ok(Some(self.quoted_string()));
        }
        if self.single_token_literal(embedded, "null") {
            return Ok(None);
        }
        for (literal, b) in [("true", true), ("false", false)] {
            if self.single_token_literal(embedded, literal) {
                return Ok(Some(typed(Schema::boolean(), Parsed::Boolean(b))));
            }
        }
        let start = self.tokens.mark();
        let nested = if self.tokens.can_consume("[") {
            Some(self.array())
        } else if self.tokens.can_consume("{") {
            Some(self.map())
        } else {
            None
        };
        match nested {
            Some(Ok(v)) => return Ok(Some(v)),
            Some(Err(NotParsed)) => self.tokens.rewind_to(start),
            None => {}
        }
        let token = self.tokens.next();
        if is_blank(token) {
            return Ok(Some(string(token)));
        }
        self.scalar(embedded, chars::trim(token)).map(Some)
    }

    /// `true`, `false` or `null` as the next token; at the top only when nothing follows.
    fn single_token_literal(&mut self, embedded: bool, literal: &str) -> bool {
        let start = self.tokens.mark();
        if self.tokens.can_consume(literal) && (embedded || !self.tokens.has_next()) {
            return true;
        }
        self.tokens.rewind_to(start);
        false
    }

    /// A temporal value or a number, else (at the top) the whole text as a string.
    fn scalar(&mut self, embedded: bool, token: &str) -> Parse<Typed> {
        let first = token.chars().next().unwrap_or(' ');
        let digit = chars::is_digit(first);
        if digit {
            if let Some(t) = self.temporal_tokens(token) {
                return Ok(t);
            }
        }
        if digit || first == '+' || first == '-' {
            if let Some(n) = number(token) {
                return Ok(n);
            }
        }
        if embedded {
            return Err(NotParsed);
        }
        Ok(string(self.tokens.original()))
    }

    /// A time or timestamp split by its unescaped colons (the token and the four after
    /// it), else the token alone as a date, time or timestamp.
    fn temporal_tokens(&mut self, token: &str) -> Option<Typed> {
        let start = self.tokens.mark();
        if let Some(rest) = self.tokens.next_n(4) {
            if let Some(t) = temporal(&format!("{token}{rest}")) {
                return Some(t);
            }
        }
        self.tokens.rewind_to(start);
        temporal(token)
    }

    /// The tokens up to the closing quote, unescaped text as written; a temporal
    /// literal in quotes is still temporal.
    fn quoted_string(&mut self) -> Typed {
        let mut content = String::new();
        while self.tokens.has_next() {
            if self.tokens.can_consume("\"") {
                break;
            }
            content.push_str(self.tokens.next());
        }
        temporal(&content).unwrap_or_else(|| string(&content))
    }

    fn array(&mut self) -> Parse<Typed> {
        let mut items = Vec::new();
        let mut merger = SchemaMerger::default();
        while self.tokens.has_next() {
            if self.tokens.can_consume("]") {
                return Ok(match merger.common() {
                    Some(common) => typed(
                        Schema::array(common.clone()).build(),
                        Parsed::List(align_list(common, items).ok_or(NotParsed)?),
                    ),
                    None => typed(
                        Schema::builder(crate::SchemaType::Array).build(),
                        Parsed::List(items),
                    ),
                });
            }
            if self.tokens.can_consume(",") {
                return Err(NotParsed);
            }
            let element = self.parse(true)?;
            merger.merge(element.as_ref());
            items.push(element.map_or(Parsed::Null, |e| e.value));
            let after = self.tokens.mark();
            if self.tokens.can_consume("]") {
                self.tokens.rewind_to(after);
            } else if !self.tokens.can_consume(",") {
                return Err(NotParsed);
            }
        }
        Err(NotParsed)
    }

    fn map(&mut self) -> Parse<Typed> {
        let mut entries = Vec::new();
        let (mut keys, mut values) = (SchemaMerger::default(), SchemaMerger::default());
        while self.tokens.has_next() {
            if self.tokens.can_consume("}") {
                let map = match (keys.common(), values.common()) {
                    (Some(k), Some(v)) => typed(
                        Schema::map(k.clone(), v.clone()).build(),
                        Parsed::Map(align_map(k, Some(v), entries).ok_or(NotParsed)?),
                    ),
                    (Some(k), None) => typed(
                        Schema::map_with_null_values(k.clone()).build(),
                        Parsed::Map(align_map(k, None, entries).ok_or(NotParsed)?),
                    ),
                    (None, _) => typed(
                        Schema::builder(crate::SchemaType::Map).build(),
                        Parsed::Map(entries),
                    ),
                };
                return Ok(map);
            }
            if self.tokens.can_consume(",") {
                return Err(NotParsed);
            }
            let key = self.parse(true)?.ok_or(NotParsed)?;
            if !self.tokens.can_consume(":") {
                return Err(NotParsed);
            }
            let value = self.parse(true)?;
            let entry_value = value.as_ref().map_or(Parsed::Null, |v| v.value.clone());
            put(&mut entries, key.value.clone(), entry_value);
            self.tokens.can_consume(",");
            keys.merge(Some(&key));
            values.merge(value.as_ref());
        }
        Err(NotParsed)
    }
}

fn typed(schema: Schema, value: Parsed) -> Typed {
    Typed { schema, value }
}

fn string(s: &str) -> Typed {
    typed(Schema::string(), Parsed::String(s.to_owned()))
}

/// A number: the narrowest integer when it is whole and fits a `long` (within ±1e19,
/// zero or at least one in size), else a `float` or `double` when finite and written
/// with a fraction or exponent, else a Decimal of its written scale.
fn number(token: &str) -> Option<Typed> {
    let decimal = parse_big_decimal(token)?;
    if let Some(integral) = exact_integer(&decimal) {
        return Some(integral);
    }
    let scale = decimal.as_bigint_and_exponent().1;
    if scale != 0 {
        let f = big_decimal_to_float(&decimal);
        if f.is_finite() {
            return Some(typed(Schema::float32(), Parsed::Float(f)));
        }
        let d = big_decimal_to_double(&decimal);
        if d.is_finite() {
            return Some(typed(Schema::float64(), Parsed::Double(d)));
        }
    }
    let schema = Schema::decimal(scale as i32).build();
    Some(typed(schema, Parsed::Decimal(decimal)))
}

fn exact_integer(decimal: &BigDecimal) -> Option<Typed> {
    let magnitude = decimal.abs();
    let bigger_than_long = BigDecimal::new(BigInt::from(1), -19);
    if magnitude > bigger_than_long || (magnitude < 1 && !magnitude.is_zero()) {
        return None;
    }
    let (unscaled, scale) = decimal.as_bigint_and_exponent();
    let whole = unscaled.is_zero() || scale <= 0 || decimal.normalized().as_bigint_and_exponent().1 <= 0;
    if !whole {
        return None;
    }
    let v = decimal.with_scale(0).to_i64()?;
    Some(if let Ok(b) = i8::try_from(v) {
        typed(Schema::int8(), Parsed::Byte(b))
    } else if let Ok(s) = i16::try_from(v) {
        typed(Schema::int16(), Parsed::Short(s))
    } else if let Ok(i) = i32::try_from(v) {
        typed(Schema::int32(), Parsed::Integer(i))
    } else {
        typed(Schema::int64(), Parsed::Long(v))
    })
}

/// `HH:mm:ss.SSS'Z'` (13 characters), `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'` (24) or
/// `yyyy-MM-dd` (10), read leniently in UTC from the start of the text (escaped colons
/// unescaped first); `None` when the length or the text does not fit.
fn temporal(token: &str) -> Option<Typed> {
    static FORMATS: OnceLock<[JavaDateFormat; 3]> = OnceLock::new();
    let [time, timestamp, date] = FORMATS.get_or_init(|| {
        let format = |p| JavaDateFormat::new(p).expect("Connect's ISO-8601 patterns compile");
        [
            format("HH:mm:ss.SSS'Z'"),
            format("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"),
            format("yyyy-MM-dd"),
        ]
    });
    let token = token.replace("\\:", ":");
    let (format, schema) = match token.encode_utf16().count() {
        13 => (time, Schema::time()),
        24 => (timestamp, Schema::timestamp()),
        10 => (date, Schema::date()),
        _ => return None,
    };
    let millis = format.parse(&token)?;
    Some(typed(schema.build(), Parsed::Date(millis)))
}
