"""The flags banner's list (promoted in ui/patient_view.ui): it says when the width its flags wrap to changes.

A QListWidget's viewport is made by Qt; the first time Python is handed it (`viewport()`), PySide6 works out
its class by making every QWidget class it has, with their enums (about 10 ms, before the window's first
paint). The list's own `resizeEvent` receives the viewport's resizes, with the viewport already at its new size.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QListWidget


class FlagsList(QListWidget):
    """A list whose `width_changed` fires when its viewport (where the flags wrap) takes another width."""

    width_changed = Signal()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        # Before the list's own handling, as an event filter on the viewport would (the scroll bar's range is then
        # set for the banner's new height).
        if event.oldSize().width() != event.size().width():
            self.width_changed.emit()
        super().resizeEvent(event)
