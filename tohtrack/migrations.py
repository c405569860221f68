"""Old name of tohtrack.store.sqlite.migrations (the SQLite schema's migrations, through sqlite-utils)."""

from .store.sqlite.migrations import *  # noqa: F401,F403
from .store.sqlite.migrations import SUMMARY_TRIGGERS, known_names, migrations  # noqa: F401
