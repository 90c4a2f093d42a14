//! `prestalink check` and `sync` (the real binary) against a real PrestaShop 8.1.2 and its
//! hosting variants, when `PRESTALINK_TEST_PRESTASHOP` points at one (see
//! `prestalink_testkit::real_store`); each test prints "skipped" otherwise.

use std::process::Command;

use prestalink_testkit::{real_store, RealStore};
use serde_json::Value;

struct Outcome {
    exit: i32,
    json: Value,
    stderr: String,
}

impl Outcome {
    fn code(&self) -> &str {
        self.json["code"].as_str().unwrap_or_default()
    }

    fn warnings(&self) -> Vec<String> {
        self.json["warnings"]
            .as_array()
            .map(|w| {
                w.iter()
                    .filter_map(|w| w["code"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn prestalink(args: &[&str]) -> Outcome {
    let output = Command::new(env!("CARGO_BIN_EXE_prestalink"))
        .args(args)
        .env_remove("PRESTALINK_MASTER_KEY")
        .env_remove("SSL_CERT_FILE")
        .output()
        .expect("prestalink runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let json = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}\n{stderr}"));
    for key in ["PRESTASHOPTESTREADKEY", "PRESTASHOPTESTLIMITKEY"] {
        assert!(
            !stdout.contains(key) && !stderr.contains(key),
            "a key leaked"
        );
    }
    Outcome {
        exit: output.status.code().expect("exit code"),
        json,
        stderr,
    }
}

fn check(url: &str, key: &str, extra: &[&str]) -> Outcome {
    let mut args = vec!["check", "--url", url, "--key", key, "--json"];
    args.extend_from_slice(extra);
    prestalink(&args)
}

fn store() -> Option<RealStore> {
    real_store()
}

/// The healthy store: connected over Basic auth and rewritten URLs, version, time zone,
/// currency and every resource prestalink uses readable; only the http:// warning.
#[test]
fn healthy_store_connects_with_basic_auth_and_rewritten_urls() {
    let Some(store) = store() else { return };
    let _lock = store.shared_lock();
    let out = check(&store.base_url, store.read_key, &[]);
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(out.json["authMode"], "basic", "{}", out.json);
    assert_eq!(out.json["urlMode"], "rewrite", "{}", out.json);
    assert_eq!(out.json["version"], "8.1.2", "{}", out.json);
    assert_eq!(out.json["timezone"], "Europe/Paris", "{}", out.json);
    assert_eq!(out.json["currency"], "EUR", "{}", out.json);
    assert_eq!(
        out.json["missingPermissions"],
        serde_json::json!([]),
        "{}",
        out.json
    );
    assert_eq!(
        out.warnings(),
        vec!["insecure_http".to_owned()],
        "{}",
        out.json
    );
}

#[test]
fn item1_address_without_scheme_connects_over_http_and_https_names_plain_http() {
    let Some(store) = store() else { return };
    let _lock = store.shared_lock();
    let authority = store.authority().to_string();
    let out = check(&authority, store.read_key, &[]);
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(out.json["storeUrl"], format!("http://{authority}/"));
    assert!(
        out.warnings().contains(&"insecure_http".to_owned()),
        "{}",
        out.json
    );

    let out = check(&format!("https://{authority}"), store.read_key, &[]);
    assert_eq!((out.exit, out.code()), (3, "plain_http"), "{}", out.json);
    let fix = out.json["fix"].as_str().unwrap();
    assert!(fix.contains(&format!("http://{authority}/")), "{fix}");
    assert!(!fix.contains("--insecure-tls"), "{fix}");
}

#[test]
fn item3_lower_case_key_and_pasted_ws_key_are_accepted() {
    let Some(store) = store() else { return };
    let _lock = store.shared_lock();
    for key in [
        store.read_key.to_lowercase(),
        format!("ws_key={}", store.read_key),
        format!("?ws_key={}", store.read_key.to_lowercase()),
    ] {
        let out = check(&store.base_url, &key, &[]);
        assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    }
}

#[test]
fn item4_limit_key_check_names_missing_data_types_and_sync_reads_nothing_for_them() {
    let Some(store) = store() else { return };
    let _lock = store.shared_lock();
    let out = check(&store.base_url, store.limit_key, &[]);
    assert_eq!((out.exit, out.code()), (5, "connected"), "{}", out.json);
    for dt in ["commerce-orders", "commerce-products"] {
        assert!(
            out.stderr.contains(&format!("{dt} (needs")),
            "{}",
            out.stderr
        );
    }
    assert!(out.stderr.contains("PermissionsError"), "{}", out.stderr);

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("limit.db");
    let out = prestalink(&[
        "sync",
        "--url",
        &store.base_url,
        "--key",
        store.limit_key,
        "--db",
        db.to_str().unwrap(),
        "--data-types",
        "commerce-orders,commerce-products",
        "--json",
    ]);
    assert_eq!(out.exit, 4, "{}\n{}", out.json, out.stderr);
    for dt in ["commerce-orders", "commerce-products"] {
        let report = &out.json["dataTypes"][dt];
        assert_eq!(report["status"], "PermissionsError", "{}", out.json);
        assert_eq!(report["records"], 0, "{}", out.json);
        assert_eq!(report["requests"], 0, "{}", out.json);
    }
    let requests = out.json["requests"].as_u64().unwrap();
    eprintln!(
        "limit-key sync of orders and products: {requests} requests after the diagnosis, {:.2} s",
        out.json["seconds"].as_f64().unwrap_or_default()
    );
    // At most the shop-clock probe; no resource is read.
    assert!(requests <= 1, "{}", out.json);
}

#[test]
fn variant_1_stripped_authorization_falls_back_to_ws_key() {
    let Some(store) = store() else { return };
    let _lock = store.shared_lock();
    let out = check(&store.variant(1), store.read_key, &[]);
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(out.json["authMode"], "ws_key", "{}", out.json);
    assert!(out.warnings().contains(&"auth_header_stripped".to_owned()));
}

#[test]
fn variant_2_redirect_needs_confirmation() {
    let Some(store) = store() else { return };
    let _lock = store.shared_lock();
    let out = check(&store.variant(2), store.read_key, &[]);
    assert_eq!(
        (out.exit, out.code()),
        (3, "redirect_needs_confirmation"),
        "{}",
        out.json
    );
    let out = check(&store.variant(2), store.read_key, &["--accept-redirect"]);
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(out.json["storeUrl"], format!("{}/", store.base_url));
}

#[test]
fn variant_3_no_url_rewriting_uses_the_dispatcher() {
    let Some(store) = store() else { return };
    let _lock = store.shared_lock();
    let out = check(&store.variant(3), store.read_key, &[]);
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(out.json["urlMode"], "dispatcher", "{}", out.json);
    assert!(out.warnings().contains(&"url_rewriting_off".to_owned()));
}

#[test]
fn variant_4_not_prestashop() {
    let Some(store) = store() else { return };
    let _lock = store.shared_lock();
    let out = check(&store.variant(4), store.read_key, &[]);
    assert_eq!(
        (out.exit, out.code()),
        (3, "not_prestashop"),
        "{}",
        out.json
    );
}

#[test]
fn item1_without_a_port_a_closed_443_falls_back_to_port_80() {
    let Some(store) = store() else { return };
    let _lock = store.shared_lock();
    let host = store
        .authority()
        .rsplit_once(':')
        .map_or(store.authority(), |(h, _)| h)
        .to_string();
    // The store's Apache answers on port 80 (its default site); 443 must be closed here.
    if std::net::TcpStream::connect((host.as_str(), 443)).is_ok() {
        eprintln!("skipped: {host}:443 is open on this machine");
        return;
    }
    if std::net::TcpStream::connect((host.as_str(), 80)).is_err() {
        eprintln!("skipped: nothing answers on {host}:80");
        return;
    }
    let out = check(&host, store.read_key, &[]);
    // Port 80 was asked, not "connection refused on 443": the default site is not a shop.
    assert_eq!(
        out.json["storeUrl"],
        format!("http://{host}/"),
        "{}",
        out.json
    );
    assert_ne!(out.code(), "unreachable", "{}", out.json);
}

/// The real store's database and files, for tests that change the shop and compare what a
/// sync exported with the database: `mysql -uprestashop -pprestashop prestashop_PORT` and
/// `/var/www/prestashop-PORT` (see ../shared/prestashop/README.md), or
/// `PRESTALINK_TEST_PRESTASHOP_DB` and `PRESTALINK_TEST_PRESTASHOP_DIR`.
struct ShopBackend {
    database: String,
    dir: std::path::PathBuf,
}

impl ShopBackend {
    fn new(store: &RealStore) -> Option<ShopBackend> {
        let port = store.authority().rsplit_once(':').map_or("80", |(_, p)| p);
        let database = std::env::var("PRESTALINK_TEST_PRESTASHOP_DB")
            .unwrap_or_else(|_| format!("prestashop_{port}"));
        let dir = std::env::var("PRESTALINK_TEST_PRESTASHOP_DIR")
            .unwrap_or_else(|_| format!("/var/www/prestashop-{port}"));
        let backend = ShopBackend {
            database,
            dir: dir.into(),
        };
        let reachable = backend.dir.join("config/config.inc.php").is_file()
            && backend.try_sql("SELECT 1").is_some_and(|r| r == "1");
        if !reachable {
            eprintln!(
                "skipped: the shop's database {} or files {} are not reachable",
                backend.database,
                backend.dir.display()
            );
            return None;
        }
        Some(backend)
    }

    fn try_sql(&self, sql: &str) -> Option<String> {
        prestalink_testkit::shop_sql(&self.database, sql)
    }

    /// Runs SQL; returns its rows, tab-separated columns.
    fn sql(&self, sql: &str) -> Vec<Vec<String>> {
        let out = self
            .try_sql(sql)
            .unwrap_or_else(|| panic!("mysql failed on: {sql}"));
        out.lines()
            .filter(|l| !l.is_empty())
            .map(|l| {
                l.split('\t')
                    .map(|c| {
                        if c == "NULL" {
                            String::new()
                        } else {
                            c.to_string()
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Runs a PHP script in the shop's root with PrestaShop loaded (`config/config.inc.php`),
    /// as the web user with php-cli, else through the web server; the file is removed after.
    fn php(&self, body: &str, base_url: &str) -> String {
        let name = format!("prestalink-test-{}.php", std::process::id());
        let path = self.dir.join(&name);
        let script = format!(
            "<?php\nchdir(__DIR__);\nrequire __DIR__ . '/config/config.inc.php';\n{body}\n"
        );
        std::fs::write(&path, script).expect("the shop's root is writable");
        struct Remove(std::path::PathBuf);
        impl Drop for Remove {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
        let _remove = Remove(path.clone());
        let _ = Command::new("chown")
            .args(["www-data:www-data"])
            .arg(&path)
            .status();
        let cli = Command::new("runuser")
            .args(["-u", "www-data", "--", "php"])
            .arg(&name)
            .current_dir(&self.dir)
            .output();
        let out = match cli {
            Ok(out) if out.status.success() => out,
            _ => Command::new("curl")
                .args(["-s", "-f", &format!("{base_url}/{name}")])
                .output()
                .expect("curl runs"),
        };
        assert!(
            out.status.success(),
            "the PHP script failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// Puts back the rows a test changed, even when it fails half-way.
struct Restore<'a> {
    shop: &'a ShopBackend,
    statements: Vec<String>,
}

impl Restore<'_> {
    /// Copies the rows of `table` matching `condition` into a table of their own and
    /// registers putting them back (`REPLACE`) and dropping the copy.
    fn backup(&mut self, table: &str, condition: &str) {
        let copy = format!(
            "prestalink_backup_{}_{}_{}",
            table,
            std::process::id(),
            self.statements.len()
        );
        self.shop.sql(&format!(
            "CREATE TABLE {copy} AS SELECT * FROM {table} WHERE {condition}"
        ));
        // Statements run in reverse order: put back, then drop the copy.
        self.statements.push(format!("DROP TABLE {copy}"));
        self.statements
            .push(format!("REPLACE INTO {table} SELECT * FROM {copy}"));
    }
}

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        for sql in self.statements.iter().rev() {
            if self.shop.try_sql(sql).is_none() {
                eprintln!("could not restore: {sql}");
            }
        }
    }
}

fn export(db: &std::path::Path, data_type: &str) -> Vec<Value> {
    let out = prestalink(&[
        "export",
        "--db",
        db.to_str().unwrap(),
        "--data-type",
        data_type,
        "--format",
        "json",
    ]);
    assert_eq!(out.exit, 0, "{}", out.stderr);
    out.json.as_array().cloned().unwrap_or_default()
}

/// The README's guarantee on a real PrestaShop 8.1.2 whose MariaDB runs in UTC while
/// PS_TIMEZONE is Europe/Paris: after a full sync, an order and a customer changed through
/// PrestaShop's own objects (`$order->update()`, `$customer->update()`, dated by PHP in Paris
/// time), a customer changed by SQL with `date_upd = NOW()` (dated an hour behind, by the
/// database's clock) and stock changed in `ps_stock_available` without any timestamp are all
/// exported as the database has them after one incremental sync. Every row is put back after.
#[test]
fn incremental_sync_exports_php_sql_and_stock_changes_of_the_real_store() {
    let Some(store) = store() else { return };
    let _lock = store.shared_lock();
    let Some(shop) = ShopBackend::new(&store) else {
        return;
    };
    let zone = shop.sql("SELECT value FROM ps_configuration WHERE name = 'PS_TIMEZONE'");
    let db_offset = shop.sql("SELECT TIMESTAMPDIFF(MINUTE, UTC_TIMESTAMP(), NOW())");
    eprintln!(
        "PS_TIMEZONE {:?}, database clock UTC{:+} min",
        zone[0][0], db_offset[0][0]
    );
    let customers = shop.sql("SELECT id_customer FROM ps_customer ORDER BY id_customer");
    let orders = shop.sql("SELECT id_order FROM ps_orders ORDER BY id_order LIMIT 2");
    assert!(
        customers.len() >= 2 && orders.len() >= 2,
        "the demo data is there"
    );
    let (by_php, by_sql) = (&customers[1][0], &customers[0][0]);
    let order = &orders[0][0];

    let mut restore = Restore {
        shop: &shop,
        statements: Vec::new(),
    };
    // Whole rows are copied and put back: PrestaShop's ObjectModel::update() rewrites every
    // column (an empty `website` becomes NULL), not only the note and the date.
    for id in [by_php, by_sql] {
        restore.backup("ps_customer", &format!("id_customer = {id}"));
    }
    restore.backup("ps_orders", &format!("id_order = {order}"));

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("real.db");
    let sync = || {
        let out = prestalink(&[
            "sync",
            "--url",
            &store.base_url,
            "--key",
            store.read_key,
            "--db",
            db.to_str().unwrap(),
            "--data-types",
            "commerce-customers,commerce-orders,commerce-products",
            "--json",
        ]);
        assert_eq!(out.exit, 0, "{}\n{}", out.json, out.stderr);
        out.json
    };
    sync();

    let token: String = {
        use rand::Rng;
        let mut rng = rand::thread_rng();
        (0..8).map(|_| rng.gen_range(b'a'..=b'z') as char).collect()
    };
    let printed = shop.php(
        &format!(
            "$c = new Customer({by_php}); $c->note = 'php customer {token}'; \
             $ok1 = $c->update();\n\
             $o = new Order({order}); $o->note = 'php order {token}'; $ok2 = $o->update();\n\
             echo json_encode([$ok1, $ok2, $c->date_upd, $o->date_upd]);"
        ),
        &store.base_url,
    );
    eprintln!("PHP updated customer {by_php} and order {order}: {printed}");
    shop.sql(&format!(
        "UPDATE ps_customer SET note = 'sql customer {token}', date_upd = NOW() \
         WHERE id_customer = {by_sql}"
    ));
    restore.statements.push(
        "UPDATE ps_stock_available SET quantity = quantity - 7 \
               WHERE id_product_attribute BETWEEN 1 AND 10"
            .to_string(),
    );
    shop.sql(
        "UPDATE ps_stock_available SET quantity = quantity + 7 \
         WHERE id_product_attribute BETWEEN 1 AND 10",
    );

    let report = sync();
    eprintln!(
        "incremental sync: {} requests, {} s",
        report["requests"], report["seconds"]
    );

    // The export against the database, row by row.
    let exported = export(&db, "commerce-customers");
    let rows = shop.sql("SELECT id_customer, note, date_upd FROM ps_customer");
    for row in &rows {
        let record = exported
            .iter()
            .find(|c| c["id"] == row[0].as_str())
            .unwrap_or_else(|| panic!("customer {} was exported", row[0]));
        let note = record["note"].as_str().unwrap_or_default();
        assert_eq!(note, row[1], "customer {}: note", row[0]);
        let modified = record["sourceModifiedDate"].as_str().unwrap_or_default();
        assert_eq!(
            modified.get(..19),
            Some(row[2].replace(' ', "T").as_str()),
            "customer {}: date_upd",
            row[0]
        );
    }
    assert!(rows.iter().any(|r| r[1] == format!("php customer {token}")));
    assert!(rows.iter().any(|r| r[1] == format!("sql customer {token}")));

    let exported = export(&db, "commerce-orders");
    for row in shop.sql("SELECT id_order, note, date_upd FROM ps_orders") {
        let record = exported
            .iter()
            .find(|o| o["id"] == row[0].as_str())
            .unwrap_or_else(|| panic!("order {} was exported", row[0]));
        let note = record["supplementalData"]["content"]["note"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(note, row[1], "order {}: note", row[0]);
        let modified = record["sourceModifiedDate"].as_str().unwrap_or_default();
        assert_eq!(
            modified.get(..19),
            Some(row[2].replace(' ', "T").as_str()),
            "order {}: date_upd",
            row[0]
        );
    }

    let exported = export(&db, "commerce-products");
    let stock = shop.sql(
        "SELECT id_product, id_product_attribute, SUM(quantity) FROM ps_stock_available \
         WHERE id_product_attribute > 0 GROUP BY id_product, id_product_attribute",
    );
    assert!(stock.len() >= 10, "the demo data has combinations");
    for row in &stock {
        let product = exported
            .iter()
            .find(|p| p["id"] == row[0].as_str())
            .unwrap_or_else(|| panic!("product {} was exported", row[0]));
        let variant = product["variants"]
            .as_array()
            .and_then(|v| v.iter().find(|v| v["id"] == row[1].as_str()))
            .unwrap_or_else(|| panic!("combination {} of product {} was exported", row[1], row[0]));
        let quantity = variant["inventory"]["totalQuantity"]
            .as_f64()
            .unwrap_or(-1.0);
        assert_eq!(
            quantity,
            row[2].parse::<f64>().unwrap(),
            "combination {} of product {}: quantity",
            row[1],
            row[0]
        );
    }
    drop(restore);
}

/// `check` on a shop whose Webservice is switched off (PS_WEBSERVICE = 0, as the back
/// office's switch writes it): exit 3, `webservice_disabled`, and a fix that names the back
/// office page. The switch is put back after (even on a failure), under the store's
/// exclusive lock so that no other real-store test runs meanwhile; `check` connects again
/// after the restore.
#[test]
fn disabled_webservice_is_diagnosed() {
    let Some(store) = store() else { return };
    let Some(shop) = ShopBackend::new(&store) else {
        return;
    };
    let _lock = store.exclusive_lock();
    let before = shop.sql("SELECT value FROM ps_configuration WHERE name = 'PS_WEBSERVICE'");
    assert_eq!(before.len(), 1, "one PS_WEBSERVICE row: {before:?}");
    assert_eq!(before[0][0], "1", "the Webservice is on before the test");
    let restore = Restore {
        shop: &shop,
        statements: vec![
            "UPDATE ps_configuration SET value = '1' WHERE name = 'PS_WEBSERVICE'".to_string(),
        ],
    };
    shop.sql("UPDATE ps_configuration SET value = '0' WHERE name = 'PS_WEBSERVICE'");

    let out = check(&store.base_url, store.read_key, &[]);
    assert_eq!(
        (out.exit, out.code()),
        (3, "webservice_disabled"),
        "{}",
        out.json
    );
    let fix = out.json["fix"].as_str().unwrap_or_default();
    assert!(fix.contains("Webservice"), "{fix}");
    // The same through the ws_key fallback host: the switch is checked before the key.
    let out = check(&store.variant(1), store.read_key, &[]);
    assert_eq!(
        (out.exit, out.code()),
        (3, "webservice_disabled"),
        "{}",
        out.json
    );

    drop(restore);
    let out = check(&store.base_url, store.read_key, &[]);
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
}

/// An instant from the shop's database: a `DATETIME` written in PS_TIMEZONE.
fn shop_instant(local: &str, zone: chrono_tz::Tz) -> chrono::DateTime<chrono::FixedOffset> {
    use chrono::{Offset, TimeZone};
    let naive = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|e| panic!("{local:?}: {e}"));
    match zone.from_local_datetime(&naive).earliest() {
        Some(t) => t.fixed_offset(),
        // In a daylight-saving gap (the scaled store has such dates): PHP reads it with the
        // offset in force before the gap, i.e. a time moved forward by the gap.
        None => {
            let before = zone
                .from_local_datetime(&(naive - chrono::Duration::hours(4)))
                .earliest()
                .unwrap_or_else(|| panic!("{local}: no offset before the gap in {zone}"))
                .offset()
                .fix();
            before
                .from_local_datetime(&naive)
                .single()
                .expect("a fixed offset has every local time")
        }
    }
}

fn exported_instant(record: &Value, field: &str) -> chrono::DateTime<chrono::FixedOffset> {
    let text = record[field].as_str().unwrap_or_default();
    chrono::DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{field} {text:?} of {}: {e}", record["id"]))
}

fn cents(text: &str) -> i64 {
    (text
        .parse::<f64>()
        .unwrap_or_else(|e| panic!("{text:?}: {e}"))
        * 100.0)
        .round() as i64
}

fn value_cents(v: &Value) -> i64 {
    (v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")) * 100.0).round() as i64
}

/// A full sync of every data type, exported and compared with the shop's own database:
/// counts of orders, order lines, customers, products and combinations; each order's
/// total, tax and currency and the sums over all orders; line quantities; creation and
/// modification dates as instants, read in the shop's time zone (PS_TIMEZONE), since
/// PrestaShop writes them in shop-local time.
#[test]
fn full_sync_matches_the_shop_database() {
    let Some(store) = store() else { return };
    let _lock = store.shared_lock();
    let Some(shop) = ShopBackend::new(&store) else {
        return;
    };
    let zone_name =
        shop.sql("SELECT value FROM ps_configuration WHERE name = 'PS_TIMEZONE'")[0][0].clone();
    let zone: chrono_tz::Tz = zone_name.parse().expect("PS_TIMEZONE is an IANA zone");

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("full.db");
    let started = std::time::Instant::now();
    let out = prestalink(&[
        "sync",
        "--url",
        &store.base_url,
        "--key",
        store.read_key,
        "--db",
        db.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.exit, 0, "{}\n{}", out.json, out.stderr);
    for (dt, report) in out.json["dataTypes"].as_object().expect("dataTypes") {
        assert!(
            ["completed", "notSupported"].contains(&report["status"].as_str().unwrap_or_default()),
            "{dt}: {report}"
        );
    }
    eprintln!(
        "full sync: {} requests, {:.2} s ({:.2} s with the process)",
        out.json["requests"],
        out.json["seconds"].as_f64().unwrap_or_default(),
        started.elapsed().as_secs_f64()
    );

    // Orders, one by one, then the sums.
    let orders = export(&db, "commerce-orders");
    let rows = shop.sql(
        "SELECT o.id_order, o.total_paid_tax_incl, o.total_paid_tax_excl, c.iso_code, \
         o.date_add, o.date_upd, \
         (SELECT COUNT(*) FROM ps_order_detail d WHERE d.id_order = o.id_order), \
         (SELECT COALESCE(SUM(d.product_quantity), 0) FROM ps_order_detail d WHERE d.id_order = o.id_order) \
         FROM ps_orders o JOIN ps_currency c ON c.id_currency = o.id_currency ORDER BY o.id_order",
    );
    assert!(!rows.is_empty(), "the shop has orders");
    assert_eq!(orders.len(), rows.len(), "orders exported vs ps_orders");
    let (mut total, mut tax) = (0i64, 0i64);
    for row in &rows {
        let order = orders
            .iter()
            .find(|o| o["id"] == row[0].as_str())
            .unwrap_or_else(|| panic!("order {} was exported", row[0]));
        let what = format!("order {}", row[0]);
        assert_eq!(
            value_cents(&order["totalAmount"]),
            cents(&row[1]),
            "{what}: total"
        );
        assert_eq!(
            value_cents(&order["totalTaxAmount"]),
            cents(&row[1]) - cents(&row[2]),
            "{what}: tax"
        );
        assert_eq!(order["currency"], row[3].as_str(), "{what}: currency");
        assert_eq!(
            exported_instant(order, "createdDate"),
            shop_instant(&row[4], zone),
            "{what}: date_add in {zone_name}"
        );
        assert_eq!(
            exported_instant(order, "sourceModifiedDate"),
            shop_instant(&row[5], zone),
            "{what}: date_upd in {zone_name}"
        );
        let lines = order["orderLineItems"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert_eq!(lines.len().to_string(), row[6], "{what}: lines");
        let quantity: i64 = lines
            .iter()
            .map(|l| l["quantity"].as_i64().unwrap_or(0))
            .sum();
        assert_eq!(quantity.to_string(), row[7], "{what}: quantities");
        total += value_cents(&order["totalAmount"]);
        tax += value_cents(&order["totalTaxAmount"]);
    }
    let sums = &shop.sql(
        "SELECT SUM(total_paid_tax_incl), SUM(total_paid_tax_incl - total_paid_tax_excl) FROM ps_orders",
    )[0];
    assert_eq!(total, cents(&sums[0]), "sum of order totals");
    assert_eq!(tax, cents(&sums[1]), "sum of order taxes");

    // Customers: the same ids and e-mails, creation dates in the shop's zone.
    let customers = export(&db, "commerce-customers");
    let rows =
        shop.sql("SELECT id_customer, email, date_add FROM ps_customer ORDER BY id_customer");
    assert_eq!(
        customers.len(),
        rows.len(),
        "customers exported vs ps_customer"
    );
    for row in &rows {
        let customer = customers
            .iter()
            .find(|c| c["id"] == row[0].as_str())
            .unwrap_or_else(|| panic!("customer {} was exported", row[0]));
        assert_eq!(
            customer["emailAddress"],
            row[1].as_str(),
            "customer {}",
            row[0]
        );
        assert_eq!(
            exported_instant(customer, "createdDate"),
            shop_instant(&row[2], zone),
            "customer {}: date_add in {zone_name}",
            row[0]
        );
    }

    // Products and their combinations.
    let products = export(&db, "commerce-products");
    let count = &shop.sql("SELECT COUNT(*) FROM ps_product")[0][0];
    assert_eq!(
        products.len().to_string(),
        *count,
        "products exported vs ps_product"
    );
    // A product with combinations has one variant per combination (ids as in
    // ps_product_attribute); a product without has one variant.
    let by_product: std::collections::BTreeMap<String, Vec<String>> = shop
        .sql(
            "SELECT id_product, GROUP_CONCAT(id_product_attribute ORDER BY id_product_attribute) \
             FROM ps_product_attribute GROUP BY id_product",
        )
        .into_iter()
        .map(|r| (r[0].clone(), r[1].split(',').map(str::to_string).collect()))
        .collect();
    let mut combinations = 0;
    for product in &products {
        let id = product["id"].as_str().unwrap_or_default();
        let mut variants: Vec<String> = product["variants"]
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|v| v["id"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        variants.sort_by_key(|v| v.parse::<u64>().unwrap_or(0));
        match by_product.get(id) {
            Some(ids) => {
                assert_eq!(&variants, ids, "product {id}: variants vs combinations");
                combinations += ids.len();
            }
            None => assert_eq!(variants.len(), 1, "product {id} without combinations"),
        }
    }
    eprintln!(
        "compared: {} orders ({} cents in total), {} customers, {} products, {combinations} combinations",
        orders.len(),
        total,
        customers.len(),
        products.len()
    );
}
