"""Clinic settings: text forms, defaults, and every validation rule."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tohtrack import settings
from tohtrack.model import ValidationError, text_problem
from tohtrack.settings import DEFAULTS, KEYS, Settings, from_texts, parse, to_texts


def problem(key: str, text) -> str:
    """The single problem message that parsing `text` for `key` raises."""
    with pytest.raises(ValidationError) as info:
        parse(key, text)
    [found] = info.value.problems
    assert found.path == key
    assert str(info.value).startswith(f"{key}: ")
    return found.message


# -- defaults and key order ------------------------------------------------------


def test_defaults():
    s = Settings()
    assert s.resolution_window_months == (6, 8)
    assert s.review_schedule == ((6, "w"), (3, "m"), (6, "m"), (8, "m"))
    assert (s.clinic_name, s.paper_size, s.backup_keep) == ("", "A4", 10)


def test_keys_in_order():
    assert KEYS == ("resolution_window_months", "review_schedule", "clinic_name", "paper_size", "backup_keep",
                    "fhir_mrn_system")


def test_default_texts():
    assert DEFAULTS == {
        "resolution_window_months": "6-8",
        "review_schedule": "6w 3m 6m 8m",
        "clinic_name": "",
        "paper_size": "A4",
        "backup_keep": "10",
        "fhir_mrn_system": "https://tohtrack.invalid/fhir/sid/mrn",
    }
    assert list(DEFAULTS) == list(KEYS)


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        Settings().backup_keep = 3


# -- parse and format --------------------------------------------------------------


@pytest.mark.parametrize("key, text, value", [
    ("resolution_window_months", "6-8", (6, 8)),
    ("resolution_window_months", " 4 - 12 ", (4, 12)),
    ("resolution_window_months", "6–8", (6, 8)),
    ("resolution_window_months", "1-1", (1, 1)),
    ("resolution_window_months", "36-36", (36, 36)),
    ("review_schedule", "6w 3m 6m 8m", ((6, "w"), (3, "m"), (6, "m"), (8, "m"))),
    ("review_schedule", "2W, 1M,  12m", ((2, "w"), (1, "m"), (12, "m"))),
    ("review_schedule", "4w 1m", ((4, "w"), (1, "m"))),
    ("review_schedule", "520w", ((520, "w"),)),
    ("review_schedule", "120m", ((120, "m"),)),
    ("review_schedule", " ".join(f"{n}m" for n in range(1, 13)), tuple((n, "m") for n in range(1, 13))),
    ("clinic_name", "  Ospedale Sant'Anna — Ortopedia  ", "Ospedale Sant'Anna — Ortopedia"),
    ("clinic_name", "x" * 200, "x" * 200),
    ("clinic_name", "", ""),
    ("paper_size", "A4", "A4"),
    ("paper_size", "a4", "A4"),
    ("paper_size", " LETTER ", "Letter"),
    ("backup_keep", "10", 10),
    ("backup_keep", " 1 ", 1),
    ("backup_keep", "365", 365),
])
def test_parse(key, text, value):
    assert parse(key, text) == value


@pytest.mark.parametrize("key, value, text", [
    ("resolution_window_months", (6, 8), "6-8"),
    ("review_schedule", ((6, "w"), (3, "m"), (6, "m"), (8, "m")), "6w 3m 6m 8m"),
    ("clinic_name", "Orthopaedics", "Orthopaedics"),
    ("paper_size", "Letter", "Letter"),
    ("backup_keep", 10, "10"),
])
def test_format(key, value, text):
    assert settings.format(key, value) == text
    assert parse(key, text) == value


@pytest.mark.parametrize("key, text, canonical", [
    ("resolution_window_months", " 6 – 12", "6-12"),
    ("review_schedule", "2W,3M", "2w 3m"),
    ("paper_size", "letter", "Letter"),
    ("backup_keep", "007", "7"),
])
def test_format_gives_the_canonical_text(key, text, canonical):
    assert settings.format(key, parse(key, text)) == canonical


# -- every validation failure names the key ------------------------------------------


@pytest.mark.parametrize("key, text, fragment", [
    ("resolution_window_months", "6", "expected W1-W2"),
    ("resolution_window_months", "", "expected W1-W2"),
    ("resolution_window_months", "six-8", "expected W1-W2"),
    ("resolution_window_months", "6.5-8", "expected W1-W2"),
    ("resolution_window_months", "-1-8", "expected W1-W2"),
    ("resolution_window_months", "0-8", "starts at 1 month at the earliest"),
    ("resolution_window_months", "6-37", "ends at 36 months at the latest"),
    ("resolution_window_months", "8-6", "starts after it ends"),
    ("review_schedule", "", "has 0 reviews"),
    ("review_schedule", " ".join(f"{n}w" for n in range(1, 14)), "has 13 reviews"),
    ("review_schedule", "6x", "'6x' is not a review offset"),
    ("review_schedule", "6 w", "'6' is not a review offset"),
    ("review_schedule", "-6w", "'-6w' is not a review offset"),
    ("review_schedule", "1.5m", "'1.5m' is not a review offset"),
    ("review_schedule", "0w 3m", "0w is outside 1–520w"),
    ("review_schedule", "521w", "521w is outside 1–520w"),
    ("review_schedule", "121m", "121m is outside 1–120m"),
    ("review_schedule", "3m 6w", "6w does not come after 3m"),
    ("review_schedule", "6w 3m 3m", "3m does not come after 3m"),
    ("review_schedule", "5w 1m", "1m does not come after 5w"),
    ("clinic_name", "x" * 201, "201 characters long (at most 200)"),
    ("clinic_name", "Ortho\tpaedics", "contains a tab (U+0009)"),
    ("clinic_name", "Ortho\npaedics", "contains a line break (U+000A) at position 6; it must be one line"),
    ("clinic_name", "Ortho\x7fpaedics", "contains a control character (U+007F"),
    ("clinic_name", "Ortho\x85paedics", "contains a control character (U+0085"),
    ("clinic_name", "Ortho\u202epaedics", "contains an invisible formatting character (U+202E"),
    ("clinic_name", "Ortho\u2028paedics", "contains a line break (U+2028 LINE SEPARATOR)"),
    ("paper_size", "A5", "'A5' is not a paper size (allowed: A4, Letter)"),
    ("paper_size", "", "is not a paper size"),
    ("backup_keep", "0", "0 is outside 1–365"),
    ("backup_keep", "366", "366 is outside 1–365"),
    ("backup_keep", "ten", "'ten' is not a whole number"),
    ("backup_keep", "1.5", "is not a whole number"),
    ("backup_keep", "-1", "is not a whole number"),
    ("backup_keep", "+5", "is not a whole number"),
    ("backup_keep", "", "is not a whole number"),
    ("backup_keep", "١٠", "is not a whole number"),
])
def test_parse_rejects(key, text, fragment):
    assert fragment in problem(key, text)


def test_parse_rejects_what_is_not_text():
    assert "is not text" in problem("backup_keep", 10)


def test_unknown_key_lists_the_known_keys():
    message = problem("paper", "A4")
    assert "unknown setting" in message
    for key in KEYS:
        assert key in message


@pytest.mark.parametrize("key, value", [
    ("resolution_window_months", (8, 6)),
    ("resolution_window_months", (6,)),
    ("review_schedule", ((3, "m"), (3, "m"))),
    ("review_schedule", ((3, "d"),)),
    ("review_schedule", ()),
    ("clinic_name", None),
    ("paper_size", "a4"),
    ("backup_keep", True),
    ("backup_keep", "10"),
    ("unknown", 1),
])
def test_format_rejects_bad_values(key, value):
    with pytest.raises(ValidationError) as info:
        settings.format(key, value)
    assert info.value.problems[0].path == key


def test_settings_check_their_values():
    with pytest.raises(ValidationError) as info:
        Settings(resolution_window_months=(0, 8), backup_keep=0)
    assert [p.path for p in info.value.problems] == ["resolution_window_months", "backup_keep"]


# -- from_texts and to_texts -----------------------------------------------------


def test_from_texts_missing_keys_take_the_defaults():
    assert from_texts({}) == Settings()
    assert from_texts({"paper_size": "letter"}) == Settings(paper_size="Letter")


def test_from_texts_reads_every_key():
    s = from_texts({"resolution_window_months": "6-12", "review_schedule": "2w 1m", "clinic_name": "Ortho",
                    "paper_size": "Letter", "backup_keep": "30"})
    assert s == Settings((6, 12), ((2, "w"), (1, "m")), "Ortho", "Letter", 30)


def test_from_texts_reports_every_problem():
    with pytest.raises(ValidationError) as info:
        from_texts({"resolution_window_months": "8-6", "backup_keep": "0", "colour": "blue"})
    assert [p.path for p in info.value.problems] == ["colour", "resolution_window_months", "backup_keep"]


def test_to_texts():
    s = Settings(clinic_name="Ortho", paper_size="Letter", backup_keep=3)
    assert to_texts(s) == {**DEFAULTS, "clinic_name": "Ortho", "paper_size": "Letter", "backup_keep": "3"}
    assert list(to_texts(s)) == list(KEYS)


@st.composite
def valid_settings(draw) -> Settings:
    """Any settings that pass validation."""
    first = draw(st.integers(1, 36))
    last = draw(st.integers(first, 36))
    months = draw(st.lists(st.integers(1, 120), min_size=1, max_size=12, unique=True))
    schedule = tuple((n, "m") for n in sorted(months))
    name = draw(st.text(st.characters(blacklist_categories=("Cc", "Cf", "Cn", "Co", "Cs", "Zl", "Zp"))
                        .filter(lambda c: text_problem(c) is None), max_size=200)).strip()  # nor ones shown as nothing
    return Settings((first, last), schedule, name, draw(st.sampled_from(["A4", "Letter"])),
                    draw(st.integers(1, 365)))


@given(valid_settings())
def test_round_trip(s):
    assert from_texts(to_texts(s)) == s
