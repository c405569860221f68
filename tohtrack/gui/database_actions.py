"""The database's lifecycle in the main window: open, new, switch and recent files, backups, import and export,
the first-run offer, and noticing changes made by another window or workstation (the change poll).

`open_store` is also the app's way in (tohtrack.gui.app.run): it says why a file cannot be opened and offers
what may help.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSocketNotifier, QTimer, Qt
from PySide6.QtGui import QAction, QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..db import Store
from ..store import is_server_url, open_store as gateway_open
from ..store.errors import (DatabaseDamaged, DatabaseTooNew, DiskFull, NotATohtrackDatabase, ServerUnavailable,
                           StoreBusy, StoreError, StoreReadOnly)
from ..model import ValidationError
from . import undo

if TYPE_CHECKING:
    from . import connect_dialog

# The Connect to clinic server dialog's module (and the Qt classes of its form) loads when first used, not before
# the window's first paint: its names here are thin stand-ins.


def ConnectDialog(*args, **kwargs) -> "connect_dialog.ConnectDialog":  # noqa: N802 - the dialog, made on first use
    from . import connect_dialog as module

    return module.ConnectDialog(*args, **kwargs)


def is_server_away(exc: BaseException) -> bool:
    """Whether an error says the clinic server cannot be reached (stopped, restarting, the connection lost)."""
    return isinstance(exc, ServerUnavailable)


def parse_url(url: str) -> dict:
    from .connect_dialog import parse_url as parse

    return parse(url)


def public_url(url: str) -> str:
    from .connect_dialog import public_url as public

    return public(url)


def server_problem(exc: StoreError, shown: str) -> str:
    from .connect_dialog import server_problem as problem

    return problem(exc, shown)


RECENT_LIMIT = 8


#: The status bar's warning about where the database is (network share, read-only): amber, readable on any palette.
STORAGE_NOTICE_STYLE = ("QLabel#storage_notice { background: #fff4e5; color: #6d3a00; border: 1px solid #e65100; "
                        "border-radius: 3px; padding: 1px 6px; }")


DATABASE_FILES = "SQLite databases (*.sqlite3 *.db);;All files (*)"

#: How often the window looks for changes made by another window or workstation (ms).
POLL_MS = 2000

#: While the clinic server is away, how often the window tries to reach it again (ms).
RECONNECT_MS = 3000

#: The banner over the window while the clinic server cannot be reached: red, readable on any palette.
SERVER_BANNER_STYLE = ("QLabel#server_banner { background: #fdecea; color: #7f0000; border: 1px solid #c62828; "
                       "border-radius: 3px; padding: 6px 10px; font-weight: bold; }")


def is_server_store(store) -> bool:
    """Whether the store is a clinic server's database (its `path` is then its URL without a password)."""
    return getattr(store, "backend", "") == "postgresql" or is_server_url(str(getattr(store, "path", "")))


def database_name(store) -> str:
    """How the settings and the recent list name a database: a file's absolute path, a server's URL without
    a password (never the password, whatever the store was opened with)."""
    if is_server_store(store):
        return public_url(str(store.path))
    return str(Path(store.path).resolve())


def server_place(store) -> tuple[str, str, str]:
    """(host, database, login) of a clinic server's store, for the status bar and the title."""
    fields = parse_url(public_url(str(store.path)))
    host = fields["host"] or "localhost"
    if fields["port"] and fields["port"] != 5432 and not host.startswith("/"):
        host = f"{host}:{fields['port']}"
    login = getattr(store, "os_user", "") or fields["user"]
    return host, fields["database"], login


