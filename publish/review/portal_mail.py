"""The approval portal's mail: the invitation with an approver's single-use link, and the
notice to the editor of what the approver decided."""

from __future__ import annotations

from typing import TYPE_CHECKING

from editorial import i18n
from publish.notify.mail import Message
from publish.store.models import ReviewRequest

if TYPE_CHECKING:
    from publish.review.portal import Portal


def invitation(
    portal: Portal, review: ReviewRequest, approver: str, token: str, count: int, requester: str
) -> Message:
    site_name = str(portal.settings.get("SITENAME", "dialogpress"))
    days = portal.options.link_days
    url = portal.link_url(review.id, token)
    note = f"\n{review.note}\n" if review.note else ""
    lang = portal.mail_language(approver)
    text = (
        i18n.translate(lang, "Hello %(name)s,") % {"name": portal.approver_name(approver)}
        + "\n\n"
        + i18n.translate_plural(
            lang,
            "%(who)s asks you to approve %(num)s piece for %(site)s.",
            "%(who)s asks you to approve %(num)s pieces for %(site)s.",
            count,
        ) % {"who": requester, "num": count, "site": site_name}
        + f"\n{note}\n"
        + i18n.translate_plural(
            lang,
            "Open the preview with this link (for you only, once, valid for %(num)s day):",
            "Open the preview with this link (for you only, once, valid for %(num)s days):",
            days,
        ) % {"num": days}
        + f"\n\n{url}\n\n"
        + i18n.translate(
            lang,
            "There you see every piece as it appears on the website, on X and on "
            "Facebook, and can approve it or ask for changes.",
        )
        + "\n"
    )
    return Message(
        to=approver,
        subject=i18n.translate(lang, "Approval requested: %(site)s") % {"site": site_name},
        text=text,
        reply_to=requester if "@" in requester else None,
    )


def decision_notice(
    portal: Portal, review: ReviewRequest, approver: str, decision: str, pieces: list[str],
    comment: str | None,
) -> Message | None:
    if "@" not in review.requested_by:
        return None
    who = portal.approver_name(approver)
    lang = portal.mail_language(review.requested_by)
    values = {"who": who, "address": approver, "pieces": ", ".join(pieces)}
    if decision == "approved":
        subject = i18n.translate(lang, "Approved: %(pieces)s") % values
        text = i18n.translate(lang, "%(who)s (%(address)s) approved in the portal:") % values
    else:
        subject = i18n.translate(lang, "Changes requested: %(pieces)s") % values
        text = i18n.translate(lang, "%(who)s (%(address)s) asks for changes:") % values
    text += "\n" + "".join(f"- {piece}\n" for piece in pieces)
    if comment:
        text += "\n" + i18n.translate(lang, "“%(comment)s”") % {"comment": comment} + "\n"
    text += "\n" + i18n.translate(lang, "Review %(id)s, branch %(branch)s.") % {
        "id": review.id, "branch": review.branch,
    } + "\n"
    return Message(to=review.requested_by, subject=subject, text=text, reply_to=approver)
