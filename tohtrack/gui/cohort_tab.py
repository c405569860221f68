"""The Cohort tab's place in the main window, light enough for start-up: the tab, its File menu action and its
share of the window's width. The tab itself (gui/cohort_view.py, which needs pyqtgraph) is built the first time
it is shown or asked for, so the main window paints before the plotting library is loaded."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from . import resources


class CohortTab(QWidget):
    """Stands in the tab bar for the CohortView and builds it when first needed; passes everything else on."""

    def __init__(self, window, parent: QWidget | None = None):
        super().__init__(parent)
        self._window = window
        self._view = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    def real(self):
        """The CohortView, built now if it was not yet."""
        if self._view is None:
            from .cohort_view import CohortView

            window = self._window
            view = CohortView(lambda: window.store, lambda: window.as_of, self)
            resources.style(view)
            view.open_patient.connect(lambda pid: (leave(window, self), window.open_patient(pid)))
            view.export_button.clicked.connect(lambda checked=False: export(window, self))
            self.layout().addWidget(view)
            self._view = view
        return self._view

    def mark_stale(self) -> None:
        """Records changed: a view not built yet has nothing to redo (it works its figures out when shown)."""
        if self._view is not None:
            self._view.mark_stale()

    def showEvent(self, event) -> None:  # noqa: N802 - Qt's name
        self.real()
        super().showEvent(event)

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.real(), name)


def export(window, tab: CohortTab) -> None:
    from .cohort_report import export_cohort_report

    export_cohort_report(window, tab.real())


def attach(window) -> CohortTab:
    """Add the Cohort tab beside the patient list and the worklist of a MainWindow, and File → Export cohort
    report…. While the tab is shown it takes most of the window's width (the split is put back after)."""
    tab = CohortTab(window, window.ui.left_tabs)
    window.ui.left_tabs.addTab(tab, "Cohort")
    menu = window.ui.menu_file
    action = menu.addAction("Export cohort report…")
    action.setObjectName("action_export_cohort_report")
    anchor = window.ui.action_export_report_deidentified
    actions = menu.actions()
    if anchor in actions and actions.index(anchor) + 1 < len(actions):
        menu.removeAction(action)
        menu.insertAction(actions[actions.index(anchor) + 1], action)
    action.triggered.connect(lambda checked=False: export(window, tab))
    window.action_export_cohort_report = action
    saved: list = []

    def tab_changed(_index: int) -> None:
        splitter = window.ui.splitter
        if window.ui.left_tabs.currentWidget() is tab:
            if not saved:
                saved.append(splitter.sizes())
            total = sum(splitter.sizes())
            splitter.setSizes([max(total - 260, total * 3 // 4), min(260, total // 4)])
        elif saved:
            splitter.setSizes(saved.pop())

    window.ui.left_tabs.currentChanged.connect(tab_changed)
    return tab


def leave(window, tab: CohortTab) -> None:
    """Opening a patient from the cohort: show the patient list again, so the patient has the room."""
    if window.ui.left_tabs.currentWidget() is tab:
        window.ui.left_tabs.setCurrentWidget(window.ui.patient_pane)
