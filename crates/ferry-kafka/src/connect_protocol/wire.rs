//! Kafka's classic `Struct` types used by Connect's schemas: big-endian integers,
//! `STRING` (int16 length), `NULLABLE_BYTES` (int32 length, −1 for null), arrays
//! (int32 count, −1 for null).

/// A Connect protocol payload that cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The payload ended early.
    #[error("Connect protocol payload ends early: needs {needed} more bytes at offset {at}")]
    Truncated {
        /// Where the read started.
        at: usize,
        /// How many bytes were missing.
        needed: usize,
    },
    /// A negative header version.
    #[error("Unsupported subscription version: {0}")]
    Version(i16),
    /// A string that is not UTF-8 or has a negative length.
    #[error("Connect protocol payload has a bad string at offset {0}")]
    BadString(usize),
}

/// Writes the classic types.
#[derive(Default)]
pub(super) struct Writer(Vec<u8>);

impl Writer {
    pub(super) fn i16(&mut self, v: i16) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(super) fn i32(&mut self, v: i32) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(super) fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }
    pub(super) fn string(&mut self, s: &str) {
        self.i16(s.len() as i16);
        self.0.extend_from_slice(s.as_bytes());
    }
    pub(super) fn nullable_bytes(&mut self, b: Option<&[u8]>) {
        match b {
            Some(b) => {
                self.i32(b.len() as i32);
                self.0.extend_from_slice(b);
            }
            None => self.i32(-1),
        }
    }
    pub(super) fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// Reads the classic types.
pub(super) struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub(super) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { buf, at: 0 }
    }
    pub(super) fn is_done(&self) -> bool {
        self.at >= self.buf.len()
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let rest = self.buf.len() - self.at;
        if rest < n {
            return Err(DecodeError::Truncated {
                at: self.at,
                needed: n - rest,
            });
        }
        let s = &self.buf[self.at..self.at + n];
        self.at += n;
        Ok(s)
    }
    pub(super) fn i16(&mut self) -> Result<i16, DecodeError> {
        Ok(i16::from_be_bytes(self.take(2)?.try_into().expect("2 bytes")))
    }
    pub(super) fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(i32::from_be_bytes(self.take(4)?.try_into().expect("4 bytes")))
    }
    pub(super) fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_be_bytes(self.take(8)?.try_into().expect("8 bytes")))
    }
    pub(super) fn string(&mut self) -> Result<String, DecodeError> {
        let at = self.at;
        let len = self.i16()?;
        if len < 0 {
            return Err(DecodeError::BadString(at));
        }
        let b = self.take(len as usize)?;
        String::from_utf8(b.to_vec()).map_err(|_| DecodeError::BadString(at))
    }
    pub(super) fn nullable_bytes(&mut self) -> Result<Option<&'a [u8]>, DecodeError> {
        let len = self.i32()?;
        if len < 0 {
            return Ok(None);
        }
        self.take(len as usize).map(Some)
    }
}
