//! Java-compatible text renderings: `Double.toString`, `Float.toString`,
//! `BigDecimal.toString`, and the class names Java puts in error messages.

use bigdecimal::num_bigint::{BigInt, Sign};
use bigdecimal::BigDecimal;
use ferry_core::Value;

/// Appends `v` as Java's `Double.toString` renders it (`1.0`, `1.5E10`, `1.0E-5`, `NaN`).
pub fn write_double(v: f64, out: &mut Vec<u8>) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"Infinity" } else { b"-Infinity" });
    } else {
        // `{:e}` yields the shortest digits that round-trip, as Java 19+ does.
        let sci = format!("{:e}", v.abs());
        layout(v.is_sign_negative(), &sci, (1e-3..1e7).contains(&v.abs()), out);
    }
}

/// Appends `v` as Java's `Float.toString` renders it.
pub fn write_float(v: f32, out: &mut Vec<u8>) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"Infinity" } else { b"-Infinity" });
    } else {
        let sci = format!("{:e}", v.abs());
        layout(v.is_sign_negative(), &sci, (1e-3..1e7).contains(&v.abs()), out);
    }
}

/// `Double.toString` as a `String`.
pub fn double_to_string(v: f64) -> String {
    let mut out = Vec::with_capacity(24);
    write_double(v, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// `Float.toString` as a `String`.
pub fn float_to_string(v: f32) -> String {
    let mut out = Vec::with_capacity(16);
    write_float(v, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Lays out Rust's shortest scientific form (`d.ddde-x`) the way Java does.
fn layout(negative: bool, sci: &str, plain: bool, out: &mut Vec<u8>) {
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    if negative {
        out.push(b'-');
    }
    if digits.iter().all(|&d| d == b'0') {
        out.extend_from_slice(b"0.0");
        return;
    }
    if plain {
        let point = exp + 1;
        if point <= 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-point) as usize));
            out.extend_from_slice(&digits);
        } else {
            let point = point as usize;
            if point >= digits.len() {
                out.extend_from_slice(&digits);
                out.extend(std::iter::repeat_n(b'0', point - digits.len()));
                out.extend_from_slice(b".0");
            } else {
                out.extend_from_slice(&digits[..point]);
                out.push(b'.');
                out.extend_from_slice(&digits[point..]);
            }
        }
    } else {
        out.push(digits[0]);
        out.push(b'.');
        if digits.len() > 1 {
            out.extend_from_slice(&digits[1..]);
        } else {
            out.push(b'0');
        }
        out.push(b'E');
        out.extend_from_slice(exp.to_string().as_bytes());
    }
}

/// Java's `BigDecimal.toString`: plain unless the scale is negative or the
/// adjusted exponent is below -6, then scientific (`1.56E+4`, `1E-10`).
pub fn bigdecimal_to_string(d: &BigDecimal) -> String {
    let (unscaled, scale) = d.as_bigint_and_exponent();
    unscaled_to_string(&unscaled, scale)
}

fn unscaled_to_string(unscaled: &BigInt, scale: i64) -> String {
    let digits = unscaled.magnitude().to_string();
    let negative = unscaled.sign() == Sign::Minus;
    let len = digits.len() as i64;
    let adjusted = -scale + (len - 1);
    let mut s = String::with_capacity(digits.len() + 8);
    if negative {
        s.push('-');
    }
    if scale >= 0 && adjusted >= -6 {
        if scale == 0 {
            s.push_str(&digits);
        } else if len > scale {
            let split = (len - scale) as usize;
            s.push_str(&digits[..split]);
            s.push('.');
            s.push_str(&digits[split..]);
        } else {
            s.push_str("0.");
            s.extend(std::iter::repeat_n('0', (scale - len) as usize));
            s.push_str(&digits);
        }
    } else {
        s.push_str(&digits[..1]);
        if len > 1 {
            s.push('.');
            s.push_str(&digits[1..]);
        }
        if adjusted != 0 {
            s.push('E');
            if adjusted > 0 {
                s.push('+');
            }
            s.push_str(&adjusted.to_string());
        }
    }
    s
}

/// The Java class a value would have in Connect, as `getClass()` prints it in messages.
pub fn class_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Boolean(_) => "class java.lang.Boolean",
        Value::Int8(_) => "class java.lang.Byte",
        Value::Int16(_) => "class java.lang.Short",
        Value::Int32(_) => "class java.lang.Integer",
        Value::Int64(_) => "class java.lang.Long",
        Value::Float32(_) => "class java.lang.Float",
        Value::Float64(_) => "class java.lang.Double",
        Value::String(_) => "class java.lang.String",
        Value::Bytes(_) => "class [B",
        Value::Decimal(_) => "class java.math.BigDecimal",
        Value::Array(_) => "class java.util.ArrayList",
        Value::Map(_) => "class java.util.HashMap",
        Value::Struct(_) => "class org.apache.kafka.connect.data.Struct",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn doubles_render_like_java() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (12.34, "12.34"),
            (-1.5, "-1.5"),
            (100.0, "100.0"),
            (1234567.0, "1234567.0"),
            (1.0e7, "1.0E7"),
            (1.5e10, "1.5E10"),
            (1.0e-5, "1.0E-5"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (123456789.123, "1.23456789123E8"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::MAX, "1.7976931348623157E308"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (9999999.0, "9999999.0"),
            (1.0e21, "1.0E21"),
            (-2.5e-7, "-2.5E-7"),
        ];
        for (v, want) in cases {
            assert_eq!(double_to_string(*v), *want, "{v}");
        }
    }

    #[test]
    fn floats_render_like_java() {
        assert_eq!(float_to_string(12.34), "12.34");
        assert_eq!(float_to_string(1.0), "1.0");
        assert_eq!(float_to_string(1.0e10), "1.0E10");
        assert_eq!(float_to_string(0.1), "0.1");
        assert_eq!(float_to_string(3.4028235e38), "3.4028235E38");
        assert_eq!(float_to_string(-1.0e-4), "-1.0E-4");
    }

    #[test]
    fn bigdecimals_render_like_java() {
        let cases: &[(&str, i64, &str)] = &[
            ("156", 2, "1.56"),
            ("15600", 4, "1.5600"),
            ("-156", 2, "-1.56"),
            ("5", 3, "0.005"),
            ("1", 6, "0.000001"),
            ("1", 7, "1E-7"),
            ("123", 10, "1.23E-8"),
            ("156", -2, "1.56E+4"),
            ("1", -1, "1E+1"),
            ("0", 0, "0"),
            ("0", 2, "0.00"),
            ("42", 0, "42"),
        ];
        for (u, scale, want) in cases {
            let d = BigDecimal::new(BigInt::from_str(u).unwrap(), *scale);
            assert_eq!(bigdecimal_to_string(&d), *want, "{u} scale {scale}");
        }
    }
}
