"""How times and durations read on the desk's pages: the site's zone, and countdowns."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


def local(moment: datetime | None, zone: ZoneInfo, pattern: str = "%d.%m.%Y %H:%M") -> str:
    """``moment`` as a wall-clock time in the site's zone ('' for None)."""
    if moment is None:
        return ""
    return moment.astimezone(zone).strftime(pattern)


def span(delta: timedelta) -> str:
    """A duration as people say it: ``2 d 3 h``, ``1 h 20 min``, ``5 min``."""
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def countdown(due_at: datetime | None, now: datetime) -> str:
    """The response-due countdown: ``due in 1 h 20 min`` or ``overdue by 15 min``."""
    if due_at is None:
        return "no response target"
    if due_at >= now:
        return f"due in {span(due_at - now)}"
    return f"overdue by {span(now - due_at)}"
