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
    name_operations(&mut doc);
    add_links(&mut doc);
    doc
}

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// Unique operation ids (`get-companies-companyId`): handlers of different areas share
/// function names, and an OpenAPI document needs each id once.
fn name_operations(doc: &mut Value) {
    let Some(Value::Object(paths)) = doc.get_mut("paths") else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        for method in METHODS {
            if let Some(op) = item.get_mut(method) {
                let slug: String = path
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .map(|s| s.trim_matches(|c| c == '{' || c == '}'))
                    .collect::<Vec<_>>()
                    .join("-");
                op["operationId"] = Value::String(format!("{method}-{slug}"));
            }
        }
    }
}

/// The path parameters of a path, in order.
fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// OpenAPI links from what creates a resource to what reads, changes or deletes it, so that
/// clients (and schemathesis' stateful tests) can follow ids from one answer to the next
/// request: `POST /companies` → `/companies/{companyId}…`, `POST …/connections` →
/// `…/connections/{connectionId}…`, `POST /webhooks` → `/webhooks/{webhookId}…`, and a
/// queued pull operation → its history entry.
fn add_links(doc: &mut Value) {
    let Some(Value::Object(paths)) = doc.get("paths") else {
        return;
    };
    let mut targets: Vec<(String, String, String)> = Vec::new();
    for (path, item) in paths {
        for method in METHODS {
            if let Some(id) = item
                .get(method)
                .and_then(|op| op.get("operationId"))
                .and_then(Value::as_str)
            {
                targets.push((path.clone(), method.to_string(), id.to_string()));
            }
        }
    }
    let creators: Vec<(String, String, &str)> = vec![
        ("/companies".into(), "201".into(), "post"),
        (
            "/companies/{companyId}/connections".into(),
            "201".into(),
            "post",
        ),
        ("/webhooks".into(), "201".into(), "post"),
    ];
    let mut added: Vec<(String, String, String, Value)> = Vec::new();
    for (base, status, method) in &creators {
        let known = path_params(base);
        for (path, _, id) in &targets {
            let Some(rest) = path
                .strip_prefix(base.as_str())
                .and_then(|r| r.strip_prefix('/'))
            else {
                continue;
            };
            let new: Vec<&str> = path_params(rest);
            let Some(first) = new.first() else { continue };
            if new.len() != 1 || !rest.starts_with(&format!("{{{first}}}")) {
                continue;
            }
            let mut parameters = Map::new();
            for k in &known {
                parameters.insert(k.to_string(), Value::String(format!("$request.path.{k}")));
            }
            parameters.insert(
                first.to_string(),
                Value::String("$response.body#/id".into()),
            );
            added.push((
                base.clone(),
                format!("{method}/{status}"),
                id.clone(),
                json!({"operationId": id, "parameters": parameters}),
            ));
        }
    }
    let queue = "/companies/{companyId}/data/queue/{dataType}";
    added.push((
        queue.to_string(),
        "post/200".to_string(),
        "get-companies-companyId-data-history-datasetId".to_string(),
        json!({"operationId": "get-companies-companyId-data-history-datasetId",
               "parameters": {"companyId": "$request.path.companyId", "datasetId": "$response.body#/id"}}),
    ));
    for (path, at, id, link) in added {
        let (method, status) = at.split_once('/').unwrap_or(("post", "201"));
        let pointer = format!(
            "/paths/{}/{method}/responses/{status}",
            path.replace('/', "~1")
        );
        if let Some(Value::Object(response)) = doc.pointer_mut(&pointer) {
            let links = response.entry("links").or_insert_with(|| json!({}));
            links[id] = link;
        }
    }
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
