"""A structural description of what a pyqtgraph plot holds, for comparing a browsed view with a fresh one.

`describe(widget)` walks every graphics item in the widget's scene — whatever its parent, so an item that
survived a redraw detached from its ViewBox still counts — and every ViewBox's added items and child group,
and says for each its kind and its data: curves and scatter points with their values, symbols and hover
texts; lines, regions, polygons, text; spans and links of the timeline; axes with their titles, ranges and
tick labels; legends with their entries. Two plots that show the same picture have equal descriptions;
`assert_same(a, b)` fails with the items one has and the other has not.

Nothing here knows which items a plot should hold: it describes what is there.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyqtgraph as pg
from PySide6.QtWidgets import QGraphicsPolygonItem, QGraphicsTextItem

DIGITS = 6


def _num(value: Any) -> Any:
    """A number rounded for comparison (floats from the same computation compare equal; -0.0 is 0.0)."""
    try:
        number = round(float(value), DIGITS)
    except (TypeError, ValueError):
        return repr(value)
    return number + 0.0


def _nums(values) -> tuple:
    return tuple(_num(v) for v in (values if values is not None else ()))


def _pen(pen) -> tuple:
    if pen is None:
        return ()
    try:
        return (pen.color().name(), int(pen.style().value), _num(pen.widthF()))
    except AttributeError:
        return (repr(pen),)


def _brush(brush) -> str:
    try:
        return brush.color().name() + f"/{int(brush.style().value)}"
    except AttributeError:
        return repr(brush)


def _rect(rect) -> tuple:
    """A rectangle to half a pixel (scene coordinates)."""
    return tuple(round(v * 2) / 2 + 0.0 for v in (rect.x(), rect.y(), rect.width(), rect.height()))


def _points(scatter: pg.ScatterPlotItem) -> tuple:
    out = []
    for point in scatter.points():
        data = point.data()
        tip = getattr(data, "tip", None)
        out.append((_num(point.pos().x()), _num(point.pos().y()), str(point.symbol()), _num(point.size()),
                    _pen(point.pen()), _brush(point.brush()), tip if tip is not None else repr(data)))
    return tuple(out)


def _axis(axis: pg.AxisItem) -> tuple:
    lo, hi = axis.range
    length = axis.geometry().width() if axis.orientation in ("top", "bottom") else axis.geometry().height()
    ticks = []
    try:
        if axis._tickLevels is not None:  # fixed ticks (setTicks)
            levels = [(None, [v for v, _ in level]) for level in axis._tickLevels]
            strings = [[s for _, s in level] for level in axis._tickLevels]
        else:
            levels = axis.tickValues(lo, hi, length) if hi > lo and length > 0 else []
            strings = [axis.tickStrings(values, axis.autoSIPrefixScale, spacing) for spacing, values in levels]
        for (spacing, values), texts in zip(levels, strings):
            ticks.append(tuple(zip(_nums(values), texts)))
    except Exception as error:  # pragma: no cover - a description must not fail
        ticks.append(("error", repr(error)))
    return ("axis", axis.orientation, axis.labelText, bool(axis.label.isVisible()) and axis.labelText != "",
            _num(lo), _num(hi), tuple(ticks), _pen(axis.pen()))


def item_description(item) -> tuple:
    """One item's kind and data (the kind is its class name; the data what that kind of item shows)."""
    kind = type(item).__name__
    data: tuple = ()
    if isinstance(item, pg.PlotCurveItem):
        x, y = item.getData()
        data = (_nums(x), _nums(y), _pen(item.opts.get("pen")))
    elif isinstance(item, pg.PlotDataItem):
        x, y = item.getData()
        data = (_nums(x), _nums(y))
    elif isinstance(item, pg.ScatterPlotItem):
        data = (item.name(), _points(item))
    elif isinstance(item, pg.InfiniteLine):
        data = (_num(item.value()), _num(item.angle), _pen(item.pen))
    elif isinstance(item, pg.LinearRegionItem):
        data = (_nums(item.getRegion()), _brush(item.brush))
    elif isinstance(item, pg.TextItem):
        data = (item.toPlainText(),)
    elif isinstance(item, QGraphicsTextItem):
        data = (item.toPlainText(),)
    elif isinstance(item, QGraphicsPolygonItem):
        polygon = item.polygon()
        data = (tuple((_num(polygon[i].x()), _num(polygon[i].y())) for i in range(polygon.size())),
                _brush(item.brush()), _pen(item.pen()))
    elif isinstance(item, pg.AxisItem):
        data = _axis(item)
    elif isinstance(item, pg.ViewBox):
        (x0, x1), (y0, y1) = item.viewRange()
        data = (_num(x0), _num(x1), _num(y0), _num(y1), item.state["yInverted"])
    # The timeline's own items, by what they carry (duck-typed: any item with these attributes).
    for name in ("label", "short_label", "text", "x0", "x1", "y0", "y1", "open_end"):
        value = getattr(item, name, None)
        if isinstance(value, (str, bool)):
            data += ((name, value),)
        elif isinstance(value, (int, float)):
            data += ((name, _num(value)),)
    if hasattr(item, "points") and isinstance(item.points, list):
        data += (("points", tuple((_num(p.x()), _num(p.y())) for p in item.points)),)
    if hasattr(item, "texts") and callable(item.texts):
        data += (("texts", tuple(item.texts())),)
    if hasattr(item, "brush") and not callable(item.brush):
        data += (("brush", _brush(item.brush)),)
    return (kind, data, item.toolTip(), bool(item.isVisible()), _num(item.zValue()))


