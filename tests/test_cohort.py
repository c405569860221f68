"""The review worklist over a whole database."""

import datetime as dt

from tohtrack import cohort, interchange
from tohtrack.model import Episode, Patient, SymptomRecord

TODAY = dt.date(2026, 3, 1)


def add(store, mrn, onset, resolved=None, diagnosis="transient_osteoporosis", contacts=()):
    episode = Episode(site="hip_left", symptom_onset=onset, resolved_on=resolved, diagnosis=diagnosis,
                      symptoms=[SymptomRecord(date=d, pain_nrs=3) for d in contacts])
    patient = Patient(mrn=mrn, family_name="Test", given_name=mrn, birth_date=dt.date(1970, 1, 1), sex="male",
                      episodes=[episode])
    store.add_patient(patient, today=TODAY)
    return patient


def test_active_means_onset_by_as_of_and_not_resolved_by_it(store):
    add(store, "A-onset-today", TODAY)
    add(store, "C-resolved-today", dt.date(2025, 12, 1), resolved=TODAY)
    add(store, "D-resolved-before", dt.date(2025, 6, 1), resolved=dt.date(2026, 1, 1))
    add(store, "E-not-toh", dt.date(2025, 12, 1), diagnosis="stress_fracture")
    ids = cohort.active_patient_ids(store, TODAY)
    assert sorted(store.patient(i).mrn for i in ids) == ["A-onset-today"]
    ids = cohort.active_patient_ids(store, TODAY - dt.timedelta(days=1))
    assert sorted(store.patient(i).mrn for i in ids) == ["C-resolved-today"]


def test_archived_patients_are_left_out(store):
    patient = add(store, "A", dt.date(2026, 1, 1))
    store.set_archived(patient.id, patient.version)
    assert cohort.worklist(store, TODAY) == []


def test_worklist_orders_overdue_then_due_then_by_review(store):
    add(store, "LATER", dt.date(2026, 2, 20))                       # 6-week review 2026-04-03: not due
    add(store, "DUE", dt.date(2026, 1, 20))                         # 6-week review 2026-03-03: due
    add(store, "OVERDUE", dt.date(2025, 10, 1))                     # 3-month review 2026-01-01 missed
    add(store, "SEEN", dt.date(2025, 10, 1), contacts=[dt.date(2025, 12, 20)])  # seen within 14 days of it
    entries = cohort.worklist(store, TODAY)
    assert [(e.mrn, e.state) for e in entries] == [
        ("OVERDUE", "overdue"), ("DUE", "due"), ("SEEN", ""), ("LATER", "")]
    overdue = entries[0]
    assert overdue.most_urgent.code == "FOLLOW_UP_OVERDUE" and overdue.active_sites == ("hip_left",)
    assert overdue.next_review == dt.date(2026, 4, 1)
    assert overdue.missed_review == dt.date(2026, 1, 1)  # the one missed, beside "overdue"
    assert [e.mrn for e in cohort.worklist(store, TODAY, due_only=True)] == ["OVERDUE", "DUE"]


def test_worklist_on_the_examples(store, vignettes):
    interchange.import_document(store, vignettes, today=TODAY)
    entries = cohort.worklist(store, TODAY)
    assert {e.mrn for e in entries} == {"EX-02", "EX-03", "EX-04"}
    ex02 = next(e for e in entries if e.mrn == "EX-02")
    assert ex02.pattern == "regional_migratory_osteoporosis" and ex02.most_urgent.code == "NOT_REGRESSING"
    # Overdue: the review missed, not the next one; the reason in clinical order.
    assert ex02.missed_review == dt.date(2026, 2, 12) and ex02.review_text == "review of 12 Feb 2026 missed, 17 days"
    ex04 = next(e for e in entries if e.mrn == "EX-04")
    assert ex04.most_urgent.code == "AVN_SIGNS" and ex04.reason == "Signs of AVN — right knee (+3 more)"
    assert [e.mrn for e in sorted(entries, key=lambda e: e.urgency)] == ["EX-04", "EX-02", "EX-03"]
