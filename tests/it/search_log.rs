//! The search log: written behind the searches without personal data, read by the firms
//! whose experts were eligible, recorded on bookings, deleted after its retention, never
//! holding a search back, written out at shutdown.

use std::time::Duration;

use chrono::{DateTime, Utc};
use creneau::config::{Logging, ServerConfig};
use serde_json::{Value, json};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Connection, Executor, Row};

use crate::helpers::{
    TestApp, assert_problem, days_ahead, fresh_db, manual_clock, open_expert, search_body,
};

/// A URL opening the test's database without creating it.
fn db_url(app_url: &str) -> String {
    if app_url.starts_with("sqlite:") {
        format!("{app_url}?mode=rw")
    } else {
        app_url.to_owned()
    }
}

/// Rows of `sql` read straight from the database.
async fn rows(url: &str, sql: &str) -> Vec<AnyRow> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&db_url(url)).await.unwrap();
    sqlx::query(AssertSqlSafe(sql.to_owned()))
        .fetch_all(&mut conn)
        .await
        .unwrap()
}

async fn count(url: &str, table: &str) -> i64 {
    rows(
        url,
        &format!("SELECT CAST(COUNT(*) AS BIGINT) FROM {table}"),
    )
    .await
    .first()
    .unwrap()
    .get::<i64, _>(0)
}

/// An always-open expert of these claim types.
fn expert_for(name: &str, claim_types: &[&str]) -> Value {
    let mut body = open_expert(name);
    body["skills"]["claimTypes"] = json!(claim_types);
    body
}

fn with_claim(mut body: Value, claim_type: &str) -> Value {
    body["claimType"] = json!(claim_type);
    body
}

fn ids(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["searchId"].as_str().unwrap())
        .collect()
}

/// The slots of an answer that are this firm's.
fn slots_of<'a>(answer: &'a Value, firm: &str) -> Vec<&'a Value> {
    answer["slots"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["expert"]["firm"] == firm)
        .collect()
}

fn instant(text: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text.as_str().unwrap())
        .unwrap()
        .to_utc()
}

#[tokio::test]
async fn a_search_is_logged_with_what_it_found_and_without_its_address_lines() {
    let app = TestApp::spawn().await;
    let (firm_id, token) = app.firm("Cabinet A").await;
    app.expert(&token, open_expert("A1")).await;
    let key = app.api_key().await;
    let mut body = search_body("ESS", days_ahead(2), 3);
    body["process"] = json!("Fuite sous l'évier");
    body["appointmentPlace"]["address"]["line2"] = json!("Bâtiment B, 3e étage");
    let answer = app.search(&key, body).await;
    let nobody = app
        .search(
            &key,
            with_claim(search_body("VISIO", days_ahead(2), 3), "VOL"),
        )
        .await;

    app.service.flush_search_log().await;

    let logged = rows(
        &app.db.url,
        "SELECT id, request, process, department, claim_type, eligible_experts, slots_offered,
                first_slot_at, diagnostic FROM search_log ORDER BY at, id",
    )
    .await;
    assert_eq!(logged.len(), 2);
    let row = &logged[0];
    assert_eq!(
        row.get::<String, _>("id"),
        answer["searchId"].as_str().unwrap()
    );
    let request: String = row.get("request");
    for personal in [
        "rue de la Paix",
        "Bâtiment",
        "line1",
        "line2",
        "48.8686",
        "geo",
    ] {
        assert!(!request.contains(personal), "{personal} in {request}");
    }
    let request: Value = serde_json::from_str(&request).unwrap();
    assert_eq!(
        request["appointmentPlace"],
        json!({ "address": { "postalCode": "75002", "city": "Paris", "country": "FR" }, "department": "75" })
    );
    assert_eq!(request["claimType"], "DDE");
    assert_eq!(request["stake"]["total"], 4200.0);
    assert!(request.get("process").is_none(), "process is logged beside");
    assert_eq!(
        row.get::<Option<String>, _>("process").as_deref(),
        Some("Fuite sous l'évier")
    );
    assert_eq!(
        row.get::<Option<String>, _>("department").as_deref(),
        Some("75")
    );
    assert_eq!(row.get::<String, _>("claim_type"), "DDE");
    assert_eq!(row.get::<i64, _>("eligible_experts"), 1);
    let slots = answer["slots"].as_array().unwrap();
    assert!(!slots.is_empty());
    assert_eq!(
        row.get::<i64, _>("slots_offered"),
        i64::try_from(slots.len()).unwrap()
    );
    assert_eq!(
        row.get::<Option<i64>, _>("first_slot_at"),
        Some(instant(&slots[0]["start"]).timestamp_millis())
    );
    assert_eq!(row.get::<Option<String>, _>("diagnostic"), None);

    let row = &logged[1];
    assert_eq!(
        row.get::<String, _>("id"),
        nobody["searchId"].as_str().unwrap()
    );
    assert_eq!(row.get::<i64, _>("eligible_experts"), 0);
    assert_eq!(
        row.get::<Option<String>, _>("department").as_deref(),
        Some("75")
    );
    assert_eq!(
        row.get::<Option<String>, _>("diagnostic").as_deref(),
        nobody["diagnostic"]["code"].as_str()
    );

    let shares = rows(
        &app.db.url,
        "SELECT search_id, firm_id, eligible_experts, slots_offered FROM search_log_firms",
    )
    .await;
    assert_eq!(shares.len(), 1, "only the firm with an eligible expert");
    assert_eq!(shares[0].get::<String, _>("firm_id"), firm_id);
    assert_eq!(
        shares[0].get::<i64, _>("slots_offered"),
        i64::try_from(slots.len()).unwrap()
    );
}

