"""The registry's queries in SQLite (what tohtrack.registry asks the gateway): search as you type, counts,
rows, the due and flagged patients, the active patients of the worklist, and the cohort statistics' records.

A page is found without OFFSET: `after` is the sort key of the last row of the previous page
(`PatientRow.sort_key`), so page 500 costs what page 1 costs. Text is matched through the indexes on
`family_key`, `given_key` and `mrn` when few patients match, and by walking the index of the sort order when
many do (each part of the match is costed separately, with counts capped at the point where walking wins).
The due and flagged filters are sets worked out once per change of the database (`PRAGMA data_version`) and
tested through a SQL function.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import sqlite3
import weakref
from collections import OrderedDict
from operator import itemgetter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from tohtrack.model import TOH
from tohtrack.perf import gc_paused
from tohtrack.registry import (
    PAGE_SIZE,
    SORTS,
    Filters,
    PatientRow,
    Query,
    StatsRecords,
    _Prefix,
    parse_query,
)
from tohtrack.settings import Settings

from . import summaries

if TYPE_CHECKING:
    from .store import Store

#: Unarchived patients with a TOH episode active at :day (onset on or before it, not resolved by it).
#: One pass over the episodes: cheaper than the indexes on onset or resolution, which each hold most of them
#: on one side of any recent date and would send SQLite to each episode's row from there.
ACTIVE_PATIENTS_SQL = """SELECT episodes.patient_id FROM episodes NOT INDEXED
    JOIN patients ON patients.id = episodes.patient_id
    WHERE patients.archived = 0 AND episodes.diagnosis = :toh
      AND episodes.symptom_onset <= :day AND (episodes.resolved_on IS NULL OR episodes.resolved_on > :day)"""
#: The same patients, each once.
DISTINCT_ACTIVE_PATIENTS_SQL = ACTIVE_PATIENTS_SQL.replace("SELECT", "SELECT DISTINCT", 1)


def active_params(as_of: dt.date) -> dict:
    return {"toh": TOH, "day": as_of.isoformat()}


def active_patient_ids(store: "Store", as_of: dt.date) -> list[int]:
    """Unarchived patients with a TOH episode active at `as_of` (onset on or before it, not resolved by it)."""
    return [row[0] for row in store.conn.execute(DISTINCT_ACTIVE_PATIENTS_SQL, active_params(as_of))]


def worklist_summaries(store: "Store", as_of: dt.date, settings: Settings | None,
                       columns: Sequence[str]) -> list:
    """The active patients' (columns of the patients table, summary at as_of)."""
    return summaries.joined(store, ACTIVE_PATIENTS_SQL, active_params(as_of), as_of, settings, columns)


def flag_summaries(store: "Store", as_of: dt.date, patient_ids: Sequence[int] | None,
                   settings: Settings | None) -> list:
    """(MRN, summary with its flags JSON) of every unarchived patient, or of those of `patient_ids`."""
    if patient_ids is None:
        sql, params = "SELECT id FROM patients WHERE archived = 0", {}
    else:
        sql, params = "SELECT value FROM json_each(:ids)", {"ids": json.dumps(list(patient_ids))}
    return [(values[0], s) for values, s in summaries.joined(store, sql, params, as_of, settings, ("mrn",),
                                                             flags_json=True)]


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


def _mrn_variants(prefix: str) -> list[str]:
    """Spellings of the start of an ASCII-lowered MRN prefix, up to its third letter, in every case.

    Together their ranges in the (case-sensitive) MRN index hold every MRN that starts with the prefix
    in any case; the exact test is then made on lower(mrn).
    """
    variants = [""]
    letters = 0
    for ch in prefix:
        if "a" <= ch <= "z":
            letters += 1
            if letters > 3:
                break
            variants = [v + c for v in variants for c in (ch, ch.upper())]
        else:
            variants = [v + ch for v in variants]
    return variants


# ---------------------------------------------------------------------------
# SQL fragments
# ---------------------------------------------------------------------------


class _Params(dict):
    """Named parameters of one statement."""

    def add(self, value: Any) -> str:
        name = f"p{len(self)}"
        self[name] = value
        return ":" + name


def _range(column: str, prefix: str, params: _Params) -> str:
    """`column` starts with `prefix`, as a range (usable by an index unless the column is written +col)."""
    if prefix == "":
        return "1"
    upper = _successor(prefix)
    low = f"{column} >= {params.add(prefix)}"
    return low if upper is None else f"({low} AND {column} < {params.add(upper)})"


def _prefix_sql(prefix: _Prefix, params: _Params, alias: str = "p") -> str:
    """A residual test (no index) of one prefix against a patient row."""
    alternatives = []
    if prefix.name is not None:
        alternatives.append(_range(f"+{alias}.family_key", prefix.name, params))
        alternatives.append(_range(f"+{alias}.given_key", prefix.name, params))
    if prefix.mrn is not None:
        alternatives.append(_range(f"lower({alias}.mrn)", prefix.mrn, params))
    return "(" + " OR ".join(alternatives) + ")" if alternatives else "0"


def _query_sql(query: Query, params: _Params, alias: str = "p") -> str:
    words = " AND ".join(_prefix_sql(w, params, alias) for w in query.words)
    if query.whole is None:
        return f"({words})"
    return f"(({words}) OR {_prefix_sql(query.whole, params, alias)})"


