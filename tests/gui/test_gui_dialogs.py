"""The five record dialogs, driven as a clinic user would: typing, choosing, OK, Enter, Esc, Reload."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDateEdit, QDateTimeEdit, QDialog, QLabel, QLineEdit,
                               QPlainTextEdit, QPushButton, QTimeEdit, QWidget)

from tohtrack.db import ConflictError, StoreError
from tohtrack.gui.episode_dialog import EpisodeDialog
from tohtrack.gui.imaging_dialog import MODALITY_DEPENDENT, ImagingDialog
from tohtrack.gui.patient_dialog import PatientDialog
from tohtrack.gui.symptom_dialog import SymptomDialog
from tohtrack.gui.treatment_dialog import TreatmentDialog
from tohtrack.model import (Episode, ImagingStudy, Patient, Problem, SymptomRecord, Treatment, ValidationError)

TODAY = dt.date(2025, 6, 1)
BIRTH = dt.date(1976, 3, 2)
ONSET = dt.date(2025, 1, 10)


# ---------------------------------------------------------------------------
# Acting as the user
# ---------------------------------------------------------------------------


def type_text(qtbot, widget: QWidget, text: str) -> None:
    """Replace what a line edit, text box, date or time edit holds by typing."""
    widget.setFocus()
    if isinstance(widget, QDateTimeEdit):  # double-click the first section (the year), then type it all
        line = widget.lineEdit()
        qtbot.mouseDClick(line, Qt.MouseButton.LeftButton, pos=QPoint(6, line.height() // 2))
        qtbot.keyClicks(widget, text)
        return
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    if text:
        qtbot.keyClicks(widget, text)
    else:
        qtbot.keyClick(widget, Qt.Key.Key_Backspace)


def choose(qtbot, combo: QComboBox, text: str) -> None:
    """Pick a combo box item with the arrow keys, as from the keyboard."""
    combo.setFocus()
    if combo.currentIndex() < 0:
        qtbot.keyClick(combo, Qt.Key.Key_Down)
    key = Qt.Key.Key_Down if combo.findText(text) > combo.currentIndex() else Qt.Key.Key_Up
    for _ in range(combo.count()):
        if combo.currentText() == text:
            return
        qtbot.keyClick(combo, key)
    assert combo.currentText() == text, f"{text!r} not in {combo.objectName()}"


def tick(qtbot, box: QCheckBox) -> None:
    """Click a check box on its indicator."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def press_ok(qtbot, dialog) -> None:
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def error_text(dialog, field: str) -> str:
    label: QLabel = getattr(dialog.ui, f"{field}_error")
    return label.text() if label.isVisible() else ""


def is_marked(dialog, field: str) -> bool:
    return bool(getattr(dialog.ui, field).property("invalid"))


class Saver:
    """A save callable that records what it was given and can fail the first times."""

    def __init__(self, *failures: Exception):
        self.calls: list[Any] = []
        self.failures = list(failures)

    def __call__(self, record):
        self.calls.append(record)
        if self.failures:
            raise self.failures.pop(0)
        return dataclasses.replace(record, id=record.id or 99, version=(record.version or 0) + 1)


@pytest.fixture
def open_dialog(qtbot):
    """Build a dialog, register it with qtbot and show it."""

    def make(cls, *args, **kwargs):
        kwargs.setdefault("today", TODAY)
        dialog = cls(None, *args, **kwargs)
        qtbot.addWidget(dialog)
        dialog.show()
        return dialog

    return make


# ---------------------------------------------------------------------------
# One case per dialog, for the behaviour they share
# ---------------------------------------------------------------------------


def _existing_patient() -> Patient:
    return Patient("H-1", "Rossi", "Marco", BIRTH, "male", notes="Referred by GP",
                   episodes=[Episode("hip_left", ONSET, id=5, version=1)], id=7, version=3)


def _existing_episode() -> Episode:
    return Episode("hip_left", ONSET, avn_risk_factors=["smoking", "alcohol"],
                   imaging=[ImagingStudy(dt.date(2025, 2, 1), "MRI", id=1, version=1)],
                   symptoms=[SymptomRecord(dt.date(2025, 1, 20), pain_nrs=7, id=2, version=1)],
                   treatments=[Treatment(dt.date(2025, 1, 20), "analgesia", id=3, version=1)], id=5, version=2)


