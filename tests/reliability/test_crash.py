"""Crash safety: child processes killed with SIGKILL at random points, then the database is checked.

After every kill: `tohtrack check` exits 0, and every transaction is wholly there or wholly absent — the
driver's fsync'd progress log says which transactions were committed (they must be there, exactly as
announced), which one was under way (there as announced, or not at all) and the audit trail holds exactly
one entry per record written by the transactions that landed.

The default suite kills a few times; `-m slow` many more; TOHTRACK_KILLS=N raises the count on demand.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlite_utils.migrations import Migrations

import reliability_driver as drv
from tohtrack import demo, interchange, migrations as mig
from tohtrack.__main__ import main
from tohtrack.db import Store, backup_dir, check_backup

ON_DEMAND = int(os.environ.get("TOHTRACK_KILLS", "0"))


def kills(default: int, share: int = 1) -> int:
    """`default`, or a share of TOHTRACK_KILLS when that is more."""
    return max(default, ON_DEMAND // share)


# The backup, restore and migration kill tests: a few kills by default, more with -m slow.
FEW_OR_MANY = [pytest.param(3, id="few"), pytest.param(30, id="many", marks=pytest.mark.slow)]


def spawn(*args) -> drv.Child:
    """The driver in a child process (forked: it starts at once, with the app already imported)."""
    return drv.Child(drv.main, list(args))


def wait_ready(child: drv.Child, timeout: float = 60) -> None:
    line = child.readline(timeout)
    if line.strip() != "ready":
        child.kill()
        pytest.fail(f"the child did not start: {line!r} {child.stderr()[-2000:]}")


def kill(child: drv.Child, after: float, may_finish: bool = False) -> bool:
    """SIGKILL after `after` seconds; True if it was killed, False if it had finished (only if allowed)."""
    time.sleep(after)
    code = child.kill()  # no-op if it has ended already
    err = child.stderr()
    child.close()
    if code == 0 and may_finish:  # it finished before the kill
        return False
    assert code == -signal.SIGKILL, f"the child ended by itself (exit {code}) before the kill: {err[-3000:]}"
    return True


def cli_check(capsys, db: Path) -> None:
    code = main(["--db", str(db), "check"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.startswith("ok:") and "Traceback" not in out + err


def settings_of(db: Path) -> dict:
    with Store(db, readonly=True) as store:
        return store.setting_texts()


def export_text(db: Path) -> str:
    with Store(db, readonly=True) as store:
        return interchange.dumps(interchange.export_document(store))


# ---------------------------------------------------------------------------
# Imports and edits
# ---------------------------------------------------------------------------


@dataclass
class Expectation:
    """What the database must hold, from the progress logs of the killed drivers."""

    state: dict = field(default_factory=dict)
    audit: int = 0
    kills: int = 0
    committed: int = 0
    in_flight: int = 0  # kills that found a transaction begun and not confirmed
    in_flight_landed: int = 0  # ... of which the commit had reached the disk

    def verify(self, capsys, db: Path, log: Path, self_killed: bool) -> None:
        self.kills += 1
        records = drv.read_log(log)
        begun = [r for r in records if r["phase"] == "begin"]
        committed = {r["op"] for r in records if r["phase"] == "commit"}
        pending = [r for r in begun if r["op"] not in committed]
        assert len(pending) <= 1 and (not pending or pending[0] is begun[-1]), "the driver overlapped transactions"
        for record in begun:
            if record["op"] in committed:
                self.state.update(record["after"])
                self.audit += record["audit"]
                self.committed += 1

        cli_check(capsys, db)  # the first opener after the crash: read-only, as a user would check it
        with Store(db) as store:  # then as the next session opens it
            assert store.check() == []
            actual = drv.db_state(store)
            audit = drv.audit_count(store)

        if pending:
            self.in_flight += 1
            op = pending[0]
            landed = dict(self.state, **op["after"])
            if actual == landed and audit == self.audit + op["audit"]:
                assert not self_killed, f"{op['kind']} {op['op']} landed although killed inside a statement"
                self.state, self.audit = landed, self.audit + op["audit"]
                self.in_flight_landed += 1
                return
            if not (actual == self.state and audit == self.audit):
                pytest.fail(f"{op['kind']} {op['op']} is partly there: " + self.difference(actual, audit, landed))
        assert actual == self.state and audit == self.audit, self.difference(actual, audit, self.state)

    def difference(self, actual: dict, audit: int, expected: dict) -> str:
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        changed = sorted(m for m in set(actual) & set(expected) if actual[m] != expected[m])
        lines = [f"audit entries {audit}, expected {self.audit} (+ the pending op's)",
                 f"missing {missing[:10]}", f"unexpected {extra[:10]}", f"different {changed[:10]}"]
        for mrn in changed[:3]:
            a, e = actual[mrn], expected[mrn]
            lines.append(f"  {mrn}: " + ", ".join(k for k in e if a.get(k) != e[k]))
        return "\n".join(lines)


SEGMENT = 20  # kills on one database file; then a new one, so that the checks stay quick however many kills


def run_kill_loop(capsys, tmp_path: Path, count: int, seed: int) -> Expectation:
    rng = random.Random(seed)
    expectation = Expectation()
    for k in range(count):
        if k % SEGMENT == 0:
            db = tmp_path / f"crash-{k // SEGMENT}.sqlite3"
            Store(db).close()
            expectation.state, expectation.audit = {}, 0
        log = tmp_path / f"progress-{k}.jsonl"
        style = k % 4
        if style == 2:  # the driver kills itself after a random number of SQLite steps: inside a statement
            proc = spawn("crash", db, log, seed * 1000 + k, "--die-after", rng.randint(1, 400))
            assert proc.wait(60) == -signal.SIGKILL, proc.stderr()
            proc.close()
        else:
            proc = spawn("crash", db, log, seed * 1000 + k)
            if style == 3:  # from the launch: lands anywhere, the opening and the WAL recovery included
                kill(proc, rng.uniform(0.0, 0.15))
            else:
                wait_ready(proc)
                kill(proc, rng.uniform(0.0, 0.25))
        expectation.verify(capsys, db, log, self_killed=style == 2)
    return expectation


def report(capsys, text: str) -> None:
    with capsys.disabled():
        print(f"\n[reliability] {text}")


def test_killed_imports_and_edits_leave_whole_transactions(capsys, tmp_path):
    n = kills(15)
    got = run_kill_loop(capsys, tmp_path, n, seed=1)
    assert got.kills == n and got.committed > n  # the driver got work done between kills
    assert got.in_flight >= n // 4  # at least the self-inflicted kills landed inside a transaction
    report(capsys, f"crash loop: {got.kills} kills survived, {got.committed} committed transactions verified, "
                   f"{got.in_flight} kills inside a transaction ({got.in_flight_landed} of them after the commit "
                   f"reached the disk), {len(got.state)} patients, {got.audit} audit entries")


@pytest.mark.slow
def test_killed_imports_and_edits_many_times(capsys, tmp_path):
    n = kills(120)
    got = run_kill_loop(capsys, tmp_path, n, seed=2)
    assert got.kills == n and got.in_flight >= n // 4
    report(capsys, f"crash loop (slow): {got.kills} kills survived, {got.committed} committed transactions, "
                   f"{got.in_flight} inside a transaction ({got.in_flight_landed} after the commit)")


# ---------------------------------------------------------------------------
# Backup, restore and migration
# ---------------------------------------------------------------------------


COHORT_TODAY = drv.DEMO_TODAY


@pytest.fixture(scope="module")
def cohort(tmp_path_factory) -> Path:
    """A database of 150 demo patients (module-wide template: copy it before changing anything)."""
    path = tmp_path_factory.mktemp("cohort") / "cohort.sqlite3"
    with Store(path, clinician="template") as store:
        store.add_patients(list(demo.generate(150, seed=7, today=COHORT_TODAY)), validate=False)
    return path


def timed(proc: drv.Child) -> float:
    """Run a child to its end from 'ready'; its duration."""
    wait_ready(proc)
    start = time.monotonic()
    assert proc.wait(120) == 0, proc.stderr()
    proc.close()
    return time.monotonic() - start


def fresh_copy(template: Path, target: Path) -> Path:
    """The template put in place of the target by hand: a rollback to the audit witness (tohtrack.witness), so
    it starts over with a witness that has not seen the database (a new workstation)."""
    for stale in (target, target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(template, target)
    os.environ["TOHTRACK_WITNESS"] = tempfile.mkdtemp(prefix="witness-", dir=target.parent)
    return target


def backups_are_whole(folder: Path, expected: str | None = None) -> int:
    """Every finished backup in the folder passes the restore check (and holds `expected`); their number."""
    found = sorted(folder.glob("*.sqlite3")) if folder.exists() else []
    for path in found:
        assert check_backup(path) == [], path
        if expected is not None:
            assert export_text(path) == expected, path
    return len(found)


def kill_loop(count: int, duration: float, attempt) -> tuple[int, int]:
    """Call `attempt(window)` (start a child, kill it within `window` seconds, check) until `count` of them were
    killed; a child that finished first narrows the window. Returns (killed, finished first)."""
    killed = finished = 0
    window = 1.1 * duration
    while killed < count:
        if attempt(window):
            killed += 1
        else:
            finished += 1
            window *= 0.8
            assert finished < 5 * count + 10, "the children keep finishing before the kill"
    return killed, finished


@pytest.mark.parametrize("count", FEW_OR_MANY)
def test_killed_backup_leaves_the_database_and_no_broken_copy(capsys, tmp_path, cohort, count):
    db = fresh_copy(cohort, tmp_path / "clinic.sqlite3")
    before = export_text(db)
    target = tmp_path / "copies" / "b.sqlite3"
    target.parent.mkdir()  # no command makes folders for its output
    duration = min(timed(spawn("cli", "--db", db, "backup", "-o", target)) for _ in range(2))
    rng = random.Random(3)

    def attempt(window: float) -> bool:
        target.unlink(missing_ok=True)
        proc = spawn("cli", "--db", db, "backup", "-o", target)
        wait_ready(proc)
        was_killed = kill(proc, rng.uniform(0, window), may_finish=True)
        cli_check(capsys, db)
        assert export_text(db) == before
        if target.exists():  # moved into place only when whole
            assert check_backup(target) == [] and export_text(target) == before
        return was_killed

    killed, finished = kill_loop(kills(count, share=5), duration, attempt)
    report(capsys, f"backup: {killed} kills survived ({finished} finished first), backup run {duration:.2f} s")


@pytest.mark.parametrize("count", FEW_OR_MANY)
def test_killed_restore_leaves_the_old_or_the_new_database(capsys, tmp_path, cohort, count):
    backup = tmp_path / "backup.sqlite3"
    shutil.copyfile(cohort, backup)
    old = tmp_path / "old.sqlite3"
    shutil.copyfile(cohort, old)
    with Store(old, clinician="Dr Old") as store:  # the current database: the backup plus later work
        store.add_patients(list(demo.generate(40, seed=8, today=COHORT_TODAY)), validate=False)
        store.set_setting("clinic_name", "After the backup")
    old_text, new_text = export_text(old), export_text(backup)
    old_settings, new_settings = settings_of(old), settings_of(backup)
    assert old_text != new_text and old_settings != new_settings
    db = fresh_copy(old, tmp_path / "clinic.sqlite3")
    duration = timed(spawn("cli", "--db", db, "restore", backup))
    assert export_text(db) == new_text
    duration = min(duration, timed(spawn("cli", "--db", fresh_copy(old, db), "restore", backup)))
    rng = random.Random(4)
    outcome = {"old": 0, "new": 0}

    def attempt(window: float) -> bool:
        fresh_copy(old, db)
        shutil.rmtree(backup_dir(db), ignore_errors=True)
        proc = spawn("cli", "--db", db, "restore", backup)
        wait_ready(proc)
        # half of the kills aimed at the end, where the backup's pages are copied over the database
        was_killed = kill(proc, rng.choice([rng.uniform(0.1, 0.9), rng.uniform(0.65, 0.95)]) * window, may_finish=True)
        cli_check(capsys, db)
        now = export_text(db)
        assert now in (old_text, new_text), "a restore killed half-way left neither database"
        if was_killed:
            outcome["old" if now == old_text else "new"] += 1
        assert settings_of(db) == (old_settings if now == old_text else new_settings)
        backups_are_whole(backup_dir(db), expected=old_text)  # the kept copy of the replaced database
        return was_killed

    killed, finished = kill_loop(kills(count + 1, share=5), duration, attempt)
    report(capsys, f"restore: {killed} kills survived, the database was then the old one {outcome['old']} times, "
                   f"the restored one {outcome['new']} times ({finished} finished first); "
                   f"restore run {duration:.2f} s")


def only_m001() -> Migrations:
    ms = Migrations("tohtrack")
    ms()(mig.m001_initial)
    return ms


def schema_of(db: Path) -> tuple[list[str], set[str]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        return names, indexes
    finally:
        conn.close()


@pytest.mark.parametrize("count", FEW_OR_MANY)
def test_killed_migration_leaves_the_old_or_the_new_schema(capsys, tmp_path, count):
    old = tmp_path / "old-schema.sqlite3"
    with Store(old, migration_set=only_m001(), clinician="old version") as store:
        store.add_patients(list(demo.generate(150, seed=9, today=COHORT_TODAY)), validate=False)
    before = export_text(old)
    db = fresh_copy(old, tmp_path / "clinic.sqlite3")
    duration = timed(spawn("cli", "--db", db, "settings", "clinic_name", "Upgraded"))
    assert schema_of(db)[0] == mig.known_names()
    duration = min(duration, timed(spawn("cli", "--db", fresh_copy(old, db), "settings", "clinic_name", "Again")))
    rng = random.Random(5)
    outcome = {"old": 0, "new": 0}

    def attempt(window: float) -> bool:
        fresh_copy(old, db)
        shutil.rmtree(backup_dir(db), ignore_errors=True)
        proc = spawn("cli", "--db", db, "settings", "clinic_name", "Upgraded")
        wait_ready(proc)
        was_killed = kill(proc, rng.uniform(0, window), may_finish=True)
        cli_check(capsys, db)  # read-only: does not upgrade
        names, indexes = schema_of(db)
        if names == ["m001_initial"]:
            assert "patients_family_key" in indexes and "patients_name" not in indexes
        else:
            assert names == mig.known_names()
            assert "patients_name" in indexes and "patients_family_key" not in indexes
        if was_killed:
            outcome["old" if names == ["m001_initial"] else "new"] += 1
        assert export_text(db) == before
        backups_are_whole(backup_dir(db), expected=before)
        with Store(db) as store:  # and the next session upgrades it as if nothing had happened
            assert store.check() == [] and store.count_patients() == 150
        assert schema_of(db)[0] == mig.known_names()
        return was_killed

    killed, finished = kill_loop(kills(count, share=5), duration, attempt)
    report(capsys, f"migration: {killed} kills survived, then old schema {outcome['old']} times, upgraded "
                   f"{outcome['new']} times ({finished} finished first); upgrade run {duration:.2f} s")
