"""Tampering, damage and hostile files, through the command line (the README's "The command line").

Each case runs tohtrack in a child process — most in a forked child that runs the command line as
`python -m tohtrack` would (quick), some in a real `python -m tohtrack` — and checks the exit code, that the
message names what was found, that no traceback is printed, and that the file is left as it was.

Already covered elsewhere (not repeated here): tests/test_db.py checks the Store's answers to most of these
(tampered rows and trail, foreign and non-SQLite files, a newer schema, SQLite's read-only open, a full disk
in-process); tests/test_cli.py runs `check` on a tampered symptom row, a text file and a folder, and export on
a newer database, in-process.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import random
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import reliability_driver as drv
from conftest import minimal_document
from tohtrack import interchange
from tohtrack.__main__ import main
from tohtrack.db import Store

ROOT = Path(__file__).resolve().parents[2]
VIGNETTES = ROOT / "tests" / "data" / "vignettes.json"


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """The six vignettes imported, then a setting changed (the last write of the audit trail)."""
    path = tmp_path_factory.mktemp("base") / "base.sqlite3"
    with Store(path, clinician="Dr Base") as store:
        interchange.import_file(store, VIGNETTES)
        store.set_setting("clinic_name", "Base Clinic")
    return path


@pytest.fixture
def clinic(base, tmp_path) -> Path:
    path = tmp_path / "clinic.sqlite3"
    shutil.copyfile(base, path)
    return path


def run(*args, real: bool = False, options: list | None = None) -> tuple[int, str, str]:
    """tohtrack ARGS in a child process: (exit code, stdout, stderr); never a traceback.

    real: a fresh `python -m tohtrack`; else a forked child running the same command line (the driver's cli
    mode, which takes `options` such as --max-pages first).
    """
    if real:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        done = subprocess.run([sys.executable, "-m", "tohtrack", *map(str, args)], capture_output=True, text=True,
                              timeout=120, env=env)
        code, out, err = done.returncode, done.stdout, done.stderr
    else:
        child = drv.Child(drv.main, ["cli", *(options or []), *args])
        assert child.readline().strip() == "ready", child.stderr()
        code = child.wait(120)
        out, err = child.rest(), child.stderr()
        child.close()
    assert "Traceback" not in out + err, err
    return code, out, err


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def sql(path: Path, *statements: str) -> None:
    """Change the file behind TOHtrack's back (foreign keys off, as any SQLite tool has them by default)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for statement in statements:
            conn.execute(statement)
    finally:
        conn.close()


def counts(path: Path) -> dict[str, int]:
    with Store(path, readonly=True) as store:
        return {"patients": store.count_patients(), "audit": drv.audit_count(store)}


# ---------------------------------------------------------------------------
# Tampering: `tohtrack check` finds it, names it, exits 1, changes nothing
# ---------------------------------------------------------------------------

DROP_TRIGGERS = ("DROP TRIGGER audit_no_update", "DROP TRIGGER audit_no_delete")

