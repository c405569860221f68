"""The audit seal on reports (tohtrack.db.Store.audit_seal): printed on every page of the PDF, read back with
pdftotext and held against the database with `tohtrack check --seal`; not on de-identified reports; the same
seal on reports written from the main window."""

import datetime as dt
import re
import shutil
import sqlite3
import subprocess

import pytest

from tohtrack import interchange
from tohtrack.__main__ import main
from tohtrack.gui import pdf
from tohtrack.gui.app import create_application

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")

AS_OF = dt.date(2026, 3, 1)
SEAL = re.compile(r"Audit seal (\d+·[0-9a-f]{12})")


def pages_of(path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout
    return text.split("\f")[:-1]


def check(db_path, *args, capsys):
    code = main(["--db", str(db_path), "check", *map(str, args)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture
def clinic(store, vignettes, qapp):
    create_application()
    interchange.import_document(store, vignettes, today=AS_OF)
    return store


def test_every_page_carries_the_seal_and_check_accepts_it(clinic, db_path, tmp_path, capsys):
    out = tmp_path / "ex02.pdf"
    _, count = pdf.write_report(clinic, "EX-02", out, AS_OF)
    pages = pages_of(out)
    assert len(pages) == count >= 2
    seals = [SEAL.findall(page) for page in pages]
    assert all(len(found) == 1 for found in seals), seals
    seal = seals[0][0]
    assert {found[0] for found in seals} == {seal} and seal == clinic.audit_seal()
    clinic.set_setting("clinic_name", "Later")  # later work does not change what the printed report says
    code, stdout, err = check(db_path, "--seal", seal, capsys=capsys)
    assert code == 0 and f"seal {seal}: matches" in stdout, err
    count_, prefix = seal.split("·")
    wrong = f"{count_}·{'f' if prefix[0] != 'f' else 'e'}{prefix[1:]}"
    code, stdout, err = check(db_path, "--seal", wrong, capsys=capsys)
    assert code == 1 and "does not match" in err


def test_a_report_held_against_a_changed_trail_fails(clinic, db_path, tmp_path, capsys):
    out = tmp_path / "ex01.pdf"
    pdf.write_report(clinic, "EX-01", out, AS_OF)
    seal = SEAL.findall(pages_of(out)[0])[0]
    clinic.close()
    conn = sqlite3.connect(db_path, isolation_level=None)  # the last entry's hash replaced behind the app's back
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET hash = ? WHERE id = (SELECT max(id) FROM audit)", ("ab" * 32,))
    conn.close()
    code, stdout, err = check(db_path, "--seal", seal, capsys=capsys)
    assert code == 1 and "does not match" in err


def test_a_deidentified_report_carries_the_seal_too(clinic, tmp_path):
    out = tmp_path / "teaching.pdf"
    pdf.write_report(clinic, "EX-02", out, AS_OF, deidentify=True)
    pages = pages_of(out)
    assert all(f"Audit seal {clinic.audit_seal()}" in page for page in pages)


def test_reports_from_the_main_window_carry_the_seal(open_window, clinic, tmp_path):
    from PySide6.QtCore import QSettings

    window = open_window(clinic, QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    window.open_patient(clinic.patient_id("EX-02"))
    built = window._report()
    assert built.seal == clinic.audit_seal()
    pdf.write_pdf(built, tmp_path / "window.pdf")
    assert f"Audit seal {clinic.audit_seal()}" in pages_of(tmp_path / "window.pdf")[0]
    assert window._report(deidentify=True).seal == clinic.audit_seal()
