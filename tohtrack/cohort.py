"""Cohort queries over the whole database: the review worklist of patients with active episodes, and the
course assessment of every patient as `tohtrack flags --json` prints it (both from tohtrack.summary)."""

from __future__ import annotations

import datetime as dt
from collections import namedtuple
from dataclasses import dataclass

from . import course, summary, wording
from .db import Store
from .model import Patient
from .perf import gc_paused
from .settings import Settings


@dataclass(slots=True)
class WorklistEntry:
    """One patient with an active TOH episode, as the review worklist shows it."""

    patient_id: int
    mrn: str
    name: str
    pattern: str
    next_review: dt.date | None
    due: bool
    overdue: bool
    #: The most urgent flag as worded; its episode and finding records are not loaded (None).
    most_urgent: course.Flag | None
    active_sites: tuple[str, ...]
    #: The earliest review missed (FOLLOW_UP_OVERDUE's review date) of an overdue patient, else None.
    missed_review: dt.date | None = None
    #: All of the patient's flags.
    flag_count: int = 0
    #: The worklist's date.
    as_of: dt.date | None = None

    @property
    def state(self) -> str:
        return "overdue" if self.overdue else "due" if self.due else ""

    @property
    def review_text(self) -> str:
        """'review of 12 Feb 2026 missed, 17 days', 'due 20 Feb 2026 (in 3 days)', or the next review's date."""
        return wording.review_text(self.as_of or dt.date.today(), self.next_review, self.missed_review,
                                   self.overdue)

    @property
    def reason(self) -> str:
        """The most urgent flag in a few words with its episode, and how many more flags there are."""
        return wording.reason_text(self.most_urgent, self.flag_count - 1)

    @property
    def urgency(self) -> tuple:
        """Sort key, most urgent first: the most urgent flag in clinical order (none last), then overdue (longest
        missed first), due, the others; then the review date and the MRN."""
        flag = course.urgency(self.most_urgent.code) if self.most_urgent else len(course.URGENCY)
        state = 0 if self.overdue else 1 if self.due else 2
        return flag, state, self.missed_review or self.next_review or dt.date.max, self.mrn


def active_patient_ids(store: Store, as_of: dt.date) -> list[int]:
    """Unarchived patients with a TOH episode active at `as_of` (onset on or before it, not resolved by it)."""
    return store.active_patient_ids(as_of)


def _sort_key(entry: WorklistEntry) -> tuple:
    """Overdue first (the longest missed first), then due, then the others; then by the review date."""
    rank = 0 if entry.overdue else 1 if entry.due else 2
    review = entry.missed_review or entry.next_review or dt.date.max
    return rank, review, entry.mrn


_Names = namedtuple("_Names", "mrn family_name given_name")
_display_name = Patient.display_name.fget  # 'ROSSI, Marco', from any object with the two names


@gc_paused()
def worklist(store: Store, as_of: dt.date, settings: Settings | None = None,
             due_only: bool = False) -> list[WorklistEntry]:
    """Patients with active TOH episodes: overdue first, then due, then by next review.

    With `due_only`, only those due or overdue for review at `as_of`.
    """
    found = store.worklist_summaries(as_of, settings, _Names._fields)
    entries = []
    for names, s in found:
        if due_only and not (s.due or s.overdue):
            continue
        who = _Names(*names)
        entries.append(WorklistEntry(
            patient_id=s.patient_id,
            mrn=who.mrn,
            name=_display_name(who),
            pattern=s.pattern,
            next_review=s.next_review,
            due=s.due,
            overdue=s.overdue,
            most_urgent=s.most_urgent_flag(),
            active_sites=s.active_sites,
            flag_count=s.flag_count,
            as_of=as_of,
        ))
    _add_missed_reviews(store, entries, as_of, settings)
    entries.sort(key=_sort_key)
    return entries


def _add_missed_reviews(store: Store, entries: list[WorklistEntry], as_of: dt.date,
                        settings: Settings | None) -> None:
    """Set each overdue entry's missed review: from its most urgent flag when that is FOLLOW_UP_OVERDUE, else
    from its flags (read only for those patients)."""
    rest = []
    for entry in entries:
        if not entry.overdue:
            continue
        flag = entry.most_urgent
        if flag is not None and flag.code == "FOLLOW_UP_OVERDUE" and entry.flag_count == 1:
            entry.missed_review = flag.review_date
        else:
            rest.append(entry)
    if rest:
        found = summary.summaries(store, [e.patient_id for e in rest], as_of, settings, flags_json=True)
        for entry in rest:
            s = found.get(entry.patient_id)
            entry.missed_review = summary.missed_review(s.flags_json) if s is not None and s.flags_json else None


def flags_json(store: Store, as_of: dt.date, patient_ids: list[int] | None = None,
               settings: Settings | None = None) -> list[str]:
    """Each patient's entry of `tohtrack flags --json`, encoded as printed there, in MRN order: every unarchived
    patient, or those of `patient_ids` (archived or not)."""
    found = store.flag_summaries(as_of, patient_ids, settings)
    found.sort(key=lambda pair: pair[0])
    return [s.flags_json for _, s in found]
