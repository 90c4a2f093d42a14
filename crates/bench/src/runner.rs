//! Running the benchmark: per profile, one simulated shop with a steady storefront load;
//! per reader, a storefront measurement, one full read in a child process, and the check of
//! what arrived against the simulator's ground truth.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use prestalink_commerce::DataType;
use prestalink_pacing::{Pace, Pinned};
use prestalink_simulator::capacity::{Capacity, Profile};
use prestalink_simulator::counters::CountersSnapshot;
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_store::Store;
use prestalink_testkit::Records;

use crate::baseline::{Baseline, Received};
use crate::bound::capacity_bound;
use crate::child::{run_child, ChildRun};
use crate::report::RunRow;

/// Who reads the shop in a run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Reader {
    /// `prestalink sync --full --pace …`.
    Prestalink(Pace),
    /// `fixed-1x50`.
    Fixed1x50,
    /// `fixed-rate`.
    FixedRate,
    /// `pinned-CxP`: `prestalink sync --full --pinned CxP`, prestalink with fixed settings
    /// instead of a pace (the grid `max` is compared with).
    Pinned(Pinned),
}

impl Reader {
    /// The name in tables and on the command line.
    pub fn name(self) -> String {
        match self {
            Reader::Prestalink(pace) => pace.to_string(),
            Reader::Fixed1x50 => "fixed-1x50".to_string(),
            Reader::FixedRate => "fixed-rate".to_string(),
            Reader::Pinned(pinned) => format!("pinned-{pinned}"),
        }
    }

    /// Whether the reader is `prestalink sync` (a pace or pinned settings).
    pub fn is_prestalink(self) -> bool {
        matches!(self, Reader::Prestalink(_) | Reader::Pinned(_))
    }

    /// The arguments of the child process that reads `url` with `key`: `prestalink sync
    /// --full --json` into `db` with the reader's pace or pinned settings, or the baseline's
    /// `prestalink bench --reader-child`.
    pub fn child_args(self, url: &str, key: &str, db: &str) -> Vec<String> {
        let pacing = match self {
            Reader::Prestalink(pace) => ["--pace".to_string(), pace.to_string()],
            Reader::Pinned(pinned) => ["--pinned".to_string(), pinned.to_string()],
            Reader::Fixed1x50 | Reader::FixedRate => {
                return [
                    "bench",
                    "--reader-child",
                    &self.name(),
                    "--url",
                    url,
                    "--key",
                    key,
                ]
                .map(String::from)
                .to_vec();
            }
        };
        let mut args = [
            "sync", "--url", url, "--key", key, "--db", db, "--full", "--json",
        ]
        .map(String::from)
        .to_vec();
        args.extend(pacing);
        args
    }

    /// The baseline's strategy, for baselines.
    pub fn baseline(self) -> Option<Baseline> {
        match self {
            Reader::Fixed1x50 => Some(Baseline::FIXED_1X50),
            Reader::FixedRate => Some(Baseline::FIXED_RATE),
            Reader::Prestalink(_) | Reader::Pinned(_) => None,
        }
    }

    /// The readers run on a profile by default: balanced, polite, max (cluster only), then
    /// the two baselines.
    pub fn defaults(profile: Profile) -> Vec<Reader> {
        let mut readers = vec![
            Reader::Prestalink(Pace::Balanced),
            Reader::Prestalink(Pace::Polite),
        ];
        if profile == Profile::Cluster {
            readers.push(Reader::Prestalink(Pace::Max));
        }
        readers.extend([Reader::Fixed1x50, Reader::FixedRate]);
        readers
    }
}

