"""Local stand-ins for X and Facebook: the same API paths, bodies, headers and errors,
on 127.0.0.1, keeping what was posted so that tests and demos can look.

The channels reach them through their ``api_base`` setting, so the code under test is the
code that talks to the real networks. Start both with :class:`Sandbox` (a context
manager) or from a shell with ``dialogpress sandbox``.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from publish.sandbox.facebook import PAGE_ID, PAGE_TOKEN, FacebookSandbox
from publish.sandbox.twitter import TwitterSandbox

logger = logging.getLogger(__name__)

__all__ = ["FacebookSandbox", "Sandbox", "TwitterSandbox", "clock_from"]


def clock_from(start: datetime) -> Callable[[], float]:
    """A clock that reads ``start`` now and runs on from there at the real pace."""
    origin, began = start.timestamp(), time.monotonic()
    return lambda: origin + (time.monotonic() - began)


class Sandbox:
    """Both sandbox servers, each on its own thread.

    ``state_file``: when given, the state is loaded from it at start (if it exists) and
    written to it after every change, so a demo can inspect what was posted after the
    process is gone (even after a SIGKILL). ``twitter_clock``: X's clock (epoch seconds)
    for post times and the seven-day search window; tests that run at a fixed time pass
    :func:`clock_from`. ``demo_comments``: the first post our account
    makes on each network gets a few replies by others (see :mod:`publish.sandbox.demo`),
    so that a demo has an inbox to moderate.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        twitter_port: int = 0,
        facebook_port: int = 0,
        consumer_key: str = "sandbox-consumer-key",
        page_id: str = PAGE_ID,
        page_token: str = PAGE_TOKEN,
        app_secret: str | None = None,
        page_size: int = 2,
        state_file: str | os.PathLike[str] | None = None,
        demo_comments: bool = False,
        twitter_clock: Callable[[], float] = time.time,
    ) -> None:
        self.twitter = TwitterSandbox(
            host,
            twitter_port,
            consumer_key=consumer_key,
            page_size=page_size,
            demo_comments=demo_comments,
            clock=twitter_clock,
        )
        self.facebook = FacebookSandbox(
            host,
            facebook_port,
            page_id=page_id,
            page_token=page_token,
            app_secret=app_secret,
            page_size=page_size,
            demo_comments=demo_comments,
        )
        self.state_file = Path(state_file) if state_file else None
        self._save_lock = threading.Lock()

    @property
    def twitter_url(self) -> str:
        """The ``api_base`` for the twitter channel."""
        return self.twitter.url

    @property
    def facebook_url(self) -> str:
        """The ``api_base`` for the facebook channel (with the Graph version)."""
        return self.facebook.api_url

    def start(self) -> Sandbox:
        """Load the state file (if any) and serve; ValueError for an unreadable file."""
        if self.state_file:
            if self.state_file.exists():
                self.load(self.state_file)
            self.save()
        for server in (self.twitter, self.facebook):
            server.on_change = self.save if self.state_file else None
            server.start()
        return self

    def stop(self) -> None:
        for server in (self.twitter, self.facebook):
            server.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def state(self) -> dict[str, Any]:
        return {"twitter": self.twitter.state(), "facebook": self.facebook.state()}

    def reset(self) -> None:
        self.twitter.reset()
        self.facebook.reset()
        if self.state_file:
            self.save()

    def load(self, path: Path) -> None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"sandbox state file {path} cannot be read: {exc}") from None
        self.twitter.restore(data.get("twitter", {}))
        self.facebook.restore(data.get("facebook", {}))

    def save(self) -> None:
        """Write the state atomically: a reader never sees half a file."""
        if self.state_file is None:
            return
        with self._save_lock:
            text = json.dumps(self.state(), ensure_ascii=False, indent=2)
            folder = self.state_file.parent
            folder.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".sandbox-", suffix=".json")
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
            os.replace(temporary, self.state_file)
