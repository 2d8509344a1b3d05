"""Show approved comments from the networks and our replies under each post, threaded.

The conversation about a post happens on X and Facebook; readers of the blog see it
below the post: every article gets ``article.dp_comments``, the top-level comments as
:class:`ShownComment` (each with its ``replies``, oldest first), and
``article.dp_comments_count``, how many are shown in all (empty and 0 for a post without
comments). ``theme/templates/partials/comments.html`` renders them.

Like dp_syndication_links, this plugin never opens the store: the comments come from the
data file that ``dialogpress`` writes before each build (:mod:`editorial.sitedata_file`),
which holds only approved, not hidden comments and our sent replies. The file is read as
untrusted input all the same, because its text is written by strangers:

- the text is escaped, only http(s) URLs become links, all with ``rel="nofollow ugc"``,
  and e-mail addresses and phone numbers are masked, in the text, in display names and
  in URLs (:mod:`editorial.personal_data`, :mod:`.comment_text`); a link to the original
  that holds one is left out;
- a bad entry is logged as an error naming the file and the entry and left out, and the
  others are shown; a file that cannot be used is logged and the site is built without
  comments (``dialogpress build`` reports logged errors as a failed build).

Comments belong to the slug the data names, so every language version of a post (same
slug) shows them, with the words of its own language. A reply whose comment is not shown
(hidden, rejected or erased after the reply) is left out with it: it would answer
nothing on the page. Threads nest five levels deep at most; a longer back-and-forth goes
on at the fifth level, oldest first, so that a phone's column keeps room for the text.

Comments are attached once Pelican has saved its content cache
(``article_generator_finalized``), so that a commenter's text never lands in the cache
and a rebuild after ``dialogpress forget`` leaves no trace of it.

Setting ``DP_COMMENTS`` (a dict):

``enabled``
    ``True`` (default). ``False`` shows no comments.
``our_name``
    The name above our replies; ``None`` (default) uses ``SITENAME``.
``data_file``
    ``None`` (default): ``SITE_DATA``, else ``.dialogpress/site-data.json``, below the
    site root, as for dp_syndication_links. A relative path is taken from the site root.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup
from pelican import signals

from editorial.personal_data import holds_personal_data
from editorial.sitedata_file import SiteComment, SiteDataError, data_path, read_site_data
from editorial.times import zone

from .comment_text import comment_html, plain_name

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {"enabled": True, "our_name": None, "data_file": None}
NETWORKS = {"twitter": "X", "facebook": "Facebook"}
_TAG = re.compile(r"<[^>]*>")
# a long back-and-forth goes on at this depth, oldest first, instead of nesting deeper
MAX_DEPTH = 5
# every list of articles ArticlesGenerator keeps, in every status
GROUPS = (
    "articles", "translations", "hidden_articles", "hidden_translations",
    "drafts", "drafts_translations",
)


@dataclass
class ShownComment:
    """A comment as the theme shows it: escaped, masked, in the site's time zone."""

    channel: str
    network: str
    author: str
    html: Markup
    created: datetime
    url: str | None
    ours: bool
    replies: list[ShownComment] = field(default_factory=list)


def _config(settings: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS, **(settings.get("DP_COMMENTS") or {})}


def _optional_text(value: object) -> bool:
    return value is None or (isinstance(value, str) and bool(value.strip()))


def check_settings(pelican: Any) -> None:
    value = pelican.settings.get("DP_COMMENTS", {})
    if not isinstance(value, dict) or set(value) - set(DEFAULTS):
        raise ValueError(
            f"DP_COMMENTS must be a dict with the keys {sorted(DEFAULTS)}, not {value!r}"
        )
    if not isinstance(value.get("enabled", True), bool):
        raise ValueError(f"DP_COMMENTS['enabled'] must be True or False, not {value['enabled']!r}")
    if not _optional_text(value.get("our_name")):
        raise ValueError(
            "DP_COMMENTS['our_name'] must be None or the name above our replies, such as "
            f"'Stadtwerke Elbtal', not {value['our_name']!r}"
        )
    if not _optional_text(value.get("data_file")):
        raise ValueError(
            "DP_COMMENTS['data_file'] must be None or a path such as "
            f"'.dialogpress/site-data.json', not {value['data_file']!r}"
        )


