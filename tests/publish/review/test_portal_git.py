"""The portal's own git questions (the site's origin, where the site sits in its repository):
git failing is a PortalError with git's words, never an empty answer taken for a real one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from gitsite import GitSite, make_keys, standard_site

from publish.review.portal import Portal, PortalError


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


@pytest.fixture
def site(tmp_path: Path, keys: dict[str, Path]) -> GitSite:
    return standard_site(tmp_path / "site", keys)


def test_a_site_without_origin_names_the_setting_and_git_s_words(site: GitSite) -> None:
    portal = Portal(site.settings(), {})
    with pytest.raises(PortalError) as refused:
        _ = portal.remote
    message = str(refused.value)
    assert f"{site.root} has no git remote 'origin'" in message
    assert "No such remote" in message  # git's own words
    assert "set PORTAL['remote']" in message


def test_origin_is_read_from_git_and_a_local_path_made_absolute(site: GitSite) -> None:
    site.git("remote", "add", "origin", "../remote.git")
    assert Portal(site.settings(), {}).remote == str((site.root / "../remote.git").resolve())


def test_a_site_outside_git_is_an_error_not_the_repository_top(site: GitSite) -> None:
    settings = site.settings()
    shutil.rmtree(site.root / ".git")
    portal = Portal(settings, {})
    with pytest.raises(PortalError, match="not a git repository") as refused:
        _ = portal.prefix
    assert f"cannot tell where the site {site.root} is in its git repository" in str(
        refused.value
    )
