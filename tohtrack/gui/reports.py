"""Reports from the main window: the open patient's timeline report as PDF (plain or de-identified), printed, and
the window saved as a picture (--screenshot)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from ..db import StoreError


class Reports:
    """The File menu's report actions (a mixin of MainWindow: it uses the window's open patient, as-of date,
    store and settings)."""

    def _report(self, deidentify: bool = False):
        from .. import report

        return report.build(self.patient, self.as_of, self.store.settings(), deidentify=deidentify,
                            seal=self.store.audit_seal())

    def export_report(self, deidentify: bool = False) -> None:
        """Write the open patient's timeline report (or its de-identified variant) as a PDF file."""
        from PySide6.QtWidgets import QFileDialog, QMessageBox  # built when first used, not before the first paint

        from .. import report as report_mod
        from . import pdf

        if self.patient is None:
            return
        report = self._report(deidentify)
        folder = Path(self.settings.value("report/folder", str(Path.home())) or Path.home())
        default = folder / report_mod.file_name(report, self.patient.mrn)
        title = "Export de-identified timeline" if deidentify else "Export timeline to PDF"
        path, _ = QFileDialog.getSaveFileName(self, title, str(default), "PDF files (*.pdf)")
        if not path:
            return
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            pages = pdf.write_pdf(report, path, database=self.store.path)
        except (StoreError, OSError) as exc:
            QMessageBox.warning(self, "Export failed", f"{exc}\n\nNothing was written.")
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.settings.setValue("report/folder", str(Path(path).parent))
        what = f"De-identified report {report.report_id}" if deidentify else "Timeline report"
        self.statusBar().showMessage(f"{what} written to {path} ({pages} page{'s' if pages != 1 else ''})", 8000)

    def print_report(self) -> None:
        """Print the open patient's timeline report through the system print dialog."""
        from PySide6.QtWidgets import QMessageBox  # built when first used, not before the first paint

        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        from . import pdf

        if self.patient is None:
            return
        report = self._report()
        # At the screen's resolution: the plots' fonts and pens keep their proportions (as in the PDF).
        printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
        printer.setPageLayout(pdf.page_layout(report.paper_size))
        printer.setDocName(report.document_title)
        printer.setCreator(report.generator)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(f"Print timeline report — {self.patient.display_name}")
        if dialog.exec() != QPrintDialog.DialogCode.Accepted:
            return
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            pages = pdf.paint_report(printer, report)
        except StoreError as exc:
            QMessageBox.warning(self, "Printing failed", str(exc))
            return
        finally:
            QGuiApplication.restoreOverrideCursor()
        where = printer.printerName() or "the printer"
        self.statusBar().showMessage(f"Sent {pages} page{'s' if pages != 1 else ''} to {where}", 8000)



def save_screenshot(window, out: Path | str, settle: Callable[[], None]) -> None:
    """Save a shown main window as PNG, as a user would see it: its plots drawn (loaded after the first paint,
    so asked for here), its layouts settled."""
    from .. import safety  # network shares, backups and outputs: loaded when first used

    from PySide6.QtCore import QBuffer, QByteArray, QIODevice  # built when first used, not before the first paint

    window.view.load_timeline()
    settle()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not window.grab().save(buffer, "PNG"):
        raise StoreError(f"{out}: could not write the screenshot")
    buffer.close()
    # It shows patient data: written like every output (readable by its owner only, all or nothing, never over
    # the database), see safety.atomic_output.
    safety.write_output(out, bytes(data.data()), window.store.path)
