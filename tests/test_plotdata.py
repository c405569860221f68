"""What the timeline plots draw (tohtrack.plotdata): series, window, band, treatments, lanes and links, no Qt."""

import datetime as dt

import pytest

from tohtrack import course, plotdata
from tohtrack.model import Episode, ImagingStudy, Patient, SymptomRecord, Treatment, load_document
from tohtrack.plotdata import DATES, MIGRATION, RECURRENCE, course_data, history_data, timestamp
from tohtrack.settings import Settings

AS_OF = dt.date(2026, 3, 1)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def patients(vignettes):
    return {p.mrn: p for p in load_document(vignettes, today=AS_OF)}


def assessed(patients, mrn, as_of=AS_OF, settings=Settings()):
    return course.assess(patients[mrn], as_of, settings)


def episode_at(assessment, site, onset):
    return next(e for e in assessment.episodes if e.site == site and e.symptom_onset == d(onset))


def xy(points):
    return [(round(p.x, 6), p.y) for p in points]


def approx_pairs(pairs):
    return [(pytest.approx(x), y) for x, y in pairs]


# ---------------------------------------------------------------------------
# EX-01: quiet resolution
# ---------------------------------------------------------------------------


def test_ex01_series_in_months_since_onset(patients):
    a = assessed(patients, "EX-01")
    c = course_data(a, a.episodes[0])
    # Onset 3 Apr 2025; a part month counts as its share of that month's days.
    mri = [(17 / 30, 75.0), (3 + 12 / 31, 35.0), (5 + 28 / 30, 0.0)]
    assert c.unit == "%" and c.extent_label == "Edema extent (%)" and c.y_max == 100
    assert [(p.x, p.y) for p in c.extent] == approx_pairs(mri)
    assert [p.date for p in c.extent] == [d("2025-04-20"), d("2025-07-15"), d("2025-10-01")]
    assert [p.months for p in c.extent] == [pytest.approx(x) for x, _ in mri]
    assert [(p.x, p.y) for p in c.pain] == approx_pairs([(17 / 30, 8.0), (3 + 12 / 31, 4.0), (5 + 28 / 30, 0.0)])
    assert [(p.x, p.y) for p in c.function] == approx_pairs([(17 / 30, 48.0), (3 + 12 / 31, 71.0),
                                                             (5 + 28 / 30, 96.0)])
    assert c.function_label == "Function score"
    assert list(c.by_modality(measured=True)) == ["MRI"]


def test_ex01_radiograph_without_extent_is_a_mark_never_a_zero(patients):
    a = assessed(patients, "EX-01")
    c = course_data(a, a.episodes[0])
    (xr,) = c.unmeasured
    assert (xr.modality, xr.date, xr.y) == ("XR", d("2025-05-30"), None)
    assert xr.x == pytest.approx(1 + 27 / 31)
    assert xr.x not in [p.x for p in c.extent]
    assert list(c.by_modality(measured=False)) == ["XR"]
    assert "No edema extent recorded" in xr.tip
    assert "osteopenia, subchondral cortical loss; assessed absent: joint space narrowed" in xr.tip
    # The MRI of 1 Oct 2025 recorded 0%: a real zero, plotted.
    assert c.extent[-1].y == 0.0 and c.extent[-1].record.edema_extent_pct == 0


def test_ex01_window_extension_band_treatments_and_lines(patients):
    a = assessed(patients, "EX-01")
    c = course_data(a, a.episodes[0])
    assert c.window_months == (6, 8)
    assert c.window == (6.0, 8.0)
    assert c.extension == (8.0, 12.0)
    # From the first extent (75% at 17/30 months) to none at W2 (slow edge) and at W1 (fast edge).
    assert c.band == ((pytest.approx(17 / 30), 75.0), (8.0, 0.0), (6.0, 0.0))
    assert [(s.label, s.row, s.ongoing) for s in c.treatments] == [
        ("analgesia", 0, False), ("protected weight bearing", 1, False)]
    assert [(s.x0, s.x1) for s in c.treatments] == [
        (pytest.approx(17 / 30), pytest.approx(1 + 29 / 31)), (pytest.approx(17 / 30), pytest.approx(3 + 12 / 31))]
    assert c.treatment_rows == 2
    assert c.as_of_x == pytest.approx(10 + 26 / 28)
    assert c.resolved_x == pytest.approx(6 + 7 / 31)
    assert c.x_range == (pytest.approx(-0.36), pytest.approx(12.36))
    assert c.status == "resolved" and c.title == "Right hip, onset 3 Apr 2025"


