"""The timeline report on paper: tohtrack.report's content laid out with QPainter on a QPdfWriter or a QPrinter.

Text is laid out with QTextLayout in the bundled DejaVu Sans (embedded in the PDF, so the report looks the same on
every workstation). The plots are the screen's own builders (timeline.build_course / build_lanes) drawn into an
unshown PlotWidget and painted with QGraphicsScene.render: vector lines and text, not an image (pyqtgraph's SVG
exporter crashes on this Qt). The device's resolution is the screen's logical DPI, so the plots' fonts and pens
keep their proportions on paper (DESIGN.md); coordinates are floats, so nothing is lost by the low number.

Layout runs twice: once to count the pages (for "Page n of N"), once to paint. Tables repeat their header on
every page they continue on; a row's long note (a radiology report) splits between lines, never through one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import sys
from pathlib import Path
from typing import Callable

import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QEvent, QEventLoop, QIODevice, QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import (QColor, QFont, QFontDatabase, QFontMetricsF, QGuiApplication, QPageLayout, QPageSize,
                           QPagedPaintDevice, QPainter, QPdfWriter, QPen, QTextCharFormat, QTextLayout, QTextOption)
from PySide6.QtWidgets import QApplication

from .. import db, plotdata, safety
from ..db import Store, StoreError
from ..report import BULLET, Report, Row, Table, build
from ..wording import date_text
from . import resources, timeline

FONT_FILES = ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf")
PAGE_SIZES = {"A4": QPageSize.PageSizeId.A4, "Letter": QPageSize.PageSizeId.Letter}
MARGIN_MM = 14.0
COURSE_MM = 70.0  # the height of an episode's course plot

TEXT, MUTED, RULE, HEADER_FILL = "#1a1a1a", "#555555", "#b3b3b3", "#e8eef4"
SEVERITY = {"warning": ("Warning", "#b03c00", "#fbe9e0"), "info": ("Info", "#005a8c", "#e3eef7")}

_family: str | None = None
#: The placements of the last report painted (kind, text, page): what the layout tests look at.
last_layout: list[tuple[str, str, int]] = []


class ReportError(StoreError):
    """The report could not be written (exit code 1, or 2 for a bad output path)."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


def font_family() -> str:
    """The bundled report font, loaded once (falls back to the system's sans serif if it cannot load)."""
    global _family
    if _family is None:
        families: list[str] = []
        for name in FONT_FILES:
            font_id = QFontDatabase.addApplicationFont(str(resources.path("fonts", name)))
            if font_id >= 0:
                families += QFontDatabase.applicationFontFamilies(font_id)
        _family = families[0] if families else QFont().defaultFamily()
    return _family


def no_ligatures(font: QFont) -> QFont:
    """Turn off ligatures: 'fi' stays two letters, so the PDF's text searches and copies as typed."""
    for tag in ("liga", "clig"):
        font.setFeature(QFont.Tag(tag), 0)
    return font


def page_layout(paper_size: str) -> QPageLayout:
    """Portrait A4 or Letter with the report's margins."""
    size = QPageSize(PAGE_SIZES.get(paper_size, QPageSize.PageSizeId.A4))
    return QPageLayout(size, QPageLayout.Orientation.Portrait,
                       QMarginsF(MARGIN_MM, MARGIN_MM - 4, MARGIN_MM, MARGIN_MM - 4), QPageLayout.Unit.Millimeter)


def screen_dpi() -> int:
    """The logical DPI the plots are laid out at (96 on most screens and offscreen)."""
    screen = QGuiApplication.primaryScreen()
    return round(screen.logicalDotsPerInch()) if screen is not None else 96


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------


