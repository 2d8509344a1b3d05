"""Leave out of production builds everything a client approver has not approved.

The client's promise holds at the last step before the public: whatever branch or
merge brought a post into the tree, a production build writes it (page, index,
categories, tags, feeds) only when it carries a valid approval of exactly its current
content and its date has come. Pages (``PAGE_PATHS``) are pieces with approvals too,
and a static file (``STATIC_PATHS``, or a file a piece links) is copied only when an
approved, published piece references it (:func:`allowed_static`): an ``.html`` or
``.svg`` dropped into ``images/`` is not public by being there. A production build
refuses to run at all while content/, the theme or the plugins hold a symbolic link.
Preview builds keep everything, so editors and approvers can read what is not approved
yet; each article and page then carries ``dp_approval`` for the theme to show a banner.

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
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from pelican import signals
from pelican.utils import order_content, process_translations

from editorial.approvals import (
    PUBLIC_STATES,
    ApprovalState,
    approval_states,
    file_digest,
    referenced_media,
)
from editorial.pieces import (
    Piece,
    ReadMemo,
    Site,
    lent_site,
    load_site,
    site_folders,
    symlinks,
)
from editorial.settings import SettingsError, apply_defaults, settings_root, validate
from editorial.site_approval import site_approval_state
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
    if mode(pelican.settings) == "enforce":
        links = symlinks(site_folders(site_settings(pelican.settings)))
        if links:
            raise ValueError(
                "dp_approval_gate: a production build refuses symbolic links in content/, the "
                "theme and the plugins (they could publish any file of this machine): "
                + ", ".join(str(link) for link in links)
            )


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


READ_MEMO_VERSION = 1


def read_memo_path(settings: dict[str, Any]) -> Path | None:
    """Where what reading the pieces made is kept between builds (parsed front matter,
    inspected HTML: :class:`~editorial.pieces.ReadMemo`): beside Pelican's content
    cache, and only when Pelican keeps one (``CACHE_CONTENT``, as dp_incremental sets)."""
    if not settings.get("CACHE_CONTENT") or not settings.get("CACHE_PATH"):
        return None
    return Path(str(settings["CACHE_PATH"])) / "dp_approval_gate" / "read_memo.pickle"


def load_read_memo(path: Path | None, root: Path) -> ReadMemo | None:
    """The last build's memo (:meth:`~editorial.pieces.ReadMemo.load`: an empty one when
    there is none, it is damaged or this clone did not write it)."""
    return None if path is None else ReadMemo.load(path, root)


def save_read_memo(path: Path | None, memo: ReadMemo | None, root: Path) -> None:
    """Keep what this build used, tagged with this clone's key."""
    if path is not None and memo is not None:
        memo.save(path, root)


class _Judged:
    """The site and every post's and page's approval state, judged once per build."""

    KEY = "dp_approval_gate"

    def __init__(self, settings: dict[str, Any]):
        judged = site_settings(settings)
        # the scheduler lends the site it read moments ago in this process (same settings
        # file, same content folder); otherwise every piece is read here
        lent = lent_site(judged)
        if lent is not None:
            self.site: Site = lent
        else:
            memo_path = read_memo_path(settings)
            memo = load_read_memo(memo_path, settings_root(judged))
            self.site = load_site(judged, memo=memo)
            save_read_memo(memo_path, memo, settings_root(judged))
        self.states = approval_states(self.site, [*self.site.posts, *self.site.pages])
        if lent is None:
            _release_texts(self.site)
        #: piece ids a production build publishes (filled as articles and pages are gated)
        self.published: set[str] = set()
        #: what a production build left out that was meant to go public: (path, why)
        self.held_back: list[tuple[str, str]] = []

    @classmethod
    def of(cls, generator: Any) -> _Judged:
        """The build's judgement, shared by the generators through Pelican's context."""
        context = generator.context
        judged = context.get(cls.KEY)
        if not isinstance(judged, cls):
            judged = cls(generator.settings)
            context[cls.KEY] = judged
        return judged


def _release_texts(site: Site) -> None:
    """Let go of what judging the posts and pages needed and the rest of the build does not.

    Once the approval states are made, the build asks the site only which files an
    approved, published post or page references (:func:`allowed_static`), and that is
    the piece's media and its public HTML's references, kept here (computed now if they
    were not yet, from the text as it was judged). The file's bytes, its body, Pelican's
    HTML of it and the read memo (which holds every parsed file) are dropped: on a site
    of thousands of posts they were tens of MiB held to the end of the build. Only for a
    site the gate read itself; a lent site is its lender's.
    """
    for piece in site.pieces:
        source = piece.source
        if source is None or not piece.on_site:
            continue
        _ = piece.public_html  # a cached property: kept with the piece
        source.raw, source.body, source.html = b"", "", None
        piece.memo = None


def allowed_static(site: Site, published: Iterable[Piece]) -> set[str]:
    """The static files (paths under ``content/``) a production build may publish.

    The one place that decides it: a file is public when an approved piece that goes
    public references it (and the approval's hash covers its bytes). Symbolic links and
    missing files are never allowed.
    """
    allowed: set[str] = set()
    for piece in published:
        if piece.source is None:
            continue
        for path in referenced_media(piece):
            if file_digest(site.content, path) not in ("missing", "symlink"):
                allowed.add(path)
    return allowed | framed_static(site)


