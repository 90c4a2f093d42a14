//! The normalized record tree: what both the XML and the JSON decoders produce, whatever the
//! PrestaShop version or language setup. Everything downstream (mapping, storage of raw
//! records) reads this shape only.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// One value of one language of a multilingual field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LangValue {
    /// PrestaShop language id (`id_lang`).
    pub language_id: u32,
    pub value: String,
}

/// A field value. JSON numbers and strings both become `Text` (with the number's decimal
/// representation), so `"id_customer":5` and `<id_customer>5</id_customer>` decode alike.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FieldValue {
    Text(String),
    /// A multilingual field as sent with several languages (XML `<language id>` nodes,
    /// JSON `[{"id":1,"value":…}]`). With one language PrestaShop sends a plain string,
    /// which decodes as `Text`.
    Lang(Vec<LangValue>),
}

impl FieldValue {
    /// The text of the value: the value itself, or the given language's (falling back to the
    /// first language) for a multilingual field.
    pub fn text_in(&self, language_id: u32) -> &str {
        match self {
            FieldValue::Text(s) => s,
            FieldValue::Lang(values) => values
                .iter()
                .find(|v| v.language_id == language_id)
                .or_else(|| values.first())
                .map_or("", |v| v.value.as_str()),
        }
    }
}

/// The hasher of a record's maps: foldhash, not the standard library's SipHash. Mapping
/// looks fields up by name millions of times per sync (`Record::text` was 4.9 % of a
/// 10,000-order sync's CPU under perf, most of it SipHash of short keys); the maps keep
/// their insertion order whatever the hasher, and the seed is still random per process.
pub type RecordHasher = foldhash::fast::RandomState;

/// A record's fields by name, in document order.
pub type Fields = IndexMap<String, FieldValue, RecordHasher>;

/// A record's associations by name, in document order.
pub type Associations = IndexMap<String, Vec<Record>, RecordHasher>;

/// One PrestaShop record (an order, a customer, an association entry, …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Scalar and multilingual fields, in document order, `id` included.
    pub fields: Fields,
    /// Associations by name (`order_rows`, `categories`…); each is a list of entry records.
    /// An empty association is an empty list (XML empty element, JSON `[]`), and an absent one
    /// (display without it, or dropped by 8.x single-record JSON) is missing from the map.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub associations: Associations,
}

impl Record {
    /// A record of plain text fields, in the given order, with no associations.
    pub fn from_text_fields(fields: &[(&str, &str)]) -> Record {
        Record {
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), FieldValue::Text(v.to_string())))
                .collect(),
            associations: Associations::default(),
        }
    }

    /// The record's id, when it has a numeric one.
    pub fn id(&self) -> Option<u64> {
        self.text("id")?.trim().parse().ok()
    }

    /// A scalar field's text (for a multilingual field, its first language). `None` when absent:
    /// 8.x single-record JSON drops falsy fields, so absent often means `0` or empty.
    pub fn text(&self, field: &str) -> Option<&str> {
        self.fields.get(field).map(|v| match v {
            FieldValue::Text(s) => s.as_str(),
            FieldValue::Lang(values) => values.first().map_or("", |v| v.value.as_str()),
        })
    }

    /// Entries of an association; empty when absent.
    pub fn association(&self, name: &str) -> &[Record] {
        self.associations.get(name).map_or(&[], Vec::as_slice)
    }
}
