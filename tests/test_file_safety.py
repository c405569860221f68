"""Files written and read by the command line: outputs never touch the database, temporary files that cannot be
hijacked, inputs that cannot exhaust the machine, streamed import and export (tohtrack.safety, interchange)."""

import errno
import io
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tohtrack import db as dbmod, demo, interchange, safety
from tohtrack.db import Store
from tohtrack.model import ValidationError

from conftest import DATA, minimal_document, run_cli

VIGNETTES = DATA / "vignettes.json"


run = run_cli  # tests/conftest.py


def cli(*args, timeout=60, stdin=None, **kwargs):
    """The command line in a child process (for what could hang or exhaust memory)."""
    if "stdout" not in kwargs:
        kwargs["capture_output"] = True
    return subprocess.run([sys.executable, "-m", "tohtrack", *map(str, args)], timeout=timeout, stdin=stdin,
                          **kwargs)


def fingerprint(path: Path) -> tuple:
    """What a database holds, read through SQLite: patients, audit entries, and whether it checks."""
    with Store(path, readonly=True) as store:
        return store.count_patients(), store.conn.execute("SELECT count(*) FROM audit").fetchone()[0], store.check()


@pytest.fixture
def clinic(tmp_path, capsys):
    path = tmp_path / "clinic.sqlite3"
    assert run(capsys, "--db", path, "import", VIGNETTES)[0] == 0
    with Store(path) as store:
        store.rotate_backups()  # the backups folder exists, with an automatic backup in it
    return path


# ---------------------------------------------------------------------------
# Outputs never touch the database
# ---------------------------------------------------------------------------

def _spellings(clinic: Path) -> dict[str, Path]:
    folder = clinic.parent
    (folder / "sub").mkdir(exist_ok=True)
    link = folder / "link.json"
    link.symlink_to(clinic)
    hard = folder / "hard.json"
    os.link(clinic, hard)
    backups = dbmod.backup_dir(clinic)
    inside = next(backups.glob("*.sqlite3"))
    return {
        "the same name": clinic,
        "with ..": folder / "sub" / ".." / clinic.name,
        "a symlink to it": link,
        "a hard link to it": hard,
        "its -wal": clinic.with_name(clinic.name + "-wal"),
        "its -shm": clinic.with_name(clinic.name + "-shm"),
        "its -journal (not there)": clinic.with_name(clinic.name + "-journal"),
        "its backups folder": backups,
        "an automatic backup": inside,
        "a new file in its backups folder": backups / "new.json",
    }


@pytest.mark.parametrize("command", ["export", "report", "backup", "screenshot"])
def test_no_output_can_be_the_database_by_any_spelling(capsys, clinic, command, monkeypatch):
    before = fingerprint(clinic)
    backups_before = sorted(p.name for p in dbmod.backup_dir(clinic).iterdir())
    monkeypatch.chdir(clinic.parent)
    for label, target in _spellings(clinic).items():
        if command == "backup" and label == "a new file in its backups folder":
            continue  # the backup command may write a backup of its own there
        argv = {"export": ["export", "-o", target], "report": ["report", "EX-01", "-o", target],
                "backup": ["backup", "-o", target], "screenshot": ["--screenshot", target]}[command]
        code, out, err = run(capsys, "--db", clinic, *argv)
        assert code == 2, (label, err)
        assert err.startswith(f"tohtrack: {target}: ") and "nothing was written" in err, (label, err)
        assert ("open database" in err or "backups folder" in err or "not a file" in err), (label, err)
    assert fingerprint(clinic) == before
    assert sorted(p.name for p in dbmod.backup_dir(clinic).iterdir()) == backups_before
    assert not (dbmod.backup_dir(clinic) / "new.json").exists()


