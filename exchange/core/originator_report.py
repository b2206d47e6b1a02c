"""The originator's view of the sanitiser's audit log: what became of one signatory's supplies.

It answers the ISP checklist question "Have I recorded that I have shared this information?" for
an originator: which recipients received how many of its records of which dataset, first and last
in the period, under which grant (purpose, legal basis, approver); what was withheld and why; what
was refused; and what it withdrew. Pure: it takes audit events as dicts (as AuditLog.query gives
them) and the partnership's grants, and returns a frozen `OriginatorReport`. Rendering, the audit
file and the signature are elsewhere (exchange.services.originator_report, exchange.crypto.signed_reports).

How a release is traced to its originator. The sanitiser audits a release with producer
"sanitiser", the output message id as message_id, and detail "from <input message id>"; the
output id is `output_message_id(producer, input id)` (exchange.services.sanitiser_core), a hash of
the *originator's* id and its input id. Input ids are unique per producer only (two agencies may
both send "m-1"), so joining release.detail to receipt.message_id alone could credit a release to
the wrong agency, and joining by batch time is no better. The report therefore recomputes the
output id for this originator and the input id the detail names, and counts a release as the
originator's exactly when it matches: exact, and needing nothing but the release event itself.
The caller supplies that function (`output_id`), so this module stays free of the service layer.

What the input was (a record, a withdrawal notice or supply metadata) is read from the events
the same input produced under the originator's id: a `withdrawal` event, or a `sanitisation`
event whose detail begins "supply metadata". Releases of records are counted as records received;
releases of withdrawal notices are counted separately. Withheld (`no_recipient`,
`originator_restricted`), refused (rejections whose producer is the originator: only a verified
signature puts a producer on a rejection) and withdrawal events carry the originator as producer.

Grants: a release is reported under the grant of its recipient and dataset that was in force on
the day of the release (the first such in the config, as Partnership.grant_for picks); a release
no grant covers is reported as "no grant recorded". Rows are per recipient, dataset and grant, so
a grant renewed within the period shows as two rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from exchange.core.partnership import Grant

__all__ = ["MARKING", "NO_GRANT", "GrantTerms", "OriginatorReport", "ReasonCount", "ReleaseLine", "build_report",
           "canonical_json"]

# The report names partners and volumes: it is handled as OFFICIAL-SENSITIVE, marked top and bottom.
MARKING = "OFFICIAL-SENSITIVE"
NO_GRANT = "no grant recorded"
_FROM = "from "


@dataclass(frozen=True, slots=True)
class GrantTerms:
    purpose: str
    legal_basis: str
    approved_by: str
    expires: str  # ISO date

    @classmethod
    def of(cls, grant: Grant) -> GrantTerms:
        return cls(grant.purpose, grant.legal_basis, grant.approved_by, grant.expires.isoformat())


@dataclass(frozen=True, slots=True)
class ReleaseLine:
    """What one recipient received of one dataset under one grant (None: no grant recorded)."""

    recipient: str
    dataset: str
    records: int
    withdrawals: int
    first: str  # time (UTC, ISO-8601) of the first release in the period
    last: str
    grant: GrantTerms | None


@dataclass(frozen=True, slots=True)
class ReasonCount:
    dataset: str
    reason_code: str
    count: int


@dataclass(frozen=True, slots=True)
class OriginatorReport:
    originator: str
    since: str | None
    until: str | None
    releases: tuple[ReleaseLine, ...]
    withheld: tuple[ReasonCount, ...]
    refused: tuple[ReasonCount, ...]
    withdrawals: tuple[ReasonCount, ...]  # reason_code "withdrawal": records the originator withdrew
    marking: str = MARKING

    @property
    def records_released(self) -> int:
        return sum(line.records for line in self.releases)

    def as_dict(self) -> dict[str, Any]:
        def grant(terms: GrantTerms | None) -> dict[str, str] | None:
            return None if terms is None else {"purpose": terms.purpose, "legal_basis": terms.legal_basis,
                                               "approved_by": terms.approved_by, "expires": terms.expires}

        def counts(items: tuple[ReasonCount, ...]) -> list[dict[str, Any]]:
            return [{"dataset": c.dataset, "reason_code": c.reason_code, "count": c.count} for c in items]

        return {
            "marking": self.marking,
            "originator": self.originator,
            "period": {"since": self.since, "until": self.until},
            "releases": [{"recipient": r.recipient, "dataset": r.dataset, "records": r.records,
                          "withdrawals": r.withdrawals, "first": r.first, "last": r.last, "grant": grant(r.grant)}
                         for r in self.releases],
            "withheld": counts(self.withheld),
            "refused": counts(self.refused),
            "withdrawals": counts(self.withdrawals),
        }


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """The form a report is signed in: keys sorted, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _day(at: str) -> dt.date:
    return dt.datetime.fromisoformat(at).date()


