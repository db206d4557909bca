"""Region tests and their index keys: countries, admin1 divisions, boxes and circles.

Admin1 entries of a subscription are normalised to ``(country, lower-case name)`` pairs, the form
the tagger writes in ``Location.admin1``: a GeoNames code (``"EG.27"``) or an alias
(``"EG:Shamal Sina"``) is resolved to the canonical name (``north sinai``) through the tagger's
gazetteer when it is installed. A bare name (``"North Sinai"``) matches in any country.

For the inverted index, coordinates are bucketed in 1° cells: a box or circle lists the cells it
touches, an article lists the cells of its locations; a shared cell makes a candidate, and the
exact test decides.
"""

from __future__ import annotations

import functools
import gzip
import logging
import math
from collections.abc import Iterator
from importlib import resources

from services.alerter.subscriptions import Regions

__all__ = [
    "MAX_CELLS",
    "admin1_key",
    "cell_key",
    "haversine_km",
    "in_regions",
    "region_keys",
]

log = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = math.pi * EARTH_RADIUS_KM / 180
#: A region covering more cells than this is not indexed by geography (another key is used).
MAX_CELLS = 400


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@functools.cache
def _admin1_table() -> tuple[dict[tuple[str, str], str], dict[tuple[str, str], str]]:
    """``(cc, code) -> name`` and ``(cc, alias) -> name`` (lower case) from the gazetteer."""
    by_code: dict[tuple[str, str], str] = {}
    by_alias: dict[tuple[str, str], str] = {}
    try:
        ref = resources.files("services.extractor.tagging").joinpath("data/gazetteer.tsv.gz")
        raw = ref.read_bytes()
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        log.info("no gazetteer installed: admin1 codes are compared as written")
        return by_code, by_alias
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        if line.startswith("#"):
            continue
        cols = line.split("\t")
        if len(cols) < 5 or cols[1] != "admin1":
            continue
        cc = cols[3].upper()
        name = cols[4].strip().lower()
        code = cols[0][1:].split(".", 1)[-1].upper() if cols[0].startswith("A") else ""
        if code:
            by_code[(cc, code)] = name
        by_alias[(cc, cols[2].strip().lower())] = name
        for alias in (cols[8] if len(cols) > 8 else "").split("|"):
            if alias.strip():
                by_alias.setdefault((cc, alias.strip().lower()), name)
    return by_code, by_alias


def admin1_key(entry: str) -> tuple[str, str]:
    """A subscription's admin1 entry as ``(country or "*", lower-case canonical name)``."""
    by_code, by_alias = _admin1_table()
    if "." in entry and ":" not in entry:
        cc, code = entry.split(".", 1)
        return cc, by_code.get((cc, code), code.lower())
    if ":" in entry:
        cc, name = entry.split(":", 1)
        lowered = name.strip().lower()
        return cc, by_alias.get((cc, lowered), lowered)
    return "*", entry.strip().lower()


def cell_key(lat: float, lon: float) -> str:
    return f"g:{math.floor(lat)}:{math.floor(lon)}"


def _box_cells(south: float, west: float, north: float, east: float) -> Iterator[str]:
    for lat in range(math.floor(south), math.floor(north) + 1):
        for lon in range(math.floor(west), math.floor(east) + 1):
            yield f"g:{lat}:{lon}"


def _cells_count(south: float, west: float, north: float, east: float) -> int:
    return (math.floor(north) - math.floor(south) + 1) * (math.floor(east) - math.floor(west) + 1)


def region_keys(regions: Regions) -> frozenset[str] | None:
    """Index keys such that an article in the region has at least one of them among its own keys;
    None when the region is too large to be worth indexing by geography."""
    keys: set[str] = {f"cc:{cc}" for cc in regions.countries}
    for entry in regions.admin1:
        cc, name = admin1_key(entry)
        keys.add(f"a1:{cc}:{name}")
    boxes: list[tuple[float, float, float, float]] = [
        (b.south, b.west, b.north, b.east) for b in regions.bbox
    ]
    for circle in regions.near:
        dlat = 1.01 * circle.radius_km / KM_PER_DEGREE + 0.01
        south, north = max(-90.0, circle.lat - dlat), min(90.0, circle.lat + dlat)
        widest = max(abs(south), abs(north))
        if widest >= 89.0:
            return None
        dlon = 1.05 * circle.radius_km / (KM_PER_DEGREE * math.cos(math.radians(widest))) + 0.01
        if dlon >= 180:
            return None
        west, east = circle.lon - dlon, circle.lon + dlon
        if west < -180:
            boxes += [(south, west + 360, north, 180.0), (south, -180.0, north, east)]
        elif east > 180:
            boxes += [(south, west, north, 180.0), (south, -180.0, north, east - 360)]
        else:
            boxes.append((south, west, north, east))
    if sum(_cells_count(*box) for box in boxes) > MAX_CELLS:
        return None
    for box in boxes:
        keys.update(_box_cells(*box))
    return frozenset(keys)


def location_keys(
    cc: str | None, admin1: str | None, lat: float | None, lon: float | None
) -> set[str]:
    """The index keys of one place (the article side of ``region_keys``)."""
    keys: set[str] = set()
    if cc:
        keys.add(f"cc:{cc.upper()}")
    if admin1:
        name = admin1.strip().lower()
        keys.add(f"a1:*:{name}")
        if cc:
            keys.add(f"a1:{cc.upper()}:{name}")
    if lat is not None and lon is not None:
        keys.add(cell_key(lat, lon))
    return keys


@functools.lru_cache(maxsize=4096)
def _admin1_keys(entries: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    return frozenset(admin1_key(e) for e in entries)


def in_regions(
    regions: Regions, cc: str | None, admin1: str | None, lat: float | None, lon: float | None
) -> bool:
    """Whether a place lies in any of the regions (the exact test)."""
    code = cc.upper() if cc else None
    if code and code in regions.countries:
        return True
    if admin1 and regions.admin1:
        name = admin1.strip().lower()
        for want_cc, want_name in _admin1_keys(tuple(regions.admin1)):
            if want_name == name and (want_cc == "*" or want_cc == code):
                return True
    if lat is None or lon is None:
        return False
    if any(box.contains(lat, lon) for box in regions.bbox):
        return True
    return any(haversine_km(lat, lon, c.lat, c.lon) <= c.radius_km for c in regions.near)
