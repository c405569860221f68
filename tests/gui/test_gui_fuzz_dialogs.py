"""Bad input in every record dialog, driven by hypothesis: whatever is typed, pasted, picked or ticked,

- nothing raises (in the test or in a Qt slot),
- OK is enabled exactly when the record as shown is valid by the model's rules *and* survives the tohtrack/1
  round trip (the import reader is stricter: text length, control characters), nothing is left to set, and every
  typed number was read; when OK is disabled, the dialog shows why,
- the text fields hold what the record will say, and an accepted dialog hands over a record that passes the
  model's validation.

Every widget of every field is found through the dialog itself (`fields`, `field_widgets`), so a field added
later is fuzzed too. Only what a user can reach is touched: visible, enabled widgets.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import os
import re
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from PySide6.QtCore import QDate, QTime
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QDateEdit, QLineEdit, QPlainTextEdit, QTimeEdit

from tohtrack import interchange, model
from tohtrack.gui import record_dialog
from tohtrack.gui.episode_dialog import EpisodeDialog
from tohtrack.gui.imaging_dialog import ImagingDialog
from tohtrack.gui.patient_dialog import PatientDialog
from tohtrack.gui.symptom_dialog import SymptomDialog
from tohtrack.gui.treatment_dialog import TreatmentDialog
from tohtrack.model import Episode, ImagingStudy, Patient, SymptomRecord, Treatment, ValidationError

TODAY = dt.date(2025, 6, 1)
BIRTH = dt.date(1976, 3, 2)
ONSET = dt.date(2025, 1, 10)
SITE = "hip_left"
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # what the tohtrack/1 reader refuses in text
NUMBER_FIELDS = ("edema_extent_pct", "edema_volume_ml", "pain_nrs", "function_score")
EXAMPLES = int(os.environ.get("TOHTRACK_FUZZ_EXAMPLES", "30"))  # more on demand

#: How many inputs were tried, and records accepted, per dialog (reported by the last test).
TRIED: Counter = Counter()
ACCEPTED: Counter = Counter()


# ---------------------------------------------------------------------------
# The records the dialogs edit, and the model's verdict on them
# ---------------------------------------------------------------------------


def _existing_patient() -> Patient:
    return Patient("H-1", "Rossi", "Marco", BIRTH, "male", notes="Referred by GP",
                   episodes=[Episode(SITE, ONSET, id=5, version=1)], id=7, version=3)


def _existing_episode() -> Episode:
    return Episode(SITE, ONSET, avn_risk_factors=["smoking"],
                   imaging=[ImagingStudy(dt.date(2025, 2, 1), "MRI", id=1, version=1)],
                   symptoms=[SymptomRecord(dt.date(2025, 1, 20), pain_nrs=7, id=2, version=1)], id=5, version=2)


def _existing_study() -> ImagingStudy:
    return ImagingStudy(dt.date(2025, 2, 1), "MRI", time="08:40", edema_extent_pct=70, edema_regions=["head"],
                        t1_low_signal=True, accession="A-1", report="Edema of the head.", id=11, version=4)


def _existing_symptom() -> SymptomRecord:
    return SymptomRecord(dt.date(2025, 1, 20), pain_nrs=7, function_score=55.5,
                         function_instrument="Harris Hip Score", weight_bearing="protected", id=12, version=2)


def _existing_treatment() -> Treatment:
    return Treatment(dt.date(2025, 1, 20), "bisphosphonate", detail="zoledronate 5 mg IV once", id=13, version=2)


def _clean(record):
    """A copy without storage identity (the round trip through the file format has none)."""
    record = copy.deepcopy(record)
    for item in [record, *getattr(record, "episodes", []), *getattr(record, "imaging", []),
                 *getattr(record, "symptoms", []), *getattr(record, "treatments", [])]:
        item.id = item.version = None
    return record


def _as_patient(record) -> Patient:
    """The record inside the smallest valid patient (and episode), for the tohtrack/1 round trip."""
    if isinstance(record, Patient):
        return _clean(record)
    if isinstance(record, Episode):
        episode = _clean(record)
    else:
        episode = Episode(SITE, ONSET)
        getattr(episode, {ImagingStudy: "imaging", SymptomRecord: "symptoms", Treatment: "treatments"}[
            type(record)]).append(_clean(record))
    return Patient("FUZZ-1", "Fuzz", "Test", BIRTH, "other", episodes=[episode])


def model_problems(record) -> list[str]:
    """Everything the model refuses in a record: its rules, then the tohtrack/1 reader (an export must import)."""
    if isinstance(record, Patient):
        problems = model.check_patient_fields(record, "", TODAY)
    elif isinstance(record, Episode):
        problems = model.check_episode_fields(record, "", BIRTH, TODAY)
    else:
        check = {ImagingStudy: model.check_imaging, SymptomRecord: model.check_symptom,
                 Treatment: model.check_treatment}[type(record)]
        problems = check(record, "", ONSET, TODAY)
    found = [str(p) for p in problems]
    try:
        model.load_document(interchange.document([_as_patient(record)]), today=TODAY)
    except ValidationError as exc:
        found += [f"round trip: {p}" for p in exc.problems]
    return found


@dataclasses.dataclass
class Spec:
    cls: type
    kwargs: dict
    existing: object

    def __repr__(self) -> str:
        return self.cls.__name__


SPECS = [
    Spec(PatientDialog, {}, _existing_patient),
    Spec(EpisodeDialog, {"birth_date": BIRTH}, _existing_episode),
    Spec(ImagingDialog, {"onset": ONSET, "site": SITE}, _existing_study),
    Spec(SymptomDialog, {"onset": ONSET, "site": SITE}, _existing_symptom),
    Spec(TreatmentDialog, {"onset": ONSET}, _existing_treatment),
]


# ---------------------------------------------------------------------------
# What a user may put in a field
# ---------------------------------------------------------------------------

any_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)  # control characters included
numberish = st.one_of(
    st.from_regex(r"[+-]?[0-9]{0,6}([.,][0-9]{0,4})?", fullmatch=True),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-10**15, 10**15).map(str),
    st.sampled_from(["1e3", "0x10", "١٢", "５", "7..5", ",5", "+.5", "-0", " 7 ", "1_0", "nan", "∞", "½"]),
)
odd_text = st.sampled_from(["", " ", "  \t ", "\n", "a\x00b", "\x07", "Rossi\x1f", "\x7f", "\u200b", "\u2028",
                            "Østergård-Müller", "😀" * 70, "x" * 250, "名字"])
long_text = st.integers(model.MAX_LONG_TEXT - 5, model.MAX_LONG_TEXT + 5).map(lambda n: "y" * n)
field_text = st.one_of(any_text, numberish, odd_text)
keys_text = st.text(st.sampled_from("0123456789-/.:,+ aZ!"), max_size=12)  # typed (QTest types ASCII only)


def reachable(dialog) -> list:
    """The widgets of the dialog's fields a user can reach now (visible and enabled)."""
    widgets = []
    for field in dialog.fields:
        for widget in dialog.field_widgets(field):
            if widget.isVisibleTo(dialog) and widget.isEnabled() and not (
                    type(widget).__name__ == "QWidget"):  # a group of check boxes: its boxes are listed too
                widgets.append(widget)
    return widgets


