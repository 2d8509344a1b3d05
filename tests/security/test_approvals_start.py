"""Issue 23: adopting a live site. ``approvals_start`` in trust.yml keeps the archive public.

The posts the protected ref held, unchanged, before approvals started stay in production
builds; a new post, or an old one changed since, needs approvals. The cut-off is a
trust decision: a branch cannot move it (trust.yml is read from the protected ref), and
a backdated new post gains nothing (the file must be in the baseline commit). A build
that would publish nothing fails, naming what it held back.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import NOW, production, run
from gitsite import LENA, PETRA, GitSite, jpeg, standard_site

OLD_TIME = "2026-11-25T12:00:00+01:00"
NEW_POST = """\
---
title: Neu nach dem Start
date: 2026-11-22 10:00
---
Dieser Beitrag kam nach dem Start der Freigaben.
"""
BACKDATED = NEW_POST.replace("2026-11-22 10:00", "2019-01-01 10:00").replace(
    "Neu nach", "Zurückdatiert nach"
)


@pytest.fixture
def adopted(tmp_path: Path, keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> GitSite:
    """A live site committed on 25 November; approvals start on 1 December; then Lena
    adds a post (committed now, after the start)."""
    monkeypatch.setenv("GIT_COMMITTER_DATE", OLD_TIME)
    monkeypatch.setenv("GIT_AUTHOR_DATE", OLD_TIME)
    site = standard_site(tmp_path / "site", keys, extra=NOW,
                         trust_extra="approvals_start: 2026-12-01\n")
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    monkeypatch.delenv("GIT_AUTHOR_DATE")
    site.write("posts/neu.md", NEW_POST)
    site.write("posts/zurueck.md", BACKDATED)
    site.commit(LENA, "Two posts after the start")
    return site


def test_old_posts_stay_public_and_new_ones_need_approvals(adopted: GitSite) -> None:
    listing = run(adopted, "approvals")
    assert "grandfathered posts/service-im-advent.md" in listing.output, listing.output
    assert "missing   posts/neu.md" in listing.output
    assert "missing   posts/zurueck.md" in listing.output  # backdating gains nothing
    assert "Note: approvals start at 2026-12-01" in listing.output

    check = run(adopted, "check", "--require-approval")
    assert check.exit_code == 1
    failing = {line.split(":")[0].strip() for line in check.output.splitlines()
               if "approval." in line}
    # snippets are no archive: they go out to the networks only when approved
    assert failing == {"content/posts/neu.md", "content/posts/zurueck.md",
                       "content/social/2026-11-24-advent.md"}, check.output
    assert "Note: approvals start at 2026-12-01" in check.output

    public = production(adopted)
    assert public.ok, public.result.output
    assert public.has("service-im-advent.html")
    assert public.has("images/team.jpg")  # the old post's image goes with it
    assert not public.has("neu-nach-dem-start.html")
    assert not public.has("zurueckdatiert-nach-dem-start.html")

    adopted.approve("posts/neu.md", PETRA)
    adopted.commit(PETRA, "Approve the new post")
    public = production(adopted, "public-2")
    assert public.has("neu-nach-dem-start.html")


def test_an_old_post_changed_after_the_start_needs_approvals(adopted: GitSite) -> None:
    adopted.edit("posts/service-im-advent.md", "länger geöffnet", "kürzer geöffnet")
    adopted.commit(LENA, "Change the old post")
    check = run(adopted, "check", "--require-approval", "--format", "json")
    states = {p["id"]: [f["rule"] for f in p["findings"]] for p in json.loads(check.stdout)
              if p["id"]}
    assert "approval.missing" in states["posts/service-im-advent.md"]
    assert adopted.state("posts/service-im-advent.md").state == "missing"


def test_an_old_posts_picture_swapped_after_the_start_needs_approvals(
    adopted: GitSite,
) -> None:
    adopted.write("images/team.jpg", jpeg(b"another picture"))
    adopted.commit(LENA, "Swap the old post's picture")
    listing = run(adopted, "approvals")
    assert "missing   posts/service-im-advent.md" in listing.output, listing.output
    public = production(adopted)
    assert not public.has("service-im-advent.html")
    assert not public.has("images/team.jpg")


def test_a_branch_cannot_move_the_start(adopted: GitSite) -> None:
    adopted.git("checkout", "-q", "-b", "sneaky")
    trust = adopted.root / "trust.yml"
    trust.write_text(trust.read_text().replace("2026-12-01", "2030-01-01"))
    adopted.commit(LENA, "Move the start")
    assert adopted.state("posts/neu.md").state == "missing"


def test_a_bad_start_is_a_trust_error_naming_the_field(tmp_path: Path,
                                                       keys: dict[str, Path]) -> None:
    site = standard_site(tmp_path / "site", keys, extra=NOW,
                         trust_extra="approvals_start: next week\n")
    listing = run(site, "approvals")
    assert "approvals_start must be a commit id or a date" in listing.output, listing.output


def test_a_production_build_that_would_publish_nothing_fails_naming_what_it_held(
    site: GitSite,
) -> None:
    public = production(site)
    assert public.result.exit_code != 0
    assert "would publish none" in public.result.output, public.result.output
    assert "posts/service-im-advent.md" in public.result.output
    assert not public.has("index.html")
