//! Raw copies of add-on module resources listed in the rules file: kept as they came (minus
//! any secret field), so nothing a module stores is lost.

use prestalink_webservice::record::Record;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::MappingError;
use crate::fields::Fields;
use crate::modules::SECRET_FIELDS;

/// One record of an extra resource, as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RawCopy {
    /// Webservice resource.
    pub resource: String,
    /// The record's id.
    pub id: String,
    /// Fields, associations under `associations`.
    pub fields: Value,
}

fn record_json(record: &Record) -> Value {
    let mut fields = Map::new();
    for (name, value) in &record.fields {
        if SECRET_FIELDS.contains(&name.as_str()) {
            continue;
        }
        fields.insert(
            name.clone(),
            serde_json::to_value(value).unwrap_or(Value::Null),
        );
    }
    if !record.associations.is_empty() {
        let mut assoc = Map::new();
        for (name, entries) in &record.associations {
            assoc.insert(
                name.clone(),
                Value::Array(entries.iter().map(record_json).collect()),
            );
        }
        fields.insert("associations".to_string(), Value::Object(assoc));
    }
    Value::Object(fields)
}

/// Copies one record of an extra resource.
pub fn map_raw(resource: &str, record: &Record) -> Result<RawCopy, MappingError> {
    let id = Fields::new(record, "extra resource").raw_id();
    if id.is_empty() {
        return Err(MappingError::MissingId {
            resource: "extra resource",
        });
    }
    Ok(RawCopy {
        resource: resource.to_string(),
        id,
        fields: record_json(record),
    })
}
