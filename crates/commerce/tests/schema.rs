//! The generated JSON Schemas: valid, strict about enums and required fields, and agreeing
//! with what the types serialize.

use std::str::FromStr;

use chrono::{TimeZone, Utc};
use prestalink_commerce::{
    json_schema, Amount, CommerceRecord, DataType, Order, OrderLineItem, OrderPayment,
    PaymentStatus, PaymentType, RecordRef, ServiceCharge, ServiceChargeType, SupplementalData,
};
use serde_json::json;

fn validator(data_type: DataType) -> jsonschema::Validator {
    jsonschema::validator_for(&json_schema(data_type))
        .unwrap_or_else(|e| panic!("schema of {data_type} is not valid: {e}"))
}

fn sample_order() -> Order {
    let at = chrono::FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2024, 12, 1, 20, 41, 44)
        .unwrap();
    Order {
        id: "101".into(),
        order_number: Some("ZFAMMUPLU".into()),
        country: Some("FRA".into()),
        currency: Some("EUR".into()),
        created_date: Some(at),
        closed_date: None,
        total_amount: Amount::from_str("106.44").unwrap(),
        total_refund: Amount::ZERO,
        total_tax_amount: Amount::from_str("17.74").unwrap(),
        total_discount: Amount::ZERO,
        total_gratuity: Amount::ZERO,
        order_line_items: vec![OrderLineItem {
            id: "187".into(),
            quantity: Amount::from(1),
            tax_percentage: Some(Amount::from(20)),
            total_amount: Amount::from_str("37.08").unwrap(),
            total_tax_amount: Amount::from_str("6.18").unwrap(),
            unit_price: Amount::from_str("30.9").unwrap(),
            taxes: vec![],
            product_ref: Some(RecordRef {
                id: "226".into(),
                name: Some("Cushion".into()),
            }),
            product_variant_ref: None,
            discount_allocations: vec![],
            location_ref: None,
            supplemental_data: SupplementalData::default(),
        }],
        payments: vec![OrderPayment {
            id: "5".into(),
            amount: Amount::from_str("106.44").unwrap(),
            currency: Some("EUR".into()),
            payment_type: PaymentType::Custom,
            status: PaymentStatus::Paid,
            payment_provider: Some("ps_checkpayment".into()),
            due_date: None,
            created_date: Some(at),
            modified_date: Some(Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()),
            source_modified_date: Some(at),
        }],
        service_charges: vec![ServiceCharge {
            description: Some("My carrier".into()),
            total_amount: Amount::ZERO,
            tax_amount: Amount::ZERO,
            tax_percentage: Some(Amount::from(20)),
            taxes: vec![],
            quantity: Amount::from(1),
            charge_type: ServiceChargeType::Shipping,
        }],
        location_ref: None,
        customer_ref: Some(RecordRef {
            id: "880".into(),
            name: None,
        }),
        modified_date: None,
        source_modified_date: Some(at),
        supplemental_data: SupplementalData::default(),
    }
}

#[test]
fn every_schema_compiles_and_is_titled_after_its_record() {
    for t in DataType::ALL {
        let schema = json_schema(t);
        assert_eq!(schema["title"], t.record_name(), "{t}");
        validator(t);
    }
}

#[test]
fn a_serialized_order_validates_and_uses_exact_numbers() {
    let record = CommerceRecord::Order(Box::new(sample_order()));
    let text = record.to_json_string();
    assert!(text.contains("\"totalAmount\":106.44"), "{text}");
    assert!(
        text.contains("\"createdDate\":\"2024-12-01T20:41:44+01:00\""),
        "{text}"
    );
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let v = validator(DataType::Orders);
    assert!(
        v.is_valid(&value),
        "{:?}",
        v.iter_errors(&value)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    let back = CommerceRecord::from_json(DataType::Orders, &text).unwrap();
    assert_eq!(back, record);
}

#[test]
fn schema_rejects_wrong_enums_types_and_missing_fields() {
    let v = validator(DataType::Orders);
    let mut value: serde_json::Value =
        serde_json::from_str(&CommerceRecord::Order(Box::new(sample_order())).to_json_string())
            .unwrap();
    let good = value.clone();
    value["payments"][0]["status"] = json!("Refunded");
    assert!(!v.is_valid(&value), "unknown payment status");
    let mut value = good.clone();
    value["totalAmount"] = json!("106.44");
    assert!(!v.is_valid(&value), "amount as a string");
    let mut value = good.clone();
    value.as_object_mut().unwrap().remove("id");
    assert!(!v.is_valid(&value), "missing id");
    let mut value = good;
    value["serviceCharges"][0]["type"] = json!("Delivery");
    assert!(!v.is_valid(&value), "unknown service charge type");
}