#[tokio::test]
async fn a_firm_reads_only_the_searches_its_experts_were_eligible_for() {
    let app = TestApp::spawn().await;
    let (_, a) = app.firm("Cabinet A").await;
    let (_, b) = app.firm("Cabinet B").await;
    app.expert(&a, expert_for("A1", &["DDE"])).await;
    app.expert(&b, expert_for("B1", &["DDE", "VOL"])).await;
    let key = app.api_key().await;
    let body = search_body("ESS", days_ahead(2), 3);
    let both = app.search(&key, body.clone()).await;
    let theft = app.search(&key, with_claim(body.clone(), "VOL")).await;
    let nobody = app.search(&key, with_claim(body, "CATNAT")).await;
    let a_slots = slots_of(&both, "Cabinet A");
    let b_slots = slots_of(&both, "Cabinet B");
    assert!(!a_slots.is_empty() && !b_slots.is_empty(), "{both}");
    let (status, booked) = app
        .book(&key, a_slots[0]["slotId"].as_str().unwrap(), "CIA-LOG-1")
        .await;
    assert_eq!(status, 201, "{booked}");
    app.service.flush_search_log().await;

    let (status, page_a) = app.call("GET", "/admin/v1/searches", &a, None).await;
    assert_eq!(status, 200, "{page_a}");
    assert_eq!(ids(&page_a), [both["searchId"].as_str().unwrap()]);
    let (_, page_b) = app.call("GET", "/admin/v1/searches", &b, None).await;
    assert_eq!(
        ids(&page_b),
        [
            theft["searchId"].as_str().unwrap(),
            both["searchId"].as_str().unwrap()
        ],
        "newest first"
    );
    assert!(
        !page_b
            .to_string()
            .contains(nobody["searchId"].as_str().unwrap())
    );

    let seen_by_a = &page_a["items"][0];
    let seen_by_b = &page_b["items"][1];
    let offered = both["slots"].as_array().unwrap().len();
    for (seen, mine, booked) in [(seen_by_a, &a_slots, true), (seen_by_b, &b_slots, false)] {
        assert_eq!(seen["eligibleExperts"], 2);
        assert_eq!(seen["firmEligibleExperts"], 1);
        assert_eq!(seen["slotsOffered"], offered);
        assert_eq!(seen["firmSlotsOffered"], mine.len());
        assert_eq!(seen["booked"], booked, "{seen}");
        assert_eq!(seen["diagnostic"], Value::Null);
        assert_eq!(seen["process"], Value::Null);
        assert_eq!(
            instant(&seen["firstSlotStart"]),
            instant(&both["slots"][0]["start"])
        );
        assert_eq!(seen["request"]["appointmentPlace"]["department"], "75");
        assert!(
            seen["request"]["appointmentPlace"]["address"]
                .get("line1")
                .is_none()
        );
    }
    assert_eq!(page_b["items"][0]["eligibleExperts"], 1);

    // The booking recorded the search its slot came from.
    let id = booked["appointmentId"].as_str().unwrap();
    let recorded = rows(
        &app.db.url,
        &format!("SELECT search_id FROM appointments WHERE id = '{id}'"),
    )
    .await;
    assert_eq!(
        recorded[0].get::<Option<String>, _>(0).as_deref(),
        both["searchId"].as_str()
    );
}

