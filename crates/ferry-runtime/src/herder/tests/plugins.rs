//! Test connectors: quiet ones, one whose start fails, ones whose connector or task
//! `stop()` never returns.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use ferry_core::config::ConfigDef;
use ferry_core::{
    ConfigMap, ConnectError, Connector, ConnectorContext, PluginDescriptor, PluginFactory, PluginRegistry,
    Record, SourceConnector, SourceTask, SourceTaskContext,
};

/// How many connector instances have been stopped (by any test; compare differences).
pub(super) static STOPPED: AtomicUsize = AtomicUsize::new(0);

/// A source connector with `tasks.max` tasks that produce nothing.
#[derive(Default)]
struct QuietSource {
    config: ConfigMap,
}

#[async_trait]
impl Connector for QuietSource {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    async fn start(
        &mut self,
        config: &ConfigMap,
        _ctx: Arc<dyn ConnectorContext>,
    ) -> Result<(), ConnectError> {
        self.config = config.clone();
        Ok(())
    }
    fn task_configs(&self, max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        let generation = self.config.get("generation").cloned().unwrap_or_default();
        Ok((0..max_tasks)
            .map(|i| {
                [
                    ("n".to_owned(), i.to_string()),
                    ("generation".to_owned(), generation.clone()),
                ]
                .into_iter()
                .collect()
            })
            .collect())
    }
    async fn stop(&mut self) -> Result<(), ConnectError> {
        STOPPED.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

impl SourceConnector for QuietSource {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(QuietTask { hang_on_stop: false })
    }
}

/// A source task that waits for records that never come.
struct QuietTask {
    hang_on_stop: bool,
}

#[async_trait]
impl SourceTask for QuietTask {
    async fn start(&mut self, _config: &ConfigMap, _ctx: SourceTaskContext) -> Result<(), ConnectError> {
        Ok(())
    }
    async fn poll(&mut self) -> Result<Vec<Record>, ConnectError> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Ok(Vec::new())
    }
    async fn stop(&mut self) -> Result<(), ConnectError> {
        if self.hang_on_stop {
            std::future::pending::<()>().await;
        }
        Ok(())
    }
}

/// A connector whose `stop()` never returns.
struct HungStopSource;

#[async_trait]
impl Connector for HungStopSource {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    async fn start(
        &mut self,
        _config: &ConfigMap,
        _ctx: Arc<dyn ConnectorContext>,
    ) -> Result<(), ConnectError> {
        Ok(())
    }
    fn task_configs(&self, _max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        Ok(Vec::new())
    }
    async fn stop(&mut self) -> Result<(), ConnectError> {
        std::future::pending().await
    }
}

impl SourceConnector for HungStopSource {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(QuietTask { hang_on_stop: false })
    }
}

/// A connector with one task whose `stop()` never returns.
#[derive(Default)]
struct HungTaskSource(QuietSource);

#[async_trait]
impl Connector for HungTaskSource {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    async fn start(
        &mut self,
        config: &ConfigMap,
        ctx: Arc<dyn ConnectorContext>,
    ) -> Result<(), ConnectError> {
        self.0.start(config, ctx).await
    }
    fn task_configs(&self, max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        self.0.task_configs(max_tasks)
    }
    async fn stop(&mut self) -> Result<(), ConnectError> {
        Ok(())
    }
}

impl SourceConnector for HungTaskSource {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(QuietTask { hang_on_stop: true })
    }
}

/// A connector whose `start()` fails.
struct FailingSource;

#[async_trait]
impl Connector for FailingSource {
    fn config_def(&self) -> ConfigDef {
        ConfigDef::new()
    }
    async fn start(
        &mut self,
        _config: &ConfigMap,
        _ctx: Arc<dyn ConnectorContext>,
    ) -> Result<(), ConnectError> {
        Err(ConnectError::fatal("database unreachable at db:5432"))
    }
    fn task_configs(&self, _max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        Ok(Vec::new())
    }
    async fn stop(&mut self) -> Result<(), ConnectError> {
        Ok(())
    }
}

impl SourceConnector for FailingSource {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(QuietTask { hang_on_stop: false })
    }
}

/// A source connector plugin.
fn source(class: &'static str, make: fn() -> Box<dyn SourceConnector>) -> PluginDescriptor {
    PluginDescriptor {
        class,
        version: "test",
        factory: PluginFactory::Source(make),
    }
}

/// The converters and the test connectors.
pub(super) fn registry() -> PluginRegistry {
    let mut r = PluginRegistry::new();
    r.register(ferry_converters::plugins()).register([
        source("test.QuietSource", || Box::<QuietSource>::default()),
        source("test.HungStopSource", || Box::new(HungStopSource)),
        source("test.HungTaskSource", || Box::<HungTaskSource>::default()),
        source("test.FailingSource", || Box::new(FailingSource)),
    ]);
    r
}
