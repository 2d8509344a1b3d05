"""Notifications from the scheduler's tick, on a clone of the example site posting to the
sandbox: an escalation reaches the chat webhook and the outbox once, and
``dialogpress notifications`` lists what was sent."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from publish.notify.mail import OutboxMailer
from tests.gitsite import approve_example_frame
from tests.publish.notify import seed
from tests.publish.notify.conftest import Hook
from tests.publish.syndication_site import NOW, NOW_DT, Site, steps


def test_a_tick_sends_each_event_once_and_the_cli_lists_it(
    syndication_site: Site,
    webhook: Hook,
) -> None:
    site = syndication_site
    with (site.root / "pelicanconf.py").open("a", encoding="utf-8") as conf:
        conf.write(
            '\nNOTIFY = {"enabled": True, "mail_to": ["redaktion@agentur-kranich.example"],'
            ' "webhooks": ["chat"]}\n'
        )
    approve_example_frame(site.root)
    site.env["DP_NOTIFY_WEBHOOK_CHAT"] = webhook.url
    store = site.store()
    try:
        seed.escalated_comment(store, NOW_DT)
    finally:
        store.dispose()
    for _ in range(2):
        result = site.run("tick", "--now", NOW, "--format", "json")
        assert "Traceback" not in result.output, result.output
        data = json.loads(result.stdout)
    assert steps(data)["notify"].startswith("done"), data["steps"]
    # the escalation, and the snippets the example holds as late at NOW: each once
    titles = Counter(t.split(":")[0] for t in webhook.texts())
    assert titles["Escalated (outage)"] == 1 and titles["Post held as late"] >= 1
    assert max(Counter(webhook.texts()).values()) == 1
    events = len(webhook.bodies)
    mails = OutboxMailer.messages(site.root / ".dialogpress" / "outbox")
    to = Counter(str(m["To"]) for m in mails)
    assert to == {
        "moderator@agentur-kranich.example": 1,
        "redaktion@agentur-kranich.example": events,
    }
    listed = site.run("notifications", "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.stdout)
    assert {row["status"] for row in rows} == {"sent"} and len(rows) == 2 * events + 1
    assert {row["message_id"] for row in rows if row["recipient"].startswith("mail:")} == {
        str(m["Message-ID"]) for m in mails
    }
    assert rows[0]["created_at"].endswith("+00:00")  # UTC in JSON
    text = site.run("notifications").stdout
    assert "webhook:chat  Escalated (outage)" in text and " CET " in text
    empty = site.run("notifications", "--status", "doubt").stdout
    assert empty.strip() == "no notifications in state doubt"


def test_a_bad_notify_setting_stops_the_command_with_its_name(
    syndication_site: Site,
    tmp_path: Path,
) -> None:
    site = syndication_site
    with (site.root / "pelicanconf.py").open("a", encoding="utf-8") as conf:
        conf.write('\nNOTIFY = {"quiet_hours": "nachts"}\n')
    approve_example_frame(site.root)
    result = site.run("notifications")
    assert result.exit_code == 2
    assert "NOTIFY['quiet_hours'] must be a span such as '22:00-07:00'" in result.stderr
    assert "Traceback" not in result.output
