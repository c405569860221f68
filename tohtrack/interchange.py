"""The tohtrack/1 JSON interchange format: import (all or nothing) and export (every field, stable order)."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any, Iterable

from . import model
from .db import Store
from .model import Episode, Patient, Problem, ValidationError
from .perf import gc_paused

FORMAT = "tohtrack/1"


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


def _value(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2 ** 53:
        return int(value)
    return value


def _record(record: Any, keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: _value(getattr(record, key)) for key in keys}


def episode_to_dict(episode: Episode) -> dict[str, Any]:
    out = _record(episode, model.EPISODE_KEYS[:-3])
    out["avn_risk_factors"] = list(episode.avn_risk_factors)
    out["imaging"] = [dict(_record(s, model.IMAGING_KEYS), edema_regions=list(s.edema_regions))
                      for s in sorted(episode.imaging, key=model.ImagingStudy.order)]
    out["symptoms"] = [_record(s, model.SYMPTOM_KEYS) for s in sorted(episode.symptoms, key=lambda s: s.date)]
    out["treatments"] = [_record(t, model.TREATMENT_KEYS) for t in sorted(episode.treatments, key=lambda t: t.start)]
    return out


def patient_to_dict(patient: Patient) -> dict[str, Any]:
    out = _record(patient, model.PATIENT_KEYS[:-1])
    out["archived"] = bool(patient.archived)
    out["episodes"] = [episode_to_dict(e) for e in sorted(patient.episodes, key=lambda e: (e.symptom_onset, e.site))]
    return out


def document(patients: Iterable[Patient]) -> dict[str, Any]:
    """A tohtrack/1 document of these patients, ordered by MRN."""
    return {"format": FORMAT, "patients": [patient_to_dict(p) for p in sorted(patients, key=lambda p: p.mrn)]}


def dumps(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def export_document(store: Store, mrns: Iterable[str] | None = None) -> dict[str, Any]:
    """Every patient (archived included), or those MRNs (NotFound for an unknown one)."""
    if mrns is None:
        return document(store.patients())
    ids = dict.fromkeys(store.patient_id(m) for m in mrns)  # ' EX-01' and 'EX-01' are one patient: once
    return document(store.patients(list(ids)))


def write_file(path: str | os.PathLike, text: str) -> None:
    """Write a file readable by its owner only, through a temporary file, so a failure leaves nothing half-written."""
    path = Path(path)
    partial = path.with_name(f".{path.name}.partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if hasattr(os, "fchmod"):  # a leftover from a killed process keeps its mode through O_CREAT
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()


# ---------------------------------------------------------------------------
# Import
# ---------------------------------------------------------------------------


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"the key {key!r} appears twice in one object")
        out[key] = value
    return out


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number in JSON")


def loads(text: str | bytes) -> Any:
    """Parse JSON strictly (duplicate keys, NaN and Infinity refused); ValidationError on failure."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationError([Problem("", f"the file is not UTF-8 text (byte {exc.start})")]) from None
    try:
        return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValidationError([Problem("", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]) from None
    except (ValueError, RecursionError) as exc:
        raise ValidationError([Problem("", f"not valid JSON: {exc}")]) from None


def read_file(path: str | os.PathLike) -> Any:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ValidationError([Problem("", f"cannot read {path}: {exc.strerror}")]) from None
    return loads(data)


@gc_paused()  # a file's records are many objects that all stay alive until written
def import_document(store: Store, doc: Any, today: dt.date | None = None) -> list[Patient]:
    """Import a loaded tohtrack/1 document in one transaction; ValidationError lists every problem."""
    parsed, problems = model.parse_document(doc)
    patients = [p for p, _ in parsed]
    paths = [path for _, path in parsed]
    problems += model.check_patients(patients, paths, today)
    if problems:
        raise ValidationError(problems + store.mrn_clashes(patients, paths))
    store.add_patients(patients, paths, today, validate=False)
    return patients


@gc_paused()
def import_file(store: Store, path: str | os.PathLike, today: dt.date | None = None) -> list[Patient]:
    return import_document(store, read_file(path), today)
