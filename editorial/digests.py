"""Digests for caches of judgements: of this package's code, and of values across processes.

The scheduler keeps verdicts (guideline findings, what a page's HTML loads and runs)
across ticks, keyed by what they depend on; a key must change when the code that judges
changes, and must be equal in every process, which ``repr`` of a set is not (string
hashing is salted per process).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
from pathlib import Path
from typing import Any


@functools.cache
def code_digest() -> str:
    """This package's source, its subpackages' too (the approvals judge as well): a new
    dialogpress judges again rather than trust old verdicts."""
    digest = hashlib.sha256()
    package = Path(__file__).parent
    for path in sorted(package.rglob("*.py")):
        update_framed(digest, path.relative_to(package).as_posix().encode(), path.read_bytes())
    return digest.hexdigest()


def update_framed(digest: Any, *chunks: bytes) -> None:
    """Feed ``chunks`` to ``digest`` each behind its length, so that no two different
    sequences of inputs run together into the same bytes."""
    for chunk in chunks:
        digest.update(len(chunk).to_bytes(8, "big") + chunk)


def stable_text(value: object) -> str:
    """A text of ``value`` equal across processes (sets are ordered by hash per process)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = ", ".join(
            f"{f.name}={stable_text(getattr(value, f.name))}" for f in dataclasses.fields(value)
        )
        return f"{type(value).__name__}({fields})"
    if isinstance(value, dict):
        items = sorted(f"{stable_text(k)}: {stable_text(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, set | frozenset):
        return "{" + ", ".join(sorted(stable_text(item) for item in value)) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(stable_text(item) for item in value) + "]"
    return repr(value)


def is_stable(text: str) -> bool:
    """Whether a :func:`stable_text` holds no object identity (``<… at 0x…>``)."""
    return " at 0x" not in text
