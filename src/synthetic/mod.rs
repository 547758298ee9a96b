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

mod calendars;
mod profiles;

use chrono::{DateTime, TimeZone as _, Utc};
use chrono_tz::Europe::Paris;

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

#[cfg(test)]
mod tests;
