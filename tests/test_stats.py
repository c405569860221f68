"""Cohort statistics (tohtrack.stats): the Kaplan–Meier against lifelines, and the episode, censoring, filter and
as-of rules on small cohorts worked out by hand."""

from __future__ import annotations

import datetime as dt
import json
import math
import statistics

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from collections import Counter

from tohtrack import course, registry, stats
from tohtrack.__main__ import main
from tohtrack.model import Episode, ImagingStudy, Patient, SymptomRecord, site_joint

D = dt.date


# ---------------------------------------------------------------------------
# Kaplan–Meier against lifelines
# ---------------------------------------------------------------------------

lifelines = pytest.importorskip("lifelines")


def _lifelines(times, events):
    from lifelines.utils import median_survival_times

    fitted = lifelines.KaplanMeierFitter().fit(times, events)
    ci = median_survival_times(fitted.confidence_interval_).values[0]
    return fitted, fitted.median_survival_time_, [None if math.isinf(x) else x for x in ci]


def _finite(value):
    return None if math.isinf(value) else value


@st.composite
def cohort(draw):
    """Times with many ties (a small range) or few (a wide one), events from none to all (heavy censoring)."""
    n = draw(st.integers(min_value=1, max_value=80))
    span = draw(st.sampled_from([0, 3, 12, 60, 2000]))
    share = draw(st.sampled_from([0.0, 0.05, 0.2, 0.5, 0.9, 1.0]))
    times = draw(st.lists(st.integers(min_value=0, max_value=span), min_size=n, max_size=n))
    draws = draw(st.lists(st.floats(min_value=0, max_value=1, exclude_max=True), min_size=n, max_size=n))
    return times, [u < share for u in draws]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohort())
def test_kaplan_meier_agrees_with_lifelines(data):
    times, events = data
    km = stats.kaplan_meier(times, events)
    fitted, median, median_ci = _lifelines(times, events)
    curve = fitted.survival_function_.iloc[:, 0]
    band = fitted.confidence_interval_
    table = fitted.event_table
    assert [p.day for p in km.points] == sorted(set(times))
    for p in km.points:
        assert p.survival == pytest.approx(curve.loc[p.day], abs=1e-9)
        lower, upper = band.loc[p.day].values
        assert p.lower == pytest.approx(lower, abs=1e-9)
        assert p.upper == pytest.approx(upper, abs=1e-9)
        assert p.at_risk == table.loc[p.day, "at_risk"]
        assert p.events == table.loc[p.day, "observed"]
        assert p.censored == table.loc[p.day, "censored"]
        assert p.lower <= p.survival + 1e-12 and p.survival <= p.upper + 1e-12
    assert km.events == sum(events) and km.censored == len(events) - sum(events)
    assert km.median == _finite(median)
    assert list(km.median_ci) == median_ci


def test_band_is_one_while_nothing_happened_and_zero_once_all_did():
    km = stats.kaplan_meier([5, 5, 9, 12], [False, False, True, True])
    assert (km.points[0].survival, km.points[0].lower, km.points[0].upper) == (1.0, 1.0, 1.0)
    last = km.points[-1]
    assert (last.survival, last.lower, last.upper) == (0.0, 0.0, 0.0)
    assert km.median == 9 and km.median_ci == (9, 12)


def test_ties_put_events_before_censorings():
    # At day 10 two events and one censoring among 4 at risk: S = 1 - 2/4, the censored one still at risk.
    km = stats.kaplan_meier([10, 10, 10, 20], [True, True, False, True])
    first = km.points[0]
    assert (first.day, first.at_risk, first.events, first.censored) == (10, 4, 2, 1)
    assert first.survival == pytest.approx(0.5)
    assert km.points[1].at_risk == 1 and km.points[1].survival == 0.0
    assert km.median == 10


