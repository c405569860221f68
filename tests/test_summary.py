"""The stored assessment summaries (tohtrack.summary): equal to a fresh assessment on every date they claim,
emptied by every kind of write in the write's own transaction, and never a source of truth."""

import copy
import datetime as dt
import json

import pytest
from hypothesis import given, settings as hypothesis_settings
from hypothesis import strategies as st

from tohtrack import cohort, course, demo, interchange, registry, summary
from tohtrack.db import Store
from tohtrack.store import open_store
from tohtrack.store.sqlite import summaries as summaries_sql
from tohtrack.model import Episode, ImagingStudy, SymptomRecord, Treatment, ValidationError
from tohtrack.settings import Settings

from test_course import END, START, histories

TODAY = dt.date(2026, 3, 1)
DATES = [dt.date(2024, 6, 30), dt.date(2025, 9, 14), TODAY, dt.date(2026, 8, 1)]
SHORT = Settings(resolution_window_months=(1, 2), review_schedule=((2, "w"), (5, "w"), (2, "m"), (9, "m")))


def fresh(store, patient_id, as_of, settings=None):
    """The summary of the patient's whole history assessed now."""
    settings = settings or store.settings()
    return summary.summarize(course.assess(store.patient(patient_id), as_of, settings), settings)


def rows(store):
    return {r[0]: r[1] for r in store.conn.execute("SELECT patient_id, rules FROM assessment_summary")}


@pytest.fixture
def loaded(store, vignettes):
    interchange.import_document(store, vignettes, today=TODAY)
    store.add_patients(list(demo.generate(120, seed=5, today=TODAY)), validate=False)
    return store


def ids(store):
    return [r[0] for r in store.conn.execute("SELECT id FROM patients ORDER BY id")]


# ---------------------------------------------------------------------------
# The same as a fresh assessment
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("as_of", DATES)
def test_summaries_equal_fresh_assessments_of_whole_histories(loaded, as_of):
    made = summary.summaries(loaded, ids(loaded), as_of)  # made now (and stored)
    again = summary.summaries(loaded, ids(loaded), as_of)  # read back
    assert set(made) == set(again) == set(ids(loaded))
    for pid in ids(loaded):
        expected = fresh(loaded, pid, as_of)
        assert made[pid] == expected == again[pid]
        assessment = course.assess(loaded.patient(pid), as_of, loaded.settings())
        assert json.loads(again[pid].flags_json) == course.patient_json(assessment)
        assert again[pid].most_urgent_flag() == assessment.most_urgent


def test_histories_loaded_for_the_assessment_give_the_same_assessment(loaded, backend):
    patients = {p.id: p for p in loaded.patients()}
    light = (summaries_sql._histories(loaded.conn, list(patients)) if backend == "sqlite"
             else loaded._histories(list(patients)))
    assert [p.id for p in light] == list(patients)
    for settings in (Settings(), SHORT):
        for as_of in DATES:
            for p in light:
                whole = course.assess(patients[p.id], as_of, settings)
                assert course.patient_json(course.assess(p, as_of, settings)) == course.patient_json(whole)


def test_flags_json_is_what_the_assessment_prints(loaded):
    texts = cohort.flags_json(loaded, TODAY)
    patients = sorted((p for p in loaded.patients() if not p.archived), key=lambda p: p.mrn)
    assert texts == [json.JSONEncoder(ensure_ascii=False).encode(course.patient_json(course.assess(p, TODAY)))
                     for p in patients]


def test_worklist_entries_match_the_assessment(loaded):
    for entry in cohort.worklist(loaded, TODAY):
        a = course.assess(loaded.patient(entry.patient_id), TODAY, loaded.settings())
        assert (entry.pattern, entry.next_review, entry.due, entry.overdue) == (a.pattern, a.next_review, a.due,
                                                                                 a.overdue)
        assert entry.most_urgent == a.most_urgent
        assert entry.active_sites == tuple(e.site for e in a.episodes if e.status == "active")


# ---------------------------------------------------------------------------
# The dates a summary holds for
# ---------------------------------------------------------------------------


def holds_throughout(patient, as_of, settings, radius=45):
    """The summary made at as_of is the fresh one on each day it claims within `radius` days of as_of, and on
    the first and the last day it claims."""
    made = summary.summarize(course.assess(patient, as_of, settings), settings)
    assert made.holds_on(as_of)
    start = made.valid_from or as_of - dt.timedelta(days=3000)
    last = (made.valid_until - summary.ONE_DAY) if made.valid_until else as_of + dt.timedelta(days=3000)
    near = range(max(-radius, (start - as_of).days), min(radius, (last - as_of).days) + 1)
    for day in {start, last, *(as_of + dt.timedelta(days=n) for n in near)}:
        assert summary.summarize(course.assess(patient, day, settings), settings) == made, day
    return made


