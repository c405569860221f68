"""Records of a TOHtrack patient history, their code lists, and the validation of both."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

# ---------------------------------------------------------------------------
# Code lists (INTERFACE.md section 2)
# ---------------------------------------------------------------------------

SEXES = ("male", "female", "other", "unknown")
JOINTS = ("hip", "knee", "ankle", "foot", "shoulder", "elbow", "wrist", "hand")
SIDES = ("left", "right")
SITES = tuple(f"{joint}_{side}" for joint in JOINTS for side in SIDES)
TOH = "transient_osteoporosis"
DIAGNOSES = (
    TOH,
    "avascular_necrosis",
    "stress_fracture",
    "subchondral_insufficiency_fracture",
    "septic_arthritis",
    "tuberculous_arthropathy",
    "crps",
    "other",
)
PREGNANCY_STATES = ("trimester_1", "trimester_2", "trimester_3", "postpartum")
AVN_RISK_FACTORS = (
    "corticosteroids",
    "alcohol",
    "sickle_cell",
    "gaucher",
    "radiation",
    "chemotherapy",
    "hiv",
    "sle",
    "trauma",
    "decompression_illness",
    "smoking",
    "other",
)
MODALITIES = ("MRI", "XR", "NM", "CT")
EDEMA_REGIONS = ("head", "neck", "intertrochanteric", "other")
DCE_ENHANCEMENTS = ("early", "none")
SCINTIGRAPHY_UPTAKES = ("normal", "increased_homogeneous", "focal", "photopenic")
WEIGHT_BEARING = ("full", "partial", "protected", "non")
TREATMENT_KINDS = (
    "protected_weight_bearing",
    "analgesia",
    "bisphosphonate",
    "iloprost",
    "calcitonin",
    "teriparatide",
    "core_decompression",
    "other",
)

#: Yes / no / not assessed findings of an imaging study, in export order.
FINDINGS = (
    "t1_low_signal",
    "t2_high_signal",
    "subchondral_fracture_line",
    "subchondral_t2_low_band",
    "collapse",
    "medial_head_sparing",
    "osteopenia",
    "subchondral_cortical_loss",
    "joint_effusion",
    "joint_space_narrowed",
)

# Longest free text accepted, so that a pasted document cannot bloat the database.
MAX_SHORT_TEXT = 200
# A bone marrow edema volume beyond this is a typing error (a whole femoral head and neck is far less).
MAX_EDEMA_VOLUME_ML = 5000
MAX_LONG_TEXT = 20_000
# A DICOM UID (PS3.5 section 9.1): at most 64 characters, digits in dot-separated components, no component with a
# leading zero (except a lone 0).
MAX_UID = 64
# A study description longer than this is no DICOM Study Description (LO, at most 64 characters) but pasted text.
MAX_STUDY_DESCRIPTION = 200

# ---------------------------------------------------------------------------
# Human-readable labels, shared by flags, the GUI and the report
# ---------------------------------------------------------------------------

DIAGNOSIS_LABELS = {
    TOH: "transient osteoporosis",
    "avascular_necrosis": "avascular necrosis",
    "stress_fracture": "stress fracture",
    "subchondral_insufficiency_fracture": "subchondral insufficiency fracture",
    "septic_arthritis": "septic arthritis",
    "tuberculous_arthropathy": "tuberculous arthropathy",
    "crps": "complex regional pain syndrome",
    "other": "other diagnosis",
}
MODALITY_LABELS = {"MRI": "MRI", "XR": "radiograph", "NM": "bone scintigraphy", "CT": "CT"}
TREATMENT_LABELS = {
    "protected_weight_bearing": "protected weight bearing",
    "analgesia": "analgesia",
    "bisphosphonate": "bisphosphonate",
    "iloprost": "iloprost",
    "calcitonin": "calcitonin",
    "teriparatide": "teriparatide",
    "core_decompression": "core decompression",
    "other": "other treatment",
}
PREGNANCY_LABELS = {
    "trimester_1": "first trimester",
    "trimester_2": "second trimester",
    "trimester_3": "third trimester",
    "postpartum": "postpartum",
}


def site_label(site: str, capital: bool = False) -> str:
    """'hip_left' -> 'left hip' (or 'Left hip')."""
    joint, _, side = site.partition("_")
    text = f"{side} {joint}" if side else joint
    return text[:1].upper() + text[1:] if capital else text


def site_joint(site: str) -> str:
    return site.partition("_")[0]


def site_side(site: str) -> str:
    return site.partition("_")[2]


# ---------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------


@dataclass
class ImagingStudy:
    date: dt.date
    modality: str
    time: str | None = None
    edema_extent_pct: float | None = None
    edema_volume_ml: float | None = None
    edema_regions: list[str] = field(default_factory=list)
    t1_low_signal: bool | None = None
    t2_high_signal: bool | None = None
    subchondral_fracture_line: bool | None = None
    subchondral_t2_low_band: bool | None = None
    collapse: bool | None = None
    medial_head_sparing: bool | None = None
    osteopenia: bool | None = None
    subchondral_cortical_loss: bool | None = None
    joint_effusion: bool | None = None
    joint_space_narrowed: bool | None = None
    dce_enhancement: str | None = None
    scintigraphy_uptake: str | None = None
    accession: str = ""
    report: str = ""
    # Optional DICOM identity of the study (set by import-dicom or the dialog's "From DICOM…"); last in the
    # export's key order, after `report`.
    study_instance_uid: str | None = None
    study_description: str | None = None
    id: int | None = None
    version: int | None = None

    def order(self) -> tuple[dt.date, str]:
        """Date, then clock time (untimed studies first); sorting is stable, so then the order recorded."""
        return self.date, self.time or ""

    def extent(self) -> tuple[float, str] | None:
        """The study's edema extent as (value, unit), unit '%', 'mL' or 'regions'; None if not recorded."""
        if self.edema_extent_pct is not None:
            return float(self.edema_extent_pct), "%"
        if self.edema_volume_ml is not None:
            return float(self.edema_volume_ml), "mL"
        if self.edema_regions:
            return float(len(self.edema_regions)), "regions"
        return None


