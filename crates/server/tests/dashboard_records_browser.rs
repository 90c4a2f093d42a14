//! The dashboard's record pages in headless Chromium against the real server and a simulated
//! store: the transactions table paged and searched, its CSV downloaded from within the page
//! (the page's own session) equal to the API's `commerce-transactions` for the same filter;
//! the orders table, an order opened from it whose lines and payments equal the API's order;
//! the customers table; every page in French; and the progress view advancing while a sync
//! runs against a slow store, without reloading. axe-core on every page, full-page
//! screenshots in `target/screenshots/`.

mod browser;
mod common;

use std::time::Duration;

use browser::{serial, Browser, Tab};
use common::{small_store, test_config, Harness};
use prestalink_server::numbers::{NumberLocale, Numbers};
use prestalink_simulator::capacity::{Capacity, Profile};
use prestalink_testkit::TestDb;
use serde_json::Value;

async fn sign_in(tab: &Tab, key: &str) {
    tab.fill("#key", key).await;
    tab.click_and_wait("form.sign-in button[type=submit]").await;
    assert!(
        tab.url().await.ends_with("/dashboard/companies"),
        "{}",
        tab.url().await
    );
}

/// Fetches a link of the page (by selector) with the page's own cookies; its body.
async fn fetch_link(tab: &Tab, selector: &str) -> String {
    let quoted = serde_json::to_string(selector).unwrap();
    tab.eval(&format!(
        "fetch(document.querySelector({quoted}).href, {{ credentials: 'same-origin' }}).then(r => r.text())"
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_tables_and_an_order_in_a_browser() {
    let _one = serial().await;
    let Some(browser) = Browser::launch("record_tables_and_an_order_in_a_browser").await else {
        return;
    };
    let mut sim = small_store(47);
    sim.gen.orders = 500;
    sim.gen.customers = 120;
    let h = Harness::start(TestDb::sqlite().await.unwrap(), sim, test_config()).await;
    let (company, connection) = h.linked_company("Atelier Verdier").await;
    let company_id = company["id"].as_str().unwrap();
    let connection_id = connection["id"].as_str().unwrap();
    h.settled(company_id, Duration::from_secs(240)).await;
    let base = format!(
        "{}/dashboard/companies/{company_id}/connections/{connection_id}",
        h.base
    );

    let tab = browser.open(&format!("{}/dashboard?lang=en", h.base)).await;
    sign_in(&tab, &h.key).await;

    // Transactions: page 2, then a search; the CSV of the filter equals the API's answer.
    tab.goto(&format!("{base}/transactions")).await;
    tab.click_and_wait("a[rel=next]").await;
    assert!(tab.text(".pager").await.contains("Page 2 of"));
    tab.eval::<bool>("document.querySelector('#type').value = 'Payment'; true")
        .await;
    tab.fill("#query", "totalAmount>40").await;
    tab.click_and_wait("form.filters button[type=submit]").await;
    let kinds: Vec<String> = tab
        .eval("Array.from(document.querySelectorAll('#transactions tbody tr')).map(r => r.children[1].textContent)")
        .await;
    assert!(!kinds.is_empty());
    assert!(kinds.iter().all(|k| k == "Payment"), "{kinds:?}");
    let csv_text = fetch_link(&tab, "#csv").await;
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let csv_rows: Vec<(String, f64)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[3].parse().unwrap())
        })
        .collect();
    let api = h
        .all_records(
            company_id,
            connection_id,
            "commerce-transactions?query=type%3DPayment%26%26totalAmount%3E40&orderBy=-sourceCreatedDate",
        )
        .await;
    assert!(!api.is_empty());
    let api_rows: Vec<(String, f64)> = api
        .iter()
        .map(|t| {
            (
                t["id"].as_str().unwrap().to_string(),
                t["totalAmount"].as_f64().unwrap(),
            )
        })
        .collect();
    let mut csv_sorted = csv_rows.clone();
    let mut api_sorted = api_rows.clone();
    csv_sorted.sort_by(|a, b| a.0.cmp(&b.0));
    api_sorted.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(csv_sorted, api_sorted);
    let shown: String = tab.text("#results").await;
    let en = Numbers::new(NumberLocale::En, None);
    assert_eq!(
        shown,
        format!("{} transactions", en.count(api.len() as u64))
    );
    tab.axe("dashboard-transactions-search").await;
    tab.screenshot("dashboard-transactions-search").await;

    // A payment's order link opens its order.
    let payment_order: String = tab
        .eval("document.querySelector('#transactions tbody tr td:last-child a').textContent")
        .await;
    tab.click_and_wait("#transactions tbody tr td:last-child a")
        .await;
    assert!(tab.url().await.contains("/orders/"), "{}", tab.url().await);
    assert!(tab.text("h1").await.contains(&payment_order));

    // Orders: sorted by total, the first opened from the table.
    tab.goto(&format!("{base}/orders?lang=en")).await;
    let orders = h
        .all_records(company_id, connection_id, "commerce-orders")
        .await;
    assert_eq!(
        tab.text("#results").await,
        format!("{} orders", en.count(orders.len() as u64))
    );
    tab.axe("dashboard-orders").await;
    tab.screenshot("dashboard-orders").await;
    tab.goto(&format!("{base}/orders?sort=-totalAmount")).await;
    let totals: Vec<String> = tab
        .eval("Array.from(document.querySelectorAll('#orders tbody tr')).map(r => r.children[5].textContent)")
        .await;
    let totals: Vec<f64> = totals
        .iter()
        .map(|t| t.replace(',', "").parse().unwrap())
        .collect();
    assert!(totals.windows(2).all(|w| w[0] >= w[1]), "{totals:?}");
    let most = orders
        .iter()
        .max_by(|a, b| {
            a["totalAmount"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["totalAmount"].as_f64().unwrap())
        })
        .unwrap();
    assert!((totals[0] - most["totalAmount"].as_f64().unwrap()).abs() < 0.005);
    // Open an order with payments, from the table.
    let with_payments = orders
        .iter()
        .filter(|o| {
            o["payments"].as_array().is_some_and(|p| !p.is_empty())
                && o["orderLineItems"].as_array().is_some_and(|l| l.len() > 1)
        })
        .max_by_key(|o| o["id"].as_str().unwrap().parse::<u64>().unwrap())
        .expect("an order with payments and two lines");
    let number = with_payments["orderNumber"].as_str().unwrap();
    tab.goto(&format!("{base}/orders?query=orderNumber%3D%22{number}%22"))
        .await;
    tab.click_and_wait("#orders tbody tr td:nth-child(2) a")
        .await;
    let id = with_payments["id"].as_str().unwrap();
    assert!(tab.url().await.ends_with(&format!("/orders/{id}")));
    assert!(tab.text("h1").await.contains(number));
    // Its lines and payments are the API's.
    let lines: Vec<Value> = tab
        .eval(
            "Array.from(document.querySelectorAll('#lines tbody tr')).map(r => ({ id: r.dataset.id, \
             quantity: r.children[2].textContent, total: r.children[5].textContent }))",
        )
        .await;
    let api_lines = with_payments["orderLineItems"].as_array().unwrap();
    assert_eq!(lines.len(), api_lines.len());
    for (shown, api) in lines.iter().zip(api_lines) {
        assert_eq!(shown["id"], api["id"]);
        assert_eq!(
            number_of(&shown["quantity"]),
            api["quantity"].as_f64().unwrap()
        );
        assert!((number_of(&shown["total"]) - api["totalAmount"].as_f64().unwrap()).abs() < 0.005);
    }
    let payments: Vec<Value> = tab
        .eval(
            "Array.from(document.querySelectorAll('#payments tbody tr')).map(r => ({ id: r.dataset.id, \
             amount: r.children[4].textContent }))",
        )
        .await;
    let api_payments = with_payments["payments"].as_array().unwrap();
    assert_eq!(payments.len(), api_payments.len());
    for (shown, api) in payments.iter().zip(api_payments) {
        assert_eq!(shown["id"], api["id"]);
        assert!((number_of(&shown["amount"]) - api["amount"].as_f64().unwrap()).abs() < 0.005);
    }
    // Status history, addresses and the raw record come from the stored PrestaShop rows.
    assert!(
        tab.eval::<usize>("document.querySelectorAll('#history tbody tr').length")
            .await
            >= 1
    );
    assert!(tab.text(".addresses").await.lines().count() > 2);
    let raw: Value = serde_json::from_str(&tab.text("#raw").await).unwrap();
    assert_eq!(raw["fields"]["reference"], number);
    assert!(!tab.html().await.contains("secure_key"));
    tab.axe("dashboard-order").await;
    tab.screenshot("dashboard-order").await;

    // Customers, and a customer's orders.
    tab.goto(&format!("{base}/customers?sort=customerName"))
        .await;
    tab.axe("dashboard-customers").await;
    tab.screenshot("dashboard-customers").await;
    let name: String = tab
        .eval("document.querySelector('#customers tbody tr td').textContent")
        .await;
    tab.click_and_wait("#customers tbody tr td:last-child a")
        .await;
    let customers: Vec<String> = tab
        .eval("Array.from(document.querySelectorAll('#orders tbody tr')).map(r => r.children[2].textContent)")
        .await;
    assert!(
        customers.iter().all(|c| *c == name),
        "{name}: {customers:?}"
    );

    // French.
    for (page, name) in [
        ("overview?period=90", "dashboard-overview-fr"),
        ("transactions", "dashboard-transactions-fr"),
        ("orders", "dashboard-orders-fr"),
        ("customers", "dashboard-customers-fr"),
        (&format!("orders/{id}") as &str, "dashboard-order-fr"),
        ("progress", "dashboard-progress-fr"),
    ] {
        let sep = if page.contains('?') { '&' } else { '?' };
        tab.goto(&format!("{base}/{page}{sep}lang=fr")).await;
        assert_eq!(
            tab.attr("html", "lang").await.as_deref(),
            Some("fr"),
            "{page}"
        );
        tab.axe(name).await;
        tab.screenshot(name).await;
    }
    assert!(
        tab.text("h1").await.contains("Synchronisation")
            || tab.text("h1").await.contains("Progression")
    );

    browser.close().await;
    h.stop().await;
}

