//! Debezium's `io.debezium.transforms.GeometryFormatTransformer` and
//! `io.debezium.transforms.SwapGeometryCoordinates`, and the (E)WKB byte handling they share
//! (Debezium's `io.debezium.spatial` traversal, reproduced with its quirks: a sub-geometry
//! uses its parent's dimensions, and swapped output keeps the outer byte order).
//!
//! Both rewrite `io.debezium.data.geometry.Geometry` structs (`wkb`, `srid`) in place inside
//! struct values; other records pass unchanged.

use ferry_core::config::Width;
use ferry_core::{
    ConfigDef, ConfigError, ConfigMap, ConfigType, ConnectError, DataError, Importance, Record, Schema,
    SchemaType, Struct, Transformation, Value,
};

use crate::util;

/// Java class name of the format transform.
pub const FORMAT_CLASS: &str = "io.debezium.transforms.GeometryFormatTransformer";
/// Java class name of the coordinate swap transform.
pub const SWAP_CLASS: &str = "io.debezium.transforms.SwapGeometryCoordinates";

const GEOMETRY: &str = "io.debezium.data.geometry.Geometry";
const FORMAT: &str = "format";
const SRIDS: &str = "srids";

const Z_FLAG: u32 = 0x8000_0000;
const M_FLAG: u32 = 0x4000_0000;
const SRID_FLAG: u32 = 0x2000_0000;
const TYPE_MASK: u32 = 0xFF;

/// A failure reading (E)WKB bytes.
#[derive(Debug, thiserror::Error)]
pub enum WkbError {
    /// The bytes end before the geometry does.
    #[error("the geometry bytes end early")]
    Truncated,
    /// An unknown base type.
    #[error("Invalid geometry type: {0}")]
    InvalidType(u32),
}

/// A reader over (E)WKB with a switchable byte order.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    little: bool,
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N], WkbError> {
        let end = self.at.checked_add(N).ok_or(WkbError::Truncated)?;
        let b = self.bytes.get(self.at..end).ok_or(WkbError::Truncated)?;
        self.at = end;
        Ok(b.try_into().expect("slice of N bytes"))
    }
    fn byte(&mut self) -> Result<u8, WkbError> {
        Ok(self.take::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32, WkbError> {
        let b = self.take::<4>()?;
        Ok(if self.little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }
    fn f64(&mut self) -> Result<f64, WkbError> {
        let b = self.take::<8>()?;
        Ok(if self.little {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        })
    }
}

/// Output in one byte order (the outer geometry's).
struct Writer {
    out: Vec<u8>,
    little: bool,
}

impl Writer {
    fn u32(&mut self, v: u32) {
        let b = if self.little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        };
        self.out.extend_from_slice(&b);
    }
    fn f64(&mut self, v: f64) {
        let b = if self.little {
            v.to_le_bytes()
        } else {
            v.to_be_bytes()
        };
        self.out.extend_from_slice(&b);
    }
}

fn is_little(order: u8) -> bool {
    order == 1
}

/// Copies one point, x and y swapped.
fn swap_point(r: &mut Reader<'_>, w: &mut Writer, stride: usize) -> Result<(), WkbError> {
    let (x, y) = (r.f64()?, r.f64()?);
    w.f64(y);
    w.f64(x);
    for _ in 2..stride {
        let v = r.f64()?;
        w.f64(v);
    }
    Ok(())
}

fn swap_points(r: &mut Reader<'_>, w: &mut Writer, stride: usize) -> Result<(), WkbError> {
    let n = r.u32()?;
    w.u32(n);
    for _ in 0..n {
        swap_point(r, w, stride)?;
    }
    Ok(())
}

fn swap_polygon(r: &mut Reader<'_>, w: &mut Writer, stride: usize) -> Result<(), WkbError> {
    let rings = r.u32()?;
    w.u32(rings);
    for _ in 0..rings {
        swap_points(r, w, stride)?;
    }
    Ok(())
}

/// One geometry from its type word on (Debezium's `GeometryTraverser.traverse` with the swap visitor).
fn swap_geometry(r: &mut Reader<'_>, w: &mut Writer) -> Result<(), WkbError> {
    let ty = r.u32()?;
    let stride = 2 + usize::from(ty & Z_FLAG != 0) + usize::from(ty & M_FLAG != 0);
    w.u32(ty);
    if ty & SRID_FLAG != 0 {
        let srid = r.u32()?;
        w.u32(srid);
    }
    let base = ty & TYPE_MASK;
    match base {
        1 => swap_point(r, w, stride),
        2 => swap_points(r, w, stride),
        3 => swap_polygon(r, w, stride),
        4..=6 => {
            let n = r.u32()?;
            w.u32(n);
            for _ in 0..n {
                let order = r.byte()?;
                let outer = r.little;
                r.little = is_little(order);
                let sub_type = r.u32()?;
                w.out.push(order);
                w.u32(sub_type);
                let res = match base {
                    4 => swap_point(r, w, stride),
                    5 => swap_points(r, w, stride),
                    _ => swap_polygon(r, w, stride),
                };
                r.little = outer;
                res?;
            }
            Ok(())
        }
        7 => {
            let n = r.u32()?;
            w.u32(n);
            for _ in 0..n {
                let order = r.byte()?;
                let outer = r.little;
                r.little = is_little(order);
                w.out.push(order);
                let res = swap_geometry(r, w);
                r.little = outer;
                res?;
            }
            Ok(())
        }
        other => Err(WkbError::InvalidType(other)),
    }
}

/// The geometry with x and y of every coordinate swapped.
pub fn swap_coordinates(wkb: &[u8]) -> Result<Vec<u8>, WkbError> {
    let order = *wkb.first().ok_or(WkbError::Truncated)?;
    let mut r = Reader {
        bytes: wkb,
        at: 1,
        little: is_little(order),
    };
    let mut w = Writer {
        out: Vec::with_capacity(wkb.len()),
        little: r.little,
    };
    w.out.push(order);
    swap_geometry(&mut r, &mut w)?;
    Ok(w.out)
}

fn type_word(wkb: &[u8]) -> Option<(bool, u32)> {
    let little = is_little(*wkb.first()?);
    let b: [u8; 4] = wkb.get(1..5)?.try_into().ok()?;
    Some((
        little,
        if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        },
    ))
}