def _ranges(prefix: _Prefix) -> list[tuple[str, list[str]]]:
    """The index ranges that hold every patient a prefix can match: (column, prefixes)."""
    ranges = []
    if prefix.name is not None:
        ranges += [("family_key", [prefix.name]), ("given_key", [prefix.name])]
    if prefix.mrn is not None:
        ranges.append(("mrn", _mrn_variants(prefix.mrn)))
    return ranges


def _ranges_sql(column: str, values: list[str], params: _Params) -> str:
    return "(" + " OR ".join(_range(column, v, params) for v in values) + ")"


def _capped(conn: sqlite3.Connection, caps: "_Capabilities", column: str, values: list[str], cap: float) -> int:
    """How many patients are in these ranges of an index, counting no further than `cap`."""
    params = _Params()
    where = _ranges_sql(column, values, params)
    index = _indexed(caps.index("patients", (column,))) if len(values) == 1 else ""
    if math.isinf(cap):
        return conn.execute(f"SELECT count(*) FROM patients {index} WHERE {where}", params).fetchone()[0]
    params["cap"] = int(cap)
    sql = f"SELECT count(*) FROM (SELECT 1 FROM patients {index} WHERE {where} LIMIT :cap)"
    return conn.execute(sql, params).fetchone()[0]


_ACTIVE_SQL = """EXISTS (SELECT 1 FROM episodes AS e WHERE e.patient_id = {a}.id AND e.symptom_onset <= :as_of
    AND e.diagnosis = :toh AND (e.resolved_on IS NULL OR e.resolved_on > :as_of))"""

# Exactly the course rules' RECURRENCE or MIGRATION (docs/course-rules.md): a pair of TOH episodes a, b with
# a.onset < b.onset <= as_of, at another site, or at the same site after a resolved.
_RMO_SQL = """EXISTS (SELECT 1 FROM episodes AS a JOIN episodes AS b ON b.patient_id = a.patient_id
    WHERE a.patient_id = {a}.id AND a.diagnosis = :toh AND b.diagnosis = :toh
      AND a.symptom_onset < b.symptom_onset AND b.symptom_onset <= :as_of
      AND (a.site != b.site OR (a.resolved_on IS NOT NULL AND a.resolved_on < b.symptom_onset)))"""

_LAST_ONSET_SQL = ("(SELECT max(x.symptom_onset) FROM episodes AS x "
                   "WHERE x.patient_id = {a}.id AND x.symptom_onset <= :as_of)")

_MEMBER_FUNCTION = "tohtrack_registry_member"


# ---------------------------------------------------------------------------
# What a database offers: indexes, and the sets of due and flagged patients
# ---------------------------------------------------------------------------


class _Capabilities:
    """Per store: the indexes found (by their leading columns) and the cached due/flagged sets."""

    def __init__(self, conn: sqlite3.Connection):
        self.patients = _indexes(conn, "patients")
        self.episodes = _indexes(conn, "episodes")
        self.sets: dict[int, frozenset[int]] = {}
        self.cache: OrderedDict[tuple, tuple[tuple, int]] = OrderedDict()
        sets = self.sets
        conn.create_function(_MEMBER_FUNCTION, 2, lambda token, pid: pid in sets.get(token, ()))

    def index(self, table: str, lead: tuple[str, ...], ordered: bool = False) -> str | None:
        """The smallest index whose columns start with `lead`; when `ordered`, one that walks (lead..., id)."""
        indexes = self.patients if table == "patients" else self.episodes
        best = None
        for name, columns in indexes.items():
            rest = columns[len(lead):]
            if columns[:len(lead)] != lead or (ordered and rest and rest[0] != "id"):
                continue
            if best is None or len(columns) < len(indexes[best]):
                best = name
        return best


def _indexes(conn: sqlite3.Connection, table: str) -> dict[str, tuple[str, ...]]:
    found = {}
    for row in conn.execute(f"PRAGMA index_list({table})"):
        name = row[1]
        if row[4]:  # partial index: not usable for every query
            continue
        columns = tuple(r[2] for r in conn.execute(f"PRAGMA index_info({_quote(name)})"))
        if None not in columns:
            found[name] = columns
    return found


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_CAPABILITIES: "weakref.WeakKeyDictionary[Store, _Capabilities]" = weakref.WeakKeyDictionary()


def _capabilities(store: "Store") -> _Capabilities:
    caps = _CAPABILITIES.get(store)
    if caps is None:
        caps = _CAPABILITIES[store] = _Capabilities(store.conn)
    return caps


def _data_version(store: "Store") -> tuple[int, int]:
    """Changes by other connections (data_version) and by this one (total_changes)."""
    return store.conn.execute("PRAGMA data_version").fetchone()[0], store.conn.total_changes


def due_ids(store: "Store", as_of: dt.date, settings: Settings | None = None) -> frozenset[int]:
    """Unarchived patients due or overdue for review at as_of (course assessment of the active ones)."""
    found = summaries.joined(store, ACTIVE_PATIENTS_SQL, active_params(as_of), as_of, settings)
    return frozenset(s.patient_id for _, s in found if s.due or s.overdue)


