//! Spec and reply parsing, and the client against fake daemons on loopback sockets (the
//! integration suite runs it against a real clamd).

use std::time::Instant;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

fn scanner(spec: &str) -> Scanner {
    spec.parse().unwrap_or_else(|e| panic!("{spec}: {e}"))
}

#[test]
fn tcp_and_unix_specs_are_understood() {
    let tcp = scanner("clamd://127.0.0.1:3310");
    assert_eq!(
        tcp.endpoint,
        Endpoint::Tcp {
            host: "127.0.0.1".into(),
            port: 3310
        }
    );
    assert_eq!(tcp.kind(), "tcp");
    assert_eq!(tcp.timeout(), DEFAULT_TIMEOUT);
    let named = scanner("clamd://clamav.internal:3310");
    assert_eq!(named.to_string(), "clamd://clamav.internal:3310");
    let v6 = scanner("clamd://[::1]:3310");
    assert_eq!(
        v6.endpoint,
        Endpoint::Tcp {
            host: "::1".into(),
            port: 3310
        }
    );
    assert_eq!(v6.to_string(), "clamd://[::1]:3310");
    let unix = scanner("clamd:///run/clamav/clamd.ctl");
    assert_eq!(
        unix.endpoint,
        Endpoint::Unix("/run/clamav/clamd.ctl".into())
    );
    assert_eq!(unix.kind(), "unix");
    assert_eq!(unix.to_string(), "clamd:///run/clamav/clamd.ctl");
}

#[test]
fn anything_but_a_clamd_address_is_refused_with_the_expected_forms() {
    for bad in [
        "",
        "127.0.0.1:3310",
        "tcp://127.0.0.1:3310",
        "CLAMD://127.0.0.1:3310",
        "clamd://",
        "clamd:///",
        "clamd:///run/clamav/",
        "clamd://127.0.0.1",
        "clamd://127.0.0.1:",
        "clamd://127.0.0.1:0",
        "clamd://127.0.0.1:65536",
        "clamd://127.0.0.1:3310/",
        "clamd://:3310",
        "clamd://user:pw@host:3310",
        "clamd://host name:3310",
        "clamd://[not-v6]:3310",
        "clamd://::1:3310",
        "clamd://[::1:3310",
    ] {
        let err = bad.parse::<Scanner>().expect_err(bad);
        assert!(
            err.to_string()
                .contains("expected clamd://HOST:PORT or clamd:///path/to/clamd.ctl"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn with_timeout_bounds_each_scan() {
    let scanner = scanner("clamd://localhost:3310").with_timeout(Duration::from_secs(5));
    assert_eq!(scanner.timeout(), Duration::from_secs(5));
}

#[test]
fn clean_and_infected_replies_are_verdicts() {
    assert_eq!(parse_reply(b"stream: OK\0").unwrap(), Verdict::Clean);
    assert_eq!(parse_reply(b"stream: OK").unwrap(), Verdict::Clean);
    assert_eq!(parse_reply(b"stream: OK\n").unwrap(), Verdict::Clean);
    assert_eq!(
        parse_reply(b"stream: Eicar-Test-Signature FOUND\0").unwrap(),
        Verdict::Infected {
            signature: "Eicar-Test-Signature".into()
        }
    );
    assert_eq!(
        parse_reply(b"stream: Win.Test.EICAR_HDB-1.UNOFFICIAL FOUND").unwrap(),
        Verdict::Infected {
            signature: "Win.Test.EICAR_HDB-1.UNOFFICIAL".into()
        }
    );
}

#[test]
fn error_replies_are_scan_errors() {
    for (reply, message) in [
        (
            &b"INSTREAM size limit exceeded. ERROR\0"[..],
            "INSTREAM size limit exceeded.",
        ),
        (
            b"stream: Can't allocate memory ERROR",
            "Can't allocate memory",
        ),
    ] {
        match parse_reply(reply) {
            Err(ScanError::Clamd(m)) => assert_eq!(m, message),
            other => panic!("{reply:?}: {other:?}"),
        }
    }
}

#[test]
fn anything_else_is_a_protocol_error_never_a_verdict() {
    for reply in [
        &b""[..],
        b"\0",
        b"PONG",
        b"UNKNOWN COMMAND",
        b"stream: FOUND",
        b"stream:  FOUND",
        b"stream: OKAY",
        b"OK",
        b"\xff\xfe FOUND",
        b"stream: \xff FOUND",
    ] {
        assert!(
            matches!(parse_reply(reply), Err(ScanError::Protocol(_))),
            "{reply:?}: {:?}",
            parse_reply(reply)
        );
    }
}

/// A fake daemon on `conn`: reads the command and the chunks, checks the framing, returns
/// the stream it received.
async fn receive_instream<C: AsyncRead + AsyncWrite + Unpin>(conn: &mut C) -> Vec<u8> {
    let mut command = [0u8; 10];
    conn.read_exact(&mut command).await.unwrap();
    assert_eq!(&command, b"zINSTREAM\0");
    let mut data = Vec::new();
    loop {
        let len = usize::try_from(conn.read_u32().await.unwrap()).unwrap();
        assert!(len <= CHUNK, "a chunk of {len} bytes");
        if len == 0 {
            return data;
        }
        let start = data.len();
        data.resize(start + len, 0);
        conn.read_exact(&mut data[start..]).await.unwrap();
    }
}

fn file_of(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, bytes).unwrap();
    file
}

fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| u8::try_from(i % 251).unwrap()).collect()
}

/// A TCP fake daemon answering `reply` to each scan; returns its spec and what it received.
async fn fake_tcp(reply: &'static [u8]) -> (String, tokio::sync::mpsc::UnboundedReceiver<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let spec = format!("clamd://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let data = receive_instream(&mut conn).await;
            conn.write_all(reply).await.unwrap();
            let _ = tx.send(data);
        }
    });
    (spec, rx)
}

