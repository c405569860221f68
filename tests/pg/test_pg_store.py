"""PostgresStore on a real server: records, the server-written audit trail, versions and conflicts, check, and
the errors of opening (the shapes of tests/test_db.py where the behaviour is the same)."""

import datetime as dt
import json
import time
import urllib.parse

import psycopg
import pytest
from hypothesis import given, settings, strategies as st

from pgfixtures import owner_url, pg_db, pg_store  # noqa: F401 (fixtures)
from pgserver import PgServer, PgCluster, url_for
from tohtrack import db as dbmod, interchange
from tohtrack.db import ConflictError, DatabaseTooNew, NotATohtrackDatabase, NotFound
from tohtrack.model import Episode, ImagingStudy, Patient, SymptomRecord, Treatment, ValidationError, mrn_key
from tohtrack.schema import SCHEMA
from tohtrack.store import pg_schema
from tohtrack.store.postgres import (
    AuthenticationFailed, PostgresStore, ServerUnavailable, UnknownDatabase, describe,
)

TODAY = dt.date(2026, 3, 1)


def audit_rows(store, table=None):
    with store.conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        query = "SELECT * FROM audit" + (" WHERE table_name = %s" if table else "") + " ORDER BY id"
        return cur.execute(query, (table,) if table else ()).fetchall()


def imported(store, vignettes):
    interchange.import_document(store, vignettes, today=TODAY)
    return store


def superuser(pg_server, pg_db):
    return psycopg.connect(pg_server.superuser(pg_db), autocommit=True)


# -- opening ---------------------------------------------------------------------


def test_an_empty_database_opened_by_its_owner_is_initialised_with_the_shared_migration_names(pg_store):
    assert pg_store.applied_migrations() == list(SCHEMA)
    assert [name for name, _ in pg_schema.MIGRATIONS] == list(SCHEMA)
    assert pg_store.count_patients() == 0 and pg_store.audit_head() == (0, dbmod.GENESIS_HASH)
    identity = pg_store.identity()
    assert len(identity) == 32 and int(identity, 16) >= 0
    assert pg_store.check() == []


def test_reopening_does_not_migrate_again(owner_url, pg_store):
    with PostgresStore(owner_url) as again:
        assert again.applied_migrations() == list(SCHEMA)
        assert again.identity() == pg_store.identity()


def test_a_foreign_database_is_refused_unchanged(pg_server, pg_db, owner_url):
    with psycopg.connect(owner_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(NotATohtrackDatabase, match="has tables, but it is not a TOHtrack database"):
        PostgresStore(owner_url)
    with psycopg.connect(owner_url, autocommit=True) as conn:
        tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == {"invoices"}


def test_a_database_from_a_newer_version_is_refused(owner_url, pg_store):
    pg_store.conn.execute("INSERT INTO tohtrack_migrations VALUES ('tohtrack', 'm999_future', '2099-01-01')")
    with pytest.raises(DatabaseTooNew, match="newer TOHtrack .*m999_future"):
        PostgresStore(owner_url)


def test_read_only_opens_read_but_never_write_nor_initialise(owner_url, pg_server, vignettes):
    with pytest.raises(NotATohtrackDatabase, match="empty"):
        PostgresStore(owner_url, readonly=True)
    with PostgresStore(owner_url) as store:
        imported(store, vignettes)
    with PostgresStore(owner_url, readonly=True) as reader:
        assert reader.count_patients() == 6 and reader.check() == []
        with pytest.raises(dbmod.StoreError, match="read-only"):
            reader.set_setting("clinic_name", "x")
        reader.close()
        with pytest.raises(dbmod.StoreError, match="closed"):
            reader.count_patients()


def test_wrong_password_unknown_database_and_no_server_each_say_so(pg_server, pg_db, owner_url):
    secret = "not-the-password-9f3a"
    wrong = url_for(owner_url, password=secret)
    with pytest.raises(AuthenticationFailed, match="refused the login") as err:
        PostgresStore(wrong)
    assert secret not in str(err.value)
    with pytest.raises(UnknownDatabase, match="no database named 'no_such_clinic'"):
        PostgresStore(url_for(owner_url, "no_such_clinic"))
    with pytest.raises(ServerUnavailable, match="cannot reach the clinic server") as err:
        PostgresStore(f"postgresql://someone:{secret}@127.0.0.1:1/clinic")
    assert secret not in str(err.value) and "127.0.0.1:1/clinic" in str(err.value)


@settings(max_examples=200, deadline=None)
@given(password=st.text(min_size=1, max_size=40).filter(lambda p: "\x00" not in p),
       user=st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True),
       query=st.sampled_from(["", "?sslmode=verify-full", "?host=/run/postgresql&application_name=x"]))
