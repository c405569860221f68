"""Two workstations on one local file: writes wait for each other, a stale save is a conflict, nothing is lost.

Every actor here is a child process of its own (its own SQLite connection and locks), steered line by line.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

import reliability_driver as drv
from tohtrack import interchange
from tohtrack.db import Store
from tohtrack.migrations import known_names


@pytest.fixture
def clinic(tmp_path, vignettes) -> Path:
    path = tmp_path / "clinic.sqlite3"
    with Store(path, clinician="setup") as store:
        interchange.import_document(store, vignettes)
    return path


class Station:
    """A workstation child: `do(command, **fields)` returns its answer ({"ok": ...} or {"error", "message"})."""

    def __init__(self, db: Path, clinician: str, busy_ms: int | None = None):
        argv = ["workstation", db, clinician] + (["--busy-ms", busy_ms] if busy_ms else [])
        self.child = drv.Child(drv.main, argv, stdin=True)
        assert self.answer() == {"ok": "ready"}

    def answer(self, timeout: float = 60) -> dict:
        line = self.child.readline(timeout)
        if not line:
            self.child.kill()
            pytest.fail(f"the workstation did not answer: {self.child.stderr()[-2000:]}")
        return json.loads(line)

    def do(self, command: str, **fields) -> dict:
        self.child.send(json.dumps({"do": command, **fields}))
        return self.answer()

    def ok(self, command: str, **fields):
        got = self.do(command, **fields)
        assert "ok" in got, got
        return got["ok"]

    def close(self) -> None:
        self.child.stdin.close()
        assert self.child.wait(30) == 0, self.child.stderr()
        self.child.close()


@pytest.fixture
def stations():
    opened: list[Station] = []

    def open_station(db, clinician, busy_ms=None) -> Station:
        station = Station(db, clinician, busy_ms)
        opened.append(station)
        return station

    yield open_station
    for station in opened:
        if station.child.poll() is None:
            station.child.kill()
        station.child.close()


def cli(*args, busy_ms: int | None = None) -> tuple[int, str, str, float]:
    """The tohtrack command line in a child process: (exit code, stdout, stderr, seconds from start to end)."""
    argv = ["cli"] + (["--busy-ms", busy_ms] if busy_ms else []) + [str(a) for a in args]
    child = drv.Child(drv.main, argv)
    assert child.readline().strip() == "ready"
    start = time.monotonic()
    code = child.wait(60)
    took = time.monotonic() - start
    out, err = child.rest(), child.stderr()
    child.close()
    assert "Traceback" not in out + err
    return code, out, err, took


def audit_count(db: Path) -> int:
    with Store(db, readonly=True) as store:
        return drv.audit_count(store)


def test_a_writer_waits_for_another_workstations_transaction(clinic, stations):
    holder = stations(clinic, "Dr Holder")
    holder.ok("hold")
    writer = drv.Child(drv.main, ["cli", "--db", clinic, "settings", "clinic_name", "Waited"])
    assert writer.readline().strip() == "ready"
    time.sleep(0.6)
    assert writer.poll() is None, "the writer did not wait for the lock: " + writer.stderr()
    holder.ok("release")
    assert writer.wait(30) == 0, writer.stderr()
    assert "clinic_name = Waited" in writer.rest()
    writer.close()
    holder.close()
    with Store(clinic, readonly=True) as store:
        assert store.setting_texts()["clinic_name"] == "Waited" and store.check() == []


def test_busy_beyond_the_timeout_is_a_clear_message_and_writes_nothing(clinic, stations):
    holder = stations(clinic, "Dr Holder")
    holder.ok("hold")
    before = audit_count(clinic)
    for command in (["settings", "clinic_name", "Never"], ["import", Path(__file__).parents[1] / "data" / "vignettes.json"]):
        code, out, err, took = cli("--db", clinic, *command, busy_ms=300)
        assert code == 1, err
        assert "busy (another workstation or window is writing); nothing was written, try again" in err
        assert "database is locked" not in err and str(clinic) in err
        assert took >= 0.25  # it waited before giving up

    # In the app: the save fails with the message, the record stays as edited, and saving again works.
    other = stations(clinic, "Dr Other", busy_ms=300)
    other.ok("load", mrn="EX-02")
    other.ok("edit", field="notes", value="saved on the second try")
    refused = other.do("save")
    assert refused["error"] == "StoreBusy" and "busy" in refused["message"] and "try again" in refused["message"]
    assert audit_count(clinic) == before
    holder.ok("release")
    assert other.ok("save") == {"version": 2}
    assert other.ok("state", mrn="EX-02")["patient"]["notes"] == "saved on the second try"
    assert audit_count(clinic) == before + 1
    assert other.ok("check") == []


def test_readers_are_not_held_up_by_a_writer_nor_writers_by_a_reader(clinic, stations, tmp_path):
    writer = stations(clinic, "Dr Writer")
    writer.ok("hold")
    for command in (["check"], ["export", "-o", tmp_path / "out.json"], ["flags", "--json"], ["worklist"],
                    ["backup", "-o", tmp_path / "b.sqlite3"]):
        code, _, err, took = cli("--db", clinic, *command)
        assert code == 0, err
        assert took < 3  # well under the 5 s busy timeout: nothing waited for the lock
    writer.ok("release")
    reader = stations(clinic, "Dr Reader")
    reader.ok("read_hold")
    code, _, err, took = cli("--db", clinic, "settings", "clinic_name", "Written while read")
    assert code == 0 and took < 3, err
    assert reader.ok("release") == {}
    assert reader.ok("state", mrn="EX-01")  # and reads the new state afterwards
    with Store(clinic, readonly=True) as store:
        assert store.setting_texts()["clinic_name"] == "Written while read"


def test_no_lost_update_between_two_workstations(clinic, stations):
    mine, theirs = stations(clinic, "Dr Mine"), stations(clinic, "Dr Theirs")
    assert mine.ok("load", mrn="EX-02")["version"] == theirs.ok("load", mrn="EX-02")["version"] == 1
    before = audit_count(clinic)
    theirs.ok("edit", field="notes", value="their change")
    assert theirs.ok("save") == {"version": 2}
    mine.ok("edit", field="notes", value="my change")
    mine.ok("edit", field="given_name", value="Changed too")
    stale = mine.do("save")
    assert stale["error"] == "ConflictError"
    assert "changed by another window or workstation" in stale["message"] and "reload" in stale["message"]
    assert audit_count(clinic) == before + 1  # the stale save wrote nothing
    # After a reload both see the same record, with the change that was saved.
    seen_by_me, seen_by_them = mine.ok("state", mrn="EX-02"), theirs.ok("state", mrn="EX-02")
    assert seen_by_me == seen_by_them
    assert seen_by_me["patient"]["notes"] == "their change" and seen_by_me["patient"]["given_name"] != "Changed too"
    # Redone on the fresh copy it lands, and the other workstation sees it.
    mine.ok("load", mrn="EX-02")
    mine.ok("edit", field="notes", value="my change")
    assert mine.ok("save") == {"version": 3}
    assert theirs.ok("state", mrn="EX-02") == mine.ok("state", mrn="EX-02")
    assert theirs.ok("state", mrn="EX-02")["patient"]["notes"] == "my change"

    # A finding removed on one workstation cannot be edited on the other.
    mine.ok("load", mrn="EX-01")
    theirs.ok("load", mrn="EX-01")
    theirs.ok("delete_symptom", index=0)
    gone = mine.do("edit_symptom", index=0, note="too late")
    assert gone["error"] == "ConflictError" and "removed by another window or workstation" in gone["message"]
    assert mine.ok("state", mrn="EX-01") == theirs.ok("state", mrn="EX-01")
    assert mine.ok("check") == []
    assert audit_count(clinic) == before + 3


def test_workstations_creating_a_new_database_at_once_all_get_in(tmp_path):
    """Four workstations open a database that is not there yet, at the same moment; six times over."""
    names = [f"WS-{i}" for i in range(4)]
    for round in range(6):
        db = tmp_path / f"new-{round}.sqlite3"
        children = [drv.Child(drv.main, ["first_open", db, name], stdin=True) for name in names]
        for child in children:
            assert child.readline().strip() == "ready"
        for child in children:
            child.send("go")
        codes = [child.wait(60) for child in children]
        errors = [child.stderr() for child in children]
        for child in children:
            child.close()
        assert codes == [0] * 4, errors
        with Store(db, readonly=True) as store:
            assert store.check() == []
            assert sorted(store.all_mrns()) == names
            assert store.applied_migrations() == known_names()


def hammer(db: Path, writers: int, count: int, mrn: str) -> list[dict]:
    children = [drv.Child(drv.main, ["hammer", db, f"W{i}", count, mrn], stdin=True) for i in range(writers)]
    for child in children:
        assert child.readline().strip() == "ready", child.stderr()
    for child in children:
        child.send("go")
    summaries = []
    for child in children:
        code = child.wait(120)
        assert code == 0, f"a writer failed (exit {code}): {child.stderr()[-2000:]}"
        summaries.append(json.loads(child.rest()))
        child.close()
    return summaries


@pytest.mark.parametrize("writers,count", [pytest.param(4, 40, id="4x40"),
                                           pytest.param(4, 500, id="4x500", marks=pytest.mark.slow)])
def test_many_concurrent_writers_all_land(clinic, writers, count, capsys):
    with Store(clinic, readonly=True) as store:
        before = drv.audit_count(store)
        patient = store.patient_by_mrn("EX-02")
        symptoms_before = len(patient.episodes[0].symptoms)
    start = time.monotonic()
    summaries = hammer(clinic, writers, count, "EX-02")
    took = time.monotonic() - start
    notes = [t for s in summaries for t in s["notes"]]
    symptoms = [t for s in summaries for t in s["symptoms"]]
    assert len(notes) + len(symptoms) == writers * count
    with Store(clinic, readonly=True) as store:
        assert store.check() == []  # integrity, and the audit hash chain intact
        patient = store.patient_by_mrn("EX-02")
        assert sorted(patient.notes.split()) == sorted(notes)  # every token once: no update lost or doubled
        added = sorted(s.note for s in patient.episodes[0].symptoms if s.note.startswith("W"))
        assert added == sorted(symptoms) and len(patient.episodes[0].symptoms) == symptoms_before + len(symptoms)
        assert drv.audit_count(store) == before + writers * count
        assert patient.version == 1 + len(notes)
    conflicts = sum(s["conflicts"] for s in summaries)
    with capsys.disabled():
        print(f"\n[reliability] concurrency: {writers} writers x {count} = {writers * count} writes landed in "
              f"{took:.1f} s ({len(notes)} note edits, {len(symptoms)} findings added, {conflicts} stale-version "
              f"conflicts reloaded and redone, 0 busy failures)")
