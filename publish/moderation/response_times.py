"""The response-time report: how fast comments got their first response, against the target.

Per channel and category: comments received (spam counted apart), the first-response
time (median and 90th percentile, in minutes of real time), the guideline's target,
breaches (answered after the due time, or still unanswered past it), silent decisions
and escalations. The first response is what :mod:`publish.moderation` records in
``responded_at``: the first reply on the network or the first final decision.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from editorial.guideline import Guideline
from publish.store import Store
from publish.store.models import Comment, CommentState

NO_CATEGORY = "(none)"


@dataclass(frozen=True)
class ReportRow:
    """One channel × category line of the report."""

    channel: str
    category: str
    received: int
    spam: int
    responded: int
    median_minutes: float | None
    p90_minutes: float | None
    target: str | None
    breaches: int
    silent: int
    escalations: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile: a value that occurred, never an interpolation."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def _target(guideline: Guideline | None, category: str | None) -> str | None:
    if guideline is None:
        return None
    target = guideline.target(category)
    if target is None:
        return None
    hours, minutes = divmod(target.within.minutes, 60)
    parts = [f"{target.within.days}d" if target.within.days else "", f"{hours}h" if hours else ""]
    parts.append(f"{minutes}m" if minutes else "")
    written = "".join(parts)
    return written + (" around the clock" if target.around_the_clock else " business time")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _minutes(dialect: str) -> ColumnElement[Any]:
    """Minutes from arrival to the first response, computed by the database."""
    if dialect == "sqlite":
        # julianday() reads the stored UTC text; rounded to the millisecond against float noise
        days = func.julianday(Comment.responded_at) - func.julianday(Comment.created_at)
        return func.round(days * 86400.0, 3) / 60.0
    return func.extract("epoch", Comment.responded_at - Comment.created_at) / 60.0


def report(
    store: Store,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
    guideline: Guideline | None = None,
) -> list[ReportRow]:
    """Rows for the comments received in ``[start, end)``; mentions are not counted,
    since nobody asked the client anything there.

    Counted by the database in one grouped query over the index ``site, kind, created_at``;
    the percentiles are PostgreSQL's ``percentile_disc`` (which is the nearest rank),
    and on SQLite the nearest rank over the one column of response minutes, read sorted.
    """
    where = [Comment.kind == "reply"]
    if store.site is not None:
        # read on the connection, past the store's ORM scoping: the site is named here
        where.append(Comment.site == store.site)
    if start is not None:
        where.append(Comment.created_at >= start)
    if end is not None:
        where.append(Comment.created_at < end)
    real = or_(Comment.spam.is_(None), Comment.spam == "")
    category = func.coalesce(Comment.category, NO_CATEGORY)

    def count(*conditions: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((and_(*conditions), 1), else_=0))

    breach = and_(
        Comment.due_at.is_not(None),
        or_(
            Comment.responded_at > Comment.due_at,
            and_(Comment.responded_at.is_(None), Comment.due_at < now),
        ),
    )
    dialect = store.dialect
    minutes = _minutes(dialect)
    columns: list[Any] = [
        Comment.channel,
        category,
        func.count(),
        count(~real),
        count(real, Comment.responded_at.is_not(None)),
        count(real, breach),
        count(real, Comment.state == CommentState.SILENT.value),
        count(real, Comment.escalated_to.is_not(None)),
    ]
    if dialect == "postgresql":
        responded = and_(real, Comment.responded_at.is_not(None))
        for share in (0.5, 0.9):
            columns.append(func.percentile_disc(share).within_group(minutes).filter(responded))
    with store.read() as session:
        groups = (
            session.connection()
            .execute(select(*columns).where(*where).group_by(Comment.channel, category))
            .all()
        )
        spread: dict[tuple[str, str], tuple[float | None, float | None]] = {}
        if dialect == "postgresql":
            spread = {(g[0], g[1]): (_float(g[8]), _float(g[9])) for g in groups}
        else:
            # one column read on the connection (no ORM rows), sorted here: Python sorts
            # a group's floats faster than SQLite's sorter takes them in
            values: dict[tuple[str, str], list[float]] = {}
            for channel, group, value in session.connection().execute(
                select(Comment.channel, category, minutes).where(
                    *where, real, Comment.responded_at.is_not(None)
                )
            ):
                values.setdefault((channel, group), []).append(value)
            spread = {}
            for key, found in values.items():
                found.sort()
                spread[key] = (_ranked(found, 0.5), _ranked(found, 0.9))
    rows = []
    for channel, group, received, spam, responded, breaches, silent, escalations, *_ in sorted(
        groups, key=lambda g: (g[0], g[1])
    ):
        median, p90 = spread.get((channel, group), (None, None))
        rows.append(
            ReportRow(
                channel=channel,
                category=group,
                received=int(received),
                spam=int(spam or 0),
                responded=int(responded or 0),
                median_minutes=_round(median),
                p90_minutes=_round(p90),
                target=_target(guideline, None if group == NO_CATEGORY else group),
                breaches=int(breaches or 0),
                silent=int(silent or 0),
                escalations=int(escalations or 0),
            )
        )
    return rows


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _ranked(ordered: list[float], share: float) -> float | None:
    """The nearest-rank percentile of values already in order."""
    if not ordered:
        return None
    return float(ordered[max(1, math.ceil(share * len(ordered))) - 1])
