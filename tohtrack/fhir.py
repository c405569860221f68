"""FHIR R4 in and out: a Bundle of every tohtrack/1 field, and the import of such a bundle (or one from another
system) through the same checks as a tohtrack/1 file.

The mapping, the codes and where each standard code was confirmed are in README.md ("FHIR R4"). In short: a
Patient per patient, a Condition per episode, an ImagingStudy per imaging study with Observations for its edema
extent and findings, a symptom-record Observation per symptom record with member Observations for pain (LOINC
72514-3), function score and weight bearing, a MedicationStatement or Procedure per treatment, and the course
flags as Flag resources. What FHIR has no element for travels in an extension under EXTENSION (this project's
own URIs, below BASE); codes without a confirmed standard concept are in this project's code systems (CODES).

Plain JSON, no FHIR library at run time: the tests validate every resource with fhir.resources' R4B models.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import os
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator

from . import interchange, model
from .model import Problem, ValidationError
from .perf import gc_paused
from .settings import DEFAULT_FHIR_MRN_SYSTEM, Settings

FHIR_VERSION = "4.0.1"

#: This project's own namespace; '.invalid' is reserved (RFC 2606), so it never names another system.
BASE = "https://tohtrack.invalid/fhir"
CODES = BASE + "/CodeSystem/"
EXTENSION = BASE + "/StructureDefinition/"

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
DCM = "http://dicom.nema.org/resources/ontology/DCM"
UCUM = "http://unitsofmeasure.org"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
#: The laterality qualifier of a body site (HL7 mCODE, R4; bound to SNOMED CT Left / Right).
LATERALITY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier"
DICOM_UID = "urn:dicom:uid"

# SNOMED CT body structures of the joints, as DICOM's CID 4031 (Common Anatomic Regions) maps Body Part Examined.
JOINT_SNOMED = {
    "hip": ("24136001", "Hip joint"),
    "knee": ("72696002", "Knee"),
    "ankle": ("70258002", "Ankle joint"),
    "foot": ("56459004", "Foot"),
    "shoulder": ("16982005", "Shoulder"),
    "elbow": ("16953009", "Elbow joint"),
    "wrist": ("74670003", "Wrist joint"),
    "hand": ("85562004", "Hand"),
}
SIDE_SNOMED = {"left": ("7771000", "Left"), "right": ("24028007", "Right")}
# DICOM CID 29 acquisition modalities. A radiograph is written DX; CR and RG (also radiographs) are read as XR.
MODALITY_DCM = {
    "MRI": ("MR", "Magnetic Resonance"),
    "XR": ("DX", "Digital Radiography"),
    "NM": ("NM", "Nuclear Medicine"),
    "CT": ("CT", "Computed Tomography"),
}
MODALITY_FROM_DCM = {"MR": "MRI", "DX": "XR", "CR": "XR", "RG": "XR", "NM": "NM", "CT": "CT"}
PAIN_NRS = ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")

#: Treatments written as MedicationStatement; the others are Procedures.
MEDICATIONS = ("analgesia", "bisphosphonate", "iloprost", "calcitonin", "teriparatide")

# This project's code systems (codes are the tohtrack/1 codes themselves).
CS_DIAGNOSIS = CODES + "diagnosis"
CS_OBSERVATION = CODES + "observation"
CS_EDEMA_REGION = CODES + "edema-region"
CS_DCE = CODES + "dce-enhancement"
CS_UPTAKE = CODES + "scintigraphy-uptake"
CS_WEIGHT_BEARING = CODES + "weight-bearing"
CS_TREATMENT = CODES + "treatment"
CS_FLAG = CODES + "flag"
CS_TAG = CODES + "bundle-tag"

# This project's extensions.
EXT_PATIENT_NOTES = EXTENSION + "patient-notes"
EXT_PREGNANCY = EXTENSION + "pregnancy"
EXT_AVN_RISK_FACTOR = EXTENSION + "avn-risk-factor"
EXT_STUDY_TIME = EXTENSION + "study-time"
EXT_AGE_BAND = EXTENSION + "age-band"
EXT_FLAG_SEVERITY = EXTENSION + "flag-severity"
EXT_FLAG_EPISODE = EXTENSION + "flag-episode"
#: A tohtrack/1 field this version has no element for (from a newer TOHtrack): name and JSON value.
EXT_FIELD = EXTENSION + "field"

OBSERVATION_LABELS = {
    "bone_marrow_edema": "bone marrow edema extent",
    "edema_extent_pct": "edema extent (% of the epiphysis and metaphysis)",
    "edema_volume_ml": "edema volume",
    "edema_regions": "edema region",
    "t1_low_signal": "T1 low signal",
    "t2_high_signal": "T2 / STIR high signal",
    "subchondral_fracture_line": "subchondral fracture line",
    "subchondral_t2_low_band": "subchondral T2 low-signal band",
    "collapse": "articular surface collapse",
    "medial_head_sparing": "medial femoral head sparing",
    "osteopenia": "osteopenia",
    "subchondral_cortical_loss": "subchondral cortical loss",
    "joint_effusion": "joint effusion",
    "joint_space_narrowed": "joint space narrowing",
    "dce_enhancement": "dynamic contrast enhancement",
    "scintigraphy_uptake": "bone scintigraphy uptake",
    "symptom_record": "symptom record",
    "function_score": "function score",
    "weight_bearing": "weight bearing",
}

#: A bundle larger than this is refused before it is read. A bundle is read whole (references may point
#: anywhere in it): the import needs about 8–14 times the file's size in memory (README, "FHIR R4"), and a
#: demo patient takes about 40 kB of FHIR, so this is some 25 000 patients with their histories.
MAX_BUNDLE_BYTES = 1 << 30
#: De-identified: each patient's first onset is moved to this date, every other date by the same days.
DEIDENTIFIED_ANCHOR = dt.date(2000, 1, 1)


# ---------------------------------------------------------------------------
# Small builders
# ---------------------------------------------------------------------------


def _coding(system: str, code: str, display: str | None = None) -> dict:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def _concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict:
    out: dict[str, Any] = {"coding": [_coding(system, code, display)]}
    if text:
        out["text"] = text
    return out


def _ref(url: str) -> dict:
    return {"reference": url}


def _quantity(value: float, unit: str) -> dict:
    """A UCUM quantity: '%', 'mL', or a score ('1', UCUM's unity, shown as 'score')."""
    return {"value": value, "unit": "score" if unit == "1" else unit, "system": UCUM, "code": unit}


def _own(system: str, code: str, text: str | None = None) -> dict:
    """A code of this project's code systems: the code and, for people, its words as text (no display: the
    code system is defined here, in the README)."""
    out: dict[str, Any] = {"coding": [{"system": system, "code": code}]}
    if text:
        out["text"] = text
    return out


_OBSERVATION_CODES = {code: _own(CS_OBSERVATION, code, label) for code, label in OBSERVATION_LABELS.items()}


def _observation_code(code: str) -> dict:
    return _OBSERVATION_CODES[code]  # shared, never changed: the bundle is written, not edited


class _Take:
    """A tohtrack/1 record's fields, each taken once; what is left over travels in EXT_FIELD."""

    def __init__(self, record: dict):
        self.record = record
        self.taken: set[str] = set()

    def __call__(self, key: str, default: Any = None) -> Any:
        self.taken.add(key)
        return self.record.get(key, default)

    def rest(self) -> list[dict]:
        return [{"url": EXT_FIELD, "extension": [{"url": "name", "valueCode": key},
                                                 {"url": "json", "valueString": json.dumps(value, ensure_ascii=False)}]}
                for key, value in self.record.items() if key not in self.taken]


def _extend(resource: dict, extensions: list[dict]) -> None:
    if extensions:
        resource.setdefault("extension", []).extend(extensions)


def _text_note(text: str) -> list[dict]:
    return [{"text": text}] if text else []


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


@dataclass
class ExportOptions:
    transaction: bool = False
    deidentify: bool = False
    mrn_system: str | None = None  # None: the clinic's setting fhir_mrn_system
    today: dt.date | None = None


class _Writer:
    def __init__(self, options: ExportOptions, settings: Settings):
        self.options = options
        self.settings = settings
        self.entries: list[dict] = []
        # Random version-4 UUIDs: one from the system's random source, the next ones counting up in its last
        # 48 bits, its node field (uuid4() for each of a cohort's million entries would be the slowest part).
        first = str(uuid.uuid4())
        self._prefix, self._low, self._count = f"urn:uuid:{first[:24]}", int(first[24:], 16), 0

    def new_url(self) -> str:
        self._count += 1
        return f"{self._prefix}{(self._low + self._count) & 0xFFFFFFFFFFFF:012x}"

    def add(self, resource: dict, url: str | None = None) -> str:
        url = url or self.new_url()
        entry: dict[str, Any] = {"fullUrl": url, "resource": resource}
        if self.options.transaction:
            entry["request"] = {"method": "POST", "url": resource["resourceType"]}
        self.entries.append(entry)
        return url

    # -- patients ------------------------------------------------------------------------------------------

    def patient(self, record: Any, assessment: Any, random_id: str | None = None) -> None:
        data = interchange.patient_to_dict(record)
        deid = self.options.deidentify
        onsets = [model.parse_date(e["symptom_onset"]) for e in data["episodes"]]
        shift = (DEIDENTIFIED_ANCHOR - min(onsets)) if (deid and onsets) else dt.timedelta(0)

        def day(value: str | None) -> str | None:
            if value is None or not deid:
                return value
            return (model.parse_date(value) + shift).isoformat()

        take = _Take(data)
        resource: dict[str, Any] = {"resourceType": "Patient"}
        mrn, family, given, birth = take("mrn"), take("family_name"), take("given_name"), take("birth_date")
        notes, archived = take("notes", ""), take("archived", False)
        take("episodes")
        if deid:
            from .report import age_band, new_report_id
            from .wording import age

            resource["identifier"] = [{"system": BASE + "/sid/deidentified", "value": random_id or new_report_id()}]
            born = model.parse_date(birth)
            resource["extension"] = [{"url": EXT_AGE_BAND, "valueString": age_band(
                age(born, min(onsets) if onsets else (self.options.today or dt.date.today())))}]
        else:
            resource["identifier"] = [{
                "use": "usual", "type": _concept(IDENTIFIER_TYPE, "MR", "Medical record number"),
                "system": self.options.mrn_system, "value": mrn}]
        resource["active"] = not archived
        if not deid:
            name: dict[str, Any] = {"use": "official", "family": family}
            if given:
                name["given"] = [given]
            resource["name"] = [name]
        resource["gender"] = take("sex")
        if not deid:
            resource["birthDate"] = birth
            _extend(resource, [{"url": EXT_PATIENT_NOTES, "valueString": notes}] if notes else [])
            _extend(resource, take.rest())
        patient_url = self.add(resource)
        episode_urls = [self.episode(e, patient_url, day) for e in data["episodes"]]
        if assessment is not None:
            self.flags(record, assessment, patient_url, episode_urls, day)

    def episode(self, data: dict, patient_url: str, day) -> str:
        deid = self.options.deidentify
        take = _Take(data)
        site, diagnosis, resolved = take("site"), take("diagnosis"), take("resolved_on")
        joint, _, side = site.partition("_")
        label = model.DIAGNOSIS_LABELS.get(diagnosis, diagnosis)
        imaging, symptoms, treatments = take("imaging", []), take("symptoms", []), take("treatments", [])
        body_site: dict[str, Any] = {"text": model.site_label(site)}
        if joint in JOINT_SNOMED:
            body_site["coding"] = [_coding(SNOMED, *JOINT_SNOMED[joint])]
        if side in SIDE_SNOMED:
            body_site["extension"] = [{"url": LATERALITY, "valueCodeableConcept": _concept(SNOMED, *SIDE_SNOMED[side])}]
        resource: dict[str, Any] = {
            "resourceType": "Condition",
            "clinicalStatus": _concept(CONDITION_CLINICAL, "resolved" if resolved else "active"),
            # An episode seen on imaging is confirmed; one with no study yet is a working (provisional) diagnosis.
            "verificationStatus": _concept(CONDITION_VERIFICATION, "confirmed" if imaging else "provisional"),
            "category": [_concept(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")],
            "code": _own(CS_DIAGNOSIS, diagnosis, label),
            "bodySite": [body_site],
            "subject": _ref(patient_url),
            "onsetDateTime": day(take("symptom_onset")),
        }
        if resolved:
            resource["abatementDateTime"] = day(resolved)
        notes = take("notes", "")
        if notes and not deid:
            resource["note"] = _text_note(notes)
        extensions = []
        if take("pregnancy"):
            extensions.append({"url": EXT_PREGNANCY, "valueCode": data["pregnancy"]})
        extensions += [{"url": EXT_AVN_RISK_FACTOR, "valueCode": f} for f in take("avn_risk_factors", [])]
        if not deid:
            extensions += take.rest()
        _extend(resource, extensions)
        url = self.add(resource)
        for study in imaging:
            self.study(study, patient_url, url, day)
        for record in symptoms:
            self.symptom(record, patient_url, url, day)
        for treatment in treatments:
            self.treatment(treatment, patient_url, url, day)
        return url

    def study(self, data: dict, patient_url: str, episode_url: str, day) -> None:
        deid = self.options.deidentify
        take = _Take(data)
        modality, date, time = take("modality"), day(take("date")), take("time")
        uid, description = take("study_instance_uid"), take("study_description")
        accession, report = take("accession", ""), take("report", "")
        resource: dict[str, Any] = {"resourceType": "ImagingStudy", "status": "available"}
        identifiers = []
        if uid and not deid:
            identifiers.append({"system": DICOM_UID, "value": f"urn:oid:{uid}"})
        if accession and not deid:
            identifiers.append({"type": _concept(IDENTIFIER_TYPE, "ACSN", "Accession ID"), "value": accession})
        if identifiers:
            resource["identifier"] = identifiers
        code, display = MODALITY_DCM[modality]
        resource["modality"] = [_coding(DCM, code, display)]
        resource["subject"] = _ref(patient_url)
        resource["started"] = date
        resource["reasonReference"] = [_ref(episode_url)]
        if description and not deid:
            resource["description"] = description
        if report and not deid:
            resource["note"] = _text_note(report)
        extensions = []
        if time and not deid:
            extensions.append({"url": EXT_STUDY_TIME, "valueTime": f"{time}:00"})
        observations = []
        components = []
        for key in ("edema_extent_pct", "edema_volume_ml"):
            value = take(key)
            if value is not None:
                components.append({"code": _observation_code(key),
                                   "valueQuantity": _quantity(value, "%" if key == "edema_extent_pct" else "mL")})
        for region in take("edema_regions", []):
            components.append({"code": _observation_code("edema_regions"),
                               "valueCodeableConcept": _own(CS_EDEMA_REGION, region)})
        if components:
            observations.append(("bone_marrow_edema", {"component": components}))
        for finding in model.FINDINGS:
            value = take(finding)
            if value is not None:
                observations.append((finding, {"valueBoolean": value}))
        for key, system in (("dce_enhancement", CS_DCE), ("scintigraphy_uptake", CS_UPTAKE)):
            value = take(key)
            if value is not None:
                observations.append((key, {"valueCodeableConcept": _own(system, value)}))
        if not deid:
            extensions += take.rest()
        _extend(resource, extensions)
        study_url = self.add(resource)
        for code, value in observations:
            self.add({"resourceType": "Observation", "status": "final",
                      "category": [_concept(OBSERVATION_CATEGORY, "imaging", "Imaging")],
                      "code": _observation_code(code), "subject": _ref(patient_url), "focus": [_ref(episode_url)],
                      "effectiveDateTime": date, **value, "derivedFrom": [_ref(study_url)]})

    def symptom(self, data: dict, patient_url: str, episode_url: str, day) -> None:
        deid = self.options.deidentify
        take = _Take(data)
        date = day(take("date"))
        pain, score, instrument = take("pain_nrs"), take("function_score"), take("function_instrument", "")
        bearing, note = take("weight_bearing"), take("note", "")
        if deid:
            from .report import KNOWN_INSTRUMENTS

            instrument = instrument if instrument in KNOWN_INSTRUMENTS else ""

        def member(code: dict, value: dict) -> str:
            return self.add({"resourceType": "Observation", "status": "final",
                             "category": [_concept(OBSERVATION_CATEGORY, "survey", "Survey")], "code": code,
                             "subject": _ref(patient_url), "focus": [_ref(episode_url)],
                             "effectiveDateTime": date, **value})

        members = []
        if pain is not None:
            members.append(member(_concept(LOINC, *PAIN_NRS, text="pain (0–10)"),
                                  {"valueQuantity": _quantity(pain, "1")}))
        if score is not None or instrument:
            value: dict[str, Any] = ({"valueQuantity": _quantity(score, "1")} if score is not None else
                                     {"dataAbsentReason": _concept(DATA_ABSENT, "unknown", "Unknown")})
            if instrument:
                value["method"] = {"text": instrument}
            members.append(member(_observation_code("function_score"), value))
        if bearing is not None:
            members.append(member(_observation_code("weight_bearing"),
                                  {"valueCodeableConcept": _own(CS_WEIGHT_BEARING, bearing)}))
        group: dict[str, Any] = {
            "resourceType": "Observation", "status": "final",
            "category": [_concept(OBSERVATION_CATEGORY, "survey", "Survey")],
            "code": _observation_code("symptom_record"), "subject": _ref(patient_url), "focus": [_ref(episode_url)],
            "effectiveDateTime": date}
        if members:
            group["hasMember"] = [_ref(u) for u in members]
        if note and not deid:
            group["note"] = _text_note(note)
        if not deid:
            _extend(group, take.rest())
        self.add(group)

    def treatment(self, data: dict, patient_url: str, episode_url: str, day) -> None:
        deid = self.options.deidentify
        take = _Take(data)
        kind, start, end, detail = take("kind"), day(take("start")), day(take("end")), take("detail", "")
        label = model.TREATMENT_LABELS.get(kind, kind)
        period = {"start": start, **({"end": end} if end else {})}
        code = _own(CS_TREATMENT, kind, label)
        if kind in MEDICATIONS:
            resource: dict[str, Any] = {"resourceType": "MedicationStatement",
                                        "status": "completed" if end else "active",
                                        "medicationCodeableConcept": code, "subject": _ref(patient_url),
                                        "effectivePeriod": period, "reasonReference": [_ref(episode_url)]}
        else:
            resource = {"resourceType": "Procedure", "status": "completed" if end else "in-progress", "code": code,
                        "subject": _ref(patient_url), "performedPeriod": period,
                        "reasonReference": [_ref(episode_url)]}
        if detail and not deid:
            resource["note"] = _text_note(detail)
        if not deid:
            _extend(resource, take.rest())
        self.add(resource)

    def flags(self, record: Any, assessment: Any, patient_url: str, episode_urls: list[str], day) -> None:
        ordered = sorted(record.episodes, key=lambda e: (e.symptom_onset, e.site))
        for flag in assessment.flags:
            resource: dict[str, Any] = {
                "resourceType": "Flag", "status": "active",
                "code": _own(CS_FLAG, flag.code, None if self.options.deidentify else flag.message),
                "subject": _ref(patient_url),
                "extension": [{"url": EXT_FLAG_SEVERITY, "valueCode": flag.severity}]}
            for index, episode in enumerate(ordered):
                if episode is flag.episode:
                    resource["extension"].append({"url": EXT_FLAG_EPISODE, "valueReference": _ref(episode_urls[index])})
            self.add(resource)


@gc_paused()  # a bundle is a million small objects that all stay alive until written
def export_bundle(store: Any, mrns: Iterable[str] | None = None, options: ExportOptions | None = None) -> dict:
    """A FHIR R4 Bundle of these patients (all, archived included, when mrns is None), ordered by MRN."""
    from .course import assess

    options = options or ExportOptions()
    settings = store.settings()
    if options.mrn_system is None:
        options = dataclasses.replace(options, mrn_system=settings.fhir_mrn_system)
    if mrns is None:
        patients = list(store.patients())
    else:
        ids = dict.fromkeys(store.patient_id(m) for m in mrns)
        patients = list(store.patients(list(ids)))
    patients.sort(key=lambda p: p.mrn)
    today = options.today or dt.date.today()
    writer = _Writer(options, settings)
    if options.deidentify:
        # Ordered by the new random ids, not by MRN: the order of the MRNs (often that of registration) would
        # otherwise show through.
        from .report import new_report_id

        ids: set[str] = set()
        while len(ids) < len(patients):  # unique (40 random bits each: a repeat is rare in a large cohort, not nil)
            ids.add(new_report_id())
        for random_id, patient in sorted(zip(ids, patients), key=lambda pair: pair[0]):
            writer.patient(patient, assess(patient, today, settings), random_id)
    else:
        for patient in patients:
            writer.patient(patient, assess(patient, today, settings))
    bundle: dict[str, Any] = {"resourceType": "Bundle"}
    if options.deidentify:
        bundle["meta"] = {"tag": [_coding(CS_TAG, "deidentified", "de-identified")]}
    bundle["type"] = "transaction" if options.transaction else "collection"
    bundle["timestamp"] = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    if writer.entries:
        bundle["entry"] = writer.entries
    return bundle


def export_chunks(store: Any, mrns: Iterable[str] | None = None,
                  options: ExportOptions | None = None) -> Iterator[str]:
    """The text of `dumps(export_bundle(...))`, one patient at a time (the timestamp aside: taken at the start).

    The patients are asked for first (interchange.export_ids: NotFound for an unknown MRN before any text), then
    read in batches and each one's entries encoded and let go, so memory stays flat however many there are."""
    from .course import assess

    options = options or ExportOptions()
    settings = store.settings()
    if options.mrn_system is None:
        options = dataclasses.replace(options, mrn_system=settings.fhir_mrn_system)
    ids = interchange.export_ids(store, mrns)  # by MRN, as export_bundle orders them
    today = options.today or dt.date.today()
    head: dict[str, Any] = {"resourceType": "Bundle"}
    if options.deidentify:
        head["meta"] = {"tag": [_coding(CS_TAG, "deidentified", "de-identified")]}
    head["type"] = "transaction" if options.transaction else "collection"
    head["timestamp"] = dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    text = "{\n" + ",\n".join(f"  {dump(k)}: {dump(v)}" for k, v in head.items())
    if not ids:
        yield text + "\n}\n"
        return
    yield text + ',\n  "entry": [\n'
    writer = _Writer(options, settings)  # one for the whole bundle: its entry URLs never repeat
    first = True
    for patient in store.patients(ids):
        writer.patient(patient, assess(patient, today, settings))
        for entry in writer.entries:
            yield ("    " if first else ",\n    ") + dump(entry)
            first = False
        writer.entries = []
    yield "\n  ]\n}\n"


@gc_paused()
def dumps(bundle: dict) -> str:
    """One line per entry: readable, diffable, and quick for a whole cohort."""
    dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    head = ",\n".join(f"  {dump(k)}: {dump(v)}" for k, v in bundle.items() if k != "entry")
    entries = bundle.get("entry")
    if not entries:
        return "{\n" + head + "\n}\n"
    return "{\n" + head + ',\n  "entry": [\n' + ",\n".join(f"    {dump(e)}" for e in entries) + "\n  ]\n}\n"


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------

_FORMAT_HEAD = re.compile(r'\A\s*\{\s*"(format|resourceType)"\s*:\s*"((?:[^"\\]|\\.){0,100})"')
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})?)?")
_PARTIAL_DATE = re.compile(r"[0-9]{4}(-[0-9]{2})?")
_UID = re.compile(r"urn:oid:([0-9.]{1,64})")
_TIME = re.compile(r"([0-9]{2}:[0-9]{2})(:00(\.0+)?)?")


