"""The committed forms are exactly what pyside6-uic makes of ui/*.ui."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("build_forms", ROOT / "scripts" / "build_forms.py")
build_forms = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build_forms)


def test_every_form_is_compiled_and_current(tmp_path):
    fresh = {p.name: p.read_text(encoding="utf-8") for p in build_forms.build(tmp_path)}
    committed = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "tohtrack" / "gui" / "forms").glob("ui_*.py")}
    assert set(fresh) == set(committed), "run python scripts/build_forms.py"
    for name, text in fresh.items():
        assert committed[name] == text, f"{name} is stale or edited by hand: run python scripts/build_forms.py"


def test_the_forms_import_only_the_qt_classes_they_use():
    """pyside6-uic imports some forty Qt classes into every form; each one imported is made, with its enums, at
    start-up. The build keeps only the names the form uses (and the form still runs: the other tests build them)."""
    import ast

    for path in sorted((ROOT / "tohtrack" / "gui" / "forms").glob("ui_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        imported = {alias.asname or alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
                    for alias in node.names}
        assert imported <= used, f"{path.name} imports {sorted(imported - used)} without using them"
        assert "QGradient" not in imported and "QPainter" not in imported


def test_prune_imports_keeps_what_is_used_and_drops_empty_statements():
    source = ("from PySide6.QtCore import (QCoreApplication, QDate,\n    QSize, Qt)\n"
              "from PySide6.QtGui import (QBrush, QColor)\n"
              "from PySide6.QtWidgets import (QLabel,\n    QWidget)\n\n"
              "class Ui_X(object):\n    def setupUi(self, X):\n        self.label = QLabel(X)\n"
              "        self.label.setAlignment(Qt.AlignmentFlag.AlignLeft)\n"
              "        X.setWindowTitle(QCoreApplication.translate('X', 'x', None))\n")
    pruned = build_forms.prune_imports(source)
    assert pruned.splitlines()[:2] == ["from PySide6.QtCore import (QCoreApplication, Qt)",
                                       "from PySide6.QtWidgets import (QLabel)"]
    assert "QBrush" not in pruned and "QWidget" not in pruned and "QDate" not in pruned
    compile(pruned, "ui_x.py", "exec")
