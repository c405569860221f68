"""The optional tohtrack/1 imaging fields study_instance_uid and study_description: validated, stored,
exported last in the study (null when not recorded), round-tripped."""

import datetime as dt
import json
import sqlite3

import pytest
from hypothesis import given, settings, strategies as st

from conftest import minimal_document, query
from tohtrack import interchange, model
from tohtrack.db import Store
from tohtrack.model import ImagingStudy, ValidationError

TODAY = dt.date(2026, 3, 1)
PATH = "patients[0].episodes[0].imaging[0]"

components = st.one_of(st.just("0"), st.integers(min_value=1, max_value=10 ** 12).map(str))
uids = st.lists(components, min_size=1, max_size=12).map(".".join).filter(lambda u: len(u) <= 64)


def with_study(**fields):
    doc = minimal_document()
    doc["patients"][0]["episodes"][0]["imaging"][0].update(fields)
    return doc


def import_problems(store, doc):
    with pytest.raises(ValidationError) as info:
        interchange.import_document(store, doc, today=TODAY)
    return [str(p) for p in info.value.problems]


@settings(max_examples=200, deadline=None)
@given(uids)
def test_every_dicom_uid_is_accepted(uid):
    assert model.uid_problem(uid) is None
    assert model.check_imaging(ImagingStudy(date=dt.date(2025, 2, 1), modality="MRI", study_instance_uid=uid),
                               today=TODAY) == []


