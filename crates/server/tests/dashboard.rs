//! The dashboard over HTTP against the real server and a simulated store: sign-in with an
//! API key (session cookie HttpOnly, SameSite=Strict; wrong keys refused and never echoed),
//! companies with search and data status, the overview's key figures equal to the API's
//! data, the transactions table paged and its CSV equal to the API's answer for the same
//! filter, CSRF-protected sync and unlink buttons.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{small_store, test_config, Harness};
use prestalink_testkit::TestDb;
use serde_json::Value;

/// A browser-like client without JavaScript: keeps cookies by hand, never follows redirects.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

struct Answer {
    status: u16,
    location: Option<String>,
    set_cookies: Vec<String>,
    body: String,
}

impl Browser {
    fn new(base: &str) -> Browser {
        Browser {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: base.to_string(),
            cookies: Vec::new(),
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let request = if cookie.is_empty() {
            request
        } else {
            request.header("cookie", cookie)
        };
        let response = request.send().await.expect("server answers");
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.retain(|(k, _)| k != name);
            if !value.is_empty() {
                self.cookies.push((name.to_string(), value.to_string()));
            }
        }
        let body = response.text().await.unwrap();
        Answer {
            status,
            location,
            set_cookies,
            body,
        }
    }

    async fn get(&mut self, path: &str) -> Answer {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let request = self.http.post(format!("{}{path}", self.base)).form(form);
        self.send(request).await
    }
}

