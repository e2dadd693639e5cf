//! Debezium's file signal channel: one JSON signal per line (`{"id", "type", "data"}`) in
//! `signal.file` (default `file-signals.txt`), read every `signal.poll.interval.ms`; a file
//! with lines is emptied once read, as `FileSignalChannel` does.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ferry_core::ConfigMap;
use tracing::{info, warn};

use super::signal::Signal;

/// Debezium's default `signal.file`.
pub const DEFAULT_FILE: &str = "file-signals.txt";
/// Debezium's default `signal.poll.interval.ms`.
const DEFAULT_POLL_MS: u64 = 5000;

/// The file signal channel of one task.
pub struct FileSignals {
    path: PathBuf,
    every: Duration,
    next: Instant,
}

impl FileSignals {
    /// The channel, when `signal.enabled.channels` names `file`.
    pub fn from_config(cfg: &ConfigMap) -> Option<FileSignals> {
        let enabled = cfg
            .get("signal.enabled.channels")
            .is_some_and(|s| s.split(',').any(|c| c.trim().eq_ignore_ascii_case("file")));
        if !enabled {
            return None;
        }
        let path = cfg
            .get("signal.file")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .unwrap_or(DEFAULT_FILE);
        let every = cfg
            .get("signal.poll.interval.ms")
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or(DEFAULT_POLL_MS);
        info!(file = %path, "file signal channel is active");
        Some(FileSignals {
            path: PathBuf::from(path),
            every: Duration::from_millis(every),
            next: Instant::now(),
        })
    }

    /// The signals written since the last read, at most once per poll interval.
    pub fn poll(&mut self) -> Vec<Signal> {
        let now = Instant::now();
        if now < self.next {
            return Vec::new();
        }
        self.next = now + self.every;
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
            Err(e) => {
                warn!(file = %self.path.display(), error = %e, "cannot read the signal file");
                return Vec::new();
            }
        };
        if text.trim().is_empty() {
            return Vec::new();
        }
        if let Err(e) = std::fs::write(&self.path, "") {
            warn!(file = %self.path.display(), error = %e, "cannot empty the signal file; its signals are not acted on");
            return Vec::new();
        }
        text.lines()
            .filter(|l| !l.trim().is_empty())
            .filter_map(|line| match Signal::from_json(line) {
                Some(s) if !s.id.is_empty() && !s.kind.is_empty() => {
                    info!(id = %s.id, kind = %s.kind, "processing signal from the file channel");
                    Some(s)
                }
                _ => {
                    warn!(line, "skipped a signal line that is not a JSON signal");
                    None
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_each_line_once_and_empties_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("signals.txt");
        let cfg: ConfigMap = [
            ("signal.enabled.channels", "source,file"),
            ("signal.file", file.to_str().unwrap()),
            ("signal.poll.interval.ms", "0"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let mut ch = FileSignals::from_config(&cfg).expect("enabled");
        assert!(ch.poll().is_empty(), "no file yet");
        std::fs::write(
            &file,
            "{\"id\":\"f1\",\"type\":\"execute-snapshot\",\"data\":{\"data-collections\":[\"public.t\"]}}\n\nnot json\n{\"id\":\"f2\",\"type\":\"pause-snapshot\"}\n",
        )
        .unwrap();
        let got = ch.poll();
        let ids: Vec<&str> = got.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["f1", "f2"]);
        assert_eq!(got[0].data, r#"{"data-collections":["public.t"]}"#);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "");
        assert!(ch.poll().is_empty(), "read once");

        let off: ConfigMap = [("signal.enabled.channels", "source")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert!(FileSignals::from_config(&off).is_none());
    }
}
