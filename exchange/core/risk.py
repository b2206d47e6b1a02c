"""A k-anonymity report of a released file over its quasi-identifiers. Pure: no I/O.

Records that share the same values of every quasi-identifier form an equivalence class. A class
of size 1 is a record that is unique on those values: anyone who knows them about a person (age,
gender, ethnicity, the postcode sector they live in) and knows that person is in the file can
single the record out. The report counts the classes, the records in classes smaller than k, and
shows the smallest classes, so whoever releases the file can judge whether to generalise further
(age bands, fewer ethnicity categories) before sharing it. It measures one kind of
re-identification risk of this file; it is not a guarantee of anonymity (see README).

Quasi-identifiers are the shared schema's fields marked "identifier": "quasi" (for example
age_at_event, age, gender, ethnicity), plus the postcode generalised to its sector ("CV32 4")
when the dataset has a postcode. The full postcode and coordinates are not used: they are
already generalised to a postcode with at least k households by the sanitiser, and a class per
postcode would say little about people.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from exchange.core.postcode import postcode_sector
from exchange.core.schemas import Dataset
from exchange.errors import InvalidPostcode

__all__ = [
    "SECTOR_SUFFIX", "SMALLEST_SHOWN", "UNPARSEABLE", "assess", "EquivalenceClass", "quasi_identifiers",
    "QuasiIdentifier", "render_json", "render_text", "RiskReport", "summarise",
]

SECTOR_SUFFIX = "_sector"
SMALLEST_SHOWN = 10
UNPARSEABLE = "?"


@dataclass(frozen=True, slots=True)
class QuasiIdentifier:
    """One column of the equivalence-class key: a shared field, possibly generalised."""

    name: str  # as shown in the report
    source: str  # the shared record's field it is read from
    generalise: str | None = None  # "sector": a postcode reduced to its sector

    def value(self, record: Mapping[str, Any]) -> Any:
        value = record.get(self.source)
        if value is None or self.generalise is None:
            return value
        try:
            return postcode_sector(str(value))
        except InvalidPostcode:
            return UNPARSEABLE


def quasi_identifiers(dataset: Dataset) -> tuple[QuasiIdentifier, ...]:
    """The shared schema's quasi-identifiers, then the postcode sector if the dataset has a postcode."""
    shared_fields = dataset.shared_schema()["fields"]
    found = [QuasiIdentifier(f["name"], f["name"]) for f in shared_fields if f.get("identifier") == "quasi"]
    names = {f["name"] for f in shared_fields}
    postcode_fields = [p.name for p in dataset.fields_with("postcode") if p.name in names]
    if not postcode_fields and "postcode" in names:  # personal datasets keep the postcode whole
        postcode_fields = ["postcode"]
    if postcode_fields:
        found.append(QuasiIdentifier(postcode_fields[0] + SECTOR_SUFFIX, postcode_fields[0], "sector"))
    return tuple(found)


@dataclass(frozen=True, slots=True)
class EquivalenceClass:
    values: tuple[Any, ...]
    size: int


