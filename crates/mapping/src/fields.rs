//! Typed reads of a PrestaShop record's fields, with errors that name the record and field.

use std::str::FromStr;

use prestalink_commerce::Amount;
use prestalink_webservice::record::Record;

use crate::error::MappingError;

/// A record being mapped, with its resource name and raw id for error messages.
#[derive(Clone, Copy)]
pub struct Fields<'a> {
    /// The raw record.
    pub record: &'a Record,
    /// PrestaShop resource (`orders`).
    pub resource: &'static str,
}

impl<'a> Fields<'a> {
    /// Wraps a record of a resource.
    pub fn new(record: &'a Record, resource: &'static str) -> Self {
        Fields { record, resource }
    }

    /// The record's numeric id, or [`MappingError::MissingId`].
    pub fn id(&self) -> Result<u64, MappingError> {
        self.record.id().ok_or(MappingError::MissingId {
            resource: self.resource,
        })
    }

    /// The raw id text (for failure reports), if any.
    pub fn raw_id(&self) -> String {
        self.record.text("id").unwrap_or("").trim().to_string()
    }

    /// A field's text; `None` when absent or blank.
    pub fn text(&self, field: &str) -> Option<&'a str> {
        self.record
            .text(field)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// A field's text as an owned string; `None` when absent or blank.
    pub fn string(&self, field: &str) -> Option<String> {
        self.text(field).map(str::to_string)
    }

    /// A reference id (`id_customer`…): `None` when absent, blank or 0 (PrestaShop's "none").
    pub fn id_ref(&self, field: &str) -> Option<u64> {
        self.text(field)
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|&id| id != 0)
    }

    /// A flag (`"1"`/`1` true, anything else false; absent is false, as 8.x JSON drops
    /// falsy fields).
    pub fn flag(&self, field: &str) -> bool {
        matches!(self.text(field), Some("1") | Some("true"))
    }

    /// A decimal field; absent or blank reads as 0 (8.x single-record JSON drops zeros).
    pub fn amount(&self, field: &'static str) -> Result<Amount, MappingError> {
        match self.text(field) {
            None => Ok(Amount::ZERO),
            Some(text) => Amount::from_str(text).map_err(|_| MappingError::InvalidNumber {
                resource: self.resource,
                id: self.raw_id(),
                field,
                value: text.to_string(),
            }),
        }
    }

    /// A decimal field that may be absent (`None`), for values where 0 and unknown differ.
    pub fn opt_amount(&self, field: &'static str) -> Result<Option<Amount>, MappingError> {
        match self.text(field) {
            None => Ok(None),
            Some(_) => self.amount(field).map(Some),
        }
    }
}
