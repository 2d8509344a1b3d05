"""The dependency record of the last build into an output folder, and its build key.

The record says, for every page and feed the last build wrote, the digests of what it
was made from (see :mod:`.dependencies`), and which files the output held. It is kept
under ``CACHE_PATH`` (never in the output, which is deployed), one per output folder, and
is valid only for the same *build key*: a digest of the settings, the theme, the
plugins and the versions of Pelican and Python. A different key means a full build.

The record is removed when a build starts and written when it has finished, so a
build that crashed half-way leaves no record and the next one is full.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pelican

logger = logging.getLogger(__name__)

VERSION = 3  # 2: taxonomy lists are dependencies of their own; 3: flat entries
# settings whose effect reaches pages only through what the record already tracks:
# the gate's clock decides which articles exist, and the list of them is tracked
VOLATILE_SETTINGS = {"DP_NOW"}


@dataclass(slots=True)
class PageEntry:
    """What one page was made from: context names, single reads, column reads.

    Each is one flat tuple, not a dict or a list of tuples: a site of 5,000 posts has
    some 7,600 pages with 400,000 reads and 300,000 names between them, and a tuple per
    read (and a dict per page) made the record most of what a build held, twice over in a
    build after an edit (last build's and this one's), and most of what pickling it cost.
    """

    #: ``(name, digest, name, digest, …)`` in the order the names were digested
    names: tuple[str, ...]
    #: ``(content key, attribute, digest, …)``
    reads: tuple[str, ...]
    #: ``(attribute, digest, …)``
    columns: tuple[str, ...]
    siteurl: str


@dataclass
class Record:
    key: str
    pages: dict[str, PageEntry] = field(default_factory=dict)
    feeds: dict[str, str] = field(default_factory=dict)
    outputs: list[str] = field(default_factory=list)
    version: int = VERSION


def record_path(settings: dict[str, Any]) -> Path:
    """Where the record of builds into this settings' ``OUTPUT_PATH`` is kept."""
    output = os.path.realpath(str(settings["OUTPUT_PATH"]))
    name = hashlib.sha256(output.encode()).hexdigest()[:16]
    return Path(str(settings["CACHE_PATH"])) / "dp_incremental" / f"{name}.pickle"


def load(path: Path) -> Record | None:
    """The record, if there is one (its key says whether it is of this build's kind)."""
    try:
        with path.open("rb") as file:
            record = pickle.load(file)  # noqa: S301 - our own file under CACHE_PATH
    except FileNotFoundError:
        return None
    except Exception as exc:  # a damaged record only costs a full build
        logger.warning("dp_incremental: %s cannot be read (%s); full build", path, exc)
        return None
    if not isinstance(record, Record) or record.version != VERSION:
        return None
    return record


def save(path: Path, record: Record) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".tmp")
    with scratch.open("wb") as file:
        pickle.dump(record, file, protocol=pickle.HIGHEST_PROTOCOL)
    scratch.replace(path)


def discard(path: Path) -> None:
    path.unlink(missing_ok=True)


def _files(folder: Path) -> list[Path]:
    found: list[Path] = []
    for parent, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", ".git"))
        found += [Path(parent, n) for n in sorted(names) if not n.endswith(".pyc")]
    return found


def _setting_text(value: Any) -> str:
    """A setting as text that is the same in every process (no memory addresses)."""
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k!r}:{_setting_text(v)}" for k, v in sorted(
            value.items(), key=lambda item: repr(item[0]))) + "}"
    if isinstance(value, list | tuple | set | frozenset):
        items = [_setting_text(v) for v in value]
        return "[" + ",".join(sorted(items) if isinstance(value, set | frozenset) else items) + "]"
    text = repr(value)
    return type(value).__qualname__ if " at 0x" in text else text


def build_key(settings: dict[str, Any], theme: str, plugin_paths: list[str]) -> str:
    """A digest of everything that changes how any page is rendered."""
    digest = hashlib.sha256()
    for name in sorted(settings):
        if name in VOLATILE_SETTINGS or name.startswith("_"):
            continue
        digest.update(f"{name}={_setting_text(settings[name])}\n".encode())
    digest.update(f"pelican {pelican.__version__} python {platform.python_version()}\n".encode())
    for folder in [theme, *plugin_paths]:
        for path in _files(Path(folder)):
            digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()
