//! Reading a simulator store in-process, exactly as the sync would over HTTP: one
//! `display=full` list per resource, rendered by the simulator in XML or JSON and decoded by
//! the webservice crate's decoders.
//!
//! Snapshots use frozen renderings (`tests/data/<name>.tsv`: one `resource<TAB>JSON body`
//! line per resource) so that they change only when the mapping changes, not whenever the
//! generator evolves. Refresh them from the live simulator with
//! `PRESTALINK_REFRESH_SIM_STORES=1 cargo test -p prestalink-mapping --test simulator`.

use std::path::PathBuf;

use prestalink_mapping::RecordSet;
use prestalink_simulator::api::{ApiRequest, Format as SimFormat, Method, Permissions, Version};
use prestalink_simulator::generator::{generate, GenConfig};
use prestalink_simulator::protocol::respond;
use prestalink_simulator::store::Store;
use prestalink_webservice::decode::{decode, DEFAULT_MAX_BODY_BYTES};
use prestalink_webservice::Format;

/// Every resource the mapping reads.
pub const RESOURCES: [&str; 28] = [
    "configurations",
    "languages",
    "shops",
    "shop_urls",
    "currencies",
    "countries",
    "states",
    "order_states",
    "taxes",
    "tax_rules",
    "tax_rule_groups",
    "carriers",
    "categories",
    "product_options",
    "product_option_values",
    "stock_availables",
    "combinations",
    "products",
    "addresses",
    "customers",
    "orders",
    "order_details",
    "order_payments",
    "order_slip",
    "order_carriers",
    "order_cart_rules",
    "order_histories",
    "stores",
];

/// The bodies of every resource as the simulator renders them (`display=full`, by id);
/// `shop` is the `id_shop` parameter (`all` for a multistore read, `None` for the default).
pub fn bodies(store: &Store, format: Format, shop: Option<&str>) -> Vec<(&'static str, Vec<u8>)> {
    let sim_format = match format {
        Format::Xml => SimFormat::Xml,
        Format::Json => SimFormat::Json,
    };
    let permissions = Permissions::default();
    let mut out = Vec::new();
    for resource in RESOURCES {
        let mut params = vec![
            ("display".to_string(), "full".to_string()),
            ("sort".to_string(), "[id_ASC]".to_string()),
        ];
        if let Some(shop) = shop {
            params.push(("id_shop".to_string(), shop.to_string()));
        }
        let request = ApiRequest {
            method: Method::Get,
            resource: Some(resource),
            id: None,
            params: &params,
            format: sim_format,
            base_url: "http://127.0.0.1:8080",
            version: Version::V8_1_2,
            permissions: &permissions,
        };
        let response = respond(store, &request);
        assert_eq!(response.status, 200, "simulator refuses {resource}");
        out.push((resource, response.body));
    }
    out
}

fn decode_into(set: &mut RecordSet, resource: &str, body: &[u8], format: Format) {
    let records = decode(body, format, DEFAULT_MAX_BODY_BYTES)
        .unwrap_or_else(|e| panic!("{resource} body does not decode: {e}"))
        .into_records();
    set.extend(resource, records);
}

/// Reads every resource of a live simulated store.
pub fn read_store(store: &Store, format: Format, shop: Option<&str>) -> RecordSet {
    let mut set = RecordSet::new();
    for (resource, body) in bodies(store, format, shop) {
        decode_into(&mut set, resource, &body, format);
    }
    set
}

/// Reads a frozen rendering of a simulator store (JSON bodies), refreshing it from the live
/// simulator first when `PRESTALINK_REFRESH_SIM_STORES` is set.
pub fn frozen_store(name: &str, cfg: &GenConfig, shop: Option<&str>) -> RecordSet {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(format!("{name}.tsv"));
    if std::env::var_os("PRESTALINK_REFRESH_SIM_STORES").is_some() {
        let mut text = String::new();
        for (resource, body) in bodies(&generate(cfg), Format::Json, shop) {
            let body = String::from_utf8(body).expect("JSON bodies are UTF-8");
            assert!(!body.contains('\n'), "{resource}: JSON body spans lines");
            text.push_str(&format!("{resource}\t{body}\n"));
        }
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with PRESTALINK_REFRESH_SIM_STORES=1",
            path.display()
        )
    });
    let mut set = RecordSet::new();
    for line in text.lines() {
        let (resource, body) = line.split_once('\t').expect("resource<TAB>body");
        decode_into(&mut set, resource, body.as_bytes(), Format::Json);
    }
    set
}
