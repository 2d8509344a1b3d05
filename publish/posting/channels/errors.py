"""What can go wrong when talking to a network, in the terms syndication acts on.

Each network reports failures its own way (X: HTTP status and problem bodies; Graph API:
numeric error codes); callers should not need to know either. The classes say what to
do next: retry later (:class:`TransientError`), wait until a time (:class:`RateLimited`),
ask a human to renew a token (:class:`AuthExpired`), give up on this piece
(:class:`Rejected`), or look the post up because it is already there
(:class:`DuplicateContent`).
"""

from __future__ import annotations

from datetime import datetime


class ChannelError(Exception):
    """Base of every failure a channel reports; the message is safe to show and log."""


class TransientError(ChannelError):
    """Worth retrying later: a 5xx, a timeout, a dropped connection.

    ``maybe_delivered`` is true when the request may have reached the network before it
    failed (a timeout or dropped connection on a mutating call): the post may exist, so
    the caller must reconcile before it retries, or it could post twice.
    """

    def __init__(self, message: str, *, maybe_delivered: bool = False) -> None:
        super().__init__(message)
        self.maybe_delivered = maybe_delivered


class RateLimited(ChannelError):
    """The network refuses calls until ``until`` (aware, UTC)."""

    def __init__(self, until: datetime, message: str = "") -> None:
        super().__init__(message or f"rate limited until {until.isoformat()}")
        self.until = until


class AuthExpired(ChannelError):
    """The credentials no longer work; a human must renew them (the message says which)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


class Rejected(ChannelError):
    """The network refused this request for good; retrying the same request will not help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DuplicateContent(Rejected):
    """The network already has a post with this content, most likely ours from an earlier
    attempt whose answer got lost: reconcile (find it) instead of failing."""


class ReadNotAvailable(ChannelError):
    """The account's API access level does not allow reading (the X free tier can post but
    not search replies); comment sync for this channel cannot work until it is upgraded."""


class BudgetSpent(ChannelError):
    """This run's budget of read requests is used up (``Channel.read_budget``): the
    network was not asked; the rest waits for the next run."""
