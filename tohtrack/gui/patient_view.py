"""The patient view: header, flags banner, episodes, the timeline plots, and the selected episode's findings.

The view is a function of what it is given and what the user picked: the patient and its assessment (the
database's state at the as-of date), the selected episode and finding, the timeline's Course / History and
Dates choice. Every `show_patient` rebuilds the header, the flags, the episodes, the findings and the plots
from nothing, and keeps the selection where it still exists: a view after browsing and editing equals the
view a fresh window would show.

The timeline (pyqtgraph, about half a second to import) is loaded after the window's first paint: until then
a placeholder stands in its place (`load_timeline`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QLabel, QListWidgetItem, QTableWidget,
                               QTableWidgetItem, QWidget)

from .. import course, wording
from ..model import Episode, ImagingStudy, Patient, SymptomRecord, Treatment, site_label
from . import resources
from .forms.ui_patient_view import Ui_PatientView

if TYPE_CHECKING:
    from .timeline import TimelinePanel

RECORD_ROLE = Qt.ItemDataRole.UserRole
#: Severity colours: text on a light tint, readable in light and dark themes and in grey print.
SEVERITY_COLOURS = {"warning": ("#7a3e00", "#fff1d6"), "info": ("#0b4a7a", "#e3f0fb")}

EPISODE_COLUMNS = ("Site", "Onset", "Status", "Months", "Resolved", "Diagnosis", "Expected resolution",
                   "Next review")
IMAGING_COLUMNS = ("Date", "Modality", "Edema", "Regions", "Findings", "Accession")
SYMPTOM_COLUMNS = ("Date", "Pain (NRS)", "Function", "Weight bearing", "Note")
TREATMENT_COLUMNS = ("Start", "End", "Treatment", "Detail")


#: Columns of free text that may be longer than their column: elided, the whole text in the tooltip.
FREE_TEXT = {"Regions", "Findings", "Note", "Detail", "Diagnosis"}
#: The column of each table that takes the width left (the others fit their contents; the episodes: the diagnosis).
STRETCH_COLUMN = {"episodes": EPISODE_COLUMNS.index("Diagnosis"),
                  "imaging": IMAGING_COLUMNS.index("Findings"), "symptoms": SYMPTOM_COLUMNS.index("Note"),
                  "treatments": TREATMENT_COLUMNS.index("Detail")}
#: The imaging table shows at least this many rows (a typical episode's studies, without scrolling).
FINDINGS_ROWS = 4
#: The shares of the view's height: episodes, timeline, findings.
SPLIT = (2, 4, 3)
#: The flags banner grows to this height in pixels (three one-line flags), in whole flags, then scrolls.
FLAGS_MAX_PX = 80


def _item(text: str, record=None, align_right: bool = False, tooltip: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setData(RECORD_ROLE, record)
    item.setToolTip(text if text and (tooltip or len(text) > 30) else "")
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _months(e: course.EpisodeAssessment) -> float:
    """Months since onset while active; the course's length once resolved."""
    return course.months_since_onset(e.symptom_onset, e.resolved_on) if e.resolved_on else e.months_since_onset


