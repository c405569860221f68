"""The course of one episode drawn into a PlotItem: `build_course(plot, data, style)`, in named steps.

The same builder serves the screen (CoursePlot) and print (a PlotItem rendered onto a QPdfWriter). Every item
goes through the build's Drawing, so that the next build starts from an empty plot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFontMetricsF

from ... import plotdata
from ...model import TOH
from ...plotdata import MONTHS, CourseData
from ...wording import date_text, diagnosis_text
from .axes import style_axis
from .drawing import Drawing, place_legend, scatter, text_item
from .items import BandItem, SpanItem
from .legend import Legend, LegendEntry, TextWidget
from .style import (LEGEND_CHARS, STYLE, Z_BAND, Z_BASELINE, Z_CURVE, Z_EXTENSION, Z_LABEL, Z_MARK_LINE, Z_POINTS,
                    Z_SPAN, Z_WINDOW, Style, modality_label, short)

#: The ring around a study that raised a warning flag, as a multiple of the symbol size.
WARNING_RING = 1.9


@dataclass
class CourseItems:
    """What build_course drew, for tests and for the print layout to inspect."""

    plot: pg.PlotItem
    data: CourseData
    right: pg.ViewBox
    extent_curve: pg.PlotCurveItem | None = None
    studies: dict[str, pg.ScatterPlotItem] = field(default_factory=dict)
    unmeasured: dict[str, pg.ScatterPlotItem] = field(default_factory=dict)
    warnings: pg.ScatterPlotItem | None = None
    pain_curve: pg.PlotCurveItem | None = None
    pain_points: pg.ScatterPlotItem | None = None
    function_curve: pg.PlotCurveItem | None = None
    function_points: pg.ScatterPlotItem | None = None
    window: pg.LinearRegionItem | None = None
    extension: pg.LinearRegionItem | None = None
    band: BandItem | None = None
    treatments: list[SpanItem] = field(default_factory=list)
    as_of_line: pg.InfiniteLine | None = None
    resolved_line: pg.InfiniteLine | None = None
    legend: Legend | None = None
    note: pg.TextItem | None = None
    y_range: tuple[float, float] = (0.0, 100.0)
    function_scale: float = 0.1
    style: Style = STYLE
    entries: list[LegendEntry] = field(default_factory=list)

    def fit(self) -> None:
        """Lay out the y axes in pixels: labels above the data, the marks strip below zero, pain 0 level with 0."""
        _fit_course(self)


def build_course(plot: pg.PlotItem, data: CourseData, style: Style = STYLE,
                 on_click: Callable[[Any], None] | None = None) -> CourseItems:
    """Draw an episode's course into a PlotItem: bands, extent, studies, pain and function, treatments, as-of."""
    drawing = Drawing.begin(plot, style, data.axis, values=True)
    items = CourseItems(plot, data, drawing.add_view(), style=style)
    _axes(drawing, items)
    _shading(drawing, items)
    _treatments(drawing, items, on_click)
    _extent(drawing, items, on_click)
    _warnings(drawing, items)
    _symptoms(drawing, items, on_click)
    _date_lines(drawing, items)
    _note(drawing, items)
    items.legend = place_legend(drawing, items.entries, style)
    plot.vb.setXRange(*data.x_range, padding=0.0)

    def follow() -> None:
        items.right.setGeometry(plot.vb.geometry())
        items.right.linkedViewChanged(plot.vb, items.right.XAxis)
        _fit_course(items)

    drawing.connect(plot.vb.sigResized, follow)
    follow()
    drawing.finish()
    return items


# -- the steps ---------------------------------------------------------------------------------------------------


