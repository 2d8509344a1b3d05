"""make_channel: the CHANNELS setting decides where a channel talks to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sandbox_credentials import PAGE_ID, PAGE_TOKEN

from editorial.settings import SettingsError
from publish.posting.channels import (
    FacebookChannel,
    FacebookCredentials,
    Message,
    TwitterChannel,
    TwitterCredentials,
    make_channel,
)
from publish.sandbox import Sandbox
from publish.settings import channel_settings, load_settings


def test_defaults_point_at_the_real_networks(repo_root: Path) -> None:
    settings = load_settings(repo_root / "pelicanconf.py")

    twitter = channel_settings(settings, "twitter")
    facebook = channel_settings(settings, "facebook")

    assert twitter.api_base == "https://api.twitter.com"
    assert facebook.api_base == "https://graph.facebook.com/v26.0"
    assert twitter.timeout == facebook.timeout == 30.0


def test_channels_built_from_settings_talk_to_the_configured_base(
    sandbox: Sandbox,
    twitter_credentials: TwitterCredentials,
    facebook_credentials: FacebookCredentials,
) -> None:
    settings: dict[str, Any] = {
        "CHANNELS": {
            "twitter": {"api_base": sandbox.twitter_url, "timeout": 5},
            "facebook": {"api_base": sandbox.facebook_url + "/", "page_id": PAGE_ID},
        }
    }

    twitter = make_channel("twitter", settings, twitter_credentials)
    facebook = make_channel("facebook", settings, facebook_credentials, dry_run=True)

    assert isinstance(twitter, TwitterChannel) and not twitter.dry_run
    assert isinstance(facebook, FacebookChannel) and facebook.dry_run
    twitter.post(Message("Über die Einstellungen"))
    facebook.post(Message("Nur geprobt"))
    state = sandbox.state()
    assert [t["text"] for t in state["twitter"]["tweets"]] == ["Über die Einstellungen"]
    assert state["facebook"]["posts"] == []
    assert settings["CHANNELS"]["twitter"] == {"api_base": sandbox.twitter_url, "timeout": 5}


def test_page_id_may_come_from_the_environment_but_not_twice_differently() -> None:
    only_env = make_channel("facebook", {}, FacebookCredentials(PAGE_TOKEN, page_id=PAGE_ID))
    assert isinstance(only_env, FacebookChannel) and only_env.page_id == PAGE_ID

    settings = {"CHANNELS": {"facebook": {"page_id": "200000000000002"}}}
    with pytest.raises(SettingsError, match="set the Page id in one place"):
        make_channel("facebook", settings, FacebookCredentials(PAGE_TOKEN, page_id=PAGE_ID))
    with pytest.raises(SettingsError, match="Page id is missing"):
        make_channel("facebook", {}, FacebookCredentials(PAGE_TOKEN))


@pytest.mark.parametrize(
    ("channels", "message"),
    [
        ({"mastodon": {}}, "unknown channel"),
        ({"twitter": {"api_bse": "https://api.x.com"}}, "unknown key 'api_bse'"),
        ({"twitter": {"api_base": "http://api.twitter.com"}}, "must use https"),
        ({"twitter": {"api_base": "ftp://127.0.0.1"}}, "not an http"),
        ({"twitter": {"timeout": 0}}, "positive number"),
        ({"facebook": {"page_id": 100000000000001}}, "numeric id as a string"),
        ({"facebook": "graph"}, "must be a dict"),
    ],
)
def test_bad_channel_settings_name_the_setting(
    channels: dict[str, Any], message: str, twitter_credentials: TwitterCredentials
) -> None:
    settings = {"DP_SETTINGS_FILE": "pelicanconf.py", "CHANNELS": channels}

    with pytest.raises(SettingsError, match=message) as caught:
        make_channel("twitter", settings, twitter_credentials)

    assert str(caught.value).startswith("pelicanconf.py: CHANNELS[")


def test_wrong_credentials_type_is_a_programming_error(
    facebook_credentials: FacebookCredentials,
) -> None:
    with pytest.raises(TypeError):
        make_channel("twitter", {}, facebook_credentials)
