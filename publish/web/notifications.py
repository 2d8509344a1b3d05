"""The notifications in the desk: the same list as ``dialogpress notifications``.

Everyone signed in sees the notifications about posts, channels, tokens and reviews;
those about comments (escalations, response targets) quote what people wrote, so only the
roles that may read the inbox see them, as in the inbox itself.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from publish.notify.delivery import MEANINGS, listing
from publish.notify.events import URGENT
from publish.web import access
from publish.web.state import current_role, desk

blueprint = Blueprint("notifications", __name__)

# kinds that are about a comment, shown to the roles that read the inbox only
COMMENT_KINDS = URGENT


@blueprint.route("/notifications")
@access.requires(access.READ_NOTIFICATIONS)
def index() -> tuple[str, int]:
    status = request.args.get("status")
    if status not in MEANINGS:
        status = None
    rows = listing(desk().store, limit=200, status=status)
    if current_role() not in access.READ_INBOX:
        rows = [row for row in rows if row.kind not in COMMENT_KINDS]
    return render_template(
        "notifications.html", rows=rows, meanings=MEANINGS, status=status
    ), 200
