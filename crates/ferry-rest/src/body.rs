//! Request bodies: the [`Json`] extractor and the conversion of JSON into the
//! request entities with Connect's leniency and its status codes.
//!
//! Connect reads bodies with Jackson: malformed JSON, wrong shapes and unknown
//! fields are not mapped to 400 but surface as 500, with Jackson's wording
//! (`Unrecognized field "x" ...`, `Cannot deserialize value of type ...`).
//! Scalars are accepted where strings are expected (`1` reads as `"1"`), an
//! empty body reads as `null`, and anything after the first JSON value is
//! ignored.
//!
//! Like Jackson, the body's encoding is detected from its first bytes (a UTF-8
//! byte order mark is skipped; UTF-16 and UTF-32 are read, RFC 4627 §3), and
//! escaped surrogates that do not form a pair (`"\ud800"`) are accepted: Java
//! strings may hold them, Rust strings may not, so they read as U+FFFD.

use std::borrow::Cow;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use serde_json::Value;

use crate::entities::{ConnectorOffset, CreateConnectorRequest, InitialState, JsonObject, NullableConfig};
use crate::error::RestError;

const ENTITIES: &str = "org.apache.kafka.connect.runtime.rest.entities";
const STRING_MAP: &str = "java.util.Map<java.lang.String,java.lang.String>";

/// A request body parsed into `T` the way Connect parses it.
#[derive(Debug)]
pub struct Json<T>(pub T);

/// Conversion of a parsed JSON body into a request entity.
pub trait FromJson: Sized {
    /// Converts; errors carry the status Connect answers with.
    fn from_json(value: Value) -> Result<Self, RestError>;
}

impl<S: Send + Sync, T: FromJson> FromRequest<S> for Json<T> {
    type Rejection = RestError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        check_content_type(&req)?;
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| RestError::new(e.status(), e.body_text()))?;
        T::from_json(parse(&bytes)?).map(Json)
    }
}

/// Bodies must be JSON when a content type is given (Jersey answers 415 otherwise).
fn check_content_type(req: &Request) -> Result<(), RestError> {
    let Some(ct) = req.headers().get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = ct
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let json = essence == "application/json"
        || essence.ends_with("+json")
        || essence == "*/*"
        || essence == "application/*";
    if json {
        Ok(())
    } else {
        Err(RestError::plain(StatusCode::UNSUPPORTED_MEDIA_TYPE))
    }
}

/// Parses the first JSON value of `bytes`; empty input is `null`.
pub fn parse(bytes: &[u8]) -> Result<Value, RestError> {
    let text = to_utf8(bytes)?;
    let text = replace_lone_surrogates(&text);
    if text.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let mut stream = serde_json::Deserializer::from_slice(&text).into_iter::<Value>();
    match stream.next() {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(malformed(e)),
        None => Ok(Value::Null),
    }
}

fn malformed(what: impl std::fmt::Display) -> RestError {
    RestError::internal(format!("Malformed JSON request body: {what}"))
}

