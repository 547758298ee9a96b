//! Etape 3: the dossier of an appointment, its documents, and the queue the fetch worker
//! drains (the `attachments` table itself: a `PENDING` row is a download to do).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::domain::dossier::Dossier;

/// Most direct uploads to one appointment.
pub const MAX_UPLOADS: i64 = 200;

/// Where a document stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AttachmentStatus {
    /// Waiting for (another) download attempt.
    Pending,
    /// Downloaded or uploaded, checked and kept.
    Stored,
    /// Could not be downloaded (retries exhausted, or a permanent HTTP error).
    Failed,
    /// Refused by policy: too large, content type or host or address not allowed, or
    /// infected.
    Rejected,
}

impl AttachmentStatus {
    /// Wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Stored => "STORED",
            Self::Failed => "FAILED",
            Self::Rejected => "REJECTED",
        }
    }

    /// Parses the wire and database name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "PENDING" => Some(Self::Pending),
            "STORED" => Some(Self::Stored),
            "FAILED" => Some(Self::Failed),
            "REJECTED" => Some(Self::Rejected),
            _ => None,
        }
    }
}

/// A document of an appointment.
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    /// Server-owned id.
    pub id: String,
    /// Appointment it belongs to.
    pub appointment_id: String,
    /// Source URL (absent for a direct upload).
    pub url: Option<String>,
    /// Whether the current dossier lists it (uploads: always `false`).
    pub in_dossier: bool,
    /// File name given by Claims IA.
    pub name: Option<String>,
    /// Media type announced by Claims IA.
    pub declared_type: Option<String>,
    /// Where it stands.
    pub status: AttachmentStatus,
    /// Machine code of the refusal or failure (`too-large`, `address-not-allowed`,
    /// `infected`…).
    pub reason: Option<String>,
    /// Human detail of the refusal, failure or last retryable error.
    pub detail: Option<String>,
    /// Stored blob, once `STORED`.
    pub blob: Option<BlobInfo>,
    /// Download attempts started so far.
    pub attempts: i64,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A stored blob: its content address, size and the content type read from its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    /// Lowercase hex sha256 (the blob key and the `ETag`).
    pub sha256: String,
    /// Size in bytes.
    pub size: i64,
    /// Content type sniffed from the bytes.
    pub content_type: String,
}

/// The latest dossier of an appointment.
#[derive(Debug, Clone)]
pub struct StoredDossier {
    /// Appointment.
    pub appointment_id: String,
    /// Bumped by every PUT, from 1.
    pub version: i64,
    /// The dossier as last put.
    pub dossier: Dossier,
    /// Last PUT.
    pub updated_at: DateTime<Utc>,
    /// Its documents, in dossier order.
    pub attachments: Vec<Attachment>,
}

/// A policy refusal decided without any connection (scheme or host not allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Machine code.
    pub reason: String,
    /// Human detail.
    pub detail: String,
}

/// A download to do, claimed by one worker for a lease.
#[derive(Debug, Clone)]
pub struct FetchJob {
    /// Attachment id.
    pub attachment_id: String,
    /// Appointment id.
    pub appointment_id: String,
    /// Source URL.
    pub url: String,
    /// Attempts including this one.
    pub attempts: i64,
}

/// What a download attempt came to.
#[derive(Debug, Clone)]
pub enum FetchSettlement {
    /// Stored: `attachment.stored`.
    Stored(BlobInfo),
    /// Refused by policy: `attachment.rejected`, no retry.
    Rejected(Refusal),
    /// Failed for good (permanent error or retries exhausted): `attachment.rejected` with
    /// status `FAILED`.
    Failed {
        /// Machine code.
        reason: String,
        /// Human detail.
        detail: String,
    },
    /// Failed for now: try again at `at`.
    Retry {
        /// Next attempt.
        at: DateTime<Utc>,
        /// What went wrong.
        detail: String,
    },
}

/// Dossiers and documents.
#[async_trait]
pub trait Documents: Send + Sync + 'static {
    /// Replaces the dossier of a client's appointment and bumps its version (the first PUT
    /// makes version 1); with `if_version`, only if the stored version is still that one
    /// (else `Conflict { constraint: Constraint::Version }`). Its attachments are matched by URL: a
    /// URL already known keeps its id and status, a new one is queued `PENDING` (or recorded
    /// `REJECTED` with an `attachment.rejected` event when `refusals[i]` says so), a URL no
    /// longer listed leaves the dossier (a pending download of it is dropped).
    async fn put_dossier(
        &self,
        client_id: &str,
        appointment_id: &str,
        dossier: &Dossier,
        refusals: &[Option<Refusal>],
        if_version: Option<i64>,
    ) -> StoreResult<StoredDossier>;
    /// The dossier of a client's appointment.
    async fn client_dossier(
        &self,
        client_id: &str,
        appointment_id: &str,
    ) -> StoreResult<StoredDossier>;
    /// The dossier of a firm's appointment.
    async fn firm_dossier(&self, firm_id: &str, appointment_id: &str)
    -> StoreResult<StoredDossier>;
    /// Every document of a firm's appointment (dossier URLs and uploads), oldest first.
    async fn firm_attachments(
        &self,
        firm_id: &str,
        appointment_id: &str,
    ) -> StoreResult<Vec<Attachment>>;
    /// One document of a firm's appointment.
    async fn firm_attachment(
        &self,
        firm_id: &str,
        appointment_id: &str,
        attachment_id: &str,
    ) -> StoreResult<Attachment>;
    /// Records a document uploaded (and stored) for a client's appointment. More than
    /// [`MAX_UPLOADS`] uploads to one appointment: `Conflict { constraint: Constraint::UploadLimit }`.
    async fn add_upload(
        &self,
        client_id: &str,
        appointment_id: &str,
        name: Option<&str>,
        declared_type: Option<&str>,
        blob: &BlobInfo,
    ) -> StoreResult<Attachment>;
    /// Records a document uploaded for a client's appointment but refused once received
    /// (a virus signature found), `REJECTED` with `refusal`, and its `attachment.rejected`
    /// event in the same transaction. Counts towards [`MAX_UPLOADS`] like a stored one.
    async fn reject_upload(
        &self,
        client_id: &str,
        appointment_id: &str,
        name: Option<&str>,
        declared_type: Option<&str>,
        refusal: &Refusal,
    ) -> StoreResult<Attachment>;
    /// Claims the next due download for `worker` until `lease_until` (a crashed worker's
    /// lease lapses and another takes the job over). Counts the attempt.
    async fn claim_fetch(
        &self,
        worker: &str,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<FetchJob>>;
    /// Records the result of a claimed download, with its event in the same transaction.
    /// Returns `false` when the job was no longer `worker`'s (lease lost, dossier changed).
    async fn settle_fetch(
        &self,
        job: &FetchJob,
        worker: &str,
        settlement: &FetchSettlement,
    ) -> StoreResult<bool>;
}
