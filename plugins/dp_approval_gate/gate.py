"""Leave out of production builds every article a client approver has not approved.

The client's promise holds at the last step before the public: whatever branch or
merge brought a post into the tree, a production build writes it (page, index,
categories, tags, feeds) only when it carries a valid approval of exactly its current
content and its date has come. Preview builds keep everything, so editors and
approvers can read what is not approved yet; each article then carries
``article.dp_approval`` for the theme to show a banner.

Setting ``DP_APPROVAL_GATE`` (a dict):

``mode``
    ``"auto"`` (default): preview when ``DP_BUILD_MODE`` is ``"preview"`` (a
    ``dialogpress build`` without ``--production``), enforce otherwise, so that a plain
    ``pelican`` run errs on the side of publishing nothing unapproved.
    ``"enforce"`` or ``"preview"`` force one behaviour.

``DP_NOW`` (optional, a time such as ``"2026-11-24 09:00"``) replaces the clock, so
that what a build at a given time would publish can be tested and shown.
"""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

from pelican import signals
from pelican.utils import order_content, process_translations

from editorial.approvals import ApprovalState, approval_states
from editorial.pieces import load_site
from editorial.settings import SettingsError, apply_defaults, validate
from editorial.times import TimeError, parse_time, zone

logger = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {"mode": "auto"}
MODES = ("auto", "enforce", "preview")


def _config(settings: dict[str, Any]) -> dict[str, Any]:
    return {**DEFAULTS, **(settings.get("DP_APPROVAL_GATE") or {})}


def mode(settings: dict[str, Any]) -> str:
    """``"enforce"`` or ``"preview"``: what this build does with unapproved articles."""
    if settings.get("DP_BUILD_MODE") == "production":
        # dialogpress passes the build mode over the settings: a settings file cannot
        # turn a production build into a preview that publishes everything
        return "enforce"
    chosen = str(_config(settings)["mode"])
    if chosen == "auto":
        return "preview" if settings.get("DP_BUILD_MODE") == "preview" else "enforce"
    return chosen


def now(settings: dict[str, Any]) -> datetime:
    """The build's clock: ``DP_NOW`` when set, else the current time in the site's zone."""
    timezone = str(settings.get("TIMEZONE") or "UTC")
    value = settings.get("DP_NOW")
    if value:
        return parse_time(value, timezone)
    return datetime.now(zone(timezone))


def site_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """Pelican's settings as editorial reads them.

    ``dialogpress build`` passes the settings file's path; a plain ``pelican`` run
    does not, and the site root is then taken as the folder above ``PATH`` (where
    pelican-quickstart puts ``pelicanconf.py``).
    """
    copied = dict(settings)
    copied.setdefault("DP_SETTINGS_FILE", str(Path(copied["PATH"]).parent / "pelicanconf.py"))
    apply_defaults(copied)
    return copied


def check_settings(pelican: Any) -> None:
    value = pelican.settings.get("DP_APPROVAL_GATE", {})
    if not isinstance(value, dict) or set(value) - set(DEFAULTS):
        raise ValueError(
            f"DP_APPROVAL_GATE must be a dict with the keys {sorted(DEFAULTS)}, not {value!r}"
        )
    if _config(pelican.settings)["mode"] not in MODES:
        raise ValueError(
            f"DP_APPROVAL_GATE['mode'] must be one of {', '.join(MODES)}, "
            f"not {value.get('mode')!r}"
        )
    try:
        now(pelican.settings)
        validate(site_settings(pelican.settings))
    except (TimeError, SettingsError) as exc:
        raise ValueError(f"dp_approval_gate: {exc}") from None


def _aware(when: datetime, settings: dict[str, Any]) -> datetime:
    if when.tzinfo is None:
        return when.replace(tzinfo=zone(str(settings.get("TIMEZONE") or "UTC")))
    return when


def _verdict(
    article: Any, states: dict[str, ApprovalState], content: Path, clock: datetime,
    settings: dict[str, Any],
) -> dict[str, Any]:
    source = Path(article.source_path).resolve()
    piece_id = (
        source.relative_to(content).as_posix() if source.is_relative_to(content) else str(source)
    )
    state = states.get(piece_id)
    when = _aware(article.date, settings)
    if state is None:
        return {"state": "missing", "reason": f"{piece_id} is not a dialogpress post",
                "approvers": [], "due": when <= clock}
    reason = "; ".join(state.reasons) or None
    return {"state": state.state, "reason": reason, "approvers": state.approvers,
            "due": when <= clock}


def gate(generator: Any) -> None:
    """Drop (enforce) or mark (preview) articles before taxonomies and feeds see them."""
    settings = generator.settings
    behaviour = mode(settings)
    site = load_site(site_settings(settings))
    states = approval_states(site, site.posts)
    content = Path(settings["PATH"]).resolve()
    clock = now(settings)
    groups = {
        "published": (generator.articles, generator.translations),
        "hidden": (generator.hidden_articles, generator.hidden_translations),
        "draft": (generator.drafts, generator.drafts_translations),
    }
    kept: dict[str, list[Any]] = {}
    for status, (originals, translations) in groups.items():
        kept[status] = []
        for article in [*originals, *translations]:
            article.dp_approval = _verdict(article, states, content, clock, settings)
            verdict = article.dp_approval
            if behaviour == "preview":
                kept[status].append(article)
            elif status == "draft":
                logger.info(
                    "dp_approval_gate: left out the draft %s", article.relative_source_path
                )
            elif verdict["state"] != "approved":
                logger.warning(
                    "dp_approval_gate: left out %s: not approved (%s): %s",
                    article.relative_source_path, verdict["state"], verdict["reason"],
                )
            elif not verdict["due"]:
                logger.info(
                    "dp_approval_gate: left out %s: its date %s has not come",
                    article.relative_source_path, article.date.isoformat(),
                )
            else:
                kept[status].append(article)
    if behaviour == "preview":
        return
    translation_id = settings["ARTICLE_TRANSLATION_ID"]
    order_by = settings["ARTICLE_ORDER_BY"]

    def regroup(articles: list[Any]) -> tuple[list[Any], list[Any]]:
        originals, translations = process_translations(articles, translation_id=translation_id)
        return order_content(originals, order_by), translations

    generator.articles, generator.translations = regroup(kept["published"])
    generator.hidden_articles, generator.hidden_translations = regroup(kept["hidden"])
    generator.drafts, generator.drafts_translations = [], []


def register() -> None:
    signals.initialized.connect(check_settings)
    signals.article_generator_pretaxonomy.connect(gate)
