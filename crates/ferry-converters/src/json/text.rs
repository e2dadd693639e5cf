//! Low-level JSON output written the way Jackson's generator writes it:
//! no whitespace, `\uXXXX` escapes with upper-case hex, non-ASCII as UTF-8.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Appends `s` as a quoted JSON string.
pub fn write_str(s: &str, out: &mut Vec<u8>) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0x00..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(b >> 4) as usize]);
            out.push(HEX[(b & 0xf) as usize]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends `data` as a quoted base64 string (standard alphabet, padded, no line feeds).
pub fn write_base64(data: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    let start = out.len();
    out.resize(start + data.len().div_ceil(3) * 4, 0);
    let n = STANDARD.encode_slice(data, &mut out[start..]).unwrap_or_default();
    out.truncate(start + n);
    out.push(b'"');
}

/// Appends a 64-bit integer.
pub fn write_i64(v: i64, out: &mut Vec<u8>) {
    let mut buf = [0u8; 20];
    let mut n = v.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends a double as Jackson does: Java text, non-finite values quoted.
pub fn write_f64(v: f64, out: &mut Vec<u8>) {
    if v.is_finite() {
        ferry_core::java::write_double(v, out);
    } else {
        out.push(b'"');
        ferry_core::java::write_double(v, out);
        out.push(b'"');
    }
}

/// Appends a float as Jackson does: Java text, non-finite values quoted.
pub fn write_f32(v: f32, out: &mut Vec<u8>) {
    if v.is_finite() {
        ferry_core::java::write_float(v, out);
    } else {
        out.push(b'"');
        ferry_core::java::write_float(v, out);
        out.push(b'"');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_escape_like_jackson() {
        assert_eq!(s(|o| write_str("a\"b\\c", o)), r#""a\"b\\c""#);
        assert_eq!(
            s(|o| write_str("x\ny\t\u{1}\u{1f}", o)),
            r#""x\ny\t\u0001\u001F""#
        );
        assert_eq!(s(|o| write_str("é/€\u{7f}", o)), "\"é/€\u{7f}\"");
    }

    #[test]
    fn numbers_and_bytes() {
        assert_eq!(s(|o| write_i64(i64::MIN, o)), "-9223372036854775808");
        assert_eq!(s(|o| write_i64(0, o)), "0");
        assert_eq!(s(|o| write_f64(f64::NAN, o)), "\"NaN\"");
        assert_eq!(s(|o| write_f32(1.5, o)), "1.5");
        assert_eq!(s(|o| write_base64(b"test-string", o)), "\"dGVzdC1zdHJpbmc=\"");
        assert_eq!(s(|o| write_base64(&[0, 0x9c], o)), "\"AJw=\"");
        assert_eq!(s(|o| write_base64(&[], o)), "\"\"");
    }
}
