//! `io.debezium.transforms.tracing.ActivateTracingSpan`: Debezium's transform records
//! OpenTelemetry spans for change events and puts the trace context in the record's
//! headers, leaving value and topic as they are. Ferry has no OpenTelemetry SDK, so it
//! behaves as Debezium does with the OpenTelemetry API but no SDK configured (a no-op
//! propagator): the settings are read and every record passes unchanged.

use ferry_core::config::Width;
use ferry_core::{
    ConfigDef, ConfigError, ConfigMap, ConfigType, ConnectError, Importance, Record, Transformation,
};

use crate::util;

/// Java class name of the transform.
pub const CLASS: &str = "io.debezium.transforms.tracing.ActivateTracingSpan";

const CONTEXT_FIELD: &str = "tracing.span.context.field";
const OPERATION_NAME: &str = "tracing.operation.name";
const CONTEXT_FIELD_ONLY: &str = "tracing.with.context.field.only";

/// The tracing transform.
#[derive(Debug, Default)]
pub struct ActivateTracingSpan;

fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            util::debezium_field(CONTEXT_FIELD, ConfigType::String, "Serialized tracing span context field")
                .default_value("tracingspancontext")
                .width(Width::Short)
                .importance(Importance::Low)
                .doc("The name of the field containing java.util.Properties representation of serialized span context."),
        )
        .define(
            util::debezium_field(OPERATION_NAME, ConfigType::String, "Tracing operation name")
                .default_value("debezium-read")
                .width(Width::Short)
                .importance(Importance::Low)
                .doc("The operation name representing Debezium processing span."),
        )
        .define(
            util::debezium_field(CONTEXT_FIELD_ONLY, ConfigType::Boolean, "Trace only events with context field present")
                .default_value("false")
                .width(Width::Short)
                .importance(Importance::Low)
                .doc("Set to true when only events that have serialized context field should be traced."),
        )
}

impl Transformation for ActivateTracingSpan {
    fn config_def(&self) -> ConfigDef {
        config_def()
    }

    fn configure(&mut self, config: &ConfigMap) -> Result<(), ConfigError> {
        config_def().parse(config)?;
        tracing::info!("ActivateTracingSpan: no OpenTelemetry SDK in Ferry, records pass unchanged and no spans are recorded");
        Ok(())
    }

    fn apply(&mut self, record: Record) -> Result<Option<Record>, ConnectError> {
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked_and_records_pass_unchanged() {
        let mut t = ActivateTracingSpan;
        let mut bad = ConfigMap::new();
        bad.insert(CONTEXT_FIELD_ONLY.into(), "maybe".into());
        assert!(t.configure(&bad).is_err());
        t.configure(&ConfigMap::new()).unwrap();
        let r = Record::new("t", None, ferry_core::Value::String("v".into()));
        let out = t.apply(r).unwrap().unwrap();
        assert_eq!(out.value, ferry_core::Value::String("v".into()));
        assert_eq!(&*out.topic, "t");
    }
}
