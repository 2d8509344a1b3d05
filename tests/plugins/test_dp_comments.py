"""dp_comments in real Pelican builds: comments from the data file, threaded, inert, masked.

Each test builds a small site in a real git repository (tests/gitsite.py) with the
project's theme, writes the data file as ``dialogpress`` would before a build, and reads
back what a visitor gets. The comments section is parsed as a browser parses it, so a
``<script>`` that survived as markup would show up as an element, not as text.
"""

from __future__ import annotations

import json
import logging
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, ClassVar

import pytest
from gitsite import LENA, PETRA, POST, GitSite, jpeg, make_keys

from publish.site.build import BuildResult, build_site

THEME = Path(__file__).resolve().parents[2] / "theme"
SITENAME = "Stadtwerke Elbtal"
MAX_URL = "https://x.com/max_muster/status/1860000000000000100"
OUR_URL = "https://x.com/sw_elbtal/status/1860000000000000101"
MAX_AGAIN_URL = "https://x.com/max_muster/status/1860000000000000102"
ERIKA_URL = "https://www.facebook.com/104857600000001/posts/104857600000001_2?comment_id=200"
MAX_TEXT = (
    "Wann kommt die Rechnung? <script>alert('x')</script>\n"
    "Schreibt an max.mustermann@example.de oder ruft an: 0171-1234567"
)
OUR_TEXT = "Im Dezember. Details: https://www.stadtwerke-elbtal.example/rechnung."


def comment(id_: str, text: str, url: str, at: str, parent: str | None = None,
            author: str = "Max Mustermann", channel: str = "twitter",
            ours: bool = False) -> dict[str, Any]:
    return {"id": id_, "parent": parent, "channel": channel, "author": author, "text": text,
            "created_at": at, "url": url, "ours": ours}


MAX = comment("twitter:100", MAX_TEXT, MAX_URL, "2026-11-24T10:05:00+00:00")
OURS = comment("twitter:101", OUR_TEXT, OUR_URL, "2026-11-24T10:30:00+00:00",
               parent="twitter:100", author="sw_elbtal", ours=True)
ERIKA = comment("facebook:200", "Danke! Mehr unter (0351) 12345, Bestellung 12345 vom 01.12.2026.",
                ERIKA_URL, "2026-11-24T11:00:00+00:00", author="Erika <b>Beispiel</b>",
                channel="facebook")
MAX_AGAIN = comment("twitter:102", "Super, danke", MAX_AGAIN_URL, "2026-11-24T11:15:00+00:00",
                    parent="twitter:101")
THREAD = [MAX, OURS, ERIKA, MAX_AGAIN]


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_keys(tmp_path_factory.mktemp("keys"))


def post(slug: str, title: str, extra: str = "") -> str:
    return (
        POST.replace("service-im-advent", slug)
        .replace("Service im Advent", title)
        .replace("category: Service", f"category: Service{extra}")
    )


def make_site(root: Path, keys: dict[str, Path], extra: str = "") -> GitSite:
    """A German post with its English translation (one slug), and a post without comments."""
    site = GitSite(
        root, keys, [PETRA],
        extra=(f'THEME = {str(THEME)!r}\nPLUGINS = PLUGINS + ["dp_comments"]\n'
               f"SITENAME = {SITENAME!r}\n" + extra),
    )
    site.write("images/team.jpg", jpeg(b"team"))
    site.write("posts/rechnung.md", post("rechnung", "Die Jahresrechnung"))
    site.write("posts/rechnung-en.md", post("rechnung", "The annual bill", "\nlang: en"))
    site.write("posts/ohne.md", post("ohne", "Ohne Kommentare"))
    site.commit(LENA, "Three posts")
    return site


def write_data(site: GitSite, data: dict[str, Any] | str,
               name: str = ".dialogpress/site-data.json") -> Path:
    path = site.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def build(site: GitSite) -> BuildResult:
    return build_site(site.root / "pelicanconf.py", output=site.root / "out")


