"""Child processes for the reliability tests, killed with SIGKILL or steered line by line by the tests.

The tests start them with `Child(main, [MODE, ...])`: a forked process of its own (its own SQLite
connections and locks) that starts at once, the app being imported already; the same modes run as a script,
``python reliability_driver.py MODE ...``, with the tests directory and the project on the path.

``crash DB LOG SEED [--die-after STEPS]``
    A loop of imports (through tohtrack.interchange, from files) and edits (Store.update_*, add_*,
    delete_*, set_archived) on DB, forever, until killed. Before each transaction it appends a "begin"
    line to LOG with the exact state every patient it touches must have once the transaction is
    committed, and the number of audit entries the transaction writes; after the commit a "commit" line.
    Each line is flushed and fsync'd, so after a SIGKILL the log says what must be there (committed),
    what may be there (the one begun, not known to be committed) and what must not (the rest).
    With --die-after the driver sends itself SIGKILL after that many SQLite VM steps (counted in
    chunks of 50), so the kill lands inside a transaction's statements.

``cli [--busy-ms MS] [--max-pages N] [--file-size-limit BYTES] TOHTRACK-ARGS...``
    Print "ready" (a kill timer starts then), then run the tohtrack command line; the options shorten the
    busy timeout, or simulate a full disk (SQLite's max_page_count) or a quota (RLIMIT_FSIZE).

``workstation DB CLINICIAN [--busy-ms MS]``
    One workstation steered through stdin: one JSON command a line, one JSON answer a line (see
    `Workstation`).

``first_open DB NAME``
    Waits for "go" on stdin, then opens (creating) DB and adds a patient: several at once race to create it.

``hammer DB NAME COUNT MRN``
    One of several concurrent writers: waits for "go" on stdin, then makes COUNT writes to the patient MRN
    (append a token to the notes, retrying on a stale-version conflict; or add a symptom record), and
    prints a JSON summary.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import select
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

import tohtrack.store.sqlite.store as sqlite_store
from tohtrack import demo, interchange
from tohtrack.db import ConflictError, Store, StoreError
from tohtrack.model import Episode, ImagingStudy, Patient, SymptomRecord, Treatment, ValidationError

DEMO_TODAY = dt.date(2025, 12, 1)
SITES = [f"{joint}_{side}" for joint in ("hip", "knee", "ankle", "foot", "shoulder", "elbow", "wrist", "hand")
         for side in ("left", "right")]


# ---------------------------------------------------------------------------
# Child processes
# ---------------------------------------------------------------------------


class Child:
    """`main(argv)` of this module run in a forked child process (already imported: no start-up delay).

    The child is a process of its own, with its own SQLite connections (the parent must hold none open to
    the same file when forking); its stdout comes back through a pipe, its stderr through a file, and
    with `stdin=True` the parent can write lines to it.
    """

    def __init__(self, main, argv: list, stdin: bool = False):
        out_r, out_w = os.pipe()
        in_r, in_w = os.pipe() if stdin else (None, None)
        self.err = tempfile.TemporaryFile()
        self.returncode: int | None = None
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 70
            try:
                os.close(out_r)
                os.dup2(out_w, 1)
                os.dup2(self.err.fileno(), 2)
                if stdin:
                    os.close(in_w)
                    os.dup2(in_r, 0)
                sys.stdout = open(1, "w", buffering=1, encoding="utf-8", closefd=False)
                sys.stderr = open(2, "w", buffering=1, encoding="utf-8", closefd=False)
                sys.stdin = open(0, "r", encoding="utf-8", closefd=False)
                code = main([str(a) for a in argv])
            except SystemExit as exc:
                if isinstance(exc.code, int) or exc.code is None:
                    code = exc.code or 0
                else:
                    print(exc.code, file=sys.stderr)
                    code = 1
            except BaseException:
                traceback.print_exc()
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(code)
        self.pid = pid
        os.close(out_w)
        self.stdout = open(out_r, "r", encoding="utf-8")
        self.stdin = None
        if stdin:
            os.close(in_r)
            self.stdin = open(in_w, "w", buffering=1, encoding="utf-8")

    def readline(self, timeout: float = 60) -> str:
        ready, _, _ = select.select([self.stdout], [], [], timeout)
        return self.stdout.readline() if ready else ""

    def send(self, line: str) -> None:
        self.stdin.write(line + "\n")
        self.stdin.flush()

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float = 60) -> int:
        end = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > end:
                self.kill()
                raise TimeoutError(f"child {self.pid} still running after {timeout} s: {self.stderr()[-2000:]}")
            time.sleep(0.005)
        return self.returncode

    def kill(self) -> int:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def stderr(self) -> str:
        self.err.seek(0)
        return self.err.read().decode("utf-8", "replace")

    def rest(self) -> str:
        """What is left of stdout (once the child has ended)."""
        return self.stdout.read()

    def close(self) -> None:
        for f in (self.stdout, self.stdin, self.err):
            if f is not None:
                f.close()


def main(argv: list[str]) -> int:
    """The entry of a child: MODE then its arguments (as on the command line)."""
    mode, rest = argv[0], argv[1:]
    try:
        return {"crash": crash_main, "cli": cli_main, "workstation": workstation_main, "hammer": hammer_main,
                "first_open": first_open_main}[mode](rest)
    except StoreError as exc:  # e.g. "busy" when a writer could not get in: say so, as the app would
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 3


# ---------------------------------------------------------------------------
# State as the tests compare it
# ---------------------------------------------------------------------------


def snapshot(patient: Patient) -> dict[str, Any]:
    """A patient as exported (every field, no ids), with findings in a canonical order."""
    out = interchange.patient_to_dict(patient)
    for episode in out["episodes"]:
        for kind in ("imaging", "symptoms", "treatments"):
            episode[kind].sort(key=lambda r: json.dumps(r, sort_keys=True))
    out["episodes"].sort(key=lambda e: json.dumps(e, sort_keys=True))
    return out


def db_state(store: Store) -> dict[str, dict[str, Any]]:
    """Every patient of the database by MRN, as `snapshot` gives it."""
    return {p.mrn: snapshot(p) for p in store.patients()}


def audit_count(store: Store) -> int:
    return store.conn.execute("SELECT count(*) FROM audit").fetchone()[0]


def read_log(path: Path) -> list[dict[str, Any]]:
    """The complete lines of a progress log (a kill may have cut the last one short)."""
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line:
            continue
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break  # the line being written when the process died, necessarily the last one
    return out


# ---------------------------------------------------------------------------
# The crash loop
# ---------------------------------------------------------------------------


class Log:
    def __init__(self, path: Path):
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def write(self, record: dict[str, Any]) -> None:
        os.write(self.fd, (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))
        os.fsync(self.fd)


def _records(patient: Patient) -> int:
    return 1 + sum(1 + len(e.imaging) + len(e.symptoms) + len(e.treatments) for e in patient.episodes)


class CrashLoop:
    """Random imports and edits, each one transaction announced in the log before and after."""

    def __init__(self, store: Store, log: Log, seed: int, workdir: Path):
        self.store, self.log, self.workdir = store, log, workdir
        self.rng = random.Random(seed)
        self.seed = seed
        self.patients: dict[str, Patient] = {p.mrn: p for p in store.patients()}
        self.today = dt.date.today()
        self.n = 0

    def run(self, limit_s: float) -> None:
        ops = [(self.import_file, 3), (self.update_patient, 3), (self.set_archived, 1), (self.update_episode, 2),
               (self.add_episode, 2), (self.delete_episode, 1), (self.add_finding, 3), (self.update_finding, 2),
               (self.delete_finding, 2)]
        functions, weights = zip(*ops)
        end = time.monotonic() + limit_s
        while time.monotonic() < end:
            self.n += 1
            tag = f"{self.seed}-{self.n}"
            op = self.rng.choices(functions, weights)[0] if self.patients else self.import_file
            op(tag)
        raise SystemExit(f"crash driver: not killed within {limit_s} s")

    # each op: change the in-memory records, announce, write, confirm

    def _transaction(self, tag: str, kind: str, touched: list[Patient], audit: int, write) -> None:
        self.log.write({"op": tag, "phase": "begin", "kind": kind, "audit": audit,
                        "after": {p.mrn: snapshot(p) for p in touched}})
        write()
        self.log.write({"op": tag, "phase": "commit"})

    def _patient(self, with_episodes: bool = False) -> Patient | None:
        choices = [p for p in self.patients.values() if p.episodes or not with_episodes]
        return self.rng.choice(sorted(choices, key=lambda p: p.mrn)) if choices else None

    def _episode(self, patient: Patient) -> Episode:
        return self.rng.choice(patient.episodes)

    def _date_after(self, start: dt.date, days: int) -> dt.date:
        return min(start + dt.timedelta(days=days), self.today)

    def import_file(self, tag: str) -> None:
        count = self.rng.randint(1, 6)
        generated = list(demo.generate(count, seed=self.rng.randrange(10_000), today=DEMO_TODAY))
        for i, patient in enumerate(generated):
            patient.mrn = f"K{tag}-{i}"
        path = self.workdir / f"import-{tag}.json"
        interchange.write_file(path, interchange.dumps(interchange.document(generated)))
        audit = sum(_records(p) for p in generated)
        self._transaction(tag, "import", generated, audit, lambda: interchange.import_file(self.store, path))
        path.unlink()
        # The import is streamed (it returns counts, not the patients): read them back, after the commit is logged.
        for patient in [self.store.patient_by_mrn(p.mrn) for p in generated]:
            self.patients[patient.mrn] = patient

    def update_patient(self, tag: str) -> None:
        patient = self._patient()
        patient.notes = f"edited {tag}"
        patient.given_name = f"Given {tag}"
        patient.family_name = f"Family {tag}"
        self._transaction(tag, "update_patient", [patient], 1, lambda: self.store.update_patient(patient))

    def set_archived(self, tag: str) -> None:
        patient = self._patient()
        patient.archived = not patient.archived

        def write():
            patient.version = self.store.set_archived(patient.id, patient.version, patient.archived)

        self._transaction(tag, "set_archived", [patient], 1, write)

    def update_episode(self, tag: str) -> None:
        patient = self._patient(with_episodes=True)
        if patient is None:
            return self.import_file(tag)
        episode = self._episode(patient)
        episode.notes = f"edited {tag}"
        episode.avn_risk_factors = [] if episode.avn_risk_factors else ["smoking", "alcohol"]
        self._transaction(tag, "update_episode", [patient], 1, lambda: self.store.update_episode(episode))

    def add_episode(self, tag: str) -> None:
        patient = self._patient()
        free = [s for s in SITES if s not in {e.site for e in patient.episodes}]
        if not free:
            return self.update_patient(tag)
        onset = max(patient.birth_date, dt.date(2024, 1, 1))
        episode = Episode(
            site=self.rng.choice(free), symptom_onset=onset, notes=f"added {tag}",
            imaging=[ImagingStudy(date=self._date_after(onset, 9), modality="XR", osteopenia=True,
                                  report=f"added {tag}")],
            symptoms=[SymptomRecord(date=self._date_after(onset, d), pain_nrs=self.rng.randint(0, 10),
                                    note=f"added {tag}") for d in (3, 40)],
            treatments=[Treatment(start=self._date_after(onset, 3), kind="analgesia", detail=f"added {tag}")])
        patient.episodes.append(episode)
        self._transaction(tag, "add_episode", [patient], 5, lambda: self.store.add_episode(patient.id, episode))

    def delete_episode(self, tag: str) -> None:
        patient = self._patient(with_episodes=True)
        if patient is None:
            return self.import_file(tag)
        episode = self._episode(patient)
        patient.episodes.remove(episode)
        audit = 1 + len(episode.imaging) + len(episode.symptoms) + len(episode.treatments)
        self._transaction(tag, "delete_episode", [patient], audit,
                          lambda: self.store.delete_episode(episode.id, episode.version))

    def add_finding(self, tag: str) -> None:
        patient = self._patient(with_episodes=True)
        if patient is None:
            return self.import_file(tag)
        episode = self._episode(patient)
        when = self._date_after(episode.symptom_onset, self.rng.randint(0, 300))
        if self.rng.random() < 0.5:
            record: Any = SymptomRecord(date=when, pain_nrs=self.rng.randint(0, 10),
                                        function_score=self.rng.randint(0, 100), note=f"added {tag}")
            episode.symptoms.append(record)
        else:
            record = Treatment(start=when, kind="bisphosphonate", detail=f"added {tag}")
            episode.treatments.append(record)
        self._transaction(tag, "add_finding", [patient], 1, lambda: self.store.add_finding(episode.id, record))

    def _finding(self, patient: Patient):
        records = [(e, kind, r) for e in patient.episodes for kind in ("imaging", "symptoms", "treatments")
                   for r in getattr(e, kind)]
        return self.rng.choice(records) if records else None

    def update_finding(self, tag: str) -> None:
        patient = self._patient(with_episodes=True)
        found = self._finding(patient) if patient else None
        if found is None:
            return self.add_episode(tag)
        _, kind, record = found
        if kind == "imaging":
            record.report = f"edited {tag}"
            record.osteopenia = not record.osteopenia
            record.time = None if record.time else "07:30"
        elif kind == "symptoms":
            record.note = f"edited {tag}"
            record.pain_nrs = self.rng.randint(0, 10)
            record.weight_bearing = "partial"
        else:
            record.detail = f"edited {tag}"
            record.end = None if record.end else self._date_after(record.start, 30)
        self._transaction(tag, "update_finding", [patient], 1, lambda: self.store.update_finding(record))

    def delete_finding(self, tag: str) -> None:
        patient = self._patient(with_episodes=True)
        found = self._finding(patient) if patient else None
        if found is None:
            return self.add_episode(tag)
        episode, kind, record = found
        getattr(episode, kind).remove(record)
        self._transaction(tag, "delete_finding", [patient], 1, lambda: self.store.delete_finding(record))


def crash_main(argv: list[str]) -> int:
    db, log, seed = Path(argv[0]), Path(argv[1]), int(argv[2])
    die_after = int(argv[argv.index("--die-after") + 1]) if "--die-after" in argv else None
    workdir = log.parent
    with Store(db, clinician=f"driver {seed}") as store:
        loop = CrashLoop(store, Log(log), seed, workdir)
        if die_after is not None:
            steps = [0]

            def progress() -> int:
                steps[0] += 1
                # Inside a write transaction only: the reads after a commit (the audit witness moved on) are
                # no longer the transaction's, and a kill there finds it landed, as it should.
                if steps[0] >= die_after and store.conn.in_transaction:
                    os.kill(os.getpid(), signal.SIGKILL)
                return 0

            store.conn.set_progress_handler(progress, 50)
        print("ready", flush=True)
        loop.run(limit_s=30)
    return 0


# ---------------------------------------------------------------------------
# The command line, after "ready"
# ---------------------------------------------------------------------------


def cli_main(argv: list[str]) -> int:
    """Options before the tohtrack arguments: --busy-ms MS (a shorter busy timeout), --max-pages N (the
    database may grow by N pages only: a full disk as SQLite sees it), --file-size-limit BYTES (no file of
    this process may grow past that: a quota, as the operating system enforces it)."""
    while argv and argv[0] in ("--busy-ms", "--max-pages", "--file-size-limit"):
        option, value, argv = argv[0], int(argv[1]), argv[2:]
        if option == "--busy-ms":
            sqlite_store.BUSY_TIMEOUT_MS = value
        elif option == "--max-pages":
            configure = Store._configure

            def limited(store, grow=value):
                configure(store)
                pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
                store.conn.execute(f"PRAGMA max_page_count = {pages + grow}")

            Store._configure = limited
        else:
            import resource

            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails (EFBIG) instead of killing us
            resource.setrlimit(resource.RLIMIT_FSIZE, (value, value))
    from tohtrack.__main__ import main

    print("ready", flush=True)
    return main(argv)


# ---------------------------------------------------------------------------
# Workstations
# ---------------------------------------------------------------------------


class Workstation:
    """Commands (JSON objects with "do"):

    load {mrn}                       read the patient as the GUI would (kept as "the open record")
    edit {field, value}              change a field of the open record (in memory only)
    save                             save the open record's own fields (update_patient)
    add_symptom {note}               add a symptom record to the open record's first episode
    edit_symptom {index, note}       change the note of a symptom record of the open record and save it
    delete_symptom {index}           remove a symptom record of the open record
    state {mrn}                      the patient as stored now (snapshot), with its version
    hold                             open a write transaction and keep it open (BEGIN IMMEDIATE)
    read_hold                        open a read transaction and keep it open
    release                          end the held transaction (committing nothing)
    check                            Store.check()
    Answers: {"ok": ...} or {"error": exception class name, "message": text}.
    """

    def __init__(self, store: Store):
        self.store = store
        self.open: Patient | None = None
        self.held = False

    def handle(self, command: dict[str, Any]) -> Any:
        do = command["do"]
        if do == "load":
            self.open = self.store.patient_by_mrn(command["mrn"])
            return {"version": self.open.version, "patient": snapshot(self.open)}
        if do == "edit":
            setattr(self.open, command["field"], command["value"])
            return {}
        if do == "save":
            self.store.update_patient(self.open)
            return {"version": self.open.version}
        if do == "add_symptom":
            episode = self.open.episodes[0]
            record = SymptomRecord(date=episode.symptom_onset, note=command["note"])
            self.store.add_finding(episode.id, record)
            return {"id": record.id}
        if do == "edit_symptom":
            record = self.open.episodes[0].symptoms[command["index"]]
            record.note = command["note"]
            self.store.update_finding(record)
            return {"version": record.version}
        if do == "delete_symptom":
            self.store.delete_finding(self.open.episodes[0].symptoms[command["index"]])
            return {}
        if do == "state":
            patient = self.store.patient_by_mrn(command["mrn"])
            return {"version": patient.version, "patient": snapshot(patient)}
        if do == "hold":
            self.store.conn.execute("BEGIN IMMEDIATE")
            return {}
        if do == "read_hold":
            self.store.conn.execute("BEGIN")
            self.store.conn.execute("SELECT count(*) FROM patients").fetchone()
            return {}
        if do == "release":
            self.store.conn.execute("ROLLBACK")
            return {}
        if do == "check":
            return self.store.check()
        raise ValueError(f"unknown command {do!r}")


def workstation_main(argv: list[str]) -> int:
    if "--busy-ms" in argv:
        sqlite_store.BUSY_TIMEOUT_MS = int(argv[argv.index("--busy-ms") + 1])
    with Store(Path(argv[0]), clinician=argv[1]) as store:
        station = Workstation(store)
        print(json.dumps({"ok": "ready"}), flush=True)
        for line in sys.stdin:
            try:
                answer = {"ok": station.handle(json.loads(line))}
            except (StoreError, ValidationError) as exc:
                answer = {"error": type(exc).__name__, "message": str(exc)}
            print(json.dumps(answer), flush=True)
    return 0


def first_open_main(argv: list[str]) -> int:
    """Wait for "go", then open (create) the database and add a patient whose MRN is NAME."""
    db, name = Path(argv[0]), argv[1]
    print("ready", flush=True)
    assert sys.stdin.readline().strip() == "go"
    with Store(db, clinician=name) as store:
        store.add_patient(Patient(mrn=name, family_name="Opened", given_name=name,
                                  birth_date=dt.date(1970, 1, 1), sex="unknown"))
    return 0


# ---------------------------------------------------------------------------
# Concurrent writers
# ---------------------------------------------------------------------------


def hammer_main(argv: list[str]) -> int:
    db, name, count, mrn = Path(argv[0]), argv[1], int(argv[2]), argv[3]
    rng = random.Random(name)
    summary = {"name": name, "notes": [], "symptoms": [], "conflicts": 0, "busy": 0, "audit": 0}
    with Store(db, clinician=name) as store:
        print("ready", flush=True)
        assert sys.stdin.readline().strip() == "go"
        for i in range(count):
            token = f"{name}.{i}"
            if rng.random() < 0.5:
                while True:  # what a user does on a conflict: reload, redo the change, save
                    patient = store.patient_by_mrn(mrn)
                    patient.notes = (patient.notes + " " + token).strip()
                    try:
                        store.update_patient(patient)
                        break
                    except ConflictError:
                        summary["conflicts"] += 1
                summary["notes"].append(token)
            else:
                episode = store.patient_by_mrn(mrn).episodes[0]
                store.add_finding(episode.id, SymptomRecord(date=episode.symptom_onset, note=token))
                summary["symptoms"].append(token)
            summary["audit"] += 1
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
