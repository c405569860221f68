"""Identities cannot be spoofed: the character rules of every text, MRNs unique as they compare (NFKC, case,
invisible characters aside) in files, the database and every lookup, the clinician name, and an audit listing
that stored text cannot forge."""

from __future__ import annotations

import copy
import datetime as dt
import json
import sqlite3
import unicodedata

import pytest
from hypothesis import assume, example, given, settings, strategies as st
from sqlite_utils.migrations import Migrations

from conftest import run_cli
from tohtrack import interchange, migrations as mig
from tohtrack.__main__ import printable
from tohtrack.store import open_store
from tohtrack.db import Store
from tohtrack.model import (MAX_CLINICIAN, Episode, Patient, ValidationError, check_clinician, is_blank, load_document,
                            mrn_key, normalize_mrn, text_problem)

TODAY = dt.date(2026, 3, 1)
LOOKALIKES = ["D0-\u202e100000", "D0-000001\u200b", "Ｄ0-000001", "d0-000001", " d0-000001 ", "\ufeffD0-000001",
              "D0-0\u00ad00001", "D0-000001\u2069",
              # Invisible although not format characters (Unicode's Default_Ignorable_Code_Point): each looked
              # exactly like D0-000001 and made a second patient.
              "D0-000001\u034f", "D0-000001\ufe0f", "D0-000001\U000E0100", "D0-000001\u3164", "D0-000001\u115f",
              "D0-000001\uffa0", "D0-000001\u180b", "D0-000001\u17b4"]
INVISIBLE = ["\u034f", "\u115f", "\u1160", "\u17b4", "\u17b5", "\u180b", "\u180f", "\u3164", "\ufe00", "\ufe0f",
             "\uffa0", "\U000E0100", "\U000E01EF"]


run = run_cli  # tests/conftest.py


def doc_with(mrn="D0-000001", family="Rossi", given="Anna", notes="", accession="", instrument="", report="",
             note="", detail="", episode_notes=""):
    return {"format": "tohtrack/1", "patients": [{
        "mrn": mrn, "family_name": family, "given_name": given, "birth_date": "1970-01-01", "sex": "female",
        "notes": notes,
        "episodes": [{"site": "hip_left", "symptom_onset": "2025-01-10", "notes": episode_notes,
                      "imaging": [{"date": "2025-01-20", "modality": "MRI", "accession": accession,
                                   "report": report}],
                      "symptoms": [{"date": "2025-01-20", "function_instrument": instrument, "note": note}],
                      "treatments": [{"start": "2025-01-20", "kind": "analgesia", "detail": detail}]}]}]}


def problems(doc):
    try:
        load_document(doc, today=TODAY)
    except ValidationError as exc:
        return [str(p) for p in exc.problems]
    return []


E = "patients[0].episodes[0]"
SINGLE_LINE = {"mrn": "patients[0].mrn", "family": "patients[0].family_name", "given": "patients[0].given_name",
               "accession": f"{E}.imaging[0].accession", "instrument": f"{E}.symptoms[0].function_instrument"}
MULTI_LINE = {"notes": "patients[0].notes", "episode_notes": f"{E}.notes", "report": f"{E}.imaging[0].report",
              "note": f"{E}.symptoms[0].note", "detail": f"{E}.treatments[0].detail"}

INVISIBLE_SET = {chr(c) for low, high in ((0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F),
                                          (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xE0100, 0xE01EF))
                 for c in range(low, high + 1)}


@pytest.mark.parametrize("bad", INVISIBLE)
def test_characters_shown_as_nothing_are_refused_in_one_line_texts_and_kept_in_notes(bad):
    for field, path in SINGLE_LINE.items():
        found = problems(doc_with(**{field: "Ab" + bad + "c"}))
        assert found == [f"{path}: contains an invisible character (U+{ord(bad):04X} {unicodedata.name(bad)}) "
                         "at position 3"], found
    assert problems(doc_with(notes="\u2764" + bad)) == []  # an emoji's variation selector in a note


@pytest.mark.parametrize("field,path", [("mrn", "patients[0].mrn"), ("family", "patients[0].family_name")])
@pytest.mark.parametrize("value", ["\u3164", " \u3164\u115f ", "\ufe0f", "\u034f\u200b"])
def test_a_name_of_fillers_and_selectors_only_is_empty(field, path, value):
    assert problems(doc_with(**{field: value})) == [f"{path}: is empty"]
    assert is_blank(value)


# -- the character rules (property tests) --------------------------------------------------------

