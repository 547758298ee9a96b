//! Tests of points, areas, country codes, addresses and places.

use super::super::postal::PostalCode;
use super::*;
use serde_json::{Value, from_value, json, to_value};

fn point(lat: f64, lon: f64) -> GeoPoint {
    GeoPoint::new(lat, lon).unwrap()
}

fn area(v: Value) -> Result<Area, String> {
    from_value::<Area>(v).map_err(|e| e.to_string())
}

/// A square around central Paris, lon 2.2..2.5, lat 48.8..48.9.
fn paris_square() -> Value {
    json!({"type": "Polygon", "coordinates": [[[2.2, 48.8], [2.5, 48.8], [2.5, 48.9], [2.2, 48.9], [2.2, 48.8]]]})
}

fn address_json() -> Value {
    json!({"line1": "12 rue de la Paix", "postalCode": "75002", "city": "Paris"})
}

#[test]
fn a_point_in_range_is_accepted_and_maps_longitude_to_x() {
    let p = point(48.8566, 2.3522);
    assert_eq!((p.to_point().x(), p.to_point().y()), (2.3522, 48.8566));
    assert_eq!((p.lat(), p.lon()), (48.8566, 2.3522));
}

#[test]
fn poles_and_the_antimeridian_are_inside_the_bounds() {
    for (lat, lon) in [(90.0, 180.0), (-90.0, -180.0), (0.0, 0.0)] {
        assert!(GeoPoint::new(lat, lon).is_ok());
    }
}

#[test]
fn out_of_range_or_non_finite_coordinates_are_rejected() {
    assert_eq!(GeoPoint::new(90.0001, 0.0), Err(GeoPointError::Latitude));
    assert_eq!(GeoPoint::new(f64::NAN, 0.0), Err(GeoPointError::Latitude));
    assert_eq!(GeoPoint::new(0.0, -180.5), Err(GeoPointError::Longitude));
    assert_eq!(
        GeoPoint::new(0.0, f64::INFINITY),
        Err(GeoPointError::Longitude)
    );
}

#[test]
fn a_point_deserializes_through_validation_with_lat_and_lon_only() {
    assert_eq!(
        from_value::<GeoPoint>(json!({"lat": 45.0, "lon": 5})).unwrap(),
        point(45.0, 5.0)
    );
    let err = from_value::<GeoPoint>(json!({"lat": 100, "lon": 5})).unwrap_err();
    assert_eq!(err.to_string(), "lat must be between -90 and 90");
    assert!(from_value::<GeoPoint>(json!({"lat": 1, "lon": 2, "alt": 3})).is_err());
    assert!(from_value::<GeoPoint>(json!({"lat": 1})).is_err());
    assert!(from_value::<GeoPoint>(json!({"lat": "1", "lon": 2})).is_err());
    assert_eq!(
        to_value(point(1.5, -2.0)).unwrap(),
        json!({"lat": 1.5, "lon": -2.0})
    );
}

#[test]
fn an_area_contains_inner_and_boundary_points_but_not_outer_ones() {
    let a = area(paris_square()).unwrap();
    assert!(a.contains(&point(48.85, 2.35)));
    assert!(a.contains(&point(48.8, 2.35)));
    assert!(a.contains(&point(48.8, 2.2)));
    assert!(!a.contains(&point(45.76, 4.83)));
    assert!(!a.contains(&point(2.35, 48.85)));
}

#[test]
fn a_point_in_a_hole_is_outside_the_area() {
    let a = area(json!({"type": "Polygon", "coordinates": [
        [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]],
        [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
    ]}))
    .unwrap();
    assert!(a.contains(&point(2.0, 2.0)));
    assert!(!a.contains(&point(5.0, 5.0)));
}

