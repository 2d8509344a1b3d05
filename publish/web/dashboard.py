"""The agency's dashboard: calendar, channel health, scheduler runs, late pieces and the
response-time report, all from the store and the repository (no network calls, so the
page stays fast when a network is slow; `dialogpress status` asks the networks)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from editorial.settings import SettingsError
from publish.moderation import response_times
from publish.ops import scheduler
from publish.posting.calendar import calendar_entries
from publish.review import requests as reviews
from publish.store import channel_state, ledger
from publish.store.models import LedgerEntry, Status
from publish.web import access, calendar_grid, chart
from publish.web.display import span
from publish.web.i18n import _, language
from publish.web.state import current_user, desk

logger = logging.getLogger(__name__)

blueprint = Blueprint("dashboard", __name__)

# a token expiring sooner than this is shown as a warning
TOKEN_WARNING = timedelta(days=7)


@dataclass
class ChannelHealth:
    name: str
    ok: bool
    paused_until: datetime | None
    reason: str | None
    auth_problem: str | None
    token_expires_at: datetime | None
    token_warning: bool
    credentials: str | None


@dataclass
class LatePiece:
    piece_id: str
    channel: str
    parts: int
    since: datetime
    error: str | None


def _anchor(now: datetime) -> date:
    text = request.args.get("start", "")
    if not text:
        return now.astimezone(desk().zone).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        abort(400, _("start=%(value)s is not a date (YYYY-MM-DD).", value=repr(text)))


def _health(now: datetime) -> list[ChannelHealth]:
    state = desk()
    _channels, problems = state.channels()
    found = []
    with state.store.read() as session:
        for name in state.channel_names:
            row = channel_state.get(session, name)
            paused = row is not None and row.paused(now)
            expires = row.token_expires_at if row is not None else None
            found.append(
                ChannelHealth(
                    name=name,
                    ok=not paused and name not in problems,
                    paused_until=row.paused_until if paused and row is not None else None,
                    reason=row.paused_reason if paused and row is not None else None,
                    auth_problem=row.auth_problem if row is not None else None,
                    token_expires_at=expires,
                    token_warning=expires is not None and expires - now < TOKEN_WARNING,
                    credentials=problems.get(name),
                )
            )
    return found


def _late() -> list[LatePiece]:
    with desk().store.read() as session:
        entries: list[LedgerEntry] = ledger.by_status(session, Status.LATE)
    grouped: dict[tuple[str, str], LatePiece] = {}
    for entry in entries:
        key = (entry.piece_id, entry.channel)
        if key in grouped:
            grouped[key].parts += 1
            continue
        grouped[key] = LatePiece(entry.piece_id, entry.channel, 1, entry.created_at, entry.error)
    return list(grouped.values())


def _runs() -> list[dict[str, Any]]:
    rows = []
    for run in scheduler.runs(desk().store, limit=10):
        summary = run.summary or {}
        rows.append(
            {
                "id": run.id,
                "status": run.status,
                "started_at": run.started_at,
                "took": span(run.finished_at - run.started_at) if run.finished_at else None,
                "summary": summary,
                "steps": summary.get("steps", []),
                "error": run.error,
            }
        )
    return rows


@blueprint.route("/dashboard")
@access.requires(access.READ_DASHBOARD)
def index() -> str:
    state = desk()
    now = state.now()
    view = request.args.get("view", "week")
    if view not in calendar_grid.VIEWS:
        abort(400, _("view=%(value)s: choose week or month.", value=repr(view)))
    grid = calendar_grid.period(view, _anchor(now), state.zone, language())
    context = state.context()
    entries = calendar_entries(
        context.site,
        state.store,
        now,
        grid.start,
        grid.end,
        is_live=context.is_live,
        approvals=state.approval_states,
    )
    calendar_grid.place(grid, entries, state.zone)
    days = state.options.report_days
    rows = response_times.report(state.store, now - timedelta(days=days), now, now, state.guideline)
    drawn = chart.response_chart(rows)
    try:
        overview = scheduler.overview(state.store, state.settings, now)
    except SettingsError as exc:
        overview = {"error": str(exc)}
    with state.store.read() as session:
        decisions = reviews.latest_decisions(session)
        session.expunge_all()
    return render_template(
        "dashboard.html",
        decisions=decisions,
        grid=grid,
        today=now.astimezone(state.zone).date(),
        health=_health(now),
        runs=_runs(),
        overview=overview,
        late=_late(),
        report=rows,
        report_days=days,
        chart=Markup(drawn.svg),  # noqa: S704 — built from escaped parts in publish.web.chart
        chart_empty=drawn.empty,
    )


@blueprint.route("/dashboard/late/<any(release, skip):decision>", methods=["POST"])
@access.requires(access.DECIDE_LATE)
def late(decision: str) -> BaseResponse:
    """Release or skip every late part of one piece on one channel."""
    state = desk()
    piece = request.form.get("piece", "")
    channel = request.form.get("channel", "")
    reason = request.form.get("reason") or None
    person = current_user().email
    now = state.now()
    with state.store.transaction() as session:
        outcome = ledger.decide(
            session,
            piece,
            channel or None,
            "release" if decision == "release" else "skip",
            person,
            now,
            statuses=(Status.LATE,),
            reason=reason,
        )
    problems, changed = outcome.conflicts, outcome.changed
    if problems:
        flash(_("Someone acted first on %(piece)s: %(why)s", piece=piece,
                why="; ".join(problems)))
    elif changed == 0:
        flash(_("%(piece)s on %(channel)s is no longer late; nothing changed.", piece=piece,
                channel=channel))
    elif decision == "release":
        flash(_("%(piece)s on %(channel)s released: it goes out at the next run.",
                piece=piece, channel=channel))
    else:
        flash(_("%(piece)s on %(channel)s skipped.", piece=piece, channel=channel))
    return redirect(url_for("dashboard.index"))
