"""The Cohort tab: the clinic's own figures (tohtrack.stats) beside the patient list and the worklist.

Kaplan–Meier step curves with their 95% band (time to resolution, with the expected window shaded as on the
patient timeline; second episode as cumulative incidence), censoring ticks and the number at risk beneath as
journals print it; the migration table; edema extent and pain by months since onset as box plots; the filters
on the side. Clicking a point of a curve lists the episodes (or patients) behind it; double-clicking one opens
the patient. The figures are worked out when the tab is shown, and again when records change while it is.

The plot builders (`build_survival`, `build_boxes`) draw into any pyqtgraph PlotItem: the cohort report
(gui/cohort_report.py) paints the same pictures on paper.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QDate, QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPen
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QDateEdit, QFormLayout, QFrame, QGraphicsPathItem,
                               QGridLayout, QHBoxLayout, QHeaderView, QLabel, QPushButton, QScrollArea, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from .. import course, stats
from ..model import JOINTS, SEXES, site_label
from .timeline import STYLE, Drawing, Style, style_axis
from .timeline.style import Z_BAND, Z_CURVE, Z_LABEL, Z_POINTS, Z_WINDOW

DAYS_PER_MONTH = 30.44
#: Months at which the number at risk is printed beneath a curve.
AT_RISK_MONTHS = (0, 3, 6, 9, 12, 18, 24)
CURVES = ("time_to_resolution", "second_episode")
AGE_BANDS = tuple(f"{low}-{low + 9}" for low in range(0, 100, 10))


def months(day: float) -> float:
    return day / DAYS_PER_MONTH


def _step(points: list[stats.CurvePoint], value: Callable[[stats.CurvePoint], float], start: float):
    """x, y of a right-continuous step function from day 0 at `start` through each point (in months)."""
    xs, ys = [0.0], [start]
    for p in points:
        x = months(p.day)
        xs += [x, x]
        ys += [ys[-1], value(p)]
    return xs, ys


def band_between(lower: tuple[list[float], list[float]], upper: tuple[list[float], list[float]],
                 brush: QBrush) -> QGraphicsPathItem:
    """The area between two step lines as one closed path (the upper line forward, the lower back): what
    pg.FillBetweenItem draws, made in one go from the arrays (FillBetweenItem makes two curve items, their paths
    and the fill again whenever either changes — a tenth of the Cohort tab's drawing at a hundred thousand)."""
    xs = np.concatenate((np.asarray(upper[0], dtype=float), np.asarray(lower[0], dtype=float)[::-1]))
    ys = np.concatenate((np.asarray(upper[1], dtype=float), np.asarray(lower[1], dtype=float)[::-1]))
    path = pg.arrayToQPath(xs, ys, connect="all")
    path.closeSubpath()
    item = QGraphicsPathItem(path)
    item.setBrush(brush)
    item.setPen(QPen(Qt.PenStyle.NoPen))
    return item


class CurveItems:
    """What build_survival drew (the tests and the click handler look at these)."""

    def __init__(self):
        self.curve: pg.PlotDataItem | None = None
        self.band: QGraphicsPathItem | None = None
        self.window: pg.LinearRegionItem | None = None
        self.ticks: pg.ScatterPlotItem | None = None
        self.points: pg.ScatterPlotItem | None = None


def build_survival(plot: pg.PlotItem, km: stats.KaplanMeier, style: Style = STYLE, incidence: bool = False,
                   window_months: tuple[int, int] | None = None, colour: str | None = None,
                   max_months: float | None = None, clickable: bool = False) -> CurveItems:
    """A Kaplan–Meier step curve with its 95% band (S, or 1 − S with `incidence`), censoring ticks, and the
    expected window shaded beneath (opaque, as on the patient timeline)."""
    items = CurveItems()
    colour = colour or style.extent
    drawing = Drawing.begin_plain(plot)  # a redraw starts from an empty plot: nothing of the last one survives
    vb = plot.getViewBox()
    vb.setBackgroundColor(QColor(style.background))
    for name in ("left", "bottom"):
        style_axis(plot.getAxis(name), style)
    plot.getAxis("bottom").setLabel("Months since onset" if not incidence else "Months since the first onset",
                                    **{"font-size": f"{style.label_pt}pt", "color": style.text})
    plot.getAxis("left").setLabel("Cumulative incidence (%)" if incidence else "Still unresolved (%)",
                                  **{"font-size": f"{style.label_pt}pt", "color": style.text})
    plot.getAxis("left").setTicks([[(v / 100, f"{v}") for v in range(0, 101, 25)]])
    last = months(km.points[-1].day) if km.points else 12.0
    right = max_months or max(12.0, min(last * 1.02, 60.0) if incidence else min(last * 1.02, 24.0))
    vb.setRange(xRange=(0, right), yRange=(0, 1.0), padding=0.02)
    if window_months is not None:
        items.window = pg.LinearRegionItem(window_months, movable=False, brush=QBrush(QColor(style.window_fill)),
                                           pen=style.pen(style.window_edge))
        items.window.setZValue(Z_WINDOW)
        drawing.add(items.window)
    if not km.points:
        hint = pg.TextItem("No episodes", color=style.text, anchor=(0.5, 0.5))
        hint.setPos(right / 2, 0.5)
        drawing.add(hint)
        drawing.finish()  # the new axes at their views' ranges now
        return items
    flip = (lambda v: 1.0 - v) if incidence else (lambda v: v)
    xs, ys = _step(list(km.points), lambda p: flip(p.survival), flip(1.0))
    lower = _step(list(km.points), lambda p: flip(p.upper if incidence else p.lower), flip(1.0))
    upper = _step(list(km.points), lambda p: flip(p.lower if incidence else p.upper), flip(1.0))
    fill = QColor(colour)
    fill.setAlpha(60)
    items.band = band_between(lower, upper, QBrush(fill))
    items.band.setZValue(Z_BAND)
    drawing.add(items.band, bounds=True)
    items.curve = pg.PlotDataItem(xs, ys, pen=style.pen(colour, 2.0))
    items.curve.setZValue(Z_CURVE)
    drawing.add(items.curve, bounds=True)
    censored = [p for p in km.points if p.censored]
    items.ticks = pg.ScatterPlotItem([months(p.day) for p in censored], [flip(p.survival) for p in censored],
                                     symbol="|", size=7 * style.pen_scale if style.pen_scale > 1 else 7,
                                     pen=style.pen(colour, 1.0), brush=None)
    items.ticks.setZValue(Z_POINTS)
    drawing.add(items.ticks, bounds=True)
    if not clickable:
        drawing.finish()  # the new axes at their views' ranges now
        return items
    # Invisible but clickable points at every event or censoring day: the rows behind them are listed.
    items.points = pg.ScatterPlotItem([months(p.day) for p in km.points], [flip(p.survival) for p in km.points],
                                      data=[p.day for p in km.points], size=9, pen=pg.mkPen(None),
                                      brush=QBrush(QColor(0, 0, 0, 0)), hoverable=True,
                                      hoverBrush=QBrush(QColor(colour)), tip=None)
    items.points.setZValue(Z_LABEL)
    drawing.add(items.points, bounds=True)
    drawing.finish()
    return items


def build_boxes(plot: pg.PlotItem, spreads: list[stats.Spread | None], style: Style = STYLE,
                label: str = "Edema extent (%)", top: float = 100.0) -> list[int]:
    """A box plot by month bin: the box from Q1 to Q3, the median as a line, whiskers to the range.
    Returns the indices of the bins drawn."""
    drawing = Drawing.begin_plain(plot)  # a redraw starts from an empty plot
    vb = plot.getViewBox()
    vb.setBackgroundColor(QColor(style.background))
    for name in ("left", "bottom"):
        style_axis(plot.getAxis(name), style)
    plot.getAxis("bottom").setTicks([[(i, name) for i, name in enumerate(stats.MONTH_BINS)]])
    plot.getAxis("bottom").setLabel("Months since onset", **{"font-size": f"{style.label_pt}pt", "color": style.text})
    plot.getAxis("left").setLabel(label, **{"font-size": f"{style.label_pt}pt", "color": style.text})
    vb.setRange(xRange=(-0.6, len(stats.MONTH_BINS) - 0.4), yRange=(0, top), padding=0.02)
    # Three items for all the bins (the boxes; the whiskers and their caps as one line of separate segments; the
    # medians on top as another): a handful of items draw and lay out much faster than a few dozen.
    drawn = [i for i, spread in enumerate(spreads) if spread is not None]
    if drawn:
        shown = [spreads[i] for i in drawn]
        boxes = pg.BarGraphItem(x=drawn, height=[max(s.q3 - s.q1, top * 0.004) for s in shown],
                                y0=[s.q1 for s in shown], width=0.5, brush=QBrush(QColor(style.window_fill)),
                                pen=style.pen(style.axis))
        drawing.add(boxes, bounds=True)
        xs: list[float] = []
        ys: list[float] = []
        for i, s in zip(drawn, shown):
            xs += [i, i, i, i, i - 0.1, i + 0.1, i - 0.1, i + 0.1]  # whiskers to the range, then their caps
            ys += [s.low, s.q1, s.q3, s.high, s.low, s.low, s.high, s.high]
        drawing.add(pg.PlotDataItem(xs, ys, connect="pairs", pen=style.pen(style.axis)), bounds=True)
        drawing.add(pg.PlotDataItem([x for i in drawn for x in (i - 0.25, i + 0.25)],
                                    [s.median for s in shown for _ in range(2)], connect="pairs",
                                    pen=style.pen(style.extent, 2.5)))
    drawing.finish()
    return drawn


class _Relay(QObject):
    """Carries the figures from the worker thread to the tab (a queued signal: received in the GUI thread)."""

    done = Signal(int, object)


class CohortView(QWidget):
    """The Cohort tab."""

    #: A patient to open (double-click in the list of episodes behind a point).
    open_patient = Signal(int)

    def __init__(self, store_of: Callable[[], object], as_of: Callable[[], dt.date], parent: QWidget | None = None):
        super().__init__(parent)
        self.store_of = store_of
        self.as_of_default = as_of
        self.figures: stats.CohortStats | None = None
        self.stale = True
        self.computations = 0  # how many times the figures were worked out (the tests count them)
        self.busy = False
        self._token = 0
        self._relay = _Relay(self)
        self._relay.done.connect(self._finished)
        self.setObjectName("cohort_view")

        outer = QHBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        side = QFrame(self)
        side.setObjectName("cohort_filters")
        form = QFormLayout(side)
        form.setContentsMargins(0, 0, 0, 0)
        self.as_of_edit = QDateEdit(self)
        self.as_of_edit.setCalendarPopup(True)
        self.as_of_edit.setDisplayFormat("yyyy-MM-dd")
        self.as_of_edit.setMaximumDate(_qdate(course.LATEST_AS_OF))
        self.as_of_edit.setDate(_qdate(as_of()))
        self.joint_box = QComboBox(self)
        self.joint_box.addItem("All joints", None)
        for joint in JOINTS:
            self.joint_box.addItem(joint.capitalize(), joint)
        self.sex_box = QComboBox(self)
        self.sex_box.addItem("Any", None)
        for sex in SEXES:
            self.sex_box.addItem(sex.capitalize(), sex)
        self.age_box = QComboBox(self)
        self.age_box.addItem("Any", None)
        for band in AGE_BANDS:
            self.age_box.addItem(band, band)
        self.from_check, self.from_edit = QCheckBox("From", self), QDateEdit(self)
        self.to_check, self.to_edit = QCheckBox("To", self), QDateEdit(self)
        for check, edit, day in ((self.from_check, self.from_edit, dt.date(as_of().year - 5, 1, 1)),
                                 (self.to_check, self.to_edit, as_of())):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setDate(_qdate(day))
            edit.setEnabled(False)
            check.toggled.connect(edit.setEnabled)
            check.toggled.connect(lambda _: self._filters_changed())
            edit.dateChanged.connect(lambda _: self._filters_changed())
        form.addRow("As of", self.as_of_edit)
        form.addRow("Joint", self.joint_box)
        form.addRow("Sex", self.sex_box)
        form.addRow("Age at first onset", self.age_box)
        form.addRow(QLabel("Onset between", self))
        form.addRow(self.from_check, self.from_edit)
        form.addRow(self.to_check, self.to_edit)
        self.export_button = QPushButton("Export cohort report…", self)
        form.addRow(self.export_button)
        self.filter_note = QLabel(self)
        self.filter_note.setWordWrap(True)
        self.filter_note.setObjectName("cohort_filter_note")
        form.addRow(self.filter_note)
        for box in (self.joint_box, self.sex_box, self.age_box):
            box.currentIndexChanged.connect(lambda _: self._filters_changed())
        self.as_of_edit.dateChanged.connect(lambda _: self._filters_changed())
        outer.addWidget(side, 0, Qt.AlignmentFlag.AlignTop)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget(scroll)
        column = QVBoxLayout(body)
        self.status = QLabel(body)
        self.status.setObjectName("cohort_status")
        column.addWidget(self.status)
        self.summary = QLabel(body)
        self.summary.setObjectName("cohort_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.summary)

        self.plots: dict[str, pg.PlotWidget] = {}
        self.items: dict[str, CurveItems] = {}
        self.at_risk: dict[str, QTableWidget] = {}
        for key, title in (("time_to_resolution", "Time to resolution"),
                           ("second_episode", "Second episode (any site)")):
            heading = QLabel(f"<b>{title}</b>", body)
            column.addWidget(heading)
            plot = pg.PlotWidget(body, background=STYLE.background)
            plot.setMinimumHeight(230)
            plot.setObjectName(f"cohort_{key}_plot")
            self.plots[key] = plot
            column.addWidget(plot)
            table = QTableWidget(1, len(AT_RISK_MONTHS), body)
            table.setObjectName(f"cohort_{key}_at_risk")
            table.setVerticalHeaderLabels(["At risk"])
            table.setHorizontalHeaderLabels([f"{m} mo" for m in AT_RISK_MONTHS])
            table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
            table.setFixedHeight(table.horizontalHeader().sizeHint().height() + table.rowHeight(0) + 4)
            self.at_risk[key] = table
            column.addWidget(table)

        column.addWidget(QLabel("<b>Episodes behind the point clicked</b> (double-click one to open the patient)",
                                body))
        self.behind = QTableWidget(0, 5, body)
        self.behind.setObjectName("cohort_behind")
        self.behind.setHorizontalHeaderLabels(["MRN", "Site", "Onset", "Day", "Outcome"])
        self.behind.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.behind.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.behind.horizontalHeader().setStretchLastSection(True)
        self.behind.setMinimumHeight(120)
        self.behind.itemActivated.connect(self._open_row)
        self.behind.itemDoubleClicked.connect(self._open_row)
        column.addWidget(self.behind)

        lower = QGridLayout()
        lower.addWidget(QLabel("<b>Migration</b> (from → to)", body), 0, 0)
        self.migration = QTableWidget(0, 3, body)
        self.migration.setObjectName("cohort_migration")
        self.migration.setHorizontalHeaderLabels(["From", "To", "Flags"])
        self.migration.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.migration.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.migration.setMinimumHeight(200)
        lower.addWidget(self.migration, 1, 0)
        lower.addWidget(QLabel("<b>Edema extent by months since onset</b>", body), 0, 1)
        self.boxes = pg.PlotWidget(body, background=STYLE.background)
        self.boxes.setObjectName("cohort_edema_plot")
        self.boxes.setMinimumHeight(200)
        lower.addWidget(self.boxes, 1, 1)
        lower.setColumnStretch(0, 2)
        lower.setColumnStretch(1, 3)
        column.addLayout(lower)
        scroll.setWidget(body)
        outer.addWidget(scroll, 1)

    # -- filters -------------------------------------------------------------------

    def filters(self) -> stats.Filters:
        return stats.Filters(
            joint=self.joint_box.currentData(), sex=self.sex_box.currentData(), age_band=self.age_box.currentData(),
            onset_from=self.from_edit.date().toPython() if self.from_check.isChecked() else None,
            onset_to=self.to_edit.date().toPython() if self.to_check.isChecked() else None)

    def as_of(self) -> dt.date:
        return self.as_of_edit.date().toPython()

    def _filters_changed(self) -> None:
        self.stale = True
        self.refresh_if_shown()

    # -- computing -----------------------------------------------------------------

    def mark_stale(self) -> None:
        """Records changed: work the figures out again now if the tab is shown, else when it next is."""
        self.stale = True
        self.refresh_if_shown()

    def refresh_if_shown(self) -> None:
        if self.isVisible() and self.stale:
            self.refresh()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.refresh_if_shown()

    def refresh(self) -> None:
        """Work the figures out again, in a thread of their own with its own read-only connection (a hundred
        thousand patients take seconds: the tab stays usable meanwhile and shows the figures when ready)."""
        problems = self.filters().problems()
        if problems:
            self.filter_note.setText("; ".join(message for _, message in problems))
            return
        self.filter_note.setText("")
        self._token += 1
        token, store, as_of, filters = self._token, self.store_of(), self.as_of(), self.filters()
        self.stale = False
        self.busy = True
        self.status.setText("Working out the figures…")
        relay = self._relay

        def work() -> None:
            try:
                with store.reopen(readonly=True) as reader:  # (a connection of this thread's own)
                    result = stats.compute(reader, as_of, filters, reader.settings(), pain=False)
            except Exception as exc:  # noqa: BLE001 - shown in the tab, never a traceback
                result = exc
            try:
                relay.done.emit(token, result)
            except RuntimeError:  # the window closed meanwhile
                pass

        threading.Thread(target=work, name="cohort-statistics", daemon=True).start()

    def _finished(self, token: int, result) -> None:
        if token != self._token:
            return  # a newer request is under way
        self.busy = False
        if isinstance(result, Exception):
            self.status.setText(f"The figures could not be worked out: {result}")
            return
        self.status.setText("")
        self.figures = result
        self.computations += 1
        self._show(result)
        self.refresh_if_shown()  # records or filters changed while it worked

    def _show(self, f: stats.CohortStats) -> None:
        km, second = f.time_to_resolution, f.second_episode
        resolved = ", ".join(f"{stats.percent(km.one_minus_at(d))} by {label}"
                             for d, label in zip(stats.RESOLVED_BY_DAYS, ("6", "8", "12 months")))
        incidence = ", ".join(f"{stats.percent(second.one_minus_at(d))} by {label}"
                              for d, label in zip(stats.INCIDENCE_BY_DAYS, ("1", "2", "5 years")))
        self.summary.setText(
            f"{f.patients} patients, {f.episodes} TOH episodes as of {f.as_of.isoformat()} "
            f"({stats.filters_text(f.filters)}).<br>"
            f"<b>Time to resolution</b>: median {stats.days_text(km.median)}, 95% CI {stats.ci_text(km.median_ci)}; "
            f"{resolved} ({km.events} resolved, {km.censored} censored).<br>"
            f"<b>Second episode</b> ({second.subjects} patients): {second.events} had one; cumulative incidence "
            f"{incidence}. RECURRENCE in {f.recurrence[1]} patients, MIGRATION in {f.migration[1]}.")
        for key in CURVES:
            km_ = getattr(f, key)
            self.items[key] = build_survival(
                self.plots[key].getPlotItem(), km_, incidence=key == "second_episode",
                window_months=f.window_months if key == "time_to_resolution" else None,
                colour=STYLE.extent if key == "time_to_resolution" else STYLE.migration, clickable=True)
            points = self.items[key].points
            if points is not None:
                points.sigClicked.connect(lambda item, spots, ev=None, key=key: self._clicked(key, spots))
            table = self.at_risk[key]
            for column, m in enumerate(AT_RISK_MONTHS):
                table.setItem(0, column, QTableWidgetItem(str(km_.at_risk_at(m * DAYS_PER_MONTH))))
        self.migration.setRowCount(len(f.migration_table))
        for row, (a, b, n) in enumerate(f.migration_table):
            for column, text in enumerate((site_label(a, True), site_label(b, True), str(n))):
                self.migration.setItem(row, column, QTableWidgetItem(text))
        build_boxes(self.boxes.getPlotItem(), f.extent_by_month)
        self.behind.setRowCount(0)

    # -- the rows behind a point ---------------------------------------------------

    def _clicked(self, key: str, spots) -> None:
        if len(spots):
            self.show_behind(key, int(spots[0].data()))

    def show_behind(self, key: str, day: int) -> None:
        """List the episodes (or patients) with an event or a censoring on this day of a curve."""
        if self.figures is None:
            return
        rows = self.figures.subjects_at(key, day)
        mrns = _mrns(self.store_of(), {s.patient_id for s in rows})
        self.behind.setRowCount(len(rows))
        outcome = ("resolved", "unresolved (censored)") if key == "time_to_resolution" else \
            ("second episode", "none yet (censored)")
        for row, s in enumerate(rows):
            values = (mrns.get(s.patient_id, "?"), site_label(s.site, True), s.onset.isoformat(), str(s.day),
                      f"{outcome[0] if s.event else outcome[1]} on {s.end.isoformat()}")
            for column, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, s.patient_id)
                self.behind.setItem(row, column, item)
        self.behind.resizeColumnsToContents()

    def _open_row(self, item: QTableWidgetItem) -> None:
        patient_id = item.data(Qt.ItemDataRole.UserRole)
        if patient_id is not None:
            self.open_patient.emit(int(patient_id))


def _mrns(store, ids: set[int]) -> dict[int, str]:
    from ..registry import patient_row

    found = {}
    for pid in ids:
        row = patient_row(store, pid)
        if row is not None:
            found[pid] = row.mrn
    return found


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)