@st.composite
def dated_histories(draw):
    """A random history, and an as-of date anywhere or up to 400 days after one of its onsets (where the
    reviews, the resolution window and its anniversaries fall)."""
    patient = draw(histories())
    for number, episode in enumerate(patient.episodes):
        episode.id = number + 1
    patient.id = 1
    onsets = [e.symptom_onset for e in patient.episodes]
    if onsets and draw(st.booleans()):
        as_of = draw(st.sampled_from(onsets)) + dt.timedelta(days=draw(st.integers(-20, 400)))
    else:
        as_of = draw(st.dates(START, END + dt.timedelta(days=400)))
    return patient, as_of


@hypothesis_settings(max_examples=200, deadline=None)
@given(dated_histories(), st.sampled_from([Settings(), SHORT]))
def test_a_summary_holds_for_every_date_it_claims(dated, settings):
    patient, as_of = dated
    holds_throughout(patient, as_of, settings)


def test_summaries_of_the_demo_cohort_hold_for_the_dates_they_claim(loaded):
    for patient in loaded.patients():
        for as_of in (dt.date(2025, 11, 30), TODAY):
            holds_throughout(patient, as_of, SHORT, radius=10)
            holds_throughout(patient, as_of, Settings(), radius=10)


def test_a_summary_past_its_dates_is_made_again(loaded, monkeypatch):
    monkeypatch.setattr(summary, "_today", lambda: TODAY)
    pid = loaded.patient_id("EX-03")  # active on TODAY: its summary ends
    first = summary.summaries(loaded, [pid], TODAY)[pid]
    assert first.valid_until is not None
    later = first.valid_until
    assert summary.stored(loaded, [pid], later, summary.rules_key(loaded.settings())) == {}
    other = summary.summaries(loaded, [pid], later)[pid]
    assert other == fresh(loaded, pid, later)
    # a date other than today does not displace today's summary ...
    assert summary.stored(loaded, [pid], TODAY, summary.rules_key(loaded.settings())) == {pid: first}
    # ... but today's displaces any other
    monkeypatch.setattr(summary, "_today", lambda: later)
    summary.summaries(loaded, [pid], later)
    assert summary.stored(loaded, [pid], later, summary.rules_key(loaded.settings())) == {pid: other}


# ---------------------------------------------------------------------------
# Writes empty the summaries they touch, in their own transaction
# ---------------------------------------------------------------------------


@pytest.fixture
def cached(loaded):
    summary.summaries(loaded, ids(loaded), TODAY)
    assert set(rows(loaded)) == set(ids(loaded))
    return loaded


def gone_only(store, pid):
    left = rows(store)
    assert pid not in left and set(left) == set(ids(store)) - {pid}
    made = summary.summaries(store, [pid], TODAY)[pid]
    assert made == fresh(store, pid, TODAY)


def ex(store, mrn="EX-02"):
    return store.patient_by_mrn(mrn)


def test_editing_a_patient(cached):
    p = ex(cached)
    p.given_name = "Changed"
    cached.update_patient(p, today=TODAY)
    gone_only(cached, p.id)


def test_archiving_a_patient(cached):
    p = ex(cached)
    cached.set_archived(p.id, p.version)
    gone_only(cached, p.id)


def test_adding_changing_and_removing_an_episode(cached):
    p = ex(cached)
    episode = cached.add_episode(p.id, Episode("elbow_left", dt.date(2026, 1, 5)), today=TODAY)
    gone_only(cached, p.id)
    episode.resolved_on = dt.date(2026, 2, 20)
    cached.update_episode(episode, today=TODAY)
    gone_only(cached, p.id)
    cached.delete_episode(episode.id, episode.version)
    gone_only(cached, p.id)


@pytest.mark.parametrize("record", [
    ImagingStudy(dt.date(2026, 2, 1), "MRI", edema_extent_pct=40, collapse=True),
    SymptomRecord(dt.date(2026, 2, 1), pain_nrs=4),
    Treatment(dt.date(2026, 2, 1), "analgesia"),
])
def test_adding_changing_and_removing_a_finding(cached, record):
    record = copy.deepcopy(record)  # the parameter is shared by both backends' runs: each writes its own
    p = ex(cached, "EX-03")
    episode = p.episodes[-1]
    cached.add_finding(episode.id, record, today=TODAY)
    gone_only(cached, p.id)
    if isinstance(record, Treatment):
        record.detail = "changed"
    else:
        record.date = dt.date(2026, 2, 2)
    cached.update_finding(record, today=TODAY)
    gone_only(cached, p.id)
    cached.delete_finding(record)
    gone_only(cached, p.id)


