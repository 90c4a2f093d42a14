//! A commerce record's stored form computed straight from the mapped record (any
//! `Serialize`), without building a `serde_json::Value` first: its JSON text (with the place
//! where the store writes `modifiedDate`), its content hash and its `sourceModifiedDate`.
//!
//! The bytes are those of the store's `Value` path, which stays as the reference
//! ([`commerce_via_value`]) and as the fallback for what this encoder does not handle itself
//! (enum variants carrying data, keys that repeat once their NULs are removed):
//!
//! - the record as `serde_json::to_value` gives it: a `RawValue` (exact amounts) is parsed
//!   back into a `Value` there, so `12.50` is stored as `12.5`; `f32` is widened to `f64`;
//! - NUL characters removed from strings and keys (PostgreSQL's JSONB cannot hold them);
//! - the text is the `Value`'s compact serialization with the top-level `modifiedDate` set to
//!   the write time (in its place if the record has one, else last);
//! - the hash is SHA-256 of the canonical form of [`crate::content_hash`]: object keys sorted
//!   (by their text) at every level, every member and item followed by a comma,
//!   `modifiedDate` left out at every level.
//!
//! One serializer writes either form: the canonical pass writes each object's members in
//! the order they come and sorts them in place when the object ends (one copy of the
//! object's bytes), the text pass writes them in order.

use serde::ser::{self, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::hash::content_hash;

/// The key the store sets when it writes a commerce record (left out of the hash).
pub(crate) const MODIFIED_DATE: &str = "modifiedDate";
/// The top-level key a commerce record's source modification date is read from.
const SOURCE_MODIFIED_DATE: &str = "sourceModifiedDate";
/// The struct name `serde_json::value::RawValue` serializes under.
const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

/// A commerce record encoded for storage: its JSON text (see [`EncodedCommerce::json_at`]),
/// its content hash (without `modifiedDate`) and its source modification date.
#[derive(Debug, Clone, PartialEq)]
pub struct EncodedCommerce {
    /// The record's id.
    pub id: String,
    /// The record's JSON text, without the top-level `modifiedDate` value (see `modified`).
    json: String,
    /// Where the write time goes in `json`.
    modified: Splice,
    /// SHA-256 (hex) of the canonical form, `modifiedDate` left out at every level.
    pub content_hash: String,
    /// The given date, else the record's top-level `sourceModifiedDate` string.
    pub source_modified_date: Option<String>,
}

/// Where the store writes `modifiedDate` into a record's text.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Splice {
    /// The record has a top-level `modifiedDate`: its value is `json[start..end]`.
    Replace { start: usize, end: usize },
    /// It has none: the member goes at `at` (before the closing brace), after a comma if
    /// the object has members.
    Append { at: usize, comma: bool },
    /// The record is not an object: the text is stored as it is.
    None,
}

impl EncodedCommerce {
    /// Encodes `record` (a mapped commerce record, or its `Value`). `source_modified_date`,
    /// when given, is kept; else it is the record's top-level `sourceModifiedDate` string.
    pub fn new<T: Serialize + ?Sized>(
        id: String,
        record: &T,
        source_modified_date: Option<String>,
    ) -> serde_json::Result<EncodedCommerce> {
        match encode(record) {
            Ok((json, modified, hash, found)) => Ok(EncodedCommerce {
                id,
                json,
                modified,
                content_hash: hash,
                source_modified_date: source_modified_date.or(found),
            }),
            Err(_) => {
                // What this encoder does not handle goes through the `Value` the store's
                // reference path builds, cleaned of NULs: a plain tree this encoder handles.
                let value = serde_json::to_value(record)?;
                let found = source_modified_of(&value);
                let clean = crate::records::nul_free(&value);
                let (json, modified, hash, _) = encode(&*clean)?;
                Ok(EncodedCommerce {
                    id,
                    json,
                    modified,
                    content_hash: hash,
                    source_modified_date: source_modified_date.or(found),
                })
            }
        }
    }