#[test]
fn a_multipolygon_contains_points_of_each_polygon() {
    let a = area(json!({"type": "MultiPolygon", "coordinates": [
        [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]],
        [[[55.2, -21.4], [55.9, -21.4], [55.9, -20.8], [55.2, -20.8], [55.2, -21.4]]]
    ]}))
    .unwrap();
    assert!(a.contains(&point(0.5, 0.5)));
    assert!(a.contains(&point(-21.1, 55.5)));
    assert!(!a.contains(&point(5.0, 5.0)));
    assert_eq!(a.multi_polygon().0.len(), 2);
}

#[test]
fn geometries_other_than_polygons_are_rejected_by_name() {
    let err = area(json!({"type": "Point", "coordinates": [2.3, 48.8]})).unwrap_err();
    assert_eq!(err, "must be a Polygon or MultiPolygon, not a Point");
    let line = json!({"type": "LineString", "coordinates": [[0, 0], [1, 1]]});
    assert_eq!(
        area(line).unwrap_err(),
        "must be a Polygon or MultiPolygon, not a LineString"
    );
    assert!(area(json!({"type": "GeometryCollection", "geometries": []})).is_err());
    assert!(area(json!({"type": "Polygon"})).is_err());
    assert!(area(json!("Polygon")).is_err());
}

#[test]
fn open_short_or_out_of_range_rings_are_rejected() {
    let open =
        json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0.5]]]});
    assert_eq!(
        area(open).unwrap_err(),
        "each ring must end at its first position"
    );
    let short = json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]});
    assert_eq!(
        area(short).unwrap_err(),
        "each ring must have at least 4 positions"
    );
    let far = json!({"type": "Polygon", "coordinates": [[[0, 0], [190, 0], [1, 1], [0, 0]]]});
    assert_eq!(
        area(far).unwrap_err(),
        "each position must be [longitude, latitude] within range"
    );
    let four_d =
        json!({"type": "Polygon", "coordinates": [[[0, 0], [1, 0, 0, 0], [1, 1], [0, 0]]]});
    assert_eq!(
        area(four_d).unwrap_err(),
        "each position must be [longitude, latitude] within range"
    );
    let flat = json!({"type": "Polygon", "coordinates": [[[0, 0], [1], [1, 1], [0, 0]]]});
    assert!(area(flat).unwrap_err().contains("position"));
}

#[test]
fn polygons_without_rings_and_empty_multipolygons_are_rejected() {
    let msg = "must have at least one polygon, each with at least one ring";
    assert_eq!(
        area(json!({"type": "Polygon", "coordinates": []})).unwrap_err(),
        msg
    );
    assert_eq!(
        area(json!({"type": "MultiPolygon", "coordinates": []})).unwrap_err(),
        msg
    );
    assert_eq!(
        area(json!({"type": "MultiPolygon", "coordinates": [[]]})).unwrap_err(),
        msg
    );
}

#[test]
fn positions_with_an_altitude_are_accepted() {
    let a = area(
        json!({"type": "Polygon", "coordinates": [[[0, 0, 5], [1, 0, 5], [1, 1, 5], [0, 0, 5]]]}),
    );
    assert!(a.unwrap().contains(&point(0.1, 0.5)));
}

#[test]
fn an_area_may_have_ten_thousand_positions_but_not_more() {
    let ring = |n: u32| {
        let mut ring: Vec<Value> = (0..n - 1)
            .map(|i| json!([f64::from(i) * 1e-4, f64::from(i % 2) * 1e-4]))
            .collect();
        ring.push(ring[0].clone());
        json!({"type": "Polygon", "coordinates": [ring]})
    };
    assert!(area(ring(10_000)).is_ok());
    assert_eq!(
        area(ring(10_001)).unwrap_err(),
        "must have at most 10000 positions"
    );
}

#[test]
fn an_area_serializes_back_to_its_original_geometry() {
    let original = json!({"type": "Polygon", "bbox": [2.2, 48.8, 2.5, 48.9], "coordinates": paris_square()["coordinates"]});
    let a = area(original.clone()).unwrap();
    assert_eq!(to_value(&a).unwrap(), original);
    assert_eq!(area(to_value(&a).unwrap()).unwrap(), a);
    assert_eq!(a.geometry().value.type_name(), "Polygon");
}

