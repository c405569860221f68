"""FHIR R4 export and import: every tohtrack/1 field survives the round trip, every resource validates against
fhir.resources' R4B models, the codes written are the ones documented, and hostile bundles are refused whole."""

import copy
import datetime as dt
import contextlib
import json
import os
import re
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import minimal_document
from tohtrack import demo, fhir, interchange, model
from tohtrack.__main__ import main
from tohtrack.db import Store
from tohtrack.model import ValidationError

TODAY = dt.date(2026, 3, 1)
EXAMPLES = int(os.environ.get("TOHTRACK_FUZZ_EXAMPLES", "30"))


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def counts(store):
    return {t: store.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("patients", "episodes", "imaging", "symptoms", "treatments")}


def tohtrack_json(store):
    return interchange.dumps(interchange.export_document(store))


def bundle_of(store, **options):
    return fhir.export_bundle(store, options=fhir.ExportOptions(today=TODAY, **options))


def round_trip(tmp_path, doc, name="rt", store=None, **options):
    """Import a tohtrack/1 document (into `store`, of either backend, or a new SQLite file), export it as FHIR,
    import that into an empty database: both exports."""
    with contextlib.nullcontext(store) if store is not None else Store(tmp_path / f"{name}-a.sqlite3") as a, \
            Store(tmp_path / f"{name}-b.sqlite3") as b:
        interchange.import_document(a, doc, today=TODAY)
        bundle = json.loads(fhir.dumps(bundle_of(a, **options)))
        fhir.import_bundle(b, bundle, today=TODAY)
        return tohtrack_json(a), tohtrack_json(b), bundle


def resources(bundle, kind=None):
    return [e["resource"] for e in bundle.get("entry", []) if kind is None or e["resource"]["resourceType"] == kind]


def validate(bundle):
    """The Bundle and each entry's resource with its own R4B model (a Bundle does not validate its entries)."""
    get_fhir_model_class("Bundle").model_validate(bundle)
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def full_document():
    """One patient with every field of every record set to something other than its default."""
    doc = minimal_document()
    p = doc["patients"][0]
    p.update(archived=True, sex="female", notes="Referred by Dr Weiß.\nSecond line\twith a tab.")
    e = p["episodes"][0]
    e.update(resolved_on="2025-09-01", diagnosis="transient_osteoporosis", pregnancy="trimester_3",
             avn_risk_factors=["smoking", "corticosteroids"], notes="Third trimester; MRI without contrast.")
    e["imaging"] = [
        dict({f: True for f in model.FINDINGS}, date="2025-02-01", time="08:40", modality="MRI",
             edema_extent_pct=62.5, edema_volume_ml=41.25, edema_regions=["neck", "head", "other"],
             t2_high_signal=False, dce_enhancement="early", scintigraphy_uptake=None, accession="ACC-77",
             report="Diffuse marrow edema of the femoral head and neck."),
        {"date": "2025-02-01", "modality": "NM", "scintigraphy_uptake": "increased_homogeneous", "dce_enhancement": "none"},
        {"date": "2025-03-03", "modality": "XR", "osteopenia": True},
        {"date": "2025-04-04", "modality": "CT", "edema_volume_ml": 0},
    ]
    e["symptoms"] = [
        {"date": "2025-01-20", "pain_nrs": 7.5, "function_score": 55, "function_instrument": "Harris Hip Score",
         "weight_bearing": "protected", "note": "Limping."},
        {"date": "2025-01-20", "function_instrument": "own scale"},
        {"date": "2025-02-20"},
    ]
    e["treatments"] = [
        {"start": "2025-01-20", "end": "2025-03-01", "kind": "protected_weight_bearing", "detail": "Crutches."},
        {"start": "2025-01-21", "end": None, "kind": "bisphosphonate", "detail": "Zoledronate 5 mg"},
        {"start": "2025-02-01", "end": None, "kind": "other"},
    ]
    p["episodes"].append({"site": "knee_right", "symptom_onset": "2025-10-01", "diagnosis": "avascular_necrosis"})
    return doc


# ---------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------


def test_vignettes_round_trip_exactly(tmp_path, vignettes, store):
    before, after, bundle = round_trip(tmp_path, vignettes, store=store)
    assert after == before
    validate(bundle)
    kinds = {r["resourceType"] for r in resources(bundle)}
    assert kinds == {"Patient", "Condition", "ImagingStudy", "Observation", "MedicationStatement", "Procedure",
                     "Flag"}


def test_every_field_round_trips_in_standard_elements(tmp_path):
    before, after, bundle = round_trip(tmp_path, full_document())
    assert after == before
    validate(bundle)
    text = json.dumps(bundle)
    assert fhir.EXT_FIELD not in text  # every field of this version has its own place
    doc = json.loads(before)["patients"][0]
    assert doc["archived"] is True and doc["episodes"][0]["imaging"][1]["time"] == "08:40"


def test_transaction_bundle_round_trips_and_a_server_can_load_it(tmp_path, vignettes):
    before, after, bundle = round_trip(tmp_path, vignettes, transaction=True)
    assert after == before
    assert bundle["type"] == "transaction"
    validate(bundle)
    for entry in bundle["entry"]:
        assert entry["request"] == {"method": "POST", "url": entry["resource"]["resourceType"]}
        assert re.fullmatch(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", entry["fullUrl"])
    assert len({e["fullUrl"] for e in bundle["entry"]}) == len(bundle["entry"])
    _, _, other = round_trip(tmp_path, vignettes, name="again", transaction=True)
    assert not {e["fullUrl"] for e in bundle["entry"]} & {e["fullUrl"] for e in other["entry"]}  # random per bundle


def test_demo_cohort_round_trips(tmp_path, store):
    a = store
    with Store(tmp_path / "b.sqlite3") as b:
        a.add_patients(list(demo.generate(60, seed=19)), validate=False)
        bundle = json.loads(fhir.dumps(bundle_of(a)))
        fhir.import_bundle(b, bundle)
        assert tohtrack_json(b) == tohtrack_json(a)
        validate(bundle)


def test_selected_patients_only(tmp_path, vignettes):
    with Store(tmp_path / "a.sqlite3") as a:
        interchange.import_document(a, vignettes, today=TODAY)
        bundle = fhir.export_bundle(a, ["EX-03", "EX-01", "EX-03"], fhir.ExportOptions(today=TODAY))
    mrns = [r["identifier"][0]["value"] for r in resources(bundle, "Patient")]
    assert mrns == ["EX-01", "EX-03"]


# -- hypothesis: any valid tohtrack/1 document survives ------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyzÄÖÜàéñßøΩЖ"
names = st.builds(lambda a, b: a + b, st.sampled_from(_LETTERS), st.text(_LETTERS + " '-", max_size=10))
texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Cf", "Co", "Cn", "Zl", "Zp"))
                .filter(lambda c: model.text_problem(c) is None), max_size=20)  # nor the ones shown as nothing