    /// The stored text with `modifiedDate` set to `modified`.
    pub fn json_at(&self, modified: &str) -> String {
        let mut date = Vec::with_capacity(modified.len() + 2);
        write_str(modified, &mut date);
        let date = std::str::from_utf8(&date).expect("JSON text is UTF-8");
        let json = &self.json;
        match self.modified {
            Splice::Replace { start, end } => {
                let mut out = String::with_capacity(json.len() + date.len());
                out.push_str(&json[..start]);
                out.push_str(date);
                out.push_str(&json[end..]);
                out
            }
            Splice::Append { at, comma } => {
                let mut out = String::with_capacity(json.len() + date.len() + 20);
                out.push_str(&json[..at]);
                if comma {
                    out.push(',');
                }
                out.push('"');
                out.push_str(MODIFIED_DATE);
                out.push_str("\":");
                out.push_str(date);
                out.push_str(&json[at..]);
                out
            }
            Splice::None => json.clone(),
        }
    }
}

fn source_modified_of(value: &Value) -> Option<String> {
    value
        .get(SOURCE_MODIFIED_DATE)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The store's reference path for a commerce record given as a `Value`: the text with
/// `modifiedDate` set to `modified`, the hash and the source modification date, computed
/// through `Value` walks ([`EncodedCommerce`] must give the same; tests compare them).
#[doc(hidden)]
pub fn commerce_via_value(
    data: &Value,
    source_modified_date: Option<String>,
    modified: &str,
) -> (String, String, Option<String>) {
    let clean = crate::records::nul_free(data);
    let hash = content_hash(&clean, &[MODIFIED_DATE]);
    let source_modified_date = source_modified_date.or_else(|| source_modified_of(data));
    (
        crate::records::with_modified_date(&clean, modified),
        hash,
        source_modified_date,
    )
}

/// Text, splice, hash and top-level `sourceModifiedDate` of `record`; an error for what the
/// caller sends through `Value` instead.
fn encode<T: Serialize + ?Sized>(
    record: &T,
) -> Result<(String, Splice, String, Option<String>), Error> {
    let mut canonical = Encoder::new(true);
    record.serialize(&mut canonical)?;
    let hash = hex::encode(Sha256::digest(&canonical.out));
    let found = canonical.source_modified;
    let mut text = Encoder::new(false);
    // Reuse the canonical pass's buffer.
    text.out = canonical.out;
    text.out.clear();
    record.serialize(&mut text)?;
    let modified = text.splice.unwrap_or(Splice::None);
    let json = String::from_utf8(text.out).map_err(|_| Error::Unsupported("UTF-8"))?;
    Ok((json, modified, hash, found))
}

/// Why the encoder handed a record back to the `Value` path.
#[derive(Debug)]
enum Error {
    Unsupported(&'static str),
    Json(serde_json::Error),
    Custom(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Unsupported(what) => write!(f, "left to the Value path: {what}"),
            Error::Json(e) => e.fmt(f),
            Error::Custom(e) => f.write_str(e),
        }
    }
}

impl std::error::Error for Error {}

impl ser::Error for Error {
    fn custom<M: std::fmt::Display>(msg: M) -> Error {
        Error::Custom(msg.to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Error {
        Error::Json(e)
    }
}

impl From<Error> for serde_json::Error {
    fn from(e: Error) -> serde_json::Error {
        match e {
            Error::Json(e) => e,
            other => <serde_json::Error as ser::Error>::custom(other),
        }
    }
}

/// An object member's key, for sorting: the key text (NULs removed).
enum Key {
    Static(&'static str),
    /// The key's text is `out[start..end]` (it needed no escaping).
    InOut(usize, usize),
    Owned(String),
}

/// One member of an open object in the canonical pass: `"key":value,` is `out[start..end]`.
struct Entry {
    key: Key,
    start: usize,
    end: usize,
}

struct Encoder {
    out: Vec<u8>,
    canonical: bool,
    /// Open arrays and objects.
    depth: u32,
    /// Members of the open objects (canonical pass), innermost last.
    entries: Vec<Entry>,
    scratch: Vec<u8>,
    /// Text pass: where `modifiedDate` goes.
    splice: Option<Splice>,
    /// Canonical pass: the next string is the top-level `sourceModifiedDate`.
    armed: bool,
    source_modified: Option<String>,
}

impl Encoder {
    fn new(canonical: bool) -> Encoder {
        Encoder {
            out: Vec::with_capacity(1024),
            canonical,
            depth: 0,
            entries: Vec::new(),
            scratch: Vec::new(),
            splice: None,
            armed: false,
            source_modified: None,
        }
    }

    fn scalar(&mut self) {
        self.armed = false;
    }

    fn open(&mut self, kind: Kind, byte: u8) -> Compound<'_> {
        self.armed = false;
        self.out.push(byte);
        let top = self.depth == 0;
        self.depth += 1;
        Compound {
            frame: self.entries.len(),
            body: self.out.len(),
            first: true,
            top,
            kind,
            pending: None,
            enc: self,
        }
    }
}

/// A JSON string as `serde_json` writes it, NULs removed.
fn write_str(s: &str, out: &mut Vec<u8>) {
    if s.contains('\0') {
        let clean: String = s.chars().filter(|&c| c != '\0').collect();
        serde_json::to_writer(&mut *out, &clean).expect("strings serialize");
    } else {
        serde_json::to_writer(&mut *out, s).expect("strings serialize");
    }
}

fn needs_escape(s: &str) -> bool {
    s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\')
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Array,
    Object,
    /// A `RawValue`: its one field is JSON text, written as the `Value` it parses to.
    Raw,
}

struct Compound<'a> {
    enc: &'a mut Encoder,
    /// Index of this object's first member in `enc.entries`.
    frame: usize,
    /// Where this compound's members start in `out`.
    body: usize,
    first: bool,
    /// The top-level object (the record itself).
    top: bool,
    kind: Kind,
    /// A map key given before its value: (key, member start in `out`).
    pending: Option<(Key, usize)>,
}

impl Compound<'_> {
    /// Writes `"key":` and returns the member's start.
    fn key(&mut self, key: Key) -> (Key, usize) {
        let enc = &mut *self.enc;
        if !enc.canonical && !self.first {
            enc.out.push(b',');
        }
        self.first = false;
        let start = enc.out.len();
        let key = match key {
            Key::Static(k) => {
                write_str(k, &mut enc.out);
                Key::Static(k)
            }
            Key::Owned(k) => {
                if !k.contains('\0') && !needs_escape(&k) {
                    let at = enc.out.len() + 1;
                    enc.out.push(b'"');
                    enc.out.extend_from_slice(k.as_bytes());
                    enc.out.push(b'"');
                    Key::InOut(at, at + k.len())
                } else {
                    let clean: String = k.chars().filter(|&c| c != '\0').collect();
                    write_str(&clean, &mut enc.out);
                    Key::Owned(clean)
                }
            }
            Key::InOut(..) => unreachable!("keys arrive as text"),
        };
        enc.out.push(b':');
        (key, start)
    }

    fn member<T: Serialize + ?Sized>(
        &mut self,
        key: Key,
        start: usize,
        value: &T,
    ) -> Result<(), Error> {
        let top = self.top;
        let enc = &mut *self.enc;
        let (is_modified, is_source) = {
            let name = key_text(&key, &enc.out);
            (
                name == MODIFIED_DATE.as_bytes(),
                // The `Value` path reads it before removing NULs: a key that had some is
                // another key there.
                name == SOURCE_MODIFIED_DATE.as_bytes() && !matches!(key, Key::Owned(_)),
            )
        };
        if top && !enc.canonical && is_modified {
            if enc.splice.is_some() {
                return Err(Error::Unsupported("repeated modifiedDate"));
            }
            let value_start = enc.out.len();
            value.serialize(&mut *enc)?;
            enc.splice = Some(Splice::Replace {
                start: value_start,
                end: enc.out.len(),
            });
            return Ok(());
        }
        enc.armed = top && enc.canonical && is_source;
        value.serialize(&mut *enc)?;
        enc.armed = false;
        if enc.canonical {
            enc.out.push(b',');
            enc.entries.push(Entry {
                key,
                start,
                end: enc.out.len(),
            });
        }
        Ok(())
    }

    fn item<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let enc = &mut *self.enc;
        if !enc.canonical && !self.first {
            enc.out.push(b',');
        }
        self.first = false;
        value.serialize(&mut *enc)?;
        if enc.canonical {
            enc.out.push(b',');
        }
        Ok(())
    }

    fn end_array(self) {
        self.enc.out.push(b']');
        self.enc.depth -= 1;
    }

    fn end_object(self) -> Result<(), Error> {
        let enc = self.enc;
        enc.depth -= 1;
        if enc.canonical {
            let entries = &mut enc.entries[self.frame..];
            let out = &enc.out;
            let ignored = entries
                .iter()
                .any(|e| key_text(&e.key, out) == MODIFIED_DATE.as_bytes());
            let sorted = entries
                .windows(2)
                .all(|w| key_text(&w[0].key, out) < key_text(&w[1].key, out));
            if !sorted || ignored {
                entries.sort_unstable_by(|a, b| key_text(&a.key, out).cmp(key_text(&b.key, out)));
                if entries
                    .windows(2)
                    .any(|w| key_text(&w[0].key, out) == key_text(&w[1].key, out))
                {
                    return Err(Error::Unsupported("a key repeated"));
                }
                enc.scratch.clear();
                enc.scratch.extend_from_slice(&enc.out[self.body..]);
                let base = self.body;
                let mut rewritten = Vec::with_capacity(entries.len());
                for e in entries.iter() {
                    if key_text(&e.key, &enc.out) != MODIFIED_DATE.as_bytes() {
                        rewritten.push((e.start - base, e.end - base));
                    }
                }
                enc.out.truncate(base);
                for (a, b) in rewritten {
                    enc.out.extend_from_slice(&enc.scratch[a..b]);
                }
            }
            enc.entries.truncate(self.frame);
        } else if self.top && enc.splice.is_none() {
            enc.splice = Some(Splice::Append {
                at: enc.out.len(),
                comma: !self.first,
            });
        }
        enc.out.push(b'}');
        Ok(())
    }
}

