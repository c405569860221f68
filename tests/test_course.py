"""The course assessment (docs/course-rules.md): every flag on both sides of its edges, and the output."""

import dataclasses
import datetime as dt
import json

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import assume, given, settings as hypothesis_settings
from hypothesis import strategies as st

from tohtrack import course
from tohtrack.course import FLAG_CODES, PATTERNS, add_months, add_offset, assessment_json, months_since_onset
from tohtrack.model import (AVN_RISK_FACTORS, DIAGNOSES, MODALITIES, TOH, Episode, ImagingStudy, Patient,
                            SymptomRecord, check_patient, load_document)
from tohtrack.settings import Settings

AS_OF_VIGNETTES = dt.date(2026, 3, 1)


# ---------------------------------------------------------------------------
# Building histories
# ---------------------------------------------------------------------------


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def episode(site="hip_left", onset="2025-01-10", resolved=None, *, studies=(), visits=(), **fields) -> Episode:
    return Episode(site, d(onset), d(resolved) if resolved else None, imaging=list(studies),
                   symptoms=list(visits), **fields)


def study(date, modality="MRI", *, pct=None, time=None, **findings) -> ImagingStudy:
    return ImagingStudy(d(date), modality, time=time, edema_extent_pct=pct, **findings)


def visit(date, pain=5) -> SymptomRecord:
    return SymptomRecord(d(date), pain_nrs=pain)


def patient(*episodes, mrn="T-1", archived=False) -> Patient:
    return Patient(mrn, "Rossi", "Marco", d("1960-01-01"), "male", archived, episodes=list(episodes))


def assess(*episodes, as_of, settings=Settings()):
    return course.assess(patient(*episodes), d(as_of), settings)


def codes(*episodes, as_of, settings=Settings()) -> list[str]:
    return [f.code for f in assess(*episodes, as_of=as_of, settings=settings).flags]


def flag(code, *episodes, as_of, settings=Settings()):
    """The one flag with this code, or None."""
    found = [f for f in assess(*episodes, as_of=as_of, settings=settings).flags if f.code == code]
    assert len(found) <= 1
    return found[0] if found else None


# ---------------------------------------------------------------------------
# Calendar arithmetic
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("day, months, expected", [
    ("2025-01-31", 1, "2025-02-28"),
    ("2024-01-31", 1, "2024-02-29"),
    ("2024-11-30", 3, "2025-02-28"),
    ("2023-11-30", 3, "2024-02-29"),
    ("2025-08-31", 1, "2025-09-30"),
    ("2025-01-31", 2, "2025-03-31"),
    ("2025-12-15", 1, "2026-01-15"),
    ("2025-03-31", -1, "2025-02-28"),
    ("2025-01-10", 0, "2025-01-10"),
    ("2025-10-31", 2, "2025-12-31"),
    ("9999-11-30", 1, "9999-12-30"),
    ("9999-10-31", 2, "9999-12-31"),
])
def test_add_months(day, months, expected):
    assert add_months(d(day), months) == d(expected)


@given(st.dates(), st.integers(-240, 240))
def test_add_months_is_relativedelta(day, months):
    """The whole range of dates, up to December 9999 (a month's end clipped as relativedelta does)."""
    try:
        expected = day + relativedelta(months=months)
    except (ValueError, OverflowError):  # before year 1 or after 9999
        assume(False)
    assert add_months(day, months) == expected


def test_add_offset():
    assert add_offset(d("2025-01-10"), (6, "w")) == d("2025-02-21")
    assert add_offset(d("2025-01-31"), (1, "m")) == d("2025-02-28")
    assert add_offset(d("2024-11-30"), (3, "m")) == d("2025-02-28")


@pytest.mark.parametrize("onset, as_of, months", [
    ("2025-01-10", "2025-01-10", 0.0),
    ("2025-01-10", "2025-07-10", 6.0),
    ("2025-01-10", "2025-02-24", 1 + 14 / 28),
    ("2025-01-31", "2025-02-28", 1.0),
    ("2025-01-31", "2025-02-27", 27 / 28),
    ("2024-06-30", "2025-02-28", 8.0),
])
def test_months_since_onset(onset, as_of, months):
    assert months_since_onset(d(onset), d(as_of)) == pytest.approx(months)


@given(st.dates(dt.date(1950, 1, 1), dt.date(2100, 1, 1)), st.integers(0, 240), st.integers(0, 27))
def test_months_since_onset_counts_calendar_months(onset, months, days):
    start = add_months(onset, months)
    assert months_since_onset(onset, start) == months
    assert months <= months_since_onset(onset, start + dt.timedelta(days=days)) < months + 1


# ---------------------------------------------------------------------------
# PROLONGED_COURSE and LATE_RESOLUTION (onset 10 Jan 2025 + 8 months = 10 Sep 2025)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("as_of, raised", [("2025-09-09", False), ("2025-09-10", False), ("2025-09-11", True)])
def test_prolonged_course_after_onset_plus_w2(as_of, raised):
    assert ("PROLONGED_COURSE" in codes(episode(), as_of=as_of)) is raised


@pytest.mark.parametrize("onset, as_of, raised", [
    ("2025-01-31", "2025-09-30", False),
    ("2025-01-31", "2025-10-01", True),
    ("2024-06-30", "2025-02-28", False),
    ("2024-06-30", "2025-03-01", True),
])
def test_prolonged_course_at_month_ends(onset, as_of, raised):
    assert ("PROLONGED_COURSE" in codes(episode(onset=onset), as_of=as_of)) is raised


def test_prolonged_course_message_and_severity():
    found = flag("PROLONGED_COURSE", episode(), as_of="2025-10-10")
    assert found.message == "Left hip: still active 9 months after onset, beyond the expected 6–8 months"
    assert found.severity == "warning"
    assert (found.site, found.symptom_onset) == ("hip_left", d("2025-01-10"))


def test_prolonged_course_not_for_a_resolved_episode():
    assert "PROLONGED_COURSE" not in codes(episode(resolved="2025-08-01"), as_of="2025-12-01")


def test_prolonged_course_when_resolved_after_as_of():
    assert "PROLONGED_COURSE" in codes(episode(resolved="2025-12-01"), as_of="2025-11-01")


