"""Offline sanitise: one CSV export through the sanitiser's own rules, without a broker.

Each row goes through exactly what the daemon applies to a record that arrived on Kafka:

    validate_row (exchange.core.validation)          what the agent does before sealing
    raw Avro encode / decode                    what travels in the envelope
    RecordSanitiser.sanitise (exchange.core.record_sanitiser) the sanitiser's checks, depersonalisation,
                                                marking and handling caveats
    shared Avro encode / decode                 what a subscriber's feed decodes

so for the same row, pseudonym secret, partnership config and date the output equals what the
daemon delivers. The output CSV has the shared schema's columns in order, the handling caveats
flattened as handling_<name>, booleans as Y/N, dates and times ISO: the same form as
`exchange feed export`. Rejected rows go to <out>.quarantine.csv with their row number and every
reason. The file is read and written as a stream (memory does not grow with its length), and the
output appears under its name only when complete.

This module is an I/O edge (files); the rules stay in exchange.core.record_sanitiser and exchange.core.risk.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

from exchange.core.depersonalise import GazetteerLike
from exchange.core.marking import OFFICIAL, Marking
from exchange.core.partnership import Partnership
from exchange.core.public_keys import PublicKeys
from exchange.core.record_sanitiser import RecordSanitiser, Sanitised
from exchange.core.risk import (
    RiskReport,
    quasi_identifiers,
    render_json,
    render_text,
    summarise,
)
from exchange.core.schemas import Catalogue, Dataset
from exchange.core.validation import Formats, validate_row
from exchange.crypto.keys import KeyPair
from exchange.crypto.pseudonyms import Pseudonymiser
from exchange.errors import AvroDecodeError, ConfigError, Refused, RowInvalid
from exchange.storage import csvfiles
from exchange.storage._files import open_private

__all__ = ["OfflineResult", "OfflineSetup", "quarantine_path", "RowSanitiser", "sanitise_csv"]

# The shared form as CSV is exchange.storage.csvfiles', identical to what `exchange feed export` writes.
shared_columns, shared_cells = csvfiles.shared_columns, csvfiles.shared_cells




@dataclass(frozen=True)
class OfflineSetup:
    """What an offline run needs, and what the user should be warned of before it starts."""

    partnership: Partnership
    sanitiser: RecordSanitiser
    originator: str
    warnings: tuple[str, ...]

    @classmethod
    def prepare(cls, dataset: Dataset, catalogue: Catalogue, gazetteer: GazetteerLike, *,
                partnership: Partnership | None, keys: KeyPair | None, k: int | None,
                originator: str | None) -> OfflineSetup:
        """The partnership config if given (else a bare one with k = 4 and a year's retention), the
        sanitiser's pseudonym secret if its key file is given (else a one-off secret), and the
        originator named in the handling caveats (given, or the config's one supplier)."""
        warnings: list[str] = list(partnership.warnings) if partnership is not None else []
        has_config = partnership is not None
        if partnership is None:
            partnership = Partnership(name="offline", k_households=4, retention_days=1095,
                                      sanitiser=keys.public if keys else PublicKeys(bytes(32), bytes(32)),
                                      signatories={}, grants=())
        elif keys is not None and keys.public != partnership.sanitiser:
            warnings.append(f"the key file of {keys.name!r} is not the key of {partnership.name}'s sanitiser: "
                            "pseudonyms will not match what the sanitiser service releases")
        if k is not None:
            partnership = replace(partnership, k_households=k)
        if dataset.personal:
            pseudonymise = Pseudonymiser(b"")  # personal datasets are released whole: nothing is pseudonymised
            warnings.append(f"{dataset.id} is a personal dataset: it is released whole, marked OFFICIAL-SENSITIVE "
                            "[PERSONAL], for tier-1 signatories holding a grant with a purpose and legal basis only")
        elif keys is not None:
            pseudonymise = Pseudonymiser(keys.pseudonym_secret)
        else:
            pseudonymise = Pseudonymiser.one_off()
            if any(dataset.fields_with("pseudonymise")):
                warnings.append("no --keys: pseudonyms use a one-off secret and will not match the partnership's "
                                "or another run's")
        chosen = _originator(partnership, dataset.id, originator, has_config, warnings)
        return cls(partnership, RecordSanitiser(partnership, catalogue, gazetteer, pseudonymise), chosen,
                   tuple(warnings))


def _originator(partnership: Partnership, dataset_id: str, given: str | None, has_config: bool,
                warnings: list[str]) -> str:
    if given:
        if has_config and not partnership.may_supply(given, dataset_id):
            warnings.append(f"{partnership.may_supply(given, dataset_id).reason}; the sanitiser service would "
                            f"refuse this supply from {given!r}")
        return given
    if not has_config:
        return "offline"
    suppliers = sorted(s.id for s in partnership.signatories.values() if s.active and dataset_id in s.supplies)
    if len(suppliers) == 1:
        return suppliers[0]
    if not suppliers:
        raise ConfigError(f"no active signatory of {partnership.name} supplies {dataset_id}: "
                          "name the originator with --originator")
    raise ConfigError(f"several signatories supply {dataset_id} ({', '.join(suppliers)}): "
                      "name the originator with --originator")


# -- one row -----------------------------------------------------------------------------------


def quarantine_path(out: Path) -> Path:
    return out.with_name(out.stem + ".quarantine.csv")


class RowSanitiser:
    """Text row -> shared record, the daemon's way. Raises RowInvalid with every reason."""

    def __init__(self, dataset: Dataset, sanitiser: RecordSanitiser, *, originator: str, today: dt.date,
                 received: Marking = OFFICIAL, formats: Formats = Formats()):
        self.dataset = dataset
        self.sanitiser = sanitiser
        self.originator = originator
        self.today = today
        self.formats = formats
        self.received = received
        self.raw_codec = dataset.raw_codec
        self.shared_codec = dataset.shared_codec

    def __call__(self, row: Mapping[str, str | None], row_number: int) -> Sanitised:
        dataset = self.dataset
        record = validate_row(dataset, row, self.formats, today=self.today)
        try:  # what the agent seals and the sanitiser opens
            record = self.raw_codec.decode(self.raw_codec.encode(record))
        except (ValueError, TypeError, AvroDecodeError) as exc:
            raise RowInvalid([f"does not fit the {dataset.id} schema ({exc.__class__.__name__})"]) from None
        label = f"row {row_number}"
        try:
            sanitised = self.sanitiser.sanitise(dataset, record, originator=self.originator, today=self.today,
                                                label=label, received=self.received)
        except Refused as exc:
            raise RowInvalid([str(exc).removeprefix(f"{label}: ")]) from None
        try:  # what the sanitiser publishes and a feed decodes
            shared = self.shared_codec.decode(self.shared_codec.encode(sanitised.record))
        except (ValueError, TypeError, AvroDecodeError) as exc:
            # A defect in the engine, not in the row; the daemon dead-letters it as internal_error.
            raise RowInvalid([f"internal error: the sanitised record does not fit the shared schema "
                              f"({exc.__class__.__name__})"]) from None
        return dataclasses.replace(sanitised, record=shared)


# -- one file ----------------------------------------------------------------------------------


@dataclass
class OfflineResult:
    dataset: str
    source: Path
    output: Path
    marking: str
    originator: str
    k: int
    as_of: dt.date
    rows: int = 0
    written: int = 0
    rejected: int = 0
    moved: int = 0
    redactions: int = 0
    quarantine: Path | None = None
    risk: RiskReport | None = None
    risk_report: Path | None = None
    ignored_columns: tuple[str, ...] = ()
    elapsed: float = 0.0
    reasons: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.rejected == 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset, "input": str(self.source), "output": str(self.output),
            "rows": self.rows, "written": self.written, "rejected": self.rejected,
            "moved_to_another_postcode": self.moved, "free_text_redactions": self.redactions,
            "marking": self.marking, "originator": self.originator, "k": self.k, "as_of": self.as_of.isoformat(),
            "quarantine": str(self.quarantine) if self.quarantine else None,
            "risk_report": str(self.risk_report) if self.risk_report else None,
            "records_in_classes_smaller_than_k": self.risk.records_below_k if self.risk else None,
            "ignored_columns": list(self.ignored_columns), "elapsed_seconds": round(self.elapsed, 3),
        }


class _AtomicCsv:
    """A CSV written to a temporary file beside its target and moved into place when complete."""

    def __init__(self, target: Path, header: list[str]):
        self.target = target
        self.header = header
        self._open_file: tuple[TextIO, Any, str] | None = None  # (handle, csv writer, temporary path)

    def _open(self) -> tuple[TextIO, Any, str]:
        fd, temp = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".tmp", dir=self.target.parent)
        handle = os.fdopen(fd, "w", newline="", encoding="utf-8", errors=csvfiles.QUARANTINE_ERRORS)
        writer = csv.writer(handle)
        writer.writerow(self.header)
        self._open_file = (handle, writer, temp)
        return self._open_file

    def writerow(self, row: list[Any]) -> None:
        _, writer, _ = self._open_file or self._open()
        writer.writerow(row)

    def commit(self, *, always: bool = True) -> Path | None:
        """Move the file into place; with always=False and no rows, remove any stale target instead."""
        if self._open_file is None and not always:
            self.target.unlink(missing_ok=True)  # no stale report from an earlier run
            return None
        handle, _, temp = self._open_file or self._open()
        handle.close()
        os.replace(temp, self.target)
        self._open_file = None
        return self.target

    def abort(self) -> None:
        if self._open_file is not None:
            handle, _, temp = self._open_file
            handle.close()
            Path(temp).unlink(missing_ok=True)
            self._open_file = None


