//! `java.lang.String` and `java.util` behaviour Connect's output depends on:
//! `String.hashCode`, `HashMap` iteration order, `AbstractMap`/`AbstractCollection`
//! `toString`, `String.split` and `String.trim().isEmpty()`.

use std::fmt::{Display, Write as _};

/// Java's `String.hashCode` (over UTF-16 code units).
pub fn string_hash(s: &str) -> i32 {
    s.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(c as i32))
}

/// Orders entries as a `java.util.HashMap` (default capacity and load factor) that
/// received them in the given order iterates them: by bucket, then insertion.
pub fn hashmap_iteration_order<K: AsRef<str>, V>(entries: Vec<(K, V)>) -> Vec<(K, V)> {
    hashmap_iteration_order_from(entries, 16)
}

/// Like [`hashmap_iteration_order`] for a `HashMap` whose table starts at `capacity`
/// buckets (a power of two) and doubles as entries arrive: `new HashMap<>(map)` of `n`
/// entries starts at [`hashmap_copy_capacity`]`(n)`.
pub fn hashmap_iteration_order_from<K: AsRef<str>, V>(entries: Vec<(K, V)>, capacity: usize) -> Vec<(K, V)> {
    let mut capacity = capacity.max(1).next_power_of_two();
    while entries.len() > capacity * 3 / 4 {
        capacity *= 2;
    }
    let mut indexed: Vec<(usize, usize, (K, V))> = entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let h = string_hash(e.0.as_ref());
            let spread = h ^ ((h as u32) >> 16) as i32;
            ((spread as u32 as usize) & (capacity - 1), i, e)
        })
        .collect();
    indexed.sort_by_key(|(bucket, i, _)| (*bucket, *i));
    indexed.into_iter().map(|(_, _, e)| e).collect()
}

/// The table size of `new HashMap<>(map)` for a map of `n` entries: `tableSizeFor(n / 0.75
/// + 1)`, or the default 16 for an empty map.
pub fn hashmap_copy_capacity(n: usize) -> usize {
    if n == 0 {
        return 16;
    }
    let wanted = (n as f32 / 0.75 + 1.0) as usize;
    wanted.max(1).next_power_of_two()
}

/// `AbstractMap.toString`: `{k=v, k2=v2}` in the entries' order.
pub fn map_to_string<K: Display, V: Display>(entries: impl IntoIterator<Item = (K, V)>) -> String {
    let mut out = String::new();
    write_joined(&mut out, ('{', ", ", '}'), entries, |out, (k, v)| {
        let _ = write!(out, "{k}={v}");
    });
    out
}

/// `AbstractCollection.toString`: `[a, b]` in the items' order.
pub fn list_to_string<T: Display>(items: impl IntoIterator<Item = T>) -> String {
    let mut out = String::new();
    write_joined(&mut out, ('[', ", ", ']'), items, |out, item| {
        let _ = write!(out, "{item}");
    });
    out
}

/// Appends `open`, the items (each by `write_item`) between `separator`s, and `close`:
/// the loop behind every `toString` of a collection, with its punctuation.
pub fn write_joined<T>(
    out: &mut String,
    (open, separator, close): (char, &str, char),
    items: impl IntoIterator<Item = T>,
    mut write_item: impl FnMut(&mut String, T),
) {
    out.push(open);
    for (i, item) in items.into_iter().enumerate() {
        if i > 0 {
            out.push_str(separator);
        }
        write_item(out, item);
    }
    out.push(close);
}

/// Java's `String.split(regex)` for a one-character literal separator: trailing empty
/// strings are dropped (so `":"` gives none), and an empty input gives one empty string.
pub fn split(s: &str, separator: char) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split(separator).collect();
    while parts.last() == Some(&"") && !(parts.len() == 1 && s.is_empty()) {
        parts.pop();
    }
    parts
}

/// Java's `String.trim().isEmpty()`: nothing but characters up to U+0020.
pub fn is_blank(s: &str) -> bool {
    s.chars().all(|c| c <= ' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_hash_matches_java() {
        assert_eq!(string_hash(""), 0);
        assert_eq!(string_hash("a"), 97);
        assert_eq!(string_hash("hello"), 99_162_322);
        assert_eq!(string_hash("lsn"), 107_463);
        // Overflow wraps; characters outside the BMP hash as two UTF-16 units.
        assert_eq!(string_hash("polygenelubricants"), i32::MIN);
        assert_eq!(string_hash("😀"), 1_772_899);
    }

    #[test]
    fn hashmap_order_is_bucket_then_insertion() {
        // Java 17: a HashMap given ts_usec, lsn, b, a iterates [a, b, lsn, ts_usec].
        let order = hashmap_iteration_order(vec![("ts_usec", 1), ("lsn", 2), ("b", 3), ("a", 4)]);
        let keys: Vec<&str> = order.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, ["a", "b", "lsn", "ts_usec"]);
        // Equal buckets keep insertion order ("Aa" and "BB" share a hash).
        let order = hashmap_iteration_order(vec![("BB", 1), ("Aa", 2)]);
        assert_eq!(order, [("BB", 1), ("Aa", 2)]);
    }

    #[test]
    fn hashmap_grows_past_three_quarters() {
        // Thirteen keys make a 32-bucket table: "q" (113) lands in bucket 17, after "a".."l".
        let keys: Vec<String> = "qabcdefghijkl".chars().map(String::from).collect();
        let order = hashmap_iteration_order(keys.iter().map(|k| (k.as_str(), ())).collect());
        assert_eq!(order.first().map(|e| e.0), Some("a"));
        assert_eq!(order.last().map(|e| e.0), Some("q"));
    }

    #[test]
    fn to_strings_match_abstract_map_and_collection() {
        let m = [("a", "1"), ("b", "x")];
        assert_eq!(map_to_string(m), "{a=1, b=x}");
        assert_eq!(map_to_string(Vec::<(&str, i32)>::new()), "{}");
        assert_eq!(list_to_string(["a", "b"]), "[a, b]");
        assert_eq!(list_to_string(Vec::<String>::new()), "[]");
    }

    #[test]
    fn split_like_java() {
        assert_eq!(split("a:b", ':'), ["a", "b"]);
        assert_eq!(split("a:b:", ':'), ["a", "b"]);
        assert_eq!(split("a::b", ':'), ["a", "", "b"]);
        assert_eq!(split(":b", ':'), ["", "b"]);
        assert_eq!(split("a", ':'), ["a"]);
        assert_eq!(split("", ':'), [""]);
        assert!(split(":", ':').is_empty());
        assert!(split("::", ':').is_empty());
    }

    #[test]
    fn blank_is_trim_then_empty() {
        assert!(is_blank(""));
        assert!(is_blank(" \t\n\u{1}"));
        assert!(!is_blank(" x "));
        // Java's trim keeps non-ASCII spaces.
        assert!(!is_blank("\u{a0}"));
    }
}
