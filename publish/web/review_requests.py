"""Review requests in the desk: editors send a branch to client approvers and see what
they decided (the desk's side of the notifications; the other side is e-mail)."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from editorial.approvals import find_approver, portal_signer
from publish.review import requests as reviews
from publish.review.portal import PortalError
from publish.review.requests import ReviewError
from publish.web import access
from publish.web.i18n import _, ngettext
from publish.web.state import current_role, current_user, desk

logger = logging.getLogger(__name__)

blueprint = Blueprint("review_requests", __name__)


def _approvers() -> list[dict[str, str]]:
    settings = desk().settings
    signer = portal_signer(settings)
    found = []
    for email in signer.approvers if signer else ():
        approver = find_approver(settings, email)
        if approver is not None:
            found.append({"email": approver.email, "name": approver.name})
    return found


def _page(problem: str | None = None, status: int = 200, form: dict[str, Any] | None = None
          ) -> tuple[str, int]:
    state = desk()
    branches: list[str] = []
    branch_problem = None
    if current_role() in access.REQUEST_REVIEW:
        try:
            branches = state.portal().branches()
        except PortalError as exc:
            branch_problem = str(exc)
    with state.store.transaction() as session:
        summaries = reviews.list_reviews(session)
        session.expunge_all()
    return render_template(
        "reviews.html",
        summaries=summaries,
        branches=branches,
        branch_problem=branch_problem,
        approvers=_approvers(),
        problem=problem,
        form=form or {"base": "main"},
    ), status


@blueprint.route("/reviews")
@access.requires(access.READ_REVIEWS)
def index() -> tuple[str, int]:
    return _page()


@blueprint.route("/reviews", methods=["POST"])
@access.requires(access.REQUEST_REVIEW)
def create() -> BaseResponse | tuple[str, int]:
    state = desk()
    branch = request.form.get("branch", "").strip()
    base = request.form.get("base", "").strip() or "main"
    approvers = request.form.getlist("approver")
    note = request.form.get("note", "")
    form = {"branch": branch, "base": base, "approvers": approvers, "note": note}
    if not branch:
        return _page(_("Choose the branch to review."), 422, form)
    try:
        outcome = state.portal().request_review(
            state.store,
            branch=branch,
            base=base,
            approvers=approvers,
            requested_by=current_user().email,
            note=note,
            now=state.now(),
        )
    except (ReviewError, PortalError) as exc:
        return _page(_("No review was requested: %(why)s", why=exc), 422, form)
    message = ngettext(
        "Review %(id)s of %(branch)s: %(num)s piece; link sent to %(to)s.",
        "Review %(id)s of %(branch)s: %(num)s pieces; link sent to %(to)s.",
        len(outcome.pieces), id=outcome.review_id, branch=outcome.branch,
        to=", ".join(outcome.sent) or _("nobody"),
    )
    for approver, problem in outcome.unsent.items():
        message += " " + _("Not sent to %(who)s: %(why)s", who=approver, why=problem)
    flash(message)
    return redirect(url_for("review_requests.index"))
