"""The dialog that adds or edits a patient's own fields (MRN, names, date of birth, sex, notes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QWidget

from ..model import SEXES, Patient, Problem, check_patient_fields
from ..model import normalize_mrn
from .forms.ui_patient_dialog import Ui_PatientDialog
from .record_dialog import RecordDialog, capital, date_of, fill_combo, long_text, select_data, set_date

SEX_LABELS = {code: capital(code) for code in SEXES}


class PatientDialog(RecordDialog):
    """New patient / Edit patient — MRN."""

    form_class = Ui_PatientDialog
    record_class = Patient
    noun = "patient"
    fields = ("mrn", "family_name", "given_name", "birth_date", "sex", "notes")
    must_set = {"birth_date": "Enter the date of birth"}

    def __init__(self, parent: QWidget | None = None, patient: Patient | None = None, *,
                 today: dt.date | None = None, save: Callable[[Patient], Patient],
                 reload: Callable[[], Patient | None] | None = None):
        super().__init__(parent, patient, today=today, save=save, reload=reload)

    def setup(self) -> None:
        ui = self.ui
        ui.birth_date.setMinimumDate(QDate(1900, 1, 1))
        ui.birth_date.setMaximumDate(QDate(self.today.year, self.today.month, self.today.day))
        fill_combo(ui.sex, [(SEX_LABELS[code], code) for code in SEXES])
        ui.sex.setPlaceholderText("choose…")

    def fill(self, patient: Patient | None) -> None:
        ui = self.ui
        ui.mrn.setText(patient.mrn if patient else "")
        ui.family_name.setText(patient.family_name if patient else "")
        ui.given_name.setText(patient.given_name if patient else "")
        # A new patient's date of birth starts fifty years back, near most of the clinic's patients.
        set_date(ui.birth_date, patient.birth_date if patient else dt.date(self.today.year - 50, 1, 1), self.today)
        select_data(ui.sex, patient.sex if patient else None)
        ui.notes.setPlainText(patient.notes if patient else "")

    def read(self) -> tuple[Patient, list[Problem]]:
        ui = self.ui
        problems: list[Problem] = []
        patient = self.build(
            mrn=normalize_mrn(ui.mrn.text()),  # as stored: NFKC, trimmed (case as typed)
            family_name=ui.family_name.text(),
            given_name=ui.given_name.text(),
            birth_date=date_of(ui.birth_date),
            sex=ui.sex.currentData(),
            notes=long_text(ui.notes, "notes", problems),
        )
        return patient, problems

    def check(self, patient: Patient) -> list[Problem]:
        problems = check_patient_fields(patient, "", self.today)
        onsets = [e.symptom_onset for e in patient.episodes if e.symptom_onset]
        if onsets and patient.birth_date and patient.birth_date > min(onsets):
            problems.append(Problem("birth_date", f"{patient.birth_date.isoformat()} is after the symptom onset "
                                                  f"of an episode ({min(onsets).isoformat()})"))
        return problems

    def title(self) -> str:
        return f"Edit patient — {self.original.mrn}" if self.original is not None else "New patient"
