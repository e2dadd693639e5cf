//! Dates and times as Java prints them: a `java.text.SimpleDateFormat` subset in UTC,
//! Connect's `Values.dateFormatFor`, `java.util.Date.toString`, and the ISO forms of
//! `java.time` (`ISO_LOCAL_DATE`, fractions of a second). Calendar arithmetic is chrono's.

use chrono::{DateTime, Datelike, Days, NaiveDate};

use crate::schema::logical;
use crate::{Schema, Value};

/// Milliseconds in a day.
pub const MILLIS_PER_DAY: i64 = 86_400_000;

/// Days in 400 Gregorian years: the calendar (weekdays included) repeats after them.
const DAYS_PER_400_YEARS: i64 = 146_097;

/// Days from 1970-01-01 to 2000-01-01, the start of the 400-year cycle chrono computes in.
const CYCLE_START_DAYS: i64 = 10_957;

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

/// A proleptic Gregorian date of any year an `i64` of days reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CivilDate {
    /// The year (0 is 1 BC).
    pub year: i64,
    /// The month, 1 to 12.
    pub month: u32,
    /// The day of the month, 1 to 31.
    pub day: u32,
    /// The day of the year, 1 to 366.
    pub ordinal: u32,
    /// The day of the week, 0 for Sunday to 6 for Saturday.
    pub weekday: u32,
}

impl CivilDate {
    /// The date `days` after 1970-01-01 (chrono works out the date within its 400-year cycle).
    pub fn from_epoch_days(days: i64) -> Self {
        let from_cycle = days - CYCLE_START_DAYS;
        let cycles = from_cycle.div_euclid(DAYS_PER_400_YEARS);
        let cycle_start = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
        let date = cycle_start + Days::new(from_cycle.rem_euclid(DAYS_PER_400_YEARS) as u64);
        CivilDate {
            year: i64::from(date.year()) + 400 * cycles,
            month: date.month(),
            day: date.day(),
            ordinal: date.ordinal(),
            weekday: date.weekday().num_days_from_sunday(),
        }
    }
}

/// Days since 1970-01-01 of the first day of `month` (1 to 12) in `year`.
pub fn epoch_days_of_month(year: i64, month: u32) -> i64 {
    let cycles = year.div_euclid(400);
    let year_in_cycle = 2000 + year.rem_euclid(400) as i32;
    let first = NaiveDate::from_ymd_opt(year_in_cycle, month.clamp(1, 12), 1).unwrap_or_default();
    let cycle_start = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default();
    (first - cycle_start).num_days() + CYCLE_START_DAYS + (cycles - 5) * DAYS_PER_400_YEARS
}

/// 1582-10-15, the first Gregorian day of `GregorianCalendar`, in days since 1970-01-01.
const GREGORIAN_CUTOVER_DAYS: i64 = -141_427;

