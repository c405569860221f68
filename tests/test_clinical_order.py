"""Flags in clinical order, episodes named by onset when two share a site, findings that tell 'not assessed' from
'assessed absent', regions per joint, and the worklist's review wording — the core, without Qt."""

import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from tohtrack import course, report, wording
from tohtrack.model import (EDEMA_REGIONS_BY_JOINT, FINDINGS, JOINTS, REGION_LABELS, Episode, ImagingStudy, Patient,
                            SymptomRecord, ValidationError, check_imaging, load_document, regions_of)

D = dt.date.fromisoformat


def _patient(*episodes, sex="female"):
    return Patient("T-1", "Rossi", "Anna", D("1970-01-01"), sex, episodes=list(episodes))


# -- clinical order ----------------------------------------------------------------------------------------------


def test_urgency_is_the_clinical_order_warnings_first():
    assert course.URGENCY == ("JOINT_SPACE_NARROWING", "AVN_SIGNS", "NOT_REGRESSING", "FOLLOW_UP_OVERDUE",
                              "PROLONGED_COURSE", "MIGRATION", "RECURRENCE", "AVN_RISK_FACTORS",
                              "SUBCHONDRAL_FRACTURE", "MULTIFOCAL_ONSET", "PREGNANCY_ASSOCIATED", "LATE_RESOLUTION")
    severities = [course.FLAG_CODES[c] for c in course.URGENCY]
    assert severities == sorted(severities, key=lambda s: s != course.WARNING)
    assert course.urgency("NOT_A_CODE") == len(course.URGENCY)


def test_a_knee_with_a_t2_low_band_leads_with_avn_signs():
    """The case of EX-04: a long, overdue knee course whose MRI shows a T2 low band."""
    knee = Episode("knee_right", D("2025-05-01"), avn_risk_factors=["corticosteroids"],
                   imaging=[ImagingStudy(D("2025-05-25"), "MRI", subchondral_t2_low_band=True)],
                   symptoms=[SymptomRecord(D("2025-06-16"), pain_nrs=6)])
    a = course.assess(_patient(knee), D("2026-03-01"))
    assert a.most_urgent.code == "AVN_SIGNS"
    assert [f.code for f in a.flags_by_urgency] == ["AVN_SIGNS", "FOLLOW_UP_OVERDUE", "PROLONGED_COURSE",
                                                    "AVN_RISK_FACTORS"]
    assert [f.code for f in a.flags] == sorted(f.code for f in a.flags)  # the JSON keeps code order
    assert a.missed_review is not None and a.missed_review < D("2026-03-01")


_EPISODES = st.lists(st.tuples(
    st.sampled_from(["hip_left", "hip_right", "knee_left"]),
    st.dates(dt.date(2020, 1, 1), dt.date(2025, 12, 31)),
    st.integers(30, 500) | st.none(),
    st.booleans(), st.booleans(), st.booleans(),
), min_size=1, max_size=4)


@settings(max_examples=120, deadline=None)
@given(_EPISODES)
def test_any_history_lists_its_flags_most_urgent_first(specs):
    episodes = []
    for site, onset, days, band, narrowed, pregnant in specs:
        resolved = onset + dt.timedelta(days=days) if days else None
        if any(e.site == site for e in episodes):
            continue  # one episode per site keeps the history valid without the overlap rule
        episodes.append(Episode(site, onset, resolved, pregnancy="trimester_3" if pregnant else None,
                                imaging=[ImagingStudy(onset + dt.timedelta(days=10), "MRI",
                                                      subchondral_t2_low_band=band, joint_space_narrowed=narrowed)]))
    a = course.assess(_patient(*episodes), D("2026-03-01"))
    ordered = a.flags_by_urgency
    assert sorted(ordered, key=lambda f: (f.symptom_onset, f.site, f.code)) == a.flags  # same flags
    assert [course.urgency(f.code) for f in ordered] == sorted(course.urgency(f.code) for f in ordered)
    assert a.most_urgent == (ordered[0] if ordered else None)
    r = report.build(_patient(*episodes), D("2026-03-01"), today=D("2026-03-02"))
    assert [f.code for f in r.flags] == [f.code for f in ordered]


# -- episodes named by onset -----------------------------------------------------------------------------------


def test_two_episodes_at_one_site_are_named_by_onset():
    first = Episode("hip_left", D("2023-03-05"), D("2023-10-01"))
    second = Episode("hip_left", D("2024-03-10"))
    other = Episode("knee_right", D("2024-06-01"))
    a = course.assess(_patient(first, second, other), D("2024-07-01"))
    by_onset = {f.symptom_onset: f for f in a.flags if f.code in ("RECURRENCE", "MIGRATION")}
    assert by_onset[D("2024-03-10")].message.startswith("Left hip, episode of March 2024: ")
    assert by_onset[D("2024-03-10")].episode_name == "Left hip, episode of March 2024"
    assert by_onset[D("2024-06-01")].message.startswith("Right knee: ")  # a site of its own: no onset needed


