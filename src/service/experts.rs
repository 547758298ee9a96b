//! A firm and its experts: creating, replacing and deactivating them. Every change reaches slot
//! searches at once on this instance, and within the directory's delay on the others.

use super::{Result, Service};
use crate::domain::expert::ExpertProfile;
use crate::domain::firm::FirmProfile;
use crate::store::{Expert, Firm};

impl Service {
    /// Creates an expert of the firm.
    pub async fn create_expert(&self, firm_id: &str, profile: &ExpertProfile) -> Result<Expert> {
        profile.check()?;
        let expert = self.store.create_expert(firm_id, profile).await?;
        self.catalogue_changed();
        tracing::info!(firm_id, expert_id = expert.id, "expert created");
        Ok(expert)
    }

    /// Replaces the profile of one of the firm's experts.
    pub async fn replace_expert(
        &self,
        firm_id: &str,
        expert_id: &str,
        profile: &ExpertProfile,
    ) -> Result<Expert> {
        profile.check()?;
        let expert = self
            .store
            .replace_expert(firm_id, expert_id, profile)
            .await?;
        self.catalogue_changed();
        tracing::info!(firm_id, expert_id, "expert replaced");
        Ok(expert)
    }

    /// Deactivates one of the firm's experts: never offered again, history kept.
    pub async fn deactivate_expert(&self, firm_id: &str, expert_id: &str) -> Result<()> {
        self.store.deactivate_expert(firm_id, expert_id).await?;
        self.catalogue_changed();
        tracing::info!(firm_id, expert_id, "expert deactivated");
        Ok(())
    }

    /// Replaces the firm's own profile (its name reaches slot searches).
    pub async fn update_firm(&self, firm_id: &str, profile: &FirmProfile) -> Result<Firm> {
        let firm = self.store.update_firm(firm_id, profile).await?;
        self.catalogue_changed();
        tracing::info!(firm_id, "firm profile updated");
        Ok(firm)
    }
}
