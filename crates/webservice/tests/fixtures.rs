//! Every recorded response of a real PrestaShop 8.1.2 store goes through the decoders and the
//! response interpretation; XML and JSON recordings of the same request must give the same
//! record tree (allowing for what 8.x JSON drops).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use prestalink_webservice::client::{interpret, RawResponse};
use prestalink_webservice::decode::{decode, Document};
use prestalink_webservice::diagnose::{explain, DiagnosisCode};
use prestalink_webservice::record::{FieldValue, Record};
use prestalink_webservice::{Error, Format, HtmlKind, WebserviceKey};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

const ROOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/prestashop-8.1.2"
);
const MAX: u64 = 64 << 20;

struct Recording {
    name: String,
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Recording {
    fn content_type(&self) -> String {
        self.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase()
    }

    fn raw(&self) -> RawResponse {
        RawResponse::from_parts(
            "http://127.0.0.1:8080/api/",
            self.status,
            self.headers.clone(),
            Bytes::from(self.body.clone()),
            Duration::ZERO,
        )
    }
}

fn recordings() -> Vec<Recording> {
    let mut all = Vec::new();
    for folder in ["one-language", "two-languages-scaled"] {
        let dir = Path::new(ROOT).join(folder);
        let mut headers: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "headers"))
            .collect();
        headers.sort();
        for header_path in headers {
            let stem = header_path
                .file_stem()
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            let body_path = ["body", "xml", "json", "html", "txt"]
                .iter()
                .map(|ext| dir.join(format!("{stem}.{ext}")))
                .find(|p| p.exists());
            // Large list recordings are listed in index.tsv but not stored.
            let Some(body_path) = body_path else { continue };
            let text = std::fs::read_to_string(&header_path).unwrap();
            let mut lines = text.lines();
            let status: u16 = lines
                .next()
                .unwrap()
                .split_whitespace()
                .nth(1)
                .unwrap()
                .parse()
                .unwrap();
            let mut map = HeaderMap::new();
            for line in lines {
                if let Some((k, v)) = line.split_once(':') {
                    map.append(
                        HeaderName::from_bytes(k.trim().as_bytes()).unwrap(),
                        HeaderValue::from_str(v.trim()).unwrap(),
                    );
                }
            }
            all.push(Recording {
                name: format!("{folder}/{stem}"),
                status,
                headers: map,
                body: std::fs::read(&body_path).unwrap(),
            });
        }
    }
    assert!(all.len() > 250, "only {} recordings found", all.len());
    all
}

fn format_of(recording: &Recording) -> Option<Format> {
    let ct = recording.content_type();
    if recording.body.is_empty() {
        None
    } else if ct.contains("xml") {
        Some(Format::Xml)
    } else if ct.contains("json") {
        Some(Format::Json)
    } else {
        None
    }
}

#[test]
fn every_recorded_body_decodes_in_its_format_and_is_refused_clearly_in_the_other() {
    let mut decoded = 0;
    for recording in recordings() {
        let Some(format) = format_of(&recording) else {
            continue;
        };
        let document = decode(&recording.body, format, MAX)
            .unwrap_or_else(|e| panic!("{}: {e}", recording.name));
        match (&document, recording.status) {
            (Document::Errors(errors), status) => {
                assert!(
                    status >= 400,
                    "{}: errors with status {status}",
                    recording.name
                );
                assert!(
                    errors.iter().all(|e| e.code > 0 && !e.message.is_empty()),
                    "{}",
                    recording.name
                );
            }
            (_, 200) => {}
            (other, status) => panic!("{}: {status} decoded as {other:?}", recording.name),
        }
        let other = match format {
            Format::Xml => Format::Json,
            Format::Json => Format::Xml,
        };
        if let Err(e) = decode(&recording.body, other, MAX) {
            assert!(!e.to_string().is_empty());
        }
        decoded += 1;
    }
    assert!(decoded > 230, "decoded {decoded}");
}

