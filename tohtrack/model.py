"""Records of a TOHtrack patient history, their code lists, and the validation of both."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Iterable

# ---------------------------------------------------------------------------
# Code lists (docs/format.md)
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
#: The edema regions of each joint (the hip's are the femoral head, neck and intertrochanteric region and the
#: acetabulum); `other` is a region of every joint. An imaging study names regions of its episode's joint.
EDEMA_REGIONS_BY_JOINT: dict[str, tuple[str, ...]] = {
    "hip": ("head", "neck", "intertrochanteric", "acetabulum", "other"),
    "knee": ("medial_femoral_condyle", "lateral_femoral_condyle", "medial_tibial_plateau", "lateral_tibial_plateau",
             "patella", "other"),
    "ankle": ("talus", "distal_tibia", "distal_fibula", "other"),
    "foot": ("calcaneus", "navicular", "cuboid", "cuneiforms", "metatarsals", "other"),
    "shoulder": ("humeral_head", "glenoid", "other"),
    "elbow": ("other",),
    "wrist": ("distal_radius", "scaphoid", "lunate", "other_carpals", "other"),
    "hand": ("other",),
}
#: Every region code of any joint (a study whose joint is not known may name any of them).
EDEMA_REGIONS = tuple(dict.fromkeys(code for codes in EDEMA_REGIONS_BY_JOINT.values() for code in codes))
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


#: Region codes in words, one table for every screen, plot and report.
REGION_LABELS = {
    "head": "femoral head",
    "neck": "femoral neck",
    "intertrochanteric": "intertrochanteric",
    "acetabulum": "acetabulum",
    "medial_femoral_condyle": "medial femoral condyle",
    "lateral_femoral_condyle": "lateral femoral condyle",
    "medial_tibial_plateau": "medial tibial plateau",
    "lateral_tibial_plateau": "lateral tibial plateau",
    "patella": "patella",
    "talus": "talus",
    "distal_tibia": "distal tibia",
    "distal_fibula": "distal fibula",
    "calcaneus": "calcaneus",
    "navicular": "navicular",
    "cuboid": "cuboid",
    "cuneiforms": "cuneiforms",
    "metatarsals": "metatarsals",
    "humeral_head": "humeral head",
    "glenoid": "glenoid",
    "distal_radius": "distal radius",
    "scaphoid": "scaphoid",
    "lunate": "lunate",
    "other_carpals": "other carpal bones",
    "other": "other region",
}


def region_label(code: str) -> str:
    """A region code in words: 'medial_femoral_condyle' -> 'medial femoral condyle'."""
    return REGION_LABELS.get(code, code.replace("_", " "))


def regions_of(site: str | None) -> tuple[str, ...]:
    """The edema region codes of a site's joint ('knee_left' or 'knee'); every code for an unknown joint."""
    return EDEMA_REGIONS_BY_JOINT.get(site_joint(site or ""), EDEMA_REGIONS)


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
    """An imaging study of an episode's site: its date, modality, edema and the findings read on it."""

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
    """What the patient reports at a visit: pain, function and weight bearing."""

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
    """A treatment given for an episode, from its start (to its end, if it ended)."""

    start: dt.date
    kind: str
    end: dt.date | None = None
    detail: str = ""
    id: int | None = None
    version: int | None = None


@dataclass
class Episode:
    """One episode at one joint site, from symptom onset (to resolution), with its findings."""

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
    """A patient (MRN, name, birth date, sex) and their episodes."""

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
# Identities and text: the character rules, MRN keys, plausible dates
# ---------------------------------------------------------------------------

#: The longest MRN accepted.
MAX_MRN = 64
#: The longest clinician name accepted (it is stored with every audit entry).
MAX_CLINICIAN = 100
#: The earliest birth date accepted: every date of a record lies between it and a few years ahead of today.
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
#: A planned treatment end lies at most this many years after today.
PLANNED_END_YEARS = 5
#: A pregnancy is recorded only for a patient of this age (whole years at the episode's onset).
PREGNANCY_AGES = (10, 60)

# Unicode general categories no text may hold: they are invisible or undefined, and let two MRNs or names that
# look the same differ (a zero-width space), or let text reorder or hide what is around it (bidi overrides).
_REFUSED_CATEGORIES = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Cn": "an unassigned character",
    "Co": "a private-use character",
    "Cs": "a lone surrogate",
}
# Characters Unicode marks as ignorable (Default_Ignorable_Code_Point: shown as nothing at all) although their
# category is not one of the above: the combining grapheme joiner, Hangul fillers, Khmer inherent vowels,
# Mongolian free variation selectors and the variation selectors. In an MRN, a name or any one-line text they
# make a second 'D0-000001' that looks exactly like the first; refused there (a note may keep an emoji's
# variation selector).
_INVISIBLE_RANGES = (
    (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0), (0xE0100, 0xE01EF),
)