def test_describe_drops_any_password(password, user, query):
    secret = "Zq9" + password  # distinct from the rest of the URL
    quoted = urllib.parse.quote(secret, safe="")
    shown = describe(f"postgresql://{user}:{quoted}@db.clinic:5432/clinic{query}")
    assert quoted not in shown and secret not in shown
    assert shown == f"postgresql://{user}@db.clinic:5432/clinic{query}"
    shown = describe(f"postgresql://db.clinic/clinic?user={user}&password={quoted}")
    assert quoted not in shown and shown == f"postgresql://db.clinic/clinic?user={user}"


def test_describe_never_shows_a_password():
    assert describe("postgresql://dr:s3cret@db.clinic:5433/tt?sslmode=verify-full&password=x2") == \
        "postgresql://dr@db.clinic:5433/tt?sslmode=verify-full"
    assert describe("postgres:///clinic?host=/run/postgresql") == "postgres:///clinic?host=/run/postgresql"


# -- records and their audit trail -------------------------------------------------


def test_import_writes_one_audit_entry_per_record_by_the_server(pg_store, vignettes):
    imported(pg_store, vignettes)
    for table in ("patients", "episodes", "imaging", "symptoms", "treatments"):
        count = pg_store.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        entries = audit_rows(pg_store, table)
        assert count > 0 and len(entries) == count and all(e["action"] == "create" for e in entries)
    entry = audit_rows(pg_store, "patients")[0]
    assert entry["os_user"] == pg_store.os_user == "tohtrack_test_owner"
    assert entry["at"].endswith("Z") and entry["old"] is None
    assert json.loads(entry["new"])["mrn"] == "EX-01"
    assert pg_store.check() == []


def test_the_servers_audit_entries_say_what_sqlites_say(pg_store, vignettes, tmp_path):
    def entries(store):
        return sorted((e.table_name, e.row_id, e.patient_id, e.action, json.dumps(e.old, sort_keys=True),
                       json.dumps(e.new, sort_keys=True)) for e in store.audit_entries())

    with dbmod.Store(tmp_path / "same.sqlite3") as sqlite:
        for store in (sqlite, pg_store):
            imported(store, vignettes)
            patient = store.patient_by_mrn("EX-01")
            patient.notes, patient.family_name = "seen", "Ferri"
            store.update_patient(patient, TODAY)
            store.delete_episode(patient.episodes[0].id, patient.episodes[0].version)
        assert entries(pg_store) == entries(sqlite)


def test_records_read_back_as_they_were_written(pg_store, vignettes):
    patients = interchange.import_document(pg_store, vignettes, today=TODAY)
    for written in patients:
        read = pg_store.patient_by_mrn(written.mrn)
        assert read == written
    assert [p.mrn for p in pg_store.patients()] == sorted(p.mrn for p in patients)


def test_every_kind_of_write_leaves_an_entry(pg_store, vignettes):
    imported(pg_store, vignettes)
    store = pg_store
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
    study = store.add_finding(episode.id, ImagingStudy(date=dt.date(2025, 11, 1), modality="XR", osteopenia=False),
                              TODAY)
    study.osteopenia = True
    store.update_finding(study, TODAY)
    store.delete_finding(study)
    store.set_archived(patient.id, patient.version)
    store.set_setting("clinic_name", "Orthopaedic Clinic")
    actions = [(r["table_name"], r["action"]) for r in audit_rows(store)[n:]]
    assert actions == [("patients", "update"), ("episodes", "update"), ("imaging", "create"),
                       ("imaging", "update"), ("imaging", "delete"), ("patients", "update"),
                       ("settings", "create")]
    assert store.setting_texts()["clinic_name"] == "Orthopaedic Clinic"
    assert store.check() == []


