//! Debezium's column mappers: `column.truncate.to.N.chars`, `column.mask.with.N.chars`,
//! `column.propagate.source.type`, `datatype.propagate.source.type`,
//! `column.mask.hash.ALGORITHM.with.salt.SALT` and `column.mask.hash.v2.ALGORITHM.with.salt.SALT`,
//! as Debezium's `ColumnMappers`, `TruncateColumn`, `MaskStrings` and
//! `PropagateSourceMetadataToSchemaParameter` apply them.
//!
//! Column lists are regular expressions matched, whole and ignoring case, against
//! `schema.table.column` (the datatype list against `schema.table.typename`). Only the first
//! rule that matches a column applies, in Debezium's order: truncations, masks, column
//! propagation, datatype propagation, hashes (v1), hashes (v2); within one kind, keys in
//! name order.

use regex::Regex;

use ferry_core::{ConfigError, ConfigMap};

use super::filters::{anchored, split_regex_list};

/// A digest Debezium takes by its Java `MessageDigest` name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// `SHA-1` (also `SHA1`, `SHA`).
    Sha1,
    /// `SHA-256`.
    Sha256,
    /// `SHA-384`.
    Sha384,
    /// `SHA-512`.
    Sha512,
}

impl HashAlgorithm {
    /// The algorithm for a Java `MessageDigest` name (case-insensitive), if Ferry has it.
    pub fn from_java_name(name: &str) -> Option<HashAlgorithm> {
        match name.to_ascii_uppercase().as_str() {
            "SHA-1" | "SHA1" | "SHA" => Some(HashAlgorithm::Sha1),
            "SHA-256" | "SHA256" => Some(HashAlgorithm::Sha256),
            "SHA-384" | "SHA384" => Some(HashAlgorithm::Sha384),
            "SHA-512" | "SHA512" => Some(HashAlgorithm::Sha512),
            _ => None,
        }
    }

    /// The digest of `parts`, concatenated.
    pub fn digest(self, parts: &[&[u8]]) -> Vec<u8> {
        let algorithm = match self {
            HashAlgorithm::Sha1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
            HashAlgorithm::Sha256 => &ring::digest::SHA256,
            HashAlgorithm::Sha384 => &ring::digest::SHA384,
            HashAlgorithm::Sha512 => &ring::digest::SHA512,
        };
        let mut ctx = ring::digest::Context::new(algorithm);
        for p in parts {
            ctx.update(p);
        }
        ctx.finish().as_ref().to_vec()
    }
}

/// What a matching rule does to a column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ColumnMapping {
    /// `column.truncate.to.N.chars`: string values cut to N UTF-16 code units.
    Truncate(usize),
    /// `column.mask.with.N.chars`: string columns' values replaced by N `*`.
    Mask(usize),
    /// `column.propagate.source.type` / `datatype.propagate.source.type`: the source
    /// type, length, scale and name as `__debezium.source.column.*` schema parameters.
    PropagateSourceType,
    /// `column.mask.hash[.v2].ALGORITHM.with.salt.SALT`: string values replaced by the
    /// lowercase hex digest of salt + value bytes, cut to the column's length.
    Hash {
        /// The digest.
        algorithm: HashAlgorithm,
        /// The salt's bytes (UTF-8, as Java's `String.getBytes()` gives them on Linux).
        salt: Vec<u8>,
        /// `v2`: the value's UTF-8 bytes; v1: its Java serialization.
        v2: bool,
    },
}

/// One rule: the patterns it matches and its mapping.
#[derive(Clone, Debug)]
pub struct ColumnRule {
    /// The setting's name.
    pub key: String,
    patterns: Vec<Regex>,
    /// Matches `schema.table.typename` instead of `schema.table.column`.
    by_datatype: bool,
    /// What it does.
    pub mapping: ColumnMapping,
}

/// The column rules of a configuration, in the order Debezium tries them.
#[derive(Clone, Debug, Default)]
pub struct ColumnRules {
    rules: Vec<ColumnRule>,
}

/// The literal setting names Debezium declares for the pattern-named rules (they appear
/// this way in `/connector-plugins/.../config/validate`).
pub const DECLARED_PATTERN_KEYS: [&str; 3] = [
    "column.mask.hash.([^.]+).with.salt.(.+)",
    "column.mask.with.(d+).chars",
    "column.truncate.to.(d+).chars",
];

