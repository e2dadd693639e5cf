//! Java regex semantics on top of the `regex` crate: whole-input `Matcher.matches()`,
//! and `Matcher.replaceFirst` with Java's replacement syntax (`$1`, `${name}`, `\$`)
//! and Java's error messages.

use regex::{Captures, Regex};

/// Why a replacement cannot be applied; the message is Java's (Java throws it when a match is replaced).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReplacementError(String);

/// A pattern compiled twice: anchored for `matches()`, unanchored for `find()`.
#[derive(Clone, Debug)]
pub struct JavaPattern {
    source: String,
    whole: Regex,
    find: Regex,
}

impl JavaPattern {
    /// Compiles `pattern`; the error describes what the regex engine refused.
    pub fn compile(pattern: &str) -> Result<Self, regex::Error> {
        let find = Regex::new(pattern)?;
        let whole = Regex::new(&format!(r"\A(?:{pattern})\z"))?;
        Ok(JavaPattern {
            source: pattern.to_owned(),
            whole,
            find,
        })
    }

    /// The pattern text.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// `Matcher.matches()`: the whole input matches.
    pub fn matches(&self, input: &str) -> bool {
        self.whole.is_match(input)
    }

    /// `Matcher.replaceFirst(replacement)`; an invalid replacement fails only when there is a match.
    pub fn replace_first(&self, input: &str, replacement: &Replacement) -> Result<String, ReplacementError> {
        let Some(caps) = self.find.captures(input) else {
            return Ok(input.to_owned());
        };
        let segments = replacement.segments.as_ref().map_err(Clone::clone)?;
        let m = caps.get(0).map_or(0..0, |m| m.range());
        let mut out = String::with_capacity(input.len() + 16);
        out.push_str(&input[..m.start]);
        expand(&caps, segments, &mut out);
        out.push_str(&input[m.end..]);
        Ok(out)
    }
}

/// A replacement text parsed against one pattern's groups.
#[derive(Clone, Debug)]
pub struct Replacement {
    segments: Result<Vec<Segment>, ReplacementError>,
}

impl Replacement {
    /// Parses `replacement` for `pattern`; a malformed text keeps Java's error for when it is applied.
    pub fn parse(replacement: &str, pattern: &JavaPattern) -> Self {
        Replacement {
            segments: parse_segments(replacement, &pattern.find),
        }
    }
}

/// Kafka's `RegexRouter` step: when the whole input matches, the first match is replaced.
#[derive(Clone, Debug)]
pub struct RegexReplace {
    pattern: JavaPattern,
    replacement: Replacement,
}

impl RegexReplace {
    /// Compiles `pattern` and parses `replacement` against it.
    pub fn new(pattern: &str, replacement: &str) -> Result<Self, regex::Error> {
        let pattern = JavaPattern::compile(pattern)?;
        let replacement = Replacement::parse(replacement, &pattern);
        Ok(RegexReplace { pattern, replacement })
    }

    /// The compiled pattern.
    pub fn pattern(&self) -> &JavaPattern {
        &self.pattern
    }

    /// The replaced text, or `None` when `input` does not match as a whole.
    pub fn apply(&self, input: &str) -> Result<Option<String>, ReplacementError> {
        if !self.pattern.matches(input) {
            return Ok(None);
        }
        self.pattern.replace_first(input, &self.replacement).map(Some)
    }
}

#[derive(Debug, Clone)]
enum Segment {
    Literal(String),
    Group(usize),
}

fn expand(caps: &Captures<'_>, segments: &[Segment], out: &mut String) {
    for seg in segments {
        match seg {
            Segment::Literal(s) => out.push_str(s),
            Segment::Group(i) => {
                if let Some(g) = caps.get(*i) {
                    out.push_str(g.as_str());
                }
            }
        }
    }
}

