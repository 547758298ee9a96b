//! Where things are: geographic points, service areas and postal addresses.
//!
//! Named `place` so as not to clash with the `geo` crate.

use geo::Intersects as _;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type};
use utoipa::{PartialSchema, ToSchema};

/// Most positions allowed in an [`Area`], all rings together.
const MAX_AREA_POSITIONS: usize = 10_000;

/// Error of [`GeoPoint::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum GeoPointError {
    /// Latitude outside `[-90, 90]` or not finite.
    #[error("lat must be between -90 and 90")]
    Latitude,
    /// Longitude outside `[-180, 180]` or not finite.
    #[error("lon must be between -180 and 180")]
    Longitude,
}

/// A WGS 84 point: latitude in `[-90, 90]`, longitude in `[-180, 180]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GeoPoint {
    /// Latitude in degrees.
    #[schema(minimum = -90, maximum = 90, example = 48.8566)]
    lat: f64,
    /// Longitude in degrees.
    #[schema(minimum = -180, maximum = 180, example = 2.3522)]
    lon: f64,
}

impl GeoPoint {
    /// Builds a point, checking both coordinates are finite and in range.
    pub fn new(lat: f64, lon: f64) -> Result<Self, GeoPointError> {
        if !(-90.0..=90.0).contains(&lat) {
            Err(GeoPointError::Latitude)
        } else if !(-180.0..=180.0).contains(&lon) {
            Err(GeoPointError::Longitude)
        } else {
            Ok(Self { lat, lon })
        }
    }

    /// Latitude in degrees.
    pub fn lat(&self) -> f64 {
        self.lat
    }

    /// Longitude in degrees.
    pub fn lon(&self) -> f64 {
        self.lon
    }

    /// The point for the `geo` crate: `x` is the longitude, `y` the latitude.
    pub fn to_point(&self) -> geo::Point<f64> {
        geo::Point::new(self.lon, self.lat)
    }
}

impl<'de> Deserialize<'de> for GeoPoint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The unchecked JSON shape.
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            lat: f64,
            lon: f64,
        }
        let Raw { lat, lon } = Raw::deserialize(deserializer)?;
        Self::new(lat, lon).map_err(D::Error::custom)
    }
}

/// Error of building an [`Area`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AreaError {
    /// A geometry other than `Polygon` or `MultiPolygon`.
    #[error("must be a Polygon or MultiPolygon, not a {0}")]
    NotAPolygon(&'static str),
    /// A `MultiPolygon` without polygons, or a polygon without rings.
    #[error("must have at least one polygon, each with at least one ring")]
    Empty,
    /// A ring of fewer than 4 positions.
    #[error("each ring must have at least 4 positions")]
    RingTooShort,
    /// A ring whose last position differs from its first.
    #[error("each ring must end at its first position")]
    RingNotClosed,
    /// A position that is not `[lon, lat]` (optionally with altitude) in range.
    #[error("each position must be [longitude, latitude] within range")]
    BadPosition,
    /// More than 10,000 positions in total.
    #[error("must have at most 10000 positions")]
    TooManyPositions,
}

/// A service area: a `GeoJSON` `Polygon` or `MultiPolygon` geometry with closed
/// rings of at least 4 positions, coordinates in range and at most 10,000
/// positions. Serializes back to the geometry it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    geometry: geojson::Geometry,
    shape: geo::MultiPolygon<f64>,
}

impl Area {
    /// Checks a `GeoJSON` geometry and builds the area.
    pub fn from_geometry(geometry: geojson::Geometry) -> Result<Self, AreaError> {
        let polygons: Vec<&geojson::PolygonType> = match &geometry.value {
            geojson::Value::Polygon(rings) => vec![rings],
            geojson::Value::MultiPolygon(polygons) => polygons.iter().collect(),
            other => return Err(AreaError::NotAPolygon(other.type_name())),
        };
        let total: usize = polygons.iter().flat_map(|p| p.iter()).map(Vec::len).sum();
        if total > MAX_AREA_POSITIONS {
            return Err(AreaError::TooManyPositions);
        }
        if polygons.is_empty() || polygons.iter().any(|p| p.is_empty()) {
            return Err(AreaError::Empty);
        }
        let shape = polygons
            .into_iter()
            .map(|rings| {
                let mut rings = rings.iter().map(|ring| to_line_string(ring));
                let exterior = rings.next().ok_or(AreaError::Empty)??;
                Ok(geo::Polygon::new(
                    exterior,
                    rings.collect::<Result<_, _>>()?,
                ))
            })
            .collect::<Result<Vec<_>, AreaError>>()?;
        Ok(Self {
            geometry,
            shape: geo::MultiPolygon(shape),
        })
    }

