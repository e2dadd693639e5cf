//! The dead letter queue: a record the consumer gave up on is copied to
//! `orders_dlq` unchanged (key, value, headers) with headers saying why and where
//! it came from, so it can be inspected and replayed while its partition moves on.

use std::time::Duration;

use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};

/// Header holding the last processing error.
pub const ERROR_HEADER: &str = "dlq.error";
/// Header holding the number of attempts made.
pub const ATTEMPTS_HEADER: &str = "dlq.attempts";
/// Headers naming the original record.
pub const ORIGINAL_TOPIC_HEADER: &str = "dlq.original.topic";
pub const ORIGINAL_PARTITION_HEADER: &str = "dlq.original.partition";
pub const ORIGINAL_OFFSET_HEADER: &str = "dlq.original.offset";

/// Why a record is dead-lettered.
#[derive(Clone, Debug)]
pub struct Failure {
    pub error: String,
    pub attempts: u32,
}

/// The original record's headers followed by the `dlq.*` headers.
pub fn dlq_headers<M: Message>(original: &M, failure: &Failure) -> OwnedHeaders {
    let mut headers = OwnedHeaders::new();
    if let Some(hs) = original.headers() {
        for h in hs.iter() {
            headers = headers.insert(Header {
                key: h.key,
                value: h.value,
            });
        }
    }
    let context = [
        (ERROR_HEADER, failure.error.clone()),
        (ATTEMPTS_HEADER, failure.attempts.to_string()),
        (ORIGINAL_TOPIC_HEADER, original.topic().to_owned()),
        (ORIGINAL_PARTITION_HEADER, original.partition().to_string()),
        (ORIGINAL_OFFSET_HEADER, original.offset().to_string()),
    ];
    for (key, value) in &context {
        headers = headers.insert(Header {
            key,
            value: Some(value.as_bytes()),
        });
    }
    headers
}

/// Sends `original` to `topic` with the failure headers and waits for the broker's ack.
pub async fn send<M: Message>(
    producer: &FutureProducer,
    topic: &str,
    original: &M,
    failure: &Failure,
) -> Result<(), rdkafka::error::KafkaError> {
    let mut record: FutureRecord<'_, [u8], [u8]> =
        FutureRecord::to(topic).headers(dlq_headers(original, failure));
    if let Some(k) = original.key() {
        record = record.key(k);
    }
    if let Some(v) = original.payload() {
        record = record.payload(v);
    }
    producer
        .send(record, Duration::from_secs(30))
        .await
        .map(|_| ())
        .map_err(|(e, _)| e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdkafka::message::{OwnedMessage, Timestamp};

    #[test]
    fn keeps_original_headers_and_adds_context() {
        let original = OwnedMessage::new(
            Some(b"value".to_vec()),
            Some(b"key".to_vec()),
            "Order_events".into(),
            Timestamp::NotAvailable,
            2,
            17,
            Some(OwnedHeaders::new().insert(Header {
                key: "id",
                value: Some("e-1"),
            })),
        );
        let failure = Failure {
            error: "invalid OrderCreated payload".into(),
            attempts: 3,
        };
        let hs = dlq_headers(&original, &failure);
        let got: Vec<(String, String)> = hs
            .iter()
            .map(|h| {
                (
                    h.key.to_owned(),
                    String::from_utf8_lossy(h.value.unwrap()).into_owned(),
                )
            })
            .collect();
        let want = [
            ("id", "e-1"),
            (ERROR_HEADER, "invalid OrderCreated payload"),
            (ATTEMPTS_HEADER, "3"),
            (ORIGINAL_TOPIC_HEADER, "Order_events"),
            (ORIGINAL_PARTITION_HEADER, "2"),
            (ORIGINAL_OFFSET_HEADER, "17"),
        ];
        let want: Vec<(String, String)> = want.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        assert_eq!(got, want);
    }
}
