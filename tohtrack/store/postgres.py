"""The PostgreSQL backend: a clinic's TOHtrack database on a server, shared by its workstations.

`PostgresStore(url)` has the public methods of tohtrack.db.Store for records, settings, the audit trail and its
check, with the same meaning: one transaction per action, row versions and the stale-update conflict, patients
archived and never deleted, every change in the hash-chained audit trail. What differs is who guarantees it: the
server (tohtrack/store/pg_schema.py) writes the audit entries and the versions itself, in triggers that run as
the database's owner, so a clinician's login — through the app or through plain SQL — can neither skip nor
forge them, and the entry's "who" is the server's `session_user` with the display name the owner gave it
(`admin add-user --name`), not a name the client sends.

The owner's commands (`tohtrack --db OWNER_URL admin init | add-user | users`) are `admin_init`, `add_user` and
`list_users` here. Passwords are never printed: `describe(url)` is the URL without one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import re
import urllib.parse
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.numeric import FloatLoader

from .. import model, settings as settings_mod
from .errors import (  # noqa: F401 - the server's kinds are imported from here by callers too
    AuthenticationFailed, ConflictError, DatabaseTooNew, DiskFull, NotATohtrackDatabase, NotFound, PermissionRefused,
    ServerUnavailable, StoreBusy, StoreError, StoreReadOnly, UnknownDatabase,
)
# The record descriptors, audit hashing and replay are the same on both backends (they live with the SQLite
# store, the first backend; nothing here opens a SQLite connection except backup, which writes a SQLite file).
from .sqlite import store as dbmod
from .sqlite.store import (
    EPISODES, FINDING_TABLES, GENESIS_HASH, IMAGING, PATIENTS, SEAL_DIGITS, SETTINGS, SYMPTOMS, TABLES, TREATMENTS,
    AuditEntry, MrnSet, Table, _date_in, _entry_hash, _forget_ids, _noun, _replay, _same, fold,
)
from ..model import Episode, ImagingStudy, Patient, Problem, SymptomRecord, Treatment, ValidationError
from ..schema import MIGRATION_SET, SCHEMA
from . import pg_registry, pg_schema

CONNECT_TIMEOUT_S = 10
LOCK_TIMEOUT_S = 120  # a write waits this long for another workstation's (as BUSY_TIMEOUT_MS on SQLite)
#: A session left inside a transaction (a crashed client, a forgotten psql BEGIN) is ended by the server after
#: this long, so that it cannot hold the audit chain's lock and stop every workstation (set by admin init).
IDLE_IN_TRANSACTION_S = 300
_CHUNK = 5000  # ids per = ANY(%s) query
_ORDER = {"imaging": "date, coalesce(time, ''), id", "symptoms": "date, id", "treatments": "start, id"}
#: A login name TOHtrack creates: plain, so that it reads the same in every message and log.
_LOGIN = re.compile(r"[a-z_][a-z0-9_.-]{0,62}")


# ---------------------------------------------------------------------------
# Errors (subclasses of tohtrack.db.StoreError: exit code 1)
# ---------------------------------------------------------------------------


# ---------------------------------------------------------------------------
# URLs
# ---------------------------------------------------------------------------


def is_postgres_url(target: object) -> bool:
    """Whether a --db value names a PostgreSQL database (a libpq URL) rather than an SQLite file."""
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def describe(url: str) -> str:
    """The URL as it may be shown: without its password (in the user part or in the query)."""
    try:
        parts = urllib.parse.urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            auth, host = netloc.rsplit("@", 1)
            netloc = auth.split(":", 1)[0] + "@" + host
        query = "&".join(p for p in parts.query.split("&") if p and not p.lower().startswith("password="))
        return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
    except ValueError:
        return "the PostgreSQL database (its URL could not be read)"


def _redact(text: str, url: str) -> str:
    """A driver message with any password of the URL taken out (libpq does not echo it, but be sure)."""
    with contextlib.suppress(Exception):
        password = psycopg.conninfo.conninfo_to_dict(url).get("password")
        if password:
            text = text.replace(str(password), "***")
    return text


# ---------------------------------------------------------------------------
# Driver errors as the store's errors
# ---------------------------------------------------------------------------


def _connect_error(where: str, exc: psycopg.Error, url: str) -> StoreError:
    text = _redact(str(exc), url)
    detail = " ".join(text.split())
    if "password authentication failed" in text or "no password supplied" in text:
        return AuthenticationFailed(f"{where}: the server refused the login (wrong password, or no such login); "
                                    "check the user name and password")
    if "no pg_hba.conf entry" in text:
        return AuthenticationFailed(f"{where}: the server does not let this login in from this workstation "
                                    "(pg_hba.conf); ask the server's administrator")
    match = re.search(r'database "([^"]*)" does not exist', text)
    if match:
        return UnknownDatabase(f"{where}: the server has no database named {match.group(1)!r}")
    if re.search(r'role "[^"]*" does not exist', text):
        return AuthenticationFailed(f"{where}: the server has no such login; check the user name")
    if "permission denied for database" in text or "not permitted to log in" in text:
        return PermissionRefused(f"{where}: this login may not use this database; ask the clinic's TOHtrack "
                                 "administrator to add it (tohtrack admin add-user)")
    return ServerUnavailable(f"{where}: cannot reach the clinic server ({detail}); nothing was written")


def _error(where: str, exc: psycopg.Error, url: str) -> StoreError:
    """A driver error met while working, as the store's typed error."""
    detail = " ".join(_redact(str(exc), url).split())
    if isinstance(exc, (psycopg.OperationalError, psycopg.InterfaceError)) and not isinstance(
            exc, (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected,
                  psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled)):
        return ServerUnavailable(f"{where}: the connection to the clinic server was lost ({detail}); the last "
                                 "action was not written — try again when the server is back")
    if isinstance(exc, (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected,
                        psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled)):
        return StoreBusy(f"{where}: the database is busy (another workstation is writing); nothing was written, "
                         "try again")
    if isinstance(exc, psycopg.errors.InsufficientPrivilege):
        return PermissionRefused(f"{where}: the server does not allow this for this login ({detail}); nothing "
                                 "was written")
    if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
        return StoreReadOnly(f"{where}: the database is read-only here; nothing was written")
    if isinstance(exc, (psycopg.errors.DiskFull, psycopg.errors.InsufficientResources)):
        return DiskFull(f"{where}: the server's disk is full; nothing was written")
    return StoreError(f"{where}: database error: {detail}")


def _mapped(method):
    """Run a store method on a live connection (reconnecting after a lost one) with driver errors mapped."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        self._ensure_connected()
        try:
            return method(self, *args, **kwargs)
        except psycopg.Error as exc:
            raise _error(self.path, exc, self._url) from None

    return run


class _WholeNumbers(FloatLoader):
    """double precision read as SQLite's NUMERIC affinity gives it back: a whole number as an int."""

    def load(self, data):  # type: ignore[override]
        value = super().load(data)
        return int(value) if value.is_integer() else value