def act(qtbot, data, dialog) -> str:
    """One user action on a random reachable widget; returns a description for the failure report."""
    widget = data.draw(st.sampled_from(reachable(dialog)), label="widget")
    name = widget.objectName()
    if isinstance(widget, QLineEdit):
        how = data.draw(st.sampled_from(["paste all", "paste", "type"]), label="how")
        if how == "type":
            text = data.draw(keys_text, label="typed")
            widget.setFocus()
            qtbot.keyClicks(widget, text)
        else:
            text = data.draw(field_text, label="text")
            widget.setText(text) if how == "paste all" else widget.insert(text)
        return f"{how} {text!r} into {name}"
    if isinstance(widget, QPlainTextEdit):
        text = data.draw(st.one_of(field_text, long_text), label="text")
        if data.draw(st.booleans(), label="replace"):
            widget.setPlainText(text)
        else:
            widget.insertPlainText(text)
        return f"text of {len(text)} characters {text[:30]!r} into {name}"
    if isinstance(widget, QDateEdit):
        if data.draw(st.booleans(), label="pick"):
            day = data.draw(st.dates(dt.date(1700, 1, 1), dt.date(2400, 12, 31)), label="date")
            widget.setDate(QDate(day.year, day.month, day.day))
            return f"pick {day} in {name}"
        text = data.draw(keys_text, label="typed")
        widget.setFocus()
        qtbot.keyClicks(widget, text)
        return f"type {text!r} into {name}"
    if isinstance(widget, QTimeEdit):
        if data.draw(st.booleans(), label="pick"):
            h, m = data.draw(st.integers(-1, 24), label="hour"), data.draw(st.integers(-1, 60), label="minute")
            widget.setTime(QTime(h, m))
            return f"pick {h}:{m} in {name}"
        text = data.draw(keys_text, label="typed")
        widget.setFocus()
        qtbot.keyClicks(widget, text)
        return f"type {text!r} into {name}"
    if isinstance(widget, QComboBox):
        index = data.draw(st.integers(-1, widget.count() - 1), label="index")
        widget.setCurrentIndex(index)
        return f"choose item {index} of {name}"
    if isinstance(widget, QCheckBox):
        widget.click()
        return f"click {name}"
    raise AssertionError(f"a field widget of an unknown kind: {name} ({type(widget).__name__})")


# ---------------------------------------------------------------------------
# The checks after each action
# ---------------------------------------------------------------------------


def shown_reasons(dialog) -> list[str]:
    reasons = [getattr(dialog.ui, f"{field}_error").text() for field in dialog.fields
               if getattr(dialog.ui, f"{field}_error").isVisibleTo(dialog)]
    if dialog.ui.banner.isVisibleTo(dialog):
        reasons.append(dialog.ui.banner.text())
    return [r for r in reasons if r.strip()]


