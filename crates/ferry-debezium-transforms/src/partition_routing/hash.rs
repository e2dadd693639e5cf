//! The two hash functions PartitionRouting offers: Java's `hashCode` of the value a Connect
//! struct holds, and Debezium's 32-bit MurmurHash3 (x64 variant, seed 9001).

use ferry_core::bigdecimal::num_bigint::Sign;
use ferry_core::bigdecimal::BigDecimal;
use ferry_core::java::collections::string_hash;
use ferry_core::{logical, Schema, Value};

/// `partition.hash.function`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashFunction {
    /// `Object.hashCode()`.
    Java,
    /// Debezium's `MurmurHash3.hash(Object)`.
    Murmur,
}

impl HashFunction {
    /// Upstream's lenient parse: anything but `murmur` is `java`.
    pub fn parse(s: Option<&str>) -> Self {
        match s.map(|s| s.trim().to_ascii_lowercase()) {
            Some(s) if s == "murmur" => HashFunction::Murmur,
            _ => HashFunction::Java,
        }
    }

    /// The hash of a field value with its schema.
    pub fn hash(self, value: &Value, schema: Option<&Schema>) -> i32 {
        match self {
            HashFunction::Java => java_hash_code(value, schema),
            HashFunction::Murmur => match value {
                Value::String(s) => murmur3_hash(s.as_bytes()),
                other => murmur3_hash(&java_hash_code(other, schema).to_le_bytes()),
            },
        }
    }
}

fn long_hash(v: i64) -> i32 {
    (v ^ ((v as u64) >> 32) as i64) as i32
}

fn big_decimal_hash(d: &BigDecimal) -> i32 {
    let (unscaled, scale) = d.as_bigint_and_exponent();
    let (sign, digits) = unscaled.to_u32_digits();
    // BigInteger.hashCode: its magnitude's 32-bit words, most significant first, times signum.
    let mut h: i32 = 0;
    for word in digits.iter().rev() {
        h = h.wrapping_mul(31).wrapping_add(*word as i32);
    }
    let signum = match sign {
        Sign::Minus => -1,
        Sign::NoSign => 0,
        Sign::Plus => 1,
    };
    h.wrapping_mul(signum).wrapping_mul(31).wrapping_add(scale as i32)
}

/// Java's `hashCode()` of the object Connect holds for `value` (`ByteBuffer` for bytes,
/// `java.util.Date` for the Date/Time/Timestamp logical types). A struct hashes its values
/// only: Java's also mixes in the schema's identity-based hash, which no run repeats.
pub fn java_hash_code(value: &Value, schema: Option<&Schema>) -> i32 {
    let logical_name = schema.and_then(Schema::name);
    match value {
        Value::Null => 0,
        Value::Boolean(b) => {
            if *b {
                1231
            } else {
                1237
            }
        }
        Value::Int8(v) => i32::from(*v),
        Value::Int16(v) => i32::from(*v),
        Value::Int32(v) => match logical_name {
            // java.util.Date of the day's (or time's) milliseconds.
            Some(logical::DATE) => long_hash(i64::from(*v) * 86_400_000),
            Some(logical::TIME) => long_hash(i64::from(*v)),
            _ => *v,
        },
        Value::Int64(v) => long_hash(*v),
        Value::Float32(v) => {
            let bits = if v.is_nan() { 0x7fc0_0000 } else { v.to_bits() };
            bits as i32
        }
        Value::Float64(v) => {
            let bits = if v.is_nan() {
                0x7ff8_0000_0000_0000
            } else {
                v.to_bits()
            };
            long_hash(bits as i64)
        }
        Value::String(s) => string_hash(s),
        Value::Bytes(b) => b
            .iter()
            .rev()
            .fold(1i32, |h, x| h.wrapping_mul(31).wrapping_add(i32::from(*x as i8))),
        Value::Decimal(d) => big_decimal_hash(d),
        Value::Array(items) => {
            let item_schema = schema.and_then(Schema::value_schema);
            items.iter().fold(1i32, |h, x| {
                h.wrapping_mul(31).wrapping_add(java_hash_code(x, item_schema))
            })
        }
        Value::Map(entries) => {
            let (ks, vs) = (
                schema.and_then(Schema::key_schema),
                schema.and_then(Schema::value_schema),
            );
            entries.iter().fold(0i32, |h, (k, v)| {
                h.wrapping_add(java_hash_code(k, ks) ^ java_hash_code(v, vs))
            })
        }
        Value::Struct(s) => s
            .schema()
            .fields()
            .iter()
            .zip(s.values())
            .fold(1i32, |h, (f, v)| {
                h.wrapping_mul(31)
                    .wrapping_add(java_hash_code(v, Some(f.schema())))
            }),
    }
}

struct State {
    h1: u64,
    h2: u64,
    k1: u64,
    k2: u64,
    c1: u64,
    c2: u64,
}