def _invisible(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _INVISIBLE_RANGES)


# Line and paragraph separators are line breaks: refused in single-line texts like a newline.
_LINE_BREAK_CATEGORIES = ("Zl", "Zp")
_SINGLE_LINE_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7e]")


def _refused_reason(char: str, multiline: bool) -> str | None:
    """Why one character is refused in a text (None: it is allowed)."""
    if char < "\x7f":
        if char >= " " or (multiline and char in "\t\n\r"):
            return None
        return "a line break" if char in "\n\r" else "a tab" if char == "\t" else "a control character"
    category = unicodedata.category(char)
    reason = _REFUSED_CATEGORIES.get(category)
    if reason is None and not multiline:
        if category in _LINE_BREAK_CATEGORIES:
            reason = "a line break"
        elif _invisible(char):
            reason = "an invisible character"
    return reason


def refused_character(text: str, multiline: bool = False) -> tuple[int, str] | None:
    """The first character of `text` the character rules refuse, as (index, reason); None if there is none.

    Refused everywhere: control characters (Unicode category Cc) — in multi-line texts (notes, reports) except
    tab and line breaks —, format characters (Cf: zero-width characters, soft hyphen, byte order mark, bidi
    embeddings, overrides and isolates), unassigned (Cn), private-use (Co) and surrogate code points (Cs).
    Single-line texts also refuse the line and paragraph separators U+2028 and U+2029, and the other characters
    Unicode says to show as nothing (the combining grapheme joiner U+034F, the Hangul fillers U+115F, U+1160,
    U+3164 and U+FFA0, U+17B4–U+17B5, U+180B–U+180F, and the variation selectors U+FE00–U+FE0F and
    U+E0100–U+E01EF).
    """
    control = (_CONTROL_RE if multiline else _SINGLE_LINE_CONTROL_RE).search(text)
    first = control.start() if control else None
    if not text.isascii():  # the common case (plain ASCII) costs two scans in C
        for match in _NON_ASCII_RE.finditer(text):
            if first is not None and match.start() > first:
                break
            if _refused_reason(match.group(), multiline):
                first = match.start()
                break
    if first is None:
        return None
    return first, _refused_reason(text[first], multiline) or "a control character"


def describe_character(char: str) -> str:
    """'U+200B ZERO WIDTH SPACE', for messages (never the character itself: it is invisible or worse)."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def text_problem(text: str, multiline: bool = False) -> str | None:
    """The character rules of every text field: None if `text` passes, else the message (without the path).

    The one rule used by the tohtrack/1 reader, record validation (and so the dialogs and the store), and the
    command line (--clinician)."""
    found = refused_character(text, multiline)
    if found is None:
        return None
    index, reason = found
    where = f" at position {index + 1}" if len(text) > 1 else ""
    hint = "; it must be one line" if reason == "a line break" else ""
    return f"contains {reason} ({describe_character(text[index])}){where}{hint}"


def is_blank(text: str | None) -> bool:
    """Whether a text is empty once spaces and refused (invisible) characters are taken out."""
    if not text:
        return True
    if text.isascii():
        return not text.strip()
    return all(char.isspace() or _refused_reason(char, False) is not None for char in text)


def normalize_mrn(text: str) -> str:
    """An MRN as stored: Unicode NFKC (fullwidth 'Ｈ-000123' is 'H-000123'), spaces at the ends trimmed.
    Case is kept as written."""
    return unicodedata.normalize("NFKC", text).strip()


def mrn_key(text: str) -> str:
    """What makes two MRNs the same: NFKC, case folded, trimmed, invisible characters left out.

    'H-000123', 'h-000123', 'Ｈ-000123' and 'H-000123' with a zero-width space have one key. Stored (unique) beside
    each patient's MRN, and used by every lookup by MRN."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())
    if folded.isascii():
        folded = _SINGLE_LINE_CONTROL_RE.sub("", folded)
    else:
        folded = "".join(char for char in folded if _refused_reason(char, False) is None)
    return folded.strip()


def check_mrn(mrn: Any) -> str | None:
    """The problem with an MRN (None if it is fine): present, not blank, at most MAX_MRN characters, the
    character rules, stored normalised (normalize_mrn)."""
    if not isinstance(mrn, str) or is_blank(mrn):
        return "is empty"
    if len(mrn) > MAX_MRN:
        return f"is {len(mrn)} characters long (at most {MAX_MRN})"
    problem = text_problem(mrn)
    if problem:
        return problem
    if mrn != mrn.strip():
        return "has spaces at its ends"
    if mrn != normalize_mrn(mrn):
        return f"is not in Unicode normal form NFKC (write it as {normalize_mrn(mrn)!r})"
    return None


