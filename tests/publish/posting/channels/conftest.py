"""Channels against the sandbox over real sockets, with test-only credentials."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sandbox_credentials import (
    ACCESS_SECRET,
    ACCESS_TOKEN,
    APP_SECRET,
    CONSUMER_KEY,
    CONSUMER_SECRET,
    NOW,
    PAGE_ID,
    PAGE_TOKEN,
    png_bytes,
)

from publish.posting.channels import (
    FacebookChannel,
    FacebookCredentials,
    TwitterChannel,
    TwitterCredentials,
)
from publish.sandbox import Sandbox


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(consumer_key=CONSUMER_KEY, page_token=PAGE_TOKEN, app_secret=APP_SECRET) as box:
        yield box


@pytest.fixture
def twitter_credentials() -> TwitterCredentials:
    return TwitterCredentials(CONSUMER_KEY, CONSUMER_SECRET, ACCESS_TOKEN, ACCESS_SECRET)


@pytest.fixture
def facebook_credentials() -> FacebookCredentials:
    return FacebookCredentials(page_token=PAGE_TOKEN, page_id=PAGE_ID, app_secret=APP_SECRET)


@pytest.fixture
def twitter(sandbox: Sandbox, twitter_credentials: TwitterCredentials) -> TwitterChannel:
    return TwitterChannel(twitter_credentials, api_base=sandbox.twitter_url, timeout=5)


@pytest.fixture
def facebook(sandbox: Sandbox, facebook_credentials: FacebookCredentials) -> FacebookChannel:
    return FacebookChannel(
        facebook_credentials, api_base=sandbox.facebook_url, timeout=5, clock=lambda: NOW
    )


@pytest.fixture
def image(tmp_path: Path) -> Path:
    path = tmp_path / "team.png"
    path.write_bytes(png_bytes())
    return path


@pytest.fixture
def second_image(tmp_path: Path) -> Path:
    path = tmp_path / "zähler.jpg"
    path.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) + b"\xff\xd9")
    return path
