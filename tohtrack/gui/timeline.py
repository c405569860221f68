"""The timeline plots (pyqtgraph): an episode's course and the patient's history lanes.

`build_course(plot, data, style)` and `build_lanes(plot, data, style)` draw tohtrack.plotdata's pictures into
any pyqtgraph PlotItem, so the same builder serves the screen (CoursePlot, HistoryLanes, TimelinePanel) and
print (a PlotItem rendered with QPainter onto QPdfWriter). Everything is opaque (PDF/A forbids transparency):
shaded bands are light colours drawn beneath the curves. Colours come from the Okabe–Ito palette and every
series also differs in symbol or line style, so the plots read with colour-blindness and in grey.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import drawSymbol
from PySide6.QtCore import QLineF, QPointF, QRectF, QSizeF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (QButtonGroup, QCheckBox, QGraphicsPolygonItem, QHBoxLayout, QSizePolicy,
                               QStackedWidget, QToolButton, QVBoxLayout, QWidget)

from .. import plotdata
from ..model import MODALITY_LABELS, TOH
from ..plotdata import DATES, MONTHS, MIGRATION, RECURRENCE, CourseData, HistoryData
from ..wording import MONTH_NAMES, date_text, diagnosis_text



Z_EXTENSION, Z_WINDOW, Z_BAND, Z_BASELINE, Z_MARK_LINE, Z_SPAN, Z_CURVE, Z_POINTS, Z_LABEL = (
    -30, -20, -10, -5, 5, 8, 10, 20, 30)


# ---------------------------------------------------------------------------
# Style
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """Colours, lines, symbols and fonts of the plots: one picture for screen, paper and grey print."""

    font_family: str = ""
    tick_pt: float = 9.0
    label_pt: float = 9.5
    legend_pt: float = 9.0
    background: str = "#ffffff"
    text: str = "#1a1a1a"
    axis: str = "#4d4d4d"
    # Okabe–Ito colours for the series; each also has its own line style and symbol.
    extent: str = "#0072B2"
    pain: str = "#D55E00"
    function: str = "#009E73"
    # Opaque light fills beneath the curves; their greys differ too (window < extension in darkness).
    window_fill: str = "#cfe0ef"
    window_edge: str = "#7fa7c9"
    extension_fill: str = "#ebf1f7"
    band_fill: str = "#f3cf99"
    band_edge: str = "#a85a00"
    treatment_fill: str = "#dcdcdc"
    treatment_edge: str = "#6b6b6b"
    as_of: str = "#1a1a1a"
    resolved: str = "#009E73"
    # History lanes: status by fill darkness as well as colour; a revised diagnosis is grey with a dashed edge.
    active_fill: str = "#D55E00"
    resolved_fill: str = "#a6cfee"
    revised_fill: str = "#e0e0e0"
    bar_edge: str = "#333333"
    migration: str = "#CC79A7"
    recurrence: str = "#1a1a1a"
    multifocal: str = "#0072B2"
    lane_rule: str = "#e6e6e6"
    symbols: tuple[tuple[str, str], ...] = (("MRI", "o"), ("XR", "s"), ("NM", "t"), ("CT", "d"), ("other", "h"))
    symbol_size: float = 10.0
    #: Line widths are in device pixels: 2 on a screen at twice the size, the writer's dots per pixel in print.
    pen_scale: float = 1.0
    legend_rows: int = 6
    #: The x axis title in the free corner left of the tick labels, saving a text line (small screens).
    compact_x_title: bool = True

    def font(self, points: float | None = None, bold: bool = False) -> QFont:
        """The plot font at a point size (tick size by default)."""
        font = QFont(self.font_family) if self.font_family else QFont()
        font.setPointSizeF(points or self.tick_pt)
        font.setBold(bold)
        for tag in ("liga", "clig"):  # letters stay letters in a PDF's text ('fi', not one ligature glyph)
            font.setFeature(QFont.Tag(tag), 0)
        return font

    def pen(self, colour: str, width: float = 1.0, dash: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
        """A cosmetic pen, its width scaled to the device."""
        return _pen(colour, width * self.pen_scale, dash)

    def symbol(self, modality: str) -> str:
        """The symbol of a modality: MRI circle, radiograph square, scintigraphy triangle, CT diamond."""
        return dict(self.symbols).get(modality, dict(self.symbols)["other"])


STYLE = Style()


def _pen(colour: str, width: float = 1.0, style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> QPen:
    """A cosmetic pen (width in device pixels, whatever the scale)."""
    pen = QPen(QColor(colour), width, style)
    pen.setCosmetic(True)
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    return pen


#: The longest legend label, in characters: a long instrument name must not squeeze the plot (hover has it whole).
LEGEND_CHARS = 26


def _short(text: str, limit: int) -> str:
    """Text cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def _modality_label(modality: str) -> str:
    """'MRI', 'Radiograph', 'Bone scintigraphy'."""
    label = MODALITY_LABELS.get(modality, modality)
    return label[:1].upper() + label[1:]


# ---------------------------------------------------------------------------
# Axes
# ---------------------------------------------------------------------------


