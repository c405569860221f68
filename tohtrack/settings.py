"""The clinic settings: their text forms, parsing and validation (the database stores the text forms)."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Callable, Mapping, NamedTuple

from .model import Problem, ValidationError
from .model import text_problem

WEEKS, MONTHS = "w", "m"
#: Approximate length of a review offset unit, to check that a schedule runs forward.
DAYS_PER_UNIT = {WEEKS: 7.0, MONTHS: 30.44}
MAX_OFFSET = {WEEKS: 520, MONTHS: 120}
MAX_REVIEWS = 12
MAX_WINDOW_MONTHS = 36
MAX_CLINIC_NAME = 200
BACKUP_KEEP = (1, 365)
PAPER_SIZES = ("A4", "Letter")
#: The identifier system of MRNs in FHIR bundles until a clinic sets its own (tohtrack.fhir documents it).
DEFAULT_FHIR_MRN_SYSTEM = "https://tohtrack.invalid/fhir/sid/mrn"
MAX_URI = 255


@dataclass(frozen=True)
class Settings:
    """A clinic's settings; every value is checked when the settings are made."""

    resolution_window_months: tuple[int, int] = (6, 8)
    review_schedule: tuple[tuple[int, str], ...] = ((6, WEEKS), (3, MONTHS), (6, MONTHS), (8, MONTHS))
    clinic_name: str = ""
    paper_size: str = "A4"
    backup_keep: int = 10
    fhir_mrn_system: str = DEFAULT_FHIR_MRN_SYSTEM

    def __post_init__(self) -> None:
        problems = []
        for key in KEYS:
            try:
                _RULES[key].check(getattr(self, key))
            except ValueError as exc:
                problems.append(Problem(key, str(exc)))
        if problems:
            raise ValidationError(problems)


# ---------------------------------------------------------------------------
# One reader (text -> value), checker (value rules) and writer (value -> text) per key
# ---------------------------------------------------------------------------

_WHOLE = re.compile(r"[0-9]+")
_WINDOW = re.compile(r"([0-9]+)\s*[-–]\s*([0-9]+)")
_OFFSET = re.compile(r"([0-9]+)([wWmM])")


def _is_whole(value: Any) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _read_window(text: str) -> tuple[int, int]:
    """'6-8' -> (6, 8)."""
    match = _WINDOW.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a window of whole months (expected W1-W2, e.g. 6-8)")
    return int(match[1]), int(match[2])


def _check_window(value: Any) -> None:
    """1 <= W1 <= W2 <= 36 whole months."""
    if not (isinstance(value, (tuple, list)) and len(value) == 2 and all(map(_is_whole, value))):
        raise ValueError(f"{value!r} is not a pair of whole months")
    first, last = value
    if first < 1:
        raise ValueError(f"{first}-{last}: the window starts at 1 month at the earliest")
    if last > MAX_WINDOW_MONTHS:
        raise ValueError(f"{first}-{last}: the window ends at {MAX_WINDOW_MONTHS} months at the latest")
    if first > last:
        raise ValueError(f"{first}-{last}: the window starts after it ends")


def _write_window(value: tuple[int, int]) -> str:
    """(6, 8) -> '6-8'."""
    return f"{value[0]}-{value[1]}"


def _read_schedule(text: str) -> tuple[tuple[int, str], ...]:
    """'6w 3m' (spaces or commas between) -> ((6, 'w'), (3, 'm'))."""
    offsets = []
    for token in text.replace(",", " ").split():
        match = _OFFSET.fullmatch(token)
        if not match:
            raise ValueError(f"{token!r} is not a review offset (expected Nw or Nm, e.g. 6w or 3m)")
        offsets.append((int(match[1]), match[2].lower()))
    return tuple(offsets)


def _check_schedule(value: Any) -> None:
    """1 to 12 offsets, each later than the one before."""
    if not isinstance(value, (tuple, list)):
        raise ValueError(f"{value!r} is not a list of review offsets")
    if not 1 <= len(value) <= MAX_REVIEWS:
        raise ValueError(f"has {len(value)} reviews (expected 1 to {MAX_REVIEWS}, e.g. 6w 3m 6m 8m)")
    previous = None
    for offset in value:
        _check_offset(offset)
        if previous is not None and _days(offset) <= _days(previous):
            raise ValueError(
                f"{_write_offset(offset)} does not come after {_write_offset(previous)} "
                "(list the reviews in order from onset, each once)")
        previous = offset


def _check_offset(offset: Any) -> None:
    """A whole number of weeks (1–520) or months (1–120)."""
    if not (isinstance(offset, (tuple, list)) and len(offset) == 2
            and _is_whole(offset[0]) and offset[1] in MAX_OFFSET):
        raise ValueError(f"{offset!r} is not a review offset (expected Nw or Nm, e.g. 6w or 3m)")
    count, unit = offset
    if not 1 <= count <= MAX_OFFSET[unit]:
        raise ValueError(f"{count}{unit} is outside 1–{MAX_OFFSET[unit]}{unit}")


