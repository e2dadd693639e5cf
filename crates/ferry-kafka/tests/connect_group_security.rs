//! The Connect group member reaching the coordinator over TLS and through SASL, with the
//! settings a Kafka Connect worker is given (`security.protocol`, a PEM trust store,
//! `sasl.mechanism`, `sasl.jaas.config`).
//!
//! TLS: Tansu behind a socat TLS listener (Tansu 0.6.0 cannot be given its `--cert` and
//! `--key` together). SASL: Tansu with `--authentication`, which offers SCRAM only and
//! whose memory store cannot hold a user while authentication is required (its CLI
//! cannot log in to create one): the exchange is tested up to the broker's refusal.

use std::time::Duration;

use ferry_kafka::connect_group::{ConnectGroupMember, GroupError, GroupSecurity, GroupSettings};
use ferry_kafka::connect_protocol::{encode_metadata, ConnectProtocol, WorkerMetadata};
use ferry_test_support::kafka::{Tansu, TlsListener};
use ferry_test_support::net::free_port;

fn settings(bootstrap: &str, group: &str, pairs: &[(&str, &str)]) -> GroupSettings {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    GroupSettings {
        bootstrap_servers: bootstrap.to_owned(),
        group_id: group.to_string(),
        client_id: "ferry-security-test".into(),
        session_timeout_ms: 10_000,
        // A lone member joins at once; a refused connection is retried this long.
        rebalance_timeout_ms: 2_000,
        heartbeat_interval_ms: 500,
        request_timeout: Duration::from_secs(2),
        security: GroupSecurity::from_settings(&|k| map.get(k).cloned()).expect("security settings"),
    }
}

fn metadata() -> Vec<(String, Vec<u8>)> {
    let meta = WorkerMetadata {
        url: "http://secure:8083/".into(),
        config_offset: -1,
        assignment: None,
    };
    vec![("default".into(), encode_metadata(ConnectProtocol::Eager, &meta))]
}

