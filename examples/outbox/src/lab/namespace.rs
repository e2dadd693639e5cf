//! A private network, mount and PID namespace for the demo, so the seed's
//! connector JSON works verbatim: inside, `postgres` resolves to 127.0.0.1 (a
//! bind-mounted `/etc/hosts` seen only there) and PostgreSQL listens on 5432, the
//! machine's own ports and hosts file are untouched, and — the demo being PID 1
//! of its PID namespace — every process it started dies with it.

use std::io;
use std::process::{Command, ExitStatus};
use std::time::Duration;

/// Set in the environment of the re-executed demo inside the namespace.
pub const INSIDE_ENV: &str = "OUTBOX_LAB_INSIDE_NAMESPACE";

/// Whether this process runs inside the namespace made by [`run_self_inside`].
pub fn inside() -> bool {
    std::env::var_os(INSIDE_ENV).is_some()
}

/// Whether namespaces can be made here (root and `unshare` available).
pub fn available() -> bool {
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    root && Command::new("unshare")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Re-runs the current executable with `args` inside new network, mount and PID
/// namespaces and waits for it. SIGINT (Ctrl-C) reaches the inner process directly
/// from the terminal; a SIGTERM sent to this process is passed on as SIGINT.
pub async fn run_self_inside(args: &[String]) -> io::Result<ExitStatus> {
    let exe = std::env::current_exe()?;
    let mut cmd = Command::new("unshare");
    // --kill-child: if unshare dies, the inner process (PID 1) gets SIGKILL, which
    // ends every process of the PID namespace.
    cmd.args([
        "--net",
        "--mount",
        "--pid",
        "--fork",
        "--kill-child",
        "--mount-proc",
        "--",
    ])
    .arg(exe)
    .args(args)
    .env(INSIDE_ENV, "1");
    // Not super::child::spawn: the inner demo stays in the terminal's process group
    // so that Ctrl-C reaches it; PDEATHSIG still ties unshare to us.
    // SAFETY: prctl is async-signal-safe.
    unsafe {
        use std::os::unix::process::CommandExt;
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    let mut child = cmd.spawn()?;
    let unshare_pid = child.id();
    use tokio::signal::unix::{signal, SignalKind};
    let mut int = signal(SignalKind::interrupt())?;
    let mut term = signal(SignalKind::terminate())?;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        tokio::select! {
            _ = int.recv() => {} // the inner demo got it too and is cleaning up
            _ = term.recv() => forward_sigint(unshare_pid),
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}

/// Sends SIGINT to the children of `pid` (the inner demo).
fn forward_sigint(pid: u32) {
    let path = format!("/proc/{pid}/task/{pid}/children");
    for child in std::fs::read_to_string(path)
        .unwrap_or_default()
        .split_whitespace()
    {
        if let Ok(p) = child.parse::<i32>() {
            // SAFETY: signalling a process by pid.
            unsafe {
                libc::kill(p, libc::SIGINT);
            }
        }
    }
}

/// Inside the namespace: brings loopback up and maps `hostnames` to 127.0.0.1.
pub fn setup_inside(hostnames: &[&str]) -> io::Result<()> {
    let run = |cmd: &mut Command| -> io::Result<()> {
        let out = cmd.output()?;
        if out.status.success() {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "{cmd:?} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )))
        }
    };
    run(Command::new("ip").args(["link", "set", "lo", "up"]))?;
    let mut text = String::from("127.0.0.1 localhost\n::1 localhost\n");
    for h in hostnames {
        text.push_str(&format!("127.0.0.1 {h}\n"));
    }
    // The bind mount keeps the file's inode; the path itself is removed on drop.
    let hosts = tempfile::Builder::new().prefix("outbox-lab-hosts-").tempfile()?;
    std::fs::write(hosts.path(), text)?;
    run(Command::new("mount")
        .arg("--bind")
        .arg(hosts.path())
        .arg("/etc/hosts"))
}
