"""The storage gateway: pragmas, file mode, audit trail, versions and conflicts, migrations, check, backup."""

import datetime as dt
import json
import sqlite3
import stat
import subprocess
import sys

import pytest
from sqlite_utils.migrations import Migrations

from conftest import audit_rows, minimal_document, query
from tohtrack import db as dbmod, interchange, migrations as mig
from tohtrack.store.sqlite import store as sqlite_store
from tohtrack.db import ConflictError, DatabaseTooNew, NotATohtrackDatabase, DatabaseDamaged, Store
from tohtrack.store import open_store
from tohtrack.model import Episode, ImagingStudy, SymptomRecord, Treatment, ValidationError

TODAY = dt.date(2026, 3, 1)


def imported(store, vignettes):
    interchange.import_document(store, vignettes, today=TODAY)
    return store


# -- opening ---------------------------------------------------------------------


def test_new_database_is_private_wal_and_full_sync(db_path):
    with Store(db_path) as store:
        assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
        pragma = lambda name: store.conn.execute(f"PRAGMA {name}").fetchone()[0]
        assert pragma("journal_mode") == "wal"
        assert pragma("foreign_keys") == 1
        assert pragma("synchronous") == 2  # FULL
        assert pragma("busy_timeout") >= 1000
        assert pragma("application_id") == mig.APPLICATION_ID


def test_default_path_follows_the_environment(db_path):
    assert dbmod.default_path() == db_path


def test_default_path_without_environment_is_per_user(monkeypatch):
    monkeypatch.delenv("TOHTRACK_DB", raising=False)
    path = dbmod.default_path()
    assert path.name == "tohtrack.sqlite3" and "tohtrack" in str(path.parent).lower()


def test_foreign_sqlite_file_is_refused(tmp_path):
    other = tmp_path / "other.sqlite3"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    before = other.read_bytes()
    with pytest.raises(NotATohtrackDatabase, match="not a TOHtrack one"):
        Store(other)
    assert other.read_bytes() == before


