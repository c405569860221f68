"""The audit history of one patient: who changed what, when, from which value to which."""

from __future__ import annotations

import datetime as dt
import json

from PySide6.QtWidgets import QDialog, QHeaderView, QTableWidgetItem, QWidget

from ..db import AuditEntry
from ..model import Patient
from .forms.ui_audit_dialog import Ui_AuditDialog

COLUMNS = ("When", "Who", "Action", "Record", "Field", "Old value", "New value")
ACTIONS = {"create": "created", "update": "changed", "delete": "removed"}
RECORDS = {"patients": "patient", "episodes": "episode", "imaging": "imaging study", "symptoms": "symptom record",
           "treatments": "treatment", "settings": "setting"}


def local_time(stamp: str) -> str:
    """An audit UTC timestamp in the workstation's local time, to the second."""
    when = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def value_text(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        if value.startswith("["):
            try:
                return ", ".join(map(str, json.loads(value))) or "—"
            except ValueError:
                return value
        return value
    return f"{value:g}" if isinstance(value, float) else str(value)


def entry_rows(entry: AuditEntry) -> list[tuple[str, ...]]:
    """One row per field the entry touched."""
    who = entry.os_user + (f" ({entry.clinician})" if entry.clinician else "")
    head = (local_time(entry.at), who, ACTIONS.get(entry.action, entry.action),
            f"{RECORDS.get(entry.table_name, entry.table_name)} #{entry.row_id}")
    old, new = entry.old or {}, entry.new or {}
    fields = list(dict.fromkeys([*new, *old]))
    if not fields:
        return [head + ("", "", "")]
    return [head + (field, value_text(old.get(field)) if entry.action != "create" else "",
                    value_text(new.get(field)) if entry.action != "delete" else "") for field in fields]


class AuditDialog(QDialog):
    def __init__(self, parent: QWidget | None, entries: list[AuditEntry], patient: Patient):
        super().__init__(parent)
        self.ui = Ui_AuditDialog()
        self.ui.setupUi(self)
        self.setWindowTitle(f"Audit history — {patient.family_name.upper()}, {patient.given_name} ({patient.mrn})")
        self.rows = [row for entry in reversed(entries) for row in entry_rows(entry)]
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
