"""The audit trail anchored outside the file (tohtrack.witness): the database identity, the witness moved on
by commits, restores, migrations and acceptances, and what `check` finds with it — a file rolled back to an
older copy, a truncated tail, a recomputed chain, a file replaced by another database — plus the schema held
against its version's definitions and the audit seal printed on reports. No Qt here."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlite_utils.migrations import Migrations

from conftest import run_cli
from tohtrack import interchange, migrations as mig, witness
from tohtrack.db import GENESIS_HASH, Store, _entry_hash, parse_seal
from tohtrack.store import open_store

ROOT = Path(__file__).resolve().parents[1]


run = run_cli  # tests/conftest.py


@pytest.fixture
def clinic(db_path, vignettes_path) -> Path:
    with Store(db_path, clinician="Dr Test") as store:
        interchange.import_file(store, vignettes_path)
        store.set_setting("clinic_name", "Test Clinic")
    return db_path


@pytest.fixture
def any_clinic(db_target, vignettes_path):
    """As `clinic`, on either backend (the seal, check --seal and --accept, backup and restore)."""
    with open_store(db_target, clinician="Dr Test") as store:
        interchange.import_file(store, vignettes_path)
        store.set_setting("clinic_name", "Test Clinic")
    return db_target


def head(path: Path) -> tuple[str, int, str]:
    with open_store(path, readonly=True) as store:
        return (store.identity(), *store.audit_head())


def put_back(copy: Path, path: Path) -> None:
    """A file copied over the database by hand (its -wal and -shm gone with it)."""
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(copy, path)


def audit_triggers(conn) -> list[str]:
    return [r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'")]


def behind_the_apps_back(path: Path, *statements: str) -> None:
    """Statements run with the append-only triggers out of the way and then put back exactly as they were (what
    someone with the file and an SQLite shell does; the schema check cannot see it)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        triggers = audit_triggers(conn)
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("DROP TRIGGER audit_no_delete")
        for statement in statements:
            conn.execute(statement)
        for sql in triggers:
            conn.execute(sql)
    finally:
        conn.close()