def test_median_not_reached_is_none_and_hand_checked_greenwood():
    km = stats.kaplan_meier([1, 2, 3, 4, 5, 6], [True, False, False, False, False, False])
    assert km.median is None and km.median_ci == (1, None)  # the band's lower bound is below 0.5 from day 1
    s = 5 / 6
    var = 1 / (6 * 5)
    v = math.log(s)
    z = 1.959963984540054
    lower = math.exp(-math.exp(math.log(-v) - z * math.sqrt(var) / v))
    upper = math.exp(-math.exp(math.log(-v) + z * math.sqrt(var) / v))
    assert (km.points[0].lower, km.points[0].upper) == (pytest.approx(lower, abs=1e-12), pytest.approx(upper, abs=1e-12))
    assert km.survival_at(-1) == 1.0 and km.survival_at(100) == pytest.approx(s)
    assert km.at_risk_at(0) == 6 and km.at_risk_at(4) == 3 and km.at_risk_at(7) == 0


def test_empty_curve():
    km = stats.kaplan_meier([], [])
    assert km.points == () and km.median is None and km.survival_at(10) is None and km.one_minus_at(10) is None


# ---------------------------------------------------------------------------
# Quantiles and month bins
# ---------------------------------------------------------------------------


@given(st.lists(st.floats(min_value=0, max_value=100, allow_nan=False), min_size=2, max_size=50))
def test_quartiles_are_the_inclusive_method(values):
    ordered = sorted(values)
    q1, q2, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    assert stats.quantile(ordered, 0.25) == pytest.approx(q1, abs=1e-9)
    assert stats.quantile(ordered, 0.5) == pytest.approx(statistics.median(ordered), abs=1e-9)
    assert stats.quantile(ordered, 0.75) == pytest.approx(q3, abs=1e-9)


@pytest.mark.parametrize("onset, day, expected", [
    (D(2025, 1, 15), D(2025, 1, 15), "0-2"),
    (D(2025, 1, 15), D(2025, 3, 15), "0-2"),   # exactly 2 months: the upper edge is in
    (D(2025, 1, 15), D(2025, 3, 16), "2-4"),
    (D(2025, 1, 15), D(2025, 7, 15), "4-6"),
    (D(2025, 1, 15), D(2025, 7, 16), "6-8"),
    (D(2025, 1, 15), D(2025, 9, 15), "6-8"),
    (D(2025, 1, 15), D(2025, 9, 16), "8-12"),
    (D(2025, 1, 15), D(2026, 1, 15), "8-12"),
    (D(2025, 1, 15), D(2026, 1, 16), ">12"),
    (D(2024, 12, 31), D(2025, 2, 28), "0-2"),  # 2 months from 31 Dec end on 28 Feb (clipped)
    (D(2024, 12, 31), D(2025, 3, 1), "2-4"),
    (D(2023, 12, 31), D(2024, 2, 29), "0-2"),  # leap year
    (D(2025, 1, 31), D(2025, 3, 31), "0-2"),
    (D(2025, 1, 31), D(2025, 4, 1), "2-4"),
])
def test_month_bins(onset, day, expected):
    assert stats.MONTH_BINS[stats.month_bin(onset, day)] == expected


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=D(2000, 1, 1), max_value=D(2030, 1, 1)), st.integers(min_value=0, max_value=800))
def test_month_bins_follow_the_course_rules_months(onset, days):
    day = onset + dt.timedelta(days=days)
    months = course.months_since_onset(onset, day)
    expected = next((i for i, edge in enumerate(stats.MONTH_EDGES) if months <= edge), len(stats.MONTH_EDGES))
    assert stats.month_bin(onset, day) == expected
    # The same key worked out in SQL, as registry.stats_records reads the values.
    import sqlite3

    from tohtrack.store.sqlite.registry import STATS_MONTH_KEY_SQL

    key = sqlite3.connect(":memory:").execute(
        f"SELECT {STATS_MONTH_KEY_SQL} FROM (SELECT ? AS date) AS x, (SELECT ? AS symptom_onset) AS e",
        (day.isoformat(), onset.isoformat())).fetchone()[0]
    assert key == stats.month_key(onset, day)


