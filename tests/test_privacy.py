"""Privacy: what TOHtrack writes is readable by its user only, patient data stays in the database, its backups
and the user's exports, and a database on a network share is warned about (SQLite's locking is unsafe there).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tohtrack import db as dbmod, interchange, safety
from tohtrack.__main__ import main
from tohtrack.db import Store
from tohtrack.safety import Mount

ROOT = Path(__file__).resolve().parents[1]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask():
    """umask 000: whatever is private is so by its own mode, not by a cautious umask."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


# ---------------------------------------------------------------------------
# Files are created user-readable only
# ---------------------------------------------------------------------------


def test_database_wal_shm_backups_and_exports_are_private(tmp_path, vignettes, permissive_umask):
    path = tmp_path / "clinic.sqlite3"
    with Store(path) as store:
        interchange.import_document(store, vignettes)
        store.set_setting("clinic_name", "Ortho")
        wal, shm = path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")
        assert wal.exists() and shm.exists()  # open, in WAL mode, just written
        (tmp_path / "copies").mkdir(mode=0o700)
        copy = store.backup(tmp_path / "copies" / "manual.sqlite3")
        automatic = store.rotate_backups()
        kept = store.restore(copy)  # the replaced contents are kept too
        interchange.write_file(tmp_path / "export.json", interchange.dumps(interchange.export_document(store)))
        files = {"database": path, "-wal": wal, "-shm": shm, "backup": copy, "automatic backup": automatic,
                 "replaced database": kept, "export": tmp_path / "export.json"}
        assert {name: oct(mode(f)) for name, f in files.items()} == {name: "0o600" for name in files}


def test_the_cli_writes_private_exports_and_backups(tmp_path, db_path, vignettes_path, permissive_umask, capsys):
    assert main(["import", str(vignettes_path)]) == 0
    assert main(["export", "-o", str(tmp_path / "all.json")]) == 0
    (tmp_path / "b").mkdir()
    assert main(["backup", "-o", str(tmp_path / "b" / "copy.sqlite3")]) == 0
    assert main(["restore", str(tmp_path / "b" / "copy.sqlite3")]) == 0
    written = [db_path, tmp_path / "all.json", tmp_path / "b" / "copy.sqlite3",
               *dbmod.backup_dir(db_path).glob("*.sqlite3")]
    assert len(written) == 4
    assert {str(p): oct(mode(p)) for p in written} == {str(p): "0o600" for p in written}


def test_a_database_set_aside_and_restored_stays_private(tmp_path, vignettes, permissive_umask):
    path = tmp_path / "clinic.sqlite3"
    with Store(path) as store:
        interchange.import_document(store, vignettes)
        backup = store.rotate_backups()
    path.write_bytes(b"damaged" * 1000)
    os.chmod(path, 0o600)
    kept = safety.restore_unopenable(path, backup)
    assert mode(path) == 0o600 and mode(kept) == 0o600


def test_the_backups_folder_is_private(tmp_path, vignettes, permissive_umask):
    path = tmp_path / "clinic.sqlite3"
    with Store(path) as store:
        store.rotate_backups()
    assert mode(dbmod.backup_dir(path)) == 0o700  # a listing of the backups, or a planted one, is nobody else's


# ---------------------------------------------------------------------------
# No patient data outside the database, its backups and the exports
# ---------------------------------------------------------------------------

SESSION = textwrap.dedent("""
    import json, shutil, sqlite3, sys
    from tohtrack.__main__ import main

    def run(*args):
        try:
            return main(list(args))
        except SystemExit as exc:
            return exc.code

    data = sys.argv[1]
    codes = []
    codes.append(run("import", data + "/vignettes.json"))
    codes.append(run("import", data + "/vignettes.json"))            # every MRN already there: refused, named
    codes.append(run("import", data + "/bad.json"))                  # names and MRNs in a refused file
    codes.append(run("--clinician", "Dr Test", "settings", "clinic_name", "Ortho"))
    codes.append(run("settings", "backup_keep", "EX-01"))              # a bad value
    codes.append(run("flags", "--json", "--patient", "EX-02"))
    codes.append(run("flags", "--patient", "Bianchi"))                # not an MRN
    codes.append(run("worklist", "--all"))
    codes.append(run("audit", "--patient", "EX-03"))
    codes.append(run("export", "-o", "exports/all.json"))
    codes.append(run("backup", "-o", "exports/copy.sqlite3"))
    codes.append(run("restore", "exports/copy.sqlite3"))
    codes.append(run("restore", data + "/bad.json"))                 # not a backup
    codes.append(run("--db", data + "/bad.json", "check"))          # not a database
    codes.append(run("check"))
    print(json.dumps(codes))
""")


