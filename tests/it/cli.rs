//! The operator CLI, run as a real process.

use std::process::Command;

use serde_json::Value;

use crate::helpers::fresh_db;

fn creneau(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_creneau"))
        .args(args)
        .output()
        .expect("run creneau")
}

fn json_of(output: &std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("one JSON object on stdout")
}

#[tokio::test]
async fn creating_commands_print_one_json_object_and_the_flags_go_anywhere() {
    let db = fresh_db().await;
    let firm = json_of(&creneau(&[
        "--database-url",
        &db.url,
        "firm",
        "create",
        "--name",
        "Cabinet CLI",
        "--siret",
        "73282932000074",
        "--json",
    ]));
    let firm_id = firm["firmId"].as_str().unwrap();
    // Global flags after the subcommand.
    let credentials = json_of(&creneau(&[
        "firm",
        "credentials",
        firm_id,
        "--json",
        "--database-url",
        &db.url,
    ]));
    assert!(
        credentials["clientId"]
            .as_str()
            .unwrap()
            .starts_with("firm_")
    );
    assert!(credentials["clientSecret"].as_str().unwrap().len() >= 32);
    let client = json_of(&creneau(&[
        "client",
        "create",
        "--name",
        "Claims IA",
        "--json",
        "--database-url",
        &db.url,
    ]));
    assert!(client["apiKey"].as_str().unwrap().starts_with("crn_"));
    assert!(client["clientId"].as_str().unwrap().starts_with("cia_"));
}

#[tokio::test]
async fn bad_input_is_reported_without_a_panic() {
    let db = fresh_db().await;
    let output = creneau(&[
        "--database-url",
        &db.url,
        "firm",
        "create",
        "--name",
        "X",
        "--siret",
        "123",
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("invalid firm") && !stderr.contains("panicked"),
        "{stderr}"
    );
    let output = creneau(&[
        "--database-url",
        &db.url,
        "firm",
        "credentials",
        "no-such-firm",
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no firm with id"));
}

#[tokio::test]
async fn migrate_creates_a_missing_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let output = creneau(&[
        "migrate",
        "--database-url",
        &format!("sqlite://{}", path.display()),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(path.exists());
}

#[tokio::test]
async fn the_demo_commands_work_as_printed() {
    let db = fresh_db().await;
    // The server keeps its documents, and the printed commands write their files, here.
    let dir = tempfile::tempdir().unwrap();
    let mut server = std::process::Command::new(env!("CARGO_BIN_EXE_creneau"))
        .current_dir(dir.path())
        .args(["demo", "--database-url", &db.url, "--listen", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    // Read the printed text until the docs line, which ends it.
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        let mut text = String::new();
        let mut lines = std::io::BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let line = line.unwrap();
            text.push_str(&line);
            text.push('\n');
            if line.starts_with("API documentation") {
                break;
            }
        }
        let _ = tx.send(text);
        // Keep draining, as a terminal would, until the server exits.
        lines.for_each(drop);
    });
    let printed = rx.await.unwrap();
    // The server bound its port before printing, so it is already accepting connections.
    let script = printed
        .lines()
        .skip_while(|l| !l.starts_with("Try"))
        .skip(1)
        .take_while(|l| !l.starts_with("API documentation"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(script.contains("curl"), "{printed}");
    let output = Command::new("bash")
        .current_dir(dir.path())
        .args([
            "-euo",
            "pipefail",
            "-c",
            &format!("{script}\necho \"$TOKEN\" > /dev/null"),
        ])
        .output()
        .unwrap();
    server.kill().unwrap();
    let _ = server.wait();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("\"status\":\"ok\""), "{stdout}");
    assert!(stdout.contains("Cabinet Démo Expertises"), "{stdout}");
    assert!(stdout.matches("\"displayName\"").count() >= 5, "{stdout}");
    assert!(
        stdout.contains("\"status\":\"CONFIRMED\""),
        "the printed booking works: {stdout}"
    );
    assert!(
        stdout.contains("202 Accepted"),
        "the settlement is filed: {stdout}"
    );
    assert!(
        stdout.contains("\"status\":\"SUBMITTED\"") && stdout.contains("\"kind\":\"REPORT\""),
        "Claims IA reads the settlement: {stdout}"
    );
}

#[tokio::test]
async fn serve_logs_json_lines_and_stops_cleanly_on_sigterm() {
    use std::io::BufRead;
    let db = fresh_db().await;
    let mut server = Command::new(env!("CARGO_BIN_EXE_creneau"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--database-url",
            &db.url,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(server.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines
            .next()
            .expect("the server logs before listening")
            .unwrap();
        let event: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if event["message"] == "listening" {
            break event["address"].as_str().unwrap().to_owned();
        }
    };
    let health = reqwest::get(format!("http://{address}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let request_id = health.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || server.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "exit status {status:?}");
    let rest: Vec<Value> = lines
        .map_while(Result::ok)
        .map(|l| serde_json::from_str(&l).unwrap())
        .collect();
    let logged_request = rest
        .iter()
        .any(|e| e["span"]["id"] == request_id.as_str() || e.to_string().contains(&request_id));
    assert!(
        logged_request,
        "the request id is in the request's log line: {rest:?}"
    );
    assert!(rest.iter().any(|e| {
        e["message"]
            .as_str()
            .is_some_and(|m| m.contains("shutdown requested"))
    }));
}