def test_prolonged_course_follows_the_window_setting():
    wide = Settings(resolution_window_months=(6, 12))
    assert "PROLONGED_COURSE" not in codes(episode(), as_of="2025-10-10", settings=wide)
    assert "PROLONGED_COURSE" in codes(episode(), as_of="2026-01-11", settings=wide)


@pytest.mark.parametrize("resolved, raised", [("2025-09-09", False), ("2025-09-10", False), ("2025-09-11", True)])
def test_late_resolution_after_onset_plus_w2(resolved, raised):
    assert ("LATE_RESOLUTION" in codes(episode(resolved=resolved), as_of="2026-01-01")) is raised


def test_late_resolution_message_and_severity():
    found = flag("LATE_RESOLUTION", episode(resolved="2025-11-20"), as_of="2026-01-01")
    assert found.message == "Left hip: resolved 10 months after onset, later than the expected 6–8 months"
    assert found.severity == "info"


def test_late_resolution_not_before_resolved_on_is_reached():
    history = episode(resolved="2025-11-20")
    assert "LATE_RESOLUTION" not in codes(history, as_of="2025-11-19")
    assert "LATE_RESOLUTION" in codes(history, as_of="2025-11-20")


# ---------------------------------------------------------------------------
# RECURRENCE: same site
# ---------------------------------------------------------------------------


def test_recurrence_at_the_same_site():
    history = [episode(onset="2023-02-01", resolved="2023-08-01"), episode(onset="2024-02-01")]
    a = assess(*history, as_of="2024-03-01")
    assert [(f.code, f.symptom_onset) for f in a.flags] == [("RECURRENCE", d("2024-02-01"))]
    assert a.pattern == "regional_migratory_osteoporosis"
    assert a.flags[0].message == ("Left hip, episode of February 2024: new episode 6 months after the previous "
                                  "left hip episode resolved "
                                  "— recurrence")


def test_recurrence_the_day_after_resolution():
    history = [episode(onset="2023-02-01", resolved="2023-08-01"), episode(onset="2023-08-02")]
    assert codes(*history, as_of="2023-08-10") == ["RECURRENCE"]


def test_no_recurrence_when_the_earlier_episode_is_not_toh():
    history = [episode(onset="2023-02-01", resolved="2023-08-01", diagnosis="stress_fracture"),
               episode(onset="2024-02-01")]
    a = assess(*history, as_of="2024-03-01")
    assert a.flags == [] and a.pattern == "transient_osteoporosis"


def test_no_recurrence_when_the_later_episode_is_not_toh():
    history = [episode(onset="2023-02-01", resolved="2023-08-01"),
               episode(onset="2024-02-01", diagnosis="avascular_necrosis")]
    a = assess(*history, as_of="2024-03-01")
    assert a.flags == [] and a.pattern == "transient_osteoporosis"


def test_no_recurrence_before_the_later_onset():
    history = [episode(onset="2023-02-01", resolved="2023-08-01"), episode(onset="2024-02-01")]
    a = assess(*history, as_of="2024-01-31")
    assert [e.symptom_onset for e in a.episodes] == [d("2023-02-01")]
    assert a.pattern == "transient_osteoporosis"


def test_no_recurrence_when_the_earlier_episode_never_resolved():
    history = [episode(onset="2023-02-01"), episode(onset="2024-02-01")]
    assert not {"RECURRENCE", "MIGRATION"} & set(codes(*history, as_of="2024-03-01"))


# ---------------------------------------------------------------------------
# MIGRATION: another site
# ---------------------------------------------------------------------------


def test_migration_to_the_other_side():
    history = [episode("hip_left", "2024-09-01", "2025-03-20"), episode("hip_right", "2025-06-12")]
    found = flag("MIGRATION", *history, as_of="2025-07-01")
    assert (found.site, found.from_site, found.concurrent) == ("hip_right", "hip_left", False)
    assert found.message == ("Right hip: new episode 2 months after the left hip resolved "
                             "— regional migratory osteoporosis")
    assert found.severity == "warning"


@pytest.mark.parametrize("resolved, concurrent", [
    (None, True),
    ("2025-06-12", True),
    ("2025-06-11", False),
])
def test_migration_concurrent(resolved, concurrent):
    history = [episode("hip_left", "2024-09-01", resolved), episode("hip_right", "2025-06-12")]
    assert flag("MIGRATION", *history, as_of="2025-07-01").concurrent is concurrent


def test_migration_concurrent_when_resolved_after_as_of():
    history = [episode("hip_left", "2024-09-01", "2025-05-01"), episode("hip_right", "2025-03-01")]
    a = assess(*history, as_of="2025-04-01")
    found = [f for f in a.flags if f.code == "MIGRATION"][0]
    assert found.concurrent is True
    assert "which was still active" in found.message
    assert a.episodes[0].status == "active"


def test_migration_from_the_latest_earlier_onset():
    history = [episode("knee_left", "2022-01-01", "2022-07-01"), episode("hip_left", "2023-01-01", "2023-07-01"),
               episode("hip_right", "2024-01-01")]
    found = {f.site: f.from_site for f in assess(*history, as_of="2024-02-01").flags if f.code == "MIGRATION"}
    assert found == {"hip_left": "knee_left", "hip_right": "hip_left"}


def test_migration_from_site_ties_go_to_the_alphabetically_first_site():
    history = [episode("hip_left", "2023-01-01", "2023-07-01"), episode("ankle_right", "2023-01-01", "2023-07-01"),
               episode("knee_right", "2024-01-01")]
    found = [f for f in assess(*history, as_of="2024-02-01").flags if f.code == "MIGRATION"]
    assert [(f.site, f.from_site) for f in found] == [("knee_right", "ankle_right")]


def test_no_migration_for_same_day_onsets():
    history = [episode("hip_left", "2025-01-10"), episode("hip_right", "2025-01-10")]
    assert "MIGRATION" not in codes(*history, as_of="2025-02-01")


def test_no_migration_from_a_revised_diagnosis():
    history = [episode("hip_left", "2024-01-01", "2024-05-01", diagnosis="crps"), episode("hip_right", "2025-01-10")]
    a = assess(*history, as_of="2025-02-01")
    assert a.flags == [] and a.pattern == "transient_osteoporosis"


