"""TOHtrack's performance benchmark at clinic scale (not part of the test run).

    python tests/perf/bench.py [--quick] [--json] [--rebuild] [--patients N]

Builds (once, then cached) a demo database of 100 000 patients (--quick: 20 000) plus one heavy patient
(20 episodes, 500 records), measures every metric as the median of repeated runs, each ratio against its
baseline measured in the same run, and prints a table; with --json one JSON object
{"metrics": {...}, "targets": {...}, "baselines": {...}, "notes": {...}, "config": {...}} on stdout.
Progress goes to stderr. The databases are cached in $TOHTRACK_BENCH_CACHE (default: a folder in the
temporary directory), keyed by size, TOHtrack version and the sources that shape them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Callable, Iterator

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import tohtrack  # noqa: E402
from tohtrack import cohort, course, demo, interchange, migrations, plotdata, registry  # noqa: E402
from tohtrack.db import Store  # noqa: E402
from tohtrack.model import Episode, ImagingStudy, Patient, SymptomRecord, Treatment, regions_of  # noqa: E402

#: The issue's metrics, their targets, and which way is better (all: lower).
TARGETS = {
    "startup_ratio": 2.0,
    "search_p95_ms": 5.0,
    "open_patient_ms": 20.0,
    "plot_render_ms": 100.0,
    "report_ms": 300.0,
    "worklist_ms": 500.0,
    "flags_all_ms": 3000.0,
    "import_ratio": 3.0,
    "rss_mb": 300.0,
    "stats_json_ms": 2000.0,
    "cohort_view_ms": 1000.0,
}
HEAVY_MRN = "BENCH-HEAVY"
#: Bump when the heavy patient or the way the database is built changes (part of the cache key).
BUILD_VERSION = 1
SCREEN_SIZE = (1280, 800)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def timed(function: Callable[[], object]) -> tuple[float, object]:
    """Milliseconds one call takes, and what it returned."""
    start = time.perf_counter()
    result = function()
    return (time.perf_counter() - start) * 1000, result


# ---------------------------------------------------------------------------
# The database: demo cohort plus one heavy patient, cached by size and version
# ---------------------------------------------------------------------------


def heavy_patient(today: dt.date) -> Patient:
    """20 episodes over 20 years (the last one active), 25 records each: 8 studies, 12 symptom records, 5
    treatments (500 records); sites alternate so that the history has migrations and recurrences."""
    sites = ["hip_left", "hip_right", "knee_left", "hip_left", "ankle_right"]
    first = today - dt.timedelta(days=20 * 365 + 30)
    episodes = []
    for n in range(20):
        onset = first + dt.timedelta(days=365 * n)
        last = n == 19
        span = min(300, (today - onset).days - 1) if last else 300
        day = lambda k, count: onset + dt.timedelta(days=1 + (span - 1) * k // count)  # noqa: E731
        imaging = [ImagingStudy(date=day(k, 8), modality="MRI" if k % 4 else "XR", time=f"{8 + k:02d}:15",
                                edema_extent_pct=(None if k % 4 == 0 else max(5, 80 - 9 * k)),
                                edema_regions=list(regions_of(sites[n % len(sites)])[:2]) if k % 4 else [],
                                t1_low_signal=True, t2_high_signal=True, osteopenia=k % 4 == 0,
                                accession=f"ACC{n:02d}{k:02d}", report="Bone marrow edema of the femoral head.")
                   for k in range(8)]
        symptoms = [SymptomRecord(date=day(k, 12), pain_nrs=max(0, 8 - k), function_score=40 + 5 * k,
                                  function_instrument="HHS", weight_bearing="partial" if k < 6 else "full",
                                  note="Review.") for k in range(12)]
        treatments = [Treatment(start=day(k, 5), kind=("analgesia", "protected_weight_bearing", "bisphosphonate",
                                                      "other", "analgesia")[k],
                                end=None if last else day(k, 5) + dt.timedelta(days=20), detail="As planned.")
                      for k in range(5)]
        episodes.append(Episode(site=sites[n % len(sites)], symptom_onset=onset,
                                resolved_on=None if last else onset + dt.timedelta(days=320),
                                imaging=imaging, symptoms=symptoms, treatments=treatments,
                                notes=f"Episode {n + 1}."))
    return Patient(mrn=HEAVY_MRN, family_name="Heavy", given_name="Bench", birth_date=dt.date(1960, 5, 17),
                   sex="female", episodes=episodes)


def cache_dir() -> Path:
    return Path(os.environ.get("TOHTRACK_BENCH_CACHE") or Path(tempfile.gettempdir()) / "tohtrack-bench")


def cache_key(patients: int, today: dt.date) -> str:
    """Size, version, the sources that shape the file (demo cohort, schema, this builder) and the day
    (the demo cohort is dated relative to today)."""
    digest = hashlib.sha256()
    for module in (demo, migrations):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(str(BUILD_VERSION).encode())
    return f"demo-{patients}-v{tohtrack.__version__}-{digest.hexdigest()[:10]}-{today.isoformat()}"


def build_database(patients: int, today: dt.date, rebuild: bool) -> Path:
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{cache_key(patients, today)}.sqlite3"
    if path.exists() and not rebuild:
        log(f"using the cached database {path}")
        return path
    for stale in folder.glob(f"demo-{patients}-*"):
        stale.unlink()
    partial = folder / f"building-{patients}.sqlite3"
    for leftover in folder.glob(f"building-{patients}.sqlite3*"):
        leftover.unlink()
    log(f"building a demo database of {patients} patients (tohtrack demo) in {partial}")
    start = time.perf_counter()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-m", "tohtrack", "--db", str(partial), "demo", "--patients", str(patients)],
                   check=True, env=env, stdout=sys.stderr)
    with Store(partial) as store:
        store.add_patient(heavy_patient(today), today=today)
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(partial, path)
    log(f"built in {time.perf_counter() - start:.0f} s")
    return path


def typical_patient(store: Store) -> str:
    """An unarchived demo patient with the median number of records among those with an active TOH episode."""
    rows = store.conn.execute(
        """SELECT p.mrn,
                  (SELECT count(*) FROM episodes e WHERE e.patient_id = p.id)
                  + (SELECT count(*) FROM imaging i JOIN episodes e ON e.id = i.episode_id WHERE e.patient_id = p.id)
                  + (SELECT count(*) FROM symptoms s JOIN episodes e ON e.id = s.episode_id WHERE e.patient_id = p.id)
                  + (SELECT count(*) FROM treatments t JOIN episodes e ON e.id = t.episode_id
                     WHERE e.patient_id = p.id) AS n
           FROM patients p WHERE p.archived = 0 AND p.id <= 3000 AND p.mrn != ?
             AND EXISTS (SELECT 1 FROM episodes e WHERE e.patient_id = p.id AND e.resolved_on IS NULL
                         AND e.diagnosis = 'transient_osteoporosis')
           ORDER BY n, p.mrn""", (HEAVY_MRN,)).fetchall()
    return rows[len(rows) // 2][0]


# ---------------------------------------------------------------------------
# The metrics
# ---------------------------------------------------------------------------

#: The time to the first paint of a window, measured from the start of the process: the script installs a
#: filter that notes the first paint of the window, then quits; the process's whole run is timed from outside.
FIRST_PAINT = """
import os
import sys
from PySide6.QtCore import QEvent, QObject, QTimer


