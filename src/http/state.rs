//! Shared state of the HTTP layer: one cloneable struct, read via `State`.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret as _;

use crate::auth::{Throttle, TokenKeys, random_token};
use crate::clock::Clock;
use crate::config::{RateLimitArgs, ServerConfig};
use crate::rate_limit::RateLimiter;
use crate::service::Service;
use crate::store::Store;

/// Everything handlers need.
#[derive(Clone)]
pub struct AppState {
    /// The operations.
    pub service: Arc<Service>,
    /// Firm access token keys.
    pub tokens: Arc<TokenKeys>,
    /// What holds back the token endpoint.
    pub throttle: Arc<TokenThrottle>,
    /// Request rates of the authenticated callers.
    pub limits: Arc<RateLimits>,
    /// Settings.
    pub config: Arc<ServerConfig>,
}

/// Failures allowed per client id and address before the token endpoint locks that address
/// out of that client.
const MAX_FAILED_SECRETS: u32 = 5;
/// Failures of any kind allowed per address before the token endpoint locks it out.
const MAX_FAILURES_PER_SOURCE: u32 = 30;
/// How long those failures count, and the lock-out lasts.
const FAILED_SECRET_WINDOW: Duration = Duration::from_secs(300);
/// Password checks at once.
const CONCURRENT_PASSWORD_CHECKS: usize = 1;

/// What holds back the token endpoint: lock-outs of bad secrets per client id and address,
/// of failures per address, and a bound on the password checks running at once.
pub struct TokenThrottle {
    /// Failures per `"{address} {client id}"`.
    pub clients: Throttle,
    /// Failures per address.
    pub sources: Throttle,
    /// Password checks at once.
    pub checks: tokio::sync::Semaphore,
}

/// Request rates allowed per Claims IA client and per firm (`None`: no limit), in this
/// instance's memory.
pub struct RateLimits {
    /// Per Claims IA client id, on `/v1`.
    pub clients: Option<RateLimiter>,
    /// Per firm id, on `/admin/v1`.
    pub firms: Option<RateLimiter>,
}

impl RateLimits {
    fn new(config: RateLimitArgs, clock: &Clock) -> Self {
        Self {
            clients: config
                .clients()
                .map(|quota| RateLimiter::new(quota, clock.clone())),
            firms: config
                .firms()
                .map(|quota| RateLimiter::new(quota, clock.clone())),
        }
    }
}

impl AppState {
    /// Builds the state on the system clock.
    pub async fn new(store: Arc<dyn Store>, config: ServerConfig) -> anyhow::Result<Self> {
        Self::with_clock(store, config, Clock::system()).await
    }

    /// Builds the state on `clock`; the token signing key comes from the configuration or,
    /// when absent, from the database (generated once, shared by every instance).
    pub async fn with_clock(
        store: Arc<dyn Store>,
        config: ServerConfig,
        clock: Clock,
    ) -> anyhow::Result<Self> {
        let secret = match &config.jwt_secret {
            Some(secret) => secret.expose_secret().to_owned(),
            None => {
                store
                    .server_secret("jwt-signing-key", &random_token(48))
                    .await?
            }
        };
        let service = Service::new(Arc::clone(&store), &config, clock.clone()).await?;
        Ok(Self {
            service: Arc::new(service),
            tokens: Arc::new(TokenKeys::new(
                secret.as_bytes(),
                Duration::from_secs(config.token_ttl_secs),
                clock.clone(),
            )),
            limits: Arc::new(RateLimits::new(config.rate_limits, &clock)),
            throttle: Arc::new(TokenThrottle {
                clients: Throttle::new(MAX_FAILED_SECRETS, FAILED_SECRET_WINDOW, clock.clone()),
                sources: Throttle::new(MAX_FAILURES_PER_SOURCE, FAILED_SECRET_WINDOW, clock),
                checks: tokio::sync::Semaphore::new(CONCURRENT_PASSWORD_CHECKS),
            }),
            config: Arc::new(config),
        })
    }
}
