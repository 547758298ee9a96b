//! Shared state of the HTTP layer: one cloneable struct, read via `State`.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret as _;

use crate::auth::{Throttle, TokenKeys, random_token};
use crate::clock::Clock;
use crate::config::ServerConfig;
use crate::service::Service;
use crate::store::Store;

/// Everything handlers need.
#[derive(Clone)]
pub struct AppState {
    /// The operations.
    pub service: Arc<Service>,
    /// Firm access token keys.
    pub tokens: Arc<TokenKeys>,
    /// Lock-out of clients presenting bad secrets.
    pub throttle: Arc<Throttle>,
    /// Settings.
    pub config: Arc<ServerConfig>,
}

/// Failures allowed per client id before the token endpoint locks it out.
const MAX_FAILED_SECRETS: u32 = 5;
/// How long those failures count, and the lock-out lasts.
const FAILED_SECRET_WINDOW: Duration = Duration::from_secs(300);

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
            throttle: Arc::new(Throttle::new(
                MAX_FAILED_SECRETS,
                FAILED_SECRET_WINDOW,
                clock,
            )),
            config: Arc::new(config),
        })
    }
}
