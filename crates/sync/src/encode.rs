//! A received record as the store keeps it, computed straight from the record tree: its
//! JSON text and its content hash, without building a `serde_json::Value` first.
//!
//! The bytes are the ones the store's `Value` path gives (`serde_json` with
//! `preserve_order` serializes a record and its `Value` alike; NUL characters, which
//! PostgreSQL's JSONB cannot hold, are removed from keys and strings first), and the hash is
//! [`prestalink_store::content_hash`] of that `Value`: SHA-256 of the canonical form (object
//! keys sorted at every level). Tests below check both against the `Value` path.

use indexmap::IndexMap;
use prestalink_store::EncodedRaw;
use prestalink_webservice::record::{FieldValue, Record};
use sha2::{Digest, Sha256};

/// The record's stored JSON text and content hash (NULs removed first).
pub(crate) fn encode(
    source_id: String,
    parent_key: Option<String>,
    mut record: Record,
) -> EncodedRaw {
    if has_nul(&record) {
        strip_nul(&mut record);
    }
    let json = serde_json::to_string(&record).expect("records serialize");
    let mut canonical = Vec::with_capacity(json.len() + 64);
    write_record(&record, &mut canonical);
    EncodedRaw {
        source_id,
        parent_key,
        json,
        content_hash: hex::encode(Sha256::digest(&canonical)),
    }
}

fn has_nul(record: &Record) -> bool {
    record.fields.iter().any(|(k, v)| {
        k.contains('\0')
            || match v {
                FieldValue::Text(s) => s.contains('\0'),
                FieldValue::Lang(values) => values.iter().any(|l| l.value.contains('\0')),
            }
    }) || record
        .associations
        .iter()
        .any(|(k, entries)| k.contains('\0') || entries.iter().any(has_nul))
}

/// Removes NULs from keys and strings as the store's `Value` path does: a key that becomes
/// equal to an earlier one replaces that one's value in its place.
fn strip_nul(record: &mut Record) {
    let fields = std::mem::take(&mut record.fields);
    for (mut key, mut value) in fields {
        key.retain(|c| c != '\0');
        match &mut value {
            FieldValue::Text(s) => s.retain(|c| c != '\0'),
            FieldValue::Lang(values) => values
                .iter_mut()
                .for_each(|l| l.value.retain(|c| c != '\0')),
        }
        record.fields.insert(key, value);
    }
    let associations = std::mem::take(&mut record.associations);
    for (mut key, mut entries) in associations {
        key.retain(|c| c != '\0');
        entries.iter_mut().for_each(strip_nul);
        record.associations.insert(key, entries);
    }
}

/// The canonical form of the record's JSON tree (`{"associations":…,"fields":…}`, keys
/// sorted, every member and item followed by a comma), as the store's `content_hash` feeds it.
fn write_record(record: &Record, out: &mut Vec<u8>) {
    out.push(b'{');
    if !record.associations.is_empty() {
        out.extend_from_slice(b"\"associations\":");
        write_sorted(&record.associations, out, |entries, out| {
            out.push(b'[');
            for entry in entries {
                write_record(entry, out);
                out.push(b',');
            }
            out.push(b']');
        });
        out.push(b',');
    }
    out.extend_from_slice(b"\"fields\":");
    write_sorted(&record.fields, out, |value, out| match value {
        FieldValue::Text(s) => write_str(s, out),
        FieldValue::Lang(values) => {
            out.push(b'[');
            for l in values {
                out.extend_from_slice(b"{\"language_id\":");
                out.extend_from_slice(l.language_id.to_string().as_bytes());
                out.extend_from_slice(b",\"value\":");
                write_str(&l.value, out);
                out.extend_from_slice(b",},");
            }
            out.push(b']');
        }
    });
    out.extend_from_slice(b",}");
}