def test_unchanged_save_writes_nothing(pg_store, vignettes):
    imported(pg_store, vignettes)
    patient = pg_store.patient_by_mrn("EX-01")
    n = len(audit_rows(pg_store))
    pg_store.update_patient(patient, today=TODAY)
    assert len(audit_rows(pg_store)) == n and patient.version == 1


def test_hash_chain_links_entries_as_on_sqlite(pg_store, vignettes):
    imported(pg_store, vignettes)
    prev = dbmod.GENESIS_HASH
    rows = pg_store.conn.execute("SELECT * FROM audit ORDER BY id").fetchall()
    assert rows
    for row in rows:
        assert row[-1] == dbmod._entry_hash(prev, tuple(row)[:-1])
        prev = row[-1]
    assert pg_store.audit_head() == (len(rows), prev)
    assert pg_store.audit_seal() == f"{len(rows)}·{prev[:12]}"


def test_audit_entries_for_one_patient_carry_its_mrn(pg_store, vignettes):
    imported(pg_store, vignettes)
    pid = pg_store.patient_id("EX-02")
    entries = list(pg_store.audit_entries(pid))
    assert entries and all(e.patient_id == pid and e.mrn == "EX-02" for e in entries)
    assert len(list(pg_store.audit_entries())) == pg_store.audit_head()[0]


def test_stale_version_is_a_conflict_and_writes_nothing(owner_url, pg_store, vignettes):
    imported(pg_store, vignettes)
    with PostgresStore(owner_url) as theirs:
        mine = pg_store
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


def test_editing_a_removed_finding_is_a_conflict(pg_store, vignettes):
    imported(pg_store, vignettes)
    study = pg_store.patient_by_mrn("EX-01").episodes[0].imaging[0]
    pg_store.delete_finding(study)
    with pytest.raises(ConflictError, match="removed"):
        pg_store.update_finding(study, TODAY)
    with pytest.raises(ConflictError, match="already removed"):
        pg_store.delete_finding(study)


def test_validation_against_what_is_stored(pg_store, vignettes):
    imported(pg_store, vignettes)
    store = pg_store
    pid = store.patient_id("EX-02")
    with pytest.raises(ValidationError) as err:
        store.add_episode(pid, Episode(site="hip_right", symptom_onset=dt.date(2025, 12, 1)), TODAY)
    assert str(err.value).startswith("symptom_onset: overlaps the right hip episode of 2025-06-12")
    episode = store.patient_by_mrn("EX-01").episodes[0]
    episode.symptom_onset = dt.date(2025, 5, 1)
    with pytest.raises(ValidationError, match="symptom_onset: 2025-05-01 is after the imaging study of 2025-04-20"):
        store.update_episode(episode, TODAY)
    eid = store.patient_by_mrn("EX-01").episodes[0].id
    with pytest.raises(ValidationError, match="date: 2025-01-01 is before the symptom onset 2025-04-03"):
        store.add_finding(eid, SymptomRecord(date=dt.date(2025, 1, 1), pain_nrs=3), TODAY)
    with pytest.raises(ValidationError, match="end: 2025-05-01 is before the start"):
        store.add_finding(eid, Treatment(start=dt.date(2025, 6, 1), end=dt.date(2025, 5, 1), kind="analgesia"), TODAY)
    patient = store.patient_by_mrn("EX-01")
    patient.mrn = "ex-02"
    with pytest.raises(ValidationError, match="mrn: 'ex-02' is the same MRN as 'EX-02'"):
        store.update_patient(patient, TODAY)
    assert store.check() == []


