"""The audit history of one patient: who changed what, when, from which value to which."""

from __future__ import annotations

import datetime as dt

from PySide6.QtWidgets import QDialog, QHeaderView, QTableWidgetItem, QWidget

from ..audit_words import AuditLine, AuditReader
from ..db import AuditEntry
from ..model import Patient
from . import resources
from .forms.ui_audit_dialog import Ui_AuditDialog

COLUMNS = ("When", "Who", "Action", "Record", "Field", "Old value", "New value")


def local_time(stamp: str) -> str:
    """An audit UTC timestamp in the workstation's local time, to the second."""
    when = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def line_rows(line: AuditLine) -> list[tuple[str, ...]]:
    """One row per field the entry touched, worded as the form words it (tohtrack.audit_words)."""
    head = (local_time(line.at), line.who, line.action, line.subject)
    if not line.changes:
        return [head + ("", "", "")]
    return [head + (c.label, c.old, c.new) for c in line.changes]


def entries_rows(entries: list[AuditEntry]) -> list[tuple[str, ...]]:
    """The rows of entries given in trail order, newest first."""
    lines = list(AuditReader().lines(entries))
    return [row for line in reversed(lines) for row in line_rows(line)]


class AuditDialog(QDialog):
    def __init__(self, parent: QWidget | None, entries: list[AuditEntry], patient: Patient):
        super().__init__(parent)
        self.ui = Ui_AuditDialog()
        self.ui.setupUi(self)
        resources.style(self)
        self.setWindowTitle(f"Audit history — {patient.family_name.upper()}, {patient.given_name} ({patient.mrn})")
        self.rows = entries_rows(entries)
        table = self.ui.entries_table
        table.setColumnCount(len(COLUMNS))
        table.setHorizontalHeaderLabels(list(COLUMNS))
        self.ui.summary_label.setText(
            f"{len(entries)} change(s), newest first. Times are local; the audit trail stores them in UTC.")
        self.ui.filter_edit.textChanged.connect(self._fill)
        self.ui.buttons.rejected.connect(self.reject)
        self._fill("")
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)

    def _fill(self, text: str) -> None:
        needle = text.casefold().strip()
        rows = [r for r in self.rows if not needle or any(needle in cell.casefold() for cell in r)]
        table = self.ui.entries_table
        table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            for j, cell in enumerate(row):
                item = QTableWidgetItem(cell)
                if len(cell) > 40:
                    item.setToolTip(cell)
                table.setItem(i, j, item)