def _placeholders(table: Table) -> tuple[list[str], list[str]]:
    own = [c for c in table.columns if c != table.parent]
    return own, ["id", *([table.parent] if table.parent else []), *own]


def _q(name: str) -> str:
    return f'"{name}"'


# ---------------------------------------------------------------------------
# Connecting and the schema
# ---------------------------------------------------------------------------


def _connect(url: str, where: str) -> psycopg.Connection:
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name="tohtrack")
    except psycopg.Error as exc:
        raise _connect_error(where, exc, url) from None
    except ValueError as exc:  # a URL libpq cannot read
        raise StoreError(f"{where}: not a PostgreSQL URL libpq can read ({exc})") from None
    conn.adapters.register_loader("float8", _WholeNumbers)
    conn.execute("SET search_path = public")
    conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT_S}s'")
    return conn


def applied_migrations(conn: psycopg.Connection) -> list[str]:
    if conn.execute("SELECT to_regclass('public.tohtrack_migrations')").fetchone()[0] is None:
        return []
    return [r[0] for r in conn.execute("SELECT name FROM tohtrack_migrations WHERE migration_set = %s ORDER BY "
                                       "applied, name", (MIGRATION_SET,))]


def _user_tables(conn: psycopg.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def _inspect(conn: psycopg.Connection, where: str) -> tuple[list[str], list[str]]:
    """(applied, pending) migrations; refuses a database that is not TOHtrack's or is newer."""
    tables = _user_tables(conn)
    applied = applied_migrations(conn)
    if tables - {"tohtrack_migrations"} and not applied:
        raise NotATohtrackDatabase(f"{where}: this PostgreSQL database has tables, but it is not a TOHtrack "
                                   "database")
    known = [name for name, _ in pg_schema.MIGRATIONS]
    unknown = [name for name in applied if name not in known]
    if unknown:
        raise DatabaseTooNew(f"{where}: this database was written by a newer TOHtrack (schema "
                             f"{', '.join(sorted(unknown))}); update TOHtrack to open it")
    if applied != known[:len(applied)]:
        raise NotATohtrackDatabase(f"{where}: the schema's migrations ({', '.join(applied)}) are not TOHtrack's in "
                                   "their order (changed outside TOHtrack)")
    return applied, [name for name in known if name not in applied]


def _migrate(conn: psycopg.Connection, where: str) -> list[str]:
    """Apply the pending migrations in one transaction (all or nothing); returns their names."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('tohtrack migrations'))")  # two first opens at once
        _, pending = _inspect(conn, where)
        if not pending:
            return []
        conn.execute(pg_schema.MIGRATIONS_TABLE)
        scripts = dict(pg_schema.MIGRATIONS)
        for name in pending:
            for statement in pg_schema.statements(scripts[name]):
                conn.execute(statement)
            conn.execute("INSERT INTO tohtrack_migrations (migration_set, name, applied) VALUES (%s, %s, "
                         "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))",
                         (MIGRATION_SET, name))
        if _role_exists(conn, pg_schema.CLINICIAN_ROLE):
            _grant(conn)
    return pending


def _role_exists(conn: psycopg.Connection, role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None


def _grant(conn: psycopg.Connection) -> None:
    for statement in pg_schema.grants():
        conn.execute(statement)
    db = conn.execute("SELECT current_database()").fetchone()[0]
    conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
        sql.Identifier(db), sql.Identifier(pg_schema.CLINICIAN_ROLE)))


def _may_create(conn: psycopg.Connection) -> bool:
    return bool(conn.execute("SELECT has_schema_privilege('public', 'CREATE')").fetchone()[0])


# ---------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------


class PostgresStore(pg_registry.PostgresRegistry):
    """An open TOHtrack database on a PostgreSQL server. Every write is one transaction; its audit entries
    are the server's."""

    backend = "postgresql"

    def __init__(self, url: str, *, clinician: str = "", readonly: bool = False):
        self._requested_clinician = ""
        self.clinician = clinician  # checked as on SQLite; the audit's name is the server's (see `clinician`)
        self._url = url
        self.path = describe(url)  # what messages name: the database, without a password
        self.readonly = readonly
        self.migration_warnings: list[str] = []
        self.last_migration_backup = None
        self.witness_problem: str | None = None
        self.on_wait = None
        self.conn: psycopg.Connection | None = None
        self._depth = 0
        self._closed = False
        self._listener: psycopg.Connection | None = None
        self.conn = _connect(url, self.path)
        try:
            self._open()
        except psycopg.Error as exc:
            self.conn.close()
            raise _error(self.path, exc, url) from None
        except BaseException:
            self.conn.close()
            raise

    def _open(self) -> None:
        if self.readonly:
            self.conn.execute("SET default_transaction_read_only = on")
        applied, pending = _inspect(self.conn, self.path)
        if pending:
            if self.readonly or not _may_create(self.conn):
                if not applied:
                    raise NotATohtrackDatabase(
                        f"{self.path}: not a TOHtrack database yet (it is empty); its owner sets it up with "
                        "'tohtrack --db OWNER_URL admin init'")
                raise StoreError(f"{self.path}: the database's schema is older than this TOHtrack's; its owner "
                                 "upgrades it with 'tohtrack --db OWNER_URL admin init'")
            _migrate(self.conn, self.path)
            pg_registry.create_registry_indexes(self.conn)
        self.os_user = self.conn.execute("SELECT session_user").fetchone()[0]
        row = self.conn.execute("SELECT display_name FROM tohtrack_logins WHERE login = session_user").fetchone()
        self._server_name = row[0] if row else ""

    # -- who -------------------------------------------------------------------

    @property
    def clinician(self) -> str:
        """The name the audit records with this login: the display name the database owner gave it (`admin
        add-user --name`), never one the client sends."""
        return getattr(self, "_server_name", "")

    @clinician.setter
    def clinician(self, name: str) -> None:
        name = "" if name is None else name
        problem = model.check_clinician(name)
        if problem:
            raise ValidationError([Problem("clinician", problem)])
        self._requested_clinician = "" if model.is_blank(name) else name.strip()

    # -- connection --------------------------------------------------------------

    def _ensure_connected(self) -> None:
        """A new connection when the last one was lost (a server restart, pg_terminate_backend)."""
        if self.conn is not None and not self.conn.closed and not self.conn.broken:
            return
        if self._closed:
            raise StoreError(f"{self.path}: the database was closed")
        if self._depth:
            raise ServerUnavailable(f"{self.path}: the connection to the clinic server was lost; the last action "
                                    "was not written")
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
        self.conn = _connect(self._url, self.path)
        if self.readonly:
            self.conn.execute("SET default_transaction_read_only = on")

    def close(self) -> None:
        self._closed = True
        if self._listener is not None:
            self._listener.close()
        if self.conn is not None:
            self.conn.close()

    def reopen(self, *, readonly: bool = True) -> "PostgresStore":
        """Another connection to the same database with the same login (and the password this one was given,
        which no caller sees), e.g. for a worker thread."""
        return PostgresStore(self._url, clinician=self._requested_clinician, readonly=readonly)

    def __enter__(self) -> "PostgresStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- transactions --------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator["PostgresStore"]:
        """One write transaction: the head of the audit chain locked first (writes are serialised, as BEGIN
        IMMEDIATE does on SQLite); nested, a savepoint."""
        if self._depth:
            self._depth += 1
            try:
                with self.conn.transaction():
                    yield self
            finally:
                self._depth -= 1
            return
        self._ensure_connected()
        self._depth = 1
        try:
            with self.conn.transaction():
                self.conn.execute("SELECT tohtrack_begin_write()")
                yield self
        except psycopg.Error as exc:
            raise _error(self.path, exc, self._url) from None
        finally:
            self._depth = 0

    # -- generic row writes ----------------------------------------------------

    def _next_ids(self, table: Table, count: int) -> Iterator[int]:
        if count <= 0:
            return iter(())
        rows = self.conn.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                                 (table.name, count)).fetchall()
        return iter(sorted(r[0] for r in rows))

    def _row(self, query: str, params: Sequence[Any] = ()) -> dict | None:
        with self.conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(query, params).fetchone()

    def _current(self, table: Table, row_id: int, version: int | None) -> dict:
        current = self._row(f"SELECT * FROM {table.name} WHERE id = %s FOR UPDATE", (row_id,))
        if current is None:
            raise ConflictError(f"this {_noun(table)} was removed by another window or workstation")
        if version is not None and current["version"] != version:
            raise ConflictError(
                f"this {_noun(table)} was changed by another window or workstation since you opened it "
                f"(version {current['version']}, yours {version}); reload to see the changes")
        return current

    def _update_row(self, table: Table, row_id: int, version: int | None, new: dict[str, Any],
                    extra: dict[str, Any] | None = None) -> int:
        """Update the changed columns if the version is current (the server audits it and moves the version)."""
        current = self._current(table, row_id, version)
        changed = {c: v for c, v in new.items() if not _equal(current[c], v)}
        if not changed:
            return current["version"]
        assignments = dict(changed, **(extra or {}))
        row = self.conn.execute(
            f"UPDATE {table.name} SET {', '.join(f'{_q(c)} = %s' for c in assignments)} WHERE id = %s "
            "RETURNING version", (*assignments.values(), row_id)).fetchone()
        return row[0]

    def _delete_row(self, table: Table, row_id: int, version: int | None) -> None:
        self._current(table, row_id, version)
        self.conn.execute(f"DELETE FROM {table.name} WHERE id = %s", (row_id,))

    def _copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
        with self.conn.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)

    # -- adding whole patients (import, demo) ----------------------------------

    @_mapped
    def add_patients(self, patients: Sequence[Patient], paths: Sequence[str] | None = None,
                     today: dt.date | None = None, validate: bool = True) -> int:
        """Add patients with their whole histories in one transaction; all or nothing."""
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

    def add_patient(self, patient: Patient, today: dt.date | None = None) -> Patient:
        self.add_patients([patient], [""], today)
        return patient

    def mrn_clashes(self, patients: Sequence[Patient], paths: Sequence[str]) -> list[Problem]:
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

    def _insert_patients(self, patients: Sequence[Patient]) -> None:
        """Bulk insert (COPY) with ids from the tables' sequences; the server audits each row."""
        patient_ids = self._next_ids(PATIENTS, len(patients))
        episode_ids = self._next_ids(EPISODES, sum(len(p.episodes) for p in patients))
        finding_ids = {t.name: self._next_ids(t, sum(len(getattr(e, t.name)) for p in patients for e in p.episodes))
                       for t in (IMAGING, SYMPTOMS, TREATMENTS)}
        rows: dict[str, list[tuple]] = {t.name: [] for t in (PATIENTS, EPISODES, IMAGING, SYMPTOMS, TREATMENTS)}
        for patient in patients:
            pid = next(patient_ids)
            rows["patients"].append((pid, *PATIENTS.values(patient), fold(patient.family_name),
                                     fold(patient.given_name), model.mrn_key(patient.mrn)))
            patient.id, patient.version = pid, 1
            for episode in patient.episodes:
                eid = next(episode_ids)
                rows["episodes"].append((eid, pid, *EPISODES.values(episode)))
                episode.id, episode.version = eid, 1
                for table in (IMAGING, SYMPTOMS, TREATMENTS):
                    for record in getattr(episode, table.name):
                        fid = next(finding_ids[table.name])
                        rows[table.name].append((fid, eid, *table.values(record)))
                        record.id, record.version = fid, 1
        _, columns = _placeholders(PATIENTS)
        self._copy_rows("patients", [*columns, "family_key", "given_key", "mrn_key"], rows["patients"])
        for table in (EPISODES, IMAGING, SYMPTOMS, TREATMENTS):
            if rows[table.name]:
                self._copy_rows(table.name, _placeholders(table)[1], rows[table.name])

    # -- single-record writes ------------------------------------------------------

    @_mapped
    def update_patient(self, patient: Patient, today: dt.date | None = None) -> Patient:
        """Save the patient's own fields; `patient.version` must be the one read."""
        problems = model.check_patient_fields(patient, "", today)
        with self.transaction():
            current = self._patient_row(patient.id)
            extra = {"family_key": fold(patient.family_name), "given_key": fold(patient.given_name)}
            if patient.mrn != current["mrn"] and isinstance(patient.mrn, str):
                extra["mrn_key"] = model.mrn_key(patient.mrn)
                other = self.conn.execute("SELECT id, mrn FROM patients WHERE mrn_key = %s AND id <> %s",
                                          (extra["mrn_key"], patient.id)).fetchone()
                if other is not None:
                    what = (f"{patient.mrn!r} already exists" if other[1] == patient.mrn
                            else f"{patient.mrn!r} is the same MRN as {other[1]!r}")
                    problems.append(Problem("mrn", f"{what} in the database"))
            problems += self._pregnancy_problems(patient)
            first_onset = self.conn.execute("SELECT min(symptom_onset) FROM episodes WHERE patient_id = %s",
                                            (patient.id,)).fetchone()[0]
            if first_onset and patient.birth_date and patient.birth_date.isoformat() > first_onset:
                problems.append(Problem("birth_date", f"{patient.birth_date.isoformat()} is after the "
                                                      f"symptom onset of an episode ({first_onset})"))
            if problems:
                raise ValidationError(problems)
            patient.version = self._update_row(PATIENTS, patient.id, patient.version, PATIENTS.to_row(patient),
                                               extra=extra)
        return patient

    def _pregnancy_problems(self, patient: Patient) -> list[Problem]:
        for pregnancy, onset in self.conn.execute(
                "SELECT pregnancy, symptom_onset FROM episodes WHERE patient_id = %s AND pregnancy IS NOT NULL "
                "ORDER BY symptom_onset", (patient.id,)):
            problem = model.pregnancy_problem(pregnancy, patient.sex, patient.birth_date, _date_in(onset))
            if problem:
                field = "sex" if patient.sex == "male" else "birth_date"
                return [Problem(field, f"the episode of {onset} records a pregnancy: {problem}")]
        return []

    @_mapped
    def set_archived(self, patient_id: int, version: int | None, archived: bool = True) -> int:
        """Archive (or bring back) a patient; returns the new version."""
        with self.transaction():
            self._patient_row(patient_id)
            return self._update_row(PATIENTS, patient_id, version, {"archived": int(archived)})

    @_mapped
    def add_episode(self, patient_id: int, episode: Episode, today: dt.date | None = None) -> Episode:
        """Add an episode with any findings it carries; on failure nothing is written and it keeps no ids."""
        try:
            with self.transaction():
                patient = self._patient_for_check(patient_id)
                self._check_episode(patient, episode, today)
                problems = model.check_findings(episode, "", today)
                if problems:
                    raise ValidationError(problems)
                eid = next(self._next_ids(EPISODES, 1))
                _, columns = _placeholders(EPISODES)
                self.conn.execute(f"INSERT INTO episodes ({', '.join(map(_q, columns))}) VALUES "
                                  f"({', '.join(['%s'] * len(columns))})", (eid, patient_id, *EPISODES.values(episode)))
                episode.id, episode.version = eid, 1
                for record in [*episode.imaging, *episode.symptoms, *episode.treatments]:
                    self._add_finding(eid, record, today)
        except BaseException:
            _forget_ids([episode])
            raise
        return episode

    @_mapped
    def update_episode(self, episode: Episode, today: dt.date | None = None) -> Episode:
        with self.transaction():
            patient_id = self._episode_row(episode.id)["patient_id"]
            patient = self._patient_for_check(patient_id)
            self._check_episode(patient, episode, today)
            episode.version = self._update_row(EPISODES, episode.id, episode.version, EPISODES.to_row(episode))
        return episode

    @_mapped
    def delete_episode(self, episode_id: int, version: int | None) -> None:
        """Remove an episode and its findings (each removal audited by the server)."""
        with self.transaction():
            self._current(EPISODES, episode_id, version)
            for table in (IMAGING, SYMPTOMS, TREATMENTS):
                for (fid,) in self.conn.execute(f"SELECT id FROM {table.name} WHERE episode_id = %s ORDER BY id",
                                                (episode_id,)).fetchall():
                    self._delete_row(table, fid, None)
            self._delete_row(EPISODES, episode_id, version)

    @_mapped
    def add_finding(self, episode_id: int, record: ImagingStudy | SymptomRecord | Treatment,
                    today: dt.date | None = None):
        """Add an imaging study, symptom record or treatment to an episode."""
        try:
            with self.transaction():
                self._add_finding(episode_id, record, today)
        except BaseException:
            _forget_ids([record])
            raise
        return record

    def _add_finding(self, episode_id: int, record: Any, today: dt.date | None) -> None:
        table = FINDING_TABLES[type(record)]
        episode = self._episode_row(episode_id)
        self._check_finding(record, episode, today)
        fid = next(self._next_ids(table, 1))
        _, columns = _placeholders(table)
        self.conn.execute(f"INSERT INTO {table.name} ({', '.join(map(_q, columns))}) VALUES "
                          f"({', '.join(['%s'] * len(columns))})", (fid, episode_id, *table.values(record)))
        record.id, record.version = fid, 1

    @_mapped
    def update_finding(self, record: ImagingStudy | SymptomRecord | Treatment, today: dt.date | None = None):
        table = FINDING_TABLES[type(record)]
        with self.transaction():
            row = self.conn.execute(f"SELECT episode_id FROM {table.name} WHERE id = %s", (record.id,)).fetchone()
            if row is None:
                raise ConflictError(f"this {_noun(table)} was removed by another window or workstation")
            episode = self._episode_row(row[0])
            self._check_finding(record, episode, today)
            record.version = self._update_row(table, record.id, record.version, table.to_row(record))
        return record

    @_mapped
    def delete_finding(self, record: ImagingStudy | SymptomRecord | Treatment) -> None:
        table = FINDING_TABLES[type(record)]
        with self.transaction():
            row = self.conn.execute(f"SELECT 1 FROM {table.name} WHERE id = %s", (record.id,)).fetchone()
            if row is None:
                raise ConflictError(f"this {_noun(table)} was already removed by another window or workstation")
            self._delete_row(table, record.id, record.version)

    # validation against what is stored

    def _patient_row(self, patient_id: int | None) -> dict:
        row = self._row("SELECT * FROM patients WHERE id = %s", (patient_id,))
        if row is None:
            raise ConflictError("this patient is not in the database (another workstation may have changed it)")
        return row

    def _episode_row(self, episode_id: int | None) -> dict:
        row = self._row("SELECT * FROM episodes WHERE id = %s", (episode_id,))
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
                first = self.conn.execute(f"SELECT min({column}) FROM {table.name} WHERE episode_id = %s",
                                          (episode.id,)).fetchone()[0]
                if first is not None and first < onset:
                    problems.append(Problem("symptom_onset", f"{onset} is after the {_noun(table)} of {first} "
                                                             "in this episode"))
        if episode.id is not None and episode.site in model.SITES:
            allowed = model.regions_of(episode.site)
            for day, regions in self.conn.execute(
                    "SELECT date, edema_regions FROM imaging WHERE episode_id = %s ORDER BY date, id", (episode.id,)):
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

    def _check_finding(self, record: Any, episode: dict, today: dt.date | None) -> None:
        onset = dt.date.fromisoformat(episode["symptom_onset"])
        check = {ImagingStudy: model.check_imaging, SymptomRecord: model.check_symptom,
                 Treatment: model.check_treatment}[type(record)]
        problems = (check(record, "", onset, today, episode["site"]) if check is model.check_imaging
                    else check(record, "", onset, today))
        if problems:
            raise ValidationError(problems)

    # -- reading ---------------------------------------------------------------

    @_mapped
    def patient_id(self, mrn: str) -> int:
        """The patient with this MRN in any spelling that is the same MRN (model.mrn_key)."""
        row = self.conn.execute("SELECT id FROM patients WHERE mrn = %s", (mrn.strip(),)).fetchone()
        if row is None:
            row = self.conn.execute("SELECT id FROM patients WHERE mrn_key = %s", (model.mrn_key(mrn),)).fetchone()
        if row is None:
            raise NotFound(f"no patient with MRN {mrn.strip()!r}")
        return row[0]

    @_mapped
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
            ids = self._patient_ids(include_archived)
        for i in range(0, len(ids), batch):
            yield from self._load_batch(ids[i:i + batch])

    @_mapped
    def _patient_ids(self, include_archived: bool) -> list[int]:
        query = "SELECT id FROM patients" + ("" if include_archived else " WHERE archived = 0") + " ORDER BY mrn"
        return [r[0] for r in self.conn.execute(query)]

    @_mapped
    def _load_batch(self, ids: Sequence[int]) -> list[Patient]:
        return self._load_patients(ids)

    @_mapped
    def count_patients(self, include_archived: bool = True) -> int:
        query = "SELECT count(*) FROM patients" + ("" if include_archived else " WHERE archived = 0")
        return self.conn.execute(query).fetchone()[0]

    def _load_patients(self, ids: Sequence[int], with_findings: bool = True) -> list[Patient]:
        """Patients with their episodes (and findings), in the order of `ids`, as of one snapshot.

        The queries of a batch go to the server together (pipeline mode): one round trip, not six."""
        ids = list(ids)
        queries = [f"SELECT {PATIENTS.select} FROM patients WHERE id = ANY(%s)",
                   f"SELECT {EPISODES.select} FROM episodes WHERE patient_id = ANY(%s) ORDER BY symptom_onset, site, id"]
        if with_findings:
            queries += [f"SELECT {t.select} FROM {t.name} WHERE episode_id IN (SELECT id FROM episodes WHERE "
                        f"patient_id = ANY(%s)) ORDER BY episode_id, {_ORDER[t.name]}" for t in (IMAGING, SYMPTOMS, TREATMENTS)]
        chunks = [ids[i:i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
        own = self.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        by_id: dict[int, Patient] = {}
        try:
            for n, chunk in enumerate(chunks):
                with self.conn.pipeline():
                    if own and n == 0:
                        self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    cursors = [self.conn.execute(q, (chunk,)) for q in queries]
                    if own and n == len(chunks) - 1:
                        self.conn.execute("COMMIT")
                results = [c.fetchall() for c in cursors]
                found = {row[0]: PATIENTS.from_tuple(row) for row in results[0]}
                by_id.update(found)
                episodes: dict[int, Episode] = {}
                for row in results[1]:
                    episode = EPISODES.from_tuple(row)
                    found[row[2]].episodes.append(episode)
                    episodes[episode.id] = episode
                for table, rows in zip((IMAGING, SYMPTOMS, TREATMENTS), results[2:]):
                    for row in rows:
                        getattr(episodes[row[2]], table.name).append(table.from_tuple(row))
        except BaseException:
            if own and not self.conn.closed and self.conn.info.transaction_status in (
                    psycopg.pq.TransactionStatus.INTRANS, psycopg.pq.TransactionStatus.INERROR):
                with contextlib.suppress(psycopg.Error):
                    self.conn.execute("ROLLBACK")
            raise
        return [by_id[i] for i in ids if i in by_id]

    @_mapped
    def existing_mrns(self, mrns: Iterable[str]) -> dict[str, tuple[str, bool]]:
        """Which of these MRNs exist: {mrn_key: (the MRN as stored, archived)}."""
        keys = list(dict.fromkeys(model.mrn_key(m) for m in mrns if isinstance(m, str)))
        found: dict[str, tuple[str, bool]] = {}
        for i in range(0, len(keys), _CHUNK):
            for key, mrn, archived in self.conn.execute(
                    "SELECT mrn_key, mrn, archived FROM patients WHERE mrn_key = ANY(%s)", (keys[i:i + _CHUNK],)):
                found[key] = (mrn, bool(archived))
        return found

    @_mapped
    def all_mrns(self) -> MrnSet:
        """Every MRN stored; `in` compares as MRNs compare (model.mrn_key)."""
        return MrnSet(self.conn.execute("SELECT mrn, mrn_key FROM patients").fetchall())

    def mrn_key_clashes(self) -> list[str]:
        """None on PostgreSQL: its databases were made with the MRN rules (every patient has its key)."""
        return []

    # -- settings ----------------------------------------------------------------

    @_mapped
    def setting_texts(self) -> dict[str, str]:
        stored = dict(self.conn.execute("SELECT key, value FROM settings").fetchall())
        return {key: stored.get(key, settings_mod.DEFAULTS[key]) for key in settings_mod.KEYS}

    def settings(self) -> "settings_mod.Settings":
        return settings_mod.from_texts(self.setting_texts())

    @_mapped
    def set_setting(self, key: str, text: str) -> str:
        """Validate and store one setting (audited by the server); returns its canonical text."""
        value = settings_mod.format(key, settings_mod.parse(key, text))
        with self.transaction():
            row = self._row("SELECT id FROM settings WHERE key = %s", (key,))
            if row is None:
                self.conn.execute("INSERT INTO settings (key, value) VALUES (%s, %s)", (key, value))
            else:
                self._update_row(SETTINGS, row["id"], None, {"value": value})
        return value

    # -- the audit trail ---------------------------------------------------------

    @_mapped
    def audit_entries(self, patient_id: int | None = None) -> Iterator[AuditEntry]:
        query = ("SELECT a.id, a.at, a.os_user, a.clinician, a.table_name, a.row_id, a.patient_id, a.action, "
                 "a.old, a.new, p.mrn FROM audit a LEFT JOIN patients p ON p.id = a.patient_id")
        params: list[Any] = []
        if patient_id is not None:
            query += " WHERE a.patient_id = %s"
            params.append(patient_id)
        rows = self.conn.execute(query + " ORDER BY a.id", params).fetchall()
        return iter([AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
                                _in_column_order(r[4], r[8]), _in_column_order(r[4], r[9]), r[10]) for r in rows])

    @_mapped
    def audit_head(self) -> tuple[int, str]:
        """(entry count, head hash) of the trail; (0, the genesis hash) if empty."""
        row = self.conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else (0, GENESIS_HASH)

    @_mapped
    def hash_at(self, count: int) -> str | None:
        if count == 0:
            return GENESIS_HASH
        row = self.conn.execute("SELECT hash FROM audit WHERE id = %s", (count,)).fetchone()
        return str(row[0]) if row else None

    def audit_seal(self) -> str:
        count, head = self.audit_head()
        return f"{count}·{head[:SEAL_DIGITS]}"

    def verify_seal(self, seal: str) -> list[str]:
        """What is wrong when a printed seal is held against this trail (empty: it matches); ValueError for text
        that is not a seal (as tohtrack.db.Store.verify_seal)."""
        count, prefix = dbmod.parse_seal(seal)
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

    # -- backup ----------------------------------------------------------------------

    def backup(self, target) -> "Path":
        """The whole database as a TOHtrack SQLite file (portable; `restore` and `copy` take it back): written
        in a private scratch folder beside the target, checked, then moved into place (as SQLite's backups)."""
        from .. import safety
        from .pg_copy import copy_database

        with safety.private_scratch(target, None, backup=True) as (partial, install):
            copy_database(self._url, str(partial), witness=False)
            import sqlite3

            file = sqlite3.connect(str(partial))
            try:  # one self-contained file, as SQLite's own backups are
                file.execute("PRAGMA journal_mode = DELETE")
            finally:
                file.close()
            return install()

    def rotate_backups(self, keep: int | None = None, every: dt.timedelta = dt.timedelta(days=1),
                       now: dt.datetime | None = None) -> Path | None:
        """Not a workstation's job on a server: a clinic server's database is backed up on the server (its own
        pg_dump, or `tohtrack backup -o FILE` when wanted). Raises StoreError saying so; nothing is written."""
        raise StoreError(f"{self.path}: automatic backups of a clinic server's database are the server's (pg_dump "
                         "on the server, or 'tohtrack backup -o FILE'), not a workstation's; nothing was written")

    def _owns_database(self) -> bool:
        """Whether this login may set the server's guards aside (it owns the tables: the database's owner)."""
        row = self.conn.execute("SELECT pg_has_role(session_user, c.relowner, 'USAGE') FROM pg_class c "
                                "WHERE c.oid = 'public.audit'::regclass").fetchone()
        return bool(row and row[0])

    @_mapped
    def restore(self, backup) -> Path:
        """Put a checked TOHtrack backup (a SQLite file, as `backup` writes) in place of this database's contents,
        as `restore` does for a SQLite file: records, audit trail with its chain, identity, carried anchors,
        settings and summaries, in one transaction (other workstations see the old state or the new, never a
        mix, and are told by LISTEN/NOTIFY). The replaced contents are kept first as a backup file beside the
        one restored (`<database>-replaced-<UTC time>.sqlite3`); its path is returned.

        Only the database's owner may restore (the server's guards are set aside inside the transaction);
        another login gets PermissionRefused, nothing written. Raises ValidationError, nothing changed, when
        the backup fails its check (tohtrack.db.check_backup) or its schema is not this version's."""
        from .. import witness
        from .pg_copy import restore_into_postgres

        backup = Path(backup)
        problems = dbmod.check_backup(backup)
        if problems:
            raise ValidationError([Problem(str(backup), p) for p in problems])
        if self.readonly:
            raise StoreReadOnly(f"{self.path}: opened read-only; nothing was restored")
        if not self._owns_database():
            raise PermissionRefused(f"{self.path}: only the database's owner may restore a backup into a clinic "
                                    "server's database ('tohtrack --db OWNER_URL restore FILE'); nothing was written")
        with dbmod.Store(backup, readonly=True) as candidate:  # before anything is kept: nothing to keep then
            if list(candidate.applied_migrations()) != list(KNOWN):
                raise ValidationError([Problem(str(backup), "its schema is not this TOHtrack's: open it once with "
                                                            "TOHtrack to upgrade it, then restore it")])
        database = self.conn.execute("SELECT current_database()").fetchone()[0]
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        kept = self.backup(dbmod._unused(backup.resolve().parent / f"{database}-replaced-{stamp}.sqlite3"))
        identity, count, head = restore_into_postgres(backup, self)
        if identity is not None and witness.valid_identity(identity):
            try:  # this workstation's witness takes the restored trail, even back in time (as on SQLite)
                witness.observe(identity, count, head, self.path, self.hash_at, force=True)
                self.witness_problem = None
            except witness.WitnessError as exc:
                self.witness_problem = str(exc)
                dbmod._warn(f"{exc}; the restore itself was saved")
        return kept

    @_mapped
    def accept_as_seen(self) -> tuple[Any, Any, int, str]:
        """Accept this database as it is (as tohtrack.db.Store.accept_as_seen): an audit entry saying what this
        workstation's witness held and what the database has, appended by the server's own chain function, then
        the witness moved to it. The database's owner's to do (a clinician login may not append entries of its
        own: PermissionRefused, nothing written). Returns (what the witness held, which database it had seen at
        this URL, entries, head) as they were before."""
        from .. import witness

        identity = self.identity()
        if identity is None or not witness.valid_identity(identity):
            raise StoreError(f"{self.path}: this database has no valid identity to anchor (it was removed or "
                             "changed outside TOHtrack)")
        if self.readonly:
            raise StoreReadOnly(f"{self.path}: opened read-only; nothing was accepted")
        if not self._owns_database():
            raise PermissionRefused(f"{self.path}: only the database's owner may accept a clinic server's database "
                                    "as it is ('tohtrack --db OWNER_URL check --accept'); nothing was accepted")
        try:
            held, at_path, old = witness.before_accepting(identity, self.path)
        except witness.WitnessError as exc:
            raise StoreError(f"{exc}; nothing was accepted") from None
        count, head = self.audit_head()
        with self.transaction():
            self.conn.execute("SELECT tohtrack_audit_append('database', 1, NULL, 'accept', %s, %s)",
                              (dbmod._dump(old), dbmod._dump({"count": count, "head": head,
                                                              "path": witness._text(self.path)})))
        after_count, after_head = self.audit_head()
        try:
            witness.observe(identity, after_count, after_head, self.path, self.hash_at, force=True)
            self.witness_problem = None
        except witness.WitnessError as exc:
            raise StoreError(f"{exc}; the acceptance is in the audit trail, but the witness could not be "
                             "moved") from None
        return held, at_path, count, head

    @_mapped
    def has_identity_table(self) -> bool:
        return self.conn.execute("SELECT to_regclass('public.audit_identity')").fetchone()[0] is not None

    def verify_stats_figures(self, limit: int = 20) -> list[str]:
        """None to verify: the server keeps no per-episode cache of the cohort statistics (stats_records reads
        the records)."""
        return []

    # -- changes from other workstations (LISTEN/NOTIFY) ---------------------------

    @_mapped
    def patients_changed_since(self, mark: int) -> tuple[int, set[int]]:
        """(the new mark, the patients changed) since `mark`, the audit entry count an earlier call returned (0:
        from the start). A setting changed gives no patient; compare the marks to see that anything changed."""
        row = self.conn.execute("SELECT coalesce(max(id), %s), coalesce(array_agg(DISTINCT patient_id) FILTER "
                                "(WHERE patient_id IS NOT NULL), '{}') FROM audit WHERE id > %s",
                                (mark, mark)).fetchone()
        return int(row[0]), set(row[1])

    def _listening(self) -> psycopg.Connection:
        """The connection that LISTENs for the workstations' commits (its own, opened on first use and again
        after it was lost)."""
        if self._listener is None or self._listener.closed or self._listener.broken:
            if self._listener is not None:
                self._listener.close()
            self._listener = _connect(self._url, self.path)
            self._listener.execute("LISTEN tohtrack_changes")
        return self._listener

    def change_socket(self) -> int:
        """A socket that becomes readable when a workstation (or this one) commits a change of records or
        settings: the GUI watches it (a QSocketNotifier) and then calls `wait_for_change(0)`. A new socket after
        the listening connection was lost: ask again after reconnecting."""
        try:
            return self._listening().fileno()
        except psycopg.Error as exc:
            raise _error(self.path, exc, self._url) from None

    def wait_for_change(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a commit by any workstation (or this one) that changed records or
        settings; True when one came (0: only what has already arrived). Listens on its own connection, opened
        on first use."""
        try:
            listener = self._listening()
            came = False
            for _ in listener.notifies(timeout=timeout, stop_after=1):
                came = True
            if came:  # the rest that are already there, without waiting
                for _ in listener.notifies(timeout=0):
                    pass
            return came
        except psycopg.Error as exc:
            raise _error(self.path, exc, self._url) from None

    @_mapped
    def identity(self) -> str | None:
        row = self.conn.execute("SELECT identity FROM audit_identity WHERE id = 1").fetchone()
        return row[0] if row else None

    @_mapped
    def applied_migrations(self) -> list[str]:
        return applied_migrations(self.conn)

    # -- integrity ---------------------------------------------------------------

    @_mapped
    def check(self) -> list[str]:
        """The server's guards in place, the identity and any carried anchors, the hash chain, and each row
        against its audit trail (as tohtrack.db.Store.check does); returns what is wrong (empty when all is well).

        Read as of one snapshot, so a check run while workstations write sees one consistent state."""
        idle = self.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        with self.conn.transaction() if idle else contextlib.nullcontext():
            if idle:
                self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            problems = self._check_guards()
            problems += self._check_identity_and_anchors()
            problems += self._check_chain()
            for row_id, mrn, key in self.conn.execute("SELECT id, mrn, mrn_key FROM patients ORDER BY id"):
                if key != model.mrn_key(mrn):
                    problems.append(f"patients row {row_id} ({mrn!r}): the MRN key does not match the MRN "
                                    "(changed outside TOHtrack)")
            for table in TABLES.values():
                problems += self._check_table_trail(table)
            for row_id, mrn, family, given, family_key, given_key in self.conn.execute(
                    "SELECT id, mrn, family_name, given_name, family_key, given_key FROM patients ORDER BY id"):
                if family_key != fold(family) or given_key != fold(given):
                    problems.append(f"patients row {row_id} ({mrn}): search keys do not match the name")
        problems += self.verify_summaries()  # the stored assessments against fresh ones (a cache)
        return problems

    def _check_guards(self) -> list[str]:
        """The triggers that make the server write the audit and keep it append-only: there, enabled, and their
        functions this version's."""
        problems = []
        present = {(t, n): enabled for t, n, enabled in self.conn.execute(
            "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' AND NOT t.tgisinternal")}
        for table, name in pg_schema.REQUIRED_TRIGGERS:
            if (table, name) not in present:
                problems.append(f"schema: the trigger {name} on {table} is missing (removed outside TOHtrack)")
            elif present[(table, name)] == "D":
                problems.append(f"schema: the trigger {name} on {table} is disabled (outside TOHtrack)")
        expected = _expected_functions()
        actual = dict(self.conn.execute(
            "SELECT p.proname, p.prosrc FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace "
            "WHERE s.nspname = 'public' AND p.proname = ANY(%s)", (list(pg_schema.GUARD_FUNCTIONS),)).fetchall())
        for name in pg_schema.GUARD_FUNCTIONS:
            if name not in actual:
                problems.append(f"schema: the function {name} is missing (removed outside TOHtrack)")
            elif " ".join(actual[name].split()) != expected.get(name):
                problems.append(f"schema: the function {name} is not TOHtrack's definition: it was replaced by a "
                                "different one (outside TOHtrack)")
        return problems

    def _check_identity_and_anchors(self) -> list[str]:
        from .. import witness

        problems = []
        identity = self.conn.execute("SELECT identity FROM audit_identity WHERE id = 1").fetchone()
        identity = identity[0] if identity else None
        if identity is None:
            problems.append("audit: the database identity was removed (outside TOHtrack)")
        elif not witness.valid_identity(identity):
            problems.append(f"audit: the database identity {str(identity)[:40]!r} is not one TOHtrack writes "
                            "(changed outside TOHtrack)")
        count = self.conn.execute("SELECT coalesce(max(id), 0) FROM audit").fetchone()[0]
        for carried, n, head, _seen, backed_up in self.conn.execute(
                "SELECT identity, count, head, seen, backed_up FROM audit_anchor").fetchall():
            when = witness.seen_words(str(backed_up))
            if carried != identity:
                problems.append(f"audit: the anchor carried since the backup of {when} belongs to another database")
            elif n > count:
                problems.append(f"audit: this database is {witness.entries(n - count)} behind what the workstation "
                                f"that made its backup on {when} had seen: entries were removed, or an older copy "
                                "was backed up")
            else:
                at = self.conn.execute("SELECT hash FROM audit WHERE id = %s", (n,)).fetchone()
                if (at[0] if at else GENESIS_HASH if n == 0 else None) != head:
                    problems.append(f"audit: the audit trail differs at entry {n} from what the workstation that "
                                    f"made its backup on {when} had seen: the chain was recomputed after a change")
        return problems

    def _check_chain(self) -> list[str]:
        problems = []
        prev, expected_id = GENESIS_HASH, 1
        with self.conn.cursor(name="tohtrack_chain") as cursor:  # server-side: a long trail is streamed
            cursor.itersize = 10_000
            cursor.execute("SELECT id, at, os_user, clinician, table_name, row_id, patient_id, action, old, new, hash "
                           "FROM audit ORDER BY id")
            for row in cursor:
                values = tuple(row)[:-1]
                if row[0] != expected_id:
                    problems.append(f"audit: entries {expected_id}–{row[0] - 1} are missing")
                if _entry_hash(prev, values) != row[-1]:
                    problems.append(f"audit: entry {row[0]} was changed or an entry before it was removed "
                                    "(hash chain broken)")
                    if len(problems) > 20:
                        problems.append("audit: more problems not listed")
                        break
                prev, expected_id = row[-1], row[0] + 1
        return problems

    def _check_table_trail(self, table: Table) -> list[str]:
        """Replay each row's audit entries and compare with the row as stored."""
        problems: list[str] = []
        columns = table.columns
        trail = self.conn.execute("SELECT row_id, action, new FROM audit WHERE table_name = %s ORDER BY row_id, id",
                                  (table.name,)).fetchall()
        with self.conn.cursor(row_factory=dict_row) as cur:
            rows = cur.execute(f"SELECT id, version, {', '.join(map(_q, columns))} FROM {table.name} "
                               "ORDER BY id").fetchall()
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


def _in_column_order(table: str, text: str | None) -> dict | None:
    """An entry's values (JSON the server wrote: jsonb orders keys by length) in the table's column order, as
    SQLite's entries have them, so that the trail reads the same on both (tohtrack.audit_words)."""
    if not text:
        return None
    values = json.loads(text)
    known = TABLES.get(table)
    if known is None or not isinstance(values, dict):
        return values
    order = {column: n for n, column in enumerate(known.columns)}
    return dict(sorted(values.items(), key=lambda item: order.get(item[0], len(order))))


def _equal(stored: Any, new: Any) -> bool:
    """Whether a stored value is the one about to be written (numbers by value: 5 and 5.0 are one)."""
    return _same(stored, new) if new is not None and stored is not None else stored is new


@functools.lru_cache(maxsize=1)
def _expected_functions() -> dict[str, str]:
    """This version's bodies of the guard functions, white space made one space (from the migration scripts)."""
    out = {}
    for _, script in pg_schema.MIGRATIONS:
        for statement in pg_schema.statements(script):
            match = re.search(r"^CREATE FUNCTION (\w+)\(", statement, re.MULTILINE)
            if match and "$$" in statement:
                body = statement.split("$$")[1]
                out[match.group(1)] = " ".join(body.split())
    return out


# ---------------------------------------------------------------------------
# The owner's commands: admin init, add-user, users
# ---------------------------------------------------------------------------


def admin_init(url: str) -> list[str]:
    """Create (or upgrade) the schema in the database and the clinician group role, with its grants.

    Returns what was done, in words. The login of `url` must own the database (or may create in its public
    schema) and, for a new group role, may create roles (CREATEROLE)."""
    where = describe(url)
    conn = _connect(url, where)
    done = []
    try:
        if not _may_create(conn):
            raise PermissionRefused(f"{where}: this login may not create tables in the database; run admin init "
                                    "as the database's owner")
        if not _role_exists(conn, pg_schema.CLINICIAN_ROLE):
            conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(pg_schema.CLINICIAN_ROLE)))
            done.append(f"created the group role {pg_schema.CLINICIAN_ROLE}")
        applied = _migrate(conn, where)
        pg_registry.create_registry_indexes(conn)
        if applied:
            done.append(f"applied the schema migrations {', '.join(applied)}")
        else:
            done.append("the schema is up to date")
        with conn.transaction():
            _grant(conn)
        done.append(f"granted {pg_schema.CLINICIAN_ROLE} what the app needs (and nothing else)")
        database = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(sql.SQL("ALTER DATABASE {} SET idle_in_transaction_session_timeout = {}").format(
            sql.Identifier(database), sql.Literal(f"{IDLE_IN_TRANSACTION_S}s")))
        done.append(f"sessions idle inside a transaction end after {IDLE_IN_TRANSACTION_S} s (they would hold "
                    "up every workstation's writes)")
    except psycopg.Error as exc:
        raise _error(where, exc, url) from None
    finally:
        conn.close()
    return done


