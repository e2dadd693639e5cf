//! Arbitrary bytes through the JsonConverter's reader (`toConnectData`), with and without
//! the schema envelope and with both decimal formats; whatever it reads is written back
//! (`fromConnectData`) and read again. A malformed document must give an error, never a
//! panic, and a value the reader accepted must survive the round trip.

#![no_main]

use ferry_converters::{DecimalFormat, JsonConverter, JsonOptions};
use ferry_core::Value;
use libfuzzer_sys::fuzz_target;

/// NaN and infinities are written as the strings Jackson writes ("NaN", "Infinity"), which
/// a schemaless reader reads back as strings: no value equality for those.
fn all_finite(v: &Value) -> bool {
    match v {
        Value::Float32(f) => f.is_finite(),
        Value::Float64(f) => f.is_finite(),
        Value::Array(items) => items.iter().all(all_finite),
        Value::Map(entries) => entries.iter().all(|(k, v)| all_finite(k) && all_finite(v)),
        Value::Struct(s) => s.values().iter().all(all_finite),
        _ => true,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, doc)) = data.split_first() else {
        return;
    };
    let opts = JsonOptions {
        schemas_enable: flags & 1 == 1,
        decimal_format: if flags & 2 == 2 {
            DecimalFormat::Numeric
        } else {
            DecimalFormat::Base64
        },
        replace_null_with_default: flags & 4 == 4,
    };
    let conv = JsonConverter::with_options(opts);
    let Ok(read) = conv.deserialize(Some(doc)) else {
        return;
    };
    let mut out = Vec::new();
    // A value the writer refuses (or writes as null) has nothing to read back.
    if let Ok(true) = conv.serialize_into(read.schema.as_ref(), &read.value, &mut out) {
        let again = conv.deserialize(Some(&out)).unwrap_or_else(|e| {
            panic!(
                "written JSON does not read back: {e}\n{}",
                String::from_utf8_lossy(&out)
            )
        });
        if all_finite(&read.value) {
            assert_eq!(again.value, read.value, "round trip changed the value");
        }
    }
});
