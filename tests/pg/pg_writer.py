"""One workstation writing to the clinic server (run as a process by test_pg_concurrency.py): N read-modify-write
edits of one patient's notes, each retried after a stale-version conflict, and N new symptom records — through the
app's store, or (worker names starting "sql") as a clinician's plain SQL would, which the server audits."""

import datetime as dt
import sys
import time

from tohtrack.db import ConflictError
from tohtrack.model import SymptomRecord
from tohtrack.store.postgres import PostgresStore


def plain_sql(url: str, worker: str, count: int, start_at: float) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        eid = conn.execute("SELECT e.id FROM episodes e JOIN patients p ON p.id = e.patient_id "
                           "WHERE p.mrn = 'W-1'").fetchone()[0]
        time.sleep(max(0.0, start_at - time.time()))
        for i in range(count):
            token = f"{worker}.{i}"
            conn.execute("UPDATE patients SET notes = trim(notes || ' ' || %s) WHERE mrn = 'W-1'", (token,))
            conn.execute("INSERT INTO symptoms (episode_id, date, pain_nrs, note) VALUES (%s, %s, %s, %s)",
                         (eid, (dt.date(2025, 2, 1) + dt.timedelta(days=i)).isoformat(), i % 10, token))
    print(f"{worker} done")


def main(url: str, worker: str, count: int, start_at: float) -> None:
    if worker.startswith("sql"):
        return plain_sql(url, worker, count, start_at)
    store = PostgresStore(url)
    pid = store.patient_id("W-1")
    eid = store.patient(pid).episodes[0].id
    time.sleep(max(0.0, start_at - time.time()))  # every workstation starts at once
    conflicts = 0
    for i in range(count):
        while True:
            patient = store.patient(pid)
            patient.notes = f"{patient.notes} {worker}.{i}".strip()
            try:
                store.update_patient(patient)
                break
            except ConflictError:
                conflicts += 1
        store.add_finding(eid, SymptomRecord(date=dt.date(2025, 2, 1) + dt.timedelta(days=i), pain_nrs=i % 10,
                                             note=f"{worker}.{i}"))
    store.close()
    print(f"{worker} done, {conflicts} conflicts")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
