"""The patient registry: search as you type, filters, sorting and keyset pages over the whole database (no Qt).

Search text is split into words; a patient matches when every word is the prefix of the MRN (ASCII letters in
any case), of the family name or of the given name (case and accents ignored: 'mull' finds 'Müller'), or when
the whole text is such a prefix ('van der b' finds 'van der Berg').

A page is found without OFFSET: `after` is the sort key of the last row of the previous page
(`PatientRow.sort_key`), so page 500 costs what page 1 costs. Text is matched through the indexes on
`family_key`, `given_key` and `mrn` when few patients match, and by walking the index of the sort order when
many do (each part of the match is costed separately, with counts capped at the point where walking wins).
"""

from __future__ import annotations

import datetime as dt
import string
import unicodedata
from dataclasses import dataclass, field

from .db import Store, fold
from .model import refused_character
from .settings import Settings

SORTS = ("name", "mrn", "birth_date", "last_onset")
PAGE_SIZE = 200

# ---------------------------------------------------------------------------
# Results and filters
# ---------------------------------------------------------------------------


@dataclass
class PatientRow:
    """One patient as the registry list shows it."""

    id: int
    mrn: str
    family_name: str
    given_name: str
    birth_date: dt.date
    sex: str
    archived: bool
    active_sites: tuple[str, ...] = ()
    last_onset: dt.date | None = None
    #: The key of this row in the sort it was fetched with: pass it as `after` for the next page.
    sort_key: tuple = field(default=(), compare=False, repr=False)

    @property
    def display_name(self) -> str:
        """'ROSSI, Marco', as Patient.display_name."""
        return f"{self.family_name.upper()}, {self.given_name}".rstrip(", ")


@dataclass(frozen=True)
class Filters:
    """Which patients the registry lists, besides the search text (all evaluated at the as-of date)."""

    #: A TOH episode active at as_of (onset on or before it, not resolved by it).
    active: bool = False
    #: The regional migratory osteoporosis pattern at as_of (a RECURRENCE or MIGRATION flag).
    rmo: bool = False
    #: False: unarchived patients only; True: archived only; None: both.
    archived: bool | None = False
    #: Any course flag at as_of.
    flagged: bool = False
    #: Due or overdue for review at as_of (archived patients never are).
    due: bool = False


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Age in whole years on `day`."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


# ---------------------------------------------------------------------------
# Search text
# ---------------------------------------------------------------------------

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def mrn_fold(text: str) -> str:
    """MRNs are compared for search with ASCII letters in lower case (as SQLite's lower() does)."""
    return text.translate(_ASCII_LOWER)


def _mrn_typed(text: str) -> str:
    """Search text as an MRN is stored (model.normalize_mrn: NFKC, so a fullwidth 'Ｈ-0001' finds 'H-0001'),
    without the invisible characters no MRN holds."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii() and text.isprintable():
        return text
    return "".join(char for char in text if refused_character(char) is None or not _encodable(char))


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: no stored text contains them
        return False
    return True


@dataclass(frozen=True)
class _Prefix:
    """One word (or the whole text) as prefixes of the name keys and of the MRN; None: matches none."""

    name: str | None
    mrn: str | None

    @classmethod
    def of(cls, text: str) -> "_Prefix":
        name, mrn = fold(text), mrn_fold(_mrn_typed(text))
        if text and not mrn:  # only invisible characters: no MRN starts with nothing typed
            mrn = None
        return cls(name if _encodable(name) else None, mrn if mrn is not None and _encodable(mrn) else None)

    def matches(self, mrn: str, family_key: str, given_key: str) -> bool:
        if self.name is not None and (family_key.startswith(self.name) or given_key.startswith(self.name)):
            return True
        return self.mrn is not None and mrn_fold(mrn).startswith(self.mrn)


@dataclass(frozen=True)
class Query:
    """Parsed search text: every word must match, or else the whole text as one prefix."""

    words: tuple[_Prefix, ...]
    whole: _Prefix | None

    def matches(self, mrn: str, family_key: str, given_key: str) -> bool:
        if all(w.matches(mrn, family_key, given_key) for w in self.words):
            return True
        return self.whole is not None and self.whole.matches(mrn, family_key, given_key)


def parse_query(text: str) -> Query | None:
    """The search text as prefixes; None when it restricts nothing."""
    raw = text.split()
    # A word whose folded form is empty (a lone accent) is a prefix of every name: it restricts nothing.
    words = tuple(p for p in map(_Prefix.of, raw) if p.name != "")
    if not words:
        return None
    whole = _Prefix.of(" ".join(raw)) if len(raw) > 1 else None
    return Query(words, whole)


def text_matches(text: str, mrn: str, family_name: str, given_name: str) -> bool:
    """Whether a patient with these values matches the search text (what `search` finds, row by row)."""
    query = parse_query(text)
    return query is None or query.matches(mrn, fold(family_name), fold(given_name))


def sort_key(row: PatientRow, sort: str) -> tuple:
    """The key of a row in a sort order (what `after` takes), from the row's own values."""
    if sort == "name":
        return (fold(row.family_name), fold(row.given_name), row.id)
    if sort == "mrn":
        return (row.mrn, row.id)
    if sort == "birth_date":
        return (row.birth_date.isoformat(), row.id)
    if sort == "last_onset":
        return (row.last_onset.isoformat() if row.last_onset else None, row.id)
    raise ValueError(f"unknown sort {sort!r} (one of {', '.join(SORTS)})")