    /// Whether the point lies inside the area or on its boundary.
    pub fn contains(&self, point: &GeoPoint) -> bool {
        self.shape.intersects(&point.to_point())
    }

    /// The area for the `geo` crate (`x` = longitude, `y` = latitude).
    pub fn multi_polygon(&self) -> &geo::MultiPolygon<f64> {
        &self.shape
    }

    /// The `GeoJSON` geometry the area was read from.
    pub fn geometry(&self) -> &geojson::Geometry {
        &self.geometry
    }
}

/// Checks one ring and converts it to a `geo` line string.
fn to_line_string(ring: &[geojson::Position]) -> Result<geo::LineString<f64>, AreaError> {
    if ring.len() < 4 {
        return Err(AreaError::RingTooShort);
    }
    let coords = ring
        .iter()
        .map(|pos| match pos.as_slice() {
            [lon, lat] | [lon, lat, _] => GeoPoint::new(*lat, *lon)
                .map(|p| geo::coord! { x: p.lon, y: p.lat })
                .map_err(|_| AreaError::BadPosition),
            _ => Err(AreaError::BadPosition),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if coords.first() != coords.last() {
        return Err(AreaError::RingNotClosed);
    }
    Ok(geo::LineString(coords))
}

impl TryFrom<geojson::Geometry> for Area {
    type Error = AreaError;
    fn try_from(geometry: geojson::Geometry) -> Result<Self, Self::Error> {
        Self::from_geometry(geometry)
    }
}

impl Serialize for Area {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.geometry.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Area {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_geometry(geojson::Geometry::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

impl PartialSchema for Area {
    fn schema() -> RefOr<Schema> {
        let position = || {
            ArrayBuilder::new()
                .items(ObjectBuilder::new().schema_type(Type::Number))
                .min_items(Some(2))
                .max_items(Some(3))
                .description(Some("[longitude, latitude]"))
        };
        let ring = || ArrayBuilder::new().items(position()).min_items(Some(4));
        let polygon = || ArrayBuilder::new().items(ring()).min_items(Some(1));
        let geometry = |name: &str, coordinates: ArrayBuilder| {
            ObjectBuilder::new()
                .property(
                    "type",
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .enum_values(Some([name])),
                )
                .property("coordinates", coordinates)
                .required("type")
                .required("coordinates")
        };
        let multi = ArrayBuilder::new().items(polygon()).min_items(Some(1));
        OneOfBuilder::new()
            .item(geometry("Polygon", polygon()))
            .item(geometry("MultiPolygon", multi))
            .description(Some(
                "GeoJSON Polygon or MultiPolygon; closed rings, at most 10000 positions",
            ))
            .into()
    }
}

impl ToSchema for Area {}

/// Error of [`CountryCode::parse`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be two uppercase letters (ISO 3166-1 alpha-2)")]
pub struct CountryCodeError;

/// An ISO 3166-1 alpha-2 country code such as `FR`. Defaults to `FR`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, pattern = "^[A-Z]{2}$", example = "FR")]
pub struct CountryCode(String);
string_newtype!(CountryCode, CountryCodeError);

impl CountryCode {
    /// Parses a country code: exactly two ASCII uppercase letters.
    pub fn parse(s: &str) -> Result<Self, CountryCodeError> {
        if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(s.to_owned()))
        } else {
            Err(CountryCodeError)
        }
    }
}

impl Default for CountryCode {
    fn default() -> Self {
        Self("FR".to_owned())
    }
}

mod address;
pub use address::{Address, AddressError, Place};

#[cfg(test)]
mod tests;