def is_bundle(path: str | os.PathLike) -> bool:
    """Whether a file holds a FHIR resource (a JSON object with resourceType) rather than tohtrack/1.

    Looks at the start of the file only when its first key says which (as every export writes it); otherwise
    it parses the file. A file that cannot be read or parsed is not a bundle: the tohtrack/1 import then names
    its problem."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 20).decode("utf-8-sig", errors="replace")
    except OSError:
        return False
    match = _FORMAT_HEAD.match(head)
    if match:
        return match.group(1) == "resourceType"
    # Every FHIR resource has a resourceType, and a bundle's first entries show it, even after a long narrative,
    # meta or link element written first.
    if '"resourceType"' not in head:
        return False
    try:
        if os.path.getsize(path) > MAX_BUNDLE_BYTES:
            return '"resourceType"' in head
        doc = interchange.read_file(path)
    except (OSError, ValidationError):
        return False
    return isinstance(doc, dict) and "resourceType" in doc and "format" not in doc


@dataclass
class Skipped:
    path: str
    what: str
    reason: str


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'AEIOU' else 'a'} {word}"


def _show(value: Any) -> str:
    """A value for a message: short, and never the whole of a (possibly huge or deeply nested) structure."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = repr(value) if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "…"


class _Reader:
    """Reads a loaded Bundle into a tohtrack/1 document, remembering where each field came from."""

    def __init__(self, bundle: Any, mrn_system: str):
        self.bundle = bundle
        self.mrn_system = mrn_system
        self.problems: list[Problem] = []
        self.skipped: list[Skipped] = []
        self.where: dict[str, str] = {}  # tohtrack/1 path -> bundle path
        self.entries: list[tuple[int, dict, str]] = []  # (index, resource, path)
        self.by_ref: dict[str, int] = {}
        self.used: set[int] = set()

    # -- helpers ---------------------------------------------------------------------------------------

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def skip(self, index: int, what: str, reason: str) -> None:
        """Skip the entry at this place of self.entries (its place in the bundle is kept with it)."""
        self.skipped.append(Skipped(self.entries[index][0], what, reason))
        self.used.add(index)

    def map(self, target: str, source: str) -> None:
        self.where[target] = source

    def resolve(self, ref: Any, path: str, types: tuple[str, ...]) -> int | None:
        """The entry a Reference points to (by fullUrl or Type/id), of one of these types; None otherwise."""
        if not isinstance(ref, dict) or not isinstance(ref.get("reference"), str):
            return None
        target = self.by_ref.get(ref["reference"])
        if target is None:
            return None
        resource = self.entries[target][1]
        return target if resource.get("resourceType") in types else None

    @staticmethod
    def codes(concept: Any, system: str) -> list[str]:
        if not isinstance(concept, dict) or not isinstance(concept.get("coding"), list):
            return []
        return [c["code"] for c in concept["coding"]
                if isinstance(c, dict) and c.get("system") == system and isinstance(c.get("code"), str)]

    def code(self, concept: Any, system: str) -> str | None:
        found = self.codes(concept, system)
        return found[0] if found else None

    def date(self, value: Any) -> Any:
        """A FHIR date or dateTime as a tohtrack/1 date (the date part); anything else as it is, for the model's
        own message."""
        if isinstance(value, str) and _DATE_TIME.fullmatch(value):
            return value[:10]
        return value

    @staticmethod
    def extensions(resource: dict, url: str) -> list[tuple[int, dict]]:
        found = resource.get("extension")
        if not isinstance(found, list):
            return []
        return [(i, e) for i, e in enumerate(found) if isinstance(e, dict) and e.get("url") == url]

    def generic_fields(self, resource: dict, path: str, record: dict, record_path: str) -> None:
        for i, ext in self.extensions(resource, EXT_FIELD):
            parts = {p.get("url"): p for p in ext.get("extension", []) if isinstance(p, dict)} \
                if isinstance(ext.get("extension"), list) else {}
            name = parts.get("name", {}).get("valueCode")
            text = parts.get("json", {}).get("valueString")
            where = f"{path}.extension[{i}]"
            if not isinstance(name, str) or not isinstance(text, str):
                self.problem(where, "a field extension needs a name (valueCode) and a JSON value (valueString)")
                continue
            try:
                record[name] = interchange.loads(text)
            except ValidationError as exc:
                self.problem(where, f"the value of {name!r} is {exc.problems[0].message}")
                continue
            self.map(model.join(record_path, name), f"{where} ({name})")

    def note(self, resource: dict, path: str) -> Any:
        notes = resource.get("note")
        if notes is None:
            return ""
        if not isinstance(notes, list) or not notes:
            self.problem(f"{path}.note", "is not a list of annotations")
            return ""
        texts = [n.get("text") if isinstance(n, dict) else None for n in notes]
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                self.problem(f"{path}.note[{i}].text", f"{_show(text)} is not text")
                return ""
        return "\n\n".join(texts)

    # -- the bundle ------------------------------------------------------------------------------------

    def read(self) -> dict:
        bundle = self.bundle
        if not isinstance(bundle, dict):
            self.problem("", "a FHIR file must be a JSON object")
            return {}
        kind = bundle.get("resourceType")
        if not isinstance(kind, str) or not kind:
            self.problem("resourceType", f"{_show(kind)} is not a FHIR resource type")
            return {}
        if kind != "Bundle":
            # A single resource (a Patient, say) is read as a bundle of one; its places are named FHIRPath-style.
            self.entries.append((kind, bundle, kind))
            return self.document()
        meta = bundle.get("meta")
        if isinstance(meta, dict) and isinstance(meta.get("tag"), list) and any(
                isinstance(t, dict) and t.get("system") == CS_TAG and t.get("code") == "deidentified"
                for t in meta["tag"]):
            self.problem("meta.tag", "this bundle is de-identified (no names, MRNs or birth dates): it is for "
                                     "teaching and research and cannot be imported")
            return {}
        if bundle.get("type") == "history":
            self.problem("type", "a history bundle holds past versions of records; TOHtrack imports current "
                                 "records (a searchset, collection, transaction or batch bundle)")
            return {}
        entries = bundle.get("entry", [])
        if not isinstance(entries, list):
            self.problem("entry", f"{_show(entries)} is not a list of entries")
            return {}
        full_urls: dict[str, int] = {}
        for i, entry in enumerate(entries):
            path = f"entry[{i}]"
            if not isinstance(entry, dict):
                self.problem(path, f"{_show(entry)} is not an entry (a JSON object)")
                continue
            resource = entry.get("resource")
            request = entry.get("request")
            if isinstance(request, dict) and request.get("method") not in (None, "POST", "PUT"):
                self.skipped.append(Skipped(path, "entry", f"a {request.get('method')} request, not a record"))
                continue
            if resource is None and "response" in entry:  # a transaction-response or batch-response entry
                self.skipped.append(Skipped(path, "entry", "a server's response to a request, not a record"))
                continue
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                self.problem(f"{path}.resource", "is missing or not a FHIR resource (an object with resourceType)")
                continue
            index = len(self.entries)
            self.entries.append((path, resource, f"{path}.resource"))
            full_url = entry.get("fullUrl")
            if isinstance(full_url, str):
                # FHIR's bdl-7: fullUrls are unique in a bundle; a second one would make references ambiguous.
                if full_url in full_urls:
                    self.problem(f"{path}.fullUrl", f"{_show(full_url)} is also the fullUrl of "
                                                    f"{self.entries[full_urls[full_url]][0]} (each entry needs its own)")
                    continue
                full_urls[full_url] = index
                self.by_ref[full_url] = index
                tail = re.search(r"([A-Za-z]+/[A-Za-z0-9\-.]{1,64})$", full_url)
                if tail and not full_url.startswith("urn:"):
                    self.by_ref.setdefault(tail.group(1), index)
            rid = resource.get("id")
            if isinstance(rid, str):
                self.by_ref.setdefault(f"{resource['resourceType']}/{rid}", index)
        return self.document()

    def document(self) -> dict:
        patients: list[dict] = []
        patient_of: dict[int, dict] = {}
        for index, (i, resource, path) in enumerate(self.entries):
            if resource["resourceType"] == "Patient":
                record = self.patient(index, resource, path, f"patients[{len(patients)}]")
                if record is not None:
                    patient_of[index] = record
                    patients.append(record)
        episode_of: dict[int, tuple[dict, str]] = {}
        for index, (i, resource, path) in enumerate(self.entries):
            if resource["resourceType"] == "Condition":
                self.condition(index, resource, path, patient_of, episode_of)
        study_of: dict[int, tuple[dict, str]] = {}
        for index, (i, resource, path) in enumerate(self.entries):
            kind = resource["resourceType"]
            if kind == "ImagingStudy":
                self.study(index, resource, path, episode_of, study_of)
            elif kind in ("MedicationStatement", "Procedure"):
                self.treatment(index, resource, path, episode_of)
        for index, (i, resource, path) in enumerate(self.entries):
            if resource["resourceType"] == "Observation":
                if self.code(resource.get("code"), CS_OBSERVATION) == "symptom_record":
                    self.symptom(index, resource, path, episode_of)
        for index, (i, resource, path) in enumerate(self.entries):
            if resource["resourceType"] == "Observation" and index not in self.used:
                self.study_observation(index, resource, path, study_of)
        for index, (i, resource, path) in enumerate(self.entries):
            if index in self.used:
                continue
            kind = resource["resourceType"]
            if kind == "Flag" and self.code(resource.get("code"), CS_FLAG):
                reason = "a course flag: TOHtrack works the flags out from the records"
            elif kind in ("Condition", "ImagingStudy", "Observation", "MedicationStatement", "Procedure"):
                reason = self.unlinked(resource)
            elif kind == "Patient":
                reason = "not linked to a TOHtrack patient or episode, or coded in a way TOHtrack does not keep"
            else:
                reason = "not a kind of record TOHtrack keeps"
            self.skipped.append(Skipped(i, kind, reason))
        return {"format": interchange.FORMAT, "patients": patients}

    def unlinked(self, resource: dict) -> str:
        """Why a record of a kind TOHtrack keeps was not taken: coded in another system, or its link to the
        patient or episode leads nowhere that was imported."""
        kind = resource["resourceType"]
        if kind == "Condition":
            if self.code(resource.get("code"), CS_DIAGNOSIS) is None:
                return ("its code is not in TOHtrack's diagnosis code system (TOHtrack does not guess a diagnosis "
                        "from another code)")
            return self.link_reason(resource.get("subject"), "subject", "Patient")
        if kind == "Observation":
            code = self.code(resource.get("code"), CS_OBSERVATION)
            if code is None and LOINC_PAIN not in self.codes(resource.get("code"), LOINC):
                return "an observation TOHtrack does not keep (not coded in TOHtrack's observation code system)"
            if code in OBSERVATION_LABELS and code not in ("symptom_record", "function_score", "weight_bearing"):
                links = [r for key in ("derivedFrom", "partOf") if isinstance(resource.get(key), list)
                         for r in resource[key]]
                return self.link_reason(links[0] if links else None, "derivedFrom", "ImagingStudy")
            if code == "symptom_record":
                focus = resource.get("focus")
                return self.link_reason(focus[0] if isinstance(focus, list) and focus else None, "focus",
                                        "Condition")
            return "not a member (hasMember) of a symptom record imported from this bundle"
        if kind != "ImagingStudy":
            medication = kind == "MedicationStatement"
            if self.code(resource.get("medicationCodeableConcept" if medication else "code"), CS_TREATMENT) is None:
                return "its code is not in TOHtrack's treatment code system"
        reasons = resource.get("reasonReference")
        return self.link_reason(reasons[0] if isinstance(reasons, list) and reasons else None, "reasonReference",
                                "Condition")

    def link_reason(self, ref: Any, element: str, expected: str) -> str:
        if not isinstance(ref, dict) or not isinstance(ref.get("reference"), str):
            return f"it has no {element} reference to a {expected}"
        # Worded without the entry's own details, so that one reason groups many entries in the summary.
        target = self.by_ref.get(ref["reference"])
        if target is None:
            return f"its {element} reference is not an entry of this bundle"
        kind = self.entries[target][1].get("resourceType")
        if kind != expected:
            return f"its {element} points to {_a(kind)}, not {_a(expected)}"
        return f"its {element} points to {_a(expected)} that was skipped"

    # -- resources -----------------------------------------------------------------------------------

    def patient(self, index: int, resource: dict, path: str, target: str) -> dict | None:
        identifiers = resource.get("identifier")
        mrn_at = None
        if isinstance(identifiers, list):
            ours = [j for j, ident in enumerate(identifiers)
                    if isinstance(ident, dict) and ident.get("system") == self.mrn_system]
            typed = [j for j, ident in enumerate(identifiers)
                     if isinstance(ident, dict) and "MR" in self.codes(ident.get("type"), IDENTIFIER_TYPE)]
            # A current identifier before one marked old (a previous MRN), each kind in its order.
            ours.sort(key=lambda j: identifiers[j].get("use") == "old")
            typed.sort(key=lambda j: identifiers[j].get("use") == "old")
            mrn_at = (ours or typed or [None])[0]
        if mrn_at is None:
            self.skip(index, "Patient",
                      f"no MRN (an identifier with system {self.mrn_system} or of type MR)")
            return None
        names = resource.get("name")
        name_at, name = 0, None
        if isinstance(names, list) and names:
            official = [j for j, n in enumerate(names) if isinstance(n, dict) and n.get("use") == "official"]
            with_family = [j for j, n in enumerate(names) if isinstance(n, dict) and "family" in n]
            name_at = (official or with_family or [0])[0]
            name = names[name_at]
        if not isinstance(name, dict):
            name = {}
        # Valid FHIR that TOHtrack cannot keep whole: skipped and said, never guessed (a wrong type is an error).
        birth = resource.get("birthDate")
        if birth is None or (isinstance(birth, str) and _PARTIAL_DATE.fullmatch(birth)):
            self.skip(index, "Patient", f"its birth date is {'missing' if birth is None else 'partial (' + birth + ')'}"
                                        "; TOHtrack needs the full date of birth")
            return None
        well_formed = names is None or (isinstance(names, list) and all(isinstance(n, dict) for n in names))
        if well_formed and name.get("family") is None:
            self.skip(index, "Patient", "no family name (name.family); TOHtrack needs it")
            return None
        self.used.add(index)
        record: dict[str, Any] = {}
        record["mrn"] = identifiers[mrn_at].get("value")
        self.map(model.join(target, "mrn"), f"{path}.identifier[{mrn_at}].value")
        record["family_name"] = name.get("family")
        self.map(model.join(target, "family_name"), f"{path}.name[{name_at}].family")
        given = name.get("given", [])
        self.map(model.join(target, "given_name"), f"{path}.name[{name_at}].given")
        if isinstance(given, list) and all(isinstance(g, str) for g in given):
            # Each given name is checked on its own, so that a problem names its place (given[1]) and its
            # position in that name, not in the names joined.
            clean = []
            for j, part in enumerate(given):
                problem = model.text_problem(part)
                if problem:
                    self.problem(f"{path}.name[{name_at}].given[{j}]", problem)
                else:
                    clean.append(part)
            record["given_name"] = " ".join(clean)
        else:
            record["given_name"] = given
        record["birth_date"] = resource.get("birthDate")
        self.map(model.join(target, "birth_date"), f"{path}.birthDate")
        # FHIR's gender is optional; absent, it is 'unknown' (the same code in both: administrative gender).
        record["sex"] = resource.get("gender", "unknown")
        self.map(model.join(target, "sex"), f"{path}.gender")
        active = resource.get("active", True)
        record["archived"] = (not active) if isinstance(active, bool) else active
        self.map(model.join(target, "archived"), f"{path}.active")
        notes = self.extensions(resource, EXT_PATIENT_NOTES)
        if notes:
            record["notes"] = notes[0][1].get("valueString")
            self.map(model.join(target, "notes"), f"{path}.extension[{notes[0][0]}].valueString")
        self.generic_fields(resource, path, record, target)
        record["episodes"] = []
        self.map(target, path)
        record["_path"] = target
        return record

    def condition(self, index: int, resource: dict, path: str, patient_of: dict, episode_of: dict) -> None:
        diagnosis = self.code(resource.get("code"), CS_DIAGNOSIS)
        owner = self.resolve(resource.get("subject"), path, ("Patient",))
        if diagnosis is None or owner not in patient_of:
            return
        site = self.site(resource, path)
        if site is None:
            return
        patient = patient_of[owner]
        self.used.add(index)
        target = f"{patient['_path']}.episodes[{len(patient['episodes'])}]"
        record: dict[str, Any] = {"site": site, "symptom_onset": self.date(resource.get("onsetDateTime")),
                                  "resolved_on": self.date(resource.get("abatementDateTime")),
                                  "diagnosis": diagnosis}
        self.map(target, path)
        self.map(model.join(target, "site"), f"{path}.bodySite")
        self.map(model.join(target, "symptom_onset"), f"{path}.onsetDateTime")
        self.map(model.join(target, "resolved_on"), f"{path}.abatementDateTime")
        self.map(model.join(target, "diagnosis"), f"{path}.code")
        pregnancy = self.extensions(resource, EXT_PREGNANCY)
        if pregnancy:
            record["pregnancy"] = pregnancy[0][1].get("valueCode")
            self.map(model.join(target, "pregnancy"), f"{path}.extension[{pregnancy[0][0]}].valueCode")
        factors = self.extensions(resource, EXT_AVN_RISK_FACTOR)
        record["avn_risk_factors"] = [e.get("valueCode") for _, e in factors]
        for n, (j, _) in enumerate(factors):
            self.map(f"{target}.avn_risk_factors[{n}]", f"{path}.extension[{j}].valueCode")
        record["notes"] = self.note(resource, path)
        self.map(model.join(target, "notes"), f"{path}.note")
        self.generic_fields(resource, path, record, target)
        record.update(imaging=[], symptoms=[], treatments=[], _path=target)
        patient["episodes"].append(record)
        episode_of[index] = (record, target)

    def site(self, resource: dict, path: str) -> str | None:
        sites = resource.get("bodySite")
        if not isinstance(sites, list) or not sites or not isinstance(sites[0], dict):
            self.problem(f"{path}.bodySite", "an episode needs its joint and side (bodySite)")
            return None
        body = sites[0]
        joints = [j for j, (code, _) in JOINT_SNOMED.items() if code in self.codes(body, SNOMED)]
        sides = []
        for _, ext in self.extensions(body, LATERALITY):
            sides += [s for s, (code, _) in SIDE_SNOMED.items()
                      if code in self.codes(ext.get("valueCodeableConcept"), SNOMED)]
        if len(joints) != 1 or len(sides) != 1:
            self.problem(f"{path}.bodySite[0]", "is not one of the joints TOHtrack follows with its side "
                                                "(SNOMED CT body structure and laterality)")
            return None
        return f"{joints[0]}_{sides[0]}"

    def study(self, index: int, resource: dict, path: str, episode_of: dict, study_of: dict) -> None:
        reasons = resource.get("reasonReference")
        owner = self.resolve(reasons[0], path, ("Condition",)) if isinstance(reasons, list) and reasons else None
        if owner not in episode_of:
            return
        episode, episode_path = episode_of[owner]
        modalities = resource.get("modality")
        codes = self.codes({"coding": modalities}, DCM) if isinstance(modalities, list) else []
        known = [MODALITY_FROM_DCM[c] for c in codes if c in MODALITY_FROM_DCM]
        if not known:
            self.skip(index, "ImagingStudy",
                      f"its modality {_show(codes)} is none of MR, CT, NM or a radiograph (DX, CR, RG)")
            return
        self.used.add(index)
        target = f"{episode_path}.imaging[{len(episode['imaging'])}]"
        record: dict[str, Any] = {"date": self.date(resource.get("started")), "modality": known[0]}
        self.map(target, path)
        self.map(model.join(target, "date"), f"{path}.started")
        self.map(model.join(target, "modality"), f"{path}.modality")
        times = self.extensions(resource, EXT_STUDY_TIME)
        if times:
            value = times[0][1].get("valueTime")
            match = _TIME.fullmatch(value) if isinstance(value, str) else None
            record["time"] = match.group(1) if match else value
            self.map(model.join(target, "time"), f"{path}.extension[{times[0][0]}].valueTime")
        identifiers = resource.get("identifier")
        for j, ident in enumerate(identifiers if isinstance(identifiers, list) else []):
            if not isinstance(ident, dict):
                continue
            if ident.get("system") == DICOM_UID and "study_instance_uid" in model.IMAGING_KEYS:
                value = ident.get("value")
                match = _UID.fullmatch(value) if isinstance(value, str) else None
                record["study_instance_uid"] = match.group(1) if match else value
                self.map(model.join(target, "study_instance_uid"), f"{path}.identifier[{j}].value")
            elif "ACSN" in self.codes(ident.get("type"), IDENTIFIER_TYPE):
                record["accession"] = ident.get("value")
                self.map(model.join(target, "accession"), f"{path}.identifier[{j}].value")
        if "description" in resource and "study_description" in model.IMAGING_KEYS:
            record["study_description"] = resource["description"]
            self.map(model.join(target, "study_description"), f"{path}.description")
        record["report"] = self.note(resource, path)
        self.map(model.join(target, "report"), f"{path}.note")
        self.generic_fields(resource, path, record, target)
        record["edema_regions"] = []
        episode["imaging"].append(record)
        study_of[index] = (record, target)

    def study_observation(self, index: int, resource: dict, path: str, study_of: dict) -> None:
        code = self.code(resource.get("code"), CS_OBSERVATION)
        links = [r for key in ("derivedFrom", "partOf") if isinstance(resource.get(key), list)
                 for r in resource[key]]
        owners = [self.resolve(r, path, ("ImagingStudy",)) for r in links]
        owner = next((o for o in owners if o in study_of), None)
        if owner is None or code is None:
            return
        study, target = study_of[owner]
        seen = study.setdefault("_seen", set())
        if code in seen:
            self.problem(f"{path}.code", f"a second {OBSERVATION_LABELS.get(code, code)} observation of one study")
            self.used.add(index)
            return
        seen.add(code)
        if code == "bone_marrow_edema":
            components = resource.get("component")
            if not isinstance(components, list):
                self.problem(f"{path}.component", "the edema extent needs its components")
                return
            regions = 0
            for j, component in enumerate(components):
                where = f"{path}.component[{j}]"
                part = self.code(component.get("code"), CS_OBSERVATION) if isinstance(component, dict) else None
                if part in ("edema_extent_pct", "edema_volume_ml"):
                    quantity = component.get("valueQuantity")
                    study[part] = quantity.get("value") if isinstance(quantity, dict) else quantity
                    self.map(model.join(target, part), f"{where}.valueQuantity.value")
                elif part == "edema_regions":
                    region = self.code(component.get("valueCodeableConcept"), CS_EDEMA_REGION)
                    study["edema_regions"].append(region)
                    self.map(f"{target}.edema_regions[{regions}]", f"{where}.valueCodeableConcept")
                    regions += 1
                else:
                    self.problem(where, "is not an edema extent, volume or region")
        elif code in model.FINDINGS:
            if "valueBoolean" not in resource:
                self.problem(f"{path}.valueBoolean", "a finding needs valueBoolean (true or false)")
            study[code] = resource.get("valueBoolean")
            self.map(model.join(target, code), f"{path}.valueBoolean")
        elif code in ("dce_enhancement", "scintigraphy_uptake"):
            system = CS_DCE if code == "dce_enhancement" else CS_UPTAKE
            value = resource.get("valueCodeableConcept")
            study[code] = self.code(value, system) if isinstance(value, dict) else value
            self.map(model.join(target, code), f"{path}.valueCodeableConcept")
        else:
            return
        self.used.add(index)

    def symptom(self, index: int, resource: dict, path: str, episode_of: dict) -> None:
        focus = resource.get("focus")
        owner = self.resolve(focus[0], path, ("Condition",)) if isinstance(focus, list) and focus else None
        if owner not in episode_of:
            return
        self.used.add(index)
        episode, episode_path = episode_of[owner]
        target = f"{episode_path}.symptoms[{len(episode['symptoms'])}]"
        record: dict[str, Any] = {"date": self.date(resource.get("effectiveDateTime"))}
        self.map(target, path)
        self.map(model.join(target, "date"), f"{path}.effectiveDateTime")
        members = resource.get("hasMember", [])
        if not isinstance(members, list):
            self.problem(f"{path}.hasMember", "is not a list of references")
            members = []
        for j, ref in enumerate(members):
            member = self.resolve(ref, path, ("Observation",))
            where = f"{path}.hasMember[{j}]"
            if member is None:
                self.problem(where, "does not point to an Observation in this bundle")
                continue
            self.used.add(member)
            _, obs, obs_path = self.entries[member]
            if LOINC_PAIN in self.codes(obs.get("code"), LOINC):
                quantity = obs.get("valueQuantity")
                record["pain_nrs"] = quantity.get("value") if isinstance(quantity, dict) else quantity
                self.map(model.join(target, "pain_nrs"), f"{obs_path}.valueQuantity.value")
                continue
            kind = self.code(obs.get("code"), CS_OBSERVATION)
            if kind == "function_score":
                quantity = obs.get("valueQuantity")
                if quantity is not None:
                    record["function_score"] = quantity.get("value") if isinstance(quantity, dict) else quantity
                    self.map(model.join(target, "function_score"), f"{obs_path}.valueQuantity.value")
                method = obs.get("method")
                if isinstance(method, dict) and "text" in method:
                    record["function_instrument"] = method["text"]
                    self.map(model.join(target, "function_instrument"), f"{obs_path}.method.text")
            elif kind == "weight_bearing":
                value = obs.get("valueCodeableConcept")
                record["weight_bearing"] = self.code(value, CS_WEIGHT_BEARING) if isinstance(value, dict) else value
                self.map(model.join(target, "weight_bearing"), f"{obs_path}.valueCodeableConcept")
            else:
                self.problem(where, "is not a pain, function score or weight bearing observation")
        record["note"] = self.note(resource, path)
        self.map(model.join(target, "note"), f"{path}.note")
        self.generic_fields(resource, path, record, target)
        episode["symptoms"].append(record)

    def treatment(self, index: int, resource: dict, path: str, episode_of: dict) -> None:
        reasons = resource.get("reasonReference")
        owner = self.resolve(reasons[0], path, ("Condition",)) if isinstance(reasons, list) and reasons else None
        medication = resource["resourceType"] == "MedicationStatement"
        concept = resource.get("medicationCodeableConcept" if medication else "code")
        kind = self.code(concept, CS_TREATMENT)
        if owner not in episode_of or kind is None:
            return
        self.used.add(index)
        episode, episode_path = episode_of[owner]
        target = f"{episode_path}.treatments[{len(episode['treatments'])}]"
        key = "effectivePeriod" if medication else "performedPeriod"
        period = resource.get(key)
        if not isinstance(period, dict):
            self.problem(f"{path}.{key}", "a treatment needs its period (start at least)")
            period = {}
        record = {"start": self.date(period.get("start")), "end": self.date(period.get("end")), "kind": kind}
        self.map(target, path)
        self.map(model.join(target, "start"), f"{path}.{key}.start")
        self.map(model.join(target, "end"), f"{path}.{key}.end")
        self.map(model.join(target, "kind"), f"{path}.{'medicationCodeableConcept' if medication else 'code'}")
        record["detail"] = self.note(resource, path)
        self.map(model.join(target, "detail"), f"{path}.note")
        self.generic_fields(resource, path, record, target)
        episode["treatments"].append(record)

    # -- problems in bundle terms --------------------------------------------------------------------

    def translate(self, problem: Problem) -> Problem:
        path, rest = problem.path, ""
        while path:
            if path in self.where:
                source = self.where[path]
                message = problem.message if not rest else f"{rest.lstrip('.')}: {problem.message}"
                return Problem(source, message)
            cut = max(path.rfind("."), path.rfind("["))
            if cut <= 0:
                break
            rest = path[cut:] + rest
            path = path[:cut]
        return problem


