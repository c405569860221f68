"""Lookalike identities, imported through the real command line: every spelling of a stored MRN that looks the
same (case, fullwidth forms, zero-width and bidi characters, soft hyphens, byte order marks, padding) is refused
with exit 2 naming the record, and the database is left byte for byte as it was (slow: a child per file)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import minimal_document

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u202a", "\u202b", "\u202c", "\u202d",
             "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\u061c", "\u200e", "\u200f", "\x85", "\x9b",
             "\U000e0001", "\ue000", "\U000f0000", "\u0378", "\ufdd0"]
PADDING = [" ", "\u00a0", "\u3000", "\u2003", "\t"]


def tohtrack(*args) -> tuple[int, str, str]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-m", "tohtrack", *map(str, args)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def lookalike(mrn: str, rng: random.Random) -> str:
    """A spelling of `mrn` that is the same MRN, or one that only looks like it (refused for its characters)."""
    text = mrn
    for _ in range(rng.randint(1, 3)):
        how = rng.choice(["lower", "swapcase", "fullwidth", "invisible", "invisible", "pad+case"])
        if how == "lower":
            text = text.lower()
        elif how == "swapcase":
            text = text.swapcase()
        elif how == "fullwidth":
            text = fullwidth(text)
        elif how == "invisible":
            at = rng.randint(0, len(text))
            text = text[:at] + rng.choice(INVISIBLE) + text[at:]
        else:
            text = rng.choice(PADDING) + text.lower() + rng.choice(PADDING)
    if text == mrn:
        text = text.lower() if text.lower() != mrn else fullwidth(text)
    return text


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_lookalikes_of_stored_mrns_are_refused_through_the_command_line(tmp_path):
    db = tmp_path / "clinic.sqlite3"
    assert tohtrack("--db", db, "demo", "--patients", "200", "--seed", "3")[0] == 0
    code, out, _ = tohtrack("--db", db, "export", "-o", "-")
    stored = [p["mrn"] for p in json.loads(out)["patients"]]
    before = digest(db)
    rng = random.Random(17)
    template = minimal_document()["patients"][0]
    tried = set()
    for round_ in range(30):
        victims = rng.sample(stored, 3)
        fakes = [lookalike(m, rng) for m in victims]
        tried.update(fakes)
        patients = [dict(template, mrn=f"NEW-{round_}-{i}") for i in range(5)]  # clean ones around them
        where = sorted(rng.sample(range(8), 3))
        for at, fake in zip(where, fakes):
            patients.insert(at, dict(template, mrn=fake))
        path = tmp_path / f"round-{round_}.json"
        path.write_text(json.dumps({"format": "tohtrack/1", "patients": patients}, ensure_ascii=rng.random() < 0.5),
                        encoding="utf-8")
        code, out, err = tohtrack("--db", db, "import", path)
        assert code == 2 and out == "", (fakes, err)
        for at in where:
            assert f"patients[{at}].mrn: " in err, (fakes, err)
        assert digest(db) == before
    assert len(tried) >= 80
    # and two lookalikes of a new MRN within one file: the second is refused
    path = tmp_path / "pair.json"
    path.write_text(json.dumps({"format": "tohtrack/1", "patients": [
        dict(template, mrn="ZZ-1"), dict(template, mrn="zz-1"), dict(template, mrn="ＺＺ-1"),
        dict(template, mrn="ZZ-1\u200b")]}), encoding="utf-8")
    code, _, err = tohtrack("--db", db, "import", path)
    assert code == 2 and all(f"patients[{i}].mrn: " in err for i in (1, 2, 3)), err
    assert digest(db) == before
    assert tohtrack("--db", db, "check")[0] == 0