/// The value of the first `name="csrf"` hidden field of a page.
fn csrf(page: &str) -> String {
    let at = page
        .find("name=\"csrf\" value=\"")
        .expect("a form with a csrf field");
    let rest = &page[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

/// The text of the element with `id`.
fn text_of(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let rest = &page[at..];
    let rest = &rest[rest.find('>').unwrap() + 1..];
    rest[..rest.find('<').unwrap()].to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_sign_in_companies_overview_and_transactions() {
    for db in TestDb::all("dashboard_pages").await.unwrap() {
        let engine = db.engine;
        let mut sim = small_store(21);
        sim.gen.orders = 400;
        let h = Harness::start(db, sim, test_config()).await;
        let (company, connection) = h.linked_company("Maison Test").await;
        let company_id = company["id"].as_str().unwrap();
        let connection_id = connection["id"].as_str().unwrap();
        h.settled(company_id, Duration::from_secs(240)).await;
        let mut b = Browser::new(&h.base);

        // Signed out: the pages send to the sign-in form.
        let companies = "/dashboard/companies";
        let answer = b.get(companies).await;
        assert_eq!(
            (answer.status, answer.location.as_deref()),
            (303, Some("/dashboard")),
            "{engine}"
        );
        let form = b.get("/dashboard").await;
        assert_eq!(form.status, 200, "{engine}");
        assert!(form.body.contains("type=\"password\""));
        let token = csrf(&form.body);

        // A wrong key is refused and not echoed; a form without the token is refused.
        let wrong = b
            .post(
                "/dashboard",
                &[("csrf", &token), ("key", "plk_wrongwrongwrong")],
            )
            .await;
        assert_eq!(wrong.status, 401, "{engine}");
        assert!(!wrong.body.contains("plk_wrongwrongwrong"));
        assert!(wrong.body.contains("aria-invalid=\"true\""));
        let forged = b
            .post("/dashboard", &[("csrf", "x"), ("key", &h.key)])
            .await;
        assert_eq!(forged.status, 403, "{engine}");

        let signed = b
            .post("/dashboard", &[("csrf", &token), ("key", &h.key)])
            .await;
        assert_eq!(
            (signed.status, signed.location.as_deref()),
            (303, Some(companies)),
            "{engine}"
        );
        let session = signed
            .set_cookies
            .iter()
            .find(|c| c.starts_with("plk_session="))
            .expect("a session cookie");
        assert!(
            session.contains("HttpOnly") && session.contains("SameSite=Strict"),
            "{session}"
        );
        assert!(!session.contains(&h.key));

        // Companies, search, data status.
        let list = b.get(companies).await;
        assert_eq!(list.status, 200, "{engine}");
        assert!(list.body.contains("Maison Test") && list.body.contains("Linked"));
        assert!(list.body.contains("commerce-orders"));
        let none = b.get("/dashboard/companies?q=nothing-like-this").await;
        assert!(!none.body.contains("Maison Test"));

        // The overview's figures equal the API's orders and transactions.
        let orders = h
            .all_records(company_id, connection_id, "commerce-orders")
            .await;
        let base = format!("/dashboard/companies/{company_id}/connections/{connection_id}");
        let page = b
            .get(&format!(
                "{base}/overview?period=custom&from=2026-06-01&to=2026-11-28&grain=week&lang=en"
            ))
            .await;
        assert_eq!(page.status, 200, "{engine}: {}", page.body);
        let in_period: Vec<&Value> = orders
            .iter()
            .filter(|o| o["supplementalData"]["content"]["valid"] != Value::Bool(false))
            .filter(|o| {
                let d = &o["createdDate"].as_str().unwrap_or("")[..10];
                ("2026-06-01"..="2026-11-28").contains(&d)
            })
            .collect();
        let gross: f64 = in_period
            .iter()
            .map(|o| {
                let rate: f64 = o["supplementalData"]["content"]["conversionRate"]
                    .as_str()
                    .and_then(|r| r.parse().ok())
                    .filter(|r: &f64| *r != 0.0)
                    .unwrap_or(1.0);
                o["totalAmount"].as_f64().unwrap() / rate
            })
            .sum();
        let numbers = prestalink_server::numbers::Numbers::new(
            prestalink_server::numbers::NumberLocale::En,
            Some("EUR"),
        );
        assert_eq!(
            text_of(&page.body, "kpi-orders"),
            numbers.count(in_period.len() as u64),
            "{engine}"
        );
        assert_eq!(
            text_of(&page.body, "kpi-gross"),
            numbers.amount(gross),
            "{engine}"
        );
        assert!(page.body.contains("<svg") && page.body.contains("revenue-chart-table"));
        assert!(
            page.body.contains("From 1 Jun 2026 to 28 Nov 2026"),
            "{engine}: the period in the page's words"
        );

        // Transactions: paged, and the CSV of a filter equals the API's answer to it.
        let table = b.get(&format!("{base}/transactions?page=2")).await;
        assert_eq!(table.status, 200, "{engine}");
        assert!(table.body.contains("Page 2 of"), "{engine}");
        let csv = b
            .get(&format!("{base}/transactions?type=Refund&format=csv"))
            .await;
        assert_eq!(csv.status, 200, "{engine}");
        let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
        let csv_ids: BTreeSet<String> = reader
            .records()
            .map(|r| r.unwrap()[0].to_string())
            .collect();
        let api_refunds = h
            .all_records(
                company_id,
                connection_id,
                "commerce-transactions?query=type%3DRefund",
            )
            .await;
        let api_ids: BTreeSet<String> = api_refunds
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect();
        assert!(!api_ids.is_empty(), "{engine}: the store has refunds");
        assert_eq!(csv_ids, api_ids, "{engine}");
        let bad = b.get(&format!("{base}/transactions?from=yesterday")).await;
        assert!(bad.body.contains("id=\"from-error\""), "{engine}");

        // Orders: the CSV of a range of shop-local days equals the API's orders of those
        // days. createdDate carries the shop's offset; the range starts the day after an
        // order placed in a day's last hour and ends on the day of another, so bounds in
        // UTC (a local midnight is 22:00Z or 23:00Z in Paris), compared with the local text,
        // would take the first and drop the second.
        let (_, info) = h
            .get(&format!(
                "/companies/{company_id}/connections/{connection_id}/data/commerce-info"
            ))
            .await;
        let tz: chrono_tz::Tz = info["supplementalData"]["content"]["timezone"]
            .as_str()
            .unwrap_or("UTC")
            .parse()
            .unwrap();
        let local_of = |o: &Value| {
            chrono::DateTime::parse_from_rfc3339(o["createdDate"].as_str().unwrap())
                .unwrap()
                .with_timezone(&tz)
                .naive_local()
        };
        let late_days: BTreeSet<chrono::NaiveDate> = orders
            .iter()
            .map(local_of)
            .filter(|t| chrono::Timelike::hour(t) == 23)
            .map(|t| t.date())
            .collect();
        assert!(late_days.len() >= 2, "{engine}: orders late in the day");
        let first = *late_days.first().unwrap() + chrono::Duration::days(1);
        let last = *late_days.last().unwrap();
        let (from, to) = (first.to_string(), last.to_string());
        let csv = b
            .get(&format!("{base}/orders?from={from}&to={to}&format=csv"))
            .await;
        assert_eq!(csv.status, 200, "{engine}");
        let mut reader = csv::Reader::from_reader(csv.body.as_bytes());
        let csv_ids: BTreeSet<String> = reader
            .records()
            .map(|r| r.unwrap()[0].to_string())
            .collect();
        let api_ids: BTreeSet<String> = orders
            .iter()
            .filter(|o| (first..=last).contains(&local_of(o).date()))
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect();
        assert!(!api_ids.is_empty(), "{engine}: orders from {from} to {to}");
        assert_eq!(
            csv_ids.symmetric_difference(&api_ids).collect::<Vec<_>>(),
            Vec::<&String>::new(),
            "{engine}: orders from {from} to {to} only in the CSV or only in the API"
        );

        // Past the last page, the pager shows the last page and its rows.
        let pages = orders.len().div_ceil(50);
        let past = b.get(&format!("{base}/orders?page=999")).await;
        assert_eq!(past.status, 200, "{engine}");
        assert!(
            past.body.contains(&format!("Page {pages} of {pages}")),
            "{engine}"
        );
        let oldest = orders.iter().min_by_key(|o| local_of(o)).unwrap();
        assert!(
            past.body
                .contains(&format!("/orders/{}\"", oldest["id"].as_str().unwrap())),
            "{engine}: the last page lists the oldest order"
        );

        // A customer whose name and e-mail look like spreadsheet formulas: the CSV quotes
        // them with a leading ' (CSV injection); amounts such as -12.50 stay numbers.
        let mut evil = h
            .all_records(company_id, connection_id, "commerce-customers")
            .await
            .remove(0);
        let evil_id = evil["id"].as_str().unwrap().to_string();
        evil["customerName"] = Value::from("=HYPERLINK(\"http://evil.example\",\"x\")");
        evil["emailAddress"] = Value::from("@SUM(1+1)");
        h.db.store
            .upsert_commerce_page(
                connection_id,
                "commerce-customers",
                &[prestalink_store::CommerceRecord {
                    id: evil_id.clone(),
                    data: evil,
                    source_modified_date: None,
                }],
                None,
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        // 5,100 more customers: the CSV is streamed in two pages of 5,000 and still has each
        // customer once, the header once.
        let bulk: Vec<prestalink_store::CommerceRecord> = (0..5100)
            .map(|i| prestalink_store::CommerceRecord {
                id: format!("bulk-{i}"),
                data: serde_json::json!({"id": format!("bulk-{i}"),
                    "customerName": format!("Bulk {i}"),
                    "createdDate": "2026-11-02T10:00:00+01:00"}),
                source_modified_date: None,
            })
            .collect();
        h.db.store
            .upsert_commerce_page(
                connection_id,
                "commerce-customers",
                &bulk,
                None,
                chrono::Utc::now(),
            )
            .await
            .unwrap();
        let customers = b.get(&format!("{base}/customers?format=csv")).await;
        assert_eq!(customers.status, 200, "{engine}");
        let api_customers = h
            .all_records(company_id, connection_id, "commerce-customers")
            .await;
        assert!(api_customers.len() > 5100, "{engine}");
        assert_eq!(
            customers.body.lines().count(),
            api_customers.len() + 1,
            "{engine}"
        );
        let mut reader = csv::Reader::from_reader(customers.body.as_bytes());
        let csv_ids: BTreeSet<String> = reader
            .records()
            .map(|r| r.unwrap()[0].to_string())
            .collect();
        let api_ids: BTreeSet<String> = api_customers
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            csv_ids.len(),
            api_customers.len(),
            "{engine}: each customer once"
        );
        assert_eq!(csv_ids, api_ids, "{engine}");
        let mut reader = csv::Reader::from_reader(customers.body.as_bytes());
        let row = reader
            .records()
            .map(|r| r.unwrap())
            .find(|r| r[0] == evil_id)
            .expect("the edited customer");
        assert_eq!(
            &row[2], "'=HYPERLINK(\"http://evil.example\",\"x\")",
            "{engine}"
        );
        assert_eq!(&row[3], "'@SUM(1+1)", "{engine}");
        let refunds = b
            .get(&format!("{base}/transactions?type=Refund&format=csv"))
            .await;
        let mut reader = csv::Reader::from_reader(refunds.body.as_bytes());
        assert!(
            reader.records().any(|r| r.unwrap()[3].starts_with('-')),
            "{engine}: refund amounts stay negative numbers"
        );

        // An order's page, by id and by reference; an unknown order is a 404 page.
        let order = &orders[0];
        let id = order["id"].as_str().unwrap();
        let number = order["orderNumber"].as_str().unwrap();
        let page = b.get(&format!("{base}/orders/{id}")).await;
        assert_eq!(page.status, 200, "{engine}");
        assert!(page.body.contains(number), "{engine}");
        assert!(page.body.contains("id=\"raw\""), "{engine}");
        let by_reference = b.get(&format!("{base}/orders/reference/{number}")).await;
        assert_eq!(by_reference.status, 303, "{engine}");
        assert!(
            by_reference
                .location
                .unwrap()
                .ends_with(&format!("/orders/{id}")),
            "{engine}"
        );
        assert_eq!(b.get(&format!("{base}/orders/999999")).await.status, 404);

        // Sync and unlink go through the API's handlers, with the form's token only.
        let list = b.get(companies).await;
        let token = csrf(&list.body);
        let refused = b.post(&format!("{base}/sync"), &[("csrf", "nope")]).await;
        assert_eq!(refused.status, 403, "{engine}");
        let queued = b.post(&format!("{base}/sync"), &[("csrf", &token)]).await;
        assert_eq!(queued.status, 303, "{engine}");
        assert!(queued.location.unwrap().contains("done=sync"));
        h.settled(company_id, Duration::from_secs(240)).await;
        let progress = b.get(&format!("{base}/progress")).await;
        assert_eq!(progress.status, 200, "{engine}");
        assert!(progress.body.contains("id=\"refresh\""));
        assert!(
            progress
                .body
                .contains("<th scope=\"row\">commerce-orders</th>"),
            "{engine}"
        );
        let unlinked = b.post(&format!("{base}/unlink"), &[("csrf", &token)]).await;
        assert!(
            unlinked.location.unwrap().contains("done=unlink"),
            "{engine}"
        );
        let (_, view) = h
            .get(&format!(
                "/companies/{company_id}/connections/{connection_id}"
            ))
            .await;
        assert_eq!(view["status"], "Unlinked", "{engine}");

        // Signing out ends the session.
        let out = b.post("/dashboard/sign-out", &[("csrf", &token)]).await;
        assert_eq!(out.status, 303);
        assert_eq!(b.get(companies).await.status, 303, "{engine}");
        h.stop().await;
    }
}
