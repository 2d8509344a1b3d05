"""The data file through which the store reaches the site: written before each build.

Plugins never open the store (a plain ``pelican`` build needs no database and no
credentials); what the site shows from it — where each post was shared, which pieces
were retracted, the approved comments and our replies — is written here as JSON, and
the plugins read that file. Comments carry the display name only: never a handle's
contact data, and erased or hidden comments are left out, so a build after ``forget``
has no trace of them.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, or_, select

from editorial import sitedata_file
from editorial.pieces import Site
from publish.store import Store, audit, ledger
from publish.store.models import (
    ERASED_REASONS,
    Comment,
    CommentReply,
    CommentState,
    ReplyStatus,
    Status,
)

logger = logging.getLogger(__name__)

DEFAULT_PATH = sitedata_file.DEFAULT_PATH


def data_path(settings: dict[str, Any]) -> Path:
    """Where the data file lives: ``SITE_DATA`` below the site root, where plugins look."""
    return sitedata_file.data_path(settings)


def site_data(site: Site, store: Store) -> dict[str, Any]:
    """What the site shows from the store, keyed so that plugins need no piece model."""
    shared: dict[str, list[dict[str, str]]] = {}
    retracted: list[str] = []
    with store.read() as session:
        posted = ledger.by_status(session, Status.POSTED)
        for event in audit.recent(session, action="piece.retracted", limit=None):
            retracted.append(event.subject_id)
    for snippet in site.snippets:
        if not snippet.post:
            continue
        for entry in posted:
            if entry.piece_id == snippet.id and entry.part_index == 0 and entry.remote_url:
                links = shared.setdefault(snippet.post, [])
                if all(link["url"] != entry.remote_url for link in links):
                    links.append(
                        {"channel": entry.channel, "url": entry.remote_url, "piece": snippet.id}
                    )
    return {
        "comments": _comments(site, store, set(retracted)),
        "syndication": {
            slug: sorted(links, key=lambda link: link["channel"])
            for slug, links in sorted(shared.items())
        },
        "retracted": sorted(set(retracted)),
    }


def _comments(site: Site, store: Store, retracted: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Approved, visible comments and our sent replies to them, by the post slug they are under.

    Read as plain rows (only the columns shown, found through the ``state`` index) and
    the replies joined in the database, never as ORM objects nor as a list of ids: a
    site with years of comments has hundreds of thousands of them.
    """
    slugs = {snippet.id: snippet.post for snippet in site.snippets if snippet.post}
    shown: dict[str, list[dict[str, Any]]] = {}
    shown_comment = and_(
        Comment.state == CommentState.APPROVED.value,
        Comment.gone_at.is_(None),
        Comment.kind == "reply",
        or_(Comment.reason.is_(None), Comment.reason.not_in(ERASED_REASONS)),
    )
    visible: dict[tuple[str, str], str] = {}  # (channel, remote id) → slug
    with store.read() as session:
        rows = session.execute(
            select(
                Comment.channel,
                Comment.remote_id,
                Comment.parent_remote_id,
                Comment.piece_id,
                Comment.author_name,
                Comment.author_handle,
                Comment.text,
                Comment.created_at,
                Comment.permalink,
            )
            .where(shown_comment)
            .order_by(Comment.created_at, Comment.id)
        ).all()
        for channel, remote_id, _parent, piece_id, name, handle, text, _at, _url in rows:
            slug = slugs.get(piece_id or "")
            # the site shows words by someone: a picture-only comment has nothing to show
            if (
                slug
                and piece_id not in retracted
                and text.strip()
                and (name or handle or "").strip()
            ):
                visible[(channel, remote_id)] = slug
        for channel, remote_id, parent, _piece, name, handle, text, at, url in rows:
            slug = visible.get((channel, remote_id))
            if slug is None:
                continue
            shown.setdefault(slug, []).append(
                {
                    "id": f"{channel}:{remote_id}",
                    "parent": f"{channel}:{parent}"
                    if parent and (channel, parent) in visible
                    else None,
                    "channel": channel,
                    "author": name or handle or "",
                    "text": text,
                    "created_at": at.isoformat(timespec="seconds"),
                    "url": url,
                    "ours": False,
                }
            )
        ours = str(site.settings.get("SITENAME") or "").strip() or "dialogpress"
        replies = session.execute(
            select(
                Comment.channel,
                Comment.remote_id,
                CommentReply.remote_id,
                CommentReply.text,
                CommentReply.posted_at,
                CommentReply.remote_url,
            )
            .join(Comment, Comment.id == CommentReply.comment_id)
            .where(CommentReply.status == ReplyStatus.SENT.value, shown_comment)
            .order_by(CommentReply.posted_at, CommentReply.id)
        )
        for channel, answered, reply_id, text, posted_at, url in replies:
            slug = visible.get((channel, answered))
            if slug is None or posted_at is None or reply_id is None:
                continue
            shown[slug].append(
                {
                    "id": f"{channel}:{reply_id}",
                    "parent": f"{channel}:{answered}",
                    "channel": channel,
                    "author": ours,
                    "text": text,
                    "created_at": posted_at.isoformat(timespec="seconds"),
                    "url": url,
                    "ours": True,
                }
            )
    return {
        slug: sorted(entries, key=lambda entry: (entry["created_at"], entry["id"]))
        for slug, entries in sorted(shown.items())
    }


def write_site_data(site: Site, store: Store, now: datetime) -> Path:
    """Write the data file atomically; an unchanged file is left alone (no rebuild noise)."""
    path = data_path(site.settings)
    data = site_data(site, store)
    text = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".site-data-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temp, path)
    logger.info("site data written to %s at %s", path, now.isoformat(timespec="seconds"))
    return path
