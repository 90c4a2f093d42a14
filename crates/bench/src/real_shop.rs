//! `prestalink bench --store URL --key KEY --storefront URL[,URL…]`: the profile benchmark's
//! measurement against a real shop. It loads that shop: every reader reads it in full.
//!
//! First the storefront is probed with nobody reading (Poisson visits to the given pages,
//! [`crate::storefront`]); then each reader reads the store in a child process (prestalink's
//! `sync --full --pace P` into a fresh SQLite file, or a baseline) while the storefront is
//! probed again. A row reports the reader's wall time, the requests it made, the storefront's
//! p50/p95 during the read and the p95 inflation (p95 during / p95 idle), the reader's CPU
//! and, when the shop runs on this machine, the shop's CPU split into PHP and database
//! ([`crate::host`]), next to the load average.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::child::run_child;
use crate::host::{load_average, shop_cpu};
use crate::runner::Reader;
use crate::storefront::{probe_for, Probed, Probes};

/// What to run against a real shop.
#[derive(Debug, Clone)]
pub struct RealShopConfig {
    /// The store URL.
    pub url: String,
    /// Its Webservice key (read access to what the readers read).
    pub key: String,
    /// Storefront pages to probe.
    pub storefront: Vec<String>,
    /// Readers, in order.
    pub readers: Vec<Reader>,
    /// Storefront visits per second (Poisson); 0: no storefront load at all (no idle
    /// measurement, no visits during the reads).
    pub probe_rate: f64,
    /// How long the idle storefront is probed.
    pub idle: Duration,
    /// Data types prestalink readers sync (empty: all).
    pub data_types: Vec<String>,
    /// Seed of the visits' arrivals.
    pub seed: u64,
    /// The `prestalink` executable the readers run in.
    pub exe: PathBuf,
    /// Where to keep each reader's standard error (`store-<reader>.log`).
    pub logs: Option<PathBuf>,
}

/// The idle storefront.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdleRow {
    /// Storefront visits measured.
    pub visits: u64,
    /// Failed visits.
    pub failed_visits: u64,
    /// Median latency, ms.
    pub p50_ms: f64,
    /// 95th percentile, ms.
    pub p95_ms: f64,
    /// 1-minute load average at the end.
    pub load_average: Option<f64>,
}

/// One reader's run against the shop.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RealRow {
    /// `balanced`, `polite`, `max`, `fixed-1x50` or `fixed-rate`.
    pub reader: String,
    /// From starting the reader's process to its exit.
    pub wall_seconds: f64,
    /// Webservice requests the reader made (its own count).
    pub requests: u64,
    /// Storefront visits measured during the read.
    pub visits: u64,
    /// Visits that failed during the read.
    pub failed_visits: u64,
    /// Storefront latency during the read, ms.
    pub p50_ms: f64,
    /// Storefront latency during the read, ms.
    pub p95_ms: f64,
    /// p95 during the read / p95 idle.
    pub inflation_p95: f64,
    /// The reader's CPU time (user + system), s.
    pub reader_cpu_seconds: f64,
    /// The reader's peak memory, MiB.
    pub peak_mib: f64,
    /// The shop's PHP CPU during the read, s (a shop on this machine only).
    pub shop_php_cpu_seconds: Option<f64>,
    /// The shop's database CPU during the read, s (a shop on this machine only).
    pub shop_db_cpu_seconds: Option<f64>,
    /// 1-minute load average at the end of the read.
    pub load_average: Option<f64>,
    /// Whether the reader finished without error.
    pub completed: bool,
    /// Why not.
    pub note: Option<String>,
}

