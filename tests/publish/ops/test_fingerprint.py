"""The scheduler's fingerprint: what a production build is made of, read once a tick.

The content part comes from the site memo's key (every byte of content/), so the tick
reads the content folder once rather than twice; these tests hold that it still sees
every change and nothing else, whether the site came from the memo or was read afresh.
"""

from __future__ import annotations

from datetime import datetime

from gitsite import approve_example_frame

from publish.ops.context import open_context
from publish.ops.scheduler import fingerprint
from tests.publish.syndication_site import Site

NOW = datetime.fromisoformat("2026-11-24T10:00:00+01:00")


def made_of(site: Site) -> str:
    context = open_context(site.conf, site.env)
    try:
        assert context.site.inputs  # read through the site memo
        return fingerprint(context, site.conf, NOW)
    finally:
        context.store.dispose()


def test_the_same_files_give_the_same_fingerprint_read_afresh_or_from_the_memo(
    syndication_site: Site,
) -> None:
    first = made_of(syndication_site)  # the memo is made
    assert made_of(syndication_site) == first  # served from the memo
    (syndication_site.root / ".dialogpress/cache/site-memo.pickle").unlink()
    assert made_of(syndication_site) == first  # read afresh


def test_a_byte_of_content_a_picture_or_the_theme_changes_it(syndication_site: Site) -> None:
    root = syndication_site.root
    before = made_of(syndication_site)
    picture = next(p for p in (root / "content").rglob("*") if p.suffix in (".png", ".jpg"))
    picture.write_bytes(picture.read_bytes() + b"\0")
    after_picture = made_of(syndication_site)
    assert after_picture != before
    template = next((root / "theme" / "templates").glob("*.html"))
    template.write_text(template.read_text("utf-8") + "\n", "utf-8")
    approve_example_frame(root)  # the client approves the new layout
    assert made_of(syndication_site) != after_picture
