"""The names the rest of TOHtrack (and older code) imports the database by: a thin re-export of tohtrack.store.

Everything about storage lives in tohtrack/store/ (the gateway API, its errors and the backends); this module
holds no SQL and imports no database driver. New code may import from tohtrack.store directly.
"""

from __future__ import annotations

from .model import ValidationError  # noqa: F401 - imported from here by callers
from .store.errors import (  # noqa: F401
    AuthenticationFailed,
    BackendMissing,
    ConflictError,
    DatabaseDamaged,
    DatabaseTooNew,
    DiskFull,
    NotADatabaseFile,
    NotATohtrackDatabase,
    NotFound,
    PermissionRefused,
    ServerUnavailable,
    StoreBusy,
    StoreError,
    StoreReadOnly,
    UnknownDatabase,
)
from .store.sqlite.store import (  # noqa: F401
    BUSY_TIMEOUT_MS,
    GENESIS_HASH,
    SEAL_DIGITS,
    TABLES,
    WAIT_NOTICE_MS,
    AuditEntry,
    MrnSet,
    Store,
    _entry_hash,
    _open_error,
    _write_error,
    automatic_backups,
    backup_dir,
    backups_folder_problem,
    check_backup,
    default_path,
    fold,
    parse_seal,
    utc_now,
)
