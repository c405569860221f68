"""Any valid tohtrack/1 document: stored on the server it reads back exactly as from SQLite, edits keep both the
same, and the server's trail passes the same check (hypothesis, the document strategy of tests/test_fhir.py)."""

import datetime as dt
import itertools

from hypothesis import HealthCheck, given, settings

from pgfixtures import owner_url, pg_db, pg_store  # noqa: F401 (fixtures)
from test_fhir import documents
from tohtrack import interchange
from tohtrack.db import Store

TODAY = dt.date(2026, 3, 1)
_numbers = itertools.count()


def exported(store, mrns):
    """The document of these patients (interchange.export_ids' MRN lookup still writes SQLite's SQL itself)."""
    return [p for p in interchange.export_document(store)["patients"] if p["mrn"] in mrns]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=documents())
def test_any_document_reads_back_from_the_server_as_from_sqlite(pg_store, tmp_path_factory, doc):
    n = next(_numbers)
    for patient in doc["patients"]:  # one database for every example: MRNs of their own
        patient["mrn"] = f"P{n}-{patient['mrn']}"
    mrns = [p["mrn"] for p in doc["patients"]]
    with Store(tmp_path_factory.mktemp("rt") / "a.sqlite3") as sqlite:
        interchange.import_document(sqlite, doc, today=TODAY)
        interchange.import_document(pg_store, doc, today=TODAY)
        assert len(exported(pg_store, mrns)) == len(mrns)
        assert exported(pg_store, mrns) == exported(sqlite, mrns)
        for store in (sqlite, pg_store):  # the same edit on both
            patient = store.patient_by_mrn(mrns[0])
            patient.notes = "edited"
            store.update_patient(patient, TODAY)
            if patient.episodes and patient.episodes[-1].symptoms:
                store.delete_finding(patient.episodes[-1].symptoms[0])
        assert exported(pg_store, mrns) == exported(sqlite, mrns)
    assert pg_store.check() == []
