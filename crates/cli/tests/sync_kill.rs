//! `prestalink sync` killed with SIGKILL at random points, then run again: the database ends
//! with exactly the data a clean run gives (the simulator's ground truth), on SQLite and
//! (when `PRESTALINK_TEST_POSTGRES` is set) PostgreSQL.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use prestalink_simulator::capacity::Capacity;
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::server::{Simulator, SimulatorConfig};
use prestalink_store::{MasterKeySource, Store, StoreOptions};
use prestalink_testkit::{
    difference, ground_truth, synced, test_master_key_hex, ScratchDatabase, TEST_MASTER_KEY,
};
use rand::{Rng, SeedableRng};

const RUNS: usize = 20;

/// `prestalink sync` on `db` with `threads` worker threads (`--threads`).
fn sync_command(sim: &Simulator, db: &str, threads: u8) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_prestalink"));
    command
        .args(["sync", "--url", &sim.base_url(), "--key", sim.key()])
        .args(["--db", db, "--json", "--threads", &threads.to_string()])
        .env("PRESTALINK_MASTER_KEY", test_master_key_hex())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Runs `prestalink sync` to completion and returns its JSON report.
fn sync_to_completion(sim: &Simulator, db: &str, threads: u8) -> serde_json::Value {
    let output = sync_command(sim, db, threads)
        .output()
        .expect("prestalink runs");
    assert!(
        output.status.success(),
        "the resumed sync completes: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON object")
}

/// Starts a sync and kills it with SIGKILL after `after`; returns whether it was still
/// running (a kill that came too late proves nothing about resuming).
fn sync_killed_after(sim: &Simulator, db: &str, after: Duration, threads: u8) -> bool {
    let mut child = sync_command(sim, db, threads)
        .spawn()
        .expect("prestalink starts");
    let deadline = Instant::now() + after;
    while Instant::now() < deadline {
        if child.try_wait().expect("child status").is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let running = child.try_wait().expect("child status").is_none();
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    running
}

async fn open(db: &str) -> Store {
    Store::open_with(
        db,
        StoreOptions {
            master_key: MasterKeySource::Bytes(TEST_MASTER_KEY),
            ..Default::default()
        },
    )
    .await
    .expect("the database opens")
}

/// One kill-and-resume round trip against `db`; panics unless the result is the truth.
/// Round `run` kills a sync on one thread and resumes it on two, or the other way round.
async fn kill_and_resume(sim: &Simulator, db: &str, kill_after: Duration, run: usize) -> bool {
    let (first, second) = if run.is_multiple_of(2) {
        (1, 2)
    } else {
        (2, 1)
    };
    let killed = tokio::task::block_in_place(|| sync_killed_after(sim, db, kill_after, first));
    let report = tokio::task::block_in_place(|| sync_to_completion(sim, db, second));
    let connection = report["connectionId"].as_str().expect("connection id");
    let store = open(db).await;
    let linked = store
        .get_connection(connection)
        .await
        .unwrap()
        .expect("the connection exists");
    let expected = {
        let data = sim.store();
        let data = data.read().unwrap();
        ground_truth(&data, &sim.base_url(), &linked.store_url).unwrap()
    };
    let actual = synced(&store, connection).await.unwrap();
    store.close().await;
    if let Some(diff) = difference(&expected, &actual) {
        panic!("killed after {kill_after:?}, then resumed: the data differs:\n{diff}");
    }
    killed
}

async fn simulator() -> Simulator {
    // Slow enough that a sync lasts about a second, so kills land at every stage.
    let capacity = Capacity {
        time_scale: 0.15,
        ..Capacity::profile(prestalink_simulator::capacity::Profile::Vps)
    };
    Simulator::start(SimulatorConfig {
        gen: GenConfig {
            seed: 77,
            orders: 600,
            customers: 150,
            products: 40,
            ..GenConfig::default()
        },
        capacity,
        ..SimulatorConfig::default()
    })
    .await
    .unwrap()
}

/// How long a clean sync takes, to spread the kills over it.
fn clean_duration(sim: &Simulator, db: &str) -> Duration {
    let started = Instant::now();
    sync_to_completion(sim, db, 1);
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_syncs_resume_to_the_truth_on_sqlite() {
    let sim = simulator().await;
    let dir = tempfile::tempdir().unwrap();
    // The faster of two clean syncs: the first one also warms the simulator and the page
    // cache, and a span measured long puts late kills after the end of later runs.
    let span = tokio::task::block_in_place(|| {
        (0..2)
            .map(|i| {
                let probe = dir.path().join(format!("probe{i}.db"));
                clean_duration(&sim, probe.to_str().unwrap())
            })
            .min()
            .unwrap()
    });
    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let mut mid_run = 0;
    for run in 0..RUNS {
        let db = dir.path().join(format!("run{run}.db"));
        let after = span.mul_f64(rng.gen_range(0.02..0.85));
        if kill_and_resume(&sim, db.to_str().unwrap(), after, run).await {
            mid_run += 1;
        }
    }
    assert!(
        mid_run >= RUNS * 3 / 4,
        "only {mid_run} of {RUNS} kills fell while the sync ran (clean sync: {span:?})"
    );
    sim.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_syncs_resume_to_the_truth_on_postgres() {
    let sim = simulator().await;
    let Some(probe) = ScratchDatabase::create("kill_probe").await.unwrap() else {
        sim.shutdown().await;
        return;
    };
    let span = tokio::task::block_in_place(|| clean_duration(&sim, &probe.url));
    probe.drop_now().await.unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let mut mid_run = 0;
    // Fewer rounds than SQLite: each one creates a database.
    for run in 0..RUNS / 2 {
        let db = ScratchDatabase::create("kill").await.unwrap().unwrap();
        let after = span.mul_f64(rng.gen_range(0.02..0.85));
        if kill_and_resume(&sim, &db.url, after, run).await {
            mid_run += 1;
        }
        db.drop_now().await.unwrap();
    }
    assert!(
        mid_run >= RUNS / 2 * 3 / 4,
        "only {mid_run} kills fell mid-run"
    );
    sim.shutdown().await;
}
