"""The Qt item models: lazy keyset pages of the registry, sorting, roles, refresh, and the review worklist."""

import datetime as dt

import pytest
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette

from tohtrack import cohort, course, demo, interchange, registry, wording
from tohtrack.gui.models import PatientListModel, WorklistModel, muted_text, warning_background, warning_text
from tohtrack.model import Patient
from tohtrack.registry import Filters

# QAbstractItemModelTester (through qtmodeltester) reports a broken model contract as a Qt warning.
pytestmark = pytest.mark.qt_log_level_fail("WARNING")

TODAY = dt.date(2026, 3, 1)
Role = Qt.ItemDataRole
M = PatientListModel
W = WorklistModel
BY_NAME = ["EX-01", "EX-05", "EX-06", "EX-04", "EX-03", "EX-02"]  # Bianchi, Haddad, Jensen, Novak, Silva, Weber


@pytest.fixture
def filled(store, vignettes):
    interchange.import_document(store, vignettes, today=TODAY)
    store.add_patients(list(demo.generate(250, seed=5, today=TODAY)), today=TODAY)
    return store


@pytest.fixture
def model(qapp, filled):
    m = PatientListModel(filled, page_size=50)
    m.set_query("", Filters(), TODAY)
    return m


def column(model, col):
    """A column's texts, MRNs without their left-to-right isolate (test_display_texts_roles_and_tooltips)."""
    return [unisolated(model.data(model.index(r, col))) for r in range(model.rowCount())]


def unisolated(text):
    return text.removeprefix("\u2066").removesuffix("\u2069") if isinstance(text, str) else text


def loaded_ids(model):
    return [model.patient_id(r) for r in range(model.rowCount())]


def everyone(store, text="", filters=Filters(), **kw):
    return [r.id for r in registry.search(store, text, filters, TODAY, limit=10 ** 6, **kw)]


def fetch_all(model):
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())


# ---------------------------------------------------------------------------
# The patient list
# ---------------------------------------------------------------------------


def test_pages_load_as_the_view_scrolls(model, filled):
    assert model.rowCount() == 50 and model.canFetchMore(QModelIndex())
    sizes = []
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
        sizes.append(model.rowCount())
    assert sizes == [100, 150, 200, 250, 256]
    assert loaded_ids(model) == everyone(filled)
    assert model.total() == 256 and not model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())  # nothing more to load
    assert model.rowCount() == 256
    assert model.rowCount(model.index(0, 0)) == 0 and not model.canFetchMore(model.index(0, 0))


def test_the_model_contract_holds_through_every_change(qapp, filled, qtmodeltester):
    """QAbstractItemModelTester over queries, sorts and refreshes that insert, remove and change rows.

    (The tester calls fetchMore from within its own reset and insert checks, so it is run with pages
    large enough to hold every patient; lazy loading is tested without it.)
    """
    m = PatientListModel(filled, page_size=1000)
    qtmodeltester.check(m)
    m.set_query("", Filters(), TODAY)
    m.sort(M.BORN, Qt.SortOrder.DescendingOrder)
    m.set_query("d5-0", Filters(archived=None), TODAY)
    patient = Patient(mrn="D5-NEW", family_name="Aaberg", given_name="Aaron", birth_date=dt.date(1980, 1, 1),
                      sex="male")
    filled.add_patient(patient, today=TODAY)
    m.refresh()
    filled.set_archived(filled.patient_id("D5-000007"), 1)
    m.set_query("d5-0", Filters(), TODAY)
    patient.family_name = "Zed"
    filled.update_patient(patient, today=TODAY)
    m.refresh()
    m.sort(M.NAME, Qt.SortOrder.AscendingOrder)
    assert loaded_ids(m) == everyone(filled, "d5-0") and m.rowCount() == 249


