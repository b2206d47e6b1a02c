"""No record can take long to sanitise, whatever its content: text fields have a length limit
(checked at the agent and again at the sanitiser) and the scrubbing is linear in its input."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from exchange.core.partnership import Partnership
from exchange.core.public_keys import PublicKeys
from exchange.core.record_sanitiser import RecordSanitiser
from exchange.core.redact import scrub
from exchange.core.schemas import catalogue
from exchange.core.validation import validate_row
from exchange.crypto.pseudonyms import Pseudonymiser
from exchange.errors import ReasonCode, Refused, RowInvalid
from exchange.testing.records import records_for, row_from_record

TODAY = dt.date.today()
DATASET = catalogue()["police_crime_offence"]
HOSTILE = {
    "name-like": " ".join(["Mr", "John", "Smith", "12", "High", "Street", "SMITH,", "Kerry", "named"] * 400),
    "capitals": "A " * 2000,
    "flats": "Flat 3, " * 500,
}
GENEROUS = 0.5  # seconds: the bench (bench/sanitise_worst_case.py) measures the real figure, under 50 ms


@pytest.fixture(scope="module")
def rules(gazetteer):
    partnership = Partnership(name="t", k_households=4, retention_days=365, sanitiser=PublicKeys(bytes(32), bytes(32)),
                              signatories={}, grants=())
    return RecordSanitiser(partnership, catalogue(), gazetteer, Pseudonymiser.one_off())


@pytest.fixture(scope="module")
def record(gazetteer):
    return records_for(DATASET, gazetteer, 1, seed=1, today=TODAY)[0]


@pytest.mark.parametrize("shape", sorted(HOSTILE))
def test_a_record_with_every_text_field_at_its_limit_is_sanitised_promptly(rules, record, shape):
    hostile = dict(record)
    for policy in DATASET.fields:
        if policy.rule in ("free_text", "address"):
            hostile[policy.name] = HOSTILE[shape][: policy.max_length]
    started = time.perf_counter()
    rules.sanitise(DATASET, hostile, originator="t", today=TODAY)
    assert time.perf_counter() - started < GENEROUS


def test_an_over_long_field_is_refused_by_the_sanitiser_naming_the_field_not_the_text(rules, record):
    hostile = dict(record, method_of_entry="Mr John Smith " * 80_000)  # over a megabyte
    started = time.perf_counter()
    with pytest.raises(Refused) as refused:
        rules.sanitise(DATASET, hostile, originator="t", today=TODAY, label="message m-1")
    assert time.perf_counter() - started < GENEROUS
    assert refused.value.reason_code == ReasonCode.RECORD_INVALID
    assert "method_of_entry" in str(refused.value) and "John" not in str(refused.value)


def test_an_over_long_cell_is_quarantined_at_the_agent_with_the_reason(record):
    row = row_from_record(DATASET, dict(record, property_stolen="x" * 2001))
    with pytest.raises(RowInvalid) as invalid:
        validate_row(DATASET, row, today=TODAY)
    assert "property_stolen: 2001 characters, more than the 2000 allowed" in invalid.value.reasons


def test_scrubbing_time_grows_linearly_with_the_text():
    text = HOSTILE["name-like"]

    def seconds(n: int) -> float:
        best = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            scrub((text * (n // len(text) + 1))[:n])
            best = min(best, time.perf_counter() - started)
        return best

    small, large = seconds(2_000), seconds(32_000)
    assert large < 40 * small  # 16 times the text; quadratic time would be about 256 times
