//! Every message names the real cause (issue 13): the real binary against the simulator, the
//! file system and PostgreSQL, for what a new user and a careless one ran into. Each test
//! is named after the item it covers.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use prestalink_simulator::api::Permissions;
use prestalink_simulator::capacity::{Capacity, Profile};
use prestalink_simulator::generator::GenConfig;
use prestalink_simulator::{Simulator, SimulatorConfig};
use prestalink_testkit::{test_master_key_hex, ScratchDatabase};
use serde_json::Value;

/// A key that may read orders and customers only (as the real store's LIMIT key).
const LIMITED_KEY: &str = "LIMITEDKEY0000000000000000000002";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
}

fn finish(output: Output) -> Run {
    Run {
        code: output.status.code().expect("exit code"),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `prestalink ARGS` with `env` set and the master key variable unset unless given.
fn prestalink(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_prestalink"));
    command
        .args(args)
        .env_remove("PRESTALINK_MASTER_KEY")
        .env_remove("PRESTALINK_DB")
        .env_remove("SSL_CERT_FILE");
    for (k, v) in env {
        command.env(k, v);
    }
    finish(command.output().expect("prestalink runs"))
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

async fn simulator(configure: impl FnOnce(&mut SimulatorConfig)) -> Simulator {
    let mut cfg = SimulatorConfig {
        gen: GenConfig {
            orders: 30,
            customers: 10,
            products: 8,
            ..GenConfig::default()
        },
        ..SimulatorConfig::default()
    };
    configure(&mut cfg);
    Simulator::start(cfg).await.expect("simulator starts")
}

fn sync(sim: &Simulator, db: &str, extra: &[&str], env: &[(&str, &str)]) -> Run {
    let url = sim.base_url();
    let mut args = vec!["sync", "--url", &url, "--key", sim.key(), "--db", db];
    args.extend_from_slice(extra);
    prestalink(&args, env)
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

// ---- 5. export never succeeds having done nothing --------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item5_export_names_what_is_missing_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // A mistyped --db: an error naming it, and no database, WAL or key file appears.
    let typo = dir.path().join("prestlink.db");
    let out = prestalink(
        &[
            "export",
            "--db",
            path(&typo),
            "--data-type",
            "commerce-orders",
        ],
        &[],
    );
    assert_eq!(out.code, 7, "{}", out.stderr);
    assert!(out.stderr.contains(path(&typo)), "{}", out.stderr);
    assert!(out.stderr.contains("does not exist"), "{}", out.stderr);
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(left.is_empty(), "export created files: {left:?}");

    // A database with one connection that synced company info only.
    let sim = simulator(|_| {}).await;
    let db = dir.path().join("shop.db");
    let out = sync(
        &sim,
        path(&db),
        &["--data-types", "commerce-info", "--json"],
        &[],
    );
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    let connection = out.json()["connectionId"].as_str().unwrap().to_string();

    // A data type never synced: exit 7, naming it and listing what was synced.
    let out = prestalink(
        &[
            "export",
            "--db",
            path(&db),
            "--data-type",
            "commerce-orders",
        ],
        &[],
    );
    assert_eq!(out.code, 7, "{}", out.stderr);
    assert!(
        out.stderr.contains("commerce-orders was never synced"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("synced data types: commerce-info"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());

    // An unknown connection: exit 7, listing the connections there are.
    let out = prestalink(
        &[
            "export",
            "--db",
            path(&db),
            "--data-type",
            "commerce-info",
            "--connection",
            "nope",
        ],
        &[],
    );
    assert_eq!(out.code, 7, "{}", out.stderr);
    assert!(out.stderr.contains("no connection nope"), "{}", out.stderr);
    assert!(out.stderr.contains(&connection), "{}", out.stderr);

    // What was synced exports (exit 0, one record).
    let out = prestalink(
        &["export", "--db", path(&db), "--data-type", "commerce-info"],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.lines().count(), 1);
    sim.shutdown().await;
}

// ---- 9. paths and the fix, 0600 files ---------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item9_database_and_output_paths_are_named_with_the_fix() {
    let sim = simulator(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();

    // --db pointing at a directory.
    let out = sync(
        &sim,
        path(dir.path()),
        &["--data-types", "commerce-info"],
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("is a directory"), "{}", out.stderr);
    assert!(out.stderr.contains("prestalink.db"), "{}", out.stderr);
    assert!(!out.stderr.contains("code: 14"), "{}", out.stderr);

    // New database files and their WAL are private.
    let db = dir.path().join("shop.db");
    let out = sync(&sim, path(&db), &["--data-types", "commerce-info"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    #[cfg(unix)]
    for file in ["shop.db", "shop.db-wal", "shop.db.key"] {
        let p = dir.path().join(file);
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{file}");
        }
    }
    #[cfg(unix)]
    assert_eq!(mode(&db), 0o600);

    // A read-only database: the path and what to do.
    let read_only = format!("sqlite://{}?mode=ro", path(&db));
    let out = sync(&sim, &read_only, &["--data-types", "commerce-info"], &[]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("read-only"), "{}", out.stderr);
    assert!(out.stderr.contains(path(&db)), "{}", out.stderr);
    assert!(out.stderr.contains("write access"), "{}", out.stderr);

    // --output into a missing directory, and onto a directory.
    let missing = dir.path().join("no/such/dir/out.jsonl");
    let out = prestalink(
        &[
            "export",
            "--db",
            path(&db),
            "--data-type",
            "commerce-info",
            "--output",
            path(&missing),
        ],
        &[],
    );
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("does not exist"), "{}", out.stderr);
    assert!(out.stderr.contains("mkdir -p"), "{}", out.stderr);
    let out = prestalink(
        &[
            "export",
            "--db",
            path(&db),
            "--data-type",
            "commerce-info",
            "--output",
            path(dir.path()),
        ],
        &[],
    );
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("is a directory"), "{}", out.stderr);
    sim.shutdown().await;
}

// ---- 6. PostgreSQL: key first, fail fast, supported schemes -----------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item6_database_urls_and_the_missing_master_key() {
    let sim = simulator(|_| {}).await;
    // A closed PostgreSQL port: at once, with host and port.
    let started = Instant::now();
    let out = sync(
        &sim,
        "postgres://postgres@127.0.0.1:1/test",
        &["--data-types", "commerce-info"],
        &[("PRESTALINK_MASTER_KEY", &test_master_key_hex())],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(out.stderr.contains("127.0.0.1:1"), "{}", out.stderr);
    assert!(out.stderr.contains("connection refused"), "{}", out.stderr);

    // An unsupported scheme says which are supported.
    let out = sync(&sim, "mysql://root@127.0.0.1/shop", &[], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("mysql:// is not a supported database"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("postgres://"), "{}", out.stderr);
    assert!(!out.stderr.contains("does not exist"), "{}", out.stderr);

    // PostgreSQL without a master key: refused before anything is written.
    let Some(scratch) = ScratchDatabase::create("item6").await.unwrap() else {
        sim.shutdown().await;
        return;
    };
    let out = sync(&sim, &scratch.url, &["--data-types", "commerce-info"], &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("PRESTALINK_MASTER_KEY"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("key file path"), "{}", out.stderr);
    use sqlx::Connection as _;
    let mut conn = sqlx::PgConnection::connect(&scratch.url).await.unwrap();
    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(tables, 0, "nothing may be written without a master key");
    drop(conn);
    scratch.drop_now().await.unwrap();
    sim.shutdown().await;
}

// ---- 7. the master key: a check value, rotate-master-key, encodings ---------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item7_a_different_master_key_is_refused_and_rotation_is_deliberate() {
    let sim = simulator(|_| {}).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let first = "11".repeat(32);
    let other = "22".repeat(32);
    let out = sync(
        &sim,
        path(&db),
        &["--data-types", "commerce-info"],
        &[("PRESTALINK_MASTER_KEY", &first)],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);

    // Another key: an error, and the stored key is left as it was.
    let out = sync(
        &sim,
        path(&db),
        &["--data-types", "commerce-info"],
        &[("PRESTALINK_MASTER_KEY", &other)],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("does not match this database"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("rotate-master-key"), "{}", out.stderr);
    let out = sync(
        &sim,
        path(&db),
        &["--data-types", "commerce-info"],
        &[("PRESTALINK_MASTER_KEY", &first)],
    );
    assert_eq!(
        out.code, 0,
        "the original key still opens it: {}",
        out.stderr
    );

    // Deliberate rotation to the other key.
    let new_key = dir.path().join("new.key");
    std::fs::write(&new_key, format!("{other}\n")).unwrap();
    let out = prestalink(
        &[
            "rotate-master-key",
            "--db",
            path(&db),
            "--new-key-file",
            path(&new_key),
        ],
        &[("PRESTALINK_MASTER_KEY", &first)],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("re-encrypted 1 Webservice key"),
        "{}",
        out.stderr
    );
    let out = sync(
        &sim,
        path(&db),
        &["--data-types", "commerce-info"],
        &[("PRESTALINK_MASTER_KEY", &other)],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = sync(
        &sim,
        path(&db),
        &["--data-types", "commerce-info"],
        &[("PRESTALINK_MASTER_KEY", &first)],
    );
    assert!(
        out.stderr.contains("does not match this database"),
        "{}",
        out.stderr
    );

    // The default key file of a SQLite database is rewritten by a rotation.
    let db2 = dir.path().join("second.db");
    let out = sync(&sim, path(&db2), &["--data-types", "commerce-info"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = prestalink(
        &[
            "rotate-master-key",
            "--db",
            path(&db2),
            "--new-key-file",
            path(&new_key),
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let key_file = dir.path().join("second.db.key");
    assert_eq!(std::fs::read_to_string(&key_file).unwrap().trim(), other);
    let out = sync(&sim, path(&db2), &["--data-types", "commerce-info"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    // A 64-character key that is not hex: the accepted encodings.
    let not_hex = "g".repeat(64);
    let out = sync(
        &sim,
        path(&db),
        &["--data-types", "commerce-info"],
        &[("PRESTALINK_MASTER_KEY", &not_hex)],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("not a hex digit"), "{}", out.stderr);
    assert!(out.stderr.contains("base64"), "{}", out.stderr);
    assert!(!out.stderr.contains("exactly 32 bytes"), "{}", out.stderr);
    sim.shutdown().await;
}

// ---- 3. keys as PrestaShop accepts them; wrong slashes ----------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item3_lower_case_and_pasted_keys_and_wrong_slashes() {
    let sim = simulator(|_| {}).await;
    let lower = sim.key().to_lowercase();
    let pasted = format!("?ws_key={}", sim.key());
    for key in [lower.as_str(), pasted.as_str()] {
        let out = prestalink(
            &["check", "--url", &sim.base_url(), "--key", key, "--json"],
            &[],
        );
        assert_eq!(out.code, 0, "{key}: {}", out.stdout);
        assert_eq!(out.json()["code"], "connected");
    }
    // The key stored by a sync is the parsed one: a later sync with the real key reuses it.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    let out = prestalink(
        &[
            "sync",
            "--url",
            &sim.base_url(),
            "--key",
            &lower,
            "--db",
            path(&db),
            "--data-types",
            "commerce-info",
            "--json",
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);

    let host = sim.base_url().replace("http://", "");
    let out = prestalink(
        &[
            "check",
            "--url",
            &format!("http:/{host}"),
            "--key",
            sim.key(),
            "--json",
        ],
        &[],
    );
    assert_eq!(out.code, 2);
    let message = out.json()["message"].as_str().unwrap().to_string();
    assert!(message.contains("slashes"), "{message}");
    assert!(!message.contains("complete domain name"), "{message}");
    sim.shutdown().await;
}

// ---- 1. no scheme, or https on a plain-HTTP port ----------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item1_addresses_without_scheme_and_https_on_a_plain_http_port() {
    let sim = simulator(|_| {}).await;
    let authority = sim.base_url().replace("http://", "");
    for url in [
        authority.clone(),
        format!("{authority}/api/"),
        authority.replace("127.0.0.1", "localhost"),
    ] {
        let out = prestalink(&["check", "--url", &url, "--key", sim.key(), "--json"], &[]);
        let j = out.json();
        assert_eq!(
            (out.code, j["code"].as_str()),
            (0, Some("connected")),
            "{url}: {j}"
        );
        assert!(
            j["storeUrl"].as_str().unwrap().starts_with("http://"),
            "{j}"
        );
        let warnings: Vec<&str> = j["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["code"].as_str().unwrap())
            .collect();
        assert!(warnings.contains(&"insecure_http"), "{j}");
    }
    let out = prestalink(
        &[
            "check",
            "--url",
            &format!("https://{authority}"),
            "--key",
            sim.key(),
            "--json",
        ],
        &[],
    );
    let j = out.json();
    assert_eq!(
        (out.code, j["code"].as_str()),
        (3, Some("plain_http")),
        "{j}"
    );
    assert!(
        j["fix"]
            .as_str()
            .unwrap()
            .contains(&format!("http://{authority}")),
        "{j}"
    );
    assert!(
        !j["fix"].as_str().unwrap().contains("--insecure-tls"),
        "{j}"
    );
    sim.shutdown().await;
}

// ---- 2. private CAs; a warning on every --insecure-tls run ------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item2_a_private_ca_is_trusted_with_ca_file_or_ssl_cert_file() {
    let sim = simulator(|cfg| cfg.hosting.tls = true).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, sim.certificate_pem().expect("a certificate")).unwrap();
    let url = sim.base_url();

    let out = prestalink(&["check", "--url", &url, "--key", sim.key(), "--json"], &[]);
    assert_eq!(out.json()["code"], "tls_error");
    assert!(out.json()["fix"].as_str().unwrap().contains("--ca-file"));

    let out = prestalink(
        &[
            "check",
            "--url",
            &url,
            "--key",
            sim.key(),
            "--json",
            "--ca-file",
            path(&ca),
        ],
        &[],
    );
    assert_eq!(
        (out.code, out.json()["code"].clone()),
        (0, "connected".into()),
        "{}",
        out.stdout
    );
    assert!(!out.stderr.contains("insecure"), "{}", out.stderr);

    let out = prestalink(
        &["check", "--url", &url, "--key", sim.key(), "--json"],
        &[("SSL_CERT_FILE", path(&ca))],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);

    // The operating system's trust store is used too (rustls-native-certs; its SSL_CERT_DIR
    // stands in for /etc/ssl/certs here: prestalink itself does not read that variable).
    let certs = dir.path().join("certs");
    std::fs::create_dir(&certs).unwrap();
    std::fs::copy(&ca, certs.join("private-ca.pem")).unwrap();
    let out = prestalink(
        &["check", "--url", &url, "--key", sim.key(), "--json"],
        &[("SSL_CERT_DIR", path(&certs))],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);

    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "hello").unwrap();
    let out = prestalink(
        &[
            "check",
            "--url",
            &url,
            "--key",
            sim.key(),
            "--ca-file",
            path(&not_pem),
        ],
        &[],
    );
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains(path(&not_pem)), "{}", out.stderr);

    // Every run with --insecure-tls says so, sync included.
    let db = dir.path().join("shop.db");
    let out = sync(
        &sim,
        path(&db),
        &["--data-types", "commerce-info", "--insecure-tls"],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("--insecure-tls"), "{}", out.stderr);
    assert!(out.stderr.contains("not verified"), "{}", out.stderr);
    sim.shutdown().await;
}

// ---- 4. plan from the diagnosis ---------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item4_forbidden_data_types_are_not_read_and_check_exits_5() {
    let sim = simulator(|cfg| {
        cfg.gen.orders = 300;
        cfg.keys.push((
            LIMITED_KEY.into(),
            Permissions {
                resources: Some(vec!["orders".into(), "customers".into()]),
                ..Permissions::default()
            },
        ));
    })
    .await;
    let url = sim.base_url();
    let out = prestalink(&["check", "--url", &url, "--key", LIMITED_KEY], &[]);
    assert_eq!(out.code, 5, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("commerce-orders (needs"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("order_details"), "{}", out.stderr);
    // The full key can read every data type: 0.
    let out = prestalink(&["check", "--url", &url, "--key", sim.key()], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    sim.reset_counters();
    let out = prestalink(
        &[
            "sync",
            "--url",
            &url,
            "--key",
            LIMITED_KEY,
            "--db",
            path(&db),
            "--json",
            "--data-types",
            "commerce-orders,commerce-products",
        ],
        &[],
    );
    assert_eq!(out.code, 4, "{}\n{}", out.stdout, out.stderr);
    let j = out.json();
    for dt in ["commerce-orders", "commerce-products"] {
        assert_eq!(j["dataTypes"][dt]["status"], "PermissionsError", "{j}");
        assert_eq!(j["dataTypes"][dt]["records"], 0, "{j}");
        assert!(
            j["dataTypes"][dt]["error"]
                .as_str()
                .unwrap()
                .contains("View (GET)"),
            "{j}"
        );
    }
    let counters = sim.counters();
    let orders_read = counters
        .by_resource
        .get("orders")
        .map_or(0, |s| s.values().sum::<u64>());
    let customers_read = counters
        .by_resource
        .get("customers")
        .map_or(0, |s| s.values().sum::<u64>());
    eprintln!(
        "limited-key sync: {} requests in all ({} orders, {} customers)",
        counters.requests, orders_read, customers_read
    );
    assert_eq!(
        orders_read, 0,
        "orders read for nothing: {:?}",
        counters.by_resource
    );
    assert_eq!(customers_read, 0, "{:?}", counters.by_resource);
    assert_eq!(
        counters.records, 0,
        "records rendered: {:?}",
        counters.by_resource
    );
    sim.shutdown().await;
}

// ---- 8. one sync of a connection at a time ----------------------------------------------

fn slow_simulator_config(cfg: &mut SimulatorConfig) {
    // Long enough that the second process's diagnosis, whose requests queue at the
    // simulated laptop's workers behind the first sync's, ends while the first still runs
    // (with 1,000 orders a loaded machine once let the first finish before the second asked).
    cfg.gen.orders = 3000;
    cfg.gen.customers = 450;
    cfg.gen.products = 40;
    cfg.capacity = Capacity {
        time_scale: 0.3,
        ..Capacity::profile(Profile::Laptop)
    };
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item8_a_second_sync_of_the_same_connection_waits_or_stops() {
    let sim = simulator(slow_simulator_config).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("shop.db");
    // Link first (a quick sync), so both runs below use the same connection.
    let out = sync(&sim, path(&db), &["--data-types", "commerce-info"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);

    let spawn = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_prestalink"))
            .args(["sync", "--url", &sim.base_url(), "--key", sim.key()])
            .args([
                "--db",
                path(&db),
                "--json",
                "--data-types",
                "commerce-orders",
            ])
            .args(extra)
            .env_remove("PRESTALINK_MASTER_KEY")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("prestalink starts")
    };
    let first = spawn(&[]);
    // The first holds the lease once its diagnosis is done; whichever takes it first
    // syncs, the other stops with exit 6.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let second = finish(spawn(&[]).wait_with_output().unwrap());
    let first = finish(first.wait_with_output().unwrap());
    let (done, refused) = if first.code == 0 {
        (first, second)
    } else {
        (second, first)
    };
    assert_eq!(done.code, 0, "{}\n{}", done.stdout, done.stderr);
    assert_eq!(refused.code, 6, "{}\n{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("being synced by another process"),
        "{}",
        refused.stderr
    );
    let run_id = done.json()["runId"].as_str().unwrap().to_string();

    // History is not falsified: the first run stays completed.
    let store = prestalink_store::Store::open_with(
        path(&db),
        prestalink_store::StoreOptions {
            must_exist: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let connection = store.list_connections(None).await.unwrap()[0].id.clone();
    let runs = store.list_sync_runs(&connection, 50).await.unwrap();
    let orders: Vec<_> = runs.iter().filter(|r| r.run_id == run_id).collect();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0].status, prestalink_store::SyncStatus::Completed);
    assert!(runs
        .iter()
        .all(|r| r.status != prestalink_store::SyncStatus::Running));
    store.close().await;

    // With --wait the second one waits for the first and then syncs.
    let first = spawn(&[]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let second = finish(spawn(&["--wait", "120"]).wait_with_output().unwrap());
    let first = finish(first.wait_with_output().unwrap());
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(
        second.json()["dataTypes"]["commerce-orders"]["status"],
        "completed"
    );
    sim.shutdown().await;
}

// ---- 10. help, completions, man page, impossible caps ----------------------------------

#[test]
fn item10_help_lists_exit_codes_environment_and_data_types() {
    for command in [
        "check",
        "sync",
        "export",
        "serve",
        "api-key",
        "rotate-master-key",
    ] {
        let out = prestalink(&[command, "--help"], &[("PRESTALINK_DB", "")]);
        assert_eq!(out.code, 0, "{command}");
        assert!(
            out.stdout.contains("Exit codes:"),
            "{command}: {}",
            out.stdout
        );
        assert!(out.stdout.contains("Environment variables:"), "{command}");
        assert!(
            !out.stdout.contains("PRESTALINK_DB="),
            "{command}: {}",
            out.stdout
        );
        assert!(out.stdout.contains("PRESTALINK_LOG"), "{command}");
    }
    for command in ["sync", "export", "serve"] {
        let out = prestalink(&[command, "--help"], &[]);
        assert!(out.stdout.contains("PRESTALINK_DB"), "{command}");
        assert!(out.stdout.contains("PRESTALINK_MASTER_KEY") || command == "export");
    }
    for command in ["check", "sync", "export"] {
        let out = prestalink(&[command, "--help"], &[]);
        assert!(out.stdout.contains("Data types:"), "{command}");
        assert!(out.stdout.contains("commerce-paymentMethods"), "{command}");
    }
    let out = prestalink(&["sync", "--help"], &[]);
    assert!(out
        .stdout
        .contains("6  another sync of this connection is running"));
    assert!(out.stdout.contains("PRESTALINK_THREADS"));
    let out = prestalink(&["check", "--help"], &[]);
    assert!(out
        .stdout
        .contains("5  the key may not read every data type asked for"));
}

#[test]
fn item10_impossible_caps_are_refused() {
    let base = [
        "sync",
        "--url",
        "http://127.0.0.1:9",
        "--key",
        "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
    ];
    for extra in [
        ["--max-concurrency", "0"],
        ["--max-page-size", "0"],
        ["--max-requests-per-second", "0"],
        ["--max-requests-per-second=-3", "--full"],
        ["--data-types", "commerce-order"],
    ] {
        let args: Vec<&str> = base.iter().copied().chain(extra).collect();
        let out = prestalink(&args, &[]);
        assert_eq!(out.code, 2, "{extra:?}: {}", out.stderr);
        let option = extra[0].split('=').next().unwrap();
        assert!(out.stderr.contains(option), "{extra:?}: {}", out.stderr);
    }
    let out = prestalink(&["serve", "--workers", "0"], &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
}

#[test]
fn item10_completions_and_man_page() {
    for shell in ["bash", "zsh", "fish"] {
        let out = prestalink(&["completions", shell], &[]);
        assert_eq!(out.code, 0, "{shell}: {}", out.stderr);
        assert!(out.stdout.contains("rotate-master-key"), "{shell}");
        assert!(out.stdout.contains("max-concurrency"), "{shell}");
    }
    let out = prestalink(&["man"], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.starts_with(".ie") || out.stdout.contains(".TH prestalink"));
    let dir = tempfile::tempdir().unwrap();
    let out = prestalink(&["man", "--dir", path(dir.path())], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(dir.path().join("prestalink-sync.1").exists());
}

#[test]
fn item10_simulate_help_shows_its_defaults() {
    let out = prestalink(&["simulate", "--help"], &[]);
    assert_eq!(out.code, 0);
    // The generator's defaults, which used to be hidden behind optional values.
    for default in [
        "[default: 42]",
        "[default: 200]",
        "[default: 60]",
        "[default: Europe/Paris]",
        "[default: 127.0.0.1:8080]",
        "[default: laptop]",
    ] {
        assert!(out.stdout.contains(default), "{default}: {}", out.stdout);
    }
}
