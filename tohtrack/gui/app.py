"""The desktop app's entry points: the QApplication, `run` (the app on a database) and `screenshot` (--screenshot).

The main window lives in `main_window` and its rooms (`database_actions`, `editing`, `reports`); the names
other modules and tests use are kept here.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from .. import __version__
from ..db import Store
from ..store import is_server_url, open_store as gateway_open
from ..store.errors import StoreError
from . import resources
from .database_actions import STORAGE_NOTICE_STYLE, is_server_away, open_problem, open_store  # noqa: F401 - kept for callers
from .editing import record_date  # noqa: F401 - kept for callers
from .main_window import MainWindow
from .reports import save_screenshot

__all__ = ["MainWindow", "create_application", "open_problem", "open_store", "report_unexpected", "run",
           "screenshot", "settle"]


def settle(app: QApplication, rounds: int = 5) -> None:
    """Let layouts finish: the plots re-lay out their legends after each resize, over a few event-loop turns
    (turns without pauses between them: the same picture, pixel for pixel, and 25 ms sooner)."""
    for _ in range(rounds + 1):
        app.processEvents()


def report_unexpected(exc_type, exc, tb) -> None:
    """The app's last word on an error nothing else caught: a message box, never a traceback.

    Only the kind of error goes to stderr (a desktop session may keep stderr in a file): its text can hold
    patient data.
    """
    from PySide6.QtWidgets import QMessageBox  # built when first used, not before the first paint

    if issubclass(exc_type, KeyboardInterrupt):  # Ctrl+C in the terminal that started the app
        print("TOHtrack: interrupted", file=sys.stderr)
        QApplication.quit()
        return
    if is_server_away(exc):  # the clinic server went away under an action: the windows say so and reconnect
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and hasattr(w, "_poll")]
        for window in windows:
            window.server_away(exc)
        if windows:
            return
    print(f"TOHtrack: unexpected error ({exc_type.__name__})", file=sys.stderr)
    QMessageBox.critical(QApplication.activeWindow(), "Unexpected error",
                         f"Something went wrong ({exc_type.__name__}: {exc}).\n\nWhat was saved before is in the "
                         "database; the last action may not have been completed. If it happens again, note what you "
                         "did and tell your administrator.")


def create_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        # The style named as the application is made: setStyle("Fusion") hands the new QStyle back to Python,
        # whose class (with its twenty-odd enums) then costs 8 ms before the first paint. Named here it wins over
        # QT_STYLE_OVERRIDE, as setStyle did.
        app = QApplication([*(argv or [sys.argv[0]]), "-style", "Fusion"])
    else:
        app.setStyle("Fusion")
    app.setApplicationName("TOHtrack")
    app.setOrganizationName("TOHtrack")
    app.setApplicationVersion(__version__)
    # The clinic stylesheet goes on the widgets it styles (resources.style); the text size is the app font's.
    resources.set_base_font(app)
    # The desktop entry whose icon Wayland docks and task bars show for this window
    # (packaging/org.tohtrack.TOHtrack.desktop); the window icon itself is set as the event loop starts.
    app.setDesktopFileName("org.tohtrack.TOHtrack")
    QTimer.singleShot(0, lambda: set_window_icon(app))
    return app


def set_window_icon(app: QApplication) -> None:
    """The app icon (rendered from resources/icons/tohtrack.svg by packaging/render_icons.py) on every window.

    Set when the event loop runs, not while the first window is built: PySide6 makes the QIcon class with its
    enums, and the eight sizes are named, about 1.5 ms; Qt passes the icon on to the windows already shown. An
    installation without its icons folder runs with the platform's default icon."""
    from PySide6.QtCore import QSize
    from PySide6.QtGui import QIcon

    icon = QIcon()
    try:
        icons = resources.path("icons")
        names = sorted(os.listdir(icons))  # not Path.glob, whose pattern is compiled to a regex
    except OSError:
        return
    for name in names:
        if name.startswith("tohtrack-") and name.endswith(".png"):
            side = name[len("tohtrack-"):-len(".png")]  # tohtrack-64.png: 64 px (the file is read when drawn)
            icon.addFile(os.path.join(icons, name), QSize(int(side), int(side)) if side.isdigit() else QSize())
    app.setWindowIcon(icon)


def _target(db: "Path | str") -> "Path | str":
    """A database named on the command line: a clinic server's URL as it is, anything else a file's path."""
    return str(db).strip() if is_server_url(str(db)) else Path(db)


def run(db_path: "Path | str", clinician: str = "") -> int:
    """Open the desktop app on a database (a SQLite file, or a clinic server's postgresql:// URL); returns the
    exit code."""
    app = create_application()
    store = open_store(None, _target(db_path), clinician, cancel_text="Quit")
    if store is None:
        return 1
    previous_hook, sys.excepthook = sys.excepthook, report_unexpected
    try:
        while True:
            try:
                window = MainWindow(store, QSettings())
                break
            except StoreError as exc:  # opened, but the first queries met damaged pages
                failed = store.path
                store.close()
                store = open_store(None, failed, clinician, cancel_text="Quit", error=exc)
                if store is None:
                    return 1
        # The last patient opened before the window shows: it is laid out once, with the patient in it (shown
        # first, the empty page was laid out and then the patient's: 3 ms more before the first paint).
        window.restore_last_patient()
        window.show()
        code = app.exec()
        window.store.close()  # the database open at the end (File > Open may have changed it)
    finally:
        sys.excepthook = previous_hook
    return code


def screenshot(db_path: "Path | str", out: Path, mrn: str | None = None, as_of: dt.date | None = None,
               size: tuple[int, int] = (1280, 800)) -> int:
    """Build the main window as a user would see it, with a patient open, and save it as PNG (a SQLite file,
    or a clinic server's URL)."""
    app = create_application()
    target = _target(db_path)
    store = gateway_open(target) if isinstance(target, str) else Store(target)
    with tempfile.TemporaryDirectory() as scratch:
        settings = QSettings(os.path.join(scratch, "screenshot.ini"), QSettings.Format.IniFormat)
        window = MainWindow(store, settings, as_of=as_of, first_run_prompt=False)
        window.resize(*size)
        try:
            if mrn:  # as the app opens the last patient: before the window shows
                window.open_patient(store.patient_id(mrn))
            window.show()
            save_screenshot(window, out, lambda: settle(app))
        finally:
            window.close()
            store.close()
    return 0