class TimeAxis(pg.AxisItem):
    """A bottom axis in months since onset or in calendar months (x in POSIX seconds), labels that never collide."""

    def __init__(self, style: Style = STYLE, mode: str = MONTHS):
        super().__init__("bottom")
        self.mode = mode
        self.style_ = style
        self.setStyle(tickFont=style.font(), tickTextOffset=4, hideOverlappingLabels=24)
        self.setPen(style.pen(style.axis))
        self.setTextPen(QColor(style.text))
        self._minor = -1.0

    def _width(self, text: str) -> float:
        return QFontMetricsF(self.style["tickFont"] or QFont()).horizontalAdvance(text)

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 - pyqtgraph's name
        if size <= 0 or maxVal <= minVal:
            return []
        if self.mode == MONTHS:
            return self._month_ticks(minVal, maxVal, size)
        return self._date_ticks(minVal, maxVal, size)

    def _month_ticks(self, lo: float, hi: float, size: float):
        per_month = size / (hi - lo)
        need = self._width("24") + 18
        step = next((s for s in (1, 2, 3, 6, 12, 24, 60) if s * per_month >= need), 120)
        major = [float(k * step) for k in range(math.ceil(lo / step), math.floor(hi / step) + 1)]
        self._minor = 1.0 if step > 1 and per_month >= 5 else -1.0
        levels = [(float(step), major)]
        if self._minor > 0:
            levels.append((1.0, [float(m) for m in range(math.ceil(lo), math.floor(hi) + 1) if m % step]))
        return levels

    def _date_ticks(self, lo: float, hi: float, size: float):
        first, last = plotdata.day_of(lo), plotdata.day_of(hi)
        months = []
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            seconds = plotdata.timestamp(dt.date(year, month, 1))
            if lo <= seconds <= hi:
                months.append((year, month, seconds))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        per_month = size / ((hi - lo) / (30.44 * 86400))
        wide, narrow = self._width("May 2026"), self._width("May")
        step = next((s for s in (1, 2, 3, 6) if s * per_month >= (wide + narrow) / 2 + 14), None)
        if step is None:
            step = next((s for s in (12, 24, 60) if s * per_month >= self._width("2026") + 14), 120)
        major = [s for y, m, s in months if ((y * 12 + m - 1) % step == 0)]
        minor = [s for y, m, s in months if (y * 12 + m - 1) % step] if per_month >= 4 else []
        spacing = step * 30.44 * 86400
        self._minor = 30.44 * 86400 if minor else -1.0
        return [(spacing, major)] + ([(self._minor, minor)] if minor else [])

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        if spacing == self._minor:
            return [""] * len(values)
        if self.mode == MONTHS:
            return [f"{v:g}" for v in values]
        out = []
        for i, v in enumerate(values):
            day = plotdata.day_of(v + 43200)
            if spacing >= 12 * 30 * 86400:
                out.append(str(day.year))
            elif i == 0 or day.month == 1:
                out.append(f"{MONTH_NAMES[day.month - 1]} {day.year}")
            else:
                out.append(MONTH_NAMES[day.month - 1])
        return out


class ValueAxis(pg.AxisItem):
    """A side axis labelled from 0 to `top` only (below zero is the marks strip), ticks as dense as fit."""

    def __init__(self, orientation: str, style: Style = STYLE):
        super().__init__(orientation)
        self.style_ = style
        self.top = 100.0
        self.whole = False

    def tickValues(self, minVal, maxVal, size):  # noqa: N802 - pyqtgraph's name
        if size <= 0 or maxVal <= minVal:
            return []
        per_unit = size / (maxVal - minVal)
        need = QFontMetricsF(self.style["tickFont"] or QFont()).height() * 1.6
        power = 10 ** math.floor(math.log10(self.top)) if self.top > 0 else 1
        steps = [m * power / 10 for m in (1, 2, 2.5, 5)] + [m * power for m in (1, 2, 2.5, 5, 10)]
        if self.whole:
            steps = [s for s in steps if s >= 1 and float(s).is_integer()] or [1.0]
        step = next((s for s in steps if s * per_unit >= need), self.top)
        count = int(math.floor(self.top / step + 1e-9))
        return [(step, [i * step for i in range(count + 1) if minVal <= i * step <= maxVal])]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph's name
        return [f"{v:g}" for v in values]


def _style_axis(axis: pg.AxisItem, style: Style, label: str = "", colour: str | None = None,
                widest: tuple[str, ...] = ()) -> None:
    """Fonts, pens and title of an axis; a side axis is as wide as its widest tick text, known in advance
    (so the first picture, on screen or on paper, is already laid out right)."""
    font = style.font()
    axis.setStyle(tickFont=font, tickTextOffset=4)
    if widest:
        width = max(QFontMetricsF(font).horizontalAdvance(text) for text in widest) + 3
        axis.setStyle(autoExpandTextSpace=False, tickTextWidth=int(math.ceil(width)))
    axis.setPen(style.pen(style.axis))
    axis.setTextPen(QColor(style.text))
    axis.setLabel(label, **{"font-size": f"{style.label_pt}pt", "color": colour or style.text})
    axis.label.setFont(style.font(style.label_pt))


# ---------------------------------------------------------------------------
# Items
# ---------------------------------------------------------------------------


