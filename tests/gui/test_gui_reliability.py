"""When the database cannot be opened or written: the app says what happened (never a traceback), offers the
newest good automatic backup or another file, and keeps what the user typed. Also what the GUI keeps on disk
outside the database (no patient data), and its warning about a database on a network share.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QMessageBox

from tohtrack import db as dbmod, interchange, safety
from tohtrack.db import Store, backup_dir
from tohtrack.gui import app as app_mod, database_actions
from tohtrack.gui.app import MainWindow, create_application, open_store
from tohtrack.safety import Mount

AS_OF = dt.date(2026, 3, 1)


# ---------------------------------------------------------------------------
# Helpers (as tests/gui/test_gui_main_window.py has them)
# ---------------------------------------------------------------------------


class Boxes:
    """QMessageBox's static functions, recorded instead of shown; `answer` is what question() returns."""

    def __init__(self, monkeypatch):
        self.shown: list[tuple[str, str, str]] = []
        for kind in ("warning", "critical", "information"):
            monkeypatch.setattr(QMessageBox, kind, self._record(kind))
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)

    def _record(self, kind):
        def show(parent, title, text, *args, **kwargs):
            self.shown.append((kind, title, text))
            return QMessageBox.StandardButton.Ok
        return show

    def titles(self) -> list[str]:
        return [title for _, title, _ in self.shown]


@pytest.fixture
def boxes(monkeypatch):
    return Boxes(monkeypatch)


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def on_modal(act):
    """Run `act(widget)` on each modal window the next actions open (the open-failure box, dialogs), in turn.

    `act` is a list of callables, one per modal window expected.
    """
    queue = list(act)
    tries = [0]

    def handler():
        widget = QApplication.activeModalWidget()
        if widget is None or getattr(widget, "_handled", False):
            tries[0] += 1
            if tries[0] < 500 and queue:
                QTimer.singleShot(10, handler)
            return
        widget._handled = True
        step = queue.pop(0)
        try:
            step(widget)
        finally:
            if widget.isVisible() and isinstance(widget, QDialog) and not isinstance(widget, QMessageBox):
                widget.reject()
            if queue:
                tries[0] = 0
                QTimer.singleShot(10, handler)

    QTimer.singleShot(0, handler)
    return queue


def click(text_start: str, seen: list | None = None):
    """A step for `on_modal`: note the message box's texts and buttons, then click the button starting so."""

    def step(box):
        assert isinstance(box, QMessageBox), type(box)
        buttons = [b.text() for b in box.buttons()]
        if seen is not None:
            seen.append({"title": box.windowTitle(), "text": box.text(), "details": box.informativeText(),
                         "buttons": buttons})
        button = next((b for b in box.buttons() if b.text().startswith(text_start)), None)
        assert button is not None, f"no {text_start!r} among {buttons}"
        button.click()

    return step


def loaded_database(path: Path, vignettes) -> Path:
    with Store(path, clinician="Dr Test") as store:
        interchange.import_document(store, vignettes, today=AS_OF)
    return path


def with_backup(path: Path, vignettes) -> Path:
    """A database with one automatic backup (as a GUI session that changed something leaves)."""
    loaded_database(path, vignettes)
    with Store(path) as store:
        return store.rotate_backups()


def damage(path: Path) -> bytes:
    """Overwrite the file's header and first pages; its -wal and -shm stay (they must never meet another file)."""
    with open(path, "r+b") as f:
        f.write(b"\x00garbage" * 2000)
    return path.read_bytes()


@pytest.fixture(autouse=True)
def _app():
    create_application()


# ---------------------------------------------------------------------------
# Opening a database that cannot be opened
# ---------------------------------------------------------------------------


def test_damaged_database_offers_its_newest_good_backup_and_keeps_the_file(qtbot, tmp_path, vignettes, boxes):
    path = tmp_path / "clinic.sqlite3"
    older = with_backup(path, vignettes)
    os.utime(older, (1_700_000_000, 1_700_000_000))
    newest = backup_dir(path) / f"{path.stem}-auto-20990101T000000Z.sqlite3"
    newest.write_bytes(b"a backup that was cut short")  # newer, but fails its check: not offered
    with Store(path) as store:  # a change after the backup: what restoring gives up
        store.set_archived(store.patient_id("EX-01"), None)
    damaged = damage(path)
    seen = []
    on_modal([click("Restore backup of", seen)])
    store = open_store(None, path, "Dr Test")
    try:
        (box,) = seen
        assert box["title"] == "Cannot open the database"
        assert box["text"].startswith("This file is not a TOHtrack database, or it is damaged. It was not changed.")
        assert "Traceback" not in box["details"] and str(path) in box["details"]
        restore = next(b for b in box["buttons"] if b.startswith("Restore backup of "))
        assert "2023-11-14" in restore  # the older backup's time: the newer one is not good
        assert sorted(box["buttons"]) == sorted([restore, "Open another file…", "Cancel"])
        assert store is not None and store.path == path
        assert store.count_patients() == 6 and not store.patient_by_mrn("EX-01").archived and store.check() == []
        (kind, title, text), = boxes.shown
        assert title == "Backup restored" and "2023-11-14" in text
        kept = Path(text.split("kept as ")[1].rstrip("."))
        assert kept.parent == backup_dir(path) and kept.read_bytes() == damaged  # nothing deleted
        assert not list(backup_dir(path).glob("*-replaced-*"))  # no empty leftovers beside it
    finally:
        if store is not None:
            store.close()


