//! Approximate location of French postal codes.
//!
//! The table is bundled at compile time from `data/fr_postal_centroids.csv` (see
//! `data/README.md`): one centroid per 5-digit postal code of metropolitan France, Corsica
//! and the overseas departments and collectivities, computed as the mean position of the
//! GeoNames places sharing the code. Postal-code data © GeoNames, <https://www.geonames.org>,
//! licensed CC BY 4.0.
//!
//! There is no I/O at run time: the CSV is embedded with `include_str!` and parsed once, on
//! first use, into a sorted array that lookups binary-search. CEDEX and other
//! special-distribution codes are not in the table.

use std::sync::OnceLock;

/// The bundled table, `postal_code,lat,lon` with four decimals, sorted by code.
const TABLE_CSV: &str = include_str!("../../../data/fr_postal_centroids.csv");

/// Expected first line of [`TABLE_CSV`].
const HEADER: &str = "postal_code,lat,lon";

/// Coordinates are stored in fixed point, in ten-thousandths of a degree: the precision of
/// the CSV, so each value is kept exactly.
const SCALE: f64 = 10_000.0;

/// Decimal places of a coordinate in the CSV.
const DECIMALS: usize = 4;

/// One row of the table: a postal code and its centroid in ten-thousandths of a degree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    /// The postal code as a number (`"01000"` is `1000`).
    code: u32,
    /// Latitude, 1e-4 degree.
    lat: i32,
    /// Longitude, 1e-4 degree.
    lon: i32,
}

/// The parsed table, built on first use.
fn table() -> &'static [Entry] {
    static TABLE: OnceLock<Vec<Entry>> = OnceLock::new();
    TABLE.get_or_init(|| {
        parse_table(TABLE_CSV)
            .expect("bundled data/fr_postal_centroids.csv is valid (checked by the unit tests)")
    })
}

/// Centroid of a French postal code, from the bundled GeoNames-derived table.
///
/// Returns `(latitude, longitude)` in decimal degrees (WGS 84), or `None` when the code is
/// not exactly five ASCII digits or is not in the table (unknown, or a CEDEX code).
#[must_use]
pub fn centroid(postal_code: &str) -> Option<(f64, f64)> {
    let code = parse_code(postal_code)?;
    let table = table();
    let index = table.binary_search_by_key(&code, |entry| entry.code).ok()?;
    let entry = table[index];
    Some((f64::from(entry.lat) / SCALE, f64::from(entry.lon) / SCALE))
}

/// Number of postal codes in the table.
#[must_use]
pub fn len() -> usize {
    table().len()
}

/// Parses a postal code made of exactly five ASCII digits.
fn parse_code(text: &str) -> Option<u32> {
    let bytes = text.as_bytes();
    if bytes.len() != 5 {
        return None;
    }
    bytes.iter().try_fold(0_u32, |acc, &byte| {
        byte.is_ascii_digit()
            .then(|| acc * 10 + u32::from(byte - b'0'))
    })
}

/// Parses a coordinate written with exactly [`DECIMALS`] decimals (`-20.8823`) into
/// ten-thousandths of a degree, checking that its magnitude is at most `limit` degrees.
fn parse_fixed(text: &str, limit: i32) -> Option<i32> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.')?;
    let all_digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(whole) || whole.len() > 3 || fraction.len() != DECIMALS || !all_digits(fraction)
    {
        return None;
    }
    let whole: i32 = whole.parse().ok()?;
    let fraction: i32 = fraction.parse().ok()?;
    let magnitude = whole.checked_mul(10_000)?.checked_add(fraction)?;
    if magnitude > limit.checked_mul(10_000)? {
        return None;
    }
    Some(if negative { -magnitude } else { magnitude })
}