# Text a clinic writes: letters, digits, punctuation, symbols, marks and spaces of any script.
clean_char = st.characters(categories=["L", "M", "N", "P", "S", "Zs"]).filter(lambda c: c not in INVISIBLE_SET)
clean_text = st.builds(lambda a, middle, b: a + middle + b,
                       st.characters(categories=["L", "N"]), st.text(clean_char, max_size=30),
                       st.characters(categories=["L", "N"]))
refused_char = st.one_of(st.characters(categories=["Cc"]), st.characters(categories=["Cf"]),
                         st.characters(categories=["Cn"]), st.characters(categories=["Co"]))


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(sorted(SINGLE_LINE) + sorted(MULTI_LINE)), base=clean_text, bad=refused_char,
       where=st.integers(1, 30))
@example(field="family", base="Rossi", bad="\x85", where=2)  # C1 control (NEL)
@example(field="mrn", base="D0-000001", bad="\u202e", where=3)
@example(field="given", base="Anna", bad="\u00ad", where=2)  # soft hyphen
def test_a_refused_character_anywhere_is_refused_naming_the_field(field, base, bad, where):
    multi = field in MULTI_LINE
    assume(not (multi and bad in "\t\n\r"))  # a multi-line text keeps tabs and line breaks
    where = min(where, len(base) - 1)  # inside: an MRN's ends are trimmed of spaces (and \t, \n are spaces)
    value = base[:where] + bad + base[where:]
    path = (MULTI_LINE if multi else SINGLE_LINE)[field]
    found = problems(doc_with(**{field: value}))
    assert len(found) == 1 and found[0].startswith(f"{path}: contains "), found
    assert f"U+{ord(bad):04X}" in found[0]
    assert bad not in found[0]  # the message names the character, never shows it


@settings(max_examples=200, deadline=None)
@given(field=st.sampled_from(sorted(SINGLE_LINE) + sorted(MULTI_LINE)), value=clean_text,
       lines=st.lists(clean_text, max_size=3))
def test_clean_text_is_accepted(field, value, lines):
    if field in MULTI_LINE:
        value = "\n".join([value, *lines]) + "\tend\r\n"
    patients = load_document(doc_with(**{field: value}), today=TODAY)
    if field == "mrn":
        assert patients[0].mrn == normalize_mrn(value)
    assert text_problem(value, multiline=field in MULTI_LINE) is None


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\tb", "a\u2028b", "a\u2029b"])
def test_single_line_texts_refuse_line_breaks_and_tabs(value):
    for field, path in SINGLE_LINE.items():
        assert [p.split(": ", 1)[0] for p in problems(doc_with(**{field: value}))] == [path]
    assert problems(doc_with(notes=value)) == []


@pytest.mark.parametrize("field,path", [("mrn", "patients[0].mrn"), ("family", "patients[0].family_name")])
@pytest.mark.parametrize("value", ["\u200b", " \u200b ", "\u00a0\u200d\ufeff", "\u3000"])
def test_a_name_or_mrn_of_invisible_characters_and_spaces_is_empty(field, path, value):
    assert problems(doc_with(**{field: value})) == [f"{path}: is empty"]
    assert is_blank(value)


# -- MRNs compare as one -------------------------------------------------------------------------


def test_mrn_keys():
    assert normalize_mrn(" Ｈ-000123 ") == "H-000123"
    assert normalize_mrn("h-000123") == "h-000123"  # case as written
    for spelling in ("H-000123", "h-000123", "Ｈ-000123", "H-000123\u200b", "\u200bh-000123 ", "ｈ－０００１２３"):
        assert mrn_key(spelling) == "h-000123"
    assert mrn_key("D0-\u202e100000") == "d0-100000"  # it only looked like D0-000001: refused anyway


@pytest.mark.parametrize("lookalike", LOOKALIKES)
def test_a_lookalike_mrn_in_the_same_file_is_refused(lookalike):
    doc = doc_with()
    doc["patients"].append(dict(copy.deepcopy(doc["patients"][0]), mrn=lookalike))
    found = problems(doc)
    assert found and all(p.startswith("patients[1].mrn: ") for p in found), found


@pytest.mark.parametrize("lookalike", LOOKALIKES)
def test_a_lookalike_of_a_stored_mrn_is_refused_by_import(store, lookalike):
    interchange.import_document(store, doc_with(), today=TODAY)
    with pytest.raises(ValidationError) as caught:
        interchange.import_document(store, doc_with(mrn=lookalike), today=TODAY)
    assert [p.path for p in caught.value.problems] == ["patients[0].mrn"]
    assert store.count_patients() == 1


