//! Credentials: Claims IA API keys (sha256-hashed, compared in constant time), firm client
//! secrets (argon2), firm access tokens (HS256 JWT), and the throttle on bad secrets.
//! Nothing here knows about HTTP.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::clock::Clock;

/// Random bytes, URL-safe base64.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// sha256 of a secret token (enough for 256-bit random secrets; no need for argon2).
pub fn sha256(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A freshly minted API key: the public client id and the full key (shown once).
pub struct NewApiKey {
    /// Client id, also embedded in the key.
    pub client_id: String,
    /// `crn_<client id>_<secret>`.
    pub key: String,
}

const API_KEY_PREFIX: &str = "crn_";

/// Mints an API key for a new Claims IA client.
pub fn new_api_key() -> NewApiKey {
    let client_id = format!("cia_{}", random_hex(8));
    // Hex secret: no `_`, so the key splits unambiguously on its last underscore.
    let key = format!("{API_KEY_PREFIX}{client_id}_{}", random_hex(32));
    NewApiKey { client_id, key }
}

/// The client id embedded in an API key, if the key is well-formed.
pub fn api_key_client_id(key: &str) -> Option<&str> {
    let rest = key.strip_prefix(API_KEY_PREFIX)?;
    let (client_id, secret) = rest.rsplit_once('_')?;
    (!client_id.is_empty() && !secret.is_empty()).then_some(client_id)
}

/// Constant-time comparison of a presented key with a stored hash.
pub fn api_key_matches(key: &str, stored_hash: &[u8]) -> bool {
    bool::from(sha256(key).ct_eq(stored_hash))
}

/// A freshly minted firm credential (the secret is shown once).
pub struct NewFirmSecret {
    /// Public client id.
    pub client_id: String,
    /// One-time secret.
    pub secret: String,
    /// argon2 PHC string to store.
    pub hash: String,
}

/// Mints a firm client credential.
pub fn new_firm_secret() -> anyhow::Result<NewFirmSecret> {
    let secret = random_token(32);
    Ok(NewFirmSecret {
        client_id: format!("firm_{}", random_hex(8)),
        hash: hash_secret(&secret)?,
        secret,
    })
}

fn hash_secret(secret: &str) -> anyhow::Result<String> {
    let salt = SaltString::encode_b64(&{
        let mut salt = [0u8; 16];
        rand::rng().fill_bytes(&mut salt);
        salt
    })
    .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    Ok(Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
        .to_string())
}

/// Verifies a secret against an argon2 PHC string (CPU-heavy: call off the async threads).
pub fn verify_secret(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| {
        Argon2::default()
            .verify_password(secret.as_bytes(), &hash)
            .is_ok()
    })
}

/// Claims of a firm access token.
#[derive(Debug, Serialize, Deserialize)]
pub struct FirmClaims {
    /// Firm id.
    pub sub: String,
    /// Client id of the credential the token was issued for (checked on every request,
    /// so a revoked credential's tokens stop working at once).
    pub cid: String,
    /// Audience, always [`AUDIENCE`].
    pub aud: String,
    /// Issuer, always [`ISSUER`].
    pub iss: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Not before (Unix seconds), when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

const AUDIENCE: &str = "creneau-admin";
const ISSUER: &str = "creneau";
/// Longest token lifetime.
pub const MAX_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// Signs and checks firm access tokens.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
    clock: Clock,
}

impl TokenKeys {
    /// Keys from a secret (at least 32 bytes) and a lifetime (capped at one hour).
    pub fn new(secret: &[u8], ttl: Duration, clock: Clock) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl: ttl.min(MAX_TOKEN_TTL),
            clock,
        }
    }

    /// Token lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Issues a token for a firm's credential.
    pub fn issue(&self, firm_id: &str, client_id: &str) -> anyhow::Result<String> {
        let now = self.clock.now().timestamp();
        let claims = FirmClaims {
            sub: firm_id.to_owned(),
            cid: client_id.to_owned(),
            aud: AUDIENCE.into(),
            iss: ISSUER.into(),
            iat: now,
            exp: now + i64::try_from(self.ttl.as_secs())?,
            nbf: None,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &self.encoding,
        )?)
    }

    /// The firm id and credential client id of a valid token: signed by us, for us, issued
    /// in the past for at most [`MAX_TOKEN_TTL`], unexpired and already valid by this key's
    /// clock.
    pub fn verify(&self, token: &str) -> Option<(String, String)> {
        const LEEWAY: i64 = 5;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        // Times are checked below against the injected clock.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
        let claims = jsonwebtoken::decode::<FirmClaims>(token, &self.decoding, &validation)
            .ok()?
            .claims;
        let now = self.clock.now().timestamp();
        let longest = i64::try_from(MAX_TOKEN_TTL.as_secs()).unwrap_or(i64::MAX);
        let valid = claims.exp > now - LEEWAY
            && claims.iat <= now + LEEWAY
            && claims.exp - claims.iat <= longest
            && claims.nbf.is_none_or(|nbf| nbf <= now + LEEWAY);
        valid.then_some((claims.sub, claims.cid))
    }
}

/// Counts failed secrets per client id and locks a client out for a while after too many.
pub struct Throttle {
    max_failures: u32,
    window: Duration,
    /// Failures of each client id since when, as [`Clock::elapsed`].
    state: Mutex<HashMap<String, (u32, Duration)>>,
    clock: Clock,
}

/// Most client ids tracked at once (unknown ids are tracked too).
const THROTTLE_CAPACITY: usize = 10_000;

impl Throttle {
    /// Allows `max_failures` failures per `window`.
    pub fn new(max_failures: u32, window: Duration, clock: Clock) -> Self {
        Self {
            max_failures,
            window,
            state: Mutex::new(HashMap::new()),
            clock,
        }
    }