@pytest.mark.parametrize("uid, why", [
    ("", "is not a DICOM UID"),
    ("1.2.840.", "is not a DICOM UID"),
    (".1.2", "is not a DICOM UID"),
    ("1..2", "is not a DICOM UID"),
    ("1.02.3", "is not a DICOM UID"),  # a leading zero
    ("1.2.abc", "is not a DICOM UID"),
    ("1.2.3 ", "is not a DICOM UID"),
    ("1.2.3\n", "is not a DICOM UID"),
    ("１.２", "is not a DICOM UID"),  # full-width digits are not ASCII digits
    ("1." + "2" * 63, "at most 64"),
    (123, "is not text"),
])
def test_bad_uids_are_refused_naming_the_path(store, uid, why):
    found = import_problems(store, with_study(study_instance_uid=uid))
    assert len(found) == 1 and found[0].startswith(f"{PATH}.study_instance_uid: ") and why in found[0]
    assert store.count_patients() == 0


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_any_text_is_either_a_uid_or_refused_with_a_reason(text):
    problem = model.uid_problem(text)
    import re
    assert (problem is None) == bool(re.fullmatch(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*", text) and len(text) <= 64)


@pytest.mark.parametrize("description, why", [
    ("MR hip\nleft", "line break"),
    ("MR\thip", "tab"),
    ("MR\x1b[31m", "control character"),
    ("MR\u202ehip", "U+202E"),  # a bidi override (the single-line text rules)
    ("x" * 201, "at most 200"),
    (["MR"], "is not text"),
])
def test_bad_descriptions_are_refused(store, description, why):
    found = import_problems(store, with_study(study_description=description))
    assert len(found) == 1 and found[0].startswith(f"{PATH}.study_description: ") and why in found[0]


def test_check_imaging_applies_the_same_rules_to_records_made_in_code():
    study = ImagingStudy(date=dt.date(2025, 2, 1), modality="MRI", study_instance_uid="1.02",
                         study_description="two\nlines")
    found = [str(p) for p in model.check_imaging(study, "s", today=TODAY)]
    assert any(p.startswith("s.study_instance_uid: ") for p in found)
    assert any(p.startswith("s.study_description: ") and "line break" in p for p in found)


def test_the_fields_round_trip_byte_identically(tmp_path):
    doc = with_study(study_instance_uid="1.2.840.113619.2.55.3.604688119.971.1",
                     study_description="MR HIP LEFT — Ø coronal STIR")
    doc["patients"][0]["episodes"][0]["imaging"].append({"date": "2025-03-01", "modality": "XR",
                                                         "study_description": ""})
    with Store(tmp_path / "a.sqlite3") as a, Store(tmp_path / "b.sqlite3") as b:
        interchange.import_document(a, doc, today=TODAY)
        first = interchange.dumps(interchange.export_document(a))
        interchange.import_document(b, json.loads(first), today=TODAY)
        assert interchange.dumps(interchange.export_document(b)) == first
    studies = json.loads(first)["patients"][0]["episodes"][0]["imaging"]
    assert list(studies[0])[-3:] == ["report", "study_instance_uid", "study_description"]
    assert studies[0]["study_instance_uid"] == "1.2.840.113619.2.55.3.604688119.971.1"
    assert studies[0]["study_description"] == "MR HIP LEFT — Ø coronal STIR"
    assert studies[1]["study_instance_uid"] is None and studies[1]["study_description"] == ""


def test_a_file_without_them_imports_and_exports_them_as_null(store, vignettes):
    interchange.import_document(store, vignettes, today=TODAY)
    doc = interchange.export_document(store)
    studies = [s for p in doc["patients"] for e in p["episodes"] for s in e["imaging"]]
    assert studies and all(s["study_instance_uid"] is None and s["study_description"] is None for s in studies)


def test_they_are_stored_audited_and_checked(store, outside):
    interchange.import_document(store, with_study(study_instance_uid="1.2.3", study_description="MR"), today=TODAY)
    row = query(store, "SELECT study_instance_uid, study_description FROM imaging")[0]
    assert tuple(row.values()) == ("1.2.3", "MR")
    entry = next(e for e in store.audit_entries() if e.table_name == "imaging")
    assert entry.new["study_instance_uid"] == "1.2.3" and entry.new["study_description"] == "MR"
    assert store.check() == []
    outside("UPDATE imaging SET study_instance_uid = '9.9'", guards=False)
    assert any("study_instance_uid" in p for p in store.check())


def test_an_older_database_is_upgraded_with_null_columns(tmp_path, vignettes):
    """A database made before m004 (the columns missing) gets them, NULL, and exports them as null."""
    path = tmp_path / "old.sqlite3"
    with Store(path) as store:
        interchange.import_document(store, vignettes, today=TODAY)
    conn = sqlite3.connect(path)
    conn.execute("DROP INDEX imaging_study_instance_uid")
    conn.execute("ALTER TABLE imaging DROP COLUMN study_instance_uid")
    conn.execute("ALTER TABLE imaging DROP COLUMN study_description")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm006_imaging_dicom_study'")
    # And what came after m006: the cohort statistics' cache (m007).
    from tohtrack.migrations import FIGURES_TRIGGERS

    for name in FIGURES_TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("DROP TABLE episode_figures")
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm007_episode_figures'")
    conn.commit()
    conn.close()
    with Store(path, readonly=True) as store:  # read-only: not upgraded, the fields read as not recorded
        assert "m006_imaging_dicom_study" not in store.applied_migrations()
        assert interchange.export_document(store) == interchange.export_document(store)
        old_doc = interchange.export_document(store)
        assert store.check() == []
    assert old_doc["patients"][0]["episodes"][0]["imaging"][0]["study_instance_uid"] is None
    with Store(path) as store:
        assert "m006_imaging_dicom_study" in store.applied_migrations()
        assert interchange.export_document(store) == old_doc
        doc = interchange.export_document(store)
        assert store.check() == []
    study = doc["patients"][0]["episodes"][0]["imaging"][0]
    assert study["study_instance_uid"] is None and study["study_description"] is None


def test_deidentified_reports_leave_the_dicom_identity_out():
    from tohtrack.report import stripped

    doc = with_study(study_instance_uid="1.2.3", study_description="MR HIP LEFT")
    patient = model.patient_from_dict(doc["patients"][0], "p", [])
    copy_ = stripped(patient)
    study = copy_.episodes[0].imaging[0]
    assert study.study_instance_uid is None and study.study_description is None
    assert patient.episodes[0].imaging[0].study_instance_uid == "1.2.3"  # the original untouched


def test_a_file_from_before_m006_takes_records_without_a_dicom_identity(tmp_path, vignettes):
    """A file made by an older migration set (as in tests) is written without the columns it lacks; a value for
    one of them is refused rather than dropped."""
    from sqlite_utils.migrations import Migrations

    from tohtrack import migrations as mig
    from tohtrack.db import StoreError

    old = Migrations("tohtrack")
    old()(mig.m001_initial)
    with Store(tmp_path / "old.sqlite3", migration_set=old) as store:
        interchange.import_document(store, vignettes, today=TODAY)
        assert store.count_patients() == 6 and store.check() == []
        doc = with_study(study_instance_uid="1.2.3")
        doc["patients"][0]["mrn"] = "T-2"
        with pytest.raises(StoreError, match="no column study_instance_uid"):
            interchange.import_document(store, doc, today=TODAY)
        assert store.count_patients() == 6
