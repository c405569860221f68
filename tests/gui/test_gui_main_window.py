"""The main window driven as clinic staff would: typing, clicking, the keyboard."""

import datetime as dt

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QPalette, QColor
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox

from tohtrack import interchange
from tohtrack.db import Store
from tohtrack.gui.app import MainWindow, create_application

AS_OF = dt.date(2026, 3, 1)


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(open_window, store, vignettes, settings, monkeypatch):
    interchange.import_document(store, vignettes, today=AS_OF)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    messages = []
    for name in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, lambda parent, title, text, *a, **k: messages.append((title, text))
                            or QMessageBox.StandardButton.No)
    w = open_window(store, settings)
    w.messages = messages
    return w


def in_dialog(qtbot, act):
    """Run `act(dialog)` on the modal dialog the next action opens."""
    done, tries = [], [0]

    def handler():
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            tries[0] += 1
            if tries[0] < 250:  # 5 s, then give up rather than hang the suite
                QTimer.singleShot(20, handler)
            return
        try:
            act(dialog)
        finally:
            done.append(True)
            if dialog.isVisible():
                dialog.reject()

    QTimer.singleShot(0, handler)
    return done


def press(qtbot, window, key, modifiers=Qt.KeyboardModifier.ControlModifier, target=None):
    """A shortcut typed into the main window (re-activated: offscreen, a closed dialog stays 'active')."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    qtbot.keyClick(target or window, key, modifiers)


def ok_button(dialog):
    return dialog.ui.button_box.button(QDialogButtonBox.StandardButton.Ok)


def type_into(qtbot, widget, text):
    widget.setFocus()
    widget.selectAll() if hasattr(widget, "selectAll") else None
    qtbot.keyClicks(widget, text)


def set_date(widget, day):
    widget.setFocus()
    widget.setDate(day)


def flag_codes(window):
    return [window.view.ui.flags_list.item(i).data(Qt.ItemDataRole.UserRole).code
            for i in range(window.view.ui.flags_list.count())
            if window.view.ui.flags_list.item(i).data(Qt.ItemDataRole.UserRole) is not None]


def open_mrn(window, mrn):
    window.open_patient(window.store.patient_id(mrn))


# -- searching and opening -------------------------------------------------------------------


def test_search_as_you_type_finds_by_name_and_mrn(qtbot, window):
    qtbot.keyClicks(window.ui.search_edit, "web")
    qtbot.waitUntil(lambda: window.list_model.rowCount() == 1)
    assert window.list_model.patient_id(0) == window.store.patient_id("EX-02")
    window.ui.search_edit.clear()
    qtbot.keyClicks(window.ui.search_edit, "ex-0")
    qtbot.waitUntil(lambda: window.list_model.rowCount() == 6)
    qtbot.keyClick(window.ui.search_edit, Qt.Key.Key_5)
    qtbot.waitUntil(lambda: window.list_model.rowCount() == 1)
    qtbot.keyClick(window.ui.search_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.patient is not None and window.patient.mrn == "EX-05")


def test_ctrl_f_focuses_search(qtbot, window):
    window.view.ui.episodes_table.setFocus()
    press(qtbot, window, Qt.Key.Key_F)
    assert window.ui.search_edit.hasFocus()


def test_clicking_a_patient_opens_it(qtbot, window):
    table = window.ui.patient_table
    row = window.list_model.row_of(window.store.patient_id("EX-04"))
    rect = table.visualRect(window.list_model.index(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.patient.mrn == "EX-04"
    assert "NOVAK, Peter" in window.view.ui.name_label.text()
    assert "MRN \u2066EX-04\u2069" in window.view.ui.details_label.text()


def test_filters_narrow_the_list(qtbot, window):
    window.ui.filter_rmo.click()
    qtbot.waitUntil(lambda: window.list_model.rowCount() == 2)
    mrns = {window.store.patient(window.list_model.patient_id(r)).mrn for r in range(2)}
    assert mrns == {"EX-02", "EX-05"}


def test_worklist_lists_due_patients_and_opens_them(qtbot, window):
    press(qtbot, window, Qt.Key.Key_R)
    assert window.ui.worklist_table.hasFocus()
    window.ui.worklist_date.setDate(AS_OF)
    model = window.worklist_model
    qtbot.waitUntil(lambda: model.rowCount() == 3)
    index = model.index(0, 0)
    table = window.ui.worklist_table
    table.setCurrentIndex(index)
    rect = table.visualRect(index)
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # Qt needs the press first
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    patient_id = model.data(index, Qt.ItemDataRole.UserRole)
    assert window.patient.id == patient_id


# -- the patient view --------------------------------------------------------------------------


def test_flags_banner_warnings_first_and_click_selects_the_source(qtbot, window):
    open_mrn(window, "EX-02")
    codes = flag_codes(window)
    assert set(codes) == {"PROLONGED_COURSE", "MIGRATION", "NOT_REGRESSING", "FOLLOW_UP_OVERDUE"}
    flags = window.view.ui.flags_list
    not_regressing = next(i for i in range(flags.count())
                          if flags.item(i).data(Qt.ItemDataRole.UserRole).code == "NOT_REGRESSING")
    rect = flags.visualItemRect(flags.item(not_regressing))
    qtbot.mouseClick(flags.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.view.selected_episode().site == "hip_right"
    study = window.view.selected_finding()
    assert study.date == dt.date(2025, 10, 20) and study.edema_extent_pct == 58


def test_episodes_newest_first_with_months_and_window(window):
    open_mrn(window, "EX-02")
    table = window.view.ui.episodes_table
    assert table.rowCount() == 2
    assert table.item(0, 0).text() == "Right hip" and table.item(0, 2).text() == "active"
    assert table.item(1, 0).text() == "Left hip" and table.item(1, 2).text() == "resolved"
    assert "12 Dec 2025 – 12 Feb 2026" in table.item(0, 6).text()


# -- creating records and seeing flags ------------------------------------------------------------


def test_create_patient_episode_mri_symptom_and_see_flags(qtbot, window):
    def fill_patient(d):
        type_into(qtbot, d.ui.mrn, "T-500")
        type_into(qtbot, d.ui.family_name, "Moreau")
        type_into(qtbot, d.ui.given_name, "Élise")
        set_date(d.ui.birth_date, dt.date(1990, 4, 2))
        d.ui.sex.setCurrentIndex(d.ui.sex.findData("female"))
        qtbot.mouseClick(ok_button(d), Qt.MouseButton.LeftButton)

    in_dialog(qtbot, fill_patient)
    window.ui.action_new_patient.trigger()
    assert window.patient.mrn == "T-500" and window.patient.given_name == "Élise"

    def fill_episode(d):
        d.ui.site.setCurrentIndex(d.ui.site.findData("hip_left"))
        set_date(d.ui.symptom_onset, dt.date(2025, 6, 1))
        d.ui.pregnancy.setCurrentIndex(d.ui.pregnancy.findData("trimester_3"))
        qtbot.mouseClick(ok_button(d), Qt.MouseButton.LeftButton)

    in_dialog(qtbot, fill_episode)
    press(qtbot, window, Qt.Key.Key_E)
    assert [e.site for e in window.patient.episodes] == ["hip_left"]
    assert "PREGNANCY_ASSOCIATED" in flag_codes(window)

    def fill_mri(d):
        d.ui.modality.setCurrentIndex(d.ui.modality.findData("MRI"))
        set_date(d.ui.date, dt.date(2025, 6, 20))
        type_into(qtbot, d.ui.edema_extent_pct, "65")
        d.ui.subchondral_t2_low_band.setCurrentIndex(d.ui.subchondral_t2_low_band.findText("yes"))
        qtbot.mouseClick(ok_button(d), Qt.MouseButton.LeftButton)

    in_dialog(qtbot, fill_mri)
    window.ui.action_new_imaging.trigger()
    assert "AVN_SIGNS" in flag_codes(window)
    assert window.view.ui.imaging_table.rowCount() == 1

    def fill_symptom(d):
        set_date(d.ui.date, dt.date(2026, 2, 20))
        type_into(qtbot, d.ui.pain_nrs, "12")
        assert not ok_button(d).isEnabled()
        assert "0–10" in d.ui.pain_nrs_error.text()
        d.ui.pain_nrs.clear()
        type_into(qtbot, d.ui.pain_nrs, "5")
        assert ok_button(d).isEnabled() and d.ui.pain_nrs_error.text() == ""
        qtbot.keyClick(d, Qt.Key.Key_Return)

    done = in_dialog(qtbot, fill_symptom)
    press(qtbot, window, Qt.Key.Key_K)
    assert done
    episode = window.view.selected_episode()
    assert [(s.date, s.pain_nrs) for s in episode.symptoms] == [(dt.date(2026, 2, 20), 5)]
    assert window.store.check() == []


def test_undo_and_redo_a_new_symptom_record(qtbot, window):
    open_mrn(window, "EX-01")

    def fill(d):
        set_date(d.ui.date, dt.date(2025, 8, 1))
        type_into(qtbot, d.ui.pain_nrs, "3")
        qtbot.mouseClick(ok_button(d), Qt.MouseButton.LeftButton)

    in_dialog(qtbot, fill)
    window.ui.action_new_symptom.trigger()
    assert len(window.view.selected_episode().symptoms) == 4
    window.view.ui.episodes_table.setFocus()
    press(qtbot, window, Qt.Key.Key_Z, target=window.view.ui.episodes_table)
    assert len(window.store.patient_by_mrn("EX-01").episodes[0].symptoms) == 3
    assert window.view.ui.symptoms_table.rowCount() == 3
    press(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
          target=window.view.ui.episodes_table)
    assert len(window.store.patient_by_mrn("EX-01").episodes[0].symptoms) == 4
    assert window.store.check() == []


def test_undo_an_edit_and_a_deleted_episode(qtbot, window):
    open_mrn(window, "EX-03")

    def edit(d):
        d.ui.notes.setFocus()
        qtbot.keyClicks(d.ui.notes, "Referred by GP")
        qtbot.mouseClick(ok_button(d), Qt.MouseButton.LeftButton)

    in_dialog(qtbot, edit)
    window.ui.action_edit_patient.trigger()
    assert window.store.patient_by_mrn("EX-03").notes == "Referred by GP"
    window.ui.action_delete_episode.trigger()
    assert window.store.patient_by_mrn("EX-03").episodes == []
    window.undo_stack.undo()
    restored = window.store.patient_by_mrn("EX-03").episodes
    assert len(restored) == 1 and len(restored[0].imaging) == 1
    window.undo_stack.undo()
    assert window.store.patient_by_mrn("EX-03").notes == ""
    window.undo_stack.redo()
    window.undo_stack.redo()
    assert window.store.patient_by_mrn("EX-03").episodes == []
    assert window.store.check() == []


# -- conflicts ------------------------------------------------------------------------------------


def test_stale_version_conflict_is_explained_and_resolved_by_reload(qtbot, window, db_path):
    open_mrn(window, "EX-01")
    seen = {}

    def edit(d):
        with Store(db_path, clinician="Other workstation") as other:
            p = other.patient_by_mrn("EX-01")
            p.notes = "changed elsewhere"
            other.update_patient(p)
        d.ui.given_name.setFocus()
        d.ui.given_name.selectAll()
        qtbot.keyClicks(d.ui.given_name, "Lucas")
        qtbot.mouseClick(ok_button(d), Qt.MouseButton.LeftButton)
        assert d.isVisible()
        seen["banner"] = d.ui.banner.text()
        assert d.ui.given_name.text() == "Lucas"  # nothing typed is lost
        qtbot.mouseClick(d.ui.reload_button, Qt.MouseButton.LeftButton)
        seen["notes after reload"] = d.ui.notes.toPlainText()
        d.ui.given_name.setFocus()
        d.ui.given_name.selectAll()
        qtbot.keyClicks(d.ui.given_name, "Lucas")
        qtbot.mouseClick(ok_button(d), Qt.MouseButton.LeftButton)

    in_dialog(qtbot, edit)
    window.ui.action_edit_patient.trigger()
    assert "changed by another window or workstation" in seen["banner"]
    assert seen["notes after reload"] == "changed elsewhere"
    stored = window.store.patient_by_mrn("EX-01")
    assert (stored.given_name, stored.notes) == ("Lucas", "changed elsewhere")


def test_changes_from_another_workstation_appear(qtbot, window, db_path):
    open_mrn(window, "EX-06")
    with Store(db_path, clinician="Other") as other:
        p = other.patient_by_mrn("EX-06")
        p.family_name = "Jensen-Holm"
        other.update_patient(p)
    window._check_external_changes()
    assert "JENSEN-HOLM" in window.view.ui.name_label.text()


# -- audit, state, looks -----------------------------------------------------------------------------


def test_audit_history_shows_who_changed_what(qtbot, window):
    open_mrn(window, "EX-01")
    seen = {}

    def look(d):
        table = d.ui.entries_table
        seen["rows"] = [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]
        d.reject()

    in_dialog(qtbot, look)
    press(qtbot, window, Qt.Key.Key_H)
    rows = seen["rows"]
    assert any(r[2] == "created" and r[4] == "family name" and r[6] == "Bianchi" for r in rows)
    assert all("Dr Test" in r[1] for r in rows)


def test_window_state_and_last_patient_persist(qtbot, window, store, settings):
    open_mrn(window, "EX-05")
    window.toggle_worklist()
    window.ui.splitter.setSizes([500, 700])
    sizes = window.ui.splitter.sizes()
    window.close()
    assert settings.value("window/geometry") is not None
    again = MainWindow(store, settings, as_of=AS_OF, first_run_prompt=False)
    qtbot.addWidget(again)
    again.resize(window.size())
    again.show()
    again.restore_last_patient()
    assert again.patient.mrn == "EX-05"
    assert again.ui.splitter.sizes() == sizes
    assert again.ui.left_tabs.currentWidget() is again.ui.worklist_contents
    assert str(store.path.resolve()) in settings.value("recent_databases")
    again.close()


def test_archive_patient_leaves_the_list(qtbot, window):
    open_mrn(window, "EX-06")
    window.ui.action_archive_patient.trigger()
    assert window.store.patient_by_mrn("EX-06").archived
    qtbot.waitUntil(lambda: window.list_model.row_of(window.store.patient_id("EX-06")) in (None, -1))
    window.undo_stack.undo()
    assert not window.store.patient_by_mrn("EX-06").archived


def test_dark_palette_keeps_text_readable(qtbot, window):
    palette = QPalette()
    palette.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#e8eaed"))
    palette.setColor(QPalette.ColorRole.Base, QColor("#2b2c2f"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#e8eaed"))
    window.setPalette(palette)
    open_mrn(window, "EX-02")
    item = window.view.ui.flags_list.item(0)
    fg, bg = item.foreground().color(), item.background().color()
    assert abs(fg.lightness() - bg.lightness()) > 100  # flag text keeps its own contrast
    image = window.grab().toImage()
    assert image.width() >= 1280 and not image.isNull()


def test_first_run_offers_the_demo_cohort(qtbot, tmp_path, settings, monkeypatch):
    create_application()
    with Store(tmp_path / "empty.sqlite3") as store:
        w = MainWindow(store, settings, as_of=AS_OF, first_run_prompt=False)
        qtbot.addWidget(w)

        def choose_demo(box):
            demo = next(b for b in box.buttons() if b.text() == "Load demo cohort")
            qtbot.mouseClick(demo, Qt.MouseButton.LeftButton)

        in_dialog(qtbot, choose_demo)
        w.offer_first_run()
        assert store.count_patients() == 200
        assert w.list_model.rowCount() > 0
        w.close()


def test_a_session_that_changed_something_leaves_a_backup(qtbot, window, store, settings):
    from tohtrack.db import automatic_backups

    window.close()
    assert automatic_backups(store.path) == []  # looking changes nothing, so no backup
    again = MainWindow(store, settings, as_of=AS_OF, first_run_prompt=False)
    qtbot.addWidget(again)
    open_mrn(again, "EX-06")
    again.ui.action_archive_patient.trigger()
    again.close()
    (backup,) = automatic_backups(store.path)
    with Store(backup) as copy:
        assert copy.patient_by_mrn("EX-06").archived and copy.check() == []


def test_no_two_actions_share_a_shortcut(window):
    from PySide6.QtGui import QAction

    seen = {}
    for action in window.findChildren(QAction):
        for shortcut in action.shortcuts():
            text = shortcut.toString()
            assert text not in seen, f"{text} is both {seen[text]!r} and {action.text()!r}"
            seen[text] = action.text()
    assert "Ctrl+P" in seen and "Ctrl+Shift+D" in seen


def test_summaries_kept_by_another_window_do_not_reload_this_one(window, qtbot, db_path):
    """Another window's worklist keeps assessment summaries (a cache, no audit entry): no reload, no message.
    A real change from elsewhere still shows."""
    from tohtrack import cohort

    window.open_patient(window.store.patient_id("EX-02"))
    reloads = []
    original = window.reload_views
    window.reload_views = lambda: (reloads.append(True), original())
    window.statusBar().clearMessage()
    with Store(db_path) as other:
        other.conn.execute("DELETE FROM assessment_summary")
        cohort.worklist(other, AS_OF, due_only=False)  # stores summaries through its own connection
        assert other.conn.execute("SELECT count(*) FROM assessment_summary").fetchone()[0] > 0
    window._check_external_changes()
    assert reloads == [] and "another window" not in window.statusBar().currentMessage()
    with Store(db_path, clinician="Dr Other") as other:
        patient = other.patient_by_mrn("EX-01")
        patient.given_name = "Changed"
        other.update_patient(patient, today=AS_OF)
    window._check_external_changes()
    assert reloads == [True] and "another window" in window.statusBar().currentMessage()
