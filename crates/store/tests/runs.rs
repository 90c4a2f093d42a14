//! Sync runs and data status.

mod common;

use common::{at, connection, on_both_engines};
use prestalink_store::{SyncCounts, SyncStatus};

#[tokio::test]
async fn runs_record_progress_and_data_status_reports_the_last_success() {
    on_both_engines("sync_runs", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        let counts = |read, written, requests| SyncCounts {
            records_read: read,
            records_written: written,
            requests,
        };
        // Run 1: orders complete, customers fail.
        let orders1 = store
            .start_sync_run(&conn, "run-1", "commerce-orders", at(10))
            .await
            .unwrap();
        let customers1 = store
            .start_sync_run(&conn, "run-1", "commerce-customers", at(10))
            .await
            .unwrap();
        store
            .record_sync_progress(orders1, &counts(50, 50, 2), at(11))
            .await
            .unwrap();
        let running = store.get_sync_run(orders1).await.unwrap().unwrap();
        assert_eq!(running.status, SyncStatus::Running);
        assert_eq!(running.counts, counts(50, 50, 2));
        assert_eq!(running.finished_at, None);
        store
            .finish_sync_run(
                orders1,
                SyncStatus::Completed,
                &counts(100, 100, 3),
                None,
                at(12),
            )
            .await
            .unwrap();
        store
            .finish_sync_run(
                customers1,
                SyncStatus::Failed,
                &counts(5, 0, 1),
                Some("HTTP 500"),
                at(13),
            )
            .await
            .unwrap();
        // Run 2: orders running when the process dies; products completes.
        let orders2 = store
            .start_sync_run(&conn, "run-2", "commerce-orders", at(20))
            .await
            .unwrap();
        let products2 = store
            .start_sync_run(&conn, "run-2", "commerce-products", at(20))
            .await
            .unwrap();
        store
            .finish_sync_run(
                products2,
                SyncStatus::Completed,
                &counts(7, 7, 1),
                None,
                at(21),
            )
            .await
            .unwrap();

        let status = store.data_status(&conn).await.unwrap();
        let types: Vec<_> = status.iter().map(|s| s.data_type.as_str()).collect();
        assert_eq!(
            types,
            ["commerce-customers", "commerce-orders", "commerce-products"],
            "{}",
            t.engine()
        );
        assert_eq!(status[0].current_status, SyncStatus::Failed);
        assert_eq!(status[0].last_successful_sync, None);
        assert_eq!(status[0].latest_error.as_deref(), Some("HTTP 500"));
        assert_eq!(status[1].current_status, SyncStatus::Running);
        assert_eq!(status[1].latest_sync_id, "run-2");
        assert_eq!(
            status[1].latest_successful_sync_id.as_deref(),
            Some("run-1")
        );
        assert_eq!(
            status[1].last_successful_sync.as_deref(),
            Some("2025-01-01T00:00:12.000Z")
        );
        assert_eq!(status[2].current_status, SyncStatus::Completed);

        // A restarted process marks the dead run as interrupted.
        assert_eq!(
            store.interrupt_running_runs(&conn, at(30)).await.unwrap(),
            1
        );
        let dead = store.get_sync_run(orders2).await.unwrap().unwrap();
        assert_eq!(dead.status, SyncStatus::Failed);
        assert!(dead.error.unwrap().starts_with("interrupted"));
        assert_eq!(
            dead.finished_at.as_deref(),
            Some("2025-01-01T00:00:30.000Z")
        );

        let history = store.list_sync_runs(&conn, 3).await.unwrap();
        let ids: Vec<_> = history.iter().map(|r| r.id).collect();
        assert_eq!(ids, [products2, orders2, customers1]);
        assert!(store
            .record_sync_progress(999_999, &counts(0, 0, 0), at(1))
            .await
            .is_err());
        t
    })
    .await;
}
