//! A pure decoder for pgoutput protocol version 1 messages (the payload of
//! XLogData). Column values are zero-copy slices of the input [`Bytes`].

use bytes::Bytes;

use crate::lsn::Lsn;

/// Decoding failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pgoutput: {0}")]
pub struct DecodeError(pub String);

type Result<T> = std::result::Result<T, DecodeError>;

/// Microseconds between 1970-01-01 and 2000-01-01 (PostgreSQL's epoch).
pub const PG_EPOCH_OFFSET_MICROS: i64 = 946_684_800_000_000;

/// One column of a Relation message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelationColumn {
    /// Part of the replica identity key.
    pub key: bool,
    /// Column name.
    pub name: String,
    /// Type OID.
    pub type_oid: u32,
    /// Type modifier (-1 when none).
    pub type_modifier: i32,
}

/// A Relation message: the shape of a table as the stream sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Relation {
    /// Table OID.
    pub id: u32,
    /// Schema name.
    pub namespace: String,
    /// Table name.
    pub name: String,
    /// Replica identity: `d` default, `n` nothing, `f` full, `i` index.
    pub replica_identity: u8,
    /// Columns in table order.
    pub columns: Vec<RelationColumn>,
}

/// One column value in a tuple.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TupleValue {
    /// SQL NULL.
    Null,
    /// Unchanged TOASTed value (not sent).
    UnchangedToast,
    /// Text-format value.
    Text(Bytes),
    /// Binary-format value.
    Binary(Bytes),
}

impl TupleValue {
    /// The text, when this is a UTF-8 text value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            TupleValue::Text(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }
}

/// A row image.
pub type Tuple = Vec<TupleValue>;

/// A decoded pgoutput message.
#[derive(Clone, Debug, PartialEq)]
pub enum Message {
    /// Transaction start.
    Begin {
        /// LSN of the commit record.
        final_lsn: Lsn,
        /// Commit time, µs since 1970-01-01.
        commit_time_us: i64,
        /// Transaction id.
        xid: u32,
    },
    /// Transaction end.
    Commit {
        /// Flags (unused).
        flags: u8,
        /// LSN of the commit record.
        commit_lsn: Lsn,
        /// End of the commit record.
        end_lsn: Lsn,
        /// Commit time, µs since 1970-01-01.
        commit_time_us: i64,
    },
    /// Replication origin of the transaction.
    Origin {
        /// Commit LSN on the origin.
        lsn: Lsn,
        /// Origin name.
        name: String,
    },
    /// Table shape.
    Relation(Relation),
    /// A custom type's name.
    Type {
        /// Type OID.
        id: u32,
        /// Schema.
        namespace: String,
        /// Name.
        name: String,
    },
    /// A new row.
    Insert {
        /// Table OID.
        relation: u32,
        /// New row.
        new: Tuple,
    },
    /// A changed row.
    Update {
        /// Table OID.
        relation: u32,
        /// Old key (`K`) or old row (`O`, REPLICA IDENTITY FULL), when sent.
        old: Option<(u8, Tuple)>,
        /// New row.
        new: Tuple,
    },
    /// A removed row.
    Delete {
        /// Table OID.
        relation: u32,
        /// `K` (key columns only) or `O` (full row).
        kind: u8,
        /// Old key or row.
        old: Tuple,
    },
    /// TRUNCATE of one or more tables.
    Truncate {
        /// 1 = CASCADE, 2 = RESTART IDENTITY.
        options: u8,
        /// Table OIDs.
        relations: Vec<u32>,
    },
    /// `pg_logical_emit_message`.
    Message {
        /// Emitted inside a transaction.
        transactional: bool,
        /// LSN of the message.
        lsn: Lsn,
        /// Prefix.
        prefix: String,
        /// Content.
        content: Bytes,
    },
}

struct Reader<'a> {
    buf: &'a Bytes,
    pos: usize,
}

