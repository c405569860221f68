"""Restore and `check --accept` on a clinic server: the owner's to do. The owner's restore puts a checked
TOHtrack backup file in place of the server database's contents in one transaction (the replaced contents kept
beside the file first); a clinician login is refused, with a message naming the server, and nothing changes.
(The same commands on both backends, as the owner, are in tests/test_db.py, test_cli.py and test_witness.py.)"""

import datetime as dt
import io
import secrets

import pytest

from conftest import run_cli
from pgfixtures import owner_url, pg_db  # noqa: F401 (fixtures)
from pgserver import url_for
from tohtrack import interchange
from tohtrack.store.postgres import PermissionRefused, PostgresStore

TODAY = dt.date(2026, 3, 1)


@pytest.fixture
def clinic(capsys, monkeypatch, owner_url, vignettes):
    """An initialised clinic database holding the example patients, with one clinician login:
    (owner URL, clinician URL)."""
    assert run_cli(capsys, "--db", owner_url, "admin", "init")[0] == 0
    login, password = f"dr_{secrets.token_hex(4)}", secrets.token_urlsafe(12)
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    code, _, err = run_cli(capsys, "--db", owner_url, "admin", "add-user", login, "--password-stdin", "--name", "Dr A")
    assert code == 0, err
    with PostgresStore(owner_url) as store:
        interchange.import_document(store, vignettes, today=TODAY)
    return owner_url, url_for(owner_url, user=login, password=password)


def test_a_clinician_may_not_restore_and_nothing_changes(capsys, clinic, tmp_path):
    owner, clinician = clinic
    backup = tmp_path / "b.sqlite3"
    assert run_cli(capsys, "--db", clinician, "backup", "-o", backup)[0] == 0  # reading is everyone's
    with PostgresStore(owner) as store:
        before = store.audit_head()
        with pytest.raises(PermissionRefused):
            PostgresStore(clinician).restore(backup)
    code, out, err = run_cli(capsys, "--db", clinician, "restore", backup)
    assert code == 1 and out == "" and "only the database's owner may restore" in err
    assert "Traceback" not in err and clinician.split(":")[2].split("@")[0] not in err  # no password shown
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.sqlite3"]  # nothing kept: nothing was replaced
    with PostgresStore(owner) as store:
        assert store.audit_head() == before and store.check() == []


def test_the_owners_restore_brings_the_backup_back_for_every_login(capsys, clinic, tmp_path):
    owner, clinician = clinic
    backup = tmp_path / "b.sqlite3"
    assert run_cli(capsys, "--db", owner, "backup", "-o", backup)[0] == 0
    with PostgresStore(clinician) as store:  # a clinician's change after the backup
        patient = store.patient_by_mrn("EX-01")
        patient.notes = "after the backup"
        store.update_patient(patient, today=TODAY)
        seal = store.audit_seal()
    code, out, err = run_cli(capsys, "--db", owner, "restore", backup)
    assert code == 0, err
    kept = out.rsplit(" ", 1)[-1].strip()
    assert kept.startswith(str(tmp_path)) and "-replaced-" in kept
    with PostgresStore(clinician) as store:
        assert store.patient_by_mrn("EX-01").notes == "" and store.check() == []
        patient = store.patient_by_mrn("EX-02")  # the clinician writes on, on the restored chain
        patient.notes = "after the restore"
        store.update_patient(patient, today=TODAY)
        assert store.check() == []
    code, out, err = run_cli(capsys, "--db", kept, "check", "--seal", seal)  # the replaced state, whole
    assert code == 0, err


def test_a_clinician_may_not_accept_the_database_as_it_is(capsys, clinic):
    owner, clinician = clinic
    code, out, err = run_cli(capsys, "--db", clinician, "check", "--accept")
    assert code == 1 and "only the database's owner may accept" in err and "accepted:" not in out
    code, out, err = run_cli(capsys, "--db", owner, "check", "--accept")
    assert code == 0 and "accepted:" in out, err


def test_a_backup_of_an_older_schema_is_refused_before_anything_is_kept(capsys, clinic, tmp_path):
    from test_db import migration_set
    from tohtrack import migrations as mig
    from tohtrack.db import Store

    owner, _ = clinic
    older = tmp_path / "older.sqlite3"
    with Store(older, migration_set=migration_set(mig.m002_registry_indexes)) as store:
        store.set_setting("clinic_name", "Older")
    code, out, err = run_cli(capsys, "--db", owner, "restore", older)
    assert code == 2 and "its schema is not this TOHtrack's" in err and out == ""
    assert not [p for p in tmp_path.iterdir() if "-replaced-" in p.name]  # nothing replaced, nothing kept
    with PostgresStore(owner) as store:
        assert store.count_patients() == 6 and store.check() == []
