//! Content hashes: SHA-256 of a canonical JSON form (object keys sorted), so that the same
//! record read twice hashes the same whatever order its fields arrived in.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Hex SHA-256 of `value` with object keys sorted at every level. Keys listed in `ignore`
/// are left out at every level: `modifiedDate` says when prestalink wrote a record (and the
/// nested records it carries, such as an order's payments), not what it is, so it must not
/// make an unchanged record look changed.
pub fn content_hash(value: &Value, ignore: &[&str]) -> String {
    let mut hasher = Sha256::new();
    write_canonical(value, ignore, &mut hasher);
    hex::encode(hasher.finalize())
}

fn write_canonical(value: &Value, ignore: &[&str], out: &mut Sha256) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map
                .keys()
                .filter(|k| !ignore.contains(&k.as_str()))
                .collect();
            keys.sort();
            out.update(b"{");
            for key in keys {
                write_json(key, out);
                out.update(b":");
                write_canonical(&map[key.as_str()], ignore, out);
                out.update(b",");
            }
            out.update(b"}");
        }
        Value::Array(items) => {
            out.update(b"[");
            for item in items {
                write_canonical(item, ignore, out);
                out.update(b",");
            }
            out.update(b"]");
        }
        scalar => write_json(scalar, out),
    }
}

/// Feeds `value` in serde_json's compact form straight into the hasher (the same bytes as
/// `to_string`, without a `String` per key and value).
fn write_json<T: serde::Serialize + ?Sized>(value: &T, out: &mut Sha256) {
    struct Feed<'a>(&'a mut Sha256);
    impl std::io::Write for Feed<'_> {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.update(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    serde_json::to_writer(Feed(out), value).expect("JSON values serialize");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_hash_of_a_record_does_not_change_between_versions() {
        // Stored hashes decide what a sync rewrites: a change here rewrites every record.
        // (The value was computed before hashing fed the hasher without a String per key.)
        let record =
            json!({"id":"7","name":"Café \"Zéro\"","n":[1,2.5,null,true],"o":{"b":1,"a":"x"}});
        assert_eq!(
            content_hash(&record, &[]),
            "c3f4378bfa8836568eb090c377924c46c2c32a7423c6afc2b7d76cbdf3cd47a0"
        );
    }

    #[test]
    fn key_order_does_not_matter_but_values_do() {
        let a: Value = serde_json::from_str(r#"{"a":1,"b":{"x":[1,2],"y":"s"}}"#).unwrap();
        let b: Value = serde_json::from_str(r#"{"b":{"y":"s","x":[1,2]},"a":1}"#).unwrap();
        assert_eq!(content_hash(&a, &[]), content_hash(&b, &[]));
        assert_ne!(
            content_hash(&a, &[]),
            content_hash(&json!({"a":1,"b":{"x":[2,1],"y":"s"}}), &[])
        );
        assert_ne!(content_hash(&json!("1"), &[]), content_hash(&json!(1), &[]));
    }

    #[test]
    fn ignored_top_level_keys() {
        let a = json!({"id":"1","modifiedDate":"2024-01-01T00:00:00.000Z"});
        let b = json!({"id":"1","modifiedDate":"2025-01-01T00:00:00.000Z"});
        assert_eq!(
            content_hash(&a, &["modifiedDate"]),
            content_hash(&b, &["modifiedDate"])
        );
        assert_ne!(content_hash(&a, &[]), content_hash(&b, &[]));
    }
}
