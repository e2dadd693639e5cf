//! Recognising Debezium change-event envelopes (`io.debezium.data.Envelope`).

use ferry_core::{DataError, Field, Schema, Struct};

use crate::util;

/// Suffix every envelope schema name ends with.
pub const ENVELOPE_SUFFIX: &str = ".Envelope";
/// Envelope field names.
pub const BEFORE: &str = "before";
/// State after the change.
pub const AFTER: &str = "after";
/// Source metadata.
pub const SOURCE: &str = "source";
/// Operation code.
pub const OP: &str = "op";
/// Processing time in milliseconds.
pub const TS_MS: &str = "ts_ms";
/// Transaction metadata.
pub const TRANSACTION: &str = "transaction";

/// True when the value schema is named like a Debezium envelope (`SmtManager.isValidEnvelope`).
pub fn is_envelope(value_schema: Option<&Schema>) -> bool {
    value_schema
        .and_then(Schema::name)
        .is_some_and(|n| n.ends_with(ENVELOPE_SUFFIX))
}

/// The `after`/`before` field of an envelope schema, or `ExtractField`'s error.
pub(crate) fn state_field<'a>(envelope: &'a Schema, name: &str) -> Result<&'a Field, DataError> {
    envelope
        .field(name)
        .ok_or_else(|| DataError::new(format!("Unknown field: {name}")))
}

/// The envelope's `op` code.
pub(crate) fn operation(envelope: &Struct) -> Result<&str, DataError> {
    util::get_string(envelope, OP)?
        .ok_or_else(|| DataError::new("The envelope has no operation (op is null)"))
}
