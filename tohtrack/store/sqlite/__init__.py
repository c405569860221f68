"""The SQLite backend of the storage gateway (the embedded default: one database file per workstation).

store.py holds `Store` (records, audit, backup, restore, check), migrations.py the schema's migrations,
summaries.py the stored assessments, registry.py the registry's search, worklist and statistics queries.
"""

from .store import Store  # noqa: F401
