//! Benchmark of the Webservice protocol: time to answer typical requests from a generated
//! store (pages of full orders, id lists, sorted and filtered pages, single records).
//! Run with `cargo run --release -p prestalink-simulator --example render_bench -- 20000`.

use std::time::Instant;

use prestalink_simulator::api::{ApiRequest, Format, Method, Permissions, Version};
use prestalink_simulator::generator::{generate, GenConfig};
use prestalink_simulator::protocol::respond;

fn main() {
    let orders: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let cfg = GenConfig {
        orders,
        customers: orders / 4,
        products: (orders / 50).max(40),
        languages: 2,
        ..GenConfig::default()
    };
    let store = generate(&cfg);
    let permissions = Permissions::default();
    let mid = orders / 2;
    let requests: Vec<(&str, Option<String>, String, Format)> = vec![
        (
            "orders",
            None,
            format!("display=full&limit={mid},1000"),
            Format::Xml,
        ),
        (
            "orders",
            None,
            format!("display=full&limit={mid},1000"),
            Format::Json,
        ),
        ("orders", None, String::new(), Format::Xml),
        ("orders", None, String::new(), Format::Json),
        (
            "orders",
            None,
            "display=[id,reference,date_upd]&date=1&sort=[date_upd_DESC]&limit=0,1000".into(),
            Format::Json,
        ),
        (
            "orders",
            None,
            "display=full&filter[current_state]=[4|5]&sort=[id_ASC]&limit=0,100".into(),
            Format::Json,
        ),
        ("orders", Some(mid.to_string()), String::new(), Format::Xml),
        (
            "products",
            None,
            "display=full&limit=0,100".into(),
            Format::Json,
        ),
        (
            "customers",
            None,
            "display=full&limit=0,1000".into(),
            Format::Json,
        ),
    ];
    println!("orders in store: {orders}");
    println!(
        "{:<9} {:<5} {:>9} {:>9} {:>8}  query",
        "resource", "fmt", "ms/req", "KiB", "MB/s"
    );
    for (resource, id, query, format) in requests {
        let params: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (k.to_string(), v.to_string())
            })
            .collect();
        let req = ApiRequest {
            method: Method::Get,
            resource: Some(resource),
            id: id.as_deref(),
            params: &params,
            format,
            base_url: "http://127.0.0.1:8080",
            version: Version::V8_1_2,
            permissions: &permissions,
        };
        let first = respond(&store, &req);
        assert_eq!(first.status, 200, "{resource} {query}");
        let runs = 30;
        let start = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(respond(&store, &req));
        }
        let per = start.elapsed().as_secs_f64() / f64::from(runs);
        let kib = first.body.len() as f64 / 1024.0;
        println!(
            "{resource:<9} {:<5} {:>9.2} {:>9.0} {:>8.0}  {}{query}",
            format!("{format:?}"),
            per * 1000.0,
            kib,
            first.body.len() as f64 / per / 1e6,
            id.map(|i| format!("/{i} ")).unwrap_or_default(),
        );
    }
}