@pytest.mark.parametrize("command", ["export", "report", "backup", "screenshot"])
def test_a_database_opened_through_a_symlink_protects_the_side_files_beside_the_real_file(
        capsys, tmp_path, command):
    # SQLite keeps -wal, -shm and -journal beside the file the link points to, not beside the link.
    real = tmp_path / "data" / "clinic.sqlite3"
    real.parent.mkdir()
    assert run(capsys, "--db", real, "import", VIGNETTES)[0] == 0
    link = tmp_path / "clinic-link.sqlite3"
    link.symlink_to(real)
    before = sorted(p.name for p in real.parent.iterdir())
    for target in (real.with_name(real.name + "-wal"), real.with_name(real.name + "-journal"),
                   real.with_name(real.name + "-shm"), dbmod.backup_dir(real), dbmod.backup_dir(link)):
        code, _, err = run(capsys, "--db", link, *OUTPUT_COMMANDS[command](target))
        assert code == 2 and err.startswith(f"tohtrack: {target}: ") and "nothing was written" in err, (target, err)
    assert sorted(p.name for p in real.parent.iterdir()) == before
    assert not dbmod.backup_dir(link).exists()
    assert fingerprint(real)[0] == 6


@pytest.mark.parametrize("command", ["export", "report", "backup", "screenshot"])
def test_the_backups_folder_not_made_yet_is_not_an_output(capsys, tmp_path, command):
    # A file at the backups folder's name would make every later backup (restore, migration) fail.
    clinic = tmp_path / "clinic.sqlite3"
    assert run(capsys, "--db", clinic, "import", VIGNETTES)[0] == 0
    backups = dbmod.backup_dir(clinic)
    assert not backups.exists()
    code, _, err = run(capsys, "--db", clinic, *OUTPUT_COMMANDS[command](backups))
    assert code == 2 and err == (f"tohtrack: {backups}: is the backups folder of the database {clinic}; "
                                 "choose another file; nothing was written\n"), err
    assert not backups.exists()


def test_a_relative_database_and_a_relative_output_are_compared_by_inode(capsys, clinic, monkeypatch):
    monkeypatch.chdir(clinic.parent / ".." )
    relative = Path(clinic.parent.name) / clinic.name
    code, _, err = run(capsys, "--db", relative, "export", "-o", f"./{clinic.parent.name}/./{clinic.name}")
    assert code == 2 and "is the open database" in err
    assert fingerprint(clinic)[0] == 6


def test_the_backup_command_may_write_into_its_own_backups_folder_but_not_over_the_database(capsys, clinic):
    target = dbmod.backup_dir(clinic) / "by-hand.sqlite3"
    assert run(capsys, "--db", clinic, "backup", "-o", target)[0] == 0
    assert fingerprint(target)[0] == 6 and stat.S_IMODE(target.stat().st_mode) == 0o600


def test_automatic_backups_and_the_store_refuse_the_database_itself(clinic):
    with Store(clinic) as store:
        for target in (clinic, clinic.with_name(clinic.name + "-wal")):
            with pytest.raises(safety.OutputRefused, match="is the open database"):
                store.backup(target)
    assert fingerprint(clinic)[0] == 6


# ---------------------------------------------------------------------------
# One wording for every output-path problem, exit 2, nothing left behind
# ---------------------------------------------------------------------------

OUTPUT_COMMANDS = {
    "export": lambda out: ["export", "-o", out],
    "report": lambda out: ["report", "EX-01", "-o", out],
    "backup": lambda out: ["backup", "-o", out],
    "screenshot": lambda out: ["--screenshot", out],
}


@pytest.mark.parametrize("command", sorted(OUTPUT_COMMANDS))
def test_every_output_path_problem_is_exit_2_with_one_wording(capsys, clinic, tmp_path, command, monkeypatch):
    monkeypatch.chdir(tmp_path)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    cases = {
        tmp_path / "missing" / "out.x": f"the folder {tmp_path / 'missing'} does not exist; nothing was written",
        tmp_path: "is a folder or a device, not a file; give the name of a file to write; nothing was written",
        fifo: "is a folder or a device, not a file; give the name of a file to write; nothing was written",
        VIGNETTES / "out.x": f"{VIGNETTES} is not a folder; nothing was written",
        # A trailing slash names a folder: the slash was dropped and a file of that name written.
        f"{tmp_path / 'out.x'}/": "is a folder or a device, not a file; give the name of a file to write; "
                                   "nothing was written",
    }
    if command in ("backup", "screenshot"):  # no standard output for these: not a file named '-' either
        cases["-"] = ("standard output is not possible for this output; give the name of a file to write; "
                      "nothing was written")
    before = sorted(p.name for p in tmp_path.iterdir())
    for target, says in cases.items():
        code, _, err = run(capsys, "--db", clinic, *OUTPUT_COMMANDS[command](target))
        assert code == 2 and err == f"tohtrack: {target}: {says}\n", err
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no folder made, nothing left
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_an_export_of_an_unknown_patient_leaves_no_file(capsys, clinic, tmp_path):
    code, _, err = run(capsys, "--db", clinic, "export", "-o", tmp_path / "x.json", "--patient", "NOPE")
    assert code == 2 and not (tmp_path / "x.json").exists()
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]


