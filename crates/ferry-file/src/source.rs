//! `FileStreamSourceConnector`: emits each line of a file (or standard input) as a string record.

use std::io::{self, SeekFrom};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use ferry_core::serde_json::{self, Value as Json};
use ferry_core::{
    ConfigDef, ConfigKey, ConfigMap, ConfigType, ConnectError, Connector, ConnectorContext, Importance,
    OffsetMap, Record, Schema, SourceConnector, SourceTask, SourceTaskContext, Value,
};
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncSeekExt, Stdin};
use tokio::time::{sleep, sleep_until, Instant};
use tracing::{debug, info, trace, warn};

use crate::error::FileError;
use crate::FILE_CONFIG;
use ferry_core::versions::KAFKA_CONNECT;

/// Java class name of the source connector.
pub const SOURCE_CLASS: &str = "org.apache.kafka.connect.file.FileStreamSourceConnector";
/// Option naming the topic to publish to (`topic`).
pub const TOPIC_CONFIG: &str = "topic";
/// Option capping the records returned by one poll (`batch.size`).
pub const TASK_BATCH_SIZE_CONFIG: &str = "batch.size";
/// Default of `batch.size`.
pub const DEFAULT_TASK_BATCH_SIZE: i32 = 2000;
/// Key of the source partition: `{"filename": <file>}`.
pub const FILENAME_FIELD: &str = "filename";
/// Key of the source offset: `{"position": <byte position after the line>}`.
pub const POSITION_FIELD: &str = "position";

/// Longest a poll waits for new data before returning an empty batch.
const POLL_WAIT: Duration = Duration::from_secs(1);
/// How often a waiting poll checks whether the file grew.
const GROWTH_CHECK: Duration = Duration::from_millis(50);
/// Bytes read from the input at a time.
const CHUNK: usize = 64 * 1024;

/// The source connector's options, as upstream defines them.
pub fn source_config_def() -> ConfigDef {
    ConfigDef::new()
        .define(
            ConfigKey::new(FILE_CONFIG, ConfigType::String)
                .default_null()
                .importance(Importance::High)
                .doc("Source filename. If not specified, the standard input will be used"),
        )
        .define(
            ConfigKey::new(TOPIC_CONFIG, ConfigType::String)
                .validator(ferry_core::Validator::NonEmptyString)
                .importance(Importance::High)
                .doc("The topic to publish data to"),
        )
        .define(
            ConfigKey::new(TASK_BATCH_SIZE_CONFIG, ConfigType::Int)
                .default_value(DEFAULT_TASK_BATCH_SIZE.to_string())
                .importance(Importance::Low)
                .doc(
                    "The maximum number of records the source task can read from the file each \
                     time it is polled",
                ),
        )
}

pub(crate) fn new_connector() -> Box<dyn SourceConnector> {
    Box::new(FileStreamSourceConnector::default())
}

/// Reads one file or standard input with a single task.
#[derive(Debug, Default)]
pub struct FileStreamSourceConnector {
    props: ConfigMap,
}

#[async_trait]
impl Connector for FileStreamSourceConnector {
    fn version(&self) -> String {
        KAFKA_CONNECT.to_string()
    }

    fn config_def(&self) -> ConfigDef {
        source_config_def()
    }

    async fn start(
        &mut self,
        config: &ConfigMap,
        _ctx: Arc<dyn ConnectorContext>,
    ) -> Result<(), ConnectError> {
        let parsed = source_config_def().parse(config)?;
        let name = match parsed.string(FILE_CONFIG) {
            Some(f) if !f.is_empty() => f,
            _ => "standard input",
        };
        info!("Starting file source connector reading from {name}");
        self.props = config.clone();
        Ok(())
    }

    fn task_class(&self) -> Option<&'static str> {
        Some("org.apache.kafka.connect.file.FileStreamSourceTask")
    }

    /// One task with the full connector configuration, whatever `max_tasks` is.
    fn task_configs(&self, _max_tasks: usize) -> Result<Vec<ConfigMap>, ConnectError> {
        Ok(vec![self.props.clone()])
    }

    async fn stop(&mut self) -> Result<(), ConnectError> {
        Ok(())
    }
}

