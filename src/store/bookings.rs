//! Appointments and everything that must be consistent with them: bookings, absences over
//! booked time, idempotency keys, events.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{Absence, Event, Expert, Page, PageRequest, StoreError, StoreResult};
use crate::domain::appointment::{AppointmentStatus, Cancellation, Contact, Mode};
use crate::domain::firm::NewAbsence;
use crate::domain::{ExpertiseType, GeoPoint, Place};

/// An appointment as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Appointment {
    /// Server-owned id.
    pub id: String,
    /// Firm of the expert.
    pub firm_id: String,
    /// Expert booked.
    pub expert_id: String,
    /// Protocol client that booked it.
    pub client_id: String,
    /// Life cycle.
    pub status: AppointmentStatus,
    /// Bumped by every change (ETag).
    pub version: i64,
    /// Start instant.
    pub start: DateTime<Utc>,
    /// End instant (exclusive).
    pub end: DateTime<Utc>,
    /// On site or remote.
    pub mode: Mode,
    /// Expertise type booked.
    pub expertise_type: ExpertiseType,
    /// Where (on site), as requested.
    pub place: Option<Place>,
    /// Claims IA reference (one CONFIRMED appointment each).
    pub claims_ia_ref: String,
    /// Insurer's claim reference.
    pub claim_ref: Option<String>,
    /// Person to call.
    pub contact: Option<Contact>,
    /// Free text.
    pub comment: Option<String>,
    /// Set once cancelled.
    pub cancellation: Option<Cancellation>,
    /// Creation instant.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// The slot search its slot came from, when booked from one (a reschedule keeps it).
    pub search_id: Option<String>,
}

/// A CONFIRMED appointment as the calendar of an expert sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Busy {
    /// Appointment id.
    pub id: String,
    /// Start instant.
    pub start: DateTime<Utc>,
    /// End instant.
    pub end: DateTime<Utc>,
    /// Where, when on site.
    pub place: Option<GeoPoint>,
}

/// An expert's profile and calendar around a period, read inside a booking transaction.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The expert.
    pub expert: Expert,
    /// Absences overlapping the period.
    pub absences: Vec<Absence>,
    /// CONFIRMED appointments overlapping the period.
    pub appointments: Vec<Busy>,
}

/// Decides, from the schedule read in the transaction, whether a booking may proceed.
pub type Recheck = dyn Fn(&Schedule) -> bool + Send + Sync;

/// Why a booking did not happen.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    /// The time is no longer free (or the expert no longer active).
    #[error("the slot is no longer available")]
    SlotUnavailable,
    /// The claim already has a CONFIRMED appointment.
    #[error("claim already booked as appointment {0}")]
    AppointmentExists(String),
    /// A [`BookKey::Fresh`] key is already known: nothing was written. Claim it with
    /// [`Bookings::idempotency_begin`] to learn whether to replay, refuse or wait.
    #[error("the idempotency key is already known")]
    KeyTaken,
    /// Storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The `Idempotency-Key` of a booking, and what the booking transaction records under it.
#[derive(Clone, Copy)]
pub enum BookKey<'a> {
    /// Claimed beforehand with [`Bookings::idempotency_begin`]: the success answer is
    /// recorded in the booking transaction (a refusal is the caller's to record).
    Claimed(&'a IdempotencyRecord),
    /// Not claimed yet: the booking transaction claims it, so a keyed booking costs one
    /// transaction. It records `answer` on success, or `refusal(error)` when the slot is
    /// no longer free or the claim already booked. A key already known (unexpired, in any
    /// state) is left untouched and the booking ends in [`BookError::KeyTaken`].
    Fresh {
        /// The answer to a success.
        answer: &'a IdempotencyRecord,
        /// The request's fingerprint.
        request_hash: &'a str,
        /// Keys created before this instant (ms) are expired and may be replaced.
        expired_before_ms: i64,
        /// The answer to a refusal ([`BookError::SlotUnavailable`] or
        /// [`BookError::AppointmentExists`]).
        refusal: &'a (dyn Fn(&BookError) -> IdempotencyRecord + Send + Sync),
    },
}

/// The response to keep for an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    /// Protocol client.
    pub client_id: String,
    /// The `Idempotency-Key` header.
    pub key: String,
    /// HTTP status of the first response.
    pub status: u16,
    /// Serialized first response (headers and body), replayed byte for byte.
    pub response: String,
}

/// State of an idempotency key when a request arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// New key: this request owns it and must finish or abandon it.
    Started,
    /// The same request is being processed by someone else.
    InFlight,
    /// Done: replay this response.
    Done {
        /// Status.
        status: u16,
        /// Serialized response.
        response: String,
    },
    /// The key was used for a different request.
    Mismatch,
}