def recompute_chain(path: Path) -> None:
    """Rehash every entry from the first one: after an edit the chain is whole again (plain SHA-256)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        triggers = audit_triggers(conn)
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("DROP TRIGGER audit_no_delete")
        prev = GENESIS_HASH
        rows = conn.execute("SELECT id, at, os_user, clinician, table_name, row_id, patient_id, action, old, new "
                            "FROM audit ORDER BY id").fetchall()
        for row in rows:
            prev = _entry_hash(prev, row)
            conn.execute("UPDATE audit SET hash = ? WHERE id = ?", (prev, row[0]))
        for sql in triggers:
            conn.execute(sql)
    finally:
        conn.close()


# -- the identity --------------------------------------------------------------------------------------


def test_a_new_database_has_a_random_identity_that_copies_keep(clinic, tmp_path):
    identity = head(clinic)[0]
    assert witness.valid_identity(identity)
    with Store(tmp_path / "other.sqlite3") as other:
        assert other.identity() != identity and witness.valid_identity(other.identity())
    with Store(clinic) as store:
        store.backup(tmp_path / "b.sqlite3")
        for statement in ("UPDATE audit_identity SET identity = 'x'", "DELETE FROM audit_identity"):
            with pytest.raises(sqlite3.DatabaseError, match="database identity cannot be"):
                store.conn.execute(statement)
    assert head(tmp_path / "b.sqlite3")[0] == identity


def test_a_database_from_before_the_identity_gets_one_and_is_anchored(db_path, vignettes_path, capsys):
    old = Migrations("tohtrack")
    for fn in (mig.m001_initial, mig.m002_registry_indexes, mig.m003_assessment_summary):
        old()(fn)
    with Store(db_path, migration_set=old) as store:
        interchange.import_file(store, vignettes_path)
        assert store.identity() is None
    code, out, _ = run(capsys, "check")  # read-only: not upgraded, said plainly, not an error
    assert code == 0 and "has no identity yet" in out
    with Store(db_path) as store:  # the upgrade gives it one and anchors the trail as it is
        identity, count, top = store.identity(), *store.audit_head()
        assert store.last_migration_backup is not None
    anchor = witness.read(identity)
    assert (anchor.count, anchor.head) == (count, top) and count == 39
    code, out, err = run(capsys, "check")
    assert code == 0 and "matches what this workstation last saw" in out, out + err


# -- the witness, moved on by commits --------------------------------------------------------------------


def test_every_commit_that_appends_moves_the_witness_private_and_whole(clinic, tmp_path):
    identity, count, top = head(clinic)
    anchor = witness.read(identity)
    assert (anchor.count, anchor.head, anchor.path) == (count, top, str(clinic.resolve()))
    folder = Path(os.environ["TOHTRACK_WITNESS"])
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for file in folder.iterdir():
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    assert not [f for f in folder.iterdir() if f.name.endswith(".partial")]
    with Store(clinic) as store:
        store.set_setting("clinic_name", "Renamed")
        assert witness.read(identity).count == count + 1
        with pytest.raises(Exception):  # a failed write appends nothing and moves nothing
            with store.transaction():
                store.set_setting("paper_size", "Letter")
                raise RuntimeError("no")
        assert witness.read(identity).count == count + 1


def test_the_witness_never_moves_back_or_sideways_without_force(clinic):
    identity, count, top = head(clinic)
    with Store(clinic) as store:
        anchor = witness.observe(identity, count - 3, "ab" * 32, clinic, store.hash_at)
        assert (anchor.count, anchor.head) == (count, top)  # behind: kept
        anchor = witness.observe(identity, count + 5, "cd" * 32, clinic, lambda n: "ef" * 32)
        assert (anchor.count, anchor.head) == (count, top)  # ahead, but not through what was seen: kept
        anchor = witness.observe(identity, count - 3, "ab" * 32, clinic, store.hash_at, force=True)
        assert anchor.count == count - 3


def test_processes_committing_at_once_leave_the_witness_at_the_last_head(clinic):
    script = ("import sys\nfrom tohtrack.db import Store\n"
              "with Store(sys.argv[1]) as s:\n"
              "    for i in range(15):\n"
              "        s.set_setting('clinic_name', f'{sys.argv[2]} {i}')\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    children = [subprocess.Popen([sys.executable, "-c", script, str(clinic), f"w{n}"], env=env) for n in range(4)]
    assert [c.wait(120) for c in children] == [0] * 4
    identity, count, top = head(clinic)
    anchor = witness.read(identity)
    assert (anchor.count, anchor.head) == (count, top)


def test_a_witness_that_cannot_be_written_does_not_undo_the_change(clinic, capsys, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("TOHTRACK_WITNESS", str(blocker))
    code, out, err = run(capsys, "--db", clinic, "settings", "clinic_name", "Still saved")
    assert code == 0 and "warning: the audit witness folder" in err and "the change itself was saved" in err
    with Store(clinic, readonly=True) as store:
        assert store.settings().clinic_name == "Still saved"
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 0 and "checked within the file only" in out


def test_a_damaged_witness_file_is_said_and_not_trusted(clinic, capsys):
    identity = head(clinic)[0]
    (Path(os.environ["TOHTRACK_WITNESS"]) / f"{identity}.json").write_text("{not json")
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 0 and "is damaged" in out and "checked within the file only" in out
    assert "'tohtrack check --accept' starts it again" in out
    code, out, err = run(capsys, "--db", clinic, "settings", "clinic_name", "Y")  # kept as found, said
    assert code == 0 and "is damaged" in err and "the change itself was saved" in err
    code, out, err = run(capsys, "--db", clinic, "check", "--accept")
    assert code == 0 and "had not seen this database before" in out, err
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 0 and "matches what this workstation last saw" in out


# -- what check finds ------------------------------------------------------------------------------------


def test_a_file_rolled_back_to_an_older_copy_is_reported(clinic, tmp_path, capsys):
    shutil.copyfile(clinic, tmp_path / "monday.sqlite3")
    with Store(clinic) as store:
        for i in range(37):
            store.set_setting("clinic_name", f"Clinic {i}")
    put_back(tmp_path / "monday.sqlite3", clinic)
    with Store(clinic, readonly=True) as store:
        assert store.check() == []  # the file alone agrees with itself
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 1
    assert "this database is 37 entries behind what this workstation last saw on " in err
    assert "an older copy was put in its place" in err and "tohtrack check --accept" in err


def test_a_truncated_tail_is_reported(clinic, capsys):
    with Store(clinic) as store:
        store.set_setting("paper_size", "Letter")
    # the last transaction removed with its audit entry, and the triggers put back as they were
    behind_the_apps_back(clinic, "DELETE FROM settings WHERE key = 'paper_size'",
                         "DELETE FROM audit WHERE id = (SELECT max(id) FROM audit)")
    with Store(clinic, readonly=True) as store:
        assert store.check() == []
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 1 and "this database is 1 entry behind what this workstation last saw" in err


def test_a_recomputed_chain_is_reported(clinic, capsys):
    behind_the_apps_back(clinic, "UPDATE patients SET notes = 'forged' WHERE id = 2",
                         "UPDATE audit SET new = json_set(new, '$.notes', 'forged') "
                         "WHERE table_name = 'patients' AND row_id = 2 AND action = 'create'")
    recompute_chain(clinic)
    with Store(clinic, readonly=True) as store:
        assert store.check() == []  # the file alone agrees with itself again
    identity, count, _ = head(clinic)
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 1
    assert f"the audit trail was rewritten: entry {count} does not have the hash this workstation saw" in err


def test_a_file_replaced_by_another_database_is_reported(clinic, tmp_path, capsys, vignettes_path):
    forged = tmp_path / "forged.sqlite3"
    with Store(forged) as store:
        interchange.import_file(store, vignettes_path)
    # the forged file never met this witness: copy it over with a fresh witness of its own elsewhere
    put_back(forged, clinic)
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 1 and "this is not the database this workstation first saw at" in err
    assert "the file was replaced by another database" in err


def test_a_database_never_seen_here_is_no_error_and_remembered(clinic, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("TOHTRACK_WITNESS", str(tmp_path / "another-workstation"))
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 0, err
    assert "this workstation has not seen this database before" in out and "remembers it from now on" in out
    identity, count, top = head(clinic)
    assert witness.read(identity).count == count
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 0 and "matches what this workstation last saw" in out


def test_a_copy_that_moved_on_elsewhere_passes_and_moves_the_witness(clinic, tmp_path, capsys):
    copy = tmp_path / "laptop.sqlite3"
    shutil.copyfile(clinic, copy)
    with Store(copy) as store:
        store.set_setting("clinic_name", "Laptop")  # the witness moves on with the copy (same identity)
    code, out, err = run(capsys, "--db", clinic, "check")  # the original is now behind the copy
    assert code == 1 and "1 entry behind" in err and str(copy.resolve()) in err


def test_accept_says_what_it_accepts_audits_it_and_reanchors(clinic, tmp_path, capsys):
    shutil.copyfile(clinic, tmp_path / "old.sqlite3")
    with Store(clinic) as store:
        store.set_setting("clinic_name", "Newer")
    put_back(tmp_path / "old.sqlite3", clinic)
    identity, count, top = head(clinic)
    code, out, err = run(capsys, "--db", clinic, "--clinician", "Dr Admin", "check", "--accept")
    assert code == 0, err
    assert f"accepted: {clinic} as it is, with {count} audit entries" in out
    assert "1 entry behind what this workstation last saw on" in out
    assert "recorded in the audit trail" in out
    with Store(clinic, readonly=True) as store:
        last = list(store.audit_entries())[-1]
        assert (last.action, last.table_name, last.clinician) == ("accept", "database", "Dr Admin")
        assert last.old["count"] == count + 1 and last.new == {"count": count, "head": top,
                                                               "path": str(clinic.resolve())}
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 0, err


def test_accept_takes_another_database_at_the_path(clinic, tmp_path, capsys):
    other = tmp_path / "other.sqlite3"
    with Store(other) as store:
        store.set_setting("clinic_name", "Other")
    put_back(other, clinic)
    code, out, err = run(capsys, "--db", clinic, "check", "--accept")
    assert code == 0 and "in place of another database this workstation first saw at this path" in out
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 0, err


def test_accept_refuses_a_file_that_fails_its_own_checks(clinic, capsys):
    identity = head(clinic)[0]
    before = witness.read(identity)
    behind_the_apps_back(clinic, "UPDATE patients SET notes = 'x' WHERE id = 1")
    code, out, err = run(capsys, "--db", clinic, "check", "--accept")
    assert code == 1 and "not accepted" in err and "patients row 1: notes differ" in err
    assert witness.read(identity) == before


def test_restore_moves_the_witness_back_legitimately(any_clinic, tmp_path, capsys):
    clinic = any_clinic
    code, _, err = run(capsys, "--db", clinic, "backup", "-o", tmp_path / "b.sqlite3")
    assert code == 0, err
    with open_store(clinic) as store:
        store.set_setting("clinic_name", "After the backup")
    code, out, err = run(capsys, "--db", clinic, "restore", tmp_path / "b.sqlite3")
    assert code == 0, err
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 0, err


def test_a_backup_carries_the_witness_and_a_rolled_back_one_fails_restore(clinic, tmp_path, capsys):
    identity, count, top = head(clinic)
    with Store(clinic, readonly=True) as store:
        store.backup(tmp_path / "b.sqlite3")
    conn = sqlite3.connect(tmp_path / "b.sqlite3")
    assert conn.execute("SELECT identity, count, head FROM audit_anchor").fetchall() == [(identity, count, top)]
    conn.close()
    # a backup taken of a file that was rolled back carries what the witness had seen: it fails its check
    shutil.copyfile(clinic, tmp_path / "old.sqlite3")
    with Store(clinic) as store:
        store.set_setting("clinic_name", "Lost")
    put_back(tmp_path / "old.sqlite3", clinic)
    code, out, err = run(capsys, "--db", clinic, "backup", "-o", tmp_path / "rolled-back.sqlite3")
    assert code == 0
    code, out, err = run(capsys, "--db", tmp_path / "restored.sqlite3", "restore", tmp_path / "rolled-back.sqlite3")
    assert code == 2 and "1 entry behind what the workstation that made its backup" in err, err


# -- the schema ------------------------------------------------------------------------------------------


DO_NOTHING = {
    "append-only update trigger": ("DROP TRIGGER audit_no_update",
                                   "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT 1; END"),
    "append-only delete trigger": ("DROP TRIGGER audit_no_delete",
                                   "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit WHEN 0 BEGIN "
                                   "SELECT RAISE(ABORT, 'the audit trail is append-only: entries cannot be removed'); END"),
    "identity trigger": ("DROP TRIGGER audit_identity_no_update",
                         "CREATE TRIGGER audit_identity_no_update BEFORE UPDATE ON audit_identity BEGIN SELECT 1; END"),
}


@pytest.mark.parametrize("case", list(DO_NOTHING))
def test_a_same_named_trigger_that_does_nothing_is_reported(clinic, case, capsys):
    conn = sqlite3.connect(clinic, isolation_level=None)
    for statement in DO_NOTHING[case]:
        conn.execute(statement)
    conn.close()
    name = DO_NOTHING[case][0].split()[-1]
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 1 and f"schema: the trigger {name}" in err and "replaced by a different one" in err


def test_tables_indexes_and_extra_objects_are_held_against_the_schema(clinic, capsys):
    conn = sqlite3.connect(clinic, isolation_level=None)
    conn.execute("ALTER TABLE patients ADD COLUMN smuggled TEXT")
    conn.execute("CREATE TRIGGER audit_copy AFTER INSERT ON audit BEGIN SELECT 1; END")
    conn.execute("DROP INDEX audit_patient")
    conn.execute("CREATE TABLE notes_elsewhere (x TEXT)")
    conn.close()
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 1
    assert "schema: the table patients is not TOHtrack's definition" in err
    assert "schema: an unexpected trigger audit_copy (added outside TOHtrack)" in err
    assert "schema: the index audit_patient is missing" in err
    assert "schema: an unexpected table notes_elsewhere" in err


@pytest.mark.parametrize("edit", [
    "DELETE FROM _sqlite_migrations WHERE name = 'm002_registry_indexes'",  # one taken out of the middle
    "DELETE FROM _sqlite_migrations WHERE name = 'm001_initial'",
])
def test_a_changed_list_of_migrations_cannot_switch_the_schema_check_off(clinic, capsys, edit):
    # The list of applied migrations says which schema to compare with; changed, nothing would be compared and a
    # do-nothing trigger of the right name would pass.
    conn = sqlite3.connect(clinic, isolation_level=None)
    for statement in (*DO_NOTHING["append-only update trigger"], edit):
        conn.execute(statement)
    conn.close()
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 1 and "schema: the migrations recorded as applied (" in err and "cannot be verified" in err, err


def test_a_trigger_on_the_migrations_table_is_held_against_the_schema(clinic, capsys):
    conn = sqlite3.connect(clinic, isolation_level=None)
    conn.execute("CREATE TRIGGER on_upgrade AFTER INSERT ON _sqlite_migrations BEGIN DELETE FROM patients; END")
    conn.close()
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 1 and "schema: an unexpected trigger on_upgrade (added outside TOHtrack)" in err, err


def test_the_schema_check_passes_on_every_version_it_knows(db_path):
    with Store(db_path) as store:
        assert store._check_schema() == []
        assert store.check() == []


def test_a_changed_identity_is_reported(clinic, capsys):
    conn = sqlite3.connect(clinic, isolation_level=None)
    conn.execute("DROP TRIGGER audit_identity_no_update")
    conn.execute("UPDATE audit_identity SET identity = '../../../tmp/evil'")
    conn.close()
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 1 and "the database identity '../../../tmp/evil' is not one TOHtrack writes" in err
    code, out, err = run(capsys, "--db", clinic, "settings", "clinic_name", "X")  # no file written outside
    assert code == 0 and "is not a database identity TOHtrack writes" in err
    assert not list(Path(os.environ["TOHTRACK_WITNESS"]).parent.glob("evil*"))


# -- the seal --------------------------------------------------------------------------------------------


def test_the_seal_is_the_count_and_a_hash_prefix(any_clinic):
    clinic = any_clinic
    identity, count, top = head(clinic)
    with open_store(clinic, readonly=True) as store:
        assert store.audit_seal() == f"{count}·{top[:12]}"
        assert store.verify_seal(store.audit_seal()) == []
        assert store.verify_seal(f"Audit seal {count}.{top[:8].upper()}") == []
    assert parse_seal(" 12-0123456789ab ") == (12, "0123456789ab")
    for bad in ("", "12", "12·0123", "x·0123456789ab", "12·0123456789abz", "\u0661\u0662·0123456789ab",
                "１２·0123456789ab"):
        with pytest.raises(ValueError, match="is not an audit seal"):
            parse_seal(bad)


def test_check_seal_accepts_the_printed_seal_and_rejects_others(any_clinic, capsys):
    clinic = any_clinic
    identity, count, top = head(clinic)
    seal = f"{count - 1}·{head_at(clinic, count - 1)[:12]}"
    with open_store(clinic) as store:
        store.set_setting("clinic_name", "Later")  # later entries do not change an earlier seal
    code, out, err = run(capsys, "--db", clinic, "check", "--seal", seal)
    assert code == 0 and f"seal {seal}: matches" in out, err
    wrong = f"{count - 1}·{'0' * 12}"
    code, out, err = run(capsys, "--db", clinic, "check", "--seal", wrong)
    assert code == 1 and "does not match" in err
    code, out, err = run(capsys, "--db", clinic, "check", "--seal", f"{count + 50}·{top[:12]}")
    assert code == 1 and "fewer than the" in err
    code, out, err = run(capsys, "--db", clinic, "check", "--seal", "yesterday")
    assert code == 2 and "is not an audit seal" in err


def test_a_recomputed_chain_fails_the_printed_seal_even_on_a_new_workstation(clinic, capsys, tmp_path,
                                                                             monkeypatch):
    identity, count, top = head(clinic)
    seal = f"{count}·{top[:12]}"
    behind_the_apps_back(clinic, "UPDATE patients SET notes = 'forged' WHERE id = 2",
                         "UPDATE audit SET new = json_set(new, '$.notes', 'forged') "
                         "WHERE table_name = 'patients' AND row_id = 2 AND action = 'create'")
    recompute_chain(clinic)
    monkeypatch.setenv("TOHTRACK_WITNESS", str(tmp_path / "new-workstation"))
    code, out, err = run(capsys, "--db", clinic, "check", "--seal", seal)
    assert code == 1 and "does not match" in err


def head_at(path: Path, count: int) -> str:
    with open_store(path, readonly=True) as store:
        return store.hash_at(count)


def test_backup_prints_the_seal(any_clinic, tmp_path, capsys, backend):
    clinic = any_clinic
    identity, count, top = head(clinic)
    code, out, err = run(capsys, "--db", clinic, "backup", "-o", tmp_path / "b.sqlite3")
    assert code == 0 and f"(audit seal {count}·{top[:12]})" in out
    if backend == "sqlite":  # the backup carries this workstation's anchor (a server's is its owner's)
        assert json.loads((Path(os.environ["TOHTRACK_WITNESS"]) / f"{identity}.json").read_text())["count"] == count
    code, out, err = run(capsys, "--db", tmp_path / "b.sqlite3", "check")
    assert code == 0 and "(6 patients)" in out, err


def test_check_accept_audits_the_acceptance_and_anchors_it(any_clinic, capsys, backend):
    """check --accept on either backend: the database's own checks pass, the acceptance is an audit entry (on a
    server appended by the server's chain function, as its owner), and this workstation's witness takes it."""
    identity, count, top = head(any_clinic)
    code, out, err = run(capsys, "--db", any_clinic, "--clinician", "Dr Admin", "check", "--accept")
    assert code == 0, err
    assert f"as it is, with {count} audit entries" in out
    # A SQLite file's commits move this workstation's witness; a server's are not this workstation's to anchor.
    assert ("had not seen this database before" in out) == (backend == "postgresql")
    with open_store(any_clinic, readonly=True) as store:
        last = list(store.audit_entries())[-1]
        who = "Dr Admin" if backend == "sqlite" else "Dr Test"  # a server's name for the login, never a claim
        assert (last.action, last.table_name, last.clinician) == ("accept", "database", who)
        assert (last.old is None) == (backend == "postgresql")
        assert last.new["count"] == count and last.new["head"] == top
        assert store.check() == []
    assert witness.read(identity).count == count + 1
    code, out, err = run(capsys, "--db", any_clinic, "check")
    assert code == 0 and "the trail matches what this workstation last saw" in out, err


def test_a_restore_killed_before_moving_the_witness_is_not_a_rollback(clinic, tmp_path, capsys):
    with Store(clinic, readonly=True) as store:
        store.backup(tmp_path / "b.sqlite3")
    with Store(clinic) as store:
        store.set_setting("clinic_name", "After the backup")
    identity, count, top = head(tmp_path / "b.sqlite3")
    # what restore does before copying the backup in, then the copy, then a kill (the witness never moved)
    witness.expect(identity, count, top, clinic)
    put_back(tmp_path / "b.sqlite3", clinic)
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 0 and "the trail is the backup restored here" in out, err
    assert witness.read(identity).count == count and witness.read(identity).pending is None
    # without that, the same file put back is a rollback
    with Store(clinic) as store:
        store.set_setting("clinic_name", "Later again")
    put_back(tmp_path / "b.sqlite3", clinic)
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 1 and "1 entry behind" in err


def test_copies_of_an_older_file_upgraded_apart_are_one_database(db_path, tmp_path, vignettes_path):
    old = Migrations("tohtrack")
    for fn in (mig.m001_initial, mig.m002_registry_indexes, mig.m003_assessment_summary):
        old()(fn)
    with Store(db_path, migration_set=old) as store:
        interchange.import_file(store, vignettes_path)
    shutil.copyfile(db_path, tmp_path / "copy.sqlite3")
    with Store(db_path) as a, Store(tmp_path / "copy.sqlite3") as b:
        assert a.identity() == b.identity() and witness.valid_identity(a.identity())
        assert a.identity() == a.hash_at(1)[:32]


def test_hostile_values_in_the_file_are_reported_not_crashed_on(clinic, capsys):
    conn = sqlite3.connect(clinic, isolation_level=None)
    conn.execute("DROP TRIGGER audit_identity_no_update")
    conn.execute("UPDATE audit_identity SET identity = 12345")
    conn.execute("INSERT INTO audit_anchor VALUES ('x', 'many', 7, X'00', 3)")
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET hash = 42 WHERE id = (SELECT max(id) FROM audit)")
    conn.close()
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 1 and "the database identity '12345' is not one TOHtrack writes" in err
    assert "belongs to another database" in err
    with Store(clinic, readonly=True) as store:
        assert store.audit_seal().endswith("·42")
