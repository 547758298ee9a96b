//! Pre-uploads against a real clamd (built with `TEST_CLAMD` set, as `.ci/run` does): a
//! clean file is `VERIFIED`, an infected one is 422 `file-infected` and not kept — the type
//! is checked first, so an infected file of an allowed type is the case that matters.

use creneau::config::ServerConfig;
use creneau::fetch::BlobKey;
use serde_json::Value;

use crate::clamd::{EICAR, infected_pdf, tcp_spec, unix_spec};
use crate::helpers::{TestApp, assert_problem, fresh_db};
use crate::settlements::pdf;

async fn scanned_app(spec: String) -> TestApp {
    let mut config = ServerConfig::default();
    config.jobs.scanner = Some(spec);
    TestApp::spawn_with(fresh_db().await, config).await
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

async fn kept(app: &TestApp, bytes: &[u8]) -> bool {
    app.jobs
        .blobs
        .exists(&BlobKey::parse(&sha256(bytes)).unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_clean_upload_is_verified_over_the_unix_socket_and_over_tcp() {
    for spec in [unix_spec(), tcp_spec()] {
        let app = scanned_app(spec).await;
        let (_, token) = app.firm("Cabinet").await;
        let (status, upload) = app.upload(&token, "rapport.pdf", &pdf("clean")).await;
        assert_eq!(status, 201, "{upload}");
        assert_eq!(upload["status"], "VERIFIED");
        let (status, multipart) = app
            .upload_multipart(&token, "notes.csv", b"a;b\n1;2\n")
            .await;
        assert_eq!(status, 201, "{multipart}");
        assert_eq!(multipart["status"], "VERIFIED");
        let key = upload["key"].as_str().unwrap();
        let (_, read) = app
            .call("GET", &format!("/admin/v1/uploads/{key}"), &token, None)
            .await;
        assert_eq!(read["status"], "VERIFIED");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_infected_upload_is_422_file_infected_in_both_forms_and_nothing_is_kept() {
    let app = scanned_app(unix_spec()).await;
    let (_, token) = app.firm("Cabinet").await;
    let infected = infected_pdf();
    let check = |status: u16, problem: &Value| {
        assert_problem(status, problem, 422, "file-infected");
        assert_eq!(problem["uploadStatus"], "INFECTED");
    };
    // EICAR is plain text, an allowed type: the scan refuses it.
    for bytes in [EICAR.to_vec(), infected.clone()] {
        let (status, problem) = app.upload(&token, "rapport.pdf", &bytes).await;
        check(status, &problem);
        let (status, problem) = app.upload_multipart(&token, "rapport.pdf", &bytes).await;
        check(status, &problem);
        assert!(!kept(&app, &bytes).await);
    }
    // The type is checked first: a binary file is refused for its type, not scanned.
    let (status, problem) = app.upload(&token, "x.bin", &[0, 1, 2, 255]).await;
    assert_problem(status, &problem, 422, "content-type-not-allowed");
}
