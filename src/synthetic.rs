//! A deterministic synthetic population of experts and calendars, for benchmarks and load
//! tests.
//!
//! [`generate`] spreads experts over metropolitan France in proportion to the population
//! of about forty urban areas (Île-de-France weighing the most), gives each one the zone,
//! skills, durations and working hours a real firm would, and fills their calendars with
//! CONFIRMED appointments up to the requested occupancy, plus a few days off.
//!
//! The output depends on the [`SyntheticConfig`] only: random numbers come from the
//! [`SplitMix64`] generator written here, so no dependency update can change a dataset.
//! Each expert draws from its own stream, so the first `n` experts of a large dataset are
//! exactly those of a dataset of `n`.

use chrono::Weekday::{Fri, Mon, Sat, Thu, Tue, Wed};
use chrono::{DateTime, Datelike as _, Days, NaiveDate, NaiveTime, TimeDelta, TimeZone as _, Utc};
use chrono_tz::{Europe::Paris, Tz};

use crate::domain::expert::{Base, Durations, ExpertProfile, Skills, Zone};
use crate::domain::text::Name;
use crate::domain::{Area, ClaimType, Code, Department, ExpertiseType, GeoPoint, InsuredType};
use crate::domain::{Insurer, Money, PartnerKind, WeeklyHours};
use crate::engine::{Booked, Calendar, ExpertEntry, Interval, Settings, travel_minutes};

/// Latitudes of metropolitan France, Corsica included.
pub const FRANCE_LAT: (f64, f64) = (41.3, 51.1);
/// Longitudes of metropolitan France, Corsica included.
pub const FRANCE_LON: (f64, f64) = (-5.2, 9.6);
/// Share of working expert-days taken by an absence.
const ABSENCE_RATE: f64 = 0.05;
/// Kilometres per degree of latitude.
const KM_PER_DEGREE: f64 = 111.195;

