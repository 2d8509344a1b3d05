"""Reading a Markdown file with YAML front matter, keeping where every field stands.

python-frontmatter splits the file; we parse the YAML ourselves so that each field
keeps its line and column (a finding must point at them) and so that dates stay
text until :mod:`editorial.times` reads them with the site's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import frontmatter
import yaml

from editorial.findings import Finding


class _TextDatesLoader(yaml.SafeLoader):
    """SafeLoader that leaves timestamps as strings: YAML would otherwise turn
    ``2026-11-24 09:00:00`` into a naive datetime but ``2026-11-24 09:00`` into text."""


_TextDatesLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}

# libyaml parses front matter about ten times faster than PyYAML's Python parser, which
# a build of thousands of posts feels; its nodes carry the same lines and columns. Its
# error messages are worded differently, so a file it rejects is parsed again by PyYAML,
# and editors read the same message whichever parser the machine has.
_FastLoader: type | None = None
if getattr(yaml, "__with_libyaml__", False):

    class _CTextDatesLoader(yaml.CSafeLoader):
        """libyaml's SafeLoader, leaving timestamps as strings like _TextDatesLoader."""

    _CTextDatesLoader.yaml_implicit_resolvers = _TextDatesLoader.yaml_implicit_resolvers
    _FastLoader = _CTextDatesLoader


