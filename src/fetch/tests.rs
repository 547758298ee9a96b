//! End-to-end tests over real loopback sockets: the SSRF guard, downloads from allow-listed
//! origins, size and type checks, status mapping and the upload path.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// Counts connections accepted on `addr`, closing each at once. `None` when `addr` cannot
/// be bound (no IPv6 loopback on this machine).
async fn counting_listener(addr: &str) -> Option<(u16, Arc<AtomicUsize>)> {
    let listener = TcpListener::bind(addr).await.ok()?;
    let port = listener.local_addr().ok()?.port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    Some((port, accepted))
}

/// Reads one request head (up to the blank line).
async fn read_request(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
}

fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Answers every connection on 127.0.0.1 with `reply`; returns the port and a hit counter.
async fn serve_fixed(reply: Vec<u8>) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    let reply = Arc::new(reply);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let reply = Arc::clone(&reply);
            tokio::spawn(async move {
                read_request(&mut stream).await;
                let _ = stream.write_all(&reply).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (port, hits)
}

/// How a streamed oversized body is framed.
#[derive(Debug, Clone, Copy)]
enum Framing {
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// No length at all: the body ends when the connection closes.
    UntilClose,
    /// An honest `Content-Length`.
    Length,
}

/// Serves one connection: a PNG-looking body of `total` bytes, written 16 KiB at a time.
/// The task returns how many body bytes the server managed to write before the client hung
/// up.
async fn serve_stream(total: usize, framing: Framing) -> (u16, tokio::task::JoinHandle<usize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        read_request(&mut stream).await;
        let head = match framing {
            Framing::Chunked => "Transfer-Encoding: chunked\r\n".to_owned(),
            Framing::UntilClose => "Connection: close\r\n".to_owned(),
            Framing::Length => format!("Content-Length: {total}\r\n"),
        };
        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n{head}\r\n");
        if stream.write_all(head.as_bytes()).await.is_err() {
            return 0;
        }
        let mut block = vec![0u8; 16 * 1024];
        block[..8].copy_from_slice(b"\x89PNG\r\n\x1A\n");
        let mut written = 0;
        while written < total {
            let mut frame = Vec::with_capacity(block.len() + 16);
            if let Framing::Chunked = framing {
                frame.extend_from_slice(format!("{:x}\r\n", block.len()).as_bytes());
            }
            frame.extend_from_slice(&block);
            if let Framing::Chunked = framing {
                frame.extend_from_slice(b"\r\n");
            }
            if stream.write_all(&frame).await.is_err() {
                return written;
            }
            written += block.len();
            block[..8].fill(0);
        }
        if let Framing::Chunked = framing {
            let _ = stream.write_all(b"0\r\n\r\n").await;
        }
        written
    });
    (port, task)
}

fn allow(ports: &[u16]) -> Vec<AllowedOrigin> {
    ports
        .iter()
        .map(|port| format!("http://127.0.0.1:{port}").parse().unwrap())
        .collect()
}

fn store_in(dir: &Path) -> FsBlobStore {
    FsBlobStore::new(dir.join("blobs")).unwrap()
}

