"""The patient registry: prefix search, filters against the course assessment, sorting and keyset pages."""

import datetime as dt
import string
import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from tohtrack import course, demo, interchange, registry
from tohtrack.db import Store, fold
from tohtrack.store.sqlite import registry as registry_sql
from tohtrack.model import Episode, Patient
from tohtrack.registry import Filters

TODAY = dt.date(2026, 3, 1)
AS_OF_DATES = (dt.date(2019, 6, 1), dt.date(2022, 1, 15), dt.date(2024, 7, 1), TODAY)
EVERYONE = Filters(archived=None)
ALL = 10 ** 6

#: Back from m002's registry indexes to m001's: the registry must be right with either set.
M001_INDEXES = """
DROP INDEX patients_name;
DROP INDEX patients_given_name;
DROP INDEX patients_birth_date;
DROP INDEX episodes_onset;
CREATE INDEX patients_family_key ON patients (family_key);
CREATE INDEX patients_given_key ON patients (given_key)
"""

CRAFTED = [
    # mrn, family, given, birth, episodes (site, onset, resolved)
    ("ab-100", "Müller", "Hans", "1970-01-01", [("hip_left", "2024-01-10", None)]),
    ("AB-101", "Muller", "Hans", "1971-01-01", [("hip_right", "2023-05-01", "2023-12-01")]),
    ("aB-102", "MÜLLER", "hans", "1972-01-01", []),
    ("Xy-7", "van der Berg", "Anna", "1980-05-05", [("knee_left", "2025-02-01", None)]),
    ("H-000123", "Rossi", "Marco", "1976-03-02", [("hip_left", "2025-01-10", "2025-07-01"),
                                                 ("hip_right", "2025-08-02", None)]),
    ("H-000124", "Rossi", "Maria", "1979-03-02", [("hip_left", "2020-01-10", "2020-07-01")]),
    ("Q%_\\'1", "O'Brien", "Seán", "1985-12-31", [("hip_left", "2025-12-01", None)]),
    ("N-1", "Ødegaard", "Bjørn", "1966-06-06", [("ankle_right", "2021-04-04", "2021-10-10")]),
    ("N-2", "García-López", "José Luis", "1990-02-28", [("hip_left", "2025-06-01", None),
                                                        ("hip_right", "2025-06-01", None)]),
]


def _crafted() -> list[Patient]:
    patients = []
    for mrn, family, given_name, birth, episodes in CRAFTED:
        patients.append(Patient(
            mrn=mrn, family_name=family, given_name=given_name, birth_date=dt.date.fromisoformat(birth),
            sex="female", episodes=[Episode(site=site, symptom_onset=dt.date.fromisoformat(onset),
                                            resolved_on=dt.date.fromisoformat(resolved) if resolved else None)
                                    for site, onset, resolved in episodes]))
    return patients


@pytest.fixture(scope="module")
def cohort_path(tmp_path_factory):
    """Example data, a 500-patient demo cohort, crafted names; a few archived."""
    import json
    from pathlib import Path

    path = tmp_path_factory.mktemp("registry") / "cohort.sqlite3"
    with Store(path, clinician="Dr Test") as store:
        doc = json.loads((Path(__file__).parent / "data" / "vignettes.json").read_text(encoding="utf-8"))
        interchange.import_document(store, doc, today=TODAY)
        store.add_patients(list(demo.generate(500, seed=7, today=TODAY)), today=TODAY)
        store.add_patients(_crafted(), today=TODAY)
        for mrn in ("D7-000003", "D7-000010", "AB-101", "EX-02"):
            patient = store.patient_by_mrn(mrn)
            store.set_archived(patient.id, patient.version)
    return path


class Cohort(tuple):
    """(store, patients by id), with a short repr for hypothesis' reports."""

    def __repr__(self):
        return f"<cohort of {len(self[1])} patients>"