def _existing_study() -> ImagingStudy:
    return ImagingStudy(dt.date(2025, 2, 1), "MRI", time="08:40", edema_extent_pct=70,
                        edema_regions=["neck", "head"], t1_low_signal=True, t2_high_signal=True,
                        medial_head_sparing=True, accession="A-1", report="Edema of head and neck.", id=11, version=4)


def _existing_symptom() -> SymptomRecord:
    return SymptomRecord(dt.date(2025, 1, 20), pain_nrs=7, function_score=55.5, function_instrument="Harris Hip Score",
                         weight_bearing="protected", id=12, version=2)


def _existing_treatment() -> Treatment:
    return Treatment(dt.date(2025, 1, 20), "bisphosphonate", detail="zoledronate 5 mg IV once", id=13, version=2)


def _type_patient(qtbot, d) -> None:
    type_text(qtbot, d.ui.mrn, "H-77")
    type_text(qtbot, d.ui.family_name, "Bianchi")
    type_text(qtbot, d.ui.given_name, "Luca")
    type_text(qtbot, d.ui.birth_date, "1970-05-04")
    choose(qtbot, d.ui.sex, "Male")
    type_text(qtbot, d.ui.notes, "Referred by GP")


def _type_episode(qtbot, d) -> None:
    choose(qtbot, d.ui.site, "Right hip")
    type_text(qtbot, d.ui.symptom_onset, "2025-01-10")
    tick(qtbot, d.ui.avn_risk_factors_smoking)
    type_text(qtbot, d.ui.notes, "Pain for three weeks")


def _type_study(qtbot, d) -> None:
    type_text(qtbot, d.ui.date, "2025-02-01")
    tick(qtbot, d.ui.time_check)
    type_text(qtbot, d.ui.time, "08:40")
    type_text(qtbot, d.ui.accession, "ACC-9")
    type_text(qtbot, d.ui.edema_extent_pct, "70,5")
    tick(qtbot, d.ui.edema_regions_head)
    tick(qtbot, d.ui.edema_regions_neck)
    choose(qtbot, d.ui.t1_low_signal, "yes")
    choose(qtbot, d.ui.subchondral_t2_low_band, "no")


def _type_symptom(qtbot, d) -> None:
    type_text(qtbot, d.ui.date, "2025-01-20")
    type_text(qtbot, d.ui.pain_nrs, "7.5")
    type_text(qtbot, d.ui.function_score, "55")
    choose(qtbot, d.ui.weight_bearing, "Protected weight bearing")


def _type_treatment(qtbot, d) -> None:
    choose(qtbot, d.ui.kind, "Bisphosphonate (e.g. zoledronate)")
    type_text(qtbot, d.ui.start, "2025-01-20")
    tick(qtbot, d.ui.end_check)
    type_text(qtbot, d.ui.end, "2025-01-21")
    type_text(qtbot, d.ui.detail, "zoledronate 5 mg IV once")


@dataclass
class Case:
    cls: type
    kwargs: dict
    existing: Callable[[], Any]
    type_new: Callable
    expected_new: dict  # fields of the record typed by type_new
    text_field: str  # a free-text field to change when editing
    problem_field: str  # a field a save-time ValidationError names (one where Enter means OK)
    starts_complete: bool = False  # a new record is valid as the dialog opens (date today, the rest optional)

    def __repr__(self) -> str:
        return self.cls.__name__


