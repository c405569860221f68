"""Tidy CSV for analysis: one UTF-8 CSV per record type, one row per record, keys to join them, and a
Frictionless Data Package (datapackage.json) saying each column's type and meaning.

`tohtrack export --format csv -o DIR [--deidentify] [--as-of DATE]` and File → Export → CSV for analysis…

With `deidentify` the export follows the timeline report's de-identification: a random id per patient instead
of MRN and names, no birth date (a 5-year age band at the as-of date instead), dates as months since the
patient's first onset, and no free text at all (notes, reports, details, accession numbers, DICOM UIDs and
descriptions, unknown instrument names, clock times).

The directory is written safely: the files go to a new temporary directory next to it, which is renamed into
place only when complete; an existing non-empty directory is refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from . import __version__, model
from .course import assess
from .model import FINDINGS, Patient, Problem, ValidationError
from .plotdata import months_from
from .report import age_band, deidentify_text, new_report_id, stripped
from .settings import Settings
from .wording import age

# (name, Frictionless type, description); the identified and de-identified column lists differ.
Field = tuple[str, str, str]

_K = "integer"
_DATE_NOTE = "ISO date YYYY-MM-DD"
_MONTH_NOTE = "months since the patient's first symptom onset (one decimal; negative before it)"


def _date_field(name: str, what: str, deidentify: bool) -> Field:
    if deidentify:
        return (f"{name}_month", "number", f"{what}: {_MONTH_NOTE}")
    return (name, "date", f"{what} ({_DATE_NOTE})")


def columns(deidentify: bool) -> dict[str, list[Field]]:
    """Each table's columns, in order."""
    d = deidentify
    patient_key = ("patient_key", "string" if d else _K,
                   "the patient's random id (different in every export)" if d else "the patient's key in this export")
    episode_key = ("episode_key", _K, "the episode's key in this export")
    patients = [patient_key]
    if d:
        patients += [("age_band", "string", "age in 5-year bands at the as-of date ('90 years or older' above)")]
    else:
        patients += [("mrn", "string", "medical record number"),
                     ("family_name", "string", "family name"), ("given_name", "string", "given name"),
                     ("birth_date", "date", f"birth date ({_DATE_NOTE})")]
    patients += [("sex", "string", "male, female, other or unknown"),
                 ("archived", "boolean", "true when the patient is archived")]
    if not d:
        patients += [("notes", "string", "free-text notes")]
    episodes = [episode_key, patient_key,
                ("site", "string", "<joint>_<side>, e.g. hip_left"),
                _date_field("symptom_onset", "the date symptoms began", d),
                _date_field("resolved_on", "the date the episode was judged resolved (empty: not resolved)", d),
                ("diagnosis", "string", "transient_osteoporosis (TOH) or the revised diagnosis"),
                ("pregnancy", "string", "pregnancy state at onset: trimester_1/2/3, postpartum or empty"),
                ("avn_risk_factors", "string", "avascular necrosis risk factors, separated by spaces")]
    if not d:
        episodes += [("notes", "string", "free-text notes")]
    imaging = [("study_key", _K, "the imaging study's key in this export"), episode_key, patient_key,
               _date_field("date", "the study date", d)]
    if not d:
        imaging += [("time", "string", "local clock time HH:MM (empty: not recorded)")]
    imaging += [("modality", "string", "MRI, XR (radiograph), NM (bone scintigraphy) or CT"),
                ("edema_extent_pct", "number", "share (0-100) of the bone's epiphysis and metaphysis with edema"),
                ("edema_volume_ml", "number", "edema volume in mL"),
                ("edema_regions", "string", "regions of the joint with edema, separated by spaces"),
                ("dce_enhancement", "string", "dynamic contrast MRI: early or none"),
                ("scintigraphy_uptake", "string", "normal, increased_homogeneous, focal or photopenic")]
    if not d:
        imaging += [("accession", "string", "radiology accession number"),
                    ("study_instance_uid", "string", "DICOM Study Instance UID"),
                    ("study_description", "string", "DICOM study description"),
                    ("report", "string", "radiology report text")]
    findings = [("study_key", _K, "the imaging study (imaging.csv)"),
                ("finding", "string", "the finding's code: " + ", ".join(FINDINGS)),
                ("value", "boolean", "true present, false assessed and absent, empty not assessed")]
    symptoms = [("symptom_key", _K, "the symptom record's key in this export"), episode_key, patient_key,
                _date_field("date", "the date of the record", d),
                ("pain_nrs", "number", "pain, numeric rating scale 0-10"),
                ("function_score", "number", "function score 0-100"),
                ("function_instrument", "string", "the function score's instrument (e.g. Harris Hip Score)"),
                ("weight_bearing", "string", "full, partial, protected or non")]
    if not d:
        symptoms += [("note", "string", "free-text note")]
    treatments = [("treatment_key", _K, "the treatment's key in this export"), episode_key, patient_key,
                  _date_field("start", "the start date", d), _date_field("end", "the end date (empty: ongoing)", d),
                  ("kind", "string", "the treatment's kind code")]
    if not d:
        treatments += [("detail", "string", "dose, schedule (free text)")]
    flags = [("flag_key", _K, "the flag's key in this export"), episode_key, patient_key,
             _date_field("as_of", "the date the course assessment was made as of", d),
             ("code", "string", "the flag's code (see the README's course rules)"),
             ("severity", "string", "warning or info"),
             ("message", "string", "the flag's message" + (" (dates as months since the first onset)" if d else ""))]
    return {"patients": patients, "episodes": episodes, "imaging": imaging, "findings": findings,
            "symptoms": symptoms, "treatments": treatments, "flags": flags}


