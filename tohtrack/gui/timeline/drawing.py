"""One build of a plot, owned as a whole: a redraw removes everything the previous build added.

A builder never adds to a PlotItem directly: it asks its `Drawing` to add an item to a ViewBox, an item to the
plot's layout, a second ViewBox, or a signal connection, and the Drawing remembers each. `Drawing.begin(plot)`
first removes whatever the plot's previous Drawing added (items, layout items, ViewBoxes, connections, the hover
text a point left on the ViewBox), then sweeps anything still parented to the ViewBox (an item added behind the
Drawing's back: `PlotItem.clear()` alone leaves items added with `ViewBox.addItem`), so that every picture is
built from nothing.
"""

from __future__ import annotations

from typing import Any, Callable

import pyqtgraph as pg
from PySide6.QtGui import QBrush, QColor, QPen

from .axes import TimeAxis, ValueAxis
from .legend import Legend, LegendEntry
from .style import Style

#: The widest a legend gets, as a share of the plot's width (its texts are elided beyond).
LEGEND_SHARE = 0.4
#: Where a plot keeps its current Drawing.
_KEY = "_tohtrack_drawing"


class Drawing:
    """What one build put into a PlotItem, and the means to take it all out again."""

    def __init__(self, plot: pg.PlotItem):
        self.plot = plot
        self._items: list[tuple[pg.ViewBox, Any]] = []
        self._layout_items: list[Any] = []
        self._views: list[pg.ViewBox] = []
        self._overlays: list[Any] = []
        self._disconnects: list[Callable[[], None]] = []

    # -- starting and ending ------------------------------------------------------------------------------------

    @classmethod
    def current(cls, plot: pg.PlotItem) -> "Drawing | None":
        """The plot's current Drawing, if any."""
        return getattr(plot, _KEY, None)

    @classmethod
    def begin(cls, plot: pg.PlotItem, style: Style, mode: str, values: bool = False) -> "Drawing":
        """Empty the plot (see the module's doc) and set it up as a static plot (no pan, zoom or menu) with our
        bottom axis, and our value axes at the sides when `values`."""
        previous = cls.current(plot)
        if previous is not None:
            previous.remove()
        _sweep(plot)
        drawing = cls(plot)
        setattr(plot, _KEY, drawing)
        # New axes each time: an axis keeps its title, pens, fixed ticks and ranges, none of which may outlive
        # the picture they were set for.
        axes = {"bottom": TimeAxis(style, mode)}
        for name in ("left", "right"):
            axes[name] = ValueAxis(name, style) if values else pg.AxisItem(name)
        plot.setAxisItems(axes)
        plot.hideAxis("right")
        plot.setMenuEnabled(False)
        plot.hideButtons()
        vb = plot.vb
        vb.setMouseEnabled(False, False)
        vb.disableAutoRange()
        vb.setDefaultPadding(0.0)
        vb.invertY(False)
        plot.layout.setContentsMargins(2, 6, 4, 2)
        return drawing

    @classmethod
    def begin_plain(cls, plot: pg.PlotItem) -> "Drawing":
        """Empty the plot as `begin` does, with new plain axes at the left and bottom (for plots that are not a
        timeline, such as the cohort's survival curves and box plots, which set their own ticks)."""
        previous = cls.current(plot)
        if previous is not None:
            previous.remove()
        _sweep(plot)
        drawing = cls(plot)
        setattr(plot, _KEY, drawing)
        plot.setAxisItems({name: pg.AxisItem(name) for name in ("left", "bottom", "right")})
        plot.hideAxis("right")
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.vb.setMouseEnabled(False, False)
        return drawing

    def finish(self) -> None:
        """Bring every axis to its view's range now (a new axis hears of a range only when the range changes)."""
        for name in ("left", "bottom", "right"):
            axis = self.plot.getAxis(name)
            view = axis.linkedView()
            if view is not None:
                axis.linkedViewChanged(view)

    def remove(self) -> None:
        """Take out everything this Drawing added."""
        for disconnect in reversed(self._disconnects):
            try:
                disconnect()
            except (RuntimeError, TypeError):  # the sender is gone already
                pass
        self._disconnects.clear()
        for view, item in reversed(self._items):
            view.removeItem(item)
        self._items.clear()
        for item in reversed(self._layout_items):
            self.plot.layout.removeItem(item)
            if item.scene() is not None:
                item.scene().removeItem(item)
            item.setParentItem(None)
        self._layout_items.clear()
        for item in reversed(self._overlays):
            if item.scene() is not None:
                item.scene().removeItem(item)
            item.setParentItem(None)
        self._overlays.clear()
        for view in reversed(self._views):
            view.clear()
            view.setXLink(None)
            view.setYLink(None)
            if view.scene() is not None:
                view.scene().removeItem(view)
            view.setParentItem(None)
        self._views.clear()
        self.plot.layout.invalidate()

    # -- adding ---------------------------------------------------------------------------------------------------

    def add(self, item, view: pg.ViewBox | None = None, bounds: bool = False):
        """Add an item to a ViewBox (the plot's own by default); `bounds`: it counts for auto-range."""
        view = view if view is not None else self.plot.vb
        view.addItem(item, ignoreBounds=not bounds)
        self._items.append((view, item))
        return item

    def add_to_layout(self, item, row: int, column: int, *span_and_alignment):
        """Add a widget item to the PlotItem's grid layout."""
        self.plot.layout.addItem(item, row, column, *span_and_alignment)
        self._layout_items.append(item)
        return item

    def add_overlay(self, item):
        """A child item of the PlotItem placed by hand (outside its layout)."""
        item.setParentItem(self.plot)
        self._overlays.append(item)
        return item

    def add_view(self) -> pg.ViewBox:
        """A second ViewBox over the plot's, linked on x (for a second y axis)."""
        vb = self.plot.vb
        view = pg.ViewBox(enableMouse=False, enableMenu=False)
        view.setParentItem(self.plot)
        view.setZValue(vb.zValue() + 1)
        view.setMouseEnabled(False, False)
        view.setDefaultPadding(0.0)
        view.disableAutoRange()
        view.setXLink(vb)
        self._views.append(view)
        return view

    def connect(self, signal, slot) -> None:
        """Connect, and disconnect when this Drawing is removed."""
        signal.connect(slot)
        self._disconnects.append(lambda: signal.disconnect(slot))


