//! The OpenAPI document, generated from the handlers' annotations and types (utoipa), with
//! the commerce records' JSON Schemas (generated from the model's types by schemars) added
//! as components and one concrete path per data type, so that it cannot drift from the code.

use std::sync::OnceLock;

use prestalink_commerce::{json_schema, DataType, Support};
use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "prestalink API", description = "A Codat-shaped Commerce API over PrestaShop stores read by prestalink. Authenticate with `Authorization: Basic <base64 of the API key>` (as Codat clients do) or `Authorization: Bearer <API key>`."),
    paths(
        routes::companies::create, routes::companies::list, routes::companies::get,
        routes::companies::replace, routes::companies::update, routes::companies::delete,
        routes::connections::create, routes::connections::list, routes::connections::get,
        routes::connections::update, routes::connections::delete,
        routes::data::list, routes::data::one, routes::data::raw,
        routes::sync::all, routes::sync::queue, routes::sync::status, routes::sync::history,
        routes::sync::dataset,
        routes::settings::get_profile, routes::settings::put_profile,
        routes::settings::get_profile_settings, routes::settings::set_profile_settings,
        routes::settings::get_company_settings, routes::settings::set_company_settings,
        routes::meta::healthz, routes::meta::metrics, routes::meta::openapi,
    ),
    modifiers(&Security),
    security(("basicAuth" = []), ("bearerAuth" = [])),
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basicAuth",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        components.add_security_scheme(
            "bearerAuth",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document, built once.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

fn build() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let mut webhooks = serde_json::to_value(crate::webhooks::ApiDoc::openapi()).unwrap_or_default();
    merge_paths(&mut doc, &mut webhooks);
    add_record_schemas(&mut doc);
    doc
}

/// Adds another document's paths and schemas (the webhooks').
fn merge_paths(doc: &mut Value, other: &mut Value) {
    for key in ["paths"] {
        if let (Some(Value::Object(into)), Some(Value::Object(from))) =
            (doc.get_mut(key), other.get_mut(key).map(Value::take))
        {
            into.extend(from);
        }
    }
    if let Some(Value::Object(from)) = other.pointer_mut("/components/schemas").map(Value::take) {
        if let Some(Value::Object(into)) = doc.pointer_mut("/components/schemas") {
            into.extend(from);
        }
    }
}

/// Schemars' `$defs` references, rewritten for OpenAPI's components.
fn rewrite_refs(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                if let Some(name) = r.strip_prefix("#/$defs/") {
                    *r = format!("#/components/schemas/{name}");
                }
            }
            map.values_mut().for_each(rewrite_refs);
        }
        Value::Array(list) => list.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// The records' schemas as components, and one path per list data type whose answer is a
/// page of that data type's records.
fn add_record_schemas(doc: &mut Value) {
    let mut schemas = Map::new();
    let generic = "/companies/{companyId}/connections/{connectionId}/data/{dataType}";
    let template = doc
        .pointer(&format!("/paths/{}", generic.replace('/', "~1")))
        .cloned();
    let mut concrete = Map::new();
    for dt in DataType::ALL {
        if dt.support() != Support::Supported {
            continue;
        }
        let mut schema = json_schema(dt);
        rewrite_refs(&mut schema);
        let mut root = schema.as_object().cloned().unwrap_or_default();
        if let Some(Value::Object(defs)) = root.remove("$defs") {
            schemas.extend(defs);
        }
        root.remove("$schema");
        let name = root
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or(dt.key())
            .to_string();
        schemas.insert(name.clone(), Value::Object(root));
        let record = json!({"$ref": format!("#/components/schemas/{name}")});
        let body = if dt == DataType::CompanyInfo {
            record
        } else {
            json!({
                "type": "object",
                "required": ["results", "pageNumber", "pageSize", "totalResults", "_links"],
                "properties": {
                    "results": {"type": "array", "items": record},
                    "pageNumber": {"type": "integer"},
                    "pageSize": {"type": "integer"},
                    "totalResults": {"type": "integer"},
                    "_links": {"$ref": "#/components/schemas/PageLinks"},
                }
            })
        };
        if let Some(mut item) = template.clone() {
            if let Some(get) = item.get_mut("get") {
                if let Some(Value::Array(params)) = get.get_mut("parameters") {
                    params.retain(|p| p.get("name").and_then(Value::as_str) != Some("dataType"));
                    if dt == DataType::CompanyInfo {
                        params.retain(|p| p.get("in").and_then(Value::as_str) != Some("query"));
                    }
                }
                get["operationId"] = Value::String(format!("get-{}", dt.key()));
                get["responses"]["200"] = json!({
                    "description": format!("{} records", dt.key()),
                    "content": {"application/json": {"schema": body}}
                });
            }
            concrete.insert(generic.replace("{dataType}", dt.key()), item);
        }
    }
    if let Some(Value::Object(paths)) = doc.get_mut("paths") {
        paths.extend(concrete);
    }
    if let Some(Value::Object(into)) = doc.pointer_mut("/components/schemas") {
        into.extend(schemas);
        into.insert(
            "PageLinks".to_string(),
            serde_json::to_value(utoipa::openapi::RefOr::T(
                <crate::links::PageLinks as utoipa::PartialSchema>::schema(),
            ))
            .unwrap_or_default(),
        );
    }
}
