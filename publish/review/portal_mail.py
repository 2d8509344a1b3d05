"""The approval portal's mail: the invitation with an approver's single-use link, and the
notice to the editor of what the approver decided."""

from __future__ import annotations

from typing import TYPE_CHECKING

from publish.notify.mail import Message
from publish.store.models import ReviewRequest

if TYPE_CHECKING:
    from publish.review.portal import Portal


def invitation(
    portal: Portal, review: ReviewRequest, approver: str, token: str, count: int, requester: str
) -> Message:
    """The mail that brings an approver their single-use link (German first, then English)."""
    site_name = str(portal.settings.get("SITENAME", "dialogpress"))
    days = portal.options["link_days"]
    url = portal.link_url(review.id, token)
    note = f"\n{review.note}\n" if review.note else ""
    text = (
        f"Guten Tag {portal.approver_name(approver)},\n\n"
        f"{requester} bittet Sie um Freigabe von {count} Beitrag/Beiträgen für "
        f"{site_name}.\n{note}\n"
        f"Öffnen Sie die Vorschau mit diesem Link (nur für Sie, einmal gültig, "
        f"{days} Tage lang):\n\n{url}\n\n"
        "Dort sehen Sie jeden Beitrag, wie er auf der Website, auf X und auf Facebook "
        "erscheint, und können freigeben oder Änderungen erbitten.\n\n"
        "---\n"
        f"{requester} asks you to approve {count} piece(s) for {site_name}. Open the "
        f"preview with the link above (for you only, once, valid for {days} days).\n"
    )
    return Message(
        to=approver,
        subject=f"Freigabe erbeten / Approval requested: {site_name}",
        text=text,
        reply_to=requester if "@" in requester else None,
    )

def decision_notice(
    portal: Portal, review: ReviewRequest, approver: str, decision: str, pieces: list[str],
    comment: str | None,
) -> Message | None:
    """The mail that tells the editor who requested the review what an approver decided
    (None when the requester has no e-mail address)."""
    if "@" not in review.requested_by:
        return None
    who = portal.approver_name(approver)
    if decision == "approved":
        subject = f"Freigegeben / Approved: {', '.join(pieces)}"
        text = f"{who} ({approver}) hat im Portal freigegeben / approved in the portal:\n"
    else:
        subject = f"Änderungen erbeten / Changes requested: {', '.join(pieces)}"
        text = f"{who} ({approver}) bittet um Änderungen / asks for changes:\n"
    text += "".join(f"- {piece}\n" for piece in pieces)
    if comment:
        text += f"\n„{comment}“\n"
    text += f"\nReview {review.id}, branch {review.branch}.\n"
    return Message(to=review.requested_by, subject=subject, text=text, reply_to=approver)
