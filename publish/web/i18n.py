"""The desk's and the portal's language: German or English, per request.

The language is the browser's (``Accept-Language``, best first, among German and English),
else the site's ``DEFAULT_LANG``. Desk accounts have no language setting of their own (yet):
the browser's preference is what a person set once for every site, so it is asked first.

Templates mark their words with ``_()``/``ngettext()`` (Jinja's i18n extension, new
style: ``_("%(n)s posts", n=3)``); Python code uses :func:`_` for what it flashes or
puts on a page. :func:`install` registers all of it on the application in one call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, g, has_request_context, request

from editorial import i18n
from editorial.i18n import N_

__all__ = ["N_", "_", "format_datetime", "install", "label", "language", "ngettext"]


# The words of the states, statuses and roles the pages show. The values stay English in
# the store, the JSON and the CSS classes; only what a person reads is translated.
LABELS: dict[str, str] = {
    # comments (publish.store.models.CommentState)
    "new": N_("new"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "escalated": N_("escalated"),
    "silent": N_("silent"),
    "resolved": N_("resolved"),
    # replies (ReplyStatus)
    "pending": N_("pending"),
    "queued": N_("queued"),
    "sent": N_("sent"),
    "failed": N_("failed"),
    # pieces (publish.states)
    "error": N_("error"),
    "draft": N_("draft"),
    "awaiting approval": N_("awaiting approval"),
    "published": N_("published"),
    "posted": N_("posted"),
    "late": N_("late"),
    "skipped": N_("skipped"),
    "retracted": N_("retracted"),
    # scheduler runs
    "ok": N_("ok"),
    "running": N_("running"),
    "partial": N_("partial"),
    # review links
    "opened": N_("opened"),
    "expired": N_("expired"),
    "not sent": N_("not sent"),
    # notifications (publish.notify.delivery.MEANINGS)
    "digest": N_("digest"),
    "sending": N_("sending"),
    "doubt": N_("doubt"),
}
ROLES: dict[str, str] = {
    "admin": N_("admin"),
    "moderator": N_("moderator"),
    "editor": N_("editor"),
    "approver": N_("approver"),
}
SILENT_REASONS: dict[str, str] = {
    "troll": N_("provocation or trolling; an answer would feed it"),
    "legal": N_("legal reasons; answering could be used against the client"),
    "already-answered": N_("answered elsewhere (another comment, phone, e-mail)"),
    "off-topic": N_("unrelated to the client or the post"),
    "no-answer-needed": N_("praise or a remark that needs no answer"),
    "private": N_("needs personal data; moved to a private channel"),
}


def label(value: object, table: dict[str, str] | None = None) -> str:
    """A state's, status's or role's word in this request's language (unknown: as is)."""
    text = str(value)
    known = (table if table is not None else LABELS).get(text)
    return _(known) if known is not None else text


def language() -> str:
    """This request's language, chosen once."""
    if not has_request_context():
        return i18n.SOURCE_LANGUAGE  # library code called from the CLI: English
    chosen: str | None = g.get("language")
    if chosen is None:
        from publish.web.state import gate

        default = gate().default_language
        chosen = i18n.negotiate((value for value, _q in request.accept_languages), default)
        g.language = chosen
    return chosen


def _(message: str, **variables: Any) -> str:
    """``message`` in this request's language, with ``%(name)s`` filled from ``variables``."""
    text = i18n.translate(language(), message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    """The form for ``n``; ``%(num)s`` is ``n``."""
    text = i18n.translate_plural(language(), singular, plural, n)
    return text % {"num": n, **variables}


def _template_gettext(message: str) -> str:
    return i18n.translate(language(), message)


def _template_ngettext(singular: str, plural: str, n: int) -> str:
    return i18n.translate_plural(language(), singular, plural, n)


def install(app: Flask) -> None:
    """Jinja's i18n extension with this module's catalogs, and the helpers pages use."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        _template_gettext, _template_ngettext, newstyle=True
    )

    @app.context_processor
    def language_helpers() -> dict[str, Any]:
        from publish.web.state import gate

        zone = gate().zone
        lang = language()
        return {
            "lang": lang,
            "state_name": label,
            "role_name": lambda role: label(role, ROLES),
            "silent_reason": lambda code, text: (
                _(SILENT_REASONS[code]) if code in SILENT_REASONS else text
            ),
            "format_datetime": lambda moment: i18n.format_datetime(moment, lang, zone),
            "format_date": lambda moment: i18n.format_date(moment, lang, zone),
        }



def format_datetime(moment: datetime | None) -> str:
    """``moment`` in the site's zone, as this request's language writes it."""
    from publish.web.state import gate

    return i18n.format_datetime(moment, language(), gate().zone)
