//! The guard is not bypassed by a proxy from the environment: with `public_only` the client
//! ignores `HTTP_PROXY`/`ALL_PROXY` (a proxy would connect to an address the guard never saw).
//! A test binary of its own, since it sets process-wide environment variables.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prestalink_webservice::{Client, Connection, Error, Query, StoreUrl, WebserviceKey};
use tokio::net::TcpListener;

const KEY: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (port, count)
}

#[tokio::test]
async fn a_proxy_from_the_environment_is_not_used_by_a_guarded_client() {
    let (proxy_port, proxied) = counting_listener().await;
    let (store_port, direct) = counting_listener().await;
    let proxy = format!("http://127.0.0.1:{proxy_port}");
    for name in ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"] {
        std::env::set_var(name, &proxy);
    }
    for name in ["NO_PROXY", "no_proxy"] {
        std::env::remove_var(name);
    }
    let connection = |public_only: bool| {
        let mut c = Connection::new(
            StoreUrl::parse(&format!("http://localhost:{store_port}/")).unwrap(),
            WebserviceKey::parse(KEY).unwrap(),
        );
        c.public_only = public_only;
        c.timeout = Duration::from_secs(5);
        c
    };
    let query = Query::list("orders").unwrap();

    // Without the guard the request goes to the proxy (the control: the proxy is honoured).
    let _ = Client::new(connection(false))
        .unwrap()
        .get(&query)
        .await
        .unwrap_err();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        proxied.load(Ordering::SeqCst) >= 1,
        "the proxy was not used"
    );
    let before = proxied.load(Ordering::SeqCst);

    // With the guard the proxy is ignored and the store's own address is checked.
    let error = Client::new(connection(true))
        .unwrap()
        .get(&query)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::ForbiddenAddress { .. }),
        "{error:?}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        proxied.load(Ordering::SeqCst),
        before,
        "the proxy was reached"
    );
    assert_eq!(direct.load(Ordering::SeqCst), 0, "the store was reached");
}
