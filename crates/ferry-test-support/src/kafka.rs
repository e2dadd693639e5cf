//! A private Tansu broker (in-memory storage) on a free port, and small Kafka client helpers.
//!
//! Tansu differs from Apache Kafka in ways tests must respect (see
//! docs/compatibility.md): it never auto-creates topics, it advertises only the
//! address it is given (127.0.0.1, not localhost), and its memory engine does not compact.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use crate::net::{free_port, wait_for_port};

/// A running Tansu broker; killed when dropped.
pub struct Tansu {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub bootstrap: String,
    log: std::path::PathBuf,
}

fn tansu_binary() -> String {
    std::env::var("TANSU_BIN").unwrap_or_else(|_| "tansu".to_owned())
}

impl Tansu {
    /// Starts a broker on a free port and waits until it accepts connections.
    pub fn start() -> Tansu {
        let broker = Tansu::spawn(&[], None);
        broker.wait_ready();
        broker
    }

    /// Starts a broker that requires SASL/SCRAM authentication (`--authentication`), ready
    /// once it listens. Its memory store starts with no user and Tansu's CLI cannot
    /// authenticate to create one, so every login fails.
    pub fn start_authenticating() -> Tansu {
        Tansu::spawn(&["--authentication"], None)
    }

    /// Starts a broker advertising port `advertised` (a [`TlsListener`] in front of it)
    /// and waits until it listens.
    pub fn start_advertising(advertised: u16) -> Tansu {
        Tansu::spawn(&[], Some(advertised))
    }

    fn spawn(extra: &[&str], advertised: Option<u16>) -> Tansu {
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let advertised = format!("tcp://127.0.0.1:{}", advertised.unwrap_or(port));
        let log = std::env::temp_dir().join(format!("ferry-tansu-{port}.log"));
        let out = std::fs::File::create(&log).expect("create tansu log file");
        let mut cmd = Command::new(tansu_binary());
        cmd.args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &advertised,
            "--storage-engine",
            "memory://tansu/",
        ])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("clone log handle"))
        .stderr(out);
        // The broker must not outlive the test process, even when the test is killed.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        // PR_SET_PDEATHSIG fires when the spawning *thread* exits, so spawn from a thread
        // that lives as long as the process.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(format!("tansu-{port}-parent"))
            .spawn(move || {
                let _ = tx.send(cmd.spawn());
                loop {
                    std::thread::park();
                }
            })
            .expect("spawn tansu parent thread");
        let child = rx.recv().expect("tansu parent thread").unwrap_or_else(|e| {
            panic!(
                "cannot start `{}` ({e}); install it with `cargo install tansu --version 0.6.0 --locked --features dynostore` or run .ci/run",
                tansu_binary()
            )
        });
        assert!(
            wait_for_port(port, Duration::from_secs(20)),
            "tansu did not listen on {port}; see {}",
            log.display()
        );
        Tansu {
            child,
            bootstrap: format!("127.0.0.1:{port}"),
            log,
        }
    }

    /// Creates a SASL/SCRAM user on the broker with Tansu's CLI (`mechanism`: `scram256`
    /// or `scram512`). Tansu checks SCRAM credentials whenever a client authenticates,
    /// even without `--authentication`.
    pub fn create_scram_user(&self, name: &str, password: &str, mechanism: &str) {
        let out = Command::new(tansu_binary())
            .args([
                "user",
                "create",
                name,
                password,
                "--mechanism",
                mechanism,
                "--broker",
            ])
            .arg(format!("tcp://{}", self.bootstrap))
            .output()
            .expect("run tansu user create");
        assert!(
            out.status.success(),
            "tansu user create {name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// One broker shared by every test of this test binary (it dies with the process).
    pub fn shared() -> &'static Tansu {
        static BROKER: OnceLock<Tansu> = OnceLock::new();
        BROKER.get_or_init(Tansu::start)
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let consumer: BaseConsumer = self.client().create().expect("metadata client");
        while Instant::now() < deadline {
            if consumer.fetch_metadata(None, Duration::from_secs(2)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "tansu did not answer metadata requests; see {}",
            self.log.display()
        );
    }

    /// A client config pointing at this broker.
    pub fn client(&self) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.bootstrap);
        c
    }

    /// Creates a topic (ignores "already exists").
    pub async fn create_topic(&self, name: &str, partitions: i32, configs: &[(&str, &str)]) {
        let admin: AdminClient<DefaultClientContext> = self.client().create().expect("admin client");
        let mut topic = NewTopic::new(name, partitions, TopicReplication::Fixed(1));
        for (k, v) in configs {
            topic = topic.set(k, v);
        }
        let res = admin
            .create_topics([&topic], &AdminOptions::new())
            .await
            .expect("create_topics request");
        for r in res {
            if let Err((t, code)) = r {
                assert_eq!(
                    code,
                    rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists,
                    "creating {t} failed"
                );
            }
        }
    }

    /// Sends `(key, value)` records and waits for each acknowledgement.
    pub async fn produce(&self, topic: &str, records: &[KeyValue<'_>]) {
        let producer: FutureProducer = self.client().create().expect("producer");
        for (k, v) in records {
            let mut r: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic);
            if let Some(k) = k {
                r = r.key(*k);
            }
            if let Some(v) = v {
                r = r.payload(*v);
            }
            producer
                .send(r, Duration::from_secs(10))
                .await
                .map_err(|(e, _)| e)
                .expect("produce");
        }
    }

    /// Reads every record of a topic from the beginning until `expected` arrived or `timeout` passed.
    pub fn consume(&self, topic: &str, expected: usize, timeout: Duration) -> Vec<ConsumedRecord> {
        let consumer: BaseConsumer = self
            .client()
            .set("group.id", format!("ferry-test-reader-{}", free_port()))
            .set("enable.auto.commit", "false")
            .create()
            .expect("consumer");
        let deadline = Instant::now() + timeout;
        let partitions = loop {
            let md = consumer
                .fetch_metadata(Some(topic), Duration::from_secs(5))
                .expect("metadata");
            let n = md
                .topics()
                .iter()
                .find(|t| t.name() == topic)
                .map_or(0, |t| t.partitions().len());
            if n > 0 || Instant::now() > deadline {
                break n;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions as i32 {
            tpl.add_partition_offset(topic, p, Offset::Beginning)
                .expect("tpl");
        }
        let mut out = Vec::new();
        if partitions == 0 {
            return out;
        }
        consumer.assign(&tpl).expect("assign");
        while out.len() < expected && Instant::now() < deadline {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
                out.push(to_record(&m));
            }
        }
        out
    }
}

