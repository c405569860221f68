"""Runtime hook of the frozen app: a stand-in for PySide6.QtOpenGL, which the bundle leaves out (9 MB).

pyqtgraph imports QtOpenGL when its plot curves load, but uses it only to draw with OpenGL, which TOHtrack never
turns on (pyqtgraph's useOpenGL / enableExperimental options). Should anything reach for an OpenGL class anyway,
it gets an ImportError that says why, instead of a crash.
"""

import sys
import types


class _LeftOut(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise ImportError(f"PySide6.QtOpenGL.{name}: OpenGL drawing is not part of this TOHtrack build")


if "PySide6.QtOpenGL" not in sys.modules:
    sys.modules["PySide6.QtOpenGL"] = _LeftOut("PySide6.QtOpenGL")