class Comments(HTMLParser):
    """The comments section of a page as a tree: each comment's fields and its replies."""

    FIELDS: ClassVar[dict[str, str]] = {"comment-author": "author", "comment-network": "network",
                                         "comment-badge": "badge", "comment-text": "text",
                                         "visually-hidden": "hidden"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections = 0
        self.heading = ""
        self.comments: list[dict[str, Any]] = []
        self.labels: list[str] = []
        self.elements: list[str] = []
        self._depth = 0
        self._lists: list[list[dict[str, Any]]] = []
        self._open: list[tuple[str, str | None]] = []
        self._last: dict[str, Any] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        classes = values.get("class", "").split()
        if tag == "section" and "comments" in classes:
            self.sections += 1
            self._depth = 1
        elif self._depth and tag == "section":
            self._depth += 1
        if not self._depth:
            return
        self.elements.append(tag)
        field = self._open[-1][1] if self._open else None
        if tag == "br":
            self._add("\n")
            return
        if tag == "h2":
            field = "heading"
        elif tag == "ol":
            self._lists.append(self._last["replies"] if self._last else self.comments)
            self.labels.append(values.get("aria-label", ""))
        elif tag == "article":
            self._last = {"author": "", "network": "", "badge": "", "time": "", "text": "",
                          "datetime": "", "label": values.get("aria-label", ""),
                          "original": None, "links": [], "replies": [],
                          "ours": "is-ours" in classes}
            self._lists[-1].append(self._last)
        elif tag == "time" and self._last is not None:
            self._last["datetime"] = values.get("datetime", "")
            field = "time"
        elif tag == "a" and self._last is not None:
            link = {"href": values.get("href", ""), "rel": values.get("rel", "")}
            if field == "text":
                self._last["links"].append(link)
            else:
                self._last["original"] = link
        field = next((self.FIELDS[c] for c in classes if c in self.FIELDS), field)
        self._open.append((tag, field))

    def handle_endtag(self, tag: str) -> None:
        if not self._depth:
            return
        if tag == "section":
            self._depth -= 1
        if tag == "ol":
            self._lists.pop()
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._depth and self._open:
            self._add(data)

    def _add(self, data: str) -> None:
        field = self._open[-1][1] if self._open else None
        if field == "heading":
            self.heading += data
        elif field and field != "hidden" and self._last is not None:
            self._last[field] += data


def comments_of(page: Path) -> Comments:
    parser = Comments()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.close()
    return parser


def squash(text: str) -> str:
    return " ".join(text.split())


def shape(comments: list[dict[str, Any]]) -> list[Any]:
    """Who answers whom: [(author, [replies…]), …]."""
    return [(squash(c["author"]), shape(c["replies"])) for c in comments]


def everything(output: Path) -> str:
    files = [*output.rglob("*.html"), *output.rglob("*.xml")]
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(files))


def test_comments_and_our_replies_are_threaded_under_the_post(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys)
    write_data(site, {"comments": {"rechnung": THREAD}})
    result = build(site)
    assert result.ok, result.errors
    page = comments_of(result.output / "rechnung.html")
    assert page.sections == 1
    assert squash(page.heading) == "Aus den sozialen Netzwerken (4 Kommentare)"
    assert shape(page.comments) == [
        ("Max Mustermann", [(SITENAME, [("Max Mustermann", [])])]),
        ("Erika <b>Beispiel</b>", []),
    ]
    first, ours = page.comments[0], page.comments[0]["replies"][0]
    assert squash(first["network"]) == "auf X"
    assert squash(first["time"]) == "24. November 2026, 11:05 Uhr"
    assert first["datetime"] == "2026-11-24T11:05:00+01:00"
    assert first["original"] == {"href": MAX_URL, "rel": "nofollow ugc"}
    assert first["label"] == "Kommentar von Max Mustermann"
    assert not first["ours"] and ours["ours"]
    assert squash(ours["badge"]) == "Unsere Antwort"
    assert ours["label"] == f"Antwort von {SITENAME}"
    assert squash(page.comments[1]["network"]) == "auf Facebook"
    assert page.comments[1]["original"] == {"href": ERIKA_URL, "rel": "nofollow ugc"}
    assert page.labels == ["", "Antworten auf Max Mustermann", f"Antworten auf {SITENAME}"]