def _axes(drawing: Drawing, items: CourseItems) -> None:
    """The extent axis at the left, pain at the right (linked to the second ViewBox), time at the bottom."""
    plot, data, style = drawing.plot, items.data, items.style
    plot.showAxis("right")
    style_axis(plot.getAxis("left"), style, _extent_axis_label(data), style.extent, (f"{data.y_max:g}", "100"))
    style_axis(plot.getAxis("right"), style, "Pain (NRS)", style.pain, ("10",))
    plot.getAxis("right").linkToView(items.right)
    x_title = "Months since onset" if data.axis == MONTHS else "Date"
    bottom = plot.getAxis("bottom")
    if style.compact_x_title:
        style_axis(bottom, style, "")
        plot.showLabel("bottom", False)
        corner = TextWidget("months" if data.axis == MONTHS else "", style.font(style.tick_pt), style.text,
                            Qt.AlignmentFlag.AlignRight)
        corner.setToolTip(x_title)
        drawing.add_to_layout(corner, 3, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
    else:
        style_axis(bottom, style, x_title)
    bottom.setToolTip(x_title)
    left, right_axis = plot.getAxis("left"), plot.getAxis("right")
    left.top, left.whole = data.y_max, data.unit == "regions"
    right_axis.top, right_axis.whole = 10.0, True


def _shading(drawing: Drawing, items: CourseItems) -> None:
    """Beneath the curves: the 12-month extension, the window, the regression band (opaque, lightest first),
    and the zero line."""
    data, style, entries = items.data, items.style, items.entries
    if data.extension is not None:
        items.extension = pg.LinearRegionItem(data.extension, movable=False,
                                              brush=QBrush(QColor(style.extension_fill)),
                                              pen=style.pen(style.extension_fill))
        items.extension.setZValue(Z_EXTENSION)
        drawing.add(items.extension)
    if data.window is not None:
        items.window = pg.LinearRegionItem(data.window, movable=False, brush=QBrush(QColor(style.window_fill)),
                                           pen=style.pen(style.window_edge))
        items.window.setZValue(Z_WINDOW)
        drawing.add(items.window)
        entries.append(LegendEntry(f"Expected {data.window_months[0]}–{data.window_months[1]} mo",
                                   fill=style.window_fill, edge=style.pen(style.window_edge)))
    if data.extension is not None:
        entries.append(LegendEntry(f"Up to {plotdata.EXTENSION_MONTHS} mo", fill=style.extension_fill,
                                   edge=style.pen(style.window_edge)))
    if data.band is not None:
        items.band = BandItem(data.band, style)
        items.band.setZValue(Z_BAND)
        drawing.add(items.band)
        entries.append(LegendEntry("Expected regression", fill=style.band_fill,
                                   edge=style.pen(style.band_edge, 1.2, Qt.PenStyle.DashLine)))
    baseline = pg.InfiniteLine(0, angle=0, pen=style.pen(style.axis, 1.0))
    baseline.setZValue(Z_BASELINE)
    drawing.add(baseline)


def _treatments(drawing: Drawing, items: CourseItems, on_click) -> None:
    """Treatments as spans in the strip under the zero line (placed in rows by the y fit)."""
    data, style = items.data, items.style
    for span in data.treatments:
        item = SpanItem(span.x0, span.x1, -1, -2, span.label, span.tip, span.record, style.treatment_fill,
                        style.pen(style.treatment_edge), style.font(style.tick_pt))
        item.span = span
        item.backing = QColor(style.background)
        item.setZValue(Z_SPAN)
        if on_click is not None:
            item.sigClicked.connect(on_click)
        drawing.add(item)
        items.treatments.append(item)
    for item in items.treatments:  # room for a label beside a short span: up to the next span in its row
        later = [other.span.x0 for other in items.treatments
                 if other.span.row == item.span.row and other.span.x0 > item.span.x1]
        item.text_limit = min(later, default=data.x_range[1])
    if data.treatments:
        items.entries.append(LegendEntry("Treatment", fill=style.treatment_fill,
                                         edge=style.pen(style.treatment_edge)))


def _extent(drawing: Drawing, items: CourseItems, on_click) -> None:
    """The extent: one line through the measured studies, a symbol per modality; the studies without an extent
    as open symbols in the strip."""
    data, style, entries = items.data, items.style, items.entries
    if data.extent:
        items.extent_curve = pg.PlotCurveItem([p.x for p in data.extent], [p.y for p in data.extent],
                                              pen=style.pen(style.extent, 2.5), antialias=True)
        items.extent_curve.setZValue(Z_CURVE)
        drawing.add(items.extent_curve, bounds=True)
    for modality, marks in data.by_modality(measured=True).items():
        symbol = style.symbol(modality)
        points = scatter(list(marks), symbol, style.symbol_size, style.pen("#ffffff", 1.2),
                         QBrush(QColor(style.extent)), on_click, modality)
        points.setZValue(Z_POINTS)
        drawing.add(points, bounds=True)
        items.studies[modality] = points
        entries.append(LegendEntry(f"{modality_label(modality)} (edema)", pen=style.pen(style.extent, 2.5),
                                   symbol=symbol, symbol_pen=style.pen("#ffffff", 1.2), symbol_brush=style.extent))
    for modality, marks in data.by_modality(measured=False).items():
        symbol = style.symbol(modality)
        points = scatter(list(marks), symbol, style.symbol_size, style.pen(style.text, 1.4),
                         QBrush(QColor(style.background)), on_click, modality)
        points.setZValue(Z_POINTS)
        drawing.add(points)
        items.unmeasured[modality] = points
        entries.append(LegendEntry(f"{modality_label(modality)}, no extent", symbol=symbol,
                                   symbol_pen=style.pen(style.text, 1.4), symbol_brush=style.background))


def _warnings(drawing: Drawing, items: CourseItems) -> None:
    """A ring around each study that raised a warning flag (AVN signs, a narrowed joint space): beneath the
    study's own mark, so the mark's hover text (which names the flag) stays on top."""
    data, style = items.data, items.style
    flagged = [mark for mark in data.studies if mark.warnings]
    if not flagged:
        return
    ring = pg.ScatterPlotItem(x=[m.x for m in flagged], y=[m.y if m.y is not None else 0.0 for m in flagged],
                              data=flagged, symbol="o", size=style.symbol_size * WARNING_RING,
                              pen=style.pen(style.warning, 2.2), brush=QBrush(Qt.BrushStyle.NoBrush),
                              name="warning")
    ring.setZValue(Z_POINTS - 1)
    drawing.add(ring)
    items.warnings = ring
    items.entries.append(LegendEntry("Warning flag", symbol="o", symbol_pen=style.pen(style.warning, 2.2),
                                     symbol_size=style.symbol_size * 1.3))


def _symptoms(drawing: Drawing, items: CourseItems, on_click) -> None:
    """Pain and function on the right axis (function 0–100 drawn ÷10)."""
    data, style, right = items.data, items.style, items.right
    if data.function:
        ys = [p.y * items.function_scale for p in data.function]
        items.function_curve = pg.PlotCurveItem([p.x for p in data.function], ys,
                                                pen=style.pen(style.function, 2.0, Qt.PenStyle.DotLine),
                                                antialias=True)
        items.function_points = scatter(list(data.function), "p", style.symbol_size, style.pen(style.function, 1.5),
                                        QBrush(QColor(style.background)), on_click, "function")
        items.function_points.setData(x=[p.x for p in data.function], y=ys, data=list(data.function))
        for item in (items.function_curve, items.function_points):
            drawing.add(item, right, bounds=True)
        items.entries.append(LegendEntry(f"{short(data.function_label, LEGEND_CHARS)} ÷10",
                                         pen=style.pen(style.function, 2.0, Qt.PenStyle.DotLine), symbol="p",
                                         symbol_pen=style.pen(style.function, 1.5), symbol_brush=style.background))
    if data.pain:
        items.pain_curve = pg.PlotCurveItem([p.x for p in data.pain], [p.y for p in data.pain],
                                            pen=style.pen(style.pain, 2.0, Qt.PenStyle.DashLine), antialias=True)
        items.pain_points = scatter(list(data.pain), "x", style.symbol_size, style.pen(style.pain, 2.0),
                                    QBrush(QColor(style.pain)), on_click, "pain")
        for item in (items.pain_curve, items.pain_points):
            drawing.add(item, right, bounds=True)
        items.entries.append(LegendEntry("Pain NRS", pen=style.pen(style.pain, 2.0, Qt.PenStyle.DashLine),
                                         symbol="x", symbol_pen=style.pen(style.pain, 2.0)))


def _date_lines(drawing: Drawing, items: CourseItems) -> None:
    """The resolution and the as-of date as vertical lines."""
    data, style = items.data, items.style
    if data.resolved_x is not None:
        items.resolved_line = pg.InfiniteLine(data.resolved_x, angle=90,
                                              pen=style.pen(style.resolved, 2.0, Qt.PenStyle.DashDotLine))
        items.resolved_line.setZValue(Z_MARK_LINE)
        drawing.add(items.resolved_line)
        items.entries.append(LegendEntry(f"Resolved {data.resolved_text or date_text(data.episode.resolved_on)}",
                                         pen=style.pen(style.resolved, 2.0, Qt.PenStyle.DashDotLine)))
    if data.x_range[0] <= data.as_of_x <= data.x_range[1]:
        as_of_pen = style.pen(style.as_of, 1.4, Qt.PenStyle.DashLine)
        items.as_of_line = pg.InfiniteLine(data.as_of_x, angle=90, pen=as_of_pen)
        items.as_of_line.setZValue(Z_MARK_LINE)
        drawing.add(items.as_of_line)
        items.entries.append(LegendEntry(f"As of {data.as_of_text or date_text(data.as_of)}", pen=as_of_pen))


def _note(drawing: Drawing, items: CourseItems) -> None:
    """A line of text at the plot's top left when there is no window or nothing to draw (placed by the y fit)."""
    data = items.data
    if data.diagnosis != TOH:
        text = f"Diagnosis revised to {diagnosis_text(data.diagnosis)}: no expected window"
    elif not (data.studies or data.pain or data.function or data.treatments):
        text = "No studies, symptoms or treatments recorded"
    else:
        return
    items.note = text_item(drawing, text, items.style, items.style.legend_pt)
    items.note.setZValue(Z_LABEL)


# -- the layout in pixels -------------------------------------------------------------------------------------


def _extent_axis_label(data: CourseData, short: bool = False) -> str:
    """The left axis title, short enough to stand beside a small plot: 'Edema (%)', or just '%'."""
    if short:
        return data.unit or "Edema"
    return {"%": "Edema (%)", "mL": "Edema (mL)", "regions": "Edema (regions)"}.get(data.unit, "Edema")


def _fit_axis_titles(items: CourseItems, height: float) -> None:
    """Side axis titles that fit the plot's height: the short forms on a low plot, never cut off."""
    style, data = items.style, items.data
    metrics = QFontMetricsF(style.font(style.label_pt))
    for name, full, brief, colour in (("left", _extent_axis_label(data), _extent_axis_label(data, True),
                                       style.extent), ("right", "Pain (NRS)", "NRS", style.pain)):
        text = full if metrics.horizontalAdvance(full) + 6 <= height else brief
        axis = items.plot.getAxis(name)
        if axis.labelText != text:
            axis.setLabel(text, **{"font-size": f"{style.label_pt}pt", "color": colour})


def _fit_course(items: CourseItems) -> None:
    """Set both y ranges so that labels sit above y_max and the strip (studies without extent, treatments)
    below zero keeps rows of one text line, whatever the plot's height; pain 0–10 level with 0–y_max."""
    data, vb = items.data, items.plot.vb
    height = vb.height()
    if height <= 0:
        return
    metrics = QFontMetricsF(items.style.font())
    line = metrics.height() + 3
    top_px = 8.0
    strip_rows = (1 if data.unmeasured else 0) + data.treatment_rows
    gap = 5.0
    row_px = line
    if strip_rows and gap + strip_rows * row_px > 0.3 * height:  # a small plot: thinner rows, labels in tooltips
        row_px = max(7.0, (0.3 * height - gap) / strip_rows)
    bottom_px = gap + strip_rows * row_px + 4 if strip_rows else 8
    data_px = max(height - top_px - bottom_px, 10.0)
    unit = data.y_max / data_px
    low, high = -bottom_px * unit, data.y_max + top_px * unit
    vb.setYRange(low, high, padding=0.0)
    scale = 10.0 / data.y_max
    items.right.setYRange(low * scale, high * scale, padding=0.0)
    items.y_range = (low, high)
    _fit_axis_titles(items, height)
    if items.note is not None:
        items.note.setPos(data.x_range[0], high)

    def row_span(row: int) -> tuple[float, float]:
        top = -(gap + row * row_px) * unit
        return top - 1.5 * unit, top - (row_px - 1.5) * unit

    first_treatment_row = 0
    if data.unmeasured:
        y = sum(row_span(0)) / 2
        for points in items.unmeasured.values():
            x, _ = points.getData()
            marks = [pt.data() for pt in points.points()]
            points.setData(x=list(x), y=[y] * len(x), data=marks)
        if items.warnings is not None:
            marks = [pt.data() for pt in items.warnings.points()]
            items.warnings.setData(x=[m.x for m in marks], y=[m.y if m.y is not None else y for m in marks],
                                   data=marks)
        first_treatment_row = 1
    for item in items.treatments:
        item.set_y(*row_span(first_treatment_row + item.span.row))