@dataclasses.dataclass
class Text:
    """Text laid out in a width: its lines, drawn all at once or a slice at a time (to split across pages)."""

    layout: QTextLayout
    width: float

    @property
    def lines(self) -> list:
        return [self.layout.lineAt(i) for i in range(self.layout.lineCount())]

    @property
    def height(self) -> float:
        lines = self.lines
        return lines[-1].y() + lines[-1].height() if lines else 0.0

    def draw(self, painter: QPainter | None, x: float, y: float, first: int = 0, last: int | None = None) -> float:
        """Draw lines [first, last) with the first at y (no painter: the counting pass, nothing drawn); returns
        their height."""
        lines = self.lines[first:last]
        if not lines:
            return 0.0
        top = lines[0].y()
        if painter is not None:
            for line in lines:
                line.draw(painter, QPointF(x, y - top))
        return lines[-1].y() + lines[-1].height() - top

    def fitting(self, first: int, room: float) -> int:
        """How many lines from `first` fit in `room`."""
        lines = self.lines
        if first >= len(lines):
            return 0
        top, count = lines[first].y(), 0
        for line in lines[first:]:
            if line.y() + line.height() - top > room + 0.01:
                break
            count += 1
        return count


class Fonts:
    """The report's fonts at their sizes, measured on the output device."""

    def __init__(self, device: QPagedPaintDevice):
        self.device = device
        family = font_family()

        def font(points: float, bold: bool = False) -> QFont:
            f = QFont(family)
            f.setPointSizeF(points)
            f.setBold(bold)
            f.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
            f.setKerning(True)
            no_ligatures(f)
            return f

        self.family = family
        self.title = font(15, True)
        self.subtitle = font(11.5)
        self.heading = font(11.5, True)
        self.subheading = font(9.5, True)
        self.body = font(9)
        self.bold = font(9, True)
        self.table = font(8)
        self.table_bold = font(8, True)
        self.small = font(7.5)

    def text(self, content: str, font: QFont, width: float, bold_prefix: int = 0,
             colour: str | None = None) -> Text:
        """Lay out text in a width, wrapping at words (or anywhere inside a word too long for the line)."""
        content = content.replace("\r\n", "\n").replace("\n", "\u2028")
        layout = QTextLayout(content, font, self.device)
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        # Left to right as a whole, whatever script a name is in: an Arabic name keeps ' · MRN …' after it.
        option.setTextDirection(Qt.LayoutDirection.LeftToRight)
        layout.setTextOption(option)
        formats = []
        coloured = QTextLayout.FormatRange()
        coloured.start, coloured.length = 0, len(content)
        fmt = QTextCharFormat()
        fmt.setForeground(QColor(colour or TEXT))  # never the colour of the painter's last pen
        coloured.format = fmt
        formats.append(coloured)
        if bold_prefix:
            bold = QTextLayout.FormatRange()
            bold.start, bold.length = 0, bold_prefix
            fmt = QTextCharFormat()
            fmt.setFontWeight(QFont.Weight.Bold)
            bold.format = fmt
            formats.append(bold)
        if formats:
            layout.setFormats(formats)
        layout.beginLayout()
        y = 0.0
        while True:
            line = layout.createLine()
            if not line.isValid():
                break
            line.setLineWidth(max(width, 1.0))
            line.setPosition(QPointF(0.0, y))
            y += line.height()
        layout.endLayout()
        return Text(layout, width)

    def line_height(self, font: QFont) -> float:
        return QFontMetricsF(font, self.device).height()


# ---------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------


