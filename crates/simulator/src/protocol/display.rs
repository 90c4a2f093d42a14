//! `display=`: which fields and associations a response shows (WebserviceRequest::
//! setFieldsToDisplay and parseDisplayFields).

use crate::errors::PsError;
use crate::schema::Resource;

/// What to render of each record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Display {
    /// Ids with an xlink only (the list default).
    Minimal,
    /// The chosen fields and associations (`full` selects everything).
    Fields(Selection),
}

/// A set of fields and association fields to render, in the resource's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Whether the record id is shown.
    pub id: bool,
    /// One flag per resource field.
    pub fields: Vec<bool>,
    /// Per association: `None` when not shown, else one flag per entry field.
    pub assocs: Vec<Option<Vec<bool>>>,
}

impl Selection {
    /// Everything, as `display=full` (or a single GET) shows it.
    pub fn full(resource: &Resource) -> Selection {
        Selection {
            id: true,
            fields: vec![true; resource.fields.len()],
            assocs: resource
                .associations
                .iter()
                .map(|a| Some(vec![true; a.fields.len()]))
                .collect(),
        }
    }

    /// True when at least one association is shown.
    pub fn any_association(&self) -> bool {
        self.assocs.iter().any(Option::is_some)
    }
}

impl Display {
    /// Reads a `display` value for a resource; errors are codes 35 (unknown field) and 36
    /// (syntax), with PrestaShop's messages.
    pub fn parse(value: &str, resource: &Resource) -> Result<Display, PsError> {
        match value {
            "full" => return Ok(Display::Fields(Selection::full(resource))),
            "minimum" => return Ok(Display::Minimal),
            _ => {}
        }
        let inner = match value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            Some(inner) if !value.contains('\n') => inner,
            _ => {
                return Err(PsError::new(
                    36,
                    format!(
                        "The 'display' syntax is wrong. You can set 'full' or '[field_1,field_2,field_3,...]'. These are available: {}",
                        available(resource)
                    ),
                ))
            }
        };
        let mut sel = Selection {
            id: false,
            fields: vec![false; resource.fields.len()],
            assocs: vec![None; resource.associations.len()],
        };
        for (name, part) in parse_display_fields(inner) {
            let error = match &part {
                None => {
                    if name == "id" {
                        sel.id = true;
                        false
                    } else if let Some(i) = resource.field_index(name) {
                        sel.fields[i] = true;
                        false
                    } else {
                        true
                    }
                }
                Some(subs) => match resource.association_index(name) {
                    None => true,
                    Some(ai) => {
                        let assoc = &resource.associations[ai];
                        let mut mask = vec![false; assoc.fields.len()];
                        let mut bad = false;
                        for sub in subs {
                            match assoc.fields.iter().position(|f| f.name == *sub) {
                                Some(fi) => mask[fi] = true,
                                None if *sub == "id" => {}
                                None => {
                                    bad = true;
                                    break;
                                }
                            }
                        }
                        sel.assocs[ai] = Some(mask);
                        bad
                    }
                },
            };
            if error {
                let details = part
                    .as_ref()
                    .map(|subs| format!(" (details : {})", var_export(subs)))
                    .unwrap_or_default();
                return Err(PsError::new(
                    35,
                    format!(
                        "Unable to display this field \"{name}{details}\". However, these are available: {}",
                        available(resource)
                    ),
                ));
            }
        }
        Ok(Display::Fields(sel))
    }
}

/// `implode(', ', array_keys($fields))`: `id` then every field.
fn available(resource: &Resource) -> String {
    let mut out = String::from("id");
    for f in resource.fields {
        out.push_str(", ");
        out.push_str(f.name);
    }
    out
}

/// PHP `var_export` of a list of strings.
fn var_export(items: &[&str]) -> String {
    let mut out = String::from("array (\n");
    for (i, item) in items.iter().enumerate() {
        out.push_str(&format!(
            "  {i} => '{}',\n",
            item.replace('\\', "\\\\").replace('\'', "\\'")
        ));
    }
    out.push(')');
    out
}

/// WebserviceRequest::parseDisplayFields: top-level names (trimmed) with their optional
/// bracketed sub-field lists, merged when a name repeats, in first-seen order.
fn parse_display_fields(s: &str) -> Vec<(&str, Option<Vec<&str>>)> {
    let mut parts = Vec::new();
    let mut level = 0i32;
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        if b == b',' && level == 0 {
            parts.push(&s[start..i]);
            start = i + 1;
        }
        match b {
            b'[' => level += 1,
            b']' => level -= 1,
            _ => {}
        }
    }
    if start < s.len() {
        parts.push(&s[start..]);
    }
    let mut fields: Vec<(&str, Option<Vec<&str>>)> = Vec::new();
    for part in parts {
        let open = part.find('[');
        let name = part[..open.unwrap_or(part.len())].trim();
        let idx = match fields.iter().position(|(n, _)| *n == name) {
            Some(i) => i,
            None => {
                fields.push((name, None));
                fields.len() - 1
            }
        };
        if let Some(open) = open {
            // substr($str, $open + 1, strlen - $open - 2): drops the last character.
            let mut end = part.len().saturating_sub(1).max(open + 1);
            // PHP cuts one byte; keep to a character boundary (the name is invalid either way).
            while !part.is_char_boundary(end) {
                end -= 1;
            }
            let subs: Vec<&str> = part[open + 1..end].split(',').collect();
            match &mut fields[idx].1 {
                Some(existing) => existing.extend(subs),
                slot => *slot = Some(subs),
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::resource;

    #[test]
    fn parses_fields_and_associations() {
        let orders = resource("orders").unwrap();
        let Display::Fields(sel) =
            Display::parse("[id,reference,order_rows[id,product_id]]", orders).unwrap()
        else {
            panic!("expected fields");
        };
        assert!(sel.id);
        assert_eq!(sel.fields.iter().filter(|f| **f).count(), 1);
        let rows = sel.assocs[0].as_ref().unwrap();
        assert_eq!(rows.iter().filter(|f| **f).count(), 2);
        assert_eq!(Display::parse("minimum", orders).unwrap(), Display::Minimal);
    }

    #[test]
    fn rejects_unknown_fields_and_bad_syntax() {
        let orders = resource("orders").unwrap();
        let e = Display::parse("[id,nope]", orders).unwrap_err();
        assert_eq!(e.code, 35);
        assert!(e.message.starts_with(
            "Unable to display this field \"nope\". However, these are available: id, id_address_delivery,"
        ));
        let e = Display::parse("[order_rows[nope]]", orders).unwrap_err();
        assert!(e.message.starts_with(
            "Unable to display this field \"order_rows (details : array (\n  0 => 'nope',\n))\""
        ));
        assert_eq!(Display::parse("id,reference", orders).unwrap_err().code, 36);
        assert_eq!(Display::parse("", orders).unwrap_err().code, 36);
    }

    #[test]
    fn splitting_follows_php() {
        assert_eq!(parse_display_fields("a[é"), vec![("a", Some(vec![""]))]);
        let got = parse_display_fields("a, b[x,y],a[z]");
        assert_eq!(
            got,
            vec![("a", Some(vec!["z"])), ("b", Some(vec!["x", "y"]))]
        );
    }
}
