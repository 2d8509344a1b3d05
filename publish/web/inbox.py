"""The inbox: comments to work on, one comment with its context, and the actions on it.

Every action form carries the state the moderator saw (``expected_state``), and
moderation refuses the change when the comment is no longer in it: when someone acted
first, the page says who and what, and nothing is overwritten. Replies are checked
against the guideline while they are typed (``/reply/check``) and again on submit; a
reply that needs no second person goes out at once, exactly once, through the ledger.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

# the desk decides, answers and forgets: those modules load with the desk, not on the
# first request that needs one (the package imports them on first use, issue 24)
import publish.moderation.decisions
import publish.moderation.privacy
import publish.moderation.replies  # noqa: F401
from editorial.checks import TextFinding
from editorial.length import measure
from editorial.personal_data import mask_personal_data
from publish import moderation
from publish.moderation import CommentView, ModerationError, NotAllowed, ReplyRefused
from publish.store.errors import Conflict, NotFound
from publish.store.models import CommentState, ReplyStatus
from publish.web import access
from publish.web.i18n import N_, _
from publish.web.state import current_user, desk

logger = logging.getLogger(__name__)

blueprint = Blueprint("inbox", __name__)

STATES = [state.value for state in CommentState]
DEFAULT_STATES = ["new", "escalated"]
ACTIONS = ("approve", "reject", "silence", "escalate", "resolve", "assign")
MASK_LANG = "en"


def masked(text: str | None) -> str:
    """A commenter's text or name with e-mail addresses and phone numbers masked: the
    desk shows no commenter's contact details either (the network's page has them)."""
    return mask_personal_data(text or "", MASK_LANG)


def _filters() -> dict[str, Any]:
    states = [s for s in request.args.getlist("state") if s in STATES] or DEFAULT_STATES
    return {
        "states": states,
        "channel": request.args.get("channel") or None,
        "category": request.args.get("category") or None,
        "overdue": request.args.get("overdue") == "1",
        "mine": request.args.get("mine") == "1",
    }


@blueprint.route("/inbox")
@access.requires(access.READ_INBOX)
def index() -> str:
    state = desk()
    chosen = _filters()
    now = state.now()
    after = request.args.get("after") or None
    try:
        page = moderation.inbox_page(
            state.store,
            states=chosen["states"],
            channel=chosen["channel"],
            category=chosen["category"],
            overdue_at=now if chosen["overdue"] else None,
            assigned_to=current_user().email if chosen["mine"] else None,
            after=after,
        )
    except ModerationError as exc:
        abort(400, str(exc))
    kept = [(key, value) for key, value in request.args.items(multi=True) if key != "after"]
    here = url_for("inbox.index")
    return render_template(
        "inbox.html",
        comments=page.comments,
        next_url=f"{here}?{urlencode([*kept, ('after', page.next_after)])}"
        if page.next_after
        else None,
        first_url=f"{here}?{urlencode(kept)}" if after else None,
        filters=chosen,
        states=STATES,
        channels=list(state.channel_names),
        categories=list(state.guideline.categories),
        masked=masked,
    )


def _comment_or_404(comment_id: int) -> CommentView:
    try:
        return moderation.show(desk().store, comment_id)
    except NotFound:
        abort(404, _("There is no comment %(id)s.", id=comment_id))


def _assignees() -> list[str]:
    state = desk()
    with state.store.read() as session:
        members = state.members(session)
    return [email for email, role in members if role in access.MODERATE]


def _page(
    comment: CommentView,
    *,
    status: int = 200,
    draft: str = "",
    findings: list[TextFinding] | None = None,
    problem: str | None = None,
) -> tuple[str, int]:
    state = desk()
    try:
        context = moderation.thread(state.store, comment.id)
    except NotFound:
        context = [comment]
    limit = state.guideline.channel(comment.channel).max_length
    page = render_template(
        "comment.html",
        comment=comment,
        thread=context,
        masked=masked,
        contacts=state.guideline.contacts,
        silent_reasons=moderation.SILENT_REASONS,
        assignees=_assignees(),
        sensitive=state.guideline.is_sensitive(comment.category),
        draft=draft,
        findings=findings or [],
        length=measure(draft, comment.channel, limit),
        problem=problem,
        post_url=_post_url(comment),
    )
    return page, status


def _post_url(comment: CommentView) -> str | None:
    """Where the post the conversation is about is on the public site."""
    if not comment.post_slug:
        return None
    return desk().post_urls().get(comment.post_slug)


@blueprint.route("/inbox/<int:comment_id>")
@access.requires(access.READ_INBOX)
def show(comment_id: int) -> tuple[str, int]:
    return _page(_comment_or_404(comment_id))


@blueprint.route(
    "/inbox/<int:comment_id>/<any(" + ", ".join(ACTIONS) + "):action>", methods=["POST"]
)
@access.requires(access.MODERATE)
def decide(comment_id: int, action: str) -> BaseResponse | tuple[str, int]:
    state = desk()
    comment = _comment_or_404(comment_id)
    actor = current_user().email
    form = request.form
    common: dict[str, Any] = {
        "actor": actor,
        "now": state.now(),
        "expected_state": form.get("expected_state") or None,
    }
    try:
        if action == "approve":
            moderation.approve(state.store, comment_id, **common)
        elif action == "reject":
            moderation.reject(state.store, comment_id, reason=form.get("reason") or None, **common)
        elif action == "silence":
            moderation.silence(state.store, comment_id, reason=form.get("reason", ""), **common)
        elif action == "escalate":
            moderation.escalate(
                state.store,
                comment_id,
                contact=form.get("contact") or None,
                guideline=state.guideline,
                **common,
            )
        elif action == "resolve":
            moderation.resolve(state.store, comment_id, **common)
        else:
            to = (form.get("to") or "").strip()
            if not to:
                return _page(comment, status=422, problem=_("Choose whom to assign it to."))
            moderation.assign(state.store, comment_id, to=to, **common)
    except Conflict as exc:
        logger.info("desk: %s of comment %s by %s lost: %s", action, comment_id, actor, exc)
        return _page(
            _comment_or_404(comment_id),
            status=409,
            problem=_("Someone acted first: %(why)s. Look at the comment as it is now.", why=exc),
        )
    except NotAllowed as exc:
        return _page(comment, status=422, problem=str(exc))
    flash(_("Comment %(id)s: %(done)s.", id=comment_id, done=_(_DONE[action])))
    return redirect(url_for("inbox.show", comment_id=comment_id))


_DONE = {
    "approve": N_("approved"),
    "reject": N_("rejected"),
    "silence": N_("marked silent"),
    "escalate": N_("escalated"),
    "resolve": N_("resolved"),
    "assign": N_("assigned"),
}


def _finding_dicts(findings: list[TextFinding]) -> list[dict[str, Any]]:
    return [
        {"rule": f.rule, "severity": f.severity, "message": f.message, "column": f.column}
        for f in findings
    ]


@blueprint.route("/inbox/<int:comment_id>/reply/check", methods=["POST"])
@access.requires(access.MODERATE)
def check(comment_id: int) -> BaseResponse:
    """The live check while a reply is typed: findings and the network's length."""
    state = desk()
    comment = _comment_or_404(comment_id)
    text = request.form.get("text", "")
    findings = moderation.check_reply(state.guideline, comment.channel, text) if text else []
    limit = state.guideline.channel(comment.channel).max_length
    length = measure(text, comment.channel, limit)
    return jsonify(
        {
            "findings": _finding_dicts(findings),
            "length": length.count,
            "limit": length.limit,
            "weighted": comment.channel == "twitter",
            "ok": not any(f.severity == "error" for f in findings) and length.excess == 0,
        }
    )