/// Joins alone, syncs its own (empty) assignment, heartbeats and leaves.
async fn join_alone(s: GroupSettings) -> Result<(), GroupError> {
    let mut m = ConnectGroupMember::new(s);
    let joined = m.join(&metadata()).await?;
    assert!(joined.is_leader(), "alone in its group");
    m.sync(vec![(joined.member_id.clone(), Vec::new())]).await?;
    m.heartbeat().await?;
    m.leave().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_joins_over_tls_and_checks_the_certificate() {
    let tls_port = free_port();
    let tansu = Tansu::start_advertising(tls_port);
    let tls = TlsListener::start(tls_port, &tansu.bootstrap);
    let other = TlsListener::start(free_port(), &tansu.bootstrap);
    let trusted = tls.ca_pem.display().to_string();
    let untrusted = other.ca_pem.display().to_string();
    let ssl = |trust: &str| -> Vec<(&'static str, String)> {
        vec![
            ("security.protocol", "SSL".into()),
            ("ssl.truststore.type", "PEM".into()),
            ("ssl.truststore.location", trust.into()),
        ]
    };
    let with = |pairs: &[(&'static str, String)], bootstrap: &str, group: &str| {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        settings(bootstrap, group, &pairs)
    };
    let by_ip = format!("SSL://127.0.0.1:{tls_port}");
    join_alone(with(&ssl(&trusted), &by_ip, "tls"))
        .await
        .expect("SSL joins (the coordinator FindCoordinator names is the TLS listener too)");

    let err = join_alone(with(&ssl(&untrusted), &by_ip, "tls-untrusted"))
        .await
        .expect_err("a certificate from a CA not in the trust store is refused");
    assert!(err.to_string().contains("TLS handshake"), "{err}");

    // The certificate names 127.0.0.1 only: `localhost` fails the host name check, which
    // `ssl.endpoint.identification.algorithm=` (empty) turns off, as in Java's client.
    let by_name = format!("localhost:{tls_port}");
    let err = join_alone(with(&ssl(&trusted), &by_name, "tls-name"))
        .await
        .expect_err("a certificate for another name is refused");
    assert!(err.to_string().contains("TLS handshake"), "{err}");
    let mut no_name_check = ssl(&trusted);
    no_name_check.push(("ssl.endpoint.identification.algorithm", String::new()));
    join_alone(with(&no_name_check, &by_name, "tls-no-name-check"))
        .await
        .expect("without the host name check the chain is enough");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_presents_a_client_certificate_when_the_listener_requires_one() {
    let tls_port = free_port();
    let tansu = Tansu::start_advertising(tls_port);
    let tls = TlsListener::start_requiring_client_certificates(tls_port, &tansu.bootstrap);
    let bootstrap = format!("SSL://127.0.0.1:{tls_port}");
    let path = |p: &std::path::Path| p.display().to_string();
    let base = [
        ("security.protocol", "SSL".to_owned()),
        ("ssl.truststore.location", path(&tls.ca_pem)),
    ];
    let with = |extra: &[(&'static str, String)], group: &str| {
        let pairs: Vec<(&str, &str)> = base.iter().chain(extra).map(|(k, v)| (*k, v.as_str())).collect();
        settings(&bootstrap, group, &pairs)
    };

    join_alone(with(&[], "mtls-none"))
        .await
        .expect_err("without a client certificate the listener refuses the member");

    // Java's PEM key store: one file holding the key and the certificate.
    let keystore = tls.client_cert_pem.with_file_name("keystore.pem");
    let key = std::fs::read_to_string(&tls.client_key_pem).unwrap();
    let cert = std::fs::read_to_string(&tls.client_cert_pem).unwrap();
    std::fs::write(&keystore, format!("{key}{cert}")).unwrap();
    join_alone(with(
        &[
            ("ssl.keystore.type", "PEM".into()),
            ("ssl.keystore.location", path(&keystore)),
        ],
        "mtls-java",
    ))
    .await
    .expect("a PEM key store's certificate is presented");

    // librdkafka's names, as the cp-kafka-connect images' users may have them.
    join_alone(with(
        &[
            ("ssl.certificate.location", path(&tls.client_cert_pem)),
            ("ssl.key.location", path(&tls.client_key_pem)),
        ],
        "mtls-librdkafka",
    ))
    .await
    .expect("librdkafka's certificate and key files are presented");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_authenticates_with_sasl_before_anything_else() {
    let tansu = Tansu::start_authenticating();
    let sasl = |mechanism: &'static str, module: &str| -> Vec<(&'static str, String)> {
        vec![
            ("security.protocol", "SASL_PLAINTEXT".into()),
            ("sasl.mechanism", mechanism.into()),
            (
                "sasl.jaas.config",
                format!(r#"{module} required username="connect" password="wrong-or-unknown";"#),
            ),
        ]
    };
    let with = |pairs: Vec<(&'static str, String)>, group: &str| {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        settings(&tansu.bootstrap, group, &pairs)
    };
    let scram = "org.apache.kafka.common.security.scram.ScramLoginModule";
    for mechanism in ["SCRAM-SHA-512", "SCRAM-SHA-256"] {
        let err = join_alone(with(sasl(mechanism, scram), "sasl"))
            .await
            .expect_err("a user the broker does not know is refused");
        let msg = err.to_string();
        assert!(
            msg.contains("authentication as connect") && msg.contains(mechanism),
            "the SCRAM exchange ran and the broker's refusal is reported: {msg}"
        );
    }
    let plain = "org.apache.kafka.common.security.plain.PlainLoginModule";
    // Tansu offers no PLAIN and closes the connection (Kafka answers
    // UNSUPPORTED_SASL_MECHANISM, reported as `sasl.mechanism=PLAIN is not enabled`).
    assert!(join_alone(with(sasl("PLAIN", plain), "sasl-plain"))
        .await
        .is_err());
    // Without SASL the broker answers nothing.
    assert!(join_alone(settings(&tansu.bootstrap, "sasl-none", &[]))
        .await
        .is_err());
}
