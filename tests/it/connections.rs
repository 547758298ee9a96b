//! Connection hygiene: idle and trickling clients are closed after the header timeout, and
//! past the connection cap they make room for new clients instead of keeping them out.

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
async fn past_the_connection_cap_the_oldest_silent_connection_makes_room() {
    // Silent connections would hold their slots for a minute: only closing one to make room
    // lets the probe in within the test's patience.
    let config = ServerConfig {
        header_timeout_secs: 60,
        max_connections: 2,
        ..ServerConfig::default()
    };
    let app = TestApp::spawn_with(fresh_db().await, config).await;
    let mut oldest = connect(&app).await;
    // The server has accepted the first before the second connects.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut newer = connect(&app).await;
    let response = tokio::time::timeout(PATIENCE, app.http.get(app.url("/healthz")).send())
        .await
        .expect("served at once: a silent connection made room")
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(until_closed(&mut oldest).await, b"");
    // The newer silent connection is still served.
    newer
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = until_closed(&mut newer).await;
    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
}
