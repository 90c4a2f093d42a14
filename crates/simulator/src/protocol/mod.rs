//! The Webservice after authentication: resource and method checks, query parameters,
//! lists and single records, schemas and the root listing, rendered in XML or JSON exactly
//! as PrestaShop renders them. The HTTP server calls [`respond`] with an authenticated
//! [`ApiRequest`].
//!
//! Checks run in WebserviceRequest::fetch's order: shop context (`id_group_shop`,
//! `id_shop`), `language`, resource, method; then for lists `schema`, filters, `display`,
//! `sort`, `limit`.

pub mod display;
pub mod filter;
pub mod json;
pub mod listing;
pub mod params;
pub mod xml;

use crate::api::{ApiRequest, ApiResponse, Cost, Format, Method, Version};
use crate::errors::{error_response, PsError};
use crate::resources::{resource_for, resources_for};
use crate::schema::Resource;
use crate::store::{Row, Store, Table, Value};
use display::{Display, Selection};
use listing::{Plan, Schema};
use params::{all_languages, php_int, php_is_numeric, select_languages, Language, Params};

/// Where PrestaShop is installed on the simulated host (shown in PHP warning messages).
const INSTALL_DIR: &str = "/var/www/prestashop";

/// Answers an authenticated Webservice request from the store.
pub fn respond(store: &Store, req: &ApiRequest) -> ApiResponse {
    let params = Params::parse(req.params);
    let shops = match shop_context(store, &params) {
        Ok(shops) => shops,
        Err((status, error)) => return error_response(status, req.format, &[error]),
    };
    let languages = match params.language {
        Some(value) => match select_languages(value, &store.languages) {
            Ok(languages) => languages,
            Err(errors) => return error_response(400, req.format, &errors),
        },
        None => all_languages(&store.languages),
    };
    let name = match req.resource {
        None | Some("") => {
            return match check_method(req, None) {
                Err((status, e)) => error_response(status, req.format, &[e]),
                Ok(()) => root_listing(store, req),
            }
        }
        Some(name) => name,
    };
    let Some(resource) = resource_for(req.version, name) else {
        let names: Vec<&str> = resources_for(req.version).map(|r| r.name).collect();
        let label = format!("Resource of type \"{name}\" does not exists");
        let error = listing::did_you_mean(&label, name, &names, 27);
        return error_response(400, req.format, &[error]);
    };
    if !req.permissions.allows(name) {
        let error = PsError::new(
            26,
            format!("Resource of type \"{name}\" is not allowed with this authentication key"),
        );
        return error_response(401, req.format, &[error]);
    }
    if let Err((status, e)) = check_method(req, Some(resource)) {
        return error_response(status, req.format, &[e]);
    }
    if !matches!(req.method, Method::Get | Method::Head) {
        // The simulator's store is read-only: writes are refused as a forbidden method.
        let error = PsError::new(
            101,
            format!(
                "Method {} is not allowed for the resource {name}",
                req.method.as_str()
            ),
        );
        return error_response(405, req.format, &[error]);
    }
    let empty = Table::new(resource);
    let table = store.table(name).unwrap_or(&empty);
    let scope = Scope {
        req,
        resource,
        languages: &languages,
        shops: &shops,
        shop_field: matches!(name, "orders" | "customers" | "carts")
            .then(|| resource.field_index("id_shop"))
            .flatten(),
    };
    match req.id {
        Some(id) if !id.is_empty() => scope.single(table, id, &params),
        _ => scope.list(table, &params),
    }
}

/// One request's context once the checks passed.
struct Scope<'a> {
    req: &'a ApiRequest<'a>,
    resource: &'static Resource,
    languages: &'a [Language],
    shops: &'a [u32],
    /// `id_shop` of resources whose rows belong to one shop (orders, customers, carts).
    shop_field: Option<usize>,
}

