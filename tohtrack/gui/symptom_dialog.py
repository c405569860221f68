"""The dialog that adds or edits a symptom record: pain, function score, weight bearing, note."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QWidget

from ..model import WEIGHT_BEARING, Problem, SymptomRecord, check_symptom, site_joint
from .forms.ui_symptom_dialog import Ui_SymptomDialog
from .record_dialog import (RecordDialog, date_of, fill_combo, format_number, long_text, parse_number, select_data,
                            set_date)

WEIGHT_BEARING_LABELS = {
    "full": "Full weight bearing",
    "partial": "Partial weight bearing",
    "protected": "Protected weight bearing",
    "non": "Non-weight bearing",
}
#: The function score offered for a new record at the hip (free to use).
HIP_INSTRUMENT = "Harris Hip Score"


class SymptomDialog(RecordDialog):
    """New symptom record / Edit symptom record — date."""

    form_class = Ui_SymptomDialog
    record_class = SymptomRecord
    noun = "symptom record"
    fields = ("date", "pain_nrs", "function_score", "function_instrument", "weight_bearing", "note")

    def __init__(self, parent: QWidget | None = None, record: SymptomRecord | None = None, *, onset: dt.date,
                 site: str, today: dt.date | None = None, save: Callable[[SymptomRecord], SymptomRecord],
                 reload: Callable[[], SymptomRecord | None] | None = None):
        self.onset, self.site = onset, site
        super().__init__(parent, record, today=today, save=save, reload=reload)

    def setup(self) -> None:
        ui = self.ui
        ui.date.setMaximumDate(QDate(self.today.year, self.today.month, self.today.day))
        fill_combo(ui.weight_bearing, [("not recorded", None)]
                   + [(WEIGHT_BEARING_LABELS[code], code) for code in WEIGHT_BEARING])

    def fill(self, record: SymptomRecord | None) -> None:
        ui = self.ui
        set_date(ui.date, record.date if record else self.today, self.today)
        ui.pain_nrs.setText(format_number(record.pain_nrs) if record else "")
        ui.function_score.setText(format_number(record.function_score) if record else "")
        if record is not None:
            ui.function_instrument.setText(record.function_instrument)
        else:
            ui.function_instrument.setText(HIP_INSTRUMENT if site_joint(self.site) == "hip" else "")
        select_data(ui.weight_bearing, record.weight_bearing if record else None)
        ui.note.setPlainText(record.note if record else "")

    def read(self) -> tuple[SymptomRecord, list[Problem]]:
        ui = self.ui
        problems: list[Problem] = []
        record = self.build(
            date=date_of(ui.date),
            pain_nrs=parse_number(ui.pain_nrs.text(), "pain_nrs", problems),
            function_score=parse_number(ui.function_score.text(), "function_score", problems),
            function_instrument=ui.function_instrument.text(),
            weight_bearing=ui.weight_bearing.currentData(),
            note=long_text(ui.note, "note", problems),
        )
        return record, problems

    def check(self, record: SymptomRecord) -> list[Problem]:
        return check_symptom(record, "", self.onset, self.today)

    def title(self) -> str:
        if self.original is None:
            return "New symptom record"
        return f"Edit symptom record — {self.original.date.isoformat()}"