#[test]
fn recorded_records_have_the_expected_shape() {
    let by_name: BTreeMap<String, Recording> = recordings()
        .into_iter()
        .map(|r| (r.name.clone(), r))
        .collect();
    let doc = |name: &str| {
        let r = &by_name[name];
        decode(&r.body, format_of(r).unwrap(), MAX).unwrap()
    };
    // Multilingual fields keep their language ids, in both formats.
    for name in [
        "two-languages-scaled/products_250_xml",
        "two-languages-scaled/products_250_json",
    ] {
        let Document::Single { resource, record } = doc(name) else {
            panic!("{name}")
        };
        assert_eq!(resource, "product");
        assert_eq!(
            record.fields["name"].text_in(2),
            "[FR] Mountain fox notebook - Premium 231",
            "{name}"
        );
        assert_eq!(
            record.fields["name"].text_in(1),
            "Mountain fox notebook - Premium 231"
        );
        let ids: Vec<u64> = record
            .association("combinations")
            .iter()
            .map(|c| c.id().unwrap())
            .collect();
        assert_eq!(ids, [536, 537, 538, 535]);
    }
    // One language installed: plain strings.
    let Document::List { records, .. } = doc("one-language/products_full_json") else {
        panic!()
    };
    assert!(matches!(records[0].fields["name"], FieldValue::Text(_)));
    // Empty lists in both formats.
    for name in [
        "two-languages-scaled/orders_empty_xml",
        "two-languages-scaled/orders_empty_json",
    ] {
        assert!(doc(name).into_records().is_empty(), "{name}");
    }
    // Order rows are association lists with numbers decoded as text.
    let Document::Single { record, .. } = doc("two-languages-scaled/orders_101_json") else {
        panic!()
    };
    assert_eq!(
        record.association("order_rows")[1].text("product_quantity"),
        Some("2")
    );
    assert_eq!(record.text("total_paid"), Some("106.440000"));
    // The root listing gives permissions per resource.
    let Document::Index(index) = doc("two-languages-scaled/root_limitkey_xml") else {
        panic!()
    };
    assert_eq!(index.shop_name.as_deref(), Some("RealShop"));
    assert_eq!(
        index.resources.keys().collect::<Vec<_>>(),
        ["customers", "orders"]
    );
    assert!(index.can_read("orders") && !index.can_read("products"));
    let Document::Index(index) = doc("two-languages-scaled/root_xml") else {
        panic!()
    };
    assert!(index.resources.len() > 60);
}

/// A record flattened to `path → text` (languages as `path#id`), for format-independent
/// comparison.
fn flatten(record: &Record, prefix: &str, out: &mut BTreeMap<String, String>) {
    for (name, value) in &record.fields {
        match value {
            FieldValue::Text(t) => {
                out.insert(format!("{prefix}{name}"), t.clone());
            }
            FieldValue::Lang(values) => {
                for v in values {
                    out.insert(format!("{prefix}{name}#{}", v.language_id), v.value.clone());
                }
            }
        }
    }
    for (name, entries) in &record.associations {
        out.insert(format!("{prefix}{name}[]"), entries.len().to_string());
        for (i, entry) in entries.iter().enumerate() {
            flatten(entry, &format!("{prefix}{name}[{i}]."), out);
        }
    }
}

/// Values PHP's array_filter drops from 8.x single-record JSON.
fn falsy(value: &str) -> bool {
    value.is_empty() || value == "0"
}

#[test]
fn xml_and_json_recordings_of_the_same_request_give_the_same_records() {
    let by_name: BTreeMap<String, Recording> = recordings()
        .into_iter()
        .map(|r| (r.name.clone(), r))
        .collect();
    let mut pairs = 0;
    for (name, xml) in &by_name {
        let Some(base) = name.strip_suffix("_xml") else {
            continue;
        };
        let Some(json) = by_name.get(&format!("{base}_json")) else {
            continue;
        };
        if format_of(xml) != Some(Format::Xml) || format_of(json) != Some(Format::Json) {
            continue;
        }
        let x = decode(&xml.body, Format::Xml, MAX).unwrap();
        let j = decode(&json.body, Format::Json, MAX).unwrap();
        pairs += 1;
        match (&x, &j) {
            (Document::Errors(a), Document::Errors(b)) => assert_eq!(a, b, "{name}"),
            (
                Document::Single {
                    resource: a,
                    record: rx,
                },
                Document::Single {
                    resource: b,
                    record: rj,
                },
            ) => {
                assert_eq!(a, b, "{name}");
                compare(name, rx, rj, true);
            }
            // An empty list is `<orders></orders>` in XML and `[]` in JSON.
            (
                Document::List { records: rx, .. },
                Document::List {
                    records: rj,
                    resource: None,
                },
            ) => {
                assert!(rx.is_empty() && rj.is_empty(), "{name}");
            }
            (
                Document::List {
                    resource: a,
                    records: rx,
                },
                Document::List {
                    resource: b,
                    records: rj,
                },
            ) => {
                assert_eq!(a, b, "{name}");
                assert_eq!(rx.len(), rj.len(), "{name}");
                for (rx, rj) in rx.iter().zip(rj) {
                    compare(name, rx, rj, false);
                }
            }
            (a, b) => panic!("{name}: XML {a:?} vs JSON {b:?}"),
        }
    }
    assert!(pairs >= 60, "only {pairs} XML/JSON pairs compared");
}

fn compare(name: &str, xml: &Record, json: &Record, single: bool) {
    let (mut x, mut j) = (BTreeMap::new(), BTreeMap::new());
    flatten(xml, "", &mut x);
    flatten(json, "", &mut j);
    for (path, json_value) in &j {
        match x.get(path) {
            Some(xml_value) => assert_eq!(xml_value, json_value, "{name}: {path}"),
            None => panic!("{name}: {path} only in JSON"),
        }
    }
    for (path, xml_value) in &x {
        if j.contains_key(path) {
            continue;
        }
        // JSON omits empty associations; 8.x JSON also drops falsy values of single records.
        let empty_association = path.ends_with("[]") && xml_value == "0";
        let dropped = empty_association || single && falsy(xml_value);
        assert!(dropped, "{name}: {path} = {xml_value:?} missing from JSON");
    }
}

