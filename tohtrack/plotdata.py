"""What the timeline plots draw, computed from a patient's assessment: pure data, no Qt.

Two pictures are described here, and drawn by tohtrack.gui.timeline on screen and in print:

- the course of one episode (`course_data`): edema extent and pain against months since onset (or
  calendar dates), the expected-resolution window, its extension to 12 months, the expected regression,
  the studies by modality, the treatments and the as-of date;
- the patient's history (`history_data`): one lane per joint site, one bar per episode, and the
  recurrences, migrations and multifocal onsets between them.

Everything is as the record stood at the assessment's as-of date: later records are left out.

The expected regression band: edema is expected to be gone somewhere within the resolution window
[W1, W2] months. From the first measured extent (x0, y0) the fastest expected course is a straight line
to zero at W1, the slowest a straight line to zero at W2; the band is the triangle between the two,
vertices (x0, y0), (W2, 0), (W1, 0). A later measurement above the band is behind the expected course.
When the first measurement comes at or after W1 the fast edge is vertical at x0, vertices (x0, y0),
(W2, 0), (x0, 0); from W2 on, or when the first extent is zero, there is no band.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Callable

from .course import ACTIVE, EpisodeAssessment, Flag, PatientAssessment, add_months, months_since_onset
from .model import (MODALITIES, SITES, TOH, Episode, ImagingStudy, SymptomRecord, Treatment, regions_of,
                    site_label)
from .settings import Settings
from .wording import (WEIGHT_BEARING_WORDS, date_text, diagnosis_text, extent_text, findings_summary, findings_text,
                      regions_text, study_title, treatment_text)

MONTHS, DATES = "months", "dates"
AXES = (MONTHS, DATES)
#: The lighter extension of the window: published courses mostly end by 12 months.
EXTENSION_MONTHS = 12
#: The extent units in the order the plot prefers them (CLINICAL.md: % when recorded, else mL, else regions).
UNITS = ("%", "mL", "regions")
UNIT_LABELS = {"%": "Edema extent (%)", "mL": "Edema volume (mL)", "regions": "Edema regions (number)"}
RECURRENCE, MIGRATION = "recurrence", "migration"

_EPOCH = dt.date(1970, 1, 1)
_DAY = 86400.0
#: Share of the x span left blank at each end, so that symbols at the edges are not cut.
_X_PAD = 0.03


def timestamp(day: dt.date) -> float:
    """POSIX seconds of a day's UTC midnight (what pyqtgraph's DateAxisItem reads, with utcOffset=0)."""
    return (day - _EPOCH).days * _DAY


def day_of(seconds: float) -> dt.date:
    """The day a POSIX timestamp falls on (UTC); the inverse of timestamp()."""
    return _EPOCH + dt.timedelta(days=math.floor(seconds / _DAY))


# ---------------------------------------------------------------------------
# The course of one episode
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    """One value of a series: x on the chosen axis, its date, months since onset, value, hover text, record."""

    x: float
    date: dt.date
    months: float
    y: float
    tip: str
    record: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class StudyMark:
    """One imaging study: where it sits, its modality, its extent in the plotted unit (None if none) and hover text."""

    x: float
    date: dt.date
    months: float
    modality: str
    y: float | None
    tip: str
    record: ImagingStudy = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Span:
    """A treatment from its start to its end (the as-of date while ongoing), stacked in rows that do not overlap."""

    x0: float
    x1: float
    start: dt.date
    end: dt.date | None
    ongoing: bool
    kind: str
    label: str
    row: int
    tip: str
    record: Treatment = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CourseData:
    """Everything the course plot of one episode draws, in the units of its x axis (months or POSIX seconds)."""

    episode: Episode = field(compare=False, repr=False)
    site: str
    onset: dt.date
    as_of: dt.date
    status: str
    diagnosis: str
    axis: str
    unit: str | None
    extent: tuple[Point, ...]
    studies: tuple[StudyMark, ...]
    pain: tuple[Point, ...]
    function: tuple[Point, ...]
    function_label: str
    window_months: tuple[int, int] | None
    window: tuple[float, float] | None
    extension: tuple[float, float] | None
    band: tuple[tuple[float, float], ...] | None
    treatments: tuple[Span, ...]
    as_of_x: float
    resolved_x: float | None
    x_range: tuple[float, float]
    y_max: float
    #: The as-of and resolution dates as the legend words them (calendar dates, or months for a de-identified report).
    as_of_text: str = ""
    resolved_text: str = ""

    @property
    def title(self) -> str:
        """'Right hip, onset 12 Jun 2025'."""
        return f"{site_label(self.site, capital=True)}, onset {date_text(self.onset)}"

    @property
    def extent_label(self) -> str:
        """The left axis title, naming the unit plotted."""
        return UNIT_LABELS[self.unit] if self.unit else "Edema extent (none recorded)"

    @property
    def measured(self) -> tuple[StudyMark, ...]:
        """The studies with an extent in the plotted unit."""
        return tuple(s for s in self.studies if s.y is not None)

    @property
    def unmeasured(self) -> tuple[StudyMark, ...]:
        """The studies without an extent in the plotted unit: marks on the time axis, never zeros."""
        return tuple(s for s in self.studies if s.y is None)

    def by_modality(self, measured: bool = True) -> dict[str, tuple[StudyMark, ...]]:
        """The measured (or unmeasured) studies per modality, modalities in code-list order, empty ones left out."""
        marks = self.measured if measured else self.unmeasured
        grouped = {m: tuple(s for s in marks if s.modality == m) for m in MODALITIES}
        others = tuple(s for s in marks if s.modality not in MODALITIES)
        if others:
            grouped["other"] = others
        return {m: group for m, group in grouped.items() if group}

    @property
    def treatment_rows(self) -> int:
        """How many rows the treatment spans need."""
        return max((s.row for s in self.treatments), default=-1) + 1

    def x_of(self, day: dt.date) -> float:
        """A date on this plot's x axis."""
        return _x(self.axis, self.onset, day)