def test_migration_skips_a_revised_diagnosis_for_from_site():
    history = [episode("knee_left", "2022-01-01", "2022-07-01"),
               episode("hip_left", "2023-01-01", "2023-07-01", diagnosis="avascular_necrosis"),
               episode("hip_right", "2024-01-01")]
    assert flag("MIGRATION", *history, as_of="2024-02-01").from_site == "knee_left"


def test_recurrence_and_migration_together():
    history = [episode("hip_left", "2022-01-01", "2022-07-01"), episode("hip_right", "2023-01-01", "2023-07-01"),
               episode("hip_left", "2024-01-01")]
    a = assess(*history, as_of="2024-02-01")
    assert [(f.code, f.site, f.symptom_onset, f.from_site) for f in a.flags] == [
        ("MIGRATION", "hip_right", d("2023-01-01"), "hip_left"),
        ("MIGRATION", "hip_left", d("2024-01-01"), "hip_right"),
        ("RECURRENCE", "hip_left", d("2024-01-01"), None),
    ]


# ---------------------------------------------------------------------------
# MULTIFOCAL_ONSET
# ---------------------------------------------------------------------------


def test_multifocal_onset_flags_each_site():
    a = assess(episode("hip_right", "2025-01-10"), episode("hip_left", "2025-01-10"), as_of="2025-02-01")
    found = [f for f in a.flags if f.code == "MULTIFOCAL_ONSET"]
    assert [f.site for f in found] == ["hip_left", "hip_right"]
    assert found[0].message == "Left hip: onset on the same day as the right hip — multifocal onset"
    assert found[0].severity == "info"
    assert a.pattern == "transient_osteoporosis"


def test_multifocal_onset_names_every_other_site():
    history = [episode(site, "2025-01-10") for site in ("hip_left", "hip_right", "knee_left")]
    found = assess(*history, as_of="2025-02-01").flags[0]
    assert found.message == "Left hip: onset on the same day as the right hip and left knee — multifocal onset"


def test_no_multifocal_onset_a_day_apart():
    history = [episode("hip_left", "2025-01-10"), episode("hip_right", "2025-01-11")]
    assert "MULTIFOCAL_ONSET" not in codes(*history, as_of="2025-02-01")


def test_no_multifocal_onset_with_a_revised_diagnosis():
    history = [episode("hip_left", "2025-01-10"), episode("hip_right", "2025-01-10", diagnosis="septic_arthritis")]
    assert codes(*history, as_of="2025-02-01") == []


# ---------------------------------------------------------------------------
# Findings: AVN_SIGNS, JOINT_SPACE_NARROWING, SUBCHONDRAL_FRACTURE
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("modality, findings, wording", [
    ("MRI", {"subchondral_t2_low_band": True}, "MRI of 1 Feb 2025 shows a subchondral low-signal band on T2"),
    ("MRI", {"collapse": True}, "MRI of 1 Feb 2025 shows collapse"),
    ("MRI", {"dce_enhancement": "none"}, "MRI of 1 Feb 2025 shows no enhancement on dynamic contrast MRI"),
    ("NM", {"scintigraphy_uptake": "photopenic"}, "bone scintigraphy of 1 Feb 2025 shows a photopenic area"),
    ("MRI", {"subchondral_t2_low_band": True, "collapse": True},
     "MRI of 1 Feb 2025 shows a subchondral low-signal band on T2 and collapse"),
])
def test_avn_signs(modality, findings, wording):
    finding = study("2025-02-01", modality, **findings)
    found = flag("AVN_SIGNS", episode(studies=[finding]), as_of="2025-03-01")
    assert found.message == f"Left hip: {wording} — consider avascular necrosis"
    assert found.finding is finding
    assert found.severity == "warning"


@pytest.mark.parametrize("findings", [
    {"subchondral_t2_low_band": False, "collapse": False},
    {"dce_enhancement": "early"},
    {"scintigraphy_uptake": "increased_homogeneous"},
    {},
])
def test_no_avn_signs(findings):
    assert codes(episode(studies=[study("2025-02-01", **findings)]), as_of="2025-03-01") == []


def test_avn_signs_point_at_the_first_such_study_by_date():
    later, earlier = study("2025-03-01", collapse=True), study("2025-02-01", subchondral_t2_low_band=True)
    assert flag("AVN_SIGNS", episode(studies=[later, earlier]), as_of="2025-04-01").finding is earlier


def test_same_day_studies_are_ordered_by_time():
    afternoon = study("2025-02-01", time="14:00", collapse=True)
    morning = study("2025-02-01", time="08:00", collapse=True)
    assert flag("AVN_SIGNS", episode(studies=[afternoon, morning]), as_of="2025-04-01").finding is morning


def test_same_day_untimed_studies_keep_the_order_recorded():
    first, second = study("2025-02-01", collapse=True), study("2025-02-01", "NM", scintigraphy_uptake="photopenic")
    assert flag("AVN_SIGNS", episode(studies=[first, second]), as_of="2025-04-01").finding is first
    assert flag("AVN_SIGNS", episode(studies=[second, first]), as_of="2025-04-01").finding is second


def test_studies_after_as_of_are_ignored():
    history = episode(studies=[study("2025-03-02", collapse=True, joint_space_narrowed=True,
                                     subchondral_fracture_line=True)])
    assert codes(history, as_of="2025-03-01") == []
    assert codes(history, as_of="2025-03-02") == ["AVN_SIGNS", "JOINT_SPACE_NARROWING", "SUBCHONDRAL_FRACTURE"]


def test_avn_risk_factors():
    found = flag("AVN_RISK_FACTORS", episode(avn_risk_factors=["corticosteroids", "sle"]), as_of="2025-02-01")
    assert found.message == ("Left hip: risk factors for avascular necrosis recorded (corticosteroids, SLE) "
                             "— watch for AVN")
    assert found.severity == "info"
    assert codes(episode(avn_risk_factors=[]), as_of="2025-02-01") == []


