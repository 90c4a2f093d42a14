//! Browser tests' harness, shared by every page test: headless Chromium (the binary in
//! `PRESTALINK_TEST_CHROMIUM`) driven over the DevTools protocol with `chromiumoxide`,
//! full-page screenshots saved to `target/screenshots/NAME.png`, and axe-core (npm package,
//! installed into `target/ci-npm`) injected into the page, failing on any serious or
//! critical violation.
//!
//! Use: `let Some(browser) = Browser::launch("my_test").await else { return };` (prints a
//! "skipped" line when the variable is unset), then `browser.open(url)`, the `Tab` helpers,
//! `tab.screenshot("name")` and `tab.axe("name")`. Browser tests take `serial().await` first: one
//! Chromium at a time on small CI machines.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chromiumoxide::browser::{Browser as Cdp, BrowserConfig};
use chromiumoxide::cdp::browser_protocol::emulation::SetDeviceMetricsOverrideParams;
use chromiumoxide::cdp::browser_protocol::network::{Headers, SetExtraHttpHeadersParams};
use chromiumoxide::cdp::browser_protocol::page::{CaptureScreenshotFormat, SetBypassCspParams};
use chromiumoxide::cdp::js_protocol::runtime::EvaluateParams;
use chromiumoxide::page::{Page, ScreenshotParams};
use futures::StreamExt;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// The variable naming the Chromium binary.
pub const CHROMIUM_ENV: &str = "PRESTALINK_TEST_CHROMIUM";

static ONE_BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Runs browser tests one at a time (hold the guard for the whole test; a test that fails
/// releases it as it unwinds).
pub async fn serial() -> tokio::sync::MutexGuard<'static, ()> {
    ONE_BROWSER.lock().await
}

/// Longest wait for one browser step (launch, navigation, script, screenshot): a hang fails
/// the test instead of stalling the run.
pub const STEP_LIMIT: Duration = Duration::from_secs(60);

/// `step` within [`STEP_LIMIT`], or a panic naming `what`.
pub async fn within<T>(what: &str, step: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(STEP_LIMIT, step).await {
        Ok(value) => value,
        Err(_) => panic!("browser step '{what}' took more than {STEP_LIMIT:?}"),
    }
}

/// The workspace's `target/` directory.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
    }
}

/// A headless Chromium.
pub struct Browser {
    cdp: Cdp,
    events: tokio::task::JoinHandle<()>,
    _profile: tempfile::TempDir,
}

/// One page of the browser.
pub struct Tab {
    /// The chromiumoxide page, for what the helpers lack.
    pub page: Page,
}

impl Browser {
    /// Starts Chromium, or prints "`test`: skipped" and returns `None` when
    /// `PRESTALINK_TEST_CHROMIUM` is unset.
    pub async fn launch(test: &str) -> Option<Browser> {
        let Some(binary) = std::env::var(CHROMIUM_ENV).ok().filter(|v| !v.is_empty()) else {
            eprintln!("{test}: skipped ({CHROMIUM_ENV} not set)");
            return None;
        };
        let profile = tempfile::tempdir().expect("profile directory");
        let config = BrowserConfig::builder()
            .chrome_executable(&binary)
            .no_sandbox()
            .user_data_dir(profile.path())
            .window_size(1280, 900)
            .viewport(None)
            // chromiumoxide puts `--` in front of each argument itself: given with theirs,
            // Chromium saw `----disable-gpu` and ignored every one of them.
            .args([
                "disable-gpu",
                "disable-background-networking",
                "disable-dev-shm-usage",
                "hide-scrollbars",
                "font-render-hinting=none",
            ])
            .build()
            .expect("browser configuration");
        let (cdp, mut handler) = within("launch Chromium", Cdp::launch(config))
            .await
            .unwrap_or_else(|e| panic!("cannot start Chromium at {binary}: {e}"));
        // Events the protocol crate does not know are reported as errors; the browser
        // keeps working, so the loop reads on.
        let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Some(Browser {
            cdp,
            events,
            _profile: profile,
        })
    }

    /// Opens `url` in a new tab (1280 px wide) and waits for it to load.
    pub async fn open(&self, url: &str) -> Tab {
        self.open_with_language(url, None).await
    }

