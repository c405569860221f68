"""Plausible records: the dates, ages and pregnancies a record may hold, and that whatever is accepted can be
assessed, reported, plotted and exported without an error (a property over the whole accepted range)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from tohtrack import course, interchange, plotdata, report
from tohtrack.db import Store
from tohtrack.model import (EARLIEST_BIRTH_DATE, SEXES, SITES, Episode, ImagingStudy, Patient, SymptomRecord,
                            Treatment, ValidationError, check_patient, latest_planned_end, load_document)
from tohtrack.safety import LATEST_AS_OF

TODAY = dt.date(2026, 3, 1)
P = "patients[0]"


def document(birth="1970-01-01", sex="female", onset="2025-01-10", pregnancy=None, end=None):
    return {"format": "tohtrack/1", "patients": [{
        "mrn": "PL-1", "family_name": "Rossi", "given_name": "Anna", "birth_date": birth, "sex": sex,
        "episodes": [{"site": "hip_left", "symptom_onset": onset, "pregnancy": pregnancy,
                      "treatments": [{"start": onset, "end": end, "kind": "analgesia"}]}]}]}


def problems(doc):
    try:
        load_document(doc, today=TODAY)
    except ValidationError as exc:
        return [str(p) for p in exc.problems]
    return []


# -- the rules -----------------------------------------------------------------


@pytest.mark.parametrize("birth", ["0001-01-01", "0005-12-31", "1800-06-01", "1899-12-31"])
def test_birth_dates_before_1900_are_refused(birth):
    assert problems(document(birth=birth)) == [
        f"{P}.birth_date: {birth} is before 1900-01-01 (the earliest birth date accepted)"]


def test_the_earliest_birth_date_is_accepted():
    assert problems(document(birth="1900-01-01", onset="1900-01-01")) == []


@pytest.mark.parametrize("birth,onset,age", [("2022-01-01", "2025-01-10", 3), ("2015-01-11", "2025-01-10", 9),
                                             ("1964-01-09", "2025-01-10", 61), ("1900-01-01", "2025-01-10", 125)])
def test_a_pregnancy_outside_ages_10_to_60_is_refused(birth, onset, age):
    assert problems(document(birth=birth, onset=onset, pregnancy="trimester_2")) == [
        f"{P}.episodes[0].pregnancy: a pregnancy at age {age} (at the symptom onset) is not plausible; "
        "it is recorded from age 10 to 60"]


@pytest.mark.parametrize("birth", ["2015-01-10", "1965-01-10", "1964-01-11"])
def test_a_pregnancy_from_age_10_to_60_is_accepted(birth):
    assert problems(document(birth=birth, pregnancy="postpartum")) == []


def test_a_pregnancy_is_refused_for_a_male_patient_only():
    assert problems(document(sex="male", pregnancy="trimester_1")) == [
        f"{P}.episodes[0].pregnancy: a pregnancy cannot be recorded for a male patient"]
    for sex in ("female", "other", "unknown"):
        assert problems(document(sex=sex, pregnancy="trimester_1")) == []
    assert problems(document(sex="male")) == []  # no pregnancy recorded: nothing to refuse


def test_a_planned_treatment_end_at_most_5_years_ahead():
    assert latest_planned_end(TODAY) == dt.date(2031, 3, 1)
    assert latest_planned_end(dt.date(2028, 2, 29)) == dt.date(2033, 2, 28)
    assert problems(document(end="2031-03-01")) == []
    assert problems(document(end="2031-03-02")) == [
        f"{P}.episodes[0].treatments[0].end: 2031-03-02 is more than 5 years ahead "
        "(the latest planned end is 2031-03-01)"]
    assert problems(document(end="2999-01-01"))[0].startswith(f"{P}.episodes[0].treatments[0].end: 2999-01-01 is")


def test_the_store_keeps_pregnancies_plausible_when_sex_or_birth_date_change(store):
    patient = load_document(document(pregnancy="trimester_3"), today=TODAY)[0]
    store.add_patient(patient, TODAY)
    patient = store.patient_by_mrn("PL-1")
    patient.sex = "male"
    with pytest.raises(ValidationError) as caught:
        store.update_patient(patient, TODAY)
    assert [str(p) for p in caught.value.problems] == [
        "sex: the episode of 2025-01-10 records a pregnancy: a pregnancy cannot be recorded for a male patient"]
    patient = store.patient_by_mrn("PL-1")
    patient.birth_date = dt.date(2020, 1, 1)
    with pytest.raises(ValidationError, match="birth_date: the episode of 2025-01-10 records a pregnancy"):
        store.update_patient(patient, TODAY)


def test_an_episode_saved_through_the_store_meets_the_pregnancy_rule(store):
    store.add_patient(load_document(document(sex="male"), today=TODAY)[0], TODAY)
    episode = store.patient_by_mrn("PL-1").episodes[0]
    episode.pregnancy = "trimester_1"
    with pytest.raises(ValidationError, match="^pregnancy: a pregnancy cannot be recorded for a male patient$"):
        store.update_episode(episode, TODAY)
    with pytest.raises(ValidationError, match="^pregnancy: a pregnancy cannot be recorded for a male patient$"):
        store.add_episode(episode.id and store.patient_id("PL-1"),
                          Episode("hip_right", dt.date(2025, 2, 1), pregnancy="postpartum"), TODAY)


# -- whatever is accepted can be reported, plotted and exported ------------------


def _days(low: dt.date, high: dt.date):
    return st.integers(low.toordinal(), high.toordinal()).map(dt.date.fromordinal)


@st.composite
def accepted_patients(draw):
    """A patient whose every date lies anywhere in the accepted range, extremes included."""
    birth = draw(st.one_of(st.just(EARLIEST_BIRTH_DATE), st.just(TODAY), _days(EARLIEST_BIRTH_DATE, TODAY)))
    sites = draw(st.lists(st.sampled_from(SITES), min_size=1, max_size=3, unique=True))
    episodes = []
    for site in sites:
        onset = draw(st.one_of(st.just(birth), st.just(TODAY), _days(birth, TODAY)))
        resolved = draw(st.one_of(st.none(), _days(onset, TODAY)))
        imaging = [ImagingStudy(draw(_days(onset, TODAY)), "MRI", edema_extent_pct=draw(st.integers(0, 100)))
                   for _ in range(draw(st.integers(0, 3)))]
        symptoms = [SymptomRecord(draw(_days(onset, TODAY)), pain_nrs=draw(st.integers(0, 10)))
                    for _ in range(draw(st.integers(0, 2)))]
        treatments = []
        for _ in range(draw(st.integers(0, 2))):
            start = draw(_days(onset, TODAY))
            end = draw(st.one_of(st.none(), st.just(latest_planned_end(TODAY)), _days(start, latest_planned_end(TODAY))))
            treatments.append(Treatment(start, "analgesia", end=end))
        episodes.append(Episode(site, onset, resolved_on=resolved, imaging=imaging, symptoms=symptoms,
                                treatments=treatments))
    return Patient("PL-1", "Rossi", "Anna", birth, draw(st.sampled_from(SEXES)), episodes=episodes)


as_of_dates = st.one_of(st.just(EARLIEST_BIRTH_DATE), st.just(TODAY), st.just(LATEST_AS_OF),
                        _days(EARLIEST_BIRTH_DATE, LATEST_AS_OF))


@settings(max_examples=150, deadline=None)
@given(patient=accepted_patients(), as_of=as_of_dates, deidentify=st.booleans())
@example(patient=Patient("PL-1", "Rossi", "Anna", EARLIEST_BIRTH_DATE, "female", episodes=[
    Episode("hip_left", EARLIEST_BIRTH_DATE, treatments=[Treatment(EARLIEST_BIRTH_DATE, "analgesia",
                                                                   end=latest_planned_end(TODAY))])]),
         as_of=LATEST_AS_OF, deidentify=True)
def test_every_accepted_date_can_be_reported_plotted_and_exported(patient, as_of, deidentify):
    assert check_patient(patient, today=TODAY) == []
    assessment = course.assess(patient, as_of)
    text = report.build(patient, as_of, today=TODAY, deidentify=deidentify, report_id="R-TEST2345").text()
    assert ("PL-1" in text) != deidentify
    for e in assessment.episodes:
        for axis in plotdata.AXES:
            plotdata.course_data(assessment, e, axis=axis)
    for axis in plotdata.AXES:
        plotdata.history_data(assessment, axis=axis)
    exported = interchange.dumps(interchange.document([patient]))
    again = load_document(json.loads(exported), today=TODAY)
    assert interchange.dumps(interchange.document(again)) == exported


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(patient=accepted_patients())
def test_accepted_dates_round_trip_through_the_database(tmp_path_factory, patient):
    path = tmp_path_factory.mktemp("plausible") / "t.sqlite3"
    with Store(path) as store:
        store.add_patient(patient, TODAY)
        exported = interchange.dumps(interchange.export_document(store))
    assert json.loads(exported)["patients"][0]["birth_date"] == patient.birth_date.isoformat()
