"""The audit trail: hash chain, head, tamper detection, queries and the `exchange audit` CLI."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from exchange.cli.audit import command
from exchange.errors import AuditError
from exchange.storage.audit import (
    GENESIS,
    AuditEvent,
    AuditLog,
    chain_hash,
    content_hash,
)

T0 = dt.datetime(2024, 4, 1, 9, 30, tzinfo=dt.UTC)


def sample_events(n: int = 6) -> list[AuditEvent]:
    kinds = ["receipt", "sanitisation", "release", "rejection", "withheld", "retention", "delivery"]
    return [AuditEvent(kinds[i % len(kinds)], dataset="police_crime_offence" if i % 2 == 0 else "council_asb",
                       message_id=f"m{i:04d}", producer="northshire_police",
                       recipients=("northshire_council", "northshire_fire") if i % 3 == 0 else (),
                       marking="OFFICIAL", reason_code="bad_signature" if i % 4 == 1 else None, count=i + 1,
                       content_sha256=content_hash(f"ciphertext {i}".encode()), detail=f"event {i}")
            for i in range(n)]


async def write_log(path, events, start=T0) -> list[int]:
    async with AuditLog(path) as audit:
        return [await audit.append(e, at=start + dt.timedelta(minutes=i)) for i, e in enumerate(events)]


async def write_many(path, events) -> list[int]:
    async with AuditLog(path) as audit:
        return await audit.append_many(events, at=T0)


async def verify(path):
    async with AuditLog(path, create=False) as audit:
        return await audit.verify()


def sql(path, statement, *args) -> None:
    with sqlite3.connect(path) as con:
        con.execute(statement, args)
    con.close()


@pytest.fixture
def log(tmp_path):
    path = tmp_path / "audit.db"
    asyncio.run(write_log(path, sample_events(6)))
    return path


# --- events -----------------------------------------------------------------------------------


def test_event_validates_kind_and_fields():
    with pytest.raises(ValueError, match="kind"):
        AuditEvent("shared")
    with pytest.raises(ValueError, match="content_sha256"):
        AuditEvent("receipt", content_sha256="not a hash")
    with pytest.raises(ValueError, match="count"):
        AuditEvent("retention", count=-1)
    with pytest.raises(TypeError):
        AuditEvent("release", recipients="northshire_council")
    assert AuditEvent("release", recipients=["a", "b"]).recipients == ("a", "b")
    assert len(AuditEvent("rejection", detail="x" * 5000).detail) == 500


# --- chain --------------------------------------------------------------------------------------


def test_append_and_verify_ok(log):
    report = asyncio.run(verify(log))
    assert report.ok and report.events == 6 and report.problems == ()

    async def head():
        async with AuditLog(log) as audit:
            return await audit.head()

    seq, digest = asyncio.run(head())
    with sqlite3.connect(log) as con:
        rows = con.execute("SELECT seq, prev_hash, hash FROM events ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0][1] == GENESIS and all(rows[i][1] == rows[i - 1][2] for i in range(1, 6))
    assert (seq, digest) == (6, rows[-1][2])


def test_hash_is_reproducible_from_the_documented_formula(log):
    with sqlite3.connect(log) as con:
        con.row_factory = sqlite3.Row
        row = dict(con.execute("SELECT * FROM events WHERE seq = 3").fetchone())
    values = {k: row[k] for k in ("kind", "dataset", "message_id", "producer", "marking", "reason_code", "count",
                                  "content_sha256", "detail")}
    values["recipients"] = json.loads(row["recipients"])
    assert chain_hash(row["prev_hash"], 3, row["at"], values) == row["hash"]
    assert row["at"] == "2024-04-01T09:32:00.000000+00:00"


def test_append_many_is_one_transaction(tmp_path):
    async def scenario():
        async with AuditLog(tmp_path / "a.db") as audit:
            seqs = await audit.append_many(sample_events(3))
            with pytest.raises(TypeError):
                await audit.append_many([AuditEvent("receipt"), "not an event"])
            return seqs, await audit.head(), await audit.verify()

    seqs, (seq, _), report = asyncio.run(scenario())
    assert seqs == [1, 2, 3] and seq == 3 and report.ok and report.events == 3


def test_chain_continues_across_reopen(tmp_path):
    path = tmp_path / "audit.db"
    asyncio.run(write_log(path, sample_events(3)))
    asyncio.run(write_log(path, sample_events(4), start=T0 + dt.timedelta(days=1)))
    report = asyncio.run(verify(path))
    assert report.ok and report.events == 7


def test_changed_field_is_detected_at_its_seq(log):
    sql(log, "UPDATE events SET recipients = ? WHERE seq = 4", '["northshire_council","victim_support"]')
    report = asyncio.run(verify(log))
    assert not report.ok
    assert report.problems == ("seq 4: recipients changed (not as written)",) or \
        report.problems == ("seq 4: contents changed (hash does not match)",)


def test_changed_count_is_detected(log):
    sql(log, "UPDATE events SET count = 99 WHERE seq = 2")
    report = asyncio.run(verify(log))
    assert report.problems == ("seq 2: contents changed (hash does not match)",)


def test_changed_row_with_recomputed_hash_breaks_the_next_link(log):
    with sqlite3.connect(log) as con:
        con.row_factory = sqlite3.Row
        row = dict(con.execute("SELECT * FROM events WHERE seq = 2").fetchone())
        values = {k: row[k] for k in ("kind", "dataset", "message_id", "producer", "marking", "reason_code",
                                      "content_sha256", "detail")}
        values.update(recipients=json.loads(row["recipients"]), count=1000)
        forged = chain_hash(row["prev_hash"], 2, row["at"], values)
        con.execute("UPDATE events SET count = 1000, hash = ? WHERE seq = 2", (forged,))
    con.close()
    problems = asyncio.run(verify(log)).problems
    assert len(problems) == 1 and problems[0].startswith("seq 3: prev_hash does not match")


def test_deleted_middle_event_is_detected(log):
    sql(log, "DELETE FROM events WHERE seq = 3")
    report = asyncio.run(verify(log))
    assert not report.ok and report.events == 5
    assert report.problems == ("seq 4: seq 3 missing before it (deleted)",)


def test_swapped_events_are_detected(log):
    columns = "at, kind, dataset, message_id, producer, recipients, marking, reason_code, count, content_sha256, " \
              "detail, prev_hash, hash"
    with sqlite3.connect(log) as con:
        two = con.execute(f"SELECT {columns} FROM events WHERE seq = 2").fetchone()
        three = con.execute(f"SELECT {columns} FROM events WHERE seq = 3").fetchone()
        assign = ", ".join(f"{c.strip()} = ?" for c in columns.split(","))
        con.execute(f"UPDATE events SET {assign} WHERE seq = 2", three)
        con.execute(f"UPDATE events SET {assign} WHERE seq = 3", two)
    con.close()
    problems = asyncio.run(verify(log)).problems
    assert {p.split(":")[0] for p in problems} >= {"seq 2", "seq 3"}


def test_truncated_tail_is_detected_by_the_head(log):
    sql(log, "DELETE FROM events WHERE seq >= 5")
    report = asyncio.run(verify(log))
    assert report.problems == ("head: names seq 6 but the log ends at seq 4 (seq 5-6 cut off the tail)",)


def test_appending_after_truncation_leaves_a_visible_gap(log):
    sql(log, "DELETE FROM events WHERE seq >= 5")
    asyncio.run(write_log(log, sample_events(1)))
    report = asyncio.run(verify(log))
    assert report.problems[0] == "seq 7: seq 5-6 missing before it (deleted)"


def test_deleted_head_and_rolled_back_head_are_detected(log):
    sql(log, "UPDATE head SET seq = 5, hash = (SELECT hash FROM events WHERE seq = 5)")
    assert asyncio.run(verify(log)).problems[0].startswith("head: names seq 5 but the log goes on to seq 6")
    with pytest.raises(AuditError, match="altered"):
        asyncio.run(write_log(log, sample_events(1)))
    sql(log, "DELETE FROM head")
    assert asyncio.run(verify(log)).problems[0].startswith("head: missing")


def test_empty_log_verifies_and_is_not_created_by_readers(tmp_path):
    async def scenario():
        async with AuditLog(tmp_path / "new.db") as audit:
            return await audit.verify(), await audit.head()

    report, head = asyncio.run(scenario())
    assert report.ok and report.events == 0 and head == (0, GENESIS)
    with pytest.raises(AuditError, match="no such audit log"):
        asyncio.run(verify(tmp_path / "missing.db"))
    other = tmp_path / "other.db"
    sql(other, "CREATE TABLE t (x)")
    with pytest.raises(AuditError, match="not an audit log"):
        asyncio.run(verify(other))


# --- query --------------------------------------------------------------------------------------


def test_query_filters(log):
    async def scenario():
        async with AuditLog(log) as audit:
            return {
                "all": await audit.query(),
                "dataset": await audit.query(dataset="council_asb"),
                "since": await audit.query(since=T0 + dt.timedelta(minutes=4)),
                "since_text": await audit.query(since="2024-04-01T09:34:00"),
                "since_date": await audit.query(since=dt.date(2024, 4, 2)),
                "kind": await audit.query(kind="release"),
                "message": await audit.query(message_id="m0003"),
                "combined": await audit.query(dataset="police_crime_offence", since="2024-04-01T09:31"),
                "recipient": await audit.query(recipient="northshire_fire"),
            }

    got = asyncio.run(scenario())
    assert [r["seq"] for r in got["all"]] == [1, 2, 3, 4, 5, 6]
    assert {r["dataset"] for r in got["dataset"]} == {"council_asb"} and len(got["dataset"]) == 3
    assert [r["seq"] for r in got["since"]] == [5, 6] == [r["seq"] for r in got["since_text"]]
    assert got["since_date"] == []
    assert [r["kind"] for r in got["kind"]] == ["release"]
    assert [r["seq"] for r in got["message"]] == [4]
    assert [r["seq"] for r in got["combined"]] == [3, 5]
    assert [r["seq"] for r in got["recipient"]] == [1, 4]
    first = got["all"][0]
    assert first["recipients"] == ["northshire_council", "northshire_fire"] and first["count"] == 1
    with pytest.raises(AuditError):
        asyncio.run(_query(log, kind="nonsense"))


async def _query(path, **filters):
    async with AuditLog(path) as audit:
        return await audit.query(**filters)


# --- CLI ----------------------------------------------------------------------------------------


def test_cli_verify_ok_and_tampered(log):
    runner = CliRunner()
    ok = runner.invoke(command, ["verify", "--db", str(log)])
    assert ok.exit_code == 0, ok.output
    assert "OK, 6 event(s) checked" in ok.output and "head: seq 6 sha256 " in ok.output

    sql(log, "UPDATE events SET dataset = 'ppo' WHERE seq = 2")
    bad = runner.invoke(command, ["verify", "--db", str(log)])
    assert bad.exit_code == 1
    assert "TAMPERED" in bad.output and "seq 2: contents changed (hash does not match)" in bad.output

    as_json = runner.invoke(command, ["verify", "--db", str(log), "--json"])
    assert as_json.exit_code == 1
    data = json.loads(as_json.output)
    assert data["ok"] is False and data["events"] == 6 and data["problems"] == [
        "seq 2: contents changed (hash does not match)"]


def test_cli_show_and_head(log):
    runner = CliRunner()
    table = runner.invoke(command, ["show", "--db", str(log), "--dataset", "police_crime_offence", "--since",
                                    "2024-04-01"])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0] == lines[-1] == "OFFICIAL"
    assert lines[1].split()[:3] == ["time", "(UTC)", "kind"] and "recipients" in lines[1]
    assert "2024-04-01 09:30:00  receipt" in table.output
    assert "northshire_council,northshire_fire" in table.output and "3 event(s)" in table.output

    rows = json.loads(runner.invoke(command, ["show", "--db", str(log), "--kind", "release", "--json"]).output)
    assert len(rows) == 1 and rows[0]["message_id"] == "m0002" and len(rows[0]["hash"]) == 64

    none = runner.invoke(command, ["show", "--db", str(log), "--since", "2030-01-01"])
    assert "no audit events match" in none.output

    bad_since = runner.invoke(command, ["show", "--db", str(log), "--since", "last tuesday"])
    assert bad_since.exit_code == 2 and "--since" in bad_since.output

    head = runner.invoke(command, ["head", "--db", str(log)])
    assert head.exit_code == 0 and head.output.startswith("seq 6 sha256 ")
    head_json = json.loads(runner.invoke(command, ["head", "--db", str(log), "--json"]).output)
    assert head_json["seq"] == 6 and head.output.split()[-1] == head_json["hash"]

    missing = runner.invoke(command, ["head", "--db", str(log.parent / "nope.db")])
    assert missing.exit_code == 2


# --- property: any single-row modification is detected -----------------------------------------

_MUTABLE = {
    "seq": st.integers(-5, 50),
    "at": st.text(max_size=30),
    "kind": st.sampled_from(["receipt", "sanitisation", "release", "rejection", "withheld", "retention",
                             "delivery", "x"]),
    "dataset": st.none() | st.text(max_size=20),
    "message_id": st.none() | st.text(max_size=20),
    "producer": st.none() | st.text(max_size=20),
    "recipients": st.lists(st.text(max_size=8), max_size=3).map(lambda r: json.dumps(r)) | st.text(max_size=10),
    "marking": st.none() | st.text(max_size=20),
    "reason_code": st.none() | st.text(max_size=20),
    "count": st.integers(-3, 10**6) | st.text(max_size=5),
    "content_sha256": st.none() | st.text("0123456789abcdef", min_size=64, max_size=64),
    "detail": st.text(max_size=40),
    "prev_hash": st.text("0123456789abcdef", min_size=64, max_size=64),
    "hash": st.text("0123456789abcdef", min_size=64, max_size=64),
}

_events = st.builds(
    AuditEvent,
    kind=st.sampled_from(sorted(["receipt", "sanitisation", "release", "rejection", "withheld", "retention",
                                 "delivery"])),
    dataset=st.none() | st.sampled_from(["police_crime_offence", "council_asb", "ppo"]),
    message_id=st.none() | st.text("0123456789abcdef", min_size=1, max_size=32),
    recipients=st.lists(st.sampled_from(["council", "fire", "health"]), max_size=3, unique=True).map(tuple),
    count=st.integers(0, 1000),
    detail=st.text(max_size=30),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(events=st.lists(_events, min_size=1, max_size=8), data=st.data())
def test_any_single_row_modification_is_detected(tmp_path_factory, events, data):
    path = tmp_path_factory.mktemp("prop") / "audit.db"
    asyncio.run(write_many(path, events))
    target = data.draw(st.integers(1, len(events)), label="seq")
    column = data.draw(st.sampled_from(sorted(_MUTABLE) + ["<delete>"]), label="column")
    if column == "<delete>":
        sql(path, "DELETE FROM events WHERE seq = ?", target)
        assert not asyncio.run(verify(path)).ok
        return
    value = data.draw(_MUTABLE[column], label="value")
    with sqlite3.connect(path) as con:
        before = con.execute("SELECT * FROM events WHERE seq = ?", (target,)).fetchone()
        try:
            con.execute(f"UPDATE events SET {column} = ? WHERE seq = ?", (value, target))
        except sqlite3.IntegrityError:
            assume(False)  # e.g. a seq that another row already has: not a modification
        new_seq = value if column == "seq" else target
        after = con.execute("SELECT * FROM events WHERE seq = ?", (new_seq,)).fetchone()
    con.close()
    assume(after != before)  # SQLite's type affinity may store the same value again
    report = asyncio.run(verify(path))
    assert not report.ok, (column, value)


def test_processed_inputs_are_written_in_the_same_transaction_as_their_events(tmp_path):
    from exchange.core.audit_events import AuditEvent

    async def scenario():
        async with AuditLog(tmp_path / "ledger.db") as log:
            await log.append_many([AuditEvent("receipt", "d", "m-1", "police")], processed=[("police/m-1", "a" * 64)])
            with pytest.raises(TypeError):  # one bad event: nothing of the batch lands
                await log.append_many([AuditEvent("receipt", "d", "m-2", "police"), "not an event"],
                                      processed=[("police/m-2", "b" * 64)])
            return (await log.content_hashes(["police/m-1", "police/m-2"]), len(await log.query()),
                    (await log.verify()).ok)

    assert asyncio.run(scenario()) == ({"police/m-1": "a" * 64}, 1, True)
