"""The course assessment (docs/course-rules.md): each episode's course, the reviews, and the flags."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from typing import Callable, Iterable

from .model import (MODALITY_LABELS, PREGNANCY_LABELS, Episode, ImagingStudy, Patient, SymptomRecord,
                    site_label)
from .settings import WEEKS, Settings
from .wording import date_text as _date, episode_name, onsets_by_site

#: The latest as-of date the assessment is asked for: it reckons review dates and windows years beyond it, and
#: Python's dates end with 9999 (a later --as-of, or worklist date, is refused rather than crash).
LATEST_AS_OF = dt.date(2999, 12, 31)

WARNING, INFO = "warning", "info"

#: Every flag code with its severity, in clinical order: by what changes management first.
#: Warnings come before infos. This one order is what every screen, the worklist's reason, the report and the
#: human-readable `flags` output follow (`by_urgency`); the JSON output keeps episode, then code order.
FLAG_CODES = {
    "JOINT_SPACE_NARROWING": WARNING,
    "AVN_SIGNS": WARNING,
    "NOT_REGRESSING": WARNING,
    "FOLLOW_UP_OVERDUE": WARNING,
    "PROLONGED_COURSE": WARNING,
    "MIGRATION": WARNING,
    "RECURRENCE": WARNING,
    "AVN_RISK_FACTORS": INFO,
    "SUBCHONDRAL_FRACTURE": INFO,
    "MULTIFOCAL_ONSET": INFO,
    "PREGNANCY_ASSOCIATED": INFO,
    "LATE_RESOLUTION": INFO,
}
#: The flag codes, most urgent first.
URGENCY = tuple(FLAG_CODES)
PATTERNS = ("none", "transient_osteoporosis", "regional_migratory_osteoporosis")
NO_PATTERN, TOH_PATTERN, RMO_PATTERN = PATTERNS
ACTIVE, RESOLVED = "active", "resolved"

#: A review is due from 14 days before to 14 days after its date; later it is missed.
REVIEW_WINDOW = dt.timedelta(days=14)
#: Edema should be regressing on an MRI taken this many months after onset.
REGRESSION_MONTHS = 4

_MIGRATORY_CODES = frozenset({"RECURRENCE", "MIGRATION"})
_URGENCY = {code: (severity != WARNING, rank) for rank, (code, severity) in enumerate(FLAG_CODES.items())}


def urgency(code: str) -> int:
    """A flag code's rank in clinical order: 0 is the most urgent; an unknown code comes last."""
    rank = _URGENCY.get(code)
    return len(_URGENCY) if rank is None else rank[1]


def by_urgency(flags: Iterable[Flag]) -> list[Flag]:
    """Flags in clinical order (warnings first, then FLAG_CODES' order); flags of one code keep their order
    (their episodes' onset, then site)."""
    return sorted(flags, key=lambda f: urgency(f.code))
_RISK_FACTOR_LABELS = {"hiv": "HIV", "sle": "SLE", "decompression_illness": "decompression illness",
                       "sickle_cell": "sickle cell disease", "gaucher": "Gaucher disease"}


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Flag:
    """One finding about an episode's course, worded for a clinician."""

    code: str
    severity: str
    site: str
    symptom_onset: dt.date
    message: str
    episode: Episode = field(compare=False, repr=False)
    finding: ImagingStudy | SymptomRecord | None = field(default=None, compare=False, repr=False)
    from_site: str | None = None
    concurrent: bool | None = None
    review_date: dt.date | None = None

    @property
    def episode_name(self) -> str:
        """The episode as the message names it: 'Left hip', or 'Left hip, episode of March 2024'."""
        return self.message.partition(": ")[0]


@dataclass(frozen=True, slots=True)
class EpisodeAssessment:
    """One episode as it stood at the as-of date."""

    episode: Episode = field(compare=False, repr=False)
    site: str
    symptom_onset: dt.date
    diagnosis: str
    status: str
    resolved_on: dt.date | None
    expected_resolution: tuple[dt.date, dt.date] | None
    next_review: dt.date | None
    months_since_onset: float