/// Whether the bytes are EWKB (the type word carries the SRID flag).
pub fn is_extended(wkb: &[u8]) -> bool {
    type_word(wkb).is_some_and(|(_, ty)| ty & SRID_FLAG != 0)
}

/// WKB to EWKB: the SRID flag set and the SRID after the type word.
pub fn to_extended(wkb: &[u8], srid: i32) -> Result<Vec<u8>, WkbError> {
    let (little, ty) = type_word(wkb).ok_or(WkbError::Truncated)?;
    let mut w = Writer {
        out: Vec::with_capacity(wkb.len() + 4),
        little,
    };
    w.out.push(wkb[0]);
    w.u32(ty | SRID_FLAG);
    w.u32(srid as u32);
    w.out.extend_from_slice(&wkb[5..]);
    Ok(w.out)
}

/// EWKB to WKB: the SRID flag and the SRID removed.
pub fn to_plain(ewkb: &[u8]) -> Result<Vec<u8>, WkbError> {
    let (little, ty) = type_word(ewkb).ok_or(WkbError::Truncated)?;
    let rest = ewkb.get(9..).ok_or(WkbError::Truncated)?;
    let mut w = Writer {
        out: Vec::with_capacity(ewkb.len() - 4),
        little,
    };
    w.out.push(ewkb[0]);
    w.u32(ty & !SRID_FLAG);
    w.out.extend_from_slice(rest);
    Ok(w.out)
}

fn wkb_and_srid(geometry: &Struct) -> Result<(Option<&[u8]>, Option<i32>), DataError> {
    let wkb = match util::get(geometry, "wkb")? {
        Value::Bytes(b) => Some(&b[..]),
        _ => None,
    };
    let srid = util::get_int32(geometry, "srid")?;
    Ok((wkb, srid))
}

/// Walks a struct value, rewriting each Geometry struct with `rewrite`; `into_collections`
/// also walks arrays and maps (SwapGeometryCoordinates does, the format transform not).
/// As Connect's `Struct.get`, a null field with a default is put back as its default.
fn walk_struct(
    s: &mut Struct,
    into_collections: bool,
    rewrite: &mut dyn FnMut(&mut Struct) -> Result<(), ConnectError>,
) -> Result<(), ConnectError> {
    let schema = s.schema().clone();
    for f in schema.fields() {
        let current = s.get_index(f.index()).cloned().unwrap_or_default();
        let value = if current.is_null() {
            f.schema().default_value().cloned().unwrap_or_default()
        } else {
            current
        };
        let value = walk_value(value, f.schema(), into_collections, rewrite)?;
        s.put(f.name(), value)?;
    }
    Ok(())
}

