//! PostgreSQL's geometric types as Debezium maps them. Only `point` has a mapping
//! (`io.debezium.data.geometry.Point`, from `PostgresValueConverter.convertPoint`);
//! `box`, `circle`, `line`, `lseg`, `path` and `polygon` have none in Debezium (its JDBC
//! type is OTHER), so their columns are skipped unless `include.unknown.datatypes` is on,
//! and `point[]` is skipped like Debezium's other unimplemented arrays (DBZ-459).

use bytes::Bytes;
use ferry_core::{Schema, SchemaBuilder, Struct, Value};

/// `io.debezium.data.geometry.Point.LOGICAL_NAME`.
pub const POINT: &str = "io.debezium.data.geometry.Point";

/// `WKB_POINT`: the WKB geometry type of a 2D point.
const WKB_POINT: u32 = 1;

/// `Point.builder()`: `x`, `y`, the point's WKB and an SRID (always null for PostgreSQL's
/// own `point`).
pub fn point_schema() -> SchemaBuilder {
    Schema::struct_builder()
        .name(POINT)
        .version(1)
        .doc("Geometry (POINT)")
        .field("x", Schema::float64())
        .field("y", Schema::float64())
        .field("wkb", Schema::optional_bytes())
        .field("srid", Schema::optional_int32())
}

/// The WKB of a 2D point as `Point.buildWKBPoint` writes it: byte-order mark 1, then the
/// type and both coordinates little-endian (21 bytes).
pub fn wkb_point(x: f64, y: f64) -> Bytes {
    let mut wkb = Vec::with_capacity(21);
    wkb.push(1);
    wkb.extend_from_slice(&WKB_POINT.to_le_bytes());
    wkb.extend_from_slice(&x.to_le_bytes());
    wkb.extend_from_slice(&y.to_le_bytes());
    Bytes::from(wkb)
}

/// `Point.createValue(schema, x, y)`: the struct of a point of `schema` ([`point_schema`]).
pub fn point_value(schema: &Schema, x: f64, y: f64) -> Value {
    let values = vec![
        Value::Float64(x),
        Value::Float64(y),
        Value::Bytes(wkb_point(x, y)),
        Value::Null,
    ];
    Value::Struct(Struct::from_values(schema.clone(), values).expect("point field count"))
}

/// Parses PostgreSQL's `point` text, `(x,y)`, as pgjdbc's `PGpoint(String)` does (the
/// coordinates trimmed, `NaN` and `±Infinity` allowed).
pub fn parse_point(text: &str) -> Result<(f64, f64), String> {
    let bad = || format!("cannot convert '{text}' to point");
    let inner = text
        .trim()
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(bad)?;
    let (x, y) = inner.split_once(',').ok_or_else(bad)?;
    let coordinate = |s: &str| match s.trim() {
        "NaN" => Ok(f64::NAN),
        "Infinity" => Ok(f64::INFINITY),
        "-Infinity" => Ok(f64::NEG_INFINITY),
        s => s.parse::<f64>().map_err(|_| bad()),
    };
    Ok((coordinate(x)?, coordinate(y)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    #[test]
    fn point_wkb_is_debeziums_little_endian_encoding() {
        // The value the real Debezium 3.6.3 writes for point '(1.5,-1)'.
        let wkb = wkb_point(1.5, -1.0);
        assert_eq!(
            base64::engine::general_purpose::STANDARD.encode(&wkb),
            "AQEAAAAAAAAAAAD4PwAAAAAAAPC/"
        );
        assert_eq!(wkb.len(), 21);
    }

    #[test]
    fn point_text_is_parsed_like_pgpoint() {
        assert_eq!(parse_point("(1.5,-1)"), Ok((1.5, -1.0)));
        assert_eq!(parse_point(" ( 2 , 3e2 ) "), Ok((2.0, 300.0)));
        let (x, y) = parse_point("(NaN,-Infinity)").unwrap();
        assert!(x.is_nan());
        assert_eq!(y, f64::NEG_INFINITY);
        for bad in ["1,2", "(1;2)", "(1,x)", "()"] {
            assert!(parse_point(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn point_struct_has_debeziums_fields_and_a_null_srid() {
        let schema = point_schema().optional().build();
        assert_eq!(schema.name(), Some(POINT));
        assert_eq!(schema.doc(), Some("Geometry (POINT)"));
        let names: Vec<&str> = schema.fields().iter().map(|f| f.name()).collect();
        assert_eq!(names, ["x", "y", "wkb", "srid"]);
        let Value::Struct(s) = point_value(&schema, 1.5, -1.0) else {
            panic!("not a struct")
        };
        assert_eq!(
            s.values(),
            &[
                Value::Float64(1.5),
                Value::Float64(-1.0),
                Value::Bytes(wkb_point(1.5, -1.0)),
                Value::Null
            ]
        );
    }
}
