//! Finding free slots for a claim (protocol Etape 1).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::offers::SlotOffer;
use super::search_log::{Found, logged_search};
use super::{Error, Result, Service};
use crate::domain::appointment::Mode;
use crate::domain::text::FreeText;
use crate::domain::{
    ClaimType, Code, ExpertiseType, GeoPoint, InsuredType, Insurer, PartnerKind, Place, Stake,
};
use crate::engine::{self, Calendar, Query, Slot, Target};
use crate::wire::{ExpertRef, render};

/// Longest search window.
pub const MAX_WINDOW_DAYS: i64 = 62;
/// Default search window.
pub const DEFAULT_WINDOW_DAYS: i64 = 14;
/// Most slots per answer.
pub const MAX_SLOTS: u16 = 100;

/// A slot search (Etape 1).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SlotSearchRequest {
    /// `EXPERT` (default) or `REN`.
    #[serde(default)]
    pub partner_kind: PartnerKind,
    /// Insurer code, e.g. `AXA`.
    pub insurer: Insurer,
    /// `PARTICULIER` or `PRO`.
    pub insured_type: InsuredType,
    /// Claim type code (`DDE`, `DE`, `CATNAT`, `VOL`…).
    pub claim_type: ClaimType,
    /// `VISIO`, `EAD` (remote) or `ESS`, `CONTRADICTOIRE` (on site).
    pub expertise_type: ExpertiseType,
    /// Dwelling type code.
    #[serde(default)]
    pub dwelling_type: Option<Code>,
    /// Amounts at stake.
    pub stake: Stake,
    /// Where the appointment takes place (required on site). Without `geo`, the centroid of
    /// the postal code is used.
    #[serde(default)]
    pub appointment_place: Option<Place>,
    /// Free text describing the process, kept in the search log (not in the server logs).
    #[serde(default)]
    pub process: Option<FreeText>,
    /// Window start (default now).
    #[serde(default)]
    pub from: Option<DateTime<FixedOffset>>,
    /// Window end (default `from` + 14 days, at most 62 days after `from`).
    #[serde(default)]
    pub to: Option<DateTime<FixedOffset>>,
    /// Most slots wanted (default 10, at most 100).
    #[serde(default)]
    pub max_slots: Option<u16>,
}

/// One offered slot.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SlotView {
    /// Opaque, signed, expiring id to book with.
    pub slot_id: String,
    /// Start, in the expert's time zone.
    pub start: String,
    /// End, in the expert's time zone.
    pub end: String,
    /// `ON_SITE` or `REMOTE`.
    pub mode: Mode,
    /// The expert.
    pub expert: ExpertRef,
    /// Estimated travel before the appointment.
    pub travel_minutes: u32,
    /// When the offer lapses.
    pub expires_at: String,
}

/// Why nothing was found.
#[derive(Debug, Serialize, ToSchema)]
pub struct Diagnostic {
    /// First rule that blocked: `no-expert-of-kind`, `no-skill`, `insurer-not-accepted`,
    /// `insured-type-not-accepted`, `dwelling-type-not-accepted`, `stake-too-high`,
    /// `out-of-zone`, `fully-booked`.
    pub code: &'static str,
}

/// Answer to a slot search.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SlotSearchResponse {
    /// Id of this search: in the search log that firms read, and recorded on the
    /// appointment booked from one of its slots.
    pub search_id: String,
    /// Experts who may take the claim.
    pub eligible_experts: usize,
    /// Offered slots, sorted by start.
    pub slots: Vec<SlotView>,
    /// Present when `slots` is empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnostic: Option<Diagnostic>,
}

/// Who an offer is made to, when, by which search.
struct Offered<'a> {
    search_id: &'a str,
    client_id: &'a str,
    now: DateTime<Utc>,
}

struct Window {
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    max_slots: usize,
}

fn window(request: &SlotSearchRequest, now: DateTime<Utc>) -> Result<Window> {
    let from = request.from.map_or(now, |f| f.to_utc());
    let to = request
        .to
        .map_or(from + Duration::days(DEFAULT_WINDOW_DAYS), |t| t.to_utc());
    if to <= from {
        return Err(Error::invalid("/to", "must be after from"));
    }
    if to > now + Duration::days(super::HORIZON_DAYS) {
        let pointer = if request.to.is_some() { "/to" } else { "/from" };
        return Err(Error::invalid(
            pointer,
            format!("at most {} days from now", super::HORIZON_DAYS),
        ));
    }
    if to - from > Duration::days(MAX_WINDOW_DAYS) {
        return Err(Error::invalid(
            "/to",
            format!("at most {MAX_WINDOW_DAYS} days after from"),
        ));
    }
    let max_slots = request.max_slots.unwrap_or(10);
    if !(1..=MAX_SLOTS).contains(&max_slots) {
        return Err(Error::invalid(
            "/maxSlots",
            format!("must be 1 to {MAX_SLOTS}"),
        ));
    }
    Ok(Window {
        from,
        to,
        max_slots: usize::from(max_slots),
    })
}

/// Where an on-site appointment happens: the request's `geo`, else its postal code centroid.
fn target(request: &SlotSearchRequest) -> Result<Option<Target>> {
    if request.expertise_type.is_remote() {
        return Ok(None);
    }
    let place = request.appointment_place.as_ref().ok_or_else(|| {
        Error::invalid(
            "/appointmentPlace",
            "required for an on-site expertise type",
        )
    })?;
    let postal_code = place.address.postal_code();
    let point = match place.geo {
        Some(geo) => geo,
        None => crate::domain::postal::centroids::centroid(postal_code.as_str())
            .and_then(|(lat, lon)| GeoPoint::new(lat, lon).ok())
            .ok_or_else(|| {
                Error::invalid(
                    "/appointmentPlace/geo",
                    "unknown postal code: send geo coordinates",
                )
            })?,
    };
    Ok(Some(Target {
        point,
        department: postal_code.department(),
    }))
}

