"""Cohort statistics (no Qt): how long TOH episodes take to resolve, how many patients have a second episode and
when, which joints follow which, and the course of edema and pain over the months since onset.

Everything is evaluated at an as-of date with the course rules' cut-off: episodes starting after it are left out
and records dated after it are ignored. The cohort is the TOH episodes (diagnosis `transient_osteoporosis`) of
unarchived patients. The README's "Cohort statistics" section states every definition; in short:

- Time to resolution, per episode: days from onset to `resolved_on` (an event) when that is on or before as_of;
  otherwise censored at the episode's latest contact (imaging study or symptom record) on or before as_of, or
  at its onset when it has none.
- Second episode, per patient: days from the first TOH onset to the first TOH onset strictly after it, at any
  site (an event); a same-day onset elsewhere is multifocal, not a second episode. Otherwise censored at the
  patient's latest contact over all their TOH episodes on or before as_of (the first onset when none).
- Kaplan–Meier written out below (events before censorings at a tied time), with Greenwood's variance and the
  95% band on the log(−log) scale as lifelines and R's `conf.type = "log-log"` give it; tests/test_stats.py
  checks it against lifelines.
- RECURRENCE and MIGRATION are the course assessment's flags: the conditions of its two rules
  (course._recurrence, course._migration) on the patients' TOH episodes, without their wording
  (migratory_flags; tests/test_stats_figures.py checks them against the rules themselves, tests/test_stats.py
  against course.assess).
"""

from __future__ import annotations

import bisect
import functools
import datetime as dt
import math
import re
from collections import Counter
from dataclasses import dataclass, field, fields
from itertools import accumulate, compress, repeat
from operator import add, and_, itemgetter, mul, not_
from statistics import NormalDist
from typing import Callable, Iterable, NamedTuple, Sequence

from . import course
from .perf import gc_paused
from .model import JOINTS, SEXES, TOH, Episode, site_joint
from .settings import Settings
from .registry import stats_records

#: The two-sided 95% normal quantile (scipy.stats.norm.ppf(0.975), which lifelines uses).
Z95 = NormalDist().inv_cdf(0.975)
#: Days at which the share resolved is given (6, 8 and 12 months).
RESOLVED_BY_DAYS = (182, 243, 365)
#: Days at which the cumulative incidence of a second episode is given (1, 2 and 5 years).
INCIDENCE_BY_DAYS = (365, 730, 1825)
#: Months-since-onset bins of the edema and pain figures: [0, 2], (2, 4], (4, 6], (6, 8], (8, 12], (12, ∞).
MONTH_EDGES = (2, 4, 6, 8, 12)
MONTH_BINS = ("0-2", "2-4", "4-6", "6-8", "8-12", ">12")
#: Cells of fewer patients than this are shown as "< 5" in the cohort report.
SMALL_CELL = 5

_AGE_BAND_RE = re.compile(r"([0-9]{1,3})-([0-9]{1,3})")


# ---------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------


def age_band(age: int) -> str:
    """The 10-year band of an age in whole years: 47 -> '40-49'."""
    low = (max(age, 0) // 10) * 10
    return f"{low}-{low + 9}"


_band = functools.lru_cache(maxsize=None)(age_band)


def parse_age_band(text: str) -> str:
    """A 10-year age band as written ('40-49'); raises ValueError with a readable message."""
    match = _AGE_BAND_RE.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"{text!r} is not an age band (expected a 10-year band such as 40-49)")
    low, high = int(match.group(1)), int(match.group(2))
    if low % 10 or high != low + 9:
        raise ValueError(f"{text!r} is not a 10-year age band (expected one such as 40-49: from a multiple of 10, "
                         "nine years on)")
    return f"{low}-{high}"