long_texts = st.lists(texts, max_size=3).map("\n".join)
maybe_bool = st.none() | st.booleans()
decimals = st.integers(0, 1000).map(lambda n: n / 10 if n % 3 else n // 10)


@st.composite
def documents(draw):
    patients = []
    for index in range(draw(st.integers(1, 3))):
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=draw(st.integers(0, 20000)))
        sex = draw(st.sampled_from(model.SEXES))
        episodes = []
        for site in draw(st.lists(st.sampled_from(model.SITES), max_size=3, unique=True)):
            day = birth + dt.timedelta(days=draw(st.integers(0, 3000)))
            for _ in range(draw(st.integers(1, 2))):
                if day > TODAY:
                    break
                onset = day
                resolved = None
                if draw(st.booleans()):
                    resolved = onset + dt.timedelta(days=draw(st.integers(0, 400)))
                    if resolved > TODAY:
                        resolved = None

                def when():
                    return (onset + dt.timedelta(days=draw(st.integers(0, max(0, (TODAY - onset).days))))).isoformat()

                regions = ["head", "neck", "intertrochanteric", "other"] if site.startswith("hip") else ["other"]
                imaging = [dict(
                    {f: draw(maybe_bool) for f in model.FINDINGS},
                    date=when(), time=draw(st.none() | st.sampled_from(["00:00", "08:40", "23:59"])),
                    modality=draw(st.sampled_from(model.MODALITIES)),
                    edema_extent_pct=draw(st.none() | decimals.map(lambda v: min(v, 100))),
                    edema_volume_ml=draw(st.none() | decimals),
                    edema_regions=draw(st.lists(st.sampled_from(regions), unique=True)),
                    dce_enhancement=draw(st.none() | st.sampled_from(model.DCE_ENHANCEMENTS)),
                    scintigraphy_uptake=draw(st.none() | st.sampled_from(model.SCINTIGRAPHY_UPTAKES)),
                    accession=draw(texts), report=draw(long_texts),
                ) for _ in range(draw(st.integers(0, 2)))]
                symptoms = [{
                    "date": when(), "pain_nrs": draw(st.none() | decimals.map(lambda v: min(v, 10))),
                    "function_score": draw(st.none() | decimals.map(lambda v: min(v, 100))),
                    "function_instrument": draw(texts),
                    "weight_bearing": draw(st.none() | st.sampled_from(model.WEIGHT_BEARING)),
                    "note": draw(long_texts)} for _ in range(draw(st.integers(0, 2)))]
                treatments = []
                for _ in range(draw(st.integers(0, 2))):
                    start = when()
                    end = draw(st.none() | st.integers(0, 300))
                    treatments.append({"start": start, "end": None if end is None else (
                        dt.date.fromisoformat(start) + dt.timedelta(days=end)).isoformat(),
                        "kind": draw(st.sampled_from(model.TREATMENT_KINDS)), "detail": draw(long_texts)})
                episodes.append({
                    "site": site, "symptom_onset": onset.isoformat(),
                    "resolved_on": resolved.isoformat() if resolved else None,
                    "diagnosis": draw(st.sampled_from(model.DIAGNOSES)),
                    # a pregnancy only where the record rules allow one: not male, aged 10-60 at onset
                    "pregnancy": draw(st.none() | st.sampled_from(model.PREGNANCY_STATES))
                    if sex != "male" and 10 <= relativedelta(onset, birth).years <= 60 else None,
                    "avn_risk_factors": draw(st.lists(st.sampled_from(model.AVN_RISK_FACTORS), unique=True, max_size=3)),
                    "notes": draw(long_texts), "imaging": imaging, "symptoms": symptoms, "treatments": treatments})
                if resolved is None:
                    break
                day = resolved + dt.timedelta(days=draw(st.integers(1, 500)))
        patients.append({"mrn": f"H-{index}{draw(st.text('ABC123', max_size=4))}", "family_name": draw(names),
                         "given_name": draw(st.just("") | names), "birth_date": birth.isoformat(),
                         "sex": sex, "archived": draw(st.booleans()),
                         "notes": draw(long_texts), "episodes": episodes})
    return {"format": "tohtrack/1", "patients": patients}


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=documents(), transaction=st.booleans())
def test_any_document_round_trips(tmp_path_factory, doc, transaction):
    before, after, bundle = round_trip(tmp_path_factory.mktemp("h"), doc, transaction=transaction)
    assert after == before
    assert json.loads(after)["patients"]  # the strategy makes real content, not empty files


# ---------------------------------------------------------------------------
# Validation and codes
# ---------------------------------------------------------------------------


def test_the_validator_catches_a_broken_resource():
    """The R4B models are a real check: a missing required element or a wrong type fails."""
    with pytest.raises(Exception):
        get_fhir_model_class("ImagingStudy").model_validate({"resourceType": "ImagingStudy",
                                                             "subject": {"reference": "urn:uuid:x"}})
    with pytest.raises(Exception):
        get_fhir_model_class("Patient").model_validate({"resourceType": "Patient", "birthDate": "14 May 1978"})


# The value sets of the coded elements written (FHIR R4 and terminology.hl7.org), and the codes confirmed
# for the README's table.
ADMINISTRATIVE_GENDER = {"male", "female", "other", "unknown"}
CONDITION_CLINICAL = {"active", "recurrence", "relapse", "inactive", "remission", "resolved"}
CONDITION_VERIFICATION = {"unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"}
IMAGING_STUDY_STATUS = {"registered", "available", "cancelled", "entered-in-error", "unknown"}
OBSERVATION_STATUS = {"registered", "preliminary", "final", "amended", "corrected", "cancelled",
                      "entered-in-error", "unknown"}
MEDICATION_STATEMENT_STATUS = {"active", "completed", "entered-in-error", "intended", "stopped", "on-hold",
                               "unknown", "not-taken"}
PROCEDURE_STATUS = {"preparation", "in-progress", "not-done", "on-hold", "stopped", "completed",
                    "entered-in-error", "unknown"}
FLAG_STATUS = {"active", "inactive", "entered-in-error"}
CID_29 = {"MR": "Magnetic Resonance", "DX": "Digital Radiography", "NM": "Nuclear Medicine",
          "CT": "Computed Tomography"}
SNOMED_CONFIRMED = {"24136001": "Hip joint", "72696002": "Knee", "70258002": "Ankle joint", "56459004": "Foot",
                    "16982005": "Shoulder", "16953009": "Elbow joint", "74670003": "Wrist joint", "85562004": "Hand",
                    "7771000": "Left", "24028007": "Right"}
LOINC_CONFIRMED = {"72514-3": "Pain severity - 0-10 verbal numeric rating [Score] - Reported"}
STANDARD = {
    "http://terminology.hl7.org/CodeSystem/condition-clinical": CONDITION_CLINICAL,
    "http://terminology.hl7.org/CodeSystem/condition-ver-status": CONDITION_VERIFICATION,
    "http://terminology.hl7.org/CodeSystem/condition-category": {"problem-list-item"},
    "http://terminology.hl7.org/CodeSystem/observation-category": {"imaging", "survey"},
    "http://terminology.hl7.org/CodeSystem/v2-0203": {"MR", "ACSN"},
    "http://terminology.hl7.org/CodeSystem/data-absent-reason": {"unknown"},
    "http://unitsofmeasure.org": {"%", "mL", "1"},
}
OWN = {
    fhir.CS_DIAGNOSIS: set(model.DIAGNOSES),
    fhir.CS_OBSERVATION: set(fhir.OBSERVATION_LABELS),
    fhir.CS_DCE: set(model.DCE_ENHANCEMENTS),
    fhir.CS_UPTAKE: set(model.SCINTIGRAPHY_UPTAKES),
    fhir.CS_WEIGHT_BEARING: set(model.WEIGHT_BEARING),
    fhir.CS_TREATMENT: set(model.TREATMENT_KINDS),
    fhir.CS_FLAG: {"PROLONGED_COURSE", "LATE_RESOLUTION", "RECURRENCE", "MIGRATION", "MULTIFOCAL_ONSET",
                   "AVN_SIGNS", "AVN_RISK_FACTORS", "JOINT_SPACE_NARROWING", "SUBCHONDRAL_FRACTURE",
                   "NOT_REGRESSING", "FOLLOW_UP_OVERDUE", "PREGNANCY_ASSOCIATED"},
    fhir.CS_TAG: {"deidentified"},
}


def _codings(value):
    """Every Coding (and Quantity code) anywhere in a resource."""
    if isinstance(value, dict):
        if "system" in value and "code" in value:
            yield value
        for child in value.values():
            yield from _codings(child)
    elif isinstance(value, list):
        for child in value:
            yield from _codings(child)


