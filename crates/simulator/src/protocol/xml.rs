//! XML rendering, byte for byte as WebserviceOutputXML writes it: tab-indented fields,
//! every value in CDATA (control characters left raw), `xlink:href` on linked ids.

use super::display::Selection;
use super::listing::Schema;
use super::params::Language;
use super::push_int;
use crate::errors::cdata_escape;
use crate::resources::list_node;
use crate::schema::{Association, Field, Kind, Resource};
use crate::store::{Row, Value};

/// Everything the renderers need besides the rows.
pub struct Ctx<'a> {
    /// Scheme, host and base path (`http://127.0.0.1:8080`).
    pub base: &'a str,
    /// The resource being rendered.
    pub resource: &'static Resource,
    /// Languages to render multilingual values in.
    pub languages: &'a [Language],
}

/// The document prologue and root element.
pub const HEADER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<prestashop xmlns:xlink=\"http://www.w3.org/1999/xlink\">\n";
/// The root element's end.
pub const FOOTER: &str = "</prestashop>\n";

/// A list of ids: `<order id="1" xlink:href="…/api/orders/1"/>`, or an empty element.
pub fn list_minimal(ctx: &Ctx, rows: &[&Row], out: &mut String) {
    let r = ctx.resource;
    let node = list_node(r);
    open_line(out, node);
    for row in rows {
        out.push('<');
        out.push_str(r.singular);
        out.push_str(" id=\"");
        push_int(out, row.id as i64);
        out.push_str("\" xlink:href=\"");
        // PrestaShop links list entries with objectsNodeName (`/api/order_slips/1`).
        push_href(out, ctx.base, node, row.id as i64);
        out.push_str("\"/>\n");
    }
    close_line(out, node);
}

/// A list of records with the selected fields.
pub fn list_records(ctx: &Ctx, rows: &[&Row], sel: &Selection, out: &mut String) {
    let node = list_node(ctx.resource);
    open_line(out, node);
    for row in rows {
        record(ctx, row, sel, out);
    }
    close_line(out, node);
}

/// One record element with the selected fields and associations.
pub fn record(ctx: &Ctx, row: &Row, sel: &Selection, out: &mut String) {
    let r = ctx.resource;
    open_line(out, r.singular);
    if sel.id {
        out.push_str("\t<id><![CDATA[");
        push_int(out, row.id as i64);
        out.push_str("]]></id>\n");
    }
    for (i, field) in r.fields.iter().enumerate() {
        if sel.fields[i] {
            top_field(ctx, row, field, &row.values[i], out);
        }
    }
    if sel.any_association() {
        out.push_str("<associations>\n");
        for (ai, assoc) in r.associations.iter().enumerate() {
            if let Some(mask) = &sel.assocs[ai] {
                association(ctx, row, assoc, &row.assocs[ai], mask, out);
            }
        }
        out.push_str("</associations>\n");
    }
    close_line(out, r.singular);
}

fn top_field(ctx: &Ctx, row: &Row, field: &Field, value: &Value, out: &mut String) {
    out.push_str("\t<");
    out.push_str(field.name);
    if let Some(target) = field.xlink {
        if !php_empty(value) {
            out.push_str(" xlink:href=\"");
            out.push_str(ctx.base);
            out.push_str("/api/");
            if field.name == "id_default_image" {
                // Product images live under images/products/{id_product}/{id_image}.
                out.push_str("images/products/");
                push_int(out, row.id as i64);
            } else {
                out.push_str(target);
            }
            out.push('/');
            push_text(out, value);
            out.push('"');
        }
    }
    if field.not_filterable {
        out.push_str(" notFilterable=\"true\"");
    }
    out.push('>');
    value_content(ctx, value, out);
    out.push_str("</");
    out.push_str(field.name);
    out.push_str(">\n");
}

/// CDATA for a plain value, `<language>` nodes for a multilingual one.
fn value_content(ctx: &Ctx, value: &Value, out: &mut String) {
    match value {
        Value::Lang(values) => {
            for lang in ctx.languages {
                out.push_str("<language id=\"");
                out.push_str(&lang.id);
                out.push_str("\" xlink:href=\"");
                out.push_str(ctx.base);
                out.push_str("/api/languages/");
                out.push_str(&lang.id);
                out.push_str("\"><![CDATA[");
                out.push_str(&cdata_escape(
                    values.get(lang.index).map_or("", String::as_str),
                ));
                out.push_str("]]></language>");
            }
        }
        _ => {
            out.push_str("<![CDATA[");
            push_text(out, value);
            out.push_str("]]>");
        }
    }
}

