//! Arbitrary bytes through the pgoutput decoder, as a stream of messages: the input is
//! split into chunks of `len: u16 (big endian)` + bytes, each decoded in turn. Columns of
//! Relation messages get the type converters the connector would use, and the text
//! values of later Insert/Update/Delete tuples go through them, so a malformed message
//! or value must give an error, never a panic. Columns of OID 16384 and up are hstore.

#![no_main]

use std::collections::HashMap;

use bytes::Bytes;
use ferry_postgres::pgoutput::{decode, Message, Tuple, TupleValue};
use ferry_postgres::types::{Converter, PgType, TypeOptions};
use libfuzzer_sys::fuzz_target;

fn convert(converters: &HashMap<u32, Vec<Option<Converter>>>, relation: u32, tuple: &Tuple) {
    let Some(cols) = converters.get(&relation) else {
        return;
    };
    for (value, conv) in tuple.iter().zip(cols) {
        let Some(conv) = conv else { continue };
        match value {
            TupleValue::Text(b) => {
                if let Ok(text) = std::str::from_utf8(b) {
                    let _ = conv.convert(text);
                }
            }
            TupleValue::Binary(b) => {
                let _ = conv.convert_bytes(b);
            }
            TupleValue::Null | TupleValue::UnchangedToast => {}
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let opts = TypeOptions::default();
    let mut converters: HashMap<u32, Vec<Option<Converter>>> = HashMap::new();
    let mut rest = data;
    while rest.len() >= 2 {
        let len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
        let body = &rest[2..];
        let take = len.min(body.len());
        let msg = Bytes::copy_from_slice(&body[..take]);
        rest = &body[take..];
        match decode(&msg) {
            Ok(Message::Relation(rel)) => {
                let cols = rel
                    .columns
                    .iter()
                    .map(|c| {
                        let mut ty = PgType::scalar(c.type_oid, c.type_modifier);
                        // Extension types have OIDs from 16384 up: let those be hstore.
                        if c.type_oid >= 16384 {
                            ty.name = Some("hstore".into());
                        }
                        Converter::for_type(&ty, true, &opts)
                    })
                    .collect();
                converters.insert(rel.id, cols);
            }
            Ok(Message::Insert { relation, new }) => convert(&converters, relation, &new),
            Ok(Message::Update { relation, old, new }) => {
                if let Some((_, old)) = old {
                    convert(&converters, relation, &old);
                }
                convert(&converters, relation, &new);
            }
            Ok(Message::Delete { relation, old, .. }) => convert(&converters, relation, &old),
            _ => {}
        }
    }
});
