//! The data types prestalink serves (Codat's keys). The sync planner, the check command and
//! the storage all read this list; which PrestaShop resources make each one is the
//! mapping's business (`prestalink_mapping::sources`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One commerce data type, named as in the Codat Commerce API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DataType {
    /// `commerce-info`: the company (single record).
    #[serde(rename = "commerce-info")]
    CompanyInfo,
    /// `commerce-customers`.
    #[serde(rename = "commerce-customers")]
    Customers,
    /// `commerce-orders`.
    #[serde(rename = "commerce-orders")]
    Orders,
    /// `commerce-payments`.
    #[serde(rename = "commerce-payments")]
    Payments,
    /// `commerce-paymentMethods`.
    #[serde(rename = "commerce-paymentMethods")]
    PaymentMethods,
    /// `commerce-products`.
    #[serde(rename = "commerce-products")]
    Products,
    /// `commerce-productCategories`.
    #[serde(rename = "commerce-productCategories")]
    ProductCategories,
    /// `commerce-taxComponents`.
    #[serde(rename = "commerce-taxComponents")]
    TaxComponents,
    /// `commerce-transactions`.
    #[serde(rename = "commerce-transactions")]
    Transactions,
    /// `commerce-locations`.
    #[serde(rename = "commerce-locations")]
    Locations,
    /// `commerce-disputes` (not supported by PrestaShop).
    #[serde(rename = "commerce-disputes")]
    Disputes,
}

/// Whether the source platform can provide a data type at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Support {
    /// The data type is read from the listed resources.
    Supported,
    /// The platform has no such data: the API reports the data status `NotSupported`,
    /// never an empty success.
    NotSupported,
}

/// A data type key that is not one of [`DataType::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown data type \"{0}\"; known: commerce-info, commerce-customers, commerce-orders, commerce-payments, commerce-paymentMethods, commerce-products, commerce-productCategories, commerce-taxComponents, commerce-transactions, commerce-locations, commerce-disputes")]
pub struct UnknownDataType(pub String);

impl DataType {
    /// Every data type, reference-like types first (the order a full sync can follow).
    pub const ALL: [DataType; 11] = [
        DataType::CompanyInfo,
        DataType::Locations,
        DataType::TaxComponents,
        DataType::ProductCategories,
        DataType::Products,
        DataType::Customers,
        DataType::PaymentMethods,
        DataType::Orders,
        DataType::Payments,
        DataType::Transactions,
        DataType::Disputes,
    ];

    /// The key used in API paths and storage (`commerce-orders`).
    pub fn key(self) -> &'static str {
        match self {
            DataType::CompanyInfo => "commerce-info",
            DataType::Customers => "commerce-customers",
            DataType::Orders => "commerce-orders",
            DataType::Payments => "commerce-payments",
            DataType::PaymentMethods => "commerce-paymentMethods",
            DataType::Products => "commerce-products",
            DataType::ProductCategories => "commerce-productCategories",
            DataType::TaxComponents => "commerce-taxComponents",
            DataType::Transactions => "commerce-transactions",
            DataType::Locations => "commerce-locations",
            DataType::Disputes => "commerce-disputes",
        }
    }

    /// The name of the record type (`Order`), as used for schema titles.
    pub fn record_name(self) -> &'static str {
        match self {
            DataType::CompanyInfo => "CompanyInfo",
            DataType::Customers => "Customer",
            DataType::Orders => "Order",
            DataType::Payments => "Payment",
            DataType::PaymentMethods => "PaymentMethod",
            DataType::Products => "Product",
            DataType::ProductCategories => "ProductCategory",
            DataType::TaxComponents => "TaxComponent",
            DataType::Transactions => "Transaction",
            DataType::Locations => "Location",
            DataType::Disputes => "Dispute",
        }
    }

    /// Whether PrestaShop can provide this data type.
    pub fn support(self) -> Support {
        match self {
            DataType::Disputes => Support::NotSupported,
            _ => Support::Supported,
        }
    }

    /// True when the data type is one record per connection (`commerce-info`).
    pub fn is_single(self) -> bool {
        self == DataType::CompanyInfo
    }
}

impl fmt::Display for DataType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

impl FromStr for DataType {
    type Err = UnknownDataType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DataType::ALL
            .into_iter()
            .find(|t| t.key() == s)
            .ok_or_else(|| UnknownDataType(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_serde_agrees() {
        for t in DataType::ALL {
            assert_eq!(t.key().parse::<DataType>().unwrap(), t);
            assert_eq!(serde_json::to_value(t).unwrap(), t.key());
        }
        assert!("commerce-order".parse::<DataType>().is_err());
    }

    #[test]
    fn only_disputes_are_unsupported() {
        for t in DataType::ALL {
            assert_eq!(
                t.support() == Support::NotSupported,
                t == DataType::Disputes
            );
        }
    }
}