def test_a_script_is_inert_and_e_mail_and_phone_are_masked_everywhere(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys)
    kalle = comment("twitter:300", "Ich auch: +49 351 1234567, kalle (at) example (dot) org",
                    "https://x.com/kalle/status/1860000000000000300",
                    "2026-11-24T12:00:00+00:00", author="Kalle kalle@example.org")
    write_data(site, {"comments": {"rechnung": [*THREAD, kalle]}})
    result = build(site)
    assert result.ok, result.errors
    html = (result.output / "rechnung.html").read_text(encoding="utf-8")
    page = comments_of(result.output / "rechnung.html")
    assert "script" not in page.elements and "b" not in page.elements
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert page.comments[0]["text"] == (
        "Wann kommt die Rechnung? <script>alert('x')</script>\n"
        "Schreibt an [E-Mail entfernt] oder ruft an: [Telefonnummer entfernt]"
    )
    assert page.comments[1]["text"] == (
        "Danke! Mehr unter [Telefonnummer entfernt], Bestellung 12345 vom 01.12.2026."
    )
    assert page.comments[2]["author"] == "Kalle [E-Mail entfernt]"
    assert page.comments[2]["text"] == (
        "Ich auch: [Telefonnummer entfernt], [E-Mail entfernt]"
    )
    site_text = everything(result.output)
    for secret in ("max.mustermann@example.de", "0171-1234567", "1234567",
                   "(0351) 12345", "kalle@example.org", "example (dot) org"):
        assert secret not in site_text


def test_links_in_comments_are_nofollow_ugc_and_only_http(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys)
    tricky = comment("twitter:400", 'Seht javascript:alert(1) und https://example.org/"onmouseover=x',
                     "https://x.com/t/status/1860000000000000400", "2026-11-24T12:00:00+00:00")
    write_data(site, {"comments": {"rechnung": [*THREAD, tricky]}})
    result = build(site)
    assert result.ok, result.errors
    page = comments_of(result.output / "rechnung.html")
    ours = page.comments[0]["replies"][0]
    assert ours["links"] == [
        {"href": "https://www.stadtwerke-elbtal.example/rechnung", "rel": "nofollow ugc"}
    ]
    assert ours["text"] == OUR_TEXT
    assert page.comments[2]["links"] == [{"href": "https://example.org/", "rel": "nofollow ugc"}]
    assert page.comments[2]["text"] == 'Seht javascript:alert(1) und https://example.org/"onmouseover=x'
    html = (result.output / "rechnung.html").read_text(encoding="utf-8")
    assert 'href="javascript' not in html and '"onmouseover' not in html


def test_the_english_version_shows_the_same_comments_in_english(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys)
    write_data(site, {"comments": {"rechnung": THREAD}})
    result = build(site)
    assert result.ok, result.errors
    page = comments_of(result.output / "rechnung-en.html")
    assert squash(page.heading) == "From social media (4 comments)"
    assert shape(page.comments) == shape(comments_of(result.output / "rechnung.html").comments)
    first, ours = page.comments[0], page.comments[0]["replies"][0]
    assert squash(first["network"]) == "on X"
    assert squash(first["time"]) == "November 24, 2026, 11:05"
    assert first["label"] == "Comment by Max Mustermann"
    assert squash(ours["badge"]) == "Our reply"
    assert first["text"].endswith(
        "Schreibt an [e-mail removed] oder ruft an: [phone number removed]"
    )
    assert page.labels == ["", "Replies to Max Mustermann", f"Replies to {SITENAME}"]


def test_a_post_without_comments_has_no_comments_section(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys)
    write_data(site, {"comments": {"rechnung": [MAX]}})
    result = build(site)
    assert result.ok, result.errors
    assert squash(comments_of(result.output / "rechnung.html").heading) == (
        "Aus den sozialen Netzwerken (1 Kommentar)"
    )
    assert comments_of(result.output / "ohne.html").sections == 0
    assert "comments" not in (result.output / "ohne.html").read_text(encoding="utf-8")


def test_without_a_data_file_no_post_has_comments_and_nothing_is_wrong(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys)
    result = build(site)
    assert result.ok, result.errors
    for page in ("rechnung.html", "rechnung-en.html", "ohne.html"):
        assert comments_of(result.output / page).sections == 0


