//! The job queue: leases, one running job per connection, reclaiming expired leases, and
//! concurrent workers that never claim the same job.

mod common;

use std::collections::HashSet;

use chrono::Duration;
use common::{at, connection, on_both_engines};
use prestalink_store::JobStatus;
use serde_json::json;

#[tokio::test]
async fn jobs_are_leased_once_and_one_per_connection() {
    on_both_engines("jobs_lease", |t| async move {
        let store = &t.store;
        let conn_a = connection(store).await;
        let company = store.create_company("B", at(0)).await.unwrap();
        let conn_b = store
            .create_or_get_connection(
                &company.id,
                "https://b.example",
                "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB",
                at(0),
            )
            .await
            .unwrap()
            .id;
        let lease = Duration::seconds(60);
        let a1 = store
            .enqueue_job(&conn_a, "sync", &json!({"full": true}), at(0), at(0))
            .await
            .unwrap();
        let a2 = store
            .enqueue_job(&conn_a, "sync", &json!({}), at(1), at(1))
            .await
            .unwrap();
        let b1 = store
            .enqueue_job(&conn_b, "sync", &json!({}), at(2), at(2))
            .await
            .unwrap();
        let later = store
            .enqueue_job(&conn_b, "sync", &json!({}), at(1000), at(2))
            .await
            .unwrap();

        let first = store.claim_job("w1", lease, at(10)).await.unwrap().unwrap();
        assert_eq!(first.id, a1, "{}", t.engine());
        assert_eq!(first.payload, json!({"full": true}));
        assert_eq!(first.status, JobStatus::Running);
        assert_eq!(first.attempts, 1);
        // a2 is for the same connection: skipped while a1 runs.
        let second = store.claim_job("w2", lease, at(10)).await.unwrap().unwrap();
        assert_eq!(second.id, b1);
        assert!(store
            .claim_job("w3", lease, at(10))
            .await
            .unwrap()
            .is_none());

        // w1 finishes; a2 becomes claimable. w2's lease expires and w3 takes b1 over.
        assert!(store.complete_job(a1, "w1", at(20)).await.unwrap());
        assert!(
            !store.complete_job(a1, "w1", at(20)).await.unwrap(),
            "already done"
        );
        let third = store.claim_job("w3", lease, at(21)).await.unwrap().unwrap();
        assert_eq!(third.id, a2);
        assert!(store.renew_lease(a2, "w3", lease, at(50)).await.unwrap());
        let taken_over = store.claim_job("w4", lease, at(75)).await.unwrap().unwrap();
        assert_eq!(taken_over.id, b1);
        assert_eq!(taken_over.attempts, 2);
        assert_eq!(taken_over.lease_owner.as_deref(), Some("w4"));
        // The old holder lost it.
        assert!(!store.complete_job(b1, "w2", at(76)).await.unwrap());
        assert!(!store.renew_lease(b1, "w2", lease, at(76)).await.unwrap());
        // Failure with retry queues it again; without retry it is failed for good.
        assert!(store
            .fail_job(b1, "w4", "HTTP 503", Some(at(200)), at(77))
            .await
            .unwrap());
        let retried = store.get_job(b1).await.unwrap();
        assert_eq!(retried.status, JobStatus::Queued);
        assert_eq!(retried.last_error.as_deref(), Some("HTTP 503"));
        assert!(
            store
                .claim_job("w5", lease, at(100))
                .await
                .unwrap()
                .is_none(),
            "a2 leased, b1 not due"
        );
        assert!(store.complete_job(a2, "w3", at(101)).await.unwrap());
        let again = store
            .claim_job("w5", lease, at(200))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(again.id, b1);
        assert!(store
            .fail_job(b1, "w5", "gave up", None, at(201))
            .await
            .unwrap());
        assert_eq!(store.get_job(b1).await.unwrap().status, JobStatus::Failed);
        let last = store
            .claim_job("w6", lease, at(1000))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(last.id, later);
        t
    })
    .await;
}

#[tokio::test]
async fn concurrent_workers_never_share_a_job() {
    on_both_engines("jobs_concurrent", |t| async move {
        let store = &t.store;
        let mut connections = Vec::new();
        for i in 0..6 {
            let company = store.create_company("C", at(0)).await.unwrap();
            let c = store
                .create_or_get_connection(
                    &company.id,
                    &format!("https://{i}.example"),
                    "KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK",
                    at(0),
                )
                .await
                .unwrap();
            connections.push(c.id);
        }
        let mut all = HashSet::new();
        for c in &connections {
            for _ in 0..3 {
                all.insert(
                    store
                        .enqueue_job(c, "sync", &json!({}), at(0), at(0))
                        .await
                        .unwrap(),
                );
            }
        }
        let mut claimed = Vec::new();
        // Rounds of 8 workers claiming at once; every job of the round completes after.
        for round in 0..10 {
            let tasks: Vec<_> = (0..8)
                .map(|w| {
                    let store = store.clone();
                    tokio::spawn(async move {
                        store
                            .claim_job(
                                &format!("w{round}-{w}"),
                                Duration::seconds(600),
                                at(10 + round),
                            )
                            .await
                            .unwrap()
                    })
                })
                .collect();
            let mut this_round = Vec::new();
            for task in tasks {
                if let Some(job) = task.await.unwrap() {
                    this_round.push(job);
                }
            }
            let per_connection: HashSet<_> =
                this_round.iter().map(|j| j.connection_id.clone()).collect();
            assert_eq!(
                per_connection.len(),
                this_round.len(),
                "one running job per connection"
            );
            for job in this_round {
                assert!(store
                    .complete_job(job.id, job.lease_owner.as_deref().unwrap(), at(10 + round))
                    .await
                    .unwrap());
                claimed.push(job.id);
            }
        }
        let unique: HashSet<_> = claimed.iter().copied().collect();
        assert_eq!(
            unique.len(),
            claimed.len(),
            "a job was claimed twice on {}",
            t.engine()
        );
        assert_eq!(unique, all, "every job ran");
        t
    })
    .await;
}

