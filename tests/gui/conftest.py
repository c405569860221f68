"""Fixtures of the GUI tests."""

import datetime as dt

import pytest

from tohtrack.gui.app import MainWindow, create_application

#: The as-of date of the example patients' expected flags.
AS_OF = dt.date(2026, 3, 1)


@pytest.fixture
def open_window(qtbot):
    """Open a main window over a store (as of AS_OF, 1280×800, shown and exposed); closed after the test,
    before the store fixture closes the database."""
    opened = []

    def open_(store, settings, as_of=AS_OF):
        create_application()
        window = MainWindow(store, settings, as_of=as_of, first_run_prompt=False)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        opened.append(window)
        return window

    yield open_
    for window in opened:
        window.close()