    /// Opens `url` with an `Accept-Language` header (`fr-FR,fr;q=0.9`).
    pub async fn open_with_language(&self, url: &str, accept_language: Option<&str>) -> Tab {
        let page = within("open a tab", self.cdp.new_page("about:blank"))
            .await
            .expect("new tab");
        page.execute(
            SetDeviceMetricsOverrideParams::builder()
                .width(1280)
                .height(900)
                .device_scale_factor(1.0)
                .mobile(false)
                .build()
                .expect("metrics"),
        )
        .await
        .expect("viewport");
        // axe is injected by the test, not loaded by the page: the pages' CSP would refuse it.
        page.execute(SetBypassCspParams::new(true))
            .await
            .expect("bypass CSP");
        if let Some(language) = accept_language {
            let headers = Headers::new(serde_json::json!({ "Accept-Language": language }));
            page.execute(SetExtraHttpHeadersParams::new(headers))
                .await
                .expect("headers");
        }
        let tab = Tab { page };
        tab.goto(url).await;
        tab
    }

    /// Closes Chromium.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(STEP_LIMIT, self.cdp.close()).await;
        let _ = tokio::time::timeout(STEP_LIMIT, self.cdp.wait()).await;
        self.events.abort();
    }
}

impl Tab {
    /// Emulates a screen `width` × `height` CSS pixels wide (a phone: 390 × 844).
    pub async fn resize(&self, width: i64, height: i64) {
        self.page
            .execute(
                SetDeviceMetricsOverrideParams::builder()
                    .width(width)
                    .height(height)
                    .device_scale_factor(1.0)
                    .mobile(width < 600)
                    .build()
                    .expect("metrics"),
            )
            .await
            .expect("viewport");
    }

    /// Navigates to `url` and waits for the load.
    pub async fn goto(&self, url: &str) {
        within(url, async {
            self.page
                .goto(url)
                .await
                .unwrap_or_else(|e| panic!("cannot open {url}: {e}"));
            self.page.wait_for_navigation().await.expect("page loads");
        })
        .await;
    }

    /// Evaluates a script (awaiting a promise) and returns its value.
    pub async fn eval<T: DeserializeOwned>(&self, script: &str) -> T {
        let params = EvaluateParams::builder()
            .expression(script)
            .await_promise(true)
            .return_by_value(true)
            .build()
            .expect("evaluate params");
        let result = within("script", self.page.evaluate_expression(params)).await;
        let result = result
            .unwrap_or_else(|e| panic!("script failed: {e}\n{}", &script[..script.len().min(200)]));
        // `null` and `undefined` come back without a value.
        let value = result.value().cloned().unwrap_or(Value::Null);
        serde_json::from_value(value).unwrap_or_else(|e| panic!("script result: {e}"))
    }

    /// Evaluates a script; `None` when it fails (e.g. during a navigation).
    pub async fn try_eval<T: DeserializeOwned>(&self, script: &str) -> Option<T> {
        let params = EvaluateParams::builder()
            .expression(script)
            .await_promise(true)
            .return_by_value(true)
            .build()
            .ok()?;
        let result = within("script", self.page.evaluate_expression(params))
            .await
            .ok()?;
        serde_json::from_value(result.value().cloned().unwrap_or(Value::Null)).ok()
    }

    /// The visible text of the first element matching `selector` (empty when none).
    pub async fn text(&self, selector: &str) -> String {
        let selector = serde_json::to_string(selector).unwrap();
        self.eval(&format!(
            "(() => {{ const e = document.querySelector({selector}); return e ? e.innerText : ''; }})()"
        ))
        .await
    }

    /// An attribute of the first element matching `selector`.
    pub async fn attr(&self, selector: &str, name: &str) -> Option<String> {
        let selector = serde_json::to_string(selector).unwrap();
        let name = serde_json::to_string(name).unwrap();
        self.eval(&format!(
            "(() => {{ const e = document.querySelector({selector}); return e ? e.getAttribute({name}) : null; }})()"
        ))
        .await
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.eval("location.href").await
    }