/// The body as UTF-8, its encoding detected like Jackson's `ByteSourceJsonBootstrapper`
/// does: a byte order mark, else the zero bytes among the first four (JSON text starts
/// with an ASCII character). UTF-16 that does not decode reads as U+FFFD, as Java's
/// decoder makes it; UTF-32 beyond U+10FFFF or cut short is malformed.
fn to_utf8(bytes: &[u8]) -> Result<Cow<'_, [u8]>, RestError> {
    enum Encoding {
        Utf8,
        Utf16 { big_endian: bool },
        Utf32 { big_endian: bool },
    }
    use Encoding::*;
    let utf16 = |first: u16| {
        if first & 0xFF00 == 0 {
            Some(Utf16 { big_endian: true })
        } else if first & 0x00FF == 0 {
            Some(Utf16 { big_endian: false })
        } else {
            None
        }
    };
    let (encoding, skip) = if let Some(head) = bytes.first_chunk::<4>() {
        let quad = u32::from_be_bytes(*head);
        match quad {
            0x0000_FEFF => (Utf32 { big_endian: true }, 4),
            0xFFFE_0000 => (Utf32 { big_endian: false }, 4),
            0x0000_FFFE | 0xFEFF_0000 => return Err(malformed("unsupported UCS-4 byte order")),
            _ if quad >> 16 == 0xFEFF => (Utf16 { big_endian: true }, 2),
            _ if quad >> 16 == 0xFFFE => (Utf16 { big_endian: false }, 2),
            _ if quad >> 8 == 0x00EF_BBBF => (Utf8, 3),
            _ if quad >> 8 == 0 => (Utf32 { big_endian: true }, 0),
            _ if quad & 0x00FF_FFFF == 0 => (Utf32 { big_endian: false }, 0),
            _ if quad & !0x00FF_0000 == 0 || quad & !0x0000_FF00 == 0 => {
                return Err(malformed("unsupported UCS-4 byte order"))
            }
            _ => (utf16((quad >> 16) as u16).unwrap_or(Utf8), 0),
        }
    } else if let Some(head) = bytes.first_chunk::<2>() {
        (utf16(u16::from_be_bytes(*head)).unwrap_or(Utf8), 0)
    } else {
        (Utf8, 0)
    };
    let body = &bytes[skip..];
    match encoding {
        Utf8 => Ok(Cow::Borrowed(body)),
        Utf16 { big_endian } => {
            let units = body.chunks_exact(2).map(|c| {
                let pair = [c[0], c[1]];
                if big_endian {
                    u16::from_be_bytes(pair)
                } else {
                    u16::from_le_bytes(pair)
                }
            });
            let mut text: String = char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect();
            if !body.len().is_multiple_of(2) {
                text.push(char::REPLACEMENT_CHARACTER);
            }
            Ok(Cow::Owned(text.into_bytes()))
        }
        Utf32 { big_endian } => {
            if !body.len().is_multiple_of(4) {
                return Err(malformed(
                    "unexpected end of input in the middle of a 4-byte UTF-32 character",
                ));
            }
            let mut text = String::with_capacity(body.len() / 4);
            for c in body.chunks_exact(4) {
                let quad = [c[0], c[1], c[2], c[3]];
                let code = if big_endian {
                    u32::from_be_bytes(quad)
                } else {
                    u32::from_le_bytes(quad)
                };
                if code > 0x10_FFFF {
                    return Err(malformed(format!(
                        "invalid UTF-32 character 0x{code:x} (above 0x0010ffff)"
                    )));
                }
                text.push(char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            Ok(Cow::Owned(text.into_bytes()))
        }
    }
}

/// The four hex digits of a `\uXXXX` escape starting at `at`.
fn hex4(text: &[u8], at: usize) -> Option<u16> {
    let digits = text.get(at..at + 4)?;
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// Rewrites `\uXXXX` escapes of surrogates that do not form a pair into `\uFFFD`:
/// Jackson reads them into the Java string as they are, serde_json refuses them.
/// Everything else, malformed text included, is left to the JSON parser.
fn replace_lone_surrogates(text: &[u8]) -> Cow<'_, [u8]> {
    const HIGH: std::ops::Range<u16> = 0xD800..0xDC00;
    const LOW: std::ops::Range<u16> = 0xDC00..0xE000;
    let mut out: Option<Vec<u8>> = None;
    let mut copied = 0;
    let mut in_string = false;
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'"' => {
                in_string = !in_string;
                i += 1;
            }
            b'\\' if in_string => {
                let unit = match text.get(i + 1) {
                    Some(b'u') => hex4(text, i + 2),
                    _ => None,
                };
                let Some(unit) = unit else {
                    i += 2;
                    continue;
                };
                let paired = HIGH.contains(&unit)
                    && text.get(i + 6..i + 8) == Some(b"\\u")
                    && hex4(text, i + 8).is_some_and(|next| LOW.contains(&next));
                if paired {
                    i += 12;
                } else if HIGH.contains(&unit) || LOW.contains(&unit) {
                    let out = out.get_or_insert_with(|| Vec::with_capacity(text.len()));
                    out.extend_from_slice(&text[copied..i]);
                    out.extend_from_slice(b"\\uFFFD");
                    i += 6;
                    copied = i;
                } else {
                    i += 6;
                }
            }
            _ => i += 1,
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.extend_from_slice(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

fn kind(v: &Value) -> (&'static str, &'static str) {
    match v {
        Value::Null => ("Null", "VALUE_NULL"),
        Value::Bool(true) => ("Boolean", "VALUE_TRUE"),
        Value::Bool(false) => ("Boolean", "VALUE_FALSE"),
        Value::Number(n) if n.is_i64() || n.is_u64() => ("Integer", "VALUE_NUMBER_INT"),
        Value::Number(_) => ("Floating-point", "VALUE_NUMBER_FLOAT"),
        Value::String(_) => ("String", "VALUE_STRING"),
        Value::Array(_) => ("Array", "START_ARRAY"),
        Value::Object(_) => ("Object", "START_OBJECT"),
    }
}

fn mismatch(java_type: &str, v: &Value) -> RestError {
    let (what, token) = kind(v);
    RestError::internal(format!(
        "Cannot deserialize value of type `{java_type}` from {what} value (token `JsonToken.{token}`)"
    ))
}

fn unrecognized(field: &str, class: &str, known: &[&str]) -> RestError {
    let list: Vec<String> = known.iter().map(|k| format!("\"{k}\"")).collect();
    RestError::internal(format!(
        "Unrecognized field \"{field}\" (class {ENTITIES}.{class}), not marked as ignorable \
         ({} known properties: {}])",
        known.len(),
        list.join(", ")
    ))
}

fn null_body(what: &str) -> RestError {
    RestError::internal(format!("The request body is missing or null; expected {what}"))
}

/// A JSON scalar as Jackson reads it into a `String`.
fn string(v: Value) -> Result<Option<String>, RestError> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Bool(b) => Ok(Some(b.to_string())),
        Value::Number(n) => Ok(Some(n.to_string())),
        other => Err(mismatch("java.lang.String", &other)),
    }
}

/// A JSON object of scalars as Jackson reads it into a `Map<String, String>`.
fn string_map(v: Value) -> Result<Option<NullableConfig>, RestError> {
    match v {
        Value::Null => Ok(None),
        Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| Ok((k, string(v)?)))
            .collect::<Result<_, _>>()
            .map(Some),
        other => Err(mismatch(STRING_MAP, &other)),
    }
}