@pytest.mark.parametrize("narrowed, raised", [(True, True), (False, False), (None, False)])
def test_joint_space_narrowing(narrowed, raised):
    xr = study("2025-02-01", "XR", joint_space_narrowed=narrowed)
    found = flag("JOINT_SPACE_NARROWING", episode(studies=[xr]), as_of="2025-03-01")
    assert (found is not None) is raised
    if raised:
        assert found.finding is xr and found.severity == "warning"
        assert found.message.startswith("Left hip: radiograph of 1 Feb 2025 shows joint space narrowing — ")
        assert "septic arthritis" in found.message and "tuberculous arthropathy" in found.message


@pytest.mark.parametrize("line, raised", [(True, True), (False, False), (None, False)])
def test_subchondral_fracture(line, raised):
    first = study("2025-02-01", subchondral_fracture_line=line)
    second = study("2025-02-20", subchondral_fracture_line=True)
    found = flag("SUBCHONDRAL_FRACTURE", episode(studies=[first]), as_of="2025-03-01")
    assert (found is not None) is raised
    assert flag("SUBCHONDRAL_FRACTURE", episode(studies=[second, first]), as_of="2025-03-01").finding \
        is (first if raised else second)
    if raised:
        assert found.severity == "info"
        assert found.message.startswith("Left hip: MRI of 1 Feb 2025 shows a subchondral fracture line — review")


# ---------------------------------------------------------------------------
# NOT_REGRESSING (onset 10 Jan 2025 + 4 months = 10 May 2025)
# ---------------------------------------------------------------------------


def regressing(*mris, resolved=None, as_of="2025-06-01"):
    return flag("NOT_REGRESSING", episode(resolved=resolved, studies=list(mris)), as_of=as_of)


@pytest.mark.parametrize("latest_pct, raised", [(50, True), (60, True), (49, False), (49.9, False)])
def test_not_regressing_when_extent_is_not_smaller(latest_pct, raised):
    latest = study("2025-05-10", pct=latest_pct)
    found = regressing(study("2025-01-20", pct=50), latest)
    assert (found is not None) is raised
    if raised:
        assert found.finding is latest and found.severity == "warning"


@pytest.mark.parametrize("latest_date, raised", [("2025-05-09", False), ("2025-05-10", True), ("2025-05-11", True)])
def test_not_regressing_from_four_months(latest_date, raised):
    assert (regressing(study("2025-01-20", pct=50), study(latest_date, pct=60)) is not None) is raised


@pytest.mark.parametrize("latest_date, raised", [("2025-02-27", False), ("2025-02-28", True)])
def test_not_regressing_four_months_from_a_month_end(latest_date, raised):
    mris = [study("2024-11-05", pct=50), study(latest_date, pct=50)]
    assert ("NOT_REGRESSING" in codes(episode(onset="2024-10-31", studies=mris), as_of="2025-03-01")) is raised


def test_not_regressing_message():
    found = regressing(study("2025-01-20", pct=55), study("2025-05-20", pct=57.5))
    assert found.message == ("Left hip: edema not regressing — MRI of 20 May 2025 shows 57.5%, "
                             "against 55% on 20 Jan 2025")


def test_not_regressing_needs_two_mris_with_a_percentage():
    assert regressing(study("2025-05-20", pct=50)) is None
    volume_only = ImagingStudy(d("2025-05-20"), "MRI", edema_volume_ml=80.0, edema_regions=["head"])
    assert regressing(study("2025-01-20", pct=50), volume_only) is None
    assert regressing(study("2025-01-20", pct=50), study("2025-05-20", "CT", pct=60)) is None


def test_not_regressing_compares_the_earliest_and_latest_by_date():
    assert regressing(study("2025-05-20", pct=60), study("2025-01-20", pct=50)) is not None
    assert regressing(study("2025-05-20", pct=40), study("2025-01-20", pct=50)) is None
    assert regressing(study("2025-01-20", pct=50), study("2025-03-01", pct=20), study("2025-05-20", pct=50))


def test_not_regressing_same_day_mris_by_time():
    first = study("2025-01-20", pct=50)
    assert regressing(first, study("2025-05-20", pct=45, time="16:00"), study("2025-05-20", pct=55, time="08:00")) \
        is None
    late = study("2025-05-20", pct=55, time="16:00")
    assert regressing(first, late, study("2025-05-20", pct=45, time="08:00")).finding is late


def test_not_regressing_ignores_mris_after_as_of():
    mris = [study("2025-01-20", pct=50), study("2025-05-15", pct=40), study("2025-06-15", pct=70)]
    assert regressing(*mris, as_of="2025-06-14") is None
    assert regressing(*mris, as_of="2025-06-15") is not None


def test_not_regressing_only_while_active():
    mris = [study("2025-01-20", pct=50), study("2025-05-20", pct=50)]
    assert regressing(*mris, resolved="2025-05-30") is None
    assert regressing(*mris, resolved="2025-06-02") is not None


# ---------------------------------------------------------------------------
# Reviews: next_review, due, FOLLOW_UP_OVERDUE
# (onset 10 Jan 2025: 6w = 21 Feb, 3m = 10 Apr, 6m = 10 Jul, 8m = 10 Sep 2025)
# ---------------------------------------------------------------------------


def test_review_14_days_past_is_still_next():
    a = assess(episode(), as_of="2025-03-07")
    assert a.next_review == d("2025-02-21")
    assert a.due and not a.overdue and a.flags == []


def test_review_15_days_past_is_missed():
    a = assess(episode(), as_of="2025-03-08")
    assert [(f.code, f.review_date) for f in a.flags] == [("FOLLOW_UP_OVERDUE", d("2025-02-21"))]
    assert a.overdue and not a.due
    assert a.next_review == d("2025-04-10")
    assert a.flags[0].message == "Left hip: review due 21 Feb 2025 was missed (no contact recorded)"
    assert a.flags[0].severity == "warning"


@pytest.mark.parametrize("as_of, due", [("2025-03-26", False), ("2025-03-27", True), ("2025-04-10", True),
                                         ("2025-04-24", True)])
def test_due_within_14_days_of_the_next_review(as_of, due):
    a = assess(episode(visits=[visit("2025-02-21")]), as_of=as_of)
    assert a.next_review == d("2025-04-10")
    assert a.due is due and not a.overdue


def contacted(contact) -> Episode:
    """The default episode with one contact, a symptom record or a study."""
    if isinstance(contact, SymptomRecord):
        return episode(visits=[contact])
    return episode(studies=[contact])