def months_from(onset: dt.date, day: dt.date) -> float:
    """Months since onset, negative before it."""
    return months_since_onset(onset, day) if day >= onset else -months_since_onset(day, onset)


def _x(axis: str, onset: dt.date, day: dt.date) -> float:
    """A date as x: months since onset, or POSIX seconds."""
    return months_from(onset, day) if axis == MONTHS else timestamp(day)


def episode_unit(studies: list[ImagingStudy]) -> str | None:
    """The unit an episode's extent is plotted in: %, else mL, else regions, whichever any study records first."""
    return next((u for u in UNITS if any(_extent_in(s, u) is not None for s in studies)), None)


def _extent_in(study: ImagingStudy, unit: str) -> float | None:
    """A study's extent in one unit, or None if it records none in that unit."""
    if unit == "%":
        return None if study.edema_extent_pct is None else float(study.edema_extent_pct)
    if unit == "mL":
        return None if study.edema_volume_ml is None else float(study.edema_volume_ml)
    return float(len(study.edema_regions)) if study.edema_regions else None


def _study_tip(study: ImagingStudy, months: float) -> str:
    """Hover text of a study: title, extent, positive findings, months since onset."""
    title = study_title(study)
    lines = [title[:1].upper() + title[1:]]
    extent = extent_text(study)
    regions = regions_text(study.edema_regions)
    if extent:
        lines.append(f"Edema {extent}" + (f" ({regions})" if regions else ""))
    else:
        lines.append("No edema extent recorded")
    summary = findings_summary(study)  # positive findings as worded; 'No findings assessed', 'Assessed absent: …'
    lines.append(summary if findings_text(study) else summary[:1].upper() + summary[1:])
    lines.append(f"{months:.1f} months since onset")
    return "\n".join(lines)


def _symptom_tip(record: SymptomRecord, months: float, function_label: str) -> str:
    """Hover text of a symptom record: date, scores, weight bearing, note."""
    lines = [f"Symptoms of {date_text(record.date)}"]
    if record.pain_nrs is not None:
        lines.append(f"Pain NRS {record.pain_nrs:g}/10")
    if record.function_score is not None:
        lines.append(f"{record.function_instrument or function_label} {record.function_score:g}/100")
    if record.weight_bearing:
        lines.append(f"Weight bearing: {WEIGHT_BEARING_WORDS.get(record.weight_bearing, record.weight_bearing)}")
    if record.note:
        lines.append(record.note if len(record.note) <= 80 else record.note[:79] + "…")
    lines.append(f"{months:.1f} months since onset")
    return "\n".join(lines)


def _treatment_tip(t: Treatment, end: dt.date | None) -> str:
    """Hover text of a treatment: what, from when to when."""
    until = date_text(end) if end else "ongoing"
    return f"{treatment_text(t)[:1].upper()}{treatment_text(t)[1:]}\n{date_text(t.start)} – {until}"