class DatabaseActions:
    """The main window's File menu over the database, and the change poll (a mixin of MainWindow: it uses the
    window's store, settings, models and status bar)."""

    def _start_polling(self) -> None:
        self._data_version = self._read_marks()
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check_external_changes)
        self._poll.start()

    def _listen_for_changes(self) -> None:
        """On a clinic server a change committed by any workstation wakes this window at once (LISTEN/NOTIFY:
        the store's listening connection's socket, watched by the event loop); the poll stays as the safety net,
        and is SQLite's way (a file has no one to tell)."""
        old = getattr(self, "_change_notifier", None)
        if old is not None:
            old.setEnabled(False)
            old.deleteLater()
        self._change_notifier: QSocketNotifier | None = None
        socket = getattr(self.store, "change_socket", None)
        if socket is None:
            return
        try:
            fd = socket()
        except StoreError as exc:
            if is_server_away(exc):
                self.server_away(exc)
            return
        self._change_notifier = QSocketNotifier(fd, QSocketNotifier.Type.Read, self)
        self._change_notifier.activated.connect(self._notified)

    def _notified(self) -> None:
        """The clinic server said something was committed: show it (the poll's own check, now)."""
        if self._server_lost is not None:
            return
        try:
            came = self.store.wait_for_change(0)
        except StoreError as exc:
            if self._change_notifier is not None:
                self._change_notifier.setEnabled(False)  # a lost connection's socket stays readable
            if is_server_away(exc):
                self.server_away(exc)
            return
        if came:
            self._check_external_changes()

    def switch_database(self, path: "Path | str", error: StoreError | None = None) -> None:
        # open_store says why a file cannot be opened, and offers a backup or another file (or, for a clinic
        # server, the connect dialog with what went wrong)
        store = open_store(self, path, self.store.clinician, error=error)
        if store is None:
            return
        self._switch_to(store)

    def connect_to_server(self) -> None:
        """File → Connect to clinic server…: the dialog, filled in from the server in use or the last one used."""
        initial = database_name(self.store) if is_server_store(self.store) else next(
            (p for p in (self.settings.value("recent_databases") or []) if is_server_url(p)), None)
        dialog = ConnectDialog(self, initial=initial, clinician=self.store.clinician)
        if dialog.exec() and dialog.store is not None:
            self._switch_to(dialog.store)

    def _switch_to(self, store) -> None:
        previous = self.store
        self.save_state()
        self.backup_if_changed()
        try:
            self._use_store(store)
        except StoreError as exc:  # it opened, but its first queries met damaged pages
            store.close()
            self._use_store(previous)  # still open (a server's with the password only its store holds)
            self.switch_database(store.path, exc)
        else:
            previous.close()

    def _use_store(self, store: Store) -> None:
        """Show another database in this window."""
        self.store = store
        self.patient = None
        self.undo_stack.clear()
        self.ids = undo.Ids()
        self.list_model.set_store(store)
        self.ui.patient_stack.setCurrentWidget(self.ui.empty_page)
        self.data_changed()  # the first queries: a damaged file fails here, before it is remembered
        self._remember_database()
        self._update_recent_menu()
        self._update_title()
        self._show_storage_notice()
        self._show_database_place()
        self._listen_for_changes()
        if store.count_patients() == 0:
            self.offer_first_run()

    def _folder(self) -> Path:
        """Where the file dialogs start: the open file's folder (home for a clinic server)."""
        return Path.home() if is_server_store(self.store) else Path(self.store.path).parent

    def open_database(self) -> None:
        from PySide6.QtWidgets import QFileDialog  # built when first used, not before the first paint

        path, _ = QFileDialog.getOpenFileName(self, "Open database", str(self._folder()),
                                              "SQLite databases (*.sqlite3 *.db);;All files (*)")
        if path:
            self.switch_database(Path(path))

    def new_database(self) -> None:
        from PySide6.QtWidgets import QFileDialog, QMessageBox  # built when first used, not before the first paint

        path, _ = QFileDialog.getSaveFileName(self, "New database", str(self._folder() / "clinic.sqlite3"),
                                              "SQLite databases (*.sqlite3)")
        if not path:
            return
        if Path(path).exists():
            QMessageBox.warning(self, "New database", f"{path} already exists; choose Open database for it.")
            return
        self.switch_database(Path(path))

    def _remember_database(self) -> None:
        path = database_name(self.store)
        recent = [p for p in (self.settings.value("recent_databases") or []) if p != path]
        self.settings.setValue("recent_databases", [path] + recent[:RECENT_LIMIT - 1])

    def _update_recent_menu(self) -> None:
        menu = self.ui.menu_recent
        menu.clear()
        for path in self.settings.value("recent_databases") or []:
            action = menu.addAction(path)
            shown = public_url(path) if is_server_url(path) else path  # (a password never gets there; be sure)
            action.setText(shown)
            action.triggered.connect(lambda checked=False, p=shown: self.switch_database(
                p if is_server_url(p) else Path(p)))
        menu.setEnabled(bool(menu.actions()))

    def _db_key(self) -> str:
        return database_name(self.store).replace("/", "|").replace("\\", "|")

    def _read_marks(self) -> tuple:
        """Where the database stands (the gateway's change mark): every change of a record or a setting moves
        it, while another window keeping assessment summaries (a cache) does not."""
        return self.store.change_mark()

    def _check_external_changes(self) -> None:
        """Another window or workstation changed records: show its changes."""
        if self._server_lost is not None:
            return  # the reconnect timer is at work
        try:
            changed, self._data_version = self.store.changes_since(self._data_version)
        except Exception as exc:  # noqa: BLE001 - the database went away; the next action will say so
            if is_server_away(exc):
                self.server_away(exc)
            return
        if changed:
            self.reload_views()
            self.statusBar().showMessage("Updated with changes from another window or workstation", 5000)

    # -- where the database is, and a clinic server that is away ---------------------------------------------

    def _setup_database_place(self) -> None:
        """The status bar's permanent label naming the database (a file, or server · database · login), and the
        banner over the window shown while the clinic server cannot be reached (hidden otherwise)."""
        self._server_lost: str | None = None
        self.database_place = QLabel(self)
        self.database_place.setObjectName("database_place")
        self.statusBar().addPermanentWidget(self.database_place)
        # The banner spans the window over the central widget's margins. Laid out inside the central widget rather
        # than around it: moving the central widget (the whole window's tree) to another parent had every widget
        # in it polished again twice, 17 ms before the first paint.
        central = self.centralWidget()
        outer = central.layout()
        margins = outer.contentsMargins()
        outer.setContentsMargins(0, 0, 0, 0)
        column = QVBoxLayout()
        column.setSpacing(0)
        outer.addLayout(column)
        self.server_banner = QLabel(central)
        self.server_banner.setObjectName("server_banner")
        self.server_banner.setStyleSheet(SERVER_BANNER_STYLE)
        self.server_banner.setWordWrap(True)
        self.server_banner.setVisible(False)
        column.addWidget(self.server_banner)
        inner = QHBoxLayout()
        inner.setContentsMargins(margins)
        column.addLayout(inner)
        while outer.count() > 1:  # what the form laid out (the splitter), now under the banner
            item = outer.takeAt(0)
            if item.widget() is not None:
                inner.addWidget(item.widget())
            elif item.layout() is not None:
                inner.addLayout(item.layout())
        self._reconnect = QTimer(self)
        self._reconnect.setInterval(RECONNECT_MS)
        self._reconnect.timeout.connect(self.try_reconnect)
        self._add_connect_action()
        self._show_database_place()
        self._listen_for_changes()

    def _database_title(self) -> str:
        """The database as the window title names it: the file's name, or 'database on host' (no password)."""
        if is_server_store(self.store):
            host, database, _ = server_place(self.store)
            return f"{database} on {host}"
        return Path(self.store.path).name

    def _add_connect_action(self) -> None:
        """File → Connect to clinic server…, after Open."""
        self.action_connect = QAction("Connect to clinic server…", self)
        self.action_connect.setObjectName("action_connect")
        self.action_connect.setToolTip("Open the clinic's shared TOHtrack database on its PostgreSQL server")
        self.action_connect.triggered.connect(lambda: self.connect_to_server())
        actions = self.ui.menu_file.actions()
        after = actions.index(self.ui.action_open_database) + 1 if self.ui.action_open_database in actions else 0
        before = actions[after] if after < len(actions) else None
        self.ui.menu_file.insertAction(before, self.action_connect)

    def _show_database_place(self) -> None:
        if is_server_store(self.store):
            host, database, login = server_place(self.store)
            text = f"Clinic server {host} · database {database} · signed in as {login}"
            name = self.store.clinician
            if name and name != login:
                text += f" ({name})"
            if self._server_lost:
                text = f"Clinic server {host} not reachable: reconnecting…"
        else:
            text = str(self.store.path)
        # A long path or server name never widens the window: the middle elided, the whole in the tooltip.
        shown = text if len(text) <= 100 else f"{text[:48]}…{text[-51:]}"
        self.database_place.setText(shown)
        self.database_place.setToolTip(text)

    def server_away(self, exc: BaseException | None = None) -> None:
        """The clinic server cannot be reached: say so (banner, status bar), and try again by itself until it
        is back. What an open dialog holds stays there; nothing was half-written (one transaction per action)."""
        host, database, _ = server_place(self.store)
        first = self._server_lost is None
        if getattr(self, "_change_notifier", None) is not None:
            self._change_notifier.setEnabled(False)
        self._server_lost = (f"The clinic server {host} cannot be reached (database {database}): it may be stopped "
                             "or restarting, or the network is down. Nothing was half-written. TOHtrack reconnects by "
                             "itself; changes can be saved again when this message goes away.")
        self.server_banner.setText(self._server_lost)
        self.server_banner.setVisible(True)
        self._show_database_place()
        self.statusBar().showMessage(f"The clinic server {host} is not reachable: reconnecting…")
        if first:
            self._poll.stop()
            self._reconnect.start()

    def try_reconnect(self) -> bool:
        """One try at the clinic server (the reconnect timer's); True when it answers again."""
        if self._server_lost is None:
            self._reconnect.stop()
            return True
        try:
            mark = self._read_marks()  # the store reconnects when its connection was lost
        except StoreError as exc:
            if is_server_away(exc):
                return False
            raise
        self._server_lost = None
        self._reconnect.stop()
        self.server_banner.setVisible(False)
        self._data_version = mark
        self._show_database_place()
        self.reload_views()  # what other workstations changed meanwhile
        self.statusBar().showMessage("Connected to the clinic server again", 8000)
        self._poll.start()
        self._listen_for_changes()
        return True

    def backup_if_changed(self) -> None:
        """A session that changed something leaves an automatic backup (at most one a day, `backup_keep` kept)."""
        from PySide6.QtWidgets import QMessageBox  # built when first used, not before the first paint

        if not self.changed_this_session:
            return
        if is_server_store(self.store):  # a clinic server is backed up on the server (README: Clinic server)
            self.changed_this_session = False
            return
        try:
            written = self.store.rotate_backups()
        except (StoreError, OSError) as exc:  # OSError: the backups folder cannot be made or written
            QMessageBox.warning(self, "Automatic backup failed", f"{exc}\n\nYour changes are saved in the database.")
            return
        self.changed_this_session = False
        if written is not None:
            self.statusBar().showMessage(f"Backup written to {written}", 5000)

    def backup(self) -> None:
        from PySide6.QtWidgets import QFileDialog, QMessageBox  # built when first used, not before the first paint

        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
        path, _ = QFileDialog.getSaveFileName(self, "Back up the database",
                                              str(Path.home() / f"tohtrack-backup-{stamp}.sqlite3"),
                                              "SQLite databases (*.sqlite3)")
        if not path:
            return
        try:
            self.store.backup(path)
        except (StoreError, OSError) as exc:  # OSError: a folder that cannot be written
            QMessageBox.warning(self, "Backup failed", f"{exc}\n\nNo backup was written.")
            return
        self.statusBar().showMessage(f"Backup written to {path}", 8000)

    def import_file(self) -> None:
        from PySide6.QtWidgets import QFileDialog, QMessageBox  # built when first used, not before the first paint

        from .. import fhir, interchange

        path, _ = QFileDialog.getOpenFileName(self, "Import a tohtrack/1 file or a FHIR R4 bundle", str(Path.home()),
                                              "TOHtrack or FHIR files (*.json);;All files (*)")
        if not path:
            return
        skipped: list = []
        try:
            if fhir.is_bundle(path):  # told apart by content, as `tohtrack import` does
                patients, skipped = fhir.import_file(self.store, path)
            else:
                patients = interchange.import_file(self.store, path)
        except ValidationError as exc:
            problems = [str(p) for p in exc.problems]
            shown = "\n".join(problems[:20]) + (f"\n… and {len(problems) - 20} more" if len(problems) > 20 else "")
            QMessageBox.warning(self, "Import refused",
                                f"{Path(path).name}: {len(problems)} problem(s); nothing was imported.\n\n{shown}")
            return
        except StoreError as exc:
            self.show_error(exc)
            return
        self.changed_this_session = True
        self.undo_stack.clear()
        self.data_changed()
        self.statusBar().showMessage(f"Imported {len(patients)} patient(s) from {Path(path).name}"
                                     + (f" ({len(skipped)} FHIR entries skipped)" if skipped else ""), 8000)
        if skipped:
            QMessageBox.information(self, "Import: entries skipped", "\n".join(fhir.skipped_summary(skipped)))

    def export_file(self) -> None:
        from PySide6.QtWidgets import QFileDialog, QMessageBox  # built when first used, not before the first paint

        path, _ = QFileDialog.getSaveFileName(self, "Export all patients", str(Path.home() / "tohtrack-export.json"),
                                              "TOHtrack files (*.json)")
        if not path:
            return
        try:
            from .. import interchange  # when first asked for (not at start-up)

            interchange.write_export(self.store, path)  # streamed; never over the database (safety)
        except (OSError, StoreError) as exc:
            QMessageBox.warning(self, "Export failed", f"{exc}\n\nNothing was written.")
            return
        self.statusBar().showMessage(f"Exported to {path}", 8000)

    def _add_csv_export_actions(self) -> None:
        """File → Export CSV for analysis… (and de-identified), after Export…."""
        self.action_export_csv = QAction("Export CSV for analysis…", self)
        self.action_export_csv.setObjectName("action_export_csv")
        self.action_export_csv.setToolTip("One CSV per record type and datapackage.json, for R, pandas or a "
                                          "spreadsheet")
        self.action_export_csv_deidentified = QAction("Export de-identified CSV for analysis…", self)
        self.action_export_csv_deidentified.setObjectName("action_export_csv_deidentified")
        self.action_export_csv.triggered.connect(lambda: self.export_csv())
        self.action_export_csv_deidentified.triggered.connect(lambda: self.export_csv(deidentify=True))
        self.ui.menu_file.insertActions(self.ui.action_backup,
                                        [self.action_export_csv, self.action_export_csv_deidentified])

    def export_csv(self, deidentify: bool = False) -> None:
        from PySide6.QtWidgets import QFileDialog, QMessageBox  # built when first used, not before the first paint

        from .. import tidy

        stamp = self.as_of.strftime("%Y%m%d")
        name = f"tohtrack-analysis{'-deidentified' if deidentify else ''}-{stamp}"
        path, _ = QFileDialog.getSaveFileName(
            self, "Export de-identified CSV for analysis" if deidentify else "Export CSV for analysis",
            str(Path.home() / name), "A new folder (*)")
        if not path:
            return
        try:
            counts = tidy.export(self.store, path, self.as_of, deidentify)
        except ValidationError as exc:
            QMessageBox.warning(self, "Export refused", "\n".join(str(p) for p in exc.problems)
                                + "\n\nNothing was written.")
            return
        except (OSError, StoreError) as exc:
            QMessageBox.warning(self, "Export failed", f"{exc}\n\nNothing was written.")
            return
        self.statusBar().showMessage(f"CSV for analysis written to {path}: {counts['patients']} patients, "
                                     f"{counts['episodes']} episodes, {counts['imaging']} studies", 8000)

    def offer_first_run(self) -> None:
        from PySide6.QtWidgets import QMessageBox  # built when first used, not before the first paint

        box = QMessageBox(self)
        box.setWindowTitle("An empty database")
        box.setText(f"{self.store.path} holds no patients yet.")
        box.setInformativeText("Load a demo cohort of 200 synthetic patients to try TOHtrack, "
                               "import a tohtrack/1 file, or start with an empty database.")
        demo_button = box.addButton("Load demo cohort", QMessageBox.ButtonRole.AcceptRole)
        import_button = box.addButton("Import file…", QMessageBox.ButtonRole.ActionRole)
        box.addButton("Start empty", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() is demo_button:
            self.load_demo()
        elif box.clickedButton() is import_button:
            self.import_file()

    def load_demo(self, count: int = 200) -> None:
        from .. import demo

        patients = list(demo.generate(count, taken=self.store.all_mrns()))
        self._guarded(lambda: self.store.add_patients(patients, validate=False))
        self.changed_this_session = True
        self.undo_stack.clear()
        self.data_changed()

    def _setup_storage_notice(self) -> None:
        self.storage_notice: QLabel | None = None  # made when there is something to say (most databases: never)
        self._show_storage_notice()

    def _anchor_problems(self) -> list[str]:
        """The audit trail held against what this workstation saw of it (tohtrack.witness): a database rolled
        back, cut short, recomputed or replaced is said when it is opened, as `tohtrack check` says it."""
        from .. import witness

        try:
            problems, _notes = witness.verify(self.store)
        except (witness.WitnessError, StoreError, OSError) as exc:
            return [f"audit anchor: {exc}"]
        return problems

    def _show_storage_notice(self, reopened: bool = True) -> None:
        """A warning that stays in the status bar while the database is on a network share or read-only, its
        audit trail does not match what this workstation saw, or MRNs from before the MRN rules clash."""
        from .. import safety  # network shares, backups and outputs: loaded when first used

        path = self.store.path
        server = is_server_store(self.store)
        if reopened or not hasattr(self, "_anchor_notes"):
            # On a clinic server the trail's witness is the database owner's ('tohtrack check' on the server).
            self._anchor_notes = [] if server else self._anchor_problems()
        notes = []
        warning = None if server else safety.network_share_warning(path)
        if warning:
            notes.append(("On a network share: keep the database on a local disk", warning))
        if server and self.store.readonly:
            notes.append(("Read-only: changes cannot be saved",
                          f"{path} is open read-only: you can look, but changes cannot be saved."))
        elif not server and (self.store.readonly or not os.access(path, os.W_OK)):
            notes.append(("Read-only: changes cannot be saved",
                          f"{path} is read-only here: you can look, but changes cannot be saved. "
                          "Ask for permission to write to the file and its folder."))
        if self._anchor_notes:
            notes.append(("Audit trail: not what this workstation last saw",
                          "\n".join(self._anchor_notes) + "\n\n'tohtrack check' says more; a copy put in place on "
                          "purpose is accepted with 'tohtrack check --accept' (README: What check detects)."))
        self._shown_witness_problem = self.store.witness_problem
        if self.store.witness_problem:
            notes.append(("Audit witness not updated", f"{self.store.witness_problem}; the change itself was saved."))
        clashes = self.store.mrn_key_clashes()  # MRNs that were distinct before the MRN rules, the same now
        if clashes:
            notes.append((f"{len(clashes)} MRN clash{'es' if len(clashes) > 1 else ''}: see the tooltip",
                          "\n".join(clashes)))
        if not notes and self.storage_notice is None:
            return
        if self.storage_notice is None:
            self.storage_notice = QLabel(self)
            self.storage_notice.setObjectName("storage_notice")
            self.storage_notice.setStyleSheet(STORAGE_NOTICE_STYLE)
            self.statusBar().addPermanentWidget(self.storage_notice)
        self.storage_notice.setText("  ·  ".join(short for short, _ in notes))
        self.storage_notice.setToolTip("\n\n".join(text for _, text in notes))
        self.storage_notice.setAccessibleDescription(self.storage_notice.toolTip())
        self.storage_notice.setVisible(bool(notes))
        if warning:
            self.statusBar().showMessage(warning, 20000)


def open_problem(exc: StoreError, path: Path | None = None) -> tuple[str, bool, bool]:
    """Why a database could not be opened, in the user's words: (what happened, a backup may help, a retry may help)."""
    if isinstance(exc, DatabaseTooNew):
        return ("This database was written by a newer version of TOHtrack. Update TOHtrack to open it; "
                "the file was not changed.", False, False)
    if isinstance(exc, NotATohtrackDatabase):
        return "This file is the database of another program, not a TOHtrack database. It was not changed.", True, False
    if isinstance(exc, DatabaseDamaged):
        return "This file is not a TOHtrack database, or it is damaged. It was not changed.", True, False
    if isinstance(exc, StoreBusy):
        return "Another workstation or window kept the database busy for too long. Try again in a moment.", False, True
    if isinstance(exc, StoreReadOnly):
        return ("TOHtrack may not write to this database (it is read-only here). Ask for permission to write to the "
                "file and its folder, or open another file.", False, True)
    if isinstance(exc, DiskFull):
        return ("The disk is full: TOHtrack could not write to the database. Free some space, then try again.",
                False, True)
    return "TOHtrack could not open the database.", False, True


def _taken(backup: Path) -> str:
    return dt.datetime.fromtimestamp(backup.stat().st_mtime).strftime("%Y-%m-%d %H:%M")


def open_store(parent: QWidget | None, path: Path, clinician: str = "", cancel_text: str = "Cancel",
               error: StoreError | None = None) -> Store | None:
    """Open a database; when it cannot be opened, say what happened (no traceback) and offer what may help:
    its newest automatic backup that passes its check, trying again, or another file. None when the user gives up.
    `error`: it opened, but failed at once (damage beyond the header, found by the first queries).
    A clinic server's URL (postgresql://…) is connected to; when that fails, the connect dialog says why, filled
    in from the URL (never with a password), for the user to correct or type the password.
    """
    if is_server_url(str(path)):
        return connect_server(parent, str(path), clinician, error)
    path = Path(path)
    while True:
        if error is None:
            try:
                return Store(path, clinician=clinician)
            except StoreError as exc:
                error = exc
        # It did not open: the message box, the file dialog and the backups' search load now (never on a good start).
        from PySide6.QtWidgets import QFileDialog, QMessageBox

        from .. import safety

        error, found = None, error
        headline, restorable, retry = open_problem(found, path)
        backup = None
        if restorable and path.is_file():
            QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                backup = safety.newest_good_backup(path)
            finally:
                QGuiApplication.restoreOverrideCursor()
        details = str(found)
        if backup is not None:
            details += (f"\n\nThe newest automatic backup that passes its check is of {_taken(backup)}. Restoring it "
                        "moves this file into the backups folder (nothing is deleted); changes made after the backup "
                        "are not in it.")
        elif restorable:
            details += "\n\nThere is no automatic backup of this database that passes its check."
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Cannot open the database")
        box.setText(headline)
        box.setInformativeText(details)
        restore_button = (box.addButton(f"Restore backup of {_taken(backup)}", QMessageBox.ButtonRole.AcceptRole)
                          if backup is not None else None)
        retry_button = box.addButton("Try again", QMessageBox.ButtonRole.ActionRole) if retry else None
        other_button = box.addButton("Open another file…", QMessageBox.ButtonRole.ActionRole)
        cancel_button = box.addButton(cancel_text, QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(restore_button or retry_button or other_button)
        box.setEscapeButton(cancel_button)
        box.exec()
        clicked = box.clickedButton()
        if clicked is None or clicked is cancel_button:
            return None
        if clicked is restore_button:
            try:
                kept = safety.restore_unopenable(path, backup)
            except (StoreError, ValidationError, OSError) as exc:
                QMessageBox.warning(parent, "Restore failed", f"{exc}\n\n{path} was left as it was.")
                continue
            QMessageBox.information(parent, "Backup restored",
                                    f"{path} now holds the backup of {_taken(backup)}.\n\n"
                                    f"The file that could not be opened was kept as {kept}.")
        elif clicked is other_button:
            chosen, _ = QFileDialog.getOpenFileName(parent, "Open database", str(path.parent), DATABASE_FILES)
            if chosen:
                path = Path(chosen)


def connect_server(parent: QWidget | None, url: str, clinician: str = "", error: StoreError | None = None):
    """Connect to the clinic server of `url` (a password in it, or from ~/.pgpass, $PGPASSWORD or a service
    file); when that fails, the connect dialog with the reason, until connected or cancelled (then None)."""
    if error is None:
        try:
            return gateway_open(url, clinician=clinician)
        except StoreError as exc:
            error = exc
    dialog = ConnectDialog(parent, initial=url, clinician=clinician,
                           error=server_problem(error, public_url(url)))
    if dialog.exec() and dialog.store is not None:
        return dialog.store
    return None