impl SourceConnector for FileStreamSourceConnector {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(FileStreamSourceTask::default())
    }

    /// Connect's checks, with its messages: a file must be configured (stdin keeps no
    /// offsets), each offset is null or a non-negative whole `position`, each partition
    /// names its `filename`. Whether the position fits the file is the task's to check.
    fn alter_offsets(
        &self,
        config: &ConfigMap,
        offsets: &[(OffsetMap, Option<OffsetMap>)],
    ) -> Result<bool, ConnectError> {
        if config.get(FILE_CONFIG).is_none_or(|f| f.is_empty()) {
            return Err(ConnectError::fatal(format!(
                "Offsets cannot be modified if the '{FILE_CONFIG}' configuration is unspecified. \
                 This is because stdin is used for input and offsets are not tracked."
            )));
        }
        for (partition, offset) in offsets {
            let Some(offset) = offset else { continue };
            let position = offset.get(POSITION_FIELD).ok_or_else(|| {
                ConnectError::fatal(format!(
                    "Offset objects should either be null or contain the key '{POSITION_FIELD}'"
                ))
            })?;
            let position = position.as_i64().ok_or_else(|| {
                ConnectError::fatal(format!(
                    "The value for the '{POSITION_FIELD}' key in the offset is expected to be a Long value"
                ))
            })?;
            if position < 0 {
                return Err(ConnectError::fatal(format!(
                    "The value for the '{POSITION_FIELD}' key in the offset should be a non-negative value"
                )));
            }
            if !partition.contains_key(FILENAME_FIELD) {
                return Err(ConnectError::fatal(format!(
                    "Partition objects should contain the key '{FILENAME_FIELD}'"
                )));
            }
        }
        Ok(true)
    }
}

/// Tails a file (or reads standard input) and emits one record per line.
///
/// Lines end at `\n`, `\r\n` or a lone `\r`; a final line without terminator is
/// held back until one arrives. Each record's offset is the byte position just
/// after its line terminator, so a restart resumes at the next line.
#[derive(Default)]
pub struct FileStreamSourceTask {
    state: Option<TaskState>,
}

impl std::fmt::Debug for FileStreamSourceTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStreamSourceTask")
            .field("file", &self.state.as_ref().map(|s| s.display_name()))
            .finish()
    }
}

enum Input {
    /// Not opened yet (file missing or shorter than the stored offset).
    Closed,
    /// An open file and the number of bytes read from it so far.
    File { file: File, read_pos: u64 },
    /// Standard input; offsets are not tracked.
    Stdin(Stdin),
}

struct TaskState {
    /// `file` as configured: `None` or empty means standard input.
    filename: Option<String>,
    topic: Arc<str>,
    value_schema: Schema,
    batch_size: usize,
    partition: Arc<OffsetMap>,
    ctx: SourceTaskContext,
    input: Input,
    /// Bytes read but not yet emitted; `buf[head..]` is pending.
    buf: Vec<u8>,
    head: usize,
    /// Bytes before this index hold no line terminator.
    scanned: usize,
    /// Byte position after the last emitted line; `None` for standard input.
    position: Option<i64>,
    chunk: Vec<u8>,
    warned_short: bool,
}

#[async_trait]
impl SourceTask for FileStreamSourceTask {
    async fn start(&mut self, config: &ConfigMap, ctx: SourceTaskContext) -> Result<(), ConnectError> {
        let parsed = source_config_def().parse(config)?;
        let filename = parsed.string(FILE_CONFIG).map(str::to_owned);
        let topic = parsed.string(TOPIC_CONFIG).unwrap_or_default();
        // Upstream returns after the first record when batch.size < 1.
        let batch_size = parsed
            .int(TASK_BATCH_SIZE_CONFIG)
            .unwrap_or(DEFAULT_TASK_BATCH_SIZE);
        let batch_size = usize::try_from(batch_size).unwrap_or(1).max(1);
        let mut partition = OffsetMap::new();
        partition.insert(
            FILENAME_FIELD.to_owned(),
            filename.clone().map_or(Json::Null, Json::String),
        );
        let stdin = filename.as_deref().is_none_or(str::is_empty);
        let state = TaskState {
            input: if stdin {
                Input::Stdin(tokio::io::stdin())
            } else {
                Input::Closed
            },
            filename,
            topic: topic.into(),
            value_schema: Schema::string(),
            batch_size,
            partition: Arc::new(partition),
            ctx,
            buf: Vec::new(),
            head: 0,
            scanned: 0,
            position: None,
            chunk: vec![0; CHUNK],
            warned_short: false,
        };
        debug!("Starting file source task for {}", state.display_name());
        self.state = Some(state);
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<Record>, ConnectError> {
        let state = self.state.as_mut().ok_or(FileError::NotStarted("poll"))?;
        Ok(state.poll().await?)
    }

    async fn stop(&mut self) -> Result<(), ConnectError> {
        if let Some(state) = self.state.take() {
            trace!("Stopping file source task for {}", state.display_name());
        }
        Ok(())
    }
}

impl TaskState {
    fn display_name(&self) -> &str {
        match self.filename.as_deref() {
            Some(f) if !f.is_empty() => f,
            _ => "stdin",
        }
    }