def _check_codes(bundle):
    seen = set()
    for resource in resources(bundle):
        kind = resource["resourceType"]
        status = resource.get("status")
        allowed = {"ImagingStudy": IMAGING_STUDY_STATUS, "Observation": OBSERVATION_STATUS,
                   "MedicationStatement": MEDICATION_STATEMENT_STATUS, "Procedure": PROCEDURE_STATUS,
                   "Flag": FLAG_STATUS}.get(kind)
        if allowed:
            assert status in allowed, (kind, status)
        if kind == "Patient":
            assert resource["gender"] in ADMINISTRATIVE_GENDER
        for coding in _codings(resource):
            system, code = coding["system"], coding["code"]
            seen.add(system)
            if system == fhir.SNOMED:
                assert SNOMED_CONFIRMED.get(code) == coding.get("display"), code
            elif system == fhir.LOINC:
                assert LOINC_CONFIRMED.get(code) == coding.get("display"), code
            elif system == fhir.DCM:
                assert CID_29.get(code) == coding.get("display"), code
            elif system in STANDARD:
                assert code in STANDARD[system], (system, code)
            elif system in OWN:
                assert code in OWN[system], (system, code)
            elif system == fhir.CS_EDEMA_REGION:  # the regions of each joint, as the model lists them
                assert code in model.EDEMA_REGIONS, code
            elif system not in (fhir.DEFAULT_FHIR_MRN_SYSTEM, fhir.BASE + "/sid/deidentified", fhir.DICOM_UID):
                pytest.fail(f"an undocumented code system {system}")
    return seen


def test_codes_written_are_from_the_documented_value_sets(tmp_path, vignettes):
    _, _, bundle = round_trip(tmp_path, vignettes)
    _, _, full = round_trip(tmp_path, full_document(), name="full")
    seen = _check_codes(bundle) | _check_codes(full)
    assert {fhir.SNOMED, fhir.LOINC, fhir.DCM, fhir.CS_DIAGNOSIS, fhir.CS_FLAG} <= seen


def test_each_joint_and_side_has_a_confirmed_body_site(tmp_path):
    doc = minimal_document()
    episode = doc["patients"][0]["episodes"][0]
    doc["patients"][0]["episodes"] = [dict(episode, site=site, imaging=[], symptoms=[], treatments=[])
                                      for site in model.SITES]
    before, after, bundle = round_trip(tmp_path, doc)
    assert after == before
    sites = set()
    for condition in resources(bundle, "Condition"):
        body = condition["bodySite"][0]
        (joint,) = body["coding"]
        (side,) = body["extension"]
        assert side["url"] == fhir.LATERALITY
        sites.add((joint["code"], side["valueCodeableConcept"]["coding"][0]["code"]))
        assert body["text"] in {model.site_label(s) for s in model.SITES}
    assert len(sites) == len(model.SITES) == 16
    _check_codes(bundle)


def test_episode_status_and_diagnosis(tmp_path):
    _, _, bundle = round_trip(tmp_path, full_document())
    resolved, active = resources(bundle, "Condition")
    assert resolved["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert resolved["abatementDateTime"] == "2025-09-01" and resolved["onsetDateTime"] == "2025-01-10"
    assert resolved["verificationStatus"]["coding"][0]["code"] == "confirmed"
    assert resolved["code"]["text"] == "transient osteoporosis"
    assert active["clinicalStatus"]["coding"][0]["code"] == "active" and "abatementDateTime" not in active
    assert active["verificationStatus"]["coding"][0]["code"] == "provisional"  # no study yet
    assert active["code"]["coding"][0]["code"] == "avascular_necrosis"
    for condition in (resolved, active):
        assert all(c["system"] != fhir.SNOMED for c in condition["code"]["coding"])  # never a guessed concept


def test_studies_observations_and_treatments(tmp_path):
    _, _, bundle = round_trip(tmp_path, full_document())
    urls = {e["fullUrl"]: e["resource"] for e in bundle["entry"]}
    for entry in bundle["entry"]:  # every reference points into the bundle
        for ref in re.findall(r'"reference": "([^"]+)"', json.dumps(entry["resource"])):
            assert ref in urls
    mri = next(r for r in resources(bundle, "ImagingStudy") if r["modality"][0]["code"] == "MR")
    assert mri["modality"] == [{"system": fhir.DCM, "code": "MR", "display": "Magnetic Resonance"}]
    assert mri["started"] == "2025-02-01" and mri["note"][0]["text"].startswith("Diffuse")
    assert {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "ACSN",
                                 "display": "Accession ID"}]}, "value": "ACC-77"} in mri["identifier"]
    mri_url = next(u for u, r in urls.items() if r is mri)
    derived = [r for r in resources(bundle, "Observation") if r.get("derivedFrom") == [{"reference": mri_url}]]
    edema = next(r for r in derived if r["code"]["coding"][0]["code"] == "bone_marrow_edema")
    assert [c.get("valueQuantity", {}).get("value") for c in edema["component"]][:2] == [62.5, 41.25]
    assert [c["valueCodeableConcept"]["coding"][0]["code"] for c in edema["component"][2:]] == ["neck", "head", "other"]
    assert len(derived) == 1 + len(model.FINDINGS) + 1  # edema, every finding, DCE
    pain = [r for r in resources(bundle, "Observation") if r["code"]["coding"][0]["system"] == fhir.LOINC]
    assert len(pain) == 1 and pain[0]["valueQuantity"]["value"] == 7.5
    assert pain[0]["code"]["coding"][0]["code"] == "72514-3"
    groups = [r for r in resources(bundle, "Observation") if r["code"]["coding"][0]["code"] == "symptom_record"]
    assert [len(g.get("hasMember", [])) for g in groups] == [3, 1, 0]
    (medication,) = resources(bundle, "MedicationStatement")
    assert medication["status"] == "active" and medication["medicationCodeableConcept"]["text"] == "bisphosphonate"
    procedures = resources(bundle, "Procedure")
    assert [p["status"] for p in procedures] == ["completed", "in-progress"]
    assert procedures[0]["performedPeriod"] == {"start": "2025-01-20", "end": "2025-03-01"}


