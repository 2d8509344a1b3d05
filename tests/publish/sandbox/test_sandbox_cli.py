"""`dialogpress sandbox` as a real process: it prints where it listens, serves, and stops
cleanly on SIGTERM or Ctrl-C, leaving its state file behind."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests

from publish.posting.channels import Message, TwitterChannel, TwitterCredentials

REPO = Path(__file__).resolve().parents[3]


def start(*arguments: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", "from publish.cli import main; main()", "sandbox", *arguments],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sandbox_serves_until_sigterm_and_keeps_its_state(tmp_path: Path) -> None:
    settings = tmp_path / "pelicanconf.py"
    settings.write_text(
        'TIMEZONE = "Europe/Berlin"\nCHANNELS = {"facebook": {"page_id": "123456789012345"}}\n',
        encoding="utf-8",
    )
    state_file = tmp_path / "sandbox.json"
    process = start("--port-x", "0", "--port-facebook", "0", "--format", "json",
                    "--state", str(state_file), "-s", str(settings))
    try:
        assert process.stdout is not None
        urls = json.loads(process.stdout.readline())
        credentials = TwitterCredentials("sandbox-consumer-key", "a", "b", "c")
        channel = TwitterChannel(credentials, api_base=urls["twitter"], timeout=5)
        posted = channel.post(Message("Aus der Demo"))
        page = requests.get(f"{urls['facebook']}/me",
                            params={"access_token": "sandbox-page-token"}, timeout=5).json()
        state = requests.get(f"{urls['twitter_control']}state", timeout=5).json()
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)

    assert process.returncode == 0, errors
    assert urls["page_id"] == page["id"] == "123456789012345"
    assert [t["id"] for t in state["tweets"]] == [posted.remote_id]
    saved = json.loads(state_file.read_text(encoding="utf-8"))
    assert [t["text"] for t in saved["twitter"]["tweets"]] == ["Aus der Demo"]


def test_a_settings_file_given_but_missing_is_a_usage_error(tmp_path: Path) -> None:
    process = start("--port-x", "0", "--port-facebook", "0", "-s", str(tmp_path / "none.py"))
    output, errors = process.communicate(timeout=30)

    assert process.returncode == 2
    assert "none.py not found" in errors
    assert output == ""


def test_text_output_names_urls_settings_and_controls_and_stops_on_ctrl_c() -> None:
    process = start("--port-x", "0", "--port-facebook", "0")
    assert process.stdout is not None
    first = process.stdout.readline()
    process.send_signal(signal.SIGINT)
    output = first + process.stdout.read()  # not communicate(): readline() buffered the rest
    _, errors = process.communicate(timeout=30)

    assert process.returncode == 0, errors
    assert output.startswith("X API sandbox:     http://127.0.0.1:")
    assert "CHANNELS = {" in output
    assert "POST inject-comment" in output
    assert output.rstrip().endswith("Sandbox stopped.")


def test_a_busy_port_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = start("--port-x", str(port), "--port-facebook", "0")
        _, errors = process.communicate(timeout=30)

    assert process.returncode == 1
    assert f"cannot listen on 127.0.0.1 ports {port}/0" in errors


def test_demo_comments_flag_puts_replies_under_the_first_post() -> None:
    process = start("--port-x", "0", "--port-facebook", "0", "--format", "json",
                    "--demo-comments")
    try:
        assert process.stdout is not None
        urls = json.loads(process.stdout.readline())
        credentials = TwitterCredentials("sandbox-consumer-key", "a", "b", "c")
        channel = TwitterChannel(credentials, api_base=urls["twitter"], timeout=5)
        posted = channel.post(Message("Aus der Demo"))
        page = channel.fetch_comments(posted.remote_id, None)
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=30)

    assert process.returncode == 0, errors
    assert urls["demo_comments"] is True
    assert len(page.comments) == 4
    assert any("kein Strom" in comment.text for comment in page.comments)
