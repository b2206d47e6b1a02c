"""`exchange demo`: the whole pipeline on the embedded broker, with synthetic data.

Starts the broker, makes a synthetic partnership (police, council, a voluntary body; keys; a
gazetteer with postcodes under 4 households; a police crime export with some faulty rows), runs
the sanitiser and the council's feed as separate processes, submits the export through the
police agent, waits until every accepted record is stored at the council, shows that the
voluntary body (no grant) can open none of them, prints a summary and a briefing, and stops
every process it started.
"""

from __future__ import annotations

import asyncio
import csv
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from exchange.core.briefing_page import as_text
from exchange.core.names import DEADLETTER_TOPIC, key_topic, raw_topic, shared_topic
from exchange.core.partnership import load_partnership
from exchange.core.schemas import catalogue
from exchange.crypto.at_rest import AtRest
from exchange.crypto.keys import KeyPair
from exchange.services.briefings import BriefingSpec, briefing_title, read_feed, write_briefing
from exchange.services.feed import FeedService
from exchange.storage._files import open_private, private_folder
from exchange.storage.feed_store import FeedStore
from exchange.storage.gazetteer import Gazetteer
from exchange.testing.gazetteer import synthesise
from exchange.testing.partnership import (
    COUNCIL,
    DATASET,
    VOLUNTARY,
    make_partnership,
    police_offence_export,
)
from exchange.transport.broker import EmbeddedBroker
from exchange.transport.kafka import KafkaSettings, ensure_topics
from exchange.transport.readers import read_topic

__all__ = ["DemoSummary", "run_demo"]


@dataclass
class DemoSummary:
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    rejection_reasons: Counter = field(default_factory=Counter)
    published: int = 0
    delivered: dict[str, int] = field(default_factory=dict)
    generalised: int = 0
    refused_for_unauthorised: int = 0
    opened_by_unauthorised: int = 0
    dead_lettered: int = 0
    elapsed: float = 0.0
    briefing_path: Path | None = None
    briefing_text: str = ""

    def render(self) -> str:
        reasons = "; ".join(f"{reason} ({count})" for reason, count in self.rejection_reasons.most_common())
        delivered = ", ".join(f"{who} {count}/{self.accepted}" for who, count in self.delivered.items())
        return "\n".join([
            "", "Demo summary",
            f"  export            {self.rows} rows: {self.accepted} accepted, {self.rejected} rejected",
            f"  rejected because  {reasons or 'nothing rejected'}",
            f"  published         {self.published} sealed messages to raw.{DATASET} and its key topic",
            f"  depersonalised    {self.accepted} records; "
            f"{self.generalised} moved to the nearest postcode with >= 4 households",
            f"  dead-lettered     {self.dead_lettered}",
            f"  delivered         {delivered}",
            f"  no grant          {VOLUNTARY}: opened {self.opened_by_unauthorised}, "
            f"refused {self.refused_for_unauthorised} (not a recipient)",
            f"  elapsed           {self.elapsed:.1f} s",
        ])


def _say(message: str) -> None:
    print(message, flush=True)