/// Urban areas: name, department, centre, weight (population in thousands, Île-de-France
/// split by department), neighbouring departments an expert there may also cover.
type City = (
    &'static str,
    &'static str,
    f64,
    f64,
    u32,
    &'static [&'static str],
);
#[rustfmt::skip]
const CITIES: [City; 44] = [
    ("Paris", "75", 48.8566, 2.3522, 2100, &["92", "93", "94"]),
    ("Nanterre", "92", 48.8924, 2.2071, 1600, &["75", "78", "95"]),
    ("Saint-Denis", "93", 48.9362, 2.3574, 1650, &["75", "95", "77"]),
    ("Créteil", "94", 48.7904, 2.4556, 1400, &["75", "91", "77"]),
    ("Versailles", "78", 48.8049, 2.1204, 1450, &["92", "95", "91"]),
    ("Évry", "91", 48.6239, 2.4290, 1300, &["94", "77", "78"]),
    ("Cergy", "95", 49.0364, 2.0761, 1250, &["78", "92", "93"]),
    ("Melun", "77", 48.5393, 2.6608, 1420, &["91", "94", "93"]),
    ("Lyon", "69", 45.7640, 4.8357, 2300, &["01", "38", "42"]),
    ("Marseille", "13", 43.2965, 5.3698, 1900, &["83", "84", "30"]),
    ("Lille", "59", 50.6292, 3.0573, 1500, &["62", "80", "02"]),
    ("Toulouse", "31", 43.6047, 1.4442, 1450, &["81", "82", "09"]),
    ("Bordeaux", "33", 44.8378, -0.5792, 1360, &["24", "17", "40"]),
    ("Nantes", "44", 47.2184, -1.5536, 1000, &["49", "85", "35"]),
    ("Strasbourg", "67", 48.5734, 7.7521, 850, &["68", "57", "88"]),
    ("Nice", "06", 43.7102, 7.2620, 1000, &["83", "04"]),
    ("Rennes", "35", 48.1173, -1.6778, 760, &["56", "22", "53"]),
    ("Montpellier", "34", 43.6108, 3.8767, 800, &["30", "11", "12"]),
    ("Grenoble", "38", 45.1885, 5.7245, 720, &["73", "26", "69"]),
    ("Rouen", "76", 49.4432, 1.0999, 700, &["27", "80", "60"]),
    ("Toulon", "83", 43.1242, 5.9280, 630, &["13", "06", "04"]),
    ("Saint-Étienne", "42", 45.4397, 4.3872, 520, &["69", "43", "63"]),
    ("Tours", "37", 47.3941, 0.6848, 500, &["41", "36", "86"]),
    ("Clermont-Ferrand", "63", 45.7772, 3.0870, 500, &["03", "43", "15"]),
    ("Orléans", "45", 47.9030, 1.9093, 450, &["41", "28", "18"]),
    ("Nancy", "54", 48.6921, 6.1844, 450, &["57", "88", "55"]),
    ("Metz", "57", 49.1193, 6.1757, 390, &["54", "67", "55"]),
    ("Dijon", "21", 47.3220, 5.0415, 390, &["71", "89", "52"]),
    ("Angers", "49", 47.4784, -0.5632, 430, &["44", "53", "72"]),
    ("Reims", "51", 49.2583, 4.0317, 330, &["02", "08", "10"]),
    ("Le Havre", "76", 49.4944, 0.1079, 330, &["27", "14"]),
    ("Le Mans", "72", 48.0061, 0.1996, 350, &["53", "61", "49"]),
    ("Brest", "29", 48.3904, -4.4861, 320, &["22", "56"]),
    ("Caen", "14", 49.1829, -0.3707, 470, &["50", "61", "27"]),
    ("Limoges", "87", 45.8336, 1.2611, 300, &["23", "19", "24"]),
    ("Amiens", "80", 49.8941, 2.2958, 300, &["60", "62", "76"]),
    ("Perpignan", "66", 42.6887, 2.8948, 330, &["11", "09"]),
    ("Besançon", "25", 47.2378, 6.0241, 280, &["39", "70", "90"]),
    ("Mulhouse", "68", 47.7508, 7.3359, 290, &["67", "90", "25"]),
    ("Avignon", "84", 43.9493, 4.8055, 530, &["13", "30", "26"]),
    ("Pau", "64", 43.2951, -0.3708, 250, &["40", "65", "32"]),
    ("Bayonne", "64", 43.4929, -1.4748, 300, &["40"]),
    ("Poitiers", "86", 46.5802, 0.3404, 270, &["79", "37", "36"]),
    ("Ajaccio", "2A", 41.9192, 8.7386, 100, &["2B"]),
];

/// Claim types with the share of experts handling each; the first is the fallback.
const CLAIM_TYPES: [(&str, f64); 4] = [("DDE", 0.92), ("DE", 0.55), ("VOL", 0.4), ("CATNAT", 0.3)];
/// Expertise types with the share of experts offering each; the first is the fallback.
const EXPERTISE_TYPES: [(ExpertiseType, f64); 4] = [
    (ExpertiseType::Ess, 0.9),
    (ExpertiseType::Visio, 0.6),
    (ExpertiseType::Contradictoire, 0.35),
    (ExpertiseType::Ead, 0.3),
];
#[rustfmt::skip]
const INSURERS: [&str; 10] = [
    "AXA", "ALLIANZ", "GENERALI", "MAIF", "MACIF", "MMA", "GROUPAMA", "MATMUT", "GMF", "PACIFICA",
];
#[rustfmt::skip]
const SURNAMES: [&str; 20] = [
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard",
];

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticConfig {
    /// Seed of every random draw.
    pub seed: u64,
    /// Number of experts.
    pub experts: usize,
    /// Start of the horizon (a local Monday midnight in `Europe/Paris` by default); also
    /// the dataset's `now`.
    pub start: DateTime<Utc>,
    /// Length of the horizon in local days.
    pub days: u32,
    /// Share of working time taken by appointments on the days an expert is present.
    pub occupancy: f64,
}

impl Default for SyntheticConfig {
    /// 2,000 experts over the two weeks from Monday 23 November 2026, 60% busy.
    fn default() -> Self {
        Self {
            seed: 42,
            experts: 2_000,
            start: Paris
                .with_ymd_and_hms(2026, 11, 23, 0, 0, 0)
                .unwrap()
                .with_timezone(&Utc),
            days: 14,
            occupancy: 0.6,
        }
    }
}

