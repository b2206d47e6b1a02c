"""The synthetic gazetteer the demo and the tests use: a fictional postcode area "NX" shaped like
a real one (about a quarter of its postcodes under 4 households), deterministic per seed."""

from __future__ import annotations

import csv
import math
import os
import random
from dataclasses import dataclass
from pathlib import Path

from exchange.storage.gazetteer._format import write_gazetteer

SYNTH_AREA = "NX"
SYNTH_CENTRE = (430_000.0, 290_000.0)
_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # Royal Mail: never C I K M O V in the inward code
_LOCALITIES = (
    "Nexford Town Centre", "Ashcombe", "Brackenhurst", "Coldharbour Vale", "Dunmere",
    "Eastwold", "Fennick Park", "Greystoke Rise", "Hollins End", "Kestrel Moor",
    "Larkhill Green", "Mossbridge",
)
_STEMS = (
    "Abbey", "Alder", "Ashgrove", "Beech", "Birchfield", "Bridge", "Brook", "Canal", "Castle",
    "Chapel", "Church", "Cooper", "Elm", "Fairfield", "Forge", "Foundry", "Glebe", "Hawthorn",
    "Hazel", "Heron", "Holly", "Kingfisher", "Laburnum", "Larch", "Linden", "Maple", "Market",
    "Meadow", "Mill", "Orchard", "Priory", "Quarry", "Rectory", "Rowan", "Saxon", "Sorrel",
    "Station", "Tanner", "Thistle", "Victoria", "Weaver", "Willow", "Wren", "Yew",
)
_SUFFIXES = (
    "Street", "Road", "Lane", "Close", "Avenue", "Way", "Drive", "Crescent", "Gardens",
    "Grove", "Terrace", "Walk", "Court", "Place", "Row",
)
_PREFIXES = ("", "North ", "South ", "Upper ", "Lower ", "Old ", "New ")
_SYNTH_MAX = 20_000  # street names (x2 with "Mews") and districts NX1-NX99 suffice


@dataclass(frozen=True, slots=True)
class SynthReport:
    """What synthesise wrote: counts for a quick sanity check, and the file paths."""

    seed: int
    postcodes: int
    under_4: int
    zero_households: int
    streets: int
    localities: int
    db: Path
    codepoint_csv: Path | None = None
    households_csv: Path | None = None


def _codepoint_format(postcode: str) -> str:
    """Code-Point Open's 7-character form: outward code left-justified in 4, then inward."""
    outward, inward = postcode.split(" ")
    return f"{outward:<4}{inward}" if len(outward) < 4 else f"{outward}{inward}"


def _household_counts(n: int, rng: random.Random) -> list[int]:
    """Realistic counts: ~23% under 4 (some 0: shops, offices), most 5-40, a few blocks of flats."""
    zeros = max(2, round(n * 0.03)) if n >= 10 else min(1, n)
    small = max(0, math.ceil(n * 0.23) - zeros)
    fours = round(n * 0.03)
    big = round(n * 0.05)
    rest = max(0, n - zeros - small - fours - big)
    counts = [0] * zeros + [rng.randint(1, 3) for _ in range(small)] + [4] * fours
    counts += [rng.randint(41, 90) for _ in range(big)]
    counts += [min(40, 5 + int(rng.expovariate(1 / 12))) for _ in range(rest)]
    counts = counts[:n]
    rng.shuffle(counts)
    return counts


