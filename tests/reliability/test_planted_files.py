"""Another user on the same machine tries to make TOHtrack write patient data where they choose, or to read it.

The attacker is a real second, unprivileged account (created once per session with useradd when the tests run as
root; skipped otherwise): it plants links and files in a folder both may write to — a shared clinic folder, and
a sticky one like /tmp — and tries to read what TOHtrack wrote. Every command runs as a child process."""

import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parent.parent / "data"
ATTACKER = "tohtrack-attacker"


@pytest.fixture(scope="session")
def attacker():
    """(uid, gid) of an unprivileged second user, created if missing (root only)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("needs root to act as a second user (tests run unprivileged here)")
    try:
        entry = pwd.getpwnam(ATTACKER)
    except KeyError:
        useradd = shutil.which("useradd")
        if useradd is None:
            pytest.skip("useradd is not available to create a second user")
        made = subprocess.run([useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", ATTACKER],
                              capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"could not create a second user: {made.stderr.strip()}")
        entry = pwd.getpwnam(ATTACKER)
    return entry.pw_uid, entry.pw_gid


def as_attacker(attacker, *argv) -> subprocess.CompletedProcess:
    """A command run as the second user (runuser, else setuid in the child; no supplementary groups)."""
    uid, gid = attacker
    runuser = shutil.which("runuser")
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
    if runuser:
        return subprocess.run([runuser, "-u", ATTACKER, "--", *map(str, argv)], capture_output=True, text=True,
                              timeout=60, env=env, cwd="/")
    return subprocess.run(list(map(str, argv)), capture_output=True, text=True, timeout=60, user=uid, group=gid,
                          extra_groups=[], env=env, cwd="/")


def tohtrack(*args, timeout=120) -> subprocess.CompletedProcess:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.run([sys.executable, "-m", "tohtrack", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.fixture
def place(attacker):
    """A folder readable by all holding: the user's database, a file of the user's the attacker would like
    overwritten ('victim'), and two folders the attacker may write to: 'shared' (0777) and 'sticky' (1777)."""
    base = Path(tempfile.mkdtemp(prefix="tohtrack-planted-"))
    try:
        base.chmod(0o755)
        private = base / "private"
        private.mkdir(mode=0o700)
        clinic = private / "clinic.sqlite3"
        result = tohtrack("--db", clinic, "import", DATA / "vignettes.json")
        assert result.returncode == 0, result.stderr
        victim = base / "victim.txt"
        victim.write_text("the user's own notes")
        victim.chmod(0o644)
        shared = base / "shared"
        shared.mkdir()
        shared.chmod(0o777)
        sticky = base / "sticky"
        sticky.mkdir()
        sticky.chmod(0o1777)
        yield {"clinic": clinic, "victim": victim, "shared": shared, "sticky": sticky}
    finally:
        shutil.rmtree(base, ignore_errors=True)


PLANT_LINK = ("ln", "-s")

OUTPUTS = {
    "export": (lambda clinic, out: ["--db", clinic, "export", "-o", out], "out.json"),
    "report": (lambda clinic, out: ["--db", clinic, "report", "EX-01", "-o", out], "out.pdf"),
    "backup": (lambda clinic, out: ["--db", clinic, "backup", "-o", out], "out.sqlite3"),
    "screenshot": (lambda clinic, out: ["--db", clinic, "--screenshot", out, "--patient", "EX-01"], "out.png"),
}


@pytest.mark.parametrize("folder", ["shared", "sticky"])
@pytest.mark.parametrize("command", sorted(OUTPUTS))
def test_a_link_planted_at_the_old_temporary_name_is_never_written_through(attacker, place, command, folder):
    """Before: the export opened .NAME.partial with O_CREAT|O_TRUNC and wrote patient data into the file the
    attacker's link pointed to."""
    argv, name = OUTPUTS[command]
    out = place[folder] / name
    for planted in (f".{name}.partial", f"{name}.partial"):
        made = as_attacker(attacker, *PLANT_LINK, place["victim"], place[folder] / planted)
        assert made.returncode == 0, made.stderr
    result = tohtrack(*argv(place["clinic"], out))
    assert result.returncode == 0, result.stderr
    assert place["victim"].read_text() == "the user's own notes"
    assert out.is_file() and not out.is_symlink() and out.stat().st_uid == os.geteuid()
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert ".partial" not in result.stdout + result.stderr


