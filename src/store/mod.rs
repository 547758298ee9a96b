//! Persistence: the [`Store`] trait speaks domain types; [`sql::SqlStore`] implements it once
//! for both engines, [`sqlite`] and [`postgres`] hold what differs (connection set-up,
//! migrations, locking).

mod bookings;
mod changes;
mod dialect;
mod documents;
mod imports;
mod migrate;
mod monitoring;
pub mod postgres;
mod search_log;
mod settlements;
mod sql;
pub mod sqlite;
mod webhooks;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::domain::expert::ExpertProfile;
use crate::domain::firm::FirmProfile;

pub use bookings::{
    AbsenceOutcome, Appointment, AppointmentFilter, BookError, BookKey, Bookings, Busy,
    DetailsEdit, IdempotencyBegin, IdempotencyRecord, Move, Owner, Recheck, Schedule,
};
pub use changes::{Announcement, CalendarChange, ChangeListener, Changes};
pub use documents::{
    Attachment, AttachmentStatus, BlobInfo, Documents, FetchJob, FetchSettlement, MAX_UPLOADS,
    Refusal, StoredDossier,
};
pub use imports::{
    ApplyError, AppointmentChanges, ChangeItem, ChangedAppointment, FirmEvent, FirmEvents, Import,
    ImportCounts, ImportKind, ImportSource, ImportStatus, ImportStep, ImportWrites, Imports,
    NewImport, RowError,
};
pub use monitoring::{JobQueue, Monitoring, PoolUse, QueueBacklog};
pub use search_log::{
    DemandCell, FirmSearch, FirmShare, LoggedSearch, Period, SearchCursor, SearchLog,
};
pub use settlements::{
    SettleError, SettlementDocument, Settlements, StoredSettlement, Upload, UploadStatus,
};
pub use sql::Event;
pub use sql::SqlStore;
pub use webhooks::{
    Delivery, DeliveryRecord, DeliverySettlement, FirmWebhook, Outbox, Payload, WebhookEndpoint,
    Webhooks,
};

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (the default).
    Sqlite,
    /// PostgreSQL server (several instances may share it).
    Postgres,
}

/// Errors of the storage layer, in terms callers can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist (or belongs to another firm: same answer, no leak).
    #[error("not found")]
    NotFound,
    /// A uniqueness or integrity rule refused the write; `constraint` names it.
    #[error("conflict on {constraint}")]
    Conflict {
        /// The violated rule.
        constraint: Constraint,
    },
    /// The transaction may or may not have committed (its connection or task ended
    /// before it said): read the state again before retrying.
    #[error("outcome unknown: {0}")]
    OutcomeUnknown(String),
    /// Stored data could not be read back into domain types.
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database failed or is unreachable.
    #[error(transparent)]
    Database(sqlx::Error),
}

/// SQLSTATE of a text PostgreSQL cannot hold: a NUL character.
const NUL_IN_TEXT: &str = "22021";

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        // Only ids and keys reach the database as raw text (every other text is a
        // validated domain type, which refuses control characters): no row can have an id
        // with a NUL, so on PostgreSQL, which refuses to read one, it is not found either,
        // as on SQLite.
        match err
            .as_database_error()
            .and_then(sqlx::error::DatabaseError::code)
        {
            Some(code) if code == NUL_IN_TEXT => Self::NotFound,
            _ => Self::Database(err),
        }
    }
}

/// The rules the stored state can refuse a change by, each mapped once from what the
/// database reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Constraint {
    /// Two CONFIRMED appointments of one expert would overlap.
    NoOverlap,
    /// The claim already has a CONFIRMED appointment.
    OneConfirmedPerRef,
    /// Another row has the same unique value.
    Unique,
    /// The version the change was based on is no longer the current one.
    Version,
    /// The appointment is completed.
    Completed,
    /// The appointment is cancelled.
    Cancelled,
    /// The appointment is not CONFIRMED.
    NotConfirmed,
    /// The appointment has as many uploads as it may.
    UploadLimit,
    /// Another expert of the firm has this `externalRef`.
    ExternalRef,
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NoOverlap => "appointments_no_overlap",
            Self::OneConfirmedPerRef => "appointments_one_confirmed_per_ref",
            Self::Unique => "unique",
            Self::Version => "version",
            Self::Completed => "appointment_completed",
            Self::Cancelled => "appointment_cancelled",
            Self::NotConfirmed => "appointment_not_confirmed",
            Self::UploadLimit => "upload_limit",
            Self::ExternalRef => "experts_external_ref",
        })
    }
}

