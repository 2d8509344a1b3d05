"""dp_syndication_links in real Pelican builds: links from the data file, retractions.

Each test builds a small site in a real git repository (tests/gitsite.py) with the
project's theme, writes the data file as ``dialogpress`` would before a build, and reads
back what a visitor gets: the article pages, the index, the tag pages and the feed.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from gitsite import LENA, PETRA, POST, GitSite, jpeg, make_keys

from publish.site.build import BuildResult, build_site

THEME = Path(__file__).resolve().parents[2] / "theme"
X_URL = "https://x.com/sw_elbtal/status/1860000000000000001"
FB_URL = "https://www.facebook.com/104857600000001/posts/104857600000001_2"


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


def post(slug: str, title: str, extra: str = "") -> str:
    return (
        POST.replace("service-im-advent", slug)
        .replace("Service im Advent", title)
        .replace("category: Service", f"category: Service\ntags: [Advent]{extra}")
    )


def make_site(root: Path, keys: dict[str, Path], extra: str = "") -> GitSite:
    """Three posts: a German one that was shared, an English one, and one to retract."""
    site = GitSite(
        root, keys, [PETRA],
        extra=f'THEME = {str(THEME)!r}\nPLUGINS = PLUGINS + ["dp_syndication_links"]\n' + extra,
    )
    site.write("images/team.jpg", jpeg(b"team"))
    site.write("posts/geteilt.md", post("geteilt", "Geteilter Beitrag"))
    site.write("posts/shared-en.md", post("shared", "Shared post", "\nlang: en"))
    site.write("posts/zurueckgezogen.md", post("zurueckgezogen", "Zurückgezogen"))
    site.commit(LENA, "Three posts")
    return site


def write_data(site: GitSite, data: dict[str, Any] | str,
               name: str = ".dialogpress/site-data.json") -> Path:
    path = site.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def build(site: GitSite, production: bool = False) -> BuildResult:
    return build_site(site.root / "pelicanconf.py", production=production,
                      output=site.root / "out")


class Shared(HTMLParser):
    """The syndication section of a page: its heading and its links."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections = 0
        self.depth = 0
        self.heading = ""
        self.links: list[dict[str, str]] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "section" and "syndication" in values.get("class", "").split():
            self.sections += 1
            self.depth = 1
        elif self.depth and tag == "section":
            self.depth += 1
        if self.depth and tag in ("h2", "a"):
            self._in = tag
            if tag == "a":
                self.links.append({"href": values.get("href", ""), "rel": values.get("rel", ""),
                                   "text": ""})

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag == "section":
            self.depth -= 1
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "h2":
            self.heading += data.strip()
        elif self._in == "a":
            self.links[-1]["text"] += data.strip()


def shared(page: Path) -> Shared:
    parser = Shared()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    return parser


def everything(output: Path) -> str:
    files = [*output.rglob("*.html"), *output.rglob("*.xml")]
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(files))


def test_a_shared_post_links_to_its_posts_on_the_networks(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys)
    write_data(site, {
        "syndication": {
            "geteilt": [
                {"channel": "facebook", "url": FB_URL, "piece": "social/a.md"},
                {"channel": "twitter", "url": X_URL, "piece": "social/a.md"},
            ],
            "shared": [{"channel": "twitter", "url": X_URL + "9", "piece": "social/b.md"}],
        },
        "retracted": [],
    })
    result = build(site)
    assert result.ok, result.errors
    german = shared(result.output / "geteilt.html")
    assert german.sections == 1
    assert german.heading == "Geteilt auf"
    assert german.links == [
        {"href": FB_URL, "rel": "noopener", "text": "Facebook"},
        {"href": X_URL, "rel": "noopener", "text": "X"},
    ]
    english = shared(result.output / "shared-en.html")
    assert english.heading == "Shared on"
    assert [link["text"] for link in english.links] == ["X"]
    assert shared(result.output / "zurueckgezogen.html").sections == 0


def test_without_a_data_file_nothing_is_shown_and_nothing_is_wrong(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys)
    result = build(site)
    assert result.ok, result.errors
    for slug in ("geteilt", "shared-en", "zurueckgezogen"):
        assert shared(result.output / f"{slug}.html").sections == 0


def test_a_malformed_data_file_is_an_error_naming_it_and_the_site_is_still_written(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys)
    path = write_data(site, '{"syndication": {"geteilt": [\n  {"channel": "twitter",}\n]}}')
    result = build(site)
    assert not result.ok
    assert any(str(path) in e and ":2:25: not valid JSON" in e for e in result.errors), (
        result.errors
    )
    assert shared(result.output / "geteilt.html").sections == 0
    assert (result.output / "zurueckgezogen.html").is_file()


def test_a_bad_entry_is_named_and_left_out_while_the_others_are_shown(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys)
    path = write_data(site, {"syndication": {"geteilt": [
        {"channel": "twitter", "url": "javascript:alert(1)", "piece": "social/a.md"},
        {"channel": "facebook", "url": FB_URL, "piece": "social/a.md"},
    ]}})
    result = build(site)
    assert result.errors == [
        f"dp_syndication_links: {path}: syndication['geteilt'][0].url must be an http(s) URL, "
        "not 'javascript:alert(1)'"
    ]
    assert [link["href"] for link in shared(result.output / "geteilt.html").links] == [FB_URL]
    assert "javascript:" not in (result.output / "geteilt.html").read_text(encoding="utf-8")


