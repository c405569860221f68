"""The storage gateway: the one way the rest of TOHtrack (core, command line, GUI) reaches a database.

Everything that speaks SQL or imports a database driver lives in this package; tests/test_layering.py fails
if any other module of tohtrack/ imports sqlite3, sqlite_utils or psycopg, or calls execute() itself.

- `Gateway` (below) is the API, written down for every backend: records in and out, every write one
  transaction with its audit entries, the registry's search and count, the worklist, the due and flagged
  patients, the stored assessments (tohtrack.summary), change marks for the GUI's refresh, backup, restore
  and check.
- `tohtrack.store.errors`: the typed errors (`StoreError` and its kinds). Callers catch these, never a
  driver's exception, and tell them apart by type, never by their text.
- `tohtrack.store.sqlite`: the SQLite backend (the embedded default: one file per workstation).
- `open_store(target)`: a path opens SQLite; a `postgresql://` or `postgres://` URL the PostgreSQL backend
  (`tohtrack.store.postgres`, imported only then).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ContextManager, Iterable, Iterator, Protocol, Sequence

from .errors import (  # noqa: F401 - the errors are part of the gateway's API
    BackendMissing,
    ConflictError,
    DatabaseDamaged,
    DatabaseTooNew,
    DiskFull,
    NotADatabaseFile,
    NotATohtrackDatabase,
    NotFound,
    ServerUnavailable,
    StoreBusy,
    StoreError,
    StoreReadOnly,
)

if TYPE_CHECKING:
    from tohtrack import registry, settings as settings_mod, summary
    from tohtrack.model import Episode, ImagingStudy, Patient, Problem, SymptomRecord, Treatment

    Finding = ImagingStudy | SymptomRecord | Treatment

#: How a database URL of the PostgreSQL backend starts (anything else names a SQLite file).
SERVER_SCHEMES = ("postgresql://", "postgres://")


def is_server_url(target: object) -> bool:
    """Whether `target` names a PostgreSQL database (a libpq URL) rather than a SQLite file."""
    return isinstance(target, str) and target.lstrip().lower().startswith(SERVER_SCHEMES)


def open_store(target: "str | os.PathLike | None" = None, *, clinician: str = "", readonly: bool = False,
               **options: Any) -> "Gateway":
    """Open the database `target` names: a SQLite file (a path; None: the default database), or, for a value
    starting `postgresql://` or `postgres://`, a PostgreSQL database through `tohtrack.store.postgres` (imported
    only then; BackendMissing if this installation has no PostgreSQL support). A URL is never taken for a file
    name: no file or folder named 'postgresql:' is ever made. Raises StoreError (one of its kinds)."""
    if is_server_url(target):
        import importlib

        try:
            postgres = importlib.import_module(f"{__name__}.postgres")
        except ImportError as exc:
            # psycopg itself missing, or present without a libpq to talk through (the frozen app uses the
            # workstation's: "no pq wrapper available").
            if exc.name not in (f"{__name__}.postgres", "psycopg", "psycopg_pool", "psycopg_binary", None):
                raise
            raise BackendMissing(
                f"{shown_url(str(target))}: PostgreSQL support is not installed in this TOHtrack "
                "(a database URL needs psycopg and the PostgreSQL client library libpq, e.g. the libpq5 "
                "package); nothing was opened") from None
        return postgres.open_store(str(target).strip(), clinician=clinician, readonly=readonly, **options)
    from .sqlite import Store

    return Store(target, clinician=clinician, readonly=readonly, **options)


def shown_url(url: str) -> str:
    """A database URL as it may be shown: without a password (libpq's user:password@ form)."""
    scheme, _, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        user, _, host = authority.rpartition("@")
        authority = f"{user.split(':', 1)[0]}@{host}"
    return f"{scheme}://{authority}{slash}{path.split('?', 1)[0]}"


class Gateway(Protocol):
    """What every backend provides (tohtrack.store.sqlite.Store is the reference). All methods raise StoreError
    (or a kind of it) for a failure of the database, ValidationError for records the rules refuse, NotFound
    for a record asked for that is not there, ConflictError for a stale update; never a driver's exception.

    Records are the dataclasses of tohtrack.model (Patient with its episodes, each with its imaging studies,
    symptom records and treatments); each carries `id` and `version` once stored. `today` arguments are the
    date writes are checked against (None: the workstation's date)."""

    #: What the database is: a SQLite file's path (the PostgreSQL backend: its URL without a password).
    path: Any
    #: Opened only for reading (no migrations, no writes; summaries may still be kept in a cache).
    readonly: bool
    #: Why the witness could not be moved on after the last commit (the commit stood), else None.
    witness_problem: str | None
    #: Told (with a sentence) when a write has waited for another writer longer than a moment.
    on_wait: Callable[[str], None] | None
    #: Warnings from the last schema upgrade (e.g. MRNs that clash under the MRN rules).
    migration_warnings: list[str]
    #: Who makes changes (stored with every audit entry); "" when nobody is named.
    clinician: str

    # -- lifecycle -------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection(s); the object is not used afterwards."""

    def reopen(self, *, readonly: bool = True) -> "Gateway":
        """Another connection to the same database as the same user (a worker thread's; opened in it)."""

    def __enter__(self) -> "Gateway": ...

    def __exit__(self, *exc: object) -> None: ...

    def transaction(self) -> ContextManager["Gateway"]:
        """One write transaction: everything written inside (with its audit entries) commits together or not
        at all; nested use joins the open one. Waits for another writer (telling `on_wait`), then StoreBusy."""

    def applied_migrations(self) -> list[str]:
        """The names of the schema migrations applied, in order (one numbering for every backend)."""

    # -- records: reads ------------------------------------------------------------------------------

    def patient(self, patient_id: int) -> "Patient":
        """One patient with the whole history (NotFound if there is none)."""

    def patient_by_mrn(self, mrn: str) -> "Patient":
        """The patient with this MRN under the MRN rules (NotFound)."""

    def patient_id(self, mrn: str) -> int:
        """The id of the patient with this MRN (NotFound)."""

    def patients(self, ids: Sequence[int] | None = None, include_archived: bool = True,
                 batch: int = 2000) -> "Iterator[Patient]":
        """Whole patient histories, by MRN (all patients when `ids` is None), loaded in batches."""

    def count_patients(self, include_archived: bool = True) -> int:
        """How many patients there are."""

    def patient_mrns(self, ids: Sequence[int] | None = None) -> list[tuple[int, str]]:
        """(id, MRN) of every patient, or of these ids (NotFound for one not there)."""

    def existing_mrns(self, mrns: Iterable[str]) -> dict[str, tuple[str, bool]]:
        """Of these MRNs, those taken: MRN key -> (the stored MRN, archived)."""

    def all_mrns(self) -> Any:
        """Every stored MRN, as a set that answers `in` under the MRN rules."""

    def mrn_clashes(self, patients: "Sequence[Patient]", paths: Sequence[str]) -> "list[Problem]":
        """Problems for patients whose MRN is taken (in the database or earlier in the list)."""

    def mrn_key_clashes(self) -> list[str]:
        """MRNs stored before the MRN rules that are one MRN under them (said, not refused)."""

    def setting_texts(self) -> dict[str, str]:
        """The stored settings as text, by key."""

    def settings(self) -> "settings_mod.Settings":
        """The stored settings (defaults for those not stored)."""

    # -- records: writes (each one transaction with its audit entries) ---------------------------------

    def add_patients(self, patients: "Sequence[Patient]", paths: Sequence[str] | None = None,
                     today: dt.date | None = None, validate: bool = True) -> int:
        """Add whole patients with their histories (an import) in one transaction, all or nothing."""

    def add_patient(self, patient: "Patient", today: dt.date | None = None) -> "Patient":
        """Add one patient (with any episodes and findings it holds)."""

    def update_patient(self, patient: "Patient", today: dt.date | None = None) -> "Patient":
        """Write a patient's own fields if its version is current (ConflictError otherwise)."""

    def set_archived(self, patient_id: int, version: int | None, archived: bool = True) -> int:
        """Archive (or bring back) a patient; returns its new version. Nothing is ever deleted."""

    def add_episode(self, patient_id: int, episode: "Episode", today: dt.date | None = None) -> "Episode":
        """Add an episode (with its findings) to a patient."""

    def update_episode(self, episode: "Episode", today: dt.date | None = None) -> "Episode":
        """Write an episode's own fields if its version is current."""

    def delete_episode(self, episode_id: int, version: int | None) -> None:
        """Remove an episode with its findings (audited: the trail keeps them)."""

    def add_finding(self, episode_id: int, record: "Finding", today: dt.date | None = None) -> "Finding":
        """Add an imaging study, symptom record or treatment to an episode."""

    def update_finding(self, record: "Finding", today: dt.date | None = None) -> "Finding":
        """Write a finding if its version is current."""

    def delete_finding(self, record: "Finding") -> None:
        """Remove a finding (audited)."""

    def set_setting(self, key: str, text: str) -> str:
        """Store one setting (checked; audited); returns the text stored."""

    # -- the audit trail and its witness ---------------------------------------------------------------

    def audit_entries(self, patient_id: int | None = None) -> Iterator[Any]:
        """The audit trail (AuditEntry), oldest first: all of it, or one patient's."""

    def audit_head(self) -> tuple[int, str]:
        """(entries, head hash) of the hash-chained trail."""

    def hash_at(self, count: int) -> str | None:
        """The trail's hash when it had `count` entries (None: it has fewer)."""

    def audit_seal(self) -> str:
        """The trail's head as printed on reports ('entries·hash prefix')."""

    def verify_seal(self, seal: str) -> list[str]:
        """What is wrong when a printed seal is held against the trail (empty: it matches)."""

    def identity(self) -> str | None:
        """The database's random identity (the witness's key), None for a database without one."""

    def accept_as_seen(self) -> tuple[Any, Any, int, str]:
        """Accept the database as it is (audited), moving the witness to it."""

    # -- the registry, the worklist and the cohort (tohtrack.registry, tohtrack.cohort) ---------------

    def search(self, text: str, filters: "registry.Filters", as_of: dt.date, sort: str = "name",
               descending: bool = False, limit: int = 200, after: tuple | None = None) -> "list[registry.PatientRow]":
        """One page of patients matching the text (registry.parse_query) and filters, in sort order, after the
        row whose `sort_key` is `after` (keyset paging: page 500 costs what page 1 costs)."""

    def count(self, text: str, filters: "registry.Filters", as_of: dt.date) -> int:
        """How many patients `search` would list."""

    def patient_row(self, patient_id: int, as_of: dt.date, sort: str = "name") -> "registry.PatientRow | None":
        """One patient's registry row with its sort key, or None."""

    def due_ids(self, as_of: dt.date, settings: "settings_mod.Settings | None" = None) -> frozenset[int]:
        """Unarchived patients due or overdue for review at as_of."""

    def flagged_ids(self, as_of: dt.date, settings: "settings_mod.Settings | None" = None) -> frozenset[int]:
        """Patients (archived too) with any course flag at as_of."""

    def active_patient_ids(self, as_of: dt.date) -> list[int]:
        """Unarchived patients with a TOH episode active at as_of."""

    def worklist_summaries(self, as_of: dt.date, settings: "settings_mod.Settings | None" = None,
                           columns: Sequence[str] = ()) -> "list[tuple[tuple, summary.Summary]]":
        """Each patient with an active TOH episode: (these columns of the patient, its summary at as_of)."""

    def flag_summaries(self, as_of: dt.date, patient_ids: Sequence[int] | None = None,
                       settings: "settings_mod.Settings | None" = None) -> "list[tuple[str, summary.Summary]]":
        """(MRN, summary with its flags JSON) of every unarchived patient, or of these patients."""

    def stats_records(self, as_of: dt.date, pooled: bool = True, pain: bool = True) -> "registry.StatsRecords":
        """What the cohort statistics read, as one consistent snapshot (tohtrack.registry.StatsRecords);
        pooled=False asks for the values record by record even where the backend keeps them per episode."""

    # -- stored assessments (tohtrack.summary: a cache, never a source of truth) -----------------------

    def has_summary_table(self) -> bool:
        """Whether the database keeps summaries (an older schema may not)."""

    def summaries(self, ids: Iterable[int], as_of: dt.date, settings: "settings_mod.Settings | None" = None,
                  flags_json: bool = True) -> "dict[int, summary.Summary]":
        """These patients' summaries at as_of: stored ones that hold, the others made (and kept if possible)."""

    def stored_summaries(self, ids: Sequence[int], as_of: dt.date, rules: str,
                         flags_json: bool = True) -> "dict[int, summary.Summary]":
        """Only the stored summaries that hold at as_of under these rules (none made)."""

    def clear_summaries(self) -> None:
        """Empty the cache (summaries are made again when next needed)."""

    def verify_summaries(self, limit: int = 20) -> list[str]:
        """Stored summaries that differ from a fresh assessment (part of `check`)."""

    # -- changes by other windows and workstations --------------------------------------------------------

    def change_mark(self) -> Any:
        """An opaque mark of where the database stands, for `changes_since`."""

    def changes_since(self, mark: Any) -> tuple[bool, Any]:
        """(whether another connection changed records or settings since `mark`, the mark to keep). Cheap when
        nothing happened: the GUI polls it about once a second."""

    # -- safety: backup, restore, check ----------------------------------------------------------------

    def backup(self, target: "str | os.PathLike") -> Path:
        """A consistent, checked copy as a TOHtrack SQLite file at `target` (moved into place when complete)."""

    def rotate_backups(self, keep: int | None = None, every: dt.timedelta = dt.timedelta(days=1),
                       now: dt.datetime | None = None) -> Path | None:
        """An automatic backup if the last is older than `every`, keeping the newest `keep`."""

    def restore(self, backup: "str | os.PathLike") -> Path:
        """Replace the database's contents with a checked backup; returns where the replaced state was kept."""

    def check(self) -> list[str]:
        """Everything wrong with the database: integrity, schema, the audit chain against the rows and the
        witness, search keys, summaries. Empty when all is well."""
