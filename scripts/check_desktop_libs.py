"""Check that the README's list of system libraries is all a desktop session needs (run by .ci/run).

The README names the Debian packages a workstation installs before TOHtrack's desktop app can open a window.
This script holds that list against what Qt's own libraries link to (ldd of the platform plugins and the Qt
modules the app loads): every shared library they need must come from a package on the list, from a package
the list pulls in, or from a package every Debian system has (priority required or important). It then
starts the app for real on Qt's X11 (xcb) platform under Xvfb and takes a screenshot, so a missing plugin
dependency fails here rather than on a clinic's workstation.

    python scripts/check_desktop_libs.py [--no-xvfb]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = re.compile(r"<!-- desktop-libraries -->(.*?)<!-- /desktop-libraries -->", re.S)
#: The Qt modules and plugins the app loads (tohtrack/gui and packaging/tohtrack.spec).
QT_LIBS = ("QtCore", "QtGui", "QtWidgets", "QtPrintSupport", "QtSvg", "QtOpenGL", "QtOpenGLWidgets", "QtDBus",
           "QtXcbQpa")
PLUGINS = ("platforms/libqxcb.so", "platforms/libqoffscreen.so", "xcbglintegrations/libqxcb-glx-integration.so",
           "xcbglintegrations/libqxcb-egl-integration.so")


def readme_packages() -> list[str]:
    """The packages between the README's desktop-libraries markers (the words after `apt-get install`)."""
    found = MARK.search((ROOT / "README.md").read_text(encoding="utf-8"))
    if not found:
        sys.exit("README.md has no <!-- desktop-libraries --> section")
    words = re.sub(r"[`\\]", " ", found.group(1)).split()
    try:
        start = words.index("install") + 1
    except ValueError:
        sys.exit("README.md's desktop-libraries section has no `apt-get install` line")
    return [w for w in words[start:] if re.fullmatch(r"[a-z0-9][a-z0-9.+-]+", w)]


def qt_files() -> list[Path]:
    import PySide6  # the venv's Qt, the one the app runs on

    qt = Path(PySide6.__file__).parent / "Qt"
    files = [qt / "plugins" / p for p in PLUGINS if (qt / "plugins" / p).exists()]
    files += [lib for name in QT_LIBS for lib in (qt / "lib").glob(f"lib{name.replace('Qt', 'Qt6', 1)}.so.*")]
    return files


def needed_libraries(files: list[Path]) -> tuple[set[str], set[str]]:
    """(resolved system library paths, sonames not found) that the Qt files need."""
    qt_lib = str(files[0].parents[2] / "lib") if files else ""
    env = dict(os.environ, LD_LIBRARY_PATH=qt_lib)
    resolved, missing = set(), set()
    for f in files:
        out = subprocess.run(["ldd", str(f)], capture_output=True, text=True, env=env, check=False).stdout
        for line in out.splitlines():
            name, _, rest = line.strip().partition(" => ")
            if "not found" in rest:
                missing.add(name)
            elif rest.startswith("/") and "PySide6" not in rest:
                resolved.add(os.path.realpath(rest.split(" (")[0]))
    return resolved, missing


def owning_packages(paths: set[str]) -> set[str]:
    owners = set()
    for path in sorted(paths):
        out = subprocess.run(["dpkg", "-S", path], capture_output=True, text=True, check=False).stdout
        if not out:  # usr-merge: dpkg knows /lib/... where ldd says /usr/lib/...
            out = subprocess.run(["dpkg", "-S", path.removeprefix("/usr")], capture_output=True, text=True,
                                 check=False).stdout
        if out:
            owners.add(out.split(":", 1)[0].split(",")[0].strip())
        else:
            owners.add(f"?{path}")
    return owners


def allowed_packages(listed: list[str]) -> set[str]:
    """The listed packages, what they pull in, and every required or important package of the system."""
    out = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                          "--no-breaks", "--no-replaces", "--no-enhances", *listed],
                         capture_output=True, text=True, check=False).stdout
    allowed = set(listed)
    for line in out.splitlines():
        line = line.strip().lstrip("|")
        if line.startswith(("Depends:", "PreDepends:")):
            allowed.add(line.split(":", 1)[1].strip().strip("<>").split(":")[0])
        elif line and not line.startswith("<") and ":" not in line:
            allowed.add(line)
    base = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Priority}\n"], capture_output=True, text=True,
                          check=False).stdout
    allowed |= {p for p, _, prio in (ln.partition(" ") for ln in base.splitlines()) if prio in ("required",
                                                                                                  "important")}
    return allowed


def xvfb_screenshot() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db, png = Path(tmp) / "d.sqlite3", Path(tmp) / "s.png"
        tohtrack = [sys.executable, "-m", "tohtrack", "--db", str(db)]
        subprocess.run([*tohtrack, "demo", "--patients", "3"], check=True, capture_output=True)
        env = dict(os.environ, QT_QPA_PLATFORM="xcb", QT_DEBUG_PLUGINS="0")
        run = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", *tohtrack, "--screenshot",
                              str(png)], capture_output=True, text=True, env=env, timeout=120, check=False)
        if run.returncode != 0 or not png.exists() or png.stat().st_size < 10_000:
            sys.exit(f"the app did not start on the xcb platform under Xvfb (exit {run.returncode}):\n{run.stderr}")
        print(f"xcb under Xvfb: screenshot of {png.stat().st_size} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-xvfb", action="store_true", help="only the library check")
    args = parser.parse_args()
    listed = readme_packages()
    resolved, missing = needed_libraries(qt_files())
    if missing:
        sys.exit(f"Qt's libraries need these, not installed from the README's list: {', '.join(sorted(missing))}")
    needed = owning_packages(resolved)
    allowed = allowed_packages(listed)
    absent = sorted(needed - allowed)
    if absent:
        sys.exit(f"the README's desktop library list misses: {' '.join(absent)}")
    print(f"README desktop libraries ({len(listed)} packages) cover the {len(needed)} packages Qt links to")
    if not args.no_xvfb:
        xvfb_screenshot()


if __name__ == "__main__":
    main()
