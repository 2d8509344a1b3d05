"""dp_social_meta in real Pelican builds: the card tags a network reads from <head>.

Each test builds a small site with the project's theme and reads the tags back as a
browser (or a network's crawler) parses them, so escaping is checked where it matters:
a quote in a title must not end the ``content`` attribute.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest
from gitsite import LENA, PETRA, POST, GitSite, jpeg, make_keys

from publish.site.build import BuildResult, build_site

THEME = Path(__file__).resolve().parents[2] / "theme"
SITEURL = "https://service.example.test"
TITLE = 'Strom & Wasser: „Fragen“ zum "Netz"'
CONFIG = (
    'SITENAME = "Stadtwerke Elbtal – Service-Blog"\n'
    'SITESUBTITLE = "Wir sind für Sie da: Strom & Wasser"\n'
    'DP_SOCIAL_META = {"default_image": "images/logo.png",\n'
    '                  "default_image_alt": "Logo der Stadtwerke Elbtal",\n'
    '                  "twitter_site": "@sw_elbtal"}\n'
)
LONG_SUMMARY = "Ein **sehr** langer Text über Strom & Wasser, " + "und noch mehr Wörter " * 20

PAGE = """\
---
title: Über uns
slug: ueber-uns
lang: de
summary: Wer wir sind.
---
Der Text.
"""


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


def make_site(root: Path, keys: dict[str, Path], extra: str = "",
              siteurl: str = SITEURL) -> GitSite:
    """A German post with its own image, its English translation without one, a page."""
    site = GitSite(
        root, keys, [PETRA],
        extra=(
            f"THEME = {str(THEME)!r}\nPLUGINS = PLUGINS + ['dp_social_meta']\n"
            f"SITEURL = {siteurl!r}\nRELATIVE_URLS = False\n" + CONFIG + extra
        ),
    )
    site.write("images/team.jpg", jpeg(b"team"))
    site.write("images/logo.png", jpeg(b"logo"))
    site.write("posts/strom.md", POST.replace("Service im Advent", f"'{TITLE}'")
               .replace("slug: service-im-advent", "slug: strom")
               .replace("image_alt: Unser Service-Team",
                        'image_alt: "Das „Service-Team“ & Gäste"'))
    site.write("posts/strom-en.md", POST.replace("Service im Advent", "Power & water")
               .replace("slug: service-im-advent", "slug: strom\nlang: en")
               .replace("image: images/team.jpg\nimage_alt: Unser Service-Team\n",
                        f"summary: {LONG_SUMMARY.strip()}\n"))
    site.write("pages/ueber-uns.md", PAGE)
    site.commit(LENA, "Posts and a page")
    return site


def build(site: GitSite) -> BuildResult:
    return build_site(site.root / "pelicanconf.py", output=site.root / "out")


class MetaTags(HTMLParser):
    """The ``<meta>`` tags of a page: (attribute used, property) → contents, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: dict[str, list[str]] = {}
        self.attributes: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        for attribute in ("property", "name"):
            key = values.get(attribute, "")
            if tag == "meta" and key.startswith(("og:", "twitter:", "article:")):
                self.tags.setdefault(key, []).append(values.get("content", ""))
                self.attributes[key] = attribute


def meta(page: Path) -> MetaTags:
    parser = MetaTags()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    return parser


def one(tags: MetaTags, key: str) -> str:
    assert len(tags.tags.get(key, [])) == 1, (key, tags.tags)
    return tags.tags[key][0]


def test_an_article_carries_its_card_with_absolute_urls(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys)
    result = build(site)
    assert result.ok, result.errors
    page = result.output / "strom.html"
    tags = meta(page)
    assert one(tags, "og:title") == TITLE
    assert one(tags, "og:type") == "article"
    assert one(tags, "og:url") == f"{SITEURL}/strom.html"
    assert one(tags, "og:image") == f"{SITEURL}/images/team.jpg"
    assert one(tags, "og:image:alt") == "Das „Service-Team“ & Gäste"
    assert one(tags, "og:locale") == "de_DE"
    assert tags.tags["og:locale:alternate"] == ["en_US"]
    assert one(tags, "og:site_name") == "Stadtwerke Elbtal – Service-Blog"
    assert one(tags, "og:description").startswith("Unsere Kundenzentren haben im Advent")
    assert one(tags, "article:published_time") == "2026-11-20T10:00:00+01:00"
    assert one(tags, "twitter:card") == "summary_large_image"
    assert one(tags, "twitter:site") == "@sw_elbtal"
    assert tags.attributes["twitter:card"] == "name"
    assert tags.attributes["og:title"] == "property"
    html = page.read_text(encoding="utf-8")
    assert 'content="Strom &amp; Wasser: „Fragen“ zum &#34;Netz&#34;"' in html