def test_a_failed_import_at_a_mistyped_db_leaves_no_database_and_no_folders(capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "tohtrack/1", "patients": [{"mrn": "A"}]}')
    target = tmp_path / "typo" / "deeper" / "clinic.sqlite3"
    code, _, err = run(capsys, "--db", target, "import", bad)
    assert code == 2 and "family_name: is required" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]
    code, _, err = run(capsys, "--db", target, "import", tmp_path / "absent.json")
    assert code == 2 and sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def test_a_failed_import_keeps_an_existing_empty_database(capsys, tmp_path):
    target = tmp_path / "clinic.sqlite3"
    Store(target).close()
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    assert run(capsys, "--db", target, "import", bad)[0] == 2
    assert target.exists()  # it was there before: not ours to remove


# ---------------------------------------------------------------------------
# The atomic writer
# ---------------------------------------------------------------------------

def test_an_output_is_private_and_replaces_the_old_file_whole(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    target.chmod(0o644)
    os.umask(0o022)
    safety.write_output(target, b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


@pytest.mark.parametrize("failing", ["write", "fsync", "replace"])
def test_a_failed_write_keeps_the_old_file_removes_the_temporary_one_and_names_the_users_path(
        tmp_path, monkeypatch, capsys, clinic, failing):
    target = tmp_path / "export.json"
    target.write_text("the old export")

    def broken(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / ".export.json.x.partial"))

    if failing == "write":
        monkeypatch.setattr(interchange._Buffered, "flush", lambda self: broken())
    else:
        monkeypatch.setattr(safety.os, failing, broken)
    code, _, err = run(capsys, "--db", clinic, "export", "-o", target)
    assert code == 1, err
    assert err == f"tohtrack: {target}: cannot write there (No space left on device); nothing was written\n"
    assert target.read_text() == "the old export"
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name or p.name.startswith(".")) == []


