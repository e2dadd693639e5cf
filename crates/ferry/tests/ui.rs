//! The `/ui` status page in a real headless Chromium (Debian package `chromium`): the
//! worker runs a FileStreamSource connector fed continuously, Chromium renders the page
//! (its script polls the REST API and /metrics), the rendered DOM must show the
//! connector RUNNING with its task, hidden secrets and an events/s chart, and the
//! screenshot is written to docs/ui.png when FERRY_UPDATE_SCREENSHOT is set (to a temporary
//! folder otherwise).
//!
//! Skipped, with a message, only when Chromium is absent and CI is unset.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{create_connector, wait_state, WorkerSetup};
use ferry_test_support::kafka::Tansu;

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            let out = Command::new("sh")
                .arg("-c")
                .arg(format!("command -v {name}"))
                .output()
                .ok()?;
            let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            (!path.is_empty()).then(|| PathBuf::from(path))
        })
}

/// Runs headless Chromium on `url` with `mode` (`--dump-dom` or `--screenshot=PATH`);
/// returns its stdout.
fn run_chromium(bin: &Path, profile: &Path, mode: &str, url: &str) -> String {
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--hide-scrollbars",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            "--virtual-time-budget=12000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(mode)
        .arg(url)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium {mode} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_shows_a_running_connector_and_its_chart_in_chromium() {
    let Some(bin) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI is set but Chromium is missing: scripts/setup.sh chromium installs it"
        );
        eprintln!(
            "SKIPPED: Chromium is not installed (scripts/setup.sh chromium); the /ui page was not rendered"
        );
        return;
    };
    let broker = Tansu::shared();
    let setup = WorkerSetup::new("ui", broker, &[]);
    let ferry = setup.start();
    let input = setup.path("orders.txt");
    std::fs::write(&input, "").unwrap();
    let topic = setup.names.topic("orders");
    let config = serde_json::json!({
        "connector.class": "org.apache.kafka.connect.file.FileStreamSourceConnector",
        "tasks.max": "1",
        "file": input.to_str().unwrap(),
        "topic": topic,
        "topic.creation.default.partitions": "1",
        "topic.creation.default.replication.factor": "1",
        "notification.api.token": "tok-should-not-show",
    });
    let created = create_connector(&ferry, "orders-feed", &config).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    wait_state(&ferry, "orders-feed", "RUNNING", &["RUNNING"]).await;

    // Feed the file while the page is open, so the chart has something to show.
    let stop = Arc::new(AtomicBool::new(false));
    let feeder = {
        let (stop, input) = (stop.clone(), input.clone());
        std::thread::spawn(move || {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new().append(true).open(&input).unwrap();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let burst = 20 + (n / 20) % 40;
                for _ in 0..burst {
                    writeln!(f, "order {n}").unwrap();
                    n += 1;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            n
        })
    };
    tokio::time::sleep(Duration::from_secs(4)).await;

    let profile = tempfile::tempdir().unwrap();
    let url = ferry.url("/ui");
    let dom = {
        let (bin, profile, url) = (bin.clone(), profile.path().to_owned(), url.clone());
        tokio::task::spawn_blocking(move || run_chromium(&bin, &profile, "--dump-dom", &url))
            .await
            .unwrap()
    };
    let card = dom
        .find(r#"data-connector="orders-feed""#)
        .unwrap_or_else(|| panic!("the rendered page shows no orders-feed card:\n{dom}"));
    let card = &dom[card..];
    assert!(
        card.starts_with(r#"data-connector="orders-feed" data-state="RUNNING""#),
        "{card}"
    );
    assert!(
        card.contains(r#"<span class="state RUNNING">RUNNING</span>"#),
        "{card}"
    );
    assert!(
        card.contains(r#"data-task="orders-feed-0""#),
        "no task row: {card}"
    );
    assert!(card.contains("FileStreamSourceConnector"), "{card}");
    assert!(card.contains("[hidden]"), "the token is not masked: {card}");
    assert!(!dom.contains("tok-should-not-show"), "a secret reached the page");
    let chart = card
        .find(r#"data-chart="events/s""#)
        .map(|i| &card[i..])
        .expect("no events/s chart");
    let chart = &chart[..chart
        .find("</svg>")
        .unwrap_or_else(|| panic!("the events/s chart has no plot: {chart}"))];
    assert!(chart.contains("<path"), "{chart}");

    // docs/ui.png is rewritten only on request, so a test run leaves the checkout clean.
    let shot = if std::env::var_os("FERRY_UPDATE_SCREENSHOT").is_some() {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/ui.png")
    } else {
        profile.path().join("ui.png")
    };
    let shot_arg = format!("--screenshot={}", shot.display());
    {
        let (bin, profile, url) = (bin.clone(), profile.path().to_owned(), url.clone());
        tokio::task::spawn_blocking(move || run_chromium(&bin, &profile, &shot_arg, &url))
            .await
            .unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    let fed = feeder.join().unwrap();
    let png = std::fs::read(&shot).expect("no screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    assert!(
        png.len() > 20_000,
        "a {}-byte screenshot is too small to show the page",
        png.len()
    );
    eprintln!(
        "fed {fed} lines; screenshot {} bytes at {}",
        png.len(),
        shot.display()
    );
}
