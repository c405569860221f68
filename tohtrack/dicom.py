"""DICOM studies on a CD, in a folder, a DICOMDIR or a zip: headers only (pydicom, never the pixels).

`scan(path)` lists the studies it finds, and names every file it could not use (not DICOM, damaged,
refused). Everything read is treated as hostile:

- files are read through a bounded reader: no element may claim more than `MAX_ELEMENT_BYTES`, no header
  more than `MAX_HEADER_BYTES` (pixel data is never read: `stop_before_pixels`);
- folders are walked without following symlinked folders, each real folder once (bind-mount loops), to a
  bounded depth; FIFOs, devices and sockets are skipped without being opened;
- a zip is read in memory, never extracted: members are refused beyond `MAX_ZIP_MEMBERS`, a total uncompressed
  size beyond `MAX_ZIP_TOTAL_BYTES`, or a member whose compression ratio exceeds `MAX_ZIP_RATIO` (zip bombs);
  a zip inside a zip is not opened;
- a DICOMDIR's file references must stay inside the DICOMDIR's folder.

`tohtrack dicom` prints the scan; `import_studies` adds the studies to a patient (tohtrack import-dicom).
No Qt here: the app's progress dialog drives `scan` through its `progress` callback.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import stat
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from . import model
from .model import ImagingStudy, Problem, ValidationError

#: No single element (tag) of a header may claim more bytes than this (a real header element is far smaller).
MAX_ELEMENT_BYTES = 16 * 1024 * 1024
#: No header (everything before the pixel data) may be longer than this.
MAX_HEADER_BYTES = 64 * 1024 * 1024
#: A zip with more members than this is refused.
MAX_ZIP_MEMBERS = 100_000
#: A zip whose members add up to more than this, uncompressed, is refused (a DVD holds 4.7 GB).
MAX_ZIP_TOTAL_BYTES = 8 * 1024 ** 3
#: A zip member that inflates more than this many times its compressed size (and to more than 1 MiB) is refused.
MAX_ZIP_RATIO = 200
_RATIO_FLOOR = 1024 * 1024
#: Folders deeper than this below PATH are not entered.
MAX_DEPTH = 32
#: Longest value of a text attribute kept from a header (a DICOM LO has 64 characters, a PN 64 per group).
MAX_VALUE = 200

DICOMDIR_CLASS = "1.2.840.10008.1.3.10"  # Media Storage Directory Storage: an index, not an image

#: DICOM modality (0008,0060) -> TOHtrack modality. Others (US, PT, SR, PR, KO, ...) are listed, not imported.
MODALITY_MAP = {"MR": "MRI", "CR": "XR", "DX": "XR", "RG": "XR", "NM": "NM", "CT": "CT"}
#: Modalities that carry no images of their own (reports, presentation states, key objects, ...).
NON_IMAGE_MODALITIES = {"SR", "PR", "KO", "DOC", "REG", "SEG", "RWV", "OT", "PLAN", "AU", "ECG"}
#: Body Part Examined (0018,0015) -> TOHtrack joint (DICOM PS3.16 Annex L defined terms).
BODY_PART_JOINT = {
    "HIP": "hip", "KNEE": "knee", "ANKLE": "ankle", "FOOT": "foot", "SHOULDER": "shoulder", "ELBOW": "elbow",
    "WRIST": "wrist", "HAND": "hand", "FINGER": "hand", "TOE": "foot", "CALCANEUS": "foot", "HEEL": "foot",
}
#: Laterality (0020,0060) / Image Laterality (0020,0062) -> side. B (both) and U (unpaired) give no side.
LATERALITY_SIDE = {"L": "left", "R": "right"}

_TAGS = ["SOPClassUID", "MediaStorageSOPClassUID", "PatientID", "PatientName", "StudyDate", "StudyTime",
         "Modality", "BodyPartExamined", "Laterality", "ImageLaterality", "StudyDescription", "AccessionNumber",
         "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SpecificCharacterSet"]
_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


class ScanCancelled(Exception):
    """The progress callback asked to stop."""


class Unusable(Exception):
    """PATH itself cannot be scanned (missing, unreadable, a device, a refused zip)."""


@dataclass
class Study:
    """One DICOM study as found in the scanned files."""

    study_instance_uid: str
    patient_id: str = ""
    patient_name: str = ""
    study_date: dt.date | None = None
    study_time: str | None = None  # HH:MM
    modalities: list[str] = field(default_factory=list)
    body_parts: list[str] = field(default_factory=list)
    lateralities: list[str] = field(default_factory=list)
    description: str = ""
    accession: str = ""
    series: set[str] = field(default_factory=set)
    images: int = 0
    patient_ids: list[str] = field(default_factory=list)  # every patient ID seen (more than one: a conflict)
    sources: list[str] = field(default_factory=list)  # a few of the files it came from

    @property
    def modality(self) -> str | None:
        """The TOHtrack modality when the study's image modalities map to exactly one; else None."""
        mapped = {MODALITY_MAP.get(m) for m in self.modalities if m not in NON_IMAGE_MODALITIES}
        return mapped.pop() if len(mapped) == 1 and None not in mapped else None

    def site(self) -> tuple[str | None, str]:
        """The episode site from body part and laterality, or None and why not."""
        joints = {BODY_PART_JOINT.get(b) for b in self.body_parts}
        sides = {LATERALITY_SIDE.get(s) for s in self.lateralities}
        if not self.body_parts:
            return None, "the files name no body part"
        if len(joints) != 1 or None in joints:
            return None, f"body part {clean(', '.join(self.body_parts))} is not one joint TOHtrack follows"
        if not self.lateralities:
            return None, "the files name no laterality"
        if len(sides) != 1 or None in sides:
            return None, f"laterality {clean(', '.join(self.lateralities))} is not one side"
        return f"{joints.pop()}_{sides.pop()}", ""

    def label(self) -> str:
        date = self.study_date.isoformat() if self.study_date else "no date"
        what = clean("/".join(self.modalities)) or "?"
        return f"study {clean(self.study_instance_uid)} ({what} of {date})"

    def as_json(self) -> dict[str, Any]:
        site, _ = self.site()
        return {
            "study_instance_uid": clean(self.study_instance_uid),
            "patient_id": clean(self.patient_id),
            "patient_name": clean(self.patient_name),
            "study_date": self.study_date.isoformat() if self.study_date else None,
            "study_time": self.study_time,
            "modalities": [clean(m) for m in self.modalities],
            "modality": self.modality,
            "body_parts": [clean(b) for b in self.body_parts],
            "lateralities": [clean(x) for x in self.lateralities],
            "site": site,
            "description": clean(self.description),
            "accession": clean(self.accession),
            "series": len(self.series),
            "images": self.images,
            "patient_ids": [clean(p) for p in self.patient_ids],
        }

    def imaging_study(self) -> ImagingStudy:
        """The study as a TOHtrack imaging study (no findings: the clinician adds those)."""
        return ImagingStudy(date=self.study_date, modality=self.modality, time=self.study_time,
                            accession=self.accession, study_instance_uid=self.study_instance_uid,
                            study_description=self.description or None)