def test_a_leftover_or_planted_temporary_name_is_never_followed(tmp_path, capsys, clinic):
    """The old fixed temporary name, planted as a link to a file of the user's: the export does not write there."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / ".out.json.partial").symlink_to(victim)
    assert run(capsys, "--db", clinic, "export", "-o", tmp_path / "out.json")[0] == 0
    assert victim.read_text() == "precious"
    assert json.loads((tmp_path / "out.json").read_text())["format"] == "tohtrack/1"


def test_a_link_of_the_users_own_is_followed_and_stays_a_link(tmp_path, capsys, clinic):
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    assert run(capsys, "--db", clinic, "export", "-o", link)[0] == 0
    assert link.is_symlink() and json.loads(real.read_text())["format"] == "tohtrack/1"


# ---------------------------------------------------------------------------
# Inputs: regular files only, nothing that hangs or exhausts memory
# ---------------------------------------------------------------------------

def test_import_of_a_fifo_a_device_or_dev_zero_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    db = tmp_path / "clinic.sqlite3"
    for source in (fifo, "/dev/zero", "/dev/null", tmp_path):
        started = time.monotonic()
        result = cli("--db", db, "import", source, timeout=30)
        assert result.returncode == 2, result.stderr
        assert b"not a regular file" in result.stderr and str(source).encode() in result.stderr
        assert time.monotonic() - started < 20
    assert not db.exists()


def test_a_database_path_that_is_a_fifo_or_a_device_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for command in (["check"], ["settings"], ["settings", "clinic_name", "X"], ["import", VIGNETTES]):
        result = cli("--db", fifo, *command, timeout=30)
        assert result.returncode == 2, (command, result.stderr)
        assert b"is a FIFO, a device or a socket, not a database file" in result.stderr
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    result = cli("--db", "/dev/zero", "check", timeout=30)
    assert result.returncode == 2 and b"not a database file" in result.stderr


def test_import_reads_standard_input_for_dash(tmp_path):
    db = tmp_path / "clinic.sqlite3"
    with open(VIGNETTES, "rb") as f:
        result = cli("--db", db, "import", "-", stdin=f)
    assert result.returncode == 0, result.stderr
    assert b"imported 6 patients" in result.stdout and b"from standard input" in result.stdout
    assert fingerprint(db)[0] == 6


def test_a_lone_surrogate_in_a_file_is_blamed_on_the_file(capsys, tmp_path):
    doc = minimal_document()
    text = json.dumps(doc).replace('"Rossi"', '"Ros\\udcffsi"')
    bad = tmp_path / "bad.json"
    bad.write_text(text)
    code, _, err = run(capsys, "--db", tmp_path / "c.sqlite3", "import", bad)
    assert code == 2 and str(bad) in err and "command line" not in err
    assert "patients[0].family_name" in err and "surrogate" in err


def test_a_valid_surrogate_pair_is_text(capsys, tmp_path):
    doc = minimal_document()
    text = json.dumps(doc).replace('"Rossi"', '"Rossi \\ud83d\\ude00"')
    good = tmp_path / "good.json"
    good.write_text(text)
    code, _, err = run(capsys, "--db", tmp_path / "c.sqlite3", "import", good)
    assert code == 0, err


# ---------------------------------------------------------------------------
# Streamed export: the same bytes as the whole document, in the contract's order
# ---------------------------------------------------------------------------

def _old_export(store, mrns=None) -> str:
    """The export as it was written before streaming: the whole document, then json.dumps."""
    if mrns is None:
        return interchange.dumps(interchange.document(store.patients()))
    ids = dict.fromkeys(store.patient_id(m) for m in mrns)
    return interchange.dumps(interchange.document(store.patients(list(ids))))


def _streamed(store, mrns=None) -> str:
    return "".join(interchange.export_chunks(store, interchange.export_ids(store, mrns)))


def test_the_streamed_export_is_byte_identical_on_the_vignettes_and_a_demo_cohort(tmp_path, vignettes):
    with Store(tmp_path / "v.sqlite3") as store:
        interchange.import_document(store, vignettes)
        assert _streamed(store) == _old_export(store)
        assert _streamed(store, ["EX-03", "EX-01", " EX-01"]) == _old_export(store, ["EX-03", "EX-01", " EX-01"])
        store.set_archived(store.patient_id("EX-02"), None)
        assert _streamed(store) == _old_export(store)
    with Store(tmp_path / "d.sqlite3") as store:
        store.add_patients(list(demo.generate(300, seed=7)), validate=False)
        assert _streamed(store) == _old_export(store)
    with Store(tmp_path / "e.sqlite3") as store:
        assert _streamed(store) == _old_export(store) == '{\n  "format": "tohtrack/1",\n  "patients": []\n}\n'


def test_the_export_file_and_stdout_are_the_streamed_text(capsys, tmp_path, clinic):
    with Store(clinic, readonly=True) as store:
        expected = _old_export(store)
    assert run(capsys, "--db", clinic, "export", "-o", tmp_path / "out.json")[0] == 0
    assert (tmp_path / "out.json").read_text(encoding="utf-8") == expected
    result = cli("--db", clinic, "export", "-o", "-")
    assert result.returncode == 0 and result.stdout.decode("utf-8") == expected


def test_episodes_are_exported_by_onset_then_site_not_by_site(tmp_path):
    """A later episode at an alphabetically earlier site (hip before knee) still comes second."""
    doc = minimal_document()
    patient = doc["patients"][0]
    first = patient["episodes"][0]
    first.update(site="knee_left", symptom_onset="2024-01-10", resolved_on="2024-08-01", imaging=[],
                 symptoms=[{"date": "2024-03-01", "pain_nrs": 3}, {"date": "2024-02-01", "pain_nrs": 5}],
                 treatments=[])
    second = {"site": "hip_left", "symptom_onset": "2025-01-10",
              "imaging": [{"date": "2025-02-01", "time": "14:00", "modality": "MRI"},
                          {"date": "2025-02-01", "time": "08:40", "modality": "XR"},
                          {"date": "2025-01-20", "modality": "MRI"}]}
    patient["episodes"] = [second, first]
    with Store(tmp_path / "c.sqlite3") as store:
        interchange.import_document(store, doc)
        out = json.loads(_streamed(store))
    episodes = out["patients"][0]["episodes"]
    assert [e["site"] for e in episodes] == ["knee_left", "hip_left"]
    assert [s["date"] for s in episodes[0]["symptoms"]] == ["2024-02-01", "2024-03-01"]
    assert [(s["date"], s["time"]) for s in episodes[1]["imaging"]] == [
        ("2025-01-20", None), ("2025-02-01", "08:40"), ("2025-02-01", "14:00")]


def test_patients_are_exported_by_mrn_whatever_order_they_were_added_in(tmp_path):
    with Store(tmp_path / "c.sqlite3") as store:
        for mrn in ("Z-9", "A-1", "M-5"):
            doc = minimal_document()
            doc["patients"][0]["mrn"] = mrn
            interchange.import_document(store, doc)
        assert [p["mrn"] for p in json.loads(_streamed(store))["patients"]] == ["A-1", "M-5", "Z-9"]


# ---------------------------------------------------------------------------
# Streamed import: the same result and the same messages as the whole-file reader
# ---------------------------------------------------------------------------

def _import_text(tmp_path, text: bytes, name: str = "s.sqlite3"):
    path = tmp_path / name
    path.unlink(missing_ok=True)
    with Store(path) as store:
        try:
            counts = interchange.import_stream(store, io.BytesIO(text))
            return "ok", counts.patients, _streamed(store)
        except ValidationError as exc:
            return "refused", [str(p) for p in exc.problems], store.count_patients()


def test_the_streamed_import_reads_across_every_chunk_boundary(tmp_path, monkeypatch):
    text = VIGNETTES.read_bytes()
    whole = _import_text(tmp_path, text, "whole.sqlite3")
    assert whole[0] == "ok" and whole[1] == 6
    monkeypatch.setattr(interchange, "READ_CHARS", 7)
    monkeypatch.setattr(interchange, "BATCH", 2)
    assert _import_text(tmp_path, text) == whole
    assert _import_text(tmp_path, b"\xef\xbb\xbf" + text) == whole  # a byte order mark


def test_a_bad_file_is_refused_whole_naming_every_problem_across_batches(tmp_path, monkeypatch, vignettes):
    monkeypatch.setattr(interchange, "BATCH", 2)
    doc = json.loads(VIGNETTES.read_text())
    doc["patients"][0]["sex"] = "x"
    doc["patients"][5]["birth_date"] = "1980-02-30"
    doc["patients"][4]["mrn"] = doc["patients"][1]["mrn"]
    doc["patients"].append(dict(doc["patients"][2], mrn="ex-01"))  # the same MRN, another case
    result = _import_text(tmp_path, json.dumps(doc).encode())
    assert result[0] == "refused" and result[2] == 0  # all or nothing: batches written before are rolled back
    problems = result[1]
    assert any(p.startswith("patients[0].sex:") for p in problems)
    assert any(p.startswith("patients[5].birth_date:") for p in problems)
    assert "patients[4].mrn: 'EX-02' appears twice in the file (also patients[1])" in problems
    assert "patients[6].mrn: 'ex-01' is the same MRN as 'EX-01' (also patients[0])" in problems, problems


def test_mrns_already_in_the_database_are_named_after_a_batch_was_written(tmp_path, monkeypatch):
    monkeypatch.setattr(interchange, "BATCH", 2)
    path = tmp_path / "c.sqlite3"
    doc = json.loads(VIGNETTES.read_text())
    with Store(path) as store:
        interchange.import_document(store, {"format": "tohtrack/1", "patients": [doc["patients"][3]]})
        with pytest.raises(ValidationError) as raised:
            interchange.import_stream(store, io.BytesIO(json.dumps(doc).encode()))
        assert [str(p) for p in raised.value.problems] == ["patients[3].mrn: 'EX-04' already exists in the database"]
        assert store.count_patients() == 1 and store.check() == []


def _loads_message(text: bytes) -> str | None:
    try:
        interchange.loads(text)
    except ValidationError as exc:
        return str(exc.problems[0])
    return None


BROKEN = [b"", b"   ", b"{", b"{oops", b"[", b'{"format": "tohtrack/1"', b'{"format": "tohtrack/1",}',
          b'{"format": "tohtrack/1" "patients": []}', b'{"patients": [1,]}', b'{"patients": [{"a": 1} {"b": 2}]}',
          b'{"patients": []} x', b'{"patients": [], "patients": []}', b'{"patients": [{"a": NaN}]}',
          b'{"patients": [{"a": 1, "a": 2}]}', b'{"patients": [{"a": "\\x"}]}', b'{"patients": [{"a": "\n"}]}',
          b'{"format": 12', b'{"format": -', b'{"patients": [{"a": "unterminated', b"\xff\xfe{}", b'{"a": "\xc3"}',
          b"[" * 100_000, b'{"patients":\n  [\n   {"a":\n 1,,}]}']


@pytest.mark.parametrize("text", BROKEN)
@pytest.mark.parametrize("chunk", [1, 3, 1 << 20])
def test_broken_json_gets_the_same_message_as_the_whole_file_reader(tmp_path, monkeypatch, text, chunk):
    monkeypatch.setattr(interchange, "READ_CHARS", chunk)
    expected = _loads_message(text)
    assert expected is not None
    result = _import_text(tmp_path, text)
    assert result[0] == "refused" and result[1] == [expected]


@settings(max_examples=int(os.environ.get("TOHTRACK_FUZZ_EXAMPLES", 40)), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damage_to_a_file_gets_the_whole_file_readers_json_message(tmp_path_factory, data):
    """Cut, insert or replace bytes anywhere in a valid file: the streamed import fails with the very message
    json.loads gives, or (when the text is still JSON) gives the same verdict as importing the whole document."""
    text = bytearray(VIGNETTES.read_bytes())
    position = data.draw(st.integers(0, len(text)))
    action = data.draw(st.sampled_from(["cut", "insert", "replace"]))
    piece = data.draw(st.binary(min_size=1, max_size=3) | st.sampled_from([b",", b"]", b"}", b'"', b"\\", b"{"]))
    if action == "cut":
        text = text[:position]
    elif action == "insert":
        text[position:position] = piece
    else:
        text[position:position + len(piece)] = piece
    text = bytes(text)
    chunk = data.draw(st.sampled_from([1, 5, 64, 1 << 20]))
    tmp_path = tmp_path_factory.mktemp("damage")
    expected = _loads_message(text)
    saved = interchange.READ_CHARS
    interchange.READ_CHARS = chunk
    try:
        result = _import_text(tmp_path, text)
    finally:
        interchange.READ_CHARS = saved
    if expected is not None:
        assert result[0] == "refused" and result[1] == [expected]
    else:  # still JSON: the same verdict as the whole-document import
        with Store(tmp_path / "whole.sqlite3") as store:
            try:
                interchange.import_document(store, interchange.loads(text))
                whole = ("ok", store.count_patients(), _streamed(store))
            except ValidationError as exc:
                whole = ("refused", sorted(str(p) for p in exc.problems), 0)
        if result[0] == "refused":
            result = ("refused", sorted(result[1]), 0)
        assert result[0] == whole[0] and (result[0] == "ok" or set(result[1]) == set(whole[1])), (result, whole)


def test_a_single_value_larger_than_the_limit_is_refused_without_reading_on(tmp_path, monkeypatch):
    monkeypatch.setattr(interchange, "MAX_VALUE_CHARS", 1000)
    monkeypatch.setattr(interchange, "READ_CHARS", 100)
    text = b'{"format": "tohtrack/1", "patients": [{"mrn": "' + b"x" * 5000 + b'"}]}'
    result = _import_text(tmp_path, text)
    assert result[0] == "refused" and len(result[1]) == 1 and result[1][0].startswith("patients[0]: is larger than")


# ---------------------------------------------------------------------------
# A write waits for another writer, and says so
# ---------------------------------------------------------------------------

def test_a_write_waits_for_a_writer_longer_than_five_seconds_and_says_it_is_waiting(tmp_path, capsys):
    path = tmp_path / "clinic.sqlite3"
    Store(path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
         "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(6.5); c.execute('COMMIT')",
         str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        result = cli("--db", path, "settings", "clinic_name", "Waited", timeout=60)
        waited = time.monotonic() - started
    finally:
        holder.wait(30)
    assert result.returncode == 0, result.stderr
    assert b"waiting for another workstation or window to finish writing" in result.stderr
    assert waited > 5
    with Store(path, readonly=True) as store:
        assert store.setting_texts()["clinic_name"] == "Waited"


def test_a_write_that_gets_the_lock_at_once_says_nothing(tmp_path, capsys):
    path = tmp_path / "clinic.sqlite3"
    code, out, err = run(capsys, "--db", path, "settings", "clinic_name", "Quick")
    assert code == 0 and err == ""


# ---------------------------------------------------------------------------
# Memory stays flat as the file grows (slow: builds cohorts)
# ---------------------------------------------------------------------------

TIME = "/usr/bin/time"


def _peak_rss_mb(*args) -> float:
    """Run the command line in a child under GNU time; its peak resident memory in MB. (Not ru_maxrss from
    wait4: on Linux a child's figure starts from the memory of the process it was forked from, here pytest.)"""
    figure = Path(os.environ.get("TMPDIR", "/tmp")) / f"tohtrack-peak-{os.getpid()}.txt"
    try:
        result = subprocess.run([TIME, "-f", "%M", "-o", str(figure), sys.executable, "-m", "tohtrack",
                                 *map(str, args)], capture_output=True, timeout=3600)
        assert result.returncode == 0, result.stderr
        return int(figure.read_text().split()[-1]) / 1024
    finally:
        figure.unlink(missing_ok=True)


@pytest.mark.slow
@pytest.mark.skipif(not os.access(TIME, os.X_OK), reason="needs GNU time (/usr/bin/time) to measure peak memory")
def test_export_and_import_memory_stays_flat_as_the_cohort_grows(tmp_path):
    """Before streaming, exporting 100 000 patients peaked at 4.4 GB and importing them at 3.0 GB (about
    0.9 GB at 20 000). TOHTRACK_MEMORY_PATIENTS=100000 measures the full size (minutes)."""
    large = int(os.environ.get("TOHTRACK_MEMORY_PATIENTS", 20_000))
    peaks = {}
    for n in (1_000, large):
        db = tmp_path / f"d{n}.sqlite3"
        result = cli("--db", db, "demo", "--patients", n, timeout=3600)
        assert result.returncode == 0, result.stderr
        out = tmp_path / f"e{n}.json"
        export = _peak_rss_mb("--db", db, "export", "-o", out)
        imported = _peak_rss_mb("--db", tmp_path / f"i{n}.sqlite3", "import", out)
        peaks[n] = (export, imported)
    print(f"peak memory (MB), export and import: {peaks}")
    export, imported = peaks[large]
    assert export < 400 and imported < 400
    small_export, small_import = peaks[1_000]
    assert export < small_export + 60 and imported < small_import + 80  # flat, not growing with the file


@pytest.mark.slow
@pytest.mark.skipif(not os.access(TIME, os.X_OK), reason="needs GNU time (/usr/bin/time) to measure peak memory")
def test_the_fhir_export_memory_stays_flat_as_the_cohort_grows(tmp_path):
    """The FHIR bundle was built whole in memory: 3.3 GB for 10 000 patients. Streamed, about as the tohtrack/1
    export."""
    large = int(os.environ.get("TOHTRACK_MEMORY_PATIENTS", 5_000))
    peaks = {}
    for n in (500, large):
        db = tmp_path / f"d{n}.sqlite3"
        assert cli("--db", db, "demo", "--patients", n, timeout=3600).returncode == 0
        peaks[n] = _peak_rss_mb("--db", db, "export", "--format", "fhir", "-o", tmp_path / f"f{n}.json")
    print(f"peak memory (MB) of the FHIR export: {peaks}")
    assert peaks[large] < 400 and peaks[large] < peaks[500] + 60


def test_standard_output_appended_to_the_database_is_refused(clinic):
    before = fingerprint(clinic)
    for argv in (["export", "-o", "-"], ["report", "EX-01", "-o", "-"]):
        with open(clinic, "ab") as out:
            result = cli("--db", clinic, *argv, stdout=out, stderr=subprocess.PIPE,
                         env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
        assert result.returncode == 2 and b"standard output: is the open database" in result.stderr, result.stderr
    assert fingerprint(clinic) == before


@pytest.mark.parametrize("argv, says", [(["settings", "clinic_name", "x" * 500], "clinic_name"),
                                        (["restore", "nowhere.sqlite3"], "no such file"),
                                        (["import", "absent.json"], "No such file")])
def test_a_failed_command_leaves_no_database_or_folder_at_a_mistyped_db(capsys, tmp_path, monkeypatch, argv, says):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "--db", tmp_path / "typo" / "clinic.sqlite3", *argv)
    assert code == 2 and says in err, err
    assert list(tmp_path.iterdir()) == []


def test_check_accept_at_a_mistyped_db_accepts_nothing_and_creates_nothing(capsys, tmp_path, monkeypatch):
    # Accepting "the database as it is" must never make a new, empty one at a mistyped path (nor the default).
    monkeypatch.chdir(tmp_path)
    mistyped = tmp_path / "typo" / "clinic.sqlite3"
    code, out, err = run(capsys, "--db", mistyped, "check", "--accept")
    assert code == 1 and err == f"tohtrack: {mistyped}: no database there\n" and "accepted" not in out, (out, err)
    assert list(tmp_path.iterdir()) == []
    monkeypatch.setenv("TOHTRACK_DB", str(mistyped))
    code, out, err = run(capsys, "check", "--accept")
    assert code == 1 and "no database there" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["export", "report", "backup", "screenshot"])
