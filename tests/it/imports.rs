//! Bulk onboarding: experts' `externalRef`, imports of experts and absences, CSV export.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::helpers::{TestApp, assert_problem, open_expert};

#[tokio::test]
async fn an_external_ref_is_unique_in_its_firm_and_finds_its_expert() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let (_, other) = app.firm("Autre").await;
    let mut body = open_expert("J. Martin");
    body["externalRef"] = json!("XT5678");
    let id = app.expert(&token, body.clone()).await;
    let (status, problem) = app
        .call("POST", "/admin/v1/experts", &token, Some(body.clone()))
        .await;
    assert_problem(status, &problem, 409, "external-ref-taken");
    // Another firm may use the same reference.
    app.expert(&other, body.clone()).await;
    let (status, page) = app
        .call("GET", "/admin/v1/experts?externalRef=XT5678", &token, None)
        .await;
    assert_eq!(status, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["externalRef"], "XT5678");
    let (_, none) = app
        .call("GET", "/admin/v1/experts?externalRef=NOPE", &token, None)
        .await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    // Replacing another expert with a taken reference is refused too.
    let second = app.expert(&token, open_expert("P. Durand")).await;
    let (status, problem) = app
        .call(
            "PUT",
            &format!("/admin/v1/experts/{second}"),
            &token,
            Some(body.clone()),
        )
        .await;
    assert_problem(status, &problem, 409, "external-ref-taken");
    for bad in ["", "a b", "x/y", &"A".repeat(41)] {
        body["externalRef"] = json!(bad);
        let (status, problem) = app
            .call("POST", "/admin/v1/experts", &token, Some(body.clone()))
            .await;
        assert_problem(status, &problem, 422, "validation-failed");
        assert_eq!(problem["errors"][0]["pointer"], "/externalRef", "{bad:?}");
    }
}

const HEADER: &str = "externalRef;displayName;timeZone;baseLat;baseLon;departments;radiusKm;\
claimTypes;expertiseTypes;durationVISIO;MON;TUE;WED;THU;FRI;SAT;SUN";

/// An `EXPERTS` row bookable every day 08:00–18:00 for VISIO water damage in Paris.
fn row(reference: &str, name: &str) -> String {
    let day = "08:00-18:00";
    format!(
        "{reference};{name};Europe/Paris;48.8566;2.3522;75|92;30;DDE|DE;VISIO|ESS;60;\
         {day};{day};{day};{day};{day};{day};{day}"
    )
}

fn experts_file(rows: &[String]) -> String {
    let mut text = format!("\u{feff}{HEADER}\n");
    for r in rows {
        text.push_str(r);
        text.push('\n');
    }
    text
}

impl TestApp {
    /// Sends a CSV as a multipart import; returns status and body.
    pub async fn import(&self, token: &str, kind: &str, csv: &[u8], dry_run: bool) -> (u16, Value) {
        let dry = if dry_run { "true" } else { "false" };
        let (content_type, body) = crate::helpers::multipart(&[
            ("kind", None, kind.as_bytes()),
            ("dryRun", None, dry.as_bytes()),
            ("file", Some("experts.csv"), csv),
        ]);
        let response = self
            .http
            .post(self.url("/admin/v1/imports"))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap())
    }

    /// Runs the import worker until no import is due.
    pub async fn drain_imports(&self) -> usize {
        let mut n = 0;
        while self
            .service
            .import_once("test-import-worker")
            .await
            .unwrap()
        {
            n += 1;
        }
        n
    }

    /// Imports a CSV, runs the worker, and returns the import as read back.
    pub async fn imported(&self, token: &str, kind: &str, csv: &[u8], dry_run: bool) -> Value {
        let (status, created) = self.import(token, kind, csv, dry_run).await;
        assert_eq!(status, 202, "{created}");
        self.drain_imports().await;
        let id = created["importId"].as_str().unwrap();
        let (status, import) = self
            .call("GET", &format!("/admin/v1/imports/{id}"), token, None)
            .await;
        assert_eq!(status, 200, "{import}");
        import
    }
}