def test_a_view_fetches_pages_when_scrolled(qtbot, model):
    from PySide6.QtWidgets import QTableView

    view = QTableView()
    qtbot.addWidget(view)
    view.resize(600, 300)
    view.setModel(model)
    view.show()
    assert model.rowCount() == 50
    for _ in range(3):
        view.scrollToBottom()
        qtbot.wait(1)
    qtbot.waitUntil(lambda: model.rowCount() >= 150)


def test_set_query_starts_over(model):
    model.fetchMore(QModelIndex())
    model.set_query("ex-0", Filters(archived=None), TODAY)
    assert column(model, M.MRN) == BY_NAME and not model.canFetchMore(QModelIndex())
    assert model.total() == 6 and model.query() == ("ex-0", Filters(archived=None), TODAY)
    model.set_query("ex-0", Filters(active=True), TODAY)
    assert column(model, M.MRN) == ["EX-04", "EX-03", "EX-02"]
    model.set_query("no such patient", Filters(), TODAY)
    assert model.rowCount() == 0 and model.total() == 0 and not model.canFetchMore(QModelIndex())


def test_sort_queries_again_in_the_column_order(model, filled):
    model.fetchMore(QModelIndex())
    kept = QPersistentModelIndex(model.index(70, M.NAME))
    kept_id = model.patient_id(70)
    model.sort(M.MRN, Qt.SortOrder.DescendingOrder)
    assert model.rowCount() == 100 and model.canFetchMore(QModelIndex())
    assert loaded_ids(model) == everyone(filled, sort="mrn", descending=True)[:100]
    assert (model.sort_column(), model.sort_order()) == (M.MRN, Qt.SortOrder.DescendingOrder)
    if kept_id in loaded_ids(model):  # the selection follows its patient while it is still loaded
        assert kept.isValid() and model.patient_id(kept.row()) == kept_id and kept.column() == M.NAME
    else:
        assert not kept.isValid()
    fetch_all(model)
    assert loaded_ids(model) == everyone(filled, sort="mrn", descending=True)
    model.sort(len(M.COLUMNS), Qt.SortOrder.AscendingOrder)  # no such column: nothing changes
    assert loaded_ids(model) == everyone(filled, sort="mrn", descending=True)
    for col, sort in ((M.BORN, "birth_date"), (M.SITES, "last_onset"), (M.NAME, "name")):
        for order in (Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder):
            model.sort(col, order)
            fetch_all(model)
            assert loaded_ids(model) == everyone(filled, sort=sort, descending=order == Qt.SortOrder.DescendingOrder)


def test_display_texts_roles_and_tooltips(model, filled):
    model.set_query("ex-0", Filters(archived=None), TODAY)
    weber = model.row_of(filled.patient_id("EX-02"))
    assert weber == 5 and model.row_of(10 ** 9) == -1
    texts = [model.data(model.index(weber, c)) for c in range(model.columnCount())]
    weber_record = filled.patient_by_mrn("EX-02")
    assert texts == ["\u2066EX-02\u2069", "WEBER, Jonas", f"{weber_record.birth_date.isoformat()}\n"
                     f"{registry.age_on(weber_record.birth_date, TODAY)} y · {weber_record.sex}", "R hip\n2025-06-12"]
    assert weber_record.sex in {"male", "female"}
    assert model.data(model.index(weber, M.SITES), Role.UserRole) == filled.patient_id("EX-02")
    tip = model.data(model.index(weber, M.NAME), Role.ToolTipRole)
    assert "WEBER, Jonas — MRN \u2066EX-02\u2069" in tip and "Active: Right hip" in tip and "Last onset 2025-06-12" in tip
    assert f"Sex: {weber_record.sex}" in tip
    assert model.data(model.index(weber, M.NAME), Role.FontRole) is None
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(4)] == list(M.COLUMNS)
    assert model.headerData(0, Qt.Orientation.Vertical) is None
    assert model.data(model.index(99, 0)) is None and model.patient_id(99) is None
    assert model.flags(model.index(0, 0)) & Qt.ItemFlag.ItemIsSelectable


