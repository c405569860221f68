"""Workstations writing at once to one clinic server: no update is lost, and the audit trail's hash chain stays
one unbroken, unforked chain (its appends are serialised by the server)."""

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pgfixtures import owner_url, pg_db, pg_store  # noqa: F401 (fixtures)
from tohtrack import db as dbmod
from tohtrack.model import Episode, Patient

WRITER = Path(__file__).with_name("pg_writer.py")


def run_workstations(url: str, names: list[str], count: int) -> list[str]:
    start_at = time.time() + 2.0  # after every process has imported and connected
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH", "")]))
    procs = [subprocess.Popen([sys.executable, str(WRITER), url, name, str(count), str(start_at)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
             for name in names]
    outputs = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        outputs.append(out)
    return outputs


@pytest.mark.parametrize("names,count", [
    pytest.param(["w0", "w1", "w2", "w3"], 12, id="4-apps"),
    pytest.param(["w0", "w1", "sql2", "sql3"], 12, id="2-apps-2-plain-sql"),
    pytest.param([f"w{n}" for n in range(6)] + ["sql6", "sql7"], 40, id="8x40", marks=pytest.mark.slow)])
def test_concurrent_workstations_lose_no_update_and_keep_one_chain(owner_url, pg_store, names, count):
    pg_store.add_patient(Patient("W-1", "Writer", "Many", dt.date(1970, 1, 1), "female",
                                 episodes=[Episode("hip_left", dt.date(2025, 1, 1))]))
    outputs = run_workstations(owner_url, names, count)
    workers = len(names)
    expected = {f"{name}.{i}" for name in names for i in range(count)}
    patient = pg_store.patient_by_mrn("W-1")
    tokens = patient.notes.split()
    assert len(tokens) == len(expected) and set(tokens) == expected  # every edit kept, none twice
    assert {s.note for s in patient.episodes[0].symptoms} == expected
    assert patient.version == 1 + len(expected)
    entries = list(pg_store.audit_entries())
    assert [e.id for e in entries] == list(range(1, len(entries) + 1))
    assert len(entries) == 2 + 2 * len(expected)
    assert pg_store.check() == []
    # Interleaved: the workstations really wrote at the same time.
    writers = [e.new["note"].split(".")[0] for e in entries if e.table_name == "symptoms"]
    switches = sum(a != b for a, b in zip(writers, writers[1:]))
    assert switches >= workers - 1, outputs
    prev = dbmod.GENESIS_HASH
    for row in pg_store.conn.execute("SELECT * FROM audit ORDER BY id"):
        assert dbmod._entry_hash(prev, tuple(row)[:-1]) == row[-1]
        prev = row[-1]


IMPORTER = """
import sys
from tohtrack import demo
from tohtrack.store.postgres import PostgresStore
store = PostgresStore(sys.argv[1])
store.add_patients(list(demo.generate(int(sys.argv[2]), seed=3)))
print("committed")
"""


def test_a_client_killed_mid_import_leaves_nothing_and_holds_nothing(pg_server, pg_db, owner_url, pg_store):
    import signal

    import psycopg

    pg_store.set_setting("clinic_name", "Before")
    head = pg_store.audit_head()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.Popen([sys.executable, "-c", IMPORTER, owner_url, "3000"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    writing = False
    with psycopg.connect(pg_server.superuser(pg_db), autocommit=True) as su:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            writing = su.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
                                 "application_name = 'tohtrack' AND state = 'active' AND query LIKE 'COPY%%'"
                                 ).fetchone()[0] > 0
            if writing:
                break
            time.sleep(0.005)
        assert writing, proc.communicate()
        os.kill(proc.pid, signal.SIGKILL)  # in the middle of the import's one transaction
        proc.wait()
    began = time.monotonic()
    assert pg_store.set_setting("clinic_name", "After") == "After"  # the server let go of the chain's lock
    assert time.monotonic() - began < 30
    assert pg_store.count_patients() == 0
    assert pg_store.audit_head()[0] == head[0] + 1
    assert pg_store.check() == []
