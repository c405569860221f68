"""The storage gateway's own promises (tohtrack.store): open_store by target, typed errors instead of driver
exceptions, change marks for the GUI's refresh, and the Gateway protocol kept by the SQLite backend."""

from __future__ import annotations

import datetime as dt
import inspect
import os
import sqlite3
import sys

import pytest

from conftest import run_cli
from tohtrack import db, interchange, store as gateway
from tohtrack.model import SymptomRecord
from tohtrack.registry import Filters
from tohtrack.store import errors
from tohtrack.store.sqlite import Store
from tohtrack.store.sqlite import store as sqlite_store

TODAY = dt.date(2026, 3, 1)


@pytest.fixture
def no_postgres(monkeypatch):
    """As an installation without the PostgreSQL backend (whether or not this tree has one)."""
    monkeypatch.setitem(sys.modules, "tohtrack.store.postgres", None)


# ---------------------------------------------------------------------------
# open_store: a path is SQLite, a URL the server; never a file named after a URL
# ---------------------------------------------------------------------------


def test_open_store_opens_a_path_as_sqlite(tmp_path):
    with gateway.open_store(tmp_path / "a.sqlite3", clinician="Dr A") as store:
        assert isinstance(store, Store) and store.clinician == "Dr A" and store.count_patients() == 0
    with gateway.open_store(str(tmp_path / "a.sqlite3"), readonly=True) as store:
        assert store.readonly


@pytest.mark.parametrize("url", ["postgresql://localhost/clinic", "postgres://u:secret@db.example:5432/clinic",
                                 "postgresql:///clinic?host=/run/postgresql", "POSTGRESQL://h/c",
                                 " postgresql://h/c"])
def test_a_server_url_without_the_backend_is_a_clear_error_and_creates_nothing(tmp_path, monkeypatch, no_postgres,
                                                                              url):
    monkeypatch.chdir(tmp_path)
    assert gateway.is_server_url(url)
    with pytest.raises(errors.BackendMissing, match="PostgreSQL support is not installed") as caught:
        gateway.open_store(url)
    assert isinstance(caught.value, errors.StoreError) and caught.value.exit_code == 1
    assert "secret" not in str(caught.value)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("url", ["postgresql://localhost/clinic", "postgres://u:pw@h/db"])
def test_the_sqlite_backend_never_takes_a_url_for_a_file(tmp_path, monkeypatch, url):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(errors.BackendMissing, match="not a SQLite file") as caught:
        Store(url)
    assert "pw@" not in str(caught.value)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("how", ["option", "environment"])
def test_the_command_line_refuses_a_url_it_cannot_open_and_leaves_nothing(tmp_path, monkeypatch, capsys,
                                                                         no_postgres, how):
    monkeypatch.chdir(tmp_path)
    source = tmp_path / "in"
    source.mkdir()
    (source / "f.json").write_text('{"format": "tohtrack/1", "patients": []}', encoding="utf-8")
    url = "postgresql://clinician:hunter2@localhost/clinic"
    if how == "option":
        code, out, err = run_cli(capsys, "--db", url, "import", source / "f.json")
    else:
        monkeypatch.setenv("TOHTRACK_DB", url)
        code, out, err = run_cli(capsys, "import", source / "f.json")
    assert code == 1 and out == ""
    assert "PostgreSQL support is not installed" in err and "hunter2" not in err
    assert sorted(os.listdir(tmp_path)) == ["in"]


def test_the_url_shown_has_no_password():
    assert gateway.shown_url("postgresql://u:pw@h:5432/db?sslmode=require") == "postgresql://u@h:5432/db"
    assert gateway.shown_url("postgres://h/db") == "postgres://h/db"


def test_paths_are_not_server_urls(tmp_path):
    for target in (tmp_path / "postgresql.sqlite3", "postgresql.sqlite3", "clinic/postgres:x", None, 5):
        assert not gateway.is_server_url(target)


# ---------------------------------------------------------------------------
# Typed errors: no driver exception leaves the gateway
# ---------------------------------------------------------------------------