impl ColumnRules {
    /// Reads every column rule of `map`; bad settings are reported naming their key.
    pub fn parse(map: &ConfigMap, errors: &mut Vec<ConfigError>) -> ColumnRules {
        let mut keys: Vec<(&String, &String)> = map
            .iter()
            .filter(|(k, v)| !v.trim().is_empty() && !DECLARED_PATTERN_KEYS.contains(&k.as_str()))
            .collect();
        keys.sort();
        let mut truncates = Vec::new();
        let mut masks = Vec::new();
        let mut propagates = Vec::new();
        let mut datatypes = Vec::new();
        let mut hashes = Vec::new();
        let mut hashes_v2 = Vec::new();
        for (key, value) in keys {
            let mapping = if let Some(n) = count_between(key, "column.truncate.to.", ".chars") {
                match n {
                    Some(n) => (ColumnMapping::Truncate(n), &mut truncates),
                    None => {
                        errors.push(ConfigError::invalid(
                            key,
                            value,
                            "The length in the setting's name must be a non-negative integer",
                        ));
                        continue;
                    }
                }
            } else if let Some(n) = count_between(key, "column.mask.with.", ".chars") {
                match n {
                    Some(n) => (ColumnMapping::Mask(n), &mut masks),
                    None => {
                        errors.push(ConfigError::invalid(
                            key,
                            value,
                            "The number of characters in the setting's name must be a non-negative integer",
                        ));
                        continue;
                    }
                }
            } else if key == "column.propagate.source.type" {
                (ColumnMapping::PropagateSourceType, &mut propagates)
            } else if key == "datatype.propagate.source.type" {
                (ColumnMapping::PropagateSourceType, &mut datatypes)
            } else if let Some(rest) = key.strip_prefix("column.mask.hash.") {
                let (v2, rest) = match rest.strip_prefix("v2.") {
                    Some(r) => (true, r),
                    None => (false, rest),
                };
                let Some((algorithm, salt)) = rest.split_once(".with.salt.") else {
                    continue;
                };
                if algorithm.is_empty() || algorithm.contains('.') || salt.is_empty() {
                    continue;
                }
                let Some(algorithm) = HashAlgorithm::from_java_name(algorithm) else {
                    errors.push(ConfigError::invalid(
                        key,
                        value,
                        format!("Unsupported hash algorithm '{algorithm}'; Ferry supports SHA-1, SHA-256, SHA-384 and SHA-512"),
                    ));
                    continue;
                };
                let mapping = ColumnMapping::Hash {
                    algorithm,
                    salt: salt.as_bytes().to_vec(),
                    v2,
                };
                if v2 {
                    (mapping, &mut hashes_v2)
                } else {
                    (mapping, &mut hashes)
                }
            } else {
                continue;
            };
            let (mapping, list) = mapping;
            let mut patterns = Vec::new();
            for pat in split_regex_list(value.trim()) {
                match anchored(&pat) {
                    Ok(r) => patterns.push(r),
                    Err(e) => errors.push(ConfigError::invalid(
                        key,
                        value,
                        format!("invalid regular expression '{pat}': {e}"),
                    )),
                }
            }
            let by_datatype = key == "datatype.propagate.source.type";
            list.push(ColumnRule {
                key: key.clone(),
                patterns,
                by_datatype,
                mapping,
            });
        }
        let rules = [truncates, masks, propagates, datatypes, hashes, hashes_v2].concat();
        ColumnRules { rules }
    }

    /// Whether no rule is configured.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The first rule matching column `column` of type `type_name` in `schema.table`.
    pub fn rule_for(&self, schema: &str, table: &str, column: &str, type_name: &str) -> Option<&ColumnRule> {
        let column_id = format!("{schema}.{table}.{column}");
        let datatype_id = format!("{schema}.{table}.{type_name}");
        self.rules.iter().find(|r| {
            let id = if r.by_datatype { &datatype_id } else { &column_id };
            r.patterns.iter().any(|p| p.is_match(id))
        })
    }
}

