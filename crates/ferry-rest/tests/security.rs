//! The REST server over real sockets with Connect's security settings: HTTPS listeners
//! (PEM and PKCS12 key stores, client certificates), basic authentication from a JAAS
//! file, `admin.listeners`, CORS and response headers. Certificates are made here with
//! rcgen; nothing secret is committed.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::TestHerder;
use ferry_rest::entities::State;
use ferry_rest::server::{RestServer, RunningServer};
use ferry_rest::server_config::{Listener, RestServerConfig, Scheme};
use ferry_rest::Herder;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by the CA.
struct Pki {
    ca: rcgen::Certificate,
    server_cert: rcgen::Certificate,
    server_key: rcgen::KeyPair,
    client_cert: rcgen::Certificate,
    client_key: rcgen::KeyPair,
}

fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "ferry test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server_params =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let server_cert = server_params.signed_by(&server_key, &ca, &ca_key).unwrap();
    let client_key = rcgen::KeyPair::generate().unwrap();
    let mut client_params = rcgen::CertificateParams::new(vec!["client".to_owned()]).unwrap();
    client_params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
    let client_cert = client_params.signed_by(&client_key, &ca, &ca_key).unwrap();
    Pki {
        ca,
        server_cert,
        server_key,
        client_cert,
        client_key,
    }
}

/// One HTTP answer: status, headers (lowercase names) and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, request: &str) -> Answer {
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        // No answer at all (the server closed the connection): status 0.
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn request(method: &str, path: &str, extra: &[(&str, &str)], body: &str) -> String {
    let mut r = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (k, v) in extra {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        r.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    r.push_str("\r\n");
    r.push_str(body);
    r
}

fn basic(user_pass: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(user_pass)
    )
}

/// An HTTPS client trusting the test CA, with an optional client certificate.
fn tls_client(pki: &Pki, with_client_cert: bool) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = if with_client_cert {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.client_key.serialize_der()));
        builder
            .with_client_auth_cert(vec![pki.client_cert.der().clone(), pki.ca.der().clone()], key)
            .unwrap()
    } else {
        builder.with_no_client_auth()
    };
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

async fn https(
    connector: &tokio_rustls::TlsConnector,
    addr: std::net::SocketAddr,
    req: &str,
) -> std::io::Result<Answer> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let stream = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await?;
    Ok(exchange(stream, req).await)
}

async fn http(addr: std::net::SocketAddr, req: &str) -> Answer {
    exchange(tokio::net::TcpStream::connect(addr).await.unwrap(), req).await
}

