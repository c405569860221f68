"""The stored assessments (tohtrack.summary) in SQLite: the table `assessment_summary`, read joined with the
patients, made for the patients without one that holds, stored (through a second connection for a read-only
Store), cleared and checked. What a summary is and when it holds: tohtrack.summary.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from typing import TYPE_CHECKING, Iterable, Iterator, Sequence

from tohtrack import course, settings as settings_mod, summary as summary_mod
from tohtrack.model import Episode, ImagingStudy, Patient, SymptomRecord
from tohtrack.perf import gc_paused
from tohtrack.summary import ONE_DAY, TABLE, Summary, rules_key, summarize

if TYPE_CHECKING:
    from .store import Store

_BATCH = 5000  # patients assessed per batch when summaries are made


# ---------------------------------------------------------------------------
# Histories as the assessment reads them
# ---------------------------------------------------------------------------

_BOOL = {None: None, 0: False, 1: True}
_date = dt.date.fromisoformat


@gc_paused()
def _histories(conn: sqlite3.Connection, ids: Sequence[int]) -> list[Patient]:
    """Patients with what the course assessment reads of them, in the order of `ids`, in four queries.

    Leaves out free text, names, treatments, and every field of a study or a symptom record the rules do not
    test (the summaries of these equal those of whole histories: tests/test_summary.py checks it).
    """
    cursor = conn.cursor()
    cursor.row_factory = None
    wanted = json.dumps(list(ids))
    patients: dict[int, Patient] = {}
    for pid, mrn in cursor.execute("SELECT id, mrn FROM patients WHERE id IN (SELECT value FROM json_each(?))",
                                   (wanted,)):
        patients[pid] = Patient(mrn, "", "", None, "", id=pid)  # type: ignore[arg-type]
    episodes: dict[int, Episode] = {}
    for eid, pid, site, onset, resolved, diagnosis, pregnancy, factors in cursor.execute(
            "SELECT id, patient_id, site, symptom_onset, resolved_on, diagnosis, pregnancy, avn_risk_factors "
            "FROM episodes WHERE patient_id IN (SELECT value FROM json_each(?)) "
            "ORDER BY symptom_onset, site, id", (wanted,)):
        episode = Episode(site, _date(onset), _date(resolved) if resolved else None, diagnosis, pregnancy,
                          json.loads(factors) if factors != "[]" else [], id=eid)
        patients[pid].episodes.append(episode)
        episodes[eid] = episode
    if episodes:
        wanted = json.dumps(list(episodes))
        for eid, day, time, modality, extent, fracture, band, collapse, narrowed, dce, uptake in cursor.execute(
                "SELECT episode_id, date, time, modality, edema_extent_pct, subchondral_fracture_line, "
                "subchondral_t2_low_band, collapse, joint_space_narrowed, dce_enhancement, scintigraphy_uptake "
                "FROM imaging WHERE episode_id IN (SELECT value FROM json_each(?)) "
                "ORDER BY episode_id, date, coalesce(time, ''), id", (wanted,)):
            episodes[eid].imaging.append(ImagingStudy(
                _date(day), modality, time, extent, subchondral_fracture_line=_BOOL[fracture],
                subchondral_t2_low_band=_BOOL[band], collapse=_BOOL[collapse], joint_space_narrowed=_BOOL[narrowed],
                dce_enhancement=dce, scintigraphy_uptake=uptake))
        for eid, day in cursor.execute(
                "SELECT episode_id, date FROM symptoms WHERE episode_id IN (SELECT value FROM json_each(?)) "
                "ORDER BY episode_id, date, id", (wanted,)):
            episodes[eid].symptoms.append(SymptomRecord(_date(day)))
    return [patients[i] for i in ids if i in patients]


# ---------------------------------------------------------------------------
# Reading, making and storing summaries
# ---------------------------------------------------------------------------

_COLUMNS = ("patient_id", "valid_from", "valid_until", "pattern", "next_review", "due", "overdue", "flag_count",
            "most_urgent", "active_sites", "flags_json")


def has_table(store: "Store") -> bool:
    """Whether the database has the summary table (a database not yet upgraded to m003 has not)."""
    return store.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                              (TABLE,)).fetchone() is not None


def _from_row(row: Sequence) -> Summary:
    pid, start, until, pattern, review, due, overdue, count, urgent, sites, flags = row
    return Summary(pid, pattern, _date(review) if review else None, due == 1, overdue == 1, count, urgent,
                   tuple(sites.split()), flags, _date(start) if start else None, _date(until) if until else None)


def _row(summary: Summary, rules: str) -> tuple:
    s = summary
    return (s.patient_id, rules, _iso(s.valid_from), _iso(s.valid_until), s.pattern, _iso(s.next_review),
            int(s.due), int(s.overdue), s.flag_count, s.most_urgent, " ".join(s.active_sites), s.flags_json)


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def stored(store: "Store", ids: Sequence[int], as_of: dt.date, rules: str,
           flags_json: bool = True) -> dict[int, Summary]:
    """The stored summaries of these patients that hold at as_of under these rules (without their flags JSON
    unless `flags_json`)."""
    if not has_table(store):
        return {}
    cursor = store.conn.cursor()
    cursor.row_factory = None
    day = as_of.isoformat()
    columns = _COLUMNS if flags_json else _COLUMNS[:-1] + ("NULL",)
    rows = cursor.execute(
        f"SELECT {', '.join(columns)} FROM {TABLE} WHERE rules = ? "
        "AND (valid_from IS NULL OR valid_from <= ?) AND (valid_until IS NULL OR valid_until > ?) "
        "AND patient_id IN (SELECT value FROM json_each(?))", (rules, day, day, json.dumps(list(ids))))
    return {row[0]: _from_row(row) for row in rows}


def summaries(store: "Store", ids: Iterable[int], as_of: dt.date, settings: settings_mod.Settings | None = None,
              flags_json: bool = True) -> dict[int, Summary]:
    """The summaries of these patients at as_of: those stored that hold, the others made now (and stored when
    the settings are the database's own and the file can be written, even through a read-only Store).
    Without `flags_json`, those read from the database leave out their flags JSON (faster)."""
    ids = list(dict.fromkeys(ids))
    found = joined(store, "SELECT value FROM json_each(:ids)", {"ids": json.dumps(ids)}, as_of, settings,
                   flags_json=flags_json)
    return {s.patient_id: s for _, s in found}


@gc_paused()
def joined(store: "Store", patients_sql: str, params: dict, as_of: dt.date,
           settings: settings_mod.Settings | None = None, columns: Sequence[str] = (),
           flags_json: bool = False) -> list[tuple[tuple, Summary]]:
    """Each patient that `patients_sql` selects (a SELECT of patient ids, with named `params`): the values of
    these columns of the patients table, and the patient's summary at as_of (as `summaries` gives it), read in
    one query with the stored summaries."""
    stored_settings = store.settings()
    settings = settings or stored_settings
    rules = rules_key(settings)
    picked = "".join(f", p.{column}" for column in columns)
    if has_table(store):
        kept = ", ".join(f"s.{column}" for column in _COLUMNS[:-1]) + (", s.flags_json" if flags_json else ", NULL")
        sql = (f"SELECT p.id{picked}, {kept} FROM patients AS p LEFT JOIN {TABLE} AS s ON s.patient_id = p.id "
               "AND s.rules = :summary_rules AND (s.valid_from IS NULL OR s.valid_from <= :summary_day) "
               "AND (s.valid_until IS NULL OR s.valid_until > :summary_day) "
               f"WHERE p.id IN ({patients_sql})")
    else:
        sql = f"SELECT p.id{picked}, NULL FROM patients AS p WHERE p.id IN ({patients_sql})"
    cursor = store.conn.cursor()
    cursor.row_factory = None
    first = 1 + len(columns)
    found: list[tuple[tuple, Summary | None]] = []
    missing: dict[int, int] = {}
    for row in cursor.execute(sql, {**params, "summary_rules": rules, "summary_day": as_of.isoformat()}):
        if row[first] is None:
            missing[row[0]] = len(found)
            found.append((row[1:first], None))
        else:
            found.append((row[1:first], _from_row(row[first:])))
    if missing:
        with _writer(store) if rules == rules_key(stored_settings) else contextlib.nullcontext() as conn:
            for pid, made in _make(store, list(missing), as_of, settings, conn):
                at = missing[pid]
                found[at] = (found[at][0], made)
    return [(values, s) for values, s in found if s is not None]


def _make(store: "Store", ids: Sequence[int], as_of: dt.date, settings: settings_mod.Settings,
          writer: sqlite3.Connection | None) -> Iterator[tuple[int, Summary]]:
    """Assess these patients (in batches) and yield their summaries, storing them through `writer` if any."""
    rules = rules_key(settings)
    for start in range(0, len(ids), _BATCH):
        batch = ids[start:start + _BATCH]
        with _snapshot(store.conn):
            mark = _audit_mark(store.conn)
            patients = _histories(store.conn, batch)
        made = [summarize(course.assess(patient, as_of, settings), settings) for patient in patients]
        if writer is not None:
            _store(writer, made, rules, mark, replace=as_of == summary_mod._today())
        for summary in made:
            yield summary.patient_id, summary


@contextlib.contextmanager
def _writer(store: "Store") -> Iterator[sqlite3.Connection | None]:
    """A connection to store summaries through: the store's own; for a read-only Store, a second connection
    if the file can be written and has the table (read-only commands never create nor upgrade a database,
    but may keep what they worked out); else None."""
    if not has_table(store):
        yield None
        return
    if not store.readonly:
        yield store.conn
        return
    path = store.path.resolve()
    conn = None
    if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
        try:
            uri = path.as_uri() + "?mode=rw"  # percent-encoded: '?', '#' and '%' in names are safe
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = FULL")
            if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                            (TABLE,)).fetchone() is None:
                conn.close()
                conn = None
            # Only a database in use (WAL) keeps them: a backup (rollback journal) looked at stays as it was.
            elif conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.close()
                conn = None
        except sqlite3.DatabaseError:
            if conn is not None:
                conn.close()
            conn = None
    try:
        yield conn
    finally:
        if conn is not None:
            conn.close()


def _audit_mark(conn: sqlite3.Connection) -> tuple[int, str | None]:
    """Where the audit trail ends: its last entry's id and hash."""
    row = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, None)


