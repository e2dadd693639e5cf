//! Kafka's `RegexRouter` semantics: the whole topic must match (`Matcher.matches`),
//! then the first match is replaced using Java's replacement syntax
//! (`$1`, `${name}`, `\` escapes).

use regex::{Captures, Regex};

/// Why a replacement could not be applied (Java throws these at apply time).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReplacementError(String);

#[derive(Debug, Clone)]
enum Segment {
    Literal(String),
    Group(usize),
}

/// A compiled regex and replacement, applied as `RegexRouter` applies them.
#[derive(Debug, Clone)]
pub struct RegexReplace {
    whole: Regex,
    find: Regex,
    segments: Result<Vec<Segment>, ReplacementError>,
}

impl RegexReplace {
    /// Compiles `pattern`; errors carry the regex engine's explanation.
    pub fn new(pattern: &str, replacement: &str) -> Result<Self, regex::Error> {
        let find = Regex::new(pattern)?;
        let whole = Regex::new(&format!(r"\A(?:{pattern})\z"))?;
        let segments = parse_replacement(replacement, &find);
        Ok(RegexReplace {
            whole,
            find,
            segments,
        })
    }

    /// The replaced text, or `None` when `input` does not match as a whole.
    pub fn apply(&self, input: &str) -> Result<Option<String>, ReplacementError> {
        if !self.whole.is_match(input) {
            return Ok(None);
        }
        let segments = self.segments.as_ref().map_err(Clone::clone)?;
        let Some(caps) = self.find.captures(input) else {
            return Ok(None);
        };
        let m = caps.get(0).map_or(0..0, |m| m.range());
        let mut out = String::with_capacity(input.len() + 16);
        out.push_str(&input[..m.start]);
        expand(&caps, segments, &mut out);
        out.push_str(&input[m.end..]);
        Ok(Some(out))
    }
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

fn parse_replacement(replacement: &str, regex: &Regex) -> Result<Vec<Segment>, ReplacementError> {
    let group_count = regex.captures_len() - 1;
    let err = |m: String| Err(ReplacementError(m));
    let chars: Vec<char> = replacement.chars().collect();
    let mut segments = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' => {
                i += 1;
                let Some(&next) = chars.get(i) else {
                    return err("character to be escaped is missing".into());
                };
                lit.push(next);
                i += 1;
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
            _ => {
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

    #[test]
    fn named_and_numbered_groups() {
        assert_eq!(
            route("(?<routedByValue>.*)", "outbox.event.${routedByValue}", "Order").unwrap(),
            Some("outbox.event.Order".into())
        );
        assert_eq!(route("(.*)-(.*)", "$2_$1", "a-b").unwrap(), Some("b_a".into()));
        // $10 with one group is group 1 followed by a literal 0.
        assert_eq!(route("(x)", "$10", "x").unwrap(), Some("x0".into()));
        assert_eq!(route("(x)", r"\$1", "x").unwrap(), Some("$1".into()));
    }

    #[test]
    fn requires_a_whole_match() {
        assert_eq!(route("a", "b", "ab").unwrap(), None);
    }

    #[test]
    fn bad_references_fail_at_apply_time() {
        assert_eq!(
            route("(x)", "${nope}", "x").unwrap_err().to_string(),
            "No group with name {nope}"
        );
        assert_eq!(route("(x)", "$2", "x").unwrap_err().to_string(), "No group 2");
        assert_eq!(route("(x)", "$2", "y").unwrap(), None);
    }
}
