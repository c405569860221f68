"""Where the app's resources (stylesheet, icons, fonts) are: beside the package when installed, else the repo;
and how the stylesheet reaches the widgets.

The clinic stylesheet is set on the widgets it styles (and their children), not on the application: with an
application-wide sheet Qt routes every widget's polish and paint through its stylesheet style, which cost the
main window about 10 ms before its first paint (measured with tests/perf/bench.py). What the sheet said of every
widget is said otherwise: the application font carries the text size (`BASE_POINTS`, `set_base_font`), and
`plain_table` gives the tables outside the sheet bold header sections and a selection that stays visible without
focus. Their header sections' padding and grid lines are the style's own (#c7c7c7 on the light palette, where the
sheet drew palette(midlight), #cacaca).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QApplication, QTableView, QWidget

_PACKAGE = Path(__file__).resolve().parent.parent

#: The text size of the whole app, in points (headings and the search field are larger, by the stylesheet).
BASE_POINTS = 10.0


def root() -> Path:
    """The resources folder: tohtrack/resources in a wheel or bundle, resources/ in a checkout."""
    for candidate in (_PACKAGE / "resources", _PACKAGE.parent / "resources"):
        if (candidate / "styles").is_dir():
            return candidate
    raise FileNotFoundError("TOHtrack's resources folder is missing from this installation")


def path(*parts: str) -> Path:
    return root().joinpath(*parts)


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return path("styles", "clinic.qss").read_text(encoding="utf-8")


def style(*widgets: QWidget) -> None:
    """Give each widget (and the widgets inside it) the clinic stylesheet."""
    sheet = stylesheet()
    for widget in widgets:
        widget.setStyleSheet(sheet)


#: The widget classes a platform theme may give fonts of their own (Qt keeps them by class name: a desktop's menu
#: or tool-tip font, say). Setting the application font drops them; `set_base_font` keeps each at the app's size.
THEME_FONT_CLASSES = ("QMenu", "QMenuBar", "QMenuItem", "QMessageBox", "QLabel", "QTipLabel", "QStatusBar",
                      "QMdiSubWindowTitleBar", "QDockWidgetTitle", "QPushButton", "QCheckBox", "QRadioButton",
                      "QToolButton", "QAbstractItemView", "QListView", "QHeaderView", "QListBox", "QComboMenuItem",
                      "QComboLineEdit", "QGroupBox", "QTabBar")


def base_font(font: QFont) -> QFont:
    """The app's text font: `font` (the platform's) at the app's size."""
    font = QFont(font)
    font.setPointSizeF(BASE_POINTS)
    return font


def set_base_font(app: QApplication) -> None:
    """Every widget's text at the app's size, in the family and weight the platform gives its class (as the
    stylesheet's `font-size` did when it was set on the whole application)."""
    default = QFont(app.font())  # copies: what Qt hands back are its own, which setting the font replaces
    themed = {name: QFont(app.font(name)) for name in THEME_FONT_CLASSES}
    app.setFont(base_font(default))
    for name, font in themed.items():
        if font != default:
            app.setFont(base_font(font), name)


def plain_table(table: QTableView) -> None:
    """A table outside the stylesheet: bold header sections, and the selected rows in the highlight colour also
    while another widget has the focus (the open patient stays marked in the list). The sections keep the style's
    own padding: the sheet's rule for them, set on the six headers of the main window, cost 4-5 ms of its first
    paint (the sections are 6 px lower and 4 px narrower than the sheet made them)."""
    header = table.horizontalHeader()
    font = QFont(header.font())
    font.setBold(True)
    header.setFont(font)
    palette = table.palette()
    for role in (QPalette.ColorRole.Highlight, QPalette.ColorRole.HighlightedText):
        palette.setColor(QPalette.ColorGroup.Inactive, role, palette.color(QPalette.ColorGroup.Active, role))
    table.setPalette(palette)
