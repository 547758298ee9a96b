//! The load generator against the real server: seeded the way `creneau seed` does it, driven
//! in-process for two seconds, invariants checked at the end.

use std::process::Command;
use std::time::Duration;

use creneau::cli::seed::seed;
use creneau::config::Mix;
use creneau::loadtest::report::Operation;
use creneau::loadtest::{Plan, Stop, run};
use serde_json::Value;

use crate::helpers::TestApp;

/// A plan against `app`, seeded with `experts` synthetic experts.
async fn plan(app: &TestApp, experts: usize, stop: Stop, clients: u32, mix: Mix) -> Plan {
    let seeded = seed(app.store.as_ref(), experts, 3).await.unwrap();
    Plan {
        targets: vec![app.base.clone()],
        api_key: seeded.api_key,
        firm: (seeded.client_id, seeded.client_secret),
        stop,
        clients,
        contested: 0.5,
        seed: 1,
        mix,
    }
}

#[tokio::test]
async fn a_short_load_test_books_slots_and_leaves_the_invariants_intact() {
    // Arrange
    let app = TestApp::spawn().await;
    let plan = plan(
        &app,
        30,
        Stop::After(Duration::from_secs(2)),
        4,
        Mix::Scenario,
    )
    .await;

    // Act
    let report = run(&plan).await.unwrap();

    // Assert
    let text = report.to_text();
    assert!(report.verdict.passed(), "{text}");
    let searches = report.recorder.stats(Operation::Search);
    assert!(searches.with_status(200) > 0, "{text}");
    let bookings = report.recorder.stats(Operation::Book);
    assert!(bookings.with_status(201) > 0, "{text}");
    assert!(report.verdict.tracked > 0, "{text}");
    assert!(
        report.recorder.stats(Operation::Healthz).count() > 0,
        "{text}"
    );
    let json = report.to_json();
    for op in ["search", "book", "cancel", "reschedule", "healthz"] {
        assert!(
            json["operations"][op]["latencyMs"]["p99"].is_number(),
            "{json}"
        );
    }
}

#[test]
fn seed_prints_the_credentials_a_load_test_needs() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("seed.db").display());
    let output = Command::new(env!("CARGO_BIN_EXE_creneau"))
        .args([
            "seed",
            "--experts",
            "3",
            "--seed",
            "9",
            "--json",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
    for field in ["firmId", "clientId", "clientSecret", "apiKey"] {
        assert!(
            printed[field].as_str().is_some_and(|v| !v.is_empty()),
            "{printed}"
        );
    }
}

#[test]
fn a_load_test_against_another_machine_is_refused_without_opening_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_creneau"))
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .args([
            "loadtest",
            "--target",
            "http://192.0.2.10:8080",
            "--api-key",
            "k",
        ])
        .args([
            "--client-id",
            "c",
            "--client-secret",
            "s",
            "--requests",
            "10",
        ])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("refused"),
        "{output:?}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no database file"
    );
}

#[tokio::test]
async fn a_search_only_run_sends_nothing_but_searches() {
    let app = TestApp::spawn().await;
    let plan = plan(&app, 20, Stop::Requests(40), 2, Mix::Search).await;
    let report = run(&plan).await.unwrap();
    let text = report.to_text();
    assert_eq!(
        report.recorder.stats(Operation::Search).with_status(200),
        40,
        "{text}"
    );
    assert_eq!(report.recorder.stats(Operation::Book).count(), 0, "{text}");
    assert_eq!(
        report.recorder.stats(Operation::Healthz).count(),
        0,
        "{text}"
    );
    assert!(report.verdict.passed(), "{text}");
}

#[tokio::test]
async fn a_booking_run_books_the_slots_of_each_search() {
    let app = TestApp::spawn().await;
    let plan = plan(&app, 20, Stop::Requests(44), 1, Mix::Book).await;
    let report = run(&plan).await.unwrap();
    let text = report.to_text();
    let (searches, books) = (
        report.recorder.stats(Operation::Search).count(),
        report.recorder.stats(Operation::Book).count(),
    );
    // Each search offers up to 20 slots, the first of each expert booked in turn: bookings
    // are most requests.
    assert_eq!(searches + books, 44, "{text}");
    assert!(books >= 3 * searches, "{text}");
    let book = report.recorder.stats(Operation::Book);
    assert!(book.with_status(201) > books / 2, "{text}");
    assert_eq!(
        book.with_status(201) + book.with_status(409),
        books,
        "{text}"
    );
    assert!(report.verdict.passed(), "{text}");
}
