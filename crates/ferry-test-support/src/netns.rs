//! Running a test inside a private network and mount namespace, so that fixed
//! host names and ports from real-world configs (`postgres:5432`) work unchanged
//! without touching the machine: the namespace has its own loopback and its own
//! `/etc/hosts` (a bind mount visible only inside).

use std::process::Command;

const INSIDE: &str = "FERRY_TEST_NETNS";

/// In the parent: re-runs test `test` of the current test binary inside a new
/// namespace, asserts it passed, and returns `false` (the caller returns).
/// Inside the namespace: brings loopback up, maps `hostnames` to 127.0.0.1 and
/// returns `true` (the caller runs the test body).
pub fn run_inside_private_network(test: &str, hostnames: &[&str]) -> bool {
    if std::env::var_os(INSIDE).is_some() {
        let ok = |c: &mut Command| c.status().map(|s| s.success()).unwrap_or(false);
        assert!(
            ok(Command::new("ip").args(["link", "set", "lo", "up"])),
            "ip link set lo up failed"
        );
        let hosts = std::env::temp_dir().join(format!("ferry-hosts-{}", std::process::id()));
        let mut text = String::from("127.0.0.1 localhost\n::1 localhost\n");
        for h in hostnames {
            text.push_str(&format!("127.0.0.1 {h}\n"));
        }
        std::fs::write(&hosts, text).expect("write hosts file");
        assert!(
            ok(Command::new("mount").arg("--bind").arg(&hosts).arg("/etc/hosts")),
            "bind-mounting a private /etc/hosts failed"
        );
        return true;
    }
    let exe = std::env::current_exe().expect("current test binary");
    let status = Command::new("unshare")
        .args(["--net", "--mount", "--fork", "--"])
        .arg(exe)
        .args([test, "--exact", "--nocapture", "--test-threads", "1"])
        .env(INSIDE, "1")
        .status()
        .expect("run unshare (util-linux) to create a private network namespace");
    assert!(
        status.success(),
        "{test} failed inside its private network namespace"
    );
    false
}
