//! The whole pipeline on one machine, for the demo and the end-to-end test: a
//! private PostgreSQL 15 (`wal_level=logical`), a Tansu broker, `ferry distributed`,
//! the seed's connector, and the two services as child processes.

pub mod child;
pub mod ferry;
pub mod namespace;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use ferry_test_support::kafka::Tansu;
use ferry_test_support::postgres::PgCluster;
use serde::Deserialize;
use serde_json::Value;

pub use child::Service;
use ferry::Rest;

/// The `name` of a connector file.
fn connector_name(json: &str) -> String {
    serde_json::from_str::<Value>(json)
        .ok()
        .and_then(|v| v["name"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A lab step that went wrong (one line saying what).
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    #[error("{0}")]
    Step(String),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    #[error("database: {0}")]
    Db(#[from] tokio_postgres::Error),
}

/// The executables the lab runs.
#[derive(Clone, Debug)]
pub struct Binaries {
    pub ferry: PathBuf,
    pub order_service: PathBuf,
    pub notification_consumer: PathBuf,
}

impl Binaries {
    /// The binaries in cargo's output directory `dir` (e.g. `target/debug`).
    pub fn in_dir(dir: &Path) -> Binaries {
        Binaries {
            ferry: dir.join("ferry"),
            order_service: dir.join("order-service"),
            notification_consumer: dir.join("notification-consumer"),
        }
    }

    /// Those that do not exist.
    pub fn missing(&self) -> Vec<&Path> {
        [&self.ferry, &self.order_service, &self.notification_consumer]
            .into_iter()
            .filter(|p| !p.is_file())
            .map(PathBuf::as_path)
            .collect()
    }
}

/// Cargo's output directory of the running executable (`target/debug`, also for
/// test binaries in `target/debug/deps`).
pub fn cargo_out_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current executable");
    let dir = exe.parent().expect("executable directory").to_path_buf();
    if dir.ends_with("deps") {
        dir.parent().expect("deps parent").to_path_buf()
    } else {
        dir
    }
}

/// `cargo build -p ferry` and `cargo build -p outbox-lab --bins` in this workspace
/// (quick when up to date). Two invocations, not one: building both packages
/// together unifies their dependencies' features differently and would relink
/// (replace) the running demo binary.
pub fn cargo_build_binaries() -> Result<(), LabError> {
    cargo_build(&["-p", "ferry"])?;
    cargo_build(&["-p", "outbox-lab", "--bins"])
}

/// `cargo build --quiet ARGS` in this workspace.
pub fn cargo_build(args: &[&str]) -> Result<(), LabError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.toml");
    let status = Command::new(&cargo)
        .args(["build", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .args(args)
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(LabError::Step(format!("cargo build {args:?} failed ({status})")))
    }
}

/// Where the connector finds PostgreSQL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// Inside a private network namespace where `postgres` is 127.0.0.1: PostgreSQL
    /// on 5432 and the seed's connector JSON posted verbatim.
    PrivateNamespace,
    /// On the machine's network: PostgreSQL on a free port, and the connector JSON
    /// posted with `database.hostname`/`database.port` patched to reach it.
    Host,
}

/// Lab settings.
#[derive(Clone, Debug)]
pub struct LabOptions {
    pub binaries: Binaries,
    pub network: Network,
}

/// A running lab; everything stops when it is dropped.
pub struct Lab {
    pub rest: Rest,
    pub ferry: Service,
    pub broker: Tansu,
    pub pg: PgCluster,
    pub binaries: Binaries,
    pub network: Network,
    dir: tempfile::TempDir,
}

/// One run of the order service.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct OrderRun {
    /// `committed` or `rolled_back`.
    pub outcome: String,
    pub order_id: i64,
    pub event_id: Option<String>,
    pub payload: Option<Value>,
}

impl Lab {
    /// Starts PostgreSQL (database `order_db` with schema.sql), Tansu and ferry;
    /// `progress` is told about each step before it starts.
    pub async fn start(opts: LabOptions, progress: &dyn Fn(&str)) -> Result<Lab, LabError> {
        let dir = tempfile::Builder::new().prefix("outbox-lab-").tempdir()?;
        let pg = match opts.network {
            Network::PrivateNamespace => {
                progress("PostgreSQL 15 (wal_level=logical) on postgres:5432");
                PgCluster::start_on(5432)
            }
            Network::Host => {
                progress("PostgreSQL 15 (wal_level=logical) on a free port");
                PgCluster::start()
            }
        };
        pg.create_database(crate::ORDER_DB).await;
        crate::apply_schema(&pg.connect(crate::ORDER_DB).await).await?;
        progress("Tansu broker (in memory)");
        let broker = Tansu::start();
        let rest_port = match opts.network {
            Network::PrivateNamespace => 8083,
            Network::Host => ferry_test_support::net::free_port(),
        };
        progress(&format!(
            "ferry distributed on http://127.0.0.1:{rest_port} (broker {})",
            broker.bootstrap
        ));
        let props = dir.path().join("worker.properties");
        std::fs::write(&props, ferry::worker_properties(&broker.bootstrap, rest_port))?;
        let mut cmd = Command::new(&opts.binaries.ferry);
        cmd.arg("distributed").arg(&props).env("RUST_LOG", "info");
        let ferry = Service::start("ferry", cmd, &dir.path().join("ferry.log"), None)?;
        let rest = Rest::new(rest_port);
        rest.wait_ready(Duration::from_secs(60)).await.map_err(|e| {
            LabError::Step(format!(
                "{e}; log {}:\n{}",
                ferry.log_path().display(),
                ferry.log_text()
            ))
        })?;
        Ok(Lab {
            rest,
            ferry,
            broker,
            pg,
            binaries: opts.binaries,
            network: opts.network,
            dir,
        })
    }