impl Scope<'_> {
    /// `GET /api/<resource>/<id>`.
    fn single(&self, table: &Table, id: &str, params: &Params) -> ApiResponse {
        let id = php_int(id);
        let row = u64::try_from(id).ok().and_then(|id| table.rows.get(&id));
        let Some(row) = row else {
            return ApiResponse {
                status: 404,
                content_type: None,
                body: Vec::new(),
                cost: Cost::default(),
            };
        };
        if !self.visible(row) {
            let error = PsError::new(
                131,
                format!(
                    "This {} ({id}) does not exists on this shop",
                    class_name(self.resource.name)
                ),
            );
            return error_response(404, self.req.format, &[error]);
        }
        let sel = if params.has_display_key {
            match params.display.map(|d| Display::parse(d, self.resource)) {
                Some(Ok(Display::Fields(sel))) => sel,
                Some(Err(e)) => return error_response(400, self.req.format, &[e]),
                _ => id_only(self.resource),
            }
        } else {
            Selection::full(self.resource)
        };
        let mut out = String::with_capacity(4096);
        match self.req.format {
            Format::Xml => {
                out.push_str(xml::HEADER);
                xml::record(&self.xml_ctx(), row, &sel, &mut out);
                out.push_str(xml::FOOTER);
            }
            Format::Json if params.has_display_key => {
                json::list_records(&self.json_ctx(), &[row], &sel, &mut out)
            }
            Format::Json => json::single(&self.json_ctx(), row, &sel, &mut out),
        }
        self.ok(out, 1, true)
    }

    /// `GET /api/<resource>` with its query.
    fn list(&self, table: &Table, params: &Params) -> ApiResponse {
        let plan = match listing::plan(self.resource, params) {
            Ok(plan) => plan,
            Err(error) => {
                // manageFilters returned false: PHP then reads `$filters['sql_…']` on it.
                let mut errors = vec![error];
                errors.extend((1333..=1336).map(|line| {
                    PsError::new(
                        3,
                        format!(
                            "[PHP Warning #2] Trying to access array offset on value of type bool ({INSTALL_DIR}/classes/webservice/WebserviceRequest.php, line {line})"
                        ),
                    )
                }));
                return error_response(500, self.req.format, &errors);
            }
        };
        let plan = match plan {
            Plan::Schema(kind) => return self.schema(kind),
            Plan::List(plan) => plan,
        };
        let rows = if is_specific_management(self.resource) {
            Vec::new()
        } else {
            listing::select(table, &plan, self.languages, |row| self.visible(row))
        };
        let sel = listing::selection(&plan.display);
        let per_row = if sel.is_some() {
            80 * (self.resource.fields.len() + 2)
        } else {
            64 + self.req.base_url.len()
        };
        let mut out = String::with_capacity(256 + rows.len() * per_row);
        match (self.req.format, sel) {
            (Format::Xml, None) => {
                out.push_str(xml::HEADER);
                xml::list_minimal(&self.xml_ctx(), &rows, &mut out);
                out.push_str(xml::FOOTER);
            }
            (Format::Xml, Some(sel)) => {
                out.push_str(xml::HEADER);
                xml::list_records(&self.xml_ctx(), &rows, sel, &mut out);
                out.push_str(xml::FOOTER);
            }
            (Format::Json, None) => json::list_minimal(&self.json_ctx(), &rows, &mut out),
            (Format::Json, Some(sel)) => json::list_records(&self.json_ctx(), &rows, sel, &mut out),
        }
        self.ok(out, rows.len(), sel.is_some())
    }

    fn schema(&self, kind: Schema) -> ApiResponse {
        let mut out = String::with_capacity(8192);
        match self.req.format {
            Format::Xml => {
                out.push_str(xml::HEADER);
                xml::schema(&self.xml_ctx(), kind, &mut out);
                out.push_str(xml::FOOTER);
            }
            Format::Json => json::schema(&self.json_ctx(), kind, &mut out),
        }
        self.ok(out, 0, false)
    }

    /// Whether a row is visible in the shop context: rows associated with shops must share
    /// one with it; orders, customers and carts belong to the shop in their `id_shop`.
    fn visible(&self, row: &Row) -> bool {
        if !row.shops.is_empty() {
            return row.shops.iter().any(|s| self.shops.contains(s));
        }
        if let Some(i) = self.shop_field {
            if let Value::Int(n) = row.values[i] {
                return n == 0 || self.shops.iter().any(|&s| i64::from(s) == n);
            }
        }
        true
    }

    fn xml_ctx(&self) -> xml::Ctx<'_> {
        xml::Ctx {
            base: self.req.base_url,
            resource: self.resource,
            languages: self.languages,
        }
    }

    fn json_ctx(&self) -> json::Ctx<'_> {
        json::Ctx {
            resource: self.resource,
            languages: self.languages,
            version: self.req.version,
        }
    }

    fn ok(&self, body: String, records: usize, full: bool) -> ApiResponse {
        ApiResponse {
            status: 200,
            content_type: Some(self.req.format.content_type()),
            body: body.into_bytes(),
            cost: Cost { records, full },
        }
    }
}

