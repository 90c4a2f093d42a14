//! The XML decoder: a streaming pass over quick-xml events that builds records as it goes.
//!
//! Tolerated, because real stores send them: raw control characters such as `\x0b` in
//! descriptions, CDATA split around `]]>`, invalid UTF-8 (replaced), text after
//! `</prestashop>` (modules echoing scripts). Refused: `<!DOCTYPE>` (and with it every entity
//! definition), unknown entities, nesting deeper than [`MAX_DEPTH`].

use std::io::BufRead;

use indexmap::IndexMap;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{Capped, Document, Methods, ResourceIndex, MAX_DEPTH};
use crate::error::{Error, Format, PsError};
use crate::record::{FieldValue, LangValue, Record};

/// Decodes an XML Webservice body, reading at most `max_bytes` from `reader`.
pub fn decode<R: BufRead>(reader: R, max_bytes: u64) -> Result<Document, Error> {
    let (capped, exceeded) = Capped::new(reader, max_bytes);
    let mut decoder = Decoder {
        reader: Reader::from_reader(capped),
        buf: Vec::new(),
    };
    decoder.reader.config_mut().trim_text(false);
    decoder.document().map_err(|e| {
        if exceeded.get() {
            super::too_large(max_bytes)
        } else {
            e
        }
    })
}

/// An element start as the decoder needs it: name, the `id` attribute, and whether it is empty.
struct Element {
    name: String,
    id: Option<String>,
    attributes: Vec<(String, String)>,
    empty: bool,
}

enum Ev {
    Open(Element),
    Close,
    Text { text: String, cdata: bool },
    Eof,
}

/// What an element turned out to contain.
enum Node {
    Text(String),
    Lang(Vec<LangValue>),
    Record(Record),
}

struct Decoder<R> {
    reader: Reader<R>,
    buf: Vec<u8>,
}

impl<R: BufRead> Decoder<R> {
    fn error(&self, detail: impl Into<String>) -> Error {
        Error::Decode {
            format: Format::Xml,
            detail: detail.into(),
            at: Some(self.reader.buffer_position()),
        }
    }

