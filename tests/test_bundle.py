"""Packaging for clinic workstations (packaging/): the files the build and the Linux install use, and, marked slow,
a build of the frozen app with its smoke test.

The slow test builds only where PyInstaller is installed (`pip install -e '.[build]'`), or tests an existing build
named by $TOHTRACK_BUNDLE. CI builds once, in .ci/run after the slow tests (its venv has only the test extra then,
so this test skips there), and runs the same smoke test on the unpacked archive.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import re
import runpy
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tohtrack import __version__

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
ICONS = ROOT / "resources" / "icons"
APP_ID = "org.tohtrack.TOHtrack"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def load(name: str):
    """A module of packaging/ (not a package), imported from its file."""
    spec = importlib.util.spec_from_file_location(f"packaging_{name}", PACKAGING / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# -- the icon ----------------------------------------------------------------------------------------------------


def test_the_svg_icon_is_a_square_svg():
    root = ET.parse(ICONS / "tohtrack.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 256 256" and root.get("width") == root.get("height")


@pytest.mark.parametrize("size", PNG_SIZES)
def test_each_png_size_is_rendered(size):
    data = (ICONS / f"tohtrack-{size}.png").read_bytes()
    assert png_size(data) == (size, size)
    assert data[25] == 6  # colour type RGBA: transparent outside the rounded tile


def test_the_png_reader_of_the_smoke_test_decodes_the_icon():
    smoke = load("smoke_test")
    width, height, rows = smoke.png_pixels(ICONS / "tohtrack-64.png")
    assert (width, height) == (64, 64)
    assert rows[0][3] == 0  # the corner, outside the rounded tile, is transparent
    middle = rows[32][32 * 4:32 * 4 + 4]
    assert middle[3] == 255 and middle[:3] != rows[60][4 * 4:4 * 4 + 3]  # opaque, and not one flat colour


def test_ico_and_icns_hold_the_rendered_sizes():
    ico = (PACKAGING / "tohtrack.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1) and count == 7
    sizes = []
    for i in range(count):
        width, _, _, _, _, _, length, offset = struct.unpack("<BBBBHHII", ico[6 + 16 * i:22 + 16 * i])
        assert png_size(ico[offset:offset + length]) == (width or 256, width or 256)
        sizes.append(width or 256)
    assert sizes == [16, 24, 32, 48, 64, 128, 256]

    icns = (PACKAGING / "tohtrack.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    found, pos = {}, 8
    while pos < len(icns):
        kind, length = icns[pos:pos + 4].decode(), struct.unpack(">I", icns[pos + 4:pos + 8])[0]
        found[kind] = png_size(icns[pos + 8:pos + length])[0]
        pos += length
    assert found == {"icp4": 16, "icp5": 32, "icp6": 64, "ic07": 128, "ic08": 256, "ic09": 512, "ic10": 1024,
                     "ic11": 32, "ic12": 64, "ic13": 256, "ic14": 512}


# -- desktop integration -----------------------------------------------------------------------------------------


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str
    parser.read(PACKAGING / f"{APP_ID}.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def test_the_desktop_entry_runs_tohtrack_with_its_icon():
    entry = desktop_entry()
    assert entry["Type"] == "Application" and entry["Name"] == "TOHtrack"
    assert entry["Exec"] == "tohtrack" and entry["TryExec"] == "tohtrack"  # install-linux.sh makes them absolute
    assert entry["Icon"] == APP_ID and entry["Terminal"] == "false"
    assert "MedicalSoftware" in entry["Categories"].split(";")
    assert entry["StartupWMClass"] == "TOHtrack"  # the WM_CLASS Qt gives the window: its application name


def test_the_desktop_entry_is_valid_for_desktop_file_validate():
    tool = shutil.which("desktop-file-validate")
    if not tool:
        pytest.skip("desktop-file-validate is not installed (Debian: desktop-file-utils)")
    result = subprocess.run([tool, str(PACKAGING / f"{APP_ID}.desktop")], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def metainfo() -> ET.Element:
    return ET.parse(PACKAGING / f"{APP_ID}.metainfo.xml").getroot()


def test_the_metainfo_names_the_app_its_desktop_entry_and_this_version():
    root = metainfo()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == f"{APP_ID}.desktop"
    assert root.findtext("provides/binary") == "tohtrack"
    newest = root.find("releases/release")
    assert newest.get("version") == __version__, "add a <release> for the new version to the metainfo"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", newest.get("date"))


def test_the_metainfo_is_valid_for_appstreamcli():
    tool = shutil.which("appstreamcli")
    if not tool:
        pytest.skip("appstreamcli is not installed (Debian: appstream)")
    result = subprocess.run([tool, "validate", "--no-net", str(PACKAGING / f"{APP_ID}.metainfo.xml")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_install_script_is_posix_sh():
    if not shutil.which("sh"):
        pytest.skip("no sh")
    result = subprocess.run(["sh", "-n", str(PACKAGING / "install-linux.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# -- the build script and the frozen app's own code --------------------------------------------------------------


def test_the_build_names_the_archive_by_the_package_version():
    build = load("build")
    assert build.version() == __version__
    name = build.archive_name(__version__)
    assert name.startswith(f"TOHtrack-{__version__}-") and name.count("-") == 3
    assert name.split("-")[2] == {"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux")


def test_the_entry_script_is_the_console_script(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["tohtrack", "--version"])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(PACKAGING / "tohtrack_entry.py"), run_name="__main__")
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"TOHtrack {__version__}"


def test_the_qtopengl_stand_in_refuses_opengl_with_a_reason(monkeypatch):
    monkeypatch.delitem(sys.modules, "PySide6.QtOpenGL", raising=False)
    runpy.run_path(str(PACKAGING / "rthook_qtopengl.py"))
    stand_in = importlib.import_module("PySide6.QtOpenGL")  # what pyqtgraph does when its curves load
    monkeypatch.delitem(sys.modules, "PySide6.QtOpenGL")
    with pytest.raises(ImportError, match="OpenGL drawing is not part of this TOHtrack build"):
        stand_in.QOpenGLBuffer  # noqa: B018


# -- the frozen app ----------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_frozen_app_passes_the_smoke_test(tmp_path):
    bundle = os.environ.get("TOHTRACK_BUNDLE")
    if not bundle:
        if importlib.util.find_spec("PyInstaller") is None:
            pytest.skip("PyInstaller is not installed here (pip install -e '.[build]'); .ci/run builds the bundle")
        build = subprocess.run([sys.executable, str(PACKAGING / "build.py"), "--dist", str(tmp_path / "dist"),
                                "--work", str(tmp_path / "build"), "--no-archive"],
                               capture_output=True, text=True, timeout=1200)
        assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
        bundle = tmp_path / "dist" / "TOHtrack"
    smoke = subprocess.run([sys.executable, str(PACKAGING / "smoke_test.py"), str(bundle)],
                           capture_output=True, text=True, timeout=900)
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert smoke.stdout.strip().splitlines()[-1].endswith(" 0 failed")