def test_the_active_column_is_short_sites_over_the_latest_onset(model, filled):
    """Two short lines: 'L hip, R knee' over the latest onset; a dash when nothing is active; the tooltip whole."""
    from tohtrack.gui.models import short_site, short_sites_text
    from tohtrack.model import SITES, site_label

    assert {short_site(site)[:2] for site in SITES} == {"L ", "R "}
    assert all(site_label(site).split(" ", 1)[1] == short_site(site)[2:] for site in SITES)
    assert short_sites_text(["hip_left", "knee_right"]) == "L hip, R knee"
    model.set_query("", Filters(archived=None), TODAY)
    fetch_all(model)
    rows = [model.patient_row(r) for r in range(model.rowCount())]
    quiet = next(r for r in range(len(rows)) if not rows[r].active_sites and rows[r].last_onset)
    assert model.data(model.index(quiet, M.SITES)) == f"—\n{rows[quiet].last_onset.isoformat()}"
    assert "No active episode" in model.data(model.index(quiet, M.SITES), Role.ToolTipRole)
    busy = max(range(len(rows)), key=lambda r: len(rows[r].active_sites))
    assert model.data(model.index(busy, M.SITES)).split("\n")[0] == short_sites_text(rows[busy].active_sites)
    never = Patient(mrn="NO-EPISODE", family_name="Zed", given_name="Zoe", birth_date=dt.date(1980, 1, 1), sex="other")
    filled.add_patient(never, today=TODAY)
    model.set_query("NO-EPISODE", Filters(archived=None), TODAY)
    assert model.data(model.index(0, M.SITES)) == "—"
    assert model.data(model.index(0, M.BORN)) == f"1980-01-01\n{registry.age_on(dt.date(1980, 1, 1), TODAY)} y · other sex"


def test_archived_rows_are_grey_italic(model, filled):
    patient = filled.patient_by_mrn("EX-01")
    filled.set_archived(patient.id, patient.version)
    model.set_query("ex-0", Filters(archived=None), TODAY)
    row = model.row_of(patient.id)
    font = model.data(model.index(row, M.MRN), Role.FontRole)
    assert isinstance(font, QFont) and font.italic()
    assert model.data(model.index(row, M.MRN), Role.ForegroundRole) == muted_text(QGuiApplication.palette())
    assert "Archived" in model.data(model.index(row, M.MRN), Role.ToolTipRole)
    model.set_query("ex-0", Filters(), TODAY)
    assert model.row_of(patient.id) == -1


def test_refresh_keeps_what_was_loaded_and_the_selection(model, filled):
    model.fetchMore(QModelIndex())
    kept_id = model.patient_id(60)
    kept = QPersistentModelIndex(model.index(60, M.MRN))
    first = Patient(mrn="NEW-1", family_name="Aaberg", given_name="Aaron", birth_date=dt.date(1980, 1, 1), sex="male")
    filled.add_patient(first, today=TODAY)
    model.refresh()
    assert model.rowCount() == 100 and model.patient_id(0) == first.id
    assert loaded_ids(model) == everyone(filled)[:100]
    assert kept.isValid() and model.patient_id(kept.row()) == kept_id
    patient = filled.patient(kept_id)
    patient.given_name = "Renamed"
    filled.update_patient(patient, today=TODAY)
    model.refresh()
    assert loaded_ids(model) == everyone(filled)[:100]
    assert "Renamed" in model.data(model.index(model.row_of(kept_id), M.NAME))
    filled.set_archived(first.id, first.version)
    model.refresh()
    assert model.row_of(first.id) == -1 and loaded_ids(model) == everyone(filled)[:100]
    assert model.canFetchMore(QModelIndex())
    fetch_all(model)
    assert loaded_ids(model) == everyone(filled)


