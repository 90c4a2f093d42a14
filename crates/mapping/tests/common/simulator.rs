//! Reading a simulator store in-process, exactly as the sync would over HTTP: one
//! `display=full` list per resource, rendered by the simulator in XML or JSON and decoded by
//! the webservice crate's decoders.

use prestalink_mapping::RecordSet;
use prestalink_simulator::api::{ApiRequest, Format as SimFormat, Method, Permissions, Version};
use prestalink_simulator::protocol::respond;
use prestalink_simulator::store::Store;
use prestalink_webservice::decode::{decode, DEFAULT_MAX_BODY_BYTES};
use prestalink_webservice::Format;

/// Every resource the mapping reads.
pub const RESOURCES: [&str; 29] = [
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
    "order_invoices",
];

/// Reads every resource of a simulated store; `shop` is the `id_shop` parameter (`all` for a
/// multistore read, `None` for the default shop).
pub fn read_store(store: &Store, format: Format, shop: Option<&str>) -> RecordSet {
    let sim_format = match format {
        Format::Xml => SimFormat::Xml,
        Format::Json => SimFormat::Json,
    };
    let permissions = Permissions::default();
    let mut set = RecordSet::new();
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
        if response.status != 200 {
            // A resource this version or configuration does not have: not read.
            continue;
        }
        let records = decode(&response.body, format, DEFAULT_MAX_BODY_BYTES)
            .unwrap_or_else(|e| panic!("simulator {resource} body does not decode: {e}"))
            .into_records();
        set.extend(resource, records);
    }
    set
}
