//! Distances and travel times, estimated from the great-circle distance.

use super::settings::Settings;
use crate::domain::GeoPoint;

/// Mean Earth radius in kilometres (IUGG).
const EARTH_RADIUS_KM: f64 = 6371.0;

/// Great-circle distance between two points, in kilometres (haversine formula).
///
/// Exactly symmetric: the points are put in a fixed order first, so the trip there and
/// the trip back always round to the same number of minutes.
pub fn haversine_km(a: &GeoPoint, b: &GeoPoint) -> f64 {
    Anchor::new(a).km(b)
}

/// A point with the cosine of its latitude worked out once, for the many distances from
/// one place (the same results as [`haversine_km`], bit for bit).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Anchor {
    point: GeoPoint,
    cos_lat: f64,
}

impl Anchor {
    /// Prepares `point`.
    pub fn new(point: &GeoPoint) -> Self {
        Self {
            point: *point,
            cos_lat: point.lat().to_radians().cos(),
        }
    }

    /// [`haversine_km`] from this point to `other`.
    pub fn km(&self, other: &GeoPoint) -> f64 {
        self.km_to(&Self::new(other))
    }

    /// [`haversine_km`] between two prepared points.
    pub fn km_to(&self, other: &Self) -> f64 {
        let (a, b) =
            if (self.point.lat(), self.point.lon()) <= (other.point.lat(), other.point.lon()) {
                (self, other)
            } else {
                (other, self)
            };
        let (lat1, lat2) = (a.point.lat().to_radians(), b.point.lat().to_radians());
        let half_dlat = (lat2 - lat1) / 2.0;
        let half_dlon = (b.point.lon() - a.point.lon()).to_radians() / 2.0;
        let h = half_dlat.sin().powi(2) + a.cos_lat * b.cos_lat * half_dlon.sin().powi(2);
        2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
    }

    /// [`travel_minutes`] from this point to `other`.
    pub fn travel_minutes(&self, other: &GeoPoint, settings: &Settings) -> u32 {
        minutes(self.km(other), settings)
    }

    /// [`travel_minutes`] between two prepared points.
    pub fn travel_minutes_to(&self, other: &Self, settings: &Settings) -> u32 {
        minutes(self.km_to(other), settings)
    }
}

/// A point as a unit vector. The chord between two points is never longer than the arc,
/// so it bounds the travel between them from below without any trigonometry per pair.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unit([f64; 3]);

impl Unit {
    /// Prepares `point`.
    pub fn new(point: &GeoPoint) -> Self {
        let (lat, lon) = (point.lat().to_radians(), point.lon().to_radians());
        Self([lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()])
    }

    /// A number of minutes never above what [`travel_minutes`] gives between the two
    /// points: the chord, shortened by a margin far above rounding errors, rounded the
    /// same way.
    pub fn travel_minutes_floor(&self, other: &Self, settings: &Settings) -> u32 {
        let chord = self
            .0
            .iter()
            .zip(&other.0)
            .map(|(p, q)| (p - q).powi(2))
            .sum::<f64>()
            .sqrt();
        let km = (chord * EARTH_RADIUS_KM * (1.0 - 1e-9) - 1e-9).max(0.0);
        minutes(km, settings)
    }
}

/// Travel time between two points in whole minutes, rounded up:
/// `ceil(haversine_km * detour_factor / speed_kmh * 60)`.
///
/// A non-positive speed gives `u32::MAX` (the trip never ends).
pub fn travel_minutes(a: &GeoPoint, b: &GeoPoint, settings: &Settings) -> u32 {
    minutes(haversine_km(a, b), settings)
}

/// The travel time of `km` kilometres, as [`travel_minutes`] rounds it.
fn minutes(km: f64, settings: &Settings) -> u32 {
    let minutes = (km * settings.detour_factor / settings.speed_kmh * 60.0).ceil();
    if minutes.is_nan() || minutes >= f64::from(u32::MAX) || settings.speed_kmh <= 0.0 {
        u32::MAX
    } else if minutes <= 0.0 {
        0
    } else {
        // In (0, u32::MAX): the cast is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let whole = minutes as u32;
        whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chord_floor_never_exceeds_the_travel_time() {
        use rand::{Rng as _, SeedableRng as _};
        let settings = Settings::default();
        let mut rng = crate::synthetic::SyntheticRng::seed_from_u64(7);
        let mut equal = 0;
        for i in 0..20_000 {
            let a = GeoPoint::new(
                rng.random::<f64>() * 10.0 + 41.0,
                rng.random::<f64>() * 14.0 - 5.0,
            )
            .unwrap();
            // Half the pairs far apart, half within a few metres to a few kilometres.
            let spread = if i % 2 == 0 {
                10.0
            } else {
                10f64.powi(-(i % 7))
            };
            let b = GeoPoint::new(
                (a.lat() + (rng.random::<f64>() - 0.5) * spread).clamp(-90.0, 90.0),
                a.lon() + (rng.random::<f64>() - 0.5) * spread,
            )
            .unwrap();
            let exact = travel_minutes(&a, &b, &settings);
            let floor = Unit::new(&a).travel_minutes_floor(&Unit::new(&b), &settings);
            assert!(floor <= exact, "{a:?} {b:?}: {floor} > {exact}");
            equal += usize::from(floor == exact);
        }
        // A bound worth having: nearly always the exact figure.
        assert!(equal > 18_000, "{equal}");
    }

    fn point(lat: f64, lon: f64) -> GeoPoint {
        GeoPoint::new(lat, lon).unwrap()
    }

    #[test]
    fn paris_to_lyon_is_about_392_km() {
        let km = haversine_km(&point(48.8566, 2.3522), &point(45.7640, 4.8357));
        assert!((km - 392.0).abs() < 2.0, "{km}");
    }

    #[test]
    fn travel_is_rounded_up_to_the_minute() {
        // 10 km at 60 km/h without detour is exactly 10 minutes; a little more rounds up.
        let settings = Settings {
            grid_minutes: 15,
            detour_factor: 1.0,
            speed_kmh: 60.0,
        };
        let a = point(45.0, 5.0);
        assert_eq!(travel_minutes(&a, &a, &settings), 0);
        let b = point(45.0 + 10.0 / 111.195, 5.0);
        let minutes = travel_minutes(&a, &b, &settings);
        assert!((10..=11).contains(&minutes), "{minutes}");
        let c = point(45.0 + 10.5 / 111.195, 5.0);
        assert_eq!(travel_minutes(&a, &c, &settings), 11);
    }

    #[test]
    fn the_default_settings_use_a_detour_and_40_kmh() {
        // 19.9 km great circle -> 25.87 km by road -> 38.8 minutes at 40 km/h.
        let a = point(45.0, 5.0);
        let b = point(45.0 + 19.9 / 111.195, 5.0);
        assert_eq!(travel_minutes(&a, &b, &Settings::default()), 39);
    }
}