    /// `Some(seconds to wait)` when the client is locked out.
    pub fn check(&self, client_id: &str) -> Option<u64> {
        let state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (failures, since) = state.get(client_id)?;
        let elapsed = self.clock.elapsed().saturating_sub(*since);
        (*failures >= self.max_failures && elapsed < self.window)
            .then(|| self.window.saturating_sub(elapsed).as_secs().max(1))
    }

    /// Records a failed attempt.
    pub fn failed(&self, client_id: &str) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = self.clock.elapsed();
        if state.len() >= THROTTLE_CAPACITY {
            let window = self.window;
            state.retain(|_, (_, since)| now.saturating_sub(*since) < window);
        }
        let entry = state.entry(client_id.to_owned()).or_insert((0, now));
        if now.saturating_sub(entry.1) >= self.window {
            *entry = (0, now);
        }
        entry.0 += 1;
    }

    /// Forgets the failures of a client that just succeeded.
    pub fn succeeded(&self, client_id: &str) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.remove(client_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_api_key_carries_its_client_id() {
        let minted = new_api_key();
        assert_eq!(
            api_key_client_id(&minted.key),
            Some(minted.client_id.as_str())
        );
        assert!(api_key_matches(&minted.key, &sha256(&minted.key)));
        assert!(!api_key_matches(
            &format!("{}x", minted.key),
            &sha256(&minted.key)
        ));
    }

    #[test]
    fn a_malformed_api_key_has_no_client_id() {
        assert_eq!(api_key_client_id("Bearer nope"), None);
        assert_eq!(api_key_client_id("crn_"), None);
    }

    #[test]
    fn a_firm_secret_verifies_only_itself() {
        let minted = new_firm_secret().unwrap();
        assert!(verify_secret(&minted.secret, &minted.hash));
        assert!(!verify_secret("wrong", &minted.hash));
    }

    #[test]
    fn a_token_names_its_firm_and_a_forged_one_is_refused() {
        let keys = TokenKeys::new(&[7u8; 32], Duration::from_secs(600), Clock::system());
        let token = keys.issue("firm-1", "c1").unwrap();
        assert_eq!(keys.verify(&token), Some(("firm-1".into(), "c1".into())));
        let other = TokenKeys::new(&[8u8; 32], Duration::from_secs(600), Clock::system());
        assert_eq!(other.verify(&token), None);
    }

    #[test]
    fn a_token_lifetime_is_capped_at_one_hour() {
        let keys = TokenKeys::new(&[7u8; 32], Duration::from_secs(86_400), Clock::system());
        assert_eq!(keys.ttl(), MAX_TOKEN_TTL);
    }

    #[test]
    fn repeated_failures_lock_the_client_out_until_success() {
        let throttle = Throttle::new(3, Duration::from_secs(60), Clock::system());
        for _ in 0..3 {
            assert_eq!(throttle.check("c"), None);
            throttle.failed("c");
        }
        assert!(throttle.check("c").is_some());
        assert_eq!(throttle.check("other"), None);
        throttle.succeeded("c");
        assert_eq!(throttle.check("c"), None);
    }

    #[test]
    fn a_lock_out_ends_with_its_window() {
        let clock = Clock::manual(chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap());
        let throttle = Throttle::new(1, Duration::from_secs(60), clock.clone());
        throttle.failed("c");
        assert_eq!(throttle.check("c"), Some(60));
        clock.advance(Duration::from_secs(45));
        assert_eq!(throttle.check("c"), Some(15));
        clock.advance(Duration::from_secs(15));
        assert_eq!(throttle.check("c"), None);
    }

    /// Signs `claims` with the key of `keys_secret`, as a forger holding the key could.
    fn signed(secret: &[u8], claims: &FirmClaims) -> String {
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            claims,
            &EncodingKey::from_secret(secret),
        )
        .unwrap()
    }

    #[test]
    fn a_token_is_refused_once_expired_by_the_clock() {
        let clock = Clock::manual(chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap());
        let keys = TokenKeys::new(&[7u8; 32], Duration::from_secs(600), clock.clone());
        let token = keys.issue("firm-1", "c1").unwrap();
        clock.advance(Duration::from_secs(590));
        assert!(keys.verify(&token).is_some());
        clock.advance(Duration::from_secs(20));
        assert_eq!(keys.verify(&token), None);
    }

    #[test]
    fn tokens_from_the_future_or_living_too_long_are_refused() {
        let clock = Clock::manual(chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap());
        let keys = TokenKeys::new(&[7u8; 32], Duration::from_secs(600), clock.clone());
        let now = clock.now().timestamp();
        let claims = |iat: i64, exp: i64, nbf: Option<i64>| FirmClaims {
            sub: "firm-1".into(),
            cid: "c1".into(),
            aud: AUDIENCE.into(),
            iss: ISSUER.into(),
            iat,
            exp,
            nbf,
        };
        let fine = signed(&[7u8; 32], &claims(now, now + 600, Some(now)));
        assert!(keys.verify(&fine).is_some());
        let not_yet = signed(&[7u8; 32], &claims(now, now + 600, Some(now + 300)));
        assert_eq!(keys.verify(&not_yet), None, "nbf in the future");
        let future = signed(&[7u8; 32], &claims(now + 300, now + 900, None));
        assert_eq!(keys.verify(&future), None, "iat in the future");
        let ten_years = signed(&[7u8; 32], &claims(now, now + 315_360_000, None));
        assert_eq!(
            keys.verify(&ten_years),
            None,
            "longer than the longest lifetime"
        );
    }
}
