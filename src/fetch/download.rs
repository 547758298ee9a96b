//! The download step.

use std::error::Error as _;
use std::sync::Arc;

use reqwest::StatusCode;
use url::Url;

use super::blob::{BlobStore, BlobWriter, IngestError};
use super::guard::{Guard, GuardedResolver, redirect_policy};
use super::outcome::{Failure, FetchOutcome, RejectReason, Rejection};
use super::policy::FetchPolicy;
use crate::scan::{Scanner, Verdict};

/// Downloads attachment URLs into a [`BlobStore`] under a [`FetchPolicy`].
///
/// Holds one HTTP client (connection pool, TLS roots) whose DNS resolver and redirect policy
/// enforce the policy; build one at start-up and share it (`Clone` is cheap). With a
/// scanner, every body is scanned before it is stored.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    guard: Arc<Guard>,
    scanner: Option<Scanner>,
}

/// The HTTP client could not be built (TLS set-up).
#[derive(Debug, thiserror::Error)]
#[error("building the download client: {0}")]
pub struct FetcherBuildError(#[from] reqwest::Error);

impl Fetcher {
    /// A fetcher enforcing `policy`.
    pub fn new(policy: FetchPolicy) -> Result<Self, FetcherBuildError> {
        let guard = Arc::new(Guard::new(policy));
        let policy = guard.policy();
        let client = reqwest::Client::builder()
            // A proxy would resolve names itself, out of the guard's sight.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver(Arc::clone(&guard))))
            .redirect(redirect_policy(Arc::clone(&guard)))
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.total_timeout)
            .referer(false)
            .user_agent(concat!("creneau-fetch/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            client,
            guard,
            scanner: None,
        })
    }

    /// The same fetcher, scanning every body with `scanner` before storing it: an infected
    /// one is [`RejectReason::Infected`], a scan that fails is a retryable failure (the body
    /// is never stored unscanned).
    #[must_use]
    pub fn with_scanner(mut self, scanner: Option<Scanner>) -> Self {
        self.scanner = scanner;
        self
    }

    /// The policy enforced.
    pub fn policy(&self) -> &FetchPolicy {
        self.guard.policy()
    }

    /// The refusal of `url` when it follows from the URL alone (scheme, literal address,
    /// host): what [`Fetcher::fetch`] would answer without connecting. Named hosts pass
    /// here; their addresses are checked when the download resolves them.
    pub fn precheck(&self, url: &str) -> Option<Rejection> {
        match Url::parse(url) {
            Ok(url) => self.guard.check_url(&url).err(),
            Err(err) => Some(Rejection::new(
                RejectReason::InvalidUrl,
                format!("{url:?}: {err}"),
            )),
        }
    }

    /// Whether `url` may be reached now: the checks of every request, and its name resolved
    /// to public addresses only (allow-listed origins aside). No connection is made.
    pub async fn check_destination(&self, url: &str) -> Result<(), Rejection> {
        let parsed = Url::parse(url)
            .map_err(|err| Rejection::new(RejectReason::InvalidUrl, format!("{url:?}: {err}")))?;
        self.guard.check_url(&parsed)?;
        if self.guard.policy().origin_allowed(&parsed) {
            return Ok(());
        }
        let Some(url::Host::Domain(domain)) = parsed.host() else {
            return Ok(());
        };
        let port = parsed.port_or_known_default().unwrap_or(443);
        let addresses: Vec<_> = tokio::net::lookup_host((domain, port))
            .await
            .map_err(|err| {
                Rejection::new(RejectReason::HostNotAllowed, format!("{domain}: {err}"))
            })?
            .collect();
        if addresses.is_empty() {
            return Err(Rejection::new(
                RejectReason::HostNotAllowed,
                format!("{domain} has no address"),
            ));
        }
        for address in addresses {
            if let Some(block) = super::address_block(address.ip()) {
                return Err(Rejection::new(
                    RejectReason::AddressNotAllowed(address.ip()),
                    format!("{domain} resolves to {}, a {block} address", address.ip()),
                ));
            }
        }
        Ok(())
    }

    /// A POST to `url` through the guard (a firm's webhook): refused, without any
    /// connection, when the URL may not be reached; names are resolved by the guarded
    /// resolver and every redirect hop is checked again.
    pub fn post(&self, url: &str) -> Result<reqwest::RequestBuilder, Rejection> {
        let url = Url::parse(url)
            .map_err(|err| Rejection::new(RejectReason::InvalidUrl, format!("{url:?}: {err}")))?;
        self.guard.check_url(&url)?;
        Ok(self.client.post(url))
    }

    /// Downloads `url` into `store`. Never panics and never returns an error: every way it
    /// can end is a [`FetchOutcome`].
    pub async fn fetch(&self, url: &str, store: &dyn BlobStore) -> FetchOutcome {
        let url = match Url::parse(url) {
            Ok(url) => url,
            Err(err) => {
                return FetchOutcome::Rejected(Rejection::new(
                    RejectReason::InvalidUrl,
                    format!("{url:?}: {err}"),
                ));
            }
        };
        if let Err(rejection) = self.guard.check_url(&url) {
            tracing::warn!(detail = %rejection.detail, "fetch: URL refused");
            return FetchOutcome::Rejected(rejection);
        }
        let mut response = match self.client.get(url.clone()).send().await {
            Ok(response) => response,
            Err(err) => return outcome_of_error(&err),
        };
        let status = response.status();
        if !status.is_success() {
            let retryable = status.is_server_error()
                || status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::REQUEST_TIMEOUT;
            return FetchOutcome::Failed(Failure {
                retryable,
                status: Some(status.as_u16()),
                detail: format!("{}: HTTP {status}", response.url()),
            });
        }
        let policy = self.guard.policy();
        if let Some(declared) = response.content_length()
            && declared > policy.max_bytes
        {
            return FetchOutcome::Rejected(Rejection::new(
                RejectReason::TooLarge,
                format!(
                    "Content-Length {declared} exceeds the limit of {} bytes",
                    policy.max_bytes
                ),
            ));
        }
        let declared_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("none")
            .to_owned();
        let mut writer = match BlobWriter::new(store, policy).await {
            Ok(writer) => writer,
            Err(err) => return FetchOutcome::failed(true, format!("staging the body: {err}")),
        };
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if let Err(err) = writer.write_chunk(&chunk).await {
                        return outcome_of_ingest(err, &declared_type);
                    }
                }
                Ok(None) => break,
                Err(err) => return outcome_of_error(&err),
            }
        }
        let checked = match writer.check().await {
            Ok(checked) => checked,
            Err(err) => return outcome_of_ingest(err, &declared_type),
        };
        if let Some(scanner) = &self.scanner {
            match scanner.scan_file(checked.path()).await {
                Ok(Verdict::Clean) => {}
                Ok(Verdict::Infected { signature }) => {
                    return FetchOutcome::Rejected(Rejection::new(
                        RejectReason::Infected,
                        format!("virus signature {signature}"),
                    ));
                }
                Err(err) => return FetchOutcome::failed(true, format!("virus scan: {err}")),
            }
        }
        match checked.store().await {
            Ok(blob) => FetchOutcome::Stored(blob),
            Err(err) => FetchOutcome::failed(true, format!("storing the body: {err}")),
        }
    }
}

fn outcome_of_ingest(err: IngestError, declared_type: &str) -> FetchOutcome {
    match err {
        IngestError::Rejected(mut rejection) => {
            if rejection.reason == RejectReason::ContentTypeNotAllowed {
                rejection.detail = format!("{} (declared {declared_type})", rejection.detail);
            }
            FetchOutcome::Rejected(rejection)
        }
        other => FetchOutcome::failed(true, other.to_string()),
    }
}

/// What went wrong with a request, its causes included (a refusal of the guard's
/// resolver or redirect policy shows as one).
pub fn error_chain(err: &reqwest::Error) -> String {
    let mut chain = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    chain
}

/// A refusal raised inside the client (resolver, redirect policy) travels as the source of
/// its error; anything else is a transport failure, worth retrying.
fn outcome_of_error(err: &reqwest::Error) -> FetchOutcome {
    let mut source = err.source();
    let mut chain = err.to_string();
    while let Some(cause) = source {
        if let Some(rejection) = cause.downcast_ref::<Rejection>() {
            return FetchOutcome::Rejected(rejection.clone());
        }
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    if err.is_timeout() {
        chain.push_str(" (timed out)");
    }
    FetchOutcome::failed(true, chain)
}