/// `Matcher.appendExpandedReplacement`'s parsing, with its messages.
fn parse_segments(replacement: &str, regex: &Regex) -> Result<Vec<Segment>, ReplacementError> {
    let group_count = regex.captures_len() - 1;
    let err = |m: String| Err(ReplacementError(m));
    let chars: Vec<char> = replacement.chars().collect();
    let mut segments = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                let Some(&next) = chars.get(i + 1) else {
                    return err("character to be escaped is missing".into());
                };
                lit.push(next);
                i += 2;
            }
            '$' => {
                i += 1;
                let Some(&next) = chars.get(i) else {
                    return err("Illegal group reference: group index is missing".into());
                };
                let group = if next == '{' {
                    i += 1;
                    let start = i;
                    while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                        i += 1;
                    }
                    let name: String = chars[start..i].iter().collect();
                    if name.is_empty() {
                        return err("named capturing group has 0 length name".into());
                    }
                    if chars.get(i) != Some(&'}') {
                        return err("named capturing group is missing trailing '}'".into());
                    }
                    if name.starts_with(|c: char| c.is_ascii_digit()) {
                        return err(format!(
                            "capturing group name {{{name}}} starts with digit character"
                        ));
                    }
                    i += 1;
                    match regex.capture_names().position(|n| n == Some(name.as_str())) {
                        Some(idx) => idx,
                        None => return err(format!("No group with name {{{name}}}")),
                    }
                } else {
                    let Some(mut num) = next.to_digit(10).map(|d| d as usize) else {
                        return err("Illegal group reference".into());
                    };
                    i += 1;
                    // The longest number that is still a group, as Java reads it.
                    while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                        let candidate = num * 10 + d as usize;
                        if candidate > group_count {
                            break;
                        }
                        num = candidate;
                        i += 1;
                    }
                    if num > group_count {
                        return err(format!("No group {num}"));
                    }
                    num
                };
                if !lit.is_empty() {
                    segments.push(Segment::Literal(std::mem::take(&mut lit)));
                }
                segments.push(Segment::Group(group));
            }
            c => {
                lit.push(c);
                i += 1;
            }
        }
    }
    if !lit.is_empty() {
        segments.push(Segment::Literal(lit));
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(pattern: &str, replacement: &str, input: &str) -> Result<Option<String>, ReplacementError> {
        RegexReplace::new(pattern, replacement).unwrap().apply(input)
    }

    fn first(pattern: &str, replacement: &str, input: &str) -> Result<String, ReplacementError> {
        let p = JavaPattern::compile(pattern).unwrap();
        p.replace_first(input, &Replacement::parse(replacement, &p))
    }

    #[test]
    fn matches_needs_the_whole_input() {
        let p = JavaPattern::compile("(.*)-(\\d+)").unwrap();
        assert!(p.matches("orders-12"));
        assert!(!p.matches("orders"));
        assert!(!JavaPattern::compile("a").unwrap().matches("ab"));
        assert!(JavaPattern::compile("a|ab").unwrap().matches("ab"));
        assert_eq!(p.as_str(), "(.*)-(\\d+)");
        assert!(JavaPattern::compile("(").is_err());
    }

    #[test]
    fn numbered_and_named_groups() {
        assert_eq!(first("(.*)-(\\d+)", "$1_$2x", "orders-12").unwrap(), "orders_12x");
        assert_eq!(first("(.*)-(.*)", "$2_$1", "a-b").unwrap(), "b_a");
        assert_eq!(
            first("(?<db>[^.]+)\\.(?<table>.+)", "${table}_${db}", "inv.customers").unwrap(),
            "customers_inv"
        );
        assert_eq!(
            route("(?<routedByValue>.*)", "outbox.event.${routedByValue}", "Order").unwrap(),
            Some("outbox.event.Order".into())
        );
        // Only the first match is replaced, the rest of the input stays.
        assert_eq!(first("o", "0", "foo").unwrap(), "f0o");
        assert_eq!(first("x", "$0", "abc").unwrap(), "abc");
    }

    #[test]
    fn group_numbers_take_the_longest_existing_group() {
        // `$12` and `$10` with one group are group 1 followed by a literal digit.
        assert_eq!(first("(a)", "$12", "a").unwrap(), "a2");
        assert_eq!(route("(x)", "$10", "x").unwrap(), Some("x0".into()));
    }

    #[test]
    fn backslash_escapes_the_next_character() {
        assert_eq!(first("(.*)-(\\d+)", "\\$1", "orders-12").unwrap(), "$1");
        assert_eq!(route("(x)", r"\$1", "x").unwrap(), Some("$1".into()));
        assert_eq!(first("x", r"a\\b", "x").unwrap(), r"a\b");
    }

    #[test]
    fn bad_references_fail_with_javas_messages_when_applied() {
        let msg = |r: &str| first("(x)", r, "x").unwrap_err().to_string();
        assert_eq!(msg("$3"), "No group 3");
        assert_eq!(msg("${nope}"), "No group with name {nope}");
        assert_eq!(msg("${}"), "named capturing group has 0 length name");
        assert_eq!(msg("${a"), "named capturing group is missing trailing '}'");
        assert_eq!(
            msg("${1a}"),
            "capturing group name {1a} starts with digit character"
        );
        assert_eq!(msg("$"), "Illegal group reference: group index is missing");
        assert_eq!(msg("$x"), "Illegal group reference");
        assert_eq!(msg("\\"), "character to be escaped is missing");
        assert_eq!(route("(x)", "$2", "x").unwrap_err().to_string(), "No group 2");
        // Without a match nothing is replaced and nothing fails.
        assert_eq!(route("(x)", "$2", "y").unwrap(), None);
        assert_eq!(first("(x)", "$2", "y").unwrap(), "y");
    }

    #[test]
    fn router_requires_a_whole_match() {
        assert_eq!(route("a", "b", "ab").unwrap(), None);
        assert_eq!(route("a", "b", "a").unwrap(), Some("b".into()));
    }
}
