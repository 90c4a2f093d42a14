//! The unified commerce data model of prestalink.
//!
//! Field names, enums and shapes follow the Codat Commerce API (v3) so that clients written
//! for it work unchanged: camelCase names, ISO 4217 currencies, ISO 3166 alpha-3 countries,
//! exact decimal amounts ([`Amount`]) and offset-qualified timestamps ([`Timestamp`]).
//! [`DataType`] lists the data types and the PrestaShop resources each is read from;
//! [`json_schema`] gives each record's JSON Schema, generated from these types.
//!
//! This crate does no I/O; the `mapping` crate fills these types from PrestaShop records.

#![warn(missing_docs)]

pub mod amount;
pub mod common;
pub mod company;
pub mod customer;
pub mod data_type;
pub mod dispute;
pub mod location;
pub mod order;
pub mod payment;
pub mod product;
pub mod record;
pub mod schema;

pub use amount::Amount;
pub use common::{
    Address, AddressType, LocationRef, PhoneNumber, PhoneType, RecordRef, SupplementalData,
    Timestamp, UtcTimestamp, WebLink, WebLinkType,
};
pub use company::CompanyInfo;
pub use customer::Customer;
pub use data_type::{DataType, Support, UnknownDataType};
pub use dispute::{Dispute, DisputeStatus};
pub use location::{Location, TaxComponent};
pub use order::{
    DiscountAllocation, Order, OrderLineItem, OrderPayment, PaymentType, ServiceCharge,
    ServiceChargeType, TaxComponentAllocation,
};
pub use payment::{
    Payment, PaymentMethod, PaymentMethodStatus, PaymentStatus, Transaction, TransactionSourceRef,
    TransactionSourceType, TransactionType,
};
pub use product::{
    AncestorRef, InventoryLocation, Product, ProductCategory, ProductInventory, ProductPrice,
    ProductVariant, ProductVariantStatus,
};
pub use record::CommerceRecord;
pub use schema::{json_schema, schema_of};
