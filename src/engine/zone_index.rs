//! Which experts may cover a place, without looking at every expert of the country.
//!
//! Three indexes, one per zone rule: departments in a hash map, the bounding boxes of
//! the radius around each base in an R-tree, and the bounding boxes of zone polygons in
//! another. They give a superset of the experts whose zone admits the place; the exact
//! rule ([`super::eligibility::in_zone`]) decides.

use std::collections::HashMap;

use geo::BoundingRect as _;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

use super::expert::ExpertEntry;
use super::query::Target;
use crate::domain::{Department, GeoPoint};

/// Kilometres per degree of latitude (and of longitude at the equator).
const KM_PER_DEGREE: f64 = 6371.0 * std::f64::consts::PI / 180.0;
/// Relative margin added to every box, so rounding never loses a boundary case.
const MARGIN: f64 = 0.01;

/// A bounding box (`[lon, lat]` corners) tagged with the expert's index.
type Boxed = GeomWithData<Rectangle<[f64; 2]>, usize>;

/// The three zone indexes.
#[derive(Debug, Default)]
pub(crate) struct ZoneIndex {
    departments: HashMap<Department, Vec<usize>>,
    radii: RTree<Boxed>,
    areas: RTree<Boxed>,
}

impl ZoneIndex {
    /// Indexes the zones of `experts` (by position).
    pub fn new(experts: &[ExpertEntry]) -> Self {
        let mut departments: HashMap<Department, Vec<usize>> = HashMap::new();
        let (mut radii, mut areas) = (Vec::new(), Vec::new());
        for (index, expert) in experts.iter().enumerate() {
            let zone = &expert.profile.zone;
            for department in &zone.departments {
                let list = departments.entry(department.clone()).or_default();
                if list.last() != Some(&index) {
                    list.push(index);
                }
            }
            if let (Some(base), Some(radius)) = (&expert.profile.base, zone.radius_km) {
                radii.push(Boxed::new(radius_box(&base.geo, f64::from(radius)), index));
            }
            if let Some(rect) = zone
                .area
                .as_ref()
                .and_then(|a| a.multi_polygon().bounding_rect())
            {
                let pad = |v: f64| v.abs() * 1e-9 + 1e-9;
                let (lo, hi) = (rect.min(), rect.max());
                let corners = (
                    [lo.x - pad(lo.x), lo.y - pad(lo.y)],
                    [hi.x + pad(hi.x), hi.y + pad(hi.y)],
                );
                areas.push(Boxed::new(
                    Rectangle::from_corners(corners.0, corners.1),
                    index,
                ));
            }
        }
        Self {
            departments,
            radii: RTree::bulk_load(radii),
            areas: RTree::bulk_load(areas),
        }
    }

    /// Calls `each` with every expert whose zone may admit `target`, ascending and without
    /// repeats, and whether the zone lists the target's department (then it admits the
    /// target for sure). The department lists are kept sorted, so only the experts found
    /// by the trees are sorted, and the two merged.
    pub fn candidates(&self, target: &Target, mut each: impl FnMut(usize, bool)) {
        let listed: &[usize] = target
            .department
            .as_ref()
            .and_then(|d| self.departments.get(d))
            .map_or(&[], Vec::as_slice);
        let at = [target.point.lon(), target.point.lat()];
        let mut found: Vec<usize> = self
            .radii
            .locate_all_at_point(&at)
            .map(|b| b.data)
            .collect();
        found.extend(self.areas.locate_all_at_point(&at).map(|b| b.data));
        found.sort_unstable();
        found.dedup();
        let (mut i, mut j) = (0, 0);
        while i < listed.len() || j < found.len() {
            match (listed.get(i), found.get(j)) {
                (Some(&a), Some(&b)) if a == b => {
                    each(a, true);
                    (i, j) = (i + 1, j + 1);
                }
                (Some(&a), Some(&b)) if a < b => {
                    each(a, true);
                    i += 1;
                }
                (Some(&a), None) => {
                    each(a, true);
                    i += 1;
                }
                (_, Some(&b)) => {
                    each(b, false);
                    j += 1;
                }
                (None, None) => break,
            }
        }
    }
}

/// A box holding every point within `radius_km` of `center` (the bounding box of a
/// spherical cap, widened a little), spanning all longitudes near a pole or across the
/// antimeridian.
fn radius_box(center: &GeoPoint, radius_km: f64) -> Rectangle<[f64; 2]> {
    let angle = radius_km / KM_PER_DEGREE * (1.0 + MARGIN) + 1e-9;
    let (lat, lon) = (center.lat(), center.lon());
    let (south, north) = ((lat - angle).max(-90.0), (lat + angle).min(90.0));
    let ratio = angle.to_radians().sin() / lat.to_radians().cos();
    let half_width = if north >= 90.0 || south <= -90.0 || ratio >= 1.0 {
        180.0
    } else {
        ratio.asin().to_degrees() * (1.0 + MARGIN) + 1e-9
    };
    let (west, east) = if lon - half_width < -180.0 || lon + half_width > 180.0 {
        (-180.0, 180.0)
    } else {
        (lon - half_width, lon + half_width)
    };
    Rectangle::from_corners([west, south], [east, north])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::travel::haversine_km;

    #[test]
    fn a_radius_box_holds_the_points_on_its_circle() {
        let center = GeoPoint::new(48.85, 2.35).unwrap();
        let rect = radius_box(&center, 100.0);
        for step in 0..360 {
            let bearing = f64::from(step).to_radians();
            // Walk about 99.9 km from the centre along the bearing.
            let angle: f64 = 99.9 / 6371.0;
            let lat1 = center.lat().to_radians();
            let lat2 = (lat1.sin() * angle.cos() + lat1.cos() * angle.sin() * bearing.cos()).asin();
            let dlon = (bearing.sin() * angle.sin() * lat1.cos())
                .atan2(angle.cos() - lat1.sin() * lat2.sin());
            let p = GeoPoint::new(lat2.to_degrees(), center.lon() + dlon.to_degrees()).unwrap();
            assert!(haversine_km(&center, &p) <= 100.0);
            let (lo, hi) = (rect.lower(), rect.upper());
            assert!(lo[0] <= p.lon() && p.lon() <= hi[0] && lo[1] <= p.lat() && p.lat() <= hi[1]);
        }
    }

    #[test]
    fn a_radius_box_across_the_antimeridian_spans_every_longitude() {
        let wallis = GeoPoint::new(-13.28, -176.17).unwrap();
        let rect = radius_box(&wallis, 1000.0);
        assert_eq!((rect.lower()[0], rect.upper()[0]), (-180.0, 180.0));
    }
}