@dataclass
class SymptomRecord:
    date: dt.date
    pain_nrs: float | None = None
    function_score: float | None = None
    function_instrument: str = ""
    weight_bearing: str | None = None
    note: str = ""
    id: int | None = None
    version: int | None = None


@dataclass
class Treatment:
    start: dt.date
    kind: str
    end: dt.date | None = None
    detail: str = ""
    id: int | None = None
    version: int | None = None


@dataclass
class Episode:
    site: str
    symptom_onset: dt.date
    resolved_on: dt.date | None = None
    diagnosis: str = TOH
    pregnancy: str | None = None
    avn_risk_factors: list[str] = field(default_factory=list)
    notes: str = ""
    imaging: list[ImagingStudy] = field(default_factory=list)
    symptoms: list[SymptomRecord] = field(default_factory=list)
    treatments: list[Treatment] = field(default_factory=list)
    id: int | None = None
    version: int | None = None

    @property
    def is_toh(self) -> bool:
        return self.diagnosis == TOH


@dataclass
class Patient:
    mrn: str
    family_name: str
    given_name: str
    birth_date: dt.date
    sex: str
    archived: bool = False
    notes: str = ""
    episodes: list[Episode] = field(default_factory=list)
    id: int | None = None
    version: int | None = None

    @property
    def display_name(self) -> str:
        return f"{self.family_name.upper()}, {self.given_name}".rstrip(", ")


# Export key order of each record: the dataclass fields less the storage bookkeeping.
_STORAGE = {"id", "version"}


def record_keys(cls: type) -> tuple[str, ...]:
    """The interchange keys of a record class, in export order."""
    return tuple(f.name for f in dataclasses.fields(cls) if f.name not in _STORAGE)