@dataclass(frozen=True)
class RiskReport:
    dataset: str
    k: int
    records: int
    quasi_identifiers: tuple[str, ...]
    classes: int
    records_below_k: int
    classes_below_k: int
    smallest_class: int | None
    smallest: tuple[EquivalenceClass, ...] = field(default_factory=tuple)

    @property
    def percent_below_k(self) -> float:
        return 100.0 * self.records_below_k / self.records if self.records else 0.0

    @property
    def k_anonymous(self) -> bool:
        """True when every record is in a class of at least k (an empty file trivially is)."""
        return self.records_below_k == 0

    def as_dict(self, marking: str | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {}
        if marking:
            data["marking"] = marking
        data.update({
            "dataset": self.dataset, "k": self.k, "records": self.records,
            "quasi_identifiers": list(self.quasi_identifiers), "equivalence_classes": self.classes,
            "classes_smaller_than_k": self.classes_below_k, "records_in_classes_smaller_than_k": self.records_below_k,
            "percent_records_in_classes_smaller_than_k": round(self.percent_below_k, 2),
            "smallest_class_size": self.smallest_class, "k_anonymous": self.k_anonymous,
            "smallest_classes": [{"size": c.size, "values": dict(zip(self.quasi_identifiers, c.values, strict=True))}
                                 for c in self.smallest],
        })
        return data


def _sort_key(values: tuple[Any, ...]) -> tuple[Any, ...]:
    # Mixed types and None must still sort, and always the same way.
    return tuple((v is None, type(v).__name__, str(v)) for v in values)


def assess(records: Iterable[Mapping[str, Any]], quasi: Sequence[QuasiIdentifier], k: int, *,
           dataset: str = "", shown: int = SMALLEST_SHOWN) -> RiskReport:
    """Group the records by their quasi-identifier values and measure the classes against k.

    A missing value (None) is a value like any other: records with no gender recorded form
    their own classes, which is how a reader of the file would see them too.
    """
    counts: Counter[tuple[Any, ...]] = Counter(tuple(q.value(r) for q in quasi) for r in records)
    return summarise(counts, [q.name for q in quasi], k, dataset=dataset, shown=shown)


def summarise(counts: Mapping[tuple[Any, ...], int], names: Sequence[str], k: int, *, dataset: str = "",
              shown: int = SMALLEST_SHOWN) -> RiskReport:
    """The report from class sizes already counted (keys are value tuples in `names` order)."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    total = sum(counts.values())
    below = [(values, size) for values, size in counts.items() if size < k]
    ordered = sorted(counts.items(), key=lambda item: (item[1], _sort_key(item[0])))
    return RiskReport(
        dataset=dataset, k=k, records=total, quasi_identifiers=tuple(names), classes=len(counts),
        records_below_k=sum(size for _, size in below), classes_below_k=len(below),
        smallest_class=ordered[0][1] if ordered else None,
        smallest=tuple(EquivalenceClass(values, size) for values, size in ordered[:shown]),
    )


def _show(value: Any) -> str:
    return "(blank)" if value is None else str(value)


def render_text(report: RiskReport, *, marking: str = "OFFICIAL") -> str:
    """A readable report, with the release's protective marking at its top and bottom."""
    lines = [marking, "",
             f"Re-identification risk report: {report.dataset or 'dataset'} (k-anonymity, k = {report.k})", ""]
    if report.quasi_identifiers:
        lines.append("Quasi-identifiers:         " + ", ".join(report.quasi_identifiers))
    else:
        lines.append("Quasi-identifiers:         none (every record is in one class)")
    lines += [
        f"Records:                   {report.records}",
        f"Equivalence classes:       {report.classes}",
        f"Classes smaller than k:    {report.classes_below_k}",
        f"Records in classes < k:    {report.records_below_k} ({report.percent_below_k:.1f}%)",
        f"Smallest class size:       {report.smallest_class if report.smallest_class is not None else '-'}",
        "",
    ]
    if report.records == 0:
        lines.append("The file holds no records.")
    elif report.k_anonymous:
        lines.append(f"Every record shares its quasi-identifier values with at least {report.k - 1} other(s).")
    else:
        lines.append(f"{report.records_below_k} record(s) share their quasi-identifier values with fewer than "
                     f"{report.k - 1} other(s); consider generalising (age bands, broader categories) before release.")
    if report.smallest:
        lines += ["", f"The {len(report.smallest)} smallest classes (values as they appear in the released file):", ""]
        headers = ["size", *report.quasi_identifiers]
        table = [[str(c.size), *(_show(v) for v in c.values)] for c in report.smallest]
        widths = [max(len(h), *(len(row[i]) for row in table)) for i, h in enumerate(headers)]
        lines.append("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
    lines += ["", "This measures one re-identification risk of the released file; it is not a guarantee of anonymity.",
              "", marking]
    return "\n".join(lines) + "\n"


def render_json(report: RiskReport, *, marking: str | None = None) -> str:
    return json.dumps(report.as_dict(marking), indent=2, default=str) + "\n"