impl Service {
    /// Finds the best free slots for a claim among the experts who may take it; each comes
    /// with a signed, expiring `slotId` made for `client_id`. When none is found, the
    /// diagnostic says which rule stopped the experts that got furthest.
    pub async fn search(
        &self,
        client_id: &str,
        request: &SlotSearchRequest,
    ) -> Result<SlotSearchResponse> {
        let now = self.clock.now();
        let window = window(request, now)?;
        let target = target(request)?;
        let query = Query {
            partner_kind: request.partner_kind,
            insurer: request.insurer.clone(),
            insured_type: request.insured_type,
            claim_type: request.claim_type.clone(),
            expertise_type: request.expertise_type,
            dwelling_type: request.dwelling_type.clone(),
            stake_total: request.stake.total,
            place: target,
            from: window.from,
            to: window.to,
            max_slots: window.max_slots,
        };
        let snapshot = self
            .directory
            .recent(self.store.as_ref(), self.search_cache)
            .await?;
        let started = Instant::now();
        let eligibility = snapshot.directory.eligible(&query);
        let mut engine_time = started.elapsed();
        let calendars = self
            .calendars_around(&snapshot.directory, &eligibility.experts, &window)
            .await?;
        let started = Instant::now();
        let slots = snapshot.directory.search(
            &query,
            &eligibility.experts,
            |i| calendars.get(&i).map_or(&*EMPTY, |c| &**c),
            now,
            &self.settings,
        );
        engine_time += started.elapsed();
        self.metrics
            .search
            .record(engine_time, eligibility.experts.len());
        let search_id = uuid::Uuid::now_v7().to_string();
        let offered = Offered {
            search_id: &search_id,
            client_id,
            now,
        };
        let views = self.offer(&offered, request, &query, &snapshot, &slots);
        let blocked = views.is_empty().then(|| {
            eligibility
                .blocked_by
                .unwrap_or(engine::Blocker::FullyBooked)
        });
        if self.search_log.is_on() {
            let found = Found {
                eligible: &eligibility.experts,
                slots: &slots,
                firm_ids: &snapshot.firm_ids,
                diagnostic: blocked.map(engine::Blocker::code),
            };
            self.search_log
                .record(logged_search(&search_id, now, request, &found));
        }
        tracing::info!(
            search_id,
            client_id,
            claim_type = %request.claim_type,
            expertise_type = request.expertise_type.as_str(),
            eligible = eligibility.experts.len(),
            slots = views.len(),
            blocked_by = blocked.map(engine::Blocker::code),
            "slot search"
        );
        Ok(SlotSearchResponse {
            search_id,
            eligible_experts: eligibility.experts.len(),
            slots: views,
            diagnostic: blocked.map(|b| Diagnostic { code: b.code() }),
        })
    }

    /// The slots as offered, each with its signed id.
    fn offer(
        &self,
        offered: &Offered<'_>,
        request: &SlotSearchRequest,
        query: &Query,
        snapshot: &super::Snapshot,
        slots: &[Slot],
    ) -> Vec<SlotView> {
        // The place as booked: with the coordinates the search used (the postal code
        // centroid when the request had none), so the booking re-check and later travel
        // see the same point.
        let offered_place = query.place.as_ref().and_then(|t| {
            let mut place = request.appointment_place.clone()?;
            place.geo.get_or_insert(t.point);
            Some(place)
        });
        let expires = offered.now + self.slot_ttl;
        let mode = Mode::of(request.expertise_type);
        slots
            .iter()
            .map(|slot| {
                let entry = snapshot.directory.expert(slot.expert);
                let tz = entry.profile.time_zone.tz();
                let offer = SlotOffer {
                    expert_id: entry.id.clone(),
                    start_ms: slot.start.timestamp_millis(),
                    end_ms: slot.end.timestamp_millis(),
                    expertise_type: request.expertise_type,
                    place: offered_place.clone(),
                    expires_ms: expires.timestamp_millis(),
                    client_id: offered.client_id.to_owned(),
                    search_id: Some(offered.search_id.to_owned()),
                };
                SlotView {
                    slot_id: self.offers.sign(&offer),
                    start: render(slot.start, tz),
                    end: render(slot.end, tz),
                    mode,
                    expert: ExpertRef {
                        id: entry.id.clone(),
                        display_name: entry.profile.display_name.to_string(),
                        firm: snapshot.firm_names[slot.expert].clone(),
                    },
                    travel_minutes: slot.travel_minutes,
                    expires_at: render(expires, tz),
                }
            })
            .collect()
    }

    /// Calendars of the eligible experts around the window (a week either side, for
    /// travel, daily maxima and weekly load), from the calendar cache.
    async fn calendars_around(
        &self,
        directory: &engine::Directory,
        eligible: &[usize],
        window: &Window,
    ) -> Result<HashMap<usize, Arc<Calendar>>> {
        let ids: Vec<&str> = eligible
            .iter()
            .map(|&i| directory.expert(i).id.as_str())
            .collect();
        let margin = Duration::days(8);
        let calendars = self
            .calendars
            .get(
                self.store.as_ref(),
                &ids,
                window.from - margin,
                window.to + margin,
            )
            .await?;
        Ok(eligible.iter().copied().zip(calendars).collect())
    }
}

static EMPTY: LazyLock<Calendar> = LazyLock::new(Calendar::default);