impl<'a> Reader<'a> {
    fn need(&self, n: usize) -> Result<()> {
        if self.pos + n > self.buf.len() {
            Err(DecodeError(format!(
                "message truncated at byte {} (need {n} more of {})",
                self.pos,
                self.buf.len()
            )))
        } else {
            Ok(())
        }
    }
    fn u8(&mut self) -> Result<u8> {
        self.need(1)?;
        let v = self.buf[self.pos];
        self.pos += 1;
        Ok(v)
    }
    fn i16(&mut self) -> Result<i16> {
        self.need(2)?;
        let v = i16::from_be_bytes([self.buf[self.pos], self.buf[self.pos + 1]]);
        self.pos += 2;
        Ok(v)
    }
    fn i32(&mut self) -> Result<i32> {
        self.need(4)?;
        let b = &self.buf[self.pos..self.pos + 4];
        self.pos += 4;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(self.i32()? as u32)
    }
    fn i64(&mut self) -> Result<i64> {
        self.need(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(&self.buf[self.pos..self.pos + 8]);
        self.pos += 8;
        Ok(i64::from_be_bytes(a))
    }
    fn lsn(&mut self) -> Result<Lsn> {
        Ok(Lsn(self.i64()? as u64))
    }
    fn ts(&mut self) -> Result<i64> {
        let pg = self.i64()?;
        pg.checked_add(PG_EPOCH_OFFSET_MICROS)
            .ok_or_else(|| DecodeError(format!("timestamp {pg} out of range")))
    }
    fn cstr(&mut self) -> Result<String> {
        let rest = &self.buf[self.pos..];
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| DecodeError("unterminated string".into()))?;
        let s = std::str::from_utf8(&rest[..end])
            .map_err(|e| DecodeError(format!("invalid UTF-8 in name: {e}")))?
            .to_string();
        self.pos += end + 1;
        Ok(s)
    }
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }
    fn bytes(&mut self, n: usize) -> Result<Bytes> {
        self.need(n)?;
        let b = self.buf.slice(self.pos..self.pos + n);
        self.pos += n;
        Ok(b)
    }
    fn tuple(&mut self) -> Result<Tuple> {
        let n = self.i16()?;
        if n < 0 {
            return Err(DecodeError(format!("negative column count {n}")));
        }
        let mut out = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let v = match self.u8()? {
                b'n' => TupleValue::Null,
                b'u' => TupleValue::UnchangedToast,
                k @ (b't' | b'b') => {
                    let len = self.i32()?;
                    if len < 0 {
                        return Err(DecodeError(format!("negative value length {len}")));
                    }
                    let b = self.bytes(len as usize)?;
                    if k == b't' {
                        TupleValue::Text(b)
                    } else {
                        TupleValue::Binary(b)
                    }
                }
                other => {
                    return Err(DecodeError(format!(
                        "unknown tuple value kind {:?}",
                        other as char
                    )))
                }
            };
            out.push(v);
        }
        Ok(out)
    }
}

