//! Starting and stopping a worker: Kafka clients, internal topics (distributed) or the
//! offsets file (standalone), the group lease, the stored state, and the actor.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use ferry_core::ConfigMap;
use ferry_kafka::{ClientProps, KafkaAdmin, KafkaLog, TopicAdmin, TopicSpec};
use tokio::sync::{mpsc, oneshot};

use super::actor::{Actor, Command, Supervision};
use super::{Loggers, StartError, View, Worker};
use crate::engine::WorkerContext;
use crate::store::{ConfigState, ConfigStore, FileOffsetBackend, OffsetStore, StatusStore};
use crate::{Mode, WorkerConfig};

/// How long a stopping worker waits for its last statuses to be written.
const STATUS_FLUSH_LIMIT: Duration = Duration::from_secs(5);

/// Settings of the clients behind the internal topics: like Kafka Connect's backing
/// stores, they take the worker's top-level settings (those librdkafka knows).
fn internal_clients(config: &WorkerConfig) -> Result<ferry_kafka::ClientSettings, StartError> {
    const NOT_FOR_CLIENTS: &[&str] = &[
        "group.id",
        "client.id",
        "bootstrap.servers",
        "session.timeout.ms",
        "heartbeat.interval.ms",
        "rebalance.timeout.ms",
        "connect.protocol",
        "scheduled.rebalance.max.delay.ms",
        "worker.sync.timeout.ms",
        "worker.unsync.backoff.ms",
        "ferry.group.membership",
        "ferry.group.bootstrap.servers",
    ];
    let mut props = ClientProps::new();
    props.set("bootstrap.servers", config.bootstrap_servers.clone());
    for (k, v) in &config.originals {
        let prefixed = [
            "producer.",
            "consumer.",
            "admin.",
            "key.converter",
            "value.converter",
            "header.converter",
        ]
        .iter()
        .any(|p| k.starts_with(p));
        if !prefixed && !NOT_FOR_CLIENTS.contains(&k.as_str()) {
            props.set(k.clone(), v.clone());
        }
    }
    Ok(props.to_client_config("worker", "")?)
}

/// One internal topic: its name, layout, the setting naming it and what it holds.
struct InternalTopic<'a> {
    topic: &'a Option<String>,
    partitions: i32,
    replication_factor: i32,
    key: &'static str,
    purpose: &'static str,
}

/// The config, offset and status topics, as the worker configuration names them.
fn internal_topics(config: &WorkerConfig) -> [InternalTopic<'_>; 3] {
    [
        InternalTopic {
            topic: &config.config_storage_topic,
            partitions: 1,
            replication_factor: config.config_storage_replication_factor,
            key: "config.storage.topic",
            purpose: "connector configurations",
        },
        InternalTopic {
            topic: &config.offset_storage_topic,
            partitions: config.offset_storage_partitions,
            replication_factor: config.offset_storage_replication_factor,
            key: "offset.storage.topic",
            purpose: "source connector offsets",
        },
        InternalTopic {
            topic: &config.status_storage_topic,
            partitions: config.status_storage_partitions,
            replication_factor: config.status_storage_replication_factor,
            key: "status.storage.topic",
            purpose: "connector and task statuses",
        },
    ]
}

/// The three stores, read to their end.
pub(super) struct LoadedStores {
    /// Connector configs and target states.
    pub config: ConfigStore,
    /// What the config store held.
    pub state: ConfigState,
    /// Source offsets.
    pub offsets: Arc<OffsetStore>,
    /// Connector and task statuses, with their writer started.
    pub status: Arc<StatusStore>,
}

impl LoadedStores {
    /// Reads the three stores at once and starts the status writer.
    pub(super) async fn load(
        config: ConfigStore,
        offsets: OffsetStore,
        mut status: StatusStore,
    ) -> Result<LoadedStores, StartError> {
        let (state, offset_count, ()) = tokio::try_join!(config.load(), offsets.load(), status.load())?;
        status.start_writer();
        tracing::info!(
            connectors = state.connectors.len(),
            offsets = offset_count,
            generation = status.generation(),
            "read stored state"
        );
        Ok(LoadedStores {
            config,
            state,
            offsets: Arc::new(offsets),
            status: Arc::new(status),
        })
    }
}

