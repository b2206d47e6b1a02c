"""What an export says beyond the record: a handling column (not for dissemination, sub judice)
and a status column that withdraws records; the agent config tables that name them; and a
withdrawal file. Pure ingest and config: no broker."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from agents.agent import originator_handling, row_status
from agents.config import AgentConfig
from agents.ingest import read_export, read_withdrawals
from exchange.core.schemas import catalogue
from exchange.core.validation import Formats, parse_restriction, validate_key
from exchange.errors import ConfigError, RowInvalid
from exchange.testing.partnership import DATASET, police_offence_export

OFFENCE = catalogue()[DATASET]


@pytest.mark.parametrize("text, expected", [
    ("", None), ("  ", None), ("None", None), ("N/A", None),
    ("Not for dissemination", "NOT_FOR_DISSEMINATION"), ("NFD", "NOT_FOR_DISSEMINATION"),
    ("not-for-dissemination", "NOT_FOR_DISSEMINATION"), ("DO NOT DISSEMINATE", "NOT_FOR_DISSEMINATION"),
    ("Sub judice", "SUB_JUDICE"), ("SUB_JUDICE", "SUB_JUDICE"), ("sj", "SUB_JUDICE"),
])
def test_handling_words_agencies_write(text, expected):
    assert parse_restriction(text) == expected


@pytest.mark.parametrize("text", ["restricted", "confidential", "maybe", "sub judice?", "public"])
def test_an_unknown_handling_word_is_refused_not_ignored(text):
    with pytest.raises(ValueError, match="not a handling instruction"):
        parse_restriction(text)


def test_a_key_is_typed_and_other_fields_may_be_empty():
    oasys = catalogue()["probation_oasys"]
    key = validate_key(oasys, {"case_ref": " PR/1 ", "assessment_date": "03/02/2026"}, Formats())
    assert key == {"case_ref": "PR/1", "assessment_date": dt.date(2026, 2, 3)}
    with pytest.raises(RowInvalid) as caught:
        validate_key(oasys, {"case_ref": "", "assessment_date": "31/02/2026"}, Formats())
    assert len(caught.value.reasons) == 2


def test_the_natural_key_is_canonical_across_spelling_and_type():
    oasys = catalogue()["probation_oasys"]
    typed = oasys.natural_key_of({"case_ref": "pr/1  2", "assessment_date": dt.date(2026, 2, 3)})
    text = oasys.natural_key_of({"case_ref": "PR/1 2", "assessment_date": "2026-02-03"})
    assert typed == text


@pytest.fixture
def config(demo_files, tmp_path) -> AgentConfig:
    return dataclasses.replace(AgentConfig.load(demo_files.agent_config), outbox=tmp_path / "outbox.db",
                               handling_column="Handling", sub_judice_recipients=("northshire-council",),
                               withdrawal_column="Status", withdrawal_values=frozenset({"no crime", "cancelled"}))


def _export(gazetteer, path: Path, extra: list[dict]) -> Path:
    police_offence_export(gazetteer, path, rows=len(extra), bad_rows=0)
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    rows = [{**row, **more} for row, more in zip(rows, extra, strict=True)]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_an_export_carries_handling_and_withdrawals_row_by_row(config, gazetteer, tmp_path):
    extra = [{"Handling": "", "Status": "Recorded"}, {"Handling": "NFD", "Status": "Recorded"},
             {"Handling": "sub judice", "Status": ""}, {"Handling": "", "Status": "No Crime"},
             {"Handling": "secret", "Status": ""}]
    path = _export(gazetteer, tmp_path / "export.csv", extra)
    result = read_export(path, OFFENCE, config.columns, config.formats, status=row_status(config))
    assert [a.restriction for a in result.accepted] == [None, "NOT_FOR_DISSEMINATION", "SUB_JUDICE"]
    assert len(result.withdrawn) == 1 and set(result.withdrawn[0].key) == {"crime_ref"}
    assert len(result.rejected) == 1 and "Handling" in result.rejected[0].reasons[0]


def test_the_sanitiser_is_told_the_restriction_and_the_named_recipients(config):
    assert originator_handling(config, "SUB_JUDICE")["release_to"] == ["northshire-council"]
    assert originator_handling(config, "NOT_FOR_DISSEMINATION")["release_to"] == []
    assert originator_handling(config, None) is None
    declared = dataclasses.replace(config, depersonalised_marking="OFFICIAL")
    assert originator_handling(declared, None) == {"restriction": None, "release_to": [],
                                                  "depersonalised_marking": "OFFICIAL"}


def test_a_mapped_handling_column_missing_from_the_export_refuses_the_file(config, gazetteer, tmp_path):
    path = tmp_path / "plain.csv"
    police_offence_export(gazetteer, path, rows=3, bad_rows=0)
    with pytest.raises(ConfigError, match=r"Handling \(the handling column\)"):
        read_export(path, OFFENCE, config.columns, config.formats, status=row_status(config))


def test_a_withdrawal_file_needs_only_the_key_columns(config, tmp_path):
    path = tmp_path / "withdraw.csv"
    path.write_text("CrimeNumber\nNS/26/1\n\nNS/26/2\n", encoding="utf-8")
    result = read_withdrawals(path, OFFENCE, config.columns, config.formats)
    assert [w.key for w in result.withdrawn] == [{"crime_ref": "NS/26/1"}, {"crime_ref": "NS/26/2"}]
    path.write_text("Reference\nNS/26/1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="CrimeNumber"):
        read_withdrawals(path, OFFENCE, config.columns, config.formats)


def test_the_agent_config_tables_are_checked(demo_files, tmp_path):
    text = Path(demo_files.agent_config).read_text()
    good = tmp_path / "good.toml"
    good.write_text(text + '\n[handling]\ncolumn = "Handling"\nsub_judice_recipients = ["northshire-council"]\n'
                           '\n[withdrawal]\ncolumn = "Status"\nvalues = ["No crime"]\n')
    loaded = AgentConfig.load(good)
    assert loaded.handling_column == "Handling" and loaded.withdrawal_values == frozenset({"no crime"})
    bad = tmp_path / "bad.toml"
    bad.write_text(text + '\n[withdrawal]\ncolumn = "Status"\nvalues = []\n')
    with pytest.raises(ConfigError, match=r"withdrawal\.values"):
        AgentConfig.load(bad)


def test_an_originator_may_withhold_a_free_text_field_instead_of_having_it_scrubbed(config, demo_files, gazetteer,
                                                                                     partnership, tmp_path):
    from agents.agent import check, records_to_send

    path = tmp_path / "export.csv"
    police_offence_export(gazetteer, path, rows=40, bad_rows=0)
    withholding = dataclasses.replace(config, handling_column=None, withdrawal_column=None,
                                      withhold_free_text=("method_of_entry",))
    result, _, _ = check(withholding, path, partnership=partnership, dataset=OFFENCE)
    assert any(a.record["method_of_entry"] for a in result.accepted), "the export has text to withhold"
    sent = records_to_send(withholding, OFFENCE, result.accepted)
    assert {record["method_of_entry"] for record, _ in sent} == {None}
    assert any(record["property_stolen"] for record, _ in sent), "only the named field is withheld"
    wrong = dataclasses.replace(withholding, withhold_free_text=("crime_ref",))
    with pytest.raises(ConfigError, match="not an optional free-text field"):
        check(wrong, path, partnership=partnership, dataset=OFFENCE)