def flagged_ids(store: "Store", as_of: dt.date, settings: Settings | None = None) -> frozenset[int]:
    """Patients (archived too) with any course flag at as_of.

    Flags read straight off the stored columns (risk factors, pregnancy, findings of a study, two TOH
    episodes that recur, migrate or start the same day) are found in SQL; every other patient who could
    have a flag (an active episode, or one that resolved late) is assessed (tohtrack.summary).
    """
    settings = settings or store.settings()
    day = as_of.isoformat()
    params = {"as_of": day, "toh": TOH}
    found = {row[0] for row in store.conn.execute(_PLAIN_FLAGS_SQL, params)}
    late = settings.resolution_window_months[1] * 28  # W2 months are at least this many days
    rest = [row[0] for row in store.conn.execute(_MAYBE_FLAGGED_SQL, dict(params, late_days=late))
            if row[0] not in found]
    found.update(pid for pid, s in summaries.summaries(store, rest, as_of, settings, flags_json=False).items()
                 if s.flag_count)
    return frozenset(found)


# Patients whose TOH episodes (onset by as_of) carry a flag that needs no date arithmetic:
# AVN_RISK_FACTORS, PREGNANCY_ASSOCIATED, AVN_SIGNS / JOINT_SPACE_NARROWING / SUBCHONDRAL_FRACTURE
# (a study dated by as_of), RECURRENCE / MIGRATION, MULTIFOCAL_ONSET.
_PLAIN_FLAGS_SQL = """
SELECT DISTINCT e.patient_id FROM episodes AS e
WHERE e.diagnosis = :toh AND e.symptom_onset <= :as_of AND (
    e.avn_risk_factors != '[]' OR e.pregnancy IS NOT NULL
    OR EXISTS (SELECT 1 FROM imaging AS i WHERE i.episode_id = e.id AND i.date <= :as_of
               AND (i.subchondral_fracture_line = 1 OR i.joint_space_narrowed = 1 OR i.subchondral_t2_low_band = 1
                    OR i.collapse = 1 OR i.dce_enhancement = 'none' OR i.scintigraphy_uptake = 'photopenic'))
    OR EXISTS (SELECT 1 FROM episodes AS o WHERE o.patient_id = e.patient_id AND o.id != e.id
               AND o.diagnosis = :toh AND o.symptom_onset <= e.symptom_onset
               AND (o.site != e.site OR (o.resolved_on IS NOT NULL AND o.resolved_on < e.symptom_onset)))
)"""

# Everyone else who could have a flag: an active TOH episode (PROLONGED_COURSE, NOT_REGRESSING,
# FOLLOW_UP_OVERDUE) or one that took longer than W2 * 28 days to resolve (LATE_RESOLUTION).
_MAYBE_FLAGGED_SQL = """
SELECT DISTINCT e.patient_id FROM episodes AS e
WHERE e.diagnosis = :toh AND e.symptom_onset <= :as_of
  AND (e.resolved_on IS NULL OR e.resolved_on > :as_of
       OR julianday(e.resolved_on) - julianday(e.symptom_onset) > :late_days)"""

_SETS = {"due": due_ids, "flagged": flagged_ids}
_CACHED_SETS = 8


def _member_token(store: "Store", caps: _Capabilities, kind: str, as_of: dt.date) -> int:
    """The token of the cached set of `kind` patients at as_of, computed again after any change."""
    version = _data_version(store)
    key = (kind, as_of)
    hit = caps.cache.get(key)
    if hit is not None and hit[0] == version:
        caps.cache.move_to_end(key)
        return hit[1]
    ids = _SETS[kind](store, as_of)
    token = max(caps.sets, default=0) + 1
    if hit is not None:
        caps.sets.pop(hit[1], None)
    caps.sets[token] = ids
    caps.cache[key] = (version, token)
    while len(caps.cache) > _CACHED_SETS:
        _, (_, old) = caps.cache.popitem(last=False)
        caps.sets.pop(old, None)
    return token


# ---------------------------------------------------------------------------
# Sort orders
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sort:
    """A sort order of the patient list in SQL."""

    name: str
    keys: tuple[str, ...]  # SQL of the sort key over alias p; the last is p.id
    lead: tuple[str, ...]  # the leading columns of an index that walks this order


_SORTS = {
    "name": _Sort("name", ("p.family_key", "p.given_key", "p.id"), ("family_key", "given_key")),
    "mrn": _Sort("mrn", ("p.mrn", "p.id"), ("mrn",)),
    "birth_date": _Sort("birth_date", ("p.birth_date", "p.id"), ("birth_date",)),
    "last_onset": _Sort("last_onset", (_LAST_ONSET_SQL.format(a="p"), "p.id"), ()),
}

# Relative costs of one step of a plan: reading a patient's row, or an index entry that holds all it needs.
_ROW, _INDEX_ENTRY = 1.0, 0.05


