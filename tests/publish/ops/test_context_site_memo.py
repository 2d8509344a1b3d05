"""The scheduler's context takes the judged site from the last run when nothing changed.

An idle tick on a large site spent most of its time reading and judging every piece
again; :func:`publish.ops.context.open_context` now keeps the site read (see
:mod:`editorial.site_memo`). What it hands on must be the site a fresh read gives, with
the guideline's findings on snippets added once, and an edit must be read afresh.
"""

from __future__ import annotations

import logging
import os

import pytest

from publish.ops.context import open_context
from tests.publish.syndication_site import Site


def findings(site: Site, caplog: pytest.LogCaptureFixture) -> tuple[list[str], bool]:
    """What the context's site says about every piece, and whether it came from the memo."""
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="editorial.site_memo"):
        context = open_context(site.conf, site.env)
    context.store.dispose()
    said = [f"{p.id}: {f}" for p in context.site.pieces for f in p.findings]
    said += [str(f) for f in context.site.problems]
    return said, "event=site.memo hit=true" in caplog.text


def test_a_second_context_takes_the_same_judged_site_from_the_memo(
    syndication_site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    (syndication_site.root / "content/social/versprechen.md").write_text(
        "---\nchannels: [twitter]\npublish_at: 2026-12-24 10:00\n---\n"
        "Wir garantieren warme Wohnungen – auch an Weihnachten.\n",
        "utf-8",
    )
    first, hit = findings(syndication_site, caplog)
    assert not hit
    promised = [line for line in first if line.startswith("social/versprechen.md: ")]
    assert any("garantieren" in line for line in promised), first
    second, hit = findings(syndication_site, caplog)
    assert hit
    assert second == first  # the guideline's findings once, not once more per run
    (syndication_site.root / ".dialogpress/cache/site-memo.pickle").unlink()
    fresh, hit = findings(syndication_site, caplog)
    assert not hit and fresh == first


def test_an_edited_post_is_read_afresh(
    syndication_site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    findings(syndication_site, caplog)
    post = next((syndication_site.root / "content" / "posts").glob("*.md"))
    text = post.read_text("utf-8")
    post.write_text(text + "\n<iframe src='https://tracker.example/'></iframe>\n", "utf-8")
    os.utime(post)
    said, hit = findings(syndication_site, caplog)
    assert not hit
    assert any(line.startswith(f"posts/{post.name}: ") and "content.active" in line
               for line in said), said  # fmt: skip
