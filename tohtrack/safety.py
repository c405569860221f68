"""Where a database may safely live, and getting back to work when it cannot be opened (no Qt here).

SQLite's own advice: WAL and file locking are unreliable on network filesystems, so two workstations
writing to one file on a share can damage it. `network_share_warning` says so when a path is on one:
Linux reads the mount table (/proc/self/mountinfo), macOS asks statfs, Windows looks for UNC paths
(\\\\server\\share) and mapped network drives.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import ntpath
import os
import re
import shutil
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

from . import db
from .course import LATEST_AS_OF  # noqa: F401 - the latest as-of date, defined with the assessment
from .model import Problem, ValidationError

#: Filesystem types (as Linux's mount table or macOS's statfs name them) whose locking SQLite cannot trust:
#: network filesystems, and the shared folders of virtual machines (which pass locks on just as badly).
NETWORK_FILESYSTEMS = frozenset({
    "nfs", "nfs4", "nfsd", "cifs", "smb", "smb2", "smb3", "smbfs", "ncp", "ncpfs", "afs", "openafs", "coda",
    "9p", "v9fs", "ceph", "glusterfs", "lustre", "gpfs", "beegfs", "orangefs", "pvfs2", "davfs", "webdav",
    "sshfs", "afpfs", "vboxsf", "vmhgfs", "prl_fs", "fuse.sshfs", "fuse.glusterfs", "fuse.ceph", "fuse.ceph-fuse",
    "fuse.rclone", "fuse.s3fs", "fuse.gcsfuse", "fuse.davfs2", "fuse.gvfsd-fuse", "fuse.afpfs", "fuse.smbnetfs",
    "fuse.curlftpfs", "fuse.juicefs", "fuse.mfs", "fuse.moosefs", "fuse.lizardfs", "fuse.seaweedfs",
    "fuse.cvmfs", "fuse.goofys", "fuse.blobfuse", "fuse.blobfuse2", "fuse.vmhgfs-fuse", "fuse.objectivefs",
})

#: GetDriveTypeW's answer for a network drive.
DRIVE_REMOTE = 4
#: macOS statfs f_flags: the filesystem is stored locally.
MNT_LOCAL = 0x00001000

_HOST_PATH_RE = re.compile(r"^(//|\\\\)[^/\\]+[/\\]|^[^/\s:]+:/")  # //server/share, \\server\share, host:/export


@dataclass(frozen=True)
class Mount:
    """One line of the mount table: where it is mounted, the filesystem type, what is mounted."""

    point: str
    fstype: str
    source: str


# ---------------------------------------------------------------------------
# Linux: the mount table
# ---------------------------------------------------------------------------


def _unescape(field: str) -> str:
    r"""The mount table's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash) undone."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_mountinfo(text: str) -> list[Mount]:
    """The mounts of /proc/self/mountinfo text, in table order (later lines mount over earlier ones).

    A line: ``36 35 98:0 /root /mnt/point rw,noatime master:1 - ext3 /dev/root rw``; the optional
    fields before the lone ``-`` vary in number. Lines that do not fit are skipped.
    """
    mounts = []
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if not sep or len(fields) < 5 or not tail:
            continue
        mounts.append(Mount(_unescape(fields[4]), tail[0], _unescape(tail[1]) if len(tail) > 1 else ""))
    return mounts


def parse_mounts(text: str) -> list[Mount]:
    """The mounts of /proc/mounts (or /etc/mtab) text: ``source point fstype options 0 0``."""
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            mounts.append(Mount(_unescape(fields[1]), fields[2], _unescape(fields[0])))
    return mounts


def mount_of(path: str, mounts: list[Mount]) -> Mount | None:
    """The mount holding an absolute path: the longest mount point above it, the last one mounted there."""
    best: Mount | None = None
    for mount in mounts:
        point = mount.point.rstrip("/") or "/"
        inside = path == point or path.startswith(point if point == "/" else point + "/")
        if inside and (best is None or len(point) >= len(best.point.rstrip("/") or "/")):
            best = mount
    return best


def is_network_mount(mount: Mount) -> bool:
    """Whether a mount is a network filesystem (by its type, or a FUSE mount of a host:path)."""
    fstype = mount.fstype.lower()
    if fstype in NETWORK_FILESYSTEMS:
        return True
    base = fstype.split(".", 1)[0]
    if base in NETWORK_FILESYSTEMS and base != "fuse":  # nfs.something, cifs subtypes
        return True
    return fstype.startswith("fuse") and bool(_HOST_PATH_RE.match(mount.source))


