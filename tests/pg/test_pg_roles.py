"""Roles enforced by the server: `admin init | add-user | users`, what a clinician login may do (what the app
does) and what it may not (rewrite the audit trail, alter or drop tables, disable triggers), and who the audit
names (the server's session_user and its display name, never a name the client sends)."""

import datetime as dt
import io
import json
import secrets

import psycopg
import pytest

from conftest import minimal_document, run_cli
from pgfixtures import owner_url, pg_db, pg_store  # noqa: F401 (fixtures)
from pgserver import url_for
from tohtrack import interchange
from tohtrack.model import Patient
from tohtrack.store.postgres import NotATohtrackDatabase, PermissionRefused, PostgresStore

TODAY = dt.date(2026, 3, 1)


def add_user(capsys, monkeypatch, owner_url, login, password, name=None):
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    args = ["--db", owner_url, "admin", "add-user", login, "--password-stdin"] + (["--name", name] if name else [])
    return run_cli(capsys, *args)


@pytest.fixture
def clinic(capsys, monkeypatch, owner_url):
    """An initialised clinic database with one clinician login: (owner URL, clinician URL, login, password)."""
    code, out, err = run_cli(capsys, "--db", owner_url, "admin", "init")
    assert code == 0, err
    login, password = f"dr_{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    code, out, err = add_user(capsys, monkeypatch, owner_url, login, password, "Dr A. Rossi")
    assert code == 0, err
    return owner_url, url_for(owner_url, user=login, password=password), login, password


def test_admin_init_makes_the_schema_and_the_group_and_says_what_it_did(capsys, owner_url):
    code, out, err = run_cli(capsys, "--db", owner_url, "admin", "init")
    assert code == 0 and err == ""
    assert "applied the schema migrations m001_initial" in out and "m006_imaging_dicom_study" in out
    secret = owner_url.split(":")[2].split("@")[0]
    assert secret not in out
    code, out, err = run_cli(capsys, "--db", owner_url, "admin", "init")  # again: nothing to do, no harm
    assert code == 0 and "the schema is up to date" in out
    with psycopg.connect(owner_url) as conn:  # a session stuck in a transaction cannot hold up the clinic
        assert conn.execute("SHOW idle_in_transaction_session_timeout").fetchone()[0] == "5min"


def test_add_user_and_users(capsys, monkeypatch, pg_server, pg_db, clinic):
    owner_url, _, login, password = clinic
    # (Roles belong to the whole server: the session's other test databases have clinician logins too.)
    code, out, err = run_cli(capsys, "--db", owner_url, "admin", "users")
    assert code == 0 and f"{login}\tDr A. Rossi" in out.splitlines()
    other = f"nurse_{secrets.token_hex(3)}"
    code, out, err = add_user(capsys, monkeypatch, owner_url, other, "pw-" + secrets.token_hex(4))
    assert code == 0 and f"created the login {other}" in out
    code, out, _ = run_cli(capsys, "--db", owner_url, "admin", "users")
    lines = out.splitlines()
    assert lines == sorted(lines) and {f"{login}\tDr A. Rossi", other} <= set(lines)
    assert "tohtrack_test_owner" not in out  # the group's administrator is not a clinician
    # The password went to the server only as a SCRAM verifier; it is in no message.
    with psycopg.connect(pg_server.superuser(pg_db)) as su:
        stored = su.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (login,)).fetchone()[0]
    assert stored.startswith("SCRAM-SHA-256$") and password not in stored