# ---------------------------------------------------------------------------
# Episodes, censoring, filters and the as-of cut-off on hand-made cohorts
# ---------------------------------------------------------------------------

AS_OF = D(2025, 12, 1)


def patient(mrn, sex="male", birth=D(1975, 6, 1), episodes=(), archived=False):
    return Patient(mrn, "Test", mrn, birth, sex, archived=archived, episodes=list(episodes))


def episode(site, onset, resolved=None, contacts=(), diagnosis="transient_osteoporosis", extents=(), pains=()):
    imaging = [ImagingStudy(day, "MRI", edema_extent_pct=pct) for day, pct in extents]
    symptoms = [SymptomRecord(day) for day in contacts] + [SymptomRecord(day, pain_nrs=p) for day, p in pains]
    symptoms.sort(key=lambda s: s.date)
    return Episode(site, onset, resolved, diagnosis, imaging=imaging, symptoms=symptoms)


def add(store, *patients):
    for p in patients:
        store.add_patient(p, today=D(2026, 6, 1))
        if p.archived:
            row = store.patient(store.patient_id(p.mrn))
            store.set_archived(row.id, row.version)


def resolution(result):
    return sorted((s.site, s.onset, s.day, s.event) for s in result.subjects("time_to_resolution"))


def second(result):
    return sorted((s.site, s.onset, s.day, s.event) for s in result.subjects("second_episode"))


def test_time_to_resolution_events_censoring_and_as_of(store):
    add(store,
        # resolved by as_of: an event at resolved − onset
        patient("A", episodes=[episode("hip_left", D(2025, 1, 1), D(2025, 7, 20), contacts=[D(2025, 2, 1)])]),
        # resolved after as_of: censored at the latest contact on or before as_of (a later one ignored)
        patient("B", episodes=[episode("hip_right", D(2025, 3, 1), D(2026, 1, 10),
                                       contacts=[D(2025, 4, 1), D(2025, 11, 30), D(2025, 12, 20)])]),
        # no contact: censored at onset
        patient("C", episodes=[episode("knee_left", D(2025, 5, 5))]),
        # an imaging study is a contact too
        patient("D", episodes=[episode("hip_left", D(2025, 2, 1), extents=[(D(2025, 6, 1), 40)])]),
        # left out: onset after as_of, a revised diagnosis, an archived patient
        patient("E", episodes=[episode("hip_left", D(2025, 12, 2))]),
        patient("F", episodes=[episode("hip_left", D(2025, 1, 1), D(2025, 3, 1), diagnosis="avascular_necrosis")]),
        patient("G", archived=True, episodes=[episode("hip_left", D(2025, 1, 1), D(2025, 3, 1))]),
        )
    result = stats.compute(store, AS_OF)
    assert resolution(result) == [
        ("hip_left", D(2025, 1, 1), (D(2025, 7, 20) - D(2025, 1, 1)).days, True),
        ("hip_left", D(2025, 2, 1), (D(2025, 6, 1) - D(2025, 2, 1)).days, False),
        ("hip_right", D(2025, 3, 1), (D(2025, 11, 30) - D(2025, 3, 1)).days, False),
        ("knee_left", D(2025, 5, 5), 0, False),
    ]
    assert (result.patients, result.episodes) == (4, 4)
    # Resolved on the as-of day counts; a day later it does not.
    assert stats.compute(store, D(2025, 7, 20)).time_to_resolution.events == 1
    assert stats.compute(store, D(2025, 7, 19)).time_to_resolution.events == 0