CASES = [
    Case(PatientDialog, {}, _existing_patient, _type_patient,
         dict(mrn="H-77", family_name="Bianchi", given_name="Luca", birth_date=dt.date(1970, 5, 4), sex="male",
              notes="Referred by GP"), "given_name", "mrn"),
    Case(EpisodeDialog, {"birth_date": BIRTH}, _existing_episode, _type_episode,
         dict(site="hip_right", symptom_onset=ONSET, resolved_on=None, diagnosis="transient_osteoporosis",
              pregnancy=None, avn_risk_factors=["smoking"], notes="Pain for three weeks"), "notes", "symptom_onset"),
    Case(ImagingDialog, {"onset": ONSET}, _existing_study, _type_study,
         dict(date=dt.date(2025, 2, 1), time="08:40", modality="MRI", accession="ACC-9", edema_extent_pct=70.5,
              edema_volume_ml=None, edema_regions=["head", "neck"], t1_low_signal=True, subchondral_t2_low_band=False,
              collapse=None, osteopenia=None), "accession", "date", starts_complete=True),
    Case(SymptomDialog, {"onset": ONSET, "site": "hip_left"}, _existing_symptom, _type_symptom,
         dict(date=dt.date(2025, 1, 20), pain_nrs=7.5, function_score=55, function_instrument="Harris Hip Score",
              weight_bearing="protected", note=""), "function_instrument", "pain_nrs", starts_complete=True),
    Case(TreatmentDialog, {"onset": ONSET}, _existing_treatment, _type_treatment,
         dict(kind="bisphosphonate", start=dt.date(2025, 1, 20), end=dt.date(2025, 1, 21),
              detail="zoledronate 5 mg IV once"), "detail", "start"),
]


@pytest.fixture(params=CASES, ids=repr)
def case(request) -> Case:
    return request.param


def _edit(case, open_dialog, saver, reload=None):
    original = case.existing()
    dialog = open_dialog(case.cls, original, save=saver, reload=reload, **case.kwargs)
    return original, dialog


def test_new_record_typed_in_and_saved(qtbot, open_dialog, case):
    saver = Saver()
    dialog = open_dialog(case.cls, save=saver, **case.kwargs)
    assert dialog.windowTitle().startswith("New ")
    assert dialog.ok_button.isEnabled() == case.starts_complete
    case.type_new(qtbot, dialog)
    assert dialog.ok_button.isEnabled(), dialog.problems()
    press_ok(qtbot, dialog)
    assert len(saver.calls) == 1
    record = saver.calls[0]
    assert type(record) is dialog.record_class and record.id is None and record.version is None
    for name, value in case.expected_new.items():
        assert getattr(record, name) == value, name
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.saved.id == 99


def test_editing_keeps_id_version_and_what_the_dialog_does_not_edit(qtbot, open_dialog, case):
    saver = Saver()
    original, dialog = _edit(case, open_dialog, saver)
    assert dialog.windowTitle().startswith("Edit ")
    untouched = dialog.record()
    assert untouched == original and untouched is not original  # nothing typed: nothing changed
    type_text(qtbot, getattr(dialog.ui, case.text_field), "changed")
    press_ok(qtbot, dialog)
    record = saver.calls[0]
    assert getattr(record, case.text_field) == "changed"
    assert (record.id, record.version) == (original.id, original.version)
    assert dataclasses.replace(record, **{case.text_field: getattr(original, case.text_field)}) == original
    if isinstance(original, (Patient, Episode)):  # the lists the dialog does not edit are passed on untouched
        lists = ("episodes",) if isinstance(original, Patient) else ("imaging", "symptoms", "treatments")
        for name in lists:
            assert getattr(record, name) is getattr(original, name)
    assert dialog.saved.version == original.version + 1


def test_save_validation_error_is_shown_beside_the_field(qtbot, open_dialog, case):
    saver = Saver(ValidationError([Problem(f".{case.problem_field}", "is not accepted by the database"),
                                   Problem("", "the whole record was refused")]))
    original, dialog = _edit(case, open_dialog, saver)
    press_ok(qtbot, dialog)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert error_text(dialog, case.problem_field).endswith(" is not accepted by the database")
    assert is_marked(dialog, case.problem_field)
    assert dialog.ui.banner.isVisible()
    assert dialog.ui.banner.text() == "Not saved: please correct what is marked below.\nThe whole record was refused"
    assert not dialog.ok_button.isEnabled()
    # Correcting the field (any edit of it) clears the refusal; OK saves.
    widget = getattr(dialog.ui, case.problem_field)
    if isinstance(widget, QDateEdit):
        type_text(qtbot, widget, "2025-01-15")
    elif isinstance(widget, QComboBox):
        qtbot.keyClick(widget, Qt.Key.Key_Down)
    else:
        type_text(qtbot, widget, "1" if case.problem_field == "pain_nrs" else "H-2")
    assert error_text(dialog, case.problem_field) == ""
    assert dialog.ok_button.isEnabled()
    press_ok(qtbot, dialog)
    assert len(saver.calls) == 2 and dialog.result() == QDialog.DialogCode.Accepted


