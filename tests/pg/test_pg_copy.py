"""`tohtrack --db SRC copy DEST` between SQLite and PostgreSQL: the whole database with its audit chain, settings and
identity; both then export the same and pass their check, and the copy goes on from where the source was."""

import datetime as dt
import io
import secrets
import sqlite3

import pytest

from conftest import run_cli
from pgfixtures import owner_url, pg_db, pg_store  # noqa: F401 (fixtures)
from pgserver import url_for
from tohtrack import interchange
from tohtrack.db import Store
from tohtrack.model import ImagingStudy, SymptomRecord
from tohtrack.store.postgres import PostgresStore

TODAY = dt.date(2026, 3, 1)


@pytest.fixture
def clinic_file(tmp_path, vignettes):
    """An SQLite database with imports, edits, removals, an archived patient and settings."""
    path = tmp_path / "clinic.sqlite3"
    with Store(path, clinician="Dr Sqlite") as store:
        interchange.import_document(store, vignettes, today=TODAY)
        patient = store.patient_by_mrn("EX-01")
        patient.notes = "moved to the clinic server"
        store.update_patient(patient, TODAY)
        store.delete_finding(patient.episodes[0].imaging[0])
        store.add_finding(patient.episodes[0].id, ImagingStudy(date=dt.date(2025, 6, 1), modality="XR",
                                                               edema_extent_pct=12.5), TODAY)
        store.set_archived(store.patient_id("EX-03"), 1)
        store.set_setting("clinic_name", "Orthopaedic Clinic")
        store.set_setting("review_schedule", "6w 3m 6m")
    return path


def snapshot(store):
    entries = [(e.id, e.at, e.os_user, e.clinician, e.table_name, e.row_id, e.patient_id, e.action, e.old, e.new)
               for e in store.audit_entries()]
    return (interchange.export_document(store), store.audit_head(), store.identity(), store.setting_texts(), entries)


def test_sqlite_to_server_and_back_is_the_same_database(capsys, clinic_file, owner_url, tmp_path):
    with Store(clinic_file, readonly=True) as store:
        original = snapshot(store)
    code, out, err = run_cli(capsys, "--db", clinic_file, "copy", owner_url)
    assert code == 0, err
    assert "copied 6 patients" in out and "passes its check" in out
    assert owner_url.split(":")[2].split("@")[0] not in out  # no password
    with PostgresStore(owner_url) as server:
        assert snapshot(server) == original
        assert server.check() == []
    back = tmp_path / "back.sqlite3"
    code, out, err = run_cli(capsys, "--db", owner_url, "copy", back)
    assert code == 0, err
    with Store(back) as store:
        assert snapshot(store) == original
        assert store.check() == []
    code, out, err = run_cli(capsys, "--db", back, "check")
    assert code == 0, out + err


def test_the_server_goes_on_from_the_copied_chain(capsys, clinic_file, owner_url):
    assert run_cli(capsys, "--db", clinic_file, "copy", owner_url)[0] == 0
    with PostgresStore(owner_url) as server:
        count, _ = server.audit_head()
        patient = server.patient_by_mrn("EX-02")
        record = server.add_finding(patient.episodes[0].id, SymptomRecord(date=dt.date(2025, 12, 1), pain_nrs=1),
                                    TODAY)
        assert record.id > max(s.id for p in server.patients() for e in p.episodes for s in e.symptoms
                               if s is not record and s.id != record.id)
        assert server.audit_head()[0] == count + 1
        assert server.check() == []


def test_copy_writes_only_into_an_empty_database(capsys, clinic_file, owner_url, pg_store, tmp_path):
    pg_store.set_setting("clinic_name", "Another clinic")
    head = pg_store.audit_head()
    code, _, err = run_cli(capsys, "--db", clinic_file, "copy", owner_url)
    assert code == 2 and "is not empty" in err
    assert pg_store.audit_head() == head and pg_store.count_patients() == 0
    existing = tmp_path / "there.sqlite3"
    existing.write_bytes(b"x")
    code, _, err = run_cli(capsys, "--db", clinic_file, "copy", existing)
    assert code == 2 and "already there" in err and existing.read_bytes() == b"x"


def test_a_source_that_fails_its_check_is_not_copied(capsys, clinic_file, owner_url, tmp_path):
    conn = sqlite3.connect(clinic_file)
    conn.execute("UPDATE patients SET notes = 'changed behind the app' WHERE mrn = 'EX-02'")
    conn.commit()
    conn.close()
    code, _, err = run_cli(capsys, "--db", clinic_file, "copy", tmp_path / "copy.sqlite3")
    assert code == 2 and "fails its check" in err and "differ from the audit trail" in err
    assert not (tmp_path / "copy.sqlite3").exists()


def test_only_the_owner_copies_into_a_server_database(capsys, monkeypatch, clinic_file, owner_url):
    assert run_cli(capsys, "--db", owner_url, "admin", "init")[0] == 0
    login, password = f"dr_{secrets.token_hex(4)}", "pw-" + secrets.token_hex(6)
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    assert run_cli(capsys, "--db", owner_url, "admin", "add-user", login, "--password-stdin")[0] == 0
    code, _, err = run_cli(capsys, "--db", clinic_file, "copy", url_for(owner_url, user=login, password=password))
    assert code == 1 and "only the database's owner" in err and password not in err
    with PostgresStore(owner_url) as server:
        assert server.count_patients() == 0 and server.audit_head()[0] == 0 and server.check() == []


def test_a_backup_of_the_server_is_a_checked_sqlite_file(pg_store, vignettes, tmp_path):
    from tohtrack.db import check_backup

    interchange.import_document(pg_store, vignettes, today=TODAY)
    target = pg_store.backup(tmp_path / "clinic-backup.sqlite3")
    assert target == tmp_path / "clinic-backup.sqlite3" and (target.stat().st_mode & 0o077) == 0
    assert check_backup(target) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clinic-backup.sqlite3"]  # no scratch left
    with Store(target, readonly=True) as copy:
        assert snapshot(copy) == snapshot(pg_store)


def test_the_copied_tables_are_analysed_at_once(capsys, clinic_file, owner_url):
    """After the copy the planner knows the new rows (statistics, visibility map) without waiting for
    autovacuum: searches plan on real row counts and walk the covering indexes from the first query."""
    import psycopg

    assert run_cli(capsys, "--db", clinic_file, "copy", owner_url)[0] == 0
    with psycopg.connect(owner_url) as conn:
        rows = dict(conn.execute("SELECT relname, last_vacuum IS NOT NULL AND last_analyze IS NOT NULL "
                                 "FROM pg_stat_user_tables").fetchall())
        estimate = conn.execute("SELECT reltuples FROM pg_class WHERE relname = 'patients'").fetchone()[0]
    assert all(rows[t] for t in ("patients", "episodes", "imaging", "symptoms", "treatments", "audit")), rows
    assert estimate == 6  # the six patients of the file, not the planner's guess for a table never analysed
