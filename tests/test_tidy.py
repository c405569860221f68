"""Tidy CSV for analysis (`export --format csv`): read back with the csv module into the same counts, keys that
join, a structurally valid Frictionless Data Package, de-identification as the report does it, a safe folder."""

import csv
import datetime as dt
import json
import os
import re
from pathlib import Path

import pytest

from tohtrack import interchange, tidy
from tohtrack.__main__ import main
from tohtrack.db import Store
from tohtrack.model import FINDINGS, ValidationError

TODAY = dt.date(2026, 3, 1)
AS_OF = dt.date(2025, 9, 1)
FRICTIONLESS_TYPES = {"string", "number", "integer", "boolean", "date", "datetime", "time", "year", "object",
                      "array", "any"}


def read(folder: Path) -> dict[str, list[dict[str, str]]]:
    out = {}
    for name in tidy.TABLES:
        with open(folder / f"{name}.csv", newline="", encoding="utf-8") as f:
            out[name] = list(csv.DictReader(f))
    return out


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def filled(store, vignettes):
    vignettes["patients"][0]["notes"] = "Line one,\nline \"two\""
    vignettes["patients"][0]["episodes"][0]["imaging"][0]["study_instance_uid"] = "1.2.840.1"
    interchange.import_document(store, vignettes, today=TODAY)
    return store


def test_csv_reads_back_into_the_same_counts_and_joins(filled, tmp_path, capsys):
    code, out, err = run(capsys, "export", "--format", "csv", "-o", tmp_path / "out", "--as-of", AS_OF)
    assert code == 0, err
    tables = read(tmp_path / "out")
    db = {t: filled.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
          for t in ("patients", "episodes", "imaging", "symptoms", "treatments")}
    for name, count in db.items():
        assert len(tables[name]) == count, name
    assert len(tables["findings"]) == db["imaging"] * len(FINDINGS)
    assert f"{db['patients']} patients" in out
    # Keys are unique and every reference resolves.
    for name, keys in tidy.PRIMARY_KEYS.items():
        seen = [tuple(r[k] for k in keys) for r in tables[name]]
        assert len(seen) == len(set(seen)), name
    patient_keys = {r["patient_key"] for r in tables["patients"]}
    episode_keys = {r["episode_key"] for r in tables["episodes"]}
    study_keys = {r["study_key"] for r in tables["imaging"]}
    for name in ("episodes", "imaging", "symptoms", "treatments", "flags"):
        assert {r["patient_key"] for r in tables[name]} <= patient_keys
    for name in ("imaging", "symptoms", "treatments", "flags"):
        assert {r["episode_key"] for r in tables[name]} <= episode_keys
    assert {r["study_key"] for r in tables["findings"]} == study_keys
    # Values: ISO dates, true/false/empty, multi-line text kept in one field.
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["symptom_onset"]) for r in tables["episodes"])
    assert {r["value"] for r in tables["findings"]} <= {"true", "false", ""}
    assert tables["patients"][0]["notes"] == "Line one,\nline \"two\""
    assert tables["imaging"][0]["study_instance_uid"] == "1.2.840.1"
    # The flags are the course assessment as of --as-of.
    from tohtrack import course

    expected = sum(len(course.assess(p, AS_OF, filled.settings()).flags) for p in filled.patients())
    assert len(tables["flags"]) == expected and expected > 0
    assert {r["as_of"] for r in tables["flags"]} == {AS_OF.isoformat()}


def test_a_joined_finding_matches_the_record(filled, tmp_path):
    tidy.export(filled, tmp_path / "out", AS_OF)
    tables = read(tmp_path / "out")
    patient = next(r for r in tables["patients"] if r["mrn"] == "EX-04")
    episode = next(r for r in tables["episodes"] if r["patient_key"] == patient["patient_key"])
    study = next(r for r in tables["imaging"] if r["episode_key"] == episode["episode_key"])
    findings = {r["finding"]: r["value"] for r in tables["findings"] if r["study_key"] == study["study_key"]}
    record = filled.patient_by_mrn("EX-04").episodes[0].imaging[0]
    assert findings["subchondral_t2_low_band"] == "true" and findings["collapse"] == ""
    assert study["date"] == record.date.isoformat() and study["modality"] == record.modality


def test_datapackage_describes_every_column(filled, tmp_path):
    for deidentify in (False, True):
        folder = tmp_path / f"out{deidentify}"
        tidy.export(filled, folder, AS_OF, deidentify)
        package = json.loads((folder / "datapackage.json").read_text(encoding="utf-8"))
        assert package["profile"] == "tabular-data-package" and re.fullmatch(r"[a-z0-9._-]+", package["name"])
        names = [r["name"] for r in package["resources"]]
        assert names == list(tidy.TABLES)
        for resource in package["resources"]:
            assert resource["path"] == f"{resource['name']}.csv" and (folder / resource["path"]).is_file()
            assert resource["encoding"] == "utf-8" and resource["profile"] == "tabular-data-resource"
            schema = resource["schema"]
            fields = [f["name"] for f in schema["fields"]]
            with open(folder / resource["path"], newline="", encoding="utf-8") as f:
                assert next(csv.reader(f)) == fields
            assert all(f["type"] in FRICTIONLESS_TYPES and f["description"] for f in schema["fields"])
            assert set(schema["primaryKey"]) <= set(fields)
            for fk in schema.get("foreignKeys", []):
                assert set(fk["fields"]) <= set(fields)
                target = next(r for r in package["resources"] if r["name"] == fk["reference"]["resource"])
                assert set(fk["reference"]["fields"]) <= {f["name"] for f in target["schema"]["fields"]}
                assert fk["reference"]["fields"] == target["schema"]["primaryKey"]
        # Typed values parse as their declared type.
        tables = read(folder)
        for resource in package["resources"]:
            for field in resource["schema"]["fields"]:
                for row in tables[resource["name"]]:
                    value = row[field["name"]]
                    if value == "":
                        continue
                    if field["type"] == "integer":
                        int(value)
                    elif field["type"] == "number":
                        float(value)
                    elif field["type"] == "date":
                        dt.date.fromisoformat(value)
                    elif field["type"] == "boolean":
                        assert value in ("true", "false")


