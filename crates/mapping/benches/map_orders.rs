//! Mapping throughput on a generated 10,000-order store: orders mapped per second on one
//! core (criterion), and heap allocations per order (counted by a wrapping allocator).
//!
//! Run with `cargo bench -p prestalink-mapping --bench map_orders`. The store is generated
//! by the simulator, rendered as JSON `display=full` lists and decoded by the webservice
//! decoder once, before timing: only the mapping is measured.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use chrono::{TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use prestalink_commerce::DataType;
use prestalink_mapping::{map_data_type, MapOptions, RecordSet, ReferenceData};
use prestalink_simulator::api::{ApiRequest, Format, Method, Permissions, Version};
use prestalink_simulator::generator::{generate, GenConfig};
use prestalink_simulator::protocol::respond;
use prestalink_webservice::decode::{decode, DEFAULT_MAX_BODY_BYTES};

/// Counts allocations so the report can say how many one order costs.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const ORDERS: u32 = 10_000;

/// Every resource the order mapping reads.
const RESOURCES: [&str; 19] = [
    "configurations",
    "languages",
    "shops",
    "currencies",
    "countries",
    "states",
    "order_states",
    "taxes",
    "tax_rules",
    "tax_rule_groups",
    "carriers",
    "addresses",
    "customers",
    "orders",
    "order_details",
    "order_payments",
    "order_slip",
    "order_carriers",
    "order_cart_rules",
];

fn read_store() -> RecordSet {
    let store = generate(&GenConfig {
        seed: 42,
        languages: 2,
        shops: 1,
        orders: ORDERS,
        customers: 2_500,
        products: 200,
        timezone: "Europe/Paris".to_string(),
    });
    let permissions = Permissions::default();
    let params = vec![("display".to_string(), "full".to_string())];
    let mut set = RecordSet::new();
    for resource in RESOURCES {
        let request = ApiRequest {
            method: Method::Get,
            resource: Some(resource),
            id: None,
            params: &params,
            format: Format::Json,
            base_url: "http://127.0.0.1:8080",
            version: Version::V8_1_2,
            permissions: &permissions,
        };
        let response = respond(&store, &request);
        assert_eq!(response.status, 200, "{resource}");
        let records = decode(
            &response.body,
            prestalink_webservice::Format::Json,
            DEFAULT_MAX_BODY_BYTES,
        )
        .expect("simulator JSON decodes")
        .into_records();
        set.extend(resource, records);
    }
    set
}

fn map_orders(c: &mut Criterion) {
    let records = read_store();
    let orders = records.records("orders").len() as u64;
    let options = MapOptions::new(Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap());
    let refs = ReferenceData::build(&records, &options).expect("reference data");

    // One counted pass, reported before criterion's timing.
    let (a0, b0) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    let start = Instant::now();
    let batch = map_data_type(DataType::Orders, &records, &refs, &options).expect("orders map");
    let elapsed = start.elapsed();
    let (a1, b1) = (
        ALLOCATIONS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    );
    assert_eq!(
        batch.records.len() as u64 + batch.failures.len() as u64,
        orders
    );
    let lines: usize = records
        .records("orders")
        .iter()
        .map(|o| o.association("order_rows").len())
        .sum();
    println!(
        "map_orders report: {orders} orders ({lines} lines), one pass {:.1} ms = {:.0} orders/s on one core; \
         {} allocations ({:.1} per order), {:.1} MiB allocated; {} failures",
        elapsed.as_secs_f64() * 1e3,
        orders as f64 / elapsed.as_secs_f64(),
        a1 - a0,
        (a1 - a0) as f64 / orders as f64,
        (b1 - b0) as f64 / (1024.0 * 1024.0),
        batch.failures.len(),
    );

    let mut group = c.benchmark_group("mapping");
    group.sample_size(10);
    group.throughput(Throughput::Elements(orders));
    group.bench_function("map_orders_10k", |b| {
        b.iter(|| map_data_type(DataType::Orders, &records, &refs, &options).expect("orders map"))
    });
    group.bench_function("reference_data_build", |b| {
        b.iter(|| ReferenceData::build(&records, &options).expect("reference data"))
    });
    group.finish();
}

criterion_group!(benches, map_orders);
criterion_main!(benches);
