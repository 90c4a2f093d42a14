//! Loading the recorded PrestaShop 8.1.2 responses: the index of requests, and the records
//! they contain, turned back into a simulator [`Store`] so the simulator can be asked the
//! same questions about the same data.

#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use prestalink_simulator::resources::resource;
use prestalink_simulator::schema::{Kind, Resource};
use prestalink_simulator::store::{Row, Store, Table, Value};

/// The two recorded stores.
pub fn fixtures_root() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/prestashop-8.1.2"
    ))
    .to_path_buf()
}

/// One line of `two-languages-scaled/index.tsv`.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub file: String,
    pub method: String,
    pub url: String,
    pub status: u16,
    pub content_type: Option<String>,
    pub note: String,
}

/// Reads `index.tsv`.
pub fn read_index(dir: &Path) -> Vec<Recorded> {
    let text = std::fs::read_to_string(dir.join("index.tsv")).expect("index.tsv");
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            Recorded {
                file: cols[0].to_string(),
                method: cols[1].to_string(),
                url: cols[2].to_string(),
                status: cols[3].parse().expect("status"),
                content_type: Some(cols[5].to_string()).filter(|c| !c.is_empty()),
                note: cols.get(7).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

/// Splits a recorded URL into path segments after `/api/` and decoded query pairs, the
/// way PHP decodes them (`+` is a space, a `%` without two hex digits stays literal).
pub fn split_url(url: &str) -> (Option<String>, Option<String>, Vec<(String, String)>) {
    let after_host = url.splitn(4, '/').nth(3).unwrap_or("");
    let (path, query) = after_host.split_once('?').unwrap_or((after_host, ""));
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (php_decode(k), php_decode(v))
        })
        .collect();
    let path = if let Some(rest) = path.strip_prefix("api") {
        rest.trim_start_matches('/').to_string()
    } else {
        // webservice/dispatcher.php?url=…
        let url_param = pairs
            .iter()
            .find(|(k, _)| k == "url")
            .map(|(_, v)| v.clone());
        pairs.retain(|(k, _)| k != "url");
        url_param.unwrap_or_default()
    };
    let mut segments = path.splitn(2, '/');
    let resource = segments
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let id = segments.next().map(str::to_string);
    (resource, id, pairs)
}

