"""The calendar as a grid of days: a week (7 days) or a month (whole weeks, Monday first).

The entries come from :func:`publish.posting.calendar.calendar_entries`; here they are only
placed on the days of the site's zone, so the page needs no JavaScript to draw them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from editorial import i18n
from publish.posting.calendar import Entry

VIEWS = ("week", "month")


@dataclass
class Day:
    day: date
    in_period: bool
    entries: list[Entry] = field(default_factory=list)


@dataclass
class Grid:
    """The days to draw, in weeks, and the period's bounds for the query and the links."""

    view: str
    first: date
    weeks: list[list[Day]]
    start: datetime
    end: datetime
    previous: date
    next: date
    title: str


def period(view: str, anchor: date, zone: ZoneInfo, language: str = i18n.SOURCE_LANGUAGE) -> Grid:
    """The grid of the week or month around ``anchor`` (Monday-first weeks), its title in
    ``language`` (month names from CLDR, not the machine's locale)."""
    if view not in VIEWS:
        raise ValueError(f"unknown calendar view {view!r}; views: {', '.join(VIEWS)}")
    if view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=7)
        grid_first, grid_last = first, last
        previous, following = first - timedelta(days=7), last
        iso = first.isocalendar()
        until = last - timedelta(days=1)
        title = i18n.translate(language, "Week %(week)s, %(year)s (%(first)s – %(last)s)") % {
            "week": iso.week, "year": iso.year, "first": i18n.format_day_month(first, language),
            "last": i18n.format_day_month(until, language, year=True),
        }
    else:
        first = anchor.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1)
        grid_first = first - timedelta(days=first.weekday())
        grid_last = last + timedelta(days=(7 - last.weekday()) % 7)
        previous = (first - timedelta(days=1)).replace(day=1)
        following = last
        title = i18n.format_month(first, language)
    dates = [grid_first + timedelta(days=n) for n in range((grid_last - grid_first).days)]
    days = [Day(day, first <= day < last) for day in dates]
    return Grid(
        view=view,
        first=first,
        weeks=[days[i : i + 7] for i in range(0, len(days), 7)],
        start=datetime.combine(grid_first, time(), zone),
        end=datetime.combine(grid_last, time(), zone),
        previous=previous,
        next=following,
        title=title,
    )


def place(grid: Grid, entries: list[Entry], zone: ZoneInfo) -> Grid:
    """Put each entry on its day (in the site's zone)."""
    by_day = {day.day: day for week in grid.weeks for day in week}
    for entry in entries:
        day = by_day.get(entry.publish_at.astimezone(zone).date())
        if day is not None:
            day.entries.append(entry)
    return grid
