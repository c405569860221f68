"""The first window is quick: the plotting library and the timeline load after the window's first paint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import json, sys, tempfile, os
    from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
    from tohtrack.gui.app import MainWindow, create_application
    from tohtrack.gui import models
    seen = {"after_import": "pyqtgraph" in sys.modules}
    asked = [0]  # the patient list's cells asked for, up to the first paint
    real_data = models.PatientListModel.data
    def counted(self, index, role=0):
        asked[0] += 1
        return real_data(self, index, role)
    models.PatientListModel.data = counted
    app = create_application()
    from tohtrack.gui.app import open_store  # as the app opens its database (tohtrack.gui.app.run)
    store = open_store(None, sys.argv[1])
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(store, settings, first_run_prompt=False)
    window.resize(1280, 800)

    class FirstPaint(QObject):
        def eventFilter(self, watched, event):
            if event.type() == QEvent.Type.Paint and "at_first_paint" not in seen:
                seen["at_first_paint"] = "pyqtgraph" in sys.modules
                seen["placeholder"] = window.view.findChild(QObject, "timeline_placeholder") is not None
                seen["deferred_loaded"] = [m for m in ("tohtrack.plotdata", "tohtrack.interchange",
                                                       "tohtrack.gui.timeline", "difflib") if m in sys.modules]
                seen["modules"] = sorted(sys.modules)
                seen["storage_checked_at_first_paint"] = window.storage_checked
                seen["settings_written_at_first_paint"] = os.path.exists(settings.fileName())
                seen["count_at_first_paint"] = window.ui.count_label.text()
                QTimer.singleShot(0, lambda: seen.setdefault("cells", asked[0]))
            return False

    watcher = FirstPaint()
    window.installEventFilter(watcher)
    window.show()
    window.open_patient(store.patient_id("EX-02"))
    QTimer.singleShot(3000, app.quit)
    def loaded():
        if window.view.timeline_loaded():
            seen["later"] = "pyqtgraph" in sys.modules
            seen["storage_checked_later"] = window.storage_checked
            seen["recent_later"] = bool(settings.value("recent_databases"))
            seen["count_later"] = window.ui.count_label.text()
            seen["icon_later"] = sorted(size.width() for size in app.windowIcon().availableSizes())
            seen["plotted"] = window.view.timeline.course.items is not None
            app.quit()
        else:
            QTimer.singleShot(20, loaded)
    QTimer.singleShot(0, loaded)
    app.exec()
    print(json.dumps(seen))
""")


#: The app's own modules loaded by the first paint of the main window with a patient open (the core, the store's
#: SQLite side and the window's rooms). What only an action, another tab or the plots need loads later: a module
#: that joins this list costs every start of the app (README: Start-up); add one here knowingly.
FIRST_PAINT_MODULES = {
    "tohtrack", "tohtrack.course", "tohtrack.db", "tohtrack.model", "tohtrack.perf",
    "tohtrack.registry", "tohtrack.settings", "tohtrack.summary", "tohtrack.wording",
    "tohtrack.store", "tohtrack.store.errors", "tohtrack.store.schema", "tohtrack.store.sqlite",
    "tohtrack.store.sqlite.registry", "tohtrack.store.sqlite.store", "tohtrack.store.sqlite.summaries",
    "tohtrack.gui", "tohtrack.gui.app", "tohtrack.gui.cohort_tab", "tohtrack.gui.database_actions",
    "tohtrack.gui.editing", "tohtrack.gui.flags_list", "tohtrack.gui.forms", "tohtrack.gui.forms.ui_main_window",
    "tohtrack.gui.forms.ui_patient_view", "tohtrack.gui.main_window", "tohtrack.gui.models",
    "tohtrack.gui.patient_view", "tohtrack.gui.reports", "tohtrack.gui.resources", "tohtrack.gui.undo",
}
#: Libraries (and the app's modules the list above leaves out) that must not be loaded before the first paint.
DEFERRED = ("pyqtgraph", "numpy", "platformdirs", "difflib", "psycopg", "sqlite_utils", "dateutil",
            "tohtrack.gui.connect_dialog", "tohtrack.gui.timeline", "tohtrack.gui.cohort_view",
            "tohtrack.gui.record_dialog", "tohtrack.gui.imaging_dialog", "tohtrack.gui.pdf",
            "tohtrack.gui.audit_view", "tohtrack.plotdata", "tohtrack.interchange", "tohtrack.stats",
            "tohtrack.report", "tohtrack.store.postgres", "tohtrack.witness", "tohtrack.cohort", "tohtrack.safety",
            # OpenSSL's hashing (the audit chain's first entry, the summaries' key, the witness) and the calendar
            # (with the locale module), which nothing before the paint needs.
            "hashlib", "_hashlib", "calendar", "locale")


