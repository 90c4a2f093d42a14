//! Snapshot tests on the recorded responses of a real PrestaShop 8.1.2 store, decoded by the
//! webservice crate's XML and JSON decoders: both formats must give identical commerce
//! records, and those records must not change unnoticed.

mod common;

use common::{add_unique, decode_fixture, map_everything, options, render};
use prestalink_mapping::RecordSet;
use prestalink_webservice::Format;

/// Resources of the two-language recording and the single records recorded for each, in
/// both formats (`<resource>_full_0_3` lists plus one single GET).
const TWO_LANGUAGE_FILES: [(&str, &str); 25] = [
    ("addresses", "addresses_1154"),
    ("carriers", "carriers_2"),
    ("categories", "categories_3"),
    ("combinations", "combinations_536"),
    ("configurations", "configurations_236"),
    ("countries", "countries_8"),
    ("currencies", "currencies_1"),
    ("customers", "customers_2500"),
    ("languages", "languages_2"),
    ("order_carriers", "order_carriers_20000"),
    ("order_details", "order_details_39899"),
    ("order_histories", "order_histories_84964"),
    ("order_payments", "order_payments_41"),
    ("order_slip", "order_slip_1"),
    ("order_states", "order_states_5"),
    ("orders", "orders_101"),
    ("product_option_values", "product_option_values_1"),
    ("product_options", "product_options_1"),
    ("products", "products_250"),
    ("shops", "shops_1"),
    ("stock_availables", "stock_availables_1312"),
    ("stores", "stores_1"),
    ("tax_rule_groups", "tax_rule_groups_9"),
    ("tax_rules", "tax_rules_1"),
    ("taxes", "taxes_1"),
];

fn two_languages(format: Format) -> RecordSet {
    let ext = match format {
        Format::Xml => "xml.xml",
        Format::Json => "json.json",
    };
    let mut set = RecordSet::new();
    for (resource, single) in TWO_LANGUAGE_FILES {
        let dir = "two-languages-scaled";
        let list = decode_fixture(&format!("{dir}/{resource}_full_0_3_{ext}"), format);
        add_unique(&mut set, resource, list);
        let one = decode_fixture(&format!("{dir}/{single}_{ext}"), format);
        add_unique(&mut set, resource, one);
    }
    // The configuration values mapping reads (name filter), recorded in both formats too.
    let filtered = decode_fixture(
        &format!("two-languages-scaled/configurations_filter_{ext}"),
        format,
    );
    add_unique(&mut set, "configurations", filtered);
    set
}

#[test]
fn two_languages_xml_and_json_map_identically() {
    let opts = options();
    let from_xml = render(&map_everything(&two_languages(Format::Xml), &opts));
    let from_json = render(&map_everything(&two_languages(Format::Json), &opts));
    similar_lines(&from_xml, &from_json);
    insta::assert_snapshot!("two_languages", from_json);
}

#[test]
fn two_languages_read_in_french() {
    let mut opts = options();
    opts.language = Some(2);
    let mapped = render(&map_everything(&two_languages(Format::Json), &opts));
    assert!(mapped.contains("[FR] "), "French names are read");
    insta::assert_snapshot!("two_languages_fr", mapped);
}

#[test]
fn one_language_order_xml_and_json_map_identically() {
    let mut xml = RecordSet::new();
    xml.extend(
        "orders",
        decode_fixture("one-language/order_1_xml.body", Format::Xml),
    );
    let mut json = RecordSet::new();
    json.extend(
        "orders",
        decode_fixture("one-language/order_1_json.body", Format::Json),
    );
    let opts = options();
    similar_lines(
        &render(&map_everything(&xml, &opts)),
        &render(&map_everything(&json, &opts)),
    );
}

#[test]
fn one_language_store() {
    let mut set = RecordSet::new();
    for resource in [
        "addresses",
        "carriers",
        "combinations",
        "currencies",
        "customers",
        "order_details",
        "order_histories",
        "order_states",
        "orders",
        "products",
        "stock_availables",
    ] {
        let records = decode_fixture(
            &format!("one-language/{resource}_full_json.body"),
            Format::Json,
        );
        set.extend(resource, records);
    }
    let mapped = render(&map_everything(&set, &options()));
    insta::assert_snapshot!("one_language", mapped);
}

/// Asserts equality line by line, showing the first difference.
fn similar_lines(a: &str, b: &str) {
    for (i, (la, lb)) in a.lines().zip(b.lines()).enumerate() {
        assert_eq!(la, lb, "first difference at line {}", i + 1);
    }
    assert_eq!(a.lines().count(), b.lines().count(), "same number of lines");
}
