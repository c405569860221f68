"""The registry, the worklist, the flags, the cohort statistics and the summary cache on PostgreSQL give what they
give on SQLite: one cohort (the example vignettes, a demo cohort, crafted names and MRNs, a few archived) stored in
both, then the same questions asked of both (tohtrack/store/pg_registry.py against tohtrack/store/sqlite/)."""

import dataclasses
import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from test_registry import CRAFTED, _crafted
from tohtrack import demo, interchange, registry
from tohtrack.__main__ import main
from tohtrack.db import Store
from tohtrack.registry import Filters
from tohtrack.store import pg_registry

TODAY = dt.date(2026, 3, 1)
AS_OF_DATES = (dt.date(2019, 6, 1), dt.date(2023, 1, 15), dt.date(2025, 7, 1), TODAY)
SORTS = ("name", "mrn", "birth_date", "last_onset")
FILTERS = (Filters(), Filters(archived=None), Filters(archived=True), Filters(active=True), Filters(rmo=True),
           Filters(flagged=True), Filters(due=True), Filters(archived=None, flagged=True, active=True))
QUERIES = ("", "a", "mu", "MÜL", "müller hans", "ross mar", "h-0001", "H-000123", "d7-00001", "ex-", "o'b",
           "Q%_", "jose luis", "garcía", "ØDE", "xy-7 anna", "zzzz", "anna", "d7")
ARCHIVED = ("D7-000003", "D7-000010", "AB-101", "EX-02")


@pytest.fixture(scope="module")
def stores(pg_server, tmp_path_factory):
    """The same cohort in a SQLite file and in a server database (with the registry's indexes)."""
    from tohtrack.store.postgres import PostgresStore

    doc = json.loads((__import__("pathlib").Path(__file__).parent.parent / "data" / "vignettes.json")
                     .read_text(encoding="utf-8"))
    name = pg_server.new_database()
    url = pg_server.owner_url(name)
    sqlite = Store(tmp_path_factory.mktemp("pgreg") / "cohort.sqlite3", clinician="Dr Test")
    pg = PostgresStore(url)
    pg_registry.create_registry_indexes(pg.conn)
    for store in (sqlite, pg):
        interchange.import_document(store, doc, today=TODAY)
        store.add_patients(list(demo.generate(300, seed=7, today=TODAY)), today=TODAY)
        store.add_patients(_crafted(), today=TODAY)
        for mrn in ARCHIVED:
            patient = store.patient_by_mrn(mrn)
            store.set_archived(patient.id, patient.version)
    yield sqlite, pg, url
    sqlite.close()
    pg.close()
    pg_server.drop_database(name)


def _mrns(store) -> dict[int, str]:
    return dict(store.patient_mrns())


def _rows(store, rows) -> list[tuple]:
    """Rows with their ids left out (the two databases may number patients differently)."""
    return [(r.mrn, r.family_name, r.given_name, r.birth_date, r.sex, r.archived, r.active_sites, r.last_onset,
             r.sort_key[:-1]) for r in rows]


def _pages(store, text, filters, as_of, sort, descending, size=7, pages=4):
    found, after = [], None
    for _ in range(pages):
        page = store.search(text, filters, as_of, sort, descending, size, after)
        found.append(_rows(store, page))
        if len(page) < size:
            break
        after = page[-1].sort_key
    return found


def test_the_cohort_is_the_same_in_both(stores):
    sqlite, pg, _ = stores
    assert sorted(_mrns(sqlite).values()) == sorted(_mrns(pg).values())
    assert pg.count_patients() == sqlite.count_patients() > 300


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("descending", (False, True))
def test_search_pages_are_the_same(stores, sort, descending):
    sqlite, pg, _ = stores
    compared = 0
    for text in QUERIES:
        for filters in FILTERS[:4] if text else FILTERS:
            for as_of in (AS_OF_DATES[1], TODAY):
                expected = _pages(sqlite, text, filters, as_of, sort, descending)
                assert _pages(pg, text, filters, as_of, sort, descending) == expected, (text, filters, as_of)
                compared += sum(map(len, expected))
    assert compared > 500  # the questions find patients, not only empty pages


def test_whole_lists_and_counts_are_the_same(stores):
    sqlite, pg, _ = stores
    for as_of in AS_OF_DATES:
        for filters in FILTERS:
            for text in ("", "d7-0000", "ross", "h"):
                whole = sqlite.search(text, filters, as_of, "name", False, 10 ** 6)
                assert _rows(pg, pg.search(text, filters, as_of, "name", False, 10 ** 6)) == _rows(sqlite, whole)
                assert pg.count(text, filters, as_of) == sqlite.count(text, filters, as_of) == len(whole)


