//! Behaviour of the FileStream connectors, following upstream's tests.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ferry_core::serde_json::{self, json};
use ferry_core::{
    CancellationToken, ConfigMap, ConnectError, ConnectorContext, ErrorKind, OffsetMap, OffsetStorageReader,
    PluginKind, Position, Record, Schema, SinkTaskContext, SourceTask, SourceTaskContext, Struct, Value,
};
use ferry_file::source::{source_config_def, TOPIC_CONFIG};
use ferry_file::{
    plugins, FileStreamSinkConnector, FileStreamSinkTask, FileStreamSourceConnector, FileStreamSourceTask,
    SINK_CLASS, SOURCE_CLASS,
};

#[derive(Default)]
struct Offsets(Mutex<HashMap<String, OffsetMap>>);

impl Offsets {
    fn with(partition: serde_json::Value, offset: serde_json::Value) -> Arc<Self> {
        let o = Offsets::default();
        o.0.lock().unwrap().insert(partition.to_string(), as_map(offset));
        Arc::new(o)
    }
}

impl OffsetStorageReader for Offsets {
    fn offset(&self, partition: &OffsetMap) -> Option<OffsetMap> {
        let key = serde_json::to_string(partition).unwrap();
        self.0.lock().unwrap().get(&key).cloned()
    }
}

struct NopContext;
impl ConnectorContext for NopContext {
    fn request_task_reconfiguration(&self) {}
    fn raise_error(&self, _error: ConnectError) {}
}