def first_paint(tmp_path, store, vignettes) -> dict:
    """What the app's start-up script saw at the main window's first paint, and after."""
    from tohtrack import demo, interchange
    import datetime as dt

    interchange.import_document(store, vignettes, today=dt.date(2026, 3, 1))
    store.add_patients(list(demo.generate(300, today=dt.date(2026, 3, 1))), validate=False)
    script = tmp_path / "first_paint.py"
    script.write_text(SCRIPT)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(script), str(store.path)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_only_what_the_first_paint_needs_is_imported_before_it(tmp_path, store, vignettes):
    """The import graph up to the first paint: the window's modules, no plotting library, no dialog or report
    module, no clinic-server driver, no audit-witness folder lookup (the storage notice comes after the paint)."""
    seen = first_paint(tmp_path, store, vignettes)
    modules = set(seen["modules"])
    ours = {m for m in modules if m == "tohtrack" or m.startswith("tohtrack.")}
    assert ours <= FIRST_PAINT_MODULES, f"loaded before the first paint: {sorted(ours - FIRST_PAINT_MODULES)}"
    early = sorted(m for m in modules if any(m == d or m.startswith(d + ".") for d in DEFERRED))
    assert early == [], f"loaded before the first paint: {early}"
    # The storage notice (network share, read-only, audit anchor) is worked out once the window has painted, and
    # the settings file is written then (the recent list), not flushed to disk before the paint.
    assert seen["storage_checked_at_first_paint"] is False and seen["storage_checked_later"] is True
    assert seen["settings_written_at_first_paint"] is False and seen["recent_later"] is True
    # The patient list's rows are there at the first paint; their count (a whole count of the patients) follows.
    assert seen["count_at_first_paint"] == "\u00a0" and seen["count_later"] == "306 patients"
    # The window icon, every size rendered from the SVG, once the event loop runs.
    assert seen["icon_later"] == [16, 24, 32, 48, 64, 128, 256, 512]


def test_the_plots_load_after_the_first_paint(tmp_path, store, vignettes):
    seen = first_paint(tmp_path, store, vignettes)
    for key in ("modules", "storage_checked_at_first_paint", "storage_checked_later",
                "settings_written_at_first_paint", "recent_later", "count_at_first_paint", "count_later",
                "icon_later"):
        seen.pop(key)
    cells = seen.pop("cells")
    assert seen == {"after_import": False, "at_first_paint": False, "placeholder": True, "deferred_loaded": [],
                    "later": True, "plotted": True}
    # The list's columns are sized from the rows near those shown, not from every row loaded (sized from all 306
    # patients here, each of their cells asked for its roles, it took about 10 000 calls).
    assert 0 < cells < 3000, cells