def _days(offset: tuple[int, str]) -> float:
    """The approximate length of an offset in days."""
    return offset[0] * DAYS_PER_UNIT[offset[1]]


def _write_offset(offset: tuple[int, str]) -> str:
    """(6, 'w') -> '6w'."""
    return f"{offset[0]}{offset[1]}"


def _write_schedule(value: tuple[tuple[int, str], ...]) -> str:
    """((6, 'w'), (3, 'm')) -> '6w 3m'."""
    return " ".join(map(_write_offset, value))


def _check_clinic_name(value: Any) -> None:
    """Text of at most 200 characters, without control characters."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not text")
    if len(value) > MAX_CLINIC_NAME:
        raise ValueError(f"is {len(value)} characters long (at most {MAX_CLINIC_NAME})")
    problem = text_problem(value)  # the character rules of every single-line text (it heads every report)
    if problem:
        raise ValueError(problem)


def _read_paper_size(text: str) -> str:
    """A4 or Letter, in any case."""
    for size in PAPER_SIZES:
        if text.strip().lower() == size.lower():
            return size
    raise ValueError(f"{text!r} is not a paper size (allowed: {', '.join(PAPER_SIZES)})")


def _check_paper_size(value: Any) -> None:
    """Exactly A4 or Letter."""
    if value not in PAPER_SIZES:
        raise ValueError(f"{value!r} is not a paper size (allowed: {', '.join(PAPER_SIZES)})")


def _read_backup_keep(text: str) -> int:
    """Digits only."""
    if not _WHOLE.fullmatch(text.strip()):
        raise ValueError(f"{text!r} is not a whole number of backups")
    return int(text)


def _check_backup_keep(value: Any) -> None:
    """A whole number from 1 to 365."""
    if not _is_whole(value):
        raise ValueError(f"{value!r} is not a whole number of backups")
    low, high = BACKUP_KEEP
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}–{high}")


_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[!-~]+")


def _check_uri(value: Any) -> None:
    """An absolute URI (scheme:rest, printable ASCII, no spaces) of at most 255 characters, as FHIR's
    Identifier.system asks (e.g. https://hospital.example/mrn or urn:oid:1.2.3)."""
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not text")
    if len(value) > MAX_URI:
        raise ValueError(f"is {len(value)} characters long (at most {MAX_URI})")
    if not _URI.fullmatch(value):
        raise ValueError(f"{value!r} is not an absolute URI (expected e.g. https://hospital.example/mrn or "
                         "urn:oid:1.2.3)")


class _Rule(NamedTuple):
    read: Callable[[str], Any]
    check: Callable[[Any], None]
    write: Callable[[Any], str]


_RULES = {
    "resolution_window_months": _Rule(_read_window, _check_window, _write_window),
    "review_schedule": _Rule(_read_schedule, _check_schedule, _write_schedule),
    "clinic_name": _Rule(str.strip, _check_clinic_name, str),
    "paper_size": _Rule(_read_paper_size, _check_paper_size, str),
    "backup_keep": _Rule(_read_backup_keep, _check_backup_keep, str),
    "fhir_mrn_system": _Rule(str.strip, _check_uri, str),
}

#: The setting keys, in the order they are listed.
KEYS = tuple(f.name for f in fields(Settings))

# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------


def _unknown(key: str) -> Problem:
    """The problem of a key that is not a setting."""
    return Problem(key, f"unknown setting (known: {', '.join(KEYS)})")


def _rule(key: str) -> _Rule:
    """The rule of a key; raises ValidationError for an unknown key."""
    if key not in _RULES:
        raise ValidationError([_unknown(key)])
    return _RULES[key]


def parse(key: str, text: str) -> Any:
    """The value of a setting written as text; raises ValidationError naming the key."""
    rule = _rule(key)
    if not isinstance(text, str):
        raise ValidationError([Problem(key, f"{text!r} is not text")])
    try:
        value = rule.read(text)
        rule.check(value)
    except ValueError as exc:
        raise ValidationError([Problem(key, str(exc))]) from None
    return value


def format(key: str, value: Any) -> str:  # noqa: A001 - the contract's name
    """The text form of a setting's value; raises ValidationError if the value breaks a rule."""
    rule = _rule(key)
    try:
        rule.check(value)
    except ValueError as exc:
        raise ValidationError([Problem(key, str(exc))]) from None
    return rule.write(value)


def from_texts(texts: Mapping[str, str]) -> Settings:
    """Settings from their text forms; missing keys take the defaults, every problem is reported."""
    problems = [_unknown(key) for key in texts if key not in _RULES]
    values = {}
    for key in KEYS:
        try:
            values[key] = parse(key, texts.get(key, DEFAULTS[key]))
        except ValidationError as exc:
            problems += exc.problems
    if problems:
        raise ValidationError(problems)
    return Settings(**values)


def to_texts(settings: Settings) -> dict[str, str]:
    """The text form of every setting, in key order."""
    return {key: format(key, getattr(settings, key)) for key in KEYS}


#: The text form of each default value.
DEFAULTS = to_texts(Settings())
