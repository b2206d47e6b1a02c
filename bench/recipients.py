"""The sanitiser's cost per record against the number of subscribers it seals for: the pure core
(SanitiserCore: verify, open, depersonalise, mark, re-seal) on in-memory messages, no broker, no
ledger, for partnerships granting police_crime_offence to 1, 10 and 50 subscribers. The 1-subscriber
partnership is the baseline, measured in the same run.

    python bench/recipients.py [--records N] [--rounds R] [--json]

Prints records/s and microseconds per record for each, the ratio 50/1, and the sizes of what the
core publishes (a record's envelope should not grow with the recipients; the key grant, one per
1,000 records, does). Rounds are interleaved and the best of each is kept (the machine may be
busy). A benchmark, not a test: it never fails on a timing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from exchange.core.names import SANITISER_ID, raw_topic  # noqa: E402
from exchange.core.partnership import Partnership  # noqa: E402
from exchange.core.schemas import catalogue  # noqa: E402
from exchange.crypto.envelope import Sealer  # noqa: E402
from exchange.crypto.keys import KeyPair  # noqa: E402
from exchange.services.sanitiser_core import SanitiserCore  # noqa: E402
from exchange.storage.gazetteer import Gazetteer  # noqa: E402
from exchange.testing.gazetteer import synthesise  # noqa: E402
from exchange.testing.records import records_for  # noqa: E402

DATASET = "police_crime_offence"
SUPPLIER = "bench-police"
COUNTS = (1, 10, 50)
BATCH = 500  # as the consume loop polls


@dataclass
class Message:
    """What the consume loop hands a core (exchange.core.messages.Incoming)."""

    topic: str
    partition: int
    offset: int
    value: bytes | None


def partnership(subscribers: int, supplier: KeyPair, sanitiser: KeyPair, keys: list[KeyPair]) -> Partnership:
    """One tier-1 supplier of police_crime_offence and `subscribers` tier-1 signatories granted it."""
    grant = dict(purpose="Strategic assessment", legal_basis="Crime and Disorder Act 1998 s.115",
                 approved_by=SUPPLIER, expires=dt.date.today() + dt.timedelta(days=365))
    ids = [f"bench-subscriber-{i:02d}" for i in range(subscribers)]
    return Partnership.from_mapping({
        "partnership": {"name": f"Bench CSP, {subscribers} subscribers", "k_households": 4},
        "sanitiser": sanitiser.public.as_config(),
        "signatory": [{"id": SUPPLIER, "name": "Bench police", "kind": "responsible_authority", "tier": 1,
                       "status": "active", "supplies": [DATASET], **supplier.public.as_config()}]
                     + [{"id": sid, "name": f"Subscriber {sid}", "kind": "responsible_authority", "tier": 1,
                         "status": "active", **keys[i].public.as_config()} for i, sid in enumerate(ids)],
        "grant": [{"signatory": sid, "dataset": DATASET, **grant} for sid in ids],
    })


def resolving_recipients(partnership: Partnership, calls: int = 500) -> float | None:
    """Microseconds of one Partnership.recipients call, timed alone: what resolving the recipients
    would add to every record if the core asked per record (it asks once per dataset, day and
    partnership state, so the per-record figure does not include it)."""
    today = dt.date.today()
    try:
        started = time.perf_counter()
        for _ in range(calls):
            partnership.recipients(DATASET, personal=False, today=today)
        return round((time.perf_counter() - started) / calls * 1e6, 1)
    except TypeError:  # its signature changed: not measured
        return None


async def run_once(core: SanitiserCore, messages: list[Message]) -> tuple[float, int, int]:
    """All messages through the core in batches, as the consume loop drives it (prepare when the
    core has it, handle each, settle); seconds, records released, outputs."""
    released_before, outputs = core.stats.released, 0
    prepare = getattr(core, "prepare", None)
    started = time.perf_counter()
    for first in range(0, len(messages), BATCH):
        batch = messages[first:first + BATCH]
        if prepare is not None:
            await prepare(batch)
        handled = [await core.handle(m) for m in batch]
        outputs += sum(len(h.outputs) for h in handled)
        await core.settle(handled)
    return time.perf_counter() - started, core.stats.released - released_before, outputs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=2000, help="records per round (default 2000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; the best is kept (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.records < 1 or args.rounds < 1:
        parser.error("--records and --rounds must be positive")

    with tempfile.TemporaryDirectory(prefix="bench-recipients-") as work:
        synthesise(seed=11, out_db=Path(work) / "gazetteer.db")
        gazetteer = Gazetteer.open(Path(work) / "gazetteer.db")  # held in memory; the file may go
    dataset = catalogue()[DATASET]
    supplier, sanitiser = KeyPair.generate(SUPPLIER), KeyPair.generate("sanitiser", with_pseudonym_secret=True)
    subscriber_keys = [KeyPair.generate(f"bench-subscriber-{i:02d}") for i in range(max(COUNTS))]
    topic = raw_topic(DATASET)
    sealer = Sealer(producer=SUPPLIER, keys=supplier, topic=topic, recipients={SANITISER_ID: sanitiser.public.x25519})
    messages, grants = [], []
    for index, record in enumerate(records_for(dataset, gazetteer, args.records, seed=17)):
        sealed = sealer.seal(dataset.raw_codec.encode(record), message_id=f"bench-{index:07d}", dataset=DATASET,
                             schema_fingerprint=dataset.raw_codec.fingerprint, marking="OFFICIAL")
        if sealed.key_grant is not None:
            grants.append(sealed.key_grant)
        messages.append(Message(topic, 0, index, sealed.envelope))

    cores: dict[int, SanitiserCore] = {}
    for count in COUNTS:
        core = SanitiserCore(partnership(count, supplier, sanitiser, subscriber_keys), catalogue(), sanitiser,
                             gazetteer)
        for grant in grants:  # the key topic, read in advance: no fetch inside the timing
            core.opener.accept_key_grant(grant)
        cores[count] = core

    async def measure() -> dict[int, dict[str, Any]]:
        best: dict[int, dict[str, Any]] = {}
        for core in cores.values():  # warm-up: caches, first key grants
            await run_once(core, messages[:min(200, len(messages))])
        for round_number in range(args.rounds):
            for count, core in cores.items():
                seconds, released, outputs = await run_once(core, messages)
                print(f"round {round_number + 1}, {count} subscriber(s): {seconds:.3f} s", file=sys.stderr, flush=True)
                if count not in best or seconds < best[count]["seconds"]:
                    best[count] = {"seconds": seconds, "released": released, "outputs": outputs}
        return best

    best = asyncio.run(measure())
    results: dict[str, Any] = {"records": args.records, "rounds": args.rounds}
    for count in COUNTS:
        core, found = cores[count], best[count]
        fresh = SanitiserCore(core.partnership, catalogue(), sanitiser, gazetteer)  # its first output opens a key
        for grant in grants:
            fresh.opener.accept_key_grant(grant)
        sample = asyncio.run(fresh.handle(Message(topic, 0, 0, messages[0].value)))  # sizes of what it publishes
        grant_sizes = [len(o.value) for o in sample.outputs if o.is_key_grant]
        record_sizes = [len(o.value) for o in sample.outputs if not o.is_key_grant]
        results[f"recipients_{count}"] = {
            "records_per_s": round(args.records / found["seconds"]),
            "us_per_record": round(found["seconds"] / args.records * 1e6, 1),
            "released": found["released"], "outputs": found["outputs"],
            "dead_lettered": sum(core.stats.dead_lettered.values()),
            "envelope_bytes": record_sizes[0] if record_sizes else None,
            "key_grant_bytes": grant_sizes[0] if grant_sizes else None,
            "us_resolving_recipients": resolving_recipients(core.partnership),
        }
    one, fifty = results["recipients_1"], results[f"recipients_{max(COUNTS)}"]
    results["cost_ratio_50_to_1"] = round(fifty["us_per_record"] / one["us_per_record"], 3)
    results["rate_ratio_50_to_1"] = round(fifty["records_per_s"] / one["records_per_s"], 3)

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"sanitiser core per record, {args.records} police_crime_offence records, best of {args.rounds} round(s)")
    print("subscribers   records/s   us/record   vs 1 subscriber   resolving recipients   record envelope   "
          "key grant (1 per 1,000 records)")
    for count in COUNTS:
        row = results[f"recipients_{count}"]
        ratio = row["us_per_record"] / one["us_per_record"]
        print(f"{count:>11}   {row['records_per_s']:>9,}   {row['us_per_record']:>9}   {ratio:>15.3f}   "
              f"{row['us_resolving_recipients']!s:>17} us   {row['envelope_bytes']!s:>13} B   "
              f"{row['key_grant_bytes']!s:>9} B")
        if row["dead_lettered"] or row["released"] != args.records:
            print(f"             note: released {row['released']} of {args.records}, "
                  f"dead-lettered {row['dead_lettered']} (over all rounds)")
    print(f"ratio 50/1: {results['cost_ratio_50_to_1']} x the time per record "
          f"({results['rate_ratio_50_to_1']} x the records per second)")
    print("(resolving recipients: one Partnership.recipients call timed alone; the core makes it once per dataset, "
          "day and partnership state, not per record)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