def test_histories_read_in_several_chunks_are_whole_and_in_order(pg_store, vignettes, monkeypatch):
    from tohtrack.store import postgres

    written = interchange.import_document(pg_store, vignettes, today=TODAY)
    whole = list(pg_store.patients())
    monkeypatch.setattr(postgres, "_CHUNK", 2)  # three chunks in one snapshot
    assert list(pg_store.patients(batch=10)) == whole == sorted(written, key=lambda p: p.mrn)
    assert pg_store.conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_an_mrn_is_found_in_any_spelling_and_a_clash_is_refused(pg_store, vignettes):
    imported(pg_store, vignettes)
    assert pg_store.patient_id(" ex-01 ") == pg_store.patient_id("EX-01")
    with pytest.raises(NotFound, match="no patient with MRN 'NOPE'"):
        pg_store.patient_id("NOPE")
    clash = Patient("Ex-01", "Other", "Anna", dt.date(1970, 1, 1), "female")
    with pytest.raises(ValidationError, match="'Ex-01' is the same MRN as 'EX-01'"):
        pg_store.add_patient(clash, TODAY)
    assert clash.id is None
    assert "ex-03" in pg_store.all_mrns() and "EX-99" not in pg_store.all_mrns()
    assert pg_store.existing_mrns(["ex-01", "EX-99"]) == {mrn_key("EX-01"): ("EX-01", False)}


def test_delete_episode_removes_and_audits_its_findings(pg_store, vignettes):
    imported(pg_store, vignettes)
    episode = pg_store.patient_by_mrn("EX-01").episodes[0]
    pg_store.delete_episode(episode.id, episode.version)
    assert pg_store.patient_by_mrn("EX-01").episodes == []
    deletes = [r["table_name"] for r in audit_rows(pg_store) if r["action"] == "delete"]
    assert sorted(deletes) == sorted(["imaging"] * 4 + ["symptoms"] * 3 + ["treatments"] * 2 + ["episodes"])
    assert pg_store.check() == []


def test_archived_patient_stays_and_can_come_back(pg_store, vignettes):
    imported(pg_store, vignettes)
    pid = pg_store.patient_id("EX-03")
    version = pg_store.set_archived(pid, 1)
    assert pg_store.patient(pid).archived and pg_store.count_patients(include_archived=False) == 5
    pg_store.set_archived(pid, version, archived=False)
    assert not pg_store.patient(pid).archived and pg_store.count_patients(include_archived=False) == 6
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="archived, never deleted"):
        pg_store.conn.execute("DELETE FROM patients WHERE id = %s", (pid,))


def test_a_failed_write_leaves_records_without_ids_and_nothing_written(pg_store, vignettes):
    imported(pg_store, vignettes)
    pid = pg_store.patient_id("EX-01")
    head = pg_store.audit_head()
    bad = Episode(site="knee_left", symptom_onset=dt.date(2025, 3, 1),
                  imaging=[ImagingStudy(date=dt.date(2025, 3, 2), modality="MRI"),
                           ImagingStudy(date=dt.date(2025, 2, 1), modality="XR")])
    with pytest.raises(ValidationError) as err:
        pg_store.add_episode(pid, bad, TODAY)
    assert [str(p) for p in err.value.problems] == [
        "imaging[1].date: 2025-02-01 is before the symptom onset 2025-03-01"]
    assert bad.id is None and all(s.id is None for s in bad.imaging)
    assert [e.site for e in pg_store.patient(pid).episodes] == ["hip_right"]
    assert pg_store.audit_head() == head


def test_ids_of_removed_rows_are_never_reused(pg_store, vignettes):
    imported(pg_store, vignettes)
    episode = pg_store.patient_by_mrn("EX-06").episodes[0]
    last = max(r.id for p in pg_store.patients() for e in p.episodes for r in e.imaging)
    study = next(s for s in episode.imaging if s.id == last)
    pg_store.delete_finding(study)
    again = pg_store.add_finding(episode.id, ImagingStudy(date=dt.date(2025, 2, 1), modality="XR"), TODAY)
    assert again.id > last
    assert pg_store.check() == []


