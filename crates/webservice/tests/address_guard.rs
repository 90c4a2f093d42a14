//! The private-address guard end to end: with `public_only`, a store URL that is or resolves to a
//! loopback address ends with `forbidden_address` and no connection is ever opened; without it,
//! the same addresses are reached as before.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::{Simulator, SimulatorConfig};
use prestalink_webservice::diagnose::{connect, diagnose, DiagnoseOptions, DiagnosisCode};
use prestalink_webservice::{Client, Connection, Error, Query, StoreUrl, WebserviceKey};
use tokio::net::TcpListener;

const KEY: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// A listener on 127.0.0.1 that counts the connections it accepts (and closes them).
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

fn public_only() -> DiagnoseOptions {
    DiagnoseOptions {
        public_only: true,
        timeout: Duration::from_secs(5),
        ..DiagnoseOptions::default()
    }
}

async fn simulator() -> Simulator {
    Simulator::start(SimulatorConfig {
        gen: GenConfig {
            orders: 5,
            customers: 3,
            products: 3,
            languages: 1,
            ..GenConfig::default()
        },
        ..SimulatorConfig::default()
    })
    .await
    .expect("simulator starts")
}

#[tokio::test]
async fn a_host_name_resolving_to_loopback_is_refused_without_connecting() {
    let (port, count) = counting_listener().await;
    let d = diagnose(&format!("http://localhost:{port}/"), KEY, &public_only()).await;
    assert_eq!(d.code, DiagnosisCode::ForbiddenAddress, "{d:?}");
    assert!(!d.ok);
    assert!(
        d.message
            .starts_with("The store address localhost points to 127.0.0.1 (loopback)")
            || d.message
                .starts_with("The store address localhost points to ::1 (loopback)"),
        "{}",
        d.message
    );
    assert!(
        d.message.contains(
            "a private or local network address that prestalink's server may not connect to"
        ),
        "{}",
        d.message
    );
    assert!(d
        .fix
        .as_deref()
        .is_some_and(|f| f.contains("--allow-private-stores")));
    assert!(d.auth_mode.is_none() && d.connection.is_none());
    let json = serde_json::to_value(&d).unwrap();
    assert_eq!(json["code"], "forbidden_address");
    assert!(!json.to_string().contains(KEY));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(count.load(Ordering::SeqCst), 0, "the listener was reached");
}

#[tokio::test]
async fn ip_literals_of_loopback_are_refused_without_connecting() {
    let (port, count) = counting_listener().await;
    for (url, shown) in [
        (format!("http://127.0.0.1:{port}/"), "127.0.0.1"),
        (
            format!("http://[::ffff:127.0.0.1]:{port}/"),
            "::ffff:127.0.0.1",
        ),
        (format!("http://2130706433:{port}/shop/"), "127.0.0.1"),
    ] {
        let d = diagnose(&url, KEY, &public_only()).await;
        assert_eq!(d.code, DiagnosisCode::ForbiddenAddress, "{url}: {d:?}");
        assert_eq!(
            d.message,
            format!(
                "The store address {shown} is a private or local network address (loopback) \
                 that prestalink's server may not connect to."
            )
        );
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(count.load(Ordering::SeqCst), 0, "the listener was reached");
}

#[tokio::test]
async fn the_client_and_connect_refuse_forbidden_addresses() {
    let (port, count) = counting_listener().await;
    let key = WebserviceKey::parse(KEY).unwrap();
    let guarded = |url: &str| {
        let mut c = Connection::new(StoreUrl::parse(url).unwrap(), key.clone());
        c.public_only = true;
        c
    };
    // An IP literal is refused before any request.
    let error = Client::new(guarded(&format!("http://127.0.0.1:{port}/"))).unwrap_err();
    assert!(
        matches!(
            &error,
            Error::ForbiddenAddress {
                reason: "loopback",
                ..
            }
        ),
        "{error:?}"
    );
    let error = Client::new(guarded(&format!("http://[::1]:{port}/"))).unwrap_err();
    assert!(
        matches!(&error, Error::ForbiddenAddress { .. }),
        "{error:?}"
    );
    // A name is refused at each request, in ws_key mode too, and the key never shows.
    let mut connection = guarded(&format!("http://localhost:{port}/"));
    connection.auth_mode = prestalink_webservice::AuthMode::WsKey;
    let client = Client::new(connection).unwrap();
    for _ in 0..2 {
        let error = client
            .get(&Query::list("orders").unwrap())
            .await
            .unwrap_err();
        assert!(
            matches!(&error, Error::ForbiddenAddress { host, .. } if host == "localhost"),
            "{error:?}"
        );
        assert!(!error.to_string().contains(KEY));
        assert!(!format!("{error:?}").contains(KEY));
        assert!(!error.is_transient());
    }
    let error = connect(
        &StoreUrl::parse(&format!("http://localhost:{port}/")).unwrap(),
        &key,
        &public_only(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&error, Error::ForbiddenAddress { .. }),
        "{error:?}"
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(count.load(Ordering::SeqCst), 0, "the listener was reached");
}

#[tokio::test]
async fn without_the_guard_the_same_addresses_are_reached() {
    // The counting listener is reachable by name and by literal: the refusals above are the
    // guard's doing, not a listener that cannot be reached.
    let (port, count) = counting_listener().await;
    let options = DiagnoseOptions {
        timeout: Duration::from_secs(5),
        ..DiagnoseOptions::default()
    };
    for url in [
        format!("http://localhost:{port}/"),
        format!("http://127.0.0.1:{port}/"),
    ] {
        let d = diagnose(&url, KEY, &options).await;
        assert_ne!(d.code, DiagnosisCode::ForbiddenAddress, "{d:?}");
    }
    assert!(count.load(Ordering::SeqCst) >= 2);

    let sim = simulator().await;
    let port = sim.addr().port();
    for url in [sim.base_url(), format!("http://localhost:{port}/")] {
        let d = diagnose(&url, sim.key(), &options).await;
        assert_eq!(d.code, DiagnosisCode::Connected, "{url}: {d:?}");
        assert!(d.ok);
        assert!(!d.connection.unwrap().public_only);
    }
    // And with the guard on, the working simulator is refused like any loopback address.
    let d = diagnose(&sim.base_url(), sim.key(), &public_only()).await;
    assert_eq!(d.code, DiagnosisCode::ForbiddenAddress, "{d:?}");
    sim.shutdown().await;
}
