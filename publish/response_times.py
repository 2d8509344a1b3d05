"""The response-time report: how fast comments got their first response, against the target.

Per channel and category: comments received (spam counted apart), the first-response
time (median and 90th percentile, in minutes of real time), the guideline's target,
breaches (answered after the due time, or still unanswered past it), silent decisions
and escalations. The first response is what :mod:`publish.moderation` records in
``responded_at``: the first reply on the network or the first final decision.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

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


def _rows(
    comments: Iterable[Comment], guideline: Guideline | None, now: datetime
) -> list[ReportRow]:
    groups: dict[tuple[str, str], list[Comment]] = {}
    for comment in comments:
        key = (comment.channel, comment.category or NO_CATEGORY)
        groups.setdefault(key, []).append(comment)
    rows = []
    for (channel, category), group in sorted(groups.items()):
        real = [c for c in group if not c.spam]
        minutes = [
            (c.responded_at - c.created_at).total_seconds() / 60
            for c in real
            if c.responded_at is not None
        ]
        breaches = sum(
            1 for c in real if c.due_at is not None and ((c.responded_at or now) > c.due_at)
        )
        rows.append(
            ReportRow(
                channel=channel,
                category=category,
                received=len(group),
                spam=len(group) - len(real),
                responded=len(minutes),
                median_minutes=_round(percentile(minutes, 0.5)),
                p90_minutes=_round(percentile(minutes, 0.9)),
                target=_target(guideline, None if category == NO_CATEGORY else category),
                breaches=breaches,
                silent=sum(1 for c in real if c.state == CommentState.SILENT),
                escalations=sum(1 for c in real if c.escalated_to is not None),
            )
        )
    return rows


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def report(
    store: Store,
    start: datetime | None,
    end: datetime | None,
    now: datetime,
    guideline: Guideline | None = None,
) -> list[ReportRow]:
    """Rows for the comments received in ``[start, end)``; mentions are not counted,
    since nobody asked the client anything there."""
    query = select(Comment).where(Comment.kind == "reply")
    if start is not None:
        query = query.where(Comment.created_at >= start)
    if end is not None:
        query = query.where(Comment.created_at < end)
    with store.transaction() as session:
        comments = list(session.scalars(query))
        return _rows(comments, guideline, now)