@dataclass(frozen=True, slots=True)
class PatientAssessment:
    """A patient's course at the as-of date: pattern, episodes and flags."""

    patient: Patient = field(compare=False, repr=False)
    mrn: str
    pattern: str
    episodes: list[EpisodeAssessment]
    flags: list[Flag]
    as_of: dt.date

    @property
    def due(self) -> bool:
        """The as-of date is within 14 days of an episode's next review."""
        return any(e.next_review is not None and abs(e.next_review - self.as_of) <= REVIEW_WINDOW
                   for e in self.episodes)

    @property
    def overdue(self) -> bool:
        """A review was missed (FOLLOW_UP_OVERDUE)."""
        return any(f.code == "FOLLOW_UP_OVERDUE" for f in self.flags)

    @property
    def most_urgent(self) -> Flag | None:
        """The first flag in clinical order (FLAG_CODES)."""
        return min(self.flags, key=lambda f: urgency(f.code), default=None)

    @property
    def flags_by_urgency(self) -> list[Flag]:
        """The flags as screens, the worklist and the report list them: most urgent first."""
        return by_urgency(self.flags)

    @property
    def missed_review(self) -> dt.date | None:
        """The earliest missed review of an overdue patient (FOLLOW_UP_OVERDUE's review date), else None."""
        return min((f.review_date for f in self.flags
                    if f.code == "FOLLOW_UP_OVERDUE" and f.review_date is not None), default=None)

    @property
    def next_review(self) -> dt.date | None:
        """The earliest next review among the episodes."""
        return min((e.next_review for e in self.episodes if e.next_review is not None), default=None)


