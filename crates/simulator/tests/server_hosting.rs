//! Hosting misconfigurations, compared with the recorded hosts 8081–8084.

mod server_support;

use prestalink_simulator::server::WafSpec;
use server_support::*;

#[tokio::test]
async fn redirect_keeps_path_and_query() {
    let sim = start(|c| c.hosting.redirect_to = Some("http://127.0.0.1:8080/".into())).await;
    let port = sim.addr().port();
    let r = get(
        &sim,
        "/api/orders?display=[id]&limit=0,3&output_format=JSON",
    )
    .await;
    assert_eq!(r.status(), 301);
    assert_eq!(
        header(&r, "location"),
        "http://127.0.0.1:8080/api/orders?display=[id]&limit=0,3&output_format=JSON"
    );
    assert_eq!(header(&r, "content-type"), "text/html; charset=iso-8859-1");
    let expected = fixture_on_port("v8082_redirect_orders.html", 8082, port)
        .replace(&format!("127.0.0.1:{port}/api"), "127.0.0.1:8080/api");
    assert_eq!(r.text().await.unwrap(), expected);
    let r = get(&sim, "/api/").await;
    assert_eq!(header(&r, "location"), "http://127.0.0.1:8080/api/");
    let expected = fixture_on_port("v8082_redirect_root.html", 8082, port)
        .replace(&format!("127.0.0.1:{port}/api"), "127.0.0.1:8080/api");
    assert_eq!(r.text().await.unwrap(), expected);
    sim.shutdown().await;
}

#[tokio::test]
async fn without_rewriting_only_the_dispatcher_answers() {
    let sim = start(|c| c.hosting.no_rewrite = true).await;
    let port = sim.addr().port();
    for path in ["/api/", "/api/orders?output_format=JSON"] {
        let r = get(&sim, path).await;
        assert_eq!(r.status(), 404);
        assert_eq!(header(&r, "content-type"), "text/html; charset=iso-8859-1");
        assert_eq!(header(&r, "psws-version"), "");
        assert_eq!(
            r.text().await.unwrap(),
            fixture_on_port("v8083_api_404.html", 8083, port)
        );
    }
    let r = get(
        &sim,
        "/webservice/dispatcher.php?url=orders&display=[id]&limit=0,3&output_format=JSON",
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        fixture("v8083_dispatcher_json.json")
    );
    let r = get(&sim, "/webservice/dispatcher.php?url=").await;
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("<api shopName="));
    sim.shutdown().await;
}

#[tokio::test]
async fn not_prestashop_is_a_plain_website() {
    let sim = start(|c| c.hosting.not_prestashop = true).await;
    let port = sim.addr().port();
    let r = client()
        .get(format!("{}/", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "content-type"), "text/html");
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        fixture("v8084_root.html")
    );
    for path in [
        "/api/",
        "/api/orders?output_format=JSON",
        "/webservice/dispatcher.php?url=",
    ] {
        let r = get(&sim, path).await;
        assert_eq!(r.status(), 404);
        assert_eq!(
            r.text().await.unwrap(),
            fixture_on_port("v8084_api.html", 8084, port)
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn maintenance_page_is_an_html_503_with_retry_after() {
    let sim = start(|c| c.hosting.maintenance = true).await;
    let r = get(&sim, "/api/orders").await;
    assert_eq!(r.status(), 503);
    assert_eq!(header(&r, "retry-after"), "600");
    assert_eq!(header(&r, "psws-version"), "");
    assert!(header(&r, "content-type").starts_with("text/html"));
    assert!(r.text().await.unwrap().contains("maintenance"));
    sim.shutdown().await;
}

#[tokio::test]
async fn firewall_blocks_the_requests_its_rules_name() {
    let spec: WafSpec = "wskey,like".parse().unwrap();
    let sim = start(|c| c.hosting.waf = Some(spec)).await;
    let r = get(&sim, "/api/orders").await;
    assert_eq!(r.status(), 200, "a plain request passes");
    let r = get(&sim, &format!("/api/orders?ws_key={}", sim.key())).await;
    assert_eq!(r.status(), 403);
    assert_eq!(header(&r, "content-type"), "text/html; charset=iso-8859-1");
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("<title>403 Forbidden</title>"));
    let r = get(&sim, "/api/customers?filter[email]=%25@example.com").await;
    assert_eq!(r.status(), 403);
    assert_eq!(sim.counters().faults["waf"], 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn firewall_rate_blocks_a_fraction() {
    let spec: WafSpec = "rate=0.5,seed=3".parse().unwrap();
    let sim = start(|c| c.hosting.waf = Some(spec)).await;
    let mut blocked = 0;
    for _ in 0..60 {
        if get(&sim, "/api/languages").await.status() == 403 {
            blocked += 1;
        }
    }
    assert!((15..=45).contains(&blocked), "{blocked} of 60 at rate 0.5");
    sim.shutdown().await;
}

#[tokio::test]
async fn tls_serves_https_with_a_self_signed_certificate() {
    let sim = start(|c| c.hosting.tls = true).await;
    assert!(sim.base_url().starts_with("https://127.0.0.1:"));
    let url = format!("{}/api/orders?output_format=JSON", sim.base_url());
    let refused = reqwest::Client::new()
        .get(&url)
        .header("authorization", basic(sim.key()))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a default client rejects a self-signed certificate"
    );
    let cert = reqwest::Certificate::from_pem(sim.certificate_pem().unwrap().as_bytes()).unwrap();
    let trusting = reqwest::Client::builder()
        .add_root_certificate(cert)
        .build()
        .unwrap();
    let r = trusting
        .get(&url)
        .header("authorization", basic(sim.key()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().starts_with("{\"orders\":["));
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_are_apache_404_and_the_storefront_answers() {
    let sim = start(|_| {}).await;
    let port = sim.addr().port();
    let r = get(&sim, "/admin123/").await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.text().await.unwrap(),
        fixture_on_port("v8083_api_404.html", 8083, port)
    );
    let r = client()
        .get(format!("{}/", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("PrestaShop"));
    assert_eq!(sim.counters().shopper.count, 1);
    sim.shutdown().await;
}
