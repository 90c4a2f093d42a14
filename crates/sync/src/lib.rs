//! The sync engine: reads a PrestaShop store's resources into raw records and maps them
//! into commerce records, fully or incrementally, resumably, losing nothing.
//!
//! A run ([`Engine::run`]) reads the resources the requested data types need, reference
//! data first ([`catalog`]), each page written with its checkpoint in one transaction;
//! then maps each data type page by page from the database. Progress is reported as
//! [`ProgressEvent`]s; the outcome as a [`SyncReport`].

pub mod catalog;
mod census;
mod checkpoint;
mod encode;
mod engine;
mod error;
mod family;
mod fetch;
mod lease;
mod link;
mod map;
mod options;
mod progress;
mod read;
mod shoppers;

pub use engine::{
    needed_resources, parse_shop_date, DataTypeReport, DataTypeStatus, Engine, ResourceReport,
    SyncReport, PERMISSIONS_ERROR,
};
pub use error::{FailureReason, SyncError, WebserviceFailure};
pub use fetch::{retryable, Fetcher};
pub use lease::host_name;
pub use link::{
    connection_settings, forbidden_sources, needs_relink, sync_connection, sync_store,
    unreadable_resources, LinkError, Linked, SyncRequest, DEFAULT_COMPANY,
};
pub use map::{MapOutcome, MappingFailure};
pub use options::SyncOptions;
pub use progress::{ProgressEvent, Stage};
