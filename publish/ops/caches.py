"""The scheduler's memory of judgements across ticks, one JSON file per kind and site.

Every tick reads the whole site and judges the due snippets before anything goes out:
what each post's HTML loads and runs (an HTML5 parse per post: seconds at 5,000 posts)
and each snippet's guideline findings (measuring as X counts loads X's text rules: most
of a second). Both depend only on what :mod:`editorial` puts in their keys (the file's
bytes, the rules, the code), so an unchanged piece is not judged again
(:func:`editorial.pieces.load_site` and :func:`editorial.checks.check_site` take the
cache). The files live in the site's git-ignored ``.dialogpress/cache/``; a missing,
unreadable or foreign file is an empty cache, never an error, and only the entries used
in this run are written back, so a file never outgrows the site.
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


class _Used(dict[str, Any]):
    """The cache as read, remembering which entries this run asked for or added."""

    def __init__(self, known: dict[str, Any]) -> None:
        super().__init__(known)
        self.used: set[str] = set()
        self.added = False

    def get(self, key: str, default: Any = None) -> Any:
        if key in self:
            self.used.add(key)
        return super().get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        self.used.add(key)
        self.added = True
        super().__setitem__(key, value)


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return {}
    verdicts = data.get("verdicts")
    return verdicts if isinstance(verdicts, dict) else {}


@contextmanager
def file_cache(root: Path, name: str) -> Iterator[MutableMapping[str, Any]]:
    """The site's cache ``name`` (``checks``, ``public-html``); written back atomically when
    this run changed it."""
    path = root / ".dialogpress" / "cache" / f"{name}.json"
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