def _rows(spans: list[tuple[float, float]]) -> list[int]:
    """Greedy interval packing: each span goes to the first row whose last span ended before it starts."""
    ends: list[float] = []
    rows = []
    for x0, x1 in spans:
        row = next((i for i, end in enumerate(ends) if end < x0), len(ends))
        if row == len(ends):
            ends.append(x1)
        else:
            ends[row] = x1
        rows.append(row)
    return rows


def _nice_ceiling(value: float) -> float:
    """The next 'nice' number (1, 2, 2.5, 5 × 10^n) at or above value."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value - 1e-9:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def regression_band(first: tuple[float, float] | None, window: tuple[float, float] | None
                    ) -> tuple[tuple[float, float], ...] | None:
    """The expected regression triangle from the first extent (x0, y0) to zero between W1 and W2 (module doc)."""
    if first is None or window is None:
        return None
    (x0, y0), (w1, w2) = first, window
    if y0 <= 0 or x0 >= w2:
        return None
    return ((x0, y0), (w2, 0.0), (max(w1, x0), 0.0))


def _find(assessment: PatientAssessment, episode: Episode | EpisodeAssessment) -> EpisodeAssessment:
    """The assessed episode for an Episode (by identity, else by id) or an EpisodeAssessment."""
    if isinstance(episode, EpisodeAssessment):
        return episode
    for e in assessment.episodes:
        if e.episode is episode:
            return e
    for e in assessment.episodes:
        if episode.id is not None and e.episode.id == episode.id:
            return e
    raise ValueError(f"the {site_label(episode.site)} episode of {episode.symptom_onset} is not in the assessment")


def course_data(assessment: PatientAssessment, episode: Episode | EpisodeAssessment,
                settings: Settings | None = None, axis: str = MONTHS,
                dates: Callable[[dt.date], str] = date_text) -> CourseData:
    """The course plot of one episode of the assessed patient, x in months since onset or in POSIX seconds.

    The window is the settings' resolution window; without settings, the one the assessment was made with.
    `dates` words the dates the legend shows (a de-identified report words them as months since first onset).
    """
    if axis not in AXES:
        raise ValueError(f"axis {axis!r} is not one of {', '.join(AXES)}")
    e = _find(assessment, episode)
    ep, onset, as_of = e.episode, e.symptom_onset, assessment.as_of

    def x(day: dt.date) -> float:
        return _x(axis, onset, day)

    def months(day: dt.date) -> float:
        return months_from(onset, day)

    studies = sorted((s for s in ep.imaging if s.date <= as_of), key=lambda s: (s.date, s.time or ""))
    unit = episode_unit(studies)
    marks = []
    for s in studies:
        value = _extent_in(s, unit) if unit else None
        marks.append(StudyMark(x(s.date), s.date, months(s.date), s.modality, value, _study_tip(s, months(s.date)), s))
    extent = tuple(Point(m.x, m.date, m.months, m.y, m.tip, m.record) for m in marks if m.y is not None)

    records = sorted((r for r in ep.symptoms if r.date <= as_of), key=lambda r: r.date)
    instruments = {r.function_instrument for r in records if r.function_score is not None}
    function_label = instruments.pop() if len(instruments) == 1 and "" not in instruments else "Function score"
    pain = tuple(Point(x(r.date), r.date, months(r.date), float(r.pain_nrs),
                       _symptom_tip(r, months(r.date), function_label), r)
                 for r in records if r.pain_nrs is not None)
    function = tuple(Point(x(r.date), r.date, months(r.date), float(r.function_score),
                           _symptom_tip(r, months(r.date), function_label), r)
                     for r in records if r.function_score is not None)

    treatments = sorted((t for t in ep.treatments if t.start <= as_of), key=lambda t: (t.start, t.end or as_of))
    ends = [t.end if t.end is not None and t.end <= as_of else None for t in treatments]
    bounds = [(x(t.start), x(end or as_of)) for t, end in zip(treatments, ends)]
    spans = tuple(Span(x0, x1, t.start, end, end is None, t.kind, treatment_text(t).split(" (")[0], row,
                       _treatment_tip(t, end), t)
                  for t, end, (x0, x1), row in zip(treatments, ends, bounds, _rows(bounds)))

    window_months = window = extension = band = None
    if e.expected_resolution is not None:
        if settings is not None:
            window_months = tuple(settings.resolution_window_months)
        else:  # add_months() round-trips: the assessment's window dates are whole months after onset
            window_months = tuple(round(months_since_onset(onset, d)) for d in e.expected_resolution)
        w1, w2 = (add_months(onset, m) for m in window_months)
        window = (x(w1), x(w2))
        if window_months[1] < EXTENSION_MONTHS:
            extension = (window[1], x(add_months(onset, EXTENSION_MONTHS)))
        band = regression_band((extent[0].x, extent[0].y) if extent else None, window)

    resolved_x = x(e.resolved_on) if e.resolved_on is not None else None
    ends_at = [x(onset)]
    if extension or window:
        ends_at.append((extension or window)[1])
    else:
        ends_at.append(x(add_months(onset, EXTENSION_MONTHS)))
    ends_at += [m.x for m in marks] + [p.x for p in pain + function] + [s.x1 for s in spans]
    if resolved_x is not None:
        ends_at.append(resolved_x)
    if e.status == ACTIVE:
        ends_at.append(x(as_of))
    lo, hi = x(onset), max(ends_at)
    pad = (hi - lo) * _X_PAD
    # Regions: as many as the episode's joint has (or a study names, should an older record name more).
    regions = float(max([len(regions_of(e.site)), *(p.y for p in extent)])) if unit == "regions" else None
    y_max = {"%": 100.0, "regions": regions, None: 100.0}.get(unit)
    if y_max is None:  # mL: a nice number above the largest volume
        y_max = _nice_ceiling(max(p.y for p in extent) * 1.1)
    return CourseData(ep, e.site, onset, as_of, e.status, e.diagnosis, axis, unit, extent, tuple(marks), pain,
                      function, function_label, window_months, window, extension, band, spans, x(as_of),
                      resolved_x, (lo - pad, hi + pad), y_max, dates(as_of),
                      dates(e.resolved_on) if e.resolved_on is not None else "")


# ---------------------------------------------------------------------------
# The patient's history as lanes
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Lane:
    """One joint site's lane: row 0 at the top (hips first, left before right, then the other joints)."""

    row: int
    site: str
    label: str


