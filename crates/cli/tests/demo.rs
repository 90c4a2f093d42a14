//! `prestalink demo` as the front door: after its two syncs it keeps serving the API and the
//! pages, prints the dashboard URL, an API key and the Link page of an unlinked company,
//! keeps syncing every few seconds, and stops cleanly on Ctrl-C (SIGINT).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The text after `prefix` on the first line that starts with it.
fn after<'a>(lines: &'a [String], prefix: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?} in:\n{}", lines.join("\n")))
        .trim()
}

async fn get(url: &str, key: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(url);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let answer = request.send().await.expect("the demo answers");
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap_or_default())
}

async fn datasets(api: &str, key: &str, company: &str) -> usize {
    let (status, body) = get(
        &format!("{api}/companies/{company}/data/history?pageSize=500"),
        Some(key),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let history: Value = serde_json::from_str(&body).unwrap();
    history["totalResults"].as_u64().unwrap() as usize
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serves_until_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_prestalink"))
        .args(["demo", "--orders", "150", "--db"])
        .arg(&db)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("prestalink starts");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut lines = Vec::new();
    let started = Instant::now();
    while !lines.iter().any(|l: &String| l.starts_with("Dashboard: ")) {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(line) => lines.push(line),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(e) => panic!("demo output ended ({e}):\n{}", lines.join("\n")),
        }
        if started.elapsed() > Duration::from_secs(240) {
            let _ = child.kill();
            panic!("no dashboard URL after 240 s:\n{}", lines.join("\n"));
        }
    }
    let api = after(&lines, "== the API serves the demo database at");
    let key = after(&lines, "API key (shown once):");
    let link = after(&lines, "Link page of a second, unlinked company:");
    let dashboard = after(&lines, "Dashboard:")
        .split_whitespace()
        .next()
        .unwrap();
    assert_eq!(dashboard, format!("{api}/dashboard"));
    assert!(dashboard.starts_with("http://127.0.0.1:"), "{dashboard}");

    // The API answers with the printed key; the second company is not linked.
    let (status, body) = get(&format!("{api}/companies"), Some(key)).await;
    assert_eq!(status, 200, "{body}");
    let companies: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(companies["totalResults"], 2, "{companies}");
    let results = companies["results"].as_array().unwrap();
    let unlinked = results
        .iter()
        .find(|c| link.ends_with(c["id"].as_str().unwrap()))
        .expect("the Link URL's company");
    let synced = results.iter().find(|c| c["id"] != unlinked["id"]).unwrap();
    let synced = synced["id"].as_str().unwrap();

    // Its Link page is served.
    let (status, page) = get(link, None).await;
    assert_eq!(status, 200);
    assert!(page.contains("Connect your PrestaShop store"), "{page}");

    // The store keeps being synced: new pull operations appear every few seconds.
    let before = datasets(api, key, synced).await;
    let waited = Instant::now();
    while datasets(api, key, synced).await <= before {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "no new sync in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // Ctrl-C stops it cleanly.
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let stopped = Instant::now();
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(60),
            "still running 60 s after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    while let Ok(line) = rx.recv_timeout(Duration::from_millis(500)) {
        lines.push(line);
    }
    assert!(exit.success(), "exit {exit:?}:\n{}", lines.join("\n"));
    assert!(
        lines.iter().any(|l| l == "stopping"),
        "{}",
        lines.join("\n")
    );
}
