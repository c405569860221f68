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
    from tohtrack.db import Store
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
    store = Store(sys.argv[1])
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
            seen["plotted"] = window.view.timeline.course.items is not None
            app.quit()
        else:
            QTimer.singleShot(20, loaded)
    QTimer.singleShot(0, loaded)
    app.exec()
    print(json.dumps(seen))
""")


def test_the_plots_load_after_the_first_paint(tmp_path, store, vignettes):
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
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    cells = seen.pop("cells")
    assert seen == {"after_import": False, "at_first_paint": False, "placeholder": True, "deferred_loaded": [],
                    "later": True, "plotted": True}
    # The list's columns are sized from the rows near those shown, not from every row loaded (306 here; sized from
    # all of them, each of their cells asked for its roles, it took about 10 000 calls).
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
