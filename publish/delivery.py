"""The steps of the delivery protocol that posts (:mod:`publish.syndication`) and replies
(:mod:`publish.moderation`) share: claim or take over a ledger entry, and begin a send
only while the lease still holds.

The protocol for one part is intent → claim or take over → reconcile (when in doubt) →
send → record; see :mod:`publish.store.ledger` for the states. Two rules live here so
that posts and replies cannot differ on them:

* A dead worker's entry is taken over at once, unless its send is in doubt and the
  channel's request timeout has not yet passed since the send was recorded: its request
  may still be on the wire (held by a proxy or the network) and land after a look-up
  found nothing, so a second send would make a duplicate. Until then the entry waits.
* The lease is checked again right before the network is called: by the time this
  process has held it (a monotonic clock, whatever time the run was given), so a worker
  that stalled past its lease notices, and by the database (still ours). An expired or
  lost lease hands the entry back and reports "busy", never a traceback.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from publish.store import Store, ledger
from publish.store.errors import Conflict
from publish.workers import dead_here

logger = logging.getLogger(__name__)

# Added to the channel's request timeout: time for the network to carry out a request
# it received at the last moment.
IN_FLIGHT_GRACE = timedelta(seconds=5)


@dataclass(frozen=True)
class Claimed:
    """Whether this worker now holds the entry, and why not when it does not."""

    ok: bool
    reason: str = ""
    at: float = field(default_factory=time.monotonic)  # when, on this process's clock


def effective_now(now: datetime) -> datetime:
    """The later of the run's clock and the wall clock: a run given an earlier time
    (``--now``) must still see leases and in-flight windows pass in real time."""
    return max(now, datetime.now(UTC))


def holder_is_dead(holder: str | None) -> bool:
    """True when the lease holder (``host:pid``) is a process on this host that is gone."""
    if not holder or ":" not in holder:
        return False
    host, _, pid = holder.rpartition(":")
    return pid.isdigit() and dead_here(host, int(pid))


def in_flight_until(sent_since: datetime | None, request_timeout: float) -> datetime | None:
    """Until when a send recorded at ``sent_since`` may still land on the network."""
    if sent_since is None:
        return None
    return sent_since + timedelta(seconds=request_timeout) + IN_FLIGHT_GRACE


def claim(
    store: Store,
    entry_id: int,
    holder: str | None,
    worker: str,
    now: datetime,
    *,
    sent_since: datetime | None,
    request_timeout: float,
) -> Claimed:
    """Take the entry's lease, or take it over from a dead worker (see the module)."""
    try:
        with store.transaction() as session:
            if holder and holder != worker and holder_is_dead(holder):
                until = in_flight_until(sent_since, request_timeout)
                if until is not None and effective_now(now) < until:
                    return Claimed(
                        False,
                        f"the send of dead worker {holder} may still land until "
                        f"{until.isoformat(timespec='seconds')}; taken over after that",
                    )
                ledger.take_over(session, entry_id, holder, worker, now)
            else:
                ledger.claim(session, entry_id, worker, now)
        return Claimed(True)
    except Conflict as exc:
        return Claimed(False, str(exc))


def begin_send(
    store: Store,
    entry_id: int,
    worker: str,
    now: datetime,
    claimed: Claimed,
    *,
    reply_to: str | None,
    lease: timedelta = ledger.DEFAULT_LEASE,
) -> int | str:
    """Record the send (the entry's attempts after it), or hand the entry back when the
    lease ran out or went to another worker meanwhile (the reason, as a string)."""
    try:
        held = time.monotonic() - claimed.at
        if held >= lease.total_seconds():
            raise Conflict(
                f"the lease on ledger entry {entry_id} ran out ({held:.0f} s since it was "
                "taken) before sending"
            )
        with store.transaction() as session:
            entry = ledger.begin_send(session, entry_id, worker, now, reply_to_remote_id=reply_to)
            return entry.attempts
    except Conflict as exc:
        _hand_back(store, entry_id, worker, now)
        logger.warning("not sending ledger entry %s: %s", entry_id, exc)
        return f"handed back before sending: {exc}"


def _hand_back(store: Store, entry_id: int, worker: str, now: datetime) -> None:
    try:
        with store.transaction() as session:
            ledger.unclaim(session, entry_id, worker, now)
    except Conflict:
        pass  # another worker holds it now: nothing of ours to give back