def test_numbers_read_back_as_on_sqlite(pg_store):
    patient = Patient("N-1", "Num", "Ber", dt.date(1970, 1, 1), "male", episodes=[
        Episode("hip_left", dt.date(2025, 1, 1), imaging=[
            ImagingStudy(dt.date(2025, 1, 2), "MRI", edema_extent_pct=70, edema_volume_ml=12.5)])])
    pg_store.add_patient(patient, TODAY)
    study = pg_store.patient_by_mrn("N-1").episodes[0].imaging[0]
    assert (study.edema_extent_pct, study.edema_volume_ml) == (70, 12.5)
    assert type(study.edema_extent_pct) is int and type(study.edema_volume_ml) is float


# -- check ---------------------------------------------------------------------------


def test_check_finds_what_the_owner_did_outside_the_app(pg_server, pg_db, pg_store, vignettes):
    """The owner (who may disable triggers) is the one who can rewrite the trail; check finds it."""
    imported(pg_store, vignettes)
    with superuser(pg_server, pg_db) as su:
        su.execute("ALTER TABLE imaging DISABLE TRIGGER imaging_audit")
        su.execute("ALTER TABLE imaging DISABLE TRIGGER imaging_version")
        su.execute("UPDATE imaging SET edema_extent_pct = 10 WHERE id = 1")
    found = pg_store.check()
    assert "schema: the trigger imaging_audit on imaging is disabled (outside TOHtrack)" in found
    assert "imaging row 1: edema_extent_pct differ from the audit trail (changed outside TOHtrack)" in found


def test_check_finds_an_audit_entry_changed_or_removed(pg_server, pg_db, pg_store, vignettes):
    imported(pg_store, vignettes)
    with superuser(pg_server, pg_db) as su:
        su.execute("ALTER TABLE audit DISABLE TRIGGER USER")
        su.execute("UPDATE audit SET clinician = 'Nobody' WHERE id = 3")
        su.execute("DELETE FROM audit WHERE id = 5")
        su.execute("UPDATE audit SET old = '' WHERE id = 2")  # was NULL: not the same as the empty text
    found = pg_store.check()
    assert any("entry 2 was changed" in p for p in found)
    assert any("entry 3 was changed" in p for p in found)
    assert any("entries 5–5 are missing" in p for p in found)
    assert "schema: the trigger audit_no_update on audit is disabled (outside TOHtrack)" in found


def test_check_finds_a_guard_function_replaced(pg_server, pg_db, pg_store, vignettes):
    imported(pg_store, vignettes)
    with superuser(pg_server, pg_db) as su:
        su.execute("CREATE OR REPLACE FUNCTION tohtrack_audit_row() RETURNS trigger LANGUAGE plpgsql AS "
                   "$$ BEGIN RETURN NULL; END $$")
    assert pg_store.check() == ["schema: the function tohtrack_audit_row is not TOHtrack's definition: it was "
                                "replaced by a different one (outside TOHtrack)"]


def test_check_finds_a_version_set_around_the_server(pg_server, pg_db, pg_store, vignettes):
    imported(pg_store, vignettes)
    with superuser(pg_server, pg_db) as su:
        su.execute("SET session_replication_role = replica")  # the superuser's way past every trigger
        su.execute("UPDATE episodes SET version = 7 WHERE id = 1")
    assert pg_store.check() == ["episodes row 1: version 7 but the audit trail records 1 writes"]


# -- the server going away ---------------------------------------------------------


