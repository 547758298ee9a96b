//! Bulk imports of experts and absences: the import rows, which are also the worker's
//! queue, and the one transaction that applies a validated file.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Expert, Page, PageRequest, StoreResult};
use crate::domain::expert::ExpertProfile;
use crate::domain::firm::NewAbsence;

macro_rules! wire_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        // The schema generator does not see the variants' renames through the macro; every
        // wire name is the variant's name in upper snake case.
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),*
        }

        impl $name {
            /// Wire and database name.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),* }
            }

            /// Parses the wire and database name.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(Self::$variant),)* _ => None }
            }
        }
    };
}

wire_enum!(
    /// What a file imports.
    ImportKind {
        /// Experts, matched by `externalRef`.
        Experts = "EXPERTS",
        /// Absences of experts named by `externalRef`.
        Absences = "ABSENCES",
    }
);

wire_enum!(
    /// Where the file came from.
    ImportSource {
        /// Sent with the request (multipart).
        Upload = "UPLOAD",
        /// Downloaded from a URL by the worker.
        Url = "URL",
        /// A pre-uploaded file (`/admin/v1/uploads`).
        Uri = "URI",
    }
);

wire_enum!(
    /// Where an import stands.
    ImportStatus {
        /// Accepted, not started.
        Received = "RECEIVED",
        /// Its URL is being downloaded.
        Fetching = "FETCHING",
        /// Its rows are being checked.
        Validating = "VALIDATING",
        /// Its rows are being written.
        Importing = "IMPORTING",
        /// Dry run: every row is valid; nothing was written.
        Validated = "VALIDATED",
        /// Every row was written.
        Imported = "IMPORTED",
        /// Nothing was written: see `reason` and `errors`.
        Failed = "FAILED",
    }
);

/// A row error: `row` counts the header as row 1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RowError {
    /// Row number (the header is row 1).
    pub row: u64,
    /// Column at fault (empty when the whole row is).
    pub column: String,
    /// What is wrong.
    pub detail: String,
}

/// How many rows an import created, changed and left as they were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportCounts {
    /// Data rows.
    pub records: i64,
    /// New experts or absences.
    pub created: i64,
    /// Experts changed.
    pub updated: i64,
    /// Rows equal to what is stored.
    pub unchanged: i64,
}

/// An import as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    /// Server-owned id (time-ordered).
    pub id: String,
    /// Firm importing.
    pub firm_id: String,
    /// What it imports.
    pub kind: ImportKind,
    /// Where the file came from.
    pub source: ImportSource,
    /// The URL to download (`URL` source).
    pub url: Option<String>,
    /// The file, once received or downloaded.
    pub sha256: Option<String>,
    /// Check only.
    pub dry_run: bool,
    /// Where it stands.
    pub status: ImportStatus,
    /// Why it failed.
    pub reason: Option<String>,
    /// Counts, once validated.
    pub counts: Option<ImportCounts>,
    /// Row errors (the first 1,000).
    pub errors: Vec<RowError>,
    /// Processing attempts started.
    pub attempts: i64,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// End instant.
    pub finished_at: Option<DateTime<Utc>>,
}

/// An import to record.
#[derive(Debug, Clone)]
pub struct NewImport {
    /// Firm importing.
    pub firm_id: String,
    /// What it imports.
    pub kind: ImportKind,
    /// Where the file comes from.
    pub source: ImportSource,
    /// `URL` source: where.
    pub url: Option<String>,
    /// `UPLOAD` source: the stored file.
    pub sha256: Option<String>,
    /// `URI` source: the upload to take (its file becomes the import's).
    pub upload_key: Option<String>,
    /// Check only.
    pub dry_run: bool,
}

/// What a step of the worker records (only while the import is still its own).
#[derive(Debug, Clone)]
pub enum ImportStep {
    /// A new status on the way (`FETCHING`, `VALIDATING`), with the file once downloaded.
    Progress {
        /// The status reached.
        status: ImportStatus,
        /// The downloaded file.
        sha256: Option<String>,
    },
    /// Try again at `at` (a download failed for now).
    Retry {
        /// Next attempt.
        at: DateTime<Utc>,
    },
    /// The end: `VALIDATED` or `FAILED`.
    Finished {
        /// `VALIDATED` or `FAILED`.
        status: ImportStatus,
        /// Why it failed.
        reason: Option<String>,
        /// Counts, when the rows were read.
        counts: Option<ImportCounts>,
        /// Row errors.
        errors: Vec<RowError>,
    },
}

