"""How times and durations read on the desk's pages: the site's zone, and countdowns."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from editorial import i18n


def local(
    moment: datetime | None, zone: ZoneInfo, pattern: str | None = None,
    language: str = i18n.SOURCE_LANGUAGE,
) -> str:
    """``moment`` in the site's zone ('' for None): as ``language`` writes a date and time
    („Mo., 14. Dez. 2026, 09:00 MEZ“, "Mon, 14 Dec 2026, 09:00 CET"), or with a
    strftime ``pattern`` for what has no words (``%H:%M``)."""
    if moment is None:
        return ""
    if pattern is None:
        return i18n.format_datetime(moment, language, zone)
    return moment.astimezone(zone).strftime(pattern)


def span(delta: timedelta) -> str:
    """A duration as people say it, in the page's language: ``2 d 3 h``, ``1 h 20 min``,
    ``5 min`` („2 T. 3 Std.“, „1 Std. 20 Min.“, „5 Min.“)."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)s d %(hours)s h") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)s min") % {"minutes": minutes}


def countdown(due_at: datetime | None, now: datetime) -> str:
    """The response-due countdown: ``due in 1 h 20 min`` or ``overdue by 15 min``.

    desk.js keeps counting with the same words, which base.html hands it translated."""
    if due_at is None:
        return _("no response target")
    if due_at >= now:
        return _("due in %(span)s") % {"span": span(due_at - now)}
    return _("overdue by %(span)s") % {"span": span(now - due_at)}


def _(message: str) -> str:
    """``message`` in this request's language (English outside a request)."""
    from publish.web.i18n import language

    return i18n.translate(language(), message)