fn write_sorted<V, S>(
    map: &IndexMap<String, V, S>,
    out: &mut Vec<u8>,
    mut write_value: impl FnMut(&V, &mut Vec<u8>),
) {
    let mut entries: Vec<(&String, &V)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    out.push(b'{');
    for (key, value) in entries {
        write_str(key, out);
        out.push(b':');
        write_value(value, out);
        out.push(b',');
    }
    out.push(b'}');
}

/// A JSON string as `serde_json` writes it.
fn write_str(s: &str, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, s).expect("strings serialize");
}

#[cfg(test)]
mod tests {
    use super::*;
    use prestalink_webservice::record::LangValue;

    /// What the store's `Value` path stores for a record: text and hash.
    fn via_value(record: &Record) -> (String, String) {
        let value = serde_json::to_value(record).unwrap();
        let raw = prestalink_store::RawRecord {
            source_id: "1".into(),
            parent_key: None,
            data: value,
        };
        let encoded = EncodedRaw::from(&raw);
        (encoded.json, encoded.content_hash)
    }

    fn record(fields: &[(&str, FieldValue)]) -> Record {
        Record {
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            associations: Default::default(),
        }
    }

    fn text(s: &str) -> FieldValue {
        FieldValue::Text(s.to_string())
    }

    fn lang(values: &[(u32, &str)]) -> FieldValue {
        FieldValue::Lang(
            values
                .iter()
                .map(|(id, v)| LangValue {
                    language_id: *id,
                    value: v.to_string(),
                })
                .collect(),
        )
    }

    fn check(record: Record) {
        let encoded = encode("1".into(), None, record.clone());
        assert_eq!(
            (encoded.json, encoded.content_hash),
            via_value(&record),
            "{record:?}"
        );
    }

    #[test]
    fn text_and_hash_equal_the_value_path() {
        check(record(&[
            ("id", text("7")),
            ("name", text("Café \"Zéro\" \\ \n")),
        ]));
        check(record(&[
            ("z", text("1")),
            ("a", lang(&[(2, "b"), (1, "a")])),
        ]));
        let mut order = record(&[("id", text("1")), ("reference", text("XKBKNABJK"))]);
        order.associations.insert(
            "order_rows".into(),
            vec![
                record(&[("id", text("3")), ("product_id", text("9"))]),
                record(&[("product_id", text("8")), ("id", text("4"))]),
            ],
        );
        order.associations.insert("empty".into(), vec![]);
        check(order);
        check(Record::default());
    }

    #[test]
    fn nul_characters_are_removed_as_the_value_path_removes_them() {
        check(record(&[("a\0", text("x\0y")), ("b", lang(&[(1, "\0")]))]));
        // A key equal to an earlier one once its NUL is gone replaces it in its place.
        check(record(&[
            ("a", text("1")),
            ("b", text("2")),
            ("a\0", text("3")),
        ]));
        let mut nested = record(&[("id", text("1"))]);
        nested
            .associations
            .insert("rows\0".into(), vec![record(&[("v", text("\0\0"))])]);
        check(nested);
        let encoded = encode("1".into(), None, record(&[("a", text("x\0"))]));
        assert!(!encoded.json.contains("\\u0000"));
    }

    #[test]
    fn recorded_prestashop_answers_encode_as_the_value_path() {
        // Answers of a real PrestaShop 8.1.2 (the project's shared fixtures).
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/fixtures/prestashop-8.1.2/two-languages-scaled"
        );
        let Ok(entries) = std::fs::read_dir(dir) else {
            println!("skipped: no fixtures at {dir}");
            return;
        };
        let mut checked = 0;
        for path in entries.flatten().map(|e| e.path()) {
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let body = std::fs::read(&path).unwrap();
            let Ok(doc) = prestalink_webservice::decode::decode(
                &body,
                prestalink_webservice::Format::Json,
                u64::MAX,
            ) else {
                continue;
            };
            for r in doc.into_records() {
                check(r);
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} fixture records decoded");
    }
}
