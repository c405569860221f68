"""The timeline's own graphics items: treatment and episode spans, the regression band, the links between
lanes and the multifocal onset."""

from __future__ import annotations

import math
from typing import Any

import pyqtgraph as pg
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsPolygonItem

from ... import plotdata
from ...plotdata import MIGRATION
from .style import STYLE, Style, _pen



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
        self.short_label = ""  # what a span too short for its label shows instead ('2.0' for '2.0 mo')
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
        if self.short_label and metrics.horizontalAdvance(self.short_label) + 8 <= device.width():
            p.drawText(device.adjusted(4, 0, -4, 0), flags, self.short_label)
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

