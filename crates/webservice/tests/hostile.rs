//! Property tests: the decoders (and the response interpretation) fed random and hostile input
//! never panic and always end in a document or a clear error.

use std::time::Duration;

use bytes::Bytes;
use prestalink_webservice::client::{interpret, RawResponse};
use prestalink_webservice::decode::{decode, decode_reader, Document};
use prestalink_webservice::{Error, Format, WebserviceKey};
use proptest::prelude::*;
use reqwest::header::{HeaderMap, HeaderValue};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/prestashop-8.1.2/two-languages-scaled/"
);

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}{name}")).unwrap()
}

/// A decode outcome is fine when it is a document or an error that says something.
fn assert_clear(result: Result<Document, Error>) -> Result<(), TestCaseError> {
    if let Err(e) = result {
        let text = e.to_string();
        prop_assert!(text.len() > 10, "unclear error: {text:?}");
        prop_assert!(
            matches!(e, Error::Decode { .. } | Error::BodyTooLarge { .. }),
            "unexpected error kind {e:?}"
        );
    }
    Ok(())
}

/// XML-ish fragments that exercise the decoder's states.
fn xml_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<prestashop>".to_owned()),
        Just("</prestashop>".to_owned()),
        Just("<orders>".to_owned()),
        Just("</orders>".to_owned()),
        Just("<order id=\"1\"/>".to_owned()),
        Just("<order>".to_owned()),
        Just("</order>".to_owned()),
        Just("<id><![CDATA[5]]></id>".to_owned()),
        Just("<name><language id=\"1\"><![CDATA[x]]></language></name>".to_owned()),
        Just("<language id=\"x\">".to_owned()),
        Just("<associations>".to_owned()),
        Just("</associations>".to_owned()),
        Just("<errors><error><code>22</code><message>m</message></error></errors>".to_owned()),
        Just("<api shopName=\"s\"><orders get=\"true\"/></api>".to_owned()),
        Just("<![CDATA[a]]]]><![CDATA[>b]]>".to_owned()),
        Just("<!DOCTYPE x [<!ENTITY e \"eeee\">]>".to_owned()),
        Just("&e;".to_owned()),
        Just("&amp;".to_owned()),
        Just("\u{b}\u{0}\u{1f}".to_owned()),
        Just("<!-- c -->".to_owned()),
        Just("<?pi x?>".to_owned()),
        "[a-z<>/=\" ]{0,8}",
    ]
}

fn json_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(",".to_owned()),
        Just(":".to_owned()),
        Just("\"orders\"".to_owned()),
        Just("\"associations\"".to_owned()),
        Just("\"errors\"".to_owned()),
        Just("{\"id\":1,\"value\":\"v\"}".to_owned()),
        Just("\"id\":".to_owned()),
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("-1.5e300".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("\"\\u0000\\ud800\"".to_owned()),
        "[a-z0-9\" ]{0,6}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn random_bytes_in_both_formats(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        assert_clear(decode(&body, Format::Xml, 1 << 20))?;
        assert_clear(decode(&body, Format::Json, 1 << 20))?;
        assert_clear(decode_reader(&body[..], Format::Json, 100))?;
        assert_clear(decode_reader(&body[..], Format::Xml, 100))?;
    }

    #[test]
    fn xml_like_documents(pieces in proptest::collection::vec(xml_piece(), 0..40)) {
        let body = format!("<?xml version=\"1.0\"?>{}", pieces.concat());
        assert_clear(decode(body.as_bytes(), Format::Xml, 1 << 20))?;
    }

    #[test]
    fn json_like_documents(pieces in proptest::collection::vec(json_piece(), 0..40)) {
        let body = pieces.concat();
        assert_clear(decode(body.as_bytes(), Format::Json, 1 << 20))?;
    }

    #[test]
    fn mutated_recordings(
        position in any::<prop::sample::Index>(),
        length in 0usize..50,
        replacement in proptest::collection::vec(any::<u8>(), 0..20),
        which in 0usize..4,
    ) {
        let names = ["orders_101_xml.xml", "orders_101_json.json", "products_250_xml.xml", "products_250_json.json"];
        let format = if names[which].ends_with(".xml") { Format::Xml } else { Format::Json };
        let mut body = fixture(names[which]);
        let start = position.index(body.len());
        let end = (start + length).min(body.len());
        body.splice(start..end, replacement);
        assert_clear(decode(&body, format, 1 << 20))?;
    }

    #[test]
    fn truncated_recordings_fail_clearly(cut in any::<prop::sample::Index>()) {
        for (name, format) in [("orders_full_0_3_xml.xml", Format::Xml), ("orders_full_0_3_json.json", Format::Json)] {
            let body = fixture(name);
            let cut = cut.index(body.len());
            match decode(&body[..cut], format, 1 << 20) {
                Err(e) => prop_assert!(matches!(e, Error::Decode { .. }), "{e:?}"),
                // XML cut right after the last record can still be a (partial) list; JSON cannot.
                Ok(_) => prop_assert!(format == Format::Xml && cut > 0, "{name} cut at {cut} decoded"),
            }
        }
    }

    #[test]
    fn any_answer_is_interpreted(
        status in prop_oneof![Just(200u16), Just(301), Just(401), Just(403), Just(404), Just(500), Just(503), 100u16..600],
        content_type in prop_oneof![Just("text/xml"), Just("application/json"), Just("text/html"), Just("")],
        body in proptest::collection::vec(any::<u8>(), 0..200),
        location in "[ -~]{0,40}",
    ) {
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(content_type) { headers.insert("content-type", v); }
        if let Ok(v) = HeaderValue::from_str(&location) { headers.insert("location", v); }
        let raw = RawResponse::from_parts("http://shop.example/api/", status, headers, Bytes::from(body), Duration::ZERO);
        let key = WebserviceKey::parse("ABCDEFGHIJKLMNOPQRSTUVWXYZ012345").unwrap();
        if let Err(e) = interpret(&raw, &key) {
            prop_assert!(!e.to_string().is_empty());
        }
    }
}

#[test]
fn huge_documents_are_capped_not_read() {
    let mut body = b"<?xml version=\"1.0\"?><prestashop><orders>".to_vec();
    body.extend(std::iter::repeat_n(b"<order id=\"1\"/>".as_slice(), 100_000).flatten());
    match decode_reader(&body[..], Format::Xml, 1 << 16) {
        Err(Error::BodyTooLarge { limit, .. }) => assert_eq!(limit, 1 << 16),
        other => panic!("{other:?}"),
    }
    match decode(&body, Format::Xml, 1 << 16) {
        Err(Error::BodyTooLarge { .. }) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn billion_laughs_is_refused() {
    let body = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<prestashop><order><id>&lol2;</id></order></prestashop>"#;
    let e = decode(body.as_bytes(), Format::Xml, 1 << 20).unwrap_err();
    assert!(e.to_string().contains("DTD"), "{e}");
}
