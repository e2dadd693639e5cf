//! `ferry`: a Kafka Connect-compatible worker in one binary.
//!
//! `ferry distributed [worker.properties]` is connect-distributed.sh (with no file,
//! configuration comes from the environment, as in the debezium/connect and
//! cp-kafka-connect images); `ferry standalone worker.properties connector...`
//! is connect-standalone.sh.

mod connector_files;
mod logging;
mod plugins;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ferry_rest::Herder;
use ferry_runtime::{Mode, Worker, WorkerConfig};

/// mimalloc instead of glibc's malloc: the record path allocates and frees many small
/// values per event, and glibc's allocator took about 40 % of the worker's CPU at full
/// speed (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "ferry", version, about = "Kafka Connect-compatible connector runtime")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a worker whose configs, offsets and statuses live in Kafka topics.
    Distributed {
        /// connect-distributed.properties; when absent, the environment alone configures the worker.
        worker_properties: Option<PathBuf>,
    },
    /// Run a worker with offsets in a local file and connectors from files.
    Standalone {
        /// connect-standalone.properties.
        worker_properties: PathBuf,
        /// Connector configs (.properties, or .json as POSTed to /connectors).
        connectors: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let log = logging::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ferry: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, log)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferry: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The REST server's settings from the worker properties; the JAAS file of basic
/// authentication comes from `KAFKA_OPTS` (`-Djava.security.auth.login.config=...`), as
/// in the debezium/connect and cp-kafka-connect images.
fn rest_server_config(config: &WorkerConfig) -> anyhow::Result<ferry_rest::server_config::RestServerConfig> {
    use ferry_rest::server_config::{Listener, RestServerConfig, Scheme};
    let bind = config.rest_bind;
    let fallback = Listener {
        scheme: Scheme::Http,
        host: bind.ip().to_string(),
        port: bind.port(),
    };
    let jaas = ferry_rest::server_config::jaas_file_from_env();
    Ok(RestServerConfig::from_properties(
        config.originals.iter(),
        fallback,
        jaas.as_deref(),
    )?)
}

async fn run(cli: Cli, log: Arc<logging::ReloadableFilter>) -> anyhow::Result<()> {
    let (mode, file, connector_files) = match cli.command {
        Command::Distributed { worker_properties } => (Mode::Distributed, worker_properties, Vec::new()),
        Command::Standalone {
            worker_properties,
            connectors,
        } => (Mode::Standalone, Some(worker_properties), connectors),
    };
    let config = WorkerConfig::load(file.as_deref(), mode)?;
    let connectors = connector_files
        .iter()
        .map(|p| connector_files::read(p))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let rest = rest_server_config(&config)?;
    // Bind first: a port in use is a start-up error, not something found later.
    let server = ferry_rest::server::RestServer::bind(rest).await?;
    tracing::info!(worker_id = %config.worker_id, bootstrap = %config.bootstrap_servers, "starting worker");
    // REST first, as Kafka Connect does: `GET /` answers at once, other requests wait for the worker.
    let (late, handle) = ferry_runtime::LateHerder::new();
    let herder: Arc<dyn Herder> = late;
    let addresses = server.addresses();
    let server = server
        .serve(herder, ferry_rest::RestOptions::default())
        .context("cannot start the REST server")?;
    for a in addresses {
        let scheme = match a.scheme {
            ferry_rest::server_config::Scheme::Http => "http",
            ferry_rest::server_config::Scheme::Https => "https",
        };
        let what = if a.admin {
            "REST admin endpoints"
        } else {
            "REST API"
        };
        tracing::info!(bind = %a.addr, "{what} listening on {scheme}://{}", a.addr);
    }
    let loggers = ferry_runtime::Loggers::new(&log.root_level(), Some(log.clone()));
    let worker = tokio::select! {
        w = Worker::start(config, mode, plugins::registry(), loggers) => w.context("worker failed to start")?,
        _ = ferry_runtime::shutdown_signal() => {
            tracing::info!("stopped before the worker started");
            return Ok(());
        }
    };
    for (name, cfg) in connectors {
        worker
            .put_connector_config(&name, cfg)
            .await
            .map_err(|e| anyhow::anyhow!("connector {name}: {e}"))?;
    }
    handle.set(worker.clone());
    tracing::info!("worker ready");
    ferry_runtime::shutdown_signal().await;
    server.stop().await.context("REST server failed")?;
    tracing::info!("shutting down: stopping tasks and flushing offsets");
    worker.shutdown().await;
    tracing::info!("stopped");
    Ok(())
}