def test_a_retracted_post_leaves_the_site_and_links_of_retracted_snippets_go(
    tmp_path: Path, keys: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    site = make_site(tmp_path / "site", keys)
    write_data(site, {
        "syndication": {
            "geteilt": [
                {"channel": "twitter", "url": X_URL, "piece": "social/retracted.md"},
                {"channel": "facebook", "url": FB_URL, "piece": "social/kept.md"},
            ],
            "zurueckgezogen": [{"channel": "twitter", "url": X_URL + "7", "piece": "social/z.md"}],
        },
        "retracted": ["posts/zurueckgezogen.md", "social/retracted.md"],
    })
    with caplog.at_level(logging.WARNING):
        result = build(site)
    assert result.ok, result.errors
    assert not (result.output / "zurueckgezogen.html").exists()
    text = everything(result.output)
    assert "Zurückgezogen" not in text and "zurueckgezogen" not in text
    assert "Geteilter Beitrag" in (result.output / "feeds" / "all.atom.xml").read_text("utf-8")
    assert "Geteilter Beitrag" in (result.output / "tag" / "advent.html").read_text("utf-8")
    assert [link["href"] for link in shared(result.output / "geteilt.html").links] == [FB_URL]
    assert "dp_syndication_links: left out posts/zurueckgezogen.md: it was retracted" in (
        caplog.messages
    )


def test_a_retracted_approved_post_is_left_out_of_a_production_build(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    """Together with dp_approval_gate: approved is not enough once the post was retracted."""
    site = make_site(tmp_path / "site", keys, 'DP_NOW = "2026-12-01 12:00"\n')
    for piece in ("posts/geteilt.md", "posts/zurueckgezogen.md"):
        site.approve(piece, PETRA)
    site.commit(PETRA, "Approvals")
    write_data(site, {"syndication": {}, "retracted": ["posts/zurueckgezogen.md"]})
    result = build(site, production=True)
    assert result.ok, result.errors
    assert (result.output / "geteilt.html").is_file()
    assert not (result.output / "zurueckgezogen.html").exists()
    assert "Zurückgezogen" not in everything(result.output)


def test_a_retracted_original_leaves_its_translation_in_its_place(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys)
    site.write("posts/zurueckgezogen-en.md",
               post("zurueckgezogen", "Withdrawn in German only", "\nlang: en"))
    site.commit(LENA, "English version")
    write_data(site, {"retracted": ["posts/zurueckgezogen.md"]})
    result = build(site)
    assert result.ok, result.errors
    assert (result.output / "zurueckgezogen-en.html").is_file()
    index = (result.output / "index.html").read_text(encoding="utf-8")
    assert "Withdrawn in German only" in index
    assert "Zurückgezogen" not in index


def test_the_data_file_can_be_named_in_the_setting(tmp_path: Path, keys: dict[str, Path]) -> None:
    site = make_site(
        tmp_path / "site", keys, 'DP_SYNDICATION_LINKS = {"data_file": "shared/data.json"}\n'
    )
    write_data(site, {"syndication": {"geteilt": [{"channel": "twitter", "url": X_URL}]}},
               name="shared/data.json")
    write_data(site, "this default file is not read")
    result = build(site)
    assert result.ok, result.errors
    assert [link["href"] for link in shared(result.output / "geteilt.html").links] == [X_URL]


def test_a_plain_pelican_run_finds_the_data_file_beside_content(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    """``pelican`` passes no settings file path: the site root is the folder above PATH."""
    site = make_site(tmp_path / "site", keys, 'DP_APPROVAL_GATE = {"mode": "preview"}\n')
    write_data(site, {"syndication": {"geteilt": [{"channel": "facebook", "url": FB_URL}]},
                      "retracted": ["posts/zurueckgezogen.md"]})
    run = subprocess.run(
        [sys.executable, "-m", "pelican", "-s", "pelicanconf.py", "-o", "plain"],
        cwd=site.root, capture_output=True, text=True, check=False,
    )
    assert run.returncode == 0, run.stderr
    assert [link["text"] for link in shared(site.root / "plain" / "geteilt.html").links] == [
        "Facebook"
    ]
    assert not (site.root / "plain" / "zurueckgezogen.html").exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('["data.json"]', "DP_SYNDICATION_LINKS must be a dict with the keys ['data_file']"),
        ('{"datafile": "x.json"}', "DP_SYNDICATION_LINKS must be a dict with the keys"),
        ('{"data_file": ""}', "DP_SYNDICATION_LINKS['data_file'] must be None or a path"),
    ],
)
def test_a_wrong_setting_stops_the_build_at_start(
    tmp_path: Path, keys: dict[str, Path], value: str, message: str
) -> None:
    site = make_site(tmp_path / "site", keys, f"DP_SYNDICATION_LINKS = {value}\n")
    result = build(site)
    assert not result.ok
    assert message in result.errors[-1]
    assert not (result.output / "geteilt.html").exists()