/// The writes of a validated file, applied in one transaction.
#[derive(Debug, Clone, Default)]
pub struct ImportWrites {
    /// Experts to create.
    pub create_experts: Vec<ExpertProfile>,
    /// Experts to replace: (id, profile).
    pub update_experts: Vec<(String, ExpertProfile)>,
    /// Absences to create: (row, expert id, absence).
    pub absences: Vec<(u64, String, NewAbsence)>,
    /// Counts to record.
    pub counts: ImportCounts,
}

/// Why a validated file was not applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Rows that the stored state refuses (absences over CONFIRMED appointments).
    #[error("rows refused")]
    Rows(Vec<RowError>),
    /// The import is no longer this worker's.
    #[error("lease lost")]
    LeaseLost,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] super::StoreError),
}

impl From<sqlx::Error> for ApplyError {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(err.into())
    }
}

/// An event of a firm's own feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FirmEvent {
    /// Position in the feed (the cursor).
    pub id: i64,
    /// `import.finished`…
    pub kind: String,
    /// Appointment concerned, if any.
    pub appointment_id: Option<String>,
    /// Import concerned, if any.
    pub import_id: Option<String>,
    /// Details.
    pub data: serde_json::Value,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
}

/// An appointment with changes its firm has not validated.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangedAppointment {
    /// The appointment.
    pub appointment: super::Appointment,
    /// Its first unvalidated event (the list's cursor).
    pub first_event: i64,
    /// Its last change.
    pub last_change_at: DateTime<Utc>,
    /// Its last validation.
    pub last_validated_at: Option<DateTime<Utc>>,
    /// What changed: `appointment`, `dossier`, `attachments`.
    pub changes: Vec<String>,
}

/// One changed value since the last validation, with the event behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeItem {
    /// When.
    pub at: DateTime<Utc>,
    /// Event type.
    pub kind: String,
    /// What changed.
    pub change: crate::wire::diff::Change,
}

/// The changes of one appointment since its last validation.
#[derive(Debug, Clone, PartialEq)]
pub struct AppointmentChanges {
    /// Oldest first.
    pub items: Vec<ChangeItem>,
    /// The last event they include (the `ETag`; the validated position when none).
    pub through: i64,
}

/// The firms' event feed, and their validation of what changed.
#[async_trait]
pub trait FirmEvents: Send + Sync + 'static {
    /// The firm's events after `after`, in commit order.
    async fn firm_events(
        &self,
        firm_id: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<FirmEvent>>;
    /// The firm's appointments with unvalidated changes, oldest change first, after the
    /// cursor `after` (a first-event position).
    async fn changed_appointments(
        &self,
        firm_id: &str,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<ChangedAppointment>>;
    /// What changed on one of the firm's appointments since its last validation.
    async fn appointment_changes(
        &self,
        firm_id: &str,
        appointment_id: &str,
    ) -> StoreResult<AppointmentChanges>;
    /// Marks the changes seen, through the last event; with `expected`, only if that is
    /// still the last (else `Conflict { constraint: Constraint::Version }`).
    async fn validate_changes(
        &self,
        firm_id: &str,
        appointment_id: &str,
        expected: Option<i64>,
    ) -> StoreResult<()>;
}

/// Imports.
#[async_trait]
pub trait Imports: Send + Sync + 'static {
    /// Records an import `RECEIVED`; a `URI` source takes its upload (a text file of the
    /// firm, unused and unexpired, else `NotFound`).
    async fn create_import(&self, import: &NewImport) -> StoreResult<Import>;
    /// The firm's imports, newest first.
    async fn imports(&self, firm_id: &str, page: &PageRequest) -> StoreResult<Page<Import>>;
    /// One import of the firm.
    async fn import(&self, firm_id: &str, id: &str) -> StoreResult<Import>;
    /// Claims the next unfinished import whose lease is free or lapsed, for `worker` until
    /// `lease_until`, counting the attempt.
    async fn claim_import(
        &self,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<Import>>;
    /// Records a step of `worker`'s import; `false` when it is no longer `worker`'s.
    async fn record_import_step(
        &self,
        id: &str,
        worker: &str,
        step: &ImportStep,
    ) -> StoreResult<bool>;
    /// Applies a validated file and marks the import `IMPORTED`, in one transaction.
    async fn apply_import(
        &self,
        id: &str,
        worker: &str,
        writes: &ImportWrites,
    ) -> Result<(), ApplyError>;
    /// Every expert of the firm.
    async fn firm_experts(&self, firm_id: &str) -> StoreResult<Vec<Expert>>;
}
