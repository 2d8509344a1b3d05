"""The judged site kept across ticks: served only while not one of its inputs changed.

A stale site would let through what the approver never saw (a script added to a post, a
symbolic link into the machine), so every test but the first tries to make the memo
serve the old site after a change of one input: a file's bytes, its date, a new file, a
link in the theme, a setting with the same settings file, the settings file, a forged
memo file.
"""

from __future__ import annotations

import os
import pickle
import subprocess
from pathlib import Path

import pytest

from editorial import site_memo
from editorial.pieces import Site, load_site
from editorial.settings import Settings, load_settings
from tests.editorial.small_site import make_small_site


@pytest.fixture
def site(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)  # the memo's key lives there
    make_small_site(tmp_path)
    (tmp_path / "theme" / "templates").mkdir(parents=True)
    (tmp_path / "theme" / "templates" / "base.html").write_text("<html></html>", "utf-8")
    with (tmp_path / "pelicanconf.py").open("a", encoding="utf-8") as conf:
        conf.write('THEME = "theme"\n')
    return tmp_path


def settings_of(site: Path, **extra: object) -> Settings:
    settings = load_settings(site / "pelicanconf.py")
    settings.update(extra)
    return settings


def memo_path(site: Path) -> Path:
    return site / ".dialogpress" / "cache" / "site-memo.pickle"


def keep(site: Path, settings: Settings) -> Site:
    """A run that reads the site afresh and keeps it."""
    loaded = load_site(settings)
    site_memo.save(memo_path(site), site, key(site, settings), loaded)
    return loaded


def key(site: Path, settings: Settings) -> str:
    return site_memo.site_key(settings, [site / "pelicanconf.py"])


def kept(site: Path, settings: Settings) -> Site | None:
    return site_memo.load(memo_path(site), site, key(site, settings), settings)


def shown(loaded: Site) -> list[object]:
    return [*(p.to_dict() for p in loaded.pieces), *(str(f) for f in loaded.problems)]


def test_an_unchanged_site_comes_back_as_it_was_read_with_the_settings_lent(site: Path) -> None:
    settings = settings_of(site)
    fresh = keep(site, settings)
    again = kept(site, settings)
    assert again is not None
    assert shown(again) == shown(fresh)
    assert again.settings is settings
    assert all(piece.settings is settings for piece in again.pieces)
    assert [p.public_html for p in again.posts] == [p.public_html for p in fresh.posts]


def test_a_script_added_to_a_post_is_a_miss_and_found(site: Path) -> None:
    settings = settings_of(site)
    keep(site, settings)
    post = site / "content/posts/advent.md"
    post.write_text(post.read_text("utf-8") + "\n<script>alert(1)</script>\n", "utf-8")
    assert kept(site, settings) is None
    rules = {f.rule for p in load_site(settings).posts for f in p.findings}
    assert "content.active" in rules


def test_the_same_bytes_with_another_date_are_a_miss(site: Path) -> None:
    """Pelican dates a post without a date by its file's time."""
    settings = settings_of(site)
    keep(site, settings)
    post = site / "content/posts/advent.md"
    os.utime(post, (1_700_000_000, 1_700_000_000))
    assert kept(site, settings) is None


def test_a_new_file_or_a_link_in_the_theme_is_a_miss(site: Path) -> None:
    settings = settings_of(site)
    keep(site, settings)
    (site / "content/images/neu.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    assert kept(site, settings) is None
    keep(site, settings)
    (site / "theme/templates/secret.html").symlink_to("/etc/hostname")
    assert kept(site, settings) is None
    problems = [f.rule for f in load_site(settings).problems]
    assert problems == ["security.symlink"]


def test_bytecode_written_into_the_theme_or_plugins_is_no_change(site: Path) -> None:
    """Python writes __pycache__ beside a plugin it imports: that must not cost a miss."""
    settings = settings_of(site)
    keep(site, settings)
    (site / "theme/__pycache__").mkdir()
    (site / "theme/__pycache__/x.cpython-311.pyc").write_bytes(b"\0")
    assert kept(site, settings) is not None


def test_another_setting_with_the_same_settings_file_is_a_miss(site: Path) -> None:
    """A setting read from the environment changes with no byte of the file changing."""
    keep(site, settings_of(site))
    assert kept(site, settings_of(site, SOCIAL_PATHS=["social", "posts"])) is None
    assert kept(site, settings_of(site, FORMATTED_FIELDS=["summary", "teaser"])) is None
    assert kept(site, settings_of(site)) is not None


def test_settings_with_functions_still_hit_and_a_changed_file_misses(site: Path) -> None:
    """A function's text holds its address, different in every process: it is left out
    (its code is in the settings file, whose bytes are part of the key)."""
    with (site / "pelicanconf.py").open("a", encoding="utf-8") as conf:
        conf.write("def shout(text):\n    return text.upper()\nJINJA_FILTERS = {'shout': shout}\n")
    keep(site, settings_of(site))
    assert kept(site, settings_of(site)) is not None  # settings loaded again: a new function
    with (site / "pelicanconf.py").open("a", encoding="utf-8") as conf:
        conf.write("# a comment\n")
    assert kept(site, settings_of(site)) is None


def test_a_memo_file_someone_committed_is_no_memo(site: Path) -> None:
    """The file sits in the working tree: a pushed pickle would be code and a verdict."""
    settings = settings_of(site)
    forged = pickle.dumps((site_memo.VERSION, key(site, settings), load_site(settings)))
    path = memo_path(site)
    path.parent.mkdir(parents=True)
    for payload in (forged, b"\0" * 32 + forged):
        path.write_bytes(payload)
        assert kept(site, settings) is None


def test_a_damaged_memo_is_a_miss(site: Path) -> None:
    settings = settings_of(site)
    keep(site, settings)
    path = memo_path(site)
    path.write_bytes(path.read_bytes()[:-20])
    assert kept(site, settings) is None
