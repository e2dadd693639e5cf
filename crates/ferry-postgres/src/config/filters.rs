//! Include/exclude lists and `message.key.columns`, compiled to anchored,
//! case-insensitive regexes.

use regex::{Regex, RegexBuilder};

/// Schema/table/column include and exclude lists (anchored, case-insensitive regexes).
#[derive(Clone, Debug, Default)]
pub struct Filters {
    pub(super) schema_include: Vec<Regex>,
    pub(super) schema_exclude: Vec<Regex>,
    pub(super) table_include: Vec<Regex>,
    pub(super) table_exclude: Vec<Regex>,
    pub(super) column_include: Vec<Regex>,
    pub(super) column_exclude: Vec<Regex>,
    pub(super) message_include: Vec<Regex>,
    pub(super) message_exclude: Vec<Regex>,
}

const SYSTEM_SCHEMAS: &[&str] = &["pg_catalog", "information_schema", "pg_toast"];

impl Filters {
    /// Whether table `schema.table` is captured.
    pub fn table_included(&self, schema: &str, table: &str) -> bool {
        if SYSTEM_SCHEMAS.contains(&schema) || schema.starts_with("pg_temp") {
            return false;
        }
        if !self.schema_include.is_empty() && !matches_any(&self.schema_include, schema) {
            return false;
        }
        if matches_any(&self.schema_exclude, schema) {
            return false;
        }
        let id = format!("{schema}.{table}");
        if !self.table_include.is_empty() && !matches_any(&self.table_include, &id) {
            return false;
        }
        !matches_any(&self.table_exclude, &id)
    }

    /// Where a captured table comes in the snapshot: the position of the first
    /// `table.include.list` pattern it matches (0 without a list), as Debezium orders its
    /// snapshot by the list's patterns and then by name.
    pub fn snapshot_rank(&self, schema: &str, table: &str) -> usize {
        let id = format!("{schema}.{table}");
        self.table_include
            .iter()
            .position(|r| r.is_match(&id))
            .unwrap_or(0)
    }

    /// Whether column `schema.table.column` is captured.
    pub fn column_included(&self, schema: &str, table: &str, column: &str) -> bool {
        if self.column_include.is_empty() && self.column_exclude.is_empty() {
            return true;
        }
        let id = format!("{schema}.{table}.{column}");
        if !self.column_include.is_empty() && !matches_any(&self.column_include, &id) {
            return false;
        }
        !matches_any(&self.column_exclude, &id)
    }

    /// Whether logical decoding messages with `prefix` are captured
    /// (`message.prefix.include.list`, else `message.prefix.exclude.list`; all by default).
    pub fn message_included(&self, prefix: &str) -> bool {
        if !self.message_include.is_empty() {
            return matches_any(&self.message_include, prefix);
        }
        !matches_any(&self.message_exclude, prefix)
    }

    /// True when a table include list is set (the publication can be filtered).
    pub fn has_table_or_schema_filter(&self) -> bool {
        !(self.schema_include.is_empty()
            && self.schema_exclude.is_empty()
            && self.table_include.is_empty()
            && self.table_exclude.is_empty())
    }
}

fn matches_any(list: &[Regex], s: &str) -> bool {
    list.iter().any(|r| r.is_match(s))
}

/// `message.key.columns` entry: a table regex and the key columns to use.
#[derive(Clone, Debug)]
pub struct KeyColumns {
    /// Anchored regex over `schema.table`.
    pub table: Regex,
    /// Column names, in order.
    pub columns: Vec<String>,
}

/// `pattern` as an anchored, case-insensitive regex (how Debezium matches its lists).
pub(super) fn anchored(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(&format!("^(?:{pattern})$"))
        .case_insensitive(true)
        .build()
}

/// Splits a comma-separated regex list; `\,` escapes a comma.
pub(super) fn split_regex_list(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' && chars.peek() == Some(&',') {
            cur.push(',');
            chars.next();
        } else if c == ',' {
            let t = cur.trim().to_string();
            if !t.is_empty() {
                out.push(t);
            }
            cur.clear();
        } else {
            cur.push(c);
        }
    }
    let t = cur.trim().to_string();
    if !t.is_empty() {
        out.push(t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_list_honours_escaped_commas() {
        assert_eq!(split_regex_list("a\\,b, c ,"), vec!["a,b", "c"]);
    }

    #[test]
    fn anchored_patterns_match_whole_names_ignoring_case() {
        let r = anchored("public\\.a.*").unwrap();
        assert!(r.is_match("PUBLIC.abc"));
        assert!(!r.is_match("xpublic.abc"));
        assert!(anchored("(unclosed").is_err());
    }
}
