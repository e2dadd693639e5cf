//! Standalone offsets in a local file: one JSON line per entry `[key, value|null]`.
//!
//! Kafka Connect's standalone file is a Java-serialized HashMap; Ferry's is plain
//! JSON lines holding the same key and value texts (see docs/compatibility.md).
//! Writes append; once the file holds more than twice as many lines as live keys
//! (and at least [`COMPACT_AFTER_LINES`]), it is rewritten with the last value of
//! each key, atomically (a temporary file renamed over it).

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use indexmap::IndexMap;

use super::offsets::{OffsetBackend, RawEntry};
use super::StoreError;

/// A file is never compacted below this many lines: small files are cheap to append to.
pub const COMPACT_AFTER_LINES: usize = 64;

/// What the backend knows of the file it owns.
#[derive(Debug, Default)]
struct FileState {
    /// Lines in the file (each one entry).
    lines: usize,
    /// The last value of every key not deleted, in first-written order.
    live: IndexMap<Vec<u8>, Vec<u8>>,
    /// The file has a torn line (a crash mid-write): rewrite it before appending.
    torn: bool,
    /// The file has been read (a write before any load reads it first, so a
    /// compaction never drops entries this backend has not seen).
    loaded: bool,
}

impl FileState {
    fn apply(&mut self, key: &[u8], value: Option<&[u8]>) {
        match value {
            Some(v) => {
                self.live.insert(key.to_vec(), v.to_vec());
            }
            None => {
                self.live.shift_remove(key);
            }
        }
    }

    fn wants_compaction(&self) -> bool {
        self.torn || (self.lines >= COMPACT_AFTER_LINES && self.lines > 2 * self.live.len())
    }
}

/// Offsets in a local JSON-lines file, compacted as it grows.
pub struct FileOffsetBackend {
    path: PathBuf,
    state: Arc<Mutex<FileState>>,
}

impl FileOffsetBackend {
    /// A backend over `path` (created on first write).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileOffsetBackend {
            path: path.into(),
            state: Arc::new(Mutex::new(FileState::default())),
        }
    }

    /// Runs file work on the blocking pool; the state lock is held there, never across an await.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Path, &mut FileState) -> std::io::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (path, state) = (self.path.clone(), self.state.clone());
        let shown = self.path.display().to_string();
        tokio::task::spawn_blocking(move || {
            let mut state = state.lock().expect("offsets file state lock");
            work(&path, &mut state)
        })
        .await
        .map_err(|e| StoreError::Io(shown.clone(), std::io::Error::other(e)))?
        .map_err(|e| StoreError::Io(shown, e))
    }
}

#[async_trait]
impl OffsetBackend for FileOffsetBackend {
    async fn load(&self) -> Result<Vec<RawEntry>, StoreError> {
        self.blocking(read).await
    }

    async fn write(&self, entries: &[RawEntry]) -> Result<(), StoreError> {
        let entries = entries.to_vec();
        self.blocking(move |path, state| {
            if !state.loaded {
                read(path, state)?;
            }
            for (k, v) in &entries {
                state.apply(k, v.as_deref());
            }
            state.lines += entries.len();
            if state.wants_compaction() {
                rewrite(
                    path,
                    state.live.iter().map(|(k, v)| (k.as_slice(), Some(v.as_slice()))),
                )?;
                state.lines = state.live.len();
                state.torn = false;
                tracing::debug!(path = %path.display(), entries = state.lines, "compacted the offsets file");
            } else {
                append(path, entries.iter().map(|(k, v)| (k.as_slice(), v.as_deref())))?;
            }
            Ok(())
        })
        .await
    }
}

/// Reads the whole file into `state`; returns its entries in order.
fn read(path: &Path, state: &mut FileState) -> std::io::Result<Vec<RawEntry>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e),
    };
    *state = FileState {
        loaded: true,
        ..FileState::default()
    };
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        state.lines += 1;
        // A torn last line after a crash is skipped: its flush never completed.
        let Some((key, value)) = decode_line(line) else {
            state.torn = true;
            continue;
        };
        state.apply(&key, value.as_deref());
        out.push((key, value));
    }
    state.torn |= !text.is_empty() && !text.ends_with('\n');
    Ok(out)
}

/// One entry as a line, with its newline.
fn encode_line(buf: &mut Vec<u8>, key: &[u8], value: Option<&[u8]>) {
    let line = (
        String::from_utf8_lossy(key),
        value.map(|v| String::from_utf8_lossy(v).into_owned()),
    );
    serde_json::to_writer(&mut *buf, &line).expect("strings serialize");
    buf.push(b'\n');
}

/// One line as an entry; `None` for a line that is not one (torn).
fn decode_line(line: &str) -> Option<RawEntry> {
    let (key, value) = serde_json::from_str::<(String, Option<String>)>(line).ok()?;
    Some((key.into_bytes(), value.map(String::into_bytes)))
}

fn lines<'a>(entries: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>) -> Vec<u8> {
    let mut buf = Vec::new();
    for (k, v) in entries {
        encode_line(&mut buf, k, v);
    }
    buf
}

