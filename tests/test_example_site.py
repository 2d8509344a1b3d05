"""The example site builds for real and reads well: every post, every language, every image.

The site is built once per module with ``dialogpress build`` (click's runner on the real
command) into a tmp folder; the HTML is read back as UTF-8 and parsed, so the tests look
at what a visitor's browser gets.
"""

from __future__ import annotations

import json
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from editorial.pieces import Post, load_site
from editorial.settings import Settings
from publish.cli import main
from publish.site.build import BuildResult

BuildExample = Callable[..., BuildResult]

GERMAN_MONTHS = [
    "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
    "Oktober", "November", "Dezember",
]
ENGLISH_MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]
ATOM = "{http://www.w3.org/2005/Atom}"
DASH = "\N{EN DASH}"


@dataclass
class Html:
    """What the tests look at in one page, as a browser would parse it."""

    lang: str | None = None
    description: str | None = None
    h1: list[str] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    times: list[tuple[str, str]] = field(default_factory=list)
    classes: dict[str, list[str]] = field(default_factory=dict)


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Html()
        self.stack: list[tuple[str, dict[str, str], list[str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "html":
            self.page.lang = values.get("lang")
        elif tag == "meta" and values.get("name") == "description":
            self.page.description = values.get("content")
        elif tag == "img":
            self.page.images.append(values)
        elif tag in ("a", "link"):
            self.page.links.append({**values, "_tag": tag})
        if tag not in ("meta", "img", "link", "br", "hr", "input"):
            self.stack.append((tag, values, []))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            name, values, text = self.stack.pop()
            content = " ".join("".join(text).split())
            if self.stack:
                self.stack[-1][2].append("".join(text))
            if name == "h1":
                self.page.h1.append(content)
            if name == "time":
                self.page.times.append((values.get("datetime", ""), content))
            for css_class in values.get("class", "").split():
                self.page.classes.setdefault(css_class, []).append(content)
            if name == tag:
                break

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.stack[-1][2].append(data)


def parse(path: Path) -> Html:
    parser = _Parser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser.page


def target(output: Path, page: Path, href: str) -> Path:
    """The file a relative link on ``page`` points to."""
    return (page.parent / href.split("#")[0]).resolve().relative_to(output.resolve())


def page_of(settings: Settings, post: Post) -> str:
    """Where Pelican writes a post: ARTICLE_SAVE_AS, or ARTICLE_LANG_SAVE_AS for other languages."""
    key = "ARTICLE_SAVE_AS" if post.lang == settings["DEFAULT_LANG"] else "ARTICLE_LANG_SAVE_AS"
    return str(settings[key]).format(slug=post.slug, lang=post.lang)


def listed_posts(settings: Settings, posts: list[Post]) -> list[Post]:
    """The posts the index lists: translations appear only on their original's page."""
    default = settings["DEFAULT_LANG"]
    originals = {p.slug for p in posts if p.lang == default}
    return [p for p in posts if p.lang == default or p.slug not in originals]


def date_label(post: Post) -> str:
    when = post.publish_at
    assert when is not None
    if post.lang == "de":
        return f"{when.day}. {GERMAN_MONTHS[when.month - 1]} {when.year}"
    return f"{ENGLISH_MONTHS[when.month - 1]} {when.day}, {when.year}"


@pytest.fixture(scope="module")
def output(repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("example") / "out"
    result = CliRunner().invoke(
        main, ["build", "-s", str(repo_root / "pelicanconf.py"), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert f"into {out}" in result.stdout
    return out


@pytest.fixture
def posts(example_settings: Settings) -> list[Post]:
    found = [p for p in load_site(example_settings).posts if p.status == "published"]
    assert len(found) >= 8
    return found


def test_every_post_is_rendered_with_its_title(
    output: Path, posts: list[Post], example_settings: Settings
) -> None:
    for post in posts:
        page = output / page_of(example_settings, post)
        assert page.is_file(), f"{post.id} was not rendered to {page}"
        assert parse(page).h1 == [post.title], post.id


def test_umlauts_sharp_s_and_typographic_quotes_stay_intact(
    output: Path, posts: list[Post], example_settings: Settings
) -> None:
    german = ""
    for post in posts:
        text = (output / page_of(example_settings, post)).read_text(encoding="utf-8")
        assert parse(output / page_of(example_settings, post)).description == post.summary
        assert "Ã" not in text and "\ufffd" not in text, f"{post.id} is mojibake"
        if post.lang == "de":
            german += text
    for sample in ("ä", "ö", "ü", "Ö", "ß", "„", "“", "Störungen"):
        assert sample in german, f"{sample!r} does not appear in the German posts"
    quote = (output / "kundennummer-nicht-oeffentlich-posten.html").read_text(encoding="utf-8")
    assert "„Meine Kundennummer ist 4711…, warum" in quote


def test_html_lang_is_the_language_of_the_post(
    output: Path, posts: list[Post], example_settings: Settings
) -> None:
    languages = set()
    for post in posts:
        assert parse(output / page_of(example_settings, post)).lang == post.lang, post.id
        languages.add(post.lang)
    assert languages == {"de", "en"}
    assert parse(output / "index.html").lang == example_settings["DEFAULT_LANG"]
    assert parse(output / "pages" / "ueber-uns-en.html").lang == "en"


def test_dates_are_written_in_the_language_of_the_post(
    output: Path, posts: list[Post], example_settings: Settings
) -> None:
    for post in posts:
        assert post.publish_at is not None
        times = parse(output / page_of(example_settings, post)).times
        assert (post.publish_at.isoformat(), date_label(post)) in times, post.id
    advent = parse(output / "service-im-advent.html").times
    assert ("2026-11-23T09:00:00+01:00", "23. November 2026") in advent


def test_translations_link_each_other(
    output: Path, posts: list[Post], example_settings: Settings
) -> None:
    by_slug: dict[str, list[Post]] = {}
    for post in posts:
        by_slug.setdefault(post.slug, []).append(post)
    pairs = [group for group in by_slug.values() if len(group) > 1]
    assert pairs, "the example has no translated post"
    for group in pairs:
        for post in group:
            page = output / page_of(example_settings, post)
            html = parse(page)
            for other in group:
                if other is post:
                    continue
                links = [
                    target(output, page, a["href"])
                    for a in html.links
                    if a["_tag"] == "a" and a.get("hreflang") == other.lang and "href" in a
                ]
                assert Path(page_of(example_settings, other)) in links, (post.id, other.id)


def test_the_index_is_paginated(
    output: Path, posts: list[Post], example_settings: Settings
) -> None:
    listed = listed_posts(example_settings, posts)
    per_page = example_settings["DEFAULT_PAGINATION"]
    pages = math.ceil(len(listed) / per_page)
    assert pages >= 2
    files = [output / "index.html"] + [output / f"index{n}.html" for n in range(2, pages + 1)]
    assert not (output / f"index{pages + 1}.html").exists()
    seen: list[Path] = []
    for number, file in enumerate(files, start=1):
        html = parse(file)
        assert html.classes["pagination-status"] == [f"Seite {number} von {pages}"]
        teasers = [
            target(output, file, a["href"]) for a in html.links if a.get("rel") == "bookmark"
        ]
        assert 1 <= len(teasers) <= per_page
        seen += teasers
    assert sorted(seen) == sorted(Path(page_of(example_settings, p)) for p in listed)


def test_every_image_has_alt_text_and_exists(output: Path) -> None:
    images = 0
    for page in output.rglob("*.html"):
        for img in parse(page).images:
            images += 1
            assert img.get("alt", "").strip(), f"an image in {page} has no alt text: {img}"
            assert (output / target(output, page, img["src"])).is_file(), img["src"]
    assert images >= 2
    lead = parse(output / "das-service-team-stellt-sich-vor.html").images
    assert lead[0]["alt"].startswith("Illustration: fünf Menschen mit Headsets")


def test_sponsored_posts_carry_a_visible_label(
    output: Path, posts: list[Post], example_settings: Settings
) -> None:
    sponsored = [p for p in posts if p.sponsored]
    assert sponsored
    for post in posts:
        labels = parse(output / page_of(example_settings, post)).classes.get("ad-label", [])
        expected = {"de": ["Anzeige"], "en": ["Advertisement"]}[post.lang] if post.sponsored else []
        assert labels == expected, post.id


def test_editors_e_mail_addresses_are_never_shown(output: Path) -> None:
    for page in output.rglob("*.html"):
        assert "@agentur-kranich.example" not in page.read_text(encoding="utf-8"), page
    names = parse(output / "authors.html").classes["term-list"][0]
    assert "Lena Berger" in names and "Jonas Meier" in names


def test_check_lists_every_piece_without_errors(repo_root: Path) -> None:
    result = CliRunner().invoke(
        main, ["check", "--format", "json", "-s", str(repo_root / "pelicanconf.py")]
    )
    assert result.exit_code == 0, result.output
    pieces: list[dict[str, Any]] = json.loads(result.stdout)
    content = repo_root / "content"
    expected = {
        p.relative_to(content).as_posix()
        for folder in ("posts", "pages", "social")
        for p in (content / folder).rglob("*.md")
    }
    assert {p["id"] for p in pieces} == expected
    errors = [f for p in pieces for f in p["findings"] if f["severity"] == "error"]
    assert errors == []
    snippets = [p for p in pieces if p["kind"] == "snippet"]
    assert len(snippets) >= 10


def test_unapproved_preview_shows_a_banner(
    build_example: BuildExample, monkeypatch: pytest.MonkeyPatch
) -> None:
    # with no trust root no approval counts: the real gate marks every article, by language
    monkeypatch.setenv("DP_TRUST_REF", "refs/heads/no-such-branch")
    result = build_example()
    assert result.ok, result.errors
    german = parse(result.output / "kundennummer-nicht-oeffentlich-posten.html")
    [banner] = german.classes["preview-banner"]
    assert banner.startswith(f"Vorschau {DASH} nicht freigegeben {DASH} Grund: ")
    english = parse(result.output / "kundennummer-nicht-oeffentlich-posten-en.html")
    assert english.classes["preview-banner"][0].startswith(f"Preview {DASH} not approved")


def test_approved_article_has_no_banner(build_example: BuildExample) -> None:
    result = build_example()
    assert result.ok, result.errors
    approved = parse(result.output / "service-im-advent.html")
    assert "preview-banner" not in approved.classes


def test_production_build_has_absolute_urls_and_feeds(repo_root: Path, tmp_path: Path) -> None:
    out = tmp_path / "public"
    result = CliRunner().invoke(
        main,
        ["build", "--production", "-s", str(repo_root / "pelicanconf.py"), "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    siteurl = "https://service.stadtwerke-elbtal.de"
    index = parse(out / "index.html")
    stylesheets = [link["href"] for link in index.links if link.get("rel") == "stylesheet"]
    assert stylesheets == [f"{siteurl}/theme/css/main.css"]
    feed = ET.parse(out / "feeds" / "all.atom.xml").getroot()  # noqa: S314 - our own build
    assert feed.tag == f"{ATOM}feed"
    for entry in feed.iter(f"{ATOM}entry"):
        link = entry.find(f"{ATOM}link")
        assert link is not None and link.get("href", "").startswith(f"{siteurl}/")
    feeds = [link for link in index.links if link.get("type") == "application/atom+xml"]
    assert f"{siteurl}/feeds/all.atom.xml" in {link["href"] for link in feeds}


def test_every_post_page_carries_its_title_for_social_cards(
    output: Path, posts: list[Post], example_settings: Settings
) -> None:
    """dp_social_meta: a post shared on X or Facebook shows its own title on the card."""

    class OpenGraph(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.titles: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            values = dict(attrs)
            if tag == "meta" and values.get("property") == "og:title":
                self.titles.append(values.get("content") or "")

    for post in posts:
        parser = OpenGraph()
        parser.feed((output / page_of(example_settings, post)).read_text(encoding="utf-8"))
        assert parser.titles == [post.title], post.id