fn recording(name: &str) -> Recording {
    recordings()
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

fn key() -> WebserviceKey {
    WebserviceKey::parse("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345").unwrap()
}

#[test]
fn recorded_failures_are_recognized_and_diagnosed() {
    let cases: &[(&str, DiagnosisCode)] = &[
        (
            "two-languages-scaled/err_no_auth",
            DiagnosisCode::InvalidKey,
        ),
        (
            "two-languages-scaled/v8081_basic_stripped",
            DiagnosisCode::InvalidKey,
        ),
        (
            "two-languages-scaled/err_unknown_key_json",
            DiagnosisCode::InvalidKey,
        ),
        (
            "two-languages-scaled/err_unknown_key_xml",
            DiagnosisCode::InvalidKey,
        ),
        (
            "two-languages-scaled/err_wrong_format_key_xml",
            DiagnosisCode::InvalidKey,
        ),
        (
            "two-languages-scaled/err_ws_disabled_json",
            DiagnosisCode::WebserviceDisabled,
        ),
        (
            "two-languages-scaled/err_ws_disabled_root_xml",
            DiagnosisCode::WebserviceDisabled,
        ),
        (
            "two-languages-scaled/v8082_redirect_root",
            DiagnosisCode::RedirectNeedsConfirmation,
        ),
        (
            "two-languages-scaled/v8083_api_root_404",
            DiagnosisCode::NotPrestashop,
        ),
        (
            "two-languages-scaled/v8084_root",
            DiagnosisCode::NotPrestashop,
        ),
        (
            "two-languages-scaled/v8084_api",
            DiagnosisCode::NotPrestashop,
        ),
        ("two-languages-scaled/root_json", DiagnosisCode::ServerError),
        (
            "two-languages-scaled/err_unknown_resource_xml",
            DiagnosisCode::ServerError,
        ),
        (
            "two-languages-scaled/err_limitkey_products_json",
            DiagnosisCode::NoPermission,
        ),
        (
            "two-languages-scaled/err_method_delete_json",
            DiagnosisCode::NoPermission,
        ),
        (
            "two-languages-scaled/orders_404_json",
            DiagnosisCode::ServerError,
        ),
    ];
    for (name, expected) in cases {
        let error = interpret(&recording(name).raw(), &key()).expect_err(name);
        let (code, message, fix) = explain(&error, "127.0.0.1");
        assert_eq!(code, *expected, "{name}: {error}");
        assert!(!message.is_empty() && !fix.is_empty());
    }
    let redirect = interpret(
        &recording("two-languages-scaled/v8082_redirect_root").raw(),
        &key(),
    )
    .unwrap_err();
    assert!(
        matches!(&redirect, Error::Redirect { to, status: 301, .. } if to == "http://127.0.0.1:8080/api/"),
        "{redirect:?}"
    );
    let stripped = interpret(
        &recording("two-languages-scaled/v8081_basic_stripped").raw(),
        &key(),
    )
    .unwrap_err();
    assert!(
        matches!(stripped, Error::CredentialsNotReceived { .. }),
        "{stripped:?}"
    );
    let rewrite_off = interpret(
        &recording("two-languages-scaled/v8083_api_404").raw(),
        &key(),
    )
    .unwrap_err();
    assert!(
        matches!(
            rewrite_off,
            Error::Html {
                kind: HtmlKind::NotFound,
                status: 404,
                ..
            }
        ),
        "{rewrite_off:?}"
    );
    let missing = interpret(
        &recording("two-languages-scaled/orders_404_xml").raw(),
        &key(),
    )
    .unwrap_err();
    assert!(matches!(missing, Error::NotFound { .. }), "{missing:?}");
    let not_ps =
        interpret(&recording("two-languages-scaled/v8084_root").raw(), &key()).unwrap_err();
    assert!(
        matches!(&not_ps, Error::Html { kind: HtmlKind::OtherPage, title, .. } if title.contains("Acme")),
        "{not_ps:?}"
    );
    let limited = interpret(
        &recording("two-languages-scaled/err_limitkey_products_xml").raw(),
        &key(),
    )
    .unwrap_err();
    assert!(
        matches!(&limited, Error::NotPermitted { resource: Some(r), .. } if r == "products"),
        "{limited:?}"
    );
    let php = interpret(
        &recording("two-languages-scaled/err_sort_date_upd_without_date1_json").raw(),
        &key(),
    )
    .unwrap_err();
    assert!(
        matches!(&php, Error::Api { status: 500, errors, .. } if errors[0].code == 38 && errors.len() == 5),
        "{php:?}"
    );
}

#[test]
fn recorded_successes_interpret_with_metadata() {
    let raw = recording("two-languages-scaled/orders_101_xml").raw();
    assert_eq!(raw.meta.ps_version.as_deref(), Some("8.1.2"));
    assert!(raw
        .meta
        .content_sha1
        .as_deref()
        .is_some_and(|s| s.len() == 40));
    assert!(raw.meta.from_prestashop);
    let document = interpret(&raw, &key()).unwrap();
    assert_eq!(document.into_records()[0].id(), Some(101));
}
