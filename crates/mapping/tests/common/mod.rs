//! Helpers shared by the mapping integration tests: reading the recorded fixtures through
//! the real decoders, mapping a whole record set, and rendering results for snapshots.

#![allow(dead_code)]

use std::path::PathBuf;

use chrono::{TimeZone, Utc};
use prestalink_commerce::{CommerceRecord, DataType};
use prestalink_mapping::{map_data_type, Batch, MapOptions, RecordSet, ReferenceData};
use prestalink_webservice::decode::{decode, DEFAULT_MAX_BODY_BYTES};
use prestalink_webservice::record::Record;
use prestalink_webservice::Format;

/// The fixed write time of every test mapping.
pub fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
}

/// Options with the built-in rules and the fixed time.
pub fn options() -> MapOptions {
    MapOptions::new(now())
}

/// Path of a recorded fixture file.
pub fn fixture_path(relative: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/prestashop-8.1.2/"
    ))
    .join(relative)
}

/// Decodes a recorded body with the webservice crate's decoder.
pub fn decode_fixture(relative: &str, format: Format) -> Vec<Record> {
    let body = std::fs::read(fixture_path(relative))
        .unwrap_or_else(|e| panic!("cannot read fixture {relative}: {e}"));
    decode(&body, format, DEFAULT_MAX_BODY_BYTES)
        .unwrap_or_else(|e| panic!("cannot decode {relative}: {e}"))
        .into_records()
}

/// Adds records to a set, skipping ids already present (fixtures overlap).
pub fn add_unique(set: &mut RecordSet, resource: &str, records: Vec<Record>) {
    let existing: Vec<Option<u64>> = set.records(resource).iter().map(Record::id).collect();
    let fresh: Vec<Record> = records
        .into_iter()
        .filter(|r| !existing.contains(&r.id()))
        .collect();
    set.extend(resource, fresh);
}

/// Every data type mapped from a record set (disputes excepted).
pub fn map_everything(records: &RecordSet, options: &MapOptions) -> Vec<(DataType, Batch)> {
    let refs = ReferenceData::build(records, options).expect("reference data builds");
    DataType::ALL
        .into_iter()
        .filter(|t| *t != DataType::Disputes)
        .map(|t| {
            (
                t,
                map_data_type(t, records, &refs, options).expect("supported data type"),
            )
        })
        .collect()
}

/// A readable rendering of mapped batches: records as pretty JSON, then warnings and
/// failures, per data type.
pub fn render(batches: &[(DataType, Batch)]) -> String {
    let mut out = String::new();
    for (data_type, batch) in batches {
        out.push_str(&format!(
            "=== {data_type} ({} records)\n",
            batch.records.len()
        ));
        let records: Vec<&CommerceRecord> = batch.records.iter().collect();
        out.push_str(&serde_json::to_string_pretty(&records).unwrap());
        out.push('\n');
        for (id, w) in &batch.warnings {
            out.push_str(&format!(
                "warning {id}: {}\n",
                serde_json::to_string(w).unwrap()
            ));
        }
        for f in &batch.failures {
            out.push_str(&format!("failure: {}\n", serde_json::to_string(f).unwrap()));
        }
    }
    out
}

pub mod simulator;
