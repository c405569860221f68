"""The plots' axes: time (months since onset or calendar months) at the bottom, values at the sides."""

from __future__ import annotations

import datetime as dt
import math

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont, QFontMetricsF

from ... import plotdata
from ...plotdata import MONTHS
from ...wording import MONTH_NAMES
from .style import STYLE, Style



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


def style_axis(axis: pg.AxisItem, style: Style, label: str = "", colour: str | None = None,
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

