//! Connection hygiene: idle and trickling clients are closed after the header timeout, and
//! past the connection cap new clients wait instead of exhausting the server.

use std::time::Duration;

use creneau::config::ServerConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, fresh_db};

/// Bound on any wait of these tests: far above the 1-s header timeout they configure.
const PATIENCE: Duration = Duration::from_secs(10);

async fn app(max_connections: u64) -> TestApp {
    let config = ServerConfig {
        header_timeout_secs: 1,
        max_connections,
        ..ServerConfig::default()
    };
    TestApp::spawn_with(fresh_db().await, config).await
}

async fn connect(app: &TestApp) -> TcpStream {
    TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap()
}

/// Reads until the server closes the connection; what it sent.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut sent = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut sent))
        .await
        .expect("the server closes the connection")
        .unwrap();
    sent
}

#[tokio::test]
async fn a_silent_or_trickling_connection_is_closed_after_the_header_timeout() {
    let app = app(100).await;
    // Before connecting: the server's timers start after this.
    let started = std::time::Instant::now();
    let mut silent = connect(&app).await;
    let mut trickling = connect(&app).await;
    trickling
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    until_closed(&mut silent).await;
    until_closed(&mut trickling).await;
    assert!(started.elapsed() >= Duration::from_millis(900));
    // An idle keep-alive connection goes the same way after its last answer.
    let mut kept = connect(&app).await;
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut kept).await;
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
}

#[tokio::test]
async fn past_the_connection_cap_a_client_waits_for_a_free_slot() {
    let app = app(2).await;
    let started = std::time::Instant::now();
    let _idle = [connect(&app).await, connect(&app).await];
    // Both slots are taken by silent connections: the request is served once the header
    // timeout has closed them.
    let response = tokio::time::timeout(PATIENCE, app.http.get(app.url("/healthz")).send())
        .await
        .expect("served once a slot is free")
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(900));
}