/// Experts, their calendars (same order) and the instant searches are made at.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The experts, with ids `exp-00000`, `exp-00001`...
    pub experts: Vec<ExpertEntry>,
    /// `calendars[i]` belongs to `experts[i]`.
    pub calendars: Vec<Calendar>,
    /// The start of the horizon.
    pub now: DateTime<Utc>,
}

/// Generates the dataset `config` describes; the same config always gives the same data.
pub fn generate(config: &SyntheticConfig) -> Dataset {
    let (experts, calendars) = (0..config.experts)
        .map(|index| {
            let stream = config.seed ^ (index as u64).wrapping_mul(0xD1B5_4A32_D192_ED03);
            let mut rng = SplitMix64::new(stream);
            let expert = expert(index, &mut rng);
            let calendar = calendar(&expert.profile, config, &mut rng);
            (expert, calendar)
        })
        .unzip();
    Dataset {
        experts,
        calendars,
        now: config.start,
    }
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a tiny, fast generator, good enough for test
/// data and stable forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `[0, 1)`.
    #[allow(clippy::cast_precision_loss)] // 53 bits: exact.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// A number in `[0, n)` (`0` when `n` is 0), by multiply-shift.
    #[allow(clippy::cast_possible_truncation)] // The product shifted by 64 is below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// `true` with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[usize::try_from(self.below(items.len() as u64)).unwrap_or(0)]
    }

    /// A point about `spread_km` (Rayleigh-distributed, capped at three times) from
    /// `(lat, lon)`, kept inside metropolitan France.
    pub fn near(&mut self, lat: f64, lon: f64, spread_km: f64) -> GeoPoint {
        let distance = (spread_km * (-2.0 * (1.0 - self.unit()).ln()).sqrt()).min(3.0 * spread_km);
        let bearing = self.unit() * std::f64::consts::TAU;
        let lat2 = lat + distance * bearing.cos() / KM_PER_DEGREE;
        let lon2 = lon + distance * bearing.sin() / (KM_PER_DEGREE * lat.to_radians().cos());
        let lat2 = lat2.clamp(FRANCE_LAT.0, FRANCE_LAT.1);
        GeoPoint::new(lat2, lon2.clamp(FRANCE_LON.0, FRANCE_LON.1)).expect("inside France")
    }
}

/// A city drawn in proportion to its weight.
fn city(rng: &mut SplitMix64) -> &'static City {
    let total: u32 = CITIES.iter().map(|c| c.4).sum();
    let mut ticket = u32::try_from(rng.below(u64::from(total))).unwrap_or(0);
    CITIES
        .iter()
        .find(|c| {
            let hit = ticket < c.4;
            ticket = ticket.saturating_sub(c.4);
            hit
        })
        .unwrap_or(&CITIES[0])
}

/// The entries of `table` each kept with its probability, or the first when none is.
fn some_of<T: Copy>(rng: &mut SplitMix64, table: &[(T, f64)]) -> Vec<T> {
    let kept: Vec<T> = table
        .iter()
        .filter(|e| rng.chance(e.1))
        .map(|e| e.0)
        .collect();
    if kept.is_empty() {
        vec![table[0].0]
    } else {
        kept
    }
}

/// `count` distinct elements of `items`, in random order.
fn distinct<T: Copy>(rng: &mut SplitMix64, items: &[T], count: usize) -> Vec<T> {
    let mut pool = items.to_vec();
    for i in 0..count.min(pool.len()) {
        let j = i + usize::try_from(rng.below((pool.len() - i) as u64)).unwrap_or(0);
        pool.swap(i, j);
    }
    pool.truncate(count);
    pool
}

