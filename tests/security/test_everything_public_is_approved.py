"""Attack class 3 of issue 16: not everything public was a piece.

Pages (``content/pages/*.md`` and ``.html``) and static files (an ``.html`` or ``.svg``
in ``images/``, or a symlink there pointing at a secret file) went out with a production
build without any approval. Now a page is a piece that needs approvals like a post, a
static file is public only when an approved, published piece references it, and
symbolic links in content/, the theme and the plugins are refused.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from conftest import NOW, production, run
from gitsite import LENA, PETRA, GitSite, jpeg, standard_site

PAGE_ID = "pages/impressum.md"
PAGE = """\
---
title: Impressum
slug: impressum
---
Stadtwerke Elbtal GmbH, Am Elbufer 12, 01999 Elbtal.
"""
SECRET = "DP_PORTAL_KEY=-----BEGIN OPENSSH PRIVATE KEY-----"


def file(site: GitSite, piece_id: str) -> str:
    return str(site.root / "content" / piece_id)


def approve_advent_post(site: GitSite) -> None:
    site.approve("posts/service-im-advent.md", PETRA)
    site.commit(PETRA, "Approve the advent post")


def everything(public_output: os.PathLike[str]) -> str:
    root = os.fspath(public_output)
    texts = []
    for folder, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as handle:
                texts.append(handle.read().decode("utf-8", "replace"))
    return "\n".join(texts)


def test_an_unapproved_page_is_left_out_and_an_approved_one_published(
    site: GitSite, caplog: pytest.LogCaptureFixture
) -> None:
    site.write(PAGE_ID, PAGE)
    site.commit(LENA, "Add the Impressum")
    check = run(site, "check", "--require-approval", file(site, PAGE_ID))
    assert check.exit_code == 1
    assert "content/pages/impressum.md" in check.output and "approval.missing" in check.output
    approve_advent_post(site)  # a build that would publish nothing fails (issue 23)
    with caplog.at_level(logging.WARNING):
        public = production(site)
    assert public.ok, public.result.output
    assert not public.has("pages/impressum.html")
    assert any(f"left out the page {PAGE_ID}: not approved (missing)" in m
               for m in caplog.messages)

    approve = run(site, "approve", PAGE_ID, "--key", str(site.keys[PETRA.email]), "--yes")
    assert approve.exit_code == 0, approve.output
    assert f"Approved {PAGE_ID}" in approve.output
    site.commit(PETRA, "Approve the Impressum")
    assert run(site, "check", "--require-approval", file(site, PAGE_ID)).exit_code == 0
    approvals = run(site, "approvals", PAGE_ID)
    assert f"approved  {PAGE_ID}" in approvals.output, approvals.output
    public = production(site, "public-2")
    assert public.ok, public.result.output
    assert "Am Elbufer 12" in public.text("pages/impressum.html")

    # changed after the approval: gone again
    site.edit(PAGE_ID, "Am Elbufer 12", "Am Elbufer 13")
    site.commit(LENA, "New address")
    public = production(site, "public-3")
    assert not public.has("pages/impressum.html")


def test_review_shows_a_changed_page(site: GitSite) -> None:
    site.write(PAGE_ID, PAGE)
    site.commit(LENA, "Add the Impressum")
    site.git("checkout", "-q", "-b", "impressum")
    site.edit(PAGE_ID, "Am Elbufer 12", "Am Elbufer 13")
    site.commit(LENA, "New address")
    review = run(site, "review", "--base", "main")
    assert review.exit_code in (0, 1), review.output
    assert PAGE_ID in review.output and "Am Elbufer 13" in review.output


FOREIGN = {
    "rst": "Kontakt\n#######\n\n:slug: kontakt\n:date: 2026-11-20 10:00\n\nUnapproved text.\n",
    "html": "<html><head><title>Kontakt</title><meta name='slug' content='kontakt'>"
            "<meta name='date' content='2026-11-20 10:00'></head>"
            "<body>Unapproved text.</body></html>",
    "md": "Title: Kontakt\nSlug: kontakt\nDate: 2026-11-20 10:00\n\nUnapproved text.\n",
}


@pytest.mark.parametrize(
    "name", ["pages/kontakt.html", "pages/kontakt.rst", "posts/neu.html", "posts/neu.md"]
)
def test_a_page_or_post_in_pelicans_own_format_goes_public_only_approved(
    site: GitSite, name: str
) -> None:
    """Pelican's own formats are pieces now (issue 23): needing approvals like any other,
    kept in a sidecar file, and stale after any change of the file."""
    site.write(name, FOREIGN[name.rsplit(".", 1)[1]])
    site.commit(LENA, "Sneak a page in")
    check = run(site, "check", "--require-approval")
    assert check.exit_code == 1
    assert f"content/{name}:" in check.output and "approval.missing" in check.output, (
        check.output
    )
    approve_advent_post(site)
    public = production(site)
    assert public.ok, public.result.output
    assert public.has("service-im-advent.html")
    assert "Unapproved text." not in everything(public.output)

    approve = run(site, "approve", name, "--key", str(site.keys[PETRA.email]), "--yes")
    assert approve.exit_code == 0, approve.output
    assert f"-- content/{name}.approvals.yml" in approve.output  # what to commit
    assert (site.root / "content" / f"{name}.approvals.yml").is_file()
    assert f"approved  {name}" in run(site, "approvals", name).output
    assert site.read(name) == FOREIGN[name.rsplit(".", 1)[1]]  # the file itself untouched
    site.commit(PETRA, "Approve it")
    public = production(site, "public-2")
    assert public.ok, public.result.output
    assert "Unapproved text." in everything(public.output)
    assert ".approvals.yml" not in " ".join(str(p) for p in public.output.rglob("*"))

    site.edit(name, "Unapproved text.", "Changed text.")
    site.commit(LENA, "Change it after the approval")
    assert site.state(name).state == "stale"
    public = production(site, "public-3")
    assert "Changed text." not in everything(public.output)


def test_a_format_no_reader_of_dialogpress_reads_is_refused(site: GitSite) -> None:
    """A plugin's reader (here: ``READERS`` maps ``txt`` to one) makes files Pelican
    publishes that dialogpress cannot read: they are refused, never published."""
    settings = site.root / "pelicanconf.py"
    settings.write_text(
        settings.read_text() + "from pelican.readers import HTMLReader\n"
        "class TxtReader(HTMLReader):\n    file_extensions = ['txt']\n"
        "READERS = {'txt': TxtReader}\n"
    )
    site.write("pages/kontakt.txt", FOREIGN["html"])
    site.commit(LENA, "A page in a plugin's format")
    check = run(site, "check")
    assert check.exit_code == 1
    assert "content/pages/kontakt.txt:1:1: error [source.format]" in check.output, check.output


def test_static_files_are_public_only_when_an_approved_published_piece_references_them(
    site: GitSite, caplog: pytest.LogCaptureFixture
) -> None:
    site.write("images/phish.html", "<form action='https://evil.example/'>Login</form>")
    site.write("images/phish.svg", "<svg xmlns='http://www.w3.org/2000/svg'><script/></svg>")
    site.write("images/chart.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>")
    site.write("images/draft.jpg", jpeg(b"draft"))
    site.edit("posts/service-im-advent.md", "Wir freuen uns auf Ihren Besuch.",
              'Wir freuen uns auf Ihren Besuch.\n\n<img src="images/chart.svg" alt="Zeiten">')
    site.write("posts/unapproved.md", "---\ntitle: Noch nicht frei\ndate: 2026-11-20 10:00\n"
               "---\n![Entwurf](images/draft.jpg)\n")
    site.commit(LENA, "Files in images/")
    approve_advent_post(site)
    with caplog.at_level(logging.WARNING):
        public = production(site)
    assert public.ok, public.result.output
    assert public.has("service-im-advent.html")
    assert public.has("images/team.jpg") and public.has("images/chart.svg")
    for absent in ("images/phish.html", "images/phish.svg", "images/draft.jpg"):
        assert not public.has(absent), absent
    [line] = [m for m in caplog.messages if "static files" in m]
    assert "left out 3 static files no approved, published piece references" in line
    assert "images/draft.jpg, images/phish.html, images/phish.svg" in line


def test_a_symlink_in_content_is_refused_by_check_and_by_the_production_build(
    site: GitSite, tmp_path: os.PathLike[str]
) -> None:
    secret = os.path.join(os.fspath(tmp_path), "desk.env")
    with open(secret, "w", encoding="utf-8") as handle:
        handle.write(SECRET)
    os.symlink(secret, site.root / "content" / "images" / "team-2.jpg")
    site.edit("posts/service-im-advent.md", "Wir freuen uns auf Ihren Besuch.",
              "Wir freuen uns auf Ihren Besuch.\n\n![Team](images/team-2.jpg)")
    site.commit(LENA, "Link a secret")
    approve_advent_post(site)

    check = run(site, "check")
    assert check.exit_code == 1
    assert "content/images/team-2.jpg:1:1: error [security.symlink]" in check.output
    assert f"(to {secret})" in check.output

    public = production(site)
    assert not public.ok
    assert "refuses symbolic links" in public.result.output, public.result.output
    assert "images/team-2.jpg" in public.result.output
    assert not public.output.exists() or SECRET not in everything(public.output)


def test_a_symlinked_piece_and_a_symlink_in_the_theme_are_refused(site: GitSite) -> None:
    os.symlink("../posts/service-im-advent.md", site.root / "content" / "pages" / "copy.md")
    theme = site.root / "theme"
    (theme / "static").mkdir(parents=True)
    os.symlink("/etc/passwd", theme / "static" / "passwd.txt")
    with open(site.root / "pelicanconf.py", "a", encoding="utf-8") as handle:
        handle.write('THEME = "theme"\n')
    site.commit(LENA, "Links")
    check = run(site, "check")
    assert check.exit_code == 1
    assert "content/pages/copy.md:1:1: error [security.symlink]" in check.output, check.output
    assert "theme/static/passwd.txt:1:1: error [security.symlink]" in check.output
    assert "builds refuse links in content/, the theme and the plugins" in check.output


def test_a_rebuild_into_the_same_output_judges_references_afresh(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    """A build into the same folder reuses what the last one read of unchanged files
    (the gate's read memo, dp_incremental's record); a reference an approved edit
    removed must not keep its file public, and one an unapproved edit added must not
    publish it."""
    incremental = (
        f"{NOW}PLUGINS = ['dp_frontmatter', 'dp_approval_gate', 'dp_incremental']\n"
        f"CACHE_PATH = {str(tmp_path / 'cache')!r}\nDELETE_OUTPUT_DIRECTORY = True\n"
    )
    site = standard_site(tmp_path / "site", keys, extra=incremental)
    site.write("images/chart.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>")
    site.write("images/secret.jpg", jpeg(b"secret"))
    site.edit("posts/service-im-advent.md", "Wir freuen uns auf Ihren Besuch.",
              'Wir freuen uns auf Ihren Besuch.\n\n<img src="images/chart.svg" alt="Zeiten">')
    site.commit(LENA, "A chart")
    approve_advent_post(site)
    public = production(site)
    assert public.ok, public.result.output
    assert public.has("images/chart.svg") and not public.has("images/secret.jpg")
    memo = tmp_path / "cache" / "dp_incremental"
    assert list(memo.glob("*.cache/dp_approval_gate/read_memo.pickle"))

    # the approved edit takes the chart out: the chart leaves the site
    site.edit("posts/service-im-advent.md",
              '\n\n<img src="images/chart.svg" alt="Zeiten">', "\n\nOhne Grafik.")
    site.commit(LENA, "No chart")
    approve_advent_post(site)
    public = production(site)
    assert public.ok, public.result.output
    assert "Ohne Grafik." in public.text("service-im-advent.html")
    assert not public.has("images/chart.svg")

    # an unapproved edit that links the secret: the post is held back, the file too
    # (the advent post is the site's only approved piece, so the build publishes
    # nothing and fails, leaving the output as it was)
    site.edit("posts/service-im-advent.md", "Ohne Grafik.", "![x](images/secret.jpg)")
    site.commit(LENA, "Link the secret")
    public = production(site)
    assert not public.has("images/secret.jpg")
    assert "images/secret.jpg" not in everything(public.output)
