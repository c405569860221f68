"""New imaging study → From DICOM… (and a folder dropped on the patient view); File → Export CSV for analysis."""

import csv
import datetime as dt
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QSettings, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog, QMessageBox, QProgressDialog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import minimal_document  # noqa: E402
from test_dicom import STUDY_A, STUDY_B, make_dicom  # noqa: E402
from tohtrack import interchange  # noqa: E402
from tohtrack.gui.imaging_dialog import ImagingDialog  # noqa: E402

TODAY = dt.date(2026, 3, 1)
ONSET = dt.date(2025, 1, 10)


@pytest.fixture
def cd(tmp_path):
    root = tmp_path / "cd"
    make_dicom(root / "ST1" / "IM1")
    make_dicom(root / "ST1" / "IM2", series_uid=STUDY_A + ".2")
    make_dicom(root / "ST2" / "IM1", study_uid=STUDY_B, modality="CR", date="20250301", time_="1015",
               description="XR HIP LEFT", accession="A-78")
    return root


def new_dialog(qtbot, saved, **kwargs):
    from tohtrack.gui.app import create_application

    create_application()
    dialog = ImagingDialog(None, None, onset=ONSET, today=TODAY, save=lambda r: saved.append(r) or r, **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_from_dicom_fills_the_new_study_and_saves_uid_and_description(qtbot, cd, monkeypatch):
    asked = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(cd))
    monkeypatch.setattr(QInputDialog, "getItem",
                        lambda parent, title, label, items, *a, **k: asked.append(items) or (items[1], True))
    saved = []
    dialog = new_dialog(qtbot, saved, mrn="T-1")
    assert dialog.dicom_button.isVisible() and dialog.dicom_button.text() == "From DICOM…"
    assert not dialog.dicom_label.isVisible()
    dialog.dicom_folder_action.trigger()  # the button's menu: Folder or CD…
    assert len(asked[0]) == 2 and "2 series, 2 images" in asked[0][0] and "XR HIP LEFT" in asked[0][1]
    ui = dialog.ui
    assert ui.date.date().toPython() == dt.date(2025, 3, 1)
    assert ui.time_check.isChecked() and ui.time.time().toString("HH:mm") == "10:15"
    assert ui.modality.currentData() == "XR" and ui.accession.text() == "A-78"
    assert dialog.dicom_label.isVisible() and STUDY_B in dialog.dicom_label.text()
    assert "XR HIP LEFT" in dialog.dicom_label.text()
    # The clinician adds the findings, then saves as usual.
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert len(saved) == 1
    study = saved[0]
    assert (study.study_instance_uid, study.study_description, study.modality, study.accession) == (
        STUDY_B, "XR HIP LEFT", "XR", "A-78")
    assert (study.date, study.time) == (dt.date(2025, 3, 1), "10:15")


def test_from_dicom_asks_before_using_another_patients_study(qtbot, tmp_path, monkeypatch):
    make_dicom(tmp_path / "f" / "IM1", patient_id="H-999")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(tmp_path / "f" / "IM1"), ""))
    questions = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda parent, title, text, *a, **k: questions.append(text) or QMessageBox.StandardButton.No)
    saved = []
    dialog = new_dialog(qtbot, saved, mrn="T-1")
    before = dialog.ui.accession.text()
    dialog.dicom_file_action.trigger()
    assert "H-999" in questions[0] and "T-1" in questions[0]
    assert dialog.ui.accession.text() == before and not dialog.dicom_label.isVisible()
    assert dialog.record().study_instance_uid is None


def test_from_dicom_with_nothing_found_or_cancelled_changes_nothing(qtbot, tmp_path, cd, monkeypatch):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("hello")
    infos = []
    monkeypatch.setattr(QMessageBox, "information", lambda parent, title, text, *a, **k: infos.append(text))
    saved = []
    dialog = new_dialog(qtbot, saved)
    assert dialog.load_dicom(str(tmp_path / "empty")) is False
    assert "No DICOM study found" in infos[0] and "1 not DICOM" in infos[0]
    monkeypatch.setattr(QProgressDialog, "wasCanceled", lambda self: True)  # the user pressed Cancel
    for i in range(20):
        make_dicom(cd / "more" / f"IM{i}", study_uid=STUDY_A + ".9")
    assert dialog.load_dicom(str(cd)) is False
    assert not dialog.dicom_label.isVisible() and dialog.record().study_instance_uid is None