    async fn poll(&mut self) -> Result<Vec<Record>, FileError> {
        let deadline = Instant::now() + POLL_WAIT;
        if matches!(self.input, Input::Closed) && !self.open(deadline).await? {
            return Ok(Vec::new());
        }
        let mut records = Vec::new();
        loop {
            while records.len() < self.batch_size {
                match self.extract_line() {
                    Some(line) => records.push(self.record(line)),
                    None => break,
                }
            }
            if records.len() >= self.batch_size || self.ctx.shutdown.is_cancelled() {
                return Ok(records);
            }
            // Once there is something to return, only take input that is already there.
            let wait_until = if records.is_empty() {
                deadline
            } else {
                Instant::now()
            };
            let n = self.read_more(wait_until).await?;
            if n > 0 {
                // Keep the poll short even when a writer never ends its line.
                if Instant::now() >= deadline {
                    return Ok(records);
                }
                continue;
            }
            // Nothing new right now: hand over what we have, or wait for more.
            if !records.is_empty() || !self.wait_for_data(deadline).await? {
                return Ok(records);
            }
        }
    }

    /// Opens the file and seeks to the stored offset; false when it is not there yet.
    async fn open(&mut self, deadline: Instant) -> Result<bool, FileError> {
        let path = self.filename.clone().unwrap_or_default();
        let mut file = match File::open(&path).await {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                warn!("Couldn't find file {path} for FileStreamSourceTask, sleeping to wait for it to be created");
                self.sleep_until(deadline).await;
                return Ok(false);
            }
            Err(source) => return Err(FileError::Open { path, source }),
        };
        let offset = self.stored_position()?;
        if offset > 0 {
            let len = file
                .metadata()
                .await
                .map_err(|source| FileError::Open {
                    path: path.clone(),
                    source,
                })?
                .len();
            if len < offset as u64 {
                // Upstream keeps skipping until the file reaches the offset; wait likewise.
                if !self.warned_short {
                    warn!("File {path} has {len} bytes, fewer than the stored offset {offset}; waiting for it to grow");
                    self.warned_short = true;
                }
                self.sleep_until(deadline).await;
                return Ok(false);
            }
            debug!("Found previous offset, skipping to file offset {offset}");
            file.seek(SeekFrom::Start(offset as u64))
                .await
                .map_err(|source| FileError::Seek {
                    path: path.clone(),
                    offset,
                    source,
                })?;
        }
        self.position = Some(offset);
        self.input = Input::File {
            file,
            read_pos: offset as u64,
        };
        debug!("Opened {path} for reading");
        Ok(true)
    }

    /// The stored `position` of this task's partition, 0 when none.
    fn stored_position(&self) -> Result<i64, FileError> {
        let Some(offset) = self.ctx.offsets.offset(&self.partition) else {
            return Ok(0);
        };
        match offset.get(POSITION_FIELD) {
            None | Some(Json::Null) => Ok(0),
            Some(Json::Number(n)) => match n.as_i64() {
                Some(p) if p >= 0 => Ok(p),
                Some(p) => {
                    warn!("Ignoring negative stored offset {p} for {}", self.display_name());
                    Ok(0)
                }
                None => Err(FileError::OffsetType),
            },
            Some(_) => Err(FileError::OffsetType),
        }
    }