def check_clinician(name: Any) -> str | None:
    """The problem with a clinician name (None if it is fine): one line of at most MAX_CLINICIAN characters
    under the character rules. Empty is allowed (no clinician named)."""
    if not isinstance(name, str):
        return f"{_show(name)} is not text"
    if len(name) > MAX_CLINICIAN:
        return f"is {len(name)} characters long (at most {MAX_CLINICIAN})"
    return text_problem(name)


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Age in whole years on `day`."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def pregnancy_problem(pregnancy: str | None, sex: str | None, birth_date: dt.date | None,
                      onset: dt.date | None) -> str | None:
    """Why a recorded pregnancy is implausible for this patient (None: it is plausible or not recorded)."""
    if pregnancy is None:
        return None
    if sex == "male":
        return "a pregnancy cannot be recorded for a male patient"
    if birth_date is not None and onset is not None and onset >= birth_date:
        age = age_on(birth_date, onset)
        low, high = PREGNANCY_AGES
        if not low <= age <= high:
            return (f"a pregnancy at age {age} (at the symptom onset) is not plausible; "
                    f"it is recorded from age {low} to {high}")
    return None


def latest_planned_end(today: dt.date) -> dt.date:
    """The latest planned treatment end accepted: PLANNED_END_YEARS after today (28 February for 29 February)."""
    try:
        return today.replace(year=today.year + PLANNED_END_YEARS)
    except ValueError:
        return today.replace(year=today.year + PLANNED_END_YEARS, day=28)


def planned_end_problem(end: dt.date | None, today: dt.date) -> str | None:
    if end is None:
        return None
    latest = latest_planned_end(today)
    if end > latest:
        return (f"{end.isoformat()} is more than {PLANNED_END_YEARS} years ahead "
                f"(the latest planned end is {latest.isoformat()})")
    return None