# ---------------------------------------------------------------------------
# Calendar arithmetic
# ---------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months on, clipped to the month's end (as relativedelta(months=n))."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    if day.day <= 28:
        return dt.date(year, month, day.day)
    last = 31 if month == 12 else (dt.date(year, month + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def add_offset(onset: dt.date, offset: tuple[int, str]) -> dt.date:
    """The date of a review offset such as (6, 'w') or (3, 'm') from onset."""
    count, unit = offset
    return onset + dt.timedelta(weeks=count) if unit == WEEKS else add_months(onset, count)


def months_since_onset(onset: dt.date, as_of: dt.date) -> float:
    """Calendar months from onset to as_of; the part month as a share of its days."""
    whole = (as_of.year - onset.year) * 12 + as_of.month - onset.month
    start = add_months(onset, whole)
    if start > as_of:
        whole -= 1
        start = add_months(onset, whole)
    end = add_months(onset, whole + 1)
    return whole + (as_of - start).days / (end - start).days


# ---------------------------------------------------------------------------
# Wording
# ---------------------------------------------------------------------------


def _count(n: int, unit: str) -> str:
    """One count with its unit: '1 month', '3 months'."""
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _span(start: dt.date, end: dt.date) -> str:
    """'7 months', '3 weeks' or '5 days' from start to end."""
    months = int(months_since_onset(start, end))
    if months:
        return _count(months, "month")
    days = (end - start).days
    return _count(days // 7, "week") if days >= 14 else _count(days, "day")


def _joined(items: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _study(study: ImagingStudy) -> str:
    """A study named for a message: 'MRI of 25 May 2025'."""
    return f"{MODALITY_LABELS.get(study.modality, study.modality)} of {_date(study.date)}"


def _risk_factor(code: str) -> str:
    """An AVN risk factor code as words."""
    return _RISK_FACTOR_LABELS.get(code, code.replace("_", " "))


# ---------------------------------------------------------------------------
# One TOH episode as it stood at as_of
# ---------------------------------------------------------------------------


def _resolved_as_of(episode: Episode, as_of: dt.date) -> dt.date | None:
    """The resolution date if it had been reached by as_of."""
    resolved = episode.resolved_on
    return resolved if resolved is not None and resolved <= as_of else None


class _Course:
    """A TOH episode at as_of, with what the rules look at."""

    __slots__ = ("episode", "site", "onset", "as_of", "resolved", "window_months", "window", "reviews",
                 "studies", "history", "name")

    def __init__(self, episode: Episode, as_of: dt.date, settings: Settings, history: list[Episode],
                 onsets: dict[str, list[dt.date]] | None = None):
        self.episode = episode
        self.site = episode.site
        self.onset = episode.symptom_onset
        self.as_of = as_of
        self.resolved = _resolved_as_of(episode, as_of)
        self.window_months = settings.resolution_window_months
        self.window = (add_months(self.onset, self.window_months[0]), add_months(self.onset, self.window_months[1]))
        self.reviews = () if self.resolved is not None else sorted(
            add_offset(self.onset, offset) for offset in settings.review_schedule)
        self.studies = sorted((s for s in episode.imaging if s.date <= as_of), key=ImagingStudy.order)
        self.history = history
        #: 'Left hip', or 'Left hip, episode of March 2024' when another episode of the patient is at this site.
        self.name = episode_name(self.site, self.onset, onsets or {}, capital=True)

    def flag(self, code: str, message: str, finding: ImagingStudy | None = None, **details) -> Flag:
        """A flag on this episode; the message is prefixed with the episode's name ('Left hip: ...')."""
        return Flag(code, FLAG_CODES[code], self.site, self.onset, f"{self.name}: {message}", self.episode,
                    finding, **details)

    def earlier(self) -> Iterable[Episode]:
        """The TOH episodes with an earlier onset, in onset then site order."""
        for other in self.history:
            if other.symptom_onset >= self.onset:
                return
            yield other

    def next_review(self) -> dt.date | None:
        """The first scheduled review that is not yet past its 14 days."""
        return next((r for r in self.reviews if r + REVIEW_WINDOW >= self.as_of), None)

    def last_contact(self) -> dt.date | None:
        """The latest study or symptom record dated on or before as_of."""
        dates = [s.date for s in self.episode.symptoms if s.date <= self.as_of]
        if self.studies:
            dates.append(self.studies[-1].date)
        return max(dates, default=None)

    def window_text(self) -> str:
        """The resolution window as words: '6–8 months'."""
        return f"{self.window_months[0]}–{self.window_months[1]} months"


# ---------------------------------------------------------------------------
# The rules, one per flag code
# ---------------------------------------------------------------------------


def _prolonged_course(c: _Course) -> Flag | None:
    """PROLONGED_COURSE: still active after onset + W2."""
    if c.resolved is None and c.as_of > c.window[1]:
        return c.flag("PROLONGED_COURSE", f"still active {_span(c.onset, c.as_of)} after onset, "
                                          f"beyond the expected {c.window_text()}")
    return None


def _late_resolution(c: _Course) -> Flag | None:
    """LATE_RESOLUTION: resolved after onset + W2."""
    if c.resolved is not None and c.resolved > c.window[1]:
        return c.flag("LATE_RESOLUTION", f"resolved {_span(c.onset, c.resolved)} after onset, "
                                         f"later than the expected {c.window_text()}")
    return None


def _recurrence(c: _Course) -> Flag | None:
    """RECURRENCE: an earlier TOH episode at this site resolved before this onset."""
    previous = [e for e in c.earlier()
                if e.site == c.site and e.resolved_on is not None and e.resolved_on < c.onset]
    if previous:
        return c.flag("RECURRENCE", f"new episode {_span(previous[-1].resolved_on, c.onset)} after the previous "
                                    f"{site_label(c.site)} episode resolved — recurrence")
    return None


def _migration(c: _Course) -> Flag | None:
    """MIGRATION: an earlier onset at another site; from the latest of them (ties: first site)."""
    source = None
    for e in c.earlier():
        if e.site != c.site and (source is None or e.symptom_onset > source.symptom_onset):
            source = e
    if source is None:
        return None
    concurrent = source.resolved_on is None or source.resolved_on >= c.onset
    if concurrent:
        message = (f"new episode {_span(source.symptom_onset, c.onset)} after the onset at the "
                   f"{site_label(source.site)}, which was still active — regional migratory osteoporosis")
    else:
        message = (f"new episode {_span(source.resolved_on, c.onset)} after the {site_label(source.site)} "
                   "resolved — regional migratory osteoporosis")
    return c.flag("MIGRATION", message, from_site=source.site, concurrent=concurrent)


def _multifocal_onset(c: _Course) -> Flag | None:
    """MULTIFOCAL_ONSET: TOH at other sites started the same day."""
    others = [site_label(e.site) for e in c.history if e.symptom_onset == c.onset and e.site != c.site]
    if others:
        return c.flag("MULTIFOCAL_ONSET", f"onset on the same day as the {_joined(others)} — multifocal onset")
    return None


_AVN_SIGNS: tuple[tuple[Callable[[ImagingStudy], bool], str], ...] = (
    (lambda s: s.subchondral_t2_low_band is True, "a subchondral low-signal band on T2"),
    (lambda s: s.collapse is True, "collapse"),
    (lambda s: s.dce_enhancement == "none", "no enhancement on dynamic contrast MRI"),
    (lambda s: s.scintigraphy_uptake == "photopenic", "a photopenic area"),
)


def _avn_signs(c: _Course) -> Flag | None:
    """AVN_SIGNS: the first study with a sign of avascular necrosis."""
    for study in c.studies:
        signs = [sign for shows, sign in _AVN_SIGNS if shows(study)]
        if signs:
            return c.flag("AVN_SIGNS", f"{_study(study)} shows {_joined(signs)} — consider avascular necrosis",
                          study)
    return None


def _avn_risk_factors(c: _Course) -> Flag | None:
    """AVN_RISK_FACTORS: the episode lists risk factors for avascular necrosis."""
    factors = c.episode.avn_risk_factors
    if factors:
        return c.flag("AVN_RISK_FACTORS", f"risk factors for avascular necrosis recorded "
                                          f"({', '.join(map(_risk_factor, factors))}) — watch for AVN")
    return None


def _joint_space_narrowing(c: _Course) -> Flag | None:
    """JOINT_SPACE_NARROWING: the first study showing a narrowed joint space."""
    study = next((s for s in c.studies if s.joint_space_narrowed is True), None)
    if study:
        return c.flag("JOINT_SPACE_NARROWING", f"{_study(study)} shows joint space narrowing — transient "
                      "osteoporosis preserves the joint space; consider septic arthritis or tuberculous "
                      "arthropathy", study)
    return None


def _subchondral_fracture(c: _Course) -> Flag | None:
    """SUBCHONDRAL_FRACTURE: the first study showing a subchondral fracture line."""
    study = next((s for s in c.studies if s.subchondral_fracture_line is True), None)
    if study:
        return c.flag("SUBCHONDRAL_FRACTURE", f"{_study(study)} shows a subchondral fracture line — review "
                      "(such lines can resolve in transient osteoporosis)", study)
    return None


def _not_regressing(c: _Course) -> Flag | None:
    """NOT_REGRESSING: active, and the latest MRI extent (from 4 months on) is not below the first."""
    if c.resolved is not None:
        return None
    measured = [s for s in c.studies if s.modality == "MRI" and s.edema_extent_pct is not None]
    if len(measured) < 2:
        return None
    first, latest = measured[0], measured[-1]
    if latest.date >= add_months(c.onset, REGRESSION_MONTHS) and latest.edema_extent_pct >= first.edema_extent_pct:
        return c.flag("NOT_REGRESSING", f"edema not regressing — {_study(latest)} shows "
                                        f"{latest.edema_extent_pct:g}%, against {first.edema_extent_pct:g}% "
                                        f"on {_date(first.date)}", latest)
    return None


def _follow_up_overdue(c: _Course) -> Flag | None:
    """FOLLOW_UP_OVERDUE: the latest review past its 14 days had no contact from 14 days before it."""
    review = next((r for r in reversed(c.reviews) if r + REVIEW_WINDOW < c.as_of), None)
    if review is None:
        return None
    last = c.last_contact()
    if last is not None and last >= review - REVIEW_WINDOW:
        return None
    since = f"no contact since {_date(last)}" if last else "no contact recorded"
    return c.flag("FOLLOW_UP_OVERDUE", f"review due {_date(review)} was missed ({since})", review_date=review)


def _pregnancy_associated(c: _Course) -> Flag | None:
    """PREGNANCY_ASSOCIATED: the episode records a pregnancy state."""
    state = c.episode.pregnancy
    if state is None:
        return None
    when = "postpartum" if state == "postpartum" else f"in the {PREGNANCY_LABELS.get(state, state)} of pregnancy"
    return c.flag("PREGNANCY_ASSOCIATED", f"onset {when} — pregnancy-associated transient osteoporosis")


_RULES: tuple[Callable[[_Course], Flag | None], ...] = (
    _prolonged_course, _late_resolution, _recurrence, _migration, _multifocal_onset, _avn_signs,
    _avn_risk_factors, _joint_space_narrowing, _subchondral_fracture, _not_regressing, _follow_up_overdue,
    _pregnancy_associated,
)
_BY_CODE = attrgetter("code")


# ---------------------------------------------------------------------------
# The assessment
# ---------------------------------------------------------------------------


def _episode_order(episode: Episode) -> tuple[dt.date, str]:
    """Onset, then site code."""
    return episode.symptom_onset, episode.site


def assess(patient: Patient, as_of: dt.date, settings: Settings = Settings()) -> PatientAssessment:
    """The patient's course as the record stood at as_of."""
    episodes = sorted((e for e in patient.episodes if e.symptom_onset <= as_of), key=_episode_order)
    history = [e for e in episodes if e.is_toh]
    onsets = onsets_by_site(episodes)
    assessed, flags = [], []
    for episode in episodes:
        if episode.is_toh:
            course = _Course(episode, as_of, settings, history, onsets)
            assessed.append(_toh_assessment(course))
            flags += sorted(filter(None, (rule(course) for rule in _RULES)), key=_BY_CODE)
        else:
            assessed.append(_other_assessment(episode, as_of))
    return PatientAssessment(patient, patient.mrn, _pattern(history, flags), assessed, flags, as_of)


def _toh_assessment(c: _Course) -> EpisodeAssessment:
    """A TOH episode's status, expected resolution and next review."""
    return EpisodeAssessment(c.episode, c.site, c.onset, c.episode.diagnosis,
                             ACTIVE if c.resolved is None else RESOLVED, c.resolved, c.window,
                             c.next_review(), months_since_onset(c.onset, c.as_of))


def _other_assessment(episode: Episode, as_of: dt.date) -> EpisodeAssessment:
    """An episode with a revised diagnosis: status only."""
    resolved = _resolved_as_of(episode, as_of)
    return EpisodeAssessment(episode, episode.site, episode.symptom_onset, episode.diagnosis,
                             ACTIVE if resolved is None else RESOLVED, resolved, None, None,
                             months_since_onset(episode.symptom_onset, as_of))


def _pattern(history: list[Episode], flags: list[Flag]) -> str:
    """none, transient_osteoporosis, or regional_migratory_osteoporosis if anything recurred or migrated."""
    if not history:
        return NO_PATTERN
    return RMO_PATTERN if any(f.code in _MIGRATORY_CODES for f in flags) else TOH_PATTERN


# ---------------------------------------------------------------------------
# JSON (docs/course-rules.md)
# ---------------------------------------------------------------------------


def _iso(day: dt.date | None) -> str | None:
    """An ISO date, or None."""
    return day.isoformat() if day is not None else None


def _episode_json(e: EpisodeAssessment) -> dict:
    """One episode of the flags JSON, keys in contract order."""
    return {
        "site": e.site,
        "symptom_onset": e.symptom_onset.isoformat(),
        "diagnosis": e.diagnosis,
        "status": e.status,
        "resolved_on": _iso(e.resolved_on),
        "expected_resolution": [d.isoformat() for d in e.expected_resolution] if e.expected_resolution else None,
        "next_review": _iso(e.next_review),
    }


def _flag_json(f: Flag) -> dict:
    """One flag of the flags JSON; from_site and concurrent, or review_date, where the code has them."""
    out = {"code": f.code, "severity": f.severity, "site": f.site,
           "symptom_onset": f.symptom_onset.isoformat(), "message": f.message}
    if f.code == "MIGRATION":
        out["from_site"] = f.from_site
        out["concurrent"] = f.concurrent
    elif f.code == "FOLLOW_UP_OVERDUE":
        out["review_date"] = _iso(f.review_date)
    return out


def patient_json(a: PatientAssessment) -> dict:
    """One patient of the flags JSON, keys in contract order."""
    return {"mrn": a.mrn, "pattern": a.pattern,
            "episodes": [_episode_json(e) for e in a.episodes],
            "flags": [_flag_json(f) for f in a.flags]}


def assessment_json(assessments: Iterable[PatientAssessment], as_of: dt.date,
                    settings: Settings = Settings()) -> dict:
    """The assessments as the JSON document of `tohtrack flags --json`, patients by MRN."""
    return document_json([patient_json(a) for a in assessments], as_of, settings)


def document_json(patients: list[dict], as_of: dt.date, settings: Settings = Settings()) -> dict:
    """The flags JSON document around patients already in JSON form (sorted here by MRN)."""
    return {
        "as_of": as_of.isoformat(),
        "resolution_window_months": list(settings.resolution_window_months),
        "patients": sorted(patients, key=itemgetter("mrn")),
    }


# ---------------------------------------------------------------------------
# When the assessment can change (tohtrack.summary keeps an assessment between two of these dates)
# ---------------------------------------------------------------------------

_ONE_DAY = dt.timedelta(days=1)


def month_anniversaries(onset: dt.date, as_of: dt.date) -> tuple[dt.date, dt.date]:
    """The monthly anniversaries of onset on or before as_of and after it."""
    whole = (as_of.year - onset.year) * 12 + as_of.month - onset.month
    while add_months(onset, whole) > as_of:
        whole -= 1
    while add_months(onset, whole + 1) <= as_of:
        whole += 1
    return add_months(onset, whole), add_months(onset, whole + 1)


def change_dates(patient: Patient, as_of: dt.date, settings: Settings) -> set[dt.date]:
    """The dates from which the patient's assessment (`assess`: flags, statuses, pattern, reviews) may differ
    from the day before; between two consecutive ones it is the same (tests/test_course.py checks it).

    Every onset, resolution, study and symptom record date (each counts from that day on); each scheduled
    review 14 days before (due from then) and 15 days after (missed from then); the day after the end of the
    resolution window (PROLONGED_COURSE); and, while an episode is active at as_of, its monthly anniversaries
    of onset around as_of (the months that PROLONGED_COURSE's message counts). Later anniversaries are not
    listed: a date range from as_of that holds stops at the next one anyway."""
    found: set[dt.date] = set()
    last_month = settings.resolution_window_months[1]
    for episode in patient.episodes:
        onset = episode.symptom_onset
        found.add(onset)
        if episode.resolved_on is not None:
            found.add(episode.resolved_on)
        found.update(study.date for study in episode.imaging)
        found.update(record.date for record in episode.symptoms)
        if not episode.is_toh:
            continue
        for offset in settings.review_schedule:
            review = add_offset(onset, offset)
            if review - dt.date.min >= REVIEW_WINDOW:  # a review in year 1 has no day 14 days before
                found.add(review - REVIEW_WINDOW)
            found.add(review + REVIEW_WINDOW + _ONE_DAY)
        found.add(add_months(onset, last_month) + _ONE_DAY)
        if onset <= as_of and (episode.resolved_on is None or episode.resolved_on > as_of):
            found.update(month_anniversaries(onset, as_of))
    return found
