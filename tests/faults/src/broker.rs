//! Faults on the Tansu broker.
//!
//! `ferry_test_support::kafka::Tansu` keeps its child process private; the broker's pid is
//! found here from `/proc/*/cmdline` (the `tansu broker --listener-url tcp://127.0.0.1:PORT`
//! process, whose port is unique), so test-support stays untouched.

use ferry_test_support::kafka::Tansu;

/// The pid of the Tansu process serving `broker`.
pub fn tansu_pid(broker: &Tansu) -> i32 {
    let want = format!("tcp://{}", broker.bootstrap);
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let is_tansu = args.first().is_some_and(|a| a.ends_with("tansu"));
        if is_tansu && args.iter().any(|a| a == &want) {
            return pid;
        }
    }
    panic!("no tansu process listens on {}", broker.bootstrap);
}

/// SIGSTOP: the broker keeps its sockets but answers nothing.
pub fn pause(pid: i32) {
    assert_eq!(unsafe { libc::kill(pid, libc::SIGSTOP) }, 0, "SIGSTOP {pid}");
}

/// SIGCONT.
pub fn resume(pid: i32) {
    assert_eq!(unsafe { libc::kill(pid, libc::SIGCONT) }, 0, "SIGCONT {pid}");
}

/// Resumes the broker when dropped (so a failing test never leaves it stopped).
pub struct ResumeOnDrop(pub i32);

impl Drop for ResumeOnDrop {
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.0, libc::SIGCONT);
        }
    }
}
