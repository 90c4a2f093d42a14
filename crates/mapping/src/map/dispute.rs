//! `commerce-disputes`: PrestaShop keeps no chargeback data.

use prestalink_commerce::{DataType, Dispute};

use crate::error::MappingError;

/// Always [`MappingError::NotSupported`]: the API reports the data status `NotSupported`
/// for disputes, never an empty success.
pub fn map_disputes() -> Result<Vec<Dispute>, MappingError> {
    Err(MappingError::NotSupported(DataType::Disputes))
}
