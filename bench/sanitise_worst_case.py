"""The time one record takes through the sanitiser's rules when every text field is as long and as
hostile as the schema allows, against a typical record measured in the same run.

    python bench/sanitise_worst_case.py [--repeat N]

Prints milliseconds per record for each shape of hostile text and the ratio to a typical record.
The target (hardening): no record over 50 ms on a 2-core machine, whatever its content. A
benchmark, not a test: it never fails on a timing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exchange.core.partnership import Partnership  # noqa: E402
from exchange.core.public_keys import PublicKeys  # noqa: E402
from exchange.core.record_sanitiser import RecordSanitiser  # noqa: E402
from exchange.core.schemas import catalogue  # noqa: E402
from exchange.crypto.pseudonyms import Pseudonymiser  # noqa: E402
from exchange.storage.gazetteer import Gazetteer  # noqa: E402
from exchange.testing.gazetteer import synthesise  # noqa: E402
from exchange.testing.records import records_for  # noqa: E402

WORDS = ["the", "Mr", "John", "Smith", "12", "High", "Street", "flat", "3", "went", "to", "CV32", "4AB", "07700",
         "900123", "SMITH,", "Kerry", "DOB", "Road", "Rose", "Cottage", "A", "B", "named", "victim"]


def hostile(shape: str, length: int, rng: random.Random) -> str:
    if shape == "name-like words":
        text = " ".join(rng.choice(WORDS) for _ in range(length))
    elif shape == "titles and names":
        text = "Mr John Smith " * length
    elif shape == "capital letters":
        text = "A " * length
    elif shape == "digits":
        text = "1" * length
    elif shape == "flats and commas":
        text = "Flat 3, " * length
    else:
        text = " " * length
    return text[:length]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    dataset = catalogue()["police_crime_offence"]
    with tempfile.TemporaryDirectory() as work:
        synthesise(seed=11, out_db=Path(work) / "g.db")
        gazetteer = Gazetteer.open(Path(work) / "g.db")
    partnership = Partnership(name="bench", k_households=4, retention_days=365,
                              sanitiser=PublicKeys(bytes(32), bytes(32)), signatories={}, grants=())
    rules = RecordSanitiser(partnership, catalogue(), gazetteer, Pseudonymiser.one_off())
    today = dt.date.today()
    base = records_for(dataset, gazetteer, 1, seed=1, today=today)[0]

    def per_record(record) -> float:
        started = time.perf_counter()
        for _ in range(args.repeat):
            rules.sanitise(dataset, record, originator="bench", today=today)
        return (time.perf_counter() - started) / args.repeat * 1000

    typical = per_record(base)
    print(f"typical record: {typical:.2f} ms")
    rng = random.Random(5)
    worst = 0.0
    for shape in ("name-like words", "titles and names", "capital letters", "digits", "flats and commas", "spaces"):
        record = dict(base)
        for policy in dataset.fields:
            if policy.rule in ("free_text", "address") and policy.max_length:
                record[policy.name] = hostile(shape, policy.max_length, rng)
        ms = per_record(record)
        worst = max(worst, ms)
        print(f"every text field at its limit, {shape:18}: {ms:7.2f} ms per record ({ms / typical:5.1f} x typical)")
    print(f"worst: {worst:.2f} ms per record (target: under 50 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
