//! PrestaShop Webservice client: URL resolution, auth modes, URL forms, typed queries,
//! decoding XML and JSON into one record tree, PrestaShop error codes, connection diagnosis.
//!
//! - [`StoreUrl`] and [`WebserviceKey`] parse what merchants paste.
//! - [`Query`] builds reads; [`Client`] sends them over a resolved [`Connection`].
//! - [`decode`] turns XML or JSON bodies into [`record::Record`]s.
//! - [`address_guard`] keeps connections away from private and local addresses
//!   ([`Connection::public_only`]).
//! - [`diagnose()`] probes a store once and says what works, what does not, and how to fix it.

pub mod address_guard;
pub mod client;
pub mod configuration;
pub mod decode;
pub mod diagnose;
pub mod error;
pub mod key;
pub mod query;
pub mod record;
pub mod redact;
pub mod store_url;

pub use client::{
    AuthMode, Client, Conditional, Connection, Page, RawResponse, ResponseMeta, UrlMode,
};
pub use decode::{Document, Methods, ResourceIndex};
pub use diagnose::{diagnose, DiagnoseOptions, Diagnosis, DiagnosisCode};
pub use error::{Error, Format, HtmlKind, PsError};
pub use key::{KeyProblem, WebserviceKey};
pub use query::{Direction, Display, Filter, Language, Query, ResourceName, Schema, ShopScope};
pub use store_url::StoreUrl;
