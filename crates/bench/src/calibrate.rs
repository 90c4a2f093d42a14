//! Calibration: the figures a capacity model must reproduce, measured the same way on a real
//! store and on a simulated one, so that they can be put side by side.
//!
//! - **Page times at one request in flight**: full orders in pages of 10, 100 and 1,000
//!   (`limit=0,N`: a store with fewer orders answers with what it has, and the records
//!   column says so), full products, the order id list and, when given, a storefront page.
//!   Each is asked `repeats` times one after the other (after two warm-up requests); the
//!   median is reported, with the median `Execution-Time` header.
//! - **Throughput at 1, 2, 4 and 8 requests in flight**: pages of 100 full orders, asked by
//!   that many loops at once until each has made its share of requests; requests and
//!   records per second, median latency, and the shop's CPU time per request split into
//!   PHP and database (from `/proc` for a shop on this machine, from the simulator's
//!   counters for a simulated one).
//!
//! Bounded: about `repeats × 6 + 4 × throughput_requests` requests in all.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::host::{load_average, ShopCpu};

/// How much to measure.
#[derive(Debug, Clone)]
pub struct CalibrationConfig {
    /// Requests per page time (after two warm-up requests).
    pub repeats: usize,
    /// Requests per concurrency level of the throughput runs.
    pub throughput_requests: usize,
    /// The concurrency levels.
    pub levels: Vec<usize>,
}

impl Default for CalibrationConfig {
    fn default() -> Self {
        CalibrationConfig {
            repeats: 15,
            throughput_requests: 64,
            levels: vec![1, 2, 4, 8],
        }
    }
}

/// A shop to measure.
pub struct Target<'a> {
    /// Name in reports (`real`, `laptop`).
    pub name: String,
    /// The store URL (`http://127.0.0.1:7080`).
    pub url: String,
    /// A Webservice key that may read orders and products.
    pub key: String,
    /// A storefront page to time, if any.
    pub storefront: Option<String>,
    /// The shop's CPU so far, if it can be known.
    pub cpu: &'a dyn Fn() -> Option<ShopCpu>,
}

/// The median time of one kind of page.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageTime {
    /// What was asked (`orders full limit=0,100`).
    pub label: String,
    /// Records in the answer.
    pub records: usize,
    /// Median wall time seen by the client, ms.
    pub p50_ms: f64,
    /// Median `Execution-Time` header, ms (`None` for storefront pages).
    pub execution_ms: Option<f64>,
    /// The shop's PHP CPU per request, ms (when known).
    pub php_ms: Option<f64>,
    /// The shop's database CPU per request, ms (when known).
    pub db_ms: Option<f64>,
}

/// One concurrency level of the throughput runs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Throughput {
    /// Requests in flight.
    pub in_flight: usize,
    /// Requests made.
    pub requests: usize,
    /// Records per page.
    pub records: usize,
    /// Requests per second.
    pub per_second: f64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// The shop's PHP CPU per request, ms (when known).
    pub php_ms: Option<f64>,
    /// The shop's database CPU per request, ms (when known).
    pub db_ms: Option<f64>,
}

/// Everything measured on one shop.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Calibration {
    /// The target's name.
    pub name: String,
    /// Page times at one request in flight.
    pub pages: Vec<PageTime>,
    /// Throughput per concurrency level.
    pub throughput: Vec<Throughput>,
    /// 1-minute load average before and after.
    pub load: (Option<f64>, Option<f64>),
}

/// The pages timed at one request in flight (Webservice paths under `/api/`).
pub const PAGES: [(&str, &str); 5] = [
    (
        "orders full limit=0,10",
        "orders?display=full&sort=[id_ASC]&limit=0,10",
    ),
    (
        "orders full limit=0,100",
        "orders?display=full&sort=[id_ASC]&limit=0,100",
    ),
    (
        "orders full limit=0,1000",
        "orders?display=full&sort=[id_ASC]&limit=0,1000",
    ),
    (
        "products full limit=0,100",
        "products?display=full&sort=[id_ASC]&limit=0,100",
    ),
    (
        "order ids limit=0,1000",
        "orders?display=[id]&sort=[id_ASC]&limit=0,1000",
    ),
];