def _sweep(plot: pg.PlotItem) -> None:
    """Remove what is left in the plot that no Drawing owns: items added to the PlotItem or its ViewBox, and the
    hover text a point left on the ViewBox."""
    plot.clear()
    vb = plot.vb
    for item in list(vb.addedItems) + list(vb.childGroup.childItems()):
        vb.removeItem(item)
    vb.setToolTip("")


def scatter(points: list, symbol: str, size: float, pen: QPen, brush: QBrush, on_click, name: str,
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


def text_item(drawing: Drawing, text: str, style: Style, points: float, anchor=(0.0, 0.0),
              fill: bool = True) -> pg.TextItem:
    """A line of text in the plot (a hint or a note), owned by the drawing; the caller places it."""
    item = pg.TextItem(text, color=style.text, anchor=anchor,
                       fill=QBrush(QColor(style.background)) if fill else None)
    item.setFont(style.font(points))
    return drawing.add(item)


def place_legend(drawing: Drawing, entries: list[LegendEntry], style: Style) -> Legend:
    """The legend at the right of the plot, in a margin of the plot's layout as wide as the legend, refitted to
    the plot's size as it changes. It is not an item of the layout: a legend taller than the plot could then
    stretch the plot beyond its widget (pushing the bottom and right axes out of sight), and its size would
    depend on the sizes the plot had before."""
    plot = drawing.plot
    legend = Legend(entries, style)
    drawing.add_overlay(legend)
    margins = plot.layout.getContentsMargins()

    def refit() -> None:
        left, top, right, bottom = margins
        height = plot.height() - top - bottom - 2
        legend.fit(height, max(plot.width() * LEGEND_SHARE, 80.0))
        wanted = right + (legend.width() if entries else 0.0)
        if abs(plot.layout.getContentsMargins()[2] - wanted) > 0.5:
            plot.layout.setContentsMargins(left, top, wanted, bottom)
        legend.setPos(plot.width() - legend.width() - right, top + max((height - legend.height()) / 2, 0.0))

    drawing.connect(plot.vb.sigResized, refit)
    refit()
    return legend
