"""Review requests for the approval portal: the pieces asked about, magic links, decisions.

A client approver gets one link per review. It is bound to them and to the review,
single-use and expiring, and only its SHA-256 is stored, so a copy of the database
opens nothing. Opening it is two steps on purpose: the GET shows who the link is for
and a button; only the POST uses the link up (a conditional ``UPDATE … WHERE used_at
IS NULL`` with a row-count check) and starts a portal session in that browser. Mail
scanners that fetch every link in a message therefore cannot burn it.

What the approver decides is recorded here (with the commit it made on the branch) and
as an audit event, for the editors' list of reviews and their notifications; the
approval itself lives in the piece's front matter like every other.

The functions take a session and never commit; the caller's transaction does.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from editorial.approvals import ApprovalError, trust_root
from editorial.i18n import N_
from editorial.settings import Settings
from publish.store import audit
from publish.store.models import ReviewDecision, ReviewLink, ReviewPiece, ReviewRequest

logger = logging.getLogger(__name__)

SUBJECT = "review"
Decision = Literal["approved", "changes_requested"]
Refusal = Literal["unknown", "other-review", "used", "expired"]

# English; the portal shows them in the approver's language (editorial/locale)
_REFUSALS: dict[str, str] = {
    "unknown": N_("This link is not valid (perhaps it was not copied in full)."),
    "other-review": N_("This link belongs to another review."),
    "used": N_("This link has been used already; a link opens the review once."),
    "expired": N_("This link has expired."),
}


class ReviewError(Exception):
    """A review cannot be requested as asked (who, what); the message says why."""


class LinkRefused(Exception):
    """A magic link that opens nothing, and why (for the approver, without details)."""

    def __init__(self, reason: Refusal):
        super().__init__(_REFUSALS[reason])
        self.reason = reason


@dataclass(frozen=True)
class RequestedPiece:
    """A piece as the review asks about it: its id, the version (hash) and its title."""

    piece: str
    hash: str
    title: str | None


@dataclass(frozen=True)
class Invitation:
    """A link made for one approver; ``token`` exists only here and in their e-mail."""

    link_id: int
    approver: str
    token: str = field(repr=False)


@dataclass
class ReviewSummary:
    """One review for the editors: its pieces, each link's state and every decision."""

    review: ReviewRequest
    pieces: list[ReviewPiece]
    links: list[ReviewLink]
    decisions: list[ReviewDecision]

    def link_state(self, link: ReviewLink, now: datetime) -> str:
        if link.used_at is not None:
            return "opened"
        if link.expires_at <= now:
            return "expired"
        return "sent" if link.sent_at is not None else "not sent"

    def to_dict(self, now: datetime) -> dict[str, Any]:
        review = self.review
        return {
            "id": review.id,
            "branch": review.branch,
            "base": review.base,
            "head": review.head,
            "requested_by": review.requested_by,
            "requested_at": review.requested_at.isoformat(),
            "note": review.note,
            "pieces": [{"piece": p.piece, "hash": p.hash, "title": p.title} for p in self.pieces],
            "links": [
                {
                    "approver": link.approver,
                    "state": self.link_state(link, now),
                    "expires_at": link.expires_at.isoformat(),
                    "used_at": link.used_at.isoformat() if link.used_at else None,
                }
                for link in self.links
            ],
            "decisions": [
                {
                    "approver": d.approver,
                    "piece": d.piece,
                    "decision": d.decision,
                    "comment": d.comment,
                    "commit": d.commit,
                    "at": d.decided_at.isoformat(),
                }
                for d in self.decisions
            ],
        }


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_approvers(settings: Settings, emails: Iterable[str]) -> list[str]:
    """The approvers' e-mail addresses as the trust root spells them, each one the portal
    may sign for; a link to anyone else could only produce approvals that do not count."""
    try:
        trust = trust_root(settings)
    except ApprovalError as exc:
        raise ReviewError(str(exc)) from None
    signer = trust.portal
    if signer is None:
        raise ReviewError(
            f"{trust.describe()} has no portal: the portal may not sign for anyone, so a "
            "review link would be of no use"
        )
    found: list[str] = []
    for email in emails:
        approver = trust.find_approver(email)
        if approver is None:
            raise ReviewError(f"{email} is not an approver in {trust.describe()}")
        if not signer.may_sign_for(approver.email):
            raise ReviewError(
                f"the portal may not sign for {approver.email}: add them to portal.approvers "
                "in trust.yml (approved by the approvers) or let them approve with their own key"
            )
        if approver.email not in found:
            found.append(approver.email)
    if not found:
        raise ReviewError("name at least one approver (--to)")
    return found


def create_review(
    session: Session,
    *,
    branch: str,
    base: str,
    head: str,
    pieces: list[RequestedPiece],
    approvers: list[str],
    requested_by: str,
    note: str | None,
    now: datetime,
    link_lifetime: timedelta,
) -> tuple[ReviewRequest, list[Invitation]]:
    """A review of ``pieces`` (at commit ``head`` of ``branch``) and one link per approver."""
    if not pieces:
        raise ReviewError(
            f"{branch} changes no piece against {base}: there is nothing to review"
        )
    review = ReviewRequest(
        branch=branch,
        base=base,
        head=head,
        requested_by=requested_by,
        requested_at=now,
        note=(note or "").strip() or None,
    )
    session.add(review)
    session.flush()
    for piece in pieces:
        session.add(
            ReviewPiece(review_id=review.id, piece=piece.piece, hash=piece.hash, title=piece.title)
        )
    invitations = []
    for approver in approvers:
        token = secrets.token_urlsafe(32)
        link = ReviewLink(
            review_id=review.id,
            approver=approver,
            token_hash=digest(token),
            created_at=now,
            expires_at=now + link_lifetime,
        )
        session.add(link)
        session.flush()
        invitations.append(Invitation(link.id, approver, token))
    audit.record(
        session,
        requested_by,
        "review.requested",
        SUBJECT,
        str(review.id),
        {"branch": branch, "base": base, "head": head, "pieces": [p.piece for p in pieces],
         "approvers": approvers},
        now,
    )
    logger.info(
        "review %s of %s requested by %s for %s", review.id, branch, requested_by,
        ", ".join(approvers),
    )
    return review, invitations


