"""How records read for people: dates, ages, extents and findings in words, shared by the GUI and reports."""

from __future__ import annotations

import datetime as dt

from .model import isolate_mrn
from .model import (DIAGNOSIS_LABELS, MODALITY_LABELS, TREATMENT_LABELS, ImagingStudy, Patient, SymptomRecord,
                    Treatment)

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: Short words for positive findings, in the order a radiologist reads them.
FINDING_WORDS = {
    "t1_low_signal": "T1 low signal",
    "t2_high_signal": "T2/STIR high signal",
    "subchondral_fracture_line": "subchondral fracture line",
    "subchondral_t2_low_band": "subchondral T2 low band",
    "collapse": "collapse",
    "medial_head_sparing": "medial head sparing",
    "osteopenia": "osteopenia",
    "subchondral_cortical_loss": "subchondral cortical loss",
    "joint_effusion": "joint effusion",
    "joint_space_narrowed": "joint space narrowed",
}
WEIGHT_BEARING_WORDS = {"full": "full", "partial": "partial", "protected": "protected", "non": "non-weight-bearing"}
SEX_WORDS = {"male": "male", "female": "female", "other": "other", "unknown": "sex unknown"}
UPTAKE_WORDS = {"normal": "normal uptake", "increased_homogeneous": "increased homogeneous uptake",
                "focal": "focal uptake", "photopenic": "photopenic area"}


def date_text(day: dt.date | None) -> str:
    """'12 Feb 2026' in every locale; '—' for no date."""
    return "—" if day is None else f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def age(birth_date: dt.date, on: dt.date) -> int:
    """Whole years of age on a date."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def number_text(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    text = f"{value:g}"
    return f"{text} {unit}".strip() if unit not in ("%",) else f"{text}%"


def extent_text(study: ImagingStudy) -> str:
    """'70%', '12.5 mL', '2 regions' — or '' when the study records no extent."""
    extent = study.extent()
    if extent is None:
        return ""
    value, unit = extent
    if unit == "regions":
        n = int(value)
        return f"{n} region" + ("" if n == 1 else "s")
    return number_text(value, unit)


def findings_text(study: ImagingStudy) -> str:
    """The positive findings of a study, in words ('T1 low signal, medial head sparing')."""
    words = [word for field, word in FINDING_WORDS.items() if getattr(study, field) is True]
    if study.dce_enhancement == "early":
        words.append("early enhancement on DCE")
    elif study.dce_enhancement == "none":
        words.append("no enhancement on DCE")
    if study.scintigraphy_uptake:
        words.append(UPTAKE_WORDS.get(study.scintigraphy_uptake, study.scintigraphy_uptake))
    return ", ".join(words)


def study_title(study: ImagingStudy) -> str:
    when = date_text(study.date) + (f" {study.time}" if study.time else "")
    return f"{MODALITY_LABELS.get(study.modality, study.modality)} of {when}"


def symptom_text(record: SymptomRecord) -> str:
    parts = []
    if record.pain_nrs is not None:
        parts.append(f"pain {record.pain_nrs:g}/10")
    if record.function_score is not None:
        name = record.function_instrument or "function score"
        parts.append(f"{name} {record.function_score:g}")
    if record.weight_bearing:
        parts.append(f"{WEIGHT_BEARING_WORDS[record.weight_bearing]} weight bearing"
                     if record.weight_bearing != "non" else "non-weight-bearing")
    return ", ".join(parts) or "no scores recorded"


def treatment_text(treatment: Treatment) -> str:
    text = TREATMENT_LABELS.get(treatment.kind, treatment.kind)
    return f"{text} ({treatment.detail})" if treatment.detail else text


def diagnosis_text(code: str) -> str:
    return DIAGNOSIS_LABELS.get(code, code)


def pattern_text(pattern: str) -> str:
    return {"none": "no TOH course", "transient_osteoporosis": "transient osteoporosis",
            "regional_migratory_osteoporosis": "regional migratory osteoporosis"}.get(pattern, pattern)


def patient_line(patient: Patient, on: dt.date) -> str:
    """'MRN H-000123 · 48 years · male · born 2 Mar 1976'."""
    return (f"MRN {isolate_mrn(patient.mrn)} · {age(patient.birth_date, on)} years · {SEX_WORDS.get(patient.sex, patient.sex)}"
            f" · born {date_text(patient.birth_date)}" + (" · archived" if patient.archived else ""))