def _setup_table(table: QTableWidget, columns: tuple[str, ...], stretch: int | None = None) -> None:
    table.setColumnCount(len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if stretch is None:
        header.setStretchLastSection(True)
    else:  # the free text takes the width left, elided with its tooltip; the columns after it fit their contents
        header.setStretchLastSection(False)
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setWordWrap(False)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    resources.plain_table(table)


def _rows_height(table: QTableWidget, rows: int) -> int:
    """The height a table needs to show its header and `rows` rows (and a horizontal scroll bar)."""
    row_height = table.verticalHeader().defaultSectionSize()
    return (table.horizontalHeader().sizeHint().height() + rows * row_height + 2 * table.frameWidth()
            + table.horizontalScrollBar().sizeHint().height())


def share_out(total: int, least: list[int], factors: tuple[int, ...]) -> list[int]:
    """`total` pixels shared in proportion to `factors`, each part at least its `least`: the parts held at their
    minimum take it, the rest share what is left in proportion. Whole pixels, summing to `total` when it covers
    the minimums."""
    fixed: set[int] = set()
    while True:
        free = [i for i in range(len(factors)) if i not in fixed]
        left = total - sum(least[i] for i in fixed)
        weight = sum(factors[i] for i in free)
        if not free or weight <= 0:
            return list(least)
        sizes = {i: left * factors[i] / weight for i in free}
        short = [i for i in free if sizes[i] < least[i]]
        if not short:
            break
        fixed.update(short)
    whole = {i: int(sizes[i]) for i in free}
    whole[free[-1]] += left - sum(whole.values())  # the rounding's remainder to the last part
    return [least[i] if i in fixed else whole[i] for i in range(len(factors))]


def finding_key(record) -> tuple[type, int] | None:
    """What identifies a finding across reloads (records are new objects after each)."""
    return None if record is None else (type(record), record.id)


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
        self._filling = False
        for table, columns, stretch in (
                (self.ui.episodes_table, EPISODE_COLUMNS, STRETCH_COLUMN["episodes"]),
                (self.ui.imaging_table, IMAGING_COLUMNS, STRETCH_COLUMN["imaging"]),
                (self.ui.symptoms_table, SYMPTOM_COLUMNS, STRETCH_COLUMN["symptoms"]),
                (self.ui.treatments_table, TREATMENT_COLUMNS, STRETCH_COLUMN["treatments"])):
            _setup_table(table, columns, stretch)
            table.itemDoubleClicked.connect(lambda item: self.edit_requested.emit(item.data(RECORD_ROLE)))
        for table in (self.ui.imaging_table, self.ui.symptoms_table, self.ui.treatments_table):
            table.setMinimumHeight(_rows_height(table, FINDINGS_ROWS))
            table.itemSelectionChanged.connect(lambda table=table: self._one_finding_selected(table))
        self.ui.episodes_table.horizontalHeaderItem(3).setToolTip(
            "Months since onset while active; months from onset to resolution once resolved")
        resources.style(self.ui.header, self.ui.flags_list)
        title_font = QFont(self.ui.episodes_title.font())
        title_font.setBold(True)
        self.ui.episodes_title.setFont(title_font)
        self.ui.episodes_table.itemSelectionChanged.connect(self._episode_selection_changed)
        self.ui.findings_tabs.currentChanged.connect(self._findings_tab_changed)
        self.ui.flags_list.itemClicked.connect(self._flag_clicked)
        self.ui.flags_list.itemActivated.connect(self._flag_clicked)
        # A wrapped flag takes two lines: the banner is as tall as its first flags, in whole flags, at any width.
        self.ui.flags_list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerItem)
        self.ui.flags_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # flags wrap
        self.ui.flags_list.width_changed.connect(self._fit_flags)  # another width wraps the flags otherwise
        # The timeline: the selected episode's course or the history lanes (the course_label's sentence
        # becomes the course button's tooltip: the plot needs the label's line). A placeholder until loaded.
        self._timeline: TimelinePanel | None = None
        self._timeline_pending = False
        self._placeholder = QLabel("Loading the timeline…", self.ui.timeline_area)
        self._placeholder.setObjectName("timeline_placeholder")
        self._placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._placeholder.setMinimumHeight(80)
        self.ui.timeline_layout.setContentsMargins(2, 2, 2, 2)
        self.ui.timeline_layout.addWidget(self._placeholder)
        self.ui.course_label.hide()
        for index, factor in enumerate(SPLIT):
            self.ui.view_splitter.setStretchFactor(index, factor)
        # Until the user drags the splitter, its parts are shared out afresh for each patient shown: a view reached
        # by browsing has the proportions of one opened afresh (a taller episodes table for one patient does not
        # leave the plot short for the next).
        self._user_split = False
        self.ui.view_splitter.splitterMoved.connect(lambda *_: setattr(self, "_user_split", True))
        self.ui.view_splitter.installEventFilter(self)

    # -- the timeline, loaded after the first paint ---------------------------------

    @property
    def timeline(self) -> TimelinePanel:
        """The course plot and history lanes (loaded on first use)."""
        return self.load_timeline()

    def timeline_loaded(self) -> bool:
        return self._timeline is not None

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().paintEvent(event)
        self.load_timeline_soon()

    def load_timeline_soon(self) -> None:
        """Load the timeline once the event loop has shown what is painted now (the first paint of the window or
        of this view, whichever comes first)."""
        if self._timeline is None and not self._timeline_pending:
            self._timeline_pending = True
            QTimer.singleShot(0, self.load_timeline)

    def load_timeline(self) -> TimelinePanel:
        """Import the plotting library, put the timeline in the placeholder's place and draw the patient shown."""
        if self._timeline is None:
            from .timeline import TimelinePanel

            panel = TimelinePanel(self.ui.timeline_area)
            panel.record_clicked.connect(self._plot_record_clicked)
            panel.episode_clicked.connect(lambda episode: self.select_episode(episode.id))
            self.ui.timeline_layout.replaceWidget(self._placeholder, panel)
            self._placeholder.deleteLater()
            self._timeline = panel
            self._draw_timeline(self.selected_episode())
        return self._timeline

    # -- filling -------------------------------------------------------------------

    def show_patient(self, patient: Patient, assessment: course.PatientAssessment,
                     keep_episode_id: int | None = None, keep_finding: tuple[type, int] | None = None) -> None:
        """Show a patient, everything built afresh; keeps the selected episode (by id) and finding (by kind and
        id) when they are still there, else the newest episode and no finding."""
        self.patient, self.assessment = patient, assessment
        as_of = assessment.as_of
        self.ui.name_label.setText(f"{patient.family_name.upper()}, {patient.given_name}")
        self.ui.details_label.setText(wording.patient_line(patient, as_of))
        self.ui.pattern_label.setText(self._pattern_html(assessment))
        self._fill_flags(assessment)
        self._fill_episodes(assessment, keep_episode_id, keep_finding)

    def _share_out_split(self, again: bool = True) -> None:
        """Episodes, timeline and findings in the SPLIT proportions of the height there is (each at least its
        minimum), unless the user has set the splitter by hand; once now, and once more when the new minimum
        heights have reached the splitter (its layout requests are handled after this event). The splitter does
        it again whenever it is resized: the parts depend only on its height and the parts' minimums, so a view
        reached by browsing has the proportions of one opened afresh."""
        if again:
            QTimer.singleShot(0, lambda: self._share_out_split(again=False))
        splitter = self.ui.view_splitter
        if self._user_split or splitter.height() <= 0:
            return
        for index in range(splitter.count()):
            layout = splitter.widget(index).layout()
            if layout is not None:
                layout.activate()  # the minimum heights just set count now
        total = splitter.height() - splitter.handleWidth() * (splitter.count() - 1)
        least = [max(splitter.widget(i).minimumSizeHint().height(), splitter.widget(i).minimumHeight())
                 for i in range(splitter.count())]
        sizes = share_out(total, least, SPLIT)
        if sizes != splitter.sizes():
            splitter.setSizes(sizes)

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
            # Colours, not brushes: making a QBrush in Python has PySide6 build the QImage and QGradient classes
            # (their enums, 1.5 ms before the first paint) while it picks the constructor.
            item.setForeground(QColor(foreground))
            item.setBackground(QColor(background))
            item.setToolTip(f"{flag.message}\n{flag.code} ({flag.severity}) — click to show the "
                            + ("finding" if flag.finding is not None else "episode"))
            flags.addItem(item)
        if not ordered:
            item = QListWidgetItem("No flags: the course is as expected.")
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            flags.addItem(item)
        flags.scrollToTop()
        self._fit_flags()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.ui.view_splitter and event.type() == QEvent.Type.Resize:
            self._share_out_split(again=False)
        return super().eventFilter(watched, event)

    def _fit_flags(self) -> None:
        """The banner's height: its first flags, whole (wrapped ones too), up to FLAGS_MAX_PX; then it scrolls."""
        flags = self.ui.flags_list
        flags.doItemsLayout()
        # The frame and any margins around the viewport (the list never scrolls sideways: the viewport is as tall
        # as it can be; asked of the list, not of the viewport, which Python is never handed: see flags_list).
        frame = flags.height() - flags.maximumViewportSize().height()
        used, shown = 0, 0
        for row in range(flags.count()):
            height = flags.visualItemRect(flags.item(row)).height() + 2 * flags.spacing()
            if shown and used + height > FLAGS_MAX_PX:
                break
            used += height
            shown += 1
        if flags.height() != used + frame:
            flags.setFixedHeight(used + frame)

    def _fill_episodes(self, a: course.PatientAssessment, keep_episode_id: int | None,
                       keep_finding: tuple[type, int] | None = None) -> None:
        table = self.ui.episodes_table
        self._filling = True
        table.blockSignals(True)
        try:
            table.clearSelection()
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
                for column, text in enumerate(values):  # the diagnosis, elided in a narrow window, whole in its tooltip
                    table.setItem(row, column, _item(text, e.episode, align_right=column == 3,
                                                     tooltip=column == STRETCH_COLUMN["episodes"]))
                if status == "active":
                    for column in range(len(values)):
                        font = table.item(row, column).font()
                        font.setBold(True)
                        table.item(row, column).setFont(font)
            self._fit_rows(table, len(a.episodes), least=2, most=5)
            target = 0
            if keep_episode_id is not None:
                target = next((r for r in range(table.rowCount())
                               if table.item(r, 0).data(RECORD_ROLE).id == keep_episode_id), 0)
            if table.rowCount():
                table.selectRow(target)
        finally:
            table.blockSignals(False)
            self._filling = False
        self._episode_selection_changed(keep_finding)

    @staticmethod
    def _fit_rows(table: QTableWidget, rows: int, least: int, most: int) -> None:
        """Make a table tall enough for its rows (within bounds), so that no episode hides below a scroll."""
        table.setMinimumHeight(_rows_height(table, max(least, min(rows, most))))

    def _episode_selection_changed(self, keep_finding: tuple[type, int] | None = None) -> None:
        if self._filling:
            return
        episode = self.selected_episode()
        self._fill_findings(episode, keep_finding)
        self._share_out_split()  # before the plots are drawn: they are drawn at the size a fresh view gives them
        self.ui.course_label.setText(self._course_text(episode))
        self._draw_timeline(episode)
        self.episode_changed.emit(episode)

    def _draw_timeline(self, episode: Episode | None) -> None:
        """Redraw the plots from the current assessment (after every edit, the main window shows the patient
        again, so a new record appears at once)."""
        if self.assessment is None or self._timeline is None:
            return
        self._timeline.show_assessment(self.assessment, episode)
        self._timeline.set_titles(f"Course of the selected episode. {self.ui.course_label.text()}",
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

    def _fill_findings(self, episode: Episode | None, keep_finding: tuple[type, int] | None = None) -> None:
        imaging, symptoms, treatments = self.ui.imaging_table, self.ui.symptoms_table, self.ui.treatments_table
        for table in (imaging, symptoms, treatments):
            table.clearSelection()
            table.setRowCount(0)
        studies = episode.imaging if episode else []
        records = episode.symptoms if episode else []
        given = episode.treatments if episode else []
        for s in studies:
            self._append(imaging, s, [wording.date_text(s.date) + (f" {s.time}" if s.time else ""), s.modality,
                                      wording.extent_text(s), wording.regions_text(s.edema_regions),
                                      wording.findings_summary(s), s.accession])
        for r in records:
            function = (f"{r.function_score:g}" + (f" ({r.function_instrument})" if r.function_instrument else "")
                        if r.function_score is not None else "")
            self._append(symptoms, r, [wording.date_text(r.date),
                                       f"{r.pain_nrs:g}" if r.pain_nrs is not None else "", function,
                                       wording.WEIGHT_BEARING_WORDS.get(r.weight_bearing or "", ""), r.note])
        for t in given:
            self._append(treatments, t, [wording.date_text(t.start), wording.date_text(t.end) if t.end else "ongoing",
                                         wording.treatment_text(t).split(" (")[0], t.detail])
        self.ui.findings_tabs.setTabText(0, f"Imaging ({len(studies)})")
        self.ui.findings_tabs.setTabText(1, f"Symptoms ({len(records)})")
        self.ui.findings_tabs.setTabText(2, f"Treatments ({len(given)})")
        for table in (imaging, symptoms, treatments):
            table.scrollToTop()
        if keep_finding is not None:
            self._select_finding_row(*keep_finding, show_tab=False)

    @staticmethod
    def _append(table: QTableWidget, record, values: list[str]) -> None:
        row = table.rowCount()
        table.insertRow(row)
        for column, text in enumerate(values):
            name = table.horizontalHeaderItem(column).text()
            table.setItem(row, column, _item(text or "", record, tooltip=name in FREE_TEXT))

    # -- selection -----------------------------------------------------------------

    def selected_episode(self) -> Episode | None:
        rows = self.ui.episodes_table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.ui.episodes_table.item(rows[0].row(), 0).data(RECORD_ROLE)

    def _one_finding_selected(self, chosen: QTableWidget) -> None:
        """One finding is selected at a time: choosing one in a table clears the others' selection."""
        if not chosen.selectionModel().hasSelection():
            return
        for table in (self.ui.imaging_table, self.ui.symptoms_table, self.ui.treatments_table):
            if table is not chosen:
                table.clearSelection()

    def _findings_tab_changed(self, _index: int) -> None:
        """The selected finding is the one in the tab shown: a tab left behind keeps no selection (what Edit and
        Delete act on is always in sight, and a reload or a fresh window shows the same selection)."""
        current = self.current_table()
        for table in (self.ui.imaging_table, self.ui.symptoms_table, self.ui.treatments_table):
            if table is not current:
                table.clearSelection()

    def _table_for(self, record) -> QTableWidget:
        return self._table_of_kind(type(record))

    def _table_of_kind(self, kind: type) -> QTableWidget:
        return {ImagingStudy: self.ui.imaging_table, SymptomRecord: self.ui.symptoms_table,
                Treatment: self.ui.treatments_table}[kind]

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
        self._select_finding_row(type(record), record.id)

    def _select_finding_row(self, kind: type, record_id: int, show_tab: bool = True) -> None:
        table = self._table_of_kind(kind)
        if show_tab:
            self.ui.findings_tabs.setCurrentWidget(table.parentWidget())
        for row in range(table.rowCount()):
            if table.item(row, 0).data(RECORD_ROLE).id == record_id:
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
