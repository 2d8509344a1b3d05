"""Reading the times editors write, in the site's time zone, honestly across DST.

An editor writes ``2026-11-24 09:00`` and means Berlin time; a publish time that does
not exist on the wall clock (the spring-forward gap) is an error, never a silent shift.
An ambiguous one (the autumn fall-back hour) means its first occurrence, summer time,
because posting an hour early is noticed and fixed while posting twice is not possible.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_PATTERN = re.compile(
    r"""^\s*(?P<year>\d{4})[-/](?P<month>\d{1,2})(?:[-/](?P<day>\d{1,2}))?
        (?:[T\s]+(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?
        \s*(?P<offset>Z|[+-]\d{2}:?\d{2})?
        (?:\s+(?P<zone>[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)*))?\s*$""",
    re.VERBOSE,
)


class TimeError(ValueError):
    """A time an editor wrote that cannot be read; the message says how to write it."""


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` or a :class:`TimeError` naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeError(
            f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin'"
        ) from None


def localize(naive: datetime, tz: ZoneInfo) -> datetime:
    """Attach ``tz`` to a wall-clock time, refusing times that do not exist there."""
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    back = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None)
    if back != naive and second.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise TimeError(
            f"{naive:%Y-%m-%d %H:%M} does not exist in {tz.key} (the clocks skip that hour "
            "when daylight saving time starts); choose a time outside the gap"
        )
    return first


def is_ambiguous(naive: datetime, tz: ZoneInfo) -> bool:
    """True for wall-clock times that happen twice (the hour clocks go back)."""
    return (
        naive.replace(tzinfo=tz, fold=0).utcoffset() != naive.replace(tzinfo=tz, fold=1).utcoffset()
    )


def _pelican_date(value: str) -> datetime | None:
    """``value`` read as Pelican reads a date it has no format for (``dateutil``), or None.

    Pelican fills what the text leaves out from *today*; we fill it from 1 January, so
    that a piece's time does not change from day to day.
    """
    from dateutil import parser as dateutil_parser

    try:
        parsed = dateutil_parser.parse(re.sub(" +", " ", value), default=datetime(2000, 1, 1))
    except (TypeError, ValueError, OverflowError):
        return None
    return parsed


def parse_time(value: object, default_zone: str) -> datetime:
    """Read a publish time: ISO 8601, optionally with an offset or an IANA zone name.

    ``2026-11-24 09:00`` (site zone), ``2026-11-24T09:00+01:00``, ``2026-11-24 09:00
    Europe/Vienna`` and a bare date (midnight) are accepted; the result is always aware.
    Every date stock Pelican accepts is read too: one-digit months, days and hours
    (``2019-3-4 9:00``), a month alone (``2025-10``: its first day) and whatever else
    Pelican's ``dateutil`` fallback reads (``4 March 2019``), so an adopted site's
    archive is never refused for its dates.
    """
    if isinstance(value, datetime):
        naive = value.replace(tzinfo=None) if value.tzinfo is None else None
        if naive is None:
            return value
        return localize(naive, zone(default_zone))
    if isinstance(value, date):
        return localize(datetime(value.year, value.month, value.day), zone(default_zone))
    if not isinstance(value, str):
        raise TimeError(f"expected a date and time such as '2026-11-24 09:00', got {value!r}")
    match = _PATTERN.match(value)
    if not match:
        fallback = _pelican_date(value) if value.strip() else None
        if fallback is None:
            raise TimeError(
                f"cannot read {value!r} as a time; write it as '2026-11-24 09:00' "
                "(optionally with '+01:00' or a zone name such as 'Europe/Berlin')"
            )
        if fallback.tzinfo is not None:
            return fallback
        return localize(fallback, zone(default_zone))
    clock = (match["time"] or "00:00").split(":")
    clock[0] = clock[0].zfill(2)
    text = (
        f"{match['year']}-{int(match['month']):02d}-{int(match['day'] or 1):02d}"
        f"T{':'.join(clock)}"
    )
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        raise TimeError(
            f"{value!r} names no day of the calendar or no time of day (check day, month "
            "and hour)"
        ) from None
    if match["offset"] and match["zone"]:
        raise TimeError(f"{value!r} gives both an offset and a zone; keep one of them")
    if match["offset"]:
        off = match["offset"]
        if off == "Z":
            return naive.replace(tzinfo=UTC)
        digits = off[1:].replace(":", "")
        return datetime.fromisoformat(f"{text}{off[0]}{digits[:2]}:{digits[2:]}")
    return localize(naive, zone(match["zone"] or default_zone))


def iso(value: datetime) -> str:
    """ISO 8601 with the offset, to the second: what JSON output and approvals carry."""
    return value.isoformat(timespec="seconds")