def test_two_episodes_in_one_month_are_named_by_day():
    onsets = {"hip_left": [D("2024-03-01"), D("2024-03-20")]}
    assert wording.episode_name("hip_left", D("2024-03-20"), onsets) == "left hip, episode of 20 Mar 2024"
    assert wording.episode_name("hip_left", D("2024-03-20"), {"hip_left": [D("2024-03-20")]}) == "left hip"


def test_a_later_episode_does_not_rename_the_flags_before_it():
    first = Episode("hip_left", D("2023-03-05"), D("2023-10-01"), imaging=[
        ImagingStudy(D("2023-03-20"), "MRI", collapse=True)])
    second = Episode("hip_left", D("2024-03-10"))
    before = course.assess(_patient(first, second), D("2024-01-01"))  # the second is not yet on record
    assert before.flags_by_urgency[0].message.startswith("Left hip: MRI of 20 Mar 2023")
    after = course.assess(_patient(first, second), D("2024-04-01"))
    assert any(f.message.startswith("Left hip, episode of March 2023: MRI of 20 Mar 2023") for f in after.flags)


def test_the_de_identified_report_names_the_episode_by_months():
    first = Episode("hip_left", D("2023-03-05"), D("2023-10-01"))
    second = Episode("hip_left", D("2024-03-10"))
    r = report.build(_patient(first, second), D("2024-07-01"), today=D("2024-07-02"), deidentify=True)
    text = r.text()
    assert "March 2024" not in text and "2024" not in text and "2023" not in text
    assert any("episode of month 12.2" in f.message for f in r.flags)


# -- not assessed vs assessed absent -----------------------------------------------------------------------------


def test_findings_tell_not_assessed_from_absent():
    assert wording.findings_summary(ImagingStudy(D("2025-01-01"), "MRI")) == "no findings assessed"
    absent = ImagingStudy(D("2025-01-01"), "MRI", collapse=False, subchondral_t2_low_band=False)
    assert wording.findings_summary(absent) == "assessed absent: subchondral T2 low band, collapse"
    mixed = ImagingStudy(D("2025-01-01"), "MRI", t1_low_signal=True, joint_space_narrowed=False)
    assert wording.findings_summary(mixed) == "T1 low signal; assessed absent: joint space narrowed"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([None, False, True]), min_size=len(FINDINGS), max_size=len(FINDINGS)))
def test_findings_summary_names_every_assessed_finding(values):
    s = ImagingStudy(D("2025-01-01"), "MRI", **dict(zip(FINDINGS, values)))
    text = wording.findings_summary(s)
    positive, _, absent = text.partition("assessed absent: ")
    positive_items = set(filter(None, positive.rstrip("; ").split(", "))) - {"no findings assessed"}
    absent_items = set(filter(None, absent.split(", ")))
    for field, value in zip(FINDINGS, values):
        word = wording.FINDING_WORDS[field]
        assert (word in positive_items) == (value is True), (field, text)
        assert (word in absent_items) == (value is False), (field, text)
    assert (text == "no findings assessed") == all(v is None for v in values)
    assert ("assessed absent" in text) == any(v is False for v in values)


def test_the_report_says_no_findings_assessed():
    e = Episode("hip_left", D("2025-01-10"), imaging=[ImagingStudy(D("2025-01-20"), "MRI", edema_extent_pct=50)])
    r = report.build(_patient(e), D("2025-02-01"), today=D("2025-02-02"))
    row = r.sections[0].tables[0].rows[0]
    assert "no findings assessed" in row.cells and "no positive findings recorded" not in r.text()


# -- regions per joint --------------------------------------------------------------------------------------------


def test_each_joints_regions_as_the_contract_lists_them():
    assert EDEMA_REGIONS_BY_JOINT == {
        "hip": ("head", "neck", "intertrochanteric", "acetabulum", "other"),
        "knee": ("medial_femoral_condyle", "lateral_femoral_condyle", "medial_tibial_plateau",
                 "lateral_tibial_plateau", "patella", "other"),
        "ankle": ("talus", "distal_tibia", "distal_fibula", "other"),
        "foot": ("calcaneus", "navicular", "cuboid", "cuneiforms", "metatarsals", "other"),
        "shoulder": ("humeral_head", "glenoid", "other"),
        "elbow": ("other",),
        "wrist": ("distal_radius", "scaphoid", "lunate", "other_carpals", "other"),
        "hand": ("other",),
    }
    assert set(JOINTS) == set(EDEMA_REGIONS_BY_JOINT)
    assert all(code in REGION_LABELS for codes in EDEMA_REGIONS_BY_JOINT.values() for code in codes)


@pytest.mark.parametrize("joint", JOINTS)
def test_a_study_takes_only_its_joints_regions(joint):
    site = f"{joint}_left"
    for code in regions_of(site):
        assert check_imaging(ImagingStudy(D("2025-01-01"), "MRI", edema_regions=[code]), "", site=site) == []
    foreign = next(c for codes in EDEMA_REGIONS_BY_JOINT.values() for c in codes if c not in regions_of(site))
    (problem,) = check_imaging(ImagingStudy(D("2025-01-01"), "MRI", edema_regions=[foreign]), "x", site=site)
    assert problem.path == "x.edema_regions[0]"
    assert problem.message == (f"{foreign!r} is not a {joint} region (allowed: {', '.join(regions_of(site))})")