class FirstPaint(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            # The paint is done once the event loop turns; then out at once (no work queued after the paint,
            # such as loading the plots, nor the teardown, counts).
            QTimer.singleShot(0, lambda: os._exit(0))
        return False
"""

#: A bare PySide6 main window: the baseline of `startup_ratio`.
BARE_SCRIPT = FIRST_PAINT + textwrap.dedent("""
    from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.setCentralWidget(QLabel("TOHtrack"))
    window.resize({w}, {h})
    watcher = FirstPaint()
    window.installEventFilter(watcher)
    window.show()
    app.exec()
""").format(w=SCREEN_SIZE[0], h=SCREEN_SIZE[1])

#: TOHtrack's main window on the database as the app starts it (tohtrack.gui.app.run), until its first paint.
#: The app's modules come first, as the `tohtrack` command imports them: tohtrack.gui imports the core before
#: PySide6, whose import hook reads the source of every module imported after it (measured with the watcher's
#: PySide6 import first, the same window took 15 ms longer: medians of 15 interleaved runs on a loaded machine).
APP_SCRIPT = "from tohtrack.gui.app import MainWindow, create_application\n" + FIRST_PAINT + textwrap.dedent("""
    import os, tempfile
    from pathlib import Path
    from PySide6.QtCore import QSettings
    from tohtrack.db import Store
    app = create_application()
    store = Store(Path(sys.argv[1]))
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(store, settings, first_run_prompt=False)
    window.resize({w}, {h})
    watcher = FirstPaint()
    window.installEventFilter(watcher)
    window.open_patient(store.patient_id(sys.argv[2]))  # as run() opens the last patient: before the window shows
    window.show()
    app.exec()
""").format(w=SCREEN_SIZE[0], h=SCREEN_SIZE[1])

#: The old baseline (up to December 2026): a bare PySide6 + pyqtgraph window with a plot, saved as PNG.
OLD_BARE_SCRIPT = textwrap.dedent("""
    import sys
    from PySide6.QtWidgets import QApplication, QMainWindow
    import pyqtgraph as pg
    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    plot = pg.PlotWidget()
    plot.plot([1, 2, 3, 4], [2, 1, 3, 2])
    window.setCentralWidget(plot)
    window.resize({w}, {h})
    window.show()
    for _ in range(3):
        app.processEvents()
    window.grab().save(sys.argv[1], "PNG")
""").format(w=SCREEN_SIZE[0], h=SCREEN_SIZE[1])


def measure_startup(ctx: "Context") -> tuple[float, dict]:
    """Process start to the first paint of the main window with a patient open, against a bare PySide6 window
    measured the same way in the same run. Beside it, the old figure: the whole `tohtrack --screenshot` (plots
    drawn) against a bare PySide6 + pyqtgraph window."""
    scratch = ctx.scratch / "startup"
    scratch.mkdir(exist_ok=True)
    for name, text in (("bare.py", BARE_SCRIPT), ("app.py", APP_SCRIPT), ("old_bare.py", OLD_BARE_SCRIPT)):
        (scratch / name).write_text(text)
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    env.pop("TOHTRACK_DB", None)
    # As installed: compiled modules kept (the warm-up run writes any that a checkout's edits made stale), as
    # the bare script's PySide6 and pyqtgraph have theirs.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    commands = {
        "bare": [sys.executable, str(scratch / "bare.py")],
        "app": [sys.executable, str(scratch / "app.py"), str(ctx.db), ctx.typical],
        "old_bare": [sys.executable, str(scratch / "old_bare.py"), str(scratch / "bare.png")],
        "screenshot": [sys.executable, "-m", "tohtrack", "--db", str(ctx.db), "--screenshot",
                       str(scratch / "app.png"), "--patient", ctx.typical],
    }

    def run(cmd: list[str]) -> float:
        start = time.perf_counter()
        done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=scratch)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr[-2000:]}")
        return (time.perf_counter() - start) * 1000

    for cmd in commands.values():  # warm the page cache
        run(cmd)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(ctx.repeat(7, 5)):
        for name, cmd in commands.items():  # interleaved: a busy moment slows all four alike
            times[name].append(run(cmd))
    ms = {name: median(values) for name, values in times.items()}
    old_ratio = ms["screenshot"] / ms["old_bare"]
    return ms["app"] / ms["bare"], {
        "baseline": f"bare PySide6 window to first paint {ms['bare']:.0f} ms",
        "detail": f"main window with {ctx.typical} open to first paint {ms['app']:.0f} ms",
        "note": (f"old figure: tohtrack --screenshot {ms['screenshot']:.0f} ms / bare PySide6+pyqtgraph "
                 f"{ms['old_bare']:.0f} ms = {old_ratio:.2f}"),
        "app_ms": round(ms["app"], 1), "bare_ms": round(ms["bare"], 1),
        "screenshot_ms": round(ms["screenshot"], 1), "old_bare_ms": round(ms["old_bare"], 1),
        "old_ratio": round(old_ratio, 3)}


def search_queries(store: Store, count: int, seed: int = 8) -> list[str]:
    """Search texts as a user types them: name prefixes and MRN prefixes, a character at a time."""
    rng = random.Random(seed)
    top = store.conn.execute("SELECT max(id) FROM patients").fetchone()[0]
    names, mrns = [], []
    while len(names) < count // 2 or len(mrns) < count - count // 2:
        row = store.conn.execute("SELECT mrn, family_name, given_name FROM patients WHERE id = ?",
                                 (rng.randint(1, top),)).fetchone()
        if row is None:
            continue
        mrn, family, given = row
        if len(names) < count // 2:
            typed = family if rng.random() < 0.7 else f"{family} {given}"
            names += [typed[:n] for n in range(1, min(len(typed), 8) + 1)]
        if len(mrns) < count - count // 2:
            start = rng.choice([0, 1, 3])  # from the start, or from the digits
            mrns += [mrn[start:n] for n in range(start + 1, len(mrn) + 1)]
    return names[:count // 2] + mrns[:count - count // 2]


def measure_search(ctx: "Context") -> tuple[float, dict]:
    """p95 of search as typed: the first page (and the count the list shows) per keystroke, 200 queries."""
    store, as_of = ctx.store, ctx.as_of
    queries = search_queries(ctx.sqlite, 200)
    for text in queries[:20]:  # warm up
        registry.search(store, text, as_of=as_of)
    rounds_search, rounds_count, rounds_both = [], [], []
    for _ in range(ctx.repeat(3, 3)):
        search_ms, count_ms, both_ms = [], [], []
        for text in queries:
            s, _ = timed(lambda: registry.search(store, text, as_of=as_of))
            c, _ = timed(lambda: registry.count(store, text, as_of=as_of))
            search_ms.append(s)
            count_ms.append(c)
            both_ms.append(s + c)
        rounds_search.append(p95(search_ms))
        rounds_count.append(p95(count_ms))
        rounds_both.append(p95(both_ms))
    value = median(rounds_search)
    return value, {"detail": f"first page of 200; p95 of the count {median(rounds_count):.1f} ms, "
                             f"of page and count together {median(rounds_both):.1f} ms",
                   "count_p95_ms": round(median(rounds_count), 2),
                   "search_and_count_p95_ms": round(median(rounds_both), 2)}


def measure_open_patient(ctx: "Context") -> tuple[float, dict]:
    """Load the heavy patient, assess it, build its plot data (history lanes and the newest episode's course)."""
    store, as_of = ctx.store, ctx.as_of
    pid = store.patient_id(HEAVY_MRN)

    def open_once():
        patient = store.patient(pid)
        settings = store.settings()
        assessment = course.assess(patient, as_of, settings)
        plotdata.history_data(assessment, settings)
        plotdata.course_data(assessment, assessment.episodes[-1].episode, settings)
        return patient

    open_once()
    times = [timed(open_once)[0] for _ in range(ctx.repeat(21, 11))]
    patient = store.patient(pid)
    records = sum(len(e.imaging) + len(e.symptoms) + len(e.treatments) for e in patient.episodes)
    return median(times), {"detail": f"{len(patient.episodes)} episodes, {records} records"}


_QUIET = ("propagateSizeHints",)  # the offscreen platform's notice on every window shown


def _application():
    from PySide6.QtCore import qInstallMessageHandler

    from tohtrack.gui.app import create_application

    def handler(mode, context, message):
        if not any(text in message for text in _QUIET):
            print(message, file=sys.stderr)

    qInstallMessageHandler(handler)
    return create_application()


def measure_plot_render(ctx: "Context") -> tuple[float, dict]:
    """Build the timeline panel for the heavy patient and paint both plots (course, history) offscreen."""
    app = _application()
    from tohtrack.gui.timeline import TimelinePanel

    store, as_of = ctx.store, ctx.as_of
    patient = store.patient_by_mrn(HEAVY_MRN)
    settings = store.settings()
    assessment = course.assess(patient, as_of, settings)
    episode = assessment.episodes[-1].episode

    def render_once():
        panel = TimelinePanel()
        panel.resize(880, 360)
        panel.show()
        panel.show_assessment(assessment, episode, settings)
        app.processEvents()
        course_image = panel.grab().toImage()
        panel.show_history(True)
        app.processEvents()
        history_image = panel.grab().toImage()
        panel.close()
        panel.deleteLater()
        return course_image, history_image

    render_once()
    app.processEvents()
    times = []
    for _ in range(ctx.repeat(11, 7)):
        ms, _ = timed(render_once)
        app.processEvents()  # delete the panel outside the timing
        times.append(ms)
    return median(times), {"detail": "880x360 panel, course of the active episode then the history lanes"}


def measure_report(ctx: "Context") -> tuple[float | None, dict]:
    """The PDF report of the typical patient, in a warm process."""
    _application()
    try:
        from tohtrack.gui import pdf
    except ImportError as exc:
        return None, {"note": f"tohtrack.gui.pdf is not there yet ({exc})"}
    write_report = getattr(pdf, "write_report", None)
    if write_report is None:
        return None, {"note": "tohtrack.gui.pdf.write_report is not there yet"}
    out = ctx.scratch / "report.pdf"
    write_report(ctx.store, ctx.typical, out, as_of=ctx.as_of)  # warm
    times = [timed(lambda: write_report(ctx.store, ctx.typical, out, as_of=ctx.as_of))[0]
             for _ in range(ctx.repeat(7, 5))]
    return median(times), {"detail": f"patient {ctx.typical}, {out.stat().st_size // 1024} KiB PDF"}


def measure_worklist(ctx: "Context") -> tuple[float, dict]:
    """cohort.worklist over the whole cohort (every patient with an active episode), warm, plus a cold run."""
    store, as_of = ctx.store, ctx.as_of
    cold_ms = _cold(ctx, lambda: cohort.worklist(store, as_of))
    times, entries = [], []
    for _ in range(ctx.repeat(7, 5)):
        ms, entries = timed(lambda: cohort.worklist(store, as_of))
        times.append(ms)
    due = sum(1 for e in entries if e.due or e.overdue)
    detail = f"{len(entries)} active patients, {due} due or overdue"
    if cold_ms is not None:
        detail += f"; first run with an empty assessment cache {cold_ms:.0f} ms"
    return median(times), {"detail": detail, "cold_ms": None if cold_ms is None else round(cold_ms)}


def _cold(ctx: "Context", function: Callable[[], object]) -> float | None:
    """One run after emptying the persisted assessment cache (None when there is no such cache)."""
    try:
        from tohtrack import summary
    except ImportError:
        return None
    summary.clear(ctx.store)
    ms, _ = timed(function)
    return ms


class _Sink(io.TextIOBase):
    """A stdout that counts what is written and keeps nothing."""

    def __init__(self):
        self.chars = 0

    def write(self, text: str) -> int:
        self.chars += len(text)
        return len(text)

    def writable(self) -> bool:
        return True


def measure_flags(ctx: "Context") -> tuple[float, dict]:
    """`tohtrack flags --json` over the whole cohort, in this process (output counted, not kept)."""
    from tohtrack.__main__ import main

    argv = ["--db", ctx.url or str(ctx.db), "flags", "--json", "--as-of", ctx.as_of.isoformat()]

    def run() -> int:
        sink = _Sink()
        with contextlib.redirect_stdout(sink):
            code = main(argv)
        if code != 0:
            raise RuntimeError(f"tohtrack flags exited {code}")
        return sink.chars

    cold_ms = _cold(ctx, run)
    times, chars = [], 0
    for _ in range(ctx.repeat(5, 3)):
        ms, chars = timed(run)
        times.append(ms)
    detail = f"{chars / 1e6:.0f} MB of JSON"
    if cold_ms is not None:
        detail += f"; first run with an empty assessment cache {cold_ms:.0f} ms"
    return median(times), {"detail": detail, "cold_ms": None if cold_ms is None else round(cold_ms)}


_TABLE_ORDER = ("patients", "episodes", "imaging", "symptoms", "treatments", "audit")


def measure_import(ctx: "Context") -> tuple[float, dict]:
    """interchange.import_file of a tohtrack/1 file into an empty database, against a plain executemany of the
    same rows (records and audit entries) into the same tables of another empty database."""
    store = ctx.store
    size = ctx.import_patients
    scratch = ctx.scratch / "import"
    scratch.mkdir(exist_ok=True)
    source = scratch / "cohort.json"
    ids = [r[0] for r in store.conn.execute("SELECT id FROM patients WHERE mrn != ? ORDER BY id LIMIT ?",
                                            (HEAVY_MRN, size))]
    interchange.write_file(source, interchange.dumps(interchange.document(store.patients(ids))))
    imports, plains = [], []
    rows = None
    for n in range(ctx.repeat(3, 3) + 1):
        target = scratch / f"import-{n}.sqlite3"
        with Store(target) as empty:
            ms, patients = timed(lambda: interchange.import_file(empty, source))
            if rows is None:  # plain tuples, as a script would hand them to executemany
                rows = {t: [tuple(r) for r in empty.conn.execute(f"SELECT * FROM {t} ORDER BY id")]
                        for t in _TABLE_ORDER}
        plain = scratch / f"plain-{n}.sqlite3"
        Store(plain).close()  # the same empty schema
        plain_ms = _plain_insert(plain, rows)
        if n:  # the first round warms the caches
            imports.append(ms)
            plains.append(plain_ms)
        for path in scratch.glob("*.sqlite3*"):
            path.unlink()
    records = sum(len(rows[t]) for t in _TABLE_ORDER[:-1])
    import_ms, plain_ms = median(imports), median(plains)
    return import_ms / plain_ms, {
        "baseline": f"plain sqlite3 executemany of the same {records} records + {len(rows['audit'])} audit "
                    f"entries {plain_ms:.0f} ms",
        "detail": f"import of {size} patients ({source.stat().st_size // 2**20} MiB) {import_ms:.0f} ms",
        "import_ms": round(import_ms), "plain_ms": round(plain_ms)}


def _plain_insert(path: Path, rows: dict[str, list]) -> float:
    conn = sqlite3.connect(str(path), isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = FULL")
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for table in _TABLE_ORDER:
            if rows[table]:
                width = len(rows[table][0])
                conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * width)})", rows[table])
        conn.execute("COMMIT")
        return (time.perf_counter() - start) * 1000
    finally:
        conn.close()


