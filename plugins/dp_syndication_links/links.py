"""Show on each post where it was shared, and leave retracted posts out of the site.

Readers who find a post on the blog can join the conversation where it happens: every
article gets ``article.dp_syndication``, a list of ``{"channel", "url", "label"}``
(empty when the post was not shared), which ``theme/templates/partials/syndication.html``
renders below the post ("Geteilt auf: X, Facebook").

The store is never opened here (a plain ``pelican`` build needs no database and no
credentials): everything comes from the data file that ``dialogpress`` writes before each
build (:mod:`editorial.sitedata_file`). No file means nothing has been shared yet.

Retractions reach the build through the same file, so they are handled here: a post
whose piece id (its path under ``content/``, e.g. ``posts/x.md``) is in ``retracted``
is left out of every build, preview and production alike, before Pelican makes
categories, tags, archives and feeds of it, and each one left out is logged. The gate
(dp_approval_gate) decides from the tree alone whether a post may be published; a
retraction is a fact of the store, known only from the data file, and must hold even in
a preview that shows everything unapproved. Links that came from a retracted snippet are
not shown either: their posts no longer exist on the network.

A data file that cannot be used is logged as an error naming the file, and the build goes
on without links and retractions; ``dialogpress build`` counts logged errors and reports
the build as failed, so such a site is not deployed with a retracted post back on it.

Setting ``DP_SYNDICATION_LINKS`` (a dict):

``data_file``
    ``None`` (default): ``SITE_DATA``, else ``.dialogpress/site-data.json``, below the
    site root (the settings file's folder; for a plain ``pelican`` run, the folder above
    ``PATH``). A relative path is taken from the site root.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pelican import signals
from pelican.utils import order_content, process_translations

from editorial.sitedata_file import SiteData, SiteDataError, data_path, read_site_data

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {"data_file": None}
LABELS = {"twitter": "X", "facebook": "Facebook"}
# (originals, translations) as ArticlesGenerator keeps them, in every status
GROUPS = (
    ("articles", "translations"),
    ("hidden_articles", "hidden_translations"),
    ("drafts", "drafts_translations"),
)


def _config(settings: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS, **(settings.get("DP_SYNDICATION_LINKS") or {})}


def check_settings(pelican: Any) -> None:
    value = pelican.settings.get("DP_SYNDICATION_LINKS", {})
    if not isinstance(value, dict) or set(value) - set(DEFAULTS):
        raise ValueError(
            f"DP_SYNDICATION_LINKS must be a dict with the keys {sorted(DEFAULTS)}, "
            f"not {value!r}"
        )
    name = value.get("data_file")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ValueError(
            "DP_SYNDICATION_LINKS['data_file'] must be None or a path such as "
            f"'.dialogpress/site-data.json', not {name!r}"
        )


def data_file(settings: dict[str, Any]) -> Path:
    """The data file this build reads."""
    return data_path(settings, _config(settings)["data_file"])


def load(settings: dict[str, Any]) -> SiteData:
    """The data file's content; what cannot be used is logged and left out."""
    path = data_file(settings)
    try:
        data = read_site_data(path)
    except SiteDataError as exc:
        logger.error(
            "dp_syndication_links: %s; the site is built without syndication links "
            "and without leaving out retracted posts", exc,
        )
        return SiteData()
    for problem in data.problems:
        logger.error("dp_syndication_links: %s", problem)
    return data


def piece_id(article: Any, content: Path) -> str:
    """The article's piece id: its path under ``content/``, as the store knows it."""
    source = Path(article.source_path).resolve()
    return source.relative_to(content).as_posix() if source.is_relative_to(content) else str(
        source
    )


def links_for(slug: str, data: SiteData) -> list[dict[str, str]]:
    return [
        {"channel": link.channel, "url": link.url, "label": LABELS[link.channel]}
        for link in data.syndication.get(slug, [])
        if link.piece not in data.retracted
    ]


def syndication(generator: Any) -> None:
    """Drop retracted articles and give the others their links, before taxonomies."""
    settings = generator.settings
    data = load(settings)
    content = Path(settings["PATH"]).resolve()
    for originals_name, translations_name in GROUPS:
        articles = [*getattr(generator, originals_name), *getattr(generator, translations_name)]
        kept = []
        for article in articles:
            if piece_id(article, content) in data.retracted:
                logger.warning(
                    "dp_syndication_links: left out %s: it was retracted",
                    article.relative_source_path,
                )
                continue
            article.dp_syndication = links_for(article.slug, data)
            kept.append(article)
        if len(kept) == len(articles):
            continue
        originals, translations = process_translations(
            kept, translation_id=settings["ARTICLE_TRANSLATION_ID"]
        )
        setattr(generator, originals_name, order_content(originals, settings["ARTICLE_ORDER_BY"]))
        setattr(generator, translations_name, translations)


def register() -> None:
    signals.initialized.connect(check_settings)
    signals.article_generator_pretaxonomy.connect(syndication)