def test_not_a_database_without_backups_offers_another_file(qtbot, tmp_path, db_path, vignettes, monkeypatch,
                                                            boxes):
    letter = tmp_path / "letter.sqlite3"
    letter.write_text("Dear colleague,\n" * 300)
    good = loaded_database(db_path, vignettes)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(good), ""))
    seen = []
    on_modal([click("Open another file", seen)])
    store = open_store(None, letter)
    try:
        assert seen[0]["text"].startswith("This file is not a TOHtrack database, or it is damaged")
        assert "no automatic backup of this database that passes its check" in seen[0]["details"]
        assert sorted(seen[0]["buttons"]) == ["Cancel", "Open another file…"]
        assert store.path == good and store.count_patients() == 6
        assert letter.read_text() == "Dear colleague,\n" * 300
    finally:
        store.close()


def test_another_programs_database_is_named_so_and_cancel_gives_up(qtbot, tmp_path, boxes):
    foreign = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.commit()
    conn.close()
    before = foreign.read_bytes()
    seen = []
    on_modal([click("Cancel", seen)])
    assert open_store(None, foreign) is None
    assert seen[0]["text"].startswith("This file is the database of another program")
    assert foreign.read_bytes() == before and boxes.shown == []


def test_a_newer_database_is_never_replaced_by_a_backup(qtbot, tmp_path, vignettes, boxes):
    path = tmp_path / "clinic.sqlite3"
    with_backup(path, vignettes)
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('tohtrack', 'm900', 'x')")
    conn.commit()
    conn.close()
    seen = []
    on_modal([click("Cancel", seen)])
    assert open_store(None, path) is None
    assert "newer version of TOHtrack" in seen[0]["text"] and "Update TOHtrack" in seen[0]["text"]
    # No restore: it would lose what the newer version wrote.
    assert sorted(seen[0]["buttons"]) == ["Cancel", "Open another file…"]


def _failing_once(monkeypatch, message: str):
    """Store() fails once with the gateway's own message for an SQLite error, then opens normally."""
    real, calls = database_actions.Store, []

    def store(path, **kwargs):
        calls.append(path)
        if len(calls) == 1:
            raise dbmod._write_error(Path(path), sqlite3.OperationalError(message))
        return real(path, **kwargs)

    monkeypatch.setattr(database_actions, "Store", store)
    return calls


@pytest.mark.parametrize("sqlite_message, headline", [
    ("database is locked", "kept the database busy for too long"),
    ("attempt to write a readonly database", "may not write to this database"),
    ("database or disk is full", "The disk is full"),
])
def test_busy_read_only_or_full_says_so_and_try_again_opens(qtbot, db_path, vignettes, monkeypatch, boxes,
                                                           sqlite_message, headline):
    loaded_database(db_path, vignettes)
    calls = _failing_once(monkeypatch, sqlite_message)
    seen = []
    on_modal([click("Try again", seen)])
    store = open_store(None, db_path)
    try:
        assert headline in seen[0]["text"]
        assert sorted(seen[0]["buttons"]) == ["Cancel", "Open another file…", "Try again"]
        assert len(calls) == 2 and store.count_patients() == 6
    finally:
        store.close()


def windows_made_by_run(monkeypatch) -> list:
    """The main windows app.run() makes from now on, in order."""
    made = []

    class Recorded(MainWindow):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(app_mod, "MainWindow", Recorded)
    return made


