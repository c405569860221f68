"""The main window: its parts and their wiring, the patient list, the review worklist and the patient view.

The menus' work lives in rooms of its own, mixed into the window: the database's lifecycle
(`database_actions`), record editing and undo (`editing`) and reports (`reports`). They share the window's
state (store, settings, open patient, undo stack, status bar), which is why they are mixins rather than
separate objects: each reads and changes that state directly, and tests and menus reach every action as a
method of the window.
"""

from __future__ import annotations

import datetime as dt
from typing import Callable

from PySide6.QtCore import QDate, QSettings, QTimer, Qt
from PySide6.QtGui import QAction, QGuiApplication, QUndoStack
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMainWindow, QWidget

from .. import __version__, course
from ..db import NotFound, Store, StoreError
from ..model import ImagingStudy, Patient, SymptomRecord, Treatment
from . import resources, undo
from .database_actions import DatabaseActions
from .editing import Editing
from .forms.ui_main_window import Ui_MainWindow
from .patient_view import PatientView, finding_key
from .reports import Reports

#: How many rows of the patient list (around those shown) its columns are sized to.
LIST_SIZING_ROWS = 40


class MainWindow(DatabaseActions, Editing, Reports, QMainWindow):
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
        resources.style(self.ui.search_edit, self.ui.toolbar)
        resources.plain_table(self.ui.patient_table)
        resources.plain_table(self.ui.worklist_table)
        self.patient: Patient | None = None
        self.changed_this_session = False
        self._shut = False
        self._painted = False  # the window's first paint is out (see _after_first_paint)
        self._worklist_pending = False
        self.ids = undo.Ids()
        self.undo_stack = QUndoStack(self)

        self._setup_edit_menu()
        self._setup_patient_list()
        self._setup_worklist()
        from .cohort_tab import attach as attach_cohort_tab  # the Cohort tab and File → Export cohort report…

        self.cohort_view = attach_cohort_tab(self)
        self._connect_actions()
        self._update_actions()
        self._restore_state()
        self._update_title()
        # Where the database is (network share, read-only) and its audit anchor are checked once the window has
        # painted (`_after_first_paint`); until then nothing is said.
        self.storage_notice = None
        self.storage_checked = False
        self._start_polling()
        self._setup_database_place()
        if first_run_prompt and store.count_patients() == 0:
            QTimer.singleShot(0, self.offer_first_run)

    @property
    def as_of(self) -> dt.date:
        return self.fixed_as_of or dt.date.today()

    def _setup_patient_list(self) -> None:
        from .models import PatientListModel

        self.list_model = PatientListModel(self.store, self)
        table = self.ui.patient_table
        # Show the model's own order (by name) rather than letting the view re-sort by its first column.
        table.setSortingEnabled(False)
        table.setModel(self.list_model)
        table.horizontalHeader().setSortIndicator(self.list_model.sort_column(), self.list_model.sort_order())
        table.setSortingEnabled(True)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # The name takes the width the other columns leave (elided, its tooltip whole): no horizontal scrolling.
        header.setStretchLastSection(False)
        header.setSectionResizeMode(self.list_model.NAME, QHeaderView.ResizeMode.Stretch)
        header.setSortIndicatorShown(True)
        # Sized to the rows near those shown, not the first thousand (20 ms before the first paint).
        header.setResizeContentsPrecision(LIST_SIZING_ROWS)
        # Two-line rows (the birth date over age and sex, the active sites over the latest onset); a line too long
        # for the column is elided, never wrapped out of sight (the row's tooltip has it all).
        table.setWordWrap(False)
        table.setTextElideMode(Qt.TextElideMode.ElideRight)
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        table.verticalHeader().setDefaultSectionSize(2 * table.fontMetrics().lineSpacing() + 8)
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
        self.ui.worklist_date.setMaximumDate(_qdate(course.LATEST_AS_OF))  # the assessment's dates end there
        self.ui.worklist_date.setDate(_qdate(self.as_of))
        self.ui.worklist_date.dateChanged.connect(lambda _: self.refresh_worklist())
        self.ui.worklist_due_only.toggled.connect(lambda _: self.refresh_worklist())
        self.ui.left_tabs.currentChanged.connect(lambda _: self.refresh_worklist())
        # The count on a line of its own under the date: a longer count never widens the pane (the patient view
        # beside it keeps its width whichever tab is shown and whatever the count says).
        count = self.ui.worklist_count
        self.ui.worklist_bar.removeWidget(count)
        self.ui.worklist_layout.insertWidget(self.ui.worklist_layout.indexOf(self.ui.worklist_table), count)
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

    def _restore_state(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        self.ui.left_tabs.setCurrentIndex(int(self.settings.value("window/left_tab", 0)))
        splitter = self.settings.value("window/splitter")
        self._default_split = splitter is None or not self.ui.splitter.restoreState(splitter)
        if self._default_split:
            # Shared out when first shown (_share_out_panes): setting sizes now would lay out the whole window
            # once more before its first paint (3 ms).
            self.ui.splitter.splitterMoved.connect(lambda *_: setattr(self, "_default_split", False))
        view_splitter = self.settings.value("window/view_splitter")
        if view_splitter is not None:
            self.view.ui.view_splitter.restoreState(view_splitter)
        else:
            self.view.ui.view_splitter.setSizes([100, 300, 100])
        # The database joins the recent list once the window has painted: a setting changed now is written (and
        # flushed to disk) by the event loop before the first paint.

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

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        if not hasattr(self, "_poll"):  # a window whose building failed (a damaged file): nothing to keep
            super().closeEvent(event)
            return
        self.save_state()
        self.backup_if_changed()
        self._poll.stop()
        if getattr(self, "_change_notifier", None) is not None:
            self._change_notifier.setEnabled(False)
        if not self._shut:  # the undo stack outlives the database connection: stop it reaching the views
            self.undo_stack.indexChanged.disconnect()
            self._shut = True
        super().closeEvent(event)

    def _update_title(self) -> None:
        who = f" — {self.patient.family_name.upper()}, {self.patient.given_name}" if self.patient else ""
        self.setWindowTitle(f"TOHtrack{who} — {self._database_title()}")

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
        self._fit_list_columns()
        self._show_count()
        self._select_in_list(self.patient.id if self.patient else None)

    def _show_count(self) -> None:
        if not self._painted:  # counted once the window has painted (a whole count: 6 ms at 100 000 patients)
            self.ui.count_label.setText("\u00a0")  # a line's height meanwhile: the pane is not laid out again
            return
        total = self.list_model.total()
        self.ui.count_label.setText(f"{total} patient" + ("" if total == 1 else "s"))

    def _fit_list_columns(self) -> None:
        """Size the patient list's columns to their contents once it has rows (its style and fonts polished
        first): MRN and Born whole, Active to its header and dates (a longer list of sites is elided, the tooltip
        has it whole); the name takes the rest (stretched). Later searches keep the user's widths."""
        table = self.ui.patient_table
        if self._columns_sized or not self.list_model.rowCount():
            return
        table.ensurePolished()
        model, header = self.list_model, table.horizontalHeader()
        for column in (model.MRN, model.BORN, model.SITES):
            table.resizeColumnToContents(column)
            header.resizeSection(column, header.sectionSize(column) + 4)  # a little room: bold text, the grid
        metrics = table.fontMetrics()
        sites_cap = metrics.horizontalAdvance("R shoulder, L knee") + 12
        header.resizeSection(model.SITES, min(header.sectionSize(model.SITES), max(sites_cap, header.sectionSizeHint(
            model.SITES))))
        self._columns_sized = True

    def list_width(self) -> int:
        """The width the left pane needs for the patient list's columns with a name of about 18 characters."""
        table, model = self.ui.patient_table, self.list_model
        header = table.horizontalHeader()
        columns = sum(header.sectionSize(c) for c in range(model.columnCount()) if c != model.NAME)
        name = 18 * table.fontMetrics().averageCharWidth()
        frame = 2 * table.frameWidth() + table.verticalScrollBar().sizeHint().width()
        # Around the table: the tab widget's frame (its width less the shown page's: every tab's page gets the
        # same place, and a page not shown keeps an old one, so the table itself is not asked) and the pane's
        # margins; before the first layout, about so.
        margins = self.ui.patient_pane_layout.contentsMargins()
        page = self.ui.left_tabs.currentWidget()
        frame_of_tabs = self.ui.left_tabs.width() - page.width() if page is not None else 0
        if not 0 < frame_of_tabs < 60:
            frame_of_tabs = 8
        chrome = frame_of_tabs + margins.left() + margins.right()
        return columns + name + frame + chrome

    def _share_out_panes(self) -> None:
        """The first share of the window between the patient list and the patient view (until the user sets the
        splitter, or one was saved): the old share (400 of 1280), or more when the list's columns need it."""
        if not self._default_split:
            return
        self._default_split = False
        total = sum(self.ui.splitter.sizes())
        if total <= 0:
            return
        self._fit_list_columns()
        left = max(round(total * 400 / 1280), min(self.list_width(), total // 2))
        self.ui.splitter.setSizes([left, total - left])

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self._share_out_panes()
        if not self._painted and self.patient is not None:  # opened before the window showed (as the app starts):
            self._select_in_list(self.patient.id)  # its row scrolled into view now that the list has its size

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

    def _select_in_list(self, patient_id: int | None) -> None:
        """Mark the open patient in the patient list (no row marked when it is not listed)."""
        self._mark_row(self.ui.patient_table, self.list_model, patient_id)

    def _select_in_worklist(self, patient_id: int | None) -> None:
        """Mark the open patient in the worklist, as in the patient list."""
        self._mark_row(self.ui.worklist_table, self.worklist_model, patient_id)

    @staticmethod
    def _mark_row(table, model, patient_id: int | None) -> None:
        row = model.row_of(patient_id) if patient_id is not None else None
        table.blockSignals(True)
        table.selectionModel().blockSignals(True)
        try:
            if row is not None and row >= 0:
                table.selectRow(row)
            else:  # the current row too: a click on it opens its patient again
                table.selectionModel().clear()
        finally:
            table.selectionModel().blockSignals(False)
            table.blockSignals(False)
        if row is not None and row >= 0:
            table.scrollTo(model.index(row, 0))

    def open_patient(self, patient_id: int, keep_episode_id: int | None = None,
                     keep_finding: tuple[type, int] | None = None) -> None:
        """Load, assess and show one patient (every part of the view built afresh); the episode and finding to
        keep selected, when they are still there."""
        patient = self.store.patient(patient_id)
        assessment = course.assess(patient, self.as_of, self.store.settings())
        self.patient = patient
        self.view.show_patient(patient, assessment, keep_episode_id, keep_finding)
        self.ui.patient_stack.setCurrentWidget(self.ui.patient_page)
        self._select_in_list(patient_id)
        self._select_in_worklist(patient_id)
        self._update_title()
        self._update_actions()

    def set_as_of(self, day: dt.date | None) -> None:
        """Show everything as of another day (None: today, following the clock): the patient list's due
        filter, the worklist's date and the open patient's assessment."""
        self.fixed_as_of = day
        self.ui.worklist_date.blockSignals(True)
        self.ui.worklist_date.setDate(_qdate(self.as_of))
        self.ui.worklist_date.blockSignals(False)
        self.run_search()
        self.reload_views()

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self._after_first_paint)
        self.view.load_timeline_soon()  # the first paint is out: now the plotting library and the plots

    def _after_first_paint(self) -> None:
        """What the first paint does not need, once it is out: the database in the recent list (a settings write),
        the patient list's count, the storage notice (where the database is, whether its audit trail is what this
        workstation last saw; the audit witness's folder and hashing load here), and the review worklist when its
        tab was left open (it assesses every active patient)."""
        if self._shut or self.storage_checked:
            return
        self._remember_database()
        self._setup_storage_notice()
        self.storage_checked = True
        if self._worklist_pending:
            self._worklist_pending = False
            self.refresh_worklist()
        try:
            self._show_count()
        except StoreError:  # the server away or a damaged page: the change poll says so, and counts again later
            pass

    def _open_from_worklist(self, index) -> None:
        patient_id = self.worklist_model.data(index, Qt.ItemDataRole.UserRole)
        if patient_id is not None:
            self.open_patient(int(patient_id))

    def data_changed(self) -> None:
        """Something was written: re-query the list, the patient and the worklist."""
        self._data_version = self._read_marks()
        self.reload_views()
        if self.store.witness_problem != getattr(self, "_shown_witness_problem", None):
            self._show_storage_notice(reopened=False)  # the witness could not be moved on (or can again)

    def reload_views(self) -> None:
        """Query the list, the open patient and the worklist again: each built as a fresh window would build it,
        the selected patient, episode and finding kept where they still exist."""
        # Rows that leave the list move its current row: that is no user's choice of another patient.
        selection = self.ui.patient_table.selectionModel()
        selection.blockSignals(True)
        try:
            self.list_model.refresh()
        finally:
            selection.blockSignals(False)
        self._show_count()
        if self.patient is not None:
            episode = self.view.selected_episode()
            finding = finding_key(self.view.selected_finding())
            try:
                self.open_patient(self.patient.id, episode.id if episode else None, finding)
            except NotFound:
                self.patient = None
                self.ui.patient_stack.setCurrentWidget(self.ui.empty_page)
                self._update_title()
        self._select_in_list(self.patient.id if self.patient else None)
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
        if not self._painted:  # the tab restored open: the window paints first, then the worklist is queried
            self._worklist_pending = True
            self.ui.worklist_count.setText("Loading the review worklist…")
            return
        from .. import cohort  # the worklist's queries, loaded when it is first shown

        as_of = self.ui.worklist_date.date().toPython()
        entries = cohort.worklist(self.store, as_of, due_only=self.ui.worklist_due_only.isChecked())
        self.worklist_model.set_entries(entries)
        overdue = sum(1 for e in entries if e.overdue)
        self.ui.worklist_count.setText(f"{len(entries)} patient{'' if len(entries) == 1 else 's'}, {overdue} overdue")
        self._select_in_worklist(self.patient.id if self.patient else None)

    def toggle_worklist(self) -> None:
        """Ctrl+R: switch between the review worklist and the patient list."""
        tabs = self.ui.left_tabs
        showing = tabs.currentWidget() is self.ui.worklist_contents
        tabs.setCurrentWidget(self.ui.patient_pane if showing else self.ui.worklist_contents)
        (self.ui.search_edit if showing else self.ui.worklist_table).setFocus()

    def about(self) -> None:
        from PySide6.QtWidgets import QMessageBox  # built when first used, not before the first paint

        QMessageBox.about(self, "About TOHtrack",
                          f"<b>TOHtrack {__version__}</b><br>Follow-up of transient osteoporosis of the hip and "
                          "regional migratory osteoporosis.<br><br>Database: " + str(self.store.path))


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)

