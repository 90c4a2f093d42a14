//! The dashboard in headless Chromium against the real server and a simulated store: sign
//! in through the form, the overview's KPI figures and the revenue chart's total equal the
//! API's data, change the period, page and search the transactions, the progress view;
//! axe-core on every page (English and French), full-page screenshots in
//! `target/screenshots/`.

mod browser;
mod common;

use std::time::Duration;

use browser::{serial, Browser};
use common::{small_store, test_config, Harness};
use prestalink_server::numbers::{NumberLocale, Numbers};
use prestalink_testkit::TestDb;
use serde_json::Value;

fn rate(record: &Value) -> f64 {
    record["supplementalData"]["content"]["conversionRate"]
        .as_str()
        .and_then(|r| r.parse().ok())
        .filter(|r: &f64| *r != 0.0)
        .unwrap_or(1.0)
}

/// (valid orders, their total) placed between `from` and `to` (shop-local days).
fn sales(orders: &[Value], from: &str, to: &str) -> (u64, f64) {
    let mut count = 0;
    let mut total = 0.0;
    for o in orders {
        let day = &o["createdDate"].as_str().unwrap_or("")[..10];
        if o["supplementalData"]["content"]["valid"] == Value::Bool(false)
            || !(from..=to).contains(&day)
        {
            continue;
        }
        count += 1;
        total += o["totalAmount"].as_f64().unwrap() / rate(o);
    }
    (count, total)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_in_a_browser() {
    let _one = serial().await;
    let Some(browser) = Browser::launch("the_dashboard_in_a_browser").await else {
        return;
    };
    let mut sim = small_store(31);
    sim.gen.orders = 600;
    sim.gen.customers = 150;
    let h = Harness::start(TestDb::sqlite().await.unwrap(), sim, test_config()).await;
    let (company, connection) = h.linked_company("Maison Lumière").await;
    let company_id = company["id"].as_str().unwrap();
    let connection_id = connection["id"].as_str().unwrap();
    h.settled(company_id, Duration::from_secs(240)).await;
    let orders = h
        .all_records(company_id, connection_id, "commerce-orders")
        .await;

    // Sign in through the form.
    let tab = browser.open(&format!("{}/dashboard?lang=en", h.base)).await;
    tab.axe("dashboard-sign-in").await;
    tab.screenshot("dashboard-sign-in").await;
    tab.fill("#key", &h.key).await;
    tab.click_and_wait("form.sign-in button[type=submit]").await;
    assert!(
        tab.url().await.ends_with("/dashboard/companies"),
        "{}",
        tab.url().await
    );
    assert!(tab.text("main").await.contains("Maison Lumière"));
    tab.axe("dashboard-companies").await;
    tab.screenshot("dashboard-companies").await;

    // The overview: KPIs and the revenue chart's total equal the API's orders.
    let base = format!(
        "{}/dashboard/companies/{company_id}/connections/{connection_id}",
        h.base
    );
    tab.goto(&format!(
        "{base}/overview?period=custom&from=2026-06-01&to=2026-11-28&grain=week"
    ))
    .await;
    let n = Numbers::new(NumberLocale::En, Some("EUR"));
    let (count, gross) = sales(&orders, "2026-06-01", "2026-11-28");
    assert!(count > 0);
    assert_eq!(tab.text("#kpi-orders").await, n.count(count));
    assert_eq!(tab.text("#kpi-gross").await, n.amount(gross));
    // The chart's numbers (its table) add up to the same total.
    let chart_total: f64 = tab
        .eval(
            "Array.from(document.querySelectorAll('#revenue-chart-table tbody tr')).map(r => \
             parseFloat(r.children[1].textContent.replace(/[^0-9.-]/g, ''))).reduce((a, b) => a + b, 0)",
        )
        .await;
    assert!(
        (chart_total - gross).abs() < 0.01 * 30.0,
        "{chart_total} vs {gross}"
    );
    let hover: usize = tab
        .eval("document.querySelectorAll('#revenue-chart svg .hits title').length")
        .await;
    assert_eq!(
        hover,
        tab.eval::<usize>("document.querySelectorAll('#revenue-chart-table tbody tr').length")
            .await
    );
    tab.axe("dashboard-overview").await;
    tab.screenshot("dashboard").await;

    // Change the period through the form: last 365 days, by month.
    tab.eval::<bool>("document.querySelector('#period').value = '365'; document.querySelector('#grain').value = 'month'; true")
        .await;
    tab.click_and_wait("form.period-form button[type=submit]")
        .await;
    assert!(tab.url().await.contains("period=365"));
    let months: usize = tab
        .eval("document.querySelectorAll('#revenue-chart-table tbody tr').length")
        .await;
    assert!((12..=13).contains(&months), "{months} months");

    // French.
    tab.goto(&format!("{base}/overview?lang=fr&period=90"))
        .await;
    assert_eq!(tab.attr("html", "lang").await.as_deref(), Some("fr"));
    assert!(tab.text("h1").await.contains("Vue d'ensemble"));
    tab.axe("dashboard-overview-fr").await;
    tab.screenshot("dashboard-overview-fr").await;

    // Transactions: page 2, a search in the query language, sorted by amount.
    tab.goto(&format!("{base}/transactions?lang=en")).await;
    tab.axe("dashboard-transactions").await;
    tab.click_and_wait("a[rel=next]").await;
    assert!(tab.text(".pager").await.contains("Page 2 of"));
    tab.fill("#query", "totalAmount>100").await;
    tab.click_and_wait("form.filters button[type=submit]").await;
    let amounts: Vec<String> = tab
        .eval("Array.from(document.querySelectorAll('#transactions tbody td.num')).map(td => td.textContent)")
        .await;
    assert!(!amounts.is_empty());
    for a in &amounts {
        let v: f64 = a.replace(',', "").parse().unwrap();
        assert!(v > 100.0, "{a}");
    }
    tab.screenshot("dashboard-transactions").await;

    // The sync progress view.
    tab.goto(&format!("{base}/progress")).await;
    assert!(tab.text("#progress").await.contains("commerce-orders"));
    tab.axe("dashboard-progress").await;
    tab.screenshot("dashboard-progress").await;

    browser.close().await;
    h.stop().await;
}
