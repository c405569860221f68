"""The report's content (tohtrack.report, no Qt): header, summary, flags, tables, and the de-identified variant."""

import datetime as dt
import re

import pytest
from hypothesis import given, settings as hsettings, strategies as st

from tohtrack import report
from tohtrack.model import Episode, ImagingStudy, Patient, SymptomRecord, Treatment, load_document
from tohtrack.settings import Settings

AS_OF = dt.date(2026, 3, 1)
TODAY = dt.date(2026, 3, 2)
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
WORDED_DATE = re.compile(r"\b\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4}\b")


@pytest.fixture
def patients(vignettes):
    return {p.mrn: p for p in load_document(vignettes)}


def identified_patient() -> Patient:
    """A patient with every kind of free text and an accession number."""
    return Patient(
        "H-777", "Lindqvist", "Astrid", dt.date(1978, 5, 17), "female", notes="Lives alone; daughter Karin visits",
        episodes=[Episode(
            "hip_left", dt.date(2025, 9, 3), notes="Referred by Dr Holm",
            imaging=[ImagingStudy(dt.date(2025, 9, 20), "MRI", time="10:15", edema_extent_pct=65,
                                  t1_low_signal=True, t2_high_signal=True, accession="ACC-99821",
                                  report="Diffuse marrow edema of the femoral head. Reported by Dr Berg."),
                     ImagingStudy(dt.date(2026, 1, 10), "MRI", edema_extent_pct=20, accession="ACC-10234")],
            symptoms=[SymptomRecord(dt.date(2025, 9, 20), pain_nrs=7, function_score=52,
                                    function_instrument="Harris Hip Score", note="Uses crutches from Anna's shop"),
                      SymptomRecord(dt.date(2026, 1, 10), pain_nrs=3, function_score=71,
                                    function_instrument="Astrid's own scale")],
            treatments=[Treatment(dt.date(2025, 9, 21), "protected_weight_bearing", dt.date(2025, 12, 1),
                                  detail="crutches lent by St Olav's")])])


def test_header_summary_and_flags_of_ex02(patients):
    r = report.build(patients["EX-02"], AS_OF, today=TODAY)
    assert dict(r.identity) == {"Patient": "WEBER, Jonas", "MRN": "\u2066EX-02\u2069", "Born": "2 Oct 1969",
                                "Age": "56 years", "Sex": "male"}
    assert dict(r.dates) == {"Report date": "2 Mar 2026", "As of": "1 Mar 2026"}
    # The MRN in a left-to-right isolate: no neighbouring text (a right-to-left name) can reorder it.
    assert r.running_head == "WEBER, Jonas · MRN \u2066EX-02\u2069 · born 2 Oct 1969"
    assert r.summary[0] == "Pattern: regional migratory osteoporosis."
    assert "2 episodes recorded, 1 active:" in r.summary
    assert any(line.startswith("– Right hip: 8.6 months since onset (12 Jun 2025)") for line in r.summary)
    assert "Review overdue: the review of 12 Feb 2026 was missed." in r.summary
    assert [f.code for f in r.flags] == ["NOT_REGRESSING", "FOLLOW_UP_OVERDUE", "PROLONGED_COURSE", "MIGRATION"]
    assert all(f.severity == "warning" for f in r.flags)
    assert r.flags[3].message.startswith("Right hip: new episode 2 months after the left hip resolved")
    assert r.flags[0].where == "Right hip episode, onset 12 Jun 2025"
    assert r.document_title == "TOHtrack report: WEBER, Jonas, MRN EX-02"


def test_warnings_come_before_infos(patients):
    r = report.build(patients["EX-05"], AS_OF, today=TODAY)
    severities = [f.severity for f in r.flags]
    assert severities == sorted(severities, key=lambda s: s != "warning")
    assert "info" in severities and "warning" in severities


def test_episode_table_and_sections_newest_first(patients):
    r = report.build(patients["EX-02"], AS_OF, today=TODAY)
    assert r.episodes.columns[0] == "Site"
    assert [row.cells[0] for row in r.episodes.rows] == ["Right hip", "Left hip"]
    right, left = r.episodes.rows
    assert right.cells[3] == "active" and right.cells[4] == "8.6 mo"
    assert left.cells[3] == "resolved 20 Mar 2025"
    assert right.cells[5] == "12 Dec 2025 – 12 Feb 2026"
    assert [s.heading for s in r.sections] == ["Right hip: transient osteoporosis, onset 12 Jun 2025",
                                               "Left hip: transient osteoporosis, onset 1 Sep 2024"]
    imaging = r.sections[0].tables[0]
    assert imaging.title == "Imaging studies"
    assert [row.cells[:4] for row in imaging.rows] == [("30 Jun 2025", "0.6", "MRI", "55%"),
                                                       ("20 Oct 2025", "4.3", "MRI", "58%")]
    # No treatments: one sentence instead of an empty table.
    assert [t.title for t in r.sections[0].tables] == ["Imaging studies", "Symptom records"]
    assert "No treatments recorded up to the as-of date." in r.sections[0].summary


