"""`exchange agent run`: the agent as a service on an inbox folder.

The decision (what to do with a file) is checked without a broker; the service itself runs on
the embedded broker while files arrive: complete, as NAME.part then renamed, still being written,
a duplicate, a bad file, one whose rows are all rejected, and one fully submitted before a crash,
with the agent killed and started again in the middle. Every file ends up processed (or failed)
exactly once, and nothing is published twice."""

from __future__ import annotations

import asyncio
import csv
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from agents.agent import SubmitReport, submit
from agents.config import AgentConfig, InboxSettings
from agents.inbox import Action, FileState, Inbox, Outcome, shred
from exchange.core.names import raw_topic
from exchange.core.schemas import catalogue
from exchange.crypto.envelope import read_header
from exchange.errors import ConfigError
from exchange.storage.outbox import Outbox
from exchange.testing.partnership import DATASET, POLICE, police_offence_export
from exchange.transport.kafka import KafkaSettings
from exchange.transport.readers import read_topic
from tests.support.partnership import PASSPHRASE, agent_config_with_outbox

STABLE = 2.0  # seconds a directly written file must stay unchanged


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _settings(folder: Path, **changes) -> InboxSettings:
    return replace(InboxSettings(folder, folder / "processed", folder / "failed", stable_seconds=STABLE), **changes)


def _config(demo_files, work: Path, **inbox) -> AgentConfig:
    return replace(agent_config_with_outbox(demo_files, work / "outbox.db"), inbox=_settings(work / "inbox", **inbox))


