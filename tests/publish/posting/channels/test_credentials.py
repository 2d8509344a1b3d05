"""Credentials: environment and secrets file, refused inside git, never in a repr or a log."""

from __future__ import annotations

import logging
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sandbox_credentials import (
    ACCESS_SECRET,
    ACCESS_TOKEN,
    APP_SECRET,
    CONSUMER_KEY,
    CONSUMER_SECRET,
    PAGE_ID,
    PAGE_TOKEN,
    SECRETS,
)

from publish.posting.channels import (
    CredentialsError,
    FacebookChannel,
    FacebookCredentials,
    MediaFile,
    Message,
    TransientError,
    TwitterChannel,
    TwitterCredentials,
    load_credentials,
)
from publish.sandbox import Sandbox

TWITTER_ENV = {
    "DP_TWITTER_CONSUMER_KEY": CONSUMER_KEY,
    "DP_TWITTER_CONSUMER_SECRET": CONSUMER_SECRET,
    "DP_TWITTER_ACCESS_TOKEN": ACCESS_TOKEN,
    "DP_TWITTER_ACCESS_TOKEN_SECRET": ACCESS_SECRET,
}


def secrets_folder(tmp_path: Path) -> Path:
    """A folder outside any git work tree (tmp_path itself is not in one)."""
    folder = tmp_path / "secrets"
    folder.mkdir()
    return folder


def test_twitter_credentials_from_the_environment() -> None:
    credentials = load_credentials("twitter", {**TWITTER_ENV, "HOME": "/root"})

    assert credentials == TwitterCredentials(
        CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET
    )


def test_missing_variables_are_named_without_values() -> None:
    environ = {"DP_TWITTER_CONSUMER_KEY": CONSUMER_KEY, "DP_TWITTER_ACCESS_TOKEN": " "}

    with pytest.raises(CredentialsError) as caught:
        load_credentials("twitter", environ)

    message = str(caught.value)
    assert "DP_TWITTER_CONSUMER_SECRET" in message
    assert "DP_TWITTER_ACCESS_TOKEN," in message  # blank counts as missing
    assert "DP_TWITTER_ACCESS_TOKEN_SECRET" in message
    assert CONSUMER_KEY not in message


def test_facebook_page_id_and_app_secret_are_optional() -> None:
    credentials = load_credentials("facebook", {"DP_FACEBOOK_PAGE_TOKEN": PAGE_TOKEN})

    assert credentials == FacebookCredentials(page_token=PAGE_TOKEN)


def test_env_format_secrets_file_with_the_environment_winning(tmp_path: Path) -> None:
    file = secrets_folder(tmp_path) / "elbtal.env"
    file.write_text(
        "# Stadtwerke Elbtal\n"
        f"export DP_FACEBOOK_PAGE_ID={PAGE_ID}\n"
        f'DP_FACEBOOK_PAGE_TOKEN="{PAGE_TOKEN}"\n'
        f"DP_FACEBOOK_APP_SECRET='{APP_SECRET}'\n",
        encoding="utf-8",
    )
    file.chmod(0o600)

    from_file = load_credentials("facebook", {"DP_SECRETS_FILE": str(file)})
    overridden = load_credentials(
        "facebook", {"DP_FACEBOOK_PAGE_TOKEN": "EAAfromTheEnvironment"}, secrets_file=file
    )

    assert from_file == FacebookCredentials(PAGE_TOKEN, PAGE_ID, APP_SECRET)
    assert overridden.page_token == "EAAfromTheEnvironment"
    assert overridden.app_secret == APP_SECRET


def test_toml_secrets_file(tmp_path: Path) -> None:
    file = secrets_folder(tmp_path) / "secrets.toml"
    file.write_text(
        "".join(f'{name} = "{value}"\n' for name, value in TWITTER_ENV.items()), encoding="utf-8"
    )
    file.chmod(0o600)

    assert load_credentials("twitter", {}, secrets_file=file) == TwitterCredentials(
        CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET
    )


