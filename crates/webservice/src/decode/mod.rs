//! Decoding Webservice bodies (XML and JSON) into one normalized shape: a [`Document`] holding
//! [`Record`]s, PrestaShop errors, or the root listing of resources.
//!
//! Both decoders read event by event (no DOM, no `serde_json::Value`), cap the number of bytes
//! they read, and refuse what could blow up (DTDs, entity expansion, deep nesting).

pub mod json;
pub mod xml;

use std::cell::Cell;
use std::io::{self, BufRead, Read};
use std::rc::Rc;

use indexmap::IndexMap;
use serde::Serialize;

use crate::error::{Error, Format, PsError};
use crate::record::Record;

/// Default cap on a decoded body: 64 MiB (the 20,000-order id list of a real store is 1.4 MB).
pub const DEFAULT_MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// Deepest element or array nesting accepted (PrestaShop documents are about 6 levels deep).
pub const MAX_DEPTH: usize = 64;

/// A decoded Webservice body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Document {
    /// A list of records (`<orders>…</orders>`, `{"orders":[…]}`, JSON `[]`). `resource` is the
    /// list element's name, absent for JSON `[]` and an empty `<prestashop/>`.
    List {
        /// The wrapper name (`orders`), when the body names it.
        resource: Option<String>,
        /// The records, in body order.
        records: Vec<Record>,
    },
    /// One record (`<order>…</order>`, `{"order":{…}}`), as a single GET or schema returns it.
    Single {
        /// The record element's name (`order`).
        resource: String,
        /// The record.
        record: Record,
    },
    /// PrestaShop errors (`<errors>`, `{"errors":[…]}`).
    Errors(Vec<PsError>),
    /// The root listing (`GET /api/`): the resources this key may use, with their methods.
    Index(ResourceIndex),
}

impl Document {
    /// The records of a list or single document (empty for errors and the index).
    pub fn into_records(self) -> Vec<Record> {
        match self {
            Document::List { records, .. } => records,
            Document::Single { record, .. } => vec![record],
            Document::Errors(_) | Document::Index(_) => Vec::new(),
        }
    }
}

/// The root listing: which resources the key can use and with which methods.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ResourceIndex {
    /// The `shopName` attribute of `<api>`.
    pub shop_name: Option<String>,
    /// Resources in listing order.
    pub resources: IndexMap<String, Methods>,
}

impl ResourceIndex {
    /// Whether the key may read (GET) `resource`.
    pub fn can_read(&self, resource: &str) -> bool {
        self.resources.get(resource).is_some_and(|m| m.get)
    }
}

/// The HTTP methods the key may use on one resource (root listing attributes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Methods {
    /// `get="true"`.
    pub get: bool,
    /// `put="true"`.
    pub put: bool,
    /// `post="true"`.
    pub post: bool,
    /// `patch="true"` (8.0 and later).
    pub patch: bool,
    /// `delete="true"`.
    pub delete: bool,
    /// `head="true"`.
    pub head: bool,
}

impl Methods {
    /// The allowed methods as upper-case names, in `GET, PUT, POST, PATCH, DELETE, HEAD` order.
    pub fn names(&self) -> Vec<&'static str> {
        [
            (self.get, "GET"),
            (self.put, "PUT"),
            (self.post, "POST"),
            (self.patch, "PATCH"),
            (self.delete, "DELETE"),
            (self.head, "HEAD"),
        ]
        .into_iter()
        .filter_map(|(allowed, name)| allowed.then_some(name))
        .collect()
    }
}

/// Decodes a complete body held in memory.
pub fn decode(body: &[u8], format: Format, max_bytes: u64) -> Result<Document, Error> {
    if body.len() as u64 > max_bytes {
        return Err(too_large(max_bytes));
    }
    match format {
        Format::Xml => xml::decode(body, max_bytes),
        Format::Json => json::decode_slice(body),
    }
}

/// Decodes a body from a reader (a file, a stream), reading at most `max_bytes`.
pub fn decode_reader<R: BufRead>(
    reader: R,
    format: Format,
    max_bytes: u64,
) -> Result<Document, Error> {
    match format {
        Format::Xml => xml::decode(reader, max_bytes),
        Format::Json => json::decode_reader(reader, max_bytes),
    }
}

pub(crate) fn too_large(limit: u64) -> Error {
    Error::BodyTooLarge {
        url: "the body".into(),
        limit,
    }
}

/// A reader that fails once more than `limit` bytes were read, and remembers that it did.
pub(crate) struct Capped<R> {
    inner: R,
    remaining: u64,
    limit: u64,
    exceeded: Rc<Cell<bool>>,
}

impl<R> Capped<R> {
    pub(crate) fn new(inner: R, limit: u64) -> (Capped<R>, Rc<Cell<bool>>) {
        let exceeded = Rc::new(Cell::new(false));
        let capped = Capped {
            inner,
            remaining: limit,
            limit,
            exceeded: exceeded.clone(),
        };
        (capped, exceeded)
    }

    fn over(&self) -> io::Error {
        self.exceeded.set(true);
        io::Error::other(format!("body larger than {} bytes", self.limit))
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.remaining {
            return Err(self.over());
        }
        self.remaining -= n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Capped<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.remaining == 0 {
            // Only an error when there is more to read.
            if !self.inner.fill_buf()?.is_empty() {
                return Err(self.over());
            }
            return Ok(&[]);
        }
        let remaining = self.remaining;
        let buf = self.inner.fill_buf()?;
        let n = buf.len().min(remaining as usize);
        Ok(&buf[..n])
    }

    fn consume(&mut self, amount: usize) {
        self.remaining = self.remaining.saturating_sub(amount as u64);
        self.inner.consume(amount);
    }
}