@blueprint.route("/inbox/<int:comment_id>/reply", methods=["POST"])
@access.requires(access.MODERATE)
def reply(comment_id: int) -> BaseResponse | tuple[str, int]:
    state = desk()
    comment = _comment_or_404(comment_id)
    text = request.form.get("text", "")
    actor = current_user().email
    try:
        written = moderation.reply(
            state.store, state.guideline, comment_id, text, actor=actor, now=state.now()
        )
    except ReplyRefused as exc:
        return _page(
            comment,
            status=422,
            draft=text,
            findings=exc.findings,
            problem=_("The reply was not sent: it breaks the guideline (see below)."),
        )
    except NotAllowed as exc:
        return _page(comment, status=422, draft=text, problem=str(exc))
    except Conflict as exc:
        return _page(
            _comment_or_404(comment_id),
            status=409,
            draft=text,
            problem=_("Someone acted first: %(why)s.", why=exc),
        )
    if written.status == ReplyStatus.PENDING:
        flash(_("The reply waits for a second person's approval (sensitive category)."))
    else:
        flash(_send(written.id))
    return redirect(url_for("inbox.show", comment_id=comment_id))


def _send(reply_id: int) -> str:
    """Send one queued reply now; what happened, for the page."""
    state = desk()
    channels, problems = state.channels()
    outcomes = moderation.send_replies(
        state.store, channels, state.now(), actor=current_user().email, reply_ids=[reply_id]
    )
    if not outcomes:
        return _("The reply is stored; it was sent already.")
    outcome = outcomes[0]
    if outcome.status in ("sent", "reconciled"):
        return _("The reply was sent: %(url)s", url=outcome.url)
    reason = outcome.message or problems.get(outcome.channel, "")
    return _("The reply is queued (%(status)s: %(why)s); the scheduler sends it.",
             status=outcome.status, why=reason)


@blueprint.route("/inbox/replies/<int:reply_id>/approve", methods=["POST"])
@access.requires(access.APPROVE_REPLY)
def approve_reply(reply_id: int) -> BaseResponse | tuple[str, int]:
    state = desk()
    comment_id = request.form.get("comment_id", type=int)
    try:
        approved = moderation.approve_reply(
            state.store, reply_id, actor=current_user().email, now=state.now()
        )
    except NotFound:
        abort(404, _("There is no reply %(id)s.", id=reply_id))
    except (Conflict, NotAllowed) as exc:
        if comment_id is None:
            abort(409, str(exc))
        return _page(_comment_or_404(comment_id), status=409, problem=str(exc))
    flash(_send(approved.id))
    if comment_id is None:
        return redirect(url_for("inbox.index"))
    return redirect(url_for("inbox.show", comment_id=comment_id))
