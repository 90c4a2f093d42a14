//! PrestaShop Webservice client: URL resolution, auth modes, URL forms, typed queries,
//! decoding XML and JSON into one record tree, PrestaShop error codes, connection diagnosis.

pub mod record;