def sanitise_csv(source: str | Path, out: str | Path, *, dataset: Dataset, sanitiser: RecordSanitiser,
                 originator: str, today: dt.date, formats: Formats = Formats(), risk_report: str | Path | None = None,
                 on_progress: Callable[[int, int], None] | None = None, progress_every: int = 1000,
                 received: Marking = OFFICIAL) -> OfflineResult:
    """Sanitise every row of `source` into `out` (shared form); quarantine what is rejected."""
    source, out = Path(source), Path(out)
    if source.resolve() == out.resolve():
        raise ConfigError(f"{out}: the output must not overwrite the input")
    risk_path = Path(risk_report) if risk_report else None
    if risk_path is not None and risk_path.resolve() in (source.resolve(), out.resolve()):
        raise ConfigError(f"{risk_path}: the risk report must not overwrite the input or the output")
    if not out.parent.is_dir():
        raise ConfigError(f"{out.parent}: no such directory for the output")
    marking = str(sanitiser.release_marking(dataset, originator, received)[0])
    result = OfflineResult(dataset=dataset.id, source=source, output=out, marking=marking, originator=originator,
                           k=sanitiser.partnership.k_households, as_of=today)
    process = RowSanitiser(dataset, sanitiser, originator=originator, today=today, formats=formats,
                           received=received)
    quasi = quasi_identifiers(dataset)
    names = csvfiles.shared_names(dataset)
    classes: Counter[tuple[Any, ...]] = Counter()
    started = time.monotonic()

    fields = {p.name for p in dataset.fields}
    with csvfiles.read_export(source, dataset, {}) as (header, rows):
        if not any(h.strip() for h in header):
            raise ConfigError(f"{source}: no header row (expected the schema's field names: "
                              f"{', '.join(p.name for p in dataset.fields)})")
        result.ignored_columns = tuple(h for h in header if h not in fields)

        output = _AtomicCsv(out, shared_columns(dataset))
        quarantine = _AtomicCsv(quarantine_path(out), ["row", "reasons", *header])
        try:
            for export_row in rows:
                row_number, row = export_row.number, export_row.cells
                problems = None if export_row.problem is None else [export_row.problem]
                result.rows = row_number
                if problems is None:
                    try:
                        shared = process({name: row.get(name) for name in fields}, row_number)
                    except RowInvalid as exc:
                        problems = list(exc.reasons)
                    else:
                        output.writerow(shared_cells(dataset, shared.record, names=names))
                        classes[tuple(q.value(shared.record) for q in quasi)] += 1
                        result.written += 1
                        result.moved += int(shared.moved)
                        result.redactions += shared.redactions
                if problems is not None:
                    result.rejected += 1
                    for reason in problems:
                        result.reasons[reason.split(":", 1)[0]] += 1
                    quarantine.writerow([row_number, "; ".join(problems), *(row.get(h, "") for h in header)])
                if on_progress is not None and row_number % progress_every == 0:
                    on_progress(row_number, result.rejected)
            result.quarantine = quarantine.commit(always=False)
            output.commit()
        except BaseException:
            output.abort()
            quarantine.abort()
            raise

    result.risk = summarise(classes, [q.name for q in quasi], result.k, dataset=dataset.id)
    if risk_path is not None:
        text = (render_json(result.risk, marking=marking) if risk_path.suffix.lower() == ".json"
                else render_text(result.risk, marking=marking))
        with open_private(risk_path, "w", encoding="utf-8") as handle:
            handle.write(text)
        result.risk_report = risk_path
    result.elapsed = time.monotonic() - started
    return result