class SpanItem(pg.GraphicsObject):
    """A rectangle in data coordinates with an elided label inside, a tooltip and a click signal."""

    sigClicked = Signal(object)

    def __init__(self, x0: float, x1: float, y0: float, y1: float, label: str = "", tip: str = "",
                 record: Any = None, brush: str = "#dddddd", pen: QPen | None = None, font: QFont | None = None,
                 text: str = "#1a1a1a", open_end: bool = False):
        super().__init__()
        self.x0, self.x1, self.label, self.record = x0, x1, label, record
        self.brush, self.pen, self.text = QBrush(QColor(brush)), pen or _pen("#333333"), QColor(text)
        self.font = font or QFont()
        self.open_end = open_end
        self.text_limit: float | None = None  # how far right (data x) a label may run outside a short span
        self.backing = QColor(STYLE.background)
        self.y0, self.y1 = min(y0, y1), max(y0, y1)
        self.setToolTip(tip)

    def set_y(self, y0: float, y1: float) -> None:
        """Move the span vertically (the strip below zero is laid out in pixels)."""
        self.prepareGeometryChange()
        self.y0, self.y1 = min(y0, y1), max(y0, y1)
        self.update()

    def rect(self) -> QRectF:
        return QRectF(self.x0, self.y0, max(self.x1 - self.x0, 0.0), self.y1 - self.y0)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        rect = self.rect()
        pad_x = self.pixelWidth() * 12 if self.open_end else 0.0
        return rect.adjusted(0, 0, pad_x, 0)

    def paint(self, p: QPainter, *args) -> None:
        transform = p.transform()
        device = transform.mapRect(self.rect()).normalized()
        p.save()
        p.resetTransform()
        if device.width() < 2:
            device.setWidth(2)
        p.setPen(self.pen)
        p.setBrush(self.brush)
        if self.open_end:  # an active course: the right end is an arrowhead, still going
            tip = min(10.0, device.height() * 0.6)
            r = device
            p.drawPolygon(QPolygonF([r.topLeft(), QPointF(r.right(), r.top()),
                                     QPointF(r.right() + tip, r.center().y()), QPointF(r.right(), r.bottom()),
                                     r.bottomLeft()]))
        else:
            p.drawRect(device)
        if self.label:
            self._paint_label(p, device, transform)
        p.restore()

    def _paint_label(self, p: QPainter, device: QRectF, transform) -> None:
        """The label inside the span; beside it when the span is short and the row is free; else elided."""
        p.setFont(self.font)
        metrics = p.fontMetrics()
        if device.height() < metrics.height() - 3:
            return
        width = metrics.horizontalAdvance(self.label)
        flags = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        p.setPen(self.text)
        if width + 8 <= device.width():
            p.drawText(device.adjusted(4, 0, -4, 0), flags, self.label)
            return
        if self.text_limit is not None:
            room = transform.map(QPointF(self.text_limit, self.y0)).x() - device.right() - 6
            if width <= room:  # on a backing of the paper's colour, so that lines do not cross the text
                box = QRectF(device.right() + 3, device.center().y() - metrics.height() / 2, width + 4,
                             metrics.height())
                p.fillRect(box, self.backing)
                p.drawText(box.adjusted(1, 0, 0, 0), flags, self.label)
                return
        text = metrics.elidedText(self.label, Qt.TextElideMode.ElideRight, int(device.width() - 8))
        if len(text) >= 5:
            p.drawText(device.adjusted(4, 0, -4, 0), flags, text)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph's name
        if ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.sigClicked.emit(self.record)
        else:
            ev.ignore()


class BandItem(QGraphicsPolygonItem):
    """The expected regression: an opaque light triangle with dashed darker edges.

    Like the window and the lines it has no tooltip: Qt shows the topmost item's, and the points' hover text
    (set on the ViewBox beneath) must not be hidden by a band they lie on."""

    def __init__(self, vertices: tuple[tuple[float, float], ...], style: Style):
        super().__init__(QPolygonF([QPointF(x, y) for x, y in vertices]))
        self.setBrush(QBrush(QColor(style.band_fill)))
        self.setPen(style.pen(style.band_edge, 1.2, Qt.PenStyle.DashLine))

    def vertices(self) -> list[tuple[float, float]]:
        """The triangle's corners in data coordinates."""
        polygon = self.polygon()
        return [(polygon[i].x(), polygon[i].y()) for i in range(polygon.size())]


