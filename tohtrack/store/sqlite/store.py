"""The SQLite backend of the storage gateway: opens the file, migrates it, reads records and writes them with audit."""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import datetime as dt
import functools
import inspect
import itertools
import json
import operator
import os
import sqlite3
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Sequence


from tohtrack import model, settings as settings_mod
from tohtrack.store.errors import (BackendMissing, ConflictError, DatabaseDamaged, DatabaseTooNew, DiskFull, NotADatabaseFile,
                                   NotATohtrackDatabase, NotFound, StoreBusy, StoreError, StoreReadOnly)
from tohtrack.store.schema import APPLICATION_ID, MIGRATION_SET, SCHEMA

if TYPE_CHECKING:  # names for annotations (sqlite-utils costs ~55 ms to import: only for an upgrade, tohtrack.migrations)
    from tohtrack import registry as registry_mod, summary as summary_mod, witness
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations
from tohtrack.model import (
    Episode,
    ImagingStudy,
    Patient,
    Problem,
    SymptomRecord,
    Treatment,
    ValidationError,
)
from tohtrack.perf import gc_paused

BUSY_TIMEOUT_MS = 120_000  # a write waits this long for another writer to finish
WAIT_NOTICE_MS = 2000  # then, if still waiting, `Store.on_wait` is told (the command line says so on stderr)
GENESIS_HASH = "0" * 64
#: Hex digits of the head hash in an audit seal: 48 bits, far beyond grinding one entry to match a printed seal.
SEAL_DIGITS = 12


def _warn(text: str) -> None:
    """A warning on standard error (the witness could not be updated; the change itself stands)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        print(f"tohtrack: warning: {text}", file=sys.stderr)
_CHUNK = 500  # ids per IN (...) query, well under SQLite's variable limit


# ---------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------


def default_path() -> Path:
    """$TOHTRACK_DB, else tohtrack.sqlite3 in the per-user data directory."""
    env = os.environ.get("TOHTRACK_DB")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("tohtrack", appauthor=False)) / "tohtrack.sqlite3"


def backup_dir(path: Path) -> Path:
    """Where automatic backups of a database file go: a folder beside it."""
    return path.parent / f"{path.stem}-backups"


def _create_private(path: Path) -> None:
    """Create an empty file readable by its owner only (SQLite gives -wal/-shm the same mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)


def fold(text: str) -> str:
    """Lower case without accents, for search keys: 'Müller' -> 'muller'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().strip()


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _os_user() -> str:
    try:
        import getpass  # when first needed: it loads the terminal module

        return getpass.getuser()
    except Exception:  # no login name (containers, services)
        return f"uid:{os.getuid()}" if hasattr(os, "getuid") else "unknown"


# ---------------------------------------------------------------------------
# Tables and their records
# ---------------------------------------------------------------------------


def _date_out(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _date_in(value: str | None) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(value)


def _bool_out(value: bool | None) -> int | None:
    return None if value is None else int(bool(value))


def _bool_in(value: int | None) -> bool | None:
    return None if value is None else bool(value)


def _list_out(value: list) -> str:
    return json.dumps(list(value)) if value else "[]"


def _list_in(value: str) -> list:
    return json.loads(value) if value != "[]" else []


class Table:
    """How one record class is stored: its table, parent link, column conversions and defaults."""

    def __init__(self, name: str, cls: type, parent: str | None, columns: tuple[str, ...],
                 dates: Iterable[str] = (), bools: Iterable[str] = (), lists: Iterable[str] = (),
                 defaults: dict[str, Any] | None = None):
        self.name, self.cls, self.parent = name, cls, parent
        self.columns = columns  # stored, audited columns (parent link first), without id and version
        self.defaults = {c: (defaults or {}).get(c) for c in columns}
        own = [c for c in columns if c != parent]
        out = {**{c: _date_out for c in dates}, **{c: _bool_out for c in bools}, **{c: _list_out for c in lists}}
        back = {**{c: _date_in for c in dates}, **{c: _bool_in for c in bools}, **{c: _list_in for c in lists}}
        self._out = [(c, out.get(c)) for c in own]
        # For bulk writes: the own fields in one call, then the few that are converted.
        self._own = tuple(own)
        self._get = operator.attrgetter(*own) if len(own) > 1 else (lambda record: (getattr(record, own[0]),))
        self._converts = tuple((i, convert) for i, (_, convert) in enumerate(self._out) if convert is not None)
        self._own_defaults = tuple(self.defaults[c] for c in own)
        stored = [f'"{c}"' for c in ([parent] if parent else []) + own]
        self.insert = f"INSERT INTO {name} (id, {', '.join(stored)}) VALUES ({', '.join('?' * (len(stored) + 1))})"
        # For bulk reads: id, version, parent link, then the record's own fields in dataclass order.
        self.select = ", ".join(["id", "version", parent or "NULL", *(f'"{c}"' for c in own)])
        self._positional = [back.get(c) for c in own]

    def default(self, column: str) -> Any:
        return self.defaults[column]

    def to_row(self, record: Any) -> dict[str, Any]:
        """The stored column values of a record (without its parent link)."""
        return dict(zip(self._own, self.values(record)))

    def values(self, record: Any) -> list[Any]:
        """The stored values of a record's own columns, in column order (the bulk form of to_row)."""
        values = list(self._get(record))
        for i, convert in self._converts:
            values[i] = convert(values[i])
        return values

    def created_from(self, parent_id: Any, values: list[Any]) -> dict[str, Any]:
        """`created` of the row (parent link, then `values` of the own columns), without making the row."""
        created = {self.parent: parent_id} if parent_id != self.defaults[self.parent] else {}
        created.update(itertools.compress(zip(self._own, values), map(operator.ne, values, self._own_defaults)))
        return created

    def from_tuple(self, row: Sequence[Any]) -> Any:
        """A record from a row selected with `self.select` (positional: the fast path for whole cohorts)."""
        values = [convert(v) if convert is not None and v is not None else v
                  for convert, v in zip(self._positional, row[3:])]
        return self.cls(*values, id=row[0], version=row[1])

    def created(self, row: dict[str, Any]) -> dict[str, Any]:
        """A create entry's values: those that differ from the column default."""
        defaults = self.defaults
        return {c: v for c, v in row.items() if c in defaults and v != defaults[c]}


def _columns(cls: type, parent: str | None, skip: Iterable[str] = ()) -> tuple[str, ...]:
    skip = set(skip) | {"id", "version"}
    names = tuple(f.name for f in dataclasses.fields(cls) if f.name not in skip)
    return ((parent,) if parent else ()) + names


PATIENTS = Table(
    "patients", Patient, None, _columns(Patient, None, ["episodes"]),
    dates={"birth_date"}, bools={"archived"}, defaults={"archived": 0, "notes": ""},
)
EPISODES = Table(
    "episodes", Episode, "patient_id", _columns(Episode, "patient_id", ["imaging", "symptoms", "treatments"]),
    dates={"symptom_onset", "resolved_on"}, lists={"avn_risk_factors"},
    defaults={"avn_risk_factors": "[]", "notes": "", "diagnosis": model.TOH},
)
IMAGING = Table(
    "imaging", ImagingStudy, "episode_id", _columns(ImagingStudy, "episode_id"),
    dates={"date"}, bools=model.FINDINGS, lists={"edema_regions"},
    defaults={"edema_regions": "[]", "accession": "", "report": ""},
)
SYMPTOMS = Table(
    "symptoms", SymptomRecord, "episode_id", _columns(SymptomRecord, "episode_id"),
    dates={"date"}, defaults={"function_instrument": "", "note": ""},
)
TREATMENTS = Table(
    "treatments", Treatment, "episode_id", _columns(Treatment, "episode_id"),
    dates={"start", "end"}, defaults={"detail": ""},
)
SETTINGS = Table("settings", dict, None, ("key", "value"))
FINDING_TABLES = {ImagingStudy: IMAGING, SymptomRecord: SYMPTOMS, Treatment: TREATMENTS}
TABLES = {t.name: t for t in (PATIENTS, EPISODES, IMAGING, SYMPTOMS, TREATMENTS, SETTINGS)}
# Order findings the way the interchange format and the assessment expect.
_ORDER = {"imaging": "date, coalesce(time, ''), id", "symptoms": "date, id", "treatments": "start, id"}


def _q(name: str) -> str:
    return f'"{name}"'


class MrnSet(set):
    """A set of stored MRNs whose `in` compares as MRNs compare (model.mrn_key), from (mrn, mrn_key) rows."""

    def __init__(self, rows: Iterable[tuple[str, str | None]] = ()):
        rows = list(rows)
        super().__init__(mrn for mrn, _ in rows)
        self._keys = {key if key is not None else model.mrn_key(mrn) for mrn, key in rows}

    def __contains__(self, mrn: object) -> bool:
        return isinstance(mrn, str) and model.mrn_key(mrn) in self._keys


@dataclass
class AuditEntry:
    """An audit entry as read back: when, who (OS user and clinician), the table and row, the action, old and new."""

    id: int
    at: str
    os_user: str
    clinician: str
    table_name: str
    row_id: int
    patient_id: int | None
    action: str
    old: dict | None
    new: dict | None
    mrn: str | None = None


def _entry_hash(prev: str, values: Sequence[Any]) -> str:
    import hashlib  # OpenSSL's, loaded with the first audit entry (not before the app's first paint)

    text = prev + "\x1e" + "\x1f".join(["\x00" if v is None else str(v) for v in values])  # NULL is not the empty text
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
try:  # the same encoding, without making an encoder for each entry (an import writes one per record)
    from json.encoder import c_make_encoder as _c_make_encoder, encode_basestring as _encode_basestring

    _c_encode = _c_make_encoder(None, json.JSONEncoder().default, _encode_basestring, None, ":", ",",
                                False, False, True) if _c_make_encoder is not None else None
except ImportError:  # pragma: no cover - a Python without the C accelerator
    _c_encode = None