def test_conflict_shows_the_banner_and_reload_refills(qtbot, open_dialog, case):
    message = f"this {case.cls.noun} was changed by another window or workstation since you opened it"
    saver = Saver(ConflictError(message))
    fresh = dataclasses.replace(case.existing(), **{case.text_field: "saved elsewhere"}, version=9)
    original, dialog = _edit(case, open_dialog, saver, reload=lambda: fresh)
    assert not dialog.ui.banner.isVisible() and not dialog.ui.reload_button.isVisible()
    type_text(qtbot, getattr(dialog.ui, case.text_field), "mine")
    press_ok(qtbot, dialog)
    assert dialog.isVisible() and message in dialog.ui.banner.text()
    assert dialog.ui.reload_button.isVisible()
    qtbot.mouseClick(dialog.ui.reload_button, Qt.MouseButton.LeftButton)
    assert not dialog.ui.reload_button.isVisible()
    assert "Reloaded" in dialog.ui.banner.text()
    assert getattr(dialog.record(), case.text_field) == "saved elsewhere"
    assert dialog.record().version == 9
    press_ok(qtbot, dialog)
    assert saver.calls[-1].version == 9 and dialog.result() == QDialog.DialogCode.Accepted


def test_reload_of_a_removed_record_says_so(qtbot, open_dialog, case):
    saver = Saver(ConflictError(f"this {case.cls.noun} was removed by another window or workstation"))
    original, dialog = _edit(case, open_dialog, saver, reload=lambda: None)
    press_ok(qtbot, dialog)
    qtbot.mouseClick(dialog.ui.reload_button, Qt.MouseButton.LeftButton)
    assert "no longer in the database" in dialog.ui.banner.text()
    assert not dialog.ok_button.isEnabled() and dialog.isVisible()


def test_store_error_keeps_what_was_typed(qtbot, open_dialog, case):
    saver = Saver(StoreError("the database is locked by another program"))
    dialog = open_dialog(case.cls, save=saver, **case.kwargs)
    case.type_new(qtbot, dialog)
    typed = dialog.record()
    press_ok(qtbot, dialog)
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert "the database is locked" in dialog.ui.banner.text()
    assert not dialog.ui.reload_button.isVisible()
    assert dialog.record() == typed
    press_ok(qtbot, dialog)  # try again: it works now
    assert dialog.result() == QDialog.DialogCode.Accepted and len(saver.calls) == 2


def test_escape_cancels_without_saving(qtbot, open_dialog, case):
    saver = Saver()
    original, dialog = _edit(case, open_dialog, saver)
    type_text(qtbot, getattr(dialog.ui, case.text_field), "not wanted")
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.result() == QDialog.DialogCode.Rejected and not dialog.isVisible()
    assert saver.calls == [] and dialog.saved is None


def test_enter_saves(qtbot, open_dialog, case):
    saver = Saver()
    original, dialog = _edit(case, open_dialog, saver)
    widget = getattr(dialog.ui, case.problem_field)
    widget.setFocus()
    qtbot.keyClick(widget, Qt.Key.Key_Return)
    assert len(saver.calls) == 1 and dialog.result() == QDialog.DialogCode.Accepted


