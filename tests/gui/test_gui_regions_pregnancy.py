"""The imaging dialog offers the edema regions of the episode's joint; the episode dialog hides pregnancy for a
male patient. Driven as a user would: clicking, typing, the keyboard."""

from __future__ import annotations

import datetime as dt

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDateTimeEdit, QWidget

from tohtrack.gui.episode_dialog import EpisodeDialog
from tohtrack.gui.imaging_dialog import ImagingDialog
from tohtrack.model import EDEMA_REGIONS_BY_JOINT, JOINTS, Episode, ImagingStudy, region_label


TODAY = dt.date(2026, 3, 1)
ONSET = dt.date(2025, 1, 10)


class Saver:
    """A save callable that records what it was given."""

    def __init__(self):
        self.calls = []

    def __call__(self, record):
        self.calls.append(record)
        return record


@pytest.fixture
def open_dialog(qtbot):
    def make(cls, *args, **kwargs):
        kwargs.setdefault("today", TODAY)
        dialog = cls(None, *args, **kwargs)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.waitExposed(dialog)
        return dialog

    return make


def type_text(qtbot, widget: QWidget, text: str) -> None:
    widget.setFocus()
    if isinstance(widget, QDateTimeEdit):  # double-click the first section (the year), then type it all
        line = widget.lineEdit()
        qtbot.mouseDClick(line, Qt.MouseButton.LeftButton, pos=QPoint(6, line.height() // 2))
        qtbot.keyClicks(widget, text)
        return
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(widget, text)


def choose(qtbot, combo: QComboBox, text: str) -> None:
    """Pick a combo box item with the arrow keys."""
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
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))


def press_ok(qtbot, dialog) -> None:
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)


def _boxes(dialog) -> list[QCheckBox]:
    layout = dialog.ui.edema_regions_layout
    return [layout.itemAt(i).widget() for i in range(layout.count())]


@pytest.mark.parametrize("joint", JOINTS)
def test_the_dialog_offers_the_regions_of_the_episodes_joint(qtbot, open_dialog, joint):
    dialog = open_dialog(ImagingDialog, onset=ONSET, site=f"{joint}_right", save=Saver())
    boxes = _boxes(dialog)
    codes = EDEMA_REGIONS_BY_JOINT[joint]
    assert [b.objectName() for b in boxes] == [f"edema_regions_{c}" for c in codes]
    assert [b.text() for b in boxes] == [region_label(c)[:1].upper() + region_label(c)[1:] for c in codes]
    assert all(b.isVisible() for b in boxes)  # an MRI shows the regions
    assert dialog.ui.edema_regions_label.buddy() is boxes[0]


def test_ticking_knee_regions_saves_them_in_the_forms_order(qtbot, open_dialog):
    saver = Saver()
    dialog = open_dialog(ImagingDialog, onset=ONSET, site="knee_left", save=saver)
    type_text(qtbot, dialog.ui.date, "2025-02-01")
    tick(qtbot, dialog.ui.edema_regions_patella)
    tick(qtbot, dialog.ui.edema_regions_medial_femoral_condyle)
    assert dialog.ok_button.isEnabled()
    press_ok(qtbot, dialog)
    assert saver.calls[-1].edema_regions == ["medial_femoral_condyle", "patella"]
    assert not hasattr(dialog.ui, "edema_regions_head")  # no hip regions on a knee


def test_tab_walks_through_the_region_boxes_in_order(qtbot, open_dialog):
    dialog = open_dialog(ImagingDialog, onset=ONSET, site="ankle_left", save=Saver())
    dialog.ui.edema_volume_ml.setFocus()
    seen = []
    for _ in range(4):
        qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_Tab)
        seen.append(dialog.focusWidget().objectName())
    assert seen == ["edema_regions_talus", "edema_regions_distal_tibia", "edema_regions_distal_fibula",
                    "edema_regions_other"]


def test_a_region_of_another_joint_recorded_earlier_is_shown_to_untick(qtbot, open_dialog):
    """A knee study recorded with the hip's codes (before regions were per joint) is refused until fixed."""
    study = ImagingStudy(dt.date(2025, 2, 1), "MRI", edema_regions=["head", "patella"], id=5, version=1)
    saver = Saver()
    dialog = open_dialog(ImagingDialog, study, onset=ONSET, site="knee_left", save=saver)
    legacy = dialog.ui.edema_regions_head
    assert legacy.isChecked() and legacy.text() == "Femoral head (not a knee region)"
    assert not dialog.ok_button.isEnabled()
    assert "not a knee region" in dialog.ui.edema_regions_error.text()
    assert "medial_femoral_condyle" in dialog.ui.edema_regions_error.text()
    tick(qtbot, legacy)
    assert dialog.ok_button.isEnabled()
    press_ok(qtbot, dialog)
    assert saver.calls[-1].edema_regions == ["patella"]


def test_pregnancy_is_hidden_for_a_male_patient(qtbot, open_dialog):
    dialog = open_dialog(EpisodeDialog, birth_date=dt.date(1975, 1, 1), sex="male", save=Saver())
    assert not dialog.ui.pregnancy.isVisible() and not dialog.ui.pregnancy_label.isVisible()
    choose(qtbot, dialog.ui.site, "Left hip")
    type_text(qtbot, dialog.ui.symptom_onset, "2025-01-10")
    saver = dialog._save
    press_ok(qtbot, dialog)
    assert saver.calls[-1].pregnancy is None


@pytest.mark.parametrize("sex", ["female", "other", "unknown", None])
def test_pregnancy_is_offered_otherwise(qtbot, open_dialog, sex):
    saver = Saver()
    dialog = open_dialog(EpisodeDialog, birth_date=dt.date(1990, 1, 1), sex=sex, save=saver)
    assert dialog.ui.pregnancy.isVisible()
    choose(qtbot, dialog.ui.site, "Left hip")
    type_text(qtbot, dialog.ui.symptom_onset, "2025-01-10")
    choose(qtbot, dialog.ui.pregnancy, "Third trimester")
    press_ok(qtbot, dialog)
    assert saver.calls[-1].pregnancy == "trimester_3"


def test_a_pregnancy_recorded_for_a_male_patient_stays_in_view_to_be_cleared(qtbot, open_dialog):
    episode = Episode("hip_left", dt.date(2025, 1, 10), pregnancy="trimester_3", id=3, version=1)
    saver = Saver()
    dialog = open_dialog(EpisodeDialog, episode, birth_date=dt.date(1975, 1, 1), sex="male", save=saver)
    assert dialog.ui.pregnancy.isVisible()
    choose(qtbot, dialog.ui.pregnancy, "not recorded")
    assert dialog.ui.pregnancy.isVisible()  # it does not vanish under the user's hand
    press_ok(qtbot, dialog)
    assert saver.calls[-1].pregnancy is None