#[tokio::test]
async fn the_searches_page_newest_first_and_bad_parameters_are_problems() {
    let app = TestApp::spawn().await;
    let (_, token) = app.firm("Cabinet A").await;
    app.expert(&token, open_expert("A1")).await;
    let key = app.api_key().await;
    let mut answered = Vec::new();
    for days in [2, 3, 4] {
        let answer = app
            .search(&key, search_body("VISIO", days_ahead(days), 2))
            .await;
        answered.push(answer["searchId"].as_str().unwrap().to_owned());
    }
    app.service.flush_search_log().await;

    let mut seen = Vec::new();
    let mut path = "/admin/v1/searches?limit=2".to_owned();
    loop {
        let (status, page) = app.call("GET", &path, &token, None).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(ids(&page).into_iter().map(str::to_owned));
        match page["nextCursor"].as_str() {
            Some(cursor) => path = format!("/admin/v1/searches?limit=2&cursor={cursor}"),
            None => break,
        }
    }
    answered.reverse();
    assert_eq!(seen, answered);

    let now = Utc::now();
    let at = |t: DateTime<Utc>| t.to_rfc3339().replace('+', "%2B");
    let (_, outside) = app
        .call(
            "GET",
            &format!(
                "/admin/v1/searches?from={}&to={}",
                at(now - chrono::Duration::days(9)),
                at(now - chrono::Duration::days(2))
            ),
            &token,
            None,
        )
        .await;
    assert_eq!(outside["items"], json!([]));

    for bad in [
        "/admin/v1/searches?from=yesterday",
        "/admin/v1/searches?cursor=not*base64",
        "/admin/v1/searches?cursor=abcde",
        "/admin/v1/searches?limit=0",
        "/admin/v1/searches?firm=other",
        "/admin/v1/demand?to=2026-13-01T00:00:00Z",
    ] {
        let (status, problem) = app.call("GET", bad, &token, None).await;
        assert_problem(status, &problem, 400, "invalid-query");
    }
    // A well-formed cursor this server did not issue reads from the start.
    let (status, foreign) = app
        .call(
            "GET",
            "/admin/v1/searches?cursor=bm90LWEtY3Vyc29y",
            &token,
            None,
        )
        .await;
    let (_, first) = app.call("GET", "/admin/v1/searches", &token, None).await;
    assert_eq!(status, 200);
    assert_eq!(foreign["items"], first["items"]);
    let from_after_to = format!("/admin/v1/searches?from={}&to={}", at(now), at(now));
    let too_long = format!(
        "/admin/v1/demand?from={}&to={}",
        at(now - chrono::Duration::days(400)),
        at(now)
    );
    for bad in [from_after_to, too_long] {
        let (status, problem) = app.call("GET", &bad, &token, None).await;
        assert_problem(status, &problem, 422, "validation-failed");
    }
}