def test_flags_are_written_as_flag_resources(tmp_path, vignettes, expected_flags):
    with Store(tmp_path / "a.sqlite3") as a:
        interchange.import_document(a, vignettes, today=TODAY)
        bundle = bundle_of(a)
        from tohtrack.course import assess
        raised = sorted(f.code for p in a.patients() for f in assess(p, TODAY, a.settings()).flags)
    flags = resources(bundle, "Flag")
    assert sorted(f["code"]["coding"][0]["code"] for f in flags) == raised and raised
    assert all(f["code"]["text"] for f in flags)
    episode_urls = {e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Condition"}
    for flag in flags:
        refs = [x["valueReference"]["reference"] for x in flag["extension"] if x["url"] == fhir.EXT_FLAG_EPISODE]
        assert len(refs) == 1 and refs[0] in episode_urls


def test_new_imaging_fields_map_to_identifier_and_description(tmp_path, monkeypatch):
    """study_instance_uid and study_description (optional tohtrack/1 fields) go to the DICOM identifier and
    the description, and are read back from there when the model has them."""
    original = interchange.patient_to_dict

    def with_uid(patient):
        out = original(patient)
        out["episodes"][0]["imaging"][0].update(study_instance_uid="1.2.840.113619.2.55.3", study_description="MR hip")
        return out

    with Store(tmp_path / "a.sqlite3") as a:
        interchange.import_document(a, minimal_document(), today=TODAY)
        monkeypatch.setattr(interchange, "patient_to_dict", with_uid)
        bundle = bundle_of(a)
    study = resources(bundle, "ImagingStudy")[0]
    assert {"system": "urn:dicom:uid", "value": "urn:oid:1.2.840.113619.2.55.3"} in study["identifier"]
    assert study["description"] == "MR hip"
    assert fhir.EXT_FIELD not in json.dumps(bundle)
    validate(bundle)
    monkeypatch.setattr(model, "IMAGING_KEYS", tuple(dict.fromkeys(
        model.IMAGING_KEYS + ("study_instance_uid", "study_description"))))
    reader = fhir._Reader(bundle, fhir.DEFAULT_FHIR_MRN_SYSTEM)
    doc = reader.read()
    imaging = doc["patients"][0]["episodes"][0]["imaging"][0]
    assert imaging["study_instance_uid"] == "1.2.840.113619.2.55.3" and imaging["study_description"] == "MR hip"


def test_a_field_without_an_element_travels_in_the_generic_extension(tmp_path, monkeypatch):
    original = interchange.patient_to_dict

    def newer(patient):
        out = original(patient)
        out["episodes"][0]["symptoms"][0]["sleep_disturbed"] = {"nights": [1, 2]}
        return out

    with Store(tmp_path / "a.sqlite3") as a, Store(tmp_path / "b.sqlite3") as b:
        interchange.import_document(a, minimal_document(), today=TODAY)
        monkeypatch.setattr(interchange, "patient_to_dict", newer)
        bundle = bundle_of(a)
        validate(bundle)
        reader = fhir._Reader(bundle, fhir.DEFAULT_FHIR_MRN_SYSTEM)
        symptom = reader.read()["patients"][0]["episodes"][0]["symptoms"][0]
        assert symptom["sleep_disturbed"] == {"nights": [1, 2]}
        with pytest.raises(ValidationError) as err:  # this version's model does not know the field
            fhir.import_bundle(b, bundle, today=TODAY)
        assert "extension" in err.value.problems[0].path and "sleep_disturbed" in str(err.value)


# ---------------------------------------------------------------------------
# De-identification
# ---------------------------------------------------------------------------


def test_deidentified_bundle_holds_no_identity_dates_or_free_text(tmp_path):
    doc = full_document()
    with Store(tmp_path / "a.sqlite3") as a:
        interchange.import_document(a, doc, today=TODAY)
        bundle = json.loads(fhir.dumps(bundle_of(a, deidentify=True)))
    validate(bundle)
    _check_codes(bundle)
    text = json.dumps(bundle, ensure_ascii=False)
    for secret in ("T-1", "Rossi", "Marco", "1976", "Weiß", "Third trimester", "ACC-77", "Diffuse", "Limping",
                   "Crutches", "Zoledronate", "own scale", "08:40", "2025-"):
        assert secret not in text, secret
    (patient,) = resources(bundle, "Patient")
    assert "name" not in patient and "birthDate" not in patient
    assert re.fullmatch(r"R-[A-Z2-9]{8}", patient["identifier"][0]["value"])
    assert patient["extension"] == [{"url": fhir.EXT_AGE_BAND, "valueString": "45–49 years"}]  # at first onset
    first, second = resources(bundle, "Condition")
    assert first["onsetDateTime"] == "2000-01-01"
    # intervals kept to the day: 2025-01-10 -> 2025-09-01 is 234 days, -> 2025-10-01 264 days
    assert first["abatementDateTime"] == (dt.date(2000, 1, 1) + dt.timedelta(days=234)).isoformat()
    assert second["onsetDateTime"] == (dt.date(2000, 1, 1) + dt.timedelta(days=264)).isoformat()
    assert "Harris Hip Score" in text  # a known instrument name is kept, as in the report
    assert all("text" not in f["code"] for f in resources(bundle, "Flag"))
    assert bundle["meta"]["tag"][0]["code"] == "deidentified"


def test_a_deidentified_bundle_is_not_imported(tmp_path, vignettes, capsys):
    db = tmp_path / "a.sqlite3"
    with Store(db) as a:
        interchange.import_document(a, vignettes, today=TODAY)
    out = tmp_path / "deid.json"
    assert main(["--db", str(db), "export", "--format", "fhir", "--deidentify", "-o", str(out)]) == 0
    assert main(["--db", str(tmp_path / "b.sqlite3"), "import", str(out)]) == 2
    assert "meta.tag: this bundle is de-identified" in capsys.readouterr().err
    with Store(tmp_path / "b.sqlite3") as b:
        assert counts(b)["patients"] == 0


# ---------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------


def test_cli_export_then_import_into_an_empty_database(tmp_path, vignettes_path, capsys, db_target):
    a, b = db_target, tmp_path / "b.sqlite3"
    assert main(["--db", str(a), "import", str(vignettes_path)]) == 0
    out = tmp_path / "bundle.json"
    assert main(["--db", str(a), "export", "--format", "fhir", "--fhir-transaction", "-o", str(out)]) == 0
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert json.loads(out.read_text())["type"] == "transaction"
    capsys.readouterr()
    assert main(["--db", str(b), "import", str(out)]) == 0
    captured = capsys.readouterr()
    assert "imported 6 patients, 9 episodes, 24 findings from the FHIR bundle" in captured.out
    assert "Flag" in captured.err and "works the flags out" in captured.err
    assert main(["--db", str(a), "export", "-o", str(tmp_path / "a.json")]) == 0
    assert main(["--db", str(b), "export", "-o", str(tmp_path / "b.json")]) == 0
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    assert main(["--db", str(b), "import", str(out)]) == 2  # the same MRNs again: refused, named
    assert "entry[0].resource.identifier[0].value" in capsys.readouterr().err


def test_cli_export_to_stdout_and_option_rules(tmp_path, vignettes_path, capsys):
    db = tmp_path / "a.sqlite3"
    assert main(["--db", str(db), "import", str(vignettes_path)]) == 0
    capsys.readouterr()
    assert main(["--db", str(db), "export", "--format", "fhir", "--patient", "EX-02", "-o", "-"]) == 0
    bundle = json.loads(capsys.readouterr().out)
    assert [r["identifier"][0]["value"] for r in resources(bundle, "Patient")] == ["EX-02"]
    assert main(["--db", str(db), "export", "--deidentify", "-o", str(tmp_path / "x.json")]) == 2
    assert main(["--db", str(db), "export", "--fhir-transaction", "-o", str(tmp_path / "x.json")]) == 2
    assert "go with --format fhir" in capsys.readouterr().err
    assert not (tmp_path / "x.json").exists()
    assert main(["--db", str(db), "export", "--format", "fhir", "--patient", "NOPE", "-o", str(tmp_path / "x.json")]) == 2
    assert not (tmp_path / "x.json").exists()


def test_the_clinics_mrn_system_is_a_setting(tmp_path, vignettes_path, capsys):
    a, b = tmp_path / "a.sqlite3", tmp_path / "b.sqlite3"
    assert main(["--db", str(a), "import", str(vignettes_path)]) == 0
    assert main(["--db", str(a), "settings", "fhir_mrn_system", "urn:oid:1.2.3.4"]) == 0
    assert main(["--db", str(a), "settings", "fhir_mrn_system", "not a uri"]) == 2
    out = tmp_path / "bundle.json"
    assert main(["--db", str(a), "export", "--format", "fhir", "-o", str(out)]) == 0
    patient = resources(json.loads(out.read_text()), "Patient")[0]
    assert patient["identifier"][0]["system"] == "urn:oid:1.2.3.4"
    # Another clinic's database reads the MRN by its type MR when the system is not its own.
    capsys.readouterr()
    assert main(["--db", str(b), "import", str(out)]) == 0
    with Store(b) as store:
        assert counts(store)["patients"] == 6


# ---------------------------------------------------------------------------
# Telling the formats apart
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ('{"format": "tohtrack/1", "patients": []}', False),
    ('\ufeff  {"resourceType": "Bundle", "type": "collection"}', True),
    ('{"type": "collection", "resourceType": "Bundle"}', True),
    ('{"patients": [{"notes": "\\"resourceType\\": \\"Bundle\\""}], "format": "tohtrack/1"}', False),
    ('{"resourceType": "Patient"}', True),  # FHIR, then refused as not a Bundle
    ("[1, 2]", False),
    ("not json", False),
    ("", False),
])
def test_format_is_told_by_content(tmp_path, text, expected):
    path = tmp_path / "f.json"
    path.write_text(text, encoding="utf-8")
    assert fhir.is_bundle(path) is expected