/// `Some(Some(n))` when `key` is `prefix` + digits + `suffix`, `Some(None)` when it has
/// the prefix and suffix but no number between, `None` when it is another setting.
fn count_between(key: &str, prefix: &str, suffix: &str) -> Option<Option<usize>> {
    let middle = key.strip_prefix(prefix)?.strip_suffix(suffix)?;
    Some(
        (!middle.is_empty() && middle.bytes().all(|b| b.is_ascii_digit()))
            .then(|| middle.parse().ok())
            .flatten(),
    )
}

/// Lowercase hex of `bytes`, two digits a byte (`String.format("%02x", b)`).
pub fn lower_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A string as Java's `ObjectOutputStream.writeObject` writes it: the stream header
/// `AC ED 00 05`, then `TC_STRING` (0x74) with a 2-byte length or, beyond 65535 bytes,
/// `TC_LONGSTRING` (0x7C) with an 8-byte length, then modified UTF-8 (NUL as `C0 80`,
/// characters beyond the BMP as two 3-byte surrogates).
pub fn java_serialized_string(s: &str) -> Vec<u8> {
    let mut utf = Vec::with_capacity(s.len());
    for unit in s.encode_utf16() {
        match unit {
            0x0001..=0x007F => utf.push(unit as u8),
            0x0000 | 0x0080..=0x07FF => {
                utf.push(0xC0 | ((unit >> 6) & 0x1F) as u8);
                utf.push(0x80 | (unit & 0x3F) as u8);
            }
            _ => {
                utf.push(0xE0 | ((unit >> 12) & 0x0F) as u8);
                utf.push(0x80 | ((unit >> 6) & 0x3F) as u8);
                utf.push(0x80 | (unit & 0x3F) as u8);
            }
        }
    }
    let mut out = vec![0xAC, 0xED, 0x00, 0x05];
    if utf.len() <= 0xFFFF {
        out.push(0x74);
        out.extend_from_slice(&(utf.len() as u16).to_be_bytes());
    } else {
        out.push(0x7C);
        out.extend_from_slice(&(utf.len() as u64).to_be_bytes());
    }
    out.extend_from_slice(&utf);
    out
}

/// `value` cut to at most `max` UTF-16 code units, as Java's `String.substring(0, max)`.
/// A cut through a surrogate pair drops the whole character (Java would keep a lone
/// high surrogate, which no JSON or UTF-8 output can carry).
pub fn truncate_utf16(value: &str, max: usize) -> &str {
    let mut units = 0;
    for (i, c) in value.char_indices() {
        units += c.len_utf16();
        if units > max {
            return &value[..i];
        }
    }
    value
}

