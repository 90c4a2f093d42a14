//! Decoder throughput on recorded bodies: `cargo run --release -p prestalink-webservice
//! --example decode_bench`. Prints MB/s and records/s per body; a report, not a test.

use std::time::Instant;

use prestalink_webservice::decode::{decode, DEFAULT_MAX_BODY_BYTES};
use prestalink_webservice::Format;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/prestashop-8.1.2/two-languages-scaled/"
);

fn main() {
    let bodies = [
        ("orders_list_json.json", Format::Json),
        ("customers_list_xml.xml", Format::Xml),
        ("orders_full_0_3_json.json", Format::Json),
        ("orders_full_0_3_xml.xml", Format::Xml),
        ("products_full_0_3_json.json", Format::Json),
        ("products_full_0_3_xml.xml", Format::Xml),
        ("root_xml.xml", Format::Xml),
    ];
    println!(
        "{:<30} {:>9} {:>8} {:>10} {:>12}",
        "body", "bytes", "records", "MB/s", "records/s"
    );
    for (name, format) in bodies {
        let body = std::fs::read(format!("{DIR}{name}")).expect("recorded body");
        // Enough rounds for about 50 MB of input, at least 20.
        let rounds = (50_000_000 / body.len()).max(20);
        let mut records = 0;
        let started = Instant::now();
        for _ in 0..rounds {
            records = decode(&body, format, DEFAULT_MAX_BODY_BYTES)
                .expect("recorded body decodes")
                .into_records()
                .len();
        }
        let seconds = started.elapsed().as_secs_f64();
        let mb_per_s = (body.len() * rounds) as f64 / seconds / 1e6;
        let records_per_s = (records * rounds) as f64 / seconds;
        println!(
            "{name:<30} {:>9} {records:>8} {mb_per_s:>10.1} {records_per_s:>12.0}",
            body.len()
        );
    }
}
