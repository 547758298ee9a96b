//! iCalendar feeds, checked with an independent parser (the `ical` crate).

use serde_json::{Value, json};

use crate::helpers::{TestApp, days_ahead, open_expert, search_body};

/// (UID, DTSTART, STATUS, SUMMARY) of every VEVENT of an ICS text.
fn vevents(ics: &str) -> Vec<(String, String, Option<String>, String)> {
    let mut parser = ical::IcalParser::new(std::io::BufReader::new(ics.as_bytes()));
    let calendar = parser
        .next()
        .expect("one calendar")
        .expect("valid iCalendar");
    assert!(parser.next().is_none());
    let version = calendar
        .properties
        .iter()
        .find(|p| p.name == "VERSION")
        .and_then(|p| p.value.clone());
    assert_eq!(version.as_deref(), Some("2.0"));
    calendar
        .events
        .iter()
        .map(|event| {
            let get = |name: &str| {
                event
                    .properties
                    .iter()
                    .find(|p| p.name == name)
                    .and_then(|p| p.value.clone())
            };
            (
                get("UID").unwrap(),
                get("DTSTART").unwrap(),
                get("STATUS"),
                get("SUMMARY").unwrap(),
            )
        })
        .collect()
}

async fn ics(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String) {
    let mut request = app.http.get(app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    if status == 200 {
        assert_eq!(
            response.headers()["content-type"],
            "text/calendar; charset=utf-8"
        );
    }
    (status, response.text().await.unwrap())
}

async fn setup(app: &TestApp) -> (String, String, Vec<Value>) {
    let (_, token) = app.firm("Cabinet").await;
    let expert_id = app.expert(&token, open_expert("J. Martin")).await;
    let key = app.api_key().await;
    let answer = app.search(&key, search_body("ESS", days_ahead(3), 2)).await;
    let mut booked = Vec::new();
    for (i, slot) in answer["slots"]
        .as_array()
        .unwrap()
        .iter()
        .take(2)
        .enumerate()
    {
        let (status, appointment) = app
            .book(&key, slot["slotId"].as_str().unwrap(), &format!("CIA-{i}"))
            .await;
        assert_eq!(status, 201, "{appointment}");
        booked.push(appointment);
    }
    let cancel = format!(
        "/v1/appointments/{}/cancellation",
        booked[1]["appointmentId"].as_str().unwrap()
    );
    let (status, _) = app
        .call("POST", &cancel, &key, Some(json!({ "reason": "OTHER" })))
        .await;
    assert_eq!(status, 200);
    let absence = json!({ "start": days_ahead(10).to_rfc3339(), "end": days_ahead(11).to_rfc3339(), "reason": "congés" });
    let (status, _) = app
        .call(
            "POST",
            &format!("/admin/v1/experts/{expert_id}/absences"),
            &token,
            Some(absence),
        )
        .await;
    assert_eq!(status, 201);
    (token, expert_id, booked)
}

#[tokio::test]
async fn an_expert_calendar_is_valid_icalendar_with_stable_uids_and_cancellations() {
    let app = TestApp::spawn().await;
    let (token, expert_id, booked) = setup(&app).await;
    let (status, text) = ics(
        &app,
        &format!("/admin/v1/experts/{expert_id}/calendar.ics"),
        Some(&token),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert!(text.lines().all(|l| l.len() <= 76), "folded lines");
    let events = vevents(&text);
    assert_eq!(events.len(), 3);
    let confirmed = format!("{}@creneau", booked[0]["appointmentId"].as_str().unwrap());
    let cancelled = format!("{}@creneau", booked[1]["appointmentId"].as_str().unwrap());
    let find = |uid: &str| events.iter().find(|e| e.0 == uid).unwrap().clone();
    assert_eq!(find(&confirmed).2.as_deref(), Some("CONFIRMED"));
    assert_eq!(find(&cancelled).2.as_deref(), Some("CANCELLED"));
    let start = chrono::DateTime::parse_from_rfc3339(booked[0]["start"].as_str().unwrap()).unwrap();
    assert_eq!(
        find(&confirmed).1,
        start.to_utc().format("%Y%m%dT%H%M%SZ").to_string()
    );
    assert!(events.iter().any(|e| e.3.starts_with("Absence")));

    // The same appointment keeps its UID in the next rendering.
    let (_, again) = ics(
        &app,
        &format!("/admin/v1/experts/{expert_id}/calendar.ics"),
        Some(&token),
    )
    .await;
    assert!(vevents(&again).iter().any(|e| e.0 == confirmed));
}

#[tokio::test]
async fn a_secret_feed_url_opens_the_calendar_until_replaced_or_revoked() {
    let app = TestApp::spawn().await;
    let (token, expert_id, _) = setup(&app).await;
    let feed_path = format!("/admin/v1/experts/{expert_id}/calendar-feed");
    let (status, feed) = app.call("POST", &feed_path, &token, None).await;
    assert_eq!(status, 201, "{feed}");
    let url = feed["url"].as_str().unwrap().to_owned();
    let (status, text) = ics(&app, &url, None).await;
    assert_eq!(status, 200);
    assert_eq!(vevents(&text).len(), 3);

    let (_, second) = app.call("POST", &feed_path, &token, None).await;
    let second = second["url"].as_str().unwrap().to_owned();
    assert_eq!(
        ics(&app, &url, None).await.0,
        404,
        "minting again revokes the old URL"
    );
    assert_eq!(ics(&app, &second, None).await.0, 200);
    let (status, _) = app.call("DELETE", &feed_path, &token, None).await;
    assert_eq!(status, 204);
    assert_eq!(ics(&app, &second, None).await.0, 404);

    let (_, other) = app.firm("Other").await;
    let (status, _) = app.call("POST", &feed_path, &other, None).await;
    assert_eq!(status, 404);
    assert_eq!(
        ics(
            &app,
            &format!("/admin/v1/experts/{expert_id}/calendar.ics"),
            Some(&other)
        )
        .await
        .0,
        404
    );
}
