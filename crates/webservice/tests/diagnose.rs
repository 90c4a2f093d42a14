//! `diagnose` against hosting situations the simulator does not model, served by a tiny stub
//! HTTP server with canned answers: password protection, proxy error pages, redirect loops,
//! a front page at /api/, a key without any permission, a truncated answer.

use std::sync::Arc;

use prestalink_webservice::diagnose::{diagnose, DiagnoseOptions, DiagnosisCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const KEY: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// One canned answer: status line, extra headers, body.
struct Answer {
    status: &'static str,
    headers: Vec<(String, String)>,
    body: String,
}

fn answer(status: &'static str, content_type: &str, body: &str) -> Answer {
    Answer {
        status,
        headers: vec![("Content-Type".into(), content_type.into())],
        body: body.into(),
    }
}

/// Serves `route(path_and_query)` for every request; returns the base URL.
async fn stub(route: impl Fn(&str) -> Answer + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let route = Arc::new(route);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let route = route.clone();
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&request);
                let target = head.split_whitespace().nth(1).unwrap_or("/").to_owned();
                let a = route(&target);
                let mut response = format!("HTTP/1.1 {}\r\nConnection: close\r\n", a.status);
                for (k, v) in &a.headers {
                    response.push_str(&format!("{k}: {v}\r\n"));
                }
                response.push_str(&format!(
                    "Content-Length: {}\r\n\r\n{}",
                    a.body.len(),
                    a.body
                ));
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    base
}

async fn code_of(base: &str) -> (DiagnosisCode, String) {
    let d = diagnose(base, KEY, &DiagnoseOptions::default()).await;
    assert!(!d.ok);
    assert!(d.fix.as_deref().is_some_and(|f| f.len() > 20), "{d:?}");
    (d.code, d.message)
}

#[tokio::test]
async fn password_protection_is_blocked_with_its_own_fix() {
    let base = stub(|_| {
        let mut a = answer(
            "401 Unauthorized",
            "text/html",
            "<html><head><title>401 Authorization Required</title></head></html>",
        );
        a.headers.push((
            "WWW-Authenticate".into(),
            "Basic realm=\"Restricted\"".into(),
        ));
        a
    })
    .await;
    let d = diagnose(&base, KEY, &DiagnoseOptions::default()).await;
    assert_eq!(d.code, DiagnosisCode::Blocked);
    assert!(d.message.contains("password"), "{}", d.message);
    assert!(d.fix.unwrap().contains(".htpasswd"));
}

#[tokio::test]
async fn proxy_error_pages_are_server_errors() {
    let base = stub(|_| {
        answer(
            "502 Bad Gateway",
            "text/html",
            "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>",
        )
    })
    .await;
    let (code, message) = code_of(&base).await;
    assert_eq!(code, DiagnosisCode::ServerError);
    assert!(message.contains("502"), "{message}");
    let base = stub(|_| answer("500 Internal Server Error", "text/html; charset=utf-8", "")).await;
    assert_eq!(code_of(&base).await.0, DiagnosisCode::ServerError);
}

#[tokio::test]
async fn rate_limiting_proxy_is_blocked() {
    let base = stub(|_| {
        answer(
            "429 Too Many Requests",
            "text/html",
            "<html><title>Too many requests</title></html>",
        )
    })
    .await;
    assert_eq!(code_of(&base).await.0, DiagnosisCode::Blocked);
}

#[tokio::test]
async fn a_redirect_loop_is_reported_not_followed_forever() {
    let base = stub(|path| {
        let mut a = answer("301 Moved Permanently", "text/html", "<html>moved</html>");
        a.headers.push(("Location".into(), path.to_owned()));
        a
    })
    .await;
    let options = DiagnoseOptions {
        accept_redirect: true,
        ..DiagnoseOptions::default()
    };
    let d = diagnose(&base, KEY, &options).await;
    assert_eq!(d.code, DiagnosisCode::ServerError, "{d:?}");
    assert!(d.message.contains("redirecting"), "{}", d.message);
}

#[tokio::test]
async fn a_front_page_everywhere_is_not_prestashop() {
    let base = stub(|_| {
        answer(
            "200 OK",
            "text/html",
            "<!DOCTYPE html><html><head><title>My shop</title></head></html>",
        )
    })
    .await;
    let (code, message) = code_of(&base).await;
    assert_eq!(code, DiagnosisCode::NotPrestashop);
    assert!(message.contains("My shop"), "{message}");
}

#[tokio::test]
async fn a_key_without_any_permission() {
    let base = stub(|_| {
        answer(
            "401 Unauthorized",
            "text/xml;charset=utf-8",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n<errors>\n<error>\n<code><![CDATA[21]]></code>\n<message><![CDATA[No permission for this authentication key]]></message>\n</error>\n</errors>\n</prestashop>\n",
        )
    })
    .await;
    assert_eq!(code_of(&base).await.0, DiagnosisCode::NoPermission);
}

#[tokio::test]
async fn a_key_not_associated_with_the_shop() {
    let base = stub(|_| {
        answer(
            "403 Forbidden",
            "application/json",
            r#"{"errors":[{"code":132,"message":"No permission for this key on this shop"}]}"#,
        )
    })
    .await;
    let (code, message) = code_of(&base).await;
    assert_eq!(code, DiagnosisCode::NoPermission);
    assert!(message.contains("not enabled for this shop"), "{message}");
}

#[tokio::test]
async fn a_root_listing_cut_short_is_a_damaged_answer() {
    let base = stub(|_| {
        answer(
            "200 OK",
            "text/xml;charset=utf-8",
            "<?xml version=\"1.0\"?>\n<prestashop><api shopName=\"x\"><orders get=\"true\"",
        )
    })
    .await;
    let (code, message) = code_of(&base).await;
    assert_eq!(code, DiagnosisCode::ServerError);
    assert!(message.contains("damaged"), "{message}");
}

#[tokio::test]
async fn xml_that_is_not_prestashop() {
    let base = stub(|_| {
        answer(
            "200 OK",
            "text/xml",
            "<?xml version=\"1.0\"?><rss><channel/></rss>",
        )
    })
    .await;
    let (code, message) = code_of(&base).await;
    assert_eq!(code, DiagnosisCode::NotPrestashop);
    assert!(message.contains("<rss>"), "{message}");
}

#[tokio::test]
async fn a_redirect_to_something_that_is_not_a_shop() {
    let base = stub(|_| {
        let mut a = answer("302 Found", "text/html", "");
        a.headers
            .push(("Location".into(), "ftp://files.example/".into()));
        a
    })
    .await;
    let (code, message) = code_of(&base).await;
    assert_eq!(code, DiagnosisCode::ServerError);
    assert!(message.contains("ftp://files.example/"), "{message}");
}
