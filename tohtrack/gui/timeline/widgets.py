"""The timeline widgets: the course plot, the history lanes, and the panel that shows one of them."""

from __future__ import annotations

import dataclasses
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QHBoxLayout, QSizePolicy, QStackedWidget, QToolButton,
                               QVBoxLayout, QWidget)

from ... import plotdata
from ...plotdata import DATES, MONTHS, CourseData, HistoryData
from .course import CourseItems, build_course
from .drawing import Drawing, text_item
from .lanes import LaneItems, build_lanes
from .style import STYLE, Style



class _PlotWidget(pg.PlotWidget):
    """A static white plot (the picture that also goes on paper)."""

    def __init__(self, parent: QWidget | None = None, style: Style = STYLE):
        super().__init__(parent, background=style.background)
        self.style_ = style
        self.setAntialiasing(True)
        self.setMinimumHeight(80)
        self.getPlotItem().setMenuEnabled(False)

    def device_style(self) -> Style:
        """The style with line widths for this screen's pixels."""
        return dataclasses.replace(self.style_, pen_scale=self.devicePixelRatioF() or 1.0)

    def point_in_view(self, x: float, y: float, view: pg.ViewBox | None = None):
        """Where a data point appears in this widget's viewport (for tests and tools)."""
        view = view or self.getPlotItem().vb
        return self.mapFromScene(view.mapViewToScene(QPointF(x, y)))


class CoursePlot(_PlotWidget):
    """The course of the selected episode; emits the record of a clicked study, symptom record or treatment."""

    record_clicked = Signal(object)

    def __init__(self, parent: QWidget | None = None, style: Style = STYLE):
        super().__init__(parent, style)
        self.items: CourseItems | None = None

    def set_course(self, data: CourseData | None) -> None:
        """Draw a course (None: an empty plot with a hint)."""
        plot = self.getPlotItem()
        if data is None:
            drawing = Drawing.begin(plot, self.style_, MONTHS, values=True)
            for name in ("left", "bottom", "right"):
                plot.hideAxis(name)
            self.items = None
            hint = text_item(drawing, "No episode to show", self.style_, self.style_.label_pt, anchor=(0.5, 0.5),
                             fill=False)
            plot.vb.setRange(xRange=(0, 12), yRange=(0, 100), padding=0)
            hint.setPos(6, 50)
            drawing.finish()
            return
        self.items = build_course(plot, data, self.device_style(), self.record_clicked.emit)


class HistoryLanes(_PlotWidget):
    """The patient's history, one lane per joint site; emits the episode of a clicked bar."""

    episode_clicked = Signal(object)

    def __init__(self, parent: QWidget | None = None, style: Style = STYLE):
        super().__init__(parent, style)
        self.items: LaneItems | None = None

    def set_history(self, data: HistoryData, selected: Any = None) -> None:
        """Draw a history, the selected episode's bar outlined."""
        self.items = build_lanes(self.getPlotItem(), data, self.device_style(), self.episode_clicked.emit, selected)


class TimelinePanel(QWidget):
    """The course plot and the history lanes, one at a time, chosen in a narrow column of buttons at the left
    that also holds the months / calendar dates toggle (a column costs width, which the view has, rather than
    the height of a tab bar, which it has not)."""

    record_clicked = Signal(object)
    episode_clicked = Signal(object)

    def __init__(self, parent: QWidget | None = None, style: Style = STYLE):
        super().__init__(parent)
        self.setObjectName("timeline_panel")
        self.course = CoursePlot(self, style)
        self.course.setObjectName("course_plot")
        self.course.setAccessibleName("Course of the selected episode")
        self.lanes = HistoryLanes(self, style)
        self.lanes.setObjectName("history_lanes")
        self.lanes.setAccessibleName("History by joint site")
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.course)
        self.stack.addWidget(self.lanes)

        self.course_button = self._button("&Course", "Edema extent and pain against time for the selected episode")
        self.history_button = self._button("Hi&story", "Every episode by joint site: recurrence and migration "
                                                      "between lanes")
        self.course_button.setChecked(True)
        self.buttons = QButtonGroup(self)
        self.buttons.setExclusive(True)
        self.buttons.addButton(self.course_button, 0)
        self.buttons.addButton(self.history_button, 1)
        self.buttons.idToggled.connect(lambda index, on: on and self.stack.setCurrentIndex(index))
        self.dates_toggle = QCheckBox("Dates", self)
        self.dates_toggle.setObjectName("dates_toggle")
        self.dates_toggle.setToolTip("Show the course against calendar dates instead of months since onset")
        self.dates_toggle.toggled.connect(lambda _: self._draw_course())

        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(self.course_button)
        column.addWidget(self.history_button)
        column.addStretch(1)
        column.addWidget(self.dates_toggle)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(column)
        layout.addWidget(self.stack, 1)

        self.course.record_clicked.connect(self.record_clicked)
        self.lanes.episode_clicked.connect(self.episode_clicked)
        self._assessment = None
        self._episode = None
        self._settings = None

    def _button(self, text: str, tip: str) -> QToolButton:
        button = QToolButton(self)
        button.setText(text)
        button.setToolTip(tip)
        button.setCheckable(True)
        button.setAutoRaise(True)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        return button

    @property
    def axis(self) -> str:
        """The course plot's x axis: months since onset, or calendar dates when the toggle is on."""
        return DATES if self.dates_toggle.isChecked() else MONTHS

    def show_history(self, shown: bool = True) -> None:
        """Show the history lanes (or the course)."""
        (self.history_button if shown else self.course_button).setChecked(True)

    def set_titles(self, course: str, history: str) -> None:
        """The buttons' tooltips: what each plot shows for this patient."""
        self.course_button.setToolTip(course)
        self.history_button.setToolTip(history)

    def show_assessment(self, assessment, episode, settings=None) -> None:
        """Draw the history of an assessed patient and the course of one of its episodes (or none)."""
        self._assessment, self._episode, self._settings = assessment, episode, settings
        self.lanes.set_history(plotdata.history_data(assessment, settings), episode)
        self._draw_course()

    def _draw_course(self) -> None:
        known = self._assessment is not None and self._episode is not None and any(
            e.episode is self._episode for e in self._assessment.episodes)
        if not known:
            self.course.set_course(None)
            return
        self.course.set_course(plotdata.course_data(self._assessment, self._episode, self._settings, self.axis))