def _dump(values: dict | None) -> str | None:
    """Audit values as compact JSON, in column order."""
    if values is None:
        return None
    return "".join(_c_encode(values, 0)) if _c_encode is not None else _encode(values)


# ---------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------


class Store:
    """An open TOHtrack database. Every write is one transaction with its audit entries."""

    @property
    def clinician(self) -> str:
        """Who is making changes (stored with every audit entry beside the OS user); "" when nobody is named."""
        return self._clinician

    @clinician.setter
    def clinician(self, name: str) -> None:
        """One line of at most 100 characters under the character rules (model.check_clinician), else
        ValidationError naming 'clinician'; spaces at the ends are dropped, and a name of spaces only is none."""
        name = "" if name is None else name
        problem = model.check_clinician(name)
        if problem:
            raise ValidationError([Problem("clinician", problem)])
        self._clinician = "" if model.is_blank(name) else name.strip()

    def __init__(self, path: str | os.PathLike | None = None, *, clinician: str = "",
                 migration_set: "Migrations | None" = None, readonly: bool = False):
        self._depth = 1  # inside the gateway: its own handlers see the driver's errors (see _translating)
        self.clinician = clinician  # checked first: a name that would be refused opens nothing
        self.path = Path(path) if path is not None else default_path()
        self.os_user = _os_user()
        self.readonly = readonly
        self._migrations = migration_set
        self._appended = False  # audit entries were appended in the open transaction (tohtrack.witness)
        #: Why the witness could not be updated after the last commit (the commit itself stood), else None.
        self.witness_problem: str | None = None
        self.on_wait: "Callable[[str], None] | None" = None  # told when a write has waited WAIT_NOTICE_MS
        try:
            self.conn = self._connect()
        except sqlite3.DatabaseError as exc:
            raise _open_error(self.path, exc) from None
        except OSError as exc:
            kind = StoreReadOnly if exc.errno in (errno.EACCES, errno.EROFS) else StoreError
            raise kind(f"{self.path}: cannot create the database ({exc.strerror})") from None
        self._db: "Database | None" = None
        self._mrn_keys: bool | None = None
        self.last_migration_backup: Path | None = None
        self.migration_warnings: list[str] = []
        try:
            self._check_identity()
            self._configure()
            if not readonly:
                self._migrate()
        except BaseException:
            self.conn.close()
            raise
        self._depth = 0

    # -- opening -----------------------------------------------------------

    @property
    def db(self) -> "Database":
        """sqlite-utils over the connection, made on first use (for migrations; imports take time)."""
        if self._db is None:
            from sqlite_utils import Database

            self._db = Database(self.conn, execute_plugins=False)  # no third-party plugins on our data
        return self._db

    @property
    def migration_set(self) -> "Migrations":
        if self._migrations is None:
            from .migrations import migrations

            self._migrations = migrations
        return self._migrations

    def _known_migrations(self) -> list[str]:
        if self._migrations is None:
            return list(SCHEMA)
        from .migrations import known_names

        return known_names(self._migrations)

    def applied_migrations(self) -> list[str]:
        """The names of the migrations applied to this file, in order (plain SQL: no sqlite-utils)."""
        name = self._migrations.name if self._migrations is not None else MIGRATION_SET
        if not self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = "
                                 "'_sqlite_migrations'").fetchone():
            return []
        return [r[0] for r in self.conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid", (name,))]

    def _connect(self) -> sqlite3.Connection:
        self._present_columns: dict[str, set[str]] = {}  # per table, read when first needed (_columns_sql)
        if self.path.parts and self.path.parts[0].lower() in ("postgresql:", "postgres:"):
            # A server's URL made a path ('postgresql://host/db' -> 'postgresql:/host/db'): never a file.
            from tohtrack.store import shown_url

            url = shown_url(self.path.parts[0] + "//" + "/".join(self.path.parts[1:]))
            raise BackendMissing(f"{url}: a PostgreSQL database URL, not a SQLite file; this part of TOHtrack "
                                 "opens database files only; nothing was opened or created")
        if self.path.is_dir():
            raise StoreError(f"{self.path}: is a folder, not a database file")
        if self.path.exists() and not self.path.is_file():  # a FIFO would hang SQLite, a device feed it forever
            raise NotADatabaseFile(f"{self.path}: is a FIFO, a device or a socket, not a database file")
        if self.readonly:
            if not self.path.exists():
                raise StoreError(f"{self.path}: no database there")
            uri = self.path.resolve().as_uri() + "?mode=ro"  # percent-encoded: '?', '#' and '%' in names are safe
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        else:
            if not self.path.exists():
                with contextlib.suppress(FileExistsError):  # another workstation created it at the same moment
                    _create_private(self.path)
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    def _configure(self) -> None:
        """WAL and full sync; only once the file is known to be ours (switching to WAL writes the header)."""
        try:
            if not self.readonly:
                mode = self._switch_to_wal()
                if mode.lower() != "wal":
                    raise StoreError(f"{self.path}: could not switch the database to WAL mode ({mode})")
            self.conn.execute("PRAGMA synchronous = FULL")
        except sqlite3.DatabaseError as exc:
            raise _open_error(self.path, exc) from None

    def _switch_to_wal(self) -> str:
        """PRAGMA journal_mode = WAL, retried while busy: on a new file two workstations opening it at once
        deadlock on the switch, and SQLite then answers 'locked' at once instead of waiting busy_timeout."""
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                return self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def _check_identity(self) -> None:
        try:
            # Tables first: if another workstation is creating the file right now, its tables and its
            # application id appear in one commit, so tables seen here mean its id is seen next.
            tables = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            app_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            raise _open_error(self.path, exc) from None
        if app_id != APPLICATION_ID and tables:
            raise NotATohtrackDatabase(f"{self.path}: this is an SQLite database, but not a TOHtrack one")
        try:
            applied = set(self.applied_migrations())
        except sqlite3.DatabaseError as exc:
            raise _open_error(self.path, exc) from None
        unknown = applied - set(self._known_migrations())
        if unknown:
            raise DatabaseTooNew(
                f"{self.path}: this database was written by a newer TOHtrack "
                f"(schema {', '.join(sorted(unknown))}); update TOHtrack to open it"
            )
        if self.readonly and not applied:  # an empty file: nothing to read (a write would set it up)
            raise NotATohtrackDatabase(f"{self.path}: not a TOHtrack database (the file is empty)")

    def _migrate(self) -> None:
        """Apply pending migrations all or nothing, after a backup if the file holds data."""
        applied = self.applied_migrations()
        pending = [name for name in self._known_migrations() if name not in applied]
        if not pending:
            return
        if applied:  # the file holds data
            stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
            target = _unused(backup_dir(self.path) / f"{self.path.stem}-before-{pending[0]}-{stamp}.sqlite3")
            self.backup(target)
            self.last_migration_backup = target
        self._present_columns = {}
        try:
            with self.transaction():
                self.migration_set.apply(self.db)
        except (sqlite3.DatabaseError, StoreError) as exc:
            detail = str(exc).removeprefix(f"{self.path}: ")
            cause = exc if isinstance(exc, StoreError) else _write_error(self.path, exc)
            kind = type(cause) if isinstance(cause, (StoreBusy, StoreReadOnly, DiskFull)) else StoreError
            raise kind(f"{self.path}: upgrading the database failed, nothing was changed ({detail})") from None
        self._mrn_keys = None
        if "m005_mrn_key" in pending:
            # MRNs that were distinct before the MRN rules and are the same under them: named, not refused.
            self.migration_warnings += self.mrn_key_clashes()
        self._after_commit()  # a database that just got its identity is anchored as it is (first sight)

    def close(self) -> None:
        self.conn.close()

    def reopen(self, *, readonly: bool = True) -> "Store":
        """Another connection to the same database, e.g. for a worker thread (open it in that thread: a
        connection stays in the thread that made it)."""
        return Store(self.path, clinician=self.clinician, readonly=readonly)

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transactions --------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator["Store"]:
        """One write transaction (BEGIN IMMEDIATE: takes the write lock up front, waits busy_timeout)."""
        if self.conn.in_transaction:
            with self.db.atomic():
                yield self
            return
        try:
            self._begin_immediate()
        except sqlite3.OperationalError as exc:
            raise _write_error(self.path, exc) from None
        self._appended = False
        try:
            yield self
            self.conn.execute("COMMIT")
        except sqlite3.DatabaseError as exc:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise _write_error(self.path, exc) from None
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        if self._appended:  # the one place a commit that appended audit entries passes: move the witness on
            self._appended = False
            self._after_commit()

    def _begin_immediate(self) -> None:
        """BEGIN IMMEDIATE, waiting up to BUSY_TIMEOUT_MS for another writer; after WAIT_NOTICE_MS says so."""
        first = min(WAIT_NOTICE_MS, BUSY_TIMEOUT_MS)
        if first >= BUSY_TIMEOUT_MS or self.on_wait is None:
            self.conn.execute("BEGIN IMMEDIATE")
            return
        self.conn.execute(f"PRAGMA busy_timeout = {first}")
        try:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
            self.on_wait(f"{self.path}: waiting for another workstation or window to finish writing "
                         f"(up to {BUSY_TIMEOUT_MS // 1000} s)…")
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS - first}")
            self.conn.execute("BEGIN IMMEDIATE")
        finally:
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")

    # -- audit -----------------------------------------------------------------

    def _audit(self, entries: list[tuple[str, int, int | None, str, dict | None, dict | None]]) -> None:
        """Append audit entries (table, row id, patient id, action, old, new) to the hash chain."""
        if not entries:
            return
        self._appended = True
        last = self.conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        next_id, prev = (last["id"] + 1, last["hash"]) if last else (1, GENESIS_HASH)
        at = utc_now()
        rows = []
        for table, row_id, patient_id, action, old, new in entries:
            values = (next_id, at, self.os_user, self.clinician, table, row_id, patient_id, action,
                      _dump(old), _dump(new))
            prev = _entry_hash(prev, values)
            rows.append(values + (prev,))
            next_id += 1
        self.conn.executemany(
            "INSERT INTO audit (id, at, os_user, clinician, table_name, row_id, patient_id, action, old, new, hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)

    # -- the witness outside the file (tohtrack.witness) ------------------------------

    def identity(self) -> str | None:
        """The database's random identity (None: a database from before m004_audit_identity, or it was removed)."""
        try:
            row = self.conn.execute("SELECT identity FROM audit_identity WHERE id = 1").fetchone()
        except sqlite3.OperationalError:  # no such table
            return None
        return row[0] if row else None

    def has_identity_table(self) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_identity'"
                                 ).fetchone() is not None

    def audit_head(self) -> tuple[int, str]:
        """(entry count, head hash) of the trail: the last entry's id and hash; (0, the genesis hash) if empty."""
        row = self.conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)  # str: a hash forged as a number

    def hash_at(self, count: int) -> str | None:
        """The hash of the trail when it had `count` entries (None: it has fewer)."""
        if count == 0:
            return GENESIS_HASH
        row = self.conn.execute("SELECT hash FROM audit WHERE id = ?", (count,)).fetchone()
        return str(row[0]) if row else None

    def audit_seal(self) -> str:
        """The trail's head as printed on reports: 'entries·hash prefix', e.g. '1234·9f3a7c21d0e4'."""
        count, head = self.audit_head()
        return f"{count}·{head[:SEAL_DIGITS]}"

    def verify_seal(self, seal: str) -> list[str]:
        """What is wrong when the printed seal is held against this database's trail (empty: it matches).

        Raises ValueError for text that is not a seal."""
        count, prefix = parse_seal(seal)
        have, _ = self.audit_head()
        at = self.hash_at(count)
        if at is None:
            return [f"seal {count}·{prefix}: this database's audit trail has {have} entries, fewer than the {count} "
                    "it had when the report was printed: entries were removed, or this is an older copy"]
        if not at.startswith(prefix):
            return [f"seal {count}·{prefix}: does not match: entry {count} of this database's audit trail has "
                    "another hash: the trail up to that entry was changed since the report was printed, or the "
                    "report is from another database"]
        return []

    def _after_commit(self, force: bool = False) -> None:
        """Move the witness on to the trail as committed (never raises: the commit itself stands)."""
        from tohtrack import witness  # the audit anchor, loaded when first used (not at start-up)

        try:
            identity = self.identity()
            if identity is None:
                return
            count, head = self.audit_head()
            witness.observe(identity, count, head, self.path, self.hash_at, force=force)
            self.witness_problem = None
        except (witness.WitnessError, sqlite3.DatabaseError, StoreError) as exc:
            self.witness_problem = str(exc)
            _warn(f"{exc}; the change itself was saved")

    def accept_as_seen(self) -> tuple["witness.Anchor | None", "witness.PathRecord | None", int, str]:
        """Accept this database as it is (a copy put in place by hand): an audit entry saying what the witness
        held and what the file has, then the witness moved to it. Returns (what the witness held, which database
        it had seen at this path, entries, head) as they were before."""
        from tohtrack import witness  # the audit anchor, loaded when first used (not at start-up)

        identity = self.identity()
        if identity is None or not witness.valid_identity(identity):
            raise StoreError(f"{self.path}: this database has no valid identity to anchor (it was removed or "
                             "changed outside TOHtrack)")
        try:
            held, at_path, old = witness.before_accepting(identity, self.path)
        except witness.WitnessError as exc:  # out of reach: it could not be moved either
            raise StoreError(f"{exc}; nothing was accepted") from None
        count, head = self.audit_head()
        with self.transaction():
            self._audit([("database", 1, None, "accept", old,
                          {"count": count, "head": head, "path": witness._text(self.path)})])
            self._appended = False  # moved below, by force
        self._after_commit(force=True)
        if self.witness_problem:
            raise StoreError(f"{self.witness_problem}; the acceptance is in the audit trail, but the witness "
                             "could not be moved")
        return held, at_path, count, head

    def audit_entries(self, patient_id: int | None = None) -> Iterator[AuditEntry]:
        sql = ("SELECT audit.*, patients.mrn FROM audit LEFT JOIN patients ON patients.id = audit.patient_id")
        params: list[Any] = []
        if patient_id is not None:
            sql += " WHERE audit.patient_id = ?"
            params.append(patient_id)
        for row in self.conn.execute(sql + " ORDER BY audit.id", params):
            yield AuditEntry(row["id"], row["at"], row["os_user"], row["clinician"], row["table_name"],
                             row["row_id"], row["patient_id"], row["action"],
                             json.loads(row["old"]) if row["old"] else None,
                             json.loads(row["new"]) if row["new"] else None, row["mrn"])

    # -- generic row writes ----------------------------------------------------

    def _next_ids(self, table: Table, count: int) -> Iterator[int]:
        # Never reuse the id of a removed row: its audit trail stays its own.
        start = self.conn.execute(
            f"SELECT max(coalesce((SELECT max(id) FROM {table.name}), 0),"
            " coalesce((SELECT max(row_id) FROM audit WHERE table_name = ?), 0)) + 1", (table.name,)).fetchone()[0]
        return iter(range(start, start + count))

    def _insert_rows(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        columns = list(rows[0])
        missing = [c for c in self._missing_columns(table) if c in columns]
        if missing:  # a file from before the migration that adds them (see _missing_columns)
            if any(row[c] is not None for row in rows for c in missing):
                raise StoreError(f"{self.path}: the database has no column {', '.join(missing)} (not upgraded)")
            columns = [c for c in columns if c not in missing]
        sql = (f"INSERT INTO {table.name} ({', '.join(map(_q, columns))}) "
               f"VALUES ({', '.join('?' for _ in columns)})")
        self.conn.executemany(sql, map(operator.itemgetter(*columns), rows))

    def _update_row(self, table: Table, row_id: int, version: int | None, new: dict[str, Any],
                    patient_id: int | None, extra: dict[str, Any] | None = None) -> int:
        """Update the changed columns of a row if its version is current; audit it; return the new version."""
        current = self._current(table, row_id, version)
        changed = {c: v for c, v in new.items() if current[c] != v}
        if not changed:
            return current["version"]
        assignments = dict(changed, **(extra or {}))
        self.conn.execute(
            f"UPDATE {table.name} SET {', '.join(f'{_q(c)} = ?' for c in assignments)}, version = version + 1 "
            "WHERE id = ?", (*assignments.values(), row_id))
        self._audit([(table.name, row_id, patient_id, "update",
                      {c: current[c] for c in changed}, changed)])
        return current["version"] + 1

    def _current(self, table: Table, row_id: int, version: int | None) -> sqlite3.Row:
        """The row as stored, if it is still the version the user read (None: any version)."""
        current = self.conn.execute(f"SELECT * FROM {table.name} WHERE id = ?", (row_id,)).fetchone()
        if current is None:
            raise ConflictError(f"this {_noun(table)} was removed by another window or workstation")
        if version is not None and current["version"] != version:
            raise ConflictError(
                f"this {_noun(table)} was changed by another window or workstation since you opened it "
                f"(version {current['version']}, yours {version}); reload to see the changes")
        return current

    def _delete_row(self, table: Table, row_id: int, version: int | None, patient_id: int | None) -> None:
        current = self._current(table, row_id, version)
        self.conn.execute(f"DELETE FROM {table.name} WHERE id = ?", (row_id,))
        self._audit([(table.name, row_id, patient_id, "delete",
                      {c: current[c] for c in table.columns}, None)])

    # -- adding whole patients (import, demo) ----------------------------------

    def add_patients(self, patients: Sequence[Patient], paths: Sequence[str] | None = None,
                     today: dt.date | None = None, validate: bool = True) -> int:
        """Add patients with their whole histories in one transaction; all or nothing.

        Raises ValidationError naming every problem (paths as given, default patients[i]).
        """
        paths = list(paths) if paths is not None else [f"patients[{i}]" for i in range(len(patients))]
        problems = model.check_patients(list(patients), paths, today) if validate else []
        try:
            with self.transaction():
                problems += self.mrn_clashes(patients, paths)
                if problems:
                    raise ValidationError(problems)
                self._insert_patients(patients)
        except BaseException:
            _forget_ids(patients)
            raise
        return len(patients)

    def mrn_clashes(self, patients: Sequence[Patient], paths: Sequence[str]) -> list[Problem]:
        """A problem for each patient whose MRN is already in the database (as MRNs compare: model.mrn_key)."""
        existing = self.existing_mrns([p.mrn for p in patients])
        problems = []
        for p, path in zip(patients, paths):
            found = existing.get(model.mrn_key(p.mrn)) if isinstance(p.mrn, str) else None
            if found is not None:
                stored, archived = found
                what = f"{p.mrn!r} already exists" if stored == p.mrn else f"{p.mrn!r} is the same MRN as {stored!r}"
                problems.append(Problem(model.join(path, "mrn"), f"{what} in the database"
                                        + (" (archived)" if archived else "")))
        return problems

    def existing_mrns(self, mrns: Iterable[str]) -> dict[str, tuple[str, bool]]:
        """Which of these MRNs exist: {mrn_key: (the MRN as stored, archived)}."""
        found: dict[str, tuple[str, bool]] = {}
        keys = list(dict.fromkeys(model.mrn_key(m) for m in mrns if isinstance(m, str)))
        if not self._has_mrn_keys():  # a file from before the MRN keys (opened read-only, or in tests)
            wanted = set(keys)
            for mrn, archived in self.conn.execute("SELECT mrn, archived FROM patients ORDER BY id"):
                if model.mrn_key(mrn) in wanted:
                    found.setdefault(model.mrn_key(mrn), (mrn, bool(archived)))
            return found
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i:i + _CHUNK]
            for row in self.conn.execute(
                    f"SELECT mrn_key, mrn, archived FROM patients WHERE mrn_key IN ({','.join('?' * len(chunk))})",
                    chunk):
                found[row[0]] = (row[1], bool(row[2]))
        return found

    def all_mrns(self) -> "MrnSet":
        """Every MRN stored; `in` compares as MRNs compare (model.mrn_key)."""
        if not self._has_mrn_keys():
            return MrnSet((mrn, None) for (mrn,) in self.conn.execute("SELECT mrn FROM patients"))
        return MrnSet(self.conn.execute("SELECT mrn, mrn_key FROM patients"))

    def _has_mrn_keys(self) -> bool:
        """Whether the file has the MRN key column (m005; not yet in an old file opened read-only)."""
        if self._mrn_keys is None:
            self._mrn_keys = any(r[1] == "mrn_key" for r in self.conn.execute("PRAGMA table_info(patients)"))
        return self._mrn_keys

    def mrn_key_clashes(self) -> list[str]:
        """Patients whose MRN is the same as another's under the MRN rules (possible only in a database from
        before those rules: the upgrade leaves them without a key, and `check` names them until one is changed)."""
        if not self._has_mrn_keys():
            return []
        rows = self.conn.execute("SELECT id, mrn FROM patients WHERE mrn_key IS NULL ORDER BY id").fetchall()
        out = []
        for row_id, mrn in rows:
            other = self.conn.execute("SELECT id, mrn FROM patients WHERE mrn_key = ?",
                                      (model.mrn_key(mrn),)).fetchone()
            same = f"the same MRN as patients row {other[0]} ({other[1]!r})" if other else "without an MRN key"
            out.append(f"patients row {row_id} ({mrn!r}) has {same} once case, width and invisible characters "
                       "are set aside: give one of them another MRN (Edit patient)")
        return out

    def _insert_patients(self, patients: Sequence[Patient]) -> None:
        """Bulk insert with ids assigned here, so that each table takes one executemany."""
        rows: dict[str, list[dict[str, Any]]] = {"patients": []}
        records: dict[str, list[tuple]] = {t.name: [] for t in (EPISODES, IMAGING, SYMPTOMS, TREATMENTS)}
        audit: list[tuple] = []
        n_episodes = sum(len(p.episodes) for p in patients)
        patient_ids = self._next_ids(PATIENTS, len(patients))
        keyed = self._has_mrn_keys()
        episode_ids = self._next_ids(EPISODES, n_episodes)
        finding_ids = {
            t.name: self._next_ids(t, sum(len(getattr(e, t.name)) for p in patients for e in p.episodes))
            for t in (IMAGING, SYMPTOMS, TREATMENTS)
        }
        for patient in patients:
            pid = next(patient_ids)
            row = PATIENTS.to_row(patient)
            audit.append(("patients", pid, pid, "create", None, PATIENTS.created(row)))
            row.update(id=pid, family_key=fold(patient.family_name), given_key=fold(patient.given_name))
            if keyed:
                row["mrn_key"] = model.mrn_key(patient.mrn)
            rows["patients"].append(row)
            patient.id, patient.version = pid, 1
            for episode in patient.episodes:
                eid = next(episode_ids)
                values = EPISODES.values(episode)
                audit.append(("episodes", eid, pid, "create", None, EPISODES.created_from(pid, values)))
                records["episodes"].append((eid, pid, *values))
                episode.id, episode.version = eid, 1
                for table in (IMAGING, SYMPTOMS, TREATMENTS):
                    ids, name, out = finding_ids[table.name], table.name, records[table.name]
                    for record in getattr(episode, name):
                        fid = next(ids)
                        values = table.values(record)
                        audit.append((name, fid, pid, "create", None, table.created_from(eid, values)))
                        out.append((fid, eid, *values))
                        record.id, record.version = fid, 1
        self._insert_rows(PATIENTS, rows["patients"])
        for table in (EPISODES, IMAGING, SYMPTOMS, TREATMENTS):  # rows as tuples: (id, parent, own columns)
            if records[table.name]:
                self.conn.executemany(*self._tuple_insert(table, records[table.name]))
        self._audit(audit)

    def _missing_columns(self, table: Table) -> list[str]:
        """The table's columns this file does not have: a file from before a migration that adds columns (m006),
        opened in tests with an older migration set. Production files are upgraded before any write."""
        present = self._present_columns.get(table.name)
        if present is None:
            self._columns_sql(table, ())  # reads them
            present = self._present_columns[table.name]
        return [c for c in table.columns if c not in present]

    def _tuple_insert(self, table: Table, rows: list[tuple]) -> tuple[str, list[tuple]]:
        """`table.insert` and its rows, less the columns the file does not have (whose values must be unset)."""
        missing = self._missing_columns(table)
        if not missing:
            return table.insert, rows
        columns = ["id", *table.columns]
        keep = [i for i, c in enumerate(columns) if c not in missing]
        dropped = [i for i, c in enumerate(columns) if c in missing]
        if any(row[i] is not None for row in rows for i in dropped):
            raise StoreError(f"{self.path}: the database has no column {', '.join(missing)} (not upgraded)")
        sql = (f"INSERT INTO {table.name} ({', '.join(_q(columns[i]) for i in keep)}) "
               f"VALUES ({', '.join('?' for _ in keep)})")
        return sql, [tuple(row[i] for i in keep) for row in rows]

    # -- single-record writes (the GUI's core functions) ----------------------

    def add_patient(self, patient: Patient, today: dt.date | None = None) -> Patient:
        """Add one patient (with any episodes it carries)."""
        self.add_patients([patient], [""], today)
        return patient

    def update_patient(self, patient: Patient, today: dt.date | None = None) -> Patient:
        """Save the patient's own fields; `patient.version` must be the one read."""
        problems = model.check_patient_fields(patient, "", today)
        with self.transaction():
            current = self._patient_row(patient.id)
            extra = {"family_key": fold(patient.family_name), "given_key": fold(patient.given_name)}
            if patient.mrn != current["mrn"] and isinstance(patient.mrn, str) and self._has_mrn_keys():
                extra["mrn_key"] = model.mrn_key(patient.mrn)
                other = self.conn.execute("SELECT id, mrn FROM patients WHERE mrn_key = ? AND id != ?",
                                          (extra["mrn_key"], patient.id)).fetchone()
                if other is not None:
                    what = (f"{patient.mrn!r} already exists" if other[1] == patient.mrn
                            else f"{patient.mrn!r} is the same MRN as {other[1]!r}")
                    problems.append(Problem("mrn", f"{what} in the database"))
            problems += self._pregnancy_problems(patient)
            first_onset = self.conn.execute(
                "SELECT min(symptom_onset) FROM episodes WHERE patient_id = ?", (patient.id,)).fetchone()[0]
            if first_onset and patient.birth_date and patient.birth_date.isoformat() > first_onset:
                problems.append(Problem("birth_date", f"{patient.birth_date.isoformat()} is after the "
                                                      f"symptom onset of an episode ({first_onset})"))
            if problems:
                raise ValidationError(problems)
            new = PATIENTS.to_row(patient)
            patient.version = self._update_row(PATIENTS, patient.id, patient.version, new, patient.id, extra=extra)
        return patient

    def _pregnancy_problems(self, patient: Patient) -> list[Problem]:
        """A new sex or birth date must keep the patient's recorded pregnancies plausible."""
        problems = []
        for pregnancy, onset in self.conn.execute(
                "SELECT pregnancy, symptom_onset FROM episodes WHERE patient_id = ? AND pregnancy IS NOT NULL "
                "ORDER BY symptom_onset", (patient.id,)):
            problem = model.pregnancy_problem(pregnancy, patient.sex, patient.birth_date, _date_in(onset))
            if problem:
                field = "sex" if patient.sex == "male" else "birth_date"
                problems.append(Problem(field, f"the episode of {onset} records a pregnancy: {problem}"))
                break
        return problems

    def set_archived(self, patient_id: int, version: int | None, archived: bool = True) -> int:
        """Archive (or bring back) a patient; returns the new version."""
        with self.transaction():
            self._patient_row(patient_id)
            return self._update_row(PATIENTS, patient_id, version, {"archived": int(archived)}, patient_id)

    def add_episode(self, patient_id: int, episode: Episode, today: dt.date | None = None) -> Episode:
        """Add an episode with any findings it carries; on failure nothing is written and it keeps no ids."""
        try:
            return self._add_episode(patient_id, episode, today)
        except BaseException:
            _forget_ids([episode])
            raise

    def _add_episode(self, patient_id: int, episode: Episode, today: dt.date | None) -> Episode:
        with self.transaction():
            patient = self._patient_for_check(patient_id)
            self._check_episode(patient, episode, today)
            problems = model.check_findings(episode, "", today)
            if problems:
                raise ValidationError(problems)
            eid = next(self._next_ids(EPISODES, 1))
            row = {"patient_id": patient_id, **EPISODES.to_row(episode)}
            self._insert_rows(EPISODES, [dict(row, id=eid)])
            self._audit([("episodes", eid, patient_id, "create", None, EPISODES.created(row))])
            episode.id, episode.version = eid, 1
            for record in [*episode.imaging, *episode.symptoms, *episode.treatments]:
                self.add_finding(eid, record, today)
        return episode

    def update_episode(self, episode: Episode, today: dt.date | None = None) -> Episode:
        with self.transaction():
            patient_id = self._episode_row(episode.id)["patient_id"]
            patient = self._patient_for_check(patient_id)
            self._check_episode(patient, episode, today)
            episode.version = self._update_row(EPISODES, episode.id, episode.version,
                                               EPISODES.to_row(episode), patient_id)
        return episode

    def delete_episode(self, episode_id: int, version: int | None) -> None:
        """Remove an episode and its findings (each removal audited)."""
        with self.transaction():
            patient_id = self._episode_row(episode_id)["patient_id"]
            for table in (IMAGING, SYMPTOMS, TREATMENTS):
                for row in self.conn.execute(f"SELECT id FROM {table.name} WHERE episode_id = ?", (episode_id,)):
                    self._delete_row(table, row["id"], None, patient_id)
            self._delete_row(EPISODES, episode_id, version, patient_id)

    def add_finding(self, episode_id: int, record: ImagingStudy | SymptomRecord | Treatment,
                    today: dt.date | None = None):
        """Add an imaging study, symptom record or treatment to an episode."""
        table = FINDING_TABLES[type(record)]
        try:
            with self.transaction():
                episode = self._episode_row(episode_id)
                self._check_finding(record, episode, today)
                fid = next(self._next_ids(table, 1))
                row = {"episode_id": episode_id, **table.to_row(record)}
                self._insert_rows(table, [dict(row, id=fid)])
                self._audit([(table.name, fid, episode["patient_id"], "create", None, table.created(row))])
                record.id, record.version = fid, 1
        except BaseException:
            _forget_ids([record])
            raise
        return record

    def update_finding(self, record: ImagingStudy | SymptomRecord | Treatment, today: dt.date | None = None):
        table = FINDING_TABLES[type(record)]
        with self.transaction():
            row = self.conn.execute(f"SELECT episode_id FROM {table.name} WHERE id = ?", (record.id,)).fetchone()
            if row is None:
                raise ConflictError(f"this {_noun(table)} was removed by another window or workstation")
            episode = self._episode_row(row["episode_id"])
            self._check_finding(record, episode, today)
            record.version = self._update_row(table, record.id, record.version, table.to_row(record),
                                              episode["patient_id"])
        return record

    def delete_finding(self, record: ImagingStudy | SymptomRecord | Treatment) -> None:
        table = FINDING_TABLES[type(record)]
        with self.transaction():
            row = self.conn.execute(
                f"SELECT episodes.patient_id FROM {table.name} JOIN episodes ON episodes.id = {table.name}.episode_id "
                f"WHERE {table.name}.id = ?", (record.id,)).fetchone()
            if row is None:
                raise ConflictError(f"this {_noun(table)} was already removed by another window or workstation")
            self._delete_row(table, record.id, record.version, row["patient_id"])

    # validation against what is stored

    def _patient_row(self, patient_id: int | None) -> sqlite3.Row:
        row = self.conn.execute("SELECT * FROM patients WHERE id = ?", (patient_id,)).fetchone()
        if row is None:
            raise ConflictError("this patient is not in the database (another workstation may have changed it)")
        return row

    def _episode_row(self, episode_id: int | None) -> sqlite3.Row:
        row = self.conn.execute("SELECT * FROM episodes WHERE id = ?", (episode_id,)).fetchone()
        if row is None:
            raise ConflictError("this episode was removed by another window or workstation")
        return row

    def _patient_for_check(self, patient_id: int) -> Patient:
        self._patient_row(patient_id)
        return self._load_patients([patient_id], with_findings=False)[0]

    def _check_episode(self, patient: Patient, episode: Episode, today: dt.date | None) -> None:
        problems = model.check_episode_fields(episode, "", patient.birth_date, today, patient.sex)
        if episode.id is not None and episode.symptom_onset is not None:
            onset = episode.symptom_onset.isoformat()
            for table, column in ((IMAGING, "date"), (SYMPTOMS, "date"), (TREATMENTS, "start")):
                first = self.conn.execute(f"SELECT min({column}) FROM {table.name} WHERE episode_id = ?",
                                          (episode.id,)).fetchone()[0]
                if first is not None and first < onset:
                    problems.append(Problem("symptom_onset", f"{onset} is after the {_noun(table)} of {first} "
                                                             "in this episode"))
        if episode.id is not None and episode.site in model.SITES:
            # The studies' edema regions are those of the episode's joint: a new site must keep them valid.
            allowed = model.regions_of(episode.site)
            for day, regions in self.conn.execute(
                    "SELECT date, edema_regions FROM imaging WHERE episode_id = ? ORDER BY date, id", (episode.id,)):
                foreign = [r for r in json.loads(regions or "[]") if r not in allowed]
                if foreign:
                    problems.append(Problem("site", (
                        f"the imaging study of {day} names edema regions of another joint "
                        f"({', '.join(map(model.region_label, foreign))}): a {model.site_joint(episode.site)} "
                        f"episode's regions are {', '.join(allowed)}")))
                    break
        if not problems:
            others = [e for e in patient.episodes if e.id != episode.id]
            everyone = others + [episode]
            for problem in model.overlap_problems(everyone, "", list(range(len(everyone)))):
                index = int(problem.path.split("[")[1].split("]")[0])
                if everyone[index] is episode:
                    problems.append(Problem("symptom_onset", problem.message))
                elif episode.site == everyone[index].site:
                    problems.append(Problem(
                        "resolved_on" if episode.resolved_on else "site",
                        f"the {model.site_label(episode.site)} episode of "
                        f"{everyone[index].symptom_onset.isoformat()} would then overlap this one"))
        if problems:
            raise ValidationError(problems)

    def _check_finding(self, record: Any, episode: sqlite3.Row, today: dt.date | None) -> None:
        onset = dt.date.fromisoformat(episode["symptom_onset"])
        check = {ImagingStudy: model.check_imaging, SymptomRecord: model.check_symptom,
                 Treatment: model.check_treatment}[type(record)]
        problems = (check(record, "", onset, today, episode["site"]) if check is model.check_imaging
                    else check(record, "", onset, today))
        if problems:
            raise ValidationError(problems)

    # -- reading ---------------------------------------------------------------

    def patient_id(self, mrn: str) -> int:
        """The patient with this MRN in any spelling that is the same MRN (model.mrn_key: case, fullwidth forms,
        spaces at the ends and invisible characters aside)."""
        # The MRN as stored first: of two MRNs stored before the MRN rules that are the same under them, each
        # is found by its own spelling.
        row = self.conn.execute("SELECT id FROM patients WHERE mrn = ?", (mrn.strip(),)).fetchone()
        if row is None:
            key = model.mrn_key(mrn)
            if self._has_mrn_keys():
                row = self.conn.execute("SELECT id FROM patients WHERE mrn_key = ?", (key,)).fetchone()
            else:  # a database from before the MRN keys, opened read-only (not upgraded)
                row = next(((i,) for i, m in self.conn.execute("SELECT id, mrn FROM patients ORDER BY id")
                            if model.mrn_key(m) == key), None)
        if row is None:
            raise NotFound(f"no patient with MRN {mrn.strip()!r}")
        return row[0]

    def patient(self, patient_id: int) -> Patient:
        found = self._load_patients([patient_id])
        if not found:
            raise NotFound(f"no patient with id {patient_id}")
        return found[0]

    def patient_by_mrn(self, mrn: str) -> Patient:
        return self.patient(self.patient_id(mrn))

    def patients(self, ids: Sequence[int] | None = None, include_archived: bool = True,
                 batch: int = 2000) -> Iterator[Patient]:
        """Whole patient histories, by MRN (all patients when `ids` is None), loaded in batches."""
        if ids is None:
            sql = "SELECT id FROM patients" + ("" if include_archived else " WHERE archived = 0") + " ORDER BY mrn"
            ids = [r[0] for r in self.conn.execute(sql)]
        for i in range(0, len(ids), batch):
            yield from self._load_patients(ids[i:i + batch])

    def count_patients(self, include_archived: bool = True) -> int:
        sql = "SELECT count(*) FROM patients" + ("" if include_archived else " WHERE archived = 0")
        return self.conn.execute(sql).fetchone()[0]

    def _select_in(self, sql: str, ids: Sequence[int]) -> Iterator[tuple]:
        """Plain tuples (no sqlite3.Row: this is the hot path of cohort-wide reads), `ids` in chunks."""
        cursor = self.conn.cursor()
        cursor.row_factory = None
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i:i + _CHUNK]
            yield from cursor.execute(sql.format(ids=",".join("?" * len(chunk))), chunk)

    @gc_paused()  # whole histories are many objects that all stay alive
    def _columns_sql(self, table: Table, columns: Sequence[str]) -> str:
        """The columns for a SELECT, with NULL for any the file does not have yet: a database opened read-only
        is not upgraded, and a column a later migration adds (m004's DICOM study fields) reads as not recorded."""
        present = self._present_columns.get(table.name)
        if present is None:
            present = self._present_columns[table.name] = {
                r[1] for r in self.conn.execute(f"PRAGMA table_info({table.name})")}
        return ", ".join(_q(c) if c in present or c in ("id", "version", "NULL") else f"NULL AS {_q(c)}"
                         for c in columns)

    def _select(self, table: Table) -> str:
        """`table.select`, for the columns this file has."""
        own = [c for c in table.columns if c != table.parent]
        if all(c in self._present_columns.get(table.name, ()) for c in own):
            return table.select
        return ", ".join(["id", "version", table.parent or "NULL", self._columns_sql(table, own)])

    def _load_patients(self, ids: Sequence[int], with_findings: bool = True) -> list[Patient]:
        """Patients with their episodes (and findings), in the order of `ids`."""
        by_id = {row[0]: PATIENTS.from_tuple(row) for row in self._select_in(
            f"SELECT {PATIENTS.select} FROM patients WHERE id IN ({{ids}})", ids)}
        episodes: dict[int, Episode] = {}
        for row in self._select_in(f"SELECT {EPISODES.select} FROM episodes WHERE patient_id IN ({{ids}}) "
                                   "ORDER BY symptom_onset, site, id", list(by_id)):
            episode = EPISODES.from_tuple(row)
            by_id[row[2]].episodes.append(episode)
            episodes[episode.id] = episode
        if with_findings and episodes:
            for table in (IMAGING, SYMPTOMS, TREATMENTS):
                sql = (f"SELECT {self._select(table)} FROM {table.name} WHERE episode_id IN ({{ids}}) "
                       f"ORDER BY episode_id, {_ORDER[table.name]}")
                for row in self._select_in(sql, list(episodes)):
                    getattr(episodes[row[2]], table.name).append(table.from_tuple(row))
        return [by_id[i] for i in ids if i in by_id]

    # -- settings ----------------------------------------------------------------

    def setting_texts(self) -> dict[str, str]:
        stored = {r["key"]: r["value"] for r in self.conn.execute("SELECT key, value FROM settings")}
        return {key: stored.get(key, settings_mod.DEFAULTS[key]) for key in settings_mod.KEYS}

    def settings(self) -> "settings_mod.Settings":
        return settings_mod.from_texts(self.setting_texts())

    def set_setting(self, key: str, text: str) -> str:
        """Validate and store one setting (audited); returns its canonical text."""
        value = settings_mod.format(key, settings_mod.parse(key, text))
        with self.transaction():
            row = self.conn.execute("SELECT * FROM settings WHERE key = ?", (key,)).fetchone()
            if row is None:
                sid = next(self._next_ids(SETTINGS, 1))
                self.conn.execute("INSERT INTO settings (id, key, value) VALUES (?, ?, ?)", (sid, key, value))
                self._audit([("settings", sid, None, "create", None, {"key": key, "value": value})])
            else:
                self._update_row(SETTINGS, row["id"], None, {"value": value}, None)
        return value

    # -- backup ----------------------------------------------------------------

    def backup(self, target: str | os.PathLike) -> Path:
        """An online, consistent copy through the SQLite backup API, written beside and then moved into place.

        The target is checked as every output is (`safety.check_output`: never this database, its side files
        or a missing folder — only its own backups folder is created); the copy is made in a folder only this
        user may enter, checked, then renamed into place (`safety.private_scratch`)."""
        from tohtrack import safety

        target = Path(target)
        own_folder = backup_dir(self.path)
        problem = backups_folder_problem(self.path)
        if problem and _same_folder(target.parent, own_folder):
            raise safety.OutputRefused(f"{target}: {problem}; nothing was written")
        if target.parent == own_folder and not own_folder.exists():
            try:
                own_folder.mkdir(mode=0o700, parents=True, exist_ok=True)  # a new backups folder: nobody else's
            except OSError as exc:  # another user's folder, a read-only disk: say so, change nothing
                raise safety.write_failed(target, exc) from None
        with safety.private_scratch(target, self.path, backup=True) as (partial, install):
            try:
                _create_private(partial)
                dest = sqlite3.connect(str(partial))
                try:
                    self.conn.backup(dest)
                    self._carry_anchor(dest)
                    dest.execute("PRAGMA journal_mode = DELETE")
                    ok = dest.execute("PRAGMA quick_check").fetchone()[0]
                finally:
                    dest.close()
            except OSError as exc:
                raise safety.write_failed(target, exc) from None
            except sqlite3.DatabaseError as exc:
                damaged = "malformed" in str(exc) or "not a database" in str(exc)  # what was read: this database
                raise _write_error(self.path if damaged else target, exc) from None
            if ok != "ok":  # the copy is page for page: this database is damaged
                raise DatabaseDamaged(f"{self.path}: the database file is damaged ({ok}); no backup was written")
            return install()

    def _carry_anchor(self, dest: sqlite3.Connection) -> None:
        """Write into a backup copy what the witness saw of the trail (its table audit_anchor, one row), so the
        backup carries the evidence with it: a backup taken of a rolled-back file fails its check."""
        from tohtrack import witness  # the audit anchor, loaded when first used (not at start-up)

        if not dest.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_anchor'").fetchone():
            return  # a database from before m004_audit_identity
        identity = self.identity()
        if identity is None or not witness.valid_identity(identity):
            return
        count, head = self.audit_head()
        now = utc_now()
        seen = (count, head, now)
        try:
            anchor = witness.observe(identity, count, head, self.path, self.hash_at)
            seen = (anchor.count, anchor.head, anchor.seen)
        except witness.WitnessError as exc:  # the file's own head, then
            _warn(f"{exc}; the backup carries the trail's head as the file has it")
        dest.execute("DELETE FROM audit_anchor")
        dest.execute("INSERT INTO audit_anchor (identity, count, head, seen, backed_up) VALUES (?, ?, ?, ?, ?)",
                     (identity, *seen, now))
        dest.commit()

    def rotate_backups(self, keep: int | None = None, every: dt.timedelta = dt.timedelta(days=1),
                       now: dt.datetime | None = None) -> Path | None:
        """An automatic backup into the backups folder unless one is younger than `every`; keeps the newest `keep`.

        Returns the new backup, or None when a recent one made it unnecessary.
        """
        keep = keep if keep is not None else self.settings().backup_keep
        now = now or dt.datetime.now(dt.timezone.utc)
        folder = backup_dir(self.path)
        existing = automatic_backups(self.path)
        written = None
        if not existing or now - _backup_time(existing[-1]) >= every:
            written = self.backup(folder / f"{self.path.stem}-auto-{now.strftime('%Y%m%dT%H%M%SZ')}.sqlite3")
            existing.append(written)
        for old in existing[:-keep]:
            old.unlink(missing_ok=True)
        return written

    def restore(self, backup: str | os.PathLike) -> Path:
        """Put a checked backup in place of this database, keeping the replaced contents beside it.

        Raises ValidationError (nothing changed) when the backup fails its checks.
        """
        backup = Path(backup)
        problems = check_backup(backup)
        if problems:
            raise ValidationError([Problem(str(backup), p) for p in problems])
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        kept = self.backup(_unused(backup_dir(self.path) / f"{self.path.stem}-replaced-{stamp}.sqlite3"))
        # The file just checked, exactly: a '#' or '?' left raw in the URI would open (create) another one.
        source = sqlite3.connect(backup.resolve().as_uri() + "?mode=ro", uri=True)
        self._expect_restore(source)
        try:
            source.backup(self.conn)  # through SQLite, so WAL readers never see a half-copied file
        except sqlite3.DatabaseError as exc:
            raise _write_error(self.path, exc) from None
        finally:
            source.close()
        self._after_commit(force=True)  # a restore moves the witness to the backup's trail, even back in time
        return kept

    def _expect_restore(self, source: sqlite3.Connection) -> None:
        """Tell the witness which trail the restore is about to put in place (see witness.expect)."""
        from tohtrack import witness  # the audit anchor, loaded when first used (not at start-up)

        try:
            identity = source.execute("SELECT identity FROM audit_identity WHERE id = 1").fetchone()
            last = source.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        except sqlite3.DatabaseError:  # a backup from before m004_audit_identity: it gets an identity later
            return
        if identity is None or not witness.valid_identity(identity[0]):
            return
        try:
            witness.expect(identity[0], *(last if last else (0, GENESIS_HASH)), self.path)
        except witness.WitnessError as exc:
            _warn(f"{exc}; the restore goes on")

    # -- the registry's and the cohort's queries (tohtrack.registry, tohtrack.cohort; the SQL in .registry) --

    def search(self, text: str, filters: "registry_mod.Filters", as_of: dt.date, sort: str = "name",
               descending: bool = False, limit: int = 200, after: tuple | None = None
               ) -> "list[registry_mod.PatientRow]":
        """One page of the patients matching the search text and filters (tohtrack.registry.search)."""
        from . import registry

        return registry.search(self, text, filters, as_of, sort, descending, limit, after)

    def count(self, text: str, filters: "registry_mod.Filters", as_of: dt.date) -> int:
        """How many patients `search` would list with this text and these filters."""
        from . import registry

        return registry.count(self, text, filters, as_of)

    def patient_row(self, patient_id: int, as_of: dt.date, sort: str = "name") -> "registry_mod.PatientRow | None":
        """One patient's registry row (its sort key in `sort`), or None if not there."""
        from . import registry

        return registry.patient_row(self, patient_id, as_of, sort)

    def due_ids(self, as_of: dt.date, settings: "settings_mod.Settings | None" = None) -> frozenset[int]:
        """Unarchived patients due or overdue for review at as_of."""
        from . import registry

        return registry.due_ids(self, as_of, settings)

    def flagged_ids(self, as_of: dt.date, settings: "settings_mod.Settings | None" = None) -> frozenset[int]:
        """Patients (archived too) with any course flag at as_of."""
        from . import registry

        return registry.flagged_ids(self, as_of, settings)

    def active_patient_ids(self, as_of: dt.date) -> list[int]:
        """Unarchived patients with a TOH episode active at as_of (onset on or before it, not resolved by it)."""
        from . import registry

        return registry.active_patient_ids(self, as_of)

    def worklist_summaries(self, as_of: dt.date, settings: "settings_mod.Settings | None" = None,
                           columns: Sequence[str] = ()) -> "list[tuple[tuple, summary_mod.Summary]]":
        """Each patient with an active TOH episode at as_of: (the values of these columns of the patient,
        its summary at as_of), made where none is stored that holds."""
        from . import registry

        return registry.worklist_summaries(self, as_of, settings, columns)

    def flag_summaries(self, as_of: dt.date, patient_ids: Sequence[int] | None = None,
                       settings: "settings_mod.Settings | None" = None) -> "list[tuple[str, summary_mod.Summary]]":
        """(MRN, summary with its flags JSON) of every unarchived patient, or of those of `patient_ids`."""
        from . import registry

        return registry.flag_summaries(self, as_of, patient_ids, settings)

    def stats_records(self, as_of: dt.date, pooled: bool = True, pain: bool = True) -> "registry_mod.StatsRecords":
        """What the cohort statistics read (tohtrack.registry.StatsRecords), in one read transaction; pooled=False:
        the values record by record even where episode_figures could stand for them; pain=False: without the pain
        scores."""
        from . import registry

        return registry.stats_records(self, as_of, pooled=pooled, pain=pain)

    def verify_stats_figures(self, limit: int = 20) -> list[str]:
        """The cohort statistics' per-episode cache (episode_figures) against the records, for check."""
        from . import registry

        return registry.verify_stats_figures(self, limit)

    def patient_mrns(self, ids: Sequence[int] | None = None) -> list[tuple[int, str]]:
        """(id, MRN) of every patient (archived too), or of these ids (NotFound for one not there)."""
        if ids is None:
            return [(row[0], row[1]) for row in self.conn.execute("SELECT id, mrn FROM patients")]
        found = []
        for patient_id in ids:
            row = self.conn.execute("SELECT mrn FROM patients WHERE id = ?", (patient_id,)).fetchone()
            if row is None:
                raise NotFound(f"no patient with id {patient_id}")
            found.append((patient_id, row[0]))
        return found

    # -- changes by other windows and workstations ------------------------------------

    def change_mark(self) -> tuple:
        """Where the database stands: compare with `changes_since`. Opaque; equal marks mean no record or
        setting was changed in between (another window storing assessment summaries, a cache, does not count)."""
        return self._data_version(), self._audit_end()

    def changes_since(self, mark: tuple) -> tuple[bool, tuple]:
        """(whether records or settings were changed since `mark`, the mark to compare with next time).

        Cheap when nobody wrote: SQLite's count of other connections' commits (PRAGMA data_version) is read,
        and the end of the audit trail only when that moved."""
        version = self._data_version()
        if version == mark[0]:
            return False, mark
        end = self._audit_end()
        return end != mark[1], (version, end)

    def _data_version(self) -> int:
        return self.conn.execute("PRAGMA data_version").fetchone()[0]

    def _audit_end(self) -> tuple:
        end = self.conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        return tuple(end or ())

    # -- stored assessments (tohtrack.summary; the SQL in .summaries) ------------------

    def has_summary_table(self) -> bool:
        """Whether the database has the summary table (a database not yet upgraded to m003 has not)."""
        from . import summaries

        return summaries.has_table(self)

    def stored_summaries(self, ids: Sequence[int], as_of: dt.date, rules: str,
                         flags_json: bool = True) -> "dict[int, summary_mod.Summary]":
        """The stored summaries of these patients that hold at as_of under these rules (none are made)."""
        from . import summaries

        return summaries.stored(self, ids, as_of, rules, flags_json)

    def summaries(self, ids: Iterable[int], as_of: dt.date, settings: "settings_mod.Settings | None" = None,
                  flags_json: bool = True) -> "dict[int, summary_mod.Summary]":
        """The summaries of these patients at as_of: those stored that hold, the others made now (and stored
        when the settings are the database's own and the file can be written, even through a read-only Store).
        Without `flags_json`, those read from the database leave out their flags JSON (faster)."""
        from . import summaries

        return summaries.summaries(self, ids, as_of, settings, flags_json)

    def clear_summaries(self) -> None:
        """Remove every stored summary (they are made again when next needed)."""
        from . import summaries

        summaries.clear(self)

    def verify_summaries(self, limit: int = 20) -> list[str]:
        """Stored summaries (under the current rules) that differ from a fresh assessment; empty when sound."""
        from . import summaries

        return summaries.verify(self, limit)

    # -- integrity ---------------------------------------------------------------

    def check(self) -> list[str]:
        """Integrity, foreign keys and the audit trail; returns what is wrong (empty when all is well)."""
        try:
            return self._check()
        except sqlite3.DatabaseError as exc:  # a page too damaged to be read at all
            return [f"integrity: the database file is damaged ({exc})"]

    def _check(self) -> list[str]:
        problems = []
        for (line,) in self.conn.execute("PRAGMA integrity_check"):
            if line != "ok":
                problems.append(f"integrity: {line}")
        triggers = {r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        for name in ("audit_no_update", "audit_no_delete"):
            if name not in triggers:
                problems.append(f"audit: the trigger {name} that keeps the trail append-only was removed "
                                "(outside TOHtrack)")
        problems += self._check_schema()
        problems += self._check_identity_and_anchors()
        for row in self.conn.execute("PRAGMA foreign_key_check"):
            problems.append(f"foreign key: {row[0]} row {row[1]} points at a missing {row[2]} row")
        problems += self._check_chain()
        problems += self._check_mrn_keys()
        for table in TABLES.values():
            problems += self._check_table_trail(table)
        for row in self.conn.execute("SELECT id, mrn, family_name, given_name, family_key, given_key FROM patients"):
            if row["family_key"] != fold(row["family_name"]) or row["given_key"] != fold(row["given_name"]):
                problems.append(f"patients row {row['id']} ({row['mrn']}): search keys do not match the name")
        problems += self.verify_summaries()  # compared with fresh ones (a cache, never a source of truth)
        problems += self.verify_stats_figures()  # the cohort statistics' cache, the same way
        return problems

    def _check_mrn_keys(self) -> list[str]:
        """Each patient's MRN key is its MRN's (or none, for an MRN clash from before the MRN rules, named)."""
        if not self._has_mrn_keys():
            return []
        problems = self.mrn_key_clashes()
        for row_id, mrn, key in self.conn.execute("SELECT id, mrn, mrn_key FROM patients WHERE mrn_key IS NOT NULL"):
            if key != model.mrn_key(mrn):
                problems.append(f"patients row {row_id} ({mrn!r}): the MRN key does not match the MRN "
                                "(changed outside TOHtrack)")
        return problems

    def _check_schema(self) -> list[str]:
        """Every table, index and trigger exactly as this version's migrations define them (not only their names):
        a trigger that keeps the trail append-only replaced by a same-named one that does nothing is found."""
        applied = tuple(self.applied_migrations())
        expected = _expected_schema(self.migration_set, applied)
        if expected is None:  # the list that says what to compare with was itself changed: nothing is verified
            return [f"schema: the migrations recorded as applied ({', '.join(applied) or 'none'}) are not this "
                    "version's in its order (the list was changed outside TOHtrack), so the tables, indexes and "
                    "triggers cannot be verified"]
        actual = _schema_of(self.conn)
        from .migrations import SUMMARY_TRIGGERS

        # Removals said in their own words already: above, and by summary.verify.
        said_elsewhere = {"audit_no_update", "audit_no_delete", *SUMMARY_TRIGGERS}
        problems = []
        for (kind, name), sql in expected.items():
            if (kind, name) not in actual:
                if name not in said_elsewhere:
                    problems.append(f"schema: the {kind} {name} is missing (removed outside TOHtrack)")
            elif actual[(kind, name)] != sql:
                what = (" that keeps the audit trail append-only" if name.startswith("audit_no_")
                        else " that protects the database identity" if name.startswith("audit_identity_no_")
                        else "")
                problems.append(f"schema: the {kind} {name}{what} is not TOHtrack's definition: it was replaced "
                                "by a different one (outside TOHtrack)")
        for (kind, name), sql in actual.items():
            if (kind, name) not in expected:
                problems.append(f"schema: an unexpected {kind} {name} (added outside TOHtrack)")
        return problems

    def _check_identity_and_anchors(self) -> list[str]:
        """The identity row, and each witness view a backup carried in (audit_anchor) against the trail."""
        from tohtrack import witness  # the audit anchor, loaded when first used (not at start-up)

        if not self.has_identity_table():
            return []
        problems = []
        identity = self.identity()
        if identity is None:
            problems.append("audit: the database identity was removed (outside TOHtrack)")
        elif not witness.valid_identity(identity):
            problems.append(f"audit: the database identity {str(identity)[:40]!r} is not one TOHtrack writes "
                            "(changed outside TOHtrack)")
        count, _ = self.audit_head()
        for row in self.conn.execute("SELECT identity, count, head, seen, backed_up FROM audit_anchor"):
            carried, n, head, seen, backed_up = tuple(row)
            when = witness.seen_words(str(backed_up))
            if carried != identity:
                problems.append(f"audit: the anchor carried since the backup of {when} belongs to another database")
            elif not isinstance(n, int) or n > count:
                problems.append(f"audit: this database is {witness.entries(n - count) if isinstance(n, int) else 'some entries'} "
                                f"behind what the workstation that made its backup on {when} had seen: entries "
                                "were removed, or an older copy was backed up")
            elif self.hash_at(n) != head:
                problems.append(f"audit: the audit trail differs at entry {n} from what the workstation that made "
                                f"its backup on {when} had seen: the chain was recomputed after a change")
        return problems

    def _check_chain(self) -> list[str]:
        problems = []
        prev, expected_id = GENESIS_HASH, 1
        cursor = self.conn.execute(
            "SELECT id, at, os_user, clinician, table_name, row_id, patient_id, action, old, new, hash "
            "FROM audit ORDER BY id")
        for row in cursor:
            values = tuple(row)[:-1]
            if row["id"] != expected_id:
                problems.append(f"audit: entries {expected_id}–{row['id'] - 1} are missing")
            digest = _entry_hash(prev, values)
            if digest != row["hash"]:
                problems.append(f"audit: entry {row['id']} was changed or an entry before it was removed "
                                "(hash chain broken)")
                if len(problems) > 20:
                    problems.append("audit: more problems not listed")
                    break
            prev, expected_id = row["hash"], row["id"] + 1
        return problems

    def _check_table_trail(self, table: Table) -> list[str]:
        """Replay each row's audit entries and compare with the row as stored."""
        problems: list[str] = []
        columns = table.columns
        trail = self.conn.execute(
            "SELECT row_id, action, new FROM audit WHERE table_name = ? ORDER BY row_id, id", (table.name,))
        rows = self.conn.execute(f"SELECT id, version, {self._columns_sql(table, columns)} FROM {table.name} "
                                 "ORDER BY id")
        replayed = _replay(trail, columns, table)
        stored = iter(rows)
        row = next(stored, None)
        state = next(replayed, None)
        while row is not None or state is not None:
            if len(problems) > 20:
                problems.append(f"{table.name}: more problems not listed")
                break
            if state is None or (row is not None and row["id"] < state[0]):
                problems.append(f"{table.name} row {row['id']}: not in the audit trail (written outside TOHtrack)")
                row = next(stored, None)
                continue
            row_id, values, versions, deleted = state
            if row is None or row["id"] > row_id:
                if not deleted:
                    problems.append(f"{table.name} row {row_id}: removed outside TOHtrack (the audit trail has it)")
                state = next(replayed, None)
                continue
            if deleted:
                problems.append(f"{table.name} row {row_id}: the audit trail says it was removed, but it is there")
            else:
                differing = [c for c in columns if not _same(row[c], values.get(c))]
                if differing:
                    problems.append(f"{table.name} row {row_id}: {', '.join(differing)} differ from the audit trail "
                                    "(changed outside TOHtrack)")
                elif row["version"] != versions:
                    problems.append(f"{table.name} row {row_id}: version {row['version']} but the audit trail "
                                    f"records {versions} writes")
            row = next(stored, None)
            state = next(replayed, None)
        return problems


def parse_seal(text: str) -> tuple[int, str]:
    """'1234·9f3a7c21d0e4' (also with '.', '-', ':' or a space between, 'Audit seal' before) -> (1234, '9f3a7c21d0e4').

    At least 8 hex digits; raises ValueError naming what a seal looks like."""
    import re

    match = re.fullmatch(r"\s*(?:audit\s+seal\s+)?([0-9]{1,12})\s*[·.:\-\s]\s*([0-9a-f]{8,64})\s*", text or "",
                         re.IGNORECASE)
    if not match:
        raise ValueError(f"{text!r} is not an audit seal; a seal is the entry count and a hash prefix as printed "
                         "on a report, e.g. 1234·9f3a7c21d0e4")
    return int(match.group(1)), match.group(2).lower()


_EXPECTED_SCHEMAS: dict[tuple, dict | None] = {}

def _schema_of(conn: sqlite3.Connection) -> dict[tuple[str, str], str | None]:
    """Each table, index, trigger and view by (type, name): its SQL with runs of white space made one space.
    The migrations bookkeeping table and its index (written by sqlite-utils, whose wording varies by version) are
    left out; a trigger on that table is not."""
    return {(kind, name): None if sql is None else " ".join(sql.split())
            for kind, name, table, sql in conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")
            if not (table == "_sqlite_migrations" and kind in ("table", "index"))
            and not name.startswith("sqlite_stat")}


def _expected_schema(migration_set: "Migrations", applied: tuple[str, ...]) -> dict | None:
    """The schema the applied migrations make, made by applying them to an empty database in memory (None: the
    file's migrations are not a prefix of this version's, so there is nothing to compare with)."""
    from .migrations import migrations as this_version

    key = applied
    if migration_set is not this_version or key not in _EXPECTED_SCHEMAS:  # another set (tests): never cached
        from sqlite_utils import Database

        memory = Database(memory=True, execute_plugins=False)
        known = [m.name for m in migration_set.pending(memory)]
        if not applied or list(applied) != known[:len(applied)]:
            _EXPECTED_SCHEMAS[key] = None
        else:
            stop = known[len(applied)] if len(applied) < len(known) else None
            migration_set.apply(memory, stop_before=stop)
            _EXPECTED_SCHEMAS[key] = _schema_of(memory.conn)
        memory.close()
    return _EXPECTED_SCHEMAS.pop(key) if migration_set is not this_version else _EXPECTED_SCHEMAS[key]


def _forget_ids(records: Iterable[Any]) -> None:
    """After a failed write: records (and their children) are not stored, so they carry no id or version."""
    for record in records:
        record.id = record.version = None
        _forget_ids(getattr(record, "episodes", ()))
        for kind in ("imaging", "symptoms", "treatments"):
            _forget_ids(getattr(record, kind, ()))


def _unused(path: Path) -> Path:
    """The path, or with -2, -3, … before its suffix if a file is there already (never overwrite a backup)."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def _same_folder(a: Path, b: Path) -> bool:
    """Whether two paths name one folder (by device and inode; by name when one is not there)."""
    try:
        first, second = os.stat(a), os.stat(b)
    except (OSError, ValueError):
        return os.path.abspath(a) == os.path.abspath(b)
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)


def backups_folder_problem(path: Path) -> str | None:
    """Why the backups folder of a database may not be used (None: it is this user's, or not made yet).

    A folder (or a link at its name) made by another user — possible where the database lies in a folder others
    may write to — would let them delete the backups written there, or plant one named as the newest automatic
    backup: that would stop the automatic backups, make the rotation delete the real ones, and be offered for
    restoring a database that cannot be opened."""
    if not hasattr(os, "geteuid"):
        return None
    folder = backup_dir(path)
    me = os.geteuid()
    for follow in (False, True):
        try:
            info = os.stat(folder) if follow else os.lstat(folder)
        except (OSError, ValueError):
            return None
        if info.st_uid != me:
            return (f"the backups folder {folder} belongs to another user; TOHtrack neither writes nor reads "
                    "backups there")
    return None


def automatic_backups(path: Path) -> list[Path]:
    """The automatic backups of a database, oldest first (none from a backups folder of another user's)."""
    if backups_folder_problem(path):
        return []
    return sorted(backup_dir(path).glob(f"{path.stem}-auto-*.sqlite3"), key=_backup_time)


def _backup_time(path: Path) -> dt.datetime:
    stamp = path.stem.rsplit("-", 1)[-1]
    try:
        return dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.timezone.utc)
    except ValueError:
        return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc)


def check_backup(path: Path) -> list[str]:
    """What is wrong with a file offered as a backup: not there, not TOHtrack's, damaged, newer, or failing check."""
    if not path.exists():
        return ["no such file"]
    if not path.is_file():
        return ["is a folder or a device, not a backup file"]
    try:
        with Store(path, readonly=True) as candidate:
            if not candidate.applied_migrations():
                return ["not a TOHtrack database (no schema)"]
            return candidate.check()
    except StoreError as exc:
        return [str(exc).removeprefix(f"{path}: ")]


def _replay(trail: Iterable[sqlite3.Row], columns: tuple[str, ...], table: Table):
    """Yield (row id, values, number of writes, deleted) per row from its ordered audit entries."""
    current_id, values, writes, deleted = None, {}, 0, False
    for row_id, action, new in trail:
        if row_id != current_id:
            if current_id is not None:
                yield current_id, values, writes, deleted
            current_id, values, writes, deleted = row_id, {c: table.default(c) for c in columns}, 0, False
        if action == "delete":
            deleted = True
            continue
        if action == "create":
            values = {c: table.default(c) for c in columns}
            deleted, writes = False, 0
        values.update(json.loads(new) if new else {})
        writes += 1
    if current_id is not None:
        yield current_id, values, writes, deleted


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


def _noun(table: Table) -> str:
    return {"patients": "patient", "episodes": "episode", "imaging": "imaging study",
            "symptoms": "symptom record", "treatments": "treatment", "settings": "setting"}[table.name]


def _open_error(path: Path, exc: sqlite3.DatabaseError) -> StoreError:
    text = str(exc)
    if "not a database" in text or "malformed" in text or "encrypted" in text:
        return DatabaseDamaged(f"{path}: not a TOHtrack database, or the file is damaged ({text})")
    return _write_error(path, exc)


def _write_error(path: Path, exc: sqlite3.DatabaseError) -> StoreError:
    text = str(exc)
    if "full" in text:
        return DiskFull(f"{path}: the disk is full; nothing was written ({text})")
    if "locked" in text or "busy" in text:
        return StoreBusy(f"{path}: the database is busy (another workstation or window is writing); "
                         "nothing was written, try again")
    if getattr(exc, "sqlite_errorname", "") == "SQLITE_READONLY_DIRECTORY":
        return StoreReadOnly(f"{path}: cannot use the database: this user may not create files in its folder, "
                             "which SQLite needs beside it (-wal and -shm files); nothing was written")
    if "readonly" in text or "read-only" in text:
        return StoreReadOnly(f"{path}: the database is read-only here; nothing was written")
    if "disk I/O error" in text:
        return DiskFull(f"{path}: the disk could not be read or written (full, over a quota, or failing); "
                        f"nothing was written ({text})")
    if "malformed" in text or "not a database" in text:
        return DatabaseDamaged(f"{path}: the database file is damaged ({text})")
    return StoreError(f"{path}: database error: {text}")


def _translated_iteration(store: Store, items: Iterator[Any]) -> Iterator[Any]:
    try:
        yield from items
    except sqlite3.DatabaseError as exc:
        raise _write_error(store.path, exc) from None


def _translating(cls: type) -> type:
    """Every public method of the gateway raises StoreError (DatabaseDamaged, StoreBusy, DiskFull, …) for a
    driver error, never sqlite3's own: e.g. a damaged page first met by a read. Only the outermost call
    translates (`_depth`), so that the gateway's own handlers of driver errors work as written."""

    def wrap(method):
        if inspect.isgeneratorfunction(method):
            @functools.wraps(method)
            def generator(self, *args, **kwargs):
                if self._depth:  # called by the gateway itself (e.g. check): its handlers see the driver's errors
                    return method(self, *args, **kwargs)
                return _translated_iteration(self, method(self, *args, **kwargs))
            return generator

        @functools.wraps(method)
        def call(self, *args, **kwargs):
            if self._depth:
                return method(self, *args, **kwargs)
            self._depth = 1
            try:
                return method(self, *args, **kwargs)
            except sqlite3.DatabaseError as exc:
                raise _write_error(self.path, exc) from None
            finally:
                self._depth = 0
        return call

    for name, value in list(vars(cls).items()):
        if name.startswith("_") or name in ("close", "transaction") or not inspect.isfunction(value):
            continue
        setattr(cls, name, wrap(value))
    return cls


_translating(Store)
