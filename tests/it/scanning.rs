//! Virus scanning against a real clamd (built with `TEST_CLAMD` set; see [`crate::clamd`]):
//! verdicts over both sockets, then what an infected document does to dossier downloads and
//! Claims IA uploads. Faults (daemon down or silent) are in `scanner_down` and the unit
//! tests of `creneau::scan`, which need no daemon.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use creneau::config::ServerConfig;
use creneau::scan::{Scanner, Verdict};
use serde_json::Value;

use crate::clamd::{
    EICAR, EICAR_SIGNATURE, INFECTED_PDF_SIGNATURE, infected_pdf, tcp_spec, unix_spec,
};
use crate::documents::{attachment, booked, dossier, origin, pdf, png, put, upload};
use crate::helpers::{TestApp, assert_problem, fresh_db};

fn scanner(spec: &str) -> Scanner {
    spec.parse::<Scanner>()
        .unwrap()
        .with_timeout(Duration::from_secs(30))
}

fn file_of(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, bytes).unwrap();
    file
}

async fn verdict(spec: &str, bytes: &[u8]) -> Verdict {
    let file = file_of(bytes);
    scanner(spec)
        .scan_file(file.path())
        .await
        .unwrap_or_else(|e| panic!("{spec}: {e}"))
}

fn infected_with(verdict: &Verdict, name: &str) -> bool {
    matches!(verdict, Verdict::Infected { signature } if signature.starts_with(name))
}

#[tokio::test]
async fn clean_files_are_clean_over_the_unix_socket_and_tcp() {
    // Several chunks, and a last one cut short.
    let big: Vec<u8> = (0..3 * 1024 * 1024 + 5)
        .map(|i: u32| u8::try_from(i % 253).unwrap())
        .collect();
    for spec in [unix_spec(), tcp_spec()] {
        scanner(&spec).ping().await.unwrap();
        assert_eq!(verdict(&spec, &pdf()).await, Verdict::Clean, "{spec}");
        assert_eq!(verdict(&spec, &png()).await, Verdict::Clean, "{spec}");
        assert_eq!(verdict(&spec, &big).await, Verdict::Clean, "{spec}");
        assert_eq!(verdict(&spec, b"").await, Verdict::Clean, "{spec}");
    }
}

#[tokio::test]
async fn eicar_and_the_infected_pdf_are_infected_and_named() {
    for spec in [unix_spec(), tcp_spec()] {
        let found = verdict(&spec, EICAR).await;
        assert!(infected_with(&found, EICAR_SIGNATURE), "{spec}: {found:?}");
        // Longer than one chunk: found only if the whole stream arrived intact.
        let found = verdict(&spec, &infected_pdf()).await;
        assert!(
            infected_with(&found, INFECTED_PDF_SIGNATURE),
            "{spec}: {found:?}"
        );
        // One byte less is another file.
        let pdf = infected_pdf();
        let found = verdict(&spec, &pdf[..pdf.len() - 1]).await;
        assert_eq!(found, Verdict::Clean, "{spec}");
    }
}

fn mentions(value: &Value, text: &str) -> bool {
    value.as_str().is_some_and(|s| s.contains(text))
}

async fn attachment_events(app: &TestApp, key: &str) -> Vec<Value> {
    let (status, events) = app.call("GET", "/v1/events", key, None).await;
    assert_eq!(status, 200, "{events}");
    events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("attachment."))
        .cloned()
        .collect()
}

