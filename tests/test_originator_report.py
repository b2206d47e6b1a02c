"""`exchange audit report` and `verify-report`: the originator's view of the sanitiser's audit log,
built from events written exactly as exchange.services.sanitiser_core writes them."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json

import pytest
from click.testing import CliRunner

from exchange.cli.audit import command
from exchange.core.audit_events import AuditEvent
from exchange.core.originator_report import MARKING, NO_GRANT, canonical_json
from exchange.crypto.keys import KeyPair
from exchange.crypto.signed_reports import ReportSignatureError, sign_report, verify_report
from exchange.services.originator_report import render, report_from_events, signed_form
from exchange.services.sanitiser_core import output_message_id
from exchange.storage.audit import AuditLog
from exchange.storage.csvfiles import neutralise
from exchange.testing.partnership import COUNCIL, DATASET, POLICE, VOLUNTARY
from tests.support.partnership import PASSPHRASE

DAY = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0) - dt.timedelta(days=10)
HASH = "0" * 64


def record_batch(producer: str, mid: str, recipients: tuple[str, ...], *, dataset: str = DATASET) -> list[AuditEvent]:
    """What the sanitiser audits for one record: receipt, sanitisation, then release or withheld."""
    events = [AuditEvent("receipt", dataset, mid, producer, marking="OFFICIAL-SENSITIVE", content_sha256=HASH),
              AuditEvent("sanitisation", dataset, mid, producer, marking="OFFICIAL",
                         detail="moved to a qualifying postcode: no; free-text redactions: 0; marking received "
                                "OFFICIAL-SENSITIVE, released OFFICIAL: declared")]
    if recipients:
        events.append(AuditEvent("release", dataset, output_message_id(producer, mid), "sanitiser",
                                 recipients=recipients, marking="OFFICIAL", detail=f"from {mid}"))
    return events


def withheld_batch(producer: str, mid: str, code: str) -> list[AuditEvent]:
    detail = "handling: NOT_FOR_DISSEMINATION" if code == "originator_restricted" else ""
    return [*record_batch(producer, mid, ()),
            AuditEvent("withheld", DATASET, mid, producer, marking="OFFICIAL", reason_code=code, detail=detail)]


def withdrawal_batch(producer: str, mid: str, recipients: tuple[str, ...]) -> list[AuditEvent]:
    return [AuditEvent("receipt", DATASET, mid, producer, marking="OFFICIAL", content_sha256=HASH),
            AuditEvent("withdrawal", DATASET, mid, producer, marking="OFFICIAL",
                       detail="the originator withdrew a record: every subscriber is told to delete it"),
            AuditEvent("release", DATASET, output_message_id(producer, mid), "sanitiser", recipients=recipients,
                       marking="OFFICIAL", detail=f"from {mid}")]


def rejection(producer: str | None, mid: str, code: str) -> AuditEvent:
    detail = "raw[0]@1" + ("" if producer else f"; claimed producer {POLICE} (not verified)")
    return AuditEvent("rejection", DATASET, mid, producer, reason_code=code, content_sha256=HASH, detail=detail)


async def write_log(path) -> None:
    async with AuditLog(path) as audit:
        await audit.append_many(record_batch(POLICE, "m-1", (COUNCIL, VOLUNTARY)), at=DAY)
        await audit.append_many(record_batch(POLICE, "m-2", (COUNCIL,)), at=DAY + dt.timedelta(days=1))
        await audit.append_many(record_batch(POLICE, "m-3", (COUNCIL,)), at=DAY + dt.timedelta(days=3))
        # Another agency's input with the same id: never counted as the police's.
        await audit.append_many(record_batch(COUNCIL, "m-1", (VOLUNTARY,)), at=DAY + dt.timedelta(days=1))
        await audit.append_many(withheld_batch(POLICE, "m-4", "no_recipient"), at=DAY + dt.timedelta(days=2))
        await audit.append_many(withheld_batch(POLICE, "m-5", "originator_restricted"), at=DAY + dt.timedelta(days=2))
        await audit.append_many(withheld_batch(POLICE, "m-6", "no_recipient"), at=DAY + dt.timedelta(days=2))
        await audit.append_many([rejection(POLICE, "m-7", "record_invalid"), rejection(POLICE, "m-8", "record_invalid"),
                                 rejection(POLICE, "m-9", "schema_unknown"), rejection(None, "m-10", "bad_signature")],
                                at=DAY + dt.timedelta(days=2))
        await audit.append_many(withdrawal_batch(POLICE, "w-1", (COUNCIL,)), at=DAY + dt.timedelta(days=4))


@pytest.fixture()
def log(tmp_path):
    path = tmp_path / "sanitiser-audit.db"
    asyncio.run(write_log(path))
    return path


async def _events(path):
    async with AuditLog(path, create=False) as audit:
        return await audit.query()


def test_the_figures(log, partnership):
    report = report_from_events(asyncio.run(_events(log)), POLICE, partnership.grants)
    lines = {(r.recipient, r.dataset): r for r in report.releases}
    assert set(lines) == {(COUNCIL, DATASET), (VOLUNTARY, DATASET)}
    council = lines[(COUNCIL, DATASET)]
    assert (council.records, council.withdrawals) == (3, 1)
    assert council.first.startswith(DAY.date().isoformat())
    assert council.last.startswith((DAY + dt.timedelta(days=4)).date().isoformat())
    assert council.grant is not None
    assert council.grant.purpose == "Strategic assessment and daily tasking of the partnership"
    assert council.grant.legal_basis == "Crime and Disorder Act 1998 s.115"
    voluntary = lines[(VOLUNTARY, DATASET)]
    assert (voluntary.records, voluntary.grant) == (1, None)  # the council's m-1 is not the police's
    assert report.records_released == 4
    assert {(c.reason_code, c.count) for c in report.withheld} == {("no_recipient", 2), ("originator_restricted", 1)}
    assert {(c.reason_code, c.count) for c in report.refused} == {("record_invalid", 2), ("schema_unknown", 1)}
    assert [(c.dataset, c.count) for c in report.withdrawals] == [(DATASET, 1)]

    council_view = report_from_events(asyncio.run(_events(log)), COUNCIL, partnership.grants)
    assert [(r.recipient, r.records) for r in council_view.releases] == [(VOLUNTARY, 1)]
    assert council_view.withheld == council_view.refused == ()


def test_the_period(log, partnership):
    events = asyncio.run(_events(log))
    later = report_from_events(events, POLICE, partnership.grants,
                               since=(DAY + dt.timedelta(days=1)).date().isoformat(),
                               until=(DAY + dt.timedelta(days=3)).date().isoformat())
    assert {(r.recipient, r.records, r.withdrawals) for r in later.releases} == {(COUNCIL, 2, 0)}
    assert sum(c.count for c in later.withheld) == 3 and later.withdrawals == ()
    none = report_from_events(events, POLICE, partnership.grants, since="2999-01-01")
    assert none.releases == none.withheld == none.refused == ()


def test_no_grant_without_the_config(log):
    report = report_from_events(asyncio.run(_events(log)), POLICE, ())
    assert all(r.grant is None for r in report.releases)
    assert NO_GRANT in render(report, "text")


@pytest.mark.parametrize("fmt", ["text", "csv", "html", "json"])
def test_every_format_is_marked_top_and_bottom(log, demo_files, fmt):
    result = CliRunner().invoke(command, ["report", "--db", str(log), "--originator", POLICE, "--config",
                                          str(demo_files.partnership), "--format", fmt])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    if fmt == "html":
        paragraphs = [line for line in lines if line.startswith("<p")]
        assert paragraphs[0] == paragraphs[-1] == f'<p class="marking">{MARKING}</p>'
        assert lines[-2] == paragraphs[-1]
        assert "<script" not in result.output and "http://" not in result.output.replace("http-equiv", "")
    elif fmt == "json":
        document = json.loads(result.output)
        assert list(document)[0] == "marking" and list(document)[-1] == "end_marking"
        assert document["marking"] == document["end_marking"] == MARKING
    else:
        assert lines[0] == MARKING and lines[-1] == MARKING
    assert COUNCIL in result.output and "Crime and Disorder Act 1998 s.115" in result.output


def test_csv_and_html_neutralise_and_escape(log):
    events = asyncio.run(_events(log))
    report = report_from_events(events, POLICE, ())
    hostile = report.__class__(**{**{f: getattr(report, f) for f in report.__dataclass_fields__},
                                  "originator": '=HYPERLINK("x")<b>'})
    rows = list(csv.reader(io.StringIO(render(hostile, "csv"))))
    assert rows[0] == [MARKING] and rows[-1] == [MARKING]
    assert all(not cell.startswith(("=", "+", "@")) for row in rows for cell in row)
    assert neutralise("=x") == "'=x"
    released = [row for row in rows if row[0] == "released"]
    assert {(row[1], row[3]) for row in released} == {(COUNCIL, "3"), (VOLUNTARY, "1")}
    page = render(hostile, "html")
    assert "<b>" not in page and "&lt;b&gt;" in page


def test_signed_report_verifies_and_tampering_fails(log, demo_files, tmp_path, monkeypatch):
    monkeypatch.setenv("EXCHANGE_KEY_PASSPHRASE", PASSPHRASE)
    runner = CliRunner()
    out = tmp_path / "report.html"
    signed = runner.invoke(command, ["report", "--db", str(log), "--originator", POLICE, "--config",
                                     str(demo_files.partnership), "--format", "html", "--out", str(out),
                                     "--keys", str(demo_files.keys["sanitiser"])])
    assert signed.exit_code == 0, signed.output
    report_json, sig = tmp_path / "report.html.json", tmp_path / "report.html.sig"
    assert report_json.is_file() and sig.is_file() and MARKING in out.read_text()

    verify = ["verify-report", "--report", str(report_json), "--signature", str(sig), "--config",
              str(demo_files.partnership)]
    ok = runner.invoke(command, verify)
    assert ok.exit_code == 0, ok.output
    assert "signature OK" in ok.output

    document = json.loads(report_json.read_text())
    document["releases"][0]["records"] += 1
    report_json.write_text(json.dumps(document, indent=2))
    bad = runner.invoke(command, verify)
    assert bad.exit_code == 1
    assert "does not match" in bad.output

    # Signed by another key (the police's, say): refused, naming the key expected.
    other = tmp_path / "other.json"
    signed_json = runner.invoke(command, ["report", "--db", str(log), "--originator", POLICE, "--format", "json",
                                          "--out", str(other), "--keys", str(demo_files.keys[POLICE])])
    assert signed_json.exit_code == 0, signed_json.output
    wrong = runner.invoke(command, ["verify-report", "--report", str(other), "--signature",
                                    str(tmp_path / "other.json.sig"), "--config", str(demo_files.partnership)])
    assert wrong.exit_code == 1
    assert "not the sanitiser's key" in wrong.output


def test_signature_module(log, partnership, party_keys):
    report = report_from_events(asyncio.run(_events(log)), POLICE, partnership.grants)
    data = signed_form(report)
    assert data == canonical_json(json.loads(render(report, "json")))
    document = sign_report(party_keys["sanitiser"], data)
    assert verify_report(data, document, partnership.sanitiser.ed25519)
    with pytest.raises(ReportSignatureError):
        verify_report(data + b" ", document, partnership.sanitiser.ed25519)
    stranger = KeyPair.generate("sanitiser")
    with pytest.raises(ReportSignatureError):
        verify_report(data, sign_report(stranger, data), partnership.sanitiser.ed25519)
    forged = {**sign_report(stranger, data), "key_id": document["key_id"]}  # a claimed key id is not trusted
    with pytest.raises(ReportSignatureError, match="does not match"):
        verify_report(data, forged, partnership.sanitiser.ed25519)


def test_keys_need_out(log, demo_files):
    result = CliRunner().invoke(command, ["report", "--db", str(log), "--originator", POLICE,
                                          "--keys", str(demo_files.keys["sanitiser"])])
    assert result.exit_code == 2