def _render_plot(painter: QPainter, rect: QRectF, draw: Callable[[pg.PlotItem], object]) -> object:
    """Build a plot with the screen's builder at the rectangle's size and paint it there, as vectors."""
    app = QApplication.instance()
    widget = pg.PlotWidget(background="w")
    try:
        widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        widget.setFrameShape(widget.Shape.NoFrame)
        widget.resize(round(rect.width()), round(rect.height()))
        widget.show()
        items = draw(widget.getPlotItem())
        for _ in range(4):  # the legend and the axes re-lay out after each resize (no clicks meanwhile)
            app.processEvents(QEventLoop.ProcessEventsFlag.ExcludeUserInputEvents)
        plot = widget.getPlotItem()
        plot.vb.childGroup.setFlag(plot.vb.childGroup.GraphicsItemFlag.ItemClipsChildrenToShape, False)
        for item in widget.scene().items():
            if isinstance(item, pg.ScatterPlotItem):  # vector symbols, not the pixmap atlas
                item.setExportMode(True, {"antialias": True, "resolutionScale": 1.0})
        painter.save()
        painter.setClipRect(rect)
        source = widget.mapToScene(widget.viewport().rect()).boundingRect()
        widget.scene().render(painter, rect, source, Qt.AspectRatioMode.IgnoreAspectRatio)
        painter.restore()
        return items
    finally:
        widget.hide()
        widget.deleteLater()
        QApplication.sendPostedEvents(widget, QEvent.Type.DeferredDelete)  # now: a 30-episode report has 31


def plot_style(family: str) -> timeline.Style:
    """The plots' style on paper: the report font, slightly smaller text and symbols than on screen."""
    return dataclasses.replace(timeline.STYLE, font_family=family, tick_pt=7.5, label_pt=8.0, legend_pt=7.5,
                               symbol_size=8.0)


# ---------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------