/// Parses the whole CSV, requiring the header, well-formed rows and strictly increasing
/// codes (so that the result can be binary-searched).
fn parse_table(csv: &str) -> Result<Vec<Entry>, String> {
    let mut lines = csv.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header == HEADER => {}
        other => {
            return Err(format!(
                "expected header {HEADER:?}, found {:?}",
                other.map(|(_, line)| line)
            ));
        }
    }
    let mut entries: Vec<Entry> = Vec::with_capacity(csv.len() / 20);
    for (index, line) in lines {
        let number = index + 1;
        if line.is_empty() {
            continue;
        }
        let mut fields = line.split(',');
        let (Some(code), Some(lat), Some(lon), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            return Err(format!("line {number}: expected 3 fields in {line:?}"));
        };
        let entry = Entry {
            code: parse_code(code)
                .ok_or_else(|| format!("line {number}: bad postal code {code:?}"))?,
            lat: parse_fixed(lat, 90)
                .ok_or_else(|| format!("line {number}: bad latitude {lat:?}"))?,
            lon: parse_fixed(lon, 180)
                .ok_or_else(|| format!("line {number}: bad longitude {lon:?}"))?,
        };
        if let Some(previous) = entries.last() {
            if previous.code >= entry.code {
                return Err(format!(
                    "line {number}: postal code {code} is not after {:05}",
                    previous.code
                ));
            }
        }
        entries.push(entry);
    }
    if entries.is_empty() {
        return Err("the table has no rows".to_owned());
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::{Entry, TABLE_CSV, centroid, len, parse_code, parse_fixed, parse_table};

    /// Great-circle distance in kilometres.
    fn distance_km((lat1, lon1): (f64, f64), (lat2, lon2): (f64, f64)) -> f64 {
        let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
        let d_phi = (lat2 - lat1).to_radians();
        let d_lambda = (lon2 - lon1).to_radians();
        let a =
            (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
        2.0 * 6371.0 * a.sqrt().asin()
    }

    fn assert_near(code: &str, expected: (f64, f64), max_km: f64) {
        let found = centroid(code).unwrap_or_else(|| panic!("{code} should be in the table"));
        let km = distance_km(found, expected);
        assert!(
            km <= max_km,
            "{code} is at {found:?}, {km:.2} km from {expected:?} (at most {max_km} km expected)"
        );
    }

    #[test]
    fn the_bundled_table_is_valid() {
        let entries = parse_table(TABLE_CSV).expect("bundled table parses");
        assert_eq!(entries.len(), len());
    }

    #[test]
    fn paris_2e_is_near_the_opera() {
        assert_near("75002", (48.8720, 2.3316), 1.5); // Palais Garnier
        assert_near("75002", (48.868, 2.34), 0.5);
    }

    #[test]
    fn paris_arrondissements_are_told_apart() {
        let first = centroid("75001").expect("75001");
        let twentieth = centroid("75020").expect("75020");
        assert!(distance_km(first, twentieth) > 3.0);
        assert_near("75016", (48.8637, 2.2769), 0.1);
        assert_near("75116", (48.8637, 2.2769), 0.1);
    }

    #[test]
    fn marseille_1er_is_by_the_old_port() {
        assert_near("13001", (43.2965, 5.3740), 1.5); // Vieux-Port
    }

    #[test]
    fn ajaccio_and_bastia_in_corsica_are_found() {
        assert_near("20000", (41.9192, 8.7386), 1.0);
        assert_near("20200", (42.6973, 9.4509), 5.0);
    }

    #[test]
    fn saint_denis_de_la_reunion_is_in_the_indian_ocean() {
        assert_near("97400", (-20.8823, 55.4504), 0.5);
    }

    #[test]
    fn a_code_with_a_leading_zero_is_found() {
        assert_near("01000", (46.2052, 5.2255), 3.0); // Bourg-en-Bresse
    }

    #[test]
    fn coordinates_match_the_csv_exactly() {
        for line in TABLE_CSV.lines().skip(1) {
            let mut fields = line.split(',');
            let code = fields.next().expect("code");
            let lat: f64 = fields.next().expect("lat").parse().expect("lat parses");
            let lon: f64 = fields.next().expect("lon").parse().expect("lon parses");
            let (found_lat, found_lon) = centroid(code).expect("every row can be looked up");
            assert!(
                (found_lat - lat).abs() < 1e-9,
                "{code}: {found_lat} != {lat}"
            );
            assert!(
                (found_lon - lon).abs() < 1e-9,
                "{code}: {found_lon} != {lon}"
            );
        }
    }

    #[test]
    fn an_unknown_code_has_no_centroid() {
        for code in ["00000", "00001", "75099", "96000", "99999"] {
            assert_eq!(centroid(code), None, "{code}");
        }
    }

    #[test]
    fn a_code_that_is_not_five_ascii_digits_is_rejected() {
        for code in [
            "",
            "7500",
            "750020",
            " 75002",
            "75002 ",
            "7500a",
            "+7500",
            "-7500",
            "75 002",
            "75002 CEDEX",
            "２０２００",
            "٧٥٠٠٢",
        ] {
            assert_eq!(centroid(code), None, "{code:?}");
        }
    }

    #[test]
    fn the_table_has_thousands_of_codes() {
        let rows = TABLE_CSV
            .lines()
            .skip(1)
            .filter(|line| !line.is_empty())
            .count();
        assert_eq!(len(), rows);
        assert!((5_000..8_000).contains(&len()), "{} codes", len());
    }

    #[test]
    fn every_row_is_in_france_or_overseas() {
        /// First code, last code, latitude range, longitude range (generous boxes).
        type Region = (u32, u32, (f64, f64), (f64, f64));
        let regions: [Region; 11] = [
            (1_000, 95_999, (41.0, 51.5), (-5.5, 10.0)), // metropolitan France and Corsica
            (97_100, 97_199, (15.8, 16.6), (-61.9, -60.9)), // Guadeloupe
            (97_200, 97_299, (14.3, 15.0), (-61.3, -60.7)), // Martinique
            (97_300, 97_399, (2.0, 6.0), (-54.7, -51.5)), // Guyane
            (97_400, 97_499, (-21.5, -20.8), (55.2, 55.9)), // La Réunion
            (97_500, 97_599, (46.7, 47.2), (-56.5, -56.1)), // Saint-Pierre-et-Miquelon
            (97_600, 97_699, (-13.1, -12.6), (44.9, 45.4)), // Mayotte
            (98_600, 98_699, (-14.5, -13.1), (-178.3, -176.0)), // Wallis-et-Futuna
            (98_799, 98_799, (10.2, 10.4), (-109.3, -109.1)), // Clipperton
            (98_700, 98_798, (-28.0, -7.0), (-155.0, -134.0)), // Polynésie française
            (98_800, 98_899, (-23.0, -19.0), (163.0, 169.0)), // Nouvelle-Calédonie
        ];
        for entry in parse_table(TABLE_CSV).expect("bundled table parses") {
            let code = format!("{:05}", entry.code);
            let (lat, lon) = centroid(&code).expect("every row can be looked up");
            let (_, _, lats, lons) = regions
                .iter()
                .find(|(first, last, _, _)| (*first..=*last).contains(&entry.code))
                .unwrap_or_else(|| panic!("{code} is not a French postal code range"));
            assert!(
                (lats.0..=lats.1).contains(&lat) && (lons.0..=lons.1).contains(&lon),
                "{code} at ({lat}, {lon}) is outside {lats:?} x {lons:?}"
            );
        }
    }

    #[test]
    fn postal_codes_parse_as_numbers() {
        assert_eq!(parse_code("01000"), Some(1_000));
        assert_eq!(parse_code("98799"), Some(98_799));
        assert_eq!(parse_code("9879"), None);
    }

    #[test]
    fn coordinates_need_exactly_four_decimals() {
        assert_eq!(parse_fixed("48.8655", 90), Some(488_655));
        assert_eq!(parse_fixed("-20.8823", 90), Some(-208_823));
        assert_eq!(parse_fixed("-0.5000", 180), Some(-5_000));
        assert_eq!(parse_fixed("-178.1667", 180), Some(-1_781_667));
        assert_eq!(parse_fixed("90.0000", 90), Some(900_000));
        for bad in [
            "48.865",
            "48.86550",
            "48",
            ".8655",
            "-.8655",
            "48.8655e0",
            "+48.8655",
            "--1.0000",
            "90.0001",
            "1000.0000",
            "4 8.8655",
            "",
            "nan",
        ] {
            assert_eq!(parse_fixed(bad, 90), None, "{bad:?}");
        }
    }

    #[test]
    fn a_malformed_table_is_rejected() {
        let ok = "postal_code,lat,lon\n01000,46.2039,5.2075\n75002,48.8655,2.3426\n";
        assert_eq!(
            parse_table(ok),
            Ok(vec![
                Entry {
                    code: 1_000,
                    lat: 462_039,
                    lon: 52_075
                },
                Entry {
                    code: 75_002,
                    lat: 488_655,
                    lon: 23_426
                },
            ])
        );
        for bad in [
            "",
            "postal_code,lat,lon\n",
            "code,lat,lon\n01000,46.2039,5.2075\n",
            "postal_code,lat,lon\n01000,46.2039\n",
            "postal_code,lat,lon\n01000,46.2039,5.2075,1\n",
            "postal_code,lat,lon\n1000,46.2039,5.2075\n",
            "postal_code,lat,lon\n01000,95.0000,5.2075\n",
            "postal_code,lat,lon\n75002,48.8655,2.3426\n01000,46.2039,5.2075\n",
            "postal_code,lat,lon\n01000,46.2039,5.2075\n01000,46.2039,5.2075\n",
        ] {
            assert!(parse_table(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
