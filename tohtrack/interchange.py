"""The tohtrack/1 JSON interchange format: import (all or nothing) and export (every field, stable order)."""

from __future__ import annotations

import codecs
import datetime as dt
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator

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
    """Every patient (archived included), or those MRNs (NotFound for an unknown one), as one document in memory.

    For files use `write_export`, which streams patient by patient."""
    return document(store.patients(export_ids(store, mrns)))


def export_ids(store: Store, mrns: Iterable[str] | None = None) -> list[int]:
    """The ids of the patients to export, in the export's order (by MRN); NotFound for an unknown MRN.

    Asked before anything is written, so an unknown MRN leaves no output behind."""
    if mrns is None:
        rows = store.patient_mrns()
    else:
        ids = list(dict.fromkeys(store.patient_id(m) for m in mrns))  # ' EX-01' and 'EX-01' are one patient: once
        rows = store.patient_mrns(ids)
    rows.sort(key=lambda row: row[1])  # by MRN as Python orders text (as `document` does), not by a collation
    return [row[0] for row in rows]


def export_chunks(store: Store, ids: list[int]) -> Iterator[str]:
    """The tohtrack/1 text of these patients, one patient at a time: exactly `dumps(document(...))`.

    Only a batch of patients is in memory at once (Store.patients loads them in batches), so memory stays flat
    however many patients there are. Each patient is encoded as `json.dumps(indent=2)` would encode it at
    its depth: its lines indented by four more spaces (JSON text holds no raw line breaks inside strings)."""
    yield "{\n  " + json.dumps("format") + ": " + json.dumps(FORMAT, ensure_ascii=False) + ",\n  " \
        + json.dumps("patients") + ": ["
    first = True
    for patient in store.patients(ids):
        text = json.dumps(patient_to_dict(patient), ensure_ascii=False, indent=2)
        yield ("\n    " if first else ",\n    ") + text.replace("\n", "\n    ")
        first = False
    yield "]\n}\n" if first else "\n  ]\n}\n"


class _Buffered:
    """Collects text and writes it encoded in large pieces (few system calls, little memory)."""

    def __init__(self, write, size: int = 1 << 20):
        self.write_bytes, self.size, self.parts, self.length = write, size, [], 0

    def write(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)
        if self.length >= self.size:
            self.flush()

    def flush(self) -> None:
        if self.parts:
            self.write_bytes("".join(self.parts).encode("utf-8"))
            self.parts, self.length = [], 0


def write_export(store: Store, out: str | os.PathLike, mrns: Iterable[str] | None = None) -> Path:
    """Export to a file (all or nothing, readable by its owner only) or, for '-', to standard output.

    The file is never the open database nor anything of its own (safety.check_output): refused, exit 2."""
    from . import safety

    if os.fspath(out) != "-":
        safety.check_output(out, store.path)  # before the patients are read: a refused output costs nothing
    ids = export_ids(store, mrns)
    return write_chunks(out, export_chunks(store, ids), store.path)


def write_chunks(out: str | os.PathLike, chunks: Iterable[str], database: str | os.PathLike | None) -> Path:
    """Text made piece by piece written to a file (safety.atomic_output: all or nothing, 0600, never the
    database) or, for '-', to standard output; only about a megabyte of it is held at once."""
    from . import safety

    if os.fspath(out) == "-":
        safety.check_stream(sys.stdout, database)
        sys.stdout.flush()  # text printed before goes first
        stream = getattr(sys.stdout, "buffer", None)
        buffered = _Buffered(stream.write if stream is not None else lambda b: sys.stdout.write(b.decode()))
        for chunk in chunks:
            buffered.write(chunk)
        buffered.flush()
        sys.stdout.flush()
        return Path("-")
    with safety.atomic_output(out, database) as f:
        buffered = _Buffered(f.write)
        for chunk in chunks:
            buffered.write(chunk)
        buffered.flush()
    return Path(out)


def write_file(path: str | os.PathLike, text: str, database: str | os.PathLike | None = None) -> None:
    """Write a file readable by its owner only, through a temporary file, so a failure leaves nothing half-written
    (safety.atomic_output: never through a file or link another user planted, never over the database)."""
    from . import safety

    safety.write_output(path, text.encode("utf-8"), database)


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
    """The whole file parsed (for small files and tests; `import_file` streams). Regular files only."""
    from . import safety

    with safety.open_input(path) as f:
        try:
            data = f.read()
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


# ---------------------------------------------------------------------------
# Streaming import
# ---------------------------------------------------------------------------

#: Text read from the file at a time, and the most one value (a patient with its whole history) may take.
READ_CHARS = 1 << 20
MAX_VALUE_CHARS = 64 << 20
#: Patients checked and written together (inside the one transaction of the whole import).
BATCH = 500

