"""The patient's history drawn into a PlotItem: `build_lanes(plot, data, style)`, one lane per joint site, a bar
per episode, recurrence and migration as arrows between them. Every item goes through the build's Drawing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QPen

from ... import plotdata
from ...plotdata import MIGRATION, RECURRENCE, HistoryData
from ...wording import date_text, diagnosis_text
from .axes import style_axis
from .drawing import Drawing, place_legend, text_item
from .items import LinkItem, MultifocalItem, SpanItem
from .legend import Legend, LegendEntry
from .style import STYLE, Z_BASELINE, Z_CURVE, Z_MARK_LINE, Z_POINTS, Z_SPAN, Style

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
    entries: list[LegendEntry] = field(default_factory=list)


def build_lanes(plot: pg.PlotItem, data: HistoryData, style: Style = STYLE,
                on_click: Callable[[Any], None] | None = None, selected: Any = None) -> LaneItems:
    """Draw the patient's history into a PlotItem: one lane per site, a bar per episode, arrows between lanes."""
    drawing = Drawing.begin(plot, style, data.axis)
    items = LaneItems(plot, data)
    _axes(drawing, items, style)
    statuses = _bars(drawing, items, style, on_click, selected)
    _links(drawing, items, style)
    _as_of(drawing, items, style)
    items.entries = _legend_entries(items, style, statuses)
    items.legend = place_legend(drawing, items.entries, style)
    vb = plot.vb
    vb.setXRange(*data.x_range, padding=0.0)

    def fit() -> None:  # lanes of at most LANE_PX, from the top: bars stay bars in a tall plot
        rows = max(len(data.lanes), 2, vb.height() / LANE_PX)
        vb.setYRange(-0.62, rows - 0.38, padding=0.0)

    drawing.connect(vb.sigResized, fit)
    fit()
    drawing.finish()
    return items


def _axes(drawing: Drawing, items: LaneItems, style: Style) -> None:
    """The lanes' names at the left (one tick each), time at the bottom, lane rules between the lanes."""
    plot, data = drawing.plot, items.data
    left = plot.getAxis("left")
    style_axis(left, style, "", widest=tuple(lane.label for lane in data.lanes) or ("",))
    left.setTicks([[(lane.row, lane.label) for lane in data.lanes], []])
    left.setStyle(tickLength=0)
    style_axis(plot.getAxis("bottom"), style, "")
    plot.showLabel("bottom", False)
    plot.showLabel("left", False)
    plot.vb.invertY(True)
    for lane in data.lanes[1:]:
        rule = pg.InfiniteLine(lane.row - 0.5, angle=0, pen=style.pen(style.lane_rule, 1.0))
        rule.setZValue(Z_BASELINE)
        drawing.add(rule)


def _bars(drawing: Drawing, items: LaneItems, style: Style, on_click, selected) -> set[str]:
    """A bar per episode: active (open-ended, dark), resolved (light) or with a revised diagnosis (grey,
    dashed edge); the selected episode's outlined. Returns the statuses drawn (for the legend)."""
    data = items.data
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
        months = plotdata.months_from(bar.start, bar.end or data.as_of)
        label = f"{months:.1f} mo" if bar.is_toh else diagnosis_text(bar.diagnosis)
        item = SpanItem(bar.x0, bar.x1, bar.row - BAR_HALF, bar.row + BAR_HALF, label, bar.tip, bar.episode, fill,
                        pen, font, open_end=bar.end is None)
        item.bar = bar
        item.short_label = f"{months:.1f}" if bar.is_toh else ""
        item.setZValue(Z_SPAN)
        if on_click is not None:
            item.sigClicked.connect(on_click)
        drawing.add(item, bounds=True)
        items.bars.append(item)
    return statuses


def _links(drawing: Drawing, items: LaneItems, style: Style) -> None:
    """Multifocal onsets as lines joining bars; recurrences and migrations as arrows."""
    for marker in items.data.multifocal:
        item = MultifocalItem(marker, BAR_HALF, style)
        item.setZValue(Z_CURVE)
        drawing.add(item)
        items.multifocal.append(item)
    for link in items.data.links:
        item = LinkItem(link, BAR_HALF, style)
        item.setZValue(Z_POINTS)
        drawing.add(item)
        items.links.append(item)


def _as_of(drawing: Drawing, items: LaneItems, style: Style) -> None:
    """The as-of date as a line; with no episodes, a hint instead."""
    data = items.data
    if not data.bars:
        hint = text_item(drawing, "No episodes recorded", style, style.label_pt, anchor=(0.5, 0.5), fill=False)
        hint.setPos(sum(data.x_range) / 2, 0.5)
        return
    items.as_of_line = pg.InfiniteLine(data.as_of_x, angle=90, pen=style.pen(style.as_of, 1.4, Qt.PenStyle.DashLine))
    items.as_of_line.setZValue(Z_MARK_LINE)
    drawing.add(items.as_of_line)


def _legend_entries(items: LaneItems, style: Style, statuses: set[str]) -> list[LegendEntry]:
    """The legend: the bar kinds, link kinds and lines drawn, nothing else."""
    data = items.data
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
    return entries