PATIENT_KEYS = record_keys(Patient)
EPISODE_KEYS = record_keys(Episode)
IMAGING_KEYS = ("date", "time", "modality") + tuple(
    k for k in record_keys(ImagingStudy) if k not in ("date", "time", "modality")
)
SYMPTOM_KEYS = record_keys(SymptomRecord)
TREATMENT_KEYS = ("start", "end", "kind", "detail")

# ---------------------------------------------------------------------------
# Problems
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, at a path such as patients[3].episodes[0].site."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ValidationError(ValueError):
    """Raised with every problem found; nothing has been written."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _allowed(codes: Iterable[str]) -> str:
    return ", ".join(codes)


def _code_problem(path: str, value: Any, codes: Iterable[str]) -> Problem:
    return Problem(path, f"{value!r} is not a known code (allowed: {_allowed(codes)})")


# ---------------------------------------------------------------------------
# Parsing JSON values into records (types and shapes)
# ---------------------------------------------------------------------------

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # fullmatch: no trailing newline, ASCII only
_TIME_RE = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_UID_RE = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*")  # fullmatch: ASCII digits only
_LINE_BREAK_RE = re.compile(r"[\n\r\t\x85\u2028\u2029]")


def uid_problem(value: Any) -> str | None:
    """Why `value` is not a DICOM UID (digits and dots, at most 64 characters), or None if it is one."""
    if not isinstance(value, str):
        return f"{_show(value)} is not text"
    if len(value) > MAX_UID:
        return f"is {len(value)} characters long (a DICOM UID has at most {MAX_UID})"
    if not _UID_RE.fullmatch(value):
        return f"{_show(value)} is not a DICOM UID (digits separated by dots, no leading zeros, e.g. 1.2.840.10008)"
    return None


def parse_date(value: Any) -> dt.date:
    """An ISO date YYYY-MM-DD; raises ValueError with a readable message."""
    if not isinstance(value, str):
        raise ValueError(f"{_show(value)} is not a date (expected YYYY-MM-DD)")
    if not _DATE_RE.fullmatch(value):
        raise ValueError(f"{value!r} is not a date (expected YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a real calendar date") from None


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_KEY_SETS: dict[tuple[str, ...], frozenset[str]] = {}


class _Reader:
    """Reads one JSON object into keyword arguments, collecting problems."""

    def __init__(self, obj: Any, path: str, keys: tuple[str, ...], problems: list[Problem]):
        self.path = path
        self.problems = problems
        self.ok = isinstance(obj, dict)
        self.obj = obj if self.ok else {}
        if not self.ok:
            problems.append(Problem(path, f"expected an object, got {_type_name(obj)}"))
            return
        allowed = _KEY_SETS.get(keys)
        if allowed is None:
            allowed = _KEY_SETS[keys] = frozenset(keys)
        if not allowed.issuperset(obj):
            for key in obj:
                if key not in allowed:
                    problems.append(
                        Problem(join(path, str(key)), f"unknown key (allowed: {_allowed(keys)})")
                    )

    def _get(self, key: str, required: bool):
        value = self.obj.get(key)  # one lookup: this runs for every field of every record of an import
        if value is None:
            if required and self.ok:
                message = "is required (null given)" if key in self.obj else "is required"
                self.problems.append(Problem(join(self.path, key), message))
            return None, False
        return value, True

    def fail(self, key: str, message: str) -> None:
        self.problems.append(Problem(join(self.path, key), message))

    def text(self, key: str, required: bool = False, limit: int = MAX_SHORT_TEXT) -> str | None:
        value, present = self._get(key, required)
        if not present:
            return None if required else ""
        if not isinstance(value, str):
            self.fail(key, f"{_show(value)} is not text")
            return None
        if len(value) > limit:
            self.fail(key, f"is {len(value)} characters long (at most {limit})")
            return None
        if _CONTROL_RE.search(value):
            self.fail(key, "contains control characters")
            return None
        return value

    def code(self, key: str, required: bool = False) -> str | None:
        value, present = self._get(key, required)
        if not present:
            return None
        if not isinstance(value, str):
            self.fail(key, f"{_show(value)} is not a code")
            return None
        return value

    def date(self, key: str, required: bool = False) -> dt.date | None:
        value, present = self._get(key, required)
        if not present:
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            self.fail(key, str(exc))
            return None

    def number(self, key: str) -> float | None:
        value, present = self._get(key, False)
        if not present:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, f"{_show(value)} is not a number")
            return None
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(key, f"{_show(value)} is not a finite number")
            return None
        return value

    def boolean(self, key: str) -> bool | None:
        value, present = self._get(key, False)
        if not present:
            return None
        if not isinstance(value, bool):
            self.fail(key, f"{_show(value)} is not true, false or null")
            return None
        return value

    def codes(self, key: str) -> list[str]:
        value, present = self._get(key, False)
        if not present:
            return []
        if not isinstance(value, list):
            self.fail(key, f"expected a list, got {_type_name(value)}")
            return []
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.problems.append(Problem(join(join(self.path, key), i), f"{_show(item)} is not a code"))
            else:
                out.append(item)
        return out

    def records(self, key: str) -> list[tuple[Any, str]]:
        value, present = self._get(key, False)
        if not present:
            return []
        if not isinstance(value, list):
            self.fail(key, f"expected a list, got {_type_name(value)}")
            return []
        return [(item, join(join(self.path, key), i)) for i, item in enumerate(value)]


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "text", list: "a list", dict: "an object"}.get(
        type(value), type(value).__name__
    )


def _default(value: str | None, default: str) -> str:
    """An omitted or null code takes its default; an empty one stays, to be refused with the allowed codes."""
    return default if value is None else value


def _time(reader: _Reader, key: str) -> str | None:
    value = reader.code(key)
    if value is not None and not _TIME_RE.fullmatch(value):
        reader.fail(key, f"{value!r} is not a clock time (expected HH:MM, 00:00–23:59)")
        return None
    return value


def _uid(reader: _Reader, key: str) -> str | None:
    """An optional DICOM UID: omitted or null is None."""
    value, present = reader._get(key, False)
    if not present:
        return None
    problem = uid_problem(value)
    if problem:
        reader.fail(key, problem)
        return None
    return value


def _line(reader: _Reader, key: str, limit: int) -> str | None:
    """An optional single-line text: omitted or null is None (not ""), the text rules of every other field,
    and no line break."""
    value, present = reader._get(key, False)
    if not present:
        return None
    before = len(reader.problems)
    text = reader.text(key, limit=limit)
    if len(reader.problems) != before or text is None:
        return None
    if _LINE_BREAK_RE.search(text):
        reader.fail(key, "contains a line break (one line of text expected)")
        return None
    return text


def imaging_from_dict(obj: Any, path: str, problems: list[Problem]) -> ImagingStudy | None:
    r = _Reader(obj, path, IMAGING_KEYS, problems)
    if not r.ok:
        return None
    before = len(problems)
    kwargs = dict(
        date=r.date("date", True),
        time=_time(r, "time"),
        modality=r.code("modality", True),
        edema_extent_pct=r.number("edema_extent_pct"),
        edema_volume_ml=r.number("edema_volume_ml"),
        edema_regions=r.codes("edema_regions"),
        dce_enhancement=r.code("dce_enhancement"),
        scintigraphy_uptake=r.code("scintigraphy_uptake"),
        accession=r.text("accession"),
        report=r.text("report", limit=MAX_LONG_TEXT),
        study_instance_uid=_uid(r, "study_instance_uid"),
        study_description=_line(r, "study_description", MAX_STUDY_DESCRIPTION),
    )
    for finding in FINDINGS:
        kwargs[finding] = r.boolean(finding)
    return ImagingStudy(**kwargs) if len(problems) == before else None


def symptom_from_dict(obj: Any, path: str, problems: list[Problem]) -> SymptomRecord | None:
    r = _Reader(obj, path, SYMPTOM_KEYS, problems)
    if not r.ok:
        return None
    before = len(problems)
    record = SymptomRecord(
        date=r.date("date", True),
        pain_nrs=r.number("pain_nrs"),
        function_score=r.number("function_score"),
        function_instrument=r.text("function_instrument"),
        weight_bearing=r.code("weight_bearing"),
        note=r.text("note", limit=MAX_LONG_TEXT),
    )
    return record if len(problems) == before else None


def treatment_from_dict(obj: Any, path: str, problems: list[Problem]) -> Treatment | None:
    r = _Reader(obj, path, TREATMENT_KEYS, problems)
    if not r.ok:
        return None
    before = len(problems)
    record = Treatment(
        start=r.date("start", True),
        end=r.date("end"),
        kind=r.code("kind", True),
        detail=r.text("detail", limit=MAX_LONG_TEXT),
    )
    return record if len(problems) == before else None


def episode_from_dict(obj: Any, path: str, problems: list[Problem]) -> Episode | None:
    r = _Reader(obj, path, EPISODE_KEYS, problems)
    if not r.ok:
        return None
    before = len(problems)
    kwargs = dict(
        site=r.code("site", True),
        symptom_onset=r.date("symptom_onset", True),
        resolved_on=r.date("resolved_on"),
        diagnosis=_default(r.code("diagnosis"), TOH),
        pregnancy=r.code("pregnancy"),
        avn_risk_factors=r.codes("avn_risk_factors"),
        notes=r.text("notes", limit=MAX_LONG_TEXT),
    )
    imaging = [imaging_from_dict(o, p, problems) for o, p in r.records("imaging")]
    symptoms = [symptom_from_dict(o, p, problems) for o, p in r.records("symptoms")]
    treatments = [treatment_from_dict(o, p, problems) for o, p in r.records("treatments")]
    if len(problems) != before:
        return None
    return Episode(**kwargs, imaging=imaging, symptoms=symptoms, treatments=treatments)


def patient_from_dict(obj: Any, path: str, problems: list[Problem]) -> Patient | None:
    r = _Reader(obj, path, PATIENT_KEYS, problems)
    if not r.ok:
        return None
    before = len(problems)
    mrn = r.text("mrn", True, limit=64)
    archived = r.boolean("archived")
    kwargs = dict(
        mrn=mrn.strip() if mrn is not None else None,
        family_name=r.text("family_name", True),
        given_name=r.text("given_name", True),
        birth_date=r.date("birth_date", True),
        sex=r.code("sex", True),
        archived=bool(archived),
        notes=r.text("notes", limit=MAX_LONG_TEXT),
    )
    episodes = [episode_from_dict(o, p, problems) for o, p in r.records("episodes")]
    if len(problems) != before:
        return None
    return Patient(**kwargs, episodes=episodes)


def parse_document(obj: Any) -> tuple[list[tuple[Patient, str]], list[Problem]]:
    """Read a loaded tohtrack/1 document into (patient, path) pairs, checking types and shapes only."""
    problems: list[Problem] = []
    r = _Reader(obj, "", ("format", "patients"), problems)
    if not r.ok:
        return [], problems
    fmt = obj.get("format")
    if "format" not in obj:
        problems.append(Problem("format", "is required (expected 'tohtrack/1')"))
    elif fmt != "tohtrack/1":
        problems.append(Problem("format", f"{_show(fmt)} is not a supported format (expected 'tohtrack/1')"))
    if "patients" not in obj:
        problems.append(Problem("patients", "is required"))
    parsed = [(patient_from_dict(o, p, problems), p) for o, p in r.records("patients")]
    return [(patient, path) for patient, path in parsed if patient is not None], problems


def load_document(obj: Any, today: dt.date | None = None) -> list[Patient]:
    """A loaded tohtrack/1 document as patients; raises ValidationError with every problem found."""
    parsed, problems = parse_document(obj)
    problems += check_patients([p for p, _ in parsed], [path for _, path in parsed], today)
    if problems:
        raise ValidationError(problems)
    return [p for p, _ in parsed]


# ---------------------------------------------------------------------------
# Rules (codes, ranges, dates, overlaps)
# ---------------------------------------------------------------------------


# The rules below take the record's path and the field's key apart and join them only for a problem: an import
# of 100 000 patients checks millions of fields and finds, as a rule, nothing.


def _range(problems: list[Problem], path: str, key: str, value: float | None, low: float,
           high: float | None) -> None:
    if value is None:
        return
    if value < low or (high is not None and value > high):
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        if high is None:
            problems.append(Problem(join(path, key), f"{shown} is below {low:g}"))
        else:
            problems.append(Problem(join(path, key), f"{shown} is outside {low:g}–{high:g}"))


def _not_future(problems: list[Problem], path: str, key: str, value: dt.date | None, today: dt.date) -> None:
    if value is not None and value > today:
        problems.append(Problem(join(path, key),
                                f"{value.isoformat()} is in the future (today is {today.isoformat()})"))


def _not_before_onset(problems: list[Problem], path: str, key: str, value: dt.date | None,
                      onset: dt.date | None) -> None:
    if value is not None and onset is not None and value < onset:
        problems.append(
            Problem(join(path, key), f"{value.isoformat()} is before the symptom onset {onset.isoformat()}")
        )


def _code(problems: list[Problem], path: str, key: str | int, value: str | None, codes: tuple[str, ...],
          required: bool = False):
    if value is None:
        if required:
            problems.append(Problem(join(path, key), "is required"))
        return
    if value not in codes:
        problems.append(_code_problem(join(path, key), value, codes))


def _text(problems: list[Problem], path: str, key: str, value: Any, limit: int = MAX_SHORT_TEXT) -> None:
    """The import reader's text rules, for records made in code (dialogs, scripts): a length limit, no
    control characters. Wrong types and missing values are reported by the field's own rule."""
    if not value or not isinstance(value, str):
        return
    if len(value) > limit:
        problems.append(Problem(join(path, key), f"is {len(value)} characters long (at most {limit})"))
    elif _CONTROL_RE.search(value):
        problems.append(Problem(join(path, key), "contains control characters"))