fn key_text<'a>(key: &'a Key, out: &'a [u8]) -> &'a [u8] {
    match key {
        Key::Static(k) => k.as_bytes(),
        Key::InOut(a, b) => &out[*a..*b],
        Key::Owned(k) => k.as_bytes(),
    }
}

impl<'a> ser::Serializer for &'a mut Encoder {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = ser::Impossible<(), Error>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = ser::Impossible<(), Error>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.scalar();
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.scalar();
        serde_json::to_writer(&mut self.out, &v)?;
        Ok(())
    }

    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.scalar();
        serde_json::to_writer(&mut self.out, &v)?;
        Ok(())
    }

    fn serialize_i128(self, _: i128) -> Result<(), Error> {
        Err(Error::Unsupported("i128"))
    }

    fn serialize_u128(self, _: u128) -> Result<(), Error> {
        Err(Error::Unsupported("u128"))
    }

    fn serialize_f32(self, v: f32) -> Result<(), Error> {
        // `Value` keeps an f32 as the f64 it widens to.
        self.serialize_f64(f64::from(v))
    }

    fn serialize_f64(self, v: f64) -> Result<(), Error> {
        self.scalar();
        // serde_json writes a non-finite float as null, as `Value` stores it.
        serde_json::to_writer(&mut self.out, &v)?;
        Ok(())
    }

    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<(), Error> {
        if std::mem::take(&mut self.armed) {
            self.source_modified = Some(v.to_string());
        }
        write_str(v, &mut self.out);
        Ok(())
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
        Err(Error::Unsupported("bytes"))
    }

    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), Error> {
        self.scalar();
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(Error::Unsupported("enum variant with data"))
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(self.open(Kind::Array, b'['))
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'a>, Error> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Error::Unsupported("enum variant with data"))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(self.open(Kind::Object, b'{'))
    }

    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Compound<'a>, Error> {
        if name == RAW_VALUE_TOKEN {
            self.armed = false;
            let body = self.out.len();
            return Ok(Compound {
                frame: self.entries.len(),
                body,
                first: true,
                top: false,
                kind: Kind::Raw,
                pending: None,
                enc: self,
            });
        }
        Ok(self.open(Kind::Object, b'{'))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Error::Unsupported("enum variant with data"))
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }

    fn end(self) -> Result<(), Error> {
        self.end_array();
        Ok(())
    }
}