@pytest.fixture(scope="module", params=["sqlite-m001", "sqlite-m002", "postgresql"])
def cohort(request, cohort_path):
    """The cohort with the current indexes (m002), and with m001's set of indexes only; and on PostgreSQL (the
    same patients, copied into a fresh server database with `copy`: the same ids)."""
    if request.param == "postgresql":
        from conftest import fresh_pg_database
        from tohtrack.store.pg_copy import copy_database
        from tohtrack.store.postgres import PostgresStore

        pg_server = request.getfixturevalue("pg_server")
        name, url = fresh_pg_database(pg_server, request.getfixturevalue("pg_template"))
        copy_database(str(cohort_path), url)
        store = PostgresStore(url)
        request.addfinalizer(lambda: pg_server.drop_database(name))
    elif request.param == "sqlite-m002":
        store = Store(cohort_path)
    else:
        with Store(cohort_path) as original:
            target = original.backup(cohort_path.with_name("m001-indexes.sqlite3"))
        store = Store(target)
        for statement in M001_INDEXES.strip().split(";\n"):
            store.conn.execute(statement)
    patients = {p.id: p for p in store.patients()}
    for p in patients.values():
        p.keys = keys(p)
    yield Cohort((store, patients))
    store.close()


# ---------------------------------------------------------------------------
# Reference semantics
# ---------------------------------------------------------------------------


def ascii_lower(text):
    return text.translate(str.maketrans(string.ascii_uppercase, string.ascii_lowercase))


def keys(patient):
    """The patient's MRN and names as search compares them."""
    return ascii_lower(patient.mrn), fold(patient.family_name), fold(patient.given_name)


def typed_mrn(word):
    """A word as an MRN is typed: NFKC (fullwidth forms), invisible characters (not lone surrogates) left out."""
    invisible = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, *range(0x180B, 0x1810), 0x3164, *range(0xFE00, 0xFE10),
                 0xFFA0, *range(0xE0100, 0xE01F0)}  # shown as nothing though not format characters
    return "".join(c for c in unicodedata.normalize("NFKC", word)
                   if unicodedata.category(c) not in ("Cc", "Cf", "Cn", "Co", "Zl", "Zp") and ord(c) not in invisible)


def prefix_matches(word, keys):
    mrn, family, given = keys
    name = fold(word)
    typed = typed_mrn(word)
    return family.startswith(name) or given.startswith(name) or (typed != "" and mrn.startswith(ascii_lower(typed)))


def matches(text, patient, patient_keys=None):
    patient_keys = patient_keys or keys(patient)
    words = text.split()
    if all(prefix_matches(w, patient_keys) for w in words):
        return True
    return len(words) > 1 and prefix_matches(" ".join(words), patient_keys)


def last_onset(patient, as_of):
    return max((e.symptom_onset for e in patient.episodes if e.symptom_onset <= as_of), default=None)


def reference_key(patient, sort, as_of):
    if sort == "name":
        return (fold(patient.family_name), fold(patient.given_name), patient.id)
    if sort == "mrn":
        return (patient.mrn, patient.id)
    if sort == "birth_date":
        return (patient.birth_date, patient.id)
    onset = last_onset(patient, as_of)
    return (onset is None, onset or dt.date.min, patient.id)


def reference_order(patients, sort, descending, as_of):
    ordered = sorted(patients, key=lambda p: reference_key(p, sort, as_of), reverse=descending)
    if sort == "last_onset" and descending:  # no onset last in either direction
        ordered = [p for p in ordered if last_onset(p, as_of)] + [p for p in ordered if not last_onset(p, as_of)]
    return [p.id for p in ordered]


def ids(rows):
    return [r.id for r in rows]


def search_ids(store, text="", filters=Filters(), as_of=TODAY, **kw):
    return ids(registry.search(store, text, filters, as_of, limit=ALL, **kw))


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------


