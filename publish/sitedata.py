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

from sqlalchemy import select

from editorial import sitedata_file
from editorial.pieces import Site
from publish.store import Store, audit, ledger
from publish.store.models import Comment, CommentReply, CommentState, ReplyStatus, Status

logger = logging.getLogger(__name__)

DEFAULT_PATH = sitedata_file.DEFAULT_PATH


def data_path(settings: dict[str, Any]) -> Path:
    """Where the data file lives: ``SITE_DATA`` below the site root, where plugins look."""
    return sitedata_file.data_path(settings)


def site_data(site: Site, store: Store) -> dict[str, Any]:
    """What the site shows from the store, keyed so that plugins need no piece model."""
    shared: dict[str, list[dict[str, str]]] = {}
    retracted: list[str] = []
    with store.transaction() as session:
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
    """Approved, visible comments and our sent replies to them, by the post slug they are under."""
    slugs = {snippet.id: snippet.post for snippet in site.snippets if snippet.post}
    shown: dict[str, list[dict[str, Any]]] = {}
    with store.transaction() as session:
        comments = list(
            session.scalars(
                select(Comment)
                .where(
                    Comment.state == CommentState.APPROVED.value,
                    Comment.gone_at.is_(None),
                    Comment.kind == "reply",
                )
                .order_by(Comment.created_at, Comment.id)
            )
        )
        visible = {
            (c.channel, c.remote_id): c
            for c in comments
            if not c.erased
            and c.piece_id not in retracted
            and slugs.get(c.piece_id or "")
            # the site shows words by someone: a picture-only comment has nothing to show
            and c.text.strip()
            and (c.author_name or c.author_handle or "").strip()
        }
        ours = str(site.settings.get("SITENAME") or "").strip() or "dialogpress"
        replies = session.scalars(
            select(CommentReply)
            .where(
                CommentReply.status == ReplyStatus.SENT.value,
                CommentReply.comment_id.in_([c.id for c in visible.values()]),
            )
            .order_by(CommentReply.posted_at, CommentReply.id)
        ).all()
        by_id = {c.id: c for c in visible.values()}
        for comment in visible.values():
            parent = comment.parent_remote_id
            shown.setdefault(slugs[comment.piece_id or ""], []).append(
                {
                    "id": f"{comment.channel}:{comment.remote_id}",
                    "parent": f"{comment.channel}:{parent}"
                    if parent and (comment.channel, parent) in visible
                    else None,
                    "channel": comment.channel,
                    "author": comment.author_name or comment.author_handle or "",
                    "text": comment.text,
                    "created_at": comment.created_at.isoformat(timespec="seconds"),
                    "url": comment.permalink,
                    "ours": False,
                }
            )
        for reply in replies:
            answered = by_id[reply.comment_id]
            if reply.posted_at is None or reply.remote_id is None:
                continue
            shown[slugs[answered.piece_id or ""]].append(
                {
                    "id": f"{answered.channel}:{reply.remote_id}",
                    "parent": f"{answered.channel}:{answered.remote_id}",
                    "channel": answered.channel,
                    "author": ours,
                    "text": reply.text,
                    "created_at": reply.posted_at.isoformat(timespec="seconds"),
                    "url": reply.remote_url,
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
