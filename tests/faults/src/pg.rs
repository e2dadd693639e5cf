//! Faults on PostgreSQL: `pg_ctl restart` of a private cluster, killing the walsender,
//! dropping the slot.

use std::path::PathBuf;
use std::process::Command;

use ferry_test_support::postgres::PgCluster;

fn bin_dir() -> PathBuf {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if p.join("pg_ctl").exists() {
                return p;
            }
        }
    }
    PathBuf::from("/usr/lib/postgresql/15/bin")
}

fn is_root() -> bool {
    unsafe { libc::geteuid() == 0 }
}

/// `pg_ctl restart -m MODE` of a private cluster (as user `postgres` when we are root).
/// The server log goes on in the cluster's `server.log`.
pub fn restart(pg: &PgCluster, mode: &str) {
    let data = pg.data_dir();
    let log = data.parent().unwrap().join("server.log");
    let pg_ctl = bin_dir().join("pg_ctl");
    let mut cmd = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(pg_ctl);
        c
    } else {
        Command::new(pg_ctl)
    };
    let out = cmd
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(&log)
        .args(["-m", mode, "-w", "-t", "120", "restart"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run pg_ctl restart");
    assert!(
        out.status.success(),
        "pg_ctl restart -m {mode} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        ferry_test_support::net::wait_for_port(pg.port(), std::time::Duration::from_secs(30)),
        "PostgreSQL did not come back"
    );
}

/// `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = slot`;
/// true when a walsender was terminated.
pub async fn kill_walsender(db: &tokio_postgres::Client, slot: &str) -> bool {
    let row = db
        .query_one(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(active_pid)) FROM pg_replication_slots \
             WHERE slot_name = $1 AND active_pid IS NOT NULL",
            &[&slot],
        )
        .await
        .expect("terminate walsender");
    row.get::<_, i64>(0) > 0
}