def test_mrn_prefix_in_any_case(cohort):
    store, _ = cohort
    assert [r.mrn for r in registry.search(store, "ab-10", EVERYONE, TODAY, sort="mrn")] == ["AB-101", "aB-102",
                                                                                           "ab-100"]
    assert [r.mrn for r in registry.search(store, "H-00012", sort="mrn")] == ["H-000123", "H-000124"]
    assert [r.mrn for r in registry.search(store, "h-000124")] == ["H-000124"]
    assert registry.search(store, "ex-0", sort="mrn", as_of=TODAY)[0].mrn == "EX-01"


def test_name_prefix_ignores_case_and_accents(cohort):
    store, _ = cohort
    for text in ("mull", "MÜL", "Müller", "muller han"):
        rows = registry.search(store, text, EVERYONE, TODAY)
        assert {r.mrn for r in rows} >= {"ab-100", "AB-101", "aB-102"}, text
        assert all(fold(r.family_name).startswith("mul") for r in rows), text
    assert registry.search(store, "odegaard") == []  # 'Ø' is a letter of its own, not an O with an accent
    rows = registry.search(store, "ØDEG")
    assert "N-1" in {r.mrn for r in rows} and all(r.family_name.startswith("Ødeg") for r in rows)
    rows = registry.search(store, "SEAN")
    assert "Q%_\\'1" in {r.mrn for r in rows} and all(fold(r.given_name).startswith("sean") for r in rows)
    rows = registry.search(store, "o'b")
    assert "Q%_\\'1" in {r.mrn for r in rows} and all(r.family_name.startswith("O'B") for r in rows)
    assert [r.mrn for r in registry.search(store, "q%_")] == ["Q%_\\'1"]
    assert registry.search(store, "q%%") == registry.search(store, "q__") == []


def test_every_word_must_match(cohort):
    store, _ = cohort
    assert [r.display_name for r in registry.search(store, "rossi mar")] == ["ROSSI, Marco", "ROSSI, Maria"]
    assert [r.display_name for r in registry.search(store, "  MAR   rossi ")] == ["ROSSI, Marco", "ROSSI, Maria"]
    assert [r.display_name for r in registry.search(store, "rossi marc")] == ["ROSSI, Marco"]
    assert [r.mrn for r in registry.search(store, "rossi h-000124")] == ["H-000124"]
    assert registry.search(store, "rossi zzz") == []


def test_the_whole_text_can_be_one_prefix(cohort):
    store, _ = cohort
    assert [r.mrn for r in registry.search(store, "van der b")] == ["Xy-7"]
    assert [r.mrn for r in registry.search(store, "jose lu")] == ["N-2"]
    assert [r.mrn for r in registry.search(store, "garcía-l")] == ["N-2"]


def test_empty_text_lists_everyone(cohort):
    store, patients = cohort
    unarchived = {i for i, p in patients.items() if not p.archived}
    assert set(search_ids(store, "")) == set(search_ids(store, "   ")) == unarchived
    assert set(search_ids(store, "\u0301")) == unarchived  # a lone accent restricts nothing
    assert registry.count(store, "") == len(unarchived)


def test_unencodable_text_finds_nothing(cohort):
    store, _ = cohort
    assert registry.search(store, "\ud800") == []
    assert registry.search(store, "rossi \udfff") == []
    assert registry.count(store, "mar\ud800") == 0


text_strategy = st.one_of(
    st.text(max_size=12),
    st.text(alphabet="%_\\'\"aAbBdDmMrRüÜøØéE-013579 \t", max_size=8),
    st.sampled_from(["mar", "Rossi M", "D7-0001", "d7-00", "mü", "van der", "ab-1", "h-0", "jos", "a b"]),
    st.text(alphabet=st.characters(min_codepoint=0xD7F0, max_codepoint=0x10FFFF), max_size=4),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=text_strategy)