class Pager:
    """A cursor down the pages of one device; paints only when `paint` is set (the first pass just counts)."""

    def __init__(self, device: QPagedPaintDevice, report: Report, painter: QPainter | None, total: int,
                 generated: str):
        self.device, self.report, self.painter, self.total = device, report, painter, total
        self.fonts = Fonts(device)
        self.generated = generated
        self.width = float(device.width())
        self.height = float(device.height())
        self.unit = device.logicalDpiY() / 25.4  # device units per millimetre
        self.page = 1
        self.head = self.fonts.line_height(self.fonts.small) + 2.5 * self.unit
        self.foot = self.fonts.line_height(self.fonts.small) + 2.5 * self.unit
        self.top = self.head
        self.bottom = self.height - self.foot
        self.y = self.top
        #: What was placed where: (kind, text, page) — headings, plots, tables — for tests of the layout.
        self.placed: list[tuple[str, str, int]] = []
        self._decorate()

    @property
    def paint(self) -> bool:
        return self.painter is not None

    def mm(self, value: float) -> float:
        return value * self.unit

    def room(self) -> float:
        return self.bottom - self.y

    def new_page(self) -> None:
        if self.paint:
            self.device.newPage()
        self.page += 1
        self.y = self.top
        self._decorate()

    def ensure(self, height: float) -> None:
        """Start a new page unless `height` fits below the cursor (a block taller than a page starts one anyway)."""
        if self.y > self.top and height > self.room():
            self.new_page()

    def _decorate(self) -> None:
        """The running head (patient or report id, clinic) and the footer (generator, page n of N)."""
        if not self.paint:
            return
        p, f = self.painter, self.fonts
        small = f.line_height(f.small)
        metrics = QFontMetricsF(f.small, self.device)
        name = self.report.running_name
        rest = self.report.running_head[len(name):]
        room = self.width * 0.66 - metrics.horizontalAdvance(rest)
        head = metrics.elidedText(name, Qt.TextElideMode.ElideRight, max(room, self.width * 0.2)) + rest
        clinic = metrics.elidedText(self.report.clinic, Qt.TextElideMode.ElideRight, self.width * 0.32)
        f.text(head, f.small, self.width * 0.7, colour=MUTED).draw(p, 0, 0, 0, 1)
        if clinic:
            right = f.text(clinic, f.small, self.width * 0.34, colour=MUTED)
            right.draw(p, self.width - right.lines[0].naturalTextWidth(), 0, 0, 1)
        p.setPen(QPen(QColor(RULE), self.mm(0.2)))
        p.drawLine(QPointF(0, small + self.mm(1)), QPointF(self.width, small + self.mm(1)))
        y = self.height - small
        p.drawLine(QPointF(0, y - self.mm(1.2)), QPointF(self.width, y - self.mm(1.2)))
        foot = f.text(self.generated, f.small, self.width * 0.7, colour=MUTED)
        foot.draw(p, 0, y, 0, 1)
        number = f.text(f"Page {self.page} of {self.total}", f.small, self.width * 0.28, colour=MUTED)
        if number.lines:
            number.draw(p, self.width - number.lines[0].naturalTextWidth(), y, 0, 1)

    # -- blocks ------------------------------------------------------------

    def gap(self, mm: float) -> None:
        if self.y > self.top:
            self.y += self.mm(mm)

    def paragraph(self, content: str, font: QFont, indent: float = 0.0, keep: float = 0.0,
                  colour: str = TEXT, bold_prefix: int = 0) -> None:
        """Text that may split between its lines across pages; `keep` is room to leave for what follows."""
        text = self.fonts.text(content, font, self.width - indent, bold_prefix, colour)
        first = 0
        self.ensure(min(text.height, self.fonts.line_height(font) * 2) + keep)
        self.placed.append(("text", content, self.page))
        while first < len(text.lines):
            count = text.fitting(first, self.room())
            if count == 0:
                self.new_page()
                continue
            self.y += text.draw(self.painter, indent, self.y, first, first + count)
            first += count
            if first < len(text.lines):
                self.new_page()

    def heading(self, content: str, font: QFont, keep: float) -> None:
        """A heading kept on the page of the block that follows it."""
        text = self.fonts.text(content, font, self.width)
        self.ensure(text.height + self.mm(1.2) + keep)
        if self.paint:
            text.draw(self.painter, 0, self.y)
        self.placed.append(("heading", content, self.page))
        self.y += text.height + self.mm(1.2)

    def fields(self, pairs: tuple[tuple[str, str], ...], x: float, width: float, y: float) -> float:
        """Label–value pairs in two columns at (x, y); returns the height used."""
        f = self.fonts
        label_w = max((QFontMetricsF(f.body, self.device).horizontalAdvance(k + "  ") for k, _ in pairs),
                      default=0.0)
        top = y
        for key, value in pairs:
            label = f.text(key, f.body, label_w, colour=MUTED)
            text = f.text(value, f.bold, width - label_w)
            if self.paint:
                label.draw(self.painter, x, y)
                text.draw(self.painter, x + label_w, y)
            y += max(label.height, text.height) + self.mm(0.4)
        return y - top

    def flag(self, severity: str, message: str, where: str) -> None:
        """One flag: a coloured severity tag, the message, and the episode it is about."""
        f = self.fonts
        word, colour, fill = SEVERITY.get(severity, (severity, TEXT, "#eeeeee"))
        tag_w = self.mm(17)
        text = f.text(message, f.body, self.width - tag_w - self.mm(2))
        sub = f.text(where, f.small, self.width - tag_w - self.mm(2), colour=MUTED)
        height = text.height + sub.height + self.mm(1.6)
        self.ensure(height)
        self.placed.append(("flag", message, self.page))
        if self.paint:
            p = self.painter
            p.fillRect(QRectF(0, self.y, self.width, height - self.mm(0.6)), QColor(fill))
            p.fillRect(QRectF(0, self.y, self.mm(1.2), height - self.mm(0.6)), QColor(colour))
            tag = f.text(word, f.table_bold, tag_w - self.mm(3), colour=colour)
            tag.draw(p, self.mm(2.5), self.y + self.mm(0.5))
            text.draw(p, tag_w, self.y + self.mm(0.5))
            sub.draw(p, tag_w, self.y + self.mm(0.5) + text.height)
        self.y += height

    def plot(self, height_mm: float, draw: Callable[[pg.PlotItem], object], keep: float = 0.0) -> None:
        """A plot the full width of the page, never split."""
        height = self.mm(height_mm)
        self.ensure(height + keep)
        if self.paint:
            _render_plot(self.painter, QRectF(0, self.y, self.width, height), draw)
        self.placed.append(("plot", "", self.page))
        self.y += height + self.mm(1.5)

    def table(self, table: Table) -> None:
        """A table: title, header repeated on each page it continues on, rows never split through a line."""
        f = self.fonts
        pad = self.mm(1.0)
        widths = [self.width * share for share in table.widths]
        title = f.text(table.title, f.subheading, self.width)
        header = [f.text(c, f.table_bold, w - 2 * pad) for c, w in zip(table.columns, widths)]
        header_h = max(t.height for t in header) + 2 * pad

        def row_cells(row: Row) -> tuple[list[Text], float]:
            cells = [f.text(c, f.table, w - 2 * pad) for c, w in zip(row.cells, widths)]
            return cells, max(t.height for t in cells) + 2 * pad

        def draw_header(continued: bool) -> None:
            caption = title if not continued else f.text(f"{table.title} (continued)", f.subheading, self.width)
            if self.paint:
                caption.draw(self.painter, 0, self.y)
            self.y += caption.height + self.mm(0.8)
            if self.paint:
                p = self.painter
                p.fillRect(QRectF(0, self.y, self.width, header_h), QColor(HEADER_FILL))
                x = 0.0
                for text, w in zip(header, widths):
                    text.draw(p, x + pad, self.y + pad)
                    x += w
            self.y += header_h

        if not table.rows:
            empty = f.text(table.empty, f.table, self.width)
            self.ensure(title.height + empty.height + self.mm(1))
            self.placed.append(("table", table.title, self.page))
            if self.paint:
                title.draw(self.painter, 0, self.y)
                empty.draw(self.painter, 0, self.y + title.height + self.mm(0.8), 0)
            self.y += title.height + empty.height + self.mm(0.8)
            return

        first_cells, first_h = row_cells(table.rows[0])
        self.ensure(title.height + self.mm(0.8) + header_h + first_h)
        self.placed.append(("table", table.title, self.page))
        draw_header(False)
        for index, row in enumerate(table.rows):
            cells, height = (first_cells, first_h) if index == 0 else row_cells(row)
            if height > self.room():
                self.new_page()
                draw_header(True)
            if self.paint:
                x = 0.0
                for text, w in zip(cells, widths):
                    text.draw(self.painter, x + pad, self.y + pad)
                    x += w
            self.y += height
            if row.note:
                label = f"{table.note_label}: "
                note = f.text(label + row.note, f.table, self.width - 2 * pad - self.mm(4), len(label))
                line = 0
                while line < len(note.lines):
                    count = note.fitting(line, self.room() - pad)
                    if count == 0:
                        self._rule()
                        self.new_page()
                        draw_header(True)
                        continue
                    self.y += note.draw(self.painter, pad + self.mm(4), self.y, line, line + count)
                    line += count
                self.y += pad
            self._rule()

    def _rule(self) -> None:
        if self.paint:
            self.painter.setPen(QPen(QColor(RULE), self.mm(0.15)))
            self.painter.drawLine(QPointF(0, self.y), QPointF(self.width, self.y))


