"""The timeline report's content (`tohtrack report`; the README's "Timeline reports"): header, summary, flags,
tables, in words.

No Qt here: `build(patient, as_of, settings)` returns a Report of plain text and tables, and tohtrack.gui.pdf lays
it out on paper with the plots. The de-identified variant is made here too, so that nothing downstream can leak
what it never receives: the patient is copied with every free text, the accession numbers, the name, the MRN and
unrecognised function-instrument names removed, and every date is worded as months since the first onset.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import secrets
from dataclasses import dataclass, field
from typing import Callable

from . import __version__
from .course import ACTIVE, WARNING, PatientAssessment, assess, by_urgency, months_since_onset
from .model import isolate_mrn
from .model import (MODALITY_LABELS, PREGNANCY_LABELS, TREATMENT_LABELS, Episode, ImagingStudy, Patient,
                    SymptomRecord, Treatment, site_label)
from .plotdata import DATES, MONTHS, months_from
from .settings import Settings
from .wording import (FULL_MONTH_NAMES, MONTH_NAMES, SEX_WORDS, WEIGHT_BEARING_WORDS, age, date_text,
                      diagnosis_text, extent_text, findings_summary, month_text, pattern_text, regions_text)

#: Function instruments a de-identified report names; any other text in that field could be anything.
KNOWN_INSTRUMENTS = frozenset({
    "Harris Hip Score", "HHS", "modified Harris Hip Score", "mHHS", "WOMAC", "HOOS", "HOOS-PS", "Oxford Hip Score",
    "OHS", "Lequesne", "KOOS", "KOOS-PS", "Oxford Knee Score", "LEFS", "FAAM", "FAAM ADL", "FAAM Sports", "AOFAS",
    "FAOS", "MOXFQ", "VAS function"})

#: The column of months since the episode's onset (beside a date that, de-identified, counts from the first onset).
SINCE_ONSET = "Since onset (mo)"

#: Begins a summary line that belongs to the line above (an active episode under "n episodes recorded").
BULLET = "– "

_DATE_WORDS = re.compile(r"\b(\d{1,2}) (" + "|".join(MONTH_NAMES) + r") (\d{4})\b")
#: A month and year ('March 2024', how a flag names one of two episodes at a site).
_MONTH_WORDS = re.compile(r"\b(" + "|".join(FULL_MONTH_NAMES) + r") (\d{4})\b")


@dataclass(frozen=True)
class Row:
    """One table row; `note` is free text printed beneath it across the whole width."""

    cells: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Table:
    """A titled table; `widths` are the columns' shares of the page width."""

    title: str
    columns: tuple[str, ...]
    widths: tuple[float, ...]
    rows: tuple[Row, ...]
    empty: str = "None recorded."
    #: What a row's note is, printed before it ('Report', 'Note').
    note_label: str = "Note"

    def __post_init__(self) -> None:
        if len(self.widths) != len(self.columns) or any(len(r.cells) != len(self.columns) for r in self.rows):
            raise ValueError(f"table {self.title!r}: every row needs one cell per column")


@dataclass(frozen=True)
class FlagLine:
    """A flag as the report words it."""

    severity: str
    code: str
    message: str
    where: str


@dataclass(frozen=True)
class Section:
    """One episode: its heading, its course in a sentence, its plot and its findings tables."""

    heading: str
    summary: str
    episode: Episode = field(compare=False, repr=False)
    tables: tuple[Table, ...]
    plotted: bool


@dataclass(frozen=True)
class Report:
    """Everything a timeline report says, in the order it says it."""

    title: str
    clinic: str
    identity: tuple[tuple[str, str], ...]
    dates: tuple[tuple[str, str], ...]
    running_head: str
    #: The part of the running head that may be shortened on a narrow page (the name; never the MRN).
    running_name: str
    summary: tuple[str, ...]
    flags: tuple[FlagLine, ...]
    episodes: Table
    sections: tuple[Section, ...]
    deidentified: bool
    report_id: str
    paper_size: str
    document_title: str
    generator: str
    assessment: PatientAssessment = field(compare=False, repr=False)
    settings: Settings = field(compare=False, repr=False)
    #: How the plots word dates, and the history plot's x axis (calendar, or months since first onset).
    date_words: Callable[[dt.date], str] = field(compare=False, repr=False, default=date_text)
    history_axis: str = DATES
    #: The database's audit seal when the report was made ('1234·9f3a7c21d0e4', Store.audit_seal): printed on
    #: each page, so the paper can be held against the database later (`tohtrack check --seal`). A de-identified
    #: report carries it too: an entry count and a hash prefix name no patient, and a teaching copy can then be
    #: traced to the database state it came from.
    seal: str = ""

    def course_words(self, episode: Episode) -> Callable[[dt.date], str]:
        """How an episode's course plot words dates in its legend: calendar dates, or (de-identified) months
        since that episode's onset, the plot's own x axis."""
        if not self.deidentified:
            return date_text
        return lambda day: f"{signed(months_from(episode.symptom_onset, day))} mo"

    def text(self) -> str:
        """The report's words as plain text (what a reader of the PDF sees, less the plots)."""
        lines = [self.document_title, self.running_head, self.clinic, self.title,
                 *(f"{k}: {v}" for k, v in self.identity + self.dates), *self.summary]
        lines += [f"{f.severity}: {f.message} ({f.where})" for f in self.flags]
        for table in (self.episodes, *(t for s in self.sections for t in s.tables)):
            lines.append(table.title)
            lines += [" | ".join(r.cells) + (f" — {r.note}" if r.note else "") for r in table.rows]
        lines += [line for s in self.sections for line in (s.heading, s.summary)]
        return "\n".join(lines)