def test_deidentified_export_holds_no_identity_and_no_free_text(filled, tmp_path, capsys):
    code, _, err = run(capsys, "export", "--format", "csv", "--deidentify", "-o", tmp_path / "d", "--as-of", AS_OF)
    assert code == 0, err
    blob = "\n".join(p.read_text(encoding="utf-8") for p in (tmp_path / "d").iterdir())
    for patient in filled.patients():
        for value in (patient.mrn, patient.family_name, patient.given_name, patient.birth_date.isoformat()):
            assert value not in blob, value
        for e in patient.episodes:
            assert e.symptom_onset.isoformat() not in blob
            for s in e.imaging:
                for text in (s.accession, s.report):
                    assert not text or text not in blob
    assert "1.2.840.1" not in blob and "Line one" not in blob
    assert not re.search(r"\b(19|20)\d\d-\d\d-\d\d\b", blob.replace("datapackage", ""))  # no ISO date at all
    tables = read(tmp_path / "d")
    assert all(re.fullmatch(r"R-[A-Z0-9]{8}", r["patient_key"]) for r in tables["patients"])
    assert all(re.fullmatch(r"(\d\d–\d\d years|90 years or older)", r["age_band"]) for r in tables["patients"])
    assert "notes" not in tables["patients"][0] and "report" not in tables["imaging"][0]
    assert all(r["symptom_onset_month"] for r in tables["episodes"])
    firsts = {}
    for r in tables["episodes"]:
        firsts.setdefault(r["patient_key"], []).append(float(r["symptom_onset_month"]))
    assert all(min(v) == 0.0 for v in firsts.values())  # months since each patient's first onset
    # Two exports give different random ids.
    tidy.export(filled, tmp_path / "d2", AS_OF, deidentify=True)
    again = read(tmp_path / "d2")
    assert {r["patient_key"] for r in again["patients"]}.isdisjoint({r["patient_key"] for r in tables["patients"]})


def test_output_folder_is_new_or_empty_and_written_whole(filled, tmp_path, capsys):
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    code, _, err = run(capsys, "export", "--format", "csv", "-o", full)
    assert code == 2 and "not empty" in err and "nothing was written" in err
    assert [p.name for p in full.iterdir()] == ["keep.txt"]
    afile = tmp_path / "afile"
    afile.write_text("x")
    code, _, err = run(capsys, "export", "--format", "csv", "-o", afile)
    assert code == 2 and afile.read_text() == "x"
    code, _, err = run(capsys, "export", "--format", "csv", "-o", tmp_path / "no" / "such")
    assert code == 2 and "does not exist" in err
    code, _, err = run(capsys, "export", "--format", "csv", "-o", "-")
    assert code == 2 and "folder" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert run(capsys, "export", "--format", "csv", "-o", empty)[0] == 0
    assert sorted(p.name for p in empty.iterdir()) == sorted([f"{t}.csv" for t in tidy.TABLES] + ["datapackage.json"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left
    assert run(capsys, "export", "--as-of", "2025-01-01", "-o", tmp_path / "x.json")[0] == 2  # --as-of: csv only


def test_a_failure_midway_leaves_no_folder(filled, tmp_path, monkeypatch):
    calls = []
    real = tidy._write

    def failing(path, text):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real(path, text)

    monkeypatch.setattr(tidy, "_write", failing)
    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(OSError):
        tidy.export(filled, folder / "out", AS_OF)
    assert list(folder.iterdir()) == []  # neither the folder nor its staging copy


def test_selected_patients_and_an_empty_database(store, vignettes, tmp_path, capsys):
    code, _, err = run(capsys, "export", "--format", "csv", "-o", tmp_path / "none")
    assert code == 0, err
    assert all(rows == [] for rows in read(tmp_path / "none").values())
    interchange.import_document(store, vignettes, today=TODAY)
    code, _, err = run(capsys, "export", "--format", "csv", "-o", tmp_path / "two", "--patient", "EX-02",
                       "--patient", "EX-05")
    assert code == 0, err
    assert [r["mrn"] for r in read(tmp_path / "two")["patients"]] == ["EX-02", "EX-05"]
    code, _, err = run(capsys, "export", "--format", "csv", "-o", tmp_path / "bad", "--patient", "NOPE")
    assert code == 2 and not (tmp_path / "bad").exists()
