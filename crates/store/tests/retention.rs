//! Retention: old finished jobs, pull operations and sync runs are deleted in bounded
//! batches; queued work and the latest pull operation and sync run of each data type stay.

mod common;

use chrono::Duration;
use common::{at, connection, on_both_engines};
use prestalink_store::{DatasetUpdate, SyncCounts, SyncStatus};
use serde_json::json;

const DAY: i64 = 86_400;

#[tokio::test]
async fn old_history_is_pruned_in_batches_and_the_latest_is_kept() {
    on_both_engines("retention", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        let company = store
            .get_connection(&conn)
            .await
            .unwrap()
            .unwrap()
            .company_id;
        let lease = Duration::seconds(60);

        // Jobs: three finished long ago, one finished lately, one still queued from long ago.
        let mut old_jobs = Vec::new();
        for i in 0..4 {
            let when = if i < 3 { at(i) } else { at(100 * DAY) };
            let id = store
                .enqueue_job(&conn, "sync", &json!({}), when, when)
                .await
                .unwrap();
            let job = store.claim_job("w", lease, when).await.unwrap().unwrap();
            assert_eq!(job.id, id);
            assert!(store.complete_job(id, "w", when).await.unwrap());
            old_jobs.push(id);
        }
        let queued = store
            .enqueue_job(&conn, "sync", &json!({}), at(200 * DAY), at(5))
            .await
            .unwrap();

        // Pull operations: orders three times long ago; customers once long ago (the
        // latest of its data type: kept).
        let mut orders = Vec::new();
        for (i, dt) in [
            "commerce-orders",
            "commerce-orders",
            "commerce-orders",
            "commerce-customers",
        ]
        .iter()
        .enumerate()
        {
            let when = at(10 + i as i64);
            let d = store
                .create_dataset(&company, &conn, dt, "Queued", "manual", false, None, when)
                .await
                .unwrap();
            let done = DatasetUpdate {
                status: Some("Complete"),
                completed: true,
                ..DatasetUpdate::default()
            };
            store.update_dataset(&d.id, &done, when).await.unwrap();
            orders.push(d.id);
        }
        // Sync runs: the same shape.
        let mut runs = Vec::new();
        for (i, dt) in [
            "commerce-orders",
            "commerce-orders",
            "commerce-orders",
            "commerce-customers",
        ]
        .iter()
        .enumerate()
        {
            let when = at(20 + i as i64);
            let id = store
                .start_sync_run(&conn, &format!("run-{i}"), dt, when)
                .await
                .unwrap();
            store
                .finish_sync_run(
                    id,
                    SyncStatus::Completed,
                    &SyncCounts::default(),
                    None,
                    when,
                )
                .await
                .unwrap();
            runs.push(id);
        }

        let cutoff = at(90 * DAY);
        // Bounded: one batch of 2 per table.
        let first = store.prune_history(cutoff, 2, 1).await.unwrap();
        assert_eq!((first.jobs, first.datasets, first.sync_runs), (2, 2, 2));
        let second = store.prune_history(cutoff, 2, 1).await.unwrap();
        assert_eq!((second.jobs, second.datasets, second.sync_runs), (1, 0, 0));
        let third = store.prune_history(cutoff, 1000, 10).await.unwrap();
        assert_eq!(third.total(), 0);

        for id in &old_jobs[..3] {
            assert!(store.get_job(*id).await.is_err(), "old job {id} kept");
        }
        assert!(
            store.get_job(old_jobs[3]).await.is_ok(),
            "recent job pruned"
        );
        assert!(store.get_job(queued).await.is_ok(), "queued job pruned");
        for (i, id) in orders.iter().enumerate() {
            let kept = store.get_dataset(id).await.unwrap().is_some();
            assert_eq!(kept, i >= 2, "pull operation {i}");
        }
        for (i, id) in runs.iter().enumerate() {
            let kept = store.get_sync_run(*id).await.unwrap().is_some();
            assert_eq!(kept, i >= 2, "sync run {i}");
        }
        t
    })
    .await;
}