def check_imaging(s: ImagingStudy, path: str = "", onset: dt.date | None = None,
                  today: dt.date | None = None) -> list[Problem]:
    today = today or dt.date.today()
    problems: list[Problem] = []
    _not_future(problems, path, "date", s.date, today)
    _not_before_onset(problems, path, "date", s.date, onset)
    if s.time is not None and not _TIME_RE.fullmatch(s.time):
        problems.append(Problem(join(path, "time"), f"{s.time!r} is not a clock time (expected HH:MM, 00:00–23:59)"))
    _code(problems, path, "modality", s.modality, MODALITIES, required=True)
    _range(problems, path, "edema_extent_pct", s.edema_extent_pct, 0, 100)
    _range(problems, path, "edema_volume_ml", s.edema_volume_ml, 0, MAX_EDEMA_VOLUME_ML)
    seen = set()
    for i, region in enumerate(s.edema_regions):
        _code(problems, join(path, "edema_regions"), i, region, EDEMA_REGIONS)
        if region in seen:
            problems.append(Problem(join(join(path, "edema_regions"), i), f"{region!r} is listed twice"))
        seen.add(region)
    _code(problems, path, "dce_enhancement", s.dce_enhancement, DCE_ENHANCEMENTS)
    _code(problems, path, "scintigraphy_uptake", s.scintigraphy_uptake, SCINTIGRAPHY_UPTAKES)
    _text(problems, path, "accession", s.accession)
    _text(problems, path, "report", s.report, MAX_LONG_TEXT)
    if s.study_instance_uid is not None:
        problem = uid_problem(s.study_instance_uid)
        if problem:
            problems.append(Problem(join(path, "study_instance_uid"), problem))
    if s.study_description is not None:
        if not isinstance(s.study_description, str):
            problems.append(Problem(join(path, "study_description"), f"{_show(s.study_description)} is not text"))
        else:
            _text(problems, path, "study_description", s.study_description, MAX_STUDY_DESCRIPTION)
            if _LINE_BREAK_RE.search(s.study_description):
                problems.append(Problem(join(path, "study_description"),
                                        "contains a line break (one line of text expected)"))
    return problems


