"""The main window reads at 1280×800, 1920×1080 and at 2× scale, on the richest demo patients: the imaging table
shows four rows, the findings are whole (in the column or in the tooltip), no flag is half visible, and who a
patient is shows in the patient list without scrolling.

    python tests/gui/test_gui_readable.py DB MRN WIDTH HEIGHT   # the checks in a process of its own (2× scale)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

AS_OF = dt.date(2026, 3, 1)
SIZES = [(1280, 800), (1920, 1080)]


def problems(window, widths: bool = True) -> list[str]:
    """What is not readable in a shown main window with a patient open; with `widths` (the sizes the app is made
    for, not a window narrowed on purpose) also the patient list's columns and the episodes table's width."""
    from tohtrack.gui.patient_view import FLAGS_MAX_PX

    found = []
    view = window.view
    imaging = view.ui.imaging_table
    row_height = imaging.verticalHeader().defaultSectionSize()
    if imaging.viewport().height() < 4 * row_height:
        found.append(f"the imaging table shows {imaging.viewport().height() / row_height:.1f} rows, not 4")
    findings = [imaging.horizontalHeaderItem(c).text() for c in range(imaging.columnCount())].index("Findings")
    right = imaging.columnViewportPosition(findings) + imaging.columnWidth(findings)
    if right > imaging.viewport().width():
        found.append(f"the Findings column ends at {right} px, beyond the table's {imaging.viewport().width()} px")
    for row in range(imaging.rowCount()):
        item = imaging.item(row, findings)
        width = imaging.fontMetrics().horizontalAdvance(item.text()) + 12
        if item.text() and width > imaging.columnWidth(findings) and item.toolTip() != item.text():
            found.append(f"imaging row {row}: findings cut without a tooltip: {item.text()!r}")
    flags = view.ui.flags_list
    flags.scrollToTop()
    shown = flags.viewport().rect()
    for i in range(flags.count()):
        rect = flags.visualItemRect(flags.item(i))
        inside = rect.top() >= shown.top() and rect.bottom() <= shown.bottom()
        outside = rect.bottom() < shown.top() or rect.top() > shown.bottom()
        if not inside and not outside:
            found.append(f"flag {i} is half visible ({rect.height()} px tall, {shown.bottom() - rect.top()} px shown)")
    if flags.count() and flags.height() > max(FLAGS_MAX_PX + 2 * flags.frameWidth(),
                                               flags.visualItemRect(flags.item(0)).height() + 2 * flags.frameWidth()):
        found.append(f"the flags banner is {flags.height()} px tall")
    episodes = view.ui.episodes_table
    if widths and episodes.horizontalScrollBar().isVisible():  # the diagnosis is elided instead (its tooltip whole)
        found.append("the episodes table scrolls sideways")
    diagnosis = [episodes.horizontalHeaderItem(c).text() for c in range(episodes.columnCount())].index("Diagnosis")
    for row in range(episodes.rowCount()):
        item = episodes.item(row, diagnosis)
        if item.toolTip() != item.text():
            found.append(f"episode row {row}: the diagnosis {item.text()!r} without its tooltip")
    return found + (list_problems(window) if widths else [])


#: What a cell's text needs beside its width: the item view's text margins (3 px each side) and the grid line.
CELL_MARGIN = 7


def list_problems(window) -> list[str]:
    """What is cut in the patient list: every column and its header within the pane (no horizontal scroll
    bar); in the rows shown, MRN, birth date, age and sex and the latest onset whole; a name or list of active
    sites too long for its column only elided, whole in the row's tooltip."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QStyle

    found = []
    table, model = window.ui.patient_table, window.list_model
    header, metrics = table.horizontalHeader(), table.fontMetrics()
    if table.horizontalScrollBar().isVisible():
        found.append("patient list: a horizontal scroll bar")
    table.horizontalScrollBar().setValue(0)
    mark = table.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMarkSize, None, header)
    for column, label in enumerate(model.COLUMNS):
        end = table.columnViewportPosition(column) + table.columnWidth(column)
        if end > table.viewport().width():
            found.append(f"patient list: {label} ends at {end} px, beyond {table.viewport().width()}")
        need = header.fontMetrics().horizontalAdvance(label) + 12 + (mark if header.sortIndicatorSection() == column
                                                                     else 0)
        if need > header.sectionSize(column):
            found.append(f"patient list: the header {label!r} needs {need} px, has {header.sectionSize(column)}")
    first = max(0, table.rowAt(0))
    last = table.rowAt(table.viewport().height() - 1)
    last = model.rowCount() - 1 if last < 0 else last
    for row in range(first, last + 1):
        tooltip = str(model.data(model.index(row, 0), Qt.ItemDataRole.ToolTipRole) or "")
        for column in range(model.columnCount()):
            lines = str(model.data(model.index(row, column)) or "").split("\n")
            if len(lines) * metrics.lineSpacing() > table.rowHeight(row):
                found.append(f"patient list row {row}: {len(lines)} lines do not fit {table.rowHeight(row)} px")
            for number, line in enumerate(lines):
                if metrics.horizontalAdvance(line) + CELL_MARGIN <= table.columnWidth(column):
                    continue
                elidable = column == model.NAME or (column == model.SITES and number == 0)
                whole = (line.replace("—", "") == "" or all(
                    full in tooltip for full in _long_sites(line))) if column == model.SITES else line in tooltip
                if not elidable or not whole:
                    found.append(f"patient list row {row}: {model.COLUMNS[column]} {line!r} is cut")
    return found


def _long_sites(short: str) -> list[str]:
    """'L hip, R knee' -> ['Left hip', 'Right knee'] (as the tooltip says them)."""
    words = {"L": "Left", "R": "Right"}
    return [f"{words[part[0]]}{part[1:]}" for part in short.split(", ") if part[:1] in words]