#[tokio::test]
async fn an_infected_download_is_rejected_as_infected_and_claims_ia_hears_of_it() {
    let base = origin(
        Router::new()
            .route("/infected.pdf", get(|| async { infected_pdf() }))
            .route("/clean.pdf", get(|| async { pdf() })),
    )
    .await;
    let mut config = ServerConfig::default();
    config.jobs.fetch_allow_origins = vec![base.clone()];
    config.jobs.scanner = Some(unix_spec());
    let app = TestApp::spawn_with(fresh_db().await, config).await;
    let (token, key, id) = booked(&app).await;
    let urls = [format!("{base}/infected.pdf"), format!("{base}/clean.pdf")];
    let (status, body) = put(&app, &key, &id, dossier(&[&urls[0], &urls[1]])).await;
    assert_eq!(status, 201, "{body}");

    assert_eq!(
        app.fetch_worker().drain().await.unwrap(),
        2,
        "one attempt each"
    );
    let (_, read) = app
        .call("GET", &format!("/v1/appointments/{id}/dossier"), &key, None)
        .await;
    let infected = attachment(&read, "infected.pdf");
    assert_eq!(infected["status"], "REJECTED", "{read}");
    assert_eq!(infected["reason"], "infected");
    assert!(
        mentions(&infected["detail"], INFECTED_PDF_SIGNATURE),
        "{infected}"
    );
    assert!(infected.get("sha256").is_none(), "not stored: {infected}");
    assert_eq!(attachment(&read, "clean.pdf")["status"], "STORED");

    let events = attachment_events(&app, &key).await;
    let rejected: Vec<&Value> = events
        .iter()
        .filter(|e| e["type"] == "attachment.rejected")
        .collect();
    assert_eq!(rejected.len(), 1, "{events:?}");
    assert_eq!(rejected[0]["data"]["reason"], "infected");
    assert_eq!(rejected[0]["data"]["status"], "REJECTED");
    assert_eq!(
        rejected[0]["data"]["attachmentId"],
        infected["attachmentId"]
    );
    assert_eq!(rejected[0]["appointmentId"], id.as_str());
    assert_eq!(
        events
            .iter()
            .filter(|e| e["type"] == "attachment.stored")
            .count(),
        1
    );

    let content = format!(
        "/admin/v1/appointments/{id}/attachments/{}/content",
        infected["attachmentId"].as_str().unwrap()
    );
    let (status, body) = app.call("GET", &content, &token, None).await;
    assert_problem(status, &body, 409, "attachment-not-stored");
}

#[tokio::test]
async fn an_infected_upload_is_422_and_recorded_rejected_and_a_clean_one_is_stored() {
    let mut config = ServerConfig::default();
    config.jobs.scanner = Some(tcp_spec());
    let app = TestApp::spawn_with(fresh_db().await, config).await;
    let (token, key, id) = booked(&app).await;

    let (status, body) = upload(&app, &key, &id, "rapport.pdf", infected_pdf()).await;
    assert_problem(status, &body, 422, "file-infected");
    assert!(mentions(&body["detail"], INFECTED_PDF_SIGNATURE), "{body}");
    // The type is checked first: the bare EICAR file is no allowed type.
    let (status, body) = upload(&app, &key, &id, "eicar.com", EICAR.to_vec()).await;
    assert_problem(status, &body, 422, "content-type-not-allowed");
    let (status, stored) = upload(&app, &key, &id, "photo.png", png()).await;
    assert_eq!(status, 201, "{stored}");
    assert_eq!(stored["status"], "STORED");

    let (_, list) = app
        .call(
            "GET",
            &format!("/admin/v1/appointments/{id}/attachments"),
            &token,
            None,
        )
        .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "the infected one and the photo: {list}");
    let rejected = items
        .iter()
        .find(|a| a["status"] == "REJECTED")
        .unwrap_or_else(|| panic!("no REJECTED upload: {list}"));
    assert_eq!(rejected["reason"], "infected");
    assert_eq!(rejected["name"], "rapport.pdf");
    assert!(rejected.get("sha256").is_none(), "not stored: {rejected}");
    assert!(
        mentions(&rejected["detail"], INFECTED_PDF_SIGNATURE),
        "{rejected}"
    );

    let events = attachment_events(&app, &key).await;
    assert_eq!(
        events.len(),
        1,
        "only the refusal is news to Claims IA: {events:?}"
    );
    assert_eq!(events[0]["type"], "attachment.rejected");
    assert_eq!(events[0]["data"]["reason"], "infected");
    assert_eq!(events[0]["data"]["attachmentId"], rejected["attachmentId"]);
    assert_eq!(events[0]["appointmentId"], id.as_str());

    let content = format!(
        "/admin/v1/appointments/{id}/attachments/{}/content",
        rejected["attachmentId"].as_str().unwrap()
    );
    let (status, body) = app.call("GET", &content, &token, None).await;
    assert_problem(status, &body, 409, "attachment-not-stored");
}