@dataclass(frozen=True)
class Filters:
    """Which episodes and patients the figures are over (None: no restriction).

    joint: for the per-episode figures (time to resolution, edema, pain) that joint's episodes; for the
    second-episode figures the patients whose first TOH episode (earliest onset, then site code) is at that
    joint, their later episodes counting at any site. sex and age_band (at the first TOH onset) select patients.
    onset_from / onset_to (inclusive): the episode's onset for the per-episode figures, the first onset for the
    second-episode figures.
    """

    joint: str | None = None
    sex: str | None = None
    age_band: str | None = None
    onset_from: dt.date | None = None
    onset_to: dt.date | None = None

    def problems(self) -> list[tuple[str, str]]:
        """(option, message) for each value that is not allowed."""
        found = []
        if self.joint not in (None, "all") and self.joint not in JOINTS:
            found.append(("joint", f"{self.joint!r} is not a joint (one of {', '.join(JOINTS)}, or all)"))
        if self.sex is not None and self.sex not in SEXES:
            found.append(("sex", f"{self.sex!r} is not a sex (one of {', '.join(SEXES)})"))
        if self.age_band is not None:
            try:
                parse_age_band(self.age_band)
            except ValueError as exc:
                found.append(("age-band", str(exc)))
        if self.onset_from is not None and self.onset_to is not None and self.onset_from > self.onset_to:
            found.append(("onset-from", f"{self.onset_from.isoformat()} is after --onset-to "
                                        f"{self.onset_to.isoformat()}"))
        return found

    def onset_in(self, day: dt.date) -> bool:
        return ((self.onset_from is None or day >= self.onset_from)
                and (self.onset_to is None or day <= self.onset_to))

    def as_json(self) -> dict:
        return {"joint": self.joint, "sex": self.sex, "age_band": self.age_band,
                "onset_from": _iso(self.onset_from), "onset_to": _iso(self.onset_to)}


# ---------------------------------------------------------------------------
# Kaplan–Meier
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """The Kaplan–Meier estimate at one distinct event or censoring time."""

    day: int
    at_risk: int
    events: int
    censored: int
    survival: float
    lower: float
    upper: float

    def as_json(self) -> dict:
        return {"day": self.day, "at_risk": self.at_risk, "events": self.events, "censored": self.censored,
                "survival": self.survival, "ci95": [self.lower, self.upper]}


@dataclass(frozen=True)
class KaplanMeier:
    """A Kaplan–Meier curve with its 95% band, median and the median's 95% interval."""

    points: tuple[CurvePoint, ...]
    events: int
    censored: int
    median: int | None
    median_ci: tuple[int | None, int | None]

    @property
    def subjects(self) -> int:
        return self.events + self.censored

    def _index(self, day: float) -> int:
        """The index of the last point at or before `day` (-1: before the first)."""
        return bisect.bisect_right([p.day for p in self.points], day) - 1

    def survival_at(self, day: float) -> float | None:
        """S(day): 1 before the first event, the last estimate after the last time; None without subjects."""
        if not self.points:
            return None
        i = self._index(day)
        return 1.0 if i < 0 else self.points[i].survival

    def band_at(self, day: float) -> tuple[float, float] | None:
        if not self.points:
            return None
        i = self._index(day)
        return (1.0, 1.0) if i < 0 else (self.points[i].lower, self.points[i].upper)

    def at_risk_at(self, day: float) -> int:
        """How many were still followed at `day` (time ≥ day): the number at risk printed beneath a curve."""
        for p in self.points:
            if p.day >= day:
                return p.at_risk
        return 0

    def one_minus_at(self, day: float) -> float | None:
        s = self.survival_at(day)
        return None if s is None else 1.0 - s


def greenwood_band(survival: float, variance_sum: float, z: float = Z95) -> tuple[float, float]:
    """The 95% band of S on the log(−log) scale: [1, 1] while S = 1, [0, 0] once S = 0."""
    if survival >= 1.0:
        return 1.0, 1.0
    if survival <= 0.0:
        return 0.0, 0.0
    v = math.log(survival)
    spread = z * math.sqrt(variance_sum) / v  # negative
    return math.exp(-math.exp(math.log(-v) - spread)), math.exp(-math.exp(math.log(-v) + spread))


