//! Shared state of the HTTP layer: one cloneable struct, read via `State`.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret as _;

use super::auth::ApiClientCache;
use super::calendars::CalendarCache;
use super::directory::DirectoryCache;
use super::protocol::slot_token::SlotSigner;
use crate::auth::{Throttle, TokenKeys, random_token};
use crate::config::ServerConfig;
use crate::jobs::Jobs;
use crate::store::Store;

/// Everything handlers need.
#[derive(Clone)]
pub struct AppState {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// Firm access token keys.
    pub tokens: Arc<TokenKeys>,
    /// Lock-out of clients presenting bad secrets.
    pub throttle: Arc<Throttle>,
    /// Settings.
    pub config: Arc<ServerConfig>,
    /// Directory of active experts for slot searches.
    pub directory: Arc<DirectoryCache>,
    /// Signs and checks slot ids.
    pub slots: Arc<SlotSigner>,
    /// Document downloads, blobs and webhooks.
    pub jobs: Arc<Jobs>,
    /// Expert calendars for slot searches.
    pub calendars: Arc<CalendarCache>,
    /// Claims IA clients, for API key checks.
    pub api_clients: Arc<ApiClientCache>,
}

/// Failures allowed per client id before the token endpoint locks it out.
const MAX_FAILED_SECRETS: u32 = 5;
/// How long those failures count, and the lock-out lasts.
const FAILED_SECRET_WINDOW: Duration = Duration::from_secs(300);

impl AppState {
    /// Builds the state; the token signing key comes from the configuration or, when
    /// absent, from the database (generated once, shared by every instance).
    pub async fn new(store: Arc<dyn Store>, config: ServerConfig) -> anyhow::Result<Self> {
        let secret = match &config.jwt_secret {
            Some(secret) => secret.expose_secret().to_owned(),
            None => {
                store
                    .server_secret("jwt-signing-key", &random_token(48))
                    .await?
            }
        };
        let slot_key = store
            .server_secret("slot-signing-key", &random_token(48))
            .await?;
        let calendars = CalendarCache::new(Duration::from_millis(config.calendar_cache_ms));
        let calendars = super::announce::start(
            &store,
            calendars,
            Duration::from_millis(config.calendar_cache_announced_ms),
        )
        .await?;
        Ok(Self {
            jobs: Arc::new(Jobs::new(&config.jobs)?),
            calendars,
            directory: Arc::new(DirectoryCache::default()),
            api_clients: Arc::new(ApiClientCache::new(config.search_cache())),
            slots: Arc::new(SlotSigner::new(slot_key.as_bytes())),
            tokens: Arc::new(TokenKeys::new(
                secret.as_bytes(),
                Duration::from_secs(config.token_ttl_secs),
            )),
            throttle: Arc::new(Throttle::new(MAX_FAILED_SECRETS, FAILED_SECRET_WINDOW)),
            store,
            config: Arc::new(config),
        })
    }
}
