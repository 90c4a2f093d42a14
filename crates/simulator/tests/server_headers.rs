//! PrestaShop's headers, HEAD, the Content-Sha1 cache (304), URL forms and format selection.

mod server_support;

use prestalink_simulator::api::Version;
use server_support::*;
use sha1::{Digest, Sha1};

#[tokio::test]
async fn answers_carry_prestashop_headers_and_the_body_sha1() {
    let sim = start(|_| {}).await;
    let r = get(
        &sim,
        "/api/orders?display=[id]&limit=0,3&output_format=JSON",
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-powered-by"), "PrestaShop Webservice");
    assert_eq!(header(&r, "psws-version"), "8.1.2");
    assert_eq!(header(&r, "server"), "Apache/2.4.71 (Debian)");
    assert_eq!(header(&r, "content-type"), "application/json");
    let access: u64 = header(&r, "access-time").parse().expect("unix time");
    assert!(access > 1_700_000_000);
    let exec: f64 = header(&r, "execution-time").parse().expect("seconds");
    assert!(exec >= 0.0);
    let sha1 = header(&r, "content-sha1");
    let body = r.bytes().await.unwrap();
    assert_eq!(sha1, hex::encode(Sha1::digest(&body)));
    // The recorded answer to the same request, with its recorded Content-Sha1.
    assert_eq!(
        body.as_ref(),
        fixture("orders_output_format_header_json.json")
    );
    assert_eq!(sha1, "e851034e26dcefa455338faa9d6e77d2943ffa8f");
    sim.shutdown().await;
}

#[tokio::test]
async fn psws_version_follows_the_simulated_version() {
    for (v, h) in [(Version::V1_7_8, "1.7.8.11"), (Version::V9_0, "9.0.0")] {
        let sim = start(|c| c.version = v).await;
        assert_eq!(header(&get(&sim, "/api/orders").await, "psws-version"), h);
        sim.shutdown().await;
    }
}

#[tokio::test]
async fn head_has_the_headers_of_get_and_no_body() {
    let sim = start(|_| {}).await;
    let url = format!("{}/api/orders", sim.base_url());
    let r = client()
        .head(&url)
        .header("authorization", basic(sim.key()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "text/xml;charset=utf-8");
    let head_sha1 = header(&r, "content-sha1");
    assert!(r.bytes().await.unwrap().is_empty());
    let g = get(&sim, "/api/orders").await;
    assert_eq!(header(&g, "content-sha1"), head_sha1);
    sim.shutdown().await;
}

#[tokio::test]
async fn matching_local_content_sha1_gives_304() {
    let sim = start(|_| {}).await;
    let r = get(&sim, "/api/customers?output_format=JSON").await;
    let sha1 = header(&r, "content-sha1");
    let url = format!("{}/api/customers?output_format=JSON", sim.base_url());
    let cached = client()
        .get(&url)
        .header("authorization", basic(sim.key()))
        .header("local-content-sha1", &sha1)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);
    assert!(cached.bytes().await.unwrap().is_empty());
    let stale = client()
        .get(&url)
        .header("authorization", basic(sim.key()))
        .header(
            "local-content-sha1",
            "0000000000000000000000000000000000000000",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
    sim.shutdown().await;
}

#[tokio::test]
async fn dispatcher_url_and_api_path_give_the_same_answers() {
    let sim = start(|_| {}).await;
    for (api, dispatcher) in [
        ("/api/", "/webservice/dispatcher.php?url="),
        (
            "/api/orders/2?output_format=JSON",
            "/webservice/dispatcher.php?url=orders/2&output_format=JSON",
        ),
        (
            "/api/customers?display=full&limit=0,2",
            "/webservice/dispatcher.php?url=customers&display=full&limit=0,2",
        ),
    ] {
        let a = get(&sim, api).await;
        let d = get(&sim, dispatcher).await;
        assert_eq!(a.status(), d.status());
        assert_eq!(
            header(&a, "content-sha1"),
            header(&d, "content-sha1"),
            "{api}"
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn format_headers_take_precedence_over_parameters() {
    let sim = start(|_| {}).await;
    let url = format!("{}/api/orders?display=[id]&limit=0,3", sim.base_url());
    let send = |h: &'static str, v: &'static str, u: String| {
        let key = basic(sim.key());
        async move {
            client()
                .get(u)
                .header("authorization", key)
                .header(h, v)
                .send()
                .await
                .unwrap()
        }
    };
    let r = send("output-format", "JSON", url.clone()).await;
    assert_eq!(header(&r, "content-type"), "application/json");
    let r = send("io-format", "XML", format!("{url}&output_format=JSON")).await;
    assert_eq!(header(&r, "content-type"), "text/xml;charset=utf-8");
    let r = send("x-none", "x", format!("{url}&io_format=JSON")).await;
    assert_eq!(header(&r, "content-type"), "application/json");
    let r = send("x-none", "x", format!("{url}&output_format=json")).await;
    assert_eq!(
        header(&r, "content-type"),
        "text/xml;charset=utf-8",
        "only exactly JSON"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn missing_id_is_an_empty_404_and_errors_close_the_connection() {
    let sim = start(|_| {}).await;
    let r = get(&sim, "/api/orders/999999?output_format=JSON").await;
    assert_eq!(r.status(), 404);
    assert_eq!(header(&r, "content-type"), "");
    assert_eq!(header(&r, "content-sha1"), "");
    assert_eq!(header(&r, "psws-version"), "8.1.2");
    assert!(r.bytes().await.unwrap().is_empty());
    let r = get(&sim, "/api/ordersx?output_format=JSON").await;
    assert_eq!(r.status(), 400);
    assert_eq!(header(&r, "connection"), "close");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], 27);
    let counters = sim.counters();
    assert_eq!(counters.count("orders", 404), 1);
    assert_eq!(counters.count("ordersx", 400), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn methods_reach_the_webservice_and_ps_method_overrides() {
    let sim = start(|_| {}).await;
    let url = format!("{}/api/orders/1?output_format=JSON", sim.base_url());
    let r = client()
        .delete(&url)
        .header("authorization", basic(sim.key()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], 25);
    let r = get(&sim, "/api/orders/1?output_format=JSON&ps_method=DELETE").await;
    assert_eq!(r.status(), 405);
    sim.shutdown().await;
}