@dataclass
class Scan:
    """What a scan found: the studies, and every file it could not use, with why."""

    root: str
    studies: list[Study] = field(default_factory=list)
    files: int = 0  # files looked at
    not_dicom: list[tuple[str, str]] = field(default_factory=list)
    damaged: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # not read at all: devices, links, limits

    def as_json(self) -> dict[str, Any]:
        def named(items):
            return [{"file": name, "reason": reason} for name, reason in items]

        return {"path": self.root, "files": self.files, "studies": [s.as_json() for s in self.studies],
                "not_dicom": named(self.not_dicom), "damaged": named(self.damaged), "skipped": named(self.skipped)}


# ---------------------------------------------------------------------------
# Reading one file's header
# ---------------------------------------------------------------------------


class _Refused(Exception):
    """The file breaks a limit (a huge element, an overlong header)."""


class _BoundedReader(io.RawIOBase):
    """A read-only view of a file object that refuses any single read beyond MAX_ELEMENT_BYTES and a total
    beyond MAX_HEADER_BYTES: pydicom reads each element's value in one read of its declared length."""

    def __init__(self, raw, name: str):
        super().__init__()
        self._raw, self.name, self._total = raw, name, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0 or size > MAX_ELEMENT_BYTES:
            raise _Refused(f"an element claims {size} bytes (at most {MAX_ELEMENT_BYTES})" if size and size > 0
                          else "a deflated or unbounded header, not read")
        self._total += size
        if self._total > MAX_HEADER_BYTES:
            raise _Refused(f"the header is longer than {MAX_HEADER_BYTES // (1024 * 1024)} MiB")
        return self._raw.read(size)

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._raw.seek(offset, whence)

    def tell(self) -> int:
        return self._raw.tell()