def test_the_screenshot_waits_for_the_plots(tmp_path, store, vignettes):
    """--screenshot shows the plots, not the placeholder (they load after the first paint)."""
    from PySide6.QtGui import QImage

    from tohtrack import interchange
    import datetime as dt

    interchange.import_document(store, vignettes, today=dt.date(2026, 3, 1))
    store.close()
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from tohtrack.gui import app
        real = app.MainWindow.show
        def show(window):
            real(window)
            app._shown = window
        app.MainWindow.show = show
        app.screenshot(Path({str(store.path)!r}), Path({str(out)!r}), "EX-02")
        view = app._shown.view
        print(view.timeline_loaded() and view.timeline.course.items is not None)
    """)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True"
    assert not QImage(str(out)).isNull()


def test_the_app_is_fusion_whatever_the_environment_asks(tmp_path):
    """The style is named as the QApplication is made (cheaper than setStyle): still Fusion, over
    QT_STYLE_OVERRIDE, as setStyle made it. No application-wide stylesheet (it would route every widget's polish
    and paint through Qt's stylesheet style): the app font carries the text size the sheet gave every widget."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT), QT_STYLE_OVERRIDE="Windows")
    done = subprocess.run([sys.executable, "-c", textwrap.dedent("""
        from tohtrack.gui.app import create_application
        app = create_application()
        print(app.style().name(), repr(app.styleSheet()), app.font().pointSizeF(), app.applicationName())
    """)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["fusion", "''", "10.0", "TOHtrack"]


def test_the_server_banner_spans_the_window_over_the_panes(qtbot, store, tmp_path, open_window):
    """The clinic server's banner, laid out inside the central widget: across the whole width at the top, the
    panes under it with their margins, as when it was laid out around the central widget."""
    from PySide6.QtCore import QSettings

    window = open_window(store, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    central, banner, splitter = window.centralWidget(), window.server_banner, window.ui.splitter
    before = splitter.geometry()
    assert not banner.isVisible() and before.topLeft().x() == 6 and before.top() == 6
    banner.setText("The clinic server cannot be reached: TOHtrack reconnects by itself.")
    banner.setVisible(True)
    qtbot.waitUntil(lambda: splitter.geometry().top() > 6)
    assert banner.parentWidget() is central
    assert banner.geometry().topLeft().x() == 0 and banner.geometry().top() == 0
    assert banner.width() == central.width()
    assert splitter.geometry().top() == banner.geometry().bottom() + 1 + 6 and splitter.geometry().left() == 6
    banner.setVisible(False)
    qtbot.waitUntil(lambda: splitter.geometry() == before)


def _many_flags(store):
    import datetime as dt

    from tohtrack.model import Episode, ImagingStudy, Patient

    episodes = [Episode(site=site, symptom_onset=dt.date(2021 + k, 1, 10), resolved_on=dt.date(2021 + k, 12, 1),
                        imaging=[ImagingStudy(date=dt.date(2021 + k, 2, 1), modality="MRI", edema_extent_pct=40,
                                              subchondral_t2_low_band=True, joint_space_narrowed=True)])
                for k, site in enumerate(["hip_left", "hip_right", "hip_left", "knee_right"])]
    store.add_patient(Patient(mrn="FL-1", family_name="Flagged", given_name="Many", birth_date=dt.date(1970, 1, 1),
                              sex="female", episodes=episodes), today=dt.date(2026, 3, 1))
    return store.patient_id("FL-1")


def test_the_flags_banner_fits_again_when_only_its_width_changes(qtbot, store, tmp_path, open_window):
    """The banner's list says when its width changes (it is never asked for its viewport before the first
    paint): a window made narrower shows the banner a window opened at that width shows."""
    from PySide6.QtCore import QSettings

    patient_id = _many_flags(store)
    fresh_settings = QSettings(str(tmp_path / "fresh.ini"), QSettings.Format.IniFormat)
    browsed = open_window(store, QSettings(str(tmp_path / "browsed.ini"), QSettings.Format.IniFormat))
    browsed.open_patient(patient_id)
    qtbot.wait(20)
    wide = browsed.view.ui.flags_list.height()
    browsed.resize(760, 800)
    fresh = open_window(store, fresh_settings)
    fresh.resize(760, 800)
    fresh.open_patient(patient_id)
    flags, expected = browsed.view.ui.flags_list, fresh.view.ui.flags_list
    qtbot.waitUntil(lambda: flags.width() == expected.width())
    qtbot.wait(20)
    assert flags.count() == expected.count() >= 4
    from tohtrack.gui.patient_view import FLAGS_MAX_PX

    assert flags.height() <= FLAGS_MAX_PX + 2 * flags.frameWidth()  # fitted: whole flags, then it scrolls
    assert flags.height() == expected.height() != wide  # at 760 px some flags wrap: fewer whole flags fit
    assert [flags.visualItemRect(flags.item(i)).height() for i in range(flags.count())] == \
        [expected.visualItemRect(expected.item(i)).height() for i in range(expected.count())]


def test_a_worklist_left_open_is_queried_once_the_window_has_painted(qtbot, store, vignettes, tmp_path,
                                                                      monkeypatch):
    """The Review worklist tab restored open: the window paints first (the worklist assesses every active
    patient: 240 ms at 100 000), saying it is loading; then the worklist fills, and works from the keyboard."""
    import datetime as dt

    from PySide6.QtCore import QSettings, Qt

    from tohtrack import cohort, interchange
    from tohtrack.gui.app import MainWindow, create_application

    interchange.import_document(store, vignettes, today=dt.date(2026, 3, 1))
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue("window/left_tab", 1)  # as a user who left the worklist open
    create_application()
    queried = []
    real = cohort.worklist
    monkeypatch.setattr(cohort, "worklist", lambda *a, **k: queried.append(window._painted) or real(*a, **k))
    window = MainWindow(store, settings, as_of=dt.date(2026, 3, 1), first_run_prompt=False)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    assert window.ui.left_tabs.currentWidget() is window.ui.worklist_contents
    assert queried == [] and window.ui.worklist_count.text() == "Loading the review worklist…"
    window.show()
    qtbot.waitUntil(lambda: window.worklist_model.rowCount() > 0)
    assert queried == [True]  # once, after the first paint
    entries = real(store, dt.date(2026, 3, 1))
    assert window.worklist_model.rowCount() == len(entries)
    assert window.ui.worklist_count.text().startswith(f"{len(entries)} patient")
    table = window.ui.worklist_table
    table.setFocus()
    table.setCurrentIndex(window.worklist_model.index(0, 0))
    qtbot.keyClick(table, Qt.Key.Key_Return)  # opens the first patient, as on any worklist
    assert window.patient is not None and window.patient.id == window.worklist_model.patient_id(0)
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)  # Ctrl+R: back to the list
    assert window.ui.left_tabs.currentWidget() is window.ui.patient_pane
    window.close()


def test_the_last_patient_opened_before_the_window_shows_is_shown_as_if_opened_after(qtbot, store, vignettes,
                                                                                       tmp_path):
    """The app opens the last patient before its window shows (the window is laid out once, with the patient in
    it): the window then shows what a window shown first and then given the patient shows, the patient's row in
    the list marked and scrolled into view."""
    import datetime as dt

    from PySide6.QtCore import QSettings

    from tohtrack import demo, interchange
    from PySide6.QtWidgets import QApplication

    from tohtrack.gui.app import MainWindow, create_application, settle

    import viewstate  # tests/gui/viewstate.py

    interchange.import_document(store, vignettes, today=dt.date(2026, 3, 1))
    store.add_patients(list(demo.generate(120, today=dt.date(2026, 3, 1))), validate=False)
    create_application()

    def window(settings: QSettings) -> MainWindow:
        made = MainWindow(store, settings, as_of=dt.date(2026, 3, 1), first_run_prompt=False)
        qtbot.addWidget(made)
        made.resize(1280, 800)
        return made

    shown_first = window(QSettings(str(tmp_path / "shown_first.ini"), QSettings.Format.IniFormat))
    shown_first.show()
    qtbot.waitExposed(shown_first)
    patient_id = shown_first.list_model.patient_id(110)  # far down the list's first page: out of view at first
    shown_first.open_patient(patient_id)
    qtbot.waitUntil(shown_first.view.timeline_loaded, timeout=300_000)

    settings = QSettings(str(tmp_path / "opened_first.ini"), QSettings.Format.IniFormat)
    settings.setValue(f"last_patient/{shown_first._db_key()}", f"id:{patient_id}")  # nothing else kept
    opened_first = window(settings)
    opened_first.restore_last_patient()
    assert opened_first.patient is not None and opened_first.patient.id == patient_id
    opened_first.show()
    qtbot.waitExposed(opened_first)
    qtbot.waitUntil(opened_first.view.timeline_loaded, timeout=300_000)
    settle(QApplication.instance())  # the plots' layouts, then their axis titles fitted to the plots' heights
    assert viewstate.difference(viewstate.window(opened_first), viewstate.window(shown_first)) is None
    table = opened_first.ui.patient_table
    row = opened_first.list_model.row_of(patient_id)
    assert [i.row() for i in table.selectionModel().selectedRows()] == [row]
    assert table.viewport().rect().contains(table.visualRect(opened_first.list_model.index(row, 0)))
    shown_first.close()
    opened_first.close()


def test_the_app_font_sets_the_size_and_keeps_each_classs_family(qtbot):
    """Without the application-wide stylesheet, the app font carries its 10 pt size; a font the platform gives a
    widget class (a desktop's menu font, say) keeps its family and weight at that size, as the stylesheet's
    `font-size` did."""
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication, QLabel, QMenu

    from tohtrack.gui import resources
    from tohtrack.gui.app import create_application

    app = create_application()
    themed = QFont("DejaVu Serif")
    themed.setPointSizeF(14)
    themed.setBold(True)
    QApplication.setFont(themed, "QMenu")  # as a platform theme sets its menu font
    try:
        resources.set_base_font(app)
        menu, label = QMenu(), QLabel("x")
        qtbot.addWidget(menu)
        qtbot.addWidget(label)
        menu.ensurePolished()
        label.ensurePolished()
        assert (menu.font().family(), menu.font().pointSizeF(), menu.font().bold()) == ("DejaVu Serif", 10.0, True)
        assert label.font().pointSizeF() == 10.0 and label.font().family() != "DejaVu Serif"
        assert app.font().pointSizeF() == resources.BASE_POINTS
    finally:
        app.setStyle("Fusion")  # the platform's class fonts again (none offscreen), then the app's size
        resources.set_base_font(app)


def test_the_tables_outside_the_stylesheet_keep_bold_headers_and_a_visible_selection(qtbot):
    """A table given `plain_table` has bold header sections, as the stylesheet's tables have, and keeps its
    selection in the highlight colour when another widget has the focus (the open patient stays marked)."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QTableWidget

    from tohtrack.gui import resources
    from tohtrack.gui.app import create_application

    create_application()
    plain = QTableWidget(2, 2)
    qtbot.addWidget(plain)
    plain.setHorizontalHeaderLabels(["Expected resolution", "Next review"])
    resources.plain_table(plain)
    assert plain.horizontalHeader().font().bold() and not plain.font().bold()
    assert plain.horizontalHeader().font().pointSizeF() == resources.BASE_POINTS
    palette = plain.palette()
    for role in (QPalette.ColorRole.Highlight, QPalette.ColorRole.HighlightedText):
        assert palette.color(QPalette.ColorGroup.Inactive, role) == palette.color(QPalette.ColorGroup.Active, role)