def test_the_form_is_tidy_and_accessible(open_dialog, case):
    dialog = open_dialog(case.cls, **case.kwargs, save=Saver())
    ui = dialog.ui
    assert not ui.banner.isVisible() and not ui.reload_button.isVisible()
    for field in dialog.fields:
        widget = getattr(ui, field)
        assert widget.accessibleName(), field
        assert isinstance(getattr(ui, f"{field}_error"), QLabel)
        assert "#c62828" in getattr(ui, f"{field}_error").styleSheet()
    for name, widget in vars(ui).items():
        if not isinstance(widget, QWidget):
            continue
        assert widget.objectName() == name
        if isinstance(widget, (QLineEdit, QComboBox, QDateEdit, QCheckBox, QPlainTextEdit)) \
                and not isinstance(widget.parent(), (QDateEdit, QTimeEdit, QComboBox)):
            assert widget.accessibleName(), widget.objectName()
        if isinstance(widget, QLabel) and "&" in widget.text():
            assert widget.buddy() is not None, widget.objectName()
        if isinstance(widget, QDateEdit):
            assert widget.calendarPopup() and widget.displayFormat() == "yyyy-MM-dd"
            assert widget.maximumDate().toPython() == TODAY
        if isinstance(widget, QPlainTextEdit):
            assert widget.tabChangesFocus()
    size = dialog.sizeHint().expandedTo(dialog.minimumSizeHint())
    assert size.width() <= 1280 and size.height() <= 800


def test_mnemonics_are_unique_and_tab_follows_the_form(open_dialog, case):
    dialog = open_dialog(case.cls, case.existing(), **case.kwargs, save=Saver())
    keys = []
    for widget in vars(dialog.ui).values():
        if isinstance(widget, (QLabel, QCheckBox, QPushButton)) and "&" in widget.text():
            keys.append(widget.text().split("&")[1][:1].lower())
    assert len(keys) == len(set(keys)), sorted(keys)

    def field_of(widget: QWidget) -> str | None:
        name = widget.objectName()
        owners = [f for f in dialog.fields if name == f or name.startswith(f + "_")]
        return max(owners, key=len) if owners else None

    first = getattr(dialog.ui, dialog.fields[0])
    order, widget = [], first
    while True:
        field = field_of(widget)
        if field and widget.focusPolicy() & Qt.FocusPolicy.TabFocus and field not in order:
            order.append(field)
        widget = widget.nextInFocusChain()
        if widget is first:
            break
    assert order == list(dialog.fields)


def test_tab_leaves_a_text_box(qtbot, open_dialog):
    dialog = open_dialog(PatientDialog, _existing_patient(), save=Saver())
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2000)
    dialog.ui.notes.setFocus()
    assert dialog.ui.notes.hasFocus()
    qtbot.keyClick(dialog.ui.notes, Qt.Key.Key_Tab)
    assert dialog.ui.notes.toPlainText() == "Referred by GP"
    assert not dialog.ui.notes.hasFocus()


# ---------------------------------------------------------------------------
# Validation as you type
# ---------------------------------------------------------------------------


def test_patient_messages_beside_fields_as_you_type(qtbot, open_dialog):
    dialog = open_dialog(PatientDialog, save=Saver())
    # Before anything is typed the missing fields are named quietly, not marked as errors.
    assert "MRN is required" in error_text(dialog, "mrn")
    assert dialog.ui.mrn_error.property("pending") and not is_marked(dialog, "mrn")
    _type_patient(qtbot, dialog)
    assert dialog.ok_button.isEnabled()
    type_text(qtbot, dialog.ui.mrn, "")
    assert error_text(dialog, "mrn") == "MRN is required"
    assert is_marked(dialog, "mrn") and not dialog.ui.mrn_error.property("pending")
    assert dialog.ui.mrn.accessibleDescription() == "MRN is required"
    assert not dialog.ok_button.isEnabled()
    qtbot.keyClick(dialog.ui.mrn, Qt.Key.Key_Return)  # Enter does nothing while something is wrong
    assert dialog.isVisible()
    type_text(qtbot, dialog.ui.mrn, "  H-78 ")
    assert error_text(dialog, "mrn") == "" and not is_marked(dialog, "mrn")
    assert dialog.ok_button.isEnabled()
    assert dialog.record().mrn == "H-78"  # trimmed, as everywhere


def test_leaving_an_empty_required_field_marks_it(qtbot, open_dialog):
    dialog = open_dialog(PatientDialog, save=Saver())
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=2000)
    dialog.ui.mrn.setFocus()
    assert not is_marked(dialog, "mrn")
    qtbot.keyClick(dialog.ui.mrn, Qt.Key.Key_Tab)
    assert dialog.ui.family_name.hasFocus()
    assert is_marked(dialog, "mrn") and not dialog.ui.mrn_error.property("pending")
    assert not is_marked(dialog, "family_name")  # not visited yet