def test_bad_entries_are_named_and_left_out_while_the_others_are_shown(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys)
    path = write_data(site, {"comments": {
        "rechnung": [
            MAX,
            {**ERIKA, "url": "javascript:alert(1)"},
            {**MAX_AGAIN, "id": "twitter:103", "created_at": "2026-11-24 11:15"},
            "not a comment",
            {**MAX, "text": "the same id again"},
            {**ERIKA, "id": "facebook:201", "channel": "mastodon"},
        ],
        "ohne": {"id": "twitter:1"},
    }})
    result = build(site)
    where = f"dp_comments: {path}: comments"
    assert result.errors == [
        f"{where}['rechnung'][1].url must be an http(s) URL, not 'javascript:alert(1)'",
        f"{where}['rechnung'][2].created_at must be an ISO 8601 time with an offset, "
        "such as 2026-11-24T10:05:00+00:00, not '2026-11-24 11:15'",
        f"{where}['rechnung'][3] must be an object with id, channel, author, text, "
        "created_at and url",
        f"{where}['rechnung'][4].id 'twitter:100' appears twice",
        f"{where}['rechnung'][5].channel must be one of twitter, facebook, not 'mastodon'",
        f"{where}['ohne'] must be a list",
    ]
    page = comments_of(result.output / "rechnung.html")
    assert shape(page.comments) == [("Max Mustermann", [])]
    assert "javascript:" not in (result.output / "rechnung.html").read_text(encoding="utf-8")
    assert comments_of(result.output / "ohne.html").sections == 0


def test_a_malformed_data_file_is_an_error_and_the_site_is_built_without_comments(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys)
    path = write_data(site, '{"comments": {"rechnung": [\n  {"id": "twitter:1",}\n]}}')
    result = build(site)
    assert not result.ok
    assert any(e.startswith(f"dp_comments: {path}:2:22: not valid JSON") for e in result.errors), (
        result.errors
    )
    assert comments_of(result.output / "rechnung.html").sections == 0