def test_sets_and_rows_are_the_same(stores):
    sqlite, pg, _ = stores
    by_sqlite, by_pg = _mrns(sqlite), _mrns(pg)
    for as_of in AS_OF_DATES:
        for method in ("due_ids", "flagged_ids"):
            assert {by_pg[i] for i in getattr(pg, method)(as_of)} == {by_sqlite[i] for i in getattr(sqlite, method)(as_of)}
        assert sorted(by_pg[i] for i in pg.active_patient_ids(as_of)) == sorted(
            by_sqlite[i] for i in sqlite.active_patient_ids(as_of))
    assert sqlite.flagged_ids(TODAY) and sqlite.due_ids(TODAY)  # the cohort has some of each
    ids = {mrn: i for i, mrn in by_pg.items()}
    for pid, mrn in list(by_sqlite.items())[::37]:
        for sort in SORTS:
            assert _rows(pg, [pg.patient_row(ids[mrn], TODAY, sort)]) == _rows(sqlite, [sqlite.patient_row(pid, TODAY, sort)])
    assert pg.patient_row(10 ** 9, TODAY) is None
    assert pg.patient_mrns([ids["AB-101"], ids["N-1"]]) == [(ids["AB-101"], "AB-101"), (ids["N-1"], "N-1")]


def _summaries(store, found):
    mrns = _mrns(store)
    return sorted((mrns[s.patient_id], values, s._replace(patient_id=0)) for values, s in found)


def test_worklist_flags_and_statistics_records_are_the_same(stores):
    sqlite, pg, _ = stores
    for as_of in AS_OF_DATES:
        columns = ("mrn", "family_name", "given_name", "birth_date")
        assert _summaries(pg, pg.worklist_summaries(as_of, None, columns)) == _summaries(
            sqlite, sqlite.worklist_summaries(as_of, None, columns))
        flags = lambda store: sorted((mrn, s._replace(patient_id=0)) for mrn, s in store.flag_summaries(as_of))
        assert flags(pg) == flags(sqlite)
        some = sorted(_mrns(sqlite).values())[::11]
        picked = lambda store: sorted(
            (mrn, s._replace(patient_id=0)) for mrn, s in store.flag_summaries(
                as_of, [i for i, m in _mrns(store).items() if m in some]))
        assert picked(pg) == picked(sqlite)
        a, b = sqlite.stats_records(as_of), pg.stats_records(as_of)
        mrn_a, mrn_b = _mrns(sqlite), _mrns(pg)
        assert sorted((mrn_b[p], sex, born) for p, sex, born in b.patients) == sorted(
            (mrn_a[p], sex, born) for p, sex, born in a.patients)
        assert [(mrn_b[p], *rest) for _, p, *rest in b.episodes] == [(mrn_a[p], *rest) for _, p, *rest in a.episodes]
        assert len(b.extents) == len(a.extents) and len(b.pains) == len(a.pains)
        assert sorted(k for _, *k in b.extents) == sorted(k for _, *k in a.extents)
        assert sorted(k for _, *k in b.pains) == sorted(k for _, *k in a.pains)


@pytest.mark.parametrize("command", (["stats", "--json"], ["flags", "--json"], ["worklist"], ["flags"],
                                     ["stats", "--json", "--sex", "female"]))
def test_cli_outputs_are_the_same(stores, capsys, monkeypatch, command):
    from tohtrack.store import postgres

    sqlite, pg, url = stores
    if not hasattr(postgres, "open_store"):  # the gateway's entry point of the backend, until it has one
        monkeypatch.setattr(postgres, "open_store", postgres.PostgresStore, raising=False)
    for as_of in ("2023-01-15", TODAY.isoformat()):
        outputs = []
        for db in (str(sqlite.path), url):
            assert main(["--db", db, *command, "--as-of", as_of]) == 0
            outputs.append(capsys.readouterr().out)
        assert outputs[0] == outputs[1]
        assert len(outputs[0]) > 100


_TEXT = st.text(alphabet="adehilmnorsuxyzADHMRüÜøØé-0123 '%_" + "".join({c for r in CRAFTED for c in r[0]}),
                max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_TEXT, sort=st.sampled_from(SORTS), descending=st.booleans(), filters=st.builds(
    Filters, active=st.booleans(), rmo=st.booleans(), archived=st.sampled_from((None, False, True)),
    flagged=st.booleans(), due=st.booleans()), as_of=st.sampled_from(AS_OF_DATES))
