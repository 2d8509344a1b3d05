"""The data file through which the store reaches the site: written before each build.

Plugins never open the store (a plain ``pelican`` build needs no database and no
credentials); what the site shows from it — where each post was shared, which pieces
were retracted, the approved comments and our replies — is written here as JSON, and
the plugins read that file. Comments carry the display name only: never a handle's
contact data, and erased or hidden comments are left out, so a build after ``forget``
has no trace of them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, or_, select

from editorial import sitedata_file
from editorial.pieces import Site
from publish.store import Store
from publish.store.models import (
    ERASED_REASONS,
    AuditEvent,
    Comment,
    CommentReply,
    CommentState,
    LedgerEntry,
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
    by_piece: dict[str, list[tuple[str, str]]] = {}  # piece → (channel, url), in ledger order
    with store.read() as session:
        for piece_id, channel, url in session.execute(
            select(LedgerEntry.piece_id, LedgerEntry.channel, LedgerEntry.remote_url)
            .where(
                LedgerEntry.status == Status.POSTED.value,
                LedgerEntry.part_index == 0,
                LedgerEntry.remote_url.is_not(None),
            )
            .order_by(LedgerEntry.created_at, LedgerEntry.id)
        ):
            by_piece.setdefault(str(piece_id), []).append((str(channel), str(url)))
        retracted = [
            str(subject)
            for subject in session.scalars(
                select(AuditEvent.subject_id)
                .where(AuditEvent.subject_type == "piece", AuditEvent.action == "piece.retracted")
                .order_by(AuditEvent.id)
            )
        ]
    for snippet in site.snippets:
        if not snippet.post:
            continue
        for channel, url in by_piece.get(snippet.id, ()):
            links = shared.setdefault(snippet.post, [])
            if all(link["url"] != url for link in links):
                links.append({"channel": channel, "url": url, "piece": snippet.id})
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


def render(data: dict[str, Any]) -> str:
    """The file's text: ``json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)``
    and a newline, byte for byte, but each comment written with the C string encoder.

    Python's ``json`` falls back to its pure-Python encoder whenever ``indent`` is set,
    which at hundreds of thousands of comments took longer than reading them; the layout
    here is the one that encoder makes (the tests compare the two).
    """
    comments: dict[str, list[dict[str, Any]]] = data["comments"]
    if comments:
        blocks = []
        for slug in sorted(comments):
            entries = ",\n".join(_entry(entry) for entry in comments[slug])
            blocks.append(f"    {_dumps(slug)}: [\n{entries}\n    ]")
        shown = "{\n" + ",\n".join(blocks) + "\n  }"
    else:
        shown = "{}"
    rest = {key: value for key, value in data.items() if key != "comments"}
    parts = [f"  {_dumps('comments')}: {shown}"] + [
        f"  {_dumps(key)}: " + _nested(value) for key, value in sorted(rest.items())
    ]
    return "{\n" + ",\n".join(sorted(parts, key=_key_of)) + "\n}\n"


def _key_of(part: str) -> str:
    return str(json.loads(part.split(": ", 1)[0]))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _nested(value: Any) -> str:
    """``value`` as it stands one level down: JSON strings hold no raw line breaks, so
    indenting every line break by two spaces is indenting the block."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True).replace("\n", "\n  ")


def _entry(entry: dict[str, Any]) -> str:
    fields = ",\n".join(f"        {_dumps(key)}: {_dumps(entry[key])}" for key in sorted(entry))
    return "      {\n" + fields + "\n      }" if entry else "      {}"


def _stamp(site: Site, store: Store) -> dict[str, Any]:
    """What the data file depends on, each part one step down an index (migration 0009):
    the newest change of comments, our replies and the ledger, the newest audit event
    (every decision, retraction and sent reply writes one), and which post each
    snippet belongs to. Equal stamps mean an equal file."""
    stamp: dict[str, Any] = {"format": 1}
    with store.read() as session:
        for name, table in (
            ("comments", Comment),
            ("replies", CommentReply),
            ("ledger", LedgerEntry),
        ):
            newest, last = session.execute(
                select(func.max(table.updated_at), func.max(table.id))
            ).one()
            stamp[name] = [newest.isoformat() if newest else None, last]
        stamp["audit"] = session.scalar(select(func.max(AuditEvent.id)))
    pieces = sorted((snippet.id, snippet.post) for snippet in site.snippets if snippet.post)
    stamp["site"] = hashlib.sha256(
        json.dumps([str(site.settings.get("SITENAME") or ""), pieces]).encode()
    ).hexdigest()
    return stamp


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".stamp")


def _file_id(path: Path) -> list[int] | None:
    """Size and modification time: a file changed by anyone else is written again."""
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return [found.st_size, found.st_mtime_ns]


def _fresh(path: Path, stamp: dict[str, Any]) -> bool:
    """Whether the file was written for ``stamp`` and nobody touched it since."""
    try:
        kept = json.loads(_stamp_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(kept, dict)
        and kept.get("stamp") == stamp
        and kept.get("file") == _file_id(path) is not None
    )


def refresh_site_data(site: Site, store: Store, now: datetime) -> bool:
    """Write the data file if the store or the site's posts changed since it was last
    written; True when its content changed.

    A tick calls this before the build and again after sync and posting: when nothing
    changed in between (or since the last tick), the second call — and an idle tick's
    first — costs a handful of index look-ups instead of reading every approved comment.
    The stamp sits beside the file (``<file>.stamp``); without it, or when the file was
    changed by anyone else, the data are computed in full.

    Limit: a change is seen through ``updated_at`` and the audit trail; a change written
    with a clock that runs behind the last one *and* without an audit event would wait
    for the next change to show (every change in dialogpress is audited).
    """
    path = data_path(site.settings)
    stamp = _stamp(site, store)
    if _fresh(path, stamp):
        return False
    text = render(site_data(site, store))
    changed = True
    if _file_id(path) is not None and path.stat().st_size == len(text.encode("utf-8")):
        changed = path.read_text(encoding="utf-8") != text
    if changed:
        _replace(path, text)
        logger.info("site data written to %s at %s", path, now.isoformat(timespec="seconds"))
    _replace(_stamp_path(path), json.dumps({"stamp": stamp, "file": _file_id(path)}) + "\n")
    return changed


def _replace(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=".site-data-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(text)
    os.replace(temp, path)


def write_site_data(site: Site, store: Store, now: datetime) -> Path:
    """Write the data file atomically when it is out of date; an unchanged file is left
    alone (no rebuild noise). See :func:`refresh_site_data`."""
    refresh_site_data(site, store, now)
    return data_path(site.settings)
