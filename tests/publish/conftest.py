"""Fixtures shared by the publish tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.publish.syndication_site import Site, make_site


@pytest.fixture
def syndication_site(tmp_path: Path) -> Iterator[Site]:
    """The example site on a fresh sandbox (tests/publish/syndication_site.py)."""
    yield from make_site(tmp_path)
