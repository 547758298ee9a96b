//! Virus scanning with a ClamAV daemon (clamd).
//!
//! The operator points Créneau at a clamd (`--scanner clamd://HOST:PORT` or
//! `--scanner clamd:///path/to/clamd.ctl`); every document is then streamed to it with the
//! `INSTREAM` command before it is stored. One connection per scan: clamd serves each
//! connection on its own thread and closes it after the answer, so there is nothing to
//! pool, and a daemon restarted between two scans is simply reached again.
//!
//! The file is sent in chunks read from disk, never held whole in memory. clamd refuses a
//! stream longer than its `StreamMaxLength` (25 MiB by default) with an error, so that
//! setting must be at least the largest document accepted (`--fetch-max-bytes`).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Default bound on one whole scan (connect, send, verdict).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Bytes sent per `INSTREAM` chunk.
const CHUNK: usize = 64 * 1024;

/// Longest reply read from the daemon; clamd's are a line.
const MAX_REPLY: usize = 4096;

/// A clamd to scan files with: where it listens and how long a scan may take. Cheap to
/// clone; holds no connection.
#[derive(Clone, Debug)]
pub struct Scanner {
    endpoint: Endpoint,
    timeout: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Endpoint {
    Tcp { host: String, port: u16 },
    Unix(PathBuf),
}

/// What clamd found in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// No signature matched.
    Clean,
    /// A signature matched.
    Infected {
        /// The signature's name as clamd reports it, e.g. `Eicar-Test-Signature`.
        signature: String,
    },
}

/// Why a file could not be scanned. None of these says anything about the file: the scan
/// must be tried again later, and the file must not be stored unscanned meanwhile.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// No connection to the daemon (down, wrong address, socket missing).
    #[error("cannot reach the scanner at {endpoint}: {source}")]
    Unreachable {
        /// The scanner's address.
        endpoint: String,
        /// The connection error.
        source: io::Error,
    },
    /// The whole exchange took longer than the scanner's timeout.
    #[error("the scanner did not answer within {0:?}")]
    Timeout(Duration),
    /// The connection broke during the exchange.
    #[error("talking to the scanner: {0}")]
    Io(#[source] io::Error),
    /// The file to scan could not be read.
    #[error("reading the file to scan: {0}")]
    File(#[source] io::Error),
    /// The daemon answered with an error, e.g. `INSTREAM size limit exceeded`.
    #[error("the scanner reported an error: {0}")]
    Clamd(String),
    /// The daemon's answer is not one of the protocol's.
    #[error("unexpected answer from the scanner: {0:?}")]
    Protocol(String),
}

/// A scanner spec that is neither `clamd://HOST:PORT` nor `clamd:///path/to/socket`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{spec:?}: {why}; expected clamd://HOST:PORT or clamd:///path/to/clamd.ctl")]
pub struct InvalidScannerSpec {
    spec: String,
    why: &'static str,
}

impl FromStr for Scanner {
    type Err = InvalidScannerSpec;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let invalid = |why| InvalidScannerSpec {
            spec: spec.to_owned(),
            why,
        };
        let rest = spec
            .strip_prefix("clamd://")
            .ok_or_else(|| invalid("the scheme must be clamd://"))?;
        let endpoint = if rest.starts_with('/') {
            if rest.len() < 2 || rest.ends_with('/') {
                return Err(invalid("the socket path must name a file"));
            }
            Endpoint::Unix(PathBuf::from(rest))
        } else {
            let (host, port) = rest
                .rsplit_once(':')
                .ok_or_else(|| invalid("a TCP scanner needs a port"))?;
            let port = port
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| invalid("the port must be a number from 1 to 65535"))?;
            let host = match host.strip_prefix('[') {
                Some(bracketed) => bracketed
                    .strip_suffix(']')
                    .filter(|h| h.parse::<std::net::Ipv6Addr>().is_ok())
                    .ok_or_else(|| invalid("a bracketed host must be an IPv6 address"))?,
                None if !host.is_empty()
                    && host
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.') =>
                {
                    host
                }
                None => {
                    return Err(invalid(
                        "the host must be a name, an IPv4 address or a bracketed IPv6 address",
                    ));
                }
            };
            Endpoint::Tcp {
                host: host.to_owned(),
                port,
            }
        };
        Ok(Self {
            endpoint,
            timeout: DEFAULT_TIMEOUT,
        })
    }
}

impl fmt::Display for Scanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.endpoint {
            Endpoint::Tcp { host, port } if host.contains(':') => {
                write!(f, "clamd://[{host}]:{port}")
            }
            Endpoint::Tcp { host, port } => write!(f, "clamd://{host}:{port}"),
            Endpoint::Unix(path) => write!(f, "clamd://{}", path.display()),
        }
    }
}

/// Either kind of connection to the daemon.
trait Connection: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Connection for T {}

