"""When a notification may go: quiet hours and the daily digest, in the site's zone.

Both are wall-clock times in ``TIMEZONE`` (Europe/Berlin for the example site), so
"22:00-07:00" means ten at night to seven in the morning in winter and in summer alike.
A moment is turned into local time with :mod:`zoneinfo`, and a local wall time back into a
moment by building it in the zone and going through UTC: a wall time that does not exist
(inside the spring-forward gap) lands just after the gap, one that exists twice (autumn)
takes the first, so a window never ends before it began and never lasts a day too long.

Decisions (see docs/notifications.md): kinds in ``NOTIFY['quiet_overrides']`` (by default
escalations — a power cut reported at night must reach the contact) ignore quiet hours;
urgent kinds (escalations and response targets) never wait for the digest.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from publish.notify.events import Event
from publish.settings import NotifySettings
from publish.store.models import NotificationStatus


def _wall(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The moment the clocks in ``zone`` show ``minutes`` after midnight on ``day``."""
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
    return local.astimezone(UTC)


def _minutes(local: datetime) -> int:
    return local.hour * 60 + local.minute


def quiet_until(now: datetime, config: NotifySettings) -> datetime | None:
    """The end of the quiet window ``now`` is in, or None outside one (or without one)."""
    if config.quiet_hours is None:
        return None
    zone = ZoneInfo(config.timezone)
    start, end = config.quiet_hours
    local = now.astimezone(zone)
    minute = _minutes(local)
    if start < end:
        inside, end_day = start <= minute < end, local.date()
    else:  # across midnight
        inside = minute >= start or minute < end
        end_day = local.date() + timedelta(days=1) if minute >= start else local.date()
    if not inside:
        return None
    until = _wall(end_day, end, zone)
    return until if until > now else None


def next_digest(now: datetime, config: NotifySettings) -> datetime:
    """The next digest time at or after ``now`` (``NOTIFY['digest']`` must be set)."""
    if config.digest is None:
        raise ValueError("NOTIFY['digest'] is not set")
    zone = ZoneInfo(config.timezone)
    local = now.astimezone(zone)
    moment = _wall(local.date(), config.digest, zone)
    if moment < now:
        moment = _wall(local.date() + timedelta(days=1), config.digest, zone)
    return moment


def schedule(event: Event, now: datetime, config: NotifySettings) -> tuple[str, datetime]:
    """The starting status (``pending`` or ``digest``) and ``not_before`` of a new row."""
    status = NotificationStatus.PENDING
    moment = now
    if config.digest is not None and not event.urgent:
        status = NotificationStatus.DIGEST
        moment = next_digest(now, config)
    if event.kind not in config.quiet_overrides:
        moment = quiet_until(moment, config) or moment
    return status.value, moment
