//! Java's number renderings: `Double.toString`, `Float.toString` (the shortest
//! digits that round-trip, as Java 19+ prints them) and `BigDecimal.toString`.

use std::fmt::{self, Write as _};

use bigdecimal::num_bigint::Sign;
use bigdecimal::BigDecimal;

/// Appends `v` as Java's `Double.toString` renders it (`1.0`, `1.5E10`, `1.0E-5`, `NaN`).
pub fn write_double(v: f64, out: &mut Vec<u8>) {
    write_floating(v, out);
}

/// Appends `v` as Java's `Float.toString` renders it (shortest digits of the float itself).
pub fn write_float(v: f32, out: &mut Vec<u8>) {
    write_floating(v, out);
}

/// `Double.toString` as a `String`.
pub fn double_to_string(v: f64) -> String {
    let mut out = Vec::with_capacity(24);
    write_double(v, &mut out);
    ascii_string(out)
}

/// `Float.toString` as a `String`.
pub fn float_to_string(v: f32) -> String {
    let mut out = Vec::with_capacity(16);
    write_float(v, &mut out);
    ascii_string(out)
}

/// Java's `BigDecimal.toString`: plain unless the scale is negative or the adjusted
/// exponent is below -6, then scientific (`1.56E+4`, `1E-10`).
pub fn bigdecimal_to_string(d: &BigDecimal) -> String {
    let (unscaled, scale) = d.as_bigint_and_exponent();
    let digits = unscaled.magnitude().to_string();
    let len = digits.len() as i64;
    let adjusted = -scale + (len - 1);
    let mut s = String::with_capacity(digits.len() + 8);
    if unscaled.sign() == Sign::Minus {
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

/// Writes a float or double: `{:e}` of the value's own type yields the shortest digits
/// that round-trip, as Java 19+ prints them; widening to f64 (exact) picks the layout.
fn write_floating<F: Copy + Into<f64> + fmt::LowerExp>(v: F, out: &mut Vec<u8>) {
    let wide: f64 = v.into();
    let negative = wide.is_sign_negative();
    if !wide.is_finite() {
        out.extend_from_slice(match (wide.is_nan(), negative) {
            (true, _) => b"NaN",
            (false, false) => b"Infinity",
            (false, true) => b"-Infinity",
        });
        return;
    }
    let mut text = StackText::default();
    let _ = write!(text, "{v:e}");
    let sci = text.as_bytes();
    let unsigned = sci.strip_prefix(b"-").unwrap_or(sci);
    layout(negative, unsigned, (1e-3..1e7).contains(&wide.abs()), out);
}

fn ascii_string(bytes: Vec<u8>) -> String {
    // Only ASCII digits, signs, `.`, `E` and letters of NaN/Infinity are written.
    String::from_utf8(bytes).unwrap_or_default()
}

/// Lays out Rust's shortest scientific form (`d.ddde-x`) the way Java does.
fn layout(negative: bool, sci: &[u8], plain: bool, out: &mut Vec<u8>) {
    let e = sci.iter().position(|&b| b == b'e').unwrap_or(sci.len());
    let (mantissa, exp) = (&sci[..e], sci.get(e + 1..).unwrap_or_default());
    let exp: i32 = std::str::from_utf8(exp)
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(0);
    let mut digits = [0u8; 24];
    let mut n = 0;
    for &b in mantissa.iter().filter(|b| b.is_ascii_digit()).take(digits.len()) {
        digits[n] = b;
        n += 1;
    }
    let digits = &digits[..n];
    if negative {
        out.push(b'-');
    }
    if digits.iter().all(|&d| d == b'0') {
        out.extend_from_slice(b"0.0");
    } else if plain {
        let point = exp + 1;
        if point <= 0 {
            out.extend_from_slice(b"0.");
            out.extend(std::iter::repeat_n(b'0', (-point) as usize));
            out.extend_from_slice(digits);
        } else if point as usize >= digits.len() {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', point as usize - digits.len()));
            out.extend_from_slice(b".0");
        } else {
            out.extend_from_slice(&digits[..point as usize]);
            out.push(b'.');
            out.extend_from_slice(&digits[point as usize..]);
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
        let _ = write!(ByteSink(out), "{exp}");
    }
}

/// A fixed buffer for one number's scientific text (at most 24 bytes for an f64).
#[derive(Default)]
struct StackText {
    buf: [u8; 32],
    len: usize,
}

impl StackText {
    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

struct ByteSink<'a>(&'a mut Vec<u8>);

impl fmt::Write for ByteSink<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bigdecimal::num_bigint::BigInt;
    use std::str::FromStr;

    #[test]
    fn doubles_render_like_java() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (12.34, "12.34"),
            (-1.5, "-1.5"),
            (0.5, "0.5"),
            (42.0, "42.0"),
            (0.1, "0.1"),
            (100.0, "100.0"),
            (1234567.0, "1234567.0"),
            (-1234567.5, "-1234567.5"),
            (1.0e7, "1.0E7"),
            (1.5e10, "1.5E10"),
            (1.0e-5, "1.0E-5"),
            (1.5e-5, "1.5E-5"),
            (1.234e-5, "1.234E-5"),
            (0.001, "0.001"),
            (0.0001, "1.0E-4"),
            (123456789.123, "1.23456789123E8"),
            (0.1 + 0.2, "0.30000000000000004"),
            (f64::MAX, "1.7976931348623157E308"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
            (9.223372036854776E18, "9.223372036854776E18"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (9999999.0, "9999999.0"),
            (1.0e21, "1.0E21"),
            (-2.5e-7, "-2.5E-7"),
        ];
        for (v, want) in cases {
            assert_eq!(double_to_string(*v), *want, "{v:e}");
            let mut bytes = b"x".to_vec();
            write_double(*v, &mut bytes);
            assert_eq!(bytes[1..], *want.as_bytes(), "appends {v:e}");
        }
    }

    #[test]
    fn floats_render_like_java() {
        let cases: &[(f32, &str)] = &[
            (12.34, "12.34"),
            (1.0, "1.0"),
            (42.5, "42.5"),
            (1.0e10, "1.0E10"),
            (0.1, "0.1"),
            (1.5, "1.5"),
            (0.001, "0.001"),
            (-0.0, "-0.0"),
            (3.4028235e38, "3.4028235E38"),
            (-1.0e-4, "-1.0E-4"),
            (f32::NAN, "NaN"),
            (f32::NEG_INFINITY, "-Infinity"),
        ];
        for (v, want) in cases {
            assert_eq!(float_to_string(*v), *want, "{v:e}");
        }
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
        let parsed = |t: &str| bigdecimal_to_string(&t.parse().unwrap());
        assert_eq!(parsed("1982"), "1982");
        assert_eq!(parsed("12.345"), "12.345");
        assert_eq!(parsed("-0.00012"), "-0.00012");
        assert_eq!(parsed("0.0000001"), "1E-7");
        assert_eq!(parsed("1.5E+10"), "1.5E+10");
    }
}
