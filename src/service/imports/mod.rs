//! Bulk imports of experts and absences: accepted at once, processed in the background
//! from the `imports` queue, all or nothing. Every expert row goes through the JSON API's
//! own deserialisation and rules, every absence row through those of
//! `POST /admin/v1/experts/{id}/absences`.

mod read;
mod rows;

use std::collections::HashSet;
use std::sync::Arc;

use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::{Error, Result, Service};
use crate::domain::siret::Siret;
use crate::fetch::{BlobKey, FetchOutcome};
use crate::store::{
    ApplyError, Import, ImportCounts, ImportKind, ImportSource, ImportStatus, ImportStep,
    NewImport, Page, PageRequest, RowError, StoreError,
};
use read::FileProblem;
use rows::{read_absences, read_experts};

/// Most data rows in one import.
pub const MAX_ROWS: usize = 25_000;
/// Largest import file.
pub const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;
/// Processing attempts before an interrupted import ends `FAILED`.
const MAX_ATTEMPTS: i64 = 3;
/// How long a worker holds an import (longer than the largest file takes).
const LEASE: chrono::Duration = chrono::Duration::minutes(10);

pub(super) const ABSENCE_COLUMNS: [&str; 4] = ["externalRef", "start", "end", "reason"];

/// Where the file of a new import is.
#[derive(Debug, Clone)]
pub enum ImportFile {
    /// Received with the request, stored under this sha256.
    Upload(String),
    /// To download.
    Url(String),
    /// A pre-upload of the firm.
    Uri(String),
}

/// Wakes this instance's import worker.
pub type ImportWake = Notify;

impl Service {
    /// Accepts an import: checked, recorded `RECEIVED`, processed in the background.
    pub async fn create_import(
        &self,
        firm_id: &str,
        kind: ImportKind,
        file: ImportFile,
        dry_run: bool,
        siret: Option<&str>,
    ) -> Result<Import> {
        if let Some(siret) = siret {
            let siret = Siret::parse(siret).map_err(|e| Error::Refused {
                code: "invalid-siret",
                pointer: "/siret",
                detail: e.to_string(),
            })?;
            let firm = self.store.firm(firm_id).await?;
            if firm.profile.siret != siret {
                return Err(Error::Refused {
                    code: "siret-not-recognised",
                    pointer: "/siret",
                    detail: "not the SIRET of this firm".into(),
                });
            }
        }
        let mut new = NewImport {
            firm_id: firm_id.to_owned(),
            kind,
            source: ImportSource::Upload,
            url: None,
            sha256: None,
            upload_key: None,
            dry_run,
        };
        match file {
            ImportFile::Upload(sha256) => new.sha256 = Some(sha256),
            ImportFile::Url(url) => {
                if let Some(refusal) = self.jobs.precheck(&url) {
                    return Err(Error::invalid("/url", refusal.detail));
                }
                new.source = ImportSource::Url;
                new.url = Some(url);
            }
            ImportFile::Uri(key) => {
                new.source = ImportSource::Uri;
                new.upload_key = Some(key);
            }
        }
        let import = self.store.create_import(&new).await.map_err(|e| match e {
            StoreError::NotFound => Error::UnknownUpload("uri"),
            other => Error::Store(other),
        })?;
        self.import_wake.notify_waiters();
        tracing::info!(
            firm_id,
            import_id = import.id,
            kind = kind.as_str(),
            source = import.source.as_str(),
            dry_run,
            "import received"
        );
        Ok(import)
    }

    /// The firm's imports, newest first.
    pub async fn imports(&self, firm_id: &str, page: &PageRequest) -> Result<Page<Import>> {
        Ok(self.store.imports(firm_id, page).await?)
    }

    /// One import of the firm.
    pub async fn import(&self, firm_id: &str, id: &str) -> Result<Import> {
        Ok(self.store.import(firm_id, id).await?)
    }

    /// Runs the import worker until `shutdown` turns `true`.
    pub fn spawn_import_worker(
        self: &Arc<Self>,
        shutdown: &watch::Receiver<bool>,
    ) -> JoinHandle<()> {
        let service = Arc::clone(self);
        let worker = crate::jobs::worker_id("import");
        let wake = Arc::clone(&self.import_wake);
        tokio::spawn(crate::jobs::run_loop(
            "imports",
            wake,
            self.jobs.poll(),
            shutdown.clone(),
            move || {
                let service = Arc::clone(&service);
                let worker = worker.clone();
                async move { service.import_once(&worker).await }
            },
        ))
    }

    /// Processes one due import, if any, as `worker`. `Ok(false)`: none was due.
    pub async fn import_once(&self, worker: &str) -> anyhow::Result<bool> {
        let lease = self.clock.now() + LEASE;
        let Some(import) = self.store.claim_import(worker, lease).await? else {
            return Ok(false);
        };
        let step = if import.attempts > MAX_ATTEMPTS {
            Some(failed(
                format!("interrupted {MAX_ATTEMPTS} times"),
                Vec::new(),
                None,
            ))
        } else {
            self.process(&import, worker).await?
        };
        if let Some(step) = step {
            if let ImportStep::Finished { status, .. } = &step {
                tracing::info!(
                    import_id = import.id,
                    status = status.as_str(),
                    "import finished"
                );
            }
            if !self
                .store
                .record_import_step(&import.id, worker, &step)
                .await?
            {
                tracing::warn!(import_id = import.id, "import taken over; result dropped");
            }
        }
        Ok(true)
    }