def check_symptom(s: SymptomRecord, path: str = "", onset: dt.date | None = None,
                  today: dt.date | None = None) -> list[Problem]:
    today = today or dt.date.today()
    problems: list[Problem] = []
    _not_future(problems, path, "date", s.date, today)
    _not_before_onset(problems, path, "date", s.date, onset)
    _range(problems, path, "pain_nrs", s.pain_nrs, 0, 10)
    _range(problems, path, "function_score", s.function_score, 0, 100)
    _code(problems, path, "weight_bearing", s.weight_bearing, WEIGHT_BEARING)
    _text(problems, path, "function_instrument", s.function_instrument)
    _text(problems, path, "note", s.note, MAX_LONG_TEXT)
    return problems


def check_treatment(t: Treatment, path: str = "", onset: dt.date | None = None,
                    today: dt.date | None = None) -> list[Problem]:
    today = today or dt.date.today()
    problems: list[Problem] = []
    _not_future(problems, path, "start", t.start, today)
    _not_before_onset(problems, path, "start", t.start, onset)
    if t.end is not None and t.start is not None and t.end < t.start:
        problems.append(Problem(join(path, "end"), f"{t.end.isoformat()} is before the start {t.start.isoformat()}"))
    _code(problems, path, "kind", t.kind, TREATMENT_KINDS, required=True)
    _text(problems, path, "detail", t.detail, MAX_LONG_TEXT)
    return problems