def test_the_app_starts_on_a_restored_backup(qtbot, tmp_path, vignettes, monkeypatch, boxes):
    """run(): the open-failure box comes first; after the restore the main window opens on the database."""
    path = tmp_path / "clinic.sqlite3"
    with_backup(path, vignettes)
    damage(path)
    ini = tmp_path / "settings.ini"
    monkeypatch.setattr(app_mod, "QSettings", lambda: QSettings(str(ini), QSettings.Format.IniFormat))
    opened = []
    made = windows_made_by_run(monkeypatch)

    def close_the_window():
        # (the window run() made, not any top-level widget: walking those wraps Qt's own, and one being torn
        # down by an earlier test crashed the interpreter once)
        windows = [w for w in made if w.isVisible()]
        if not windows:
            QTimer.singleShot(20, close_the_window)
            return
        opened.append((windows[0].store.path, windows[0].store.count_patients()))
        windows[0].close()

    on_modal([click("Restore backup of")])
    QTimer.singleShot(0, close_the_window)
    assert app_mod.run(path, "Dr Test") == 0
    assert opened == [(path, 6)]
    assert boxes.titles() == ["Backup restored"]
    assert sys.excepthook is not app_mod.report_unexpected  # put back when the app ends


def test_the_app_quits_when_the_user_gives_up(qtbot, tmp_path, boxes):
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"\xff" * 5000)
    on_modal([click("Quit")])
    assert app_mod.run(junk) == 1
    assert junk.read_bytes() == b"\xff" * 5000


# ---------------------------------------------------------------------------
# File > Open database in a running window
# ---------------------------------------------------------------------------


@pytest.fixture
def window(open_window, store, vignettes, settings, boxes):
    interchange.import_document(store, vignettes, today=AS_OF)
    return open_window(store, settings)


def test_switching_to_a_damaged_database_keeps_the_current_one_on_cancel(qtbot, window, tmp_path, vignettes,
                                                                        monkeypatch, boxes):
    other = tmp_path / "other" / "ward.sqlite3"
    other.parent.mkdir()
    with_backup(other, vignettes)
    damage(other)
    current = window.store.path
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(other), ""))
    seen = []
    on_modal([click("Cancel", seen)])
    window.ui.action_open_database.trigger()
    assert seen and any(b.startswith("Restore backup of") for b in seen[0]["buttons"])
    assert window.store.path == current and window.store.count_patients() == 6
    window.open_patient(window.store.patient_id("EX-01"))  # the current database still works

    on_modal([click("Restore backup of")])
    window.ui.action_open_database.trigger()
    assert window.store.path == other and window.store.count_patients() == 6
    assert window.windowTitle().endswith("ward.sqlite3")
    assert boxes.titles() == ["Backup restored"]


# ---------------------------------------------------------------------------
# Writing fails while editing: clear message, nothing typed is lost
# ---------------------------------------------------------------------------


def _fill_new_patient(qtbot, dialog, notes: str = "") -> None:
    dialog.ui.mrn.setText("W-1")
    dialog.ui.family_name.setText("Writefail")
    dialog.ui.given_name.setText("Ada")
    dialog.ui.birth_date.setFocus()
    dialog.ui.birth_date.setDate(dt.date(1980, 2, 3))
    dialog.ui.sex.setCurrentIndex(dialog.ui.sex.findData("female"))
    dialog.ui.notes.setPlainText(notes)


class Obstacle:
    """A real condition that makes writes fail, and its removal."""

    def __init__(self, kind: str, store: Store):
        self.kind, self.store = kind, store
        self.blocker: sqlite3.Connection | None = None

    def put(self) -> None:
        conn = self.store.conn
        if self.kind == "full disk":
            pages = conn.execute("PRAGMA page_count").fetchone()[0]
            conn.execute(f"PRAGMA max_page_count = {pages}")
        elif self.kind == "locked":
            conn.execute("PRAGMA busy_timeout = 50")
            self.blocker = sqlite3.connect(self.store.path, isolation_level=None)
            self.blocker.execute("BEGIN IMMEDIATE")
        else:
            conn.execute("PRAGMA query_only = ON")  # SQLite refuses every write, as on a read-only file

    def lift(self) -> None:
        conn = self.store.conn
        if self.kind == "full disk":
            conn.execute("PRAGMA max_page_count = 1073741823")
        elif self.kind == "locked":
            self.blocker.execute("ROLLBACK")
            self.blocker.close()
            conn.execute(f"PRAGMA busy_timeout = {dbmod.BUSY_TIMEOUT_MS}")
        else:
            conn.execute("PRAGMA query_only = OFF")


@pytest.mark.parametrize("kind, says", [("full disk", "the disk is full"), ("locked", "busy"),
                                        ("read-only", "read-only")])
