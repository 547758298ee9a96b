//! A deterministic synthetic population of experts and calendars, for benchmarks and load
//! tests.
//!
//! [`generate`] spreads experts over metropolitan France in proportion to the population
//! of about forty urban areas (Île-de-France weighing the most), gives each one the zone,
//! skills, durations and working hours a real firm would, and fills their calendars with
//! CONFIRMED appointments up to the requested occupancy, plus a few days off.
//!
//! The output depends on the [`SyntheticConfig`] only, on every platform: draws come from
//! [`SyntheticRng`], a portable generator, through rand's portable distributions. Each
//! expert draws from its own stream, so the first `n` experts of a large dataset are
//! exactly those of a dataset of `n`.

mod calendars;
mod profiles;

use chrono::{DateTime, TimeZone as _, Utc};
use chrono_tz::Europe::Paris;
use rand::seq::IndexedRandom as _;
use rand::{Rng as _, SeedableRng as _};

use crate::domain::GeoPoint;
use crate::engine::{Calendar, ExpertEntry};

use calendars::calendar;
use profiles::expert;

/// Latitudes of metropolitan France, Corsica included.
pub const FRANCE_LAT: (f64, f64) = (41.3, 51.1);
/// Longitudes of metropolitan France, Corsica included.
pub const FRANCE_LON: (f64, f64) = (-5.2, 9.6);
/// Share of working expert-days taken by an absence.
const ABSENCE_RATE: f64 = 0.05;
/// Kilometres per degree of latitude.
const KM_PER_DEGREE: f64 = 111.195;

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
            let mut rng = SyntheticRng::seed_from_u64(config.seed);
            rng.set_stream(index as u64);
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

/// The generator of every synthetic draw. ChaCha8 gives the same numbers on every
/// platform and in every rand_chacha release; rand's `StdRng` and `SmallRng` may change
/// algorithm in any rand release, and `SmallRng` differs between 32- and 64-bit targets.
pub type SyntheticRng = rand_chacha::ChaCha8Rng;

/// One element of a non-empty list.
fn pick<T: Copy>(rng: &mut SyntheticRng, items: &[T]) -> T {
    *items.choose(rng).expect("a non-empty list")
}

/// A point about `spread_km` (Rayleigh-distributed, capped at three times) from
/// `(lat, lon)`, kept inside metropolitan France.
fn around(rng: &mut SyntheticRng, lat: f64, lon: f64, spread_km: f64) -> GeoPoint {
    let unit: f64 = rng.random();
    let distance = (spread_km * (-2.0 * (1.0 - unit).ln()).sqrt()).min(3.0 * spread_km);
    let bearing = rng.random::<f64>() * std::f64::consts::TAU;
    let lat2 = lat + distance * bearing.cos() / KM_PER_DEGREE;
    let lon2 = lon + distance * bearing.sin() / (KM_PER_DEGREE * lat.to_radians().cos());
    let lat2 = lat2.clamp(FRANCE_LAT.0, FRANCE_LAT.1);
    GeoPoint::new(lat2, lon2.clamp(FRANCE_LON.0, FRANCE_LON.1)).expect("inside France")
}

#[cfg(test)]
mod tests;