def test_new_patient_needs_a_date_of_birth_entered(qtbot, open_dialog):
    dialog = open_dialog(PatientDialog, save=Saver())
    type_text(qtbot, dialog.ui.mrn, "H-1")
    type_text(qtbot, dialog.ui.family_name, "Rossi")
    choose(qtbot, dialog.ui.sex, "Female")
    assert not dialog.ok_button.isEnabled()
    assert "date of birth" in error_text(dialog, "birth_date")
    type_text(qtbot, dialog.ui.birth_date, "1980-02-03")
    assert dialog.ok_button.isEnabled() and error_text(dialog, "birth_date") == ""


def test_patient_birth_date_after_an_episode_onset_is_refused(qtbot, open_dialog):
    dialog = open_dialog(PatientDialog, _existing_patient(), save=Saver())
    type_text(qtbot, dialog.ui.birth_date, "2025-02-01")
    assert "after the symptom onset of an episode" in error_text(dialog, "birth_date")
    assert not dialog.ok_button.isEnabled()


def test_episode_dates_are_checked(qtbot, open_dialog):
    dialog = open_dialog(EpisodeDialog, birth_date=BIRTH, save=Saver())
    _type_episode(qtbot, dialog)
    type_text(qtbot, dialog.ui.symptom_onset, "1970-01-01")
    assert error_text(dialog, "symptom_onset") == "1970-01-01 is before the birth date 1976-03-02"
    assert is_marked(dialog, "symptom_onset") and not dialog.ok_button.isEnabled()
    type_text(qtbot, dialog.ui.symptom_onset, "2025-01-10")
    assert dialog.ok_button.isEnabled()
    assert not dialog.ui.resolved_on.isEnabled()
    tick(qtbot, dialog.ui.resolved_on_check)
    assert dialog.ui.resolved_on.isEnabled()
    type_text(qtbot, dialog.ui.resolved_on, "2025-01-01")
    assert error_text(dialog, "resolved_on") == "2025-01-01 is before the symptom onset 2025-01-10"
    assert not dialog.ok_button.isEnabled()
    type_text(qtbot, dialog.ui.resolved_on, "2025-05-01")
    assert dialog.ok_button.isEnabled() and dialog.record().resolved_on == dt.date(2025, 5, 1)


def test_episode_onset_after_its_first_finding_is_refused(qtbot, open_dialog):
    dialog = open_dialog(EpisodeDialog, _existing_episode(), birth_date=BIRTH, save=Saver())
    assert dialog.windowTitle() == "Edit episode — Left hip"
    type_text(qtbot, dialog.ui.symptom_onset, "2025-01-25")
    assert "after the symptom record of 2025-01-20" in error_text(dialog, "symptom_onset")
    assert not dialog.ok_button.isEnabled()


def test_episode_risk_factors_keep_their_order(qtbot, open_dialog):
    saver = Saver()
    dialog = open_dialog(EpisodeDialog, _existing_episode(), birth_date=BIRTH, save=saver)
    tick(qtbot, dialog.ui.avn_risk_factors_corticosteroids)
    press_ok(qtbot, dialog)
    assert saver.calls[0].avn_risk_factors == ["smoking", "alcohol", "corticosteroids"]


@pytest.mark.parametrize("text, message", [
    ("11", "11 is outside 0–10"), ("-1", "-1 is outside 0–10"), ("abc", "'abc' is not a number"),
    ("7..5", "'7..5' is not a number"),
])
def test_symptom_pain_is_checked_as_you_type(qtbot, open_dialog, text, message):
    dialog = open_dialog(SymptomDialog, onset=ONSET, site="hip_left", save=Saver())
    type_text(qtbot, dialog.ui.pain_nrs, text)
    assert error_text(dialog, "pain_nrs") == message
    assert is_marked(dialog, "pain_nrs") and not dialog.ok_button.isEnabled()
    type_text(qtbot, dialog.ui.pain_nrs, "6,5")
    assert error_text(dialog, "pain_nrs") == "" and dialog.ok_button.isEnabled()
    assert dialog.record().pain_nrs == 6.5
    type_text(qtbot, dialog.ui.pain_nrs, "")
    assert dialog.record().pain_nrs is None and dialog.ok_button.isEnabled()  # empty = not recorded