def test_ex01_hover_texts_carry_date_value_and_findings(patients):
    a = assessed(patients, "EX-01")
    c = course_data(a, a.episodes[0])
    first = c.studies[0]
    assert first.tip.splitlines()[:3] == [
        "MRI of 20 Apr 2025", "Edema 75% (femoral head, femoral neck, intertrochanteric)",
        "T1 low signal, T2/STIR high signal, medial head sparing, joint effusion"]
    assert c.pain[0].tip.splitlines()[:4] == [
        "Symptoms of 20 Apr 2025", "Pain NRS 8/10", "Function score 48/100", "Weight bearing: protected"]
    assert c.treatments[0].tip == "Analgesia (paracetamol 1 g qds)\n20 Apr 2025 – 1 Jun 2025"


def test_ex01_lanes(patients):
    h = history_data(assessed(patients, "EX-01"))
    assert [(lane.row, lane.site, lane.label) for lane in h.lanes] == [(0, "hip_right", "Right hip")]
    (bar,) = h.bars
    assert (bar.row, bar.start, bar.end, bar.status, bar.diagnosis) == (
        0, d("2025-04-03"), d("2025-10-10"), "resolved", "transient_osteoporosis")
    assert (bar.x0, bar.x1) == (timestamp(d("2025-04-03")), timestamp(d("2025-10-10")))
    assert h.links == () and h.multifocal == ()
    assert h.pattern == "transient_osteoporosis"


# ---------------------------------------------------------------------------
# EX-02: migration, not regressing, overdue
# ---------------------------------------------------------------------------


def test_ex02_active_course_above_the_band(patients):
    a = assessed(patients, "EX-02")
    c = course_data(a, episode_at(a, "hip_right", "2025-06-12"))
    assert [(p.x, p.y) for p in c.extent] == approx_pairs([(0.6, 55.0), (4 + 8 / 31, 58.0)])
    assert [(p.x, p.y) for p in c.pain] == approx_pairs([(1 + 12 / 31, 5.0), (3.0, 5.0), (6.0, 5.0)])
    assert c.function == () and c.treatments == () and c.unmeasured == ()
    assert c.window == (6.0, 8.0) and c.extension == (8.0, 12.0)
    assert c.band == ((0.6, 55.0), (8.0, 0.0), (6.0, 0.0))
    assert c.status == "active" and c.resolved_x is None
    assert c.as_of_x == pytest.approx(8 + 17 / 28)
    # Not regressing: the latest extent lies above the band's slow edge at its x.
    (x0, y0), (w2, _), _ = c.band
    latest = c.extent[-1]
    assert latest.y > y0 * (w2 - latest.x) / (w2 - x0)


def test_ex02_resolved_left_hip(patients):
    a = assessed(patients, "EX-02")
    c = course_data(a, episode_at(a, "hip_left", "2024-09-01"))
    assert [(p.x, p.y) for p in c.extent] == approx_pairs([(14 / 30, 60.0), (5 + 9 / 28, 10.0)])
    assert [(p.x, p.y) for p in c.pain] == approx_pairs([(14 / 30, 7.0), (6 + 19 / 31, 1.0)])
    assert c.as_of_x == 18.0 and c.x_range[1] < c.as_of_x  # a course long over: the view ends with the course


def test_ex02_lanes_and_migration(patients):
    h = history_data(assessed(patients, "EX-02"))
    assert [(lane.row, lane.site) for lane in h.lanes] == [(0, "hip_left"), (1, "hip_right")]
    assert [(b.row, b.start, b.end, b.status) for b in h.bars] == [
        (0, d("2024-09-01"), d("2025-03-20"), "resolved"), (1, d("2025-06-12"), None, "active")]
    assert h.bars[1].x1 == timestamp(AS_OF) == h.as_of_x  # open-ended while active: drawn to the as-of date
    (link,) = h.links
    assert (link.kind, link.from_site, link.to_site, link.from_row, link.to_row, link.start, link.end,
            link.concurrent) == (MIGRATION, "hip_left", "hip_right", 0, 1, d("2025-03-20"), d("2025-06-12"), False)
    assert (link.x0, link.x1) == (timestamp(d("2025-03-20")), timestamp(d("2025-06-12")))
    assert link.from_episode.site == "hip_left" and link.to_episode.site == "hip_right"
    assert "regional migratory osteoporosis" in link.tip
    assert h.pattern == "regional_migratory_osteoporosis"


# ---------------------------------------------------------------------------
# EX-05: recurrence plus multifocal onset
# ---------------------------------------------------------------------------


