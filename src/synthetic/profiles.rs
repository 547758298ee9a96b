//! Expert profiles: where experts live, what they cover, what they do, when they work.

use chrono::Weekday::{Fri, Mon, Sat, Thu, Tue, Wed};
use chrono_tz::Europe::Paris;

use crate::domain::expert::{Base, Durations, ExpertProfile, Skills, Zone};
use crate::domain::text::Name;
use crate::domain::{Area, ClaimType, Code, Department, ExpertiseType, GeoPoint, InsuredType};
use crate::domain::{Insurer, Money, PartnerKind, WeeklyHours};
use crate::engine::ExpertEntry;

use rand::Rng as _;
use rand::seq::IndexedRandom as _;

use super::{KM_PER_DEGREE, SyntheticRng, around, pick};

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

/// A city drawn in proportion to its weight.
fn city(rng: &mut SyntheticRng) -> &'static City {
    CITIES
        .choose_weighted(rng, |c| c.4)
        .expect("positive weights")
}

/// The entries of `table` each kept with its probability, or the first when none is.
pub(super) fn some_of<T: Copy>(rng: &mut SyntheticRng, table: &[(T, f64)]) -> Vec<T> {
    let kept: Vec<T> = table
        .iter()
        .filter(|e| rng.random_bool(e.1))
        .map(|e| e.0)
        .collect();
    if kept.is_empty() {
        vec![table[0].0]
    } else {
        kept
    }
}

/// `count` distinct elements of `items`, in random order.
fn distinct<T: Copy>(rng: &mut SyntheticRng, items: &[T], count: usize) -> Vec<T> {
    items.choose_multiple(rng, count).copied().collect()
}

pub(super) fn expert(index: usize, rng: &mut SyntheticRng) -> ExpertEntry {
    let &(_, department, lat, lon, weight, near) = city(rng);
    let spread = (3.0 + f64::from(weight) / 400.0).min(8.0);
    let base = around(rng, lat, lon, spread);
    let name = format!(
        "{}. {}",
        pick(rng, b"ABCDEFGHIJLMNPRSTV") as char,
        pick(rng, &SURNAMES)
    );
    let profile = ExpertProfile {
        external_ref: None,
        display_name: Name::parse(&name).expect("a short name"),
        email: None,
        phone: None,
        partner_kind: if rng.random_bool(0.03) {
            PartnerKind::Ren
        } else {
            PartnerKind::Expert
        },
        active: !rng.random_bool(0.02),
        time_zone: Paris.into(),
        zone: zone(rng, department, near, &base),
        base: Some(Base {
            address: None,
            geo: base,
        }),
        skills: skills(rng),
        durations_minutes: durations(rng),
        buffer_minutes: pick(rng, &[0, 0, 10, 15, 15, 20, 30]),
        max_appointments_per_day: Some(pick(rng, &[3, 4, 4, 5, 5, 6])),
        min_notice_hours: pick(rng, &[0, 2, 4, 12, 24, 24, 48]),
        weekly_hours: weekly_hours(rng),
    };
    ExpertEntry {
        id: format!("exp-{index:05}"),
        profile,
    }
}

/// Own department, 0 to 3 neighbours, often a 20–60 km radius, rarely a hexagonal area.
fn zone(rng: &mut SyntheticRng, department: &str, near: &[&str], base: &GeoPoint) -> Zone {
    let count = rng.random_range(0..4);
    let departments = std::iter::once(department)
        .chain(distinct(rng, near, count))
        .map(|d| Department::parse(d).expect("a real department"))
        .collect();
    let radius_km = rng
        .random_bool(0.6)
        .then(|| pick(rng, &[20, 25, 30, 35, 40, 45, 50, 55, 60]));
    let area = rng.random_bool(0.03).then(|| {
        let km = 25.0 + 15.0 * rng.random::<f64>();
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

fn skills(rng: &mut SyntheticRng) -> Skills {
    let insurers = if rng.random_bool(0.25) {
        let count = rng.random_range(2..6);
        distinct(rng, &INSURERS, count)
    } else {
        Vec::new()
    };
    let insured_types = match rng.random_range(0..100) {
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
        dwelling_types: if rng.random_bool(0.05) {
            ["APPARTEMENT", "MAISON"]
                .map(|c| Code::parse(c).expect("valid"))
                .to_vec()
        } else {
            Vec::new()
        },
        max_stake: rng
            .random_bool(0.7)
            .then(|| Money::from_euros(10_000 + 5_000 * rng.random_range(0..19)).expect("small")),
    }
}

fn code(claim_type: &str) -> ClaimType {
    ClaimType::parse(claim_type).expect("a valid code")
}

/// The usual lengths, a quarter of them 15 minutes shorter or longer.
fn durations(rng: &mut SyntheticRng) -> Durations {
    let mut vary = |minutes: u16| match rng.random_range(0..8) {
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
fn weekly_hours(rng: &mut SyntheticRng) -> WeeklyHours {
    let day = vec![
        (pick(rng, &[510, 510, 480, 540]), 720),
        (810, pick(rng, &[1080, 1080, 1020, 1110])),
    ];
    let mut days: Vec<_> = [Mon, Tue, Wed, Thu, Fri].map(|d| (d, day.clone())).to_vec();
    if rng.random_bool(0.15) {
        let off = &mut days[pick(rng, &[2, 2, 2, 0, 4])].1;
        if rng.random_bool(0.5) {
            off.clear();
        } else {
            off.truncate(1);
        }
    }
    if rng.random_bool(0.1) {
        days.push((Sat, vec![(540, 720)]));
    }
    WeeklyHours::from_days(days).expect("sorted ranges")
}