/// Probes the idle storefront, then runs every reader; calls `on_idle` and `on_row` as
/// results come.
pub async fn run(
    config: &RealShopConfig,
    mut on_idle: impl FnMut(&IdleRow),
    mut on_row: impl FnMut(&RealRow),
) -> anyhow::Result<(IdleRow, Vec<RealRow>)> {
    let probed = if config.probe_rate > 0.0 {
        probe_for(
            &config.storefront,
            config.probe_rate,
            config.seed,
            config.idle,
        )
        .await?
    } else {
        // No storefront load: the readers run alone (what a sync costs with nobody shopping).
        Probed::default()
    };
    anyhow::ensure!(
        config.probe_rate <= 0.0 || probed.latency.count > 0,
        "no storefront visit succeeded in {:.0} s ({} failed): check the --storefront pages",
        config.idle.as_secs_f64(),
        probed.failed
    );
    let idle = IdleRow {
        visits: probed.latency.count,
        failed_visits: probed.failed,
        p50_ms: ms(probed.latency.p50),
        p95_ms: ms(probed.latency.p95),
        load_average: load_average().map(|l| l.0),
    };
    on_idle(&idle);
    let mut rows = Vec::new();
    for (n, &reader) in config.readers.iter().enumerate() {
        let row = run_reader(config, &idle, reader, n as u64 + 1).await?;
        on_row(&row);
        rows.push(row);
    }
    Ok((idle, rows))
}

async fn run_reader(
    config: &RealShopConfig,
    idle: &IdleRow,
    reader: Reader,
    n: u64,
) -> anyhow::Result<RealRow> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("prestalink.db");
    let stderr = dir.path().join("stderr.txt");
    let args = child_args(config, reader, &db.to_string_lossy());
    let exe = config.exe.clone();
    let probes = if config.probe_rate > 0.0 {
        Some(Probes::start(
            config.storefront.clone(),
            config.probe_rate,
            config.seed.wrapping_add(n),
        )?)
    } else {
        None
    };
    let cpu_before = shop_cpu();
    let child = {
        let stderr = stderr.clone();
        tokio::task::spawn_blocking(move || run_child(&exe, &args, &stderr)).await??
    };
    let shop = cpu_before.zip(shop_cpu()).map(|(a, b)| b.since(a));
    let during: Probed = probes.map(Probes::stop).unwrap_or_default();
    if let Some(logs) = &config.logs {
        let kept = logs.join(format!("store-{}.log", reader.name()));
        if let Err(e) =
            std::fs::create_dir_all(logs).and_then(|()| std::fs::copy(&stderr, &kept).map(drop))
        {
            eprintln!("warning: cannot keep the log in {}: {e}", kept.display());
        }
    }
    let (requests, error) = reader_outcome(reader, &child.stdout);
    let completed = child.code == Some(0) && error.is_none();
    let p95 = ms(during.latency.p95);
    Ok(RealRow {
        reader: reader.name(),
        wall_seconds: child.wall.as_secs_f64(),
        requests,
        visits: during.latency.count,
        failed_visits: during.failed,
        p50_ms: ms(during.latency.p50),
        p95_ms: p95,
        inflation_p95: if idle.p95_ms > 0.0 && during.latency.count > 0 {
            p95 / idle.p95_ms
        } else {
            f64::NAN
        },
        reader_cpu_seconds: child.cpu.as_secs_f64(),
        peak_mib: child.peak_rss as f64 / (1024.0 * 1024.0),
        shop_php_cpu_seconds: shop.map(|c| c.php.as_secs_f64()),
        shop_db_cpu_seconds: shop.map(|c| c.db.as_secs_f64()),
        load_average: load_average().map(|l| l.0),
        completed,
        note: (!completed).then(|| {
            error.unwrap_or_else(|| format!("exit {:?}: {}", child.code, child.stderr_tail.trim()))
        }),
    })
}

fn child_args(config: &RealShopConfig, reader: Reader, db: &str) -> Vec<String> {
    let mut args = reader.child_args(&config.url, &config.key, db);
    if reader.is_prestalink() && !config.data_types.is_empty() {
        args.push("--data-types".into());
        args.push(config.data_types.join(","));
    }
    args
}