class LinkItem(pg.GraphicsObject):
    """A recurrence (an arc within the lane) or a migration (an arrow across lanes), arrowhead in pixels."""

    def __init__(self, link: plotdata.Link, half: float, style: Style):
        super().__init__()
        self.link = link
        self.colour = style.migration if link.kind == MIGRATION else style.recurrence
        self.style_ = style
        self.pen = style.pen(self.colour, 2.0 if link.kind == MIGRATION else 1.6,
                        Qt.PenStyle.SolidLine if link.kind == MIGRATION else Qt.PenStyle.DashLine)
        down = link.to_row > link.from_row
        if link.kind == MIGRATION and link.x0 == link.x1:
            # Spread while the first site was active: straight across, from one bar's edge to the other's.
            self.points = [QPointF(link.x0, link.from_row + (half if down else -half)),
                           QPointF(link.x1, link.to_row - (half if down else -half))]
        else:
            # From the end of the earlier bar to the start of the new one, along the lanes' middles.
            self.points = [QPointF(link.x0, link.from_row), QPointF(link.x1, link.to_row)]
        self.setToolTip(link.tip)

    def path(self) -> QPainterPath:
        path = QPainterPath(self.points[0])
        path.lineTo(self.points[1])
        return path

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        rect = self.path().boundingRect()
        px, py = self.pixelWidth() or 0.0, self.pixelHeight() or 0.0
        return rect.adjusted(-12 * px, -12 * py, 12 * px, 12 * py)

    def shape(self) -> QPainterPath:
        stroker = pg.QtGui.QPainterPathStroker()
        stroker.setWidth(max(self.pixelWidth(), self.pixelHeight()) * 8 or 1e-9)
        return stroker.createStroke(self.path())

    def paint(self, p: QPainter, *args) -> None:
        transform = p.transform()
        device = transform.map(self.path())
        p.save()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(self.pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(device)
        end = device.pointAtPercent(1.0)
        before = device.pointAtPercent(max(0.0, 1.0 - 8.0 / max(device.length(), 8.0)))
        angle = math.atan2(end.y() - before.y(), end.x() - before.x())
        size = 9.0
        head = QPolygonF([end] + [end - QPointF(size * math.cos(angle + turn), size * math.sin(angle + turn))
                                  for turn in (-0.42, 0.42)])
        p.setPen(self.style_.pen(self.colour, 1.0))
        p.setBrush(QBrush(QColor(self.colour)))
        p.drawPolygon(head)
        p.restore()


class MultifocalItem(pg.GraphicsObject):
    """A multifocal onset: a line at the onset joining the bars that began the same day, across the gaps
    between their lanes (clear of the arrows, which arrive at the bars' middles)."""

    def __init__(self, marker: plotdata.Multifocal, half: float, style: Style):
        super().__init__()
        self.marker, self.half = marker, half
        self.pen = style.pen(style.multifocal, 3.0)
        self.setToolTip(marker.tip)

    def line(self) -> QLineF:
        """From the lower edge of the top bar to the upper edge of the bottom one, at the onset."""
        rows = self.marker.rows
        return QLineF(self.marker.x, min(rows) + self.half, self.marker.x, max(rows) - self.half)

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt's name
        line = self.line()
        px = self.pixelWidth() or 0.0
        return QRectF(line.x1() - 3 * px, line.y1(), 6 * px, line.y2() - line.y1())

    def paint(self, p: QPainter, *args) -> None:
        p.setPen(self.pen)
        p.drawLine(self.line())


# ---------------------------------------------------------------------------
# Legend
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LegendEntry:
    """One legend line: a sample (line, symbol, filled box or arrow) and its text."""

    text: str
    pen: QPen | None = None
    symbol: str | None = None
    symbol_pen: QPen | None = None
    symbol_brush: str | None = None
    fill: str | None = None
    edge: QPen | None = None
    arrow: bool = False


class LegendSample(pg.GraphicsWidget):
    """The little picture in front of a legend text."""

    def __init__(self, entry: LegendEntry, size: QSizeF):
        super().__init__()
        self.entry = entry
        self.setMinimumSize(size)
        self.setMaximumSize(size)

    def paint(self, p: QPainter, *args) -> None:
        e, r = self.entry, QRectF(0, 0, self.size().width(), self.size().height()).adjusted(2, 2, -2, -2)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if e.fill is not None:
            p.setPen(e.edge or _pen("#666666"))
            p.setBrush(QBrush(QColor(e.fill)))
            p.drawRect(r.adjusted(0, 1, 0, -1))
        if e.pen is not None:
            p.setPen(e.pen)
            p.drawLine(QLineF(r.left(), r.center().y(), r.right(), r.center().y()))
            if e.arrow:
                p.setBrush(QBrush(e.pen.color()))
                y = r.center().y()
                p.drawPolygon(QPolygonF([QPointF(r.right(), y), QPointF(r.right() - 6, y - 3.5),
                                         QPointF(r.right() - 6, y + 3.5)]))
        if e.symbol is not None:
            p.translate(r.center())
            drawSymbol(p, e.symbol, STYLE.symbol_size * 0.9, e.symbol_pen or _pen("#333333"),
                       QBrush(QColor(e.symbol_brush)) if e.symbol_brush else QBrush(Qt.BrushStyle.NoBrush))


class TextWidget(pg.GraphicsWidget):
    """One line of text sized to its font (LabelItem pads too much for a dense legend)."""

    def __init__(self, text: str, font: QFont, colour: str, align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft):
        super().__init__()
        self.text, self.font, self.colour, self.align = text, font, QColor(colour), align
        metrics = QFontMetricsF(font)
        size = QSizeF(metrics.horizontalAdvance(text) + 4, metrics.height() + 2)
        self.setMinimumSize(size)
        self.setPreferredSize(size)

    def paint(self, p: QPainter, *args) -> None:
        p.setFont(self.font)
        p.setPen(self.colour)
        p.drawText(QRectF(0, 0, self.size().width(), self.size().height()),
                   int(self.align | Qt.AlignmentFlag.AlignVCenter), self.text)


class Legend(pg.GraphicsWidget):
    """A legend in columns, as many rows as the plot's height allows, placed in the PlotItem's layout."""

    def __init__(self, entries: list[LegendEntry], style: Style):
        super().__init__()
        self.entries = entries
        layout = pg.QtWidgets.QGraphicsGridLayout()
        layout.setContentsMargins(8, 0, 2, 0)
        layout.setHorizontalSpacing(4)
        layout.setVerticalSpacing(1)
        self.setLayout(layout)
        font = style.font(style.legend_pt)
        self.row_height = max(14.0, QFontMetricsF(font).height() + 3)
        sample = QSizeF(26, self.row_height)
        self.cells = [(LegendSample(entry, sample), TextWidget(entry.text, font, style.text)) for entry in entries]
        self.rows = 0
        self.arrange(style.legend_rows)
        self.setSizePolicy(pg.QtWidgets.QSizePolicy.Policy.Fixed, pg.QtWidgets.QSizePolicy.Policy.Fixed)

    def arrange(self, rows: int) -> None:
        """Lay the entries out in columns of at most `rows`."""
        rows = max(1, min(rows, len(self.cells)))
        if rows == self.rows:
            return
        self.rows = rows
        layout = self.layout()
        while layout.count():
            layout.removeAt(layout.count() - 1)
        for i, (sample, text) in enumerate(self.cells):
            row, column = i % rows, 2 * (i // rows)
            layout.addItem(sample, row, column, Qt.AlignmentFlag.AlignVCenter)
            layout.addItem(text, row, column + 1, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
        layout.invalidate()
        self.updateGeometry()

    def fit(self, height: float) -> None:
        """As many rows as fit in a height (pixels)."""
        step = self.row_height + self.layout().verticalSpacing()
        self.arrange(int((max(height, self.row_height) + self.layout().verticalSpacing()) // step))

    def texts(self) -> list[str]:
        """The legend's texts, in order."""
        return [e.text for e in self.entries]


# ---------------------------------------------------------------------------
# Shared plot set-up
# ---------------------------------------------------------------------------


_STATE = "_tohtrack_timeline"


def _prepare(plot: pg.PlotItem, style: Style, mode: str, values: bool = False) -> dict:
    """Clear what an earlier build left in the plot; a static plot (no pan, zoom or menu), our bottom axis."""
    state = getattr(plot, _STATE, None) or {}
    for extra in state.get("extras", []):
        plot.layout.removeItem(extra)
        if extra.scene() is not None:
            extra.scene().removeItem(extra)
    for disconnect in state.get("disconnect", []):
        try:
            disconnect()
        except (RuntimeError, TypeError):
            pass
    right = state.get("right")
    if right is not None:
        right.clear()
    legend = state.get("legend")
    if legend is not None:
        plot.layout.removeItem(legend)
        if legend.scene() is not None:
            legend.scene().removeItem(legend)
    plot.clear()
    for name in ("left", "bottom"):
        plot.showAxis(name)
    plot.setMenuEnabled(False)
    plot.hideButtons()
    plot.vb.setMouseEnabled(False, False)
    plot.vb.disableAutoRange()
    plot.vb.setDefaultPadding(0.0)
    axis = plot.getAxis("bottom")
    if not isinstance(axis, TimeAxis):
        axis = TimeAxis(style, mode)
        plot.setAxisItems({"bottom": axis})
    axis.style_, axis.mode = style, mode
    for name in ("left", "right"):
        current = plot.getAxis(name)
        if values and not isinstance(current, ValueAxis):
            plot.setAxisItems({name: ValueAxis(name, style)})
        elif not values and isinstance(current, ValueAxis):
            plot.setAxisItems({name: pg.AxisItem(name)})
    plot.layout.setContentsMargins(2, 6, 4, 2)
    state = {"right": right, "legend": None, "disconnect": [], "extras": []}
    setattr(plot, _STATE, state)
    return state


def _place_legend(plot: pg.PlotItem, state: dict, entries: list[LegendEntry], style: Style) -> Legend:
    """The legend at the right of the plot, refitted to the plot's height as it changes."""
    legend = Legend(entries, style)
    plot.layout.addItem(legend, 1, 3, 3, 1, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft)
    state["legend"] = legend

    def refit() -> None:
        _, top, _, bottom = plot.layout.getContentsMargins()
        legend.fit(plot.height() - top - bottom - 2)

    _connect(state, plot.vb.sigResized, refit)
    refit()
    return legend


def _connect(state: dict, signal, slot) -> None:
    """Connect, and remember to disconnect at the next build."""
    signal.connect(slot)
    state["disconnect"].append(lambda: signal.disconnect(slot))


def _scatter(points: list, symbol: str, size: float, pen: QPen, brush: QBrush, on_click, name: str
             ) -> pg.ScatterPlotItem:
    """Hoverable points carrying their plotdata objects; the tooltip is the object's tip."""
    item = pg.ScatterPlotItem(x=[pt.x for pt in points], y=[pt_y(pt) for pt in points], data=list(points),
                              symbol=symbol, size=size, pen=pen, brush=brush, hoverable=True,
                              tip=lambda x, y, data: data.tip, hoverSize=size * 1.4, name=name)
    if on_click is not None:
        item.sigClicked.connect(lambda _item, pts, _ev: pts and on_click(pts[0].data().record))
    return item


def pt_y(point) -> float:
    """A point's y (study marks without extent are placed by the layout, at 0 until then)."""
    return point.y if point.y is not None else 0.0


# ---------------------------------------------------------------------------
# The course of one episode
# ---------------------------------------------------------------------------


@dataclass
class CourseItems:
    """What build_course drew, for tests and for the print layout to inspect."""

    plot: pg.PlotItem
    data: CourseData
    right: pg.ViewBox
    extent_curve: pg.PlotCurveItem | None = None
    studies: dict[str, pg.ScatterPlotItem] = field(default_factory=dict)
    unmeasured: dict[str, pg.ScatterPlotItem] = field(default_factory=dict)
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

    def fit(self) -> None:
        """Lay out the y axes in pixels: labels above the data, the marks strip below zero, pain 0 level with 0."""
        _fit_course(self)


def build_course(plot: pg.PlotItem, data: CourseData, style: Style = STYLE,
                 on_click: Callable[[Any], None] | None = None) -> CourseItems:
    """Draw an episode's course into a PlotItem: bands, extent, studies, pain and function, treatments, as-of."""
    state = _prepare(plot, style, data.axis, values=True)
    vb = plot.vb
    right = state.get("right")
    if right is None:
        right = pg.ViewBox(enableMouse=False, enableMenu=False)
        right.setParentItem(plot)
        right.setZValue(vb.zValue() + 1)
        state["right"] = right
    right.setMouseEnabled(False, False)
    right.setXLink(vb)
    right.setDefaultPadding(0.0)
    right.disableAutoRange()
    items = CourseItems(plot, data, right, style=style)

    def follow() -> None:
        right.setGeometry(vb.geometry())
        right.linkedViewChanged(vb, right.XAxis)
        _fit_course(items)

    _connect(state, vb.sigResized, follow)

    plot.showAxis("right")
    _style_axis(plot.getAxis("left"), style, _extent_axis_label(data), style.extent, (f"{data.y_max:g}", "100"))
    _style_axis(plot.getAxis("right"), style, "Pain (NRS)", style.pain, ("10",))
    plot.getAxis("right").linkToView(right)
    x_title = "Months since onset" if data.axis == MONTHS else "Date"
    bottom = plot.getAxis("bottom")
    if style.compact_x_title:
        _style_axis(bottom, style, "")
        plot.showLabel("bottom", False)
        corner = TextWidget("months" if data.axis == MONTHS else "", style.font(style.tick_pt), style.text,
                            Qt.AlignmentFlag.AlignRight)
        corner.setToolTip(x_title)
        plot.layout.addItem(corner, 3, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        state["extras"].append(corner)
    else:
        _style_axis(bottom, style, x_title)
    bottom.setToolTip(x_title)
    left, right_axis = plot.getAxis("left"), plot.getAxis("right")
    left.top, left.whole = data.y_max, data.unit == "regions"
    right_axis.top, right_axis.whole = 10.0, True

    entries: list[LegendEntry] = []

    # Beneath the curves: the 12-month extension, the window, the regression band (opaque, lightest first).
    if data.extension is not None:
        items.extension = pg.LinearRegionItem(data.extension, movable=False, brush=QBrush(QColor(style.extension_fill)),
                                              pen=style.pen(style.extension_fill))
        items.extension.setZValue(Z_EXTENSION)
        vb.addItem(items.extension, ignoreBounds=True)
    if data.window is not None:
        items.window = pg.LinearRegionItem(data.window, movable=False, brush=QBrush(QColor(style.window_fill)),
                                           pen=style.pen(style.window_edge))
        items.window.setZValue(Z_WINDOW)
        vb.addItem(items.window, ignoreBounds=True)
        entries.append(LegendEntry(f"Expected {data.window_months[0]}–{data.window_months[1]} mo",
                                   fill=style.window_fill, edge=style.pen(style.window_edge)))
    if data.extension is not None:
        entries.append(LegendEntry(f"Up to {plotdata.EXTENSION_MONTHS} mo", fill=style.extension_fill,
                                   edge=style.pen(style.window_edge)))
    if data.band is not None:
        items.band = BandItem(data.band, style)
        items.band.setZValue(Z_BAND)
        vb.addItem(items.band, ignoreBounds=True)
        entries.append(LegendEntry("Expected regression", fill=style.band_fill,
                                   edge=style.pen(style.band_edge, 1.2, Qt.PenStyle.DashLine)))
    baseline = pg.InfiniteLine(0, angle=0, pen=style.pen(style.axis, 1.0))
    baseline.setZValue(Z_BASELINE)
    vb.addItem(baseline, ignoreBounds=True)

    # Treatments as spans in the strip under the baseline.
    for span in data.treatments:
        item = SpanItem(span.x0, span.x1, -1, -2, span.label, span.tip, span.record, style.treatment_fill,
                        style.pen(style.treatment_edge), style.font(style.tick_pt))
        item.span = span
        item.backing = QColor(style.background)
        item.setZValue(Z_SPAN)
        if on_click is not None:
            item.sigClicked.connect(on_click)
        vb.addItem(item, ignoreBounds=True)
        items.treatments.append(item)
    for item in items.treatments:  # room for a label beside a short span: up to the next span in its row
        later = [other.span.x0 for other in items.treatments
                 if other.span.row == item.span.row and other.span.x0 > item.span.x1]
        item.text_limit = min(later, default=data.x_range[1])
    if data.treatments:
        entries.append(LegendEntry("Treatment", fill=style.treatment_fill, edge=style.pen(style.treatment_edge)))

    # The extent: one line through the measured studies, a symbol per modality.
    if data.extent:
        items.extent_curve = pg.PlotCurveItem([p.x for p in data.extent], [p.y for p in data.extent],
                                              pen=style.pen(style.extent, 2.5), antialias=True)
        items.extent_curve.setZValue(Z_CURVE)
        vb.addItem(items.extent_curve)
    for modality, marks in data.by_modality(measured=True).items():
        symbol = style.symbol(modality)
        scatter = _scatter(list(marks), symbol, style.symbol_size, style.pen("#ffffff", 1.2),
                           QBrush(QColor(style.extent)), on_click, modality)
        scatter.setZValue(Z_POINTS)
        vb.addItem(scatter)
        items.studies[modality] = scatter
        entries.append(LegendEntry(f"{_modality_label(modality)} (edema)", pen=style.pen(style.extent, 2.5),
                                   symbol=symbol, symbol_pen=style.pen("#ffffff", 1.2), symbol_brush=style.extent))
    for modality, marks in data.by_modality(measured=False).items():
        symbol = style.symbol(modality)
        scatter = _scatter(list(marks), symbol, style.symbol_size, style.pen(style.text, 1.4),
                           QBrush(QColor(style.background)), on_click, modality)
        scatter.setZValue(Z_POINTS)
        vb.addItem(scatter, ignoreBounds=True)
        items.unmeasured[modality] = scatter
        entries.append(LegendEntry(f"{_modality_label(modality)}, no extent", symbol=symbol,
                                   symbol_pen=style.pen(style.text, 1.4), symbol_brush=style.background))

    # Pain and function on the right axis (function 0–100 drawn ÷10).
    if data.function:
        items.function_curve = pg.PlotCurveItem([p.x for p in data.function],
                                                [p.y * items.function_scale for p in data.function],
                                                pen=style.pen(style.function, 2.0, Qt.PenStyle.DotLine), antialias=True)
        items.function_points = _scatter(list(data.function), "p", style.symbol_size, style.pen(style.function, 1.5),
                                         QBrush(QColor(style.background)), on_click, "function")
        items.function_points.setData(x=[p.x for p in data.function],
                                      y=[p.y * items.function_scale for p in data.function], data=list(data.function))
        for item in (items.function_curve, items.function_points):
            right.addItem(item)
        entries.append(LegendEntry(f"{_short(data.function_label, LEGEND_CHARS)} ÷10",
                                   pen=style.pen(style.function, 2.0, Qt.PenStyle.DotLine), symbol="p",
                                   symbol_pen=style.pen(style.function, 1.5), symbol_brush=style.background))
    if data.pain:
        items.pain_curve = pg.PlotCurveItem([p.x for p in data.pain], [p.y for p in data.pain],
                                            pen=style.pen(style.pain, 2.0, Qt.PenStyle.DashLine), antialias=True)
        items.pain_points = _scatter(list(data.pain), "x", style.symbol_size, style.pen(style.pain, 2.0),
                                     QBrush(QColor(style.pain)), on_click, "pain")
        for item in (items.pain_curve, items.pain_points):
            right.addItem(item)
        entries.append(LegendEntry("Pain NRS", pen=style.pen(style.pain, 2.0, Qt.PenStyle.DashLine), symbol="x",
                                   symbol_pen=style.pen(style.pain, 2.0)))

    # The resolution and the as-of date as lines.
    if data.resolved_x is not None:
        items.resolved_line = pg.InfiniteLine(data.resolved_x, angle=90,
                                              pen=style.pen(style.resolved, 2.0, Qt.PenStyle.DashDotLine))
        items.resolved_line.setZValue(Z_MARK_LINE)
        vb.addItem(items.resolved_line, ignoreBounds=True)
        entries.append(LegendEntry(f"Resolved {data.resolved_text or date_text(data.episode.resolved_on)}",
                                   pen=style.pen(style.resolved, 2.0, Qt.PenStyle.DashDotLine)))
    if data.x_range[0] <= data.as_of_x <= data.x_range[1]:
        as_of_pen = style.pen(style.as_of, 1.4, Qt.PenStyle.DashLine)
        items.as_of_line = pg.InfiniteLine(data.as_of_x, angle=90, pen=as_of_pen)
        items.as_of_line.setZValue(Z_MARK_LINE)
        vb.addItem(items.as_of_line, ignoreBounds=True)
        entries.append(LegendEntry(f"As of {data.as_of_text or date_text(data.as_of)}", pen=as_of_pen))

    if data.diagnosis != TOH:
        items.note = _note(vb, f"Diagnosis revised to {diagnosis_text(data.diagnosis)}: no expected window", style)
    elif not (data.studies or data.pain or data.function or data.treatments):
        items.note = _note(vb, "No studies, symptoms or treatments recorded", style)
    items.legend = _place_legend(plot, state, entries, style)
    vb.setXRange(*data.x_range, padding=0.0)
    follow()
    return items


def _note(vb: pg.ViewBox, text: str, style: Style) -> pg.TextItem:
    """A line of text at the plot's top left (placed by the y fit)."""
    note = pg.TextItem(text, color=style.text, anchor=(0.0, 0.0), fill=QBrush(QColor(style.background)))
    note.setFont(style.font(style.legend_pt))
    note.setZValue(Z_LABEL)
    vb.addItem(note, ignoreBounds=True)
    return note


def _extent_axis_label(data: CourseData, short: bool = False) -> str:
    """The left axis title, short enough to stand beside a small plot: 'Edema (%)', or just '%'."""
    if short:
        return data.unit or "Edema"
    return {"%": "Edema (%)", "mL": "Edema (mL)", "regions": "Edema (regions)"}.get(data.unit, "Edema")


def _fit_axis_titles(items: CourseItems, height: float) -> None:
    """Side axis titles that fit the plot's height: the short forms on a low plot, never cut off."""
    style, data = items.style, items.data
    metrics = QFontMetricsF(style.font(style.label_pt))
    for name, full, short, colour in (("left", _extent_axis_label(data), _extent_axis_label(data, True), style.extent),
                                      ("right", "Pain (NRS)", "NRS", style.pain)):
        text = full if metrics.horizontalAdvance(full) + 6 <= height else short
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
        for scatter in items.unmeasured.values():
            x, _ = scatter.getData()
            marks = [pt.data() for pt in scatter.points()]
            scatter.setData(x=list(x), y=[y] * len(x), data=marks)
        first_treatment_row = 1
    for item in items.treatments:
        item.set_y(*row_span(first_treatment_row + item.span.row))


# ---------------------------------------------------------------------------
# The history lanes
# ---------------------------------------------------------------------------

#: Half the height of a bar, in lanes.
BAR_HALF = 0.27
#: The tallest a lane gets, in pixels.
LANE_PX = 46.0


@dataclass
class LaneItems:
    """What build_lanes drew, for tests and for the print layout to inspect."""

    plot: pg.PlotItem
    data: HistoryData
    bars: list[SpanItem] = field(default_factory=list)
    links: list[LinkItem] = field(default_factory=list)
    multifocal: list[MultifocalItem] = field(default_factory=list)
    as_of_line: pg.InfiniteLine | None = None
    legend: Legend | None = None


def build_lanes(plot: pg.PlotItem, data: HistoryData, style: Style = STYLE,
                on_click: Callable[[Any], None] | None = None, selected: Any = None) -> LaneItems:
    """Draw the patient's history into a PlotItem: one lane per site, a bar per episode, arrows between lanes."""
    state = _prepare(plot, style, data.axis)
    vb = plot.vb
    plot.hideAxis("right")
    items = LaneItems(plot, data)
    left = plot.getAxis("left")
    _style_axis(left, style, "", widest=tuple(lane.label for lane in data.lanes) or ("",))
    left.setTicks([[(lane.row, lane.label) for lane in data.lanes], []])
    left.setStyle(tickLength=0)
    _style_axis(plot.getAxis("bottom"), style, "")
    plot.showLabel("bottom", False)
    plot.showLabel("left", False)
    vb.invertY(True)

    for lane in data.lanes[1:]:
        rule = pg.InfiniteLine(lane.row - 0.5, angle=0, pen=style.pen(style.lane_rule, 1.0))
        rule.setZValue(Z_BASELINE)
        vb.addItem(rule, ignoreBounds=True)
    font = style.font(style.tick_pt)
    statuses = set()
    for bar in data.bars:
        if not bar.is_toh:
            fill, pen, kind = style.revised_fill, style.pen(style.bar_edge, 1.2, Qt.PenStyle.DashLine), "revised"
        elif bar.end is None:
            fill, pen, kind = style.active_fill, style.pen(style.bar_edge, 1.2), "active"
        else:
            fill, pen, kind = style.resolved_fill, style.pen(style.bar_edge, 1.0), "resolved"
        statuses.add(kind)
        if bar.episode is selected and selected is not None:
            pen = QPen(pen)
            pen.setWidthF(3.0 * style.pen_scale)
        months = (plotdata.months_from(bar.start, bar.end or data.as_of))
        label = f"{months:.1f} mo" if bar.is_toh else diagnosis_text(bar.diagnosis)
        item = SpanItem(bar.x0, bar.x1, bar.row - BAR_HALF, bar.row + BAR_HALF, label, bar.tip, bar.episode, fill,
                        pen, font, open_end=bar.end is None)
        item.bar = bar
        item.setZValue(Z_SPAN)
        if on_click is not None:
            item.sigClicked.connect(on_click)
        vb.addItem(item)
        items.bars.append(item)
    for marker in data.multifocal:
        item = MultifocalItem(marker, BAR_HALF, style)
        item.setZValue(Z_CURVE)
        vb.addItem(item, ignoreBounds=True)
        items.multifocal.append(item)
    for link in data.links:
        item = LinkItem(link, BAR_HALF, style)
        item.setZValue(Z_POINTS)
        vb.addItem(item, ignoreBounds=True)
        items.links.append(item)
    if not data.bars:
        hint = pg.TextItem("No episodes recorded", color=style.text, anchor=(0.5, 0.5))
        hint.setFont(style.font(style.label_pt))
        vb.addItem(hint, ignoreBounds=True)
        hint.setPos(sum(data.x_range) / 2, 0.5)
    else:
        items.as_of_line = pg.InfiniteLine(data.as_of_x, angle=90,
                                           pen=style.pen(style.as_of, 1.4, Qt.PenStyle.DashLine))
        items.as_of_line.setZValue(Z_MARK_LINE)
        vb.addItem(items.as_of_line, ignoreBounds=True)

    entries = []
    if "active" in statuses:
        entries.append(LegendEntry("Active", fill=style.active_fill, edge=style.pen(style.bar_edge, 1.2)))
    if "resolved" in statuses:
        entries.append(LegendEntry("Resolved", fill=style.resolved_fill, edge=style.pen(style.bar_edge, 1.0)))
    if "revised" in statuses:
        entries.append(LegendEntry("Diagnosis revised", fill=style.revised_fill,
                                   edge=style.pen(style.bar_edge, 1.2, Qt.PenStyle.DashLine)))
    kinds = {link.kind for link in data.links}
    if RECURRENCE in kinds:
        entries.append(LegendEntry("Recurrence", pen=style.pen(style.recurrence, 1.6, Qt.PenStyle.DashLine),
                                   arrow=True))
    if MIGRATION in kinds:
        entries.append(LegendEntry("Migration", pen=style.pen(style.migration, 2.0), arrow=True))
    if data.multifocal:
        entries.append(LegendEntry("Multifocal onset", pen=style.pen(style.multifocal, 2.5)))
    if items.as_of_line is not None:
        entries.append(LegendEntry(f"As of {data.as_of_text or date_text(data.as_of)}",
                                   pen=style.pen(style.as_of, 1.4, Qt.PenStyle.DashLine)))
    items.legend = _place_legend(plot, state, entries, style)

    vb.setXRange(*data.x_range, padding=0.0)

    def fit() -> None:  # lanes of at most LANE_PX, from the top: bars stay bars in a tall plot
        rows = max(len(data.lanes), 2, vb.height() / LANE_PX)
        vb.setYRange(-0.62, rows - 0.38, padding=0.0)

    _connect(state, vb.sigResized, fit)
    fit()
    return items


# ---------------------------------------------------------------------------
# Widgets
# ---------------------------------------------------------------------------


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
            _prepare(plot, self.style_, MONTHS)
            for name in ("left", "bottom", "right"):
                plot.hideAxis(name)
            self.items = None
            hint = pg.TextItem("No episode to show", color=self.style_.text, anchor=(0.5, 0.5))
            hint.setFont(self.style_.font(self.style_.label_pt))
            plot.vb.addItem(hint)
            plot.vb.setRange(xRange=(0, 12), yRange=(0, 100), padding=0)
            hint.setPos(6, 50)
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
