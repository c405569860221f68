"""The timeline plots (pyqtgraph): an episode's course and the patient's history lanes.

`build_course(plot, data, style)` and `build_lanes(plot, data, style)` draw tohtrack.plotdata's pictures into
any pyqtgraph PlotItem, so the same builder serves the screen (CoursePlot, HistoryLanes, TimelinePanel) and
print (a PlotItem rendered with QPainter onto QPdfWriter). Each build owns what it adds (`drawing.Drawing`) and
the next build removes it all first: a redraw starts from an empty plot.

The package's layers, each in its own module:

- `style`: colours, lines, symbols and fonts (Style, STYLE) and the stacking order;
- `axes`, `items`, `legend`: the graphics items (TimeAxis, ValueAxis, SpanItem, BandItem, LinkItem,
  MultifocalItem, Legend…);
- `drawing`: one build's ownership of what it adds;
- `course`, `lanes`: the builders;
- `widgets`: CoursePlot, HistoryLanes and TimelinePanel.

Importing the package creates nothing: no widget, no application, no global pyqtgraph setting.
"""

from .axes import TimeAxis, ValueAxis, style_axis
from .course import WARNING_RING, CourseItems, build_course
from .drawing import Drawing
from .items import BandItem, LinkItem, MultifocalItem, SpanItem
from .lanes import BAR_HALF, LANE_PX, LaneItems, build_lanes
from .legend import Legend, LegendEntry, LegendSample, TextWidget
from .style import LEGEND_CHARS, STYLE, Style
from .widgets import CoursePlot, HistoryLanes, TimelinePanel

__all__ = [
    "BAR_HALF", "LANE_PX", "LEGEND_CHARS", "STYLE", "WARNING_RING", "BandItem", "CourseItems", "CoursePlot",
    "Drawing", "HistoryLanes", "LaneItems", "Legend", "LegendEntry", "LegendSample", "LinkItem",
    "MultifocalItem", "SpanItem", "Style", "TextWidget", "TimeAxis", "TimelinePanel", "ValueAxis",
    "build_course", "build_lanes", "style_axis",
]