RSS_SCRIPT = textwrap.dedent("""
    import json, os, resource, sys, tempfile, time
    from PySide6.QtCore import QSettings
    from tohtrack.db import Store
    from tohtrack.gui.app import MainWindow, create_application
    app = create_application()
    store = Store(sys.argv[1])
    scratch = tempfile.mkdtemp()
    settings = QSettings(os.path.join(scratch, "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(store, settings, first_run_prompt=False)
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    model, table = window.list_model, window.ui.patient_table
    start = time.perf_counter()
    while model.canFetchMore():
        model.fetchMore()
    table.scrollToBottom()
    app.processEvents()
    seconds = time.perf_counter() - start
    rows = model.rowCount()
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Linux carries ru_maxrss over fork and exec: a child of a big process starts with its parent's peak.
    # VmHWM is the peak of this process's own memory.
    hwm_mb = None
    if os.path.exists("/proc/self/status"):
        with open("/proc/self/status") as status:
            hwm_mb = next((int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:")), None)
    window.close()
    print(json.dumps({"rss_mb": hwm_mb if hwm_mb is not None else maxrss_mb, "maxrss_mb": maxrss_mb,
                      "rows": rows, "scroll_s": seconds}))
""")


def measure_rss(ctx: "Context") -> tuple[float, dict]:
    """Peak RSS of the app with the big database open and the patient list fetched and scrolled to its end.

    The peak is the process's own (VmHWM on Linux): ru_maxrss of a child counts its parent's peak too.
    """
    script = ctx.scratch / "rss.py"
    script.write_text(RSS_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    results = []
    for _ in range(ctx.repeat(3, 1)):
        out = subprocess.run([sys.executable, str(script), str(ctx.db)], check=True, env=env,
                             capture_output=True, text=True).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    rows = results[0]["rows"]
    scroll = median([r["scroll_s"] for r in results])
    return median([r["rss_mb"] for r in results]), {
        "detail": f"{rows} rows fetched to the end in {scroll:.1f} s"}


#: `tohtrack stats --json` as a user runs it, with the process's own peak memory (VmHWM) and CPU time.
STATS_SCRIPT = textwrap.dedent("""
    import json, os, resource, runpy, sys, time
    sys.argv = ["tohtrack", *sys.argv[1:]]
    start = time.perf_counter()
    try:
        runpy.run_module("tohtrack", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if exc.code not in (0, None):
            raise
    wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_SELF)
    hwm = None
    if os.path.exists("/proc/self/status"):
        with open("/proc/self/status") as status:
            hwm = next((int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:")), None)
    print(json.dumps({"cpu_s": usage.ru_utime + usage.ru_stime, "rss_mb": hwm or usage.ru_maxrss / 1024,
                      "run_s": wall}), file=sys.stderr)
""")


def measure_stats_json(ctx: "Context") -> tuple[float, dict]:
    """`tohtrack stats --json` over the whole cohort, a new process each time (start-up included), output to a
    file; beside the wall time, the process's CPU time and peak memory."""
    script = ctx.scratch / "stats.py"
    script.write_text(STATS_SCRIPT)
    out = ctx.scratch / "stats.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: compiled modules kept
    cmd = [sys.executable, str(script), "--db", str(ctx.db), "stats", "--json", "--as-of", ctx.as_of.isoformat()]
    walls, cpus, rss = [], [], []
    for n in range(ctx.repeat(7, 3) + 1):
        start = time.perf_counter()
        with open(out, "w") as sink:
            done = subprocess.run(cmd, env=env, stdout=sink, stderr=subprocess.PIPE, text=True)
        wall = (time.perf_counter() - start) * 1000
        if done.returncode != 0:
            raise RuntimeError(f"tohtrack stats exited {done.returncode}: {done.stderr[-2000:]}")
        if n:  # the first run warms the page cache
            figures = json.loads(done.stderr.strip().splitlines()[-1])
            walls.append(wall)
            cpus.append(figures["cpu_s"] * 1000)
            rss.append(figures["rss_mb"])
    document = json.loads(out.read_text(encoding="utf-8"))
    return median(walls), {
        "detail": f"{document['patients']} patients, {document['episodes']} episodes; CPU {median(cpus):.0f} ms, "
                  f"peak memory {median(rss):.0f} MB",
        "cpu_ms": round(median(cpus)), "rss_mb": round(median(rss), 1)}


#: The main window on the database; the Cohort tab clicked; timed until its figures are drawn.
COHORT_VIEW_SCRIPT = textwrap.dedent("""
    import json, os, sys, tempfile, time
    from PySide6.QtCore import QSettings
    from tohtrack.db import Store
    from tohtrack.gui.app import MainWindow, create_application
    app = create_application()
    store = Store(sys.argv[1])
    settings = QSettings(os.path.join(tempfile.mkdtemp(), "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(store, settings, first_run_prompt=False)
    window.resize(1280, 800)
    window.show()
    for _ in range(5):
        app.processEvents()
    tabs = window.ui.left_tabs
    start, cpu = time.perf_counter(), time.process_time()
    tabs.setCurrentWidget(window.cohort_view)
    app.processEvents()
    opened = time.perf_counter() - start
    view = window.cohort_view.real()
    while view.figures is None or view.busy:
        app.processEvents()
        time.sleep(0.001)
    view.repaint()
    app.processEvents()
    shown, cpu = time.perf_counter() - start, time.process_time() - cpu
    hwm = None
    if os.path.exists("/proc/self/status"):
        with open("/proc/self/status") as status:
            hwm = next((int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:")), None)
    print(json.dumps({"open_ms": opened * 1000, "figures_ms": shown * 1000, "cpu_ms": cpu * 1000, "rss_mb": hwm,
                      "patients": view.figures.patients, "status": view.status.text()}))
    os._exit(0)
""")


def measure_cohort_view(ctx: "Context") -> tuple[float, dict]:
    """The Cohort tab of the main window: from the click on the tab to its figures drawn (the tab built, the
    figures worked out in their thread, the curves, tables and box plot drawn), a new process each time."""
    script = ctx.scratch / "cohort_view.py"
    script.write_text(COHORT_VIEW_SCRIPT)
    env = dict(os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    results = []
    for n in range(ctx.repeat(7, 3) + 1):
        done = subprocess.run([sys.executable, str(script), str(ctx.db)], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"the cohort view script exited {done.returncode}: {done.stderr[-2000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        if result["status"]:
            raise RuntimeError(f"the cohort view said: {result['status']}")
        if n:  # the first run warms the page cache
            results.append(result)
    tab, cpu = median([r["open_ms"] for r in results]), median([r["cpu_ms"] for r in results])
    return median([r["figures_ms"] for r in results]), {
        "detail": f"{results[0]['patients']} patients; the tab itself {tab:.0f} ms; CPU {cpu:.0f} ms (all threads), "
                  f"peak memory {median([r['rss_mb'] for r in results]):.0f} MB",
        "open_ms": round(tab), "cpu_ms": round(cpu), "rss_mb": round(median([r["rss_mb"] for r in results]), 1)}


METRICS: dict[str, Callable[["Context"], tuple[float | None, dict]]] = {
    "startup_ratio": measure_startup,
    "search_p95_ms": measure_search,
    "open_patient_ms": measure_open_patient,
    "plot_render_ms": measure_plot_render,
    "report_ms": measure_report,
    "worklist_ms": measure_worklist,
    "flags_all_ms": measure_flags,
    "import_ratio": measure_import,
    "rss_mb": measure_rss,
    "stats_json_ms": measure_stats_json,
    "cohort_view_ms": measure_cohort_view,
}


class Context:
    def __init__(self, db: Path, quick: bool, scratch: Path, as_of: dt.date, import_patients: int,
                 url: str | None = None):
        self.db, self.quick, self.scratch, self.as_of = db, quick, scratch, as_of
        self.import_patients = import_patients
        self.url = url  # the same cohort on a PostgreSQL server (--backend postgresql), else None
        self.sqlite = self.store = Store(db)
        if url is not None:
            from tohtrack.store.postgres import PostgresStore

            self.store = PostgresStore(url)
        self.typical = typical_patient(self.sqlite)

    def close(self) -> None:
        self.sqlite.close()
        if self.store is not self.sqlite:
            self.store.close()

    def repeat(self, full: int, quick: int) -> int:
        return quick if self.quick else full


# ---------------------------------------------------------------------------
# Running and reporting
# ---------------------------------------------------------------------------


def _load() -> float | None:
    """The one-minute load average (None where the system has none)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _format(name: str, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.2f}" if name.endswith("ratio") else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def table(metrics: dict, notes: dict) -> str:
    lines = [f"{'metric':<16} {'median':>9} {'target':>8}  ok   baseline / detail"]
    for name, target in TARGETS.items():
        value = metrics.get(name)
        ok = "—" if value is None else ("yes" if value <= target else "NO")
        info = notes.get(name, {})
        text = "; ".join(str(info[k]) for k in ("baseline", "detail", "note") if info.get(k))
        lines.append(f"{name:<16} {_format(name, value):>9} {_format(name, target):>8}  {ok:<4} {text}")
    return "\n".join(lines)


#: What `--backend postgresql` measures on the server (the rest are the workstation's own: GUI, import, memory).
SERVER_METRICS = ("search_p95_ms", "worklist_ms", "flags_all_ms")


@contextlib.contextmanager
def postgres_copy(db: Path) -> "Iterator[str]":
    """The cohort of the SQLite file `db` copied (tohtrack copy) into a new database on a PostgreSQL server:
    $TOHTRACK_TEST_PG_URL's, or an embedded one started here (tests/pgserver.py); yields its URL."""
    sys.path.insert(0, str(ROOT / "tests"))
    from pgserver import start_or_use

    from tohtrack.store import pg_registry
    from tohtrack.store.pg_copy import copy_database
    from tohtrack.store.postgres import PostgresStore

    cluster, server = start_or_use()
    try:
        name = cluster.new_database()
        url = cluster.owner_url(name)
        log(f"copying the cohort into the server database {name}")
        start = time.perf_counter()
        copy_database(str(db), url, witness=False)
        with PostgresStore(url) as store:
            pg_registry.create_registry_indexes(store.conn)
            store.conn.execute("ANALYZE")
        log(f"copied in {time.perf_counter() - start:.0f} s")
        yield url
        cluster.drop_database(name)
    finally:
        if server is not None:
            server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 000 patients and fewer repeats")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--rebuild", action="store_true", help="build the demo database again")
    parser.add_argument("--patients", type=int, help="cohort size (default 100 000; --quick 20 000)")
    parser.add_argument("--only", action="append", choices=list(METRICS), help="measure only this metric")
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite",
                        help="postgresql: measure search, worklist and flags on a PostgreSQL server too (the same "
                             "cohort copied in), beside SQLite in the same run, with their ratio")
    args = parser.parse_args(argv)
    if args.backend == "postgresql":
        return _main_postgresql(args)
    patients = args.patients or (20_000 if args.quick else 100_000)
    as_of = dt.date.today()
    started = time.perf_counter()
    load_before = _load()  # other work on the machine slows every figure: say how busy it was
    db = build_database(patients, as_of, args.rebuild)
    metrics: dict[str, float | None] = {}
    notes: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="tohtrack-bench-") as scratch:
        ctx = Context(db, args.quick, Path(scratch), as_of, import_patients=4_000 if args.quick else 10_000)
        try:
            for name, measure in METRICS.items():
                if args.only and name not in args.only:
                    continue
                log(f"measuring {name}")
                start = time.perf_counter()
                try:
                    value, info = measure(ctx)
                except Exception as exc:  # one broken metric must not hide the others
                    value, info = None, {"note": f"failed: {type(exc).__name__}: {exc}"}
                metrics[name] = None if value is None else round(value, 3)
                notes[name] = info
                log(f"  {name} = {_format(name, value)} ({time.perf_counter() - start:.0f} s)")
        finally:
            ctx.close()
    config = {"patients": patients, "quick": args.quick, "as_of": as_of.isoformat(),
              "version": tohtrack.__version__, "seconds": round(time.perf_counter() - started),
              "python": sys.version.split()[0], "cpus": os.cpu_count(), "load_before": load_before,
              "load_after": _load()}
    if args.json:
        print(json.dumps({"metrics": metrics, "targets": TARGETS,
                          "baselines": {k: v["baseline"] for k, v in notes.items() if v.get("baseline")},
                          "notes": {k: "; ".join(str(v[x]) for x in ("detail", "note") if v.get(x))
                                    for k, v in notes.items()},
                          "config": config}, indent=1))
    else:
        print(f"TOHtrack {tohtrack.__version__} benchmark: {patients} patients, as of {as_of.isoformat()}, "
              f"medians ({config['seconds']} s, {config['cpus']} CPUs, load {load_before} -> {config['load_after']})")
        print(table(metrics, notes))
    return 0


