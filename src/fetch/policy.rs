//! Operator configuration of downloads and uploads.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use url::Url;

/// Default size cap: 20 MiB.
pub const DEFAULT_MAX_BYTES: u64 = 20 * 1024 * 1024;

/// Types accepted by default: photos, scans and short videos of a claim.
pub const DEFAULT_CONTENT_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "image/heic",
    "image/tiff",
    "application/pdf",
    "video/mp4",
    "video/quicktime",
];

/// What a download or an upload is allowed to be and to reach.
#[derive(Debug, Clone)]
pub struct FetchPolicy {
    /// Largest accepted body, in bytes. A body with one byte more is rejected.
    pub max_bytes: u64,
    /// MIME types (as found by [`super::sniff`], never as declared) that are stored.
    pub allowed_content_types: Vec<String>,
    /// Origins the operator trusts explicitly. A URL on one of these origins may use plain
    /// `http` and may resolve to a private or loopback address; every other URL must be
    /// `https` to a public address. A host named here is reachable only through the origins
    /// listed for it (the same host on another port or scheme is refused).
    pub allowed_origins: Vec<AllowedOrigin>,
    /// Limit on establishing the TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Limit on the whole download, from connecting to the last byte of the body.
    pub total_timeout: Duration,
    /// Redirects followed at most; one more is [`super::RejectReason::TooManyRedirects`].
    pub max_redirects: usize,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            allowed_content_types: DEFAULT_CONTENT_TYPES
                .iter()
                .map(|&t| t.to_owned())
                .collect(),
            allowed_origins: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(120),
            max_redirects: 3,
        }
    }
}

impl FetchPolicy {
    /// `true` when the sniffed type `mime` may be stored (ASCII case-insensitive).
    pub fn content_type_allowed(&self, mime: &str) -> bool {
        self.allowed_content_types
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(mime))
    }

    /// `true` when the origin (scheme, host, port) of `url` is allow-listed.
    pub fn origin_allowed(&self, url: &Url) -> bool {
        let origin = url.origin();
        self.allowed_origins
            .iter()
            .any(|allowed| allowed.0 == origin)
    }
}

/// An allow-listed origin: scheme (`http` or `https`), host and port, e.g.
/// `http://127.0.0.1:4567` or `https://docs.insurer.internal`. Parse it with [`str::parse`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedOrigin(url::Origin);

impl AllowedOrigin {
    /// The host name when the origin names a host rather than an IP literal, lower-cased as
    /// URLs normalise it.
    pub(crate) fn domain(&self) -> Option<&str> {
        match &self.0 {
            url::Origin::Tuple(_, url::Host::Domain(domain), _) => Some(domain),
            _ => None,
        }
    }
}

impl fmt::Display for AllowedOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.ascii_serialization())
    }
}

/// Why a string is not an origin that can be allow-listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid allow-listed origin {input:?}: {why}")]
pub struct InvalidOrigin {
    /// The string given.
    pub input: String,
    /// What is wrong with it.
    pub why: &'static str,
}

impl FromStr for AllowedOrigin {
    type Err = InvalidOrigin;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let invalid = |why| InvalidOrigin {
            input: input.to_owned(),
            why,
        };
        let url = Url::parse(input).map_err(|_| invalid("not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("scheme must be http or https"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid("must not carry credentials"));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(invalid("must be scheme://host[:port] only, without a path"));
        }
        Ok(Self(url.origin()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse_and_match() {
        let policy = FetchPolicy {
            allowed_origins: vec![
                "http://127.0.0.1:4567".parse().unwrap(),
                "https://Docs.Insurer.Internal/".parse().unwrap(),
            ],
            ..FetchPolicy::default()
        };
        let allowed = |u: &str| policy.origin_allowed(&Url::parse(u).unwrap());
        assert!(allowed("http://127.0.0.1:4567/a/b?c"));
        assert!(!allowed("http://127.0.0.1:4568/a"));
        assert!(!allowed("https://127.0.0.1:4567/a"));
        assert!(allowed("https://docs.insurer.internal/x.pdf"));
        assert!(allowed("https://docs.insurer.internal:443/x.pdf"));
        assert!(!allowed("https://docs.insurer.internal:8443/x.pdf"));
        assert!(!allowed("http://docs.insurer.internal/x.pdf"));
        assert_eq!(
            policy.allowed_origins[1].domain(),
            Some("docs.insurer.internal")
        );
        assert_eq!(policy.allowed_origins[0].domain(), None);
        assert_eq!(
            policy.allowed_origins[1].to_string(),
            "https://docs.insurer.internal"
        );

        for bad in [
            "127.0.0.1:4567",
            "ftp://example.com",
            "https://u:p@example.com",
            "https://example.com/path",
            "https://example.com/?q",
        ] {
            assert!(bad.parse::<AllowedOrigin>().is_err(), "{bad}");
        }
    }

    #[test]
    fn content_types_case_insensitive() {
        let policy = FetchPolicy::default();
        assert!(policy.content_type_allowed("image/png"));
        assert!(policy.content_type_allowed("Application/PDF"));
        assert!(!policy.content_type_allowed("text/html"));
        assert!(!policy.content_type_allowed("image/avif"));
        assert_eq!(policy.max_bytes, 20 * 1024 * 1024);
    }
}
