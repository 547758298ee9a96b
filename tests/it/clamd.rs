//! One real ClamAV daemon for the whole test process, started on first use.
//!
//! It runs from a temporary directory with a configuration and a signature database written
//! here — the EICAR test file and one infected PDF, by their hashes — so it needs neither
//! freshclam nor a system clamd, and loads in a blink. It listens on a unix socket and on a
//! free loopback TCP port. When it cannot start, the test fails (never skips).
//!
//! A watchdog shell holds a pipe from this process: when the process ends, however it ends,
//! the pipe closes and the watchdog stops clamd and deletes the directory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

/// The EICAR anti-virus test file: 68 harmless bytes every scanner reports as a virus.
pub const EICAR: &[u8] = br"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// Signature name reported for [`EICAR`] (clamd may append `.UNOFFICIAL`).
pub const EICAR_SIGNATURE: &str = "Eicar-Test-Signature";

/// Signature name reported for [`infected_pdf`].
pub const INFECTED_PDF_SIGNATURE: &str = "Creneau-Test-Infected-PDF";

/// A PDF (by its first bytes, so an allowed attachment type) carrying the EICAR string,
/// longer than one `INSTREAM` chunk. The test database knows it by its SHA-256, so its bytes
/// must match exactly: use this function, do not rebuild it.
pub fn infected_pdf() -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n% Creneau test document: carries the EICAR test string\n".to_vec();
    bytes.extend((0..100_000u32).map(|i| b"0123456789abcdef"[(i % 16) as usize]));
    bytes.extend_from_slice(b"\n");
    bytes.extend_from_slice(EICAR);
    bytes.extend_from_slice(b"\n%%EOF\n");
    bytes
}

/// `clamd:///…/clamd.sock`: the daemon's unix socket (starts it on first call).
pub fn unix_spec() -> String {
    format!("clamd://{}", clamd().socket.display())
}

/// `clamd://127.0.0.1:PORT`: the daemon's TCP socket (starts it on first call).
pub fn tcp_spec() -> String {
    format!("clamd://127.0.0.1:{}", clamd().port)
}

struct Clamd {
    socket: PathBuf,
    port: u16,
    /// Its stdin is kept open for the life of the process; its closing stops the daemon.
    _watchdog: Child,
}

/// The daemon, or why it could not start (every test then fails with that message).
static CLAMD: OnceLock<Result<Clamd, String>> = OnceLock::new();

/// How long clamd may take to answer its first PING.
const START_TIMEOUT: Duration = Duration::from_secs(60);

fn clamd() -> &'static Clamd {
    match CLAMD.get_or_init(start) {
        Ok(clamd) => clamd,
        Err(failure) => panic!("{failure}"),
    }
}

fn clamd_binary() -> PathBuf {
    let in_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("clamd"));
    in_path
        .chain(["/usr/sbin/clamd", "/usr/local/sbin/clamd"].map(PathBuf::from))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "TEST_CLAMD is set but no clamd was found (PATH, /usr/sbin): \
                 install clamav-daemon"
            )
        })
}

fn write_database(dir: &Path) {
    let pdf = infected_pdf();
    let eicar_md5 = "44d88612fea8a8f36de82e1278abb02f";
    std::fs::write(
        dir.join("eicar.hdb"),
        format!("{eicar_md5}:{}:{EICAR_SIGNATURE}\n", EICAR.len()),
    )
    .expect("write eicar.hdb");
    // A SHA-256 hash signature (.hsb), so no MD5 is needed here.
    std::fs::write(
        dir.join("creneau-test.hsb"),
        format!(
            "{}:{}:{INFECTED_PDF_SIGNATURE}\n",
            hex::encode(Sha256::digest(&pdf)),
            pdf.len()
        ),
    )
    .expect("write creneau-test.hsb");
}