def check_episode_fields(e: Episode, path: str = "", birth_date: dt.date | None = None,
                         today: dt.date | None = None) -> list[Problem]:
    """The episode's own fields, without its findings."""
    today = today or dt.date.today()
    problems: list[Problem] = []
    _code(problems, path, "site", e.site, SITES, required=True)
    _not_future(problems, path, "symptom_onset", e.symptom_onset, today)
    if birth_date is not None and e.symptom_onset is not None and e.symptom_onset < birth_date:
        problems.append(
            Problem(join(path, "symptom_onset"),
                    f"{e.symptom_onset.isoformat()} is before the birth date {birth_date.isoformat()}")
        )
    _not_future(problems, path, "resolved_on", e.resolved_on, today)
    _not_before_onset(problems, path, "resolved_on", e.resolved_on, e.symptom_onset)
    _code(problems, path, "diagnosis", e.diagnosis, DIAGNOSES, required=True)
    _code(problems, path, "pregnancy", e.pregnancy, PREGNANCY_STATES)
    seen = set()
    for i, factor in enumerate(e.avn_risk_factors):
        _code(problems, join(path, "avn_risk_factors"), i, factor, AVN_RISK_FACTORS)
        if factor in seen:
            problems.append(Problem(join(join(path, "avn_risk_factors"), i), f"{factor!r} is listed twice"))
        seen.add(factor)
    _text(problems, path, "notes", e.notes, MAX_LONG_TEXT)
    return problems