def mark_sent(session: Session, link_id: int, now: datetime) -> None:
    session.execute(update(ReviewLink).where(ReviewLink.id == link_id).values(sent_at=now))


def _link(session: Session, review_id: int, token: str, now: datetime) -> ReviewLink:
    link = session.execute(
        select(ReviewLink).where(ReviewLink.token_hash == digest(token))
    ).scalar_one_or_none()
    if link is None:
        raise LinkRefused("unknown")
    if link.review_id != review_id:
        raise LinkRefused("other-review")
    if link.used_at is not None:
        raise LinkRefused("used")
    if link.expires_at <= now:
        raise LinkRefused("expired")
    return link


def check_link(session: Session, review_id: int, token: str, now: datetime) -> ReviewLink:
    """The link a token stands for, if it may still open ``review_id``; uses nothing up."""
    return _link(session, review_id, token, now)


def open_link(
    session: Session, review_id: int, token: str, now: datetime, lifetime: timedelta
) -> tuple[ReviewLink, str]:
    """Use the link up and start a portal session; returns the link and the session's token.

    Two browsers opening one link at the same moment: the conditional update lets
    exactly one of them in.
    """
    link = _link(session, review_id, token, now)
    session_token = secrets.token_urlsafe(32)
    statement = (
        update(ReviewLink)
        .where(
            ReviewLink.id == link.id,
            ReviewLink.review_id == review_id,
            ReviewLink.used_at.is_(None),
            ReviewLink.expires_at > now,
        )
        .values(
            used_at=now, session_hash=digest(session_token), session_expires_at=now + lifetime
        )
    )
    if cast(CursorResult[Any], session.execute(statement)).rowcount != 1:
        raise LinkRefused("used")
    session.refresh(link)
    audit.record(
        session, link.approver, "review.link_opened", SUBJECT, str(review_id),
        {"link": link.id}, now,
    )
    return link, session_token


def portal_link(
    session: Session, review_id: int, session_token: str | None, now: datetime
) -> ReviewLink | None:
    """The link whose portal session ``session_token`` is, while it lasts, for this review."""
    if not session_token:
        return None
    return session.execute(
        select(ReviewLink)
        .where(
            ReviewLink.session_hash == digest(session_token),
            ReviewLink.review_id == review_id,
            ReviewLink.session_expires_at > now,
        )
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def get_review(session: Session, review_id: int) -> ReviewRequest | None:
    return session.get(ReviewRequest, review_id)


def review_pieces(session: Session, review_id: int) -> list[ReviewPiece]:
    return list(
        session.scalars(
            select(ReviewPiece).where(ReviewPiece.review_id == review_id).order_by(ReviewPiece.id)
        )
    )


def record_decision(
    session: Session,
    link: ReviewLink,
    piece: str,
    content_hash: str,
    decision: Decision,
    comment: str | None,
    commit: str | None,
    now: datetime,
) -> ReviewDecision:
    """What the approver of ``link`` decided about ``piece``, with its audit event."""
    row = ReviewDecision(
        review_id=link.review_id,
        link_id=link.id,
        approver=link.approver,
        piece=piece,
        hash=content_hash,
        decision=decision,
        comment=comment,
        commit=commit,
        decided_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session, link.approver, f"review.{decision}", SUBJECT, str(link.review_id),
        {"piece": piece, "hash": content_hash, "commit": commit, "comment": comment,
         "via": "portal"},
        now,
    )
    return row


def decisions_of(session: Session, review_id: int) -> list[ReviewDecision]:
    return list(
        session.scalars(
            select(ReviewDecision)
            .where(ReviewDecision.review_id == review_id)
            .order_by(ReviewDecision.decided_at, ReviewDecision.id)
        )
    )


def latest_decisions(session: Session, limit: int = 5) -> list[ReviewDecision]:
    """The newest decisions of every review: what the dashboard tells the editors."""
    return list(
        session.scalars(
            select(ReviewDecision)
            .order_by(ReviewDecision.decided_at.desc(), ReviewDecision.id.desc())
            .limit(limit)
        )
    )


def list_reviews(session: Session, limit: int = 50) -> list[ReviewSummary]:
    """The newest reviews first, each with its pieces, links and decisions."""
    reviews = list(
        session.scalars(
            select(ReviewRequest).order_by(ReviewRequest.requested_at.desc(),
                                           ReviewRequest.id.desc()).limit(limit)
        )
    )
    summaries = []
    for review in reviews:
        links = list(
            session.scalars(
                select(ReviewLink).where(ReviewLink.review_id == review.id).order_by(ReviewLink.id)
            )
        )
        summaries.append(
            ReviewSummary(
                review, review_pieces(session, review.id), links, decisions_of(session, review.id)
            )
        )
    return summaries
