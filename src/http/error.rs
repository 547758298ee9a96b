//! The one error type of the HTTP layer and its RFC 9457 rendering. The status of every
//! failure is decided in [`ApiError::status_and_code`], nowhere else.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::Invalid;
use crate::store::{Constraint, StoreError};

/// Media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// `Retry-After` of `scan-failed`: long enough for a scanner to restart.
const SCAN_RETRY_AFTER_SECS: u64 = 30;

/// One invalid value of the request (RFC 9457 §3 extension, JSON Pointer into the body).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
pub struct FieldProblem {
    /// JSON Pointer to the value, e.g. `/stake/total`.
    pub pointer: String,
    /// What is wrong with it.
    pub detail: String,
}

/// An RFC 9457 problem document, with a stable machine `code`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// URI naming the problem type (`urn:creneau:problem:<code>`).
    #[serde(rename = "type")]
    pub type_: String,
    /// Short summary of the problem type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Explanation of this occurrence.
    pub detail: String,
    /// Stable machine-readable code, e.g. `slot-unavailable`.
    pub code: String,
    /// Invalid values, for validation problems.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldProblem>,
    /// `appointment-exists`: the claim's CONFIRMED appointment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_appointment_id: Option<String>,
    /// `absence-over-appointments`: the CONFIRMED appointments inside the absence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appointment_ids: Vec<String>,
    /// `settlement-exists`: the settlement already filed with this type and reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_settlement_id: Option<String>,
    /// Refused uploads: `INFECTED`, `FILE_TOO_BIG` or `ERROR` (the scan failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_status: Option<String>,
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not well-formed JSON (or not readable).
    #[error("{0}")]
    MalformedBody(String),
    /// Query string parameters are invalid.
    #[error("{0}")]
    InvalidQuery(String),
    /// Missing or bad credential.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// Unknown object or route (also another firm's object).
    #[error("no such resource")]
    NotFound,
    /// The route exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request conflicts with the current state.
    #[error("{detail}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// Explanation.
        detail: String,
    },
    /// The slot was taken or invalidated since the search.
    #[error("the slot is no longer available; search again")]
    SlotUnavailable,
    /// The slot id is not one of ours, was altered, or was offered to another client.
    #[error("the slotId is invalid")]
    InvalidSlot,
    /// The slot's offer expired.
    #[error("the slot offer expired; search again")]
    SlotExpired,
    /// The claim already has a CONFIRMED appointment (change it with reschedule).
    #[error("claim already booked as appointment {0}")]
    AppointmentExists(String),
    /// The absence covers CONFIRMED appointments (listed).
    #[error("the absence covers confirmed appointments; cancel them or use ?force=true")]
    AbsenceOverAppointments(Vec<String>),
    /// The Idempotency-Key was used with a different request.
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyKeyReused,
    /// The first request with this Idempotency-Key is still being processed.
    #[error("a request with this Idempotency-Key is still in flight; retry shortly")]
    IdempotencyKeyInFlight,
    /// `If-Match` names a version that is no longer current.
    #[error("the appointment changed since that version; read it again")]
    PreconditionFailed,
    /// The appointment is cancelled or completed: it cannot change any more.
    #[error("the appointment is {0} and cannot change")]
    NotActive(&'static str),
    /// The body exceeds the size limit.
    #[error("request body is too large")]
    PayloadTooLarge,
    /// An uploaded document was refused by the content rules (type not allowed...).
    #[error("{detail}")]
    AttachmentRejected {
        /// Stable code, e.g. `content-type-not-allowed`.
        code: &'static str,
        /// Explanation.
        detail: String,
    },
    /// A file carries a virus signature.
    #[error("{0}")]
    FileInfected(String),
    /// The virus scanner failed or is unreachable: nothing was kept, try again later.
    #[error("the file could not be scanned for viruses; retry later")]
    ScanFailed,
    /// The body is not JSON (or not of the expected media type).
    #[error("{0}")]
    UnsupportedMediaType(&'static str),
    /// An uploaded file exceeds the cap (bytes).
    #[error("the file exceeds the limit of {0} bytes")]
    FileTooBig(u64),
    /// An upload key names no usable upload: the request field.
    #[error("{0} names no PDF upload of this firm that is unused and unexpired")]
    UnknownUpload(&'static str),
    /// A value refused with its own code (422).
    #[error("{detail}")]
    Refused {
        /// Stable code.
        code: &'static str,
        /// JSON Pointer to the value.
        pointer: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// The firm already filed this type and reference (the existing settlement).
    #[error("a settlement with this type and reference exists: {0}")]
    SettlementExists(String),
    /// The body is JSON but its values are invalid.
    #[error("the request has invalid values")]
    Validation(Vec<FieldProblem>),
    /// Too many failed attempts: wait `retry_after` seconds.
    #[error("too many failed attempts; retry later")]
    TooManyRequests {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The caller is over its request rate: wait `retry_after` seconds.
    #[error("over the request rate allowed to this caller; retry in {retry_after} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// A dependency is down (readiness).
    #[error("{0}")]
    Unavailable(&'static str),
    /// Anything unexpected: answered generically, logged once with its cause.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// The only mapping from failures to statuses and codes.
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::MalformedBody(_) => (StatusCode::BAD_REQUEST, "malformed-body"),
            Self::InvalidQuery(_) => (StatusCode::BAD_REQUEST, "invalid-query"),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::NotFound => (StatusCode::NOT_FOUND, "not-found"),
            Self::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed"),
            Self::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            Self::SlotUnavailable => (StatusCode::CONFLICT, "slot-unavailable"),
            Self::SlotExpired => (StatusCode::GONE, "slot-expired"),
            Self::PreconditionFailed => (StatusCode::PRECONDITION_FAILED, "precondition-failed"),
            Self::NotActive(_) => (StatusCode::CONFLICT, "appointment-not-active"),
            Self::InvalidSlot => (StatusCode::UNPROCESSABLE_ENTITY, "invalid-slot"),
            Self::AppointmentExists(_) => (StatusCode::CONFLICT, "appointment-exists"),
            Self::AbsenceOverAppointments(_) => (StatusCode::CONFLICT, "absence-over-appointments"),
            Self::IdempotencyKeyReused => {
                (StatusCode::UNPROCESSABLE_ENTITY, "idempotency-key-reused")
            }
            Self::IdempotencyKeyInFlight => (StatusCode::CONFLICT, "idempotency-key-in-flight"),
            Self::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload-too-large"),
            Self::AttachmentRejected { code, .. } | Self::Refused { code, .. } => {
                (StatusCode::UNPROCESSABLE_ENTITY, code)
            }
            Self::FileInfected(_) => (StatusCode::UNPROCESSABLE_ENTITY, "file-infected"),
            Self::ScanFailed => (StatusCode::SERVICE_UNAVAILABLE, "scan-failed"),
            Self::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type")
            }
            Self::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation-failed"),
            Self::FileTooBig(_) => (StatusCode::PAYLOAD_TOO_LARGE, "file-too-big"),
            Self::UnknownUpload(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unknown-upload"),
            Self::SettlementExists(_) => (StatusCode::CONFLICT, "settlement-exists"),
            Self::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too-many-requests"),
            Self::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate-limited"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// The problem's stable code, e.g. `slot-unavailable`.
    pub fn code(&self) -> &'static str {
        self.status_and_code().1
    }

    /// A validation failure on one value.
    pub fn invalid(pointer: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Validation(vec![FieldProblem {
            pointer: pointer.into(),
            detail: detail.into(),
        }])
    }

    /// Over a rate limit for `wait`: `Retry-After` in whole seconds, at least one.
    pub fn rate_limited(wait: std::time::Duration) -> Self {
        let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Self::RateLimited {
            retry_after: retry_after.max(1),
        }
    }

    /// The problem document for this error.
    pub fn problem(&self) -> Problem {
        let (status, code) = self.status_and_code();
        let errors = match self {
            Self::Validation(errors) => errors.clone(),
            Self::InvalidSlot => vec![FieldProblem {
                pointer: "/slotId".into(),
                detail: "not a slot offered to this client".into(),
            }],
            Self::Refused {
                pointer, detail, ..
            } => vec![FieldProblem {
                pointer: (*pointer).to_owned(),
                detail: detail.clone(),
            }],
            Self::UnknownUpload(field) => vec![FieldProblem {
                pointer: format!("/{field}"),
                detail: "not a PDF upload of this firm, VERIFIED or UNSCANNED, unused".into(),
            }],
            _ => Vec::new(),
        };
        let mut problem = problem(status, code, self.to_string(), errors);
        match self {
            Self::AppointmentExists(id) => problem.existing_appointment_id = Some(id.clone()),
            Self::AbsenceOverAppointments(ids) => problem.appointment_ids.clone_from(ids),
            Self::SettlementExists(id) => problem.existing_settlement_id = Some(id.clone()),
            Self::FileTooBig(_) => problem.upload_status = Some("FILE_TOO_BIG".into()),
            Self::FileInfected(_) => problem.upload_status = Some("INFECTED".into()),
            Self::ScanFailed => problem.upload_status = Some("ERROR".into()),
            _ => {}
        }
        problem
    }
}

/// Builds a problem document.
pub fn problem(
    status: StatusCode,
    code: &str,
    detail: String,
    errors: Vec<FieldProblem>,
) -> Problem {
    Problem {
        type_: format!("urn:creneau:problem:{code}"),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail,
        code: code.to_owned(),
        errors,
        existing_appointment_id: None,
        appointment_ids: Vec::new(),
        existing_settlement_id: None,
        upload_status: None,
    }
}

/// Renders a problem document with its media type.
pub fn problem_response(problem: &Problem) -> Response {
    let status = StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Json(problem)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            // Logged here, inside the request span, and nowhere else; never echoed.
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        let mut response = problem_response(&self.problem());
        match self {
            Self::Unauthorized(_) => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"creneau\""),
                );
            }
            Self::TooManyRequests { retry_after } | Self::RateLimited { retry_after } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
            }
            Self::ScanFailed => {
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(SCAN_RETRY_AFTER_SECS),
                );
            }
            _ => {}
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Self::NotFound,
            StoreError::Conflict {
                constraint: Constraint::Version,
            } => Self::PreconditionFailed,
            StoreError::Conflict {
                constraint: Constraint::Completed,
            } => Self::NotActive("completed"),
            StoreError::Conflict {
                constraint: Constraint::Cancelled | Constraint::NotConfirmed,
            } => Self::NotActive("not confirmed"),
            StoreError::Conflict {
                constraint: Constraint::UploadLimit,
            } => Self::Conflict {
                code: "too-many-attachments",
                detail: format!(
                    "an appointment takes at most {} uploaded documents",
                    crate::store::MAX_UPLOADS
                ),
            },
            StoreError::Conflict {
                constraint: Constraint::ExternalRef,
            } => Self::Conflict {
                code: "external-ref-taken",
                detail: "another expert of the firm has this externalRef".into(),
            },
            StoreError::Conflict { constraint } => Self::Conflict {
                code: "conflict",
                detail: format!("the change conflicts with existing data ({constraint})"),
            },
            other => Self::Internal(other.into()),
        }
    }
}