def test_secrets_file_inside_a_git_work_tree_is_refused(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "config").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(site)], check=True)
    file = site / "config" / "secrets.env"
    file.write_text(f"DP_FACEBOOK_PAGE_TOKEN={PAGE_TOKEN}\n", encoding="utf-8")

    with pytest.raises(CredentialsError, match="inside the git work tree") as caught:
        load_credentials("facebook", {"DP_SECRETS_FILE": str(file)})
    assert PAGE_TOKEN not in str(caught.value)


def test_unreadable_secrets_file_names_the_line_not_the_secret(tmp_path: Path) -> None:
    file = secrets_folder(tmp_path) / "broken.env"
    file.write_text(f"DP_FACEBOOK_PAGE_ID={PAGE_ID}\n{PAGE_TOKEN}\n", encoding="utf-8")
    file.chmod(0o600)

    with pytest.raises(CredentialsError, match=r"broken.env:2: expected NAME=value") as caught:
        load_credentials("facebook", {}, secrets_file=file)
    assert PAGE_TOKEN not in str(caught.value)


def test_world_readable_secrets_file_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    file = secrets_folder(tmp_path) / "open.env"
    file.write_text(f"DP_FACEBOOK_PAGE_TOKEN={PAGE_TOKEN}\n", encoding="utf-8")
    file.chmod(0o644)

    load_credentials("facebook", {}, secrets_file=file)

    assert "chmod 600" in caplog.text


def test_missing_secrets_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="not found"):
        load_credentials("twitter", {"DP_SECRETS_FILE": str(tmp_path / "nope.env")})


def test_unknown_channel_is_an_error() -> None:
    with pytest.raises(CredentialsError, match="unknown channel 'mastodon'"):
        load_credentials("mastodon", {})


def test_reprs_mask_every_secret() -> None:
    twitter = TwitterCredentials(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET)
    facebook = FacebookCredentials(PAGE_TOKEN, PAGE_ID, APP_SECRET)

    shown = f"{twitter!r} {twitter} {facebook!r} {facebook} {[twitter, facebook]}"

    assert all(secret not in shown for secret in SECRETS)
    assert PAGE_ID in shown  # not a secret, and useful when debugging


def test_no_secret_reaches_the_logs_even_at_debug_level(
    tmp_path: Path, image: Path, caplog: pytest.LogCaptureFixture
) -> None:
    twitter_credentials = TwitterCredentials(
        CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET
    )
    facebook_credentials = FacebookCredentials(PAGE_TOKEN, PAGE_ID, APP_SECRET)
    caplog.set_level(logging.DEBUG)
    with Sandbox(consumer_key=CONSUMER_KEY, page_token=PAGE_TOKEN, app_secret=APP_SECRET) as box:
        twitter = TwitterChannel(twitter_credentials, api_base=box.twitter_url, timeout=5)
        facebook = FacebookChannel(facebook_credentials, api_base=box.facebook_url, timeout=5)
        for channel in (twitter, facebook):
            posted = channel.post(Message("Geheim?", media=[MediaFile(image, "Bild")]))
            channel.reply(posted.remote_id, "Antwort")
            channel.fetch_comments(posted.remote_id, None)
            channel.recent_posts(datetime.now(UTC) - timedelta(hours=1))
            channel.health()
            channel.delete(posted.remote_id)
        box.twitter.control("revoke-token")
        box.facebook.control("revoke-token")
        for channel in (twitter, facebook):
            channel.health()
    with pytest.raises(TransientError) as refused:  # the sandbox is gone: connection refused
        facebook.recent_posts(datetime.now(UTC))

    logged = caplog.text
    assert "urllib3.connectionpool" in logged and "oauthlib" in logged  # DEBUG was captured
    assert "access_token=***" in logged
    assert all(secret not in logged for secret in SECRETS)
    assert all(secret not in str(refused.value) for secret in SECRETS)
