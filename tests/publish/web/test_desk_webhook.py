"""Facebook's webhook: the handshake, the signature, and comments arriving once."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from publish.store.models import Comment
from publish.web.webhook import signature
from tests.publish.web.conftest import APP_SECRET, ENVIRON, VERIFY_TOKEN, Desk

PAGE_ID = "100000000000001"


def event(
    comment_id: str = "555_901",
    *,
    author: str = "1000002",
    verb: str = "add",
    page: str = PAGE_ID,
    message: str = "Seit heute früh kein Warmwasser in der Neustadt.",
) -> dict[str, Any]:
    return {
        "object": "page",
        "entry": [
            {
                "id": page,
                "time": 1795512000,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": verb,
                            "comment_id": comment_id,
                            "post_id": f"{PAGE_ID}_555",
                            "parent_id": f"{PAGE_ID}_555",
                            "from": {"id": author, "name": "Bernd Beispiel"},
                            "message": message,
                            "created_time": 1795512000,
                        },
                    }
                ],
            }
        ],
    }


def deliver(
    desk: Desk, payload: dict[str, Any], secret: str = APP_SECRET, header: str | None = None
) -> Any:
    body = json.dumps(payload).encode()
    sent = header if header is not None else signature(secret.encode(), body)
    return desk.app.test_client().post(
        "/webhooks/facebook",
        data=body,
        base_url="https://localhost",
        headers={"X-Hub-Signature-256": sent, "Content-Type": "application/json"},
    )


def comments(desk: Desk) -> list[Comment]:
    with desk.store.transaction() as session:
        return list(session.scalars(select(Comment).order_by(Comment.id)))


def test_the_handshake_answers_the_challenge_only_with_the_verify_token(desk: Desk) -> None:
    client = desk.app.test_client()
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": ""}
    good = client.get(
        "/webhooks/facebook",
        query_string={**query, "hub.verify_token": VERIFY_TOKEN},
        base_url="https://localhost",
    )
    assert good.status_code == 200 and good.get_data(as_text=True) == "1158201444"
    bad = client.get(
        "/webhooks/facebook",
        query_string={**query, "hub.verify_token": "guess"},
        base_url="https://localhost",
    )
    assert bad.status_code == 403


def test_a_wrong_signature_is_rejected_logged_and_changes_nothing(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    assert deliver(desk, event(), secret="not-the-app-secret").status_code == 403
    assert deliver(desk, event(), header="").status_code == 403
    assert deliver(desk, event(), header="sha1=abc").status_code == 403
    assert comments(desk) == []
    refused = [r.getMessage() for r in caplog.records if "webhook event refused" in r.getMessage()]
    assert len(refused) == 3
    assert all(APP_SECRET not in message for message in refused)


def test_a_signed_comment_reaches_the_inbox_once(desk: Desk) -> None:
    assert deliver(desk, event()).status_code == 200
    assert deliver(desk, event()).status_code == 200  # Facebook retries
    assert deliver(desk, event(verb="edited")).status_code == 200
    found = comments(desk)
    assert [(c.channel, c.remote_id, c.state) for c in found] == [("facebook", "555_901", "new")]
    assert found[0].author_name == "Bernd Beispiel"
    assert found[0].post_remote_id == f"{PAGE_ID}_555"
    page = desk.login("moderator").get("/inbox").get_data(as_text=True)
    assert "kein Warmwasser" in page


def test_the_pages_own_comments_and_other_pages_are_left_out(desk: Desk) -> None:
    assert deliver(desk, event("555_902", author=PAGE_ID)).status_code == 200
    assert deliver(desk, event("555_903", page="999")).status_code == 200
    assert deliver(desk, event("555_904", verb="remove")).status_code == 200
    assert comments(desk) == []


def test_the_webhook_needs_no_login_and_no_csrf_token_but_a_signature(desk: Desk) -> None:
    response = deliver(desk, event("555_905"))
    assert response.status_code == 200
    assert "Location" not in response.headers


def test_the_desk_command_serves_and_never_logs_the_verify_token(
    site_root: Path, tmp_path: Path
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        **ENVIRON,
        "DP_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "publish.cli", "desk", "--port", str(port),
         "-s", str(site_root / "pelicanconf.py")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}/webhooks/facebook"
        query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "7"}
        answer = None
        for _ in range(100):
            try:
                answer = requests.get(url, params=query, timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        assert answer is not None and answer.text == "7"
    finally:
        server.send_signal(signal.SIGINT)
        output, _ = server.communicate(timeout=20)
    assert "GET /webhooks/facebook?hub.mode=subscribe&hub.verify_token=***" in output
    assert VERIFY_TOKEN not in output
