"""The review worklist as a clinician meets it: what to do, for whom and why, readable at the default size."""

import datetime as dt

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from tohtrack import course, interchange, wording
from tohtrack.gui.models import WorklistModel as W

AS_OF = dt.date(2026, 3, 1)


@pytest.fixture
def window(open_window, store, vignettes, tmp_path, monkeypatch):
    interchange.import_document(store, vignettes, today=AS_OF)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    return open_window(store, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def _show_worklist(qtbot, window):
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.worklist_model.rowCount() == 3)
    qtbot.wait(50)  # as a user sees it: after the event loop has laid the table out
    return window.ui.worklist_table


def test_worklist_reads_what_to_do_at_the_default_width(qtbot, window):
    table = _show_worklist(qtbot, window)
    model = window.worklist_model
    viewport = table.viewport().rect()
    # When, who and why lie inside the pane without scrolling, at 1280×800.
    for column in (W.STATE, W.NAME, W.FLAG):
        assert table.columnViewportPosition(column) >= 0
        assert table.columnViewportPosition(column) + table.columnWidth(column) <= viewport.width(), column
    metrics = table.fontMetrics()
    # The reason shows at least 18 characters' width; every cell is two lines at most, and the rows hold two lines
    # (a line too long for the column is elided, not wrapped out of sight; the tooltip says it all).
    assert viewport.width() - table.columnViewportPosition(W.FLAG) >= 18 * metrics.averageCharWidth()
    assert not table.wordWrap()
    for row in range(model.rowCount()):
        assert table.rowHeight(row) >= 2 * metrics.lineSpacing()
        for column in range(model.columnCount()):
            assert len(model.data(model.index(row, column)).splitlines()) <= 2
        entry = model.entries()[row]
        assert entry.most_urgent.message in model.data(model.index(row, W.FLAG), Qt.ItemDataRole.ToolTipRole)
    mrn = {r: model.entries()[r].mrn for r in range(3)}
    assert all(model.data(model.index(r, W.NAME)).endswith(f"\n\u2066{mrn[r]}\u2069") for r in range(3))  # isolated
    texts = {mrn[r]: model.data(model.index(r, W.STATE)) for r in range(3)}
    assert texts["EX-02"] == "Overdue, 17 days\nmissed 12 Feb 2026"
    reasons = {mrn[r]: model.data(model.index(r, W.FLAG)) for r in range(3)}
    assert reasons["EX-04"] == "Signs of AVN\nright knee · +3 more"


def test_clicking_the_reason_header_sorts_by_urgency(qtbot, window):
    table = _show_worklist(qtbot, window)
    header = table.horizontalHeader()
    x = header.sectionViewportPosition(W.FLAG) + header.sectionSize(W.FLAG) // 2
    assert [e.mrn for e in window.worklist_model.entries()] == ["EX-03", "EX-04", "EX-02"]  # the longest missed first
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))
    assert header.sortIndicatorSection() == W.FLAG
    order = [e.mrn for e in window.worklist_model.entries()]
    clinical = ["EX-04", "EX-02", "EX-03"]  # signs of AVN, edema not regressing, a review missed
    assert order == (clinical if header.sortIndicatorOrder() == Qt.SortOrder.AscendingOrder else clinical[::-1])
    # A refresh (another as-of date, a write) keeps the order asked for.
    window.ui.worklist_date.setDate(AS_OF - dt.timedelta(days=1))
    window.ui.worklist_date.setDate(AS_OF)
    assert [e.mrn for e in window.worklist_model.entries()] == order


@pytest.mark.parametrize("mrn, first", [("EX-04", "AVN_SIGNS"), ("EX-02", "NOT_REGRESSING")])
def test_opening_from_the_worklist_shows_the_flags_in_clinical_order(qtbot, window, mrn, first):
    table = _show_worklist(qtbot, window)
    model = window.worklist_model
    row = next(r for r, e in enumerate(model.entries()) if e.mrn == mrn)
    rect = table.visualRect(model.index(row, W.NAME))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.patient is not None and window.patient.mrn == mrn)
    flags = window.view.ui.flags_list
    codes = [flags.item(i).data(Qt.ItemDataRole.UserRole).code for i in range(flags.count())]
    assert codes[0] == first
    assert codes == sorted(codes, key=course.urgency)
    entry = model.entries()[row]
    assert f"review of {wording.date_text(entry.missed_review)} missed" in window.view.ui.pattern_label.text()