TAMPERING = {
    # the audit trail itself, its append-only triggers dropped first
    "audit entry's values changed": (
        DROP_TRIGGERS + ("UPDATE audit SET new = json_set(new, '$.family_name', 'Rossi') WHERE id = 1",),
        ["audit: entry 1 was changed", "trigger audit_no_update"]),
    "audit entry removed from the middle": (
        DROP_TRIGGERS + ("DELETE FROM audit WHERE id = 7",), ["audit: entries 7–7 are missing"]),
    "last audit entry removed": (
        DROP_TRIGGERS + ("DELETE FROM audit WHERE id = (SELECT max(id) FROM audit)",),
        ["settings row 1: not in the audit trail"]),
    "who made an entry changed": (
        DROP_TRIGGERS + ("UPDATE audit SET os_user = 'someone', clinician = 'Dr Nobody' WHERE id = 3",),
        ["audit: entry 3 was changed"]),
    "when an entry was made changed": (
        DROP_TRIGGERS + ("UPDATE audit SET at = '2020-01-01T00:00:00.000000Z' WHERE id = 12",),
        ["audit: entry 12 was changed"]),
    "an entry's hash replaced": (
        DROP_TRIGGERS + ("UPDATE audit SET hash = '" + "ab" * 32 + "' WHERE id = 5",),
        ["audit: entry 5 was changed"]),
    "a forged entry appended": (
        ("INSERT INTO audit (at, os_user, clinician, table_name, row_id, patient_id, action, old, new, hash) "
         "VALUES ('2026-01-01T00:00:00.000000Z', 'x', '', 'patients', 1, 1, 'update', '{\"notes\":\"\"}', "
         "'{\"notes\":\"forged\"}', '" + "00" * 32 + "')",),
        ["was changed or an entry before it was removed", "patients row 1: notes differ"]),
    "only the triggers dropped": (DROP_TRIGGERS, ["the trigger audit_no_update", "the trigger audit_no_delete"]),
    "a row and its audit entry forged to match": (
        DROP_TRIGGERS + ("UPDATE patients SET notes = 'forged' WHERE id = 2",
                         "UPDATE audit SET new = json_set(new, '$.notes', 'forged') "
                         "WHERE table_name = 'patients' AND row_id = 2"),
        ["hash chain broken"]),
    # records edited behind the app, the trail left alone
    "patient's name edited": (
        ("UPDATE patients SET family_name = 'Changed' WHERE mrn = 'EX-01'",),
        ["patients row 1: family_name differ from the audit trail", "search keys do not match the name"]),
    "patient's MRN edited": (("UPDATE patients SET mrn = 'EX-99' WHERE mrn = 'EX-03'",), ["mrn differ"]),
    "imaging value edited": (
        ("UPDATE imaging SET edema_extent_pct = 5 WHERE id = 2",),
        ["imaging row 2: edema_extent_pct differ from the audit trail (changed outside TOHtrack)"]),
    "symptom record deleted": (("DELETE FROM symptoms WHERE id = 4",), ["symptoms row 4: removed outside TOHtrack"]),
    "treatment inserted": (
        ("INSERT INTO treatments (episode_id, start, kind) VALUES (1, '2025-05-01', 'iloprost')",),
        ["not in the audit trail (written outside TOHtrack)"]),
    "episode deleted, its findings left": (
        ("DELETE FROM episodes WHERE id = 1",),
        ["foreign key: imaging row", "episodes row 1: removed outside TOHtrack"]),
    "version edited": (("UPDATE episodes SET version = 4 WHERE id = 3",),
                       ["episodes row 3: version 4 but the audit trail records 1 writes"]),
    "setting edited": (("UPDATE settings SET value = 'Other Clinic' WHERE key = 'clinic_name'",),
                       ["settings row 1: value differ from the audit trail"]),
}
REAL_PROCESS = {"audit entry removed from the middle", "patient's name edited"}


def test_an_untouched_copy_passes_check(clinic):
    code, out, err = run("--db", clinic, "check", real=True)
    assert code == 0 and out.startswith("ok:"), err


@pytest.mark.parametrize("case", list(TAMPERING))
def test_tampering_is_found_and_named(clinic, case):
    statements, expected = TAMPERING[case]
    sql(clinic, *statements)
    before = digest(clinic)
    code, out, err = run("--db", clinic, "check", real=case in REAL_PROCESS)
    assert code == 1, (case, out, err)
    for phrase in expected:
        assert phrase in err, (case, phrase, err)
    assert "check failed:" in err and str(clinic) in err
    assert digest(clinic) == before  # check only reads


# ---------------------------------------------------------------------------
# Damaged and hostile files given as --db
# ---------------------------------------------------------------------------