def test_findings_free_text_and_accession_in_the_identified_report():
    r = report.build(identified_patient(), AS_OF, today=TODAY)
    imaging, symptoms, treatments = r.sections[0].tables
    first = imaging.rows[0]
    assert first.cells == ("20 Sep 2025 10:15", "0.6", "MRI", "65%", "T1 low signal, T2/STIR high signal",
                           "ACC-99821")
    assert first.note.startswith("Diffuse marrow edema") and imaging.note_label == "Report"
    assert symptoms.rows[0].cells[2:4] == ("7/10", "Harris Hip Score 52")
    assert symptoms.rows[0].note == "Uses crutches from Anna's shop"
    assert treatments.rows[0].cells == ("21 Sep 2025", "1 Dec 2025", "protected weight bearing")
    assert treatments.rows[0].note == "crutches lent by St Olav's"
    assert r.episodes.rows[0].note == "Referred by Dr Holm"


def test_deidentified_report_leaves_out_every_identifier():
    patient = identified_patient()
    r = report.build(patient, AS_OF, today=TODAY, deidentify=True, report_id="R-TEST2345")
    text = r.text()
    for secret in ("Lindqvist", "Astrid", "H-777", "1978", "17 May", "Karin", "Dr Holm", "ACC-99821", "ACC-10234",
                   "Dr Berg", "marrow edema", "Anna", "St Olav", "10:15", "own scale", "2 Mar 2026"):
        assert secret not in text, secret
    assert not ISO_DATE.search(text) and not WORDED_DATE.search(text)
    assert dict(r.identity) == {"Report": "R-TEST2345", "Age": "45–49 years", "Sex": "female"}
    assert r.running_head == "De-identified report R-TEST2345"
    assert r.document_title == "TOHtrack report R-TEST2345"
    assert "Accession" not in r.sections[0].tables[0].columns
    assert r.sections[0].heading == "Left hip: transient osteoporosis, onset month 0.0"
    assert r.sections[0].tables[0].rows[1].cells[0] == "month 4.2"
    # A known instrument stays (the score means nothing without it); an unknown name goes.
    assert r.sections[0].tables[1].rows[0].cells[3] == "Harris Hip Score 52"
    assert r.sections[0].tables[1].rows[1].cells[3] == "score 71"
    assert r.history_axis == "months"
    # The patient object itself is left as it was.
    assert patient.mrn == "H-777" and patient.episodes[0].imaging[0].report.startswith("Diffuse")


def test_deidentified_flags_word_their_dates_as_months(patients):
    r = report.build(patients["EX-02"], AS_OF, deidentify=True)
    text = r.text()
    assert not WORDED_DATE.search(text) and not ISO_DATE.search(text)
    not_regressing = next(f for f in r.flags if f.code == "NOT_REGRESSING")
    assert not_regressing.message == ("Right hip: edema not regressing — MRI of month 13.6 shows 58%, "
                                      "against 55% on month 10.0")
    overdue = next(f for f in r.flags if f.code == "FOLLOW_UP_OVERDUE")
    assert "month 17.4 was missed (no contact since month 15.4)" in overdue.message


def test_report_ids_are_random_and_well_formed():
    ids = {report.new_report_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"R-[A-HJ-NP-Z2-9]{8}", i) for i in ids)


@pytest.mark.parametrize("years,band", [(0, "0–4 years"), (4, "0–4 years"), (5, "5–9 years"), (49, "45–49 years"),
                                        (50, "50–54 years"), (89, "85–89 years"), (90, "90 years or older"),
                                        (101, "90 years or older"), (-1, "—")])
def test_age_bands(years, band):
    assert report.age_band(years) == band


@hsettings(max_examples=200, deadline=None)
@given(st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)), st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)))
def test_every_worded_date_is_replaced(origin, day):
    from tohtrack.wording import date_text

    words = report.months_words(origin)
    text = report.deidentify_text(f"seen on {date_text(day)}, again on {date_text(day)}.", words)
    assert not WORDED_DATE.search(text)
    assert text == f"seen on {words(day)}, again on {words(day)}."
    assert re.fullmatch(r"month −?\d+\.\d", words(day))


def test_records_after_the_as_of_date_are_left_out_and_counted():
    patient = identified_patient()
    r = report.build(patient, dt.date(2025, 10, 1), today=TODAY)
    assert len(r.sections[0].tables[0].rows) == 1
    assert len(r.sections[0].tables[1].rows) == 1
    assert "2 records dated after the as-of date are not shown." in r.summary