def test_every_error_is_a_store_error_with_its_exit_code():
    kinds = [errors.NotATohtrackDatabase, errors.DatabaseTooNew, errors.DatabaseDamaged, errors.NotADatabaseFile,
             errors.ConflictError, errors.NotFound, errors.StoreBusy, errors.StoreReadOnly, errors.DiskFull,
             errors.ServerUnavailable, errors.BackendMissing]
    for kind in kinds:
        assert issubclass(kind, errors.StoreError)
        assert getattr(db, kind.__name__) is kind and getattr(gateway, kind.__name__) is kind
    assert errors.NotFound.exit_code == errors.NotADatabaseFile.exit_code == 2
    assert errors.StoreBusy.exit_code == errors.DiskFull.exit_code == 1


@pytest.mark.parametrize("text, kind, words", [
    ("database or disk is full", errors.DiskFull, "the disk is full"),
    ("disk I/O error", errors.DiskFull, "could not be read or written"),
    ("database is locked", errors.StoreBusy, "busy"),
    ("attempt to write a readonly database", errors.StoreReadOnly, "read-only"),
    ("database disk image is malformed", errors.DatabaseDamaged, "damaged"),
    ("something else", errors.StoreError, "database error"),
])
def test_driver_errors_become_typed_errors(tmp_path, text, kind, words):
    made = sqlite_store._write_error(tmp_path / "x.sqlite3", sqlite3.OperationalError(text))
    assert type(made) is kind and words in str(made) and str(made).startswith(str(tmp_path / "x.sqlite3"))


class _Failing:
    """A connection whose every statement fails as a damaged file does."""

    in_transaction = False

    def __init__(self, text):
        self.text = text

    def execute(self, *args, **kwargs):
        raise sqlite3.DatabaseError(self.text)

    cursor = execute

    def close(self):
        pass


@pytest.mark.parametrize("read", [
    lambda s: s.count_patients(),
    lambda s: list(s.patients()),
    lambda s: list(s.audit_entries()),
    lambda s: s.search("", Filters(), TODAY),
    lambda s: s.change_mark(),
    lambda s: s.settings(),
])
@pytest.mark.sqlite_only("a damaged file; the server's failures are tests/pg's")
def test_a_read_that_meets_damage_raises_database_damaged_not_the_drivers_error(store, read):
    real = store.conn
    store.conn = _Failing("database disk image is malformed")
    try:
        with pytest.raises(errors.DatabaseDamaged, match="the database file is damaged"):
            read(store)
    finally:
        store.conn = real


def test_a_busy_database_is_store_busy(db_path, monkeypatch, vignettes):
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_MS", 50)
    with Store(db_path) as first, Store(db_path) as second:
        interchange.import_document(first, vignettes, today=TODAY)
        patient = first.patient_by_mrn("EX-01")
        with first.transaction():
            first.set_setting("backup_keep", "5")
            with pytest.raises(errors.StoreBusy, match="busy"):
                second.add_finding(patient.episodes[0].id, SymptomRecord(TODAY), today=TODAY)


def test_a_write_to_a_read_only_store_is_store_read_only(store, vignettes, db_target):
    interchange.import_document(store, vignettes, today=TODAY)
    with gateway.open_store(db_target, readonly=True) as reader:
        with pytest.raises(errors.StoreReadOnly):
            reader.set_setting("backup_keep", "5")


def test_the_gateways_own_handlers_still_see_the_drivers_error(tmp_path):
    """Opening a file that is not a database says so in the opening's words (the translation of the outermost
    call does not hide the driver's error from the gateway's own handlers)."""
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not a database at all" * 200)
    with pytest.raises(errors.DatabaseDamaged, match="not a TOHtrack database, or the file is damaged"):
        Store(path)


# ---------------------------------------------------------------------------
# Change marks: what the GUI polls
# ---------------------------------------------------------------------------


