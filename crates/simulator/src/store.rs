//! The simulated store's data: one table per resource, rows as values in schema order.
//! This is also the ground truth tests and benchmarks compare a synced database against.

use std::collections::BTreeMap;

use crate::schema::{Kind, Resource};

/// A field value. Its variant decides the JSON type (see [`crate::schema::Kind`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    Int(i64),
    Str(String),
    /// One string per installed language, in the order of [`Store::languages`].
    Lang(Vec<String>),
    /// SQL NULL (e.g. `customers.website`): empty in XML, `null` in JSON, and falsy.
    Null,
}

impl Value {
    /// A string view of the value as PrestaShop's SQL would compare it (first language for Lang).
    pub fn as_text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Value::Int(i) => std::borrow::Cow::Owned(i.to_string()),
            Value::Str(s) => std::borrow::Cow::Borrowed(s),
            Value::Lang(v) => {
                std::borrow::Cow::Borrowed(v.first().map(String::as_str).unwrap_or(""))
            }
            Value::Null => std::borrow::Cow::Borrowed(""),
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Str(s) => s.parse().ok(),
            Value::Lang(_) | Value::Null => None,
        }
    }

    /// The empty value of a kind: `0`, `""`, or one `""` per language.
    pub fn empty(kind: Kind, languages: usize) -> Value {
        match kind {
            Kind::Int => Value::Int(0),
            Kind::Str => Value::Str(String::new()),
            Kind::Lang => Value::Lang(vec![String::new(); languages]),
        }
    }

    /// A value of the given kind from its text (an unparsable Int becomes 0; a Lang gets
    /// the same text in every language).
    pub fn of_kind(kind: Kind, text: &str, languages: usize) -> Value {
        match kind {
            Kind::Int => Value::Int(text.trim().parse().unwrap_or(0)),
            Kind::Str => Value::Str(text.to_string()),
            Kind::Lang => Value::Lang(vec![text.to_string(); languages]),
        }
    }

    /// Shorthand for a string value.
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }
}

/// One record of a resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub id: u64,
    /// Values in the order of the resource's `fields`.
    pub values: Vec<Value>,
    /// Per association (in the resource's order): entries, each its values in the
    /// association's field order.
    pub assocs: Vec<Vec<Vec<Value>>>,
    /// Shops this row is associated with (`<table>_shop`); empty means "not shop-scoped".
    pub shops: Vec<u32>,
}

impl Row {
    /// A row with every field at its empty value (`0`, `""`, or one `""` per language),
    /// and every association empty, ready to be filled with [`Row::set`].
    pub fn empty(resource: &Resource, id: u64, languages: usize) -> Row {
        Row {
            id,
            values: resource
                .fields
                .iter()
                .map(|f| Value::empty(f.kind, languages))
                .collect(),
            assocs: vec![Vec::new(); resource.associations.len()],
            shops: Vec::new(),
        }
    }

    /// Value of a named field, using the resource schema to find it.
    pub fn get<'a>(&'a self, resource: &Resource, field: &str) -> Option<&'a Value> {
        resource.field_index(field).map(|i| &self.values[i])
    }

    /// Set a named field; panics if the schema has no such field (a generator bug).
    pub fn set(&mut self, resource: &Resource, field: &str, value: Value) {
        let i = resource
            .field_index(field)
            .unwrap_or_else(|| panic!("{} has no field {field}", resource.name));
        self.values[i] = value;
    }
}

/// The rows of one resource, by id.
#[derive(Debug, Clone)]
pub struct Table {
    pub resource: &'static Resource,
    pub rows: BTreeMap<u64, Row>,
}

impl Table {
    pub fn new(resource: &'static Resource) -> Self {
        Table {
            resource,
            rows: BTreeMap::new(),
        }
    }

    /// The next free id (ids are never reused, as with MySQL auto-increment).
    pub fn next_id(&self) -> u64 {
        self.rows.keys().next_back().map_or(1, |id| id + 1)
    }
}

/// A whole simulated store.
#[derive(Debug, Clone)]
pub struct Store {
    /// Installed language ids, in order; `Value::Lang` holds one string per entry.
    pub languages: Vec<u32>,
    /// Shop ids (1..=N).
    pub shops: Vec<u32>,
    /// Shop name shown as `<api shopName>`.
    pub shop_name: String,
    /// IANA time zone of the shop (PS_TIMEZONE); all dates in rows are local to it.
    pub timezone: String,
    /// Tables by resource name.
    pub tables: BTreeMap<&'static str, Table>,
}

impl Store {
    pub fn table(&self, resource: &str) -> Option<&Table> {
        self.tables.get(resource)
    }

    pub fn table_mut(&mut self, resource: &str) -> Option<&mut Table> {
        self.tables.get_mut(resource)
    }
}
