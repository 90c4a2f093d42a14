//! The client against the simulator: typed and raw reads, response metadata, conditional
//! requests, the body cap, Retry-After, redaction in ws_key mode, and `connect`.

use std::time::Duration;

use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::hosting::WafSpec;
use prestalink_simulator::{Simulator, SimulatorConfig};
use prestalink_webservice::diagnose::{connect, DiagnoseOptions};
use prestalink_webservice::{
    AuthMode, Client, Conditional, Connection, Direction, Display, Document, Error, Filter, Format,
    HtmlKind, Query, StoreUrl, UrlMode, WebserviceKey,
};

async fn simulator(configure: impl FnOnce(&mut SimulatorConfig)) -> Simulator {
    let mut cfg = SimulatorConfig {
        gen: GenConfig {
            orders: 30,
            customers: 10,
            products: 8,
            languages: 2,
            ..GenConfig::default()
        },
        ..SimulatorConfig::default()
    };
    configure(&mut cfg);
    Simulator::start(cfg).await.expect("simulator starts")
}

fn connection(sim: &Simulator) -> Connection {
    Connection::new(
        StoreUrl::parse(&sim.base_url()).unwrap(),
        WebserviceKey::parse(sim.key()).unwrap(),
    )
}

fn orders_page() -> Query {
    Query::list("orders")
        .unwrap()
        .display(Display::Full)
        .unwrap()
        .sort("id", Direction::Asc)
        .unwrap()
        .limit(0, 5)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_reads_in_both_formats_give_the_same_records() {
    let sim = simulator(|_| {}).await;
    let mut pages = Vec::new();
    for format in [Format::Json, Format::Xml] {
        let mut c = connection(&sim);
        c.format = format;
        let client = Client::new(c).unwrap();
        let page = client.get(&orders_page()).await.unwrap();
        assert_eq!(page.meta.status, 200);
        assert_eq!(page.meta.ps_version.as_deref(), Some("8.1.2"));
        assert!(page
            .meta
            .content_sha1
            .as_ref()
            .is_some_and(|s| s.len() == 40));
        assert!(page.meta.bytes > 0 && page.meta.from_prestashop);
        let Document::List { resource, records } = page.document else {
            panic!("{format}")
        };
        assert_eq!(resource.as_deref(), Some("orders"));
        assert_eq!(records.len(), 5);
        assert_eq!(
            records.iter().map(|r| r.id().unwrap()).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert!(!records[0].association("order_rows").is_empty());
        pages.push(records);
    }
    assert_eq!(
        pages[0], pages[1],
        "JSON and XML decode to the same records"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_raw_reads_and_errors() {
    let sim = simulator(|_| {}).await;
    let client = Client::new(connection(&sim)).unwrap();
    let query = Query::list("orders")
        .unwrap()
        .display(Display::Fields(vec!["id".into(), "current_state".into()]))
        .unwrap()
        .filter("id", Filter::AnyOf(vec!["2".into(), "7".into()]))
        .unwrap();
    let ids: Vec<u64> = client
        .get(&query)
        .await
        .unwrap()
        .into_records()
        .iter()
        .map(|r| r.id().unwrap())
        .collect();
    assert_eq!(ids, [2, 7]);
    let range = Query::list("orders")
        .unwrap()
        .filter("id", Filter::Between("2".into(), "4".into()))
        .unwrap();
    assert_eq!(client.get(&range).await.unwrap().into_records().len(), 3);

    // A module resource the typed layer does not know: raw read, then interpretation.
    let raw = client
        .get_raw(
            &Query::list("my_module_things").unwrap(),
            Format::Json,
            None,
        )
        .await
        .unwrap();
    assert_eq!(raw.meta.status, 400);
    match client.get(&Query::list("my_module_things").unwrap()).await {
        Err(Error::Api {
            status: 400,
            errors,
            ..
        }) => assert_eq!(errors[0].code, 27),
        other => panic!("{other:?}"),
    }
    match client.get(&Query::one("orders", 999_999).unwrap()).await {
        Err(Error::NotFound { url }) => assert!(
            url.ends_with("/api/orders/999999?output_format=JSON"),
            "{url}"
        ),
        other => panic!("{other:?}"),
    }
    let bad_sort = Query::list("orders")
        .unwrap()
        .sort("date_upd", Direction::Desc)
        .unwrap();
    assert!(matches!(
        client.get(&bad_sort).await,
        Err(Error::Api { .. })
    ));
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditional_reads_and_the_body_cap() {
    let sim = simulator(|_| {}).await;
    let client = Client::new(connection(&sim)).unwrap();
    let page = client.get(&orders_page()).await.unwrap();
    let sha1 = page.meta.content_sha1.clone().unwrap();
    match client.get_if_changed(&orders_page(), &sha1).await.unwrap() {
        Conditional::NotModified(meta) => assert_eq!(meta.status, 304),
        Conditional::Changed(_) => panic!("unchanged content was sent again"),
    }
    match client
        .get_if_changed(&orders_page(), &"0".repeat(40))
        .await
        .unwrap()
    {
        Conditional::Changed(page) => assert_eq!(page.into_records().len(), 5),
        Conditional::NotModified(_) => panic!("a different sha1 must read"),
    }
    let mut capped = connection(&sim);
    capped.max_body_bytes = 500;
    let client = Client::new(capped).unwrap();
    match client.get(&orders_page()).await {
        Err(Error::BodyTooLarge { limit: 500, url }) => assert!(url.contains("/api/orders")),
        other => panic!("{other:?}"),
    }
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_and_redaction() {
    let sim = simulator(|cfg| cfg.hosting.maintenance = true).await;
    let client = Client::new(connection(&sim)).unwrap();
    let error = client.get(&orders_page()).await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Html {
                kind: HtmlKind::Maintenance,
                status: 503,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.retry_after(), Some(Duration::from_secs(600)));
    assert!(error.is_transient());
    sim.shutdown().await;

    let sim = simulator(|cfg| {
        cfg.hosting.waf = Some(WafSpec {
            ws_key: true,
            ..WafSpec::default()
        })
    })
    .await;
    let mut c = connection(&sim);
    c.auth_mode = AuthMode::WsKey;
    let client = Client::new(c).unwrap();
    let error = client.get(&orders_page()).await.unwrap_err();
    let shown = format!("{error} {error:?}");
    assert!(
        matches!(
            error,
            Error::Html {
                kind: HtmlKind::Firewall,
                ..
            }
        ),
        "{shown}"
    );
    assert!(shown.contains("ws_key=REDACTED"), "{shown}");
    assert!(!shown.contains(sim.key()), "key leaked: {shown}");
    sim.shutdown().await;

    // Transport errors in ws_key mode are redacted too.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let mut c = Connection::new(
        StoreUrl::parse(&format!("http://{addr}")).unwrap(),
        WebserviceKey::parse("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345").unwrap(),
    );
    c.auth_mode = AuthMode::WsKey;
    let error = Client::new(c)
        .unwrap()
        .get(&orders_page())
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::ConnectionRefused { .. }),
        "{error:?}"
    );
    assert!(!format!("{error} {error:?}").contains("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_resolves_auth_mode_and_url_form_once() {
    let sim = simulator(|cfg| {
        cfg.hosting.auth_header_stripped = true;
        cfg.hosting.no_rewrite = true;
    })
    .await;
    let client = connect(
        &StoreUrl::parse(&sim.base_url()).unwrap(),
        &WebserviceKey::parse(sim.key()).unwrap(),
        &DiagnoseOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(client.connection().auth_mode, AuthMode::WsKey);
    assert_eq!(client.connection().url_mode, UrlMode::Dispatcher);
    let page = client.get(&orders_page()).await.unwrap();
    assert!(
        page.meta.url.contains("dispatcher.php?url=orders")
            && page.meta.url.contains("ws_key=REDACTED")
    );
    assert_eq!(page.into_records().len(), 5);
    // No hidden retries: after connect, every get is exactly one request.
    sim.reset_counters();
    let _ = client.get(&Query::one("orders", 999_999).unwrap()).await;
    assert_eq!(sim.counters().requests, 1);
    sim.shutdown().await;
}

/// Drops what JSON leaves out (empty associations), so XML and JSON records compare equal.
fn without_empty_associations(
    mut record: prestalink_webservice::record::Record,
) -> prestalink_webservice::record::Record {
    record.associations.retain(|_, entries| !entries.is_empty());
    for entries in record.associations.values_mut() {
        let cleaned: Vec<_> = entries.drain(..).map(without_empty_associations).collect();
        *entries = cleaned;
    }
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listed_resource_decodes_alike_in_xml_and_json() {
    let sim = simulator(|_| {}).await;
    let client = Client::new(connection(&sim)).unwrap();
    let (index, _) = client.resources().await.unwrap();
    let mut compared = 0;
    for resource in index.resources.keys() {
        let query = Query::list(resource)
            .unwrap()
            .display(Display::Full)
            .unwrap()
            .limit(0, 3);
        let json = client.get_as(&query, Format::Json).await;
        let xml = client.get_as(&query, Format::Xml).await;
        match (xml, json) {
            (Ok(xml), Ok(json)) => {
                let xml: Vec<_> = xml
                    .into_records()
                    .into_iter()
                    .map(without_empty_associations)
                    .collect();
                let json: Vec<_> = json
                    .into_records()
                    .into_iter()
                    .map(without_empty_associations)
                    .collect();
                assert_eq!(xml, json, "{resource}");
                compared += 1;
            }
            // Resources without list support (images, search…) fail the same way in both.
            (Err(x), Err(j)) => assert_eq!(
                std::mem::discriminant(&x),
                std::mem::discriminant(&j),
                "{resource}: {x} vs {j}"
            ),
            (x, j) => panic!("{resource}: XML {x:?} vs JSON {j:?}"),
        }
    }
    assert!(compared >= 60, "only {compared} resources compared");
    sim.shutdown().await;
}