fn walk_value(
    mut value: Value,
    schema: &Schema,
    into_collections: bool,
    rewrite: &mut dyn FnMut(&mut Struct) -> Result<(), ConnectError>,
) -> Result<Value, ConnectError> {
    match (&mut value, schema.schema_type()) {
        (Value::Null, _) => {}
        (Value::Struct(inner), SchemaType::Struct) => {
            if schema.name() == Some(GEOMETRY) {
                rewrite(inner)?;
            } else {
                walk_struct(inner, into_collections, rewrite)?;
            }
        }
        (Value::Array(items), SchemaType::Array) if into_collections => {
            if let Some(item_schema) = schema.value_schema() {
                let taken = std::mem::take(items);
                *items = taken
                    .into_iter()
                    .map(|v| walk_value(v, item_schema, true, rewrite))
                    .collect::<Result<_, _>>()?;
            }
        }
        (Value::Map(entries), SchemaType::Map) if into_collections => {
            if let (Some(ks), Some(vs)) = (schema.key_schema(), schema.value_schema()) {
                let taken = std::mem::take(entries);
                *entries = taken
                    .into_iter()
                    .map(|(k, v)| {
                        Ok((
                            walk_value(k, ks, true, rewrite)?,
                            walk_value(v, vs, true, rewrite)?,
                        ))
                    })
                    .collect::<Result<_, ConnectError>>()?;
            }
        }
        _ => {}
    }
    Ok(value)
}

fn apply_to_value(
    mut record: Record,
    into_collections: bool,
    rewrite: &mut dyn FnMut(&mut Struct) -> Result<(), ConnectError>,
) -> Result<Option<Record>, ConnectError> {
    if let Value::Struct(s) = &mut record.value {
        walk_struct(s, into_collections, rewrite)?;
    }
    Ok(Some(record))
}

/// The conversion the format transform applies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum GeometryFormat {
    /// `format=wkb` (the default): WKB geometries get their SRID embedded (EWKB).
    #[default]
    Wkb,
    /// `format=ewkb`: EWKB geometries lose the embedded SRID (WKB).
    Ewkb,
}

/// Debezium's GeometryFormatTransformer. As upstream, once it meets an EWKB geometry it
/// keeps converting to WKB for the rest of its life.
#[derive(Debug, Default)]
pub struct GeometryFormatTransformer {
    format: GeometryFormat,
}

fn format_config_def() -> ConfigDef {
    ConfigDef::new().define(
        util::debezium_field(FORMAT, ConfigType::String, "Target Format")
            .default_value("wkb")
            .width(Width::Medium)
            .importance(Importance::Low)
            .doc("wkb turns WKB geometries into EWKB (SRID embedded); ewkb turns EWKB geometries into WKB."),
    )
}

impl Transformation for GeometryFormatTransformer {
    fn config_def(&self) -> ConfigDef {
        format_config_def()
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        let raw = config.get(FORMAT).map(String::as_str).unwrap_or("wkb");
        self.format = match raw.trim().to_lowercase().as_str() {
            "wkb" => GeometryFormat::Wkb,
            "ewkb" => GeometryFormat::Ewkb,
            _ => {
                return Err(ConfigError::invalid(
                    FORMAT,
                    raw,
                    format!("The '{FORMAT}' value is invalid: Value must be one of wkb, ewkb"),
                ))
            }
        };
        Ok(())
    }

    fn apply(&mut self, record: Record) -> Result<Option<Record>, ConnectError> {
        let format = &mut self.format;
        apply_to_value(record, false, &mut |geometry| {
            let (wkb, srid) = wkb_and_srid(geometry)?;
            let wkb = wkb.ok_or_else(|| DataError::new("The geometry has no wkb"))?;
            if is_extended(wkb) {
                *format = GeometryFormat::Ewkb;
            }
            let converted = match *format {
                GeometryFormat::Wkb => {
                    let srid =
                        srid.ok_or_else(|| ConnectError::data("Cannot convert to EWKB when SRID is null"))?;
                    if is_extended(wkb) {
                        return Ok(());
                    }
                    to_extended(wkb, srid)
                }
                GeometryFormat::Ewkb => {
                    if !is_extended(wkb) {
                        return Ok(());
                    }
                    to_plain(wkb)
                }
            }
            .map_err(|e| DataError::new(e.to_string()))?;
            geometry.put("wkb", Value::Bytes(converted.into()))?;
            Ok(())
        })
    }
}

/// Debezium's SwapGeometryCoordinates: x and y swapped in geometries whose SRID is listed.
#[derive(Debug)]
pub struct SwapGeometryCoordinates {
    srids: Vec<i32>,
}