fn object(v: Value) -> Result<Option<JsonObject>, RestError> {
    match v {
        Value::Null => Ok(None),
        Value::Object(m) => Ok(Some(m)),
        other => Err(mismatch(
            "java.util.LinkedHashMap<java.lang.String,java.lang.Object>",
            &other,
        )),
    }
}

/// A connector configuration body (`PUT`/`PATCH .../config`, validate).
impl FromJson for NullableConfig {
    fn from_json(value: Value) -> Result<Self, RestError> {
        string_map(value)?.ok_or_else(|| null_body("a JSON object of configuration properties"))
    }
}

impl FromJson for CreateConnectorRequest {
    fn from_json(value: Value) -> Result<Self, RestError> {
        const CLASS: &str = "CreateConnectorRequest";
        let map = match value {
            Value::Object(m) => m,
            Value::Null => {
                return Err(null_body(
                    "a JSON object with \"name\", \"config\" and optionally \"initial_state\"",
                ))
            }
            other => return Err(mismatch(&format!("{ENTITIES}.{CLASS}"), &other)),
        };
        let mut req = CreateConnectorRequest {
            name: None,
            config: None,
            initial_state: None,
        };
        for (k, v) in map {
            match k.as_str() {
                "name" => req.name = string(v)?,
                "config" => req.config = string_map(v)?,
                "initial_state" => {
                    req.initial_state = match string(v)? {
                        None => None,
                        Some(s) => Some(InitialState::parse(&s).ok_or_else(|| {
                            RestError::internal(format!(
                                "Cannot construct instance of `{ENTITIES}.{CLASS}$InitialState`, \
                                 problem: No enum constant {ENTITIES}.{CLASS}.InitialState.{}",
                                s.to_uppercase()
                            ))
                        })?),
                    }
                }
                _ => return Err(unrecognized(&k, CLASS, &["name", "config", "initial_state"])),
            }
        }
        Ok(req)
    }
}