    /// The lab's working directory (logs, worker.properties).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Connection string of `order_db` as seen from this machine.
    pub fn order_db(&self) -> String {
        self.pg.conn_str(crate::ORDER_DB)
    }

    /// The connector JSON to post: the seed's verbatim in a private namespace,
    /// otherwise a copy pointing at this lab's PostgreSQL.
    pub fn connector_json(&self) -> String {
        self.connector_json_of(crate::CONNECTOR_JSON)
    }

    /// `json` (a `{"name", "config"}` connector file of this lab) as this lab posts it:
    /// verbatim in a private namespace, else pointing at this lab's PostgreSQL.
    pub fn connector_json_of(&self, json: &str) -> String {
        match self.network {
            Network::PrivateNamespace => json.to_owned(),
            Network::Host => {
                let mut v: Value = serde_json::from_str(json).expect("connector file is JSON");
                v["config"]["database.hostname"] = "127.0.0.1".into();
                v["config"]["database.port"] = self.pg.port().to_string().into();
                serde_json::to_string_pretty(&v).expect("JSON")
            }
        }
    }

    /// `POST /connectors` with connector file `json` (see [`Lab::connector_json_of`]),
    /// then waits until it runs.
    pub async fn register(&self, json: &str) -> Result<Value, LabError> {
        let body = self.connector_json_of(json);
        let name = connector_name(&body);
        let (code, answer) = self
            .rest
            .call(reqwest::Method::POST, "/connectors", Some(&body))
            .await?;
        if code != 201 {
            return Err(LabError::Step(format!(
                "POST /connectors ({name}) answered {code}: {answer}"
            )));
        }
        self.rest.wait_running(&name, Duration::from_secs(60)).await
    }

    /// `PUT /connectors/NAME/config` with the config of connector file `json`, then waits
    /// until the connector runs again.
    pub async fn reconfigure(&self, json: &str) -> Result<Value, LabError> {
        let body: Value = serde_json::from_str(&self.connector_json_of(json)).expect("JSON");
        let name = body["name"].as_str().unwrap_or_default().to_owned();
        let path = format!("/connectors/{name}/config");
        let config = body["config"].to_string();
        let (code, answer) = self.rest.call(reqwest::Method::PUT, &path, Some(&config)).await?;
        if code != 200 {
            return Err(LabError::Step(format!("PUT {path} answered {code}: {answer}")));
        }
        // The task restarts with the new config; give the old one time to stop.
        tokio::time::sleep(Duration::from_secs(1)).await;
        self.rest.wait_running(&name, Duration::from_secs(60)).await
    }

    /// `POST /connectors` with [`Lab::connector_json`], then waits until it runs.
    pub async fn register_connector(&self) -> Result<Value, LabError> {
        let (code, body) = self
            .rest
            .call(reqwest::Method::POST, "/connectors", Some(&self.connector_json()))
            .await?;
        if code != 201 {
            return Err(LabError::Step(format!(
                "POST /connectors answered {code}: {body}"
            )));
        }
        self.rest
            .wait_running(crate::CONNECTOR_NAME, Duration::from_secs(60))
            .await
    }

    /// Runs the order service once with `args` (e.g. `--customer bob --poison`).
    pub fn order_service(&self, args: &[&str]) -> Result<OrderRun, LabError> {
        let out = Command::new(&self.binaries.order_service)
            .arg("--db")
            .arg(self.order_db())
            .args(args)
            .output()?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(stdout.trim()).map_err(|_| {
            LabError::Step(format!(
                "order-service {args:?} failed ({}): {}{}",
                out.status,
                stdout,
                String::from_utf8_lossy(&out.stderr)
            ))
        })
    }

    /// Starts the notification consumer with extra `args`; `hook` sees each report line.
    pub fn start_consumer(
        &self,
        run: usize,
        args: &[&str],
        hook: Option<child::LineHook>,
    ) -> Result<Service, LabError> {
        let mut cmd = Command::new(&self.binaries.notification_consumer);
        cmd.arg("--bootstrap")
            .arg(&self.broker.bootstrap)
            .arg("--db")
            .arg(self.order_db())
            .args(args)
            .env(
                "RUST_LOG",
                std::env::var("CONSUMER_LOG").unwrap_or_else(|_| "info,rdkafka=warn".into()),
            );
        let log = self.dir.path().join(format!("consumer-{run}.log"));
        Ok(Service::start(&format!("consumer-{run}"), cmd, &log, hook)?)
    }

    /// Stops ferry gracefully (SIGTERM); the broker and PostgreSQL stop when dropped.
    pub fn stop(mut self) {
        self.ferry.stop(Duration::from_secs(15));
    }
}