def _lay_out(pager: Pager, report: Report) -> None:
    """The whole report, page after page."""
    f = pager.fonts
    mm = pager.mm
    style = plot_style(f.family)

    # Title block: clinic and title at the left, the report's dates at the right; then who it is about.
    title_w = pager.width * 0.64
    top = pager.y
    clinic = f.text(report.clinic or "TOHtrack", f.title, title_w)
    title = f.text(report.title, f.subtitle, title_w, colour=MUTED)
    if pager.paint:
        clinic.draw(pager.painter, 0, top)
        title.draw(pager.painter, 0, top + clinic.height)
    dates_h = pager.fields(report.dates, pager.width * 0.66, pager.width * 0.34, top)
    pager.y = top + max(clinic.height + title.height, dates_h) + mm(2.5)
    pager.y += pager.fields(report.identity, 0, pager.width * 0.7, pager.y) + mm(1.5)
    if pager.paint:
        pager.painter.setPen(QPen(QColor(TEXT), mm(0.35)))
        pager.painter.drawLine(QPointF(0, pager.y), QPointF(pager.width, pager.y))
    pager.y += mm(3)

    pager.heading("Summary", f.heading, f.line_height(f.body) * 2)
    for line in report.summary:
        pager.paragraph(line, f.body, mm(4) if line.startswith(BULLET) else 0.0)
        pager.y += mm(0.6)
    pager.gap(3)

    # Kept with the first flag: two lines of it and the line naming its episode.
    pager.heading("Flags", f.heading, f.line_height(f.body) * 2 + f.line_height(f.small) + mm(1.6))
    if not report.flags:
        pager.paragraph("No flags: the course is as expected.", f.body)
    for flag in report.flags:
        pager.flag(flag.severity, flag.message, flag.where)
        pager.y += mm(0.8)
    pager.gap(3)

    assessment = report.assessment
    if assessment.episodes:
        history = plotdata.history_data(assessment, report.settings, report.history_axis, report.date_words)
        lanes = len(history.lanes)
        axis_words = "months since the first onset" if report.history_axis == plotdata.MONTHS else "calendar dates"
        # About 10 mm a lane (the screen's LANE_PX), at least the height of the legend beside them.
        height = min(max(16 + 10 * lanes, 32), 120)
        pager.heading(f"History by joint site ({axis_words})", f.heading, mm(height + 1.5))
        pager.plot(height, lambda plot: timeline.build_lanes(plot, history, style))
    pager.gap(2)
    pager.table(report.episodes)

    for section in report.sections:
        pager.gap(5)
        summary = f.text(section.summary, f.body, pager.width)
        # The heading stays with its sentence and its plot (or the first table's opening).
        after = summary.height + mm(1.5) + (mm(COURSE_MM + 1.5) if section.plotted else f.line_height(f.table) * 4)
        pager.heading(section.heading, f.heading, after)
        pager.paragraph(section.summary, f.body, keep=after - summary.height)
        pager.y += mm(1.5)
        if section.plotted:
            data = plotdata.course_data(assessment, section.episode, report.settings, plotdata.MONTHS,
                                        report.course_words(section.episode))
            pager.plot(COURSE_MM, lambda plot, data=data: timeline.build_course(plot, data, style))
        for table in section.tables:
            pager.gap(2)
            pager.table(table)


