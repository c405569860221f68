"""Validation of tohtrack/1 documents: every rule of INTERFACE.md section 2 with a failing example."""

import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from conftest import minimal_document
from tohtrack import model
from tohtrack.model import ValidationError, load_document

TODAY = dt.date(2026, 3, 1)


def problems_of(doc, today=TODAY) -> list[str]:
    try:
        load_document(doc, today=today)
    except ValidationError as exc:
        return [str(p) for p in exc.problems]
    return []


def set_path(doc, path, value):
    """Set doc[...] by a dotted path with [i] indexes; value DELETE removes the key."""
    target = doc
    parts = path.replace("]", "").replace("[", ".").split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    if value is DELETE:
        del target[last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return doc


class _Delete:
    def __repr__(self):
        return "<removed>"


DELETE = _Delete()
P = "patients[0]"
E = "patients[0].episodes[0]"
I = "patients[0].episodes[0].imaging[0]"
S = "patients[0].episodes[0].symptoms[0]"
T = "patients[0].episodes[0].treatments[0]"


def test_minimal_document_is_valid():
    patients = load_document(minimal_document(), today=TODAY)
    assert patients[0].episodes[0].imaging[0].edema_extent_pct == 70
    assert patients[0].episodes[0].diagnosis == "transient_osteoporosis"


def test_vignettes_are_valid(vignettes):
    assert len(load_document(vignettes, today=TODAY)) == 6


CASES = [
    # (path to set, value, expected "path: message" fragment)
    ("format", "tohtrack/2", "format: 'tohtrack/2' is not a supported format"),
    ("format", DELETE, "format: is required (expected 'tohtrack/1')"),
    ("format", None, "format: null is not a supported format"),
    ("patients", DELETE, "patients: is required"),
    ("patients", {}, "patients: expected a list, got an object"),
    (f"{P}.mrn", DELETE, f"{P}.mrn: is required"),
    (f"{P}.mrn", "   ", f"{P}.mrn: is empty"),
    (f"{P}.mrn", 123, f"{P}.mrn: 123 is not text"),
    (f"{P}.family_name", DELETE, f"{P}.family_name: is required"),
    (f"{P}.family_name", "", f"{P}.family_name: is empty"),
    (f"{P}.given_name", None, f"{P}.given_name: is required (null given)"),
    (f"{P}.family_name", "Ros\x00si", f"{P}.family_name: contains a control character"),
    (f"{P}.family_name", "x" * 201, f"{P}.family_name: is 201 characters long (at most 200)"),
    (f"{P}.birth_date", DELETE, f"{P}.birth_date: is required"),
    (f"{P}.birth_date", "1976-02-30", f"{P}.birth_date: '1976-02-30' is not a real calendar date"),
    (f"{P}.birth_date", "02/03/1976", f"{P}.birth_date: '02/03/1976' is not a date (expected YYYY-MM-DD)"),
    (f"{P}.birth_date", "19760302", f"{P}.birth_date: '19760302' is not a date"),
    (f"{P}.birth_date", 1976, f"{P}.birth_date: 1976 is not a date"),
    (f"{P}.birth_date", "2026-03-02", f"{P}.birth_date: 2026-03-02 is in the future"),
    (f"{P}.sex", "M", f"{P}.sex: 'M' is not a known code (allowed: male, female, other, unknown)"),
    (f"{P}.sex", DELETE, f"{P}.sex: is required"),
    (f"{P}.archived", 1, f"{P}.archived: 1 is not true, false or null"),
    (f"{P}.archived", "false", f"{P}.archived: 'false' is not true, false or null"),
    (f"{P}.colour", "blue", f"{P}.colour: unknown key (allowed: mrn, family_name"),
    (f"{P}.episodes", "none", f"{P}.episodes: expected a list, got text"),
    (f"{E}.site", "hip", f"{E}.site: 'hip' is not a known code (allowed: hip_left, hip_right"),
    (f"{E}.site", "Hip_Left", f"{E}.site: 'Hip_Left' is not a known code"),
    (f"{E}.site", DELETE, f"{E}.site: is required"),
    (f"{E}.symptom_onset", DELETE, f"{E}.symptom_onset: is required"),
    (f"{E}.symptom_onset", "1970-01-01", f"{E}.symptom_onset: 1970-01-01 is before the birth date 1976-03-02"),
    (f"{E}.symptom_onset", "2026-03-02", f"{E}.symptom_onset: 2026-03-02 is in the future"),
    (f"{E}.resolved_on", "2025-01-09", f"{E}.resolved_on: 2025-01-09 is before the symptom onset 2025-01-10"),
    (f"{E}.resolved_on", "2026-04-01", f"{E}.resolved_on: 2026-04-01 is in the future"),
    (f"{E}.diagnosis", "TOH", f"{E}.diagnosis: 'TOH' is not a known code (allowed: transient_osteoporosis,"),
    (f"{E}.pregnancy", "trimester_4", f"{E}.pregnancy: 'trimester_4' is not a known code"),
    (f"{E}.avn_risk_factors", ["steroids"], f"{E}.avn_risk_factors[0]: 'steroids' is not a known code"),
    (f"{E}.avn_risk_factors", ["alcohol", "alcohol"], f"{E}.avn_risk_factors[1]: 'alcohol' is listed twice"),
    (f"{E}.avn_risk_factors", "alcohol", f"{E}.avn_risk_factors: expected a list, got text"),
    (f"{E}.notes", 5, f"{E}.notes: 5 is not text"),
    (f"{E}.side", "left", f"{E}.side: unknown key"),
    (f"{I}.date", DELETE, f"{I}.date: is required"),
    (f"{I}.date", "2025-01-09", f"{I}.date: 2025-01-09 is before the symptom onset 2025-01-10"),
    (f"{I}.date", "2026-03-02", f"{I}.date: 2026-03-02 is in the future"),
    (f"{I}.time", "8:40", f"{I}.time: '8:40' is not a clock time"),
    (f"{I}.time", "24:00", f"{I}.time: '24:00' is not a clock time"),
    (f"{I}.modality", "PET", f"{I}.modality: 'PET' is not a known code (allowed: MRI, XR, NM, CT)"),
    (f"{I}.modality", DELETE, f"{I}.modality: is required"),
    (f"{I}.edema_extent_pct", 140, f"{I}.edema_extent_pct: 140 is outside 0–100"),
    (f"{I}.edema_extent_pct", -0.5, f"{I}.edema_extent_pct: -0.5 is outside 0–100"),
    (f"{I}.edema_extent_pct", "70", f"{I}.edema_extent_pct: '70' is not a number"),
    (f"{I}.edema_extent_pct", True, f"{I}.edema_extent_pct: true is not a number"),
    (f"{I}.edema_volume_ml", -1, f"{I}.edema_volume_ml: -1 is outside 0–5000"),
    (f"{I}.edema_volume_ml", 1e20, f"{I}.edema_volume_ml: 1e+20 is outside 0–5000"),
    (f"{I}.time", "08:40\n", f"{I}.time: '08:40\\n' is not a clock time"),
    (f"{I}.time", "0\u0663:40", f"{I}.time: '0\u0663:40' is not a clock time"),
    (f"{P}.birth_date", "1976-03-02\n", f"{P}.birth_date: '1976-03-02\\n' is not a date"),
    (f"{E}.diagnosis", "", f"{E}.diagnosis: '' is not a known code (allowed: transient_osteoporosis"),
    (f"{I}.edema_regions", ["femur"], f"{I}.edema_regions[0]: 'femur' is not a hip region (allowed: head, neck, "
                                      "intertrochanteric, acetabulum, other)"),
    (f"{I}.edema_regions", ["head", "head"], f"{I}.edema_regions[1]: 'head' is listed twice"),
    (f"{I}.t1_low_signal", 1, f"{I}.t1_low_signal: 1 is not true, false or null"),
    (f"{I}.joint_space_narrowed", "yes", f"{I}.joint_space_narrowed: 'yes' is not true, false or null"),
    (f"{I}.dce_enhancement", "late", f"{I}.dce_enhancement: 'late' is not a known code (allowed: early, none)"),
    (f"{I}.scintigraphy_uptake", "hot", f"{I}.scintigraphy_uptake: 'hot' is not a known code"),
    (f"{I}.report", ["x"], f"{I}.report: ['x'] is not text"),
    (f"{I}.findings", {}, f"{I}.findings: unknown key"),
    (f"{S}.date", DELETE, f"{S}.date: is required"),
    (f"{S}.date", "2024-12-31", f"{S}.date: 2024-12-31 is before the symptom onset 2025-01-10"),
    (f"{S}.pain_nrs", 11, f"{S}.pain_nrs: 11 is outside 0–10"),
    (f"{S}.pain_nrs", -1, f"{S}.pain_nrs: -1 is outside 0–10"),
    (f"{S}.function_score", 100.5, f"{S}.function_score: 100.5 is outside 0–100"),
    (f"{S}.weight_bearing", "none", f"{S}.weight_bearing: 'none' is not a known code (allowed: full, partial"),
    (f"{T}.start", DELETE, f"{T}.start: is required"),
    (f"{T}.start", "2025-01-01", f"{T}.start: 2025-01-01 is before the symptom onset 2025-01-10"),
    (f"{T}.start", "2026-03-02", f"{T}.start: 2026-03-02 is in the future"),
    (f"{T}.end", "2025-01-19", f"{T}.end: 2025-01-19 is before the start 2025-01-20"),
    (f"{T}.kind", "zoledronate", f"{T}.kind: 'zoledronate' is not a known code (allowed: protected_weight_bearing"),
    (f"{T}.kind", DELETE, f"{T}.kind: is required"),
]


@pytest.mark.parametrize("path,value,expected", CASES, ids=[f"{c[0]}={c[1]!r}"[:60] for c in CASES])
def test_each_rule_rejects_its_failing_example(path, value, expected):
    doc = set_path(minimal_document(), path, value)
    found = problems_of(doc)
    assert any(expected in p for p in found), found


def test_today_is_allowed_and_tomorrow_is_not():
    doc = set_path(minimal_document(), f"{E}.resolved_on", TODAY.isoformat())
    assert problems_of(doc) == []
    doc = set_path(minimal_document(), f"{E}.resolved_on", (TODAY + dt.timedelta(days=1)).isoformat())
    assert problems_of(doc) == [f"{E}.resolved_on: 2026-03-02 is in the future (today is 2026-03-01)"]


def test_records_on_the_onset_day_are_allowed():
    doc = minimal_document()
    for path in (f"{I}.date", f"{S}.date", f"{T}.start", f"{E}.resolved_on"):
        set_path(doc, path, "2025-01-10")
    assert problems_of(doc) == []


def test_onset_on_the_birth_date_is_allowed():
    doc = set_path(minimal_document(), f"{E}.symptom_onset", "1976-03-02")
    set_path(doc, f"{E}.imaging", [])
    set_path(doc, f"{E}.symptoms", [])
    set_path(doc, f"{E}.treatments", [])
    assert problems_of(doc) == []


def test_nulls_and_omissions_mean_not_recorded():
    doc = minimal_document()
    patient = doc["patients"][0]
    patient.update(archived=None, notes=None)
    episode = patient["episodes"][0]
    episode.update(diagnosis=None, avn_risk_factors=None, imaging=None)
    del episode["symptoms"]
    (patient_obj,) = load_document(doc, today=TODAY)
    assert patient_obj.archived is False and patient_obj.notes == ""
    assert patient_obj.episodes[0].diagnosis == model.TOH
    assert patient_obj.episodes[0].imaging == [] and patient_obj.episodes[0].symptoms == []


def test_mrn_is_trimmed_normalised_and_compared_case_insensitively():
    doc = minimal_document()
    doc["patients"][0]["mrn"] = "  Ｔ-1 "
    patients = load_document(doc, today=TODAY)
    assert [p.mrn for p in patients] == ["T-1"]  # trimmed, NFKC (fullwidth T is T)
    doc["patients"].append(dict(doc["patients"][0], mrn="t-1", episodes=[]))
    assert problems_of(doc) == ["patients[1].mrn: 't-1' is the same MRN as 'T-1' (also patients[0])"]


def test_duplicate_mrn_in_the_file():
    doc = minimal_document()
    doc["patients"].append(dict(doc["patients"][0], mrn=" T-1", episodes=[]))
    assert problems_of(doc) == ["patients[1].mrn: 'T-1' appears twice in the file (also patients[0])"]


def overlapping(first_resolved, second_onset, second_site="hip_left"):
    doc = minimal_document()
    episodes = doc["patients"][0]["episodes"]
    episodes[0]["resolved_on"] = first_resolved
    episodes.append({"site": second_site, "symptom_onset": second_onset})
    return doc


def test_episodes_at_one_site_may_not_overlap():
    assert problems_of(overlapping(None, "2025-06-01")) == [
        f"{P}.episodes[1].symptom_onset: overlaps the left hip episode of 2025-01-10, which is not resolved"]
    found = problems_of(overlapping("2025-06-01", "2025-06-01"))
    assert found and found[0].startswith(f"{P}.episodes[1].symptom_onset: overlaps the left hip episode")
    assert problems_of(overlapping("2025-06-01", "2025-06-02")) == []


def test_same_day_onsets_at_one_site_overlap():
    doc = overlapping(None, "2025-01-10")
    assert any("overlaps" in p for p in problems_of(doc))


def test_episodes_at_different_sites_may_overlap():
    assert problems_of(overlapping(None, "2025-01-10", "hip_right")) == []


def test_overlap_is_found_whatever_the_file_order():
    doc = overlapping(None, "2024-06-01")  # the later-listed episode starts first, never resolved
    found = problems_of(doc)
    assert found == [f"{P}.episodes[0].symptom_onset: overlaps the left hip episode of 2024-06-01, which is not resolved"]


def test_every_problem_is_reported_at_once():
    doc = minimal_document()
    set_path(doc, f"{I}.edema_extent_pct", 140)
    set_path(doc, f"{S}.pain_nrs", 12)
    set_path(doc, f"{P}.sex", "x")
    doc["patients"].append({"mrn": "T-2"})
    found = problems_of(doc)
    assert f"{I}.edema_extent_pct: 140 is outside 0–100" in found
    assert f"{S}.pain_nrs: 12 is outside 0–10" in found
    assert any(p.startswith(f"{P}.sex:") for p in found)
    assert "patients[1].family_name: is required" in found
    assert "patients[1].birth_date: is required" in found


def test_not_an_object():
    assert problems_of([]) == ["expected an object, got a list"]
    doc = minimal_document()
    doc["patients"][0]["episodes"][0]["imaging"][0] = "MRI"
    assert problems_of(doc) == [f"{I}: expected an object, got text"]


def test_extent_prefers_percent_then_volume_then_regions():
    study = model.ImagingStudy(date=TODAY, modality="MRI", edema_volume_ml=12.5, edema_regions=["head"])
    assert study.extent() == (12.5, "mL")
    study.edema_extent_pct = 0
    assert study.extent() == (0.0, "%")
    assert model.ImagingStudy(date=TODAY, modality="MRI", edema_regions=["head", "neck"]).extent() == (2.0, "regions")
    assert model.ImagingStudy(date=TODAY, modality="XR").extent() is None


def test_site_labels():
    assert model.site_label("hip_left") == "left hip"
    assert model.site_label("knee_right", capital=True) == "Right knee"
    assert len(model.SITES) == 16


# -- property-based: arbitrary JSON never crashes validation, and problems always name a path ----------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
FIELDS = [f"{P}.mrn", f"{P}.birth_date", f"{P}.sex", f"{E}.site", f"{E}.symptom_onset", f"{E}.resolved_on",
          f"{E}.avn_risk_factors", f"{I}.date", f"{I}.time", f"{I}.edema_extent_pct", f"{I}.edema_regions",
          f"{I}.collapse", f"{S}.pain_nrs", f"{S}.weight_bearing", f"{T}.end", f"{T}.kind"]


@settings(max_examples=300, deadline=None)
@given(path=st.sampled_from(FIELDS), value=json_values)
def test_any_value_in_any_field_is_accepted_or_named(path, value):
    doc = set_path(minimal_document(), path, value)
    found = problems_of(doc)
    for problem in found:
        assert problem.startswith(path), (path, value, found)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_document_gives_problems_not_exceptions(value):
    found = problems_of(value)
    assert found  # nothing random is a valid tohtrack/1 document


from tohtrack.model import (MAX_LONG_TEXT, MAX_SHORT_TEXT, Episode, ImagingStudy, Patient, SymptomRecord,  # noqa: E402
                            Treatment, check_patient)


@pytest.mark.parametrize("make,field", [
    (lambda bad: Patient("M-1", bad, "A", dt.date(1970, 1, 1), "male"), "family_name"),
    (lambda bad: Patient("M-1", "Doe", "A", dt.date(1970, 1, 1), "male", notes=bad), "notes"),
    (lambda bad: Patient("M-1", "Doe", "A", dt.date(1970, 1, 1), "male", episodes=[
        Episode("hip_left", dt.date(2025, 1, 1), imaging=[ImagingStudy(dt.date(2025, 1, 2), "MRI", report=bad)])]),
     "episodes[0].imaging[0].report"),
    (lambda bad: Patient("M-1", "Doe", "A", dt.date(1970, 1, 1), "male", episodes=[
        Episode("hip_left", dt.date(2025, 1, 1), symptoms=[SymptomRecord(dt.date(2025, 1, 2), note=bad)])]),
     "episodes[0].symptoms[0].note"),
    (lambda bad: Patient("M-1", "Doe", "A", dt.date(1970, 1, 1), "male", episodes=[
        Episode("hip_left", dt.date(2025, 1, 1), treatments=[Treatment(dt.date(2025, 1, 2), "analgesia", detail=bad)])]),
     "episodes[0].treatments[0].detail"),
    (lambda bad: Patient("M-1", "Doe", "A", dt.date(1970, 1, 1), "male", episodes=[
        Episode("hip_left", dt.date(2025, 1, 1), notes=bad)]), "episodes[0].notes"),
])
def test_records_made_in_code_follow_the_import_text_rules(make, field):
    """A dialog or a script saving through the Store meets the same text rules as an import."""
    problems = check_patient(make("bell\x07"), today=dt.date(2026, 1, 1))
    assert [(p.path, p.message) for p in problems] == [(field, "contains a control character (U+0007) at position 5")]
    long = "x" * (MAX_LONG_TEXT + 1 if field.endswith(("notes", "report", "note", "detail")) else MAX_SHORT_TEXT + 1)
    problems = check_patient(make(long), today=dt.date(2026, 1, 1))
    assert [p.path for p in problems] == [field] and "characters long" in problems[0].message
    assert check_patient(make("fine"), today=dt.date(2026, 1, 1)) == []
