"""The approval portal: client approvers review and approve a branch through a magic link.

They have no account: the link (single-use, see :mod:`publish.review.requests`) starts a portal
session in their browser, bound to them and to the one review; its cookie is named per
review, so two reviews can be open side by side. Forms carry CSRF tokens bound to that
session. The work on the branch is :mod:`publish.review.portal`'s; this module speaks HTTP.
"""

from __future__ import annotations

import logging
import mimetypes
from datetime import timedelta
from pathlib import Path

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from werkzeug.security import safe_join
from werkzeug.wrappers import Response as BaseResponse

from publish.review import requests as reviews
from publish.review.portal import PortalError
from publish.review.portal_view import ReviewView
from publish.review.portal_writes import ContentChanged
from publish.store.models import ReviewLink, ReviewRequest
from publish.web import access
from publish.web.i18n import _
from publish.web.state import desk, set_cookie

logger = logging.getLogger(__name__)

blueprint = Blueprint("portal", __name__, url_prefix="/portal")

# what a preview page may do inside the review page: show itself, nothing more. Same
# origin, so that its stylesheet and pictures come with the portal's cookie; no scripts,
# no forms, no popups, no navigating the review page
PREVIEW_POLICY = (
    "sandbox allow-same-origin; default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; font-src 'self'; script-src 'none'; "
    "frame-ancestors 'self'; form-action 'none'"
)


def cookie_name(review_id: int) -> str:
    prefix = "__Host-" if desk().options.secure_cookies else ""
    return f"{prefix}dp-portal-{review_id}"


def _refused(problem: str, status: int) -> tuple[str, int]:
    return render_template("portal_refused.html", problem=problem), status


def _current(review_id: int) -> tuple[ReviewRequest, ReviewLink] | None:
    state = desk()
    with state.store.transaction() as session:
        link = reviews.portal_link(
            session, review_id, request.cookies.get(cookie_name(review_id)), state.now()
        )
        review = reviews.get_review(session, review_id) if link is not None else None
        if link is None or review is None:
            return None
        session.expunge_all()
    return review, link


@blueprint.route("/<int:review_id>/<token>", methods=["GET", "POST"])
@access.public()
def open_link(review_id: int, token: str) -> BaseResponse | tuple[str, int] | str:
    """GET shows whom the link is for (mail scanners fetch links: that uses up nothing);
    the button's POST uses the link up and starts the portal session."""
    state = desk()
    now = state.now()
    try:
        with state.store.transaction() as session:
            if request.method == "GET":
                link = reviews.check_link(session, review_id, token, now)
                review = reviews.get_review(session, review_id)
                count = len(reviews.review_pieces(session, review_id))
                name = state.portal().approver_name(link.approver)
                return render_template(
                    "portal_welcome.html", name=name, review=review, count=count,
                    expires=link.expires_at,
                )
            lifetime = timedelta(hours=state.portal().options.session_hours)
            link, session_token = reviews.open_link(session, review_id, token, now, lifetime)
    except reviews.LinkRefused as exc:
        opened = _current(review_id) if exc.reason == "used" else None
        if opened is not None and opened[1].token_hash == reviews.digest(token):
            # the approver clicks their link again in the browser that opened it
            return redirect(url_for("portal.review", review_id=review_id))
        logger.warning("portal: link for review %s refused: %s", review_id, exc.reason)
        return _refused(_(str(exc)), 410 if exc.reason in ("used", "expired") else 404)
    response = redirect(url_for("portal.review", review_id=review_id))
    seconds = int(lifetime.total_seconds())
    set_cookie(response, cookie_name(review_id), session_token, max_age=seconds)
    return response


def _view(review: ReviewRequest, link: ReviewLink) -> ReviewView:
    state = desk()
    with state.store.transaction() as session:
        rows = reviews.review_pieces(session, review.id)
        session.expunge_all()
    return state.portal().view(review, rows, link.approver)


def _page(
    review: ReviewRequest, link: ReviewLink, problem: str | None = None,
    changed: list[str] | None = None, status: int = 200,
) -> tuple[str, int]:
    state = desk()
    try:
        view = _view(review, link)
    except PortalError as exc:
        logger.error("portal: review %s cannot be shown: %s", review.id, exc)
        return _refused(_("The review cannot be shown right now: %(why)s", why=exc), 503)
    return render_template(
        "portal_review.html",
        review=review,
        view=view,
        approver=link.approver,
        name=state.portal().approver_name(link.approver),
        problem=problem,
        changed=set(changed or []),
    ), status


@blueprint.route("/<int:review_id>")
@access.public()
def review(review_id: int) -> tuple[str, int]:
    found = _current(review_id)
    if found is None:
        return _refused(
            _(
                "This review is open only through your personal link, in the browser where "
                "you opened it. Ask the agency for a new link if yours has been used or has "
                "expired."
            ),
            403,
        )
    return _page(*found)


def _shown() -> dict[str, str]:
    """The pieces a form approves, each with the version the page showed."""
    pieces = request.form.getlist("piece")
    hashes = request.form.getlist("hash")
    if not pieces or len(pieces) != len(hashes):
        abort(400, _("The form named no piece to approve."))
    return dict(zip(pieces, hashes, strict=True))


