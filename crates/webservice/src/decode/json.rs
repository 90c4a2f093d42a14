//! The JSON decoder: serde visitors that build records straight from the token stream.
//!
//! Accepted shapes (PrestaShop 1.7–9): `[]` (an empty list), `{"orders":[…]}`, `{"order":{…}}`,
//! `{"errors":[{"code":…,"message":…}]}`. Numbers, strings, booleans and `null` all become text
//! (`null` and `false` as `""`/`"0"`), `[{"id":1,"value":"…"}]` becomes a multilingual value, and
//! `"associations":{name:[…]}` becomes lists of records.

use std::fmt;
use std::io::BufRead;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Capped, Document};
use crate::error::{Error, Format, PsError};
use crate::record::{Associations, FieldValue, LangValue, Record};

/// Decodes a JSON body held in memory.
pub fn decode_slice(body: &[u8]) -> Result<Document, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(empty_body());
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let document = deserializer
        .deserialize_any(DocumentVisitor)
        .map_err(json_error)?;
    deserializer.end().map_err(json_error)?;
    Ok(document)
}

/// Decodes a JSON body from a reader, reading at most `max_bytes`.
pub fn decode_reader<R: BufRead>(reader: R, max_bytes: u64) -> Result<Document, Error> {
    let (mut capped, exceeded) = Capped::new(reader, max_bytes);
    if let Ok([]) = capped.fill_buf() {
        return Err(empty_body());
    }
    let mut deserializer = serde_json::Deserializer::from_reader(capped);
    let result = deserializer
        .deserialize_any(DocumentVisitor)
        .and_then(|d| deserializer.end().map(|()| d));
    result.map_err(|e| {
        if exceeded.get() {
            super::too_large(max_bytes)
        } else {
            json_error(e)
        }
    })
}

fn empty_body() -> Error {
    Error::Decode {
        format: Format::Json,
        detail: "the body is empty (PrestaShop sends an empty JSON body when it cannot encode a \
                 record, e.g. invalid UTF-8 in a text; read it as XML instead)"
            .into(),
        at: None,
    }
}

fn json_error(e: serde_json::Error) -> Error {
    Error::Decode {
        format: Format::Json,
        detail: e.to_string(),
        at: None,
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a PrestaShop JSON document (an object or [])")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Document, A::Error> {
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(
                "a top-level array with entries; PrestaShop sends [] only for an empty list",
            ));
        }
        Ok(Document::List {
            resource: None,
            records: Vec::new(),
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let Some(key) = map.next_key::<String>()? else {
            return Ok(Document::List {
                resource: None,
                records: Vec::new(),
            });
        };
        let document = if key == "errors" {
            Document::Errors(map.next_value_seed(ErrorsSeed)?)
        } else {
            match map.next_value_seed(ContainerSeed)? {
                Container::List(records) => Document::List {
                    resource: Some(key),
                    records,
                },
                Container::Single(record) => Document::Single {
                    resource: key,
                    record,
                },
            }
        };
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(document)
    }
}

enum Container {
    List(Vec<Record>),
    Single(Record),
}

struct ContainerSeed;

