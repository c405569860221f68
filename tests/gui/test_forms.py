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
