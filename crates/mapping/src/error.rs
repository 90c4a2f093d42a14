//! Why a record could not be mapped, and what was mapped with a caveat.

use prestalink_commerce::DataType;
use serde::Serialize;

/// A record (or a whole data type) that could not be mapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// The record has no usable `id`.
    #[error("{resource} record has no numeric id")]
    MissingId {
        /// PrestaShop resource.
        resource: &'static str,
    },
    /// A field the mapping cannot do without is absent or empty.
    #[error("{resource} {id}: required field `{field}` is missing")]
    MissingField {
        /// PrestaShop resource.
        resource: &'static str,
        /// Raw id of the record.
        id: String,
        /// Field name.
        field: &'static str,
    },
    /// A money, rate or quantity field is not a decimal number.
    #[error("{resource} {id}: field `{field}` is not a decimal number: {value:?}")]
    InvalidNumber {
        /// PrestaShop resource.
        resource: &'static str,
        /// Raw id of the record.
        id: String,
        /// Field name.
        field: &'static str,
        /// The text found.
        value: String,
    },
    /// A date field is not PrestaShop's `YYYY-MM-DD HH:MM:SS`.
    #[error("{resource} {id}: field `{field}` is not a PrestaShop date: {value:?}")]
    InvalidDate {
        /// PrestaShop resource.
        resource: &'static str,
        /// Raw id of the record.
        id: String,
        /// Field name.
        field: &'static str,
        /// The text found.
        value: String,
    },
    /// The data type does not exist in PrestaShop (disputes): report `NotSupported`.
    #[error("{0} is not supported by PrestaShop: it keeps no such data")]
    NotSupported(DataType),
    /// The store's PS_TIMEZONE (or the configured one) is not an IANA time zone.
    #[error("unknown time zone {0:?} (PS_TIMEZONE); set a valid IANA name such as Europe/Paris")]
    UnknownTimeZone(String),
    /// The add-on module rules file is invalid.
    #[error("invalid module rules file: {0}")]
    InvalidRules(String),
}

/// A record that could not be mapped: which one, and why. Mapping goes on with the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Failure {
    /// PrestaShop resource of the record.
    pub resource: &'static str,
    /// The record's raw id as the store sent it (`None` when it had none).
    pub raw_id: Option<String>,
    /// Why it could not be mapped.
    pub reason: String,
}

impl Failure {
    /// A failure of one record.
    pub fn new(resource: &'static str, raw_id: Option<String>, error: &MappingError) -> Self {
        Failure {
            resource,
            raw_id,
            reason: error.to_string(),
        }
    }
}

/// Something a mapped record carries with a caveat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Warning {
    /// A reference points to a source row that does not exist (deleted since, or never
    /// there): the reference keeps the raw id.
    DeletedSource {
        /// The reference field (`customerRef`, `productRef`…).
        field: &'static str,
        /// PrestaShop resource the id belongs to.
        resource: &'static str,
        /// The raw id.
        id: String,
    },
    /// A value could not be interpreted and was left empty.
    Unresolved {
        /// The field concerned.
        field: &'static str,
        /// What was found.
        detail: String,
    },
}

/// A mapped record with the caveats found while mapping it.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped<T> {
    /// The commerce record.
    pub record: T,
    /// Caveats (dangling references, unresolved values).
    pub warnings: Vec<Warning>,
}