    /// Reads the next chunk; 0 at end of input, or for stdin when nothing came by `deadline`.
    async fn read_more(&mut self, deadline: Instant) -> Result<usize, FileError> {
        if self.head > 0 {
            self.buf.drain(..self.head);
            self.scanned -= self.head;
            self.head = 0;
        }
        let chunk = &mut self.chunk;
        let result = match &mut self.input {
            Input::Closed => return Ok(0),
            Input::File { file, read_pos } => {
                let r = file.read(chunk).await;
                if let Ok(n) = r {
                    *read_pos += n as u64;
                }
                r
            }
            // Reading stdin can block indefinitely: bound it by the poll's deadline.
            // The read is cancel safe: data read in the background is kept for the next call.
            Input::Stdin(stdin) => tokio::select! {
                biased;
                r = stdin.read(chunk) => r,
                _ = sleep_until(deadline) => Ok(0),
                _ = self.ctx.shutdown.cancelled() => Ok(0),
            },
        };
        let n = result.map_err(|source| FileError::Read {
            name: self.display_name().to_owned(),
            source,
        })?;
        trace!("Read {n} bytes from {}", self.display_name());
        self.buf.extend_from_slice(&self.chunk[..n]);
        Ok(n)
    }

    /// Waits until the input may have more data; false when the deadline passed or the task stops.
    async fn wait_for_data(&mut self, deadline: Instant) -> Result<bool, FileError> {
        let Input::File { file, read_pos } = &self.input else {
            // Standard input: the read itself waited until the deadline (or hit EOF).
            self.sleep_until(deadline).await;
            return Ok(false);
        };
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            tokio::select! {
                _ = sleep(GROWTH_CHECK.min(deadline - now)) => {}
                _ = self.ctx.shutdown.cancelled() => return Ok(false),
            }
            let len = file
                .metadata()
                .await
                .map_err(|source| FileError::Read {
                    name: self.display_name().to_owned(),
                    source,
                })?
                .len();
            if len > *read_pos {
                return Ok(true);
            }
        }
    }

    async fn sleep_until(&self, deadline: Instant) {
        tokio::select! {
            _ = sleep_until(deadline) => {}
            _ = self.ctx.shutdown.cancelled() => {}
        }
    }

    /// Takes the next complete line off the buffer, advancing the position past its terminator.
    fn extract_line(&mut self) -> Option<String> {
        let pending = &self.buf[self.head..];
        let from = self.scanned - self.head;
        let Some(i) = pending[from..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .map(|i| i + from)
        else {
            self.scanned = self.buf.len();
            return None;
        };
        let consumed = if pending[i] == b'\n' {
            i + 1
        } else {
            // A `\r` may be the first half of `\r\n`: decide once the next byte is here.
            match pending.get(i + 1) {
                None => {
                    self.scanned = self.head + i;
                    return None;
                }
                Some(b'\n') => i + 2,
                Some(_) => i + 1,
            }
        };
        let line = String::from_utf8_lossy(&pending[..i]).into_owned();
        self.head += consumed;
        self.scanned = self.head;
        if let Some(p) = &mut self.position {
            *p += consumed as i64;
        }
        Some(line)
    }

    fn record(&self, line: String) -> Record {
        let mut offset = OffsetMap::new();
        offset.insert(
            POSITION_FIELD.to_owned(),
            self.position
                .map_or(Json::Null, |p| Json::Number(serde_json::Number::from(p))),
        );
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Record::new(
            self.topic.clone(),
            Some(self.value_schema.clone()),
            Value::String(line),
        )
        .with_source_position(self.partition.clone(), Arc::new(offset))
        .with_timestamp(Some(now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferry_core::{CancellationToken, OffsetStorageReader, Position};

    #[test]
    fn altered_offsets_are_checked_as_connect_checks_them() {
        let c = FileStreamSourceConnector::default();
        let cfg = ferry_core::config::config_map(&[("file", "/tmp/in.txt"), ("topic", "t")]);
        let map = |j: &str| -> OffsetMap { serde_json::from_str(j).unwrap() };
        let alter = |cfg: &ConfigMap, p: &str, o: Option<&str>| c.alter_offsets(cfg, &[(map(p), o.map(map))]);
        assert!(alter(&cfg, r#"{"filename":"/tmp/in.txt"}"#, Some(r#"{"position":12}"#)).unwrap());
        assert!(
            alter(&cfg, r#"{"anything":1}"#, None).unwrap(),
            "tombstones clean up anything"
        );
        for (p, o, message) in [
            (
                r#"{"filename":"f"}"#,
                r#"{}"#,
                "Offset objects should either be null or contain the key 'position'",
            ),
            (
                r#"{"filename":"f"}"#,
                r#"{"position":"abc"}"#,
                "The value for the 'position' key in the offset is expected to be a Long value",
            ),
            (
                r#"{"filename":"f"}"#,
                r#"{"position":1.5}"#,
                "The value for the 'position' key in the offset is expected to be a Long value",
            ),
            (
                r#"{"filename":"f"}"#,
                r#"{"position":-5}"#,
                "The value for the 'position' key in the offset should be a non-negative value",
            ),
            (
                r#"{}"#,
                r#"{"position":5}"#,
                "Partition objects should contain the key 'filename'",
            ),
        ] {
            assert_eq!(
                alter(&cfg, p, Some(o)).unwrap_err().to_string(),
                message,
                "{p} {o}"
            );
        }
        let stdin = ferry_core::config::config_map(&[("topic", "t")]);
        assert!(alter(&stdin, r#"{"filename":"f"}"#, None)
            .unwrap_err()
            .to_string()
            .starts_with("Offsets cannot be modified if the 'file' configuration is unspecified."));
    }

    struct NoOffsets;
    impl OffsetStorageReader for NoOffsets {
        fn offset(&self, _: &OffsetMap) -> Option<OffsetMap> {
            None
        }
    }

    async fn started(config: &[(&str, &str)]) -> FileStreamSourceTask {
        let config = config
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let ctx = SourceTaskContext {
            connector: "c".into(),
            task: 0,
            offsets: Arc::new(NoOffsets),
            shutdown: CancellationToken::new(),
        };
        let mut task = FileStreamSourceTask::default();
        task.start(&config, ctx).await.unwrap();
        task
    }

    fn json_position(r: &Record) -> (String, String) {
        let Position::Source { partition, offset } = &r.position else {
            panic!("no source position");
        };
        (
            serde_json::to_string(&**partition).unwrap(),
            serde_json::to_string(&**offset).unwrap(),
        )
    }

    #[tokio::test]
    async fn stdin_records_carry_null_partition_and_offset_as_upstream() {
        let mut task = started(&[("topic", "t")]).await;
        let state = task.state.as_mut().unwrap();
        assert!(matches!(state.input, Input::Stdin(_)));
        state.buf.extend_from_slice(b"line\r\n");
        let line = state.extract_line().unwrap();
        let record = state.record(line);
        assert_eq!(record.value, Value::String("line".into()));
        assert_eq!(
            json_position(&record),
            (
                r#"{"filename":null}"#.to_owned(),
                r#"{"position":null}"#.to_owned()
            )
        );

        // An empty `file` also means stdin, but keeps its (empty) name in the partition.
        let mut task = started(&[("topic", "t"), ("file", " ")]).await;
        let state = task.state.as_mut().unwrap();
        assert!(matches!(state.input, Input::Stdin(_)));
        state.buf.extend_from_slice(b"x\n");
        let line = state.extract_line().unwrap();
        assert_eq!(json_position(&state.record(line)).0, r#"{"filename":""}"#);
    }

    #[tokio::test]
    async fn lone_carriage_return_waits_for_the_next_byte() {
        let mut task = started(&[("topic", "t"), ("file", "/unused")]).await;
        let state = task.state.as_mut().unwrap();
        state.position = Some(0);
        state.buf.extend_from_slice(b"a\r");
        assert_eq!(state.extract_line(), None);
        state.buf.extend_from_slice(b"\nb\rc");
        assert_eq!(state.extract_line().as_deref(), Some("a"));
        assert_eq!(state.position, Some(3));
        assert_eq!(state.extract_line().as_deref(), Some("b"));
        assert_eq!(state.position, Some(5));
        assert_eq!(state.extract_line(), None);
    }
}
