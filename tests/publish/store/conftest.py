"""A store on SQLite and on PostgreSQL for each test (the server: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from publish.store import Store

DIALECTS = ["sqlite", "postgresql"]


@pytest.fixture(params=DIALECTS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("postgresql_url"))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A migrated store on each dialect."""
    opened = Store(database_url).upgrade()
    try:
        yield opened
    finally:
        opened.dispose()
