//! Real stores are messy: deleted rows still referenced, combinations without option values,
//! orphan categories, empty and duplicate references, unknown states and modules, bad
//! numbers. Each case maps (with a warning) or is reported with its raw id, never stopping
//! the others. Records are written as PrestaShop JSON and decoded by the real decoder.

mod common;

use common::options;
use prestalink_commerce::{CommerceRecord, DataType, PaymentStatus, PaymentType};
use prestalink_mapping::{
    map_data_type, map_raw, Batch, MappingError, RecordSet, ReferenceData, Warning,
};
use prestalink_webservice::decode::{decode, DEFAULT_MAX_BODY_BYTES};
use prestalink_webservice::Format;

/// Adds the records of a PrestaShop JSON list body (`{"orders":[…]}`).
fn add(set: &mut RecordSet, resource: &str, json: &str) {
    let records = decode(json.as_bytes(), Format::Json, DEFAULT_MAX_BODY_BYTES)
        .expect("test JSON decodes")
        .into_records();
    set.extend(resource, records);
}

fn base_store() -> RecordSet {
    let mut set = RecordSet::new();
    add(
        &mut set,
        "configurations",
        r#"{"configurations":[
        {"id":1,"name":"PS_TIMEZONE","value":"Europe/Paris","id_shop":"","id_shop_group":""},
        {"id":2,"name":"PS_CURRENCY_DEFAULT","value":"1","id_shop":"","id_shop_group":""},
        {"id":3,"name":"PS_LANG_DEFAULT","value":"1","id_shop":"","id_shop_group":""},
        {"id":4,"name":"PS_SHOP_NAME","value":"Test shop","id_shop":"","id_shop_group":""}]}"#,
    );
    add(
        &mut set,
        "currencies",
        r#"{"currencies":[{"id":1,"iso_code":"EUR","precision":2}]}"#,
    );
    add(
        &mut set,
        "countries",
        r#"{"countries":[{"id":8,"iso_code":"FR","name":"France"}]}"#,
    );
    add(
        &mut set,
        "addresses",
        r#"{"addresses":[{"id":5,"id_customer":2,"id_country":8,"id_state":0,
        "address1":"1 rue de la Paix","city":"Paris","postcode":"75002","phone":"0102030405","deleted":"0"}]}"#,
    );
    add(
        &mut set,
        "order_states",
        r#"{"order_states":[{"id":2,"paid":"1","name":"Payment accepted","template":"payment"}]}"#,
    );
    add(
        &mut set,
        "customers",
        r#"{"customers":[{"id":2,"firstname":"Ada","lastname":"Lovelace",
        "email":"ada@example.com","passwd":"$2y$10$secret","secure_key":"b44a6d9efd7a","reset_password_token":"tok",
        "id_shop":1,"date_add":"2024-03-31 02:30:00","date_upd":"0000-00-00 00:00:00"}]}"#,
    );
    add(
        &mut set,
        "products",
        r#"{"products":[{"id":1,"name":"Mug","price":"10.000000","active":"1",
        "id_category_default":4,"associations":{"combinations":[{"id":7}]}}]}"#,
    );
    add(
        &mut set,
        "combinations",
        r#"{"combinations":[{"id":7,"id_product":1,"price":"1.500000","reference":"MUG-7"}]}"#,
    );
    add(
        &mut set,
        "categories",
        r#"{"categories":[{"id":1,"id_parent":0,"name":"Root"},
        {"id":2,"id_parent":1,"name":"Home"},{"id":4,"id_parent":3,"name":"Orphans"}]}"#,
    );
    set
}

fn order(id: u64, fields: &str) -> String {
    format!(
        r#"{{"id":{id},"id_currency":1,"id_customer":2,"id_address_delivery":5,"id_shop":1,"current_state":2,
        "module":"ps_checkpayment","payment":"Payment by check","reference":"REF{id}",
        "total_paid_tax_incl":"12.000000","total_paid_tax_excl":"10.000000",
        "date_add":"2024-10-27 02:30:00","date_upd":"2024-10-27 02:30:00",
        "associations":{{"order_rows":[{{"id":{id}0,"product_id":1,"product_attribute_id":7,"product_quantity":1,
        "product_name":"Mug - Colour : Blue","unit_price_tax_incl":"12.000000","unit_price_tax_excl":"10.000000"}}]}}
        {fields}}}"#
    )
}

fn map(set: &RecordSet, data_type: DataType) -> Batch {
    let opts = options();
    let refs = ReferenceData::build(set, &opts).unwrap();
    map_data_type(data_type, set, &refs, &opts).unwrap()
}

fn only_order(batch: &Batch) -> &prestalink_commerce::Order {
    match &batch.records[..] {
        [CommerceRecord::Order(o)] => o,
        other => panic!("expected one order, got {}", other.len()),
    }
}

