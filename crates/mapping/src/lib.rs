//! PrestaShop → commerce model mapping, pure and without I/O.
//!
//! The sync engine reads raw records (the `webservice` crate's [`Record`] tree), then:
//!
//! 1. builds [`ReferenceData`] once per connection from the reference resources
//!    (languages, currencies, countries, states, order states, taxes and rules, carriers,
//!    categories, option groups and values, stock, combinations, addresses, shops,
//!    shop URLs, configurations) collected in a [`RecordSet`];
//! 2. maps records with the per-data-type functions in [`map`] (`map_order`, `map_customer`…)
//!    or all records of a data type at once with [`map_data_type`].
//!
//! Every function returns either the record with its [`Warning`]s (a reference to a
//! deleted row, an unknown order state…) or a [`MappingError`] naming the record and the
//! reason; one bad record never stops the others. Disputes are [`MappingError::NotSupported`].
//!
//! [`Record`]: prestalink_webservice::record::Record

#![warn(missing_docs)]

pub mod batch;
pub mod error;
pub mod fields;
pub mod iso;
pub mod links;
pub mod map;
pub mod modules;
pub mod options;
pub mod records;
pub mod reference;
pub mod sources;
pub mod text;
pub mod time;

pub use batch::{map_data_type, Batch};
pub use error::{Failure, Mapped, MappingError, Warning};
pub use links::{OrderChildren, OrderLinks};
pub use map::category::map_category;
pub use map::company::map_company;
pub use map::customer::{map_customer, CUSTOMER_FIELDS};
pub use map::dispute::map_disputes;
pub use map::location::{map_shop, map_store};
pub use map::order::map_order;
pub use map::payment::map_payment;
pub use map::payment_method::{
    map_payment_methods, CensusEntry, CensusLedger, CensusRow, PaymentMethodCensus,
};
pub use map::product::map_product;
pub use map::raw::{map_raw, RawCopy};
pub use map::tax::map_tax;
pub use map::transaction::{map_payment_transaction, map_refund_transaction};
pub use modules::{ModuleRules, PaymentModule, StateRule};
pub use options::MapOptions;
pub use records::RecordSet;
pub use reference::{ReferenceData, SharedReference};
pub use time::ShopClock;