impl ColumnMapping {
    /// The hash of a string value: lowercase hex of digest(salt, bytes).
    pub fn hash_string(algorithm: HashAlgorithm, salt: &[u8], v2: bool, value: &str) -> String {
        let bytes = if v2 {
            value.as_bytes().to_vec()
        } else {
            java_serialized_string(value)
        };
        lower_hex(&algorithm.digest(&[salt, &bytes]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(pairs: &[(&str, &str)]) -> (ColumnRules, Vec<ConfigError>) {
        let map: ConfigMap = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut errors = Vec::new();
        (ColumnRules::parse(&map, &mut errors), errors)
    }

    #[test]
    fn first_rule_in_debezium_order_wins_and_matching_ignores_case() {
        let (r, errors) = rules(&[
            ("column.mask.hash.v2.SHA-256.with.salt.pepper", "public.t.h2"),
            ("column.mask.hash.SHA-256.with.salt.salt.x", "public.t.h1"),
            ("column.propagate.source.type", "public\\.t\\..*"),
            ("column.mask.with.5.chars", "public.t.name,public.t.both"),
            ("column.truncate.to.3.chars", "PUBLIC.T.BOTH"),
            ("datatype.propagate.source.type", ".+\\.int4"),
            ("column.include.list", "public.t.name"),
        ]);
        assert!(errors.is_empty(), "{errors:?}");
        let m = |c: &str, ty: &str| r.rule_for("public", "t", c, ty).map(|r| r.mapping.clone());
        assert_eq!(m("both", "text"), Some(ColumnMapping::Truncate(3)));
        assert_eq!(m("name", "text"), Some(ColumnMapping::Mask(5)));
        assert_eq!(m("other", "text"), Some(ColumnMapping::PropagateSourceType));
        assert_eq!(m("h1", "text"), Some(ColumnMapping::PropagateSourceType));
        assert_eq!(
            r.rule_for("other", "t", "h1", "text").map(|r| r.mapping.clone()),
            None
        );
        assert_eq!(
            r.rule_for("other", "t", "x", "int4")
                .map(|r| r.key.clone())
                .as_deref(),
            Some("datatype.propagate.source.type")
        );
        assert!(
            r.rule_for("public", "u", "h2", "text").is_none(),
            "patterns match the whole name"
        );
        let (r, _) = rules(&[
            ("column.mask.hash.SHA-256.with.salt.salt.x", "public.t.h1"),
            ("column.mask.hash.v2.sha-512.with.salt.pepper", "public.t.h2"),
        ]);
        assert_eq!(
            r.rule_for("public", "t", "h1", "text").unwrap().mapping,
            ColumnMapping::Hash {
                algorithm: HashAlgorithm::Sha256,
                salt: b"salt.x".to_vec(),
                v2: false
            }
        );
        assert_eq!(
            r.rule_for("public", "t", "h2", "text").unwrap().mapping,
            ColumnMapping::Hash {
                algorithm: HashAlgorithm::Sha512,
                salt: b"pepper".to_vec(),
                v2: true
            }
        );
    }

    #[test]
    fn bad_rules_are_reported_naming_their_key() {
        let (_, errors) = rules(&[
            ("column.mask.hash.MD2.with.salt.s", "a.b.c"),
            ("column.truncate.to.x.chars", "a.b.c"),
            ("column.mask.with.5.chars", "(unclosed"),
        ]);
        let text: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(text.len(), 3, "{text:?}");
        assert!(text
            .iter()
            .any(|t| t.contains("column.mask.hash.MD2.with.salt.s") && t.contains("MD2")));
        assert!(text.iter().any(|t| t.contains("column.truncate.to.x.chars")));
        assert!(text
            .iter()
            .any(|t| t.contains("column.mask.with.5.chars") && t.contains("(unclosed")));
    }

    #[test]
    fn java_serialization_and_hashes_match_the_jvm() {
        // new ObjectOutputStream(bos).writeObject("hello"): header, TC_STRING, length, bytes.
        assert_eq!(
            java_serialized_string("hello"),
            [0xAC, 0xED, 0x00, 0x05, 0x74, 0x00, 0x05, b'h', b'e', b'l', b'l', b'o']
        );
        // Modified UTF-8: NUL as C0 80, é as C3 A9, 😀 as two 3-byte surrogates.
        assert_eq!(
            java_serialized_string("\0é😀")[4..],
            [0x74, 0x00, 0x0A, 0xC0, 0x80, 0xC3, 0xA9, 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]
        );
        let long = "x".repeat(70_000);
        let s = java_serialized_string(&long);
        assert_eq!(s[4], 0x7C);
        assert_eq!(s[5..13], 70_000u64.to_be_bytes());
        // v2 hashes the salt and the UTF-8 bytes: sha256("abc") with an empty salt.
        assert_eq!(
            ColumnMapping::hash_string(HashAlgorithm::Sha256, b"", true, "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            ColumnMapping::hash_string(HashAlgorithm::Sha256, b"a", true, "bc"),
            ColumnMapping::hash_string(HashAlgorithm::Sha256, b"", true, "abc"),
        );
        assert_ne!(
            ColumnMapping::hash_string(HashAlgorithm::Sha256, b"", false, "abc"),
            ColumnMapping::hash_string(HashAlgorithm::Sha256, b"", true, "abc"),
        );
    }

    #[test]
    fn truncation_counts_utf16_units() {
        assert_eq!(truncate_utf16("abcdef", 3), "abc");
        assert_eq!(truncate_utf16("ab", 3), "ab");
        assert_eq!(truncate_utf16("é😀x", 3), "é😀");
        assert_eq!(truncate_utf16("é😀x", 2), "é");
        assert_eq!(truncate_utf16("abc", 0), "");
    }
}
