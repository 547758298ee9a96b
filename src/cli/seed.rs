//! `creneau seed`: a firm of synthetic experts plus the credentials a load test needs.
//!
//! The experts are the profiles of [`crate::synthetic::generate`] (their calendars are not
//! loaded), made easy to book: no minimum notice, on-site and video expertise, water damage
//! (`DDE`) among their claim types. Their zones, hours, durations and accept-lists stay as
//! generated, so searches still exercise the whole eligibility and travel logic.

use serde::Serialize;

use crate::domain::expert::ExpertProfile;
use crate::domain::firm::FirmProfile;
use crate::domain::{ClaimType, ExpertiseType};
use crate::store::Store;
use crate::synthetic::{SyntheticConfig, generate};

/// SIRET of seeded firms (Luhn-valid, fictitious; SIRETs need not be unique).
const SEED_SIRET: &str = "73282932000074";

/// What a load test needs to drive a seeded firm.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Seeded {
    /// The new firm.
    pub firm_id: String,
    /// Firm admin client id (for the invariant check).
    pub client_id: String,
    /// Its one-time secret.
    pub client_secret: String,
    /// A new Claims IA API key.
    pub api_key: String,
}

impl Seeded {
    /// Human-readable text, ending with the matching `creneau loadtest` flags.
    pub fn text(&self, experts: usize) -> String {
        format!(
            "firm {firm} seeded with {experts} experts\n\
             firm client id:     {id}\nfirm client secret: {secret}\nClaims IA API key:  {key}\n\
             (shown once)\n\n\
             creneau loadtest --target http://127.0.0.1:8080 --api-key {key} \\\n    \
             --client-id {id} --client-secret {secret} --duration 30",
            firm = self.firm_id,
            id = self.client_id,
            secret = self.client_secret,
            key = self.api_key,
        )
    }
}

/// The `experts` synthetic profiles of `seed`, made easy to book (see the module docs).
pub fn profiles(experts: usize, seed: u64) -> Vec<ExpertProfile> {
    let config = SyntheticConfig {
        seed,
        experts,
        ..SyntheticConfig::default()
    };
    let water_damage = ClaimType::parse("DDE").expect("a valid code");
    generate(&config)
        .experts
        .into_iter()
        .map(|entry| {
            let mut profile = entry.profile;
            profile.min_notice_hours = 0;
            let skills = &mut profile.skills;
            for wanted in [ExpertiseType::Ess, ExpertiseType::Visio] {
                if !skills.expertise_types.contains(&wanted) {
                    skills.expertise_types.push(wanted);
                }
            }
            if !skills.claim_types.contains(&water_damage) {
                skills.claim_types.push(water_damage.clone());
            }
            profile
        })
        .collect()
}

/// Creates a firm with `experts` synthetic experts, a firm credential and a protocol client.
pub async fn seed(store: &dyn Store, experts: usize, seed: u64) -> anyhow::Result<Seeded> {
    let name = format!("Cabinet Charge (seed {seed}, {experts} experts)");
    let profile =
        FirmProfile::from_stored(name, SEED_SIRET, "Europe/Paris").map_err(anyhow::Error::msg)?;
    let firm = store.create_firm(&profile).await?;
    for profile in profiles(experts, seed) {
        profile
            .check()
            .map_err(|e| anyhow::anyhow!("{}: {}", e.pointer, e.detail))?;
        store.create_expert(&firm.id, &profile).await?;
    }
    let (client_id, client_secret) = super::firm_credentials(store, &firm.id).await?;
    let (_, api_key) = super::api_client(store, "Claims IA (load test)").await?;
    Ok(Seeded {
        firm_id: firm.id,
        client_id,
        client_secret,
        api_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_profiles_are_valid_and_bookable_at_once() {
        for profile in profiles(50, 7) {
            assert_eq!(profile.check(), Ok(()));
            assert_eq!(profile.min_notice_hours, 0);
            assert!(
                profile
                    .skills
                    .expertise_types
                    .contains(&ExpertiseType::Visio)
            );
            assert!(profile.skills.expertise_types.contains(&ExpertiseType::Ess));
        }
    }
}