impl<'de> DeserializeSeed<'de> for ContainerSeed {
    type Value = Container;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Container, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ContainerSeed {
    type Value = Container;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of records or one record")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Container, A::Error> {
        RecordsSeed.visit_seq(seq).map(Container::List)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Container, A::Error> {
        RecordVisitor.visit_map(map).map(Container::Single)
    }
}

struct RecordsSeed;

impl<'de> DeserializeSeed<'de> for RecordsSeed {
    type Value = Vec<Record>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Record>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RecordsSeed {
    type Value = Vec<Record>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Record>, A::Error> {
        let mut records = Vec::new();
        while let Some(record) = seq.next_element_seed(RecordSeed)? {
            records.push(record);
        }
        Ok(records)
    }

    /// A single entry where a list is expected.
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Vec<Record>, A::Error> {
        Ok(vec![RecordVisitor.visit_map(map)?])
    }

    /// `null`, `""` or `false` for an association that has no entries.
    fn visit_unit<E: de::Error>(self) -> Result<Vec<Record>, E> {
        Ok(Vec::new())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Vec<Record>, E> {
        if v.is_empty() {
            Ok(Vec::new())
        } else {
            Err(E::invalid_type(de::Unexpected::Str(v), &self))
        }
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Vec<Record>, E> {
        if v {
            Err(E::invalid_type(de::Unexpected::Bool(v), &self))
        } else {
            Ok(Vec::new())
        }
    }
}

struct RecordSeed;

impl<'de> DeserializeSeed<'de> for RecordSeed {
    type Value = Record;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Record, D::Error> {
        d.deserialize_any(RecordVisitor)
    }
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = Record;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record (an object of fields)")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record, A::Error> {
        let mut record = Record::default();
        while let Some(key) = map.next_key::<String>()? {
            if key == "associations" {
                let associations = map.next_value_seed(AssociationsSeed)?;
                record.associations.extend(associations);
                continue;
            }
            match map.next_value_seed(FieldSeed)? {
                Field::Value(value) => {
                    record.fields.insert(key, value);
                }
                Field::Nested(nested) => {
                    record.associations.insert(key, vec![nested]);
                }
            }
        }
        Ok(record)
    }
}

struct AssociationsSeed;

impl<'de> DeserializeSeed<'de> for AssociationsSeed {
    type Value = Associations;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for AssociationsSeed {
    type Value = Associations;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object of associations")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut associations = Associations::default();
        while let Some(name) = map.next_key::<String>()? {
            let entries = map.next_value_seed(RecordsSeed)?;
            associations.insert(name, entries);
        }
        Ok(associations)
    }

    /// `"associations":[]` (an empty object rendered by PHP as an empty array).
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        if seq.next_element::<IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(
                "associations must be an object, not a list",
            ));
        }
        Ok(Associations::default())
    }
}

enum Field {
    Value(FieldValue),
    Nested(Record),
}

struct FieldSeed;

impl<'de> DeserializeSeed<'de> for FieldSeed {
    type Value = Field;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Field, D::Error> {
        d.deserialize_any(self)
    }
}

fn text(s: impl Into<String>) -> Field {
    Field::Value(FieldValue::Text(s.into()))
}

