"""tohtrack/1 import and export: all or nothing, every field, a stable round trip."""

import copy
import datetime as dt
import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import minimal_document
from tohtrack import interchange
from tohtrack.db import Store
from tohtrack.model import ValidationError

TODAY = dt.date(2026, 3, 1)


def table_counts(store):
    return {t: store.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("patients", "episodes", "imaging", "symptoms", "treatments", "audit")}


def export_text(store, mrns=None):
    return interchange.dumps(interchange.export_document(store, mrns))


def test_examples_import_with_every_record(store, vignettes):
    patients = interchange.import_document(store, vignettes, today=TODAY)
    assert [p.mrn for p in patients] == [f"EX-0{i}" for i in range(1, 7)]
    counts = table_counts(store)
    assert counts["patients"] == 6 and counts["episodes"] == 9
    assert counts["imaging"] == 12 and counts["symptoms"] == 10 and counts["treatments"] == 2
    ex04 = store.patient_by_mrn("EX-04").episodes[0]
    assert ex04.avn_risk_factors == ["corticosteroids", "alcohol"]
    assert ex04.imaging[0].subchondral_t2_low_band is True and ex04.imaging[0].collapse is None
    assert ex04.imaging[1].scintigraphy_uptake == "increased_homogeneous"


def test_round_trip_is_identical(store, tmp_path, vignettes):
    """Exported from either backend and imported into a SQLite file (and back into the first database's kind by
    the file's export): the same bytes."""
    a = store
    with Store(tmp_path / "b.sqlite3") as b:
        interchange.import_document(a, vignettes, today=TODAY)
        first = export_text(a)
        interchange.import_document(b, json.loads(first), today=TODAY)
        assert export_text(b) == first


def test_export_writes_every_field_in_contract_order(store):
    interchange.import_document(store, minimal_document(), today=TODAY)
    doc = interchange.export_document(store)
    assert list(doc) == ["format", "patients"]
    patient = doc["patients"][0]
    assert list(patient) == ["mrn", "family_name", "given_name", "birth_date", "sex", "archived", "notes", "episodes"]
    episode = patient["episodes"][0]
    assert list(episode) == ["site", "symptom_onset", "resolved_on", "diagnosis", "pregnancy", "avn_risk_factors",
                             "notes", "imaging", "symptoms", "treatments"]
    study = episode["imaging"][0]
    assert list(study) == [
        "date", "time", "modality", "edema_extent_pct", "edema_volume_ml", "edema_regions", "t1_low_signal",
        "t2_high_signal", "subchondral_fracture_line", "subchondral_t2_low_band", "collapse",
        "medial_head_sparing", "osteopenia", "subchondral_cortical_loss", "joint_effusion",
        "joint_space_narrowed", "dce_enhancement", "scintigraphy_uptake", "accession", "report",
        "study_instance_uid", "study_description"]
    assert study["edema_extent_pct"] == 70 and study["osteopenia"] is None and study["accession"] == ""
    assert study["study_instance_uid"] is None and study["study_description"] is None  # not recorded: null
    assert list(episode["symptoms"][0]) == ["date", "pain_nrs", "function_score", "function_instrument",
                                            "weight_bearing", "note"]
    assert list(episode["treatments"][0]) == ["start", "end", "kind", "detail"]
    assert episode["diagnosis"] == "transient_osteoporosis" and episode["avn_risk_factors"] == []


def test_export_orders_patients_episodes_and_records(store):
    doc = minimal_document()
    patient = doc["patients"][0]
    episode = patient["episodes"][0]
    episode["imaging"] = [
        {"date": "2025-03-01", "time": "14:00", "modality": "MRI"},
        {"date": "2025-03-01", "time": "09:15", "modality": "XR"},
        {"date": "2025-02-01", "modality": "NM"},
    ]
    episode["symptoms"] = [{"date": "2025-05-01"}, {"date": "2025-02-01"}]
    patient["episodes"].insert(0, {"site": "knee_right", "symptom_onset": "2025-01-10"})
    doc["patients"].insert(0, dict(copy.deepcopy(patient), mrn="Z-9", episodes=[]))
    interchange.import_document(store, doc, today=TODAY)
    out = interchange.export_document(store)
    assert [p["mrn"] for p in out["patients"]] == ["T-1", "Z-9"]
    episodes = out["patients"][0]["episodes"]
    assert [e["site"] for e in episodes] == ["hip_left", "knee_right"]
    assert [(s["date"], s["time"]) for s in episodes[0]["imaging"]] == [
        ("2025-02-01", None), ("2025-03-01", "09:15"), ("2025-03-01", "14:00")]
    assert [s["date"] for s in episodes[0]["symptoms"]] == ["2025-02-01", "2025-05-01"]