def test_a_terminated_backend_mid_transaction_writes_nothing_and_the_store_reconnects(
        pg_server, pg_db, pg_store, vignettes):
    imported(pg_store, vignettes)
    before = (pg_store.audit_head(), pg_store.count_patients())
    new = [Patient(f"K-{i}", "Kill", "Me", dt.date(1970, 1, 1), "male",
                   episodes=[Episode("hip_left", dt.date(2025, 1, 1),
                                     symptoms=[SymptomRecord(dt.date(2025, 1, 2), pain_nrs=5)])]) for i in range(50)]
    copy_rows = pg_store._copy_rows
    calls = []

    def copy_then_killed(*args):
        copy_rows(*args)  # the patients are written (and audited) in the open transaction ...
        calls.append(args[0])
        with superuser(pg_server, pg_db) as su:  # ... then the server ends this session
            su.execute("SELECT pg_terminate_backend(%s)", (pg_store.conn.info.backend_pid,))

    pg_store._copy_rows = copy_then_killed
    with pytest.raises(ServerUnavailable, match="connection to the clinic server was lost.*not written"):
        pg_store.add_patients(new, today=TODAY)
    del pg_store._copy_rows
    assert calls == ["patients"]
    assert all(p.id is None for p in new)
    # The next call reconnects by itself; nothing of the interrupted import is there.
    assert (pg_store.audit_head(), pg_store.count_patients()) == before
    assert pg_store.check() == []
    pg_store.add_patients(new[:2], today=TODAY)
    assert pg_store.count_patients() == before[1] + 2


def test_a_write_waiting_for_another_workstation_gives_up_clearly(owner_url, pg_store, monkeypatch):
    from tohtrack.store import postgres

    monkeypatch.setattr(postgres, "LOCK_TIMEOUT_S", 1)
    with PostgresStore(owner_url) as waiting, PostgresStore(owner_url) as other:
        with other.transaction():  # another workstation holds the audit chain's head
            began = time.monotonic()
            with pytest.raises(postgres.StoreBusy, match="busy.*nothing was written"):
                waiting.set_setting("clinic_name", "Ward 1")
            assert time.monotonic() - began < 10
        assert waiting.set_setting("clinic_name", "Ward 1") == "Ward 1"  # and it works once the other is done


def test_a_server_stopped_and_started_again_during_a_session(vignettes):
    server = PgServer().start()
    try:
        cluster = PgCluster(server.url, server)
        store = PostgresStore(cluster.owner_url(cluster.new_database()))
        imported(store, vignettes)
        patient = store.patient_by_mrn("EX-01")
        server.pause()
        patient.notes = "typed while the server was down"
        with pytest.raises(ServerUnavailable, match="clinic server"):
            store.update_patient(patient, TODAY)
        with pytest.raises(ServerUnavailable, match="cannot reach the clinic server"):
            store.count_patients()
        server.resume()
        store.update_patient(patient, TODAY)  # the same edit, saved once the server is back
        assert store.patient_by_mrn("EX-01").notes == "typed while the server was down"
        assert store.check() == []
        store.close()
    finally:
        server.stop()


def test_a_change_by_another_workstation_is_heard_at_once(owner_url, pg_store, vignettes):
    imported(pg_store, vignettes)
    mark, _ = pg_store.changes_since(0)
    assert mark == pg_store.audit_head()[0]
    assert pg_store.wait_for_change(0.2) is False  # nothing since it started listening
    with PostgresStore(owner_url) as other:
        patient = other.patient_by_mrn("EX-04")
        patient.notes = "changed at the radiology desk"
        began = time.monotonic()
        other.update_patient(patient, TODAY)
        assert pg_store.wait_for_change(5) is True
        assert time.monotonic() - began < 1.0
        assert pg_store.changes_since(mark) == (mark + 1, {patient.id})
        other.set_setting("clinic_name", "Ward 2")
        assert pg_store.wait_for_change(5) is True
        assert pg_store.changes_since(mark + 1) == (mark + 2, set())
    assert pg_store.wait_for_change(0.1) is False


def test_a_printed_seal_is_verified_against_the_trail(pg_store, vignettes):
    imported(pg_store, vignettes)
    seal = pg_store.audit_seal()
    assert pg_store.verify_seal(seal) == []
    count = pg_store.audit_head()[0]
    assert "fewer than" in pg_store.verify_seal(f"{count + 5}·{seal.split('·')[1]}")[0]
    assert "does not match" in pg_store.verify_seal(f"{count}·000000000000")[0]
    with pytest.raises(ValueError):
        pg_store.verify_seal("not a seal")
