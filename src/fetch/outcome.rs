//! What a download or an upload comes to.

use std::fmt;
use std::net::IpAddr;

use super::blob::StoredBlob;

/// Why the policy refused a URL or a body. Refusals are permanent: retrying the same input
/// gives the same answer, so a job queue must not retry them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectReason {
    /// The URL does not parse or has no host.
    InvalidUrl,
    /// The scheme is not `https` and the origin is not allow-listed.
    SchemeNotAllowed,
    /// The host is allow-listed, but only on other origins (scheme or port).
    HostNotAllowed,
    /// The host is, or resolves only to, a non-public address (loopback, private,
    /// link-local, ...).
    AddressNotAllowed(IpAddr),
    /// More redirects than [`super::FetchPolicy::max_redirects`].
    TooManyRedirects,
    /// The body is larger than [`super::FetchPolicy::max_bytes`] (declared or counted).
    TooLarge,
    /// The content, sniffed from its first bytes, is not of an allowed type (or of no
    /// recognised type at all).
    ContentTypeNotAllowed,
    /// The virus scanner found a signature in the content.
    Infected,
}

impl RejectReason {
    /// Stable machine code, e.g. `"address-not-allowed"`, for storage and the wire.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidUrl => "invalid-url",
            Self::SchemeNotAllowed => "scheme-not-allowed",
            Self::HostNotAllowed => "host-not-allowed",
            Self::AddressNotAllowed(_) => "address-not-allowed",
            Self::TooManyRedirects => "too-many-redirects",
            Self::TooLarge => "too-large",
            Self::ContentTypeNotAllowed => "content-type-not-allowed",
            Self::Infected => "infected",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// A refusal by policy: the reason and a human-readable detail (for logs and operators; it
/// may contain the URL, so keep it out of public error bodies if URLs are secret).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {detail}")]
pub struct Rejection {
    /// The machine-readable reason.
    pub reason: RejectReason,
    /// What exactly was refused.
    pub detail: String,
}

impl Rejection {
    pub(crate) fn new(reason: RejectReason, detail: impl Into<String>) -> Self {
        Self {
            reason,
            detail: detail.into(),
        }
    }
}

/// A download that did not complete for reasons outside the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// `true` for network errors, DNS failures, timeouts, HTTP 5xx, 408 and 429: try again
    /// later. `false` for other HTTP 4xx and unfollowed 3xx: the URL itself is bad.
    pub retryable: bool,
    /// The HTTP status, when the server answered with one that is not a success.
    pub status: Option<u16>,
    /// What went wrong.
    pub detail: String,
}

/// The result of [`super::Fetcher::fetch`].
#[derive(Debug)]
#[must_use]
pub enum FetchOutcome {
    /// The body passed every check and is in the blob store.
    Stored(StoredBlob),
    /// The policy refused the URL or the body; permanent, do not retry.
    Rejected(Rejection),
    /// The download failed; see [`Failure::retryable`].
    Failed(Failure),
}

impl FetchOutcome {
    pub(crate) fn failed(retryable: bool, detail: impl Into<String>) -> Self {
        Self::Failed(Failure {
            retryable,
            status: None,
            detail: detail.into(),
        })
    }

    /// The rejection reason, if the outcome is a rejection.
    pub fn reject_reason(&self) -> Option<RejectReason> {
        match self {
            Self::Rejected(rejection) => Some(rejection.reason),
            _ => None,
        }
    }
}