fn expert(index: usize, rng: &mut SplitMix64) -> ExpertEntry {
    let &(_, department, lat, lon, weight, near) = city(rng);
    let spread = (3.0 + f64::from(weight) / 400.0).min(8.0);
    let base = rng.near(lat, lon, spread);
    let name = format!(
        "{}. {}",
        rng.pick(b"ABCDEFGHIJLMNPRSTV") as char,
        rng.pick(&SURNAMES)
    );
    let profile = ExpertProfile {
        display_name: Name::parse(&name).expect("a short name"),
        email: None,
        phone: None,
        partner_kind: if rng.chance(0.03) {
            PartnerKind::Ren
        } else {
            PartnerKind::Expert
        },
        active: !rng.chance(0.02),
        time_zone: Paris.into(),
        zone: zone(rng, department, near, &base),
        base: Some(Base {
            address: None,
            geo: base,
        }),
        skills: skills(rng),
        durations_minutes: durations(rng),
        buffer_minutes: rng.pick(&[0, 0, 10, 15, 15, 20, 30]),
        max_appointments_per_day: Some(rng.pick(&[3, 4, 4, 5, 5, 6])),
        min_notice_hours: rng.pick(&[0, 2, 4, 12, 24, 24, 48]),
        weekly_hours: weekly_hours(rng),
    };
    ExpertEntry {
        id: format!("exp-{index:05}"),
        profile,
    }
}

/// Own department, 0 to 3 neighbours, often a 20–60 km radius, rarely a hexagonal area.
fn zone(rng: &mut SplitMix64, department: &str, near: &[&str], base: &GeoPoint) -> Zone {
    let count = usize::try_from(rng.below(4)).unwrap_or(0);
    let departments = std::iter::once(department)
        .chain(distinct(rng, near, count))
        .map(|d| Department::parse(d).expect("a real department"))
        .collect();
    let radius_km = rng
        .chance(0.6)
        .then(|| rng.pick(&[20, 25, 30, 35, 40, 45, 50, 55, 60]));
    let area = rng.chance(0.03).then(|| {
        let km = 25.0 + 15.0 * rng.unit();
        let hexagon: Vec<Vec<f64>> = (0..=6)
            .map(|corner| {
                let angle = f64::from(corner % 6) * std::f64::consts::FRAC_PI_3;
                let dlat = km * angle.sin() / KM_PER_DEGREE;
                let dlon = km * angle.cos() / (KM_PER_DEGREE * base.lat().to_radians().cos());
                vec![base.lon() + dlon, base.lat() + dlat]
            })
            .collect();
        let polygon = geojson::Geometry::new(geojson::Value::Polygon(vec![hexagon]));
        Area::from_geometry(polygon).expect("a closed hexagon")
    });
    Zone {
        departments,
        radius_km,
        area,
    }
}

fn skills(rng: &mut SplitMix64) -> Skills {
    let insurers = if rng.chance(0.25) {
        let count = 2 + usize::try_from(rng.below(4)).unwrap_or(0);
        distinct(rng, &INSURERS, count)
    } else {
        Vec::new()
    };
    let insured_types = match rng.below(100) {
        0..8 => vec![InsuredType::Particulier],
        8..12 => vec![InsuredType::Pro],
        _ => Vec::new(),
    };
    Skills {
        claim_types: some_of(rng, &CLAIM_TYPES).into_iter().map(code).collect(),
        expertise_types: some_of(rng, &EXPERTISE_TYPES),
        insurers: insurers
            .into_iter()
            .map(|i| Insurer::parse(i).expect("valid"))
            .collect(),
        insured_types,
        dwelling_types: if rng.chance(0.05) {
            ["APPARTEMENT", "MAISON"]
                .map(|c| Code::parse(c).expect("valid"))
                .to_vec()
        } else {
            Vec::new()
        },
        max_stake: rng
            .chance(0.7)
            .then(|| Money::from_euros(10_000 + 5_000 * rng.below(19)).expect("small")),
    }
}

fn code(claim_type: &str) -> ClaimType {
    ClaimType::parse(claim_type).expect("a valid code")
}

/// The usual lengths, a quarter of them 15 minutes shorter or longer.
fn durations(rng: &mut SplitMix64) -> Durations {
    let mut vary = |minutes: u16| match rng.below(8) {
        0 => minutes - 15,
        1 => minutes + 15,
        _ => minutes,
    };
    Durations {
        visio: vary(45),
        ead: vary(60),
        ess: vary(90),
        contradictoire: vary(120),
    }
}

