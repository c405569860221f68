"""The layers of tohtrack/, read from the source with `ast` (nothing is imported or run):

- only tohtrack/store/ (the storage gateway) imports a database driver (sqlite3, sqlite-utils, psycopg) or runs
  SQL: no `.execute(…)`, `.executemany(…)`, `.executescript(…)`, `create_function`, no reach into a store's
  connection (`.conn`), and no SQL statement in a string, anywhere else;
- only tohtrack/gui/ imports Qt (PySide6, shiboken6) or pyqtgraph: the core runs without them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import tohtrack

PACKAGE = Path(tohtrack.__file__).parent
DRIVERS = {"sqlite3", "_sqlite3", "sqlite_utils", "psycopg", "psycopg2", "psycopg_pool", "psycopg_binary", "apsw",
           "sqlalchemy", "alembic"}
QT = {"PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6"}
SQL_CALLS = {"execute", "executemany", "executescript", "create_function", "create_aggregate"}
#: A string that is a SQL statement (upper-case keywords, as this code base writes them), not a sentence.
SQL_TEXT = re.compile(r"^\s*(SELECT\s.+\sFROM\s|INSERT\s+INTO\s|UPDATE\s+\w+\s+SET\s|DELETE\s+FROM\s|PRAGMA\s|"
                      r"CREATE\s+(TABLE|INDEX|UNIQUE|TRIGGER|VIEW)\s|DROP\s+(TABLE|INDEX|TRIGGER)\s|BEGIN\b|"
                      r"COMMIT\b|ROLLBACK\b|WITH\s+\w+\s+AS\s*\()", re.DOTALL)


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _relative(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def _under(path: Path, folder: str) -> bool:
    return path.relative_to(PACKAGE).parts[0] == folder


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, top-level module) of each import, including importlib.import_module("…") and __import__("…")."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Name) and node.func.id == "__import__")
                   or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"))):
            found.append((node.lineno, node.args[0].value.split(".")[0]))
    return found


def storage_reaches(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) of each call that runs SQL, reach into a connection, or SQL statement in a string."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SQL_CALLS:
            found.append((node.lineno, f".{node.func.attr}(…)"))
        elif isinstance(node, ast.Attribute) and node.attr == "conn":
            found.append((node.lineno, ".conn"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL_TEXT.match(node.value):
            found.append((node.lineno, f"SQL text {node.value.strip()[:40]!r}"))
    return found


def _violations(check, allowed) -> list[str]:
    problems = []
    for path in _modules():
        if allowed(path):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        problems += [f"{_relative(path)}:{line}: {what}" for line, what in check(tree)]
    return problems


def test_only_the_storage_gateway_imports_a_database_driver():
    problems = _violations(lambda tree: [(line, name) for line, name in imported(tree) if name in DRIVERS],
                           lambda path: _under(path, "store"))
    assert problems == [], "a database driver imported outside tohtrack/store/:\n" + "\n".join(problems)


def test_only_the_storage_gateway_runs_sql():
    problems = _violations(storage_reaches, lambda path: _under(path, "store"))
    assert problems == [], "SQL outside tohtrack/store/ (use a gateway method):\n" + "\n".join(problems)


def test_only_the_gui_imports_qt():
    problems = _violations(lambda tree: [(line, name) for line, name in imported(tree) if name in QT],
                           lambda path: _under(path, "gui"))
    assert problems == [], "Qt imported outside tohtrack/gui/:\n" + "\n".join(problems)


def test_the_store_package_itself_has_no_qt():
    problems = _violations(lambda tree: [(line, name) for line, name in imported(tree) if name in QT],
                           lambda path: not _under(path, "store"))
    assert problems == []


@pytest.mark.parametrize("source, caught", [
    ("import sqlite3", "imports"),
    ("import sqlite3 as s", "imports"),
    ("from sqlite3 import connect", "imports"),
    ("import psycopg.rows", "imports"),
    ("from sqlite_utils import Database", "imports"),
    ("import importlib\nimportlib.import_module('psycopg')", "imports"),
    ("__import__('sqlite3')", "imports"),
    ("store.conn.execute('SELECT 1')", "sql"),
    ("cursor.executemany(sql, rows)", "sql"),
    ("db.executescript(script)", "sql"),
    ("conn.create_function('f', 1, len)", "sql"),
    ("rows = store.conn", "sql"),
    ("SQL = 'SELECT id FROM patients WHERE archived = 0'", "sql"),
    ("SQL = '''\\n  UPDATE patients SET archived = 1'''", "sql"),
    ("x = 'PRAGMA data_version'", "sql"),
    ("from PySide6.QtCore import Qt", "qt"),
    ("import pyqtgraph as pg", "qt"),
])
def test_the_checks_catch_what_they_are_for(source, caught):
    tree = ast.parse(source)
    drivers = [n for _, n in imported(tree) if n in DRIVERS]
    qt = [n for _, n in imported(tree) if n in QT]
    sql = storage_reaches(tree)
    assert {"imports": drivers, "sql": sql, "qt": qt}[caught]


@pytest.mark.parametrize("source", [
    "from .db import Store",
    "from . import registry",
    "import sqlite_helpers_of_ours_not",  # a name that merely starts alike
    "message = 'Select a patient from the list'",
    "message = 'Update the settings, then try again'",
    "dialog.exec()",
    "store.search(text, filters, as_of)",
])
def test_the_checks_pass_what_is_allowed(source):
    tree = ast.parse(source)
    assert [n for _, n in imported(tree) if n in DRIVERS | QT] == [] and storage_reaches(tree) == []
