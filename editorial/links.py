"""Where a post lives on the site, as a snippet links to it.

The review report shows a snippet as the network will show it, link included, and
syndication posts that same link; both build it here, the way Pelican builds the post's
URL (``SITEURL`` + ``ARTICLE_URL``, or ``ARTICLE_LANG_URL`` for a translation), so that
the link in a post on X is the page the build wrote.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from editorial.pieces import Post, Site, Snippet
from editorial.settings import site_zone

logger = logging.getLogger(__name__)


def _slugify(text: str, settings: dict[str, Any], kind: str) -> str:
    from pelican.utils import slugify

    default = settings.get("SLUG_REGEX_SUBSTITUTIONS", [])
    subs = settings.get(f"{kind}_REGEX_SUBSTITUTIONS", default)
    slug: str = slugify(text, regex_subs=subs, preserve_case=False, use_unicode=False)
    return slug


def post_path(site: Site, post: Post) -> str:
    """The post's URL below ``SITEURL``, formatted as Pelican formats it."""
    return _format(site, post, "URL")


def post_save_as(site: Site, post: Post) -> str:
    """Where the build writes the post's page, below ``OUTPUT_PATH``."""
    return _format(site, post, "SAVE_AS")


def _format(site: Site, post: Post, kind: str) -> str:
    settings = site.settings
    default_lang = settings.get("DEFAULT_LANG", "en")
    prefix = "PAGE" if post.kind == "page" else "ARTICLE"
    key = f"{prefix}_{kind}" if post.lang == default_lang else f"{prefix}_LANG_{kind}"
    fallback = "{slug}.html" if post.lang == default_lang else "{slug}-{lang}.html"
    if prefix == "PAGE":
        fallback = "pages/" + fallback
    pattern = str(settings.get(key, fallback))
    when = post.publish_at or datetime.now(site_zone(settings))
    fields: dict[str, Any] = {k: v for k, v in post.metadata.items() if isinstance(k, str)}
    fields.update(
        slug=post.slug,
        lang=post.lang,
        date=when,
        category=_slugify(post.category or settings.get("DEFAULT_CATEGORY", "misc"),
                          settings, "CATEGORY"),
        author=_slugify(post.authors[0], settings, "AUTHOR") if post.authors else "",
        path=post.id,
    )
    try:
        return pattern.format(**fields)
    except (KeyError, IndexError, ValueError, AttributeError):
        logger.warning("%s = %r cannot be formatted for %s; using {slug}.html", key, pattern,
                       post.id)
        return f"{post.slug}.html"


def post_url(site: Site, post: Post, channel: str | None = None) -> str:
    """The post's public URL; with ``channel``, tagged with UTM parameters for that network.

    Without a ``SITEURL`` (a development build) the result is the site-relative path
    starting with ``/``, which is what a reviewer can still make sense of.
    """
    base = str(site.settings.get("SITEURL") or "").rstrip("/")
    url = f"{base}/{post_path(site, post).lstrip('/')}"
    if channel:
        query = urlencode(
            {"utm_source": channel, "utm_medium": "social", "utm_campaign": post.slug}
        )
        url += ("&" if "?" in url else "?") + query
    return url


def snippet_link(site: Site, snippet: Snippet, channel: str | None = None) -> str | None:
    """The URL a snippet links to on ``channel``, or None when it links to no post."""
    if not snippet.post:
        return None
    post = site.post_by_slug(snippet.post, snippet.lang)
    return post_url(site, post, channel) if post else None


def channel_parts(site: Site, snippet: Snippet, channel: str) -> list[str]:
    """The parts as they go out on ``channel``: the link ends the first part.

    The first part carries the link because that is the post people see in their
    timeline; a text that already contains the link is left as written.
    """
    # twitter-text's expressions cost a quarter second to import: only when posting
    from editorial.length import with_link

    parts = list(snippet.parts(channel))
    link = snippet_link(site, snippet, channel)
    if link and parts and link not in parts[0]:
        parts[0] = with_link(parts[0], link) if parts[0] else link
    return parts
