"""Fixtures of the PostgreSQL tests (imported by each test module: a conftest here would shadow tests/conftest.py's
name): a fresh empty database per test on the session's server (tests/pgserver.py)."""

import pytest


@pytest.fixture
def pg_db(pg_server):
    """The name of a new empty database, owned by the session's owner role; dropped after the test."""
    name = pg_server.new_database()
    yield name
    pg_server.drop_database(name)


@pytest.fixture
def owner_url(pg_server, pg_db) -> str:
    return pg_server.owner_url(pg_db)


@pytest.fixture
def pg_store(owner_url):
    """An initialised TOHtrack database (opened as its owner, which initialises an empty one)."""
    from tohtrack.store.postgres import PostgresStore

    store = PostgresStore(owner_url)
    yield store
    store.close()