# ---------------------------------------------------------------------------
# Bundles from other systems, and hostile ones
# ---------------------------------------------------------------------------


def foreign_bundle():
    return {
        "resourceType": "Bundle", "type": "searchset",
        "entry": [
            {"fullUrl": "https://ehr.example/fhir/Patient/p1", "resource": {
                "resourceType": "Patient", "id": "p1",
                "identifier": [{"system": "urn:oid:2.16.840.1.113883.4.1", "value": "123-45-6789"},
                               {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                     "code": "MR"}]},
                                "system": "https://ehr.example/mrn", "value": "H-777"}],
                "name": [{"use": "nickname", "given": ["Nino"]},
                         {"use": "official", "family": "Esposito", "given": ["Giovanni", "Maria"]}],
                "gender": "male", "birthDate": "1969-11-30"}},
            {"resource": {"resourceType": "Patient", "id": "p2", "name": [{"family": "Nobody"}]}},
            {"resource": {"resourceType": "Encounter", "id": "e1", "status": "finished"}},
            {"resource": {"resourceType": "Condition", "subject": {"reference": "Patient/p1"},
                          "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003"}]}}},
            {"resource": {"resourceType": "Observation", "status": "final", "subject": {"reference": "Patient/p1"},
                          "code": {"coding": [{"system": "http://loinc.org", "code": "72514-3"}]},
                          "valueQuantity": {"value": 4}}},
        ]}


def test_a_bundle_from_another_system_gives_its_patients_and_says_what_was_skipped(tmp_path, capsys):
    path = tmp_path / "ehr.json"
    path.write_text(json.dumps(foreign_bundle()))
    db = tmp_path / "a.sqlite3"
    assert main(["--db", str(db), "import", str(path)]) == 0
    captured = capsys.readouterr()
    assert "imported 1 patients, 0 episodes, 0 findings" in captured.out and "(4 entries skipped)" in captured.out
    assert "skipped 1 Patient (entry[1]): no MRN" in captured.err
    assert "skipped 1 Encounter (entry[2]): not a kind of record TOHtrack keeps" in captured.err
    assert "skipped 1 Condition (entry[3])" in captured.err and "skipped 1 Observation (entry[4])" in captured.err
    with Store(db) as store:
        patient = store.patient_by_mrn("H-777")
        assert (patient.family_name, patient.given_name, patient.sex) == ("Esposito", "Giovanni Maria", "male")
        assert patient.birth_date == dt.date(1969, 11, 30) and patient.episodes == []


def _entry_of(bundle, kind, n=0):
    return [i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == kind][n]


def _problems(bundle, tmp_path, name):
    with Store(tmp_path / f"{name}.sqlite3") as b:
        with pytest.raises(ValidationError) as err:
            fhir.import_bundle(b, bundle, today=TODAY)
        assert counts(b)["patients"] == 0
    return [str(problem) for problem in err.value.problems]


def test_problems_are_named_by_their_place_in_the_bundle(tmp_path):
    original = _FUZZ_BUNDLE()
    c, s, p = (_entry_of(original, kind) for kind in ("Condition", "ImagingStudy", "Patient"))
    edema = next(i for i, e in enumerate(original["entry"])
                 if e["resource"].get("code", {}).get("coding", [{}])[0].get("code") == "bone_marrow_edema")
    # Shapes first (as in tohtrack/1: a record that cannot be read is not checked further) ...
    bundle = copy.deepcopy(original)
    bundle["entry"][c]["resource"]["onsetDateTime"] = "2025-13-01"
    bundle["entry"][s]["resource"]["started"] = 20250201
    messages = _problems(bundle, tmp_path, "shapes")
    assert messages == [f"entry[{c}].resource.onsetDateTime: '2025-13-01' is not a real calendar date",
                        f"entry[{s}].resource.started: 20250201 is not a date (expected YYYY-MM-DD)"]
    # ... then the rules, every problem at once.
    bundle = copy.deepcopy(original)
    bundle["entry"][p]["resource"]["gender"] = "mle"
    bundle["entry"][edema]["resource"]["component"][0]["valueQuantity"]["value"] = 140
    bundle["entry"][edema]["resource"]["component"][2]["valueCodeableConcept"]["coding"][0]["code"] = "femur"
    bundle["entry"][c]["resource"]["abatementDateTime"] = "2024-01-01"
    messages = _problems(bundle, tmp_path, "rules")
    assert any(m.startswith(f"entry[{p}].resource.gender: 'mle' is not a known code") for m in messages)
    assert f"entry[{edema}].resource.component[0].valueQuantity.value: 140 is outside 0–100" in messages
    assert any(m.startswith(f"entry[{edema}].resource.component[2].valueCodeableConcept: 'femur' is not ")
               for m in messages)
    assert (f"entry[{c}].resource.abatementDateTime: 2024-01-01 is before the symptom onset 2025-01-10"
            in messages)
    assert len(messages) == 4


@pytest.mark.parametrize("raw, expected", [
    ('{"resourceType": 7, "id": "x"}', "resourceType: 7 is not a FHIR resource type"),
    ('{"resourceType": "Patient", "identifier": [{"type": {"coding": [{"system": '
     '"http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}, "value": "X-1"}], "name": [{"family": "A", '
     '"given": ["B"]}], "gender": "male", "birthDate": "1970-02-30"}', "Patient.birthDate: '1970-02-30' is not"),
    ('{"resourceType": "Bundle", "entry": {"a": 1}}', "entry: "),
    ('{"resourceType": "Bundle", "entry": [1, "x", null, []]}', "entry[3]: a list is not an entry"),
    ('{"resourceType": "Bundle", "entry": [[[[]]], {"resource": {"resourceType": "Patient", "identifier": [{"type": '
     '{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}, "value": "X-1"}], '
     '"name": [{"family": "A"}], "gender": "male", "birthDate": ' + "[" * 900 + "]" * 900 + "}}]}",
     "entry[1].resource.birthDate: "),
    ('{"resourceType": "Bundle", "entry": [' + "[" * 990 + "]" * 990 + "]}", "not valid JSON: maximum recursion"),
    ('{"resourceType": "Bundle", "entry": [{"resource": {"id": 1}}]}', "entry[0].resource: is missing"),
    ('{"resourceType": "Bundle", "resourceType": "Bundle"}', "appears twice"),
    ('{"resourceType": "Bundle", "entry": [' + "[" * 50000 + "]" * 50000 + "]}", "not valid JSON"),
    ('{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "identifier": '
     '[{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}, '
     '"value": ["x"]}], "name": "Rossi", "birthDate": {"y": 1}, "gender": 3, "active": "no"}}]}',
     "entry[0].resource.identifier[0].value: "),
])
def test_hostile_bundles_are_refused_with_a_message(tmp_path, raw, expected, capsys):
    path = tmp_path / "bad.json"
    path.write_text(raw)
    db = tmp_path / "a.sqlite3"
    assert main(["--db", str(db), "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err and "nothing was written" in err
    with Store(db) as store:
        assert counts(store)["patients"] == 0


def test_unknown_and_odd_resources_are_skipped_cleanly(tmp_path):
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {"resource": {"resourceType": "Basic"}},
        {"resource": {"resourceType": "NoSuchThing", "x": [[[]]]}},
        {"request": {"method": "DELETE", "url": "Patient/1"}},
        {"resource": {"resourceType": "Condition", "subject": {"reference": 7}, "code": "x"}},
        {"resource": {"resourceType": "ImagingStudy", "reasonReference": "nowhere"}},
        {"resource": {"resourceType": "Observation", "derivedFrom": [{"reference": None}]}},
        {"resource": {"resourceType": "Flag", "code": {"coding": [{"system": fhir.CS_FLAG, "code": "MIGRATION"}]}}},
    ]}
    with Store(tmp_path / "a.sqlite3") as store:
        patients, skipped = fhir.import_bundle(store, bundle, today=TODAY)
    assert patients == [] and len(skipped) == 7
    assert [s.what for s in skipped][0] == "entry"  # the DELETE request, noted first
    assert fhir.skipped_summary(skipped)