def _linux_mounts() -> list[Mount]:
    for name, parse in (("/proc/self/mountinfo", parse_mountinfo), ("/proc/mounts", parse_mounts)):
        try:
            with open(name, encoding="utf-8", errors="surrogateescape") as f:
                return parse(f.read())
        except OSError:
            continue
    return []


# ---------------------------------------------------------------------------
# Windows: UNC paths and mapped drives
# ---------------------------------------------------------------------------


def windows_share(path: str, drive_type=None) -> str | None:
    r"""The share a Windows path is on (\\server\share, or a mapped drive 'Z:'), None when it is local.

    `drive_type(root)` answers like GetDriveTypeW (4 = a network drive); without it drive letters count as
    local. Long-path forms (\\?\C:\..., \\?\UNC\server\share\...) are understood.
    """
    text = path.replace("/", "\\")
    upper = text.upper()
    if upper.startswith("\\\\?\\UNC\\"):
        text = "\\\\" + text[8:]
    elif upper.startswith(("\\\\?\\", "\\\\.\\")):
        text = text[4:]
    if text.startswith("\\\\"):
        parts = [p for p in text[2:].split("\\") if p]
        return "\\\\" + "\\".join(parts[:2]) if parts else None
    drive = ntpath.splitdrive(text)[0]
    if len(drive) == 2 and drive[1] == ":" and drive_type is not None:
        try:
            if drive_type(drive + "\\") == DRIVE_REMOTE:
                return drive
        except (OSError, ValueError):
            return None
    return None


def _windows_drive_type(root: str) -> int:
    import ctypes

    return ctypes.windll.kernel32.GetDriveTypeW(ctypes.c_wchar_p(root))  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------
# macOS: statfs
# ---------------------------------------------------------------------------


def _darwin_filesystem(path: str) -> tuple[str, int] | None:
    """(f_fstypename, f_flags) of the filesystem holding `path`, from statfs (64-bit inode layout)."""
    import ctypes

    class StatFs(ctypes.Structure):
        _fields_ = [
            ("f_bsize", ctypes.c_uint32), ("f_iosize", ctypes.c_int32),
            ("f_blocks", ctypes.c_uint64), ("f_bfree", ctypes.c_uint64), ("f_bavail", ctypes.c_uint64),
            ("f_files", ctypes.c_uint64), ("f_ffree", ctypes.c_uint64),
            ("f_fsid", ctypes.c_int32 * 2), ("f_owner", ctypes.c_uint32), ("f_type", ctypes.c_uint32),
            ("f_flags", ctypes.c_uint32), ("f_fssubtype", ctypes.c_uint32),
            ("f_fstypename", ctypes.c_char * 16), ("f_mntonname", ctypes.c_char * 1024),
            ("f_mntfromname", ctypes.c_char * 1024), ("f_flagext", ctypes.c_uint32),
            ("f_reserved", ctypes.c_uint32 * 7),
        ]

    libc = ctypes.CDLL(None, use_errno=True)
    function = getattr(libc, "statfs$INODE64", None) or libc.statfs  # x86-64 names the 64-bit layout apart
    result = StatFs()
    if function(os.fsencode(path), ctypes.byref(result)) != 0:
        return None
    return result.f_fstypename.decode("ascii", "replace"), result.f_flags


# ---------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------


