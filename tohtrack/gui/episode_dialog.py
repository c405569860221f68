"""The dialog that adds or edits an episode: site, onset, resolution, diagnosis, pregnancy, AVN risk factors."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QDate
from PySide6.QtWidgets import QCheckBox, QWidget

from ..model import (AVN_RISK_FACTORS, DIAGNOSES, DIAGNOSIS_LABELS, PREGNANCY_LABELS, PREGNANCY_STATES, SITES, TOH,
                     Episode, Problem, check_episode_fields, site_label)
from .forms.ui_episode_dialog import Ui_EpisodeDialog
from .record_dialog import (RecordDialog, capital, checked_codes, date_of, fill_combo, long_text, select_data,
                            set_date)

#: Diagnoses as the list shows them, with the clinic's abbreviations.
DIAGNOSIS_ITEMS = {
    TOH: "Transient osteoporosis (TOH, bone marrow edema syndrome)",
    "avascular_necrosis": "Avascular necrosis (AVN)",
    "crps": "Complex regional pain syndrome (CRPS)",
}

# The order of a finding's date column, for the onset check (as the store words it).
_FINDING_DATES = (("imaging", "date", "imaging study"), ("symptoms", "date", "symptom record"),
                  ("treatments", "start", "treatment"))


class EpisodeDialog(RecordDialog):
    """New episode / Edit episode — Left hip."""

    form_class = Ui_EpisodeDialog
    record_class = Episode
    noun = "episode"
    fields = ("site", "symptom_onset", "resolved_on", "diagnosis", "pregnancy", "avn_risk_factors", "notes")
    must_set = {"symptom_onset": "Enter the date the symptoms began"}

    def __init__(self, parent: QWidget | None = None, episode: Episode | None = None, *, birth_date: dt.date,
                 today: dt.date | None = None, save: Callable[[Episode], Episode],
                 reload: Callable[[], Episode | None] | None = None, sex: str | None = None):
        self.birth_date = birth_date
        #: The patient's sex: for a male patient the pregnancy field is hidden (it would be refused).
        self.sex = sex
        super().__init__(parent, episode, today=today, save=save, reload=reload)

    def setup(self) -> None:
        ui = self.ui
        today = QDate(self.today.year, self.today.month, self.today.day)
        for edit in (ui.symptom_onset, ui.resolved_on):
            edit.setMinimumDate(QDate(1900, 1, 1))
            edit.setMaximumDate(today)
        fill_combo(ui.site, [(site_label(site, capital=True), site) for site in SITES])
        ui.site.setPlaceholderText("choose…")
        fill_combo(ui.diagnosis, [(DIAGNOSIS_ITEMS.get(code, capital(DIAGNOSIS_LABELS[code])), code)
                                  for code in DIAGNOSES])
        fill_combo(ui.pregnancy, [("not recorded", None)]
                   + [(capital(PREGNANCY_LABELS[code]), code) for code in PREGNANCY_STATES])
        self.risk_boxes: dict[str, QCheckBox] = {code: getattr(ui, f"avn_risk_factors_{code}")
                                                 for code in AVN_RISK_FACTORS}
        ui.resolved_on_check.toggled.connect(self._resolved_toggled)

    def _resolved_toggled(self, checked: bool) -> None:
        self.ui.resolved_on.setEnabled(checked)
        if checked and not self._filling:
            self.ui.resolved_on.setFocus()

    def fill(self, episode: Episode | None) -> None:
        ui = self.ui
        select_data(ui.site, episode.site if episode else None)
        set_date(ui.symptom_onset, episode.symptom_onset if episode else self.today, self.today)
        resolved = episode.resolved_on if episode else None
        ui.resolved_on_check.setChecked(resolved is not None)
        ui.resolved_on.setEnabled(resolved is not None)
        set_date(ui.resolved_on, resolved or self.today, self.today)
        select_data(ui.diagnosis, episode.diagnosis if episode else TOH)
        select_data(ui.pregnancy, episode.pregnancy if episode else None)
        factors = episode.avn_risk_factors if episode else []
        for code, box in self.risk_boxes.items():
            box.setChecked(code in factors)
        ui.notes.setPlainText(episode.notes if episode else "")
        # Hidden for a male patient, unless the episode shown records a pregnancy (an older record): then it stays
        # in view, to be set back to 'not recorded'.
        self._pregnancy_shown = self.sex != "male" or (episode is not None and episode.pregnancy is not None)
        for widget in (ui.pregnancy_label, ui.pregnancy):
            widget.setVisible(self._pregnancy_shown)
        if not self._pregnancy_shown:
            ui.pregnancy_error.setVisible(False)

    def field_shown(self, field: str) -> bool:
        if field == "pregnancy":
            return getattr(self, "_pregnancy_shown", True)
        return super().field_shown(field)

    def read(self) -> tuple[Episode, list[Problem]]:
        ui = self.ui
        problems: list[Problem] = []
        episode = self.build(
            site=ui.site.currentData(),
            symptom_onset=date_of(ui.symptom_onset),
            resolved_on=date_of(ui.resolved_on) if ui.resolved_on_check.isChecked() else None,
            diagnosis=ui.diagnosis.currentData(),
            pregnancy=ui.pregnancy.currentData(),
            avn_risk_factors=checked_codes(self.risk_boxes, self.original.avn_risk_factors if self.original else []),
            notes=long_text(ui.notes, "notes", problems),
        )
        return episode, problems

    def check(self, episode: Episode) -> list[Problem]:
        problems = check_episode_fields(episode, "", self.birth_date, self.today)
        onset = episode.symptom_onset
        for attribute, column, noun in _FINDING_DATES:
            dates = [getattr(r, column) for r in getattr(episode, attribute) if getattr(r, column)]
            if onset and dates and min(dates) < onset:
                problems.append(Problem("symptom_onset", f"{onset.isoformat()} is after the {noun} of "
                                                         f"{min(dates).isoformat()} in this episode"))
        return problems

    def mark_widgets(self, field: str):
        if field == "avn_risk_factors":
            return [self.ui.avn_risk_factors]
        return super().mark_widgets(field)

    def title(self) -> str:
        if self.original is None:
            return "New episode"
        return f"Edit episode — {site_label(self.original.site, capital=True)}"