impl Tansu {
    /// Reads every record of a topic until none arrives for 1.5 s.
    ///
    /// Tansu 0.6's high watermark is wrong for produce batches of several records
    /// (see docs/compatibility.md), so this does not trust watermarks.
    pub fn consume_to_end(&self, topic: &str) -> Vec<ConsumedRecord> {
        let mut out = self.consume_until_idle(topic, Duration::from_millis(1500));
        out.sort_by_key(|r| (r.partition, r.offset));
        out
    }

    /// Reads every record of a topic until none arrives for `idle`.
    pub fn consume_until_idle(&self, topic: &str, idle: Duration) -> Vec<ConsumedRecord> {
        self.consume_until_idle_within(topic, idle, Duration::from_secs(600))
    }

    /// Like [`Tansu::consume_until_idle`], but stops after `max` in any case: for a topic
    /// that a running worker keeps writing to (offsets, heartbeats), so it is never idle.
    pub fn consume_until_idle_within(
        &self,
        topic: &str,
        idle: Duration,
        max: Duration,
    ) -> Vec<ConsumedRecord> {
        let until = Instant::now() + max;
        let consumer: BaseConsumer = self
            .client()
            .set("group.id", format!("ferry-test-reader-{}", free_port()))
            .create()
            .expect("consumer");
        let md = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(10))
            .expect("metadata");
        let partitions = md
            .topics()
            .iter()
            .find(|t| t.name() == topic)
            .map_or(0, |t| t.partitions().len());
        let mut out = Vec::new();
        if partitions == 0 {
            return out;
        }
        let mut tpl = TopicPartitionList::new();
        for p in 0..partitions as i32 {
            tpl.add_partition_offset(topic, p, Offset::Beginning)
                .expect("tpl");
        }
        consumer.assign(&tpl).expect("assign");
        // The first fetch takes a while after assign: count idle time only from then on.
        let first_fetch = Duration::from_millis(1500);
        let mut last = Instant::now() + first_fetch.saturating_sub(idle);
        // `elapsed` is zero while `last` lies in the future.
        while last.elapsed() < idle && Instant::now() < until {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(100)) {
                out.push(to_record(&m));
                last = Instant::now();
            }
        }
        out
    }
}

fn to_record(m: &rdkafka::message::BorrowedMessage<'_>) -> ConsumedRecord {
    let headers = m
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                .collect()
        })
        .unwrap_or_default();
    ConsumedRecord {
        partition: m.partition(),
        offset: m.offset(),
        key: m.key().map(<[u8]>::to_vec),
        value: m.payload().map(<[u8]>::to_vec),
        headers,
        timestamp: m.timestamp().to_millis(),
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A record to produce: optional key and value bytes.
pub type KeyValue<'a> = (Option<&'a [u8]>, Option<&'a [u8]>);

/// A record read back by [`Tansu::consume`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumedRecord {
    /// The partition it was read from.
    pub partition: i32,
    /// Its offset in that partition.
    pub offset: i64,
    /// The key bytes.
    pub key: Option<Vec<u8>>,
    /// The value bytes (`None` for a tombstone).
    pub value: Option<Vec<u8>>,
    /// Headers in order, with their value bytes.
    pub headers: Vec<(String, Option<Vec<u8>>)>,
    /// The record's timestamp in epoch milliseconds.
    pub timestamp: Option<i64>,
}