def _generated(report: Report, today: dt.date) -> str:
    seal = f" · Audit seal {report.seal}" if report.seal else ""
    if report.deidentified:  # no date of making: the report's dates are months since onset
        return f"Generated by {report.generator} · de-identified{seal}"
    return f"Generated by {report.generator} on {date_text(today)}{seal}"


def paint_report(device: QPagedPaintDevice, report: Report, today: dt.date | None = None) -> int:
    """Lay the report out on a paged device (a QPdfWriter or a QPrinter set up with page_layout()); returns the
    number of pages."""
    today = today or dt.date.today()
    generated = _generated(report, today)
    counter = Pager(device, report, None, 0, generated)
    _lay_out(counter, report)
    pages = counter.page
    painter = QPainter()
    if not painter.begin(device):
        raise ReportError("the report could not be started on this device (is the output writable?)")
    try:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        pager = Pager(device, report, painter, pages, generated)
        _lay_out(pager, report)
    except BaseException:
        painter.end()
        raise
    if not painter.end():
        raise ReportError("the report could not be finished on this device")
    global last_layout
    last_layout = pager.placed
    return pages


def pdf_writer(target: str | QIODevice, report: Report) -> QPdfWriter:
    """A PDF/A-1b writer at the screen's logical DPI, with the report's page size and title."""
    writer = QPdfWriter(target)
    writer.setPdfVersion(QPagedPaintDevice.PdfVersion.PdfVersion_A1b)
    writer.setResolution(screen_dpi())
    writer.setPageLayout(page_layout(report.paper_size))
    writer.setTitle(report.document_title)
    writer.setCreator(report.generator)
    return writer