#[test]
fn deleted_product_and_customer_still_map_with_warnings() {
    let mut set = base_store();
    let json = format!(
        r#"{{"orders":[{}]}}"#,
        order(1, "")
            .replace(r#""id_customer":2"#, r#""id_customer":99"#)
            .replace(r#""product_id":1"#, r#""product_id":55"#)
    );
    add(&mut set, "orders", &json);
    let batch = map(&set, DataType::Orders);
    let o = only_order(&batch);
    let line = &o.order_line_items[0];
    assert_eq!(line.product_ref.as_ref().unwrap().id, "55");
    assert_eq!(
        line.product_ref.as_ref().unwrap().name.as_deref(),
        Some("Mug - Colour : Blue")
    );
    assert_eq!(o.customer_ref.as_ref().unwrap().id, "99");
    let deleted: Vec<&str> = batch
        .warnings
        .iter()
        .filter_map(|(_, w)| match w {
            Warning::DeletedSource { field, .. } => Some(*field),
            _ => None,
        })
        .collect();
    assert_eq!(deleted, ["productRef", "customerRef"]);
}

#[test]
fn combination_without_option_values_is_named_after_its_product() {
    let batch = map(&base_store(), DataType::Products);
    let CommerceRecord::Product(p) = &batch.records[0] else {
        panic!()
    };
    assert_eq!(p.variants.len(), 1);
    assert_eq!(p.variants[0].id, "7");
    assert_eq!(p.variants[0].name.as_deref(), Some("Mug"));
    assert_eq!(p.variants[0].prices[0].unit_price.to_string(), "11.5");
    assert_eq!(p.variants[0].prices[0].currency.as_deref(), Some("EUR"));
    // Default category 4's parent 3 is missing: the path stops at the gap.
    assert_eq!(p.categorization.as_deref(), Some("Orphans"));
}

#[test]
fn category_with_missing_parent_is_reported() {
    let batch = map(&base_store(), DataType::ProductCategories);
    let orphan = batch
        .records
        .iter()
        .find_map(|r| match r {
            CommerceRecord::ProductCategory(c) if c.id == "4" => Some(c),
            _ => None,
        })
        .unwrap();
    assert!(orphan.ancestor_refs.is_empty());
    assert_eq!(orphan.supplemental_data.content["missingParentId"], "3");
    assert!(batch.warnings.iter().any(|(id, w)| id == "4"
        && matches!(w, Warning::DeletedSource { field: "ancestorRefs", id, .. } if id == "3")));
    let home = batch.records.iter().find(|r| r.id() == "2").unwrap();
    let CommerceRecord::ProductCategory(home) = home else {
        panic!()
    };
    assert!(home.ancestor_refs.is_empty(), "the root is not an ancestor");
}

#[test]
fn empty_references_unknown_state_and_unknown_module() {
    let mut set = base_store();
    let json = format!(
        r#"{{"orders":[{}]}}"#,
        order(1, "")
            .replace(r#""id_customer":2"#, r#""id_customer":0"#)
            .replace(r#""id_address_delivery":5"#, r#""id_address_delivery":0"#)
            .replace(r#""current_state":2"#, r#""current_state":77"#)
            .replace("ps_checkpayment", "xyzpay")
            .replace("Payment by check", "XyzPay")
    );
    add(&mut set, "orders", &json);
    add(
        &mut set,
        "order_payments",
        r#"{"order_payments":[{"id":3,"order_reference":"REF1","id_currency":1,
        "amount":"12.000000","payment_method":"XyzPay","date_add":"2024-10-27 02:31:00"}]}"#,
    );
    let batch = map(&set, DataType::Orders);
    let o = only_order(&batch);
    assert!(o.customer_ref.is_none());
    assert!(o.country.is_none());
    assert_eq!(o.payments[0].payment_type, PaymentType::Unknown);
    assert_eq!(o.payments[0].status, PaymentStatus::Unknown);
    assert!(
        o.service_charges.is_empty(),
        "no carrier and no shipping amount"
    );
    assert!(batch.warnings.iter().any(|(_, w)| matches!(
        w,
        Warning::Unresolved {
            field: "status",
            ..
        }
    )));

    let payments = map(&set, DataType::Payments);
    let CommerceRecord::Payment(p) = &payments.records[0] else {
        panic!()
    };
    assert_eq!(p.payment_method_ref.as_ref().unwrap().id, "xyzpay");
    let methods = map(&set, DataType::PaymentMethods);
    assert_eq!(
        methods.records.len(),
        1,
        "order module and payment name are one method"
    );
    assert_eq!(methods.records[0].id(), "xyzpay");
}

#[test]
fn split_orders_share_their_payment() {
    let mut set = base_store();
    let second = order(2, "").replace("REF2", "REF1");
    add(
        &mut set,
        "orders",
        &format!(r#"{{"orders":[{},{}]}}"#, order(1, ""), second),
    );
    add(
        &mut set,
        "order_payments",
        r#"{"order_payments":[{"id":3,"order_reference":"REF1","id_currency":1,
        "amount":"24.000000","payment_method":"Payment by check","date_add":"2024-10-27 02:31:00"}]}"#,
    );
    let orders = map(&set, DataType::Orders);
    for r in &orders.records {
        let CommerceRecord::Order(o) = r else {
            panic!()
        };
        assert_eq!(o.payments.len(), 1);
        assert_eq!(o.payments[0].status, PaymentStatus::Paid);
        assert_eq!(o.payments[0].payment_type, PaymentType::Custom);
    }
    let payments = map(&set, DataType::Payments);
    let CommerceRecord::Payment(p) = &payments.records[0] else {
        panic!()
    };
    assert_eq!(
        p.supplemental_data.content["orderIds"],
        serde_json::json!(["1", "2"])
    );
}

