//! Byte layouts written out from Connect's schemas (ConnectProtocol,
//! IncrementalCooperativeConnectProtocol, ExtendedAssignment).

use super::*;

/// `STRING`: int16 length then UTF-8.
fn s(out: &mut Vec<u8>, v: &str) {
    out.extend_from_slice(&(v.len() as i16).to_be_bytes());
    out.extend_from_slice(v.as_bytes());
}

#[test]
fn eager_metadata_is_version_url_offset() {
    let meta = WorkerMetadata {
        url: "http://w1:8083/".into(),
        config_offset: 7,
        assignment: None,
    };
    let mut want = vec![0, 0];
    s(&mut want, "http://w1:8083/");
    want.extend_from_slice(&7i64.to_be_bytes());
    let bytes = encode_metadata(ConnectProtocol::Eager, &meta);
    assert_eq!(bytes, want);
    assert_eq!(decode_metadata(&bytes).unwrap(), (ConnectProtocol::Eager, meta));
}

#[test]
fn incremental_metadata_carries_a_null_or_versioned_allocation() {
    let mut meta = WorkerMetadata {
        url: "http://a:1/".into(),
        config_offset: -1,
        assignment: None,
    };
    let mut want = vec![0, 2];
    s(&mut want, "http://a:1/");
    want.extend_from_slice(&(-1i64).to_be_bytes());
    want.extend_from_slice(&(-1i32).to_be_bytes());
    assert_eq!(encode_metadata(ConnectProtocol::Sessioned, &meta), want);

    meta.assignment = Some(Assignment {
        leader: "m1".into(),
        leader_url: "http://a:1/".into(),
        config_offset: 3,
        connectors: vec!["c".into()],
        tasks: vec![TaskId::new("c", 0)],
        ..Assignment::default()
    });
    let bytes = encode_metadata(ConnectProtocol::Compatible, &meta);
    assert_eq!(&bytes[..2], &[0, 1]);
    let (p, back) = decode_metadata(&bytes).unwrap();
    assert_eq!(p, ConnectProtocol::Compatible);
    assert_eq!(back, meta);
    // The allocation is the full v1 assignment, length-prefixed.
    let inner = encode_assignment(ConnectProtocol::Compatible, meta.assignment.as_ref().unwrap());
    let tail = &bytes[bytes.len() - inner.len() - 4..];
    assert_eq!(&tail[..4], &(inner.len() as i32).to_be_bytes());
    assert_eq!(&tail[4..], &inner[..]);
}

#[test]
fn eager_assignment_layout() {
    let a = Assignment {
        error: NO_ERROR,
        leader: "L".into(),
        leader_url: "http://l/".into(),
        config_offset: 42,
        connectors: vec!["a".into()],
        tasks: vec![TaskId::new("a", 0), TaskId::new("b", 1)],
        ..Assignment::default()
    };
    let mut want = vec![0, 0, 0, 0];
    s(&mut want, "L");
    s(&mut want, "http://l/");
    want.extend_from_slice(&42i64.to_be_bytes());
    want.extend_from_slice(&2i32.to_be_bytes()); // two connector entries
    s(&mut want, "a");
    want.extend_from_slice(&2i32.to_be_bytes());
    want.extend_from_slice(&(-1i32).to_be_bytes());
    want.extend_from_slice(&0i32.to_be_bytes());
    s(&mut want, "b");
    want.extend_from_slice(&1i32.to_be_bytes());
    want.extend_from_slice(&1i32.to_be_bytes());
    let bytes = encode_assignment(ConnectProtocol::Eager, &a);
    assert_eq!(bytes, want);
    assert_eq!(decode_assignment(&bytes).unwrap(), (ConnectProtocol::Eager, a));
}

#[test]
fn incremental_assignment_adds_revoked_and_delay() {
    let a = Assignment {
        error: CONFIG_MISMATCH,
        leader: "L".into(),
        leader_url: "u".into(),
        config_offset: 1,
        connectors: vec![],
        tasks: vec![],
        revoked_connectors: vec!["x".into()],
        revoked_tasks: vec![],
        delay: 5000,
    };
    let mut want = vec![0, 1, 0, 1];
    s(&mut want, "L");
    s(&mut want, "u");
    want.extend_from_slice(&1i64.to_be_bytes());
    want.extend_from_slice(&0i32.to_be_bytes());
    want.extend_from_slice(&1i32.to_be_bytes());
    s(&mut want, "x");
    want.extend_from_slice(&1i32.to_be_bytes());
    want.extend_from_slice(&(-1i32).to_be_bytes());
    want.extend_from_slice(&5000i32.to_be_bytes());
    let bytes = encode_assignment(ConnectProtocol::Compatible, &a);
    assert_eq!(bytes, want);
    assert_eq!(
        decode_assignment(&bytes).unwrap(),
        (ConnectProtocol::Compatible, a)
    );
}

#[test]
fn missing_trailing_fields_and_null_arrays_read_as_empty() {
    // A v1 assignment cut after the config offset, then one with null arrays.
    let mut b = vec![0, 1, 0, 0];
    s(&mut b, "L");
    s(&mut b, "u");
    b.extend_from_slice(&9i64.to_be_bytes());
    let (_, a) = decode_assignment(&b).unwrap();
    assert_eq!(a.config_offset, 9);
    assert!(a.is_empty());
    b.extend_from_slice(&(-1i32).to_be_bytes());
    b.extend_from_slice(&(-1i32).to_be_bytes());
    b.extend_from_slice(&0i32.to_be_bytes());
    let (_, a) = decode_assignment(&b).unwrap();
    assert!(a.is_empty());
}

#[test]
fn bad_payloads_are_errors_not_panics() {
    assert!(matches!(
        decode_assignment(&[0]),
        Err(DecodeError::Truncated { .. })
    ));
    assert_eq!(decode_metadata(&[0xff, 0xff]), Err(DecodeError::Version(-1)));
    assert!(decode_metadata(&[0, 0, 0, 9, b'a']).is_err());
}

#[test]
fn protocol_names_versions_and_preference() {
    assert_eq!(
        ConnectProtocol::from_name("SESSIONED"),
        Some(ConnectProtocol::Sessioned)
    );
    assert_eq!(
        ConnectProtocol::from_name("default"),
        Some(ConnectProtocol::Eager)
    );
    assert_eq!(ConnectProtocol::from_name("x"), None);
    assert_eq!(ConnectProtocol::from_version(3), Some(ConnectProtocol::Sessioned));
    let names: Vec<_> = ConnectProtocol::Sessioned
        .offered()
        .iter()
        .map(|p| p.name())
        .collect();
    assert_eq!(names, ["sessioned", "compatible", "default"]);
}
