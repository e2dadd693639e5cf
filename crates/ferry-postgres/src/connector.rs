//! The connector: configuration, validation and its single task.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use ferry_core::config::ConfigValueInfo;
use ferry_core::{
    ConfigDef, ConfigMap, ConnectError, Connector, ConnectorContext, SourceConnector, SourceTask,
};

use crate::config::{config_def, PostgresConfig};
use crate::error::PgError;
use crate::task::PostgresSourceTask;
use regex::Regex;
use tracing::error;

/// `io.debezium.connector.postgresql.PostgresConnector`.
#[derive(Default)]
pub struct PostgresConnector {
    config: Option<ConfigMap>,
}

/// A config provider variable, `${provider:[path:]key}` (Kafka's `ConfigTransformer`
/// pattern).
static PROVIDER_VARIABLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}").expect("variable pattern"));

/// Debezium's `PostgresConnector.validateConnection`: the error to report on
/// `database.hostname`, if the database cannot be reached or queried within
/// `connection.validation.timeout.ms`.
///
/// Blocks: the runtime calls `validate` from a blocking thread. The check runs on a
/// thread of its own with a current-thread runtime, so it works the same with or without
/// a surrounding runtime (and with a current-thread one, whose I/O a blocking thread's
/// `Handle::block_on` could not drive).
fn validate_connection(config: &ConfigMap) -> Option<String> {
    if config
        .iter()
        .any(|(k, v)| k.starts_with("database.") && PROVIDER_VARIABLE.is_match(v))
    {
        // The runtime resolves config provider variables before validating, as Connect
        // does; one still here could not be resolved (an unknown provider, a file not
        // readable yet). Testing with it would refuse the config for the wrong reason, so
        // the test is left to the task, which reports the provider's error.
        return None;
    }
    let cfg = PostgresConfig::parse(config).ok()?;
    let timeout_ms = config
        .get("connection.validation.timeout.ms")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .unwrap_or(60_000);
    let check = move || -> Option<String> {
        let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt,
            Err(e) => return Some(format!("Error during connection validation: {e}")),
        };
        rt.block_on(async {
            let limit = Duration::from_millis(timeout_ms);
            match tokio::time::timeout(limit, crate::task::connect::check_connection(&cfg)).await {
                Ok(Ok(())) => None,
                Ok(Err(e)) => {
                    error!(
                        "Failed testing connection for {}:{}/{} with user '{}': {e}",
                        cfg.hostname, cfg.port, cfg.dbname, cfg.user
                    );
                    Some(format!(
                        "Error while validating connector config: {}",
                        describe(&e)
                    ))
                }
                Err(_) => Some(format!("Connection validation timed out after {timeout_ms} ms")),
            }
        })
    };
    match std::thread::Builder::new()
        .name("postgres-connection-validation".into())
        .spawn(check)
    {
        Ok(handle) => handle
            .join()
            .unwrap_or_else(|_| Some("Error during connection validation: the check panicked".into())),
        Err(e) => Some(format!("Error during connection validation: {e}")),
    }
}

/// The error with the server's own message (`FATAL: password authentication failed for
/// user "x"`, as pgjdbc shows it) where tokio-postgres' text is only "db error".
fn describe(e: &PgError) -> String {
    match e {
        PgError::Sql { context, source } => match source.as_db_error() {
            Some(db) => format!(
                "{context}: {}: {} (SQLSTATE {})",
                db.severity(),
                db.message(),
                db.code().code()
            ),
            None => e.to_string(),
        },
        _ => e.to_string(),
    }
}

/// Factory used by [`crate::plugins`].
pub fn new_connector() -> Box<dyn SourceConnector> {
    Box::new(PostgresConnector::default())
}

#[async_trait]
impl Connector for PostgresConnector {
    fn version(&self) -> String {
        crate::DEBEZIUM_VERSION.to_string()
    }

    fn task_class(&self) -> Option<&'static str> {
        Some("io.debezium.connector.postgresql.PostgresConnectorTask")
    }

    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn validate(&self, config: &ConfigMap) -> Vec<ConfigValueInfo> {
        let mut infos = crate::config::validate(config);
        // Debezium's RelationalBaseSourceConnector.validate: the connection is tested
        // only when no value has an error.
        if infos.iter().all(|i| i.errors.is_empty()) {
            if let Some(error) = validate_connection(config) {
                if let Some(host) = infos.iter_mut().find(|i| i.name == "database.hostname") {
                    host.errors.push(error);
                }
            }
        }
        infos
    }

    async fn start(
        &mut self,
        config: &ConfigMap,
        _ctx: Arc<dyn ConnectorContext>,
    ) -> Result<(), ConnectError> {
        PostgresConfig::parse(config).map_err(|errs| {
            ConnectError::config(errs.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))
        })?;
        self.config = Some(config.clone());
        Ok(())
    }

    fn task_configs(&self, _max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        // Debezium's PostgreSQL connector always runs exactly one task.
        Ok(vec![self.config.clone().unwrap_or_default()])
    }

    async fn stop(&mut self) -> Result<(), ConnectError> {
        Ok(())
    }
}

impl SourceConnector for PostgresConnector {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(PostgresSourceTask::new())
    }
}