fn write(dir: &Path, name: &str, text: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

async fn start(
    props: &[(String, String)],
    jaas: Option<&str>,
) -> (RunningServer, Vec<ferry_rest::server::BoundAddress>) {
    let fallback = Listener::parse("listeners", "http://127.0.0.1:0").unwrap();
    let config =
        RestServerConfig::from_properties(props.iter().map(|(k, v)| (k, v)), fallback, jaas).expect("config");
    let server = RestServer::bind(config).await.expect("bind");
    let addrs = server.addresses();
    let herder: Arc<dyn Herder> = Arc::new(TestHerder::new().with_connector("c1", State::Running));
    (server.serve(herder, Default::default()).unwrap(), addrs)
}

fn props(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Writes the JAAS file and the credentials file; returns the JAAS file's path.
fn jaas(dir: &Path) -> String {
    let creds = write(
        dir,
        "connect.password",
        b"# user=password\nadmin=s3cret\nops: op-pass\n",
    );
    let text = format!(
        "KafkaConnect {{\n  org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required\n  file=\"{creds}\";\n}};\n"
    );
    write(dir, "jaas.conf", text.as_bytes())
}

#[tokio::test]
async fn https_with_basic_auth_refuses_wrong_or_missing_credentials_and_serves_the_right_ones() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let mut pem = pki.server_key.serialize_pem();
    pem.push_str(&pki.server_cert.pem());
    pem.push_str(&pki.ca.pem());
    let keystore = write(dir.path(), "server.pem", pem.as_bytes());
    let jaas = jaas(dir.path());
    let p = props(&[
        ("listeners", "https://127.0.0.1:0"),
        ("listeners.https.ssl.keystore.type", "PEM"),
        ("listeners.https.ssl.keystore.location", &keystore),
        (
            "rest.extension.classes",
            "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension",
        ),
    ]);
    let (server, addrs) = start(&p, Some(&jaas)).await;
    assert_eq!(addrs.len(), 1);
    assert_eq!(addrs[0].scheme, Scheme::Https);
    let addr = addrs[0].addr;
    let tls = tls_client(&pki, false);

    let get = |auth: Option<String>| {
        let extra: Vec<(&str, String)> = auth.into_iter().map(|a| ("Authorization", a)).collect();
        let extra: Vec<(&str, &str)> = extra.iter().map(|(k, v)| (*k, v.as_str())).collect();
        request("GET", "/connectors", &extra, "")
    };
    let missing = https(&tls, addr, &get(None)).await.unwrap();
    assert_eq!(missing.status, 401, "{missing:?}");
    assert_eq!(missing.body, "User cannot access the resource.");
    assert_eq!(
        missing.header("www-authenticate"),
        None,
        "Connect sends no challenge on the API"
    );
    for wrong in ["admin:wrong", "nobody:s3cret", "admin", ":s3cret"] {
        let a = https(&tls, addr, &get(Some(basic(wrong)))).await.unwrap();
        assert_eq!(a.status, 401, "{wrong}: {a:?}");
    }
    let a = https(&tls, addr, &get(Some("Bearer s3cret".into())))
        .await
        .unwrap();
    assert_eq!(a.status, 401);
    let ok = https(&tls, addr, &get(Some(basic("admin:s3cret"))))
        .await
        .unwrap();
    assert_eq!((ok.status, ok.body.as_str()), (200, r#"["c1"]"#), "{ok:?}");
    // `user: password` lines count too (Java properties).
    let ok = https(&tls, addr, &get(Some(basic("ops:op-pass")))).await.unwrap();
    assert_eq!(ok.status, 200, "{ok:?}");

    // Connect's internal endpoint is not authenticated (the herder answers it).
    let internal = https(&tls, addr, &request("POST", "/connectors/c1/tasks", &[], "[]"))
        .await
        .unwrap();
    assert_ne!(internal.status, 401, "{internal:?}");
    // A path no resource matches is the router's 404, as Jersey's filter never runs.
    let nowhere = https(&tls, addr, &request("GET", "/nowhere", &[], ""))
        .await
        .unwrap();
    assert_eq!(nowhere.status, 404, "{nowhere:?}");
    // The status page asks the browser for credentials.
    let ui = https(&tls, addr, &request("GET", "/ui", &[], "")).await.unwrap();
    assert_eq!(ui.status, 401);
    assert_eq!(ui.header("www-authenticate"), Some("Basic realm=\"Ferry\""));
    let auth = basic("admin:s3cret");
    let ui = https(
        &tls,
        addr,
        &request("GET", "/ui", &[("Authorization", &auth)], ""),
    )
    .await
    .unwrap();
    assert_eq!(ui.status, 200);
    assert!(ui.body.contains("<title>Ferry"), "{}", ui.body);

    // Plain HTTP on the HTTPS port gets no answer.
    let mut plain = tokio::net::TcpStream::connect(addr).await.unwrap();
    plain.write_all(get(None).as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = plain.read_to_end(&mut buf).await;
    assert!(
        !String::from_utf8_lossy(&buf).contains("HTTP/1.1 200"),
        "served over plain HTTP"
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn pkcs12_key_stores_and_required_client_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    // A PKCS12 key store as keytool or openssl would write it.
    let key = p12_keystore::PrivateKey::from_der(&pki.server_key.serialize_der()).unwrap();
    let chain = p12_keystore::PrivateKeyChain::new(
        vec![1u8; 20],
        key,
        [
            p12_keystore::Certificate::from_der(pki.server_cert.der()).unwrap(),
            p12_keystore::Certificate::from_der(pki.ca.der()).unwrap(),
        ],
    );
    let mut store = p12_keystore::KeyStore::new();
    store.add_entry("ferry", p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
    let p12 = store.writer("store-pass").write().unwrap();
    let keystore = write(dir.path(), "server.p12", &p12);
    let truststore = write(dir.path(), "ca.pem", pki.ca.pem().as_bytes());
    let p = props(&[
        ("listeners", "https://127.0.0.1:0"),
        ("ssl.keystore.type", "PKCS12"),
        ("ssl.keystore.location", &keystore),
        ("ssl.keystore.password", "store-pass"),
        ("ssl.truststore.type", "PEM"),
        ("ssl.truststore.location", &truststore),
        ("ssl.client.auth", "required"),
    ]);
    let (server, addrs) = start(&p, None).await;
    let addr = addrs[0].addr;
    let with_cert = https(
        &tls_client(&pki, true),
        addr,
        &request("GET", "/connectors", &[], ""),
    )
    .await
    .unwrap();
    assert_eq!(with_cert.status, 200, "{with_cert:?}");
    let without = https(
        &tls_client(&pki, false),
        addr,
        &request("GET", "/connectors", &[], ""),
    )
    .await;
    assert!(
        without.is_err() || without.as_ref().is_ok_and(|a| a.status == 0),
        "served without a client certificate: {without:?}"
    );
    server.stop().await.unwrap();

    // A wrong store password stops start-up, naming the key.
    let bad = props(&[
        ("listeners", "https://127.0.0.1:0"),
        ("ssl.keystore.location", &keystore),
        ("ssl.keystore.password", "nope"),
    ]);
    let fallback = Listener::parse("listeners", "http://127.0.0.1:0").unwrap();
    let err = RestServerConfig::from_properties(bad.iter().map(|(k, v)| (k, v)), fallback, None)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("ssl.keystore.location: "), "{err}");
}

#[tokio::test]
async fn https_admin_listeners_take_their_own_tls_settings_and_requested_client_auth_serves_both() {
    let dir = tempfile::tempdir().unwrap();
    let pki = pki();
    let mut pem = pki.server_key.serialize_pem();
    pem.push_str(&pki.server_cert.pem());
    let keystore = write(dir.path(), "server.pem", pem.as_bytes());
    let ca = write(dir.path(), "ca.pem", pki.ca.pem().as_bytes());
    let p = props(&[
        ("listeners", "http://127.0.0.1:0"),
        ("admin.listeners", "https://127.0.0.1:0"),
        ("admin.listeners.https.ssl.keystore.location", &keystore),
        ("admin.listeners.https.ssl.truststore.location", &ca),
        ("admin.listeners.https.ssl.client.auth", "requested"),
        // Plain ssl.* keys do not count once admin.listeners.https.* keys are set.
        ("ssl.keystore.location", "/nonexistent/ignored.pem"),
    ]);
    let (server, addrs) = start(&p, None).await;
    let admin = addrs.iter().find(|a| a.admin).unwrap();
    assert_eq!(admin.scheme, Scheme::Https);
    for with_cert in [true, false] {
        let a = https(
            &tls_client(&pki, with_cert),
            admin.addr,
            &request("GET", "/admin/loggers", &[], ""),
        )
        .await
        .unwrap();
        assert_eq!(a.status, 200, "client certificate {with_cert}: {a:?}");
    }
    server.stop().await.unwrap();
}

#[tokio::test]
async fn admin_listeners_move_or_disable_the_admin_endpoints() {
    let p = props(&[
        ("listeners", "http://127.0.0.1:0"),
        ("admin.listeners", "http://127.0.0.1:0"),
    ]);
    let (server, addrs) = start(&p, None).await;
    let main = addrs.iter().find(|a| !a.admin).unwrap().addr;
    let admin = addrs.iter().find(|a| a.admin).unwrap().addr;
    assert_eq!(
        http(main, &request("GET", "/admin/loggers", &[], ""))
            .await
            .status,
        404
    );
    assert_eq!(
        http(main, &request("GET", "/connectors", &[], "")).await.status,
        200
    );
    assert_eq!(
        http(admin, &request("GET", "/admin/loggers", &[], ""))
            .await
            .status,
        200
    );
    let a = http(admin, &request("GET", "/connectors", &[], "")).await;
    assert_eq!(a.status, 404);
    assert_eq!(a.body, r#"{"error_code":404,"message":"HTTP 404 Not Found"}"#);
    server.stop().await.unwrap();

    let (server, addrs) = start(
        &props(&[("listeners", "http://127.0.0.1:0"), ("admin.listeners", "")]),
        None,
    )
    .await;
    assert_eq!(addrs.len(), 1);
    assert_eq!(
        http(addrs[0].addr, &request("GET", "/admin/loggers", &[], ""))
            .await
            .status,
        404
    );
    server.stop().await.unwrap();

    let (server, addrs) = start(&props(&[("listeners", "http://127.0.0.1:0")]), None).await;
    assert_eq!(
        http(addrs[0].addr, &request("GET", "/admin/loggers", &[], ""))
            .await
            .status,
        200
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn cors_options_and_response_headers_answer_as_connect_4_3_does() {
    let dir = tempfile::tempdir().unwrap();
    let jaas = jaas(dir.path());
    let p = props(&[
        ("listeners", "http://127.0.0.1:0"),
        ("access.control.allow.origin", "https://ops\\.example"),
        ("access.control.allow.methods", "GET,PUT,DELETE"),
        (
            "response.http.headers.config",
            "set X-Frame-Options: DENY, \"add Cache-Control: no-store, max-age=0\"",
        ),
        (
            "rest.extension.classes",
            "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension",
        ),
    ]);
    let (server, addrs) = start(&p, Some(&jaas)).await;
    let addr = addrs[0].addr;
    let auth = basic("admin:s3cret");
    let origin = ("Origin", "https://ops.example");

    // Figures measured on the real Kafka Connect 4.3 worker with the same settings.
    let a = http(
        addr,
        &request("GET", "/connectors", &[origin, ("Authorization", &auth)], ""),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.header("access-control-allow-origin"),
        Some("https://ops.example")
    );
    assert_eq!(a.header("access-control-allow-credentials"), None);
    assert_eq!(a.header("vary"), Some("Origin"));
    assert_eq!(a.header("x-frame-options"), Some("DENY"));
    assert_eq!(a.header("cache-control"), Some("no-store, max-age=0"));

    let other = http(
        addr,
        &request(
            "GET",
            "/connectors",
            &[("Origin", "https://evil.example"), ("Authorization", &auth)],
            "",
        ),
    )
    .await;
    assert_eq!(other.status, 200);
    assert_eq!(other.header("access-control-allow-origin"), None);
    assert_eq!(other.header("vary"), Some("Origin"));

    // A preflight gets the CORS headers, then is an OPTIONS request like any other:
    // authenticated (401, text/plain, without credentials) and answered with `Allow`.
    let preflight = |auth: Option<&str>| {
        let mut h = vec![origin, ("Access-Control-Request-Method", "DELETE")];
        if let Some(a) = auth {
            h.push(("Authorization", a));
        }
        request("OPTIONS", "/connectors/c1", &h, "")
    };
    let pre = http(addr, &preflight(None)).await;
    assert_eq!(pre.status, 401, "{pre:?}");
    assert_eq!(pre.header("content-type"), Some("text/plain"));
    assert_eq!(
        pre.header("access-control-allow-origin"),
        Some("https://ops.example")
    );
    assert_eq!(pre.header("access-control-allow-methods"), Some("GET,PUT,DELETE"));
    assert_eq!(pre.header("access-control-allow-headers"), Some("Content-Type"));
    assert_eq!(pre.header("access-control-max-age"), Some("60"));
    let pre = http(addr, &preflight(Some(&auth))).await;
    assert_eq!(pre.status, 200, "{pre:?}");
    assert_eq!(pre.header("allow"), Some("HEAD,DELETE,GET,OPTIONS"));
    assert_eq!(pre.body, "HEAD, DELETE, GET, OPTIONS");
    for (path, allow) in [
        ("/connectors", "HEAD,POST,GET,OPTIONS"),
        ("/connectors/c1/config", "HEAD,GET,OPTIONS,PUT,PATCH"),
        ("/connectors/c1/pause", "OPTIONS,PUT"),
        ("/connectors/c1/tasks/0/restart", "POST,OPTIONS"),
        ("/admin/loggers/root", "HEAD,GET,OPTIONS,PUT"),
    ] {
        let a = http(addr, &request("OPTIONS", path, &[("Authorization", &auth)], "")).await;
        assert_eq!((a.status, a.header("allow")), (200, Some(allow)), "{path}");
    }
    let nowhere = http(addr, &request("OPTIONS", "/nowhere", &[], "")).await;
    assert_eq!(nowhere.status, 404);

    // The headers are on refusals too; a Basic value that is not base64 is Connect's 500.
    let refused = http(addr, &request("GET", "/connectors", &[], "")).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.header("x-frame-options"), Some("DENY"));
    assert_eq!(refused.header("content-type"), Some("application/json"));
    let garbled = http(
        addr,
        &request("GET", "/connectors", &[("Authorization", "Basic !!!")], ""),
    )
    .await;
    assert_eq!(garbled.status, 500);
    assert_eq!(
        garbled.body,
        r#"{"error_code":500,"message":"Illegal base64 character 21"}"#
    );
    server.stop().await.unwrap();
}

#[test]
fn start_up_errors_name_the_setting() {
    let fallback = || Listener::parse("listeners", "http://127.0.0.1:0").unwrap();
    let err = |pairs: &[(&str, &str)], jaas: Option<&str>| {
        let p = props(pairs);
        RestServerConfig::from_properties(p.iter().map(|(k, v)| (k, v)), fallback(), jaas)
            .unwrap_err()
            .to_string()
    };
    let ext = (
        "rest.extension.classes",
        "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension",
    );
    assert!(err(&[ext], None).contains("KAFKA_OPTS=-Djava.security.auth.login.config="));
    assert!(err(&[ext], Some("/nonexistent/jaas.conf"))
        .starts_with("java.security.auth.login.config: cannot read /nonexistent/jaas.conf"));
    let dir = tempfile::tempdir().unwrap();
    let no_file = write(dir.path(), "j.conf", b"KafkaConnect { org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule required file=\"/nonexistent/creds\"; };");
    assert!(
        err(&[ext], Some(&no_file)).contains("Error loading Property Credentials file /nonexistent/creds")
    );
    let other = write(dir.path(), "o.conf", b"Client { x.Y required; };");
    assert!(err(&[ext], Some(&other)).contains("has no KafkaConnect entry"));
    assert!(err(&[("response.http.headers.config", "sett X: 1")], None)
        .contains("Invalid header config action: 'sett'"));
    assert!(err(
        &[("listeners", "https://127.0.0.1:0"), ("ssl.client.auth", "maybe")],
        None
    )
    .contains("ssl."));
}