# ---------------------------------------------------------------------------
# The worklist
# ---------------------------------------------------------------------------


@pytest.fixture
def worklist(qapp, filled, qtmodeltester):
    m = WorklistModel()
    qtmodeltester.check(m)
    m.set_entries(cohort.worklist(filled, TODAY))
    return m


def test_worklist_contents(worklist, filled):
    entries = cohort.worklist(filled, TODAY)
    assert worklist.rowCount() == len(entries) > 0
    assert [worklist.data(worklist.index(r, W.NAME)).splitlines()[1] for r in range(worklist.rowCount())] == [
        f"\u2066{e.mrn}\u2069" for e in entries]
    assert [worklist.headerData(c, Qt.Orientation.Horizontal) for c in range(3)] == list(W.COLUMNS)
    ex02 = worklist.row_of(filled.patient_id("EX-02"))
    texts = [worklist.data(worklist.index(ex02, c)) for c in range(3)]
    entry = entries[ex02]
    # Overdue: the review missed and how long ago (never a later date); the reason in a few words, most urgent first.
    assert texts == ["Overdue, 17 days\nmissed 12 Feb 2026", "WEBER, Jonas\n\u2066EX-02\u2069",
                     "Edema not regressing\nright hip · +3 more"]
    assert "Active: Right hip" in worklist.data(worklist.index(ex02, W.FLAG), Role.ToolTipRole)
    assert entry.most_urgent.message in worklist.data(worklist.index(ex02, W.FLAG), Role.ToolTipRole)
    assert worklist.data(worklist.index(ex02, 0), Role.UserRole) == filled.patient_id("EX-02")
    assert "MRN \u2066EX-02\u2069" in worklist.data(worklist.index(ex02, 0), Role.ToolTipRole)
    assert worklist.patient_id(ex02) == filled.patient_id("EX-02")


def test_worklist_reason_is_the_most_urgent_flag_in_clinical_order(worklist, filled):
    ex04 = worklist.row_of(filled.patient_id("EX-04"))
    # A T2 low band on the knee (AVN signs) outranks the missed review and the long course.
    assert worklist.data(worklist.index(ex04, W.FLAG)) == "Signs of AVN\nright knee · +3 more"
    assert worklist.data(worklist.index(ex04, W.NEXT_REVIEW)) == "Overdue, 55 days\nmissed 5 Jan 2026"
    entry = worklist.entries()[ex04]
    assert entry.reason == "Signs of AVN — right knee (+3 more)"
    assert entry.review_text == "review of 5 Jan 2026 missed, 55 days"


def test_overdue_rows_never_show_a_blank_or_later_review(qapp, filled):
    m = WorklistModel()
    m.set_entries(cohort.worklist(filled, TODAY, due_only=True))
    overdue = [r for r, e in enumerate(m.entries()) if e.overdue]
    assert overdue
    for r in overdue:
        text = m.data(m.index(r, W.NEXT_REVIEW))
        entry = m.entries()[r]
        assert entry.missed_review is not None and entry.missed_review < TODAY
        days = wording.days_text((TODAY - entry.missed_review).days)
        assert text == f"Overdue, {days}\nmissed {wording.date_text(entry.missed_review)}"
        assert entry.review_text == f"review of {wording.date_text(entry.missed_review)} missed, {days}"


def test_worklist_sorts_by_urgency(qapp, filled):
    m = WorklistModel()
    m.set_entries(cohort.worklist(filled, TODAY, due_only=False))
    m.sort(W.FLAG, Qt.SortOrder.AscendingOrder)
    ranks = [course.urgency(e.most_urgent.code) if e.most_urgent else len(course.URGENCY) for e in m.entries()]
    assert ranks == sorted(ranks) and len(set(ranks)) > 2
    first = m.entries()[0]
    assert first.most_urgent is not None and first.most_urgent.code == course.URGENCY[min(ranks)]