impl Default for SwapGeometryCoordinates {
    fn default() -> Self {
        SwapGeometryCoordinates {
            srids: vec![4326, 3857, 4269],
        }
    }
}

fn swap_config_def() -> ConfigDef {
    ConfigDef::new().define(
        util::debezium_field(
            SRIDS,
            ConfigType::String,
            "Geometry SRIDs that should be considered for coordinate swapping",
        )
        .width(Width::Medium)
        .importance(Importance::Low)
        .doc("Comma-separated SRIDs of the geometries whose coordinates are swapped (default 4326, 3857, 4269)."),
    )
}

impl Transformation for SwapGeometryCoordinates {
    fn config_def(&self) -> ConfigDef {
        swap_config_def()
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        if let Some(list) = config.get(SRIDS) {
            self.srids = list
                .split(',')
                .map(|s| {
                    let s = s.trim();
                    s.parse::<i32>()
                        .map_err(|_| ConfigError::other(Some(SRIDS), format!("For input string: \"{s}\"")))
                })
                .collect::<Result<_, _>>()?;
        } else {
            *self = SwapGeometryCoordinates::default();
        }
        Ok(())
    }

    fn apply(&mut self, record: Record) -> Result<Option<Record>, ConnectError> {
        let srids = &self.srids;
        apply_to_value(record, true, &mut |geometry| {
            let (wkb, srid) = wkb_and_srid(geometry)?;
            let (Some(srid), Some(wkb)) = (srid, wkb) else {
                return Ok(());
            };
            if !srids.contains(&srid) {
                return Ok(());
            }
            let swapped = swap_coordinates(wkb)
                .map_err(|e| DataError::new(format!("Failed to swap EWKB/WKB coordinates: {e}")))?;
            geometry.put("wkb", Value::Bytes(swapped.into()))?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point_le(x: f64, y: f64) -> Vec<u8> {
        let mut v = vec![1u8];
        v.extend_from_slice(&1u32.to_le_bytes());
        v.extend_from_slice(&x.to_le_bytes());
        v.extend_from_slice(&y.to_le_bytes());
        v
    }

    fn geometry_schema() -> Schema {
        Schema::struct_builder()
            .name(GEOMETRY)
            .version(1)
            .doc("Geometry")
            .optional()
            .field("wkb", Schema::bytes())
            .field("srid", Schema::optional_int32())
            .build()
    }

    fn record(wkb: Vec<u8>, srid: Option<i32>) -> Record {
        let row = Schema::struct_builder()
            .name("g.public.t.Value")
            .field("id", Schema::int32())
            .field("shape", geometry_schema())
            .field("shapes", Schema::array(geometry_schema()).optional().build())
            .build();
        let geometry = |wkb: Vec<u8>| {
            Value::Struct(
                Struct::from_values(
                    geometry_schema(),
                    vec![Value::Bytes(wkb.into()), srid.map_or(Value::Null, Value::Int32)],
                )
                .unwrap(),
            )
        };
        let value = Struct::from_values(
            row.clone(),
            vec![
                Value::Int32(1),
                geometry(wkb.clone()),
                Value::Array(vec![geometry(wkb)]),
            ],
        )
        .unwrap();
        Record::new("t", Some(row), Value::Struct(value))
    }

    fn shape(r: &Record, field: &str) -> Vec<u8> {
        let v = r.value.as_struct().unwrap().get(field).unwrap();
        let g = match v {
            Value::Array(items) => items[0].as_struct().unwrap().clone(),
            other => other.as_struct().unwrap().clone(),
        };
        match g.get("wkb") {
            Some(Value::Bytes(b)) => b.to_vec(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn swaps_points_lines_polygons_and_collections() {
        assert_eq!(swap_coordinates(&point_le(1.0, 2.0)).unwrap(), point_le(2.0, 1.0));
        // A big-endian EWKB line string with Z: the SRID is kept, Z stays in place.
        let mut line = vec![0u8];
        line.extend_from_slice(&(2 | Z_FLAG | SRID_FLAG).to_be_bytes());
        line.extend_from_slice(&4326u32.to_be_bytes());
        line.extend_from_slice(&1u32.to_be_bytes());
        for v in [1.0f64, 2.0, 3.0] {
            line.extend_from_slice(&v.to_be_bytes());
        }
        let swapped = swap_coordinates(&line).unwrap();
        assert_eq!(&swapped[..13], &line[..13]);
        assert_eq!(&swapped[13..21], &2.0f64.to_be_bytes());
        assert_eq!(&swapped[21..29], &1.0f64.to_be_bytes());
        assert_eq!(&swapped[29..], &3.0f64.to_be_bytes());
        // A collection of one point and one polygon with one ring of one point.
        let mut c = vec![1u8];
        c.extend_from_slice(&7u32.to_le_bytes());
        c.extend_from_slice(&2u32.to_le_bytes());
        c.extend_from_slice(&point_le(5.0, 6.0));
        c.push(1);
        c.extend_from_slice(&3u32.to_le_bytes());
        c.extend_from_slice(&1u32.to_le_bytes());
        c.extend_from_slice(&1u32.to_le_bytes());
        c.extend_from_slice(&7.0f64.to_le_bytes());
        c.extend_from_slice(&8.0f64.to_le_bytes());
        let s = swap_coordinates(&c).unwrap();
        assert_eq!(&s[9..30], &point_le(6.0, 5.0)[..]);
        assert_eq!(&s[s.len() - 16..s.len() - 8], &8.0f64.to_le_bytes());
        assert!(matches!(swap_coordinates(&c[..20]), Err(WkbError::Truncated)));
        let mut bad = point_le(0.0, 0.0);
        bad[1] = 9;
        assert!(matches!(swap_coordinates(&bad), Err(WkbError::InvalidType(9))));
    }

    #[test]
    fn swap_transform_applies_to_listed_srids_in_structs_and_arrays() {
        let mut t = SwapGeometryCoordinates::default();
        t.configure(&ConfigMap::new()).unwrap();
        let out = t.apply(record(point_le(1.0, 2.0), Some(4326))).unwrap().unwrap();
        assert_eq!(shape(&out, "shape"), point_le(2.0, 1.0));
        assert_eq!(shape(&out, "shapes"), point_le(2.0, 1.0));
        let same = t.apply(record(point_le(1.0, 2.0), Some(2154))).unwrap().unwrap();
        assert_eq!(shape(&same, "shape"), point_le(1.0, 2.0));
        let config: ConfigMap = [(SRIDS.to_owned(), "2154, 4326".to_owned())]
            .into_iter()
            .collect();
        t.configure(&config).unwrap();
        let out = t.apply(record(point_le(1.0, 2.0), Some(2154))).unwrap().unwrap();
        assert_eq!(shape(&out, "shape"), point_le(2.0, 1.0));
        let bad: ConfigMap = [(SRIDS.to_owned(), "x".to_owned())].into_iter().collect();
        assert!(t.configure(&bad).is_err());
    }

    #[test]
    fn format_transform_embeds_and_strips_the_srid() {
        let mut t = GeometryFormatTransformer::default();
        t.configure(&ConfigMap::new()).unwrap();
        let out = t.apply(record(point_le(1.0, 2.0), Some(4326))).unwrap().unwrap();
        let ewkb = shape(&out, "shape");
        assert!(is_extended(&ewkb));
        assert_eq!(ewkb.len(), 25);
        assert_eq!(&ewkb[5..9], &4326u32.to_le_bytes());
        // Arrays are not walked by this transform.
        assert_eq!(shape(&out, "shapes"), point_le(1.0, 2.0));
        assert_eq!(to_plain(&ewkb).unwrap(), point_le(1.0, 2.0));
        let e = GeometryFormatTransformer::default()
            .apply(record(point_le(1.0, 2.0), None))
            .unwrap_err();
        assert_eq!(e.to_string(), "Cannot convert to EWKB when SRID is null");
        let mut t = GeometryFormatTransformer::default();
        let config: ConfigMap = [(FORMAT.to_owned(), "EWKB".to_owned())].into_iter().collect();
        t.configure(&config).unwrap();
        let ewkb_record = record(to_extended(&point_le(3.0, 4.0), 3857).unwrap(), Some(3857));
        let out = t.apply(ewkb_record).unwrap().unwrap();
        assert_eq!(shape(&out, "shape"), point_le(3.0, 4.0));
        let bad: ConfigMap = [(FORMAT.to_owned(), "gml".to_owned())].into_iter().collect();
        assert!(t.configure(&bad).is_err());
    }

    #[test]
    fn other_records_pass() {
        let mut t = SwapGeometryCoordinates::default();
        let r = Record::new("t", Some(Schema::string()), Value::from("x"));
        assert_eq!(t.apply(r.clone()).unwrap(), Some(r));
        let mut f = GeometryFormatTransformer::default();
        let tombstone = Record::new("t", None, Value::Null);
        assert_eq!(f.apply(tombstone.clone()).unwrap(), Some(tombstone));
    }
}