@pytest.mark.parametrize("contact", [visit("2025-02-07"), study("2025-02-07", "XR")])
def test_contact_14_days_before_the_review_counts(contact):
    assert codes(contacted(contact), as_of="2025-03-08") == []


@pytest.mark.parametrize("contact", [visit("2025-02-06"), study("2025-02-06", "XR")])
def test_contact_15_days_before_the_review_does_not(contact):
    found = flag("FOLLOW_UP_OVERDUE", contacted(contact), as_of="2025-03-08")
    assert found.message == "Left hip: review due 21 Feb 2025 was missed (no contact since 6 Feb 2025)"


def test_contact_after_as_of_does_not_count():
    assert "FOLLOW_UP_OVERDUE" in codes(episode(visits=[visit("2025-03-09")]), as_of="2025-03-08")


def test_contact_at_another_episode_does_not_count():
    history = [episode("hip_left"), episode("hip_right", "2024-01-01", "2024-06-01", visits=[visit("2025-02-25")])]
    assert "FOLLOW_UP_OVERDUE" in codes(*history, as_of="2025-03-08")


def test_patient_seen_late_is_no_longer_overdue():
    assert codes(episode(visits=[visit("2025-03-20")]), as_of="2025-03-25") == []


@pytest.mark.parametrize("last_visit, overdue", [("2025-08-27", False), ("2025-08-26", True)])
def test_only_the_latest_passed_review_counts(last_visit, overdue):
    found = flag("FOLLOW_UP_OVERDUE", episode(visits=[visit(last_visit)]), as_of="2025-09-25")
    assert (found is not None) is overdue
    if overdue:
        assert found.review_date == d("2025-09-10")


@pytest.mark.parametrize("as_of, next_review", [("2025-09-24", "2025-09-10"), ("2025-09-25", None)])
def test_no_next_review_when_the_schedule_is_over(as_of, next_review):
    a = assess(episode(), as_of=as_of)
    assert a.next_review == (d(next_review) if next_review else None)
    assert a.episodes[0].next_review == a.next_review


def test_no_reviews_for_a_resolved_episode():
    a = assess(episode(resolved="2025-02-01"), as_of="2025-04-01")
    assert a.next_review is None and not a.due and not a.overdue


def test_reviews_while_resolved_on_is_after_as_of():
    a = assess(episode(resolved="2025-05-01"), as_of="2025-04-01")
    assert a.next_review == d("2025-04-10") and a.overdue


@pytest.mark.parametrize("onset, seen, as_of, overdue, next_review", [
    ("2024-11-30", "2025-01-11", "2025-03-14", None, "2025-02-28"),
    ("2024-11-30", "2025-01-11", "2025-03-15", "2025-02-28", "2025-05-30"),
    ("2023-11-30", "2024-01-11", "2024-03-14", None, "2024-02-29"),
    ("2023-11-30", "2024-01-11", "2024-03-15", "2024-02-29", "2024-05-30"),
])
def test_reviews_at_month_ends(onset, seen, as_of, overdue, next_review):
    a = assess(episode(onset=onset, visits=[visit(seen)]), as_of=as_of)
    assert [f.review_date for f in a.flags if f.code == "FOLLOW_UP_OVERDUE"] == ([d(overdue)] if overdue else [])
    assert a.next_review == d(next_review)


def test_review_one_month_from_31_january():
    monthly = Settings(review_schedule=((1, "m"), (2, "m")))
    assert assess(episode(onset="2025-01-31"), as_of="2025-02-01", settings=monthly).next_review == d("2025-02-28")


def test_review_schedule_setting():
    fortnightly = Settings(review_schedule=((2, "w"), (4, "w")))
    a = assess(episode(), as_of="2025-02-21", settings=fortnightly)
    assert a.next_review == d("2025-02-07")
    assert [f.review_date for f in a.flags] == [d("2025-01-24")]


def test_patient_next_review_is_the_earliest():
    a = assess(episode("hip_left", "2025-01-10", visits=[visit("2025-02-21")]), episode("knee_left", "2025-02-01"),
               as_of="2025-03-10")
    assert [e.next_review for e in a.episodes] == [d("2025-04-10"), d("2025-03-15")]
    assert a.next_review == d("2025-03-15") and a.due


# ---------------------------------------------------------------------------
# PREGNANCY_ASSOCIATED
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("state, wording", [
    ("trimester_3", "onset in the third trimester of pregnancy"),
    ("trimester_1", "onset in the first trimester of pregnancy"),
    ("postpartum", "onset postpartum"),
])
def test_pregnancy_associated(state, wording):
    found = flag("PREGNANCY_ASSOCIATED", episode(pregnancy=state), as_of="2025-02-01")
    assert found.message == f"Left hip: {wording} — pregnancy-associated transient osteoporosis"
    assert found.severity == "info"


def test_no_pregnancy_flag_without_a_pregnancy_state():
    assert codes(episode(pregnancy=None), as_of="2025-02-01") == []


# ---------------------------------------------------------------------------
# Data after as_of, revised diagnoses, archived patients
# ---------------------------------------------------------------------------


def test_episodes_after_as_of_are_left_out():
    a = assess(episode("hip_left", "2025-01-10"), episode("hip_right", "2025-02-02"), as_of="2025-02-01")
    assert [e.site for e in a.episodes] == ["hip_left"]
    assert a.flags == []


def test_an_episode_starting_on_as_of_is_included():
    assert len(assess(episode(onset="2025-02-01"), as_of="2025-02-01").episodes) == 1


def test_resolved_on_after_as_of_shows_active():
    [e] = assess(episode(resolved="2025-06-01"), as_of="2025-05-31").episodes
    assert (e.status, e.resolved_on) == ("active", None)
    [e] = assess(episode(resolved="2025-06-01"), as_of="2025-06-01").episodes
    assert (e.status, e.resolved_on) == ("resolved", d("2025-06-01"))


def test_revised_diagnosis_raises_nothing():
    everything = study("2025-02-01", collapse=True, joint_space_narrowed=True, subchondral_fracture_line=True)
    history = episode(diagnosis="septic_arthritis", pregnancy="trimester_3", avn_risk_factors=["alcohol"],
                      studies=[everything, study("2025-06-01", pct=90), study("2025-01-20", pct=10)])
    a = assess(history, as_of="2026-01-01")
    assert a.flags == [] and a.pattern == "none"
    [e] = a.episodes
    assert (e.diagnosis, e.status, e.expected_resolution, e.next_review) == ("septic_arthritis", "active", None, None)


