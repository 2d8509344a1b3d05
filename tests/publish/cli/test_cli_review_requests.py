"""``request-review`` where git cannot say what to send: a clear error, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from gitsite import PETRA, GitSite, make_keys, standard_site

from publish.cli import main
from publish.cli.common import EXIT_USAGE


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def site(tmp_path: Path, keys: dict[str, Path]) -> GitSite:
    return standard_site(tmp_path / "site", keys)


def run(site: GitSite, *args: str) -> Result:
    return CliRunner().invoke(main, [*args, "-s", str(site.root / "pelicanconf.py")])


def test_a_branch_without_a_commit_is_a_clear_error_with_git_s_words(site: GitSite) -> None:
    # a real git failure after the settings were read: the branch has no commit yet
    site.git("checkout", "-q", "--orphan", "unborn")
    result = run(site, "request-review", "--to", PETRA.email)
    assert result.exit_code == EXIT_USAGE, result.output
    assert isinstance(result.exception, SystemExit)
    assert f"cannot read the branch to review in {site.root}" in result.output
    assert "HEAD" in result.output  # git's own words say what it could not resolve
    assert "Traceback" not in result.output


def test_a_detached_head_is_still_not_on_a_branch(site: GitSite) -> None:
    site.git("checkout", "-q", "--detach")
    result = run(site, "request-review", "--to", PETRA.email)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "not on a branch: check out the branch to review first" in result.output
