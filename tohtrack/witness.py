"""The audit trail's witness: the head of each database's hash chain, kept outside the database.

The chain in the file (tohtrack.db) shows an entry changed or removed in the middle, but not a file rolled back
to an older copy, a tail of entries removed, or a chain recomputed after an edit: anyone holding the file can
do those and the file still agrees with itself. So this workstation remembers, per database identity (a random
id stored in the database), how many entries the trail had and the hash of the last one, in the user's data
folder beside the default database. `tohtrack check` holds the file against it.

Files, in the witness folder (mode 0700; `$TOHTRACK_WITNESS` overrides where it is):

- `<identity>.json`: {"format", "identity", "count", "head", "seen" (UTC), "path"} — the newest head seen;
- `path-<hash of the path>.json`: {"format", "path", "identity", "seen"} — which database was seen at a path
  first, so that a file replaced by another database (a new identity) does not pass as "never seen";
- `witness.lock`: held (flock) while one of them is read and written.

Every file is written whole (mkstemp in the folder, mode 0600, fsync, rename), under the lock, and the head
only moves forward — to a longer trail that still has the remembered hash at the remembered count — unless a
restore or an explicit acceptance moves it (`force`). Processes writing one database at once therefore never
move it back, and a kill at any moment leaves the previous file whole.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

ENV = "TOHTRACK_WITNESS"
FORMAT = "tohtrack-witness/1"
_IDENTITY = re.compile(r"[0-9a-f]{32}")
_HASH = re.compile(r"[0-9a-f]{64}")
_MAX_FILE = 64 * 1024  # a witness file is a few hundred bytes: anything bigger is not ours


class WitnessError(Exception):
    """The witness could not be read or written (its folder, a damaged file)."""


@dataclass(frozen=True)
class Anchor:
    """What this workstation last saw of a database's audit trail."""

    identity: str
    count: int
    head: str
    seen: str  # UTC, ISO 8601
    path: str
    #: (count, head) of a backup being restored: the trail may become it (a restore killed after copying the
    #: backup in, before moving the witness, is not a rollback). Cleared by the next move.
    pending: tuple[int, str] | None = None

    @property
    def when(self) -> str:
        return seen_words(self.seen)


@dataclass(frozen=True)
class PathRecord:
    path: str
    identity: str
    seen: str
    pending_identity: str | None = None  # a restore is putting this database at the path


def folder() -> Path:
    """$TOHTRACK_WITNESS, else `audit-witness` in the per-user data folder (where the default database is)."""
    env = os.environ.get(ENV)
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("tohtrack", appauthor=False)) / "audit-witness"


def valid_identity(identity: object) -> bool:
    return isinstance(identity, str) and _IDENTITY.fullmatch(identity) is not None


def seen_words(seen: str) -> str:
    """'2026-12-01 10:14' in local time, from the stored UTC time."""
    try:
        moment = dt.datetime.fromisoformat(seen.replace("Z", "+00:00"))
    except ValueError:
        return seen
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def entries(n: int) -> str:
    return f"{n} entry" if n == 1 else f"{n} entries"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _path_key(path: Path) -> str:
    import hashlib  # OpenSSL's, loaded when first needed (not before the app's first paint)

    return hashlib.sha256(os.fsencode(str(_resolved(path)))).hexdigest()[:40]


def _resolved(path: Path) -> Path:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def _text(path: Path) -> str:
    return os.fsdecode(os.fsencode(str(_resolved(path))))


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------


def _ensure_folder(where: Path) -> None:
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(where)
    except OSError as exc:
        raise WitnessError(f"the audit witness folder {where} cannot be made ({exc.strerror or exc})") from None
    import stat

    if not stat.S_ISDIR(info.st_mode):
        raise WitnessError(f"the audit witness folder {where} is not a folder")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():  # another user's folder: they could forge it
        raise WitnessError(f"the audit witness folder {where} cannot be used: it belongs to another user")
    if stat.S_IMODE(info.st_mode) & 0o077:
        with contextlib.suppress(OSError):
            os.chmod(where, 0o700)


@contextlib.contextmanager
def _locked(where: Path) -> Iterator[None]:
    """The witness folder's lock, held for one read-and-write (other processes wait; a killed one lets go)."""
    _ensure_folder(where)
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(where / "witness.lock", flags, 0o600)
    except OSError as exc:
        raise WitnessError(f"the audit witness in {where} cannot be locked ({exc.strerror or exc})") from None
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - Windows
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
        yield
    finally:
        os.close(fd)  # closing lets the lock go