def check_login(login: str) -> str | None:
    """What is wrong with a login name for a clinician (None: it may be used)."""
    if not isinstance(login, str) or not _LOGIN.fullmatch(login):
        return (f"{login!r} is not a login name TOHtrack creates: use 1–63 lower-case letters, digits, '_', '.' "
                "or '-', starting with a letter or '_'")
    if login.startswith("pg_") or login == pg_schema.CLINICIAN_ROLE:
        return f"{login!r} is a name reserved by PostgreSQL or TOHtrack"
    return None


def add_user(url: str, login: str, display_name: str, password: str) -> None:
    """Create a clinician login in the group role (the password sent only as a SCRAM verifier, never as text)."""
    where = describe(url)
    problem = check_login(login)
    if problem:
        raise ValidationError([Problem("login", problem)])
    name_problem = model.check_clinician(display_name)
    if name_problem:
        raise ValidationError([Problem("name", name_problem)])
    if not password:
        raise ValidationError([Problem("password", "an empty password is not allowed")])
    conn = _connect(url, where)
    try:
        applied, pending = _inspect(conn, where)
        if not applied or pending or not _role_exists(conn, pg_schema.CLINICIAN_ROLE):
            raise NotATohtrackDatabase(f"{where}: run 'admin init' on this database first")
        if _role_exists(conn, login):
            raise ValidationError([Problem("login", f"{login!r} already exists on this server")])
        verifier = conn.pgconn.encrypt_password(password.encode("utf-8"), login.encode("utf-8"), b"scram-sha-256")
        with conn.transaction():
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE {}").format(
                sql.Identifier(login), sql.Literal(verifier.decode("ascii")),
                sql.Identifier(pg_schema.CLINICIAN_ROLE)))
            conn.execute("INSERT INTO tohtrack_logins (login, display_name) VALUES (%s, %s) ON CONFLICT (login) "
                         "DO UPDATE SET display_name = EXCLUDED.display_name",
                         (login, "" if model.is_blank(display_name) else display_name.strip()))
    except psycopg.Error as exc:
        raise _error(where, exc, url) from None
    finally:
        conn.close()