def test_a_long_summary_becomes_a_short_plain_description(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys)
    result = build(site)
    assert result.ok, result.errors
    tags = meta(result.output / "strom-en.html")
    description = one(tags, "og:description")
    plain = " ".join(LONG_SUMMARY.replace("**", "").split())
    assert len(description) <= 200
    assert description.endswith("…")
    cut = description.removesuffix("…")
    assert plain.startswith(cut), "not the summary's text, or markup left in it"
    assert plain[len(cut)] == " ", "cut inside a word"
    assert one(tags, "og:locale") == "en_US"
    assert tags.tags["og:locale:alternate"] == ["de_DE"]
    assert one(tags, "og:title") == "Power & water"
    assert one(tags, "og:image") == f"{SITEURL}/images/logo.png"
    assert one(tags, "og:image:alt") == "Logo der Stadtwerke Elbtal"


def test_pages_and_the_index_are_websites(tmp_path: Path, keys: dict[str, Path]) -> None:
    site = make_site(tmp_path / "site", keys)
    result = build(site)
    assert result.ok, result.errors
    page = meta(result.output / "pages" / "ueber-uns.html")
    assert one(page, "og:type") == "website"
    assert one(page, "og:title") == "Über uns"
    assert one(page, "og:description") == "Wer wir sind."
    assert one(page, "og:url") == f"{SITEURL}/pages/ueber-uns.html"
    assert one(page, "og:image") == f"{SITEURL}/images/logo.png"
    assert "article:published_time" not in page.tags
    index = meta(result.output / "index.html")
    assert one(index, "og:type") == "website"
    assert one(index, "og:title") == "Stadtwerke Elbtal – Service-Blog"
    assert one(index, "og:description") == "Wir sind für Sie da: Strom & Wasser"
    assert one(index, "og:url") == f"{SITEURL}/"
    assert one(index, "og:locale") == "de_DE"
    assert one(index, "twitter:card") == "summary_large_image"
    assert meta(result.output / "archives.html").tags == {}


def test_without_an_absolute_siteurl_urls_are_left_out(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    """A development build: relative URLs would be wrong on a network's card."""
    site = make_site(tmp_path / "site", keys, siteurl="")
    result = build(site)
    assert result.ok, result.errors
    tags = meta(result.output / "strom.html")
    assert one(tags, "og:title") == TITLE
    assert "og:url" not in tags.tags
    assert "og:image" not in tags.tags
    assert "og:image:alt" not in tags.tags
    assert one(tags, "twitter:card") == "summary"


def test_without_the_setting_there_is_no_default_image_and_no_account(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys, "DP_SOCIAL_META = {}\n")
    result = build(site)
    assert result.ok, result.errors
    tags = meta(result.output / "strom-en.html")
    assert "og:image" not in tags.tags
    assert "twitter:site" not in tags.tags
    assert one(tags, "twitter:card") == "summary"
    assert one(meta(result.output / "strom.html"), "og:image") == f"{SITEURL}/images/team.jpg"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"images/logo.png"', "DP_SOCIAL_META must be a dict with the keys"),
        ('{"twitter": "@sw_elbtal"}', "DP_SOCIAL_META must be a dict with the keys"),
        ('{"twitter_site": "@stadtwerke_elbtal"}',
         "DP_SOCIAL_META['twitter_site'] must be an X account such as '@name'"),
        ('{"default_image": "images/missing.png", "default_image_alt": "x"}',
         "images/missing.png does not exist"),
        ('{"default_image": "images/logo.png"}',
         "DP_SOCIAL_META['default_image_alt'] must describe the default image"),
        ('{"default_image_alt": "Logo"}', "default_image_alt'] is set without a default_image"),
    ],
)
def test_a_wrong_setting_stops_the_build_at_start(
    tmp_path: Path, keys: dict[str, Path], value: str, message: str
) -> None:
    site = make_site(tmp_path / "site", keys, f"DP_SOCIAL_META = {value}\n")
    result = build(site)
    assert not result.ok
    assert message in result.errors[-1]
    assert not (result.output / "strom.html").exists()