def load(settings: dict[str, Any]) -> dict[str, list[SiteComment]]:
    """The comments by post slug; what cannot be used is logged and left out."""
    path = data_path(settings, _config(settings)["data_file"])
    try:
        data = read_site_data(path)
    except SiteDataError as exc:
        logger.error("dp_comments: %s; the site is built without comments", exc)
        return {}
    for problem in data.comment_problems:
        logger.error("dp_comments: %s", problem)
    return data.comments


def our_name(settings: dict[str, Any]) -> str:
    """The name above our replies: the setting, else the site's name without markup."""
    name = _config(settings)["our_name"]
    if name:
        return str(name)
    # SITENAME is HTML as the theme shows it ("Strom &amp; Wasser"); the template escapes
    return " ".join(html.unescape(_TAG.sub(" ", str(settings.get("SITENAME", "")))).split())


def threads(comments: list[SiteComment], lang: str, settings: dict[str, Any]) -> list[ShownComment]:
    """The top-level comments of one post with their replies, oldest first."""
    tz = zone(settings.get("TIMEZONE") or "UTC")
    ours = our_name(settings)
    shown: dict[str, ShownComment] = {}
    for comment in comments:
        shown[comment.id] = ShownComment(
            channel=comment.channel,
            network=NETWORKS.get(comment.channel, comment.channel),
            author=ours if comment.ours else plain_name(comment.author, lang),
            html=comment_html(comment.text, lang),
            created=comment.created_at.astimezone(tz),
            url=None if holds_personal_data(comment.url) else comment.url,
            ours=comment.ours,
        )
    top: list[ShownComment] = []
    for comment in sorted(comments, key=lambda c: c.created_at):
        if comment.parent is None:
            top.append(shown[comment.id])
        elif comment.parent in shown and comment.parent != comment.id:
            shown[comment.parent].replies.append(shown[comment.id])
    _flatten(top, 1)
    return top


def _flatten(comments: list[ShownComment], depth: int) -> None:
    """Below ``MAX_DEPTH``, replies to replies become replies of the deepest comment."""
    for comment in comments:
        if depth < MAX_DEPTH - 1:
            _flatten(comment.replies, depth + 1)
            continue
        below, todo = [], list(comment.replies)
        while todo:
            reply = todo.pop()
            below.append(reply)
            todo += reply.replies
            reply.replies = []
        comment.replies = sorted(below, key=lambda c: c.created)


def _count(comments: list[ShownComment]) -> int:
    return sum(1 + _count(comment.replies) for comment in comments)


def attach(generator: Any) -> None:
    """Give every article its comments, after the content cache was saved."""
    settings = generator.settings
    if not _config(settings)["enabled"]:
        return
    by_slug = load(settings)
    built: dict[tuple[str, str], list[ShownComment]] = {}
    counted: set[str] = set()
    for name in GROUPS:
        for article in getattr(generator, name, []):
            comments = by_slug.get(article.slug, [])
            key = (article.slug, article.lang)
            if key not in built:
                built[key] = threads(comments, article.lang, settings)
                left_out = len(comments) - _count(built[key])
                if left_out and article.slug not in counted:
                    counted.add(article.slug)
                    logger.info(
                        "dp_comments: %s: left out %d replies to comments that are not shown",
                        article.slug, left_out,
                    )
            article.dp_comments = built[key]
            article.dp_comments_count = _count(built[key])


def register() -> None:
    signals.initialized.connect(check_settings)
    signals.article_generator_finalized.connect(attach)