def test_changes_since_sees_records_written_elsewhere_but_not_cache_writes(db_target, vignettes):
    with gateway.open_store(db_target) as window, gateway.open_store(db_target) as other:
        interchange.import_document(other, vignettes, today=TODAY)
        mark = window.change_mark()
        assert window.changes_since(mark) == (False, mark)  # nothing happened
        patient = other.patient_by_mrn("EX-01")
        other.add_finding(patient.episodes[0].id, SymptomRecord(TODAY, pain_nrs=3), today=TODAY)
        changed, mark = window.changes_since(mark)
        assert changed
        assert window.changes_since(mark) == (False, mark)
        other.summaries([patient.id], TODAY)  # another window keeps assessment summaries: a cache
        changed, mark = window.changes_since(mark)
        assert not changed
        other.set_setting("backup_keep", "9")
        assert window.changes_since(mark)[0]


def test_change_marks_of_an_unchanged_database_are_equal(store, vignettes):
    interchange.import_document(store, vignettes, today=TODAY)
    assert store.change_mark() == store.change_mark()


# ---------------------------------------------------------------------------
# The protocol: the SQLite backend provides every method, with the same parameters
# ---------------------------------------------------------------------------


def _protocol_methods():
    return {name: value for name, value in vars(gateway.Gateway).items()
            if inspect.isfunction(value) and (not name.startswith("_") or name in ("__enter__", "__exit__"))}


@pytest.mark.parametrize("backend_class", ["sqlite", "postgresql"])
def test_each_backend_implements_the_gateway_protocol(backend_class):
    if backend_class == "sqlite":
        cls = Store
    else:
        from tohtrack.store import postgres

        cls = postgres.PostgresStore
    missing, different = [], []
    for name, method in _protocol_methods().items():
        mine = getattr(cls, name, None)
        if mine is None:
            missing.append(name)
            continue
        wanted = list(inspect.signature(method).parameters)
        have = list(inspect.signature(mine).parameters)
        if have[:len(wanted)] != wanted:
            different.append(f"{name}: {have} != {wanted}")
    assert missing == [] and different == []
    assert len(_protocol_methods()) >= 50


def test_the_old_names_are_the_new_ones():
    from tohtrack import migrations, schema
    from tohtrack.store import schema as new_schema
    from tohtrack.store.sqlite import migrations as new_migrations

    assert db.Store is Store and db.fold is sqlite_store.fold and db.StoreError is errors.StoreError
    assert migrations.migrations is new_migrations.migrations and schema.SCHEMA == new_schema.SCHEMA


@pytest.mark.sqlite_only("damage of the file met inside a gateway method")
def test_check_reports_damage_met_while_reading_histories_instead_of_raising(store, vignettes, monkeypatch):
    """check() says 'damaged' in its list even when the damage is met inside a gateway method it calls (the
    translation of errors applies to outside callers, not to the gateway's own calls)."""
    interchange.import_document(store, vignettes, today=TODAY)
    store.summaries([p.id for p in store.patients()], TODAY)  # stored summaries: check reads their histories

    def damaged(self, *args, **kwargs):
        raise sqlite3.DatabaseError("database disk image is malformed")
        yield  # a generator, as Store.patients is

    monkeypatch.setattr(Store, "_load_patients", damaged)
    problems = store.check()
    assert problems and problems[-1].startswith("integrity: the database file is damaged")


def test_psycopg_without_a_libpq_is_the_same_clear_error(tmp_path, monkeypatch):
    """The frozen app uses the workstation's libpq: without it psycopg cannot load ("no pq wrapper available")."""
    import builtins

    real_import = builtins.__import__

    def without_libpq(name, *args, **kwargs):
        if name == "psycopg" or name.startswith("psycopg."):
            raise ImportError("no pq wrapper available.\nAttempts made:\n- couldn't import psycopg 'binary' "
                              "implementation\n- libpq library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "tohtrack.store.postgres", raising=False)
    monkeypatch.setattr(builtins, "__import__", without_libpq)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(errors.BackendMissing, match="libpq5"):
        gateway.open_store("postgresql://u:secret@db.example/clinic")
    assert os.listdir(tmp_path) == []