def test_archived_patient_is_assessed_the_same():
    history = [episode("hip_left", "2024-01-01", "2024-07-01"), episode("hip_right", "2025-01-10")]
    day = d("2025-06-01")
    assert course.assess(patient(*history, archived=True), day) == course.assess(patient(*history), day)


# ---------------------------------------------------------------------------
# Pattern, order, urgency
# ---------------------------------------------------------------------------


def test_patterns():
    assert PATTERNS == ("none", "transient_osteoporosis", "regional_migratory_osteoporosis")
    assert assess(as_of="2025-01-01").pattern == "none"
    assert assess(episode(diagnosis="crps"), as_of="2025-02-01").pattern == "none"
    assert assess(episode(), as_of="2025-02-01").pattern == "transient_osteoporosis"


def test_episodes_by_onset_then_site():
    history = [episode("knee_left", "2025-01-10"), episode("hip_right", "2025-01-10"),
               episode("ankle_left", "2024-01-01", "2024-06-01")]
    a = assess(*history, as_of="2025-02-01")
    assert [(e.symptom_onset, e.site) for e in a.episodes] == [
        (d("2024-01-01"), "ankle_left"), (d("2025-01-10"), "hip_right"), (d("2025-01-10"), "knee_left")]


def test_flags_by_onset_then_site_then_code():
    history = [episode("knee_left", "2025-01-10", pregnancy="postpartum"),
               episode("hip_right", "2025-01-10", avn_risk_factors=["alcohol"]),
               episode("ankle_left", "2024-01-01", "2024-10-01")]
    a = assess(*history, as_of="2025-02-01")
    assert [(f.site, f.code) for f in a.flags] == [
        ("ankle_left", "LATE_RESOLUTION"),
        ("hip_right", "AVN_RISK_FACTORS"), ("hip_right", "MIGRATION"), ("hip_right", "MULTIFOCAL_ONSET"),
        ("knee_left", "MIGRATION"), ("knee_left", "MULTIFOCAL_ONSET"), ("knee_left", "PREGNANCY_ASSOCIATED"),
    ]


def test_flag_codes_and_severities_in_table_order():
    # Clinical order: by what changes management first; every warning before every info.
    assert list(FLAG_CODES.items()) == [
        ("JOINT_SPACE_NARROWING", "warning"), ("AVN_SIGNS", "warning"), ("NOT_REGRESSING", "warning"),
        ("FOLLOW_UP_OVERDUE", "warning"), ("PROLONGED_COURSE", "warning"), ("MIGRATION", "warning"),
        ("RECURRENCE", "warning"), ("AVN_RISK_FACTORS", "info"), ("SUBCHONDRAL_FRACTURE", "info"),
        ("MULTIFOCAL_ONSET", "info"), ("PREGNANCY_ASSOCIATED", "info"), ("LATE_RESOLUTION", "info"),
    ]


def test_most_urgent_warnings_before_infos_then_table_order():
    history = episode(pregnancy="trimester_3", studies=[study("2025-01-20", collapse=True)])
    a = assess(history, as_of="2025-04-01")
    assert [f.code for f in a.flags] == ["AVN_SIGNS", "FOLLOW_UP_OVERDUE", "PREGNANCY_ASSOCIATED"]
    assert a.most_urgent.code == "AVN_SIGNS"
    late = episode("hip_right", "2023-01-01", "2023-12-01")
    mixed = assess(late, episode(pregnancy="postpartum", avn_risk_factors=["hiv"], visits=[visit("2025-02-21")]),
                   as_of="2025-03-01")
    assert [f.code for f in mixed.flags] == ["LATE_RESOLUTION", "AVN_RISK_FACTORS", "MIGRATION",
                                             "PREGNANCY_ASSOCIATED"]
    assert mixed.most_urgent.code == "MIGRATION"
    assert assess(episode(resolved="2025-05-01"), as_of="2025-06-01").most_urgent is None


def test_most_urgent_among_infos_follows_the_table():
    a = assess(episode(pregnancy="postpartum", avn_risk_factors=["hiv"]), as_of="2025-01-20")
    assert a.most_urgent.code == "AVN_RISK_FACTORS"


# ---------------------------------------------------------------------------
# The six vignettes at 1 March 2026
# ---------------------------------------------------------------------------


def vignette_assessments(vignettes) -> list:
    return [course.assess(p, AS_OF_VIGNETTES) for p in load_document(vignettes, today=AS_OF_VIGNETTES)]


def flag_essentials(f) -> dict:
    """A flag as expected-flags.json writes it: code, site, onset, and the extra fields of its code."""
    out = {"code": f.code, "site": f.site, "symptom_onset": f.symptom_onset.isoformat()}
    if f.code == "MIGRATION":
        out.update(from_site=f.from_site, concurrent=f.concurrent)
    if f.code == "FOLLOW_UP_OVERDUE":
        out["review_date"] = f.review_date.isoformat()
    return out


def test_vignettes_give_the_expected_flags(vignettes, expected_flags):
    assert expected_flags["as_of"] == AS_OF_VIGNETTES.isoformat()
    got = [{"mrn": a.mrn, "pattern": a.pattern, "flags": [flag_essentials(f) for f in a.flags]}
           for a in vignette_assessments(vignettes)]
    assert got == expected_flags["patients"]


def test_vignette_severities_match_the_table(vignettes):
    flags = [f for a in vignette_assessments(vignettes) for f in a.flags]
    assert flags and all(f.severity == FLAG_CODES[f.code] for f in flags)


