//! Reading `Order_events` records as Ferry writes them.
//!
//! With the worker's default JsonConverter (`schemas.enable=true`, as in the
//! debezium/connect image) the value is an envelope
//! `{"schema":{"type":"string","name":"io.debezium.data.Json",...},"payload":"<payload JSON text>"}`
//! and the key is `{"schema":{"type":"string",...},"payload":"<aggregate_id>"}`.
//! [`connect_json`] unwraps that, and also accepts `schemas.enable=false` (a JSON
//! string) and StringConverter (the raw payload JSON), so the consumer works with
//! any of the three worker settings.

use serde::Deserialize;
use serde_json::Value;

/// Header the EventRouter puts the outbox row's `id` in.
pub const EVENT_ID_HEADER: &str = "id";

/// A record that is not a valid `OrderCreated` event.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EventError {
    #[error("record has no value")]
    NoValue,
    #[error("value is not JSON: {0}")]
    NotJson(String),
    #[error("record has no `{EVENT_ID_HEADER}` header (the outbox event id)")]
    NoEventId,
    #[error("invalid OrderCreated payload: {0}")]
    InvalidPayload(String),
}

/// The event the order service writes (`outbox.payload`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OrderCreated {
    pub order_id: i64,
    pub customer_id: String,
    pub total: serde_json::Number,
}

/// Decodes Kafka Connect JSON: unwraps a `{"schema","payload"}` envelope, then parses
/// a string holding JSON text (io.debezium.data.Json) into the JSON it holds.
pub fn connect_json(bytes: &[u8]) -> Result<Value, EventError> {
    let mut value: Value = serde_json::from_slice(bytes).map_err(|e| EventError::NotJson(e.to_string()))?;
    if let Value::Object(map) = &value {
        if map.len() == 2 && map.contains_key("schema") && map.contains_key("payload") {
            value = map["payload"].clone();
        }
    }
    if let Value::String(text) = &value {
        if let Ok(inner) = serde_json::from_str::<Value>(text) {
            return Ok(inner);
        }
    }
    Ok(value)
}

/// The record key as text: the `aggregate_id` (the order id).
pub fn key_text(key: Option<&[u8]>) -> Option<String> {
    let bytes = key?;
    match connect_json(bytes) {
        Ok(Value::String(s)) => Some(s),
        Ok(Value::Number(n)) => Some(n.to_string()),
        _ => Some(String::from_utf8_lossy(bytes).into_owned()),
    }
}

/// Parses a record value into an [`OrderCreated`].
pub fn parse_order_created(value: Option<&[u8]>) -> Result<OrderCreated, EventError> {
    let json = connect_json(value.ok_or(EventError::NoValue)?)?;
    serde_json::from_value(json).map_err(|e| EventError::InvalidPayload(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENVELOPE: &str = r#"{"schema":{"type":"string","optional":false,"name":"io.debezium.data.Json","version":1},"payload":"{\"total\": 42.50, \"orderId\": 7, \"customerId\": \"alice\"}"}"#;

    #[test]
    fn reads_the_json_converter_envelope_with_schemas() {
        let e = parse_order_created(Some(ENVELOPE.as_bytes())).unwrap();
        assert_eq!(e.order_id, 7);
        assert_eq!(e.customer_id, "alice");
        assert_eq!(e.total.to_string(), "42.50");
    }

    #[test]
    fn reads_schemaless_json_and_string_converter_values() {
        let schemaless = r#""{\"total\": 1.00, \"orderId\": 8, \"customerId\": \"bob\"}""#;
        let raw = r#"{"total": 1.00, "orderId": 8, "customerId": "bob"}"#;
        for v in [schemaless, raw] {
            assert_eq!(parse_order_created(Some(v.as_bytes())).unwrap().order_id, 8);
        }
    }

    #[test]
    fn keys_in_every_converter_format() {
        let with_schema = br#"{"schema":{"type":"string","optional":false},"payload":"42"}"#;
        assert_eq!(key_text(Some(with_schema)).as_deref(), Some("42"));
        assert_eq!(key_text(Some(b"\"42\"")).as_deref(), Some("42"));
        assert_eq!(key_text(Some(b"42")).as_deref(), Some("42"));
        assert_eq!(key_text(None), None);
    }

    #[test]
    fn a_poison_pill_is_an_invalid_payload() {
        let poison = r#"{"total": "42.50 EUR", "orderId": 9, "customerId": "erin"}"#;
        let err = parse_order_created(Some(poison.as_bytes())).unwrap_err();
        assert!(matches!(err, EventError::InvalidPayload(_)), "{err}");
        assert!(matches!(
            parse_order_created(Some(b"{nope")),
            Err(EventError::NotJson(_))
        ));
        assert_eq!(parse_order_created(None), Err(EventError::NoValue));
    }
}