    fn next(&mut self) -> Result<Ev, Error> {
        loop {
            self.buf.clear();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(event) => event,
                Err(e) => {
                    let detail = e.to_string();
                    return Err(self.error(detail));
                }
            };
            return Ok(match event {
                Event::Start(e) => Ev::Open(element(&e, false)),
                Event::Empty(e) => Ev::Open(element(&e, true)),
                Event::End(_) => Ev::Close,
                Event::Text(e) => {
                    let raw = String::from_utf8_lossy(&e);
                    match quick_xml::escape::unescape(&raw) {
                        Ok(text) => Ev::Text {
                            text: text.into_owned(),
                            cdata: false,
                        },
                        Err(e) => {
                            let detail =
                                format!("{e} (entities other than the five XML ones are refused)");
                            return Err(self.error(detail));
                        }
                    }
                }
                Event::CData(e) => Ev::Text {
                    text: String::from_utf8_lossy(&e.into_inner()).into_owned(),
                    cdata: true,
                },
                Event::DocType(_) => {
                    return Err(self.error(
                        "the body declares a DTD (<!DOCTYPE>); refused to avoid entity expansion",
                    ))
                }
                Event::Eof => Ev::Eof,
                Event::Decl(_) | Event::Comment(_) | Event::PI(_) => continue,
            });
        }
    }

    /// The next child element of the current element, skipping text; `None` at its end.
    fn next_child(&mut self) -> Result<Option<Element>, Error> {
        loop {
            match self.next()? {
                Ev::Open(element) => return Ok(Some(element)),
                Ev::Close => return Ok(None),
                Ev::Text { .. } => continue,
                Ev::Eof => return Err(self.error("the body ends before its elements are closed")),
            }
        }
    }

    fn document(&mut self) -> Result<Document, Error> {
        let root = loop {
            match self.next()? {
                Ev::Open(element) => break element,
                Ev::Text { text, .. } if text.trim().is_empty() => continue,
                Ev::Text { text, .. } => {
                    let start: String = text.trim().chars().take(40).collect();
                    return Err(self.error(format!("not XML: the body starts with {start:?}")));
                }
                Ev::Close => return Err(self.error("a closing tag comes before any element")),
                Ev::Eof => return Err(self.error("the body is empty")),
            }
        };
        if root.name != "prestashop" {
            return Err(self.error(format!(
                "not a PrestaShop document: the root element is <{}>, not <prestashop>",
                root.name
            )));
        }
        if root.empty {
            return Ok(Document::List {
                resource: None,
                records: Vec::new(),
            });
        }
        let document = match self.next_child()? {
            None => {
                return Ok(Document::List {
                    resource: None,
                    records: Vec::new(),
                })
            }
            Some(child) if child.name == "errors" => Document::Errors(self.errors(child)?),
            Some(child) if child.name == "api" => Document::Index(self.index(child)?),
            Some(child) => self.container(child)?,
        };
        // Whatever follows the first child (more siblings, scripts after </prestashop>) is not
        // part of the answer.
        Ok(document)
    }

    /// `<orders>…</orders>` (a list) or `<order>…</order>` (one record).
    fn container(&mut self, wrapper: Element) -> Result<Document, Error> {
        let name = wrapper.name.clone();
        if wrapper.empty {
            return Ok(Document::List {
                resource: Some(name),
                records: Vec::new(),
            });
        }
        let Some(first) = self.next_child()? else {
            return Ok(Document::List {
                resource: Some(name),
                records: Vec::new(),
            });
        };
        let first_has_id = first.id.is_some();
        let first_name = first.name.clone();
        let first_node = self.node(first, 2)?;
        match first_node {
            Node::Record(record) => self.list(name, record),
            Node::Text(_) if first_has_id => Err(self.error(format!(
                "<{first_name}> in <{name}> mixes an id attribute with text; not a PrestaShop list"
            ))),
            node => {
                let mut record = Record::default();
                if let Some(id) = wrapper.id {
                    record.fields.insert("id".into(), FieldValue::Text(id));
                }
                add_field(&mut record, first_name, node);
                while let Some(child) = self.next_child()? {
                    self.field_into(&mut record, child, 2)?;
                }
                Ok(Document::Single {
                    resource: name,
                    record,
                })
            }
        }
    }

    fn list(&mut self, name: String, first: Record) -> Result<Document, Error> {
        let mut records = vec![first];
        while let Some(child) = self.next_child()? {
            match self.node(child, 2)? {
                Node::Record(record) => records.push(record),
                Node::Text(_) | Node::Lang(_) => records.push(Record::default()),
            }
        }
        Ok(Document::List {
            resource: Some(name),
            records,
        })
    }

    /// Reads one field element into `record` (an association block, a value, a nested record).
    fn field_into(
        &mut self,
        record: &mut Record,
        child: Element,
        depth: usize,
    ) -> Result<(), Error> {
        if child.name == "associations" {
            return self.associations(record, child, depth + 1);
        }
        let name = child.name.clone();
        let node = self.node(child, depth + 1)?;
        add_field(record, name, node);
        Ok(())
    }

    fn associations(
        &mut self,
        record: &mut Record,
        element: Element,
        depth: usize,
    ) -> Result<(), Error> {
        if element.empty {
            return Ok(());
        }
        while let Some(association) = self.next_child()? {
            let name = association.name.clone();
            let entries = self.entries(association, depth + 1)?;
            record.associations.insert(name, entries);
        }
        Ok(())
    }

    /// The entries of one association (`<order_rows><order_row>…</order_row>…</order_rows>`).
    fn entries(&mut self, association: Element, depth: usize) -> Result<Vec<Record>, Error> {
        let mut entries = Vec::new();
        if association.empty {
            return Ok(entries);
        }
        while let Some(entry) = self.next_child()? {
            let id = entry.id.clone();
            entries.push(match self.node(entry, depth + 1)? {
                Node::Record(record) => record,
                Node::Text(text) => {
                    let mut record = Record::default();
                    if let Some(id) = id.or((!text.trim().is_empty()).then_some(text)) {
                        record.fields.insert("id".into(), FieldValue::Text(id));
                    }
                    record
                }
                Node::Lang(_) => Record::default(),
            });
        }
        Ok(entries)
    }

    /// Reads an element's content: text, `<language>` values, or child fields (a record).
    fn node(&mut self, element: Element, depth: usize) -> Result<Node, Error> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!(
                "elements are nested deeper than {MAX_DEPTH} levels"
            )));
        }
        let mut record = Record::default();
        if let Some(id) = element.id.clone() {
            record.fields.insert("id".into(), FieldValue::Text(id));
        }
        if element.empty {
            return Ok(if element.id.is_some() {
                Node::Record(record)
            } else {
                Node::Text(String::new())
            });
        }
        let mut text = Text::default();
        let mut languages: Vec<LangValue> = Vec::new();
        let mut has_children = false;
        loop {
            match self.next()? {
                Ev::Text { text: piece, cdata } => text.push(piece, cdata),
                Ev::Close => break,
                Ev::Eof => return Err(self.error(format!("<{}> is never closed", element.name))),
                Ev::Open(child) if child.name == "language" => {
                    let language_id = child.id.as_deref().and_then(|id| id.trim().parse().ok());
                    let value = match self.node(child, depth + 1)? {
                        Node::Text(value) => value,
                        _ => String::new(),
                    };
                    match language_id {
                        Some(language_id) => languages.push(LangValue { language_id, value }),
                        None => return Err(self.error("a <language> element has no numeric id")),
                    }
                }
                Ev::Open(child) => {
                    has_children = true;
                    self.field_into(&mut record, child, depth)?;
                }
            }
        }
        Ok(if has_children {
            Node::Record(record)
        } else if !languages.is_empty() {
            Node::Lang(languages)
        } else if element.id.is_some() && text.is_blank() {
            Node::Record(record)
        } else {
            Node::Text(text.finish())
        })
    }

    fn errors(&mut self, element: Element) -> Result<Vec<PsError>, Error> {
        let mut errors = Vec::new();
        if element.empty {
            return Ok(errors);
        }
        while let Some(child) = self.next_child()? {
            if let Node::Record(record) = self.node(child, 2)? {
                errors.push(PsError {
                    code: record
                        .text("code")
                        .and_then(|c| c.trim().parse().ok())
                        .unwrap_or(0),
                    message: record.text("message").unwrap_or_default().to_owned(),
                });
            }
        }
        Ok(errors)
    }

    fn index(&mut self, api: Element) -> Result<ResourceIndex, Error> {
        let mut index = ResourceIndex {
            shop_name: api
                .attributes
                .iter()
                .find(|(k, _)| k == "shopName")
                .map(|(_, v)| v.clone()),
            resources: IndexMap::new(),
        };
        if api.empty {
            return Ok(index);
        }
        while let Some(resource) = self.next_child()? {
            let flag = |name: &str| {
                resource
                    .attributes
                    .iter()
                    .any(|(k, v)| k == name && v.eq_ignore_ascii_case("true"))
            };
            let methods = Methods {
                get: flag("get"),
                put: flag("put"),
                post: flag("post"),
                patch: flag("patch"),
                delete: flag("delete"),
                head: flag("head"),
            };
            let name = resource.name.clone();
            // Description and schema links are not needed.
            self.node(resource, 2)?;
            index.resources.insert(name, methods);
        }
        Ok(index)
    }
}