def test_non_sqlite_file_is_refused_unchanged(tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("this is not a database\n" * 100)
    before = junk.read_bytes()
    with pytest.raises(DatabaseDamaged, match="not a TOHtrack database, or the file is damaged"):
        Store(junk)
    assert junk.read_bytes() == before


def test_database_from_a_newer_version_is_refused(db_path):
    Store(db_path).close()
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('tohtrack', 'm099_future', 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseTooNew, match="newer TOHtrack"):
        Store(db_path)


def test_read_only_open_reads_but_cannot_write(db_target, vignettes):
    with open_store(db_target) as store:
        imported(store, vignettes)
    with open_store(db_target, readonly=True) as ro:
        assert ro.patient_by_mrn("EX-01").family_name == "Bianchi"
        with pytest.raises(dbmod.StoreError, match="read-only"):
            ro.set_archived(ro.patient_id("EX-01"), None)


# -- audit trail -------------------------------------------------------------------


def test_import_writes_one_audit_entry_per_record(store, vignettes):
    imported(store, vignettes)
    counts = {t: query(store, f"SELECT count(*) AS n FROM {t}")[0]["n"]
              for t in ("patients", "episodes", "imaging", "symptoms", "treatments")}
    for table, count in counts.items():
        entries = audit_rows(store, table)
        assert len(entries) == count and all(e["action"] == "create" for e in entries)
    entry = audit_rows(store, "patients")[0]
    assert entry["clinician"] == "Dr Test" and entry["os_user"]
    assert entry["at"].endswith("Z") and entry["old"] is None
    assert json.loads(entry["new"])["mrn"] == "EX-01"


def test_every_kind_of_write_leaves_an_entry(store, vignettes):
    imported(store, vignettes)
    patient = store.patient_by_mrn("EX-01")
    n = len(audit_rows(store))
    patient.notes = "seen with wife"
    store.update_patient(patient, today=TODAY)
    last = audit_rows(store)[-1]
    assert (last["table_name"], last["action"]) == ("patients", "update")
    assert json.loads(last["old"]) == {"notes": ""} and json.loads(last["new"]) == {"notes": "seen with wife"}

    episode = patient.episodes[0]
    episode.notes = "MRI both hips"
    store.update_episode(episode, today=TODAY)
    study = store.add_finding(episode.id, ImagingStudy(date=dt.date(2025, 11, 1), modality="XR", osteopenia=False), TODAY)
    study.osteopenia = True
    store.update_finding(study, TODAY)
    store.delete_finding(study)
    store.set_archived(patient.id, patient.version)
    store.set_setting("clinic_name", "Orthopaedic Clinic")
    actions = [(r["table_name"], r["action"]) for r in audit_rows(store)[n:]]
    assert actions == [("patients", "update"), ("episodes", "update"), ("imaging", "create"),
                       ("imaging", "update"), ("imaging", "delete"), ("patients", "update"),
                       ("settings", "create")]
    assert store.check() == []


def test_unchanged_save_writes_nothing(store, vignettes):
    imported(store, vignettes)
    patient = store.patient_by_mrn("EX-01")
    n = len(audit_rows(store))
    store.update_patient(patient, today=TODAY)
    assert len(audit_rows(store)) == n and patient.version == 1


@pytest.mark.parametrize("sql", ["UPDATE audit SET clinician = 'x'", "DELETE FROM audit WHERE id = 1",
                                 "DELETE FROM audit"])
def test_audit_trail_refuses_update_and_delete(store, vignettes, outside, sql):
    import psycopg

    imported(store, vignettes)
    with pytest.raises((sqlite3.IntegrityError, psycopg.errors.InsufficientPrivilege), match="append-only"):
        outside(sql)  # even the database's owner, on PostgreSQL
    assert store.check() == []


def test_hash_chain_links_entries(store, vignettes):
    imported(store, vignettes)
    rows = audit_rows(store)
    prev = dbmod.GENESIS_HASH
    for row in rows:
        assert row["hash"] == dbmod._entry_hash(prev, tuple(row.values())[:-1])
        prev = row["hash"]


# -- versions and conflicts ------------------------------------------------------------


def test_stale_version_is_a_conflict_and_writes_nothing(db_target, vignettes):
    with open_store(db_target) as mine, open_store(db_target, clinician="Dr Other") as theirs:
        imported(mine, vignettes)
        my_copy = mine.patient_by_mrn("EX-02")
        their_copy = theirs.patient_by_mrn("EX-02")
        their_copy.notes = "their change"
        theirs.update_patient(their_copy, today=TODAY)
        my_copy.notes = "my change"
        n = len(audit_rows(mine))
        with pytest.raises(ConflictError, match="changed by another window or workstation"):
            mine.update_patient(my_copy, today=TODAY)
        assert mine.patient_by_mrn("EX-02").notes == "their change"
        assert len(audit_rows(mine)) == n
        reloaded = mine.patient_by_mrn("EX-02")
        reloaded.notes = "my change"
        mine.update_patient(reloaded, today=TODAY)
        assert theirs.patient_by_mrn("EX-02").notes == "my change"
        assert reloaded.version == 3


def test_editing_a_removed_finding_is_a_conflict(store, vignettes):
    imported(store, vignettes)
    study = store.patient_by_mrn("EX-01").episodes[0].imaging[0]
    store.delete_finding(study)
    with pytest.raises(ConflictError, match="removed"):
        store.update_finding(study, TODAY)


# -- single-record validation against what is stored ---------------------------------


def test_new_episode_may_not_overlap_a_stored_one(store, vignettes):
    imported(store, vignettes)
    pid = store.patient_id("EX-02")
    with pytest.raises(ValidationError) as err:
        store.add_episode(pid, Episode(site="hip_right", symptom_onset=dt.date(2025, 12, 1)), TODAY)
    assert str(err.value).startswith("symptom_onset: overlaps the right hip episode of 2025-06-12")
    store.add_episode(pid, Episode(site="hip_left", symptom_onset=dt.date(2025, 12, 1)), TODAY)


def test_reopening_an_episode_that_a_later_one_follows_is_refused(store, vignettes):
    imported(store, vignettes)
    first = store.patient_by_mrn("EX-05").episodes[0]  # ankle_left resolved 2023-12-01, next one 2024-06-01
    first.resolved_on = None
    with pytest.raises(ValidationError, match="site: the left ankle episode of 2024-06-01 would then overlap"):
        store.update_episode(first, TODAY)


def test_moving_onset_after_its_findings_is_refused(store, vignettes):
    imported(store, vignettes)
    episode = store.patient_by_mrn("EX-01").episodes[0]
    episode.symptom_onset = dt.date(2025, 5, 1)
    with pytest.raises(ValidationError, match="symptom_onset: 2025-05-01 is after the imaging study of 2025-04-20"):
        store.update_episode(episode, TODAY)


def test_finding_before_onset_is_refused(store, vignettes):
    imported(store, vignettes)
    eid = store.patient_by_mrn("EX-01").episodes[0].id
    with pytest.raises(ValidationError, match="date: 2025-01-01 is before the symptom onset 2025-04-03"):
        store.add_finding(eid, SymptomRecord(date=dt.date(2025, 1, 1), pain_nrs=3), TODAY)
    with pytest.raises(ValidationError, match="pain_nrs: 12 is outside 0–10"):
        store.add_finding(eid, SymptomRecord(date=dt.date(2025, 6, 1), pain_nrs=12), TODAY)
    with pytest.raises(ValidationError, match="end: 2025-05-01 is before the start"):
        store.add_finding(eid, Treatment(start=dt.date(2025, 6, 1), end=dt.date(2025, 5, 1), kind="analgesia"), TODAY)


def test_birth_date_after_an_onset_is_refused(store, vignettes):
    imported(store, vignettes)
    patient = store.patient_by_mrn("EX-01")
    patient.birth_date = dt.date(2025, 5, 1)
    with pytest.raises(ValidationError, match="birth_date: 2025-05-01 is after the symptom onset"):
        store.update_patient(patient, TODAY)


def test_changing_mrn_to_an_existing_one_is_refused(store, vignettes):
    imported(store, vignettes)
    patient = store.patient_by_mrn("EX-01")
    patient.mrn = "EX-02"
    with pytest.raises(ValidationError, match="mrn: 'EX-02' already exists"):
        store.update_patient(patient, TODAY)


def test_delete_episode_removes_and_audits_its_findings(store, vignettes):
    imported(store, vignettes)
    episode = store.patient_by_mrn("EX-01").episodes[0]
    store.delete_episode(episode.id, episode.version)
    assert store.patient_by_mrn("EX-01").episodes == []
    deletes = [r["table_name"] for r in audit_rows(store) if r["action"] == "delete"]
    assert sorted(deletes) == sorted(["imaging"] * 4 + ["symptoms"] * 3 + ["treatments"] * 2 + ["episodes"])
    assert store.check() == []


def test_archived_patient_stays_and_can_come_back(store, vignettes):
    imported(store, vignettes)
    pid = store.patient_id("EX-03")
    version = store.set_archived(pid, 1)
    assert store.patient(pid).archived and store.count_patients(include_archived=False) == 5
    store.set_archived(pid, version, archived=False)
    assert not store.patient(pid).archived


# -- migrations ----------------------------------------------------------------------------


def migration_set(*extra):
    ms = Migrations("tohtrack")
    ms()(mig.m001_initial)
    for fn in extra:
        ms()(fn)
    return ms


def m002_add_referrer(db):
    db.execute("ALTER TABLE patients ADD COLUMN referrer TEXT NOT NULL DEFAULT ''")


def m003_add_index(db):
    db.execute("CREATE INDEX patients_referrer ON patients (referrer)")


def m003_broken(db):
    db.execute("CREATE INDEX patients_nothing ON patients (no_such_column)")


def test_pending_migrations_apply_in_order_after_a_backup(db_path, vignettes):
    with Store(db_path, migration_set=migration_set()) as store:
        imported(store, vignettes)
        assert store.last_migration_backup is None  # a new file needs no backup
    with Store(db_path, migration_set=migration_set(m002_add_referrer, m003_add_index)) as store:
        names = store.applied_migrations()
        assert names == ["m001_initial", "m002_add_referrer", "m003_add_index"]
        backup = store.last_migration_backup
        assert backup is not None and backup.parent == dbmod.backup_dir(db_path)
        assert "before-m002_add_referrer" in backup.name
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    old = sqlite3.connect(backup)
    assert old.execute("SELECT count(*) FROM patients").fetchone()[0] == 6
    assert "referrer" not in [r[1] for r in old.execute("PRAGMA table_info(patients)")]


def test_a_failing_migration_leaves_everything_as_it_was(db_path, vignettes):
    with Store(db_path, migration_set=migration_set()) as store:
        imported(store, vignettes)
    with pytest.raises(dbmod.StoreError, match="upgrading the database failed, nothing was changed"):
        Store(db_path, migration_set=migration_set(m002_add_referrer, m003_broken))
    conn = sqlite3.connect(db_path)
    assert "referrer" not in [r[1] for r in conn.execute("PRAGMA table_info(patients)")]
    assert [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations")] == ["m001_initial"]


# -- check: integrity and tampering ----------------------------------------------------------


def test_check_passes_on_a_clean_database(store, vignettes):
    imported(store, vignettes)
    assert store.check() == []


def test_check_finds_a_row_changed_outside_the_app(store, vignettes, outside):
    imported(store, vignettes)
    outside("UPDATE imaging SET edema_extent_pct = 10 WHERE id = 1", guards=False)
    assert store.check() == ["imaging row 1: edema_extent_pct differ from the audit trail (changed outside TOHtrack)"]


def test_check_finds_a_row_added_or_removed_outside_the_app(store, vignettes, outside):
    imported(store, vignettes)
    outside("DELETE FROM treatments WHERE id = 2",
            "INSERT INTO symptoms (id, episode_id, date, pain_nrs) VALUES (1000, 1, '2025-05-01', 3)", guards=False)
    found = store.check()
    assert "treatments row 2: removed outside TOHtrack (the audit trail has it)" in found
    assert any(p.startswith("symptoms row") and "not in the audit trail" in p for p in found)


def test_check_finds_an_audit_entry_changed_with_triggers_dropped(store, vignettes, outside):
    imported(store, vignettes)
    outside("UPDATE audit SET clinician = 'Nobody' WHERE id = 3", guards=False)
    assert any("entry 3 was changed" in p for p in store.check())


def test_check_finds_an_audit_entry_removed(store, vignettes, outside):
    imported(store, vignettes)
    outside("DELETE FROM audit WHERE id = 5", guards=False)
    found = store.check()
    assert any("entries 5–5 are missing" in p for p in found)


def test_check_finds_a_forged_trail_that_matches_a_forged_row(store, vignettes, outside, backend):
    imported(store, vignettes)
    forged = ("json_set(new, '$.notes', 'forged')" if backend == "sqlite"
              else "jsonb_set(new::jsonb, '{notes}', '\"forged\"')::text")
    outside("UPDATE patients SET notes = 'forged' WHERE id = 1",
            f"UPDATE audit SET new = {forged} WHERE table_name = 'patients' AND row_id = 1", guards=False)
    assert any("hash chain broken" in p for p in store.check())


def test_check_finds_a_version_that_does_not_match_the_trail(store, vignettes, outside):
    imported(store, vignettes)
    outside("UPDATE episodes SET version = 7 WHERE id = 1", guards=False)
    assert store.check() == ["episodes row 1: version 7 but the audit trail records 1 writes"]


# -- backup -------------------------------------------------------------------------------------


def test_backup_is_a_consistent_private_copy_while_open(store, vignettes, tmp_path):
    imported(store, vignettes)
    (tmp_path / "copies").mkdir()  # a backup, like every output, goes into a folder that exists
    target = store.backup(tmp_path / "copies" / "b.sqlite3")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with Store(target) as copy:
        assert copy.count_patients() == 6 and copy.check() == []
    assert [p.name for p in (tmp_path / "copies").iterdir()] == ["b.sqlite3"]  # no temporary file left


def test_writes_wait_for_another_writer_rather_than_fail(db_path, vignettes):
    with Store(db_path) as store:
        imported(store, vignettes)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
         "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(0.7); c.execute('COMMIT')",
         str(db_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with Store(db_path) as store:
            store.set_setting("clinic_name", "Waited")
            assert store.setting_texts()["clinic_name"] == "Waited"
    finally:
        holder.wait(10)


def test_busy_beyond_the_timeout_is_a_clear_error(db_path, monkeypatch):
    Store(db_path).close()
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_MS", 50)
        with Store(db_path) as store:
            with pytest.raises(dbmod.StoreError, match="busy .*nothing was written"):
                store.set_setting("clinic_name", "x")
    finally:
        blocker.execute("ROLLBACK")


@pytest.mark.sqlite_only("PRAGMA max_page_count fills the file; a server's full disk is its own (tests/pg)")
def test_full_disk_is_a_clear_error_and_writes_nothing(store, vignettes):
    imported(store, vignettes)
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")
    doc = minimal_document()
    doc["patients"][0]["notes"] = "x" * 19_000
    doc["patients"] = [dict(doc["patients"][0], mrn=f"F-{i}") for i in range(40)]
    with pytest.raises(dbmod.StoreError, match="disk is full"):
        interchange.import_document(store, doc, today=TODAY)
    assert store.count_patients() == 6 and store.check() == []


def test_fold_removes_case_and_accents():
    assert dbmod.fold("Müller") == "muller"
    assert dbmod.fold("ØSTERGÅRD") == dbmod.fold("østergård")
    assert dbmod.fold("José") == "jose"


def test_ids_of_removed_rows_are_never_reused(store, vignettes):
    imported(store, vignettes)
    episode = store.patient_by_mrn("EX-06").episodes[0]
    last = max(r.id for p in store.patients() for e in p.episodes for r in e.imaging)
    study = next(s for s in episode.imaging if s.id == last)
    store.delete_finding(study)
    again = store.add_finding(episode.id, ImagingStudy(date=dt.date(2025, 2, 1), modality="XR"), TODAY)
    assert again.id == last + 1
    assert store.check() == []


# -- automatic backups and restore ------------------------------------------------------------------


@pytest.mark.sqlite_only("the backups folder beside the file; a server's are not a workstation's (next test)")
def test_automatic_backups_at_most_daily_keeping_the_newest(store, vignettes):
    imported(store, vignettes)
    start = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.timezone.utc)
    first = store.rotate_backups(keep=3, now=start)
    assert first is not None and stat.S_IMODE(first.stat().st_mode) == 0o600
    assert store.rotate_backups(keep=3, now=start + dt.timedelta(hours=5)) is None  # one a day is enough
    for day in range(1, 5):
        assert store.rotate_backups(keep=3, now=start + dt.timedelta(days=day)) is not None
    kept = dbmod.automatic_backups(store.path)
    assert [p.name[-24:-8] for p in kept] == ["20260303T080000Z", "20260304T080000Z", "20260305T080000Z"]


def test_automatic_backups_of_a_server_database_are_refused_plainly(store, vignettes, backend, tmp_path):
    """On a clinic server, backups are the server's (pg_dump, or `tohtrack backup`): a workstation's rotation
    says so and writes nothing; on SQLite it writes the first automatic backup."""
    imported(store, vignettes)
    if backend == "sqlite":
        assert store.rotate_backups(keep=1) is not None
        return
    with pytest.raises(dbmod.StoreError, match="backups of a clinic server's database are the server's"):
        store.rotate_backups(keep=1)
    assert store.check() == []


def test_restore_checks_the_backup_and_keeps_the_replaced_file(db_target, vignettes, tmp_path):
    with open_store(db_target) as store:
        imported(store, vignettes)
        saved = store.backup(tmp_path / "before.sqlite3")
        store.set_archived(store.patient_id("EX-01"), None)
        kept = store.restore(saved)
        assert not store.patient_by_mrn("EX-01").archived and store.check() == []
    with Store(kept) as replaced:
        assert replaced.patient_by_mrn("EX-01").archived


def test_restore_refuses_a_bad_backup_and_changes_nothing(db_target, vignettes, tmp_path):
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database" * 100)
    tampered = tmp_path / "tampered.sqlite3"
    with open_store(db_target) as store:
        imported(store, vignettes)
        store.backup(tampered)
        conn = sqlite3.connect(tampered)
        conn.execute("UPDATE patients SET family_name = 'X' WHERE id = 1")
        conn.commit()
        conn.close()
        before = store.audit_head()
        for bad, reason in ((junk, "damaged"), (tampered, "differ from the audit trail"),
                            (tmp_path / "absent.sqlite3", "no such file")):
            with pytest.raises(ValidationError, match=reason):
                store.restore(bad)
        assert store.audit_head() == before
        assert store.patient_by_mrn("EX-01").family_name == "Bianchi"


def test_a_failed_write_leaves_records_without_ids(store, vignettes):
    imported(store, vignettes)
    pid = store.patient_id("EX-01")
    bad = Episode(site="knee_left", symptom_onset=dt.date(2025, 3, 1),
                  imaging=[ImagingStudy(date=dt.date(2025, 3, 2), modality="MRI"),
                           ImagingStudy(date=dt.date(2025, 2, 1), modality="XR")])
    with pytest.raises(ValidationError) as err:
        store.add_episode(pid, bad, TODAY)
    assert [str(p) for p in err.value.problems] == [
        "imaging[1].date: 2025-02-01 is before the symptom onset 2025-03-01"]
    assert bad.id is None and all(s.id is None for s in bad.imaging)
    assert [e.site for e in store.patient(pid).episodes] == ["hip_right"]


def test_check_tells_null_from_empty_text_in_the_audit_trail(store, vignettes, outside):
    imported(store, vignettes)
    outside("UPDATE audit SET old = '' WHERE id = 2", guards=False)  # was NULL
    assert any("entry 2 was changed" in p for p in store.check())


def test_the_schema_list_matches_the_migrations():
    """db.py opens a file reading tohtrack.schema only; the migrations themselves must be the same list."""
    from tohtrack import schema
    from tohtrack.migrations import known_names

    assert list(schema.SCHEMA) == known_names()


def test_opening_an_up_to_date_database_does_not_import_sqlite_utils(db_path):
    import subprocess
    import sys

    Store(db_path).close()  # created and migrated (which does import it)
    code = ("import sys; from tohtrack.db import Store; s = Store(sys.argv[1]); s.patients(); s.close(); "
            "print('sqlite_utils' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(db_path)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_backup_that_cannot_be_written_is_a_clear_error(db_path, tmp_path, vignettes):
    """Another user's backups folder (here: a file where the folder should be) before an upgrade, or as a
    target: a StoreError naming the place, not an OSError."""
    from tohtrack.db import StoreError

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with Store(db_path) as store:
        with pytest.raises(StoreError, match="not a folder; nothing was written"):
            store.backup(blocker / "copy.sqlite3")
    assert blocker.read_text() == "x"
