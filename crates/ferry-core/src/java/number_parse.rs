//! Java's reading of numbers from text: `new BigDecimal(String)` (sign, digits of any
//! script, one point, an exponent within `int`, the scale within `int`) and
//! `BigDecimal.floatValue()` / `doubleValue()` (correctly rounded).

use bigdecimal::num_bigint::BigInt;
use bigdecimal::BigDecimal;

use super::chars;

/// `new BigDecimal(text)`; `None` where Java throws `NumberFormatException`. The scale
/// is kept as written (`1.50` has scale 2, `1E+3` scale -3).
pub fn parse_big_decimal(text: &str) -> Option<BigDecimal> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (significand, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let mut digits = String::with_capacity(significand.len() + 1);
    if negative {
        digits.push('-');
    }
    let mut scale: i64 = 0;
    let mut seen_point = false;
    for c in significand.chars() {
        if c == '.' && !seen_point {
            seen_point = true;
        } else {
            digits.push(char::from_digit(chars::digit(c)?, 10)?);
            if seen_point {
                scale += 1;
            }
        }
    }
    if digits.len() == usize::from(negative) {
        return None;
    }
    if let Some(exponent) = exponent {
        scale -= parse_exponent(exponent)?;
    }
    let scale = i32::try_from(scale).ok()?;
    Some(BigDecimal::new(digits.parse::<BigInt>().ok()?, i64::from(scale)))
}

/// The exponent after `e`: an optional sign and at most ten digits once leading zeros
/// are skipped, within `int`.
fn parse_exponent(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let values: Vec<u32> = digits.chars().map(chars::digit).collect::<Option<_>>()?;
    let significant = values.iter().position(|&v| v != 0).unwrap_or(values.len());
    let kept = &values[significant.min(values.len().saturating_sub(10))..];
    if values.is_empty() || kept.len() > 10 {
        return None;
    }
    let magnitude = kept.iter().fold(0i64, |acc, &v| acc * 10 + i64::from(v));
    let exponent = if negative { -magnitude } else { magnitude };
    i32::try_from(exponent).ok().map(i64::from)
}

/// `BigDecimal.floatValue()`: the nearest `float` (infinite beyond its range).
pub fn big_decimal_to_float(d: &BigDecimal) -> f32 {
    scientific(d).parse().unwrap_or(f32::NAN)
}

/// `BigDecimal.doubleValue()`: the nearest `double` (infinite beyond its range).
pub fn big_decimal_to_double(d: &BigDecimal) -> f64 {
    scientific(d).parse().unwrap_or(f64::NAN)
}

/// `unscaled` `e` `-scale`, which Rust's float parsing rounds correctly at any length.
fn scientific(d: &BigDecimal) -> String {
    let (unscaled, scale) = d.as_bigint_and_exponent();
    format!("{unscaled}e{}", -scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::java::bigdecimal_to_string;

    fn parsed(text: &str) -> Option<(String, i64)> {
        parse_big_decimal(text).map(|d| {
            let scale = d.as_bigint_and_exponent().1;
            (bigdecimal_to_string(&d), scale)
        })
    }

    #[test]
    fn reads_what_java_reads() {
        assert_eq!(parsed("1.50"), Some(("1.50".into(), 2)));
        assert_eq!(parsed("-.5"), Some(("-0.5".into(), 1)));
        assert_eq!(parsed("+5"), Some(("5".into(), 0)));
        assert_eq!(parsed("1."), Some(("1".into(), 0)));
        assert_eq!(parsed("1e400"), Some(("1E+400".into(), -400)));
        assert_eq!(parsed("1.8e308"), Some(("1.8E+308".into(), -307)));
        assert_eq!(parsed("0e5"), Some(("0E+5".into(), -5)));
        assert_eq!(parsed("1E-5"), Some(("0.00001".into(), 5)));
        assert_eq!(parsed("1e+0000000000005"), Some(("1E+5".into(), -5)));
        assert_eq!(parsed("\u{0661}\u{0662}"), Some(("12".into(), 0)));
        assert_eq!(
            parsed("1e2147483647"),
            Some(("1E+2147483647".into(), -2147483647))
        );
        for bad in [
            "",
            "+",
            "-",
            ".",
            "1e",
            "1e+",
            "+-5",
            "--5",
            "1.2.3",
            "1_000",
            "0x10",
            "1f",
            "NaN",
            " 1",
            "1 ",
            "1e2147483648",
            "1.5e-2147483647",
            "1e12345678901",
        ] {
            assert_eq!(parsed(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn rounds_to_the_nearest_float_and_double() {
        let d = |s: &str| parse_big_decimal(s).unwrap();
        assert_eq!(
            big_decimal_to_float(&d("3.14159265358979323846")),
            std::f32::consts::PI
        );
        assert_eq!(big_decimal_to_float(&d("16777217")), 16_777_216.0);
        assert_eq!(big_decimal_to_float(&d("3.4028236e38")), f32::INFINITY);
        assert_eq!(big_decimal_to_double(&d("3.4028236e38")), 3.4028236e38);
        assert_eq!(big_decimal_to_float(&d("1e-400")), 0.0);
        assert_eq!(big_decimal_to_double(&d("1.8e308")), f64::INFINITY);
        assert_eq!(big_decimal_to_float(&d("-1e400")), f32::NEG_INFINITY);
    }
}
