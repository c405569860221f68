"""`tohtrack --db SRC copy DEST`: a whole TOHtrack database — records with their ids and versions, the audit trail
with its hash chain, the database identity, carried anchors, settings and summaries — copied into an empty one,
SQLite to PostgreSQL or back (or between two of a kind).

The copy is the source as it is, row for row: no audit entry is added and none recomputed, so the trail's
chain, its seal on printed reports and `check` hold on the copy as on the source. The source must pass its
`check` first; the target must be empty (a new SQLite file, or a server database with no records). Into a
server database, the owner copies (its triggers, which would write new audit entries, are set aside inside the
copy's one transaction: no other session ever sees them off).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

from .errors import StoreError
from .sqlite import store as dbmod
from .sqlite.store import EPISODES, IMAGING, PATIENTS, SETTINGS, SYMPTOMS, TREATMENTS, Table
from ..model import Problem, ValidationError
from . import postgres


def _columns(table: Table) -> list[str]:
    own = [c for c in table.columns if c != table.parent]
    extra = ["family_key", "given_key", "mrn_key"] if table is PATIENTS else []
    return ["id", *([table.parent] if table.parent else []), *own, *extra, "version"]


#: What is copied, in an order that keeps every reference valid: (table, columns, order).
TABLES: list[tuple[str, list[str], str]] = [
    *((t.name, _columns(t), "id") for t in (PATIENTS, EPISODES, IMAGING, SYMPTOMS, TREATMENTS, SETTINGS)),
    ("audit", ["id", "at", "os_user", "clinician", "table_name", "row_id", "patient_id", "action", "old", "new",
               "hash"], "id"),
    ("audit_anchor", ["identity", "count", "head", "seen", "backed_up"], "backed_up, identity"),
    ("assessment_summary", ["patient_id", "rules", "valid_from", "valid_until", "pattern", "next_review", "due",
                            "overdue", "flag_count", "most_urgent", "active_sites", "flags_json"], "patient_id"),
]
_RECORD_TABLES = ("patients", "episodes", "imaging", "symptoms", "treatments", "settings")


def _open(target: str, readonly: bool):
    if postgres.is_postgres_url(target):
        return postgres.PostgresStore(target, readonly=readonly)
    return dbmod.Store(Path(target), readonly=readonly)


def _rows(store, table: str, columns: list[str], order: str) -> Iterator[tuple]:
    quoted = ", ".join(f'"{c}"' for c in columns)
    query = f"SELECT {quoted} FROM {table} ORDER BY {order}"
    if isinstance(store, postgres.PostgresStore):
        with store.conn.cursor(name=f"copy_{table}") as cursor:
            cursor.itersize = 5000
            cursor.execute(query)
            yield from (tuple(r) for r in cursor)
    else:
        cursor = store.conn.cursor()
        cursor.row_factory = None
        yield from cursor.execute(query)


@contextlib.contextmanager
def _snapshot(store) -> Iterator[None]:
    """Read the source as of one moment (a live server database may be written meanwhile)."""
    if isinstance(store, postgres.PostgresStore):
        try:
            with store.conn.transaction():
                store.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                yield
        except postgres.psycopg.Error as exc:
            raise postgres._error(store.path, exc, store._url) from None
        return
    store.conn.execute("BEGIN")
    try:
        yield
    finally:
        store.conn.execute("COMMIT")


def copy_database(source: str, target: str, *, witness: bool = True) -> dict[str, Any]:
    """Copy the database `source` into the empty `target` (each a SQLite path or a PostgreSQL URL).

    Returns counts (patients, audit entries) and the audit head. Raises ValidationError (nothing written) when
    the source fails its check or the target is not empty; StoreError for the rest."""
    if not postgres.is_postgres_url(target):
        path = Path(target)
        if path.exists() and (not path.is_file() or path.stat().st_size > 0):
            raise ValidationError([Problem("DEST", f"{target}: is already there; copy writes into a new file or an "
                                                   "empty server database only")])
    with _open(source, readonly=True) as src:
        problems = src.check()
        if problems:
            raise ValidationError([Problem("SRC", f"fails its check ({p})") for p in problems[:20]])
        if list(src.applied_migrations()) != list(postgres.KNOWN):
            raise ValidationError([Problem("SRC", "its schema is older than this TOHtrack's: open it once with "
                                                  "TOHtrack to upgrade it, then copy")])
        created_file = not postgres.is_postgres_url(target) and not Path(target).exists()
        try:
            with _open(target, readonly=False) as dest, _snapshot(src):
                identity, head, patients = src.identity(), src.audit_head(), src.count_patients()
                if dest.count_patients() or dest.audit_head()[0] or any(
                        r[0] for r in dest.conn.execute("SELECT count(*) FROM settings")):
                    raise ValidationError([Problem("DEST", f"{dest.path}: is not empty; copy writes into a new file "
                                                           "or an empty server database only")])
                if isinstance(dest, postgres.PostgresStore):
                    _into_postgres(src, dest, identity, head, patients)
                else:
                    _into_sqlite(src, dest, identity, witness)
                    _verify(dest, head, patients)
        except BaseException:
            if created_file:
                from ..safety import database_files

                for file in database_files(Path(target)):
                    with contextlib.suppress(OSError):
                        file.unlink()
            raise
    return {"patients": patients, "audit_entries": head[0], "head": head[1]}


def _verify(dest, head: tuple[int, str], patients: int) -> None:
    if dest.audit_head() != head or dest.count_patients() != patients:
        raise StoreError(f"{dest.path}: the copy does not match its source (audit head or patients); nothing "
                         "was kept")
    after = dest.check()
    if after:
        raise StoreError(f"{dest.path}: the copy fails its check ({after[0]}); nothing was kept")


def restore_into_postgres(backup: Path, dest: postgres.PostgresStore) -> tuple[str | None, int, str]:
    """Replace the contents of the server database `dest` with those of the checked TOHtrack SQLite file `backup`
    (PostgresStore.restore): in one transaction, its rows removed with the server's guards set aside (the
    owner's), the backup's copied in as `copy` does, checked before the commit. Returns (identity, entries,
    head) of the restored trail. ValidationError, nothing written, for a backup of another schema."""
    with dbmod.Store(backup, readonly=True) as src:
        if list(src.applied_migrations()) != list(postgres.KNOWN):
            raise ValidationError([Problem(str(backup), "its schema is not this TOHtrack's: open it once with "
                                                        "TOHtrack to upgrade it, then restore it")])
        with _snapshot(src):
            identity, head, patients = src.identity(), src.audit_head(), src.count_patients()
            _into_postgres(src, dest, identity, head, patients, replace=True)
    return identity, head[0], head[1]


def _into_postgres(src, dest: postgres.PostgresStore, identity: str | None, head: tuple[int, str],
                   patients: int, replace: bool = False) -> None:
    from psycopg import sql

    conn = dest.conn
    try:
        with conn.transaction():
            conn.execute("SELECT tohtrack_begin_write()")
            guarded = [*_RECORD_TABLES, "audit", "audit_identity", "assessment_summary"]
            for table in guarded:
                conn.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(sql.Identifier(table)))
            if replace:  # children before parents; the anchors and identity go with the trail they belong to
                for table in ("assessment_summary", "imaging", "symptoms", "treatments", "episodes", "patients",
                              "settings", "audit", "audit_anchor"):
                    conn.execute(sql.SQL("DELETE FROM {}").format(sql.Identifier(table)))
                conn.execute("SELECT pg_notify('tohtrack_changes', '')")  # other workstations reload at the commit
            if identity is not None:
                conn.execute("DELETE FROM audit_identity")
                conn.execute("INSERT INTO audit_identity (id, identity, created) SELECT 1, %s, "
                             "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')",
                             (identity,))
            for table, columns, order in TABLES:
                statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
                with conn.cursor() as cur, cur.copy(statement) as copy:
                    for row in _rows(src, table, columns, order):
                        copy.write_row(row)
            for table in guarded:
                conn.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(sql.Identifier(table)))
            for table in _RECORD_TABLES:  # new rows never take an id the trail already knows
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), greatest(1, "
                    f"(SELECT coalesce(max(id), 0) FROM {table}), (SELECT coalesce(max(row_id), 0) FROM audit "
                    f"WHERE table_name = '{table}')), (SELECT count(*) > 0 FROM {table}) OR EXISTS "
                    f"(SELECT 1 FROM audit WHERE table_name = '{table}'))")
            _verify(dest, head, patients)  # in the transaction: a copy that fails is not committed
    except postgres.psycopg.errors.InsufficientPrivilege:
        what = "restore a backup into it" if replace else "copy a database into it"
        raise postgres.PermissionRefused(f"{dest.path}: only the database's owner may {what}; "
                                         "nothing was written") from None
    except postgres.psycopg.Error as exc:
        raise postgres._error(dest.path, exc, dest._url) from None
    # Committed. The planner's statistics and the visibility map of the new rows now, rather than when autovacuum
    # comes by: until then searches guess their row counts and walk the table instead of the covering indexes.
    # (The copy stands whatever this meets.)
    with contextlib.suppress(postgres.psycopg.Error):
        for table in (*_RECORD_TABLES, "audit"):
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))


def _into_sqlite(src, dest: "dbmod.Store", identity: str | None, witness: bool) -> None:
    conn = dest.conn
    with dest.transaction():
        if identity is not None:
            # The new file's own random identity is replaced by the source's: its guards set aside and put back
            # exactly as they were (check compares them with this version's).
            guards = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND "
                                  "tbl_name = 'audit_identity'").fetchall()
            for name, _ in guards:
                conn.execute(f'DROP TRIGGER "{name}"')
            conn.execute("DELETE FROM audit_identity")
            conn.execute("INSERT INTO audit_identity (id, identity, created) VALUES (1, ?, ?)",
                         (identity, dbmod.utc_now()))
            for _, text in guards:
                conn.execute(text)
        for table, columns, order in TABLES:
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = _rows(src, table, columns, order)
            while True:
                batch = [row for _, row in zip(range(5000), rows)]
                if not batch:
                    break
                conn.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({', '.join('?' * len(columns))})", batch)
    if witness:
        dest._after_commit(force=True)  # the witness of this workstation takes the copy as it is
