"""Review requests in the store (publish.review.requests): magic links are single-use, expire,
belong to one review and one approver, and exist only as hashes; on real SQLite and
real PostgreSQL (the ``store`` fixture of this folder's conftest)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from editorial.settings import load_settings
from publish.review import requests as reviews
from publish.review.requests import LinkRefused, RequestedPiece, ReviewError
from publish.store import Store
from publish.store.models import AuditEvent, ReviewLink

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
PETRA = "petra.schulz@stadtwerke-elbtal.example"
ROOT = Path(__file__).resolve().parents[3]
SESSION = timedelta(hours=8)


def review(store: Store) -> tuple[int, list[reviews.Invitation]]:
    with store.transaction() as session:
        made, invitations = reviews.create_review(
            session, branch="winterservice", base="main", head="a" * 40,
            pieces=[RequestedPiece("social/x.md", "sha256:1", "X")],
            approvers=[PETRA], requested_by="lena@agentur.example",
            note=" Bitte bis Freitag ", now=NOW, link_lifetime=timedelta(days=7),
        )
        return made.id, invitations


def test_a_link_opens_once_and_starts_a_session_for_its_review(store: Store) -> None:
    review_id, [invitation] = review(store)
    with store.transaction() as session:
        checked = reviews.check_link(session, review_id, invitation.token, NOW)
        assert checked.approver == PETRA and checked.used_at is None  # checking uses nothing
        link, cookie = reviews.open_link(session, review_id, invitation.token, NOW, SESSION)
        assert link.used_at is not None
    with store.transaction() as session:
        with pytest.raises(LinkRefused) as refused:
            reviews.open_link(session, review_id, invitation.token, NOW, SESSION)
        assert refused.value.reason == "used"
        found = reviews.portal_link(session, review_id, cookie, NOW + timedelta(hours=7))
        assert found is not None and found.approver == PETRA
        assert reviews.portal_link(session, review_id + 1, cookie, NOW) is None
        assert reviews.portal_link(session, review_id, cookie, NOW + SESSION) is None
        assert reviews.portal_link(session, review_id, "guess", NOW) is None
        events = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert events == ["review.requested", "review.link_opened"]


def test_links_expire_and_belong_to_one_review(store: Store) -> None:
    first, [link] = review(store)
    second, _ = review(store)
    with store.transaction() as session:
        for review_id, token, when, reason in [
            (second, link.token, NOW, "other-review"),
            (first, link.token + "x", NOW, "unknown"),
            (first, link.token, NOW + timedelta(days=7), "expired"),
        ]:
            with pytest.raises(LinkRefused) as refused:
                reviews.open_link(session, review_id, token, when, SESSION)
            assert refused.value.reason == reason
        assert reviews.check_link(session, first, link.token, NOW + timedelta(days=6)).id


def test_only_hashes_are_stored(store: Store) -> None:
    review_id, [invitation] = review(store)
    with store.transaction() as session:
        _, cookie = reviews.open_link(session, review_id, invitation.token, NOW, SESSION)
        row = session.get(ReviewLink, invitation.link_id)
        assert row is not None
        values = [str(getattr(row, column.key)) for column in ReviewLink.__table__.columns]
        assert invitation.token not in values and cookie not in values
        assert row.token_hash == reviews.digest(invitation.token)
        assert row.session_hash == reviews.digest(cookie)
    assert invitation.token not in repr(invitation)


def test_two_browsers_opening_one_link_at_once_let_one_in(store: Store) -> None:
    review_id, [invitation] = review(store)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait()
        try:
            with store.transaction() as session:
                reviews.open_link(session, review_id, invitation.token, NOW, SESSION)
            outcomes.append("opened")
        except LinkRefused as exc:
            outcomes.append(exc.reason)
        except Exception as exc:  # SQLite's writer lock: the loser is refused, not let in
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("opened") == 1, outcomes


def test_the_portal_may_link_only_approvers_it_may_sign_for() -> None:
    settings = load_settings(ROOT / "pelicanconf.py")
    assert reviews.check_approvers(settings, [PETRA.upper(), PETRA]) == [PETRA]
    with pytest.raises(ReviewError, match=r"not an approver in trust\.yml"):
        reviews.check_approvers(settings, ["mallory@example.test"])
    with pytest.raises(ReviewError, match="at least one approver"):
        reviews.check_approvers(settings, [])


def test_a_trust_file_without_a_portal_means_no_review_links(tmp_path: Path) -> None:
    from gitsite import make_keys, standard_site

    site = standard_site(tmp_path / "site", make_keys(tmp_path / "keys"))
    with pytest.raises(ReviewError, match=r"trust\.yml of main .* has no portal"):
        reviews.check_approvers(site.settings(), [PETRA])


def test_a_review_without_pieces_is_refused(store: Store) -> None:
    with store.transaction() as session, pytest.raises(ReviewError, match="nothing to review"):
        reviews.create_review(
            session, branch="b", base="main", head="a" * 40, pieces=[], approvers=[PETRA],
            requested_by="lena", note=None, now=NOW, link_lifetime=timedelta(days=7),
        )


def test_the_list_shows_links_and_decisions(store: Store) -> None:
    review_id, [invitation] = review(store)
    with store.transaction() as session:
        link, _ = reviews.open_link(session, review_id, invitation.token, NOW, SESSION)
        reviews.record_decision(
            session, link, "social/x.md", "sha256:1", "changes_requested", "Kürzer, bitte",
            "b" * 40, NOW,
        )
    with store.transaction() as session:
        [summary] = reviews.list_reviews(session)
        data = summary.to_dict(NOW)
    assert data["note"] == "Bitte bis Freitag"
    assert data["links"][0]["state"] == "opened"
    assert data["decisions"][0]["comment"] == "Kürzer, bitte"
    assert data["decisions"][0]["decision"] == "changes_requested"