/// Names of the files in the store's directory (blobs and staging leftovers alike).
fn files_in(store: &FsBlobStore) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(store.dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// A real 1x1 PNG (signature, IHDR, IDAT, IEND with correct CRCs).
const PNG_1X1: &[u8] = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xcf\xc0\xf0\x1f\x00\x05\x00\x01\xff\x89\x99=\x1d\x00\x00\x00\x00IEND\xaeB`\x82";

fn tiny_pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n\
      2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n\
      trailer<</Root 1 0 R>>\n%%EOF\n"
        .to_vec()
}

fn tiny_jpeg() -> Vec<u8> {
    let mut jpeg = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00".to_vec();
    jpeg.extend_from_slice(&[0x42; 300]);
    jpeg.extend_from_slice(b"\xFF\xD9");
    jpeg
}

#[test]
fn url_crate_normalises_numeric_hosts() {
    for (input, normal) in [
        ("https://0x7f000001:8443/x", "https://127.0.0.1:8443/x"),
        ("https://2130706433:8443/x", "https://127.0.0.1:8443/x"),
        ("https://127.1/x", "https://127.0.0.1/x"),
        ("https://0177.0.0.1/x", "https://127.0.0.1/x"),
        ("https://[::ffff:127.0.0.1]/x", "https://[::ffff:7f00:1]/x"),
    ] {
        assert_eq!(url::Url::parse(input).unwrap().as_str(), normal, "{input}");
    }
}

#[tokio::test]
#[allow(clippy::too_many_lines)] // one table of cases
async fn hostile_urls_never_connect() {
    let (p, v4_hits) = counting_listener("127.0.0.1:0").await.unwrap();
    let v6 = counting_listener("[::1]:0").await;
    // Without IPv6 loopback, still check that the literal is refused (on an arbitrary port).
    let p6 = v6.as_ref().map_or(p, |(port, _)| *port);

    // Allow-listed origins that redirect to the counting listener.
    let redirect = |to: String| response("302 Found", &[("Location", &to)], b"");
    let (q1, q1_hits) = serve_fixed(redirect(format!("https://127.0.0.1:{p}/x"))).await;
    let (q2, q2_hits) = serve_fixed(redirect(format!("http://localhost:{p}/x"))).await;
    let (q3, _) = serve_fixed(redirect(format!("https://localhost:{p}/x"))).await;
    let (q4, _) = serve_fixed(redirect(format!("https://[::ffff:127.0.0.1]:{p}/x"))).await;
    let (q5, _) = serve_fixed(redirect("https://169.254.169.254/latest/meta-data/".into())).await;

    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let fetcher = Fetcher::new(FetchPolicy {
        allowed_origins: allow(&[q1, q2, q3, q4, q5]),
        ..FetchPolicy::default()
    })
    .unwrap();

    let loopback4 = RejectReason::AddressNotAllowed(Ipv4Addr::LOCALHOST.into());
    let cases: Vec<(String, Option<RejectReason>)> = vec![
        (format!("https://127.0.0.1:{p}/x"), Some(loopback4)),
        (format!("https://127.1:{p}/x"), Some(loopback4)),
        (format!("https://0x7f000001:{p}/x"), Some(loopback4)),
        (format!("https://2130706433:{p}/x"), Some(loopback4)),
        (
            format!("https://[::1]:{p6}/x"),
            Some(RejectReason::AddressNotAllowed("::1".parse().unwrap())),
        ),
        (
            format!("https://[::ffff:127.0.0.1]:{p}/x"),
            Some(RejectReason::AddressNotAllowed(
                "::ffff:127.0.0.1".parse().unwrap(),
            )),
        ),
        (
            "https://169.254.169.254/latest/meta-data/".into(),
            Some(RejectReason::AddressNotAllowed(
                "169.254.169.254".parse().unwrap(),
            )),
        ),
        (
            "https://10.0.0.1/x".into(),
            Some(RejectReason::AddressNotAllowed("10.0.0.1".parse().unwrap())),
        ),
        // A name resolving to loopback: 127.0.0.1 or ::1, whichever the resolver saw first.
        (format!("https://localhost:{p}/x"), None),
        (
            format!("http://127.0.0.1:{p}/x"),
            Some(RejectReason::SchemeNotAllowed),
        ),
        (
            "http://example.com/x".into(),
            Some(RejectReason::SchemeNotAllowed),
        ),
        (
            format!("ftp://127.0.0.1:{p}/x"),
            Some(RejectReason::SchemeNotAllowed),
        ),
        (format!("http://127.0.0.1:{q1}/"), Some(loopback4)),
        (
            format!("http://127.0.0.1:{q2}/"),
            Some(RejectReason::SchemeNotAllowed),
        ),
        (format!("http://127.0.0.1:{q3}/"), None),
        (
            format!("http://127.0.0.1:{q4}/"),
            Some(RejectReason::AddressNotAllowed(
                "::ffff:127.0.0.1".parse().unwrap(),
            )),
        ),
        (
            format!("http://127.0.0.1:{q5}/"),
            Some(RejectReason::AddressNotAllowed(
                "169.254.169.254".parse().unwrap(),
            )),
        ),
        ("not a url".into(), Some(RejectReason::InvalidUrl)),
    ];
    for (url, expected) in cases {
        let outcome = fetcher.fetch(&url, &store).await;
        let FetchOutcome::Rejected(rejection) = &outcome else {
            panic!("{url}: expected a rejection, got {outcome:?}");
        };
        match expected {
            Some(reason) => assert_eq!(rejection.reason, reason, "{url}: {rejection}"),
            None => assert!(
                matches!(rejection.reason, RejectReason::AddressNotAllowed(ip) if ip.is_loopback()),
                "{url}: {rejection}"
            ),
        }
    }
    assert_eq!(
        q1_hits.load(Ordering::SeqCst),
        1,
        "the redirecting origin was asked once"
    );
    assert_eq!(q2_hits.load(Ordering::SeqCst), 1);
    assert_eq!(
        v4_hits.load(Ordering::SeqCst),
        0,
        "no connection may reach the target"
    );
    if let Some((_, v6_hits)) = v6 {
        assert_eq!(v6_hits.load(Ordering::SeqCst), 0);
    }
    assert!(files_in(&store).is_empty(), "{:?}", files_in(&store));
}

#[tokio::test]
async fn allow_listed_host_name_only_on_its_origins() {
    let policy = FetchPolicy {
        allowed_origins: vec!["https://docs.insurer.internal".parse().unwrap()],
        ..FetchPolicy::default()
    };
    let fetcher = Fetcher::new(policy).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    for url in [
        "https://docs.insurer.internal:8443/x.pdf",
        "https://DOCS.insurer.internal:22/",
    ] {
        let outcome = fetcher.fetch(url, &store).await;
        assert_eq!(
            outcome.reject_reason(),
            Some(RejectReason::HostNotAllowed),
            "{url}"
        );
    }
    let outcome = fetcher
        .fetch("http://docs.insurer.internal/x.pdf", &store)
        .await;
    assert_eq!(
        outcome.reject_reason(),
        Some(RejectReason::SchemeNotAllowed)
    );
}

#[tokio::test]
async fn downloads_from_allow_listed_origin() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let bodies: [(Vec<u8>, &str); 3] = [
        (PNG_1X1.to_vec(), "image/png"),
        (tiny_pdf(), "application/pdf"),
        (tiny_jpeg(), "image/jpeg"),
    ];
    for (body, sniffed) in bodies {
        // The declared type says nothing useful; the sniffed one is recorded.
        let (port, hits) = serve_fixed(response(
            "200 OK",
            &[("Content-Type", "application/octet-stream")],
            &body,
        ))
        .await;
        let fetcher = Fetcher::new(FetchPolicy {
            allowed_origins: allow(&[port]),
            ..FetchPolicy::default()
        })
        .unwrap();
        let url = format!("http://127.0.0.1:{port}/attachments/1");
        let FetchOutcome::Stored(blob) = fetcher.fetch(&url, &store).await else {
            panic!("{sniffed} not stored");
        };
        assert_eq!(blob.key.as_str(), sha256_hex(&body));
        assert_eq!(blob.size, body.len() as u64);
        assert_eq!(blob.content_type, sniffed);
        assert!(store.exists(&blob.key).await.unwrap());
        let mut opened = store.open(&blob.key).await.unwrap().unwrap();
        assert_eq!(opened.size, body.len() as u64);
        let mut read_back = Vec::new();
        opened.file.read_to_end(&mut read_back).await.unwrap();
        assert_eq!(read_back, body);

        // Same content again: idempotent.
        let FetchOutcome::Stored(again) = fetcher.fetch(&url, &store).await else {
            panic!("second download of {sniffed} not stored");
        };
        assert_eq!(again, blob);
        assert_eq!(hits.load(Ordering::SeqCst), 2);
    }
    let files = files_in(&store);
    assert_eq!(
        files.len(),
        3,
        "three blobs and no staging leftovers: {files:?}"
    );
    assert!(files.iter().all(|name| BlobKey::parse(name).is_some()));
}

#[tokio::test]
async fn follows_redirects_between_allow_listed_origins_up_to_the_cap() {
    let (target, _) = serve_fixed(response(
        "200 OK",
        &[("Content-Type", "image/png")],
        PNG_1X1,
    ))
    .await;
    let (hop, _) = serve_fixed(response(
        "301 Moved Permanently",
        &[("Location", &format!("http://127.0.0.1:{target}/final.png"))],
        b"",
    ))
    .await;
    // A server redirecting to itself forever.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let looping = listener.local_addr().unwrap().port();
    let loop_hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&loop_hits);
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let n = counter.fetch_add(1, Ordering::SeqCst);
            read_request(&mut stream).await;
            let reply = response("302 Found", &[("Location", &format!("/again/{n}"))], b"");
            let _ = stream.write_all(&reply).await;
            let _ = stream.shutdown().await;
        }
    });

    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let fetcher = Fetcher::new(FetchPolicy {
        allowed_origins: allow(&[target, hop, looping]),
        max_redirects: 3,
        ..FetchPolicy::default()
    })
    .unwrap();
    let outcome = fetcher
        .fetch(&format!("http://127.0.0.1:{hop}/start"), &store)
        .await;
    assert!(
        matches!(outcome, FetchOutcome::Stored(ref blob) if blob.content_type == "image/png"),
        "{outcome:?}"
    );

    let outcome = fetcher
        .fetch(&format!("http://127.0.0.1:{looping}/"), &store)
        .await;
    assert_eq!(
        outcome.reject_reason(),
        Some(RejectReason::TooManyRedirects),
        "{outcome:?}"
    );
    assert_eq!(
        loop_hits.load(Ordering::SeqCst),
        4,
        "the first request and three redirects"
    );
}

#[tokio::test]
async fn oversized_bodies_are_cut_off_and_leave_nothing() {
    const LIMIT: u64 = 100 * 1024;
    const SENT: usize = 64 * 1024 * 1024;
    for framing in [Framing::Chunked, Framing::UntilClose, Framing::Length] {
        let (port, server) = serve_stream(SENT, framing).await;
        let dir = tempfile::tempdir().unwrap();
        let store = store_in(dir.path());
        let fetcher = Fetcher::new(FetchPolicy {
            max_bytes: LIMIT,
            allowed_origins: allow(&[port]),
            ..FetchPolicy::default()
        })
        .unwrap();
        let outcome = fetcher
            .fetch(&format!("http://127.0.0.1:{port}/big"), &store)
            .await;
        let FetchOutcome::Rejected(rejection) = outcome else {
            panic!("{framing:?}: expected a rejection, got {outcome:?}");
        };
        assert_eq!(rejection.reason, RejectReason::TooLarge, "{framing:?}");
        if let Framing::Length = framing {
            assert!(
                rejection.detail.contains("Content-Length"),
                "{}",
                rejection.detail
            );
        }
        drop(fetcher); // close pooled connections, if any
        let written = tokio::time::timeout(Duration::from_secs(20), server)
            .await
            .expect("the server noticed the hang-up")
            .unwrap();
        assert!(
            written < SENT / 2,
            "{framing:?}: the client read on: {written} bytes written"
        );
        assert!(
            files_in(&store).is_empty(),
            "{framing:?}: {:?}",
            files_in(&store)
        );
    }
}

#[tokio::test]
async fn exactly_max_bytes_is_accepted() {
    let body = tiny_pdf();
    let (port, _) = serve_fixed(response("200 OK", &[], &body)).await;
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let fetcher = Fetcher::new(FetchPolicy {
        max_bytes: body.len() as u64,
        allowed_origins: allow(&[port]),
        ..FetchPolicy::default()
    })
    .unwrap();
    let outcome = fetcher
        .fetch(&format!("http://127.0.0.1:{port}/"), &store)
        .await;
    assert!(matches!(outcome, FetchOutcome::Stored(_)), "{outcome:?}");
}

#[tokio::test]
async fn declared_type_is_not_trusted() {
    let html = b"<!DOCTYPE html><html><body>not a photo</body></html>";
    let (html_port, _) =
        serve_fixed(response("200 OK", &[("Content-Type", "image/jpeg")], html)).await;
    let (png_port, _) = serve_fixed(response(
        "200 OK",
        &[("Content-Type", "application/pdf")],
        PNG_1X1,
    ))
    .await;
    let (empty_port, _) =
        serve_fixed(response("200 OK", &[("Content-Type", "image/png")], b"")).await;
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let fetcher = Fetcher::new(FetchPolicy {
        allowed_content_types: vec!["application/pdf".into()],
        allowed_origins: allow(&[html_port, png_port, empty_port]),
        ..FetchPolicy::default()
    })
    .unwrap();
    for port in [html_port, png_port, empty_port] {
        let outcome = fetcher
            .fetch(&format!("http://127.0.0.1:{port}/doc"), &store)
            .await;
        let FetchOutcome::Rejected(rejection) = outcome else {
            panic!("expected a rejection, got {outcome:?}");
        };
        assert_eq!(rejection.reason, RejectReason::ContentTypeNotAllowed);
        assert_eq!(rejection.reason.code(), "content-type-not-allowed");
        assert!(
            rejection.detail.contains("declared"),
            "{}",
            rejection.detail
        );
    }
    assert!(files_in(&store).is_empty(), "{:?}", files_in(&store));
}

#[tokio::test]
async fn http_errors_and_transport_failures() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let mut ports = Vec::new();
    let mut expected = Vec::new();
    for (status, retryable) in [
        ("500 Internal Server Error", true),
        ("503 Service Unavailable", true),
        ("429 Too Many Requests", true),
        ("404 Not Found", false),
        ("403 Forbidden", false),
        ("410 Gone", false),
    ] {
        let (port, _) = serve_fixed(response(status, &[], b"oops")).await;
        ports.push(port);
        expected.push((port, status, retryable));
    }
    // Connection refused: a port nobody listens on any more.
    let closed = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    // A server that accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = silent.accept().await {
            held.push(stream);
        }
    });
    ports.extend([closed, silent_port]);
    let fetcher = Fetcher::new(FetchPolicy {
        allowed_origins: allow(&ports),
        total_timeout: Duration::from_millis(500),
        ..FetchPolicy::default()
    })
    .unwrap();

    for (port, status, retryable) in expected {
        let outcome = fetcher
            .fetch(&format!("http://127.0.0.1:{port}/"), &store)
            .await;
        let FetchOutcome::Failed(failure) = outcome else {
            panic!("{status}: expected a failure, got {outcome:?}");
        };
        assert_eq!(failure.retryable, retryable, "{status}");
        assert_eq!(
            Some(failure.status.unwrap().to_string()),
            status.split(' ').next().map(str::to_owned)
        );
    }
    for port in [closed, silent_port] {
        let outcome = fetcher
            .fetch(&format!("http://127.0.0.1:{port}/"), &store)
            .await;
        assert!(
            matches!(
                outcome,
                FetchOutcome::Failed(Failure {
                    retryable: true,
                    status: None,
                    ..
                })
            ),
            "{outcome:?}"
        );
    }
    assert!(files_in(&store).is_empty(), "{:?}", files_in(&store));
}

fn chunks_of(bytes: &[u8], size: usize) -> Vec<Result<bytes_like::Chunk, std::io::Error>> {
    bytes
        .chunks(size)
        .map(|c| Ok(bytes_like::Chunk(c.to_vec())))
        .collect()
}

/// A stand-in for `Bytes`: anything `AsRef<[u8]>` works as a chunk.
mod bytes_like {
    pub struct Chunk(pub Vec<u8>);
    impl AsRef<[u8]> for Chunk {
        fn as_ref(&self) -> &[u8] {
            &self.0
        }
    }
}

#[tokio::test]
async fn uploads_use_the_same_checks() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let policy = FetchPolicy {
        max_bytes: 1000,
        ..FetchPolicy::default()
    };
    let jpeg = tiny_jpeg();
    let stream = futures_util::stream::iter(chunks_of(&jpeg, 7));
    let blob = ingest_stream(&store, &policy, stream).await.unwrap();
    assert_eq!(blob.key.as_str(), sha256_hex(&jpeg));
    assert_eq!(blob.content_type, "image/jpeg");
    assert_eq!(blob.size, jpeg.len() as u64);

    let mut big = tiny_jpeg();
    big.resize(1001, 0);
    let err = ingest_stream(
        &store,
        &policy,
        futures_util::stream::iter(chunks_of(&big, 100)),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            IngestError::Rejected(Rejection {
                reason: RejectReason::TooLarge,
                ..
            })
        ),
        "{err}"
    );

    let html = b"<html>hello</html>";
    let err = ingest_stream(
        &store,
        &policy,
        futures_util::stream::iter(chunks_of(html, 4)),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            IngestError::Rejected(Rejection {
                reason: RejectReason::ContentTypeNotAllowed,
                ..
            })
        ),
        "{err}"
    );

    let mut broken = chunks_of(&jpeg, 50);
    broken.truncate(2);
    broken.push(Err(std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "client left",
    )));
    let err = ingest_stream(&store, &policy, futures_util::stream::iter(broken))
        .await
        .unwrap_err();
    assert!(matches!(err, IngestError::Source(_)), "{err}");

    // A writer abandoned half-way leaves nothing behind either.
    let mut writer = BlobWriter::new(&store, &policy).await.unwrap();
    writer.write_chunk(&jpeg[..10]).await.unwrap();
    assert_eq!(writer.size(), 10);
    assert_eq!(files_in(&store).len(), 2, "the blob and one staging file");
    drop(writer);

    assert_eq!(files_in(&store), vec![blob.key.to_string()]);
}

#[tokio::test]
async fn stale_staging_files_are_swept() {
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let staged = store.stage().await.unwrap();
    let leftover = staged.path.keep(); // as if the process had crashed mid-write
    drop(staged.file);
    assert!(leftover.exists());
    assert_eq!(
        store
            .remove_stale_staging(Duration::from_secs(3600))
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.remove_stale_staging(Duration::ZERO).await.unwrap(), 1);
    assert!(!leftover.exists());
}

#[test]
fn blob_keys_are_hex_digests_only() {
    let good = sha256_hex(b"x");
    assert_eq!(BlobKey::parse(&good).unwrap().as_str(), good);
    for bad in [
        "",
        "../etc/passwd",
        &good[..63],
        &good.to_uppercase(),
        &format!("{}g", &good[..63]),
        &format!("{good}0"),
    ] {
        assert!(BlobKey::parse(bad).is_none(), "{bad}");
    }
}

#[test]
fn reject_codes_are_stable() {
    let ip = IpAddr::from([127, 0, 0, 1]);
    let codes: Vec<&str> = [
        RejectReason::InvalidUrl,
        RejectReason::SchemeNotAllowed,
        RejectReason::HostNotAllowed,
        RejectReason::AddressNotAllowed(ip),
        RejectReason::TooManyRedirects,
        RejectReason::TooLarge,
        RejectReason::ContentTypeNotAllowed,
        RejectReason::Infected,
    ]
    .iter()
    .map(RejectReason::code)
    .collect();
    assert_eq!(
        codes,
        [
            "invalid-url",
            "scheme-not-allowed",
            "host-not-allowed",
            "address-not-allowed",
            "too-many-redirects",
            "too-large",
            "content-type-not-allowed",
            "infected"
        ]
    );
}

fn assert_send<T: Send>(_: &T) {}

#[tokio::test]
async fn futures_can_be_spawned() {
    let fetcher = Fetcher::new(FetchPolicy::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn BlobStore> = Arc::new(store_in(dir.path()));
    assert_send(&fetcher.fetch("https://example.com/", &*store));
    let chunks = futures_util::stream::iter(chunks_of(b"x", 1));
    assert_send(&ingest_stream(&*store, fetcher.policy(), chunks));
}

#[tokio::test]
async fn tls_to_an_allow_listed_https_origin_goes_through_rustls() {
    // A server that hangs up at once behind an allow-listed https origin: the TLS handshake
    // fails, which is a transport failure, not a policy decision.
    let (port, hits) = counting_listener("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = store_in(dir.path());
    let fetcher = Fetcher::new(FetchPolicy {
        allowed_origins: vec![format!("https://127.0.0.1:{port}").parse().unwrap()],
        ..FetchPolicy::default()
    })
    .unwrap();
    let outcome = fetcher
        .fetch(&format!("https://127.0.0.1:{port}/x"), &store)
        .await;
    assert!(
        matches!(
            outcome,
            FetchOutcome::Failed(Failure {
                retryable: true,
                ..
            })
        ),
        "{outcome:?}"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}
