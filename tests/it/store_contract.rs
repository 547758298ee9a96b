//! The store contract, checked on every engine: SQLite always, PostgreSQL when
//! `TEST_DATABASE_URL` is set.

use chrono::{TimeZone, Utc};
use creneau::domain::expert::ExpertProfile;
use creneau::domain::firm::{FirmProfile, NewAbsence};
use creneau::store::{self, ApiClient, FirmCredential, PageRequest, StoreError};

use crate::helpers::{every_engine, expert_body};

fn firm_profile(name: &str) -> FirmProfile {
    FirmProfile::from_stored(name.into(), "73282932000074", "Europe/Paris").unwrap()
}

fn expert_profile(name: &str) -> ExpertProfile {
    serde_json::from_value(expert_body(name)).unwrap()
}

fn absence(day: u32) -> NewAbsence {
    NewAbsence {
        start: Utc.with_ymd_and_hms(2026, 12, day, 8, 0, 0).unwrap(),
        end: Utc.with_ymd_and_hms(2026, 12, day, 17, 0, 0).unwrap(),
        reason: Some("formation".into()),
    }
}

#[tokio::test]
async fn opening_twice_applies_migrations_once() {
    for db in every_engine().await {
        let first = store::open(&db.url).await.unwrap();
        first.create_firm(&firm_profile("A")).await.unwrap();
        let second = store::open(&db.url).await.unwrap();
        assert!(
            second
                .firm_by_siret("73282932000074")
                .await
                .unwrap()
                .is_some()
        );
        second.ping().await.unwrap();
    }
}