impl<'de> Visitor<'de> for FieldSeed {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field value (text, number, or a list of {id, value})")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
        Ok(text(v))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Field, E> {
        Ok(text(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Field, E> {
        Ok(text(v.to_string()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Field, E> {
        Ok(text(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Field, E> {
        Ok(text(v.to_string()))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Field, E> {
        Ok(text(if v { "1" } else { "0" }))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Field, E> {
        Ok(text(""))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field, A::Error> {
        let mut values = Vec::new();
        while let Some(value) = seq.next_element_seed(LangSeed)? {
            values.push(value);
        }
        Ok(Field::Value(FieldValue::Lang(values)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field, A::Error> {
        RecordVisitor.visit_map(map).map(Field::Nested)
    }
}

struct LangSeed;

impl<'de> DeserializeSeed<'de> for LangSeed {
    type Value = LangValue;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<LangValue, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LangSeed {
    type Value = LangValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a language value {\"id\":…, \"value\":…}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LangValue, A::Error> {
        let mut language_id = None;
        let mut value = String::new();
        while let Some(key) = map.next_key::<String>()? {
            let Field::Value(FieldValue::Text(v)) = map.next_value_seed(FieldSeed)? else {
                return Err(de::Error::custom(format!(
                    "language value field '{key}' is not text"
                )));
            };
            match key.as_str() {
                "id" => {
                    language_id = Some(v.trim().parse::<u32>().map_err(|_| {
                        de::Error::custom(format!("language id '{v}' is not a number"))
                    })?)
                }
                "value" => value = v,
                _ => {}
            }
        }
        let language_id = language_id.ok_or_else(|| de::Error::missing_field("id"))?;
        Ok(LangValue { language_id, value })
    }
}

struct ErrorsSeed;

impl<'de> DeserializeSeed<'de> for ErrorsSeed {
    type Value = Vec<PsError>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<PsError>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ErrorsSeed {
    type Value = Vec<PsError>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of {\"code\":…, \"message\":…}")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<PsError>, A::Error> {
        let mut errors = Vec::new();
        while let Some(record) = seq.next_element_seed(RecordSeed)? {
            errors.push(PsError {
                code: record
                    .text("code")
                    .and_then(|c| c.trim().parse().ok())
                    .unwrap_or(0),
                message: record.text("message").unwrap_or_default().to_owned(),
            });
        }
        Ok(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: &str) -> Document {
        decode_slice(json.as_bytes()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(json: &str) -> String {
        match decode_slice(json.as_bytes()) {
            Err(e) => e.to_string(),
            Ok(d) => panic!("expected an error, got {d:?}"),
        }
    }

    #[test]
    fn shapes_prestashop_sends() {
        assert_eq!(
            doc("[]"),
            Document::List {
                resource: None,
                records: vec![]
            }
        );
        let Document::List { resource, records } = doc(r#"{"orders":[{"id":1},{"id":"2"}]}"#)
        else {
            panic!()
        };
        assert_eq!(resource.as_deref(), Some("orders"));
        assert_eq!(records[1].id(), Some(2));

        let Document::Single { record, .. } = doc(
            r#"{"product":{"id":250,"price":"27.9","active":true,"x":null,"w":1.5,
                "name":[{"id":1,"value":"Fox"},{"id":"2","value":"Renard"}],
                "associations":{"categories":[{"id":2}],"images":[]}}}"#,
        ) else {
            panic!()
        };
        assert_eq!(record.text("id"), Some("250"));
        assert_eq!(record.text("active"), Some("1"));
        assert_eq!(record.text("x"), Some(""));
        assert_eq!(record.text("w"), Some("1.5"));
        assert_eq!(record.fields["name"].text_in(2), "Renard");
        assert_eq!(record.association("categories")[0].id(), Some(2));
        assert!(record.associations["images"].is_empty());

        assert_eq!(
            doc(r#"{"errors":[{"code":20,"message":"a"},{"code":"21","message":"b"}]}"#),
            Document::Errors(vec![
                PsError {
                    code: 20,
                    message: "a".into()
                },
                PsError {
                    code: 21,
                    message: "b".into()
                }
            ])
        );
    }

    #[test]
    fn clear_errors_for_hostile_or_broken_input() {
        assert!(err("").contains("empty"));
        assert!(err("[1]").contains("top-level array"));
        assert!(err("\"x\"").contains("PrestaShop JSON document"));
        assert!(err(r#"{"orders":[{"id":1}"#).contains("EOF"));
        assert!(err(&format!("{}{}", "[".repeat(500), "]".repeat(500))).contains("top-level array"));
        let deep = format!("{{\"p\":{}1{}}}", "{\"a\":".repeat(500), "}".repeat(500));
        assert!(err(&deep).contains("recursion"), "{}", err(&deep));
        assert!(err(r#"{"p":{"name":[{"value":"x"}]}}"#).contains("id"));
        assert!(err("{} trailing").contains("trailing"));
    }

    #[test]
    fn reader_is_capped() {
        let body = format!(
            "{{\"orders\":[{}{{\"id\":1}}]}}",
            "{\"id\":1},".repeat(1000)
        );
        match decode_reader(body.as_bytes(), 500) {
            Err(Error::BodyTooLarge { limit, .. }) => assert_eq!(limit, 500),
            other => panic!("{other:?}"),
        }
        assert!(decode_reader(body.as_bytes(), 1 << 20).is_ok());
    }
}
