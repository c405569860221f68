"""The timeline plots on screen: the drawn items carry the data, hover and click work, the toggle, big patients."""

import datetime as dt
import sys
import time

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QFontMetricsF, QHelpEvent
from PySide6.QtWidgets import QApplication, QToolTip

from tohtrack import course, interchange, plotdata
from tohtrack.gui import timeline, undo
from tohtrack.gui.app import create_application
from tohtrack.gui.patient_view import PatientView
from tohtrack.model import Episode, ImagingStudy, Patient, SymptomRecord, Treatment
from tohtrack.plotdata import DATES, MIGRATION, MONTHS, RECURRENCE, timestamp

AS_OF = dt.date(2026, 3, 1)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def show(qtbot, store, vignettes):
    """show(mrn) -> a PatientView of a stored vignette patient, 900×700, on screen."""
    create_application()
    interchange.import_document(store, vignettes, today=AS_OF)

    def shown(mrn: str, size=(900, 700)) -> PatientView:
        view = PatientView()
        qtbot.addWidget(view)
        view.resize(*size)
        view.show()
        qtbot.waitExposed(view)
        qtbot.waitUntil(view.timeline_loaded, timeout=300_000)  # the plots load after the first paint
        patient = store.patient_by_mrn(mrn)
        view.show_patient(patient, course.assess(patient, AS_OF, store.settings()))
        qtbot.wait(10)
        return view

    return shown


def course_items(view: PatientView) -> timeline.CourseItems:
    return view.timeline.course.items


def select_site(view: PatientView, site: str) -> None:
    table = view.ui.episodes_table
    row = next(r for r in range(table.rowCount()) if table.item(r, 0).data(Qt.ItemDataRole.UserRole).site == site)
    table.selectRow(row)


def spot(plot_widget, scatter, index: int) -> QPoint:
    """Where the index-th point of a scatter appears in the plot's viewport."""
    x, y = scatter.getData()
    return plot_widget.point_in_view(float(x[index]), float(y[index]), scatter.getViewBox())


def hover(qtbot, plot_widget, pos: QPoint) -> None:
    """Move the mouse onto a spot (from a little way off, slower than pyqtgraph's rate limit)."""
    qtbot.mouseMove(plot_widget.viewport(), pos + QPoint(12, 12))
    qtbot.wait(25)
    qtbot.mouseMove(plot_widget.viewport(), pos)
    qtbot.wait(25)


def pairs(xs, ys):
    return [(pytest.approx(float(x)), pytest.approx(float(y))) for x, y in zip(xs, ys)]


# -- the course plot carries the data ----------------------------------------------------------


def test_course_plot_of_ex01_carries_series_window_band_and_treatments(show):
    view = show("EX-01")
    items = course_items(view)
    data = items.data
    assert data.episode is view.selected_episode()
    x, y = items.extent_curve.getData()
    assert pairs(x, y) == [(p.x, p.y) for p in data.extent]
    assert list(y) == [75.0, 35.0, 0.0]
    assert set(items.studies) == {"MRI"} and set(items.unmeasured) == {"XR"}
    mx, my = items.studies["MRI"].getData()
    assert list(my) == [75.0, 35.0, 0.0] and list(mx) == pytest.approx([p.x for p in data.extent])
    ux, uy = items.unmeasured["XR"].getData()
    assert list(ux) == pytest.approx([1 + 27 / 31])
    assert uy[0] < 0 and items.y_range[0] < uy[0]  # in the strip under the zero line, never at zero
    px, py = items.pain_points.getData()
    assert list(py) == [8.0, 4.0, 0.0] and items.pain_points.getViewBox() is items.right
    fx, fy = items.function_points.getData()
    assert list(fy) == pytest.approx([4.8, 7.1, 9.6])  # function 0–100 drawn ÷10 on the pain axis
    assert items.window.getRegion() == pytest.approx((6.0, 8.0))
    assert items.extension.getRegion() == pytest.approx((8.0, 12.0))
    assert items.band.vertices() == [(pytest.approx(17 / 30), 75.0), (8.0, 0.0), (6.0, 0.0)]
    assert [(s.x0, s.x1, s.label) for s in items.treatments] == [
        (pytest.approx(17 / 30), pytest.approx(1 + 29 / 31), "analgesia"),
        (pytest.approx(17 / 30), pytest.approx(3 + 12 / 31), "protected weight bearing")]
    assert all(s.y1 < 0 for s in items.treatments)
    assert items.as_of_line.value() == pytest.approx(10 + 26 / 28)
    assert items.resolved_line.value() == pytest.approx(6 + 7 / 31)
    assert items.plot.vb.viewRange()[0] == pytest.approx([-0.36, 12.36])
    assert items.legend.texts() == [
        "Expected 6–8 mo", "Up to 12 mo", "Expected regression", "Treatment", "MRI (edema)",
        "Radiograph, no extent", "Function score ÷10", "Pain NRS", "Resolved 10 Oct 2025", "As of 1 Mar 2026"]