@blueprint.route("/<int:review_id>/approve", methods=["POST"])
@access.public()
def approve(review_id: int) -> BaseResponse | tuple[str, int]:
    found = _current(review_id)
    if found is None:
        return _refused(_("Your portal session has ended; open your link again."), 403)
    review_row, link = found
    state = desk()
    shown = _shown()
    allowed = _review_pieces(review_id)
    if not set(shown) <= allowed:
        abort(400, _("The form named a piece that is not part of this review."))
    now = state.now()
    portal = state.portal()
    try:
        sha, approved = portal.approve(review_row, link, shown, now)
    except ContentChanged as exc:
        logger.info("portal: review %s: %s changed before approval", review_id, exc.pieces)
        return _page(
            review_row, link, changed=exc.pieces, status=409,
            problem=_(
                "The text changed after the page was shown, so nothing was approved. "
                "Please read the new version below and approve again."
            ),
        )
    except PortalError as exc:
        logger.error("portal: approval in review %s failed: %s", review_id, exc)
        return _page(review_row, link, problem=_("Nothing was approved: %(why)s", why=exc),
                     status=422)
    with state.store.transaction() as session:
        for piece in approved:
            reviews.record_decision(session, link, piece, shown[piece], "approved", None, sha, now)
    if approved:
        _notify(review_row, link, "approved", approved, None)
    return redirect(url_for("portal.review", review_id=review_id, done="approved"))


@blueprint.route("/<int:review_id>/changes", methods=["POST"])
@access.public()
def changes(review_id: int) -> BaseResponse | tuple[str, int]:
    found = _current(review_id)
    if found is None:
        return _refused(_("Your portal session has ended; open your link again."), 403)
    review_row, link = found
    state = desk()
    piece = request.form.get("piece", "")
    shown_hash = request.form.get("hash", "")
    comment = request.form.get("comment", "").strip()
    if piece not in _review_pieces(review_id) or not shown_hash:
        abort(400, _("The form named a piece that is not part of this review."))
    if not comment:
        return _page(review_row, link, problem=_("Please say what should change."),
                     status=422)
    now = state.now()
    try:
        sha = state.portal().request_changes(review_row, link, piece, shown_hash, comment, now)
    except (PortalError, ContentChanged) as exc:
        logger.error("portal: change request in review %s failed: %s", review_id, exc)
        return _page(review_row, link, problem=_("Your comment was not saved: %(why)s", why=exc),
                     status=422)
    with state.store.transaction() as session:
        reviews.record_decision(
            session, link, piece, shown_hash, "changes_requested", comment, sha, now
        )
    _notify(review_row, link, "changes_requested", [piece], comment)
    return redirect(url_for("portal.review", review_id=review_id, done="changes"))


def _review_pieces(review_id: int) -> set[str]:
    with desk().store.transaction() as session:
        return {row.piece for row in reviews.review_pieces(session, review_id)}


def _notify(
    review_row: ReviewRequest, link: ReviewLink, decision: str, pieces: list[str],
    comment: str | None,
) -> None:
    """Tell the editor who asked; a mail that fails is logged, the decision stands."""
    portal = desk().portal()
    message = portal.decision_notice(review_row, link.approver, decision, pieces, comment)
    if message is None:
        return
    try:
        portal.mailer().send(message)
    except Exception as exc:  # the decision is in git and the store; the desk shows it
        logger.error("portal: notice to %s not sent: %s", message.to, exc)


@blueprint.route("/<int:review_id>/preview/<sha>/<path:name>")
@access.public()
def preview(review_id: int, sha: str, name: str) -> Response:
    """A file of the branch's preview build, for the approver or a logged-in editor."""
    found = _current(review_id)
    if found is None and (g.get("role") not in access.READ_REVIEWS):
        abort(403, _("This preview is open only through the review's link."))
    if not sha.isalnum() or len(sha) > 64:
        abort(404)
    portal = desk().portal()
    with desk().store.transaction() as session:
        review_row = reviews.get_review(session, review_id)
        branch = review_row.branch if review_row is not None else None
    if branch is None or not portal.belongs(branch, sha):
        abort(404, _("There is no such preview in this review."))
    folder = portal.previews / sha
    path = safe_join(str(folder), name)
    if path is None or not Path(path).is_file():
        abort(404, _("There is no such page in the preview."))
    if not _inside(Path(path), folder):
        logger.warning("portal: review %s: preview file %s leads outside the preview; "
                       "not served", review_id, name)
        abort(404, _("There is no such page in the preview."))
    kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
    response = Response(Path(path).read_bytes(), mimetype=kind)
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


def _inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is a file of ``folder`` itself: no link on the way leads out."""
    try:
        return path.resolve(strict=True).is_relative_to(folder.resolve(strict=True)) and not any(
            part.is_symlink() for part in [path, *path.parents] if part.is_relative_to(folder)
        )
    except OSError:
        return False