def kaplan_meier(times: Sequence[float], events: Sequence[bool], z: float = Z95) -> KaplanMeier:
    """The Kaplan–Meier estimate of (time, event) pairs; at a tied time events come before censorings (those
    censored then are still at risk). Greenwood's sum adds d / (n (n − d)) per time, nothing when n = d (as
    lifelines does: S is then 0 and its band [0, 0])."""
    if len(times) != len(events):
        raise ValueError("times and events differ in length")
    deaths = Counter(compress(times, events))  # counted in C: a hundred thousand subjects
    losses = Counter(compress(times, map(not_, events)))
    at_risk = len(times)
    log_survival, survival, variance = 0.0, 1.0, 0.0
    points = []
    for t in sorted(deaths.keys() | losses.keys()):
        d, c = deaths[t], losses[t]
        if d:
            # S as exp of the summed log(1 − d/n), as lifelines works it out: the same floating-point value, so
            # that a curve that reaches 0.5 exactly has its median at the same time in both.
            if at_risk == d:
                log_survival, survival = -math.inf, 0.0
            else:
                log_survival += math.log(at_risk - d) - math.log(at_risk)
                survival = math.exp(log_survival)
                variance += d / (at_risk * (at_risk - d))
        lower, upper = greenwood_band(survival, variance, z)
        points.append(CurvePoint(t, at_risk, d, c, survival, lower, upper))
        at_risk -= d + c
    return KaplanMeier(tuple(points), sum(deaths.values()), sum(losses.values()),
                       _first_at_or_below(points, "survival"),
                       (_first_at_or_below(points, "lower"), _first_at_or_below(points, "upper")))


def _first_at_or_below(points: Iterable[CurvePoint], attribute: str, q: float = 0.5):
    return next((p.day for p in points if getattr(p, attribute) <= q), None)


# ---------------------------------------------------------------------------
# Descriptive figures
# ---------------------------------------------------------------------------


