"""The audit trail in the form's language (tohtrack.audit_words), without Qt."""

import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from tohtrack import audit_words, interchange
from tohtrack.audit_words import AuditReader, value_words
from tohtrack.db import AuditEntry
from tohtrack.model import FINDINGS

TODAY = dt.date(2026, 3, 1)


@pytest.fixture
def trail(store, vignettes):
    interchange.import_document(store, vignettes, today=TODAY)
    return store


def _lines(store, mrn):
    return list(AuditReader().lines(store.audit_entries(store.patient_id(mrn))))


def test_an_edited_study_reads_as_the_form_words_it(trail):
    patient = list(trail.patients([trail.patient_id("EX-02")]))[0]
    study = next(s for e in patient.episodes for s in e.imaging if s.edema_extent_pct == 55)
    study.edema_extent_pct, study.collapse = 58, False
    trail.update_finding(study, today=TODAY)
    record = patient.episodes[-1].symptoms[0]
    record.pain_nrs = 2
    trail.update_finding(record, today=TODAY)
    lines = _lines(trail, "EX-02")
    assert lines[-2].text() == "MRI of 30 Jun 2025, right hip: edema 55 % → 58 %; collapse not assessed → no"
    assert lines[-2].action == "changed" and lines[-2].mrn == "EX-02"
    assert lines[-1].subject.startswith("Symptoms of ") and lines[-1].subject.endswith(", right hip")
    assert lines[-1].changes[0].label == "pain (NRS)" and lines[-1].changes[0].new == "2"


def test_no_column_names_or_record_numbers(trail):
    patient = list(trail.patients([trail.patient_id("EX-05")]))[0]
    trail.delete_finding(patient.episodes[0].symptoms[0]) if patient.episodes[0].symptoms else None
    text = "\n".join(line.text() for line in _lines(trail, "EX-05"))
    for column in ("pain_nrs", "episode_id", "patient_id", "symptom_onset", "edema_extent_pct", "#", "_"):
        assert column not in text
    # Two left-ankle episodes: named by onset once both are on record.
    assert "Left ankle, episode of June 2024 created" in text


def test_a_removed_record_keeps_its_name(trail):
    patient = list(trail.patients([trail.patient_id("EX-01")]))[0]
    study = patient.episodes[0].imaging[0]
    trail.delete_finding(study)
    last = _lines(trail, "EX-01")[-1]
    assert last.action == "removed" and last.subject == "MRI of 20 Apr 2025, right hip"
    assert audit_words.Change("edema", "75 %", "").text("delete") == "edema was 75 %"


def test_values_in_words():
    assert value_words("imaging", "t1_low_signal", None) == "not assessed"
    assert value_words("imaging", "t1_low_signal", 0) == "no"
    assert value_words("imaging", "t1_low_signal", 1) == "yes"
    assert value_words("imaging", "edema_regions", '["medial_femoral_condyle", "patella"]') == \
        "medial femoral condyle, patella"
    assert value_words("episodes", "site", "knee_left") == "left knee"
    assert value_words("episodes", "pregnancy", "trimester_3") == "third trimester"
    assert value_words("symptoms", "weight_bearing", "non") == "non-weight-bearing"
    assert value_words("treatments", "end", None) == "ongoing"
    assert value_words("symptoms", "date", "2025-04-20") == "20 Apr 2025"
    assert value_words("imaging", "scintigraphy_uptake", None) == "not assessed"


def test_settings_are_named_by_their_key(store):
    store.set_setting("clinic_name", "A")
    store.set_setting("clinic_name", "B")
    lines = list(AuditReader().lines(store.audit_entries(None)))
    assert lines[-1].text() == "Setting clinic name: value A → B"


_ENTRY = st.builds(
    AuditEntry, id=st.integers(1, 10 ** 6), at=st.just("2026-01-01T00:00:00.000000Z"), os_user=st.text(max_size=5),
    clinician=st.text(max_size=5),
    table_name=st.sampled_from(["patients", "episodes", "imaging", "symptoms", "treatments", "settings", "x"]),
    row_id=st.integers(1, 5), patient_id=st.none() | st.integers(1, 3),
    action=st.sampled_from(["create", "update", "delete", "other"]),
    old=st.none() | st.dictionaries(st.sampled_from(["date", "site", "episode_id", "symptom_onset", "key",
                                                     *FINDINGS, "edema_regions", "pain_nrs"]),
                                    st.none() | st.integers(-3, 3) | st.text(max_size=8) | st.floats()),
    new=st.none() | st.dictionaries(st.sampled_from(["date", "site", "episode_id", "symptom_onset", "modality",
                                                     "value", "start", "kind"]),
                                    st.none() | st.integers(-3, 3) | st.text(max_size=8)),
    mrn=st.none() | st.text(max_size=4))


@settings(max_examples=150, deadline=None)
@given(st.lists(_ENTRY, max_size=12))
def test_any_trail_reads_without_error(entries):
    """Damaged or unexpected entries (another version's columns, odd values) still read as text."""
    for line in AuditReader().lines(entries):
        assert isinstance(line.text(), str) and line.subject