_WS = re.compile(r"[ \t\n\r]*")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)


@dataclass
class ImportCounts:
    patients: int = 0
    episodes: int = 0
    findings: int = 0

    def __len__(self) -> int:
        return self.patients


class _Source:
    """JSON text read incrementally from a binary file: values are decoded one at a time by the json module's
    C scanner (`raw_decode`), so duplicate keys and NaN are refused as in `loads`, and only the value being
    read (one patient) is held in memory. Keeps count of lines for error messages as `json.loads` gives them."""

    def __init__(self, f: BinaryIO):
        self.f = f
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self.buf, self.pos, self.eof = "", 0, False
        self.bytes_read = 0
        self.line, self.line_start, self.base = 1, 0, 0  # lines before buf, where the last began, buf's offset

    def _compact(self) -> None:
        consumed = self.buf[:self.pos]
        newlines = consumed.count("\n")
        if newlines:
            self.line += newlines
            self.line_start = self.base + consumed.rindex("\n") + 1
        self.base += self.pos
        self.buf, self.pos = self.buf[self.pos:], 0

    def more(self, at_least: int = 0) -> bool:
        """Read more text; False at the end of the file."""
        if self.eof:
            return False
        self._compact()
        try:
            data = self.f.read(max(at_least, READ_CHARS))
        except OSError as exc:
            raise ValidationError([Problem("", f"cannot read the file ({exc.strerror or exc})")]) from None
        try:
            text = self.decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            where = max(0, self.bytes_read + exc.start - len(self.decoder.getstate()[0]))
            raise ValidationError([Problem("", f"the file is not UTF-8 text (byte {where})")]) from None
        self.bytes_read += len(data)
        if not data:
            self.eof = True
        self.buf += text
        return True

    def error(self, message: str, pos: int | None = None) -> ValidationError:
        pos = self.pos if pos is None else pos
        before = self.buf[:pos]
        newlines = before.count("\n")
        line = self.line + newlines
        start = self.base + before.rindex("\n") + 1 if newlines else self.line_start
        column = self.base + pos - start + 1
        return ValidationError([Problem("", f"not valid JSON: {message} at line {line} column {column}")])

    def peek(self) -> str:
        """The next character that is not white space ('' at the end of the file)."""
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()
            if self.pos < len(self.buf) or not self.more():
                return self.buf[self.pos:self.pos + 1]

    def expect(self, char: str, message: str) -> None:
        if self.peek() != char:
            raise self.error(message)
        self.pos += 1

    def value(self, path: str = "") -> tuple[Any, str]:
        """The next JSON value and its text."""
        self.peek()
        while True:
            try:
                obj, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if not self.eof and (exc.pos >= len(self.buf) - 6 or exc.msg.startswith("Unterminated string")):
                    self._grow(path)  # perhaps only cut off where the text read so far ends
                    continue
                raise self.error(exc.msg, exc.pos) from None
            except (ValueError, RecursionError) as exc:
                raise ValidationError([Problem("", f"not valid JSON: {exc}")]) from None
            if end >= len(self.buf) and not self.eof:  # a number may go on in the text not read yet
                self._grow(path)
                continue
            text = self.buf[self.pos:end]
            self.pos = end
            return obj, text

    def _grow(self, path: str) -> None:
        if len(self.buf) - self.pos > MAX_VALUE_CHARS:
            where = path or "a value"
            raise ValidationError([Problem(path, f"{'is' if path else where + ' is'} larger than "
                                                 f"{MAX_VALUE_CHARS >> 20} MB of text; nothing was imported")])
        self.more(len(self.buf) - self.pos)  # doubles what is held: a large patient is decoded a few times only