/// A selection of the id alone (`display=minimum` on a single record).
fn id_only(resource: &Resource) -> Selection {
    Selection {
        id: true,
        fields: vec![false; resource.fields.len()],
        assocs: vec![None; resource.associations.len()],
    }
}

/// WebserviceRequest::checkHTTPMethod: unknown method (23), forbidden for the resource
/// (101), not granted to the key (25). PATCH exists from 8.0 on.
fn check_method(req: &ApiRequest, resource: Option<&Resource>) -> Result<(), (u16, PsError)> {
    let method = req.method.as_str();
    if req.method == Method::Patch && req.version < Version::V8_1_2 {
        return Err((
            405,
            PsError::new(23, format!("Method {method} is not valid")),
        ));
    }
    let Some(resource) = resource else {
        return Ok(());
    };
    if forbidden_methods(resource.name).contains(&req.method) {
        let message = format!(
            "Method {method} is not allowed for the resource {}",
            resource.name
        );
        return Err((405, PsError::new(101, message)));
    }
    if !req.permissions.allows_method(resource.name, req.method) {
        let message = format!(
            "Method {method} is not allowed for the resource {} with this authentication key",
            resource.name
        );
        return Err((405, PsError::new(25, message)));
    }
    Ok(())
}

/// `forbidden_method` of WebserviceRequest::getResources.
fn forbidden_methods(resource: &str) -> &'static [Method] {
    const READ_ONLY: &[Method] = &[Method::Put, Method::Post, Method::Delete];
    match resource {
        "search"
        | "stock_movements"
        | "stocks"
        | "warehouse_product_locations"
        | "supply_orders"
        | "supply_order_details"
        | "supply_order_states"
        | "supply_order_histories"
        | "supply_order_receipt_histories" => READ_ONLY,
        "warehouses" => &[Method::Delete],
        "stock_availables" => &[Method::Post, Method::Delete],
        _ => &[],
    }
}

/// Resources PrestaShop serves through a specific management class (no ObjectModel list).
fn is_specific_management(resource: &Resource) -> bool {
    matches!(resource.name, "images" | "search" | "attachments")
}

/// The ObjectModel class behind a resource, as named in error 131.
fn class_name(resource: &str) -> &'static str {
    match resource {
        "addresses" => "Address",
        "carriers" => "Carrier",
        "carts" => "Cart",
        "cart_rules" => "CartRule",
        "categories" => "Category",
        "combinations" => "Combination",
        "configurations" => "Configuration",
        "contacts" => "Contact",
        "content_management_system" => "CMS",
        "countries" => "Country",
        "currencies" => "Currency",
        "customers" => "Customer",
        "customer_threads" => "CustomerThread",
        "customer_messages" => "CustomerMessage",
        "customizations" => "Customization",
        "deliveries" => "Delivery",
        "employees" => "Employee",
        "groups" => "Group",
        "guests" => "Guest",
        "image_types" => "ImageType",
        "languages" => "Language",
        "manufacturers" => "Manufacturer",
        "messages" => "Message",
        "order_carriers" => "OrderCarrier",
        "order_cart_rules" => "OrderCartRule",
        "order_details" => "OrderDetail",
        "order_histories" => "OrderHistory",
        "order_invoices" => "OrderInvoice",
        "order_payments" => "OrderPayment",
        "order_returns" => "OrderReturn",
        "order_slip" => "OrderSlip",
        "order_states" => "OrderState",
        "orders" => "Order",
        "price_ranges" => "RangePrice",
        "product_customization_fields" => "CustomizationField",
        "product_features" => "Feature",
        "product_feature_values" => "FeatureValue",
        "product_options" => "AttributeGroup",
        "product_option_values" => "Attribute",
        "product_suppliers" => "ProductSupplier",
        "products" => "Product",
        "shop_groups" => "ShopGroup",
        "shop_urls" => "ShopUrl",
        "shops" => "Shop",
        "specific_price_rules" => "SpecificPriceRule",
        "specific_prices" => "SpecificPrice",
        "states" => "State",
        "stock_availables" => "StockAvailable",
        "stock_movement_reasons" => "StockMvtReason",
        "stock_movements" => "StockMvtWS",
        "stocks" => "Stock",
        "stores" => "Store",
        "suppliers" => "Supplier",
        "tags" => "Tag",
        "tax_rule_groups" => "TaxRulesGroup",
        "tax_rules" => "TaxRule",
        "taxes" => "Tax",
        "translated_configurations" => "TranslatedConfiguration",
        "warehouses" => "Warehouse",
        "weight_ranges" => "RangeWeight",
        "zones" => "Zone",
        _ => "ObjectModel",
    }
}