/// The page of the throughput runs.
pub const THROUGHPUT_PAGE: &str = "orders?display=full&sort=[id_ASC]&limit=0,100";

/// Measures `target`.
pub async fn measure(
    target: &Target<'_>,
    config: &CalibrationConfig,
) -> anyhow::Result<Calibration> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let load_before = load_average().map(|l| l.0);
    let mut pages = Vec::new();
    for (label, path) in PAGES {
        let url = api_url(&target.url, path);
        pages.push(page_time(&client, target, label, &url, true, config.repeats).await?);
    }
    if let Some(storefront) = &target.storefront {
        pages.push(
            page_time(
                &client,
                target,
                "storefront page",
                storefront,
                false,
                config.repeats,
            )
            .await?,
        );
    }
    let mut throughput = Vec::new();
    for &level in &config.levels {
        throughput.push(throughput_at(&client, target, level, config.throughput_requests).await?);
    }
    Ok(Calibration {
        name: target.name.clone(),
        pages,
        throughput,
        load: (load_before, load_average().map(|l| l.0)),
    })
}

fn api_url(store: &str, path: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!(
        "{}/api/{path}{sep}output_format=JSON",
        store.trim_end_matches('/')
    )
}

/// One answer: wall time, `Execution-Time`, records.
struct Answer {
    wall: Duration,
    execution: Option<Duration>,
    records: usize,
}

async fn get(
    client: &reqwest::Client,
    target: &Target<'_>,
    url: &str,
    webservice: bool,
) -> anyhow::Result<Answer> {
    let started = Instant::now();
    let mut request = client.get(url);
    if webservice {
        request = request.basic_auth(&target.key, Some(""));
    }
    let response = request.send().await?;
    let status = response.status();
    let execution = response
        .headers()
        .get("execution-time")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(Duration::from_secs_f64);
    let body = response.bytes().await?;
    let wall = started.elapsed();
    anyhow::ensure!(status.is_success(), "{url}: HTTP {status}");
    let records = if webservice { count_records(&body) } else { 0 };
    Ok(Answer {
        wall,
        execution,
        records,
    })
}

/// Records in a JSON list answer (`{"orders":[…]}`; `[]` when there is none).
pub fn count_records(body: &[u8]) -> usize {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Object(map)) => map
            .values()
            .find_map(|v| v.as_array().map(Vec::len))
            .unwrap_or(0),
        _ => 0,
    }
}

async fn page_time(
    client: &reqwest::Client,
    target: &Target<'_>,
    label: &str,
    url: &str,
    webservice: bool,
    repeats: usize,
) -> anyhow::Result<PageTime> {
    for _ in 0..2 {
        get(client, target, url, webservice).await?;
    }
    let mut walls = Vec::new();
    let mut executions = Vec::new();
    let mut records = 0;
    let repeats = repeats.max(1);
    let cpu_before = (target.cpu)();
    for _ in 0..repeats {
        let a = get(client, target, url, webservice).await?;
        walls.push(a.wall);
        executions.extend(a.execution);
        records = a.records;
    }
    let cpu = cpu_before.zip((target.cpu)()).map(|(a, b)| b.since(a));
    let per_request = |d: Duration| d.as_secs_f64() * 1000.0 / repeats as f64;
    Ok(PageTime {
        label: label.to_string(),
        records,
        p50_ms: median_ms(&mut walls),
        execution_ms: (!executions.is_empty()).then(|| median_ms(&mut executions)),
        php_ms: cpu.map(|c| per_request(c.php)),
        db_ms: cpu.map(|c| per_request(c.db)),
    })
}