PRIMARY_KEYS = {"patients": ["patient_key"], "episodes": ["episode_key"], "imaging": ["study_key"],
                "findings": ["study_key", "finding"], "symptoms": ["symptom_key"], "treatments": ["treatment_key"],
                "flags": ["flag_key"]}
_PARENTS = {"episodes": [("patient_key", "patients")],
            "imaging": [("episode_key", "episodes"), ("patient_key", "patients")],
            "findings": [("study_key", "imaging")],
            "symptoms": [("episode_key", "episodes"), ("patient_key", "patients")],
            "treatments": [("episode_key", "episodes"), ("patient_key", "patients")],
            "flags": [("episode_key", "episodes"), ("patient_key", "patients")]}
TABLES = tuple(PRIMARY_KEYS)


def datapackage(deidentify: bool, as_of: dt.date, counts: dict[str, int] | None = None) -> dict[str, Any]:
    """The Frictionless Data Package descriptor of an export."""
    cols = columns(deidentify)
    resources = []
    for name in TABLES:
        schema: dict[str, Any] = {
            "fields": [{"name": n, "type": t, "description": desc} for n, t, desc in cols[name]],
            "missingValues": [""],
            "primaryKey": PRIMARY_KEYS[name],
        }
        if name in _PARENTS:
            schema["foreignKeys"] = [{"fields": [key], "reference": {"resource": parent, "fields": [key]}}
                                     for key, parent in _PARENTS[name]]
        resource = {"name": name, "path": f"{name}.csv", "profile": "tabular-data-resource", "format": "csv",
                    "mediatype": "text/csv", "encoding": "utf-8", "schema": schema}
        if counts is not None:
            resource["description"] = f"{counts.get(name, 0)} rows"
        resources.append(resource)
    return {
        "profile": "tabular-data-package",
        "name": "tohtrack-export" + ("-deidentified" if deidentify else ""),
        "title": "TOHtrack export for analysis" + (" (de-identified)" if deidentify else ""),
        # De-identified, the as-of date is left out: with each patient's as_of_month it would give the onsets.
        "description": f"Exported by TOHtrack {__version__}"
                       + (". De-identified: random patient ids, age bands, dates as months since each patient's "
                          "first onset, no free text." if deidentify else f"; flags as of {as_of.isoformat()}."),
        "resources": resources,
    }


def _number(value: float | None) -> str:
    if value is None:
        return ""
    value = float(value)
    return str(int(value)) if value.is_integer() and abs(value) < 2 ** 53 else repr(value)


