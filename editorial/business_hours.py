"""When an answer is due: response-time targets counted in the client's business hours.

"Answer within 4 hours" means four hours in which someone is at the desk: a comment at
17:00 on a Friday with the desk open until 18:00 is due at 11:00 on Monday. Hours are
wall-clock times in the client's time zone, so a due time stays "09:00" across a change
to or from daylight saving time; the arithmetic itself runs in UTC, so that an hour
of business time is an hour of real time.

Durations are written ``30m``, ``2h``, ``1h30m`` or ``1d``. A day (``d``) is a business
day: the same wall-clock time on the next open day (moved into that day's opening hours
when it falls outside them). A target marked *around the clock* ignores business hours
and counts real time (outages are answered at night as well).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

_DURATION = re.compile(
    r"^(?:(?P<d>\d+)\s*d)?\s*(?:(?P<h>\d+)\s*h)?\s*(?:(?P<m>\d+)\s*m(?:in)?)?$"
)
_SPAN = re.compile(r"^(?P<a>\d{1,2}):(?P<am>\d{2})\s*[-\u2013]\s*(?P<b>\d{1,2}):(?P<bm>\d{2})$")

#: how weekdays may be written, German and English (Monday is 0, as in ``date.weekday()``)
WEEKDAYS: dict[str, int] = {
    "mo": 0, "di": 1, "mi": 2, "do": 3, "fr": 4, "sa": 5, "so": 6,
    "mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6,
}
CLOSED_WORDS = ("closed", "geschlossen")

# minutes after midnight, end exclusive; 24:00 is 1440
Span = tuple[int, int]

# A due date further out than this means the hours are closed for good (a year of
# holidays): an error in the guideline, not a reason to loop forever.
_HORIZON_DAYS = 800
# days whose spans a BusinessHours keeps (a few years of them: a few hundred kB)
_REMEMBERED_DAYS = 1200
# (target, hour) pairs a BusinessHours keeps (a few years of hours for a few targets)
_REMEMBERED_HOURS = 100_000
_HOUR = timedelta(hours=1)
_UNKNOWN = object()


@dataclass(frozen=True)
class Duration:
    """A response-time target as written: business days plus minutes."""

    days: int = 0
    minutes: int = 0


def parse_duration(text: str) -> Duration:
    """Read ``2h``, ``30m``, ``1h30m``, ``1d``; :class:`ValueError` says how to write it."""
    match = _DURATION.match(text.strip().lower())
    if not text.strip() or not match or not any(match.groupdict().values()):
        raise ValueError(
            f"{text!r} is not a duration; write e.g. '30m', '2h', '1h30m' or '1d' (business day)"
        )
    days = int(match["d"] or 0)
    minutes = int(match["h"] or 0) * 60 + int(match["m"] or 0)
    if days == 0 and minutes == 0:
        raise ValueError(f"{text!r} is zero; a response time must be longer than that")
    return Duration(days, minutes)


def parse_spans(text: str) -> tuple[Span, ...]:
    """Read ``08:00-18:00`` or ``08:00-12:00, 13:00-16:00``; ``closed`` gives no spans."""
    if text.strip().lower() in CLOSED_WORDS:
        return ()
    spans: list[Span] = []
    for part in text.split(","):
        match = _SPAN.match(part.strip())
        if not match:
            raise ValueError(
                f"{part.strip()!r} is not a time range; write e.g. '08:00-18:00', "
                "several separated by commas, or 'geschlossen'"
            )
        start = int(match["a"]) * 60 + int(match["am"])
        end = int(match["b"]) * 60 + int(match["bm"])
        if int(match["am"]) > 59 or int(match["bm"]) > 59 or start > 1440 or end > 1440:
            raise ValueError(f"{part.strip()!r} is not a time of day (00:00 to 24:00)")
        if end <= start:
            raise ValueError(f"{part.strip()!r} ends before it starts")
        if spans and start < spans[-1][1]:
            raise ValueError(f"{part.strip()!r} overlaps or precedes the range before it")
        spans.append((start, end))
    return tuple(spans)


@dataclass(frozen=True)
class Target:
    """How fast a category must be answered."""

    within: Duration
    around_the_clock: bool = False


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours per weekday in a time zone, with days that are closed anyway."""

    zone: ZoneInfo
    week: dict[int, tuple[Span, ...]]
    closed_on: frozenset[date] = field(default_factory=frozenset)
    # the spans of each day asked for, worked out once: triage asks for the same few
    # days for every arriving comment (a due time walks a day or two ahead)
    _days: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    # per (target, hour): the hour's due time when arrivals in it are due minute for
    # minute later, else None (see due)
    _hours: dict[tuple[Target, datetime], datetime | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def spans(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The open intervals of ``day`` as aware UTC datetimes (none on a closed day)."""
        known = self._days.get(day)
        if known is not None:
            return known
        if day in self.closed_on:
            known = ()
        else:
            midnight = datetime(day.year, day.month, day.day)
            known = tuple(
                (
                    self._instant(midnight + timedelta(minutes=start)),
                    self._instant(midnight + timedelta(minutes=end)),
                )
                for start, end in self.week.get(day.weekday(), ())
            )
        if len(self._days) >= _REMEMBERED_DAYS:
            self._days.clear()
        self._days[day] = known
        return known

    def _instant(self, wall: datetime) -> datetime:
        # A wall time in the spring-forward gap is read with the offset before the gap,
        # which lands just after it: an opening at 02:30 that day opens at 03:30.
        return wall.replace(tzinfo=self.zone).astimezone(UTC)

    def _days_from(self, day: date) -> Iterator[date]:
        for offset in range(_HORIZON_DAYS):
            yield day + timedelta(days=offset)

    def open_at_or_after(self, moment: datetime) -> datetime:
        """``moment`` if the desk is open then, else the next opening."""
        start = moment.astimezone(self.zone).date() - timedelta(days=1)
        for day in self._days_from(start):
            for opens, closes in self.spans(day):
                if closes > moment:
                    return max(opens, moment)
        raise ValueError("the business hours never open; give at least one day opening hours")

    def add_time(self, moment: datetime, minutes: int) -> datetime:
        """``moment`` plus ``minutes`` of open time."""
        remaining = timedelta(minutes=minutes)
        current = self.open_at_or_after(moment)
        start = current.astimezone(self.zone).date() - timedelta(days=1)
        for day in self._days_from(start):
            for opens, closes in self.spans(day):
                if closes <= current:
                    continue
                begin = max(opens, current)
                if begin + remaining <= closes:
                    return begin + remaining
                remaining -= closes - begin
        raise ValueError("the business hours never open; give at least one day opening hours")

    def add_days(self, moment: datetime, days: int) -> datetime:
        """The same wall-clock time ``days`` open days later, moved into that day's hours."""
        current = self.open_at_or_after(moment)
        for _ in range(days):
            local = current.astimezone(self.zone)
            day = next(
                (d for d in self._days_from(local.date() + timedelta(days=1)) if self.spans(d)),
                None,
            )
            if day is None:
                raise ValueError("the business hours never open again")
            wanted = self._instant(datetime.combine(day, local.time()))
            spans = self.spans(day)
            inside = [max(opens, wanted) for opens, closes in spans if wanted < closes]
            current = inside[0] if inside else spans[-1][1]
        return current

    def due(self, received_at: datetime, target: Target) -> datetime:
        """When an answer to something received at ``received_at`` is due (aware, in UTC).

        Worked out once per target and hour: when the whole hour lies in one opening
        span and so do the due times of its start and end, with no change of the clock
        (daylight saving) at either, the due time moves with the arrival minute for
        minute, and a comment in that hour is due at the hour's due time plus its
        minutes into the hour. Any other hour is walked through for each arrival
        (:meth:`due_by_walk`), which gives the same answers, more slowly.
        """
        if received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
        moment = received_at.astimezone(UTC)
        if target.around_the_clock:
            return moment + timedelta(days=target.within.days, minutes=target.within.minutes)
        hour = moment.replace(minute=0, second=0, microsecond=0)
        key = (target, hour)
        start = self._hours.get(key, _UNKNOWN)
        if start is _UNKNOWN:
            start = self._linear_hour(hour, target)
            if len(self._hours) >= _REMEMBERED_HOURS:
                self._hours.clear()
            self._hours[key] = start
        if isinstance(start, datetime):
            return start + (moment - hour)
        return self.due_by_walk(moment, target)

    def due_by_walk(self, received_at: datetime, target: Target) -> datetime:
        """:meth:`due` walked through the opening hours, span by span, for one arrival."""
        if received_at.tzinfo is None:
            raise ValueError("received_at must be timezone-aware")
        moment = received_at.astimezone(UTC)
        if target.around_the_clock:
            return moment + timedelta(days=target.within.days, minutes=target.within.minutes)
        if target.within.days:
            moment = self.add_days(moment, target.within.days)
        if target.within.minutes:
            moment = self.add_time(moment, target.within.minutes)
        return moment

    def _linear_hour(self, hour: datetime, target: Target) -> datetime | None:
        """The due time of ``hour`` if every arrival in it is due that much later (see
        :meth:`due`), else None."""
        end = hour + _HOUR
        first = self.due_by_walk(hour, target)
        last = self.due_by_walk(end, target)
        if last - first != _HOUR:
            return None
        if not (self._open_throughout(hour, end) and self._open_throughout(first, last)):
            return None
        offsets = {moment.astimezone(self.zone).utcoffset() for moment in (hour, end, first, last)}
        return first if len(offsets) == 1 else None

    def _open_throughout(self, start: datetime, end: datetime) -> bool:
        """Whether one opening span holds all of ``start`` to ``end``."""
        day = start.astimezone(self.zone).date()
        return any(opens <= start and end <= closes for opens, closes in self.spans(day))