#: The file's own dates (Info dictionary and XMP), which Qt always writes.
_PDF_DATES = re.compile(rb"D:\d{14}(?:Z|[+-]\d{2}'\d{2}'?)?|\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})?")


def _blank_dates(data: bytes) -> bytes:
    """The PDF with its creation and modification dates set to 1970 (same length: the offsets stay valid).

    A de-identified report words every date as months since the first onset; the file's own date would give
    the calendar back (an as-of date of today, and 'month 37.0', make the onset a known day)."""

    def epoch(match: re.Match) -> bytes:
        text = match.group(0)
        zero = b"D:19700101000000" if text.startswith(b"D:") else b"1970-01-01T00:00:00"
        return zero + b"".join(b"0" if c in b"0123456789" else bytes([c]) for c in text[len(zero):])

    return _PDF_DATES.sub(epoch, data)


def render_pdf(report: Report, today: dt.date | None = None) -> tuple[bytes, int]:
    """The report as PDF bytes, and its number of pages."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = pdf_writer(buffer, report)
    pages = paint_report(writer, report, today)
    del writer  # finishes the document into the buffer
    buffer.close()
    content = bytes(data.data())
    if not content.startswith(b"%PDF") or b"%%EOF" not in content[-64:]:
        raise ReportError("the report could not be laid out as a PDF")
    return (_blank_dates(content) if report.deidentified else content), pages


def check_output(out: str | os.PathLike, database: str | os.PathLike | None = None) -> Path:
    """Where a report may be written (safety.check_output, the one rule for every output): a file or nothing
    yet, in a folder that exists, never the open database or its backups; else ReportError, exit 2.

    A link of this user's is followed, so the report goes where it points and the link stays a link."""
    try:
        return safety.check_output(out, database)
    except safety.OutputRefused as exc:
        raise ReportError(str(exc), exit_code=2) from None


def write_pdf(report: Report, out: str | os.PathLike, today: dt.date | None = None,
              database: str | os.PathLike | None = None) -> int:
    """Write the report as a PDF file readable by its owner only (or '-': to standard output); returns the
    number of pages.

    Laid out in memory first, then written through safety.atomic_output: a new temporary file beside the
    target that nobody can plant, flushed to the disk and renamed into place: a full disk or a failure leaves
    the file that was there (if any) as it was. `database`: the open database, which it may never be."""
    if os.fspath(out) == "-":
        try:
            safety.check_stream(sys.stdout, database)
        except safety.OutputRefused as exc:
            raise ReportError(str(exc), exit_code=2) from None
        content, pages = render_pdf(report, today)
        stream = getattr(sys.stdout, "buffer", sys.stdout)
        stream.write(content)
        stream.flush()
        return pages
    check_output(out, database)
    content, pages = render_pdf(report, today)
    try:
        safety.write_output(out, content, database)
    except safety.OutputRefused as exc:
        raise ReportError(str(exc), exit_code=2) from None
    except db.StoreError as exc:
        raise ReportError(str(exc)) from None
    return pages


def write_report(store: Store, mrn: str, path: str | os.PathLike, as_of: dt.date | None = None,
                 deidentify: bool = False, today: dt.date | None = None) -> tuple[Report, int]:
    """The timeline report of one patient (by MRN) written to a PDF file: the report and its page count."""
    if QApplication.instance() is None:
        QApplication([sys.argv[0] if sys.argv else "tohtrack"])
    patient = store.patient_by_mrn(mrn)
    today = today or dt.date.today()
    report = build(patient, as_of or today, store.settings(), today, deidentify, seal=store.audit_seal())
    return report, write_pdf(report, path, today, database=store.path)
