"""What the store tells its callers when a change cannot be made as asked.

A :class:`Conflict` is the normal outcome of two workers racing for the same row: the
loser learns it lost instead of silently overwriting the winner's change.
"""

from __future__ import annotations


class StoreError(Exception):
    """The database cannot be used (bad URL, unreachable server); the message says why."""


class NotFound(StoreError):
    """No row with the given key."""


class Conflict(StoreError):
    """The row was not in the state the change expected: someone else changed it first."""
