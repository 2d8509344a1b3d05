"""Cache files only this clone's dialogpress wrote: bytes behind an HMAC whose key lives in
the git folder.

The caches of judgements (what a post's HTML runs, a snippet's guideline findings, parsed
front matter) are kept in the site's folder, which is a git working tree: someone who can
push could commit a file where a cache is expected and so hand the scheduler a verdict
("no active content", "no forbidden phrase") or, for a pickle, code. The key is made on
first use in ``.git/dialogpress/cache.key``, which git never commits, pushes or checks
out; a file without a valid tag is no cache at all. Without a git folder nothing is kept.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import logging
import os
import pickle
import secrets
from pathlib import Path
from typing import Any

from editorial import git

logger = logging.getLogger(__name__)

TAG = hashlib.sha256().digest_size


def _key(root: Path) -> bytes | None:
    try:
        common = Path(git.output(["rev-parse", "--git-common-dir"], cwd=root))
    except git.GitError:
        return None
    folder = (common if common.is_absolute() else root / common) / "dialogpress"
    path = folder / "cache.key"
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(key)
        return key
    except FileExistsError:  # another process made it first
        return path.read_bytes()
    except OSError as exc:
        logger.warning("no cache key in %s (%s): judging everything afresh", folder, exc)
        return None


def read(path: Path, root: Path) -> bytes | None:
    """The file's payload when this clone wrote it; None when missing, foreign or damaged."""
    key = _key(root)
    if key is None:
        return None
    try:
        data = path.read_bytes()
    except OSError:
        return None
    tag, payload = data[:TAG], data[TAG:]
    if len(tag) != TAG or not hmac.compare_digest(tag, hmac.digest(key, payload, "sha256")):
        if data:
            logger.warning("%s was not written by this clone's dialogpress: ignored", path)
        return None
    return payload


def write(path: Path, payload: bytes, root: Path) -> bool:
    """Write ``payload`` with its tag, atomically; False when there is no key to sign with."""
    key = _key(root)
    if key is None:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    scratch.write_bytes(hmac.digest(key, payload, "sha256") + payload)
    scratch.replace(path)
    return True


def unpickled(payload: bytes) -> Any:
    """``pickle.loads`` of a payload :func:`read` vouched for, with the cycle collector
    paused: the hundreds of thousands of objects a large site's memo is made of would
    otherwise set off collections that scan them all again and again (at 2,000 posts,
    0.18 s instead of 0.05 s)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(payload)  # noqa: S301 - only what read() returned: this clone's
    finally:
        if paused:
            gc.enable()
