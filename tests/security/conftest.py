"""Fixtures for the attack tests: a real git site, real SSH keys, the real CLI.

Every test here plays someone with push access trying to get something public that a
client approver did not approve, in exactly the version they saw; each drives
``dialogpress check --require-approval`` and ``dialogpress build --production`` (a real
Pelican build with the approval gate) and looks at what the public output holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from gitsite import GitSite, make_keys, standard_site

from publish.cli import main

NOW = 'DP_NOW = "2026-12-01 12:00"\n'


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def site(tmp_path: Path, keys: dict[str, Path]) -> GitSite:
    """Lena's advent post (with its image) and snippet, committed on main, not approved."""
    return standard_site(tmp_path / "site", keys, extra=NOW)


def run(site: GitSite, *args: str) -> Result:
    """``dialogpress <args> -s <site>/pelicanconf.py`` as a user runs it."""
    return CliRunner().invoke(main, [*args, "-s", str(site.root / "pelicanconf.py")])


@dataclass
class Production:
    result: Result
    output: Path

    @property
    def ok(self) -> bool:
        return self.result.exit_code == 0

    def has(self, path: str) -> bool:
        return (self.output / path).is_file()

    def text(self, path: str) -> str:
        return (self.output / path).read_text(encoding="utf-8")


def production(site: GitSite, name: str = "public") -> Production:
    """``dialogpress build --production`` into ``<site>/<name>``; its log is in the output."""
    output = site.root / name
    return Production(run(site, "build", "--production", "-o", str(output)), output)