def test_a_write_that_fails_leaves_the_summary(cached):
    p = ex(cached, "EX-03")
    with pytest.raises(ValidationError):
        cached.add_finding(p.episodes[-1].id, SymptomRecord(dt.date(2030, 1, 1), pain_nrs=4), today=TODAY)
    assert p.id in rows(cached)


def test_the_summary_goes_in_the_writes_transaction(cached):
    p = ex(cached, "EX-03")
    with pytest.raises(RuntimeError):
        with cached.transaction():
            cached.add_finding(p.episodes[-1].id, SymptomRecord(dt.date(2026, 2, 1), pain_nrs=4), today=TODAY)
            assert p.id not in rows(cached)
            raise RuntimeError("the user cancelled")
    assert p.id in rows(cached)


def test_a_setting_of_the_assessment_empties_them_all(cached):
    before = summary.rules_key(cached.settings())
    cached.set_setting("clinic_name", "Ortho")  # not read by the assessment
    assert set(rows(cached)) == set(ids(cached))
    cached.set_setting("resolution_window_months", "5-7")
    assert rows(cached) == {}
    assert summary.rules_key(cached.settings()) != before
    found = summary.summaries(cached, ids(cached), TODAY)
    assert all(found[pid] == fresh(cached, pid, TODAY) for pid in ids(cached))
    cached.set_setting("review_schedule", "4w 3m")
    assert rows(cached) == {}


def test_summaries_for_other_settings_are_made_but_not_stored(cached):
    pid = ex(cached).id
    made = summary.summaries(cached, [pid], TODAY, SHORT)[pid]
    assert made == fresh(cached, pid, TODAY, SHORT)
    assert set(rows(cached).values()) == {summary.rules_key(cached.settings())}


def test_an_import_keeps_the_others_and_the_new_patients_are_assessed(cached, vignettes):
    for p in vignettes["patients"]:
        p["mrn"] = "NEW-" + p["mrn"]
    before = rows(cached)
    new = interchange.import_document(cached, vignettes, today=TODAY)
    assert rows(cached) == before
    found = summary.summaries(cached, [p.id for p in new], TODAY)
    assert all(found[p.id] == fresh(cached, p.id, TODAY) for p in new)


def test_a_restored_backup_brings_its_own_summaries(cached, tmp_path):
    backup = cached.backup(tmp_path / "b.sqlite3")
    p = ex(cached, "EX-03")
    cached.add_finding(p.episodes[-1].id, SymptomRecord(dt.date(2026, 2, 1), pain_nrs=4), today=TODAY)
    cached.restore(backup)
    assert p.id in rows(cached) and cached.check() == []


def test_a_history_changed_while_it_was_assessed_is_not_stored(loaded, monkeypatch, db_target, backend):
    p = ex(loaded, "EX-03")
    other = open_store(db_target)
    owner = summaries_sql if backend == "sqlite" else type(loaded)  # where the histories are read
    read = owner._histories

    def and_meanwhile(conn, wanted):
        found = read(conn, wanted)
        other.add_finding(p.episodes[-1].id, SymptomRecord(dt.date(2026, 2, 1), pain_nrs=4), today=TODAY)
        return found

    monkeypatch.setattr(owner, "_histories", and_meanwhile)
    summary.summaries(loaded, ids(loaded), TODAY)
    other.close()
    assert p.id not in rows(loaded) and len(rows(loaded)) == len(ids(loaded)) - 1


# ---------------------------------------------------------------------------
# Read-only stores, older databases, and the check
# ---------------------------------------------------------------------------


@pytest.mark.sqlite_only("whether the file may be written (os.access); a read-only server login keeps none")
def test_a_read_only_store_keeps_what_it_worked_out_when_the_file_can_be_written(loaded, monkeypatch):
    path = loaded.path
    with Store(path, readonly=True) as reader:
        summary.summaries(reader, ids(reader), TODAY)
    assert set(rows(loaded)) == set(ids(loaded))
    summary.clear(loaded)
    monkeypatch.setattr(summaries_sql.os, "access", lambda *_: False)  # as if the file were not ours to write
    with Store(path, readonly=True) as reader:
        made = summary.summaries(reader, ids(reader), TODAY)
    assert rows(loaded) == {} and len(made) == len(ids(loaded))


