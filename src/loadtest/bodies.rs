//! Request bodies of the scenario, and the booking an answer describes.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Paris;
use serde_json::{Value, json};

use super::invariants::{Expect, Tracked};
use rand::Rng as _;
use rand::seq::IndexedRandom as _;

use crate::synthetic::SyntheticRng;

/// Places of on-site searches: postal code, city, latitude, longitude.
const PLACES: [(&str, &str, f64, f64); 8] = [
    ("75002", "Paris", 48.8686, 2.3316),
    ("75011", "Paris", 48.8590, 2.3790),
    ("75015", "Paris", 48.8417, 2.2986),
    ("75018", "Paris", 48.8925, 2.3444),
    ("92100", "Boulogne-Billancourt", 48.8397, 2.2399),
    ("93100", "Montreuil", 48.8638, 2.4485),
    ("94300", "Vincennes", 48.8474, 2.4392),
    ("78000", "Versailles", 48.8049, 2.1204),
];
/// Share of searches done on site (the rest by video).
const ON_SITE: f64 = 0.7;

/// A slot search body: on site around Paris (mostly) or by video, over the next 14 days.
pub(super) fn search(rng: &mut SyntheticRng) -> Value {
    search_from(rng, 0)
}

/// [`search`] over the 14 days from `days_ahead` days from now.
pub(super) fn search_from(rng: &mut SyntheticRng, days_ahead: u32) -> Value {
    let now: DateTime<Utc> =
        crate::clock::Clock::system().now() + chrono::Duration::days(i64::from(days_ahead));
    let mut body = json!({
        "insurer": "AXA",
        "insuredType": "PARTICULIER",
        "claimType": "DDE",
        "expertiseType": "VISIO",
        "stake": { "total": 4200.00, "movable": 1200.00, "immovable": 3000.00 },
        "from": now.to_rfc3339(),
        "to": (now + chrono::Duration::days(14)).to_rfc3339(),
        "maxSlots": 10
    });
    if rng.random_bool(ON_SITE) {
        let &(postal, city, lat, lon) = PLACES.choose(rng).expect("places");
        body["expertiseType"] = json!("ESS");
        body["appointmentPlace"] = json!({
            "address": { "line1": "1 rue de la Charge", "postalCode": postal, "city": city, "country": "FR" },
            "geo": { "lat": lat, "lon": lon }
        });
    }
    body
}

/// `--mix book` lanes: one working day each (Monday to Friday, Paris time), the first
/// ones after today, so that all lie within the 60 days ahead that the servers' calendar
/// cache covers, as real searches would.
pub(super) const BOOKING_LANES: u32 = 40;

/// A VISIO slot search over booking lane `lane` (modulo [`BOOKING_LANES`]): the
/// `lane`-th working day after today, midnight to midnight in Paris. Every expert open to
/// video can take it, and the windows of two lanes never meet.
pub(super) fn visio_lane(lane: u32) -> Value {
    let today = crate::clock::Clock::system()
        .now()
        .with_timezone(&Paris)
        .date_naive();
    let day = today
        .iter_days()
        .skip(1)
        .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
        .nth(usize::try_from(lane % BOOKING_LANES).unwrap_or(0))
        .unwrap_or(today);
    let midnight = |d: NaiveDate| {
        Paris
            .from_local_datetime(&d.and_time(NaiveTime::MIN))
            .earliest()
            .map_or_else(
                || crate::clock::Clock::system().now(),
                |t| t.with_timezone(&Utc),
            )
    };
    let (from, to) = (midnight(day), midnight(day + chrono::Days::new(1)));
    json!({
        "insurer": "AXA",
        "insuredType": "PARTICULIER",
        "claimType": "DDE",
        "expertiseType": "VISIO",
        "stake": { "total": 4200.00, "movable": 1200.00, "immovable": 3000.00 },
        "from": from.to_rfc3339(),
        "to": to.to_rfc3339(),
        "maxSlots": 20
    })
}

/// The booking an appointment body describes.
pub(super) fn tracked(body: &Value) -> Option<Tracked> {
    let time = |field: &str| body[field].as_str()?.parse::<DateTime<FixedOffset>>().ok();
    Some(Tracked {
        id: body["appointmentId"].as_str()?.to_owned(),
        expert_id: body["expert"]["id"].as_str()?.to_owned(),
        start: time("start")?,
        end: time("end")?,
        expect: Expect::Confirmed,
    })
}
