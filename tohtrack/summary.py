"""Per-patient summaries of the course assessment, kept in the database, so that cohort-wide views (the review
worklist, the due and flagged filters, `tohtrack flags`) need not load and assess every history each time.

What a summary holds: the pattern, the earliest next review, due and overdue, the number of flags and the most
urgent one, the sites active, and the patient's entry of `tohtrack flags --json` exactly as written there.

The assessment depends on the as-of date, so a summary is made at one date and says for which dates it holds:
from `valid_from` up to the day before `valid_until` (None: without bound). Between two dates on which
something in the history happens, the assessment cannot change. Those dates (`course.change_dates`) are: every onset,
resolution, study and symptom record date (each counts from that day on); each scheduled review 14 days before
(due from then) and 15 days after (missed from then); the day after the end of the resolution window
(PROLONGED_COURSE); and, while an episode is active, its monthly anniversaries of onset (the months that
PROLONGED_COURSE's message counts). A summary is used only for an as-of date inside its interval, so it is
the same as a fresh assessment at that date; otherwise the patient is assessed again.

A summary also holds only for the rules and settings it was made with (`rules_key`: the source of the
assessment code and the resolution window and review schedule). Triggers (migration m003) remove a patient's
summary in the same transaction as any write to the patient's records, and every summary when one of those
settings changes; summaries are made again lazily, when next asked for, and stored when the file can be
written (a read-only command stores them through a second connection, without waiting for a busy database;
it never creates nor upgrades one). A summary made from a history that another workstation changed meanwhile
is not stored (the audit trail says who was written since the history was read).

The cache is never a source of truth: `Store.check` compares each stored summary with a fresh assessment of
the whole history, and emptying the table loses nothing. Whole-cohort views read it in one query with the
patients (`joined`); only patients without a summary that holds are loaded (`_histories`: just what the
rules read) and assessed.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from typing import TYPE_CHECKING, Iterable, NamedTuple, Sequence

from . import __version__, course, settings as settings_mod
from .model import Patient

if TYPE_CHECKING:
    from .db import Store

TABLE = "assessment_summary"
ONE_DAY = dt.timedelta(days=1)
_encode = json.JSONEncoder(ensure_ascii=False).encode  # as `tohtrack flags --json` writes each patient
_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


# ---------------------------------------------------------------------------
# What a summary is made with
# ---------------------------------------------------------------------------

#: Raise with any change to how the assessment decides or words its results (course, model, wording, settings,
#: this module) that a release does not already mark with a new version.
RULES_REVISION = 2

@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The version and rules revision that decide and word the assessment, so that summaries made by other rules
    are made again. Not a digest of the source: an installed and a bundled copy of one version must agree, or two
    workstations would replace each other's summaries on every refresh. Worked out when first asked: hashlib
    loads OpenSSL, which the app's first paint does not need."""
    import hashlib

    return hashlib.sha256(f"{__version__}/{RULES_REVISION}".encode()).hexdigest()[:16]


def rules_key(settings: settings_mod.Settings) -> str:
    """The code and the settings an assessment is made with."""
    texts = settings_mod.to_texts(settings)
    return (f"{code_fingerprint()}|{texts['resolution_window_months']}|{texts['review_schedule']}")


# ---------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------


class Summary(NamedTuple):
    """A patient's assessment as the cohort views need it, and the as-of dates for which it holds (a tuple:
    a hundred thousand of them are made in a blink)."""

    patient_id: int
    pattern: str
    next_review: dt.date | None
    due: bool
    overdue: bool
    flag_count: int
    most_urgent: str | None  # the flag's JSON (as in `flags --json`), None without flags
    active_sites: tuple[str, ...]
    flags_json: str | None  # the patient's entry of `tohtrack flags --json` (None: not read)
    valid_from: dt.date | None
    valid_until: dt.date | None

    def holds_on(self, as_of: dt.date) -> bool:
        return ((self.valid_from is None or self.valid_from <= as_of)
                and (self.valid_until is None or as_of < self.valid_until))

    def most_urgent_flag(self) -> course.Flag | None:
        """The most urgent flag as worded (its episode and finding records are not loaded: None)."""
        return None if self.most_urgent is None else flag_from_json(self.most_urgent)