def page_of(path: Path, table: str) -> int:
    """A page in the middle of a table's b-tree (by the rowid in the middle of it)."""
    conn = sqlite3.connect(path)
    try:
        pages = sorted(r[0] for r in conn.execute("SELECT pageno FROM dbstat WHERE name = ?", (table,)))
    except sqlite3.OperationalError:  # SQLite built without dbstat: the table's root page
        pages = [r[0] for r in conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,))]
    finally:
        conn.close()
    return pages[len(pages) // 2]


def garble(path: Path, page: int) -> None:
    """Overwrite one whole page with noise (a bad sector, a bad copy); the same noise every run."""
    conn = sqlite3.connect(path)
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(path, "r+b") as f:
        f.seek((page - 1) * size)
        f.write(random.Random(f"{path.name}:{page}").randbytes(size))


def make_hostile(kind: str, tmp_path: Path, base: Path) -> Path:
    path = tmp_path / f"{kind}.sqlite3"
    if kind == "text":
        path.write_text("Dear colleague,\nplease find the list attached.\n" * 80, encoding="utf-8")
    elif kind == "foreign":
        sql(path, "CREATE TABLE orders (id INTEGER PRIMARY KEY, item TEXT)", "INSERT INTO orders VALUES (1, 'x')")
    elif kind == "newer":
        shutil.copyfile(base, path)
        sql(path, "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                  "VALUES ('tohtrack', 'm900_from_the_future', '2030-01-01')")
    elif kind == "truncated":
        data = base.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "garbage-page":
        shutil.copyfile(base, path)
        garble(path, page_of(path, "patients"))
    elif kind == "garbage-audit-page":
        shutil.copyfile(base, path)
        garble(path, page_of(path, "audit"))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "folder":
        path.mkdir()
    return path


NOT_OURS = "not a TOHtrack database, or the file is damaged"
DAMAGED = "the database file is damaged"
# kind: [(command, exit code, phrase in the message)]; every command leaves the file's bytes as they were.
HOSTILE = {
    "text": [(["check"], 1, NOT_OURS), (["export", "-o", "-"], 1, NOT_OURS), (["import", VIGNETTES], 1, NOT_OURS),
             (["settings", "clinic_name", "X"], 1, NOT_OURS), (["backup", "-o", "{tmp}/b.sqlite3"], 1, NOT_OURS)],
    "foreign": [(["check"], 1, "an SQLite database, but not a TOHtrack one"),
                (["import", VIGNETTES], 1, "not a TOHtrack one"), (["demo", "--patients", "3"], 1, "not a TOHtrack one")],
    "newer": [(["check"], 1, "written by a newer TOHtrack (schema m900_from_the_future); update TOHtrack"),
              (["flags", "--json"], 1, "newer TOHtrack"), (["import", VIGNETTES], 1, "newer TOHtrack"),
              (["settings", "clinic_name", "X"], 1, "newer TOHtrack")],
    "truncated": [(["check"], 1, NOT_OURS), (["export", "-o", "-"], 1, NOT_OURS), (["import", VIGNETTES], 1, NOT_OURS),
                  (["worklist"], 1, NOT_OURS)],
    "garbage-page": [(["check"], 1, "integrity:"), (["export", "-o", "-"], 1, DAMAGED),
                     (["flags", "--json"], 1, DAMAGED), (["backup", "-o", "{tmp}/b.sqlite3"], 1, DAMAGED)],
    "garbage-audit-page": [(["check"], 1, "integrity:"), (["audit"], 1, DAMAGED)],
    "empty": [(["check"], 1, "not a TOHtrack database (the file is empty)"),
              (["export", "-o", "-"], 1, "the file is empty")],
    "folder": [(["check"], 1, "is a folder, not a database file"), (["import", VIGNETTES], 1, "is a folder"),
               (["settings", "clinic_name", "X"], 1, "is a folder")],
}
REAL_RUNS = {("text", "check"), ("truncated", "export"), ("newer", "import"), ("folder", "import")}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_file_as_db_is_refused_unchanged(kind, tmp_path, base, capsys):
    path = make_hostile(kind, tmp_path, base)
    before = digest(path)
    for command, expected_code, phrase in HOSTILE[kind]:
        command = [str(c).replace("{tmp}", str(tmp_path)) for c in command]
        code, out, err = run("--db", path, *command, real=(kind, command[0]) in REAL_RUNS)
        assert code == expected_code, (kind, command, out, err)
        assert phrase in err and str(path) in err, (kind, command, err)
        assert digest(path) == before, (kind, command, "the file was changed")
        if command[0] == "export":
            assert out == ""  # no half document
    assert not (tmp_path / "b.sqlite3").exists()
    if kind == "folder":
        assert list(path.iterdir()) == []


def test_an_empty_file_is_an_empty_database_for_writing(tmp_path):
    """SQLite's view, which TOHtrack keeps: a zero-length file is a database with nothing in it yet."""
    path = tmp_path / "empty.sqlite3"
    path.write_bytes(b"")
    code, out, err = run("--db", path, "import", VIGNETTES)
    assert code == 0, err
    assert run("--db", path, "check")[0] == 0 and counts(path)["patients"] == 6


@pytest.mark.parametrize("kind", ["text", "foreign", "newer", "truncated", "garbage-page", "empty", "folder"])
def test_hostile_file_offered_as_a_backup_is_refused(kind, clinic, tmp_path, base):
    backup = make_hostile(kind, tmp_path, base)
    before, backup_before = digest(clinic), digest(backup)
    code, out, err = run("--db", clinic, "restore", backup)
    assert code == 2, (kind, out, err)
    assert str(backup) in err and "nothing was written" in err
    assert digest(clinic) == before and digest(backup) == backup_before
    assert not (clinic.parent / "clinic-backups").exists()  # no "replaced" copy: nothing was replaced


def test_restore_takes_the_backup_it_checked_whatever_its_name(clinic, tmp_path):
    """'#', '?' and '%' in a file name are URI syntax to SQLite: left raw, they open (and create) another file."""
    backup = tmp_path / "before #2 ?x %41.sqlite3"
    assert run("--db", clinic, "backup", "-o", backup)[0] == 0
    assert run("--db", clinic, "settings", "clinic_name", "After the backup")[0] == 0
    code, out, err = run("--db", clinic, "restore", backup)
    assert code == 0, err
    with Store(clinic, readonly=True) as store:
        assert store.count_patients() == 6 and store.check() == []
        assert store.setting_texts()["clinic_name"] == "Base Clinic"
    assert not (tmp_path / "before ").exists()


def test_outputs_that_are_not_files_are_refused(clinic, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    for target in (fifo, folder):
        for command in (["export", "-o", target], ["backup", "-o", target]):
            code, out, err = run("--db", clinic, *command)
            assert code == 2 and "is a folder or a device, not a file" in err, (command, err)
    assert stat.S_ISFIFO(fifo.stat().st_mode) and list(folder.iterdir()) == []


# ---------------------------------------------------------------------------
# A full disk
# ---------------------------------------------------------------------------


def big_document(n: int = 40) -> dict:
    doc = minimal_document()
    doc["patients"] = [dict(doc["patients"][0], mrn=f"BIG-{i}", notes="x" * 15_000) for i in range(n)]
    return doc


def test_full_disk_is_a_clear_message_and_writes_nothing(clinic, tmp_path):
    big = tmp_path / "big.json"
    big.write_text(json.dumps(big_document()), encoding="utf-8")
    before = counts(clinic)
    code, out, err = run("--db", clinic, "import", big, options=["--max-pages", 5])
    assert code == 1 and "the disk is full; nothing was written" in err and str(clinic) in err, err
    code, out, err = run("--db", clinic, "demo", "--patients", "500", options=["--max-pages", 5])
    assert code == 1 and "the disk is full; nothing was written" in err, err
    assert counts(clinic) == before
    assert run("--db", clinic, "check")[0] == 0


def test_file_size_quota_is_a_clear_message_and_writes_nothing(clinic, tmp_path):
    big = tmp_path / "big.json"
    big.write_text(json.dumps(big_document()), encoding="utf-8")
    before = counts(clinic)
    limit = ["--file-size-limit", clinic.stat().st_size + 50_000]  # the -wal file may grow 50 kB, no more
    code, out, err = run("--db", clinic, "import", big, options=limit)
    assert code == 1 and "could not be read or written" in err and "nothing was written" in err, err
    assert str(clinic) in err
    assert counts(clinic) == before
    assert run("--db", clinic, "check")[0] == 0


# ---------------------------------------------------------------------------
# Read-only: a user who may read the database but not write it
# ---------------------------------------------------------------------------


def _warm_up(path: Path) -> None:
    """Import what the commands import lazily, so that a child without access to Python's files can run them."""
    import importlib.metadata  # noqa: F401  (loaded lazily by a dependency)
    import encodings.utf_8_sig  # noqa: F401

    for argv in (["check"], ["export", "-o", "-"], ["flags", "--json"], ["worklist"], ["audit"],
                 ["settings", "clinic_name", "Warm"], ["import", VIGNETTES]):
        with open(os.devnull, "w") as sink:
            saved = sys.stdout, sys.stderr
            sys.stdout = sys.stderr = sink
            try:
                main(["--db", str(path), *map(str, argv)])
            finally:
                sys.stdout, sys.stderr = saved


def as_other_user(argv: list) -> tuple[int, str, str]:
    """The command line in a forked child that is not root (nobody, when the tests run as root)."""
    def demoted(args: list[str]) -> int:
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
        return main(args)

    child = drv.Child(demoted, argv)
    code = child.wait(120)
    out, err = child.rest(), child.stderr()
    child.close()
    assert "Traceback" not in out + err, err
    return code, out, err


@pytest.fixture
def shared_folder(tmp_path, base):
    """A folder outside the tests' private ones, readable by all, with a copy of the database readable by all."""
    folder = Path(tempfile.mkdtemp(prefix="tohtrack-ro-"))
    try:
        folder.chmod(0o755)
        db = folder / "clinic.sqlite3"
        shutil.copyfile(base, db)
        new = folder / "new.json"
        new.write_text(json.dumps(minimal_document()), encoding="utf-8")
        new.chmod(0o644)
        _warm_up(tmp_path / "warm.sqlite3")
        db.chmod(0o644)
        yield folder, db
    finally:
        shutil.rmtree(folder, ignore_errors=True)


WRITES = [["settings", "clinic_name", "X"], ["import", "{folder}/new.json"], ["demo", "--patients", "2"]]
READS = [["check"], ["export", "-o", "-"], ["flags", "--json"], ["worklist"], ["audit"]]


def test_read_only_database_in_a_read_only_folder(shared_folder):
    folder, db = shared_folder
    before = digest(db)
    if os.geteuid() != 0:
        db.chmod(0o444)
        folder.chmod(0o555)
    try:
        for command in READS + WRITES + [["restore", db]]:
            command = [str(c).replace("{folder}", str(folder)) for c in command]
            code, out, err = as_other_user(["--db", db, *command])
            assert code != 0 and str(db) in err, (command, err)
            assert "may not create files in its folder" in err or "read-only" in err, (command, err)
            assert digest(db) == before
        assert sorted(p.name for p in folder.iterdir()) == ["clinic.sqlite3", "new.json"]
    finally:
        folder.chmod(0o755)


def test_read_only_database_in_a_shared_folder(shared_folder):
    folder, db = shared_folder
    folder.chmod(0o1777)  # anyone may create files here (SQLite's -wal and -shm), but not change the database
    if os.geteuid() != 0:
        db.chmod(0o444)
    before = digest(db)
    for command in READS:
        code, out, err = as_other_user(["--db", db, *command])
        assert code == 0, (command, err)
    for command in WRITES + [["restore", db]]:
        command = [str(c).replace("{folder}", str(folder)) for c in command]
        code, out, err = as_other_user(["--db", db, *command])
        assert code == 1, (command, err)
        assert f"{db}: the database is read-only here; nothing was written" in err, (command, err)
        assert digest(db) == before
    with Store(db, readonly=True) as store:
        assert store.setting_texts()["clinic_name"] == "Base Clinic" and store.check() == []