@example(text="\U0010ffff")
@example(text="\x00")
@example(text="a\ud7ff")
def test_any_text_finds_exactly_the_matching_patients(cohort, text):
    store, patients = cohort
    found = search_ids(store, text, EVERYONE)
    assert len(found) == len(set(found))
    assert set(found) == {i for i, p in patients.items() if matches(text, p, p.keys)}
    small = registry.search(store, text, EVERYONE, TODAY, limit=3)
    assert ids(small) == found[:3]
    assert all(registry.text_matches(text, r.mrn, r.family_name, r.given_name) for r in small)


@pytest.mark.parametrize("text", ["", "m", "ma", "mar", "D7-0", "d7-000", "a", "rossi m", "van der", "h", "zz"])
def test_count_agrees_with_search(cohort, text):
    store, _ = cohort
    for filters in (Filters(), EVERYONE, Filters(active=True), Filters(rmo=True, archived=None), Filters(due=True),
                    Filters(flagged=True, archived=None), Filters(active=True, rmo=True, flagged=True)):
        assert registry.count(store, text, filters, TODAY) == len(search_ids(store, text, filters))


# ---------------------------------------------------------------------------
# Filters against the course assessment
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("as_of", AS_OF_DATES)
def test_filters_agree_with_the_course_assessment(cohort, as_of):
    store, patients = cohort
    settings = store.settings()
    assessments = {i: course.assess(p, as_of, settings) for i, p in patients.items()}

    def expected(test, archived=None):
        return {i for i, a in assessments.items()
                if test(patients[i], a) and (archived is None or patients[i].archived == archived)}

    def active(p, a):
        return any(e.is_toh and e.symptom_onset <= as_of and (e.resolved_on is None or e.resolved_on > as_of)
                   for e in p.episodes)

    def rmo(p, a):
        return a.pattern == course.RMO_PATTERN

    def flagged(p, a):
        return bool(a.flags)

    def due(p, a):
        return not p.archived and (a.due or a.overdue)

    for archived in (None, False, True):
        base = dict(archived=archived)
        assert set(search_ids(store, "", Filters(**base), as_of)) == expected(lambda p, a: True, archived)
        assert set(search_ids(store, "", Filters(active=True, **base), as_of)) == expected(active, archived)
        assert set(search_ids(store, "", Filters(rmo=True, **base), as_of)) == expected(rmo, archived)
        assert set(search_ids(store, "", Filters(flagged=True, **base), as_of)) == expected(flagged, archived)
        assert set(search_ids(store, "", Filters(due=True, **base), as_of)) == expected(due, archived)
    both = set(search_ids(store, "m", Filters(rmo=True, active=True, flagged=True, archived=None), as_of))
    assert both == {i for i in expected(lambda p, a: active(p, a) and rmo(p, a) and flagged(p, a))
                    if matches("m", patients[i])}
    assert registry.flagged_ids(store, as_of) == expected(flagged)
    assert registry.due_ids(store, as_of) == expected(due)


def test_rmo_filter_on_the_examples(cohort):
    store, _ = cohort
    rmo = {r.mrn for r in registry.search(store, "ex-", Filters(rmo=True, archived=None), TODAY)}
    assert rmo == {"EX-02", "EX-05"}
    assert {r.mrn for r in registry.search(store, "ex-", Filters(rmo=True), TODAY)} == {"EX-05"}  # EX-02 archived
    assert {r.mrn for r in registry.search(store, "ex", Filters(active=True, archived=None), TODAY)} == {
        "EX-02", "EX-03", "EX-04"}


def test_the_flag_filters_follow_changes(store, vignettes):
    interchange.import_document(store, vignettes, today=TODAY)
    flagged = {r.mrn for r in registry.search(store, "", Filters(flagged=True), TODAY)}
    assert "EX-01" not in flagged
    patient = store.patient_by_mrn("EX-01")
    episode = patient.episodes[0]
    episode.avn_risk_factors = ["smoking"]
    store.update_episode(episode, today=TODAY)
    assert "EX-01" in {r.mrn for r in registry.search(store, "", Filters(flagged=True), TODAY)}
    due = {r.mrn for r in registry.search(store, "", Filters(due=True), TODAY)}
    assessments = [course.assess(p, TODAY) for p in store.patients()]
    assert due == {a.mrn for a in assessments if a.due or a.overdue}


