//! Bookings written together in one transaction (group commit): each gets the verdict it
//! would get alone, and a group the database refuses is rolled back and retried booking by
//! booking.

use std::sync::Arc;
use std::time::Duration;

use sqlx::{Connection, Executor};

use super::bookings::{always, answer, appointment, firm_and_expert, fresh, refusal};
use super::expert_profile;
use crate::helpers::TestDb;
use creneau::store::{self, BookError, IdempotencyBegin, StoreOptions};

/// One group at a time, so that the bookings queued behind a held group form the next.
fn one_group() -> StoreOptions {
    StoreOptions {
        booking_batch: 32,
        booking_groups: 1,
        ..StoreOptions::default()
    }
}

/// A connection holding what a booking of `expert_id` needs to write: the expert's row on
/// PostgreSQL, the database's write lock on SQLite. Dropping it lets the booking through.
async fn hold_writes(url: &str, expert_id: &str) -> sqlx::AnyConnection {
    let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
    if url.starts_with("postgres") {
        conn.execute("BEGIN").await.unwrap();
        sqlx::query("SELECT id FROM experts WHERE id = $1 FOR UPDATE")
            .bind(expert_id)
            .execute(&mut conn)
            .await
            .unwrap();
    } else {
        conn.execute("BEGIN IMMEDIATE").await.unwrap();
    }
    conn
}

/// A booking's outcome, and the answer its key holds afterwards.
type Outcome = Result<(), BookError>;

/// Books `a` with a fresh key `key` (when given) in a task of its own.
fn spawn_booking(
    store: &Arc<dyn store::Store>,
    a: store::Appointment,
    key: Option<&'static str>,
) -> tokio::task::JoinHandle<Outcome> {
    let store = Arc::clone(store);
    tokio::spawn(async move {
        let live = chrono::Utc::now().timestamp_millis() - 86_400_000;
        let ok = key.map(|k| answer(k, 201, &format!("booked {}", a.id)));
        let refused = move |err: &BookError| store::IdempotencyRecord {
            key: key.unwrap_or_default().into(),
            ..refusal(err)
        };
        let book_key = ok.as_ref().map(|ok| fresh(ok, &refused, live));
        store.book(&a, always(), book_key).await
    })
}

/// What a key answers now.
async fn answered(store: &dyn store::Store, key: &str) -> IdempotencyBegin {
    store
        .idempotency_begin("cia_1", key, "h", 86_400_000, 60_000)
        .await
        .unwrap()
}

fn done(status: u16, response: &str) -> IdempotencyBegin {
    IdempotencyBegin::Done {
        status,
        response: response.into(),
    }
}

