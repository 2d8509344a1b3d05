"""The process an agency worker runs a site's tick in: ``dialogpress`` that dies with its worker.

``python -m publish.cli.tick_child PARENT_PID tick --pull …`` asks Linux to SIGKILL this
process when its parent dies (``PR_SET_PDEATHSIG``), checks the parent is still the one
that started it (it may have died in between), then runs the ``dialogpress`` command line
that follows, in this process. A worker that is SIGKILLed thus leaves no tick running
that another worker's tick of the same site could overlap. Done here rather than in a
``preexec_fn``, which is unsafe while the worker's heartbeat thread runs.

Example:
    python -m publish.cli.tick_child 4242 tick --pull --format json -s publishconf.py
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> bool:
    """SIGKILL on the parent's death; False when the parent is gone already."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
            logger.warning("prctl(PR_SET_PDEATHSIG) failed: errno %s", ctypes.get_errno())
    return os.getppid() == parent


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or not args[0].isdigit():
        print("usage: python -m publish.cli.tick_child PARENT_PID COMMAND…", file=sys.stderr)
        return 2
    if not die_with_parent(int(args[0])):
        print("the agency worker that started this tick is gone; not ticking", file=sys.stderr)
        return 1
    from publish.cli import main as dialogpress

    dialogpress.main(args=args[1:], prog_name="dialogpress")
    return 0  # click exits itself; not reached


if __name__ == "__main__":
    sys.exit(main())
