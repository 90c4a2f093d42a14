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

/// What became of a sync that was to be killed.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// Killed while it ran.
    MidRun,
    /// It had finished, after this long, before the kill came: the kill proves nothing
    /// about resuming, and a full sync takes at most this long now.
    TooLate(Duration),
}

/// Starts a sync and kills it with SIGKILL after `after`.
fn sync_killed_after(sim: &Simulator, db: &str, after: Duration, threads: u8) -> Kill {
    let started = Instant::now();
    let mut child = sync_command(sim, db, threads)
        .spawn()
        .expect("prestalink starts");
    let deadline = started + after;
    while Instant::now() < deadline {
        if child.try_wait().expect("child status").is_some() {
            return Kill::TooLate(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let outcome = match child.try_wait().expect("child status") {
        None => Kill::MidRun,
        Some(_) => Kill::TooLate(started.elapsed()),
    };
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    outcome
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
async fn kill_and_resume(sim: &Simulator, db: &str, kill_after: Duration, run: usize) -> Kill {
    let (first, second) = if run.is_multiple_of(2) {
        (1, 2)
    } else {
        (2, 1)
    };
    let kill = tokio::task::block_in_place(|| sync_killed_after(sim, db, kill_after, first));
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
    kill
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
    let mut rounds = Rounds::new(RUNS, span, 2026);
    while let Some((run, after)) = rounds.next() {
        let db = dir.path().join(format!("run{}.db", rounds.attempts()));
        let kill = kill_and_resume(&sim, db.to_str().unwrap(), after, run).await;
        rounds.record(kill);
    }
    rounds.assert_mid_run();
    sim.shutdown().await;
}

/// The kill delays: `rounds` rounds at random points of a clean sync's span. The span is
/// measured once up front, but the machine's load changes while the test runs (the other
/// test of this file, other processes); a sync that finished before its kill shortens the
/// span to what it took, and its round is played again once, at the shorter span.
struct Rounds {
    rounds: usize,
    span: Duration,
    rng: rand::rngs::StdRng,
    run: usize,
    retried: bool,
    mid_run: usize,
    too_late: Vec<Duration>,
}

impl Rounds {
    fn new(rounds: usize, span: Duration, seed: u64) -> Self {
        Rounds {
            rounds,
            span,
            rng: rand::rngs::StdRng::seed_from_u64(seed),
            run: 0,
            retried: false,
            mid_run: 0,
            too_late: Vec::new(),
        }
    }

    /// The next round and how long after its start to kill it.
    fn next(&mut self) -> Option<(usize, Duration)> {
        (self.run < self.rounds)
            .then(|| (self.run, self.span.mul_f64(self.rng.gen_range(0.02..0.85))))
    }

    /// Rounds played so far, replays included.
    fn attempts(&self) -> usize {
        self.mid_run + self.too_late.len()
    }

    fn record(&mut self, kill: Kill) {
        match kill {
            Kill::MidRun => {
                self.mid_run += 1;
                self.advance();
            }
            Kill::TooLate(took) => {
                self.too_late.push(took);
                self.span = self.span.min(took);
                if self.retried {
                    self.advance();
                } else {
                    self.retried = true;
                }
            }
        }
    }

    fn advance(&mut self) {
        self.run += 1;
        self.retried = false;
    }

    /// At least three rounds in four killed a running sync.
    fn assert_mid_run(&self) {
        assert!(
            self.mid_run >= self.rounds * 3 / 4,
            "only {} of {} rounds killed a running sync ({} attempts; span now {:?}; \
             syncs that finished before their kill took {:?})",
            self.mid_run,
            self.run,
            self.attempts(),
            self.span,
            self.too_late
        );
    }
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
    // Fewer rounds than SQLite: each one creates a database.
    let mut rounds = Rounds::new(RUNS / 2, span, 9);
    while let Some((run, after)) = rounds.next() {
        let db = ScratchDatabase::create("kill").await.unwrap().unwrap();
        let kill = kill_and_resume(&sim, &db.url, after, run).await;
        rounds.record(kill);
        db.drop_now().await.unwrap();
    }
    rounds.assert_mid_run();
    sim.shutdown().await;
}