def test_ex05_lanes_recurrence_migration_and_multifocal_onset(patients):
    h = history_data(assessed(patients, "EX-05"))
    assert [(lane.row, lane.site, lane.label) for lane in h.lanes] == [
        (0, "ankle_left", "Left ankle"), (1, "foot_right", "Right foot")]
    assert [(b.row, b.start, b.end) for b in h.bars] == [
        (0, d("2023-02-01"), d("2023-12-01")), (0, d("2024-06-01"), d("2024-12-01")),
        (1, d("2024-06-01"), d("2024-11-15"))]
    assert all(b.status == "resolved" for b in h.bars)
    assert [(l.kind, l.from_site, l.to_site, l.from_row, l.to_row, l.start, l.end, l.concurrent) for l in h.links] == [
        (RECURRENCE, "ankle_left", "ankle_left", 0, 0, d("2023-12-01"), d("2024-06-01"), None),
        (MIGRATION, "ankle_left", "foot_right", 0, 1, d("2023-12-01"), d("2024-06-01"), False)]
    assert all(l.from_episode.symptom_onset == d("2023-02-01") for l in h.links)
    (multifocal,) = h.multifocal
    assert (multifocal.date, multifocal.sites, multifocal.rows) == (
        d("2024-06-01"), ("ankle_left", "foot_right"), (0, 1))
    assert multifocal.x == timestamp(d("2024-06-01"))
    # Years wide: from 1 January of the first onset's year to the as-of date, a little room at each end.
    lo, hi = timestamp(d("2023-01-01")), timestamp(AS_OF)
    pad = (hi - lo) * 0.03
    assert h.x_range == (pytest.approx(lo - pad), pytest.approx(hi + pad))


def test_ex05_course_without_records(patients):
    a = assessed(patients, "EX-05")
    c = course_data(a, episode_at(a, "foot_right", "2024-06-01"))
    assert c.unit is None and c.extent == () and c.studies == () and c.pain == () and c.band is None
    assert c.window == (6.0, 8.0) and c.resolved_x == pytest.approx(5 + 14 / 30)
    assert c.extent_label == "Edema extent (none recorded)"


# ---------------------------------------------------------------------------
# Options and edges
# ---------------------------------------------------------------------------


def test_calendar_dates_put_posix_seconds_on_x(patients):
    a = assessed(patients, "EX-01")
    c = course_data(a, a.episodes[0], axis=DATES)
    assert c.axis == DATES
    assert [p.x for p in c.extent] == [timestamp(d(t)) for t in ("2025-04-20", "2025-07-15", "2025-10-01")]
    assert [p.months for p in c.extent] == [pytest.approx(17 / 30), pytest.approx(3 + 12 / 31),
                                           pytest.approx(5 + 28 / 30)]
    assert c.window == (timestamp(d("2025-10-03")), timestamp(d("2025-12-03")))
    assert c.extension == (timestamp(d("2025-12-03")), timestamp(d("2026-04-03")))
    assert c.band == ((timestamp(d("2025-04-20")), 75.0), (timestamp(d("2025-12-03")), 0.0),
                      (timestamp(d("2025-10-03")), 0.0))
    assert c.as_of_x == timestamp(AS_OF) and c.x_of(d("2025-10-10")) == c.resolved_x
    assert c.unmeasured[0].x == timestamp(d("2025-05-30"))


def test_timestamps_are_utc_midnights():
    assert timestamp(dt.date(1970, 1, 2)) == 86400.0
    for day in (d("2023-02-01"), d("2024-02-29"), d("2026-03-01")):
        assert plotdata.day_of(timestamp(day)) == day
        assert plotdata.day_of(timestamp(day) + 86399) == day


def test_records_after_the_as_of_date_are_left_out(patients):
    a = assessed(patients, "EX-01", as_of=d("2025-07-01"))
    c = course_data(a, a.episodes[0])
    assert [s.date for s in c.studies] == [d("2025-04-20"), d("2025-05-30")]
    assert [p.date for p in c.pain] == [d("2025-04-20")]
    assert c.status == "active" and c.resolved_x is None
    analgesia, pwb = c.treatments
    assert (analgesia.ongoing, analgesia.end) == (False, d("2025-06-01"))
    assert (pwb.ongoing, pwb.end, pwb.x1) == (True, None, c.as_of_x)  # ends 15 Jul: still running on 1 Jul
    assert "ongoing" in pwb.tip
    h = history_data(a)
    assert [(b.end, b.status, b.x1) for b in h.bars] == [(None, "active", timestamp(d("2025-07-01")))]


def test_episodes_after_the_as_of_date_have_no_lane(patients):
    h = history_data(assessed(patients, "EX-02", as_of=d("2025-01-01")))
    assert [lane.site for lane in h.lanes] == ["hip_left"] and h.links == ()