def test_no_output_goes_into_the_audit_witness(capsys, clinic, command):
    # An export over a witness file left the audit trail checked against nothing, and check still said ok.
    where = Path(os.environ["TOHTRACK_WITNESS"])
    with Store(clinic) as store:
        identity = store.identity()
    anchor = where / f"{identity}.json"
    before = {p.name: p.read_bytes() for p in where.iterdir()}
    assert anchor.name in before
    link = clinic.parent / "witness-link"
    link.symlink_to(where)
    for target in (anchor, where / "witness.lock", where / "new.json", link / anchor.name,
                   where):
        code, _, err = run(capsys, "--db", clinic, *OUTPUT_COMMANDS[command](target))
        assert code == 2 and err.startswith(f"tohtrack: {target}: ") and "nothing was written" in err, (target, err)
    assert {p.name: p.read_bytes() for p in where.iterdir()} == before
    code, out, err = run(capsys, "--db", clinic, "check")
    assert code == 0 and "the trail matches what this workstation last saw" in out, (out, err)
    import shutil

    moved = where.with_name(where.name + "-gone")
    shutil.move(where, moved)
    try:  # the witness folder's name is refused even before it is made
        code, _, err = run(capsys, "--db", clinic, *OUTPUT_COMMANDS[command](where))
        assert code == 2 and "is the audit witness folder" in err, err
        assert not where.exists()
    finally:
        shutil.move(moved, where)


