"""`exchange gazetteer ...`: build, synthesise and query the postcode gazetteer file."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import click

from exchange.cli._common import ExchangeGroup
from exchange.errors import GazetteerError
from exchange.storage.gazetteer import (
    Gazetteer,
    LoadReport,
    describe_transform,
    load_codepoint,
)
from exchange.testing.gazetteer import synthesise

_GROUP_HELP = """\
The postcode gazetteer: postcode centroids (British National Grid, EPSG:27700) with household
counts, used by the sanitiser to move a record whose postcode has fewer than k households to the
nearest postcode that has at least k (docs/design.md, "Taken from the design card"; k = 4 by default).

\b
The gazetteer is one SQLite file, built from public data:
  Ordnance Survey Code-Point Open   CSV, no header, 10 columns: postcode, positional quality,
                                    eastings, northings, country, NHS regional HA, NHS HA,
                                    admin county, admin district, admin ward
  ONS postcode household estimates  CSV with a header; the postcode and household columns are
                                    chosen with --postcode-column / --households-column

\b
Examples:
  exchange gazetteer load --codepoint codepo_gb/Data/CSV --households households.csv \\
      --households-column Occupied_Households --out gazetteer.db
  exchange gazetteer synth --seed 7 --out demo.db --csv-dir demo-csv
  exchange gazetteer lookup demo.db "nx1 1ab" --k 4
