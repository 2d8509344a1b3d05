"""The stamp of the last good build into an output folder: skip a build with nothing to do.

A nothing-changed build of a large site still starts Pelican, loads every post from the
cache and checks every page (the dp_incremental plugin's work); the stamp makes it cost
no more than looking at the files. It holds a digest of every input of the build (the
settings as read, the files of the content, theme and plugins as ``stat`` sees them,
the settings files, the site data file, git's ``HEAD`` for the approvals, the versions),
the time until which the output stays valid without a file changing (the next post's
date, reported by dp_incremental: the approval gate admits posts by date), and the
size and modification time of every file of the output. A build is skipped only when
all three still hold; otherwise it runs, and the stamp is written again after a build
without errors.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
from datetime import datetime
from pathlib import Path
from typing import Any

from editorial import git
from editorial.git import GitError
from editorial.settings import Settings, settings_root, site_zone
from editorial.sitedata_file import data_path
from editorial.times import TimeError, parse_time, zone

logger = logging.getLogger(__name__)

# the gate's clock: its effect is in the stamp's time of validity
VOLATILE_SETTINGS = {"DP_NOW"}
_SKIP_DIRS = {"__pycache__", ".git"}


def stamp_path(settings: Settings) -> Path:
    """Beside dp_incremental's record for the same output, under ``CACHE_PATH``."""
    output = os.path.realpath(str(settings["OUTPUT_PATH"]))
    name = hashlib.sha256(output.encode()).hexdigest()[:16]
    return Path(str(settings["CACHE_PATH"])) / "dp_incremental" / f"{name}.stamp.json"


def record_path(settings: Settings) -> Path:
    """dp_incremental's record for this output (its ``record_path``).

    After a build with errors the output may hold pages of a half-done render, and the
    record (written when Pelican itself finished) may vouch for them: the caller drops
    it, so that the next build is full. Taken before the build, as :func:`stamp_path`.
    """
    stamp = stamp_path(settings)
    return stamp.with_name(stamp.name.removesuffix(".stamp.json") + ".pickle")


def _tree(folder: Path, digest: Any) -> None:
    for parent, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(names):
            if name.endswith(".pyc"):
                continue
            stat = os.stat(os.path.join(parent, name))
            digest.update(f"{parent}/{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())


def _setting(value: Any) -> str:
    text = repr(value)
    return type(value).__qualname__ if " at 0x" in text else text


def _git_head(root: Path) -> str:
    """The commit checked out, or "" outside git (the digest then rests on the files)."""
    try:
        return git.output(["rev-parse", "HEAD"], cwd=root)
    except GitError as exc:
        logger.debug("build stamp without a commit: %s", exc)
        return ""


def inputs_digest(settings: Settings, settings_files: list[Path]) -> str:
    """A digest of everything a build reads (see the module docstring)."""
    import pelican

    digest = hashlib.sha256()
    for name in sorted(settings):
        if name not in VOLATILE_SETTINGS:
            digest.update(f"{name}={_setting(settings[name])}\n".encode())
    root = settings_root(settings)
    folders = [Path(str(settings["PATH"])), Path(str(settings["THEME"]))]
    folders += [Path(str(p)) for p in settings.get("PLUGIN_PATHS", [])]
    for folder in folders:
        _tree(folder if folder.is_absolute() else root / folder, digest)
    for path in [*settings_files, data_path(settings)]:
        digest.update(str(path).encode() + b"\0" + (path.read_bytes() if path.is_file() else b"-"))
    digest.update(f"{_git_head(root)} {pelican.__version__} {platform.python_version()}".encode())
    return digest.hexdigest()


def _manifest(output: Path) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for parent, _, names in os.walk(output):
        for name in names:
            path = os.path.join(parent, name)
            stat = os.stat(path)
            found[os.path.relpath(path, output)] = [stat.st_size, stat.st_mtime_ns]
    return found


def _clock(settings: Settings) -> datetime:
    timezone = site_zone(settings).key
    if settings.get("DP_NOW"):
        return parse_time(settings["DP_NOW"], timezone)
    return datetime.now(zone(timezone))


def unchanged(settings: Settings, inputs: str) -> bool:
    """Whether the last good build into this output is still what a build would write."""
    path = stamp_path(settings)
    try:
        stamp = json.loads(path.read_text("utf-8"))
        valid_until = stamp["valid_until"]
        if stamp["inputs"] != inputs:
            return False
        if valid_until is not None and _clock(settings) >= datetime.fromisoformat(valid_until):
            return False
        return bool(stamp["outputs"] == _manifest(Path(str(settings["OUTPUT_PATH"]))))
    except (OSError, ValueError, KeyError, TypeError, TimeError):
        return False


def forget(settings: Settings) -> None:
    stamp_path(settings).unlink(missing_ok=True)


def write(path: Path, output: Path, inputs: str, valid_until: datetime | None) -> None:
    """Stamp a good build at ``path``: its inputs, its validity, its output as it is now.

    The caller takes ``path`` from the settings before the build, since plugins may
    change ``CACHE_PATH`` during it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    stamp = {
        "inputs": inputs,
        "valid_until": valid_until.isoformat() if valid_until is not None else None,
        "outputs": _manifest(output),
    }
    path.write_text(json.dumps(stamp), "utf-8")
