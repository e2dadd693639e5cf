//! The tokens `Values.parseString` reads: runs of text split at the delimiters
//! `: , { } [ ] "` (each delimiter a token of its own, a backslash escaping the next
//! character), with a look-ahead token and marks to rewind to, as Connect's `Parser`.

use crate::java::collections::is_blank;

/// A cursor over the tokens of one text; positions are byte offsets.
pub(super) struct Tokens<'a> {
    text: &'a str,
    position: usize,
    look_ahead: Option<&'a str>,
}

fn is_delimiter(b: u8) -> bool {
    matches!(b, b':' | b',' | b'{' | b'}' | b'[' | b']' | b'"')
}

impl<'a> Tokens<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Tokens {
            text,
            position: 0,
            look_ahead: None,
        }
    }

    /// The whole text.
    pub(super) fn original(&self) -> &'a str {
        self.text
    }

    /// Where the next token starts (the look-ahead token included).
    pub(super) fn mark(&self) -> usize {
        self.position - self.look_ahead.map_or(0, str::len)
    }

    /// Goes back to a mark, forgetting the look-ahead token.
    pub(super) fn rewind_to(&mut self, mark: usize) {
        self.position = mark;
        self.look_ahead = None;
    }

    pub(super) fn has_next(&self) -> bool {
        self.look_ahead.is_some() || self.position < self.text.len()
    }

    /// The next token (empty at the end).
    pub(super) fn next(&mut self) -> &'a str {
        match self.look_ahead.take() {
            Some(token) => token,
            None => self.read_token(),
        }
    }

    /// The text of the next `n` tokens, or `None` (and nothing consumed) when fewer remain.
    pub(super) fn next_n(&mut self, n: usize) -> Option<&'a str> {
        let start = self.mark();
        for _ in 0..n {
            if !self.has_next() {
                self.rewind_to(start);
                return None;
            }
            self.next();
        }
        Some(&self.text[start..self.position])
    }

    /// Consumes the next token if, trimmed, it is `expected`; blank tokens before it are
    /// skipped (and lost, as in Connect, even when the answer is no).
    pub(super) fn can_consume(&mut self, expected: &str) -> bool {
        let token = match self.look_ahead {
            Some(token) => token,
            None if self.has_next() => self.read_token(),
            None => return false,
        };
        let mut token = token;
        while is_blank(token) && self.position < self.text.len() {
            token = self.read_token();
        }
        if crate::java::chars::trim(token) == expected {
            self.look_ahead = None;
            true
        } else {
            self.look_ahead = Some(token);
            false
        }
    }

    fn read_token(&mut self) -> &'a str {
        let bytes = self.text.as_bytes();
        let start = self.position;
        let mut escaped = false;
        for (i, &b) in bytes.iter().enumerate().skip(start) {
            if b == b'\\' {
                escaped = !escaped;
            } else if is_delimiter(b) && !escaped {
                let end = if i > start { i } else { i + 1 };
                self.position = end;
                return &self.text[start..end];
            } else {
                escaped = false;
            }
        }
        self.position = bytes.len();
        &self.text[start..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<&str> {
        let mut t = Tokens::new(text);
        let mut out = Vec::new();
        while t.has_next() {
            out.push(t.next());
        }
        out
    }

    #[test]
    fn splits_at_unescaped_delimiters() {
        assert_eq!(all(r#"[1, "a"]"#), ["[", "1", ",", " ", "\"", "a", "\"", "]"]);
        assert_eq!(all(r"12\:34:5"), [r"12\:34", ":", "5"]);
        assert_eq!(all(r#"a\\"b"#), [r"a\\", "\"", "b"]);
        assert_eq!(all("é,ü"), ["é", ",", "ü"]);
        assert!(all("").is_empty());
    }

    #[test]
    fn marks_rewinds_and_look_ahead() {
        let mut t = Tokens::new("a: b ,c");
        assert!(!t.can_consume(":"));
        assert_eq!(t.mark(), 0);
        assert_eq!(t.next(), "a");
        assert!(t.can_consume(":"));
        let mark = t.mark();
        assert_eq!(t.next_n(2), Some(" b ,"));
        assert_eq!(t.next_n(2), None);
        assert_eq!(t.next(), "c");
        t.rewind_to(mark);
        assert!(!t.can_consume("b ,"));
        assert_eq!(t.next(), " b ");
        assert!(t.can_consume(","));
        assert!(!t.can_consume("x"));
        assert!(t.has_next());
    }

    #[test]
    fn blank_tokens_are_skipped_when_looking_for_one() {
        let mut t = Tokens::new("[ , ]");
        assert!(t.can_consume("["));
        assert!(t.can_consume(","));
        assert!(t.can_consume("]"));
        assert!(!t.has_next());
    }
}
