//! The search log: pages of a firm's searches that never skip nor repeat one (even many
//! logged in the same millisecond), and a retention that instances may run together.

use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use creneau::store::{self, FirmShare, LoggedSearch, Period, SearchCursor};

use super::firm_profile;
use crate::helpers::TestDb;

fn search(id: String, at: chrono::DateTime<Utc>, firms: &[&str]) -> LoggedSearch {
    LoggedSearch {
        id,
        at,
        request: r#"{"claimType":"DDE"}"#.into(),
        process: None,
        department: Some("75".into()),
        claim_type: "DDE".into(),
        eligible_experts: u32::try_from(firms.len()).unwrap(),
        slots_offered: 0,
        first_slot_at: None,
        diagnostic: Some("fully-booked".into()),
        firms: firms
            .iter()
            .map(|firm| FirmShare {
                firm_id: (*firm).to_owned(),
                eligible_experts: 1,
                slots_offered: 0,
                first_slot_at: None,
            })
            .collect(),
    }
}

fn base() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
}

async fn a_firms_pages_never_skip_nor_repeat_a_search(db: TestDb) {
    let store = store::open(&db.url).await.unwrap();
    let a = store.create_firm(&firm_profile("A")).await.unwrap().id;
    let b = store.create_firm(&firm_profile("B")).await.unwrap().id;
    // Seven searches in one millisecond, three in the next; one of B's only.
    let mut logged: Vec<LoggedSearch> = (0..10)
        .map(|i| {
            let at = base() + Duration::milliseconds(i64::from(i >= 7));
            search(format!("s{i:02}"), at, &[&a, &b])
        })
        .collect();
    logged.push(search("s99".into(), base(), &[&b]));
    store.log_searches(&logged).await.unwrap();

    let period = Period {
        from: base(),
        to: base() + Duration::hours(1),
    };
    let mut seen = Vec::new();
    let mut cursor: Option<SearchCursor> = None;
    loop {
        let page = store
            .firm_searches(&a, period, cursor.as_ref(), 3)
            .await
            .unwrap();
        assert!(page.items.iter().all(|s| s.share.firm_id == a && !s.booked));
        seen.extend(page.items.into_iter().map(|s| s.search.id));
        match page.next_after {
            Some(next) => cursor = Some(SearchCursor::parse(&next).unwrap()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..10).rev().map(|i| format!("s{i:02}")).collect();
    assert_eq!(seen, expected, "newest first, ids breaking ties");

    let later = Period {
        from: base() + Duration::milliseconds(1),
        to: base() + Duration::hours(1),
    };
    let page = store.firm_searches(&a, later, None, 50).await.unwrap();
    assert_eq!(page.items.len(), 3);
    assert!(page.next_after.is_none());
}

async fn instances_sweeping_together_delete_each_expired_search_once(db: TestDb) {
    let one: Arc<dyn store::Store> = store::open(&db.url).await.unwrap();
    let two: Arc<dyn store::Store> = store::open(&db.url).await.unwrap();
    let firm = one.create_firm(&firm_profile("A")).await.unwrap().id;
    let old: Vec<LoggedSearch> = (0..2500)
        .map(|i| {
            search(
                format!("old{i:05}"),
                base() + Duration::seconds(i),
                &[&firm],
            )
        })
        .collect();
    one.log_searches(&old).await.unwrap();
    let recent = search("recent".into(), base() + Duration::days(30), &[&firm]);
    one.log_searches(&[recent]).await.unwrap();

    let cutoff = base() + Duration::days(1);
    let sweep = |store: Arc<dyn store::Store>| {
        tokio::spawn(async move {
            let mut deleted = 0;
            loop {
                let n = store.forget_searches(cutoff, 400).await.unwrap();
                if n == 0 {
                    return deleted;
                }
                deleted += n;
            }
        })
    };
    let (a, b) = tokio::join!(sweep(Arc::clone(&one)), sweep(Arc::clone(&two)));
    assert_eq!(a.unwrap() + b.unwrap(), 2500);

    let period = Period {
        from: base() - Duration::days(1),
        to: base() + Duration::days(60),
    };
    let left = one.firm_searches(&firm, period, None, 50).await.unwrap();
    let left: Vec<String> = left.items.into_iter().map(|s| s.search.id).collect();
    assert_eq!(left, ["recent"]);
}

on_every_engine!(multi_thread:
    a_firms_pages_never_skip_nor_repeat_a_search,
    instances_sweeping_together_delete_each_expired_search_once,
);
