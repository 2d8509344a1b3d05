"""The sandbox servers on real sockets, with the credentials their tests use."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from publish.posting.channels import (
    FacebookChannel,
    FacebookCredentials,
    TwitterChannel,
    TwitterCredentials,
)
from publish.sandbox import Sandbox

CONSUMER_KEY = "sandbox-test-consumer"
PAGE_TOKEN = "EAAsandboxTestToken"
OAUTH = {"Authorization": f'OAuth oauth_consumer_key="{CONSUMER_KEY}", oauth_token="1-abc"'}


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(consumer_key=CONSUMER_KEY, page_token=PAGE_TOKEN) as box:
        yield box


@pytest.fixture
def twitter(sandbox: Sandbox) -> TwitterChannel:
    credentials = TwitterCredentials(CONSUMER_KEY, "secret-one", "1-token", "secret-two")
    return TwitterChannel(credentials, api_base=sandbox.twitter_url, timeout=5)


@pytest.fixture
def facebook(sandbox: Sandbox) -> FacebookChannel:
    credentials = FacebookCredentials(PAGE_TOKEN, page_id=sandbox.facebook.page_id)
    return FacebookChannel(credentials, api_base=sandbox.facebook_url, timeout=5)


@pytest.fixture
def oauth() -> dict[str, str]:
    """An Authorization header the X sandbox accepts (it checks the consumer key only)."""
    return dict(OAUTH)


@pytest.fixture
def twitter_timeout(sandbox: Sandbox) -> Callable[[float], TwitterChannel]:
    """A TwitterChannel with its own (short) request timeout."""

    def make(timeout: float) -> TwitterChannel:
        credentials = TwitterCredentials(CONSUMER_KEY, "secret-one", "1-token", "secret-two")
        return TwitterChannel(credentials, api_base=sandbox.twitter_url, timeout=timeout)

    return make
