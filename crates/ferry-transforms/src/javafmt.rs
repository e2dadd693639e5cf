//! Java text formats the transforms reproduce byte for byte: `Double.toString`,
//! `Float.toString`, `BigDecimal.toString`, and a subset of `SimpleDateFormat`
//! (always in UTC, as the transforms configure it).

use bigdecimal::BigDecimal;

/// Milliseconds in a day.
pub const MILLIS_PER_DAY: i64 = 86_400_000;

/// Java's `Double.toString`.
pub fn double_to_string(v: f64) -> String {
    float_layout(
        v.is_nan(),
        v.is_infinite(),
        v == 0.0,
        v.is_sign_negative(),
        v.abs(),
        &format!("{:e}", v.abs()),
    )
}

/// Java's `Float.toString`.
pub fn float_to_string(v: f32) -> String {
    float_layout(
        v.is_nan(),
        v.is_infinite(),
        v == 0.0,
        v.is_sign_negative(),
        v.abs() as f64,
        &format!("{:e}", v.abs()),
    )
}

fn float_layout(nan: bool, inf: bool, zero: bool, neg: bool, abs: f64, sci: &str) -> String {
    if nan {
        return "NaN".into();
    }
    let sign = if neg { "-" } else { "" };
    if inf {
        return format!("{sign}Infinity");
    }
    if zero {
        return format!("{sign}0.0");
    }
    // `sci` is the shortest round-trip representation: d[.ddd]e<exp>
    let (mant, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    if (1e-3..1e7).contains(&abs) {
        let point = exp + 1; // digits before the decimal point
        let out = if point <= 0 {
            format!("0.{}{}", "0".repeat((-point) as usize), digits)
        } else if (point as usize) >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            format!("{}.{}", &digits[..point as usize], &digits[point as usize..])
        };
        format!("{sign}{out}")
    } else {
        let rest = if digits.len() > 1 { &digits[1..] } else { "0" };
        format!("{sign}{}.{}E{}", &digits[..1], rest, exp)
    }
}