/// Appends entries and waits until they are on disk.
fn append<'a>(
    path: &Path,
    entries: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(&lines(entries))?;
    f.sync_data()
}

/// Replaces the file with `entries`: written to a temporary file beside it, synced, renamed
/// over it, and the directory synced, so a crash leaves either the old file or the new one.
fn rewrite<'a>(
    path: &Path,
    entries: impl Iterator<Item = (&'a [u8], Option<&'a [u8]>)>,
) -> std::io::Result<()> {
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    let mut f = File::create(&tmp)?;
    f.write_all(&lines(entries))?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // Make the rename durable; a platform that cannot open directories skips this.
    if let Ok(d) = File::open(dir) {
        d.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(key: &str, value: Option<&str>) -> RawEntry {
        (key.as_bytes().to_vec(), value.map(|v| v.as_bytes().to_vec()))
    }

    async fn reload(path: &Path) -> IndexMap<Vec<u8>, Vec<u8>> {
        let backend = FileOffsetBackend::new(path);
        let mut last = IndexMap::new();
        for (k, v) in backend.load().await.unwrap() {
            match v {
                Some(v) => last.insert(k, v),
                None => last.shift_remove(&k),
            };
        }
        last
    }

    #[tokio::test]
    async fn a_growing_file_is_compacted_to_the_last_value_per_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offsets.jsonl");
        let backend = FileOffsetBackend::new(&path);
        backend.load().await.unwrap();
        let mut largest = 0;
        for i in 0..200 {
            let pos = i.to_string();
            backend
                .write(&[
                    entry("a", Some(&pos)),
                    entry("b", Some(&pos)),
                    entry("gone", Some("1")),
                ])
                .await
                .unwrap();
            backend.write(&[entry("gone", None)]).await.unwrap();
            largest = largest.max(std::fs::metadata(&path).unwrap().len());
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines = text.lines().count();
        // 800 lines were written; compaction keeps the file within 2x the live keys (or the floor).
        assert!(lines <= COMPACT_AFTER_LINES + 4, "{lines} lines");
        assert!(largest < 800 * 10, "the file grew to {largest} bytes");
        assert!(!path.with_file_name("offsets.jsonl.tmp").exists());

        let last = reload(&path).await;
        assert_eq!(last.len(), 2);
        assert_eq!(last[&b"a".to_vec()], b"199");
        assert_eq!(last[&b"b".to_vec()], b"199");
    }

    #[tokio::test]
    async fn a_reload_after_compaction_gives_the_same_offsets_and_appends_continue() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offsets.jsonl");
        let backend = FileOffsetBackend::new(&path);
        for i in 0..(COMPACT_AFTER_LINES - 1) {
            backend.write(&[entry("k", Some(&i.to_string()))]).await.unwrap();
        }
        let before_len = std::fs::metadata(&path).unwrap().len();
        let before = reload(&path).await;
        backend.write(&[entry("k", Some("last"))]).await.unwrap();
        let after_len = std::fs::metadata(&path).unwrap().len();
        assert!(after_len < before_len, "{after_len} >= {before_len}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "[\"k\",\"last\"]\n");
        assert_eq!(
            before[&b"k".to_vec()],
            (COMPACT_AFTER_LINES - 2).to_string().as_bytes()
        );

        // A second backend (a restarted worker) reads the compacted file, then appends to it.
        let restarted = FileOffsetBackend::new(&path);
        assert_eq!(restarted.load().await.unwrap(), vec![entry("k", Some("last"))]);
        restarted.write(&[entry("j", Some("1"))]).await.unwrap();
        let last = reload(&path).await;
        assert_eq!(last[&b"k".to_vec()], b"last");
        assert_eq!(last[&b"j".to_vec()], b"1");
    }

    #[tokio::test]
    async fn a_write_before_any_load_keeps_what_the_file_held() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offsets.jsonl");
        let old: String = (0..COMPACT_AFTER_LINES)
            .map(|i| format!("[\"old{i}\",\"1\"]\n"))
            .collect();
        std::fs::write(&path, old).unwrap();
        let backend = FileOffsetBackend::new(&path);
        for _ in 0..COMPACT_AFTER_LINES * 2 {
            backend.write(&[entry("new", Some("2"))]).await.unwrap();
        }
        let last = reload(&path).await;
        assert_eq!(last.len(), COMPACT_AFTER_LINES + 1);
        assert_eq!(last[&b"old0".to_vec()], b"1");
    }

    #[tokio::test]
    async fn a_torn_last_line_is_skipped_and_rewritten_before_the_next_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("offsets.jsonl");
        std::fs::write(&path, "[\"k\",\"1\"]\n[\"k\",\"2").unwrap();
        let backend = FileOffsetBackend::new(&path);
        assert_eq!(backend.load().await.unwrap(), vec![entry("k", Some("1"))]);
        backend.write(&[entry("j", Some("3"))]).await.unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[\"k\",\"1\"]\n[\"j\",\"3\"]\n"
        );
    }
}