impl From<crate::store::BookError> for ApiError {
    fn from(err: crate::store::BookError) -> Self {
        use crate::store::BookError;
        match err {
            BookError::SlotUnavailable => Self::SlotUnavailable,
            BookError::AppointmentExists(id) => Self::AppointmentExists(id),
            BookError::KeyTaken => Self::IdempotencyKeyInFlight,
            BookError::Store(err) => err.into(),
        }
    }
}

impl From<crate::service::Error> for ApiError {
    fn from(err: crate::service::Error) -> Self {
        use crate::service::Error;
        match err {
            Error::Invalid(invalid) => Self::Validation(
                invalid
                    .into_iter()
                    .map(|i| FieldProblem {
                        pointer: i.pointer,
                        detail: i.detail,
                    })
                    .collect(),
            ),
            Error::SlotUnavailable => Self::SlotUnavailable,
            Error::InvalidSlot => Self::InvalidSlot,
            Error::SlotExpired => Self::SlotExpired,
            Error::AppointmentExists(id) => Self::AppointmentExists(id),
            Error::AbsenceOverAppointments(ids) => Self::AbsenceOverAppointments(ids),
            Error::KeyTaken => Self::IdempotencyKeyInFlight,
            Error::Upload(err) => err.into(),
            // A staged file we cannot read again is our disk's fault, not the scanner's.
            Error::ScanFailed(crate::scan::ScanError::File(err)) => Self::Internal(err.into()),
            Error::ScanFailed(_) => Self::ScanFailed,
            err @ (Error::Infected { .. } | Error::UploadInfected) => {
                Self::FileInfected(err.to_string())
            }
            err @ Error::NotStarted(_) => Self::Conflict {
                code: "appointment-not-started",
                detail: err.to_string(),
            },
            err @ Error::NotCompleted => Self::Conflict {
                code: "appointment-not-completed",
                detail: err.to_string(),
            },
            Error::FileTooBig(limit) => Self::FileTooBig(limit),
            Error::ContentTypeNotAllowed(detail) => Self::AttachmentRejected {
                code: "content-type-not-allowed",
                detail,
            },
            Error::UnknownUpload(field) => Self::UnknownUpload(field),
            Error::SettlementExists(id) => Self::SettlementExists(id),
            Error::Refused {
                code,
                pointer,
                detail,
            } => Self::Refused {
                code,
                pointer,
                detail,
            },
            Error::Store(err) => err.into(),
            Error::Internal(err) => Self::Internal(err),
        }
    }
}

