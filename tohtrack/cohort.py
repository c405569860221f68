"""Cohort queries over the whole database: the review worklist of patients with active episodes."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from . import course
from .db import Store
from .model import TOH
from .settings import Settings


@dataclass
class WorklistEntry:
    """One patient with an active TOH episode, as the review worklist shows it."""

    patient_id: int
    mrn: str
    name: str
    pattern: str
    next_review: dt.date | None
    due: bool
    overdue: bool
    most_urgent: course.Flag | None
    active_sites: tuple[str, ...]

    @property
    def state(self) -> str:
        return "overdue" if self.overdue else "due" if self.due else ""


def active_patient_ids(store: Store, as_of: dt.date) -> list[int]:
    """Unarchived patients with a TOH episode active at `as_of` (onset on or before it, not resolved by it)."""
    day = as_of.isoformat()
    rows = store.conn.execute(
        """SELECT DISTINCT episodes.patient_id FROM episodes
           JOIN patients ON patients.id = episodes.patient_id
           WHERE patients.archived = 0 AND episodes.diagnosis = ?
             AND episodes.symptom_onset <= ? AND (episodes.resolved_on IS NULL OR episodes.resolved_on > ?)""",
        (TOH, day, day))
    return [row[0] for row in rows]


def _sort_key(entry: WorklistEntry) -> tuple:
    rank = 0 if entry.overdue else 1 if entry.due else 2
    review = entry.next_review or dt.date.max
    return rank, review, entry.mrn


def worklist(store: Store, as_of: dt.date, settings: Settings | None = None,
             due_only: bool = False) -> list[WorklistEntry]:
    """Patients with active TOH episodes: overdue first, then due, then by next review.

    With `due_only`, only those due or overdue for review at `as_of`.
    """
    settings = settings or store.settings()
    entries = []
    for patient in store.patients(active_patient_ids(store, as_of)):
        assessment = course.assess(patient, as_of, settings)
        if due_only and not (assessment.due or assessment.overdue):
            continue
        entries.append(WorklistEntry(
            patient_id=patient.id,
            mrn=patient.mrn,
            name=patient.display_name,
            pattern=assessment.pattern,
            next_review=assessment.next_review,
            due=assessment.due,
            overdue=assessment.overdue,
            most_urgent=assessment.most_urgent,
            active_sites=tuple(e.site for e in assessment.episodes if e.status == "active"),
        ))
    entries.sort(key=_sort_key)
    return entries