fn as_map(v: serde_json::Value) -> OffsetMap {
    match v {
        serde_json::Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

fn props(pairs: &[(&str, &str)]) -> ConfigMap {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn source_ctx(offsets: Arc<Offsets>) -> SourceTaskContext {
    SourceTaskContext {
        connector: "file-source".into(),
        task: 0,
        offsets,
        shutdown: CancellationToken::new(),
    }
}

struct Source {
    _dir: tempfile::TempDir,
    path: String,
    file: std::fs::File,
    task: FileStreamSourceTask,
}

impl Source {
    fn append(&mut self, s: &str) {
        self.file.write_all(s.as_bytes()).unwrap();
        self.file.flush().unwrap();
    }
}

async fn source(initial: &str, extra: &[(&str, &str)], offsets: Option<serde_json::Value>) -> Source {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("input.txt").to_str().unwrap().to_owned();
    let mut file = std::fs::File::create(&path).unwrap();
    file.write_all(initial.as_bytes()).unwrap();
    let reader = match offsets {
        Some(o) => Offsets::with(json!({ "filename": path }), o),
        None => Arc::new(Offsets::default()),
    };
    let mut config = props(&[("file", &path), ("topic", "test")]);
    config.extend(props(extra));
    let mut task = FileStreamSourceTask::default();
    task.start(&config, source_ctx(reader)).await.unwrap();
    Source {
        _dir: dir,
        path,
        file,
        task,
    }
}

fn position(r: &Record) -> (String, String) {
    match &r.position {
        Position::Source { partition, offset } => (
            serde_json::to_string(&**partition).unwrap(),
            serde_json::to_string(&**offset).unwrap(),
        ),
        other => panic!("no source position: {other:?}"),
    }
}

fn values(records: &[Record]) -> Vec<&str> {
    records.iter().map(|r| r.value.as_str().unwrap()).collect()
}

fn offsets_of(records: &[Record]) -> Vec<String> {
    records.iter().map(|r| position(r).1).collect()
}

#[tokio::test]
async fn source_reads_lines_with_upstream_offsets() {
    let mut s = source("", &[], None).await;
    assert!(s.task.poll().await.unwrap().is_empty());
    s.append("partial line");
    assert!(s.task.poll().await.unwrap().is_empty());
    s.append(" finished\n");
    let records = s.task.poll().await.unwrap();
    assert_eq!(values(&records), ["partial line finished"]);
    let r = &records[0];
    assert_eq!(&*r.topic, "test");
    assert_eq!(r.value_schema, Some(Schema::string()));
    assert!(r.key.is_null() && r.key_schema.is_none());
    assert!(r.timestamp.is_some());
    let (partition, offset) = position(r);
    assert_eq!(
        partition,
        serde_json::to_string(&json!({ "filename": s.path })).unwrap()
    );
    assert_eq!(offset, r#"{"position":22}"#);

    // Every line ending upstream accepts; a final \r waits for the next byte.
    s.append("line1\rline2\r\nline3\nline4\n\r");
    let records = s.task.poll().await.unwrap();
    assert_eq!(values(&records), ["line1", "line2", "line3", "line4"]);
    assert_eq!(
        offsets_of(&records),
        [
            r#"{"position":28}"#,
            r#"{"position":35}"#,
            r#"{"position":41}"#,
            r#"{"position":47}"#
        ]
    );
    s.append("subsequent text");
    let records = s.task.poll().await.unwrap();
    assert_eq!(values(&records), [""]);
    assert_eq!(offsets_of(&records), [r#"{"position":48}"#]);
    s.task.stop().await.unwrap();
}

#[tokio::test]
async fn offsets_count_bytes_not_characters() {
    let mut s = source("héllo\nwörld\n", &[], None).await;
    let records = s.task.poll().await.unwrap();
    assert_eq!(values(&records), ["héllo", "wörld"]);
    assert_eq!(offsets_of(&records), [r#"{"position":7}"#, r#"{"position":14}"#]);
}

#[tokio::test]
async fn source_resumes_from_stored_offset() {
    let mut s = source("a\nbb\nccc\n", &[], Some(json!({ "position": 2 }))).await;
    let records = s.task.poll().await.unwrap();
    assert_eq!(values(&records), ["bb", "ccc"]);
    assert_eq!(offsets_of(&records), [r#"{"position":5}"#, r#"{"position":9}"#]);
}

#[tokio::test]
async fn stored_offset_beyond_end_waits_for_the_file_to_grow() {
    let mut s = source("a\n", &[], Some(json!({ "position": 4 }))).await;
    assert!(s.task.poll().await.unwrap().is_empty());
    s.append("b\nc\n");
    let records = s.task.poll().await.unwrap();
    assert_eq!(values(&records), ["c"]);
    assert_eq!(offsets_of(&records), [r#"{"position":6}"#]);
}

#[tokio::test]
async fn stored_offset_of_wrong_type_fails() {
    let mut s = source("a\n", &[], Some(json!({ "position": "2" }))).await;
    let err = s.task.poll().await.unwrap_err();
    assert_eq!(err.to_string(), "Offset position is the incorrect type");
    assert_eq!(err.kind(), ErrorKind::Fatal);
}

#[tokio::test]
async fn poll_returns_at_most_batch_size_records() {
    let lines: String = (0..10).map(|i| format!("line{i}\n")).collect();
    let mut s = source(&lines, &[("batch.size", "3")], None).await;
    let mut sizes = Vec::new();
    let mut all = Vec::new();
    for _ in 0..4 {
        let batch = s.task.poll().await.unwrap();
        sizes.push(batch.len());
        all.extend(batch);
    }
    assert_eq!(sizes, [3, 3, 3, 1]);
    let expected: Vec<String> = (0..10).map(|i| format!("line{i}")).collect();
    assert_eq!(values(&all), expected);
    assert_eq!(position(&all[9]).1, r#"{"position":60}"#);
}

#[tokio::test]
async fn large_files_are_read_in_batches() {
    let line = "Neque porro quisquam est qui dolorem ipsum quia dolor sit amet\n";
    let mut s = source(&line.repeat(10_000), &[("batch.size", "5000")], None).await;
    assert_eq!(s.task.poll().await.unwrap().len(), 5000);
    let last = s.task.poll().await.unwrap();
    assert_eq!(last.len(), 5000);
    let end = format!(r#"{{"position":{}}}"#, line.len() * 10_000);
    assert_eq!(position(last.last().unwrap()).1, end);
}

#[tokio::test]
async fn source_tails_a_growing_file() {
    let mut s = source("first\n", &[], None).await;
    assert_eq!(values(&s.task.poll().await.unwrap()), ["first"]);
    let mut file = s.file.try_clone().unwrap();
    let writer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        file.write_all(b"second\n").unwrap();
    });
    let started = Instant::now();
    let records = s.task.poll().await.unwrap();
    // Woken by the growth, not by the end of the wait.
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(values(&records), ["second"]);
    assert_eq!(offsets_of(&records), [r#"{"position":13}"#]);
    writer.await.unwrap();
    // Nothing new: an empty batch after about a second.
    let started = Instant::now();
    assert!(s.task.poll().await.unwrap().is_empty());
    assert!(started.elapsed() < Duration::from_millis(1500));
}

#[tokio::test]
async fn missing_file_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("later.txt");
    let config = props(&[("file", path.to_str().unwrap()), ("topic", "t")]);
    let mut task = FileStreamSourceTask::default();
    task.start(&config, source_ctx(Arc::new(Offsets::default())))
        .await
        .unwrap();
    assert!(task.poll().await.unwrap().is_empty());
    std::fs::write(&path, "now\n").unwrap();
    assert_eq!(values(&task.poll().await.unwrap()), ["now"]);
}

#[tokio::test]
async fn shutdown_cuts_the_wait_short() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.txt");
    std::fs::write(&path, "").unwrap();
    let ctx = source_ctx(Arc::new(Offsets::default()));
    let shutdown = ctx.shutdown.clone();
    let mut task = FileStreamSourceTask::default();
    task.start(&props(&[("file", path.to_str().unwrap()), ("topic", "t")]), ctx)
        .await
        .unwrap();
    shutdown.cancel();
    let started = Instant::now();
    assert!(task.poll().await.unwrap().is_empty());
    assert!(started.elapsed() < Duration::from_millis(200));
}

#[tokio::test]
async fn source_connector_has_one_task_with_full_config() {
    let mut c = FileStreamSourceConnector::default();
    let config = props(&[
        ("file", "/somefilename"),
        ("topic", "test"),
        ("transforms", "insert"),
    ]);
    ferry_core::Connector::start(&mut c, &config, Arc::new(NopContext))
        .await
        .unwrap();
    for max in [1, 2] {
        let tasks = ferry_core::Connector::task_configs(&c, max).unwrap();
        assert_eq!(tasks, vec![config.clone()]);
    }
}

#[tokio::test]
async fn source_config_validation_matches_upstream() {
    let c = FileStreamSourceConnector::default();
    let errors = |config: &ConfigMap| -> Vec<(String, Vec<String>)> {
        ferry_core::Connector::validate(&c, config)
            .into_iter()
            .filter(|v| !v.errors.is_empty())
            .map(|v| (v.name, v.errors))
            .collect()
    };
    assert!(errors(&props(&[("file", "/f"), ("topic", "test")])).is_empty());
    assert!(errors(&props(&[("topic", "test")])).is_empty());
    assert_eq!(
        errors(&props(&[("file", "/f")])),
        [(
            "topic".to_string(),
            vec!["Missing required configuration \"topic\" which has no default value.".to_string()]
        )]
    );
    assert_eq!(
        errors(&props(&[("topic", "   ")])),
        [(
            "topic".to_string(),
            vec!["Invalid value  for configuration topic: String must be non-empty".to_string()]
        )]
    );
    assert_eq!(
        errors(&props(&[("topic", "t"), ("batch.size", "abcd")])),
        [(
            "batch.size".to_string(),
            vec!["Invalid value abcd for configuration batch.size: Not a number of type INT".to_string()]
        )]
    );

    // Starting without a topic fails with the same message.
    let mut c = FileStreamSourceConnector::default();
    let err = ferry_core::Connector::start(&mut c, &props(&[("file", "/f")]), Arc::new(NopContext))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    assert_eq!(
        err.to_string(),
        "Missing required configuration \"topic\" which has no default value."
    );
    let mut task = FileStreamSourceTask::default();
    let err = task
        .start(
            &props(&[("file", "/f")]),
            source_ctx(Arc::new(Offsets::default())),
        )
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);

    let def = source_config_def();
    assert!(def.key(TOPIC_CONFIG).unwrap().is_required());
    assert_eq!(
        def.key("batch.size").unwrap().default_display().as_deref(),
        Some("2000")
    );
}

#[test]
fn plugins_are_registered_under_upstream_names() {
    let p = plugins();
    let found: Vec<_> = p.iter().map(|d| (d.class, d.kind())).collect();
    assert_eq!(
        found,
        [(SOURCE_CLASS, PluginKind::Source), (SINK_CLASS, PluginKind::Sink)]
    );
    assert_eq!(
        SOURCE_CLASS,
        "org.apache.kafka.connect.file.FileStreamSourceConnector"
    );
    assert_eq!(
        SINK_CLASS,
        "org.apache.kafka.connect.file.FileStreamSinkConnector"
    );
}

fn sink_ctx() -> SinkTaskContext {
    SinkTaskContext {
        connector: "file-sink".into(),
        task: 0,
        shutdown: CancellationToken::new(),
    }
}

fn string_record(topic: &str, v: &str) -> Record {
    Record::new(topic, Some(Schema::string()), Value::String(v.into()))
}

#[tokio::test]
async fn sink_writes_lines_visible_after_flush() {
    use ferry_core::SinkTask;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("connect.output");
    std::fs::write(&path, "existing\n").unwrap();
    let mut task = FileStreamSinkTask::default();
    task.start(&props(&[("file", path.to_str().unwrap())]), sink_ctx())
        .await
        .unwrap();
    task.put(&[string_record("topic1", "line0")]).await.unwrap();
    task.flush(&HashMap::new()).await.unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "existing\nline0\n");

    task.put(&[string_record("topic1", "line1"), string_record("topic2", "line2")])
        .await
        .unwrap();
    task.flush(&HashMap::new()).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "existing\nline0\nline1\nline2\n"
    );
    task.stop().await.unwrap();
}

#[tokio::test]
async fn sink_prints_other_values_like_java() {
    use ferry_core::SinkTask;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out");
    let mut task = FileStreamSinkTask::default();
    task.start(&props(&[("file", path.to_str().unwrap())]), sink_ctx())
        .await
        .unwrap();
    let schema = Schema::struct_builder()
        .field("id", Schema::int32())
        .field("name", Schema::optional_string())
        .build();
    let mut s = Struct::new(schema.clone());
    s.put("id", 1).unwrap();
    task.put(&[
        Record::new("t", None, Value::Null),
        Record::new("t", None, Value::Int64(42)),
        Record::new("t", None, Value::Float64(2.0)),
        Record::new("t", Some(schema), Value::Struct(s)),
        Record::new(
            "t",
            None,
            Value::Map(vec![("a".into(), Value::Array(vec![1.into(), 2.into()]))]),
        ),
    ])
    .await
    .unwrap();
    // stop writes out whatever is buffered
    task.stop().await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "null\n42\n2.0\nStruct{id=1}\n{a=[1, 2]}\n"
    );
}

#[tokio::test]
async fn sink_fails_on_unwritable_path() {
    use ferry_core::SinkTask;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("out");
    let mut task = FileStreamSinkTask::default();
    let err = task
        .start(&props(&[("file", path.to_str().unwrap())]), sink_ctx())
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Couldn't find or create file '{}' for FileStreamSinkTask",
            path.display()
        )
    );
}

#[tokio::test]
async fn sink_connector_copies_config_to_every_task() {
    let mut c = FileStreamSinkConnector::default();
    let config = props(&[("topics", "test1,test2"), ("file", "/afilename")]);
    assert!(ferry_core::Connector::validate(&c, &config)
        .iter()
        .all(|v| v.errors.is_empty()));
    ferry_core::Connector::start(&mut c, &config, Arc::new(NopContext))
        .await
        .unwrap();
    assert_eq!(
        ferry_core::Connector::task_configs(&c, 1).unwrap(),
        vec![config.clone()]
    );
    assert_eq!(
        ferry_core::Connector::task_configs(&c, 2).unwrap(),
        vec![config.clone(), config]
    );
}
