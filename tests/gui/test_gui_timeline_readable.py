"""The course plot reads at every size: the legend and the pain axis never vanish, the legend never stretches the
plot, and a study that raised a warning flag has its own marker with the flag in its hover text."""

import datetime as dt

import pytest
from PySide6.QtCore import QRectF, QSettings

from tohtrack import interchange
from tohtrack.gui import timeline
from tohtrack.model import Episode, ImagingStudy, Patient, SymptomRecord, Treatment

AS_OF = dt.date(2026, 3, 1)


@pytest.fixture
def window(open_window, store, vignettes, tmp_path):
    interchange.import_document(store, vignettes, today=AS_OF)
    return open_window(store, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


def visible_in(widget, item) -> QRectF:
    """An item's laid-out rectangle (a widget item's geometry, not its painted overhang) in the widget's
    viewport, which must hold it whole."""
    rect = widget.mapFromScene(item.mapRectToScene(item.rect())).boundingRect()
    return QRectF(rect)


def assert_readable(plot_widget) -> None:
    items = plot_widget.items
    view = QRectF(plot_widget.viewport().rect()).adjusted(-1, -1, 1, 1)
    legend = items.legend
    assert legend.isVisible() and legend.rows >= 1
    assert view.contains(visible_in(plot_widget, legend)), (visible_in(plot_widget, legend), view)
    for name in ("left", "right", "bottom"):
        axis = items.plot.getAxis(name)
        assert axis.isVisible(), name
        assert view.contains(visible_in(plot_widget, axis)), (name, visible_in(plot_widget, axis), view)
    # The plot item fills its widget, no more: nothing is pushed out of sight below or at the right.
    assert items.plot.sceneBoundingRect().height() <= plot_widget.viewport().height() + 1
    assert items.plot.sceneBoundingRect().width() <= plot_widget.viewport().width() + 1
    right = items.plot.getAxis("right")
    ticks = right.tickValues(*right.range, right.height())
    assert ticks and max(ticks[0][1]) == 10  # the pain axis is labelled 0–10
    # The legend sits right of the right axis, never over the plot's data area.
    assert legend.sceneBoundingRect().left() >= right.sceneBoundingRect().right() - 1


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080), (1024, 700)])
@pytest.mark.parametrize("mrn", ["EX-01", "EX-02", "EX-04", "EX-05"])
def test_legend_and_pain_axis_stay_in_sight(qtbot, window, mrn, size):
    window.resize(*size)
    window.open_patient(window.store.patient_id(mrn))
    qtbot.wait(20)
    assert_readable(window.view.timeline.course)
    window.view.timeline.show_history()
    qtbot.wait(20)
    lanes = window.view.timeline.lanes
    view = QRectF(lanes.viewport().rect()).adjusted(-1, -1, 1, 1)
    assert view.contains(visible_in(lanes, lanes.items.legend))


def test_a_long_legend_on_a_low_wide_plot_is_elided_not_pushed_out(qtbot):
    from tohtrack import course
    from tohtrack.gui.app import create_application

    create_application()
    onset = dt.date(2025, 1, 10)
    episode = Episode("hip_left", onset, dt.date(2025, 8, 1), imaging=[
        ImagingStudy(onset + dt.timedelta(days=10), "MRI", edema_extent_pct=70.0),
        ImagingStudy(onset + dt.timedelta(days=40), "XR", joint_space_narrowed=True),
        ImagingStudy(onset + dt.timedelta(days=70), "NM"), ImagingStudy(onset + dt.timedelta(days=90), "CT")],
        symptoms=[SymptomRecord(onset + dt.timedelta(days=5), pain_nrs=8, function_score=40,
                                function_instrument="A very long name of a function instrument indeed")],
        treatments=[Treatment(onset, "analgesia", onset + dt.timedelta(days=60))])
    patient = Patient("L-1", "Long", "Legend", dt.date(1970, 1, 1), "female", episodes=[episode])
    a = course.assess(patient, AS_OF)
    from tohtrack import plotdata

    plot = timeline.CoursePlot()
    qtbot.addWidget(plot)
    plot.resize(700, 110)
    plot.show()
    qtbot.waitExposed(plot)
    plot.set_course(plotdata.course_data(a, a.episodes[0]))
    qtbot.wait(10)
    items = plot.items
    assert len(items.legend.cells) >= 10
    assert items.legend.sceneBoundingRect().width() <= 0.4 * items.plot.width() + 1
    elided = [text for _, text in items.legend.cells if text.shown != text.text]
    assert elided and all(text.toolTip() == text.text for text in elided)
    assert_readable(plot)


# -- a study that raised a warning flag ---------------------------------------------------------------------------