def check_invariants(dialog, history: list[str]) -> None:
    record, read_problems = dialog.read()
    refused = model_problems(record)
    unset = sorted(dialog._unset)
    ok = dialog.ok_button.isEnabled()
    where = "after: " + " | ".join(history)
    expected = not (refused or read_problems or unset)
    assert ok == expected, (f"OK enabled={ok}, model says {refused}, reading says {read_problems}, "
                            f"unset {unset}; {where}")
    if not ok:
        assert shown_reasons(dialog), f"OK is disabled but no reason is shown; {where}"
    for field in dialog.fields:  # what the text fields show is what the record will hold
        widget = getattr(dialog.ui, field)
        if isinstance(widget, QLineEdit) and field not in NUMBER_FIELDS:
            # an MRN is held as stored: trimmed and in NFKC form (a fullwidth 'Ｈ' is 'H')
            shown = model.normalize_mrn(widget.text()) if field == "mrn" else widget.text()
            assert getattr(record, field) == shown, f"{field}: {getattr(record, field)!r} != {shown!r}; {where}"
        elif isinstance(widget, QPlainTextEdit) and not read_problems:  # less invisible control characters
            assert getattr(record, field) == CONTROL.sub("", widget.toPlainText()), f"{field}; {where}"
        elif field in NUMBER_FIELDS and ok:  # an accepted number is the number typed, never dropped
            text = widget.text().strip()
            value = getattr(record, field)
            assert (value is None) == (text == ""), f"{field}: {text!r} read as {value!r}; {where}"
            if value is not None:
                assert value == float(text.replace(",", ".")), f"{field}: {text!r} read as {value!r}; {where}"


@pytest.mark.parametrize("spec", SPECS, ids=repr)
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_random_input_never_breaks_a_dialog(qtbot, spec, data):
    saved = []

    def save(record):
        problems = model_problems(record)
        assert not problems, f"an accepted dialog handed over an invalid record: {problems}"
        saved.append(record)
        return dataclasses.replace(record, id=record.id or 99, version=(record.version or 0) + 1)

    editing = data.draw(st.booleans(), label="editing an existing record")
    original = spec.existing() if editing else None
    with qtbot.capture_exceptions() as raised:
        dialog = spec.cls(None, copy.deepcopy(original), today=TODAY, save=save, **spec.kwargs)
        try:
            dialog.show()
            history = [f"{'edit' if editing else 'new'} {spec}"]
            check_invariants(dialog, history)
            for _ in range(data.draw(st.integers(1, 8), label="actions")):
                history.append(act(qtbot, data, dialog))
                TRIED[spec.cls.__name__] += 1
                check_invariants(dialog, history)
            could_save = dialog.ok_button.isEnabled()
            dialog.ok_button.click()
            assert len(saved) == int(could_save)
            if could_save:
                assert dialog.result() == dialog.DialogCode.Accepted
                ACCEPTED[spec.cls.__name__] += 1
        finally:
            dialog.close()
            dialog.deleteLater()
            QApplication.processEvents()
    assert not raised, f"an exception in a Qt slot: {raised[0][1]!r}"


def test_the_dialogs_refuse_what_the_file_format_refuses():
    """The dialogs' rule for control characters is the import reader's (so an export always imports)."""
    assert record_dialog.CONTROL_CHARACTERS.pattern == model._CONTROL_RE.pattern == CONTROL.pattern


def test_pasted_control_characters_never_reach_the_record(qtbot):
    dialog = PatientDialog(None, _existing_patient(), today=TODAY, save=lambda p: p)
    qtbot.addWidget(dialog)
    dialog.ui.family_name.setText("Ros\x07si\x1f")
    assert dialog.ui.family_name.text() == "Rossi"  # a line edit drops them as they arrive
    dialog.ui.given_name.setText("😀Mar")
    dialog.ui.given_name.setCursorPosition(3)  # after 😀M (Qt counts the emoji twice)
    dialog.ui.given_name.insert("\x1b")
    assert dialog.ui.given_name.text() == "😀Mar" and dialog.ui.given_name.cursorPosition() == 3
    dialog.ui.given_name.insert("c\x08o")
    assert dialog.ui.given_name.text() == "😀Mcoar"
    dialog.ui.notes.setPlainText("line one\n\x0cline two\x00\tend\x1b.")
    record = dialog.record()
    assert (record.family_name, record.notes) == ("Rossi", "line one\nline two\tend.")  # tab, line breaks stay
    assert dialog.ok_button.isEnabled()
    dialog.ui.button_box.accepted.emit()
    assert dialog.saved.notes == "line one\nline two\tend."


def test_zz_report_how_many_inputs_were_tried(capsys):
    if TRIED:
        with capsys.disabled():
            print("\ninputs tried per dialog (records accepted): "
                  + ", ".join(f"{k} {v} ({ACCEPTED[k]})" for k, v in sorted(TRIED.items())))
