//! Commerce records are stored from the mapping's types straight to text and hash
//! (`EncodedCommerce`): the bytes must be those of the store's `Value` path (the record
//! through `serde_json::to_value`, NULs removed, `modifiedDate` set, canonical hash), for
//! every record mapped from a generated store and from the recorded PrestaShop answers.

use prestalink_commerce::{DataType, Support};
use prestalink_mapping::{map_data_type, MapOptions, RecordSet, ReferenceData};
use prestalink_simulator::generator::{generate, GenConfig};
use prestalink_store::{commerce_via_value, EncodedCommerce};
use prestalink_webservice::decode::decode;
use prestalink_webservice::Format;

const NOW: &str = "2026-12-07T18:00:00.000Z";

/// Maps every data type of `set` and checks each record; returns how many were checked.
fn check_all(set: &RecordSet) -> usize {
    let mut opts = MapOptions::new(chrono::Utc::now());
    opts.store_url = Some("http://shop.example".into());
    let refs = ReferenceData::build(set, &opts).expect("reference data builds");
    let mut checked = 0;
    for dt in DataType::ALL {
        if dt.support() == Support::NotSupported {
            continue;
        }
        let batch = map_data_type(dt, set, &refs, &opts).expect("supported data type");
        for record in &batch.records {
            let encoded = EncodedCommerce::new(record.id().to_string(), record, None).unwrap();
            let value = serde_json::to_value(record).unwrap();
            let (text, hash, source_modified) = commerce_via_value(&value, None, NOW);
            assert_eq!(encoded.json_at(NOW), text, "{dt} {}", record.id());
            assert_eq!(encoded.content_hash, hash, "{dt} {}", record.id());
            assert_eq!(
                encoded.source_modified_date,
                source_modified,
                "{dt} {}",
                record.id()
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn generated_stores_encode_as_the_value_path() {
    for cfg in [
        GenConfig {
            orders: 300,
            languages: 2,
            ..GenConfig::default()
        },
        GenConfig {
            seed: 7,
            shops: 2,
            orders: 200,
            timezone: "America/New_York".into(),
            ..GenConfig::default()
        },
    ] {
        let store = generate(&cfg);
        let set = prestalink_testkit::source_records(&store, "http://127.0.0.1:1")
            .expect("the simulator answers");
        let checked = check_all(&set);
        assert!(checked > 500, "only {checked} records mapped");
    }
}

#[test]
fn recorded_prestashop_answers_encode_as_the_value_path() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/prestashop-8.1.2/two-languages-scaled"
    );
    let Ok(entries) = std::fs::read_dir(dir) else {
        println!("skipped: no fixtures at {dir}");
        return;
    };
    let mut names: Vec<&str> = prestalink_sync::catalog::RESOURCES
        .iter()
        .map(|r| r.name)
        .collect();
    // Longest first, so that `order_details_…` is not taken for `orders`' sibling.
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let mut set = RecordSet::new();
    let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let Some(file) = path.file_name().and_then(|f| f.to_str()) else {
            continue;
        };
        if !file.ends_with("json.json") {
            continue;
        }
        let Some(resource) = names.iter().find(|n| file.starts_with(&format!("{n}_"))) else {
            continue;
        };
        let body = std::fs::read(&path).unwrap();
        let Ok(doc) = decode(&body, Format::Json, u64::MAX) else {
            continue;
        };
        let seen: std::collections::HashSet<Option<u64>> =
            set.records(resource).iter().map(|r| r.id()).collect();
        let fresh: Vec<_> = doc
            .into_records()
            .into_iter()
            .filter(|r| !seen.contains(&r.id()))
            .collect();
        set.extend(resource, fresh);
    }
    let checked = check_all(&set);
    assert!(checked > 50, "only {checked} records mapped");
}
