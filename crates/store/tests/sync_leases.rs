//! One sync of a connection at a time (migration 0011): a second lease is refused with the
//! holder's name until the first is released, expires, or is taken over from a dead holder;
//! and a rotation of the master key re-encrypts every secret.

mod common;

use std::time::Duration;

use common::{at, on_both_engines};
use prestalink_store::{MasterKey, MasterKeySource, StoreError};

const TTL: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_second_lease_waits_for_release_expiry_or_takeover() {
    on_both_engines("sync_leases", |t| async move {
        let company = t.store.create_company("Acme", at(0)).await.unwrap();
        let c = t
            .store
            .create_or_get_connection(
                &company.id,
                "https://shop.example",
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
                at(1),
            )
            .await
            .unwrap();
        let first = t
            .store
            .acquire_sync_lease(&c.id, "one", TTL, at(10))
            .await
            .unwrap();
        let err = t
            .store
            .acquire_sync_lease(&c.id, "two", TTL, at(20))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::SyncInProgress { owner, .. } if owner == "one"),
            "{err}"
        );
        // Renewed, it still holds past its first expiry.
        assert!(t.store.renew_sync_lease(&first, TTL, at(50)).await.unwrap());
        assert!(t
            .store
            .acquire_sync_lease(&c.id, "two", TTL, at(100))
            .await
            .is_err());
        // Expired: taken; the old holder's renewal then fails.
        let second = t
            .store
            .acquire_sync_lease(&c.id, "two", TTL, at(200))
            .await
            .unwrap();
        assert!(!t
            .store
            .renew_sync_lease(&first, TTL, at(201))
            .await
            .unwrap());
        // Released: free at once.
        t.store.release_sync_lease(&second).await.unwrap();
        let third = t
            .store
            .acquire_sync_lease(&c.id, "three", TTL, at(202))
            .await
            .unwrap();
        // Taken over from a holder known to be dead, only while it still holds it.
        let taken = t
            .store
            .take_over_sync_lease(&c.id, "three", "four", TTL, at(203))
            .await
            .unwrap();
        assert_eq!(taken.map(|l| l.owner), Some("four".to_string()));
        assert!(t
            .store
            .take_over_sync_lease(&c.id, &third.owner, "five", TTL, at(204))
            .await
            .unwrap()
            .is_none());
        t
    })
    .await;
}

#[tokio::test]
async fn rotation_re_encrypts_every_secret_and_only_the_new_key_opens() {
    on_both_engines("rotation", |t| async move {
        let company = t.store.create_company("Acme", at(0)).await.unwrap();
        let c = t
            .store
            .create_or_get_connection(
                &company.id,
                "https://shop.example",
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
                at(1),
            )
            .await
            .unwrap();
        let new = MasterKey::from_bytes(&[9u8; 32]);
        let rotation = t.store.rotate_master_key(&new).await.unwrap();
        assert_eq!(rotation.connection_keys, 1);
        let reopened = t.reopen(MasterKeySource::Bytes([9u8; 32])).await;
        assert_eq!(
            reopened.decrypt_key(&c.id).await.unwrap(),
            "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
        );
        let err = t
            .try_reopen(MasterKeySource::Bytes(common::KEY))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::MasterKeyMismatch { .. }), "{err}");
        reopened.close().await;
        t
    })
    .await;
}