impl ConsumedRecord {
    /// The value as UTF-8 text.
    pub fn value_str(&self) -> Option<&str> {
        self.value.as_deref().and_then(|v| std::str::from_utf8(v).ok())
    }
    /// The key as UTF-8 text.
    pub fn key_str(&self) -> Option<&str> {
        self.key.as_deref().and_then(|v| std::str::from_utf8(v).ok())
    }
    /// The last header with `key`, as text.
    pub fn header_str(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref())
            .and_then(|v| std::str::from_utf8(v).ok())
    }
}

/// A TLS listener (socat, with a self-signed certificate for 127.0.0.1 made by openssl)
/// forwarding to a plain TCP address: Tansu 0.6.0's `--cert` and `--key` cannot be given
/// together, so TLS to the broker is tested through it. Killed when dropped.
pub struct TlsListener {
    child: Child,
    /// The listening port.
    pub port: u16,
    /// The CA (PEM) that signed the certificate the listener presents, to trust.
    pub ca_pem: std::path::PathBuf,
    /// A client certificate the same CA signed (PEM), for listeners requiring one.
    pub client_cert_pem: std::path::PathBuf,
    /// The client certificate's private key (unencrypted PEM).
    pub client_key_pem: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

impl TlsListener {
    /// Makes a CA and a certificate it signs for `127.0.0.1`, and listens on `port`,
    /// forwarding to `target`.
    pub fn start(port: u16, target: &str) -> TlsListener {
        Self::launch(port, target, false)
    }

    /// As [`TlsListener::start`], but clients must present a certificate the same CA
    /// signed (mutual TLS); [`TlsListener::client_cert_pem`] is one.
    pub fn start_requiring_client_certificates(port: u16, target: &str) -> TlsListener {
        Self::launch(port, target, true)
    }

    fn launch(port: u16, target: &str, require_client_certificate: bool) -> TlsListener {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = |name: &str| dir.path().join(name).display().to_string();
        let (ca, ca_key, csr) = (path("ca.pem"), path("ca-key.pem"), path("leaf.csr"));
        let (cert, key, ext) = (path("leaf.pem"), path("leaf-key.pem"), path("leaf.ext"));
        std::fs::write(
            &ext,
            "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .expect("write the extensions file");
        let (client_cert, client_key, client_csr, client_ext) = (
            path("client.pem"),
            path("client-key.pem"),
            path("client.csr"),
            path("client.ext"),
        );
        std::fs::write(
            &client_ext,
            "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
        )
        .expect("write the extensions file");
        // A key and its signing request; a certificate the CA signs from a request.
        fn request<'a>(subject: &'a str, key: &'a str, csr: &'a str) -> Vec<&'a str> {
            vec![
                "req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", key, "-out", csr,
            ]
        }
        fn sign<'a>(ca: &'a str, ca_key: &'a str, csr: &'a str, ext: &'a str, out: &'a str) -> Vec<&'a str> {
            vec![
                "x509",
                "-req",
                "-in",
                csr,
                "-CA",
                ca,
                "-CAkey",
                ca_key,
                "-CAcreateserial",
                "-days",
                "2",
                "-extfile",
                ext,
                "-out",
                out,
            ]
        }
        let steps: [Vec<&str>; 5] = [
            vec![
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=ferry test CA",
                "-keyout",
                &ca_key,
                "-out",
                &ca,
            ],
            request("/CN=127.0.0.1", &key, &csr),
            sign(&ca, &ca_key, &csr, &ext, &cert),
            request("/CN=ferry worker", &client_key, &client_csr),
            sign(&ca, &ca_key, &client_csr, &client_ext, &client_cert),
        ];
        for args in steps {
            let made = Command::new("openssl")
                .args(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("run openssl (scripts/setup.sh socat installs it)");
            assert!(made.success(), "openssl {} failed", args.join(" "));
        }
        let verify = if require_client_certificate {
            format!("verify=1,cafile={ca}")
        } else {
            "verify=0".to_owned()
        };
        let listen =
            format!("OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,{verify},cert={cert},key={key}");
        let mut cmd = Command::new("socat");
        cmd.arg(listen)
            .arg(format!("TCP:{target}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start socat ({e}); install it with scripts/setup.sh socat"));
        assert!(
            wait_for_port(port, Duration::from_secs(10)),
            "socat did not listen on {port}"
        );
        TlsListener {
            child,
            port,
            ca_pem: std::path::PathBuf::from(ca),
            client_cert_pem: std::path::PathBuf::from(client_cert),
            client_key_pem: std::path::PathBuf::from(client_key),
            _dir: dir,
        }
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