def test_vignette_flags_point_at_their_findings(vignettes):
    by_mrn = {a.mrn: a for a in vignette_assessments(vignettes)}
    for a in by_mrn.values():
        for f in a.flags:
            assert f.episode in a.patient.episodes and f.message.startswith(f.site.split("_")[1].capitalize())
    [avn] = [f for f in by_mrn["EX-04"].flags if f.code == "AVN_SIGNS"]
    assert avn.finding.date == d("2025-05-25")
    assert avn.message == ("Right knee: MRI of 25 May 2025 shows a subchondral low-signal band on T2 "
                           "— consider avascular necrosis")
    [stalled] = [f for f in by_mrn["EX-02"].flags if f.code == "NOT_REGRESSING"]
    assert stalled.finding.date == d("2025-10-20")
    [missed] = [f for f in by_mrn["EX-02"].flags if f.code == "FOLLOW_UP_OVERDUE"]
    assert missed.message == "Right hip: review due 12 Feb 2026 was missed (no contact since 12 Dec 2025)"


def test_vignettes_worklist(vignettes):
    by_mrn = {a.mrn: a for a in vignette_assessments(vignettes)}
    assert {m for m, a in by_mrn.items() if a.overdue} == {"EX-02", "EX-03", "EX-04"}
    assert {m for m, a in by_mrn.items() if a.due} == {"EX-03"}
    assert by_mrn["EX-03"].next_review == d("2026-02-20")
    # Edema not regressing changes management before a merely long course (clinical order).
    assert by_mrn["EX-02"].most_urgent.code == "NOT_REGRESSING"
    assert [f.code for f in by_mrn["EX-04"].flags_by_urgency][:2] == ["AVN_SIGNS", "FOLLOW_UP_OVERDUE"]


# ---------------------------------------------------------------------------
# assessment_json
# ---------------------------------------------------------------------------


def test_assessment_json_reproduces_the_interface_example():
    history = [episode("hip_left", "2025-01-10", "2025-07-01"), episode("hip_right", "2025-08-02")]
    a = course.assess(patient(*history, mrn="H-000123"), d("2025-09-01"))
    out = assessment_json([a], d("2025-09-01"), Settings())
    [flag_out] = out["patients"][0]["flags"]
    assert flag_out.pop("message").startswith("Right hip: new episode 1 month after the left hip resolved")
    assert out == {
        "as_of": "2025-09-01",
        "resolution_window_months": [6, 8],
        "patients": [{
            "mrn": "H-000123",
            "pattern": "regional_migratory_osteoporosis",
            "episodes": [
                {"site": "hip_left", "symptom_onset": "2025-01-10", "diagnosis": "transient_osteoporosis",
                 "status": "resolved", "resolved_on": "2025-07-01",
                 "expected_resolution": ["2025-07-10", "2025-09-10"], "next_review": None},
                {"site": "hip_right", "symptom_onset": "2025-08-02", "diagnosis": "transient_osteoporosis",
                 "status": "active", "resolved_on": None,
                 "expected_resolution": ["2026-02-02", "2026-04-02"], "next_review": "2025-09-13"},
            ],
            "flags": [{"code": "MIGRATION", "severity": "warning", "site": "hip_right",
                       "symptom_onset": "2025-08-02", "from_site": "hip_left", "concurrent": False}],
        }],
    }


def test_assessment_json_key_order(vignettes):
    out = assessment_json(vignette_assessments(vignettes), AS_OF_VIGNETTES, Settings())
    assert list(out) == ["as_of", "resolution_window_months", "patients"]
    base = ["code", "severity", "site", "symptom_onset", "message"]
    for p in out["patients"]:
        assert list(p) == ["mrn", "pattern", "episodes", "flags"]
        for e in p["episodes"]:
            assert list(e) == ["site", "symptom_onset", "diagnosis", "status", "resolved_on", "expected_resolution",
                               "next_review"]
        for f in p["flags"]:
            extra = {"MIGRATION": ["from_site", "concurrent"], "FOLLOW_UP_OVERDUE": ["review_date"]}
            assert list(f) == base + extra.get(f["code"], [])
    assert json.loads(json.dumps(out)) == out


def test_assessment_json_patients_by_mrn_and_window_setting():
    day = d("2025-02-01")
    assessments = [course.assess(patient(episode(), mrn=mrn), day) for mrn in ["b-2", "B-10", "A-9"]]
    out = assessment_json(assessments, day, Settings(resolution_window_months=(4, 12)))
    assert [p["mrn"] for p in out["patients"]] == ["A-9", "B-10", "b-2"]
    assert out["resolution_window_months"] == [4, 12]


def test_assessment_json_revised_diagnosis_has_no_window():
    a = course.assess(patient(episode(diagnosis="other")), d("2025-02-01"))
    [e] = assessment_json([a], d("2025-02-01"), Settings())["patients"][0]["episodes"]
    assert e["expected_resolution"] is None and e["next_review"] is None and e["diagnosis"] == "other"


# ---------------------------------------------------------------------------
# Random valid histories
# ---------------------------------------------------------------------------

SITES = ("hip_left", "hip_right", "knee_left", "ankle_right")
START, END = dt.date(2018, 1, 1), dt.date(2026, 12, 31)


@st.composite
def findings(draw, onset: dt.date):
    """A study or symptom record from onset to a year and a half later (possibly after as_of)."""
    day = onset + dt.timedelta(days=draw(st.integers(0, 540)))
    if draw(st.booleans()):
        return visit(day.isoformat(), draw(st.integers(0, 10)))
    maybe = st.sampled_from([None, True, False])
    return ImagingStudy(
        day, draw(st.sampled_from(MODALITIES)), time=draw(st.sampled_from([None, "08:00", "13:30"])),
        edema_extent_pct=draw(st.one_of(st.none(), st.integers(0, 100))),
        subchondral_t2_low_band=draw(maybe), collapse=draw(maybe), subchondral_fracture_line=draw(maybe),
        joint_space_narrowed=draw(maybe), dce_enhancement=draw(st.sampled_from([None, "early", "none"])),
        scintigraphy_uptake=draw(st.sampled_from([None, "normal", "photopenic"])),
    )


