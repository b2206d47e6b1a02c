"""What the agent as a service (`exchange agent run`, agents.inbox.Inbox) adds to a supply's latency:
an export renamed from NAME.csv.part to NAME.csv in a watched inbox, to its last message (the
supply's metadata, published after every record) on the raw topic; against the baseline, measured
in the same run, of `agent submit` called on the same kind of file, to its last message.

    python bench/inbox.py [--files N] [--rows R] [--json]

The issue's target: the inbox service adds under 50 ms. An export written straight into the inbox
(no .part) waits `stable_seconds` by design (nothing else says it is complete), so it is not what
this measures. Times are the broker's record timestamps (set when the producer sends) against the
wall clock of this process; every process and file it creates is removed on exit. A benchmark,
not a test: it exits 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _support import Offsets, make_world, say  # noqa: E402

from agents.agent import submit  # noqa: E402
from agents.config import InboxSettings  # noqa: E402
from agents.inbox import Inbox  # noqa: E402
from exchange.core.names import key_topic, raw_topic  # noqa: E402
from exchange.core.schemas import catalogue  # noqa: E402
from exchange.testing.partnership import DATASET, POLICE, police_offence_export  # noqa: E402
from exchange.transport.broker import EmbeddedBroker  # noqa: E402
from exchange.transport.kafka import KafkaSettings, ensure_topics  # noqa: E402

RAW = raw_topic(DATASET)


async def _last_sent(offsets: Offsets, starts: dict, wait_for: Path | None = None) -> float:
    """The latest timestamp on the raw topic after `starts` (once `wait_for` exists, if given)."""
    while wait_for is not None and not wait_for.exists():
        await asyncio.sleep(0.002)
    stamps = await offsets.timestamps(RAW, starts, await offsets.ends(RAW))
    return max(stamps)


def _summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {"median_ms": round(statistics.median(ms), 1), "max_ms": round(max(ms), 1), "min_ms": round(min(ms), 1)}


async def measure(bootstrap: str, work: Path, files: int, rows: int) -> dict[str, Any]:
    world = make_world(work / "partnership", bootstrap, partitions=2)
    settings = KafkaSettings(bootstrap, partitions=2)
    await ensure_topics(settings, [RAW, key_topic(RAW)])
    dataset = catalogue()[DATASET]
    staging, folder = work / "staging", work / "inbox"
    staging.mkdir()
    config = replace(world.agent_config, outbox=work / "inbox-outbox.db",
                     inbox=InboxSettings(folder, folder / "processed", folder / "failed"))
    inbox = Inbox(config, partnership=world.partnership, dataset=dataset, keys=world.keys[POLICE], settings=settings)
    through_inbox, direct = [], []
    async with Offsets(settings) as offsets:
        stop = asyncio.Event()
        service = asyncio.create_task(inbox.run(stop))
        try:
            while not (folder / "processed").is_dir():
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.5)  # watching
            say(f"inbox: {files} files of {rows} rows, each renamed from .part")
            for i in range(files):
                export = staging / f"inbox-{i}.csv"
                police_offence_export(world.gazetteer, export, rows=rows, bad_rows=0, seed=900 + i)
                os.replace(export, folder / f"inbox-{i}.csv.part")
                await asyncio.sleep(0.3)  # the writer takes its time; the agent only notes the .part
                starts = await offsets.ends(RAW)
                renamed = time.time()
                os.replace(folder / f"inbox-{i}.csv.part", folder / f"inbox-{i}.csv")
                through_inbox.append(await _last_sent(offsets, starts, folder / "processed" / f"inbox-{i}.csv")
                                     - renamed)
        finally:
            stop.set()
            await service
        say(f"agent submit: {files} files of {rows} rows")
        submit_config = replace(world.agent_config, outbox=work / "submit-outbox.db")
        for i in range(files):
            export = staging / f"direct-{i}.csv"
            police_offence_export(world.gazetteer, export, rows=rows, bad_rows=0, seed=950 + i)
            starts = await offsets.ends(RAW)
            called = time.time()
            await submit(submit_config, export, partnership=world.partnership, dataset=dataset,
                         keys=world.keys[POLICE], settings=settings)
            direct.append(await _last_sent(offsets, starts) - called)
    inbox_figures, direct_figures = _summary(through_inbox), _summary(direct)
    return {"files": files, "rows": rows, "inbox": inbox_figures, "submit": direct_figures,
            "added_median_ms": round(inbox_figures["median_ms"] - direct_figures["median_ms"], 1),
            "added_max_ms": round(inbox_figures["max_ms"] - direct_figures["max_ms"], 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=8, help="exports each way (default 8)")
    parser.add_argument("--rows", type=int, default=10, help="rows in each export (default 10)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.files < 1 or args.rows < 1:
        parser.error("--files and --rows must be positive")
    with tempfile.TemporaryDirectory(prefix="bench-inbox-") as folder:
        try:
            with EmbeddedBroker(log_path=Path(folder) / "broker.log") as broker:
                results = asyncio.run(measure(broker.bootstrap, Path(folder), args.files, args.rows))
        except Exception as exc:  # a benchmark reports and exits 0
            results = {"error": f"{exc.__class__.__name__}: {exc}"}
    if args.json or "error" in results:
        print(json.dumps(results, indent=2))
        return 0
    inbox, direct = results["inbox"], results["submit"]
    print(f"{results['files']} exports of {results['rows']} rows, to the last message on the raw topic")
    print(f"  inbox service, .part renamed   median {inbox['median_ms']} ms, max {inbox['max_ms']} ms")
    print(f"  agent submit (baseline)        median {direct['median_ms']} ms, max {direct['max_ms']} ms")
    print(f"  added by the service           median {results['added_median_ms']} ms, "
          f"max {results['added_max_ms']} ms (target: under 50 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