LOINC_PAIN = PAIN_NRS[0]


def _clean(doc: dict) -> dict:
    """The document without the reader's bookkeeping."""
    for patient in doc.get("patients", []):
        patient.pop("_path", None)
        for episode in patient.get("episodes", []):
            episode.pop("_path", None)
            for study in episode.get("imaging", []):
                study.pop("_seen", None)
    return doc


def _read(bundle: Any, mrn_system: str, today: dt.date | None, check: bool = True) -> tuple[dict, _Reader]:
    """The bundle as a tohtrack/1 document; ValidationError with the reader's problems, and (with `check`)
    those of the tohtrack/1 rules, named in bundle terms."""
    reader = _Reader(bundle, mrn_system)
    doc = _clean(reader.read())
    # Only the places and what was skipped are needed from here on: the resources can go (a big bundle's
    # parsed JSON is most of an import's memory).
    reader.bundle, reader.entries, reader.by_ref, reader.used = None, [], {}, set()
    problems = list(reader.problems)
    if doc and (check or problems):
        parsed, found = model.parse_document(doc)
        found += model.check_patients([p for p, _ in parsed], [path for _, path in parsed], today)
        problems += [reader.translate(p) for p in found]
    if problems:
        raise ValidationError(problems)
    return doc, reader


def read_bundle(bundle: Any, mrn_system: str = DEFAULT_FHIR_MRN_SYSTEM,
                today: dt.date | None = None) -> tuple[dict, list[Skipped]]:
    """A loaded bundle as a checked tohtrack/1 document, and what was skipped; ValidationError naming each
    problem by its place in the bundle."""
    doc, reader = _read(bundle, mrn_system, today)
    return doc, reader.skipped