def test_pain_axis_is_level_with_the_extent_axis(show):
    items = course_items(show("EX-02"))
    low, high = items.plot.vb.viewRange()[1]
    right_low, right_high = items.right.viewRange()[1]
    assert (right_low, right_high) == (pytest.approx(low / 10), pytest.approx(high / 10))  # 0–10 beside 0–100%
    assert items.right.viewRange()[0] == pytest.approx(items.plot.vb.viewRange()[0])  # linked on x
    assert items.right.sceneBoundingRect() == items.plot.vb.sceneBoundingRect()


def test_ex02_plot_shows_the_course_above_the_band(show):
    view = show("EX-02")
    items = course_items(view)
    assert view.selected_episode().site == "hip_right"
    x, y = items.extent_curve.getData()
    assert pairs(x, y) == [(0.6, 55.0), (4 + 8 / 31, 58.0)]
    assert list(items.pain_points.getData()[1]) == [5.0, 5.0, 5.0]
    assert items.band.vertices() == [(0.6, 55.0), (8.0, 0.0), (6.0, 0.0)]
    assert items.treatments == [] and items.unmeasured == {} and items.function_points is None
    assert items.resolved_line is None and items.as_of_line.value() == pytest.approx(8 + 17 / 28)


def test_text_is_at_least_9_points(show):
    view = show("EX-01")
    items = course_items(view)
    for name in ("left", "right", "bottom"):
        assert items.plot.getAxis(name).style["tickFont"].pointSizeF() >= 9
    assert all(cell.font.pointSizeF() >= 9 for _, cell in items.legend.cells)
    assert all(s.font.pointSizeF() >= 9 for s in items.treatments)


# -- hover and click ---------------------------------------------------------------------------------


def test_hovering_a_study_shows_its_date_value_and_findings(qtbot, show):
    view = show("EX-01")
    plot = view.timeline.course
    items = course_items(view)
    hover(qtbot, plot, spot(plot, items.studies["MRI"], 0))
    tip = items.plot.vb.toolTip()
    assert "MRI of 20 Apr 2025" in tip and "Edema 75%" in tip and "T1 low signal" in tip
    hover(qtbot, plot, spot(plot, items.unmeasured["XR"], 0))
    tip = items.plot.vb.toolTip()
    assert "Radiograph of 30 May 2025" in tip and "No edema extent recorded" in tip and "osteopenia" in tip


def test_hovering_a_pain_point_shows_its_score(qtbot, show):
    view = show("EX-02")
    plot = view.timeline.course
    items = course_items(view)
    hover(qtbot, plot, spot(plot, items.pain_points, 1))
    tip = items.right.toolTip()
    assert "Symptoms of 12 Sep 2025" in tip and "Pain NRS 5/10" in tip


def test_the_shown_tooltip_of_a_point_on_the_window_and_band_is_the_point_s(qtbot):
    create_application()
    episode = Episode("hip_left", d("2025-01-10"), imaging=[
        ImagingStudy(d("2025-01-25"), "MRI", edema_extent_pct=60),
        ImagingStudy(d("2025-08-10"), "MRI", edema_extent_pct=5, t1_low_signal=True)])
    patient = Patient("T-2", "Rossi", "Marco", d("1970-01-01"), "male", episodes=[episode])
    plot = timeline.CoursePlot()
    qtbot.addWidget(plot)
    plot.resize(700, 250)
    plot.setAttribute(Qt.WidgetAttribute.WA_AlwaysShowToolTips)  # offscreen, the window need not be active
    plot.show()
    qtbot.waitExposed(plot)
    plot.set_course(plotdata.course_data(course.assess(patient, d("2025-09-01")), episode))
    qtbot.wait(10)  # the layout settles
    items = plot.items
    x, y = items.studies["MRI"].getData()
    assert 6 < x[1] < 8 and items.band.contains(QPointF(x[1], y[1]))  # inside the window and on the band
    where = spot(plot, items.studies["MRI"], 1)
    hover(qtbot, plot, where)
    QApplication.sendEvent(plot.viewport(), QHelpEvent(QEvent.Type.ToolTip, where, plot.viewport().mapToGlobal(where)))
    qtbot.waitUntil(QToolTip.isVisible)
    assert QToolTip.text().startswith("MRI of 10 Aug 2025\nEdema 5%\nT1 low signal")
    QToolTip.hideText()


