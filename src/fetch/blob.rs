//! Blob storage and the streaming writer shared by downloads and direct uploads.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::fs::File;
use tokio::io::{AsyncWriteExt, BufWriter};

use super::outcome::{RejectReason, Rejection};
use super::policy::FetchPolicy;
use super::sniff::{SNIFF_LEN, sniff};
use super::text::TextCheck;

/// Boxed error of a chunk source (an upload stream).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Name of a blob: the lower-case hex SHA-256 of its content (64 characters). The
/// constructor checks the form, so a key can never be a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BlobKey(String);

impl BlobKey {
    /// Accepts exactly 64 lower-case hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        let well_formed = text.len() == 64
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        well_formed.then(|| Self(text.to_owned()))
    }

    /// The hex digest.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BlobKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A blob that passed every check and is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlob {
    /// Content address (SHA-256 hex); also the checksum to record.
    pub key: BlobKey,
    /// Size in bytes.
    pub size: u64,
    /// MIME type sniffed from the content (never the declared one).
    pub content_type: &'static str,
}

/// A temporary file path that is deleted when dropped, unless handed over with
/// [`TempPath::keep`] (which a store does once it has renamed the file into place).
#[derive(Debug)]
pub struct TempPath(Option<PathBuf>);

impl TempPath {
    /// Guards `path`.
    pub fn new(path: PathBuf) -> Self {
        Self(Some(path))
    }

    /// The guarded path.
    pub fn path(&self) -> &Path {
        self.0.as_deref().unwrap_or_else(|| Path::new(""))
    }

