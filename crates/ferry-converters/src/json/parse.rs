//! A small JSON reader producing a borrowed tree, lenient where Jackson's
//! `ObjectMapper` (as JsonConverter configures it) is lenient: leading zeros in
//! numbers are accepted, content after the first value is ignored, duplicate
//! object keys keep their first position and their last value.

use std::borrow::Cow;

use indexmap::IndexMap;

/// Deepest nesting accepted (Jackson's default limit).
const MAX_DEPTH: usize = 1000;

/// A parsed JSON value borrowing from the input where it can.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number<'a>),
    Str(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(IndexMap<Cow<'a, str>, Node<'a>>),
}

/// A JSON number kept as its text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Number<'a> {
    /// The number as written.
    pub text: &'a str,
    /// True when written without a fraction or exponent.
    pub integral: bool,
}

impl Node<'_> {
    /// Jackson's `JsonNodeType` name of the node.
    pub fn type_name(&self) -> &'static str {
        match self {
            Node::Null => "NULL",
            Node::Bool(_) => "BOOLEAN",
            Node::Number(_) => "NUMBER",
            Node::Str(_) => "STRING",
            Node::Array(_) => "ARRAY",
            Node::Object(_) => "OBJECT",
        }
    }
}

/// A syntax error, with Jackson-like wording and position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}\n at [line: {line}, column: {column}]")]
pub struct ParseError {
    message: String,
    line: usize,
    column: usize,
}

/// The outcome of parsing a document.
#[derive(Debug)]
pub struct Parsed<'a> {
    /// The first value; `None` for empty or blank input.
    pub root: Option<Node<'a>>,
    /// Byte range of the top-level object's `"schema"` member value, if present.
    pub schema_span: Option<(usize, usize)>,
}

/// Parses the first JSON value of `input`.
pub fn parse(input: &[u8]) -> Result<Parsed<'_>, ParseError> {
    let mut p = Parser {
        s: input,
        i: 0,
        depth: 0,
        schema_span: None,
    };
    if p.s.starts_with(b"\xEF\xBB\xBF") {
        p.i = 3;
    }
    p.skip_ws();
    if p.i >= p.s.len() {
        return Ok(Parsed {
            root: None,
            schema_span: None,
        });
    }
    let root = p.value()?;
    Ok(Parsed {
        root: Some(root),
        schema_span: p.schema_span,
    })
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: usize,
    schema_span: Option<(usize, usize)>,
}

impl<'a> Parser<'a> {
    fn err(&self, message: impl Into<String>) -> ParseError {
        let upto = &self.s[..self.i.min(self.s.len())];
        let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = upto.len() - upto.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
        ParseError {
            message: message.into(),
            line,
            column,
        }
    }

