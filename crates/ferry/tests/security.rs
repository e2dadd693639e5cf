//! The `ferry` binary with an HTTPS listener and Connect's basic authentication, set up
//! the way the debezium/connect and cp-kafka-connect images are: `listeners=https://…`,
//! `listeners.https.ssl.*`, `rest.extension.classes=…BasicAuthSecurityRestExtension` and
//! `KAFKA_OPTS=-Djava.security.auth.login.config=jaas.conf`. Certificates are made here.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{ferry_exe, spawn_ferry, WorkerSetup};
use ferry_test_support::kafka::Tansu;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BASIC_AUTH: &str = "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension";

struct Pki {
    ca: rcgen::Certificate,
    pem: String,
}

/// A CA and a server certificate for 127.0.0.1; `pem` holds the server's key and chain.
fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &ca, &ca_key)
        .unwrap();
    let pem = format!("{}{}{}", key.serialize_pem(), cert.pem(), ca.pem());
    Pki { ca, pem }
}

struct Answer {
    status: u16,
    body: String,
}

/// One HTTPS/1.1 request to 127.0.0.1:`port`, trusting `ca`.
async fn https(
    ca: &rcgen::Certificate,
    port: u16,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> std::io::Result<Answer> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).unwrap();
    let config =
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("127.0.0.1").unwrap(), tcp)
        .await?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    if let Some(user_pass) = auth {
        use base64::Engine;
        let token = base64::engine::general_purpose::STANDARD.encode(user_pass);
        req.push_str(&format!("Authorization: Basic {token}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    tls.write_all(req.as_bytes()).await?;
    let mut raw = Vec::new();
    let _ = tls.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // Bodies here are small: chunked framing shows as a size line around the JSON.
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body.lines().nth(1).unwrap_or("").to_owned()
    } else {
        body.to_owned()
    };
    Ok(Answer { status, body })
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_basic_auth_answers_401_to_wrong_or_missing_credentials_and_200_to_the_right_ones() {
    let broker = Tansu::shared();
    let secrets = tempfile::tempdir().unwrap();
    let pki = pki();
    let keystore = write(secrets.path(), "server.pem", &pki.pem);
    let creds = write(secrets.path(), "connect.password", "admin=s3cret\n");
    let jaas = write(
        secrets.path(),
        "jaas.conf",
        &format!(
            "KafkaConnect {{\n  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required\n  file=\"{creds}\";\n}};\n"
        ),
    );
    let port = ferry_test_support::net::free_port();
    let listener = format!("https://127.0.0.1:{port}");
    let setup = WorkerSetup::new(
        "security",
        broker,
        &[
            ("listeners", &listener),
            ("listeners.https.ssl.keystore.type", "PEM"),
            ("listeners.https.ssl.keystore.location", &keystore),
            ("rest.extension.classes", BASIC_AUTH),
        ],
    );
    let kafka_opts = format!("-Xmx256m -Djava.security.auth.login.config={jaas}");
    let ferry = spawn_ferry(
        &setup.props,
        port,
        &setup.path("ferry.log"),
        &[("KAFKA_OPTS", &kafka_opts)],
    );

    // Ready once the worker answers an authenticated request.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match https(&pki.ca, port, "GET", "/connectors", Some("admin:s3cret"), "").await {
            Ok(a) if a.status == 200 => break,
            _ if Instant::now() > deadline => {
                panic!("ferry did not answer over HTTPS; log:\n{}", ferry.log_tail())
            }
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let missing = https(&pki.ca, port, "GET", "/connectors", None, "")
        .await
        .unwrap();
    assert_eq!(missing.status, 401);
    assert_eq!(missing.body, "User cannot access the resource.");
    for wrong in ["admin:S3cret", "root:s3cret", "admin:"] {
        let a = https(&pki.ca, port, "GET", "/connectors", Some(wrong), "")
            .await
            .unwrap();
        assert_eq!(a.status, 401, "{wrong} was let in");
    }
    let status = https(&pki.ca, port, "GET", "/connectors/none/status", None, "")
        .await
        .unwrap();
    assert_eq!(
        status.status, 401,
        "an unknown connector's status without credentials"
    );

    let input = setup.path("in.txt");
    std::fs::write(&input, "one\ntwo\n").unwrap();
    let body = serde_json::json!({"name": "secured", "config": {
        "connector.class": "FileStreamSource", "file": input.to_str().unwrap(),
        "topic": setup.names.topic("data"),
        "topic.creation.default.partitions": "1", "topic.creation.default.replication.factor": "1"}})
    .to_string();
    let refused = https(&pki.ca, port, "POST", "/connectors", None, &body)
        .await
        .unwrap();
    assert_eq!(refused.status, 401);
    let created = https(&pki.ca, port, "POST", "/connectors", Some("admin:s3cret"), &body)
        .await
        .unwrap();
    assert_eq!(created.status, 201, "{}", created.body);
    let list = https(&pki.ca, port, "GET", "/connectors", Some("admin:s3cret"), "")
        .await
        .unwrap();
    assert_eq!((list.status, list.body.as_str()), (200, r#"["secured"]"#));
    let ui = https(&pki.ca, port, "GET", "/ui", Some("admin:s3cret"), "")
        .await
        .unwrap();
    assert_eq!(ui.status, 200);
    // Plain HTTP on the HTTPS port is not served.
    assert!(!ferry.is_ready(), "the HTTPS port answered plain HTTP");
}

/// Runs `ferry distributed PROPS` with `env` and returns its exit code and output, for
/// configurations that must stop start-up.
fn refused_start(dir: &Path, extra: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let props = write(
        dir,
        "worker.properties",
        &format!(
            "bootstrap.servers=127.0.0.1:1\ngroup.id=g\nconfig.storage.topic=c\noffset.storage.topic=o\n\
             status.storage.topic=s\nkey.converter=org.apache.kafka.connect.json.JsonConverter\n\
             value.converter=org.apache.kafka.connect.json.JsonConverter\n{extra}\n"
        ),
    );
    let mut cmd = std::process::Command::new(ferry_exe());
    cmd.env_remove("KAFKA_OPTS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.arg("distributed").arg(props).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

#[test]
fn bad_security_settings_stop_start_up_with_a_line_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let port = ferry_test_support::net::free_port();
    let ext = format!("listeners=http://127.0.0.1:{port}\nrest.extension.classes={BASIC_AUTH}");
    let (code, out) = refused_start(dir.path(), &ext, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("ferry: rest.extension.classes: BasicAuthSecurityRestExtension needs a JAAS file: set KAFKA_OPTS=-Djava.security.auth.login.config="), "{out}");
    let (code, out) = refused_start(
        dir.path(),
        &ext,
        &[(
            "KAFKA_OPTS",
            "-Djava.security.auth.login.config=/nonexistent/jaas.conf",
        )],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("ferry: java.security.auth.login.config: cannot read /nonexistent/jaas.conf"),
        "{out}"
    );

    let jks = write(dir.path(), "server.jks", "\u{0}");
    std::fs::write(&jks, b"\xFE\xED\xFE\xED\x00\x00\x00\x02").unwrap();
    let https = format!("listeners=https://127.0.0.1:{port}\nlisteners.https.ssl.keystore.location={jks}\nlisteners.https.ssl.keystore.password=changeit");
    let (code, out) = refused_start(dir.path(), &https, &[]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("ferry: listeners.https.ssl.keystore.location: "),
        "{out}"
    );
    assert!(out.contains("keytool -importkeystore"), "{out}");
    assert!(!out.contains("changeit"), "a password reached the log: {out}");
}
