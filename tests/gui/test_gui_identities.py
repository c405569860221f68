"""Identities in the app: the patient dialog refuses lookalike MRNs and invisible characters, any spelling of an
MRN finds its patient, MRNs are shown in a left-to-right isolate; and the plots and the PDF of a record at the
edges of the accepted dates draw without an error."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from PySide6.QtCore import QSettings, Qt
from test_gui_dialogs import (Saver, _type_episode, _type_patient, choose, error_text, open_dialog,  # noqa: F401
                              press_ok, type_text)

from tohtrack import course, interchange
from tohtrack.gui import pdf
from tohtrack.gui.app import create_application
from tohtrack.gui.episode_dialog import EpisodeDialog
from tohtrack.gui.patient_dialog import PatientDialog
from tohtrack.gui.patient_view import PatientView
from tohtrack.model import (EARLIEST_BIRTH_DATE, Episode, ImagingStudy, Patient, SymptomRecord, Treatment,
                            latest_planned_end)
from tohtrack.plotdata import DATES, MONTHS
from tohtrack.safety import LATEST_AS_OF

AS_OF = dt.date(2026, 3, 1)
LRI, PDI = "\u2066", "\u2069"


# -- the patient dialog ------------------------------------------------------------------------


@pytest.mark.parametrize("typed,field,message", [
    ("D0-\u202e100000", "mrn", "contains an invisible formatting character (U+202E RIGHT-TO-LEFT OVERRIDE)"),
    ("D0-000001\u200b", "mrn", "contains an invisible formatting character (U+200B ZERO WIDTH SPACE)"),
    ("\u200b", "mrn", "MRN is required"),  # empty once the invisible characters are set aside
    ("Bian\u00adchi", "family_name", "contains an invisible formatting character (U+00AD SOFT HYPHEN)"),
    ("\u200b\u200b", "family_name", "Family name is required"),
    ("Lu\ue000ca", "given_name", "contains a private-use character (U+E000)"),
])
def test_the_patient_dialog_refuses_invisible_characters_beside_the_field(qtbot, open_dialog, typed, field,
                                                                          message):
    dialog = open_dialog(PatientDialog, save=Saver())
    _type_patient(qtbot, dialog)
    assert dialog.ok_button.isEnabled()
    getattr(dialog.ui, field).setText(typed)  # pasted
    assert message.lower() in error_text(dialog, field).lower()  # worded for the dialog ("Contains …")
    assert not dialog.ok_button.isEnabled()


@pytest.mark.parametrize("typed", ["ex-02", "ＥＸ-０２", " Ex-02 "])
def test_the_patient_dialog_refuses_another_spelling_of_a_stored_mrn(qtbot, open_dialog, store, vignettes, typed):
    interchange.import_document(store, vignettes, today=AS_OF)
    dialog = open_dialog(PatientDialog, save=lambda p: store.add_patient(p))
    _type_patient(qtbot, dialog)
    dialog.ui.mrn.setText(typed)  # pasted (key clicks are ASCII only)
    press_ok(qtbot, dialog)
    shown = error_text(dialog, "mrn")  # 'ex-02' is the same MRN as 'EX-02'; fullwidth ＥＸ-０２ is EX-02 itself
    if typed == "ＥＸ-０２":
        assert dialog.isVisible() and shown == "'EX-02' already exists in the database"
    else:
        assert dialog.isVisible() and shown == f"{typed.strip()!r} is the same MRN as 'EX-02' in the database"
    assert store.count_patients() == 6


def test_a_fullwidth_mrn_is_stored_as_its_plain_form(qtbot, open_dialog, store):
    dialog = open_dialog(PatientDialog, save=lambda p: store.add_patient(p))
    _type_patient(qtbot, dialog)
    dialog.ui.mrn.setText("Ｈ-７７")
    press_ok(qtbot, dialog)
    assert store.patient(dialog.saved.id).mrn == "H-77"


def test_the_episode_dialog_refuses_a_pregnancy_outside_ages_10_to_60(qtbot, open_dialog):
    dialog = open_dialog(EpisodeDialog, birth_date=dt.date(2020, 5, 1), save=Saver())
    _type_episode(qtbot, dialog)  # onset 10 Jan 2025: aged 4
    assert dialog.ok_button.isEnabled()
    choose(qtbot, dialog.ui.pregnancy, "Second trimester")
    assert "a pregnancy at age 4 (at the symptom onset) is not plausible" in error_text(dialog, "pregnancy").lower()
    assert not dialog.ok_button.isEnabled()


def test_the_store_refuses_a_pregnancy_of_a_male_patient_beside_the_field(qtbot, open_dialog, store):
    patient = store.add_patient(Patient("M-1", "Rossi", "Marco", dt.date(1980, 1, 1), "male"), AS_OF)
    dialog = open_dialog(EpisodeDialog, birth_date=patient.birth_date,
                         save=lambda e: store.add_episode(patient.id, e, AS_OF))
    _type_episode(qtbot, dialog)
    choose(qtbot, dialog.ui.pregnancy, "Postpartum")
    press_ok(qtbot, dialog)
    assert dialog.isVisible() and "cannot be recorded for a male patient" in error_text(dialog, "pregnancy")
    assert store.patient(patient.id).episodes == []


# -- finding and showing -----------------------------------------------------------------------


@pytest.fixture
def window(open_window, store, vignettes, tmp_path):
    interchange.import_document(store, vignettes, today=AS_OF)
    return open_window(store, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.mark.parametrize("typed", ["ex-05", "ＥＸ-０５", "EX-05\u200b"])
def test_search_finds_a_patient_by_any_spelling_of_the_mrn(qtbot, window, typed):
    window.ui.search_edit.setText(typed)  # pasted (key clicks are ASCII only)
    qtbot.waitUntil(lambda: window.list_model.rowCount() == 1)
    qtbot.keyClick(window.ui.search_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.patient is not None and window.patient.mrn == "EX-05")


def test_mrns_are_shown_in_a_left_to_right_isolate(qtbot, window, store):
    window.open_patient(store.patient_id("EX-04"))
    assert f"MRN {LRI}EX-04{PDI} ·" in window.view.ui.details_label.text()
    model = window.list_model
    row = model.row_of(store.patient_id("EX-04"))
    assert model.data(model.index(row, model.MRN)) == f"{LRI}EX-04{PDI}"


# -- the edges of the accepted dates -------------------------------------------------------------


def extreme_patient(today: dt.date) -> Patient:
    """Born on the earliest birth date accepted, an episode from that day, a treatment planned to the latest
    end accepted, and an episode that starts today."""
    first = EARLIEST_BIRTH_DATE
    return Patient("OLD-1", "Oldest", "Olga", first, "female", episodes=[
        Episode("hip_left", first, imaging=[ImagingStudy(first, "MRI", edema_extent_pct=80),
                                            ImagingStudy(today, "MRI", edema_extent_pct=10)],
                symptoms=[SymptomRecord(first, pain_nrs=8), SymptomRecord(today, pain_nrs=1)],
                treatments=[Treatment(first, "analgesia", end=latest_planned_end(today))]),
        Episode("hip_right", today, treatments=[Treatment(today, "bisphosphonate", end=latest_planned_end(today))]),
    ])


@pytest.mark.parametrize("as_of", [EARLIEST_BIRTH_DATE, "today", LATEST_AS_OF])
def test_plots_and_the_pdf_of_the_extreme_accepted_dates_draw(qtbot, store, tmp_path, as_of):
    today = dt.date.today()
    as_of = today if as_of == "today" else as_of
    store.add_patient(extreme_patient(today), today)
    patient = store.patient_by_mrn("old-1")
    create_application()
    view = PatientView()
    qtbot.addWidget(view)
    view.resize(900, 700)
    view.show()
    qtbot.waitExposed(view)
    view.show_patient(patient, course.assess(patient, as_of, store.settings()))
    for row in range(view.ui.episodes_table.rowCount()):
        view.ui.episodes_table.selectRow(row)
        for axis in (DATES, MONTHS):
            if view.timeline.axis != axis:
                qtbot.mouseClick(view.timeline.dates_toggle, Qt.MouseButton.LeftButton)
            assert not view.grab().isNull()  # painted: axes, ticks and all (an error in paint fails the test)
    out = tmp_path / "old.pdf"
    pdf.write_report(store, "OLD-1", out, as_of, today=today)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
        assert "MRN OLD-1" in text and "1 Jan 1900" in text
    pdf.write_report(store, "OLD-1", tmp_path / "deid.pdf", as_of, today=today, deidentify=True)


def test_the_app_names_mrn_clashes_left_by_the_upgrade(qtbot, open_window, db_path, tmp_path):
    from sqlite_utils.migrations import Migrations

    from tohtrack import migrations as mig
    from tohtrack.db import Store

    ms = Migrations("tohtrack")
    for fn in (mig.m001_initial, mig.m002_registry_indexes, mig.m003_assessment_summary):
        ms()(fn)
    with Store(db_path, migration_set=ms) as old, old.transaction():  # as the version before the MRN rules
        old._insert_patients([Patient(m, "Rossi", "Anna", dt.date(1970, 1, 1), "female") for m in ("H-1", "h-1")])
    store = Store(db_path)
    try:
        window = open_window(store, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
        notice = window.storage_notice
        assert notice is not None and notice.isVisible() and notice.text() == "1 MRN clash: see the tooltip"
        assert "patients row 2 ('h-1') has the same MRN as patients row 1 ('H-1')" in notice.toolTip()
    finally:
        window.close()
        store.close()