/// Days since 1970-01-01 of the first day of `month` (1 to 12) of `year` in the Julian
/// calendar (year 0 is 1 BC), by the Julian day number.
fn julian_epoch_days_of_month(year: i64, month: u32) -> i64 {
    let month = i64::from(month);
    let a = (14 - month) / 12;
    let y = year + 4800 - a;
    let m = month + 12 * a - 3;
    1 + (153 * m + 2) / 5 + 365 * y + y.div_euclid(4) - 32_083 - 2_440_588
}

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
                i = read_quoted(&chars, i, &mut lit)?;
                continue;
            }
            if c.is_ascii_alphabetic() {
                let mut n = 1;
                while chars.get(i + n) == Some(&c) {
                    n += 1;
                }
                check_letter(c, n)?;
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
        let date = CivilDate::from_epoch_days(days);
        let hour = ms_of_day / 3_600_000;
        let mut out = String::new();
        for item in &self.items {
            let (c, n) = match item {
                Item::Literal(s) => {
                    out.push_str(s);
                    continue;
                }
                Item::Field(c, n) => (*c, *n),
            };
            let month = MONTHS[date.month as usize - 1];
            let weekday = DAYS[date.weekday as usize];
            match c {
                'y' => {
                    // Java prints the year of era (1 BC is year 1).
                    let year_of_era = if date.year <= 0 { 1 - date.year } else { date.year };
                    let shown = if n == 2 { year_of_era % 100 } else { year_of_era };
                    pad(&mut out, shown, n);
                }
                'M' | 'L' if n >= 4 => out.push_str(month),
                'M' | 'L' if n == 3 => out.push_str(&month[..3]),
                'M' | 'L' => pad(&mut out, i64::from(date.month), n),
                'd' => pad(&mut out, i64::from(date.day), n),
                'D' => pad(&mut out, i64::from(date.ordinal), n),
                'E' if n >= 4 => out.push_str(weekday),
                'E' => out.push_str(&weekday[..3]),
                'u' => pad(
                    &mut out,
                    if date.weekday == 0 {
                        7
                    } else {
                        i64::from(date.weekday)
                    },
                    n,
                ),
                'a' => out.push_str(if hour < 12 { "AM" } else { "PM" }),
                'H' => pad(&mut out, hour, n),
                'k' => pad(&mut out, if hour == 0 { 24 } else { hour }, n),
                'K' => pad(&mut out, hour % 12, n),
                'h' => pad(&mut out, if hour % 12 == 0 { 12 } else { hour % 12 }, n),
                'm' => pad(&mut out, ms_of_day / 60_000 % 60, n),
                's' => pad(&mut out, ms_of_day / 1000 % 60, n),
                'S' => pad(&mut out, ms_of_day % 1000, n),
                'z' if n >= 4 => out.push_str("Coordinated Universal Time"),
                'z' => out.push_str("UTC"),
                'Z' => out.push_str("+0000"),
                'X' => out.push('Z'),
                _ => {}
            }
        }
        out
    }

    /// Parses from the start of `text` (trailing text is ignored, as `DateFormat.parse` does),
    /// leniently like a default `SimpleDateFormat`: spaces and tabs before a field are
    /// skipped, numbers may be negative and in any script's digits, out-of-range fields
    /// roll over, and dates before the Gregorian cutover (1582-10-15) are Julian, as
    /// `GregorianCalendar` reckons them. `None` when the text does not match.
    pub fn parse(&self, text: &str) -> Option<i64> {
        let t: Vec<char> = text.chars().collect();
        let mut f = Fields::default();
        let mut pos = 0usize;
        for (idx, item) in self.items.iter().enumerate() {
            if matches!(item, Item::Field(..)) {
                while matches!(t.get(pos), Some(' ' | '\t')) {
                    pos += 1;
                }
                if pos >= t.len() {
                    return None;
                }
            }
            match item {
                Item::Literal(s) => {
                    for c in s.chars() {
                        if t.get(pos) != Some(&c) {
                            return None;
                        }
                        pos += 1;
                    }
                }
                Item::Field(c, n) if is_numeric_field(item) => {
                    let abutting = self.items.get(idx + 1).is_some_and(is_numeric_field);
                    pos = f.read_number(&t, pos, *c, *n, abutting)?;
                }
                Item::Field(c, _) => pos = f.read_text(&t, pos, *c)?,
            }
        }
        f.epoch_millis()
    }
}

/// Reads a quoted literal starting at `chars[i] == '\''` into `lit`; the index after it.
fn read_quoted(chars: &[char], mut i: usize, lit: &mut String) -> Result<usize, String> {
    if chars.get(i + 1) == Some(&'\'') {
        lit.push('\'');
        return Ok(i + 2);
    }
    i += 1;
    while i < chars.len() {
        if chars[i] == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                lit.push('\'');
                i += 2;
                continue;
            }
            return Ok(i + 1);
        }
        lit.push(chars[i]);
        i += 1;
    }
    Err("Unterminated quote".into())
}

fn check_letter(c: char, n: usize) -> Result<(), String> {
    match c {
        'y' | 'M' | 'L' | 'd' | 'D' | 'E' | 'u' | 'a' | 'H' | 'k' | 'K' | 'h' | 'm' | 's' | 'S' | 'z'
        | 'Z' => Ok(()),
        'X' if n > 3 => Err(format!("invalid ISO 8601 format: length={n}")),
        'X' => Ok(()),
        'G' | 'Y' | 'w' | 'W' | 'F' => Err(format!(
            "Unsupported pattern character '{c}' (not implemented by Ferry)"
        )),
        _ => Err(format!("Illegal pattern character '{c}'")),
    }
}

fn pad(out: &mut String, v: i64, width: usize) {
    let digits = v.unsigned_abs().to_string();
    if v < 0 {
        out.push('-');
    }
    out.extend(std::iter::repeat_n('0', width.saturating_sub(digits.len())));
    out.push_str(&digits);
}