class _Search:
    """One page: arms that each find the first `limit` matches in sort order, merged."""

    def __init__(self, store: "Store", query: Query | None, filters: Filters, as_of: dt.date, sort: str,
                 descending: bool, limit: int, after: tuple | None):
        if sort not in _SORTS:
            raise ValueError(f"unknown sort {sort!r} (one of {', '.join(SORTS)})")
        self.store, self.conn = store, store.conn
        self.caps = _capabilities(store)
        self.query, self.filters, self.as_of = query, filters, as_of
        self.sort, self.desc, self.limit, self.after = _SORTS[sort], descending, limit, after
        if after is not None and len(after) != len(self.sort.keys):
            raise ValueError(f"after={after!r} is not a {sort} sort key (PatientRow.sort_key of that sort)")
        self.base = _Params(as_of=as_of.isoformat(), toh=TOH)
        self.filter_sql = _filters_sql(store, self.caps, filters, as_of, self.base)
        self.text_sql = _query_sql(query, self.base) if query is not None else "1"
        lead = self.sort.lead
        # An index in sort order; else one in the order of the first sort column (SQLite then sorts each run
        # of equal values, which is cheap for names).
        self.sort_index = (self.caps.index("patients", lead, ordered=True)
                           or self.caps.index("patients", lead[:1], ordered=True)) if lead else None
        self.onset_index = self.caps.index("episodes", ("symptom_onset", "patient_id"))

    # -- keys -----------------------------------------------------------------

    def _order(self, keys: Sequence[str]) -> str:
        direction = " DESC" if self.desc else ""
        return ", ".join(k + direction for k in keys)

    def _keyset(self, params: _Params) -> str:
        if self.after is None:
            return "1"
        values = ", ".join(params.add(v) for v in self.after)
        return f"({', '.join(self.sort.keys)}) {'<' if self.desc else '>'} ({values})"

    @property
    def no_onset(self) -> str:
        """What stands for 'no onset' in last-onset order: after every date, or before every date when
        descending, so that patients without an onset come last either way."""
        return "" if self.desc else "\uffff"

    def merge_key(self, key: tuple) -> tuple:
        """A key that sorts rows in page order (reversed when descending)."""
        if self.sort.name == "last_onset":
            last, pid = key
            return (self.no_onset if last is None else last, pid)
        return key

    # -- arms ---------------------------------------------------------------------

    def run(self) -> list[tuple]:
        """The page's sort keys, in order."""
        if self.limit <= 0:
            return []
        if self.query is None:
            keys = self.walk([])
        else:
            keys = [key for found in self.arms() for key in found]
        unique = {k[-1]: k for k in keys}
        return sorted(unique.values(), key=self.merge_key, reverse=self.desc)[:self.limit]

    def arms(self) -> Iterable[list[tuple]]:
        """The keys found by each part of the match: of the cheapest word, and of the whole text."""
        query = self.query
        total = self.total()
        choices = [self._parts(prefix, total) for prefix in query.words]
        parts = min(choices, key=lambda ps: sum(p[3] for p in ps))
        if query.whole is not None:
            parts = parts + self._parts(query.whole, total)
        for column, values, plan, _size in parts:
            yield self.arm(column, values, plan)

    def total(self) -> int:
        """About how many patients there are (patients are archived, never removed: ids run up to it)."""
        return self.conn.execute("SELECT coalesce(max(id), 0) FROM patients").fetchone()[0]

    def _parts(self, prefix: _Prefix, total: int) -> list[tuple[str, list[str], str, int]]:
        """(column, prefixes, plan, capped count) per index: plan 'ordered', 'gather' or 'walk'."""
        parts = []
        for column, values in _ranges(prefix):
            if self.sort_index is not None and self.sort.lead[:1] == (column,):
                parts += [(column, [v], "ordered", self.limit) for v in values]
                continue
            threshold = self._threshold(column, total)
            size = _capped(self.conn, self.caps, column, values, threshold)
            parts.append((column, values, "gather" if size < threshold else "walk", size))
        return parts

    def _covers(self, index: str | None) -> bool:
        """Whether an index holds every column the tests and the sort key read (no row reads needed)."""
        if index is None or self.sort.name == "last_onset":
            return False
        needed = {"family_key", "given_key", "mrn", *self.sort.lead}
        if self.filters.archived is not None:
            needed.add("archived")
        return needed <= {"id", *self.caps.patients.get(index, ())}

    def _gather_index(self, column: str) -> str | None:
        """An index led by `column` to gather matches with: one that holds all they are tested on, else the smallest."""
        led = [name for name, columns in self.caps.patients.items() if columns[:1] == (column,)]
        pool = [name for name in led if self._covers(name)] or led
        return min(pool, key=lambda name: len(self.caps.patients[name]), default=None)

    def _threshold(self, column: str, total: int) -> int | float:
        """Up to how many matches gathering them through their index costs less than walking the sort order.

        Gathering costs a step per match; walking costs a step per patient passed on the way to `limit`
        matches, about limit * total / matches when matches are spread out. A step that must read the
        patient's row costs _ROW; one that stays within an index costs _INDEX_ENTRY.
        """
        if self.sort.name == "last_onset":
            walkable, walk_step = self.onset_index is not None, 3 * _ROW  # an episode, its later ones, the row
        else:
            walkable = self.sort_index is not None
            walk_step = _INDEX_ENTRY if self._covers(self.sort_index) else _ROW
        if not walkable:
            return math.inf
        gather_step = _INDEX_ENTRY if self._covers(self._gather_index(column)) else _ROW
        return max(self.limit, int(math.sqrt(self.limit * total * walk_step / gather_step)))

    def arm(self, column: str, values: list[str], plan: str) -> list[tuple]:
        params = _Params(self.base)
        if plan == "walk":
            return self.walk([_ranges_sql(f"+p.{column}", values, params)], params)
        drive = _ranges_sql(f"p.{column}", values, params)
        index = self.sort_index if plan == "ordered" else self._gather_index(column)
        return self._select(drive, params, index)

    def walk(self, terms: list[str], params: _Params | None = None) -> list[tuple]:
        """Walk the sort order (its index when there is one), testing each patient."""
        params = params if params is not None else _Params(self.base)
        where = " AND ".join(terms) or "1"
        if self.sort.name == "last_onset" and self.onset_index is not None:
            return self._walk_onsets(where, params)
        return self._select(where, params, self.sort_index)

    def _select(self, drive: str, params: _Params, index: str | None) -> list[tuple]:
        params["limit"] = self.limit
        where = f"{drive} AND {self.text_sql} AND {self.filter_sql}"
        if self.sort.name == "last_onset":
            return self._select_onsets(where, params, index)
        sql = (f"SELECT {', '.join(self.sort.keys)} FROM patients AS p {_indexed(index)} "
               f"WHERE {where} AND {self._keyset(params)} ORDER BY {self._order(self.sort.keys)} LIMIT :limit")
        return [tuple(r) for r in self.conn.execute(sql, params)]

    def _select_onsets(self, where: str, params: _Params, index: str | None) -> list[tuple]:
        """Last-onset order without the episodes index: each patient's latest onset, worked out once."""
        params["no_onset"] = self.no_onset
        keyset = "1"
        if self.after is not None:
            last, pid = self.after
            keyset = (f"(lo, id) {'<' if self.desc else '>'} "
                      f"({params.add(self.no_onset if last is None else last)}, {params.add(pid)})")
        # LIMIT -1 keeps SQLite from folding the inner query into the outer one (which would work the
        # latest onset out again for the keyset and for the order).
        sql = (f"SELECT lo, id FROM (SELECT coalesce({self.sort.keys[0]}, :no_onset) AS lo, p.id AS id "
               f"FROM patients AS p {_indexed(index)} WHERE {where} LIMIT -1) "
               f"WHERE {keyset} ORDER BY {self._order(('lo', 'id'))} LIMIT :limit")
        return [(None if lo == self.no_onset else lo, pid) for lo, pid in self.conn.execute(sql, params)]

    def _walk_onsets(self, where: str, params: _Params) -> list[tuple]:
        """Last-onset order from the episodes index: each patient at its latest onset, then those without."""
        cmp = "<" if self.desc else ">"
        direction = " DESC" if self.desc else ""
        params["limit"] = self.limit
        found: list[tuple] = []
        if self.after is None or self.after[0] is not None:
            keyset = "1"
            if self.after is not None:
                keyset = (f"(e.symptom_onset, e.patient_id) {cmp} "
                          f"({params.add(self.after[0])}, {params.add(self.after[1])})")
            sql = (f"SELECT e.symptom_onset, e.patient_id FROM episodes AS e {_indexed(self.onset_index)} "
                   "JOIN patients AS p ON p.id = e.patient_id "
                   f"WHERE e.symptom_onset <= :as_of AND {keyset} "
                   # the patient's latest onset by as_of (and one episode of several starting that day)
                   "AND NOT EXISTS (SELECT 1 FROM episodes AS x WHERE x.patient_id = e.patient_id "
                   "AND x.symptom_onset >= e.symptom_onset AND x.symptom_onset <= :as_of "
                   "AND (x.symptom_onset > e.symptom_onset OR x.id < e.id)) "
                   f"AND {where} AND {self.text_sql} AND {self.filter_sql} "
                   f"ORDER BY e.symptom_onset{direction}, e.patient_id{direction} LIMIT :limit")
            found = [tuple(r) for r in self.conn.execute(sql, params)]
        if len(found) < self.limit:
            params["limit"] = self.limit - len(found)
            keyset = "1"
            if self.after is not None and self.after[0] is None:
                keyset = f"p.id {cmp} {params.add(self.after[1])}"
            sql = (f"SELECT NULL, p.id FROM patients AS p WHERE {keyset} "
                   f"AND NOT EXISTS (SELECT 1 FROM episodes AS x WHERE x.patient_id = p.id "
                   "AND x.symptom_onset <= :as_of) "
                   f"AND {where} AND {self.text_sql} AND {self.filter_sql} ORDER BY p.id{direction} LIMIT :limit")
            found += [tuple(r) for r in self.conn.execute(sql, params)]
        return found


