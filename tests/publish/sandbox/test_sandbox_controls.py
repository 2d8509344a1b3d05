"""The sandbox's own behaviour: control endpoints, rate-limit headers, persistence, and
accepting a post before a client dies."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from publish.posting.channels import FacebookChannel, MediaFile, Message, TwitterChannel
from publish.sandbox import Sandbox, TwitterSandbox

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "facebook-graph"
REPO = Path(__file__).resolve().parents[3]


def control(base: str, action: str, payload: dict | None = None) -> requests.Response:
    if payload is None:
        return requests.get(f"{base}/_sandbox/{action}", timeout=5)
    return requests.post(f"{base}/_sandbox/{action}", json=payload, timeout=5)


def test_control_endpoints_speak_json_over_http(
    sandbox: Sandbox, twitter: TwitterChannel
) -> None:
    root = twitter.post(Message("Hallo Elbtal"))
    url = sandbox.twitter_url

    injected = control(url, "inject-comment", {
        "in_reply_to": root.remote_id, "author_handle": "anna", "author_name": "Anna",
        "text": "Hallo zurück", "created_at": "2026-11-24T08:00:00Z",
    })
    state = control(url, "state").json()

    assert injected.status_code == 200
    assert [t["text"] for t in state["tweets"]] == ["Hallo Elbtal", "Hallo zurück"]
    assert state["tweets"][1]["created_at"] == "2026-11-24T08:00:00.000Z"
    assert control(url, "requests").json()[0]["path"] == "/2/tweets"

    assert control(url, "reset", {}).status_code == 200
    assert control(url, "state").json()["tweets"] == []
    assert control(url, "requests").json() == []


@pytest.mark.parametrize(
    ("action", "payload", "status", "message"),
    [
        ("fail", {"path": "/2/tweets", "error": "meteor"}, 400, "unknown error 'meteor'"),
        ("fail", {"error": "server"}, 400, "'path'"),
        ("fail", {"path": "/2/tweets", "colour": "red"}, 400, "unknown fields"),
        ("inject-comment", {"in_reply_to": "1", "text": "?"}, 400, "no tweet 1"),
        ("set-tier", {"tier": "enterprise"}, 400, "free, basic or pro"),
        ("launch", {}, 404, "unknown control"),
    ],
)
def test_bad_control_requests_are_explained(
    sandbox: Sandbox, action: str, payload: dict, status: int, message: str
) -> None:
    answer = control(sandbox.twitter_url, action, payload)

    assert answer.status_code == status
    assert message in answer.json()["error"]


def test_every_x_answer_carries_rate_limit_headers(
    sandbox: Sandbox, oauth: dict[str, str]
) -> None:
    url = sandbox.twitter_url
    answers = [
        requests.get(f"{url}/2/users/me", headers=oauth, timeout=5),
        requests.get(f"{url}/2/users/me", timeout=5),  # 401
        requests.post(f"{url}/2/tweets", json={"text": "a"}, headers=oauth, timeout=5),
        requests.delete(f"{url}/2/tweets/99", headers=oauth, timeout=5),  # 404
        requests.get(f"{url}/2/nothing/here", headers=oauth, timeout=5),
    ]

    assert [a.status_code for a in answers] == [200, 401, 201, 404, 404]
    for answer in answers:
        assert answer.headers["x-rate-limit-limit"] == "300"
        assert int(answer.headers["x-rate-limit-remaining"]) < 300
        assert int(answer.headers["x-rate-limit-reset"]) > time.time()


def test_an_exhausted_window_answers_429_until_reset(oauth: dict[str, str]) -> None:
    server = TwitterSandbox(consumer_key="sandbox-test-consumer", rate_limit=2)
    server.start()
    try:
        answers = [requests.get(f"{server.url}/2/users/me", headers=oauth, timeout=5)
                   for _ in range(3)]
    finally:
        server.stop()

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["x-rate-limit-remaining"] for a in answers] == ["1", "0", "0"]
    assert answers[2].headers["x-rate-limit-reset"] == answers[0].headers["x-rate-limit-reset"]


def test_x_comment_edits_hides_and_deletes_show_in_the_next_fetch(
    sandbox: Sandbox, twitter: TwitterChannel
) -> None:
    root = twitter.post(Message("Umfrage"))
    x = sandbox.twitter
    first = x.control("inject-comment", in_reply_to=root.remote_id, author_handle="a", text="Ja")
    second = x.control("inject-comment", in_reply_to=root.remote_id, author_handle="b", text="Nö")

    x.control("edit-comment", id=first["id"], text="Ja, unbedingt")
    x.control("hide-comment", id=first["id"])
    x.control("delete-comment", id=second["id"])

    page = twitter.fetch_comments(root.remote_id, None)
    assert [(c.remote_id, c.text) for c in page.comments] == [(first["id"], "Ja, unbedingt")]
    state = sandbox.state()["twitter"]
    assert {t["id"]: t["hidden"] for t in state["tweets"]}[first["id"]] is True
    assert [t["id"] for t in state["deleted"]] == [second["id"]]


def test_facebook_comment_edits_hides_and_deletes_show_in_the_next_fetch(
    sandbox: Sandbox, facebook: FacebookChannel
) -> None:
    root = facebook.post(Message("Umfrage"))
    fb = sandbox.facebook
    first = fb.control("inject-comment", on=root.remote_id, author_name="Anna", text="Ja")
    second = fb.control("inject-comment", on=root.remote_id, author_name="Ben", text="Nö")

    control(sandbox.facebook.url, "edit-comment", {"id": first["id"], "text": "Ja, gern"})
    control(sandbox.facebook.url, "hide-comment", {"id": first["id"]})
    control(sandbox.facebook.url, "delete-comment", {"id": second["id"]})

    page = facebook.fetch_comments(root.remote_id, None)
    assert [(c.remote_id, c.text, c.hidden) for c in page.comments] == [
        (first["id"], "Ja, gern", True)
    ]


def test_graph_sandbox_refuses_unknown_fields_and_missing_tokens(sandbox: Sandbox) -> None:
    api = sandbox.facebook_url
    page = sandbox.facebook.page_id
    token = {"access_token": sandbox.facebook.page_token}

    no_token = requests.get(f"{api}/{page}/posts", timeout=5)
    bad_field = requests.get(f"{api}/{page}/posts", params={**token, "fields": "id,mood"},
                             timeout=5)
    wrong_token = requests.get(f"{api}/me", params={"access_token": "EAAguess"}, timeout=5)

    assert no_token.json()["error"]["code"] == 104
    assert "nonexisting field (mood)" in bad_field.json()["error"]["message"]
    assert wrong_token.json()["error"]["code"] == 190
    assert wrong_token.json()["error"]["type"] == "OAuthException"
    assert wrong_token.json()["error"]["fbtrace_id"]
    assert "X-App-Usage" in wrong_token.headers


def _graph_spec(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def test_facebook_channel_uses_only_documented_graph_fields_and_params(
    sandbox: Sandbox, facebook: FacebookChannel, tmp_path: Path
) -> None:
    """Meta's own field and edge descriptions (facebook-business-sdk-codegen) are the
    reference for the names the channel sends and asks for."""
    image = tmp_path / "bild.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n")

    root = facebook.post(Message("Text", link="https://elbtal.example"))
    facebook.post(Message("Bild", media=[MediaFile(image, "Alt")]))
    facebook.post(Message("Bilder", media=[MediaFile(image, "A"), MediaFile(image, "B")]))
    facebook.reply(root.remote_id, "Antwort")
    sandbox.facebook.control("inject-comment", on=root.remote_id, author_name="A", text="x")
    facebook.fetch_comments(root.remote_id, None)
    facebook.find_reply(root.remote_id, "Antwort")
    facebook.recent_posts(datetime.now(UTC) - timedelta(hours=1))

    comment_fields = {f["name"] for f in _graph_spec("Comment.json")["fields"]}
    post_fields = {f["name"] for f in _graph_spec("PagePost.json")["fields"]}
    # an edge is read inline by field expansion too: attachments{unshimmed_url,...}
    post_fields |= {api["endpoint"] for api in _graph_spec("PagePost.json")["apis"]
                    if api["method"] == "GET" and api.get("endpoint")}
    page_apis = _graph_spec("Page.json")["apis"]
    edge_params = {
        (api["method"], api.get("endpoint")): {p["name"] for p in api.get("params", [])}
        for api in page_apis
    }
    comment_params = {
        p["name"]
        for api in _graph_spec("Comment.json")["apis"]
        if api.get("endpoint") == "comments"
        for p in api.get("params", [])
    }
    auth = {"access_token", "appsecret_proof"}
    seen = set()
    for entry in sandbox.facebook.requests():
        path, method = entry["path"], entry["method"]
        fields = entry["query"].get("fields", "")
        top_level = {f for f in re.sub(r"\{[^{}]*\}", "", fields).split(",") if f}
        sent = set((entry["request"] or {}).keys()) - auth
        seen.add(path.rsplit("/", 1)[1])
        if path.endswith("/comments"):
            assert top_level <= comment_fields
            assert set(entry["query"]) - {"fields", "limit", "after"} <= comment_params
            assert sent <= comment_params
        elif path.endswith("/posts"):
            assert top_level <= post_fields
        elif path.endswith("/feed"):
            indexed = {"attached_media" if k.startswith("attached_media[") else k for k in sent}
            assert indexed <= edge_params[(method, "feed")]
        elif path.endswith("/photos"):
            assert sent - {"source"} <= edge_params[(method, "photos")]  # the file part
    assert {"comments", "posts", "feed", "photos"} <= seen


def test_state_file_survives_the_process(tmp_path: Path) -> None:
    state_file = tmp_path / "demo" / "sandbox.json"
    with Sandbox(state_file=state_file) as first:
        url = first.twitter_url
        headers = {"Authorization": 'OAuth oauth_consumer_key="sandbox-consumer-key"'}
        posted = requests.post(f"{url}/2/tweets", json={"text": "Bleibt"}, headers=headers,
                               timeout=5).json()["data"]
        written = json.loads(state_file.read_text(encoding="utf-8"))
        assert [t["text"] for t in written["twitter"]["tweets"]] == ["Bleibt"]

    with Sandbox(state_file=state_file) as second:
        assert [t["id"] for t in second.state()["twitter"]["tweets"]] == [posted["id"]]
        headers = {"Authorization": 'OAuth oauth_consumer_key="sandbox-consumer-key"'}
        later = requests.post(f"{second.twitter_url}/2/tweets", json={"text": "Neu"},
                              headers=headers, timeout=5).json()["data"]
        assert int(later["id"]) > int(posted["id"])


def test_unreadable_state_file_is_an_error(tmp_path: Path) -> None:
    state_file = tmp_path / "broken.json"
    state_file.write_text("{not json", encoding="utf-8")

    with pytest.raises(ValueError, match=r"broken\.json cannot be read"):
        Sandbox(state_file=state_file).start()


CLIENT = """
import sys
from publish.posting.channels import Message, TwitterChannel, TwitterCredentials
credentials = TwitterCredentials("sandbox-test-consumer", "s1", "t1", "s2")
channel = TwitterChannel(credentials, api_base=sys.argv[1], timeout=60)
channel.post(Message("Angenommen, dann abgestürzt"))
print("the client should have been killed before this line")
"""


def test_a_client_can_be_killed_after_the_network_accepted_its_post(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.twitter.fail(method="POST", path="/2/tweets", delay_after_accept=60)
    script = tmp_path / "client.py"
    script.write_text(textwrap.dedent(CLIENT), encoding="utf-8")
    client = subprocess.Popen(
        [sys.executable, str(script), sandbox.twitter_url],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not sandbox.state()["twitter"]["tweets"] and time.monotonic() < deadline:
            assert client.poll() is None, client.stderr.read() if client.stderr else ""
            time.sleep(0.05)
    finally:
        client.send_signal(signal.SIGKILL)
        stdout, _ = client.communicate(timeout=30)

    assert client.returncode == -signal.SIGKILL
    assert b"should have been killed" not in stdout
    assert [t["text"] for t in sandbox.state()["twitter"]["tweets"]] == [
        "Angenommen, dann abgestürzt"
    ]
