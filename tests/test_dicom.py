"""DICOM in: `tohtrack dicom` lists studies, `import-dicom` adds them to a patient; hostile files refused cleanly.

The DICOM files are built here with pydicom, or taken from pydicom's own bundled test files (offline only:
`get_testdata_file(name, download=False)`).
"""

import datetime as dt
import io
import json
import os
import statistics
import struct
import time
import zipfile
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from conftest import minimal_document
from tohtrack import dicom, interchange
from tohtrack.__main__ import main
from tohtrack.db import Store
from tohtrack.store import open_store

MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
STUDY_A = "1.2.826.0.1.3680043.8.498.1001"
STUDY_B = "1.2.826.0.1.3680043.8.498.1002"


def make_dicom(path, study_uid=STUDY_A, series_uid=None, patient_id="T-1", modality="MR", body_part="HIP",
               laterality="L", date="20250201", time_="084012", description="MR HIP LEFT", accession="A-77",
               name="Rossi^Marco", extra=None) -> Path:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MR_IMAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = MR_IMAGE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.PatientID, ds.PatientName = patient_id, name
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid or study_uid + ".1"
    ds.Modality = modality
    ds.StudyDate, ds.StudyTime = date, time_
    if body_part is not None:
        ds.BodyPartExamined = body_part
    if laterality is not None:
        ds.Laterality = laterality
    ds.StudyDescription = description
    ds.AccessionNumber = accession
    for keyword, value in (extra or {}).items():
        setattr(ds, keyword, value)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def cd(tmp_path) -> Path:
    """A patient's CD: two studies (three series), a DICOMDIR-less folder tree, and some junk."""
    root = tmp_path / "cd"
    make_dicom(root / "DICOM" / "ST1" / "SE1" / "IM1")
    make_dicom(root / "DICOM" / "ST1" / "SE1" / "IM2")
    make_dicom(root / "DICOM" / "ST1" / "SE2" / "IM1", series_uid=STUDY_A + ".2")
    make_dicom(root / "DICOM" / "ST2" / "SE1" / "IM1", study_uid=STUDY_B, modality="CR", date="20250301",
               time_="1015", description="XR HIP LEFT", accession="A-78")
    (root / "README.TXT").write_text("Viewer instructions\n")
    (root / "autorun.inf").write_bytes(b"\x00" * 300)
    return root


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


# -- listing --------------------------------------------------------------------------------


def test_a_folder_lists_its_studies_with_series_and_images(cd):
    found = dicom.scan(cd)
    assert [s.study_instance_uid for s in found.studies] == [STUDY_A, STUDY_B]
    a, b = found.studies
    assert (a.patient_id, a.patient_name, a.study_date, a.study_time) == ("T-1", "Rossi^Marco",
                                                                          dt.date(2025, 2, 1), "08:40")
    assert (a.modalities, a.modality, a.body_parts, a.lateralities) == (["MR"], "MRI", ["HIP"], ["L"])
    assert (a.description, a.accession, len(a.series), a.images) == ("MR HIP LEFT", "A-77", 2, 3)
    assert a.site() == ("hip_left", "")
    assert (b.modality, b.study_time, len(b.series), b.images) == ("XR", "10:15", 1, 1)
    assert found.files == 6
    assert sorted(name for name, _ in found.not_dicom) == ["README.TXT", "autorun.inf"]
    assert found.damaged == [] and found.skipped == []


