"""One scheduler per site: a lock file in the site's ``.dialogpress/`` folder.

The lock is an ``fcntl.flock`` on the file, so the kernel drops it when its process dies,
however it dies (SIGKILL included): a stale lock cannot block the next scheduler. The
file also holds the holder's pid, host and start time, so a second scheduler can say who
is running, and the next holder can tell (and log) that it took over from a dead one.
The file is never deleted: removing a locked file lets two processes lock two different
files of the same name.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from publish.ops.workers import dead_here

logger = logging.getLogger(__name__)

LOCK_FILE = ".dialogpress/scheduler.lock"


class LockHeld(Exception):
    """Another live process holds the lock; ``holder`` is what it wrote into the file."""

    def __init__(self, path: Path, holder: dict[str, Any]) -> None:
        self.path = path
        self.holder = holder
        who = (
            f"pid {holder.get('pid')} on {holder.get('host')} since {holder.get('started')}"
            if holder.get("pid")
            else "another process"
        )
        super().__init__(f"another scheduler runs for this site: {who} (lock file {path})")


def _read(handle: Any) -> dict[str, Any]:
    handle.seek(0)
    try:
        data = json.loads(handle.read() or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class SchedulerLock:
    """Held from :meth:`acquire` (or ``with``) until :meth:`release` or process death."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._handle: Any = None

    def acquire(self, now: datetime | None = None) -> SchedulerLock:
        """Take the lock or raise :class:`LockHeld` at once; a scheduler never queues."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 — held until release
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(handle)
            handle.close()
            raise LockHeld(self.path, holder) from None
        previous = _read(handle)
        if previous.get("pid"):
            if dead_here(previous.get("host"), previous["pid"]):
                logger.warning(
                    "event=lock.takeover path=%s dead_pid=%s since=%s",
                    self.path,
                    previous.get("pid"),
                    previous.get("started"),
                )
            else:
                logger.warning("event=lock.takeover path=%s previous=%s", self.path, previous)
        started = (now or datetime.now(UTC)).isoformat(timespec="seconds")
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "started": started}
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(holder))
        handle.flush()
        self._handle = handle
        logger.info("event=lock.acquired path=%s pid=%s", self.path, holder["pid"])
        return self

    def release(self) -> None:
        """Empty the file and unlock it; the file stays (see the module docstring)."""
        if self._handle is None:
            return
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.flush()
        fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
        self._handle.close()
        self._handle = None
        logger.info("event=lock.released path=%s", self.path)

    def __enter__(self) -> SchedulerLock:
        return self.acquire()

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.release()


def site_lock(root: Path) -> SchedulerLock:
    """The scheduler lock of the site whose root folder is ``root``."""
    return SchedulerLock(Path(root) / LOCK_FILE)
