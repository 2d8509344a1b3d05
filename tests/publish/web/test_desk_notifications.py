"""The desk's notifications page: the list the scheduler recorded, shown by role."""

from __future__ import annotations

from publish.notify.delivery import record
from tests.publish.notify import seed
from tests.publish.web.conftest import Desk


def test_the_page_lists_notifications_and_hides_comment_ones_from_editors(desk: Desk) -> None:
    seed.escalated_comment(desk.store, desk.clock.now)
    seed.failed_post(desk.store, desk.clock.now)
    with desk.store.read() as session:
        from publish.notify.events import find_events

        events = find_events(session, seed.config(), seed.GUIDELINE, desk.clock.now)
    assert record(desk.store, events, seed.config(), desk.clock.now) == 6
    moderator = desk.login("moderator").get("/notifications")
    page = moderator.get_data(as_text=True)
    assert moderator.status_code == 200
    assert "Escalated (outage)" in page and "Post failed" in page
    assert "netz@stadtwerke-elbtal.de" in page and "webhook:chat" in page
    editor = desk.login("editor").get("/notifications").get_data(as_text=True)
    assert "Post failed" in editor and "Escalated" not in editor
    held = desk.login("admin").get("/notifications?status=doubt").get_data(as_text=True)
    assert "No notifications in state doubt" in held
