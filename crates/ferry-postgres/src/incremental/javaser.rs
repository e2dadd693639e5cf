//! The Java serialization of a key `Object[]`, hex-encoded, as Debezium stores
//! `incremental_snapshot_primary_key` and `incremental_snapshot_maximum_key`
//! (`ObjectOutputStream.writeObject` of the key array, then `HexConverter`).
//!
//! Covers the values PostgreSQL's JDBC driver hands Debezium for the key types Ferry
//! chunks natively: `java.lang.Integer` (`int2`, `int4`), `java.lang.Long` (`int8`) and
//! `java.lang.String` (any other type, by its text form), plus `null`. Java shares the
//! cached boxes of -128..127 (`Integer.valueOf`), so a repeated small number is written
//! as a back reference, as Java writes it.

use std::fmt::Write as _;

/// One key value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyValue {
    /// `null`.
    Null,
    /// `java.lang.Integer`.
    Int(i32),
    /// `java.lang.Long`.
    Long(i64),
    /// `java.lang.String`.
    Str(String),
}

impl KeyValue {
    /// The value as PostgreSQL text (`None` for null).
    pub fn as_text(&self) -> Option<String> {
        match self {
            KeyValue::Null => None,
            KeyValue::Int(i) => Some(i.to_string()),
            KeyValue::Long(l) => Some(l.to_string()),
            KeyValue::Str(s) => Some(s.clone()),
        }
    }
}

/// Why a stored key could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read the serialized key '{hex}': {reason}")]
pub struct KeyDecodeError {
    hex: String,
    reason: String,
}

const MAGIC: [u8; 4] = [0xac, 0xed, 0x00, 0x05];
const TC_NULL: u8 = 0x70;
const TC_REFERENCE: u8 = 0x71;
const TC_CLASSDESC: u8 = 0x72;
const TC_OBJECT: u8 = 0x73;
const TC_STRING: u8 = 0x74;
const TC_ARRAY: u8 = 0x75;
const TC_ENDBLOCKDATA: u8 = 0x78;
const BASE_HANDLE: u32 = 0x7e_0000;
const OBJECT_ARRAY: (&str, u64) = ("[Ljava.lang.Object;", 0x90ce_589f_1073_296c);
const INTEGER: (&str, u64) = ("java.lang.Integer", 0x12e2_a0a4_f781_8738);
const LONG: (&str, u64) = ("java.lang.Long", 0x3b8b_e490_cc8f_23df);
const NUMBER: (&str, u64) = ("java.lang.Number", 0x86ac_951d_0b94_e08b);

struct Writer {
    buf: Vec<u8>,
    next_handle: u32,
    number: Option<u32>,
    integer: Option<u32>,
    long: Option<u32>,
    /// Handles of cached boxes (-128..127): (is_long, value, handle).
    boxes: Vec<(bool, i64, u32)>,
}

impl Writer {
    fn handle(&mut self) -> u32 {
        let h = self.next_handle;
        self.next_handle += 1;
        h
    }