def _existing(path: Path) -> Path:
    """The path, or the nearest folder above it that exists (a database not created yet)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return path


def network_filesystem(path: str | os.PathLike, *, platform: str | None = None, mounts: list[Mount] | None = None,
                       drive_type=None) -> str | None:
    """What network filesystem holds `path` ('nfs4 server:/export on /mnt/clinic'), or None if local or unknown.

    `platform`, `mounts` and `drive_type` are for tests; by default they are this machine's.
    """
    platform = platform or sys.platform
    if platform.startswith("win"):
        text = os.fspath(path)
        if drive_type is None and sys.platform.startswith("win"):
            text, drive_type = os.path.abspath(text), _windows_drive_type
        share = windows_share(text, drive_type)
        return f"the network share {share}" if share else None
    if platform == "darwin" and mounts is None:
        found = _darwin_filesystem(str(_existing(Path(path).resolve())))
        if found is None:
            return None
        fstype, flags = found
        if fstype.lower() in NETWORK_FILESYSTEMS or not flags & MNT_LOCAL:
            return f"a {fstype} network volume"
        return None
    if mounts is None:
        if not platform.startswith("linux"):
            return None
        mounts = _linux_mounts()
        resolved = os.path.realpath(path)  # symbolic links followed to where the file really is
    else:
        resolved = os.path.normpath(os.fspath(path))
    mount = mount_of(resolved, mounts)
    if mount is None or not is_network_mount(mount):
        return None
    return f"{mount.fstype} {mount.source} on {mount.point}".replace("  ", " ")


def network_share_warning(path: str | os.PathLike, **kwargs) -> str | None:
    """A warning to show when the database is on a network share (SQLite's locking is unsafe there), else None.

    Never raises: a mount table that cannot be read means no warning.
    """
    try:
        where = network_filesystem(path, **kwargs)
    except Exception:  # noqa: BLE001 - a check that fails must not stop the app from opening
        return None
    if where is None:
        return None
    return (f"{path} is on {where}. SQLite's file locking is not reliable on network shares: two workstations "
            "writing at the same time can damage the database. Keep the database on a local disk, and copy "
            "backups to the share instead.")


# ---------------------------------------------------------------------------
# A database that cannot be opened: back to its last good automatic backup
# ---------------------------------------------------------------------------


def newest_good_backup(path: str | os.PathLike) -> Path | None:
    """The newest automatic backup of a database that passes its check (`db.check_backup`), or None."""
    for candidate in reversed(db.automatic_backups(Path(path))):
        if not db.check_backup(candidate):
            return candidate
    return None


_SIDE_FILES = ("-wal", "-shm", "-journal")


# SQLite's unix locks: the database file's lock bytes (PENDING, RESERVED, SHARED) from 2**30, and in the -shm
# file of a WAL database the bytes from 120 (the 'DMS' byte at 128 is held shared by every open connection).
_DB_LOCKS = (0x40000000, 512)
_SHM_LOCKS = (120, 16)


def in_use_elsewhere(path: str | os.PathLike) -> bool:
    """Whether another process holds SQLite locks on the database (asks with F_GETLK: takes no lock itself).

    Linux only; elsewhere False (on Windows, moving a file another process has open fails anyway)."""
    if not sys.platform.startswith("linux"):
        return False
    import fcntl
    import struct

    path = Path(path)
    for file, (start, length) in ((path, _DB_LOCKS), (path.with_name(path.name + "-shm"), _SHM_LOCKS)):
        try:
            fd = os.open(file, os.O_RDONLY)
        except OSError:
            continue
        try:
            query = struct.pack("@hhqqi", fcntl.F_WRLCK, os.SEEK_SET, start, length, 0)
            answer = fcntl.fcntl(fd, fcntl.F_GETLK, query + b"\0" * 8)
            if struct.unpack_from("@h", answer)[0] != fcntl.F_UNLCK:
                return True
        except OSError:
            continue
        finally:
            os.close(fd)
    return False


def restore_unopenable(path: str | os.PathLike, backup: str | os.PathLike) -> Path:
    """Put a checked backup in place of a database file that cannot be opened (damaged, not TOHtrack's).

    The file found at `path` (with its -wal, -shm and -journal, which must never meet another database) is
    moved into the backups folder, not deleted; returns where it was kept. The backup is restored through
    `Store.restore` into a new file. Raises ValidationError, nothing moved, if the backup fails its check;
    StoreError or OSError if the restore fails, with the original file moved back.
    """
    path, backup = Path(path), Path(backup)
    if path.is_dir():
        raise db.StoreError(f"{path}: this is a folder, not a database file")
    if in_use_elsewhere(path):
        raise db.StoreError(f"{path}: TOHtrack (or another program) has this database open elsewhere; close it "
                            "there first, or its changes would go into the file set aside; nothing was changed")
    problems = db.check_backup(backup)
    if problems:
        raise ValidationError([Problem(str(backup), p) for p in problems])
    problem = db.backups_folder_problem(path)
    if problem:
        raise db.StoreError(f"{path}: {problem}; nothing was changed")
    folder = db.backup_dir(path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    kept = folder / f"{path.stem}-set-aside-{stamp}{path.suffix or '.sqlite3'}"
    n = 1
    while kept.exists():
        n += 1
        kept = folder / f"{path.stem}-set-aside-{stamp}-{n}{path.suffix or '.sqlite3'}"
    moved: list[tuple[Path, Path]] = []
    creating = False
    try:
        for suffix in ("", *_SIDE_FILES):
            source = path.with_name(path.name + suffix)
            if source.exists():
                target = kept.with_name(kept.name + suffix)
                os.replace(source, target)
                moved.append((source, target))
        creating = True  # from here on, what is at `path` is ours
        with db.Store(path) as store:  # a new, empty database (created user-readable only)
            emptied = store.restore(backup)
        emptied.unlink(missing_ok=True)  # the copy of that empty database: nothing of the user's in it
    except BaseException:
        if creating:
            for suffix in ("", *_SIDE_FILES):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        for source, target in reversed(moved):
            os.replace(target, source)
        raise
    return kept


# ---------------------------------------------------------------------------
# Outputs: never the database, never through a file someone else planted
# ---------------------------------------------------------------------------


class OutputRefused(db.StoreError):
    """An output path that may not be written: the database itself, a folder, a missing folder (exit code 2)."""

    exit_code = 2


class OutputFailed(db.StoreError):
    """Writing an output failed part way (a full disk: exit code 1); the file that was there is unchanged."""


#: errno values that mean the path itself is wrong (exit 2), not the disk (a full disk, an I/O error: exit 1).
_PATH_ERRORS = frozenset(getattr(errno, name) for name in (
    "EACCES", "EPERM", "EROFS", "ENOENT", "ENOTDIR", "EISDIR", "ENAMETOOLONG", "ELOOP", "EXDEV", "EINVAL"))


def _refuse(out: str | os.PathLike, reason: str) -> OutputRefused:
    return OutputRefused(f"{os.fspath(out)}: {reason}; nothing was written")


def write_failed(out: str | os.PathLike, exc: OSError) -> db.StoreError:
    """The error to raise when writing an output failed: names the user's path, never a temporary file."""
    reason = f"cannot write there ({exc.strerror or exc})"
    if exc.errno in _PATH_ERRORS:
        return _refuse(out, reason)
    return OutputFailed(f"{os.fspath(out)}: {reason}; nothing was written")


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def _stat(path: Path, follow: bool = True) -> os.stat_result | None:
    try:
        return os.stat(path) if follow else os.lstat(path)
    except (OSError, ValueError):
        return None


def database_files(database: str | os.PathLike) -> list[Path]:
    """The database file and the files SQLite keeps beside it."""
    database = Path(database)
    return [database.with_name(database.name + suffix) for suffix in ("", *_SIDE_FILES)]


def _database_names(database: Path) -> list[Path]:
    """The database as named and, when that name is (or passes through) a symbolic link, where it really is:
    SQLite keeps its -wal, -shm and -journal beside the real file, and the backups folder may be beside either."""
    names = [database]
    with contextlib.suppress(OSError, ValueError):
        real = Path(os.path.realpath(database))
        if real != database:
            names.append(real)
    return names


def _refuse_database(text: str, st: os.stat_result | None, folder_st: os.stat_result, target: Path,
                     database: Path, shown: Path, backup: bool) -> None:
    """Raise OutputRefused when the target is `database`, one of its side files or its backups folder (compared
    by device and inode; a file not made yet by its folder's identity and its name), or inside that folder."""
    place = (_identity(folder_st), target.name)

    def same_place(path: Path) -> bool:
        parent = _stat(path.parent)
        return parent is not None and (_identity(parent), path.name) == place

    for path in database_files(database):
        file_st = _stat(path)
        if (st is not None and file_st is not None and _identity(st) == _identity(file_st)) or same_place(path):
            raise _refuse(text, f"is the open database {shown} (or its -wal, -shm or -journal file); "
                                "choose another file")
    folder = db.backup_dir(database)
    backups_st = _stat(folder)
    if (st is not None and backups_st is not None and _identity(st) == _identity(backups_st)) or same_place(folder):
        raise _refuse(text, f"is the backups folder of the database {shown}; choose another file")
    if backups_st is not None and (not backup or st is not None):  # a backup may add a file there, never replace one
        backups = _identity(backups_st)
        inside = Path(os.path.realpath(target.parent))
        for above in (inside, *inside.parents):
            above_st = _stat(above)
            if above_st is not None and _identity(above_st) == backups:
                raise _refuse(text, f"is inside the backups folder of the database {shown}"
                                    + ("; a backup there is never replaced" if backup else "")
                                    + "; choose another file")


def _refuse_witness(text: str, st: os.stat_result | None, folder_st: os.stat_result, target: Path) -> None:
    """Raise OutputRefused when the target is the audit witness folder or inside it (an export written over a
    witness file would leave the audit trail checked against nothing)."""
    from . import witness

    try:
        where = witness.folder()
    except Exception:  # noqa: BLE001 - no data folder to be had: there is no witness to protect
        return
    where_st = _stat(where)
    parent_st = _stat(where.parent)
    if (where_st is not None and st is not None and _identity(st) == _identity(where_st)) or (
            parent_st is not None and (_identity(parent_st), where.name) == (_identity(folder_st), target.name)):
        raise _refuse(text, f"is the audit witness folder {where}; choose another file")
    if where_st is None:
        return
    inside = Path(os.path.realpath(target.parent))
    for above in (inside, *inside.parents):
        above_st = _stat(above)
        if above_st is not None and _identity(above_st) == _identity(where_st):
            raise _refuse(text, f"is inside the audit witness folder {where}; choose another file")


def check_output(out: str | os.PathLike, database: str | os.PathLike | None = None, *,
                 backup: bool = False) -> Path:
    """Where an output may be written; raises OutputRefused (exit 2, naming the path) when it may not.

    Refused: no name; a folder, device or FIFO; a folder that does not exist (no command creates folders for
    its output); a symbolic link owned by another user (as Linux's protected_symlinks); and — by any spelling,
    compared by device and inode, not by name — the open `database`, its -wal, -shm or -journal file, its
    backups folder and anything inside it (`backup=True`: a backup may add a new file there, not replace one);
    and the audit witness folder (tohtrack.witness) and anything inside it, whatever the database.
    Returns the path to write to (a link of this user's is followed, so it stays a link).
    """
    text = os.fspath(out)
    if not text:
        raise OutputRefused("no output file named; give the name of a file to write")
    if text == "-":  # commands that can write to standard output take '-' before asking here
        raise _refuse(text, "standard output is not possible for this output; give the name of a file to write")
    if text.endswith(("/", os.sep, os.altsep or "/")):  # Path() would drop the slash and write a file by that name
        raise _refuse(text, "is a folder or a device, not a file; give the name of a file to write")
    target = Path(text)
    link = _stat(target, follow=False)
    if link is not None and os.path.islink(target):
        owner = link.st_uid
        if hasattr(os, "geteuid") and owner not in (os.geteuid(), 0):
            raise _refuse(text, "is a symbolic link owned by another user; give the name of a file to write")
        target = Path(os.path.realpath(target))
    st = _stat(target)
    if st is not None and not stat.S_ISREG(st.st_mode):
        raise _refuse(text, "is a folder or a device, not a file; give the name of a file to write")
    folder = target.parent
    folder_st = _stat(folder)
    if folder_st is None:
        raise _refuse(text, f"the folder {folder} does not exist")
    if not stat.S_ISDIR(folder_st.st_mode):
        raise _refuse(text, f"{folder} is not a folder")
    _refuse_witness(text, st, folder_st, target)
    if database is not None:
        database = Path(database)
        for named in _database_names(database):
            _refuse_database(text, st, folder_st, target, named, database, backup)
    return target


def check_stream(stream, database: str | os.PathLike | None, shown: str = "standard output") -> None:
    """Refuse (OutputRefused, exit 2) to write to a stream that is the database or one of its side files
    (`tohtrack export -o - >> clinic.sqlite3`), compared by device and inode."""
    if database is None:
        return
    try:
        st = os.fstat(stream.fileno())
    except (AttributeError, OSError, ValueError):  # not a real file (a test's buffer)
        return
    for path in (p for named in _database_names(Path(database)) for p in database_files(named)):
        file_st = _stat(path)
        if file_st is not None and _identity(file_st) == _identity(st):
            raise _refuse(shown, f"is the open database {database} (or its -wal, -shm or -journal file); "
                                 "choose another file")


def _fsync_folder(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX); Windows has no directory handles to sync."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:  # some filesystems refuse fsync on a folder: the rename is done, just not forced out
        pass
    finally:
        os.close(fd)


def _temp_prefix(target: Path) -> str:
    return f".{target.name[:60]}."  # a long name must not make the temporary one longer than allowed


@contextlib.contextmanager
def atomic_output(out: str | os.PathLike, database: str | os.PathLike | None = None, *,
                  shown: str | os.PathLike | None = None) -> Iterator[BinaryIO]:
    """Write a file all or nothing, readable by its owner only: yields a binary file to write to.

    The output is checked first (`check_output`). The data goes to a new temporary file in the target's folder
    (tempfile.mkstemp: O_CREAT|O_EXCL, so never through a file or link someone planted, and mode 0600), is
    flushed to the disk, renamed into place and the folder synced. On any failure the temporary file is
    removed and the file that was there (if any) is unchanged; errors name the user's path (`shown`).
    """
    shown = shown if shown is not None else out
    target = check_output(out, database)
    temp: str | None = None
    try:
        fd, temp = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=".partial", dir=target.parent)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        check_output(out, database)  # the target must still be what was checked (not swapped meanwhile)
        os.replace(temp, target)
        temp = None
        _fsync_folder(target.parent)
    except OSError as exc:
        raise write_failed(shown, exc) from None
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)