def framed_static(site: Site) -> set[str]:
    """Static files under ``content/`` that the approved site approval covers (a logo or
    a default social image that ``trust.yml``'s ``site: files:`` lists)."""
    root = settings_root(site.settings).resolve()
    state = site_approval_state(root)
    content = site.content.resolve()
    if not state.approved or not content.is_relative_to(root):
        return set()
    below = content.relative_to(root)
    return {
        Path(name).relative_to(below).as_posix()
        for name in state.files
        if Path(name).is_relative_to(below)
    }


def _piece_id(content_object: Any, content: Path) -> str:
    source = Path(content_object.source_path).resolve()
    return source.relative_to(content).as_posix() if source.is_relative_to(content) else str(source)


def gate(generator: Any) -> None:
    """Drop (enforce) or mark (preview) articles before taxonomies and feeds see them."""
    settings = generator.settings
    behaviour = mode(settings)
    judged = _Judged.of(generator)
    states = judged.states
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
            elif verdict["state"] not in PUBLIC_STATES:
                logger.warning(
                    "dp_approval_gate: left out %s: not approved (%s): %s",
                    article.relative_source_path, verdict["state"], verdict["reason"],
                )
                judged.held_back.append(
                    (article.relative_source_path, f"not approved ({verdict['state']})")
                )
            elif not verdict["due"]:
                logger.info(
                    "dp_approval_gate: left out %s: its date %s has not come",
                    article.relative_source_path, article.date.isoformat(),
                )
            else:
                kept[status].append(article)
                judged.published.add(_piece_id(article, content))
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


def _page_verdict(page: Any, states: dict[str, ApprovalState], content: Path) -> dict[str, Any]:
    piece_id = _piece_id(page, content)
    state = states.get(piece_id)
    if state is None:
        return {"state": "missing", "reason": f"{piece_id} is not a dialogpress page",
                "approvers": [], "due": True}
    return {"state": state.state, "reason": "; ".join(state.reasons) or None,
            "approvers": state.approvers, "due": True}


def gate_pages(generator: Any) -> None:
    """Drop (enforce) or mark (preview) pages: a page is public only when approved."""
    settings = generator.settings
    judged = _Judged.of(generator)
    content = Path(settings["PATH"]).resolve()
    preview = mode(settings) == "preview"
    groups = {
        "published": ("pages", "translations"),
        "hidden": ("hidden_pages", "hidden_translations"),
        "draft": ("draft_pages", "draft_translations"),
    }
    for status, names in groups.items():
        for name in names:
            kept = []
            for page in getattr(generator, name):
                page.dp_approval = _page_verdict(page, judged.states, content)
                if preview:
                    kept.append(page)
                elif status == "draft":
                    logger.info("dp_approval_gate: left out the draft page %s",
                                page.relative_source_path)
                elif page.dp_approval["state"] not in PUBLIC_STATES:
                    logger.warning(
                        "dp_approval_gate: left out the page %s: not approved (%s): %s",
                        page.relative_source_path, page.dp_approval["state"],
                        page.dp_approval["reason"],
                    )
                    judged.held_back.append(
                        (page.relative_source_path,
                         f"not approved ({page.dp_approval['state']})")
                    )
                else:
                    kept.append(page)
                    judged.published.add(_piece_id(page, content))
            setattr(generator, name, kept)
    generator._update_context(("pages", "hidden_pages", "draft_pages"))
    if not preview:
        report_held_back(judged)


def report_held_back(judged: _Judged) -> None:
    """Name what the production build held back; refuse a build that would publish none.

    A live site whose archive is not approved yet would otherwise deploy an empty blog
    and say nothing: every post held back is named in one summary, and when nothing
    that was meant to go public is left, the build fails (Pelican exits non-zero)
    before anything is written. ``approvals_start`` in trust.yml is the way to adopt a
    live site (docs/adopting.md).
    """
    held = judged.held_back
    if not held:
        return
    shown = ", ".join(path for path, _ in held[:20])
    more = f" and {len(held) - 20} more" if len(held) > 20 else ""
    logger.warning(
        "dp_approval_gate: held back %d of %d posts and pages that were meant to go "
        "public: %s%s", len(held), len(held) + len(judged.published), shown, more,
    )
    if not judged.published:
        raise ValueError(
            f"dp_approval_gate: this production build would publish none of its {len(held)} "
            f"posts and pages (held back, not approved: {shown}{more}); approve them, or let "
            "a live site's archive stay public with 'approvals_start:' in trust.yml "
            "(docs/adopting.md)"
        )


def gate_static(generator: Any) -> None:
    """Leave out (enforce) every static file no approved, published piece references."""
    settings = generator.settings
    if mode(settings) == "preview":
        return
    judged = _Judged.of(generator)
    published = [p for p in judged.site.pieces if p.id in judged.published]
    allowed = allowed_static(judged.site, published)
    kept: list[Any] = []
    left_out: list[Any] = []
    for static in generator.staticfiles:
        relative = Path(static.get_relative_source_path()).as_posix()
        (kept if relative in allowed else left_out).append(static)
    if left_out:
        logger.warning(
            "dp_approval_gate: left out %d static files no approved, published piece "
            "references: %s",
            len(left_out), ", ".join(sorted(s.get_relative_source_path() for s in left_out)),
        )
    generator.staticfiles = kept
    generator._update_context(("staticfiles",))


def register() -> None:
    signals.initialized.connect(check_settings)
    signals.article_generator_pretaxonomy.connect(gate)
    signals.page_generator_finalized.connect(gate_pages)
    signals.static_generator_finalized.connect(gate_static)