def test_a_study_with_a_warning_has_a_ring_and_the_flag_in_its_hover_text(qtbot, window):
    window.open_patient(window.store.patient_id("EX-04"))
    qtbot.wait(10)
    items = window.view.timeline.course.items
    ring = items.warnings
    assert ring is not None and ring.getViewBox() is items.plot.vb
    (point,) = ring.points()
    mark = point.data()
    assert mark.record.date == dt.date(2025, 5, 25) and mark.modality == "MRI"
    assert (point.pos().x(), point.pos().y()) == (pytest.approx(mark.x), pytest.approx(mark.y))
    assert point.size() > items.studies["MRI"].points()[0].size()  # a ring around the study's own mark
    assert ring.zValue() < items.studies["MRI"].zValue()  # beneath it: the mark's hover text stays on top
    tips = [p.data().tip for p in items.studies["MRI"].points() if p.data().record is mark.record]
    assert len(tips) == 1 and "⚠ Warning: " in tips[0] and "consider avascular necrosis" in tips[0]
    assert "Warning flag" in items.legend.texts()


def test_no_ring_without_a_warning_from_a_study(qtbot, window):
    window.open_patient(window.store.patient_id("EX-01"))
    qtbot.wait(10)
    items = window.view.timeline.course.items
    assert items.warnings is None and "Warning flag" not in items.legend.texts()


def test_an_unmeasured_study_with_a_warning_has_its_ring_in_the_strip(qtbot):
    from tohtrack import course, plotdata
    from tohtrack.gui.app import create_application

    create_application()
    onset = dt.date(2025, 1, 10)
    episode = Episode("hip_left", onset, imaging=[
        ImagingStudy(onset + dt.timedelta(days=10), "MRI", edema_extent_pct=70.0),
        ImagingStudy(onset + dt.timedelta(days=40), "XR", joint_space_narrowed=True)])
    patient = Patient("J-1", "Narrow", "Joint", dt.date(1970, 1, 1), "female", episodes=[episode])
    a = course.assess(patient, AS_OF)
    plot = timeline.CoursePlot()
    qtbot.addWidget(plot)
    plot.resize(800, 300)
    plot.show()
    qtbot.waitExposed(plot)
    plot.set_course(plotdata.course_data(a, a.episodes[0]))
    qtbot.wait(10)
    items = plot.items
    (ring,) = items.warnings.points()
    (xr,) = items.unmeasured["XR"].points()
    assert xr.pos().y() < 0  # in the strip under the zero line
    assert (ring.pos().x(), ring.pos().y()) == (pytest.approx(xr.pos().x()), pytest.approx(xr.pos().y()))
    assert "joint space narrowing" in xr.data().tip


# -- the demo patients of the report ----------------------------------------------------------------------------

DEMO_TODAY = dt.date(2026, 12, 7)


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080)])
@pytest.mark.parametrize("number", [84, 1])
def test_demo_patients_keep_their_legend_and_pain_axis(qtbot, open_window, store, tmp_path, number, size):
    # D0-000084 (no extent, pain 8/6/1: once read as 80/60/10 against the edema axis when the pain axis was
    # pushed out of sight with the legend) and D0-000001 (three episodes, RMO), as `tohtrack demo` made them.
    from tohtrack import demo

    patients = list(demo.generate(number, seed=0, today=DEMO_TODAY))
    store.add_patients([patients[-1]], validate=False)
    window = open_window(store, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
                         as_of=DEMO_TODAY)
    window.resize(*size)
    window.open_patient(window.store.patient_id(demo.demo_mrn(0, number)))
    qtbot.wait(20)
    plot = window.view.timeline.course
    assert_readable(plot)
    items = plot.items
    if items.pain_points is not None:
        assert items.pain_points.getViewBox() is items.right
        assert items.plot.getAxis("right").linkedView() is items.right


class RecordingPainter:
    """Stands in for a QPainter in SpanItem's label painting: keeps the texts drawn."""

    def __init__(self, font):
        from PySide6.QtGui import QFontMetrics

        self.metrics, self.texts = QFontMetrics(font), []

    def setFont(self, font):  # noqa: N802 - Qt's name
        pass

    def setPen(self, pen):  # noqa: N802 - Qt's name
        pass

    def fontMetrics(self):  # noqa: N802 - Qt's name
        return self.metrics

    def fillRect(self, *args):  # noqa: N802 - Qt's name
        pass

    def drawText(self, rect, flags, text):  # noqa: N802 - Qt's name
        self.texts.append(text)


@pytest.mark.parametrize("width, shown", [(200, "2.0 mo"), (34, "2.0"), (14, None)])
def test_a_short_bar_shows_its_months_without_the_unit_rather_than_an_ellipsis(qtbot, width, shown):
    from PySide6.QtGui import QTransform

    from tohtrack.gui.app import create_application

    create_application()
    font = timeline.STYLE.font()
    span = timeline.SpanItem(0, 1, 0, 1, "2.0 mo", font=font)
    span.short_label = "2.0"
    painter = RecordingPainter(font)
    span._paint_label(painter, QRectF(0, 0, width, 24), QTransform())
    assert painter.texts == ([shown] if shown else [])
