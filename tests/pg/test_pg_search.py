"""How the server answers search as you type (tohtrack/store/pg_registry.py): the MRN folding it tests and
indexes, the tests each index range ("arm") of a text search still makes, and the registry's indexes replacing
those of earlier versions. That the answers are SQLite's is tests/pg/test_pg_registry.py's."""

import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from pgfixtures import owner_url, pg_db, pg_store  # noqa: F401 (fixtures)
from pgserver import url_for
from tohtrack.registry import mrn_fold, parse_query
from tohtrack.store import pg_registry
from tohtrack.store.pg_registry import _MRN_FOLDED, _arm_ranges, _Params, _rest_sql

#: Any text PostgreSQL can hold (no NUL, no lone surrogate).
_ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
_FOLD_SQL = f"SELECT {_MRN_FOLDED.format(a='t')} FROM (SELECT %s::text AS mrn) AS t"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_ANY_TEXT)
@example(text="ÀBÇ-ǅ-ß-İ-Ⅻ-Ｈ-ΣΑ")
@example(text="AZaz@[`{")
def test_the_server_folds_an_mrn_as_mrn_fold_does(pg_store, text):
    """Only the ASCII letters A-Z are lowered, as registry.mrn_fold does (what a typed MRN prefix is folded with)."""
    assert pg_store.conn.execute(_FOLD_SQL, (text,)).fetchone()[0] == mrn_fold(text)


def test_the_folding_does_not_follow_the_database_locale(pg_server):
    """In a database whose own collation lowers 'À' (C.UTF-8), the MRN folding still lowers only A-Z."""
    name = f"{pg_server.new_database()}_utf8"
    try:
        with psycopg.connect(pg_server.superuser_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C.UTF-8'")
    except psycopg.Error as exc:
        pytest.skip(f"the server has no C.UTF-8 locale: {exc}")
    try:
        with psycopg.connect(url_for(pg_server.superuser_url, name)) as conn:
            assert conn.execute("SELECT lower('ÀB')").fetchone()[0] == "àb"  # the database's own collation
            assert conn.execute(_FOLD_SQL, ("ÀB-Ｈ1",)).fetchone()[0] == "Àb-Ｈ1" == mrn_fold("ÀB-Ｈ1")
    finally:
        pg_server.drop_database(name)


def _arms(text: str) -> list[tuple[str, list]]:
    """(the value of each arm's range, the values its other tests compare with)."""
    query = parse_query(text)
    assert query is not None
    arms = []
    for _, value, source in _arm_ranges(query):
        params = _Params()
        rest = _rest_sql(query, source, params)
        assert (rest == "TRUE") == (params == [])
        arms.append((value, list(params)))
    return arms


def test_an_arm_does_not_test_its_own_range_again():
    """One word: each range (family name, given name, MRN) is the whole test. Two words: a range of the longest
    word still tests the other word, or else the whole text; a range of the whole text tests nothing more."""
    assert _arms("van") == [("van", []), ("van", []), ("van", [])]
    other_or_whole = ["d", "e", "d", "e", "d", "e", "d van", "d vao", "d van", "d vao", "d van", "d vao"]
    assert _arms("d van") == [("van", other_or_whole)] * 3 + [("d van", [])] * 3
    assert _arms("ab cd ef")[0] == ("ab", ["cd", "ce"] * 3 + ["ef", "eg"] * 3 + ["ab cd ef", "ab cd eg"] * 3)


def test_the_registry_indexes_replace_those_of_earlier_versions(pg_store):
    conn = pg_store.conn

    def names() -> set[str]:
        return {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'patients'")}

    with conn.transaction():  # as an earlier version made them
        conn.execute('CREATE INDEX patients_name_c ON patients (family_key COLLATE "C", given_key COLLATE "C", id)')
        conn.execute("CREATE INDEX patients_mrn_folded_c ON patients ((translate(mrn, 'AB', 'ab') COLLATE \"C\"))")
    assert {"patients_name_c", "patients_mrn_folded_c"} <= names()
    for _ in range(2):  # idempotent
        pg_registry.create_registry_indexes(conn)
        found = names()
        assert not found & set(pg_registry.SUPERSEDED_INDEXES)
        assert {"patients_name_cover_c", "patients_mrn_lower_c", "patients_given_c", "patients_mrn_c",
                "patients_birth_date_c"} <= found
