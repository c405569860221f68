"""The audit trail's anchor outside the file (tohtrack.witness), attacked as someone holding the file would.

Real `python -m tohtrack` processes over a demo cohort: files rolled back to older copies, tails of transactions
removed with their audit entries, chains recomputed after an edit, append-only triggers replaced by same-named
ones that do nothing — each found by `check` (exit 1, in plain words), and each accepted only by
`check --accept`. The witness's own files are tried as a second, unprivileged user. The slow cases
(`-m slow`) repeat each attack many times on a bigger cohort, at random points.
"""

from __future__ import annotations

import os
import pwd
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import reliability_driver as drv
from tohtrack import witness
from tohtrack.__main__ import main
from tohtrack.db import GENESIS_HASH, Store, _entry_hash

ROOT = Path(__file__).resolve().parents[2]
OTHER_USER = "tohtrack-other"


def tohtrack(*args, env: dict | None = None) -> tuple[int, str, str]:
    environment = dict(os.environ, **(env or {}))
    environment["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-m", "tohtrack", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=environment)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr


def without_wal(path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def head(path: Path) -> tuple[int, str]:
    with Store(path, readonly=True) as store:
        return store.audit_head()


def sql_with_triggers_put_back(path: Path, *statements, params=()) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        triggers = [r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                                               "AND tbl_name = 'audit'")]
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("DROP TRIGGER audit_no_delete")
        for statement in statements:
            conn.execute(statement, params)
        for sql in triggers:
            conn.execute(sql)
    finally:
        conn.close()


def truncate(path: Path, entries: int) -> None:
    """Remove the last `entries` audit entries and what they wrote (created rows, updated values put back)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        triggers = [r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                                               "AND tbl_name = 'audit'")]
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("DROP TRIGGER audit_no_delete")
        last = conn.execute("SELECT max(id) FROM audit").fetchone()[0]
        import json

        for table, row_id, action, old in conn.execute(
                "SELECT table_name, row_id, action, old FROM audit WHERE id > ? ORDER BY id DESC",
                (last - entries,)).fetchall():
            if action == "create":
                conn.execute(f"DELETE FROM {table} WHERE id = ?", (row_id,))
            elif action == "update":
                values = json.loads(old)
                sets = ", ".join(f'"{c}" = ?' for c in values)
                conn.execute(f"UPDATE {table} SET {sets}, version = version - 1 WHERE id = ?",
                             (*values.values(), row_id))
        conn.execute("DELETE FROM audit WHERE id > ?", (last - entries,))
        for sql in triggers:
            conn.execute(sql)
    finally:
        conn.close()


def recompute(path: Path, patient_id: int, notes: str) -> None:
    """Change a patient's notes, and its audit entry to match, then rehash the chain from the start."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        triggers = [r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' "
                                               "AND tbl_name = 'audit'")]
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("DROP TRIGGER audit_no_delete")
        conn.execute("UPDATE patients SET notes = ? WHERE id = ?", (notes, patient_id))
        conn.execute("UPDATE audit SET new = json_set(new, '$.notes', ?) WHERE table_name = 'patients' "
                     "AND row_id = ? AND action = 'create'", (notes, patient_id))
        prev = GENESIS_HASH
        for row in conn.execute("SELECT id, at, os_user, clinician, table_name, row_id, patient_id, action, old, "
                                "new FROM audit ORDER BY id").fetchall():
            prev = _entry_hash(prev, row)
            conn.execute("UPDATE audit SET hash = ? WHERE id = ?", (prev, row[0]))
        for sql in triggers:
            conn.execute(sql)
    finally:
        conn.close()


DO_NOTHING = [
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT 1; END",
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit WHEN 0 BEGIN "
    "SELECT RAISE(ABORT, 'the audit trail is append-only: entries cannot be changed'); END",
    "CREATE TRIGGER audit_no_update BEFORE UPDATE OF old ON audit BEGIN "
    "SELECT RAISE(ABORT, 'the audit trail is append-only: entries cannot be changed'); END",
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN "
    "SELECT RAISE(IGNORE); END",
    "CREATE TRIGGER audit_no_update AFTER UPDATE ON audit BEGIN SELECT 'the audit trail is append-only'; END",
]


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("anchor") / "cohort.sqlite3"
    code, _, err = tohtrack("--db", path, "demo", "--patients", "300", "--seed", "3")
    assert code == 0, err
    return path