def test_a_failed_screenshot_at_a_mistyped_db_leaves_no_database_or_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    code, _, err = run(capsys, "--db", tmp_path / "typo" / "clinic.sqlite3", "--screenshot", tmp_path / "s.png",
                       "--patient", "EX-01")
    assert code == 2 and "no patient with MRN 'EX-01'" in err, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [["restore", "backup.sqlite3"], ["import", "in.json"], ["check"],
                                  ["settings", "clinic_name", "X"], ["export", "-o", "out.json"]])
def test_an_empty_db_or_one_ending_in_a_slash_is_refused_not_taken_as_the_default(
        capsys, tmp_path, monkeypatch, clinic, argv):
    # `tohtrack --db "$DB" restore …` with DB unset restored over the default database; 'x.sqlite3/' made x.sqlite3.
    default = tmp_path / "default" / "tohtrack.sqlite3"
    monkeypatch.setenv("TOHTRACK_DB", str(default))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    (work / "in.json").write_bytes(VIGNETTES.read_bytes())
    assert run(capsys, "--db", clinic, "backup", "-o", work / "backup.sqlite3")[0] == 0
    before = sorted(p.name for p in work.iterdir())
    creates = argv[0] in ("restore", "import", "settings")
    for db in ("", " ", "new.sqlite3/", f"{clinic}/"):
        code, out, err = run(capsys, "--db", db, *argv)
        if db.strip() and not creates:  # a reading command creates nothing anyway
            continue
        assert code == 2 and err.startswith("tohtrack: --db: ") and "nothing was written" in err, (db, err)
    assert not default.parent.exists()
    assert sorted(p.name for p in work.iterdir() if p.name != "out.json") == before  # no new.sqlite3
    assert fingerprint(clinic)[0] == 6
