"""tohtrack --screenshot: the main window as a user sees it, saved as PNG."""

from PySide6.QtGui import QImage

from tohtrack.__main__ import main


def test_screenshot_of_a_patient(tmp_path, db_path, vignettes_path, capsys):
    assert main(["import", str(vignettes_path)]) == 0
    out = tmp_path / "shot.png"
    code = main(["--screenshot", str(out), "--patient", "EX-02", "--as-of", "2026-03-01"])
    assert code == 0, capsys.readouterr().err
    image = QImage(str(out))
    assert (image.width(), image.height()) == (1280, 800)
    colours = {image.pixel(x, y) for x in range(0, 1280, 37) for y in range(0, 800, 23)}
    assert len(colours) > 10  # a drawn window, not a blank canvas


def test_screenshot_of_an_unknown_patient_exits_2(tmp_path, db_path, capsys):
    code = main(["--screenshot", str(tmp_path / "x.png"), "--patient", "NOPE"])
    assert code == 2 and "NOPE" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