def test_symptom_date_before_onset_and_instrument_default(qtbot, open_dialog):
    dialog = open_dialog(SymptomDialog, onset=ONSET, site="knee_right", save=Saver())
    assert dialog.ui.function_instrument.text() == ""  # Harris Hip Score only for hips
    type_text(qtbot, dialog.ui.date, "2025-01-02")
    assert error_text(dialog, "date") == "2025-01-02 is before the symptom onset 2025-01-10"
    type_text(qtbot, dialog.ui.function_score, "101")
    assert error_text(dialog, "function_score") == "101 is outside 0–100"
    assert not dialog.ok_button.isEnabled()


def test_treatment_end_before_start(qtbot, open_dialog):
    dialog = open_dialog(TreatmentDialog, _existing_treatment(), onset=ONSET, save=Saver())
    assert dialog.windowTitle() == "Edit treatment — bisphosphonate from 2025-01-20"
    tick(qtbot, dialog.ui.end_check)
    type_text(qtbot, dialog.ui.end, "2025-01-19")
    assert error_text(dialog, "end") == "2025-01-19 is before the start 2025-01-20"
    assert not dialog.ok_button.isEnabled()
    tick(qtbot, dialog.ui.end_check)  # not ended after all
    assert dialog.ok_button.isEnabled() and dialog.record().end is None


def test_imaging_numbers_are_checked(qtbot, open_dialog):
    dialog = open_dialog(ImagingDialog, onset=ONSET, save=Saver())
    assert dialog.ok_button.isEnabled()  # a new MRI of today is complete as it stands
    type_text(qtbot, dialog.ui.edema_extent_pct, "140")
    assert error_text(dialog, "edema_extent_pct") == "140 is outside 0–100"
    type_text(qtbot, dialog.ui.edema_volume_ml, "-3")
    assert error_text(dialog, "edema_volume_ml") == "-3 is outside 0–5000"
    assert not dialog.ok_button.isEnabled()
    type_text(qtbot, dialog.ui.edema_extent_pct, "40")
    type_text(qtbot, dialog.ui.edema_volume_ml, "12.5")
    assert dialog.ok_button.isEnabled()
    assert (dialog.record().edema_extent_pct, dialog.record().edema_volume_ml) == (40, 12.5)


# ---------------------------------------------------------------------------
# Imaging: fields per modality
# ---------------------------------------------------------------------------


def _shown(dialog, field: str) -> bool:
    return getattr(dialog.ui, field).isVisible() and getattr(dialog.ui, f"{field}_label").isVisible()


def test_imaging_shows_the_fields_of_the_modality(qtbot, open_dialog):
    dialog = open_dialog(ImagingDialog, onset=ONSET, save=Saver())
    assert dialog.ui.modality.currentData() == "MRI"
    for field in ("edema_extent_pct", "edema_regions", "t1_low_signal", "subchondral_t2_low_band",
                  "medial_head_sparing", "dce_enhancement", "joint_effusion"):
        assert _shown(dialog, field), field
    for field in ("osteopenia", "subchondral_cortical_loss", "joint_space_narrowed", "scintigraphy_uptake"):
        assert not _shown(dialog, field), field
    choose(qtbot, dialog.ui.modality, "Radiograph (XR)")
    assert not dialog.ui.edema_group.isVisible()
    for field in ("osteopenia", "subchondral_cortical_loss", "joint_space_narrowed", "joint_effusion", "collapse",
                  "subchondral_fracture_line"):
        assert _shown(dialog, field), field
    assert not _shown(dialog, "t1_low_signal") and not _shown(dialog, "dce_enhancement")
    choose(qtbot, dialog.ui.modality, "Bone scintigraphy (NM)")
    assert _shown(dialog, "scintigraphy_uptake")
    assert not any(_shown(dialog, f) for f in ("osteopenia", "collapse", "joint_effusion"))
    choose(qtbot, dialog.ui.modality, "CT")
    assert _shown(dialog, "osteopenia") and _shown(dialog, "collapse") and not _shown(dialog, "joint_effusion")


