//! Firms, credentials, API clients, experts, absences.

use creneau::store::{self, ApiClient, FirmCredential, PageRequest, StoreError};

use super::{absence, expert_profile, firm_profile};
use crate::helpers::TestDb;

async fn opening_twice_applies_migrations_once(db: TestDb) {
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

async fn a_firm_round_trips_and_updates(db: TestDb) {
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

async fn credentials_and_api_clients_are_found_by_id_only(db: TestDb) {
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

async fn the_first_server_secret_wins(db: TestDb) {
    let store = store::open(&db.url).await.unwrap();
    assert_eq!(store.server_secret("k", "one").await.unwrap(), "one");
    assert_eq!(store.server_secret("k", "two").await.unwrap(), "one");
}

async fn experts_are_scoped_to_their_firm(db: TestDb) {
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
            None,
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

async fn experts_are_replaced_and_deactivated_idempotently(db: TestDb) {
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

async fn expert_lists_are_paginated_in_creation_order(db: TestDb) {
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
            None,
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
                None,
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

async fn absences_belong_to_an_expert_of_the_firm(db: TestDb) {
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

on_every_engine!(
    opening_twice_applies_migrations_once,
    a_firm_round_trips_and_updates,
    credentials_and_api_clients_are_found_by_id_only,
    the_first_server_secret_wins,
    experts_are_scoped_to_their_firm,
    experts_are_replaced_and_deactivated_idempotently,
    expert_lists_are_paginated_in_creation_order,
    absences_belong_to_an_expert_of_the_firm,
);