@dataclass(frozen=True)
class Bar:
    """One episode in its site's lane, from onset to resolution (end None while active), x in POSIX seconds."""

    row: int
    site: str
    start: dt.date
    end: dt.date | None
    x0: float
    x1: float
    status: str
    diagnosis: str
    tip: str
    episode: Episode = field(default=None, compare=False, repr=False)

    @property
    def is_toh(self) -> bool:
        """The diagnosis is still transient osteoporosis (a revised one leaves the TOH rules)."""
        return self.diagnosis == TOH


@dataclass(frozen=True)
class Link:
    """A recurrence or migration from an earlier episode to this one, drawn as an arrow between lanes."""

    kind: str
    from_site: str
    to_site: str
    from_row: int
    to_row: int
    x0: float
    x1: float
    start: dt.date
    end: dt.date
    concurrent: bool | None
    tip: str
    from_episode: Episode = field(default=None, compare=False, repr=False)
    to_episode: Episode = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Multifocal:
    """Episodes at several sites with the same onset day: a marker across their lanes."""

    date: dt.date
    x: float
    sites: tuple[str, ...]
    rows: tuple[int, ...]
    tip: str


@dataclass(frozen=True)
class HistoryData:
    """Everything the history lanes draw: lanes, bars, links and multifocal onsets, x in POSIX seconds (or, for a
    de-identified report, in months since the first onset)."""

    lanes: tuple[Lane, ...]
    bars: tuple[Bar, ...]
    links: tuple[Link, ...]
    multifocal: tuple[Multifocal, ...]
    as_of: dt.date
    as_of_x: float
    x_range: tuple[float, float]
    pattern: str
    axis: str = DATES
    as_of_text: str = ""

    def lane(self, site: str) -> Lane:
        """The lane of a site."""
        return next(lane for lane in self.lanes if lane.site == site)


def site_order(site: str) -> tuple[int, str]:
    """Sort key of sites: the code list's order (hips first, left before right, then knees, ankles, …)."""
    return (SITES.index(site), site) if site in SITES else (len(SITES), site)


