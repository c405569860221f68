"""Runtime hook of the frozen app, in place of PyInstaller's pyi_rth_pyside6: the same settings, made lazily.

PyInstaller's hook imports PySide6.QtCore when the app starts, to give Qt an embedded qt.conf naming where the
bundle keeps it. That loads Qt (and ICU) for every command, even those that never touch Qt: `tohtrack --version`
took 0.27 s frozen against 0.09 s installed (0.07 s with this hook). This hook sets the same environment at start,
and registers the qt.conf right after the app's own first import of QtCore, before anything asks Qt for a path.
packaging/tohtrack.spec puts it in the place of PyInstaller's (and stops the build if that hook changes name, so a
PyInstaller upgrade gets this file reviewed).
"""


def _tohtrack_rthook():
    import importlib.abc
    import importlib.util
    import os
    import sys

    from _pyi_rth_utils import is_macos_app_bundle, prepend_path_to_environment_variable
    from _pyi_rth_utils import qt as qt_rth_utils

    qt_rth_utils.ensure_single_qt_bindings_package("PySide6")
    qt_path = os.path.join(sys._MEIPASS, "PySide6") if sys.platform.startswith("win") else \
        os.path.join(sys._MEIPASS, "PySide6", "Qt")
    os.environ["QT_PLUGIN_PATH"] = os.path.join(qt_path, "plugins")
    os.environ["QML2_IMPORT_PATH"] = os.path.join(qt_path, "qml")
    if sys.platform.startswith("win"):
        prepend_path_to_environment_variable(sys._MEIPASS, "PATH")
    if sys.platform == "darwin" and not is_macos_app_bundle:
        prepend_path_to_environment_variable(sys._MEIPASS, "DYLD_LIBRARY_PATH")

    class AfterQtCore(importlib.abc.MetaPathFinder):
        """Finds nothing itself: when PySide6.QtCore is first imported, wraps its loader to add the qt.conf."""

        def find_spec(self, name, path=None, target=None):
            if name != "PySide6.QtCore":
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(name)
            if spec is None or spec.loader is None:
                return spec
            exec_module = spec.loader.exec_module

            def exec_then_configure(module):
                exec_module(module)
                qt_rth_utils.create_embedded_qt_conf("PySide6", qt_path)

            spec.loader.exec_module = exec_then_configure
            return spec

    sys.meta_path.insert(0, AfterQtCore())


_tohtrack_rthook()
del _tohtrack_rthook