def test_second_episode_rules(store):
    add(store,
        # a later onset at another site: an event at the gap
        patient("A", episodes=[episode("hip_left", D(2024, 1, 1), D(2024, 7, 1)),
                               episode("knee_left", D(2024, 10, 1), D(2025, 4, 1))]),
        # same-day onset at another site is multifocal: censored at the latest contact over both episodes
        patient("B", episodes=[episode("hip_left", D(2024, 2, 1), D(2024, 9, 1), contacts=[D(2024, 3, 1)]),
                               episode("hip_right", D(2024, 2, 1), D(2024, 9, 1), contacts=[D(2024, 8, 15)])]),
        # recurrence at the same site after resolution: an event
        patient("C", episodes=[episode("hip_right", D(2023, 1, 1), D(2023, 6, 1)),
                               episode("hip_right", D(2024, 6, 1), D(2024, 12, 1))]),
        # no contact: censored at the first onset; the second onset after as_of does not count
        patient("D", episodes=[episode("knee_right", D(2025, 3, 1)), episode("hip_left", D(2025, 12, 5))]),
        # multifocal first onset, then a third site later: an event from the first onset
        patient("E", episodes=[episode("ankle_left", D(2024, 4, 1), D(2024, 9, 1)),
                               episode("knee_left", D(2024, 4, 1), D(2024, 9, 1)),
                               episode("hip_left", D(2025, 1, 1))]),
        )
    result = stats.compute(store, AS_OF)
    assert second(result) == [
        ("ankle_left", D(2024, 4, 1), (D(2025, 1, 1) - D(2024, 4, 1)).days, True),
        ("hip_left", D(2024, 1, 1), (D(2024, 10, 1) - D(2024, 1, 1)).days, True),
        ("hip_left", D(2024, 2, 1), (D(2024, 8, 15) - D(2024, 2, 1)).days, False),
        ("hip_right", D(2023, 1, 1), (D(2024, 6, 1) - D(2023, 1, 1)).days, True),
        ("knee_right", D(2025, 3, 1), 0, False),
    ]
    # The flags are the course assessment's own.
    flags = [f for pid in (store.patient_id(m) for m in "ABCDE")
             for f in course.assess(store.patient(pid), AS_OF).flags]
    recurrence = [f for f in flags if f.code == "RECURRENCE"]
    migration = [f for f in flags if f.code == "MIGRATION"]
    assert result.recurrence == (len(recurrence), 1) == (1, 1)
    assert result.migration == (len(migration), 2)
    assert result.migration_table == sorted(
        [(a, b, n) for (a, b), n in Counter((f.from_site, f.site) for f in migration).items()],
        key=lambda r: (-r[2], r[0], r[1]))
    assert ("hip_left", "knee_left", 1) in result.migration_table
    assert result.onset_interval.n == 3  # A, C, E (E's multifocal pair is one onset)
    document = result.as_json()["second_episode"]
    assert document["patients"] == 5 and document["events"] == 3 and document["censored"] == 2