def test_progress_dialog_counts_the_files(qtbot, cd, monkeypatch):
    values = []
    original = QProgressDialog.setValue
    monkeypatch.setattr(QProgressDialog, "setValue", lambda self, v: values.append(v) or original(self, v))
    for i in range(30):
        make_dicom(cd / "ST3" / f"IM{i}", study_uid=STUDY_A + ".3")
    monkeypatch.setattr(QInputDialog, "getItem", lambda parent, title, label, items, *a, **k: (items[0], True))
    dialog = new_dialog(qtbot, [])
    assert dialog.load_dicom(str(cd)) is True
    assert max(values) >= 24 and values == sorted(values)


def test_editing_a_study_from_dicom_keeps_its_uid(qtbot):
    from tohtrack.model import ImagingStudy

    from tohtrack.gui.app import create_application

    create_application()
    study = ImagingStudy(date=dt.date(2025, 2, 1), modality="MRI", study_instance_uid=STUDY_A,
                         study_description="MR HIP LEFT", id=5, version=1)
    saved = []
    dialog = ImagingDialog(None, study, onset=ONSET, today=TODAY, save=lambda r: saved.append(r) or r)
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.dicom_button.isVisible() and STUDY_A in dialog.dicom_label.text()
    dialog.ui.accession.setText("A-1")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert saved[0].study_instance_uid == STUDY_A and saved[0].study_description == "MR HIP LEFT"


# -- the main window ---------------------------------------------------------------------------


@pytest.fixture
def window(open_window, store, tmp_path):
    interchange.import_document(store, minimal_document(), today=TODAY)
    w = open_window(store, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    w.open_patient(store.patient_id("T-1"))
    return w


def _drop(widget, path: Path) -> bool:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    pos = widget.rect().center()
    enter = QDragEnterEvent(pos, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(pos.toPointF(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def test_a_folder_dropped_on_the_patient_view_opens_the_filled_dialog(qtbot, window, cd, monkeypatch):
    monkeypatch.setattr(QInputDialog, "getItem", lambda parent, title, label, items, *a, **k: (items[0], True))
    seen = []

    def in_dialog():
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ImagingDialog):
            QTimer.singleShot(20, in_dialog)
            return
        seen.append((dialog.ui.modality.currentData(), dialog.ui.accession.text()))
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, in_dialog)
    assert _drop(window.view, cd)
    assert seen == [("MRI", "A-77")]
    studies = window.store.patient_by_mrn("T-1").episodes[0].imaging
    assert STUDY_A in {s.study_instance_uid for s in studies}
    added = next(s for s in studies if s.study_instance_uid == STUDY_A)
    assert added.study_description == "MR HIP LEFT" and added.date == dt.date(2025, 2, 1)


def test_a_drop_of_several_files_is_not_accepted(window, cd):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(cd / "ST1")), QUrl.fromLocalFile(str(cd / "ST2"))])
    enter = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window.view, enter)
    assert not enter.isAccepted()


def test_file_menu_exports_csv_for_analysis(qtbot, window, tmp_path, monkeypatch):
    target = tmp_path / "analysis"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    actions = [a.text() for a in window.ui.menu_file.actions()]
    assert actions.index("Export CSV for analysis…") == actions.index(window.ui.action_export.text()) + 1
    window.action_export_csv.trigger()
    with open(target / "imaging.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1 and rows[0]["modality"] == "MRI"
    assert "CSV for analysis written" in window.statusBar().currentMessage()
    # Again into the same (now non-empty) folder: refused, nothing changed.
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: warnings.append(text))
    window.action_export_csv_deidentified.trigger()
    assert "not empty" in warnings[0]
    target2 = tmp_path / "deid"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target2), ""))
    window.action_export_csv_deidentified.trigger()
    text = (target2 / "patients.csv").read_text(encoding="utf-8")
    assert "T-1" not in text and "Rossi" not in text and "age_band" in text