/// Java's `BigDecimal.toString` (scientific notation when the exponent is small).
pub fn big_decimal_to_string(d: &BigDecimal) -> String {
    let (unscaled, scale) = d.as_bigint_and_exponent();
    let s = unscaled.to_string();
    let (neg, coeff) = match s.strip_prefix('-') {
        Some(c) => (true, c),
        None => (false, s.as_str()),
    };
    let sign = if neg { "-" } else { "" };
    if scale == 0 {
        return format!("{sign}{coeff}");
    }
    let adjusted = -scale + (coeff.len() as i64 - 1);
    if scale > 0 && adjusted >= -6 {
        let pad = scale - coeff.len() as i64;
        if pad >= 0 {
            format!("{sign}0.{}{coeff}", "0".repeat(pad as usize))
        } else {
            let split = (coeff.len() as i64 - scale) as usize;
            format!("{sign}{}.{}", &coeff[..split], &coeff[split..])
        }
    } else {
        let mut out = format!("{sign}{}", &coeff[..1]);
        if coeff.len() > 1 {
            out.push('.');
            out.push_str(&coeff[1..]);
        }
        if adjusted != 0 {
            out.push('E');
            if adjusted > 0 {
                out.push('+');
            }
            out.push_str(&adjusted.to_string());
        }
        out
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month 1-12, day 1-31) of days since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

#[derive(Clone, Debug, PartialEq)]
enum Item {
    Literal(String),
    Field(char, usize),
}

/// A `java.text.SimpleDateFormat` pattern in UTC, limited to the commonly used letters:
/// `y M L d D E u a H k K h m s S z Z X` and quoted literals.
#[derive(Clone, Debug)]
pub struct JavaDateFormat {
    pattern: String,
    items: Vec<Item>,
}

fn is_numeric_field(item: &Item) -> bool {
    match item {
        Item::Field(c, n) => match c {
            'M' | 'L' => *n <= 2,
            'y' | 'd' | 'D' | 'u' | 'H' | 'k' | 'K' | 'h' | 'm' | 's' | 'S' => true,
            _ => false,
        },
        Item::Literal(_) => false,
    }
}

impl JavaDateFormat {
    /// Compiles a pattern; the error reads like Java's (`Illegal pattern character 'x'`).
    pub fn new(pattern: &str) -> Result<Self, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut items: Vec<Item> = Vec::new();
        let mut lit = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '\'' {
                if chars.get(i + 1) == Some(&'\'') {
                    lit.push('\'');
                    i += 2;
                    continue;
                }
                i += 1;
                let mut closed = false;
                while i < chars.len() {
                    if chars[i] == '\'' {
                        if chars.get(i + 1) == Some(&'\'') {
                            lit.push('\'');
                            i += 2;
                            continue;
                        }
                        closed = true;
                        i += 1;
                        break;
                    }
                    lit.push(chars[i]);
                    i += 1;
                }
                if !closed {
                    return Err("Unterminated quote".into());
                }
                continue;
            }
            if c.is_ascii_alphabetic() {
                let mut n = 1;
                while chars.get(i + n) == Some(&c) {
                    n += 1;
                }
                match c {
                    'y' | 'M' | 'L' | 'd' | 'D' | 'E' | 'u' | 'a' | 'H' | 'k' | 'K' | 'h' | 'm' | 's'
                    | 'S' | 'z' | 'Z' | 'X' => {}
                    'G' | 'Y' | 'w' | 'W' | 'F' => {
                        return Err(format!(
                            "Unsupported pattern character '{c}' (not implemented by Ferry)"
                        ))
                    }
                    _ => return Err(format!("Illegal pattern character '{c}'")),
                }
                if c == 'X' && n > 3 {
                    return Err("invalid ISO 8601 format: length=".to_string() + &n.to_string());
                }
                if !lit.is_empty() {
                    items.push(Item::Literal(std::mem::take(&mut lit)));
                }
                items.push(Item::Field(c, n));
                i += n;
                continue;
            }
            lit.push(c);
            i += 1;
        }
        if !lit.is_empty() {
            items.push(Item::Literal(lit));
        }
        Ok(JavaDateFormat {
            pattern: pattern.to_owned(),
            items,
        })
    }

    /// The pattern text (`toPattern()`).
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// Formats milliseconds since the epoch in UTC.
    pub fn format(&self, millis: i64) -> String {
        let days = millis.div_euclid(MILLIS_PER_DAY);
        let ms_of_day = millis.rem_euclid(MILLIS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let hour = ms_of_day / 3_600_000;
        let minute = ms_of_day / 60_000 % 60;
        let second = ms_of_day / 1000 % 60;
        let milli = ms_of_day % 1000;
        let dow = (days + 4).rem_euclid(7) as usize; // 0 = Sunday
        let mut out = String::new();
        let pad = |out: &mut String, v: i64, n: usize| {
            let s = v.abs().to_string();
            if v < 0 {
                out.push('-');
            }
            for _ in s.len()..n {
                out.push('0');
            }
            out.push_str(&s);
        };
        for item in &self.items {
            match item {
                Item::Literal(s) => out.push_str(s),
                Item::Field(c, n) => {
                    let n = *n;
                    match c {
                        'y' => {
                            // Java prints the year of era (1 BC is year 1).
                            let yoe = if y <= 0 { 1 - y } else { y };
                            if n == 2 {
                                pad(&mut out, yoe % 100, 2)
                            } else {
                                pad(&mut out, yoe, n)
                            }
                        }
                        'M' | 'L' => {
                            if n >= 4 {
                                out.push_str(MONTHS[(m - 1) as usize])
                            } else if n == 3 {
                                out.push_str(&MONTHS[(m - 1) as usize][..3])
                            } else {
                                pad(&mut out, m, n)
                            }
                        }
                        'd' => pad(&mut out, d, n),
                        'D' => pad(&mut out, days - days_from_civil(y, 1, 1) + 1, n),
                        'E' => {
                            if n >= 4 {
                                out.push_str(DAYS[dow])
                            } else {
                                out.push_str(&DAYS[dow][..3])
                            }
                        }
                        'u' => pad(&mut out, if dow == 0 { 7 } else { dow as i64 }, n),
                        'a' => out.push_str(if hour < 12 { "AM" } else { "PM" }),
                        'H' => pad(&mut out, hour, n),
                        'k' => pad(&mut out, if hour == 0 { 24 } else { hour }, n),
                        'K' => pad(&mut out, hour % 12, n),
                        'h' => pad(&mut out, if hour % 12 == 0 { 12 } else { hour % 12 }, n),
                        'm' => pad(&mut out, minute, n),
                        's' => pad(&mut out, second, n),
                        'S' => pad(&mut out, milli, n),
                        'z' => out.push_str(if n >= 4 {
                            "Coordinated Universal Time"
                        } else {
                            "UTC"
                        }),
                        'Z' => out.push_str("+0000"),
                        'X' => out.push('Z'),
                        _ => {}
                    }
                }
            }
        }
        out
    }

    /// Parses from the start of `text` (trailing text is ignored, as `DateFormat.parse` does),
    /// leniently like a default `SimpleDateFormat`; `None` when the text does not match.
    pub fn parse(&self, text: &str) -> Option<i64> {
        let t: Vec<char> = text.chars().collect();
        let mut pos = 0usize;
        let (mut year, mut month, mut day) = (1970i64, 1i64, 1i64);
        let mut day_of_year: Option<i64> = None;
        let (mut hour, mut minute, mut second, mut milli) = (0i64, 0i64, 0i64, 0i64);
        let mut hour12: Option<i64> = None;
        let mut pm: Option<bool> = None;
        let mut offset_ms = 0i64;
        for (idx, item) in self.items.iter().enumerate() {
            match item {
                Item::Literal(s) => {
                    for c in s.chars() {
                        if t.get(pos) != Some(&c) {
                            return None;
                        }
                        pos += 1;
                    }
                }
                Item::Field(c, n) => {
                    let n = *n;
                    let abutting = self.items.get(idx + 1).is_some_and(is_numeric_field);
                    let numeric = is_numeric_field(item);
                    if numeric {
                        let start = pos;
                        let mut neg = false;
                        if matches!(t.get(pos), Some('-')) && !abutting {
                            neg = true;
                            pos += 1;
                        }
                        let digits_start = pos;
                        while pos < t.len()
                            && t[pos].is_ascii_digit()
                            && (!abutting || pos - digits_start < n)
                        {
                            pos += 1;
                        }
                        if pos == digits_start {
                            return None;
                        }
                        let s: String = t[digits_start..pos].iter().collect();
                        let mut v: i64 = s.parse().ok()?;
                        if v > 1_000_000_000_000 {
                            return None;
                        }
                        if neg {
                            v = -v;
                        }
                        match c {
                            'y' => {
                                year = v;
                                if n <= 2 && pos - start == 2 && !neg {
                                    year = two_digit_year(v);
                                }
                            }
                            'M' | 'L' => month = v,
                            'd' => day = v,
                            'D' => day_of_year = Some(v),
                            'u' => {}
                            'H' => hour = v,
                            'k' => hour = if v == 24 { 0 } else { v },
                            'K' | 'h' => hour12 = Some(if v == 12 && *c == 'h' { 0 } else { v }),
                            'm' => minute = v,
                            's' => second = v,
                            'S' => milli = v,
                            _ => {}
                        }
                        continue;
                    }
                    match c {
                        'M' | 'L' => {
                            let (i, len) = match_name(&t[pos..], &MONTHS)?;
                            month = i as i64 + 1;
                            pos += len;
                        }
                        'E' => {
                            let (_, len) = match_name(&t[pos..], &DAYS)?;
                            pos += len;
                        }
                        'a' => {
                            let (i, len) = match_name(&t[pos..], &["AM", "PM"])?;
                            pm = Some(i == 1);
                            pos += len;
                        }
                        'z' | 'Z' | 'X' => {
                            let (off, len) = parse_zone(&t[pos..], *c)?;
                            offset_ms = off;
                            pos += len;
                        }
                        _ => return None,
                    }
                }
            }
        }
        if let Some(h) = hour12 {
            hour = h + if pm == Some(true) { 12 } else { 0 };
        }
        let y = year + (month - 1).div_euclid(12);
        let m = (month - 1).rem_euclid(12) + 1;
        let days = match day_of_year {
            Some(doy) => days_from_civil(year, 1, 1) + doy - 1,
            None => days_from_civil(y, m, 1) + day - 1,
        };
        let millis = days as i128 * MILLIS_PER_DAY as i128
            + hour as i128 * 3_600_000
            + minute as i128 * 60_000
            + second as i128 * 1000
            + milli as i128
            - offset_ms as i128;
        i64::try_from(millis).ok()
    }
}