def test_filters(store):
    add(store,
        patient("M1", "male", D(1975, 6, 1), [episode("hip_left", D(2024, 1, 1), D(2024, 7, 1)),
                                              episode("knee_left", D(2024, 10, 1), D(2025, 4, 1))]),
        patient("M2", "male", D(1960, 6, 1), [episode("knee_right", D(2024, 3, 1), D(2024, 9, 1)),
                                              episode("hip_right", D(2025, 1, 1), D(2025, 6, 1))]),
        patient("W1", "female", D(1990, 1, 1), [episode("hip_left", D(2025, 2, 1), D(2025, 8, 1))]),
        )
    everything = stats.compute(store, AS_OF)
    assert everything.episodes == 5 and everything.second_episode.subjects == 3

    hips = stats.compute(store, AS_OF, stats.Filters(joint="hip"))
    # per-episode: the hip episodes of everyone; second episode: patients whose first episode is at the hip
    assert sorted(s.site for s in hips.subjects("time_to_resolution")) == ["hip_left", "hip_left", "hip_right"]
    assert sorted((s.site, s.event) for s in hips.subjects("second_episode")) == [("hip_left", False), ("hip_left", True)]
    knees = stats.compute(store, AS_OF, stats.Filters(joint="knee"))
    assert [(s.site, s.event, s.day) for s in knees.subjects("second_episode")] == [
        ("knee_right", True, (D(2025, 1, 1) - D(2024, 3, 1)).days)]  # the next episode counts at any site
    assert knees.migration_table == [("knee_right", "hip_right", 1)]

    men = stats.compute(store, AS_OF, stats.Filters(sex="male"))
    assert men.patients == 2 and men.episodes == 4 and men.second_episode.subjects == 2
    # age band at the first onset: M1 was 48 on 2024-01-01, M2 63 on 2024-03-01, W1 35
    forties = stats.compute(store, AS_OF, stats.Filters(age_band="40-49"))
    assert forties.patients == 1 and forties.episodes == 2 and forties.age_band == {"40-49": 1}
    assert stats.compute(store, AS_OF, stats.Filters(age_band="60-69")).sex == {"male": 1}

    # onset range: the episode's onset (per-episode), the first onset (second episode)
    dated = stats.compute(store, AS_OF, stats.Filters(onset_from=D(2024, 6, 1), onset_to=D(2025, 1, 31)))
    assert sorted(s.onset for s in dated.subjects("time_to_resolution")) == [D(2024, 10, 1), D(2025, 1, 1)]
    assert dated.second_episode.subjects == 0
    firsts = stats.compute(store, AS_OF, stats.Filters(onset_from=D(2024, 1, 1), onset_to=D(2024, 3, 1)))
    assert firsts.second_episode.subjects == 2 and firsts.episodes == 2
    assert stats.compute(store, AS_OF, stats.Filters(joint="all")).episodes == everything.episodes
    combined = stats.compute(store, AS_OF, stats.Filters(joint="hip", sex="female"))
    assert combined.episodes == 1 and combined.second_episode.subjects == 1


def test_bad_filters_are_refused():
    assert [o for o, _ in stats.Filters(joint="neck", sex="x", age_band="41-50").problems()] == \
        ["joint", "sex", "age-band"]
    assert stats.Filters(onset_from=D(2025, 2, 1), onset_to=D(2025, 1, 1)).problems()[0][0] == "onset-from"
    for text in ("40-49", " 40-49 "):
        assert stats.parse_age_band(text) == "40-49"
    for text in ("40-50", "41-50", "forty", "", "40", "-10--1"):
        with pytest.raises(ValueError):
            stats.parse_age_band(text)
    assert stats.age_band(47) == "40-49" and stats.age_band(9) == "0-9" and stats.age_band(100) == "100-109"


def test_descriptive_by_month_and_as_of(store):
    add(store,
        patient("A", episodes=[episode("hip_left", D(2025, 1, 15), extents=[(D(2025, 2, 1), 80), (D(2025, 3, 15), 60),
                                                                              (D(2025, 3, 16), 50)],
                                       pains=[(D(2025, 1, 20), 8), (D(2025, 12, 5), 1)])]),
        patient("B", episodes=[episode("hip_right", D(2025, 1, 10), extents=[(D(2025, 2, 10), 70)],
                                       pains=[(D(2025, 2, 1), 6)])]),
        )
    result = stats.compute(store, AS_OF)
    by = dict(zip(stats.MONTH_BINS, result.extent_by_month))
    assert (by["0-2"].n, by["0-2"].median, by["0-2"].q1, by["0-2"].q3) == (3, 70, 65, 75)
    assert by["0-2"].patients == 2
    assert (by["2-4"].n, by["2-4"].median) == (1, 50)
    assert by["4-6"] is None
    pains = dict(zip(stats.MONTH_BINS, result.pain_by_month))
    assert pains["0-2"].n == 2 and pains["8-12"] is None  # the record of 5 Dec is after as_of
    assert stats.compute(store, D(2025, 12, 31)).pain_by_month[4].n == 1
    assert result.episodes_by_site == {"hip_left": 1, "hip_right": 1}