    /// One attempt at an import; `None` when it already recorded its end.
    async fn process(&self, import: &Import, worker: &str) -> anyhow::Result<Option<ImportStep>> {
        let sha256 = match (&import.sha256, &import.url) {
            (Some(sha256), _) => sha256.clone(),
            (None, Some(url)) => match self.fetch_import(import, worker, url).await? {
                Ok(sha256) => sha256,
                Err(step) => return Ok(Some(step)),
            },
            (None, None) => {
                return Ok(Some(failed(
                    "the import has no file".into(),
                    Vec::new(),
                    None,
                )));
            }
        };
        let step = ImportStep::Progress {
            status: ImportStatus::Validating,
            sha256: Some(sha256.clone()),
        };
        if !self
            .store
            .record_import_step(&import.id, worker, &step)
            .await?
        {
            return Ok(None);
        }
        let key = BlobKey::parse(&sha256).ok_or_else(|| anyhow::anyhow!("bad import file key"))?;
        let file = self
            .jobs
            .blobs
            .open(&key)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the import's file is missing"))?
            .file
            .into_std()
            .await;
        let experts = self.store.firm_experts(&import.firm_id).await?;
        let kind = import.kind;
        let now = self.clock.now();
        let read = tokio::task::spawn_blocking(move || match kind {
            ImportKind::Experts => read_experts(file, &experts),
            ImportKind::Absences => read_absences(file, &experts, now),
        })
        .await?;
        let (rows, mut writes) = match read {
            Ok(read) => read,
            Err(FileProblem::Header(errors)) => {
                return Ok(Some(failed("the header is not valid".into(), errors, None)));
            }
            Err(problem) => return Ok(Some(failed(problem.to_string(), Vec::new(), None))),
        };
        writes.counts.records = i64::try_from(rows.records)?;
        if rows.error_count > 0 {
            let reason = format!("{} row error(s); nothing was written", rows.error_count);
            return Ok(Some(failed(reason, rows.errors, Some(writes.counts))));
        }
        if !import.dry_run {
            let step = ImportStep::Progress {
                status: ImportStatus::Importing,
                sha256: None,
            };
            if !self
                .store
                .record_import_step(&import.id, worker, &step)
                .await?
            {
                return Ok(None);
            }
        }
        match self.store.apply_import(&import.id, worker, &writes).await {
            Ok(()) => {}
            Err(ApplyError::Rows(errors)) => {
                let reason = format!("{} row error(s); nothing was written", errors.len());
                return Ok(Some(failed(reason, errors, Some(writes.counts))));
            }
            Err(ApplyError::LeaseLost) => {
                tracing::warn!(import_id = import.id, "import taken over; not applied");
                return Ok(None);
            }
            Err(ApplyError::Store(err)) => return Err(err.into()),
        }
        tracing::info!(
            import_id = import.id,
            records = writes.counts.records,
            dry_run = import.dry_run,
            "import finished"
        );
        if !import.dry_run {
            self.catalogue_changed();
            let experts: HashSet<&str> =
                writes.absences.iter().map(|(_, e, _)| e.as_str()).collect();
            for expert_id in experts {
                self.calendar_changed(expert_id);
            }
        }
        Ok(None)
    }

    /// Downloads an import's URL through the document fetcher's guard: its file, or the
    /// step to record (a retry, or the end).
    async fn fetch_import(
        &self,
        import: &Import,
        worker: &str,
        url: &str,
    ) -> anyhow::Result<std::result::Result<String, ImportStep>> {
        let step = ImportStep::Progress {
            status: ImportStatus::Fetching,
            sha256: None,
        };
        if !self
            .store
            .record_import_step(&import.id, worker, &step)
            .await?
        {
            return Ok(Err(ImportStep::Retry {
                at: self.clock.now() + LEASE,
            }));
        }
        match self
            .import_fetcher
            .fetch(url, self.jobs.blobs.as_ref())
            .await
        {
            FetchOutcome::Stored(blob) => Ok(Ok(blob.key.to_string())),
            FetchOutcome::Rejected(rejection) => Ok(Err(failed(
                format!("the URL was refused: {}", rejection.detail),
                Vec::new(),
                None,
            ))),
            FetchOutcome::Failed(failure)
                if failure.retryable && import.attempts < self.jobs.fetch_attempts() =>
            {
                tracing::warn!(
                    import_id = import.id,
                    detail = failure.detail,
                    "import download failed, will retry"
                );
                Ok(Err(ImportStep::Retry {
                    at: self.clock.now() + self.jobs.fetch_backoff(import.attempts),
                }))
            }
            FetchOutcome::Failed(failure) => Ok(Err(failed(
                format!("the file could not be downloaded: {}", failure.detail),
                Vec::new(),
                None,
            ))),
        }
    }
}

fn failed(reason: String, errors: Vec<RowError>, counts: Option<ImportCounts>) -> ImportStep {
    ImportStep::Finished {
        status: ImportStatus::Failed,
        reason: Some(reason),
        counts,
        errors,
    }
}