#[tokio::test]
async fn a_scheduler_queues_one_pending_job_per_connection_and_kind() {
    on_both_engines("jobs_once", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        let lease = Duration::seconds(60);
        let first = store
            .enqueue_job_once(&conn, "sync", &json!({}), at(0), at(0))
            .await
            .unwrap();
        assert!(first.is_some(), "{}", t.engine());
        let again = store
            .enqueue_job_once(&conn, "sync", &json!({}), at(0), at(1))
            .await
            .unwrap();
        assert_eq!(again, None, "one is queued");
        let other_kind = store
            .enqueue_job_once(&conn, "remap", &json!({}), at(0), at(1))
            .await
            .unwrap();
        assert!(other_kind.is_some());
        let job = store.claim_job("w", lease, at(2)).await.unwrap().unwrap();
        assert_eq!(Some(job.id), first);
        assert_eq!(
            store
                .enqueue_job_once(&conn, "sync", &json!({}), at(0), at(3))
                .await
                .unwrap(),
            None,
            "one is running"
        );
        assert!(store.complete_job(job.id, "w", at(4)).await.unwrap());
        assert!(store
            .enqueue_job_once(&conn, "sync", &json!({}), at(10), at(5))
            .await
            .unwrap()
            .is_some());
        t
    })
    .await;
}

/// Many queuers at once (the scheduler of one process, the first link of another): one
/// job, whatever the interleaving. Before the advisory lock, PostgreSQL's `READ COMMITTED`
/// let two `INSERT … WHERE NOT EXISTS` both insert, and a connection synced twice.
#[tokio::test]
async fn queueing_once_from_many_tasks_at_once_queues_one_job() {
    on_both_engines("jobs_once_race", |t| async move {
        let mut connections = Vec::new();
        for i in 0..5 {
            let company = t.store.create_company("R", at(0)).await.unwrap();
            let c = t
                .store
                .create_or_get_connection(
                    &company.id,
                    &format!("https://race{i}.example"),
                    "KKKKKKKKKKKKKKKKKKKKKKKKKKKKKKKK",
                    at(0),
                )
                .await
                .unwrap();
            connections.push(c.id);
        }
        for round in 0..4 {
            let mut tasks = tokio::task::JoinSet::new();
            for c in &connections {
                for _ in 0..8 {
                    let store = t.store.clone();
                    let c = c.clone();
                    tasks.spawn(async move {
                        let id = store
                            .enqueue_job_once(&c, "sync", &json!({}), at(0), at(round))
                            .await
                            .unwrap();
                        (c, id)
                    });
                }
            }
            let mut queued: std::collections::HashMap<String, usize> = Default::default();
            while let Some(done) = tasks.join_next().await {
                let (c, id) = done.unwrap();
                *queued.entry(c).or_default() += usize::from(id.is_some());
            }
            for c in &connections {
                assert_eq!(
                    queued.get(c).copied().unwrap_or(0),
                    1,
                    "round {round} on {}: {queued:?}",
                    t.engine()
                );
            }
            // Finish them all for the next round.
            while let Some(job) = t
                .store
                .claim_job("w", Duration::seconds(60), at(round))
                .await
                .unwrap()
            {
                assert!(t.store.complete_job(job.id, "w", at(round)).await.unwrap());
            }
        }
        t
    })
    .await;
}

#[tokio::test]
async fn a_withdrawn_job_is_gone_only_while_queued_and_unnamed() {
    on_both_engines("jobs_withdraw", |t| async move {
        let store = &t.store;
        let conn = connection(store).await;
        let queued = store
            .enqueue_job(&conn, "sync", &json!({}), at(0), at(0))
            .await
            .unwrap();
        assert!(store.withdraw_queued_job(queued).await.unwrap());
        assert!(
            !store.withdraw_queued_job(queued).await.unwrap(),
            "already gone"
        );
        let named = store
            .enqueue_job(&conn, "sync", &json!({}), at(0), at(0))
            .await
            .unwrap();
        let company = store
            .get_connection(&conn)
            .await
            .unwrap()
            .unwrap()
            .company_id;
        store
            .create_dataset(
                &company,
                &conn,
                "orders",
                "Queued",
                "manual",
                false,
                Some(named),
                at(0),
            )
            .await
            .unwrap();
        assert!(
            !store.withdraw_queued_job(named).await.unwrap(),
            "a pull operation names it"
        );
        let job = store
            .claim_job("w", Duration::seconds(60), at(1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(job.id, named);
        assert!(store.complete_job(job.id, "w", at(1)).await.unwrap());
        let running = store
            .enqueue_job(&conn, "sync", &json!({}), at(0), at(0))
            .await
            .unwrap();
        let job = store
            .claim_job("w", Duration::seconds(60), at(2))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(job.id, running);
        assert!(
            !store.withdraw_queued_job(running).await.unwrap(),
            "a running job stays"
        );
        t
    })
    .await;
}