def test_json_shape(store):
    add(store, patient("A", episodes=[episode("hip_left", D(2025, 1, 1), D(2025, 7, 1))]),
        patient("B", episodes=[episode("hip_left", D(2025, 2, 1), contacts=[D(2025, 5, 1)])]))
    document = json.loads(json.dumps(stats.compute(store, AS_OF).as_json()))
    assert document["as_of"] == "2025-12-01" and document["patients"] == 2 and document["episodes"] == 2
    ttr = document["time_to_resolution"]
    assert {"events", "censored", "median_days", "median_ci95_days", "curve", "resolved_by_day"} <= set(ttr)
    assert set(ttr["resolved_by_day"]) == {"182", "243", "365"}
    assert [p["day"] for p in ttr["curve"]] == [89, 181]
    assert ttr["curve"][1] == {"day": 181, "at_risk": 1, "events": 1, "censored": 0, "survival": 0.0, "ci95": [0.0, 0.0]}
    assert ttr["curve"][0]["ci95"] == [1.0, 1.0]
    assert ttr["resolved_by_day"] == {"182": 1.0, "243": 1.0, "365": 1.0}
    assert ttr["median_days"] == 181 and len(ttr["median_ci95_days"]) == 2
    second = document["second_episode"]
    assert set(second["cumulative_incidence_by_day"]) == {"365", "730", "1825"}
    assert second["events"] == 0 and second["censored"] == 2 and second["median_days"] is None
    assert second["median_ci95_days"] == [None, None]


def test_empty_database(store):
    document = stats.compute(store, AS_OF).as_json()
    assert document["patients"] == 0 and document["time_to_resolution"]["curve"] == []
    assert document["time_to_resolution"]["resolved_by_day"] == {"182": None, "243": None, "365": None}


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------


