"""The registry's queries and the stored assessments on PostgreSQL: search as you type, counts, rows, the due and
flagged patients, the worklist, the cohort statistics' records and the summary cache (`assessment_summary`).

`PostgresRegistry` is a mixin of tohtrack.store.postgres.PostgresStore (it uses its `conn`, `settings()`,
`patients()` and `transaction()`); it gives the same results as the SQLite backend (tohtrack/store/sqlite/
registry.py and summaries.py), which tests/pg/test_pg_registry.py holds side by side:

- text is compared byte-wise (`COLLATE "C"`: code-point order, as SQLite's BINARY), whatever the database's
  locale, so that names sort and match as on SQLite; MRNs are matched with ASCII letters lowered (registry.mrn_fold);
- a page is found without OFFSET: `after` is the sort key of the last row of the previous page, compared as a
  row value, so that page 500 costs what page 1 costs (through the indexes of `create_registry_indexes`);
- the due and flagged filters are sets worked out once per change of the audit trail and passed as an array.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections import OrderedDict
from typing import Any, Iterable, Iterator, Sequence

import psycopg

from tohtrack import course, settings as settings_mod, summary as summary_mod
from tohtrack.model import TOH, Episode, ImagingStudy, Patient, SymptomRecord
from tohtrack.registry import PAGE_SIZE, SORTS, Filters, PatientRow, Query, StatsRecords, _Prefix, parse_query
from tohtrack.summary import ONE_DAY, TABLE, Summary, rules_key, summarize

#: An MRN with ASCII letters in lower case (registry.mrn_fold), byte-ordered: what an MRN prefix is tested on.
#: lower() under the "C" collation changes only the ASCII letters A-Z (PostgreSQL's documented "C" behaviour),
#: as mrn_fold does, and costs a twentieth of translate() with the 26 letters spelt out: it is evaluated for
#: every patient a search walks past in name order.
_MRN_FOLDED = '(lower({a}.mrn COLLATE "C") COLLATE "C")'

#: Indexes the registry's queries walk, in byte order whatever the database's collation; made by the
#: database's owner (`create_registry_indexes`, from admin init / opening as owner). Without them the queries
#: give the same results, only slower. The name order carries the MRN and the archived flag, so that a search
#: walking it tests each patient from the index alone (an index-only scan, no read of the patient's row).
REGISTRY_INDEXES = (
    'CREATE INDEX IF NOT EXISTS patients_name_cover_c ON patients '
    '(family_key COLLATE "C", given_key COLLATE "C", id) INCLUDE (mrn, archived)',
    'CREATE INDEX IF NOT EXISTS patients_given_c ON patients (given_key COLLATE "C")',
    'CREATE INDEX IF NOT EXISTS patients_mrn_c ON patients (mrn COLLATE "C", id)',
    "CREATE INDEX IF NOT EXISTS patients_mrn_lower_c ON patients "
    f"({_MRN_FOLDED.format(a='patients')})",
    'CREATE INDEX IF NOT EXISTS patients_birth_date_c ON patients (birth_date COLLATE "C", id)',
)
#: Indexes of earlier versions that those above replace (dropped when they are made).
SUPERSEDED_INDEXES = ("patients_name_c", "patients_mrn_folded_c")


def create_registry_indexes(conn: psycopg.Connection) -> None:
    """Create the registry's indexes if missing and drop those they replace (needs the owner of the tables;
    idempotent, one transaction)."""
    with conn.transaction():
        for statement in REGISTRY_INDEXES:
            conn.execute(statement)
        for name in SUPERSEDED_INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {name}")


def _successor(prefix: str) -> str | None:
    """The least string above every string that starts with `prefix` (None: there is none)."""
    chars = list(prefix)
    while chars:
        code = ord(chars.pop())
        if code < 0x10FFFF:
            code += 1
            if 0xD800 <= code <= 0xDFFF:
                code = 0xE000
            return "".join(chars) + chr(code)
    return None


class _Params(list):
    """Positional parameters of one statement."""

    def add(self, value: Any) -> str:
        self.append(value)
        return "%s"


def _range(column: str, prefix: str, params: _Params) -> str:
    """`column` (a byte-ordered expression) starts with `prefix`, as a range an index can serve."""
    if prefix == "":
        return "TRUE"
    if "\x00" in prefix:  # PostgreSQL text cannot hold NUL, nor can any stored name or MRN: matches none
        return "FALSE"
    low = f"{column} >= {params.add(prefix)}"
    upper = _successor(prefix)
    return low if upper is None else f"({low} AND {column} < {params.add(upper)})"


def _prefix_sql(prefix: _Prefix, params: _Params, a: str = "p") -> str:
    alternatives = []
    if prefix.name is not None:
        alternatives.append(_range(f'{a}.family_key COLLATE "C"', prefix.name, params))
        alternatives.append(_range(f'{a}.given_key COLLATE "C"', prefix.name, params))
    if prefix.mrn is not None:
        alternatives.append(_range(_MRN_FOLDED.format(a=a), prefix.mrn, params))
    return "(" + " OR ".join(alternatives) + ")" if alternatives else "FALSE"


def _query_sql(query: Query | None, params: _Params, a: str = "p") -> str:
    if query is None:
        return "TRUE"
    words = " AND ".join(_prefix_sql(w, params, a) for w in query.words)
    if query.whole is None:
        return f"({words})"
    return f"(({words}) OR {_prefix_sql(query.whole, params, a)})"


def _arm_ranges(query: Query) -> list[tuple[str, str, int | None]]:
    """(byte-ordered column, prefix, source) ranges that together hold every patient the query matches: those of
    its longest word (all words must match), and those of the whole text (which may match instead). `source` is
    the index of that word in query.words, None for the whole text."""
    at = max(range(len(query.words)),
             key=lambda i: max(len(query.words[i].name or ""), len(query.words[i].mrn or "")))
    ranges: list[tuple[str, str, int | None]] = []
    for prefix, source in ((query.words[at], at), (query.whole, None)):
        if prefix is None:
            continue
        if prefix.name is not None:
            ranges += [('p.family_key COLLATE "C"', prefix.name, source),
                       ('p.given_key COLLATE "C"', prefix.name, source)]
        if prefix.mrn is not None:
            ranges.append((_MRN_FOLDED.format(a="p"), prefix.mrn, source))
    return ranges


def _rest_sql(query: Query, source: int | None, params: _Params) -> str:
    """What a patient in a range of `source` (_arm_ranges) must still pass to match the query: that range already
    matches that word (then the other words, or the whole text), or the whole text (then nothing). Leaving out
    what the range guarantees keeps the planner's estimate of an arm's rows right (a repeated test of its own
    range made it expect a tenth of them, and sort them all rather than walk the index in order)."""
    if source is None:
        return "TRUE"
    others = [w for i, w in enumerate(query.words) if i != source]
    if not others:
        return "TRUE"
    words = " AND ".join(_prefix_sql(w, params) for w in others)
    if query.whole is None:
        return f"({words})"
    return f"(({words}) OR {_prefix_sql(query.whole, params)})"


_ACTIVE_SQL = """EXISTS (SELECT 1 FROM episodes AS e WHERE e.patient_id = p.id AND e.symptom_onset <= {d}
    AND e.diagnosis = {toh} AND (e.resolved_on IS NULL OR e.resolved_on > {d}))"""

# The course rules' RECURRENCE or MIGRATION, as on SQLite (docs/course-rules.md).
_RMO_SQL = """EXISTS (SELECT 1 FROM episodes AS a JOIN episodes AS b ON b.patient_id = a.patient_id
    WHERE a.patient_id = p.id AND a.diagnosis = {toh} AND b.diagnosis = {toh}
      AND a.symptom_onset < b.symptom_onset AND b.symptom_onset <= {d}
      AND (a.site <> b.site OR (a.resolved_on IS NOT NULL AND a.resolved_on < b.symptom_onset)))"""

_LAST_ONSET_SQL = ("(SELECT max(x.symptom_onset) FROM episodes AS x "
                   "WHERE x.patient_id = {a}.id AND x.symptom_onset <= {d})")

#: Sort keys over alias p (the last is p.id), byte-ordered as on SQLite.
_SORT_KEYS = {
    "name": ('p.family_key COLLATE "C"', 'p.given_key COLLATE "C"', "p.id"),
    "mrn": ('p.mrn COLLATE "C"', "p.id"),
    "birth_date": ('p.birth_date COLLATE "C"', "p.id"),
}

#: Unarchived patients with a TOH episode active at a day (each once).
_ACTIVE_PATIENTS_SQL = """SELECT DISTINCT e.patient_id FROM episodes AS e JOIN patients AS p ON p.id = e.patient_id
    WHERE p.archived = 0 AND e.diagnosis = %(toh)s AND e.symptom_onset <= %(day)s
      AND (e.resolved_on IS NULL OR e.resolved_on > %(day)s)"""

# Flags read straight off the stored columns (as the SQLite backend's _PLAIN_FLAGS_SQL).
_PLAIN_FLAGS_SQL = """
SELECT DISTINCT e.patient_id FROM episodes AS e
WHERE e.diagnosis = %(toh)s AND e.symptom_onset <= %(as_of)s AND (
    e.avn_risk_factors <> '[]' OR e.pregnancy IS NOT NULL
    OR EXISTS (SELECT 1 FROM imaging AS i WHERE i.episode_id = e.id AND i.date <= %(as_of)s
               AND (i.subchondral_fracture_line = 1 OR i.joint_space_narrowed = 1 OR i.subchondral_t2_low_band = 1
                    OR i.collapse = 1 OR i.dce_enhancement = 'none' OR i.scintigraphy_uptake = 'photopenic'))
    OR EXISTS (SELECT 1 FROM episodes AS o WHERE o.patient_id = e.patient_id AND o.id <> e.id
               AND o.diagnosis = %(toh)s AND o.symptom_onset <= e.symptom_onset
               AND (o.site <> e.site OR (o.resolved_on IS NOT NULL AND o.resolved_on < e.symptom_onset)))
)"""

# Everyone else who could have a flag: an active TOH episode, or one that took longer than W2 * 28 days.
_MAYBE_FLAGGED_SQL = """
SELECT DISTINCT e.patient_id FROM episodes AS e
WHERE e.diagnosis = %(toh)s AND e.symptom_onset <= %(as_of)s
  AND (e.resolved_on IS NULL OR e.resolved_on > %(as_of)s
       OR e.resolved_on::date - e.symptom_onset::date > %(late_days)s)"""


def _ordinal_sql(column: str) -> str:
    """An ISO date column as date.toordinal() gives it (NULL stays NULL)."""
    return f"({column}::date - DATE '0001-01-01' + 1)"


# The episodes with their patient's sex and age at the onset (registry.age_on: the difference of the years, less one
# when the onset's 'MM-DD' comes before the birthday's) and their latest contact by as_of (study or symptom
# record), in the shape of tohtrack.registry.StatsRecords (values record by record: the server keeps no
# per-episode cache, its planner aggregates).
_STATS_AGE_SQL = """(substr(e.symptom_onset, 1, 4)::int - substr(p.birth_date, 1, 4)::int
       - (substr(e.symptom_onset, 6, 5) COLLATE "C" < substr(p.birth_date, 6, 5) COLLATE "C")::int)"""
_STATS_EPISODES_SQL = f"""WITH contacts AS (
      SELECT episode_id, max(day) AS day FROM (
        SELECT episode_id, max(date) AS day FROM imaging WHERE date <= %(as_of)s GROUP BY episode_id
        UNION ALL
        SELECT episode_id, max(date) FROM symptoms WHERE date <= %(as_of)s GROUP BY episode_id) AS u
      GROUP BY episode_id)
    SELECT e.id, e.patient_id, e.site, {_ordinal_sql("e.symptom_onset")}, {_ordinal_sql("e.resolved_on")},
      p.sex, {_STATS_AGE_SQL}, {_ordinal_sql("c.day")}
    FROM episodes AS e JOIN patients AS p ON p.id = e.patient_id
      LEFT JOIN contacts AS c ON c.episode_id = e.id
    WHERE p.archived = 0 AND e.diagnosis = %(toh)s AND e.symptom_onset <= %(as_of)s"""
_STATS_MONTH_KEY_SQL = """((substr(x.date, 1, 4)::int - substr(e.symptom_onset, 1, 4)::int) * 12
       + substr(x.date, 6, 2)::int - substr(e.symptom_onset, 6, 2)::int) * 2
       + (substr(x.date, 9, 2) COLLATE "C" > substr(e.symptom_onset, 9, 2) COLLATE "C")::int"""
_STATS_VALUES_SQL = """SELECT e.patient_id, x.episode_id, """ + _STATS_MONTH_KEY_SQL + """, x.{column}
    FROM {table} AS x JOIN episodes AS e ON e.id = x.episode_id JOIN patients AS p ON p.id = e.patient_id
    WHERE x.{column} IS NOT NULL AND x.date <= %(as_of)s AND e.diagnosis = %(toh)s AND p.archived = 0
      AND e.symptom_onset <= %(as_of)s"""

_SUMMARY_COLUMNS = ("patient_id", "valid_from", "valid_until", "pattern", "next_review", "due", "overdue",
                    "flag_count", "most_urgent", "active_sites", "flags_json")
_BATCH = 5000  # patients assessed per batch when summaries are made
#: Search and count are planned for their values each time, never prepared: a prepared statement's generic plan
#: cannot tell a one-letter prefix (walk the sort order) from a whole MRN (look it up), and took 10-50 times as
#: long (psycopg prepares a statement run five times). Checked again with the arms of _rest_sql at 100 000
#: patients: a generic plan saves about 0.6 ms of planning on a name prefix but still takes twice as long on an
#: MRN prefix (a page of 'D0-01' 4.3 ms against 2.3 ms), and the slow texts are what the p95 is made of.
_PLANNED_EACH_TIME = False
_CACHED_SETS = 8
_BOOL = {None: None, 0: False, 1: True}
_date = dt.date.fromisoformat


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _from_row(row: Sequence) -> Summary:
    pid, start, until, pattern, review, due, overdue, count, urgent, sites, flags = row
    return Summary(pid, pattern, _date(review) if review else None, due == 1, overdue == 1, count, urgent,
                   tuple(sites.split()), flags, _date(start) if start else None, _date(until) if until else None)


def _summary_row(s: Summary, rules: str) -> tuple:
    return (s.patient_id, rules, _iso(s.valid_from), _iso(s.valid_until), s.pattern, _iso(s.next_review),
            int(s.due), int(s.overdue), s.flag_count, s.most_urgent, " ".join(s.active_sites), s.flags_json)


class PostgresRegistry:
    """The Gateway's registry, worklist, statistics and summary-cache methods for PostgresStore."""

    conn: psycopg.Connection

    # -- helpers ------------------------------------------------------------------------------------------

    def _idle(self) -> bool:
        return self.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """One read-only REPEATABLE READ transaction (several queries see one state), unless one is open."""
        self._ensure_connected()
        if not self._idle():
            yield
            return
        with self.conn.transaction():
            self.conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            yield

    @contextlib.contextmanager
    def _driver_errors(self) -> Iterator[None]:
        from .postgres import _error

        self._ensure_connected()
        try:
            yield
        except psycopg.Error as exc:
            raise _error(self.path, exc, self._url) from None

    def _audit_end(self) -> tuple:
        row = self.conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        return (int(row[0]), str(row[1])) if row else ()

    # -- search and count -------------------------------------------------------------------------------

    def _filters_sql(self, filters: Filters, as_of: dt.date, params: _Params) -> str:
        terms = []
        if filters.archived is not None:
            terms.append(f"p.archived {'<>' if filters.archived else '='} 0")
        day = as_of.isoformat()
        if filters.active:  # placeholders: day, toh, day
            terms.append(_ACTIVE_SQL.format(d="%s", toh="%s"))
            params.extend([day, TOH, day])
        if filters.rmo:  # placeholders: toh, toh, day
            terms.append(_RMO_SQL.format(d="%s", toh="%s"))
            params.extend([TOH, TOH, day])
        for kind in ("due", "flagged"):
            if getattr(filters, kind):
                terms.append(f"p.id = ANY({params.add(sorted(self._member_set(kind, as_of)))})")
        return " AND ".join(terms) or "TRUE"

    def _member_set(self, kind: str, as_of: dt.date) -> frozenset[int]:
        """The due or flagged patients at as_of, worked out again after any change of records or settings."""
        cache = self.__dict__.setdefault("_registry_sets", OrderedDict())
        mark = self._audit_end()
        key = (kind, as_of)
        hit = cache.get(key)
        if hit is not None and hit[0] == mark:
            cache.move_to_end(key)
            return hit[1]
        ids = self.due_ids(as_of) if kind == "due" else self.flagged_ids(as_of)
        cache[key] = (mark, ids)
        while len(cache) > _CACHED_SETS:
            cache.popitem(last=False)
        return ids

    def search(self, text: str = "", filters: Filters = Filters(), as_of: dt.date | None = None,
               sort: str = "name", descending: bool = False, limit: int = PAGE_SIZE,
               after: tuple | None = None) -> list[PatientRow]:
        """One page of matching patients in sort order, after the row whose `sort_key` is `after` (as on SQLite:
        name, mrn, birth_date, last_onset — patients without an onset last in either direction)."""
        as_of = as_of or dt.date.today()
        if sort not in SORTS or (sort not in _SORT_KEYS and sort != "last_onset"):
            raise ValueError(f"unknown sort {sort!r} (one of {', '.join(SORTS)})")
        after = tuple(after) if after is not None else None
        width = 2 if sort == "last_onset" else len(_SORT_KEYS[sort])
        if after is not None and len(after) != width:
            raise ValueError(f"after={after!r} is not a {sort} sort key (PatientRow.sort_key of that sort)")
        if limit <= 0:
            return []
        with self._driver_errors():
            query = parse_query(text)
            params = _Params()
            text_sql = _query_sql(query, params)
            filter_params = _Params()
            filter_sql = self._filters_sql(filters, as_of, filter_params)
            params.extend(filter_params)
            where = [text_sql, filter_sql]
            cmp, direction = ("<", " DESC") if descending else (">", "")
            if sort == "last_onset":
                lo = _LAST_ONSET_SQL.format(a="p", d="%s")
                inner_params = _Params([as_of.isoformat()])
                keyset = "TRUE"
                if after is not None:
                    last, pid = after
                    if last is None:
                        keyset = f"(q.lo IS NULL AND q.id {cmp} %s)"
                        keyset_params = [pid]
                    else:
                        keyset = f"(q.lo IS NULL OR (q.lo COLLATE \"C\", q.id) {cmp} (%s, %s))"
                        keyset_params = [last, pid]
                else:
                    keyset_params = []
                inner = (f"SELECT q.lo AS k0, q.id AS k1 FROM (SELECT {lo} AS lo, p.id AS id FROM patients AS p "
                         f"WHERE {' AND '.join(where)}) AS q WHERE {keyset} "
                         f"ORDER BY q.lo IS NULL, q.lo COLLATE \"C\"{direction}, q.id{direction} LIMIT %s")
                outer = f"k.k0 IS NULL, k.k0 COLLATE \"C\"{direction}, k.k1{direction}"
                return self._page_rows(inner, [*inner_params, *params, *keyset_params, limit], 2, outer, as_of)
            columns = _SORT_KEYS[sort]
            keyset_sql, tail_params = "TRUE", _Params(filter_params)  # the filters' and the keyset's, in order
            if after is not None:
                keyset_sql = f"({', '.join(columns)}) {cmp} ({', '.join(tail_params.add(v) for v in after)})"
                where.append(keyset_sql)
                params.extend(after)
            order = ", ".join(c + direction for c in columns)
            picked = ", ".join(f"{c} AS k{i}" for i, c in enumerate(columns))
            outer = ", ".join(f"k.k{i}{direction}" for i in range(len(columns)))
            if query is None:
                inner = (f"SELECT {picked} FROM patients AS p WHERE {' AND '.join(where)} "
                         f"ORDER BY {order} LIMIT {params.add(limit)}")
                return self._page_rows(inner, params, len(columns), outer, as_of)
            # One arm per index range that holds every match (of the longest word, and of the whole text): each
            # finds its first `limit` matches in sort order through its own index (the planner costs one range
            # well; an OR of ranges walked in name order may pass most of the table before 'van' is reached),
            # testing only what its range does not already guarantee (_rest_sql).
            arms, arm_params = [], _Params()
            for column, value, source in _arm_ranges(query):
                arm_params_one = _Params()
                terms = [_range(column, value, arm_params_one), _rest_sql(query, source, arm_params_one),
                         filter_sql, keyset_sql]
                arms.append(f"(SELECT {picked} FROM patients AS p WHERE {' AND '.join(terms)} "
                            f"ORDER BY {order} LIMIT %s)")
                arm_params.extend(arm_params_one)
                arm_params.extend(tail_params)
                arm_params.append(limit)
            if not arms:
                return []
            inner = (f"SELECT DISTINCT {', '.join(f'u.k{i}' for i in range(len(columns)))} FROM ("
                     + " UNION ALL ".join(arms) + ") AS u "
                     f"ORDER BY {', '.join(f'u.k{i}{direction}' for i in range(len(columns)))} LIMIT %s")
            arm_params.append(limit)
            return self._page_rows(inner, arm_params, len(columns), outer, as_of)

    def count(self, text: str = "", filters: Filters = Filters(), as_of: dt.date | None = None) -> int:
        """How many patients `search` would list with this text and these filters."""
        as_of = as_of or dt.date.today()
        with self._driver_errors():
            params = _Params()
            where = [_query_sql(parse_query(text), params), self._filters_sql(filters, as_of, params)]
            return self.conn.execute(f"SELECT count(*) FROM patients AS p WHERE {' AND '.join(where)}",
                                     params, prepare=_PLANNED_EACH_TIME).fetchone()[0]

    def _page_rows(self, inner: str, params: Sequence, width: int, order: str, as_of: dt.date) -> list[PatientRow]:
        """The rows of a page whose sort keys `inner` selects (as k0..k{width-1}, the last the id), with the
        patient's values, latest onset and active sites, in one round trip."""
        day = as_of.isoformat()
        keys = ", ".join(f"k.k{i}" for i in range(width))
        statement = (
            f"SELECT {keys}, p.mrn, p.family_name, p.given_name, p.birth_date, p.sex, p.archived, e.last, e.sites "
            # LATERAL: each of the page's patients looked up by its id (never a scan of the table), then its
            # episodes by that day in one walk of episodes_patient (the latest onset, the active sites in order)
            f"FROM ({inner}) AS k CROSS JOIN LATERAL (SELECT * FROM patients AS r WHERE r.id = k.k{width - 1} LIMIT 1) "
            "AS p CROSS JOIN LATERAL (SELECT max(x.symptom_onset) AS last, array_agg(x.site ORDER BY "
            'x.symptom_onset COLLATE "C", x.site COLLATE "C") FILTER (WHERE x.resolved_on IS NULL OR '
            "x.resolved_on > %s) AS sites FROM episodes AS x WHERE x.patient_id = p.id AND x.symptom_onset <= %s) "
            f"AS e ORDER BY {order}")
        rows = []
        for r in self.conn.execute(statement, [*params, day, day], prepare=_PLANNED_EACH_TIME).fetchall():
            key, (mrn, family, given, born, sex, archived, last, sites) = tuple(r[:width]), r[width:]
            row = PatientRow(key[-1], mrn, family, given, _date(born), sex, bool(archived),
                             tuple(dict.fromkeys(sites)) if sites else (), _date(last) if last else None)
            row.sort_key = key
            rows.append(row)
        return rows

    def patient_row(self, patient_id: int, as_of: dt.date | None = None, sort: str = "name") -> PatientRow | None:
        """One patient's registry row (its sort key in `sort`), or None if not there."""
        as_of = as_of or dt.date.today()
        if sort == "last_onset":
            columns, params = (_LAST_ONSET_SQL.format(a="p", d="%s"), "p.id"), [as_of.isoformat(), patient_id]
        else:
            columns, params = _SORT_KEYS[sort], [patient_id]
        inner = (f"SELECT {', '.join(f'{c} AS k{i}' for i, c in enumerate(columns))} FROM patients AS p "
                 "WHERE p.id = %s")
        with self._driver_errors():
            rows = self._page_rows(inner, params, len(columns), "k.k0", as_of)
        return rows[0] if rows else None

    def patient_mrns(self, ids: Sequence[int] | None = None) -> list[tuple[int, str]]:
        """(id, MRN) of every patient (archived too), or of these ids (NotFound for one not there)."""
        from .errors import NotFound

        with self._driver_errors():
            if ids is None:
                return [(r[0], r[1]) for r in self.conn.execute("SELECT id, mrn FROM patients")]
            ids = list(ids)
            found = dict(self.conn.execute("SELECT id, mrn FROM patients WHERE id = ANY(%s)", (ids,)).fetchall())
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFound(f"no patient with id {missing[0]}")
        return [(i, found[i]) for i in ids]

    # -- due, flagged, active, worklist ----------------------------------------------------------------------

    def active_patient_ids(self, as_of: dt.date) -> list[int]:
        """Unarchived patients with a TOH episode active at as_of (onset on or before it, not resolved by it)."""
        with self._driver_errors():
            return [r[0] for r in self.conn.execute(_ACTIVE_PATIENTS_SQL, {"toh": TOH, "day": as_of.isoformat()})]

    def due_ids(self, as_of: dt.date, settings: settings_mod.Settings | None = None) -> frozenset[int]:
        """Unarchived patients due or overdue for review at as_of."""
        found = self._joined(_ACTIVE_PATIENTS_SQL, {"toh": TOH, "day": as_of.isoformat()}, as_of, settings)
        return frozenset(s.patient_id for _, s in found if s.due or s.overdue)

    def flagged_ids(self, as_of: dt.date, settings: settings_mod.Settings | None = None) -> frozenset[int]:
        """Patients (archived too) with any course flag at as_of (plain flags in SQL, the rest assessed)."""
        settings = settings or self.settings()
        params = {"as_of": as_of.isoformat(), "toh": TOH}
        with self._driver_errors():
            found = {r[0] for r in self.conn.execute(_PLAIN_FLAGS_SQL, params)}
            late = settings.resolution_window_months[1] * 28
            rest = [r[0] for r in self.conn.execute(_MAYBE_FLAGGED_SQL, dict(params, late_days=late))
                    if r[0] not in found]
        found.update(pid for pid, s in self.summaries(rest, as_of, settings, flags_json=False).items()
                     if s.flag_count)
        return frozenset(found)

    def worklist_summaries(self, as_of: dt.date, settings: settings_mod.Settings | None = None,
                           columns: Sequence[str] = ()) -> list[tuple[tuple, Summary]]:
        """Each patient with an active TOH episode at as_of: (these columns of the patient, its summary)."""
        return self._joined(_ACTIVE_PATIENTS_SQL, {"toh": TOH, "day": as_of.isoformat()}, as_of, settings, columns)

    def flag_summaries(self, as_of: dt.date, patient_ids: Sequence[int] | None = None,
                       settings: settings_mod.Settings | None = None) -> list[tuple[str, Summary]]:
        """(MRN, summary with its flags JSON) of every unarchived patient, or of those of `patient_ids`."""
        if patient_ids is None:
            sql_, params = "SELECT id FROM patients WHERE archived = 0", {}
        else:
            sql_, params = "SELECT unnest(%(ids)s::bigint[])", {"ids": list(patient_ids)}
        return [(values[0], s) for values, s in self._joined(sql_, params, as_of, settings, ("mrn",),
                                                             flags_json=True)]

    def stats_records(self, as_of: dt.date, pooled: bool = True, pain: bool = True) -> StatsRecords:
        """What the cohort statistics read (tohtrack.registry.StatsRecords), as of one snapshot: always record by
        record (`pooled` is SQLite's per-episode cache, which the server does without); pain=False: without the
        pain scores."""
        params = {"as_of": as_of.isoformat(), "toh": TOH}
        with self._driver_errors(), self._snapshot():
            run = self.conn.execute
            episodes = [tuple(r) for r in run(_STATS_EPISODES_SQL, params)]
            extents = [tuple(r) for r in run(_STATS_VALUES_SQL.format(table="imaging", column="edema_extent_pct"),
                                             params)]
            pains = [tuple(r) for r in run(_STATS_VALUES_SQL.format(table="symptoms", column="pain_nrs"),
                                           params)] if pain else []
        return StatsRecords(as_of, episodes, False, extents, pains, pain)

    # -- the summary cache ---------------------------------------------------------------------------------

    def has_summary_table(self) -> bool:
        """Whether the database has the summary table (every PostgreSQL schema has: m003)."""
        with self._driver_errors():
            return self.conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{TABLE}",)).fetchone()[0]

    def stored_summaries(self, ids: Sequence[int], as_of: dt.date, rules: str,
                         flags_json: bool = True) -> dict[int, Summary]:
        """The stored summaries of these patients that hold at as_of under these rules (none are made)."""
        day = as_of.isoformat()
        columns = _SUMMARY_COLUMNS if flags_json else _SUMMARY_COLUMNS[:-1] + ("NULL",)
        with self._driver_errors():
            rows = self.conn.execute(
                f"SELECT {', '.join(columns)} FROM {TABLE} WHERE rules = %s "
                "AND (valid_from IS NULL OR valid_from <= %s) AND (valid_until IS NULL OR valid_until > %s) "
                "AND patient_id = ANY(%s)", (rules, day, day, list(ids))).fetchall()
        return {row[0]: _from_row(row) for row in rows}

    def summaries(self, ids: Iterable[int], as_of: dt.date, settings: settings_mod.Settings | None = None,
                  flags_json: bool = True) -> dict[int, Summary]:
        """These patients' summaries at as_of: stored ones that hold, the others made now (and stored when the
        settings are the database's own)."""
        ids = list(dict.fromkeys(ids))
        found = self._joined("SELECT unnest(%(ids)s::bigint[])", {"ids": ids}, as_of, settings,
                             flags_json=flags_json)
        return {s.patient_id: s for _, s in found}

    def _joined(self, patients_sql: str, params: dict, as_of: dt.date,
                settings: settings_mod.Settings | None = None, columns: Sequence[str] = (),
                flags_json: bool = False) -> list[tuple[tuple, Summary]]:
        """Each patient `patients_sql` selects: (these columns of it, its summary at as_of), in id order."""
        stored_settings = self.settings()
        settings = settings or stored_settings
        rules = rules_key(settings)
        picked = "".join(f", p.{column}" for column in columns)
        kept = ", ".join(f"s.{c}" for c in _SUMMARY_COLUMNS[:-1]) + (", s.flags_json" if flags_json else ", NULL")
        statement = (f"SELECT p.id{picked}, {kept} FROM patients AS p LEFT JOIN {TABLE} AS s ON s.patient_id = p.id "
                     "AND s.rules = %(summary_rules)s AND (s.valid_from IS NULL OR s.valid_from <= %(summary_day)s) "
                     "AND (s.valid_until IS NULL OR s.valid_until > %(summary_day)s) "
                     f"WHERE p.id IN ({patients_sql}) ORDER BY p.id")
        first = 1 + len(columns)
        found: list[tuple[tuple, Summary | None]] = []
        missing: dict[int, int] = {}
        with self._driver_errors():
            rows = self.conn.execute(statement, {**params, "summary_rules": rules,
                                                 "summary_day": as_of.isoformat()}).fetchall()
        for row in rows:
            if row[first] is None:
                missing[row[0]] = len(found)
                found.append((tuple(row[1:first]), None))
            else:
                found.append((tuple(row[1:first]), _from_row(row[first:])))
        if missing:
            keep = rules == rules_key(stored_settings)
            for pid, made in self._make_summaries(list(missing), as_of, settings, keep):
                at = missing[pid]
                found[at] = (found[at][0], made)
        return [(values, s) for values, s in found if s is not None]

    def _make_summaries(self, ids: Sequence[int], as_of: dt.date, settings: settings_mod.Settings,
                        keep: bool) -> Iterator[tuple[int, Summary]]:
        rules = rules_key(settings)
        for start in range(0, len(ids), _BATCH):
            batch = ids[start:start + _BATCH]
            with self._driver_errors(), self._snapshot():
                mark = self._audit_end()
                patients = self._histories(batch)
            made = [summarize(course.assess(patient, as_of, settings), settings) for patient in patients]
            if keep:
                self._store_summaries(made, rules, mark, replace=as_of == summary_mod._today())
            for s in made:
                yield s.patient_id, s

    def _histories(self, ids: Sequence[int]) -> list[Patient]:
        """Patients with what the course assessment reads of them, in the order of `ids` (as on SQLite)."""
        ids = list(ids)
        patients: dict[int, Patient] = {}
        for pid, mrn in self.conn.execute("SELECT id, mrn FROM patients WHERE id = ANY(%s)", (ids,)):
            patients[pid] = Patient(mrn, "", "", None, "", id=pid)  # type: ignore[arg-type]
        episodes: dict[int, Episode] = {}
        for eid, pid, site, onset, resolved, diagnosis, pregnancy, factors in self.conn.execute(
                "SELECT id, patient_id, site, symptom_onset, resolved_on, diagnosis, pregnancy, avn_risk_factors "
                'FROM episodes WHERE patient_id = ANY(%s) ORDER BY symptom_onset COLLATE "C", site COLLATE "C", id',
                (ids,)):
            episode = Episode(site, _date(onset), _date(resolved) if resolved else None, diagnosis, pregnancy,
                              json.loads(factors) if factors != "[]" else [], id=eid)
            patients[pid].episodes.append(episode)
            episodes[eid] = episode
        if episodes:
            eids = list(episodes)
            for eid, day, time, modality, extent, fracture, band, collapse, narrowed, dce, uptake in self.conn.execute(
                    "SELECT episode_id, date, time, modality, edema_extent_pct, subchondral_fracture_line, "
                    "subchondral_t2_low_band, collapse, joint_space_narrowed, dce_enhancement, scintigraphy_uptake "
                    "FROM imaging WHERE episode_id = ANY(%s) "
                    "ORDER BY episode_id, date COLLATE \"C\", coalesce(time, '') COLLATE \"C\", id", (eids,)):
                episodes[eid].imaging.append(ImagingStudy(
                    _date(day), modality, time, extent, subchondral_fracture_line=_BOOL[fracture],
                    subchondral_t2_low_band=_BOOL[band], collapse=_BOOL[collapse],
                    joint_space_narrowed=_BOOL[narrowed], dce_enhancement=dce, scintigraphy_uptake=uptake))
            for eid, day in self.conn.execute(
                    "SELECT episode_id, date FROM symptoms WHERE episode_id = ANY(%s) "
                    'ORDER BY episode_id, date COLLATE "C", id', (eids,)):
                episodes[eid].symptoms.append(SymptomRecord(_date(day)))
        return [patients[i] for i in ids if i in patients]

    def _store_summaries(self, made: list[Summary], rules: str, mark: tuple, replace: bool) -> None:
        """Store summaries made from histories read when the trail ended at `mark`, leaving out patients written
        since, and all of them if a setting changed or the trail no longer runs through `mark`. A cache: if the
        server refuses or another workstation holds a row, nothing is stored and nobody waits."""
        if not made or self.conn.closed or self.conn.broken:
            return
        statement = (f"INSERT INTO {TABLE} (patient_id, rules, valid_from, valid_until, pattern, next_review, due, "
                     "overdue, flag_count, most_urgent, active_sites, flags_json) VALUES "
                     "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (patient_id) DO UPDATE SET "
                     "rules = excluded.rules, valid_from = excluded.valid_from, valid_until = excluded.valid_until, "
                     "pattern = excluded.pattern, next_review = excluded.next_review, due = excluded.due, "
                     "overdue = excluded.overdue, flag_count = excluded.flag_count, "
                     "most_urgent = excluded.most_urgent, active_sites = excluded.active_sites, "
                     "flags_json = excluded.flags_json")
        if not replace:
            statement += f" WHERE {TABLE}.rules <> excluded.rules"
        top = self._idle()
        try:
            with self.conn.transaction():
                if top:
                    self.conn.execute("SET TRANSACTION READ WRITE")
                    self.conn.execute("SET LOCAL lock_timeout = '50ms'")
                last_id, last_hash = mark if mark else (0, None)
                changed = {r[0] for r in self.conn.execute(
                    "SELECT DISTINCT coalesce(patient_id, -1) FROM audit WHERE id > %s", (last_id,))}
                same_trail = last_hash is None or self.conn.execute(
                    "SELECT 1 FROM audit WHERE id = %s AND hash = %s", (last_id, last_hash)).fetchone() is not None
                if -1 in changed or not same_trail:
                    return
                rows = [_summary_row(s, rules) for s in made if s.patient_id not in changed]
                if rows:
                    with self.conn.cursor() as cur:
                        cur.executemany(statement, rows)
        except psycopg.Error as exc:
            if self.conn.broken:  # the server went away: said as for any other action
                from .postgres import _error

                raise _error(self.path, exc, self._url) from None
            # read-only login or database, a lock held elsewhere: a cache may stay unwritten

    def clear_summaries(self) -> None:
        """Remove every stored summary (they are made again when next needed)."""
        with self._driver_errors(), self.transaction():
            self.conn.execute(f"DELETE FROM {TABLE}")

    def verify_summaries(self, limit: int = 20) -> list[str]:
        """Stored summaries (under the current rules) that differ from a fresh assessment; empty when sound."""
        settings = self.settings()
        rules = rules_key(settings)
        with self._driver_errors():
            cached_all = [_from_row(r) for r in self.conn.execute(
                f"SELECT {', '.join(_SUMMARY_COLUMNS)} FROM {TABLE} WHERE rules = %s ORDER BY patient_id",
                (rules,))]
        problems: list[str] = []
        for start in range(0, len(cached_all), _BATCH):
            batch = cached_all[start:start + _BATCH]
            patients = {p.id: p for p in self.patients([s.patient_id for s in batch])}
            for cached in batch:
                patient = patients.get(cached.patient_id)
                if patient is None:
                    problems.append(f"{TABLE}: patient {cached.patient_id} is not in the database")
                    continue
                day = cached.valid_from or (cached.valid_until - ONE_DAY if cached.valid_until else dt.date.today())
                fresh = summarize(course.assess(patient, day, settings), settings)
                if fresh != cached:
                    differing = [n for n in Summary._fields if getattr(fresh, n) != getattr(cached, n)]
                    problems.append(f"{TABLE}: the stored assessment of {patient.mrn} differs from a fresh one as of "
                                    f"{day.isoformat()} ({', '.join(differing)}); the worklist and `flags` would "
                                    f"show it wrongly (a cache: emptying the {TABLE} table loses nothing)")
                if len(problems) >= limit:
                    problems.append(f"{TABLE}: more problems not listed")
                    return problems
        return problems

    # -- change marks (the Gateway's semantics) ------------------------------------------------------------

    def change_mark(self) -> tuple:
        """Where the database stands: the end of the audit trail (every change of records or settings is an
        entry; storing summaries, a cache, is not). Opaque; compare through `changes_since`."""
        with self._driver_errors():
            return self._audit_end()

    def changes_since(self, mark: tuple) -> tuple[bool, tuple]:
        """(whether records or settings were changed since `mark`, the mark to keep): the Gateway's
        `changes_since` (PostgresStore.patients_changed_since answers (entry count, patients))."""
        end = self.change_mark()
        return end != tuple(mark), end
