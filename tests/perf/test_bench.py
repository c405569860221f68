"""The benchmark itself (slow: run with -m slow): it builds, measures every metric and reports them as asked."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).with_name("bench.py")


@pytest.mark.slow
def test_bench_reports_every_metric_as_json(tmp_path):
    env = dict(os.environ, TOHTRACK_BENCH_CACHE=str(tmp_path / "cache"), QT_QPA_PLATFORM="offscreen")
    env.pop("TOHTRACK_DB", None)
    done = subprocess.run([sys.executable, str(BENCH), "--quick", "--json", "--patients", "300"], env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)  # one JSON object on stdout; progress went to stderr
    names = ["startup_ratio", "search_p95_ms", "open_patient_ms", "plot_render_ms", "report_ms", "worklist_ms",
             "flags_all_ms", "import_ratio", "rss_mb", "stats_json_ms", "cohort_view_ms"]
    assert list(report["targets"]) == names and set(report["metrics"]) == set(names)
    for name in names:
        value = report["metrics"][name]
        assert value is None and report["notes"][name] or value > 0, name
    assert report["config"]["patients"] == 300 and "measuring" in done.stderr
    cached = list((tmp_path / "cache").glob("demo-300-*.sqlite3"))
    assert len(cached) == 1  # a second run reuses it
    again = subprocess.run([sys.executable, str(BENCH), "--quick", "--patients", "300", "--only", "search_p95_ms"],
                           env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0 and "using the cached database" in again.stderr
    assert "search_p95_ms" in again.stdout and "target" in again.stdout


@pytest.mark.slow
def test_bench_measures_the_server_beside_sqlite(tmp_path):
    """--backend postgresql: the same cohort copied into a server (started by the bench); search, worklist and
    flags measured on both in one run, with their ratio."""
    env = dict(os.environ, TOHTRACK_BENCH_CACHE=str(tmp_path / "cache"), QT_QPA_PLATFORM="offscreen")
    env.pop("TOHTRACK_DB", None)
    done = subprocess.run([sys.executable, str(BENCH), "--quick", "--json", "--patients", "300", "--backend",
                           "postgresql"], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert list(report["backends"]) == ["search_p95_ms", "worklist_ms", "flags_all_ms"]
    for name, row in report["backends"].items():
        assert row["sqlite"] > 0 and row["postgresql"] > 0, (name, row["detail"])
        assert row["ratio"] == round(row["postgresql"] / row["sqlite"], 2)
    assert "copying the cohort into the server" in done.stderr