def open_and_check(db: Path, mrn: str, size: tuple[int, int]) -> list[str]:
    """A main window over `db`, `mrn` open, at `size`, shown as the app shows it: what is not readable."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from tohtrack.db import Store
    from tohtrack.gui.app import MainWindow, create_application

    app = create_application()
    with tempfile.TemporaryDirectory() as scratch, Store(db) as store:
        settings = QSettings(os.path.join(scratch, "s.ini"), QSettings.Format.IniFormat)
        window = MainWindow(store, settings, as_of=AS_OF, first_run_prompt=False)
        window.resize(*size)
        window.show()
        try:
            window.open_patient(store.patient_id(mrn))
            window.view.load_timeline()
            for _ in range(8):
                app.processEvents()
            return problems(window)
        finally:
            window.close()
            QApplication.processEvents()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory) -> Path:
    from tohtrack import demo
    from tohtrack.db import Store

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    with Store(path) as store:
        store.add_patients(list(demo.generate(200, today=AS_OF)), validate=False)
    return path


def richest(db: Path, count: int = 3) -> list[str]:
    """The demo patients with the most imaging studies, and the one with the most episodes."""
    from tohtrack.db import Store

    with Store(db) as store:
        by_studies = [row[0] for row in store.conn.execute(
            "SELECT p.mrn FROM patients p JOIN episodes e ON e.patient_id = p.id JOIN imaging i ON i.episode_id = e.id "
            "WHERE p.archived = 0 GROUP BY p.id ORDER BY count(*) DESC, p.mrn LIMIT ?", (count,))]
        by_episodes = store.conn.execute(
            "SELECT p.mrn FROM patients p JOIN episodes e ON e.patient_id = p.id WHERE p.archived = 0 "
            "GROUP BY p.id ORDER BY count(*) DESC, p.mrn LIMIT 1").fetchone()[0]
    return list(dict.fromkeys(by_studies + [by_episodes]))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_richest_demo_patients_read_at_common_sizes(qtbot, demo_db, size):
    for mrn in richest(demo_db):
        assert open_and_check(demo_db, mrn, size) == [], mrn


def test_they_read_at_twice_the_scale(demo_db):
    """At 2× (a high-density screen): a process of its own, the scale set before Qt starts."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR="2",
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    for mrn in richest(demo_db, 2):
        done = subprocess.run([sys.executable, __file__, str(demo_db), mrn, "1280", "800"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert json.loads(done.stdout.strip().splitlines()[-1]) == [], mrn


def test_a_wrapped_flag_is_whole_or_scrolled_to(qtbot, store, tmp_path, open_window):
    """A narrow window wraps the flags to two lines: the banner holds whole flags and scrolls to the rest."""
    from tohtrack.model import Episode, ImagingStudy, Patient

    episodes = [Episode(site=site, symptom_onset=dt.date(2021 + k, 1, 10), resolved_on=dt.date(2021 + k, 12, 1),
                        imaging=[ImagingStudy(date=dt.date(2021 + k, 2, 1), modality="MRI", edema_extent_pct=40,
                                              subchondral_t2_low_band=True, joint_space_narrowed=True)])
                for k, site in enumerate(["hip_left", "hip_right", "hip_left", "knee_right"])]
    store.add_patient(Patient(mrn="FL-1", family_name="Flagged", given_name="Many", birth_date=dt.date(1970, 1, 1),
                              sex="female", episodes=episodes), today=AS_OF)
    from PySide6.QtCore import QSettings

    window = open_window(store, QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    window.resize(760, 800)
    window.open_patient(store.patient_id("FL-1"))
    qtbot.wait(20)
    flags = window.view.ui.flags_list
    assert flags.count() >= 4 and flags.verticalScrollBar().maximum() > 0  # more flags than the banner holds
    heights = [flags.visualItemRect(flags.item(i)).height() for i in range(flags.count())]
    assert max(heights) > min(heights)  # some flags wrap to two lines at this width
    rects = [flags.visualItemRect(flags.item(i)) for i in range(flags.count())]
    assert problems(window, widths=False) == [], (flags.height(), flags.viewport().height(),
                                                        [(r.top(), r.height()) for r in rects])


if __name__ == "__main__":
    print(json.dumps(open_and_check(Path(sys.argv[1]), sys.argv[2], (int(sys.argv[3]), int(sys.argv[4])))))


def test_the_list_gets_its_share_once_and_a_users_split_is_kept(qtbot, demo_db, tmp_path, open_window):
    """A first start gives the patient list the width its columns need (more than the old 400 of 1280, which cut
    Active); a split the user made, dragged or saved, is theirs: never shared out again."""
    from PySide6.QtCore import QSettings

    from tohtrack.db import Store

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    with Store(demo_db) as store:
        window = open_window(store, settings, as_of=AS_OF)
        left, right = window.ui.splitter.sizes()
        assert left >= window.list_width() > 400 and right >= 1280 // 2 - 20
        assert list_problems(window) == []
        window.ui.splitter.moveSplitter(300, 1)  # the user drags the handle (as the mouse does: splitterMoved)
        window.ui.splitter.splitterMoved.emit(300, 1)
        dragged = window.ui.splitter.sizes()[0]
        assert dragged < window.list_width()
        window.resize(1300, 800)
        window._share_out_panes()
        assert abs(window.ui.splitter.sizes()[0] - dragged) <= 10  # resized in proportion, not shared out again
        window.resize(1280, 800)
        window.close()  # saves the split
        again = open_window(store, settings, as_of=AS_OF)
        assert abs(again.ui.splitter.sizes()[0] - dragged) <= 10 and dragged < again.list_width()
