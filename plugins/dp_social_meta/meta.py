"""Open Graph and X card tags for articles, pages and the index.

When a post is shared on X or Facebook — by our own snippets or by a reader — the network
builds its preview card from these tags; without them it guesses a title and shows no
picture. The plugin only prepares plain-text ``(property, content)`` pairs:
``article.dp_social_meta``, ``page.dp_social_meta``, and for the index the context
variable ``dp_social_meta_by_page_name`` (``{"index": [...]}``, keyed like Pelican's
``page_name``, so that pages 2, 3, … of the index carry the same card).
``theme/templates/partials/social_meta.html`` writes them into ``<head>`` and escapes
them there, so quotes, „…“ and ``&`` in a title cannot break out of an attribute.

The pairs are made at ``all_generators_finalized``: a summary is read only once every
generator knows its content, so that reading it early cannot cache a summary whose
``{static}`` links were not resolved yet.

URLs in these tags must be absolute: ``og:url`` and ``og:image`` are left out when
``SITEURL`` is not an absolute http(s) URL (a development build), and the X card is then
``summary`` rather than ``summary_large_image``.

Setting ``DP_SOCIAL_META`` (a dict):

``default_image``
    ``None`` (default) or the picture for everything without its own ``image``: a path
    under ``content/`` such as ``"images/logo.png"`` (it must exist) or an http(s) URL.
``default_image_alt``
    Its alt text (``og:image:alt``); required when ``default_image`` is set.
``twitter_site``
    ``None`` (default) or the site's X account, ``"@name"``, as ``twitter:site``.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from pelican import signals
from pelican.generators import ArticlesGenerator, PagesGenerator

DEFAULTS: dict[str, Any] = {"default_image": None, "default_image_alt": None, "twitter_site": None}
DESCRIPTION_LENGTH = 200
LOCALES = {"de": "de_DE", "en": "en_US"}
TWITTER_HANDLE = re.compile(r"@[A-Za-z0-9_]{1,15}")
URL_SCHEMES = ("https://", "http://")
ARTICLE_LISTS = (
    "articles", "translations", "hidden_articles", "hidden_translations", "drafts",
    "drafts_translations",
)
PAGE_LISTS = (
    "pages", "translations", "hidden_pages", "hidden_translations", "draft_pages",
    "draft_translations",
)

Meta = list[tuple[str, str]]


def _config(settings: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS, **(settings.get("DP_SOCIAL_META") or {})}


def _image_path(path: str) -> str:
    """An image path as editors write it (``images/x.jpg``, ``{static}/images/x.jpg``)."""
    return path.replace("{static}", "").replace("{attach}", "").strip().strip("/")


def check_settings(pelican: Any) -> None:
    settings = pelican.settings
    value = settings.get("DP_SOCIAL_META", {})
    if not isinstance(value, dict) or set(value) - set(DEFAULTS):
        raise ValueError(
            f"DP_SOCIAL_META must be a dict with the keys {sorted(DEFAULTS)}, not {value!r}"
        )
    config = _config(settings)
    image, alt, handle = (config[key] for key in DEFAULTS)
    if image is not None:
        if not isinstance(image, str) or not _image_path(image):
            raise ValueError(
                "DP_SOCIAL_META['default_image'] must be a path under content/ such as "
                f"'images/logo.png' or an http(s) URL, not {image!r}"
            )
        if not image.startswith(URL_SCHEMES):
            file = Path(settings["PATH"]) / _image_path(image)
            if not file.is_file():
                raise ValueError(f"DP_SOCIAL_META['default_image']: {file} does not exist")
        if not isinstance(alt, str) or not alt.strip():
            raise ValueError(
                "DP_SOCIAL_META['default_image_alt'] must describe the default image "
                "(networks show it to readers who cannot see the picture)"
            )
    elif alt is not None:
        raise ValueError("DP_SOCIAL_META['default_image_alt'] is set without a default_image")
    if handle is not None and not (isinstance(handle, str) and TWITTER_HANDLE.fullmatch(handle)):
        raise ValueError(
            f"DP_SOCIAL_META['twitter_site'] must be an X account such as '@name', not {handle!r}"
        )


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def plain_text(html: str) -> str:
    """Markup and entities gone, whitespace collapsed: what a card can show."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return " ".join("".join(parser.parts).split())


