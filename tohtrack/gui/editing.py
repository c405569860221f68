"""Record editing in the main window: new, edit, archive and delete of patients, episodes and findings through
the dialogs, every change an undoable command (Edit > Undo / Redo), errors and conflicts explained, and the
audit history of the open patient."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Callable

from PySide6.QtGui import QKeySequence

from ..db import ConflictError, NotFound, StoreError
from ..model import Episode, ImagingStudy, Patient, SymptomRecord, Treatment, ValidationError, site_label
from . import undo


class Editing:
    """The Patient menu's actions and the undo stack (a mixin of MainWindow: it uses the window's store, open
    patient and patient view)."""

    def _setup_edit_menu(self) -> None:
        undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence.StandardKey.Redo])
        self.ui.menu_edit.addAction(undo_action)
        self.ui.menu_edit.addAction(redo_action)
        self.action_undo, self.action_redo = undo_action, redo_action

    def _command(self, cls, *args, **kwargs):
        return cls(*args, store=lambda: self.store, ids=self.ids, on_error=self.show_error, **kwargs)

    def _run(self, command):
        """Run a command the first time (errors reach the caller, e.g. a dialog), then make it undoable."""
        result = command.do()
        self.changed_this_session = True
        self.undo_stack.push(command)
        return result

    def _dialog_today(self) -> dt.date:
        return dt.date.today()

    def new_patient(self) -> None:
        from .patient_dialog import PatientDialog

        dialog = PatientDialog(self, None, today=self._dialog_today(),
                               save=lambda p: self._run(self._command(undo.AddPatient, p)))
        if dialog.exec():
            self.open_patient(dialog.saved.id)

    def edit_patient(self) -> None:
        from .patient_dialog import PatientDialog

        if self.patient is None:
            return
        before = copy.deepcopy(self.patient)
        dialog = PatientDialog(self, copy.deepcopy(self.patient), today=self._dialog_today(),
                               save=lambda p: self._run(self._command(undo.EditRecord, before, p)),
                               reload=lambda: self._reload(Patient, before.id))
        dialog.exec()

    def archive_patient(self) -> None:
        from PySide6.QtWidgets import QMessageBox  # built when first used, not before the first paint

        if self.patient is None:
            return
        archived = not self.patient.archived
        verb = "Archive" if archived else "Restore"
        text = (f"{verb} {self.patient.family_name.upper()}, {self.patient.given_name} ({self.patient.mrn})?"
                + ("\n\nArchived patients leave the lists and the worklist; nothing is deleted and the "
                   "patient can be restored." if archived else ""))
        if QMessageBox.question(self, f"{verb} patient", text) != QMessageBox.StandardButton.Yes:
            return
        self._guarded(lambda: self._run(self._command(undo.SetArchived, self.patient, archived)))

    def new_episode(self) -> None:
        from .episode_dialog import EpisodeDialog

        if self.patient is None:
            return
        patient_id = self.patient.id
        dialog = EpisodeDialog(self, None, birth_date=self.patient.birth_date, today=self._dialog_today(),
                               save=lambda e: self._run(self._command(undo.AddEpisode, patient_id, e)),
                               sex=self.patient.sex)
        if dialog.exec():
            self.open_patient(patient_id, dialog.saved.id)

    def edit_episode(self, episode: Episode | None = None) -> None:
        from .episode_dialog import EpisodeDialog

        episode = episode or self.view.selected_episode()
        if episode is None or self.patient is None:
            return
        before = copy.deepcopy(episode)
        dialog = EpisodeDialog(self, copy.deepcopy(episode), birth_date=self.patient.birth_date,
                               today=self._dialog_today(),
                               save=lambda e: self._run(self._command(undo.EditRecord, before, e)),
                               reload=lambda: self._reload(Episode, before.id), sex=self.patient.sex)
        dialog.exec()

    def delete_episode(self) -> None:
        from PySide6.QtWidgets import QMessageBox  # built when first used, not before the first paint

        episode = self.view.selected_episode()
        if episode is None or self.patient is None:
            return
        count = len(episode.imaging) + len(episode.symptoms) + len(episode.treatments)
        text = (f"Delete the {site_label(episode.site)} episode of {episode.symptom_onset.isoformat()}"
                + (f" and its {count} finding(s)" if count else "") + "?\n\nThe audit trail keeps a record of it, "
                "and Undo (Ctrl+Z) brings it back.")
        if QMessageBox.question(self, "Delete episode", text) != QMessageBox.StandardButton.Yes:
            return
        self._guarded(lambda: self._run(self._command(undo.DeleteEpisode, self.patient.id, episode)))

    def new_finding(self, kind: type) -> None:
        episode = self.view.selected_episode()
        if episode is None:
            return
        dialog_cls, kwargs = self._finding_dialog(kind, episode)
        dialog = dialog_cls(self, None, **kwargs,
                            save=lambda r: self._run(self._command(undo.AddFinding, episode.id, r)))
        if dialog.exec():
            self.view.select_finding(dialog.saved)

    def new_imaging_from_dicom(self, path: str) -> None:
        """A DICOM folder or file dropped on the patient view: New imaging study, filled from it."""
        from PySide6.QtWidgets import QMessageBox  # built when first used, not before the first paint

        episode = self.view.selected_episode()
        if episode is None:
            QMessageBox.information(self, "From DICOM", "Select the episode the study belongs to, then drop "
                                                        "the DICOM folder again.")
            return
        dialog_cls, kwargs = self._finding_dialog(ImagingStudy, episode)
        dialog = dialog_cls(self, None, **kwargs,
                            save=lambda r: self._run(self._command(undo.AddFinding, episode.id, r)))
        if dialog.load_dicom(path) and dialog.exec():
            self.view.select_finding(dialog.saved)

    def edit_finding(self, record=None) -> None:
        record = record or self.view.selected_finding()
        episode = self.view.selected_episode()
        if record is None or episode is None:
            return
        dialog_cls, kwargs = self._finding_dialog(type(record), episode)
        before = copy.deepcopy(record)
        dialog = dialog_cls(self, copy.deepcopy(record), **kwargs,
                            save=lambda r: self._run(self._command(undo.EditRecord, before, r)),
                            reload=lambda: self._reload(type(record), before.id))
        if dialog.exec():
            self.view.select_finding(dialog.saved)

    def delete_finding(self) -> None:
        from PySide6.QtWidgets import QMessageBox  # built when first used, not before the first paint

        record = self.view.selected_finding()
        episode = self.view.selected_episode()
        if record is None or episode is None:
            return
        noun = undo.finding_noun(record)
        text = f"Delete this {noun} of {record_date(record).isoformat()}?\n\nUndo (Ctrl+Z) brings it back."
        if QMessageBox.question(self, f"Delete {noun}", text) != QMessageBox.StandardButton.Yes:
            return
        self._guarded(lambda: self._run(self._command(undo.DeleteFinding, episode.id, record)))

    def edit_record(self, record) -> None:
        """Double-click on a row: edit what it shows."""
        if isinstance(record, Episode):
            self.edit_episode(record)
        elif record is not None:
            self.edit_finding(record)

    def _finding_dialog(self, kind: type, episode: Episode):
        from .imaging_dialog import ImagingDialog
        from .symptom_dialog import SymptomDialog
        from .treatment_dialog import TreatmentDialog

        today = self._dialog_today()
        if kind is ImagingStudy:
            recorded = frozenset(s.study_instance_uid for e in self.patient.episodes for s in e.imaging
                                 if s.study_instance_uid) if self.patient is not None else frozenset()
            return ImagingDialog, {"onset": episode.symptom_onset, "site": episode.site, "today": today,
                                   "mrn": self.patient.mrn if self.patient is not None else None,
                                   "recorded_uids": recorded}
        if kind is SymptomRecord:
            return SymptomDialog, {"onset": episode.symptom_onset, "site": episode.site, "today": today}
        return TreatmentDialog, {"onset": episode.symptom_onset, "today": today}

    def _reload(self, kind: type, record_id: int):
        """The record as stored now (for a dialog's Reload after a conflict), or None if it is gone."""
        try:
            if kind is Patient:
                return self.store.patient(record_id)
            patient = self.store.patient(self.patient.id)
        except NotFound:
            return None
        episodes = patient.episodes
        if kind is Episode:
            return next((e for e in episodes if e.id == record_id), None)
        attribute = {ImagingStudy: "imaging", SymptomRecord: "symptoms", Treatment: "treatments"}[kind]
        return next((r for e in episodes for r in getattr(e, attribute) if r.id == record_id), None)

    def _guarded(self, action: Callable[[], object]) -> None:
        try:
            action()
        except (StoreError, ValidationError) as exc:
            self.show_error(exc)

    def show_error(self, exc: Exception) -> None:
        """Explain a failed action; offer to reload after a conflict."""
        from PySide6.QtWidgets import QMessageBox  # built when first used, not before the first paint

        if isinstance(exc, ConflictError):
            answer = QMessageBox.warning(
                self, "Changed elsewhere",
                f"{exc}\n\nNothing was saved. Reload to see the current record?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
            if answer == QMessageBox.StandardButton.Yes:
                self.refresh()
            return
        from .connect_dialog import is_server_away

        if is_server_away(exc):  # no reload: the server is not there to reload from; the banner says the rest
            self.server_away(exc)
            QMessageBox.warning(self, "Not saved", "The clinic server cannot be reached, so nothing was saved. "
                                "TOHtrack reconnects by itself: try again when the red banner is gone.")
            return
        QMessageBox.warning(self, "Not saved", f"{exc}\n\nNothing was saved.")
        self.reload_views()

    def show_audit(self) -> None:
        from .audit_view import AuditDialog

        if self.patient is None:
            return
        AuditDialog(self, list(self.store.audit_entries(self.patient.id)), self.patient).exec()


def record_date(record) -> dt.date:
    return record.start if isinstance(record, Treatment) else record.date

