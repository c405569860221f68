"""The desktop app: QApplication, the main window and its wiring, and --screenshot."""

from __future__ import annotations

import copy
import datetime as dt
import os
import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QBuffer, QByteArray, QDate, QIODevice, QSettings, QTimer, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QUndoStack
from PySide6.QtWidgets import (QAbstractItemView, QApplication, QFileDialog, QHeaderView, QLabel, QMainWindow,
                               QMessageBox, QWidget)

from .. import __version__, cohort, course, interchange, safety
from ..db import ConflictError, DatabaseDamaged, DatabaseTooNew, NotATohtrackDatabase, NotFound, Store, StoreError
from ..model import Episode, ImagingStudy, Patient, SymptomRecord, Treatment, ValidationError, site_label
from . import resources, undo
from .forms.ui_main_window import Ui_MainWindow
from .patient_view import PatientView

RECENT_LIMIT = 8


class MainWindow(QMainWindow):
    """The clinic's main window over one database."""

    def __init__(self, store: Store, settings: QSettings, as_of: dt.date | None = None,
                 first_run_prompt: bool = True, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.settings = settings
        self.fixed_as_of = as_of
        self.ui = Ui_MainWindow()
        self.ui.setupUi(self)
        self.view = PatientView(self.ui.patient_page)
        self.ui.patient_page_layout.addWidget(self.view)
        self.patient: Patient | None = None
        self.changed_this_session = False
        self._shut = False
        self.ids = undo.Ids()
        self.undo_stack = QUndoStack(self)
        self._data_version = self._read_marks()

        self._setup_edit_menu()
        self._setup_patient_list()
        self._setup_worklist()
        from .cohort_view import attach as attach_cohort_tab  # the Cohort tab and File → Export cohort report…

        self.cohort_view = attach_cohort_tab(self)
        self._connect_actions()
        self._update_actions()
        self._restore_state()
        self._update_title()
        self._setup_storage_notice()

        self._poll = QTimer(self)
        self._poll.setInterval(2000)
        self._poll.timeout.connect(self._check_external_changes)
        self._poll.start()
        if first_run_prompt and store.count_patients() == 0:
            QTimer.singleShot(0, self.offer_first_run)

    # -- setup -----------------------------------------------------------------------

    @property
    def as_of(self) -> dt.date:
        return self.fixed_as_of or dt.date.today()

    def _setup_edit_menu(self) -> None:
        undo_action = self.undo_stack.createUndoAction(self, "&Undo")
        undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        redo_action = self.undo_stack.createRedoAction(self, "&Redo")
        redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence.StandardKey.Redo])
        self.ui.menu_edit.addAction(undo_action)
        self.ui.menu_edit.addAction(redo_action)
        self.action_undo, self.action_redo = undo_action, redo_action

    def _setup_patient_list(self) -> None:
        from .models import PatientListModel

        self.list_model = PatientListModel(self.store, self)
        table = self.ui.patient_table
        # Show the model's own order (by name) rather than letting the view re-sort by its first column.
        table.setSortingEnabled(False)
        table.setModel(self.list_model)
        table.horizontalHeader().setSortIndicator(self.list_model.sort_column(), self.list_model.sort_order())
        table.setSortingEnabled(True)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        table.horizontalHeader().setSortIndicatorShown(True)
        table.selectionModel().currentRowChanged.connect(self._list_row_changed)
        table.activated.connect(lambda index: self._list_row_changed(index, None))
        self._columns_sized = False
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(120)
        self._search_timer.timeout.connect(self.run_search)
        self.ui.search_edit.textChanged.connect(lambda _: self._search_timer.start())
        self.ui.search_edit.returnPressed.connect(self._open_first_match)
        for box in (self.ui.filter_active, self.ui.filter_due, self.ui.filter_flagged, self.ui.filter_rmo,
                    self.ui.filter_archived):
            box.toggled.connect(self.run_search)
        self.run_search()

    def _setup_worklist(self) -> None:
        from .models import WorklistModel

        self.worklist_model = WorklistModel(self)
        table = self.ui.worklist_table
        table.setModel(self.worklist_model)
        # Sortable by a header click (the Reason column by clinical urgency); first in the worklist's own order.
        table.horizontalHeader().setSortIndicator(WorklistModel.STATE, Qt.SortOrder.AscendingOrder)
        table.setSortingEnabled(True)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # Columns fit the rows shown and those near them, not the first thousand of a long worklist (100 ms each time).
        table.horizontalHeader().setResizeContentsPrecision(200)
        table.horizontalHeader().setStretchLastSection(True)
        # Two-line rows (the review: state over date; the patient: name over MRN; the reason: the flag over its
        # episode), so that when, who and why fit the pane at its default width; a line too long for a narrower
        # pane or a larger font is elided, never wrapped out of sight (the tooltip has it all).
        table.setWordWrap(False)
        # The reason, last, takes the room the review and patient columns leave.
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        table.verticalHeader().setDefaultSectionSize(2 * table.fontMetrics().lineSpacing() + 8)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.doubleClicked.connect(self._open_from_worklist)
        table.activated.connect(self._open_from_worklist)
        self.ui.worklist_date.setMaximumDate(_qdate(safety.LATEST_AS_OF))  # the assessment's dates end there
        self.ui.worklist_date.setDate(_qdate(self.as_of))
        self.ui.worklist_date.dateChanged.connect(lambda _: self.refresh_worklist())
        self.ui.worklist_due_only.toggled.connect(lambda _: self.refresh_worklist())
        self.ui.left_tabs.currentChanged.connect(lambda _: self.refresh_worklist())
        self.refresh_worklist()

    def _connect_actions(self) -> None:
        ui = self.ui
        wiring: dict[QAction, Callable[[], object]] = {
            ui.action_open_database: self.open_database,
            ui.action_new_database: self.new_database,
            ui.action_import: self.import_file,
            ui.action_export: self.export_file,
            ui.action_backup: self.backup,
            ui.action_export_report: self.export_report,
            ui.action_export_report_deidentified: lambda: self.export_report(deidentify=True),
            ui.action_print: self.print_report,
            ui.action_quit: self.close,
            ui.action_new_patient: self.new_patient,
            ui.action_edit_patient: self.edit_patient,
            ui.action_archive_patient: self.archive_patient,
            ui.action_new_episode: self.new_episode,
            ui.action_edit_episode: self.edit_episode,
            ui.action_delete_episode: self.delete_episode,
            ui.action_new_imaging: lambda: self.new_finding(ImagingStudy),
            ui.action_new_symptom: lambda: self.new_finding(SymptomRecord),
            ui.action_new_treatment: lambda: self.new_finding(Treatment),
            ui.action_edit_finding: self.edit_finding,
            ui.action_delete_finding: self.delete_finding,
            ui.action_audit: self.show_audit,
            ui.action_find: self.focus_search,
            ui.action_worklist: self.toggle_worklist,
            ui.action_refresh: self.refresh,
            ui.action_about: self.about,
        }
        for action, slot in wiring.items():
            action.triggered.connect(lambda checked=False, slot=slot: slot())
        # Delete and Enter act on the findings tables only, never while typing in a field.
        ui.action_delete_finding.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.view.ui.findings_tabs.addAction(ui.action_delete_finding)
        self.view.edit_requested.connect(self.edit_record)
        self.view.dicom_dropped.connect(self.new_imaging_from_dicom)
        self._add_csv_export_actions()
        self.view.episode_changed.connect(lambda _: self._update_actions())
        self.undo_stack.indexChanged.connect(lambda _: self.data_changed())
        self._update_recent_menu()

    # -- state -----------------------------------------------------------------------

    def _restore_state(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        self.ui.left_tabs.setCurrentIndex(int(self.settings.value("window/left_tab", 0)))
        splitter = self.settings.value("window/splitter")
        if splitter is not None:
            self.ui.splitter.restoreState(splitter)
        else:
            self.ui.splitter.setSizes([400, 880])
        view_splitter = self.settings.value("window/view_splitter")
        if view_splitter is not None:
            self.view.ui.view_splitter.restoreState(view_splitter)
        else:
            self.view.ui.view_splitter.setSizes([100, 300, 100])
        self._remember_database()

    def save_state(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/splitter", self.ui.splitter.saveState())
        self.settings.setValue("window/left_tab", self.ui.left_tabs.currentIndex())
        self.settings.setValue("window/view_splitter", self.view.ui.view_splitter.saveState())
        if self.patient is not None:
            # The record's id, not its MRN: no patient data in the settings file (it is not the database's to hold).
            self.settings.setValue(f"last_patient/{self._db_key()}", f"id:{self.patient.id}")
        self.settings.sync()

    def restore_last_patient(self) -> None:
        key = f"last_patient/{self._db_key()}"
        value = str(self.settings.value(key) or "")
        if not value.startswith("id:") or not value[3:].isdigit():
            if value:  # an MRN kept by an earlier version: patient data, taken out of the settings file
                self.settings.remove(key)
            return
        try:
            self.open_patient(int(value[3:]))
        except NotFound:
            pass

    def _db_key(self) -> str:
        return str(self.store.path.resolve()).replace("/", "|").replace("\\", "|")

    def _remember_database(self) -> None:
        path = str(self.store.path.resolve())
        recent = [p for p in (self.settings.value("recent_databases") or []) if p != path]
        self.settings.setValue("recent_databases", [path] + recent[:RECENT_LIMIT - 1])

    def _update_recent_menu(self) -> None:
        menu = self.ui.menu_recent
        menu.clear()
        for path in self.settings.value("recent_databases") or []:
            action = menu.addAction(path)
            action.triggered.connect(lambda checked=False, p=path: self.switch_database(Path(p)))
        menu.setEnabled(bool(menu.actions()))

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if not hasattr(self, "_poll"):  # a window whose building failed (a damaged file): nothing to keep
            super().closeEvent(event)
            return
        self.save_state()
        self.backup_if_changed()
        self._poll.stop()
        if not self._shut:  # the undo stack outlives the database connection: stop it reaching the views
            self.undo_stack.indexChanged.disconnect()
            self._shut = True
        super().closeEvent(event)

    def backup_if_changed(self) -> None:
        """A session that changed something leaves an automatic backup (at most one a day, `backup_keep` kept)."""
        if not self.changed_this_session:
            return
        try:
            written = self.store.rotate_backups()
        except (StoreError, OSError) as exc:  # OSError: the backups folder cannot be made or written
            QMessageBox.warning(self, "Automatic backup failed", f"{exc}\n\nYour changes are saved in the database.")
            return
        self.changed_this_session = False
        if written is not None:
            self.statusBar().showMessage(f"Backup written to {written}", 5000)

    def _update_title(self) -> None:
        who = f" — {self.patient.family_name.upper()}, {self.patient.given_name}" if self.patient else ""
        self.setWindowTitle(f"TOHtrack{who} — {self.store.path.name}")

    def _setup_storage_notice(self) -> None:
        self.storage_notice: QLabel | None = None  # made when there is something to say (most databases: never)
        self._show_storage_notice()

    def _show_storage_notice(self) -> None:
        """A warning that stays in the status bar while the database is on a network share or read-only."""
        path = self.store.path
        notes = []
        warning = safety.network_share_warning(path)
        if warning:
            notes.append(("On a network share: keep the database on a local disk", warning))
        if self.store.readonly or not os.access(path, os.W_OK):
            notes.append(("Read-only: changes cannot be saved",
                          f"{path} is read-only here: you can look, but changes cannot be saved. "
                          "Ask for permission to write to the file and its folder."))
        clashes = self.store.mrn_key_clashes()  # MRNs that were distinct before the MRN rules, the same now
        if clashes:
            notes.append((f"{len(clashes)} MRN clash{'es' if len(clashes) > 1 else ''}: see the tooltip",
                          "\n".join(clashes)))
        if not notes and self.storage_notice is None:
            return
        if self.storage_notice is None:
            self.storage_notice = QLabel(self)
            self.storage_notice.setObjectName("storage_notice")
            self.storage_notice.setStyleSheet(STORAGE_NOTICE_STYLE)
            self.statusBar().addPermanentWidget(self.storage_notice)
        self.storage_notice.setText("  ·  ".join(short for short, _ in notes))
        self.storage_notice.setToolTip("\n\n".join(text for _, text in notes))
        self.storage_notice.setAccessibleDescription(self.storage_notice.toolTip())
        self.storage_notice.setVisible(bool(notes))
        if warning:
            self.statusBar().showMessage(warning, 20000)

    def _update_actions(self) -> None:
        ui = self.ui
        has_patient = self.patient is not None
        episode = self.view.selected_episode() if has_patient else None
        for action in (ui.action_edit_patient, ui.action_archive_patient, ui.action_new_episode, ui.action_audit,
                       ui.action_export_report, ui.action_export_report_deidentified, ui.action_print):
            action.setEnabled(has_patient)
        for action in (ui.action_edit_episode, ui.action_delete_episode, ui.action_new_imaging,
                       ui.action_new_symptom, ui.action_new_treatment, ui.action_edit_finding,
                       ui.action_delete_finding):
            action.setEnabled(episode is not None)
        if has_patient:
            ui.action_archive_patient.setText("Restore patient…" if self.patient.archived else "Archive patient…")

    # -- searching and opening ---------------------------------------------------------

    def current_filters(self):
        from ..registry import Filters

        ui = self.ui
        return Filters(active=ui.filter_active.isChecked(), rmo=ui.filter_rmo.isChecked(),
                       archived=ui.filter_archived.isChecked(), flagged=ui.filter_flagged.isChecked(),
                       due=ui.filter_due.isChecked())

    def run_search(self) -> None:
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            self.list_model.set_query(self.ui.search_edit.text(), self.current_filters(), self.as_of)
        finally:
            QGuiApplication.restoreOverrideCursor()
        if not self._columns_sized and self.list_model.rowCount():
            self.ui.patient_table.resizeColumnsToContents()  # once: later searches keep the user's widths
            self._columns_sized = True
        total = self.list_model.total()
        self.ui.count_label.setText(f"{total} patient" + ("" if total == 1 else "s"))
        if self.patient is not None:
            self._select_in_list(self.patient.id)

    def focus_search(self) -> None:
        self.ui.search_edit.setFocus()
        self.ui.search_edit.selectAll()

    def _open_first_match(self) -> None:
        self._search_timer.stop()
        self.run_search()
        if self.list_model.rowCount():
            self.ui.patient_table.selectRow(0)
            self.ui.patient_table.setFocus()

    def _list_row_changed(self, current, previous) -> None:
        if current is None or not current.isValid():
            return
        patient_id = self.list_model.patient_id(current.row())
        if self.patient is None or patient_id != self.patient.id:
            self.open_patient(patient_id)

    def _select_in_list(self, patient_id: int) -> None:
        row = self.list_model.row_of(patient_id)
        table = self.ui.patient_table
        if row is not None and row >= 0:
            table.blockSignals(True)
            table.selectionModel().blockSignals(True)
            table.selectRow(row)
            table.selectionModel().blockSignals(False)
            table.blockSignals(False)
            table.scrollTo(self.list_model.index(row, 0))

    def open_patient(self, patient_id: int, keep_episode_id: int | None = None) -> None:
        """Load, assess and show one patient."""
        patient = self.store.patient(patient_id)
        assessment = course.assess(patient, self.as_of, self.store.settings())
        self.patient = patient
        self.view.show_patient(patient, assessment, keep_episode_id)
        self.ui.patient_stack.setCurrentWidget(self.ui.patient_page)
        self._select_in_list(patient_id)
        self._update_title()
        self._update_actions()

    def _open_from_worklist(self, index) -> None:
        patient_id = self.worklist_model.data(index, Qt.ItemDataRole.UserRole)
        if patient_id is not None:
            self.open_patient(int(patient_id))

    # -- refreshing ----------------------------------------------------------------------

    def data_changed(self) -> None:
        """Something was written: re-query the list, the patient and the worklist."""
        self._data_version = self._read_marks()
        self.reload_views()

    def reload_views(self) -> None:
        self.list_model.refresh()
        if self.patient is not None:
            episode = self.view.selected_episode()
            try:
                self.open_patient(self.patient.id, episode.id if episode else None)
            except NotFound:
                self.patient = None
                self.ui.patient_stack.setCurrentWidget(self.ui.empty_page)
        self.refresh_worklist()
        self.cohort_view.mark_stale()
        self._update_actions()

    def refresh(self) -> None:
        """Reload everything from the database (F5)."""
        self.data_changed()
        self.statusBar().showMessage("Reloaded from the database", 3000)

    def refresh_worklist(self) -> None:
        """Re-query the worklist, if it is the tab shown (it assesses every active patient)."""
        if self.ui.left_tabs.currentWidget() is not self.ui.worklist_contents:
            return
        as_of = self.ui.worklist_date.date().toPython()
        entries = cohort.worklist(self.store, as_of, due_only=self.ui.worklist_due_only.isChecked())
        self.worklist_model.set_entries(entries)
        overdue = sum(1 for e in entries if e.overdue)
        self.ui.worklist_count.setText(f"{len(entries)} patient(s), {overdue} overdue")

    def _read_data_version(self) -> int:
        return self.store.conn.execute("PRAGMA data_version").fetchone()[0]

    def _read_marks(self) -> tuple[int, tuple]:
        """SQLite's count of others' commits, and where the audit trail ends: every change of a record or a
        setting adds to the trail, while another window keeping assessment summaries (a cache) does not."""
        end = self.store.conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        return self._read_data_version(), tuple(end or ())

    def _check_external_changes(self) -> None:
        """Another window or workstation changed records: show its changes."""
        try:
            if self._read_data_version() == self._data_version[0]:  # nobody committed: no need to look further
                return
            marks = self._read_marks()
        except Exception:  # noqa: BLE001 - the database went away; the next action will say so
            return
        changed = marks[1] != self._data_version[1]
        self._data_version = marks
        if changed:
            self.reload_views()
            self.statusBar().showMessage("Updated with changes from another window or workstation", 5000)

    def toggle_worklist(self) -> None:
        """Ctrl+R: switch between the review worklist and the patient list."""
        tabs = self.ui.left_tabs
        showing = tabs.currentWidget() is self.ui.worklist_contents
        tabs.setCurrentWidget(self.ui.patient_pane if showing else self.ui.worklist_contents)
        (self.ui.search_edit if showing else self.ui.worklist_table).setFocus()

    # -- changing records ------------------------------------------------------------------

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
        if isinstance(exc, ConflictError):
            answer = QMessageBox.warning(
                self, "Changed elsewhere",
                f"{exc}\n\nNothing was saved. Reload to see the current record?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
            if answer == QMessageBox.StandardButton.Yes:
                self.refresh()
            return
        QMessageBox.warning(self, "Not saved", f"{exc}\n\nNothing was saved.")
        self.reload_views()

    # -- audit -----------------------------------------------------------------------------

    def show_audit(self) -> None:
        from .audit_view import AuditDialog

        if self.patient is None:
            return
        AuditDialog(self, list(self.store.audit_entries(self.patient.id)), self.patient).exec()

    # -- files -----------------------------------------------------------------------------

    def offer_first_run(self) -> None:
        box = QMessageBox(self)
        box.setWindowTitle("An empty database")
        box.setText(f"{self.store.path} holds no patients yet.")
        box.setInformativeText("Load a demo cohort of 200 synthetic patients to try TOHtrack, "
                               "import a tohtrack/1 file, or start with an empty database.")
        demo_button = box.addButton("Load demo cohort", QMessageBox.ButtonRole.AcceptRole)
        import_button = box.addButton("Import file…", QMessageBox.ButtonRole.ActionRole)
        box.addButton("Start empty", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() is demo_button:
            self.load_demo()
        elif box.clickedButton() is import_button:
            self.import_file()

    def load_demo(self, count: int = 200) -> None:
        from .. import demo

        patients = list(demo.generate(count, taken=self.store.all_mrns()))
        self._guarded(lambda: self.store.add_patients(patients, validate=False))
        self.changed_this_session = True
        self.undo_stack.clear()
        self.data_changed()

    def import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import tohtrack/1 file", str(Path.home()),
                                              "TOHtrack files (*.json);;All files (*)")
        if not path:
            return
        try:
            patients = interchange.import_file(self.store, path)
        except ValidationError as exc:
            problems = [str(p) for p in exc.problems]
            shown = "\n".join(problems[:20]) + (f"\n… and {len(problems) - 20} more" if len(problems) > 20 else "")
            QMessageBox.warning(self, "Import refused",
                                f"{Path(path).name}: {len(problems)} problem(s); nothing was imported.\n\n{shown}")
            return
        except StoreError as exc:
            self.show_error(exc)
            return
        self.changed_this_session = True
        self.undo_stack.clear()
        self.data_changed()
        self.statusBar().showMessage(f"Imported {len(patients)} patient(s) from {Path(path).name}", 8000)

    def export_file(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export all patients", str(Path.home() / "tohtrack-export.json"),
                                              "TOHtrack files (*.json)")
        if not path:
            return
        try:
            interchange.write_export(self.store, path)  # streamed; never over the database (safety)
        except (OSError, StoreError) as exc:
            QMessageBox.warning(self, "Export failed", f"{exc}\n\nNothing was written.")
            return
        self.statusBar().showMessage(f"Exported to {path}", 8000)

    def _add_csv_export_actions(self) -> None:
        """File → Export CSV for analysis… (and de-identified), after Export…."""
        self.action_export_csv = QAction("Export CSV for analysis…", self)
        self.action_export_csv.setObjectName("action_export_csv")
        self.action_export_csv.setToolTip("One CSV per record type and datapackage.json, for R, pandas or a "
                                          "spreadsheet")
        self.action_export_csv_deidentified = QAction("Export de-identified CSV for analysis…", self)
        self.action_export_csv_deidentified.setObjectName("action_export_csv_deidentified")
        self.action_export_csv.triggered.connect(lambda: self.export_csv())
        self.action_export_csv_deidentified.triggered.connect(lambda: self.export_csv(deidentify=True))
        self.ui.menu_file.insertActions(self.ui.action_backup,
                                        [self.action_export_csv, self.action_export_csv_deidentified])

    def export_csv(self, deidentify: bool = False) -> None:
        from .. import tidy

        stamp = self.as_of.strftime("%Y%m%d")
        name = f"tohtrack-analysis{'-deidentified' if deidentify else ''}-{stamp}"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export de-identified CSV for analysis" if deidentify else "Export CSV for analysis",
            str(Path.home() / name), "A new folder (*)")
        if not path:
            return
        try:
            counts = tidy.export(self.store, path, self.as_of, deidentify)
        except ValidationError as exc:
            QMessageBox.warning(self, "Export refused", "\n".join(str(p) for p in exc.problems)
                                + "\n\nNothing was written.")
            return
        except (OSError, StoreError) as exc:
            QMessageBox.warning(self, "Export failed", f"{exc}\n\nNothing was written.")
            return
        self.statusBar().showMessage(f"CSV for analysis written to {path}: {counts['patients']} patients, "
                                     f"{counts['episodes']} episodes, {counts['imaging']} studies", 8000)

    def backup(self) -> None:
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
        path, _ = QFileDialog.getSaveFileName(self, "Back up the database",
                                              str(Path.home() / f"tohtrack-backup-{stamp}.sqlite3"),
                                              "SQLite databases (*.sqlite3)")
        if not path:
            return
        try:
            self.store.backup(path)
        except (StoreError, OSError) as exc:  # OSError: a folder that cannot be written
            QMessageBox.warning(self, "Backup failed", f"{exc}\n\nNo backup was written.")
            return
        self.statusBar().showMessage(f"Backup written to {path}", 8000)

    # -- reports ---------------------------------------------------------------------

    def _report(self, deidentify: bool = False):
        from .. import report

        return report.build(self.patient, self.as_of, self.store.settings(), deidentify=deidentify,
                            seal=self.store.audit_seal())

    def export_report(self, deidentify: bool = False) -> None:
        """Write the open patient's timeline report (or its de-identified variant) as a PDF file."""
        from .. import report as report_mod
        from . import pdf

        if self.patient is None:
            return
        report = self._report(deidentify)
        folder = Path(self.settings.value("report/folder", str(Path.home())) or Path.home())
        default = folder / report_mod.file_name(report, self.patient.mrn)
        title = "Export de-identified timeline" if deidentify else "Export timeline to PDF"
        path, _ = QFileDialog.getSaveFileName(self, title, str(default), "PDF files (*.pdf)")
        if not path:
            return
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            pages = pdf.write_pdf(report, path, database=self.store.path)
        except (StoreError, OSError) as exc:
            QMessageBox.warning(self, "Export failed", f"{exc}\n\nNothing was written.")
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.settings.setValue("report/folder", str(Path(path).parent))
        what = f"De-identified report {report.report_id}" if deidentify else "Timeline report"
        self.statusBar().showMessage(f"{what} written to {path} ({pages} page{'s' if pages != 1 else ''})", 8000)

    def print_report(self) -> None:
        """Print the open patient's timeline report through the system print dialog."""
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        from . import pdf

        if self.patient is None:
            return
        report = self._report()
        # At the screen's resolution: the plots' fonts and pens keep their proportions (as in the PDF).
        printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
        printer.setPageLayout(pdf.page_layout(report.paper_size))
        printer.setDocName(report.document_title)
        printer.setCreator(report.generator)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(f"Print timeline report — {self.patient.display_name}")
        if dialog.exec() != QPrintDialog.DialogCode.Accepted:
            return
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            pages = pdf.paint_report(printer, report)
        except StoreError as exc:
            QMessageBox.warning(self, "Printing failed", str(exc))
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.statusBar().showMessage(f"Sent {pages} page{'s' if pages != 1 else ''} to {printer.printerName() or 'the printer'}", 8000)

    def open_database(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open database", str(self.store.path.parent),
                                              "SQLite databases (*.sqlite3 *.db);;All files (*)")
        if path:
            self.switch_database(Path(path))

    def new_database(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "New database", str(self.store.path.parent / "clinic.sqlite3"),
                                              "SQLite databases (*.sqlite3)")
        if not path:
            return
        if Path(path).exists():
            QMessageBox.warning(self, "New database", f"{path} already exists; choose Open database for it.")
            return
        self.switch_database(Path(path))

    def switch_database(self, path: Path, error: StoreError | None = None) -> None:
        # open_store says why a file cannot be opened, and offers a backup or another file
        store = open_store(self, path, self.store.clinician, error=error)
        if store is None:
            return
        previous = self.store.path
        self.save_state()
        self.backup_if_changed()
        self.store.close()
        try:
            self._use_store(store)
        except sqlite3.DatabaseError as exc:  # it opened, but its first queries met damaged pages
            store.close()
            self._use_store(Store(previous, clinician=store.clinician))  # back to the one open a moment ago
            self.switch_database(store.path, DatabaseDamaged(f"{store.path}: the database file is damaged ({exc})"))

    def _use_store(self, store: Store) -> None:
        """Show another database in this window."""
        self.store = store
        self.patient = None
        self.undo_stack.clear()
        self.ids = undo.Ids()
        self.list_model.set_store(store)
        self.ui.patient_stack.setCurrentWidget(self.ui.empty_page)
        self.data_changed()  # the first queries: a damaged file fails here, before it is remembered
        self._remember_database()
        self._update_recent_menu()
        self._update_title()
        self._show_storage_notice()
        if store.count_patients() == 0:
            self.offer_first_run()

    def about(self) -> None:
        QMessageBox.about(self, "About TOHtrack",
                          f"<b>TOHtrack {__version__}</b><br>Follow-up of transient osteoporosis of the hip and "
                          "regional migratory osteoporosis.<br><br>Database: " + str(self.store.path))


def settle(app: QApplication, rounds: int = 5) -> None:
    """Let layouts finish: the plots re-lay out their legends after each resize, over a few event-loop turns
    (turns without pauses between them: the same picture, pixel for pixel, and 25 ms sooner)."""
    for _ in range(rounds + 1):
        app.processEvents()


def record_date(record) -> dt.date:
    return record.start if isinstance(record, Treatment) else record.date


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


# ---------------------------------------------------------------------------
# Application entry points
# ---------------------------------------------------------------------------


#: The status bar's warning about where the database is (network share, read-only): amber, readable on any palette.
STORAGE_NOTICE_STYLE = ("QLabel#storage_notice { background: #fff4e5; color: #6d3a00; border: 1px solid #e65100; "
                        "border-radius: 3px; padding: 1px 6px; }")
DATABASE_FILES = "SQLite databases (*.sqlite3 *.db);;All files (*)"


def open_problem(exc: StoreError, path: Path | None = None) -> tuple[str, bool, bool]:
    """Why a database could not be opened, in the user's words: (what happened, a backup may help, a retry may help)."""
    text = str(exc).removeprefix(f"{path}: ")  # the file's name says nothing of what happened
    if isinstance(exc, DatabaseTooNew):
        return ("This database was written by a newer version of TOHtrack. Update TOHtrack to open it; "
                "the file was not changed.", False, False)
    if isinstance(exc, NotATohtrackDatabase):
        return "This file is the database of another program, not a TOHtrack database. It was not changed.", True, False
    if isinstance(exc, DatabaseDamaged):
        return "This file is not a TOHtrack database, or it is damaged. It was not changed.", True, False
    if "busy" in text or "locked" in text:
        return "Another workstation or window kept the database busy for too long. Try again in a moment.", False, True
    if "read-only" in text or "readonly" in text or "Permission denied" in text or "may not" in text:
        return ("TOHtrack may not write to this database (it is read-only here). Ask for permission to write to the "
                "file and its folder, or open another file.", False, True)
    if "full" in text:
        return ("The disk is full: TOHtrack could not write to the database. Free some space, then try again.",
                False, True)
    return "TOHtrack could not open the database.", False, True


def _taken(backup: Path) -> str:
    return dt.datetime.fromtimestamp(backup.stat().st_mtime).strftime("%Y-%m-%d %H:%M")


def open_store(parent: QWidget | None, path: Path, clinician: str = "", cancel_text: str = "Cancel",
               error: StoreError | None = None) -> Store | None:
    """Open a database; when it cannot be opened, say what happened (no traceback) and offer what may help:
    its newest automatic backup that passes its check, trying again, or another file. None when the user gives up.
    `error`: it opened, but failed at once (damage beyond the header, found by the first queries).
    """
    path = Path(path)
    while True:
        if error is None:
            try:
                return Store(path, clinician=clinician)
            except StoreError as exc:
                error = exc
        error, found = None, error
        headline, restorable, retry = open_problem(found, path)
        backup = None
        if restorable and path.is_file():
            QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                backup = safety.newest_good_backup(path)
            finally:
                QGuiApplication.restoreOverrideCursor()
        details = str(found)
        if backup is not None:
            details += (f"\n\nThe newest automatic backup that passes its check is of {_taken(backup)}. Restoring it "
                        "moves this file into the backups folder (nothing is deleted); changes made after the backup "
                        "are not in it.")
        elif restorable:
            details += "\n\nThere is no automatic backup of this database that passes its check."
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Cannot open the database")
        box.setText(headline)
        box.setInformativeText(details)
        restore_button = (box.addButton(f"Restore backup of {_taken(backup)}", QMessageBox.ButtonRole.AcceptRole)
                          if backup is not None else None)
        retry_button = box.addButton("Try again", QMessageBox.ButtonRole.ActionRole) if retry else None
        other_button = box.addButton("Open another file…", QMessageBox.ButtonRole.ActionRole)
        cancel_button = box.addButton(cancel_text, QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(restore_button or retry_button or other_button)
        box.setEscapeButton(cancel_button)
        box.exec()
        clicked = box.clickedButton()
        if clicked is None or clicked is cancel_button:
            return None
        if clicked is restore_button:
            try:
                kept = safety.restore_unopenable(path, backup)
            except (StoreError, ValidationError, OSError) as exc:
                QMessageBox.warning(parent, "Restore failed", f"{exc}\n\n{path} was left as it was.")
                continue
            QMessageBox.information(parent, "Backup restored",
                                    f"{path} now holds the backup of {_taken(backup)}.\n\n"
                                    f"The file that could not be opened was kept as {kept}.")
        elif clicked is other_button:
            chosen, _ = QFileDialog.getOpenFileName(parent, "Open database", str(path.parent), DATABASE_FILES)
            if chosen:
                path = Path(chosen)


def report_unexpected(exc_type, exc, tb) -> None:
    """The app's last word on an error nothing else caught: a message box, never a traceback.

    Only the kind of error goes to stderr (a desktop session may keep stderr in a file): its text can hold
    patient data.
    """
    if issubclass(exc_type, KeyboardInterrupt):  # Ctrl+C in the terminal that started the app
        print("TOHtrack: interrupted", file=sys.stderr)
        QApplication.quit()
        return
    print(f"TOHtrack: unexpected error ({exc_type.__name__})", file=sys.stderr)
    QMessageBox.critical(QApplication.activeWindow(), "Unexpected error",
                         f"Something went wrong ({exc_type.__name__}: {exc}).\n\nWhat was saved before is in the "
                         "database; the last action may not have been completed. If it happens again, note what you "
                         "did and tell your administrator.")


def create_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName("TOHtrack")
    app.setOrganizationName("TOHtrack")
    app.setApplicationVersion(__version__)
    app.setStyle("Fusion")
    app.setStyleSheet(resources.stylesheet())
    # The app icon (rendered from resources/icons/tohtrack.svg by packaging/render_icons.py), and the desktop entry
    # whose icon Wayland docks and task bars show for this window (packaging/org.tohtrack.TOHtrack.desktop).
    from PySide6.QtGui import QIcon

    icon = QIcon()
    for png in sorted(resources.path("icons").glob("tohtrack-*.png")):
        icon.addFile(str(png))
    app.setWindowIcon(icon)
    app.setDesktopFileName("org.tohtrack.TOHtrack")
    return app


def run(db_path: Path, clinician: str = "") -> int:
    """Open the desktop app on a database; returns the exit code."""
    app = create_application()
    store = open_store(None, Path(db_path), clinician, cancel_text="Quit")
    if store is None:
        return 1
    previous_hook, sys.excepthook = sys.excepthook, report_unexpected
    try:
        while True:
            try:
                window = MainWindow(store, QSettings())
                break
            except sqlite3.DatabaseError as exc:  # opened, but the first queries met damaged pages
                failed = store.path
                store.close()
                damage = DatabaseDamaged(f"{failed}: the database file is damaged ({exc})")
                store = open_store(None, failed, clinician, cancel_text="Quit", error=damage)
                if store is None:
                    return 1
        window.show()
        window.restore_last_patient()
        code = app.exec()
        window.store.close()  # the database open at the end (File > Open may have changed it)
    finally:
        sys.excepthook = previous_hook
    return code


def screenshot(db_path: Path, out: Path, mrn: str | None = None, as_of: dt.date | None = None,
               size: tuple[int, int] = (1280, 800)) -> int:
    """Build the main window as a user would see it, with a patient open, and save it as PNG."""
    app = create_application()
    store = Store(db_path)
    with tempfile.TemporaryDirectory() as scratch:
        settings = QSettings(os.path.join(scratch, "screenshot.ini"), QSettings.Format.IniFormat)
        window = MainWindow(store, settings, as_of=as_of, first_run_prompt=False)
        window.resize(*size)
        window.show()
        try:
            if mrn:
                window.open_patient(store.patient_id(mrn))
            settle(app)
            data = QByteArray()
            buffer = QBuffer(data)
            buffer.open(QIODevice.OpenModeFlag.WriteOnly)
            if not window.grab().save(buffer, "PNG"):
                raise StoreError(f"{out}: could not write the screenshot")
            buffer.close()
            # It shows patient data: written like every output (readable by its owner only, all or nothing,
            # never over the database), see safety.atomic_output.
            safety.write_output(out, bytes(data.data()), db_path)
        finally:
            window.close()
            store.close()
    return 0
