//! Java regex semantics on top of the `regex` crate: whole-string `matches()` and
//! `Matcher.replaceFirst` with Java's replacement syntax (`$1`, `${name}`, `\$`).

use regex::{Captures, Regex};

/// A pattern compiled twice: anchored for `matches()`, unanchored for `find()`.
#[derive(Clone, Debug)]
pub struct JavaPattern {
    source: String,
    full: Regex,
    find: Regex,
}

impl JavaPattern {
    /// Compiles `pattern`; the error is the regex crate's description.
    pub fn compile(pattern: &str) -> Result<Self, String> {
        let find = Regex::new(pattern).map_err(|e| e.to_string())?;
        let full = Regex::new(&format!("^(?:{pattern})$")).map_err(|e| e.to_string())?;
        Ok(JavaPattern {
            source: pattern.to_owned(),
            full,
            find,
        })
    }
    /// The pattern text.
    pub fn as_str(&self) -> &str {
        &self.source
    }
    /// `Matcher.matches()`: the whole input matches.
    pub fn matches(&self, input: &str) -> bool {
        self.full.is_match(input)
    }
    /// `Matcher.replaceFirst(replacement)`.
    pub fn replace_first(&self, input: &str, replacement: &str) -> Result<String, String> {
        let Some(caps) = self.find.captures(input) else {
            return Ok(input.to_owned());
        };
        let m = caps.get(0).expect("group 0 always participates");
        let mut out = String::with_capacity(input.len() + replacement.len());
        out.push_str(&input[..m.start()]);
        expand_java(&self.find, &caps, replacement, &mut out)?;
        out.push_str(&input[m.end()..]);
        Ok(out)
    }
}

/// Appends `replacement` to `out`, substituting group references the way Java's `Matcher.appendReplacement` does.
fn expand_java(re: &Regex, caps: &Captures<'_>, replacement: &str, out: &mut String) -> Result<(), String> {
    let chars: Vec<char> = replacement.chars().collect();
    let group_count = re.captures_len() - 1;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                i += 1;
                match chars.get(i) {
                    Some(c) => out.push(*c),
                    None => return Err("character to be escaped is missing".into()),
                }
                i += 1;
            }
            '$' => {
                i += 1;
                match chars.get(i) {
                    None => return Err("Illegal group reference: group index is missing".into()),
                    Some('{') => {
                        i += 1;
                        let start = i;
                        while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                            i += 1;
                        }
                        if i == start {
                            return Err("named capturing group has 0 length name".into());
                        }
                        if chars.get(i) != Some(&'}') {
                            return Err("named capturing group is missing trailing '}'".into());
                        }
                        let name: String = chars[start..i].iter().collect();
                        i += 1;
                        if re.capture_names().flatten().all(|n| n != name) {
                            return Err(format!("No group with name {{{name}}}"));
                        }
                        if let Some(m) = caps.name(&name) {
                            out.push_str(m.as_str());
                        }
                    }
                    Some(c) if c.is_ascii_digit() => {
                        let mut group = c.to_digit(10).unwrap_or(0) as usize;
                        if group > group_count {
                            return Err(format!("No group {group}"));
                        }
                        i += 1;
                        while let Some(d) = chars.get(i).and_then(|c| c.to_digit(10)) {
                            let next = group * 10 + d as usize;
                            if next > group_count {
                                break;
                            }
                            group = next;
                            i += 1;
                        }
                        if let Some(m) = caps.get(group) {
                            out.push_str(m.as_str());
                        }
                    }
                    Some(_) => return Err("Illegal group reference".into()),
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_like_java() {
        let p = JavaPattern::compile("(.*)-(\\d+)").unwrap();
        assert!(p.matches("orders-12"));
        assert!(!p.matches("orders"));
        assert_eq!(p.replace_first("orders-12", "$1_$2x").unwrap(), "orders_12x");
        assert_eq!(p.replace_first("orders-12", "\\$1").unwrap(), "$1");
        assert!(p.replace_first("orders-12", "$3").is_err());
        let p = JavaPattern::compile("(?<db>[^.]+)\\.(?<table>.+)").unwrap();
        assert_eq!(
            p.replace_first("inv.customers", "${table}_${db}").unwrap(),
            "customers_inv"
        );
        // `$12` with one group is group 1 followed by a literal 2.
        let p = JavaPattern::compile("(a)").unwrap();
        assert_eq!(p.replace_first("a", "$12").unwrap(), "a2");
    }
}
