//! `io.debezium.transforms.openlineage.OpenLineage`: Debezium's transform reports each new
//! topic or value schema as an OpenLineage output dataset and never changes a record.
//! Ferry has no OpenLineage client, so, like Debezium without the OpenLineage client on
//! its plugin path (its emitter is then a no-op), it hands every record on unchanged and
//! emits nothing.

use ferry_core::{ConfigDef, ConfigError, ConfigMap, ConnectError, Record, Transformation};

/// Java class name of the transform.
pub const CLASS: &str = "io.debezium.transforms.openlineage.OpenLineage";

/// The OpenLineage transform (no settings).
#[derive(Debug, Default)]
pub struct OpenLineage;

impl Transformation for OpenLineage {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }

    fn configure(&mut self, _config: &ConfigMap) -> Result<(), ConfigError> {
        tracing::info!("OpenLineage transform: records pass unchanged; Ferry emits no lineage events");
        Ok(())
    }

    fn apply(&mut self, record: Record) -> Result<Option<Record>, ConnectError> {
        Ok(Some(record))
    }
}
