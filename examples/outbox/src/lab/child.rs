//! Child processes that cannot outlive the lab.
//!
//! Every child is spawned from one long-lived thread with `PR_SET_PDEATHSIG =
//! SIGKILL` (the signal fires when the spawning *thread* ends, hence the dedicated
//! thread), and in its own process group, so a terminal's Ctrl-C reaches only the
//! lab, which then stops its children in order.

use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

type SpawnRequest = (Command, mpsc::Sender<io::Result<Child>>);

/// Spawns `cmd` so that it gets SIGKILL when this process dies.
pub fn spawn(mut cmd: Command) -> io::Result<Child> {
    // SAFETY: prctl is async-signal-safe; the closure touches no shared state.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.process_group(0);
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnRequest>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnRequest>();
        std::thread::Builder::new()
            .name("outbox-lab-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
                // Keep the thread (the children's "parent") alive for the whole process.
                loop {
                    std::thread::park();
                }
            })
            .expect("spawn the child-spawning thread");
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    spawner
        .lock()
        .expect("spawner lock")
        .send((cmd, reply_tx))
        .map_err(|_| io::Error::other("spawner thread is gone"))?;
    reply_rx
        .recv()
        .map_err(|_| io::Error::other("spawner thread is gone"))?
}

/// Called with each stdout line of a [`Service`].
pub type LineHook = Box<dyn Fn(&str) + Send>;

/// A running child whose stdout lines are kept (and passed to a hook) and whose
/// stderr goes to a log file. Killed when dropped.
pub struct Service {
    pub name: String,
    child: Option<Child>,
    lines: Arc<Mutex<Vec<String>>>,
    log: PathBuf,
}

impl Service {
    /// Starts `cmd`; stdout and stderr are appended to `log`.
    pub fn start(name: &str, mut cmd: Command, log: &Path, hook: Option<LineHook>) -> io::Result<Service> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(log)?;
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(file.try_clone()?);
        let mut child = spawn(cmd)?;
        let stdout = child.stdout.take().expect("piped stdout");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let kept = lines.clone();
        std::thread::Builder::new()
            .name(format!("{name}-stdout"))
            .spawn(move || {
                let mut file = file;
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let _ = writeln!(file, "{line}");
                    if let Some(hook) = &hook {
                        hook(&line);
                    }
                    kept.lock().expect("lines lock").push(line);
                }
            })?;
        tracing::debug!(name, pid = child.id(), "started");
        Ok(Service {
            name: name.to_owned(),
            child: Some(child),
            lines,
            log: log.to_owned(),
        })
    }

    /// Process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// stdout lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lines lock").clone()
    }

    /// The log file (stdout and stderr).
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The log file's text.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Exit status if the process has ended.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// Waits up to `timeout` for the process to end by itself.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_wait() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGTERM, then SIGKILL after `grace`; returns the exit status.
    pub fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        let pid = self.pid()?;
        if self.try_wait().is_none() {
            // SAFETY: signalling our own child by pid.
            unsafe {
                libc::kill(pid as i32, libc::SIGTERM);
            }
        }
        let status = self.wait_exit(grace).or_else(|| {
            tracing::warn!(name = %self.name, "did not stop after SIGTERM; killing");
            let c = self.child.as_mut()?;
            let _ = c.kill();
            c.wait().ok()
        });
        self.child = None;
        status
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `exit 0`, `exit 3`, `killed by signal 9`.
pub fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(c), _) => format!("exit {c}"),
        (None, Some(libc::SIGKILL)) => "killed by SIGKILL".into(),
        (None, Some(s)) => format!("killed by signal {s}"),
        _ => status.to_string(),
    }
}