/// The calendar fields read so far by [`JavaDateFormat::parse`], with Java's defaults.
struct Fields {
    year: i64,
    month: i64,
    day: i64,
    day_of_year: Option<i64>,
    hour: i64,
    minute: i64,
    second: i64,
    milli: i64,
    hour12: Option<i64>,
    pm: Option<bool>,
    offset_ms: i64,
}

impl Default for Fields {
    fn default() -> Self {
        Fields {
            year: 1970,
            month: 1,
            day: 1,
            day_of_year: None,
            hour: 0,
            minute: 0,
            second: 0,
            milli: 0,
            hour12: None,
            pm: None,
            offset_ms: 0,
        }
    }
}

impl Fields {
    /// Reads a number field at `pos` (at most `n` digits when the next field abuts it).
    fn read_number(
        &mut self,
        t: &[char],
        mut pos: usize,
        c: char,
        n: usize,
        abutting: bool,
    ) -> Option<usize> {
        let start = pos;
        let negative = t.get(pos) == Some(&'-') && !abutting;
        if negative {
            pos += 1;
        }
        let digits_start = pos;
        let mut v: i64 = 0;
        while let Some(d) = t.get(pos).and_then(|&c| super::chars::digit(c)) {
            if abutting && pos - digits_start >= n {
                break;
            }
            v = v.checked_mul(10)?.checked_add(i64::from(d))?;
            pos += 1;
        }
        if pos == digits_start || v > 1_000_000_000_000 {
            return None;
        }
        if negative {
            v = -v;
        }
        match c {
            'y' if n <= 2 && pos - start == 2 && !negative => self.year = two_digit_year(v),
            'y' => self.year = v,
            'M' | 'L' => self.month = v,
            'd' => self.day = v,
            'D' => self.day_of_year = Some(v),
            'H' => self.hour = v,
            'k' => self.hour = if v == 24 { 0 } else { v },
            'K' => self.hour12 = Some(v),
            'h' => self.hour12 = Some(if v == 12 { 0 } else { v }),
            'm' => self.minute = v,
            's' => self.second = v,
            'S' => self.milli = v,
            _ => {}
        }
        Some(pos)
    }

    /// Reads a name or zone field at `pos`.
    fn read_text(&mut self, t: &[char], pos: usize, c: char) -> Option<usize> {
        let rest = &t[pos..];
        let len = match c {
            'M' | 'L' => {
                let (i, len) = match_name(rest, &MONTHS)?;
                self.month = i as i64 + 1;
                len
            }
            'E' => match_name(rest, &DAYS)?.1,
            'a' => {
                let (i, len) = match_name(rest, &["AM", "PM"])?;
                self.pm = Some(i == 1);
                len
            }
            'z' | 'Z' | 'X' => {
                let (offset, len) = parse_zone(rest, c)?;
                self.offset_ms = offset;
                len
            }
            _ => return None,
        };
        Some(pos + len)
    }

    /// Resolves the fields leniently (month 13 is January of the next year, hour 24 the
    /// next day) in `GregorianCalendar`'s hybrid calendar: a year field before 1582 is
    /// Julian, a later date is Gregorian unless it falls before the cutover.
    fn epoch_millis(&self) -> Option<i64> {
        let hour = match self.hour12 {
            Some(h) => h + if self.pm == Some(true) { 12 } else { 0 },
            None => self.hour,
        };
        let time_of_day = i128::from(hour) * 3_600_000
            + i128::from(self.minute) * 60_000
            + i128::from(self.second) * 1000
            + i128::from(self.milli);
        let day_carry = i64::try_from(time_of_day.div_euclid(i128::from(MILLIS_PER_DAY))).ok()?;
        let (year, month, day_offset) = match self.day_of_year {
            Some(doy) => (self.year, 1, doy - 1),
            None => (
                self.year + (self.month - 1).div_euclid(12),
                (self.month - 1).rem_euclid(12) as u32 + 1,
                self.day - 1,
            ),
        };
        let offset = day_offset + day_carry;
        let gregorian = epoch_days_of_month(year, month) + offset;
        let days = if self.year >= 1582 && gregorian >= GREGORIAN_CUTOVER_DAYS {
            gregorian
        } else {
            julian_epoch_days_of_month(year, month) + offset
        };
        let millis = i128::from(days) * i128::from(MILLIS_PER_DAY)
            + time_of_day.rem_euclid(i128::from(MILLIS_PER_DAY))
            - i128::from(self.offset_ms);
        i64::try_from(millis).ok()
    }
}

