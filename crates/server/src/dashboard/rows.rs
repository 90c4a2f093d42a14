//! The rows of the dashboard's record tables, read from stored commerce records: a
//! transaction (payment or refund), an order, a customer. Each gives its CSV fields as the
//! API has them (amounts and dates unformatted), so a download compares with the API.

use prestalink_store::StoredRecord;
use serde_json::Value;

use super::table::TableRow;

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// One row of the transactions table and of its CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionRow {
    /// The transaction's id (`payment-12`, `refund-3`).
    pub id: String,
    /// When it happened, in the shop's time (`sourceCreatedDate`).
    pub date: String,
    /// `Payment` or `Refund`.
    pub kind: String,
    /// Amount (negative for refunds).
    pub amount: f64,
    /// ISO 4217 currency.
    pub currency: String,
    /// Payment method or credit slip kind (`subType`).
    pub method: String,
    /// The order's reference (payments) or id (refunds).
    pub order: String,
    /// The order's id when known (refunds point to their order), for a link.
    pub order_id: Option<String>,
}

impl TableRow for TransactionRow {
    const CSV_HEADER: &'static [&'static str] = &[
        "id", "date", "type", "amount", "currency", "method", "order",
    ];

    fn of(record: &StoredRecord) -> TransactionRow {
        let d = &record.data;
        let source_is_order = d["transactionSourceRef"]["type"] == "Order";
        let order_id = source_is_order
            .then(|| d["transactionSourceRef"]["id"].as_str().map(str::to_string))
            .flatten();
        let order = match d["supplementalData"]["content"]["orderReference"].as_str() {
            Some(reference) => reference.to_string(),
            None => order_id.clone().unwrap_or_default(),
        };
        TransactionRow {
            id: record.id.clone(),
            date: text(&d["sourceCreatedDate"]),
            kind: text(&d["type"]),
            amount: d["totalAmount"].as_f64().unwrap_or(0.0),
            currency: text(&d["currency"]),
            method: text(&d["subType"]),
            order,
            order_id,
        }
    }

    fn csv_fields(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.date.clone(),
            self.kind.clone(),
            self.amount.to_string(),
            self.currency.clone(),
            self.method.clone(),
            self.order.clone(),
        ]
    }
}

/// One row of the orders table and of its CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderRow {
    /// The order's id.
    pub id: String,
    /// When it was placed (`createdDate`, with the shop's offset).
    pub date: String,
    /// PrestaShop's reference (`orderNumber`).
    pub number: String,
    /// The customer's name.
    pub customer: String,
    /// The customer's id, for a link to their orders.
    pub customer_id: Option<String>,
    /// ISO 3166 alpha-3 of the delivery country.
    pub country: String,
    /// The order's current state as the shop names it.
    pub state: String,
    /// Total paid, tax and shipping included.
    pub total: f64,
    /// Refunded (negative or 0).
    pub refunded: f64,
    /// ISO 4217 currency.
    pub currency: String,
    /// Lines.
    pub lines: usize,
}

impl TableRow for OrderRow {
    const CSV_HEADER: &'static [&'static str] = &[
        "id", "date", "number", "customer", "country", "status", "total", "refunded", "currency",
        "lines",
    ];

    fn of(record: &StoredRecord) -> OrderRow {
        let d = &record.data;
        OrderRow {
            id: record.id.clone(),
            date: text(&d["createdDate"]),
            number: text(&d["orderNumber"]),
            customer: text(&d["customerRef"]["name"]),
            customer_id: d["customerRef"]["id"].as_str().map(str::to_string),
            country: text(&d["country"]),
            state: text(&d["supplementalData"]["content"]["currentState"]["name"]),
            total: d["totalAmount"].as_f64().unwrap_or(0.0),
            refunded: d["totalRefund"].as_f64().unwrap_or(0.0),
            currency: text(&d["currency"]),
            lines: d["orderLineItems"].as_array().map_or(0, Vec::len),
        }
    }

    fn csv_fields(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.date.clone(),
            self.number.clone(),
            self.customer.clone(),
            self.country.clone(),
            self.state.clone(),
            self.total.to_string(),
            self.refunded.to_string(),
            self.currency.clone(),
            self.lines.to_string(),
        ]
    }
}

/// One row of the customers table and of its CSV.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRow {
    /// The customer's id.
    pub id: String,
    /// When the account was created (`createdDate`, with the shop's offset).
    pub date: String,
    /// "Firstname Lastname".
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Phone of the first address that has one.
    pub phone: String,
    /// City and postal code of the first address.
    pub city: String,
    /// Whether the customer checked out as a guest.
    pub guest: bool,
}

impl TableRow for CustomerRow {
    const CSV_HEADER: &'static [&'static str] =
        &["id", "date", "name", "email", "phone", "city", "guest"];

    fn of(record: &StoredRecord) -> CustomerRow {
        let d = &record.data;
        let first = &d["addresses"][0];
        let city = [text(&first["postalCode"]), text(&first["city"])]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        CustomerRow {
            id: record.id.clone(),
            date: text(&d["createdDate"]),
            name: text(&d["customerName"]),
            email: text(&d["emailAddress"]),
            phone: text(&d["phone"]),
            city,
            guest: d["supplementalData"]["content"]["isGuest"] == Value::Bool(true),
        }
    }

    fn csv_fields(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.date.clone(),
            self.name.clone(),
            self.email.clone(),
            self.phone.clone(),
            self.city.clone(),
            self.guest.to_string(),
        ]
    }
}