"""


@click.group(name="gazetteer", help=_GROUP_HELP, cls=ExchangeGroup)
def gazetteer() -> None:
    pass


def _report_dict(report: LoadReport, out: Path) -> dict[str, object]:
    return {
        "out": str(out),
        "postcodes_loaded": report.postcodes_loaded,
        "rejected": report.rejected,
        "rejected_by_reason": dict(report.reasons),
        "examples": list(report.examples),
        "unmatched_households": report.unmatched_households,
        "seconds": round(report.seconds, 3),
    }


@gazetteer.command("load", short_help="Build a gazetteer from Code-Point Open + household estimates.")
@click.option("--codepoint", "codepoint", required=True, type=click.Path(exists=True, path_type=Path),
              help="Code-Point Open: the zip as Ordnance Survey publishes it, a CSV file, or a folder of them.")
@click.option("--households", "households", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Household estimates CSV with a header row.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Gazetteer file to write (replaced atomically).")
@click.option("--postcode-column", default=None,
              help="Postcode column in the households CSV (case-insensitive). Default: the ONS files' own "
                   "(Postcode, pcds ...).")
@click.option("--households-column", default=None,
              help="Household count column in the households CSV (case-insensitive). Default: the ONS files' "
                   "own (Occupied_Households in the 2011 headcounts, Households ...).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def load_cmd(codepoint: Path, households: Path, out: Path, postcode_column: str | None,
             households_column: str | None, as_json: bool) -> None:
    """Build a gazetteer file from Code-Point Open and household estimates.

    Postcodes are normalised (case, spacing). Code-Point postcodes with no household row get 0
    households, so they never qualify. Malformed rows (bad postcode, non-numeric or
    off-grid coordinates, no coordinates, negative households, duplicates) are rejected and
    listed with file, row and reason.

    Exit status: 0 if every row loaded; 1 if any row was rejected (the file is still written,
    without those rows) or the inputs could not be read.
    """
    def progress(done: int) -> None:
        click.echo(f"gazetteer load: {done:,} rows read", err=True)

    try:
        report = load_codepoint(codepoint, households, out, postcode_column=postcode_column,
                                households_column=households_column, progress=progress)
    except GazetteerError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(_report_dict(report, out), indent=2))
    else:
        click.echo(f"Wrote {out}")
        click.echo(f"  postcodes loaded:      {report.postcodes_loaded:,}")
        click.echo(f"  rows rejected:         {report.rejected:,}")
        for reason, count in report.reasons:
            click.echo(f"    {reason}: {count:,}")
        if report.examples:
            click.echo("  examples of rejected rows:")
            for example in report.examples:
                click.echo(f"    {example}")
        click.echo(f"  household rows with no Code-Point postcode: {report.unmatched_households:,}")
        click.echo(f"  seconds:               {report.seconds:.2f}")
    if report.rejected:
        click.echo(f"gazetteer load: {report.rejected:,} row(s) rejected; see the examples above",
                   err=True)
        sys.exit(1)


@gazetteer.command("synth", short_help="Write a deterministic synthetic gazetteer (area NX).")
@click.option("--seed", required=True, type=int, help="Random seed; the same seed gives the same file.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Gazetteer file to write.")
@click.option("--csv-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write the same postcodes as Code-Point Open (codepoint/nx.csv) and "
                   "household CSV (nx_households.csv), to exercise 'load'.")
@click.option("--postcodes", type=click.IntRange(1, 20_000), default=400, show_default=True,
              help="How many postcodes to invent.")
def synth_cmd(seed: int, out: Path, csv_dir: Path | None, postcodes: int) -> None:
    """Write a synthetic gazetteer: the fictional postcode area NX around a town centre at
    E 430000 N 290000, with street and locality names, for tests and the demo. About a quarter
    of its postcodes have fewer than 4 households."""
    try:
        report = synthesise(seed, out, csv_dir=csv_dir, postcodes=postcodes)
    except (GazetteerError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Wrote {report.db}: {report.postcodes:,} synthetic postcodes (seed {report.seed}), "
               f"{report.under_4:,} with fewer than 4 households ({report.zero_households:,} with none), "
               f"{report.streets:,} streets in {report.localities} localities")
    if report.codepoint_csv is not None:
        click.echo(f"  Code-Point Open style: {report.codepoint_csv}")
        click.echo(f"  households:            {report.households_csv}")


@gazetteer.command("lookup", short_help="Show a postcode and the qualifying postcode it maps to.")
@click.argument("db", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("postcode")
@click.option("--k", "k", type=click.IntRange(min=0), default=4, show_default=True,
              help="Minimum households for a postcode to stand in for a record.")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
def lookup_cmd(db: Path, postcode: str, k: int, as_json: bool) -> None:
    """Show a postcode's centroid and households, and the qualifying postcode (at least K
    households) that the sanitiser would move its records to."""
    try:
        gaz = Gazetteer.open(db)
        target = gaz.qualifying_for(postcode, k)
    except GazetteerError as exc:
        raise click.ClickException(str(exc)) from exc
    own = gaz.get(postcode)
    assert own is not None  # qualifying_for raised UnknownPostcode otherwise
    distance = math.hypot(target.easting - own.easting, target.northing - own.northing)
    answer = {
        "postcode": own.postcode,
        "easting": own.easting,
        "northing": own.northing,
        "households": own.households,
        "k": k,
        "qualifies": own.households >= k,
        "qualifying_postcode": target.postcode,
        "qualifying_easting": target.easting,
        "qualifying_northing": target.northing,
        "qualifying_households": target.households,
        "distance_m": round(distance, 1),
        "streets": list(gaz.streets(own.postcode)),
        "locality": gaz.locality(own.postcode),
    }
    if as_json:
        click.echo(json.dumps(answer, indent=2))
        return
    click.echo(f"{own.postcode}: E {own.easting:,.0f} N {own.northing:,.0f}, {own.households} households")
    if answer["streets"] or answer["locality"]:
        click.echo(f"  streets: {', '.join(answer['streets']) or '-'}; locality: {answer['locality'] or '-'}")
    if own.households >= k:
        click.echo(f"  qualifies at k={k}: records keep {own.postcode}")
    else:
        click.echo(f"  fewer than k={k} households: records move to {target.postcode} "
                   f"(E {target.easting:,.0f} N {target.northing:,.0f}, {target.households} households, "
                   f"{distance:,.0f} m away)")


@gazetteer.command("transform", short_help="Say which WGS84 -> BNG transformation is used.")
def transform_cmd() -> None:
    """Say which WGS84 -> British National Grid transformation PROJ uses here, and its accuracy."""
    click.echo(describe_transform())