def test_overdue_rows_are_tinted(worklist):
    palette = QGuiApplication.palette()
    rows = {e.state: r for r, e in enumerate(worklist.entries())}
    assert {"overdue", "due", ""} <= set(rows)
    overdue, due, other = rows["overdue"], rows["due"], rows[""]
    assert worklist.data(worklist.index(overdue, W.STATE)).startswith("Overdue, ")
    for c in range(len(W.COLUMNS)):
        assert worklist.data(worklist.index(overdue, c), Role.BackgroundRole) == warning_background(palette)
    assert worklist.data(worklist.index(overdue, W.STATE), Role.ForegroundRole) == warning_text(palette)
    assert worklist.data(worklist.index(due, W.STATE), Role.FontRole).bold()
    assert worklist.data(worklist.index(due, W.STATE), Role.BackgroundRole) is None
    assert worklist.data(worklist.index(other, W.NAME), Role.BackgroundRole) is None


def test_worklist_sorts_and_keeps_the_selection(worklist):
    kept = QPersistentModelIndex(worklist.index(2, W.NAME))
    kept_id = worklist.patient_id(2)
    worklist.sort(W.NAME, Qt.SortOrder.AscendingOrder)
    names = [worklist.data(worklist.index(r, W.NAME)) for r in range(worklist.rowCount())]
    assert [n.casefold() for n in names] == sorted(n.casefold() for n in names)
    assert worklist.patient_id(kept.row()) == kept_id
    worklist.sort(W.STATE, Qt.SortOrder.AscendingOrder)
    states = [e.state for e in worklist.entries()]
    assert states == sorted(states, key=["overdue", "due", ""].index)
    worklist.set_entries([])
    assert worklist.rowCount() == 0


# ---------------------------------------------------------------------------
# Colours in light and dark palettes
# ---------------------------------------------------------------------------


def luminance(color: QColor) -> float:
    def channel(c):
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(v) for v in color.getRgbF()[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: QColor, b: QColor) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def palette(base, text):
    p = QPalette()
    p.setColor(QPalette.ColorRole.Base, QColor(base))
    p.setColor(QPalette.ColorRole.Window, QColor(base))
    p.setColor(QPalette.ColorRole.Text, QColor(text))
    p.setColor(QPalette.ColorRole.WindowText, QColor(text))
    faded = QColor(text)
    faded.setAlpha(128)
    p.setColor(QPalette.ColorRole.PlaceholderText, faded)
    return p


@pytest.mark.parametrize("base, text", [("#ffffff", "#000000"), ("#f0f0f0", "#1a1a1a"),
                                        ("#1e1e1e", "#e6e6e6"), ("#000000", "#ffffff"), ("#2b2b2b", "#dddddd")])
def test_colours_read_well_in_light_and_dark_palettes(qapp, base, text):
    p = palette(base, text)
    background = warning_background(p)
    assert contrast(p.color(QPalette.ColorRole.Text), background) >= 7
    assert contrast(warning_text(p), background) >= 4.5
    assert background != p.color(QPalette.ColorRole.Base)
    muted = muted_text(p)
    assert 1.5 <= contrast(muted, p.color(QPalette.ColorRole.Base)) < contrast(p.color(QPalette.ColorRole.Text),
                                                                              p.color(QPalette.ColorRole.Base))


def test_models_follow_the_application_palette(qapp, worklist):
    original = QGuiApplication.palette()
    dark = palette("#1e1e1e", "#e6e6e6")
    try:
        QGuiApplication.setPalette(dark)
        overdue = next(r for r, e in enumerate(worklist.entries()) if e.overdue)
        assert worklist.data(worklist.index(overdue, 0), Role.BackgroundRole) == warning_background(dark)
        assert worklist.data(worklist.index(overdue, 0), Role.ForegroundRole) == warning_text(dark)
        assert luminance(warning_background(dark)) < 0.1
    finally:
        QGuiApplication.setPalette(original)
