//! Pre-uploaded files and settlements: the upload forms and their refusals, expiry, and
//! the settlement rules on both APIs.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use creneau::config::ServerConfig;
use creneau::fetch::BlobKey;
use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, days_ahead, fresh_db, open_expert, search_body};

/// A small PDF whose bytes differ by `tag`.
pub fn pdf(tag: &str) -> Vec<u8> {
    format!("%PDF-1.7\n% {tag}\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n").into_bytes()
}

impl TestApp {
    /// Uploads `bytes` as base64 JSON; returns status and body.
    pub async fn upload(&self, token: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
        let body = json!({ "fileNameWithExtension": name, "file": STANDARD.encode(bytes) });
        self.call("POST", "/admin/v1/uploads", token, Some(body))
            .await
    }

    /// Uploads `bytes` as multipart; returns status and body.
    pub async fn upload_multipart(&self, token: &str, name: &str, bytes: &[u8]) -> (u16, Value) {
        let (content_type, body) = crate::helpers::multipart_file(name, bytes);
        let response = self
            .http
            .post(self.url("/admin/v1/uploads"))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Uploads a PDF and returns its key.
    async fn pdf_key(&self, token: &str, tag: &str) -> String {
        let (status, upload) = self.upload(token, &format!("{tag}.pdf"), &pdf(tag)).await;
        assert_eq!(status, 201, "{upload}");
        upload["key"].as_str().unwrap().to_owned()
    }
}

#[tokio::test]
async fn a_file_uploaded_as_base64_or_multipart_is_typed_from_its_bytes_and_read_by_its_key() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let bytes = pdf("rapport");
    let (status, upload) = app.upload(&token, "rapport.pdf", &bytes).await;
    assert_eq!(status, 201, "{upload}");
    let key = upload["key"].as_str().unwrap();
    let (uuid, ext) = key.split_once('.').unwrap();
    assert_eq!((uuid.len(), ext), (32, "pdf"), "{key}");
    assert_eq!(upload["status"], "UNSCANNED");
    assert_eq!(upload["contentType"], "application/pdf");
    assert_eq!(upload["size"], bytes.len());
    let sha = hex_sha256(&bytes);
    assert_eq!(upload["sha256"], sha);
    assert!(upload.get("used").is_none());
    let expires = chrono::DateTime::parse_from_rfc3339(upload["expiresAt"].as_str().unwrap())
        .unwrap()
        .with_timezone(&chrono::Utc);
    let minutes = (expires - chrono::Utc::now()).num_minutes();
    assert!((1434..=1440).contains(&minutes), "{minutes}");

