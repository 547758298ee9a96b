//! The SSRF guard: URL checks before any connection, the filtering DNS resolver and the
//! redirect policy.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use super::addr::address_block;
use super::outcome::{RejectReason, Rejection};
use super::policy::FetchPolicy;

/// Shared by the pre-flight check, the resolver and the redirect policy.
#[derive(Debug)]
pub(crate) struct Guard {
    policy: FetchPolicy,
    /// Host names of allow-listed origins; the resolver lets them resolve to anything.
    trusted_domains: HashSet<String>,
}

impl Guard {
    pub(crate) fn new(policy: FetchPolicy) -> Self {
        let trusted_domains = policy
            .allowed_origins
            .iter()
            .filter_map(|origin| origin.domain().map(str::to_owned))
            .collect();
        Self {
            policy,
            trusted_domains,
        }
    }

    pub(crate) fn policy(&self) -> &FetchPolicy {
        &self.policy
    }

    /// Everything that can be decided from the URL alone, for the first request and for
    /// every redirect hop. Named hosts are checked again by [`GuardedResolver`], after
    /// resolution and before connecting.
    pub(crate) fn check_url(&self, url: &Url) -> Result<(), Rejection> {
        if self.policy.origin_allowed(url) {
            return Ok(());
        }
        if url.scheme() != "https" {
            return Err(Rejection::new(
                RejectReason::SchemeNotAllowed,
                format!("{url}: only https is allowed outside allow-listed origins"),
            ));
        }
        // `url` has already normalised `0x7f000001`, `2130706433`, `127.1`, ... into the
        // IPv4 literal they denote, so literal checks see the real address.
        match url.host() {
            None => Err(Rejection::new(
                RejectReason::InvalidUrl,
                format!("{url}: no host"),
            )),
            Some(Host::Ipv4(ip)) => check_literal(url, ip.into()),
            Some(Host::Ipv6(ip)) => check_literal(url, ip.into()),
            Some(Host::Domain(domain)) if self.trusted_domains.contains(domain) => {
                Err(Rejection::new(
                    RejectReason::HostNotAllowed,
                    format!("{url}: host {domain} is allow-listed on other origins only"),
                ))
            }
            Some(Host::Domain(_)) => Ok(()),
        }
    }
}

fn check_literal(url: &Url, ip: std::net::IpAddr) -> Result<(), Rejection> {
    match address_block(ip) {
        None => Ok(()),
        Some(block) => Err(Rejection::new(
            RejectReason::AddressNotAllowed(ip),
            format!("{url}: {ip} is a {block} address"),
        )),
    }
}

/// The client's only resolver. Addresses of hosts outside allow-listed origins are filtered
/// to public ones, and the client connects to exactly the addresses returned here, so there
/// is no second lookup an attacker's DNS could answer differently (DNS rebinding).
///
/// reqwest does not call a resolver for IP-literal hosts: [`Guard::check_url`] covers them.
#[derive(Debug, Clone)]
pub(crate) struct GuardedResolver(pub(crate) Arc<Guard>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = Arc::clone(&self.0);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if guard.trusted_domains.contains(&host) {
                let addrs: Addrs = Box::new(found.into_iter());
                return Ok(addrs);
            }
            let mut refused = None;
            let public: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|addr| match address_block(addr.ip()) {
                    None => true,
                    Some(block) => {
                        refused.get_or_insert((addr.ip(), block));
                        false
                    }
                })
                .collect();
            if let (true, Some((ip, block))) = (public.is_empty(), refused) {
                tracing::warn!(%host, %ip, block, "fetch: host resolves to a non-public address");
                return Err(Rejection::new(
                    RejectReason::AddressNotAllowed(ip),
                    format!("host {host} resolves to {ip}, a {block} address"),
                )
                .into());
            }
            let addrs: Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

/// Redirect policy: each hop passes [`Guard::check_url`], and at most `max_redirects` hops.
pub(crate) fn redirect_policy(guard: Arc<Guard>) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        // `previous` holds the URLs already requested, the first one included.
        let max = guard.policy.max_redirects;
        if attempt.previous().len() > max {
            let rejection = Rejection::new(
                RejectReason::TooManyRedirects,
                format!("more than {max} redirects, last to {}", attempt.url()),
            );
            return attempt.error(rejection);
        }
        match guard.check_url(attempt.url()) {
            Ok(()) => attempt.follow(),
            Err(rejection) => {
                tracing::warn!(detail = %rejection.detail, "fetch: redirect refused");
                attempt.error(rejection)
            }
        }
    })
}