#[tokio::test]
async fn a_firm_round_trips_and_updates() {
    for db in every_engine().await {
        let store = store::open(&db.url).await.unwrap();
        let firm = store.create_firm(&firm_profile("Cabinet A")).await.unwrap();
        assert_eq!(store.firm(&firm.id).await.unwrap().profile, firm.profile);
        let updated = store
            .update_firm(&firm.id, &firm_profile("Cabinet B"))
            .await
            .unwrap();
        assert_eq!(updated.profile.name.as_str(), "Cabinet B");
        assert!(matches!(
            store.firm("missing").await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.update_firm("missing", &firm_profile("x")).await,
            Err(StoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn credentials_and_api_clients_are_found_by_id_only() {
    for db in every_engine().await {
        let store = store::open(&db.url).await.unwrap();
        let firm = store.create_firm(&firm_profile("A")).await.unwrap();
        let cred = FirmCredential {
            client_id: "firm_1".into(),
            firm_id: firm.id.clone(),
            secret_hash: "$argon2id$fake".into(),
        };
        store.add_firm_credential(&cred).await.unwrap();
        let found = store.firm_credential("firm_1").await.unwrap().unwrap();
        assert_eq!(found.firm_id, firm.id);
        assert!(store.firm_credential("firm_2").await.unwrap().is_none());
        let orphan = FirmCredential {
            firm_id: "no-such-firm".into(),
            client_id: "firm_3".into(),
            ..cred.clone()
        };
        assert!(matches!(
            store.add_firm_credential(&orphan).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.add_firm_credential(&cred).await,
            Err(StoreError::Conflict { .. })
        ));

        let client = ApiClient {
            id: "cia_1".into(),
            name: "Claims IA".into(),
            key_hash: vec![1, 2, 3],
        };
        store.create_api_client(&client).await.unwrap();
        let found = store.api_client("cia_1").await.unwrap().unwrap();
        assert_eq!(found.key_hash, vec![1, 2, 3]);
        assert!(store.api_client("cia_2").await.unwrap().is_none());
    }
}

#[tokio::test]
async fn the_first_server_secret_wins() {
    for db in every_engine().await {
        let store = store::open(&db.url).await.unwrap();
        assert_eq!(store.server_secret("k", "one").await.unwrap(), "one");
        assert_eq!(store.server_secret("k", "two").await.unwrap(), "one");
    }
}

#[tokio::test]
async fn experts_are_scoped_to_their_firm() {
    for db in every_engine().await {
        let store = store::open(&db.url).await.unwrap();
        let a = store.create_firm(&firm_profile("A")).await.unwrap();
        let b = store.create_firm(&firm_profile("B")).await.unwrap();
        let expert = store
            .create_expert(&a.id, &expert_profile("J. Martin"))
            .await
            .unwrap();
        assert_eq!(store.expert(&a.id, &expert.id).await.unwrap(), expert);
        assert!(matches!(
            store.expert(&b.id, &expert.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store
                .replace_expert(&b.id, &expert.id, &expert_profile("X"))
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.deactivate_expert(&b.id, &expert.id).await,
            Err(StoreError::NotFound)
        ));
        let page = store
            .list_experts(
                &b.id,
                &PageRequest {
                    after: None,
                    limit: 50,
                },
            )
            .await
            .unwrap();
        assert!(page.items.is_empty());
        assert!(
            store
                .expert(&a.id, &expert.id)
                .await
                .unwrap()
                .profile
                .active
        );
    }
}

#[tokio::test]
async fn experts_are_replaced_and_deactivated_idempotently() {
    for db in every_engine().await {
        let store = store::open(&db.url).await.unwrap();
        let a = store.create_firm(&firm_profile("A")).await.unwrap();
        let expert = store
            .create_expert(&a.id, &expert_profile("J. Martin"))
            .await
            .unwrap();
        let replaced = store
            .replace_expert(&a.id, &expert.id, &expert_profile("P. Durand"))
            .await
            .unwrap();
        assert_eq!(replaced.profile.display_name.as_str(), "P. Durand");
        assert_eq!(replaced.created_at, expert.created_at);
        store.deactivate_expert(&a.id, &expert.id).await.unwrap();
        store.deactivate_expert(&a.id, &expert.id).await.unwrap();
        assert!(
            !store
                .expert(&a.id, &expert.id)
                .await
                .unwrap()
                .profile
                .active
        );
    }
}

#[tokio::test]
async fn expert_lists_are_paginated_in_creation_order() {
    for db in every_engine().await {
        let store = store::open(&db.url).await.unwrap();
        let a = store.create_firm(&firm_profile("A")).await.unwrap();
        let mut ids = Vec::new();
        for i in 0..5 {
            ids.push(
                store
                    .create_expert(&a.id, &expert_profile(&format!("E{i}")))
                    .await
                    .unwrap()
                    .id,
            );
        }
        let first = store
            .list_experts(
                &a.id,
                &PageRequest {
                    after: None,
                    limit: 2,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            first.items.iter().map(|e| e.id.clone()).collect::<Vec<_>>(),
            ids[..2]
        );
        let mut seen = first.items.len();
        let mut after = first.next_after;
        while let Some(cursor) = after {
            let page = store
                .list_experts(
                    &a.id,
                    &PageRequest {
                        after: Some(cursor),
                        limit: 2,
                    },
                )
                .await
                .unwrap();
            seen += page.items.len();
            after = page.next_after;
        }
        assert_eq!(seen, 5);
    }
}

#[tokio::test]
async fn absences_belong_to_an_expert_of_the_firm() {
    for db in every_engine().await {
        let store = store::open(&db.url).await.unwrap();
        let a = store.create_firm(&firm_profile("A")).await.unwrap();
        let b = store.create_firm(&firm_profile("B")).await.unwrap();
        let expert = store
            .create_expert(&a.id, &expert_profile("J. Martin"))
            .await
            .unwrap();
        let outcome = store
            .create_absence(&a.id, &expert.id, &absence(1), false)
            .await
            .unwrap();
        let store::AbsenceOutcome::Created {
            absence: created,
            cancelled,
        } = outcome
        else {
            panic!("unexpected conflicts");
        };
        assert!(cancelled.is_empty());
        assert_eq!(created.start, absence(1).start);
        assert_eq!(created.reason.as_deref(), Some("formation"));
        assert!(matches!(
            store
                .create_absence(&b.id, &expert.id, &absence(2), false)
                .await,
            Err(StoreError::NotFound)
        ));
        let all = PageRequest {
            after: None,
            limit: 50,
        };
        assert!(matches!(
            store.list_absences(&b.id, &expert.id, &all).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.delete_absence(&b.id, &expert.id, &created.id).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(
            store
                .list_absences(&a.id, &expert.id, &all)
                .await
                .unwrap()
                .items,
            vec![created.clone()]
        );
        store
            .delete_absence(&a.id, &expert.id, &created.id)
            .await
            .unwrap();
        assert!(
            store
                .list_absences(&a.id, &expert.id, &all)
                .await
                .unwrap()
                .items
                .is_empty()
        );
        assert!(matches!(
            store.delete_absence(&a.id, &expert.id, &created.id).await,
            Err(StoreError::NotFound)
        ));
    }
}

fn appointment(
    firm_id: &str,
    expert_id: &str,
    start_min: i64,
    minutes: i64,
    claims_ia_ref: &str,
) -> store::Appointment {
    let base = Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 22, 8, 0, 0).unwrap();
    store::Appointment {
        id: uuid_like(claims_ia_ref),
        firm_id: firm_id.to_owned(),
        expert_id: expert_id.to_owned(),
        client_id: "cia_1".into(),
        status: creneau::domain::appointment::AppointmentStatus::Confirmed,
        version: 1,
        start: base + chrono::Duration::minutes(start_min),
        end: base + chrono::Duration::minutes(start_min + minutes),
        mode: creneau::domain::appointment::Mode::Remote,
        expertise_type: creneau::domain::ExpertiseType::Visio,
        place: None,
        claims_ia_ref: claims_ia_ref.to_owned(),
        claim_ref: None,
        contact: None,
        comment: None,
        cancellation: None,
        created_at: now,
        updated_at: now,
    }
}

fn uuid_like(seed: &str) -> String {
    format!("appt-{seed}")
}

fn always(_: &store::Schedule) -> bool {
    true
}

async fn firm_and_expert(store: &dyn store::Store) -> (String, String) {
    let firm = store.create_firm(&firm_profile("A")).await.unwrap();
    let expert = store
        .create_expert(&firm.id, &expert_profile("J. Martin"))
        .await
        .unwrap();
    (firm.id, expert.id)
}

#[tokio::test]
async fn the_database_itself_refuses_overlapping_confirmed_appointments() {
    for db in every_engine().await {
        let store = store::open(&db.url).await.unwrap();
        let (firm, expert) = firm_and_expert(store.as_ref()).await;
        // The recheck lets everything through: only the database stands in the way.
        store
            .book(&appointment(&firm, &expert, 0, 60, "A"), &always, None)
            .await
            .unwrap();
        let overlapping = store
            .book(&appointment(&firm, &expert, 30, 60, "B"), &always, None)
            .await;
        assert!(
            matches!(overlapping, Err(store::BookError::SlotUnavailable)),
            "{overlapping:?}"
        );
        let inside = store
            .book(&appointment(&firm, &expert, 10, 20, "C"), &always, None)
            .await;
        assert!(
            matches!(inside, Err(store::BookError::SlotUnavailable)),
            "{inside:?}"
        );
        store
            .book(&appointment(&firm, &expert, 60, 60, "D"), &always, None)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn a_refusing_recheck_writes_nothing() {
    for db in every_engine().await {
        let store = store::open(&db.url).await.unwrap();
        let (firm, expert) = firm_and_expert(store.as_ref()).await;
        let refused = store
            .book(
                &appointment(&firm, &expert, 0, 60, "A"),
                &|_: &store::Schedule| false,
                None,
            )
            .await;
        assert!(matches!(refused, Err(store::BookError::SlotUnavailable)));
        assert!(matches!(
            store.firm_appointment(&firm, "appt-A").await,
            Err(StoreError::NotFound)
        ));
    }
}

#[tokio::test]
async fn a_claim_has_at_most_one_confirmed_appointment() {
    for db in every_engine().await {
        let store = store::open(&db.url).await.unwrap();
        let (firm, expert) = firm_and_expert(store.as_ref()).await;
        store
            .book(&appointment(&firm, &expert, 0, 60, "SAME"), &always, None)
            .await
            .unwrap();
        let mut second = appointment(&firm, &expert, 120, 60, "SAME");
        second.id = "appt-other".into();
        match store.book(&second, &always, None).await {
            Err(store::BookError::AppointmentExists(id)) => assert_eq!(id, "appt-SAME"),
            other => panic!("expected AppointmentExists, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn schedules_hold_confirmed_appointments_and_absences_around_a_period() {
    for db in every_engine().await {
        let store = store::open(&db.url).await.unwrap();
        let (firm, expert) = firm_and_expert(store.as_ref()).await;
        store
            .book(&appointment(&firm, &expert, 0, 60, "A"), &always, None)
            .await
            .unwrap();
        store
            .book(
                &appointment(&firm, &expert, 60 * 24 * 20, 60, "FAR"),
                &always,
                None,
            )
            .await
            .unwrap();
        store
            .create_absence(&firm, &expert, &absence(8), false)
            .await
            .unwrap();
        let from = Utc.with_ymd_and_hms(2026, 12, 6, 0, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2026, 12, 9, 0, 0, 0).unwrap();
        let schedules = store
            .schedules(&[expert.as_str(), "unknown"], from, to)
            .await
            .unwrap();
        assert_eq!(schedules.len(), 2);
        let (id, absences, busy) = &schedules[0];
        assert_eq!(id, &expert);
        assert_eq!(absences.len(), 1);
        assert_eq!(
            busy.iter().map(|b| b.id.as_str()).collect::<Vec<_>>(),
            vec!["appt-A"]
        );
        assert!(schedules[1].1.is_empty() && schedules[1].2.is_empty());
    }
}

#[tokio::test]
async fn an_absence_over_appointments_conflicts_unless_forced() {
    for db in every_engine().await {
        let store = store::open(&db.url).await.unwrap();
        let (firm, expert) = firm_and_expert(store.as_ref()).await;
        store
            .book(&appointment(&firm, &expert, 60, 60, "A"), &always, None)
            .await
            .unwrap();
        let day = absence(7);
        match store
            .create_absence(&firm, &expert, &day, false)
            .await
            .unwrap()
        {
            store::AbsenceOutcome::Conflicts(list) => {
                assert_eq!(
                    list.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(),
                    vec!["appt-A"]
                );
            }
            store::AbsenceOutcome::Created { .. } => panic!("created over a booking"),
        }
        match store
            .create_absence(&firm, &expert, &day, true)
            .await
            .unwrap()
        {
            store::AbsenceOutcome::Created { cancelled, .. } => assert_eq!(cancelled.len(), 1),
            store::AbsenceOutcome::Conflicts(_) => panic!("force must cancel"),
        }
        let cancelled = store.firm_appointment(&firm, "appt-A").await.unwrap();
        assert_eq!(
            cancelled.status,
            creneau::domain::appointment::AppointmentStatus::Cancelled
        );
        assert_eq!(cancelled.version, 2);
        assert!(cancelled.cancellation.is_some());
    }
}

#[tokio::test]
async fn an_idempotency_key_is_started_once_then_replayed_or_refused() {
    use store::IdempotencyBegin;
    for db in every_engine().await {
        let store = store::open(&db.url).await.unwrap();
        let day = 86_400_000;
        assert_eq!(
            store
                .idempotency_begin("c", "k", "h1", day, 60_000)
                .await
                .unwrap(),
            IdempotencyBegin::Started
        );
        assert_eq!(
            store
                .idempotency_begin("c", "k", "h1", day, 60_000)
                .await
                .unwrap(),
            IdempotencyBegin::InFlight
        );
        assert_eq!(
            store
                .idempotency_begin("c", "k", "h2", day, 60_000)
                .await
                .unwrap(),
            IdempotencyBegin::Mismatch
        );
        assert_eq!(
            store
                .idempotency_begin("other", "k", "h2", day, 60_000)
                .await
                .unwrap(),
            IdempotencyBegin::Started
        );
        let record = store::IdempotencyRecord {
            client_id: "c".into(),
            key: "k".into(),
            status: 201,
            response: "r".into(),
        };
        store.idempotency_finish(&record).await.unwrap();
        assert_eq!(
            store
                .idempotency_begin("c", "k", "h1", day, 60_000)
                .await
                .unwrap(),
            IdempotencyBegin::Done {
                status: 201,
                response: "r".into()
            }
        );
        // A claimed key whose request died is taken over once stale.
        assert_eq!(
            store
                .idempotency_begin("c", "k2", "h", day, 60_000)
                .await
                .unwrap(),
            IdempotencyBegin::Started
        );
        assert_eq!(
            store
                .idempotency_begin("c", "k2", "h", day, -1)
                .await
                .unwrap(),
            IdempotencyBegin::Started
        );
        store.idempotency_abandon("c", "k2").await.unwrap();
        assert_eq!(
            store
                .idempotency_begin("c", "k2", "h", day, 60_000)
                .await
                .unwrap(),
            IdempotencyBegin::Started
        );
        // Expired keys are forgotten.
        assert_eq!(
            store
                .idempotency_begin("c", "k", "h9", -1, 60_000)
                .await
                .unwrap(),
            IdempotencyBegin::Started
        );
    }
}

#[tokio::test]
async fn the_catalog_version_moves_with_every_expert_change() {
    for db in every_engine().await {
        let store = store::open(&db.url).await.unwrap();
        let v0 = store.catalog_version().await.unwrap();
        let (firm, expert) = firm_and_expert(store.as_ref()).await;
        let v1 = store.catalog_version().await.unwrap();
        assert!(v1 > v0);
        assert_eq!(store.active_experts().await.unwrap().len(), 1);
        store.deactivate_expert(&firm, &expert).await.unwrap();
        assert!(store.catalog_version().await.unwrap() > v1);
        assert!(store.active_experts().await.unwrap().is_empty());
    }
}
