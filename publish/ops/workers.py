"""Who a worker is (host and process id) and whether a worker on this host still lives.

The scheduler lock and the ledger's leases both name their holder this way, and both may
take over from a holder that died: only a process on this same host can be known dead.
"""

from __future__ import annotations

import os
import socket


def worker_id() -> str:
    """``host:pid`` of this process, as leases and locks record it."""
    return f"{socket.gethostname()}:{os.getpid()}"


def alive(pid: object) -> bool:
    """Whether process ``pid`` exists on this host (one we may not signal still exists)."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dead_here(host: object, pid: object) -> bool:
    """True when the holder ran on this host and its process is gone."""
    return host == socket.gethostname() and not alive(pid)
