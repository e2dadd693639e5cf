//! Request bodies: the [`Json`] extractor and the conversion of JSON into the
//! request entities with Connect's leniency and its status codes.
//!
//! Connect reads bodies with Jackson: malformed JSON, wrong shapes and unknown
//! fields are not mapped to 400 but surface as 500, with Jackson's wording
//! (`Unrecognized field "x" ...`, `Cannot deserialize value of type ...`).
//! Scalars are accepted where strings are expected (`1` reads as `"1"`), an
//! empty body reads as `null`, and anything after the first JSON value is
//! ignored.

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
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Value>();
    match stream.next() {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) => Err(RestError::internal(format!("Malformed JSON request body: {e}"))),
        None => Ok(Value::Null),
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
    fn initial_state_ignores_case() {
        let r =
            CreateConnectorRequest::from_json(json!({"name": "x", "config": {}, "initial_state": "paused"}))
                .unwrap();
        assert_eq!(r.initial_state, Some(InitialState::Paused));
        let e = CreateConnectorRequest::from_json(json!({"initial_state": "gone"})).unwrap_err();
        assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