impl Scanner {
    /// The same scanner with every scan bounded by `timeout` (connecting included).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The bound on one scan.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// `"tcp"` or `"unix"`: how the daemon is reached.
    pub fn kind(&self) -> &'static str {
        match self.endpoint {
            Endpoint::Tcp { .. } => "tcp",
            Endpoint::Unix(_) => "unix",
        }
    }

    /// Scans the file at `path`, streaming it to the daemon.
    pub async fn scan_file(&self, path: &Path) -> Result<Verdict, ScanError> {
        let file = tokio::fs::File::open(path).await.map_err(ScanError::File)?;
        self.bounded(async {
            let mut conn = self.connect().await?;
            conn.write_all(b"zINSTREAM\0")
                .await
                .map_err(ScanError::Io)?;
            match send_chunks(file, &mut conn).await {
                Ok(()) => parse_reply(&read_reply(&mut conn).await?),
                Err(Sent::File(err)) => Err(ScanError::File(err)),
                // clamd stops reading and answers as soon as a stream is too long: its
                // answer says more than the broken pipe.
                Err(Sent::Conn(err)) => match read_reply(&mut conn).await {
                    Ok(reply) if !reply.is_empty() => parse_reply(&reply),
                    _ => Err(ScanError::Io(err)),
                },
            }
        })
        .await
    }

    /// Checks that the daemon answers (`PING` → `PONG`).
    pub async fn ping(&self) -> Result<(), ScanError> {
        self.bounded(async {
            let mut conn = self.connect().await?;
            conn.write_all(b"zPING\0").await.map_err(ScanError::Io)?;
            let reply = read_reply(&mut conn).await?;
            if trimmed(&reply) == "PONG" {
                Ok(())
            } else {
                Err(ScanError::Protocol(trimmed(&reply).to_owned()))
            }
        })
        .await
    }

    async fn bounded<T>(
        &self,
        exchange: impl Future<Output = Result<T, ScanError>>,
    ) -> Result<T, ScanError> {
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or(Err(ScanError::Timeout(self.timeout)))
    }

    async fn connect(&self) -> Result<Box<dyn Connection>, ScanError> {
        let unreachable = |source| ScanError::Unreachable {
            endpoint: self.to_string(),
            source,
        };
        Ok(match &self.endpoint {
            Endpoint::Tcp { host, port } => Box::new(
                tokio::net::TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(unreachable)?,
            ),
            #[cfg(unix)]
            Endpoint::Unix(path) => Box::new(
                tokio::net::UnixStream::connect(path)
                    .await
                    .map_err(unreachable)?,
            ),
            #[cfg(not(unix))]
            Endpoint::Unix(_) => {
                return Err(unreachable(io::Error::new(
                    io::ErrorKind::Unsupported,
                    "unix sockets are not available on this system",
                )));
            }
        })
    }
}

/// Which side failed while sending.
enum Sent {
    File(io::Error),
    Conn(io::Error),
}

/// Sends `file` as `INSTREAM` chunks (4-byte big-endian length, then the bytes), then the
/// zero-length chunk that ends the stream.
async fn send_chunks(mut file: tokio::fs::File, conn: &mut dyn Connection) -> Result<(), Sent> {
    let mut buf = vec![0u8; 4 + CHUNK];
    loop {
        let n = file.read(&mut buf[4..]).await.map_err(Sent::File)?;
        let len = u32::try_from(n).unwrap_or(u32::MAX);
        buf[..4].copy_from_slice(&len.to_be_bytes());
        conn.write_all(&buf[..4 + n]).await.map_err(Sent::Conn)?;
        if n == 0 {
            return conn.flush().await.map_err(Sent::Conn);
        }
    }
}

/// Reads one reply: up to its terminating NUL, or the end of the connection.
async fn read_reply(conn: &mut dyn Connection) -> Result<Vec<u8>, ScanError> {
    let mut reply = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        let n = conn.read(&mut buf).await.map_err(ScanError::Io)?;
        if n == 0 {
            return Ok(reply);
        }
        if let Some(end) = buf[..n].iter().position(|&b| b == 0) {
            reply.extend_from_slice(&buf[..end]);
            return Ok(reply);
        }
        reply.extend_from_slice(&buf[..n]);
        if reply.len() > MAX_REPLY {
            return Err(ScanError::Protocol(format!(
                "a reply longer than {MAX_REPLY} bytes"
            )));
        }
    }
}

fn trimmed(reply: &[u8]) -> &str {
    std::str::from_utf8(reply)
        .unwrap_or("(not UTF-8)")
        .trim_matches(|c: char| c == '\0' || c.is_whitespace())
}

/// The verdict in an `INSTREAM` reply: `stream: OK`, `stream: <signature> FOUND`, or
/// `<message> ERROR`.
fn parse_reply(reply: &[u8]) -> Result<Verdict, ScanError> {
    let text = trimmed(reply);
    if text.is_empty() {
        return Err(ScanError::Protocol(
            "the connection closed without an answer".to_owned(),
        ));
    }
    if let Some(message) = text.strip_suffix(" ERROR") {
        let message = message.strip_prefix("stream: ").unwrap_or(message);
        return Err(ScanError::Clamd(message.trim().to_owned()));
    }
    let Some(result) = text.strip_prefix("stream: ") else {
        return Err(ScanError::Protocol(text.to_owned()));
    };
    if result == "OK" {
        return Ok(Verdict::Clean);
    }
    match result.strip_suffix(" FOUND").map(str::trim) {
        Some(signature) if !signature.is_empty() => Ok(Verdict::Infected {
            signature: signature.to_owned(),
        }),
        _ => Err(ScanError::Protocol(text.to_owned())),
    }
}

#[cfg(test)]
mod tests;