def test_cli_json_and_text(capsys, store, db_target):
    add(store, patient("A", episodes=[episode("hip_left", D(2025, 1, 1), D(2025, 7, 1)),
                                      episode("knee_left", D(2025, 9, 1), contacts=[D(2025, 10, 1)])]))
    assert main(["stats", "--as-of", "2025-12-01", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["episodes"] == 2 and document["second_episode"]["events"] == 1
    assert main(["stats", "--as-of", "2025-12-01", "--joint", "knee", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["episodes"] == 1
    assert main(["stats", "--as-of", "2025-12-01"]) == 0
    text = capsys.readouterr().out
    assert "Time to resolution" in text and "median 181 days" in text and "left hip → left knee: 1" in text


@pytest.mark.parametrize("args, option", [
    (["--joint", "neck"], "--joint"),
    (["--sex", "m"], "--sex"),
    (["--age-band", "41-50"], "--age-band"),
    (["--as-of", "2025-13-01"], "--as-of"),
    (["--onset-from", "yesterday"], "--onset-from"),
    (["--onset-from", "2025-02-01", "--onset-to", "2025-01-01"], "--onset-from"),
    (["--pdf", "."], "."),
])
def test_cli_bad_options_exit_2_naming_them(capsys, store, args, option):
    try:
        code = main(["stats", *args])
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err
    assert option in err and "Traceback" not in err


# ---------------------------------------------------------------------------
# The fast path against a straightforward reference, on random cohorts
# ---------------------------------------------------------------------------

_SITES = ("hip_left", "hip_right", "knee_left", "ankle_right")


def _valid_episodes(drawn, base):
    """Episodes from drawn (site, onset offset, days to resolution or None, diagnosis, contacts), made to obey
    the one-episode-at-a-time-per-site rule by dropping those that would overlap."""
    kept, last = [], {}
    for site, offset, length, toh, contacts in sorted(drawn, key=lambda d: (d[1], d[0])):
        onset = base + dt.timedelta(days=offset)
        previous = last.get(site)
        if previous is not None and (previous.resolved_on is None or previous.resolved_on >= onset):
            continue
        resolved = None if length is None else onset + dt.timedelta(days=length)
        extents = [(onset + dt.timedelta(days=d), v) for d, v, kind in contacts if kind == "mri" and
                   (resolved is None or d <= length)]
        pains = [(onset + dt.timedelta(days=d), v % 11) for d, v, kind in contacts if kind == "pain" and
                 (resolved is None or d <= length)]
        e = episode(site, onset, resolved, diagnosis="transient_osteoporosis" if toh else "stress_fracture",
                    extents=extents, pains=pains)
        kept.append(e)
        last[site] = e
    return kept


_contacts = st.lists(st.tuples(st.integers(0, 300), st.integers(0, 100), st.sampled_from(["mri", "pain"])),
                     max_size=4)
_patients = st.lists(st.tuples(
    st.sampled_from(["male", "female"]), st.integers(20, 70), st.booleans(),
    st.lists(st.tuples(st.sampled_from(_SITES), st.integers(0, 700), st.one_of(st.none(), st.integers(20, 400)),
                       st.booleans() | st.just(True), _contacts), min_size=1, max_size=4)),
    min_size=1, max_size=8)


def _reference(patients, as_of, f):
    """The figures worked out the plain way from whole Patient records, as the README defines them."""
    joint = None if f.joint in (None, "all") else f.joint

    def onset_ok(day):
        return f.onset_in(day)

    def last_contact(e, default):
        days = [s.date for s in e.imaging if s.date <= as_of] + [s.date for s in e.symptoms if s.date <= as_of]
        return max(days, default=default)

    resolution, second, intervals = [], [], []
    flags = [0, 0, 0, 0]
    table = {}
    extents = [[] for _ in stats.MONTH_BINS]
    pains = [[] for _ in stats.MONTH_BINS]
    extent_who = [set() for _ in stats.MONTH_BINS]
    pain_who = [set() for _ in stats.MONTH_BINS]
    behind = {}
    for p in patients:
        if p.archived:
            continue
        toh = sorted((e for e in p.episodes if e.is_toh and e.symptom_onset <= as_of),
                     key=lambda e: (e.symptom_onset, e.site))
        if not toh:
            continue
        first = toh[0]
        band = stats.age_band(registry.age_on(p.birth_date, first.symptom_onset))
        if f.sex is not None and p.sex != f.sex or f.age_band is not None and band != f.age_band:
            continue
        for e in toh:
            if joint is not None and site_joint(e.site) != joint or not onset_ok(e.symptom_onset):
                continue
            behind[p.mrn] = (p.sex, band)
            if e.resolved_on is not None and e.resolved_on <= as_of:
                resolution.append(((e.resolved_on - e.symptom_onset).days, True, e.site, e.symptom_onset))
            else:
                end = last_contact(e, e.symptom_onset)
                resolution.append(((end - e.symptom_onset).days, False, e.site, e.symptom_onset))
            for study in e.imaging:
                if study.date <= as_of and study.edema_extent_pct is not None:
                    i = stats.month_bin(e.symptom_onset, study.date)
                    extents[i].append(float(study.edema_extent_pct))
                    extent_who[i].add(p.mrn)
            for record in e.symptoms:
                if record.date <= as_of and record.pain_nrs is not None:
                    i = stats.month_bin(e.symptom_onset, record.date)
                    pains[i].append(float(record.pain_nrs))
                    pain_who[i].add(p.mrn)
        if joint is not None and site_joint(first.site) != joint or not onset_ok(first.symptom_onset):
            continue
        later = [e for e in toh if e.symptom_onset > first.symptom_onset]
        if later:
            second.append(((later[0].symptom_onset - first.symptom_onset).days, True, first.site,
                           first.symptom_onset))
            onsets = sorted({e.symptom_onset for e in toh})
            intervals += [(b - a).days for a, b in zip(onsets, onsets[1:])]
            raised = [x for x in course.assess(p, as_of).flags if x.code in ("RECURRENCE", "MIGRATION")]
            for code, at in (("RECURRENCE", 0), ("MIGRATION", 2)):
                n = sum(x.code == code for x in raised)
                flags[at] += n
                flags[at + 1] += n > 0
            for x in raised:
                if x.code == "MIGRATION":
                    table[x.from_site, x.site] = table.get((x.from_site, x.site), 0) + 1
        else:
            end = max(last_contact(e, first.symptom_onset) for e in toh)
            second.append(((end - first.symptom_onset).days, False, first.site, first.symptom_onset))
    return {
        "resolution": sorted(resolution), "second": sorted(second), "flags": flags,
        "table": sorted(table.items()), "intervals": stats.Spread.of(intervals, sum(s[1] for s in second)),
        "extents": [stats.Spread.of(v, len(w)) for v, w in zip(extents, extent_who)],
        "pains": [stats.Spread.of(v, len(w)) for v, w in zip(pains, pain_who)],
        "patients": len(behind),
        "sex": dict(sorted(Counter(s for s, _ in behind.values()).items())),
        "bands": Counter(b for _, b in behind.values()),
    }


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_patients, st.sampled_from([None, "hip", "knee", "ankle"]), st.sampled_from([None, "male", "female"]),
       st.sampled_from([None, "40-49", "50-59"]), st.sampled_from([None, D(2024, 6, 1)]),
       st.sampled_from([D(2024, 3, 1), D(2025, 1, 1), D(2027, 1, 1)]))
def test_fast_path_equals_a_plain_reference(tmp_path_factory, drawn, joint, sex, band, onset_from, as_of):
    from tohtrack.db import Store

    base = D(2023, 1, 1)
    with Store(tmp_path_factory.mktemp("cohort") / "c.sqlite3", clinician="Dr Test") as store:
        for n, (sx, age, archived, episodes) in enumerate(drawn):
            birth = base.replace(year=base.year - age)
            add(store, patient(f"P{n}", sex=sx, birth=birth, episodes=_valid_episodes(episodes, base),
                               archived=archived))
        f = stats.Filters(joint=joint, sex=sex, age_band=band, onset_from=onset_from)
        got = stats.compute(store, as_of, f)
        want = _reference(list(store.patients()), as_of, f)
    rows = sorted((s.day, s.event, s.site, s.onset) for s in got.subjects("time_to_resolution"))
    assert rows == want["resolution"]
    assert sorted((s.day, s.event, s.site, s.onset) for s in got.subjects("second_episode")) == want["second"]
    assert got.time_to_resolution == stats.kaplan_meier([r[0] for r in rows], [r[1] for r in rows])
    assert [*got.recurrence, *got.migration] == want["flags"]
    assert sorted(((a, b), n) for a, b, n in got.migration_table) == want["table"]
    assert got.onset_interval == want["intervals"]
    assert got.extent_by_month == want["extents"]
    assert got.pain_by_month == want["pains"]
    assert got.patients == want["patients"] and got.sex == want["sex"] and got.age_band == dict(want["bands"])


def test_the_demo_cohort_is_clinically_plausible(store):
    """The demo draws its course from the literature (README, "The demo cohort"): time to resolution a median of
    6–7.5 months, most within 8, some beyond a year; a second episode in about a fifth by 5 years (Kaplan–Meier,
    the literature's 10–40%); men to women about 3:1; migration mostly hip to the other hip."""
    from tohtrack import demo

    today = D(2026, 12, 7)
    store.add_patients(list(demo.generate(1500, seed=0, today=today)), validate=False)
    s = stats.compute(store, today)
    km, second = s.time_to_resolution, s.second_episode
    assert 180 <= km.median <= 230
    assert 0.6 <= km.one_minus_at(243) <= 0.85 and km.one_minus_at(365) < 0.97
    assert 0.15 <= second.one_minus_at(1825) <= 0.32
    assert 2.5 <= s.sex["male"] / s.sex["female"] <= 3.6
    top = s.migration_table[0]
    assert {top[0], top[1]} == {"hip_left", "hip_right"}