def _lone_surrogate(value: Any, path: str) -> str | None:
    """The path of the first text holding a lone surrogate (a \\udXXX escape that is not half of a pair)."""
    if isinstance(value, str):
        return path if any("\ud800" <= c <= "\udfff" for c in value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _lone_surrogate(key, path) or _lone_surrogate(item, model.join(path, key))
            if found is not None:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _lone_surrogate(item, model.join(path, i))
            if found is not None:
                return found
    return None


class _Importer:
    """Checks and writes patients batch by batch inside the import's one transaction; once a problem is found
    it only checks (the transaction is rolled back at the end), so every problem is named."""

    def __init__(self, store: Store, today: dt.date | None):
        self.store, self.today = store, today or dt.date.today()
        self.parse_problems: list[Problem] = []
        self.check_problems: list[Problem] = []
        self.clash_problems: list[Problem] = []
        self.first_seen: dict[str, tuple[str, str]] = {}  # MRN key -> (path, MRN as written there)
        self.batch: list[tuple[Patient, str]] = []
        self.counts = ImportCounts()

    @property
    def failed(self) -> bool:
        return bool(self.parse_problems or self.check_problems or self.clash_problems)

    def add(self, obj: Any, path: str, text: str) -> None:
        if _SURROGATE_ESCAPE.search(text):
            where = _lone_surrogate(obj, path)
            if where is not None:
                self.parse_problems.append(Problem(where, "holds a lone surrogate (a \\ud800–\\udfff escape that "
                                                          "is not half of a pair), which is not text"))
        patient = model.patient_from_dict(obj, path, self.parse_problems)
        if patient is None:
            return
        self.check_problems += model.check_patients([patient], [path], self.today)
        repeated = model.repeated_mrn(self.first_seen, patient.mrn, path)
        if repeated:
            self.check_problems.append(repeated)
            return
        self.batch.append((patient, path))
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        patients, paths = [p for p, _ in batch], [path for _, path in batch]
        if self.failed:
            self.clash_problems += self.store.mrn_clashes(patients, paths)
            return
        try:
            self.store.add_patients(patients, paths, self.today, validate=False)
        except ValidationError as exc:  # MRNs already in the database
            self.clash_problems += exc.problems
            return
        self.counts.patients += len(patients)
        for patient in patients:
            self.counts.episodes += len(patient.episodes)
            self.counts.findings += sum(len(e.imaging) + len(e.symptoms) + len(e.treatments) for e in patient.episodes)


@gc_paused()  # records are freed by reference counting as each batch is written; the collector only costs time
def import_stream(store: Store, f: BinaryIO, today: dt.date | None = None) -> ImportCounts:
    """Import a tohtrack/1 document read from a binary file, patient by patient: memory stays flat however
    large the file. All or nothing (one transaction); ValidationError names every problem (a file that is not
    JSON: its first syntax error)."""
    source = _Source(f)
    if source.peek() != "{":  # not an object: read whole (bounded), and let the format's rules say what it is
        doc, _ = source.value()
        if source.peek():
            raise source.error("Extra data")
        return _counts(import_document(store, doc, today))
    source.pos += 1
    importer = _Importer(store, today)
    top: dict[str, Any] = {}
    with store.transaction():
        while True:
            char = source.peek()
            if char == "}" and not top:
                source.pos += 1
                break
            if char != '"':
                raise source.error("Expecting property name enclosed in double quotes")
            key, _ = source.value()
            if key in top:
                raise ValidationError([Problem("", f"not valid JSON: the key {key!r} appears twice in one object")])
            source.expect(":", "Expecting ':' delimiter")
            if key == "patients" and source.peek() == "[":
                top[key] = []
                _patients(source, importer)
            else:
                value, _ = source.value(model.join("", key))
                top[key] = value if key in ("format", "patients") else None  # unknown keys: named, not kept
            char = source.peek()
            source.pos += 1
            if char == "}":
                break
            if char != ",":
                source.pos -= 1
                raise source.error("Expecting ',' delimiter")
            if source.peek() != '"':
                raise source.error("Expecting property name enclosed in double quotes")
        if source.peek():
            raise source.error("Extra data")
        importer.flush()
        _, top_problems = model.parse_document(top)
        problems = top_problems + importer.parse_problems + importer.check_problems + importer.clash_problems
        if problems:
            raise ValidationError(problems)
    return importer.counts


def _patients(source: _Source, importer: _Importer) -> None:
    source.pos += 1  # the [
    if source.peek() == "]":
        source.pos += 1
        return
    i = 0
    while True:
        path = model.join(model.join("", "patients"), i)
        obj, text = source.value(path)
        importer.add(obj, path, text)
        i += 1
        char = source.peek()
        source.pos += 1
        if char == "]":
            return
        if char != ",":
            source.pos -= 1
            raise source.error("Expecting ',' delimiter")


def _counts(patients: list[Patient]) -> ImportCounts:
    return ImportCounts(len(patients), sum(len(p.episodes) for p in patients),
                        sum(len(e.imaging) + len(e.symptoms) + len(e.treatments) for p in patients for e in p.episodes))


def import_file(store: Store, path: str | os.PathLike, today: dt.date | None = None) -> ImportCounts:
    """Import a file ('-': standard input), streamed; only a regular file is read (a FIFO or a device is
    refused before a byte is read: safety.InputRefused, exit 2)."""
    from . import safety

    if os.fspath(path) == "-":
        return import_stream(store, sys.stdin.buffer, today)
    with safety.open_input(path) as f:
        return import_stream(store, f, today)
