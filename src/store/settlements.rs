//! Pre-uploaded files and the settlements that take them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{BlobInfo, Owner, StoreResult};
use crate::domain::settlement::{DocumentKind, Settlement};

/// How an upload was checked for viruses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UploadStatus {
    /// The scanner found nothing.
    Verified,
    /// No scanner is configured.
    Unscanned,
}

impl UploadStatus {
    /// Wire and database name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Verified => "VERIFIED",
            Self::Unscanned => "UNSCANNED",
        }
    }

    /// Parses the wire and database name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "VERIFIED" => Some(Self::Verified),
            "UNSCANNED" => Some(Self::Unscanned),
            _ => None,
        }
    }
}

/// A file a firm uploaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    /// `<uuid>.<ext>`: the only handle.
    pub key: String,
    /// Firm that uploaded it.
    pub firm_id: String,
    /// File name given.
    pub name: String,
    /// Scan outcome.
    pub status: UploadStatus,
    /// The stored bytes.
    pub blob: BlobInfo,
    /// Upload instant.
    pub created_at: DateTime<Utc>,
    /// Deleted after this instant unless used.
    pub expires_at: DateTime<Utc>,
    /// Id of the settlement that took it.
    pub used_by: Option<String>,
}

/// One document of a settlement.
#[derive(Debug, Clone, PartialEq)]
pub struct SettlementDocument {
    /// What it is.
    pub kind: DocumentKind,
    /// The upload it was.
    pub upload_key: String,
    /// Its bytes.
    pub blob: BlobInfo,
}

/// A settlement as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSettlement {
    /// Server-owned id.
    pub id: String,
    /// Appointment it settles.
    pub appointment_id: String,
    /// What was filed.
    pub settlement: Settlement,
    /// Always `SUBMITTED` for now.
    pub status: &'static str,
    /// Filing instant.
    pub submitted_at: DateTime<Utc>,
    /// Its documents.
    pub documents: Vec<SettlementDocument>,
}

/// Why a settlement was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum SettleError {
    /// The appointment is not COMPLETED.
    #[error("the appointment is not completed")]
    NotCompleted,
    /// An upload key is unknown to this firm, not a PDF, or already used: the request
    /// field that names it.
    #[error("unknown upload in {0}")]
    UnknownUpload(&'static str),
    /// The firm already filed this `(type, reference)`: the existing settlement.
    #[error("settlement exists: {0}")]
    Exists(String),
    /// Storage failed, or the appointment is not the firm's.
    #[error(transparent)]
    Store(#[from] super::StoreError),
}

impl From<sqlx::Error> for SettleError {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(err.into())
    }
}

/// Uploads and settlements.
#[async_trait]
pub trait Settlements: Send + Sync + 'static {
    /// Records an upload of `firm_id`.
    async fn add_upload_file(&self, upload: &Upload) -> StoreResult<()>;
    /// One upload of the firm (an expired one is deleted, hence not found).
    async fn upload(&self, firm_id: &str, key: &str) -> StoreResult<Upload>;
    /// Deletes up to `limit` uploads that no settlement took and that expired at `now`;
    /// returns the sha256 of each (their blobs may now be unreferenced). Each row is
    /// deleted once, whichever instance asks.
    async fn expire_uploads(&self, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<String>>;
    /// Whether any upload or attachment still references the blob `sha256`.
    async fn blob_referenced(&self, sha256: &str) -> StoreResult<bool>;
    /// Records a settlement of the firm's COMPLETED appointment, taking its uploads and
    /// writing `settlement.submitted` in the same transaction.
    async fn file_settlement(
        &self,
        firm_id: &str,
        appointment_id: &str,
        settlement: &Settlement,
        documents: &[(DocumentKind, String)],
    ) -> Result<StoredSettlement, SettleError>;
    /// The settlements of an appointment, oldest first.
    async fn settlements(
        &self,
        owner: Owner<'_>,
        appointment_id: &str,
    ) -> StoreResult<Vec<StoredSettlement>>;
    /// One settlement of an appointment.
    async fn settlement(
        &self,
        owner: Owner<'_>,
        appointment_id: &str,
        settlement_id: &str,
    ) -> StoreResult<StoredSettlement>;
}