/// Decodes one pgoutput message.
pub fn decode(buf: &Bytes) -> Result<Message> {
    let mut r = Reader { buf, pos: 0 };
    let tag = r.u8()?;
    let msg = match tag {
        b'B' => Message::Begin {
            final_lsn: r.lsn()?,
            commit_time_us: r.ts()?,
            xid: r.u32()?,
        },
        b'C' => Message::Commit {
            flags: r.u8()?,
            commit_lsn: r.lsn()?,
            end_lsn: r.lsn()?,
            commit_time_us: r.ts()?,
        },
        b'O' => Message::Origin {
            lsn: r.lsn()?,
            name: r.cstr()?,
        },
        b'R' => {
            let id = r.u32()?;
            let namespace = r.cstr()?;
            let name = r.cstr()?;
            let replica_identity = r.u8()?;
            let n = r.i16()?;
            if n < 0 {
                return Err(DecodeError(format!("negative column count {n}")));
            }
            let n = n as usize;
            let mut columns = Vec::with_capacity(n);
            for _ in 0..n {
                let flags = r.u8()?;
                columns.push(RelationColumn {
                    key: flags & 1 == 1,
                    name: r.cstr()?,
                    type_oid: r.u32()?,
                    type_modifier: r.i32()?,
                });
            }
            Message::Relation(Relation {
                id,
                namespace: if namespace.is_empty() {
                    "pg_catalog".into()
                } else {
                    namespace
                },
                name,
                replica_identity,
                columns,
            })
        }
        b'Y' => Message::Type {
            id: r.u32()?,
            namespace: r.cstr()?,
            name: r.cstr()?,
        },
        b'I' => {
            let relation = r.u32()?;
            match r.u8()? {
                b'N' => Message::Insert {
                    relation,
                    new: r.tuple()?,
                },
                k => return Err(DecodeError(format!("insert: expected 'N', got {:?}", k as char))),
            }
        }
        b'U' => {
            let relation = r.u32()?;
            let mut kind = r.u8()?;
            let mut old = None;
            if kind == b'K' || kind == b'O' {
                old = Some((kind, r.tuple()?));
                kind = r.u8()?;
            }
            if kind != b'N' {
                return Err(DecodeError(format!(
                    "update: expected 'N', got {:?}",
                    kind as char
                )));
            }
            Message::Update {
                relation,
                old,
                new: r.tuple()?,
            }
        }
        b'D' => {
            let relation = r.u32()?;
            let kind = r.u8()?;
            if kind != b'K' && kind != b'O' {
                return Err(DecodeError(format!(
                    "delete: expected 'K' or 'O', got {:?}",
                    kind as char
                )));
            }
            Message::Delete {
                relation,
                kind,
                old: r.tuple()?,
            }
        }
        b'T' => {
            let n = r.i32()?;
            if n < 0 {
                return Err(DecodeError(format!("negative relation count {n}")));
            }
            let options = r.u8()?;
            // Each relation id takes 4 bytes: never reserve more than the message holds.
            let mut relations = Vec::with_capacity((n as usize).min(r.remaining() / 4));
            for _ in 0..n {
                relations.push(r.u32()?);
            }
            Message::Truncate { options, relations }
        }
        b'M' => {
            let flags = r.u8()?;
            let lsn = r.lsn()?;
            let prefix = r.cstr()?;
            let len = r.i32()?;
            if len < 0 {
                return Err(DecodeError(format!("negative message length {len}")));
            }
            let len = len as usize;
            Message::Message {
                transactional: flags & 1 == 1,
                lsn,
                prefix,
                content: r.bytes(len)?,
            }
        }
        other => return Err(DecodeError(format!("unknown message type {:?}", other as char))),
    };
    Ok(msg)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds pgoutput bytes for tests.
    #[derive(Default)]
    pub struct Enc(pub Vec<u8>);
    impl Enc {
        pub fn u8(mut self, v: u8) -> Self {
            self.0.push(v);
            self
        }
        pub fn i16(mut self, v: i16) -> Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        pub fn i32(mut self, v: i32) -> Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        pub fn i64(mut self, v: i64) -> Self {
            self.0.extend_from_slice(&v.to_be_bytes());
            self
        }
        pub fn s(mut self, v: &str) -> Self {
            self.0.extend_from_slice(v.as_bytes());
            self.0.push(0);
            self
        }
        pub fn text(self, v: &str) -> Self {
            let mut e = self.u8(b't').i32(v.len() as i32);
            e.0.extend_from_slice(v.as_bytes());
            e
        }
        pub fn bytes(self) -> Bytes {
            Bytes::from(self.0)
        }
    }

    #[test]
    fn decodes_begin_and_commit() {
        // BEGIN of xid 740 committing at 0/1573F18, laid out as PostgreSQL 15 sends it.
        let b = Bytes::from_static(&[
            b'B', 0, 0, 0, 0, 1, 0x57, 0x3F, 0x18, 0x00, 0x02, 0xB5, 0x6E, 0x3A, 0x8D, 0x41, 0xC0, 0, 0, 2,
            0xE4,
        ]);
        match decode(&b).unwrap() {
            Message::Begin {
                final_lsn,
                commit_time_us,
                xid,
            } => {
                assert_eq!(final_lsn, Lsn(0x0157_3F18));
                assert_eq!(xid, 740);
                assert_eq!(commit_time_us, 0x0002_B56E_3A8D_41C0 + PG_EPOCH_OFFSET_MICROS);
            }
            m => panic!("{m:?}"),
        }
        let c = Enc::default().u8(b'C').u8(0).i64(0x100).i64(0x130).i64(5).bytes();
        assert_eq!(
            decode(&c).unwrap(),
            Message::Commit {
                flags: 0,
                commit_lsn: Lsn(0x100),
                end_lsn: Lsn(0x130),
                commit_time_us: 5 + PG_EPOCH_OFFSET_MICROS
            }
        );
    }

    #[test]
    fn decodes_relation_and_tuples_zero_copy() {
        let rel = Enc::default()
            .u8(b'R')
            .i32(16384)
            .s("public")
            .s("t")
            .u8(b'd')
            .i16(2)
            .u8(1)
            .s("id")
            .i32(23)
            .i32(-1)
            .u8(0)
            .s("name")
            .i32(1043)
            .i32(36)
            .bytes();
        let Message::Relation(r) = decode(&rel).unwrap() else {
            panic!()
        };
        assert_eq!(r.id, 16384);
        assert_eq!((r.namespace.as_str(), r.name.as_str()), ("public", "t"));
        assert!(r.columns[0].key && !r.columns[1].key);
        assert_eq!(r.columns[1].type_modifier, 36);

        let upd = Enc::default()
            .u8(b'U')
            .i32(16384)
            .u8(b'O')
            .i16(2)
            .text("1")
            .u8(b'n')
            .u8(b'N')
            .i16(2)
            .text("1")
            .u8(b'u')
            .bytes();
        let Message::Update { relation, old, new } = decode(&upd).unwrap() else {
            panic!()
        };
        assert_eq!(relation, 16384);
        let (kind, old) = old.unwrap();
        assert_eq!(kind, b'O');
        assert_eq!(old[1], TupleValue::Null);
        assert_eq!(new[0].as_text(), Some("1"));
        assert_eq!(new[1], TupleValue::UnchangedToast);
        // The value points into the original buffer.
        if let TupleValue::Text(b) = &new[0] {
            let start = upd.as_ptr() as usize;
            let p = b.as_ptr() as usize;
            assert!(p >= start && p < start + upd.len());
        }
    }

    #[test]
    fn decodes_delete_truncate_message_origin_type() {
        let d = Enc::default().u8(b'D').i32(7).u8(b'K').i16(1).text("42").bytes();
        assert_eq!(
            decode(&d).unwrap(),
            Message::Delete {
                relation: 7,
                kind: b'K',
                old: vec![TupleValue::Text(Bytes::from_static(b"42"))]
            }
        );
        let t = Enc::default().u8(b'T').i32(2).u8(1).i32(7).i32(8).bytes();
        assert_eq!(
            decode(&t).unwrap(),
            Message::Truncate {
                options: 1,
                relations: vec![7, 8]
            }
        );
        let m = Enc::default()
            .u8(b'M')
            .u8(1)
            .i64(99)
            .s("pfx")
            .i32(3)
            .u8(b'a')
            .u8(b'b')
            .u8(b'c')
            .bytes();
        assert!(
            matches!(decode(&m).unwrap(), Message::Message { transactional: true, ref prefix, ref content, .. } if prefix == "pfx" && &content[..] == b"abc")
        );
        let o = Enc::default().u8(b'O').i64(5).s("node1").bytes();
        assert_eq!(
            decode(&o).unwrap(),
            Message::Origin {
                lsn: Lsn(5),
                name: "node1".into()
            }
        );
        let y = Enc::default().u8(b'Y').i32(555).s("public").s("mood").bytes();
        assert!(matches!(decode(&y).unwrap(), Message::Type { id: 555, .. }));
    }

    #[test]
    fn rejects_truncated_and_unknown() {
        let bad = Enc::default()
            .u8(b'I')
            .i32(1)
            .u8(b'N')
            .i16(1)
            .u8(b't')
            .i32(10)
            .bytes();
        assert!(decode(&bad).is_err());
        assert!(decode(&Bytes::from_static(b"Z")).is_err());
        assert!(decode(&Bytes::new()).is_err());
        // A TRUNCATE claiming 2^31 relations in a short message: an error, no 8 GiB reservation.
        let huge = Enc::default().u8(b'T').i32(i32::MAX).u8(0).i32(1).bytes();
        assert!(decode(&huge).is_err());
        // Found by the fuzz target (fuzz/): a commit time past i64 once moved to 1970.
        let far = Enc::default().u8(b'B').i64(1).i64(i64::MAX).i32(7).bytes();
        assert!(decode(&far).is_err());
    }

    #[test]
    fn decode_rate() {
        // A 6-column insert, decoded many times: a rough throughput figure.
        let ins = Enc::default()
            .u8(b'I')
            .i32(16384)
            .u8(b'N')
            .i16(6)
            .text("123456")
            .text("some customer name")
            .text("2024-01-02 03:04:05.123456+00")
            .text("12345.67")
            .u8(b'n')
            .text("{\"a\": 1}")
            .bytes();
        let n = 200_000;
        let t = std::time::Instant::now();
        for _ in 0..n {
            std::hint::black_box(decode(std::hint::black_box(&ins)).unwrap());
        }
        let el = t.elapsed();
        eprintln!(
            "pgoutput decode: {n} inserts in {el:?} ({:.0} msg/s)",
            n as f64 / el.as_secs_f64()
        );
    }
}
