//! Locating the `ferry` binary under test.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The `ferry` executable: `$FERRY_BIN` when set, else built once per process with
/// `cargo build -p ferry --message-format=json` (the same profile and target dir as the
/// running `cargo test`, so under `cargo test --workspace` it is already fresh and this
/// takes a second). The path comes from cargo's `compiler-artifact` message.
pub fn ferry_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("FERRY_BIN") {
            let p = PathBuf::from(p);
            assert!(p.exists(), "FERRY_BIN={} does not exist", p.display());
            return p;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let workspace = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
        let mut cmd = Command::new(cargo);
        // Drop what `cargo test` sets for the test process (package metadata, OUT_DIR, ...):
        // build scripts that watch such variables would otherwise rebuild on every switch
        // between the outer `cargo test` and this build.
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy();
            let set_by_cargo_for_tests = k.starts_with("CARGO_PKG_")
                || k.starts_with("CARGO_MANIFEST_")
                || k.starts_with("CARGO_BIN_")
                || [
                    "CARGO_CRATE_NAME",
                    "CARGO_PRIMARY_PACKAGE",
                    "CARGO_TARGET_TMPDIR",
                    "CARGO_RUSTC_CURRENT_DIR",
                    "OUT_DIR",
                    "RUST_TEST_THREADS",
                ]
                .contains(&k.as_ref());
            if set_by_cargo_for_tests {
                cmd.env_remove(k.as_ref());
            }
        }
        let out = cmd
            .current_dir(workspace)
            .args(["build", "-p", "ferry", "--bin", "ferry", "--message-format=json"])
            .stderr(Stdio::inherit())
            .output()
            .expect("run cargo build -p ferry");
        assert!(out.status.success(), "cargo build -p ferry failed");
        let text = String::from_utf8_lossy(&out.stdout);
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            if v["reason"] == "compiler-artifact" && v["target"]["name"] == "ferry" {
                if let Some(exe) = v["executable"].as_str() {
                    return PathBuf::from(exe);
                }
            }
        }
        panic!("cargo build -p ferry reported no ferry executable");
    })
    .clone()
}