def list_users(url: str) -> list[tuple[str, str, bool]]:
    """The clinician logins: (login, display name, may log in), by login."""
    where = describe(url)
    conn = _connect(url, where)
    try:
        logins = conn.execute("SELECT to_regclass('public.tohtrack_logins')").fetchone()[0]
        join = ("LEFT JOIN tohtrack_logins l ON l.login = r.rolname" if logins is not None
                else "LEFT JOIN (SELECT NULL::text AS login, ''::text AS display_name) l ON false")
        return [(r[0], r[1] or "", bool(r[2])) for r in conn.execute(
            "SELECT r.rolname, l.display_name, r.rolcanlogin FROM pg_auth_members m "
            "JOIN pg_roles r ON r.oid = m.member JOIN pg_roles g ON g.oid = m.roleid "
            # Members with the admin option administer the group (its creator, since PostgreSQL 16): not clinicians.
            f"{join} WHERE g.rolname = %s AND NOT m.admin_option ORDER BY r.rolname", (pg_schema.CLINICIAN_ROLE,))]
    except psycopg.Error as exc:
        raise _error(where, exc, url) from None
    finally:
        conn.close()


#: The migration names both backends share (tohtrack.schema.SCHEMA); a test holds them equal.
KNOWN = tuple(name for name, _ in pg_schema.MIGRATIONS)
assert KNOWN == SCHEMA, "the PostgreSQL migrations must be SQLite's, by name and order"


#: What tohtrack.store.open_store calls for a server URL.
open_store = PostgresStore
