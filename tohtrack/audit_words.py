"""The audit trail in the form's language, for the app's history view and `tohtrack audit`.

An audit entry stores a record's columns as written (`pain_nrs`, `episode_id`, 1 for yes). Read in the order of
the trail, the entries say what each record was at each change, so a change reads as the clinician entered it:
"MRI of 20 Apr 2025, right hip: edema 55 % → 58 %", "Symptoms of 3 May 2025, right hip: pain (NRS) 7 → 5".
`AuditReader` keeps, per record, only what names it (a study's modality, date and episode; an episode's site and
onset), so that a whole database's trail can be read in one pass.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from . import model
from .wording import FINDING_WORDS, SEX_WORDS, UPTAKE_WORDS, WEIGHT_BEARING_WORDS, date_text, episode_name

ACTIONS = {"create": "created", "update": "changed", "delete": "removed"}
#: What each table's records are called when nothing names them better.
RECORDS = {"patients": "patient", "episodes": "episode", "imaging": "imaging study", "symptoms": "symptom record",
           "treatments": "treatment", "settings": "setting"}

#: Each column as the form labels it (lower case: a change reads '…: edema 55 % → 58 %').
FIELD_LABELS = {
    "patients": {"mrn": "MRN", "family_name": "family name", "given_name": "given name", "birth_date": "birth date",
                 "sex": "sex", "archived": "archived", "notes": "notes"},
    "episodes": {"site": "site", "symptom_onset": "symptom onset", "resolved_on": "resolved on",
                 "diagnosis": "diagnosis", "pregnancy": "pregnancy", "avn_risk_factors": "AVN risk factors",
                 "notes": "notes", "patient_id": "patient"},
    "imaging": {"date": "date", "time": "time", "modality": "modality", "edema_extent_pct": "edema",
                "edema_volume_ml": "edema volume", "edema_regions": "edema regions",
                **FINDING_WORDS, "dce_enhancement": "dynamic contrast enhancement",
                "scintigraphy_uptake": "scintigraphy uptake", "accession": "accession number", "report": "report",
                "episode_id": "episode"},
    "symptoms": {"date": "date", "pain_nrs": "pain (NRS)", "function_score": "function score",
                 "function_instrument": "function instrument", "weight_bearing": "weight bearing", "note": "note",
                 "episode_id": "episode"},
    "treatments": {"start": "start", "end": "end", "kind": "treatment", "detail": "detail",
                   "episode_id": "episode"},
    "settings": {"key": "setting", "value": "value"},
}
#: Columns a create entry need not list: they link the record to its parent, which its name already says.
_LINKS = {"patient_id", "episode_id"}
_DATES = {"birth_date", "symptom_onset", "resolved_on", "date", "start", "end"}
_BOOLEANS = {*model.FINDINGS, "archived"}
_UNITS = {"edema_extent_pct": " %", "edema_volume_ml": " mL", "pain_nrs": "", "function_score": ""}
_CODE_WORDS: dict[str, dict[str, str]] = {
    "sex": SEX_WORDS,
    "diagnosis": model.DIAGNOSIS_LABELS,
    "pregnancy": model.PREGNANCY_LABELS,
    "modality": model.MODALITY_LABELS,
    "kind": model.TREATMENT_LABELS,
    "weight_bearing": WEIGHT_BEARING_WORDS,
    "dce_enhancement": {"early": "early enhancement", "none": "no enhancement"},
    "scintigraphy_uptake": UPTAKE_WORDS,
}
_RISK_FACTORS = {"hiv": "HIV", "sle": "SLE", "sickle_cell": "sickle cell disease", "gaucher": "Gaucher disease"}
_SETTINGS = {"resolution_window_months": "resolution window (months)", "review_schedule": "review schedule",
             "clinic_name": "clinic name", "paper_size": "paper size", "backup_keep": "backups kept"}


@dataclass(frozen=True)
class Change:
    """One field of an audit entry, worded: its label, and the old and new values ('' where there is none)."""

    label: str
    old: str
    new: str

    def text(self, action: str) -> str:
        if action == "create":
            return f"{self.label}: {self.new}"
        if action == "delete":
            return f"{self.label} was {self.old}"
        return f"{self.label} {self.old} → {self.new}"


@dataclass(frozen=True)
class AuditLine:
    """An audit entry as a person reads it."""

    at: str  # the entry's UTC timestamp, as stored
    who: str  # 'os user (clinician)'
    action: str  # 'created', 'changed', 'removed'
    subject: str  # 'MRI of 20 Apr 2025, right hip'
    changes: tuple[Change, ...]
    mrn: str | None

    def text(self) -> str:
        """'MRI of 20 Apr 2025, right hip: edema 55 % → 58 %' (several changes joined by '; ')."""
        verb = {"created": "created", "removed": "removed"}.get(self.action)
        body = "; ".join(c.text(_RAW.get(self.action, self.action)) for c in self.changes)
        if verb and not body:
            return f"{self.subject} {verb}"
        if verb:
            return f"{self.subject} {verb}: {body}"
        return f"{self.subject}: {body}" if body else f"{self.subject} changed"


_RAW = {words: raw for raw, words in ACTIONS.items()}


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _codes(value: Any) -> list:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return [value]
    return list(value) if isinstance(value, (list, tuple)) else [value]


def value_words(table: str, field: str, value: Any) -> str:
    """A stored value as the form shows it: dates '12 Feb 2026', codes in words, yes / no / not assessed."""
    if field in _BOOLEANS:
        if value is None:
            return "not assessed" if field in model.FINDINGS else "no"
        return "yes" if value in (1, True) else "no"
    if value is None or value == "":
        if field in ("dce_enhancement", "scintigraphy_uptake"):
            return "not assessed"
        if field == "end":
            return "ongoing"
        return "not recorded" if table != "settings" else "—"
    if field in _DATES and isinstance(value, str):
        try:
            return date_text(dt.date.fromisoformat(value))
        except ValueError:
            return value
    if field in _UNITS:
        return _number(value) + _UNITS[field]
    if field == "site" and isinstance(value, str):
        return model.site_label(value)
    if field == "edema_regions":
        return ", ".join(model.region_label(str(c)) for c in _codes(value)) or "none"
    if field == "avn_risk_factors":
        return ", ".join(_RISK_FACTORS.get(str(c), str(c).replace("_", " ")) for c in _codes(value)) or "none"
    words = _CODE_WORDS.get(field)
    if words is not None:
        return words.get(str(value), str(value))
    if table == "settings" and field == "key":
        return _SETTINGS.get(str(value), str(value))
    return _number(value)


def field_label(table: str, field: str) -> str:
    return FIELD_LABELS.get(table, {}).get(field, field.replace("_", " "))


class AuditReader:
    """Reads audit entries in trail order and words each one (`line`); keeps what names each record."""

    def __init__(self) -> None:
        # episode id -> (patient id, site, onset); finding (table, id) -> (episode id, name fields); settings keys
        self._episodes: dict[int, tuple[int | None, str, str]] = {}
        self._findings: dict[tuple[str, int], dict[str, Any]] = {}
        self._settings: dict[int, str] = {}

    def lines(self, entries: Iterable[Any]) -> Iterator[AuditLine]:
        for entry in entries:
            yield self.line(entry)

    def line(self, e: Any) -> AuditLine:
        """One entry (a db.AuditEntry) in words, given the entries read before it."""
        old, new = e.old or {}, e.new or {}
        self._remember(e, old, new)
        subject = self._subject(e.table_name, e.row_id)
        fields = [f for f in dict.fromkeys([*new, *old])
                  if not (e.action != "update" and f in _LINKS)
                  and not (e.table_name == "settings" and f == "key")]
        changes = []
        for f in fields:
            if f in _LINKS:  # a record moved to another episode (or patient)
                changes.append(Change(field_label(e.table_name, f), self._parent(f, old.get(f)),
                                      self._parent(f, new.get(f))))
                continue
            changes.append(Change(field_label(e.table_name, f),
                                  value_words(e.table_name, f, old.get(f)) if e.action != "create" else "",
                                  value_words(e.table_name, f, new.get(f)) if e.action != "delete" else ""))
        if e.action == "delete":
            self._forget(e.table_name, e.row_id)
        who = e.os_user + (f" ({e.clinician})" if e.clinician else "")
        return AuditLine(e.at, who, ACTIONS.get(e.action, e.action), subject, tuple(changes), e.mrn)

    # -- what names a record ------------------------------------------------------------------------------

    def _remember(self, e: Any, old: dict, new: dict) -> None:
        table, rid = e.table_name, e.row_id
        if table == "episodes":
            before = self._episodes.get(rid, (e.patient_id, "", ""))
            values = {"patient_id": before[0], "site": before[1], "symptom_onset": before[2], **old, **new}
            site, onset = values.get("site"), values.get("symptom_onset")
            self._episodes[rid] = (values.get("patient_id", e.patient_id), site if isinstance(site, str) else "",
                                   onset if isinstance(onset, str) else "")
        elif table in ("imaging", "symptoms", "treatments"):
            kept = self._findings.setdefault((table, rid), {})
            for key in ("episode_id", "date", "start", "modality", "kind", "time"):
                if key in new:
                    kept[key] = new[key]
                elif key in old and key not in kept:
                    kept[key] = old[key]
        elif table == "settings":
            key = new.get("key", old.get("key"))
            if isinstance(key, str):
                self._settings[rid] = key

    def _forget(self, table: str, rid: int) -> None:
        if table in ("imaging", "symptoms", "treatments"):
            self._findings.pop((table, rid), None)
        # a removed episode stays known: its findings' removals, which come first, already named it

    def _episode_name(self, episode_id: Any) -> str:
        known = self._episodes.get(episode_id) if isinstance(episode_id, int) else None
        if known is None or not known[1]:
            return ""
        patient, site, onset = known
        if not onset:
            return model.site_label(site)
        onsets: dict[str, list[dt.date]] = {}
        for p, s, o in self._episodes.values():
            if p == patient and o:
                try:
                    onsets.setdefault(s, []).append(dt.date.fromisoformat(o))
                except ValueError:  # not a date (a damaged entry): that episode is left out of the naming
                    pass
        try:
            return episode_name(site, dt.date.fromisoformat(onset), onsets)
        except ValueError:
            return model.site_label(site)

    def _parent(self, field: str, value: Any) -> str:
        if value is None:
            return "none"
        if field == "episode_id":
            return f"the {self._episode_name(value)} episode" if self._episode_name(value) else f"episode {value}"
        return f"patient {value}"

    def _subject(self, table: str, rid: int) -> str:
        if table == "patients":
            return "Patient details"
        if table == "settings":
            key = self._settings.get(rid)
            return f"Setting {_SETTINGS.get(key, key)}" if key else "A setting"
        if table == "episodes":
            name = self._episode_name(rid)
            onset = self._episodes.get(rid, (None, "", ""))[2]
            if not name:
                return "Episode"
            name = name[:1].upper() + name[1:]
            if "episode of" in name:  # 'Left hip, episode of March 2024'
                return name
            return f"{name} episode" + (f", onset {value_words(table, 'symptom_onset', onset)}" if onset else "")
        kept = self._findings.get((table, rid), {})
        where = self._episode_name(kept.get("episode_id"))
        where = f", {where}" if where else ""
        if table == "imaging":
            modality = model.MODALITY_LABELS.get(str(kept.get("modality")), RECORDS[table])
            day = value_words(table, "date", kept.get("date")) if kept.get("date") else ""
            name = f"{modality} of {day}" if day else modality
            return name[:1].upper() + name[1:] + where
        if table == "symptoms":
            day = value_words(table, "date", kept.get("date")) if kept.get("date") else ""
            return (f"Symptoms of {day}" if day else "Symptom record") + where
        if table == "treatments":
            kind = model.TREATMENT_LABELS.get(str(kept.get("kind")), RECORDS[table])
            day = value_words(table, "start", kept.get("start")) if kept.get("start") else ""
            name = f"{kind} from {day}" if day else kind
            return name[:1].upper() + name[1:] + where
        return RECORDS.get(table, table).capitalize()