#[test]
fn country_codes_are_two_uppercase_letters_defaulting_to_fr() {
    assert_eq!(CountryCode::default().as_str(), "FR");
    assert!(CountryCode::parse("BE").is_ok());
    for bad in ["fr", "F", "FRA", "", "F1", "ÉT"] {
        assert_eq!(CountryCode::parse(bad), Err(CountryCodeError), "{bad:?}");
    }
}

#[test]
fn an_address_reads_camel_case_and_defaults_to_france() {
    let a: Address = from_value(address_json()).unwrap();
    assert_eq!(
        (a.line1(), a.line2(), a.city()),
        ("12 rue de la Paix", None, "Paris")
    );
    assert_eq!(
        (a.postal_code().as_str(), a.country().as_str()),
        ("75002", "FR")
    );
    let mut expected = address_json();
    expected["country"] = json!("FR");
    assert_eq!(to_value(&a).unwrap(), expected);
}

#[test]
fn address_texts_are_trimmed_and_a_blank_second_line_is_absent() {
    let mut v = address_json();
    v["line1"] = json!("  3 place Bellecour ");
    v["line2"] = json!("   ");
    v["country"] = json!("BE");
    let a: Address = from_value(v).unwrap();
    assert_eq!(
        (a.line1(), a.line2(), a.country().as_str()),
        ("3 place Bellecour", None, "BE")
    );
    let b = Address::new(
        "1 rue A",
        Some(" Bât. B "),
        PostalCode::parse("69002").unwrap(),
        "Lyon",
        CountryCode::default(),
    );
    assert_eq!(b.unwrap().line2(), Some("Bât. B"));
}

#[test]
fn invalid_address_fields_are_rejected_with_the_field_name() {
    let with = |key: &str, value: Value| {
        let mut v = address_json();
        v[key] = value;
        from_value::<Address>(v).unwrap_err().to_string()
    };
    assert_eq!(with("line1", json!(" ")), "line1 must not be empty");
    assert_eq!(
        with("city", json!("x".repeat(201))),
        "city must be at most 200 characters"
    );
    assert_eq!(
        with("line2", json!("a\u{7}b")),
        "line2 must not contain control characters"
    );
    assert_eq!(with("postalCode", json!("7500")), "must be 5 digits");
    assert!(with("country", json!("fr")).contains("ISO 3166-1"));
    assert!(with("zip", json!("75002")).contains("unknown field `zip`"));
    assert!(from_value::<Address>(json!({"line1": "x", "city": "y"})).is_err());
    let mut ok = address_json();
    ok["line1"] = json!("é".repeat(200));
    assert!(from_value::<Address>(ok).is_ok());
}

#[test]
fn a_place_has_an_address_and_optional_coordinates() {
    let bare: Place = from_value(json!({"address": address_json()})).unwrap();
    assert_eq!(bare.geo, None);
    assert!(to_value(&bare).unwrap().get("geo").is_none());
    let located: Place =
        from_value(json!({"address": address_json(), "geo": {"lat": 48.87, "lon": 2.33}})).unwrap();
    assert_eq!(located.geo, Some(point(48.87, 2.33)));
    assert!(
        from_value::<Place>(json!({"address": address_json(), "geo": {"lat": 91, "lon": 0}}))
            .is_err()
    );
    assert!(from_value::<Place>(json!({"address": address_json(), "note": "x"})).is_err());
}

#[test]
fn schemas_describe_bounds_required_fields_and_geometry_kinds() {
    use utoipa::PartialSchema;
    let p = to_value(GeoPoint::schema()).unwrap();
    assert_eq!(p["properties"]["lat"]["maximum"], json!(90));
    let a = to_value(Address::schema()).unwrap();
    assert_eq!(a["required"], json!(["line1", "postalCode", "city"]));
    let g = to_value(Area::schema()).unwrap();
    assert_eq!(
        g["oneOf"][1]["properties"]["type"]["enum"],
        json!(["MultiPolygon"])
    );
}