def test_window_follows_the_settings(patients):
    settings = Settings(resolution_window_months=(4, 6))
    a = assessed(patients, "EX-02", settings=settings)
    episode = episode_at(a, "hip_right", "2025-06-12")
    for c in (course_data(a, episode, settings), course_data(a, episode)):  # given, or as assessed
        assert c.window_months == (4, 6) and c.window == (4.0, 6.0) and c.extension == (6.0, 12.0)
        assert c.band == ((0.6, 55.0), (6.0, 0.0), (4.0, 0.0))
    wide = Settings(resolution_window_months=(9, 14))
    c = course_data(assessed(patients, "EX-02", settings=wide), episode, wide)
    assert c.window == (9.0, 14.0) and c.extension is None and c.x_range[1] > 14


def test_revised_diagnosis_has_no_window_or_band(patients):
    a = assessed(patients, "EX-06")
    c = course_data(a, a.episodes[0])
    assert c.window is None and c.extension is None and c.band is None and c.window_months is None
    (bar,) = history_data(a).bars
    assert not bar.is_toh and bar.diagnosis == "septic_arthritis" and "septic arthritis" in bar.tip


def test_regression_band_edges():
    window = (6.0, 8.0)
    assert plotdata.regression_band((1.0, 50.0), window) == ((1.0, 50.0), (8.0, 0.0), (6.0, 0.0))
    assert plotdata.regression_band((7.0, 20.0), window) == ((7.0, 20.0), (8.0, 0.0), (7.0, 0.0))
    assert plotdata.regression_band((8.0, 20.0), window) is None
    assert plotdata.regression_band((1.0, 0.0), window) is None
    assert plotdata.regression_band(None, window) is None and plotdata.regression_band((1.0, 5.0), None) is None


def _patient(*episodes):
    return Patient("T-9", "Rossi", "Marco", d("1970-01-01"), "male", episodes=list(episodes))


def test_extent_unit_falls_back_from_percent_to_volume_to_regions():
    as_of = d("2025-12-01")
    volume = Episode("hip_left", d("2025-01-10"), imaging=[
        ImagingStudy(d("2025-02-01"), "MRI", edema_volume_ml=20.0, edema_regions=["head"]),
        ImagingStudy(d("2025-04-01"), "MRI", edema_volume_ml=12.5),
        ImagingStudy(d("2025-05-01"), "MRI", edema_regions=["head", "neck"])])
    a = course.assess(_patient(volume), as_of)
    c = course_data(a, volume)
    assert c.unit == "mL" and [p.y for p in c.extent] == [20.0, 12.5] and c.y_max == 25.0
    assert [s.y for s in c.unmeasured] == [None] and "2 regions" in c.unmeasured[0].tip  # other unit: a mark
    regions = Episode("hip_left", d("2025-01-10"), imaging=[
        ImagingStudy(d("2025-02-01"), "MRI", edema_regions=["head", "neck", "intertrochanteric"]),
        ImagingStudy(d("2025-04-01"), "XR")])
    c = course_data(course.assess(_patient(regions), as_of), regions)
    assert c.unit == "regions" and [p.y for p in c.extent] == [3.0] and c.y_max == 5.0  # the hip's five regions
    assert c.extent_label == "Edema regions (number)"
    mixed = Episode("hip_left", d("2025-01-10"), imaging=[
        ImagingStudy(d("2025-02-01"), "MRI", edema_volume_ml=20.0),
        ImagingStudy(d("2025-04-01"), "MRI", edema_extent_pct=40.0)])
    c = course_data(course.assess(_patient(mixed), as_of), mixed)
    assert c.unit == "%" and [p.y for p in c.extent] == [40.0] and [s.y for s in c.studies] == [None, 40.0]


def test_treatment_rows_do_not_overlap():
    episode = Episode("hip_left", d("2025-01-10"), treatments=[
        Treatment(d("2025-01-20"), "protected_weight_bearing", d("2025-04-01")),
        Treatment(d("2025-02-01"), "analgesia", d("2025-03-01")),
        Treatment(d("2025-02-15"), "bisphosphonate", d("2025-02-16"), detail="zoledronate 5 mg"),
        Treatment(d("2025-03-10"), "iloprost"),
        Treatment(d("2025-05-01"), "calcitonin", d("2025-06-01"))])
    a = course.assess(_patient(episode), d("2025-07-01"))
    c = course_data(a, episode)
    assert [(s.kind, s.row) for s in c.treatments] == [
        ("protected_weight_bearing", 0), ("analgesia", 1), ("bisphosphonate", 2), ("iloprost", 1),
        ("calcitonin", 0)]
    assert c.treatments[3].ongoing and c.treatments[3].x1 == c.as_of_x
    assert c.treatments[2].label == "bisphosphonate"