def test_a_database_without_the_table_is_assessed_without_it(tmp_path, vignettes):
    from test_db import migration_set
    from tohtrack import migrations as mig

    path = tmp_path / "old.sqlite3"
    with Store(path, migration_set=migration_set(mig.m002_registry_indexes)) as old:
        interchange.import_document(old, vignettes, today=TODAY)
    with Store(path, readonly=True) as reader:  # as the read-only commands open it: not upgraded
        assert not summary.has_table(reader)
        entries = cohort.worklist(reader, TODAY)
        assert {e.mrn for e in entries} == {"EX-02", "EX-03", "EX-04"}
        assert reader.check() == []


def test_check_compares_the_summaries_with_fresh_assessments(cached, outside):
    assert cached.check() == []
    pid = ex(cached, "EX-03").id
    outside("UPDATE assessment_summary SET due = 1 - due, flags_json = '{}' WHERE patient_id = ?", params=(pid,))
    problems = cached.check()
    assert len(problems) == 1 and "EX-03" in problems[0] and "due, flags_json" in problems[0]
    summary.clear(cached)
    assert cached.check() == []


def test_check_finds_a_removed_trigger(cached, outside, backend):
    if backend == "sqlite":
        outside("DROP TRIGGER assessment_summary_imaging_insert")
        assert cached.check() == ["assessment_summary: the trigger assessment_summary_imaging_insert that keeps the "
                                  "stored assessments up to date was removed (outside TOHtrack)"]
    else:
        outside("DROP TRIGGER assessment_summary_imaging ON imaging")
        assert cached.check() == ["schema: the trigger assessment_summary_imaging on imaging is missing (removed "
                                  "outside TOHtrack)"]


def test_summaries_under_other_rules_are_left_aside(cached):
    cached.conn.execute("UPDATE assessment_summary SET rules = 'old code|6-8|6w 3m 6m 8m', due = 1 - due")
    assert cached.check() == []
    pid = ex(cached).id
    assert summary.summaries(cached, [pid], TODAY)[pid] == fresh(cached, pid, TODAY)


def test_the_registry_filters_use_them(cached):
    for as_of in DATES:
        assessments = {p.id: course.assess(p, as_of, cached.settings()) for p in cached.patients()}
        archived = {p.id for p in cached.patients() if p.archived}
        assert registry.flagged_ids(cached, as_of) == {i for i, a in assessments.items() if a.flags}
        assert registry.due_ids(cached, as_of) == {i for i, a in assessments.items()
                                                    if i not in archived and (a.due or a.overdue)}


def test_rules_key_names_the_settings_and_the_code():
    key = summary.rules_key(Settings())
    assert key.endswith("|6-8|6w 3m 6m 8m") and summary.code_fingerprint() in key
    assert summary.rules_key(SHORT) != key


def test_year_one_dates_do_not_overflow(store):
    """A review in the first days of year 1 has no 'fourteen days before': the cache must not fail where a
    fresh assessment works."""
    import datetime as dt

    from tohtrack import cohort, course
    from tohtrack.model import Episode, Patient
    from tohtrack.settings import Settings

    settings = Settings(review_schedule=((1, "w"), (3, "m")))
    patient = Patient("Y-1", "Early", "Ann", dt.date(1, 1, 1), "female",
                      episodes=[Episode("hip_left", dt.date(1, 1, 2))])
    for as_of in (dt.date(1, 1, 5), dt.date(1, 2, 1), dt.date(2026, 3, 1)):
        summary.validity(patient, as_of, settings)  # no OverflowError
        course.assess(patient, as_of, settings)
    store.add_patients([patient], validate=False)  # stored before the earliest birth date (1900) was a rule
    store.set_setting("review_schedule", "1w 3m")
    for as_of in (dt.date(1, 1, 5), dt.date(2026, 3, 1)):
        assert [e.mrn for e in cohort.worklist(store, as_of, due_only=False)] == ["Y-1"]


def test_backups_are_not_written_by_a_look(tmp_path, vignettes):
    """A read-only look at a backup (rollback journal, not WAL) keeps no summaries in it: its bytes stay."""
    import datetime as dt
    import hashlib

    from tohtrack import cohort, interchange

    with Store(tmp_path / "live.sqlite3") as store:
        interchange.import_document(store, vignettes, today=dt.date(2026, 3, 1))
        backup = store.backup(tmp_path / "copy.sqlite3")
    before = hashlib.sha256(backup.read_bytes()).hexdigest()
    with Store(backup, readonly=True) as look:
        cohort.worklist(look, dt.date(2026, 3, 1), due_only=False)
    assert hashlib.sha256(backup.read_bytes()).hexdigest() == before