def test_a_huge_file_is_refused_before_it_is_read(tmp_path, monkeypatch, capsys):
    path = tmp_path / "big.json"
    path.write_text('{"resourceType": "Bundle", "entry": []}' + " " * 5000)
    monkeypatch.setattr(fhir, "MAX_BUNDLE_BYTES", 1000)
    assert main(["--db", str(tmp_path / "a.sqlite3"), "import", str(path)]) == 2
    assert "a bundle of at most 0 MB is imported" in capsys.readouterr().err


@settings(max_examples=max(EXAMPLES, 60), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damaged_bundle_is_refused_whole_or_imported_whole(tmp_path_factory, data):
    """Any element of a real bundle replaced by any JSON value: imported whole, or refused naming a place, with
    nothing written; never another error."""
    bundle = _FUZZ_BUNDLE()
    paths = [p for p in _paths(bundle) if p]
    leaves = (st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False)
              | st.text(max_size=8) | st.sampled_from(["2025-02-30", "2031-01-01", "urn:uuid:0", "Patient", "MR"])
              | st.lists(st.integers(), max_size=2) | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        target = bundle
        try:
            for key in path[:-1]:
                target = target[key]
            if data.draw(st.booleans()) and isinstance(target, dict):
                del target[path[-1]]
            else:
                target[path[-1]] = data.draw(leaves)
        except (KeyError, IndexError, TypeError):
            continue
    with Store(tmp_path_factory.mktemp("f") / "f.sqlite3") as store:
        try:
            patients, skipped = fhir.import_bundle(store, bundle, today=TODAY)
        except ValidationError as exc:
            assert exc.problems and all(str(p) for p in exc.problems)
            assert not [p for p in exc.problems if p.path.startswith("patients")]  # named in bundle terms
            assert counts(store)["patients"] == 0
        else:
            assert counts(store)["patients"] == len(patients)
            assert store.check() == []


_CACHE = {}


def _FUZZ_BUNDLE():
    if "bundle" not in _CACHE:
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "x.sqlite3") as store:
            interchange.import_document(store, full_document(), today=TODAY)
            _CACHE["bundle"] = json.loads(fhir.dumps(bundle_of(store)))
    return copy.deepcopy(_CACHE["bundle"])


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, prefix + (i,))


def test_mrn_system_setting_rules():
    from tohtrack import settings as settings_mod

    assert settings_mod.parse("fhir_mrn_system", " urn:oid:2.16.840.1 ") == "urn:oid:2.16.840.1"
    assert settings_mod.parse("fhir_mrn_system", "https://hospital.example/mrn") == "https://hospital.example/mrn"
    for bad, fragment in (("hospital mrn", "not an absolute URI"), ("", "not an absolute URI"),
                          ("https://x/" + "a" * 300, "at most 255"), ("urn:a\u00e9", "not an absolute URI")):
        with pytest.raises(ValidationError, match=fragment):
            settings_mod.parse("fhir_mrn_system", bad)


# ---------------------------------------------------------------------------
# Bundles as other systems write them (review of issue 19)
# ---------------------------------------------------------------------------

_MR_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}]}


def _hospital_patient(pid, mrn, **fields):
    return {"resourceType": "Patient", "id": pid,
            "identifier": [{"system": "http://hl7.org/fhir/sid/us-ssn", "value": "123-45-6789"},
                           {"type": _MR_TYPE, "system": "https://hospital.example/mrn", "value": mrn}],
            "name": [{"use": "usual", "given": ["Bob"]},
                     {"prefix": ["Dr."], "family": "Smith", "given": ["Robert", "James"], "suffix": ["Jr"]}],
            "gender": "male", "birthDate": "1970-02-03", **fields}


def _import_cli(tmp_path, document, capsys, name="in.json"):
    path = tmp_path / name
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    db = tmp_path / f"{name}.sqlite3"
    code = main(["--db", str(db), "import", str(path)])
    return code, capsys.readouterr(), db


def test_a_searchset_with_partial_birth_dates_and_no_gender_imports_what_maps(tmp_path, capsys):
    """Valid FHIR that TOHtrack cannot keep whole (a partial or missing birth date, no family name) skips that
    Patient with its reason; an absent gender is FHIR's 'unknown'; several identifiers and names are read right."""
    patients = [
        _hospital_patient("1", "X-1"),
        _hospital_patient("2", "X-2", birthDate="1970"),
        _hospital_patient("3", "X-3", birthDate="1970-05"),
        {k: v for k, v in _hospital_patient("4", "X-4").items() if k != "gender"},
        {k: v for k, v in _hospital_patient("5", "X-5").items() if k != "birthDate"},
        _hospital_patient("6", "X-6", name=[{"text": "Cher"}]),
        {"resourceType": "Condition", "id": "c1", "subject": {"reference": "Patient/1"},
         "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003"}]}},
        {"resourceType": "OperationOutcome", "issue": [{"severity": "information", "code": "informational"}]},
    ]
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": 6, "entry": [
        {"fullUrl": f"https://hospital.example/fhir/{r['resourceType']}/{r.get('id', 'x')}", "resource": r,
         "search": {"mode": "match" if r["resourceType"] == "Patient" else "include"}} for r in patients]}
    code, out, db = _import_cli(tmp_path, bundle, capsys)
    assert code == 0, out.err
    assert "imported 2 patients" in out.out and "(6 entries skipped)" in out.out
    assert "skipped 1 Patient (entry[1]): its birth date is partial (1970); TOHtrack needs the full date" in out.err
    assert "skipped 1 Patient (entry[2]): its birth date is partial (1970-05)" in out.err
    assert "skipped 1 Patient (entry[4]): its birth date is missing" in out.err
    assert "skipped 1 Patient (entry[5]): no family name" in out.err
    assert "skipped 1 Condition (entry[6])" in out.err and "skipped 1 OperationOutcome (entry[7])" in out.err
    with Store(db) as store:
        first, fourth = store.patient_by_mrn("X-1"), store.patient_by_mrn("X-4")
        assert (first.family_name, first.given_name, first.sex) == ("Smith", "Robert James", "male")
        assert fourth.sex == "unknown" and counts(store)["patients"] == 2


def test_a_single_resource_is_read_as_a_bundle_of_one(tmp_path, capsys):
    code, out, db = _import_cli(tmp_path, _hospital_patient("1", "X-1"), capsys)
    assert code == 0, out.err
    assert "imported 1 patients" in out.out
    with Store(db) as store:
        assert store.patient_by_mrn("X-1").birth_date == dt.date(1970, 2, 3)
    # its problems are named FHIRPath-style, from the resource type
    code, out, db = _import_cli(tmp_path, _hospital_patient("1", "X-1", gender="mle"), capsys, "bad.json")
    assert code == 2 and "Patient.gender: 'mle' is not a known code" in out.err
    code, out, db = _import_cli(tmp_path, {"resourceType": "Encounter", "status": "finished"}, capsys, "e.json")
    assert code == 0 and "skipped 1 Encounter (Encounter): not a kind of record TOHtrack keeps" in out.err


def test_a_transaction_response_is_skipped_entry_by_entry(tmp_path, capsys):
    bundle = {"resourceType": "Bundle", "type": "transaction-response", "entry": [
        {"response": {"status": "201 Created", "location": "Patient/9/_history/1"}},
        {"response": {"status": "201 Created", "location": "Condition/10/_history/1"}}]}
    code, out, db = _import_cli(tmp_path, bundle, capsys)
    assert code == 0, out.err
    assert "skipped 2 entry (entry[0], entry[1]): a server's response to a request, not a record" in out.err
    assert "imported 0 patients" in out.out