/// Days from `at` to `start`, in hundredths of a day rounded down.
fn centidays(at: DateTime<Utc>, start: DateTime<Utc>) -> i64 {
    (start - at).num_milliseconds() / 864_000
}

/// The firm's first slot in an answer.
fn first_of(answer: &Value, firm: &str) -> DateTime<Utc> {
    slots_of(answer, firm)
        .iter()
        .map(|s| instant(&s["start"]))
        .min()
        .unwrap()
}

#[tokio::test]
async fn demand_sums_a_firms_searches_by_department_and_claim_type() {
    let app = TestApp::spawn_on_manual_clock().await;
    let (_, a) = app.firm("Cabinet A").await;
    let (_, b) = app.firm("Cabinet B").await;
    let a1 = app.expert(&a, open_expert("A1")).await;
    app.expert(&b, open_expert("B1")).await;
    let key = app.api_key().await;
    // Steps shorter than the firm tokens' lifetime.
    let step = Duration::from_secs(600);
    let start = app.clock.now();
    let paris = app
        .search(
            &key,
            search_body("ESS", start + chrono::Duration::days(2), 3),
        )
        .await;
    let slot = slots_of(&paris, "Cabinet A")[0]["slotId"].clone();
    let (status, _) = app.book(&key, slot.as_str().unwrap(), "CIA-DEMAND-1").await;
    assert_eq!(status, 201);

    app.clock.advance(step);
    let boulogne_at = app.clock.now();
    let mut boulogne = search_body("ESS", boulogne_at + chrono::Duration::days(3), 3);
    boulogne["appointmentPlace"] = json!({
        "address": { "line1": "1 rue de Silly", "postalCode": "92100", "city": "Boulogne-Billancourt" },
        "geo": { "lat": 48.8397, "lon": 2.2399 }
    });
    let boulogne = app.search(&key, boulogne).await;

    // A1 is away over the whole window of the next search: eligible, but no slot of A.
    app.clock.advance(step);
    let away_at = app.clock.now();
    let away_from = away_at + chrono::Duration::days(10);
    let (status, absence) = app
        .call(
            "POST",
            &format!("/admin/v1/experts/{a1}/absences"),
            &a,
            Some(json!({
                "start": (away_from - chrono::Duration::days(1)).to_rfc3339(),
                "end": (away_from + chrono::Duration::days(3)).to_rfc3339(),
            })),
        )
        .await;
    assert_eq!(status, 201, "{absence}");
    let away = app.search(&key, search_body("ESS", away_from, 2)).await;
    assert!(slots_of(&away, "Cabinet A").is_empty() && !slots_of(&away, "Cabinet B").is_empty());
    app.search(&key, with_claim(search_body("ESS", away_from, 2), "VOL"))
        .await;
    app.service.flush_search_log().await;
    app.clock.advance(step);

    let median = |a: i64, b: i64| f64::from(i32::try_from(a + b).unwrap()) / 2.0 / 100.0;
    let (status, demand_a) = app.call("GET", "/admin/v1/demand", &a, None).await;
    assert_eq!(status, 200, "{demand_a}");
    let paris_a = centidays(start, first_of(&paris, "Cabinet A"));
    let boulogne_a = centidays(boulogne_at, first_of(&boulogne, "Cabinet A"));
    assert_eq!(
        demand_a,
        json!({ "items": [
            { "department": "75", "claimType": "DDE", "searches": 2,
              "searchesWithoutFirmSlots": 1,
              "medianDaysToFirstSlot": median(paris_a, paris_a), "bookings": 1 },
            { "department": "92", "claimType": "DDE", "searches": 1,
              "searchesWithoutFirmSlots": 0,
              "medianDaysToFirstSlot": median(boulogne_a, boulogne_a), "bookings": 0 },
        ] })
    );

    let (_, demand_b) = app.call("GET", "/admin/v1/demand", &b, None).await;
    let paris_b = centidays(start, first_of(&paris, "Cabinet B"));
    let away_b = centidays(away_at, first_of(&away, "Cabinet B"));
    assert_eq!(demand_b["items"][0]["searches"], 2);
    assert_eq!(demand_b["items"][0]["searchesWithoutFirmSlots"], 0);
    assert_eq!(demand_b["items"][0]["bookings"], 0);
    assert_eq!(
        demand_b["items"][0]["medianDaysToFirstSlot"],
        json!(median(paris_b, away_b))
    );
    assert_eq!(demand_b["items"][1]["department"], "92");
    assert_eq!(demand_b["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn searches_older_than_the_retention_are_deleted() {
    let mut config = ServerConfig::default();
    config.search_log.search_log_days = 7;
    let app = TestApp::spawn_with_clock(fresh_db().await, config, manual_clock()).await;
    let (_, client_id, secret) = app.firm_credentials("Cabinet A").await;
    let token = app.token(&client_id, &secret).await;
    app.expert(&token, open_expert("A1")).await;
    let key = app.api_key().await;
    let search =
        |app: &TestApp| search_body("VISIO", app.clock.now() + chrono::Duration::days(1), 2);
    let old = app.search(&key, search(&app)).await;
    let slot = old["slots"][0]["slotId"].as_str().unwrap();
    let (status, booked) = app.book(&key, slot, "CIA-OLD-1").await;
    assert_eq!(status, 201);
    app.clock.advance(Duration::from_secs(5 * 86_400));
    let recent = app.search(&key, search(&app)).await;
    app.service.flush_search_log().await;
    app.clock.advance(Duration::from_secs(3 * 86_400));

    let sweeper = app
        .jobs
        .search_log_sweeper(std::sync::Arc::clone(&app.store));
    sweeper.drain().await.unwrap();

    let kept = rows(&app.db.url, "SELECT id FROM search_log").await;
    let kept: Vec<String> = kept.iter().map(|r| r.get(0)).collect();
    assert_eq!(kept, [recent["searchId"].as_str().unwrap()]);
    assert_eq!(
        count(&app.db.url, "search_log_firms").await,
        1,
        "shares go too"
    );
    let id = booked["appointmentId"].as_str().unwrap();
    let token = app.token(&client_id, &secret).await;
    let (status, appointment) = app
        .call("GET", &format!("/admin/v1/appointments/{id}"), &token, None)
        .await;
    assert_eq!(status, 200, "the appointment stays: {appointment}");
    sweeper.drain().await.unwrap();
    assert_eq!(count(&app.db.url, "search_log").await, 1);
}

/// Another connection holding the search log so that nothing can be written to it.
async fn hold_search_log(url: &str) -> sqlx::AnyConnection {
    let mut conn = sqlx::AnyConnection::connect(&db_url(url)).await.unwrap();
    if url.starts_with("sqlite:") {
        conn.execute("BEGIN IMMEDIATE").await.unwrap();
    } else {
        conn.execute("BEGIN").await.unwrap();
        conn.execute("LOCK TABLE search_log IN SHARE ROW EXCLUSIVE MODE")
            .await
            .unwrap();
    }
    conn
}

#[tokio::test]
async fn with_the_queue_full_searches_are_answered_and_their_entries_dropped_and_counted() {
    let mut config = ServerConfig::default();
    config.search_log.search_log_queue = 2;
    let app = TestApp::spawn_with(fresh_db().await, config).await;
    let (_, token) = app.firm("Cabinet A").await;
    app.expert(&token, open_expert("A1")).await;
    let key = app.api_key().await;
    let body = search_body("VISIO", days_ahead(2), 2);

    // The writer is stuck on its first batch for as long as the lock is held: every search
    // below is answered meanwhile, so none waited for it.
    let mut lock = hold_search_log(&app.db.url).await;
    for _ in 0..10 {
        app.search(&key, body.clone()).await;
    }
    let dropped = app.service.search_log_dropped();
    lock.execute("ROLLBACK").await.unwrap();
    app.service.flush_search_log().await;

    let written = u64::try_from(count(&app.db.url, "search_log").await).unwrap();
    assert_eq!(
        written + dropped,
        10,
        "{written} written, {dropped} dropped"
    );
    // At most the writer's batch (the first search and the two queued behind it) and a full
    // queue of two were kept.
    assert!(dropped >= 5, "{dropped} dropped");
    assert_eq!(app.service.search_log_dropped(), dropped);
}

#[tokio::test]
async fn with_the_log_off_nothing_is_logged_and_bookings_still_record_their_search() {
    let mut config = ServerConfig::default();
    config.search_log.search_log = Logging::Off;
    let app = TestApp::spawn_with(fresh_db().await, config).await;
    let (_, token) = app.firm("Cabinet A").await;
    app.expert(&token, open_expert("A1")).await;
    let key = app.api_key().await;
    let answer = app
        .search(&key, search_body("VISIO", days_ahead(2), 2))
        .await;
    let (status, booked) = app
        .book(
            &key,
            answer["slots"][0]["slotId"].as_str().unwrap(),
            "CIA-OFF-1",
        )
        .await;
    assert_eq!(status, 201);
    app.service.flush_search_log().await;

    assert_eq!(count(&app.db.url, "search_log").await, 0);
    let (_, page) = app.call("GET", "/admin/v1/searches", &token, None).await;
    assert_eq!(page["items"], json!([]));
    let id = booked["appointmentId"].as_str().unwrap();
    let recorded = rows(
        &app.db.url,
        &format!("SELECT search_id FROM appointments WHERE id = '{id}'"),
    )
    .await;
    assert_eq!(
        recorded[0].get::<Option<String>, _>(0).as_deref(),
        answer["searchId"].as_str()
    );
}

#[tokio::test]
async fn the_searches_still_queued_are_written_when_the_server_stops() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let db = fresh_db().await;
    let blobs = tempfile::tempdir().unwrap();
    let creneau = env!("CARGO_BIN_EXE_creneau");
    let seeded = Command::new(creneau)
        .args([
            "seed",
            "--experts",
            "5",
            "--json",
            "--database-url",
            &db.url,
        ])
        .output()
        .unwrap();
    assert!(
        seeded.status.success(),
        "{}",
        String::from_utf8_lossy(&seeded.stderr)
    );
    let seeded: Value = serde_json::from_slice(&seeded.stdout).unwrap();
    // Entries would wait a minute to be written: only the shutdown writes them.
    let mut server = Command::new(creneau)
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .args(["--search-log-flush-ms", "60000", "--database-url", &db.url])
        .arg("--blob-dir")
        .arg(blobs.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(server.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("the server logs before listening")
            .unwrap();
        let event: Value = serde_json::from_str(&line).unwrap();
        if event["message"] == "listening" {
            break event["address"].as_str().unwrap().to_owned();
        }
    };
    // Keep reading, so the server never blocks on a full pipe.
    let logs = std::thread::spawn(move || {
        lines
            .map_while(Result::ok)
            .filter_map(|line| serde_json::from_str::<Value>(&line).ok())
            .collect::<Vec<_>>()
    });
    let http = reqwest::Client::new();
    let mut answered = Vec::new();
    for days in [1, 2, 3] {
        let answer: Value = http
            .post(format!("http://{address}/v1/slot-searches"))
            .bearer_auth(seeded["apiKey"].as_str().unwrap())
            .json(&search_body("VISIO", days_ahead(days), 2))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answered.push(answer["searchId"].as_str().unwrap().to_owned());
    }

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || server.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
    let logs = logs.join().unwrap();
    let closed = logs
        .iter()
        .find(|e| e["message"] == "search log written out and closed")
        .unwrap_or_else(|| panic!("the shutdown writes the log out: {logs:?}"));
    assert_eq!(closed["searches"], 3, "{closed}");

    let logged = rows(&db.url, "SELECT id FROM search_log ORDER BY at, id").await;
    let logged: Vec<String> = logged.iter().map(|r| r.get(0)).collect();
    assert_eq!(logged, answered);
}
