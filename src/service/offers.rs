//! Stateless, tamper-proof slot ids: the offer itself (expert, time, mode, place, expiry, the
//! client it was made to, the search that made it) in URL-safe base64, then an HMAC-SHA256 of it with a server secret
//! shared by every instance through the database.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::domain::{ExpertiseType, Place};

/// What a slot id promises.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotOffer {
    /// Expert id.
    #[serde(rename = "e")]
    pub expert_id: String,
    /// Start (Unix ms).
    #[serde(rename = "s")]
    pub start_ms: i64,
    /// End (Unix ms).
    #[serde(rename = "n")]
    pub end_ms: i64,
    /// Expertise type searched (decides the mode and the duration).
    #[serde(rename = "t")]
    pub expertise_type: ExpertiseType,
    /// Appointment place (on site).
    #[serde(rename = "p")]
    pub place: Option<Place>,
    /// Expiry (Unix ms).
    #[serde(rename = "x")]
    pub expires_ms: i64,
    /// Protocol client the offer was made to.
    #[serde(rename = "c")]
    pub client_id: String,
    /// The slot search that offered it (absent from offers made before searches were
    /// logged).
    #[serde(rename = "q", default, skip_serializing_if = "Option::is_none")]
    pub search_id: Option<String>,
}

impl SlotOffer {
    /// Start and end as instants (`None` if out of range, which a signed offer never is).
    pub fn times(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        Some((
            DateTime::from_timestamp_millis(self.start_ms)?,
            DateTime::from_timestamp_millis(self.end_ms)?,
        ))
    }

    /// On site or remote, from the expertise type.
    pub fn mode(&self) -> crate::domain::appointment::Mode {
        crate::domain::appointment::Mode::of(self.expertise_type)
    }
}

/// Why a slot id is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotTokenError {
    /// Not one of ours, altered, or made to another client.
    Invalid,
    /// Genuine but past its expiry.
    Expired,
}

/// Signs and verifies slot ids.
pub struct SlotSigner {
    key: Vec<u8>,
}

impl SlotSigner {
    /// A signer with a secret key.
    pub fn new(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts any key length")
    }

    /// The slot id of an offer.
    pub fn sign(&self, offer: &SlotOffer) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(offer).expect("offers serialize"));
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        format!(
            "{payload}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    /// The offer behind a slot id, if genuine, made to `client_id`, and not expired at `now`.
    pub fn verify(
        &self,
        token: &str,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<SlotOffer, SlotTokenError> {
        let (payload, tag) = token.split_once('.').ok_or(SlotTokenError::Invalid)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| SlotTokenError::Invalid)?;
        let mut mac = self.mac();
        mac.update(payload.as_bytes());
        mac.verify_slice(&tag)
            .map_err(|_| SlotTokenError::Invalid)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| SlotTokenError::Invalid)?;
        let offer: SlotOffer =
            serde_json::from_slice(&bytes).map_err(|_| SlotTokenError::Invalid)?;
        if offer.client_id != client_id {
            return Err(SlotTokenError::Invalid);
        }
        if now.timestamp_millis() >= offer.expires_ms {
            return Err(SlotTokenError::Expired);
        }
        Ok(offer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer() -> SlotOffer {
        SlotOffer {
            expert_id: "e1".into(),
            start_ms: 1_795_000_000_000,
            end_ms: 1_795_005_400_000,
            expertise_type: ExpertiseType::Ess,
            place: None,
            expires_ms: 2_000_000_000_000,
            client_id: "cia_1".into(),
            search_id: Some("0190f0e5-7b1c-7cc4-8a38-1f1cbbd1a2e4".into()),
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_900_000_000_000).unwrap()
    }

    #[test]
    fn a_signed_offer_verifies_for_its_client() {
        let signer = SlotSigner::new(b"secret");
        let token = signer.sign(&offer());
        assert_eq!(signer.verify(&token, "cia_1", now()), Ok(offer()));
    }

    #[test]
    fn an_offer_made_to_another_client_is_invalid() {
        let signer = SlotSigner::new(b"secret");
        assert_eq!(
            signer.verify(&signer.sign(&offer()), "cia_2", now()),
            Err(SlotTokenError::Invalid)
        );
    }

    #[test]
    fn a_tampered_offer_is_invalid() {
        let signer = SlotSigner::new(b"secret");
        let token = signer.sign(&offer());
        let mut other = offer();
        other.start_ms += 3_600_000;
        let forged_payload = signer.sign(&other);
        let forged = format!(
            "{}.{}",
            forged_payload.split('.').next().unwrap(),
            token.split('.').nth(1).unwrap()
        );
        assert_eq!(
            signer.verify(&forged, "cia_1", now()),
            Err(SlotTokenError::Invalid)
        );
        assert_eq!(
            SlotSigner::new(b"other").verify(&token, "cia_1", now()),
            Err(SlotTokenError::Invalid)
        );
        assert_eq!(
            signer.verify("garbage", "cia_1", now()),
            Err(SlotTokenError::Invalid)
        );
    }

    #[test]
    fn an_offer_signed_without_a_search_id_still_verifies() {
        let signer = SlotSigner::new(b"secret");
        let older = SlotOffer {
            search_id: None,
            ..offer()
        };
        let token = signer.sign(&older);
        let payload = URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap();
        assert!(!String::from_utf8(payload).unwrap().contains("\"q\""));
        assert_eq!(signer.verify(&token, "cia_1", now()), Ok(older));
    }

    #[test]
    fn an_expired_offer_is_expired() {
        let signer = SlotSigner::new(b"secret");
        let late = DateTime::from_timestamp_millis(2_000_000_000_000).unwrap();
        assert_eq!(
            signer.verify(&signer.sign(&offer()), "cia_1", late),
            Err(SlotTokenError::Expired)
        );
    }
}
