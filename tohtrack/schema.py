"""Old name of tohtrack.store.schema (what identifies a TOHtrack database and its schema version)."""

from .store.schema import APPLICATION_ID, MIGRATION_SET, SCHEMA  # noqa: F401