async fn bookings_written_together_each_get_the_verdict_they_would_get_alone(db: TestDb) {
    let store = store::open_with(&db.url, &one_group()).await.unwrap();
    let (firm, held) = firm_and_expert(store.as_ref()).await;
    let other = store
        .create_expert(&firm, &expert_profile("B. Durand"))
        .await
        .unwrap()
        .id;
    // The first group waits on the held lock; the bookings sent meanwhile queue up
    // behind it and are written together once it is released.
    let blocker = hold_writes(&db.url, &held).await;
    let first = spawn_booking(&store, appointment(&firm, &held, 0, 60, "FIRST"), None);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Two bookings chase each of three slots; only the overlap check within the group
    // (or the database) can tell them apart: the re-check accepts everything.
    let mut pairs = Vec::new();
    for (i, (a, b)) in [("P0A", "P0B"), ("P1A", "P1B"), ("P2A", "P2B")]
        .into_iter()
        .enumerate()
    {
        let start = i64::try_from(i).unwrap() * 120;
        pairs.push((
            spawn_booking(&store, appointment(&firm, &other, start, 60, a), Some(a)),
            spawn_booking(
                &store,
                appointment(&firm, &other, start + 30, 60, b),
                Some(b),
            ),
        ));
    }
    // One key sent twice (a retry racing its first attempt), for two free slots.
    let same = [
        spawn_booking(
            &store,
            appointment(&firm, &other, 600, 30, "SAME1"),
            Some("SAME"),
        ),
        spawn_booking(
            &store,
            appointment(&firm, &other, 700, 30, "SAME2"),
            Some("SAME"),
        ),
    ];
    // Back to back with the first, on the held expert: the overlap is half-open.
    let adjacent = spawn_booking(&store, appointment(&firm, &held, 60, 60, "NEXT"), None);
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(blocker);

    first.await.unwrap().unwrap();
    adjacent.await.unwrap().unwrap();
    for (a, b) in pairs {
        let (a, b) = (a.await.unwrap(), b.await.unwrap());
        assert!(
            matches!(
                (&a, &b),
                (Ok(()), Err(BookError::SlotUnavailable))
                    | (Err(BookError::SlotUnavailable), Ok(()))
            ),
            "{a:?} {b:?}"
        );
    }
    for (key, winner) in [("P0A", "P0B"), ("P1A", "P1B"), ("P2A", "P2B")]
        .into_iter()
        .flat_map(|(a, b)| [(a, b), (b, a)])
    {
        let state = answered(store.as_ref(), key).await;
        let booked = store.firm_appointment(&firm, &format!("appt-{key}")).await;
        if booked.is_ok() {
            assert_eq!(state, done(201, &format!("booked appt-{key}")), "{key}");
        } else {
            assert_eq!(
                state,
                done(409, &BookError::SlotUnavailable.to_string()),
                "{key} lost to {winner}"
            );
        }
    }
    let [one, two] = same;
    let outcomes = [one.await.unwrap(), two.await.unwrap()];
    assert_eq!(
        outcomes.iter().filter(|o| o.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, Err(BookError::KeyTaken))),
        "{outcomes:?}"
    );
    // 1 + 1 on the held expert, 3 pair winners and 1 under the repeated key.
    let page = store
        .firm_appointments(
            &firm,
            &store::AppointmentFilter::default(),
            &store::PageRequest {
                after: None,
                limit: 100,
            },
        )
        .await
        .unwrap();
    assert_eq!(page.items.len(), 6, "{:?}", page.items);
}

async fn a_group_the_database_refuses_is_retried_booking_by_booking(db: TestDb) {
    let store = store::open_with(&db.url, &one_group()).await.unwrap();
    let (firm, expert) = firm_and_expert(store.as_ref()).await;
    let blocker = hold_writes(&db.url, &expert).await;
    let first = spawn_booking(&store, appointment(&firm, &expert, 0, 60, "FIRST"), None);
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Two bookings of one claim at different times: nothing in the group's decisions
    // refuses the second, but the one-per-claim index does, and with it the group.
    let mut dup = appointment(&firm, &expert, 240, 60, "DUP");
    dup.id = "appt-DUP-2".into();
    let claims = [
        spawn_booking(
            &store,
            appointment(&firm, &expert, 120, 60, "DUP"),
            Some("D1"),
        ),
        spawn_booking(&store, dup, Some("D2")),
    ];
    let bystander = spawn_booking(
        &store,
        appointment(&firm, &expert, 360, 60, "BY"),
        Some("BY"),
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    drop(blocker);

    first.await.unwrap().unwrap();
    bystander.await.unwrap().unwrap();
    assert_eq!(
        answered(store.as_ref(), "BY").await,
        done(201, "booked appt-BY")
    );
    let [one, two] = claims;
    let outcomes = [one.await.unwrap(), two.await.unwrap()];
    let winner = match &outcomes {
        [Ok(()), Err(BookError::AppointmentExists(id))] => {
            assert_eq!(id, "appt-DUP");
            ("D1", "D2", "appt-DUP")
        }
        [Err(BookError::AppointmentExists(id)), Ok(())] => {
            assert_eq!(id, "appt-DUP-2");
            ("D2", "D1", "appt-DUP-2")
        }
        other => panic!("one booking per claim expected: {other:?}"),
    };
    assert_eq!(
        answered(store.as_ref(), winner.0).await,
        done(201, &format!("booked {}", winner.2))
    );
    assert_eq!(
        answered(store.as_ref(), winner.1).await,
        done(409, &format!("exists {}", winner.2))
    );
}

on_every_engine!(
    multi_thread:
    bookings_written_together_each_get_the_verdict_they_would_get_alone,
    a_group_the_database_refuses_is_retried_booking_by_booking,
);