def new_report_id() -> str:
    """A random id naming a de-identified report: 'R-7K3Q9D2M'."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "R-" + "".join(secrets.choice(alphabet) for _ in range(8))


def age_band(years: int) -> str:
    """A 5-year age band, '45–49 years'; from 90 one band (as HIPAA's Safe Harbor asks), '90 years or older'."""
    if years < 0:
        return "—"
    if years >= 90:
        return "90 years or older"
    low = years // 5 * 5
    return f"{low}–{low + 4} years"


def signed(months: float) -> str:
    """Months to one decimal, a true minus sign before the onset: '3.2', '−0.5'."""
    return f"{months:.1f}".replace("-", "−")


def months_words(origin: dt.date) -> Callable[[dt.date], str]:
    """Dates as months since `origin` (the first onset): 'month 3.2', 'month −0.5'."""

    def words(day: dt.date | None) -> str:
        if day is None:
            return "—"
        return f"month {signed(months_from(origin, day))}"

    return words


def deidentify_text(text: str, words: Callable[[dt.date], str]) -> str:
    """Text with every '12 Feb 2026' date (the wording of flags) replaced by its months since first onset."""

    def replace(match: re.Match) -> str:
        day = dt.date(int(match.group(3)), MONTH_NAMES.index(match.group(2)) + 1, int(match.group(1)))
        return words(day)

    def replace_month(match: re.Match) -> str:  # no day: counted from the month's first
        return words(dt.date(int(match.group(2)), FULL_MONTH_NAMES.index(match.group(1)) + 1, 1))

    return _MONTH_WORDS.sub(replace_month, _DATE_WORDS.sub(replace, text))


def _flag_message(message: str, onset: dt.date, words: Callable[[dt.date], str], deidentify: bool) -> str:
    """A flag's message as the report prints it; de-identified, the episode a flag names by its month of onset
    ('episode of March 2024') is named by its onset's months since the first onset, and every date likewise."""
    if not deidentify:
        return message
    message = message.replace(f"episode of {month_text(onset)}", f"episode of {words(onset)}")
    return deidentify_text(message, words)


def stripped(patient: Patient) -> Patient:
    """A copy of the patient without name, MRN, notes, accession numbers, reports, details and unknown
    instrument names (the birth date stays, for the age band, and is never printed)."""
    copy_ = copy.deepcopy(patient)
    copy_.mrn, copy_.family_name, copy_.given_name, copy_.notes = "", "", "", ""
    for episode in copy_.episodes:
        episode.notes = ""
        for study in episode.imaging:
            study.accession, study.report, study.time = "", "", None
            study.study_instance_uid = study.study_description = None  # DICOM identity: not for de-identified
        for record in episode.symptoms:
            record.note = ""
            if record.function_instrument not in KNOWN_INSTRUMENTS:
                record.function_instrument = ""
        for treatment in episode.treatments:
            treatment.detail = ""
    return copy_


def build(patient: Patient, as_of: dt.date, settings: Settings = Settings(), today: dt.date | None = None,
          deidentify: bool = False, report_id: str | None = None, seal: str = "") -> Report:
    """The report of a patient's record as it stood at `as_of`."""
    today = today or dt.date.today()
    report_id = report_id or new_report_id()
    source = stripped(patient) if deidentify else patient
    assessment = assess(source, as_of, settings)
    # Months count from the first onset on record, even one after the as-of date (which then reads negative).
    origin = min((e.symptom_onset for e in source.episodes), default=None)
    if deidentify:  # with nothing to count from, no date is worded at all
        words = months_words(origin) if origin else (lambda day: "—")
    else:
        words = date_text

    years = age(patient.birth_date, as_of)
    sex = SEX_WORDS.get(patient.sex, patient.sex)
    if deidentify:
        identity = (("Report", report_id), ("Age", age_band(years)), ("Sex", sex))
        dates = (("As of", f"{words(as_of)} (months since the first onset)" if origin else "no onset recorded"),)
        running_head = running_name = f"De-identified report {report_id}"
        document_title = f"TOHtrack report {report_id}"
    else:
        identity = (("Patient", patient.display_name), ("MRN", isolate_mrn(patient.mrn)),
                    ("Born", date_text(patient.birth_date)), ("Age", f"{years} years"), ("Sex", sex))
        dates = (("Report date", date_text(today)), ("As of", date_text(as_of)))
        running_name = patient.display_name
        running_head = f"{running_name} · MRN {isolate_mrn(patient.mrn)} · born {date_text(patient.birth_date)}"
        document_title = f"TOHtrack report: {patient.display_name}, MRN {patient.mrn}"

    shown = list(reversed(assessment.episodes))  # newest first, as on screen: the visit is about the latest
    flags = tuple(FlagLine(f.severity, f.code, _flag_message(f.message, f.symptom_onset, words, deidentify),
                           f"{site_label(f.site, capital=True)} episode, onset {words(f.symptom_onset)}")
                  for f in by_urgency(assessment.flags))
    summary = _summary(assessment, words, source, as_of)
    table = Table("Episodes", ("Site", "Diagnosis", "Onset", "Status", "Course", "Expected resolution",
                               "Next review"),
                  (0.14, 0.17, 0.13, 0.11, 0.11, 0.21, 0.13),
                  tuple(Row((site_label(e.site, capital=True), _diagnosis(e.episode), words(e.symptom_onset),
                             _status(e, words), f"{_course_months(e, as_of):.1f} mo",
                             _window(e, words), words(e.next_review) if e.next_review else "—"),
                            e.episode.notes)
                        for e in shown),
                  "No episodes recorded up to the as-of date.", "Notes")
    sections = tuple(_section(e, as_of, words, deidentify) for e in shown)
    return Report(
        title="Transient osteoporosis follow-up: timeline report", clinic=settings.clinic_name or "",
        identity=identity, dates=dates, running_head=running_head, running_name=running_name, summary=summary, flags=flags, episodes=table,
        sections=sections, deidentified=deidentify, report_id=report_id, paper_size=settings.paper_size,
        document_title=document_title, generator=f"TOHtrack {__version__}", assessment=assessment,
        settings=settings, date_words=words, history_axis=MONTHS if deidentify else DATES,
        seal=seal)


def _diagnosis(episode: Episode) -> str:
    text = diagnosis_text(episode.diagnosis)
    if episode.pregnancy:
        text += f"; {PREGNANCY_LABELS.get(episode.pregnancy, episode.pregnancy)}"
    return text


def _course_months(e, as_of: dt.date) -> float:
    return months_since_onset(e.symptom_onset, e.resolved_on or as_of)


def _status(e, words) -> str:
    return "active" if e.status == ACTIVE else f"resolved {words(e.resolved_on)}"


def _window(e, words) -> str:
    if e.expected_resolution is None:
        return "—"
    first, last = e.expected_resolution
    return f"{words(first)} – {words(last)}"


def _summary(a: PatientAssessment, words, patient: Patient, as_of: dt.date) -> tuple[str, ...]:
    pattern = pattern_text(a.pattern)
    lines = [f"Pattern: {pattern}."]
    active = [e for e in a.episodes if e.status == ACTIVE and e.expected_resolution is not None]
    n = len(a.episodes)
    counted = f"{n} episode{'s' if n != 1 else ''} recorded"
    if not a.episodes:
        lines.append("No episodes recorded up to the as-of date.")
    elif not active:
        lines.append(f"{counted}, none active.")
    else:
        lines.append(f"{counted}, {len(active)} active:")
        for e in active:
            first, last = e.expected_resolution
            lines.append(f"{BULLET}{site_label(e.site, capital=True)}: {e.months_since_onset:.1f} months since onset "
                         f"({words(e.symptom_onset)}); expected to resolve between {words(first)} and {words(last)}.")
    if a.overdue:
        lines.append(f"Review overdue: the review of {words(a.missed_review)} was missed.")
    if a.next_review is not None:
        due = " (due now)" if a.due else ""
        lines.append(f"Next review: {words(a.next_review)}{due}.")
    elif a.episodes and not a.overdue:
        lines.append("No review scheduled.")
    warnings = sum(f.severity == WARNING for f in a.flags)
    infos = len(a.flags) - warnings
    lines.append(f"Flags: {warnings} warning{'s' if warnings != 1 else ''}, {infos} for information."
                 if a.flags else "Flags: none; the course is as expected.")
    later = sum(1 for e in patient.episodes for r in (*e.imaging, *e.symptoms) if r.date > as_of) + sum(
        1 for e in patient.episodes for t in e.treatments if t.start > as_of) + sum(
        1 for e in patient.episodes if e.symptom_onset > as_of)
    if later:
        lines.append(f"{later} record{'s' if later != 1 else ''} dated after the as-of date "
                     f"{'are' if later != 1 else 'is'} not shown.")
    return tuple(lines)


def _section(e, as_of: dt.date, words, deidentify: bool) -> Section:
    episode = e.episode
    site = site_label(e.site, capital=True)
    heading = f"{site}: {_diagnosis(episode)}, onset {words(e.symptom_onset)}"
    if e.status == ACTIVE:
        course = f"Active, {e.months_since_onset:.1f} months since onset as of {words(as_of)}."
    else:
        course = (f"Resolved {words(e.resolved_on)}, "
                  f"{months_since_onset(e.symptom_onset, e.resolved_on):.1f} months after onset.")
    if e.expected_resolution is not None:
        first, last = e.expected_resolution
        course += f" Expected resolution {words(first)} – {words(last)}."
    if episode.avn_risk_factors:
        course += " AVN risk factors: " + ", ".join(episode.avn_risk_factors).replace("_", " ") + "."
    studies = sorted((s for s in episode.imaging if s.date <= as_of), key=ImagingStudy.order)
    symptoms = sorted((r for r in episode.symptoms if r.date <= as_of), key=lambda r: r.date)
    treatments = sorted((t for t in episode.treatments if t.start <= as_of), key=lambda t: t.start)
    imaging = Table("Imaging studies", ("Date", SINCE_ONSET, "Modality", "Edema extent", "Findings", "Accession"),
                    (0.14, 0.08, 0.15, 0.19, 0.31, 0.13),
                    tuple(_study_row(s, e.symptom_onset, words) for s in studies), note_label="Report")
    if deidentify:  # no accession numbers: drop the column, give its width to the findings
        imaging = Table(imaging.title, imaging.columns[:-1], (0.14, 0.08, 0.15, 0.19, 0.44),
                        tuple(Row(r.cells[:-1], r.note) for r in imaging.rows), note_label="Report")
    tables = (
        imaging,
        Table("Symptom records", ("Date", SINCE_ONSET, "Pain (NRS)", "Function", "Weight bearing"),
              (0.15, 0.09, 0.14, 0.30, 0.32),
              tuple(_symptom_row(r, e.symptom_onset, words) for r in symptoms)),
        Table("Treatments", ("Start", "End", "Treatment"), (0.18, 0.18, 0.64),
              tuple(Row((words(t.start), words(t.end) if t.end else "ongoing",
                         _treatment(t)), t.detail) for t in treatments), note_label="Detail"),
    )
    missing = [t.title.lower() for t in tables if not t.rows]
    if missing:  # one sentence rather than empty tables
        course += f" No {_joined(missing)} recorded up to the as-of date."
    tables = tuple(t for t in tables if t.rows)
    return Section(heading, course, episode, tables, plotted=bool(studies or symptoms or treatments))


def _joined(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _treatment(t: Treatment) -> str:
    return TREATMENT_LABELS.get(t.kind, t.kind)


def _months(onset: dt.date, day: dt.date) -> str:
    return signed(months_from(onset, day))


def _study_row(s: ImagingStudy, onset: dt.date, words) -> Row:
    when = words(s.date) + (f" {s.time}" if s.time else "")
    regions = regions_text(s.edema_regions)
    extent = extent_text(s)
    if regions and not extent.endswith("regions") and not extent.endswith("region"):
        extent = f"{extent} ({regions})" if extent else regions
    elif regions:
        extent = f"{extent}: {regions}"
    modality = MODALITY_LABELS.get(s.modality, s.modality)
    return Row((when, _months(onset, s.date), modality[:1].upper() + modality[1:], extent or "not recorded",
                findings_summary(s), s.accession or "—"), s.report)


def _symptom_row(r: SymptomRecord, onset: dt.date, words) -> Row:
    function = ""
    if r.function_score is not None:
        function = f"{r.function_instrument or 'score'} {r.function_score:g}"
    bearing = WEIGHT_BEARING_WORDS.get(r.weight_bearing, "") if r.weight_bearing else ""
    return Row((words(r.date), _months(onset, r.date), f"{r.pain_nrs:g}/10" if r.pain_nrs is not None else "—",
                function or "—", bearing or "—"), r.note)


def file_name(report: Report, mrn: str) -> str:
    """A default file name: the MRN and date, or the random id of a de-identified report."""
    if report.deidentified:
        return f"{report.report_id}.pdf"
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", mrn).strip("._") or "patient"
    return f"{safe}-timeline.pdf"