def _indexed(index: str | None) -> str:
    return f"INDEXED BY {_quote(index)}" if index else ""


def _filters_sql(store: "Store", caps: _Capabilities, filters: Filters, as_of: dt.date, params: _Params,
                 alias: str = "p") -> str:
    terms = []
    if filters.archived is not None:
        terms.append(f"+{alias}.archived {'!=' if filters.archived else '='} 0")
    if filters.active:
        terms.append(_ACTIVE_SQL.format(a=alias))
    if filters.rmo:
        terms.append(_RMO_SQL.format(a=alias))
    for kind in ("due", "flagged"):
        if getattr(filters, kind):
            token = _member_token(store, caps, kind, as_of)
            terms.append(f"{_MEMBER_FUNCTION}({params.add(token)}, {alias}.id)")
    return " AND ".join(terms) or "1"


# ---------------------------------------------------------------------------
# The public queries
# ---------------------------------------------------------------------------


def search(store: "Store", text: str = "", filters: Filters = Filters(), as_of: dt.date | None = None,
           sort: str = "name", descending: bool = False, limit: int = PAGE_SIZE,
           after: tuple | None = None) -> list[PatientRow]:
    """One page of matching patients in sort order, starting after the row whose `sort_key` is `after`.

    Sorts: name (family_key, given_key, id), mrn, birth_date, last_onset (the latest symptom onset by as_of;
    patients without one come last in either direction).
    """
    as_of = as_of or dt.date.today()
    after = tuple(after) if after is not None else None
    keys = _again_if_schema_changed(
        store, lambda: _Search(store, parse_query(text), filters, as_of, sort, descending, limit, after).run())
    return _rows(store, keys, as_of)