def test_clicking_points_and_spans_selects_the_record_in_its_table(qtbot, show):
    view = show("EX-01")
    plot = view.timeline.course
    items = course_items(view)
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=spot(plot, items.unmeasured["XR"], 0))
    assert view.ui.findings_tabs.currentIndex() == 0
    study = view.selected_finding()
    assert (study.modality, study.date) == ("XR", d("2025-05-30"))
    assert view.ui.imaging_table.selectionModel().selectedRows()[0].row() == 1

    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=spot(plot, items.studies["MRI"], 1))
    assert view.selected_finding().date == d("2025-07-15") and view.ui.findings_tabs.currentIndex() == 0

    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=spot(plot, items.function_points, 2))
    record = view.selected_finding()
    assert view.ui.findings_tabs.currentIndex() == 1 and (record.date, record.function_score) == (d("2025-10-01"), 96)

    pwb = items.treatments[1]
    where = plot.point_in_view((pwb.x0 + pwb.x1) / 2, (pwb.y0 + pwb.y1) / 2)
    qtbot.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert view.ui.findings_tabs.currentIndex() == 2
    assert view.selected_finding().kind == "protected_weight_bearing"


def test_treatment_and_bar_tooltips(show):
    view = show("EX-01")
    assert course_items(view).treatments[0].toolTip() == "Analgesia (paracetamol 1 g qds)\n20 Apr 2025 – 1 Jun 2025"
    (bar,) = view.timeline.lanes.items.bars
    assert bar.toolTip().splitlines() == ["Right hip: transient osteoporosis", "Onset 3 Apr 2025",
                                          "Resolved 10 Oct 2025 (6.2 months)"]


# -- the months / dates toggle ------------------------------------------------------------------------


def test_toggle_switches_the_x_axis_to_calendar_dates(qtbot, show):
    view = show("EX-01")
    panel = view.timeline
    axis = course_items(view).plot.getAxis("bottom")
    assert panel.axis == MONTHS and axis.mode == MONTHS
    qtbot.mouseClick(panel.dates_toggle, Qt.MouseButton.LeftButton)
    assert panel.dates_toggle.isChecked() and panel.axis == DATES
    items = course_items(view)
    assert items.data.axis == DATES and items.plot.getAxis("bottom").mode == DATES
    x, _ = items.extent_curve.getData()
    assert list(x) == [timestamp(d(t)) for t in ("2025-04-20", "2025-07-15", "2025-10-01")]
    assert items.window.getRegion() == (timestamp(d("2025-10-03")), timestamp(d("2025-12-03")))
    assert items.as_of_line.value() == timestamp(AS_OF)
    levels = items.plot.getAxis("bottom").tickValues(*items.plot.vb.viewRange()[0], 600)
    major_spacing, major = levels[0]
    labels = items.plot.getAxis("bottom").tickStrings(major, 1.0, major_spacing)
    assert all(plotdata.day_of(v).day == 1 for v in major)  # ticks on the first of a month
    assert labels[0].endswith("2025") and any(label in ("Jan 2026", "2026") for label in labels)
    view.ui.episodes_table.selectRow(0)  # the choice holds for the next episode drawn
    assert course_items(view).data.axis == DATES
    qtbot.mouseClick(panel.dates_toggle, Qt.MouseButton.LeftButton)
    assert course_items(view).data.axis == MONTHS and course_items(view).plot.getAxis("bottom").mode == MONTHS


def test_month_axis_labels_whole_months():
    axis = timeline.TimeAxis()
    levels = axis.tickValues(-0.36, 12.36, 700)
    spacing, major = levels[0]
    assert major == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0] or spacing > 1
    assert axis.tickStrings([0.0, 6.0, 12.0], 1.0, spacing) == ["0", "6", "12"]
    narrow_spacing, narrow = axis.tickValues(-0.36, 12.36, 150)[0]
    assert narrow_spacing > spacing and set(narrow) <= set(major)


# -- the history lanes ------------------------------------------------------------------------------------


