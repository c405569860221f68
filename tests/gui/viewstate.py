"""What the main window shows, as plain data: texts of the header, flags, episodes and findings, the patient list
and the worklist, and a structural description of every plot (each item's kind and data, legends, axes).

Two windows showing the same thing describe equal; a stale item, a flag left from another patient or a lost
selection makes them differ. `difference(a, b)` names the first place they part.
"""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtWidgets import QAbstractItemView, QGraphicsItem, QTableWidget

#: Rows of the patient list described (its first page is what a fresh window loads).
LIST_ROWS = 60


def _num(value: Any) -> Any:
    """A number as compared: rounded to 6 significant digits (layout arithmetic differs in the last bits)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "nan"
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    return float(f"{number:.6g}")


def _nums(values) -> list:
    return [] if values is None else [_num(v) for v in values]


# ---------------------------------------------------------------------------
# Tables and lists
# ---------------------------------------------------------------------------


def table_widget(table: QTableWidget) -> dict:
    rows = [[table.item(r, c).text() if table.item(r, c) else "" for c in range(table.columnCount())]
            for r in range(table.rowCount())]
    return {"rows": rows, "selected": sorted(i.row() for i in table.selectionModel().selectedRows())}


def table_view(view: QAbstractItemView, limit: int | None = None) -> dict:
    model = view.model()
    count = model.rowCount() if limit is None else min(limit, model.rowCount())
    rows = [[str(model.index(r, c).data() or "") for c in range(model.columnCount())] for r in range(count)]
    headers = [str(model.headerData(c, _horizontal()) or "") for c in range(model.columnCount())]
    return {"headers": headers, "rows": rows,
            "selected": sorted(i.row() for i in view.selectionModel().selectedRows())}


def _horizontal():
    from PySide6.QtCore import Qt

    return Qt.Orientation.Horizontal


def patient_view(view) -> dict:
    """The patient view's texts, its selection and the timeline's choices (not the plots: `plots`)."""
    ui = view.ui
    flags = [ui.flags_list.item(i).text() for i in range(ui.flags_list.count())]
    tabs = ui.findings_tabs
    described = {
        "header": [ui.name_label.text(), ui.details_label.text(), ui.pattern_label.text()],
        "flags": flags,
        "episodes": table_widget(ui.episodes_table),
        "findings_tabs": [tabs.tabText(i) for i in range(tabs.count())],
        "findings_tab": tabs.currentIndex(),
        "imaging": table_widget(ui.imaging_table),
        "symptoms": table_widget(ui.symptoms_table),
        "treatments": table_widget(ui.treatments_table),
    }
    if view.timeline_loaded():
        panel = view.timeline
        described["timeline"] = {"history": panel.history_button.isChecked(), "dates": panel.dates_toggle.isChecked(),
                                 "course_tip": panel.course_button.toolTip(),
                                 "history_tip": panel.history_button.toolTip()}
    return described


def window(win, plots_too: bool = True) -> dict:
    """Everything the main window shows of the database: title, the left pane (patient list or worklist), the
    patient view and, with `plots_too`, its plots."""
    ui = win.ui
    described: dict[str, Any] = {
        "title": win.windowTitle(),
        "left_tab": ui.left_tabs.currentIndex(),
        "patient_list": table_view(ui.patient_table, LIST_ROWS),
        "count": ui.count_label.text(),
        "page": ui.patient_stack.currentWidget().objectName(),
    }
    if ui.left_tabs.currentWidget() is ui.worklist_contents:  # only what is on screen (it refreshes when shown)
        described["worklist"] = table_view(ui.worklist_table)
        described["worklist_count"] = ui.worklist_count.text()
    if ui.patient_stack.currentWidget() is ui.patient_page:
        described["patient"] = patient_view(win.view)
        if plots_too and win.view.timeline_loaded():
            described["plots"] = plots(win.view.timeline)
    return described


# ---------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------


def plots(panel) -> dict:
    """The plot the timeline panel shows (the course or the history lanes). The hidden one is left out: its
    layout waits for it to be shown (a fresh window has never laid it out), and once shown it is compared."""
    return {name: plot_widget(widget) if widget.isVisibleTo(panel) else "hidden"
            for name, widget in (("course", panel.course), ("lanes", panel.lanes))}


def plot_widget(widget) -> dict:
    """A pyqtgraph PlotWidget: its axes and legend, and every item of every ViewBox in its scene."""
    import pyqtgraph as pg

    plot = widget.getPlotItem()
    scene = widget.scene()
    boxes = [item for item in scene.items() if isinstance(item, pg.ViewBox)]
    boxes.sort(key=lambda vb: (vb is not plot.vb, type(vb).__name__))
    return {
        "axes": {name: axis(plot, name) for name in ("left", "bottom", "right", "top")},
        "view_boxes": [view_box(vb) for vb in boxes],
        "legends": legends(scene),
    }


def axis(plot, name: str) -> dict | None:
    ax = plot.getAxis(name) if name in plot.axes else None
    if ax is None:
        return None
    linked = ax.linkedView()
    return {"kind": type(ax).__name__, "shown": ax.isVisible(), "label": ax.labelText if ax.label.isVisible() else "",
            "units": ax.labelUnits,
            "range": _nums(linked.viewRange()[1 if ax.orientation in ("left", "right") else 0]) if linked else None}


def view_box(vb) -> dict:
    added = list(vb.addedItems)
    children = [item for item in vb.childGroup.childItems() if item not in added]
    return {"range": [_nums(r) for r in vb.viewRange()],
            "added": sorted((item_description(i) for i in added), key=repr),
            "children": sorted((item_description(i) for i in children), key=repr)}


def legends(scene) -> list:
    """Every legend's entries in the scene: pyqtgraph's LegendItem and any widget that lists its texts."""
    import pyqtgraph as pg

    found = []
    for item in scene.items():
        if isinstance(item, pg.LegendItem):
            found.append(sorted(label.text for _, label in item.items))
        elif callable(getattr(item, "texts", None)) and isinstance(item, pg.GraphicsWidget):
            found.append(list(item.texts()))
    return sorted(found)


def item_description(item: QGraphicsItem) -> dict:
    """One graphics item: its kind, whether it shows, and its data."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsPolygonItem, QGraphicsRectItem, QGraphicsTextItem

    described: dict[str, Any] = {"kind": type(item).__name__, "visible": item.isVisible()}
    if isinstance(item, pg.PlotDataItem):
        x, y = item.getData()
        described.update(x=_nums(x), y=_nums(y), name=item.name())
    elif isinstance(item, pg.PlotCurveItem):
        described.update(x=_nums(item.xData), y=_nums(item.yData))
    elif isinstance(item, pg.ScatterPlotItem):
        described["points"] = sorted((_num(p.pos().x()), _num(p.pos().y()), str(p.symbol()))
                                     for p in item.points())
    elif isinstance(item, pg.LinearRegionItem):
        described["region"] = _nums(item.getRegion())
    elif isinstance(item, pg.InfiniteLine):
        described.update(value=_num(item.value()), angle=_num(item.angle))
    elif isinstance(item, pg.TextItem):
        described.update(text=item.toPlainText(), pos=_nums((item.pos().x(), item.pos().y())))
    elif isinstance(item, QGraphicsPathItem):  # (pg.FillBetweenItem is one)
        path = item.path()
        described["path"] = [_nums((path.elementAt(i).x, path.elementAt(i).y)) for i in range(path.elementCount())]
    elif isinstance(item, pg.BarGraphItem):
        described["bars"] = {k: _nums(v) if hasattr(v, "__len__") else _num(v) for k, v in item.opts.items()
                             if k in ("x", "x0", "x1", "y", "y0", "y1", "height", "width")}
    elif isinstance(item, QGraphicsPolygonItem):
        described["polygon"] = [_nums((p.x(), p.y())) for p in item.polygon()]
    elif isinstance(item, QGraphicsRectItem):
        r = item.rect()
        described["rect"] = _nums((r.x(), r.y(), r.width(), r.height()))
    elif isinstance(item, QGraphicsTextItem):
        described["text"] = item.toPlainText()
    else:  # an item of our own (spans, links, markers): what it says and where
        for attribute in ("label", "tip", "text"):
            value = getattr(item, attribute, None)
            if isinstance(value, str):
                described[attribute] = value
        r = item.boundingRect()
        described["bounds"] = _nums((r.x(), r.y(), r.width(), r.height()))
    return described


# ---------------------------------------------------------------------------
# Comparing
# ---------------------------------------------------------------------------


def difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where two descriptions first differ (None: equal), e.g. "patient.flags[2]: '⚠ …' != (missing)"."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if key not in a or key not in b:
                return f"{path}.{key}: {'(missing)' if key not in a else _short(a[key])} != " \
                       f"{'(missing)' if key not in b else _short(b[key])}"
            found = difference(a[key], b[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b)):
            found = difference(x, y, f"{path}[{i}]")
            if found:
                return found
        if len(a) != len(b):
            i = min(len(a), len(b))
            return f"{path}: {len(a)} != {len(b)} items; first extra: " \
                   f"{_short(a[i] if len(a) > len(b) else b[i])}"
        return None
    return None if a == b else f"{path}: {_short(a)} != {_short(b)}"


def _short(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