@functools.lru_cache(maxsize=1 << 16)
def flag_from_json(text: str) -> course.Flag:
    """A course.Flag from its `flags --json` form, without its episode and finding records (flags are
    immutable: one object serves every worklist that shows the same flag)."""
    data = json.loads(text)
    review = data.get("review_date")
    return course.Flag(data["code"], data["severity"], data["site"], dt.date.fromisoformat(data["symptom_onset"]),
                       data["message"], None, None, data.get("from_site"), data.get("concurrent"),
                       dt.date.fromisoformat(review) if review else None)


def missed_review(flags_json: str) -> dt.date | None:
    """The earliest missed review (FOLLOW_UP_OVERDUE's review date) in a patient's `flags --json` entry."""
    days = [flag.get("review_date") for flag in json.loads(flags_json).get("flags", ())
            if flag.get("code") == "FOLLOW_UP_OVERDUE"]
    return min((dt.date.fromisoformat(day) for day in days if day), default=None)


def validity(patient: Patient, as_of: dt.date, settings: settings_mod.Settings) -> tuple[dt.date | None, dt.date | None]:
    """The as-of dates [from, until) around as_of over which the patient's assessment stays the same."""
    breaks = course.change_dates(patient, as_of, settings)
    start = max((day for day in breaks if day <= as_of), default=None)
    until = min((day for day in breaks if day > as_of), default=None)
    return start, until


def summarize(assessment: course.PatientAssessment, settings: settings_mod.Settings) -> Summary:
    """The summary of an assessment (of a patient with its whole history, or what `_histories` loads)."""
    patient = assessment.patient
    start, until = validity(patient, assessment.as_of, settings)
    urgent = assessment.most_urgent
    return Summary(
        patient_id=patient.id,
        pattern=assessment.pattern,
        next_review=assessment.next_review,
        due=assessment.due,
        overdue=assessment.overdue,
        flag_count=len(assessment.flags),
        most_urgent=None if urgent is None else _compact(course._flag_json(urgent)),
        active_sites=tuple(e.site for e in assessment.episodes if e.status == course.ACTIVE),
        flags_json=_encode(course.patient_json(assessment)),
        valid_from=start,
        valid_until=until,
    )


# ---------------------------------------------------------------------------
# Reading, making and storing summaries: through the storage gateway (tohtrack.store)
# ---------------------------------------------------------------------------


def _today() -> dt.date:
    """The workstation's date: the as-of date whose summaries are worth keeping over others."""
    return dt.date.today()


def has_table(store: "Store") -> bool:
    """Whether the database has the summary table (a database not yet upgraded to m003 has not)."""
    return store.has_summary_table()


def stored(store: "Store", ids: Sequence[int], as_of: dt.date, rules: str,
           flags_json: bool = True) -> dict[int, Summary]:
    """The stored summaries of these patients that hold at as_of under these rules (without their flags JSON
    unless `flags_json`)."""
    return store.stored_summaries(ids, as_of, rules, flags_json=flags_json)


def summaries(store: "Store", ids: Iterable[int], as_of: dt.date, settings: settings_mod.Settings | None = None,
              flags_json: bool = True) -> dict[int, Summary]:
    """The summaries of these patients at as_of: those stored that hold, the others made now (and stored when
    the settings are the database's own and the file can be written, even through a read-only Store).
    Without `flags_json`, those read from the database leave out their flags JSON (faster)."""
    return store.summaries(ids, as_of, settings, flags_json=flags_json)


def clear(store: "Store") -> None:
    """Remove every stored summary (they are made again when next needed)."""
    store.clear_summaries()


def verify(store: "Store", limit: int = 20) -> list[str]:
    """Stored summaries (under the current rules) that differ from a fresh assessment of the whole history at
    a date they claim to hold for; empty when the cache is sound. Summaries under other rules are never used."""
    return store.verify_summaries(limit)