/// webserviceChecks' shop part: `id_group_shop` (500/999 when the group has no shop),
/// `id_shop` (a number, `all`, else 404/999), then the key's shop right (403/132; the
/// simulated key is associated with every shop of the store).
fn shop_context(store: &Store, params: &Params) -> Result<Vec<u32>, (u16, PsError)> {
    let all: Vec<u32> = if store.shops.is_empty() {
        vec![1]
    } else {
        store.shops.clone()
    };
    let mut ids: Vec<i64> = Vec::new();
    if let Some(group) = params.id_group_shop.filter(|g| php_is_numeric(g)) {
        let group = php_int(group);
        ids = shops_of_group(store, group, &all);
        if ids.is_empty() {
            let error = PsError::new(999, "This group shop doesn't have shops");
            return Err((500, error));
        }
    }
    if ids.is_empty() {
        ids = match params.id_shop {
            Some("all") => all.iter().map(|&s| i64::from(s)).collect(),
            Some(s) if php_is_numeric(s) => vec![php_int(s)],
            Some(_) => {
                let error = PsError::new(999, "This shop id does not exist");
                return Err((404, error));
            }
            None => vec![i64::from(all[0])],
        };
    }
    let granted: Vec<u32> = all
        .iter()
        .copied()
        .filter(|&s| ids.contains(&i64::from(s)))
        .collect();
    if granted.is_empty() {
        let error = PsError::new(132, "No permission for this key on this shop");
        return Err((403, error));
    }
    Ok(granted)
}

/// Active shops of a shop group, from the `shops` table (`id_shop_group`); without that
/// table every shop is in group 1.
fn shops_of_group(store: &Store, group: i64, all: &[u32]) -> Vec<i64> {
    let Some(table) = store.table("shops") else {
        return if group == 1 {
            all.iter().map(|&s| i64::from(s)).collect()
        } else {
            Vec::new()
        };
    };
    let Some(gi) = table.resource.field_index("id_shop_group") else {
        return Vec::new();
    };
    table
        .rows
        .values()
        .filter(|row| row.values[gi].as_int() == Some(group))
        .filter_map(|row| i64::try_from(row.id).ok())
        .collect()
}

/// `GET /api/`: the resources the key may use with its permissions (XML); in JSON a 500
/// with an empty body from 8.0 on (PHP TypeError), a list of names on 1.7.8.
fn root_listing(store: &Store, req: &ApiRequest) -> ApiResponse {
    let allowed = resources_for(req.version).filter(|r| req.permissions.allows(r.name));
    if req.format == Format::Json {
        if req.version >= Version::V8_1_2 {
            return ApiResponse {
                status: 500,
                content_type: Some("text/html; charset=utf-8"),
                body: Vec::new(),
                cost: Cost::default(),
            };
        }
        let mut out = String::new();
        json::root_names(allowed.map(|r| r.name), &mut out);
        return ApiResponse {
            status: 200,
            content_type: Some(Format::Json.content_type()),
            body: out.into_bytes(),
            cost: Cost::default(),
        };
    }
    let mut out = String::with_capacity(40_000);
    out.push_str(xml::HEADER);
    out.push_str("<api shopName=\"");
    xml::push_attr(&mut out, &store.shop_name);
    out.push_str("\">\n");
    for r in allowed {
        let mut attrs = String::new();
        let flag = |m: Method| {
            if req.permissions.allows_method(r.name, m) {
                "true"
            } else {
                "false"
            }
        };
        attrs.push_str(" get=\"");
        attrs.push_str(flag(Method::Get));
        attrs.push_str("\" put=\"");
        attrs.push_str(flag(Method::Put));
        attrs.push_str("\" post=\"");
        attrs.push_str(flag(Method::Post));
        if req.version >= Version::V8_1_2 {
            attrs.push_str("\" patch=\"");
            attrs.push_str(flag(Method::Patch));
        }
        attrs.push_str("\" delete=\"");
        attrs.push_str(flag(Method::Delete));
        attrs.push_str("\" head=\"");
        attrs.push_str(flag(Method::Head));
        attrs.push('"');
        let href = format!("{}/api/{}", req.base_url, r.name);
        out.push_str(&format!("<{} xlink:href=\"{href}\"{attrs}>\n", r.name));
        out.push_str(&format!(
            "<description xlink:href=\"{href}\"{attrs}>\n{}</description>\n",
            r.description
        ));
        if r.has_schema {
            out.push_str(&format!(
                "<schema xlink:href=\"{href}?schema=blank\" type=\"blank\"/>\n<schema xlink:href=\"{href}?schema=synopsis\" type=\"synopsis\"/>\n"
            ));
        }
        out.push_str(&format!("</{}>\n", r.name));
    }
    out.push_str("</api>\n");
    out.push_str(xml::FOOTER);
    ApiResponse {
        status: 200,
        content_type: Some(Format::Xml.content_type()),
        body: out.into_bytes(),
        cost: Cost::default(),
    }
}