    fn utf(&mut self, s: &str) {
        self.buf.extend_from_slice(&(s.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(s.as_bytes());
    }

    fn class_desc(&mut self, (name, suid): (&str, u64), field: Option<(u8, &str)>) -> u32 {
        self.buf.push(TC_CLASSDESC);
        self.utf(name);
        self.buf.extend_from_slice(&suid.to_be_bytes());
        let h = self.handle();
        self.buf.push(0x02); // SC_SERIALIZABLE
        match field {
            Some((code, fname)) => {
                self.buf.extend_from_slice(&1u16.to_be_bytes());
                self.buf.push(code);
                self.utf(fname);
            }
            None => self.buf.extend_from_slice(&0u16.to_be_bytes()),
        }
        self.buf.push(TC_ENDBLOCKDATA);
        h
    }

    fn reference(&mut self, h: u32) {
        self.buf.push(TC_REFERENCE);
        self.buf.extend_from_slice(&h.to_be_bytes());
    }

    fn number_box(&mut self, is_long: bool, v: i64) {
        let cached = (-128..=127).contains(&v);
        if cached {
            if let Some(&(_, _, h)) = self.boxes.iter().find(|(l, x, _)| *l == is_long && *x == v) {
                self.reference(h);
                return;
            }
        }
        self.buf.push(TC_OBJECT);
        let existing = if is_long { self.long } else { self.integer };
        match existing {
            Some(h) => self.reference(h),
            None => {
                let h = if is_long {
                    self.class_desc(LONG, Some((b'J', "value")))
                } else {
                    self.class_desc(INTEGER, Some((b'I', "value")))
                };
                if is_long {
                    self.long = Some(h);
                } else {
                    self.integer = Some(h);
                }
                match self.number {
                    Some(n) => self.reference(n),
                    None => {
                        let n = self.class_desc(NUMBER, None);
                        self.buf.push(TC_NULL);
                        self.number = Some(n);
                    }
                }
            }
        }
        let h = self.handle();
        if cached {
            self.boxes.push((is_long, v, h));
        }
        if is_long {
            self.buf.extend_from_slice(&v.to_be_bytes());
        } else {
            self.buf.extend_from_slice(&(v as i32).to_be_bytes());
        }
    }
}

/// The hex form of `ObjectOutputStream.writeObject(key)`; `None` writes Java's `null`.
pub fn encode(key: Option<&[KeyValue]>) -> String {
    let mut w = Writer {
        buf: MAGIC.to_vec(),
        next_handle: BASE_HANDLE,
        number: None,
        integer: None,
        long: None,
        boxes: Vec::new(),
    };
    match key {
        None => w.buf.push(TC_NULL),
        Some(values) => {
            w.buf.push(TC_ARRAY);
            w.class_desc(OBJECT_ARRAY, None);
            w.buf.push(TC_NULL);
            w.handle();
            w.buf.extend_from_slice(&(values.len() as i32).to_be_bytes());
            for v in values {
                match v {
                    KeyValue::Null => w.buf.push(TC_NULL),
                    KeyValue::Int(i) => w.number_box(false, i64::from(*i)),
                    KeyValue::Long(l) => w.number_box(true, *l),
                    KeyValue::Str(s) => {
                        w.buf.push(TC_STRING);
                        w.utf(s);
                        w.handle();
                    }
                }
            }
        }
    }
    let mut out = String::with_capacity(w.buf.len() * 2);
    for b in &w.buf {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// What a handle refers to while reading.
#[derive(Clone)]
enum Handle {
    Class(&'static str),
    Value(KeyValue),
    Other,
}

struct Reader<'a> {
    b: &'a [u8],
    pos: usize,
    handles: Vec<Handle>,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let s = self.b.get(self.pos..self.pos + n).ok_or("truncated")?;
        self.pos += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().expect("2")))
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().expect("4")))
    }
    fn utf(&mut self) -> Result<String, String> {
        let n = self.u16()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|e| e.to_string())
    }
    fn handle_at(&self, h: u32) -> Result<Handle, String> {
        self.handles
            .get(h.checked_sub(BASE_HANDLE).ok_or("bad handle")? as usize)
            .cloned()
            .ok_or_else(|| "unknown handle".to_string())
    }

    fn reference(&mut self) -> Result<Handle, String> {
        let h = self.u32()?;
        self.handle_at(h)
    }

    /// A class descriptor (new or referenced); returns the class name.
    fn class_desc(&mut self) -> Result<Option<&'static str>, String> {
        match self.u8()? {
            TC_NULL => Ok(None),
            TC_REFERENCE => match self.reference()? {
                Handle::Class(c) => Ok(Some(c)),
                _ => Err("reference to a non-class".into()),
            },
            TC_CLASSDESC => {
                let name = self.utf()?;
                let _suid = self.take(8)?;
                let known = [OBJECT_ARRAY.0, INTEGER.0, LONG.0, NUMBER.0]
                    .into_iter()
                    .find(|k| *k == name)
                    .ok_or_else(|| format!("unsupported class {name}"))?;
                self.handles.push(Handle::Class(known));
                let _flags = self.u8()?;
                let fields = self.u16()?;
                for _ in 0..fields {
                    let code = self.u8()?;
                    let _ = self.utf()?;
                    if code == b'L' || code == b'[' {
                        return Err("object fields are not supported".into());
                    }
                }
                if self.u8()? != TC_ENDBLOCKDATA {
                    return Err("class annotations are not supported".into());
                }
                self.class_desc()?;
                Ok(Some(known))
            }
            t => Err(format!("unexpected tag {t:#x} for a class")),
        }
    }

    fn value(&mut self) -> Result<KeyValue, String> {
        match self.u8()? {
            TC_NULL => Ok(KeyValue::Null),
            TC_REFERENCE => match self.reference()? {
                Handle::Value(v) => Ok(v),
                _ => Err("reference to a non-value".into()),
            },
            TC_STRING => {
                let s = self.utf()?;
                self.handles.push(Handle::Value(KeyValue::Str(s.clone())));
                Ok(KeyValue::Str(s))
            }
            TC_OBJECT => {
                let class = self.class_desc()?.ok_or("object without class")?;
                let slot = self.handles.len();
                self.handles.push(Handle::Other);
                let v = if class == INTEGER.0 {
                    KeyValue::Int(self.u32()? as i32)
                } else if class == LONG.0 {
                    KeyValue::Long(u64::from_be_bytes(self.take(8)?.try_into().expect("8")) as i64)
                } else {
                    return Err(format!("unsupported value class {class}"));
                };
                self.handles[slot] = Handle::Value(v.clone());
                Ok(v)
            }
            t => Err(format!("unexpected tag {t:#x} for a value")),
        }
    }
}