impl std::str::FromStr for Reader {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "fixed-1x50" => Ok(Reader::Fixed1x50),
            "fixed-rate" => Ok(Reader::FixedRate),
            other if other.starts_with("pinned-") => other["pinned-".len()..]
                .parse::<Pinned>()
                .map(Reader::Pinned)
                .map_err(|e| e.to_string()),
            other => other
                .parse::<Pace>()
                .map(Reader::Prestalink)
                .map_err(|_| {
                    format!("unknown reader {s:?}: expected balanced, polite, max, fixed-1x50, fixed-rate or pinned-CxP (e.g. pinned-2x500)")
                }),
        }
    }
}

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Profiles, in order.
    pub profiles: Vec<Profile>,
    /// Readers per profile (`None` = [`Reader::defaults`]).
    pub readers: Option<Vec<Reader>>,
    /// Orders in the store (customers = orders / 4, products = orders / 20, 20 to 400).
    pub orders: u32,
    /// Time scale of the simulated shops.
    pub time_scale: f64,
    /// Storefront load as a fraction of the workers.
    pub shopper_load: f64,
    /// How long the idle storefront is measured per profile (`None`: long enough for about
    /// 150 storefront visits, 2 to 20 s).
    pub idle: Option<Duration>,
    /// Seed of the store and the shoppers.
    pub seed: u64,
    /// The `prestalink` executable the readers run in.
    pub exe: PathBuf,
    /// Where to keep each reader's standard error, as `<profile>-<reader>.log` (with
    /// `PRESTALINK_LOG` set, the pacer's decisions); `None` throws it away.
    pub logs: Option<PathBuf>,
}

/// The resources a full sync of every data type reads (and the baselines read).
pub fn sync_resources() -> Vec<&'static str> {
    prestalink_sync::needed_resources(&DataType::ALL)
        .into_iter()
        .map(|r| r.name)
        .collect()
}

/// One profile's shop, its ground truth and its idle storefront.
struct Shop {
    sim: Simulator,
    profile: Profile,
    ids: BTreeMap<String, Vec<u64>>,
    t_star: f64,
    idle: CountersSnapshot,
    truth: Option<(String, Records)>,
}

/// Runs every profile and reader, calling `on_row` after each run; returns the rows.
pub async fn run(
    config: &BenchConfig,
    mut on_row: impl FnMut(&RunRow),
) -> anyhow::Result<Vec<RunRow>> {
    let mut rows = Vec::new();
    for &profile in &config.profiles {
        let mut shop = start_shop(config, profile).await?;
        let readers = config
            .readers
            .clone()
            .unwrap_or_else(|| Reader::defaults(profile));
        for reader in readers {
            let row = run_reader(config, &mut shop, reader).await;
            let row = match row {
                Ok(row) => row,
                Err(e) => {
                    shop.sim.shutdown().await;
                    return Err(e.context(format!("{profile} / {}", reader.name())));
                }
            };
            on_row(&row);
            rows.push(row);
        }
        shop.sim.shutdown().await;
    }
    Ok(rows)
}

/// Starts the profile's shop, computes T* and measures the idle storefront.
async fn start_shop(config: &BenchConfig, profile: Profile) -> anyhow::Result<Shop> {
    let capacity = Capacity {
        time_scale: config.time_scale,
        ..Capacity::profile(profile)
    };
    let sim = Simulator::start(SimulatorConfig {
        gen: GenConfig {
            seed: config.seed,
            orders: config.orders,
            customers: (config.orders / 4).max(20),
            products: (config.orders / 20).clamp(20, 400),
            ..GenConfig::default()
        },
        capacity: capacity.clone(),
        shopper_load: config.shopper_load,
        ..SimulatorConfig::default()
    })
    .await?;
    let source = {
        let store = sim.store();
        let store = store.read().expect("store lock");
        prestalink_testkit::source_records(&store, &sim.base_url())?
    };
    let ids: BTreeMap<String, Vec<u64>> = sync_resources()
        .into_iter()
        .map(|name| {
            let ids = source.records(name).iter().filter_map(|r| r.id()).collect();
            (name.to_string(), ids)
        })
        .collect();
    let counts: Vec<(String, usize)> = ids.iter().map(|(n, ids)| (n.clone(), ids.len())).collect();
    let t_star = capacity_bound(&capacity, &counts).seconds;
    let idle = config
        .idle
        .unwrap_or_else(|| idle_time(&capacity, config.shopper_load));
    let idle = measure_idle(&sim, idle).await;
    Ok(Shop {
        sim,
        profile,
        ids,
        t_star,
        idle,
        truth: None,
    })
}

