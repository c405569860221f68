"""Where the app's resources (stylesheet, icons, fonts) are: beside the package when installed, else the repo;
and how the stylesheet reaches the widgets.

The clinic stylesheet is set on the widgets it styles (and their children), not on the application: with an
application-wide sheet Qt routes every widget's polish and paint through its stylesheet style, which cost the
main window about 10 ms before its first paint (measured with tests/perf/bench.py). What the sheet said of every
widget is said otherwise: the application font carries the text size (`BASE_POINTS`), and `plain_table` gives
the tables outside the sheet its bold header sections and a selection that stays visible without focus.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QTableView, QWidget

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


def base_font(font: QFont) -> QFont:
    """The app's text font: `font` (the platform's) at the app's size."""
    font = QFont(font)
    font.setPointSizeF(BASE_POINTS)
    return font


def plain_table(table: QTableView) -> None:
    """A table outside the stylesheet as the sheet would show it: bold header sections, and the selected rows in
    the highlight colour also while another widget has the focus (the open patient stays marked in the list)."""
    for header in (table.horizontalHeader(),):
        font = QFont(header.font())
        font.setBold(True)
        header.setFont(font)
    palette = table.palette()
    for role in (QPalette.ColorRole.Highlight, QPalette.ColorRole.HighlightedText):
        palette.setColor(QPalette.ColorGroup.Inactive, role, palette.color(QPalette.ColorGroup.Active, role))
    table.setPalette(palette)
