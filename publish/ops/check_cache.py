"""The scheduler's memory of guideline verdicts across ticks, one JSON file per site.

Every tick judges the due snippets before anything goes out; judging means measuring
each text as X counts it, and loading X's text rules alone costs most of a second. The
verdicts depend only on the file's bytes, its path, the guideline and the code
(:func:`editorial.checks.check_site` builds that key), so an unchanged snippet is not
judged again. The file lives in the site's git-ignored ``.dialogpress/cache/``; a
missing, unreadable or foreign file is an empty cache, never an error, and only the
verdicts used in this run are written back, so the file never outgrows the site.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

VERSION = 1


class _Used(dict[str, list[dict[str, Any]]]):
    """The cache as read, remembering which entries this run asked for or added."""

    def __init__(self, known: dict[str, list[dict[str, Any]]]) -> None:
        super().__init__(known)
        self.used: set[str] = set()
        self.added = False

    def get(self, key: str, default: Any = None) -> Any:
        if key in self:
            self.used.add(key)
        return super().get(key, default)

    def __setitem__(self, key: str, value: list[dict[str, Any]]) -> None:
        self.used.add(key)
        self.added = True
        super().__setitem__(key, value)


def _read(path: Path) -> dict[str, list[dict[str, Any]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return {}
    verdicts = data.get("verdicts")
    return verdicts if isinstance(verdicts, dict) else {}


@contextmanager
def check_cache(root: Path) -> Iterator[MutableMapping[str, list[dict[str, Any]]]]:
    """The site's verdict cache; written back (atomically) when this run changed it."""
    path = root / ".dialogpress" / "cache" / "checks.json"
    cache = _Used(_read(path))
    read = len(cache)
    yield cache
    if not cache.added and len(cache.used) == read:
        return
    kept = {key: cache[key] for key in cache.used}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp"
        ) as file:
            json.dump({"version": VERSION, "verdicts": kept}, file, ensure_ascii=False)
        os.replace(file.name, path)
    except OSError as exc:
        logger.warning("could not keep the check cache at %s: %s", path, exc)