def test_renaming_to_a_lookalike_of_another_mrn_is_refused(store):
    interchange.import_document(store, doc_with(), today=TODAY)
    interchange.import_document(store, doc_with(mrn="E-1"), today=TODAY)
    patient = store.patient_by_mrn("E-1")
    patient.mrn = "d0-000001"
    with pytest.raises(ValidationError, match="^mrn: 'd0-000001' is the same MRN as 'D0-000001' in the database$"):
        store.update_patient(patient, TODAY)
    patient.mrn = "e-1"  # its own MRN in another case: allowed, stored as written
    store.update_patient(patient, TODAY)
    assert store.patient_by_mrn("E-1").mrn == "e-1" and store.check() == []


def test_the_database_refuses_a_lookalike_even_past_the_store(store, outside):
    import psycopg

    interchange.import_document(store, doc_with(), today=TODAY)
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.UniqueViolation), match="mrn_key"):
        outside("INSERT INTO patients (mrn, family_name, given_name, birth_date, sex, family_key, "
                           "given_key, mrn_key) VALUES ('d0-000001', 'X', '', '1970-01-01', 'male', 'x', '', "
                           "'d0-000001')")


@pytest.mark.parametrize("spelling", ["D0-000001", "d0-000001", "Ｄ０-０００００１", " D0-000001\u200b "])
def test_every_lookup_finds_the_patient_by_any_spelling(capsys, db_target, tmp_path, spelling):
    (tmp_path / "in.json").write_text(json.dumps(doc_with()), encoding="utf-8")
    assert run(capsys, "import", tmp_path / "in.json")[0] == 0
    code, out, _ = run(capsys, "flags", "--patient", spelling, "--json")
    assert code == 0 and [p["mrn"] for p in json.loads(out)["patients"]] == ["D0-000001"]
    code, _, _ = run(capsys, "export", "-o", tmp_path / "one.json", "--patient", spelling)
    assert code == 0 and json.loads((tmp_path / "one.json").read_text())["patients"][0]["mrn"] == "D0-000001"
    code, out, _ = run(capsys, "audit", "--patient", spelling)
    assert code == 0 and "Patient details (D0-000001)" in out


# -- a database from before the MRN rules ------------------------------------------------------------


def old_store(path):
    """A database as the version before the MRN keys made it (migrations m001–m003)."""
    ms = Migrations("tohtrack")
    for fn in (mig.m001_initial, mig.m002_registry_indexes, mig.m003_assessment_summary):
        ms()(fn)
    return Store(path, migration_set=ms)


def test_the_upgrade_names_mrns_that_clash_under_the_new_rules_and_keeps_them_usable(capsys, db_path, tmp_path):
    with old_store(db_path) as store, store.transaction():  # as the old version stored them (audited)
        store._insert_patients([Patient(mrn, "Rossi", "Anna", dt.date(1970, 1, 1), "female")
                                for mrn in ("D0-000001", "d0-000001", "E-1", "Ｅ-2")])
        assert "mrn_key" not in [r[1] for r in store.conn.execute("PRAGMA table_info(patients)")]
        assert store.patient_id("e-1") == store.patient_id("E-1")  # read without the key column too
    code, out, err = run(capsys, "flags", "--patient", "d0-000001", "--json")  # read-only: not upgraded yet
    assert code == 0 and json.loads(out)["patients"][0]["mrn"] == "d0-000001"
    code, _, err = run(capsys, "settings", "clinic_name", "Ortho")  # a write: upgrades
    assert code == 0
    assert ("warning: patients row 2 ('d0-000001') has the same MRN as patients row 1 ('D0-000001') once case, "
            "width and invisible characters are set aside: give one of them another MRN (Edit patient)") in err
    code, _, err = run(capsys, "check")
    assert code == 1 and "patients row 2 ('d0-000001') has the same MRN as patients row 1" in err
    with Store(db_path) as store:
        assert store.patient_by_mrn("d0-000001").mrn == "d0-000001"  # each found by its own spelling
        assert store.patient_by_mrn("D0-000001").mrn == "D0-000001"
        assert store.patient_by_mrn("e-2").mrn == "Ｅ-2"  # stored before NFKC: found by any spelling
        patient = store.patient_by_mrn("d0-000001")
        patient.mrn = "D0-000002"  # the clinic resolves the clash
        store.update_patient(patient, TODAY)
        assert store.check() == [] and store.patient_by_mrn("d0-000002").id == patient.id


def test_check_finds_an_mrn_key_changed_outside_tohtrack(store):
    interchange.import_document(store, doc_with(), today=TODAY)
    store.conn.execute("UPDATE patients SET mrn_key = 'x'")
    assert store.check() == ["patients row 1 ('D0-000001'): the MRN key does not match the MRN "
                             "(changed outside TOHtrack)"]


