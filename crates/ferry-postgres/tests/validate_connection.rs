//! `PostgresConnector::validate` tests the connection as Debezium 3.6's
//! `PostgresConnector.validateConnection` does: only when no value has an error, with
//! the failure on `database.hostname`, bounded by `connection.validation.timeout.ms`.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use ferry_core::config::ConfigValueInfo;
use ferry_core::{ConfigMap, Connector};
use ferry_postgres::connector::PostgresConnector;
use ferry_test_support::postgres::PgCluster;

const PREFIX: &str = "Error while validating connector config: ";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A database on the shared cluster and a config for it (no runtime left running).
fn good_config(db: &str) -> (ConfigMap, &'static PgCluster) {
    let pg = PgCluster::shared();
    let db = runtime().block_on(pg.create_database(db));
    (common::config(pg, &db, "validate_slot", &[]), pg)
}

fn errors(infos: &[ConfigValueInfo]) -> Vec<(String, String)> {
    infos
        .iter()
        .flat_map(|i| i.errors.iter().map(move |e| (i.name.clone(), e.clone())))
        .collect()
}

fn host_errors(infos: &[ConfigValueInfo]) -> Vec<String> {
    infos
        .iter()
        .find(|i| i.name == "database.hostname")
        .expect("database.hostname is listed")
        .errors
        .clone()
}

#[test]
fn a_reachable_database_adds_nothing() {
    let (cfg, _) = good_config("validate_good");
    let infos = PostgresConnector::default().validate(&cfg);
    assert_eq!(errors(&infos), Vec::<(String, String)>::new());
}

#[tokio::test(flavor = "current_thread")]
async fn from_a_blocking_thread_of_a_current_thread_runtime() {
    // The runtime calls validate inside spawn_blocking; a current-thread runtime must not
    // make the check hang.
    let pg = PgCluster::shared();
    let db = pg.create_database("validate_blocking").await;
    let cfg = common::config(pg, &db, "validate_slot", &[]);
    let infos = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::task::spawn_blocking(move || PostgresConnector::default().validate(&cfg)),
    )
    .await
    .expect("validate returns")
    .unwrap();
    assert_eq!(errors(&infos), Vec::<(String, String)>::new());
}

#[test]
fn a_wrong_password_is_reported_on_database_hostname() {
    let (mut cfg, pg) = good_config("validate_password");
    cfg.insert("database.password".into(), "wrong".into());
    let infos = PostgresConnector::default().validate(&cfg);
    let all = errors(&infos);
    assert_eq!(all.len(), 1, "{all:?}");
    let msg = &host_errors(&infos)[0];
    assert!(msg.starts_with(PREFIX), "{msg}");
    assert!(
        msg.contains("password authentication failed for user \"postgres\""),
        "{msg}"
    );
    assert!(msg.contains(&format!("127.0.0.1:{}", pg.port())), "{msg}");
}

#[test]
fn a_closed_port_is_reported_on_database_hostname() {
    let (mut cfg, _) = good_config("validate_closed");
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    cfg.insert("database.port".into(), port.to_string());
    let started = Instant::now();
    let infos = PostgresConnector::default().validate(&cfg);
    assert!(started.elapsed() < Duration::from_secs(20));
    let all = errors(&infos);
    assert_eq!(all.len(), 1, "{all:?}");
    let msg = &host_errors(&infos)[0];
    assert!(msg.starts_with(PREFIX), "{msg}");
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    // The cause, not only tokio-postgres' "error connecting to server".
    assert!(msg.contains("refused"), "{msg}");
}

#[test]
fn a_server_that_never_answers_times_out() {
    let (mut cfg, _) = good_config("validate_silent");
    // Accepted by the kernel's backlog, never answered.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    cfg.insert(
        "database.port".into(),
        silent.local_addr().unwrap().port().to_string(),
    );
    cfg.insert("connection.validation.timeout.ms".into(), "700".into());
    let started = Instant::now();
    let infos = PostgresConnector::default().validate(&cfg);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(
        host_errors(&infos),
        ["Connection validation timed out after 700 ms"]
    );
    assert_eq!(errors(&infos).len(), 1);
}

#[test]
fn a_user_without_replication_is_only_logged() {
    // Debezium 3.6's checkLoginReplicationRoles logs the missing roles, adds no error.
    let (mut cfg, pg) = good_config("validate_norepl");
    runtime().block_on(pg.create_user("validate_norepl", "secret", false));
    cfg.insert("database.user".into(), "validate_norepl".into());
    cfg.insert("database.password".into(), "secret".into());
    let infos = PostgresConnector::default().validate(&cfg);
    assert_eq!(errors(&infos), Vec::<(String, String)>::new());
}

#[test]
fn no_connection_test_while_a_value_has_an_error() {
    let (mut cfg, _) = good_config("validate_bad_value");
    cfg.insert("database.password".into(), "wrong".into());
    cfg.insert("snapshot.mode".into(), "sometimes".into());
    let infos = PostgresConnector::default().validate(&cfg);
    assert_eq!(host_errors(&infos), Vec::<String>::new());
    let all = errors(&infos);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].0, "snapshot.mode");
}

#[test]
fn config_provider_variables_leave_the_test_to_the_task() {
    // Ferry validates the config as written, before providers resolve it.
    let (mut cfg, _) = good_config("validate_provider");
    cfg.insert(
        "database.password".into(),
        "${file:/run/secrets/pg.properties:password}".into(),
    );
    let infos = PostgresConnector::default().validate(&cfg);
    assert_eq!(errors(&infos), Vec::<(String, String)>::new());
}
