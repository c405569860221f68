"""The dialog that adds or edits a treatment: kind, start, end, detail (drug, dose, schedule)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QWidget

from ..model import TREATMENT_KINDS, TREATMENT_LABELS, Problem, Treatment, check_treatment
from .forms.ui_treatment_dialog import Ui_TreatmentDialog
from .record_dialog import RecordDialog, capital, date_of, fill_combo, long_text, select_data, set_date

#: Kinds as the list shows them, with an example where it helps.
KIND_ITEMS = {
    "bisphosphonate": "Bisphosphonate (e.g. zoledronate)",
    "other": "Other treatment",
}


class TreatmentDialog(RecordDialog):
    """New treatment / Edit treatment — kind from start."""

    form_class = Ui_TreatmentDialog
    record_class = Treatment
    noun = "treatment"
    fields = ("kind", "start", "end", "detail")

    def __init__(self, parent: QWidget | None = None, treatment: Treatment | None = None, *, onset: dt.date,
                 today: dt.date | None = None, save: Callable[[Treatment], Treatment],
                 reload: Callable[[], Treatment | None] | None = None):
        self.onset = onset
        super().__init__(parent, treatment, today=today, save=save, reload=reload)

    def setup(self) -> None:
        ui = self.ui
        today = QDate(self.today.year, self.today.month, self.today.day)
        ui.start.setMaximumDate(today)
        ui.end.setMaximumDate(today)
        fill_combo(ui.kind, [(KIND_ITEMS.get(code, capital(TREATMENT_LABELS[code])), code)
                             for code in TREATMENT_KINDS])
        ui.kind.setPlaceholderText("choose…")
        ui.end_check.toggled.connect(self._end_toggled)

    def _end_toggled(self, checked: bool) -> None:
        self.ui.end.setEnabled(checked)
        if checked and not self._filling:
            self.ui.end.setFocus()

    def fill(self, treatment: Treatment | None) -> None:
        ui = self.ui
        select_data(ui.kind, treatment.kind if treatment else None)
        set_date(ui.start, treatment.start if treatment else self.today, self.today)
        end = treatment.end if treatment else None
        ui.end_check.setChecked(end is not None)
        ui.end.setEnabled(end is not None)
        set_date(ui.end, end or self.today, self.today)
        ui.detail.setPlainText(treatment.detail if treatment else "")

    def read(self) -> tuple[Treatment, list[Problem]]:
        ui = self.ui
        problems: list[Problem] = []
        treatment = self.build(
            kind=ui.kind.currentData(),
            start=date_of(ui.start),
            end=date_of(ui.end) if ui.end_check.isChecked() else None,
            detail=long_text(ui.detail, "detail", problems),
        )
        return treatment, problems

    def check(self, treatment: Treatment) -> list[Problem]:
        return check_treatment(treatment, "", self.onset, self.today)

    def title(self) -> str:
        if self.original is None:
            return "New treatment"
        label = TREATMENT_LABELS.get(self.original.kind, self.original.kind)
        return f"Edit treatment — {label} from {self.original.start.isoformat()}"
