"""The storage gateway's errors: what went wrong with the database, in plain words, whatever the backend.

The GUI and the command line catch these (by type, never by their text); no driver exception (sqlite3's,
psycopg's) leaves tohtrack.store. Each message names the database (its file, or the server) and says whether
anything was written.
"""

from __future__ import annotations


class StoreError(Exception):
    """A failure of the database that is not bad input (exit code 1)."""

    exit_code = 1


class NotATohtrackDatabase(StoreError):
    """The file or the server's database exists, but holds something other than a TOHtrack database."""


class DatabaseTooNew(StoreError):
    """The database was written by a newer TOHtrack (a schema migration this version does not know)."""


class DatabaseDamaged(StoreError):
    """The database cannot be read: a damaged file (or one that is not a database at all)."""


class NotADatabaseFile(StoreError):
    """A database path that is not a regular file (a FIFO, a device): bad input, exit code 2."""

    exit_code = 2


class ConflictError(StoreError):
    """The record was changed (or removed) by another window or workstation since it was read."""


class NotFound(StoreError):
    """A record asked for by the user does not exist (bad input: exit code 2)."""

    exit_code = 2


class StoreBusy(StoreError):
    """Another workstation or window kept the database busy for longer than a write waits; nothing was written."""


class StoreReadOnly(StoreError):
    """The database may be read but not written here (file permissions, a read-only medium or login)."""


class DiskFull(StoreError):
    """The disk (or the server's) is full or over a quota, or failed; nothing was written."""


class ServerUnavailable(StoreError):
    """The database server cannot be reached (stopped, restarting, the network or the login failed)."""


class AuthenticationFailed(StoreError):
    """The server refused the login (wrong password, unknown login, or not allowed by pg_hba.conf)."""


class UnknownDatabase(StoreError):
    """The server has no database of that name."""


class PermissionRefused(StoreError):
    """The server refused the action for this login (its role may not do it)."""


class BackendMissing(StoreError):
    """The database names a backend this installation does not include (e.g. PostgreSQL support)."""


__all__ = ["StoreError", "NotATohtrackDatabase", "DatabaseTooNew", "DatabaseDamaged", "NotADatabaseFile",
           "ConflictError", "NotFound", "StoreBusy", "StoreReadOnly", "DiskFull", "ServerUnavailable",
           "BackendMissing", "AuthenticationFailed", "UnknownDatabase", "PermissionRefused"]
