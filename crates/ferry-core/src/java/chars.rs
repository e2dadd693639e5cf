//! Java's character classes where Connect's parsing depends on them: `Character.isDigit`
//! and `Character.digit(c, 10)` (every Unicode decimal digit of the Basic Multilingual
//! Plane, as `BigDecimal` and `DecimalFormat` accept them) and `String.trim`.

/// The zero of each run of ten decimal digits (Unicode `Nd`) beyond ASCII in the Basic
/// Multilingual Plane, as Java 17's `Character.isDigit(char)` knows them.
const DIGIT_ZEROS: [u32; 36] = [
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6,
    0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0,
    0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
];

/// `Character.digit(c, 10)`: the value of a decimal digit of any script, `None` otherwise.
pub fn digit(c: char) -> Option<u32> {
    if c.is_ascii_digit() {
        return Some(c as u32 - '0' as u32);
    }
    let code = c as u32;
    let run = DIGIT_ZEROS.partition_point(|&zero| zero <= code);
    let zero = *DIGIT_ZEROS.get(run.checked_sub(1)?)?;
    (code - zero < 10).then_some(code - zero)
}

/// `Character.isDigit(c)` for a character of the Basic Multilingual Plane.
pub fn is_digit(c: char) -> bool {
    digit(c).is_some()
}

/// `String.trim()`: without the leading and trailing characters up to U+0020 (spaces and
/// control characters; not Unicode spaces such as U+00A0).
pub fn trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= ' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_of_every_script_that_java_accepts() {
        assert_eq!(digit('7'), Some(7));
        assert_eq!(digit('\u{0662}'), Some(2)); // Arabic-Indic two
        assert_eq!(digit('\u{FF19}'), Some(9)); // fullwidth nine
        assert_eq!(digit('\u{0669}'), Some(9));
        assert_eq!(digit('\u{066A}'), None); // Arabic percent sign, right after the digits
        assert_eq!(digit('a'), None);
        assert_eq!(digit('\u{00B2}'), None); // superscript two is not Nd
        assert_eq!(digit('\u{1D7CE}'), None); // beyond the BMP: two chars in Java
        assert!(is_digit('\u{0E55}'));
        assert!(!is_digit('-'));
    }

    #[test]
    fn trim_removes_control_characters_but_not_unicode_spaces() {
        assert_eq!(trim(" \t\n a b \u{0}"), "a b");
        assert_eq!(trim("\u{A0}1\u{A0}"), "\u{A0}1\u{A0}");
        assert_eq!(trim("   "), "");
    }
}