@gc_paused()
def import_bundle(store: Any, bundle: Any, today: dt.date | None = None) -> tuple[list, list[Skipped]]:
    """Import a loaded bundle in one transaction: all or nothing. Returns the patients and what was skipped."""
    doc, reader = _read(bundle, store.settings().fhir_mrn_system, today, check=False)  # import_document checks
    return _import_read(store, doc, reader, today)


def _import_read(store: Any, doc: dict, reader: _Reader, today: dt.date | None) -> tuple[list, list[Skipped]]:
    skipped = reader.skipped
    try:
        patients = interchange.import_document(store, doc, today)
    except ValidationError as exc:
        raise ValidationError([reader.translate(p) for p in exc.problems]) from None
    return patients, skipped


def read_file(path: str | os.PathLike) -> Any:
    try:
        size = os.path.getsize(path)
    except OSError as exc:
        raise ValidationError([Problem("", f"cannot read {path}: {exc.strerror}")]) from None
    if size > MAX_BUNDLE_BYTES:
        raise ValidationError([Problem("", f"the file is {size / 2**20:.0f} MB; a bundle of at most "
                                           f"{MAX_BUNDLE_BYTES // 2**20} MB is imported (split it by patient)")])
    return interchange.read_file(path)


@gc_paused()
def import_file(store: Any, path: str | os.PathLike, today: dt.date | None = None) -> tuple[list, list[Skipped]]:
    # The parsed file is referenced by nothing once it is read into a document, so it is freed before the
    # import proper: about half the memory of a large bundle's import.
    doc, reader = _read(read_file(path), store.settings().fhir_mrn_system, today, check=False)
    return _import_read(store, doc, reader, today)