/// Reads what [`encode`] (or Debezium) wrote; `Ok(None)` for Java's `null`.
pub fn decode(hex: &str) -> Result<Option<Vec<KeyValue>>, KeyDecodeError> {
    let err = |reason: String| KeyDecodeError {
        hex: hex.to_string(),
        reason,
    };
    if !hex.len().is_multiple_of(2) {
        return Err(err("odd length".into()));
    }
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<Result<_, _>>()
        .map_err(|e| err(e.to_string()))?;
    if bytes.get(..4) != Some(&MAGIC[..]) {
        return Err(err("no serialization header".into()));
    }
    let mut r = Reader {
        b: &bytes,
        pos: 4,
        handles: Vec::new(),
    };
    let parse = |r: &mut Reader| -> Result<Option<Vec<KeyValue>>, String> {
        match r.u8()? {
            TC_NULL => Ok(None),
            TC_ARRAY => {
                if r.class_desc()? != Some(OBJECT_ARRAY.0) {
                    return Err("not an Object[]".into());
                }
                r.handles.push(Handle::Other);
                let n = r.u32()? as usize;
                let mut out = Vec::with_capacity(n.min(64));
                for _ in 0..n {
                    out.push(r.value()?);
                }
                Ok(Some(out))
            }
            t => Err(format!("unexpected tag {t:#x}")),
        }
    };
    parse(&mut r).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use KeyValue::*;

    /// Each expected string is what OpenJDK 17's `ObjectOutputStream` wrote for the array.
    #[test]
    fn matches_java_object_output_stream() {
        let cases: Vec<(Option<Vec<KeyValue>>, &str)> = vec![
            (None, "aced000570"),
            (Some(vec![Int(5)]), "aced0005757200135b4c6a6176612e6c616e672e4f626a6563743b90ce589f1073296c020000787000000001737200116a6176612e6c616e672e496e746567657212e2a0a4f781873802000149000576616c7565787200106a6176612e6c616e672e4e756d62657286ac951d0b94e08b020000787000000005"),
            (Some(vec![Long(7)]), "aced0005757200135b4c6a6176612e6c616e672e4f626a6563743b90ce589f1073296c0200007870000000017372000e6a6176612e6c616e672e4c6f6e673b8be490cc8f23df0200014a000576616c7565787200106a6176612e6c616e672e4e756d62657286ac951d0b94e08b02000078700000000000000007"),
            (Some(vec![Str("ab".into())]), "aced0005757200135b4c6a6176612e6c616e672e4f626a6563743b90ce589f1073296c0200007870000000017400026162"),
            (Some(vec![Int(1), Int(2)]), "aced0005757200135b4c6a6176612e6c616e672e4f626a6563743b90ce589f1073296c020000787000000002737200116a6176612e6c616e672e496e746567657212e2a0a4f781873802000149000576616c7565787200106a6176612e6c616e672e4e756d62657286ac951d0b94e08b0200007870000000017371007e000200000002"),
            (Some(vec![Long(1), Str("x".into()), Long(2)]), "aced0005757200135b4c6a6176612e6c616e672e4f626a6563743b90ce589f1073296c0200007870000000037372000e6a6176612e6c616e672e4c6f6e673b8be490cc8f23df0200014a000576616c7565787200106a6176612e6c616e672e4e756d62657286ac951d0b94e08b02000078700000000000000001740001787371007e00020000000000000002"),
            (Some(vec![Int(1), Null]), "aced0005757200135b4c6a6176612e6c616e672e4f626a6563743b90ce589f1073296c020000787000000002737200116a6176612e6c616e672e496e746567657212e2a0a4f781873802000149000576616c7565787200106a6176612e6c616e672e4e756d62657286ac951d0b94e08b02000078700000000170"),
        ];
        for (key, hex) in cases {
            assert_eq!(encode(key.as_deref()), hex, "{key:?}");
            assert_eq!(decode(hex).unwrap(), key, "{hex}");
        }
    }

    #[test]
    fn repeated_cached_boxes_are_back_references_and_round_trip() {
        let key = vec![Int(3), Int(3), Int(1000), Int(1000), Long(3)];
        let hex = encode(Some(&key));
        assert_eq!(decode(&hex).unwrap(), Some(key));
        // The second 3 is a reference (5 bytes), the second 1000 a new object (9 bytes).
        let one = encode(Some(&[Int(3)]));
        let two = encode(Some(&[Int(3), Int(3)]));
        assert_eq!(two.len() - one.len(), 2 * 5);
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        assert!(decode("zz").is_err());
        assert!(decode("aced0005757200").is_err());
        // A java.util.UUID key (unsupported class).
        let uuid = "aced0005757200135b4c6a6176612e6c616e672e4f626a6563743b90ce589f1073296c0200007870000000017372000e6a6176612e7574696c2e55554944bc9903f7986d852f0200024a000c6c65617374536967426974734a000b6d6f7374536967426974737870";
        assert!(decode(uuid).is_err());
    }
}
