"""Undo and redo over the core functions: each command calls the storage gateway, never widget state."""

from __future__ import annotations

import copy
import dataclasses
from typing import Callable

from PySide6.QtGui import QUndoCommand

from ..db import Store
from ..model import Episode, Patient


def _fresh(record):
    """A copy without storage identity, to be created again (findings of an episode included)."""
    clone = copy.deepcopy(record)
    for item in [clone, *(getattr(clone, "imaging", []) + getattr(clone, "symptoms", [])
                          + getattr(clone, "treatments", []))]:
        item.id, item.version = None, None
    return clone


def _fields(record) -> dict:
    """The record's own fields (children and storage identity left out)."""
    skip = {"id", "version", "episodes", "imaging", "symptoms", "treatments"}
    return {f.name: copy.deepcopy(getattr(record, f.name)) for f in dataclasses.fields(record) if f.name not in skip}


def finding_noun(record) -> str:
    """'imaging study', 'symptom record', 'treatment', 'episode', 'patient'."""
    return {"ImagingStudy": "imaging study", "SymptomRecord": "symptom record", "Treatment": "treatment",
            "Episode": "episode", "Patient": "patient"}[type(record).__name__]


class Ids:
    """Where a record lives now: a record removed and created again by undo/redo gets a new id."""

    def __init__(self) -> None:
        self._moved: dict[tuple[str, int], int] = {}

    def now(self, kind: str, record_id: int) -> int:
        while (kind, record_id) in self._moved:
            record_id = self._moved[(kind, record_id)]
        return record_id

    def moved(self, kind: str, old: int, new: int) -> None:
        if old != new:
            self._moved[(kind, old)] = new


class StoreCommand(QUndoCommand):
    """A change through the core. `do()` runs it the first time and raises; redo()/undo() report failures."""

    def __init__(self, store: Callable[[], Store], ids: Ids, text: str, on_error: Callable[[Exception], None]):
        super().__init__(text)
        self._store, self.ids, self._on_error = store, ids, on_error
        self._skip_redo = False

    @property
    def store(self) -> Store:
        return self._store()

    def do(self):
        result = self.apply()
        self._skip_redo = True
        return result

    def redo(self) -> None:
        if self._skip_redo:  # QUndoStack.push calls redo(): the first run already happened in do()
            self._skip_redo = False
            return
        self._guard(self.apply)

    def undo(self) -> None:
        self._guard(self.revert)

    def _guard(self, action: Callable[[], object]) -> None:
        # Exceptions must not cross back into Qt: report them and make the command obsolete.
        try:
            action()
        except Exception as exc:  # noqa: BLE001 - shown to the user, nothing is half-written (one transaction)
            self.setObsolete(True)
            self._on_error(exc)

    def apply(self):
        raise NotImplementedError

    def revert(self) -> None:
        raise NotImplementedError


class AddPatient(StoreCommand):
    """Undo of adding a patient archives it (patients are never deleted)."""

    def __init__(self, patient: Patient, **kw):
        super().__init__(text=f"add patient {patient.mrn}", **kw)
        self.patient = patient
        self.version: int | None = None

    def apply(self):
        if self.patient.id is None:
            self.store.add_patient(self.patient)
            self.version = self.patient.version
        else:
            self.version = self.store.set_archived(self.patient.id, self.version, archived=False)
        return self.patient

    def revert(self) -> None:
        self.version = self.store.set_archived(self.patient.id, self.version, archived=True)


class SetArchived(StoreCommand):
    def __init__(self, patient: Patient, archived: bool, **kw):
        super().__init__(text=("archive" if archived else "restore") + f" patient {patient.mrn}", **kw)
        self.patient_id, self.version, self.archived = patient.id, patient.version, archived

    def apply(self):
        self.version = self.store.set_archived(self.patient_id, self.version, self.archived)
        return self.version

    def revert(self) -> None:
        self.version = self.store.set_archived(self.patient_id, self.version, not self.archived)


class EditRecord(StoreCommand):
    """Save a patient's, episode's or finding's fields; undo saves the old ones back (version-checked)."""

    def __init__(self, before, after, **kw):
        super().__init__(text=f"edit {finding_noun(after)}", **kw)
        self.kind, self.before, self.after = type(after).__name__, _fields(before), _fields(after)
        self.record_id, self.version = after.id, after.version
        self.template = after

    def _save(self, values: dict):
        record = copy.deepcopy(self.template)
        for name, value in values.items():
            setattr(record, name, copy.deepcopy(value))
        current = self.ids.now(self.kind, self.record_id)
        if current != self.record_id:  # re-created by an undo: its version history restarted
            self.record_id, self.version = current, None
        record.id, record.version = self.record_id, self.version
        saver = {"Patient": self.store.update_patient, "Episode": self.store.update_episode}.get(
            self.kind, self.store.update_finding)
        saver(record)
        self.version = record.version
        return record

    def apply(self):
        return self._save(self.after)

    def revert(self) -> None:
        self._save(self.before)


class AddEpisode(StoreCommand):
    def __init__(self, patient_id: int, episode: Episode, **kw):
        super().__init__(text="add episode", **kw)
        self.patient_id, self.episode = patient_id, episode
        self.first_id: int | None = None

    def apply(self):
        record = _fresh(self.episode) if self.first_id is not None else self.episode
        self.store.add_episode(self.patient_id, record)
        if self.first_id is None:
            self.first_id = record.id
        else:
            self.ids.moved("Episode", self.ids.now("Episode", self.first_id), record.id)
        self.episode = record
        return record

    def revert(self) -> None:
        self.store.delete_episode(self.episode.id, None)


class DeleteEpisode(StoreCommand):
    def __init__(self, patient_id: int, episode: Episode, **kw):
        super().__init__(text="delete episode", **kw)
        self.patient_id, self.episode = patient_id, episode

    def apply(self):
        self.store.delete_episode(self.ids.now("Episode", self.episode.id), self.episode.version)
        self.episode.version = None

    def revert(self) -> None:
        old = self.ids.now("Episode", self.episode.id)
        record = _fresh(self.episode)
        self.store.add_episode(self.patient_id, record)
        self.ids.moved("Episode", old, record.id)


class AddFinding(StoreCommand):
    def __init__(self, episode_id: int, record, **kw):
        super().__init__(text=f"add {finding_noun(record)}", **kw)
        self.episode_id, self.record, self.kind = episode_id, record, type(record).__name__
        self.first_id: int | None = None

    def apply(self):
        record = _fresh(self.record) if self.first_id is not None else self.record
        self.store.add_finding(self.ids.now("Episode", self.episode_id), record)
        if self.first_id is None:
            self.first_id = record.id
        else:
            self.ids.moved(self.kind, self.ids.now(self.kind, self.first_id), record.id)
        self.record = record
        return record

    def revert(self) -> None:
        self.record.version = None
        self.store.delete_finding(self.record)


class DeleteFinding(StoreCommand):
    def __init__(self, episode_id: int, record, **kw):
        super().__init__(text=f"delete {finding_noun(record)}", **kw)
        self.episode_id, self.record, self.kind = episode_id, record, type(record).__name__

    def apply(self):
        self.record.id = self.ids.now(self.kind, self.record.id)
        self.store.delete_finding(self.record)
        self.record.version = None

    def revert(self) -> None:
        old = self.record.id
        record = _fresh(self.record)
        self.store.add_finding(self.ids.now("Episode", self.episode_id), record)
        self.ids.moved(self.kind, old, record.id)
        self.record.id = record.id
