//! Companies, connections, key encryption at rest, status and remembered settings.

mod common;

use common::{at, on_both_engines, sqlite_store, KEY};
use prestalink_store::{ConnectionStatus, MasterKeySource, Store, StoreError, StoreOptions};
use serde_json::json;

const KEY_A: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ123456";
const KEY_B: &str = "ZYXWVUTSRQPONMLKJIHGFEDCBA654321";

#[tokio::test]
async fn connections_store_keys_encrypted_and_show_them_masked() {
    on_both_engines("connections", |t| async move {
        let store = &t.store;
        let company = store.create_company("Acme", at(0)).await.unwrap();
        assert_eq!(
            store.get_company(&company.id).await.unwrap().unwrap(),
            company
        );
        let c = store
            .create_or_get_connection(&company.id, "https://shop.example", KEY_A, at(1))
            .await
            .unwrap();
        assert_eq!(c.status, ConnectionStatus::PendingAuth);
        assert_eq!(c.key_masked, format!("{}3456", "*".repeat(28)));
        assert!(!format!("{c:?}").contains(KEY_A));
        assert!(!serde_json::to_string(&c).unwrap().contains(KEY_A));
        assert_eq!(store.decrypt_key(&c.id).await.unwrap(), KEY_A);

        // Same store URL: the same connection; same key changes nothing.
        store
            .set_connection_status(&c.id, ConnectionStatus::Linked, None, at(2))
            .await
            .unwrap();
        let again = store
            .create_or_get_connection(&company.id, "https://shop.example", KEY_A, at(3))
            .await
            .unwrap();
        assert_eq!(again.id, c.id);
        assert_eq!(again.status, ConnectionStatus::Linked);
        assert_eq!(again.updated_at, "2025-01-01T00:00:02.000Z");

        // A new key replaces the old one and needs verifying again.
        let relinked = store
            .create_or_get_connection(&company.id, "https://shop.example", KEY_B, at(4))
            .await
            .unwrap();
        assert_eq!(relinked.id, c.id);
        assert_eq!(relinked.status, ConnectionStatus::PendingAuth);
        assert_eq!(store.decrypt_key(&c.id).await.unwrap(), KEY_B);

        store
            .set_connection_status(
                &c.id,
                ConnectionStatus::Deauthorized,
                Some("401: key revoked"),
                at(5),
            )
            .await
            .unwrap();
        let settings = json!({"authMode": "basic", "urlMode": "rewrite", "format": "json"});
        store
            .set_connection_settings(&c.id, &settings, at(6))
            .await
            .unwrap();
        let pacer = json!({"concurrency": 4, "pageSize": 250});
        store
            .save_pacer_settings(&c.id, &pacer, at(7))
            .await
            .unwrap();
        let got = store.get_connection(&c.id).await.unwrap().unwrap();
        assert_eq!(got.status, ConnectionStatus::Deauthorized);
        assert_eq!(got.status_reason.as_deref(), Some("401: key revoked"));
        assert_eq!(got.settings, settings);
        assert_eq!(got.pacer_settings, Some(pacer));
        assert_eq!(got.updated_at, "2025-01-01T00:00:07.000Z");

        let other = store
            .create_or_get_connection(&company.id, "https://other.example", KEY_A, at(8))
            .await
            .unwrap();
        let all = store.list_connections(Some(&company.id)).await.unwrap();
        assert_eq!(
            all.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            [c.id.as_str(), other.id.as_str()]
        );
        assert_eq!(store.list_connections(None).await.unwrap().len(), 2);

        let missing = store
            .set_connection_status("nope", ConnectionStatus::Linked, None, at(9))
            .await
            .unwrap_err();
        assert!(matches!(missing, StoreError::NotFound { .. }), "{missing}");
        let no_company = store
            .create_or_get_connection("no-such-company", "https://x.example", KEY_A, at(9))
            .await;
        assert!(no_company.is_err(), "{}", t.engine());

        assert!(store.delete_connection(&other.id).await.unwrap());
        assert!(store.get_connection(&other.id).await.unwrap().is_none());

        // Deleting the company removes its connections and their records (cascade).
        let record = prestalink_store::CommerceRecord {
            id: "1".into(),
            data: json!({"id": "1"}),
            source_modified_date: None,
        };
        store
            .upsert_commerce_page(&c.id, "commerce-orders", &[record], None, at(10))
            .await
            .unwrap();
        assert!(store.delete_company(&company.id).await.unwrap());
        assert!(store.get_connection(&c.id).await.unwrap().is_none());
        assert!(store
            .get_record(&c.id, "commerce-orders", "1")
            .await
            .unwrap()
            .is_none());
        assert!(!store.delete_company(&company.id).await.unwrap());
        t
    })
    .await;
}