fn counts(import: &Value) -> (i64, i64, i64, i64) {
    let n = |k: &str| import[k].as_i64().unwrap_or(-1);
    (n("records"), n("created"), n("updated"), n("unchanged"))
}

#[tokio::test]
async fn an_experts_file_imports_all_its_rows_reaches_searches_and_imports_again_unchanged() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let file = experts_file(&[row("XT1", "J. Martin"), row("XT2", "P. Durand")]);
    let import = app
        .imported(&token, "EXPERTS", file.as_bytes(), false)
        .await;
    assert_eq!(import["status"], "IMPORTED", "{import}");
    assert_eq!(import["source"], "UPLOAD");
    assert_eq!(counts(&import), (2, 2, 0, 0));
    assert!(import["finishedAt"].is_string());
    let (_, page) = app
        .call("GET", "/admin/v1/experts?externalRef=XT2", &token, None)
        .await;
    assert_eq!(page["items"][0]["displayName"], "P. Durand");
    assert_eq!(page["items"][0]["durationsMinutes"]["VISIO"], 60);
    // At once in slot searches.
    let key = app.api_key().await;
    let answer = app
        .search(
            &key,
            crate::helpers::search_body("VISIO", crate::helpers::days_ahead(2), 2),
        )
        .await;
    assert!(!answer["slots"].as_array().unwrap().is_empty(), "{answer}");

    let again = app
        .imported(&token, "EXPERTS", file.as_bytes(), false)
        .await;
    assert_eq!(counts(&again), (2, 0, 0, 2));
    let changed = experts_file(&[row("XT1", "J. Martin-Dupont"), row("XT3", "A. Roux")]);
    let third = app
        .imported(&token, "EXPERTS", changed.as_bytes(), false)
        .await;
    assert_eq!(counts(&third), (2, 1, 1, 0));
    // Newest first.
    let (_, list) = app.call("GET", "/admin/v1/imports", &token, None).await;
    let ids: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["importId"].clone())
        .collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[0], third["importId"]);
    // Another firm sees none of it.
    let (_, other) = app.firm("Autre").await;
    let id = third["importId"].as_str().unwrap();
    let (status, problem) = app
        .call("GET", &format!("/admin/v1/imports/{id}"), &other, None)
        .await;
    assert_problem(status, &problem, 404, "not-found");
}