/// Who acts on an appointment: the protocol client that booked it, or the expert's firm.
#[derive(Debug, Clone, Copy)]
pub enum Owner<'a> {
    /// A protocol client (its own bookings).
    Client(&'a str),
    /// A firm (its experts' appointments).
    Firm(&'a str),
}

/// Where and when an appointment moves to.
#[derive(Debug, Clone)]
pub struct Move {
    /// New expert.
    pub expert_id: String,
    /// Firm of the new expert.
    pub firm_id: String,
    /// New start.
    pub start: DateTime<Utc>,
    /// New end.
    pub end: DateTime<Utc>,
    /// New mode.
    pub mode: Mode,
    /// New expertise type.
    pub expertise_type: ExpertiseType,
    /// New place.
    pub place: Option<Place>,
}

/// Edits the client-owned details of an appointment (contact, comment, claim reference).
pub type DetailsEdit = dyn Fn(&mut Appointment) + Send + Sync;

/// Filter of a firm's appointment list.
#[derive(Debug, Clone, Default)]
pub struct AppointmentFilter {
    /// Only this expert.
    pub expert_id: Option<String>,
    /// Starting at or after.
    pub from: Option<DateTime<Utc>>,
    /// Starting before.
    pub to: Option<DateTime<Utc>>,
    /// Only this status.
    pub status: Option<AppointmentStatus>,
}

/// Result of recording an absence.
#[derive(Debug, Clone)]
pub enum AbsenceOutcome {
    /// Recorded; the appointments it cancelled (with `force`) are listed.
    Created {
        /// The absence.
        absence: Absence,
        /// Appointments cancelled by it.
        cancelled: Vec<Appointment>,
    },
    /// Not recorded: these CONFIRMED appointments lie in it.
    Conflicts(Vec<Appointment>),
}

/// Appointments and what must stay consistent with them.
#[async_trait]
pub trait Bookings: Send + Sync + 'static {
    /// Absences and CONFIRMED appointments of these experts overlapping `[from, to)`.
    async fn schedules(
        &self,
        expert_ids: &[&str],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<(String, Vec<Absence>, Vec<Busy>)>>;

    /// Writes a CONFIRMED appointment if `recheck` accepts the expert's schedule read in the
    /// same transaction (which holds the expert's write lock). With a `key`, the answer is
    /// recorded under it in that transaction too (see [`BookKey`]). Concurrent bookings
    /// may share that transaction (and its commit); each gets its own verdict.
    async fn book(
        &self,
        appointment: &Appointment,
        recheck: Arc<Recheck>,
        key: Option<BookKey<'_>>,
    ) -> Result<(), BookError>;

    /// An appointment booked by a protocol client.
    async fn client_appointment(&self, client_id: &str, id: &str) -> StoreResult<Appointment>;
    /// A client's appointments for a Claims IA reference.
    async fn client_appointments_by_ref(
        &self,
        client_id: &str,
        claims_ia_ref: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<Appointment>>;
    /// One of a firm's appointments.
    async fn firm_appointment(&self, firm_id: &str, id: &str) -> StoreResult<Appointment>;
    /// A firm's appointments, filtered, in start order.
    async fn firm_appointments(
        &self,
        firm_id: &str,
        filter: &AppointmentFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<Appointment>>;

    /// Records an absence of one of a firm's experts. CONFIRMED appointments inside it make
    /// it a conflict, unless `force`, which cancels them (`EXPERT_UNAVAILABLE`, by the firm)
    /// and records an `appointment.cancelled` event for each, in the same transaction.
    async fn create_absence(
        &self,
        firm_id: &str,
        expert_id: &str,
        absence: &NewAbsence,
        force: bool,
    ) -> StoreResult<AbsenceOutcome>;

    /// Cancels an appointment (idempotent: a cancelled one is returned as it is). A firm's
    /// cancellation records an `appointment.cancelled` event in the same transaction.
    /// A completed appointment is a `Conflict { constraint: Constraint::Completed }`.
    async fn cancel_appointment(
        &self,
        owner: Owner<'_>,
        id: &str,
        cancellation: &Cancellation,
    ) -> StoreResult<Appointment>;

    /// Marks one of a firm's appointments completed (idempotent) and records an
    /// `appointment.completed` event. A cancelled one is a
    /// `Conflict { constraint: Constraint::Cancelled }`.
    async fn complete_appointment(&self, firm_id: &str, id: &str) -> StoreResult<Appointment>;

    /// Applies `edit` to a client's appointment and bumps its version, if its version is
    /// still `if_version` (when given): otherwise `Conflict { constraint: Constraint::Version }`.
    async fn update_details(
        &self,
        client_id: &str,
        id: &str,
        if_version: Option<i64>,
        edit: &DetailsEdit,
    ) -> StoreResult<Appointment>;

    /// Moves a CONFIRMED appointment to a new slot, atomically: the new slot is re-checked
    /// (with the appointment itself left out of its expert's calendar) and the row updated in
    /// one transaction; on any failure the appointment is untouched. A firm's move records an
    /// `appointment.rescheduled` event in that transaction.
    async fn reschedule(
        &self,
        owner: Owner<'_>,
        id: &str,
        to: &Move,
        recheck: &Recheck,
    ) -> Result<Appointment, BookError>;

    /// Events about a client's appointments after the cursor `after`, in the order their
    /// transactions committed (never skipping one).
    async fn events(&self, client_id: &str, after: i64, limit: u32) -> StoreResult<Vec<Event>>;

    /// Claims an idempotency key for a request identified by `request_hash`. Keys older than
    /// `ttl_ms` are forgotten; an in-flight key older than `stale_ms` is taken over.
    async fn idempotency_begin(
        &self,
        client_id: &str,
        key: &str,
        request_hash: &str,
        ttl_ms: i64,
        stale_ms: i64,
    ) -> StoreResult<IdempotencyBegin>;
    /// Records the response of a key claimed with `idempotency_begin`.
    async fn idempotency_finish(&self, record: &IdempotencyRecord) -> StoreResult<()>;
    /// Releases a claimed key without a response (the request failed unexpectedly).
    async fn idempotency_abandon(&self, client_id: &str, key: &str) -> StoreResult<()>;
}
