"""Issue 23: an existing Pelican site's files are pieces, found and read as Pelican does.

Real files in a temporary site read by ``load_site`` with settings read by Pelican; the
HTML compared with what Pelican's own readers make of the same files.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from editorial.pieces import Page, Post, load_site, piece_files
from editorial.settings import load_settings
from editorial.times import TimeError, parse_time

BERLIN = ZoneInfo("Europe/Berlin")

# pelican-quickstart's settings: no ARTICLE_PATHS, so every file under PATH is an article
CONF = """\
PATH = "content"
TIMEZONE = "Europe/Berlin"
DEFAULT_LANG = "en"
ARTICLE_EXCLUDES = ["drafts-old"]
GUIDELINE = None
"""

MD_META = """\
Title: Hello World
Date: 2019-03-04 9:00
Category: News
Tags: one, two
Summary: A *short* summary.

First paragraph with [a link](https://example.org/).
"""

RST = """\
Second Post
###########

:date: 2019-3-4 10:05
:tags: rst
:slug: second-post

Some *reST* text.
"""

HTML = """\
<html><head><title>Third Post</title>
<meta name="date" content="2025-10" />
<meta name="tags" content="html" />
</head><body><p>Hand-written HTML.</p></body></html>
"""

PAGE = "Title: About\n\nAbout us.\n"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "pelicanconf.py").write_text(CONF, encoding="utf-8")
    files = {
        "hello.md": MD_META,
        "second.rst": RST,
        "third.html": HTML,
        "fourth.markdown": MD_META.replace("Hello World", "Fourth"),
        "pages/about.md": PAGE,
        "drafts-old/old.md": MD_META,
        "images/logo.png": "",
        "notes.txt": "not content",
    }
    for name, text in files.items():
        path = tmp_path / "content" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


def test_pieces_are_found_where_pelican_finds_content(site: Path) -> None:
    settings = load_settings(site / "pelicanconf.py")
    found = {p.relative_to(site / "content").as_posix(): kind
             for p, kind in piece_files(site / "content", settings)}
    assert found == {
        "hello.md": "post", "second.rst": "post", "third.html": "post",
        "fourth.markdown": "post", "pages/about.md": "page",
    }


def test_every_pelican_format_is_read_without_an_error(site: Path) -> None:
    loaded = load_site(load_settings(site / "pelicanconf.py"))
    assert [f for f in loaded.findings if f.severity == "error"] == []
    hello = loaded.get("hello.md")
    assert isinstance(hello, Post) and hello.source is not None
    assert hello.source.format == "markdown-meta"
    assert (hello.title, hello.category, hello.tags) == ("Hello World", "News", ["one", "two"])
    assert hello.publish_at == datetime(2019, 3, 4, 9, 0, tzinfo=BERLIN)
    assert hello.slug == "hello-world"
    second = loaded.get("second.rst")
    assert isinstance(second, Post) and second.title == "Second Post"
    assert second.publish_at == datetime(2019, 3, 4, 10, 5, tzinfo=BERLIN)
    assert second.slug == "second-post"
    third = loaded.get("third.html")
    assert isinstance(third, Post) and third.title == "Third Post"
    assert third.publish_at == datetime(2025, 10, 1, tzinfo=BERLIN)
    about = loaded.get("pages/about.md")
    assert isinstance(about, Page) and about.title == "About"


def test_the_html_inspected_is_what_pelicans_reader_renders(site: Path) -> None:
    from pelican.readers import MarkdownReader, RstReader

    settings = load_settings(site / "pelicanconf.py")
    loaded = load_site(settings)
    for name, reader in (("hello.md", MarkdownReader), ("second.rst", RstReader)):
        piece = loaded.get(name)
        assert piece is not None and piece.source is not None
        html, _ = reader(dict(settings)).read(str(site / "content" / name))
        assert piece.source.html == html
    links = [r.url for r in loaded.get("hello.md").public_html.references]  # type: ignore[union-attr]
    assert "https://example.org/" in links


def test_findings_point_at_the_key_value_line(site: Path) -> None:
    (site / "content/hello.md").write_text(
        MD_META.replace("Date: 2019-03-04 9:00", "Date: 2019-02-30"), encoding="utf-8"
    )
    loaded = load_site(load_settings(site / "pelicanconf.py"))
    piece = loaded.get("hello.md")
    assert piece is not None
    errors = [(f.rule, f.line, f.column, f.field) for f in piece.findings if f.severity == "error"]
    assert errors == [("schema.date", 2, 7, "date")]


def test_a_date_in_the_file_name_is_the_date_as_pelican_takes_it(site: Path) -> None:
    (site / "content/2018-05-06-named.md").write_text("Title: Named\n\nText.\n", encoding="utf-8")
    loaded = load_site(load_settings(site / "pelicanconf.py"))
    piece = loaded.get("2018-05-06-named.md")
    assert piece is not None and not piece.findings
    assert piece.publish_at == datetime(2018, 5, 6, tzinfo=BERLIN)


def test_an_approvals_key_in_the_file_counts_for_nothing(site: Path) -> None:
    (site / "content/hello.md").write_text("Approvals: yes\n" + MD_META, encoding="utf-8")
    piece = load_site(load_settings(site / "pelicanconf.py")).get("hello.md")
    assert piece is not None
    assert "approvals" not in piece.metadata
    assert [f.rule for f in piece.findings] == ["schema.decision-in-file"]


def test_a_bad_sidecar_is_an_error_naming_it(site: Path) -> None:
    (site / "content/second.rst.approvals.yml").write_text(
        "---\ntitle: sneaky\napprovals: []\n---\n", encoding="utf-8"
    )
    piece = load_site(load_settings(site / "pelicanconf.py")).get("second.rst")
    assert piece is not None
    assert [(f.rule, f.path, f.line) for f in piece.findings] == [
        ("schema.sidecar", "content/second.rst.approvals.yml", 2)
    ]
    assert "title" not in piece.metadata or piece.metadata["title"] == "Second Post"


def test_broken_rst_is_an_error_not_a_traceback(site: Path) -> None:
    (site / "content/second.rst").write_text("Title\n###\n\n.. unknown-directive::\n",
                                             encoding="utf-8")
    piece = load_site(load_settings(site / "pelicanconf.py")).get("second.rst")
    assert piece is not None and piece.source is None
    assert [f.rule for f in piece.findings] == ["source.rst"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-03-04 9:00", datetime(2019, 3, 4, 9, 0)),
        ("2019-3-4", datetime(2019, 3, 4)),
        ("2019-3-4 09:30", datetime(2019, 3, 4, 9, 30)),
        ("2025-10", datetime(2025, 10, 1)),
        ("2019/03/04 12:00", datetime(2019, 3, 4, 12, 0)),
        ("4 March 2019", datetime(2019, 3, 4)),
    ],
)
def test_dates_pelican_accepts(text: str, expected: datetime) -> None:
    assert parse_time(text, "Europe/Berlin") == expected.replace(tzinfo=BERLIN)


@pytest.mark.parametrize("text", ["2019-02-30", "2019-13-01", "someday", "2019-03-04 25:00"])
def test_dates_nobody_accepts(text: str) -> None:
    with pytest.raises(TimeError):
        parse_time(text, "Europe/Berlin")


def test_yaml_bodies_render_with_the_extensions_pelican_loads_but_no_meta(site: Path) -> None:
    """check (fresh settings) and the build (settings Pelican's reader touched) render a
    YAML piece alike: every extension of ``extension_configs``, and a first body line
    such as ``Achtung: …`` stays text (the metadata is the front matter)."""
    from pelican.readers import MarkdownReader

    from editorial.markdown_html import Renderer

    fresh = load_settings(site / "pelicanconf.py")
    touched = load_settings(site / "pelicanconf.py")
    MarkdownReader(touched)  # adds its extensions and meta to MARKDOWN, as in a build
    text = "Achtung: Störung\n\n```python\nprint(1)\n```\n\n*[HTML]: Hyper Text\n\nHTML\n"
    html = Renderer(fresh).convert(text)
    assert html == Renderer(touched).convert(text)
    assert "Achtung: Störung" in html
    assert '<div class="highlight">' in html and "<abbr" in html  # codehilite, extra
