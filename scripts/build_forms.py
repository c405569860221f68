"""Compile the Qt Designer forms in ui/ into tohtrack/gui/forms/ui_<name>.py with pyside6-uic.

Run after editing a form: `python scripts/build_forms.py`. The generated modules are committed;
tests/gui/test_forms.py regenerates them and fails if they differ from ui/.

pyside6-uic imports some forty Qt classes into every form whether it uses them or not; each class a module
imports is made (with its enums) when imported, so the forms import only the names they use: QGradient, QImage,
QPainter, QPalette and the like cost the main window about 6 ms before its first paint.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UI = ROOT / "ui"
FORMS = ROOT / "tohtrack" / "gui" / "forms"
HEADER = "# Generated from ui/{name} by scripts/build_forms.py (pyside6-uic): do not edit by hand.\n"


def uic() -> list[str]:
    """The pyside6-uic command of this environment."""
    exe = Path(sys.executable).with_name("pyside6-uic")
    return [str(exe)] if exe.exists() else [shutil.which("pyside6-uic") or "pyside6-uic"]


def compile_form(ui_file: Path) -> str:
    """The Python source pyside6-uic makes of one form, with a stable header."""
    result = subprocess.run([*uic(), "--no-autoconnection", str(ui_file)], capture_output=True, text=True,
                            check=True)
    lines = [line for line in result.stdout.splitlines(keepends=True)
             if not line.startswith("## Created by: Qt User Interface Compiler version")]
    return HEADER.format(name=ui_file.name) + prune_imports("".join(lines))


def prune_imports(source: str) -> str:
    """The form's source with each `from PySide6... import (...)` cut to the names the form uses (a statement
    left with none dropped)."""
    tree = ast.parse(source)
    imports = [node for node in tree.body if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
        "PySide6")]
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    lines = source.splitlines(keepends=True)
    for node in reversed(imports):  # from the end: the line numbers of those before stay right
        names = [alias.name for alias in node.names if (alias.asname or alias.name) in used]
        text = f"from {node.module} import ({', '.join(names)})\n" if names else ""
        lines[node.lineno - 1:node.end_lineno] = [text]
    return "".join(lines)


def build(target: Path = FORMS) -> list[Path]:
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for ui_file in sorted(UI.glob("*.ui")):
        out = target / f"ui_{ui_file.stem}.py"
        out.write_text(compile_form(ui_file), encoding="utf-8")
        written.append(out)
    init = target / "__init__.py"
    if not init.exists():
        init.write_text('"""Forms generated from ui/*.ui by scripts/build_forms.py: never edited by hand."""\n')
    return written


if __name__ == "__main__":
    for path in build():
        print(path.relative_to(ROOT))