fn add_field(record: &mut Record, name: String, node: Node) {
    match node {
        Node::Text(text) => {
            record.fields.insert(name, FieldValue::Text(text));
        }
        Node::Lang(values) => {
            record.fields.insert(name, FieldValue::Lang(values));
        }
        // A nested structure outside <associations>: keep it as a one-entry association.
        Node::Record(nested) => {
            record.associations.insert(name, vec![nested]);
        }
    }
}

fn element(start: &BytesStart<'_>, empty: bool) -> Element {
    let name = String::from_utf8_lossy(start.local_name().as_ref()).into_owned();
    let mut id = None;
    let mut attributes = Vec::new();
    for attribute in start.attributes().flatten() {
        let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
        let raw = String::from_utf8_lossy(&attribute.value).into_owned();
        let value = quick_xml::escape::unescape(&raw).map_or(raw.clone(), |v| v.into_owned());
        if key == "id" {
            id = Some(value.clone());
        }
        attributes.push((key, value));
    }
    Element {
        name,
        id,
        attributes,
        empty,
    }
}

/// Text pieces of one element. When CDATA is present (PrestaShop wraps every value in it), the
/// indentation text around it is not part of the value.
#[derive(Default)]
struct Text {
    pieces: Vec<(String, bool)>,
}

impl Text {
    fn push(&mut self, piece: String, cdata: bool) {
        self.pieces.push((piece, cdata));
    }

    fn is_blank(&self) -> bool {
        self.pieces
            .iter()
            .all(|(p, cdata)| !cdata && p.trim().is_empty())
    }

