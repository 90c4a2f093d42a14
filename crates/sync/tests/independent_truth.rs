//! A ground truth computed without the mapping: the orders and customers a sync stores are
//! checked against the simulator's own rows, read field by field here (no `map_data_type`,
//! no decoder), so that a mistake shared by the mapping and the testkit's ground truth
//! (which maps with the same function it checks) cannot pass unseen.

use std::collections::{BTreeMap, BTreeSet};

use prestalink_pacing::{Caps, Pace};
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_simulator::store::{Row, Store as SimStore, Table};
use prestalink_sync::{sync_store, SyncOptions, SyncRequest};
use prestalink_testkit::{synced, TestDb};
use prestalink_webservice::diagnose::DiagnoseOptions;
use serde_json::Value;

fn field(table: &Table, row: &Row, name: &str) -> String {
    row.get(table.resource, name)
        .map(|v| v.as_text().into_owned())
        .unwrap_or_default()
}

fn table<'a>(store: &'a SimStore, name: &str) -> &'a Table {
    store
        .table(name)
        .unwrap_or_else(|| panic!("the simulator has {name}"))
}

fn number(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) => s.parse().unwrap(),
        other => panic!("not an amount: {other}"),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.005
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_and_customers_equal_the_shops_own_rows() {
    let sim = Simulator::start(SimulatorConfig {
        gen: GenConfig {
            seed: 41,
            languages: 2,
            orders: 300,
            customers: 80,
            products: 25,
            ..GenConfig::default()
        },
        ..SimulatorConfig::default()
    })
    .await
    .unwrap();
    let db = TestDb::sqlite().await.unwrap();
    let request = SyncRequest {
        url: sim.base_url(),
        key: sim.key().to_string(),
        diagnose: DiagnoseOptions::default(),
        options: SyncOptions::default(),
        pace: Pace::Max,
        caps: Caps::default(),
    };
    let report = sync_store(&db.store, &request, None).await.unwrap().report;
    let stored = synced(&db.store, &report.connection_id).await.unwrap();
    let orders = &stored["commerce-orders"];
    let customers = &stored["commerce-customers"];

    let shared = sim.store();
    // The read guard lives in this block only: clippy's await_holding_lock does not see
    // an explicit drop() before the awaits below.
    {
        let shop = shared.read().unwrap();
        let currencies: BTreeMap<String, String> = {
            let t = table(&shop, "currencies");
            t.rows
                .values()
                .map(|r| (r.id.to_string(), field(t, r, "iso_code")))
                .collect()
        };
        // Order lines by order, straight from order_details.
        let mut lines: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        let details = table(&shop, "order_details");
        for row in details.rows.values() {
            lines
                .entry(field(details, row, "id_order"))
                .or_default()
                .push(field(details, row, "product_quantity").parse().unwrap());
        }

        let t = table(&shop, "orders");
        let ids: BTreeSet<String> = t.rows.keys().map(u64::to_string).collect();
        assert_eq!(
            orders.keys().cloned().collect::<BTreeSet<_>>(),
            ids,
            "every order of the shop, and nothing else"
        );
        assert!(ids.len() >= 300, "{} orders", ids.len());
        for row in t.rows.values() {
            let id = row.id.to_string();
            let order = &orders[&id];
            assert_eq!(
                order["orderNumber"],
                field(t, row, "reference").as_str(),
                "order {id}"
            );
            assert_eq!(
                order["currency"].as_str(),
                currencies
                    .get(&field(t, row, "id_currency"))
                    .map(String::as_str),
                "order {id}"
            );
            let total: f64 = field(t, row, "total_paid_tax_incl").parse().unwrap();
            assert!(
                close(number(&order["totalAmount"]), total),
                "order {id}: {} against {total}",
                order["totalAmount"]
            );
            assert_eq!(
                order["customerRef"]["id"],
                field(t, row, "id_customer").as_str(),
                "order {id}"
            );
            // Shop-local time as the shop wrote it, with its offset after.
            let created = field(t, row, "date_add").replace(' ', "T");
            assert!(
                order["createdDate"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with(&created),
                "order {id}: created {} against {created}",
                order["createdDate"]
            );
            let expected: Vec<f64> = lines.get(&id).cloned().unwrap_or_default();
            let stored_lines = order["orderLineItems"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let quantities: Vec<f64> = stored_lines
                .iter()
                .map(|l| number(&l["quantity"]))
                .collect();
            let (mut a, mut b) = (quantities.clone(), expected.clone());
            a.sort_by(f64::total_cmp);
            b.sort_by(f64::total_cmp);
            assert_eq!(a, b, "order {id}: line quantities");
        }

        let t = table(&shop, "customers");
        assert_eq!(
            customers.keys().cloned().collect::<BTreeSet<_>>(),
            t.rows.keys().map(u64::to_string).collect::<BTreeSet<_>>(),
            "every customer"
        );
        for row in t.rows.values() {
            let id = row.id.to_string();
            let customer = &customers[&id];
            assert_eq!(
                customer["emailAddress"],
                field(t, row, "email").as_str(),
                "customer {id}"
            );
            let name = format!(
                "{} {}",
                field(t, row, "firstname"),
                field(t, row, "lastname")
            );
            assert_eq!(customer["customerName"], name.as_str(), "customer {id}");
        }
    }
    db.cleanup().await.unwrap();
    sim.shutdown().await;
}