@contextlib.contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction, so that several queries see the same database (unless one is open already)."""
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN")
    try:
        yield
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def _store(conn: sqlite3.Connection, made: list[Summary], rules: str, mark: tuple[int, str | None],
           replace: bool) -> None:
    """Store summaries made from histories read when the audit trail ended at `mark`, leaving out patients
    written since (their summary may be out of date already), and all of them if a setting changed or the
    trail no longer runs through `mark` (a backup was restored meanwhile). With `replace` False (a date other
    than today), a summary that holds under the same rules is kept: today's are the ones worth keeping.

    A cache: if the database is busy, nothing is stored and nobody waits.
    """
    if not made:
        return
    sql = (f"INSERT INTO {TABLE} (patient_id, rules, valid_from, valid_until, pattern, next_review, due, overdue, "
           "flag_count, most_urgent, active_sites, flags_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
           "ON CONFLICT (patient_id) DO UPDATE SET rules = excluded.rules, valid_from = excluded.valid_from, "
           "valid_until = excluded.valid_until, pattern = excluded.pattern, next_review = excluded.next_review, "
           "due = excluded.due, overdue = excluded.overdue, flag_count = excluded.flag_count, "
           "most_urgent = excluded.most_urgent, active_sites = excluded.active_sites, "
           "flags_json = excluded.flags_json")
    if not replace:
        sql += f" WHERE {TABLE}.rules != excluded.rules"
    nested = conn.in_transaction
    timeout = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    try:
        if not nested:
            conn.execute("PRAGMA busy_timeout = 0")
            conn.execute("BEGIN IMMEDIATE")
        try:
            last_id, last_hash = mark
            changed = {row[0] for row in conn.execute(
                "SELECT DISTINCT coalesce(patient_id, -1) FROM audit WHERE id > ?", (last_id,))}
            same_trail = last_hash is None or conn.execute(
                "SELECT 1 FROM audit WHERE id = ? AND hash = ?", (last_id, last_hash)).fetchone() is not None
            if -1 in changed or not same_trail:  # a setting changed (other rules), or another database
                rows = []
            else:
                rows = [_row(s, rules) for s in made if s.patient_id not in changed]
            if rows:
                conn.executemany(sql, rows)
            if not nested:
                conn.execute("COMMIT")
        except BaseException:
            if not nested and conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except sqlite3.OperationalError:  # busy or read-only here: a cache may stay unwritten
        pass
    finally:
        if not nested:
            conn.execute(f"PRAGMA busy_timeout = {int(timeout)}")


def clear(store: "Store") -> None:
    """Remove every stored summary (they are made again when next needed)."""
    if has_table(store):
        with store.transaction():
            store.conn.execute(f"DELETE FROM {TABLE}")


# ---------------------------------------------------------------------------
# Checking the cache against fresh assessments
# ---------------------------------------------------------------------------


@gc_paused()
def verify(store: "Store", limit: int = 20) -> list[str]:
    """Stored summaries (under the current rules) that differ from a fresh assessment of the whole history at
    a date they claim to hold for; empty when the cache is sound. Summaries under other rules are never used."""
    if not has_table(store):
        return []
    from .migrations import SUMMARY_TRIGGERS

    triggers = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    problems = [f"{TABLE}: the trigger {name} that keeps the stored assessments up to date was removed "
                "(outside TOHtrack)" for name in SUMMARY_TRIGGERS if name not in triggers]
    settings = store.settings()
    rules = rules_key(settings)
    cursor = store.conn.cursor()
    cursor.row_factory = None
    rows = cursor.execute(f"SELECT {', '.join(_COLUMNS)} FROM {TABLE} WHERE rules = ? ORDER BY patient_id",
                          (rules,))
    while True:
        batch = [_from_row(row) for row in rows.fetchmany(_BATCH)]
        if not batch:
            break
        patients = {p.id: p for p in store.patients([s.patient_id for s in batch])}
        for cached in batch:
            patient = patients.get(cached.patient_id)
            if patient is None:
                problems.append(f"{TABLE}: patient {cached.patient_id} is not in the database")
                continue
            day = cached.valid_from or (cached.valid_until - ONE_DAY if cached.valid_until else dt.date.today())
            fresh = summarize(course.assess(patient, day, settings), settings)
            if fresh != cached:
                differing = [name for name in Summary._fields if getattr(fresh, name) != getattr(cached, name)]
                problems.append(f"{TABLE}: the stored assessment of {patient.mrn} differs from a fresh one as of "
                                f"{day.isoformat()} ({', '.join(differing)}); the worklist and `flags` would show "
                                f"it wrongly (a cache: emptying the {TABLE} table loses nothing)")
            if len(problems) >= limit:
                problems.append(f"{TABLE}: more problems not listed")
                return problems
    return problems
