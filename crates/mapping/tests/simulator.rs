//! Simulator stores of 1 and 2 languages and 1 and 2 shops, read as the sync reads them
//! (display=full lists). Live stores: XML and JSON map identically, shops are told apart,
//! secrets never pass, each data type needs only its listed sources. Frozen renderings of
//! the same stores (tests/data): snapshots, so the mapped records never change unnoticed.

mod common;

use common::simulator::{frozen_store, read_store};
use common::{map_everything, options, render};
use prestalink_commerce::{CommerceRecord, DataType};
use prestalink_simulator::generator::{generate, GenConfig};
use prestalink_webservice::Format;

fn config(languages: u32, shops: u32) -> GenConfig {
    GenConfig {
        seed: 7,
        languages,
        shops,
        orders: 12,
        customers: 12,
        products: 5,
        timezone: "Europe/Paris".to_string(),
    }
}

/// Maps a generated store read in both formats; asserts they agree; returns the JSON one.
fn map_store(
    cfg: &GenConfig,
    shop: Option<&str>,
) -> (String, Vec<(DataType, prestalink_mapping::Batch)>) {
    let store = generate(cfg);
    let opts = options();
    let json = map_everything(&read_store(&store, Format::Json, shop), &opts);
    let xml = map_everything(&read_store(&store, Format::Xml, shop), &opts);
    let (json_text, xml_text) = (render(&json), render(&xml));
    assert!(json_text == xml_text, "XML and JSON reads map differently");
    (json_text, json)
}

fn orders(batches: &[(DataType, prestalink_mapping::Batch)]) -> Vec<&prestalink_commerce::Order> {
    batches
        .iter()
        .flat_map(|(_, b)| &b.records)
        .filter_map(|r| match r {
            CommerceRecord::Order(o) => Some(o.as_ref()),
            _ => None,
        })
        .collect()
}

/// Live store, both formats: asserts XML and JSON agree and returns the mapping.
fn live(languages: u32, shops: u32) -> Vec<(DataType, prestalink_mapping::Batch)> {
    let shop = (shops > 1).then_some("all");
    map_store(&config(languages, shops), shop).1
}

/// Frozen rendering of the same store, mapped for the snapshot.
fn frozen(name: &str, languages: u32, shops: u32) -> String {
    let shop = (shops > 1).then_some("all");
    render(&map_everything(
        &frozen_store(name, &config(languages, shops), shop),
        &options(),
    ))
}

#[test]
fn one_language_one_shop() {
    assert!(!orders(&live(1, 1)).is_empty());
    let text = frozen("sim_1lang_1shop", 1, 1);
    assert!(
        !text.contains("\"translations\""),
        "one language has no translations"
    );
    insta::assert_snapshot!("sim_1lang_1shop", text);
}

#[test]
fn two_languages_one_shop() {
    let (text, _) = map_store(&config(2, 1), None);
    assert!(
        text.contains("\"translations\""),
        "the second language is kept"
    );
    let text = frozen("sim_2lang_1shop", 2, 1);
    assert!(
        text.contains("\"translations\""),
        "the second language is kept"
    );
    insta::assert_snapshot!("sim_2lang_1shop", text);
}

#[test]
fn one_language_two_shops() {
    let batches = live(1, 2);
    let shops: std::collections::BTreeSet<String> = orders(&batches)
        .iter()
        .map(|o| {
            o.location_ref
                .as_ref()
                .expect("every order has its shop")
                .id
                .clone()
        })
        .collect();
    assert_eq!(
        shops.len(),
        2,
        "orders of both shops, told apart by locationRef: {shops:?}"
    );
    insta::assert_snapshot!("sim_1lang_2shops", frozen("sim_1lang_2shops", 1, 2));
}

#[test]
fn two_languages_two_shops() {
    assert!(orders(&live(2, 2)).iter().all(|o| o.location_ref.is_some()));
    insta::assert_snapshot!("sim_2lang_2shops", frozen("sim_2lang_2shops", 2, 2));
}

#[test]
fn customer_secrets_never_pass_through() {
    let (text, _) = map_store(&config(1, 1), None);
    for secret in [
        "passwd",
        "secure_key",
        "secureKey",
        "reset_password_token",
        "$2y$",
    ] {
        assert!(!text.contains(secret), "{secret} leaked");
    }
}

/// `Sources::resources()` is what the sync reads for a data type: mapping from those
/// resources alone must give exactly what mapping from everything gives.
#[test]
fn each_data_type_needs_only_its_listed_sources() {
    let store = generate(&config(2, 2));
    let everything = read_store(&store, Format::Json, Some("all"));
    let opts = options();
    let full = map_everything(&everything, &opts);
    for (data_type, batch) in &full {
        let mut only = prestalink_mapping::RecordSet::new();
        for resource in prestalink_mapping::sources::sources(*data_type).resources() {
            only.extend(resource, everything.records(resource).iter().cloned());
        }
        let refs = prestalink_mapping::ReferenceData::build(&only, &opts).unwrap();
        let alone = prestalink_mapping::map_data_type(*data_type, &only, &refs, &opts).unwrap();
        let single = |b: &prestalink_mapping::Batch| render(&[(*data_type, b.clone())]);
        assert_eq!(
            single(&alone),
            single(batch),
            "{data_type} reads more than its sources"
        );
    }
}