/// Appends a decimal integer without going through `fmt`.
pub(crate) fn push_int(out: &mut String, n: i64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if n < 0 {
        out.push('-');
    }
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or("0"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::Permissions;
    use crate::resources::resource;
    use std::collections::BTreeMap;

    /// Two orders in shop 1 and one in shop 2, a product with two languages.
    fn store() -> Store {
        let orders = resource("orders").unwrap();
        let products = resource("products").unwrap();
        let mut t = Table::new(orders);
        for (id, shop, note) in [(1, 1, "a/b"), (2, 1, ""), (3, 2, "x")] {
            let mut row = Row::empty(orders, id, 2);
            row.set(orders, "id_shop", Value::Int(shop));
            row.set(orders, "note", Value::str(note));
            row.set(orders, "reference", Value::str(format!("REF{id}")));
            t.rows.insert(id, row);
        }
        let mut p = Table::new(products);
        let mut row = Row::empty(products, 7, 2);
        row.set(
            products,
            "name",
            Value::Lang(vec!["Mug".into(), "Tasse".into()]),
        );
        p.rows.insert(7, row);
        let mut tables = BTreeMap::new();
        tables.insert("orders", t);
        tables.insert("products", p);
        Store {
            languages: vec![1, 2],
            shops: vec![1, 2],
            shop_name: "Shop & Co".into(),
            timezone: "Europe/Paris".into(),
            tables,
        }
    }

    fn ask(
        version: Version,
        method: Method,
        resource: Option<&str>,
        id: Option<&str>,
        query: &[(&str, &str)],
        format: Format,
    ) -> ApiResponse {
        let params: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let permissions = Permissions::default();
        let req = ApiRequest {
            method,
            resource,
            id,
            params: &params,
            format,
            base_url: "http://shop.test",
            version,
            permissions: &permissions,
        };
        respond(&store(), &req)
    }

    fn get(
        resource: &str,
        id: Option<&str>,
        query: &[(&str, &str)],
        format: Format,
    ) -> ApiResponse {
        ask(
            Version::V8_1_2,
            Method::Get,
            Some(resource),
            id,
            query,
            format,
        )
    }

    fn body(r: &ApiResponse) -> String {
        String::from_utf8(r.body.clone()).unwrap()
    }

    #[test]
    fn shop_context() {
        let all = get("orders", None, &[("id_shop", "all")], Format::Json);
        assert_eq!(body(&all), r#"{"orders":[{"id":1},{"id":2},{"id":3}]}"#);
        let default = get("orders", None, &[], Format::Json);
        assert_eq!(body(&default), r#"{"orders":[{"id":1},{"id":2}]}"#);
        let two = get("orders", None, &[("id_shop", "2")], Format::Json);
        assert_eq!(body(&two), r#"{"orders":[{"id":3}]}"#);
        let bad = get("orders", None, &[("id_shop", "x")], Format::Json);
        assert_eq!(bad.status, 404);
        assert!(body(&bad).contains(r#""code":999,"message":"This shop id does not exist""#));
        let unknown = get("orders", None, &[("id_shop", "9")], Format::Json);
        assert_eq!(unknown.status, 403);
        assert!(body(&unknown).contains(r#""code":132"#));
        let other_shop = get("orders", Some("3"), &[], Format::Json);
        assert_eq!(other_shop.status, 404);
        assert!(body(&other_shop).contains("This Order (3) does not exists on this shop"));
    }

    #[test]
    fn single_records_by_version() {
        let v8 = get("orders", Some("2"), &[], Format::Json);
        assert!(!body(&v8).contains("\"note\""), "8.x drops falsy fields");
        let v17 = ask(
            Version::V1_7_8,
            Method::Get,
            Some("orders"),
            Some("2"),
            &[],
            Format::Json,
        );
        assert!(body(&v17).contains(r#""note":"""#), "1.7.8 keeps them");
        let listed = get(
            "orders",
            Some("1"),
            &[("display", "[id,note]")],
            Format::Json,
        );
        assert_eq!(body(&listed), r#"{"orders":[{"id":1,"note":"a\/b"}]}"#);
        let php_int = get("orders", Some("1abc"), &[("display", "[id]")], Format::Json);
        assert_eq!(body(&php_int), r#"{"orders":[{"id":1}]}"#);
        let missing = get("orders", Some("abc"), &[], Format::Xml);
        assert_eq!(
            (missing.status, missing.content_type, missing.body.len()),
            (404, None, 0)
        );
    }

    #[test]
    fn languages() {
        let one = get(
            "products",
            None,
            &[("display", "[name]"), ("language", "2")],
            Format::Json,
        );
        assert_eq!(body(&one), r#"{"products":[{"name":"Tasse"}]}"#);
        let listed = get(
            "products",
            None,
            &[("display", "[name]"), ("language", "[1|2]")],
            Format::Json,
        );
        assert_eq!(
            body(&listed),
            r#"{"products":[{"name":[{"id":"1","value":"Mug"},{"id":"2","value":"Tasse"}]}]}"#
        );
        let both = get("products", None, &[("display", "[name]")], Format::Json);
        assert!(body(&both).contains(r#"[{"id":1,"value":"Mug"},{"id":2,"value":"Tasse"}]"#));
        let filtered = get(
            "products",
            None,
            &[("filter[name]", "[tasse]")],
            Format::Json,
        );
        assert_eq!(body(&filtered), r#"{"products":[{"id":7}]}"#);
        let none = get("products", None, &[("language", "9")], Format::Xml);
        assert_eq!(none.status, 400);
        assert!(body(&none).contains("language is not available"));
        let xml = get("products", Some("7"), &[("language", "1")], Format::Xml);
        assert!(body(&xml).contains(
            r#"<name><language id="1" xlink:href="http://shop.test/api/languages/1"><![CDATA[Mug]]></language></name>"#
        ));
    }

    #[test]
    fn methods_and_root() {
        let patch = ask(
            Version::V1_7_8,
            Method::Patch,
            Some("orders"),
            Some("1"),
            &[],
            Format::Json,
        );
        assert_eq!(patch.status, 405);
        assert!(body(&patch).contains("Method PATCH is not valid"));
        let patch8 = ask(
            Version::V8_1_2,
            Method::Patch,
            Some("orders"),
            Some("1"),
            &[],
            Format::Json,
        );
        assert!(body(&patch8).contains(r#""code":25"#));
        let forbidden = ask(
            Version::V8_1_2,
            Method::Delete,
            Some("stock_availables"),
            None,
            &[],
            Format::Json,
        );
        assert!(body(&forbidden).contains(r#""code":101"#));
        let root8 = ask(Version::V8_1_2, Method::Get, None, None, &[], Format::Json);
        assert_eq!((root8.status, root8.body.len()), (500, 0));
        let root17 = ask(Version::V1_7_8, Method::Get, None, None, &[], Format::Json);
        assert!(body(&root17).starts_with(r#"["addresses","attachments","carriers""#));
        let xml17 = ask(Version::V1_7_8, Method::Get, None, None, &[], Format::Xml);
        assert!(!body(&xml17).contains("patch="));
        assert!(body(&xml17).contains(r#"<api shopName="Shop &amp; Co">"#));
        let xml9 = body(&ask(
            Version::V9_0,
            Method::Get,
            None,
            None,
            &[],
            Format::Xml,
        ));
        assert!(xml9.contains("<order_returns ") && !xml9.contains("<supply_orders "));
        let head = ask(
            Version::V8_1_2,
            Method::Head,
            Some("orders"),
            None,
            &[],
            Format::Xml,
        );
        assert_eq!(head.body, get("orders", None, &[], Format::Xml).body);
    }

    #[test]
    fn cost_counts_rendered_records() {
        let full = get("orders", None, &[("display", "full")], Format::Xml);
        assert_eq!(
            full.cost,
            Cost {
                records: 2,
                full: true
            }
        );
        let ids = get("orders", None, &[("limit", "1")], Format::Json);
        assert_eq!(
            ids.cost,
            Cost {
                records: 1,
                full: false
            }
        );
    }
}
