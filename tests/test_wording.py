"""Records in words, as the GUI and reports show them."""

import datetime as dt

from tohtrack import wording
from tohtrack.model import ImagingStudy, Patient, SymptomRecord, Treatment

DAY = dt.date(2025, 2, 1)


def test_dates_and_ages():
    assert wording.date_text(dt.date(2026, 2, 12)) == "12 Feb 2026"
    assert wording.date_text(None) == "—"
    assert wording.age(dt.date(1976, 3, 2), dt.date(2026, 3, 1)) == 49
    assert wording.age(dt.date(1976, 3, 2), dt.date(2026, 3, 2)) == 50
    assert wording.age(dt.date(2000, 2, 29), dt.date(2025, 2, 28)) == 24


def test_extent_in_words():
    assert wording.extent_text(ImagingStudy(date=DAY, modality="MRI", edema_extent_pct=62.5)) == "62.5%"
    assert wording.extent_text(ImagingStudy(date=DAY, modality="MRI", edema_volume_ml=12)) == "12 mL"
    assert wording.extent_text(ImagingStudy(date=DAY, modality="MRI", edema_regions=["head"])) == "1 region"
    assert wording.extent_text(ImagingStudy(date=DAY, modality="XR")) == ""


def test_positive_findings_only():
    study = ImagingStudy(date=DAY, modality="MRI", t1_low_signal=True, t2_high_signal=False, collapse=None,
                         dce_enhancement="none", scintigraphy_uptake="photopenic")
    assert wording.findings_text(study) == "T1 low signal, no enhancement on DCE, photopenic area"


def test_symptoms_treatments_and_patient_line():
    record = SymptomRecord(date=DAY, pain_nrs=6, function_score=55, function_instrument="Harris Hip Score",
                           weight_bearing="non")
    assert wording.symptom_text(record) == "pain 6/10, Harris Hip Score 55, non-weight-bearing"
    assert wording.symptom_text(SymptomRecord(date=DAY)) == "no scores recorded"
    assert wording.treatment_text(Treatment(start=DAY, kind="bisphosphonate", detail="zoledronate 5 mg")) == \
        "bisphosphonate (zoledronate 5 mg)"
    patient = Patient(mrn="H-1", family_name="Rossi", given_name="Marco", birth_date=dt.date(1976, 3, 2), sex="male")
    assert wording.patient_line(patient, dt.date(2026, 3, 1)) == "MRN \u2066H-1\u2069 · 49 years · male · born 2 Mar 1976"
