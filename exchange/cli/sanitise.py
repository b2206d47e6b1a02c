"""exchange sanitise: one CSV export through the sanitiser's rules, offline (no broker)."""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path

import click

from exchange.cli._common import EXIT_APPLICATION_ERROR
from exchange.errors import UsageError

PROGRESS_SECONDS = 1.0  # at most one progress line on stderr this often (checked every 1,000 rows)


def _progress():
    last = [time.monotonic()]

    def report(rows: int, rejected: int) -> None:
        if time.monotonic() - last[0] >= PROGRESS_SECONDS:
            click.echo(f"  {rows:,} rows read, {rejected:,} rejected", err=True)
            last[0] = time.monotonic()

    return report


def _warn(text: str) -> None:
    click.echo(f"warning: {text}", err=True)


@click.command("sanitise")
@click.option("--dataset", "dataset_id", required=True, help="Dataset id (see `exchange schemas list`).")
@click.option("--gazetteer", "gazetteer_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Postcode gazetteer database (exchange gazetteer load / synth).")
@click.option("--in", "in_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="CSV export whose header uses the schema's field names.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="Where to write the shared form (CSV). Rejected rows go to OUT.quarantine.csv beside it.")
@click.option("--k", "k", type=click.IntRange(min=1), default=None,
              help="Households a postcode needs to stand for a location (overrides the config; default 4).")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The partnership's ISP config: k, retention, grants (purposes) and markings.")
@click.option("--keys", "key_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="The sanitiser's key file, for the partnership's pseudonym secret "
                   "(passphrase from $EXCHANGE_KEY_PASSPHRASE_FILE / $EXCHANGE_KEY_PASSPHRASE or a prompt).")
@click.option("--originator", default=None,
              help="Supplying signatory named in the handling caveats (default: the config's one supplier "
                   "of the dataset, or 'offline' without a config).")
@click.option("--risk-report", "risk_path", type=click.Path(dir_okay=False), default=None,
              help="Write a k-anonymity report of the output over its quasi-identifiers (JSON if it ends .json).")
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="The date of sharing (YYYY-MM-DD): destroy-by dates, grants in force, future-date checks. "
                   "Default today.")
@click.option("--marking", default="OFFICIAL", show_default=True,
              help="The protective marking the export carries, as its originator set it: the release is never "
                   "marked lower unless the config declares the originator's depersonalised marking.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def command(dataset_id, gazetteer_path, in_path, out_path, k, config_path, key_file, originator, risk_path,
            as_of, marking, as_json) -> None:
    """Depersonalise one CSV export exactly as the sanitiser service would, without a broker:
    validate each row, apply the dataset's rules (postcode with at least k households, address
    without house number, pseudonyms, age instead of date of birth, scrubbed free text), mark it
    and attach the handling caveats. Writes the shared form to OUT and rejected rows, with row
    number and reasons, to OUT.quarantine.csv. Exit status 1 if any row was rejected or the
    run failed (the message says which), 2 on a usage error."""
    result = _run(dataset_id, gazetteer_path, in_path, out_path, k, config_path, key_file, originator,
                  risk_path, as_of, marking, as_json)
    sys.exit(0 if result.ok else EXIT_APPLICATION_ERROR)


def _run(dataset_id, gazetteer_path, in_path, out_path, k, config_path, key_file, originator, risk_path, as_of,
         marking, as_json):
    from exchange.cli._common import emit
    from exchange.core.marking import parse_marking
    from exchange.core.partnership import load_partnership
    from exchange.core.schemas import catalogue
    from exchange.crypto.keys import KeyPair, passphrase_from_environment
    from exchange.services.offline import OfflineSetup, sanitise_csv
    from exchange.storage.gazetteer import Gazetteer

    cat = catalogue()
    if dataset_id not in cat:
        raise UsageError(f"--dataset: unknown dataset {dataset_id!r} (see `exchange schemas list`)")
    dataset = cat[dataset_id]
    today = as_of.date() if as_of else dt.date.today()
    keys = KeyPair.load(key_file, passphrase_from_environment()) if key_file else None
    setup = OfflineSetup.prepare(dataset, cat, Gazetteer.open(gazetteer_path),
                                 partnership=load_partnership(config_path) if config_path else None,
                                 keys=keys, k=k, originator=originator)
    for warning in setup.warnings:
        _warn(warning)
    sanitiser, originator = setup.sanitiser, setup.originator
    received = parse_marking(marking, setup.partnership.legacy_markings)
    result = sanitise_csv(Path(in_path), Path(out_path), dataset=dataset, sanitiser=sanitiser, originator=originator,
                          today=today, risk_report=risk_path, on_progress=_progress(), received=received)
    if result.ignored_columns:
        _warn(f"column(s) not in {dataset.id}, ignored: {', '.join(result.ignored_columns)}")

    lines = [
        f"{result.source} -> {result.output}",
        f"  rows in {result.rows}, out {result.written}, rejected {result.rejected}",
        f"  moved to another postcode {result.moved} (fewer than {result.k} households)",
        f"  free-text redactions {result.redactions}",
        f"  marking {result.marking}; originator {result.originator}; as of {result.as_of.isoformat()}",
    ]
    if result.quarantine:
        reasons = ", ".join(f"{field} ({count})" for field, count in result.reasons.most_common(5))
        lines.append(f"  rejected rows and reasons: {result.quarantine}" + (f" [{reasons}]" if reasons else ""))
    if result.risk is not None and result.risk_report is not None:
        risk = result.risk
        lines.append(f"  risk report: {result.risk_report} ({risk.classes} equivalence classes over "
                     f"{', '.join(risk.quasi_identifiers) or 'no quasi-identifiers'}; {risk.records_below_k} record(s) "
                     f"in classes smaller than {risk.k})")
    emit(result.as_dict(), as_json, "\n".join(lines))
    return result