#[test]
fn a_bad_record_is_reported_with_its_raw_id_and_the_others_map() {
    let mut set = base_store();
    let bad = order(2, "").replace(
        r#""total_paid_tax_incl":"12.000000""#,
        r#""total_paid_tax_incl":"12,00""#,
    );
    add(
        &mut set,
        "orders",
        &format!(r#"{{"orders":[{},{}]}}"#, order(1, ""), bad),
    );
    let batch = map(&set, DataType::Orders);
    assert_eq!(batch.records.len(), 1);
    assert_eq!(batch.failures.len(), 1);
    assert_eq!(batch.failures[0].resource, "orders");
    assert_eq!(batch.failures[0].raw_id.as_deref(), Some("2"));
    assert!(
        batch.failures[0].reason.contains("total_paid_tax_incl"),
        "{}",
        batch.failures[0].reason
    );
}

#[test]
fn shop_local_dates_across_dst() {
    let mut set = base_store();
    add(
        &mut set,
        "orders",
        &format!(r#"{{"orders":[{}]}}"#, order(1, "")),
    );
    let o = map(&set, DataType::Orders);
    let o = only_order(&o);
    // 2024-10-27 02:30 happens twice in Paris: the first one (summer time).
    assert_eq!(
        o.created_date.unwrap().to_rfc3339(),
        "2024-10-27T02:30:00+02:00"
    );
    let customers = map(&set, DataType::Customers);
    let CommerceRecord::Customer(c) = &customers.records[0] else {
        panic!()
    };
    // 2024-03-31 02:30 does not exist in Paris: moved forward by the gap.
    assert_eq!(
        c.created_date.unwrap().to_rfc3339(),
        "2024-03-31T03:30:00+02:00"
    );
    // date_upd 0000-00-00 is null: sourceModifiedDate falls back to date_add.
    assert_eq!(c.source_modified_date, c.created_date);
}

#[test]
fn customer_secrets_are_dropped() {
    let set = base_store();
    let batch = map(&set, DataType::Customers);
    let text = batch.records[0].to_json_string();
    for secret in ["$2y$10$secret", "b44a6d9efd7a", "tok\""] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert!(text.contains("\"customerName\":\"Ada Lovelace\""));
    assert!(text.contains("\"phone\":\"0102030405\""));
    let raw = map_raw("customers", &set.records("customers")[0]).unwrap();
    let raw = serde_json::to_string(&raw).unwrap();
    assert!(
        !raw.contains("passwd")
            && !raw.contains("secure_key")
            && !raw.contains("reset_password_token")
    );
    assert!(raw.contains("Lovelace"));
}

#[test]
fn disputes_are_not_supported() {
    let opts = options();
    let set = base_store();
    let refs = ReferenceData::build(&set, &opts).unwrap();
    let result = map_data_type(DataType::Disputes, &set, &refs, &opts);
    assert!(matches!(
        result,
        Err(MappingError::NotSupported(DataType::Disputes))
    ));
}

#[test]
fn unknown_time_zone_is_an_error() {
    let mut set = RecordSet::new();
    add(
        &mut set,
        "configurations",
        r#"{"configurations":[{"id":1,"name":"PS_TIMEZONE","value":"Mars/Olympus"}]}"#,
    );
    assert!(matches!(
        ReferenceData::build(&set, &options()),
        Err(MappingError::UnknownTimeZone(z)) if z == "Mars/Olympus"
    ));
}

#[test]
fn rows_read_twice_count_once() {
    let mut set = base_store();
    let o = order(1, "");
    add(&mut set, "orders", &format!(r#"{{"orders":[{o},{o}]}}"#));
    let payment = r#"{"id":3,"order_reference":"REF1","id_currency":1,"amount":"12.000000",
        "payment_method":"Payment by check","date_add":"2024-10-27 02:31:00"}"#;
    add(
        &mut set,
        "order_payments",
        &format!(r#"{{"order_payments":[{payment},{payment}]}}"#),
    );
    let orders = map(&set, DataType::Orders);
    for r in &orders.records {
        let CommerceRecord::Order(o) = r else {
            panic!()
        };
        assert_eq!(o.payments.len(), 1, "one payment, read twice");
    }
    let payments = map(&set, DataType::Payments);
    let CommerceRecord::Payment(p) = &payments.records[0] else {
        panic!()
    };
    assert_eq!(
        p.supplemental_data.content["orderIds"],
        serde_json::json!(["1"])
    );
}