def check_episode(e: Episode, path: str = "", birth_date: dt.date | None = None,
                  today: dt.date | None = None) -> list[Problem]:
    """The episode and all of its findings."""
    return check_episode_fields(e, path, birth_date, today) + check_findings(e, path, today)


def check_findings(e: Episode, path: str = "", today: dt.date | None = None) -> list[Problem]:
    """The episode's imaging studies, symptom records and treatments (paths such as imaging[2].date)."""
    problems: list[Problem] = []
    for i, s in enumerate(e.imaging):
        problems += check_imaging(s, join(join(path, "imaging"), i), e.symptom_onset, today)
    for i, s in enumerate(e.symptoms):
        problems += check_symptom(s, join(join(path, "symptoms"), i), e.symptom_onset, today)
    for i, t in enumerate(e.treatments):
        problems += check_treatment(t, join(join(path, "treatments"), i), e.symptom_onset, today)
    return problems


def check_patient_fields(p: Patient, path: str = "", today: dt.date | None = None) -> list[Problem]:
    """The patient's own fields, without the episodes."""
    today = today or dt.date.today()
    problems: list[Problem] = []
    if not (p.mrn or "").strip():
        problems.append(Problem(join(path, "mrn"), "is empty"))
    elif p.mrn != p.mrn.strip():
        problems.append(Problem(join(path, "mrn"), "has spaces at its ends"))
    if not (p.family_name or "").strip():
        problems.append(Problem(join(path, "family_name"), "is empty"))
    _not_future(problems, path, "birth_date", p.birth_date, today)
    _code(problems, path, "sex", p.sex, SEXES, required=True)
    for key in ("mrn", "family_name", "given_name"):
        _text(problems, path, key, getattr(p, key))
    _text(problems, path, "notes", p.notes, MAX_LONG_TEXT)
    return problems


