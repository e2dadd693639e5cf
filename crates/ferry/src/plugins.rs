//! Every built-in plugin, registered under its Java class name.

use ferry_core::PluginRegistry;

/// The registry of all plugins Ferry ships.
pub fn registry() -> PluginRegistry {
    let mut r = PluginRegistry::new();
    r.register(ferry_file::plugins())
        .register(ferry_postgres::plugins())
        .register(ferry_converters::plugins())
        .register(ferry_transforms::plugins())
        .register(ferry_debezium_transforms::plugins());
    r
}