def test_lanes_of_ex05_carry_bars_links_and_the_multifocal_onset(show):
    view = show("EX-05")
    items = view.timeline.lanes.items
    left = items.plot.getAxis("left")
    assert left._tickLevels[0] == [(0, "Left ankle"), (1, "Right foot")]
    assert [(b.x0, b.x1, (b.y0 + b.y1) / 2, b.label) for b in items.bars] == [
        (timestamp(d("2023-02-01")), timestamp(d("2023-12-01")), 0, "10.0 mo"),
        (timestamp(d("2024-06-01")), timestamp(d("2024-12-01")), 0, "6.0 mo"),
        (timestamp(d("2024-06-01")), timestamp(d("2024-11-15")), 1, "5.5 mo")]
    assert not any(b.open_end for b in items.bars)
    assert [(link.link.kind, link.points[0].x(), link.points[-1].x(), link.points[0].y(), link.points[-1].y())
            for link in items.links] == [
        (RECURRENCE, timestamp(d("2023-12-01")), timestamp(d("2024-06-01")), 0, 0),
        (MIGRATION, timestamp(d("2023-12-01")), timestamp(d("2024-06-01")), 0, 1)]
    (multifocal,) = items.multifocal
    line = multifocal.line()
    assert line.x1() == line.x2() == timestamp(d("2024-06-01"))
    assert (line.y1(), line.y2()) == (pytest.approx(timeline.BAR_HALF), pytest.approx(1 - timeline.BAR_HALF))
    assert items.as_of_line.value() == timestamp(AS_OF)
    assert items.legend.texts() == ["Resolved", "Recurrence", "Migration", "Multifocal onset", "As of 1 Mar 2026"]
    assert "recurrence" in items.links[0].toolTip() and "migratory" in items.links[1].toolTip()


def test_lanes_of_ex02_show_the_active_episode_open_ended(show):
    view = show("EX-02")
    items = view.timeline.lanes.items
    left_hip, right_hip = items.bars
    assert (left_hip.open_end, right_hip.open_end) == (False, True)
    assert right_hip.x1 == timestamp(AS_OF)
    assert right_hip.brush.color().name() == timeline.STYLE.active_fill.lower()
    assert left_hip.brush.color().name() == timeline.STYLE.resolved_fill.lower()
    assert right_hip.pen.widthF() > left_hip.pen.widthF()  # the selected episode is outlined
    (link,) = items.links
    assert (link.link.kind, link.link.concurrent) == (MIGRATION, False)
    assert items.legend.texts() == ["Active", "Resolved", "Migration", "As of 1 Mar 2026"]