def overlap_problems(episodes: list[Episode], path: str = "",
                     indexes: list[int] | None = None) -> list[Problem]:
    """Two episodes at one site may not overlap: each starts after the previous one resolved.

    `indexes` gives each episode's position for the problem path (default: list order).
    """
    problems: list[Problem] = []
    indexes = indexes if indexes is not None else list(range(len(episodes)))
    by_site: dict[str, list[tuple[Episode, int]]] = {}
    for episode, index in zip(episodes, indexes):
        if episode.site and episode.symptom_onset:
            by_site.setdefault(episode.site, []).append((episode, index))
    for site, items in by_site.items():
        items.sort(key=lambda item: (item[0].symptom_onset, item[1]))
        for (prev, _), (cur, cur_index) in zip(items, items[1:]):
            where = join(join(path, "episodes"), cur_index) + ".symptom_onset"
            if prev.resolved_on is None:
                problems.append(Problem(where, (
                    f"overlaps the {site_label(site)} episode of {prev.symptom_onset.isoformat()}, "
                    "which is not resolved")))
            elif cur.symptom_onset <= prev.resolved_on:
                problems.append(Problem(where, (
                    f"overlaps the {site_label(site)} episode of {prev.symptom_onset.isoformat()}, "
                    f"resolved on {prev.resolved_on.isoformat()}: a new episode starts after that")))
    return problems


def check_patient(p: Patient, path: str = "", today: dt.date | None = None) -> list[Problem]:
    """The patient, all episodes and findings, and the overlap rule."""
    problems = check_patient_fields(p, path, today)
    for i, e in enumerate(p.episodes):
        problems += check_episode(e, join(join(path, "episodes"), i), p.birth_date, today)
    problems += overlap_problems(p.episodes, path)
    return problems


def check_patients(patients: list[Patient], paths: list[str], today: dt.date | None = None) -> list[Problem]:
    """Every rule for a set of patients, unique MRNs within the set included."""
    today = today or dt.date.today()  # once, not for every record
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    for p, path in zip(patients, paths):
        problems += check_patient(p, path, today)
        if p.mrn:
            if p.mrn in first_seen:
                problems.append(Problem(join(path, "mrn"), f"{p.mrn!r} appears twice in the file (also {first_seen[p.mrn]})"))
            else:
                first_seen[p.mrn] = path
    return problems
