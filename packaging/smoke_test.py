"""Smoke-test a built TOHtrack bundle: the frozen app does what the installed one does.

    python packaging/smoke_test.py [dist/TOHtrack] [--compare-with .venv/bin/tohtrack] [--runs 3]

Runs the frozen executable offscreen in a scratch folder (its own HOME, no TOHTRACK_DB), with the example data
kept in tests/data: --version, import, check, flags --json against tests/data/expected-flags.json, a screenshot
(1280x800, not blank), a report and a de-identified report (read back with pdftotext), demo, worklist and export,
and the desktop app left running for a few seconds. It also checks the folder: under the size limit, none of the
Qt modules the app leaves out, and (on Linux) every library's dependencies found. With --compare-with it times
the frozen and the installed `--screenshot` (median of --runs). Uses only the standard library; prints one line
per check and closes with 'smoke: N passed, N failed'. Exit code 0 when everything passed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = ROOT / "tests" / "data"
AS_OF = "2026-03-01"
MRN, FAMILY_NAME = "EX-02", "WEBER"  # a patient of tests/data/vignettes.json
LEFT_OUT = ("QtQml", "QtQuick", "QtWebEngine", "Qt3D", "QtMultimedia", "QtCharts", "QtDataVisualization",
            "QtGraphs", "QtLocation", "QtBluetooth", "QtNetwork", "QtDesigner", "QtTest")


# Libraries that PyInstaller never bundles because the graphics stack of the desktop brings them (Wayland, GL,
# libxcb itself): a build or CI machine without a display may lack them.
DESKTOP_LIBRARIES = ("libwayland-", "libEGL", "libGL", "libOpenGL", "libxcb.so", "libxcb-dri", "libdrm")


class Failed(Exception):
    """A check that did not pass; the message says what was seen."""


def source_version() -> str:
    text = (ROOT / "tohtrack" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__\s*=\s*["\']([^"\']+)["\']', text, re.MULTILINE).group(1)


def executable(bundle: Path) -> Path:
    for candidate in (bundle / "tohtrack.exe", bundle / "tohtrack", bundle / "Contents" / "MacOS" / "tohtrack"):
        if candidate.is_file():
            return candidate
    raise SystemExit(f"smoke_test: no tohtrack executable in {bundle} (build it: python packaging/build.py)")


def folder_size(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def largest_parts(folder: Path, count: int = 12) -> list[tuple[int, str]]:
    """The biggest files, and the folders that add up to more than 2 MB, largest first."""
    sizes: dict[str, int] = {}
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            size = path.stat().st_size
            relative = path.relative_to(folder)
            sizes[relative.as_posix()] = size
            for parent in list(relative.parents)[:-1]:
                key = parent.as_posix() + "/"
                sizes[key] = sizes.get(key, 0) + size
    parts = sorted(((size, name) for name, size in sizes.items() if size > 2_000_000 or not name.endswith("/")),
                   reverse=True)
    return parts[:count]


# -- PNG and PDF, read with the standard library ---------------------------------------------------------------


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of raw pixel bytes) of an 8-bit RGB or RGBA PNG."""
    data = path.read_bytes()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise Failed(f"{path.name} is not a PNG file")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise Failed(f"{path.name}: an 8-bit RGB(A) non-interlaced PNG was expected (depth {depth}, type {colour})")
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * bpp, [], bytes(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def pdf_text(path: Path) -> str:
    data = path.read_bytes()
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-1024:]:
        raise Failed(f"{path.name} is not a complete PDF file")
    pdftotext = shutil.which("pdftotext")
    if not pdftotext:
        raise Failed("pdftotext is not installed (Debian/Ubuntu: apt-get install poppler-utils)")
    result = subprocess.run([pdftotext, "-layout", str(path), "-"], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise Failed(f"pdftotext could not read {path.name}: {result.stderr.strip()}")
    return result.stdout


# -- the checks -----------------------------------------------------------------------------------------------


class Smoke:
    def __init__(self, bundle: Path, scratch: Path, max_mb: float):
        self.bundle, self.exe, self.scratch, self.max_mb = bundle, executable(bundle), scratch, max_mb
        self.db = scratch / "clinic.sqlite3"
        home = scratch / "home"
        home.mkdir()
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("PYTHON", "TOHTRACK_", "QT_", "XDG_")) and k not in ("VIRTUAL_ENV",)}
        self.env.update(HOME=str(home), USERPROFILE=str(home), APPDATA=str(home / "AppData"),
                        LOCALAPPDATA=str(home / "AppData" / "Local"), XDG_CONFIG_HOME=str(home / ".config"),
                        XDG_DATA_HOME=str(home / ".local" / "share"), XDG_CACHE_HOME=str(home / ".cache"),
                        XDG_RUNTIME_DIR=str(scratch / "runtime"), QT_QPA_PLATFORM="offscreen")
        (scratch / "runtime").mkdir(mode=0o700)
        self.passed, self.failed = 0, 0

    def run(self, *args: str, program: Path | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
        return subprocess.run([str(program or self.exe), *args], cwd=self.scratch, env=self.env,
                              capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=timeout)

    def ok(self, *args: str, expect: str = "") -> str:
        """Run the frozen app; it must exit 0, print no traceback and (if given) print `expect`."""
        result = self.run(*args)
        said = (result.stdout + result.stderr).strip()
        if result.returncode != 0 or "Traceback" in said:
            raise Failed(f"`tohtrack {' '.join(args)}` exited {result.returncode}: {said[-1500:]}")
        if expect and expect not in result.stdout:
            raise Failed(f"`tohtrack {' '.join(args)}` printed {result.stdout.strip()[:300]!r}, not {expect!r}")
        return result.stdout

    def check(self, name: str, function) -> None:
        started = time.monotonic()
        try:
            detail = function()
        except (Failed, subprocess.TimeoutExpired, OSError) as exc:
            self.failed += 1
            print(f"FAIL {name}: {exc}", flush=True)
        else:
            self.passed += 1
            print(f"ok   {name} ({time.monotonic() - started:.1f} s){': ' + detail if detail else ''}", flush=True)

    # The folder

    def size(self) -> str:
        total = folder_size(self.bundle)
        parts = "; ".join(f"{name} {size / 1e6:.1f}" for size, name in largest_parts(self.bundle, 8))
        if total >= self.max_mb * 1e6:
            raise Failed(f"{total / 1e6:.1f} MB, over the {self.max_mb:g} MB limit. Largest (MB): {parts}")
        return f"{total / 1e6:.1f} MB ({total / 2**20:.1f} MiB), under {self.max_mb:g} MB"

    def left_out(self) -> str:
        # Module, library and DLL names: QtQml.abi3.so / QtQml.pyd, libQt6Qml.so.6, Qt6Qml.dll, QtQml.framework
        stems = tuple(name for m in LEFT_OUT for name in (m, f"Qt6{m[2:]}", f"libQt6{m[2:]}"))
        found = sorted(p.relative_to(self.bundle).as_posix() for p in self.bundle.rglob("*")
                       if (p.name.startswith(stems) and p.suffix not in (".py", ".pyi", ".pyc"))
                       or (p.name in ("qml", "translations") and p.parent.name == "Qt"))
        if found:
            raise Failed(f"Qt parts the app does not use are in the bundle: {', '.join(found[:10])}")
        return ""

    def libraries_found(self) -> str:
        if not sys.platform.startswith("linux") or not shutil.which("ldd"):
            return "skipped (Linux only)"
        internal = self.exe.parent / "_internal"
        env = dict(self.env, LD_LIBRARY_PATH=str(internal))
        missing: dict[str, set[str]] = {}
        count = 0
        for path in internal.rglob("*.so*"):
            if path.is_symlink() or not path.is_file() or path.read_bytes()[:4] != b"\x7fELF":
                continue
            count += 1
            result = subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env)
            for line in result.stdout.splitlines():
                if "not found" in line and not line.split()[0].startswith(DESKTOP_LIBRARIES):
                    missing.setdefault(line.split()[0], set()).add(path.relative_to(internal).as_posix())
        if missing:
            raise Failed("; ".join(f"{lib} (needed by {', '.join(sorted(users)[:3])})"
                                   for lib, users in sorted(missing.items())))
        return f"{count} libraries, all dependencies found"

    # The app

    def version(self) -> str:
        want = f"TOHtrack {source_version()}"
        got = self.ok("--version").strip()
        if got != want:
            raise Failed(f"--version printed {got!r}, the source says {want!r}")
        return got

    def import_examples(self) -> str:
        out = self.ok("--db", str(self.db), "import", str(DATA / "vignettes.json"), expect="imported 6 patients")
        return out.strip()

    def integrity(self) -> str:
        return self.ok("--db", str(self.db), "check", expect="ok:").strip()

    def flags(self) -> str:
        got = json.loads(self.ok("--db", str(self.db), "flags", "--json", "--as-of", AS_OF))
        expected = json.loads((DATA / "expected-flags.json").read_text(encoding="utf-8"))
        if got["as_of"] != expected["as_of"]:
            raise Failed(f"as_of {got['as_of']}, expected {expected['as_of']}")
        if [p["mrn"] for p in got["patients"]] != [p["mrn"] for p in expected["patients"]]:
            raise Failed(f"patients {[p['mrn'] for p in got['patients']]}")
        for mine, want in zip(got["patients"], expected["patients"]):
            flags = [{k: v for k, v in f.items() if k not in ("message", "severity")} for f in mine["flags"]]
            if mine["pattern"] != want["pattern"] or flags != want["flags"]:
                raise Failed(f"{mine['mrn']}: {mine['pattern']} {flags} differs from tests/data/expected-flags.json")
        return f"{len(got['patients'])} patients as expected"

    def screenshot(self) -> str:
        out = self.scratch / "screenshot.png"
        self.ok("--db", str(self.db), "--screenshot", str(out), "--patient", MRN, "--as-of", AS_OF)
        width, height, rows = png_pixels(out)
        if (width, height) != (1280, 800):
            raise Failed(f"{width}x{height}, expected 1280x800")
        bpp = len(rows[0]) // width
        colours = {rows[y][x * bpp:x * bpp + 3] for y in range(0, height, 23) for x in range(0, width, 37)}
        if len(colours) <= 10:
            raise Failed(f"only {len(colours)} colours: a blank window")
        return f"{width}x{height}, {len(colours)} colours sampled"

    def report(self) -> str:
        out = self.scratch / "report.pdf"
        self.ok("--db", str(self.db), "report", MRN, "-o", str(out), "--as-of", AS_OF, expect="written")
        text = pdf_text(out)
        for word in (MRN, "TOHtrack", FAMILY_NAME):
            if word.lower() not in text.lower():
                raise Failed(f"the report's text has no {word!r}")
        return f"{out.stat().st_size // 1024} KB, names {MRN}"

    def deidentified_report(self) -> str:
        out = self.scratch / "deidentified.pdf"
        self.ok("--db", str(self.db), "report", MRN, "-o", str(out), "--as-of", AS_OF, "--deidentify")
        text = pdf_text(out)
        if "TOHtrack" not in text:
            raise Failed("the de-identified report's text has no 'TOHtrack'")
        for word in (MRN, FAMILY_NAME):
            if word.lower() in text.lower():
                raise Failed(f"the de-identified report shows {word!r}")
        return "no MRN, no name"

    def other_commands(self) -> str:
        demo_db = str(self.scratch / "demo.sqlite3")
        self.ok("--db", demo_db, "demo", "--patients", "60", expect="added 60 demo patients")
        self.ok("--db", demo_db, "worklist", "--as-of", AS_OF, expect="Review worklist")
        exported = self.scratch / "export.json"
        self.ok("--db", str(self.db), "export", "-o", str(exported))
        document = json.loads(exported.read_text(encoding="utf-8"))
        if document.get("format") != "tohtrack/1" or len(document["patients"]) != 6:
            raise Failed(f"export wrote {document.get('format')!r} with {len(document.get('patients', []))} patients")
        self.ok("--db", str(self.db), "audit", "--patient", MRN, expect="create")
        return "demo, worklist, export, audit"

    def desktop_app(self) -> str:
        """The window opens and the app keeps running (offscreen) until it is closed."""
        log = self.scratch / "gui.log"
        with open(log, "w", encoding="utf-8") as sink:
            process = subprocess.Popen([str(self.exe), "--db", str(self.db)], cwd=self.scratch, env=self.env,
                                       stdout=sink, stderr=subprocess.STDOUT)
            try:
                process.wait(timeout=6)
            except subprocess.TimeoutExpired:
                process.terminate()
                process.wait(timeout=20)
            else:
                said = log.read_text(encoding="utf-8", errors="replace").strip()
                raise Failed(f"the app exited by itself (code {process.returncode}): {said[-1500:]}")
        said = log.read_text(encoding="utf-8", errors="replace")
        if "Traceback" in said or "unexpected error" in said:
            raise Failed(said[-1500:])
        return "still running after 6 s, then closed"

    def linux_install(self) -> str:
        """install-linux.sh puts the app, a command, the menu entry and icons under a prefix; --uninstall removes
        them and keeps the database."""
        script = self.bundle / "install-linux.sh"
        if not sys.platform.startswith("linux"):
            return "skipped (Linux only)"
        if not script.is_file():
            raise Failed(f"{script.name} is missing from the bundle")
        prefix = self.scratch / "prefix"
        app_id = "org.tohtrack.TOHtrack"
        desktop = prefix / "share" / "applications" / f"{app_id}.desktop"
        metainfo = prefix / "share" / "metainfo" / f"{app_id}.metainfo.xml"
        icons = [prefix / "share" / "icons" / "hicolor" / f"{n}x{n}" / "apps" / f"{app_id}.png"
                 for n in (16, 24, 32, 48, 64, 128, 256, 512)]
        icons.append(prefix / "share" / "icons" / "hicolor" / "scalable" / "apps" / f"{app_id}.svg")
        database = prefix / "share" / "tohtrack" / "tohtrack.sqlite3"  # where the app keeps it if XDG_DATA_HOME=share
        database.parent.mkdir(parents=True)
        database.write_bytes(b"the clinic's data")
        for attempt in ("install", "update"):
            result = subprocess.run(["sh", str(script), "--prefix", str(prefix)], env=self.env, capture_output=True,
                                    text=True, timeout=300)
            if result.returncode != 0:
                raise Failed(f"{attempt}: exit {result.returncode}: {(result.stdout + result.stderr).strip()}")
        app = prefix / "lib" / "TOHtrack" / "tohtrack"
        missing = [p for p in [app, desktop, metainfo, *icons] if not p.is_file()]
        if missing:
            raise Failed(f"not installed: {', '.join(str(p.relative_to(prefix)) for p in missing)}")
        if f'Exec="{app}"' not in desktop.read_text(encoding="utf-8").splitlines():
            raise Failed(f"the menu entry does not run {app}")
        for tool, args in (("desktop-file-validate", [str(desktop)]),
                           ("appstreamcli", ["validate", "--no-net", str(metainfo)])):
            if shutil.which(tool):
                result = subprocess.run([tool, *args], capture_output=True, text=True, timeout=60)
                if result.returncode != 0:
                    raise Failed(f"{tool}: {(result.stdout + result.stderr).strip()}")
        version = self.run("--version", program=prefix / "bin" / "tohtrack")
        if version.returncode != 0 or version.stdout.strip() != f"TOHtrack {source_version()}":
            raise Failed(f"the installed command printed {version.stdout.strip()!r} {version.stderr.strip()!r}")
        result = subprocess.run(["sh", str(app.parent / "install-linux.sh"), "--uninstall", "--prefix", str(prefix)],
                                env=self.env, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            raise Failed(f"uninstall: exit {result.returncode}: {(result.stdout + result.stderr).strip()}")
        left = [p for p in [app.parent, prefix / "bin" / "tohtrack", desktop, metainfo, *icons]
                if p.exists() or p.is_symlink()]
        if left:
            raise Failed(f"left after uninstall: {', '.join(str(p.relative_to(prefix)) for p in left)}")
        if database.read_bytes() != b"the clinic's data":
            raise Failed("uninstall touched the database")
        return "install, update, menu entry and metainfo valid, uninstall keeps the database"

    # Timing

    def timing(self, installed: Path, runs: int) -> None:
        def median(program: Path) -> float:
            times = []
            for i in range(runs):
                started = time.perf_counter()
                result = self.run("--db", str(self.db), "--screenshot", str(self.scratch / f"t{i}.png"),
                                  "--patient", MRN, "--as-of", AS_OF, program=program)
                times.append(time.perf_counter() - started)
                if result.returncode != 0:
                    raise SystemExit(f"smoke_test: {program} --screenshot failed: {result.stderr.strip()}")
            return statistics.median(times)

        frozen, pip = median(self.exe), median(installed)
        print(f"time --screenshot, median of {runs}: frozen {frozen:.2f} s, installed {pip:.2f} s "
              f"({frozen / pip:.2f}x)", flush=True)
        version = [median_of(lambda: self.run("--version", program=p), runs) for p in (self.exe, installed)]
        print(f"time --version, median of {runs}: frozen {version[0]:.2f} s, installed {version[1]:.2f} s", flush=True)


def median_of(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="smoke_test.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("bundle", nargs="?", type=Path, default=ROOT / "dist" / "TOHtrack",
                        help="the built folder (default dist/TOHtrack; on macOS also dist/TOHtrack.app)")
    parser.add_argument("--max-mb", type=float, default=150, help="the size limit of the folder (default 150)")
    parser.add_argument("--compare-with", type=Path, metavar="TOHTRACK",
                        help="an installed tohtrack command to time against (e.g. .venv/bin/tohtrack)")
    parser.add_argument("--runs", type=int, default=3, help="runs per timing (default 3)")
    args = parser.parse_args(argv)

    bundle = args.bundle.resolve()
    with tempfile.TemporaryDirectory(prefix="tohtrack-smoke-") as scratch:
        smoke = Smoke(bundle, Path(scratch), args.max_mb)
        print(f"== smoke test of {smoke.exe}", flush=True)
        for name, function in (("size", smoke.size), ("Qt parts left out", smoke.left_out),
                               ("libraries found", smoke.libraries_found), ("--version", smoke.version),
                               ("import", smoke.import_examples), ("check", smoke.integrity),
                               ("flags --json", smoke.flags), ("--screenshot", smoke.screenshot),
                               ("report", smoke.report), ("report --deidentify", smoke.deidentified_report),
                               ("demo, worklist, export, audit", smoke.other_commands),
                               ("desktop app", smoke.desktop_app), ("install-linux.sh", smoke.linux_install)):
            smoke.check(name, function)
        if args.compare_with and smoke.failed == 0:
            smoke.timing(args.compare_with.resolve(), args.runs)
        print(f"smoke: {smoke.passed} passed, {smoke.failed} failed", flush=True)
    return 1 if smoke.failed else 0


if __name__ == "__main__":
    sys.exit(main())
