"""Fixtures for every test: the repository, its example site's settings, and its build.

The example site (Stadtwerke Elbtal) is the project's own content; tests that need a
real site build it into their tmp folder rather than into the repository's output/.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from editorial.settings import Settings, load_settings
from publish.build import BuildResult, build_site

BuildExample = Callable[..., BuildResult]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's root, where pelicanconf.py and content/ are."""
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def example_settings(repo_root: Path) -> Settings:
    """The example site's settings as dialogpress reads them (defaults and checks applied)."""
    return load_settings(repo_root / "pelicanconf.py")


@pytest.fixture
def build_example(repo_root: Path, tmp_path: Path) -> BuildExample:
    """Build the example site into ``tmp_path/out`` (``out-production`` for production)."""

    def build(production: bool = False, override: dict[str, Any] | None = None) -> BuildResult:
        output = tmp_path / ("out-production" if production else "out")
        return build_site(
            repo_root / "pelicanconf.py", production=production, output=output, override=override
        )

    return build