def _doc(site, regions):
    return {"format": "tohtrack/1", "patients": [{
        "mrn": "R-1", "family_name": "A", "given_name": "B", "birth_date": "1970-01-01", "sex": "female",
        "episodes": [{"site": site, "symptom_onset": "2025-01-10",
                      "imaging": [{"date": "2025-01-20", "modality": "MRI", "edema_regions": regions}]}]}]}


def test_import_checks_regions_against_the_episodes_joint():
    assert load_document(_doc("knee_left", ["medial_femoral_condyle", "patella"]), today=D("2026-01-01"))
    with pytest.raises(ValidationError) as caught:
        load_document(_doc("knee_left", ["head"]), today=D("2026-01-01"))
    assert str(caught.value).startswith("patients[0].episodes[0].imaging[0].edema_regions[0]: 'head' is not a "
                                        "knee region (allowed: medial_femoral_condyle")
    assert load_document(_doc("hip_left", ["head", "acetabulum"]), today=D("2026-01-01"))


def test_regions_read_in_words():
    assert wording.regions_text(["medial_femoral_condyle", "other_carpals", "head"]) == \
        "medial femoral condyle, other carpal bones, femoral head"


# -- the worklist's review words -----------------------------------------------------------------------------


def test_review_words():
    as_of = D("2026-03-01")
    assert wording.review_text(as_of, D("2026-04-01"), D("2026-02-12"), overdue=True) == \
        "review of 12 Feb 2026 missed, 17 days"
    assert wording.review_text(as_of, D("2026-03-04")) == "due 4 Mar 2026 (in 3 days)"
    assert wording.review_text(as_of, D("2026-02-27")) == "due 27 Feb 2026 (2 days ago)"
    assert wording.review_text(as_of, as_of) == "due today"
    assert wording.review_text(as_of, D("2026-05-01")) == "1 May 2026"
    assert wording.review_text(as_of, None) == "none scheduled"
    assert wording.days_text(1) == "1 day" and wording.days_text(62) == "62 days"
    assert wording.days_text(100) == "3 months"


@settings(max_examples=200, deadline=None)
@given(st.dates(dt.date(2000, 1, 1), dt.date(2030, 1, 1)), st.integers(15, 3000))
def test_an_overdue_review_is_never_a_later_date(missed, days):
    as_of = missed + dt.timedelta(days=days)
    text = wording.review_text(as_of, as_of + dt.timedelta(days=30), missed, overdue=True)
    assert text.startswith(f"review of {wording.date_text(missed)} missed, ")
    assert wording.date_text(as_of + dt.timedelta(days=30)) not in text


# -- regions in storage --------------------------------------------------------------------------------------------


def test_the_store_checks_regions_against_the_episodes_joint(store):
    patient = store.add_patient(Patient("S-1", "A", "B", D("1970-01-01"), "female"), today=D("2026-01-01"))
    knee = store.add_episode(patient.id, Episode("knee_left", D("2025-01-10")), today=D("2026-01-01"))
    with pytest.raises(ValidationError) as caught:
        store.add_finding(knee.id, ImagingStudy(D("2025-01-20"), "MRI", edema_regions=["head"]), D("2026-01-01"))
    assert "'head' is not a knee region" in str(caught.value)
    study = store.add_finding(knee.id, ImagingStudy(D("2025-01-20"), "MRI", edema_regions=["patella"]),
                              D("2026-01-01"))
    # The site of an episode whose studies name knee regions cannot become a hip (nothing is written).
    knee.site = "hip_left"
    with pytest.raises(ValidationError) as caught:
        store.update_episode(knee, today=D("2026-01-01"))
    (problem,) = caught.value.problems
    assert problem.path == "site" and "patella" in problem.message and "head, neck" in problem.message
    assert [e.site for e in list(store.patients([patient.id]))[0].episodes] == ["knee_left"]
    # A study naming only 'other' moves with its episode to any joint.
    study.edema_regions = ["other"]
    store.update_finding(study, today=D("2026-01-01"))
    knee.version = list(store.patients([patient.id]))[0].episodes[0].version
    store.update_episode(knee, today=D("2026-01-01"))
    assert list(store.patients([patient.id]))[0].episodes[0].site == "hip_left"


def test_the_plot_hover_tells_not_assessed_and_names_regions():
    from tohtrack import plotdata

    knee = Episode("knee_left", D("2025-01-10"), imaging=[
        ImagingStudy(D("2025-01-20"), "MRI", edema_regions=["medial_femoral_condyle", "patella"]),
        ImagingStudy(D("2025-03-20"), "MRI", edema_regions=["patella"], collapse=False)])
    a = course.assess(_patient(knee), D("2025-04-01"))
    c = plotdata.course_data(a, a.episodes[0])
    first, second = (m.tip.splitlines() for m in c.studies)
    assert first[1] == "Edema 2 regions (medial femoral condyle, patella)"
    assert first[2] == "No findings assessed"
    assert second[2] == "Assessed absent: collapse"
    assert c.y_max == 6.0  # the knee's six regions