# -- the clinician -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,message", [
    ("Dr A\n2026-01-01T00:00:00Z  admin (Dr Boss)  delete patients #7",
     "contains a line break (U+000A) at position 5; it must be one line"),
    ("x" * 120_000, "is 120000 characters long (at most 100)"),
    ("x" * (MAX_CLINICIAN + 1), "is 101 characters long (at most 100)"),
    ("Dr\u200bRossi", "contains an invisible formatting character (U+200B ZERO WIDTH SPACE) at position 3"),
    ("Dr \u202eissoR", "contains an invisible formatting character (U+202E RIGHT-TO-LEFT OVERRIDE) at position 4"),
    ("Dr\x9bRossi", "contains a control character (U+009B) at position 3"),
])
def test_a_bad_clinician_name_is_refused_before_anything_is_written(capsys, db_path, tmp_path, name, message):
    (tmp_path / "in.json").write_text(json.dumps(doc_with()), encoding="utf-8")
    for args in (["import", tmp_path / "in.json"], ["settings", "clinic_name", "X"], ["demo", "--patients", "1"]):
        code, out, err = run(capsys, "--clinician", name, *args)
        assert code == 2 and err == f"tohtrack: --clinician: {message}; nothing was written\n"
        assert not db_path.exists()


def test_a_good_clinician_name_is_recorded(capsys, db_path, tmp_path):
    assert check_clinician("Dr Anna Rossi-Müller") is None and check_clinician("x" * MAX_CLINICIAN) is None
    assert run(capsys, "--clinician", "Dr Anna Rossi-Müller", "settings", "clinic_name", "X")[0] == 0
    assert "(Dr Anna Rossi-Müller)" in run(capsys, "audit")[1]


@pytest.mark.parametrize("name", ["Dr A\nadmin (Dr Boss) delete patients #7", "x" * (MAX_CLINICIAN + 1),
                                  "Dr \u202eBoss", "Dr\u0085X", "\u200b", "Dr\u3164"])
def test_the_store_itself_refuses_a_bad_clinician_name(db_target, backend, name):
    # The core API (the app opens its stores with it), not only the command line, holds the rule.
    with pytest.raises(ValidationError) as caught:
        open_store(db_target, clinician=name)
    assert [p.path for p in caught.value.problems] == ["clinician"]
    assert backend != "sqlite" or not db_target.exists()
    with open_store(db_target, clinician="Dr A") as store:
        before = store.clinician  # on a server, the name its owner gave the login (tests/conftest.py)
        assert before == ("Dr A" if backend == "sqlite" else "Dr Test")
        with pytest.raises(ValidationError):
            store.clinician = name
        assert store.clinician == before


def test_a_clinician_name_of_spaces_only_is_no_name_and_ends_are_trimmed(capsys, db_path):
    for name, stored in (("   ", ""), ("\u00a0", ""), (" Dr A ", "Dr A")):
        assert run(capsys, "--clinician", name, "settings", "clinic_name", f"X{len(name)}")[0] == 0
        with Store(db_path) as store:
            assert store.conn.execute("SELECT clinician FROM audit ORDER BY id DESC LIMIT 1").fetchone()[0] == stored


def test_stored_text_cannot_forge_lines_in_the_audit_listing(capsys, db_path):
    forged = "Dr A\n2026-01-01T00:00:00.000000Z  admin (Dr Boss)  delete patients #7"
    with Store(db_path) as store, store.transaction():
        store._clinician = forged  # as an older version stored it (the store now refuses such a name)
        store._insert_patients([Patient("D0-000001", "Ros\u2028si", "Anna", dt.date(1970, 1, 1), "female",
                                        notes="line one\nline two\u202e\x1b[2J")])
    code, out, _ = run(capsys, "audit")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 1 + 6  # the entry, and its six fields
    assert lines[0].endswith("(Dr A\\n2026-01-01T00:00:00.000000Z  admin (Dr Boss)  delete patients #7)  "
                             "created  Patient details (D0-000001)")
    assert "    notes: line one\\nline two\\u202e\\x1b[2J" in lines
    assert all(line.isprintable() for line in lines)
    assert printable("Müller · 東京") == "Müller · 東京"


def test_stored_text_cannot_forge_lines_in_flags_and_worklist(capsys, db_target):
    with open_store(db_target) as store, store.transaction():  # as an older version stored them
        store._insert_patients([Patient("D0\n  warning  FORGED", "Ros\nsi", "Anna", dt.date(1970, 1, 1), "female",
                                        episodes=[Episode("hip_left", dt.date(2025, 1, 10))])])
    for args in (["flags", "--as-of", "2026-03-01"], ["worklist", "--all", "--as-of", "2026-03-01"]):
        code, out, _ = run(capsys, *args)
        assert code == 0 and "D0\\n  warning  FORGED" in out
        assert not any(line.lstrip().startswith(("warning  FORGED", "si")) for line in out.splitlines())