def _again_if_schema_changed(store: "Store", run):
    """Run a query; if an index it named has gone (the schema was upgraded meanwhile), look again and retry."""
    try:
        return run()
    except sqlite3.OperationalError as exc:
        if "no such index" not in str(exc):
            raise
        _CAPABILITIES.pop(store, None)
        return run()


def count(store: "Store", text: str = "", filters: Filters = Filters(), as_of: dt.date | None = None) -> int:
    """How many patients `search` would list with this text and these filters."""
    as_of = as_of or dt.date.today()
    return _again_if_schema_changed(store, lambda: _count(store, text, filters, as_of))


def _count(store: "Store", text: str, filters: Filters, as_of: dt.date) -> int:
    caps = _capabilities(store)
    query = parse_query(text)
    params = _Params(as_of=as_of.isoformat(), toh=TOH)
    text_sql = _query_sql(query, params) if query is not None else "1"
    # Test only the smallest set of candidates known to hold every match, if there is one: those in the
    # text's prefix ranges, the due or flagged patients, those with an active episode or with two episodes.
    size: float = math.inf
    if query is not None:
        cap = _COUNT_GATHER_CAP
        found, ranges = min(((sum(_capped(store.conn, caps, c, v, cap) for c, v in _ranges(w)), _ranges(w))
                             for w in query.words), key=lambda pair: pair[0])
        if found < cap:
            if query.whole is not None:
                ranges = ranges + _ranges(query.whole)
            arms = [f"SELECT q.id FROM patients AS q {_indexed(caps.index('patients', (column,)))} "
                    f"WHERE {_ranges_sql(f'q.{column}', values, params)}" for column, values in ranges]
            size, candidates = found, " UNION ALL ".join(arms) if arms else "SELECT NULL WHERE 0"
    for kind in ("due", "flagged"):
        members = caps.sets[_member_token(store, caps, kind, as_of)] if getattr(filters, kind) else None
        if members is not None and len(members) < size:
            size = len(members)
            candidates = f"SELECT value FROM json_each({params.add(json.dumps(sorted(members)))})"
    if filters.active and math.isinf(size):  # episodes open at as_of, through the index on resolved_on
        index = _indexed(caps.index("episodes", ("resolved_on",)))
        size, candidates = 0, " UNION ALL ".join(
            f"SELECT e.patient_id FROM episodes AS e {index} WHERE {open_} "
            "AND e.symptom_onset <= :as_of AND e.diagnosis = :toh"
            for open_ in ("e.resolved_on IS NULL", "e.resolved_on > :as_of"))
        filters = dataclasses.replace(filters, active=False)  # every candidate has one
    if filters.rmo and math.isinf(size):  # patients with two episodes by as_of, from the index alone
        size, candidates = 0, ("SELECT e.patient_id FROM episodes AS e WHERE e.symptom_onset <= :as_of "
                               "GROUP BY e.patient_id HAVING count(*) > 1")
    where = [text_sql, _filters_sql(store, caps, filters, as_of, params)]
    if not math.isinf(size):
        where.append(f"p.id IN ({candidates})")
    sql = f"SELECT count(*) FROM patients AS p WHERE {' AND '.join(where)}"
    return store.conn.execute(sql, params).fetchone()[0]


_COUNT_GATHER_CAP = 20_000


def _rows(store: "Store", keys: list[tuple], as_of: dt.date) -> list[PatientRow]:
    """Whole rows for a page's keys: one query for the patients, one for their active sites."""
    if not keys:
        return []
    ids = json.dumps([k[-1] for k in keys])
    params = {"ids": ids, "as_of": as_of.isoformat()}
    by_id = {}
    for r in store.conn.execute(
            "SELECT p.id, p.mrn, p.family_name, p.given_name, p.birth_date, p.sex, p.archived, "
            f"{_LAST_ONSET_SQL.format(a='p')} AS last_onset FROM patients AS p "
            "WHERE p.id IN (SELECT value FROM json_each(:ids))", params):
        by_id[r[0]] = PatientRow(r[0], r[1], r[2], r[3], dt.date.fromisoformat(r[4]), r[5], bool(r[6]),
                                 (), dt.date.fromisoformat(r[7]) if r[7] else None)
    sites: dict[int, list[str]] = {}
    for pid, site in store.conn.execute(
            "SELECT e.patient_id, e.site FROM episodes AS e "
            "WHERE e.patient_id IN (SELECT value FROM json_each(:ids)) AND e.symptom_onset <= :as_of "
            "AND (e.resolved_on IS NULL OR e.resolved_on > :as_of) "
            "ORDER BY e.patient_id, e.symptom_onset, e.site", params):
        sites.setdefault(pid, []).append(site)
    rows = []
    for key in keys:
        row = by_id.get(key[-1])
        if row is None:  # removed between the two queries
            continue
        row.active_sites = tuple(dict.fromkeys(sites.get(row.id, ())))
        row.sort_key = tuple(key)
        rows.append(row)
    return rows


