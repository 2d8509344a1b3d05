"""The social networks, one module each behind :class:`~publish.posting.channels.base.Channel`.

Callers build channels with :func:`make_channel` from the settings (API base URLs,
timeouts: ``CHANNELS`` in ``pelicanconf.py``) and credentials they loaded themselves
(:func:`~publish.posting.channels.credentials.load_credentials`), so nothing in here reads the
process environment and the same code talks to X, Facebook or the local sandbox.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from editorial.settings import Settings, SettingsError
from publish.posting.channels.base import (
    Channel,
    Clock,
    CommentPage,
    Health,
    MediaFile,
    Message,
    RemoteComment,
    RemotePost,
    utc_now,
)
from publish.posting.channels.credentials import (
    Credentials,
    CredentialsError,
    FacebookCredentials,
    TwitterCredentials,
    load_credentials,
)
from publish.posting.channels.errors import (
    AuthExpired,
    BudgetSpent,
    ChannelError,
    DuplicateContent,
    RateLimited,
    ReadNotAvailable,
    Rejected,
    TransientError,
)
from publish.settings import channel_settings

if TYPE_CHECKING:
    from publish.posting.channels.facebook import FacebookChannel
    from publish.posting.channels.twitter import TwitterChannel


def __getattr__(name: str) -> Any:
    """The network modules load on first use: a tick with nothing to post needs neither
    tweepy nor requests (PEP 562)."""
    if name == "FacebookChannel":
        from publish.posting.channels.facebook import FacebookChannel

        return FacebookChannel
    if name == "TwitterChannel":
        from publish.posting.channels.twitter import TwitterChannel

        return TwitterChannel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "AuthExpired",
    "BudgetSpent",
    "Channel",
    "ChannelError",
    "CommentPage",
    "Credentials",
    "CredentialsError",
    "DuplicateContent",
    "FacebookChannel",
    "FacebookCredentials",
    "Health",
    "MediaFile",
    "Message",
    "RateLimited",
    "ReadNotAvailable",
    "Rejected",
    "RemoteComment",
    "RemotePost",
    "TransientError",
    "TwitterChannel",
    "TwitterCredentials",
    "load_credentials",
    "make_channel",
]


def make_channel(
    name: str,
    settings: Settings,
    credentials: Credentials,
    dry_run: bool = False,
    *,
    clock: Clock = utc_now,
) -> Channel:
    """The channel ``name`` configured from ``settings["CHANNELS"]``.

    Raises :class:`SettingsError` for a bad ``CHANNELS`` entry or a Facebook Page id
    that is missing or set differently in the settings and in ``DP_FACEBOOK_PAGE_ID``.
    """
    config = channel_settings(settings, name)
    if name == "twitter":
        from publish.posting.channels.twitter import TwitterChannel

        if not isinstance(credentials, TwitterCredentials):
            raise TypeError("the twitter channel needs TwitterCredentials")
        return TwitterChannel(
            credentials,
            api_base=config.api_base,
            web_base=config.web_base,
            timeout=config.timeout,
            dry_run=dry_run,
            clock=clock,
        )
    from publish.posting.channels.facebook import FacebookChannel

    if not isinstance(credentials, FacebookCredentials):
        raise TypeError("the facebook channel needs FacebookCredentials")
    if config.page_id and credentials.page_id and config.page_id != credentials.page_id:
        raise SettingsError(
            f"CHANNELS['facebook']['page_id'] is {config.page_id} but DP_FACEBOOK_PAGE_ID is "
            f"{credentials.page_id}; set the Page id in one place"
        )
    page_id = config.page_id or credentials.page_id
    if not page_id:
        raise SettingsError(
            "the Facebook Page id is missing: set CHANNELS['facebook']['page_id'] in the "
            "settings or DP_FACEBOOK_PAGE_ID in the environment"
        )
    return FacebookChannel(
        credentials,
        page_id=page_id,
        api_base=config.api_base,
        web_base=config.web_base,
        timeout=config.timeout,
        dry_run=dry_run,
        clock=clock,
    )