#[tokio::test]
async fn keys_are_not_stored_in_clear_and_need_the_same_master_key() {
    on_both_engines("master_key", |t| async move {
        let company = t.store.create_company("Acme", at(0)).await.unwrap();
        let c = t
            .store
            .create_or_get_connection(&company.id, "https://shop.example", KEY_A, at(1))
            .await
            .unwrap();
        // Another master key does not even open the database (the check value of 0011),
        // and the error names both keys; nothing is re-encrypted under it.
        let err = t
            .try_reopen(MasterKeySource::Bytes([1u8; 32]))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::MasterKeyMismatch { .. }), "{err}");
        assert!(
            err.to_string()
                .contains(t.store.master_key_fingerprint().unwrap()),
            "{err}"
        );
        assert!(
            err.to_string().contains("does not match this database"),
            "{err}"
        );
        // Without one, key operations refuse clearly; other data still reads.
        let none = t.reopen(MasterKeySource::None).await;
        assert!(matches!(
            none.decrypt_key(&c.id).await,
            Err(StoreError::MasterKeyMissing)
        ));
        assert!(none.get_connection(&c.id).await.unwrap().is_some());
        // The original key still works after reopening.
        let same = t.reopen(MasterKeySource::Bytes(KEY)).await;
        assert_eq!(same.decrypt_key(&c.id).await.unwrap(), KEY_A);
        t
    })
    .await;
}

#[tokio::test]
async fn sqlite_creates_a_private_key_file_and_uses_wal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data.db");
    let store = Store::open(db.to_str().unwrap()).await;
    // PRESTALINK_MASTER_KEY may be set in the environment; the file is the default otherwise.
    let store = match std::env::var(prestalink_store::MASTER_KEY_ENV) {
        Ok(_) => {
            eprintln!(
                "key file part skipped: {} is set",
                prestalink_store::MASTER_KEY_ENV
            );
            return;
        }
        Err(_) => store.unwrap(),
    };
    let key_file = dir.path().join("data.db.key");
    let meta = std::fs::metadata(&key_file).expect("key file created beside the database");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }
    let _ = meta;
    let company = store.create_company("Acme", at(0)).await.unwrap();
    let c = store
        .create_or_get_connection(&company.id, "https://shop.example", KEY_A, at(1))
        .await
        .unwrap();
    store.close().await;
    // The raw database file never holds the key in clear.
    let bytes = std::fs::read(&db).unwrap();
    let wal = std::fs::read(dir.path().join("data.db-wal")).unwrap_or_default();
    for content in [&bytes, &wal] {
        assert!(!content.windows(KEY_A.len()).any(|w| w == KEY_A.as_bytes()));
    }
    let reopened = Store::open(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    assert_eq!(reopened.decrypt_key(&c.id).await.unwrap(), KEY_A);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut common::sqlite_connection(&db).await)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn bad_locations_are_clear_errors() {
    let err = Store::open("").await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidLocation { .. }), "{err}");
    let err = Store::open("/nonexistent-dir-prestalink/x.db")
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("/nonexistent-dir-prestalink does not exist"),
        "{err}"
    );
    let err = Store::open_with(
        "postgres://user:secret@127.0.0.1:1/db",
        StoreOptions {
            postgres_schema: Some("Bad-Name".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(!err.to_string().contains("secret"), "{err}");
    assert!(err.to_string().contains("Bad-Name"), "{err}");
    // In-memory SQLite works (no key file) and is shared by the pool's connections.
    let memory = Store::open_with(
        "sqlite::memory:",
        StoreOptions {
            master_key: MasterKeySource::Bytes(KEY),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    memory.create_company("Acme", at(0)).await.unwrap();
    assert_eq!(memory.list_companies().await.unwrap().len(), 1);
    let _ = sqlite_store().await;
}