#[tokio::test]
async fn a_file_is_streamed_whole_in_bounded_chunks() {
    let bytes = pattern(3 * CHUNK + 17);
    let file = file_of(&bytes);
    let (spec, mut received) = fake_tcp(b"stream: OK\0").await;
    let verdict = scanner(&spec).scan_file(file.path()).await.unwrap();
    assert_eq!(verdict, Verdict::Clean);
    assert_eq!(received.recv().await.unwrap(), bytes);

    let empty = file_of(b"");
    scanner(&spec).scan_file(empty.path()).await.unwrap();
    assert!(received.recv().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_signature_found_is_an_infected_verdict() {
    let file = file_of(b"%PDF-1.7\n");
    let (spec, _received) = fake_tcp(b"stream: Test.Signature FOUND\0").await;
    let verdict = scanner(&spec).scan_file(file.path()).await.unwrap();
    assert_eq!(
        verdict,
        Verdict::Infected {
            signature: "Test.Signature".into()
        }
    );
}

#[cfg(unix)]
#[tokio::test]
async fn a_stream_cut_short_by_the_daemon_reports_its_error() {
    // Like clamd past StreamMaxLength: it stops reading, answers and hangs up while the
    // client is still sending.
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("clamd.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut head = vec![0u8; 10 + 4 + CHUNK];
        conn.read_exact(&mut head).await.unwrap();
        conn.write_all(b"INSTREAM size limit exceeded. ERROR\0")
            .await
            .unwrap();
    });
    let file = file_of(&pattern(64 * CHUNK));
    let spec = format!("clamd://{}", socket.display());
    match scanner(&spec).scan_file(file.path()).await {
        Err(ScanError::Clamd(message)) => assert_eq!(message, "INSTREAM size limit exceeded."),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_daemon_that_never_answers_times_out_on_time() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let spec = format!("clamd://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            // Reads everything, answers nothing, never hangs up.
            tokio::spawn(async move {
                let mut sink = [0u8; 4096];
                while matches!(conn.read(&mut sink).await, Ok(n) if n > 0) {}
                std::future::pending::<()>().await;
            });
        }
    });
    let file = file_of(b"%PDF-1.7\n");
    let scanner = scanner(&spec).with_timeout(Duration::from_millis(300));
    let started = Instant::now();
    let err = scanner.scan_file(file.path()).await.unwrap_err();
    assert!(
        matches!(err, ScanError::Timeout(t) if t == Duration::from_millis(300)),
        "{err}"
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    assert!(matches!(scanner.ping().await, Err(ScanError::Timeout(_))));
}

#[tokio::test]
async fn a_closed_port_or_a_missing_socket_is_unreachable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let file = file_of(b"%PDF-1.7\n");
    let closed = scanner(&format!("clamd://127.0.0.1:{port}"));
    let err = closed.scan_file(file.path()).await.unwrap_err();
    assert!(matches!(err, ScanError::Unreachable { .. }), "{err}");
    assert!(
        err.to_string().contains(&format!("127.0.0.1:{port}")),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let missing = scanner(&format!(
        "clamd://{}",
        dir.path().join("none.ctl").display()
    ));
    let err = missing.ping().await.unwrap_err();
    assert!(matches!(err, ScanError::Unreachable { .. }), "{err}");
}

#[tokio::test]
async fn a_missing_file_is_a_file_error_and_no_connection() {
    let (spec, mut received) = fake_tcp(b"stream: OK\0").await;
    let err = scanner(&spec)
        .scan_file(Path::new("/nonexistent/creneau-scan-test"))
        .await
        .unwrap_err();
    assert!(matches!(err, ScanError::File(_)), "{err}");
    assert!(received.try_recv().is_err());
}

#[tokio::test]
async fn ping_expects_pong() {
    for (reply, ok) in [
        (&b"PONG\0"[..], true),
        (b"UNKNOWN COMMAND\0", false),
        (b"", false),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let spec = format!("clamd://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut command = [0u8; 6];
            conn.read_exact(&mut command).await.unwrap();
            assert_eq!(&command, b"zPING\0");
            conn.write_all(reply).await.unwrap();
        });
        let result = scanner(&spec).ping().await;
        assert_eq!(result.is_ok(), ok, "{reply:?}: {result:?}");
    }
}
