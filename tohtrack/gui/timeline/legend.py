"""The plots' legend: entries in columns beside the plot, as many rows as its height allows."""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from pyqtgraph.graphicsItems.ScatterPlotItem import drawSymbol
from PySide6.QtCore import QLineF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainter, QPen, QPolygonF

from .style import STYLE, Style, _pen



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
    symbol_size: float | None = None


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
            drawSymbol(p, e.symbol, e.symbol_size or STYLE.symbol_size * 0.9, e.symbol_pen or _pen("#333333"),
                       QBrush(QColor(e.symbol_brush)) if e.symbol_brush else QBrush(Qt.BrushStyle.NoBrush))


class TextWidget(pg.GraphicsWidget):
    """One line of text sized to its font (LabelItem pads too much for a dense legend); elided, with the whole
    text as tooltip, when given less width than it needs."""

    def __init__(self, text: str, font: QFont, colour: str, align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft):
        super().__init__()
        self.text, self.font, self.colour, self.align = text, font, QColor(colour), align
        self.metrics = QFontMetricsF(font)
        self.natural = self.metrics.horizontalAdvance(text) + 4
        self.shown = text
        self.set_width(None)

    def set_width(self, width: float | None) -> None:
        """At most `width` pixels wide (None: as wide as the text)."""
        width = self.natural if width is None else min(self.natural, max(width, 12.0))
        self.shown = self.text if width >= self.natural else self.metrics.elidedText(
            self.text, Qt.TextElideMode.ElideRight, width - 4)
        self.setToolTip("" if self.shown == self.text else self.text)
        size = QSizeF(width, self.metrics.height() + 2)
        self.setMinimumSize(size)
        self.setPreferredSize(size)
        self.setMaximumSize(size)
        self.update()

    def paint(self, p: QPainter, *args) -> None:
        p.setFont(self.font)
        p.setPen(self.colour)
        p.drawText(QRectF(0, 0, self.size().width(), self.size().height()),
                   int(self.align | Qt.AlignmentFlag.AlignVCenter), self.shown)


class Legend(pg.GraphicsWidget):
    """A legend in columns, as many rows as the plot's height allows, at the right of the plot."""

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

    def fit(self, height: float, width: float | None = None) -> None:
        """As many rows as fit in a height (pixels); texts elided so that the legend is at most `width` wide.
        The legend then takes its size: it floats over the plot's right margin, outside the plot's layout, so
        that its size never depends on (nor stretches) the plot's."""
        layout = self.layout()
        step = self.row_height + layout.verticalSpacing()
        self.arrange(int((max(height, self.row_height) + layout.verticalSpacing()) // step))
        columns = -(-len(self.cells) // self.rows) if self.cells else 0
        left, _, right, _ = layout.getContentsMargins()
        fixed = left + right + columns * (self.cells[0][0].minimumWidth() + layout.horizontalSpacing()) + \
            max(columns - 1, 0) * layout.horizontalSpacing() if self.cells else 0.0
        natural = fixed + sum(max(text.natural for _, text in self.cells[c * self.rows:(c + 1) * self.rows])
                              for c in range(columns))
        cap = None if width is None or natural <= width or not columns else (width - fixed) / columns
        for _, text in self.cells:
            text.set_width(cap)
        layout.invalidate()
        layout.activate()
        self.resize(self.effectiveSizeHint(Qt.SizeHint.PreferredSize))

    def texts(self) -> list[str]:
        """The legend's texts, in order."""
        return [e.text for e in self.entries]

