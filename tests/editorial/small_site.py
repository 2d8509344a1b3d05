"""A small site of one post, one snippet and one picture, for tests of reading pieces."""

from __future__ import annotations

from pathlib import Path

CONF = """\
PATH = "content"
ARTICLE_PATHS = ["posts"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images"]
TIMEZONE = "Europe/Berlin"
DEFAULT_LANG = "de"
SOCIAL_PATHS = ["social"]
"""

POST = """\
---
title: "„Service“ im Advent"
date: 2026-11-20 10:00
slug: service-im-advent
category: Service
---
Große Straße, schöne Grüße.
"""

SNIPPET = """\
---
channels: [twitter, facebook]
publish_at: 2026-11-24 09:00
post: service-im-advent
text:
  twitter: Kurz für X
---
Länger für Facebook.
"""


def make_small_site(folder: Path) -> Path:
    """The site in ``folder``: settings, the post, the snippet, the picture."""
    (folder / "pelicanconf.py").write_text(CONF, encoding="utf-8")
    for name in ("posts", "social", "images", "pages"):
        (folder / "content" / name).mkdir(parents=True)
    (folder / "content/posts/advent.md").write_text(POST, encoding="utf-8")
    (folder / "content/social/good.md").write_text(SNIPPET, encoding="utf-8")
    (folder / "content/images/team.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return folder
