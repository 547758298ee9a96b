//! Attachment download and blob storage.
//!
//! Claims IA sends dossiers with attachment URLs; a background job downloads each one with
//! [`Fetcher::fetch`] into a [`BlobStore`]. Direct uploads go through the same content checks
//! with [`ingest_stream`], [`check_stream`] or [`BlobWriter`].
//!
//! # Threat model
//!
//! The URLs come from a partner system and must be treated as attacker-controlled: a
//! compromised or careless sender can point them at our own network (server-side request
//! forgery). The defences, in order:
//!
//! - **Scheme.** Only `https`, except on origins the operator allow-lists
//!   ([`FetchPolicy::allowed_origins`]), which may be plain `http`.
//! - **Address.** The service must never connect to a non-public address — loopback,
//!   RFC 1918 private, link-local (cloud metadata at 169.254.169.254), CGNAT, unique-local,
//!   multicast, documentation and other special blocks, nor IPv6 forms embedding them
//!   (`::ffff:127.0.0.1`, `64:ff9b::7f00:1`); see [`address_block`]. IP literals are
//!   checked after URL parsing, so `https://0x7f000001/` and `https://2130706433/` are seen
//!   as the 127.0.0.1 they are. Host names are resolved by our own resolver, which drops
//!   non-public addresses, and the client connects to exactly the addresses it returned: a
//!   second, differently answered lookup (DNS rebinding) cannot happen.
//! - **Redirects.** Every hop goes through the same checks, and their number is capped.
//!   Allow-listed origins may be private, but a redirect from one to any other private URL is
//!   refused.
//! - **Proxies** from the environment are ignored, since a proxy would resolve names itself.
//! - **Size.** The body is streamed to a staging file and cut off at the first byte past
//!   [`FetchPolicy::max_bytes`] (at once when `Content-Length` announces too much); it is
//!   never held in memory. No content decoding is enabled, so compressed bombs do not apply.
//! - **Type.** The declared `Content-Type` is not trusted: the stored type is sniffed from
//!   the first bytes ([`sniff`]) and must be in [`FetchPolicy::allowed_content_types`].
//! - **Time.** Connect and total timeouts bound a slow or stalling server.
//! - **Viruses.** With a scanner ([`Fetcher::with_scanner`]), a body of an allowed type is
//!   scanned by clamd before it is stored ([`crate::scan`]); an infected one is refused.
//!
//! Not covered: malicious content no signature of the scanner knows (or any content, when
//! no scanner is configured), and allow-listed origins, which are trusted by definition.
//!
//! # Use
//!
//! [`Fetcher::fetch`] is called by the fetch worker (`crate::jobs::fetch`) for each queued
//! attachment URL; [`check_stream`] by the upload use case
//! (`POST /v1/appointments/{id}/attachments`) for the `file` part of a multipart body, which
//! it scans before storing. Both end in a [`StoredBlob`] or a [`Rejection`] whose
//! [`RejectReason::code`] is the wire code.
//!
//! # Outcomes
//!
//! [`FetchOutcome::Rejected`] is a policy decision and permanent (no retry);
//! [`FetchOutcome::Failed`] carries [`Failure::retryable`]: network errors, DNS failures,
//! timeouts, 5xx, 408 and 429 are retryable, other 4xx are not.

mod addr;
mod blob;
mod download;
mod guard;
mod outcome;
mod policy;
mod sniff;
mod text;

#[cfg(test)]
mod tests;

pub use addr::{address_block, is_public_address};
pub use blob::{
    BlobKey, BlobStore, BlobWriter, BoxError, CheckedBlob, FsBlobStore, IngestError, OpenBlob,
    StagingFile, StoredBlob, TEXT_PLAIN, TempPath, check_stream, ingest_stream,
};
pub use download::{Fetcher, FetcherBuildError, error_chain};
pub use outcome::{Failure, FetchOutcome, RejectReason, Rejection};
pub use policy::{
    AllowedOrigin, DEFAULT_CONTENT_TYPES, DEFAULT_MAX_BYTES, FetchPolicy, InvalidOrigin,
};
pub use sniff::{SNIFF_LEN, sniff};