/// Monday to Friday 08:30–12:00 and 13:30–18:00, give or take half an hour; some work
/// part time (a day or an afternoon off, mostly Wednesday), some on Saturday mornings.
fn weekly_hours(rng: &mut SplitMix64) -> WeeklyHours {
    let day = vec![
        (rng.pick(&[510, 510, 480, 540]), 720),
        (810, rng.pick(&[1080, 1080, 1020, 1110])),
    ];
    let mut days: Vec<_> = [Mon, Tue, Wed, Thu, Fri].map(|d| (d, day.clone())).to_vec();
    if rng.chance(0.15) {
        let off = &mut days[rng.pick(&[2, 2, 2, 0, 4])].1;
        if rng.chance(0.5) {
            off.clear();
        } else {
            off.truncate(1);
        }
    }
    if rng.chance(0.1) {
        days.push((Sat, vec![(540, 720)]));
    }
    WeeklyHours::from_days(days).expect("sorted ranges")
}

/// The instant of local `minute` of `date` (the first one when repeated, the next hour's
/// when skipped by a DST change).
fn local(tz: Tz, date: NaiveDate, minute: u16) -> DateTime<Utc> {
    let naive = date.and_time(NaiveTime::MIN) + TimeDelta::minutes(i64::from(minute));
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(naive + TimeDelta::hours(1)))
                .earliest()
        })
        .expect("a local time exists within the hour")
        .with_timezone(&Utc)
}

fn calendar(profile: &ExpertProfile, config: &SyntheticConfig, rng: &mut SplitMix64) -> Calendar {
    let tz = profile.time_zone.tz();
    let first = config.start.with_timezone(&tz).date_naive();
    let (mut absences, mut appointments) = (Vec::new(), Vec::new());
    for date in (0..config.days).filter_map(|d| first.checked_add_days(Days::new(d.into()))) {
        if profile.weekly_hours.day(date.weekday()).is_empty() {
            continue;
        }
        if rng.chance(ABSENCE_RATE) {
            let end = date.succ_opt().unwrap_or(date);
            absences.push(Interval {
                start: local(tz, date, 0),
                end: local(tz, end, 0),
            });
        } else {
            fill_day(profile, config.occupancy, date, rng, &mut appointments);
        }
    }
    Calendar::new(absences, appointments)
}

/// Books about `occupancy` of the day's working time: draws the appointments, then lays
/// them out in the working ranges on the 15-minute grid with the idle time spread randomly
/// between them, each after the previous one by the buffer or the travel between on-site
/// places, whichever is longer.
fn fill_day(
    profile: &ExpertProfile,
    occupancy: f64,
    date: NaiveDate,
    rng: &mut SplitMix64,
    out: &mut Vec<Booked>,
) {
    let tz = profile.time_zone.tz();
    let mut ranges = profile.weekly_hours.day(date.weekday()).iter();
    let working: u16 = ranges.clone().map(|r| r.end() - r.start()).sum();
    let planned = draw_day(profile, occupancy * f64::from(working), rng);
    let busy: u16 = planned.iter().map(|p| p.0 + profile.buffer_minutes).sum();
    let mut idle = working.saturating_sub(busy);
    let (Some(mut range), mut previous) = (ranges.next(), None) else {
        return;
    };
    for (index, &(minutes, place)) in planned.iter().enumerate() {
        let gaps = u16::try_from(planned.len() - index + 1).unwrap_or(u16::MAX);
        let steps = u16::try_from(rng.below(u64::from(2 * idle / gaps / 15) + 1)).unwrap_or(0);
        let mut slack = (15 * steps).min(idle);
        idle -= slack;
        let earliest = previous.map_or(0, |(end, from): (u16, Option<GeoPoint>)| {
            let travel = match (from, place) {
                (Some(a), Some(b)) => travel_minutes(&a, &b, &Settings::default()),
                _ => 0,
            };
            let apart = profile
                .buffer_minutes
                .max(u16::try_from(travel).unwrap_or(999));
            end.saturating_add(apart)
        });
        loop {
            let start = earliest.max(range.start()).div_ceil(15) * 15 + slack;
            if start + minutes <= range.end() {
                out.push(Booked {
                    start: local(tz, date, start),
                    end: local(tz, date, start + minutes),
                    place,
                });
                previous = Some((start + minutes, place));
                break;
            }
            if slack > 0 {
                slack = 0;
            } else if let Some(next) = ranges.next() {
                range = next;
            } else {
                return;
            }
        }
    }
}

