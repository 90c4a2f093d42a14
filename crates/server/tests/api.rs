//! The API end to end: a company linked through the API to a simulated store, synced on
//! first link, read back page by page and queried; errors in Codat's envelope; API keys.
//! SQLite always, PostgreSQL when `PRESTALINK_TEST_POSTGRES` is set.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use base64::Engine as _;
use common::{small_store, test_config, Harness};
use prestalink_testkit::{normalize, TestDb};
use serde_json::{json, Value};

/// Every record of a list, following `_links.next` until it is absent.
async fn read_all(h: &Harness, first: &str) -> (Vec<Value>, u64, usize) {
    let mut out = Vec::new();
    let mut next = Some(first.to_string());
    let mut pages = 0;
    let mut total = 0;
    while let Some(path) = next {
        let (status, page) = h.get(&path).await;
        assert_eq!(status, 200, "{path}: {page}");
        pages += 1;
        total = page["totalResults"].as_u64().unwrap();
        out.extend(page["results"].as_array().unwrap().iter().cloned());
        next = page["_links"]["next"]["href"].as_str().map(str::to_string);
        assert!(pages < 10_000, "paging does not end");
    }
    (out, total, pages)
}

fn amount(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("not an amount: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_linked_through_the_api_reads_back_the_ground_truth() {
    for db in TestDb::all("api_ground_truth").await.unwrap() {
        let engine = db.engine;
        let h = Harness::start(db, small_store(3), test_config()).await;
        let (company, connection) = h.linked_company("Acme").await;
        let company_id = company["id"].as_str().unwrap();
        let connection_id = connection["id"].as_str().unwrap();
        assert_eq!(connection["status"], "Linked");
        assert_eq!(connection["platformName"], "PrestaShop");
        assert_eq!(connection["sourceType"], "Commerce");
        let masked = connection["webserviceKey"].as_str().unwrap();
        assert!(
            masked.starts_with("••••") && masked.ends_with(&h.sim.key()[28..]),
            "{masked}"
        );
        assert!(
            !connection.to_string().contains(h.sim.key()),
            "key leaked: {connection}"
        );
        assert_eq!(company["redirect"], format!("{}/link/{company_id}", h.base));

        let status = h.settled(company_id, Duration::from_secs(120)).await;
        for (dt, s) in status.as_object().unwrap() {
            let want = if dt == "commerce-disputes" {
                "NotSupported"
            } else {
                "Complete"
            };
            assert_eq!(s["currentStatus"], want, "{engine} {dt}: {status}");
        }
        assert_eq!(status.as_object().unwrap().len(), 11, "{status}");

        // Orders and customers read back page by page equal the simulator's ground truth.
        let store_url = connection["connectionInfo"]["storeUrl"]
            .as_str()
            .unwrap()
            .to_string();
        let truth = {
            let sim_store = h.sim.store();
            let sim_store = sim_store.read().unwrap();
            prestalink_testkit::ground_truth(&sim_store, &h.sim.base_url(), &store_url).unwrap()
        };
        let data = format!("/companies/{company_id}/connections/{connection_id}/data");
        for dt in ["commerce-orders", "commerce-customers", "commerce-products"] {
            let (records, total, pages) = read_all(&h, &format!("{data}/{dt}?pageSize=37")).await;
            let got: BTreeMap<String, Value> = records
                .into_iter()
                .map(|r| (r["id"].as_str().unwrap().to_string(), normalize(r)))
                .collect();
            let want = &truth[dt];
            assert_eq!(total as usize, want.len(), "{engine} {dt} totalResults");
            assert_eq!(pages, want.len().div_ceil(37), "{engine} {dt} pages");
            assert!(
                &got == want,
                "{engine} {dt}: the API's records differ from the ground truth"
            );
        }

        // Every query operator, against the same filter applied to the ground truth.
        let orders: Vec<&Value> = truth["commerce-orders"].values().collect();
        let currency = orders[0]["currency"].as_str().unwrap().to_string();
        let number = orders[0]["orderNumber"].as_str().unwrap().to_string();
        let fragment = number[1..4].to_lowercase();
        type Pred = Box<dyn Fn(&Value) -> bool>;
        let cases: Vec<(String, Pred)> = vec![
            (
                "totalAmount>100".into(),
                Box::new(|o: &Value| amount(&o["totalAmount"]) > 100.0),
            ),
            (
                "totalAmount>=100".into(),
                Box::new(|o: &Value| amount(&o["totalAmount"]) >= 100.0),
            ),
            (
                "totalAmount<100".into(),
                Box::new(|o: &Value| amount(&o["totalAmount"]) < 100.0),
            ),
            (
                "totalAmount<=100".into(),
                Box::new(|o: &Value| amount(&o["totalAmount"]) <= 100.0),
            ),
            (format!("currency={currency}"), {
                let c = currency.clone();
                Box::new(move |o: &Value| o["currency"] == c.as_str())
            }),
            (format!("currency!={currency}"), {
                let c = currency.clone();
                Box::new(move |o: &Value| o["currency"] != c.as_str())
            }),
            (format!("orderNumber~{fragment}"), {
                let f = fragment.clone();
                Box::new(move |o: &Value| {
                    o["orderNumber"]
                        .as_str()
                        .unwrap()
                        .to_lowercase()
                        .contains(&f)
                })
            }),
            (format!("totalAmount>50&&currency={currency}"), {
                let c = currency.clone();
                Box::new(move |o: &Value| {
                    amount(&o["totalAmount"]) > 50.0 && o["currency"] == c.as_str()
                })
            }),
            (
                "{totalAmount<20||totalAmount>400}".into(),
                Box::new(|o: &Value| {
                    let a = amount(&o["totalAmount"]);
                    !(20.0..=400.0).contains(&a)
                }),
            ),
        ];
        for (query, pred) in cases {
            let want: BTreeSet<String> = orders
                .iter()
                .filter(|o| pred(o))
                .map(|o| o["id"].as_str().unwrap().to_string())
                .collect();
            let encoded: String = url::form_urlencoded::byte_serialize(query.as_bytes()).collect();
            let (records, total, _) = read_all(
                &h,
                &format!("{data}/commerce-orders?pageSize=50&query={encoded}"),
            )
            .await;
            let got: BTreeSet<String> = records
                .iter()
                .map(|r| r["id"].as_str().unwrap().to_string())
                .collect();
            assert_eq!(got, want, "{engine} query {query}");
            assert_eq!(
                total as usize,
                want.len(),
                "{engine} totalResults of {query}"
            );
            assert!(
                !want.is_empty() || query.contains("!="),
                "{query} selects nothing: a weak case"
            );
        }

        // orderBy, both directions.
        let (records, _, _) = read_all(
            &h,
            &format!("{data}/commerce-orders?pageSize=100&orderBy=-totalAmount"),
        )
        .await;
        let amounts: Vec<f64> = records.iter().map(|r| amount(&r["totalAmount"])).collect();
        assert!(
            amounts.windows(2).all(|w| w[0] >= w[1]),
            "{engine}: -totalAmount is not descending"
        );
        let (records, _, _) = read_all(
            &h,
            &format!("{data}/commerce-orders?pageSize=100&orderBy=orderNumber"),
        )
        .await;
        let numbers: Vec<&str> = records
            .iter()
            .map(|r| r["orderNumber"].as_str().unwrap())
            .collect();
        assert!(
            numbers.windows(2).all(|w| w[0] <= w[1]),
            "{engine}: orderNumber is not ascending"
        );
        assert_eq!(records.len(), orders.len());

        // A malformed query is a 400 naming the problem.
        let (status, body) = h
            .get(&format!("{data}/commerce-orders?query=totalAmountt%3E100"))
            .await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"], "Could not resolve property totalAmountt");
        for bad in ["totalAmount", "%3D5", "%7BtotalAmount%3E1", "%26%26"] {
            let (status, body) = h.get(&format!("{data}/commerce-orders?query={bad}")).await;
            assert_eq!(status, 400, "{bad}: {body}");
            assert_eq!(body["service"], "PublicApi");
        }
        let (status, body) = h
            .get(&format!("{data}/commerce-orders?orderBy=-nope"))
            .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("Could not resolve property nope"))
        );
        for paging in ["pageSize=0", "pageSize=5001", "page=0", "page=x"] {
            let (status, body) = h.get(&format!("{data}/commerce-orders?{paging}")).await;
            assert_eq!(status, 400, "{paging}: {body}");
        }
        let long = "a".repeat(2049);
        let (status, _) = h
            .get(&format!("{data}/commerce-orders?query=id%3D{long}"))
            .await;
        assert_eq!(status, 400);

        // One record, the single commerce-info, raw records, unsupported and unknown types.
        let some_id = truth["commerce-orders"].keys().next().unwrap();
        let (status, record) = h.get(&format!("{data}/commerce-orders/{some_id}")).await;
        assert_eq!(status, 200);
        assert_eq!(normalize(record), truth["commerce-orders"][some_id]);
        let (status, _) = h.get(&format!("{data}/commerce-orders/no-such-id")).await;
        assert_eq!(status, 404);
        let (status, info) = h.get(&format!("{data}/commerce-info")).await;
        assert_eq!(status, 200, "{info}");
        assert_eq!(
            normalize(info),
            *truth["commerce-info"].values().next().unwrap()
        );
        let (raw, raw_total, _) = read_all(&h, &format!("{data}/raw/orders?pageSize=100")).await;
        assert_eq!(raw_total as usize, orders.len());
        assert_eq!(raw.len(), orders.len());
        let (status, body) = h.get(&format!("{data}/commerce-disputes")).await;
        assert_eq!(status, 404);
        assert_eq!(
            body["error"],
            "Datatype commerce-disputes not supported by platform PrestaShop"
        );
        let (status, _) = h.get(&format!("{data}/commerce-nothing")).await;
        assert_eq!(status, 404);

        // History and one pull operation.
        let (status, history) = h
            .get(&format!("/companies/{company_id}/data/history"))
            .await;
        assert_eq!(status, 200);
        let first = &history["results"][0];
        assert!(first["isCompleted"].is_boolean(), "{first}");
        let (status, one) = h
            .get(&format!(
                "/companies/{company_id}/data/history/{}",
                first["id"].as_str().unwrap()
            ))
            .await;
        assert_eq!((status, &one["id"]), (200, &first["id"]));
        let (_, company) = h.get(&format!("/companies/{company_id}")).await;
        assert!(company["lastSync"].is_string(), "{company}");
        let metrics = h
            .http
            .get(format!("{}/metrics", h.base))
            .bearer_auth(&h.key)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for name in [
            "prestalink_syncs_total{outcome=\"completed\"}",
            "prestalink_records_written_total",
            "prestalink_store_requests_total{outcome=\"ok\"}",
            "prestalink_pacer_concurrency{store=\"127.0.0.1\"}",
            "prestalink_http_request_duration_seconds_bucket",
        ] {
            assert!(metrics.contains(name), "{name} missing from /metrics");
        }
        assert!(!metrics.contains(h.sim.key()) && !metrics.contains(&h.key));
        h.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_and_errors_answer_in_codat_envelopes() {
    let db = TestDb::sqlite().await.unwrap();
    let h = Harness::start(db, small_store(4), test_config()).await;
    let url = |p: &str| format!("{}{p}", h.base);
    // No key, a wrong key, a revoked key: the same 401.
    let none = h.http.get(url("/companies")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let none: Value = none.json().await.unwrap();
    let wrong: Value = h
        .http
        .get(url("/companies"))
        .bearer_auth("plk_nope")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(none["error"], wrong["error"]);
    assert_eq!(wrong["statusCode"], 401);
    for field in [
        "statusCode",
        "service",
        "error",
        "correlationId",
        "canBeRetried",
        "detailedErrorCode",
    ] {
        assert!(wrong.get(field).is_some(), "{field} missing: {wrong}");
    }
    // Codat's form: Basic with the base64 of the key.
    let basic = base64::engine::general_purpose::STANDARD.encode(&h.key);
    let ok = h
        .http
        .get(url("/companies"))
        .header("Authorization", format!("Basic {basic}"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let (info, second) =
        h.db.store
            .create_api_key("second", chrono::Utc::now())
            .await
            .unwrap();
    assert_eq!(
        h.http
            .get(url("/companies"))
            .bearer_auth(&second)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    h.db.store
        .revoke_api_key(&info.id, chrono::Utc::now())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        h.http
            .get(url("/companies"))
            .bearer_auth(&second)
            .send()
            .await
            .unwrap()
            .status(),
        401
    );

    // Health without a key; metrics and the OpenAPI document with one.
    assert_eq!(
        h.http.get(url("/healthz")).send().await.unwrap().status(),
        200
    );
    let metrics = h
        .http
        .get(url("/metrics"))
        .bearer_auth(&h.key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("prestalink_http_request_duration_seconds_bucket"),
        "{metrics}"
    );
    assert!(metrics.contains("route=\"/companies\""), "{metrics}");
    let (status, doc) = h.get("/openapi.json").await;
    assert_eq!(status, 200);
    assert!(
        doc["paths"]["/companies/{companyId}/connections/{connectionId}/data/commerce-orders"]
            .is_object()
    );
    assert!(
        doc["components"]["schemas"]["Order"].is_object(),
        "{}",
        doc["components"]["schemas"]
    );
    assert!(!doc.to_string().contains(&h.key));

    // Unknown routes, wrong methods, bad bodies, unknown ids: envelopes, never a 500.
    let (status, body) = h.get("/nothing/here").await;
    assert_eq!((status, body["statusCode"].as_u64()), (404, Some(404)));
    let (status, body) = h.call(reqwest::Method::DELETE, "/companies", None).await;
    assert_eq!((status, body["statusCode"].as_u64()), (405, Some(405)));
    let bad = h
        .http
        .post(url("/companies"))
        .bearer_auth(&h.key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let bad: Value = bad.json().await.unwrap();
    assert!(
        bad["error"].as_str().unwrap().contains("not valid JSON"),
        "{bad}"
    );
    // A JSON array is not a body serde may turn into a struct (schemathesis found `[[]]`
    // accepted with a 204 by POST /profile/syncSettings).
    for path in ["/profile/syncSettings", "/companies"] {
        let (status, body) = h.post(path, json!([[]])).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("must be a JSON object"),
            "{body}"
        );
    }
    let plain = h
        .http
        .post(url("/companies"))
        .bearer_auth(&h.key)
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status(), 415);
    let huge = json!({"name": "x", "description": "y".repeat(300_000)});
    let (status, _) = h.post("/companies", huge).await;
    assert_eq!(status, 413);
    let (status, body) = h.post("/companies", json!({"name": ""})).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["validation"]["errors"][0]["itemId"], "name");
    let (status, _) = h
        .post("/companies", json!({"name": "x", "unknown": 1}))
        .await;
    assert_eq!(status, 400);
    let (status, body) = h
        .get("/companies/00000000-0000-4000-8000-000000000000")
        .await;
    assert_eq!(status, 404, "{body}");

    // Companies: create, list with a query, update, delete.
    let (status, acme) = h
        .post(
            "/companies",
            json!({"name": "Acme", "description": "shop", "tags": {"region": "eu"}}),
        )
        .await;
    assert_eq!(status, 201);
    h.post("/companies", json!({"name": "Other"})).await;
    let (status, page) = h.get("/companies?query=name%3DAcme").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["totalResults"], 1);
    assert_eq!(page["results"][0]["tags"]["region"], "eu");
    let (status, body) = h.get("/companies?query=nam%3DAcme").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("Could not resolve property nam"))
    );
    let id = acme["id"].as_str().unwrap();
    let (status, patched) = h
        .call(
            reqwest::Method::PATCH,
            &format!("/companies/{id}"),
            Some(json!({"description": "new"})),
        )
        .await;
    assert_eq!(
        (status, &patched["description"], &patched["name"]),
        (200, &json!("new"), &json!("Acme"))
    );
    let (status, _) = h
        .call(
            reqwest::Method::PUT,
            &format!("/companies/{id}"),
            Some(json!({"name": "Acme 2"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = h
        .call(reqwest::Method::DELETE, &format!("/companies/{id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, _) = h.get(&format!("/companies/{id}")).await;
    assert_eq!(status, 404);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linking_answers_409_for_a_redirect_and_422_with_the_diagnosis() {
    let db = TestDb::sqlite().await.unwrap();
    let h = Harness::start(db, small_store(5), test_config()).await;
    let mut redirecting = small_store(5);
    redirecting.hosting.redirect_to = Some(h.sim.base_url());
    let other = prestalink_simulator::server::Simulator::start(redirecting)
        .await
        .unwrap();
    let (_, company) = h.post("/companies", json!({"name": "Redirected"})).await;
    let path = format!("/companies/{}/connections", company["id"].as_str().unwrap());
    let body = json!({"storeUrl": other.base_url(), "webserviceKey": h.sim.key()});
    let (status, answer) = h.post(&path, body.clone()).await;
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["code"], "redirect_needs_confirmation");
    assert_eq!(
        answer["redirect"]["to"]
            .as_str()
            .unwrap()
            .trim_end_matches('/'),
        h.sim.base_url().trim_end_matches('/')
    );
    let mut confirmed = body.clone();
    confirmed["acceptRedirect"] = json!(true);
    let (status, connection) = h.post(&path, confirmed).await;
    assert_eq!(status, 201, "{connection}");
    assert_eq!(
        connection["connectionInfo"]["storeUrl"]
            .as_str()
            .unwrap()
            .trim_end_matches('/'),
        h.sim.base_url().trim_end_matches('/')
    );

    let wrong =
        json!({"storeUrl": h.sim.base_url(), "webserviceKey": "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"});
    let (status, answer) = h.post(&path, wrong).await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["code"], "invalid_key");
    assert!(answer["fix"].is_string());
    assert!(
        !answer
            .to_string()
            .contains("ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ"),
        "{answer}"
    );
    other.shutdown().await;
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_store_addresses_are_refused_unless_allowed() {
    let db = TestDb::sqlite().await.unwrap();
    let mut config = test_config();
    config.allow_private_stores = false;
    let h = Harness::start(db, small_store(6), config).await;
    let (_, company) = h.post("/companies", json!({"name": "Guarded"})).await;
    let path = format!("/companies/{}/connections", company["id"].as_str().unwrap());
    let port = h.sim.addr().port();
    for url in [
        format!("http://localhost:{port}/"),
        format!("http://127.0.0.1:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://[::1]:{port}/"),
        "http://169.254.169.254/".to_string(),
    ] {
        let (status, answer) = h
            .post(
                &path,
                json!({"storeUrl": url, "webserviceKey": h.sim.key()}),
            )
            .await;
        assert_eq!(status, 422, "{url}: {answer}");
        assert_eq!(answer["code"], "forbidden_address", "{url}: {answer}");
    }
    let (_, connections) = h.get(&path).await;
    assert_eq!(connections["totalResults"], 0);
    h.stop().await;
}