/// The requests a reader reports on its standard output, and its error if it gave one.
pub fn reader_outcome(reader: Reader, stdout: &str) -> (u64, Option<String>) {
    let out: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap_or_default();
    let requests = out["requests"].as_u64().unwrap_or(0);
    let field = if reader.is_prestalink() {
        "error"
    } else {
        "fatal"
    };
    let error = out[field].as_str().map(str::to_string);
    (requests, error)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The idle storefront and the rows as a text table.
pub fn table(idle: &IdleRow, rows: &[RealRow]) -> String {
    let opt =
        |v: Option<f64>, digits: usize| v.map_or("-".to_string(), |v| format!("{v:.digits$}"));
    // No visits (no storefront load, `--probe-rate 0`): no latency to show.
    let latency = |visits: u64, v: f64, digits: usize| {
        if visits == 0 {
            "-".to_string()
        } else {
            format!("{v:.digits$}")
        }
    };
    let mut body = vec![vec![
        if idle.visits == 0 {
            "(no storefront load)".to_string()
        } else {
            "(idle storefront)".to_string()
        },
        String::new(),
        String::new(),
        latency(idle.visits, idle.p50_ms, 1),
        latency(idle.visits, idle.p95_ms, 1),
        String::new(),
        format!("{}", idle.visits),
        String::new(),
        String::new(),
        opt(idle.load_average, 2),
        String::new(),
    ]];
    for r in rows {
        body.push(vec![
            r.reader.clone(),
            format!("{:.1}", r.wall_seconds),
            format!("{}", r.requests),
            latency(r.visits, r.p50_ms, 1),
            latency(r.visits, r.p95_ms, 1),
            latency(r.visits, r.inflation_p95, 2),
            format!("{}", r.visits),
            format!("{:.2}", r.reader_cpu_seconds),
            match (r.shop_php_cpu_seconds, r.shop_db_cpu_seconds) {
                (Some(p), Some(d)) => format!("{p:.1} + {d:.1}"),
                _ => "-".to_string(),
            },
            opt(r.load_average, 2),
            if r.completed {
                "ok".to_string()
            } else {
                "FAILED".to_string()
            },
        ]);
    }
    crate::text_table(
        &[
            "reader",
            "wall s",
            "requests",
            "storefront p50 ms",
            "p95 ms",
            "p95 inflation",
            "visits",
            "reader CPU s",
            "shop CPU PHP + DB s",
            "load",
            "",
        ],
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use prestalink_pacing::Pace;

    #[test]
    fn reads_what_the_readers_print() {
        let sync = r#"{"connectionId":"c","requests":42,"error":null}"#;
        assert_eq!(
            reader_outcome(Reader::Prestalink(Pace::Max), sync),
            (42, None)
        );
        let failed = r#"{"connectionId":"c","requests":3,"error":"unreachable"}"#;
        assert_eq!(
            reader_outcome(Reader::Prestalink(Pace::Max), failed)
                .1
                .as_deref(),
            Some("unreachable")
        );
        let baseline = r#"{"requests":7,"errors":0,"fatal":null,"ids":{}}"#;
        assert_eq!(reader_outcome(Reader::Fixed1x50, baseline), (7, None));
    }

    #[test]
    fn prestalink_readers_sync_the_chosen_data_types() {
        let config = RealShopConfig {
            url: "http://shop".into(),
            key: "K".into(),
            storefront: vec!["http://shop/".into()],
            readers: vec![],
            probe_rate: 2.0,
            idle: Duration::from_secs(1),
            data_types: vec!["commerce-orders".into()],
            seed: 1,
            exe: PathBuf::from("prestalink"),
            logs: None,
        };
        let args = child_args(&config, Reader::Prestalink(Pace::Polite), "x.db");
        assert!(args.windows(2).any(|w| w == ["--pace", "polite"]));
        assert!(args
            .windows(2)
            .any(|w| w == ["--data-types", "commerce-orders"]));
        let pinned: Reader = "pinned-2x500".parse().expect("a pinned reader");
        assert_eq!(pinned.name(), "pinned-2x500");
        let args = child_args(&config, pinned, "x.db");
        assert!(args.windows(2).any(|w| w == ["--pinned", "2x500"]));
        assert!(!args.contains(&"--pace".to_string()));
        assert!(args
            .windows(2)
            .any(|w| w == ["--data-types", "commerce-orders"]));
        assert!("pinned-0x500".parse::<Reader>().is_err());
        let args = child_args(&config, Reader::Fixed1x50, "x.db");
        assert!(!args.contains(&"--data-types".to_string()));
        assert!(args
            .windows(2)
            .any(|w| w == ["--reader-child", "fixed-1x50"]));
    }
}