class _Processes:
    """Child services, each logging to its own file, all stopped on exit."""

    def __init__(self, env: dict[str, str], logs: Path):
        self.env, self.logs = env, logs
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open_private(self.logs / f"{name}.log", "wb")
        child = subprocess.Popen([sys.executable, "-m", "exchange", *args], env=self.env, stdout=log,
                                 stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.children.append((name, child))
        return child

    def run(self, name: str, *args: str) -> subprocess.CompletedProcess[bytes]:
        with open_private(self.logs / f"{name}.log", "wb") as log:
            return subprocess.run([sys.executable, "-m", "exchange", *args], env=self.env, stdout=subprocess.PIPE,
                                  stderr=log, stdin=subprocess.DEVNULL, timeout=300)

    def check_alive(self) -> None:
        for name, child in self.children:
            if child.poll() is not None:
                raise RuntimeError(f"{name} exited with status {child.returncode}; see {self.logs / (name + '.log')}")

    def stop_all(self) -> None:
        for _, child in self.children:
            if child.poll() is None:
                child.terminate()
        for _, child in self.children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def run_demo(workdir: Path, *, rows: int = 300, timeout: float = 180.0,
             say: Callable[[str], None] = _say) -> DemoSummary:

    started = time.monotonic()
    summary = DemoSummary()
    if workdir.exists():
        shutil.rmtree(workdir)
    private_folder(workdir / "logs")
    passphrase = secrets.token_urlsafe(24)
    passphrase_file = workdir / ".passphrase"
    passphrase_file.touch(mode=0o600)
    passphrase_file.write_text(passphrase)

    say(f"[1/7] Synthetic partnership in {workdir}: gazetteer, keys, ISP config, police export")
    gazetteer_path = workdir / "gazetteer.db"
    synth = synthesise(seed=2026, out_db=gazetteer_path)
    files = make_partnership(workdir, passphrase, gazetteer=gazetteer_path)
    gazetteer = Gazetteer.open(gazetteer_path)
    export = workdir / "police-crime-export.csv"
    police_offence_export(gazetteer, export, rows=rows)
    say(f"      {synth.postcodes} postcodes ({synth.under_4} with fewer than 4 households), "
        f"{rows} crimes + faulty rows")

    # The demo's processes use its own files only: an empty site config, and none of the caller's
    # broker or security settings (a site's exchange.toml or EXCHANGE_* variables must not reach them).
    site = workdir / "exchange.toml"
    with open_private(site, "w") as handle:
        handle.write("# the demo's own, empty site config\n")
    kept = ("EXCHANGE_SCHEMA_DIR", "EXCHANGE_FAILPOINT")  # where the code is, not where a site's data is
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXCHANGE_") or k in kept}
    env.update(EXCHANGE_KEY_PASSPHRASE_FILE=str(passphrase_file), EXCHANGE_CONFIG=str(site))
    processes = _Processes(env, workdir / "logs")
    council_db = workdir / f"{COUNCIL}-feed.db"
    with EmbeddedBroker(log_path=workdir / "logs" / "broker.log") as broker:
        try:
            bootstrap = broker.bootstrap
            env["EXCHANGE_BOOTSTRAP"] = bootstrap
            settings = KafkaSettings(bootstrap)
            out = shared_topic(DATASET)
            asyncio.run(ensure_topics(settings, [raw_topic(DATASET), key_topic(raw_topic(DATASET)), out, key_topic(out),
                                                 DEADLETTER_TOPIC]))
            say(f"[2/7] Broker (Tansu) listening on {bootstrap}")

            say("[3/7] Starting the sanitiser and the council's feed")
            processes.start("sanitiser", "sanitiser", "run", "--config", str(files.partnership),
                            "--keys", str(files.keys["sanitiser"]), "--gazetteer", str(gazetteer_path),
                            "--audit", str(workdir / "sanitiser-audit.db"))
            processes.start("feed-council", "feed", "run", "--config", str(files.partnership), "--as", COUNCIL,
                            "--db", str(council_db), "--keys", str(files.keys[COUNCIL]))

            say("[4/7] Police agent submits the export")
            result = processes.run("agent", "agent", "submit", "--config", str(files.agent_config), str(export),
                                   "--json")
            if result.returncode not in (0, 1) or not result.stdout.strip():
                raise RuntimeError(f"agent failed (status {result.returncode}); see {workdir / 'logs' / 'agent.log'}")
            report = json.loads(result.stdout)
            summary.rows, summary.accepted, summary.rejected = report["rows"], report["accepted"], report["rejected"]
            summary.published = report["published"]
            if report["quarantine"]:
                with open(report["quarantine"], newline="") as handle:
                    for row in csv.DictReader(handle):
                        for reason in row["reasons"].split("; "):
                            summary.rejection_reasons[reason.split(":")[0]] += 1
            say(f"      {summary.accepted} accepted, {summary.rejected} rejected (see {report['quarantine']})")

            say("[5/7] Waiting for the council's feed to store every accepted record")
            deadline = time.monotonic() + timeout
            last_shown = -1
            while True:
                processes.check_alive()
                held = FeedStore.count_from_outside(council_db)
                if held != last_shown:
                    say(f"      stored at {COUNCIL}: {held}/{summary.accepted}")
                    last_shown = held
                if held >= summary.accepted:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"only {held} of {summary.accepted} records arrived within {timeout:.0f} s")
                time.sleep(0.5)
            summary.delivered[COUNCIL] = held

            say(f"[6/7] {VOLUNTARY} (tier 2, no grant) tries to open the shared records with its own key")
            summary.opened_by_unauthorised, summary.refused_for_unauthorised = asyncio.run(
                _unauthorised_attempt(files, settings, workdir))
            summary.dead_lettered = len(asyncio.run(read_topic(settings, DEADLETTER_TOPIC)))
        finally:
            processes.stop_all()

    say("[7/7] Daily briefing for the council")
    summary.generalised, summary.briefing_text, summary.briefing_path = _briefing(files, council_db, workdir)
    summary.elapsed = time.monotonic() - started
    return summary


async def _unauthorised_attempt(files, settings: KafkaSettings, workdir: Path) -> tuple[int, int]:
    """Run a feed for the voluntary body, forced onto the dataset it holds no grant for."""

    keys = KeyPair.load(files.keys[VOLUNTARY], (workdir / ".passphrase").read_text())
    async with FeedStore(workdir / f"{VOLUNTARY}-attempt.db") as store:
        feed = FeedService(load_partnership(files.partnership), catalogue(), keys, VOLUNTARY, settings, store,
                           datasets=[DATASET])
        stats = await feed.run(asyncio.Event(), until_idle=3.0)
        return stats.stored, stats.refused


def _briefing(files, council_db: Path, workdir: Path) -> tuple[int, str, Path]:
    """The council's daily briefing: yesterday (the last whole day) against the 28 days before, as a
    page (briefing.html) and as text; and how many records held were moved to another postcode."""
    partnership = load_partnership(files.partnership)
    spec = BriefingSpec(period="day", title=briefing_title("day", partnership.name),
                        prepared_for=partnership.signatory(COUNCIL).name)
    path = workdir / "briefing.html"
    # The council's store is sealed at rest under its key file, as its feed wrote it.
    sealing = AtRest.for_keys(KeyPair.load(files.keys[COUNCIL], (workdir / ".passphrase").read_text()), "feed store")
    briefing = write_briefing(council_db, path, spec, sealing=sealing)
    generalised = sum(1 for r in read_feed(council_db, sealing).records if r.get("location_generalised") is True)
    return generalised, as_text(briefing), path