def _main_postgresql(args) -> int:
    """The server's figures beside SQLite's, measured in the same run (the issue's targets: each ≤ 2× SQLite's,
    search p95 ≤ 10 ms, worklist ≤ 500 ms, flags over the cohort ≤ 3 s)."""
    patients = args.patients or (20_000 if args.quick else 100_000)
    as_of = dt.date.today()
    load_before = _load()
    db = build_database(patients, as_of, args.rebuild)
    names = [n for n in SERVER_METRICS if not args.only or n in args.only]
    results: dict[str, dict[str, float | None]] = {name: {} for name in names}
    details: dict[str, dict[str, str]] = {name: {} for name in names}
    with tempfile.TemporaryDirectory(prefix="tohtrack-bench-") as scratch, postgres_copy(db) as url:
        for backend, where in (("sqlite", None), ("postgresql", url)):
            ctx = Context(db, args.quick, Path(scratch), as_of, 0, url=where)
            try:
                for name in names:
                    log(f"measuring {name} on {backend}")
                    try:
                        value, info = METRICS[name](ctx)
                    except Exception as exc:  # one broken metric must not hide the others
                        value, info = None, {"detail": f"failed: {type(exc).__name__}: {exc}"}
                    results[name][backend] = None if value is None else round(value, 3)
                    details[name][backend] = str(info.get("detail", ""))
            finally:
                ctx.close()
    server_targets = {"search_p95_ms": 10.0, "worklist_ms": 500.0, "flags_all_ms": 3000.0}
    rows = {}
    for name in names:
        a, b = results[name].get("sqlite"), results[name].get("postgresql")
        rows[name] = {"sqlite": a, "postgresql": b, "ratio": None if not a or b is None else round(b / a, 2),
                      "target": server_targets[name], "detail": details[name]}
    config = {"patients": patients, "as_of": as_of.isoformat(), "load_before": load_before, "load_after": _load()}
    if args.json:
        print(json.dumps({"backends": rows, "config": config}, indent=1))
        return 0
    print(f"TOHtrack {tohtrack.__version__} on SQLite and PostgreSQL: {patients} patients, medians "
          f"(load {load_before} -> {config['load_after']})")
    print(f"{'metric':<16} {'sqlite':>9} {'postgresql':>11} {'ratio':>6} {'target':>7}")
    for name, row in rows.items():
        print(f"{name:<16} {_format(name, row['sqlite']):>9} {_format(name, row['postgresql']):>11} "
              f"{'—' if row['ratio'] is None else row['ratio']:>6} {_format(name, row['target']):>7}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
