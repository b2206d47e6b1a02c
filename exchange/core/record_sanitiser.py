"""One record through the sanitiser's rules: check, depersonalise (or release whole, for personal
datasets), mark and attach handling caveats. Pure: the daemon (exchange.services.sanitiser) and the offline
command (`exchange sanitise`) both call this, so they give identical output for the same input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from exchange.core.depersonalise import Depersonaliser, GazetteerLike, Pseudonymise
from exchange.core.marking import (
    OFFICIAL,
    OFFICIAL_SENSITIVE_PERSONAL,
    Marking,
    parse_marking,
)
from exchange.core.partnership import Partnership
from exchange.core.postcode import normalise_postcode
from exchange.core.redact import scrub
from exchange.core.schemas import ORIGINATOR_HANDLING, Catalogue, Dataset
from exchange.core.validation import cross_field_checks
from exchange.errors import GazetteerError, InvalidPostcode, ReasonCode, Refused

__all__ = ["RecordSanitiser", "Sanitised"]


METADATA_FREE_TEXT = ("supplier_contact", "caveats")


@dataclass(frozen=True, slots=True)
class Sanitised:
    record: dict[str, Any]
    marking: Marking
    moved: bool
    redactions: int
    marking_reason: str = ""  # why the release carries `marking` (audited beside the received one)
    restriction: str | None = None  # the originator's: NOT_FOR_DISSEMINATION or SUB_JUDICE (ISP 4.6)
    release_to: tuple[str, ...] = ()  # for SUB_JUDICE: the only signatories it may reach


class RecordSanitiser:
    def __init__(self, partnership: Partnership, catalogue: Catalogue, gazetteer: GazetteerLike,
                 pseudonymise: Pseudonymise):
        self._handling_terms: dict[tuple[str, str, dt.date], tuple[str, str, dt.date]] = {}
        self.partnership = partnership
        self.catalogue = catalogue
        self.gazetteer = gazetteer
        self._pseudonymise = pseudonymise
        self._depersonalisers: dict[str, Depersonaliser] = {}

    @property
    def partnership(self) -> Partnership:
        return self._partnership

    @partnership.setter
    def partnership(self, partnership: Partnership) -> None:
        self._partnership = partnership
        self._handling_terms = {}  # read from the partnership: read again from the new one

    def release_marking(self, dataset: Dataset, originator: str, received: Marking = OFFICIAL, *,
                        declared: str | None = None) -> tuple[Marking, str]:
        """The marking the shared form carries, and why: never lower than the originator's
        (`received`), unless the originator declared what its depersonalised form may carry (in
        its own agent config, which travels with each record as `declared`, or in the partnership
        config, markings.depersonalised); a personal dataset never below OFFICIAL-SENSITIVE
        [PERSONAL]; never below the partnership's floor for the dataset."""
        legacy = self.partnership.legacy_markings
        if dataset.personal:
            return (received.at_least(OFFICIAL_SENSITIVE_PERSONAL),
                    "personal data: OFFICIAL-SENSITIVE [PERSONAL] at least")
        if declared is not None:
            return parse_marking(declared, legacy), f"the depersonalised form {originator} declared in its agent config"
        declared = self.partnership.depersonalised_markings.get((originator, dataset.id))
        if declared is not None:
            return parse_marking(declared, legacy), f"the depersonalised form {originator} declared"
        configured = self.partnership.release_markings.get(dataset.id)
        floor = parse_marking(configured, legacy) if configured else OFFICIAL
        return received.at_least(floor), "as the originator marked it" + (" (raised to the partnership's floor)"
                                                                            if received.lower_than(floor) else "")

    def sanitise(self, dataset: Dataset, record: Mapping[str, Any], *, originator: str, today: dt.date,
                 label: str = "record", received: Marking = OFFICIAL, linkage_allowed: bool = False) -> Sanitised:
        """The shared form of one raw record (marked `received` by its originator); raises Refused
        naming `label` and the reason. Pseudonyms are scoped to the originator unless a declared
        linkage domain applies and `linkage_allowed` (every recipient is tier 1)."""
        record = dict(record)
        instructions = record.pop(ORIGINATOR_HANDLING, None) or {}
        self._check(dataset, record, today, label)
        marking, why = self.release_marking(dataset, originator, received,
                                            declared=instructions.get("depersonalised_marking"))
        if dataset.personal:
            shared, moved, redactions = dict(record), False, 0
        else:
            try:
                outcome = self._depersonaliser(dataset).apply(record, pseudonymise=self._scoped(originator,
                                                                                                 linkage_allowed))
            except GazetteerError as exc:  # its message may quote the postcode: name the kind only
                raise Refused(ReasonCode.LOCATION_UNPLACEABLE,
                              f"{label}: the location cannot be placed ({exc.__class__.__name__})") from None
            shared, moved, redactions = outcome.record, outcome.moved, outcome.redactions
        shared.setdefault("location_generalised", False)
        record_key = self.record_key(dataset, originator, dataset.natural_key_of(record))
        shared["handling"] = self.handling(dataset, originator, marking, today, record_key=record_key)
        return Sanitised(shared, marking, moved, redactions, why, instructions.get("restriction"),
                         tuple(instructions.get("release_to") or ()))

    def record_key(self, dataset: Dataset, originator: str, natural_key: str) -> str:
        """The keyed token every version of one record carries (handling.record_key), from its
        natural key (Dataset.natural_key_of): scoped to the originator and dataset, so it joins
        nothing else, and reverses to nothing at a subscriber."""
        return self._pseudonymise(f"{originator}/record/{dataset.id}", natural_key)

    def _scoped(self, originator: str, linkage_allowed: bool) -> Pseudonymise:
        def pseudonymise(domain: str, value: str) -> str:
            return self._pseudonymise(self.partnership.pseudonym_scope(domain, originator,
                                                                       linkage_allowed=linkage_allowed), value)
        return pseudonymise

    def metadata(self, metadata: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
        """A supply's metadata (guidance 3.4) with its free text scrubbed like any free-text field: a
        name or a date of birth typed into the caveats must not leave either."""
        out = dict(metadata)
        redactions = 0
        for name in METADATA_FREE_TEXT:
            if isinstance(out.get(name), str):
                scrubbed = scrub(out[name])
                out[name], redactions = scrubbed.text, redactions + scrubbed.total
        return out, redactions

    def handling(self, dataset: Dataset, originator: str, marking: Marking, today: dt.date, *,
                 record_key: str) -> dict[str, Any]:
        slot = (dataset.id, originator, today)
        terms = self._handling_terms.get(slot)
        if terms is None:  # once per dataset, originator, day and partnership state: it scans every grant
            purposes = sorted({g.purpose for g in self.partnership.grants
                               if g.dataset == dataset.id and g.in_force(today)})
            terms = self._handling_terms[slot] = (
                "; ".join(purposes) or "none recorded", f"No onward sharing without the consent of {originator}",
                self.partnership.destroy_by(originator, dataset.id, today, personal=dataset.personal))
        purpose, onward, destroy_by = terms
        return {"marking": str(marking), "originator": originator, "permitted_purpose": purpose,
                "onward_sharing": onward, "destroy_by": destroy_by, "record_key": record_key}

    def _check(self, dataset: Dataset, record: dict[str, Any], today: dt.date, label: str) -> None:
        reasons = list(cross_field_checks(dataset, record, today))
        for policy in dataset.fields_with("postcode"):
            if record.get(policy.name) is not None:
                try:
                    record[policy.name] = normalise_postcode(record[policy.name])
                except InvalidPostcode as exc:
                    reasons.append(f"{policy.name}: {exc}")
        if reasons:
            # Name the fields, not their values: this reason travels to the dead-letter topic and logs.
            named = sorted({f.name for f in dataset.fields if any(f.name in reason for reason in reasons)})
            raise Refused(ReasonCode.RECORD_INVALID, f"{label}: fails validation in {', '.join(named) or 'its fields'}")

    def _depersonaliser(self, dataset: Dataset) -> Depersonaliser:
        if dataset.id not in self._depersonalisers:
            self._depersonalisers[dataset.id] = Depersonaliser(
                dataset, self.gazetteer, k=self.partnership.k_households, pseudonymise=self._pseudonymise)
        return self._depersonalisers[dataset.id]
