"""Files the app writes: never the open database, readable by the user only (screenshots too), and
`report -o -` to standard output."""

import os
import shutil
import stat
import subprocess
import sys

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox

from tohtrack import db as dbmod, interchange
from tohtrack.__main__ import main
from tohtrack.db import Store


def _fingerprint(path):
    with Store(path, readonly=True) as store:
        return store.count_patients(), store.conn.execute("SELECT count(*) FROM audit").fetchone()[0], store.check()


def test_a_screenshot_is_readable_by_its_owner_only_and_complete(tmp_path, db_path, vignettes_path, capsys):
    assert main(["import", str(vignettes_path)]) == 0
    out = tmp_path / "shot.png"
    out.write_bytes(b"an older picture")
    out.chmod(0o644)
    previous = os.umask(0o022)
    try:
        assert main(["--screenshot", str(out), "--patient", "EX-02"]) == 0, capsys.readouterr().err
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert QImage(str(out)).width() == 1280
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".") or "partial" in p.name]


def test_a_screenshot_over_the_database_is_refused_before_the_window_is_built(db_path, vignettes_path, capsys):
    assert main(["import", str(vignettes_path)]) == 0
    capsys.readouterr()
    before = _fingerprint(db_path)
    for target in (db_path, db_path.with_name(db_path.name + "-wal"), db_path.parent / "." / db_path.name):
        assert main(["--screenshot", str(target)]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"tohtrack: {target}: is the open database") and "nothing was written" in err
    assert _fingerprint(db_path) == before


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")
def test_report_to_standard_output(tmp_path, db_path, vignettes_path):
    assert main(["import", str(vignettes_path)]) == 0
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-m", "tohtrack", "--db", str(db_path), "report", "EX-02", "-o", "-"],
                            capture_output=True, cwd=tmp_path, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(b"%PDF") and b"%%EOF" in result.stdout[-64:]
    assert b"report of EX-02 written to standard output" in result.stderr
    assert not (tmp_path / "-").exists()
    (tmp_path / "r.pdf").write_bytes(result.stdout)
    text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True).stdout
    assert "WEBER, Jonas" in text and "EX-02" in text


# -- the main window's File menu ---------------------------------------------------------------


@pytest.fixture
def window(open_window, store, vignettes, tmp_path, monkeypatch):
    interchange.import_document(store, vignettes)
    store.rotate_backups()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    messages = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: messages.append((title, text)))
    w = open_window(store, settings)
    w.messages = messages
    return w


@pytest.mark.parametrize("action, title", [("action_export", "Export failed"), ("action_backup", "Backup failed"),
                                           ("action_export_report", "Export failed")])
def test_the_file_menu_never_writes_over_the_open_database(window, monkeypatch, action, title):
    path = window.store.path
    window.open_patient(window.store.patient_id("EX-02"))
    before = _fingerprint(path)
    hard, link = path.with_name("copy.pdf"), path.with_name("link.pdf")
    os.link(path, hard)
    link.symlink_to(path)
    targets = [hard, link]  # the report dialog adds .pdf to a name without it: these are the database too
    if action != "action_export_report":
        targets += [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    if action != "action_backup":
        targets.append(next(dbmod.backup_dir(path).glob("*.sqlite3")).rename(dbmod.backup_dir(path) / "auto.pdf"))
    for target in targets:
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, t=target, **k: (str(t), ""))
        getattr(window.ui, action).trigger()
        assert window.messages and window.messages[-1][0] == title, window.messages
        text = window.messages[-1][1]
        assert str(target) in text and ("open database" in text or "backups folder" in text), text
    assert _fingerprint(path) == before
    assert window.store.count_patients() == 6  # the window's connection still reads the same database


def test_the_file_menu_export_is_the_streamed_export(window, tmp_path, monkeypatch):
    target = tmp_path / "all.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.ui.action_export.trigger()
    assert target.read_text(encoding="utf-8") == interchange.dumps(interchange.document(window.store.patients()))
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