def describe(widget: pg.PlotWidget, geometry: bool = True) -> dict:
    """What a plot widget holds: every item in its scene (a sorted multiset of descriptions), the ViewBoxes with
    their ranges, added items, child groups and tooltips, the axes, and the legends' entries."""
    widget.grab()  # paint once: ViewBoxes bring their lazily updated transforms up to date, as on screen
    scene = widget.scene()
    items = []
    for item in scene.items():
        entry = item_description(item)
        # An axis title's place is not compared: pyqtgraph places it when its axis is resized, so after a new
        # title on an axis of unchanged size it sits where the last layout put it (its text and the axis are).
        if geometry and not isinstance(item.parentItem(), pg.AxisItem):
            entry += (_rect(item.sceneBoundingRect()),)
        items.append(repr(entry))
    viewboxes = []
    legends = []
    axes = []
    for item in scene.items():
        if isinstance(item, pg.ViewBox):
            viewboxes.append(repr((item_description(item),
                                   sorted(repr(item_description(i)) for i in item.addedItems),
                                   sorted(repr(item_description(i)) for i in item.childGroup.childItems()),
                                   item.toolTip())))
        elif isinstance(item, pg.AxisItem):
            axes.append(repr((item.isVisible(),) + _axis(item)))
        elif isinstance(item, pg.LegendItem):
            legends.append(tuple(label.text for _, label in item.items))
        elif hasattr(item, "texts") and callable(item.texts) and hasattr(item, "entries"):
            legends.append(tuple(item.texts()))
    return {
        "count": len(items),
        "kinds": dict(sorted(Counter(type(i).__name__ for i in scene.items()).items())),
        "items": sorted(items),
        "viewboxes": sorted(viewboxes),
        "axes": sorted(axes),
        "legends": sorted(legends),
    }


def difference(a: dict, b: dict) -> str:
    """What one description has that the other has not, in words (empty when they are equal)."""
    lines = []
    for key in a.keys() | b.keys():
        left, right = a.get(key), b.get(key)
        if left == right:
            continue
        if isinstance(left, list) and isinstance(right, list):
            extra, missing = Counter(map(repr, left)) - Counter(map(repr, right)), \
                Counter(map(repr, right)) - Counter(map(repr, left))
            lines += [f"{key}: only in the first: {x}" for x in extra]
            lines += [f"{key}: only in the second: {x}" for x in missing]
        else:
            lines.append(f"{key}: {left!r} != {right!r}")
    return "\n".join(lines)


def assert_same(browsed: dict, fresh: dict) -> None:
    """Fail, naming the items that differ, unless two descriptions are equal."""
    diff = difference(browsed, fresh)
    assert not diff, "the plots differ (first = browsed, second = fresh):\n" + diff[:6000]
