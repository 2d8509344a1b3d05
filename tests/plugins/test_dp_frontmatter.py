"""dp_frontmatter in a real Pelican build: YAML front matter in, the right metadata out.

Each test writes a tiny site into tmp_path and builds it with Pelican's default theme,
so what is asserted is the reader's work, read back from the Atom feed Pelican writes.
"""

from __future__ import annotations

import logging
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from publish.site.build import BuildResult, build_site

ATOM = "{http://www.w3.org/2005/Atom}"
PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def write_site(root: Path, posts: dict[str, str], extra: str = "") -> Path:
    """A site with ``posts`` (file name → text) and the plugin; returns its settings file."""
    folder = root / "content" / "posts"
    folder.mkdir(parents=True)
    for name, text in posts.items():
        (folder / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    settings = root / "pelicanconf.py"
    settings.write_text(
        textwrap.dedent(
            f"""
            PATH = "content"
            ARTICLE_PATHS = ["posts"]
            TIMEZONE = "Europe/Berlin"
            DEFAULT_LANG = "de"
            SITEURL = "https://example.test"
            PLUGIN_PATHS = [{str(PLUGINS)!r}]
            PLUGINS = ["dp_frontmatter"]
            FEED_ALL_ATOM = "feeds/all.atom.xml"
            """
        )
        + extra,
        encoding="utf-8",
    )
    return settings


def build(settings: Path) -> BuildResult:
    return build_site(settings, output=settings.parent / "out")


def feed_entries(result: BuildResult) -> dict[str, dict[str, Any]]:
    """The feed's entries by title: published time, categories (tags) and summary HTML."""
    root = ET.parse(result.output / "feeds" / "all.atom.xml").getroot()  # noqa: S314 - own build
    entries = {}
    for entry in root.iter(f"{ATOM}entry"):
        entries[entry.findtext(f"{ATOM}title")] = {
            "published": entry.findtext(f"{ATOM}published"),
            "terms": [c.get("term") for c in entry.iter(f"{ATOM}category")],
            "summary": entry.findtext(f"{ATOM}summary"),
        }
    return entries


WINTER = """
    ---
    title: Störung im Winter
    date: 2026-11-24 09:00
    tags: [Strom, "Straße & Netz"]
    summary: Ein **kurzer** Text über „Störungen“.
    ---
    Der Text.
    """

SUMMER = """
    ---
    title: Sommerzeit
    date: 2026-07-01 09:00
    tags: Wasser, Hitze
    ---
    Der Text.
    """

GAP = """
    ---
    title: Zur Zeitumstellung
    date: 2026-03-29 02:30
    ---
    Diese Uhrzeit gibt es in Berlin nicht.
    """


def test_yaml_front_matter_becomes_pelican_metadata(tmp_path: Path) -> None:
    result = build(write_site(tmp_path, {"winter.md": WINTER, "summer.md": SUMMER}))
    assert result.ok, result.errors
    entries = feed_entries(result)
    winter = entries["Störung im Winter"]
    # an aware date in the site's zone, winter and summer time alike
    assert winter["published"] == "2026-11-24T09:00:00+01:00"
    assert entries["Sommerzeit"]["published"] == "2026-07-01T09:00:00+02:00"
    # a YAML list is a list of tags, the old comma form still works
    assert {"Strom", "Straße & Netz"} <= set(winter["terms"])
    assert {"Wasser", "Hitze"} <= set(entries["Sommerzeit"]["terms"])
    assert (result.output / "tag" / "strom.html").is_file()
    # the summary is Markdown, rendered like the body
    assert winter["summary"] == "<p>Ein <strong>kurzer</strong> Text über „Störungen“.</p>"


def test_a_date_in_the_dst_gap_fails_that_post_only(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = write_site(tmp_path, {"winter.md": WINTER, "gap.md": GAP})
    with caplog.at_level(logging.ERROR):
        result = build(settings)
    assert not result.ok
    # the build's errors carry the reason (file, line, field), then Pelican's own line
    assert result.errors[0].startswith("posts/gap.md:3:7: error [schema.date] date:")
    assert all("gap.md" in error for error in result.errors)
    reasons = [r.getMessage() for r in caplog.records if r.name == "dp_frontmatter.reader"]
    assert len(reasons) == 1
    assert reasons[0].startswith("posts/gap.md:3:")
    assert "date:" in reasons[0] and "does not exist in Europe/Berlin" in reasons[0]
    assert list(feed_entries(result)) == ["Störung im Winter"]
    assert (result.output / "storung-im-winter.html").is_file()


@pytest.mark.parametrize(
    "value",
    ['["md"]', '"md"', '{"extension": ["md"]}', '{"extensions": "md"}', '{"extensions": []}'],
)
def test_a_bad_setting_stops_the_build_at_start(tmp_path: Path, value: str) -> None:
    settings = write_site(tmp_path, {"winter.md": WINTER}, extra=f"DP_FRONTMATTER = {value}\n")
    result = build(settings)
    assert not result.ok
    assert len(result.errors) == 1 and "DP_FRONTMATTER" in result.errors[0]
    assert not list(result.output.rglob("*.html"))


def test_a_good_setting_is_accepted(tmp_path: Path) -> None:
    settings = write_site(
        tmp_path,
        {"winter.md": WINTER},
        extra='DP_FRONTMATTER = {"extensions": ["md", "markdown"]}\n',
    )
    result = build(settings)
    assert result.ok, result.errors
    assert list(feed_entries(result)) == ["Störung im Winter"]