def test_a_repeated_full_url_is_refused(tmp_path, vignettes, capsys):
    """Two entries with one fullUrl (FHIR's bdl-7) would make every reference to it ambiguous."""
    with Store(tmp_path / "a.sqlite3") as a:
        interchange.import_document(a, vignettes, today=TODAY)
        bundle = json.loads(fhir.dumps(bundle_of(a)))
    second = _entry_of(bundle, "Patient", 1)
    bundle["entry"][second]["fullUrl"] = bundle["entry"][0]["fullUrl"]
    code, out, db = _import_cli(tmp_path, bundle, capsys)
    assert code == 2
    assert f"entry[{second}].fullUrl: '{bundle['entry'][0]['fullUrl']}' is also the fullUrl of entry[0]" in out.err
    with Store(db) as store:
        assert counts(store)["patients"] == 0


def _as_server_writes_it(bundle):
    """The bundle with server ids: absolute fullUrls and relative references ('Patient/7'), as a FHIR server
    returns it from a search."""
    ids = {}
    for n, entry in enumerate(bundle["entry"]):
        kind = entry["resource"]["resourceType"]
        ids[entry["fullUrl"]] = f"{kind}/{n + 100}"
        entry["resource"]["id"] = str(n + 100)
    text = json.dumps(bundle)
    for old, new in ids.items():
        text = text.replace(f'"reference":"{old}"', f'"reference":"{new}"').replace(
            f'"reference": "{old}"', f'"reference": "{new}"')
    out = json.loads(text)
    for entry in out["entry"]:
        entry["fullUrl"] = f"https://hospital.example/fhir/{ids[entry['fullUrl']]}"
    out["type"] = "searchset"
    return out


def test_relative_references_round_trip_exactly(tmp_path, vignettes):
    with Store(tmp_path / "a.sqlite3") as a, Store(tmp_path / "b.sqlite3") as b:
        interchange.import_document(a, vignettes, today=TODAY)
        bundle = _as_server_writes_it(json.loads(fhir.dumps(bundle_of(a))))
        assert "urn:uuid" not in json.dumps(bundle)
        fhir.import_bundle(b, bundle, today=TODAY)
        assert tohtrack_json(b) == tohtrack_json(a)


def test_the_parsed_bundle_is_freed_before_the_import_proper(tmp_path, monkeypatch):
    """A bundle's parsed JSON is about six times its size in memory; it is let go once read into a document,
    so the import proper (checks and writing) does not hold it too (a 66 MB, 200 000-entry bundle: 1.27 GB
    peak before, 0.93 GB after)."""
    import tracemalloc

    with Store(tmp_path / "a.sqlite3") as a:
        a.add_patients(list(demo.generate(60, seed=7)), validate=False)
        path = tmp_path / "cohort.fhir.json"
        fhir.write(path, fhir.dumps(bundle_of(a)))
    held = []
    original = interchange.import_document

    def spy(store, doc, today=None):
        held.append(tracemalloc.get_traced_memory()[0])
        return original(store, doc, today)

    monkeypatch.setattr(interchange, "import_document", spy)
    with Store(tmp_path / "b.sqlite3") as b:
        tracemalloc.start()
        try:
            start = tracemalloc.get_traced_memory()[0]
            fhir.import_file(b, path)
        finally:
            tracemalloc.stop()
        assert counts(b)["patients"] == 60
    assert (held[0] - start) < 2.5 * os.path.getsize(path)


def test_each_skipped_record_says_why(tmp_path, vignettes, capsys):
    """A skipped record names its reason: coded in another system, or which link leads nowhere imported."""
    with Store(tmp_path / "a.sqlite3") as a:
        interchange.import_document(a, vignettes, today=TODAY)
        bundle = json.loads(fhir.dumps(bundle_of(a)))
    condition = _entry_of(bundle, "Condition")
    bundle["entry"][condition]["resource"]["subject"] = {"reference": bundle["entry"][condition]["fullUrl"]}
    bundle["entry"].append({"fullUrl": "urn:uuid:5a1e0000-0000-4000-8000-000000000001", "resource": {
        "resourceType": "Condition", "subject": {"reference": "Patient/elsewhere"},
        "code": {"coding": [{"system": fhir.CS_DIAGNOSIS, "code": "transient_osteoporosis"}]}}})
    bundle["entry"].append({"resource": {"resourceType": "Observation", "status": "final",
                                         "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}}})
    code, out, db = _import_cli(tmp_path, bundle, capsys)
    assert code == 0, out.err
    n = len(bundle["entry"])
    assert f"skipped 1 Condition (entry[{condition}]): its subject points to a Condition, not a Patient" in out.err
    assert f"skipped 1 Condition (entry[{n - 2}]): its subject reference is not an entry of this bundle" in out.err
    assert "ImagingStudy" in out.err and "its reasonReference points to a Condition that was skipped" in out.err
    assert "its derivedFrom points to an ImagingStudy that was skipped" in out.err
    assert (f"skipped 1 Observation (entry[{n - 1}]): an observation TOHtrack does not keep (not coded in "
            "TOHtrack's observation code system)") in out.err
    assert "not linked to a TOHtrack patient or episode" not in out.err


def _readme_fhir_section():
    text = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## FHIR R4\n")
    return text[start:text.index("\n## ", start + 5)]


def test_every_code_written_is_in_the_readme_table_with_its_display(tmp_path):
    """Each standard code written (SNOMED CT, LOINC, DICOM, HL7 terminology, UCUM) appears in the README's code
    table with its display, every code system and extension URL written is documented there, and each row of
    the table names where its codes were confirmed."""
    readme = _readme_fhir_section()
    doc = json.loads(json.dumps(full_document()))
    for joint in ("hip", "knee", "ankle", "foot", "shoulder", "elbow", "wrist", "hand"):
        for n, side in enumerate(("left", "right")):
            onset = f"20{10 + n}-0{1 + len(joint) % 9}-01"
            doc["patients"].append({"mrn": f"J-{joint}-{side}", "family_name": "J", "given_name": "",
                                    "birth_date": "1960-01-01", "sex": "female", "episodes": [
                                        {"site": f"{joint}_{side}", "symptom_onset": onset, "imaging": [
                                            {"date": onset, "modality": "MRI",
                                             "edema_regions": list(model.EDEMA_REGIONS_BY_JOINT[joint])}]}]})
    with Store(tmp_path / "a.sqlite3") as a:
        interchange.import_document(a, doc, today=TODAY)
        bundles = [json.loads(fhir.dumps(bundle_of(a, **o))) for o in ({}, {"transaction": True},
                                                                         {"deidentify": True})]
    written = set()
    for bundle in bundles:
        validate(bundle)
        _check_codes(bundle)
        for resource in resources(bundle):
            for coding in _codings(resource):
                written.add((coding["system"], coding["code"], coding.get("display")))
            for ext in re.findall(r'"url": "([^"]+)"', json.dumps(resource)):
                if ext.startswith("http"):
                    written.add((ext, None, None))
    assert {code for system, code, _ in written if system == fhir.SNOMED} == set(SNOMED_CONFIRMED)
    table = readme[readme.index("| what | system | codes | confirmed in |"):]
    table = table[:table.index("\n\n")]
    for system, code, display in written:
        if system in (fhir.SNOMED, fhir.LOINC, fhir.DCM):
            assert f"{code} {display}" in table, (system, code, display)
        elif system.startswith("http://terminology.hl7.org/CodeSystem/"):
            assert system.rsplit("/", 1)[1] in table and code in table, (system, code)
        elif system.startswith(fhir.CODES):
            assert system.rsplit("/", 1)[1] in table, system
        elif system.startswith(fhir.EXTENSION):
            assert system.rsplit("/", 1)[1] in readme, system
        elif system == fhir.UCUM:
            assert f"`{code}`" in readme, code
        elif system.startswith("http://hl7.org/fhir/"):
            assert system in readme, system
    for row in table.splitlines()[2:]:
        assert row.count("|") >= 5 and row.rstrip(" |").rsplit("|", 1)[1].strip(), row  # a source named


@pytest.mark.parametrize("given, family, expected", [
    (["Anna", "Ma\u200bria"], "Rossi",
     "Patient.name[0].given[1]: contains an invisible formatting character (U+200B ZERO WIDTH SPACE) at position 3"),
    (["Anna"], "Ros\u202esi",
     "Patient.name[0].family: contains an invisible formatting character (U+202E RIGHT-TO-LEFT OVERRIDE)"),
    (["An\u0007na", "Maria"], "Rossi", "Patient.name[0].given[0]: contains a control character (U+0007)"),
    (["Anna", "Maria\nX"], "Rossi", "Patient.name[0].given[1]: contains a line break"),
])
def test_the_character_rules_name_the_fhir_path(tmp_path, capsys, given, family, expected):
    patient = _hospital_patient("1", "X-1", name=[{"family": family, "given": given}])
    code, out, db = _import_cli(tmp_path, patient, capsys)
    assert code == 2 and expected in out.err, out.err
    assert out.err.count("\n  ") == 1  # one problem, named once
    with Store(db) as store:
        assert counts(store)["patients"] == 0


def test_deidentified_patients_are_ordered_by_their_random_ids_not_by_mrn(tmp_path, vignettes):
    """The order of MRNs (often that of registration) does not show through a de-identified bundle, and no two
    patients share a random id."""
    with Store(tmp_path / "a.sqlite3") as a:
        interchange.import_document(a, vignettes, today=TODAY)
        a.add_patients(list(demo.generate(40, seed=3)), validate=False)
        orders = set()
        for _ in range(3):
            bundle = bundle_of(a, deidentify=True)
            ids = [p["identifier"][0]["value"] for p in resources(bundle, "Patient")]
            assert ids == sorted(ids) and len(set(ids)) == len(ids) == 46
            onsets = tuple(c["abatementDateTime"] if "abatementDateTime" in c else c["onsetDateTime"]
                           for c in resources(bundle, "Condition"))
            orders.add(onsets)
        assert len(orders) > 1  # a new order each time
        text = json.dumps(bundle, ensure_ascii=False)
        for patient in json.loads(tohtrack_json(a))["patients"]:
            assert patient["mrn"] not in text and patient["birth_date"] not in text
            assert len(patient["family_name"]) < 5 or patient["family_name"] not in text


def test_a_history_bundle_is_refused_by_its_type(tmp_path, capsys):
    """A history bundle repeats a record's fullUrl once per version (allowed there by FHIR's bdl-7): it is
    refused by its type, with a message saying what to send instead, rather than as repeated fullUrls."""
    patient = _hospital_patient("1", "X-1")
    bundle = {"resourceType": "Bundle", "type": "history", "entry": [
        {"fullUrl": "https://hospital.example/fhir/Patient/1", "resource": dict(patient, meta={"versionId": v}),
         "request": {"method": "PUT", "url": "Patient/1"}, "response": {"status": "200"}} for v in ("2", "1")]}
    code, out, db = _import_cli(tmp_path, bundle, capsys)
    assert code == 2 and "type: a history bundle holds past versions of records" in out.err
    assert "fullUrl" not in out.err


@pytest.mark.parametrize("prefix", ["", "\ufeff \n\t"])
def test_standard_input_is_told_by_content_too(tmp_path, vignettes, capsys, monkeypatch, prefix):
    """`tohtrack import -` takes a FHIR bundle as it takes a file (BOM and white space first included), and a
    tohtrack/1 document still streams through."""
    import io

    with Store(tmp_path / "a.sqlite3") as a:
        interchange.import_document(a, vignettes, today=TODAY)
        bundle_text = fhir.dumps(bundle_of(a))
        expected = tohtrack_json(a)
    for n, text in enumerate((prefix + bundle_text, prefix + expected)):
        db = tmp_path / f"in{n}.sqlite3"
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))
        assert main(["--db", str(db), "import", "-"]) == 0, capsys.readouterr().err
        out = capsys.readouterr().out
        assert ("from the FHIR bundle standard input" in out) == (n == 0), out
        with Store(db) as store:
            assert tohtrack_json(store) == expected
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b'{"resourceType": "Bundle", "entry": [7]}')))
    assert main(["--db", str(tmp_path / "bad.sqlite3"), "import", "-"]) == 2
    assert "entry[0]: 7 is not an entry" in capsys.readouterr().err
    assert not (tmp_path / "bad.sqlite3").exists()