def patient_row(store: "Store", patient_id: int, as_of: dt.date | None = None, sort: str = "name") -> PatientRow | None:
    """One patient's row (for showing a patient just added or changed), or None if not there."""
    as_of = as_of or dt.date.today()
    spec = _SORTS[sort]
    params = {"id": patient_id, "as_of": as_of.isoformat()}
    row = store.conn.execute(f"SELECT {', '.join(spec.keys)} FROM patients AS p WHERE p.id = :id",
                             params).fetchone()
    return _rows(store, [tuple(row)], as_of)[0] if row else None


# ---------------------------------------------------------------------------
# Cohort statistics (tohtrack.stats): everything it reads, in four queries
# ---------------------------------------------------------------------------


def _ordinal_sql(column: str) -> str:
    """An ISO date column as date.toordinal() gives it (NULL stays NULL)."""
    return f"CAST(julianday({column}) - 1721424.5 AS INTEGER)"


# Age in whole years on the episode's onset (registry.age_on), from the ISO texts: the difference of the years,
# less one when the onset's month and day ('MM-DD') come before the birthday's.
STATS_AGE_SQL = """(CAST(substr(e.symptom_onset, 1, 4) AS INTEGER) - CAST(substr(p.birth_date, 1, 4) AS INTEGER)
       - (substr(e.symptom_onset, 6, 5) < substr(p.birth_date, 6, 5)))"""
_STATS_EPISODES_WHERE = "WHERE p.archived = 0 AND e.diagnosis = :toh AND e.symptom_onset <= :as_of"
# The episodes with their patients (one join: no second pass over the patients) and their rows of
# episode_figures, with whether the row can stand for the records (it is there, holds no record after as_of,
# and every value in it is a number). Not sorted here: the statistics put each patient's few episodes in order
# (cheaper than sorting them all).


def _stats_pooled_sql(pain: bool) -> str:
    """pain=False: the pain columns NULL and not asked to be plain numbers (the figures leave pain out)."""
    pains, plain = ("f.pains, f.pain_keys", " OR NOT f.pains_plain") if pain else ("NULL, NULL", "")
    return f"""SELECT e.id, e.patient_id, e.site, {_ordinal_sql("e.symptom_onset")},
      {_ordinal_sql("e.resolved_on")}, p.sex, {STATS_AGE_SQL}, {_ordinal_sql("f.last_date")},
      f.extents, f.extent_keys, {pains},
      f.episode_id IS NULL OR f.last_date > :as_of OR NOT f.extents_plain{plain}
    FROM episodes AS e NOT INDEXED JOIN patients AS p ON p.id = e.patient_id
      LEFT JOIN episode_figures AS f ON f.episode_id = e.id
    {_STATS_EPISODES_WHERE}"""


_STATS_POOLED_SQL = {True: _stats_pooled_sql(True), False: _stats_pooled_sql(False)}
# Otherwise: the episodes with their latest contact by as_of (each table's latest date found by a seek in its
# (episode, date) index) ...
_STATS_EPISODES_SQL = f"""SELECT e.id, e.patient_id, e.site, {_ordinal_sql("e.symptom_onset")},
      {_ordinal_sql("e.resolved_on")}, p.sex, {STATS_AGE_SQL},
      {_ordinal_sql("max(coalesce((SELECT max(date) FROM imaging WHERE episode_id = e.id AND date <= :as_of), ''), "
                    "coalesce((SELECT max(date) FROM symptoms WHERE episode_id = e.id AND date <= :as_of), ''))")}
    FROM episodes AS e NOT INDEXED JOIN patients AS p ON p.id = e.patient_id
    {_STATS_EPISODES_WHERE}"""
# ... and their values record by record, with the month key in SQL (stats.month_key): worked out here, in C,
# rather than row by row in Python.
STATS_MONTH_KEY_SQL = """((CAST(substr(x.date, 1, 4) AS INTEGER) - CAST(substr(e.symptom_onset, 1, 4) AS INTEGER)) * 12
       + CAST(substr(x.date, 6, 2) AS INTEGER) - CAST(substr(e.symptom_onset, 6, 2) AS INTEGER)) * 2
       + (substr(x.date, 9, 2) > substr(e.symptom_onset, 9, 2))"""
_STATS_VALUES_SQL = """SELECT e.patient_id, x.episode_id, """ + STATS_MONTH_KEY_SQL + """, x.{column}
    FROM {table} AS x NOT INDEXED CROSS JOIN episodes AS e ON e.id = x.episode_id
      CROSS JOIN patients AS p ON p.id = e.patient_id
    WHERE x.{column} IS NOT NULL AND x.date <= :as_of AND e.diagnosis = :toh AND p.archived = 0
      AND e.symptom_onset <= :as_of"""
