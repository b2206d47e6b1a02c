"""The agent's ingest as an agency's IT team meets it: exports with renamed columns, other
delimiters, Windows-1252 text, damaged characters, passphrase problems, and a check-only run."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from agents.config import AgentConfig
from agents.ingest import read_export
from exchange.cli import main
from exchange.core.schemas import catalogue
from exchange.errors import ConfigError
from exchange.storage.csvfiles import REPLACEMENT_REASON
from exchange.testing.partnership import DATASET, police_offence_export


@pytest.fixture
def config(demo_files, tmp_path) -> AgentConfig:
    return dataclasses.replace(AgentConfig.load(demo_files.agent_config), outbox=tmp_path / "outbox.db")


@pytest.fixture
def export(gazetteer, tmp_path):
    path = tmp_path / "export.csv"
    police_offence_export(gazetteer, path, rows=20, bad_rows=0)
    return path


def _ingest(config, path, **kwargs):
    return read_export(path, catalogue()[DATASET], config.columns, config.formats, **kwargs)


def test_a_mapped_column_missing_from_the_header_refuses_the_file_naming_it(config, export):
    text = export.read_text(encoding="utf-8")
    export.write_text(text.replace("Postcode", "PostCode", 1), encoding="utf-8")  # renamed optional column
    with pytest.raises(ConfigError, match=r"lacks column\(s\) the mapping names: Postcode \(mapped to postcode\)"):
        _ingest(config, export)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters_are_detected(config, export, delimiter):
    import csv

    with open(export, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    with open(export, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    result = _ingest(config, export)
    assert len(result.accepted) == 20 and not result.rejected


def test_a_header_that_does_not_fit_says_how_it_was_read(config, export):
    export.write_text("CrimeNumber;FromDate\nNS/1;01/01/2026\n".replace(";", ":"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"read as comma-separated"):
        _ingest(config, export)


def test_windows_1252_exports_are_read_when_the_mapping_says_so(config, export):
    text = export.read_text(encoding="utf-8").replace("Laptop", "Laptop worth £50", 1)
    export.write_bytes(text.encode("cp1252"))
    as_utf8 = _ingest(config, export)
    assert len(as_utf8.rejected) >= 1 and "not UTF-8" in as_utf8.rejected[0].reasons[0]
    as_1252 = _ingest(config, export, encoding="windows-1252")
    assert not as_1252.rejected and any("£50" in (a.record.get("property_stolen") or "") for a in as_1252.accepted)


def test_rows_holding_replacement_characters_are_quarantined(config, export):
    lines = export.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace("Insecure", "Insecure \ufffd", 1).replace("forced", "forced \ufffd", 1)
    lines[3] = lines[3] if "\ufffd" in lines[3] else lines[3].rstrip("\r\n") + "\ufffd\r\n"
    export.write_text("".join(lines), encoding="utf-8")
    result = _ingest(config, export)
    assert [r.row_number for r in result.rejected] == [3] and result.rejected[0].reasons == (REPLACEMENT_REASON,)


def test_check_validates_and_writes_the_quarantine_without_sending(demo_files, gazetteer, tmp_path, config):
    export = tmp_path / "with-bad-rows.csv"
    police_offence_export(gazetteer, export, rows=30, bad_rows=3)
    result = CliRunner().invoke(main, ["agent", "submit", "--config", str(demo_files.agent_config), str(export),
                                       "--check", "--bootstrap", "127.0.0.1:1", "--json"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert '"published": 0' in result.output and '"rejected": 3' in result.output
    assert (tmp_path / "with-bad-rows.quarantine.csv").exists()


def test_a_missing_passphrase_file_is_a_one_line_error(demo_files, export, monkeypatch, tmp_path):
    monkeypatch.setenv("EXCHANGE_KEY_PASSPHRASE_FILE", str(tmp_path / "no-such-file"))
    result = CliRunner().invoke(main, ["agent", "submit", "--config", str(demo_files.agent_config), str(export),
                                       "--bootstrap", "127.0.0.1:1"])
    assert result.exit_code == 1
    assert "cannot read the passphrase file" in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
