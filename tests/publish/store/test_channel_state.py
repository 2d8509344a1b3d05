"""Pausing channels for rate limits and broken credentials, seen by every worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from publish.store import Store, audit, channel_state

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
RESET = NOW + timedelta(minutes=15)


def _actions(store: Store, channel: str) -> list[str]:
    with store.session() as session:
        return [event.action for event in audit.events_for(session, "channel", channel)]


def test_a_channel_nothing_happened_to_runs(store: Store) -> None:
    with store.session() as session:
        assert channel_state.get(session, "twitter") is None
        assert not channel_state.is_paused(session, "twitter", NOW)
        assert channel_state.paused(session, NOW) == []


def test_a_rate_limit_pauses_the_channel_until_its_reset(store: Store) -> None:
    with store.transaction() as session:
        state = channel_state.pause(session, "twitter", RESET, "429 Too Many Requests", NOW)
    assert (state.paused_until, state.paused_reason) == (RESET, "429 Too Many Requests")
    with store.session() as session:  # another worker's session sees it
        assert channel_state.is_paused(session, "twitter", NOW)
        assert channel_state.is_paused(session, "twitter", RESET - timedelta(seconds=1))
        assert not channel_state.is_paused(session, "twitter", RESET)
        assert not channel_state.is_paused(session, "facebook", NOW)
        assert [s.channel for s in channel_state.paused(session, NOW)] == ["twitter"]
    with store.session() as session:
        (event,) = audit.events_for(session, "channel", "twitter")
    assert event.action == "channel.paused"
    assert event.details == {"until": RESET.isoformat(), "reason": "429 Too Many Requests"}


def test_an_auth_problem_pauses_until_a_person_resumes(store: Store) -> None:
    message = "Facebook: token expired (code 190); renew DP_FACEBOOK_PAGE_TOKEN"
    with store.transaction() as session:
        channel_state.report_auth_problem(session, "facebook", message, NOW)
    with store.session() as session:
        state = channel_state.get(session, "facebook")
        assert state is not None and state.auth_problem == message
        assert channel_state.is_paused(session, "facebook", NOW + timedelta(days=365))
    with store.transaction() as session:
        resumed = channel_state.resume(session, "facebook", "ops@kranich.example", NOW)
    assert resumed.auth_problem is None and resumed.paused_reason is None
    with store.session() as session:
        assert not channel_state.is_paused(session, "facebook", NOW)
        last = audit.events_for(session, "channel", "facebook")[-1]
    assert (last.action, last.actor) == ("channel.resumed", "ops@kranich.example")
    assert _actions(store, "facebook") == ["channel.auth-problem", "channel.resumed"]


def test_resume_also_ends_a_rate_limit_pause(store: Store) -> None:
    with store.transaction() as session:
        channel_state.pause(session, "twitter", RESET, "429", NOW)
        channel_state.resume(session, "twitter", "ops@kranich.example", NOW)
    with store.session() as session:
        assert not channel_state.is_paused(session, "twitter", NOW)


def test_a_rate_limit_does_not_clear_an_auth_problem(store: Store) -> None:
    with store.transaction() as session:
        channel_state.report_auth_problem(session, "twitter", "401 Unauthorized", NOW)
        channel_state.pause(session, "twitter", RESET, "429", NOW)
    with store.session() as session:
        assert channel_state.is_paused(session, "twitter", RESET + timedelta(hours=1))


def test_the_token_expiry_is_remembered(store: Store) -> None:
    expires = datetime(2027, 1, 23, 8, 0, tzinfo=UTC)
    with store.transaction() as session:
        channel_state.record_token_expiry(session, "facebook", expires, NOW)
    with store.session() as session:
        state = channel_state.get(session, "facebook")
        assert state is not None
        assert state.token_expires_at == expires and state.updated_at == NOW
        assert not state.paused(NOW)
    assert _actions(store, "facebook") == ["channel.token-expiry"]
