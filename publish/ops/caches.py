"""The scheduler's memory of guideline verdicts across ticks, a JSON file per site.

Every tick judges the due snippets before anything goes out; measuring as X counts loads
X's text rules, most of a second. The findings depend only on what
:func:`editorial.checks.check_site` puts in their key (the file's bytes and path, the
guideline, the code), so an unchanged snippet is not judged again. (What reading the
pieces makes, parsed front matter and each post's HTML inspection, is kept by
:class:`editorial.pieces.ReadMemo`.) The file lives in the site's git-ignored
``.dialogpress/cache/`` behind this clone's tag (:mod:`editorial.signed_file`), so a
file someone committed there is no cache; a missing, unreadable or foreign file is an
empty cache, never an error, and only the entries used in this run are written back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from editorial import signed_file

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


def _read(path: Path, root: Path) -> dict[str, Any]:
    payload = signed_file.read(path, root)
    if payload is None:
        return {}
    try:
        data = json.loads(payload)
    except ValueError:
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return {}
    verdicts = data.get("verdicts")
    return verdicts if isinstance(verdicts, dict) else {}


@contextmanager
def file_cache(root: Path, name: str) -> Iterator[MutableMapping[str, Any]]:
    """The site's cache ``name`` (``checks``); written back, tagged, when
    this run changed it."""
    path = root / ".dialogpress" / "cache" / f"{name}.json"
    cache = _Used(_read(path, root))
    read = len(cache)
    yield cache
    if not cache.added and len(cache.used) == read:
        return
    kept = {key: cache[key] for key in cache.used}
    payload = json.dumps({"version": VERSION, "verdicts": kept}, ensure_ascii=False)
    try:
        signed_file.write(path, payload.encode("utf-8"), root)
    except OSError as exc:
        logger.warning("could not keep the cache at %s: %s", path, exc)