def test_decimals_and_unicode_survive(store):
    doc = minimal_document()
    doc["patients"][0].update(family_name="Østergård-Müller", given_name="José", notes="Pain ↑ at night")
    doc["patients"][0]["episodes"][0]["imaging"][0].update(edema_extent_pct=62.5, edema_volume_ml=0)
    interchange.import_document(store, doc, today=TODAY)
    out = interchange.export_document(store)["patients"][0]
    assert out["family_name"] == "Østergård-Müller" and out["notes"] == "Pain ↑ at night"
    assert out["episodes"][0]["imaging"][0]["edema_extent_pct"] == 62.5
    assert out["episodes"][0]["imaging"][0]["edema_volume_ml"] == 0


def test_export_selected_patients_and_archived_ones(store, vignettes):
    vignettes["patients"][2]["archived"] = True
    interchange.import_document(store, vignettes, today=TODAY)
    assert [p["mrn"] for p in interchange.export_document(store)["patients"]][2] == "EX-03"
    assert interchange.export_document(store)["patients"][2]["archived"] is True
    assert [p["mrn"] for p in interchange.export_document(store, ["EX-05", "EX-02"])["patients"]] == ["EX-02", "EX-05"]


def test_import_is_all_or_nothing(store, vignettes):
    interchange.import_document(store, minimal_document(), today=TODAY)
    before = table_counts(store)
    vignettes["patients"][5]["episodes"][0]["imaging"][0]["modality"] = "US"
    with pytest.raises(ValidationError) as err:
        interchange.import_document(store, vignettes, today=TODAY)
    assert [str(p) for p in err.value.problems] == [
        "patients[5].episodes[0].imaging[0].modality: 'US' is not a known code (allowed: MRI, XR, NM, CT)"]
    assert table_counts(store) == before


def test_existing_mrn_is_refused_with_everything_else(store, vignettes):
    interchange.import_document(store, vignettes, today=TODAY)
    store.set_archived(store.patient_id("EX-03"), None)
    before = table_counts(store)
    doc = minimal_document()
    doc["patients"].append(dict(doc["patients"][0], mrn="EX-03", episodes=[]))
    doc["patients"].append(dict(doc["patients"][0], mrn="NEW", sex="f", episodes=[]))
    with pytest.raises(ValidationError) as err:
        interchange.import_document(store, doc, today=TODAY)
    found = [str(p) for p in err.value.problems]
    assert "patients[1].mrn: 'EX-03' already exists in the database (archived)" in found
    assert any(p.startswith("patients[2].sex:") for p in found)
    assert table_counts(store) == before


@pytest.mark.parametrize("raw,expected", [
    (b"{not json", "not valid JSON: Expecting property name enclosed in double quotes at line 1 column 2"),
    (b'{"format": "tohtrack/1", "format": "tohtrack/1", "patients": []}', "the key 'format' appears twice"),
    (b'{"format": "tohtrack/1", "patients": [{"mrn": NaN}]}', "NaN is not a number in JSON"),
    (b"\xff\xfe{}", "the file is not UTF-8 text"),
    (b"", "not valid JSON: Expecting value at line 1 column 1"),
    (b"[" * 100000, "not valid JSON"),
])
def test_malformed_files_are_refused(tmp_path, raw, expected):
    path = tmp_path / "bad.json"
    path.write_bytes(raw)
    with pytest.raises(ValidationError, match=expected.replace("(", r"\(")):
        interchange.read_file(path)


def test_utf8_with_bom_is_read(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(minimal_document()).encode())
    assert interchange.read_file(path)["format"] == "tohtrack/1"


def test_missing_file_is_an_input_problem(tmp_path):
    with pytest.raises(ValidationError, match="cannot read .*No such file"):
        interchange.read_file(tmp_path / "absent.json")


# -- hypothesis: damaged documents never change the database ---------------------------------

leaf_values = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=10) \
    | st.sampled_from(["2025-02-30", "2031-01-01", "1900-01-01", "2025-01-09", "hip_middle", "MRI", "25:00", ""])


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, prefix + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, prefix + (i,))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_damaged_document_is_refused_whole_or_imported_whole(tmp_path_factory, data):
    doc = minimal_document()
    doc["patients"].append(dict(copy.deepcopy(doc["patients"][0]), mrn="T-2"))
    paths = [p for p in _paths(doc) if p]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        target = doc
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = data.draw(leaf_values)
        except (KeyError, IndexError, TypeError):
            continue
    with Store(tmp_path_factory.mktemp("h") / "h.sqlite3") as store:
        before = table_counts(store)
        try:
            interchange.import_document(store, doc, today=TODAY)
        except ValidationError as exc:
            assert exc.problems and all(str(p) for p in exc.problems)
            assert table_counts(store) == before
        else:
            assert table_counts(store)["patients"] == len(doc["patients"] or [])
            assert store.check() == []


def test_a_leftover_partial_file_does_not_lend_its_mode(tmp_path):
    """A file at the old fixed temporary name (a killed export's, or planted) is neither reused nor touched: the
    export goes through a new temporary file of its own, and is private."""
    import stat

    target = tmp_path / "out.json"
    leftover = tmp_path / ".out.json.partial"
    leftover.write_text("old")
    leftover.chmod(0o644)
    interchange.write_file(target, "{}")
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and target.read_text() == "{}"
    assert leftover.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.json.partial", "out.json"]
