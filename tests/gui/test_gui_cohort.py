"""The Cohort tab driven as clinic staff would: opening it, filtering, clicking a point of a curve, opening a
patient from there, records changing meanwhile, and File → Export cohort report…; the cohort report read back."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from tohtrack import demo, interchange, stats
from tohtrack.__main__ import main
from tohtrack.model import Episode, Patient, SymptomRecord

AS_OF = dt.date(2026, 3, 1)


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(open_window, store, vignettes, settings, monkeypatch):
    interchange.import_document(store, vignettes, today=AS_OF)
    store.add_patients(list(demo.generate(60, seed=3, today=AS_OF)), validate=False)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: pytest.fail(f"unexpected warning {a[1:]}"))
    return open_window(store, settings)


def show_cohort(qtbot, window):
    tabs = window.ui.left_tabs
    index = tabs.indexOf(window.cohort_view)
    qtbot.mouseClick(tabs.tabBar(), Qt.MouseButton.LeftButton, pos=tabs.tabBar().tabRect(index).center())
    view = window.cohort_view
    qtbot.waitUntil(lambda: view.isVisible() and view.figures is not None and not view.busy and not view.stale,
                    timeout=30000)
    return view


def settled(qtbot, view):
    qtbot.waitUntil(lambda: not view.busy and not view.stale, timeout=30000)


def click_point(qtbot, view, key, day):
    """Click the plotted point of a curve at `day`, where it is on the screen."""
    plot = view.plots[key]
    km = getattr(view.figures, key)
    point = next(p for p in km.points if p.day == day)
    y = point.survival if key == "time_to_resolution" else 1 - point.survival
    scene = plot.getPlotItem().vb.mapViewToScene(QPointF(day / 30.44, y))
    pos = plot.mapFromScene(scene)
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_the_tab_works_the_figures_out_only_when_shown(qtbot, window, store):
    view = window.cohort_view
    assert window.ui.left_tabs.tabText(window.ui.left_tabs.indexOf(view)) == "Cohort"
    assert view.computations == 0  # not at start-up
    show_cohort(qtbot, window)
    assert view.computations == 1
    expected = stats.compute(store, AS_OF)
    assert view.figures.episodes == expected.episodes and view.figures.patients == expected.patients
    assert f"{expected.patients} patients, {expected.episodes} TOH episodes" in view.summary.text()
    at_risk = view.at_risk["time_to_resolution"]
    assert at_risk.item(0, 0).text() == str(expected.time_to_resolution.at_risk_at(0))
    items = view.items["time_to_resolution"]
    assert items.curve is not None and items.band is not None and items.ticks is not None
    assert tuple(items.window.getRegion()) == (6, 8)
    assert view.migration.rowCount() == len(expected.migration_table)
    # The cohort takes the window's width while shown, and gives it back after.
    assert window.ui.splitter.sizes()[0] > window.ui.splitter.sizes()[1]
    window.ui.left_tabs.setCurrentWidget(window.ui.patient_pane)
    assert window.ui.splitter.sizes()[0] < window.ui.splitter.sizes()[1]


def test_filters_on_the_side(qtbot, window, store):
    view = show_cohort(qtbot, window)
    view.joint_box.setFocus()
    qtbot.keyClick(view.joint_box, Qt.Key.Key_Down)  # All joints -> Hip
    qtbot.waitUntil(lambda: view.figures.filters.joint == "hip", timeout=30000)
    hips = stats.compute(store, AS_OF, stats.Filters(joint="hip"))
    assert view.figures.episodes == hips.episodes
    assert view.figures.second_episode.subjects == hips.second_episode.subjects
    qtbot.mouseClick(view.from_check, Qt.MouseButton.LeftButton)
    view.from_edit.setDate(dt.date(2025, 1, 1))
    qtbot.waitUntil(lambda: view.figures.filters.onset_from == dt.date(2025, 1, 1), timeout=30000)
    dated = stats.compute(store, AS_OF, stats.Filters(joint="hip", onset_from=dt.date(2025, 1, 1)))
    assert view.figures.episodes == dated.episodes < hips.episodes
    index = view.sex_box.findData("female")
    view.sex_box.setCurrentIndex(index)
    qtbot.waitUntil(lambda: view.figures.filters.sex == "female", timeout=30000)
    assert "female" in view.summary.text()


def test_clicking_a_point_lists_the_episodes_and_a_double_click_opens_the_patient(qtbot, window, store):
    view = show_cohort(qtbot, window)
    km = view.figures.time_to_resolution
    point = next(p for p in km.points if p.events and 150 < p.day < 250)
    click_point(qtbot, view, "time_to_resolution", point.day)
    qtbot.waitUntil(lambda: view.behind.rowCount() > 0)
    assert view.behind.rowCount() == point.events + point.censored
    assert {view.behind.item(r, 3).text() for r in range(view.behind.rowCount())} == {str(point.day)}
    mrn = view.behind.item(0, 0).text()
    view.behind.parentWidget().parentWidget().parentWidget().ensureWidgetVisible(view.behind)
    rect = view.behind.visualItemRect(view.behind.item(0, 0))
    qtbot.mouseClick(view.behind.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.behind.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.patient is not None)
    assert window.patient.mrn == mrn
    assert window.ui.left_tabs.currentWidget() is window.ui.patient_pane


def test_second_episode_points_list_patients(qtbot, window):
    view = show_cohort(qtbot, window)
    km = view.figures.second_episode
    point = next(p for p in km.points if p.events)
    view.show_behind("second_episode", point.day)
    outcomes = [view.behind.item(r, 4).text() for r in range(view.behind.rowCount())]
    assert any(text.startswith("second episode on") for text in outcomes)


def test_it_follows_changes_to_the_records(qtbot, window, store):
    """Another workstation adds patients: the tab shows them (through the window's poll for changes)."""
    from tohtrack.db import Store

    view = show_cohort(qtbot, window)
    elsewhere = Store(store.path)
    before = view.figures.episodes
    runs = view.computations
    elsewhere.add_patient(Patient("NEW-1", "Nuovo", "Paziente", dt.date(1970, 1, 1), "male", episodes=[
        Episode("knee_left", dt.date(2025, 11, 1), symptoms=[SymptomRecord(dt.date(2025, 12, 1), pain_nrs=6)])]),
        today=AS_OF)
    window._check_external_changes()  # what the 2-second poll does
    qtbot.waitUntil(lambda: view.computations > runs, timeout=30000)
    settled(qtbot, view)
    assert view.figures.episodes == before + 1
    # Hidden, it only notes that the figures are stale; they are worked out when it is shown again.
    window.ui.left_tabs.setCurrentWidget(window.ui.patient_pane)
    runs = view.computations
    elsewhere.add_patient(Patient("NEW-2", "Nuovo", "Altro", dt.date(1971, 1, 1), "female", episodes=[
        Episode("hip_left", dt.date(2025, 10, 1))]), today=AS_OF)
    window._check_external_changes()
    assert view.computations == runs and view.stale
    show_cohort(qtbot, window)
    assert view.computations == runs + 1 and view.figures.episodes == before + 2
    elsewhere.close()


pdftotext = shutil.which("pdftotext")


@pytest.mark.skipif(pdftotext is None, reason="poppler-utils is not installed")
def test_export_cohort_report_from_the_file_menu(qtbot, window, store, tmp_path, monkeypatch):
    out = tmp_path / "cohort"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), "PDF files (*.pdf)"))
    action = window.action_export_cohort_report
    assert action in window.ui.menu_file.actions()
    action.trigger()  # worked out first if the tab was never shown
    text = subprocess.run([pdftotext, "-layout", str(out) + ".pdf", "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Cohort statistics" in text and "Time to resolution" in text and "Second episode" in text
    for patient in store.patients():
        assert patient.mrn not in text and patient.family_name not in text


# ---------------------------------------------------------------------------
# The cohort report read back (the command line)
# ---------------------------------------------------------------------------


@pytest.mark.skipif(pdftotext is None, reason="poppler-utils is not installed")
def test_stats_pdf_has_the_figures_and_nobody_in_it(capsys, store, vignettes, tmp_path):
    interchange.import_document(store, vignettes, today=AS_OF)
    store.add_patients(list(demo.generate(150, seed=8, today=AS_OF)), validate=False)
    out = tmp_path / "cohort.pdf"
    assert main(["stats", "--as-of", AS_OF.isoformat(), "--pdf", str(out)]) == 0
    assert "cohort report written" in capsys.readouterr().out
    text = subprocess.run([pdftotext, "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    figures = stats.compute(store, AS_OF)
    assert "Time to resolution" in text and "Number at risk" in text and "Migration" in text
    assert f"{figures.patients} patients with {figures.episodes} episodes" in " ".join(text.split())
    assert "< 5" in text  # small cells (a migration path or an age band of one or two) are hidden
    for patient in store.patients():
        assert patient.mrn not in text
        assert patient.family_name not in text and patient.birth_date.isoformat() not in text
    # Small cells: every count printed under 5 is '< 5'.
    for a, b, n in figures.migration_table:
        if n < 5:
            assert f" {n}\n" not in text.split("Migration")[1].split("Edema")[0]
    images = subprocess.run(["pdfimages", "-list", str(out)], capture_output=True, text=True).stdout \
        if shutil.which("pdfimages") else ""
    assert len(images.strip().splitlines()) <= 2  # vector plots: no pictures in it


def test_stats_pdf_refuses_a_folder(capsys, store, tmp_path):
    assert main(["stats", "--pdf", str(tmp_path)]) == 2
    assert "not a file" in capsys.readouterr().err


def test_a_failure_is_said_in_the_tab_not_raised(qtbot, window, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk gone")

    monkeypatch.setattr(stats, "compute", broken)
    tabs = window.ui.left_tabs
    tabs.setCurrentWidget(window.cohort_view)
    view = window.cohort_view
    qtbot.waitUntil(lambda: "could not be worked out" in view.status.text(), timeout=30000)
    assert "disk gone" in view.status.text() and view.figures is None


def test_bad_dates_on_the_side_are_said_not_computed(qtbot, window):
    view = show_cohort(qtbot, window)
    runs = view.computations
    view.from_check.setChecked(True)
    view.to_check.setChecked(True)
    view.from_edit.setDate(dt.date(2025, 6, 1))
    view.to_edit.setDate(dt.date(2025, 1, 1))
    assert "after --onset-to" in view.filter_note.text()
    qtbot.waitUntil(lambda: not view.busy, timeout=30000)
    assert view.stale  # the figures shown are not those of these filters, and none were worked out for them
    assert (view.figures.filters.onset_from, view.figures.filters.onset_to) != (dt.date(2025, 6, 1), dt.date(2025, 1, 1))
    view.to_edit.setDate(dt.date(2025, 12, 1))
    qtbot.waitUntil(lambda: view.figures.filters.onset_to == dt.date(2025, 12, 1), timeout=30000)
    assert view.filter_note.text() == "" and view.computations > runs


def test_stats_pdf_and_json_together(capsys, store, vignettes, tmp_path):
    interchange.import_document(store, vignettes, today=AS_OF)
    out = tmp_path / "c.pdf"
    assert main(["stats", "--as-of", AS_OF.isoformat(), "--json", "--pdf", str(out)]) == 0
    captured = capsys.readouterr()
    import json

    assert json.loads(captured.out)["as_of"] == AS_OF.isoformat()  # standard output: the JSON alone
    assert "cohort report written" in captured.err and out.read_bytes().startswith(b"%PDF")


def test_filtering_back_and_forth_gives_the_plots_of_a_fresh_tab(qtbot, window, open_window, store, tmp_path):
    """A filter changed and changed back leaves nothing of the pictures between: every plot of the tab equals the
    same plot of a tab opened afresh (the redraw builds each picture from nothing)."""
    from PySide6.QtCore import QSettings

    from plotshape import assert_same, describe

    view = show_cohort(qtbot, window)
    for joint in ("hip", "knee", "hip"):
        view.joint_box.setCurrentIndex(view.joint_box.findData(joint))
        qtbot.waitUntil(lambda j=joint: view.figures.filters.joint == j, timeout=30000)
        settled(qtbot, view)
    view.joint_box.setCurrentIndex(0)  # all joints again
    qtbot.waitUntil(lambda: view.figures.filters.joint is None, timeout=30000)
    settled(qtbot, view)
    fresh_window = open_window(store, QSettings(str(tmp_path / "fresh.ini"), QSettings.Format.IniFormat))
    fresh_window.resize(window.size())
    fresh = show_cohort(qtbot, fresh_window)
    for key in view.plots:
        assert_same(describe(view.plots[key], geometry=False), describe(fresh.plots[key], geometry=False))
    assert_same(describe(view.boxes, geometry=False), describe(fresh.boxes, geometry=False))
