//! TLS to PostgreSQL (`database.sslmode`, `database.sslrootcert`, `database.sslcert`/`sslkey`)
//! against a private PostgreSQL 15 cluster with `ssl = on` and certificates made by rcgen.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferry_core::{
    CancellationToken, ConfigMap, OffsetMap, OffsetStorageReader, Record, SourceTask, SourceTaskContext,
    Value,
};
use ferry_postgres::replication::ReplicationSession;
use ferry_postgres::{Lsn, PostgresConfig, PostgresSourceTask};
use ferry_test_support::postgres::PgCluster;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

#[derive(Default, Clone)]
struct MemOffsets(Arc<Mutex<Option<OffsetMap>>>);

impl OffsetStorageReader for MemOffsets {
    fn offset(&self, _partition: &OffsetMap) -> Option<OffsetMap> {
        self.0.lock().unwrap().clone()
    }
}

struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_string()
    }
}

fn ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, name);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    (p.self_signed(&key).unwrap(), key)
}

/// CA "ca.pem", an unrelated "wrong-ca.pem", a server certificate for `localhost` only (so
/// that 127.0.0.1 is a host name mismatch) and a client certificate for user `certuser`.
fn make_pki() -> (Pki, PathBuf, PathBuf) {
    let dir = tempfile::Builder::new().prefix("ferry-tls-").tempdir().unwrap();
    let (ca_cert, ca_key) = ca("ferry test CA");
    let (wrong, _) = ca("unrelated CA");
    let server_key = KeyPair::generate().unwrap();
    let mut sp = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    sp.distinguished_name.push(DnType::CommonName, "localhost");
    let server = sp.signed_by(&server_key, &ca_cert, &ca_key).unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut cp = CertificateParams::new(Vec::<String>::new()).unwrap();
    cp.distinguished_name.push(DnType::CommonName, "certuser");
    let client = cp.signed_by(&client_key, &ca_cert, &ca_key).unwrap();
    let w = |name: &str, text: String| std::fs::write(dir.path().join(name), text).unwrap();
    w("ca.pem", ca_cert.pem());
    w("wrong-ca.pem", wrong.pem());
    w("client.pem", client.pem());
    w("client.key", client_key.serialize_pem());
    let server_crt = dir.path().join("server.crt");
    let server_key_path = dir.path().join("server.key");
    std::fs::write(&server_crt, server.pem()).unwrap();
    std::fs::write(&server_key_path, server_key.serialize_pem()).unwrap();
    (Pki { dir }, server_crt, server_key_path)
}