def test_a_bundle_with_long_elements_before_its_resource_types_is_told_by_content(tmp_path, vignettes, capsys):
    with Store(tmp_path / "a.sqlite3") as a:
        interchange.import_document(a, vignettes, today=TODAY)
        bundle = json.loads(fhir.dumps(bundle_of(a)))
        expected = tohtrack_json(a)
    kind = bundle.pop("resourceType")
    bundle = {"link": [{"relation": "self", "url": "https://hospital.example/fhir/Patient?_id=" + "1," * 20000}],
              **bundle, "resourceType": kind}
    code, out, db = _import_cli(tmp_path, bundle, capsys)
    assert code == 0, out.err
    assert "from the FHIR bundle" in out.out
    with Store(db) as store:
        assert tohtrack_json(store) == expected


def test_the_current_mrn_is_taken_before_an_old_one(tmp_path, capsys):
    patient = _hospital_patient("1", "X-NEW")
    patient["identifier"].insert(0, {"use": "old", "type": _MR_TYPE, "system": "https://hospital.example/mrn",
                                     "value": "X-OLD"})
    code, out, db = _import_cli(tmp_path, patient, capsys)
    assert code == 0, out.err
    with Store(db) as store:
        assert store.patient_by_mrn("X-NEW").family_name == "Smith" and counts(store)["patients"] == 1


def _same_but_ids_and_time(text):
    import re

    return re.sub(r"urn:uuid:[0-9a-f-]+", "U", re.sub(r'"timestamp": "[^"]*"', "T", text))


@pytest.mark.parametrize("options", [{}, {"deidentify": True}, {"transaction": True}])
def test_the_streamed_bundle_is_the_whole_bundle_text(tmp_path, vignettes, options):
    with Store(tmp_path / "a.sqlite3") as store:
        interchange.import_document(store, vignettes, today=TODAY)
        for mrns in (None, ["EX-03", "ex-01", "EX-03"]):
            whole = fhir.dumps(fhir.export_bundle(store, mrns, fhir.ExportOptions(today=TODAY, **options)))
            streamed = "".join(fhir.export_chunks(store, mrns, fhir.ExportOptions(today=TODAY, **options)))
            if options.get("deidentify"):  # random ids and per-patient shifts aside, the same resources in order
                assert [len(line) > 0 for line in whole.splitlines()] == [len(l) > 0 for l in streamed.splitlines()]
                assert json.loads(streamed)["meta"] == json.loads(whole)["meta"]
            else:
                assert _same_but_ids_and_time(streamed) == _same_but_ids_and_time(whole)
            urls = [e["fullUrl"] for e in json.loads(streamed)["entry"]]
            assert len(urls) == len(set(urls))
    with Store(tmp_path / "empty.sqlite3") as empty:
        streamed = "".join(fhir.export_chunks(empty, None, fhir.ExportOptions(today=TODAY)))
        assert _same_but_ids_and_time(streamed) == _same_but_ids_and_time(
            fhir.dumps(fhir.export_bundle(empty, None, fhir.ExportOptions(today=TODAY))))
        assert "entry" not in json.loads(streamed)


def test_the_streamed_bundle_refuses_an_unknown_patient_before_any_text(tmp_path, vignettes):
    with Store(tmp_path / "a.sqlite3") as store:
        interchange.import_document(store, vignettes, today=TODAY)
        chunks = fhir.export_chunks(store, ["EX-01", "NOPE"], fhir.ExportOptions(today=TODAY))
        with pytest.raises(Exception, match="NOPE"):
            next(chunks)
