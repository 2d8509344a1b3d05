"""Appending an entry to a list in a piece's front matter, as text.

Approvals and change requests are written into the editor's file. Re-dumping the YAML
would lose the editor's comments, quotes and key order and make every approval a noisy
diff, so the entry is spliced into the text; the result is parsed again and must read
back as before plus the new entry, or the file is left untouched.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from editorial.sourcefile import SourceError, parse_source

logger = logging.getLogger(__name__)


class EditError(Exception):
    """The entry cannot be added; the message says why, and the file is unchanged."""


def yaml_entry(data: dict[str, Any], order: tuple[str, ...], indent: str,
               blocks: tuple[str, ...] = ()) -> str:
    """One ``- key: value`` list entry; values as JSON strings (valid YAML, one line each)
    except the keys in ``blocks``, written as literal blocks (signatures)."""
    lines: list[str] = []
    for key in order:
        if key not in data:
            continue
        lead = f"{indent}- " if not lines else f"{indent}  "
        if key in blocks:
            lines.append(f"{lead}{key}: |")
            lines += [f"{indent}    {line}" for line in str(data[key]).strip().splitlines()]
        else:
            lines.append(f"{lead}{key}: {json.dumps(data[key], ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def _key_pattern(key: str) -> re.Pattern[str]:
    return re.compile(
        rf"^{re.escape(key)}[ \t]*:[ \t]*(?P<value>[^#]*?)[ \t]*(?P<comment>#.*)?$"
    )


def with_entry(text: str, key: str, entry: Callable[[str], str]) -> str:
    """``text`` with ``entry(indent)`` appended to (or a new) ``key:`` list block."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise EditError("the file does not start with front matter ('---')")
    close = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if close is None:
        raise EditError("the front matter is not closed by a '---' line")
    pattern = _key_pattern(key)
    start = next((i for i in range(1, close) if pattern.match(lines[i])), None)
    if start is None:
        block = [f"{key}:", *entry("  ").rstrip("\n").split("\n")]
        return "\n".join(lines[:close] + block + lines[close:])
    match = pattern.match(lines[start])
    assert match is not None  # noqa: S101 - found by the same pattern just above
    if match.group("value") not in ("", "[]", "~", "null"):
        raise EditError(
            f"'{key}:' is written on one line (flow style); write it as a list with "
            "one '- …' entry per line"
        )
    head = f"{key}:" + (f"  {match.group('comment')}" if match.group("comment") else "")
    last = start
    for index in range(start + 1, close):
        line = lines[index]
        if line.strip() and not line[0].isspace() and not line.startswith("-"):
            break
        if line.strip():
            last = index
    dash = next((lines[i] for i in range(start + 1, last + 1) if lines[i].lstrip()[:1] == "-"),
                None)
    indent = dash[: len(dash) - len(dash.lstrip())] if dash is not None else "  "
    added = entry(indent).rstrip("\n").split("\n")
    return "\n".join(
        [*lines[:start], head, *lines[start + 1 : last + 1], *added, *lines[last + 1 :]]
    )


def append_entry(
    path: Path, display: str, key: str, entry: Callable[[str], str], expected: dict[str, Any]
) -> None:
    """Append ``entry`` to the ``key`` list of the file at ``path``, changing nothing else.

    ``expected`` is the entry as YAML must read it back; ``display`` names the file in
    messages. Raises :class:`EditError` and leaves the file untouched when the result
    would not read back as the old front matter plus exactly that entry.
    """
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    bom = "\ufeff" if raw.startswith(b"\xef\xbb\xbf") else ""
    newline = "\r\n" if "\r\n" in text else "\n"
    normal = text.replace("\r\n", "\n")
    try:
        before = parse_source(normal, path, display)
        updated = with_entry(normal, key, entry)
    except (EditError, SourceError) as exc:
        raise EditError(f"{display}: cannot add to '{key}': {exc}") from None
    try:
        after = parse_source(updated, path, display)
    except SourceError as exc:
        raise EditError(
            f"{display}: adding to '{key}' would break the front matter ({exc}); "
            "the file was left unchanged"
        ) from None
    old_entries = before.metadata.get(key) or []
    wanted = {**before.metadata, key: [*old_entries, expected]}
    if after.metadata != wanted or after.body != before.body:
        raise EditError(
            f"{display}: the '{key}' block has a layout dialogpress cannot extend; "
            "the file was left unchanged"
        )
    path.write_bytes((bom + updated.replace("\n", newline)).encode("utf-8"))
    logger.info("%s: entry added to %s", display, key)
