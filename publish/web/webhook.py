"""Facebook's webhook: comments on the Page arrive at once instead of at the next sync.

``GET`` answers the subscription handshake: ``hub.verify_token`` must equal
``DP_FACEBOOK_VERIFY_TOKEN``, and the reply is ``hub.challenge``. ``POST`` carries
events; ``X-Hub-Signature-256`` must be the HMAC-SHA256 of the raw body under the app
secret (``DP_FACEBOOK_APP_SECRET``), compared in constant time, else the request is
refused (403) and logged. A ``feed`` change with ``item: comment`` and ``verb: add`` or
``edited`` goes through :func:`publish.moderation.sync.ingest`, keyed by (channel, comment id), so
the comment is in the inbox once, however often Facebook retries and whether or not
sync fetches it later. Removals and edits of known comments are left to sync, which
re-reads recent conversations and applies them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, abort, request
from sqlalchemy import select

from publish.moderation import sync
from publish.posting.channels import RemoteComment
from publish.settings import channel_settings
from publish.store.models import LedgerEntry
from publish.web import access
from publish.web.state import desk

logger = logging.getLogger(__name__)
# Once Pelican is imported, loggers made afterwards carry its filter that drops a warning
# seen before in the process; every refused webhook event must be logged, so not here.
for _limit in [f for f in logger.filters if type(f).__name__ == "LimitFilter"]:
    logger.removeFilter(_limit)

blueprint = Blueprint("webhook", __name__)

CHANNEL = "facebook"
SIGNATURE_HEADER = "X-Hub-Signature-256"


def signature(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Facebook sends for ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


@blueprint.route("/webhooks/facebook", methods=["GET"])
@access.public()
def handshake() -> Response:
    expected = desk().verify_token
    mode = request.args.get("hub.mode")
    presented = request.args.get("hub.verify_token", "")
    if (
        expected is None
        or mode != "subscribe"
        or not hmac.compare_digest(expected.encode(), presented.encode())
    ):
        logger.warning("facebook webhook handshake refused from %s", request.remote_addr)
        abort(403, "The verify token does not match.")
    return Response(request.args.get("hub.challenge", ""), mimetype="text/plain")


@blueprint.route("/webhooks/facebook", methods=["POST"])
@access.public(csrf=False)
def events() -> Response:
    state = desk()
    body = request.get_data(cache=False)
    presented = request.headers.get(SIGNATURE_HEADER, "")
    if state.app_secret is None:
        logger.error("facebook webhook event refused: DP_FACEBOOK_APP_SECRET is not set")
        abort(403, "The webhook is not configured.")
    expected = signature(state.app_secret, body).encode("ascii")
    # as bytes: a header with non-ASCII characters is a wrong signature, not a 500
    if not hmac.compare_digest(expected, presented.encode("utf-8", "surrogateescape")):
        logger.warning(
            "facebook webhook event refused from %s: wrong or missing %s",
            request.remote_addr,
            SIGNATURE_HEADER,
        )
        abort(403, "The signature does not match.")
    try:
        payload = json.loads(body)
    except ValueError:
        abort(400, "The body is not JSON.")
    page_id = channel_settings(state.settings, CHANNEL).page_id or state.environ.get(
        "DP_FACEBOOK_PAGE_ID"
    )
    added = 0
    for remote in comments(payload, page_id, state.now()):
        result = sync.ingest(
            state.store,
            state.guideline,
            CHANNEL,
            remote,
            state.now(),
            post_slug=_post_slug(remote.post_id),
        )
        added += int(result.created)
    logger.info("facebook webhook: %s new comment(s)", added)
    return Response("ok", mimetype="text/plain")


def _post_slug(post_id: str) -> str | None:
    """The slug of the blog post a snippet links to, as sync records it, so that the
    comment shows under that post on the site."""
    state = desk()
    with state.store.transaction() as session:
        piece_id = session.scalars(
            select(LedgerEntry.piece_id).where(
                LedgerEntry.channel == CHANNEL, LedgerEntry.remote_id == post_id
            )
        ).first()
    if piece_id is None:
        return None
    snippet = next((s for s in state.site().snippets if s.id == piece_id), None)
    return snippet.post if snippet is not None and snippet.post else None


def comments(payload: Any, page_id: str | None, now: datetime) -> list[RemoteComment]:
    """The new or edited comments in a Graph webhook payload of the Page ``page_id``.

    Comments by the Page itself (our replies) are left out, as sync leaves them out.
    """
    found: list[RemoteComment] = []
    if not isinstance(payload, dict) or payload.get("object") != "page":
        return found
    for entry in payload.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        if page_id is not None and str(entry.get("id")) != page_id:
            logger.warning("facebook webhook: event for page %s ignored", entry.get("id"))
            continue
        for change in entry.get("changes") or []:
            remote = _comment(change, page_id, now)
            if remote is not None:
                found.append(remote)
    return found


def _comment(change: Any, page_id: str | None, now: datetime) -> RemoteComment | None:
    if not isinstance(change, dict) or change.get("field") != "feed":
        return None
    value = change.get("value")
    if not isinstance(value, dict) or value.get("item") != "comment":
        return None
    if value.get("verb") not in ("add", "edited"):
        return None
    author = value.get("from") or {}
    if page_id is not None and str(author.get("id")) == page_id:
        return None
    comment_id, post_id = value.get("comment_id"), value.get("post_id")
    if not comment_id or not post_id:
        return None
    created = value.get("created_time")
    try:
        created_at = datetime.fromtimestamp(int(str(created)), UTC)
    except ValueError:
        created_at = now
    return RemoteComment(
        remote_id=str(comment_id),
        parent_id=str(value.get("parent_id") or post_id),
        post_id=str(post_id),
        author_handle=str(author["id"]) if author.get("id") else None,
        author_name=author.get("name"),
        text=str(value.get("message") or ""),
        created_at=created_at,
        permalink=None,
    )