def _bool(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def _text(value: str | None) -> str:
    return value or ""


@dataclass
class Tables:
    rows: dict[str, list[list[str]]]
    deidentify: bool
    as_of: dt.date


def build(patients: Iterable[Patient], as_of: dt.date, deidentify: bool = False,
          settings: Settings = Settings()) -> Tables:
    """Every table's rows (as text) for these patients."""
    rows: dict[str, list[list[str]]] = {name: [] for name in TABLES}
    items = []
    used: set[str] = set()
    for patient in patients:
        if deidentify:
            key = new_report_id()
            while key in used:
                key = new_report_id()
            used.add(key)
            items.append((key, patient))
        else:
            items.append((None, patient))
    if deidentify:  # the random ids give the order: nothing in it follows MRN, name or entry order
        items.sort(key=lambda item: item[0])
    else:
        items.sort(key=lambda item: item[1].mrn)
    counter = {name: 0 for name in ("episodes", "imaging", "symptoms", "treatments", "flags")}

    def next_key(table: str) -> str:
        counter[table] += 1
        return str(counter[table])

    for i, (random_id, original) in enumerate(items, start=1):
        patient = stripped(original) if deidentify else original
        pkey = random_id if deidentify else str(i)
        origin = min((e.symptom_onset for e in patient.episodes), default=None)

        def day(value: dt.date | None) -> str:
            if value is None:
                return ""
            if not deidentify:
                return value.isoformat()
            return f"{months_from(origin, value):.1f}" if origin else ""

        if deidentify:
            rows["patients"].append([pkey, age_band(age(original.birth_date, as_of)), patient.sex,
                                     _bool(patient.archived)])
        else:
            rows["patients"].append([pkey, patient.mrn, patient.family_name, patient.given_name,
                                     patient.birth_date.isoformat(), patient.sex, _bool(patient.archived),
                                     patient.notes])
        episode_keys: dict[int, str] = {}
        for episode in sorted(patient.episodes, key=lambda e: (e.symptom_onset, e.site)):
            ekey = episode_keys[id(episode)] = next_key("episodes")
            row = [ekey, pkey, episode.site, day(episode.symptom_onset), day(episode.resolved_on),
                   episode.diagnosis, _text(episode.pregnancy), " ".join(episode.avn_risk_factors)]
            rows["episodes"].append(row if deidentify else row + [episode.notes])
            for s in sorted(episode.imaging, key=model.ImagingStudy.order):
                skey = next_key("imaging")
                row = [skey, ekey, pkey, day(s.date)]
                if not deidentify:
                    row.append(_text(s.time))
                row += [s.modality, _number(s.edema_extent_pct), _number(s.edema_volume_ml),
                        " ".join(s.edema_regions), _text(s.dce_enhancement), _text(s.scintigraphy_uptake)]
                if not deidentify:
                    row += [s.accession, _text(s.study_instance_uid), _text(s.study_description), s.report]
                rows["imaging"].append(row)
                rows["findings"] += [[skey, f, _bool(getattr(s, f))] for f in FINDINGS]
            for r in sorted(episode.symptoms, key=lambda r: r.date):
                row = [next_key("symptoms"), ekey, pkey, day(r.date), _number(r.pain_nrs),
                       _number(r.function_score), r.function_instrument, _text(r.weight_bearing)]
                rows["symptoms"].append(row if deidentify else row + [r.note])
            for t in sorted(episode.treatments, key=lambda t: t.start):
                row = [next_key("treatments"), ekey, pkey, day(t.start), day(t.end), t.kind]
                rows["treatments"].append(row if deidentify else row + [t.detail])
        assessment = assess(patient, as_of, settings)

        def words(value: dt.date) -> str:
            return f"month {day(value)}" if origin else "—"

        for flag in assessment.flags:
            message = deidentify_text(flag.message, words) if deidentify else flag.message
            rows["flags"].append([next_key("flags"), episode_keys.get(id(flag.episode), ""), pkey, day(as_of),
                                  flag.code, flag.severity, message])
    return Tables(rows, deidentify, as_of)


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def check_target(directory: str | os.PathLike) -> Path:
    """The output directory: new, or an existing empty one; anything else is refused (ValidationError)."""
    target = Path(directory)
    name = str(directory)
    if not name:
        raise ValidationError([Problem("-o", "no output folder named")])
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise ValidationError([Problem(name, "is a file, a link or a device, not a folder; name a new folder")])
    if target.is_dir() and any(target.iterdir()):
        raise ValidationError([Problem(name, "is a folder that is not empty; name a new or empty folder")])
    parent = target.absolute().parent
    if not parent.is_dir():
        raise ValidationError([Problem(name, f"its parent folder {parent} does not exist")])
    return target


def write(directory: str | os.PathLike, tables: Tables) -> dict[str, int]:
    """Write the CSVs and datapackage.json into `directory` (new or empty), all at once; returns the counts."""
    target = check_target(directory)
    parent = target.absolute().parent
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=parent))
    try:
        cols = columns(tables.deidentify)
        counts = {name: len(tables.rows[name]) for name in TABLES}
        for name in TABLES:
            text = _csv_text([c[0] for c in cols[name]], tables.rows[name])
            _write(staging / f"{name}.csv", text)
        descriptor = datapackage(tables.deidentify, tables.as_of, counts)
        _write(staging / "datapackage.json", json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n")
        if target.is_dir():  # empty (checked): replaced by the complete staging folder
            target.rmdir()
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return counts


def _write(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


def export(store, directory: str | os.PathLike, as_of: dt.date | None = None, deidentify: bool = False,
           mrns: Iterable[str] | None = None,
           progress: Callable[[int], Any] | None = None) -> dict[str, int]:
    """Export the database (or these patients) as tidy CSV into a new directory; returns each table's rows."""
    check_target(directory)
    as_of = as_of or dt.date.today()
    if mrns is None:
        patients = store.patients()
    else:
        ids = dict.fromkeys(store.patient_id(m) for m in mrns)
        patients = store.patients(list(ids))
    tables = build(patients, as_of, deidentify, store.settings())
    return write(directory, tables)