/// The `PATCH /connectors/NAME/offsets` body; `None` when `offsets` is null or absent.
#[derive(Debug)]
pub struct OffsetsBody(pub Option<Vec<ConnectorOffset>>);

impl FromJson for OffsetsBody {
    fn from_json(value: Value) -> Result<Self, RestError> {
        let map = match value {
            Value::Object(m) => m,
            Value::Null => return Err(null_body("a JSON object with \"offsets\"")),
            other => return Err(mismatch(&format!("{ENTITIES}.ConnectorOffsets"), &other)),
        };
        let mut offsets = None;
        for (k, v) in map {
            if k != "offsets" {
                return Err(unrecognized(&k, "ConnectorOffsets", &["offsets"]));
            }
            offsets = match v {
                Value::Null => None,
                Value::Array(items) => Some(
                    items
                        .into_iter()
                        .map(connector_offset)
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                other => {
                    return Err(mismatch(
                        &format!("java.util.List<{ENTITIES}.ConnectorOffset>"),
                        &other,
                    ))
                }
            };
        }
        Ok(OffsetsBody(offsets))
    }
}

fn connector_offset(v: Value) -> Result<ConnectorOffset, RestError> {
    let map = match v {
        Value::Object(m) => m,
        Value::Null => {
            return Ok(ConnectorOffset {
                partition: None,
                offset: None,
            })
        }
        other => {
            let (what, _) = kind(&other);
            return Err(RestError::internal(format!(
                "Cannot construct instance of `{ENTITIES}.ConnectorOffset` (although at least one \
                 Creator exists): no {what}-argument constructor/factory method to deserialize \
                 from {what} value"
            )));
        }
    };
    let mut out = ConnectorOffset {
        partition: None,
        offset: None,
    };
    for (k, v) in map {
        match k.as_str() {
            "partition" => out.partition = object(v)?,
            "offset" => out.offset = object(v)?,
            _ => return Err(unrecognized(&k, "ConnectorOffset", &["partition", "offset"])),
        }
    }
    Ok(out)
}

/// The `PUT /admin/loggers/NAME` body: a map whose `level` entry is read.
#[derive(Debug)]
pub struct LevelBody(pub Option<String>);

impl FromJson for LevelBody {
    fn from_json(value: Value) -> Result<Self, RestError> {
        let mut map = string_map(value)?.ok_or_else(|| null_body("a JSON object with \"level\""))?;
        Ok(LevelBody(map.shift_remove("level").flatten()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_read_as_strings_and_nulls_are_kept() {
        let cfg = NullableConfig::from_json(json!({"a": 1, "b": true, "c": null, "d": "x"})).unwrap();
        assert_eq!(cfg["a"].as_deref(), Some("1"));
        assert_eq!(cfg["b"].as_deref(), Some("true"));
        assert_eq!(cfg["c"], None);
        assert_eq!(cfg["d"].as_deref(), Some("x"));
    }

    #[test]
    fn numbers_keep_their_text() {
        let v = parse(br#"{"x": 1.50, "y": 100000000000000000000001}"#).unwrap();
        let cfg = NullableConfig::from_json(v).unwrap();
        assert_eq!(cfg["x"].as_deref(), Some("1.50"));
        assert_eq!(cfg["y"].as_deref(), Some("100000000000000000000001"));
    }

    #[test]
    fn trailing_content_is_ignored_and_empty_is_null() {
        assert_eq!(parse(br#"{"a":"b"} trailing"#).unwrap(), json!({"a": "b"}));
        assert_eq!(parse(b"  ").unwrap(), Value::Null);
        assert_eq!(parse(b"{").unwrap_err().status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn shapes_fail_like_jackson() {
        let e = NullableConfig::from_json(json!({"a": [1]})).unwrap_err();
        assert!(e
            .message
            .starts_with("Cannot deserialize value of type `java.lang.String`"));
        let e = CreateConnectorRequest::from_json(json!({"name": "x", "nope": 1})).unwrap_err();
        assert!(
            e.message.starts_with("Unrecognized field \"nope\""),
            "{}",
            e.message
        );
        let e = OffsetsBody::from_json(json!({"offsets": [123]})).unwrap_err();
        assert!(
            e.message.starts_with("Cannot construct instance"),
            "{}",
            e.message
        );
        let e = OffsetsBody::from_json(json!({"offsets": [{"partition": []}]})).unwrap_err();
        assert!(e.message.starts_with("Cannot deserialize value"), "{}", e.message);
    }

    #[test]
    fn lone_surrogate_escapes_read_as_replacement_characters() {
        let v =
            parse(br#"{"a": "x\ud800y", "b": "\udc00", "c": "\ud83d\ude00", "\ud800\ud800": 1}"#).unwrap();
        assert_eq!(v["a"], "x\u{fffd}y");
        assert_eq!(v["b"], "\u{fffd}");
        assert_eq!(v["c"], "\u{1f600}", "a pair stays a pair");
        assert_eq!(v["\u{fffd}\u{fffd}"], 1);
        // Escaped backslashes and quotes are not escapes of a surrogate.
        let v = parse(br#"["\\ud800", "\"\ud800"]"#).unwrap();
        assert_eq!(v, json!(["\\ud800", "\"\u{fffd}"]));
        // Malformed escapes are still the parser's to report.
        assert_eq!(
            parse(br#""\ud80""#).unwrap_err().status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            parse(br#""\u+800""#).unwrap_err().status,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for unit in bom.then_some(0xFEFF).into_iter().chain(text.encode_utf16()) {
            out.extend(if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            });
        }
        out
    }

    fn utf32(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for c in bom.then_some('\u{feff}').into_iter().chain(text.chars()) {
            let c = c as u32;
            out.extend(if big_endian {
                c.to_be_bytes()
            } else {
                c.to_le_bytes()
            });
        }
        out
    }

    #[test]
    fn encodings_are_detected_like_jackson() {
        let text = r#"{"level": "débug €"}"#;
        let want = json!({"level": "débug €"});
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(parse(&bom).unwrap(), want, "UTF-8 with a byte order mark");
        for big_endian in [true, false] {
            for with_bom in [true, false] {
                assert_eq!(parse(&utf16(text, big_endian, with_bom)).unwrap(), want);
                assert_eq!(parse(&utf32(text, big_endian, with_bom)).unwrap(), want);
            }
        }
        assert_eq!(
            parse(&utf16("1", true, false)).unwrap(),
            json!(1),
            "two bytes: UTF-16"
        );
        assert_eq!(parse(b"\xEF\xBB\xBF  ").unwrap(), Value::Null);
        let mut cut = utf32(text, true, false);
        cut.pop();
        assert!(parse(&cut).unwrap_err().message.contains("UTF-32"));
        assert_eq!(
            parse(&[0, 0, 0, 0x31, 0, 0x11, 0, 0]).unwrap_err().message,
            "Malformed JSON request body: invalid UTF-32 character 0x110000 (above 0x0010ffff)"
        );
        assert!(parse(&[0, 0, 0xFF, 0xFE, 0x31]).is_err(), "UCS-4 2143 order");
        // A lone surrogate in UTF-16 reads as U+FFFD, as Java's decoder makes it.
        let mut odd = utf16(r#"["a"#, false, false);
        odd.extend_from_slice(&[0x00, 0xD8]);
        odd.extend(utf16(r#""]"#, false, false));
        assert_eq!(parse(&odd).unwrap(), json!(["a\u{fffd}"]));
    }

    #[test]
    fn initial_state_ignores_case() {
        let r =
            CreateConnectorRequest::from_json(json!({"name": "x", "config": {}, "initial_state": "paused"}))
                .unwrap();
        assert_eq!(r.initial_state, Some(InitialState::Paused));
        let e = CreateConnectorRequest::from_json(json!({"initial_state": "gone"})).unwrap_err();
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
