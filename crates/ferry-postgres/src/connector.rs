//! The connector: configuration, validation and its single task.

use std::sync::Arc;

use async_trait::async_trait;
use ferry_core::config::ConfigValueInfo;
use ferry_core::{
    ConfigDef, ConfigMap, ConnectError, Connector, ConnectorContext, SourceConnector, SourceTask,
};

use crate::config::{config_def, PostgresConfig};
use crate::task::PostgresSourceTask;

/// `io.debezium.connector.postgresql.PostgresConnector`.
#[derive(Default)]
pub struct PostgresConnector {
    config: Option<ConfigMap>,
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
        crate::config::validate(config)
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