fn number_of(v: &Value) -> f64 {
    v.as_str()
        .unwrap()
        .replace([',', '\u{a0}', '\u{202f}'], "")
        .trim()
        .parse()
        .unwrap()
}

/// The sum of the records of the live steps, and the number of steps, as the page shows them.
const LIVE_FIGURES: &str = "(() => { const cells = Array.from(document.querySelectorAll('#live-steps td.records')); \
    return cells.map(c => parseInt(c.textContent.replace(/[^0-9]/g, ''), 10)).reduce((a, b) => a + b, 0) \
    + 1000000 * cells.length; })()";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_progress_view_advances_during_a_sync() {
    let _one = serial().await;
    let Some(browser) = Browser::launch("the_progress_view_advances_during_a_sync").await else {
        return;
    };
    let mut sim = small_store(53);
    sim.gen.orders = 1500;
    sim.gen.customers = 300;
    // A slow shop: two PHP workers on shared hosting, at real speed.
    sim.capacity = Capacity {
        time_scale: 1.0,
        ..Capacity::profile(Profile::SharedHosting)
    };
    let h = Harness::start(TestDb::sqlite().await.unwrap(), sim, test_config()).await;
    let tab = browser.open(&format!("{}/dashboard?lang=en", h.base)).await;
    sign_in(&tab, &h.key).await;
    let (company, connection) = h.linked_company("Boutique Lente").await;
    let company_id = company["id"].as_str().unwrap();
    let connection_id = connection["id"].as_str().unwrap();
    let base = format!(
        "{}/dashboard/companies/{company_id}/connections/{connection_id}",
        h.base
    );
    tab.goto(&format!("{base}/progress")).await;
    // The page marks itself: a reload would lose the mark.
    let _: bool = tab.eval("window.__plkStay = true").await;
    tab.wait_until(
        "document.querySelectorAll('#live-steps tbody tr').length > 0 && document.querySelector('#live').dataset.running === 'true'",
        Duration::from_secs(60),
    )
    .await;
    let first: u64 = tab.eval(LIVE_FIGURES).await;
    tab.wait_until(
        &format!("{LIVE_FIGURES} > {first} && document.querySelector('#live').dataset.running === 'true'"),
        Duration::from_secs(60),
    )
    .await;
    assert!(
        tab.eval::<bool>("window.__plkStay === true").await,
        "the page reloaded"
    );
    let concurrency = tab.text("#pacer-concurrency").await;
    assert!(
        concurrency.parse::<u32>().is_ok_and(|c| c >= 1),
        "{concurrency}"
    );
    let page_size = tab.text("#page-size-heavy").await;
    assert!(
        page_size
            .replace(',', "")
            .parse::<u32>()
            .is_ok_and(|p| p >= 1),
        "{page_size}"
    );
    let rate: String = tab
        .eval("Array.from(document.querySelectorAll('#live-steps tbody tr')).map(r => r.children[5].textContent).join(' ')")
        .await;
    assert!(
        rate.chars().any(|c| c.is_ascii_digit() && c != '0'),
        "{rate}"
    );
    tab.axe("dashboard-progress-live").await;
    tab.screenshot("dashboard-progress-live").await;
    // It ends by itself, still without a reload.
    h.settled(company_id, Duration::from_secs(400)).await;
    tab.wait_until(
        "document.querySelector('#live').dataset.running === 'false'",
        Duration::from_secs(30),
    )
    .await;
    assert!(tab.eval::<bool>("window.__plkStay === true").await);
    assert!(tab.text("#live").await.contains("Finished."));
    tab.screenshot("dashboard-progress-finished").await;
    browser.close().await;
    h.stop().await;
}