async def _until(predicate, what: str, timeout: float = 60.0, tasks=()) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        for task in tasks:
            if task.done():
                task.result()  # an agent that died says why
                raise AssertionError(f"the agent stopped while waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


# -- the config ----------------------------------------------------------------------------------

AGENT = ('[agent]\nsignatory = "police"\ndataset = "police_crime_offence"\nmarking = "OFFICIAL"\n'
         'key_file = "k.key"\noutbox = "o.db"\npartnership = "p.toml"\n')


def test_the_inbox_table_has_defaults_and_its_folders_resolve_beside_the_config(tmp_path):
    path = tmp_path / "agent.toml"
    path.write_text(AGENT + '[inbox]\nfolder = "drop"\n')
    inbox = AgentConfig.load(path).inbox
    assert inbox == InboxSettings(tmp_path / "drop", tmp_path / "drop" / "processed", tmp_path / "drop" / "failed",
                                  "*.csv", False, 2.0)
    path.write_text(AGENT + '[inbox]\nfolder = "/srv/drop"\nprocessed = "done"\nfailed = "/srv/bad"\n'
                            'pattern = "crimes-*.txt"\ndelete_after_acknowledged = true\nstable_seconds = 10\n')
    assert AgentConfig.load(path).inbox == InboxSettings(Path("/srv/drop"), tmp_path / "done", Path("/srv/bad"),
                                                         "crimes-*.txt", True, 10.0)
    path.write_text(AGENT)
    assert AgentConfig.load(path).inbox is None


@pytest.mark.parametrize("table, key", [
    ('folder = "in"\nstable_seconds = "2"', "inbox.stable_seconds"),
    ('folder = "in"\ndelete_after_acknowledged = 1', "inbox.delete_after_acknowledged"),
    ('folder = "in"\nstable_seconds = -1', "inbox.stable_seconds"),
    ('folder = "in"\nfolders = "x"', "inbox.folders"),
    ('processed = "done"', "inbox.folder"),
])
def test_an_inbox_table_of_the_wrong_shape_is_refused(tmp_path, table, key):
    path = tmp_path / "agent.toml"
    path.write_text(AGENT + "[inbox]\n" + table + "\n")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        AgentConfig.load(path)


# -- the decision --------------------------------------------------------------------------------

def _inbox(tmp_path, **changes) -> Inbox:
    config = replace(AgentConfig.load(_write_agent(tmp_path)), inbox=_settings(tmp_path / "inbox", **changes))
    return Inbox(config, partnership=None, dataset=None, keys=None, settings=None)  # type: ignore[arg-type]


def _write_agent(tmp_path) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(AGENT)
    return path


def _report(**counts) -> SubmitReport:
    base = dict(source=Path("x.csv"), rows=1, accepted=1, rejected=0, already_submitted=0, queued=1, published=0,
                waiting=0, quarantine=None)
    return SubmitReport(**{**base, **counts})


def test_a_file_is_submitted_once_its_size_and_time_have_stopped_changing(tmp_path):
    inbox = _inbox(tmp_path)
    first, grown = FileState(100, 1, 7), FileState(250, 2, 7)
    assert inbox.decide({"a.csv": first}, 0.0)["a.csv"].action is Action.WAIT
    assert inbox.decide({"a.csv": first}, 1.0)["a.csv"].at == pytest.approx(STABLE)
    changed = inbox.decide({"a.csv": grown}, 1.5)["a.csv"]  # still growing: the wait starts again
    assert changed.action is Action.WAIT and changed.at == pytest.approx(1.5 + STABLE)
    assert inbox.decide({"a.csv": grown}, 3.0)["a.csv"].action is Action.WAIT
    assert inbox.decide({"a.csv": grown}, 3.5)["a.csv"].action is Action.SUBMIT
    # Replaced by another file of the same size and time (another inode): a new file, a new wait.
    assert inbox.decide({"a.csv": FileState(250, 2, 8)}, 4.0)["a.csv"].action is Action.WAIT


def test_a_part_file_is_ignored_and_taken_at_once_when_renamed(tmp_path):
    inbox = _inbox(tmp_path)
    assert inbox.decide({"b.csv.part": FileState(10, 1, 3)}, 0.0)["b.csv.part"].action is Action.IGNORE
    assert inbox.decide({"b.csv.part": FileState(90, 2, 3)}, 5.0)["b.csv.part"].action is Action.IGNORE
    assert inbox.decide({"b.csv": FileState(90, 2, 3)}, 5.1)["b.csv"].action is Action.SUBMIT
    # Not seen as .part (the agent was not running, or the rename was quicker than a look): the size rule.
    assert inbox.decide({"c.csv": FileState(90, 2, 4)}, 6.0)["c.csv"].action is Action.WAIT


@pytest.mark.parametrize("name, action", [
    (".b.csv.x1Yz2", Action.IGNORE), (".hidden.csv", Action.IGNORE), ("a.quarantine.csv", Action.IGNORE),
    ("a.csv.error.txt", Action.IGNORE), ("notes.txt", Action.IGNORE), ("a.csv.part", Action.IGNORE),
    ("CRIMES.CSV", Action.WAIT), ("crimes.csv", Action.WAIT),
])
def test_only_exports_are_considered(tmp_path, name, action):
    assert _inbox(tmp_path).decide({name: FileState(1, 1, 1)}, 0.0)[name].action is action


def test_while_the_broker_is_away_every_file_waits_and_the_wait_grows(tmp_path):
    now = [100.0]
    inbox = _inbox(tmp_path, stable_seconds=0)
    inbox.clock = lambda: now[0]
    inbox._record(Outcome("a.csv", "waiting", report=_report(waiting=3), reason="broker"))
    decisions = inbox.decide({"a.csv": FileState(1, 1, 1), "b.csv": FileState(1, 1, 2)}, now[0])
    assert {d.action for d in decisions.values()} == {Action.WAIT} and decisions["b.csv"].at == pytest.approx(105)
    now[0] = 105.0
    assert inbox.decide({"a.csv": FileState(1, 1, 1)}, now[0])["a.csv"].action is Action.SUBMIT
    inbox._record(Outcome("a.csv", "waiting", report=_report(waiting=3), reason="broker"))
    assert inbox.decide({"a.csv": FileState(1, 1, 1)}, now[0])["a.csv"].at == pytest.approx(115)
    inbox._record(Outcome("a.csv", "processed", report=_report()))
    assert inbox.decide({"b.csv": FileState(1, 1, 2)}, now[0])["b.csv"].action is Action.SUBMIT


def test_an_unexpected_error_keeps_the_file_and_logs_no_content(tmp_path, monkeypatch, caplog):
    async def failing_submit(*args, **kwargs):
        raise ValueError("row 3: 'NS/24/00001' at 12 Acacia Avenue")  # a message that quotes a record

    monkeypatch.setattr("agents.inbox.submit", failing_submit)
    now = [0.0]
    inbox = _inbox(tmp_path, stable_seconds=0)
    inbox.clock = lambda: now[0]
    inbox.prepare()
    export = inbox.inbox.folder / "crimes.csv"
    export.write_text("CrimeNumber\nNS/24/00001\n")
    for delay in (5, 10):
        outcome = asyncio.run(inbox.process(export))
        inbox._record(outcome)
        assert outcome.went == "waiting" and "ValueError" in outcome.reason and export.exists()
        decision = inbox.decide(inbox.listing(), now[0])["crimes.csv"]
        assert decision.action is Action.WAIT and decision.at == pytest.approx(now[0] + delay)
        now[0] += delay
    assert "NS/24" not in caplog.text and "Acacia" not in caplog.text and "ValueError" in caplog.text


def test_the_folders_are_created_private_and_must_allow_an_atomic_move(tmp_path):
    inbox = _inbox(tmp_path)
    inbox.prepare()
    assert {_mode(inbox.inbox.folder), _mode(inbox.inbox.processed), _mode(inbox.inbox.failed)} == {0o700}
    with pytest.raises(ConfigError, match="other folders"):
        _inbox(tmp_path, processed=tmp_path / "inbox").prepare()


def test_shredding_overwrites_the_bytes_before_unlinking(tmp_path):
    secret = tmp_path / "export.csv"
    secret.write_bytes(b"CrimeNumber,Name\nNS/1,Somebody\n" * 50_000)  # more than one block of zeros
    witness = tmp_path / "witness"
    os.link(secret, witness)  # the same inode: sees what was written over the file's bytes
    size = secret.stat().st_size
    shred(secret)
    assert not secret.exists() and witness.read_bytes() == bytes(size)


# -- the service on the broker -------------------------------------------------------------------

async def _raw_envelopes(kafka) -> list:
    return [read_header(value) for value in await read_topic(kafka, raw_topic(DATASET), quiet_ms=300)]


def _rewrite(source: Path, target: Path, change) -> None:
    with open(source, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        columns, rows = list(reader.fieldnames or []), list(reader)
    columns, rows = change(columns, rows)
    with open(target, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _by_name(outcomes: list[Outcome]) -> dict[str, Outcome]:
    names = [o.name for o in outcomes]
    assert len(names) == len(set(names)), f"a file was handled twice: {names}"
    return {o.name: o for o in outcomes}


@pytest.mark.broker
@pytest.mark.timeout(240)
def test_an_inbox_served_across_a_restart_processes_every_file_exactly_once(kafka, demo_files, party_keys,
                                                                              partnership, gazetteer, tmp_path):
    config = _config(demo_files, tmp_path)
    folder, processed, failed = config.inbox.folder, config.inbox.processed, config.inbox.failed
    staging = tmp_path / "staging"
    staging.mkdir()
    good = {"complete.csv": police_offence_export(gazetteer, staging / "complete.csv", rows=20, bad_rows=2, seed=301),
            "partial.csv": police_offence_export(gazetteer, staging / "partial.csv", rows=15, bad_rows=0, seed=302),
            "growing.csv": police_offence_export(gazetteer, staging / "growing.csv", rows=30, bad_rows=1, seed=303),
            "before_crash.csv": police_offence_export(gazetteer, staging / "before_crash.csv", rows=10, bad_rows=0,
                                                      seed=304)}
    police_offence_export(gazetteer, staging / "source.csv", rows=8, bad_rows=0, seed=305)
    _rewrite(staging / "source.csv", staging / "bad.csv",  # a renamed column: the whole file is refused
             lambda cols, rows: ([c.replace("Postcode", "PostCode") for c in cols],
                                 [{k.replace("Postcode", "PostCode"): v for k, v in r.items()} for r in rows]))
    _rewrite(staging / "source.csv", staging / "all_bad.csv",  # every row fails validation
             lambda cols, rows: (cols, [dict(r, Postcode="NOT A POSTCODE") for r in rows]))
    shutil.copyfile(staging / "complete.csv", staging / "duplicate.csv")
    dataset = catalogue()[DATASET]

    def start() -> tuple[Inbox, asyncio.Event, asyncio.Task]:
        inbox = Inbox(config, partnership=partnership, dataset=dataset, keys=party_keys[POLICE], settings=kafka)
        stop = asyncio.Event()
        return inbox, stop, asyncio.create_task(inbox.run(stop))

    async def scenario():
        before = len(await _raw_envelopes(kafka))
        first, _, task = start()
        await _until(lambda: processed.is_dir(), "the folders", tasks=[task])
        assert first.watching  # watchfiles is installed with the project

        # A complete file, moved in at once.
        os.replace(staging / "complete.csv", folder / "complete.csv")
        # A file written as NAME.part: ignored however long it takes, taken when renamed.
        content = (staging / "partial.csv").read_bytes()
        part = folder / "partial.csv.part"
        part.write_bytes(content[: len(content) // 2])
        await _until(lambda: "partial.csv.part" in first.decisions, "the agent to see the .part", tasks=[task])
        with open(part, "ab") as handle:
            handle.write(content[len(content) // 2:])
        await _until(lambda: "complete.csv" in _by_name(first.outcomes), "the complete file", tasks=[task])
        assert first.decisions["partial.csv.part"].action is Action.IGNORE and "partial.csv" not in {
            o.name for o in first.outcomes}
        os.replace(part, folder / "partial.csv")
        await _until(lambda: "partial.csv" in _by_name(first.outcomes), "the renamed .part", tasks=[task])

        # A file still being written: each change starts the wait again.
        content = (staging / "growing.csv").read_bytes()
        growing = folder / "growing.csv"
        cuts = [0, len(content) // 3 + 7, 2 * len(content) // 3, len(content)]
        chunks = [content[start:end] for start, end in zip(cuts, cuts[1:], strict=False)]
        growing.write_bytes(chunks[0])
        await _until(lambda: "growing.csv" in first.decisions, "the agent to see the growing file", tasks=[task])
        seen = first.decisions["growing.csv"]
        assert seen.action is Action.WAIT
        with open(growing, "ab") as handle:
            handle.write(chunks[1])
        await _until(lambda: first.decisions["growing.csv"].at != seen.at, "the agent to see the file change",
                     tasks=[task])
        assert first.decisions["growing.csv"].action is Action.WAIT
        assert "growing.csv" not in {o.name for o in first.outcomes}

        # The agent dies while the file is still being written: killed, not stopped. The rest of
        # the file arrives while it is down.
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert "growing.csv" not in {o.name for o in first.outcomes}
        with open(growing, "ab") as handle:
            handle.write(chunks[2])

        # While it is down: a file fully submitted by an agent that crashed before moving it, a
        # duplicate of a file already processed, a bad one, and one whose rows are all rejected.
        os.replace(staging / "before_crash.csv", folder / "before_crash.csv")
        crashed = await submit(config, folder / "before_crash.csv", partnership=partnership, dataset=dataset,
                               keys=party_keys[POLICE], settings=kafka)
        assert crashed.published and not crashed.waiting
        for name in ("duplicate.csv", "bad.csv", "all_bad.csv"):
            os.replace(staging / name, folder / name)

        second, stop, task = start()
        expected = {"growing.csv", "before_crash.csv", "duplicate.csv", "bad.csv", "all_bad.csv"}
        await _until(lambda: expected <= set(_by_name(second.outcomes)), "every file after the restart",
                     tasks=[task])
        stop.set()
        await asyncio.wait_for(task, 30)  # stops cleanly and promptly
        return first.outcomes, second.outcomes, before, await _raw_envelopes(kafka)

    first, second, before, envelopes = asyncio.run(scenario())
    assert set(_by_name(first)) == {"complete.csv", "partial.csv"}
    outcomes = _by_name(first + second)  # no file handled twice, across the restart
    assert {name: o.went for name, o in outcomes.items()} == {
        "complete.csv": "processed", "partial.csv": "processed", "growing.csv": "processed",
        "before_crash.csv": "processed", "duplicate.csv": "processed", "bad.csv": "failed", "all_bad.csv": "failed"}

    # Where everything went; the moved exports are the files as they arrived.
    assert sorted(p.name for p in folder.iterdir()) == ["failed", "processed"]
    assert sorted(p.name for p in processed.iterdir()) == sorted([
        "complete.csv", "complete.quarantine.csv", "partial.csv", "growing.csv", "growing.quarantine.csv",
        "before_crash.csv", "duplicate.csv", "duplicate.quarantine.csv"])
    for name in ("growing.csv", "partial.csv"):
        assert (processed / name).read_bytes() == (staging / name).read_bytes(), name
    assert outcomes["growing.csv"].count("rows") == 31 and outcomes["growing.csv"].count("rejected") == 1
    for name, accepted in good.items():
        assert outcomes[name].count("accepted") == accepted, name

    # Resumed without resubmitting: the file submitted before the crash and the duplicate add nothing.
    for name in ("before_crash.csv", "duplicate.csv"):
        assert outcomes[name].count("already_submitted") == outcomes[name].count("accepted"), name
        assert outcomes[name].count("published") == 0, name

    # The bad files: in failed/, with a private note saying why and no cell of the file in it.
    assert sorted(p.name for p in failed.iterdir()) == [
        "all_bad.csv", "all_bad.csv.error.txt", "all_bad.quarantine.csv", "bad.csv", "bad.csv.error.txt"]
    note = (failed / "bad.csv.error.txt").read_text()
    assert "Postcode" in note and outcomes["bad.csv"].reason == note.strip()
    assert "all 8 rows were rejected" in (failed / "all_bad.csv.error.txt").read_text()
    for name in ("bad.csv", "all_bad.csv"):
        note = failed / f"{name}.error.txt"
        assert _mode(note) == 0o600
        with open(failed / name, encoding="utf-8") as handle:
            rows = list(csv.reader(handle))[1:]
        assert not any(cell in note.read_text() for row in rows for cell in row if len(cell) > 3), name

    # On the raw topic: each accepted record once, and one supply metadata per file that brought new records.
    new = envelopes[before:]
    assert len({h.message_id for h in new}) == len(new), "a message was published twice"
    assert sum(h.kind == "RECORD" for h in new) == sum(good.values())
    assert sum(h.kind == "METADATA" for h in new) == len(good)


@pytest.mark.broker
@pytest.mark.timeout(180)
def test_a_file_waits_while_the_broker_is_away_and_is_deleted_once_acknowledged(kafka, demo_files, party_keys,
                                                                                 partnership, gazetteer, tmp_path):
    config = _config(demo_files, tmp_path, stable_seconds=0.0, delete_after_acknowledged=True)
    folder = config.inbox.folder
    folder.mkdir(mode=0o700)
    accepted = police_offence_export(gazetteer, folder / "crimes.csv", rows=12, bad_rows=1, seed=401)
    witness = tmp_path / "witness"
    os.link(folder / "crimes.csv", witness)
    size = witness.stat().st_size
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        away = KafkaSettings(f"127.0.0.1:{probe.getsockname()[1]}")
    dataset = catalogue()[DATASET]

    async def serve(settings, until) -> Inbox:
        inbox = Inbox(config, partnership=partnership, dataset=dataset, keys=party_keys[POLICE], settings=settings,
                      poll=0.2, give_up_after=0.5)
        stop = asyncio.Event()
        task = asyncio.create_task(inbox.run(stop))
        await _until(lambda: until(inbox), "an outcome", tasks=[task])
        stop.set()
        await asyncio.wait_for(task, 30)
        return inbox

    async def waiting() -> int:
        async with Outbox(config.outbox) as outbox:
            return (await outbox.stats()).waiting

    async def scenario():
        down = await serve(away, lambda inbox: inbox.outcomes)
        held = await waiting()
        up = await serve(kafka, lambda inbox: inbox.outcomes)
        return down.outcomes, held, up.outcomes, await waiting()

    down, held, up, left = asyncio.run(scenario())
    assert [o.went for o in down] == ["waiting"] and down[0].count("waiting") == held > 0
    assert [o.went for o in up] == ["deleted"] and left == 0
    # Sealed while the broker was away, published from the outbox now: nothing sealed twice.
    assert up[0].count("already_submitted") == up[0].count("accepted") == accepted and up[0].count("published") > 0
    assert not (folder / "crimes.csv").exists() and witness.read_bytes() == bytes(size)
    assert sorted(p.name for p in config.inbox.processed.iterdir()) == ["crimes.quarantine.csv"]


@pytest.mark.broker
@pytest.mark.timeout(180)
def test_the_command_logs_a_line_per_file_and_stops_cleanly_on_sigterm(broker, demo_files, gazetteer, tmp_path):
    text = demo_files.agent_config.read_text()
    base = demo_files.agent_config.parent
    for key in ("key_file", "partnership"):
        text = re.sub(rf'^{key} = "(.*)"$', lambda m, key=key: f'{key} = "{base / m.group(1)}"', text, flags=re.M)
    text = re.sub(r'^outbox = ".*"$', f'outbox = "{tmp_path / "outbox.db"}"', text, flags=re.M)
    config = tmp_path / "agent.toml"
    config.write_text(text + '\n[inbox]\nfolder = "inbox"\nstable_seconds = 0.2\n')
    police_offence_export(gazetteer, tmp_path / "crimes.csv", rows=5, bad_rows=1, seed=501)
    env = dict(os.environ, EXCHANGE_KEY_PASSPHRASE=PASSPHRASE, EXCHANGE_BOOTSTRAP=broker.bootstrap)
    agent = subprocess.Popen([sys.executable, "-m", "exchange", "agent", "run", "--config", str(config)],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=env)
    try:
        deadline = time.monotonic() + 90
        while not (tmp_path / "inbox" / "processed").is_dir():
            assert agent.poll() is None and time.monotonic() < deadline, "the agent did not start"
            time.sleep(0.05)
        os.replace(tmp_path / "crimes.csv", tmp_path / "inbox" / "crimes.csv")
        while not (tmp_path / "inbox" / "processed" / "crimes.csv").exists():
            assert agent.poll() is None and time.monotonic() < deadline, "the file was not processed"
            time.sleep(0.05)
        agent.send_signal(signal.SIGTERM)
        _, log = agent.communicate(timeout=60)
    finally:
        if agent.poll() is None:
            agent.kill()
            agent.communicate()
    assert agent.returncode == 0, log
    lines = [line for line in log.splitlines() if "crimes.csv:" in line]
    assert len(lines) == 1 and "6 rows, 5 accepted, 1 rejected" in lines[0] and "processed/crimes.csv" in lines[0], log
    assert "NS/" not in log  # no crime reference (nor any other cell) in the log
    assert "stopped: 1 file(s) processed, 0 failed" in log