fn php_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// A minimal XML element tree (enough for the Webservice's documents).
#[derive(Debug, Clone, Default)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Element>,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses an XML document into its root element.
pub fn parse_xml(text: &str) -> Element {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut stack: Vec<Element> = vec![Element::default()];
    loop {
        match reader.read_event().expect("well-formed fixture") {
            Event::Start(e) => stack.push(element(&e)),
            Event::Empty(e) => {
                let el = element(&e);
                stack.last_mut().unwrap().children.push(el);
            }
            Event::End(_) => {
                let el = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(el);
            }
            Event::CData(c) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&String::from_utf8_lossy(&c.into_inner())),
            Event::Text(t) => {
                let t = t.unescape().expect("text").into_owned();
                stack.last_mut().unwrap().text.push_str(&t);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    stack
        .pop()
        .unwrap()
        .children
        .into_iter()
        .next()
        .expect("root element")
}

fn element(e: &quick_xml::events::BytesStart) -> Element {
    Element {
        name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
        attrs: e
            .attributes()
            .map(|a| {
                let a = a.expect("attribute");
                (
                    String::from_utf8_lossy(a.key.as_ref()).into_owned(),
                    a.unescape_value().expect("attribute value").into_owned(),
                )
            })
            .collect(),
        ..Element::default()
    }
}

/// A field value as a recording shows it.
#[derive(Debug, Clone, PartialEq)]
enum Seen {
    /// XML text (CDATA), untyped.
    Text(String),
    /// XML `<language id>` nodes.
    Langs(Vec<(u32, String)>),
    /// A typed JSON value.
    Json(serde_json::Value),
    /// Absent from a single-record JSON body, so falsy (`0`, `""`, `"0"` or null).
    Falsy,
}

/// Everything the recordings tell about one record.
#[derive(Debug, Clone, Default)]
struct Known {
    fields: HashMap<String, Seen>,
    /// Association entries by association name, once a full record was seen.
    assocs: Option<HashMap<String, Vec<HashMap<String, Seen>>>>,
}

/// All records of one recorded store, by resource and id.
#[derive(Debug, Default)]
pub struct Recordings {
    pub languages: Vec<u32>,
    records: BTreeMap<String, BTreeMap<u64, Known>>,
}

impl Recordings {
    /// Reads every XML and JSON body of a fixture folder.
    pub fn load(dir: &Path, languages: Vec<u32>) -> Recordings {
        let mut rec = Recordings {
            languages,
            records: BTreeMap::new(),
        };
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .expect("fixture dir")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for path in files {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(_) => continue,
            };
            let trimmed = text.trim_start();
            if name.contains("schema") || name.starts_with("err") || name.starts_with("error") {
                continue;
            }
            if trimmed.starts_with("<?xml") {
                rec.add_xml(&parse_xml(&text));
            } else if trimmed.starts_with('{') {
                if let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) {
                    rec.add_json(&json);
                }
            }
        }
        rec
    }

    fn add_xml(&mut self, root: &Element) {
        for top in &root.children {
            if let Some(r) = resource_by_plural(&top.name) {
                // `order_slip` is both plural and singular: a single record has an `id` child.
                if !top.children.iter().any(|c| c.name == "id") {
                    for rec in top.children.iter().filter(|c| c.name == r.singular) {
                        self.add_xml_record(r, rec);
                    }
                    continue;
                }
            }
            if let Some(r) = resource_by_singular(&top.name) {
                self.add_xml_record(r, top);
            }
        }
    }

    fn add_xml_record(&mut self, r: &'static Resource, el: &Element) {
        let id = match el.attr("id") {
            Some(id) => id.parse().expect("id"),
            None => match el.children.iter().find(|c| c.name == "id") {
                Some(c) => c.text.parse().expect("id"),
                None => return,
            },
        };
        let known = self.known(r.name, id);
        for child in &el.children {
            match child.name.as_str() {
                "id" => {}
                "associations" => {
                    let mut map = HashMap::new();
                    for assoc in &child.children {
                        let entries = assoc
                            .children
                            .iter()
                            .map(|entry| {
                                entry
                                    .children
                                    .iter()
                                    .map(|f| (f.name.clone(), Seen::Text(f.text.clone())))
                                    .collect()
                            })
                            .collect();
                        map.insert(assoc.name.clone(), entries);
                    }
                    // JSON (typed) entries win over XML text ones.
                    known.assocs.get_or_insert_with(HashMap::new);
                    let assocs = known.assocs.as_mut().unwrap();
                    for (k, v) in map {
                        assocs.entry(k).or_insert(v);
                    }
                    // Associations the record has but the document omits are empty.
                    for a in r.associations {
                        assocs.entry(a.name.to_string()).or_default();
                    }
                }
                name => {
                    let seen = if child.children.iter().any(|c| c.name == "language") {
                        Seen::Langs(
                            child
                                .children
                                .iter()
                                .map(|l| (l.attr("id").unwrap().parse().unwrap(), l.text.clone()))
                                .collect(),
                        )
                    } else {
                        Seen::Text(child.text.clone())
                    };
                    let slot = known.fields.entry(name.to_string()).or_insert(Seen::Falsy);
                    if *slot == Seen::Falsy {
                        *slot = seen;
                    }
                }
            }
        }
    }

    fn add_json(&mut self, json: &serde_json::Value) {
        let Some(obj) = json.as_object() else { return };
        for (key, value) in obj {
            if key == "errors" {
                continue;
            }
            if let (Some(r), Some(list)) = (resource_by_plural(key), value.as_array()) {
                let full = list
                    .iter()
                    .any(|v| v.as_object().is_some_and(|o| o.len() > 1));
                for item in list {
                    self.add_json_record(r, item, full, false);
                }
            } else if let Some(r) = resource_by_singular(key) {
                self.add_json_record(r, value, true, true);
            }
        }
    }

    fn add_json_record(
        &mut self,
        r: &'static Resource,
        v: &serde_json::Value,
        full: bool,
        single: bool,
    ) {
        let Some(obj) = v.as_object() else { return };
        let Some(id) = obj.get("id").and_then(|i| i.as_u64()) else {
            return;
        };
        let known = self.known(r.name, id);
        for (k, val) in obj {
            if k == "id" {
                continue;
            }
            if k == "associations" {
                let assocs = known.assocs.get_or_insert_with(HashMap::new);
                if let Some(map) = val.as_object() {
                    for (an, entries) in map {
                        let typed: Vec<HashMap<String, Seen>> = entries
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(|e| e.as_object())
                            .map(|e| {
                                e.iter()
                                    .map(|(fk, fv)| (fk.clone(), Seen::Json(fv.clone())))
                                    .collect()
                            })
                            .collect();
                        assocs.insert(an.clone(), typed);
                    }
                }
                continue;
            }
            // Typed values win over XML text and over inferred empties.
            known.fields.insert(k.clone(), Seen::Json(val.clone()));
        }
        if single {
            // 8.x drops falsy fields from single records: they are empty.
            for f in r.fields {
                known
                    .fields
                    .entry(f.name.to_string())
                    .or_insert(Seen::Falsy);
            }
        }
        if full {
            // A full JSON record omits empty associations.
            let assocs = known.assocs.get_or_insert_with(HashMap::new);
            for a in r.associations {
                assocs.entry(a.name.to_string()).or_default();
            }
        }
    }

    fn known(&mut self, resource: &str, id: u64) -> &mut Known {
        self.records
            .entry(resource.to_string())
            .or_default()
            .entry(id)
            .or_default()
    }

    /// Ids of a resource whose recordings show every field in `needed` (and the
    /// associations when `needs_assocs`).
    pub fn ids_knowing(&self, resource: &str, needed: &[&str], needs_assocs: bool) -> Vec<u64> {
        let Some(records) = self.records.get(resource) else {
            return Vec::new();
        };
        let needs_assocs = needs_assocs
            && prestalink_simulator::resources::resource(resource)
                .is_some_and(|r| !r.associations.is_empty());
        records
            .iter()
            .filter(|(_, k)| needed.iter().all(|f| k.fields.contains_key(*f)))
            .filter(|(_, k)| !needs_assocs || k.assocs.is_some())
            .map(|(id, _)| *id)
            .collect()
    }

    /// A store holding every recorded record of the given resources.
    pub fn store_all(&self, resources: &[&str]) -> Store {
        let mut store = self.store(resources[0], &HashSet::new());
        store.tables.clear();
        for name in resources {
            let ids: HashSet<u64> = self
                .records
                .get(*name)
                .map(|r| r.keys().copied().collect())
                .unwrap_or_default();
            let one = self.store(name, &ids);
            store.tables.extend(one.tables);
        }
        store
    }

    /// A store holding the given records of one resource.
    pub fn store(&self, resource_name: &str, ids: &HashSet<u64>) -> Store {
        let r = resource(resource_name).expect("resource");
        let mut table = Table::new(r);
        if let Some(records) = self.records.get(resource_name) {
            for (id, known) in records.iter().filter(|(id, _)| ids.contains(id)) {
                table.rows.insert(*id, self.row(r, *id, known));
            }
        }
        let mut tables = BTreeMap::new();
        tables.insert(r.name, table);
        Store {
            languages: self.languages.clone(),
            shops: vec![1],
            shop_name: "RealShop".to_string(),
            timezone: "Europe/Paris".to_string(),
            tables,
        }
    }

    fn row(&self, r: &'static Resource, id: u64, known: &Known) -> Row {
        let mut row = Row::empty(r, id, self.languages.len());
        for (i, field) in r.fields.iter().enumerate() {
            if let Some(seen) = known.fields.get(field.name) {
                row.values[i] = self.value(field.kind, seen);
            }
        }
        if let Some(assocs) = &known.assocs {
            for (ai, assoc) in r.associations.iter().enumerate() {
                let entries = assocs.get(assoc.name).map(Vec::as_slice).unwrap_or(&[]);
                row.assocs[ai] = entries
                    .iter()
                    .map(|entry| {
                        assoc
                            .fields
                            .iter()
                            .map(|f| match entry.get(f.name) {
                                Some(seen) => self.value(f.kind, seen),
                                None => Value::empty(f.kind, self.languages.len()),
                            })
                            .collect()
                    })
                    .collect();
            }
        }
        row
    }

    fn value(&self, kind: Kind, seen: &Seen) -> Value {
        use serde_json::Value as J;
        match seen {
            Seen::Json(J::Number(n)) => Value::Int(n.as_i64().expect("integer")),
            Seen::Json(J::String(s)) if kind == Kind::Lang => {
                Value::Lang(vec![s.clone(); self.languages.len()])
            }
            Seen::Json(J::String(s)) => Value::Str(s.clone()),
            Seen::Json(J::Null) => Value::Null,
            Seen::Json(J::Array(items)) => {
                let mut values = vec![String::new(); self.languages.len()];
                for item in items {
                    let id = match &item["id"] {
                        J::Number(n) => n.as_u64().unwrap_or(0) as u32,
                        J::String(s) => s.parse().unwrap_or(0),
                        _ => 0,
                    };
                    if let Some(i) = self.languages.iter().position(|&l| l == id) {
                        values[i] = item["value"].as_str().unwrap_or("").to_string();
                    }
                }
                Value::Lang(values)
            }
            Seen::Json(other) => Value::Str(other.to_string()),
            Seen::Langs(list) => {
                let mut values = vec![String::new(); self.languages.len()];
                for (id, text) in list {
                    if let Some(i) = self.languages.iter().position(|l| l == id) {
                        values[i] = text.clone();
                    }
                }
                Value::Lang(values)
            }
            Seen::Falsy => Value::empty(kind, self.languages.len()),
            Seen::Text(t) => match kind {
                Kind::Int => t
                    .parse()
                    .map(Value::Int)
                    .unwrap_or_else(|_| Value::Str(t.clone())),
                Kind::Str => Value::Str(t.clone()),
                Kind::Lang => Value::Lang(vec![t.clone(); self.languages.len()]),
            },
        }
    }
}

fn resource_by_plural(name: &str) -> Option<&'static Resource> {
    prestalink_simulator::resources::RESOURCES
        .iter()
        .find(|r| prestalink_simulator::resources::list_node(r) == name)
}

fn resource_by_singular(name: &str) -> Option<&'static Resource> {
    prestalink_simulator::resources::RESOURCES
        .iter()
        .find(|r| r.singular == name)
}
