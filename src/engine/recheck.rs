//! The re-check of one slot at booking time.

use chrono::{DateTime, Utc};

use super::availability::{ExpertRequest, Scratch, base_travel, first_free};
use super::busy::BusyTimes;
use super::calendar::Calendar;
use super::eligibility::Blocker;
use super::local_day::{LocalDay, PLUS_INF, ceil_secs, local_date};
use super::settings::Settings;
use super::travel::Anchor;
use crate::domain::expert::ExpertProfile;
use crate::domain::{ExpertiseType, GeoPoint};

/// Re-checks that `[start, end)` is still a free slot of the expert (the "free" rules of
/// `Directory::search`, for one expert and without a window) and gives its
/// travel minutes.
///
/// `calendar` holds the expert's confirmed appointments and absences; when rescheduling,
/// leave the appointment being moved out of it. Eligibility (skills, zone, ...) is not
/// re-checked here. Errors: [`Blocker::OutOfZone`] for an on-site type without a place,
/// [`Blocker::FullyBooked`] for anything else (taken, outside hours, wrong length, too
/// late a notice, off the grid).
#[allow(clippy::too_many_arguments)]
pub fn check_slot(
    profile: &ExpertProfile,
    calendar: &Calendar,
    expertise_type: ExpertiseType,
    place: Option<&GeoPoint>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
    settings: &Settings,
) -> Result<u32, Blocker> {
    let place = if expertise_type.is_remote() {
        None
    } else {
        Some(place.ok_or(Blocker::OutOfZone)?)
    };
    let duration = i64::from(profile.durations_minutes.get(expertise_type)) * 60;
    let at = start.timestamp();
    if start.timestamp_subsec_nanos() != 0 || end != start + chrono::Duration::seconds(duration) {
        return Err(Blocker::FullyBooked);
    }
    let (mut absences, mut appointments) = (Vec::new(), Vec::new());
    let busy = if let Some(busy) = calendar.busy_times() {
        busy
    } else {
        let reach = calendar.convert(&mut absences, &mut appointments);
        BusyTimes {
            absences: &absences,
            appointments: &appointments,
            reach,
        }
    };
    let request = ExpertRequest {
        profile,
        busy,
        place: place.map(Anchor::new),
        base_travel: base_travel(profile, place, settings),
        duration,
        lo: ceil_secs(now) + i64::from(profile.min_notice_hours) * 3600,
        hi: PLUS_INF,
        settings,
    };
    let tz = profile.time_zone.tz();
    let frame = LocalDay::new(tz, local_date(tz, at));
    let mut spans = Vec::new();
    request.free_spans(&frame, &mut Scratch::default(), &mut spans);
    if first_free(&frame, &spans, at, settings.grid_seconds()) == Some(at) {
        Ok(request.travel_at(&frame, at))
    } else {
        Err(Blocker::FullyBooked)
    }
}