def test_a_patient_without_episodes():
    patient = Patient("N-1", "Nobody", "Ann", dt.date(1990, 1, 1), "female")
    r = report.build(patient, AS_OF, today=TODAY)
    assert r.sections == () and r.episodes.rows == () and r.flags == ()
    assert "No episodes recorded up to the as-of date." in r.summary
    assert "Flags: none; the course is as expected." in r.summary
    deid = report.build(patient, AS_OF, today=TODAY, deidentify=True)
    assert dict(deid.dates)["As of"] == "no onset recorded"
    assert not WORDED_DATE.search(deid.text()) and not ISO_DATE.search(deid.text())


def test_deidentified_as_of_before_the_first_onset_reads_negative():
    patient = identified_patient()  # first onset 3 Sep 2025
    r = report.build(patient, dt.date(2025, 7, 3), deidentify=True)
    assert dict(r.dates)["As of"] == "month −2.0 (months since the first onset)"
    assert r.sections == ()


def test_deidentified_course_legends_count_from_the_episode_onset():
    from tohtrack.model import Episode as E

    patient = identified_patient()
    patient.episodes.append(E("hip_right", dt.date(2026, 1, 20)))
    r = report.build(patient, AS_OF, deidentify=True)
    later = next(s.episode for s in r.sections if s.episode.site == "hip_right")
    assert r.course_words(later)(AS_OF) == "1.3 mo"  # the plot's own axis: months since this episode's onset
    assert report.build(patient, AS_OF).course_words(later)(AS_OF) == "1 Mar 2026"


def test_clinic_name_and_paper_size_come_from_the_settings(patients):
    r = report.build(patients["EX-01"], AS_OF, Settings(clinic_name="Orthopaedics, St Elsewhere", paper_size="Letter"))
    assert r.clinic == "Orthopaedics, St Elsewhere" and r.paper_size == "Letter"


def test_default_file_names():
    r = report.build(identified_patient(), AS_OF)
    assert report.file_name(r, "H-777") == "H-777-timeline.pdf"
    assert report.file_name(r, "../a b/c") == "a_b_c-timeline.pdf"
    deid = report.build(identified_patient(), AS_OF, deidentify=True, report_id="R-ABCDEFGH")
    assert report.file_name(deid, "H-777") == "R-ABCDEFGH.pdf"


def test_tables_refuse_ragged_rows():
    with pytest.raises(ValueError, match="one cell per column"):
        report.Table("T", ("a", "b"), (0.5, 0.5), (report.Row(("only one",)),))


def _secrets_of(patient: Patient) -> list[str]:
    """Everything of a patient a de-identified report must not say."""
    from tohtrack.wording import date_text

    texts = [patient.mrn, patient.family_name, patient.given_name, patient.notes, date_text(patient.birth_date),
             patient.birth_date.isoformat()]
    for e in patient.episodes:
        texts.append(e.notes)
        for s in e.imaging:
            texts += [s.accession, s.report]
        for r in e.symptoms:
            texts.append(r.note)
        for t in e.treatments:
            texts.append(t.detail)
    return [t for t in texts if t and len(t) >= 4]


@pytest.mark.parametrize("seed", range(3))
def test_deidentified_demo_patients_say_nothing_identifying(seed):
    from tohtrack import demo

    checked = 0
    for patient in demo.generate(60, seed=seed, today=AS_OF):
        deid = report.build(patient, AS_OF, today=TODAY, deidentify=True).text()
        for secret in _secrets_of(patient):
            assert secret not in deid, (patient.mrn, secret)
        assert not ISO_DATE.search(deid) and not WORDED_DATE.search(deid)
        plain = report.build(patient, AS_OF, today=TODAY).text()
        assert patient.mrn in plain and patient.family_name.upper() in plain
        checked += len(_secrets_of(patient))
    assert checked > 100  # the demo cohort does carry notes, reports and accession numbers


free_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=6, max_size=60).filter(
    lambda t: t.strip() == t and len(t.strip()) >= 6)


@hsettings(max_examples=60, deadline=None)
@given(notes=free_text, report_text=free_text, detail=free_text, accession=free_text)
def test_free_text_never_reaches_a_deidentified_report(notes, report_text, detail, accession):
    patient = identified_patient()
    episode = patient.episodes[0]
    patient.notes = episode.notes = notes
    episode.imaging[0].report, episode.imaging[0].accession = report_text, accession
    episode.treatments[0].detail = detail
    episode.symptoms[0].note = notes
    text = report.build(patient, AS_OF, deidentify=True).text()
    for secret in (notes, report_text, detail, accession):
        # A secret could only 'appear' by coinciding with the report's own words; none of those is 6+ chars
        # of random text, so a hit means it leaked.
        assert secret not in text or secret in report.build(
            identified_patient(), AS_OF, deidentify=True, report_id="R-XXXXXXXX").text().replace("R-XXXXXXXX", "")
    identified = report.build(patient, AS_OF).text()
    assert report_text in identified and accession in identified and detail in identified