def clean(value: Any, limit: int = MAX_VALUE) -> str:
    """A header value as one safe line: no control, format or bidi characters (a name printed to a terminal
    cannot carry escape sequences), trimmed, at most `limit` characters."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        value = "\\".join(str(v) for v in value)
    text = _UNSAFE.sub("\ufffd", str(value))
    text = "".join("\ufffd" if unicodedata.category(c) in ("Co", "Cn", "Cs") else c for c in text)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _raw(value: Any, limit: int = MAX_VALUE) -> str:
    """A header value as text, as it was (trimmed); cut far beyond any valid length, so that the import's
    validation still sees it is too long or holds control characters. Shown only through clean()."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        value = "\\".join(str(v) for v in value)
    text = str(value).strip(" \x00")
    return text[:max(limit, 1024)]


def _header(fp, name: str):
    """The dataset of a DICOM Part 10 file's header; raises pydicom's errors or _Refused."""
    import pydicom

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about odd values; what matters is checked below
        return pydicom.dcmread(_BoundedReader(fp, name), stop_before_pixels=True, force=False)


def _get(ds, keyword: str) -> Any:
    try:
        return ds.get(keyword)
    except Exception:  # a value that cannot be decoded (a bad character set, a wrong VR)
        return None


def _date(text: str) -> dt.date | None:
    if not re.fullmatch(r"[0-9]{8}", text):
        return None
    try:
        return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def _time(text: str) -> str | None:
    match = re.fullmatch(r"([01][0-9]|2[0-3]):?([0-5][0-9]).*", text)
    return f"{match.group(1)}:{match.group(2)}" if match else None


# ---------------------------------------------------------------------------
# Walking the input
# ---------------------------------------------------------------------------