def test_clicking_a_bar_selects_its_episode(qtbot, show):
    view = show("EX-02")
    panel = view.timeline
    qtbot.mouseClick(panel.history_button, Qt.MouseButton.LeftButton)
    assert panel.stack.currentWidget() is panel.lanes
    lanes = panel.lanes
    left_hip = lanes.items.bars[0]
    where = lanes.point_in_view((left_hip.x0 + left_hip.x1) / 2, 0)
    qtbot.mouseClick(lanes.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert view.selected_episode().site == "hip_left"
    assert course_items(view).data.site == "hip_left"
    assert lanes.items.bars[0].pen.widthF() > lanes.items.bars[1].pen.widthF()


def test_revised_diagnosis_is_grey_and_has_no_window(show):
    view = show("EX-06")
    items = course_items(view)
    assert items.window is None and items.extension is None and items.band is None
    (bar,) = view.timeline.lanes.items.bars
    assert bar.label == "septic arthritis" and bar.brush.color().name() == timeline.STYLE.revised_fill.lower()
    assert view.timeline.lanes.items.legend.texts()[0] == "Diagnosis revised"


# -- in the main window: sizes, edits -------------------------------------------------------------------------


@pytest.fixture
def window(open_window, store, vignettes, tmp_path):
    interchange.import_document(store, vignettes, today=AS_OF)
    return open_window(store, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.mark.parametrize("mrn", ["EX-01", "EX-02", "EX-05"])
def test_main_window_plots_fit_without_clipped_titles(qtbot, window, mrn):
    window.open_patient(window.store.patient_id(mrn))
    qtbot.wait(10)
    assert (window.width(), window.height()) == (1280, 800)
    panel = window.view.timeline
    course_plot = panel.course
    assert course_plot.height() >= 80 and course_plot.width() >= 700
    items = course_items(window.view)
    for name in ("left", "right"):
        axis = items.plot.getAxis(name)
        title_length = QFontMetricsF(axis.label.font()).horizontalAdvance(axis.label.toPlainText())
        assert title_length <= axis.height(), (name, axis.label.toPlainText(), axis.height())
    legend = items.legend
    assert legend.sceneBoundingRect().bottom() <= items.plot.sceneBoundingRect().bottom() + 1
    assert legend.sceneBoundingRect().right() <= course_plot.sceneRect().right() + 1
    panel.show_history()
    qtbot.wait(10)
    lanes = panel.lanes.items
    assert lanes.legend.sceneBoundingRect().bottom() <= lanes.plot.sceneBoundingRect().bottom() + 1


def test_plots_follow_edits_at_once(qtbot, window):
    window.open_patient(window.store.patient_id("EX-02"))
    episode = window.view.selected_episode()
    assert episode.site == "hip_right"
    study = ImagingStudy(d("2026-01-20"), "MRI", edema_extent_pct=40.0)
    window._run(window._command(undo.AddFinding, episode.id, study))
    items = course_items(window.view)
    assert list(items.studies["MRI"].getData()[1]) == [55.0, 58.0, 40.0]
    assert list(items.extent_curve.getData()[1]) == [55.0, 58.0, 40.0]
    window.undo_stack.undo()
    assert list(course_items(window.view).extent_curve.getData()[1]) == [55.0, 58.0]
    window._run(window._command(undo.AddFinding, episode.id, SymptomRecord(d("2026-02-01"), pain_nrs=3)))
    assert list(course_items(window.view).pain_points.getData()[1]) == [5.0, 5.0, 5.0, 3.0]
    assert window.view.selected_episode().id == episode.id


# -- a big patient --------------------------------------------------------------------------------------------


def big_patient() -> Patient:
    """20 episodes over 10 sites, 25 records each: 500 records."""
    sites = ["hip_left", "hip_right", "knee_left", "knee_right", "ankle_left", "ankle_right", "foot_left",
             "foot_right", "shoulder_left", "wrist_right"]
    episodes = []
    for i in range(20):
        onset = d("2016-01-05") + dt.timedelta(days=150 * i)
        resolved = onset + dt.timedelta(days=210) if i < 19 else None
        imaging = [ImagingStudy(onset + dt.timedelta(days=10 + 20 * k), ("MRI", "XR", "NM")[k % 3],
                                edema_extent_pct=max(0.0, 70 - 7 * k) if k % 3 != 1 else None,
                                t1_low_signal=True, osteopenia=k % 3 == 1) for k in range(10)]
        symptoms = [SymptomRecord(onset + dt.timedelta(days=7 + 15 * k), pain_nrs=max(0, 8 - k % 9),
                                  function_score=40 + 4 * k) for k in range(12)]
        treatments = [Treatment(onset + dt.timedelta(days=7 + 30 * k), ("protected_weight_bearing", "analgesia",
                                                                     "bisphosphonate")[k],
                                onset + dt.timedelta(days=90 + 30 * k)) for k in range(3)]
        episodes.append(Episode(sites[i % len(sites)], onset, resolved, imaging=imaging, symptoms=symptoms,
                                treatments=treatments))
    return Patient("BIG-1", "Gross", "Anna", d("1960-01-01"), "female", episodes=episodes)


def test_a_patient_with_20_episodes_and_500_records(qtbot, record_property):
    create_application()
    patient = big_patient()
    assert sum(len(e.imaging) + len(e.symptoms) + len(e.treatments) for e in patient.episodes) == 500
    view = PatientView()
    qtbot.addWidget(view)
    view.resize(1280, 700)
    view.show()
    qtbot.waitExposed(view)
    started = time.perf_counter()
    view.show_patient(patient, course.assess(patient, AS_OF))
    view.timeline.course.grab()
    shown = time.perf_counter() - started
    started = time.perf_counter()
    for row in range(view.ui.episodes_table.rowCount()):
        view.ui.episodes_table.selectRow(row)
    switching = (time.perf_counter() - started) / view.ui.episodes_table.rowCount()
    record_property("show_patient_seconds", round(shown, 3))
    record_property("switch_episode_seconds", round(switching, 3))
    print(f"big patient: shown in {shown:.3f} s, {switching:.3f} s per episode switch", file=sys.stderr)
    items = view.timeline.lanes.items
    assert len(items.bars) == 20 and len(items.plot.getAxis("left")._tickLevels[0]) == 10
    assert course_items(view).data.episode is view.selected_episode()
    assert len(course_items(view).data.studies) == 10 and course_items(view).data.treatment_rows >= 1