    /// The page's HTML as the browser holds it.
    pub async fn html(&self) -> String {
        within("page content", self.page.content())
            .await
            .expect("page content")
    }

    /// Empties the field matching `selector`, then types `value` into it (by keyboard, as a
    /// person would).
    pub async fn fill(&self, selector: &str, value: &str) {
        let quoted = serde_json::to_string(selector).unwrap();
        let _: bool = self
            .eval(&format!(
                "(() => {{ document.querySelector({quoted}).value = ''; return true; }})()"
            ))
            .await;
        within(selector, async {
            let field = self
                .page
                .find_element(selector)
                .await
                .unwrap_or_else(|e| panic!("no field {selector}: {e}"));
            field.click().await.expect("focus field");
            field.type_str(value).await.expect("type");
        })
        .await;
    }

    /// Clicks the element matching `selector` and waits for the page it leads to (a new
    /// document, fully loaded).
    pub async fn click_and_wait(&self, selector: &str) {
        let _: bool = self.eval("window.__plkOldDocument = true").await;
        within(selector, async {
            let element = self
                .page
                .find_element(selector)
                .await
                .unwrap_or_else(|e| panic!("no element {selector}: {e}"));
            element.click().await.expect("click");
        })
        .await;
        self.wait_until(
            "!window.__plkOldDocument && document.readyState === 'complete'",
            Duration::from_secs(60),
        )
        .await;
    }

    /// Waits until `script` evaluates to true.
    pub async fn wait_until(&self, script: &str, limit: Duration) {
        let started = Instant::now();
        loop {
            // While the next page loads, the old context may be gone: not true yet.
            if self.try_eval::<bool>(script).await == Some(true) {
                return;
            }
            assert!(
                started.elapsed() < limit,
                "still false after {limit:?}: {script}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a full-page PNG screenshot to `target/screenshots/NAME.png`; returns its path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let dir = target_dir().join("screenshots");
        std::fs::create_dir_all(&dir).expect("screenshots directory");
        let path = dir.join(format!("{name}.png"));
        within(
            "screenshot",
            self.page.save_screenshot(
                ScreenshotParams::builder()
                    .format(CaptureScreenshotFormat::Png)
                    .full_page(true)
                    .build(),
                &path,
            ),
        )
        .await
        .unwrap_or_else(|e| panic!("screenshot {name}: {e}"));
        path
    }

    /// Runs axe-core on the page; panics listing every serious or critical violation.
    /// Returns the number of violations of lower impact (reported, not failing).
    pub async fn axe(&self, name: &str) -> usize {
        let source = axe_source();
        let _: Value = self.eval(&format!("{source};\ntrue")).await;
        let violations: Vec<Value> = self
            .eval(
                "axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations.map(v => ({ \
                   id: v.id, impact: v.impact, help: v.help, \
                   nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary) })))",
            )
            .await;
        let (blocking, minor): (Vec<&Value>, Vec<&Value>) = violations
            .iter()
            .partition(|v| matches!(v["impact"].as_str(), Some("serious" | "critical")));
        for v in &minor {
            eprintln!("{name}: axe (minor) {}: {}", v["id"], v["help"]);
        }
        assert!(
            blocking.is_empty(),
            "{name}: axe found serious or critical violations:\n{}",
            serde_json::to_string_pretty(&blocking).unwrap()
        );
        minor.len()
    }
}

/// axe-core's script: `target/ci-npm/node_modules/axe-core/axe.min.js`, installed with npm
/// on first use when `.ci/run` has not done it.
pub fn axe_source() -> String {
    static SOURCE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SOURCE
        .get_or_init(|| {
            let prefix = target_dir().join("ci-npm");
            let file = prefix.join("node_modules/axe-core/axe.min.js");
            if !file.exists() {
                let status = std::process::Command::new("npm")
                    .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
                    .arg(&prefix)
                    .arg("axe-core@4")
                    .status();
                assert!(
                    matches!(status, Ok(s) if s.success()),
                    "axe-core is not installed at {} and 'npm install axe-core' failed ({status:?})",
                    file.display()
                );
            }
            std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()))
        })
        .clone()
}