#[tokio::test]
async fn the_export_imports_back_unchanged_and_neutralises_formulas() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let mut body = open_expert("=cmd|' /C calc'!A0");
    body["externalRef"] = json!("-X1");
    body["phone"] = json!("+33 6 12 34 56 78");
    body["email"] = json!("j@example.fr");
    body["skills"]["maxStake"] = json!(15000.5);
    app.expert(&token, body).await;
    let file = experts_file(&[row("XT1", "J. Martin")]);
    app.imported(&token, "EXPERTS", file.as_bytes(), false)
        .await;
    let response = app
        .http
        .get(app.url("/admin/v1/experts.csv"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = response.text().await.unwrap();
    assert!(csv.starts_with("externalRef;displayName;"), "{csv}");
    assert!(
        csv.contains("'=cmd|' /C calc'!A0") || csv.contains("\"'=cmd|' /C calc'!A0\""),
        "{csv}"
    );
    assert!(csv.contains("'-X1"), "{csv}");
    assert!(!csv.lines().any(|l| l.starts_with('=')), "{csv}");
    let again = app.imported(&token, "EXPERTS", csv.as_bytes(), false).await;
    assert_eq!(again["status"], "IMPORTED", "{again}");
    assert_eq!(counts(&again), (2, 0, 0, 2));
}

#[tokio::test]
async fn any_row_error_fails_the_whole_import_with_rows_and_columns() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let bad_hours = row("XT2", "P. Durand").replacen("08:00-18:00", "08:00-25:00", 1);
    let file = experts_file(&[
        row("XT1", "J. Martin"),
        bad_hours,
        row("XT1", "Doublon"),
        "XT4;Court".to_owned(),
        row("XT5", "E. Roux").replace(";30;", ";abc;"),
        row("", "Sans ref"),
    ]);
    let import = app
        .imported(&token, "EXPERTS", file.as_bytes(), false)
        .await;
    assert_eq!(import["status"], "FAILED", "{import}");
    let errors: Vec<(i64, String)> = import["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["row"].as_i64().unwrap(),
                e["column"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        errors,
        vec![
            (3, "MON".into()),
            (4, "externalRef".into()),
            (5, String::new()),
            (6, "radiusKm".into()),
            (7, "externalRef".into()),
        ],
        "{import}"
    );
    assert_eq!(import["records"], 6);
    let (_, page) = app.call("GET", "/admin/v1/experts", &token, None).await;
    assert!(
        page["items"].as_array().unwrap().is_empty(),
        "nothing written"
    );
    // A dry run checks without writing.
    let good = experts_file(&[row("XT1", "J. Martin")]);
    let dry = app.imported(&token, "EXPERTS", good.as_bytes(), true).await;
    assert_eq!(dry["status"], "VALIDATED", "{dry}");
    assert_eq!(dry["dryRun"], true);
    assert_eq!(counts(&dry), (1, 1, 0, 0));
    let (_, page) = app.call("GET", "/admin/v1/experts", &token, None).await;
    assert!(
        page["items"].as_array().unwrap().is_empty(),
        "a dry run writes nothing"
    );
}

#[tokio::test]
async fn malformed_files_fail_with_a_clear_reason() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let header_errors = |import: &Value| -> Vec<String> {
        import["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                assert_eq!(e["row"], 1);
                e["column"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    let unknown = app
        .imported(
            &token,
            "EXPERTS",
            b"externalRef,displayName,colour\nX,Y,red\n",
            false,
        )
        .await;
    assert_eq!(unknown["status"], "FAILED");
    assert_eq!(header_errors(&unknown), vec!["colour"]);
    let twice = app
        .imported(
            &token,
            "EXPERTS",
            b"externalRef;displayName;displayName\n",
            false,
        )
        .await;
    assert_eq!(header_errors(&twice), vec!["displayName"]);
    let missing = app
        .imported(&token, "EXPERTS", b"displayName\nJ. Martin\n", false)
        .await;
    assert_eq!(header_errors(&missing), vec!["externalRef"]);
    // Not UTF-8 (Latin-1) and empty files are refused before anything is queued: neither
    // is UTF-8 text, the only type an import file may be.
    for bytes in [&b"externalRef;displayName\nX1;H\xe9l\xe8ne\n"[..], b""] {
        let (status, problem) = app.import(&token, "EXPERTS", bytes, false).await;
        assert_problem(status, &problem, 422, "content-type-not-allowed");
    }
    let blank = app.imported(&token, "EXPERTS", b"\n\n", false).await;
    assert_eq!(blank["status"], "FAILED");
    assert_eq!(blank["reason"], "the file is empty");
    let mut big = String::from("externalRef;displayName\n");
    for i in 0..50_000 {
        writeln!(big, "X{i};Expert {i}").unwrap();
    }
    let huge = app.imported(&token, "EXPERTS", big.as_bytes(), false).await;
    assert_eq!(huge["status"], "FAILED");
    assert!(
        huge["reason"]
            .as_str()
            .unwrap()
            .contains("more than 25000 rows"),
        "{huge}"
    );
}

#[tokio::test]
async fn a_url_or_a_pre_upload_is_imported_and_the_json_form_is_checked() {
    use axum::routing::get;
    let file = experts_file(&[row("XT1", "J. Martin")]);
    let served = file.clone();
    let base = crate::documents::origin(axum::Router::new().route(
        "/experts.csv",
        get(move || {
            let served = served.clone();
            async move { served }
        }),
    ))
    .await;
    let mut config = creneau::config::ServerConfig::default();
    config.jobs.fetch_allow_origins = vec![base.clone()];
    let app = TestApp::spawn_with(crate::helpers::fresh_db().await, config).await;
    let (_, token) = app.firm("Cabinet").await;
    let start = |body: Value| app.call("POST", "/admin/v1/imports", &token, Some(body));
    let (status, created) =
        start(json!({ "kind": "EXPERTS", "url": format!("{base}/experts.csv") })).await;
    assert_eq!(status, 202, "{created}");
    app.drain_imports().await;
    let id = created["importId"].as_str().unwrap();
    let (_, import) = app
        .call("GET", &format!("/admin/v1/imports/{id}"), &token, None)
        .await;
    assert_eq!(import["status"], "IMPORTED", "{import}");
    assert_eq!(import["source"], "URL");
    assert_eq!(counts(&import), (1, 1, 0, 0));

    // A pre-uploaded CSV, named by its key; the key is then used.
    let (status, upload) = app.upload(&token, "experts.csv", file.as_bytes()).await;
    assert_eq!(status, 201, "{upload}");
    let key = upload["key"].as_str().unwrap();
    let (status, created) = start(json!({ "kind": "EXPERTS", "uri": key, "dryRun": true })).await;
    assert_eq!(status, 202, "{created}");
    app.drain_imports().await;
    let id = created["importId"].as_str().unwrap();
    let (_, import) = app
        .call("GET", &format!("/admin/v1/imports/{id}"), &token, None)
        .await;
    assert_eq!(
        (import["status"].as_str(), import["source"].as_str()),
        (Some("VALIDATED"), Some("URI"))
    );
    assert_eq!(counts(&import), (1, 0, 0, 1));
    let (_, used) = app
        .call("GET", &format!("/admin/v1/uploads/{key}"), &token, None)
        .await;
    assert_eq!(used["used"], true);

    let cases = [
        (json!({ "kind": "EXPERTS" }), "source-missing"),
        (
            json!({ "kind": "EXPERTS", "url": format!("{base}/x.csv"), "uri": key }),
            "source-ambiguous",
        ),
        (json!({ "kind": "EXPERTS", "uri": key }), "unknown-upload"),
        (
            json!({ "kind": "EXPERTS", "uri": key, "siret": "73282932000075" }),
            "invalid-siret",
        ),
        (
            json!({ "kind": "EXPERTS", "uri": key, "siret": "90432165400017" }),
            "siret-not-recognised",
        ),
        (json!({ "kind": "PEOPLE", "uri": key }), "validation-failed"),
        (
            json!({ "kind": "EXPERTS", "url": "http://127.0.0.1:9/x.csv" }),
            "validation-failed",
        ),
    ];
    for (body, code) in cases {
        let (status, problem) = start(body.clone()).await;
        assert_problem(status, &problem, 422, code);
    }
    // The firm's own SIRET is accepted.
    let (status, _) = start(json!({ "kind": "EXPERTS", "url": format!("{base}/experts.csv"), "siret": "73282932000074" })).await;
    assert_eq!(status, 202);
}

#[tokio::test]
async fn absences_import_by_external_ref_in_local_or_offset_time_and_refuse_booked_hours() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let experts = experts_file(&[row("XT1", "J. Martin"), row("XT2", "P. Durand")]);
    app.imported(&token, "EXPERTS", experts.as_bytes(), false)
        .await;
    let day = (chrono::Utc::now() + chrono::Duration::days(10)).date_naive();
    let file = format!(
        "externalRef,start,end,reason\n\
         XT1,{day}T08:00,{day}T12:00,formation\n\
         XT2,{day}T09:00:00+01:00,{day}T10:00:00+01:00,\n"
    );
    let import = app
        .imported(&token, "ABSENCES", file.as_bytes(), false)
        .await;
    assert_eq!(import["status"], "IMPORTED", "{import}");
    assert_eq!(counts(&import), (2, 2, 0, 0));
    let (_, page) = app
        .call("GET", "/admin/v1/experts?externalRef=XT1", &token, None)
        .await;
    let xt1 = page["items"][0]["id"].as_str().unwrap();
    let (_, absences) = app
        .call(
            "GET",
            &format!("/admin/v1/experts/{xt1}/absences"),
            &token,
            None,
        )
        .await;
    let start = absences["items"][0]["start"].as_str().unwrap();
    assert!(start.starts_with(&format!("{day}T08:00:00+0")), "{start}");
    let again = app
        .imported(&token, "ABSENCES", file.as_bytes(), false)
        .await;
    assert_eq!(counts(&again), (2, 0, 0, 2));

    let bad = format!(
        "externalRef,start,end\nNOPE,{day}T08:00,{day}T09:00\nXT1,{day}T10:00,{day}T09:00\n\
         XT1,tomorrow,{day}T09:00\n"
    );
    let failed = app
        .imported(&token, "ABSENCES", bad.as_bytes(), false)
        .await;
    assert_eq!(failed["status"], "FAILED");
    let columns: Vec<_> = failed["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["column"].clone())
        .collect();
    assert_eq!(
        columns,
        vec![json!("externalRef"), json!("end"), json!("start")],
        "{failed}"
    );

    // Over a CONFIRMED appointment: a row error, and nothing of the file is written.
    let key = app.api_key().await;
    let answer = app
        .search(
            &key,
            crate::helpers::search_body("VISIO", crate::helpers::days_ahead(3), 1),
        )
        .await;
    let slot = &answer["slots"][0];
    let (status, booked) = app
        .book(&key, slot["slotId"].as_str().unwrap(), "CIA-1")
        .await;
    assert_eq!(status, 201, "{booked}");
    let expert_id = booked["expert"]["id"].as_str().unwrap();
    let (_, expert) = app
        .call(
            "GET",
            &format!("/admin/v1/experts/{expert_id}"),
            &token,
            None,
        )
        .await;
    let reference = expert["externalRef"].as_str().unwrap();
    let other = if reference == "XT1" { "XT2" } else { "XT1" };
    let later = day + chrono::Duration::days(5);
    let over = format!(
        "externalRef;start;end\n{other};{later}T08:00;{later}T09:00\n{reference};{};{}\n",
        booked["start"].as_str().unwrap(),
        booked["end"].as_str().unwrap()
    );
    let refused = app
        .imported(&token, "ABSENCES", over.as_bytes(), false)
        .await;
    assert_eq!(refused["status"], "FAILED", "{refused}");
    assert_eq!(refused["errors"][0]["row"], 3);
    let (_, absences) = app
        .call(
            "GET",
            &format!("/admin/v1/experts/{xt1}/absences"),
            &token,
            None,
        )
        .await;
    assert_eq!(
        absences["items"].as_array().unwrap().len(),
        1,
        "the first row was not kept"
    );
}

#[tokio::test]
async fn an_import_cut_short_is_taken_over_after_its_lease_and_one_worker_processes_it() {
    let app = TestApp::spawn_on_manual_clock().await;
    let (_, token) = app.firm("Cabinet").await;
    let file = experts_file(&[row("XT1", "J. Martin")]);
    let (status, created) = app.import(&token, "EXPERTS", file.as_bytes(), false).await;
    assert_eq!(status, 202);
    let id = created["importId"].as_str().unwrap();
    // A worker claims it, then dies (its process is killed): no step is ever recorded.
    let lease = app.clock.now() + chrono::Duration::minutes(10);
    let claimed = app
        .store
        .claim_import("killed-worker", lease)
        .await
        .unwrap();
    assert_eq!(claimed.unwrap().id, id);
    // Another instance's worker finds nothing while the lease holds...
    assert_eq!(app.drain_imports().await, 0);
    // ...and takes it over once it lapses.
    app.clock.advance(std::time::Duration::from_secs(11 * 60));
    assert_eq!(app.drain_imports().await, 1);
    let (_, import) = app
        .call("GET", &format!("/admin/v1/imports/{id}"), &token, None)
        .await;
    assert_eq!(import["status"], "IMPORTED", "{import}");
    assert_eq!(app.drain_imports().await, 0, "done once");

    // Killed three times over: it ends FAILED with its reason, nothing written.
    let other = experts_file(&[row("XT9", "Z. Dernier")]);
    let (_, created) = app.import(&token, "EXPERTS", other.as_bytes(), false).await;
    let id = created["importId"].as_str().unwrap();
    for _ in 0..3 {
        let lease = app.clock.now() + chrono::Duration::minutes(10);
        assert!(
            app.store
                .claim_import("killed-worker", lease)
                .await
                .unwrap()
                .is_some()
        );
        app.clock.advance(std::time::Duration::from_secs(11 * 60));
    }
    assert_eq!(app.drain_imports().await, 1);
    let (_, import) = app
        .call("GET", &format!("/admin/v1/imports/{id}"), &token, None)
        .await;
    assert_eq!(import["status"], "FAILED", "{import}");
    assert_eq!(import["reason"], "interrupted 3 times");
    let (_, page) = app
        .call("GET", "/admin/v1/experts?externalRef=XT9", &token, None)
        .await;
    assert!(page["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn two_instances_process_an_import_once_and_both_search_its_experts() {
    let clock = crate::helpers::manual_clock();
    let (one, two) =
        crate::helpers::two_instances(creneau::config::ServerConfig::default(), clock.clone())
            .await;
    let (_, token) = one.firm("Cabinet").await;
    let file = experts_file(&[row("XT1", "J. Martin"), row("XT2", "P. Durand")]);
    let (status, created) = one.import(&token, "EXPERTS", file.as_bytes(), false).await;
    assert_eq!(status, 202);
    let (a, b) = tokio::join!(one.drain_imports(), two.drain_imports());
    assert_eq!(a + b, 1, "one worker processed it");
    let id = created["importId"].as_str().unwrap();
    let (_, import) = two
        .call("GET", &format!("/admin/v1/imports/{id}"), &token, None)
        .await;
    assert_eq!(counts(&import), (2, 2, 0, 0));
    // The other instance searches the imported experts once its directory delay passed.
    clock.advance(std::time::Duration::from_secs(2));
    let key = two.api_key().await;
    let answer = two
        .search(
            &key,
            crate::helpers::search_body("VISIO", crate::helpers::days_ahead(2), 2),
        )
        .await;
    assert!(!answer["slots"].as_array().unwrap().is_empty(), "{answer}");
}

#[tokio::test]
async fn every_finished_import_is_an_event_of_the_firm_feed_only() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet").await;
    let (_, other) = app.firm("Autre").await;
    let good = experts_file(&[row("XT1", "J. Martin")]);
    let imported = app
        .imported(&token, "EXPERTS", good.as_bytes(), false)
        .await;
    let dry = app.imported(&token, "EXPERTS", good.as_bytes(), true).await;
    let failed = app
        .imported(&token, "EXPERTS", b"externalRef;colour\nX;red\n", false)
        .await;
    let (status, feed) = app.call("GET", "/admin/v1/events", &token, None).await;
    assert_eq!(status, 200, "{feed}");
    let items = feed["items"].as_array().unwrap();
    let seen: Vec<_> = items
        .iter()
        .map(|e| {
            (
                e["type"].clone(),
                e["importId"].clone(),
                e["data"]["status"].clone(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                json!("import.finished"),
                imported["importId"].clone(),
                json!("IMPORTED")
            ),
            (
                json!("import.finished"),
                dry["importId"].clone(),
                json!("VALIDATED")
            ),
            (
                json!("import.finished"),
                failed["importId"].clone(),
                json!("FAILED")
            ),
        ]
    );
    assert_eq!(items[0]["data"]["created"], 1);
    assert_eq!(items[2]["data"]["errors"], 1);
    // Paging by cursor, and nothing for another firm or for Claims IA.
    let cursor = items[0]["id"].as_str().unwrap();
    let (_, rest) = app
        .call(
            "GET",
            &format!("/admin/v1/events?after={cursor}&limit=1"),
            &token,
            None,
        )
        .await;
    assert_eq!(rest["items"][0]["importId"], dry["importId"]);
    let (_, none) = app.call("GET", "/admin/v1/events", &other, None).await;
    assert!(none["items"].as_array().unwrap().is_empty());
    let key = app.api_key().await;
    let (_, claims_ia) = app.call("GET", "/v1/events", &key, None).await;
    assert!(claims_ia["items"].as_array().unwrap().is_empty());
}
