"""The cohort report: tohtrack.stats' figures as a vector PDF in the style of the timeline report.

Laid out with the timeline report's page, text, table and plot machinery (gui/pdf.py: Pager, write_pdf) and the
Cohort tab's plot builders (gui/cohort_view.py). Cohort figures identify nobody: the report holds no names, MRNs
or birth dates, and every count of fewer than 5 (patients, episodes, people at risk) is shown as "< 5".
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from .. import __version__, stats
from ..db import StoreError
from ..model import site_label
from ..report import Row, Table
from ..wording import date_text
from . import pdf
from .cohort_view import AT_RISK_MONTHS, DAYS_PER_MONTH, build_boxes, build_survival

PLOT_MM = 68.0
BOX_MM = 55.0
SMALL = "< 5"


def cell(n: int) -> str:
    """A count as printed: fewer than 5 as '< 5' (so that no cell points at one or two people)."""
    return SMALL if n < stats.SMALL_CELL else str(n)


@dataclass(frozen=True)
class CohortReport:
    """What the pages need (the names the timeline report's Pager and writer read, and the figures)."""

    figures: stats.CohortStats
    clinic: str
    paper_size: str
    title: str = "Cohort statistics"
    running_name: str = ""
    deidentified: bool = False
    report_id: str = ""
    generator: str = f"TOHtrack {__version__}"
    #: The database's audit seal when the figures were worked out (as on the patient report): names no patient.
    seal: str = ""

    @property
    def running_head(self) -> str:
        return f"Cohort statistics as of {date_text(self.figures.as_of)}"

    @property
    def document_title(self) -> str:
        return f"TOHtrack cohort statistics as of {self.figures.as_of.isoformat()}"


def _share(value: float | None) -> str:
    return stats.percent(value)


def _days(value: int | None) -> str:
    return "not reached" if value is None else f"{value} d ({value / DAYS_PER_MONTH:.1f} mo)"


def _at_risk_table(title: str, km: stats.KaplanMeier) -> Table:
    columns = ("Months",) + tuple(str(m) for m in AT_RISK_MONTHS)
    share = 1.0 / len(columns)
    row = Row(("At risk",) + tuple(cell(km.at_risk_at(m * DAYS_PER_MONTH)) for m in AT_RISK_MONTHS))
    return Table(title, columns, (share,) * len(columns), (row,))


def _counts_table(title: str, first: str, counts: dict[str, int], label=lambda k: k) -> Table:
    rows = tuple(Row((label(k), cell(v))) for k, v in counts.items())
    return Table(title, (first, "Number"), (0.7, 0.3), rows, empty="None.")


def _bins_table(title: str, spreads: list[stats.Spread | None]) -> Table:
    rows = []
    for name, s in zip(stats.MONTH_BINS, spreads):
        if s is None:
            rows.append(Row((name, "0", "—", "—", "—")))
        elif s.patients < stats.SMALL_CELL:
            rows.append(Row((name, SMALL, SMALL, SMALL, SMALL)))
        else:
            rows.append(Row((name, str(s.n), str(s.patients), f"{s.median:g}", f"{s.q1:g}–{s.q3:g}")))
    return Table(title, ("Months since onset", "Records", "Patients", "Median", "IQR"),
                 (0.28, 0.18, 0.18, 0.16, 0.2), tuple(rows))


def lay_out(pager: pdf.Pager, report: CohortReport) -> None:
    """The cohort report, page after page (pdf.paint_report calls it twice: to count, then to paint)."""
    f, mm = pager.fonts, pager.mm
    s = report.figures
    km, second = s.time_to_resolution, s.second_episode
    style = pdf.plot_style(f.family)

    top = pager.y
    clinic = f.text(report.clinic or "TOHtrack", f.title, pager.width * 0.64)
    title = f.text(report.title, f.subtitle, pager.width * 0.64, colour=pdf.MUTED)
    if pager.paint:
        clinic.draw(pager.painter, 0, top)
        title.draw(pager.painter, 0, top + clinic.height)
    dates = (("As of", date_text(s.as_of)), ("Cohort", stats.filters_text(s.filters)))
    height = pager.fields(dates, pager.width * 0.6, pager.width * 0.4, top)
    pager.y = top + max(clinic.height + title.height, height) + mm(3)

    pager.heading("Summary", f.heading, f.line_height(f.body) * 2)
    lines = [
        f"{cell(s.patients)} patients with {cell(s.episodes)} episodes of transient osteoporosis (TOH), "
        f"unarchived, evaluated as of {date_text(s.as_of)}: episodes that started later are left out and "
        "records dated later ignored. Counts under 5 are shown as “< 5”.",
        f"Time to resolution: median {_days(km.median)} (95% CI {stats.ci_text(km.median_ci)}); "
        f"{_share(km.one_minus_at(182))} resolved by 6 months, {_share(km.one_minus_at(243))} by 8 and "
        f"{_share(km.one_minus_at(365))} by 12 ({cell(km.events)} resolved, {cell(km.censored)} still active, "
        "censored at their latest contact).",
        f"Second episode: {cell(second.events)} of {cell(second.subjects)} patients had a new onset after their "
        f"first; cumulative incidence {_share(second.one_minus_at(365))} at 1 year, "
        f"{_share(second.one_minus_at(730))} at 2 and {_share(second.one_minus_at(1825))} at 5 years. "
        f"Recurrence at the same site in {cell(s.recurrence[1])} patients, migration to another in "
        f"{cell(s.migration[1])}.",
    ]
    for line in lines:
        pager.paragraph(line, f.body)
        pager.y += mm(0.8)
    pager.gap(3)

    pager.heading("Time to resolution", f.heading, mm(PLOT_MM + 1.5) + f.line_height(f.small) * 2)
    pager.paragraph(f"Kaplan–Meier estimate of the share of episodes still unresolved, with its 95% band; the "
                    f"expected {s.window_months[0]}–{s.window_months[1]}-month window shaded; ticks mark censored "
                    "episodes.", f.small, colour=pdf.MUTED, keep=mm(PLOT_MM + 1.5))
    pager.plot(PLOT_MM, lambda plot: build_survival(plot, km, style, window_months=s.window_months))
    pager.table(_at_risk_table("Number at risk (episodes)", km))
    pager.gap(4)

    pager.heading("Second episode at any site", f.heading, mm(PLOT_MM + 1.5) + f.line_height(f.small) * 2)
    pager.paragraph("Cumulative incidence of a new onset after the first (1 − Kaplan–Meier), with its 95% band; "
                    "ticks mark patients censored at their latest contact.", f.small, colour=pdf.MUTED,
                    keep=mm(PLOT_MM + 1.5))
    pager.plot(PLOT_MM, lambda plot: build_survival(plot, second, style, incidence=True, colour=style.migration))
    pager.table(_at_risk_table("Number at risk (patients)", second))
    pager.gap(3)
    if s.onset_interval is not None and s.onset_interval.patients >= stats.SMALL_CELL:
        i = s.onset_interval
        pager.paragraph(f"Interval between consecutive onsets: median {i.median:g} days "
                        f"(IQR {i.q1:g}–{i.q3:g}; {i.n} intervals in {i.patients} patients).", f.body)
        pager.gap(2)
    rows = tuple(Row((site_label(a, True), site_label(b, True), cell(n))) for a, b, n in s.migration_table)
    pager.table(Table("Migration (MIGRATION flags, from → to)", ("From", "To", "Flags"), (0.4, 0.4, 0.2), rows,
                      empty="No migration."))
    pager.gap(4)

    pager.heading("Edema extent by months since onset", f.heading, mm(BOX_MM + 1.5) + f.line_height(f.small) * 2)
    pager.paragraph("Every imaging study with an extent in %: the box spans the quartiles, the line is the median, "
                    "the whiskers reach the lowest and highest value. Bins: 0–2 months includes 2 months to the "
                    "day, 2–4 starts the day after, and so on.", f.small, colour=pdf.MUTED, keep=mm(BOX_MM + 1.5))
    pager.plot(BOX_MM, lambda plot: build_boxes(plot, s.extent_by_month, style))
    pager.table(_bins_table("Edema extent (%)", s.extent_by_month))
    pager.gap(3)
    if s.pain_by_month is not None:  # (always: the report's figures are worked out with pain)
        pager.table(_bins_table("Pain (NRS 0–10)", s.pain_by_month))
    pager.gap(4)
    pager.heading("The patients", f.heading, f.line_height(f.table) * 4)
    pager.table(_counts_table("Episodes by site", "Site", s.episodes_by_site, lambda k: site_label(k, True)))
    pager.gap(2)
    pager.table(_counts_table("Sex", "Sex", s.sex, str.capitalize))
    pager.gap(2)
    pager.table(_counts_table("Age band at first onset", "Years", s.age_band))


def write_cohort_pdf(figures: stats.CohortStats, out: str | os.PathLike, clinic_name: str = "",
                     paper_size: str = "A4", today: dt.date | None = None,
                     database: str | os.PathLike | None = None, seal: str = "") -> int:
    """Write the cohort report as a PDF file (never half-written; readable by its owner only; never the open
    `database` or anything of its own); its page count."""
    if QApplication.instance() is None:
        QApplication([sys.argv[0] if sys.argv else "tohtrack"])
    report = CohortReport(figures, clinic_name, paper_size, seal=seal)
    return pdf.write_pdf(report, out, today, database=database, lay_out=lay_out)  # type: ignore[arg-type]


def export_cohort_report(window, view) -> None:
    """File → Export cohort report…: the figures with the Cohort tab's as-of date and filters, worked out now."""
    if view.filters().problems():
        return
    as_of = view.as_of()
    folder = Path(window.settings.value("report/folder", str(Path.home())) or Path.home())
    default = folder / f"cohort-{as_of.isoformat()}.pdf"
    path, _ = QFileDialog.getSaveFileName(window, "Export cohort report", str(default), "PDF files (*.pdf)")
    if not path:
        return
    if not path.lower().endswith(".pdf"):
        path += ".pdf"
    settings = window.store.settings()
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        figures = stats.compute(window.store, as_of, view.filters(), settings)
        pages = write_cohort_pdf(figures, path, settings.clinic_name, settings.paper_size,
                                 database=window.store.path, seal=window.store.audit_seal())
    except (StoreError, OSError) as exc:
        QMessageBox.warning(window, "Export failed", f"{exc}\n\nNothing was written.")
        return
    finally:
        QGuiApplication.restoreOverrideCursor()
    window.settings.setValue("report/folder", str(Path(path).parent))
    window.statusBar().showMessage(f"Cohort report written to {path} ({pages} page{'s' if pages != 1 else ''})",
                                   8000)
