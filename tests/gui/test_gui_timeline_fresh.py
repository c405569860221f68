"""The plots show the patient on screen and nobody else: after any browsing (patients, episodes, Dates, as-of
date, Course/History) the course plot and the history lanes hold exactly what a fresh view of the same state
holds — item for item (tests/gui/plotshape.py), pixel for pixel — and a report written after browsing is the
report written afresh."""

import datetime as dt
import os
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from PySide6.QtCore import Qt

from plotshape import assert_same, describe
from tohtrack import course, interchange
from tohtrack.gui.app import create_application
from tohtrack.gui.patient_view import PatientView

AS_OF = dt.date(2026, 3, 1)
SIZE = (900, 700)
MRNS = ("EX-01", "EX-02", "EX-03", "EX-04", "EX-05", "EX-06")
AS_OF_DATES = (AS_OF, dt.date(2025, 7, 1), dt.date(2024, 10, 15))


def make_view(qtbot) -> PatientView:
    view = PatientView()
    qtbot.addWidget(view)
    view.resize(*SIZE)
    view.show()
    qtbot.waitExposed(view)
    return view


def show(view: PatientView, store, mrn: str, as_of: dt.date = AS_OF, episode_row: int = 0) -> None:
    patient = store.patient_by_mrn(mrn)
    view.show_patient(patient, course.assess(patient, as_of, store.settings()))
    if view.ui.episodes_table.rowCount():
        view.ui.episodes_table.selectRow(min(episode_row, view.ui.episodes_table.rowCount() - 1))


def state_of(view: PatientView) -> dict:
    """What a fresh view needs to show the same thing."""
    return {"mrn": view.patient.mrn, "as_of": view.assessment.as_of,
            "row": view.ui.episodes_table.currentRow(), "dates": view.timeline.dates_toggle.isChecked(),
            "history": view.timeline.stack.currentIndex() == 1}


def fresh_like(qtbot, store, view: PatientView) -> PatientView:
    state = state_of(view)
    other = make_view(qtbot)
    other.timeline.dates_toggle.setChecked(state["dates"])
    show(other, store, state["mrn"], state["as_of"], max(state["row"], 0))
    other.timeline.show_history(state["history"])
    qtbot.wait(1)
    # The same share of the height as the browsed view (a splitter's sizes are the user's to set): what is
    # compared is what the plots hold at the same size.
    other.ui.view_splitter.setSizes(view.ui.view_splitter.sizes())
    qtbot.waitUntil(lambda: other.timeline.size() == view.timeline.size(), timeout=2000)
    qtbot.wait(20)
    return other


def assert_plots_equal(qtbot, store, view: PatientView) -> None:
    """The browsed view's plots equal a fresh view's, item for item (each plot compared while it is the one shown,
    at the size the view gives it, then the page the user chose shown again)."""
    qtbot.wait(1)
    fresh = fresh_like(qtbot, store, view)
    page = view.timeline.stack.currentIndex()
    for index, name in ((0, "course"), (1, "lanes")):
        for panel in (view.timeline, fresh.timeline):
            panel.stack.setCurrentIndex(index)
        qtbot.wait(50)
        assert_same(describe(getattr(view.timeline, name)), describe(getattr(fresh.timeline, name)))
    view.timeline.stack.setCurrentIndex(page)
    fresh.close()


@pytest.fixture
def stored(store, vignettes):
    create_application()
    interchange.import_document(store, vignettes, today=AS_OF)
    return store


# -- the named sequence of the defect report -----------------------------------------------------------------


def test_ex02_ex05_ex01_shows_ex01_only(qtbot, stored):
    view = make_view(qtbot)
    for mrn in ("EX-02", "EX-05", "EX-01"):
        show(view, stored, mrn)
    assert_plots_equal(qtbot, stored, view)
    shape = describe(view.timeline.course)
    notes = [i for i in shape["items"] if "No studies, symptoms or treatments recorded" in i]
    assert notes == []  # EX-05's note is gone
    assert not any("55.0, 58.0" in i for i in shape["items"])  # EX-02's MRI line is gone


def test_history_lanes_of_ex05_after_ex02_history(qtbot, stored):
    view = make_view(qtbot)
    show(view, stored, "EX-02")
    view.timeline.show_history()
    show(view, stored, "EX-05")
    assert_plots_equal(qtbot, stored, view)


def test_item_count_stays_put_while_browsing(qtbot, stored):
    view = make_view(qtbot)
    counts = []
    for _ in range(3):
        for mrn in ("EX-02", "EX-05", "EX-01"):
            show(view, stored, mrn)
            counts.append((len(view.timeline.course.scene().items()), len(view.timeline.lanes.scene().items())))
    assert counts[0:3] == counts[3:6] == counts[6:9]


def test_switching_episodes_of_one_patient_piles_nothing_up(qtbot, stored):
    view = make_view(qtbot)
    show(view, stored, "EX-05")
    for row in (1, 2, 0, 2, 1):
        view.ui.episodes_table.selectRow(row)
    assert_plots_equal(qtbot, stored, view)
    show(view, stored, "EX-02")
    for row in (1, 0, 1):
        view.ui.episodes_table.selectRow(row)
    assert_plots_equal(qtbot, stored, view)
    shape = describe(view.timeline.course)
    assert shape["kinds"].get("BandItem", 0) <= 1


