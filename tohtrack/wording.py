"""How records read for people: dates, ages, extents and findings in words, shared by the GUI and reports."""

from __future__ import annotations

import datetime as dt

from .model import isolate_mrn
from .model import (DIAGNOSIS_LABELS, MODALITY_LABELS, TREATMENT_LABELS, ImagingStudy, Patient, SymptomRecord,
                    Treatment, region_label, site_label)

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
FULL_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                    "October", "November", "December")

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


#: Each flag code in a few words, for a column or a list where the whole message does not fit.
FLAG_TITLES = {
    "JOINT_SPACE_NARROWING": "joint space narrowed",
    "AVN_SIGNS": "signs of AVN",
    "NOT_REGRESSING": "edema not regressing",
    "FOLLOW_UP_OVERDUE": "review missed",
    "PROLONGED_COURSE": "prolonged course",
    "MIGRATION": "migration (RMO)",
    "RECURRENCE": "recurrence (RMO)",
    "AVN_RISK_FACTORS": "AVN risk factors",
    "SUBCHONDRAL_FRACTURE": "subchondral fracture",
    "MULTIFOCAL_ONSET": "multifocal onset",
    "PREGNANCY_ASSOCIATED": "pregnancy-associated",
    "LATE_RESOLUTION": "late resolution",
}


def flag_title(code: str) -> str:
    """'AVN_SIGNS' -> 'Signs of avascular necrosis'."""
    text = FLAG_TITLES.get(code, code.replace("_", " ").lower())
    return text[:1].upper() + text[1:]


def reason_text(flag, others: int = 0, lines: bool = False) -> str:
    """A flag in a few words with its episode, for the worklist's reason: 'Signs of AVN — right knee (+2 more)'
    ('+2 more': the patient's other flags); with `lines`, the title over the episode ('Signs of AVN' over
    'right knee · +2 more'). '' without a flag."""
    if flag is None:
        return ""
    name = flag.episode_name
    name = name[:1].lower() + name[1:]
    if lines:
        more = f" · +{others} more" if others > 0 else ""
        return f"{flag_title(flag.code)}\n{name}{more}" if name else flag_title(flag.code) + more
    text = f"{flag_title(flag.code)} — {name}" if name else flag_title(flag.code)
    return text + (f" (+{others} more)" if others > 0 else "")


def days_text(days: int) -> str:
    """'1 day', '17 days'; from 9 weeks on, whole months ('3 months', about 30.4 days each)."""
    if days >= 63:
        months = int(days / 30.4375)
        return f"{months} month" + ("" if months == 1 else "s")
    return f"{days} day" + ("" if days == 1 else "s")


def review_text(as_of: dt.date, next_review: dt.date | None, missed_review: dt.date | None = None,
                overdue: bool = False) -> str:
    """What the worklist says about a patient's review at as_of: 'review of 12 Feb 2026 missed, 17 days' for an
    overdue one (never a later date), 'due today', 'due 20 Feb 2026 (in 3 days)', 'due 12 Feb 2026 (2 days ago)',
    or the next review's date."""
    if overdue:
        if missed_review is None:
            return "review missed"
        return f"review of {date_text(missed_review)} missed, {days_text((as_of - missed_review).days)}"
    if next_review is None:
        return "none scheduled"
    days = (next_review - as_of).days
    if days == 0:
        return "due today"
    if abs(days) <= 14:
        when = f"in {days_text(days)}" if days > 0 else f"{days_text(-days)} ago"
        return f"due {date_text(next_review)} ({when})"
    return date_text(next_review)


def date_text(day: dt.date | None) -> str:
    """'12 Feb 2026' in every locale; '—' for no date."""
    return "—" if day is None else f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def month_text(day: dt.date) -> str:
    """'March 2024'."""
    return f"{FULL_MONTH_NAMES[day.month - 1]} {day.year}"


def episode_name(site: str, onset: dt.date, onsets_by_site: dict[str, list[dt.date]],
                 capital: bool = False) -> str:
    """An episode as a clinician names it: its site ('left hip'), and when another episode of the patient is at
    the same site, its onset too ('left hip, episode of March 2024'; the day as well when both began in the
    same month: 'left hip, episode of 3 Mar 2024'). `onsets_by_site`: the onsets of the patient's episodes."""
    name = site_label(site, capital)
    others = [day for day in onsets_by_site.get(site, ()) if day != onset]
    if not others:
        return name
    same_month = any((day.year, day.month) == (onset.year, onset.month) for day in others)
    return f"{name}, episode of {date_text(onset) if same_month else month_text(onset)}"


def onsets_by_site(episodes) -> dict[str, list[dt.date]]:
    """The onsets of these episodes per site (for episode_name)."""
    found: dict[str, list[dt.date]] = {}
    for e in episodes:
        found.setdefault(e.site, []).append(e.symptom_onset)
    return found


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


def regions_text(codes) -> str:
    """Edema region codes in words: 'femoral head, femoral neck'."""
    return ", ".join(region_label(code) for code in codes)


def findings_summary(study: ImagingStudy) -> str:
    """What a study's findings say, telling 'not assessed' (null) from 'assessed, absent' (false): the positive
    findings, then 'assessed absent: …'; 'no findings assessed' when the study assessed none of them (which is
    not a negative study)."""
    positive = findings_text(study)
    absent = [word for field, word in FINDING_WORDS.items() if getattr(study, field) is False]
    parts = [positive] if positive else []
    if absent:
        parts.append("assessed absent: " + ", ".join(absent))
    return "; ".join(parts) or "no findings assessed"


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
