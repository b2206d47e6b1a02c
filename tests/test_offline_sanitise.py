"""`exchange sanitise` (offline, no broker), the synthetic record generator and the risk report."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from exchange.cli import main
from exchange.core.address import contains_house_number
from exchange.core.redact import nhs_number_is_valid
from exchange.core.risk import QuasiIdentifier, assess, quasi_identifiers, render_text
from exchange.core.schemas import catalogue
from exchange.core.validation import cross_field_checks, validate_row
from exchange.services.offline import shared_columns
from exchange.testing.records import (
    nhs_number,
    records_for,
    row_from_record,
    rows_for,
    write_rows_csv,
)
from tests.support.partnership import PASSPHRASE

TODAY = dt.date.today()
ROWS = 60
PERSONAL = {d.id for d in catalogue() if d.personal}
DEPERSONALISED = sorted(d.id for d in catalogue() if not d.personal)
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE_RE = re.compile(r"\b0(?:7700 900|113 496 )\d{3,4}\b")
NHS_RE = re.compile(r"\b\d{3} \d{3} \d{4}\b")


def run(args: list[str], *, passphrase: str | None = PASSPHRASE):
    env = {"EXCHANGE_KEY_PASSPHRASE": passphrase} if passphrase else {}
    return CliRunner().invoke(main, ["sanitise", *args], env=env, catch_exceptions=False)


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def export(tmp_path: Path, dataset_id: str, gazetteer, *, n: int = ROWS, seed: int = 5, name: str | None = None,
           mutate=None) -> Path:
    rows = rows_for(dataset_id, gazetteer, n, seed, today=TODAY)
    if mutate:
        mutate(rows)
    return write_rows_csv(tmp_path / (name or f"{dataset_id}.csv"), dataset_id, rows)


def sanitise(tmp_path, demo_files, dataset_id, source: Path, *extra: str, config: bool = True, keys: bool = True):
    out = tmp_path / f"{source.stem}.shared.csv"
    args = ["--dataset", dataset_id, "--gazetteer", str(demo_files.gazetteer), "--in", str(source), "--out", str(out),
            "--as-of", TODAY.isoformat(), *extra]
    if config:
        args += ["--config", str(demo_files.partnership), "--originator", "northshire-police"]
    if keys:
        args += ["--keys", str(demo_files.keys["sanitiser"])]
    return run(args), out


# -- the generator -------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset_id", sorted(d.id for d in catalogue()))
def test_generated_records_are_valid_and_read_back_from_their_csv_rows(dataset_id, gazetteer):
    dataset = catalogue()[dataset_id]
    records = records_for(dataset, gazetteer, 40, seed=3, today=TODAY)
    assert len(records) == 40
    for record in records:
        dataset.raw_codec.encode(record)  # the schema accepts it
        assert cross_field_checks(dataset, record, TODAY) == []
        assert validate_row(dataset, row_from_record(dataset, record), today=TODAY) == record
    events = [r[dataset.event_date_field] for r in records]
    assert all(TODAY - dt.timedelta(days=28) <= d < TODAY for d in events)
    assert records_for(dataset, gazetteer, 40, seed=3, today=TODAY) == records  # deterministic
    assert records_for(dataset, gazetteer, 40, seed=4, today=TODAY) != records


def test_generated_people_are_12_to_80_and_free_text_carries_planted_identifiers(gazetteer):
    dataset = catalogue()["police_crime_offender"]
    records = records_for(dataset, gazetteer, 200, seed=1, today=TODAY)
    ages = [(r["committed_from_date"] - r["date_of_birth"]).days / 365.25 for r in records if r["date_of_birth"]]
    assert ages and 12 <= min(ages) and max(ages) <= 81
    free = [r["description"] for r in records_for("council_asb", gazetteer, 200, seed=1, today=TODAY)
            if r["description"]]
    assert any(EMAIL_RE.search(t) for t in free) and any(PHONE_RE.search(t) for t in free)
    planted = [m.group() for t in free for m in NHS_RE.finditer(t)]
    assert planted and all(nhs_number_is_valid(n) for n in planted)
    addresses = [r["address"] for r in records if r["address"] and r["location_type"] == "addressable"]
    assert addresses and all(contains_house_number(a) or "," in a for a in addresses)


def test_nhs_numbers_pass_modulus_11():
    import random

    rng = random.Random(0)
    assert all(nhs_number_is_valid(nhs_number(rng)) for _ in range(200))


def test_linked_police_extracts_share_crime_references(gazetteer):
    refs = [[r["crime_ref"] for r in records_for(d, gazetteer, 10, seed=8, today=TODAY)]
            for d in ("police_crime_offence", "police_crime_offender", "police_crime_victim")]
    assert refs[0] == refs[1] == refs[2] and len(set(refs[0])) == 10


# -- the offline command ---------------------------------------------------------------------------


@pytest.mark.parametrize("dataset_id", ["police_crime_offence", "police_crime_offender", "drug_treatment_adult",
                                        "council_asb", "school_exclusion", "police_detection"])
def test_offline_output_is_depersonalised(dataset_id, tmp_path, demo_files, gazetteer, partnership):
    dataset = catalogue()[dataset_id]
    source = export(tmp_path, dataset_id, gazetteer)
    result, out = sanitise(tmp_path, demo_files, dataset_id, source)
    assert result.exit_code == 0, result.output + result.stderr
    assert not (tmp_path / f"{out.stem}.quarantine.csv").exists()
    raw = read_csv(source)
    rows = read_csv(out)
    assert len(rows) == ROWS
    header = list(rows[0])
    assert header == shared_columns(dataset)
    # No dropped field, no date of birth; an age where the schema turns one into it.
    dropped = {p.name for p in dataset.fields_with("drop")}
    assert not dropped & set(header)
    assert "date_of_birth" not in header
    for policy in dataset.fields_with("dob_to_age"):
        assert policy.age_field in header
        ages = [int(r[policy.age_field]) for r in rows if r[policy.age_field]]
        assert ages and all(12 <= a <= 80 for a in ages)
    # Pseudonyms replace references; nothing of the source reference survives.
    for policy in dataset.fields_with("pseudonymise"):
        values = [r[policy.name] for r in rows if r[policy.name]]
        assert values and all(v.startswith("PS-") for v in values)
        assert not {r[policy.name] for r in raw} & set(values)
    # Addresses keep no house number; addressable rows sit on the centroid of a postcode with >= k households.
    if "address" in header:
        assert not [r["address"] for r in rows if r["address"] and contains_house_number(r["address"])]
        assert any(r["address"] for r in rows)
    if "postcode" in header:
        k = partnership.k_households
        for row in rows:
            centroid = gazetteer.get(row["postcode"])
            assert centroid is not None and centroid.households >= k, row["postcode"]
            if row["location_type"] == "addressable":
                assert (float(row["easting"]), float(row["northing"])) == (centroid.easting, centroid.northing)
        assert any(r["location_generalised"] == "Y" for r in rows), "the synthetic gazetteer has postcodes under k"
    # Free text carries none of the identifiers planted in it.
    for policy in dataset.fields_with("free_text"):
        text = " ".join(r[policy.name] for r in rows)
        assert not EMAIL_RE.search(text) and not PHONE_RE.search(text) and not NHS_RE.search(text)
    assert {r["handling_marking"] for r in rows} == {"OFFICIAL"}
    assert {r["handling_originator"] for r in rows} == {"northshire-police"}
    assert {r["handling_destroy_by"] for r in rows} == {(TODAY + dt.timedelta(days=365)).isoformat()}


def test_free_text_redactions_are_counted(tmp_path, demo_files, gazetteer):
    source = export(tmp_path, "council_asb", gazetteer, n=200)
    result, out = sanitise(tmp_path, demo_files, "council_asb", source, "--json")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"] == summary["written"] == 200 and summary["rejected"] == 0
    assert summary["free_text_redactions"] > 0 and summary["moved_to_another_postcode"] > 0
    planted = sum(len(EMAIL_RE.findall(r["description"])) + len(PHONE_RE.findall(r["description"]))
                  + len(NHS_RE.findall(r["description"])) for r in read_csv(source))
    assert summary["free_text_redactions"] >= planted > 0


def test_personal_dataset_is_released_whole_and_marked(tmp_path, demo_files, gazetteer):
    source = export(tmp_path, "ppo", gazetteer)
    result, out = sanitise(tmp_path, demo_files, "ppo", source)
    assert result.exit_code == 0, result.stderr
    assert "personal dataset" in result.stderr
    rows, raw = read_csv(out), read_csv(source)
    assert [r["surname"] for r in rows] == [r["surname"] for r in raw]
    assert [r["date_of_birth"] for r in rows] == [r["date_of_birth"] for r in raw]
    assert {r["handling_marking"] for r in rows} == {"OFFICIAL-SENSITIVE [PERSONAL]"}


def test_pseudonyms_join_offence_offender_and_victim(tmp_path, demo_files, gazetteer):
    tokens = {}
    for dataset_id in ("police_crime_offence", "police_crime_offender", "police_crime_victim"):
        source = export(tmp_path, dataset_id, gazetteer, n=30, seed=21)
        result, out = sanitise(tmp_path, demo_files, dataset_id, source, config=False)
        assert result.exit_code == 0, result.stderr
        assert [r["handling_originator"] for r in read_csv(out)] == ["offline"] * 30
        tokens[dataset_id] = [r["crime_ref"] for r in read_csv(out)]
    assert tokens["police_crime_offence"] == tokens["police_crime_offender"] == tokens["police_crime_victim"]
    assert len(set(tokens["police_crime_offence"])) == 30
    # Another secret gives other tokens: the join holds only inside the partnership.
    source = export(tmp_path, "police_crime_offence", gazetteer, n=30, seed=21, name="again.csv")
    result, out = sanitise(tmp_path, demo_files, "police_crime_offence", source, config=False, keys=False)
    assert result.exit_code == 0 and "one-off secret" in result.stderr
    assert not set(tokens["police_crime_offence"]) & {r["crime_ref"] for r in read_csv(out)}


def test_bad_rows_are_quarantined_with_row_numbers_and_reasons(tmp_path, demo_files, gazetteer):
    def spoil(rows):
        rows[2]["postcode"] = "NOT A POSTCODE"
        rows[5]["committed_from_date"] = (TODAY + dt.timedelta(days=3)).isoformat()
        rows[9]["crime_ref"] = ""
        rows[11].update(postcode="ZZ9 9ZZ", easting="", northing="")  # well-formed, unknown, nothing to place it
        rows[14]["easting"] = "9999999"

    source = export(tmp_path, "police_crime_offence", gazetteer, mutate=spoil)
    result, out = sanitise(tmp_path, demo_files, "police_crime_offence", source)
    assert result.exit_code == 1
    assert "rejected 5" in result.stdout
    quarantine = read_csv(out.with_name(out.stem + ".quarantine.csv"))
    assert [int(r["row"]) for r in quarantine] == [3, 6, 10, 12, 15]
    reasons = {int(r["row"]): r["reasons"] for r in quarantine}
    assert "postcode" in reasons[3] and "future" in reasons[6] and "crime_ref: required" in reasons[10]
    assert "postcode: the postcode is not in the gazetteer" in reasons[12] and "easting" in reasons[15]
    assert "ZZ9" not in reasons[12]  # reasons name the field, never the value (they reach logs too)
    assert quarantine[0]["postcode"] == "NOT A POSTCODE"  # the original cells, for the agency to fix
    assert len(read_csv(out)) == ROWS - 5
    # Fixed and re-run: no rejects, exit 0, and no stale quarantine left behind.
    export(tmp_path, "police_crime_offence", gazetteer)
    result, out = sanitise(tmp_path, demo_files, "police_crime_offence", source)
    assert result.exit_code == 0 and not out.with_name(out.stem + ".quarantine.csv").exists()


def test_bytes_that_are_not_utf8_cost_only_their_own_row(tmp_path, demo_files, gazetteer):
    source = export(tmp_path, "police_crime_offence", gazetteer, n=400)
    data = source.read_bytes().split(b"\r\n")
    data[200] = (data[200].replace(b",addressable,", b",addressable\xff,", 1)
                 .replace(b",non_addressable,", b",non\xff,", 1))
    source.write_bytes(b"\r\n".join(data))
    result, out = sanitise(tmp_path, demo_files, "police_crime_offence", source)
    assert result.exit_code == 1, result.stderr
    quarantine = read_csv(out.with_name(out.stem + ".quarantine.csv"))
    assert [(r["row"], "not UTF-8" in r["reasons"]) for r in quarantine] == [("200", True)]
    assert len(read_csv(out)) == 399
    (tmp_path / "bad-header.csv").write_bytes(b"crime_ref,offence\xff_code\r\nA,B\r\n")
    result, _ = sanitise(tmp_path, demo_files, "police_crime_offence", tmp_path / "bad-header.csv")
    assert result.exit_code == 1 and "not UTF-8" in result.stderr


def test_a_header_without_required_columns_is_refused(tmp_path, demo_files):
    source = tmp_path / "wrong.csv"
    source.write_text("CrimeNumber,FromDate\nNS/1,01/01/2026\n")
    result, out = sanitise(tmp_path, demo_files, "police_crime_offence", source)
    assert result.exit_code == 1
    assert "header lacks required column(s)" in result.stderr and "crime_ref" in result.stderr
    assert not out.exists()


def test_unknown_dataset_and_wrong_passphrase_are_clear_errors(tmp_path, demo_files, gazetteer):
    source = export(tmp_path, "police_crime_offence", gazetteer, n=3)
    result, _ = sanitise(tmp_path, demo_files, "no_such_dataset", source)
    assert result.exit_code == 2 and "unknown dataset" in result.stderr
    out = tmp_path / "x.csv"
    result = run(["--dataset", "police_crime_offence", "--gazetteer", str(demo_files.gazetteer), "--in", str(source),
                  "--out", str(out), "--keys", str(demo_files.keys["sanitiser"])], passphrase="not the passphrase!")
    assert result.exit_code == 1 and "wrong passphrase" in result.stderr and not out.exists()


def test_k_override_moves_more_records(tmp_path, demo_files, gazetteer):
    source = export(tmp_path, "police_crime_offence", gazetteer, n=80)
    low, out_low = sanitise(tmp_path, demo_files, "police_crime_offence", source, "--json")
    (tmp_path / "high").mkdir()
    out_high = tmp_path / "high" / "out.csv"
    high = run(["--dataset", "police_crime_offence", "--gazetteer", str(demo_files.gazetteer), "--in", str(source),
                "--out", str(out_high), "--k", "30", "--keys", str(demo_files.keys["sanitiser"]), "--json"])
    assert low.exit_code == high.exit_code == 0
    assert json.loads(high.stdout)["k"] == 30
    assert json.loads(high.stdout)["moved_to_another_postcode"] > json.loads(low.stdout)["moved_to_another_postcode"]
    assert all(gazetteer.get(r["postcode"]).households >= 30 for r in read_csv(out_high))


def test_progress_is_reported_on_stderr_for_large_files(tmp_path, demo_files, gazetteer, monkeypatch):
    import exchange.cli.sanitise as cli

    monkeypatch.setattr(cli, "PROGRESS_SECONDS", 0.0)  # report at every check (every 1,000 rows)
    source = export(tmp_path, "police_incident", gazetteer, n=2000)
    result, _ = sanitise(tmp_path, demo_files, "police_incident", source)
    assert result.exit_code == 0, result.stderr
    assert "1,000 rows read" in result.stderr and "2,000 rows read" in result.stderr
    assert "rows read" not in result.stdout


# -- the risk report ---------------------------------------------------------------------------------


def test_risk_report_on_a_hand_computed_example():
    quasi = [QuasiIdentifier("age", "age"), QuasiIdentifier("gender", "gender"),
             QuasiIdentifier("postcode_sector", "postcode", "sector")]
    records = [
        {"age": 30, "gender": "male", "postcode": "NX1 1AB"},
        {"age": 30, "gender": "male", "postcode": "nx11ad"},  # same sector, any spelling
        {"age": 30, "gender": "male", "postcode": "NX1 2AB"},
        {"age": 41, "gender": "female", "postcode": None},
        {"age": 41, "gender": "female", "postcode": None},
        {"age": 41, "gender": "female", "postcode": None},
        {"age": None, "gender": None, "postcode": "NX1 1AB"},
    ]
    report = assess(records, quasi, 3, dataset="toy")
    # Classes: (30, male, NX1 1) x2, (30, male, NX1 2) x1, (41, female, blank) x3, (blank, blank, NX1 1) x1.
    assert report.records == 7 and report.classes == 4
    assert report.classes_below_k == 3 and report.records_below_k == 4
    assert round(report.percent_below_k, 2) == 57.14
    assert report.smallest_class == 1 and not report.k_anonymous
    assert [(c.values, c.size) for c in report.smallest] == [
        ((30, "male", "NX1 2"), 1), ((None, None, "NX1 1"), 1), ((30, "male", "NX1 1"), 2), ((41, "female", None), 3)]
    text = render_text(report, marking="OFFICIAL")
    lines = text.strip().splitlines()
    assert lines[0] == lines[-1] == "OFFICIAL"
    assert "Records in classes < k:    4 (57.1%)" in text and "age, gender, postcode_sector" in text
    assert assess(records, quasi, 1).k_anonymous
    assert assess([], quasi, 3).smallest_class is None


def test_quasi_identifiers_come_from_the_shared_schema():
    names = lambda d: [q.name for q in quasi_identifiers(catalogue()[d])]  # noqa: E731
    assert names("police_crime_victim") == ["age_at_event", "gender", "ethnicity", "occupation", "postcode_sector"]
    assert names("police_crime_offence") == ["postcode_sector"]
    assert names("police_detection") == ["age_at_event", "gender", "ethnicity"]
    assert names("ppo") == ["gender", "ethnicity", "occupation", "postcode_sector"]


def test_risk_report_file_matches_the_output(tmp_path, demo_files, gazetteer):
    source = export(tmp_path, "police_crime_victim", gazetteer, n=150)
    report_path = tmp_path / "risk.json"
    result, out = sanitise(tmp_path, demo_files, "police_crime_victim", source, "--risk-report", str(report_path))
    assert result.exit_code == 0, result.stderr
    report = json.loads(report_path.read_text())
    from collections import Counter

    from exchange.core.postcode import postcode_sector

    rows = read_csv(out)
    counts = Counter((r["age_at_event"], r["gender"], r["ethnicity"], r["occupation"], postcode_sector(r["postcode"]))
                     for r in rows)
    assert report["marking"] == "OFFICIAL" and report["k"] == 4 and report["records"] == len(rows) == 150
    assert report["quasi_identifiers"] == ["age_at_event", "gender", "ethnicity", "occupation", "postcode_sector"]
    assert report["equivalence_classes"] == len(counts)
    assert report["records_in_classes_smaller_than_k"] == sum(n for n in counts.values() if n < 4)
    assert report["smallest_class_size"] == min(counts.values())
    assert len(report["smallest_classes"]) == 10
    text_path = tmp_path / "risk.txt"
    result, _ = sanitise(tmp_path, demo_files, "police_crime_victim", source, "--risk-report", str(text_path))
    assert text_path.read_text().startswith("OFFICIAL\n") and "Equivalence classes:" in text_path.read_text()