def test_a_failed_save_keeps_the_dialog_and_what_was_typed(qtbot, window, kind, says):
    obstacle = Obstacle(kind, window.store)
    count = window.store.count_patients()
    notes = "Referred by GP. " * 1200  # long enough to need new pages
    seen = {}

    def in_dialog(dialog):
        _fill_new_patient(qtbot, dialog, notes)
        obstacle.put()
        try:
            qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
            seen["visible"] = dialog.isVisible()
            seen["banner"] = dialog.ui.banner.text()
            seen["typed"] = (dialog.ui.mrn.text(), dialog.ui.family_name.text(), dialog.ui.notes.toPlainText())
            seen["stored"] = window.store.count_patients()
        finally:
            obstacle.lift()
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)  # the same OK again, now it can write
        seen["accepted"] = dialog.result() == QDialog.DialogCode.Accepted

    on_modal([in_dialog])
    window.ui.action_new_patient.trigger()
    assert seen["visible"] and seen["banner"].startswith("Not saved:") and says in seen["banner"]
    assert "What you typed is still here" in seen["banner"] and "Traceback" not in seen["banner"]
    assert seen["typed"] == ("W-1", "Writefail", notes)
    assert seen["stored"] == count
    assert seen["accepted"] and window.store.count_patients() == count + 1
    assert window.patient.mrn == "W-1" and window.store.check() == []


def test_a_failed_archive_says_so_and_changes_nothing(qtbot, window, boxes):
    window.open_patient(window.store.patient_id("EX-06"))
    obstacle = Obstacle("read-only", window.store)
    obstacle.put()
    try:
        window.ui.action_archive_patient.trigger()
    finally:
        obstacle.lift()
    assert boxes.titles() == ["Not saved"]
    assert "read-only" in boxes.shown[0][2] and "Nothing was saved" in boxes.shown[0][2]
    assert not window.store.patient_by_mrn("EX-06").archived


def test_an_automatic_backup_that_cannot_be_written_is_explained(qtbot, window, boxes):
    window.open_patient(window.store.patient_id("EX-06"))
    window.ui.action_archive_patient.trigger()
    backup_dir(window.store.path).write_text("a file where the backups folder should be")
    window.close()
    assert boxes.titles() == ["Automatic backup failed"]
    assert "Your changes are saved in the database" in boxes.shown[0][2]
    assert window.store.patient_by_mrn("EX-06").archived


def test_an_unexpected_error_is_a_message_not_a_traceback(qtbot, boxes, capsys):
    try:
        raise KeyError("EX-01 Bianchi")
    except KeyError as exc:
        app_mod.report_unexpected(type(exc), exc, exc.__traceback__)
    (kind, title, text), = boxes.shown
    assert kind == "critical" and title == "Unexpected error" and "KeyError" in text
    err = capsys.readouterr().err
    assert err == "TOHtrack: unexpected error (KeyError)\n"  # stderr may end up in a file: no patient data


# ---------------------------------------------------------------------------
# What the GUI keeps on disk besides the database
# ---------------------------------------------------------------------------


def test_the_settings_file_holds_no_patient_data(qtbot, window, settings, tmp_path):
    window.open_patient(window.store.patient_id("EX-05"))
    name = window.patient.family_name
    window.close()
    text = Path(settings.fileName()).read_text("utf-8")
    assert "EX-05" not in text and name not in text
    again = MainWindow(window.store, settings, as_of=AS_OF, first_run_prompt=False)
    qtbot.addWidget(again)
    again.restore_last_patient()
    assert again.patient.mrn == "EX-05"  # the last patient still comes back (by the record's id)
    again.close()


def test_an_mrn_kept_by_an_earlier_version_is_taken_out(qtbot, store, vignettes, settings):
    interchange.import_document(store, vignettes, today=AS_OF)
    w = MainWindow(store, settings, as_of=AS_OF, first_run_prompt=False)
    qtbot.addWidget(w)
    key = f"last_patient/{w._db_key()}"
    settings.setValue(key, "EX-02")
    w.restore_last_patient()
    assert w.patient is None and settings.value(key) is None
    w.close()


# ---------------------------------------------------------------------------
# Where the database is: network share, read-only; the worklist's dates
# ---------------------------------------------------------------------------


def test_a_database_on_a_network_share_shows_a_lasting_warning(qtbot, store, settings, monkeypatch):
    table = [Mount("/", "ext4", "/dev/sda1"), Mount(os.path.realpath(store.path.parent), "cifs", "//filer/Ortho")]
    monkeypatch.setattr(safety, "_linux_mounts", lambda: table)
    w = MainWindow(store, settings, as_of=AS_OF, first_run_prompt=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.storage_checked)  # checked once the window has painted
    notice = w.storage_notice
    assert notice.isVisible() and "network share" in notice.text()
    assert "cifs //filer/Ortho" in notice.toolTip() and "local disk" in notice.toolTip()
    assert "SQLite's file locking is not reliable" in w.statusBar().currentMessage()
    w.statusBar().showMessage("Reloaded from the database", 10)  # other messages come and go; the notice stays
    qtbot.wait(30)
    assert notice.isVisible()
    monkeypatch.setattr(safety, "_linux_mounts", lambda: table[:1])  # as after File > Open of a local one
    w._show_storage_notice()
    assert not notice.isVisible()
    w.close()