    /// Stops guarding: the file will no longer be deleted on drop.
    pub fn keep(mut self) -> PathBuf {
        self.0.take().unwrap_or_default()
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            // A small synchronous unlink; it runs on abort paths only (too large, refused
            // type, I/O error, cancelled task) and must also work outside a runtime.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A freshly created, empty, exclusively owned file in which a blob is staged.
#[derive(Debug)]
pub struct StagingFile {
    /// Open for writing.
    pub file: File,
    /// Where it is; deleted on drop unless stored.
    pub path: TempPath,
}

/// An opened blob.
#[derive(Debug)]
pub struct OpenBlob {
    /// Positioned at the start; wrap it in `tokio_util::io::ReaderStream` to serve it.
    pub file: File,
    /// Size in bytes.
    pub size: u64,
}

/// Where blobs live.
///
/// Object-safe (through `async_trait`) so that the service can hold an
/// `Arc<dyn BlobStore>` in its state and swap the filesystem for an object store without
/// making every handler and job generic; the cost is one boxed future per blob operation,
/// which is nothing next to the disk or network I/O behind it.
///
/// Staging belongs to the store because an atomic put needs the staged file on the same
/// filesystem as its final place (a rename), so [`BlobStore::stage`] hands out a temporary
/// file that only [`BlobStore::put`] of the same store should receive.
#[async_trait]
pub trait BlobStore: Send + Sync {
    /// Creates an empty staging file for a blob being written.
    async fn stage(&self) -> io::Result<StagingFile>;
    /// Moves a complete, flushed staging file into place under `key`, atomically: readers see
    /// either no blob or the whole of it. Storing content that is already there is fine.
    async fn put(&self, staged: TempPath, key: &BlobKey) -> io::Result<()>;
    /// Opens the blob `key`, or `None` when there is none.
    async fn open(&self, key: &BlobKey) -> io::Result<Option<OpenBlob>>;
    /// Whether the blob `key` is stored.
    async fn exists(&self, key: &BlobKey) -> io::Result<bool>;
}

/// Prefix of staging files in an [`FsBlobStore`] directory; never a valid key.
const STAGING_PREFIX: &str = ".staging-";

/// Blobs as files named by their key in one directory; staging files (`.staging-*`) live in
/// the same directory so that storing is a rename.
#[derive(Debug, Clone)]
pub struct FsBlobStore {
    dir: PathBuf,
}

impl FsBlobStore {
    /// A store in `dir`, created (with its parents) when missing.
    pub fn new(dir: impl Into<PathBuf>) -> io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, key: &BlobKey) -> PathBuf {
        self.dir.join(key.as_str())
    }

    /// Deletes the blob `key` if it was last written before `cutoff` (a blob re-put since
    /// may be about to be referenced again); returns whether it was deleted.
    pub async fn remove_if_older(
        &self,
        key: &BlobKey,
        cutoff: std::time::SystemTime,
    ) -> io::Result<bool> {
        let path = self.path_of(key);
        let modified = match tokio::fs::metadata(&path).await {
            Ok(meta) => meta.modified()?,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(err) => return Err(err),
        };
        if modified >= cutoff {
            return Ok(false);
        }
        match tokio::fs::remove_file(&path).await {
            Ok(()) => Ok(true),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Deletes staging files older than `age`, left by a crash mid-write; returns how many.
    pub async fn remove_stale_staging(&self, age: std::time::Duration) -> io::Result<usize> {
        let mut removed = 0;
        let mut entries = tokio::fs::read_dir(&self.dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            if !entry
                .file_name()
                .to_string_lossy()
                .starts_with(STAGING_PREFIX)
            {
                continue;
            }
            let stale = entry
                .metadata()
                .await
                .and_then(|meta| meta.modified())
                .ok()
                .and_then(|modified| modified.elapsed().ok())
                .is_some_and(|elapsed| elapsed >= age);
            if stale && tokio::fs::remove_file(entry.path()).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn stage(&self) -> io::Result<StagingFile> {
        loop {
            let name = format!("{STAGING_PREFIX}{:016x}", rand::random::<u64>());
            let path = self.dir.join(name);
            match tokio::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
                .await
            {
                Ok(file) => {
                    return Ok(StagingFile {
                        file,
                        path: TempPath::new(path),
                    });
                }
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
                Err(err) => return Err(err),
            }
        }
    }

    async fn put(&self, staged: TempPath, key: &BlobKey) -> io::Result<()> {
        let dest = self.path_of(key);
        if tokio::fs::try_exists(&dest).await? {
            // Same key, same content: keep the stored copy, `staged` is deleted on drop. Its
            // modification time is renewed so that a sweep of unreferenced blobs, which
            // spares recent ones, cannot delete it before the caller records its reference.
            let file = File::options()
                .write(true)
                .open(&dest)
                .await?
                .into_std()
                .await;
            tokio::task::spawn_blocking(move || file.set_modified(std::time::SystemTime::now()))
                .await
                .map_err(io::Error::other)??;
            return Ok(());
        }
        tokio::fs::rename(staged.path(), &dest).await?;
        staged.keep();
        // Make the rename itself durable.
        File::open(&self.dir).await?.sync_all().await
    }

    async fn open(&self, key: &BlobKey) -> io::Result<Option<OpenBlob>> {
        match File::open(self.path_of(key)).await {
            Ok(file) => {
                let size = file.metadata().await?.len();
                Ok(Some(OpenBlob { file, size }))
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(err),
        }
    }

    async fn exists(&self, key: &BlobKey) -> io::Result<bool> {
        match tokio::fs::metadata(self.path_of(key)).await {
            Ok(meta) => Ok(meta.is_file()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(err) => Err(err),
        }
    }
}

/// Why a body was not stored.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The policy refused it (too large, type not allowed); permanent.
    #[error(transparent)]
    Rejected(#[from] Rejection),
    /// The chunk source failed (an upload connection broke, ...).
    #[error("reading the body: {0}")]
    Source(BoxError),
    /// Disk trouble.
    #[error("storing the body: {0}")]
    Io(#[from] io::Error),
}

/// Streams one body into a staging file while counting, hashing and keeping its first bytes
/// for sniffing; [`BlobWriter::finish`] then checks the type and stores it.
///
/// Used by [`super::Fetcher`] for downloads and directly by upload handlers. Dropping a
/// writer without finishing it (size exceeded, client gone, task cancelled) deletes its
/// staging file.
pub struct BlobWriter<'a> {
    store: &'a dyn BlobStore,
    policy: &'a FetchPolicy,
    out: BufWriter<File>,
    path: TempPath,
    hasher: Sha256,
    size: u64,
    head: Vec<u8>,
    text: TextCheck,
}

impl fmt::Debug for BlobWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlobWriter")
            .field("path", &self.path)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl<'a> BlobWriter<'a> {
    /// Starts a blob in `store`, under the size and type rules of `policy`.
    pub async fn new(store: &'a dyn BlobStore, policy: &'a FetchPolicy) -> io::Result<Self> {
        let StagingFile { file, path } = store.stage().await?;
        Ok(Self {
            store,
            policy,
            out: BufWriter::with_capacity(64 * 1024, file),
            path,
            hasher: Sha256::new(),
            size: 0,
            head: Vec::with_capacity(SNIFF_LEN),
            text: TextCheck::default(),
        })
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends `chunk`. Fails with [`RejectReason::TooLarge`] — before writing anything of
    /// the chunk — as soon as the total would exceed the policy's `max_bytes`; the caller
    /// should then stop reading and drop the writer.
    pub async fn write_chunk(&mut self, chunk: &[u8]) -> Result<(), IngestError> {
        let len = u64::try_from(chunk.len()).unwrap_or(u64::MAX);
        let total = self.size.saturating_add(len);
        if total > self.policy.max_bytes {
            return Err(Rejection::new(
                RejectReason::TooLarge,
                format!(
                    "body exceeds the limit of {} bytes (at least {total} bytes)",
                    self.policy.max_bytes
                ),
            )
            .into());
        }
        if self.head.len() < SNIFF_LEN {
            let take = chunk.len().min(SNIFF_LEN - self.head.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hasher.update(chunk);
        self.text.feed(chunk);
        self.out.write_all(chunk).await?;
        self.size = total;
        Ok(())
    }

    /// Ends the body: sniffs its type (UTF-8 text when no signature matches and every byte
    /// is text), refuses it when the type is not allowed, otherwise makes the staged file
    /// durable. The result can still be inspected (scanned) before it is stored.
    pub async fn check(mut self) -> Result<CheckedBlob<'a>, IngestError> {
        let content_type = match sniff(&self.head) {
            Some(found) => found,
            None if self.size > 0 && self.text.is_text() => TEXT_PLAIN,
            None => {
                return Err(Rejection::new(
                    RejectReason::ContentTypeNotAllowed,
                    if self.size == 0 {
                        "empty body".to_owned()
                    } else {
                        "content of no recognised type".to_owned()
                    },
                )
                .into());
            }
        };
        if !self.policy.content_type_allowed(content_type) {
            return Err(Rejection::new(
                RejectReason::ContentTypeNotAllowed,
                format!("content is {content_type}, which is not allowed"),
            )
            .into());
        }
        self.out.flush().await?;
        let file = self.out.into_inner();
        file.sync_all().await?;
        drop(file);
        Ok(CheckedBlob {
            store: self.store,
            path: self.path,
            blob: StoredBlob {
                key: BlobKey(format!("{:x}", self.hasher.finalize())),
                size: self.size,
                content_type,
            },
        })
    }

    /// [`BlobWriter::check`], then [`CheckedBlob::store`].
    pub async fn finish(self) -> Result<StoredBlob, IngestError> {
        Ok(self.check().await?.store().await?)
    }
}

/// Type reported for a body that is UTF-8 text without a recognised signature.
pub const TEXT_PLAIN: &str = "text/plain";

/// A complete body whose type is allowed, staged and durable but not yet stored: the moment
/// to scan it. Dropping it deletes the staged file.
#[derive(Debug)]
pub struct CheckedBlob<'a> {
    store: &'a dyn BlobStore,
    path: TempPath,
    blob: StoredBlob,
}

impl CheckedBlob<'_> {
    /// The staged file, for reading it again (a virus scan).
    pub fn path(&self) -> &Path {
        self.path.path()
    }

    /// What will be stored.
    pub fn blob(&self) -> &StoredBlob {
        &self.blob
    }

    /// Stores the staged file under its SHA-256.
    pub async fn store(self) -> io::Result<StoredBlob> {
        self.store.put(self.path, &self.blob.key).await?;
        Ok(self.blob)
    }
}

impl fmt::Debug for dyn BlobStore + '_ {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlobStore")
    }
}

/// Checks and stores a body read from `chunks` — an upload, e.g. an axum multipart `Field`
/// (a stream of `Result<Bytes, MultipartError>`). Stops reading at the first chunk past the
/// size cap.
pub async fn ingest_stream<S, B, E>(
    store: &dyn BlobStore,
    policy: &FetchPolicy,
    chunks: S,
) -> Result<StoredBlob, IngestError>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
    E: Into<BoxError>,
{
    Ok(check_stream(store, policy, chunks).await?.store().await?)
}

/// [`ingest_stream`] up to the check: the body is staged and its type allowed, but it is not
/// stored yet (to scan it first).
pub async fn check_stream<'a, S, B, E>(
    store: &'a dyn BlobStore,
    policy: &'a FetchPolicy,
    chunks: S,
) -> Result<CheckedBlob<'a>, IngestError>
where
    S: Stream<Item = Result<B, E>>,
    B: AsRef<[u8]>,
    E: Into<BoxError>,
{
    let mut chunks = std::pin::pin!(chunks);
    let mut writer = BlobWriter::new(store, policy).await?;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|err| IngestError::Source(err.into()))?;
        writer.write_chunk(chunk.as_ref()).await?;
    }
    writer.check().await
}
