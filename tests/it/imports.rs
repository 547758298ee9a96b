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