@pytest.fixture(scope="module")
def big_cohort(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("anchor-big") / "cohort.sqlite3"
    code, _, err = tohtrack("--db", path, "demo", "--patients", "3000", "--seed", "4")
    assert code == 0, err
    return path


@pytest.fixture
def clinic(cohort, tmp_path) -> Path:
    """A copy of the cohort, first seen (and anchored) by this test's witness."""
    path = tmp_path / "clinic.sqlite3"
    shutil.copyfile(cohort, path)
    code, out, err = tohtrack("--db", path, "check")
    assert code == 0 and "has not seen this database before" in out, err
    return path


def writes(path: Path, n: int, rng: random.Random) -> None:
    for i in range(n):
        key, value = rng.choice([("clinic_name", f"Clinic {rng.randrange(10**6)}"), ("paper_size", "Letter"),
                                 ("paper_size", "A4"), ("backup_keep", str(rng.randrange(1, 30)))])
        code, _, err = tohtrack("--db", path, "settings", key, value)
        assert code == 0, err


# ---------------------------------------------------------------------------
# One of each, in the default run
# ---------------------------------------------------------------------------


def test_rollback_truncation_recomputation_and_triggers_each_fail_check(clinic, tmp_path):
    rng = random.Random(1)
    # rolled back to an older copy
    shutil.copyfile(clinic, tmp_path / "older.sqlite3")
    writes(clinic, 3, rng)
    saved = tmp_path / "newest.sqlite3"
    shutil.copyfile(clinic, saved)
    without_wal(clinic)
    shutil.copyfile(tmp_path / "older.sqlite3", clinic)
    code, out, err = tohtrack("--db", clinic, "check")
    assert code == 1 and "entries behind what this workstation last saw on" in err, err
    # a truncated tail
    shutil.copyfile(saved, clinic)
    truncate(clinic, 2)
    with Store(clinic, readonly=True) as store:
        assert store.check() == []
    code, out, err = tohtrack("--db", clinic, "check")
    assert code == 1 and "2 entries behind" in err, err
    # a recomputed chain
    shutil.copyfile(saved, clinic)
    recompute(clinic, 5, "forged")
    with Store(clinic, readonly=True) as store:
        assert store.check() == []
    code, out, err = tohtrack("--db", clinic, "check")
    assert code == 1 and "the audit trail was rewritten" in err, err
    # a do-nothing trigger of the right name
    shutil.copyfile(saved, clinic)
    sql_with_triggers_put_back(clinic)  # untouched: still fine
    assert tohtrack("--db", clinic, "check")[0] == 0
    conn = sqlite3.connect(clinic, isolation_level=None)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute(DO_NOTHING[0])
    conn.close()
    code, out, err = tohtrack("--db", clinic, "check")
    assert code == 1 and "schema: the trigger audit_no_update that keeps the audit trail append-only" in err


# ---------------------------------------------------------------------------
# The witness's files as a second, unprivileged user
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def other_user() -> pwd.struct_passwd:
    if os.geteuid() != 0:
        pytest.skip("needs root: the witness's permissions are tried as a second user made with useradd")
    if shutil.which("runuser") is None or shutil.which("useradd") is None:
        pytest.skip("needs runuser and useradd to act as a second user")
    try:
        return pwd.getpwnam(OTHER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OTHER_USER],
                       check=True, capture_output=True)
        return pwd.getpwnam(OTHER_USER)


