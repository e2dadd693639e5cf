//! `FileStreamSinkConnector`: appends each record's value as a line to a file (or standard output).

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use ferry_core::{
    ConfigDef, ConfigKey, ConfigMap, ConfigType, ConnectError, Connector, ConnectorContext, Importance,
    Record, SinkConnector, SinkTask, SinkTaskContext, TopicPartition,
};
use tokio::fs::{File, OpenOptions};
use tokio::io::{AsyncWriteExt, BufWriter, Stdout};
use tracing::{info, trace};

use crate::error::FileError;
use crate::format::write_line;
use crate::FILE_CONFIG;
use ferry_core::versions::KAFKA_CONNECT;

/// Java class name of the sink connector.
pub const SINK_CLASS: &str = "org.apache.kafka.connect.file.FileStreamSinkConnector";

/// The sink connector's options, as upstream defines them (`topics` and
/// `topics.regex` belong to the runtime).
pub fn sink_config_def() -> ConfigDef {
    ConfigDef::new().define(
        ConfigKey::new(FILE_CONFIG, ConfigType::String)
            .default_null()
            .importance(Importance::High)
            .doc("Destination filename. If not specified, the standard output will be used"),
    )
}

pub(crate) fn new_connector() -> Box<dyn SinkConnector> {
    Box::new(FileStreamSinkConnector::default())
}

/// Writes record values to one file or standard output.
#[derive(Debug, Default)]
pub struct FileStreamSinkConnector {
    props: ConfigMap,
}

#[async_trait]
impl Connector for FileStreamSinkConnector {
    fn version(&self) -> String {
        KAFKA_CONNECT.to_string()
    }

    fn config_def(&self) -> ConfigDef {
        sink_config_def()
    }

    async fn start(
        &mut self,
        config: &ConfigMap,
        _ctx: Arc<dyn ConnectorContext>,
    ) -> Result<(), ConnectError> {
        let parsed = sink_config_def().parse(config)?;
        let name = match parsed.string(FILE_CONFIG) {
            Some(f) if !f.is_empty() => f,
            _ => "standard output",
        };
        info!("Starting file sink connector writing to {name}");
        self.props = config.clone();
        Ok(())
    }

    fn task_class(&self) -> Option<&'static str> {
        Some("org.apache.kafka.connect.file.FileStreamSinkTask")
    }

    /// `max_tasks` copies of the full connector configuration, as upstream does.
    fn task_configs(&self, max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        Ok(vec![self.props.clone(); max_tasks])
    }

    async fn stop(&mut self) -> Result<(), ConnectError> {
        Ok(())
    }
}

impl SinkConnector for FileStreamSinkConnector {
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(FileStreamSinkTask::default())
    }
}

enum Output {
    File(BufWriter<File>),
    Stdout(BufWriter<Stdout>),
}

/// Appends one line per record: the value's text (see [`FileStreamSinkTask::put`]) and `\n`.
#[derive(Default)]
pub struct FileStreamSinkTask {
    filename: Option<String>,
    output: Option<Output>,
    line: Vec<u8>,
}

impl std::fmt::Debug for FileStreamSinkTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStreamSinkTask")
            .field("file", &self.display_name())
            .finish()
    }
}

impl FileStreamSinkTask {
    fn display_name(&self) -> &str {
        self.filename.as_deref().unwrap_or("stdout")
    }

    fn write_error(&self, source: std::io::Error) -> FileError {
        FileError::Write {
            name: self.display_name().to_owned(),
            source,
        }
    }
}

#[async_trait]
impl SinkTask for FileStreamSinkTask {
    /// Opens the file for appending (creating it), or standard output when `file` is unset or empty.
    async fn start(&mut self, config: &ConfigMap, _ctx: SinkTaskContext) -> Result<(), ConnectError> {
        let parsed = sink_config_def().parse(config)?;
        let filename = parsed.string(FILE_CONFIG).filter(|f| !f.is_empty());
        self.output = Some(match filename {
            None => Output::Stdout(BufWriter::new(tokio::io::stdout())),
            Some(path) => {
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await
                    .map_err(|source| FileError::CreateSink {
                        path: path.to_owned(),
                        source,
                    })?;
                Output::File(BufWriter::new(file))
            }
        });
        self.filename = filename.map(str::to_owned);
        Ok(())
    }

    /// Buffers one line per record. Strings are written as is and top-level
    /// bytes raw; other values as Java's `toString` prints them (`null`,
    /// `[a, b]`, `{k=v}`, `Struct{f=v}`, `1.0E7`).
    async fn put(&mut self, records: &[Record]) -> Result<(), ConnectError> {
        let mut line = std::mem::take(&mut self.line);
        let result = async {
            for record in records {
                line.clear();
                write_line(&record.value, &mut line);
                line.push(b'\n');
                trace!("Writing line to {}: {:?}", self.display_name(), record.value);
                let written = match self.output.as_mut() {
                    None => return Err(FileError::NotStarted("put")),
                    Some(Output::File(w)) => w.write_all(&line).await,
                    Some(Output::Stdout(w)) => w.write_all(&line).await,
                };
                written.map_err(|e| self.write_error(e))?;
            }
            Ok(())
        }
        .await;
        self.line = line;
        Ok(result?)
    }

    /// Writes out buffered lines and syncs the file to disk.
    async fn flush(&mut self, _offsets: &HashMap<TopicPartition, i64>) -> Result<(), ConnectError> {
        trace!("Flushing output stream for {}", self.display_name());
        let result = match self.output.as_mut() {
            None => return Err(FileError::NotStarted("flush").into()),
            Some(Output::File(w)) => match w.flush().await {
                Ok(()) => w.get_ref().sync_data().await,
                Err(e) => Err(e),
            },
            Some(Output::Stdout(w)) => w.flush().await,
        };
        Ok(result.map_err(|e| self.write_error(e))?)
    }

    /// Writes out buffered lines and closes the file.
    async fn stop(&mut self) -> Result<(), ConnectError> {
        let result = match self.output.take() {
            None => Ok(()),
            Some(Output::File(mut w)) => match w.flush().await {
                Ok(()) => w.shutdown().await,
                Err(e) => Err(e),
            },
            Some(Output::Stdout(mut w)) => w.flush().await,
        };
        Ok(result.map_err(|e| self.write_error(e))?)
    }
}