    let (status, read) = app
        .call("GET", &format!("/admin/v1/uploads/{key}"), &token, None)
        .await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["used"], false);
    assert_eq!(read["sha256"], sha);

    // Multipart: the part's file name is the name; CSV text keeps its extension.
    let csv = "externalRef;displayName\nXT1;Jeanne Martin\n".as_bytes();
    let (status, text) = app.upload_multipart(&token, "experts.csv", csv).await;
    assert_eq!(status, 201, "{text}");
    assert_eq!(text["contentType"], "text/plain");
    assert_eq!(
        text["key"].as_str().unwrap().split_once('.').unwrap().1,
        "csv"
    );
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let (status, image) = app.upload_multipart(&token, "photo.png", &png).await;
    assert_eq!(status, 201, "{image}");
    assert_eq!(image["contentType"], "image/png");

    // Another firm does not see it; an unknown key is 404 too.
    let (_, other) = app.firm("Autre cabinet").await;
    for (who, path) in [
        (&other, format!("/admin/v1/uploads/{key}")),
        (&token, "/admin/v1/uploads/0123.pdf".to_owned()),
    ] {
        let (status, problem) = app.call("GET", &path, who, None).await;
        assert_problem(status, &problem, 404, "not-found");
    }
    let (status, _) = app
        .call("GET", &format!("/admin/v1/uploads/{key}"), "nope", None)
        .await;
    assert_eq!(status, 401);
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[tokio::test]
async fn bad_uploads_are_refused_with_a_pointer_and_nothing_is_kept() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let good = STANDARD.encode(pdf("x"));
    let long_name = format!("{}.pdf", "é".repeat(126));
    let cases = [
        (
            json!({ "fileNameWithExtension": "a.pdf", "file": "JVBER!i0x" }),
            "/file",
        ),
        (
            json!({ "fileNameWithExtension": "a.pdf", "file": "JVBERi0" }),
            "/file",
        ),
        (
            json!({ "fileNameWithExtension": "a.pdf", "file": "JVBE=i0x" }),
            "/file",
        ),
        (
            json!({ "fileNameWithExtension": "a.pdf", "file": "" }),
            "/file",
        ),
        (
            json!({ "fileNameWithExtension": "../x.pdf", "file": good }),
            "/fileNameWithExtension",
        ),
        (
            json!({ "fileNameWithExtension": "a\\b.pdf", "file": good }),
            "/fileNameWithExtension",
        ),
        (
            json!({ "fileNameWithExtension": long_name, "file": good }),
            "/fileNameWithExtension",
        ),
        (
            json!({ "fileNameWithExtension": "a\u{7}.pdf", "file": good }),
            "/fileNameWithExtension",
        ),
        (
            json!({ "fileNameWithExtension": "", "file": good }),
            "/fileNameWithExtension",
        ),
        (
            json!({ "fileNameWithExtension": "a.pdf", "file": good, "x": 1 }),
            "/x",
        ),
        (json!({ "file": good }), "/fileNameWithExtension"),
    ];
    for (body, pointer) in cases {
        let (status, problem) = app
            .call("POST", "/admin/v1/uploads", &token, Some(body.clone()))
            .await;
        assert_problem(status, &problem, 422, "validation-failed");
        assert_eq!(
            problem["errors"][0]["pointer"], pointer,
            "{body} -> {problem}"
        );
    }
    // Allowed types only, read from the bytes: not a GIF, not binary, not Latin-1 text.
    for bytes in [
        b"GIF89a\x01\x00".to_vec(),
        vec![0, 1, 2, 3, 255],
        b"caf\xe9;cr\xe8me\n".to_vec(),
    ] {
        let (status, problem) = app.upload(&token, "a.pdf", &bytes).await;
        assert_problem(status, &problem, 422, "content-type-not-allowed");
        let (status, problem) = app.upload_multipart(&token, "a.pdf", &bytes).await;
        assert_problem(status, &problem, 422, "content-type-not-allowed");
    }
    for name in ["../x.pdf", ""] {
        let (status, problem) = app.upload_multipart(&token, name, &pdf("y")).await;
        assert_problem(status, &problem, 422, "validation-failed");
    }
    let response = app
        .http
        .post(app.url("/admin/v1/uploads"))
        .bearer_auth(&token)
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    // A refused file leaves no blob behind.
    assert!(
        !app.jobs
            .blobs
            .exists(&BlobKey::parse(&hex_sha256(b"GIF89a\x01\x00")).unwrap())
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_file_over_the_cap_is_413_file_too_big_in_both_forms() {
    let mut config = ServerConfig::default();
    config.uploads.upload_max_bytes = 1000;
    let app = TestApp::spawn_with(fresh_db().await, config).await;
    let (_, token) = app.firm("Cabinet").await;
    let mut big = pdf("big");
    big.resize(1001, b' ');
    let (status, problem) = app.upload(&token, "big.pdf", &big).await;
    assert_problem(status, &problem, 413, "file-too-big");
    assert_eq!(problem["uploadStatus"], "FILE_TOO_BIG");
    let (status, problem) = app.upload_multipart(&token, "big.pdf", &big).await;
    assert_problem(status, &problem, 413, "file-too-big");
    assert_eq!(problem["uploadStatus"], "FILE_TOO_BIG");
    big.truncate(1000);
    let (status, upload) = app.upload(&token, "fits.pdf", &big).await;
    assert_eq!(status, 201, "{upload}");
    // A body past the route's 8 MiB limit is refused the same way.
    let huge = json!({ "fileNameWithExtension": "h.pdf", "file": "A".repeat(9 * 1024 * 1024) });
    let (status, problem) = app
        .call("POST", "/admin/v1/uploads", &token, Some(huge))
        .await;
    assert_problem(status, &problem, 413, "file-too-big");
}

/// A firm, its expert (`kind`), a Claims IA key, and a COMPLETED appointment on a manual
/// clock a week later.
struct Completed {
    token: String,
    key: String,
    id: String,
    credentials: (String, String),
}

impl Completed {
    /// A token of the firm valid at the clock's present.
    async fn fresh_token(&self, app: &TestApp) -> String {
        app.token(&self.credentials.0, &self.credentials.1).await
    }
}

async fn completed(app: &TestApp, kind: &str) -> Completed {
    let (_, client_id, secret) = app.firm_credentials("Cabinet").await;
    let token = app.token(&client_id, &secret).await;
    let mut expert = open_expert("J. Martin");
    expert["partnerKind"] = json!(kind);
    app.expert(&token, expert).await;
    let key = app.api_key().await;
    let mut search = search_body("VISIO", days_ahead(2), 3);
    search["partnerKind"] = json!(kind);
    let answer = app.search(&key, search).await;
    let slot = answer["slots"][0]["slotId"].as_str().unwrap();
    let (status, appointment) = app.book(&key, slot, "CIA-1").await;
    assert_eq!(status, 201, "{appointment}");
    let id = appointment["appointmentId"].as_str().unwrap().to_owned();
    app.clock
        .advance(std::time::Duration::from_secs(7 * 86_400));
    let token = app.token(&client_id, &secret).await;
    let (status, done) = app
        .call(
            "POST",
            &format!("/admin/v1/appointments/{id}/completion"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, 200, "{done}");
    Completed {
        token,
        key,
        id,
        credentials: (client_id, secret),
    }
}

fn today(app: &TestApp) -> String {
    app.clock
        .now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive()
        .to_string()
}

fn expert_settlement(app: &TestApp, fee_note: &str, report: &str) -> Value {
    json!({
        "type": "INVOICE",
        "reference": "MH-2026-0042",
        "date": today(app),
        "fees": { "net": 200.00, "vat": 34.50, "gross": 234.50 },
        "damage": { "net": 10000.00, "vat": 1700.50, "gross": 11700.50 },
        "feeNoteKey": fee_note,
        "reportKey": report
    })
}

#[tokio::test]
async fn an_expert_settlement_is_filed_once_read_on_both_apis_and_published() {
    let app = TestApp::spawn_on_manual_clock().await;
    let Completed { token, key, id, .. } = completed(&app, "EXPERT").await;
    let fee_note = app.pdf_key(&token, "honoraires").await;
    let report = app.pdf_key(&token, "rapport").await;
    let body = expert_settlement(&app, &fee_note, &report);
    let path = format!("/admin/v1/appointments/{id}/settlements");
    let send = |key: &'static str| {
        app.http
            .post(app.url(&path))
            .bearer_auth(&token)
            .header("idempotency-key", key)
            .json(&body)
            .send()
    };
    let response = send("k1").await.unwrap();
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with(&format!("{path}/")), "{location}");
    assert!(response.bytes().await.unwrap().is_empty());
    // The same key replays the answer; nothing is filed twice.
    let again = send("k1").await.unwrap();
    assert_eq!(again.status(), 202);
    assert_eq!(again.headers()["location"].to_str().unwrap(), location);
    assert_eq!(again.headers()["idempotent-replayed"], "true");

    let (status, settlement) = app.call("GET", &location, &token, None).await;
    assert_eq!(status, 200, "{settlement}");
    let settlement_id = location.rsplit('/').next().unwrap();
    assert_eq!(settlement["settlementId"], settlement_id);
    assert_eq!(settlement["status"], "SUBMITTED");
    assert_eq!(settlement["type"], "INVOICE");
    assert_eq!(settlement["fees"]["gross"], 234.5);
    assert_eq!(settlement["damage"]["vat"], 1700.5);
    assert_eq!(settlement["feeNoteKey"], fee_note.as_str());
    assert!(settlement.get("invoice").is_none());
    let documents = settlement["documents"].as_array().unwrap();
    assert_eq!(documents.len(), 2);
    let (status, list) = app.call("GET", &path, &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    // The uploads are now used, and kept with the settlement.
    let (_, upload) = app
        .call("GET", &format!("/admin/v1/uploads/{report}"), &token, None)
        .await;
    assert_eq!(upload["used"], true);

    // Claims IA reads it too, and streams the PDFs.
    let v1 = format!("/v1/appointments/{id}/settlements/{settlement_id}");
    let (status, seen) = app.call("GET", &v1, &key, None).await;
    assert_eq!(status, 200, "{seen}");
    assert_eq!(seen["reference"], "MH-2026-0042");
    let report_doc = seen["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["kind"] == "REPORT")
        .unwrap();
    let href = report_doc["href"].as_str().unwrap();
    assert_eq!(href, format!("{v1}/documents/REPORT"));
    let response = app
        .http
        .get(app.url(href))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", hex_sha256(&pdf("rapport"))));
    assert_eq!(response.bytes().await.unwrap().to_vec(), pdf("rapport"));
    let cached = app
        .http
        .get(app.url(&format!("{location}/documents/FEE_NOTE")))
        .bearer_auth(&token)
        .header(
            "if-none-match",
            format!("\"{}\"", hex_sha256(&pdf("honoraires"))),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);

    // settlement.submitted, in the events Claims IA reads.
    let (_, events) = app.call("GET", "/v1/events", &key, None).await;
    let submitted: Vec<_> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "settlement.submitted")
        .collect();
    assert_eq!(submitted.len(), 1, "{events}");
    assert_eq!(submitted[0]["appointmentId"], id.as_str());
    assert_eq!(
        submitted[0]["data"],
        json!({ "settlementId": settlement_id, "type": "INVOICE", "reference": "MH-2026-0042" })
    );
}

/// Files the EXPERT settlement of a completed appointment; returns it and its location.
async fn filed(app: &TestApp) -> (Completed, String) {
    let done = completed(app, "EXPERT").await;
    let body = expert_settlement(
        app,
        &app.pdf_key(&done.token, "fn").await,
        &app.pdf_key(&done.token, "rp").await,
    );
    let path = format!("/admin/v1/appointments/{}/settlements", done.id);
    let response = app
        .http
        .post(app.url(&path))
        .bearer_auth(&done.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    (done, location)
}

#[tokio::test]
async fn another_firm_or_another_claims_ia_client_gets_404_on_every_settlement_route() {
    let app = TestApp::spawn_on_manual_clock().await;
    let (Completed { token, id, .. }, location) = filed(&app).await;
    let path = format!("/admin/v1/appointments/{id}/settlements");
    let settlement_id = location.rsplit('/').next().unwrap();
    let v1 = format!("/v1/appointments/{id}/settlements/{settlement_id}");
    let (_, other_token) = app.firm("Autre").await;
    let other_key = app.api_key().await;
    for (who, route) in [
        (&other_token, path.clone()),
        (&other_token, location.clone()),
        (&other_token, format!("{location}/documents/REPORT")),
        (&other_key, v1.clone()),
        (&other_key, format!("{v1}/documents/REPORT")),
        (&other_key, format!("/v1/appointments/{id}/settlements")),
        (&token, format!("{location}/documents/INVOICE")),
    ] {
        let (status, problem) = app.call("GET", &route, who, None).await;
        assert_problem(status, &problem, 404, "not-found");
    }
    let other_keys = (
        app.pdf_key(&other_token, "a").await,
        app.pdf_key(&other_token, "b").await,
    );
    let (status, problem) = app
        .call(
            "POST",
            &path,
            &other_token,
            Some(expert_settlement(&app, &other_keys.0, &other_keys.1)),
        )
        .await;
    assert_problem(status, &problem, 404, "not-found");
}

#[tokio::test]
async fn settlement_rules_each_answer_their_problem() {
    let app = TestApp::spawn_on_manual_clock().await;
    let Completed { token, id, .. } = completed(&app, "EXPERT").await;
    let path = format!("/admin/v1/appointments/{id}/settlements");
    let fee_note = app.pdf_key(&token, "fn").await;
    let report = app.pdf_key(&token, "rp").await;
    let base = expert_settlement(&app, &fee_note, &report);
    let tomorrow = (app.clock.now() + chrono::Duration::days(1))
        .with_timezone(&chrono_tz::Europe::Paris)
        .date_naive()
        .to_string();
    let (_, png) = app
        .upload(&token, "p.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
        .await;
    let (_, other) = app.firm("Autre").await;
    let foreign = app.pdf_key(&other, "foreign").await;
    let with = |pointer: &str, value: Value| {
        let mut body = base.clone();
        *body.pointer_mut(pointer).unwrap() = value;
        body
    };
    let invalid = [
        (with("/fees/gross", json!(234.51)), "/fees/gross"),
        (with("/damage/gross", json!(1.0)), "/damage/gross"),
        (with("/fees/net", json!(200.001)), "/fees/net"),
        (with("/fees/vat", json!(-1)), "/fees/vat"),
        (with("/date", json!(tomorrow)), "/date"),
        (with("/date", json!("01/12/2026")), "/date"),
        (with("/type", json!("RECEIPT")), "/type"),
        (with("/reference", json!("")), "/reference"),
        (with("/fees", json!({ "net": 1, "vat": 0 })), "/fees/gross"),
        (
            {
                let mut b = base.clone();
                b["invoice"] = json!({ "net": 1, "vat": 0, "gross": 1 });
                b
            },
            "/invoice",
        ),
        (
            {
                let mut b = base.clone();
                b.as_object_mut().unwrap().remove("reportKey");
                b
            },
            "/reportKey",
        ),
    ];
    for (body, pointer) in invalid {
        let (status, problem) = app.call("POST", &path, &token, Some(body.clone())).await;
        assert_problem(status, &problem, 422, "validation-failed");
        let pointers: Vec<_> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["pointer"].as_str().unwrap().to_owned())
            .collect();
        assert!(pointers.iter().any(|p| p == pointer), "{body} -> {problem}");
    }
    let unknown = [
        (with("/reportKey", json!("nope.pdf")), "/reportKey"),
        (with("/reportKey", png["key"].clone()), "/reportKey"),
        (with("/feeNoteKey", json!(foreign)), "/feeNoteKey"),
        (with("/reportKey", json!(fee_note)), "/reportKey"),
    ];
    for (body, pointer) in unknown {
        let (status, problem) = app.call("POST", &path, &token, Some(body.clone())).await;
        assert_problem(status, &problem, 422, "unknown-upload");
        assert_eq!(
            problem["errors"][0]["pointer"], pointer,
            "{body} -> {problem}"
        );
    }

    let (status, _) = app.call("POST", &path, &token, Some(base.clone())).await;
    assert_eq!(status, 202);
    // Used keys are not usable again; (type, reference) is unique per firm.
    let (status, problem) = app.call("POST", &path, &token, Some(base.clone())).await;
    assert_problem(status, &problem, 422, "unknown-upload");
    let fresh = expert_settlement(
        &app,
        &app.pdf_key(&token, "fn2").await,
        &app.pdf_key(&token, "rp2").await,
    );
    let (status, problem) = app.call("POST", &path, &token, Some(fresh.clone())).await;
    assert_problem(status, &problem, 409, "settlement-exists");
    let (_, list) = app.call("GET", &path, &token, None).await;
    assert_eq!(
        problem["existingSettlementId"],
        list["items"][0]["settlementId"]
    );
    let mut credit = fresh;
    credit["type"] = json!("CREDIT_NOTE");
    let (status, problem) = app.call("POST", &path, &token, Some(credit)).await;
    assert_eq!(status, 202, "{problem}");
}

#[tokio::test]
async fn a_settlement_waits_for_completion_and_a_repairer_files_an_invoice() {
    let app = TestApp::spawn_on_manual_clock().await;
    let Completed { token, key, id, .. } = completed(&app, "REN").await;
    let path = format!("/admin/v1/appointments/{id}/settlements");
    let invoice = app.pdf_key(&token, "facture").await;
    let body = json!({
        "type": "INVOICE", "reference": "F-1", "date": today(&app),
        "invoice": { "net": 1000, "vat": 200, "gross": 1200 }, "invoiceKey": invoice
    });
    let mut expert_fields = body.clone();
    expert_fields["fees"] = json!({ "net": 1, "vat": 0, "gross": 1 });
    let (status, problem) = app.call("POST", &path, &token, Some(expert_fields)).await;
    assert_problem(status, &problem, 422, "validation-failed");
    assert_eq!(problem["errors"][0]["pointer"], "/fees");
    let (status, problem) = app.call("POST", &path, &token, Some(body)).await;
    assert_eq!(status, 202, "{problem}");
    let (_, list) = app
        .call(
            "GET",
            &format!("/v1/appointments/{id}/settlements"),
            &key,
            None,
        )
        .await;
    let filed = &list["items"][0];
    assert_eq!(filed["invoice"]["gross"], 1200.0);
    assert_eq!(filed["documents"][0]["kind"], "INVOICE");
    assert!(filed.get("fees").is_none());

    // A CONFIRMED appointment cannot be settled yet.
    let answer = app
        .search(&key, {
            let mut s = search_body("VISIO", days_ahead(10), 3);
            s["partnerKind"] = json!("REN");
            s
        })
        .await;
    let (_, next) = app
        .book(
            &key,
            answer["slots"][0]["slotId"].as_str().unwrap(),
            "CIA-2",
        )
        .await;
    let next_id = next["appointmentId"].as_str().unwrap();
    let body = json!({
        "type": "INVOICE", "reference": "F-2", "date": today(&app),
        "invoice": { "net": 1, "vat": 0, "gross": 1 },
        "invoiceKey": app.pdf_key(&token, "f2").await
    });
    let (status, problem) = app
        .call(
            "POST",
            &format!("/admin/v1/appointments/{next_id}/settlements"),
            &token,
            Some(body),
        )
        .await;
    assert_problem(status, &problem, 409, "appointment-not-completed");
}

#[tokio::test]
async fn an_unused_upload_is_deleted_with_its_bytes_after_its_lifetime_and_a_used_one_stays() {
    let app = TestApp::spawn_on_manual_clock().await;
    let done = completed(&app, "EXPERT").await;
    let (token, id) = (done.token.clone(), done.id.clone());
    let fee_note = app.pdf_key(&token, "fn").await;
    let report = app.pdf_key(&token, "rp").await;
    let unused = app.pdf_key(&token, "unused").await;
    let (status, _) = app
        .call(
            "POST",
            &format!("/admin/v1/appointments/{id}/settlements"),
            &token,
            Some(expert_settlement(&app, &fee_note, &report)),
        )
        .await;
    assert_eq!(status, 202);
    let sweeper = app.jobs.upload_sweeper(app.store.clone());
    app.clock.advance(std::time::Duration::from_secs(23 * 3600));
    assert_eq!(sweeper.drain().await.unwrap(), 0);
    let token = done.fresh_token(&app).await;
    let (status, _) = app
        .call("GET", &format!("/admin/v1/uploads/{unused}"), &token, None)
        .await;
    assert_eq!(status, 200);
    app.clock.advance(std::time::Duration::from_secs(3601));
    // Expired: unknown at once, before the sweep.
    let token = done.fresh_token(&app).await;
    let (status, _) = app
        .call("GET", &format!("/admin/v1/uploads/{unused}"), &token, None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(sweeper.drain().await.unwrap(), 1);
    // A second sweeper (another instance) finds nothing left to delete.
    let other = app.jobs.upload_sweeper(app.store.clone());
    assert_eq!(other.drain().await.unwrap(), 0);
    let blob = |tag: &str| BlobKey::parse(&hex_sha256(&pdf(tag))).unwrap();
    assert!(!app.jobs.blobs.exists(&blob("unused")).await.unwrap());
    assert!(app.jobs.blobs.exists(&blob("rp")).await.unwrap());
    let (status, used) = app
        .call("GET", &format!("/admin/v1/uploads/{report}"), &token, None)
        .await;
    assert_eq!(status, 200, "{used}");
    assert_eq!(used["used"], true);
}

#[tokio::test]
async fn settlement_submitted_is_pushed_to_the_claims_ia_webhook() {
    let (url, received) = crate::webhooks::receiver(0).await;
    let app = TestApp::spawn_on_manual_clock().await;
    let done = completed(&app, "EXPERT").await;
    let client_id = creneau::auth::api_key_client_id(&done.key)
        .unwrap()
        .to_owned();
    app.store
        .set_webhook(&creneau::store::WebhookEndpoint {
            client_id,
            url,
            secret: creneau::jobs::webhooks::new_secret(),
        })
        .await
        .unwrap();
    let body = expert_settlement(
        &app,
        &app.pdf_key(&done.token, "fn").await,
        &app.pdf_key(&done.token, "rp").await,
    );
    let path = format!("/admin/v1/appointments/{}/settlements", done.id);
    let (status, _) = app.call("POST", &path, &done.token, Some(body)).await;
    assert_eq!(status, 202);
    assert_eq!(app.webhook_sender().drain().await.unwrap(), 1);
    let received = received.lock().unwrap();
    let pushed: Value = serde_json::from_slice(&received[0].1).unwrap();
    assert_eq!(pushed["type"], "settlement.submitted");
    assert_eq!(pushed["appointmentId"], done.id.as_str());
    assert_eq!(pushed["data"]["reference"], "MH-2026-0042");
}

#[tokio::test]
async fn concurrent_filings_with_one_reference_or_one_upload_file_once() {
    let app = TestApp::spawn_on_manual_clock().await;
    let done = completed(&app, "EXPERT").await;
    let path = format!("/admin/v1/appointments/{}/settlements", done.id);
    // Eight filings of one reference, each with its own uploads.
    let mut bodies = Vec::new();
    for i in 0..8 {
        bodies.push(expert_settlement(
            &app,
            &app.pdf_key(&done.token, &format!("fn{i}")).await,
            &app.pdf_key(&done.token, &format!("rp{i}")).await,
        ));
    }
    let statuses = futures_util::future::join_all(
        bodies
            .into_iter()
            .map(|body| app.call("POST", &path, &done.token, Some(body))),
    )
    .await;
    let filed = statuses.iter().filter(|(s, _)| *s == 202).count();
    assert_eq!(filed, 1, "{statuses:?}");
    for (status, problem) in statuses.iter().filter(|(s, _)| *s != 202) {
        assert_problem(*status, problem, 409, "settlement-exists");
    }
    // Eight filings of distinct references sharing one report: one takes it.
    let report = app.pdf_key(&done.token, "shared").await;
    let mut bodies = Vec::new();
    for i in 0..8 {
        let mut body = expert_settlement(
            &app,
            &app.pdf_key(&done.token, &format!("fee{i}")).await,
            &report,
        );
        body["reference"] = json!(format!("MH-{i}"));
        bodies.push(body);
    }
    let statuses = futures_util::future::join_all(
        bodies
            .into_iter()
            .map(|body| app.call("POST", &path, &done.token, Some(body))),
    )
    .await;
    assert_eq!(statuses.iter().filter(|(s, _)| *s == 202).count(), 1);
    for (status, problem) in statuses.iter().filter(|(s, _)| *s != 202) {
        assert_problem(*status, problem, 422, "unknown-upload");
    }
    let (_, list) = app.call("GET", &path, &done.token, None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn an_unreachable_scanner_is_503_scan_failed_and_nothing_is_kept() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = ServerConfig::default();
    config.jobs.scanner = Some(format!("clamd://127.0.0.1:{port}"));
    let app = TestApp::spawn_with(fresh_db().await, config).await;
    let (_, token) = app.firm("Cabinet").await;
    let response = app
        .http
        .post(app.url("/admin/v1/uploads"))
        .bearer_auth(&token)
        .json(&json!({ "fileNameWithExtension": "r.pdf", "file": STANDARD.encode(pdf("r")) }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0);
    let problem: Value = response.json().await.unwrap();
    assert_problem(503, &problem, 503, "scan-failed");
    assert_eq!(problem["uploadStatus"], "ERROR");
    let kept = app
        .jobs
        .blobs
        .exists(&BlobKey::parse(&hex_sha256(&pdf("r"))).unwrap())
        .await
        .unwrap();
    assert!(!kept);
}