# ---------------------------------------------------------------------------
# The public queries: answered by the storage gateway (tohtrack.store)
# ---------------------------------------------------------------------------


def search(store: Store, text: str = "", filters: Filters = Filters(), as_of: dt.date | None = None,
           sort: str = "name", descending: bool = False, limit: int = PAGE_SIZE,
           after: tuple | None = None) -> list[PatientRow]:
    """One page of matching patients in sort order, starting after the row whose `sort_key` is `after`.

    Sorts: name (family_key, given_key, id), mrn, birth_date, last_onset (the latest symptom onset by as_of;
    patients without one come last in either direction).
    """
    return store.search(text, filters, as_of or dt.date.today(), sort, descending, limit, after)


def count(store: Store, text: str = "", filters: Filters = Filters(), as_of: dt.date | None = None) -> int:
    """How many patients `search` would list with this text and these filters."""
    return store.count(text, filters, as_of or dt.date.today())


def patient_row(store: Store, patient_id: int, as_of: dt.date | None = None, sort: str = "name") -> PatientRow | None:
    """One patient's row (for showing a patient just added or changed), or None if not there."""
    return store.patient_row(patient_id, as_of or dt.date.today(), sort)


def due_ids(store: Store, as_of: dt.date, settings: Settings | None = None) -> frozenset[int]:
    """Unarchived patients due or overdue for review at as_of (course assessment of the active ones)."""
    return store.due_ids(as_of, settings)


def flagged_ids(store: Store, as_of: dt.date, settings: Settings | None = None) -> frozenset[int]:
    """Patients (archived too) with any course flag at as_of (tohtrack.summary assesses those that need it)."""
    return store.flagged_ids(as_of, settings)


# ---------------------------------------------------------------------------
# Cohort statistics (tohtrack.stats): everything it reads (the stats section: all of its SQL)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StatsRecords:
    """What the cohort statistics read: the TOH episodes that started by as_of of unarchived patients, with the
    patients' sex and age, the episodes' latest contacts, and their edema extents and pain scores dated by as_of.
    Plain tuples (a hundred thousand patients' worth) made by SQLite, not Python objects; days as proleptic
    ordinals (`date.toordinal()`), so that spans are differences of ints.

    The values come one of two ways, the same figures either way (tests/test_stats.py): `pooled`, from the
    episodes' rows of episode_figures (migration m007) as words 'key:value' with the set of their keys as bits,
    when every episode's row holds all its records by as_of; otherwise as one row per study or symptom record.
    The month key is 2 × the whole calendar months from onset to the record's month, plus 1 if the record's day
    of the month is past the onset's (tohtrack.stats.month_key)."""

    as_of: dt.date
    #: (episode id, patient id, site, onset, resolved_on or None, patient's sex, patient's age in whole years at
    #: the onset, the episode's latest contact by as_of (study or symptom record) or None, then when `pooled`:
    #: extents as words, their keys as bits, pains as words, their keys as bits), in no particular order.
    episodes: list[tuple]
    #: True: the values are in `episodes`; False: in `extents` and `pains`.
    pooled: bool
    #: (patient id, episode id, month key, value): edema extent in % of the episodes' imaging studies dated by
    #: as_of (empty when pooled).
    extents: list[tuple[int, int, int, float]]
    #: (patient id, episode id, month key, value): pain NRS of the episodes' symptom records dated by as_of.
    pains: list[tuple[int, int, int, float]]
    #: False: read without the pain scores (pooled pains NULL, `pains` empty), for figures that do not show them.
    with_pain: bool = True


def stats_records(store: Store, as_of: dt.date, pooled: bool = True, pain: bool = True) -> StatsRecords:
    """The records the cohort statistics are worked out from, as the database stood at as_of (one consistent
    read, through the storage gateway). pooled=False: the values record by record even where the backend keeps
    them per episode (the tests compare the two). pain=False: without the pain scores (the Cohort tab does not
    show them; at a hundred thousand patients reading them is a tenth of its wait)."""
    return store.stats_records(as_of, pooled=pooled, pain=pain)