# ---------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------


def test_rows_carry_active_sites_and_last_onset(cohort):
    store, patients = cohort
    (row,) = registry.search(store, "rossi marco", as_of=TODAY)
    assert row.active_sites == ("hip_right",) and row.last_onset == dt.date(2025, 8, 2)
    (row,) = registry.search(store, "rossi marco", as_of=dt.date(2025, 3, 1))
    assert row.active_sites == ("hip_left",) and row.last_onset == dt.date(2025, 1, 10)
    (row,) = registry.search(store, "rossi marco", as_of=dt.date(2024, 3, 1))
    assert row.active_sites == () and row.last_onset is None
    (row,) = registry.search(store, "N-2")
    assert row.active_sites == ("hip_left", "hip_right")
    for as_of in AS_OF_DATES:
        for row in registry.search(store, "", EVERYONE, as_of, limit=ALL):
            p = patients[row.id]
            assert (row.mrn, row.family_name, row.given_name, row.birth_date, row.sex, row.archived) == (
                p.mrn, p.family_name, p.given_name, p.birth_date, p.sex, p.archived)
            assert row.last_onset == last_onset(p, as_of)
            assert row.active_sites == tuple(e.site for e in sorted(p.episodes, key=lambda e: (e.symptom_onset, e.site))
                                             if e.symptom_onset <= as_of
                                             and (e.resolved_on is None or e.resolved_on > as_of))


def test_patient_row_and_sort_key(cohort):
    store, _ = cohort
    (row,) = registry.search(store, "van der b")
    assert registry.patient_row(store, row.id, TODAY) == row
    assert registry.patient_row(store, 10 ** 9, TODAY) is None
    for sort in registry.SORTS:
        for row in registry.search(store, "m", sort=sort, as_of=TODAY, limit=20):
            assert row.sort_key == registry.sort_key(row, sort)


def test_age_on():
    assert registry.age_on(dt.date(1976, 3, 2), dt.date(2026, 3, 1)) == 49
    assert registry.age_on(dt.date(1976, 3, 2), dt.date(2026, 3, 2)) == 50
    assert registry.age_on(dt.date(2000, 2, 29), dt.date(2026, 2, 28)) == 25


# ---------------------------------------------------------------------------
# Sorting and pages
# ---------------------------------------------------------------------------


def pages(store, text, filters, as_of, sort, descending, size):
    out, after = [], None
    for _ in range(10_000):
        page = registry.search(store, text, filters, as_of, sort, descending, limit=size, after=after)
        out += ids(page)
        if len(page) < size:
            return out
        after = page[-1].sort_key
    raise AssertionError("pages never ended")


def pages_rows(store, text, size):
    out, after = [], None
    while True:
        page = registry.search(store, text, EVERYONE, TODAY, limit=size, after=after)
        out += page
        if len(page) < size:
            return out
        after = page[-1].sort_key


@pytest.mark.parametrize("sort", registry.SORTS)
@pytest.mark.parametrize("descending", [False, True])
def test_pages_concatenate_to_the_sorted_list(cohort, sort, descending):
    store, patients = cohort
    for as_of in (TODAY, dt.date(2022, 1, 15)):
        for text, filters in [("", Filters()), ("", EVERYONE), ("m", Filters()), ("d7-00", Filters(active=True)),
                              ("mar", EVERYONE), ("h", Filters(rmo=True)), ("mu han", EVERYONE)]:
            chosen = [p for p in patients.values() if matches(text, p)
                      and (filters.archived is None or p.archived == filters.archived)]
            if filters.active or filters.rmo:  # (the filters themselves are checked against course.assess)
                allowed = set(search_ids(store, text, filters, as_of))
                chosen = [p for p in chosen if p.id in allowed]
            expected = reference_order(chosen, sort, descending, as_of)
            assert search_ids(store, text, filters, as_of, sort=sort, descending=descending) == expected
            for size in (1, 7, 60):
                if size * 20 < len(expected):  # enough page boundaries already
                    continue
                assert pages(store, text, filters, as_of, sort, descending, size) == expected, (text, size)