/// Result alias of the storage layer.
pub type StoreResult<T> = Result<T, StoreError>;

/// A firm as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Firm {
    /// Server-owned id.
    pub id: String,
    /// Editable profile.
    pub profile: FirmProfile,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A firm's OAuth2 client credential (the secret only as an argon2 hash).
#[derive(Debug, Clone)]
pub struct FirmCredential {
    /// Public client id.
    pub client_id: String,
    /// Firm it authenticates.
    pub firm_id: String,
    /// PHC string of the argon2 hash of the secret.
    pub secret_hash: String,
}

/// A Claims IA API client (the key only as a sha256 hash).
#[derive(Debug, Clone)]
pub struct ApiClient {
    /// Public id, also the key's prefix.
    pub id: String,
    /// Operator-given name.
    pub name: String,
    /// sha256 of the full key.
    pub key_hash: Vec<u8>,
}

/// An expert as stored: server-owned fields plus the validated profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Expert {
    /// Server-owned id.
    pub id: String,
    /// Owning firm.
    pub firm_id: String,
    /// The profile as last written.
    pub profile: ExpertProfile,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// An absence of an expert (half-open interval `[start, end)`).
#[derive(Debug, Clone, PartialEq)]
pub struct Absence {
    /// Server-owned id.
    pub id: String,
    /// Expert concerned.
    pub expert_id: String,
    /// Start instant.
    pub start: DateTime<Utc>,
    /// End instant (exclusive).
    pub end: DateTime<Utc>,
    /// Free text.
    pub reason: Option<String>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
}

/// Keyset pagination request: items strictly after `after` (an id), at most `limit`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PageRequest {
    /// Last id of the previous page.
    pub after: Option<String>,
    /// Page size, already clamped by the caller.
    pub limit: u32,
}

/// One page of results; `next_after` is set when more items may follow.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, in id order.
    pub items: Vec<T>,
    /// Id to continue after, if the page was full.
    pub next_after: Option<String>,
}

/// Everything Créneau stores.
pub trait Store:
    Catalog
    + Bookings
    + Changes
    + Documents
    + FirmEvents
    + Imports
    + Monitoring
    + SearchLog
    + Settlements
    + Webhooks
{
}

impl<
    T: Catalog
        + Bookings
        + Changes
        + Documents
        + FirmEvents
        + Imports
        + Monitoring
        + SearchLog
        + Settlements
        + Webhooks,
> Store for T
{
}