async fn throughput_at(
    client: &reqwest::Client,
    target: &Target<'_>,
    in_flight: usize,
    requests: usize,
) -> anyhow::Result<Throughput> {
    let url = api_url(&target.url, THROUGHPUT_PAGE);
    let per_loop = requests.div_ceil(in_flight.max(1)).max(1);
    let cpu_before = (target.cpu)();
    let started = Instant::now();
    let loops = (0..in_flight.max(1)).map(|_| async {
        let mut out = Vec::new();
        for _ in 0..per_loop {
            out.push(get(client, target, &url, true).await?);
        }
        anyhow::Ok(out)
    });
    let answers: Vec<Answer> = futures::future::try_join_all(loops)
        .await?
        .into_iter()
        .flatten()
        .collect();
    let wall = started.elapsed();
    let cpu = cpu_before.zip((target.cpu)()).map(|(a, b)| b.since(a));
    let n = answers.len();
    let mut walls: Vec<Duration> = answers.iter().map(|a| a.wall).collect();
    let per_request = |d: Duration| d.as_secs_f64() * 1000.0 / n.max(1) as f64;
    Ok(Throughput {
        in_flight,
        requests: n,
        records: answers.first().map_or(0, |a| a.records),
        per_second: n as f64 / wall.as_secs_f64().max(1e-9),
        p50_ms: median_ms(&mut walls),
        php_ms: cpu.map(|c| per_request(c.php)),
        db_ms: cpu.map(|c| per_request(c.db)),
    })
}

fn median_ms(values: &mut [Duration]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort();
    values[values.len() / 2].as_secs_f64() * 1000.0
}

/// The real and simulated figures side by side, with simulated / real.
pub fn side_by_side(real: &Calibration, sim: &Calibration) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let ratio = |r: f64, s: f64| {
        if r > 0.0 {
            format!("{:.2}", s / r)
        } else {
            "-".to_string()
        }
    };
    let opt = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.1}"));
    let cpu_ratio = |r: Option<(f64, f64)>, s: Option<(f64, f64)>| match (r, s) {
        (Some((rp, rd)), Some((sp, sd))) => ratio(rp + rd, sp + sd),
        _ => "-".to_string(),
    };
    for (r, s) in real.pages.iter().zip(&sim.pages) {
        rows.push(vec![
            format!("{} (1 in flight), ms", r.label),
            format!("{}", r.records),
            format!("{:.1}", r.p50_ms),
            format!("{}", s.records),
            format!("{:.1}", s.p50_ms),
            ratio(r.p50_ms, s.p50_ms),
        ]);
        rows.push(vec![
            "  its shop CPU per request, PHP + DB ms".to_string(),
            String::new(),
            format!("{} + {}", opt(r.php_ms), opt(r.db_ms)),
            String::new(),
            format!("{} + {}", opt(s.php_ms), opt(s.db_ms)),
            cpu_ratio(r.php_ms.zip(r.db_ms), s.php_ms.zip(s.db_ms)),
        ]);
    }
    for (r, s) in real.throughput.iter().zip(&sim.throughput) {
        rows.push(vec![
            format!("throughput at {} in flight, requests/s", r.in_flight),
            format!("{}", r.records),
            format!("{:.1}", r.per_second),
            format!("{}", s.records),
            format!("{:.1}", s.per_second),
            ratio(r.per_second, s.per_second),
        ]);
        rows.push(vec![
            format!("  latency p50 at {} in flight, ms", r.in_flight),
            String::new(),
            format!("{:.1}", r.p50_ms),
            String::new(),
            format!("{:.1}", s.p50_ms),
            ratio(r.p50_ms, s.p50_ms),
        ]);
        rows.push(vec![
            format!(
                "  shop CPU per request at {} in flight, PHP + DB ms",
                r.in_flight
            ),
            String::new(),
            format!("{} + {}", opt(r.php_ms), opt(r.db_ms)),
            String::new(),
            format!("{} + {}", opt(s.php_ms), opt(s.db_ms)),
            cpu_ratio(r.php_ms.zip(r.db_ms), s.php_ms.zip(s.db_ms)),
        ]);
    }
    let header = [
        "figure",
        "records",
        real.name.as_str(),
        "records",
        sim.name.as_str(),
        "sim/real",
    ];
    crate::text_table(&header, &rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_records_of_a_json_list() {
        assert_eq!(count_records(br#"{"orders":[{"id":1},{"id":2}]}"#), 2);
        assert_eq!(count_records(b"[]"), 0);
        assert_eq!(count_records(b"<html>"), 0);
    }

    #[test]
    fn api_urls_carry_the_json_format() {
        assert_eq!(
            api_url("http://shop/", "orders?display=full"),
            "http://shop/api/orders?display=full&output_format=JSON"
        );
        assert_eq!(
            api_url("http://shop", "orders"),
            "http://shop/api/orders?output_format=JSON"
        );
    }
}