def write_output(out: str | os.PathLike, data: bytes, database: str | os.PathLike | None = None) -> Path:
    """`data` written to `out` through `atomic_output`; returns the path written."""
    with atomic_output(out, database) as f:
        f.write(data)
    return Path(out)


@contextlib.contextmanager
def private_scratch(out: str | os.PathLike, database: str | os.PathLike | None = None, *,
                    backup: bool = False) -> Iterator[tuple[Path, Callable[[], Path]]]:
    """For writers that need a file name rather than a file (SQLite): yields (scratch file, install).

    The scratch file's name is inside a new folder of the target's folder that only this user may enter
    (tempfile.mkdtemp, mode 0700), so nobody can plant a link at it or at SQLite's -journal beside it.
    `install()` flushes it, makes it 0600, renames it into place and syncs the folder; without it (or on a
    failure) the scratch folder is removed and the target is unchanged.
    """
    target = check_output(out, database, backup=backup)
    try:
        folder = Path(tempfile.mkdtemp(prefix=_temp_prefix(target), suffix=".partial", dir=target.parent))
    except OSError as exc:
        raise write_failed(out, exc) from None
    scratch = folder / "scratch"

    def install() -> Path:
        try:
            check_output(out, database, backup=backup)
            fd = os.open(scratch, os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
            try:
                if hasattr(os, "fchmod"):
                    os.fchmod(fd, 0o600)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(scratch, target)
            _fsync_folder(target.parent)
        except OSError as exc:
            raise write_failed(out, exc) from None
        return target

    try:
        yield scratch, install
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------------------
# Inputs: regular files only
# ---------------------------------------------------------------------------


class InputRefused(ValidationError):
    """An input that is not a regular file (a FIFO, a device, a folder): exit code 2, nothing read."""

    def __init__(self, path: str | os.PathLike, reason: str):
        super().__init__([Problem("", f"{os.fspath(path)}: {reason}")])


def open_input(path: str | os.PathLike) -> BinaryIO:
    """A regular file opened for reading in binary; InputRefused for anything else, before reading a byte.

    Opened without blocking (a FIFO with no writer would otherwise hang here), then checked with fstat (the
    file opened, not a name that may be swapped)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise InputRefused(path, f"cannot read it ({exc.strerror or exc})") from None
    except ValueError:  # a NUL in the name
        raise InputRefused(path, "is not a file name") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            what = "a folder" if stat.S_ISDIR(mode) else "a FIFO, a device or a socket"
            raise InputRefused(path, f"is {what}, not a regular file; give the name of a file")
        if getattr(os, "O_NONBLOCK", 0):  # POSIX: reads of the regular file block as usual again
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def is_special(path: str | os.PathLike) -> bool:
    """Whether a path exists and is not a regular file or a folder (a FIFO, a device, a socket)."""
    st = _stat(Path(path))
    return st is not None and not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode))