impl Worker {
    /// Connects to Kafka, prepares the internal topics (distributed) or the offsets file
    /// (standalone), reads all state, and starts every connector in its target state.
    pub async fn start(
        config: WorkerConfig,
        mode: Mode,
        registry: ferry_core::PluginRegistry,
        loggers: Loggers,
    ) -> Result<Arc<Worker>, StartError> {
        let base = internal_clients(&config)?;
        let mut admin_cfg = base.clone();
        for (k, v) in config.with_prefix("admin.") {
            admin_cfg.set(k, v);
        }
        let admin = Arc::new(KafkaAdmin::new(&admin_cfg)?);
        let cluster_id = admin.cluster_id().await;
        let (config_store, offsets, status) = match mode {
            Mode::Distributed => {
                for t in internal_topics(&config) {
                    let topic = t
                        .topic
                        .as_deref()
                        .ok_or_else(|| StartError::Config(format!("{} is required", t.key)))?;
                    let rf = Some(t.replication_factor).filter(|r| *r > 0);
                    let spec = TopicSpec::compacted(topic, t.partitions, rf);
                    admin.ensure_internal_topic(&spec, t.key, t.purpose).await?;
                }
                // Refused before anything starts when the group member cannot honour it.
                super::group::settings(&config).map_err(StartError::Config)?;
                let log = |t: &Option<String>| KafkaLog::new(t.as_deref().unwrap_or_default(), &base, &base);
                (
                    ConfigStore::on_log(log(&config.config_storage_topic)?),
                    OffsetStore::new(Box::new(log(&config.offset_storage_topic)?)),
                    StatusStore::new(
                        Some(Arc::new(log(&config.status_storage_topic)?)),
                        config.worker_id.clone(),
                    ),
                )
            }
            Mode::Standalone => {
                let file = config
                    .offset_storage_file
                    .clone()
                    .ok_or_else(|| StartError::Config("offset.storage.file.filename is required".into()))?;
                (
                    ConfigStore::standalone(),
                    OffsetStore::new(Box::new(FileOffsetBackend::new(file))),
                    StatusStore::new(None, config.worker_id.clone()),
                )
            }
        };
        let stores = LoadedStores::load(config_store, offsets, status).await?;
        let ctx = Arc::new(WorkerContext {
            config,
            registry,
            offsets: stores.offsets,
            status: stores.status,
            admin,
            clients: ferry_kafka::KafkaClients::default(),
        });
        // A producer with its producer id ready before the first source task starts.
        match ctx.client_config("producer", &ConfigMap::new()) {
            Ok(cfg) => {
                if let Err(e) = ctx.clients.prepare_producer(&cfg) {
                    tracing::warn!("could not prepare a producer for source tasks: {e}");
                }
            }
            Err(e) => tracing::warn!("could not prepare a producer for source tasks: {e}"),
        }
        let supervision = Supervision::from_config(&ctx.config);
        Self::launch(ctx, stores.config, stores.state, loggers, cluster_id, supervision).await
    }

    /// Starts the actor over loaded stores (it starts every stored connector in its target
    /// state) and answers once it has.
    pub(super) async fn launch(
        ctx: Arc<WorkerContext>,
        config_store: ConfigStore,
        state: ConfigState,
        loggers: Loggers,
        cluster_id: Option<String>,
        supervision: Supervision,
    ) -> Result<Arc<Worker>, StartError> {
        let view = Arc::new(RwLock::new(View::default()));
        let store = Arc::new(config_store);
        let (actor, events) = Actor::new(ctx.clone(), store.clone(), view.clone(), state, supervision);
        let (tx, rx) = mpsc::channel(64);
        let group_mode = ctx.config.group.join_group && store.is_distributed();
        let (actor, group) = if group_mode {
            let g =
                super::group::start(&ctx.config, store.clone(), tx.clone()).map_err(StartError::Config)?;
            (actor.in_group(g.shared.clone()), Some(g))
        } else {
            (actor, None)
        };
        let handle = tokio::spawn(actor.run(rx, events));
        let background = tokio_util::sync::CancellationToken::new();
        if group.is_some() {
            // Other workers' statuses reach this worker's REST API.
            let (status, stop) = (ctx.status.clone(), background.clone());
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(2)) => {
                            if let Err(e) = status.refresh().await {
                                tracing::debug!("could not refresh statuses: {e}");
                            }
                        }
                    }
                }
            });
        }
        let worker = Arc::new(Worker {
            ctx,
            view,
            commands: tx,
            ready: AtomicBool::new(false),
            loggers,
            actor: std::sync::Mutex::new(Some(handle)),
            cluster_id,
            group,
            background,
            forwarder: Default::default(),
        });
        worker.ping().await?;
        if let Some(g) = &worker.group {
            // Ready once the first assignment is applied, so that every request finds a leader.
            let limit = Duration::from_millis(worker.ctx.config.group.rebalance_timeout_ms.max(0) as u64)
                + Duration::from_secs(30);
            if !g.shared.wait_joined(limit).await {
                tracing::warn!("no assignment from the worker group within {limit:?}; serving anyway");
            }
        }
        worker.ready.store(true, Ordering::SeqCst);
        Ok(worker)
    }

    /// Answers once the actor has started every stored connector and is idle.
    pub(super) async fn ping(&self) -> Result<(), StartError> {
        let (reply, rx) = oneshot::channel();
        self.commands
            .send(Command::Ping { reply })
            .await
            .map_err(|_| StartError::Config("herder stopped".into()))?;
        rx.await
            .map_err(|_| StartError::Config("herder stopped".into()))?
            .map_err(|e| StartError::Config(e.to_string()))
    }

    /// Stops every task (flushing offsets) and connector.
    pub async fn shutdown(&self) {
        let (reply, rx) = oneshot::channel();
        if self.commands.send(Command::Shutdown { reply }).await.is_ok() {
            let _ = rx.await;
        }
        let handle = self.actor.lock().expect("actor handle lock").take();
        if let Some(h) = handle {
            let _ = h.await;
        }
        // The UNASSIGNED statuses of what just stopped reach the status topic before the worker ends.
        if !self.ctx.status.flush(STATUS_FLUSH_LIMIT).await {
            tracing::warn!("not every status reached the status topic within {STATUS_FLUSH_LIMIT:?}");
        }
        // Leave the group last, so the others take over only once everything is flushed.
        self.background.cancel();
        if let Some(g) = &self.group {
            g.leave().await;
        }
    }
}

/// Waits for SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("install SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
