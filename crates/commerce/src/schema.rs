//! JSON Schemas of the records, generated from the Rust types (never written by hand), so
//! the API can serve them and tests can validate every mapped record against them.

use schemars::generate::SchemaSettings;
use schemars::JsonSchema;

use crate::{
    CompanyInfo, Customer, DataType, Dispute, Location, Order, Payment, PaymentMethod, Product,
    ProductCategory, TaxComponent, Transaction,
};

/// The JSON Schema (draft 2020-12) of one record of a data type.
pub fn json_schema(data_type: DataType) -> serde_json::Value {
    match data_type {
        DataType::CompanyInfo => schema_of::<CompanyInfo>(),
        DataType::Customers => schema_of::<Customer>(),
        DataType::Orders => schema_of::<Order>(),
        DataType::Payments => schema_of::<Payment>(),
        DataType::PaymentMethods => schema_of::<PaymentMethod>(),
        DataType::Products => schema_of::<Product>(),
        DataType::ProductCategories => schema_of::<ProductCategory>(),
        DataType::TaxComponents => schema_of::<TaxComponent>(),
        DataType::Transactions => schema_of::<Transaction>(),
        DataType::Locations => schema_of::<Location>(),
        DataType::Disputes => schema_of::<Dispute>(),
    }
}

/// The JSON Schema of any model type.
pub fn schema_of<T: JsonSchema>() -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    generator.into_root_schema_for::<T>().to_value()
}
