//! Debezium's single message transforms for Ferry: the outbox `EventRouter` and
//! `ExtractNewRecordState`, behaving as Debezium 3.x does on the same records.

#![warn(missing_docs)]

pub mod envelope;
pub mod outbox;
pub mod unwrap;
mod util;

use ferry_core::{PluginDescriptor, PluginFactory, Transformation};

pub use outbox::EventRouter;
pub use unwrap::ExtractNewRecordState;

fn event_router() -> Box<dyn Transformation> {
    Box::new(EventRouter::new())
}

fn extract_new_record_state() -> Box<dyn Transformation> {
    Box::new(ExtractNewRecordState::new())
}

/// The transforms of this crate, registered under their Debezium class names.
pub fn plugins() -> Vec<PluginDescriptor> {
    vec![
        PluginDescriptor {
            class: outbox::CLASS,
            version: ferry_core::versions::DEBEZIUM,
            factory: PluginFactory::Transformation(event_router),
        },
        PluginDescriptor {
            class: unwrap::CLASS,
            version: ferry_core::versions::DEBEZIUM,
            factory: PluginFactory::Transformation(extract_new_record_state),
        },
    ]
}

#[cfg(test)]
mod tests {
    use ferry_core::versions::DEBEZIUM;

    #[test]
    fn every_plugin_reports_the_emulated_debezium_version() {
        let plugins = super::plugins();
        assert_eq!(plugins.len(), 2);
        for p in plugins {
            assert_eq!(p.version, DEBEZIUM, "{}", p.class);
        }
    }
}
