//! The Link page (`/link/{companyId}`) in headless Chromium against the real server and
//! simulated stores: linking through the form, a redirect to confirm, a server that strips
//! the Authorization header, a disabled Webservice and a wrong key, missing permissions,
//! French; axe-core on every page; screenshots in `target/screenshots/`. Plus plain HTTP
//! checks: CSRF, the private-address guard, the pages kept out of the OpenAPI document.

mod browser;
mod common;

use browser::{serial, Browser, Tab};
use common::{small_store, test_config, Harness};
use prestalink_simulator::api::{Method, Permissions};
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_testkit::TestDb;
use serde_json::{json, Value};

const WRONG_KEY: &str = "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ";

/// A server on SQLite with a default simulated store, and a company to link.
async fn harness() -> (Harness, String) {
    harness_on(TestDb::sqlite().await.unwrap()).await
}

/// The same on `db`.
async fn harness_on(db: TestDb) -> (Harness, String) {
    let h = Harness::start(db, small_store(21), test_config()).await;
    let (status, company) = h
        .post("/companies", json!({"name": "Bistro Lumière"}))
        .await;
    assert_eq!(status, 201, "{company}");
    let id = company["id"].as_str().unwrap().to_string();
    assert_eq!(company["redirect"], format!("{}/link/{id}", h.base));
    (h, id)
}

async fn connections(h: &Harness, company: &str) -> Vec<Value> {
    let (status, page) = h.get(&format!("/companies/{company}/connections")).await;
    assert_eq!(status, 200, "{page}");
    page["results"].as_array().cloned().unwrap_or_default()
}

async fn simulator(configure: impl FnOnce(&mut SimulatorConfig)) -> Simulator {
    let mut config = small_store(22);
    configure(&mut config);
    Simulator::start(config).await.expect("simulator starts")
}

/// Fills the form and sends it.
async fn submit(tab: &Tab, store_url: &str, key: &str) {
    tab.fill("#store_url", store_url).await;
    tab.fill("#webservice_key", key).await;
    tab.click_and_wait("form.link-form button[type=submit]")
        .await;
}

fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merchant_links_a_store_through_the_form() {
    let _one = serial().await;
    let Some(browser) = Browser::launch("a_merchant_links_a_store_through_the_form").await else {
        return;
    };
    // On SQLite, and on PostgreSQL when configured: the page writes the connection.
    for db in TestDb::all("link_page_form").await.unwrap() {
        let (h, company) = harness_on(db).await;
        let (status, _) = h
            .call(
                reqwest::Method::PUT,
                "/profile",
                Some(json!({"name": "Lendy", "redirectUrl": "https://app.lendy.example/linked"})),
            )
            .await;
        assert_eq!(status, 200);
        let tab = browser.open(&format!("{}/link/{company}", h.base)).await;
        assert_eq!(tab.attr("html", "lang").await.as_deref(), Some("en"));
        let guide = tab.text("main").await;
        assert!(
            guide.contains("Advanced Parameters > Webservice"),
            "{guide}"
        );
        assert!(guide.contains("Lendy asks to read"), "{guide}");
        assert!(guide.contains("stored encrypted"), "{guide}");
        assert!(guide.contains("How to revoke access"), "{guide}");
        assert!(tab.text("table.resources").await.contains("order_payments"));
        tab.axe("link-form").await;
        tab.screenshot("link-form").await;
        // On a phone the form follows the guidance, and nothing overflows sideways.
        tab.resize(390, 844).await;
        tab.goto(&format!("{}/link/{company}", h.base)).await;
        let overflow: bool = tab
            .eval("document.documentElement.scrollWidth > document.documentElement.clientWidth")
            .await;
        assert!(!overflow, "the page scrolls sideways at 390 px");
        tab.screenshot("link-form-phone").await;
        tab.resize(1280, 900).await;

        submit(&tab, &h.sim.base_url(), h.sim.key()).await;
        assert_eq!(tab.text("h1").await, "You are connected");
        let result = tab.text("#link-result").await;
        assert!(
            result.contains(&h.sim.base_url().trim_end_matches('/').to_string()),
            "{result}"
        );
        assert_eq!(
            tab.attr("#link-result", "aria-live").await.as_deref(),
            Some("polite")
        );
        // The simulator speaks plain http: the warning and its fix are shown.
        let warning = tab.text("li.warning[data-code=insecure_http]").await;
        assert!(warning.contains("https://"), "{warning}");
        let next = tab
            .attr("a.button.primary", "href")
            .await
            .expect("continue link");
        let linked = connections(&h, &company).await;
        assert_eq!(linked.len(), 1, "{linked:?}");
        assert_eq!(linked[0]["status"], "Linked");
        assert!(same_url(
            linked[0]["connectionInfo"]["storeUrl"].as_str().unwrap(),
            &h.sim.base_url()
        ));
        let connection = linked[0]["id"].as_str().unwrap();
        assert_eq!(
            next,
            format!("https://app.lendy.example/linked?companyId={company}&connectionId={connection}&statusCode=200")
        );
        assert!(
            !tab.html().await.contains(h.sim.key()),
            "the key is echoed back"
        );
        tab.axe("link-connected").await;
        tab.screenshot("link-connected").await;
        h.stop().await;
    }
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirecting_store_is_linked_after_the_merchant_confirms() {
    let _one = serial().await;
    let Some(browser) =
        Browser::launch("a_redirecting_store_is_linked_after_the_merchant_confirms").await
    else {
        return;
    };
    let (h, company) = harness().await;
    let target = h.sim.base_url();
    let redirecting = simulator(|c| c.hosting.redirect_to = Some(target.clone())).await;
    let tab = browser.open(&format!("{}/link/{company}", h.base)).await;
    submit(&tab, &redirecting.base_url(), h.sim.key()).await;
    let question = tab.text("#link-result").await;
    assert!(
        question.contains(&format!("redirects to {}", target.trim_end_matches('/'))),
        "{question}"
    );
    assert!(
        connections(&h, &company).await.is_empty(),
        "linked before the confirmation"
    );
    tab.axe("link-redirect").await;
    tab.screenshot("link-redirect").await;
    // The language switch on a step's page leads back to the form, in French.
    tab.click_and_wait("nav.lang-switch a[lang=fr]").await;
    assert_eq!(tab.attr("html", "lang").await.as_deref(), Some("fr"));
    assert!(tab
        .url()
        .await
        .ends_with(&format!("/link/{company}?lang=fr")));
    tab.click_and_wait("nav.lang-switch a[lang=en]").await;
    submit(&tab, &redirecting.base_url(), h.sim.key()).await;
    tab.click_and_wait("button[value=confirm]").await;
    assert_eq!(tab.text("h1").await, "You are connected");
    let linked = connections(&h, &company).await;
    assert_eq!(linked.len(), 1);
    assert!(same_url(
        linked[0]["connectionInfo"]["storeUrl"].as_str().unwrap(),
        &target
    ));

    // Cancel links nothing and brings the form back with the address given.
    let (_, other) = h.post("/companies", json!({"name": "Other"})).await;
    let other = other["id"].as_str().unwrap().to_string();
    tab.goto(&format!("{}/link/{other}", h.base)).await;
    submit(&tab, &redirecting.base_url(), h.sim.key()).await;
    tab.click_and_wait("button[value=cancel]").await;
    assert!(tab.text("#link-result").await.contains("not followed"));
    assert_eq!(
        tab.attr("#store_url", "value").await.as_deref(),
        Some(redirecting.base_url().as_str())
    );
    assert!(connections(&h, &other).await.is_empty());
    browser.close().await;
    redirecting.shutdown().await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_strips_authorization_links_with_a_warning() {
    let _one = serial().await;
    let Some(browser) =
        Browser::launch("a_server_that_strips_authorization_links_with_a_warning").await
    else {
        return;
    };
    let (h, company) = harness().await;
    let stripping = simulator(|c| c.hosting.auth_header_stripped = true).await;
    let tab = browser.open(&format!("{}/link/{company}", h.base)).await;
    submit(&tab, &stripping.base_url(), stripping.key()).await;
    assert_eq!(tab.text("h1").await, "You are connected");
    let warning = tab.text("li.warning[data-code=auth_header_stripped]").await;
    assert!(warning.contains("Authorization header"), "{warning}");
    assert!(warning.contains("CGIPassAuth On"), "{warning}");
    let linked = connections(&h, &company).await;
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0]["status"], "Linked");
    assert_eq!(
        linked[0]["connectionInfo"]["authMode"], "ws_key",
        "{}",
        linked[0]
    );
    tab.axe("link-warning").await;
    tab.screenshot("link-warning").await;
    browser.close().await;
    stripping.shutdown().await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_webservice_and_a_wrong_key_are_diagnosed_and_nothing_is_linked() {
    let _one = serial().await;
    let Some(browser) = Browser::launch(
        "a_disabled_webservice_and_a_wrong_key_are_diagnosed_and_nothing_is_linked",
    )
    .await
    else {
        return;
    };
    let (h, company) = harness().await;
    let disabled = simulator(|c| c.hosting.webservice_disabled = true).await;
    let tab = browser.open(&format!("{}/link/{company}", h.base)).await;
    submit(&tab, &disabled.base_url(), disabled.key()).await;
    assert_eq!(
        tab.attr("#link-result .result", "data-code")
            .await
            .as_deref(),
        Some("webservice_disabled")
    );
    let result = tab.text("#link-result").await;
    assert!(result.contains("switched off"), "{result}");
    assert!(
        result.contains("Enable PrestaShop's webservice"),
        "{result}"
    );
    assert_eq!(
        tab.attr(".result-error", "role").await.as_deref(),
        Some("alert")
    );
    assert_eq!(
        tab.attr("#store_url", "value").await.as_deref(),
        Some(disabled.base_url().as_str())
    );
    assert_eq!(
        tab.attr("#webservice_key", "value").await,
        None,
        "the key is echoed back"
    );
    assert!(!tab.html().await.contains(disabled.key()));
    tab.axe("link-webservice-disabled").await;
    tab.screenshot("link-webservice-disabled").await;

    submit(&tab, &h.sim.base_url(), WRONG_KEY).await;
    assert_eq!(
        tab.attr("#link-result .result", "data-code")
            .await
            .as_deref(),
        Some("invalid_key")
    );
    let result = tab.text("#link-result").await;
    assert!(result.contains("does not accept this key"), "{result}");
    // The failure is tied to the key field.
    assert_eq!(
        tab.attr("#webservice_key", "aria-invalid").await.as_deref(),
        Some("true")
    );
    let described = tab
        .attr("#webservice_key", "aria-describedby")
        .await
        .unwrap();
    assert!(
        described.split(' ').any(|id| id == "link-result"),
        "{described}"
    );
    assert!(
        !tab.html().await.contains(WRONG_KEY),
        "the key is echoed back"
    );
    tab.axe("link-wrong-key").await;
    tab.screenshot("link-wrong-key").await;
    assert!(connections(&h, &company).await.is_empty());
    browser.close().await;
    disabled.shutdown().await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_permissions_list_the_missing_data_and_can_be_accepted() {
    let _one = serial().await;
    let Some(browser) =
        Browser::launch("missing_permissions_list_the_missing_data_and_can_be_accepted").await
    else {
        return;
    };
    let (h, company) = harness().await;
    let key = "LIMITEDKEY0000000000000000000001";
    let allowed: Vec<String> = [
        "orders",
        "order_details",
        "order_states",
        "currencies",
        "customers",
        "addresses",
        "countries",
        "configurations",
        "shops",
        "languages",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let limited = simulator(|c| {
        c.keys = vec![(
            key.to_string(),
            Permissions {
                resources: Some(allowed),
                methods: vec![Method::Get, Method::Head],
            },
        )]
    })
    .await;
    let tab = browser.open(&format!("{}/link/{company}", h.base)).await;
    submit(&tab, &limited.base_url(), key).await;
    let missing = tab.text("#link-result").await;
    assert!(missing.contains("order_payments"), "{missing}");
    assert!(
        missing.contains("Transactions (payments and refunds)"),
        "{missing}"
    );
    assert!(connections(&h, &company).await.is_empty());
    tab.axe("link-missing-permissions").await;
    tab.screenshot("link-missing-permissions").await;
    tab.click_and_wait("button[value=continue]").await;
    assert_eq!(tab.text("h1").await, "You are connected");
    let linked = connections(&h, &company).await;
    assert_eq!(linked.len(), 1);
    assert_eq!(linked[0]["status"], "Linked");
    browser.close().await;
    limited.shutdown().await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_page_speaks_french() {
    let _one = serial().await;
    let Some(browser) = Browser::launch("the_link_page_speaks_french").await else {
        return;
    };
    let (h, company) = harness().await;
    let disabled = simulator(|c| c.hosting.webservice_disabled = true).await;
    let url = format!("{}/link/{company}", h.base);
    let tab = browser
        .open_with_language(&url, Some("fr-FR,fr;q=0.9,en;q=0.5"))
        .await;
    assert_eq!(tab.attr("html", "lang").await.as_deref(), Some("fr"));
    assert_eq!(tab.text("h1").await, "Connectez votre boutique PrestaShop");
    assert!(tab
        .text("main")
        .await
        .contains("Paramètres avancés > Webservice"));
    tab.axe("link-form-fr").await;
    tab.screenshot("link-form-fr").await;
    submit(&tab, &disabled.base_url(), disabled.key()).await;
    let result = tab.text("#link-result").await;
    assert!(
        result.contains("Le Webservice de PrestaShop est désactivé"),
        "{result}"
    );
    assert!(
        result.contains("Activer le service web de PrestaShop"),
        "{result}"
    );
    tab.axe("link-webservice-disabled-fr").await;
    tab.screenshot("link-webservice-disabled-fr").await;
    // The switch goes back to English, and the choice sticks (cookie) over Accept-Language.
    tab.click_and_wait("nav.lang-switch a[lang=en]").await;
    assert_eq!(tab.attr("html", "lang").await.as_deref(), Some("en"));
    tab.goto(&url).await;
    assert_eq!(tab.text("h1").await, "Connect your PrestaShop store");
    browser.close().await;
    disabled.shutdown().await;
    h.stop().await;
}

/// The CSRF cookie and the form's token of a page fetched without a browser.
async fn form_token(http: &reqwest::Client, url: &str) -> (String, String) {
    let answer = http.get(url).send().await.unwrap();
    assert_eq!(answer.status(), 200);
    let cookie = answer
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("plk_csrf="))
        .expect("a CSRF cookie")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let cookie = cookie.split(';').next().unwrap().to_string();
    let html = answer.text().await.unwrap();
    let token = html
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a token in the form")
        .to_string();
    (cookie, token)
}

#[tokio::test]
async fn forms_need_their_token_and_private_stores_stay_refused() {
    let db = TestDb::sqlite().await.unwrap();
    let config = prestalink_server::ServerConfig {
        allow_private_stores: false,
        ..test_config()
    };
    let h = Harness::start(db, small_store(23), config).await;
    let (_, company) = h.post("/companies", json!({"name": "Guarded"})).await;
    let url = format!("{}/link/{}", h.base, company["id"].as_str().unwrap());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let form = [
        ("store_url", h.sim.base_url()),
        ("webservice_key", h.sim.key().to_string()),
    ];

    // Without the token (or with another's): 403, nothing checked.
    let answer = http.post(&url).form(&form).send().await.unwrap();
    assert_eq!(answer.status(), 403);
    let (cookie, token) = form_token(&http, &url).await;
    let (_, other_token) = form_token(&http, &url).await;
    let mut with_other = form.to_vec();
    with_other.push(("csrf", other_token));
    let answer = http
        .post(&url)
        .header("cookie", &cookie)
        .form(&with_other)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 403);

    // With it: the API's guard applies, a loopback store is refused with its diagnosis.
    let mut with_token = form.to_vec();
    with_token.push(("csrf", token));
    let answer = http
        .post(&url)
        .header("cookie", &cookie)
        .form(&with_token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 422);
    let html = answer.text().await.unwrap();
    assert!(html.contains(r#"data-code="forbidden_address""#), "{html}");
    assert!(html.contains("--allow-private-stores"));
    assert!(!html.contains(h.sim.key()));
    assert!(connections(&h, company["id"].as_str().unwrap())
        .await
        .is_empty());

    // Empty fields: errors tied to their fields.
    let (cookie, token) = form_token(&http, &url).await;
    let answer = http
        .post(&url)
        .header("cookie", &cookie)
        .form(&[
            ("store_url", ""),
            ("webservice_key", ""),
            ("csrf", token.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 422);
    let html = answer.text().await.unwrap();
    assert!(
        html.contains(r#"aria-describedby="store_url-hint store_url-error""#),
        "{html}"
    );
    assert!(html.contains(r#"id="webservice_key-error""#));

    // An unknown company: a 404 page, not the API's JSON.
    let answer = http
        .get(format!("{}/link/nope", h.base))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 404);
    assert!(answer.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    h.stop().await;
}

#[tokio::test]
async fn pages_are_not_api_endpoints_and_assets_are_cached() {
    let db = TestDb::sqlite().await.unwrap();
    let h = Harness::start(db, small_store(24), test_config()).await;
    let (status, openapi) = h.get("/openapi.json").await;
    assert_eq!(status, 200);
    let paths: Vec<&String> = openapi["paths"].as_object().unwrap().keys().collect();
    assert!(
        paths
            .iter()
            .all(|p| !p.starts_with("/link") && !p.starts_with("/assets")),
        "{paths:?}"
    );
    let (_, company) = h.post("/companies", json!({"name": "Assets"})).await;
    let html = reqwest::get(format!(
        "{}/link/{}",
        h.base,
        company["id"].as_str().unwrap()
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let css = html
        .split(r#"rel="stylesheet" href=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a stylesheet link");
    assert!(
        css.starts_with("/assets/app.") && css.ends_with(".css"),
        "{css}"
    );
    let answer = reqwest::get(format!("{}{css}", h.base)).await.unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(
        answer.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(answer.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/css"));
    let stale = reqwest::get(format!("{}/assets/app.0000000000000000.css", h.base))
        .await
        .unwrap();
    assert_eq!(stale.status(), 404);
    // The API still wants its key.
    let answer = reqwest::get(format!("{}/companies", h.base)).await.unwrap();
    assert_eq!(answer.status(), 401);
    h.stop().await;
}