def _bar_tip(e: EpisodeAssessment, as_of: dt.date) -> str:
    """Hover text of an episode bar."""
    lines = [f"{site_label(e.site, capital=True)}: {diagnosis_text(e.diagnosis)}",
             f"Onset {date_text(e.symptom_onset)}"]
    if e.resolved_on is not None:
        lines.append(f"Resolved {date_text(e.resolved_on)} "
                     f"({months_since_onset(e.symptom_onset, e.resolved_on):.1f} months)")
    else:
        lines.append(f"Active, {e.months_since_onset:.1f} months as of {date_text(as_of)}")
    return "\n".join(lines)


def _source(flag: Flag, history: list[EpisodeAssessment]) -> EpisodeAssessment | None:
    """The earlier episode a RECURRENCE or MIGRATION flag points back to (the rules' own choice)."""
    onset = flag.symptom_onset
    if flag.code == "RECURRENCE":
        previous = [e for e in history if e.site == flag.site and e.symptom_onset < onset
                    and e.resolved_on is not None and e.resolved_on < onset]
        return previous[-1] if previous else None
    earlier = [e for e in history if e.site == flag.from_site and e.symptom_onset < onset]
    return max(earlier, key=lambda e: e.symptom_onset, default=None)


def history_data(assessment: PatientAssessment, settings: Settings | None = None, axis: str = DATES,
                 dates: Callable[[dt.date], str] = date_text) -> HistoryData:
    """The patient's history as lanes, bars, links and multifocal onsets (settings kept for a uniform API).

    x is in POSIX seconds (`axis` DATES), or in months since the first onset (MONTHS: a de-identified report);
    `dates` words the as-of date in the legend.
    """
    if axis not in AXES:
        raise ValueError(f"axis {axis!r} is not one of {', '.join(AXES)}")
    as_of = assessment.as_of
    episodes = list(assessment.episodes)
    first = min((e.symptom_onset for e in episodes), default=as_of)

    def x(day: dt.date) -> float:
        return timestamp(day) if axis == DATES else months_from(first, day)

    sites = sorted({e.site for e in episodes}, key=site_order)
    lanes = tuple(Lane(row, site, site_label(site, capital=True)) for row, site in enumerate(sites))
    row_of = {lane.site: lane.row for lane in lanes}
    bars = tuple(Bar(row_of[e.site], e.site, e.symptom_onset, e.resolved_on, x(e.symptom_onset),
                     x(e.resolved_on or as_of), e.status, e.diagnosis, _bar_tip(e, as_of), e.episode)
                 for e in episodes)

    history = [e for e in episodes if e.diagnosis == TOH]
    by_episode = {id(e.episode): e for e in history}
    links = []
    for flag in assessment.flags:
        if flag.code not in ("RECURRENCE", "MIGRATION"):
            continue
        target, source = by_episode.get(id(flag.episode)), _source(flag, history)
        if target is None or source is None:
            continue
        if flag.code == "MIGRATION" and flag.concurrent:
            start = target.symptom_onset  # spread while the source was active: straight across the lanes
        else:
            start = source.resolved_on or target.symptom_onset
        kind = RECURRENCE if flag.code == "RECURRENCE" else MIGRATION
        links.append(Link(kind, source.site, target.site, row_of[source.site], row_of[target.site],
                          x(start), x(target.symptom_onset), start, target.symptom_onset,
                          flag.concurrent if kind == MIGRATION else None, flag.message, source.episode,
                          target.episode))

    onsets: dict[dt.date, list[str]] = {}
    for e in history:
        onsets.setdefault(e.symptom_onset, []).append(e.site)
    multifocal = []
    for day, day_sites in sorted(onsets.items()):
        day_sites = sorted(set(day_sites), key=site_order)
        if len(day_sites) > 1:
            names = ", ".join(site_label(s) for s in day_sites)
            multifocal.append(Multifocal(day, x(day), tuple(day_sites),
                                         tuple(row_of[s] for s in day_sites),
                                         f"Multifocal onset on {date_text(day)}: {names}"))

    if axis == DATES:  # from the first year's January: whole calendar years
        lo, hi = timestamp(dt.date(first.year, 1, 1)), timestamp(as_of)
        hi = max(hi, lo + 365 * _DAY)
    else:
        lo, hi = 0.0, max(x(as_of), 12.0)
    pad = (hi - lo) * _X_PAD
    return HistoryData(lanes, bars, tuple(links), tuple(multifocal), as_of, x(as_of), (lo - pad, hi + pad),
                       assessment.pattern, axis, dates(as_of))
