//! Process figures from /proc: CPU time, resident memory, children.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn clk_tck() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as f64
    } else {
        100.0
    }
}

/// Fields of /proc/PID/stat after the command name (index 0 is field 3, `state`).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// User + system CPU seconds of a process (all its threads).
pub fn cpu_secs(pid: u32) -> f64 {
    stat_fields(pid)
        .map(|f| {
            let u: f64 = f[11].parse().unwrap_or(0.0);
            let s: f64 = f[12].parse().unwrap_or(0.0);
            (u + s) / clk_tck()
        })
        .unwrap_or(0.0)
}

pub fn ppid(pid: u32) -> Option<u32> {
    stat_fields(pid).and_then(|f| f[1].parse().ok())
}

pub fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn status_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Resident set size in KiB.
pub fn rss_kb(pid: u32) -> u64 {
    status_kb(pid, "VmRSS:")
}

/// Peak resident set size (high-water mark) in KiB.
pub fn hwm_kb(pid: u32) -> u64 {
    status_kb(pid, "VmHWM:")
}

/// Every process id.
pub fn all_pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Children of `parent` whose command is `name`.
pub fn children_named(parent: u32, name: &str) -> Vec<u32> {
    all_pids()
        .into_iter()
        .filter(|p| ppid(*p) == Some(parent) && comm(*p) == name)
        .collect()
}

/// A process and its direct children (e.g. the postmaster and its backends).
pub fn tree_cpu_secs(root: u32) -> f64 {
    let mut total = cpu_secs(root);
    for p in all_pids() {
        if ppid(p) == Some(root) {
            total += cpu_secs(p);
        }
    }
    total
}

/// Samples a process's RSS every 50 ms and keeps the maximum.
pub struct RssSampler {
    stop: Arc<AtomicBool>,
    max: Arc<AtomicU64>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    pub fn start(pid: u32) -> RssSampler {
        let stop = Arc::new(AtomicBool::new(false));
        let max = Arc::new(AtomicU64::new(0));
        let (s, m) = (stop.clone(), max.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                m.fetch_max(rss_kb(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        RssSampler {
            stop,
            max,
            handle: Some(handle),
        }
    }

    /// Stops sampling; returns the maximum RSS seen, in KiB.
    pub fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
        self.max.load(Ordering::Relaxed)
    }
}
