//! Authentication exactly as the dispatcher does it, compared with the recorded 8.1.2 store.

mod server_support;

use server_support::*;

const REALM: &str = "Basic realm=\"Welcome to PrestaShop Webservice, please enter the authentication key as the login. No password required.\"";
const UNKNOWN_KEY: &str = "ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ";

async fn send(url: String, auth: Option<String>) -> reqwest::Response {
    let mut req = client().get(url);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn no_credentials_is_the_plain_dispatcher_401() {
    let sim = start(|_| {}).await;
    for query in ["", "?output_format=JSON"] {
        let r = send(format!("{}/api/orders{query}", sim.base_url()), None).await;
        assert_eq!(r.status(), 401);
        assert_eq!(header(&r, "www-authenticate"), REALM);
        assert_eq!(header(&r, "content-type"), "text/html; charset=utf-8");
        assert_eq!(
            header(&r, "psws-version"),
            "",
            "not authenticated, no version"
        );
        assert_eq!(
            r.bytes().await.unwrap().as_ref(),
            fixture("err_no_auth.html")
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_key_gets_codes_20_and_21() {
    let sim = start(|_| {}).await;
    for (query, file, ct) in [
        ("", "err_unknown_key_xml.xml", "text/xml;charset=utf-8"),
        (
            "?output_format=JSON",
            "err_unknown_key_json.json",
            "application/json",
        ),
    ] {
        let url = format!("{}/api/orders{query}", sim.base_url());
        let r = send(url, Some(basic(UNKNOWN_KEY))).await;
        assert_eq!(r.status(), 401);
        assert_eq!(header(&r, "www-authenticate"), REALM);
        assert_eq!(header(&r, "psws-version"), "0");
        assert_eq!(header(&r, "execution-time"), "0");
        assert_eq!(header(&r, "x-powered-by"), "PrestaShop Webservice");
        assert_eq!(header(&r, "content-type"), ct);
        assert_eq!(header(&r, "content-sha1"), "");
        assert_eq!(r.bytes().await.unwrap().as_ref(), fixture(file));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_key_gets_18_by_basic_and_by_ws_key() {
    let sim = start(|_| {}).await;
    let base = sim.base_url();
    let r = send(format!("{base}/api/orders"), Some(basic("bad-key!"))).await;
    assert_eq!(r.status(), 401);
    assert_eq!(header(&r, "www-authenticate"), REALM);
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        fixture("err_wrong_format_key_xml.xml")
    );
    let r = send(
        format!("{base}/api/orders?output_format=JSON&ws_key=bad-key!"),
        None,
    )
    .await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        fixture("err_wrong_format_key_wskey_json.json")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn empty_key_gets_17() {
    let sim = start(|_| {}).await;
    let url = format!("{}/api/orders?output_format=JSON", sim.base_url());
    let r = send(url, Some(basic(""))).await;
    assert_eq!(r.status(), 401);
    assert_eq!(header(&r, "www-authenticate"), REALM);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], 17);
    assert_eq!(body["errors"][0]["message"], "Authentication key is empty");
    sim.shutdown().await;
}

#[tokio::test]
async fn basic_auth_takes_precedence_over_ws_key() {
    let sim = start(|_| {}).await;
    let key = sim.key().to_string();
    let url = format!(
        "{}/api/orders?output_format=JSON&ws_key={key}",
        sim.base_url()
    );
    let r = send(url.clone(), Some(basic(UNKNOWN_KEY))).await;
    assert_eq!(r.status(), 401, "the Basic key is the one checked");
    let r = send(url, None).await;
    assert_eq!(r.status(), 200, "ws_key alone works");
    assert_eq!(header(&r, "psws-version"), "8.1.2");
    sim.shutdown().await;
}

#[tokio::test]
async fn disabled_webservice_is_503_code_22_with_a_key_and_401_without() {
    let sim = start(|c| c.hosting.webservice_disabled = true).await;
    let base = sim.base_url();
    for (path, file) in [
        ("/api/orders", "err_ws_disabled_xml.xml"),
        (
            "/api/orders?output_format=JSON",
            "err_ws_disabled_json.json",
        ),
        ("/api/", "err_ws_disabled_root_xml.xml"),
    ] {
        // Even an unknown key gets 22: the check runs before authentication.
        for key in [sim.key(), UNKNOWN_KEY] {
            let r = send(format!("{base}{path}"), Some(basic(key))).await;
            assert_eq!(r.status(), 503);
            assert_eq!(header(&r, "psws-version"), "0");
            assert_eq!(header(&r, "www-authenticate"), "");
            assert_eq!(header(&r, "connection"), "close");
            assert_eq!(r.bytes().await.unwrap().as_ref(), fixture(file));
        }
    }
    let r = send(format!("{base}/api/orders"), None).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        fixture("err_ws_disabled_no_auth.html")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn stripped_authorization_header_only_ws_key_works() {
    let sim = start(|c| c.hosting.auth_header_stripped = true).await;
    let base = sim.base_url();
    let r = get(&sim, "/api/orders?output_format=JSON").await;
    assert_eq!(r.status(), 401);
    assert_eq!(header(&r, "www-authenticate"), REALM);
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        fixture("v8081_basic_stripped.html")
    );
    let url = format!(
        "{base}/api/orders?display=[id]&limit=0,3&output_format=JSON&ws_key={}",
        sim.key()
    );
    let r = send(url, Some(basic(sim.key()))).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "psws-version"), "8.1.2");
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        fixture("v8081_wskey_json.json")
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn limited_key_is_checked_by_the_webservice() {
    let limited = "LIMITEDKEY0000000000000000000001";
    let sim = start(|c| {
        c.keys.push(
            prestalink_simulator::options::parse_key(&format!("{limited}:orders,customers"))
                .unwrap(),
        )
    })
    .await;
    let url = format!("{}/api/products?output_format=JSON", sim.base_url());
    let r = send(url, Some(basic(limited))).await;
    assert_eq!(r.status(), 401);
    assert_eq!(
        header(&r, "psws-version"),
        "8.1.2",
        "authenticated: the real version"
    );
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], 26);
    let url = format!("{}/api/orders?output_format=JSON", sim.base_url());
    assert_eq!(send(url, Some(basic(limited))).await.status(), 200);
    sim.shutdown().await;
}