def test_dates_toggle_and_as_of_changes_leave_nothing_behind(qtbot, stored):
    view = make_view(qtbot)
    show(view, stored, "EX-01")
    view.timeline.dates_toggle.setChecked(True)
    show(view, stored, "EX-02", dt.date(2025, 7, 1))
    view.timeline.dates_toggle.setChecked(False)
    show(view, stored, "EX-02", AS_OF, 1)
    view.timeline.dates_toggle.setChecked(True)
    assert_plots_equal(qtbot, stored, view)
    view.timeline.dates_toggle.setChecked(False)
    assert_plots_equal(qtbot, stored, view)


def test_a_hover_text_does_not_outlive_its_patient(qtbot, stored):
    view = make_view(qtbot)
    show(view, stored, "EX-01")
    plot = view.timeline.course
    plot.getPlotItem().vb.setToolTip("MRI of 20 Apr 2025")  # what a hover over a study leaves on the ViewBox
    show(view, stored, "EX-02")
    assert plot.getPlotItem().vb.toolTip() == ""
    assert_plots_equal(qtbot, stored, view)


def test_no_episode_then_a_course(qtbot, stored):
    view = make_view(qtbot)
    show(view, stored, "EX-01")
    view.timeline.show_assessment(view.assessment, None)  # "No episode to show"
    view.timeline.show_assessment(view.assessment, view.selected_episode())
    assert_plots_equal(qtbot, stored, view)


# -- pixels --------------------------------------------------------------------------------------------------


def test_browsed_plots_are_pixel_for_pixel_the_fresh_ones(qtbot, stored):
    view = make_view(qtbot)
    for mrn in ("EX-02", "EX-05", "EX-04", "EX-01"):
        show(view, stored, mrn)
        view.timeline.dates_toggle.setChecked(not view.timeline.dates_toggle.isChecked())
    view.timeline.dates_toggle.setChecked(False)
    qtbot.wait(5)
    fresh = fresh_like(qtbot, stored, view)
    qtbot.wait(5)
    for name in ("course", "lanes"):
        browsed_image = getattr(view.timeline, name).grab().toImage()
        fresh_image = getattr(fresh.timeline, name).grab().toImage()
        assert browsed_image.size() == fresh_image.size()
        assert browsed_image == fresh_image, name


# -- a stateful property: any sequence of what a user does ------------------------------------------------------


class Browsing(RuleBasedStateMachine):
    """Open patients, select episodes, toggle Dates, change the as-of date, Course/History: the plots always
    equal a fresh view's."""

    qtbot = None
    store = None

    @initialize(mrn=st.sampled_from(MRNS))
    def open_first(self, mrn):
        self.view = make_view(self.qtbot)
        show(self.view, self.store, mrn)

    @rule(mrn=st.sampled_from(MRNS), as_of=st.sampled_from(AS_OF_DATES))
    def open_patient(self, mrn, as_of):
        show(self.view, self.store, mrn, as_of)

    @rule(row=st.integers(0, 2))
    def select_episode(self, row):
        table = self.view.ui.episodes_table
        if table.rowCount():
            table.selectRow(row % table.rowCount())

    @rule()
    def toggle_dates(self):
        self.view.timeline.dates_toggle.click()

    @rule(history=st.booleans())
    def course_or_history(self, history):
        button = self.view.timeline.history_button if history else self.view.timeline.course_button
        self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    @invariant()
    def equals_a_fresh_view(self):
        if hasattr(self, "view"):
            assert_plots_equal(self.qtbot, self.store, self.view)

    def teardown(self):
        if hasattr(self, "view"):
            self.view.close()


def test_any_browsing_equals_a_fresh_view(qtbot, stored):
    Browsing.qtbot, Browsing.store = qtbot, stored
    examples = int(os.environ.get("TOHTRACK_FUZZ_EXAMPLES", "6"))  # each step compares with a fresh view
    machine = settings(max_examples=examples, stateful_step_count=7, deadline=None,
                       suppress_health_check=list(HealthCheck))(Browsing)
    machine.TestCase().runTest()


# -- the report ------------------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                    reason="poppler-utils is not installed")
def test_a_report_written_after_browsing_equals_one_written_afresh(qtbot, stored, tmp_path):
    from tohtrack import report as report_mod
    from tohtrack.gui import pdf

    patient = stored.patient_by_mrn("EX-02")
    report = report_mod.build(patient, AS_OF, stored.settings(), AS_OF)
    before = tmp_path / "before.pdf"
    pdf.write_pdf(report, before, AS_OF)
    view = make_view(qtbot)
    for mrn in ("EX-05", "EX-01", "EX-02", "EX-04"):
        show(view, stored, mrn)
        view.timeline.dates_toggle.click()
        view.timeline.show_history()
    after = tmp_path / "after.pdf"
    pdf.write_pdf(report, after, AS_OF)

    def text(path):
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                              check=True).stdout

    assert text(after) == text(before)
    assert "Right hip" in text(after) or "right hip" in text(after)
    for name in ("before", "after"):
        subprocess.run(["pdftoppm", "-png", "-r", "50", str(tmp_path / f"{name}.pdf"), str(tmp_path / name)],
                       check=True)
    pages_before = sorted(tmp_path.glob("before-*.png"))
    pages_after = sorted(tmp_path.glob("after-*.png"))
    assert len(pages_before) == len(pages_after) >= 1
    for a, b in zip(pages_before, pages_after):
        assert a.read_bytes() == b.read_bytes(), a.name