/// Installs the server certificate into the data directory (owned by `postgres`, key 0600) and
/// turns on `ssl` (reloadable in PG 15); client certificates are checked against the CA and
/// user `certuser` may only log in with one.
async fn enable_ssl(pg: &PgCluster, pki: &Pki, crt: &Path, key: &Path) {
    let data = pg.data_dir();
    for (src, dst) in [
        (crt.to_path_buf(), data.join("server.crt")),
        (key.to_path_buf(), data.join("server.key")),
        (PathBuf::from(pki.path("ca.pem")), data.join("root.crt")),
    ] {
        std::fs::copy(&src, &dst).unwrap();
        let _ = Command::new("chown").arg("postgres:postgres").arg(&dst).status();
        let _ = Command::new("chmod").arg("600").arg(&dst).status();
    }
    // certuser: certificate authentication only (prepended so it wins over the md5 lines).
    let hba = data.join("pg_hba.conf");
    let text = std::fs::read_to_string(&hba).unwrap();
    std::fs::write(
        &hba,
        format!(
            "hostssl all certuser 127.0.0.1/32 cert\nhostssl replication certuser 127.0.0.1/32 cert\n\
             host all certuser 127.0.0.1/32 reject\nhost replication certuser 127.0.0.1/32 reject\n{text}"
        ),
    )
    .unwrap();
    let c = pg.connect("postgres").await;
    for stmt in [
        "ALTER SYSTEM SET ssl_cert_file = 'server.crt'",
        "ALTER SYSTEM SET ssl_key_file = 'server.key'",
        "ALTER SYSTEM SET ssl_ca_file = 'root.crt'",
        "ALTER SYSTEM SET ssl = on",
        "SELECT pg_reload_conf()",
    ] {
        c.batch_execute(stmt).await.unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let c = pg.connect("postgres").await;
        let on: String = c.query_one("SHOW ssl", &[]).await.unwrap().get(0);
        if on == "on" {
            break;
        }
        assert!(Instant::now() < deadline, "ssl did not turn on: {}", pg.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    pg.create_user("certuser", "unused", true).await;
    c.batch_execute("ALTER ROLE certuser SUPERUSER").await.unwrap();
}

fn config(pg: &PgCluster, db: &str, host: &str, extra: &[(&str, &str)]) -> ConfigMap {
    let mut m: ConfigMap = [
        (
            "connector.class",
            "io.debezium.connector.postgresql.PostgresConnector",
        ),
        ("database.hostname", host),
        ("database.user", "postgres"),
        ("database.password", "postgres"),
        ("database.dbname", db),
        ("topic.prefix", "srv"),
        ("plugin.name", "pgoutput"),
        ("slot.name", db),
        ("publication.name", db),
        ("status.update.interval.ms", "200"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    m.insert("database.port".into(), pg.port().to_string());
    for (k, v) in extra {
        m.insert(k.to_string(), v.to_string());
    }
    m
}

async fn try_start(cfg: &ConfigMap) -> Result<PostgresSourceTask, String> {
    let mut t = PostgresSourceTask::new();
    t.start(
        cfg,
        SourceTaskContext {
            connector: "pg".into(),
            task: 0,
            offsets: Arc::new(MemOffsets::default()),
            shutdown: CancellationToken::new(),
        },
    )
    .await
    .map_err(|e| e.to_string())?;
    Ok(t)
}

async fn poll_until(t: &mut PostgresSourceTask, n: usize) -> Vec<Record> {
    let mut out = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while out.len() < n && Instant::now() < deadline {
        out.extend(t.poll().await.expect("poll"));
    }
    out
}

fn op(r: &Record) -> Value {
    r.value.as_struct().unwrap().get("op").unwrap().clone()
}

/// Runs a task on a fresh database: a snapshot row, then a streamed insert. Returns whether
/// the (replication, query) connections use TLS, from `pg_stat_ssl`.
async fn stream_once(pg: &PgCluster, name: &str, host: &str, extra: &[(&str, &str)]) -> (bool, bool) {
    let db = pg.create_database(name).await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let mut t = try_start(&config(pg, &db, host, extra))
        .await
        .unwrap_or_else(|e| panic!("{name}: task start failed: {e}"));
    let snap = poll_until(&mut t, 1).await;
    assert_eq!(snap.len(), 1, "{name}: snapshot");
    assert_eq!(op(&snap[0]), Value::String("r".into()));
    c.batch_execute("INSERT INTO t VALUES (2)").await.unwrap();
    let streamed = poll_until(&mut t, 1).await;
    assert_eq!(streamed.len(), 1, "{name}: streamed insert");
    assert_eq!(op(&streamed[0]), Value::String("c".into()));
    let repl: bool = c
        .query_one(
            "SELECT s.ssl FROM pg_replication_slots r JOIN pg_stat_ssl s ON s.pid = r.active_pid \
             WHERE r.slot_name = $1",
            &[&db],
        )
        .await
        .unwrap()
        .get(0);
    let row = c
        .query_one(
            "SELECT count(*), bool_and(s.ssl) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
             WHERE a.application_name = 'ferry-postgres' AND a.backend_type = 'client backend' \
             AND a.datname = $1",
            &[&db],
        )
        .await
        .unwrap();
    let n: i64 = row.get(0);
    assert!(n >= 1, "{name}: no query connection found");
    let query: bool = row.get(1);
    t.stop().await.unwrap();
    (repl, query)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmodes_against_a_tls_server() {
    let pg = PgCluster::start();
    let (pki, crt, key) = make_pki();
    enable_ssl(&pg, &pki, &crt, &key).await;
    let ca = pki.path("ca.pem");
    let wrong_ca = pki.path("wrong-ca.pem");

    // require: TLS, no certificate checks (the cert is for localhost, we connect by IP).
    let r = stream_once(
        &pg,
        "tls_require",
        "127.0.0.1",
        &[("database.sslmode", "require")],
    )
    .await;
    assert_eq!(r, (true, true), "require must use TLS on both connections");

    // prefer (the default): TLS when offered.
    let r = stream_once(&pg, "tls_prefer", "127.0.0.1", &[]).await;
    assert_eq!(r, (true, true), "prefer must use TLS when the server offers it");

    // disable: plain TCP.
    let r = stream_once(
        &pg,
        "tls_disable",
        "127.0.0.1",
        &[("database.sslmode", "disable")],
    )
    .await;
    assert_eq!(r, (false, false), "disable must not use TLS");

    // verify-full with the right CA and matching host name.
    let r = stream_once(
        &pg,
        "tls_verify_full",
        "localhost",
        &[("database.sslmode", "verify-full"), ("database.sslrootcert", &ca)],
    )
    .await;
    assert_eq!(r, (true, true));

    // verify-ca ignores the host name mismatch (certificate for localhost, host 127.0.0.1).
    let r = stream_once(
        &pg,
        "tls_verify_ca",
        "127.0.0.1",
        &[("database.sslmode", "verify-ca"), ("database.sslrootcert", &ca)],
    )
    .await;
    assert_eq!(r, (true, true));

    // Client certificate: certuser may only log in with a certificate signed by the CA.
    let db = pg.create_database("tls_client_cert").await;
    let c = pg.connect(&db).await;
    c.batch_execute("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    let (client_pem, client_key) = (pki.path("client.pem"), pki.path("client.key"));
    let mut m = config(
        &pg,
        &db,
        "localhost",
        &[
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", &ca),
            ("database.sslcert", &client_pem),
            ("database.sslkey", &client_key),
        ],
    );
    m.insert("database.user".into(), "certuser".into());
    m.insert("database.password".into(), "wrong".into());
    let mut t = try_start(&m).await.expect("client certificate login");
    assert_eq!(poll_until(&mut t, 1).await.len(), 1);
    c.batch_execute("INSERT INTO t VALUES (2)").await.unwrap();
    assert_eq!(poll_until(&mut t, 1).await.len(), 1);
    t.stop().await.unwrap();
    m.shift_remove("database.sslcert");
    m.shift_remove("database.sslkey");
    let err = try_start(&m)
        .await
        .err()
        .expect("certuser without a certificate must fail");
    assert!(err.contains("valid client certificate"), "{err}");

    // Failures name the TLS settings, on both connections.
    let db = pg.create_database("tls_fail").await;
    let wrong = config(
        &pg,
        &db,
        "localhost",
        &[
            ("database.sslmode", "verify-full"),
            ("database.sslrootcert", &wrong_ca),
        ],
    );
    let err = try_start(&wrong).await.err().expect("wrong CA must fail");
    assert!(
        err.contains("database.sslmode=verify-full") && err.contains("database.sslrootcert="),
        "{err}"
    );
    eprintln!("{err}");
    let parsed = PostgresConfig::parse(&wrong).unwrap();
    let err = ReplicationSession::connect(&parsed, Lsn(0), Lsn(0))
        .await
        .err()
        .expect("replication connection with the wrong CA must fail")
        .to_string();
    assert!(
        err.contains("database.sslmode=verify-full") && err.contains("wrong-ca.pem"),
        "{err}"
    );
    eprintln!("{err}");

    // verify-full rejects a host name the certificate does not carry.
    let mismatch = config(
        &pg,
        &db,
        "127.0.0.1",
        &[("database.sslmode", "verify-full"), ("database.sslrootcert", &ca)],
    );
    let err = try_start(&mismatch)
        .await
        .err()
        .expect("host name mismatch must fail");
    assert!(err.contains("database.sslmode=verify-full"), "{err}");
    eprintln!("{err}");
    let err = ReplicationSession::connect(&PostgresConfig::parse(&mismatch).unwrap(), Lsn(0), Lsn(0))
        .await
        .err()
        .expect("replication connection with a host name mismatch must fail")
        .to_string();
    assert!(err.contains("database.sslmode=verify-full"), "{err}");
    eprintln!("{err}");

    // verify-ca without any CA file is a configuration error.
    let no_ca = config(&pg, &db, "127.0.0.1", &[("database.sslmode", "verify-ca")]);
    let err = try_start(&no_ca)
        .await
        .err()
        .expect("verify-ca without CA must fail");
    assert!(err.contains("database.sslrootcert"), "{err}");
    eprintln!("{err}");
}

/// Against a server without TLS: prefer/allow fall back to plain TCP, require fails clearly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_server_fallback_and_require() {
    let pg = PgCluster::shared();
    for mode in ["prefer", "allow"] {
        let r = stream_once(
            pg,
            &format!("tls_plain_{mode}"),
            "127.0.0.1",
            &[("database.sslmode", mode)],
        )
        .await;
        assert_eq!(r, (false, false), "{mode}");
    }
    let db = pg.create_database("tls_plain_require").await;
    let cfg = config(pg, &db, "127.0.0.1", &[("database.sslmode", "require")]);
    let err = try_start(&cfg)
        .await
        .err()
        .expect("require against a plain server");
    assert!(err.contains("database.sslmode=require"), "{err}");
    eprintln!("{err}");
    let err = ReplicationSession::connect(&PostgresConfig::parse(&cfg).unwrap(), Lsn(0), Lsn(0))
        .await
        .err()
        .expect("replication: require against a plain server")
        .to_string();
    assert!(err.contains("database.sslmode=require"), "{err}");
    eprintln!("{err}");
}