impl ser::SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }

    fn end(self) -> Result<(), Error> {
        self.end_array();
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.item(value)
    }

    fn end(self) -> Result<(), Error> {
        self.end_array();
        Ok(())
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        let text = key.serialize(KeySerializer)?;
        let pending = self.key(Key::Owned(text));
        self.pending = Some(pending);
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let (key, start) = self
            .pending
            .take()
            .ok_or(Error::Unsupported("a value without its key"))?;
        self.member(key, start, value)
    }

    fn end(self) -> Result<(), Error> {
        self.end_object()
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        if self.kind == Kind::Raw {
            // The raw JSON text, written as the `Value` it parses to (as `to_value` does).
            let Value::String(text) = serde_json::to_value(value)? else {
                return Err(Error::Unsupported("a raw value that is not text"));
            };
            let parsed: Value = serde_json::from_str(&text)?;
            return parsed.serialize(&mut *self.enc);
        }
        let (key, start) = self.key(Key::Static(key));
        self.member(key, start, value)
    }

    fn end(self) -> Result<(), Error> {
        match self.kind {
            Kind::Raw => Ok(()),
            _ => self.end_object(),
        }
    }
}

/// A map key as text, as `serde_json` turns keys into strings (strings, characters and
/// integers; anything else goes to the `Value` path).
struct KeySerializer;

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = Error;
    type SerializeSeq = ser::Impossible<String, Error>;
    type SerializeTuple = ser::Impossible<String, Error>;
    type SerializeTupleStruct = ser::Impossible<String, Error>;
    type SerializeTupleVariant = ser::Impossible<String, Error>;
    type SerializeMap = ser::Impossible<String, Error>;
    type SerializeStruct = ser::Impossible<String, Error>;
    type SerializeStructVariant = ser::Impossible<String, Error>;

    fn serialize_str(self, v: &str) -> Result<String, Error> {
        Ok(v.to_string())
    }

    fn serialize_char(self, v: char) -> Result<String, Error> {
        Ok(v.to_string())
    }

    fn serialize_i8(self, v: i8) -> Result<String, Error> {
        Ok(v.to_string())
    }

    fn serialize_i16(self, v: i16) -> Result<String, Error> {
        Ok(v.to_string())
    }

    fn serialize_i32(self, v: i32) -> Result<String, Error> {
        Ok(v.to_string())
    }

    fn serialize_i64(self, v: i64) -> Result<String, Error> {
        Ok(v.to_string())
    }

    fn serialize_u8(self, v: u8) -> Result<String, Error> {
        Ok(v.to_string())
    }

    fn serialize_u16(self, v: u16) -> Result<String, Error> {
        Ok(v.to_string())
    }

    fn serialize_u32(self, v: u32) -> Result<String, Error> {
        Ok(v.to_string())
    }

    fn serialize_u64(self, v: u64) -> Result<String, Error> {
        Ok(v.to_string())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, Error> {
        value.serialize(self)
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<String, Error> {
        Ok(variant.to_string())
    }

    fn serialize_bool(self, _: bool) -> Result<String, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_i128(self, _: i128) -> Result<String, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_u128(self, _: u128) -> Result<String, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_f32(self, _: f32) -> Result<String, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_f64(self, _: f64) -> Result<String, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<String, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_none(self) -> Result<String, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_unit(self) -> Result<String, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<String, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, Error> {
        Err(Error::Unsupported("key"))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(Error::Unsupported("key"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    const NOW: &str = "2026-12-07T18:00:00.000Z";

    fn check_value(data: &Value, smd: Option<String>) {
        let encoded = EncodedCommerce::new("1".into(), data, smd.clone()).unwrap();
        let (text, hash, found) = commerce_via_value(data, smd, NOW);
        assert_eq!(encoded.json_at(NOW), text, "{data}");
        assert_eq!(encoded.content_hash, hash, "{data}");
        assert_eq!(encoded.source_modified_date, found, "{data}");
    }

    #[test]
    fn values_encode_as_the_value_path() {
        for data in [
            json!({"id": "1", "modifiedDate": "old", "total": 2.5}),
            json!({"id": "1", "total": 2.5, "lines": [{"modifiedDate": "kept", "b": 1}]}),
            json!({"z": {"y": [1, -2, 3.25, null, true, false, {"b": "x", "a": "y"}]}}),
            json!({"sourceModifiedDate": "2024-01-01T00:00:00+01:00", "a": "b"}),
            json!({"sourceModifiedDate": 7}),
            json!({"x": {"sourceModifiedDate": "nested"}}),
            json!({}),
            json!([]),
            json!({"a b": 1, "a": 2, "a\"": 3, "a\n": 4, "é": 5, "e": 6}),
            json!({"a\u{0}": "x\u{0}y", "b": ["\u{0}"]}),
            json!({"a": 1, "a\u{0}": 2, "b": 3}),
            json!("not an object"),
            json!(12),
            json!({"modifiedDate": {"nested": "object"}, "a": 1}),
        ] {
            check_value(&data, None);
        }
        check_value(&json!({"sourceModifiedDate": "x"}), Some("given".into()));
    }

    #[test]
    fn raw_amounts_are_stored_as_their_value() {
        #[derive(serde::Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Amounts {
            id: String,
            total: Box<serde_json::value::RawValue>,
            lines: Vec<Box<serde_json::value::RawValue>>,
            modified_date: Option<String>,
            source_modified_date: Option<String>,
            ratio: f32,
        }
        let raw = |s: &str| serde_json::value::RawValue::from_string(s.to_string()).unwrap();
        let record = Amounts {
            id: "7".into(),
            total: raw("12.50"),
            lines: vec![
                raw("100"),
                raw("-3"),
                raw("0.1000"),
                raw("123456789.123456789"),
            ],
            modified_date: None,
            source_modified_date: Some("2024-05-01T10:00:00+02:00".into()),
            ratio: 0.1,
        };
        let encoded = EncodedCommerce::new("7".into(), &record, None).unwrap();
        let value = serde_json::to_value(&record).unwrap();
        let (text, hash, found) = commerce_via_value(&value, None, NOW);
        assert_eq!(encoded.json_at(NOW), text);
        assert_eq!(encoded.content_hash, hash);
        assert_eq!(encoded.source_modified_date, found);
        assert!(text.contains("\"total\":12.5,"), "{text}");
    }

    #[test]
    fn what_the_encoder_leaves_to_the_value_path_still_matches() {
        #[derive(serde::Serialize)]
        enum Shape {
            Circle { r: u32 },
            Pair(u8, u8),
            Wrapped(String),
        }
        #[derive(serde::Serialize)]
        struct Odd {
            shapes: Vec<Shape>,
            bytes: serde_bytes_like::Bytes,
        }
        mod serde_bytes_like {
            pub struct Bytes(pub Vec<u8>);
            impl serde::Serialize for Bytes {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    s.serialize_bytes(&self.0)
                }
            }
        }
        let record = Odd {
            shapes: vec![
                Shape::Circle { r: 1 },
                Shape::Pair(1, 2),
                Shape::Wrapped("w".into()),
            ],
            bytes: serde_bytes_like::Bytes(vec![1, 2]),
        };
        let encoded = EncodedCommerce::new("1".into(), &record, None).unwrap();
        let value = serde_json::to_value(&record).unwrap();
        let (text, hash, _) = commerce_via_value(&value, None, NOW);
        assert_eq!(encoded.json_at(NOW), text);
        assert_eq!(encoded.content_hash, hash);
    }

    fn arb_value() -> impl Strategy<Value = Value> {
        let key = prop_oneof![
            Just("modifiedDate".to_string()),
            Just("sourceModifiedDate".to_string()),
            "[a-c\u{0} \"\\\\é\n]{0,3}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[a-z\u{0}\"\\\\é\n\u{1}]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..6)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn generated_values_encode_as_the_value_path(data in arb_value()) {
            let encoded = EncodedCommerce::new("1".into(), &data, None).unwrap();
            let (text, hash, found) = commerce_via_value(&data, None, NOW);
            prop_assert_eq!(encoded.json_at(NOW), text);
            prop_assert_eq!(encoded.content_hash, hash);
            prop_assert_eq!(encoded.source_modified_date, found);
        }
    }
}