def test_imaging_findings_explain_themselves(open_dialog):
    dialog = open_dialog(ImagingDialog, onset=ONSET, save=Saver())
    for field in MODALITY_DEPENDENT:
        assert getattr(dialog.ui, field).toolTip(), field
    assert "avascular necrosis" in dialog.ui.subchondral_t2_low_band.toolTip()
    labels = [dialog.ui.t1_low_signal.itemText(i) for i in range(dialog.ui.t1_low_signal.count())]
    assert labels == ["not assessed", "yes", "no"]
    assert dialog.ui.modality.itemData(dialog.ui.modality.findText("Radiograph (XR)")) == "XR"


def test_imaging_never_hides_a_filled_field(qtbot, open_dialog):
    study = ImagingStudy(dt.date(2025, 2, 1), "XR", edema_volume_ml=12, t1_low_signal=False,
                         scintigraphy_uptake="increased_homogeneous", osteopenia=True, id=3, version=1)
    saver = Saver()
    dialog = open_dialog(ImagingDialog, study, onset=ONSET, save=saver)
    assert dialog.windowTitle() == "Edit imaging study — radiograph of 2025-02-01"
    for field in ("edema_volume_ml", "t1_low_signal", "scintigraphy_uptake", "osteopenia"):
        assert _shown(dialog, field), field
    assert dialog.ui.edema_group.isVisible() and not _shown(dialog, "edema_extent_pct")
    choose(qtbot, dialog.ui.osteopenia, "no")
    choose(qtbot, dialog.ui.modality, "Bone scintigraphy (NM)")
    assert _shown(dialog, "osteopenia") and _shown(dialog, "t1_low_signal") and not _shown(dialog, "collapse")
    choose(qtbot, dialog.ui.modality, "Radiograph (XR)")
    press_ok(qtbot, dialog)
    assert saver.calls[0] == dataclasses.replace(study, osteopenia=False)  # the rest kept as it was


# ---------------------------------------------------------------------------
# With a real store
# ---------------------------------------------------------------------------


def test_patient_round_trip_through_the_store(qtbot, open_dialog, store):
    dialog = open_dialog(PatientDialog, save=lambda p: store.add_patient(p))
    _type_patient(qtbot, dialog)
    press_ok(qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    stored = store.patient(dialog.saved.id)
    assert (stored.mrn, stored.family_name, stored.birth_date, stored.sex) == ("H-77", "Bianchi",
                                                                              dt.date(1970, 5, 4), "male")

    # The same MRN again: the store's refusal is shown beside the MRN.
    again = open_dialog(PatientDialog, save=lambda p: store.add_patient(p))
    _type_patient(qtbot, again)
    press_ok(qtbot, again)
    assert again.isVisible() and "already exists in the database" in error_text(again, "mrn")

    # Two windows edit the same patient: the second one meets a conflict, reloads and saves.
    first = open_dialog(PatientDialog, store.patient(stored.id), save=store.update_patient,
                        reload=lambda: store.patient(stored.id))
    second = open_dialog(PatientDialog, store.patient(stored.id), save=store.update_patient,
                         reload=lambda: store.patient(stored.id))
    type_text(qtbot, first.ui.given_name, "Luciano")
    press_ok(qtbot, first)
    type_text(qtbot, second.ui.notes, "second window")
    press_ok(qtbot, second)
    assert second.isVisible() and "changed by another window" in second.ui.banner.text()
    qtbot.mouseClick(second.ui.reload_button, Qt.MouseButton.LeftButton)
    assert second.ui.given_name.text() == "Luciano"
    type_text(qtbot, second.ui.notes, "second window")
    press_ok(qtbot, second)
    assert second.result() == QDialog.DialogCode.Accepted
    final = store.patient(stored.id)
    assert (final.given_name, final.notes, final.version) == ("Luciano", "second window", 3)