def quantile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values by linear interpolation between order statistics (R's type 7, numpy's
    default, statistics.quantiles(method='inclusive'))."""
    if not ordered:
        raise ValueError("no values")
    h = (len(ordered) - 1) * q
    low = math.floor(h)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


@dataclass(frozen=True)
class Spread:
    """Median and interquartile range of some values (with their count, range and how many patients)."""

    n: int
    patients: int
    median: float
    q1: float
    q3: float
    low: float
    high: float

    @classmethod
    def of(cls, values: Iterable[float], patients: int = 0) -> "Spread | None":
        ordered = sorted(values)
        if not ordered:
            return None
        return cls(len(ordered), patients, quantile(ordered, 0.5), quantile(ordered, 0.25),
                   quantile(ordered, 0.75), ordered[0], ordered[-1])

    @classmethod
    def of_counts(cls, counts: dict[float, int], patients: int = 0) -> "Spread | None":
        """The same as `of` over values given as {value: how many times}: each quantile picks the same order
        statistics and interpolates between them the same way (quantile), without listing every value."""
        if not counts:
            return None
        ordered = sorted(counts)
        ends = list(accumulate(counts[v] for v in ordered))  # ends[i]: how many values are <= ordered[i]
        n = ends[-1]

        def nth(i: int) -> float:  # the i-th smallest value (from 0)
            return ordered[bisect.bisect_right(ends, i)]

        def q(share: float) -> float:
            h = (n - 1) * share
            low = math.floor(h)
            a = nth(low)
            return a + (h - low) * (nth(min(low + 1, n - 1)) - a)

        return cls(n, patients, q(0.5), q(0.25), q(0.75), ordered[0], ordered[-1])

    def as_json(self) -> dict:
        return {"n": self.n, "patients": self.patients, "median": self.median, "iqr": [self.q1, self.q3],
                "range": [self.low, self.high]}


def month_key(onset: dt.date, day: str | dt.date) -> int:
    """2 × the whole calendar months from the onset's month to the record's, plus 1 when the record's day of the
    month is past the onset's: a record is at most k months after onset (as course.months_since_onset counts
    them, the month's last day standing in for a day it lacks) exactly when its key is at most 2k.
    (registry.stats_records works the same key out in SQL.)"""
    text = day if isinstance(day, str) else day.isoformat()
    months = (int(text[:4]) - onset.year) * 12 + int(text[5:7]) - onset.month
    return 2 * months + (int(text[8:10]) > onset.day)


def bin_of_key(key: int) -> int:
    """The index in MONTH_BINS of a month key: [0, 2], (2, 4], (4, 6], (6, 8], (8, 12], over 12 months."""
    return _BIN_BY_KEY[key] if 0 <= key < len(_BIN_BY_KEY) else len(MONTH_EDGES)


def month_bin(onset: dt.date, day: str | dt.date) -> int:
    """The index in MONTH_BINS of a record dated `day` (ISO text or a date) of an episode with this onset.

    Calendar months since onset as the course rules count them (course.months_since_onset): the bins are
    [0, 2], (2, 4], (4, 6], (6, 8], (8, 12] and over 12 months, so a record exactly 2 months after onset (the
    same day of the month, or that month's last day when it is shorter) is in 0–2 and one a day later in 2–4.
    """
    return bin_of_key(month_key(onset, day))


# A key at or below 2 × an edge lies within that edge.
_BIN_BY_KEY = tuple(bisect.bisect_left([2 * e for e in MONTH_EDGES], key) for key in range(2 * MONTH_EDGES[-1] + 1))


# ---------------------------------------------------------------------------
# The figures
# ---------------------------------------------------------------------------


class Subject(NamedTuple):
    """One row behind a Kaplan–Meier curve: an episode (time to resolution) or a patient (second episode)."""

    day: int
    event: bool
    patient_id: int
    episode_id: int  # the episode (time to resolution) or the patient's first episode (second episode)
    site: str
    onset: dt.date
    end: dt.date  # the day of the event or of the censoring


@dataclass
class CohortStats:
    """Every figure of `tohtrack stats` (see the module docstring and the README)."""

    as_of: dt.date
    filters: Filters
    patients: int
    episodes: int
    episodes_by_site: dict[str, int]
    sex: dict[str, int]
    age_band: dict[str, int]
    time_to_resolution: KaplanMeier
    #: (day, event, patient id, episode id, site, onset, end) with days as ordinals: Subject's fields, kept as
    #: plain tuples (a hundred thousand of them); subjects_at makes Subjects of those asked for.
    resolution_subjects: list[tuple]
    second_episode: KaplanMeier
    second_subjects: list[tuple]
    recurrence: tuple[int, int]  # flags, patients
    migration: tuple[int, int]
    migration_table: list[tuple[str, str, int]]  # (from site, site, flags), most frequent first
    onset_interval: Spread | None
    extent_by_month: list[Spread | None]
    #: Pain NRS by month bin (pain_by_month), or what works it out on first use, or None when the records were
    #: read without pain scores (compute(pain=False): the Cohort tab does not show it, so a tab on a hundred
    #: thousand patients does not wait for it; the CLI and the report read it at once).
    pain: list[Spread | None] | Callable[[], list[Spread | None]] | None = field(repr=False, compare=False)
    window_months: tuple[int, int] = (6, 8)

    @property
    def pain_by_month(self) -> list[Spread | None] | None:
        """Pain NRS by month bin; None when worked out without pain (compute(pain=False))."""
        if callable(self.pain):
            self.pain = self.pain()
        return self.pain

    def __eq__(self, other) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self.pain_by_month == other.pain_by_month and all(
            getattr(self, f.name) == getattr(other, f.name) for f in fields(self) if f.compare)

    def subjects_at(self, curve: str, day: int) -> list[Subject]:
        """The episodes (or patients) behind one point of a curve: those with an event or censored that day."""
        rows = self.resolution_subjects if curve == "time_to_resolution" else self.second_subjects
        found = [Subject(d, event, pid, eid, site, dt.date.fromordinal(onset), dt.date.fromordinal(end))
                 for d, event, pid, eid, site, onset, end in rows if d == day]
        return sorted(found, key=lambda s: (not s.event, s.onset, s.site, s.episode_id))

    def subjects(self, curve: str) -> list[Subject]:
        """Every row behind a curve, in the order of subjects_at."""
        rows = self.resolution_subjects if curve == "time_to_resolution" else self.second_subjects
        return [s for day in sorted({row[0] for row in rows}) for s in self.subjects_at(curve, day)]

    def as_json(self) -> dict:
        """The `tohtrack stats --json` document."""
        km, second = self.time_to_resolution, self.second_episode
        return {
            "as_of": self.as_of.isoformat(),
            "filters": self.filters.as_json(),
            "patients": self.patients,
            "episodes": self.episodes,
            "time_to_resolution": {
                **_km_json(km),
                "resolved_by_day": {str(d): km.one_minus_at(d) for d in RESOLVED_BY_DAYS},
            },
            "second_episode": {
                "patients": second.subjects,
                **_km_json(second),
                "cumulative_incidence_by_day": {str(d): second.one_minus_at(d) for d in INCIDENCE_BY_DAYS},
                "recurrence": {"flags": self.recurrence[0], "patients": self.recurrence[1]},
                "migration": {"flags": self.migration[0], "patients": self.migration[1]},
                "migration_table": [{"from_site": a, "site": b, "count": n} for a, b, n in self.migration_table],
                "onset_interval_days": self.onset_interval.as_json() if self.onset_interval else None,
            },
            "descriptive": {
                "episodes_by_site": self.episodes_by_site,
                "sex": self.sex,
                "age_band_at_first_onset": self.age_band,
                "edema_extent_pct_by_month": _bins_json(self.extent_by_month),
                "pain_nrs_by_month": None if self.pain_by_month is None else _bins_json(self.pain_by_month),
            },
        }


def _km_json(km: KaplanMeier) -> dict:
    return {"events": km.events, "censored": km.censored, "median_days": km.median,
            "median_ci95_days": list(km.median_ci), "curve": [p.as_json() for p in km.points]}


def _bins_json(spreads: list[Spread | None]) -> dict:
    return {name: s.as_json() if s else None for name, s in zip(MONTH_BINS, spreads)}


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


@gc_paused()
def compute(store, as_of: dt.date | None = None, filters: Filters = Filters(), settings=None,
            pain: bool = True) -> CohortStats:
    """The cohort statistics of a database at as_of (default today). pain=False: without pain by month
    (`pain_by_month` is then None; the Cohort tab does not show it)."""
    as_of = as_of or dt.date.today()
    settings = settings or store.settings()
    return from_records(stats_records(store, as_of, pain=pain), filters, settings.resolution_window_months)


@gc_paused()
def from_records(records, filters: Filters = Filters(), window_months: tuple[int, int] = (6, 8)) -> CohortStats:
    """The figures from what registry.stats_records read (days as ordinals).

    Plain tuples all through, and the per-record work (a hundred thousand patients have hundreds of thousands of
    studies and symptom records) in C: counting and set building over the rows as SQLite gave them."""
    bad = filters.problems()
    if bad:
        raise ValueError("; ".join(f"--{option}: {message}" for option, message in bad))
    as_of = records.as_of
    today = as_of.toordinal()
    by_patient: dict[int, list[tuple]] = {}
    for row in records.episodes:
        if row[3] <= today:
            rows = by_patient.get(row[1])
            if rows is None:
                by_patient[row[1]] = [row]
            else:
                rows.append(row)

    # Each patient in one pass: sex and age band at the first TOH onset select patients; then the per-episode
    # figures (the patient's episodes at the joint with an onset in range) and the second-episode figures (the
    # patient, when the first episode is at the joint with its onset in range).
    joint = None if filters.joint == "all" else filters.joint
    low = filters.onset_from.toordinal() if filters.onset_from is not None else -1
    high = filters.onset_to.toordinal() if filters.onset_to is not None else today
    sex_wanted, band_wanted = filters.sex, filters.age_band
    resolution = []  # (day, event, patient, episode, site, onset, end): Subject's fields, days as ordinals
    owner: set[int] = set()  # the episodes of the per-episode figures
    person: dict[int, tuple[str, str]] = {}  # sex and age band of the chosen patients
    second, histories, intervals = [], [], []
    for pid, rows in by_patient.items():
        if len(rows) > 1:
            rows.sort(key=_EPISODE_ORDER)  # by onset, then site
        first = rows[0]
        sex, band = first[5], _band(first[6])
        if sex_wanted is not None and sex != sex_wanted or band_wanted is not None and band != band_wanted:
            continue
        person[pid] = sex, band
        for eid, site, onset, resolved, contact in map(_EPISODE_FIELDS, rows):
            if joint is not None and site_joint(site) != joint or not low <= onset <= high:
                continue
            owner.add(eid)
            if resolved is not None and resolved <= today:
                resolution.append((resolved - onset, True, pid, eid, site, onset, resolved))
            else:
                end = contact if contact is not None and contact <= today else onset
                resolution.append((end - onset, False, pid, eid, site, onset, end))
        eid, _, site, onset = first[:4]
        if joint is not None and site_joint(site) != joint or not low <= onset <= high:
            continue
        if len(rows) == 1:
            contact = first[7]
            end = contact if contact is not None and contact <= today else onset
            second.append((end - onset, False, pid, eid, site, onset, end))
            continue
        later = next((r for r in rows if r[3] > onset), None)
        if later is not None:
            second.append((later[3] - onset, True, pid, eid, site, onset, later[3]))
            onsets = sorted({r[3] for r in rows})
            intervals += [b - a for a, b in zip(onsets, onsets[1:])]
            histories.append(rows)
        else:  # multifocal onset only
            end = max((r[7] for r in rows if r[7] is not None and r[7] <= today), default=onset)
            second.append((end - onset, False, pid, eid, site, onset, end))
    behind = set(map(_third, resolution))

    # RECURRENCE and MIGRATION as the course assessment raises them (only patients with two onsets can have one).
    # One pass over each history's flags, and the table counted once at the end (a Counter.update per patient
    # cost more than the rules themselves).
    counts = {"RECURRENCE": [0, 0], "MIGRATION": [0, 0]}
    moves: list[tuple[str, str]] = []
    for history in histories:
        recurrences = migrations = 0
        for code, source, site in migratory_flags(history):
            if code == "RECURRENCE":
                recurrences += 1
            elif code == "MIGRATION":
                migrations += 1
                moves.append((source, site))
        counts["RECURRENCE"][0] += recurrences
        counts["RECURRENCE"][1] += recurrences > 0
        counts["MIGRATION"][0] += migrations
        counts["MIGRATION"][1] += migrations > 0
    table = Counter(moves)

    # Edema extent and pain by months since onset, over the selected episodes.
    every = len(owner) == len(records.episodes)  # then every row is of a selected episode (the same conditions)
    last = len(MONTH_EDGES)

    def by_month(rows) -> list[Spread | None]:
        """Values by month bin, from (patient id, episode id, month key, value) rows (registry.stats_records)."""
        if not every:
            rows = [row for row in rows if row[1] in owner]
        bins = list(map(_BIN_OF_KEY, map(_third, rows), repeat(last)))
        pooled = Counter(zip(bins, map(_fourth, rows)))
        # Patients per bin: the distinct (patient, bin) pairs, each as one int (patient id × 8 + bin).
        patients = Counter(map(and_, set(map(add, map(mul, map(_first, rows), repeat(8)), bins)), repeat(7)))
        pools: list[dict[float, int]] = [{} for _ in MONTH_BINS]
        for (index, value), n in pooled.items():
            pool = pools[index]
            value = float(value)
            pool[value] = pool.get(value, 0) + n
        return [Spread.of_counts(pool, patients[index]) for index, pool in enumerate(pools)]

    if records.pooled:
        chosen = records.episodes if every else [row for row in records.episodes if row[0] in owner]
        pids = list(map(_second, chosen))
        extent = _by_month_pooled(pids, map(itemgetter(8), chosen), map(itemgetter(9), chosen))
        # Only what the pain figures need is kept for later (not the episodes' rows).
        pain_words, pain_keys = ((list(map(itemgetter(10), chosen)), list(map(itemgetter(11), chosen)))
                                 if records.with_pain else ([], []))
        del chosen
        pain = functools.partial(_by_month_pooled, pids, pain_words, pain_keys)
    else:
        extent = by_month(records.extents)
        pain = functools.partial(by_month, records.pains)
    if not records.with_pain:
        pain = None

    sites = Counter(map(itemgetter(4), resolution))
    people = Counter(map(person.__getitem__, behind))  # (sex, age band): a few dozen kinds, counted in C
    by_sex: Counter[str] = Counter()
    by_band: Counter[str] = Counter()
    for (sex, band), n in people.items():
        by_sex[sex] += n
        by_band[band] += n
    return CohortStats(
        as_of=as_of,
        filters=filters,
        patients=len(behind),
        episodes=len(resolution),
        episodes_by_site=dict(sorted(sites.items())),
        sex=dict(sorted(by_sex.items())),
        age_band=dict(sorted(by_band.items(), key=lambda kv: int(kv[0].split("-")[0]))),
        time_to_resolution=kaplan_meier(list(map(_first, resolution)), list(map(_second, resolution))),
        resolution_subjects=resolution,
        second_episode=kaplan_meier(list(map(_first, second)), list(map(_second, second))),
        second_subjects=second,
        recurrence=tuple(counts["RECURRENCE"]),
        migration=tuple(counts["MIGRATION"]),
        migration_table=[(a, b, n) for (a, b), n in sorted(table.items(), key=lambda kv: (-kv[1], kv[0]))],
        onset_interval=Spread.of(intervals, len(histories)),
        extent_by_month=extent,
        pain=pain,
        window_months=tuple(window_months),
    )


_first, _second, _third, _fourth = itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(3)


def _by_month_pooled(pids: Sequence[int], words: Iterable[str | None], masks: Iterable[int | None]
                     ) -> list[Spread | None]:
    """Values by month bin from the selected episodes' rows of episode_figures: their patients, their words
    'key:value' and their keys as bits (the episode_figures columns; one of each per episode)."""
    last = len(MONTH_EDGES)
    by_patient: dict[int, int] = {}
    get = by_patient.get
    for pid, mask in zip(pids, masks):
        if mask is not None:
            by_patient[pid] = get(pid, 0) | mask
    pools: list[dict[float, int]] = [{} for _ in MONTH_BINS]
    for word, n in Counter(" ".join(filter(None, words)).split()).items():
        key, _, value = word.partition(":")
        pool = pools[_BIN_OF_KEY(int(key), last)]
        value = float(value)
        pool[value] = pool.get(value, 0) + n
    patients = [0] * len(MONTH_BINS)
    for mask, n in Counter(by_patient.values()).items():
        for index in _bins_of_mask(mask):
            patients[index] += n
    return [Spread.of_counts(pool, patients[index]) for index, pool in enumerate(pools)]
_EPISODE_FIELDS = itemgetter(0, 2, 3, 4, 7)  # episode id, site, onset, resolved_on, latest contact
#: The highest month key with a bit of its own in episode_figures' key masks (migrations.FIGURES_TOP_KEY): the
#: last month edge's.
TOP_KEY = 2 * MONTH_EDGES[-1]


@functools.cache
def _bins_of_mask(mask: int) -> tuple[int, ...]:
    """The month bins of a set of month keys as bits (bit k: key k for 0 ≤ k ≤ TOP_KEY; the next bit: any other
    key, which bin_of_key puts in the last bin)."""
    found = {bin_of_key(k) for k in range(TOP_KEY + 1) if mask >> k & 1}
    if mask >> (TOP_KEY + 1) & 1:
        found.add(len(MONTH_EDGES))
    return tuple(sorted(found))
#: The month bin of a month key (MONTH_BINS' index); keys past the table: over 12 months (bin_of_key's rule).
_BIN_OF_KEY = dict(enumerate(_BIN_BY_KEY)).get


def _EPISODE_ORDER(row: tuple) -> tuple:
    return row[3], row[2], row[0]


def migratory_flags(rows: Sequence[tuple]) -> list[tuple[str, str, str]]:
    """(code, from site or None, site) of each RECURRENCE and MIGRATION flag the course assessment raises on a
    patient's TOH episodes, from the episodes' rows (id, patient id, site, onset, resolved_on, …; by onset, then
    site), in history order.

    The two rules' own conditions (course._recurrence and course._migration), without the wording the cohort
    figures do not use: RECURRENCE when an earlier-onset episode at the same site resolved before this onset;
    MIGRATION when an earlier onset was at another site, from the latest of those (ties: the first in history
    order). tests/test_stats.py checks them against the rules themselves (course_migratory_flags)."""
    flags = []
    first = rows[0][3]
    for row in rows:
        site, onset = row[2], row[3]
        if onset == first:
            continue  # nothing earlier: neither rule can fire
        recurrence, source = False, None
        for other in rows:
            if other[3] >= onset:
                break
            if other[2] == site:
                recurrence = recurrence or other[4] is not None and other[4] < onset
            elif source is None or other[3] > source[3]:
                source = other
        if recurrence:
            flags.append(("RECURRENCE", None, site))
        if source is not None:
            flags.append(("MIGRATION", source[2], site))
    return flags


def course_migratory_flags(rows: list[tuple], as_of: dt.date) -> list[course.Flag]:
    """The RECURRENCE and MIGRATION flags as the course assessment's own rules raise them on a patient's TOH
    episodes (rows as for migratory_flags): the reference migratory_flags is tested against. Only those two
    rules are run (course.assess would run all twelve, and these look at nothing but the TOH episodes' sites and
    dates): the same rule functions, on the same history, so the same flags."""
    day = dt.date.fromordinal
    history = [Episode(row[2], day(row[3]), day(row[4]) if row[4] is not None else None, TOH, id=row[0])
               for row in rows]
    first = history[0].symptom_onset
    flags = []
    for episode in history:
        if episode.symptom_onset == first:
            continue  # nothing earlier: neither rule can fire
        c = course._Course(episode, as_of, _SETTINGS, history)
        flags += filter(None, (rule(c) for rule in _MIGRATORY_RULES))
    return flags


_MIGRATORY_RULES = (course._recurrence, course._migration)
_SETTINGS = Settings()  # neither rule reads a setting


# ---------------------------------------------------------------------------
# As text (`tohtrack stats`)
# ---------------------------------------------------------------------------

#: Days at which the number at risk is printed beneath a curve (0, 3, 6, 9, 12, 18, 24 months).
AT_RISK_DAYS = (0, 91, 182, 274, 365, 548, 730)


def percent(share: float | None) -> str:
    return "—" if share is None else f"{100 * share:.1f}%"


def days_text(days: int | None) -> str:
    """'213 days (7.0 months)', or 'not reached'."""
    return "not reached" if days is None else f"{days} days ({days / 30.44:.1f} months)"


def ci_text(ci: tuple[int | None, int | None]) -> str:
    low, high = ci
    return f"{'—' if low is None else low}–{'not reached' if high is None else high} days"


def filters_text(filters: Filters) -> str:
    parts = [f"{filters.joint} episodes" if filters.joint not in (None, "all") else "all joints"]
    if filters.sex:
        parts.append(filters.sex)
    if filters.age_band:
        parts.append(f"aged {filters.age_band} at first onset")
    if filters.onset_from or filters.onset_to:
        parts.append(f"onset {_iso(filters.onset_from) or '…'} to {_iso(filters.onset_to) or '…'}")
    return ", ".join(parts)


def site_name(site: str) -> str:
    from .model import site_label

    return site_label(site)


def format_text(s: CohortStats) -> str:
    """The figures as readable lines."""
    km, second = s.time_to_resolution, s.second_episode
    out = [f"Cohort statistics as of {s.as_of.isoformat()} ({filters_text(s.filters)})",
           f"{s.patients} patients, {s.episodes} TOH episodes", ""]
    out.append(f"Time to resolution (Kaplan–Meier over {km.subjects} episodes: {km.events} resolved, "
               f"{km.censored} not yet, censored at their latest contact)")
    out.append(f"  median {days_text(km.median)}, 95% CI {ci_text(km.median_ci)}")
    out.append("  resolved by " + ", ".join(f"day {d}: {percent(km.one_minus_at(d))}" for d in RESOLVED_BY_DAYS)
               + f" (expected window {s.window_months[0]}–{s.window_months[1]} months)")
    out.append("  at risk    " + "  ".join(f"day {d}: {km.at_risk_at(d)}" for d in AT_RISK_DAYS))
    out.append("")
    out.append(f"Second episode (Kaplan–Meier over {second.subjects} patients from their first onset: "
               f"{second.events} with a later onset, {second.censored} censored at their latest contact)")
    out.append(f"  median {days_text(second.median)}, 95% CI {ci_text(second.median_ci)}")
    out.append("  cumulative incidence " + ", ".join(f"day {d}: {percent(second.one_minus_at(d))}"
                                                     for d in INCIDENCE_BY_DAYS))
    out.append(f"  RECURRENCE flags {s.recurrence[0]} in {s.recurrence[1]} patients; "
               f"MIGRATION flags {s.migration[0]} in {s.migration[1]} patients")
    if s.onset_interval:
        i = s.onset_interval
        out.append(f"  interval between consecutive onsets: median {i.median:g} days "
                   f"(IQR {i.q1:g}–{i.q3:g}, {i.n} intervals)")
    if s.migration_table:
        out.append("  migration (from → to: flags)")
        out += [f"    {site_name(a)} → {site_name(b)}: {n}" for a, b, n in s.migration_table]
    out.append("")
    out.append("Episodes by site: " + (", ".join(f"{site_name(k)} {v}" for k, v in s.episodes_by_site.items())
                                       or "none"))
    out.append("Sex: " + (", ".join(f"{k} {v}" for k, v in s.sex.items()) or "none"))
    out.append("Age band at first onset: " + (", ".join(f"{k} {v}" for k, v in s.age_band.items()) or "none"))
    for title, spreads in (("Edema extent (%)", s.extent_by_month), ("Pain (NRS 0–10)", s.pain_by_month or [])):
        out.append(f"{title} by months since onset: median (IQR), n")
        for name, spread in zip(MONTH_BINS, spreads):
            text = "—" if spread is None else f"{spread.median:g} ({spread.q1:g}–{spread.q3:g}), n = {spread.n}"
            out.append(f"  {name:>5} months  {text}")
    return "\n".join(out) + "\n"