_STALE = itemgetter(12)


@gc_paused()
def stats_records(store: "Store", as_of: dt.date, pooled: bool = True, pain: bool = True) -> StatsRecords:
    """The records the cohort statistics are worked out from, as the database stood at as_of (in one read
    transaction, so that the queries see the same database). pooled=False: read the values record by record
    even where episode_figures could stand for them (the tests compare the two). pain=False: without the pain
    scores (NULL in the pooled rows, no `pains`)."""
    params = {"as_of": as_of.isoformat(), "toh": TOH}
    conn = store.conn
    cursor = conn.cursor()
    cursor.row_factory = None
    began = not conn.in_transaction
    if began:
        conn.execute("BEGIN")
    try:
        if pooled and _has_figures(conn):
            episodes = cursor.execute(_STATS_POOLED_SQL[pain], params).fetchall()
            if not any(map(_STALE, episodes)):
                return StatsRecords(as_of, episodes, True, [], [], pain)
        episodes = cursor.execute(_STATS_EPISODES_SQL, params).fetchall()
        extents = cursor.execute(_STATS_VALUES_SQL.format(table="imaging", column="edema_extent_pct"),
                                 params).fetchall()
        pains = cursor.execute(_STATS_VALUES_SQL.format(table="symptoms", column="pain_nrs"),
                               params).fetchall() if pain else []
    finally:
        if began and conn.in_transaction:
            conn.execute("COMMIT")
    return StatsRecords(as_of, episodes, False, extents, pains, pain)


def _has_figures(conn: sqlite3.Connection) -> bool:
    """Whether the file has episode_figures (m007; a read-only command does not upgrade an older file)."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'episode_figures'"
                        ).fetchone() is not None


def _figures_words(text: str | None) -> list[str]:
    return sorted(text.split()) if text else []


def figures_rows_sql() -> str:
    """Every episode's row of episode_figures made afresh, as migrations.FIGURES_ROW makes one episode's, but
    from one pass over each table (for `check`: a look-up per episode takes minutes at a hundred thousand)."""
    from .migrations import FIGURES_TOP_KEY, _FIGURES_KEY

    def values(table: str, column: str) -> str:
        number = f"x.{column} IS NOT NULL AND typeof(x.{column}) IN ('integer', 'real')"
        return f"""SELECT x.episode_id AS id, max(x.date) AS last_date,
              group_concat(CASE WHEN {number} THEN ({_FIGURES_KEY}) || ':' || CASE typeof(x.{column})
                WHEN 'integer' THEN x.{column} ELSE printf('%!.17g', x.{column}) END END, ' ') AS words,
              sum(DISTINCT CASE WHEN {number} THEN 1 << CASE WHEN ({_FIGURES_KEY}) BETWEEN 0 AND {FIGURES_TOP_KEY}
                THEN ({_FIGURES_KEY}) ELSE {FIGURES_TOP_KEY + 1} END END) AS keys,
              NOT max(x.{column} IS NOT NULL AND typeof(x.{column}) NOT IN ('integer', 'real')) AS plain
            FROM {table} AS x JOIN episodes AS e ON e.id = x.episode_id GROUP BY x.episode_id"""

    return f"""WITH i AS ({values("imaging", "edema_extent_pct")}),
        s AS ({values("symptoms", "pain_nrs")})
        SELECT e.id, nullif(max(coalesce(i.last_date, ''), coalesce(s.last_date, '')), ''),
          i.words, i.keys, coalesce(i.plain, 1), s.words, s.keys, coalesce(s.plain, 1)
        FROM episodes AS e LEFT JOIN i ON i.id = e.id LEFT JOIN s ON s.id = e.id"""


def verify_stats_figures(store: "Store", limit: int = 20) -> list[str]:
    """Problems with episode_figures (for `check`): each episode's row against one made afresh from its records
    (the words in any order). A cache that is never a source of truth: a wrong row is written again by the next
    write to the episode, and emptying the table makes the statistics read the records."""
    conn = store.conn
    if not _has_figures(conn):
        return []
    cursor = conn.cursor()
    cursor.row_factory = None

    def normal(row: Sequence) -> tuple:
        return (row[1], _figures_words(row[2]), row[3], bool(row[4]), _figures_words(row[5]), row[6], bool(row[7]))

    fresh = {row[0]: normal(row) for row in cursor.execute(figures_rows_sql())}
    stored = {row[0]: normal(row) for row in cursor.execute(
        "SELECT episode_id, last_date, extents, extent_keys, extents_plain, pains, pain_keys, pains_plain "
        "FROM episode_figures")}
    problems = []
    for episode_id in sorted(fresh.keys() | stored.keys()):
        if episode_id not in stored:
            problems.append(f"statistics: episode {episode_id} has no row in episode_figures (removed outside "
                            "TOHtrack; the statistics read its records instead)")
        elif episode_id not in fresh:
            problems.append(f"statistics: episode_figures has a row for episode {episode_id}, which does not exist "
                            "(written outside TOHtrack)")
        elif stored[episode_id] != fresh[episode_id]:
            problems.append(f"statistics: episode {episode_id}'s row in episode_figures does not match its records "
                            "(changed outside TOHtrack)")
        if len(problems) >= limit:
            problems.append("statistics: further rows of episode_figures not compared")
            break
    return problems
