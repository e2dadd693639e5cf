//! The differences a scenario found, split into the known ones (each with its reason) and
//! the unexplained ones, which fail the test.

use crate::diff::Difference;

/// A difference that is known and explained: at `step`, at `path` (exact, or a pattern in
/// which each `*` stands for any text, so a trailing `*` makes a prefix).
#[derive(Clone, Copy, Debug)]
pub struct Known {
    /// The step's name, as given to the comparison.
    pub step: &'static str,
    /// The JSON path, or a prefix followed by `*`.
    pub path: &'static str,
    /// Why Ferry differs here (deliberate, or not yet done: see docs/compatibility.md).
    pub why: &'static str,
}

impl Known {
    fn matches(&self, step: &str, d: &Difference) -> bool {
        if self.step != step {
            return false;
        }
        glob_matches(self.path, &d.path)
    }
}

/// `pattern` with `*` standing for any text (possibly empty) matches the whole of `text`.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// What one scenario compared and found.
#[derive(Debug, Default)]
pub struct Report {
    /// Steps compared (REST exchanges, records, internal-topic records).
    pub compared: usize,
    /// Change-event and internal-topic records among them.
    pub records: usize,
    /// Every difference with the step it was found at.
    pub differences: Vec<(String, Difference)>,
}

impl Report {
    /// Adds the differences found at `step`.
    pub fn add(&mut self, step: &str, found: Vec<Difference>) {
        self.compared += 1;
        self.differences
            .extend(found.into_iter().map(|d| (step.to_owned(), d)));
    }

    /// Prints everything (a difference found at the same step and path several times, as
    /// on every record of a topic, once with its count and first example), then panics
    /// when a difference is not in `known`, or a known one no longer occurs (the list must
    /// shrink as Ferry catches up).
    pub fn finish(&self, scenario: &str, known: &[Known]) {
        let mut unexplained = Vec::new();
        let mut used = vec![false; known.len()];
        let mut known_places = 0;
        let mut groups: Vec<(&str, &Difference, usize)> = Vec::new();
        for (step, d) in &self.differences {
            match groups
                .iter_mut()
                .find(|(s, g, _)| *s == step.as_str() && g.path == d.path)
            {
                Some(group) => group.2 += 1,
                None => groups.push((step.as_str(), d, 1)),
            }
        }
        for (step, d, count) in groups {
            let times = if count > 1 {
                format!(" (×{count}, first shown)")
            } else {
                String::new()
            };
            match known.iter().position(|k| k.matches(step, d)) {
                Some(i) => {
                    used[i] = true;
                    known_places += 1;
                    println!("[{scenario}] known {step} {d}{times}\n    why: {}", known[i].why);
                }
                None => {
                    println!("[{scenario}] UNEXPLAINED {step} {d}{times}");
                    unexplained.push(format!("{step} {d}{times}"));
                }
            }
        }
        let stale: Vec<String> = known
            .iter()
            .zip(&used)
            .filter(|(_, u)| !**u)
            .map(|(k, _)| format!("{} {}", k.step, k.path))
            .collect();
        println!(
            "[{scenario}] compared {} steps ({} records): {} differences at {} places, {} of them known, {} unexplained",
            self.compared,
            self.records,
            self.differences.len(),
            known_places + unexplained.len(),
            known_places,
            unexplained.len()
        );
        assert!(
            unexplained.is_empty(),
            "{} unexplained differences from Kafka Connect:\n{}",
            unexplained.len(),
            unexplained.join("\n")
        );
        assert!(
            stale.is_empty(),
            "known differences that no longer occur (remove them from the list):\n{}",
            stale.join("\n")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn d(path: &str) -> Difference {
        Difference {
            path: path.into(),
            ferry: Some(json!(1)),
            connect: Some(json!(2)),
        }
    }

    const KNOWN: &[Known] = &[Known {
        step: "status",
        path: "$.connector.*",
        why: "test",
    }];

    #[test]
    fn patterns_match_prefixes_and_inner_wildcards() {
        assert!(glob_matches("$.a", "$.a"));
        assert!(!glob_matches("$.a", "$.ab"));
        assert!(glob_matches("$.a*", "$.ab.c"));
        assert!(glob_matches("$[\"t.*\"].x", "$[\"t.changed\"].x"));
        assert!(!glob_matches("$[\"t.*\"].x", "$[\"t.changed\"].xy"));
        assert!(glob_matches("$[\"t.*.v\"]*", "$[\"t.a.v\"].w"));
        assert!(!glob_matches("$[\"t.*.v\"]*", "$[\"u.a.v\"].w"));
        assert!(!glob_matches("ab*ba", "aba"));
    }

    #[test]
    fn known_differences_pass() {
        let mut r = Report::default();
        r.add("status", vec![d("$.connector.version")]);
        r.finish("t", KNOWN);
    }

    #[test]
    #[should_panic(expected = "1 unexplained")]
    fn an_unexplained_difference_fails() {
        let mut r = Report::default();
        r.add("status", vec![d("$.connector.version"), d("$.tasks")]);
        r.finish("t", KNOWN);
    }

    #[test]
    #[should_panic(expected = "no longer occur")]
    fn a_stale_known_difference_fails() {
        let mut r = Report::default();
        r.add("status", vec![]);
        r.finish("t", KNOWN);
    }
}