def _compose_and_load(text: str) -> tuple[yaml.Node | None, Any]:
    """The front matter's node tree (for positions) and its data, parsed once."""
    loader = (_FastLoader or _TextDatesLoader)(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    except yaml.YAMLError:
        if _FastLoader is None:
            raise
    finally:
        loader.dispose()
    node = yaml.compose(text, Loader=_TextDatesLoader)
    return node, yaml.load(text, Loader=_TextDatesLoader)  # noqa: S506 - a SafeLoader subclass

Position = tuple[int, int]


@dataclass
class SourceFile:
    """A piece's file as read: front matter, body and the position of each field.

    ``positions`` maps a field path (``channels``, ``media[0].file``) to its 1-based
    line and column in the file; ``value_positions`` gives where each scalar value
    starts and its YAML style (``|``, ``>``, quotes or plain) so that a check can point
    inside a text field. ``body`` keeps the rest of the closing ``---`` line as
    its line 0, so line ``n`` of ``body`` is line ``body_line + n`` of the file.
    """

    path: Path
    relpath: str
    metadata: dict[str, Any] = field(default_factory=dict)
    body: str = ""
    body_line: int = 1
    positions: dict[str, Position] = field(default_factory=dict)
    value_positions: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    raw: bytes = b""
    #: top-level keys that are one key to Pelican, which lowercases them (``Title`` and
    #: ``title``), or written twice: (first spelling, second spelling, line, column)
    key_collisions: list[tuple[str, str, int, int]] = field(default_factory=list)
    #: how the file states its metadata: ``yaml`` (front matter, ours) or one of Pelican's
    #: own formats (:mod:`editorial.foreign`: ``markdown-meta``, ``rst``, ``html``)
    format: str = "yaml"
    #: for Pelican's own formats, the HTML its reader renders from the file (what readers
    #: get, so what the approvals inspect); None for front matter (rendered on demand)
    html: str | None = None
    #: for Pelican's own formats, the file approvals and change requests are written to
    #: (:func:`editorial.foreign.sidecar_path`); None: the piece's own front matter
    decisions_path: Path | None = None

    def position(self, path: str) -> Position | None:
        """Where a field stands, falling back to its parent (``media[0]`` for ``media[0].file``)."""
        while path:
            if path in self.positions:
                return self.positions[path]
            cut = max(path.rfind("."), path.rfind("["))
            if cut <= 0:
                break
            path = path[:cut]
        return None

    def finding(
        self, rule: str, message: str, field: str | None = None, severity: str = "error"
    ) -> Finding:
        """A finding about this file, placed at ``field`` when the field is present."""
        value = self.value_positions.get(field) if field else None
        pos = value[:2] if value else (self.position(field) if field else None)
        line, column = pos if pos else (None, None)
        if field and pos is None:
            line, column = 1, 1
        return Finding(
            rule=rule,
            severity="error" if severity == "error" else "warning",
            path=self.relpath,
            message=message,
            line=line,
            column=column,
            field=field,
        )


class SourceError(Exception):
    """A file that cannot be read as a piece at all (encoding, YAML, emptiness)."""

    def __init__(self, finding: Finding):
        super().__init__(str(finding))
        self.finding = finding


def _record_positions(
    node: yaml.Node,
    prefix: str,
    offset: int,
    out: dict[str, Position],
    values: dict[str, tuple[int, int, str]],
) -> None:
    if isinstance(node, yaml.ScalarNode) and prefix:
        values[prefix] = (
            node.start_mark.line + offset,
            node.start_mark.column + 1,
            node.style or "",
        )
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            name = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            out[name] = (key_node.start_mark.line + offset, key_node.start_mark.column + 1)
            _record_positions(value_node, name, offset, out, values)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            name = f"{prefix}[{index}]"
            out[name] = (item.start_mark.line + offset, item.start_mark.column + 1)
            _record_positions(item, name, offset, out, values)


def decode(raw: bytes, relpath: str) -> str:
    """The file's text (UTF-8, a BOM dropped); :class:`SourceError` naming the first bad byte."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise SourceError(
            Finding(
                rule="source.encoding",
                severity="error",
                path=relpath,
                line=line,
                column=column,
                message=(
                    f"the file is not UTF-8 (byte 0x{raw[exc.start]:02x}); "
                    "save it as UTF-8 in your editor"
                ),
            )
        ) from None


def parse_source(text: str, path: Path, relpath: str, raw: bytes = b"") -> SourceFile:
    """Split ``text`` into front matter and body; raise :class:`SourceError` if impossible."""

    def fail(rule: str, message: str, line: int | None = 1, column: int | None = 1) -> SourceError:
        return SourceError(
            Finding(
                rule=rule, severity="error", path=relpath, line=line, column=column, message=message
            )
        )

    if not text.strip():
        raise fail("source.empty", "the file is empty; write front matter and text, or delete it")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    handler = frontmatter.YAMLHandler()
    if not handler.detect(text):
        raise fail(
            "source.no-front-matter",
            "the file must start with a '---' line, then YAML front matter, then '---'",
        )
    try:
        fm_text, body = handler.split(text)
    except ValueError:
        raise fail(
            "source.no-front-matter", "the front matter is not closed by a '---' line"
        ) from None
    offset = 1  # the YAML's line 0 is the rest of the opening '---' line
    try:
        node, data = _compose_and_load(fm_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + offset if mark else None
        column = mark.column + 1 if mark else None
        raise fail(
            "source.yaml",
            f"the front matter is not valid YAML: {problem}; check quotes, colons and indentation",
            line,
            column,
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise fail(
            "source.yaml", "the front matter must be 'key: value' lines, not a list or a text", 2
        )
    positions: dict[str, Position] = {}
    value_positions: dict[str, tuple[int, int, str]] = {}
    if node is not None:
        _record_positions(node, "", offset, positions, value_positions)
    collisions: list[tuple[str, str, int, int]] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, str] = {}
        for key_node, _ in node.value:
            name = str(key_node.value)
            folded = name.casefold()
            if folded in seen:
                line, column = key_node.start_mark.line + offset, key_node.start_mark.column + 1
                collisions.append((seen[folded], name, line, column))
            else:
                seen[folded] = name
    # the body's line 0 is the rest of the closing '---' line
    body_line = 1 + fm_text.count("\n")
    return SourceFile(
        path=path,
        relpath=relpath,
        metadata={str(k): v for k, v in data.items()},
        body=body,
        body_line=body_line,
        positions=positions,
        value_positions=value_positions,
        raw=raw,
        key_collisions=collisions,
    )


def read_source(path: Path, relpath: str) -> SourceFile:
    """Read a piece's file from disk; every failure is a :class:`SourceError`."""
    raw = path.read_bytes()
    return parse_source(decode(raw, relpath), path, relpath, raw)