/// Firms, credentials and experts. Every firm-owned object is addressed with its firm id,
/// so a query can never reach another firm's data.
#[async_trait]
pub trait Catalog: Send + Sync + 'static {
    /// Which engine this is.
    fn backend(&self) -> Backend;
    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;
    /// Returns the named server secret, storing `candidate` first if none exists yet, so
    /// every instance on one database shares it.
    async fn server_secret(&self, name: &str, candidate: &str) -> StoreResult<String>;

    /// Creates a firm.
    async fn create_firm(&self, profile: &FirmProfile) -> StoreResult<Firm>;
    /// Reads a firm.
    async fn firm(&self, firm_id: &str) -> StoreResult<Firm>;
    /// Finds a firm by SIRET (the demo loader uses it to stay idempotent).
    async fn firm_by_siret(&self, siret: &str) -> StoreResult<Option<Firm>>;
    /// Replaces a firm's profile.
    async fn update_firm(&self, firm_id: &str, profile: &FirmProfile) -> StoreResult<Firm>;
    /// Adds a client credential to a firm (`NotFound` when the firm does not exist).
    async fn add_firm_credential(&self, cred: &FirmCredential) -> StoreResult<()>;
    /// Looks a client credential up by its public id.
    async fn firm_credential(&self, client_id: &str) -> StoreResult<Option<FirmCredential>>;
    /// Revokes a client credential; whether it existed.
    async fn revoke_firm_credential(&self, client_id: &str) -> StoreResult<bool>;
    /// Revokes every client credential of a firm; how many there were.
    async fn revoke_firm_credentials(&self, firm_id: &str) -> StoreResult<u64>;

    /// Registers a Claims IA API client.
    async fn create_api_client(&self, client: &ApiClient) -> StoreResult<()>;
    /// Looks an API client up by its public id.
    async fn api_client(&self, id: &str) -> StoreResult<Option<ApiClient>>;

    /// Creates an expert in a firm.
    async fn create_expert(&self, firm_id: &str, profile: &ExpertProfile) -> StoreResult<Expert>;
    /// Reads one of a firm's experts.
    async fn expert(&self, firm_id: &str, expert_id: &str) -> StoreResult<Expert>;
    /// Lists a firm's experts in id order (with `external_ref`, the one that has it).
    async fn list_experts(
        &self,
        firm_id: &str,
        external_ref: Option<&str>,
        page: &PageRequest,
    ) -> StoreResult<Page<Expert>>;
    /// Replaces one of a firm's experts.
    async fn replace_expert(
        &self,
        firm_id: &str,
        expert_id: &str,
        profile: &ExpertProfile,
    ) -> StoreResult<Expert>;
    /// Marks one of a firm's experts inactive (idempotent).
    async fn deactivate_expert(&self, firm_id: &str, expert_id: &str) -> StoreResult<()>;

    /// Sets the calendar feed token (its hash) of one of a firm's experts, replacing (and so
    /// revoking) any previous one.
    async fn set_calendar_feed(
        &self,
        firm_id: &str,
        expert_id: &str,
        token_hash: &[u8],
    ) -> StoreResult<()>;
    /// Revokes the calendar feed of one of a firm's experts (idempotent).
    async fn revoke_calendar_feed(&self, firm_id: &str, expert_id: &str) -> StoreResult<()>;
    /// The (firm id, expert id) a feed token hash opens, if any.
    async fn calendar_feed(&self, token_hash: &[u8]) -> StoreResult<Option<(String, String)>>;

    /// Version of the expert catalogue, bumped by every firm or expert change.
    async fn catalog_version(&self) -> StoreResult<i64>;
    /// Every active expert with the name of its firm (to build the search directory).
    async fn active_experts(&self) -> StoreResult<Vec<(Expert, String)>>;
    /// Lists an expert's absences in id order.
    async fn list_absences(
        &self,
        firm_id: &str,
        expert_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<Absence>>;
    /// Deletes an absence.
    async fn delete_absence(
        &self,
        firm_id: &str,
        expert_id: &str,
        absence_id: &str,
    ) -> StoreResult<()>;
}

/// Storage settings beyond the database's URL.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Most bookings written in one shared transaction when they arrive together (1:
    /// each booking in a transaction of its own).
    pub booking_batch: usize,
    /// Most such transactions at once (PostgreSQL; SQLite has one writer).
    pub booking_groups: usize,
    /// What the store reads the time from.
    pub clock: crate::clock::Clock,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            booking_batch: 32,
            booking_groups: 2,
            clock: crate::clock::Clock::system(),
        }
    }
}

/// Opens the database named by `url` (`sqlite:`/`sqlite://` path or `postgres://`), creating
/// a SQLite file if missing, and runs the pending migrations.
pub async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    open_with(url, &StoreOptions::default()).await
}

/// [`open`] with these settings.
pub async fn open_with(url: &str, options: &StoreOptions) -> anyhow::Result<Arc<dyn Store>> {
    let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        postgres::open(url, options).await?
    } else {
        sqlite::open(url, options).await?
    };
    Ok(Arc::new(store))
}