/// Long enough to see about 150 storefront visits (the shopper load's arrival rate is
/// `load × parallelism / visit`), between 2 and 20 s.
pub fn idle_time(capacity: &Capacity, load: f64) -> Duration {
    let visit = capacity
        .scaled(capacity.shopper_work().total())
        .as_secs_f64();
    let per_second = load * capacity.parallelism() / visit.max(1e-6);
    Duration::from_secs_f64((150.0 / per_second.max(1e-6)).clamp(2.0, 20.0))
}

/// Storefront latency with nothing but the shoppers.
async fn measure_idle(sim: &Simulator, idle: Duration) -> CountersSnapshot {
    // Let the shopper load reach its steady state first.
    tokio::time::sleep(Duration::from_millis(300)).await;
    sim.reset_counters();
    tokio::time::sleep(idle).await;
    sim.counters()
}

/// One run: reset the counters, read in a child process, snapshot, check.
async fn run_reader(
    config: &BenchConfig,
    shop: &mut Shop,
    reader: Reader,
) -> anyhow::Result<RunRow> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("prestalink.db");
    let args = child_args(config, shop, reader, &db);
    let exe = config.exe.clone();
    let stderr = dir.path().join("stderr.txt");
    shop.sim.reset_counters();
    let child = {
        let stderr = stderr.clone();
        tokio::task::spawn_blocking(move || run_child(&exe, &args, &stderr)).await??
    };
    let during = shop.sim.counters();
    if let Some(logs) = &config.logs {
        let kept = logs.join(format!("{}-{}.log", shop.profile, reader.name()));
        // A log that cannot be kept is worth a warning, not the benchmark.
        if let Err(e) =
            std::fs::create_dir_all(logs).and_then(|()| std::fs::copy(&stderr, &kept).map(drop))
        {
            eprintln!("warning: cannot keep the log in {}: {e}", kept.display());
        }
    }
    let mut row = measured_row(config, shop, reader, &child, &during);
    match reader.baseline() {
        Some(_) => check_baseline(&mut row, shop, &child)?,
        None => check_sync(&mut row, shop, &child, &db).await?,
    }
    Ok(row)
}