fn two_digit_year(v: i64) -> i64 {
    // Java resolves two-digit years to within 80 years before and 20 years after now.
    let now_days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64 / MILLIS_PER_DAY)
        .unwrap_or(0);
    let (now_year, _, _) = civil_from_days(now_days);
    let start = now_year - 80;
    let century = start - start.rem_euclid(100);
    let mut y = century + v;
    if y < start {
        y += 100;
    }
    y
}

fn match_name(t: &[char], names: &[&str]) -> Option<(usize, usize)> {
    // Longest match first (full names before abbreviations).
    let mut best: Option<(usize, usize)> = None;
    for (i, name) in names.iter().enumerate() {
        for cand in [*name, &name[..name.len().min(3)]] {
            let len = cand.chars().count();
            if t.len() >= len
                && t[..len]
                    .iter()
                    .zip(cand.chars())
                    .all(|(a, b)| a.eq_ignore_ascii_case(&b))
                && best.is_none_or(|(_, l)| len > l)
            {
                best = Some((i, len));
            }
        }
    }
    best
}

fn parse_zone(t: &[char], letter: char) -> Option<(i64, usize)> {
    let mut pos = 0;
    if letter == 'X' && t.first() == Some(&'Z') {
        return Some((0, 1));
    }
    let s: String = t.iter().take(3).collect();
    if letter != 'X' && (s == "GMT" || s == "UTC") {
        pos = 3;
        if !matches!(t.get(pos), Some('+') | Some('-')) {
            return Some((0, pos));
        }
    }
    let sign = match t.get(pos) {
        Some('+') => 1,
        Some('-') => -1,
        _ => return None,
    };
    pos += 1;
    let digit = |i: usize| t.get(i).and_then(|c| c.to_digit(10)).map(i64::from);
    let h = digit(pos)? * 10 + digit(pos + 1)?;
    pos += 2;
    let mut m = 0;
    if t.get(pos) == Some(&':') && digit(pos + 1).is_some() {
        m = digit(pos + 1)? * 10 + digit(pos + 2)?;
        pos += 3;
    } else if let (Some(a), Some(b)) = (digit(pos), digit(pos + 1)) {
        m = a * 10 + b;
        pos += 2;
    }
    Some((sign * (h * 3_600_000 + m * 60_000), pos))
}