def test_function_series_named_after_its_instrument():
    episode = Episode("hip_left", d("2025-01-10"), symptoms=[
        SymptomRecord(d("2025-02-01"), pain_nrs=6, function_score=55, function_instrument="Harris Hip Score"),
        SymptomRecord(d("2025-03-01"), function_score=70, function_instrument="Harris Hip Score")])
    c = course_data(course.assess(_patient(episode), d("2025-07-01")), episode)
    assert c.function_label == "Harris Hip Score"
    assert [p.y for p in c.function] == [55.0, 70.0] and [p.y for p in c.pain] == [6.0]
    assert "Harris Hip Score 55/100" in c.function[0].tip


def test_lanes_hips_first_left_before_right_then_the_other_joints():
    sites = ["knee_right", "shoulder_left", "hip_right", "ankle_left", "hip_left", "knee_left"]
    start = d("2020-01-01")
    episodes = [Episode(site, start + dt.timedelta(days=40 * i), start + dt.timedelta(days=40 * i + 30))
                for i, site in enumerate(sites)]
    h = history_data(course.assess(_patient(*episodes), d("2021-01-01")))
    assert [lane.site for lane in h.lanes] == ["hip_left", "hip_right", "knee_left", "knee_right", "ankle_left",
                                               "shoulder_left"]
    assert [lane.row for lane in h.lanes] == list(range(6))
    assert {b.site: b.row for b in h.bars} == {lane.site: lane.row for lane in h.lanes}


def test_concurrent_migration_goes_straight_across():
    left = Episode("hip_left", d("2025-01-01"))
    right = Episode("hip_right", d("2025-03-01"))
    h = history_data(course.assess(_patient(left, right), d("2025-06-01")))
    (link,) = h.links
    assert (link.kind, link.concurrent, link.start, link.end) == (MIGRATION, True, d("2025-03-01"), d("2025-03-01"))
    assert link.x0 == link.x1 == timestamp(d("2025-03-01"))
    assert [b.end for b in h.bars] == [None, None]


def test_unknown_axis_and_foreign_episode_are_refused(patients):
    a = assessed(patients, "EX-01")
    with pytest.raises(ValueError):
        course_data(a, a.episodes[0], axis="weeks")
    with pytest.raises(ValueError):
        course_data(a, Episode("hip_left", d("2025-01-01")))


def test_no_qt_here():
    import ast

    tree = ast.parse(open(plotdata.__file__, encoding="utf-8").read())
    modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(m.startswith(("PySide6", "pyqtgraph", "shiboken")) for m in modules)


def test_history_in_months_since_the_first_onset(patients):
    """The de-identified report's history: x in months since the first onset, no calendar anywhere."""
    from tohtrack.plotdata import MONTHS, months_from

    a = assessed(patients, "EX-05")
    words = lambda day: f"month {months_from(d('2023-02-01'), day):.1f}"  # noqa: E731
    h = history_data(a, axis=MONTHS, dates=words)
    assert h.axis == MONTHS
    assert [(b.x0, b.x1) for b in h.bars] == [
        (0.0, 10.0), (pytest.approx(16.0), pytest.approx(22.0)), (pytest.approx(16.0), pytest.approx(21 + 14 / 30))]
    assert [(round(l.x0, 3), round(l.x1, 3)) for l in h.links] == [(10.0, 16.0), (10.0, 16.0)]
    assert h.multifocal[0].x == pytest.approx(16.0)
    assert h.as_of_x == pytest.approx(months_from(d("2023-02-01"), AS_OF))
    assert h.as_of_text == words(AS_OF) == "month 37.0"
    pad = h.as_of_x * 0.03
    assert h.x_range == (pytest.approx(-pad), pytest.approx(h.as_of_x + pad))
    with pytest.raises(ValueError, match="axis"):
        history_data(a, axis="years")


def test_legend_dates_are_worded_by_the_caller(patients):
    a = assessed(patients, "EX-02")
    c = course_data(a, episode_at(a, "hip_left", "2024-09-01"), dates=lambda day: f"<{day.isoformat()}>")
    assert c.as_of_text == "<2026-03-01>" and c.resolved_text == "<2025-03-20>"
    plain = course_data(a, episode_at(a, "hip_right", "2025-06-12"))
    assert plain.as_of_text == "1 Mar 2026" and plain.resolved_text == ""
    assert history_data(a).as_of_text == "1 Mar 2026"