fn association(
    ctx: &Ctx,
    row: &Row,
    assoc: &Association,
    entries: &[Vec<Value>],
    mask: &[bool],
    out: &mut String,
) {
    // Image entries link to images/products/{id_product}/{id_image}.
    let image_product = (assoc.name == "images").then(|| match ctx.resource.name {
        "products" => Value::Int(row.id as i64),
        _ => ctx
            .resource
            .field_index("id_product")
            .map_or(Value::Null, |i| row.values[i].clone()),
    });
    out.push('<');
    out.push_str(assoc.name);
    out.push_str(" nodeType=\"");
    out.push_str(assoc.node);
    match assoc.api {
        Some(api) => {
            out.push_str("\" api=\"");
            out.push_str(api);
            out.push('"');
        }
        None => out.push_str("\" virtualEntity=\"true\""),
    }
    if entries.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    // PrestaShop links an entry only when the association is named after a Webservice
    // resource (WebserviceOutputBuilder::renderFlatAssociation checks
    // `wsResource[$assoc_name]`): products' `product_bundle` and `accessories` entries
    // have no xlink:href, as the real 8.1.2 store renders them.
    let id_pos = assoc
        .fields
        .iter()
        .position(|f| f.name == "id")
        .filter(|_| crate::resources::resource(assoc.name).is_some());
    for entry in entries {
        out.push_str("\t<");
        out.push_str(assoc.node);
        if let (Some(api), Some(p)) = (assoc.api, id_pos) {
            out.push_str(" xlink:href=\"");
            out.push_str(ctx.base);
            out.push_str("/api/");
            match &image_product {
                Some(product) => {
                    out.push_str("images/products/");
                    push_text(out, product);
                }
                None => out.push_str(api),
            }
            out.push('/');
            push_text(out, &entry[p]);
            out.push('"');
        }
        out.push_str(">\n");
        for (fi, field) in assoc.fields.iter().enumerate() {
            if !mask[fi] {
                continue;
            }
            let value = &entry[fi];
            out.push_str("\t<");
            out.push_str(field.name);
            if let Some(target) = field.xlink {
                out.push_str(" xlink:href=\"");
                out.push_str(ctx.base);
                out.push_str("/api/");
                out.push_str(target);
                out.push('/');
                push_text(out, value);
                out.push('"');
            }
            out.push('>');
            value_content(ctx, value, out);
            out.push_str("</");
            out.push_str(field.name);
            out.push_str(">\n");
        }
        out.push_str("\t</");
        out.push_str(assoc.node);
        out.push_str(">\n");
    }
    out.push_str("</");
    out.push_str(assoc.name);
    out.push_str(">\n");
}

/// `schema=blank` (every field empty, `id` included) or `schema=synopsis` (field
/// attributes: `notFilterable`, `required`, `maxSize`, `format`…; no `id`).
pub fn schema(ctx: &Ctx, kind: Schema, out: &mut String) {
    let r = ctx.resource;
    let synopsis = kind == Schema::Synopsis;
    open_line(out, r.singular);
    if !synopsis {
        out.push_str("\t<id><![CDATA[]]></id>\n");
    }
    for field in r.fields {
        out.push_str("\t<");
        out.push_str(field.name);
        if synopsis {
            if field.not_filterable {
                out.push_str(" notFilterable=\"true\"");
            }
            if !field.synopsis.is_empty() {
                out.push(' ');
                out.push_str(field.synopsis);
            }
        }
        out.push('>');
        if field.kind == Kind::Lang {
            for lang in ctx.languages {
                out.push_str("<language id=\"");
                out.push_str(&lang.id);
                out.push_str("\" xlink:href=\"");
                out.push_str(ctx.base);
                out.push_str("/api/languages/");
                out.push_str(&lang.id);
                out.push('"');
                if synopsis {
                    out.push_str(" format=\"isUnsignedId\" ");
                }
                out.push_str("><![CDATA[]]></language>");
            }
        } else {
            out.push_str("<![CDATA[]]>");
        }
        out.push_str("</");
        out.push_str(field.name);
        out.push_str(">\n");
    }
    if !r.associations.is_empty() {
        out.push_str("<associations>\n");
        for assoc in r.associations {
            out.push('<');
            out.push_str(assoc.name);
            if synopsis {
                out.push_str(" nodeType=\"");
                out.push_str(assoc.node);
                match assoc.api {
                    Some(api) => {
                        out.push_str("\" api=\"");
                        out.push_str(api);
                        out.push('"');
                    }
                    None => out.push_str("\" virtualEntity=\"true\""),
                }
            }
            out.push_str(">\n\t<");
            out.push_str(assoc.node);
            out.push_str(">\n");
            for field in assoc.fields {
                out.push_str("\t<");
                out.push_str(field.name);
                if synopsis {
                    if let Some(target) = field.xlink {
                        out.push_str(" xlink:href=\"");
                        out.push_str(ctx.base);
                        out.push_str("/api/");
                        out.push_str(target);
                        out.push_str("/\"");
                    }
                    if field.not_filterable {
                        out.push_str(" notFilterable=\"true\"");
                    }
                    if !field.synopsis.is_empty() {
                        out.push(' ');
                        out.push_str(field.synopsis);
                    }
                }
                out.push_str("><![CDATA[]]></");
                out.push_str(field.name);
                out.push_str(">\n");
            }
            out.push_str("\t</");
            out.push_str(assoc.node);
            out.push_str(">\n</");
            out.push_str(assoc.name);
            out.push_str(">\n");
        }
        out.push_str("</associations>\n");
    }
    close_line(out, r.singular);
}

/// PHP `empty()` of a value as rendered: `""`, `"0"`, `0`, NULL.
pub fn php_empty(value: &Value) -> bool {
    match value {
        Value::Int(n) => *n == 0,
        Value::Str(s) => s.is_empty() || s == "0",
        Value::Null => true,
        Value::Lang(_) => false,
    }
}

/// The text of a plain value, CDATA-safe.
fn push_text(out: &mut String, value: &Value) {
    match value {
        Value::Int(n) => push_int(out, *n),
        Value::Str(s) => out.push_str(&cdata_escape(s)),
        Value::Null => {}
        Value::Lang(v) => out.push_str(&cdata_escape(v.first().map_or("", String::as_str))),
    }
}

fn push_href(out: &mut String, base: &str, resource: &str, id: i64) {
    out.push_str(base);
    out.push_str("/api/");
    out.push_str(resource);
    out.push('/');
    push_int(out, id);
}

fn open_line(out: &mut String, name: &str) {
    out.push('<');
    out.push_str(name);
    out.push_str(">\n");
}

fn close_line(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push_str(">\n");
}

/// Escapes text for a double-quoted XML attribute (`htmlspecialchars`).
pub fn push_attr(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
}