class _Collector:
    def __init__(self, root: str, progress: Callable[[int, str], bool] | None):
        self.scan = Scan(root=root)
        self.by_uid: dict[str, Study] = {}
        self.progress = progress

    def tick(self, name: str) -> None:
        self.scan.files += 1
        if self.progress is not None and self.progress(self.scan.files, name) is False:
            raise ScanCancelled()

    def read(self, name: str, opener: Callable[[], Any]) -> None:
        """Read one file's header and add it to its study; any failure is recorded against the file."""
        import pydicom.errors

        self.tick(name)
        try:
            with opener() as fp:
                ds = _header(fp, name)
        except pydicom.errors.InvalidDicomError:
            self.scan.not_dicom.append((name, "not a DICOM file (no DICM preamble)"))
            return
        except _Refused as exc:
            self.scan.damaged.append((name, f"refused: {exc}"))
            return
        except (OSError, zipfile.BadZipFile) as exc:
            self.scan.damaged.append((name, f"cannot be read ({getattr(exc, 'strerror', None) or exc})"))
            return
        except MemoryError:
            self.scan.damaged.append((name, "refused: too large to read"))
            return
        except Exception as exc:  # pydicom's many ways of failing on a damaged file
            self.scan.damaged.append((name, f"damaged ({type(exc).__name__}: {clean(exc, 120)})"))
            return
        self.add(name, ds)

    def add(self, name: str, ds) -> None:
        meta = getattr(ds, "file_meta", None)
        sop_class = str(_get(meta, "MediaStorageSOPClassUID") or "") if meta is not None else ""
        if sop_class == DICOMDIR_CLASS or "DirectoryRecordSequence" in ds:
            return  # a DICOMDIR found while walking: its files are read one by one anyway
        uid = _raw(_get(ds, "StudyInstanceUID"), 64)
        if not uid or model.uid_problem(uid):
            self.scan.damaged.append((name, "no valid Study Instance UID (0020,000D)"))
            return
        study = self.by_uid.get(uid)
        if study is None:
            study = self.by_uid[uid] = Study(study_instance_uid=uid)
        study.images += 1
        if len(study.sources) < 3:
            study.sources.append(name)
        series = _raw(_get(ds, "SeriesInstanceUID"), 64)
        if series:
            study.series.add(series)
        patient_id = _raw(_get(ds, "PatientID"), 64)
        if patient_id and patient_id not in study.patient_ids:
            study.patient_ids.append(patient_id)
        if not study.patient_id:
            study.patient_id = patient_id
        if not study.patient_name:
            study.patient_name = _raw(_get(ds, "PatientName"))
        if study.study_date is None:
            study.study_date = _date(_raw(_get(ds, "StudyDate"), 32))
            study.study_time = _time(_raw(_get(ds, "StudyTime"), 32))
        if not study.description:
            study.description = _raw(_get(ds, "StudyDescription"))
        if not study.accession:
            study.accession = _raw(_get(ds, "AccessionNumber"), 64)
        for keyword, values in (("Modality", study.modalities), ("BodyPartExamined", study.body_parts),
                                ("Laterality", study.lateralities), ("ImageLaterality", study.lateralities)):
            value = _raw(_get(ds, keyword), 64).upper()
            if value and value not in values:
                values.append(value)

    def result(self) -> Scan:
        self.scan.studies = sorted(self.by_uid.values(),
                                   key=lambda s: (s.study_date or dt.date.min, s.study_time or "",
                                                  s.study_instance_uid))
        return self.scan


def _regular(path: str) -> tuple[bool, str]:
    """Whether a path (followed if a link) is a regular file, and if not what it is."""
    try:
        st = os.stat(path)
    except OSError as exc:
        return False, f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISREG(st.st_mode):
        return True, ""
    if stat.S_ISDIR(st.st_mode):
        return False, "a folder"
    if stat.S_ISFIFO(st.st_mode):
        return False, "skipped: a FIFO (named pipe)"
    if stat.S_ISSOCK(st.st_mode):
        return False, "skipped: a socket"
    return False, "skipped: a device"