def shorten(text: str, limit: int = DESCRIPTION_LENGTH) -> str:
    """At most ``limit`` characters, cut at a word and marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:–-") + "…"


def site_url(settings: dict[str, Any]) -> str | None:
    """``SITEURL`` when it is absolute; a development build's is empty or relative."""
    value = str(settings.get("SITEURL") or "")
    return value.rstrip("/") if value.startswith(URL_SCHEMES) else None


def absolute(settings: dict[str, Any], path: str) -> str | None:
    if path.startswith(URL_SCHEMES):
        return path
    base = site_url(settings)
    return None if base is None else f"{base}/{path.lstrip('/')}"


def locale(lang: str | None) -> str | None:
    """``og:locale`` for a language code: ``de`` → ``de_DE``, ``de-AT`` → ``de_AT``."""
    if not lang:
        return None
    if lang in LOCALES:
        return LOCALES[lang]
    if re.fullmatch(r"[a-z]{2}[-_][A-Z]{2}", lang):
        return lang.replace("-", "_")
    return None


def _common(
    settings: dict[str, Any], kind: str, title: str, description: str, url: str | None,
    lang: str | None, image: tuple[str | None, str | None], alternates: list[str],
    published: str | None = None,
) -> Meta:
    config = _config(settings)
    meta: Meta = [("og:type", kind), ("og:title", title)]
    if settings.get("SITENAME"):
        meta.insert(0, ("og:site_name", plain_text(str(settings["SITENAME"]))))
    if description:
        meta.append(("og:description", shorten(description)))
    if url:
        meta.append(("og:url", url))
    own = locale(lang)
    if own:
        meta.append(("og:locale", own))
        meta += [("og:locale:alternate", other) for other in alternates if other != own]
    picture, alt = image
    if picture is None and config["default_image"]:
        picture, alt = _image_path(config["default_image"]), config["default_image_alt"]
    picture_url = absolute(settings, picture) if picture else None
    if picture_url:
        meta.append(("og:image", picture_url))
        if alt:
            meta.append(("og:image:alt", plain_text(str(alt))))
    if published:
        meta.append(("article:published_time", published))
    meta.append(("twitter:card", "summary_large_image" if picture_url else "summary"))
    if config["twitter_site"]:
        meta.append(("twitter:site", config["twitter_site"]))
    return meta


def content_meta(item: Any, settings: dict[str, Any], kind: str) -> Meta:
    """The tags of one article (``kind="article"``) or page (``kind="website"``)."""
    metadata = getattr(item, "metadata", {})
    image = metadata.get("image")
    alternates = [locale(t.lang) for t in getattr(item, "translations", [])]
    date = getattr(item, "date", None) if kind == "article" else None
    return _common(
        settings,
        kind,
        title=plain_text(str(item.title)),
        description=plain_text(str(item.summary or "")),
        url=absolute(settings, item.url),
        lang=getattr(item, "lang", None),
        image=(_image_path(str(image)) if image else None, metadata.get("image_alt")),
        alternates=[a for a in alternates if a],
        # Pelican gives every date the site's TIMEZONE, so the offset is always there
        published=date.isoformat() if date else None,
    )


def index_meta(settings: dict[str, Any]) -> Meta:
    """The home page's tags: the site itself."""
    url = str(settings.get("INDEX_URL") or "index.html").removesuffix("index.html")
    return _common(
        settings,
        "website",
        title=plain_text(str(settings.get("SITENAME") or "")),
        description=plain_text(str(settings.get("SITESUBTITLE") or "")),
        url=absolute(settings, url),
        lang=settings.get("DEFAULT_LANG"),
        image=(None, None),
        alternates=[],
    )


def social_meta(generators: list[Any]) -> None:
    for generator in generators:
        settings = generator.settings
        if isinstance(generator, ArticlesGenerator):
            for name in ARTICLE_LISTS:
                for article in getattr(generator, name, []):
                    article.dp_social_meta = content_meta(article, settings, "article")
            index = os.path.splitext(str(settings.get("INDEX_SAVE_AS") or "index.html"))[0]
            generator.context["dp_social_meta_by_page_name"] = {index: index_meta(settings)}
        elif isinstance(generator, PagesGenerator):
            for name in PAGE_LISTS:
                for page in getattr(generator, name, []):
                    page.dp_social_meta = content_meta(page, settings, "website")


def register() -> None:
    signals.initialized.connect(check_settings)
    signals.all_generators_finalized.connect(social_meta)