def synthesise(
    seed: int,
    out_db: str | os.PathLike[str],
    *,
    csv_dir: str | os.PathLike[str] | None = None,
    postcodes: int = 400,
) -> SynthReport:
    """Write a deterministic fictional gazetteer: postcode area NX around a town centre at
    E 430000 N 290000, postcodes along streets 50-150 m apart, with street and locality names.

    The same seed always gives the same rows (no timestamps). With csv_dir, also writes the same
    postcodes as Code-Point Open (codepoint/nx.csv, no header) and households (nx_households.csv)
    so the real loader can be exercised end to end.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    if not 1 <= postcodes <= _SYNTH_MAX:
        raise ValueError(f"postcodes must be between 1 and {_SYNTH_MAX:,}, got {postcodes}")
    rng = random.Random(seed)
    n_loc = max(1, min(len(_LOCALITIES), round(postcodes / 50)))
    cx0, cy0 = SYNTH_CENTRE
    # Locality centres: the town centre, then a ring of neighbourhoods 1.2-2.8 km out.
    centres = [(cx0, cy0)]
    for i in range(1, n_loc):
        angle = 2 * math.pi * (i - 1) / max(1, n_loc - 1) + rng.uniform(-0.25, 0.25)
        radius = rng.uniform(1200, 2800)
        centres.append((cx0 + radius * math.cos(angle), cy0 + radius * math.sin(angle)))
    # Share postcodes out: the town centre gets a double share.
    weights = [2.0] + [1.0] * (n_loc - 1)
    quotas = [int(postcodes * w / sum(weights)) for w in weights]
    for i in range(postcodes - sum(quotas)):
        quotas[i % n_loc] += 1

    names = [f"{p}{s} {x}" for p in _PREFIXES for s in _STEMS for x in _SUFFIXES]
    rng.shuffle(names)
    names += [f"{n} Mews" for n in names]  # only reached by very large areas (> 4,620 streets)
    name_iter = iter(names)

    # (postcode, easting, northing, locality index, street name)
    points: list[tuple[str, int, int, int, str]] = []
    used_xy: set[tuple[int, int]] = set()
    next_district = 1
    for loc, ((lx, ly), quota) in enumerate(zip(centres, quotas, strict=True)):
        district, next_district = f"{SYNTH_AREA}{next_district}", next_district + 1
        sector, unit, in_sector = rng.randint(1, 4), rng.randint(0, 5), 0
        made = 0
        while made < quota:
            street = next(name_iter)
            length = min(quota - made, rng.randint(3, 10))
            if in_sector >= 40:  # a sector holds a few dozen units; then the next sector
                sector, unit, in_sector = sector + 1, rng.randint(0, 5), 0
                if sector > 9:  # a district has sectors 0-9; overflow into a new district
                    district, next_district = f"{SYNTH_AREA}{next_district}", next_district + 1
                    sector = 1
            if next_district > 100:
                raise ValueError(f"{postcodes:,} postcodes need more than 99 districts (NX1-NX99)")
            x = lx + rng.gauss(0, 450)
            y = ly + rng.gauss(0, 450)
            heading = rng.uniform(0, 2 * math.pi)
            for _ in range(length):
                e, n = round(x + rng.uniform(-15, 15)), round(y + rng.uniform(-15, 15))
                while (e, n) in used_xy:
                    e += 1
                used_xy.add((e, n))
                first, second = divmod(unit, len(_UNIT_LETTERS))
                postcode = f"{district} {sector % 10}{_UNIT_LETTERS[first]}{_UNIT_LETTERS[second]}"
                points.append((postcode, e, n, loc, street))
                unit += rng.randint(1, 2)  # Royal Mail sequences have gaps
                in_sector += 1
                made += 1
                step = rng.uniform(50, 150)
                heading += rng.uniform(-0.3, 0.3)
                x += step * math.cos(heading)
                y += step * math.sin(heading)

    counts = _household_counts(len(points), rng)
    # Cross streets: a postcode also takes the street of the nearest postcodes on other streets
    # within 120 m (corner plots), up to three names in all.
    street_rows: list[tuple[str, str]] = []
    buckets: dict[tuple[int, int], list[tuple[int, int, str]]] = {}
    for _, e, n, _, street in points:
        buckets.setdefault((e // 120, n // 120), []).append((e, n, street))
    for pc, e, n, _, street in points:
        bx, by = e // 120, n // 120
        near = sorted(
            ((e2 - e) ** 2 + (n2 - n) ** 2, s2)
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            for e2, n2, s2 in buckets.get((bx + dx, by + dy), ())
            if s2 != street and (e2 - e) ** 2 + (n2 - n) ** 2 <= 120**2
        )
        extra: list[str] = []
        for _, s2 in near:
            if s2 not in extra and len(extra) < 2 and rng.random() < 0.5:
                extra.append(s2)
        street_rows.extend((pc, s) for s in [street, *extra])

    rows = sorted((pc, float(e), float(n), h) for (pc, e, n, _, _), h in zip(points, counts, strict=True))
    localities = sorted((pc, _LOCALITIES[loc]) for pc, _, _, loc, _ in points)
    street_rows.sort(key=lambda r: r[0])  # stable: each postcode's own street stays first
    meta = {
        "source": "synthetic: exchange.storage.gazetteer.synthesise (fictional postcode area NX)",
        "seed": str(seed),
        "crs": "EPSG:27700",
        "postcodes": str(len(rows)),
        "generator_version": "1",
    }
    write_gazetteer(out_db, rows, meta, street_rows, localities)

    codepoint_csv = households_csv = None
    if csv_dir is not None:
        codepoint_csv, households_csv = _write_synth_csv(Path(csv_dir), rows, dict(localities))
    return SynthReport(
        seed=seed,
        postcodes=len(rows),
        under_4=sum(1 for r in rows if r[3] < 4),
        zero_households=sum(1 for r in rows if r[3] == 0),
        streets=len({s for _, s in street_rows}),
        localities=n_loc,
        db=Path(out_db),
        codepoint_csv=codepoint_csv,
        households_csv=households_csv,
    )


def _write_synth_csv(
    csv_dir: Path, rows: list[tuple[str, float, float, int]], localities: dict[str, str]
) -> tuple[Path, Path]:
    """The synthetic rows in the two public formats load_codepoint reads."""
    cp_dir = csv_dir / "codepoint"
    cp_dir.mkdir(parents=True, exist_ok=True)
    codepoint_csv = cp_dir / f"{SYNTH_AREA.lower()}.csv"
    households_csv = csv_dir / f"{SYNTH_AREA.lower()}_households.csv"
    ward_codes = {name: f"E05099{i:03d}" for i, name in enumerate(_LOCALITIES, start=1)}
    with open(codepoint_csv, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_NONNUMERIC)
        for pc, e, n, _ in rows:
            writer.writerow([
                _codepoint_format(pc), 10, int(e), int(n), "E92000001", "E19000002",
                "E18000099", "E10000099", "E07000299", ward_codes[localities[pc]],
            ])
    with open(households_csv, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["postcode", "households"])
        writer.writerows((pc, h) for pc, _, _, h in rows)
    return codepoint_csv, households_csv


# --------------------------------------------------------------------------------------------
# WGS84 -> British National Grid
# --------------------------------------------------------------------------------------------

