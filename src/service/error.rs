//! Why an operation did not happen. The HTTP layer maps each variant to its status and
//! problem code in one place.

use crate::domain::Invalid;
use crate::store::{BookError, StoreError};

/// The one error type of the use cases.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Values of the request break a rule (each with a JSON Pointer).
    #[error("the request has invalid values")]
    Invalid(Vec<Invalid>),
    /// The slot was taken, or its expert deactivated, since the search.
    #[error("the slot is no longer available; search again")]
    SlotUnavailable,
    /// The slot id is not one of ours, was altered, or was offered to another client.
    #[error("the slotId is invalid")]
    InvalidSlot,
    /// The slot's offer expired.
    #[error("the slot offer expired; search again")]
    SlotExpired,
    /// The claim already has a CONFIRMED appointment.
    #[error("claim already booked as appointment {0}")]
    AppointmentExists(String),
    /// The absence covers CONFIRMED appointments (listed).
    #[error("the absence covers confirmed appointments")]
    AbsenceOverAppointments(Vec<String>),
    /// The appointment starts at this instant: it cannot be completed before.
    #[error("the appointment starts at {0}: it can be completed once it has started")]
    NotStarted(chrono::DateTime<chrono::Utc>),
    /// The file is larger than the cap (bytes).
    #[error("the file exceeds the limit of {0} bytes")]
    FileTooBig(u64),
    /// The file's content is of a type not accepted.
    #[error("{0}")]
    ContentTypeNotAllowed(String),
    /// The scanner found a virus in a pre-uploaded file; it was not kept.
    #[error("the file carries a virus signature; it was not kept")]
    UploadInfected,
    /// The appointment is not COMPLETED.
    #[error("a settlement can be filed once the appointment is COMPLETED")]
    NotCompleted,
    /// An upload key names no PDF of this firm that is unused and unexpired: the request
    /// field that names it.
    #[error("{0} names no usable upload")]
    UnknownUpload(&'static str),
    /// A value is refused with its own code (`invalid-siret`, `source-missing`…).
    #[error("{detail}")]
    Refused {
        /// Stable problem code.
        code: &'static str,
        /// JSON Pointer to the value.
        pointer: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The firm already filed a settlement with this type and reference (its id).
    #[error("a settlement with this type and reference exists: {0}")]
    SettlementExists(String),
    /// The idempotency key of a booking is already known (replay, refuse or wait).
    #[error("the idempotency key is already known")]
    KeyTaken,
    /// A document's bytes were refused (too large, type not allowed), broke off, or could
    /// not be staged; nothing was kept.
    #[error(transparent)]
    Upload(#[from] crate::fetch::IngestError),
    /// The virus scanner failed or is unreachable; nothing was kept.
    #[error(transparent)]
    ScanFailed(#[from] crate::scan::ScanError),
    /// The virus scanner found `signature` in an uploaded document, recorded `REJECTED` as
    /// `attachment_id`; its bytes were not kept.
    #[error(
        "the document carries the virus signature {signature}; recorded as attachment {attachment_id}, REJECTED"
    )]
    Infected {
        /// The refused document.
        attachment_id: String,
        /// What the scanner found.
        signature: String,
    },
    /// The stored state refused the change, or storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything unexpected.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Result alias of the use cases.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    /// A rule broken by one value.
    pub fn invalid(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Invalid(vec![Invalid::new(pointer, detail)])
    }
}

impl From<Invalid> for Error {
    fn from(invalid: Invalid) -> Self {
        Self::Invalid(vec![invalid])
    }
}

impl From<BookError> for Error {
    fn from(err: BookError) -> Self {
        match err {
            BookError::SlotUnavailable => Self::SlotUnavailable,
            BookError::AppointmentExists(id) => Self::AppointmentExists(id),
            BookError::KeyTaken => Self::KeyTaken,
            BookError::Store(err) => Self::Store(err),
        }
    }
}
