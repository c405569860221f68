"""The patient view: header, flags banner, episodes, the timeline plots, and the selected episode's findings."""

from __future__ import annotations


from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QListWidgetItem, QTableWidget, QTableWidgetItem, QWidget

from .. import course, wording
from ..model import Episode, ImagingStudy, Patient, SymptomRecord, Treatment, site_label
from .forms.ui_patient_view import Ui_PatientView
from .timeline import TimelinePanel

RECORD_ROLE = Qt.ItemDataRole.UserRole
#: Severity colours: text on a light tint, readable in light and dark themes and in grey print.
SEVERITY_COLOURS = {"warning": ("#7a3e00", "#fff1d6"), "info": ("#0b4a7a", "#e3f0fb")}

EPISODE_COLUMNS = ("Site", "Onset", "Status", "Months", "Resolved", "Diagnosis", "Expected resolution",
                   "Next review")
IMAGING_COLUMNS = ("Date", "Modality", "Edema", "Regions", "Findings", "Accession")
SYMPTOM_COLUMNS = ("Date", "Pain (NRS)", "Function", "Weight bearing", "Note")
TREATMENT_COLUMNS = ("Start", "End", "Treatment", "Detail")


def _item(text: str, record=None, align_right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setData(RECORD_ROLE, record)
    item.setToolTip(text if len(text) > 30 else "")
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _months(e: course.EpisodeAssessment) -> float:
    """Months since onset while active; the course's length once resolved."""
    return course.months_since_onset(e.symptom_onset, e.resolved_on) if e.resolved_on else e.months_since_onset


def _setup_table(table: QTableWidget, columns: tuple[str, ...]) -> None:
    table.setColumnCount(len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setWordWrap(False)


def _dropped_path(mime) -> str | None:
    """The one local file or folder being dragged, or None."""
    urls = mime.urls() if mime is not None and mime.hasUrls() else []
    return urls[0].toLocalFile() if len(urls) == 1 and urls[0].isLocalFile() else None


class PatientView(QWidget):
    """Shows one patient as assessed at an as-of date; emits what the user picks."""

    episode_changed = Signal(object)   # the selected Episode, or None
    edit_requested = Signal(object)    # a record to edit (Episode, ImagingStudy, SymptomRecord, Treatment)
    dicom_dropped = Signal(str)        # a DICOM folder, DICOMDIR, zip or file dropped on the view

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.ui = Ui_PatientView()
        self.ui.setupUi(self)
        self.setAcceptDrops(True)
        self.patient: Patient | None = None
        self.assessment: course.PatientAssessment | None = None
        for table, columns in ((self.ui.episodes_table, EPISODE_COLUMNS), (self.ui.imaging_table, IMAGING_COLUMNS),
                               (self.ui.symptoms_table, SYMPTOM_COLUMNS),
                               (self.ui.treatments_table, TREATMENT_COLUMNS)):
            _setup_table(table, columns)
            table.itemDoubleClicked.connect(lambda item: self.edit_requested.emit(item.data(RECORD_ROLE)))
        self.ui.episodes_table.horizontalHeaderItem(3).setToolTip(
            "Months since onset while active; months from onset to resolution once resolved")
        title_font = QFont(self.ui.name_label.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.5)
        title_font.setBold(True)
        self.ui.name_label.setFont(title_font)
        self.ui.name_label.setObjectName("name_label")
        self.ui.episodes_table.itemSelectionChanged.connect(self._episode_selection_changed)
        self.ui.flags_list.itemClicked.connect(self._flag_clicked)
        self.ui.flags_list.itemActivated.connect(self._flag_clicked)
        # The timeline: the selected episode's course or the history lanes (the course_label's sentence
        # becomes the course button's tooltip: the plot needs the label's line).
        self.timeline = TimelinePanel(self.ui.timeline_area)
        self.ui.timeline_layout.setContentsMargins(2, 2, 2, 2)
        self.ui.timeline_layout.addWidget(self.timeline)
        self.ui.course_label.hide()
        self.timeline.record_clicked.connect(self._plot_record_clicked)
        self.timeline.episode_clicked.connect(lambda episode: self.select_episode(episode.id))
        self.ui.view_splitter.setStretchFactor(0, 2)
        self.ui.view_splitter.setStretchFactor(1, 4)
        self.ui.view_splitter.setStretchFactor(2, 3)

    # -- filling -------------------------------------------------------------------

    def show_patient(self, patient: Patient, assessment: course.PatientAssessment,
                     keep_episode_id: int | None = None) -> None:
        """Show a patient; keeps the selected episode (by id) when it is still there."""
        self.patient, self.assessment = patient, assessment
        as_of = assessment.as_of
        self.ui.name_label.setText(f"{patient.family_name.upper()}, {patient.given_name}")
        self.ui.details_label.setText(wording.patient_line(patient, as_of))
        self.ui.pattern_label.setText(self._pattern_html(assessment))
        self._fill_flags(assessment)
        self._fill_episodes(assessment, keep_episode_id)

    def _pattern_html(self, a: course.PatientAssessment) -> str:
        pattern = wording.pattern_text(a.pattern)
        parts = [f"<b>{pattern[:1].upper() + pattern[1:]}</b>"]
        if a.overdue:
            missed = a.missed_review
            parts.append(f"review of {wording.date_text(missed)} missed" if missed else "review overdue")
        elif a.due:
            parts.append(f"review due {wording.date_text(a.next_review)}")
        elif a.next_review:
            parts.append(f"next review {wording.date_text(a.next_review)}")
        parts.append(f"as of {wording.date_text(a.as_of)}")
        return "<br>".join(parts)

    def _fill_flags(self, a: course.PatientAssessment) -> None:
        flags = self.ui.flags_list
        flags.clear()
        ordered = sorted(a.flags, key=lambda f: (f.severity != "warning", list(course.FLAG_CODES).index(f.code)))
        for flag in ordered:
            mark = "⚠" if flag.severity == "warning" else "ℹ"
            item = QListWidgetItem(f"{mark}  {flag.message}")
            item.setData(RECORD_ROLE, flag)
            foreground, background = SEVERITY_COLOURS[flag.severity]
            item.setForeground(QBrush(QColor(foreground)))
            item.setBackground(QBrush(QColor(background)))
            item.setToolTip(f"{flag.code} ({flag.severity}) — click to show the "
                            + ("finding" if flag.finding is not None else "episode"))
            flags.addItem(item)
        if not ordered:
            item = QListWidgetItem("No flags: the course is as expected.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            flags.addItem(item)
        rows = max(1, min(len(ordered), 5))
        height = flags.sizeHintForRow(0) * rows + 2 * flags.frameWidth() + 4
        flags.setFixedHeight(height)

    def _fill_episodes(self, a: course.PatientAssessment, keep_episode_id: int | None) -> None:
        table = self.ui.episodes_table
        table.blockSignals(True)
        table.setRowCount(0)
        # Newest first: the episode a follow-up visit is about sits at the top.
        for e in reversed(a.episodes):
            row = table.rowCount()
            table.insertRow(row)
            status = e.status
            values = [
                site_label(e.site, capital=True), wording.date_text(e.symptom_onset), status,
                f"{_months(e):.1f}", wording.date_text(e.resolved_on),
                wording.diagnosis_text(e.diagnosis),
                " – ".join(wording.date_text(d) for d in e.expected_resolution) if e.expected_resolution else "—",
                wording.date_text(e.next_review) if e.next_review else "—",
            ]
            for column, text in enumerate(values):
                table.setItem(row, column, _item(text, e.episode, align_right=column == 3))
            if status == "active":
                for column in range(len(values)):
                    font = table.item(row, column).font()
                    font.setBold(True)
                    table.item(row, column).setFont(font)
        table.blockSignals(False)
        self._fit_rows(table, len(a.episodes), least=2, most=5)
        target = 0
        if keep_episode_id is not None:
            target = next((r for r in range(table.rowCount())
                           if table.item(r, 0).data(RECORD_ROLE).id == keep_episode_id), 0)
        if table.rowCount():
            table.selectRow(target)
        self._episode_selection_changed()

    @staticmethod
    def _fit_rows(table: QTableWidget, rows: int, least: int, most: int) -> None:
        """Make a table tall enough for its rows (within bounds), so that no episode hides below a scroll."""
        shown = max(least, min(rows, most))
        row_height = table.verticalHeader().defaultSectionSize()
        height = table.horizontalHeader().sizeHint().height() + shown * row_height + 2 * table.frameWidth()
        scroll = table.horizontalScrollBar().sizeHint().height()
        table.setMinimumHeight(height + scroll)

    def _episode_selection_changed(self) -> None:
        episode = self.selected_episode()
        self._fill_findings(episode)
        self.ui.course_label.setText(self._course_text(episode))
        self._draw_timeline(episode)
        self.episode_changed.emit(episode)

    def _draw_timeline(self, episode: Episode | None) -> None:
        """Redraw the plots from the current assessment (after every edit, the main window shows the patient
        again, so a new record appears at once)."""
        if self.assessment is None:
            return
        self.timeline.show_assessment(self.assessment, episode)
        self.timeline.set_titles(f"Course of the selected episode. {self.ui.course_label.text()}",
                                 self._history_text(self.assessment))

    @staticmethod
    def _history_text(a: course.PatientAssessment) -> str:
        """The history button's tooltip: 'Every episode by joint site: 2 sites, 3 episodes'."""
        sites, episodes = len({e.site for e in a.episodes}), len(a.episodes)
        return (f"Every episode by joint site: {sites} site{'' if sites == 1 else 's'}, "
                f"{episodes} episode{'' if episodes == 1 else 's'}; recurrence and migration between lanes")

    def _plot_record_clicked(self, record) -> None:
        """A study, symptom record or treatment clicked in the course plot: select it in its table."""
        if isinstance(record, (ImagingStudy, SymptomRecord, Treatment)):
            self.select_finding(record)

    def _course_text(self, episode: Episode | None) -> str:
        if episode is None or self.assessment is None:
            return "No episode recorded yet. Add one with Ctrl+E."
        e = next(x for x in self.assessment.episodes if x.episode is episode)
        site = site_label(e.site, capital=True)
        if e.expected_resolution is None:
            return f"{site}: diagnosis revised to {wording.diagnosis_text(e.diagnosis)} — outside the TOH course rules."
        window = " – ".join(wording.date_text(d) for d in e.expected_resolution)
        if e.status == "resolved":
            return f"{site}: resolved on {wording.date_text(e.resolved_on)}; expected resolution was {window}."
        return (f"{site}: active, {e.months_since_onset:.1f} months since onset "
                f"({wording.date_text(e.symptom_onset)}); expected resolution {window}.")

    def _fill_findings(self, episode: Episode | None) -> None:
        imaging, symptoms, treatments = self.ui.imaging_table, self.ui.symptoms_table, self.ui.treatments_table
        for table in (imaging, symptoms, treatments):
            table.setRowCount(0)
        if episode is None:
            return
        for s in episode.imaging:
            self._append(imaging, s, [wording.date_text(s.date) + (f" {s.time}" if s.time else ""), s.modality,
                                      wording.extent_text(s), wording.regions_text(s.edema_regions),
                                      wording.findings_summary(s), s.accession])
        for r in episode.symptoms:
            function = (f"{r.function_score:g}" + (f" ({r.function_instrument})" if r.function_instrument else "")
                        if r.function_score is not None else "")
            self._append(symptoms, r, [wording.date_text(r.date),
                                       f"{r.pain_nrs:g}" if r.pain_nrs is not None else "", function,
                                       wording.WEIGHT_BEARING_WORDS.get(r.weight_bearing or "", ""), r.note])
        for t in episode.treatments:
            self._append(treatments, t, [wording.date_text(t.start), wording.date_text(t.end) if t.end else "ongoing",
                                         wording.treatment_text(t).split(" (")[0], t.detail])
        self.ui.findings_tabs.setTabText(0, f"Imaging ({len(episode.imaging)})")
        self.ui.findings_tabs.setTabText(1, f"Symptoms ({len(episode.symptoms)})")
        self.ui.findings_tabs.setTabText(2, f"Treatments ({len(episode.treatments)})")

    @staticmethod
    def _append(table: QTableWidget, record, values: list[str]) -> None:
        row = table.rowCount()
        table.insertRow(row)
        for column, text in enumerate(values):
            table.setItem(row, column, _item(text or "", record))

    # -- selection -----------------------------------------------------------------

    def selected_episode(self) -> Episode | None:
        rows = self.ui.episodes_table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.ui.episodes_table.item(rows[0].row(), 0).data(RECORD_ROLE)

    def _table_for(self, record) -> QTableWidget:
        return {ImagingStudy: self.ui.imaging_table, SymptomRecord: self.ui.symptoms_table,
                Treatment: self.ui.treatments_table}[type(record)]

    def current_table(self) -> QTableWidget:
        return (self.ui.imaging_table, self.ui.symptoms_table, self.ui.treatments_table)[
            self.ui.findings_tabs.currentIndex()]

    def selected_finding(self):
        table = self.current_table()
        rows = table.selectionModel().selectedRows()
        return table.item(rows[0].row(), 0).data(RECORD_ROLE) if rows else None

    def select_episode(self, episode_id: int | None) -> None:
        table = self.ui.episodes_table
        for row in range(table.rowCount()):
            if table.item(row, 0).data(RECORD_ROLE).id == episode_id:
                table.selectRow(row)
                return

    def select_finding(self, record) -> None:
        """Select a finding's row (by id) in its tab, showing that tab."""
        table = self._table_for(record)
        self.ui.findings_tabs.setCurrentWidget(table.parentWidget())
        for row in range(table.rowCount()):
            if table.item(row, 0).data(RECORD_ROLE).id == record.id:
                table.selectRow(row)
                table.scrollToItem(table.item(row, 0))
                return

    def _flag_clicked(self, item: QListWidgetItem) -> None:
        flag = item.data(RECORD_ROLE)
        if not isinstance(flag, course.Flag):
            return
        self.select_episode(flag.episode.id)
        if flag.finding is not None:
            self.select_finding(flag.finding)

    # -- drag and drop of a DICOM folder (New imaging study from DICOM) --------------------

    def dragEnterEvent(self, event) -> None:
        if self.patient is not None and _dropped_path(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        path = _dropped_path(event.mimeData()) if self.patient is not None else None
        if not path:
            event.ignore()
            return
        event.acceptProposedAction()
        self.dicom_dropped.emit(path)
