//! Every fault at rate 1 produces its failure, as a client sees it.

mod server_support;

use std::time::Duration;

use prestalink_simulator::faults::Faults;
use prestalink_simulator::Simulator;
use server_support::*;

async fn with_faults(spec: &str) -> Simulator {
    let faults: Faults = spec.parse().unwrap();
    start(|c| c.faults = faults).await
}

#[tokio::test]
async fn server_error_is_a_prestashop_500() {
    let sim = with_faults("500=1").await;
    let r = get(&sim, "/api/orders?output_format=JSON").await;
    assert_eq!(r.status(), 500);
    assert_eq!(header(&r, "psws-version"), "8.1.2");
    assert_eq!(header(&r, "connection"), "close");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], 3);
    assert_eq!(sim.counters().faults["500"], 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn reset_closes_without_an_answer() {
    let sim = with_faults("reset=1").await;
    let url = format!("{}/api/orders", sim.base_url());
    let r = client()
        .get(url)
        .header("authorization", basic(sim.key()))
        .send()
        .await;
    let err = r.expect_err("no answer");
    assert!(!err.is_status() && !err.is_timeout(), "{err}");
    assert_eq!(sim.counters().by_status[&0], 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn truncated_body_fails_mid_read() {
    let sim = with_faults("truncate=1").await;
    let r = get(&sim, "/api/orders?display=full&output_format=JSON").await;
    assert_eq!(r.status(), 200);
    let announced: usize = header(&r, "content-length").parse().unwrap();
    assert!(announced > 100);
    assert!(r.bytes().await.is_err(), "the body ends early");
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_characters_break_xml_and_utf8() {
    let sim = with_faults("badchar=1").await;
    let xml = get(&sim, "/api/orders/1").await.bytes().await.unwrap();
    // XML 1.0's Char production allows no control character but tab, LF and CR.
    let forbidden = |b: &u8| *b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r');
    let at = xml
        .iter()
        .position(forbidden)
        .expect("a character XML 1.0 forbids");
    assert_eq!(xml[at], 0x0b);
    assert!(xml[..at].ends_with(b"<![CDATA["), "inside a value");
    let r = get(&sim, "/api/orders/1?output_format=JSON").await;
    let sha1 = header(&r, "content-sha1");
    let json = r.bytes().await.unwrap();
    assert!(std::str::from_utf8(&json).is_err(), "invalid UTF-8");
    assert_eq!(
        sha1,
        hex::encode(<sha1::Sha1 as sha1::Digest>::digest(&json))
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn empty_is_a_200_without_body() {
    let sim = with_faults("empty=1").await;
    let r = get(&sim, "/api/orders?output_format=JSON").await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        header(&r, "content-sha1"),
        "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    );
    assert!(r.bytes().await.unwrap().is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn broken_resource_always_fails_and_others_work() {
    let sim = with_faults("fail=order_details").await;
    for _ in 0..3 {
        let r = get(&sim, "/api/order_details?output_format=JSON").await;
        assert_eq!(r.status(), 500);
        assert!(r.bytes().await.unwrap().is_empty());
    }
    assert_eq!(get(&sim, "/api/orders").await.status(), 200);
    assert_eq!(sim.counters().faults["fail"], 3);
    sim.shutdown().await;
}

#[tokio::test]
async fn slow_holds_the_worker() {
    let sim = with_faults("slow=1:150ms").await;
    let r = get(&sim, "/api/languages").await;
    assert_eq!(r.status(), 200);
    let c = sim.counters();
    assert_eq!(c.faults["slow"], 1);
    assert!(c.busy_total() >= Duration::from_millis(150));
    sim.shutdown().await;
}

#[tokio::test]
async fn auth_failures_are_never_faulted() {
    let sim = with_faults("500=1").await;
    let r = client()
        .get(format!("{}/api/orders", sim.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    sim.shutdown().await;
}