@st.composite
def site_history(draw, site: str) -> list[Episode]:
    """Episodes at one site, each starting after the previous one resolved."""
    episodes, day = [], START + dt.timedelta(days=draw(st.integers(0, 900)))
    for _ in range(draw(st.integers(0, 3))):
        if day > END:
            break
        length = draw(st.one_of(st.none(), st.integers(0, 500)))
        resolved = day + dt.timedelta(days=length) if length is not None else None
        records = draw(st.lists(findings(day), max_size=5))
        episodes.append(Episode(
            site, day, resolved,
            diagnosis=draw(st.sampled_from([TOH, TOH, TOH, *DIAGNOSES[1:3]])),
            pregnancy=draw(st.sampled_from([None, None, "trimester_3"])),
            avn_risk_factors=draw(st.lists(st.sampled_from(AVN_RISK_FACTORS[:3]), max_size=2, unique=True)),
            imaging=[r for r in records if isinstance(r, ImagingStudy)],
            symptoms=[r for r in records if isinstance(r, SymptomRecord)],
        ))
        if resolved is None:
            break
        day = resolved + dt.timedelta(days=draw(st.integers(1, 400)))
    return episodes


@st.composite
def histories(draw) -> Patient:
    episodes = [e for site in SITES for e in draw(site_history(site))]
    # A patient who may carry the pregnancies drawn: not male, 38–47 years old at the onsets.
    return dataclasses.replace(patient(*draw(st.permutations(episodes))), sex="female", birth_date=d("1980-01-01"))


def as_it_stood(p: Patient, as_of: dt.date) -> Patient:
    """The patient's record with everything dated after as_of taken out."""
    def episode_then(e: Episode) -> Episode:
        return dataclasses.replace(
            e, resolved_on=e.resolved_on if e.resolved_on and e.resolved_on <= as_of else None,
            imaging=[s for s in e.imaging if s.date <= as_of], symptoms=[s for s in e.symptoms if s.date <= as_of])
    return dataclasses.replace(p, episodes=[episode_then(e) for e in p.episodes if e.symptom_onset <= as_of])


@hypothesis_settings(max_examples=300, deadline=None)
@given(histories(), st.dates(START, END + dt.timedelta(days=400)))
def test_assess_on_random_histories(p, as_of):
    assert check_patient(p, today=dt.date(2030, 1, 1)) == []
    a = course.assess(p, as_of)

    onsets = [(e.symptom_onset, e.site) for e in a.episodes]
    assert onsets == sorted(onsets)
    assert len(a.episodes) == sum(e.symptom_onset <= as_of for e in p.episodes)
    for e in a.episodes:
        assert (e.status == "resolved") is (e.resolved_on is not None)
        assert e.resolved_on is None or e.resolved_on <= as_of
        assert e.next_review is None or (e.status == "active" and e.next_review + dt.timedelta(days=14) >= as_of)
        assert (e.expected_resolution is None) is (e.diagnosis != TOH)
        assert e.months_since_onset >= 0

    assert [(f.symptom_onset, f.site, f.code) for f in a.flags] == sorted(
        (f.symptom_onset, f.site, f.code) for f in a.flags)
    toh = {(e.symptom_onset, e.site) for e in a.episodes if e.diagnosis == TOH}
    for f in a.flags:
        assert f.severity == FLAG_CODES[f.code]
        assert (f.symptom_onset, f.site) in toh and f.episode.is_toh
        assert (f.from_site is not None) is (f.code == "MIGRATION")
        assert (f.review_date is not None) is (f.code == "FOLLOW_UP_OVERDUE")
    assert len({(f.symptom_onset, f.site, f.code) for f in a.flags}) == len(a.flags)

    migratory = any(f.code in ("RECURRENCE", "MIGRATION") for f in a.flags)
    expected = "none" if not toh else "regional_migratory_osteoporosis" if migratory else "transient_osteoporosis"
    assert a.pattern == expected
    assert a.overdue is any(f.code == "FOLLOW_UP_OVERDUE" for f in a.flags)
    assert (a.most_urgent is None) is (not a.flags)

    assert course.assess(as_it_stood(p, as_of), as_of) == a
    json.dumps(assessment_json([a], as_of, Settings()))


# ---------------------------------------------------------------------------
# change_dates: the assessment is constant between two consecutive dates on which it can change
# ---------------------------------------------------------------------------

SHORT_SCHEDULE = Settings(resolution_window_months=(1, 2), review_schedule=((2, "w"), (5, "w"), (2, "m"), (9, "m")))


def _assessed(patient, day, settings):
    """Everything the assessment says (pattern, flags, each episode's status, the reviews), as compared."""
    a = course.assess(patient, day, settings)
    return json.dumps([course.patient_json(a), a.next_review, a.due, a.overdue,
                       [(e.site, e.status) for e in a.episodes]], sort_keys=True, default=str)


@hypothesis_settings(max_examples=150, deadline=None)
@given(histories(), st.dates(START, END + dt.timedelta(days=400)), st.sampled_from([Settings(), SHORT_SCHEDULE]),
       st.data())
def test_the_assessment_is_constant_between_consecutive_change_dates(patient, as_of, settings, data):
    dates = sorted(course.change_dates(patient, as_of, settings))
    before = [day for day in dates if day <= as_of]
    after = [day for day in dates if day > as_of]
    start = before[-1] if before else as_of - dt.timedelta(days=400)
    last = after[0] - dt.timedelta(days=1) if after else as_of + dt.timedelta(days=400)
    assert start <= as_of <= last
    expected = _assessed(patient, as_of, settings)
    inside = data.draw(st.dates(start, last))
    for day in {start, last, inside}:
        assert _assessed(patient, day, settings) == expected, (day, start, last)
    if after:  # and a change date is one: the day before it is on the other side (not necessarily different)
        assert after[0] > last


def test_change_dates_include_the_review_window_and_the_end_of_the_resolution_window():
    onset = dt.date(2025, 1, 10)
    patient = Patient("CD-1", "Rossi", "Marco", dt.date(1970, 1, 1), "male",
                      episodes=[Episode("hip_left", onset, None, TOH)])
    settings = Settings()
    dates = course.change_dates(patient, dt.date(2025, 3, 1), settings)
    first_review = add_offset(onset, settings.review_schedule[0])
    assert onset in dates
    assert first_review - course.REVIEW_WINDOW in dates  # due from 14 days before
    assert first_review + course.REVIEW_WINDOW + dt.timedelta(days=1) in dates  # missed from 15 days after
    assert add_months(onset, settings.resolution_window_months[1]) + dt.timedelta(days=1) in dates
    assert {dt.date(2025, 2, 10), dt.date(2025, 3, 10)} <= dates  # the month anniversaries around as_of