def _grant_on(grants: Iterable[Grant], recipient: str, dataset: str, day: dt.date) -> Grant | None:
    for grant in grants:
        if grant.signatory == recipient and grant.dataset == dataset and grant.in_force(day):
            return grant
    return None


def _in_period(at: str, since: str | None, until: str | None) -> bool:
    # Stored times are fixed-width UTC ISO text, so text order is time order.
    return (since is None or at >= since) and (until is None or at < until)


def _counts(table: Mapping[tuple[str, str], int]) -> tuple[ReasonCount, ...]:
    return tuple(ReasonCount(dataset, code, n) for (dataset, code), n in sorted(table.items()))


def build_report(events: Iterable[Mapping[str, Any]], originator: str, grants: Iterable[Grant], *,
                 output_id: Callable[[str, str], str], since: str | None = None,
                 until: str | None = None) -> OriginatorReport:
    """The report for `originator` from the sanitiser's audit `events` (dicts with at, kind,
    dataset, message_id, producer, recipients, reason_code, count, detail). `since` and `until`
    are UTC ISO-8601 times as the audit stores them (since inclusive, until exclusive)."""
    grants = tuple(grants)
    events = [e for e in events if _in_period(str(e["at"]), since, until)]
    # What each of the originator's inputs was; a record unless said otherwise.
    input_kind: dict[str, str] = {}
    for event in events:
        if event.get("producer") != originator or not event.get("message_id"):
            continue
        if event["kind"] == "withdrawal":
            input_kind[event["message_id"]] = "withdrawal"
        elif event["kind"] == "sanitisation" and str(event.get("detail", "")).startswith("supply metadata"):
            input_kind[event["message_id"]] = "metadata"

    lines: dict[tuple[str, str, GrantTerms | None], dict[str, Any]] = {}
    withheld: dict[tuple[str, str], int] = defaultdict(int)
    refused: dict[tuple[str, str], int] = defaultdict(int)
    withdrawn: dict[tuple[str, str], int] = defaultdict(int)
    for event in events:
        kind, dataset, count = event["kind"], event.get("dataset") or "-", int(event.get("count") or 0)
        if kind == "release":
            detail = str(event.get("detail") or "")
            if not detail.startswith(_FROM):
                continue
            input_id = detail[len(_FROM):].split(";", 1)[0].strip()
            if event.get("message_id") != output_id(originator, input_id):
                continue  # another originator's input (ids are unique per producer only)
            what = input_kind.get(input_id, "record")
            if what == "metadata":
                continue
            at = str(event["at"])
            recipients = event.get("recipients") or []
            for recipient in recipients if isinstance(recipients, list) else []:
                found = _grant_on(grants, recipient, dataset, _day(at))
                key = (recipient, dataset, GrantTerms.of(found) if found else None)
                line = lines.setdefault(key, {"records": 0, "withdrawals": 0, "first": at, "last": at})
                line["withdrawals" if what == "withdrawal" else "records"] += count
                line["first"], line["last"] = min(line["first"], at), max(line["last"], at)
        elif event.get("producer") != originator:
            continue
        elif kind == "withheld":
            withheld[(dataset, event.get("reason_code") or "-")] += count
        elif kind == "rejection":
            refused[(dataset, event.get("reason_code") or "-")] += count
        elif kind == "withdrawal":
            withdrawn[(dataset, "withdrawal")] += count

    releases = tuple(ReleaseLine(recipient, dataset, v["records"], v["withdrawals"], v["first"], v["last"], terms)
                     for (recipient, dataset, terms), v in sorted(lines.items(), key=lambda kv: (
                         kv[0][0], kv[0][1], kv[1]["first"])))
    return OriginatorReport(originator, since, until, releases, _counts(withheld), _counts(refused),
                            _counts(withdrawn))