def test_a_reply_to_a_comment_that_is_not_shown_is_left_out(
    tmp_path: Path, keys: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """Our reply to a comment hidden after we answered would answer nothing on the page."""
    site = make_site(tmp_path / "site", keys)
    write_data(site, {"comments": {"rechnung": [OURS, ERIKA, MAX_AGAIN]}})
    with caplog.at_level(logging.INFO):
        result = build(site)
    assert result.ok, result.errors
    assert shape(comments_of(result.output / "rechnung.html").comments) == [
        ("Erika <b>Beispiel</b>", [])
    ]
    assert "Im Dezember" not in (result.output / "rechnung.html").read_text(encoding="utf-8")
    assert (
        "dp_comments: rechnung: left out 2 replies to comments that are not shown"
        in caplog.messages
    )


def test_a_long_back_and_forth_stops_nesting_and_goes_on_in_order(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    site = make_site(tmp_path / "site", keys)
    chain = [comment(f"twitter:{n}", f"Antwort {n}", f"https://x.com/a/status/{n}",
                     f"2026-11-24T10:{n:02d}:00+00:00", parent=f"twitter:{n - 1}" if n else None,
                     author=f"Person {n}")
             for n in range(8)]
    write_data(site, {"comments": {"rechnung": chain}})
    result = build(site)
    assert result.ok, result.errors
    page = comments_of(result.output / "rechnung.html")
    assert squash(page.heading) == "Aus den sozialen Netzwerken (8 Kommentare)"
    assert shape(page.comments) == [("Person 0", [("Person 1", [("Person 2", [("Person 3", [
        ("Person 4", []), ("Person 5", []), ("Person 6", []), ("Person 7", []),
    ])])])])]


def test_after_forget_the_rebuilt_site_and_the_cache_hold_no_trace_of_the_person(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    """Pelican's content cache is on: comments must not be pickled into it."""
    cache = tmp_path / "site" / "cache"
    site = make_site(tmp_path / "site", keys, (
        f'CACHE_CONTENT = True\nLOAD_CONTENT_CACHE = True\nCONTENT_CACHING_LAYER = "generator"\n'
        f"GZIP_CACHE = False\nCACHE_PATH = {str(cache)!r}\n"
    ))
    write_data(site, {"comments": {"rechnung": THREAD}})
    result = build(site)
    assert result.ok, result.errors
    assert "Max Mustermann" in everything(result.output)
    assert any(cache.rglob("*"))
    # dialogpress forget erased Max's comments; our reply to him is still in the store
    write_data(site, {"comments": {"rechnung": [OURS, ERIKA]}})
    result = build(site)
    assert result.ok, result.errors
    text = everything(result.output)
    for trace in ("Max Mustermann", "max_muster", "Wann kommt die Rechnung", "Super, danke"):
        assert trace not in text
        assert not any(trace.encode() in p.read_bytes() for p in cache.rglob("*") if p.is_file())
    assert shape(comments_of(result.output / "rechnung.html").comments) == [
        ("Erika <b>Beispiel</b>", [])
    ]


def test_our_name_and_turning_comments_off_are_settings(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    named = make_site(tmp_path / "named", keys,
                      'DP_COMMENTS = {"our_name": "Ihr Service-Team"}\n')
    write_data(named, {"comments": {"rechnung": THREAD}})
    result = build(named)
    assert result.ok, result.errors
    assert shape(comments_of(result.output / "rechnung.html").comments)[0] == (
        "Max Mustermann", [("Ihr Service-Team", [("Max Mustermann", [])])]
    )
    off = make_site(tmp_path / "off", keys, 'DP_COMMENTS = {"enabled": False}\n')
    write_data(off, {"comments": {"rechnung": THREAD}})
    result = build(off)
    assert result.ok, result.errors
    assert comments_of(result.output / "rechnung.html").sections == 0


def test_the_data_file_can_be_named_in_the_setting(tmp_path: Path, keys: dict[str, Path]) -> None:
    site = make_site(tmp_path / "site", keys, 'DP_COMMENTS = {"data_file": "shared/data.json"}\n')
    write_data(site, {"comments": {"rechnung": [ERIKA]}}, name="shared/data.json")
    write_data(site, "this default file is not read by dp_comments")
    result = build(site)
    assert result.ok, result.errors
    assert shape(comments_of(result.output / "rechnung.html").comments) == [
        ("Erika <b>Beispiel</b>", [])
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("True", "DP_COMMENTS must be a dict with the keys ['data_file', 'enabled', 'our_name']"),
        ('{"name": "x"}', "DP_COMMENTS must be a dict with the keys"),
        ('{"enabled": "yes"}', "DP_COMMENTS['enabled'] must be True or False, not 'yes'"),
        ('{"our_name": " "}', "DP_COMMENTS['our_name'] must be None or the name above our"),
        ('{"data_file": 3}', "DP_COMMENTS['data_file'] must be None or a path"),
    ],
)
def test_a_wrong_setting_stops_the_build_at_start(
    tmp_path: Path, keys: dict[str, Path], value: str, message: str
) -> None:
    site = make_site(tmp_path / "site", keys, f"DP_COMMENTS = {value}\n")
    result = build(site)
    assert not result.ok
    assert message in result.errors[-1]
    assert not (result.output / "rechnung.html").exists()


def test_incremental_builds_render_a_post_again_only_when_its_comments_change(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    # dp_incremental digests the comments like any attribute of the post: a rebuild with
    # the same comments writes nothing, a changed comment renders exactly its post again
    site = make_site(tmp_path / "site", keys, 'PLUGINS = PLUGINS + ["dp_incremental"]\n')
    write_data(site, {"comments": {"rechnung": [MAX, OURS]}})
    settings = {"CACHE_PATH": str(tmp_path / "cache")}
    output = site.root / "out"
    assert build_site(site.root / "pelicanconf.py", output=output, override=settings).ok
    written = {p.name: p.stat().st_mtime_ns for p in output.glob("*.html")}
    (output / "stray.html").write_text("<p>a file the last build did not write</p>", "utf-8")
    assert build_site(site.root / "pelicanconf.py", output=output, override=settings).ok
    assert {p.name: p.stat().st_mtime_ns for p in output.glob("*.html")
            if p.name != "stray.html"} == written
    write_data(site, {"comments": {"rechnung": [MAX, OURS, ERIKA]}})
    assert build_site(site.root / "pelicanconf.py", output=output, override=settings).ok
    again = {p.name: p.stat().st_mtime_ns for p in output.glob("*.html") if p.name != "stray.html"}
    # the post and its translation, which shows the same comments
    assert {name for name in written if again[name] != written[name]} == {
        "rechnung.html", "rechnung-en.html"
    }
    assert len(comments_of(output / "rechnung.html").comments) == 2