def _read(path: Path) -> dict | None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WitnessError(f"the audit witness {path} cannot be read ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "rb") as f:
            data = f.read(_MAX_FILE + 1)
    except OSError as exc:
        raise WitnessError(f"the audit witness {path} cannot be read ({exc.strerror or exc})") from None
    try:
        if len(data) > _MAX_FILE:
            raise ValueError("too big")
        value = json.loads(data.decode("utf-8"))
        if not isinstance(value, dict) or value.get("format") != FORMAT:
            raise ValueError("not a witness file")
    except ValueError:
        raise WitnessError(f"the audit witness {path} is damaged (not a TOHtrack witness file)") from None
    return value


def _write(path: Path, value: dict) -> None:
    """The whole file, or the previous one: mkstemp (O_EXCL, 0600) beside it, fsync, rename."""
    temp = None
    try:
        fd, temp = tempfile.mkstemp(prefix=".witness-", suffix=".partial", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            if hasattr(os, "fchmod"):
                os.fchmod(f.fileno(), 0o600)
            f.write(json.dumps(value, ensure_ascii=True, sort_keys=True))
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
        temp = None
        # The folder is not fsync'd: a rename lost to a power cut leaves the previous head, which the trail
        # still extends (a witness behind the file is never a false alarm); that saves a journal commit a write.
    except OSError as exc:
        raise WitnessError(f"the audit witness {path} cannot be written ({exc.strerror or exc})") from None
    finally:
        if temp is not None:
            with contextlib.suppress(OSError):
                os.unlink(temp)


def _anchor(value: dict | None, identity: str, where: Path) -> Anchor | None:
    if value is None:
        return None
    count, head, seen, path = value.get("count"), value.get("head"), value.get("seen"), value.get("path")
    pending = value.get("pending")
    if (value.get("identity") != identity or not _count_and_hash(count, head) or not isinstance(seen, str)
            or not isinstance(path, str)
            or (pending is not None and not (isinstance(pending, list) and len(pending) == 2
                                             and _count_and_hash(*pending)))):
        raise WitnessError(f"the audit witness {where} is damaged (its values are not a witness's)")
    return Anchor(identity, count, head, seen, path, tuple(pending) if pending else None)


def _count_and_hash(count: object, head: object) -> bool:
    return type(count) is int and count >= 0 and isinstance(head, str) and _HASH.fullmatch(head) is not None


def _value(anchor: Anchor) -> dict:
    value = {"format": FORMAT, "identity": anchor.identity, "count": anchor.count, "head": anchor.head,
             "seen": anchor.seen, "path": anchor.path}
    if anchor.pending is not None:
        value["pending"] = list(anchor.pending)
    return value


def _identity_file(where: Path, identity: str) -> Path:
    if not valid_identity(identity):
        raise WitnessError(f"{identity!r} is not a database identity TOHtrack writes")
    return where / f"{identity}.json"


# ---------------------------------------------------------------------------
# Reading and moving on
# ---------------------------------------------------------------------------


def read(identity: str) -> Anchor | None:
    """What this workstation last saw of the database with this identity (None: never seen)."""
    file = _identity_file(folder(), identity)
    return _anchor(_read(file), identity, file)


def before_accepting(identity: str, path: Path) -> tuple[Anchor | None, PathRecord | None, dict | None]:
    """What `check --accept` records before it moves the witness on to the database as it is: (what the witness
    held of this identity, which database it had seen at this path, the acceptance's audit entry's old value).
    Raises WitnessError when the witness is out of reach (it could not be moved either); a damaged entry counts
    as none (it is written again)."""
    held = at_path = None
    try:
        held = read(identity)
    except WitnessError as exc:
        if "damaged" not in str(exc):
            raise
    with contextlib.suppress(WitnessError):
        at_path = seen_at(path)
    old = None if held is None else {"count": held.count, "head": held.head, "seen": held.seen, "path": held.path}
    if at_path is not None and at_path.identity != identity:
        old = dict(old or {}, database_seen_here=at_path.identity)
    return held, at_path, old


def seen_at(path: Path) -> PathRecord | None:
    """Which database this workstation first saw at a path (None: none)."""
    file = folder() / f"path-{_path_key(path)}.json"
    value = _read(file)
    if value is None:
        return None
    pending = value.get("pending_identity")
    if not valid_identity(value.get("identity")) or not isinstance(value.get("seen"), str) \
            or not isinstance(value.get("path"), str) or not (pending is None or valid_identity(pending)):
        raise WitnessError(f"the audit witness {file} is damaged (its values are not a witness's)")
    return PathRecord(value["path"], value["identity"], value["seen"], pending)


def observe(identity: str, count: int, head: str, path: Path, hash_at: Callable[[int], str | None],
            force: bool = False) -> Anchor:
    """Remember a database's trail head (compare and advance); returns what is remembered afterwards.

    Without `force` the head only moves to a longer trail whose entry at the remembered count still has the
    remembered hash (`hash_at(count)`), and a path keeps the database first seen there: a rolled-back,
    truncated, rewritten or replaced file never overwrites the evidence. `force` (a restore, an acceptance)
    moves both to this database as it is.
    """
    where = folder()
    file = _identity_file(where, identity)
    path_file = where / f"path-{_path_key(path)}.json"
    now = _now()
    with _locked(where):
        try:
            current = _anchor(_read(file), identity, file)
        except WitnessError:
            if not force:  # kept as found, for `check` to say; an acceptance starts it again
                raise
            current = None
        new = Anchor(identity, count, head, now, _text(path))
        if current is None or force or follows(current, count, hash_at) or (
                count > current.count and hash_at(current.count) == current.head):
            _write(file, _value(new))
            current = new
        try:
            at_path = seen_at(path)
        except WitnessError:
            if not force:
                raise
            at_path = None
        if at_path is None or (at_path.identity != identity and (force or at_path.pending_identity == identity)):
            _write(path_file, {"format": FORMAT, "path": _text(path), "identity": identity, "seen": now})
    return current


def follows(anchor: Anchor, count: int, hash_at: Callable[[int], str | None]) -> bool:
    """Whether a trail of `count` entries is the backup being restored, or has grown from it."""
    return anchor.pending is not None and count >= anchor.pending[0] and hash_at(anchor.pending[0]) == anchor.pending[1]


def expect(identity: str, count: int, head: str, path: Path) -> None:
    """Before a restore copies a backup (this identity, count, head) in at `path`: let the trail become it, so
    that a restore killed between copying and moving the witness does not read as a rollback afterwards."""
    where = folder()
    file = _identity_file(where, identity)
    path_file = where / f"path-{_path_key(path)}.json"
    with _locked(where):
        current = _anchor(_read(file), identity, file) or Anchor(identity, count, head, _now(), _text(path))
        _write(file, _value(Anchor(identity, current.count, current.head, current.seen, current.path,
                                   (count, head))))
        at_path = seen_at(path)
        if at_path is not None and at_path.identity != identity:
            _write(path_file, {"format": FORMAT, "path": at_path.path, "identity": at_path.identity,
                               "seen": at_path.seen, "pending_identity": identity})


def verify(store) -> tuple[list[str], list[str]]:
    """Hold an open database's audit trail against this workstation's witness: (problems, notes).

    Problems: a file replaced by another database, a trail behind what was seen (rolled back to an older copy,
    or its tail removed), a trail that differs at the count seen (recomputed after a change). Notes: never seen
    (nothing to compare with, remembered from now on), the witness out of reach, or that it matches. A trail
    that matches and has grown moves the witness on.
    """
    identity = store.identity()
    if identity is None:
        if store.has_identity_table():  # said by the store's own check
            return [], []
        return [], ["audit anchor: this database has no identity yet (written by an older TOHtrack), so this "
                    "workstation cannot hold its trail against what it saw; it gets one when next opened for writing"]
    if not valid_identity(identity):
        return [], []  # said by the store's own check
    count, head = store.audit_head()
    try:
        held, at_path = read(identity), seen_at(store.path)
    except WitnessError as exc:
        return [], [f"audit anchor: {exc}; the audit trail was checked within the file only"
                    + ("; 'tohtrack check --accept' starts it again" if "damaged" in str(exc) else "")]
    problems: list[str] = []
    notes: list[str] = []
    if at_path is not None and at_path.identity != identity and at_path.pending_identity != identity:
        other = None
        with contextlib.suppress(WitnessError):
            other = read(at_path.identity)
        last = f" (last seen on {other.when} with {other.count} audit entries)" if other else ""
        problems.append(f"audit anchor: this is not the database this workstation first saw at {store.path} on "
                        f"{seen_words(at_path.seen)}{last}: the file was replaced by another database")
    where = "" if held is None or held.path == _text(store.path) else f" at {held.path}"
    restored = held is not None and follows(held, count, store.hash_at) and not (
        count >= held.count and store.hash_at(held.count) == held.head)
    if held is None:
        notes.append(f"audit anchor: this workstation has not seen this database before, so there is nothing to "
                     f"hold its audit trail against; it remembers it from now on ({count} entries)")
    elif restored:
        notes.append(f"audit anchor: the trail is the backup restored here ({held.pending[0]} entries"
                     + (f", {count - held.pending[0]} added since)" if count > held.pending[0] else ")"))
    elif count < held.count:
        problems.append(f"audit anchor: this database is {entries(held.count - count)} behind what this workstation "
                        f"last saw on {held.when}{where} ({held.count} entries, now {count}): its last changes were "
                        "removed, or an older copy was put in its place")
    elif store.hash_at(held.count) != held.head:
        problems.append(f"audit anchor: the audit trail was rewritten: entry {held.count} does not have the hash "
                        f"this workstation saw on {held.when}{where} ({held.head[:12]}…, now "
                        f"{(store.hash_at(held.count) or '')[:12]}…): entries were changed and the chain recomputed, "
                        "or this copy went its own way")
    else:
        grown = f", {count - held.count} added since" if count > held.count else ""
        notes.append(f"audit anchor: the trail matches what this workstation last saw on {held.when} "
                     f"({held.count} entries{grown})")
    if not problems and (held is None or count > held.count or at_path is None or restored
                         or at_path.identity != identity):
        try:
            observe(identity, count, head, store.path, store.hash_at)
        except WitnessError as exc:
            notes.append(f"audit anchor: {exc}")
    return problems, notes