def test_any_search_is_the_same(stores, text, sort, descending, filters, as_of):
    sqlite, pg, _ = stores
    assert _pages(pg, text, filters, as_of, sort, descending, size=5, pages=2) == _pages(
        sqlite, text, filters, as_of, sort, descending, size=5, pages=2)
    assert pg.count(text, filters, as_of) == sqlite.count(text, filters, as_of)


def test_unknown_sort_and_bad_after_are_refused(stores):
    _, pg, _ = stores
    with pytest.raises(ValueError):
        pg.search("", Filters(), TODAY, "colour")
    with pytest.raises(ValueError):
        pg.search("", Filters(), TODAY, "name", after=(1,))
    assert pg.search("", Filters(), TODAY, limit=0) == []


def test_the_summary_cache_on_the_server(pg_store):
    from tohtrack.summary import rules_key

    pg_store.add_patients(list(demo.generate(40, seed=3, today=TODAY)), today=TODAY)
    assert pg_store.has_summary_table()
    ids = [i for i, _ in pg_store.patient_mrns()]
    rules = rules_key(pg_store.settings())
    assert pg_store.stored_summaries(ids, TODAY, rules) == {}
    made = pg_store.summaries(ids, TODAY)
    assert set(made) == set(ids)
    kept = pg_store.stored_summaries(ids, TODAY, rules)
    assert kept == made  # made today under the database's rules: kept
    assert pg_store.verify_summaries() == []
    assert pg_store.summaries(ids, TODAY) == made  # read back, not made again
    # a write to a patient forgets its summary (the server's trigger), the others stay
    patient = pg_store.patient(ids[0])
    patient.notes = "changed"
    pg_store.update_patient(patient, TODAY)
    assert set(pg_store.stored_summaries(ids, TODAY, rules)) == set(ids[1:])
    # a stored summary changed outside TOHtrack is found by check's part
    pg_store.conn.execute("UPDATE assessment_summary SET flag_count = flag_count + 7 WHERE patient_id = %s",
                          (ids[1],))
    problems = pg_store.verify_summaries()
    assert len(problems) == 1 and "flag_count" in problems[0]
    pg_store.clear_summaries()
    assert pg_store.stored_summaries(ids, TODAY, rules) == {}
    # under other rules than the database's: made, but not kept
    other = dataclasses.replace(pg_store.settings(), resolution_window_months=(5, 9))
    assert rules_key(other) != rules
    assert set(pg_store.summaries(ids[:5], TODAY, other)) == set(ids[:5])
    assert pg_store.stored_summaries(ids, TODAY, rules_key(other)) == {}
    assert pg_store.stored_summaries(ids, TODAY, rules) == {}


def test_change_marks(pg_store):
    mark = pg_store.change_mark()
    assert pg_store.gateway_changes_since(mark) == (False, mark)
    pg_store.summaries([], TODAY)  # the cache is no change
    pg_store.add_patients(list(demo.generate(2, seed=5, today=TODAY)), today=TODAY)
    changed, new = pg_store.gateway_changes_since(mark)
    assert changed and new != mark
    assert pg_store.gateway_changes_since(new) == (False, new)


from pgfixtures import owner_url, pg_db, pg_store  # noqa: E402,F401 (fixtures)


def test_summaries_made_before_a_write_are_not_stored_after_it(pg_store):
    """A summary made from histories read before another workstation's write is not kept for the patients that
    write changed, nor at all after a setting changed (other rules) — as on SQLite."""
    from tohtrack.summary import rules_key

    pg_store.add_patients(list(demo.generate(6, seed=4, today=TODAY)), today=TODAY)
    ids = [i for i, _ in pg_store.patient_mrns()]
    rules = rules_key(pg_store.settings())
    made = list(pg_store.summaries(ids, TODAY).values())
    pg_store.clear_summaries()
    mark = pg_store.change_mark()
    patient = pg_store.patient(ids[0])
    patient.notes = "written meanwhile"
    pg_store.update_patient(patient, TODAY)
    pg_store._store_summaries(made, rules, mark, replace=True)
    assert set(pg_store.stored_summaries(ids, TODAY, rules)) == set(ids[1:])
    pg_store.clear_summaries()
    mark = pg_store.change_mark()
    pg_store.set_setting("clinic_name", "Another clinic")
    pg_store._store_summaries(made, rules, mark, replace=True)
    assert pg_store.stored_summaries(ids, TODAY, rules) == {}
    pg_store._store_summaries(made, rules, pg_store.change_mark(), replace=True)
    assert set(pg_store.stored_summaries(ids, TODAY, rules)) == set(ids)
