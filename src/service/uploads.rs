//! Files a firm pre-uploads for a settlement or an import: streamed to a staging file,
//! typed from their bytes, scanned, then kept under a key shown once, until used or
//! expired.

use crate::domain::Invalid;
use crate::fetch::{BlobWriter, FetchPolicy, IngestError, RejectReason, StoredBlob, TEXT_PLAIN};
use crate::scan::Verdict;
use crate::store::{BlobInfo, Upload, UploadStatus};

use super::{Error, Result, Service};

/// Types a pre-upload may be: documents, photos, and text (CSV for imports).
pub const UPLOAD_TYPES: &[&str] = &["application/pdf", "image/jpeg", "image/png", TEXT_PLAIN];

/// Most bytes in a file name.
const NAME_MAX_BYTES: usize = 255;

/// What the upload rules are, from the operator's settings.
#[derive(Debug, Clone)]
pub struct UploadRules {
    policy: FetchPolicy,
    ttl: chrono::Duration,
}

impl UploadRules {
    /// The rules for files of at most `max_bytes`, kept `ttl` while unused.
    pub fn new(max_bytes: u64, ttl: chrono::Duration) -> Self {
        Self {
            policy: FetchPolicy {
                max_bytes,
                allowed_content_types: UPLOAD_TYPES.iter().map(|&t| t.to_owned()).collect(),
                ..FetchPolicy::default()
            },
            ttl,
        }
    }

    /// The same rules for text only (import files).
    #[must_use]
    pub fn text_only(mut self) -> Self {
        self.policy.allowed_content_types = vec![TEXT_PLAIN.to_owned()];
        self
    }

    /// Largest file, in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.policy.max_bytes
    }
}

/// Checks the name given to an uploaded file: 1 to 255 bytes, no path, no control
/// characters.
pub fn check_file_name(raw: &str, pointer: &str) -> std::result::Result<String, Invalid> {
    let refuse = |detail: &str| Err(Invalid::new(pointer, detail));
    if raw.trim().is_empty() {
        return refuse("must not be empty");
    }
    if raw.len() > NAME_MAX_BYTES {
        return refuse("must be at most 255 bytes");
    }
    if raw.chars().any(char::is_control) {
        return refuse("must not contain control characters");
    }
    if raw.contains(['/', '\\']) || raw.trim() == "." || raw.trim() == ".." {
        return refuse("must be a file name, without a path");
    }
    Ok(raw.trim().to_owned())
}

/// An upload being received: bytes go to a staging file, counted against the cap.
pub struct UploadWriter<'a> {
    service: &'a Service,
    writer: BlobWriter<'a>,
    limit: u64,
}

impl std::fmt::Debug for UploadWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadWriter")
            .field("writer", &self.writer)
            .finish_non_exhaustive()
    }
}

fn ingest_error(err: IngestError, limit: u64) -> Error {
    match err {
        IngestError::Rejected(rejection) if rejection.reason == RejectReason::TooLarge => {
            Error::FileTooBig(limit)
        }
        IngestError::Rejected(rejection) => Error::ContentTypeNotAllowed(rejection.detail),
        IngestError::Source(err) => Error::Internal(anyhow::anyhow!("reading the upload: {err}")),
        IngestError::Io(err) => Error::Internal(err.into()),
    }
}

impl UploadWriter<'_> {
    /// Appends bytes; past the cap, `FileTooBig` (stop reading then).
    pub async fn write(&mut self, chunk: &[u8]) -> Result<()> {
        let limit = self.limit;
        self.writer
            .write_chunk(chunk)
            .await
            .map_err(|err| ingest_error(err, limit))
    }

    /// Ends the file: types it, scans it, stores it and records it for `firm_id`. An
    /// infected file, or one the scanner could not check, is not kept.
    pub async fn finish(self, firm_id: &str, name: &str) -> Result<Upload> {
        let service = self.service;
        let (stored, status) = self.store().await?;
        let now = service.clock.now();
        let upload = Upload {
            key: format!(
                "{}.{}",
                uuid::Uuid::new_v4().simple(),
                extension(stored.content_type, name)
            ),
            firm_id: firm_id.to_owned(),
            name: name.to_owned(),
            status,
            blob: BlobInfo {
                sha256: stored.key.to_string(),
                size: i64::try_from(stored.size).map_err(|e| Error::Internal(e.into()))?,
                content_type: stored.content_type.to_owned(),
            },
            created_at: now,
            expires_at: now + service.upload_rules.ttl,
            used_by: None,
        };
        service.store.add_upload_file(&upload).await?;
        tracing::info!(
            upload_key = upload.key,
            sha256 = upload.blob.sha256,
            size = upload.blob.size,
            content_type = upload.blob.content_type,
            status = upload.status.as_str(),
            "file uploaded"
        );
        Ok(upload)
    }

    /// Ends the file: types it, scans it (when a scanner is configured) and stores it. An
    /// infected file, or one the scanner could not check, is not kept.
    pub async fn store(self) -> Result<(StoredBlob, UploadStatus)> {
        let limit = self.limit;
        let checked = self
            .writer
            .check()
            .await
            .map_err(|err| ingest_error(err, limit))?;
        let status = match &self.service.jobs.scanner {
            None => UploadStatus::Unscanned,
            Some(scanner) => match scanner.scan_file(checked.path()).await {
                Ok(Verdict::Clean) => UploadStatus::Verified,
                Ok(Verdict::Infected { signature }) => {
                    tracing::warn!(
                        sha256 = %checked.blob().key,
                        signature,
                        "file infected; not kept"
                    );
                    return Err(Error::UploadInfected);
                }
                Err(err) => {
                    tracing::error!(error = %err, "file not scanned; not kept");
                    return Err(Error::ScanFailed(err));
                }
            },
        };
        let stored = checked
            .store()
            .await
            .map_err(|e| Error::Internal(e.into()))?;
        Ok((stored, status))
    }
}

/// The key's extension: the type's, or for text the name's when it is `csv`.
fn extension(content_type: &str, name: &str) -> &'static str {
    match content_type {
        "application/pdf" => "pdf",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        _ if name
            .rsplit_once('.')
            .is_some_and(|(_, ext)| ext.eq_ignore_ascii_case("csv")) =>
        {
            "csv"
        }
        _ => "txt",
    }
}

impl Service {
    /// Starts receiving a file under the upload rules.
    pub async fn upload_writer(&self) -> Result<UploadWriter<'_>> {
        self.writer_under(&self.upload_rules).await
    }

    /// Starts receiving an import file (UTF-8 text, up to 32 MiB).
    pub async fn import_writer(&self) -> Result<UploadWriter<'_>> {
        self.writer_under(&self.import_rules).await
    }

    async fn writer_under<'a>(&'a self, rules: &'a UploadRules) -> Result<UploadWriter<'a>> {
        let writer = BlobWriter::new(self.jobs.blobs.as_ref(), &rules.policy)
            .await
            .map_err(|e| Error::Internal(e.into()))?;
        Ok(UploadWriter {
            service: self,
            writer,
            limit: rules.max_bytes(),
        })
    }

    /// The upload rules.
    pub fn upload_rules(&self) -> &UploadRules {
        &self.upload_rules
    }

    /// One upload of the firm.
    pub async fn upload(&self, firm_id: &str, key: &str) -> Result<Upload> {
        Ok(self.store.upload(firm_id, key).await?)
    }
}