    fn unexpected(&self, expected: &str) -> ParseError {
        match self.s.get(self.i) {
            None => self.err(format!("Unexpected end-of-input: {expected}")),
            Some(&b) => {
                let shown = if b.is_ascii_graphic() || b == b' ' {
                    format!("'{}' (code {b})", b as char)
                } else {
                    format!("(CTRL-CHAR, code {b})")
                };
                self.err(format!("Unexpected character ({shown}): {expected}"))
            }
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn value(&mut self) -> Result<Node<'a>, ParseError> {
        const VALUE: &str =
            "expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')";
        match self.s.get(self.i) {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => Ok(Node::Str(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b't') => self.literal(b"true", Node::Bool(true)),
            Some(b'f') => self.literal(b"false", Node::Bool(false)),
            Some(b'n') => self.literal(b"null", Node::Null),
            _ => Err(self.unexpected(VALUE)),
        }
    }

    fn literal(&mut self, word: &[u8], node: Node<'a>) -> Result<Node<'a>, ParseError> {
        if self.s[self.i..].starts_with(word) {
            let end = self.i + word.len();
            if !matches!(self.s.get(end), Some(b) if b.is_ascii_alphanumeric() || *b == b'_') {
                self.i = end;
                return Ok(node);
            }
        }
        let end = self.s[self.i..]
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
            .map_or(self.s.len(), |p| self.i + p);
        let token = String::from_utf8_lossy(&self.s[self.i..end]).into_owned();
        Err(self.err(format!(
            "Unrecognized token '{token}': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
        )))
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(format!(
                "Document nesting depth ({}) exceeds the maximum allowed ({MAX_DEPTH})",
                self.depth
            )));
        }
        Ok(())
    }

    fn object(&mut self) -> Result<Node<'a>, ParseError> {
        self.enter()?;
        self.i += 1;
        let mut map = IndexMap::new();
        self.skip_ws();
        if self.s.get(self.i) == Some(&b'}') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Node::Object(map));
        }
        loop {
            self.skip_ws();
            if self.s.get(self.i) != Some(&b'"') {
                return Err(self.unexpected("was expecting double-quote to start field name"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.s.get(self.i) != Some(&b':') {
                return Err(self.unexpected("was expecting a colon to separate field name and value"));
            }
            self.i += 1;
            self.skip_ws();
            let start = self.i;
            let value = self.value()?;
            if self.depth == 1 && key == "schema" {
                self.schema_span = Some((start, self.i));
            }
            map.insert(key, value);
            self.skip_ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(Node::Object(map));
                }
                None => return Err(self.err("Unexpected end-of-input: expected close marker for OBJECT")),
                Some(_) => return Err(self.unexpected("was expecting comma to separate Object entries")),
            }
        }
    }

    fn array(&mut self) -> Result<Node<'a>, ParseError> {
        self.enter()?;
        self.i += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.s.get(self.i) == Some(&b']') {
            self.i += 1;
            self.depth -= 1;
            return Ok(Node::Array(items));
        }
        loop {
            self.skip_ws();
            items.push(self.value()?);
            self.skip_ws();
            match self.s.get(self.i) {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    self.depth -= 1;
                    return Ok(Node::Array(items));
                }
                None => return Err(self.err("Unexpected end-of-input: expected close marker for ARRAY")),
                Some(_) => return Err(self.unexpected("was expecting comma to separate Array entries")),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.s.get(self.i) {
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self) -> Result<Node<'a>, ParseError> {
        let start = self.i;
        if self.s[self.i] == b'-' {
            self.i += 1;
        }
        if self.digits() == 0 {
            return Err(self.unexpected("expected digit (0-9) to follow minus sign, for valid numeric value"));
        }
        let mut integral = true;
        if self.s.get(self.i) == Some(&b'.') {
            integral = false;
            self.i += 1;
            if self.digits() == 0 {
                return Err(self.unexpected("Decimal point not followed by a digit"));
            }
        }
        if let Some(b'e' | b'E') = self.s.get(self.i) {
            integral = false;
            self.i += 1;
            if let Some(b'+' | b'-') = self.s.get(self.i) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(self.unexpected("Exponent indicator not followed by a digit"));
            }
        }
        // Only ASCII was consumed, so the slice is valid UTF-8.
        let text = std::str::from_utf8(&self.s[start..self.i]).unwrap_or("0");
        Ok(Node::Number(Number { text, integral }))
    }

    fn string(&mut self) -> Result<Cow<'a, str>, ParseError> {
        self.i += 1;
        let start = self.i;
        // Fast path: no escapes.
        while let Some(&b) = self.s.get(self.i) {
            match b {
                b'"' => {
                    let raw = &self.s[start..self.i];
                    self.i += 1;
                    return std::str::from_utf8(raw)
                        .map(Cow::Borrowed)
                        .map_err(|e| self.utf8_error(start + e.valid_up_to()));
                }
                b'\\' => break,
                0x00..=0x1f => return Err(self.control_char(b)),
                _ => self.i += 1,
            }
        }
        let mut buf: Vec<u8> = self.s[start..self.i].to_vec();
        loop {
            let Some(&b) = self.s.get(self.i) else {
                return Err(
                    self.err("Unexpected end-of-input: was expecting closing quote for a string value")
                );
            };
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => self.escape(&mut buf)?,
                0x00..=0x1f => {
                    self.i -= 1;
                    return Err(self.control_char(b));
                }
                _ => buf.push(b),
            }
        }
        String::from_utf8(buf)
            .map(Cow::Owned)
            .map_err(|e| self.utf8_error(start + e.utf8_error().valid_up_to()))
    }

    fn escape(&mut self, buf: &mut Vec<u8>) -> Result<(), ParseError> {
        let Some(&c) = self.s.get(self.i) else {
            return Err(self.err("Unexpected end-of-input in character escape sequence"));
        };
        self.i += 1;
        let ch = match c {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4()?;
                if (0xD800..0xDC00).contains(&hi) && self.s[self.i..].starts_with(b"\\u") {
                    let save = self.i;
                    self.i += 2;
                    let lo = self.hex4()?;
                    if (0xDC00..0xE000).contains(&lo) {
                        let code = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        char::from_u32(code).unwrap_or('\u{FFFD}')
                    } else {
                        self.i = save;
                        '\u{FFFD}'
                    }
                } else {
                    char::from_u32(hi).unwrap_or('\u{FFFD}')
                }
            }
            other => {
                self.i -= 1;
                return Err(self.err(format!(
                    "Unrecognized character escape '{}' (code {other})",
                    other as char
                )));
            }
        };
        let mut tmp = [0u8; 4];
        buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.s.get(self.i) {
                Some(&b) => (b as char).to_digit(16),
                None => None,
            };
            let Some(d) = d else {
                return Err(self.unexpected("expected a hex-digit for character escape sequence"));
            };
            v = v * 16 + d;
            self.i += 1;
        }
        Ok(v)
    }

    fn control_char(&self, b: u8) -> ParseError {
        self.err(format!(
            "Illegal unquoted character ((CTRL-CHAR, code {b})): has to be escaped using backslash to be included in string value"
        ))
    }

    fn utf8_error(&self, at: usize) -> ParseError {
        let b = self.s.get(at).copied().unwrap_or(0);
        ParseError {
            message: format!("Invalid UTF-8 start byte 0x{b:02x}"),
            ..self.err("")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(s: &str) -> Node<'_> {
        parse(s.as_bytes()).unwrap().root.unwrap()
    }

    #[test]
    fn parses_documents() {
        let n = root(r#" { "a": [1, -2.5e3, "x\n\u00e9\ud83d\ude00"], "b": null, "c": true } "#);
        let Node::Object(m) = n else { panic!() };
        let keys: Vec<_> = m.keys().map(|k| k.as_ref()).collect();
        assert_eq!(keys, ["a", "b", "c"]);
        let Node::Array(a) = &m["a"] else { panic!() };
        assert_eq!(
            a[0],
            Node::Number(Number {
                text: "1",
                integral: true
            })
        );
        assert_eq!(
            a[1],
            Node::Number(Number {
                text: "-2.5e3",
                integral: false
            })
        );
        assert_eq!(a[2], Node::Str("x\né😀".into()));
    }

    #[test]
    fn lenient_like_jackson() {
        assert_eq!(
            root("0012"),
            Node::Number(Number {
                text: "0012",
                integral: true
            })
        );
        assert_eq!(root("true false"), Node::Bool(true));
        assert!(parse(b"  ").unwrap().root.is_none());
        let Node::Object(m) = root(r#"{"a":1,"b":2,"a":3}"#) else {
            panic!()
        };
        assert_eq!(m.len(), 2);
        assert_eq!(m.get_index(0).unwrap().0, "a");
        assert_eq!(
            m["a"],
            Node::Number(Number {
                text: "3",
                integral: true
            })
        );
    }

    #[test]
    fn records_schema_span() {
        let doc = br#"{"schema": {"type":"int32"} ,"payload":1}"#;
        let p = parse(doc).unwrap();
        let (s, e) = p.schema_span.unwrap();
        assert_eq!(&doc[s..e], br#"{"type":"int32"}"#);
    }

    #[test]
    fn reports_errors() {
        let e = parse(b"{\"a\":}").unwrap_err().to_string();
        assert!(
            e.starts_with("Unexpected character ('}' (code 125)): expected a valid value"),
            "{e}"
        );
        assert!(e.ends_with("at [line: 1, column: 6]"), "{e}");
        assert!(parse(b"[1,2").is_err());
        assert!(parse(b"\"abc").is_err());
        assert!(parse(b"nul").is_err());
        assert!(parse(b"\"a\x01\"").is_err());
        assert!(parse(b"\"\xff\"").is_err());
        let deep = "[".repeat(1001);
        assert!(parse(deep.as_bytes())
            .unwrap_err()
            .to_string()
            .contains("nesting depth"));
    }
}