/// The day's appointments until `target` minutes are booked (to the nearest one) or the
/// daily maximum is reached: length, and place when on site.
fn draw_day(
    profile: &ExpertProfile,
    mut target: f64,
    rng: &mut SplitMix64,
) -> Vec<(u16, Option<GeoPoint>)> {
    let max = usize::from(profile.max_appointments_per_day.unwrap_or(u16::MAX));
    let mut planned = Vec::new();
    while planned.len() < max {
        let kind = rng.pick(&profile.skills.expertise_types);
        let minutes = profile.durations_minutes.get(kind);
        if target < f64::from(minutes) / 2.0 {
            break;
        }
        let base = profile
            .base
            .as_ref()
            .map(|b| b.geo)
            .filter(|_| !kind.is_remote());
        planned.push((minutes, base.map(|b| rng.near(b.lat(), b.lon(), 8.0))));
        target -= f64::from(minutes);
    }
    planned
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> SyntheticConfig {
        SyntheticConfig {
            experts: 300,
            ..SyntheticConfig::default()
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_data_and_another_seed_does_not() {
        let config = small();
        assert_eq!(generate(&config), generate(&config));
        let other = SyntheticConfig { seed: 7, ..config };
        assert_ne!(generate(&config).experts, generate(&other).experts);
    }

    #[test]
    fn a_small_dataset_is_the_start_of_a_larger_one() {
        let large = generate(&SyntheticConfig {
            experts: 500,
            ..small()
        });
        let small = generate(&small());
        assert_eq!(small.experts[..], large.experts[..300]);
        assert_eq!(small.calendars[..], large.calendars[..300]);
    }

    #[test]
    fn every_profile_passes_its_own_checks() {
        for expert in generate(&small()).experts {
            assert_eq!(expert.profile.check(), Ok(()), "{}", expert.id);
        }
    }

    #[test]
    fn every_base_lies_in_metropolitan_france() {
        for expert in generate(&small()).experts {
            let geo = expert.profile.base.expect("a base").geo;
            assert!(
                (FRANCE_LAT.0..=FRANCE_LAT.1).contains(&geo.lat()),
                "{geo:?}"
            );
            assert!(
                (FRANCE_LON.0..=FRANCE_LON.1).contains(&geo.lon()),
                "{geo:?}"
            );
        }
    }

    #[test]
    fn appointments_fill_roughly_the_requested_share_of_working_time() {
        for occupancy in [0.3, 0.6] {
            let config = SyntheticConfig {
                occupancy,
                ..small()
            };
            let data = generate(&config);
            let (mut busy, mut working) = (0, 0);
            for (expert, calendar) in data.experts.iter().zip(&data.calendars) {
                let first = config.start.with_timezone(&Paris).date_naive();
                for date in (0..config.days).map(|d| first + Days::new(d.into())) {
                    let day_start = local(Paris, date, 0);
                    if calendar.absences.iter().any(|a| a.start == day_start) {
                        continue;
                    }
                    let hours = expert.profile.weekly_hours.day(date.weekday());
                    working += hours
                        .iter()
                        .map(|r| i64::from(r.end() - r.start()))
                        .sum::<i64>();
                }
                busy += calendar
                    .appointments
                    .iter()
                    .map(|a| (a.end - a.start).num_minutes())
                    .sum::<i64>();
            }
            #[allow(clippy::cast_precision_loss)]
            let measured = busy as f64 / working as f64;
            assert!(
                (measured - occupancy).abs() < 0.08,
                "{measured} for {occupancy}"
            );
        }
    }

    #[test]
    fn appointments_of_an_expert_never_come_closer_than_the_buffer() {
        let data = generate(&small());
        for (expert, calendar) in data.experts.iter().zip(&data.calendars) {
            let buffer = TimeDelta::minutes(expert.profile.buffer_minutes.into());
            for pair in calendar.appointments.windows(2) {
                assert!(pair[0].end + buffer <= pair[1].start, "{}", expert.id);
            }
        }
    }
}
