"""HTTP plumbing the channels share: a configurable base URL under tweepy, default
timeouts, and turning a failed connection into a :class:`TransientError` that says
whether the request may have been delivered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter

from publish.posting.channels.credentials import mask_secrets
from publish.posting.channels.errors import TransientError


class BaseURLAdapter(HTTPAdapter):
    """Sends requests for ``public_base`` to ``base`` instead, with a default timeout.

    tweepy's ``Client.request`` has ``https://api.twitter.com`` written into it and passes
    no timeout; mounted on the client's session, this adapter points it at the configured
    API base (the sandbox, in tests) and keeps a dead server from hanging the scheduler.
    The OAuth signature stays computed for the public URL, which the sandbox accepts.
    """

    def __init__(self, public_base: str, base: str, timeout: float) -> None:
        super().__init__(max_retries=0)  # a POST is never retried behind the caller's back
        self.public_base = public_base.rstrip("/")
        self.base = base.rstrip("/")
        self.timeout = timeout

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        url = request.url or ""
        if url.startswith(self.public_base + "/"):
            request.url = self.base + url[len(self.public_base) :]
        return super().send(
            request,
            stream=stream,
            timeout=self.timeout if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


def network_failure(
    exc: requests.RequestException, network: str, method: str, route: str
) -> TransientError:
    """A :class:`TransientError` for a request that got no HTTP answer.

    A refused connection never reached the network; a read timeout or a dropped
    connection on a POST or DELETE may have been carried out all the same.
    """
    never_sent = isinstance(exc, requests.ConnectTimeout) or _refused(exc)
    kind = "timed out" if isinstance(exc, requests.Timeout) else "failed"
    detail = mask_secrets(str(exc))
    return TransientError(
        f"{network} {method} {route} {kind}: {detail}",
        maybe_delivered=method != "GET" and not never_sent,
    )


def _refused(exc: requests.RequestException) -> bool:
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return isinstance(reason, urllib3.exceptions.NewConnectionError)
