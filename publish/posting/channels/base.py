"""The one interface every network sits behind, and the plain data that crosses it.

Syndication, comment sync and moderation speak only these types, so a network can be
swapped for the sandbox (same code, other base URL) or for a dry run (same code path,
mutating calls short-circuited in ``_request()``) without their knowing.
"""

from __future__ import annotations

import html
import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

Clock = Callable[[], datetime]

# What the ids a dry run makes up contain (alone on X, after the Page id on Facebook).
DRY_RUN_MARK = "dry-run-"
# Networks rewrite links (X shortens every URL to t.co), so texts compare without them.
_LINK = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# The @handles X puts before a reply's text (and any the text itself starts with).
_LEADING_MENTIONS = re.compile(r"^(?:\s*@\w{1,15}\b)+\s*")


def utc_now() -> datetime:
    return datetime.now(UTC)


def comparable_text(text: str | None) -> str:
    """``text`` as lookups after a lost answer compare it, for posts and replies on every
    network: what a network may change on the way is taken out (HTML entities, which X
    returns for ``&``, ``<`` and ``>``; links, which X replaces by t.co links; the
    @handles X prepends to a reply; Unicode composition; runs of whitespace)."""
    plain = unicodedata.normalize("NFC", html.unescape(text or ""))
    plain = _LEADING_MENTIONS.sub("", plain)
    return " ".join(_LINK.sub(" ", plain).split())


# The name find_reply's implementations and callers have used.
reply_text_key = comparable_text


def made_up_in_dry_run(remote_id: str) -> bool:
    """Whether ``remote_id`` came from a dry run, so no network can know it."""
    return DRY_RUN_MARK in remote_id


@dataclass(frozen=True)
class MediaFile:
    """An image to attach; ``alt`` is required by the guideline, so it is never optional."""

    path: Path
    alt: str


@dataclass(frozen=True)
class Message:
    """What to post. ``link`` is the linked article: Facebook shows it as a link preview,
    X (which has no link field) gets it appended to the text unless the text already
    contains it. ``reply_to`` makes the post a reply (an X thread part, or a comment under
    a Facebook post)."""

    text: str
    media: list[MediaFile] = field(default_factory=list)
    link: str | None = None
    reply_to: str | None = None

    def text_with_link(self) -> str:
        """The text with the link appended when the network has nowhere else to put it."""
        if not self.link or self.link in self.text:
            return self.text
        return f"{self.text.rstrip()} {self.link}" if self.text.strip() else self.link


@dataclass(frozen=True)
class RemotePost:
    """A post as the network knows it; ``created_at``/``text`` are None when the network's
    answer did not include them (X's create response has no time). ``reply_to`` is what
    it answers and ``links`` the links it carries (expanded), when the network says so:
    with the text they tell two pieces with the same words apart."""

    remote_id: str
    url: str
    created_at: datetime | None
    text: str | None
    reply_to: str | None = None
    links: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RemoteComment:
    """A reply (X) or comment (Facebook) by someone else under one of our posts.

    ``post_id`` is the post the conversation hangs under; ``parent_id`` is what this
    comment answers (the post itself, or another comment). Author fields are None when
    the network withholds them.
    """

    remote_id: str
    parent_id: str
    post_id: str
    author_handle: str | None
    author_name: str | None
    text: str
    created_at: datetime
    permalink: str | None
    hidden: bool = False


@dataclass(frozen=True)
class CommentPage:
    """All comments newer than the cursor passed in, and the cursor to pass next time
    (unchanged when nothing new arrived, None when the network gave none yet).
    ``reset``: the cursor passed in could not be used any more (too old for X's recent
    search), so ``cursor`` replaces it even when None."""

    comments: list[RemoteComment]
    cursor: str | None
    reset: bool = False


@dataclass(frozen=True)
class Health:
    """Whether the channel's credentials work and when they stop working, if known."""

    ok: bool
    expires_at: datetime | None
    message: str


class Channel(ABC):
    """One social network. Implementations do all I/O in one private ``_request()`` so
    that dry runs, error mapping and secret masking happen in exactly one place."""

    name: ClassVar[str]

    def __init__(self, *, dry_run: bool = False, clock: Clock = utc_now) -> None:
        self.dry_run = dry_run
        self.clock = clock
        # Read requests made so far, and the count at which reads stop (None: no limit);
        # comment sync sets it so a run stays within the network's read budget.
        self.reads = 0
        self.read_budget: int | None = None
        # How long one request may take before the channel gives up on it: a request of
        # a dead worker can land on the network until then (subclasses set their own).
        self.request_timeout = 30.0

    @abstractmethod
    def post(self, message: Message) -> RemotePost:
        """Publish ``message``; raises a :class:`~publish.posting.channels.errors.ChannelError`."""

    @abstractmethod
    def reply(self, remote_id: str, text: str) -> RemotePost:
        """Answer the post or comment ``remote_id`` with ``text``."""

    @abstractmethod
    def delete(self, remote_id: str) -> None:
        """Delete our post or reply; deleting what is already gone is not an error."""

    @abstractmethod
    def recent_posts(self, since: datetime) -> list[RemotePost]:
        """Our own posts since ``since``, newest first: what reconciliation after a crash
        looks through to find out whether an intent reached the network."""

    @abstractmethod
    def find_reply(self, parent_id: str, text: str) -> RemotePost | None:
        """Our own reply to ``parent_id`` (a post or a comment) whose text matches ``text``
        by :func:`reply_text_key`, or None.

        What reconciliation asks after a crash left a reply's send in doubt: found means
        it went out (record it), None means it did not (send it). Reads are real in a dry
        run too; a dry run's made-up parent id (``dry-run-…``) finds nothing.
        """

    @abstractmethod
    def fetch_comments(self, post_id: str, cursor: str | None) -> CommentPage:
        """Comments by others under ``post_id`` newer than ``cursor``, every page of them.

        With ``cursor=None`` it is a full re-read: every comment the network still shows,
        with its current text, so that a caller can see edits (text changed) and
        deletions (missing).
        """

    @abstractmethod
    def health(self) -> Health:
        """Check the credentials; never raises a ChannelError, reports it instead."""

    def __repr__(self) -> str:
        mode = " dry-run" if self.dry_run else ""
        return f"<{type(self).__name__}{mode}>"