impl State {
    fn mix(&mut self) {
        self.k1 = self.k1.wrapping_mul(self.c1);
        self.k1 = self.k1.rotate_left(23);
        self.k1 = self.k1.wrapping_mul(self.c2);
        self.h1 ^= self.k1;
        self.h1 = self.h1.wrapping_add(self.h2);
        self.h2 = self.h2.rotate_left(41);
        self.k2 = self.k2.wrapping_mul(self.c2);
        self.k2 = self.k2.rotate_left(23);
        self.k2 = self.k2.wrapping_mul(self.c1);
        self.h2 ^= self.k2;
        self.h2 = self.h2.wrapping_add(self.h1);
        self.h1 = self.h1.wrapping_mul(3).wrapping_add(0x52dc_e729);
        self.h2 = self.h2.wrapping_mul(3).wrapping_add(0x3849_5ab5);
        self.c1 = self.c1.wrapping_mul(5).wrapping_add(0x7b7d_159c);
        self.c2 = self.c2.wrapping_mul(5).wrapping_add(0x6bce_6396);
    }
}

fn finalize(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// Debezium's `MurmurHash3.MurmurHash3_x64_32(bytes, 9001)`: the upper half of the 64-bit
/// variant (which, like Debezium's, sign-extends the tail bytes).
pub fn murmur3_hash(key: &[u8]) -> i32 {
    const SEED: u64 = 9001;
    let mut s = State {
        h1: 0x9368_e53c_2f6a_f274 ^ SEED,
        h2: 0x586d_cd20_8f7c_d3fd ^ SEED,
        k1: 0,
        k2: 0,
        c1: 0x87c3_7b91_1142_53d5,
        c2: 0x4cf5_ad43_2745_937f,
    };
    let blocks = key.len() / 16;
    for i in 0..blocks {
        let at = i * 16;
        s.k1 = u64::from_le_bytes(key[at..at + 8].try_into().unwrap_or_default());
        s.k2 = u64::from_le_bytes(key[at + 8..at + 16].try_into().unwrap_or_default());
        s.mix();
    }
    s.k1 = 0;
    s.k2 = 0;
    let tail = &key[blocks * 16..];
    // Java's `(long) byte` is sign-extended before the shift.
    let signed = |b: u8, shift: u32| ((b as i8 as i64) << shift) as u64;
    if !tail.is_empty() {
        for (i, b) in tail.iter().enumerate().skip(8) {
            s.k2 ^= signed(*b, 8 * (i as u32 - 8));
        }
        for (i, b) in tail.iter().enumerate().take(8) {
            s.k1 ^= signed(*b, 8 * i as u32);
        }
        s.mix();
    }
    s.h2 ^= key.len() as u64;
    s.h1 = s.h1.wrapping_add(s.h2);
    s.h2 = s.h2.wrapping_add(s.h1);
    s.h1 = finalize(s.h1);
    s.h2 = finalize(s.h2);
    s.h1 = s.h1.wrapping_add(s.h2);
    (s.h1 >> 32) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_hash_codes() {
        assert_eq!(java_hash_code(&Value::from("hello"), None), 99_162_322);
        assert_eq!(java_hash_code(&Value::Int64(1 << 40), None), 256);
        assert_eq!(java_hash_code(&Value::Int64(-1), None), 0);
        assert_eq!(java_hash_code(&Value::Boolean(true), None), 1231);
        // Double.hashCode(1.5) and BigDecimal("1.50").hashCode() = 31 * 150 + 2.
        assert_eq!(java_hash_code(&Value::Float64(1.5), None), 1_073_217_536);
        let d: BigDecimal = "1.50".parse().unwrap();
        assert_eq!(java_hash_code(&Value::Decimal(d), None), 4652);
        let d: BigDecimal = "-7".parse().unwrap();
        assert_eq!(java_hash_code(&Value::Decimal(d), None), -217);
    }

    /// Expected values printed by Debezium 3.6.3's own `MurmurHash3.getInstance().hash(Object)`.
    #[test]
    fn murmur_matches_debezium() {
        let m = |v: Value| HashFunction::Murmur.hash(&v, None);
        for (s, want) in [
            ("", 89_125_410),
            ("a", -1_119_243_492),
            ("hello", 1_671_093_224),
            ("0123456789abcdef", 26_898_387),
            ("0123456789abcdefXYZ", 226_040_757),
            ("\u{dc}n\u{ef}c\u{f6}d\u{e9} \u{20ac}", -623_102_013),
            ("customer 7", -1_790_237_024),
        ] {
            assert_eq!(m(Value::from(s)), want, "{s:?}");
        }
        for (i, want) in [
            (0, 1_805_505_889),
            (1, -1_931_162_451),
            (-1, 171_705_313),
            (42, -1_311_320_038),
            (99_162_322, -605_162_500),
        ] {
            assert_eq!(m(Value::Int32(i)), want, "{i}");
        }
        let bytes = Value::Bytes(vec![1u8, 2, 200].into());
        assert_eq!(java_hash_code(&bytes, None), -23_962);
        assert_eq!(m(bytes), 2_055_040_624);
        assert_eq!(m(Value::Int64(1 << 40)), -1_356_379_757);
    }
}