def test_ties_on_equal_names_are_broken_by_id(cohort):
    store, _ = cohort
    rows = registry.search(store, "muller hans", EVERYONE, TODAY)
    assert [r.mrn for r in rows] == ["ab-100", "AB-101", "aB-102"]
    assert [r.sort_key for r in rows] == sorted(r.sort_key for r in rows)
    assert [r.mrn for r in pages_rows(store, "muller hans", 1)] == ["ab-100", "AB-101", "aB-102"]
    rows = registry.search(store, "muller hans", EVERYONE, TODAY, descending=True)
    assert [r.mrn for r in rows] == ["aB-102", "AB-101", "ab-100"]


def test_patients_without_an_onset_come_last(cohort):
    store, _ = cohort
    for descending in (False, True):
        rows = registry.search(store, "", EVERYONE, dt.date(2019, 6, 1), "last_onset", descending, limit=ALL)
        onsets = [r.last_onset for r in rows]
        first_none = onsets.index(None)
        assert all(o is not None for o in onsets[:first_none]) and all(o is None for o in onsets[first_none:])
        dated = onsets[:first_none]
        assert dated == sorted(dated, reverse=descending)


@pytest.mark.sqlite_only("SQLite's query plans (tohtrack/store/sqlite/registry.py)")
def test_every_plan_is_exercised(cohort, monkeypatch):
    """Small pages make gathering, walking and ordered index ranges all worthwhile somewhere."""
    store, _ = cohort
    plans = set()
    original = registry_sql._Search.arm

    def arm(self, column, values, plan):
        plans.add((self.sort.name, plan))
        return original(self, column, values, plan)

    monkeypatch.setattr(registry_sql._Search, "arm", arm)
    for sort in registry.SORTS:
        for text in ("m", "d7-0", "a", "mar"):
            registry.search(store, text, sort=sort, as_of=TODAY, limit=2)
    assert {plan for _, plan in plans} == {"gather", "walk", "ordered"}


def test_bad_arguments(cohort):
    store, _ = cohort
    with pytest.raises(ValueError, match="unknown sort"):
        registry.search(store, "", sort="age")
    assert registry.search(store, "", limit=0) == []
    with pytest.raises(ValueError, match="not a name sort key"):
        registry.search(store, "", after=("D7-000001", 3))


def test_a_schema_change_while_open_is_survived(tmp_path):
    with Store(tmp_path / "a.sqlite3") as store:
        store.add_patients(_crafted(), today=TODAY)
        assert [r.mrn for r in registry.search(store, "van der b")] == ["Xy-7"]
        store.conn.execute("DROP INDEX patients_name")  # as another workstation's upgrade might
        store.conn.execute("CREATE INDEX patients_family_key ON patients (family_key)")
        assert [r.mrn for r in registry.search(store, "van der b")] == ["Xy-7"]
        assert registry.count(store, "rossi") == 2


@pytest.mark.slow
def test_pages_at_scale(tmp_path):
    """20 000 patients, where gathering, walking and ordered ranges all take turns at page size 200."""
    with Store(tmp_path / "big.sqlite3") as store:
        store.add_patients(list(demo.generate(20_000, seed=11, today=TODAY)), today=TODAY)
        patients = [p for p in store.patients() if not p.archived]
        for text in ("", "m", "mar", "d11-01", "D11-0", "a", "ş", "rossi m"):
            chosen = [p for p in patients if matches(text, p)]
            for sort in registry.SORTS:
                for descending in (False, True):
                    expected = reference_order(chosen, sort, descending, TODAY)
                    assert pages(store, text, Filters(), TODAY, sort, descending, 200) == expected, (text, sort)
