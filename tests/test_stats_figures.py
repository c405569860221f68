"""The cohort statistics' per-episode cache (episode_figures, migration m007): the triggers keep it equal to the
records through any write, the statistics give the same figures from it as from the records, fall back to the
records when it cannot stand for them, and `check` names a row changed outside TOHtrack. Also the SQL the
statistics read with (age, month key) against the Python it stands for."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tohtrack import registry, stats
from tohtrack.store.sqlite import migrations, registry as sqlite_registry
from tohtrack.db import Store
from tohtrack.model import Episode, ImagingStudy, Patient, SymptomRecord

D = dt.date
BASE = D(2023, 1, 1)
SITES = ("hip_left", "hip_right", "knee_left", "ankle_right")


def _patient(n: int, sex: str, age: int, episodes: list[tuple]) -> Patient:
    """A patient from drawn episodes (site, onset offset, length or None, studies, symptom records); episodes
    at one site that would overlap are left out (one episode at a time per site)."""
    kept, last = [], {}
    for site, offset, length, studies, records in sorted(episodes, key=lambda e: (e[1], e[0])):
        onset = BASE + dt.timedelta(days=offset)
        previous = last.get(site)
        if previous is not None and (previous.resolved_on is None or previous.resolved_on >= onset):
            continue
        resolved = None if length is None else onset + dt.timedelta(days=length)
        limit = 10_000 if length is None else length
        imaging = [ImagingStudy(onset + dt.timedelta(days=d), "MRI", edema_extent_pct=v)
                   for d, v in studies if d <= limit]
        symptoms = sorted((SymptomRecord(onset + dt.timedelta(days=d), pain_nrs=v) for d, v in records if d <= limit),
                          key=lambda s: s.date)
        e = Episode(site, onset, resolved, "transient_osteoporosis", imaging=imaging, symptoms=symptoms)
        kept.append(e)
        last[site] = e
    return Patient(f"P{n}", "Test", f"P{n}", BASE.replace(year=BASE.year - age), sex, episodes=kept)


_records = st.lists(st.tuples(st.integers(0, 500), st.one_of(st.none(), st.integers(0, 10))), max_size=4)
_studies = st.lists(st.tuples(st.integers(0, 500), st.one_of(st.none(), st.integers(0, 100))), max_size=3)
_cohort = st.lists(st.tuples(
    st.sampled_from(["male", "female"]), st.integers(25, 70),
    st.lists(st.tuples(st.sampled_from(SITES), st.integers(0, 900), st.one_of(st.none(), st.integers(20, 400)),
                       _studies, _records), min_size=1, max_size=3)),
    min_size=1, max_size=6)

#: Writes made straight in SQL (as another program could): each is (statement, how to draw its parameters).
_EDITS = st.lists(st.tuples(
    st.sampled_from(["pain", "pain_date", "extent", "extent_real", "move_study", "move_symptom", "drop_symptom",
                     "drop_study", "onset", "add_symptom", "add_study", "drop_episode", "diagnosis"]),
    st.integers(0, 10_000), st.integers(-40, 900)), max_size=8)


def _pick(conn: sqlite3.Connection, table: str, n: int) -> int | None:
    ids = [r[0] for r in conn.execute(f"SELECT id FROM {table} ORDER BY id")]
    return ids[n % len(ids)] if ids else None


def _edit(conn: sqlite3.Connection, kind: str, n: int, m: int) -> None:
    day = (BASE + dt.timedelta(days=m)).isoformat()
    study, record, episode = (_pick(conn, t, n) for t in ("imaging", "symptoms", "episodes"))
    other = _pick(conn, "episodes", n + m)
    statements = {  # (SQL, parameters, the rows it needs)
        "pain": ("UPDATE symptoms SET pain_nrs = ? WHERE id = ?", (m % 11 if m % 5 else None, record), (record,)),
        "pain_date": ("UPDATE symptoms SET date = ? WHERE id = ?", (day, record), (record,)),
        "extent": ("UPDATE imaging SET edema_extent_pct = ? WHERE id = ?", (m % 101 if m % 7 else None, study),
                   (study,)),
        "extent_real": ("UPDATE imaging SET edema_extent_pct = ? WHERE id = ?", (m / 7 + 0.1, study), (study,)),
        "move_study": ("UPDATE imaging SET episode_id = ? WHERE id = ?", (other, study), (other, study)),
        "move_symptom": ("UPDATE symptoms SET episode_id = ? WHERE id = ?", (other, record), (other, record)),
        "drop_symptom": ("DELETE FROM symptoms WHERE id = ?", (record,), (record,)),
        "drop_study": ("DELETE FROM imaging WHERE id = ?", (study,), (study,)),
        "onset": ("UPDATE episodes SET symptom_onset = ? WHERE id = ?", (day, episode), (episode,)),
        "add_symptom": ("INSERT INTO symptoms (episode_id, date, pain_nrs) VALUES (?, ?, ?)", (episode, day, m % 11),
                        (episode,)),
        # A value as text that is a number ('12', stored as one) or a real, as another program could write it.
        "add_study": ("INSERT INTO imaging (episode_id, date, modality, edema_extent_pct) VALUES (?, ?, 'MRI', ?)",
                      (episode, day, (str(m % 101), m / 3, m % 101, None)[n % 4]), (episode,)),
        "diagnosis": ("UPDATE episodes SET diagnosis = CASE diagnosis WHEN 'transient_osteoporosis' "
                      "THEN 'stress_fracture' ELSE 'transient_osteoporosis' END WHERE id = ?", (episode,), (episode,)),
    }
    if kind == "drop_episode":
        if episode is not None:
            for table in ("imaging", "symptoms", "treatments"):
                conn.execute(f"DELETE FROM {table} WHERE episode_id = ?", (episode,))
            conn.execute("DELETE FROM episodes WHERE id = ?", (episode,))
        return
    sql, params, needed = statements[kind]
    if None not in needed:
        conn.execute(sql, params)


def _fresh_rows(conn: sqlite3.Connection) -> dict:
    rows = conn.execute(migrations.FIGURES_ROW).fetchall()
    found = {r[0]: (r[1], sorted((r[2] or "").split()), r[3], r[4], sorted((r[5] or "").split()), r[6], r[7])
             for r in rows}
    # `check` makes them all at once another way: the same rows.
    together = conn.execute(sqlite_registry.figures_rows_sql()).fetchall()
    assert {r[0]: (r[1], sorted((r[2] or "").split()), r[3], r[4], sorted((r[5] or "").split()), r[6], r[7])
            for r in together} == found
    return found


def _stored_rows(conn: sqlite3.Connection) -> dict:
    rows = conn.execute("SELECT * FROM episode_figures").fetchall()
    return {r[0]: (r[1], sorted((r[2] or "").split()), r[3], r[4], sorted((r[5] or "").split()), r[6], r[7])
            for r in rows}


def _figures(store: Store, as_of: dt.date, pooled: bool, f: stats.Filters = stats.Filters()):
    records = registry.stats_records(store, as_of, pooled=pooled)
    return records.pooled, stats.from_records(records, f)


def _same(a: stats.CohortStats, b: stats.CohortStats) -> None:
    assert a.as_json() == b.as_json()
    for curve in ("time_to_resolution", "second_episode"):
        assert a.subjects(curve) == b.subjects(curve)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(_cohort, _EDITS, st.sampled_from([None, "hip", "knee"]), st.sampled_from([None, "male"]),
       st.sampled_from([None, "40-49"]), st.sampled_from([None, D(2024, 1, 1)]))
def test_rows_follow_every_write_and_give_the_records_figures(tmp_path_factory, drawn, edits, joint, sex, band,
                                                               onset_from):
    path = tmp_path_factory.mktemp("figures") / "c.sqlite3"
    with Store(path, clinician="Dr Test") as store:
        for n, (sx, age, episodes) in enumerate(drawn):
            store.add_patient(_patient(n, sx, age, episodes), today=D(2030, 1, 1))
        conn = store.conn
        assert _stored_rows(conn) == _fresh_rows(conn)
        with conn:
            for kind, n, m in edits:
                _edit(conn, kind, n, m)
        assert _stored_rows(conn) == _fresh_rows(conn)
        assert sqlite_registry.verify_stats_figures(store) == []
        f = stats.Filters(joint=joint, sex=sex, age_band=band, onset_from=onset_from)
        for as_of in (D(2024, 6, 1), D(2030, 1, 1)):
            pooled, fast = _figures(store, as_of, True, f)
            plain, slow = _figures(store, as_of, False, f)
            assert not plain
            if as_of.year == 2030:
                assert pooled  # every record is before it: the rows stand for the records
            _same(fast, slow)


@pytest.fixture
def cohort(store):
    for n, episodes in enumerate([
        [("hip_left", 0, 200, [(10, 80), (100, 40)], [(5, 8), (60, 5), (190, 1)])],
        [("hip_right", 30, None, [(20, 70)], [(15, 7)]), ("knee_left", 400, 150, [(30, 50)], [(40, 6)])],
        [("hip_left", 60, None, [], [(400, 3)])],  # no study; still active, a symptom record on day 460
    ]):
        store.add_patient(_patient(n, "female" if n % 2 else "male", 45, episodes), today=D(2030, 1, 1))
    return store


@pytest.mark.sqlite_only("episode_figures is SQLite's per-episode cache of the statistics; the server reads the records")
def test_the_rows_are_used_only_when_they_hold_every_record_by_as_of(cohort):
    late = D(2030, 1, 1)
    assert _figures(cohort, late, True)[0]
    # A record after as_of (the symptom record of the third patient on day 460): read the records.
    early = BASE + dt.timedelta(days=300)
    pooled, fast = _figures(cohort, early, True)
    assert not pooled
    _same(fast, _figures(cohort, early, False)[1])


@pytest.mark.sqlite_only("episode_figures is SQLite's per-episode cache of the statistics; the server reads the records")
@pytest.mark.parametrize("damage", [
    "DELETE FROM episode_figures WHERE episode_id = (SELECT min(id) FROM episodes)",
    "UPDATE imaging SET edema_extent_pct = 'about half' WHERE id = (SELECT min(id) FROM imaging)",
])
def test_a_missing_row_or_a_value_that_is_not_a_number_reads_the_records(cohort, damage):
    conn = cohort.conn
    with conn:
        conn.execute(damage)
    records = registry.stats_records(cohort, D(2030, 1, 1))
    assert not records.pooled
    assert len(records.extents) == 4 and len(records.pains) == 6


@pytest.mark.sqlite_only("episode_figures is SQLite's per-episode cache of the statistics; the server reads the records")
def test_values_are_kept_exactly(cohort):
    conn = cohort.conn
    with conn:
        conn.execute("UPDATE imaging SET edema_extent_pct = ? WHERE id = (SELECT min(id) FROM imaging)",
                     (0.1 + 0.2,))
    pooled, fast = _figures(cohort, D(2030, 1, 1), True)
    assert pooled
    assert 0.1 + 0.2 in (fast.extent_by_month[0].low, fast.extent_by_month[0].high)
    _same(fast, _figures(cohort, D(2030, 1, 1), False)[1])


@pytest.mark.sqlite_only("episode_figures is SQLite's per-episode cache of the statistics; the server reads the records")
def test_check_names_a_row_changed_outside(cohort):
    assert cohort.check() == []
    conn = cohort.conn
    with conn:
        conn.execute("UPDATE episode_figures SET pains = '0:10' WHERE episode_id = (SELECT min(id) FROM episodes)")
        conn.execute("INSERT INTO episode_figures (episode_id, extents_plain, pains_plain) VALUES (999, 1, 1)")
    problems = cohort.check()
    assert any("does not match its records" in p for p in problems)
    assert any("episode 999, which does not exist" in p for p in problems)
    # The statistics stay right meanwhile: the changed row is not the records', but the figures from the
    # records are what a fresh row would give (the next write to the episode writes it again).
    with conn:
        conn.execute("UPDATE symptoms SET pain_nrs = pain_nrs WHERE episode_id = (SELECT min(id) FROM episodes)")
        conn.execute("DELETE FROM episode_figures WHERE episode_id = 999")
    assert cohort.check() == []


def test_an_older_file_opened_read_only_reads_the_records(tmp_path):
    """A file from before m007, opened read-only (not upgraded): the statistics read the records."""
    path = tmp_path / "old.sqlite3"
    with Store(path, clinician="Dr Test") as store:
        store.add_patient(_patient(0, "male", 50, [("hip_left", 0, 100, [(5, 60)], [(5, 7)])]),
                          today=D(2026, 6, 1))
        want = stats.compute(store, D(2030, 1, 1))
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("DROP TABLE episode_figures")
        for name in migrations.FIGURES_TRIGGERS:
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm007_episode_figures'")
    conn.close()
    with Store(path, readonly=True) as store:
        records = registry.stats_records(store, D(2030, 1, 1))
        assert not records.pooled
        _same(stats.from_records(records), want)


# ---------------------------------------------------------------------------
# The SQL against the Python it stands for
# ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2030, 12, 31)),
       st.dates(min_value=D(1990, 1, 1), max_value=D(2040, 12, 31)))
def test_the_age_in_sql_is_age_on(birth, onset):
    conn = sqlite3.connect(":memory:")
    age = conn.execute(f"SELECT {sqlite_registry.STATS_AGE_SQL} FROM (SELECT ? AS symptom_onset) AS e, "
                       "(SELECT ? AS birth_date) AS p", (onset.isoformat(), birth.isoformat())).fetchone()[0]
    assert age == registry.age_on(birth, onset)


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=D(2000, 1, 1), max_value=D(2030, 1, 1)), st.integers(min_value=-40, max_value=900))
def test_the_stored_month_key_is_month_key(onset, days):
    day = onset + dt.timedelta(days=days)
    conn = sqlite3.connect(":memory:")
    key = conn.execute(f"SELECT {migrations._FIGURES_KEY} FROM (SELECT ? AS date) AS x, "
                       "(SELECT ? AS symptom_onset) AS e", (day.isoformat(), onset.isoformat())).fetchone()[0]
    assert key == stats.month_key(onset, day)


def test_the_key_bits_cover_the_month_bins():
    assert migrations.FIGURES_TOP_KEY == stats.TOP_KEY == len(stats._BIN_BY_KEY) - 1
    assert stats._bins_of_mask(1 << 0 | 1 << 4 | 1 << 5 | 1 << 24) == (0, 1, 4)
    assert stats._bins_of_mask(1 << 25) == (len(stats.MONTH_EDGES),)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 12) | st.floats(0, 100, allow_nan=False), min_size=1, max_size=40))
def test_spread_of_counts_is_spread_of(values):
    counts: dict[float, int] = {}
    for v in values:
        counts[float(v)] = counts.get(float(v), 0) + 1
    assert stats.Spread.of_counts(counts, 3) == stats.Spread.of(map(float, values), 3)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SITES), st.integers(0, 60), st.one_of(st.none(), st.integers(1, 40))),
                min_size=1, max_size=6))
def test_migratory_flags_are_the_course_rules(drawn):
    rows = sorted(((n, 1, site, 700_000 + onset, None if length is None else 700_000 + onset + length)
                   for n, (site, onset, length) in enumerate(drawn)), key=lambda r: (r[3], r[2], r[0]))
    want = [(f.code, f.from_site, f.site) for f in stats.course_migratory_flags(rows, D(2030, 1, 1))]
    assert stats.migratory_flags(rows) == want


@pytest.mark.parametrize("pooled", [True, False])
def test_pain_is_worked_out_on_first_use_and_the_same_as_at_once(cohort, pooled, backend):
    """The Cohort tab does not show pain: its figures hold what works pain out, used on first reading (the CLI
    and the report read it at once) — the same values either way, of the filtered episodes only."""
    for f in (stats.Filters(), stats.Filters(joint="knee"), stats.Filters(joint="hip", sex="male")):
        used, figures = _figures(cohort, D(2030, 1, 1), pooled, f)
        assert used == (pooled and backend == "sqlite")  # the server has no per-episode cache: the records
        assert callable(figures.pain)  # nothing worked out yet
        other = _figures(cohort, D(2030, 1, 1), not pooled, f)[1]
        assert figures.pain_by_month == other.pain_by_month and not callable(figures.pain)
        assert figures == other
    knee = _figures(cohort, D(2030, 1, 1), pooled, stats.Filters(joint="knee"))[1]
    assert [(b.n, b.median) for b in knee.pain_by_month if b] == [(1, 6.0)]  # the knee episode's one record
    changed = _figures(cohort, D(2030, 1, 1), pooled)[1]
    changed.pain = [None] * len(stats.MONTH_BINS)
    assert changed != _figures(cohort, D(2030, 1, 1), pooled)[1]  # equality compares pain too


@pytest.mark.parametrize("pooled", [True, False])
def test_figures_read_without_pain_are_the_same_but_for_pain(cohort, pooled, backend):
    """The Cohort tab reads the records without the pain scores (it does not show them): every other figure is
    the one read with them, and pain says it was not worked out (None), never an empty or made-up spread."""
    for f in (stats.Filters(), stats.Filters(joint="knee"), stats.Filters(joint="hip", sex="male")):
        records = registry.stats_records(cohort, D(2030, 1, 1), pooled=pooled, pain=False)
        assert records.pooled == (pooled and backend == "sqlite")  # the server reads the records
        assert not records.with_pain and records.pains == []
        if records.pooled:
            assert all(row[10] is None and row[11] is None for row in records.episodes)
        without = stats.from_records(records, f)
        assert without.pain is None and without.pain_by_month is None
        full = _figures(cohort, D(2030, 1, 1), pooled, f)[1]
        assert full.pain_by_month is not None
        want, got = full.as_json(), without.as_json()
        assert got["descriptive"].pop("pain_nrs_by_month") is None
        want["descriptive"].pop("pain_nrs_by_month")
        assert got == want
        for curve in ("time_to_resolution", "second_episode"):
            assert without.subjects(curve) == full.subjects(curve)
    assert stats.compute(cohort, D(2030, 1, 1), pain=False).pain_by_month is None
    assert stats.compute(cohort, D(2030, 1, 1)).pain_by_month is not None
