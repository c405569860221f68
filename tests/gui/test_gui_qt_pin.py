"""The pinned PySide6 keeps Python's reference counts: PySide6 6.12.0 on CPython 3.11 did not.

6.12.0 dropped a reference to None on every void Qt call and to True on every emit(), so a GUI session
aborted within minutes ("none_dealloc"). This guards the pin in pyproject.toml against that release.
"""

import sys

from PySide6.QtCore import QObject, Signal


class Probe(QObject):
    fired = Signal(bool)


def test_void_calls_and_emits_leave_none_and_true_alone():
    probe = Probe()
    probe.fired.connect(lambda value: None)
    none, true = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(2000):
        probe.setObjectName("probe")
        probe.fired.emit(True)
    assert sys.getrefcount(None) >= none - 50
    assert sys.getrefcount(True) >= true - 50