def as_other(user: pwd.struct_passwd, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(["runuser", "-u", user.pw_name, "--", *command], capture_output=True, text=True,
                          timeout=60)


def as_other_tohtrack(user: pwd.struct_passwd, argv: list[str], umask: int = 0o022) -> tuple[int, str, str]:
    """The command line in a forked child running as the other user (the interpreter lives in a folder that user
    may not enter, so no new process can start it)."""

    def demoted(args: list[str]) -> int:
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
        os.umask(umask)
        return main(args)

    child = drv.Child(demoted, [str(a) for a in argv])
    code = child.wait(120)
    out, err = child.rest(), child.stderr()
    child.close()
    assert "Traceback" not in out + err, err
    return code, out, err


@pytest.fixture
def open_folder():
    """A folder anyone may enter (unlike the tests' own), so that only the witness's own modes protect it."""
    folder = Path(tempfile.mkdtemp(prefix="tohtrack-anchor-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_another_user_can_neither_read_nor_change_the_witness(other_user, open_folder, cohort, monkeypatch):
    folder = open_folder / "witness"
    monkeypatch.setenv("TOHTRACK_WITNESS", str(folder))
    shared = open_folder / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # the other user may make SQLite's -shm beside the database, and read it
    db = shared / "clinic.sqlite3"
    shutil.copyfile(cohort, db)
    old_umask = os.umask(0)  # modes come from the code, not from a careful umask
    try:
        code, _, err = tohtrack("--db", db, "settings", "clinic_name", "Mine")
    finally:
        os.umask(old_umask)
    assert code == 0, err
    with Store(db, readonly=True) as store:
        identity = store.identity()
    files = sorted(p.name for p in folder.iterdir())
    assert f"{identity}.json" in files and "witness.lock" in files
    assert (folder.stat().st_mode & 0o777) == 0o700
    assert all((folder / f).stat().st_mode & 0o777 == 0o600 for f in files)
    before = {f: (folder / f).read_bytes() for f in files}
    db.chmod(0o644)
    # the other user: cannot list, read, add, replace or plant a link in the witness
    assert as_other(other_user, "ls", str(folder)).returncode != 0
    done = as_other(other_user, "cat", str(folder / f"{identity}.json"))
    assert done.returncode != 0 and "Permission denied" in done.stderr
    assert as_other(other_user, "sh", "-c", f"echo forged > '{folder}/{identity}.json'").returncode != 0
    assert as_other(other_user, "ln", "-s", "/etc/passwd", str(folder / "planted.json")).returncode != 0
    assert as_other(other_user, "mv", str(folder / f"{identity}.json"), str(open_folder / "x")).returncode != 0
    # and tohtrack run as that user with the witness pointed at it: says it cannot read it, changes nothing
    code, out, err = as_other_tohtrack(other_user, ["--db", str(db), "check"])
    assert code == 0 and "cannot be" in out and "checked within the file only" in out, (out, err)
    assert {f: (folder / f).read_bytes() for f in files} == before


def test_the_other_users_own_witness_is_private_whatever_their_umask(other_user, open_folder, cohort,
                                                                     monkeypatch):
    shared = open_folder / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    db = shared / "theirs.sqlite3"
    shutil.copyfile(cohort, db)
    os.chown(db, other_user.pw_uid, other_user.pw_gid)
    folder = shared / "their-witness"
    monkeypatch.setenv("TOHTRACK_WITNESS", str(folder))
    code, out, err = as_other_tohtrack(other_user, ["--db", str(db), "settings", "clinic_name", "Theirs"], umask=0)
    assert code == 0, err
    assert folder.stat().st_uid == other_user.pw_uid and folder.stat().st_mode & 0o777 == 0o700
    for file in folder.iterdir():
        assert file.stat().st_uid == other_user.pw_uid and file.stat().st_mode & 0o777 == 0o600, file


# ---------------------------------------------------------------------------
# Slow: many attacks at random points on a bigger cohort
# ---------------------------------------------------------------------------


@pytest.fixture
def big_clinic(big_cohort, tmp_path) -> Path:
    path = tmp_path / "clinic.sqlite3"
    shutil.copyfile(big_cohort, path)
    assert tohtrack("--db", path, "check")[0] == 0
    return path


@pytest.mark.slow
def test_rollbacks_to_any_older_copy_are_found_and_accepting_one_reanchors(big_clinic, tmp_path):
    rng = random.Random(11)
    copies = []
    for round_ in range(8):
        shutil.copyfile(big_clinic, tmp_path / f"copy-{round_}.sqlite3")
        copies.append((tmp_path / f"copy-{round_}.sqlite3", head(big_clinic)[0]))
        writes(big_clinic, rng.randrange(1, 4), rng)
    newest = head(big_clinic)[0]
    for copy, count in rng.sample(copies, len(copies)):
        without_wal(big_clinic)
        shutil.copyfile(copy, big_clinic)
        code, out, err = tohtrack("--db", big_clinic, "check")
        behind = newest - count
        assert code == 1 and f"this database is {witness.entries(behind)} behind" in err, err
    code, out, err = tohtrack("--db", big_clinic, "check", "--accept")
    assert code == 0 and "behind what this workstation last saw" in out, err
    assert tohtrack("--db", big_clinic, "check")[0] == 0


@pytest.mark.slow
def test_truncated_tails_of_any_length_are_found(big_clinic, tmp_path):
    rng = random.Random(12)
    writes(big_clinic, 6, rng)
    saved = tmp_path / "saved.sqlite3"
    shutil.copyfile(big_clinic, saved)
    for entries in (1, 2, 3, 6):
        without_wal(big_clinic)
        shutil.copyfile(saved, big_clinic)
        truncate(big_clinic, entries)
        with Store(big_clinic, readonly=True) as store:
            assert store.check() == [], entries
        code, out, err = tohtrack("--db", big_clinic, "check")
        assert code == 1 and f"this database is {witness.entries(entries)} behind" in err, err


@pytest.mark.slow
def test_recomputed_chains_are_found_by_the_witness_and_by_printed_seals(big_clinic, tmp_path):
    rng = random.Random(13)
    with Store(big_clinic, readonly=True) as store:
        seal = store.audit_seal()
        patients = store.count_patients()
    saved = tmp_path / "saved.sqlite3"
    shutil.copyfile(big_clinic, saved)
    for _ in range(3):
        without_wal(big_clinic)
        shutil.copyfile(saved, big_clinic)
        recompute(big_clinic, rng.randrange(1, patients + 1), f"forged {rng.randrange(10**6)}")
        with Store(big_clinic, readonly=True) as store:
            assert store.check() == []
        code, out, err = tohtrack("--db", big_clinic, "check")
        assert code == 1 and "the audit trail was rewritten" in err, err
        code, out, err = tohtrack("--db", big_clinic, "check", "--seal", seal,
                                  env={"TOHTRACK_WITNESS": str(tmp_path / "a-workstation-that-never-saw-it")})
        assert code == 1 and "does not match" in err, err


@pytest.mark.slow
@pytest.mark.parametrize("trigger", DO_NOTHING)
def test_every_do_nothing_trigger_of_the_right_name_is_found(big_clinic, trigger):
    conn = sqlite3.connect(big_clinic, isolation_level=None)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute(trigger)
    conn.close()
    code, out, err = tohtrack("--db", big_clinic, "check")
    assert code == 1 and "schema: the trigger audit_no_update that keeps the audit trail append-only is not " \
                         "TOHtrack's definition" in err, err