class _Rejoined(io.RawIOBase):
    """A stream's first bytes, already read to tell the format, followed by the rest of it."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self.head, self.rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.head:
            n = min(len(buffer), len(self.head))
            buffer[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.rest.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)


def sniff_stream(f: BinaryIO) -> tuple[bool, BinaryIO]:
    """Whether a stream (standard input) starts as a FHIR resource does (`{"resourceType": …`, after any BOM
    and white space), and the whole stream to read from, its first bytes included."""
    head = f.read(4096)
    match = _FORMAT_HEAD.match(head.decode("utf-8-sig", errors="replace"))
    return bool(match and match.group(1) == "resourceType"), io.BufferedReader(_Rejoined(head, f))


@gc_paused()
def import_stream(store: Any, f: BinaryIO, today: dt.date | None = None) -> tuple[list, list[Skipped]]:
    """Import a bundle from a stream (standard input), read whole up to MAX_BUNDLE_BYTES."""
    data = f.read(MAX_BUNDLE_BYTES + 1)
    if len(data) > MAX_BUNDLE_BYTES:
        raise ValidationError([Problem("", f"the bundle is over {MAX_BUNDLE_BYTES // 2**20} MB; split it by "
                                           "patient")])
    doc, reader = _read(interchange.loads(data), store.settings().fhir_mrn_system, today, check=False)
    return _import_read(store, doc, reader, today)


def skipped_summary(skipped: list[Skipped]) -> list[str]:
    """One line per kind of skipped resource and reason, with how many and the first places."""
    groups: dict[tuple[str, str], list[str]] = {}
    for s in skipped:
        groups.setdefault((s.what, s.reason), []).append(s.path)
    lines = []
    for (what, reason), paths in groups.items():
        shown = ", ".join(paths[:3]) + (f" and {len(paths) - 3} more" if len(paths) > 3 else "")
        lines.append(f"skipped {len(paths)} {what} ({shown}): {reason}")
    return lines


def write(path: str | os.PathLike, text: str) -> None:
    interchange.write_file(Path(path), text)
