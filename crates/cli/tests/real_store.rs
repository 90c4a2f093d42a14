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

#[test]
fn item1_address_without_scheme_connects_over_http_and_https_names_plain_http() {
    let Some(store) = store() else { return };
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
    let out = check(&store.variant(1), store.read_key, &[]);
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(out.json["authMode"], "ws_key", "{}", out.json);
    assert!(out.warnings().contains(&"auth_header_stripped".to_owned()));
}

#[test]
fn variant_2_redirect_needs_confirmation() {
    let Some(store) = store() else { return };
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
    let out = check(&store.variant(3), store.read_key, &[]);
    assert_eq!((out.exit, out.code()), (0, "connected"), "{}", out.json);
    assert_eq!(out.json["urlMode"], "dispatcher", "{}", out.json);
    assert!(out.warnings().contains(&"url_rewriting_off".to_owned()));
}

#[test]
fn variant_4_not_prestashop() {
    let Some(store) = store() else { return };
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
        let out = Command::new("mysql")
            .args([
                "-uprestashop",
                "-pprestashop",
                "-N",
                "-B",
                &self.database,
                "-e",
                sql,
            ])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim_end().to_string())
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

impl Drop for Restore<'_> {
    fn drop(&mut self) {
        for sql in self.statements.iter().rev() {
            if self.shop.try_sql(sql).is_none() {
                eprintln!("could not restore: {sql}");
            }
        }
    }
}

fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', "\\\\").replace('\'', "\\'"))
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
    for id in [by_php, by_sql] {
        let row = &shop.sql(&format!(
            "SELECT note, date_upd FROM ps_customer WHERE id_customer = {id}"
        ))[0];
        restore.statements.push(format!(
            "UPDATE ps_customer SET note = {}, date_upd = {} WHERE id_customer = {id}",
            quote(&row[0]),
            quote(&row[1])
        ));
    }
    let row = &shop.sql(&format!(
        "SELECT note, date_upd FROM ps_orders WHERE id_order = {order}"
    ))[0];
    restore.statements.push(format!(
        "UPDATE ps_orders SET note = {}, date_upd = {} WHERE id_order = {order}",
        quote(&row[0]),
        quote(&row[1])
    ));

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
