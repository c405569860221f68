"""Bad input on the command line, driven by hypothesis (the README's "The command line").

Random strings for --as-of, --patient, demo's --patients and --seed, settings keys and values, --clinician,
file paths and whole argument lists. Each run goes through `main()` in this process. Whatever is given:
the exit code is 0, 1 or 2 as section 1 says (0 exactly when the value is good, 2 for a bad value, 1 for
other failures), no traceback and no "unexpected error", and a refused value leaves the database as it was.
Strings include what a shell hands over for bytes that are not UTF-8 (lone surrogates); never NUL, which no
command line can hold. tests/test_cli.py has the worked examples; this file tries many values.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import sqlite3
import stat
import unicodedata
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from conftest import minimal_document
from tohtrack import settings as settings_mod
from tohtrack.__main__ import main
from tohtrack.db import Store, check_backup
from tohtrack.model import parse_date
from tohtrack.safety import LATEST_AS_OF

EXAMPLES = int(os.environ.get("TOHTRACK_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.filter_too_much])
# The characters Unicode shows as nothing though not format characters (combining grapheme joiner, Hangul
# fillers, variation selectors…): refused in one-line texts, left out when MRNs are compared.
INVISIBLE = {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, *range(0x180B, 0x1810), 0x3164, *range(0xFE00, 0xFE10), 0xFFA0,
             *range(0xE0100, 0xE01F0)}
MRNS = ["EX-01", "EX-02", "EX-03", "EX-04", "EX-05", "EX-06"]

#: How many values were tried per argument (printed by the last test).
TRIED: Counter = Counter()


class _Streams:
    """stdout and stderr as a terminal has them (UTF-8; stderr escapes what it cannot encode, as Python's does)."""

    def __enter__(self):
        self.saved = sys.stdout, sys.stderr
        self.out, self.err = io.BytesIO(), io.BytesIO()
        self.wrappers = (io.TextIOWrapper(self.out, encoding="utf-8", errors="strict", write_through=True),
                         io.TextIOWrapper(self.err, encoding="utf-8", errors="backslashreplace", write_through=True))
        sys.stdout, sys.stderr = self.wrappers
        return self

    def __exit__(self, *exc):
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = self.saved

    def text(self) -> tuple[str, str]:
        return (self.out.getvalue().decode("utf-8", "surrogateescape"),
                self.err.getvalue().decode("utf-8", "surrogateescape"))


def run(capsys, *args):
    """main() in this process: (exit code, stdout, stderr); never a traceback or an unexpected error."""
    capsys.readouterr()
    with _Streams() as streams:
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse's own exits (usage errors: 2)
            code = exc.code
    out, err = streams.text()
    assert "Traceback" not in out + err, err
    assert "unexpected error" not in err, err
    assert code in (0, 1, 2), (code, err)
    return code, out, err


RECORD_TABLES = ("patients", "episodes", "imaging", "symptoms", "treatments", "settings", "audit")


def snapshot(path: Path) -> list:
    """Every record and audit entry the database holds (caches of derived data left out), read without writing."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [(table, conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()) for table in RECORD_TABLES]
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# Strategies: what might be typed after an option
# ---------------------------------------------------------------------------

#: Text as a shell hands it over: any characters but NUL, or bytes that are not UTF-8 (lone surrogates).
typed = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=30),
    st.binary(max_size=12).filter(lambda b: b"\x00" not in b).map(lambda b: b.decode("utf-8", "surrogateescape")),
)
iso_dates = st.dates(dt.date.min, dt.date.max).map(dt.date.isoformat)
date_like = st.one_of(
    iso_dates,
    st.from_regex(r"[0-9]{1,5}-[0-9]{1,3}-[0-9]{1,3}", fullmatch=True),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    st.sampled_from(["2026-02-29", "2024-02-29", "2026-13-01", "2026-00-10", "2026-1-5", "20260301", "today",
                     " 2026-03-01", "2026-03-01 ", "2026-03-01\n", "２０２６-０３-０１", "2026‐03‐01", "9999-12-31",
                     "3000-01-01", "2999-12-31", "0001-01-01", "-2026-03-01", "+2026-03-01",
                     "2026-03-01T00:00"]),
    typed,
)


def date_verdict(text: str) -> bool:
    """Whether --as-of takes this text: an ISO calendar date, no later than the latest the assessment reckons."""
    try:
        return parse_date(text) <= LATEST_AS_OF
    except ValueError:
        return False


# ---------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------


@pytest.fixture
def loaded(capsys, db_path, vignettes_path):
    code, _, err = run(capsys, "import", vignettes_path)
    assert code == 0, err
    return db_path


# ---------------------------------------------------------------------------
# --as-of
# ---------------------------------------------------------------------------


@FUZZ
@given(text=date_like, command=st.sampled_from(["flags", "worklist"]), as_json=st.booleans())
def test_as_of_takes_iso_dates_and_refuses_the_rest(capsys, loaded, text, command, as_json):
    before = snapshot(loaded)
    extra = ["--json"] if command == "flags" and as_json else []
    code, out, err = run(capsys, command, f"--as-of={text}", *extra)
    TRIED["--as-of"] += 1
    if date_verdict(text):
        assert code == 0, err
        day = parse_date(text).isoformat()
        if extra:
            assert json.loads(out)["as_of"] == day
        else:
            assert day in out.splitlines()[0]
    else:
        assert code == 2 and "--as-of" in err and out == "", err
    assert snapshot(loaded) == before


# ---------------------------------------------------------------------------
# --patient
# ---------------------------------------------------------------------------

mrn_like = st.one_of(st.sampled_from(MRNS), st.sampled_from(MRNS).map(lambda m: f"  {m}\t"),
                     st.sampled_from(MRNS).map(str.lower), st.sampled_from(MRNS).map(lambda m: m + "x"),
                     st.sampled_from(["", " ", "EX-", "EX-1", "EX-01 EX-02", "EX‐01", "%", "_", "' OR 1=1 --",
                                      "EX-01'; DROP TABLE patients; --"]),
                     typed)


def same_mrn(typed_mrn):
    """The stored MRN a typed one is (MRNs compare after NFKC, in any case, trimmed, invisible characters aside)."""
    def key(text):
        text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
        return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cn", "Co", "Zl", "Zp")
                       and ord(c) not in INVISIBLE).strip()

    try:
        typed_mrn.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return next((m for m in MRNS if key(m) == key(typed_mrn)), None)


@FUZZ
@given(values=st.lists(mrn_like, min_size=1, max_size=3), command=st.sampled_from(["flags", "export", "audit"]))
def test_patient_finds_known_mrns_and_refuses_the_rest(capsys, loaded, values, command):
    if command == "audit":
        values = values[:1]  # audit takes one
    before = snapshot(loaded)
    args = [command, *[f"--patient={v}" for v in values]]
    if command == "export":
        args += ["-o", "-"]
    if command == "flags":
        args += ["--json", "--as-of=2026-03-01"]
    code, out, err = run(capsys, *args)
    TRIED["--patient"] += len(values)
    known = all(same_mrn(v) is not None for v in values)
    if known:
        assert code == 0, err
        wanted = sorted({same_mrn(v) for v in values})
        if command == "audit":
            assert f"({wanted[0]})\n" in out  # each entry names its patient
        else:
            assert sorted(p["mrn"] for p in json.loads(out)["patients"]) == wanted
    else:
        assert code == 2 and out == "", err
        assert "no patient with MRN" in err or "not valid text" in err, err
    assert snapshot(loaded) == before


# ---------------------------------------------------------------------------
# demo --patients, --seed
# ---------------------------------------------------------------------------

whole_like = st.one_of(st.integers(1, 4).map(str), st.integers(-5, 5).map(lambda n: f" {n:+d} "),
                       st.sampled_from(["0", "-1", "1000001", "1e2", "2.0", "0x3", "٣", "1_0", "", " ", "many",
                                        "99999999999999999999999"]),
                       typed)


def whole_value(text: str, low: int, high: int) -> int | None:
    """The number --patients / --seed take from this text (Python's int()), or None if it is refused."""
    try:
        value = int(text)
    except ValueError:
        return None
    return value if low <= value <= high else None


@FUZZ
@given(patients=whole_like, seed=whole_like)
def test_demo_counts_and_seeds(capsys, db_path, patients, seed):
    count, seed_value = whole_value(patients, 1, 1_000_000), whole_value(seed, 0, 999_999)
    assume(count is None or count <= 4)  # a valid large cohort is tested elsewhere; keep this fast
    before = snapshot(db_path) if db_path.exists() else None
    code, out, err = run(capsys, "demo", f"--patients={patients}", f"--seed={seed}")
    TRIED["--patients/--seed"] += 1
    if count is not None and seed_value is not None:
        assert code == 0, err
        assert f"added {count} demo patients (seed {seed_value})" in out
    else:
        assert code == 2 and ("--patients" in err or "--seed" in err), err
        assert (snapshot(db_path) if db_path.exists() else None) == before


# ---------------------------------------------------------------------------
# settings KEY VALUE, --clinician
# ---------------------------------------------------------------------------

setting_values = st.one_of(
    st.sampled_from(["6-8", "1-36", "8-6", "0-3", "6 - 9", "6–8", "37-40", "6w 3m 6m 8m", "3m 6w", "6W 3M",
                     "", "   ", "A4", "a4", "Letter", "legal", "10", "0", "366", "1", "-3", "ten", "x" * 201,
                     "Ortho clinic", "Clinique Ørsted"]),
    st.from_regex(r"[0-9]{1,3}\s*-\s*[0-9]{1,3}", fullmatch=True),
    st.lists(st.from_regex(r"[0-9]{1,3}[wmWMd]", fullmatch=True), max_size=14).map(" ".join),
    typed,
)


def setting_verdict(key: str, value: str) -> str | None:
    """The canonical text the settings command should store, or None if it must refuse."""
    if key not in settings_mod.KEYS:
        return None
    try:
        value.encode("utf-8")
        return settings_mod.format(key, settings_mod.parse(key, value))
    except (ValueError, UnicodeEncodeError):
        return None


@FUZZ
@given(key=st.one_of(st.sampled_from(settings_mod.KEYS), typed), value=setting_values)
def test_settings_store_good_values_and_refuse_the_rest(capsys, loaded, key, value):
    before = snapshot(loaded)
    code, out, err = run(capsys, "settings", "--", key, value)  # '--': a value may begin with '-'
    TRIED["settings KEY VALUE"] += 1
    canonical = setting_verdict(key, value)
    if canonical is not None:
        assert code == 0, err
        assert out == f"{key} = {canonical}\n"
        assert run(capsys, "settings", "--", key)[1] == canonical + "\n"
    else:
        assert code == 2 and out == "", err
        assert snapshot(loaded) == before


@FUZZ
@given(clinician=typed)
def test_any_clinician_name_is_recorded_or_refused(capsys, loaded, clinician):
    before = snapshot(loaded)
    TRIED["--clinician"] += 1
    name = f"Fuzz clinic {TRIED['--clinician']}"  # a new value each time: a write that needs the audit trail
    code, out, err = run(capsys, f"--clinician={clinician}", "settings", "clinic_name", name)
    # One line of at most 100 characters, no control, format, unassigned, private-use or surrogate characters.
    # Nor the characters Unicode shows as nothing (combining grapheme joiner, Hangul fillers, variation selectors).
    refused = len(clinician) > 100 or any(unicodedata.category(c) in ("Cc", "Cf", "Cn", "Co", "Cs")
                                          or c in "\u2028\u2029" or ord(c) in INVISIBLE for c in clinician)
    if refused:
        assert code == 2 and err.startswith("tohtrack: --clinician: ") and err.endswith("; nothing was written\n")
        assert snapshot(loaded) == before
        return
    assert code == 0, err
    with Store(loaded, readonly=True) as store:
        last = list(store.audit_entries())[-1]
    assert last.clinician == clinician.strip() and last.new["value"] == name  # spaces only: no name


# ---------------------------------------------------------------------------
# File paths
# ---------------------------------------------------------------------------

name_text = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00/"), min_size=0, max_size=20),
    st.binary(min_size=1, max_size=10).filter(lambda b: b"\x00" not in b and b"/" not in b).map(
        lambda b: b.decode("utf-8", "surrogateescape")),
    st.sampled_from(["", ".", "..", "-", "~", "*", "a b", ".hidden", "x" * 300, "file.json", "folder", "empty.json",
                     "garbage.bin", "good.json", "backup.sqlite3", "bad.sqlite3", "clinic.sqlite3"]),
)
folders = st.sampled_from(["", "folder/", "missing/", "file.json/", "folder/deeper/"])
# A name starting with '-' is an option to any command line: a user writes it as './-name'.
paths = st.builds(lambda folder, name: ("./" if (folder + name).startswith("-") else "") + folder + name, folders,
                  name_text)


@pytest.fixture
def workdir(tmp_path, monkeypatch, loaded):
    """A folder of things a path may name, as the current directory (every relative path stays inside it)."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "folder").mkdir()
    (work / "file.json").write_text("{}")
    (work / "empty.json").write_bytes(b"")
    (work / "garbage.bin").write_bytes(bytes(range(256)) * 4)
    (work / "good.json").write_text(json.dumps(minimal_document()))
    (work / "bad.sqlite3").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    with Store(loaded, readonly=True) as store:
        store.backup(work / "backup.sqlite3")
    monkeypatch.chdir(work)
    return work


def _partials(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".partial")]


@FUZZ
@given(path=paths, command=st.sampled_from(["import", "export", "backup", "restore", "check"]))
def test_file_paths_never_crash_and_refusals_change_nothing(capsys, loaded, workdir, path, command):
    before = snapshot(loaded)
    with Store(loaded, readonly=True) as store:  # (an earlier example's import of good.json may have added one)
        mrns = sorted(p.mrn for p in store.patients())
    existed = os.path.lexists(path) if path else False
    if command == "import":
        code, out, err = run(capsys, "import", path)
        TRIED["import FILE"] += 1
        if code == 0:
            assert Path(path).resolve() == (workdir / "good.json").resolve()
            assert "imported 1 patients" in out
        else:
            assert code == 2, err  # a file that is missing, unreadable or not tohtrack/1 is bad input
            assert snapshot(loaded) == before
    elif command in ("export", "backup"):
        code, out, err = run(capsys, command, "-o", path)
        TRIED[f"{command} -o FILE"] += 1
        assert snapshot(loaded) == before
        if code == 0 and command == "export" and path == "-":  # '-' is standard output
            assert sorted(p["mrn"] for p in json.loads(out)["patients"]) == mrns
        elif code == 0:
            written = Path(path)
            assert written.is_file() and stat.S_IMODE(written.stat().st_mode) == 0o600
            if command == "export":
                assert sorted(p["mrn"] for p in json.loads(written.read_text("utf-8"))["patients"]) == mrns
            else:
                assert check_backup(written) == []
            written.unlink()
        else:
            assert err.startswith("tohtrack") and code in (1, 2), err
        assert not _partials(workdir)
    elif command == "restore":
        code, out, err = run(capsys, "restore", path)
        TRIED["restore BACKUP"] += 1
        if code == 0:
            assert Path(path).resolve() == (workdir / "backup.sqlite3").resolve()
        else:
            assert code == 2, err  # a backup that is missing or fails its check is bad input
            assert snapshot(loaded) == before
    else:
        code, out, err = run(capsys, "--db", path, "check")
        TRIED["--db PATH check"] += 1
        if not path.strip():
            assert code == 2 and "--db: " in err, err  # --db "" (an unset "$DB") is refused, not the default
        elif Path(path).resolve() == (workdir / "backup.sqlite3").resolve():
            assert code == 0, err
        else:
            assert code == 1, err  # not there, a folder, not a database: a failure, not a bad value
        assert os.path.lexists(path) == existed if path else True  # a reading command never creates a file


# ---------------------------------------------------------------------------
# Whole argument lists for the reading commands
# ---------------------------------------------------------------------------

tokens = st.one_of(
    st.sampled_from(["--patient", "--as-of", "--json", "--all", "-o", "-", "--db", "--clinician", "--", "-h",
                     "--help", "--version", "--screenshot", "EX-01", "EX-99", "2026-03-01", "2026-02-30", "x.json",
                     "folder", "--patient=EX-02", "--as-of=2026-01-01", "-o-", "--unknown", "-x", "=", "--as-of="]),
    typed,
)


@FUZZ
@given(command=st.sampled_from(["flags", "worklist", "audit", "check", "export"]),
       rest=st.lists(tokens, max_size=6))
def test_reading_commands_with_any_arguments(capsys, loaded, workdir, command, rest):
    assume("--screenshot" not in rest)  # a screenshot opens Qt: tests/gui covers it
    before = snapshot(loaded)
    code, out, err = run(capsys, command, *rest)
    TRIED["argument lists"] += 1
    assert snapshot(loaded) == before
    if code == 2:
        assert err, "a refusal says why"
    for leftover in workdir.iterdir():  # an export may have been written: nothing half-written
        assert not leftover.name.endswith(".partial")


def test_zz_report_how_many_values_were_tried(capsys):
    if TRIED:
        with capsys.disabled():
            print("\nbad command-line values tried: " + ", ".join(f"{k} {v}" for k, v in sorted(TRIED.items())))
