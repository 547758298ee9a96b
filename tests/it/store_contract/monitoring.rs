//! What the metrics read of the store: every job queue's backlog in one statement, and
//! the pools' use.

use creneau::store::{self, Backend, JobQueue, QueueBacklog};

use crate::helpers::TestDb;

async fn an_empty_store_reports_every_queue_empty_and_its_pools(db: TestDb) {
    let store = store::open(&db.url).await.unwrap();
    let empty = JobQueue::ALL.map(|queue| QueueBacklog {
        queue,
        pending: 0,
        oldest: None,
    });
    assert_eq!(store.job_backlogs().await.unwrap(), empty);
    let pools = store.pool_use();
    let names: Vec<&str> = pools.iter().map(|pool| pool.pool).collect();
    match store.backend() {
        Backend::Sqlite => assert_eq!(names, ["read", "write"]),
        Backend::Postgres => assert_eq!(names, ["shared"]),
    }
    for pool in pools {
        assert!(pool.max >= 1, "{pool:?}");
        assert!(pool.in_use() + pool.idle <= pool.max, "{pool:?}");
    }
}

on_every_engine!(an_empty_store_reports_every_queue_empty_and_its_pools);