fn write_config(dir: &Path, socket: &Path, port: u16) -> PathBuf {
    // No `User`: clamd then keeps the identity it was started with (root or not).
    let config = format!(
        "Foreground yes\n\
         LocalSocket {socket}\n\
         TCPSocket {port}\n\
         TCPAddr 127.0.0.1\n\
         DatabaseDirectory {db}\n\
         TemporaryDirectory {tmp}\n\
         LogFile {log}\n\
         StreamMaxLength 64M\n\
         MaxFileSize 64M\n\
         MaxScanSize 64M\n\
         Bytecode no\n",
        socket = socket.display(),
        db = dir.join("db").display(),
        tmp = dir.join("tmp").display(),
        log = dir.join("clamd.log").display(),
    );
    let path = dir.join("clamd.conf");
    std::fs::write(&path, config).expect("write clamd.conf");
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

fn answers_ping(mut conn: impl std::io::Read + std::io::Write) -> bool {
    let mut reply = [0u8; 5];
    conn.write_all(b"zPING\0").is_ok() && conn.read_exact(&mut reply).is_ok() && &reply == b"PONG\0"
}

fn ready(socket: &Path, port: u16) -> bool {
    let probe = Duration::from_secs(2);
    let unix = std::os::unix::net::UnixStream::connect(socket)
        .is_ok_and(|conn| conn.set_read_timeout(Some(probe)).is_ok() && answers_ping(conn));
    unix && std::net::TcpStream::connect(("127.0.0.1", port))
        .is_ok_and(|conn| conn.set_read_timeout(Some(probe)).is_ok() && answers_ping(conn))
}

fn logs(dir: &Path) -> String {
    ["clamd.out", "clamd.log"]
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            format!("--- {name}\n{}", tail.join("\n"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Starts clamd on `port`; `Err` with its logs when it exits or stays silent.
fn spawn(binary: &Path, dir: &Path, socket: &Path, port: u16) -> Result<Child, String> {
    // A restart must not read the previous attempt's log, nor find its socket.
    let _ = std::fs::remove_file(dir.join("clamd.log"));
    let _ = std::fs::remove_file(socket);
    let config = write_config(dir, socket, port);
    let out = std::fs::File::create(dir.join("clamd.out")).expect("clamd.out");
    let mut child = Command::new(binary)
        .arg("-c")
        .arg(&config)
        .stdin(Stdio::null())
        .stdout(out.try_clone().expect("clamd.out"))
        .stderr(out)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    let started = Instant::now();
    while started.elapsed() < START_TIMEOUT {
        if let Some(status) = child.try_wait().expect("clamd status") {
            return Err(format!("clamd exited ({status})\n{}", logs(dir)));
        }
        // clamd keeps running when its TCP port is taken; it only logs it.
        let log = std::fs::read_to_string(dir.join("clamd.log")).unwrap_or_default();
        if log.contains("Cannot bind") {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("clamd could not bind port {port}\n{}", logs(dir)));
        }
        if ready(socket, port) {
            eprintln!("clamd answered PING in {:?}", started.elapsed());
            return Ok(child);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    Err(format!(
        "clamd did not answer PING within {START_TIMEOUT:?}\n{}",
        logs(dir)
    ))
}

fn start() -> Result<Clamd, String> {
    let binary = clamd_binary();
    // Kept past this function: the watchdog deletes it once the process is gone.
    let dir = tempfile::Builder::new()
        .prefix("creneau-clamd-")
        .tempdir()
        .expect("temp dir")
        .keep();
    std::fs::create_dir_all(dir.join("db")).expect("db dir");
    std::fs::create_dir_all(dir.join("tmp")).expect("tmp dir");
    write_database(&dir.join("db"));
    let socket = dir.join("clamd.sock");
    assert!(
        socket.as_os_str().len() < 100,
        "{} is too long for a unix socket: set TMPDIR to a shorter directory",
        socket.display()
    );
    let mut failures = Vec::new();
    // The free port may be taken between probing it and clamd binding it: try another.
    for _ in 0..3 {
        let port = free_port();
        match spawn(&binary, &dir, &socket, port) {
            Ok(child) => {
                let watchdog = watchdog(child.id(), &dir);
                return Ok(Clamd {
                    socket,
                    port,
                    _watchdog: watchdog,
                });
            }
            Err(failure) => {
                let port_taken = failure.contains("could not bind");
                failures.push(failure);
                if !port_taken {
                    break;
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    Err(format!(
        "TEST_CLAMD is set but clamd ({}) could not start:\n{}",
        binary.display(),
        failures.join("\n")
    ))
}

/// A shell that waits for its stdin to close (this process ended), then stops clamd and
/// deletes its directory.
fn watchdog(pid: u32, dir: &Path) -> Child {
    let script = r#"read -r _ || true
kill "$1" 2>/dev/null
for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$1" 2>/dev/null || break; sleep 0.2; done
kill -9 "$1" 2>/dev/null
rm -rf "$2""#;
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("clamd-watchdog")
        .arg(pid.to_string())
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the clamd watchdog (sh)")
}