impl From<crate::fetch::IngestError> for ApiError {
    fn from(err: crate::fetch::IngestError) -> Self {
        use crate::fetch::{IngestError, RejectReason};
        match err {
            IngestError::Rejected(rejection) if rejection.reason == RejectReason::TooLarge => {
                Self::PayloadTooLarge
            }
            IngestError::Rejected(rejection) => Self::AttachmentRejected {
                code: rejection.reason.code(),
                detail: rejection.detail,
            },
            IngestError::Source(err) => Self::MalformedBody(format!("reading the upload: {err}")),
            IngestError::Io(err) => Self::Internal(err.into()),
        }
    }
}

impl From<Invalid> for ApiError {
    fn from(invalid: Invalid) -> Self {
        Self::invalid(invalid.pointer, invalid.detail)
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn retry_after(wait: Duration) -> u64 {
        match ApiError::rate_limited(wait) {
            ApiError::RateLimited { retry_after } => retry_after,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_rate_limit_asks_for_whole_seconds_rounded_up_and_at_least_one() {
        assert_eq!(retry_after(Duration::ZERO), 1);
        assert_eq!(retry_after(Duration::from_millis(5)), 1);
        assert_eq!(retry_after(Duration::from_secs(1)), 1);
        assert_eq!(retry_after(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after(Duration::from_secs(7)), 7);
    }

    #[test]
    fn a_rate_limit_answers_429_with_retry_after() {
        let response = ApiError::rate_limited(Duration::from_millis(2500)).into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "3");
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }
}