/// `Values.dateFormatFor(date).format(date)` in UTC: a time below one day, a date on
/// exact day boundaries, otherwise a full timestamp.
pub fn iso_format_for(millis: i64) -> String {
    let pattern = if millis < MILLIS_PER_DAY {
        "HH:mm:ss.SSS'Z'"
    } else if millis % MILLIS_PER_DAY == 0 {
        "yyyy-MM-dd"
    } else {
        "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"
    };
    JavaDateFormat::new(pattern)
        .map(|f| f.format(millis))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_print_like_java() {
        assert_eq!(double_to_string(42.0), "42.0");
        assert_eq!(double_to_string(0.1), "0.1");
        assert_eq!(double_to_string(1e7), "1.0E7");
        assert_eq!(double_to_string(1.234e-5), "1.234E-5");
        assert_eq!(double_to_string(0.001), "0.001");
        assert_eq!(double_to_string(-1234567.5), "-1234567.5");
        assert_eq!(double_to_string(9.223372036854776E18), "9.223372036854776E18");
        assert_eq!(float_to_string(42.5), "42.5");
        assert_eq!(float_to_string(0.1), "0.1");
        assert_eq!(double_to_string(f64::NAN), "NaN");
        assert_eq!(double_to_string(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn big_decimals_print_like_java() {
        let s = |t: &str| big_decimal_to_string(&t.parse().unwrap());
        assert_eq!(s("1982"), "1982");
        assert_eq!(s("12.345"), "12.345");
        assert_eq!(s("-0.00012"), "-0.00012");
        assert_eq!(s("0.0000001"), "1E-7");
        assert_eq!(s("1.5E+10"), "1.5E+10");
    }

    #[test]
    fn civil_round_trip() {
        for d in [-1_000_000, -1, 0, 1, 59, 60, 365, 11_016, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn simple_date_format_round_trips() {
        let f = JavaDateFormat::new("yyyy-MM-dd'T'HH:mm:ss.SSSZ").unwrap();
        assert_eq!(f.format(1_700_000_000_123), "2023-11-14T22:13:20.123+0000");
        assert_eq!(f.parse("2023-11-14T22:13:20.123+0000"), Some(1_700_000_000_123));
        assert_eq!(f.parse("2023-11-14T23:13:20.123+0100"), Some(1_700_000_000_123));
        let f = JavaDateFormat::new("yyyyMMdd").unwrap();
        assert_eq!(f.format(0), "19700101");
        assert_eq!(
            f.parse("20240229"),
            Some(days_from_civil(2024, 2, 29) * MILLIS_PER_DAY)
        );
        let f = JavaDateFormat::new("yyyy MM dd HH mm ss SSS z").unwrap();
        assert_eq!(f.format(MILLIS_PER_DAY + 1234), "1970 01 02 00 00 01 234 UTC");
        assert_eq!(
            f.parse("1970 01 02 00 00 01 234 UTC"),
            Some(MILLIS_PER_DAY + 1234)
        );
        let f = JavaDateFormat::new("EEE, d MMM yyyy hh:mm a X").unwrap();
        assert_eq!(f.format(1_700_000_000_000), "Tue, 14 Nov 2023 10:13 PM Z");
        assert_eq!(f.parse("Tue, 14 Nov 2023 10:13 PM Z"), Some(1_699_999_980_000));
        assert!(JavaDateFormat::new("yyyy-bb")
            .unwrap_err()
            .contains("Illegal pattern character 'b'"));
        assert_eq!(f.parse("nonsense"), None);
        let f = JavaDateFormat::new("yyyy-MM-dd").unwrap();
        assert_eq!(f.parse("999999999999-01-01"), None);
        // Lenient like SimpleDateFormat: month 13 rolls into the next year.
        assert_eq!(f.parse("1969-13-01"), Some(0));
    }

    #[test]
    fn iso_format_for_picks_pattern() {
        assert_eq!(iso_format_for(1234), "00:00:01.234Z");
        assert_eq!(iso_format_for(MILLIS_PER_DAY), "1970-01-02");
        assert_eq!(iso_format_for(MILLIS_PER_DAY + 1234), "1970-01-02T00:00:01.234Z");
    }
}
