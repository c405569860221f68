"""The command line: the README's "The command line", exit codes and messages, never a traceback."""

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tohtrack.__main__ import main
from tohtrack.db import Store
from tohtrack.store import open_store


def run(capsys, *args):
    """Run the CLI in-process; returns (exit code, stdout, stderr)."""
    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse's own exits (--version, usage errors)
        code = exc.code
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def counts(target):
    with open_store(target, readonly=True) as store:
        return {"patients": store.count_patients(), "audit": store.audit_head()[0]}


@pytest.fixture
def loaded(capsys, db_target, vignettes_path):
    """The example patients imported into this test's database (either backend; $TOHTRACK_DB names it)."""
    code, out, _ = run(capsys, "import", vignettes_path)
    assert code == 0
    return db_target


def test_version(capsys):
    code, out, _ = run(capsys, "--version")
    assert code == 0 and out.startswith("TOHtrack ")


def test_help_lists_the_commands(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "import" in out and "flags" in out and "--screenshot" in out


def test_patient_without_screenshot_is_a_usage_error(capsys, db_path):
    code, _, err = run(capsys, "--patient", "EX-01")
    assert code == 2 and "--screenshot" in err


def test_import_reports_what_it_added(capsys, db_target, vignettes_path):
    code, out, err = run(capsys, "--db", db_target, "import", vignettes_path)
    assert code == 0, err
    assert "imported 6 patients, 9 episodes" in out
    assert counts(db_target)["patients"] == 6


def test_import_twice_is_refused_and_changes_nothing(capsys, loaded, vignettes_path):
    before = counts(loaded)
    code, out, err = run(capsys, "import", vignettes_path)
    assert code == 2
    assert "patients[0].mrn: 'EX-01' already exists in the database" in err
    assert "nothing was written" in err
    assert counts(loaded) == before


@pytest.mark.parametrize("content,expected", [
    ("{oops", "not valid JSON"),
    ('{"format": "tohtrack/1", "patients": [{"mrn": "A"}]}', "patients[0].family_name: is required"),
    ('{"format": "tohtrack/1", "patients": [{"mrn": "A", "family_name": "B", "given_name": "C", '
     '"birth_date": "1980-02-30", "sex": "male"}]}', "patients[0].birth_date: '1980-02-30' is not a real calendar date"),
])
def test_bad_files_exit_2_naming_the_field(capsys, db_path, tmp_path, content, expected):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    code, _, err = run(capsys, "--db", db_path, "import", bad)
    assert code == 2 and expected in err and str(bad) in err
    # The database did not exist: a failed import leaves none behind (nor its -wal and -shm files).
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["bad.json"]


def test_missing_import_file_exits_2(capsys, db_path, tmp_path):
    code, _, err = run(capsys, "import", tmp_path / "nope.json")
    assert code == 2 and "No such file" in err


def test_db_option_after_the_subcommand(capsys, tmp_path, vignettes_path):
    other = tmp_path / "other.sqlite3"
    code, _, _ = run(capsys, "import", vignettes_path, "--db", other)
    assert code == 0 and counts(other)["patients"] == 6


def test_export_round_trip_through_the_cli(capsys, loaded, tmp_path):
    first = tmp_path / "first.json"
    assert run(capsys, "export", "-o", first)[0] == 0
    second_db = tmp_path / "second.sqlite3"
    assert run(capsys, "--db", second_db, "import", first)[0] == 0
    second = tmp_path / "second.json"
    assert run(capsys, "--db", second_db, "export", "-o", second)[0] == 0
    assert first.read_bytes() == second.read_bytes()
    assert (first.stat().st_mode & 0o777) == 0o600


def test_export_selected_patients_to_stdout(capsys, loaded):
    code, out, _ = run(capsys, "export", "-o", "-", "--patient", "EX-05", "--patient", "EX-02")
    assert code == 0
    assert [p["mrn"] for p in json.loads(out)["patients"]] == ["EX-02", "EX-05"]


def test_unknown_mrn_is_an_input_error(capsys, loaded, tmp_path):
    code, _, err = run(capsys, "export", "-o", tmp_path / "x.json", "--patient", "NOPE")
    assert code == 2 and "no patient with MRN 'NOPE'" in err
    assert not (tmp_path / "x.json").exists()
    code, _, err = run(capsys, "audit", "--patient", "NOPE")
    assert code == 2 and "NOPE" in err


def test_backup_and_check(capsys, loaded, tmp_path):
    code, out, _ = run(capsys, "backup", "-o", tmp_path / "copy.sqlite3")
    assert code == 0 and "backup written" in out
    code, out, _ = run(capsys, "--db", tmp_path / "copy.sqlite3", "check")
    assert code == 0 and out.startswith("ok:") and "6 patients" in out


def test_check_names_tampering_and_exits_1(capsys, loaded, outside):
    outside("UPDATE symptoms SET pain_nrs = 0 WHERE id = 2", guards=False)
    code, _, err = run(capsys, "check")
    assert code == 1
    assert "symptoms row 2: pain_nrs differ from the audit trail" in err


def test_audit_shows_who_what_and_values(capsys, loaded, backend):
    run(capsys, "--clinician", "Dr Rossi", "settings", "clinic_name", "Ortho Clinic")
    # On a server the name is the one its owner gave the login (tests/conftest.py: 'Dr Test'), never --clinician.
    who = "Dr Rossi" if backend == "sqlite" else "Dr Test"
    code, out, _ = run(capsys, "audit")
    assert code == 0
    # The form's language, not column names.
    assert "created  Patient details (EX-01)" in out and "    family name: Bianchi" in out
    assert "created  MRI of 20 Apr 2025, right hip (EX-01)" in out and "    edema: 75 %" in out
    assert f"({who})  created  Setting clinic name" in out and "    value: Ortho Clinic" in out
    for column in ("pain_nrs", "episode_id", "patient_id", "family_name", "#"):
        assert column not in out
    code, out, _ = run(capsys, "audit", "--patient", "EX-02")
    assert "(EX-02)" in out and "(EX-01)" not in out


def test_settings_print_get_set(capsys, db_target):
    code, out, _ = run(capsys, "settings")
    assert code == 0
    assert "resolution_window_months = 6-8" in out and "review_schedule = 6w 3m 6m 8m" in out
    assert run(capsys, "settings", "paper_size", "letter")[1].strip() == "paper_size = Letter"
    assert run(capsys, "settings", "paper_size")[1].strip() == "Letter"
    code, _, err = run(capsys, "settings", "resolution_window_months", "8-6")
    assert code == 2 and "resolution_window_months" in err
    code, _, err = run(capsys, "settings", "colour", "blue")
    assert code == 2 and "colour" in err
    code, _, err = run(capsys, "settings", "colour")
    assert code == 2 and "colour" in err
    assert run(capsys, "settings", "resolution_window_months")[1].strip() == "6-8"


def test_demo_adds_patients_without_clashing(capsys, db_target):
    code, out, _ = run(capsys, "demo", "--patients", "30", "--seed", "4")
    assert code == 0 and "added 30 demo patients" in out
    code, _, _ = run(capsys, "demo", "--patients", "30", "--seed", "4")
    assert code == 0
    assert counts(db_target)["patients"] == 60
    assert run(capsys, "check")[0] == 0


@pytest.mark.parametrize("args,expected", [
    (["demo", "--patients", "0"], "0 is outside"),
    (["demo", "--patients", "many"], "'many' is not a whole number"),
    (["flags", "--as-of", "2026-02-30"], "'2026-02-30' is not a real calendar date"),
    (["flags", "--as-of", "yesterday"], "is not a date"),
    (["export"], "required: -o"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments_exit_2(capsys, db_path, args, expected):
    code, _, err = run(capsys, *args)
    assert code == 2 and expected in err


def test_foreign_files_exit_1_unchanged(capsys, tmp_path):
    text = tmp_path / "letter.txt"
    text.write_text("Dear colleague,\n" * 200)
    code, _, err = run(capsys, "--db", text, "check")
    assert code == 1 and "not a TOHtrack database, or the file is damaged" in err
    assert text.read_text() == "Dear colleague,\n" * 200
    folder = tmp_path / "folder"
    folder.mkdir()
    code, _, err = run(capsys, "--db", folder, "check")
    assert code == 1 and err.startswith("tohtrack: ")


def test_newer_database_exits_1(capsys, db_path):
    Store(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('tohtrack', 'm900', 'x')")
    conn.commit()
    conn.close()
    code, _, err = run(capsys, "export", "-o", "-")
    assert code == 1 and "newer TOHtrack" in err


def test_real_process_exit_codes_without_traceback(tmp_path, vignettes_path):
    db = tmp_path / "p.sqlite3"

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "tohtrack", "--db", str(db), *map(str, args)],
                              capture_output=True, text=True, timeout=60)

    ok = cli("import", vignettes_path)
    assert ok.returncode == 0, ok.stderr
    again = cli("import", vignettes_path)
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert (db.stat().st_mode & 0o777) == 0o600


# -- flags and the worklist ---------------------------------------------------------------------


def _essential(flag):
    return {k: v for k, v in flag.items() if k not in ("message", "severity")}


def test_flags_json_matches_the_expected_examples(capsys, loaded, expected_flags):
    code, out, err = run(capsys, "flags", "--as-of", "2026-03-01", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["as_of"] == expected_flags["as_of"] and got["resolution_window_months"] == [6, 8]
    assert [p["mrn"] for p in got["patients"]] == [p["mrn"] for p in expected_flags["patients"]]
    for mine, expected in zip(got["patients"], expected_flags["patients"]):
        assert mine["pattern"] == expected["pattern"], mine["mrn"]
        assert [_essential(f) for f in mine["flags"]] == expected["flags"], mine["mrn"]
        assert all(f["message"] and f["severity"] in ("warning", "info") for f in mine["flags"])


def test_flags_json_shape(capsys, loaded):
    got = json.loads(run(capsys, "flags", "--as-of", "2026-03-01", "--json", "--patient", "EX-02")[1])
    assert list(got) == ["as_of", "resolution_window_months", "patients"]
    (patient,) = got["patients"]
    assert list(patient) == ["mrn", "pattern", "episodes", "flags"]
    assert patient["episodes"][1] == {
        "site": "hip_right", "symptom_onset": "2025-06-12", "diagnosis": "transient_osteoporosis",
        "status": "active", "resolved_on": None, "expected_resolution": ["2025-12-12", "2026-02-12"],
        "next_review": None}
    migration = next(f for f in patient["flags"] if f["code"] == "MIGRATION")
    assert list(migration) == ["code", "severity", "site", "symptom_onset", "message", "from_site", "concurrent"]


def test_flags_follow_the_window_setting(capsys, loaded):
    run(capsys, "settings", "resolution_window_months", "6-12")
    got = json.loads(run(capsys, "flags", "--as-of", "2026-03-01", "--json", "--patient", "EX-02")[1])
    assert got["resolution_window_months"] == [6, 12]
    assert "PROLONGED_COURSE" not in [f["code"] for f in got["patients"][0]["flags"]]


def test_flags_leave_out_archived_unless_named(capsys, loaded):
    with open_store(loaded) as store:
        store.set_archived(store.patient_id("EX-03"), None)
    got = json.loads(run(capsys, "flags", "--as-of", "2026-03-01", "--json")[1])
    assert "EX-03" not in [p["mrn"] for p in got["patients"]]
    got = json.loads(run(capsys, "flags", "--as-of", "2026-03-01", "--json", "--patient", "EX-03")[1])
    assert [p["mrn"] for p in got["patients"]] == ["EX-03"]


def test_flags_table_is_readable(capsys, loaded):
    code, out, _ = run(capsys, "flags", "--as-of", "2026-03-01")
    assert code == 0
    assert "EX-02" in out and "regional migratory osteoporosis" in out
    assert "warning  MIGRATION" in out and "Right hip" in out


def test_flags_unknown_patient_exits_2(capsys, loaded):
    code, out, err = run(capsys, "flags", "--json", "--patient", "EX-99")
    assert code == 2 and "EX-99" in err and out == ""


def test_flags_future_as_of_is_allowed(capsys, loaded):
    code, out, _ = run(capsys, "flags", "--as-of", "2030-01-01", "--json")
    assert code == 0 and json.loads(out)["as_of"] == "2030-01-01"


def test_worklist_lists_overdue_first(capsys, loaded):
    code, out, _ = run(capsys, "worklist", "--as-of", "2026-03-01")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Review worklist as of 2026-03-01: 3 patient(s)"
    assert [line.split()[0] for line in lines[1:]] == ["overdue"] * 3
    by_mrn = {mrn: line for line in lines[1:] for mrn in ("EX-02", "EX-03", "EX-04") if f" {mrn} " in line}
    assert set(by_mrn) == {"EX-02", "EX-03", "EX-04"}
    # The missed review and how long ago, never a later date beside "overdue"; the most urgent flag in clinical order.
    assert "review of 12 Feb 2026 missed, 17 days" in by_mrn["EX-02"]
    assert "NOT_REGRESSING:" in by_mrn["EX-02"]
    assert "AVN_SIGNS: Right knee: MRI of" in by_mrn["EX-04"]
    for line in lines[1:]:
        assert "2026-03-0" not in line and "2026-04" not in line


def test_flags_table_lists_each_patients_flags_most_urgent_first(capsys, loaded):
    from tohtrack.course import urgency

    out = run(capsys, "flags", "--as-of", "2026-03-01")[1]
    blocks = out.split("\n\n", 1)[1].split("\nEX-")
    for block in blocks:
        codes = [line.split()[1] for line in block.splitlines()[1:] if line.startswith("    ")]
        assert codes == sorted(codes, key=urgency), block
    ex04 = next(b for b in blocks if b.startswith(("04", "EX-04")))
    assert [line.split()[1] for line in ex04.splitlines()[1:]][0] == "AVN_SIGNS"


def test_flags_json_on_an_empty_database_is_valid(capsys, db_target):
    code, out, _ = run(capsys, "flags", "--json", "--as-of", "2026-03-01")
    assert code == 0
    assert json.loads(out) == {"as_of": "2026-03-01", "resolution_window_months": [6, 8], "patients": []}


def test_restore_through_the_cli(capsys, loaded, tmp_path):
    backup = tmp_path / "b.sqlite3"
    assert run(capsys, "backup", "-o", backup)[0] == 0
    code, out, _ = run(capsys, "restore", backup)
    assert code == 0 and "replaced database was kept" in out
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("nope" * 500)
    code, _, err = run(capsys, "restore", junk)
    assert code == 2 and "junk.sqlite3" in err


@pytest.mark.parametrize("command", [["check"], ["flags", "--json"], ["export", "-o", "-"], ["audit"],
                                     ["worklist"], ["settings"]])
def test_reading_commands_never_create_a_mistyped_database(capsys, tmp_path, command):
    typo = tmp_path / "clinc.sqlite3"
    code, _, err = run(capsys, "--db", typo, *command)
    assert code == 1 and "no database there" in err
    assert not typo.exists()


def test_reading_commands_leave_an_older_database_as_it_was(capsys, db_path):
    # A database really made by an older version: its migrations applied up to the last one, not a row deleted
    # from the list (check reports a changed list: it would leave nothing to hold the schema against).
    from sqlite_utils import Database
    from tohtrack.migrations import migrations

    names = [m.name for m in migrations.pending(Database(memory=True))]
    older = Database(db_path)
    migrations.apply(older, stop_before=names[-1])
    older.close()
    conn = sqlite3.connect(db_path)
    before = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")]
    conn.close()
    assert before == names[:-1]
    assert run(capsys, "check")[0] == 0
    for command in (["flags"], ["worklist"], ["audit"], ["export", "-o", "-"]):
        assert run(capsys, *command)[0] == 0
    conn = sqlite3.connect(db_path)
    assert [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")] == before
    conn.close()


def test_two_restores_in_a_row_keep_both_replaced_databases(capsys, loaded, tmp_path):
    backup = tmp_path / "b.sqlite3"
    run(capsys, "backup", "-o", backup)
    first = run(capsys, "restore", backup)[1].rsplit(" ", 1)[-1].strip()
    second = run(capsys, "restore", backup)[1].rsplit(" ", 1)[-1].strip()
    assert first != second
    assert Path(first).exists() and Path(second).exists()


def test_options_before_the_command_that_belong_to_screenshot_are_refused(capsys, loaded):
    code, out, err = run(capsys, "--patient", "EX-01", "export", "-o", "-")
    assert code == 2 and "after 'export'" in err and out == ""