def _open_file(path: str):
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)  # O_NONBLOCK: a FIFO swapped in after the check cannot block the open
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(0, "not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _walk(c: _Collector, top: str, display: Callable[[str], str]) -> None:
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[str, int]] = [(top, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            st = os.stat(folder)
            key = (st.st_dev, st.st_ino)
            if key in seen:
                c.scan.skipped.append((display(folder), "skipped: a folder already scanned (a loop)"))
                continue
            seen.add(key)
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            c.scan.skipped.append((display(folder), f"cannot be read ({exc.strerror or exc})"))
            continue
        subfolders = []
        for entry in entries:
            path = entry.path
            try:
                if entry.is_symlink():
                    if os.path.isdir(path):
                        c.scan.skipped.append((display(path), "skipped: a link to a folder (not followed)"))
                        continue
                elif entry.is_dir(follow_symlinks=False):
                    if depth + 1 > MAX_DEPTH:
                        c.scan.skipped.append((display(path), f"skipped: deeper than {MAX_DEPTH} folders"))
                    else:
                        subfolders.append((path, depth + 1))
                    continue
            except OSError as exc:
                c.scan.skipped.append((display(path), f"cannot be read ({exc.strerror or exc})"))
                continue
            regular, why = _regular(path)
            if not regular:
                c.tick(display(path))
                c.scan.skipped.append((display(path), why))
                continue
            if entry.name.lower().endswith(".zip"):
                c.tick(display(path))
                try:
                    _zip(c, path, display(path))
                except Unusable as exc:
                    c.scan.damaged.append((display(path), str(exc)))
                continue
            c.read(display(path), lambda p=path: _open_file(p))
        stack.extend(reversed(subfolders))


def _zip(c: _Collector, path: str, shown: str) -> None:
    try:
        fp = _open_file(path)
    except OSError as exc:
        raise Unusable(f"cannot be read ({exc.strerror or exc})") from None
    with fp:
        try:
            archive = zipfile.ZipFile(fp)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise Unusable(f"not a readable zip file ({clean(exc, 120)})") from None
        with archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) > MAX_ZIP_MEMBERS:
                raise Unusable(f"refused: {len(members)} files in the zip (at most {MAX_ZIP_MEMBERS})")
            total = sum(m.file_size for m in members)
            if total > MAX_ZIP_TOTAL_BYTES:
                raise Unusable(f"refused: the zip unpacks to {total / 1024 ** 3:.1f} GiB "
                               f"(at most {MAX_ZIP_TOTAL_BYTES // 1024 ** 3} GiB; a zip bomb?)")
            for m in members:
                name = f"{shown}!{clean(m.filename, 400)}"
                if m.file_size > _RATIO_FLOOR and m.file_size > MAX_ZIP_RATIO * max(m.compress_size, 1):
                    c.tick(name)
                    c.scan.skipped.append((name, f"refused: compressed {m.file_size // max(m.compress_size, 1)}"
                                                 f" to 1 (at most {MAX_ZIP_RATIO}; a zip bomb?)"))
                    continue
                if m.flag_bits & 0x1:
                    c.tick(name)
                    c.scan.skipped.append((name, "skipped: encrypted"))
                    continue
                if m.filename.lower().endswith(".zip"):
                    c.tick(name)
                    c.scan.skipped.append((name, "skipped: a zip inside a zip is not opened"))
                    continue
                c.read(name, lambda m=m: archive.open(m))


def _dicomdir(c: _Collector, path: str, display: Callable[[str], str]) -> None:
    """The files a DICOMDIR references (its IMAGE and other leaf records), read one by one."""
    import pydicom.errors

    base = os.path.dirname(os.path.abspath(path))
    try:
        with _open_file(path) as fp:
            ds = _header(fp, path)
        records = ds.DirectoryRecordSequence
    except (pydicom.errors.InvalidDicomError, AttributeError) as exc:
        raise Unusable("not a DICOMDIR (no directory records)") from exc
    except OSError as exc:
        raise Unusable(f"cannot be read ({exc.strerror or exc})") from None
    except Exception as exc:
        raise Unusable(f"a damaged DICOMDIR ({type(exc).__name__}: {clean(exc, 120)})") from None
    c.tick(display(path))
    seen: set[str] = set()
    for record in records:
        ref = _get(record, "ReferencedFileID")
        if ref is None:
            continue
        parts = [str(p) for p in ref] if not isinstance(ref, str) else [ref]
        shown = "\\".join(clean(p, 16) for p in parts)
        if not parts or any(not re.fullmatch(r"[A-Za-z0-9_]{1,16}", p) for p in parts):
            c.tick(shown)
            c.scan.skipped.append((shown, "refused: a DICOMDIR reference that is not a plain file ID"))
            continue
        target = os.path.join(base, *parts)
        if not os.path.exists(target):  # CDs written on Windows may use another case
            target = os.path.join(base, *(p.lower() for p in parts))
        if target in seen:
            continue
        seen.add(target)
        regular, why = _regular(target)
        if not regular:
            c.tick(display(target))
            (c.scan.damaged if why.startswith("cannot") else c.scan.skipped).append(
                (display(target), why if not why.startswith("cannot") else "listed in the DICOMDIR but missing"))
            continue
        c.read(display(target), lambda t=target: _open_file(t))


def count_files(path: str | os.PathLike, limit: int = 1_000_000) -> int:
    """About how many files a scan of `path` reads (for a progress bar): the files under a folder (links to
    folders not followed), the members of a zip; 0 when unknown (a DICOMDIR) or unreadable."""
    root = os.fspath(path)
    try:
        if os.path.isdir(root):
            count = 0
            for _folder, _dirs, files in os.walk(root, followlinks=False):
                count += len(files)
                if count >= limit:
                    break
            return min(count, limit)
        if not stat.S_ISREG(os.stat(root).st_mode):  # a FIFO would block the zip check
            return 0
        if root.lower().endswith(".zip") or zipfile.is_zipfile(root):
            with zipfile.ZipFile(root) as archive:
                return min(sum(1 for m in archive.infolist() if not m.is_dir()), limit)
    except (OSError, zipfile.BadZipFile, ValueError, EOFError):
        return 0
    return 0 if os.path.basename(root).upper() == "DICOMDIR" else 1


def scan(path: str | os.PathLike, progress: Callable[[int, str], bool] | None = None) -> Scan:
    """Every study in a folder (recursively), a DICOMDIR, a zip or a single file.

    `progress(files_so_far, name)` is called for each file; returning False cancels (ScanCancelled).
    Raises Unusable when PATH itself cannot be scanned.
    """
    root = os.fspath(path)
    c = _Collector(root, progress)
    try:
        st = os.stat(root)
    except OSError as exc:
        raise Unusable(f"{root}: {exc.strerror or exc}") from None
    top = os.path.abspath(root)

    def display(p: str) -> str:
        rel = os.path.relpath(p, top) if os.path.isdir(top) else os.path.basename(p)
        return clean(rel, 400)

    if stat.S_ISDIR(st.st_mode):
        if not os.access(root, os.R_OK | os.X_OK):
            raise Unusable(f"{root}: the folder cannot be read")
        _walk(c, top, display)
    elif not stat.S_ISREG(st.st_mode):
        raise Unusable(f"{root}: not a file or folder (a device, FIFO or socket)")
    elif os.path.basename(root).upper() == "DICOMDIR" or root.lower().endswith(".zip") or zipfile.is_zipfile(root):
        try:
            if os.path.basename(root).upper() == "DICOMDIR":
                _dicomdir(c, top, lambda p: clean(os.path.relpath(p, os.path.dirname(top)), 400))
            else:
                _zip(c, top, clean(os.path.basename(root), 400))
        except Unusable as exc:
            raise Unusable(f"{root}: {exc}") from None
    else:
        c.read(clean(os.path.basename(root), 400), lambda: _open_file(top))
    return c.result()


# ---------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------


def format_scan(s: Scan) -> Iterator[str]:
    yield (f"{s.root}: {len(s.studies)} stud{'y' if len(s.studies) == 1 else 'ies'} in {s.files} files"
           + (f"; {len(s.not_dicom)} not DICOM" if s.not_dicom else "")
           + (f"; {len(s.damaged)} damaged or refused" if s.damaged else "")
           + (f"; {len(s.skipped)} skipped" if s.skipped else ""))
    for study in s.studies:
        site, why = study.site()
        yield ""
        yield f"Study {clean(study.study_instance_uid)}"
        yield f"  patient      {clean(study.patient_id) or '—'}  {clean(study.patient_name)}".rstrip()
        if len(study.patient_ids) > 1:
            yield f"  WARNING      files of this study name several patient IDs: {clean(', '.join(study.patient_ids))}"
        date = study.study_date.isoformat() if study.study_date else "—"
        yield f"  date         {date}{' ' + study.study_time if study.study_time else ''}"
        yield f"  modality     {clean('/'.join(study.modalities)) or '—'}" + (
            f" ({study.modality})" if study.modality else " (not one TOHtrack records)")
        yield f"  body part    {clean(', '.join(study.body_parts)) or '—'}"
        yield f"  laterality   {clean(', '.join(study.lateralities)) or '—'}" + (f" → {site}" if site else "")
        yield f"  description  {clean(study.description) or '—'}"
        yield f"  accession    {clean(study.accession) or '—'}"
        yield f"  series       {len(study.series)}, images {study.images}"
    for title, items in (("Not DICOM", s.not_dicom), ("Damaged or refused", s.damaged), ("Skipped", s.skipped)):
        if items:
            yield ""
            yield f"{title}:"
            for name, reason in items:
                yield f"  {name}: {reason}"


# ---------------------------------------------------------------------------
# Import into a patient
# ---------------------------------------------------------------------------


@dataclass
class ImportResult:
    added: list[tuple[Study, str]]  # the study and the site of the episode it went to
    already: list[Study]  # recorded before (same Study Instance UID)


def _mrn_key(mrn: str) -> str:
    """MRNs compare as the format's identities say (model.mrn_key: NFKC, case folded, trimmed)."""
    return model.mrn_key(mrn)


def _episode_for(patient: model.Patient, site: str, day: dt.date | None) -> model.Episode | None:
    """The episode at `site` a study of `day` belongs to: the latest one with onset on or before the day."""
    candidates = [e for e in patient.episodes if e.site == site and (day is None or e.symptom_onset <= day)]
    return max(candidates, key=lambda e: e.symptom_onset) if candidates else None


def plan_import(patient: model.Patient, studies: Iterable[Study], site: str | None = None, force: bool = False,
                today: dt.date | None = None) -> tuple[list[tuple[Study, model.Episode, ImagingStudy]], list[Study]]:
    """What importing these studies would add to the patient, and which are already recorded.

    Raises ValidationError naming every problem (paths are the study UIDs); nothing is written here.
    """
    problems: list[Problem] = []
    recorded = {s.study_instance_uid for e in patient.episodes for s in e.imaging if s.study_instance_uid}
    plan, already = [], []
    if site is not None and site not in model.SITES:
        problems.append(model._code_problem("--site", site, model.SITES))
        raise ValidationError(problems)
    for study in studies:
        where = study.label()
        if study.study_instance_uid in recorded:
            already.append(study)
            continue
        others = [p for p in study.patient_ids if _mrn_key(p) != _mrn_key(patient.mrn)]
        if others and not force:
            problems.append(Problem(where, f"the DICOM patient ID {', '.join(map(repr, others))} is not the MRN "
                                           f"{patient.mrn!r} (give --force if it is the same patient)"))
        if study.study_date is None:
            problems.append(Problem(where, "has no valid study date (0008,0020)"))
        if study.modality is None:
            problems.append(Problem(where, f"modality {clean('/'.join(study.modalities)) or 'missing'} is not one "
                                           f"TOHtrack records (MRI, XR, NM, CT)"))
        target = site
        if target is None:
            target, why = study.site()
            if target is None:
                sites = sorted({e.site for e in patient.episodes})
                problems.append(Problem(where, f"cannot tell the episode's site: {why}; give --site "
                                               f"(the patient's sites: {', '.join(sites) or 'none'})"))
                continue
        episode = _episode_for(patient, target, study.study_date)
        if episode is None:
            problems.append(Problem(where, f"the patient has no episode at {target} begun by "
                                           f"{study.study_date.isoformat() if study.study_date else 'the study'}"))
            continue
        if study.study_date is None or study.modality is None:
            continue
        record = study.imaging_study()
        found = model.check_imaging(record, where, episode.symptom_onset, today)
        problems.extend(found)
        if not found:
            plan.append((study, episode, record))
    if problems:
        raise ValidationError(problems)
    return plan, already


def import_studies(store, mrn: str, studies: Iterable[Study], site: str | None = None, force: bool = False,
                   today: dt.date | None = None) -> ImportResult:
    """Add each study to the patient's episode at its site, in one transaction (audited); all or nothing."""
    studies = list(studies)
    with store.transaction():
        patient = store.patient(store.patient_id(mrn))
        plan, already = plan_import(patient, studies, site, force, today)
        for _study, episode, record in plan:
            store.add_finding(episode.id, record, today)
    return ImportResult(added=[(s, e.site) for s, e, _ in plan], already=already)