def test_cli_lists_studies_as_text_and_json(capsys, cd):
    code, out, err = run(capsys, "dicom", cd)
    assert code == 0, err
    assert "2 studies in 6 files; 2 not DICOM" in out
    assert f"Study {STUDY_A}" in out and "series       2, images 3" in out and "→ hip_left" in out
    assert "README.TXT: not a DICOM file" in out
    code, out, err = run(capsys, "dicom", cd, "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert [s["study_instance_uid"] for s in doc["studies"]] == [STUDY_A, STUDY_B]
    first = doc["studies"][0]
    assert first["series"] == 2 and first["images"] == 3 and first["site"] == "hip_left"
    assert first["study_date"] == "2025-02-01" and first["accession"] == "A-77"
    assert {f["file"] for f in doc["not_dicom"]} == {"README.TXT", "autorun.inf"}


def test_pydicom_dicomdir_and_its_folder_agree():
    path = get_testdata_file("DICOMDIR", download=False)
    by_dicomdir = dicom.scan(path)
    by_folder = dicom.scan(os.path.dirname(path))
    assert len(by_dicomdir.studies) >= 3 and by_dicomdir.damaged == []
    uids = {s.study_instance_uid for s in by_dicomdir.studies}
    assert uids <= {s.study_instance_uid for s in by_folder.studies}
    # The DICOMDIR counts the images it references; the folder scan finds the same ones.
    folder = {s.study_instance_uid: s.images for s in by_folder.studies}
    assert all(folder[s.study_instance_uid] >= s.images for s in by_dicomdir.studies)
    assert sum(s.images for s in by_dicomdir.studies) > 10


def test_a_single_file_is_listed():
    found = dicom.scan(get_testdata_file("MR_small.dcm", download=False))
    assert len(found.studies) == 1
    study = found.studies[0]
    assert study.patient_id == "4MR1" and study.modality == "MRI" and study.study_date == dt.date(2004, 8, 26)
    assert study.images == 1 and len(study.series) == 1


def test_a_zip_is_read_in_memory_with_the_same_studies(tmp_path, cd):
    archive = tmp_path / "cd.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(cd.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(cd).as_posix())
    found = dicom.scan(archive)
    assert [(s.study_instance_uid, s.images, len(s.series)) for s in found.studies] == [
        (STUDY_A, 3, 2), (STUDY_B, 1, 1)]
    assert sorted(n for n, _ in found.not_dicom) == ["cd.zip!README.TXT", "cd.zip!autorun.inf"]
    before = set(tmp_path.rglob("*"))
    dicom.scan(archive)
    assert set(tmp_path.rglob("*")) == before  # nothing extracted to disk
    # A zip in the folder is opened too.
    found = dicom.scan(tmp_path)
    assert sum(s.images for s in found.studies) == 8


def test_a_study_spread_over_files_with_two_patient_ids_is_flagged(tmp_path):
    make_dicom(tmp_path / "a")
    make_dicom(tmp_path / "b", patient_id="OTHER-9")
    study = dicom.scan(tmp_path).studies[0]
    assert study.patient_ids == ["T-1", "OTHER-9"]


# -- hostile input --------------------------------------------------------------------------------


def test_truncated_wrong_preamble_and_empty_files_are_named_not_fatal(tmp_path):
    good = make_dicom(tmp_path / "good.dcm").read_bytes()
    (tmp_path / "truncated.dcm").write_bytes(good[:len(good) // 2])
    (tmp_path / "cut_in_meta.dcm").write_bytes(good[:140])
    (tmp_path / "wrong_preamble.dcm").write_bytes(good[:128] + b"DICN" + good[132:])
    (tmp_path / "empty.dcm").write_bytes(b"")
    (tmp_path / "random.bin").write_bytes(os.urandom(4096))
    found = dicom.scan(tmp_path)
    assert len(found.studies) == 1 and found.studies[0].images == 1
    named = {n for n, _ in found.not_dicom} | {n for n, _ in found.damaged}
    assert named == {"truncated.dcm", "cut_in_meta.dcm", "wrong_preamble.dcm", "empty.dcm", "random.bin"}
    assert dict(found.not_dicom)["wrong_preamble.dcm"].startswith("not a DICOM file")
    assert found.files == 6


def _patch_length(data: bytes, tag: bytes, length: int) -> bytes:
    """The file with the 4-byte length of the explicit-VR element starting with `tag` (+VR, 2 reserved) set."""
    at = data.index(tag)
    return data[:at + 8] + struct.pack("<I", length) + data[at + 12:]


def test_huge_element_lengths_are_refused_without_reading_them(tmp_path):
    tag = b"\x09\x00\x10\x10OB\x00\x00"  # (0009,1010) OB: a private element
    src = make_dicom(tmp_path / "src.dcm", extra={}).read_bytes()
    ds_path = tmp_path / "private.dcm"
    from pydicom import dcmread

    ds = dcmread(io.BytesIO(src))
    ds.add_new(0x00091010, "OB", b"x" * 16)
    ds.save_as(ds_path, enforce_file_format=True)
    data = ds_path.read_bytes()
    ds_path.unlink()
    (tmp_path / "huge.dcm").write_bytes(_patch_length(data, tag, 0x7FFFFFF0))
    (tmp_path / "past_end.dcm").write_bytes(_patch_length(data, tag, 0x00100000))
    found = dicom.scan(tmp_path)
    damaged = dict(found.damaged)
    assert "huge.dcm" in damaged and "refused" in damaged["huge.dcm"]
    assert "past_end.dcm" in damaged or "past_end.dcm" in {n for n, _ in found.not_dicom}
    assert [s.images for s in found.studies] == [1]  # src.dcm still read


def test_a_long_text_value_is_cut_and_control_characters_never_reach_the_terminal(tmp_path, capsys):
    make_dicom(tmp_path / "a.dcm", description="MR\x1b[31m HIP", name="Evil^\x1b]0;pwned\x07",
               extra={"InstitutionName": "x" * 60})
    code, out, _ = run(capsys, "dicom", tmp_path)
    assert code == 0 and "\x1b" not in out and "\x07" not in out
    assert "MR\ufffd[31m HIP" in out


def test_symlink_loops_and_links_to_folders_are_not_followed(tmp_path):
    root = tmp_path / "cd"
    make_dicom(root / "a" / "IM1")
    os.symlink(root, root / "a" / "loop")  # a folder linking to its ancestor
    os.symlink(root / "a" / "self", root / "a" / "self")  # a link to itself (ELOOP)
    os.symlink(root / "a" / "IM1", root / "IM1-link")  # a link to a file is read
    found = dicom.scan(root)
    assert found.studies[0].images == 2
    reasons = dict(found.skipped) | dict(found.damaged)
    assert "not followed" in reasons[os.path.join("a", "loop")]
    assert os.path.join("a", "self") in reasons


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifos_and_devices_are_skipped_without_blocking(tmp_path, capsys):
    make_dicom(tmp_path / "IM1")
    os.mkfifo(tmp_path / "pipe")
    os.symlink("/dev/zero", tmp_path / "zero")
    start = time.monotonic()
    found = dicom.scan(tmp_path)
    assert time.monotonic() - start < 5
    assert dict(found.skipped) == {"pipe": "skipped: a FIFO (named pipe)", "zero": "skipped: a device"}
    assert found.studies[0].images == 1
    code, _, err = run(capsys, "dicom", tmp_path / "pipe")
    assert code == 2 and "not a file or folder" in err


def test_zip_bombs_are_refused_without_unpacking(tmp_path, capsys, monkeypatch):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("zeros.dcm", b"\x00" * (64 * 1024 * 1024))  # 64 MiB of zeros: ratio ~1000
        z.write(make_dicom(tmp_path / "src" / "IM1"), "IM1")
    found = dicom.scan(bomb)
    assert "zip bomb" in dict(found.skipped)["bomb.zip!zeros.dcm"]
    assert found.studies[0].images == 1
    # A zip that claims more than the total limit is refused as a whole: as PATH, exit 2.
    monkeypatch.setattr(dicom, "MAX_ZIP_TOTAL_BYTES", 32 * 1024 * 1024)
    code, _, err = run(capsys, "dicom", bomb)
    assert code == 2 and "zip bomb" in err
    found = dicom.scan(tmp_path)  # inside a folder: named, the rest listed
    assert "zip bomb" in dict(found.damaged)["bomb.zip"] and found.studies[0].images == 1


def test_a_damaged_zip_and_nested_zips(tmp_path, capsys):
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04" + os.urandom(200))
    code, _, err = run(capsys, "dicom", tmp_path / "bad.zip")
    assert code == 2 and "bad.zip" in err
    outer = tmp_path / "outer.zip"
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("IM1", make_dicom(tmp_path / "x" / "IM1").read_bytes())
    with zipfile.ZipFile(outer, "w") as z:
        z.writestr("inner.zip", inner.getvalue())
        z.writestr("../../escape.dcm", make_dicom(tmp_path / "x" / "IM2").read_bytes())
    found = dicom.scan(outer)
    assert "a zip inside a zip" in dict(found.skipped)["outer.zip!inner.zip"]
    assert found.studies[0].images == 1  # the member with '..' in its name is read in memory, never written
    assert not (tmp_path.parent / "escape.dcm").exists()


def test_a_dicomdir_reference_outside_its_folder_is_refused(tmp_path):
    from pydicom import dcmread

    src = Path(get_testdata_file("DICOMDIR", download=False))
    ds = dcmread(src)
    record = next(r for r in ds.DirectoryRecordSequence if "ReferencedFileID" in r)
    record.ReferencedFileID = ["..", "..", "etc", "passwd"]
    target = tmp_path / "DICOMDIR"
    ds.save_as(target)
    found = dicom.scan(target)
    assert any("not a plain file ID" in why for _, why in found.skipped)
    assert found.damaged and all("missing" in why for _, why in found.damaged)  # the other files are not there


def test_unusable_paths_exit_2(capsys, tmp_path):
    code, _, err = run(capsys, "dicom", tmp_path / "missing")
    assert code == 2 and "No such file" in err
    (tmp_path / "DICOMDIR").write_bytes(b"junk")
    code, _, err = run(capsys, "dicom", tmp_path / "DICOMDIR")
    assert code == 2 and "not a DICOMDIR" in err and "Traceback" not in err


# -- import into a patient ---------------------------------------------------------------------------


TODAY = dt.date(2026, 3, 1)


@pytest.fixture
def patient_db(db_target):
    """One patient with a hip episode on each side, in this test's database (either backend)."""
    doc = minimal_document()
    doc["patients"][0]["episodes"].append({"site": "hip_right", "symptom_onset": "2024-01-05",
                                           "resolved_on": "2024-08-01"})
    with open_store(db_target) as store:
        interchange.import_document(store, doc, today=TODAY)
    return db_target


def studies_of(db_path, site="hip_left"):
    with open_store(db_path) as store:
        patient = store.patient_by_mrn("T-1")
    return [s for e in patient.episodes if e.site == site for s in e.imaging]


def audit_count(db_path):
    with open_store(db_path) as store:
        return store.audit_head()[0]


def test_import_dicom_adds_each_study_to_the_episode_at_its_site(capsys, patient_db, cd):
    before = audit_count(patient_db)
    code, out, err = run(capsys, "import-dicom", cd, "--patient", "T-1")
    assert code == 0, err
    assert "imported 2 studies" in out and "README.TXT" in err
    added = {s.study_instance_uid: s for s in studies_of(patient_db)}
    mr, xr = added[STUDY_A], added[STUDY_B]
    assert (mr.date, mr.time, mr.modality, mr.accession, mr.study_description) == (
        dt.date(2025, 2, 1), "08:40", "MRI", "A-77", "MR HIP LEFT")
    assert (xr.modality, xr.date) == ("XR", dt.date(2025, 3, 1))
    assert mr.edema_extent_pct is None and mr.t1_low_signal is None  # findings are the clinician's
    assert audit_count(patient_db) == before + 2
    # Again: already recorded, skipped, nothing added.
    code, out, err = run(capsys, "import-dicom", cd, "--patient", "T-1")
    assert code == 0 and "imported 0 studies" in out and "already recorded" in out
    assert len(studies_of(patient_db)) == 3 and audit_count(patient_db) == before + 2
    code, _, _ = run(capsys, "check")
    assert code == 0


def test_import_dicom_refuses_another_patient_unless_forced(capsys, patient_db, tmp_path):
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    make_dicom(tmp_path / "IM1", patient_id="H-999")
    code, _, err = run(capsys, "import-dicom", tmp_path, "--patient", "T-1")
    assert code == 2 and "'H-999' is not the MRN 'T-1'" in err and "--force" in err
    assert len(studies_of(patient_db)) == 1
    code, out, err = run(capsys, "import-dicom", tmp_path, "--patient", "T-1", "--force")
    assert code == 0, err
    assert len(studies_of(patient_db)) == 2


def test_import_dicom_asks_for_the_site_when_it_cannot_tell(capsys, patient_db, tmp_path):
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    make_dicom(tmp_path / "IM1", body_part="PELVIS", laterality=None)
    make_dicom(tmp_path / "IM2", study_uid=STUDY_B, laterality="B")
    code, _, err = run(capsys, "import-dicom", tmp_path, "--patient", "T-1")
    assert code == 2 and "give --site" in err and "PELVIS" in err and "laterality B" in err
    assert "hip_left, hip_right" in err
    code, _, err = run(capsys, "import-dicom", tmp_path, "--patient", "T-1", "--site", "hip_lfet")
    assert code == 2 and "hip_lfet" in err
    code, out, err = run(capsys, "import-dicom", tmp_path, "--patient", "T-1", "--site", "hip_left")
    assert code == 0, err
    assert {s.study_instance_uid for s in studies_of(patient_db)} >= {STUDY_A, STUDY_B}


def test_import_dicom_is_all_or_nothing_and_names_every_problem(capsys, patient_db, tmp_path):
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    make_dicom(tmp_path / "IM1")  # fine
    make_dicom(tmp_path / "IM2", study_uid=STUDY_B, date="20241201")  # before the hip_left onset
    make_dicom(tmp_path / "IM3", study_uid=STUDY_B + "3", modality="US")
    make_dicom(tmp_path / "IM4", study_uid=STUDY_B + "4", description="two\nlines" * 0 + "x" * 64,
               accession="ACC\x01")
    before = audit_count(patient_db)
    code, _, err = run(capsys, "import-dicom", tmp_path, "--patient", "T-1")
    assert code == 2 and "nothing was written" in err
    assert "no episode at hip_left begun by 2024-12-01" in err
    assert "modality US is not one TOHtrack records" in err
    assert f"study {STUDY_B}4" in err and "accession" in err
    assert len(studies_of(patient_db)) == 1 and audit_count(patient_db) == before
    # Picking studies by UID leaves the others out.
    code, out, err = run(capsys, "import-dicom", tmp_path, "--patient", "T-1", "--study", STUDY_A)
    assert code == 0, err
    assert len(studies_of(patient_db)) == 2


def test_import_dicom_goes_to_the_episode_of_the_studys_date(capsys, patient_db, tmp_path):
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    make_dicom(tmp_path / "IM1", laterality="R", date="20240301")
    code, _, err = run(capsys, "import-dicom", tmp_path, "--patient", "T-1")
    assert code == 0, err
    assert [s.study_instance_uid for s in studies_of(patient_db, "hip_right")] == [STUDY_A]
    make_dicom(tmp_path / "IM2", study_uid=STUDY_B, laterality="R", date="20231201")
    code, _, err = run(capsys, "import-dicom", tmp_path, "--patient", "T-1")
    assert code == 2 and "no episode at hip_right begun by 2023-12-01" in err


def test_import_dicom_unknown_patient_and_empty_folder(capsys, patient_db, tmp_path):
    tmp_path = tmp_path / "in"
    tmp_path.mkdir()
    code, _, err = run(capsys, "import-dicom", tmp_path, "--patient", "T-1")
    assert code == 2 and "no DICOM study found" in err
    make_dicom(tmp_path / "IM1")
    code, _, err = run(capsys, "import-dicom", tmp_path, "--patient", "NOPE")
    assert code == 2 and "NOPE" in err


def test_import_dicom_then_export_carries_the_uid_and_round_trips(capsys, patient_db, cd, tmp_path):
    assert run(capsys, "import-dicom", cd, "--patient", "T-1")[0] == 0
    first = tmp_path / "a.json"
    assert run(capsys, "export", "-o", first)[0] == 0
    doc = json.loads(first.read_text(encoding="utf-8"))
    studies = doc["patients"][0]["episodes"][1]["imaging"]
    assert [s["study_instance_uid"] for s in studies] == [None, STUDY_A, STUDY_B]
    assert list(studies[1])[-3:] == ["report", "study_instance_uid", "study_description"]
    with Store(tmp_path / "b.sqlite3") as other:
        interchange.import_document(other, doc)
        assert interchange.dumps(interchange.export_document(other)) == first.read_text(encoding="utf-8")


# -- speed -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_cd_of_2000_files_is_listed_in_a_few_seconds(tmp_path):
    root = tmp_path / "cd"
    template = make_dicom(tmp_path / "t.dcm", extra={"InstitutionName": "General Hospital"}).read_bytes()
    for i in range(2000):
        folder = root / f"SE{i // 200}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"IM{i:04d}").write_bytes(template + b"\x00" * 0)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        found = dicom.scan(root)
        times.append(time.perf_counter() - start)
    assert found.files == 2000 and found.studies[0].images == 2000
    assert statistics.median(times) < 5.0, times