@pytest.mark.parametrize("folder", ["shared", "sticky"])
@pytest.mark.parametrize("command", sorted(OUTPUTS))
def test_a_link_planted_at_the_output_name_by_another_user_is_refused(attacker, place, command, folder):
    """Before: the report followed the link, and wrote the patient's report over the file it pointed to."""
    argv, name = OUTPUTS[command]
    out = place[folder] / name
    made = as_attacker(attacker, *PLANT_LINK, place["victim"], out)
    assert made.returncode == 0, made.stderr
    result = tohtrack(*argv(place["clinic"], out))
    assert result.returncode == 2, result.stderr
    assert result.stderr == (f"tohtrack: {out}: is a symbolic link owned by another user; give the name of a file "
                             "to write; nothing was written\n")
    assert place["victim"].read_text() == "the user's own notes" and out.is_symlink()


@pytest.mark.parametrize("command", sorted(OUTPUTS))
def test_what_is_written_cannot_be_read_by_the_other_user(attacker, place, command):
    """Exports, reports, backups and screenshots (which show patient data, before: 0644) are the user's only,
    even with a permissive umask."""
    argv, name = OUTPUTS[command]
    out = place["shared"] / name
    previous = os.umask(0o022)
    try:
        result = tohtrack(*argv(place["clinic"], out))
    finally:
        os.umask(previous)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    read = as_attacker(attacker, "cat", out)
    assert read.returncode != 0 and "Permission denied" in read.stderr and read.stdout == ""
    assert sorted(p.name for p in place["shared"].iterdir()) == [name]  # no temporary file left


def test_a_fifo_planted_as_the_file_to_import_is_refused_at_once(attacker, place):
    fifo = place["shared"] / "clinic-2025.json"
    made = as_attacker(attacker, "mkfifo", "-m", "666", fifo)
    assert made.returncode == 0, made.stderr
    result = tohtrack("--db", place["clinic"], "import", fifo, timeout=30)
    assert result.returncode == 2 and "not a regular file" in result.stderr
    result = tohtrack("--db", fifo, "check", timeout=30)
    assert result.returncode == 2 and "not a database file" in result.stderr


def test_an_export_replaces_the_file_at_the_name_not_the_file_a_hard_link_shares(attacker, place):
    """The attacker hard-links a file of the user's into the shared folder under the output's name (possible
    where protected_hardlinks is off): the export replaces the name; the user's file keeps its contents."""
    out = place["shared"] / "out.json"
    made = as_attacker(attacker, "ln", place["victim"], out)
    if made.returncode != 0:
        pytest.skip("hard links to another user's file are refused here (fs.protected_hardlinks)")
    result = tohtrack("--db", place["clinic"], "export", "-o", out)
    assert result.returncode == 0, result.stderr
    assert place["victim"].read_text() == "the user's own notes"
    assert json.loads(out.read_text())["format"] == "tohtrack/1"


def test_a_backups_folder_made_by_another_user_is_never_used(attacker, place):
    """Before: with the database in a sticky folder, another user could make its backups folder first: the
    backups written there were theirs to delete, and a file they named as the newest automatic backup stopped
    the automatic backups, made the rotation delete the real ones and was offered to restore."""
    from tohtrack import db as dbmod

    clinic = place["sticky"] / "clinic.sqlite3"
    assert tohtrack("--db", clinic, "import", DATA / "vignettes.json").returncode == 0
    folder = dbmod.backup_dir(clinic)
    assert as_attacker(attacker, "mkdir", "-m", "0777", folder).returncode == 0
    planted = folder / f"{clinic.stem}-auto-29991231T000000Z.sqlite3"
    assert as_attacker(attacker, "touch", planted).returncode == 0
    before = clinic.read_bytes()
    for argv in (["backup", "-o", folder / "mine.sqlite3"], ["restore", place["shared"] / "b.sqlite3"]):
        if argv[0] == "restore":
            assert tohtrack("--db", clinic, "backup", "-o", argv[1]).returncode == 0
        result = tohtrack("--db", clinic, *argv)
        assert result.returncode == 2, result.stderr
        assert f"the backups folder {folder} belongs to another user" in result.stderr, result.stderr
    assert sorted(p.name for p in folder.iterdir()) == [planted.name]
    assert clinic.read_bytes() == before
    assert dbmod.automatic_backups(clinic) == []
    with dbmod.Store(clinic) as store:
        with pytest.raises(dbmod.StoreError, match="belongs to another user"):
            store.rotate_backups()
    # the same folder through a link the other user planted at its name
    shutil.rmtree(folder)
    elsewhere = place["shared"] / "theirs"
    assert as_attacker(attacker, "mkdir", "-m", "0777", elsewhere).returncode == 0
    assert as_attacker(attacker, "ln", "-s", elsewhere, folder).returncode == 0
    result = tohtrack("--db", clinic, "backup", "-o", folder / "mine.sqlite3")
    assert result.returncode == 2 and "belongs to another user" in result.stderr, result.stderr
    assert list(elsewhere.iterdir()) == []