fn child_args(config: &BenchConfig, shop: &Shop, reader: Reader, db: &Path) -> Vec<String> {
    let mut args = reader.child_args(&shop.sim.base_url(), shop.sim.key(), &db.to_string_lossy());
    if !reader.is_prestalink() {
        args.push("--time-scale".into());
        args.push(config.time_scale.to_string());
    }
    args
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn measured_row(
    config: &BenchConfig,
    shop: &Shop,
    reader: Reader,
    child: &ChildRun,
    during: &CountersSnapshot,
) -> RunRow {
    let storefront: u64 = during
        .by_resource
        .get("storefront")
        .map_or(0, |m| m.values().sum());
    let status_5xx: u64 = during
        .by_status
        .iter()
        .filter(|(s, _)| **s >= 500)
        .map(|(_, n)| n)
        .sum();
    let timeouts = during.faults.get("timeout").copied().unwrap_or(0)
        + during.by_status.get(&0).copied().unwrap_or(0);
    let wall = child.wall.as_secs_f64();
    let idle_p95 = ms(shop.idle.shopper.p95);
    let sync_p95 = ms(during.shopper.p95);
    RunRow {
        profile: shop.profile.name().to_string(),
        reader: reader.name().to_string(),
        time_scale: config.time_scale,
        orders: config.orders,
        wall_seconds: wall,
        t_star_seconds: shop.t_star,
        wall_over_t_star: if shop.t_star > 0.0 {
            wall / shop.t_star
        } else {
            f64::INFINITY
        },
        requests: during.requests.saturating_sub(storefront),
        status_5xx,
        timeouts,
        shopper_idle_p50_ms: ms(shop.idle.shopper.p50),
        shopper_idle_p95_ms: idle_p95,
        shopper_sync_p50_ms: ms(during.shopper.p50),
        shopper_sync_p95_ms: sync_p95,
        inflation_p95: if idle_p95 > 0.0 {
            sync_p95 / idle_p95
        } else {
            f64::NAN
        },
        shopper_visits: during.shopper.count,
        peak_mib: child.peak_rss as f64 / (1024.0 * 1024.0),
        cpu_seconds: child.cpu.as_secs_f64(),
        cpu_percent: if wall > 0.0 {
            100.0 * child.cpu.as_secs_f64() / wall
        } else {
            0.0
        },
        lost: 0,
        duplicated: 0,
        differing: 0,
        completed: child.code == Some(0),
        note: (child.code != Some(0))
            .then(|| format!("exit {:?}: {}", child.code, child.stderr_tail.trim())),
    }
}

/// Baselines: every id of the simulator's tables received exactly once.
fn check_baseline(row: &mut RunRow, shop: &Shop, child: &ChildRun) -> anyhow::Result<()> {
    let received: Received = match serde_json::from_str(child.stdout.trim()) {
        Ok(r) => r,
        Err(e) => {
            row.completed = false;
            row.note
                .get_or_insert(format!("no report from the reader: {e}"));
            row.lost = shop.ids.values().map(|v| v.len() as u64).sum();
            return Ok(());
        }
    };
    let (lost, duplicated) = id_check(&shop.ids, &received.ids);
    row.lost = lost;
    row.duplicated = duplicated;
    if let Some(fatal) = received.fatal {
        row.completed = false;
        row.note.get_or_insert(fatal);
    }
    Ok(())
}

/// Records of `expected` not received, and records received twice or not expected.
pub fn id_check(
    expected: &BTreeMap<String, Vec<u64>>,
    received: &BTreeMap<String, Vec<u64>>,
) -> (u64, u64) {
    let mut lost = 0;
    let mut duplicated = 0;
    let empty = Vec::new();
    for (resource, want) in expected {
        let got = received.get(resource).unwrap_or(&empty);
        let want: HashSet<u64> = want.iter().copied().collect();
        let mut seen = HashSet::new();
        for id in got {
            if !seen.insert(*id) || !want.contains(id) {
                duplicated += 1;
            }
        }
        lost += want.iter().filter(|id| !seen.contains(id)).count() as u64;
    }
    (lost, duplicated)
}

/// prestalink runs: the commerce records in the database equal the ground truth.
async fn check_sync(
    row: &mut RunRow,
    shop: &mut Shop,
    child: &ChildRun,
    db: &Path,
) -> anyhow::Result<()> {
    let out: serde_json::Value = serde_json::from_str(child.stdout.trim()).unwrap_or_default();
    let Some(connection_id) = out["connectionId"].as_str() else {
        row.completed = false;
        row.note
            .get_or_insert("the sync printed no connection".to_string());
        row.lost = shop.ids.values().map(|v| v.len() as u64).sum();
        return Ok(());
    };
    let store = Store::open(&db.to_string_lossy()).await?;
    let connection = store
        .get_connection(connection_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("connection {connection_id} not in the database"))?;
    let actual = prestalink_testkit::synced(&store, connection_id).await?;
    store.close().await;
    let expected = match &shop.truth {
        Some((url, truth)) if *url == connection.store_url => truth,
        _ => {
            let truth = {
                let data = shop.sim.store();
                let data = data.read().expect("store lock");
                prestalink_testkit::ground_truth(
                    &data,
                    &shop.sim.base_url(),
                    &connection.store_url,
                )?
            };
            &shop.truth.insert((connection.store_url.clone(), truth)).1
        }
    };
    let (lost, extra, differing) = record_check(expected, &actual);
    row.lost = lost;
    row.duplicated = extra;
    row.differing = differing;
    if let Some(diff) = prestalink_testkit::difference(expected, &actual) {
        let first: String = diff.chars().take(400).collect();
        row.note.get_or_insert(first);
    }
    Ok(())
}

/// Records missing, extra and with other content, over every data type.
pub fn record_check(expected: &Records, actual: &Records) -> (u64, u64, u64) {
    let empty = BTreeMap::new();
    let (mut lost, mut extra, mut differing) = (0, 0, 0);
    for (dt, want) in expected {
        let got = actual.get(dt).unwrap_or(&empty);
        lost += want.keys().filter(|k| !got.contains_key(*k)).count() as u64;
        extra += got.keys().filter(|k| !want.contains_key(*k)).count() as u64;
        differing += want
            .iter()
            .filter(|(k, v)| got.get(*k).is_some_and(|g| g != *v))
            .count() as u64;
    }
    for (dt, got) in actual {
        if !expected.contains_key(dt) {
            extra += got.len() as u64;
        }
    }
    (lost, extra, differing)
}