def isolate_mrn(mrn: str) -> str:
    """An MRN for display: a left-to-right isolate (U+2066 … U+2069), so that no neighbouring text — a
    right-to-left name, say — can reorder it or be reordered by it."""
    return f"\u2066{mrn}\u2069"


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

    def text(self, key: str, required: bool = False, limit: int = MAX_SHORT_TEXT,
             not_blank: bool = False) -> str | None:
        """Text under the character rules; long texts (notes, reports) are the multi-line ones. `not_blank`: a
        value of nothing but spaces and invisible characters is empty (an MRN, a family name)."""
        value, present = self._get(key, required)
        if not present:
            return None if required else ""
        if not isinstance(value, str):
            self.fail(key, f"{_show(value)} is not text")
            return None
        if len(value) > limit:
            self.fail(key, f"is {len(value)} characters long (at most {limit})")
            return None
        if not_blank and is_blank(value):
            self.fail(key, "is empty")
            return None
        problem = text_problem(value, multiline=limit > MAX_SHORT_TEXT)
        if problem:
            self.fail(key, problem)
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
    mrn = r.text("mrn", True, limit=MAX_MRN, not_blank=True)
    archived = r.boolean("archived")
    kwargs = dict(
        mrn=normalize_mrn(mrn) if mrn is not None else None,
        family_name=r.text("family_name", True, not_blank=True),
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
        return
    problem = text_problem(value, multiline=limit > MAX_SHORT_TEXT)
    if problem:
        problems.append(Problem(join(path, key), problem))


def check_imaging(s: ImagingStudy, path: str = "", onset: dt.date | None = None,
                  today: dt.date | None = None, site: str | None = None) -> list[Problem]:
    """The study's own rules; `onset` and `site` are its episode's (the regions must be of the site's joint)."""
    today = today or dt.date.today()
    problems: list[Problem] = []
    _not_future(problems, path, "date", s.date, today)
    _not_before_onset(problems, path, "date", s.date, onset)
    if s.time is not None and not _TIME_RE.fullmatch(s.time):
        problems.append(Problem(join(path, "time"), f"{s.time!r} is not a clock time (expected HH:MM, 00:00–23:59)"))
    _code(problems, path, "modality", s.modality, MODALITIES, required=True)
    _range(problems, path, "edema_extent_pct", s.edema_extent_pct, 0, 100)
    _range(problems, path, "edema_volume_ml", s.edema_volume_ml, 0, MAX_EDEMA_VOLUME_ML)
    problems += region_problems(s.edema_regions, join(path, "edema_regions"), site)
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


def region_problems(regions: list[str], path: str, site: str | None) -> list[Problem]:
    """Edema region codes checked against the joint of the episode's site (any joint's when the site is not
    known): each a region of that joint, none listed twice."""
    problems: list[Problem] = []
    joint = site_joint(site or "")
    codes = regions_of(site)
    seen = set()
    for i, region in enumerate(regions):
        if region not in codes:
            where = f"a {joint} region" if joint in EDEMA_REGIONS_BY_JOINT else "a known code"
            problems.append(Problem(join(path, i), f"{_show(region)} is not {where} (allowed: {_allowed(codes)})"))
        elif region in seen:
            problems.append(Problem(join(path, i), f"{region!r} is listed twice"))
        seen.add(region)
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
    end_problem = planned_end_problem(t.end, today)
    if end_problem:
        problems.append(Problem(join(path, "end"), end_problem))
    _code(problems, path, "kind", t.kind, TREATMENT_KINDS, required=True)
    _text(problems, path, "detail", t.detail, MAX_LONG_TEXT)
    return problems


def check_episode_fields(e: Episode, path: str = "", birth_date: dt.date | None = None,
                         today: dt.date | None = None, sex: str | None = None) -> list[Problem]:
    """The episode's own fields, without its findings (`sex` and `birth_date`: the patient's, for the
    pregnancy rule)."""
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
    pregnancy = pregnancy_problem(e.pregnancy, sex, birth_date, e.symptom_onset)
    if pregnancy:
        problems.append(Problem(join(path, "pregnancy"), pregnancy))
    seen = set()
    for i, factor in enumerate(e.avn_risk_factors):
        _code(problems, join(path, "avn_risk_factors"), i, factor, AVN_RISK_FACTORS)
        if factor in seen:
            problems.append(Problem(join(join(path, "avn_risk_factors"), i), f"{factor!r} is listed twice"))
        seen.add(factor)
    _text(problems, path, "notes", e.notes, MAX_LONG_TEXT)
    return problems


def check_episode(e: Episode, path: str = "", birth_date: dt.date | None = None,
                  today: dt.date | None = None, sex: str | None = None) -> list[Problem]:
    """The episode and all of its findings."""
    return check_episode_fields(e, path, birth_date, today, sex) + check_findings(e, path, today)


def check_findings(e: Episode, path: str = "", today: dt.date | None = None) -> list[Problem]:
    """The episode's imaging studies, symptom records and treatments (paths such as imaging[2].date)."""
    problems: list[Problem] = []
    for i, s in enumerate(e.imaging):
        problems += check_imaging(s, join(join(path, "imaging"), i), e.symptom_onset, today, e.site)
    for i, s in enumerate(e.symptoms):
        problems += check_symptom(s, join(join(path, "symptoms"), i), e.symptom_onset, today)
    for i, t in enumerate(e.treatments):
        problems += check_treatment(t, join(join(path, "treatments"), i), e.symptom_onset, today)
    return problems


def check_patient_fields(p: Patient, path: str = "", today: dt.date | None = None) -> list[Problem]:
    """The patient's own fields, without the episodes."""
    today = today or dt.date.today()
    problems: list[Problem] = []
    mrn_problem = check_mrn(p.mrn)
    if mrn_problem:
        problems.append(Problem(join(path, "mrn"), mrn_problem))
    if is_blank(p.family_name):
        problems.append(Problem(join(path, "family_name"), "is empty"))
    else:
        _text(problems, path, "family_name", p.family_name)
    _text(problems, path, "given_name", p.given_name)
    _not_future(problems, path, "birth_date", p.birth_date, today)
    if p.birth_date is not None and p.birth_date < EARLIEST_BIRTH_DATE:
        problems.append(Problem(join(path, "birth_date"), f"{p.birth_date.isoformat()} is before "
                                f"{EARLIEST_BIRTH_DATE.isoformat()} (the earliest birth date accepted)"))
    _code(problems, path, "sex", p.sex, SEXES, required=True)
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
        problems += check_episode(e, join(join(path, "episodes"), i), p.birth_date, today, p.sex)
    problems += overlap_problems(p.episodes, path)
    return problems


def check_patients(patients: list[Patient], paths: list[str], today: dt.date | None = None) -> list[Problem]:
    """Every rule for a set of patients, unique MRNs within the set included."""
    today = today or dt.date.today()  # once, not for every record
    problems: list[Problem] = []
    first_seen: dict[str, tuple[str, str]] = {}
    for p, path in zip(patients, paths):
        problems += check_patient(p, path, today)
        repeated = repeated_mrn(first_seen, p.mrn, path)
        if repeated:
            problems.append(repeated)
    return problems


def repeated_mrn(first_seen: dict[str, tuple[str, str]], mrn: Any, path: str) -> Problem | None:
    """The problem when this MRN is one already seen in the file (as MRNs compare), else None and it is noted:
    `first_seen` maps each MRN key to the path and spelling it was first seen with."""
    if not mrn or not isinstance(mrn, str):
        return None
    key = mrn_key(mrn)
    if key not in first_seen:
        first_seen[key] = (path, mrn)
        return None
    other_path, other = first_seen[key]
    same = "appears twice in the file" if other == mrn else f"is the same MRN as {other!r}"
    return Problem(join(path, "mrn"), f"{mrn!r} {same} (also {other_path})")
