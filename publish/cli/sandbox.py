"""``dialogpress sandbox``: local X and Facebook APIs for demos and manual testing."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from types import FrameType

import click
from click.core import ParameterSource

from editorial.settings import SettingsError
from publish.cli import main
from publish.cli.common import (
    EXIT_FINDINGS,
    EXIT_USAGE,
    _,
    fail,
    format_option,
    load,
    settings_option,
)
from publish.sandbox import Sandbox
from publish.sandbox.facebook import PAGE_ID, PAGE_TOKEN
from publish.settings import channel_settings

CONTROLS = (
    "GET state",
    "GET requests",
    "POST reset",
    "POST fail",
    "POST inject-comment",
    "POST edit-comment",
    "POST hide-comment",
    "POST delete-comment",
    "POST revoke-token",
)


@main.command("sandbox")
@click.option("--port-x", "port_x", type=int, default=8771, show_default=True,
              help="Port of the X API sandbox (0: any free port).")
@click.option("--port-facebook", "port_facebook", type=int, default=8772, show_default=True,
              help="Port of the Graph API sandbox (0: any free port).")
@click.option("--state", "state_file", type=click.Path(dir_okay=False),
              help="JSON file to load the state from and write it to after every change.")
@click.option("--page-size", type=click.IntRange(min=1), default=2, show_default=True,
              help="Items per page of listings (small, so that clients must paginate).")
@click.option("--consumer-key", default="sandbox-consumer-key", show_default=True,
              help="The oauth_consumer_key the X sandbox accepts.")
@click.option("--page-id", help="The Facebook Page id (default: CHANNELS['facebook']['page_id'] "
              f"from the settings, else {PAGE_ID}).")
@click.option("--page-token", default=PAGE_TOKEN, show_default=True,
              help="The Page access token the Graph sandbox accepts.")
@click.option("--demo-comments", is_flag=True,
              help="Under the first post on each network, add a few replies by others "
              "(praise, a power cut, spam, a question, personal data) to moderate.")
@format_option("text", "json")
@settings_option
def sandbox_command(
    port_x: int,
    port_facebook: int,
    state_file: str | None,
    page_size: int,
    consumer_key: str,
    page_id: str | None,
    page_token: str,
    demo_comments: bool,
    output_format: str,
    settings_path: str,
) -> None:
    """Run the X and Facebook API sandboxes in the foreground until Ctrl-C or SIGTERM.

    They answer on 127.0.0.1 like the real APIs (same paths, bodies, headers and
    errors), keep what was posted, and take control requests under /_sandbox/ to
    inject comments, script failures or revoke the token. Point the channels at them
    with CHANNELS in pelicanconf.py (the command prints the lines to use). The
    settings are read only for the Facebook Page id, and only if the file exists:
    the sandbox also runs outside a site.

    Example:

        dialogpress sandbox --state sandbox-state.json --demo-comments

        curl -X POST http://127.0.0.1:8771/_sandbox/fail \\
             -d '{"method": "POST", "path": "/2/tweets", "error": "server"}'
    """
    page_id = page_id or _configured_page_id(settings_path) or PAGE_ID
    try:
        sandbox = Sandbox(
            twitter_port=port_x,
            facebook_port=port_facebook,
            consumer_key=consumer_key,
            page_id=page_id,
            page_token=page_token,
            page_size=page_size,
            state_file=state_file,
            demo_comments=demo_comments,
        )
    except OSError as exc:
        fail(_("cannot listen on 127.0.0.1 ports %(x)s/%(facebook)s: %(reason)s", x=port_x,
               facebook=port_facebook, reason=exc.strerror), EXIT_FINDINGS)
        return
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    problem = None
    try:
        sandbox.start()
        _announce(sandbox, output_format, page_id, page_token == PAGE_TOKEN)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    except ValueError as exc:  # an unreadable --state file
        problem = str(exc)
    finally:
        sandbox.stop()
        signal.signal(signal.SIGTERM, previous)
    if problem:
        fail(problem, EXIT_FINDINGS)
    if output_format == "text":
        click.echo(_("Sandbox stopped."))


def _configured_page_id(settings_path: str) -> str | None:
    source = click.get_current_context().get_parameter_source("settings_path")
    if source == ParameterSource.DEFAULT and not Path(settings_path).is_file():
        return None
    try:
        return channel_settings(load(settings_path), "facebook").page_id
    except SettingsError as exc:
        fail(str(exc), EXIT_USAGE)


def _announce(sandbox: Sandbox, output_format: str, page_id: str, default_token: bool) -> None:
    urls = {
        "twitter": sandbox.twitter_url,
        "facebook": sandbox.facebook_url,
        "twitter_control": f"{sandbox.twitter_url}/_sandbox/",
        "facebook_control": f"{sandbox.facebook.url}/_sandbox/",
        "state_file": str(sandbox.state_file) if sandbox.state_file else None,
        "page_id": page_id,
        "demo_comments": sandbox.twitter.demo_comments,
    }
    if output_format == "json":
        click.echo(json.dumps(urls))
        return
    channels = {
        "twitter": {"api_base": sandbox.twitter_url},
        "facebook": {"api_base": sandbox.facebook_url, "page_id": page_id},
    }
    token = PAGE_TOKEN if default_token else "<the --page-token value>"
    lines = [
        f"X API sandbox:     {sandbox.twitter_url}",
        f"Graph API sandbox: {sandbox.facebook_url}",
        f"Control endpoints: {urls['twitter_control']}<action> and "
        f"{urls['facebook_control']}<action>",
        "  " + ", ".join(CONTROLS) + ", POST set-tier (X), POST set-token (Facebook)",
        "In pelicanconf.py:",
        f"  CHANNELS = {json.dumps(channels)}",
        "In the environment (the X sandbox checks only the consumer key):",
        f"  DP_TWITTER_CONSUMER_KEY={sandbox.twitter.consumer_key}  (and any values for "
        "DP_TWITTER_CONSUMER_SECRET, DP_TWITTER_ACCESS_TOKEN, DP_TWITTER_ACCESS_TOKEN_SECRET)",
        f"  DP_FACEBOOK_PAGE_TOKEN={token}",
    ]
    if sandbox.twitter.demo_comments:
        lines.append("The first post on each network gets demo replies by others (once).")
    if sandbox.state_file:
        lines.append(f"State is written to {sandbox.state_file} after every change.")
    lines.append("Press Ctrl-C to stop.")
    click.echo("\n".join(lines))
