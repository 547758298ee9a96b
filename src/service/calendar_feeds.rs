//! An expert's calendar as calendar apps read it, and the secret feed URLs that open it.

use chrono::{DateTime, Duration, Utc};

use super::{Result, Service};
use crate::auth::{random_token, sha256};
use crate::store::{Absence, Appointment, AppointmentFilter, Expert, PageRequest};

/// Most appointments or absences in one calendar (the most recent window).
const CALENDAR_CAP: u32 = 2000;

/// An expert's appointments and absences from 60 days back to 400 days ahead.
pub struct ExpertCalendar {
    /// The expert.
    pub expert: Expert,
    /// Appointments of every status.
    pub appointments: Vec<Appointment>,
    /// Absences.
    pub absences: Vec<Absence>,
    /// When it was read.
    pub read_at: DateTime<Utc>,
}

impl Service {
    /// The calendar of one of a firm's experts.
    pub async fn expert_calendar(&self, firm_id: &str, expert_id: &str) -> Result<ExpertCalendar> {
        let expert = self.store.expert(firm_id, expert_id).await?;
        let now = self.clock.now();
        let filter = AppointmentFilter {
            expert_id: Some(expert_id.to_owned()),
            from: Some(now - Duration::days(60)),
            to: Some(now + Duration::days(400)),
            status: None,
        };
        let page = PageRequest {
            after: None,
            limit: CALENDAR_CAP,
        };
        let appointments = self
            .store
            .firm_appointments(firm_id, &filter, &page)
            .await?;
        let absences = self.store.list_absences(firm_id, expert_id, &page).await?;
        Ok(ExpertCalendar {
            expert,
            appointments: appointments.items,
            absences: absences.items,
            read_at: now,
        })
    }

    /// Mints the secret token of an expert's feed, replacing (revoking) the previous one;
    /// only its hash is kept.
    pub async fn mint_calendar_feed(&self, firm_id: &str, expert_id: &str) -> Result<String> {
        let token = random_token(32);
        self.store
            .set_calendar_feed(firm_id, expert_id, &sha256(&token))
            .await?;
        tracing::info!(firm_id, expert_id, "calendar feed minted");
        Ok(token)
    }

    /// Revokes an expert's feed.
    pub async fn revoke_calendar_feed(&self, firm_id: &str, expert_id: &str) -> Result<()> {
        self.store.revoke_calendar_feed(firm_id, expert_id).await?;
        tracing::info!(firm_id, expert_id, "calendar feed revoked");
        Ok(())
    }

    /// The calendar a feed token opens, if the token is current.
    pub async fn calendar_by_feed(&self, token: &str) -> Result<Option<ExpertCalendar>> {
        let Some((firm_id, expert_id)) = self.store.calendar_feed(&sha256(token)).await? else {
            return Ok(None);
        };
        Ok(Some(self.expert_calendar(&firm_id, &expert_id).await?))
    }
}