def test_add_user_refusals(capsys, monkeypatch, clinic):
    owner_url, _, login, _ = clinic
    code, _, err = add_user(capsys, monkeypatch, owner_url, login, "whatever")
    assert code == 2 and "already exists" in err
    code, _, err = add_user(capsys, monkeypatch, owner_url, 'bad"name; DROP TABLE audit', "whatever")
    assert code == 2 and "LOGIN" in err and "not a login name" in err
    code, _, err = add_user(capsys, monkeypatch, owner_url, "pg_monitor2", "whatever")
    assert code == 2 and "reserved" in err
    code, _, err = add_user(capsys, monkeypatch, owner_url, "dr_empty", "")
    assert code == 2 and "password is empty" in err
    answers = iter(["one", "two"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, _, err = run_cli(capsys, "--db", owner_url, "admin", "add-user", "dr_typo")
    assert code == 2 and "the two passwords differ" in err


def test_admin_needs_a_server_database(capsys, tmp_path):
    code, _, err = run_cli(capsys, "--db", tmp_path / "clinic.sqlite3", "admin", "init")
    assert code == 2 and "postgresql://" in err
    assert not (tmp_path / "clinic.sqlite3").exists()


def test_admin_init_by_a_clinician_is_refused(capsys, clinic):
    _, clinician_url, _, password = clinic
    code, _, err = run_cli(capsys, "--db", clinician_url, "admin", "init")
    assert code == 1 and "may not create tables" in err and password not in err


def test_a_clinician_cannot_open_a_database_not_set_up(pg_server, owner_url, monkeypatch, capsys):
    run_cli(capsys, "--db", owner_url, "admin", "init")
    login, password = f"dr_{secrets.token_hex(4)}", "pw-" + secrets.token_hex(6)
    assert add_user(capsys, monkeypatch, owner_url, login, password)[0] == 0
    empty = pg_server.new_database()
    try:
        with pytest.raises(PermissionRefused, match="may not use this database"):
            PostgresStore(url_for(pg_server.owner_url(empty), user=login, password=password))
        with psycopg.connect(pg_server.superuser(empty), autocommit=True) as su:
            su.execute(f'GRANT CONNECT ON DATABASE "{empty}" TO tohtrack_clinician')
        with pytest.raises(NotATohtrackDatabase, match="admin init"):
            PostgresStore(url_for(pg_server.owner_url(empty), user=login, password=password))
    finally:
        pg_server.drop_database(empty)


def test_the_audit_names_the_servers_login_and_display_name_not_the_clients(clinic):
    _, clinician_url, login, _ = clinic
    with PostgresStore(clinician_url, clinician="Somebody Else") as store:
        assert store.clinician == "Dr A. Rossi" and store.os_user == login
        interchange.import_document(store, minimal_document(), today=TODAY)
        patient = store.patient_by_mrn("T-1")
        patient.notes = "seen"
        store.update_patient(patient, TODAY)
        entries = list(store.audit_entries())
        assert entries and {(e.os_user, e.clinician) for e in entries} == {(login, "Dr A. Rossi")}
        assert store.check() == []


def test_a_clinician_does_what_the_app_does(clinic, vignettes):
    _, clinician_url, _, _ = clinic
    with PostgresStore(clinician_url) as store:
        interchange.import_document(store, vignettes, today=TODAY)
        patient = store.patient_by_mrn("EX-01")
        store.set_archived(patient.id, patient.version)
        episode = patient.episodes[0]
        store.delete_finding(episode.imaging[0])
        store.delete_episode(episode.id, episode.version)
        store.set_setting("clinic_name", "Ward 3")
        store.set_setting("clinic_name", "Ward 4")
        assert store.check() == []


REFUSED = [
    "UPDATE audit SET clinician = 'x'",
    "DELETE FROM audit",
    "TRUNCATE audit",
    "INSERT INTO audit VALUES (999, 'x', 'x', 'x', 'patients', 1, 1, 'create', NULL, NULL, 'x')",
    "ALTER TABLE patients ADD COLUMN colour text",
    "DROP TABLE audit",
    "ALTER TABLE audit DISABLE TRIGGER audit_no_update",
    "ALTER TABLE patients DISABLE TRIGGER patients_audit",
    "DELETE FROM patients",
    "TRUNCATE episodes CASCADE",
    "CREATE TABLE notes (x text)",
    "UPDATE tohtrack_logins SET display_name = 'Dr Forged'",
    "INSERT INTO tohtrack_logins VALUES (session_user, 'Dr Forged') "
    "ON CONFLICT (login) DO UPDATE SET display_name = 'Dr Forged'",
    "SELECT tohtrack_audit_append('patients', 1, 1, 'update', NULL, NULL)",
    "SET session_replication_role = replica",
    "CREATE OR REPLACE FUNCTION tohtrack_audit_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
    "UPDATE audit_identity SET identity = 'x'",
    "INSERT INTO audit_chain VALUES (2)",
]


@pytest.mark.parametrize("statement", REFUSED)
def test_a_clinician_login_is_refused_everything_else(clinic, vignettes, statement):
    owner_url, clinician_url, _, _ = clinic
    with PostgresStore(owner_url) as store:
        interchange.import_document(store, vignettes, today=TODAY)
        head = store.audit_head()
    with psycopg.connect(clinician_url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
    with PostgresStore(owner_url) as store:
        assert store.audit_head() == head and store.check() == []


@pytest.mark.parametrize("statement", ["UPDATE audit SET clinician = 'x'", "DELETE FROM audit WHERE id = 1",
                                       "TRUNCATE audit", "UPDATE audit_identity SET identity = 'x'"])
def test_even_the_owner_cannot_change_the_trail_without_disabling_its_triggers(pg_store, vignettes, statement):
    interchange.import_document(pg_store, vignettes, today=TODAY)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only|identity cannot"):
        pg_store.conn.execute(statement)


def test_a_record_changed_by_plain_sql_is_audited_by_the_server(clinic, vignettes):
    owner_url, clinician_url, login, _ = clinic
    with PostgresStore(owner_url) as store:
        interchange.import_document(store, vignettes, today=TODAY)
        pid = store.patient_id("EX-02")
    with psycopg.connect(clinician_url, autocommit=True) as conn:
        conn.execute("UPDATE patients SET notes = 'changed in psql', version = 99 WHERE id = %s", (pid,))
        conn.execute("INSERT INTO symptoms (episode_id, date, pain_nrs) "
                     "SELECT id, '2025-12-01', 2 FROM episodes WHERE patient_id = %s LIMIT 1", (pid,))
        conn.execute("DELETE FROM treatments WHERE id = (SELECT min(id) FROM treatments)")
    with PostgresStore(owner_url) as store:
        patient = store.patient(pid)
        assert patient.notes == "changed in psql" and patient.version == 2  # the server's version, not 99
        last = list(store.audit_entries())[-3:]
        assert [(e.table_name, e.action, e.os_user, e.clinician) for e in last] == [
            ("patients", "update", login, "Dr A. Rossi"), ("symptoms", "create", login, "Dr A. Rossi"),
            ("treatments", "delete", login, "Dr A. Rossi")]
        assert last[0].new == {"notes": "changed in psql"} and list(last[0].old) == ["notes"]
        assert store.check() == []


def test_a_clinician_cannot_take_the_owners_identity(clinic):
    _, clinician_url, login, _ = clinic
    with psycopg.connect(clinician_url, autocommit=True) as conn:
        for statement in ("SET ROLE tohtrack_test_owner", "SET SESSION AUTHORIZATION tohtrack_test_owner"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        conn.execute("SET ROLE tohtrack_clinician")  # its own group: allowed, and the audit still names the login
        conn.execute("INSERT INTO settings (key, value) VALUES ('clinic_name', 'Ward 9')")
        row = conn.execute("SELECT os_user, clinician, new FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    assert row[:2] == (login, "Dr A. Rossi") and json.loads(row[2]) == {"key": "clinic_name", "value": "Ward 9"}


def test_clinician_passwords_are_checked_by_the_server(clinic):
    _, clinician_url, login, password = clinic
    with pytest.raises(Exception, match="refused the login") as err:
        PostgresStore(url_for(clinician_url, password=password + "x"))
    assert password not in str(err.value)


def test_one_patient_written_by_two_logins_conflicts(capsys, monkeypatch, clinic):
    owner_url, first_url, _, _ = clinic
    second, password = f"dr_{secrets.token_hex(4)}", "pw-" + secrets.token_hex(6)
    assert add_user(capsys, monkeypatch, owner_url, second, password, "Dr B. Bianchi")[0] == 0
    with PostgresStore(first_url) as one, PostgresStore(url_for(owner_url, user=second, password=password)) as two:
        one.add_patient(Patient("C-1", "Conti", "Luca", dt.date(1980, 1, 1), "male"), TODAY)
        mine, theirs = one.patient_by_mrn("C-1"), two.patient_by_mrn("C-1")
        theirs.notes = "by B"
        two.update_patient(theirs, TODAY)
        mine.notes = "by A"
        from tohtrack.db import ConflictError

        with pytest.raises(ConflictError):
            one.update_patient(mine, TODAY)
        assert [e.clinician for e in one.audit_entries()] == ["Dr A. Rossi", "Dr B. Bianchi"]