def test_a_local_database_shows_no_warning_and_a_read_only_one_says_so(qtbot, store, vignettes, settings):
    interchange.import_document(store, vignettes, today=AS_OF)
    w = MainWindow(store, settings, as_of=AS_OF, first_run_prompt=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.storage_checked)
    assert w.storage_notice is None  # nothing to say, no widget
    w.close()
    with Store(store.path, readonly=True) as readonly:
        r = MainWindow(readonly, settings, as_of=AS_OF, first_run_prompt=False)
        qtbot.addWidget(r)
        r.show()
        qtbot.waitUntil(lambda: r.storage_checked)
        assert r.storage_notice.isVisible() and "Read-only" in r.storage_notice.text()
        r.close()


def test_the_worklist_date_stops_where_the_assessment_can_reckon(qtbot, window):
    assert window.ui.worklist_date.maximumDate().toPython() == safety.LATEST_AS_OF
    window.toggle_worklist()
    window.ui.worklist_date.setDate(dt.date(9999, 12, 31))  # clamped: no error from the assessment
    assert window.ui.worklist_date.date().toPython() == safety.LATEST_AS_OF
    assert window.worklist_model.rowCount() >= 0


def damaged_beyond_the_header(path):
    """A database of 300 patients with a good automatic backup, then three data pages overwritten (the header
    and the schema intact: it opens, and its first queries fail)."""
    import sqlite3

    from tohtrack import demo

    with Store(path) as store:
        store.add_patients(list(demo.generate(300, seed=1, today=AS_OF)), validate=False)
        store.rotate_backups()
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn = sqlite3.connect(path)
    pages = [r[0] for r in conn.execute("SELECT pageno FROM dbstat WHERE name IN ('episodes', 'patients') "
                                        "AND pagetype = 'leaf'")]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(path, "r+b") as f:
        for page in pages[len(pages) // 2: len(pages) // 2 + 3]:
            f.seek((page - 1) * size)
            f.write(b"\xff" * size)


def test_damage_beyond_the_header_is_met_with_the_backup_offer(qtbot, tmp_path, vignettes, boxes, monkeypatch):
    """The header opens, the data pages do not: the first queries fail while the window is being built. The app
    says so and offers the backup, as for a file that does not open at all (not a one-line exit)."""
    path = tmp_path / "clinic.sqlite3"
    damaged_beyond_the_header(path)
    monkeypatch.setattr(app_mod, "QSettings", lambda *a: QSettings(str(tmp_path / "s.ini"),
                                                                   QSettings.Format.IniFormat))
    monkeypatch.setattr(QApplication, "exec", lambda *a: 0)  # run() returns once the window is up
    made = windows_made_by_run(monkeypatch)
    seen = []
    on_modal([click("Restore backup of", seen)])
    assert app_mod.run(path, "Dr Test") == 0
    (box,) = seen
    assert box["title"] == "Cannot open the database" and "damaged" in box["details"]
    assert "Traceback" not in box["details"]
    with Store(path, readonly=True) as restored:
        assert restored.count_patients() == 300 and restored.check() == []
    for window in made:
        window.close()


@pytest.mark.parametrize("choice", ["Restore backup of", "Cancel"])
def test_file_open_of_a_file_damaged_beyond_the_header(window, qtbot, tmp_path, boxes, choice):
    """File → Open on such a file: the window goes back to the database it had, then offers the backup."""
    damaged = tmp_path / "other" / "damaged.sqlite3"
    damaged.parent.mkdir()
    damaged_beyond_the_header(damaged)
    good = window.store.path
    seen = []
    on_modal([click(choice, seen)])
    window.switch_database(damaged)
    (box,) = seen
    assert box["title"] == "Cannot open the database" and "damaged" in box["details"]
    if choice == "Cancel":
        assert window.store.path == good and window.store.count_patients() == 6
        assert str(damaged) not in (window.settings.value("recent_databases") or [])
    else:
        assert window.store.path == damaged and window.store.count_patients() == 300
        assert window.store.check() == []
    window.run_search()
    assert window.list_model.rowCount() > 0