fn two_digit_year(v: i64) -> i64 {
    // Java resolves two-digit years to within 80 years before and 20 years after now.
    let now_year = i64::from(chrono::Utc::now().year());
    let start = now_year - 80;
    let century = start - start.rem_euclid(100);
    let y = century + v;
    if y < start {
        y + 100
    } else {
        y
    }
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

/// Connect's `Values.dateFormatFor(date).format(date)` in UTC: a time below one day,
/// a date on exact day boundaries, otherwise a full timestamp.
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

/// Milliseconds since the epoch of a Connect Date, Time or Timestamp logical value
/// (a `java.util.Date` in Java); `None` for any other schema or value.
pub fn logical_millis(schema: Option<&Schema>, value: &Value) -> Option<i64> {
    let v = value.as_i64()?;
    match schema?.name()? {
        // An Int64 under a Date schema is a `java.util.Date` off a day boundary that
        // `Values.parseString` put in a list of dates (see `java::values`): milliseconds.
        logical::DATE if matches!(value, Value::Int64(_)) => Some(v),
        logical::DATE => Some(v.saturating_mul(MILLIS_PER_DAY)),
        logical::TIME | logical::TIMESTAMP => Some(v),
        _ => None,
    }
}

/// `java.util.Date.toString()` in UTC (`Thu Jan 01 00:00:00 UTC 1970`); `None` beyond chrono's range.
pub fn date_to_string(millis: i64) -> Option<String> {
    let dt = DateTime::from_timestamp_millis(millis)?;
    Some(dt.format("%a %b %d %H:%M:%S UTC %Y").to_string())
}

/// A date as `DateTimeFormatter.ISO_LOCAL_DATE` prints it: four-digit years, a sign
/// beyond 9999 or before year 0.
pub fn iso_local_date(d: NaiveDate) -> String {
    let y = d.year();
    let year = if y > 9999 {
        format!("+{y}")
    } else if y < 0 {
        format!("-{:04}", -y)
    } else {
        format!("{y:04}")
    };
    format!("{year}-{:02}-{:02}", d.month(), d.day())
}

/// Nanoseconds as Java's ISO formatters print them (`appendFraction(NANO_OF_SECOND, 0, 9, true)`):
/// as few digits as needed after a `.`, nothing at all for zero.
pub fn iso_fraction(nanos: u32) -> String {
    if nanos == 0 {
        String::new()
    } else {
        format!(".{nanos:09}").trim_end_matches('0').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Outputs of `new SimpleDateFormat(pattern).parse(text, new ParsePosition(0))` in UTC
    /// on Java 17.
    #[test]
    fn lenient_parse_reads_like_simple_date_format() {
        let date = JavaDateFormat::new("yyyy-MM-dd").unwrap();
        let time = JavaDateFormat::new("HH:mm:ss.SSS'Z'").unwrap();
        // Julian before the cutover, the ten missing days read as Julian dates.
        assert_eq!(date.parse("0001-01-01"), Some(-62_135_769_600_000));
        assert_eq!(date.parse("1582-10-04"), Some(-12_219_379_200_000));
        assert_eq!(date.parse("1582-10-05"), Some(-12_219_292_800_000));
        assert_eq!(date.parse("1582-10-14"), Some(-12_218_515_200_000));
        assert_eq!(date.parse("1582-10-15"), Some(-12_219_292_800_000));
        assert_eq!(date.parse("1581-12-32"), Some(-12_243_225_600_000));
        assert_eq!(date.parse("0000-00-00"), Some(-62_170_156_800_000));
        // Rolled over, spaces before a field, negative fields, any script's digits.
        assert_eq!(date.parse("2024-13-45"), Some(1_739_491_200_000));
        assert_eq!(date.parse("2024- 1-02"), Some(1_704_153_600_000));
        assert_eq!(
            date.parse("\u{662}\u{660}\u{662}\u{664}-\u{660}\u{661}-\u{660}\u{662}"),
            Some(1_704_153_600_000)
        );
        assert_eq!(time.parse("12: 4:56.789Z"), Some(43_496_789));
        assert_eq!(time.parse("12:-1:00.000Z"), Some(43_140_000));
        assert_eq!(time.parse("24:00:00.000Z"), Some(86_400_000));
        assert_eq!(time.parse("12:34:56.789"), None);
    }

    #[test]
    fn civil_dates_follow_the_gregorian_calendar() {
        let ymd = |days: i64| {
            let d = CivilDate::from_epoch_days(days);
            (d.year, d.month, d.day)
        };
        assert_eq!(ymd(0), (1970, 1, 1));
        assert_eq!(ymd(-1), (1969, 12, 31));
        assert_eq!(ymd(11_017), (2000, 3, 1));
        assert_eq!(CivilDate::from_epoch_days(0).weekday, 4, "a Thursday");
        assert_eq!(CivilDate::from_epoch_days(59).ordinal, 60);
        for d in [
            -1_000_000_000_000,
            -1_000_000,
            -1,
            0,
            1,
            59,
            60,
            365,
            11_016,
            2_932_896,
            1 << 40,
        ] {
            let c = CivilDate::from_epoch_days(d);
            assert_eq!(
                epoch_days_of_month(c.year, c.month) + i64::from(c.day) - 1,
                d,
                "{c:?}"
            );
        }
        assert_eq!(epoch_days_of_month(2000, 3), 11_017);
        assert_eq!(epoch_days_of_month(2024, 2) + 28, 19_782, "2024-02-29");
    }

    #[test]
    fn simple_date_format_round_trips() {
        let f = JavaDateFormat::new("yyyy-MM-dd'T'HH:mm:ss.SSSZ").unwrap();
        assert_eq!(f.format(1_700_000_000_123), "2023-11-14T22:13:20.123+0000");
        assert_eq!(f.parse("2023-11-14T22:13:20.123+0000"), Some(1_700_000_000_123));
        assert_eq!(f.parse("2023-11-14T23:13:20.123+0100"), Some(1_700_000_000_123));
        let f = JavaDateFormat::new("yyyyMMdd").unwrap();
        assert_eq!(f.format(0), "19700101");
        assert_eq!(f.parse("20240229"), Some(19_782 * MILLIS_PER_DAY));
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
        assert_eq!(f.pattern(), "yyyy-MM-dd");
    }

    #[test]
    fn simple_date_format_letters() {
        let f = JavaDateFormat::new("''G").unwrap_err();
        assert!(f.contains("'G'"), "{f}");
        assert_eq!(
            JavaDateFormat::new("XXXX").unwrap_err(),
            "invalid ISO 8601 format: length=4"
        );
        assert_eq!(JavaDateFormat::new("'open").unwrap_err(), "Unterminated quote");
        let f = JavaDateFormat::new("EEEE MMMM D u k K 'o''clock' zzzz yy").unwrap();
        assert_eq!(
            f.format(0),
            "Thursday January 1 4 24 0 o'clock Coordinated Universal Time 70"
        );
        let f = JavaDateFormat::new("yyyy-MM-dd").unwrap();
        assert_eq!(f.format(73_048 * MILLIS_PER_DAY), "2169-12-31");
        assert_eq!(f.format(i64::MAX), "292278994-08-17");
    }

    #[test]
    fn iso_format_for_picks_pattern() {
        assert_eq!(iso_format_for(1234), "00:00:01.234Z");
        assert_eq!(iso_format_for(MILLIS_PER_DAY), "1970-01-02");
        assert_eq!(iso_format_for(MILLIS_PER_DAY + 1234), "1970-01-02T00:00:01.234Z");
    }

    #[test]
    fn java_time_iso_forms() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(iso_local_date(d(2024, 2, 29)), "2024-02-29");
        assert_eq!(iso_local_date(d(12, 1, 1)), "0012-01-01");
        assert_eq!(iso_local_date(d(10000, 1, 1)), "+10000-01-01");
        assert_eq!(iso_local_date(d(-1, 1, 1)), "-0001-01-01");
        assert_eq!(iso_fraction(0), "");
        assert_eq!(iso_fraction(500_000_000), ".5");
        assert_eq!(iso_fraction(123_456_789), ".123456789");
        assert_eq!(iso_fraction(1_000), ".000001");
        assert_eq!(date_to_string(0).as_deref(), Some("Thu Jan 01 00:00:00 UTC 1970"));
    }

    #[test]
    fn logical_millis_only_for_temporal_logical_types() {
        let date = Schema::date().build();
        assert_eq!(
            logical_millis(Some(&date), &Value::Int32(2)),
            Some(2 * MILLIS_PER_DAY)
        );
        let ts = Schema::timestamp().build();
        assert_eq!(logical_millis(Some(&ts), &Value::Int64(-5)), Some(-5));
        assert_eq!(logical_millis(Some(&Schema::int64()), &Value::Int64(5)), None);
        assert_eq!(logical_millis(None, &Value::Int64(5)), None);
        assert_eq!(logical_millis(Some(&ts), &Value::String("5".into())), None);
    }
}
