//! One record of any data type, for code that handles all data types alike (storage, API).

use serde::Serialize;

use crate::{
    CompanyInfo, Customer, DataType, Dispute, Location, Order, Payment, PaymentMethod, Product,
    ProductCategory, TaxComponent, Transaction,
};

/// A commerce record of any data type. Serializes as the record itself (no tag).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CommerceRecord {
    /// `commerce-info`.
    CompanyInfo(CompanyInfo),
    /// `commerce-customers`.
    Customer(Customer),
    /// `commerce-orders`.
    Order(Box<Order>),
    /// `commerce-payments`.
    Payment(Payment),
    /// `commerce-paymentMethods`.
    PaymentMethod(PaymentMethod),
    /// `commerce-products`.
    Product(Product),
    /// `commerce-productCategories`.
    ProductCategory(ProductCategory),
    /// `commerce-taxComponents`.
    TaxComponent(TaxComponent),
    /// `commerce-transactions`.
    Transaction(Transaction),
    /// `commerce-locations`.
    Location(Location),
    /// `commerce-disputes`.
    Dispute(Dispute),
}

impl CommerceRecord {
    /// The record's data type.
    pub fn data_type(&self) -> DataType {
        match self {
            CommerceRecord::CompanyInfo(_) => DataType::CompanyInfo,
            CommerceRecord::Customer(_) => DataType::Customers,
            CommerceRecord::Order(_) => DataType::Orders,
            CommerceRecord::Payment(_) => DataType::Payments,
            CommerceRecord::PaymentMethod(_) => DataType::PaymentMethods,
            CommerceRecord::Product(_) => DataType::Products,
            CommerceRecord::ProductCategory(_) => DataType::ProductCategories,
            CommerceRecord::TaxComponent(_) => DataType::TaxComponents,
            CommerceRecord::Transaction(_) => DataType::Transactions,
            CommerceRecord::Location(_) => DataType::Locations,
            CommerceRecord::Dispute(_) => DataType::Disputes,
        }
    }

    /// The record's id.
    pub fn id(&self) -> &str {
        match self {
            CommerceRecord::CompanyInfo(r) => &r.id,
            CommerceRecord::Customer(r) => &r.id,
            CommerceRecord::Order(r) => &r.id,
            CommerceRecord::Payment(r) => &r.id,
            CommerceRecord::PaymentMethod(r) => &r.id,
            CommerceRecord::Product(r) => &r.id,
            CommerceRecord::ProductCategory(r) => &r.id,
            CommerceRecord::TaxComponent(r) => &r.id,
            CommerceRecord::Transaction(r) => &r.id,
            CommerceRecord::Location(r) => &r.id,
            CommerceRecord::Dispute(r) => &r.id,
        }
    }

    /// The record as JSON text, with exact amounts.
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).expect("commerce records always serialize")
    }

    /// Reads a record of a known data type back from its JSON text.
    pub fn from_json(data_type: DataType, json: &str) -> serde_json::Result<CommerceRecord> {
        Ok(match data_type {
            DataType::CompanyInfo => CommerceRecord::CompanyInfo(serde_json::from_str(json)?),
            DataType::Customers => CommerceRecord::Customer(serde_json::from_str(json)?),
            DataType::Orders => CommerceRecord::Order(serde_json::from_str(json)?),
            DataType::Payments => CommerceRecord::Payment(serde_json::from_str(json)?),
            DataType::PaymentMethods => CommerceRecord::PaymentMethod(serde_json::from_str(json)?),
            DataType::Products => CommerceRecord::Product(serde_json::from_str(json)?),
            DataType::ProductCategories => {
                CommerceRecord::ProductCategory(serde_json::from_str(json)?)
            }
            DataType::TaxComponents => CommerceRecord::TaxComponent(serde_json::from_str(json)?),
            DataType::Transactions => CommerceRecord::Transaction(serde_json::from_str(json)?),
            DataType::Locations => CommerceRecord::Location(serde_json::from_str(json)?),
            DataType::Disputes => CommerceRecord::Dispute(serde_json::from_str(json)?),
        })
    }
}