    fn finish(self) -> String {
        let has_cdata = self.pieces.iter().any(|(_, cdata)| *cdata);
        let only_blank_text = self.pieces.iter().all(|(p, _)| p.trim().is_empty());
        if !has_cdata && only_blank_text {
            return String::new();
        }
        self.pieces
            .into_iter()
            .filter(|(p, cdata)| *cdata || !has_cdata || !p.trim().is_empty())
            .map(|(p, _)| p)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(xml: &str) -> Document {
        decode(xml.as_bytes(), 1 << 20).unwrap_or_else(|e| panic!("{e}"))
    }

    fn err(xml: &str) -> String {
        match decode(xml.as_bytes(), 1 << 20) {
            Err(e) => e.to_string(),
            Ok(d) => panic!("expected an error, got {d:?}"),
        }
    }

    const HEAD: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n";

    #[test]
    fn single_record_with_languages_and_associations() {
        let d = doc(&format!(
            "{HEAD}<product>\n\t<id><![CDATA[250]]></id>\n\t<id_manufacturer xlink:href=\"x\"><![CDATA[2]]></id_manufacturer>\
             <name><language id=\"1\" xlink:href=\"l\"><![CDATA[Fox]]></language><language id=\"2\"><![CDATA[Renard]]></language></name>\
             <note><![CDATA[]]></note><associations><images nodeType=\"image\" api=\"images\"/>\
             <categories nodeType=\"category\"><category xlink:href=\"c\"><id><![CDATA[2]]></id></category></categories></associations>\n\
             </product>\n</prestashop>\n"
        ));
        let Document::Single { resource, record } = d else {
            panic!()
        };
        assert_eq!(resource, "product");
        assert_eq!(record.id(), Some(250));
        assert_eq!(record.text("note"), Some(""));
        assert_eq!(record.fields["name"].text_in(2), "Renard");
        assert_eq!(record.association("images").len(), 0);
        assert!(record.associations.contains_key("images"));
        assert_eq!(record.association("categories")[0].id(), Some(2));
    }

    #[test]
    fn lists_empty_lists_and_errors() {
        let d = doc(&format!("{HEAD}<orders>\n<order id=\"1\" xlink:href=\"a\"/>\n<order id=\"2\" xlink:href=\"b\"/>\n</orders>\n</prestashop>"));
        let Document::List { resource, records } = d else {
            panic!()
        };
        assert_eq!(resource.as_deref(), Some("orders"));
        assert_eq!(
            records.iter().map(|r| r.id().unwrap()).collect::<Vec<_>>(),
            [1, 2]
        );

        let d = doc(&format!("{HEAD}<orders>\n</orders>\n</prestashop>"));
        assert_eq!(
            d,
            Document::List {
                resource: Some("orders".into()),
                records: vec![]
            }
        );

        let d = doc(&format!("{HEAD}<errors>\n<error>\n<code><![CDATA[22]]></code>\n<message><![CDATA[disabled]]></message>\n</error>\n</errors>\n</prestashop>"));
        assert_eq!(
            d,
            Document::Errors(vec![PsError {
                code: 22,
                message: "disabled".into()
            }])
        );
    }

    #[test]
    fn tolerates_control_characters_split_cdata_and_trailing_scripts() {
        let d = doc(&format!(
            "{HEAD}<order><id><![CDATA[1]]></id><note><![CDATA[a\x0bb ]]]]><![CDATA[> c]]></note></order></prestashop><script>alert(1)</script>"
        ));
        let Document::Single { record, .. } = d else {
            panic!()
        };
        assert_eq!(record.text("note"), Some("a\x0bb ]]> c"));
    }

    #[test]
    fn refuses_dtds_entities_and_deep_nesting() {
        assert!(
            err("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><prestashop/>")
                .contains("DTD")
        );
        assert!(
            err(&format!("{HEAD}<order><id>&xxe;</id></order></prestashop>")).contains("entit")
        );
        let deep = format!(
            "{HEAD}<order>{}{}</order></prestashop>",
            "<a>".repeat(200),
            "</a>".repeat(200)
        );
        assert!(err(&deep).contains("nested deeper"));
        assert!(err("<html><body>Forbidden</body></html>").contains("<html>"));
        assert!(err("").contains("empty"));
        assert!(err(&format!("{HEAD}<order><id>1</id>")).contains("closed"));
    }

    #[test]
    fn caps_the_body_while_reading() {
        let body = format!(
            "{HEAD}<orders>{}</orders></prestashop>",
            "<order id=\"1\"/>".repeat(1000)
        );
        match decode(body.as_bytes(), 1000) {
            Err(Error::BodyTooLarge { limit, .. }) => assert_eq!(limit, 1000),
            other => panic!("{other:?}"),
        }
    }
}