def test_a_session_leaves_no_patient_data_outside_the_database_backups_and_exports(tmp_path, vignettes_path,
                                                                                   vignettes):
    """Every place a program may write (home, config, cache, data, temp, the current folder) is a fresh folder;
    after a session of imports, edits, exports and refusals, only the database, its backups and the exports
    hold an MRN or a name."""
    sandbox = tmp_path / "sandbox"
    home, data = sandbox / "home", sandbox / "data"
    for folder in (home, data, sandbox / "tmp", sandbox / "work" / "exports"):
        folder.mkdir(parents=True)
    (data / "vignettes.json").write_bytes(vignettes_path.read_bytes())
    bad = {"format": "tohtrack/1", "patients": [dict(vignettes["patients"][0], mrn="SECRET-77", sex="sometimes",
                                                     family_name="Zyxwvutsrq")]}
    (data / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    database = home / "clinic.sqlite3"
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
           "XDG_DATA_HOME": str(home / ".local/share"), "XDG_CACHE_HOME": str(home / ".cache"),
           "XDG_STATE_HOME": str(home / ".local/state"), "TMPDIR": str(sandbox / "tmp"),
           "TOHTRACK_DB": str(database), "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", SESSION, str(data)], cwd=sandbox / "work", env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    codes = json.loads(done.stdout.strip().splitlines()[-1])
    assert codes == [0, 2, 2, 0, 2, 0, 2, 0, 0, 0, 0, 0, 2, 1, 0], done.stderr
    assert "EX-01" in done.stderr and "sometimes" in done.stderr  # the messages name the record (on screen)

    secrets = {p["mrn"] for p in vignettes["patients"]} | {p["family_name"] for p in vignettes["patients"]} | {
        "SECRET-77", "Zyxwvutsrq"}
    allowed = {database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")}
    places = [p for p in sandbox.rglob("*") if p.is_file() and p not in allowed
              and dbmod.backup_dir(database) not in p.parents and data not in p.parents
              and sandbox / "work" / "exports" not in p.parents]
    for place in places:
        content = place.read_bytes()
        found = sorted(s for s in secrets if s.encode("utf-8") in content or s.encode("utf-16-le") in content)
        assert not found, f"{place.relative_to(sandbox)} holds {found}"
    assert list(dbmod.backup_dir(database).glob("*-replaced-*")), "the session did write where it may"
    assert (sandbox / "work" / "exports" / "all.json").exists()


def test_tohtrack_writes_no_log_file():
    """No module sets up logging to a file, or writes a crash report: messages go to the screen only."""
    sources = "\n".join(p.read_text("utf-8") for p in (ROOT / "tohtrack").rglob("*.py"))
    for needle in ("import logging", "FileHandler", "basicConfig(", "faulthandler.enable(", "traceback.print_exc"):
        assert needle not in sources, needle


# ---------------------------------------------------------------------------
# Network shares: the mount table
# ---------------------------------------------------------------------------

MOUNTINFO = r"""
22 1 0:21 / /proc rw,relatime - proc proc rw
1 0 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
30 1 0:40 / /home rw,relatime shared:2 - ext4 /dev/sda2 rw
41 1 0:52 / /mnt/clinic rw,relatime shared:10 master:3 - nfs4 fs1.hospital.local:/export/clinic rw,vers=4.2
42 1 0:53 / /mnt/scans\040and\040letters rw,nosuid,nodev,relatime shared:11 - cifs //filer/Scans rw,vers=3.1.1
43 30 0:54 / /home/ana/remote rw,nosuid,nodev,relatime shared:12 - fuse.sshfs ana@lab:/data rw,user_id=1000
44 1 0:55 / /media/data rw,relatime - autofs systemd-1 rw,fd=40
45 44 0:56 / /media/data rw,relatime - nfs server:/data rw
46 1 0:57 / /mnt/c rw,noatime - 9p drvfs rw,aname=drvfs;path=C:\
47 1 0:58 / /mnt/usb rw,relatime - vfat /dev/sdb1 rw
48 1 0:59 / /mnt/cloud rw,relatime - fuse.rclone gdrive: rw
49 1 0:60 / /mnt/other rw,relatime - fuse.thing files@nas:/pool rw
50 1 0:61 / /mnt/bad
"""


@pytest.fixture
def mounts():
    return safety.parse_mountinfo(MOUNTINFO)


def test_mountinfo_lines_are_read_with_their_escapes(mounts):
    points = [m.point for m in mounts]
    assert "/mnt/scans and letters" in points and "/mnt/bad" not in points  # unescaped; a broken line skipped
    assert Mount("/mnt/clinic", "nfs4", "fs1.hospital.local:/export/clinic") in mounts


@pytest.mark.parametrize("path, expected", [
    ("/mnt/clinic/tohtrack.sqlite3", "nfs4 fs1.hospital.local:/export/clinic on /mnt/clinic"),
    ("/mnt/clinic", "nfs4 fs1.hospital.local:/export/clinic on /mnt/clinic"),
    ("/mnt/clinical/tohtrack.sqlite3", None),  # a longer name, not inside /mnt/clinic
    ("/mnt/scans and letters/db/clinic.sqlite3", "cifs //filer/Scans on /mnt/scans and letters"),
    ("/home/ana/remote/t.sqlite3", "fuse.sshfs ana@lab:/data on /home/ana/remote"),
    ("/home/ana/t.sqlite3", None),
    ("/media/data/x/t.sqlite3", "nfs server:/data on /media/data"),  # the automount's NFS, mounted over it
    ("/mnt/c/Users/ana/t.sqlite3", "9p drvfs on /mnt/c"),
    ("/mnt/usb/t.sqlite3", None),
    ("/mnt/cloud/t.sqlite3", "fuse.rclone gdrive: on /mnt/cloud"),
    ("/mnt/other/t.sqlite3", "fuse.thing files@nas:/pool on /mnt/other"),  # an unknown FUSE of a host:path
    ("/var/lib/tohtrack/../../../mnt/clinic/t.sqlite3", "nfs4 fs1.hospital.local:/export/clinic on /mnt/clinic"),
])
def test_the_mount_holding_a_path_decides(mounts, path, expected):
    assert safety.network_filesystem(path, platform="linux", mounts=mounts) == expected


def test_proc_mounts_format_is_read_too():
    mounts = safety.parse_mounts("/dev/sda1 / ext4 rw 0 0\n//nas/clinic /srv/share smb3 rw,vers=3.0 0 0\n")
    assert safety.network_filesystem("/srv/share/t.sqlite3", platform="linux", mounts=mounts) == \
        "smb3 //nas/clinic on /srv/share"
    assert safety.network_filesystem("/srv/t.sqlite3", platform="linux", mounts=mounts) is None


@pytest.mark.parametrize("fstype", ["nfs", "nfs4", "cifs", "smb3", "smbfs", "sshfs", "fuse.sshfs", "9p", "afs",
                                    "ceph", "glusterfs", "fuse.glusterfs", "davfs", "webdav", "afpfs", "vboxsf"])
def test_network_filesystem_types(fstype):
    assert safety.is_network_mount(Mount("/m", fstype, "x"))


@pytest.mark.parametrize("fstype", ["ext4", "xfs", "btrfs", "zfs", "apfs", "tmpfs", "overlay", "vfat", "ntfs3",
                                    "fuse.portal", "fuseblk"])
def test_local_filesystem_types(fstype):
    assert not safety.is_network_mount(Mount("/m", fstype, "/dev/sda1"))


def test_this_machines_temporary_folder_is_local(tmp_path):
    assert safety.network_share_warning(tmp_path / "clinic.sqlite3") is None


def test_the_warning_never_stops_the_app(monkeypatch, tmp_path):
    def broken():
        raise PermissionError("no /proc here")

    monkeypatch.setattr(safety, "_linux_mounts", broken)
    assert safety.network_share_warning(tmp_path / "clinic.sqlite3") is None


# ---------------------------------------------------------------------------
# Network shares: Windows paths
# ---------------------------------------------------------------------------


def remote_z(root: str) -> int:
    return safety.DRIVE_REMOTE if root.upper() == "Z:\\" else 3  # 3: DRIVE_FIXED


@pytest.mark.parametrize("path, expected", [
    (r"\\server\share\clinic\tohtrack.sqlite3", r"\\server\share"),
    ("//server/share/tohtrack.sqlite3", r"\\server\share"),
    (r"\\?\UNC\filer.hospital.local\Ortho\db.sqlite3", r"\\filer.hospital.local\Ortho"),
    (r"\\wsl.localhost\Ubuntu\home\ana\t.sqlite3", r"\\wsl.localhost\Ubuntu"),
    (r"Z:\clinic\tohtrack.sqlite3", "Z:"),
    (r"z:\clinic\tohtrack.sqlite3", "z:"),
    (r"\\?\Z:\clinic\tohtrack.sqlite3", "Z:"),
    (r"C:\Users\ana\AppData\Local\tohtrack\tohtrack.sqlite3", None),
    (r"\\?\C:\very\long\path\t.sqlite3", None),
    (r"\\.\C:\t.sqlite3", None),
    ("tohtrack.sqlite3", None),
])
def test_windows_paths(path, expected):
    assert safety.windows_share(path, remote_z) == expected


def test_windows_warning_names_the_share():
    warning = safety.network_share_warning(r"\\filer\Ortho\tohtrack.sqlite3", platform="win32")
    assert warning.startswith(r"\\filer\Ortho\tohtrack.sqlite3 is on the network share \\filer\Ortho.")
    assert "local disk" in warning and "damage" in warning
    assert safety.network_share_warning(r"Z:\t.sqlite3", platform="win32", drive_type=remote_z) is not None
    assert safety.network_share_warning(r"C:\t.sqlite3", platform="win32", drive_type=remote_z) is None


# ---------------------------------------------------------------------------
# The command line warns once, for commands that write
# ---------------------------------------------------------------------------


@pytest.fixture
def db_on_nfs(monkeypatch, db_path):
    """This test's database folder as if it were an NFS mount (the real check, a made-up mount table)."""
    table = safety.parse_mountinfo(MOUNTINFO) + [Mount(os.path.realpath(db_path.parent), "nfs4", "filer:/clinic")]
    monkeypatch.setattr(safety, "_linux_mounts", lambda: table)
    return db_path


def test_write_commands_warn_once_about_a_network_share(capsys, db_on_nfs, vignettes_path):
    assert main(["import", str(vignettes_path)]) == 0
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "nfs4 filer:/clinic" in err and "local disk" in err
    assert main(["settings", "clinic_name", "Ortho"]) == 0
    assert capsys.readouterr().err.count("warning") == 1
    for reading in (["flags", "--json"], ["check"], ["export", "-o", "-"]):
        assert main(reading) == 0
        assert "warning" not in capsys.readouterr().err, reading


def test_no_warning_for_a_local_database(capsys, db_path, vignettes_path):
    assert main(["import", str(vignettes_path)]) == 0
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------------
# Back to the newest good backup when a database cannot be opened (safety.py; the GUI offers it)
# ---------------------------------------------------------------------------


def _with_backups(path: Path, vignettes) -> Path:
    with Store(path) as store:
        interchange.import_document(store, vignettes)
        return store.rotate_backups()


def test_the_newest_backup_that_passes_its_check_is_chosen(tmp_path, vignettes):
    path = tmp_path / "clinic.sqlite3"
    good = _with_backups(path, vignettes)
    assert safety.newest_good_backup(path) == good
    cut_short = dbmod.backup_dir(path) / "clinic-auto-20990101T000000Z.sqlite3"
    cut_short.write_bytes(good.read_bytes()[:8192])
    assert dbmod.automatic_backups(path)[-1] == cut_short and safety.newest_good_backup(path) == good
    good.unlink()
    assert safety.newest_good_backup(path) is None


def test_restoring_moves_the_file_and_its_wal_and_shm_aside(tmp_path, vignettes):
    path = tmp_path / "clinic.sqlite3"
    backup = _with_backups(path, vignettes)
    path.write_bytes(b"damaged" * 1000)
    sides = {suffix: path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")}
    for suffix, side in sides.items():
        side.write_bytes(suffix.encode() * 10)
    kept = safety.restore_unopenable(path, backup)
    assert kept.parent == dbmod.backup_dir(path) and kept.read_bytes() == b"damaged" * 1000
    for suffix in sides:
        assert kept.with_name(kept.name + suffix).read_bytes() == suffix.encode() * 10
    assert not sides["-journal"].exists()
    with Store(path) as store:
        assert store.count_patients() == 6 and store.check() == []
    assert not list(dbmod.backup_dir(path).glob("*-replaced-*"))


def test_a_backup_that_fails_its_check_moves_nothing(tmp_path, vignettes):
    path = tmp_path / "clinic.sqlite3"
    backup = _with_backups(path, vignettes)
    backup.write_bytes(b"not a backup")
    path.write_bytes(b"damaged")
    with pytest.raises(dbmod.ValidationError):
        safety.restore_unopenable(path, backup)
    assert path.read_bytes() == b"damaged"
    assert not list(dbmod.backup_dir(path).glob("*-set-aside-*"))


def test_a_restore_that_fails_puts_the_file_back(tmp_path, vignettes, monkeypatch):
    path = tmp_path / "clinic.sqlite3"
    backup = _with_backups(path, vignettes)
    path.write_bytes(b"damaged")
    path.with_name(path.name + "-wal").write_bytes(b"wal")

    class FullDisk(Store):
        def restore(self, backup):
            raise dbmod.StoreError(f"{self.path}: the disk is full; nothing was written")

    monkeypatch.setattr(dbmod, "Store", FullDisk)
    with pytest.raises(dbmod.StoreError, match="disk is full"):
        safety.restore_unopenable(path, backup)
    assert path.read_bytes() == b"damaged" and path.with_name(path.name + "-wal").read_bytes() == b"wal"
    assert not path.with_name(path.name + "-shm").exists()
    assert not list(dbmod.backup_dir(path).glob("*-set-aside-*"))


def test_a_folder_is_never_moved_aside(tmp_path, vignettes):
    backup = _with_backups(tmp_path / "clinic.sqlite3", vignettes)
    folder = tmp_path / "folder.sqlite3"
    folder.mkdir()
    with pytest.raises(dbmod.StoreError, match="folder"):
        safety.restore_unopenable(folder, backup)
    assert folder.is_dir()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the lock query is Linux's")
def test_no_restore_over_a_database_open_elsewhere(tmp_path, vignettes):
    """Another workstation still has the damaged file open: moving it aside would send that workstation's
    saves into the set-aside copy. Refused, nothing moved."""
    import subprocess

    path = tmp_path / "clinic.sqlite3"
    with Store(path) as store:
        interchange.import_document(store, vignettes, today=dt.date(2026, 3, 1))
        backup = store.backup(tmp_path / "good.sqlite3")
    child = subprocess.Popen([sys.executable, "-c", "import sys, time; from tohtrack.db import Store; "
                              "s = Store(sys.argv[1]); s.patients(); print('open', flush=True); time.sleep(30)",
                              str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "open"
        assert safety.in_use_elsewhere(path)
        with path.open("r+b") as f:  # damage the header, as a failing disk would
            f.write(b"\0" * 100)
        before = path.read_bytes()
        with pytest.raises(dbmod.StoreError, match="open elsewhere"):
            safety.restore_unopenable(path, backup)
        assert path.read_bytes() == before and not list(dbmod.backup_dir(path).glob("*set-aside*"))
    finally:
        child.kill()
        child.wait()
    assert not safety.in_use_elsewhere(path)
    assert safety.restore_unopenable(path, backup).exists()  # once it is closed there, the restore goes ahead
